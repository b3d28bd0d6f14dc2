package pgstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/storetest"
)

// TestSweepCodes: Sweep deletes codes, used or not, once CodeRetention
// has passed after their expiry, the placeholder grant of a reused code
// (consumed by a refused presentation) at its own expiry, and launches at
// their expiry.
func TestSweepCodes(t *testing.T) {
	s := newStore(t, newPool(t, nil))
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)

	unused, reused := storetest.NewCode(now), storetest.NewCode(now) // expire at now+1m
	for _, c := range []tokenstore.AuthorizationCode{unused, reused} {
		require.NoError(t, s.CreateCode(ctx, c))
	}
	redeem := func(c tokenstore.AuthorizationCode, at time.Time) error {
		_, err := s.RedeemCode(ctx, storetest.Redemption(c, at))
		return err
	}
	refused := storetest.Redemption(reused, now)
	refused.RedirectURI = "https://evil.example/callback"
	_, err := s.RedeemCode(ctx, refused)
	require.ErrorIs(t, err, tokenstore.ErrRedirectMismatch)
	require.ErrorIs(t, redeem(reused, now.Add(30*time.Second)), tokenstore.ErrReused) // placeholder until now+11m
	launch := storetest.NewLaunch(now)                                                // expires at now+5m
	require.NoError(t, s.CreateLaunch(ctx, launch))

	n, err := s.Sweep(ctx, launch.ExpiresAt.Add(-time.Millisecond))
	require.NoError(t, err)
	require.Zero(t, n, "nothing has expired yet")

	n, err = s.Sweep(ctx, launch.ExpiresAt)
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "the launch")
	_, err = s.ConsumeLaunch(ctx, storetest.LaunchRef(launch), now)
	require.ErrorIs(t, err, tokenstore.ErrNotFound)

	end := unused.ExpiresAt.Add(tokenstore.CodeRetention)
	n, err = s.Sweep(ctx, end.Add(-time.Millisecond))
	require.NoError(t, err)
	require.Zero(t, n)
	require.ErrorIs(t, redeem(reused, end.Add(-time.Millisecond)), tokenstore.ErrReused, "reuse is detected until the end of the retention")

	n, err = s.Sweep(ctx, end)
	require.NoError(t, err)
	require.EqualValues(t, 3, n, "both codes and the placeholder grant")
	for _, c := range []tokenstore.AuthorizationCode{unused, reused} {
		require.ErrorIs(t, redeem(c, now), tokenstore.ErrNotFound)
		_, err = s.Grant(ctx, c.GrantID)
		require.ErrorIs(t, err, tokenstore.ErrNotFound)
	}
	require.NoError(t, s.CreateCode(ctx, unused), "the grant ID of a swept code is free again")
}
