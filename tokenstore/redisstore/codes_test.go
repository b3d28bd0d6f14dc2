package redisstore_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/redisstore"
	"github.com/smartauth/smartauth/tokenstore/storetest"
)

// TestCodeKeyLayout checks the name, hash tag and time to live of the
// keys of codes and launches: a code, the grant it creates and that
// grant's first refresh token (or the placeholder of a code consumed by
// a refused presentation) share the family's tag, a launch has a tag of
// its own, and no TTL outlives its record.
func TestCodeKeyLayout(t *testing.T) {
	c := newClient(t, nil)
	testCodeKeyLayout(t, c, newPrefix(t, c))
}

func testCodeKeyLayout(t *testing.T, c redis.UniversalClient, prefix string) {
	ctx := t.Context()
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})
	now := time.Now().UTC().Truncate(time.Millisecond)

	code := storetest.NewCode(now)
	require.NoError(t, s.CreateCode(ctx, code))
	res, err := s.RedeemCode(ctx, storetest.Redemption(code, now))
	require.NoError(t, err)
	_, err = s.RedeemCode(ctx, storetest.Redemption(code, now))
	require.ErrorIs(t, err, tokenstore.ErrReused) // revokes the grant

	refused := storetest.NewCode(now)
	require.NoError(t, s.CreateCode(ctx, refused))
	wrong := storetest.Redemption(refused, now)
	wrong.CodeChallenge = "wrong"
	_, err = s.RedeemCode(ctx, wrong)
	require.ErrorIs(t, err, tokenstore.ErrChallengeMismatch)
	_, err = s.RedeemCode(ctx, storetest.Redemption(refused, now))
	require.ErrorIs(t, err, tokenstore.ErrReused) // writes the placeholder grant

	odd := storetest.NewCode(now)
	odd.GrantID = "grant {with} braces, spaces and ünïcode"
	_, ref := tokenstore.NewRefreshToken(odd.GrantID)
	odd.Hash = ref.Hash
	require.NoError(t, s.CreateCode(ctx, odd))

	launch := storetest.NewLaunch(now)
	require.NoError(t, s.CreateLaunch(ctx, launch))

	tag := "{" + code.GrantID + "}"
	refusedTag := "{" + refused.GrantID + "}"
	oddTag := "{#" + sha256Hex(odd.GrantID) + "}"
	launchTag := "{" + launch.Hash.String() + "}"
	codeTTL := storetest.CodeLifetime + tokenstore.CodeRetention
	want := map[string]struct {
		tag    string
		maxTTL time.Duration
	}{
		prefix + tag + ":c":                            {tag, codeTTL},
		prefix + tag + ":g":                            {tag, storetest.GrantLifetime},
		prefix + tag + ":t:" + res.Token.Hash.String(): {tag, storetest.GrantLifetime},
		prefix + refusedTag + ":c":                     {refusedTag, codeTTL},
		prefix + refusedTag + ":g":                     {refusedTag, codeTTL},
		prefix + oddTag + ":c":                         {oddTag, codeTTL},
		prefix + "l:" + launchTag:                      {launchTag, storetest.LaunchLifetime},
	}
	got := keys(t, c, prefix)
	require.ElementsMatch(t, keysOf(want), got)
	for _, k := range got {
		assert.Equal(t, want[k].tag, hashTag(k), "hash tag of %s", k)
		ttl, err := c.PTTL(ctx, k).Result()
		require.NoError(t, err)
		assert.Positive(t, ttl, "TTL of %s", k)
		assert.LessOrEqual(t, ttl, want[k].maxTTL, "TTL of %s", k)
		assert.Greater(t, ttl, want[k].maxTTL-time.Minute, "TTL of %s", k)
	}

	_, err = s.RedeemCode(ctx, storetest.Redemption(odd, now))
	require.NoError(t, err)
	_, err = s.ConsumeLaunch(ctx, storetest.LaunchRef(launch), now)
	require.NoError(t, err)
}

// TestCodeShortTTL: a launch that expires at once is kept for MinTTL, a
// code for CodeRetention, so that they are still answered ErrExpired
// rather than ErrNotFound.
func TestCodeShortTTL(t *testing.T) {
	c := newClient(t, nil)
	prefix := newPrefix(t, c)
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)

	code := storetest.NewCode(now)
	code.ExpiresAt = now.Add(time.Millisecond)
	require.NoError(t, s.CreateCode(ctx, code))
	launch := storetest.NewLaunch(now)
	launch.ExpiresAt = now.Add(time.Millisecond)
	require.NoError(t, s.CreateLaunch(ctx, launch))

	for key, want := range map[string]time.Duration{
		prefix + "{" + code.GrantID + "}:c":         tokenstore.CodeRetention + time.Millisecond,
		prefix + "l:{" + launch.Hash.String() + "}": redisstore.MinTTL,
	} {
		ttl, err := c.PTTL(ctx, key).Result()
		require.NoError(t, err)
		assert.LessOrEqual(t, ttl, want, "TTL of %s", key)
		assert.Greater(t, ttl, want-10*time.Second, "TTL of %s", key)
	}
	_, err := s.RedeemCode(ctx, storetest.Redemption(code, now.Add(time.Second)))
	require.ErrorIs(t, err, tokenstore.ErrExpired)
	_, err = s.ConsumeLaunch(ctx, storetest.LaunchRef(launch), now.Add(time.Second))
	require.ErrorIs(t, err, tokenstore.ErrExpired)
}
