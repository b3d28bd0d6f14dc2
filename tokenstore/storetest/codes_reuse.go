package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

func codeReuseTests() []codeTest {
	return []codeTest{
		{"AfterGrantCreated", testCodeReuseAfterGrant},
		{"BeforeGrantCreated", testCodeReuseBeforeGrant},
		{"AfterExpiry", testCodeReuseAfterExpiry},
		{"ByOtherClient", testCodeReuseByOtherClient},
		{"KeepsFirstRevocation", testCodeReuseKeepsFirstRevocation},
		{"RevokedGrantAlready", testCodeReuseRevokedGrant},
	}
}

// exchange is what an authorization server does after a successful
// redemption of c at now: it creates the grant c names, with a first
// refresh token, and returns both. It fails the test if CreateGrant fails.
func exchange(t testing.TB, s tokenstore.Store, c tokenstore.AuthorizationCode, now time.Time) (tokenstore.Grant, tokenstore.RefreshToken) {
	t.Helper()
	g := GrantFromCode(c, now)
	return g, CreateFamily(t, s, g)
}

// requireRevokedFamily requires the grant g, created from a code, to be
// revoked at revokedAt, and its token to be refused with ErrRevoked.
func requireRevokedFamily(t testing.TB, s tokenstore.Store, g tokenstore.Grant, first tokenstore.RefreshToken, revokedAt time.Time) {
	t.Helper()
	want := g
	want.Revoked, want.RevokedAt = true, revokedAt
	sameGrant(t, want, grant(t, s, g.ID))
	_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: Ref(first), Next: NewHash(), ClientID: g.ClientID, Now: revokedAt.Add(time.Second),
	})
	requireRecordError(t, tokenstore.ErrRevoked, err, "the grant's refresh token")
}

// requirePlaceholder requires the grant c names to be the revoked
// placeholder c.RevokedGrant(revokedAt), and the server's CreateGrant
// for it to fail with ErrConflict, leaving nothing of it.
func requirePlaceholder(t testing.TB, s tokenstore.Store, c tokenstore.AuthorizationCode, revokedAt time.Time) {
	t.Helper()
	sameGrant(t, c.RevokedGrant(revokedAt), grant(t, s, c.GrantID))
	g := GrantFromCode(c, revokedAt)
	first := FirstToken(g)
	err := s.CreateGrant(t.Context(), g, first)
	requireRecordError(t, tokenstore.ErrConflict, err, "creating the grant of a reused code")
	requireNotFound(t, s, Ref(first), "the refused grant's token must not be stored")
	sameGrant(t, c.RevokedGrant(revokedAt), grant(t, s, c.GrantID))
}

// testCodeReuseAfterGrant: the server redeems the code and creates the
// grant; a second presentation revokes that grant.
func testCodeReuseAfterGrant(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	requireRedeem(t, s, c, h.at(time.Second))
	g, first := exchange(t, s, c, h.at(time.Second))

	now := h.at(3 * time.Second)
	_, err := redeem(t, s, c, ClientID, now)
	requireRecordError(t, tokenstore.ErrReused, err)
	requireRevokedFamily(t, s, g, first, now)
}

// testCodeReuseBeforeGrant: a second presentation that reaches the store
// before the first one's grant exists leaves a revoked placeholder in its
// place, so that the grant can no longer be created.
func testCodeReuseBeforeGrant(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	requireRedeem(t, s, c, h.at(time.Second))

	now := h.at(2 * time.Second)
	_, err := redeem(t, s, c, ClientID, now)
	requireRecordError(t, tokenstore.ErrReused, err)
	requirePlaceholder(t, s, c, now)
}

// testCodeReuseAfterExpiry: a code presented again after its expiry is
// still reuse (the store keeps it for CodeRetention): the grant is
// revoked.
func testCodeReuseAfterExpiry(t *testing.T, h codeHarness) {
	cases := []struct {
		name    string
		created bool // the server created the grant
	}{
		{"GrantCreated", true},
		{"NoGrant", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			c := NewCode(h.base)
			createCode(t, s, c)
			requireRedeem(t, s, c, h.at(time.Second))
			var (
				g     tokenstore.Grant
				first tokenstore.RefreshToken
			)
			if tc.created {
				g, first = exchange(t, s, c, h.at(time.Second))
			}

			now := c.ExpiresAt.Add(5 * time.Minute)
			_, err := redeem(t, s, c, ClientID, now)
			requireRecordError(t, tokenstore.ErrReused, err)
			if tc.created {
				requireRevokedFamily(t, s, g, first, now)
				return
			}
			requirePlaceholder(t, s, c, now)
		})
	}
}

// testCodeReuseByOtherClient: a used code presented by another client is
// reuse too (rule 2 before rule 3).
func testCodeReuseByOtherClient(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	requireRedeem(t, s, c, h.at(time.Second))
	g, first := exchange(t, s, c, h.at(time.Second))

	now := h.at(2 * time.Second)
	_, err := redeem(t, s, c, "another-client", now)
	requireRecordError(t, tokenstore.ErrReused, err)
	requireRevokedFamily(t, s, g, first, now)
}

// testCodeReuseKeepsFirstRevocation: every further presentation is reuse,
// and the grant keeps its first RevokedAt; the placeholder too.
func testCodeReuseKeepsFirstRevocation(t *testing.T, h codeHarness) {
	for _, created := range []bool{true, false} {
		name := "NoGrant"
		if created {
			name = "GrantCreated"
		}
		t.Run(name, func(t *testing.T) {
			s := h.newStore(t)
			c := NewCode(h.base)
			createCode(t, s, c)
			requireRedeem(t, s, c, h.at(time.Second))
			var (
				g     tokenstore.Grant
				first tokenstore.RefreshToken
			)
			if created {
				g, first = exchange(t, s, c, h.at(time.Second))
			}
			revokedAt := h.at(2 * time.Second)
			for i, now := range []time.Time{revokedAt, h.at(3 * time.Second), h.at(time.Second)} {
				_, err := redeem(t, s, c, ClientID, now)
				requireRecordError(t, tokenstore.ErrReused, err, "presentation %d", i+2)
			}
			if created {
				requireRevokedFamily(t, s, g, first, revokedAt)
				return
			}
			requirePlaceholder(t, s, c, revokedAt)
		})
	}
}

// testCodeReuseRevokedGrant: reuse of a code whose grant was revoked
// otherwise keeps that revocation.
func testCodeReuseRevokedGrant(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	requireRedeem(t, s, c, h.at(time.Second))
	g, first := exchange(t, s, c, h.at(time.Second))
	revokedAt := h.at(2 * time.Second)
	require.NoError(t, s.RevokeGrant(t.Context(), g.ID, revokedAt))

	_, err := redeem(t, s, c, ClientID, h.at(3*time.Second))
	requireRecordError(t, tokenstore.ErrReused, err)
	requireRevokedFamily(t, s, g, first, revokedAt)
}
