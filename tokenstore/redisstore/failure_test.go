package redisstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/internal/testenv"
	"github.com/smartauth/smartauth/tokenstore/redisstore"
	"github.com/smartauth/smartauth/tokenstore/storetest"
)

// proxiedClient returns a client of the test Redis whose connections go
// through a Proxy, with a pool of one connection.
func proxiedClient(t *testing.T, edit func(*redis.Options)) (*redis.Client, *testenv.Proxy) {
	t.Helper()
	opts := redisOptions(t)
	proxy := testenv.StartProxy(t, opts.Addr)
	return newClient(t, func(o *redis.Options) {
		o.Addr = proxy.Addr()
		o.PoolSize = 1
		o.MaxRetryBackoff = 10 * time.Millisecond
		if edit != nil {
			edit(o)
		}
	}), proxy
}

// requireStoreError requires err to be a failure of the store: an error
// that is none of the record errors.
func requireStoreError(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.False(t, tokenstore.IsRecordError(err), "IsRecordError(%v)", err)
}

// requireRotatesOnce requires the token to rotate now, and its next
// presentation to be reuse.
func requireRotatesOnce(t *testing.T, s tokenstore.Store, ref tokenstore.TokenRef, now time.Time) {
	t.Helper()
	_, tok, err := s.LookupToken(t.Context(), ref)
	require.NoError(t, err)
	require.True(t, tok.UsedAt.IsZero(), "the failed rotation left the token unused")
	res := storetest.RequireRotate(t, s, ref, now)
	require.Equal(t, 2, res.Token.Generation)
	_, err = s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: ref, Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now.Add(time.Second),
	})
	require.ErrorIs(t, err, tokenstore.ErrReused)
}

// TestServerDown: while Redis is unreachable every method fails with a
// store error, nothing is half written, and the token rotates exactly once
// afterwards.
func TestServerDown(t *testing.T) {
	c, proxy := proxiedClient(t, nil)
	s := redisstore.New(c, redisstore.Options{Prefix: newPrefix(t, newClient(t, nil))})
	now := time.Now().UTC().Truncate(time.Millisecond)
	g := storetest.NewGrant(now)
	first := storetest.CreateFamily(t, s, g)

	proxy.Down()
	ctx := t.Context()
	_, err := s.Rotate(ctx, tokenstore.RotateRequest{
		Presented: storetest.Ref(first), Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now.Add(time.Minute),
	})
	requireStoreError(t, err)
	_, err = s.Rotate(ctx, tokenstore.RotateRequest{
		Presented: tokenstore.TokenRef{Hash: first.Hash}, Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now.Add(time.Minute),
	})
	requireStoreError(t, err) // the index read fails
	_, _, err = s.LookupToken(ctx, storetest.Ref(first))
	requireStoreError(t, err)
	_, err = s.Grant(ctx, g.ID)
	requireStoreError(t, err)
	g2 := storetest.NewGrant(now)
	requireStoreError(t, s.CreateGrant(ctx, g2, storetest.FirstToken(g2)))
	requireStoreError(t, s.RevokeGrant(ctx, g.ID, now))
	requireStoreError(t, s.UseOnce(ctx, "k", now.Add(time.Minute), now))

	proxy.Up()
	requireRotatesOnce(t, s, storetest.Ref(first), now.Add(2*time.Minute))
}

// TestConnectionKilled: a connection killed by the server (CLIENT KILL) is
// replaced transparently by go-redis; the rotation happens exactly once.
func TestConnectionKilled(t *testing.T) {
	c := newClient(t, func(o *redis.Options) { o.PoolSize = 1 })
	admin := newClient(t, nil)
	s := redisstore.New(c, redisstore.Options{Prefix: newPrefix(t, admin)})
	now := time.Now().UTC().Truncate(time.Millisecond)
	first := storetest.CreateFamily(t, s, storetest.NewGrant(now))

	id, err := c.ClientID(t.Context()).Result()
	require.NoError(t, err)
	require.NoError(t, admin.Do(t.Context(), "CLIENT", "KILL", "ID", strconv.FormatInt(id, 10)).Err())

	requireRotatesOnce(t, s, storetest.Ref(first), now.Add(time.Minute))
}

// TestReplyLost: the script ran but its reply was lost.
func TestReplyLost(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)

	// go-redis resends the script; the store recognises the resent
	// rotation and answers with the successor it created.
	t.Run("ClientRetries", func(t *testing.T) {
		c, proxy := proxiedClient(t, nil)
		s := redisstore.New(c, redisstore.Options{Prefix: newPrefix(t, newClient(t, nil))})
		g := storetest.NewGrant(now)
		first := storetest.CreateFamily(t, s, g) // also loads the scripts
		storetest.RequireRotate(t, s, storetest.Ref(storetest.CreateFamily(t, s, storetest.NewGrant(now))), now)

		proxy.DropNextReply()
		next := storetest.NewHash()
		res, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: storetest.Ref(first), Next: next, ClientID: storetest.ClientID, Now: now.Add(time.Minute),
		})
		require.NoError(t, err)
		require.Equal(t, next, res.Token.Hash)
		require.Equal(t, 2, res.Token.Generation)
		require.False(t, res.Retry)

		_, tok, err := s.LookupToken(t.Context(), storetest.Ref(first))
		require.NoError(t, err)
		require.Equal(t, now.Add(time.Minute), tok.UsedAt)
		got, err := s.Grant(t.Context(), g.ID)
		require.NoError(t, err)
		require.False(t, got.Revoked)
		storetest.RequireRotate(t, s, storetest.Ref(res.Token), now.Add(2*time.Minute))
	})

	// Without retries the caller sees a store error; the rotation has
	// happened, so presenting the token again is reuse unless it is a
	// retry within the window.
	t.Run("NoRetries", func(t *testing.T) {
		c, proxy := proxiedClient(t, func(o *redis.Options) { o.MaxRetries = -1 })
		s := redisstore.New(c, redisstore.Options{Prefix: newPrefix(t, newClient(t, nil))})
		first := storetest.CreateFamily(t, s, storetest.NewGrant(now))
		storetest.RequireRotate(t, s, storetest.Ref(storetest.CreateFamily(t, s, storetest.NewGrant(now))), now)

		proxy.DropNextReply()
		lost := storetest.NewHash()
		_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: storetest.Ref(first), Next: lost, ClientID: storetest.ClientID, Now: now.Add(time.Minute),
		})
		requireStoreError(t, err)

		res, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: storetest.Ref(first), Next: storetest.NewHash(), ClientID: storetest.ClientID,
			Now: now.Add(time.Minute + time.Second), RetryWindow: time.Minute,
		})
		require.NoError(t, err)
		require.True(t, res.Retry)
		requireOneLive(t, s, now.Add(2*time.Minute), storetest.Ref(first),
			tokenstore.TokenRef{Hash: lost, GrantID: first.GrantID}, storetest.Ref(res.Token))
	})
}

// TestUseOnceReplyLost: the UseOnce script ran but its reply was lost.
// The call succeeds (go-redis resends it, and the resend finds the call's
// own nonce) or fails with a store error (no resend), never
// ErrReplayed; another call with the key is a replay either way.
func TestUseOnceReplyLost(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	cases := []struct {
		name       string
		maxRetries int
		wantErr    bool
	}{
		{"ClientRetries", 0, false}, // default: 3 retries
		{"NoRetries", -1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, proxy := proxiedClient(t, func(o *redis.Options) { o.MaxRetries = tc.maxRetries })
			s := redisstore.New(c, redisstore.Options{Prefix: newPrefix(t, newClient(t, nil))})
			require.NoError(t, s.UseOnce(t.Context(), "load-the-script", now.Add(time.Minute), now))

			proxy.DropNextReply()
			err := s.UseOnce(t.Context(), "jti:app:lost", now.Add(time.Minute), now)
			if tc.wantErr {
				requireStoreError(t, err)
			} else {
				require.NoError(t, err)
			}
			require.ErrorIs(t, s.UseOnce(t.Context(), "jti:app:lost", now.Add(time.Minute), now.Add(time.Second)), tokenstore.ErrReplayed)
		})
	}
}

// TestRotateServerPaused: Redis stops answering (SIGSTOP) while a Rotate is
// in flight. The call returns a store error when its context's deadline
// passes (the client has ContextTimeoutEnabled; its ReadTimeout is a
// minute). Once Redis continues, the queued script runs and marks the
// token used; the client's retry within the window then succeeds as a
// retry, and exactly one token of the family is live.
func TestRotateServerPaused(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := srv.Client(t, func(o *redis.Options) { o.ReadTimeout = time.Minute })
	s := redisstore.New(c, redisstore.Options{})
	now := time.Now().UTC().Truncate(time.Millisecond)
	g := storetest.NewGrant(now)
	first := storetest.Ref(storetest.CreateFamily(t, s, g))
	// Load the rotation script: a first EVALSHA queued while Redis is
	// paused would fail with NOSCRIPT, its EVAL fallback never sent.
	storetest.RequireRotate(t, s, storetest.Ref(storetest.CreateFamily(t, s, storetest.NewGrant(now))), now)

	require.NoError(t, srv.Pause())
	resumed := false
	t.Cleanup(func() {
		if !resumed {
			_ = srv.Resume()
		}
	})
	const deadline = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	lost := storetest.NewHash()
	done := make(chan error, 1)
	go func() {
		_, err := s.Rotate(ctx, tokenstore.RotateRequest{
			Presented: first, Next: lost, ClientID: storetest.ClientID, Now: now.Add(time.Minute),
		})
		done <- err
	}()
	select {
	case err := <-done:
		requireStoreError(t, err)
	case <-time.After(30 * time.Second): // far beyond the deadline, far below ReadTimeout and its retries
		t.Fatal("Rotate did not return after its context's deadline")
	}

	require.NoError(t, srv.Resume())
	resumed = true
	require.Eventually(t, func() bool {
		_, tok, err := s.LookupToken(t.Context(), first)
		return err == nil && !tok.UsedAt.IsZero()
	}, 10*time.Second, 10*time.Millisecond, "the queued rotation runs once Redis continues")

	res, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: first, Next: storetest.NewHash(), ClientID: storetest.ClientID,
		Now: now.Add(time.Minute + time.Second), RetryWindow: 10 * time.Minute,
	})
	require.NoError(t, err)
	require.True(t, res.Retry)
	live := requireOneLive(t, s, now.Add(2*time.Minute), first,
		tokenstore.TokenRef{Hash: lost, GrantID: g.ID}, storetest.Ref(res.Token))
	require.Equal(t, storetest.Ref(res.Token), live)
}
