package pgstore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore/internal/testenv"
	"github.com/smartauth/smartauth/tokenstore/pgstore"
)

// Connecting to the test database, or skipping: see testenv.

func newPool(t testing.TB, edit func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	return testenv.PostgresPool(t, edit)
}

func newSchema(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	return testenv.PostgresSchema(t, pool)
}

// newStore returns a migrated Store in a schema of its own.
func newStore(t testing.TB, pool *pgxpool.Pool) *pgstore.Store {
	t.Helper()
	return migratedStore(t, pool, newSchema(t, pool))
}

// migratedStore returns a Store on pool in schema, after Migrate.
func migratedStore(t testing.TB, pool *pgxpool.Pool, schema string) *pgstore.Store {
	t.Helper()
	s, err := pgstore.New(pool, pgstore.Options{Schema: schema})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(context.Background()))
	return s
}

// schemaPool hands out migrated, empty schemas to the subtests of a
// conformance run: a schema is emptied and reused once its subtest has
// ended, and every schema is dropped when the parent test ends. (Creating
// and dropping a schema per subtest would take most of the run time.)
type schemaPool struct {
	parent testing.TB
	pool   *pgxpool.Pool
	mu     sync.Mutex
	free   []string
}

// newSchemaPool returns a schemaPool on pool whose schemas are dropped when
// parent ends.
func newSchemaPool(parent testing.TB, pool *pgxpool.Pool) *schemaPool {
	return &schemaPool{parent: parent, pool: pool}
}

// store returns a Store on a schema that is empty and used by no other
// test until t ends.
func (p *schemaPool) store(t testing.TB) *pgstore.Store {
	t.Helper()
	p.mu.Lock()
	var schema string
	if n := len(p.free); n > 0 {
		schema, p.free = p.free[n-1], p.free[:n-1]
	}
	p.mu.Unlock()

	var s *pgstore.Store
	if schema == "" {
		schema = newSchema(p.parent, p.pool)
		s = migratedStore(t, p.pool, schema)
	} else {
		var err error
		s, err = pgstore.New(p.pool, pgstore.Options{Schema: schema})
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		// Refresh tokens go with their grants (ON DELETE CASCADE).
		for _, table := range []string{"smartauth_grants", "smartauth_one_time_keys", "smartauth_codes", "smartauth_launches"} {
			_, err := p.pool.Exec(ctx, "DELETE FROM "+pgx.Identifier{schema, table}.Sanitize())
			require.NoError(t, err)
		}
		p.mu.Lock()
		p.free = append(p.free, schema)
		p.mu.Unlock()
	})
	return s
}
