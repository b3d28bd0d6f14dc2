// Package pgstore is a tokenstore.Store kept in PostgreSQL (12 or later),
// through a pgx connection pool.
//
// Usage sketch:
//
//	pool, err := pgxpool.New(ctx, "postgres://app@db/app")
//	store, err := pgstore.New(pool, pgstore.Options{}) // tables public.smartauth_*
//	err = store.Migrate(ctx)                           // or run schema.sql yourself
//	go func() { // remove expired records now and then
//		for range time.Tick(10 * time.Minute) {
//			_, _ = store.Sweep(ctx, time.Now())
//		}
//	}()
//	// pass store as the token store of the authorization server
//
// # Tables
//
// schema.sql, embedded and run by Store.Migrate, creates three tables
// (names for the default Options):
//
//   - smartauth_grants: one row per grant (token family), with its
//     revocation time;
//   - smartauth_refresh_tokens: one row per refresh token, keyed by the
//     SHA-256 hash of the token (never the token), referencing its grant
//     (ON DELETE CASCADE), with the time it was used;
//   - smartauth_one_time_keys: the keys recorded by UseOnce.
//
// Options.Schema and Options.TablePrefix place the tables elsewhere; the
// SQL Migrate runs for them is Store.SchemaSQL. Times are timestamptz
// (microsecond precision) and are returned in UTC.
//
// # Rotation
//
// Rotate, in the common case (a valid, unused token of the right client),
// is a single statement and so one round trip: an UPDATE that marks the
// token used only if every rule allows it, joined with the grant, and an
// INSERT of the successor. The row lock the UPDATE takes makes concurrent
// presentations of the same token wait; under READ COMMITTED they then
// re-check the row, find it used and match nothing. A successor hash that
// already exists fails the whole statement, so nothing is written.
//
// When the statement matches nothing, a short transaction decides: it
// locks the token's row (SELECT … FOR NO KEY UPDATE), applies the rules of
// tokenstore.RotateRequest in order and then writes: nothing for an unknown
// token, a client mismatch, a revoked grant or an expiry; the revocation of
// the family for a reused token; the successor for a rotation within the
// grace period. Exactly one of any number of concurrent presentations of
// an unused token rotates it, across any number of pools and processes.
//
// The other methods are one statement each.
//
// # Expiry
//
// PostgreSQL does not expire rows by itself: the Store implements
// tokenstore.Sweeper, and Sweep deletes expired grants with their tokens,
// expired tokens and expired UseOnce records. Schedule it; until it runs,
// expired records are kept but never accepted (expiry is decided by the
// times stored in the rows and the caller's Now).
//
// # Connection poolers
//
// Queries are prepared and cached per connection (pgx's default
// QueryExecModeCacheStatement). Behind PgBouncer in transaction mode, use
// a PgBouncer with prepared statement support, or configure the pool with
// another pgx.QueryExecMode.
package pgstore
