package testenv

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresConfig returns the configuration of a pool on the test database
// (PostgresURL), skipping the test (or failing it, see Unreachable) if the
// server does not answer within PingTimeout. Its connections do not wait
// for WAL flushes (synchronous_commit off): test data need not survive a
// crash, and schemas are created much faster.
func PostgresConfig(t testing.TB) *pgxpool.Config {
	t.Helper()
	url := PostgresURL()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatalf("%s: %v", PostgresURLEnv, err)
	}
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	ctx, cancel := context.WithTimeout(context.Background(), PingTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
	if err == nil {
		err = conn.Ping(ctx)
		_ = conn.Close(context.Background())
	}
	if err != nil {
		Unreachable(t, "postgres", url, PostgresURLEnv, err)
	}
	return cfg
}

// PostgresPool returns a pool on the test database, closed when the test
// ends. edit, if not nil, adjusts its configuration first.
func PostgresPool(t testing.TB, edit func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	cfg := PostgresConfig(t)
	if edit != nil {
		edit(cfg)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("postgres pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// PostgresSchema returns a schema name of the test's own, and drops the
// schema (if created) with everything in it when the test ends.
func PostgresSchema(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	schema := UniqueName("smartauth_test_")
	t.Cleanup(func() {
		_, err := pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		if err != nil {
			t.Errorf("postgres cleanup: %v", err)
		}
	})
	return schema
}
