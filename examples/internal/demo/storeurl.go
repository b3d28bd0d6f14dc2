package demo

import (
	"cmp"
	"context"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/pgstore"
	"github.com/smartauth/smartauth/tokenstore/redisstore"
)

// StoreOptions are the names OpenStore gives the demo's data in a shared
// store.
type StoreOptions struct {
	// RedisPrefix is the redisstore key prefix. Zero value:
	// "smartauth-demo:".
	RedisPrefix string
	// PostgresTablePrefix is the pgstore table prefix. Zero value:
	// "smartauth_demo_".
	PostgresTablePrefix string
}

// OpenStore opens the token store named by rawURL: "" or "memory" for a new
// in-memory store, "redis://…" / "rediss://…" for Redis, "postgres://…" /
// "postgresql://…" for PostgreSQL (whose schema is migrated). close releases
// the connections. The Redis client honours context deadlines
// (ContextTimeoutEnabled), so that the token endpoint's StoreTimeout bounds
// every command.
func OpenStore(ctx context.Context, rawURL string, o StoreOptions) (store tokenstore.Store, close func(), err error) {
	if rawURL == "" || rawURL == "memory" {
		return tokenstore.NewMemoryStore(tokenstore.MemoryOptions{}), func() {}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: store URL: %w", err)
	}
	switch u.Scheme {
	case "redis", "rediss":
		opt, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, nil, fmt.Errorf("demo: redis URL: %w", err)
		}
		opt.ContextTimeoutEnabled = true
		client := redis.NewClient(opt)
		if err := client.Ping(ctx).Err(); err != nil {
			_ = client.Close()
			return nil, nil, fmt.Errorf("demo: redis: %w", err)
		}
		return redisstore.New(client, redisstore.Options{Prefix: cmp.Or(o.RedisPrefix, "smartauth-demo:")}), func() { _ = client.Close() }, nil
	case "postgres", "postgresql":
		pool, err := pgxpool.New(ctx, rawURL)
		if err != nil {
			return nil, nil, fmt.Errorf("demo: postgres: %w", err)
		}
		s, err := pgstore.New(pool, pgstore.Options{TablePrefix: cmp.Or(o.PostgresTablePrefix, "smartauth_demo_")})
		if err == nil {
			err = s.Migrate(ctx)
		}
		if err != nil {
			pool.Close()
			return nil, nil, fmt.Errorf("demo: postgres: %w", err)
		}
		return s, pool.Close, nil
	}
	return nil, nil, fmt.Errorf("demo: unsupported store URL scheme %q (want memory, redis or postgres)", u.Scheme)
}
