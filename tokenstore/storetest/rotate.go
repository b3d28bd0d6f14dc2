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
		Presented: first.Hash, Next: next, ClientID: ClientID, Now: now,
	})
	require.NoError(t, err)
	assert.False(t, res.Grace, "Grace")
	sameGrant(t, g, res.Grant)
	want := tokenstore.RefreshToken{
		Hash: next, GrantID: g.ID, Generation: 2, IssuedAt: now, ExpiresAt: g.NextExpiry(now),
	}
	sameToken(t, want, res.Token)

	_, old := lookup(t, s, first.Hash)
	used := first
	used.UsedAt = now
	sameToken(t, used, old)
	_, stored := lookup(t, s, next)
	sameToken(t, want, stored)

	// The new token is usable; so is the last millisecond of the grant.
	res = RequireRotate(t, s, next, g.ExpiresAt.Add(-Precision))
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

			res := RequireRotate(t, s, first.Hash, h.at(tc.rotateAt))
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

	hashes := []tokenstore.Hash{first.Hash}
	for i := 1; i <= 5; i++ {
		now := h.at(time.Duration(i) * 10 * time.Minute)
		res := RequireRotate(t, s, hashes[len(hashes)-1], now)
		require.Equal(t, i+1, res.Token.Generation, "generation after %d rotations", i)
		sameTime(t, now, res.Token.IssuedAt, "IssuedAt")
		sameTime(t, now.Add(time.Hour), res.Token.ExpiresAt, "ExpiresAt")
		require.Equal(t, g.ID, res.Token.GrantID)
		_, prev := lookup(t, s, hashes[len(hashes)-1])
		sameTime(t, now, prev.UsedAt, "UsedAt of the presented token")
		hashes = append(hashes, res.Token.Hash)
	}

	now := h.at(time.Hour)
	for i, hash := range hashes {
		gotGrant, tok := lookup(t, s, hash)
		require.Equal(t, i+1, tok.Generation)
		require.False(t, gotGrant.Revoked)
		if i < len(hashes)-1 {
			require.False(t, tok.UsedAt.IsZero(), "generation %d is used", i+1)
		} else {
			require.NoError(t, tok.Check(gotGrant, now), "the last token is active")
		}
	}
}

func testRotateUnknown(t *testing.T, h harness) {
	s := h.newStore(t)
	CreateFamily(t, s, NewGrant(h.base))
	next := NewHash()
	_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: NewHash(), Next: next, ClientID: ClientID, Now: h.at(time.Minute),
	})
	requireRecordError(t, tokenstore.ErrNotFound, err)
	requireNotFound(t, s, next, "Next must not be created")
}

func testRotateClientMismatch(t *testing.T, h harness) {
	cases := []struct {
		name string
		used bool // present an already rotated token
	}{
		{"UnusedToken", false},
		{"UsedToken", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			g := NewGrant(h.base)
			presented := CreateFamily(t, s, g).Hash
			if tc.used {
				res := RequireRotate(t, s, presented, h.at(time.Minute))
				presented = res.Token.Hash
				RequireRotate(t, s, presented, h.at(2*time.Minute))
			}
			wantGrant, wantTok := lookup(t, s, presented)

			next := NewHash()
			_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
				Presented: presented, Next: next, ClientID: "another-client", Now: h.at(time.Hour),
			})
			requireRecordError(t, tokenstore.ErrClientMismatch, err)

			gotGrant, gotTok := lookup(t, s, presented)
			sameGrant(t, wantGrant, gotGrant)
			sameToken(t, wantTok, gotTok)
			requireNotFound(t, s, next, "Next must not be created")
			if !tc.used {
				res := RequireRotate(t, s, presented, h.at(time.Hour))
				assert.Equal(t, 2, res.Token.Generation)
			}
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
		Presented: first.Hash, Next: next, ClientID: ClientID, Now: h.at(2 * time.Minute),
	})
	requireRecordError(t, tokenstore.ErrRevoked, err)
	requireNotFound(t, s, next, "Next must not be created")
	_, tok := lookup(t, s, first.Hash)
	require.True(t, tok.UsedAt.IsZero(), "a refused token is not marked used")
}

func testRotateIdleExpiry(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	g.IdleTimeout = 30 * time.Minute
	first := CreateFamily(t, s, g)
	sameTime(t, h.at(30*time.Minute), first.ExpiresAt, "first token's ExpiresAt")

	res := RequireRotate(t, s, first.Hash, h.at(29*time.Minute))
	sameTime(t, h.at(59*time.Minute), res.Token.ExpiresAt, "ExpiresAt")

	next := NewHash()
	_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: res.Token.Hash, Next: next, ClientID: ClientID, Now: h.at(59 * time.Minute),
	})
	requireRecordError(t, tokenstore.ErrExpired, err)
	requireNotFound(t, s, next, "Next must not be created")
	require.False(t, grant(t, s, g.ID).Revoked, "expiry does not revoke")
}

// testRotateRuleOrder checks the errors of Rotate when several rules apply,
// and which of them change the grant.
func testRotateRuleOrder(t *testing.T, h harness) {
	const idle = 30 * time.Minute
	// Every case starts from a grant with a 30-minute idle timeout whose
	// first token has been rotated once at base+1m: "used" is that first
	// token (expiring at base+30m), "fresh" its successor (expiring at
	// base+31m).
	cases := []struct {
		name        string
		revoke      bool
		presentUsed bool
		client      string
		at          time.Duration
		want        error
		wantRevoked bool
	}{
		{"FreshGrantExpiryExactly", false, false, ClientID, GrantLifetime, tokenstore.ErrExpired, false},
		{"FreshIdleExpiryExactly", false, false, ClientID, 31 * time.Minute, tokenstore.ErrExpired, false},
		{"FreshLongAfterExpiry", false, false, ClientID, GrantLifetime + time.Hour, tokenstore.ErrExpired, false},
		{"UsedAndExpired", false, true, ClientID, 30 * time.Minute, tokenstore.ErrExpired, false},
		{"UsedNotExpired", false, true, ClientID, 29 * time.Minute, tokenstore.ErrReused, true},
		{"RevokedAndExpired", true, false, ClientID, GrantLifetime, tokenstore.ErrRevoked, true},
		{"RevokedAndUsed", true, true, ClientID, 10 * time.Minute, tokenstore.ErrRevoked, true},
		{"OtherClientAndRevoked", true, false, "another-client", 10 * time.Minute, tokenstore.ErrClientMismatch, true},
		{"OtherClientAndExpired", false, false, "another-client", GrantLifetime, tokenstore.ErrClientMismatch, false},
		{"OtherClientAndUsed", false, true, "another-client", 10 * time.Minute, tokenstore.ErrClientMismatch, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			g := NewGrant(h.base)
			g.IdleTimeout = idle
			first := CreateFamily(t, s, g)
			fresh := RequireRotate(t, s, first.Hash, h.at(time.Minute)).Token
			if tc.revoke {
				require.NoError(t, s.RevokeGrant(t.Context(), g.ID, h.at(2*time.Minute)))
			}
			presented := fresh.Hash
			if tc.presentUsed {
				presented = first.Hash
			}

			next := NewHash()
			_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
				Presented: presented, Next: next, ClientID: tc.client, Now: h.at(tc.at),
			})
			requireRecordError(t, tc.want, err)
			requireNotFound(t, s, next, "Next must not be created")
			if tc.at < GrantLifetime { // the records may be removed once the grant has expired
				require.Equal(t, tc.wantRevoked, grant(t, s, g.ID).Revoked, "Grant.Revoked")
			}
		})
	}
}

// testRotateNextConflict: a Next that is already the hash of a token is
// refused with ErrConflict and changes nothing.
func testRotateNextConflict(t *testing.T, h harness) {
	cases := []struct {
		name  string
		grace bool // present an already used token within the grace period
		next  func(presented, other, successor tokenstore.Hash) tokenstore.Hash
	}{
		{"OtherFamilyToken", false, func(_, other, _ tokenstore.Hash) tokenstore.Hash { return other }},
		{"PresentedToken", false, func(presented, _, _ tokenstore.Hash) tokenstore.Hash { return presented }},
		{"WithinGraceExistingSuccessor", true, func(_, _, successor tokenstore.Hash) tokenstore.Hash { return successor }},
		{"WithinGraceOtherFamilyToken", true, func(_, other, _ tokenstore.Hash) tokenstore.Hash { return other }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			g := NewGrant(h.base)
			presented := CreateFamily(t, s, g)
			otherGrant := NewGrant(h.base)
			other := CreateFamily(t, s, otherGrant)
			var successor tokenstore.Hash
			if tc.grace {
				successor = RequireRotate(t, s, presented.Hash, h.at(time.Minute)).Token.Hash
			} else {
				successor = NewHash()
			}
			next := tc.next(presented.Hash, other.Hash, successor)
			wantGrant, wantTok := lookup(t, s, presented.Hash)
			wantOtherGrant, wantOther := lookup(t, s, next)

			_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
				Presented: presented.Hash, Next: next, ClientID: ClientID,
				Now: h.at(90 * time.Second), GracePeriod: time.Minute,
			})
			requireRecordError(t, tokenstore.ErrConflict, err)

			gotGrant, gotTok := lookup(t, s, presented.Hash)
			sameGrant(t, wantGrant, gotGrant)
			sameToken(t, wantTok, gotTok)
			gotOtherGrant, gotOther := lookup(t, s, next)
			sameGrant(t, wantOtherGrant, gotOtherGrant)
			sameToken(t, wantOther, gotOther)
		})
	}
}
