package storetest

import (
	"testing"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
)

// Run runs the conformance suite against the stores made by newStore, as
// subtests of t. Every subtest calls newStore for a store of its own, which
// must be empty (or at least share no records with the stores of other
// subtests: remote stores give each call its own key prefix or schema).
// newStore may register cleanups with t.Cleanup.
//
// The suite runs twice: with a fixed clock (times in 2030, in a non-UTC
// location) and with the wall clock (times from time.Now), so that a store
// whose engine expires records by TTL finds every record it is given still
// alive when the suite presents a later Now. One test sleeps 150 ms (see
// the package documentation).
func Run(t *testing.T, newStore func(t *testing.T) tokenstore.Store) {
	t.Helper()
	for _, c := range clocks() {
		t.Run(c.name, func(t *testing.T) {
			for _, g := range groups() {
				t.Run(g.name, func(t *testing.T) {
					for _, tc := range g.tests {
						t.Run(tc.name, func(t *testing.T) {
							tc.run(t, harness{newStore: newStore, base: c.base()})
						})
					}
				})
			}
		})
	}
}

// harness is what every test of the suite is given.
type harness struct {
	// newStore returns a new empty store.
	newStore func(t *testing.T) tokenstore.Store
	// base is the time the test starts at; it is a multiple of Precision.
	base time.Time
}

// at returns the base time plus d.
func (h harness) at(d time.Duration) time.Time { return h.base.Add(d) }

// clock is a source of base times.
type clock struct {
	name string
	base func() time.Time
}

func clocks() []clock {
	return []clock{
		{"FixedClock", func() time.Time {
			return time.Date(2030, time.January, 1, 12, 0, 0, 0, time.FixedZone("UTC+05:30", 5*3600+1800))
		}},
		{"WallClock", func() time.Time { return time.Now().UTC().Truncate(Precision) }},
	}
}

// test is one test of the suite.
type test struct {
	name string
	run  func(t *testing.T, h harness)
}

// group is a named list of tests, run as a subtest of its own.
type group struct {
	name  string
	tests []test
}

func groups() []group {
	return []group{
		{"CreateGrant", createGrantTests()},
		{"LookupToken", lookupTokenTests()},
		{"Rotate", rotateTests()},
		{"Reuse", reuseTests()},
		{"Retry", retryTests()},
		{"UnnamedFirstToken", unnamedTests()},
		{"RevokeGrant", revokeGrantTests()},
		{"UseOnce", useOnceTests()},
		{"Errors", errorTests()},
		{"Concurrency", concurrencyTests()},
	}
}
