package storetest

import (
	"testing"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
)

func redeemCodeTests() []codeTest {
	return []codeTest{
		{"Unknown", testRedeemUnknown},
		{"OtherClient", testRedeemOtherClient},
		{"Expired", testRedeemExpired},
		{"JustBeforeExpiry", testRedeemJustBeforeExpiry},
		{"OtherClientBeatsExpiry", testRedeemOtherClientExpired},
	}
}

// requireNoGrant requires no grant with ID id to exist in s.
func requireNoGrant(t testing.TB, s tokenstore.Store, id, msg string) {
	t.Helper()
	_, err := s.Grant(t.Context(), id)
	requireRecordError(t, tokenstore.ErrNotFound, err, msg)
}

// testRedeemUnknown: unknown hashes, and known ones presented without
// their grant ID or with another one, are ErrNotFound and change nothing.
func testRedeemUnknown(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	other := NewCode(h.base)
	createCode(t, s, other)

	refs := map[string]tokenstore.TokenRef{
		"UnknownHashNamingTheGrant": {Hash: NewHash(), GrantID: c.GrantID},
		"UnknownHashNamingNoGrant":  {Hash: NewHash()},
		"UnknownHashUnknownGrant":   {Hash: NewHash(), GrantID: tokenstore.NewID()},
		"KnownHashNamingNoGrant":    {Hash: c.Hash},
		"KnownHashNamingAnother":    {Hash: c.Hash, GrantID: other.GrantID},
		"KnownHashUnknownGrant":     {Hash: c.Hash, GrantID: tokenstore.NewID()},
	}
	for name, ref := range refs {
		_, err := s.RedeemCode(t.Context(), tokenstore.RedeemRequest{Code: ref, ClientID: ClientID, Now: h.at(time.Second)})
		requireRecordError(t, tokenstore.ErrNotFound, err, name)
	}
	requireNoGrant(t, s, c.GrantID, "an unknown code revokes nothing")
	requireRedeem(t, s, c, h.at(2*time.Second))
	requireRedeem(t, s, other, h.at(2*time.Second))
}

// testRedeemOtherClient: a code presented by another client is refused
// and consumed: its own client's presentation afterwards is reuse.
func testRedeemOtherClient(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)

	_, err := redeem(t, s, c, "another-client", h.at(time.Second))
	requireRecordError(t, tokenstore.ErrClientMismatch, err)
	requireNoGrant(t, s, c.GrantID, "a client mismatch revokes nothing")

	now := h.at(2 * time.Second)
	_, err = redeem(t, s, c, ClientID, now)
	requireRecordError(t, tokenstore.ErrReused, err, "the code was consumed by the other client")
	requirePlaceholder(t, s, c, now)
}

// testRedeemExpired: a code presented at or after its expiry is
// ErrExpired, again and again: it is not consumed, and no grant is
// revoked or put in place.
func testRedeemExpired(t *testing.T, h codeHarness) {
	cases := []struct {
		name  string
		after time.Duration // after ExpiresAt
	}{
		{"Exactly", 0},
		{"Later", 5 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			c := NewCode(h.base)
			createCode(t, s, c)
			now := c.ExpiresAt.Add(tc.after)
			for i := range 2 {
				_, err := redeem(t, s, c, ClientID, now.Add(time.Duration(i)*time.Second))
				requireRecordError(t, tokenstore.ErrExpired, err, "presentation %d", i+1)
			}
			requireNoGrant(t, s, c.GrantID, "an expired code revokes nothing")
		})
	}
}

// testRedeemJustBeforeExpiry: the last instant before ExpiresAt is valid.
func testRedeemJustBeforeExpiry(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	requireRedeem(t, s, c, c.ExpiresAt.Add(-Precision))
}

// testRedeemOtherClientExpired: the client check comes before the expiry
// check (rule 3 before rule 4).
func testRedeemOtherClientExpired(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	_, err := redeem(t, s, c, "another-client", c.ExpiresAt)
	requireRecordError(t, tokenstore.ErrClientMismatch, err)
}
