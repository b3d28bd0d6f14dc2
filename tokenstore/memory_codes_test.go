package tokenstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/storetest"
)

// TestMemoryStoreSweepCodes: codes are kept, used or not, until
// ExpiresAt + CodeRetention; launches until ExpiresAt; the placeholder of
// a reused code (consumed by a refused presentation) until its own
// ExpiresAt.
func TestMemoryStoreSweepCodes(t *testing.T) {
	ctx := t.Context()
	s := noAutoSweep()

	unused := storetest.NewCode(t0) // expires t0+1m
	reused := storetest.NewCode(t0)
	for _, c := range []tokenstore.AuthorizationCode{unused, reused} {
		require.NoError(t, s.CreateCode(ctx, c))
	}
	refused := storetest.Redemption(reused, t0)
	refused.CodeChallenge = "wrong"
	_, err := s.RedeemCode(ctx, refused)
	require.ErrorIs(t, err, tokenstore.ErrChallengeMismatch)
	_, err = s.RedeemCode(ctx, storetest.Redemption(reused, t0.Add(30*time.Second)))
	require.ErrorIs(t, err, tokenstore.ErrReused) // placeholder until t0+11m
	launch := storetest.NewLaunch(t0)             // expires t0+5m
	require.NoError(t, s.CreateLaunch(ctx, launch))

	n, err := s.Sweep(ctx, t0.Add(5*time.Minute-time.Millisecond))
	require.NoError(t, err)
	assert.Zero(t, n, "nothing has expired yet")

	n, err = s.Sweep(ctx, t0.Add(5*time.Minute))
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "the launch")
	_, err = s.ConsumeLaunch(ctx, storetest.LaunchRef(launch), t0)
	require.ErrorIs(t, err, tokenstore.ErrNotFound)

	// Just before the codes' retention ends, reuse is still detected.
	before := unused.ExpiresAt.Add(tokenstore.CodeRetention - time.Millisecond)
	n, err = s.Sweep(ctx, before)
	require.NoError(t, err)
	assert.Zero(t, n)
	_, err = s.RedeemCode(ctx, storetest.Redemption(reused, before))
	require.ErrorIs(t, err, tokenstore.ErrReused)

	n, err = s.Sweep(ctx, unused.ExpiresAt.Add(tokenstore.CodeRetention))
	require.NoError(t, err)
	assert.EqualValues(t, 3, n, "both codes and the placeholder grant")
	for _, c := range []tokenstore.AuthorizationCode{unused, reused} {
		_, err = s.RedeemCode(ctx, storetest.Redemption(c, t0))
		require.ErrorIs(t, err, tokenstore.ErrNotFound)
		_, err = s.Grant(ctx, c.GrantID)
		require.ErrorIs(t, err, tokenstore.ErrNotFound)
	}
	// The grant ID of a swept code is free again.
	require.NoError(t, s.CreateCode(ctx, unused))
}

func TestMemoryStoreCodeCapacity(t *testing.T) {
	t.Run("MaxCodes", func(t *testing.T) {
		ctx := t.Context()
		s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{MaxCodes: 2, SweepInterval: -1})
		for range 2 {
			require.NoError(t, s.CreateCode(ctx, storetest.NewCode(t0)))
		}
		err := s.CreateCode(ctx, storetest.NewCode(t0))
		require.ErrorIs(t, err, tokenstore.ErrCapacity)
		require.False(t, tokenstore.IsRecordError(err))

		later := t0.Add(storetest.CodeLifetime + tokenstore.CodeRetention)
		require.NoError(t, s.CreateCode(ctx, storetest.NewCode(later)), "expired codes make room")
	})
	t.Run("MaxGrants", func(t *testing.T) {
		// The grant of a redemption counts: a full store refuses it and
		// leaves the code unused.
		ctx := t.Context()
		s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{MaxGrants: 1, SweepInterval: -1})
		g := storetest.NewGrant(t0)
		g.ExpiresAt = t0.Add(time.Second)
		storetest.CreateFamily(t, s, g)
		c := storetest.NewCode(t0)
		require.NoError(t, s.CreateCode(ctx, c))
		_, err := s.RedeemCode(ctx, storetest.Redemption(c, t0))
		require.ErrorIs(t, err, tokenstore.ErrCapacity)
		require.False(t, tokenstore.IsRecordError(err))
		_, err = s.Grant(ctx, c.GrantID)
		require.ErrorIs(t, err, tokenstore.ErrNotFound)

		_, err = s.RedeemCode(ctx, storetest.Redemption(c, t0.Add(time.Second)))
		require.NoError(t, err, "the expired grant makes room, and the code was not consumed")
	})
	t.Run("MaxLaunches", func(t *testing.T) {
		ctx := t.Context()
		s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{MaxLaunches: 2, SweepInterval: -1})
		for range 2 {
			require.NoError(t, s.CreateLaunch(ctx, storetest.NewLaunch(t0)))
		}
		err := s.CreateLaunch(ctx, storetest.NewLaunch(t0))
		require.ErrorIs(t, err, tokenstore.ErrCapacity)
		require.False(t, tokenstore.IsRecordError(err))

		require.NoError(t, s.CreateLaunch(ctx, storetest.NewLaunch(t0.Add(storetest.LaunchLifetime))), "expired launches make room")
	})
}

// TestMemoryStoreCodeCopies: records are copied in and out.
func TestMemoryStoreCodeCopies(t *testing.T) {
	ctx := t.Context()
	s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	c := storetest.NewCode(t0)
	want := string(c.LaunchContext)
	require.NoError(t, s.CreateCode(ctx, c))
	c.LaunchContext[0] = 'X'
	l := storetest.NewLaunch(t0)
	wantLaunch := string(l.LaunchContext)
	require.NoError(t, s.CreateLaunch(ctx, l))
	l.LaunchContext[0] = 'X'

	got, err := s.RedeemCode(ctx, storetest.Redemption(c, t0))
	require.NoError(t, err)
	require.Equal(t, want, string(got.Code.LaunchContext))
	require.Equal(t, want, string(got.Grant.LaunchContext))
	got.Code.LaunchContext[0], got.Grant.LaunchContext[0] = 'Y', 'Z'
	g, err := s.Grant(ctx, c.GrantID)
	require.NoError(t, err)
	require.Equal(t, want, string(g.LaunchContext), "the grant shares no memory with the result")
	gotLaunch, err := s.ConsumeLaunch(ctx, storetest.LaunchRef(l), t0)
	require.NoError(t, err)
	require.Equal(t, wantLaunch, string(gotLaunch.LaunchContext))
}

func TestMemoryStoreCreateCodeInvalid(t *testing.T) {
	c := storetest.NewCode(t0)
	c.UsedAt = t0
	s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	err := s.CreateCode(t.Context(), c)
	require.Error(t, err)
	require.False(t, tokenstore.IsRecordError(err))
}

func BenchmarkMemoryRedeemCode(b *testing.B) {
	storetest.BenchmarkRedeemCode(b, tokenstore.NewMemoryStore(tokenstore.MemoryOptions{}))
}
