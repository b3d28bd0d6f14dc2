// Package pgstore is a tokenstore.Store and tokenstore.CodeStore kept in
// PostgreSQL (12 or later), through a pgx connection pool.
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
// schema.sql, embedded and run by Store.Migrate, creates five tables
// (names for the default Options):
//
//   - smartauth_grants: one row per grant (token family), with its
//     revocation time;
//   - smartauth_refresh_tokens: one row per refresh token, keyed by the
//     SHA-256 hash of the token (never the token), referencing its grant
//     (ON DELETE CASCADE), with the time it was used or superseded
//     (used_at), the database-clock time its first presentation was
//     accepted (accepted_at) and the hash of the successor its latest
//     accepted presentation made (successor);
//   - smartauth_one_time_keys: the keys recorded by UseOnce;
//   - smartauth_codes: one row per authorization code, keyed by the
//     SHA-256 hash of the code, with the ID of the grant it creates
//     (grant_id, unique: one code per grant; no foreign key, the grant
//     does not exist until the code is exchanged) and the time it was
//     used (used_at);
//   - smartauth_launches: one row per EHR launch not yet consumed, keyed
//     by the SHA-256 hash of the launch value.
//
// Options.Schema and Options.TablePrefix place the tables elsewhere; the
// SQL Migrate runs for them is Store.SchemaSQL. Times are timestamptz
// (microsecond precision) and are returned in UTC.
//
// # Upgrading
//
// Every statement of schema.sql is idempotent, so Migrate (or schema.sql)
// also upgrades tables made by an earlier version: accepted_at and
// successor were added for the retry window, by ALTER TABLE … ADD COLUMN
// IF NOT EXISTS (nullable, no default: no table rewrite); smartauth_codes
// and smartauth_launches, for CodeStore, by CREATE TABLE IF NOT EXISTS. Tokens used
// before the upgrade have neither, so presenting one again is reuse, as it
// was. Migrate takes brief table locks (the ALTER TABLE and CREATE INDEX
// statements, even when they change nothing); run it when deploying.
//
// # Rotation
//
// Rotate, in the common case (a valid, unused token of the right client),
// is a single statement and so one round trip: an UPDATE that marks the
// token used only if every rule allows it, joined with the grant, and an
// INSERT of the successor. The row lock the UPDATE takes makes concurrent
// presentations of the same token wait; under READ COMMITTED they then
// re-check the row, find it used and match nothing. A successor hash that
// already exists fails the whole statement, so nothing is written. The
// order in which presentations take that lock is the order the store
// decides by; the presenters' Now values play no part in it.
//
// When the statement matches nothing, a short transaction decides: it
// locks the token's row (SELECT … FOR NO KEY UPDATE), applies the rules of
// tokenstore.RotateRequest in order and then writes: nothing for an unknown
// token, a client mismatch on an unused token, a revoked grant or an
// expiry; the revocation of the family for reuse (including a used token
// presented by another client); for a retry, in one statement, the
// superseding of the current successor (only if it is still unused and
// unexpired and the window has not passed), the successor and the new
// successor link. The retry window is measured on the database's clock,
// clock_timestamp(), at both ends: when the first presentation is
// accepted and when the retry statement runs; the application servers'
// clocks play no part. Exactly one of any number of concurrent
// presentations of an unused token rotates it, across any number of pools
// and processes, and a family never has two live tokens.
//
// # Authorization codes and launches
//
// RedeemCode follows the same pattern as Rotate, after reading the code
// (one SELECT) to call tokenstore.RedeemRequest.Grant with it. The common
// case (an unused, unexpired code of the right client, presented with the
// right redirect URI and challenge) is then one statement that marks the
// code used if it still is not and, in the same statement, inserts the
// grant and its first refresh token: two round trips in all. Concurrent
// presentations wait for the code's row lock, then find it used and match
// nothing. Otherwise a short transaction locks the code's row (SELECT …
// FOR NO KEY UPDATE) and applies the rules of tokenstore.RedeemRequest:
// for reuse, one INSERT … ON CONFLICT revokes the grant the code created
// or, if the code was consumed by a refused presentation, inserts the
// revoked placeholder in its place
// (tokenstore.AuthorizationCode.RevokedGrant), so that a CreateGrant
// racing with it either meets the placeholder (ErrConflict) or is
// revoked. CreateCode, CreateLaunch and ConsumeLaunch (a DELETE …
// RETURNING: a consumed launch is gone) are one statement each.
//
// # Interrupted requests
//
// When a request's context ends, pgx closes its connection (by default;
// configured to send a cancel request instead, it has the statement
// canceled). A transaction that has not committed is then rolled back by
// the server: nothing of it is written. The one-statement path may still be completed by the server
// (if it was running, or waiting for a lock, when the connection closed):
// then all of the rotation is written, as when a reply is lost, and the
// client's next presentation of the token within the retry window is
// answered as a retry. Either way nothing is half-written.
//
// The other methods are one statement each. UseOnce in particular is one
// INSERT … ON CONFLICT statement sent once: pgx never resends a statement
// that may have reached the server (it retries only what it knows was not
// sent), and neither does the pool, so a call is never answered
// ErrReplayed because of its own record.
//
// # Expiry
//
// PostgreSQL does not expire rows by itself: the Store implements
// tokenstore.Sweeper, and Sweep deletes expired grants with their tokens,
// expired tokens, expired UseOnce records, codes whose expiry is more than
// tokenstore.CodeRetention past, and expired launches. Schedule it; until it runs,
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
