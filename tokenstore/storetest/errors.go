package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

func errorTests() []test {
	return []test{
		{"DistinctSentinels", testDistinctSentinels},
		{"CanceledContext", testCanceledContext},
	}
}

// sentinels returns the record errors of package tokenstore.
func sentinels() []error {
	return []error{
		tokenstore.ErrNotFound, tokenstore.ErrExpired, tokenstore.ErrReused, tokenstore.ErrRevoked,
		tokenstore.ErrClientMismatch, tokenstore.ErrRedirectMismatch, tokenstore.ErrChallengeMismatch,
		tokenstore.ErrReplayed, tokenstore.ErrConflict,
	}
}

// testDistinctSentinels provokes every record error and checks that each
// matches its own sentinel and no other.
func testDistinctSentinels(t *testing.T, h harness) {
	s := h.newStore(t)
	ctx := t.Context()
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)
	rotate := func(presented tokenstore.TokenRef, client string, now time.Time) error {
		_, err := s.Rotate(ctx, tokenstore.RotateRequest{
			Presented: presented, Next: NewHash(), ClientID: client, Now: now,
		})
		return err
	}

	got := map[error]error{}
	got[tokenstore.ErrNotFound] = rotate(tokenstore.TokenRef{Hash: NewHash(), GrantID: g.ID}, ClientID, h.base)
	got[tokenstore.ErrClientMismatch] = rotate(Ref(first), "another-client", h.base)
	got[tokenstore.ErrConflict] = s.CreateGrant(ctx, g, FirstToken(g))
	require.NoError(t, s.UseOnce(ctx, "k", h.at(time.Minute), h.base))
	got[tokenstore.ErrReplayed] = s.UseOnce(ctx, "k", h.at(time.Minute), h.base)

	g2 := NewGrant(h.base)
	first2 := CreateFamily(t, s, g2)
	RequireRotate(t, s, Ref(first2), h.at(time.Minute))
	got[tokenstore.ErrReused] = rotate(Ref(first2), ClientID, h.at(2*time.Minute))
	got[tokenstore.ErrRevoked] = rotate(Ref(first2), ClientID, h.at(3*time.Minute))
	// Last: a store may remove expired records once it has seen a later time.
	got[tokenstore.ErrExpired] = rotate(Ref(first), ClientID, g.ExpiresAt)

	for want, err := range got {
		require.ErrorIs(t, err, want)
		assert.True(t, tokenstore.IsRecordError(err), "IsRecordError(%v)", err)
		for _, other := range sentinels() {
			if other != want {
				assert.False(t, errors.Is(err, other), "%v must not match %v", err, other)
			}
		}
	}
}

// testCanceledContext: a canceled context makes every method fail with an
// error that is not a record error.
func testCanceledContext(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	g2 := NewGrant(h.base)
	_, err1 := s.Rotate(ctx, tokenstore.RotateRequest{
		Presented: Ref(first), Next: NewHash(), ClientID: ClientID, Now: h.at(time.Minute),
	})
	_, _, err2 := s.LookupToken(ctx, Ref(first))
	_, err3 := s.Grant(ctx, g.ID)
	calls := map[string]error{
		"CreateGrant": s.CreateGrant(ctx, g2, FirstToken(g2)),
		"Rotate":      err1,
		"LookupToken": err2,
		"Grant":       err3,
		"RevokeGrant": s.RevokeGrant(ctx, g.ID, h.at(time.Minute)),
		"UseOnce":     s.UseOnce(ctx, "k", h.at(time.Minute), h.base),
	}
	for name, err := range calls {
		require.Error(t, err, name)
		require.False(t, tokenstore.IsRecordError(err), "%s: a canceled context is not a record error: %v", name, err)
	}
}
