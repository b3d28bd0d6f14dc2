// Package redisstore is a tokenstore.Store kept in Redis (5 or later, or a
// compatible server), through a go-redis client: single node, Sentinel
// failover or Cluster.
//
// Usage sketch:
//
//	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	defer client.Close()
//	store := redisstore.New(client, redisstore.Options{}) // keys "{smartauth:}…"
//	// pass store as the token store of the authorization server
//
// # Atomicity and round trips
//
// Every method that changes state is one Lua script run with EVALSHA
// (falling back to EVAL when the server does not have it cached): it runs
// atomically on the server, in one round trip. Rotate, including reuse
// detection and family revocation, the grace period, the client check,
// expiry and the conflict check of Next, is one script; so are CreateGrant,
// RevokeGrant, UseOnce and LookupToken. Grant is one HMGET.
//
// Times are compared inside the scripts with the Now passed by the caller,
// never with Redis's clock.
//
// # Key layout and Redis Cluster
//
// A Lua script may only touch keys of one Cluster hash slot, and Rotate is
// given nothing but the hash of the presented token: it learns the grant
// (family) from the token's record. Keys could be sharded by family only if
// the family were known before the call, which needs an extra lookup (two
// round trips, and an index outside the family's slot that is not updated
// atomically with it). The store chooses one round trip and full
// atomicity instead: every key of a Store carries the same hash tag, its
// braced prefix, so all of them live in one slot:
//
//	{smartauth:}g:<grant ID>        grant: a hash of the Grant fields
//	{smartauth:}t:<hex token hash>  refresh token: grant ID, generation, times
//	{smartauth:}o:<key>             UseOnce record: its expiry
//
// The trade-off: on a Cluster the store gets the availability of the
// cluster (replicas, failover) but not its sharding: all its keys are on
// one primary. Refresh-token traffic is modest (one rotation per access
// token lifetime per client), a few hundred bytes per token record and
// under a kilobyte per grant plus its launch context, well within one
// node's capacity for millions of active grants.
//
// # Expiry
//
// Every key has a time to live, so nothing grows without bound: a grant
// key lives until the grant's ExpiresAt, a token key until the token's own
// ExpiresAt (never after its grant's), a UseOnce key until its expiry. The
// TTL is computed from the caller's time (the Now of the call, or
// Grant.IssuedAt for CreateGrant) and is at least MinTTL. Used token
// records are kept until they expire: that is as long as reuse can be
// detected at all, since Rotate reports an expired token as ErrExpired
// before it looks at whether it was used. The records hold their own
// expiry, which, compared with the caller's Now, decides every answer; the
// TTL only removes them afterwards.
//
// # Eviction and lost writes
//
// The keys must not be evicted: run the store on a Redis whose
// maxmemory-policy is noeviction, or on a dedicated database or instance
// with enough memory. If keys are evicted anyway, no token is ever wrongly
// accepted, because a token is accepted only when both its record and its
// grant are present and valid:
//
//   - an evicted grant makes all its tokens unknown (ErrNotFound, so
//     invalid_grant);
//   - an evicted unused token is unknown (invalid_grant);
//   - an evicted used token is unknown too: its reuse is still refused, but
//     no longer detected as reuse, so the family is not revoked.
//
// Redis replication is asynchronous: after a failover the new primary may
// have missed the latest writes. A lost rotation makes the client's newest
// token unknown (the user signs in again); a lost revocation, explicit or
// after detected reuse, makes the family usable again. Where that matters,
// use Redis persistence with replication acknowledgements (WAIT, or
// appendfsync always on a single node) or use pgstore.
//
// # Retries
//
// go-redis resends a command when the connection fails after the command
// was sent, so a script may run twice for one call. A second Rotate would
// see the token used and revoke the family; instead, the script recognises
// the resent request (same Next hash and Now, successor already created
// from the presented token) and answers with that successor. Only the
// request that created the successor knows its hash, so no other
// presentation can pass as a resent one. CreateGrant likewise succeeds when
// it finds exactly its grant and first token already stored. UseOnce cannot
// tell a resend from a replay (both carry the same key): a resent UseOnce
// fails with ErrReplayed, and the client has to authenticate again.
//
// A caller that retries a failed Rotate itself makes a new request (a new
// Next): that one is reuse, or a grace-period rotation if
// RotateRequest.GracePeriod allows it.
package redisstore
