// Package redisstore is a tokenstore.Store and tokenstore.CodeStore kept
// in Redis (5 or later, or a compatible server), through a go-redis
// client: single node, Sentinel failover, or Cluster, over whose masters
// the token families (with the authorization codes that create them) are
// spread.
//
// Usage sketch:
//
//	client := redis.NewClusterClient(&redis.ClusterOptions{
//		Addrs:                 []string{"10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379"},
//		ContextTimeoutEnabled: true, // required, see below
//	})
//	defer client.Close()
//	store := redisstore.New(client, redisstore.Options{}) // keys "smartauth:…"
//	// once, after upgrading from a version with the old key layout:
//	// n, err := store.MigrateLegacyKeys(ctx)
//	// pass store as the token store of the authorization server
//
// # Client requirements
//
// Create the client with ContextTimeoutEnabled: true. The store bounds
// nothing itself: the deadline of each call's context is what makes a call
// to a Redis that stopped answering (paused, partitioned, overloaded) return
// in time, as a store error, rather than after the client's ReadTimeout and
// its retries. A call that timed out may still run on the server once it
// answers again: a rotation whose reply was lost is a normal case of the
// contract (the client retries within RotateRequest.RetryWindow).
//
// Run Redis with maxmemory-policy noeviction (or a dedicated instance with
// enough memory): see Eviction below.
//
// # Atomicity and round trips
//
// Every method that changes state is one Lua script run with EVALSHA
// (falling back to EVAL when the server does not have it cached): it runs
// atomically on the server. Rotate, including reuse detection and family
// revocation, the retry rule, the client check, expiry and the conflict
// check of Next, is one script and one round trip when the presented value
// names its grant (tokenstore.NewRefreshToken); so are RevokeGrant,
// UseOnce and LookupToken. Grant is one HMGET. CreateGrant takes two round
// trips (the index key, then the family), and Rotate and LookupToken take
// one more, reading the index key, for a first token whose value names no
// grant (chosen by the host, or issued by a previous version). The
// methods of tokenstore.CodeStore are one script run each, one round trip,
// but for RedeemCode, which first reads the code (one HMGET) to call
// tokenstore.RedeemRequest.Grant with it: two round trips.
//
// The order of presentations is the order in which their scripts run on
// the family's primary; the retry window is measured with the server's
// clock (TIME inside the script: Redis 5 and later replicate scripts by
// their effects). Expiry is decided by the Now the caller passes, never by
// Redis's clock.
//
// # Key layout and Redis Cluster
//
// A Lua script may touch only keys of one Cluster hash slot, and every key
// it touches must be declared in KEYS. Each family (a grant and its refresh
// tokens) therefore has a hash tag of its own, derived from the grant ID:
// the ID itself if it is 1 to 64 characters of [A-Za-z0-9_-] (as
// tokenstore.NewID makes them), else "#" and the hex SHA-256 of the ID (so
// that braces or odd bytes in an ID never break a tag, and two IDs never
// share one). The keys, for Prefix "smartauth:":
//
//	smartauth:{<family tag>}:g              grant: a hash of the Grant fields
//	                                        and the family's state (below)
//	smartauth:{<family tag>}:t:<hex hash>   refresh token: grant ID, generation,
//	                                        times, and its rotation state
//	smartauth:{<family tag>}:c              the authorization code that creates
//	                                        the family: its fields, hex hash,
//	                                        and the nonces of the calls that
//	                                        created and used it
//	smartauth:x:{<hex hash>}                index: grant ID of a first token
//	smartauth:o:{<key, or # + hex SHA-256>} UseOnce record: expiry and nonce
//	smartauth:l:{<hex hash>}                EHR launch: its fields, and the
//	                                        nonce of the call that consumed it
//
// A rotation's keys are the grant, the presented token and Next, all in
// the family's slot, all declared. The state a rotation must test or change
// in another token of the family, its successor, is kept in the grant: its
// "live" field names the family's one live token (with "liveexp", its
// expiry), and "sup:<hex hash>" records when a retry superseded a token.
// So a retry checks that the successor is still the live token, and
// supersedes it, without naming the successor's key, which the caller
// cannot know. LookupToken reports a token that is not the live one and
// has no "used" time of its own as used at its "sup:" time.
//
// Presented tokens are found through TokenRef.GrantID, the family their
// value names. First tokens may have values that name no family: for them
// CreateGrant writes the index key (its own slot, the grant's lifetime)
// before the family, so that an interruption between the two leaves only
// an index key naming a grant that does not hold the token. A value that
// seems to name a family that does not hold it (a host-chosen value of
// that shape) is looked up in the index too. The index also
// makes CreateGrant refuse a first token whose hash another grant's first
// token has.
//
// Hash uniqueness is checked within a family, the only keys a rotation can
// see atomically: Rotate refuses (ErrConflict) a Next that is already a
// token of the presented token's family, but cannot see the tokens of
// other families. That is sound because Next is a value made by
// tokenstore.NewRefreshToken for that family: its hash is a token of
// another family only if SHA-256 collides.
//
// An authorization code lives in the slot of the family it creates: the
// code value names its grant (tokenstore.NewRefreshToken(grantID)), and
// the code's key is <prefix>{<family tag>}:c, next to the grant key.
// RedeemCode declares the code, the grant and the grant's first token
// (whose value names the grant too: tokenstore.GrantTemplate), so that
// the script that decides a redemption creates the grant and its token,
// and the script that decides a reuse revokes the grant, or writes the
// revoked placeholder in its place (tokenstore.RedeemRequest). There is one code per family: CreateCode
// refuses a second code for a grant ID, or a code for a grant that
// exists. A presented code whose TokenRef has no GrantID is unknown
// (ErrNotFound, without a round trip): codes always name their family,
// and there is no index of codes. A launch value names no family; its key
// has a tag of its own, its hex hash.
//
// Families are spread over the Cluster's slots, hence over its masters, in
// proportion to their slot ranges (TestCluster/KeySplit measures the split
// of 10,000 families over three masters).
//
// # Migration from the single-slot layout
//
// Versions before this one gave every key of a Store the hash tag
// "{" + Prefix + "}": one slot, so a Cluster gave failover but no
// sharding. Their keys were "{smartauth:}g:<grant ID>",
// "{smartauth:}t:<hex hash>" and "{smartauth:}o:<key>". To upgrade:
//
//  1. Stop every process of the previous version (two versions writing at
//     once would let a token be rotated in both layouts).
//  2. Start the new version and call Store.MigrateLegacyKeys once, before
//     serving refresh requests (tokens of the old layout are unknown to the
//     new one until it has run). It copies every family and UseOnce record,
//     keeping their times to live, and writes the index keys of the old
//     tokens, whose values name no grant. It is idempotent: run it again
//     after an error or on every start.
//  3. The old keys are left alone and expire by their TTL.
//
// # Expiry
//
// Every key has a time to live, so nothing grows without bound: a grant
// key and the index key of its first token live until the grant's
// ExpiresAt, a token key until the token's own ExpiresAt (never after its
// grant's), a UseOnce key until its expiry. TTLs are computed from the
// caller's time (the Now of the call, or the IssuedAt of the record
// created) and are at least MinTTL. A code key lives until the code's
// ExpiresAt + tokenstore.CodeRetention, so that its reuse is detected
// after it expired; the placeholder grant of a reused code (consumed by a
// refused presentation) until its own ExpiresAt; a launch key until the launch's ExpiresAt (a consumed launch
// is marked, not deleted, and expires by its TTL). Used token records are kept until they expire:
// that is as long as reuse can be detected at all, since Rotate reports an
// expired token as ErrExpired before it looks at whether it was used. The
// records hold their own expiry, which, compared with the caller's Now,
// decides every answer; the TTL only removes them afterwards.
//
// # Eviction and lost writes
//
// The keys must not be evicted: run the store on a Redis whose
// maxmemory-policy is noeviction, or on a dedicated database or instance
// with enough memory. If keys are evicted anyway, no token is ever wrongly
// accepted, because a token is accepted only when both its record and its
// grant are present, and the grant names it as the live token:
//
//   - an evicted grant makes all its tokens unknown (ErrNotFound, so
//     invalid_grant);
//   - an evicted unused token is unknown (invalid_grant);
//   - an evicted used token is unknown too: its reuse is still refused, but
//     no longer detected as reuse, so the family is not revoked;
//   - an evicted index key makes its first token unknown;
//   - an evicted code or launch is unknown; an evicted used code is no
//     longer recognised as reused, so its grant is not revoked.
//
// Redis replication is asynchronous: after a failover the new primary may
// have missed the latest writes. A lost rotation makes the client's newest
// token unknown (the user signs in again); a lost revocation, explicit or
// after detected reuse, makes the family usable again. Where that matters,
// use Redis persistence with replication acknowledgements (WAIT, or
// appendfsync always on a single node) or use pgstore.
//
// # Resent commands
//
// go-redis resends a command when the connection fails after the command
// was sent, so a script may run twice for one call. Each script recognises
// its own resend and answers it as it answered the first run:
//
//   - Rotate: the presented token's current successor is Next, issued at
//     this very Now. Only the request that created a successor knows its
//     hash, so no other presentation can pass as a resend.
//   - CreateGrant: the same grant with the same first token is stored.
//   - UseOnce: each call stores a random nonce with the key; the record
//     carrying the call's own nonce is its own, while another call with the
//     same key gets ErrReplayed.
//   - RevokeGrant and the index write are idempotent.
//   - CreateCode, CreateLaunch, RedeemCode and ConsumeLaunch: each call
//     stores a random nonce with what it writes (the code's creation or
//     use, the launch's creation or consumption); the resend finds its
//     own nonce and answers as the first run did (a redemption: the code
//     and the grant it created), while another call meets a conflict, a
//     used code (reuse) or a consumed launch.
//
// A caller that retries a failed Rotate itself makes a new request (a new
// Next): that one is a retry if RotateRequest.RetryWindow allows it, else
// reuse.
package redisstore
