package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

func revokeGrantTests() []test {
	return []test{
		{"RevokesEveryToken", testRevokeEveryToken},
		{"Idempotent", testRevokeIdempotent},
		{"OnlyThatGrant", testRevokeOnlyThatGrant},
		{"Unknown", testRevokeUnknown},
	}
}

func testRevokeEveryToken(t *testing.T, h harness) {
	s := h.newStore(t)
	g, refs := chain(t, h, s, 2)
	revokedAt := h.at(time.Hour)
	require.NoError(t, s.RevokeGrant(t.Context(), g.ID, revokedAt))

	want := g
	want.Revoked, want.RevokedAt = true, revokedAt
	sameGrant(t, want, grant(t, s, g.ID))
	for i, ref := range refs {
		gotGrant, tok := lookup(t, s, ref)
		sameGrant(t, want, gotGrant)
		require.ErrorIs(t, tok.Check(gotGrant, revokedAt), tokenstore.ErrRevoked)
		next := NewHash()
		_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: ref, Next: next, ClientID: ClientID, Now: revokedAt.Add(time.Minute),
		})
		requireRecordError(t, tokenstore.ErrRevoked, err, "Rotate of generation %d", i+1)
		requireNotFound(t, s, tokenstore.TokenRef{Hash: next, GrantID: g.ID}, "Next must not be created")
	}
}

func testRevokeIdempotent(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)
	require.NoError(t, s.RevokeGrant(t.Context(), g.ID, h.at(time.Minute)))
	require.NoError(t, s.RevokeGrant(t.Context(), g.ID, h.at(2*time.Minute)))

	got := grant(t, s, g.ID)
	require.True(t, got.Revoked)
	require.False(t, got.RevokedAt.IsZero(), "RevokedAt")
	_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: Ref(first), Next: NewHash(), ClientID: ClientID, Now: h.at(3 * time.Minute),
	})
	requireRecordError(t, tokenstore.ErrRevoked, err)
}

func testRevokeOnlyThatGrant(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	CreateFamily(t, s, g)
	other := NewGrant(h.base)
	otherFirst := CreateFamily(t, s, other)
	require.NoError(t, s.RevokeGrant(t.Context(), g.ID, h.at(time.Minute)))

	sameGrant(t, other, grant(t, s, other.ID))
	RequireRotate(t, s, Ref(otherFirst), h.at(2*time.Minute))
}

func testRevokeUnknown(t *testing.T, h harness) {
	s := h.newStore(t)
	CreateFamily(t, s, NewGrant(h.base))
	err := s.RevokeGrant(t.Context(), tokenstore.NewID(), h.at(time.Minute))
	requireRecordError(t, tokenstore.ErrNotFound, err)
}
