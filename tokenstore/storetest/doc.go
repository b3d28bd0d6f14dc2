// Package storetest is the conformance suite of tokenstore.Store: every
// store, those of smartauth and yours, must pass it.
//
// Usage sketch, in the _test.go file of a store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) tokenstore.Store {
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
// distinctness of the sentinel errors, canceled contexts, and races: many
// goroutines presenting the same token at once must produce exactly one
// rotation.
//
// What the suite expects of a store, beyond the documentation of
// tokenstore.Store:
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
//   - Records are not removed before their expiry. The suite never sleeps:
//     it passes later Now values instead, and never relies on a record once
//     it has passed a Now at or after that record's expiry. Its times are
//     either in 2030 or based on time.Now, and every record it writes
//     expires minutes to days in the future of the real clock, so a store
//     whose engine expires keys by TTL (Redis) keeps them for the whole
//     test.
//
// The exported helpers (NewGrant, FirstToken, CreateFamily, RequireRotate,
// NewHash) let store authors write tests of their own in the same terms.
package storetest
