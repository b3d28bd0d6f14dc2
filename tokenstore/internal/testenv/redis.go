package testenv

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
)

// RedisOptions returns the options of the test Redis (RedisURL), skipping
// the test (or failing it, see Unreachable) if the server does not answer
// a PING within PingTimeout.
func RedisOptions(t testing.TB) *redis.Options {
	t.Helper()
	url := RedisURL()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("%s: %v", RedisURLEnv, err)
	}
	ping := *opts
	ping.MaxRetries = -1 // answer at once if nothing listens
	ping.DialerRetries = 1
	c := redis.NewClient(&ping)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), PingTimeout)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		Unreachable(t, "redis", url, RedisURLEnv, err)
	}
	return opts
}

// RedisClient returns a client of the test Redis, closed when the test
// ends. edit, if not nil, adjusts its options first.
func RedisClient(t testing.TB, edit func(*redis.Options)) *redis.Client {
	t.Helper()
	opts := RedisOptions(t)
	if edit != nil {
		edit(opts)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// RedisPrefix returns a redisstore key prefix of the test's own (letters,
// digits, '-' and ':', so no glob metacharacter) and deletes, when the
// test ends, every key of the store with that prefix (the keys starting
// with "{" + prefix + "}"), through c.
func RedisPrefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	prefix := UniqueName("smartauth-test:") + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys := RedisKeys(t, c, prefix)
		if len(keys) == 0 {
			return
		}
		for _, k := range keys {
			if err := c.Del(ctx, k).Err(); err != nil {
				t.Errorf("redis cleanup: %v", err)
				return
			}
		}
	})
	return prefix
}

// RedisKeys returns the keys of the redisstore with the given prefix.
func RedisKeys(t testing.TB, c redis.UniversalClient, prefix string) []string {
	t.Helper()
	ctx := context.Background()
	var keys []string
	iter := c.Scan(ctx, 0, "{"+prefix+"}*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("redis SCAN: %v", err)
	}
	return keys
}
