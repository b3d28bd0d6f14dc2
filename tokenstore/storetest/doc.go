// Package storetest is the conformance suite of tokenstore.Store and
// tokenstore.CodeStore: every store, those of smartauth and yours, must
// pass it (RunCodes for stores that also keep authorization codes).
//
// Usage sketch, in the _test.go file of a store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) tokenstore.Store {
//			return mystore.New(client, mystore.Options{KeyPrefix: uniquePrefix(t)})
//		})
//	}
//
//	// For stores that also implement tokenstore.CodeStore.
//	func TestCodes(t *testing.T) {
//		storetest.RunCodes(t, func(t *testing.T) storetest.FullStore {
//			return mystore.New(client, mystore.Options{KeyPrefix: uniquePrefix(t)})
//		})
//	}
//
//	// For stores shared between processes: two clients of the same data.
//	func TestConcurrentInstances(t *testing.T) {
//		prefix := uniquePrefix(t)
//		storetest.RunConcurrentInstances(t, []tokenstore.Store{
//			mystore.New(client1, mystore.Options{KeyPrefix: prefix}),
//			mystore.New(client2, mystore.Options{KeyPrefix: prefix}),
//		}, 50)
//	}
//
// Run covers CreateGrant, LookupToken, Grant, RevokeGrant and UseOnce, every
// rule of Rotate and their order (see tokenstore.RotateRequest), the
// distinctness of the sentinel errors, canceled contexts, and races. Above
// all it checks the invariant of tokenstore.Store after every sequence it
// plays: of all the tokens any presenter received, at most one is live,
// and exactly one unless the family is revoked. In particular:
//
//   - without retry window, a second presentation is reuse whatever its
//     Now (later, equal or earlier than the first one's), and of many
//     concurrent presentations with Now values up to ClockSkew apart
//     exactly one succeeds;
//   - within the retry window, a second presentation by the same client is
//     a retry that supersedes the previous successor; presenting a
//     superseded successor, retrying after the successor was used, expired
//     or removed, or after the window, is reuse; another client presenting
//     a used token is reuse, an unused one ErrClientMismatch;
//   - first tokens whose value names no grant (TokenRef without GrantID)
//     are found like the others.
//
// RunCodes covers CreateCode, every rule of RedeemCode and their order
// (see tokenstore.RedeemRequest), CreateLaunch and ConsumeLaunch. Above all
// it checks that a code is exchanged once: a redemption creates the grant
// and its first refresh token, atomically; of Presenters concurrent
// redemptions exactly one succeeds and the others are reuse, which revokes
// the winner's grant (its refresh token fails with ErrRevoked); a code
// consumed by a refused presentation (another client, the wrong redirect
// URI or code challenge) creates nothing, and presenting it again leaves
// the revoked placeholder under its grant ID (CreateGrant meets it,
// ErrConflict). RunCodeInstances does the same across instances of a
// shared store.
//
// What the suite expects of a store, beyond the documentation of
// tokenstore.Store and tokenstore.CodeStore:
//
//   - Each call of newStore returns a store that shares no records with the
//     stores of other calls (an empty store, or its own key prefix or
//     schema).
//   - Times are kept to Precision (one millisecond) or better, in any
//     location: the suite passes only multiples of Precision, and compares
//     the times it reads back with time.Time.Equal. Durations
//     (Grant.IdleTimeout) are kept to the same precision.
//   - A nil and an empty Grant.LaunchContext may be returned as either; any
//     other LaunchContext is returned byte for byte (it is opaque: the
//     suite stores non-UTF-8 bytes).
//   - Records are not removed before their expiry. The suite passes later
//     Now values rather than sleeping, and never relies on a record once it
//     has passed a Now at or after that record's expiry. Its times are
//     either in 2030 or based on time.Now, and every record it writes
//     expires minutes to days in the future of the real clock, so a store
//     whose engine expires keys by TTL (Redis) keeps them for the whole
//     test.
//   - The store's own clock, on which it measures
//     tokenstore.RotateRequest.RetryWindow, is real time. One test sleeps
//     150 ms to let a 50 ms window pass (a sleep can only make the window
//     pass, so it cannot make the test flaky). The other retries use a
//     30 s window and happen well within it.
//   - A Sweeper removes what has expired at the time it is given.
//   - Code records are kept for tokenstore.CodeRetention after their
//     ExpiresAt: RunCodes presents codes up to 5 minutes after their
//     expiry (by its clock; by the real clock every record it writes is
//     presented within seconds).
//
// The exported helpers (NewGrant, FirstToken, UnnamedFirstToken,
// CreateFamily, Ref, RequireRotate, NewHash, BenchmarkRotate, NewCode,
// CodeRef, Redemption, GrantTemplate, GrantFromCode, NewLaunch, LaunchRef,
// BenchmarkRedeemCode) let store authors write tests and benchmarks of
// their own in the same terms.
package storetest
