package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

// lookupTokenTests check that LookupToken returns the state that
// RefreshToken.Check (introspection, revocation) decides on.
func lookupTokenTests() []test {
	return []test{
		{"ActiveToken", testLookupActive},
		{"UsedToken", testLookupUsed},
		{"ExpiredToken", testLookupExpired},
		{"RevokedGrant", testLookupRevoked},
		{"ChangesNothing", testLookupChangesNothing},
	}
}

func testLookupActive(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)

	gotGrant, tok := lookup(t, s, Ref(first))
	require.NoError(t, tok.Check(gotGrant, h.base))
	require.NoError(t, tok.Check(gotGrant, g.ExpiresAt.Add(-Precision)))
}

func testLookupUsed(t *testing.T, h harness) {
	s := h.newStore(t)
	first := CreateFamily(t, s, NewGrant(h.base))
	now := h.at(time.Minute)
	res := RequireRotate(t, s, Ref(first), now)

	g, old := lookup(t, s, Ref(first))
	sameTime(t, now, old.UsedAt, "UsedAt of the rotated token")
	require.ErrorIs(t, old.Check(g, now), tokenstore.ErrReused)

	g, next := lookup(t, s, Ref(res.Token))
	sameToken(t, res.Token, next)
	require.NoError(t, next.Check(g, now))
}

func testLookupExpired(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	g.IdleTimeout = time.Hour
	first := CreateFamily(t, s, g)

	gotGrant, tok := lookup(t, s, Ref(first))
	sameTime(t, h.at(time.Hour), tok.ExpiresAt, "ExpiresAt of the first token")
	require.ErrorIs(t, tok.Check(gotGrant, h.at(time.Hour)), tokenstore.ErrExpired, "idle expiry")
	require.ErrorIs(t, tok.Check(gotGrant, g.ExpiresAt), tokenstore.ErrExpired, "grant expiry")
}

func testLookupRevoked(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)
	res := RequireRotate(t, s, Ref(first), h.at(time.Minute))
	revokedAt := h.at(2 * time.Minute)
	require.NoError(t, s.RevokeGrant(t.Context(), g.ID, revokedAt))

	for _, ref := range []tokenstore.TokenRef{Ref(first), Ref(res.Token)} {
		gotGrant, tok := lookup(t, s, ref)
		require.True(t, gotGrant.Revoked)
		sameTime(t, revokedAt, gotGrant.RevokedAt, "RevokedAt")
		require.ErrorIs(t, tok.Check(gotGrant, revokedAt), tokenstore.ErrRevoked)
	}
}

func testLookupChangesNothing(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)
	for range 3 {
		lookup(t, s, Ref(first))
	}
	gotGrant, tok := lookup(t, s, Ref(first))
	sameGrant(t, g, gotGrant)
	sameToken(t, first, tok)
	RequireRotate(t, s, Ref(first), h.at(time.Minute))
}
