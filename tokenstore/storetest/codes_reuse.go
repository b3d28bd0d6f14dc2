package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

func codeReuseTests() []codeTest {
	return []codeTest{
		{"AfterRedemption", testCodeReuseAfterRedemption},
		{"AfterRotation", testCodeReuseAfterRotation},
		{"AfterRefusal", testCodeReuseAfterRefusal},
		{"AfterExpiry", testCodeReuseAfterExpiry},
		{"ByOtherClient", testCodeReuseByOtherClient},
		{"WithWrongBinding", testCodeReuseWrongBinding},
		{"KeepsFirstRevocation", testCodeReuseKeepsFirstRevocation},
		{"RevokedGrantAlready", testCodeReuseRevokedGrant},
	}
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
// placeholder c.RevokedGrant(revokedAt), and a CreateGrant for it to
// fail with ErrConflict, leaving nothing of it.
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

// consume makes a refused presentation of c at now, with the wrong code
// challenge: c is consumed and no grant is made.
func consume(t testing.TB, s tokenstore.CodeStore, c tokenstore.AuthorizationCode, now time.Time) {
	t.Helper()
	req := Redemption(c, now)
	req.CodeChallenge = "wrong"
	_, err := s.RedeemCode(t.Context(), req)
	requireRecordError(t, tokenstore.ErrChallengeMismatch, err, "the refused presentation")
}

// testCodeReuseAfterRedemption: the redemption creates the grant; a
// second presentation revokes it, and its refresh token dies.
func testCodeReuseAfterRedemption(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	res := requireRedeem(t, s, c, h.at(time.Second))

	now := h.at(3 * time.Second)
	_, err := redeem(t, s, c, ClientID, now)
	requireRecordError(t, tokenstore.ErrReused, err)
	requireRevokedFamily(t, s, res.Grant, res.Token, now)
}

// testCodeReuseAfterRotation: the whole family is revoked, however far
// the client has rotated it.
func testCodeReuseAfterRotation(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	res := requireRedeem(t, s, c, h.at(time.Second))
	rot := RequireRotate(t, s, Ref(res.Token), h.at(2*time.Second))
	rot = RequireRotate(t, s, Ref(rot.Token), h.at(3*time.Second))

	now := h.at(4 * time.Second)
	_, err := redeem(t, s, c, ClientID, now)
	requireRecordError(t, tokenstore.ErrReused, err)
	requireRevokedFamily(t, s, res.Grant, rot.Token, now)
	requireFamilyInvariant(t, s, now, Ref(res.Token), Ref(rot.Token))
}

// testCodeReuseAfterRefusal: a code consumed by a refused presentation
// has no grant; presenting it again leaves a revoked placeholder in the
// grant's place, so that the ID is never given to a grant.
func testCodeReuseAfterRefusal(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	consume(t, s, c, h.at(time.Second))
	requireConsumed(t, s, c, h.at(2*time.Second))
}

// testCodeReuseAfterExpiry: a code presented again after its expiry is
// still reuse (the store keeps it for CodeRetention): the grant is
// revoked, or the placeholder put in its place.
func testCodeReuseAfterExpiry(t *testing.T, h codeHarness) {
	cases := []struct {
		name     string
		redeemed bool // else consumed by a refusal
	}{
		{"Redeemed", true},
		{"Refused", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			c := NewCode(h.base)
			createCode(t, s, c)
			var res tokenstore.RedeemResult
			if tc.redeemed {
				res = requireRedeem(t, s, c, h.at(time.Second))
			} else {
				consume(t, s, c, h.at(time.Second))
			}

			now := c.ExpiresAt.Add(5 * time.Minute)
			_, err := redeem(t, s, c, ClientID, now)
			requireRecordError(t, tokenstore.ErrReused, err)
			if tc.redeemed {
				requireRevokedFamily(t, s, res.Grant, res.Token, now)
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
	res := requireRedeem(t, s, c, h.at(time.Second))

	now := h.at(2 * time.Second)
	_, err := redeem(t, s, c, "another-client", now)
	requireRecordError(t, tokenstore.ErrReused, err)
	requireRevokedFamily(t, s, res.Grant, res.Token, now)
}

// testCodeReuseWrongBinding: a used code presented again with the wrong
// binding is reuse too (rule 2 before rule 5): whoever holds the code
// without its verifier can still have the grant revoked, as anyone
// presenting a code twice can.
func testCodeReuseWrongBinding(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	res := requireRedeem(t, s, c, h.at(time.Second))

	now := h.at(2 * time.Second)
	req := Redemption(c, now)
	req.RedirectURI, req.CodeChallenge = "https://evil.example/callback", "wrong"
	_, err := s.RedeemCode(t.Context(), req)
	requireRecordError(t, tokenstore.ErrReused, err)
	requireRevokedFamily(t, s, res.Grant, res.Token, now)
}

// testCodeReuseKeepsFirstRevocation: every further presentation is reuse,
// and the grant keeps its first RevokedAt; the placeholder too.
func testCodeReuseKeepsFirstRevocation(t *testing.T, h codeHarness) {
	for _, redeemed := range []bool{true, false} {
		name := "Refused"
		if redeemed {
			name = "Redeemed"
		}
		t.Run(name, func(t *testing.T) {
			s := h.newStore(t)
			c := NewCode(h.base)
			createCode(t, s, c)
			var res tokenstore.RedeemResult
			if redeemed {
				res = requireRedeem(t, s, c, h.at(time.Second))
			} else {
				consume(t, s, c, h.at(time.Second))
			}
			revokedAt := h.at(2 * time.Second)
			for i, now := range []time.Time{revokedAt, h.at(3 * time.Second), h.at(time.Second)} {
				_, err := redeem(t, s, c, ClientID, now)
				requireRecordError(t, tokenstore.ErrReused, err, "presentation %d", i+2)
			}
			if redeemed {
				requireRevokedFamily(t, s, res.Grant, res.Token, revokedAt)
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
	res := requireRedeem(t, s, c, h.at(time.Second))
	revokedAt := h.at(2 * time.Second)
	require.NoError(t, s.RevokeGrant(t.Context(), res.Grant.ID, revokedAt))

	_, err := redeem(t, s, c, ClientID, h.at(3*time.Second))
	requireRecordError(t, tokenstore.ErrReused, err)
	requireRevokedFamily(t, s, res.Grant, res.Token, revokedAt)
}
