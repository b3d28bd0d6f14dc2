package storetest

import (
	"testing"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
)

// BenchmarkRotate measures one rotation on s: a family is created, then each
// iteration presents the token the previous one returned. Store authors call
// it from their own Benchmark function:
//
//	func BenchmarkRotate(b *testing.B) { storetest.BenchmarkRotate(b, newStore(b)) }
func BenchmarkRotate(b *testing.B, s tokenstore.Store) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	presented := Ref(CreateFamily(b, s, NewGrant(now)))
	next := make([]tokenstore.Hash, b.N)
	for i := range next {
		next[i] = NewHash()
	}
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		res, err := s.Rotate(ctx, tokenstore.RotateRequest{
			Presented: presented, Next: next[i], ClientID: ClientID,
			Now: now.Add(time.Duration(i+1) * time.Microsecond),
		})
		if err != nil {
			b.Fatal(err)
		}
		presented = Ref(res.Token)
	}
}

// BenchmarkRedeemCode measures one redemption of an authorization code on
// s, which creates its grant and first refresh token: b.N codes are
// created before the timer starts, then each iteration redeems one.
// Store authors call it from their own Benchmark function:
//
//	func BenchmarkRedeemCode(b *testing.B) { storetest.BenchmarkRedeemCode(b, newStore(b)) }
func BenchmarkRedeemCode(b *testing.B, s tokenstore.CodeStore) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	reqs := make([]tokenstore.RedeemRequest, b.N)
	for i := range reqs {
		c := NewCode(now)
		if err := s.CreateCode(b.Context(), c); err != nil {
			b.Fatal(err)
		}
		reqs[i] = Redemption(c, now)
	}
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.RedeemCode(ctx, reqs[i]); err != nil {
			b.Fatal(err)
		}
	}
}
