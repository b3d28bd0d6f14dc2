package storetest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/storetest"
)

// A store's conformance test: in a _test.go file, as func TestConformance.
func ExampleRun() {
	testConformance := func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) tokenstore.Store {
			return tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
		})
	}
	_ = testConformance
}

func ExampleNewGrant() {
	now := time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC)
	g := storetest.NewGrant(now)
	first := storetest.FirstToken(g)
	fmt.Println(g.ClientID, g.Kind, g.ExpiresAt.Sub(g.IssuedAt))
	fmt.Println(first.Generation, first.GrantID == g.ID, first.ExpiresAt.Equal(g.ExpiresAt))
	// Output:
	// storetest-client offline 24h0m0s
	// 1 true true
}

// The conformance test of a store that also keeps authorization codes.
func ExampleRunCodes() {
	testCodes := func(t *testing.T) {
		storetest.RunCodes(t, func(t *testing.T) storetest.FullStore {
			return tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
		})
	}
	_ = testCodes
}
