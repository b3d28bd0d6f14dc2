package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

// unnamedTests present first tokens whose value names no grant (chosen by
// the host, or made by tokenstore.NewToken): their TokenRef has no
// GrantID, and the store must find them all the same.
func unnamedTests() []test {
	return []test{
		{"LookupAndRotate", testUnnamedRotate},
		{"Reuse", testUnnamedReuse},
		{"Retry", testUnnamedRetry},
		{"ClientMismatch", testUnnamedClientMismatch},
	}
}

// createUnnamed stores a new grant with an UnnamedFirstToken and returns
// them, with the TokenRef a presenter of that token sends.
func createUnnamed(t *testing.T, h harness, s tokenstore.Store) (tokenstore.Grant, tokenstore.RefreshToken, tokenstore.TokenRef) {
	t.Helper()
	g := NewGrant(h.base)
	first := UnnamedFirstToken(g)
	require.NoError(t, s.CreateGrant(t.Context(), g, first), "CreateGrant")
	return g, first, tokenstore.TokenRef{Hash: first.Hash}
}

func testUnnamedRotate(t *testing.T, h harness) {
	s := h.newStore(t)
	g, first, ref := createUnnamed(t, h, s)
	gotGrant, tok := lookup(t, s, ref)
	sameGrant(t, g, gotGrant)
	sameToken(t, first, tok)

	res := RequireRotate(t, s, ref, h.at(time.Minute))
	require.Equal(t, 2, res.Token.Generation)
	require.Equal(t, g.ID, res.Token.GrantID)
	_, tok = lookup(t, s, ref)
	sameTime(t, h.at(time.Minute), tok.UsedAt, "UsedAt")
	res = RequireRotate(t, s, Ref(res.Token), h.at(2*time.Minute))
	require.Equal(t, 3, res.Token.Generation)
	requireFamilyInvariant(t, s, h.at(2*time.Minute), ref, Ref(res.Token))
}

func testUnnamedReuse(t *testing.T, h harness) {
	s := h.newStore(t)
	g, _, ref := createUnnamed(t, h, s)
	res := RequireRotate(t, s, ref, h.at(time.Minute))
	presentReused(t, s, g, []tokenstore.TokenRef{ref, Ref(res.Token)}, ref, h.at(2*time.Minute), 0)
}

func testUnnamedRetry(t *testing.T, h harness) {
	s := h.newStore(t)
	_, _, ref := createUnnamed(t, h, s)
	s1 := RequireRotate(t, s, ref, h.at(time.Minute)).Token
	s2 := retry(t, s, ref, h.at(time.Minute+time.Second)).Token
	requireSuperseded(t, s, Ref(s1), h.at(time.Minute+time.Second))
	require.Equal(t, 2, requireFamilyInvariant(t, s, h.at(2*time.Minute), ref, Ref(s1), Ref(s2)))
}

func testUnnamedClientMismatch(t *testing.T, h harness) {
	s := h.newStore(t)
	g, first, ref := createUnnamed(t, h, s)
	next := NewHash()
	_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: ref, Next: next, ClientID: "another-client", Now: h.at(time.Minute), RetryWindow: retryWindow,
	})
	requireRecordError(t, tokenstore.ErrClientMismatch, err)
	requireNotFound(t, s, tokenstore.TokenRef{Hash: next, GrantID: g.ID}, "Next must not be created")
	gotGrant, tok := lookup(t, s, ref)
	sameGrant(t, g, gotGrant)
	sameToken(t, first, tok)
}
