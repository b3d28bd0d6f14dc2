package redisstore_test

import (
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
func requireRotatesOnce(t *testing.T, s tokenstore.Store, h tokenstore.Hash, now time.Time) {
	t.Helper()
	_, tok, err := s.LookupToken(t.Context(), h)
	require.NoError(t, err)
	require.True(t, tok.UsedAt.IsZero(), "the failed rotation left the token unused")
	res := storetest.RequireRotate(t, s, h, now)
	require.Equal(t, 2, res.Token.Generation)
	_, err = s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: h, Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now.Add(time.Second),
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
		Presented: first.Hash, Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now.Add(time.Minute),
	})
	requireStoreError(t, err)
	_, _, err = s.LookupToken(ctx, first.Hash)
	requireStoreError(t, err)
	_, err = s.Grant(ctx, g.ID)
	requireStoreError(t, err)
	g2 := storetest.NewGrant(now)
	requireStoreError(t, s.CreateGrant(ctx, g2, storetest.FirstToken(g2)))
	requireStoreError(t, s.RevokeGrant(ctx, g.ID, now))
	requireStoreError(t, s.UseOnce(ctx, "k", now.Add(time.Minute), now))

	proxy.Up()
	requireRotatesOnce(t, s, first.Hash, now.Add(2*time.Minute))
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

	requireRotatesOnce(t, s, first.Hash, now.Add(time.Minute))
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
		storetest.RequireRotate(t, s, storetest.CreateFamily(t, s, storetest.NewGrant(now)).Hash, now)

		proxy.DropNextReply()
		next := storetest.NewHash()
		res, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: first.Hash, Next: next, ClientID: storetest.ClientID, Now: now.Add(time.Minute),
		})
		require.NoError(t, err)
		require.Equal(t, next, res.Token.Hash)
		require.Equal(t, 2, res.Token.Generation)
		require.False(t, res.Grace)

		_, tok, err := s.LookupToken(t.Context(), first.Hash)
		require.NoError(t, err)
		require.Equal(t, now.Add(time.Minute), tok.UsedAt)
		got, err := s.Grant(t.Context(), g.ID)
		require.NoError(t, err)
		require.False(t, got.Revoked)
		storetest.RequireRotate(t, s, next, now.Add(2*time.Minute))
	})

	// Without retries the caller sees a store error; the rotation has
	// happened, so presenting the token again is reuse unless within the
	// grace period.
	t.Run("NoRetries", func(t *testing.T) {
		c, proxy := proxiedClient(t, func(o *redis.Options) { o.MaxRetries = -1 })
		s := redisstore.New(c, redisstore.Options{Prefix: newPrefix(t, newClient(t, nil))})
		first := storetest.CreateFamily(t, s, storetest.NewGrant(now))
		storetest.RequireRotate(t, s, storetest.CreateFamily(t, s, storetest.NewGrant(now)).Hash, now)

		proxy.DropNextReply()
		_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: first.Hash, Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now.Add(time.Minute),
		})
		requireStoreError(t, err)

		res, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: first.Hash, Next: storetest.NewHash(), ClientID: storetest.ClientID,
			Now: now.Add(time.Minute + time.Second), GracePeriod: 5 * time.Second,
		})
		require.NoError(t, err)
		require.True(t, res.Grace)
	})
}
