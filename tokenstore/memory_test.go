package tokenstore_test

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) tokenstore.Store {
		return tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	})
}

func TestMemoryStoreConformanceSweepingEveryWrite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) tokenstore.Store {
		return tokenstore.NewMemoryStore(tokenstore.MemoryOptions{SweepInterval: time.Nanosecond})
	})
}

func TestMemoryStoreConcurrentInstances(t *testing.T) {
	s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	storetest.RunConcurrentInstances(t, []tokenstore.Store{s, s}, 20)
}

func TestMemoryStoreCodes(t *testing.T) {
	storetest.RunCodes(t, func(t *testing.T) storetest.FullStore {
		return tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	})
}

func TestMemoryStoreCodesSweepingEveryWrite(t *testing.T) {
	storetest.RunCodes(t, func(t *testing.T) storetest.FullStore {
		return tokenstore.NewMemoryStore(tokenstore.MemoryOptions{SweepInterval: time.Nanosecond})
	})
}

func TestMemoryStoreCodeInstances(t *testing.T) {
	s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	storetest.RunCodeInstances(t, []storetest.FullStore{s, s}, 20)
}

var t0 = time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC)

// noAutoSweep returns a store that removes records only when Sweep is called.
func noAutoSweep() *tokenstore.MemoryStore {
	return tokenstore.NewMemoryStore(tokenstore.MemoryOptions{SweepInterval: -1})
}

// TestMemoryStoreRetryClock: the retry window is measured on
// MemoryOptions.Clock, from the acceptance of the first presentation to
// the second one, whatever the Now of either request.
func TestMemoryStoreRetryClock(t *testing.T) {
	const window = 10 * time.Second
	cases := []struct {
		name    string
		elapsed time.Duration // on the store's clock
		nowGap  time.Duration // between the Now of the two requests
		retry   bool
	}{
		{"Immediately", 0, 0, true},
		{"JustInside", window - time.Nanosecond, 0, true},
		{"Exactly", window, 0, false},
		{"Later", time.Hour, 0, false},
		{"NowFarAheadClockInside", time.Second, time.Hour, true},
		{"NowFarBehindClockInside", time.Second, -time.Hour, true},
		{"NowUnchangedClockOutside", 2 * window, 0, false},
		{"ClockSetBackInside", -(window - time.Nanosecond), 0, true},
		{"ClockSetBackTooFar", -window, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := t0.Add(time.Minute)
			s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{Clock: func() time.Time { return clock }})
			g := storetest.NewGrant(t0)
			first := storetest.CreateFamily(t, s, g)
			now := t0.Add(2 * time.Hour)
			s1 := storetest.RequireRotate(t, s, storetest.Ref(first), now)

			clock = clock.Add(tc.elapsed)
			res, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
				Presented: storetest.Ref(first), Next: storetest.NewHash(), ClientID: storetest.ClientID,
				Now: now.Add(tc.nowGap), RetryWindow: window,
			})
			got, gerr := s.Grant(t.Context(), g.ID)
			require.NoError(t, gerr)
			_, old, lerr := s.LookupToken(t.Context(), storetest.Ref(s1.Token))
			require.NoError(t, lerr)
			if tc.retry {
				require.NoError(t, err)
				assert.True(t, res.Retry)
				assert.False(t, got.Revoked)
				assert.ErrorIs(t, old.Check(got, now), tokenstore.ErrReused, "the previous successor is superseded")
				return
			}
			require.ErrorIs(t, err, tokenstore.ErrReused)
			assert.True(t, got.Revoked)
		})
	}
}

// TestMemoryStoreRetryWindowFromFirstAcceptance: retries do not extend the
// window; it runs from the first accepted presentation.
func TestMemoryStoreRetryWindowFromFirstAcceptance(t *testing.T) {
	const window = 10 * time.Second
	clock := t0
	s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{Clock: func() time.Time { return clock }})
	g := storetest.NewGrant(t0)
	first := storetest.CreateFamily(t, s, g)
	storetest.RequireRotate(t, s, storetest.Ref(first), t0.Add(time.Minute))
	rotate := func() error {
		_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: storetest.Ref(first), Next: storetest.NewHash(), ClientID: storetest.ClientID,
			Now: t0.Add(time.Minute), RetryWindow: window,
		})
		return err
	}
	clock = clock.Add(6 * time.Second)
	require.NoError(t, rotate())
	clock = clock.Add(6 * time.Second)
	require.ErrorIs(t, rotate(), tokenstore.ErrReused)
}

func TestMemoryStoreSweep(t *testing.T) {
	ctx := t.Context()
	s := noAutoSweep()

	// A grant expiring at t0+1h, rotated once, and revoked.
	short := storetest.NewGrant(t0)
	short.ExpiresAt = t0.Add(time.Hour)
	shortFirst := storetest.CreateFamily(t, s, short)
	shortNext := storetest.RequireRotate(t, s, storetest.Ref(shortFirst), t0.Add(time.Minute))
	require.NoError(t, s.RevokeGrant(ctx, short.ID, t0.Add(2*time.Minute)))

	// A grant expiring at t0+24h whose tokens idle out after 30 minutes.
	long := storetest.NewGrant(t0)
	long.IdleTimeout = 30 * time.Minute
	longFirst := storetest.CreateFamily(t, s, long)                                          // expires t0+30m
	longNext := storetest.RequireRotate(t, s, storetest.Ref(longFirst), t0.Add(time.Minute)) // expires t0+31m
	longLast := storetest.RequireRotate(t, s, storetest.Ref(longNext.Token), t0.Add(20*time.Minute))

	require.NoError(t, s.UseOnce(ctx, "a", t0.Add(5*time.Minute), t0))
	require.NoError(t, s.UseOnce(ctx, "b", t0.Add(2*time.Hour), t0))

	n, err := s.Sweep(ctx, t0.Add(4*time.Minute))
	require.NoError(t, err)
	assert.Zero(t, n, "nothing has expired yet")

	// At t0+40m: the two idle-expired tokens of the long grant and key "a".
	n, err = s.Sweep(ctx, t0.Add(40*time.Minute))
	require.NoError(t, err)
	assert.EqualValues(t, 3, n)
	requireGone(t, s, longFirst.Hash, longNext.Token.Hash)
	_, _, err = s.LookupToken(ctx, storetest.Ref(longLast.Token))
	require.NoError(t, err, "the live token stays")
	_, _, err = s.LookupToken(ctx, storetest.Ref(shortFirst))
	require.NoError(t, err, "used tokens stay until they or their grant expire")
	require.NoError(t, s.UseOnce(ctx, "a", t0.Add(time.Hour), t0.Add(40*time.Minute)))

	// At t0+1h: the short grant (revoked, but kept until then) and its two
	// tokens, the last token of the long grant (idle since t0+50m), key "a"
	// (used again until t0+1h).
	n, err = s.Sweep(ctx, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.EqualValues(t, 5, n)
	requireGone(t, s, shortFirst.Hash, shortNext.Token.Hash, longLast.Token.Hash)
	_, err = s.Grant(ctx, short.ID)
	require.ErrorIs(t, err, tokenstore.ErrNotFound)
	_, err = s.Grant(ctx, long.ID)
	require.NoError(t, err)
	require.ErrorIs(t, s.UseOnce(ctx, "b", t0.Add(3*time.Hour), t0.Add(time.Hour)), tokenstore.ErrReplayed)

	// At t0+24h: everything.
	n, err = s.Sweep(ctx, long.ExpiresAt)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n, "the long grant and key b")
	_, err = s.Grant(ctx, long.ID)
	require.ErrorIs(t, err, tokenstore.ErrNotFound)
	require.NoError(t, s.UseOnce(ctx, "b", long.ExpiresAt.Add(time.Minute), long.ExpiresAt))
}

func requireGone(t *testing.T, s tokenstore.Store, hashes ...tokenstore.Hash) {
	t.Helper()
	for i, h := range hashes {
		_, _, err := s.LookupToken(t.Context(), tokenstore.TokenRef{Hash: h})
		require.ErrorIs(t, err, tokenstore.ErrNotFound, "token %d", i)
	}
}

func TestMemoryStoreAutomaticSweep(t *testing.T) {
	cases := []struct {
		name     string
		interval time.Duration
		swept    bool
	}{
		{"Default", 0, true},
		{"LongInterval", 48 * time.Hour, false},
		{"Disabled", -1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{SweepInterval: tc.interval})
			g := storetest.NewGrant(t0)
			first := storetest.CreateFamily(t, s, g) // the first write sweeps at t0

			// A write at a time after the grant's expiry.
			require.NoError(t, s.UseOnce(ctx, "k", g.ExpiresAt.Add(time.Hour), g.ExpiresAt))

			_, _, err := s.LookupToken(ctx, storetest.Ref(first))
			if tc.swept {
				require.ErrorIs(t, err, tokenstore.ErrNotFound)
			} else {
				require.NoError(t, err)
			}
		})
	}
}

// TestMemoryStoreSweepAfterWrite: the sweep a write triggers runs after it,
// so the write itself sees the expired records.
func TestMemoryStoreSweepAfterWrite(t *testing.T) {
	s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{SweepInterval: time.Nanosecond})
	g := storetest.NewGrant(t0)
	first := storetest.CreateFamily(t, s, g)

	_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: storetest.Ref(first), Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: g.ExpiresAt,
	})
	require.ErrorIs(t, err, tokenstore.ErrExpired)
	requireGone(t, s, first.Hash)
}

func TestMemoryStoreCopies(t *testing.T) {
	ctx := t.Context()
	s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	g := storetest.NewGrant(t0)
	want := string(g.LaunchContext)
	first := storetest.FirstToken(g)
	require.NoError(t, s.CreateGrant(ctx, g, first))
	g.LaunchContext[0] = 'X' // the caller's slice

	got, err := s.Grant(ctx, g.ID)
	require.NoError(t, err)
	require.Equal(t, want, string(got.LaunchContext))
	got.LaunchContext[0] = 'Y'

	lg, _, err := s.LookupToken(ctx, storetest.Ref(first))
	require.NoError(t, err)
	require.Equal(t, want, string(lg.LaunchContext))
	lg.LaunchContext[0] = 'Z'

	res := storetest.RequireRotate(t, s, storetest.Ref(first), t0.Add(time.Minute))
	require.Equal(t, want, string(res.Grant.LaunchContext))
	res.Grant.LaunchContext[0] = 'W'
	res.Grant.Revoked = true
	res.Token.Generation = 99

	got, err = s.Grant(ctx, g.ID)
	require.NoError(t, err)
	require.Equal(t, want, string(got.LaunchContext))
	require.False(t, got.Revoked)
	_, tok, err := s.LookupToken(ctx, storetest.Ref(res.Token))
	require.NoError(t, err)
	require.Equal(t, 2, tok.Generation)
}

func TestMemoryStoreCreateGrantInvalid(t *testing.T) {
	cases := []struct {
		name string
		edit func(g *tokenstore.Grant, first *tokenstore.RefreshToken)
	}{
		{"EmptyGrantID", func(g *tokenstore.Grant, first *tokenstore.RefreshToken) { g.ID, first.GrantID = "", "" }},
		{"FirstTokenOfAnotherGrant", func(_ *tokenstore.Grant, first *tokenstore.RefreshToken) { first.GrantID = "other" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
			g := storetest.NewGrant(t0)
			first := storetest.FirstToken(g)
			tc.edit(&g, &first)
			err := s.CreateGrant(t.Context(), g, first)
			require.Error(t, err)
			require.False(t, tokenstore.IsRecordError(err))
			_, _, err = s.LookupToken(t.Context(), storetest.Ref(first))
			require.ErrorIs(t, err, tokenstore.ErrNotFound)
		})
	}
}

func TestMemoryStoreFirstGenerationDefault(t *testing.T) {
	s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	g := storetest.NewGrant(t0)
	first := storetest.FirstToken(g)
	first.Generation = 0
	require.NoError(t, s.CreateGrant(t.Context(), g, first))
	_, tok, err := s.LookupToken(t.Context(), storetest.Ref(first))
	require.NoError(t, err)
	require.Equal(t, 1, tok.Generation)
}

func TestMemoryStoreCapacity(t *testing.T) {
	t.Run("MaxGrants", func(t *testing.T) {
		s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{MaxGrants: 2, SweepInterval: -1})
		for range 2 {
			g := storetest.NewGrant(t0)
			g.ExpiresAt = t0.Add(time.Hour)
			storetest.CreateFamily(t, s, g)
		}
		g := storetest.NewGrant(t0.Add(time.Minute))
		err := s.CreateGrant(t.Context(), g, storetest.FirstToken(g))
		require.ErrorIs(t, err, tokenstore.ErrCapacity)
		require.False(t, tokenstore.IsRecordError(err))

		// Once the others have expired, there is room again.
		g = storetest.NewGrant(t0.Add(time.Hour))
		storetest.CreateFamily(t, s, g)
	})
	t.Run("MaxOneTimeKeys", func(t *testing.T) {
		ctx := t.Context()
		s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{MaxOneTimeKeys: 2, SweepInterval: -1})
		exp := t0.Add(5 * time.Minute)
		require.NoError(t, s.UseOnce(ctx, "a", exp, t0))
		require.NoError(t, s.UseOnce(ctx, "b", exp, t0))
		require.ErrorIs(t, s.UseOnce(ctx, "a", exp, t0), tokenstore.ErrReplayed, "a full store still detects replays")
		err := s.UseOnce(ctx, "c", exp, t0)
		require.ErrorIs(t, err, tokenstore.ErrCapacity)
		require.False(t, tokenstore.IsRecordError(err))

		require.NoError(t, s.UseOnce(ctx, "c", exp.Add(5*time.Minute), exp), "expired keys make room")
	})
}

func TestMemoryStoreUseOnceAlreadyExpired(t *testing.T) {
	s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	require.NoError(t, s.UseOnce(t.Context(), "k", t0, t0))
	require.NoError(t, s.UseOnce(t.Context(), "k", t0, t0), "an already expired key is not recorded")
}

func TestMemoryStoreSweepCanceled(t *testing.T) {
	s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Sweep(ctx, t0)
	require.ErrorIs(t, err, context.Canceled)
}

// hashOf returns a distinct Hash for i without the cost of NewToken.
func hashOf(i uint64) tokenstore.Hash {
	var h tokenstore.Hash
	binary.BigEndian.PutUint64(h[:], i)
	return h
}

func BenchmarkMemoryRotate(b *testing.B) {
	ctx := context.Background()
	s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	g := storetest.NewGrant(t0)
	g.IdleTimeout = time.Hour
	first := storetest.FirstToken(g)
	first.Hash = hashOf(0)
	if err := s.CreateGrant(ctx, g, first); err != nil {
		b.Fatal(err)
	}
	now := t0.Add(time.Second)
	b.ReportAllocs()
	b.ResetTimer()
	var i uint64
	for b.Loop() {
		_, err := s.Rotate(ctx, tokenstore.RotateRequest{
			Presented: tokenstore.TokenRef{Hash: hashOf(i)}, Next: hashOf(i + 1), ClientID: storetest.ClientID, Now: now,
		})
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkMemoryRotateParallel(b *testing.B) {
	ctx := context.Background()
	s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	now := t0.Add(time.Second)
	b.ReportAllocs()
	var family atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		base := family.Add(1) << 40
		g := storetest.NewGrant(t0)
		first := storetest.FirstToken(g)
		first.Hash = hashOf(base)
		if err := s.CreateGrant(ctx, g, first); err != nil {
			b.Error(err)
			return
		}
		for i := base; pb.Next(); i++ {
			_, err := s.Rotate(ctx, tokenstore.RotateRequest{
				Presented: tokenstore.TokenRef{Hash: hashOf(i)}, Next: hashOf(i + 1), ClientID: storetest.ClientID, Now: now,
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
