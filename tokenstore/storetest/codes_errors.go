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

func codeErrorTests() []codeTest {
	return []codeTest{
		{"DistinctSentinels", testCodeDistinctSentinels},
		{"CanceledContext", testCodeCanceledContext},
	}
}

// testCodeDistinctSentinels provokes every record error of the code
// methods and checks that each matches its own sentinel and no other.
func testCodeDistinctSentinels(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	ctx := t.Context()
	got := map[error][]error{}
	add := func(want, err error) { got[want] = append(got[want], err) }

	c := NewCode(h.base)
	createCode(t, s, c)
	add(tokenstore.ErrConflict, s.CreateCode(ctx, c))
	req := Redemption(c, h.base)
	req.Code.Hash = NewHash()
	_, err := s.RedeemCode(ctx, req)
	add(tokenstore.ErrNotFound, err)
	_, err = redeem(t, s, c, ClientID, c.ExpiresAt)
	add(tokenstore.ErrExpired, err)
	_, err = redeem(t, s, c, "another-client", h.base)
	add(tokenstore.ErrClientMismatch, err)
	_, err = redeem(t, s, c, ClientID, h.base)
	add(tokenstore.ErrReused, err)

	for want, edit := range map[error]func(r *tokenstore.RedeemRequest){
		tokenstore.ErrRedirectMismatch:  func(r *tokenstore.RedeemRequest) { r.RedirectURI = "https://evil.example/callback" },
		tokenstore.ErrChallengeMismatch: func(r *tokenstore.RedeemRequest) { r.CodeChallenge = "wrong" },
	} {
		c := NewCode(h.base)
		createCode(t, s, c)
		req := Redemption(c, h.base)
		edit(&req)
		_, err = s.RedeemCode(ctx, req)
		add(want, err)
	}
	taken := NewCode(h.base)
	createCode(t, s, taken)
	CreateFamily(t, s, GrantFromCode(taken, h.base))
	_, err = redeem(t, s, taken, ClientID, h.base)
	add(tokenstore.ErrConflict, err)

	l := NewLaunch(h.base)
	require.NoError(t, s.CreateLaunch(ctx, l))
	add(tokenstore.ErrConflict, s.CreateLaunch(ctx, l))
	_, err = s.ConsumeLaunch(ctx, LaunchRef(l), l.ExpiresAt)
	add(tokenstore.ErrExpired, err)
	_, err = s.ConsumeLaunch(ctx, LaunchRef(l), h.base)
	add(tokenstore.ErrNotFound, err)

	for want, errs := range got {
		for _, err := range errs {
			require.ErrorIs(t, err, want)
			assert.True(t, tokenstore.IsRecordError(err), "IsRecordError(%v)", err)
			for _, other := range sentinels() {
				if other != want {
					assert.False(t, errors.Is(err, other), "%v must not match %v", err, other)
				}
			}
		}
	}
}

// testCodeCanceledContext: a canceled context makes every method fail
// with an error that is not a record error, and changes nothing.
func testCodeCanceledContext(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	l := NewLaunch(h.base)
	require.NoError(t, s.CreateLaunch(t.Context(), l))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	c2, l2 := NewCode(h.base), NewLaunch(h.base)
	_, err1 := s.RedeemCode(ctx, Redemption(c, h.at(time.Second)))
	_, err2 := s.ConsumeLaunch(ctx, LaunchRef(l), h.at(time.Second))
	calls := map[string]error{
		"CreateCode":    s.CreateCode(ctx, c2),
		"RedeemCode":    err1,
		"CreateLaunch":  s.CreateLaunch(ctx, l2),
		"ConsumeLaunch": err2,
	}
	for name, err := range calls {
		require.Error(t, err, name)
		require.False(t, tokenstore.IsRecordError(err), "%s: a canceled context is not a record error: %v", name, err)
	}
	requireRedeem(t, s, c, h.at(2*time.Second))
	requireConsume(t, s, l, h.at(2*time.Second))
}
