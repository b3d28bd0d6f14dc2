package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

func rotateTests() []test {
	return []test{
		{"Success", testRotateSuccess},
		{"NextExpiry", testRotateNextExpiry},
		{"ChainOfFive", testRotateChain},
		{"UnknownToken", testRotateUnknown},
		{"ClientMismatchChangesNothing", testRotateClientMismatch},
		{"RevokedGrant", testRotateRevoked},
		{"IdleExpiry", testRotateIdleExpiry},
		{"RuleOrder", testRotateRuleOrder},
		{"NextConflict", testRotateNextConflict},
	}
}

func testRotateSuccess(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)
	now := h.at(10 * time.Minute)
	next := NewHash()

	res, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: Ref(first), Next: next, ClientID: ClientID, Now: now,
	})
	require.NoError(t, err)
	assert.False(t, res.Retry, "Retry")
	sameGrant(t, g, res.Grant)
	want := tokenstore.RefreshToken{
		Hash: next, GrantID: g.ID, Generation: 2, IssuedAt: now, ExpiresAt: g.NextExpiry(now),
	}
	sameToken(t, want, res.Token)

	_, old := lookup(t, s, Ref(first))
	used := first
	used.UsedAt = now
	sameToken(t, used, old)
	_, stored := lookup(t, s, Ref(want))
	sameToken(t, want, stored)

	// The new token is usable; so is the last millisecond of the grant.
	res = RequireRotate(t, s, Ref(want), g.ExpiresAt.Add(-Precision))
	assert.Equal(t, 3, res.Token.Generation)
}

func testRotateNextExpiry(t *testing.T, h harness) {
	cases := []struct {
		name      string
		idle      time.Duration
		rotateAt  time.Duration
		wantAfter time.Duration // ExpiresAt of the new token, from base
	}{
		{"NoIdleTimeout", 0, time.Hour, GrantLifetime},
		{"IdleTimeout", 30 * time.Minute, 20 * time.Minute, 50 * time.Minute},
		{"IdleTimeoutCappedByGrant", 30 * time.Minute, GrantLifetime - 10*time.Minute, GrantLifetime},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			g := NewGrant(h.base)
			g.IdleTimeout = tc.idle
			first := FirstToken(g)
			first.ExpiresAt = g.ExpiresAt // let the first token live until rotateAt
			require.NoError(t, s.CreateGrant(t.Context(), g, first))

			res := RequireRotate(t, s, Ref(first), h.at(tc.rotateAt))
			sameTime(t, h.at(tc.wantAfter), res.Token.ExpiresAt, "ExpiresAt of the new token")
			sameTime(t, g.NextExpiry(h.at(tc.rotateAt)), res.Token.ExpiresAt, "Grant.NextExpiry")
		})
	}
}

func testRotateChain(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	g.IdleTimeout = time.Hour
	first := CreateFamily(t, s, g)

	refs := []tokenstore.TokenRef{Ref(first)}
	for i := 1; i <= 5; i++ {
		now := h.at(time.Duration(i) * 10 * time.Minute)
		res := RequireRotate(t, s, refs[len(refs)-1], now)
		require.Equal(t, i+1, res.Token.Generation, "generation after %d rotations", i)
		sameTime(t, now, res.Token.IssuedAt, "IssuedAt")
		sameTime(t, now.Add(time.Hour), res.Token.ExpiresAt, "ExpiresAt")
		require.Equal(t, g.ID, res.Token.GrantID)
		_, prev := lookup(t, s, refs[len(refs)-1])
		sameTime(t, now, prev.UsedAt, "UsedAt of the presented token")
		refs = append(refs, Ref(res.Token))
	}

	now := h.at(time.Hour)
	require.Equal(t, len(refs)-1, requireFamilyInvariant(t, s, now, refs...), "the last token is the live one")
	for i, ref := range refs {
		gotGrant, tok := lookup(t, s, ref)
		require.Equal(t, i+1, tok.Generation)
		require.False(t, gotGrant.Revoked)
		if i < len(refs)-1 {
			require.False(t, tok.UsedAt.IsZero(), "generation %d is used", i+1)
		} else {
			require.NoError(t, tok.Check(gotGrant, now), "the last token is active")
		}
	}
}

func testRotateUnknown(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	CreateFamily(t, s, g)
	for _, grantID := range []string{"", g.ID, tokenstore.NewID()} {
		next := NewHash()
		_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: tokenstore.TokenRef{Hash: NewHash(), GrantID: grantID},
			Next:      next, ClientID: ClientID, Now: h.at(time.Minute), RetryWindow: retryWindow,
		})
		requireRecordError(t, tokenstore.ErrNotFound, err, "unknown token naming family %q", grantID)
		requireNotFound(t, s, tokenstore.TokenRef{Hash: next, GrantID: g.ID}, "Next must not be created")
	}
}

// testRotateClientMismatch covers rule 2: another client presenting an
// unused token changes nothing; presenting a used one is reuse, retry
// window or not.
func testRotateClientMismatch(t *testing.T, h harness) {
	cases := []struct {
		name   string
		used   bool // present a token already rotated
		window time.Duration
	}{
		{"UnusedToken", false, 0},
		{"UnusedTokenWithRetryWindow", false, retryWindow},
		{"UsedToken", true, 0},
		{"UsedTokenWithinRetryWindow", true, retryWindow},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			g := NewGrant(h.base)
			first := CreateFamily(t, s, g)
			refs := []tokenstore.TokenRef{Ref(first)}
			if tc.used {
				refs = append(refs, Ref(RequireRotate(t, s, Ref(first), h.at(time.Minute)).Token))
			}
			wantGrant, wantTok := lookup(t, s, Ref(first))

			next := NewHash()
			_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
				Presented: Ref(first), Next: next, ClientID: "another-client",
				Now: h.at(2 * time.Minute), RetryWindow: tc.window,
			})
			requireNotFound(t, s, tokenstore.TokenRef{Hash: next, GrantID: g.ID}, "Next must not be created")
			if tc.used {
				requireRecordError(t, tokenstore.ErrReused, err)
				got := grant(t, s, g.ID)
				require.True(t, got.Revoked, "reuse by another client revokes the family")
				sameTime(t, h.at(2*time.Minute), got.RevokedAt, "RevokedAt")
				requireFamilyInvariant(t, s, h.at(2*time.Minute), refs...)
				return
			}
			requireRecordError(t, tokenstore.ErrClientMismatch, err)
			gotGrant, gotTok := lookup(t, s, Ref(first))
			sameGrant(t, wantGrant, gotGrant)
			sameToken(t, wantTok, gotTok)
			res := RequireRotate(t, s, Ref(first), h.at(time.Hour))
			assert.Equal(t, 2, res.Token.Generation)
		})
	}
}

func testRotateRevoked(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)
	require.NoError(t, s.RevokeGrant(t.Context(), g.ID, h.at(time.Minute)))

	next := NewHash()
	_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: Ref(first), Next: next, ClientID: ClientID, Now: h.at(2 * time.Minute),
	})
	requireRecordError(t, tokenstore.ErrRevoked, err)
	requireNotFound(t, s, tokenstore.TokenRef{Hash: next, GrantID: g.ID}, "Next must not be created")
	_, tok := lookup(t, s, Ref(first))
	require.True(t, tok.UsedAt.IsZero(), "a refused token is not marked used")
}

func testRotateIdleExpiry(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	g.IdleTimeout = 30 * time.Minute
	first := CreateFamily(t, s, g)
	sameTime(t, h.at(30*time.Minute), first.ExpiresAt, "first token's ExpiresAt")

	res := RequireRotate(t, s, Ref(first), h.at(29*time.Minute))
	sameTime(t, h.at(59*time.Minute), res.Token.ExpiresAt, "ExpiresAt")

	next := NewHash()
	_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: Ref(res.Token), Next: next, ClientID: ClientID, Now: h.at(59 * time.Minute),
	})
	requireRecordError(t, tokenstore.ErrExpired, err)
	requireNotFound(t, s, tokenstore.TokenRef{Hash: next, GrantID: g.ID}, "Next must not be created")
	require.False(t, grant(t, s, g.ID).Revoked, "expiry does not revoke")
}

// testRotateRuleOrder checks the errors of Rotate when several rules apply,
// and which of them change the grant.
func testRotateRuleOrder(t *testing.T, h harness) {
	const idle = 30 * time.Minute
	// Every case starts from a grant with a 30-minute idle timeout whose
	// first token has been rotated once at base+1m: "used" is that first
	// token (expiring at base+30m), "fresh" its successor (expiring at
	// base+31m). Presentations of "used" with a retry window would be
	// retries, were it not for the rule that applies first.
	cases := []struct {
		name        string
		revoke      bool
		presentUsed bool
		client      string
		window      time.Duration
		at          time.Duration
		want        error
		wantRevoked bool
	}{
		{"FreshGrantExpiryExactly", false, false, ClientID, 0, GrantLifetime, tokenstore.ErrExpired, false},
		{"FreshIdleExpiryExactly", false, false, ClientID, 0, 31 * time.Minute, tokenstore.ErrExpired, false},
		{"FreshLongAfterExpiry", false, false, ClientID, 0, GrantLifetime + time.Hour, tokenstore.ErrExpired, false},
		{"UsedAndExpired", false, true, ClientID, 0, 30 * time.Minute, tokenstore.ErrExpired, false},
		{"UsedAndExpiredWithinRetryWindow", false, true, ClientID, retryWindow, 30 * time.Minute, tokenstore.ErrExpired, false},
		{"UsedNotExpired", false, true, ClientID, 0, 29 * time.Minute, tokenstore.ErrReused, true},
		{"RevokedAndExpired", true, false, ClientID, 0, GrantLifetime, tokenstore.ErrRevoked, true},
		{"RevokedAndUsed", true, true, ClientID, 0, 10 * time.Minute, tokenstore.ErrRevoked, true},
		{"RevokedAndUsedWithinRetryWindow", true, true, ClientID, retryWindow, 10 * time.Minute, tokenstore.ErrRevoked, true},
		{"OtherClientAndRevoked", true, false, "another-client", 0, 10 * time.Minute, tokenstore.ErrClientMismatch, true},
		{"OtherClientAndExpired", false, false, "another-client", 0, GrantLifetime, tokenstore.ErrClientMismatch, false},
		{"OtherClientAndUsed", false, true, "another-client", retryWindow, 10 * time.Minute, tokenstore.ErrReused, true},
		{"OtherClientUsedAndRevoked", true, true, "another-client", 0, 10 * time.Minute, tokenstore.ErrReused, true},
		{"OtherClientUsedAndExpired", false, true, "another-client", 0, 30 * time.Minute, tokenstore.ErrReused, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			g := NewGrant(h.base)
			g.IdleTimeout = idle
			first := CreateFamily(t, s, g)
			fresh := RequireRotate(t, s, Ref(first), h.at(time.Minute)).Token
			if tc.revoke {
				require.NoError(t, s.RevokeGrant(t.Context(), g.ID, h.at(2*time.Minute)))
			}
			presented := Ref(fresh)
			if tc.presentUsed {
				presented = Ref(first)
			}

			next := NewHash()
			_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
				Presented: presented, Next: next, ClientID: tc.client, Now: h.at(tc.at), RetryWindow: tc.window,
			})
			requireRecordError(t, tc.want, err)
			if tc.at < GrantLifetime { // the records may be removed once the grant has expired
				requireNotFound(t, s, tokenstore.TokenRef{Hash: next, GrantID: g.ID}, "Next must not be created")
				got := grant(t, s, g.ID)
				require.Equal(t, tc.wantRevoked, got.Revoked, "Grant.Revoked")
				if tc.revoke {
					sameTime(t, h.at(2*time.Minute), got.RevokedAt, "RevokedAt keeps the first revocation")
				}
			}
		})
	}
}

// testRotateNextConflict: a Next that is already the hash of a token of
// the family is refused with ErrConflict and changes nothing, for a first
// presentation and for a retry. (A Next equal to another family's token is
// not tested: Next names the presented token's family, so that would take
// a SHA-256 collision, and a store that keeps each family apart, such as
// redisstore on a Cluster, cannot see other families atomically.)
func testRotateNextConflict(t *testing.T, h harness) {
	cases := []struct {
		name  string
		retry bool // present an already used token again, within the retry window
		next  func(presented, other, successor tokenstore.Hash) tokenstore.Hash
	}{
		{"PresentedToken", false, func(presented, _, _ tokenstore.Hash) tokenstore.Hash { return presented }},
		{"RetryExistingSuccessor", true, func(_, _, successor tokenstore.Hash) tokenstore.Hash { return successor }},
		{"RetryPresentedToken", true, func(presented, _, _ tokenstore.Hash) tokenstore.Hash { return presented }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			g := NewGrant(h.base)
			presented := CreateFamily(t, s, g)
			otherGrant := NewGrant(h.base)
			other := CreateFamily(t, s, otherGrant)
			refs := []tokenstore.TokenRef{Ref(presented)}
			var successor tokenstore.Hash
			if tc.retry {
				res := RequireRotate(t, s, Ref(presented), h.at(time.Minute))
				successor = res.Token.Hash
				refs = append(refs, Ref(res.Token))
			} else {
				successor = NewHash()
			}
			next := tc.next(presented.Hash, other.Hash, successor)
			// Every token that exists, as it was before.
			existing := append([]tokenstore.TokenRef{Ref(other)}, refs...)
			type state struct {
				g   tokenstore.Grant
				tok tokenstore.RefreshToken
			}
			want := make([]state, len(existing))
			for i, ref := range existing {
				want[i].g, want[i].tok = lookup(t, s, ref)
			}

			_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
				Presented: Ref(presented), Next: next, ClientID: ClientID,
				Now: h.at(90 * time.Second), RetryWindow: retryWindow,
			})
			requireRecordError(t, tokenstore.ErrConflict, err)

			for i, ref := range existing {
				gotGrant, gotTok := lookup(t, s, ref)
				sameGrant(t, want[i].g, gotGrant)
				sameToken(t, want[i].tok, gotTok)
			}
			requireFamilyInvariant(t, s, h.at(90*time.Second), refs...)
		})
	}
}
