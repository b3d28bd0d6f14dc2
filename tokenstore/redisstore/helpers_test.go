package redisstore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/smartauth/smartauth/tokenstore/internal/testenv"
	"github.com/smartauth/smartauth/tokenstore/redisstore"
)

// Connecting to the test Redis, or skipping: see testenv. Every client the
// tests make has ContextTimeoutEnabled, as the package documentation
// requires.

func redisOptions(t testing.TB) *redis.Options {
	t.Helper()
	opts := testenv.RedisOptions(t)
	opts.ContextTimeoutEnabled = true
	return opts
}

func newClient(t testing.TB, edit func(*redis.Options)) *redis.Client {
	t.Helper()
	return testenv.RedisClient(t, func(o *redis.Options) {
		o.ContextTimeoutEnabled = true
		if edit != nil {
			edit(o)
		}
	})
}

// newPrefix returns a key prefix of the test's own and deletes, when the
// test ends, every key that starts with it (current layout) or with it in
// braces (previous layout, see testenv.RedisPrefix), on every node of c.
func newPrefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	prefix := testenv.RedisPrefix(t, c)
	t.Cleanup(func() {
		ctx := context.Background()
		for _, k := range keys(t, c, prefix) {
			if err := c.Del(ctx, k).Err(); err != nil {
				t.Errorf("redis cleanup: %v", err)
				return
			}
		}
	})
	return prefix
}

// keys returns the keys of the current layout with the given prefix, on
// every node of c.
func keys(t testing.TB, c redis.UniversalClient, prefix string) []string {
	t.Helper()
	return scanAll(t, c, prefix+"*")
}

// scanAll returns the keys matching pattern on every master of c.
func scanAll(t testing.TB, c redis.UniversalClient, pattern string) []string {
	t.Helper()
	var (
		mu  sync.Mutex
		all []string
	)
	err := forEachNode(context.Background(), c, func(ctx context.Context, node *redis.Client) error {
		found, err := scanNode(ctx, node, pattern)
		mu.Lock()
		all = append(all, found...)
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatalf("redis SCAN: %v", err)
	}
	return all
}

func scanNode(ctx context.Context, node *redis.Client, pattern string) ([]string, error) {
	var found []string
	iter := node.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		found = append(found, iter.Val())
	}
	return found, iter.Err()
}

// forEachNode calls fn with c itself, or every master of a Cluster.
func forEachNode(ctx context.Context, c redis.UniversalClient, fn func(context.Context, *redis.Client) error) error {
	if cc, ok := c.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, fn)
	}
	return fn(ctx, c.(*redis.Client))
}

// newStore returns a Store with a prefix of its own on the client c.
func newStore(t testing.TB, c redis.UniversalClient) *redisstore.Store {
	t.Helper()
	return redisstore.New(c, redisstore.Options{Prefix: newPrefix(t, c)})
}
