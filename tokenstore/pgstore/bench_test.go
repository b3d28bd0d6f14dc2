package pgstore_test

import (
	"testing"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/storetest"
)

// BenchmarkRotate measures one rotation: one statement, one round trip.
func BenchmarkRotate(b *testing.B) {
	s := newStore(b, newPool(b, nil))
	now := time.Now().UTC().Truncate(time.Millisecond)
	g := storetest.NewGrant(now)
	presented := storetest.CreateFamily(b, s, g).Hash
	next := make([]tokenstore.Hash, b.N)
	for i := range next {
		next[i] = storetest.NewHash()
	}
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		res, err := s.Rotate(ctx, tokenstore.RotateRequest{
			Presented: presented, Next: next[i], ClientID: storetest.ClientID,
			Now: now.Add(time.Duration(i+1) * time.Microsecond),
		})
		if err != nil {
			b.Fatal(err)
		}
		presented = res.Token.Hash
	}
}
