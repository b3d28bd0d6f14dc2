package pgstore_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/internal/testenv"
	"github.com/smartauth/smartauth/tokenstore/pgstore"
	"github.com/smartauth/smartauth/tokenstore/storetest"
)

// requireStoreError requires err to be a failure of the store: an error
// that is none of the record errors.
func requireStoreError(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.False(t, tokenstore.IsRecordError(err), "IsRecordError(%v)", err)
}

// requireRotatesOnce requires the token to be unused, to rotate now, and
// its next presentation to be reuse.
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

// namedPool returns a pool whose connections carry a unique
// application_name (so that a test can find its backends), and which never
// pings a connection before handing it out (so that a killed connection is
// noticed by the next query, not silently replaced).
func namedPool(t *testing.T, edit func(*pgxpool.Config)) (*pgxpool.Pool, string) {
	t.Helper()
	name := testenv.UniqueName("smartauth-test-")
	return newPool(t, func(cfg *pgxpool.Config) {
		cfg.ConnConfig.RuntimeParams["application_name"] = name
		cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
		if edit != nil {
			edit(cfg)
		}
	}), name
}

// terminate ends, from admin, the backends of the connections named name.
func terminate(t *testing.T, admin *pgxpool.Pool, name string) int {
	t.Helper()
	var n int
	require.NoError(t, admin.QueryRow(t.Context(),
		`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, name).Scan(&n))
	return n
}

// TestServerDown: while PostgreSQL is unreachable every method fails with
// a store error, nothing is half written, and the token rotates exactly
// once afterwards.
func TestServerDown(t *testing.T) {
	admin := newPool(t, nil)
	schema := newSchema(t, admin)
	migratedStore(t, admin, schema)

	var proxy *testenv.Proxy
	pool := newPool(t, func(cfg *pgxpool.Config) {
		target := net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port)))
		proxy = testenv.StartProxy(t, target)
		host, port, _ := net.SplitHostPort(proxy.Addr())
		p, _ := strconv.Atoi(port)
		cfg.ConnConfig.Host, cfg.ConnConfig.Port = host, uint16(p)
		cfg.ConnConfig.Fallbacks = nil
		cfg.ConnConfig.ConnectTimeout = 2 * time.Second
	})
	s, err := pgstore.New(pool, pgstore.Options{Schema: schema})
	require.NoError(t, err)
	now := time.Now().UTC().Truncate(time.Millisecond)
	g := storetest.NewGrant(now)
	first := storetest.CreateFamily(t, s, g)

	proxy.Down()
	ctx := t.Context()
	_, err = s.Rotate(ctx, tokenstore.RotateRequest{
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
	_, err = s.Sweep(ctx, now)
	requireStoreError(t, err)

	proxy.Up()
	requireRotatesOnce(t, s, first.Hash, now.Add(2*time.Minute))
}

// TestBackendTerminated: the pool's backends are terminated
// (pg_terminate_backend) before or during Rotate.
func TestBackendTerminated(t *testing.T) {
	admin := newPool(t, nil)
	now := time.Now().UTC().Truncate(time.Millisecond)

	t.Run("BeforeRotate", func(t *testing.T) {
		schema := newSchema(t, admin)
		migratedStore(t, admin, schema)
		pool, name := namedPool(t, func(cfg *pgxpool.Config) { cfg.MaxConns = 1 })
		s, err := pgstore.New(pool, pgstore.Options{Schema: schema})
		require.NoError(t, err)
		first := storetest.CreateFamily(t, s, storetest.NewGrant(now))

		require.Equal(t, 1, terminate(t, admin, name))
		_, err = s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: first.Hash, Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now.Add(time.Minute),
		})
		requireStoreError(t, err)
		requireRotatesOnce(t, s, first.Hash, now.Add(2*time.Minute))
	})

	// The token's row is locked by another transaction, so Rotate waits
	// inside its statement; its backend is terminated there.
	t.Run("DuringRotate", func(t *testing.T) {
		schema := newSchema(t, admin)
		migratedStore(t, admin, schema)
		pool, name := namedPool(t, nil)
		s, err := pgstore.New(pool, pgstore.Options{Schema: schema})
		require.NoError(t, err)
		first := storetest.CreateFamily(t, s, storetest.NewGrant(now))

		lock, err := admin.Begin(t.Context())
		require.NoError(t, err)
		defer func() { _ = lock.Rollback(context.Background()) }()
		_, err = lock.Exec(t.Context(), "SELECT 1 FROM "+pgx.Identifier{schema, "smartauth_refresh_tokens"}.Sanitize()+
			" WHERE hash = $1 FOR UPDATE", first.Hash[:])
		require.NoError(t, err)

		errc := make(chan error, 1)
		go func() {
			_, err := s.Rotate(context.Background(), tokenstore.RotateRequest{
				Presented: first.Hash, Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now.Add(time.Minute),
			})
			errc <- err
		}()
		waitForLockWait(t, admin, name)
		require.Equal(t, 1, terminate(t, admin, name))
		requireStoreError(t, <-errc)

		require.NoError(t, lock.Rollback(t.Context()))
		requireRotatesOnce(t, s, first.Hash, now.Add(2*time.Minute))
	})
}

// waitForLockWait waits until a backend named name waits for a lock.
func waitForLockWait(t *testing.T, admin *pgxpool.Pool, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		var waiting bool
		require.NoError(t, admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE application_name = $1 AND wait_event_type = 'Lock')`, name).Scan(&waiting))
		if waiting {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("Rotate never waited for the row lock")
		case <-time.After(5 * time.Millisecond):
		}
	}
}
