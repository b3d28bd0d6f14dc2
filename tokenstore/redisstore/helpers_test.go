package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/smartauth/smartauth/tokenstore/internal/testenv"
	"github.com/smartauth/smartauth/tokenstore/redisstore"
)

// Connecting to the test Redis, or skipping: see testenv.

func redisOptions(t testing.TB) *redis.Options {
	t.Helper()
	return testenv.RedisOptions(t)
}

func newClient(t testing.TB, edit func(*redis.Options)) *redis.Client {
	t.Helper()
	return testenv.RedisClient(t, edit)
}

func newPrefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	return testenv.RedisPrefix(t, c)
}

func keys(t testing.TB, c redis.UniversalClient, prefix string) []string {
	t.Helper()
	return testenv.RedisKeys(t, c, prefix)
}

// newStore returns a Store with a prefix of its own on the client c.
func newStore(t testing.TB, c redis.UniversalClient) *redisstore.Store {
	t.Helper()
	return redisstore.New(c, redisstore.Options{Prefix: newPrefix(t, c)})
}
