package redisstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/redisstore"
	"github.com/smartauth/smartauth/tokenstore/storetest"
)

func TestConformance(t *testing.T) {
	c := newClient(t, nil)
	storetest.Run(t, func(t *testing.T) tokenstore.Store { return newStore(t, c) })
}

// TestConcurrentInstances presents one token through stores built on two
// separate clients (two connection pools) of the same Redis.
func TestConcurrentInstances(t *testing.T) {
	c1, c2 := newClient(t, nil), newClient(t, nil)
	prefix := newPrefix(t, c1)
	storetest.RunConcurrentInstances(t, []tokenstore.Store{
		redisstore.New(c1, redisstore.Options{Prefix: prefix}),
		redisstore.New(c2, redisstore.Options{Prefix: prefix}),
	}, 64)
}

// TestKeyLayout checks that every key lies under the store's hash tag (one
// Cluster slot) and has a time to live no longer than its record's expiry.
func TestKeyLayout(t *testing.T) {
	c := newClient(t, nil)
	prefix := newPrefix(t, c)
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})
	now := time.Now().UTC().Truncate(time.Millisecond)

	g := storetest.NewGrant(now)
	g.IdleTimeout = time.Hour
	first := storetest.CreateFamily(t, s, g)
	res := storetest.RequireRotate(t, s, first.Hash, now.Add(time.Minute))
	require.NoError(t, s.UseOnce(t.Context(), "jti:app:1", now.Add(5*time.Minute), now))

	tag := "{" + prefix + "}"
	want := map[string]time.Duration{ // key -> longest allowed TTL
		tag + "g:" + g.ID:                    g.ExpiresAt.Sub(now),
		tag + "t:" + first.Hash.String():     first.ExpiresAt.Sub(now),
		tag + "t:" + res.Token.Hash.String(): res.Token.ExpiresAt.Sub(now),
		tag + "o:jti:app:1":                  5 * time.Minute,
	}
	got := keys(t, c, prefix)
	require.ElementsMatch(t, keysOf(want), got)
	for _, k := range got {
		assert.Equal(t, tag, hashTag(k), "hash tag of %s", k)
		ttl, err := c.PTTL(t.Context(), k).Result()
		require.NoError(t, err)
		assert.Positive(t, ttl, "TTL of %s", k)
		assert.LessOrEqual(t, ttl, want[k], "TTL of %s", k)
	}
}

// TestLostRecords checks what happens when Redis loses records (evicted
// despite the documentation, or deleted by hand): never an accepted token.
func TestLostRecords(t *testing.T) {
	c := newClient(t, nil)
	now := time.Now().UTC().Truncate(time.Millisecond)

	t.Run("Grant", func(t *testing.T) {
		prefix := newPrefix(t, c)
		s := redisstore.New(c, redisstore.Options{Prefix: prefix})
		g := storetest.NewGrant(now)
		first := storetest.CreateFamily(t, s, g)
		require.NoError(t, c.Del(t.Context(), "{"+prefix+"}g:"+g.ID).Err())

		_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: first.Hash, Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now,
		})
		require.ErrorIs(t, err, tokenstore.ErrNotFound)
		_, _, err = s.LookupToken(t.Context(), first.Hash)
		require.ErrorIs(t, err, tokenstore.ErrNotFound)
		require.ErrorIs(t, s.RevokeGrant(t.Context(), g.ID, now), tokenstore.ErrNotFound)
	})

	t.Run("UsedToken", func(t *testing.T) {
		prefix := newPrefix(t, c)
		s := redisstore.New(c, redisstore.Options{Prefix: prefix})
		g := storetest.NewGrant(now)
		first := storetest.CreateFamily(t, s, g)
		res := storetest.RequireRotate(t, s, first.Hash, now.Add(time.Minute))
		require.NoError(t, c.Del(t.Context(), "{"+prefix+"}t:"+first.Hash.String()).Err())

		// The reuse goes undetected: unknown token, family not revoked.
		_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: first.Hash, Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now.Add(2 * time.Minute),
		})
		require.ErrorIs(t, err, tokenstore.ErrNotFound)
		got, err := s.Grant(t.Context(), g.ID)
		require.NoError(t, err)
		require.False(t, got.Revoked)
		storetest.RequireRotate(t, s, res.Token.Hash, now.Add(3*time.Minute))
	})
}

// TestRotateRetry checks that running the very same rotation twice (as
// go-redis does when a reply is lost) returns the same successor, and that
// any other second presentation is reuse.
func TestRotateRetry(t *testing.T) {
	c := newClient(t, nil)
	now := time.Now().UTC().Truncate(time.Millisecond)

	cases := []struct {
		name  string
		grace time.Duration
		retry func(req tokenstore.RotateRequest) tokenstore.RotateRequest
		want  error
	}{
		{"SameRequest", 0, func(r tokenstore.RotateRequest) tokenstore.RotateRequest { return r }, nil},
		{"SameRequestWithinGrace", time.Minute, func(r tokenstore.RotateRequest) tokenstore.RotateRequest { return r }, nil},
		{"OtherNext", 0, func(r tokenstore.RotateRequest) tokenstore.RotateRequest {
			r.Next = storetest.NewHash()
			return r
		}, tokenstore.ErrReused},
		{"LaterNow", 0, func(r tokenstore.RotateRequest) tokenstore.RotateRequest {
			r.Now = r.Now.Add(time.Millisecond)
			return r
		}, tokenstore.ErrReused},
		{"OtherClient", 0, func(r tokenstore.RotateRequest) tokenstore.RotateRequest {
			r.ClientID = "another-client"
			return r
		}, tokenstore.ErrClientMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, c)
			g := storetest.NewGrant(now)
			presented := storetest.CreateFamily(t, s, g).Hash
			wantGrace := false
			if tc.grace > 0 {
				// A grace rotation (the presented token was used a second
				// ago) retried.
				storetest.RequireRotate(t, s, presented, now.Add(time.Minute-time.Second))
				wantGrace = true
			}
			req := tokenstore.RotateRequest{
				Presented: presented, Next: storetest.NewHash(), ClientID: storetest.ClientID,
				Now: now.Add(time.Minute), GracePeriod: tc.grace,
			}
			first, err := s.Rotate(t.Context(), req)
			require.NoError(t, err)
			require.Equal(t, wantGrace, first.Grace)

			again, err := s.Rotate(t.Context(), tc.retry(req))
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			require.Equal(t, first, again)
			got, err := s.Grant(t.Context(), g.ID)
			require.NoError(t, err)
			require.False(t, got.Revoked)
		})
	}
}

func TestNewPrefix(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = c.Close() })
	for _, p := range []string{"{x}", "a{b", "a}b"} {
		assert.Panics(t, func() { redisstore.New(c, redisstore.Options{Prefix: p}) }, "prefix %q", p)
	}
	assert.NotPanics(t, func() { redisstore.New(c, redisstore.Options{}) })
}

// hashTag returns the part of key Redis Cluster hashes: the content of the
// first {...} if not empty, else the whole key.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i : i+j+2]
		}
	}
	return key
}

func keysOf[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestCreateGrantRetry: running the very same creation twice (as go-redis
// does when a reply is lost) succeeds; any other duplicate is a conflict.
func TestCreateGrantRetry(t *testing.T) {
	c := newClient(t, nil)
	s := newStore(t, c)
	now := time.Now().UTC().Truncate(time.Millisecond)
	g := storetest.NewGrant(now)
	first := storetest.FirstToken(g)
	require.NoError(t, s.CreateGrant(t.Context(), g, first))
	require.NoError(t, s.CreateGrant(t.Context(), g, first), "resent")

	later := first
	later.IssuedAt = later.IssuedAt.Add(time.Millisecond)
	require.ErrorIs(t, s.CreateGrant(t.Context(), g, later), tokenstore.ErrConflict, "another first token with the same hash")

	res := storetest.RequireRotate(t, s, first.Hash, now.Add(time.Minute))
	require.ErrorIs(t, s.CreateGrant(t.Context(), g, res.Token), tokenstore.ErrConflict, "a later token of the grant")

	other := storetest.NewGrant(now)
	otherFirst := first
	otherFirst.GrantID = ""
	require.ErrorIs(t, s.CreateGrant(t.Context(), other, otherFirst), tokenstore.ErrConflict, "the token of another grant")
}
