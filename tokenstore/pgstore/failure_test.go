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
func requireRotatesOnce(t *testing.T, s tokenstore.Store, h tokenstore.TokenRef, now time.Time) {
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
// once afterwards; the code and the launch are taken exactly once.
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
	code, launch := storetest.NewCode(now), storetest.NewLaunch(now)
	require.NoError(t, s.CreateCode(t.Context(), code))
	require.NoError(t, s.CreateLaunch(t.Context(), launch))
	redeem := func(s tokenstore.CodeStore) error {
		_, err := s.RedeemCode(t.Context(), storetest.Redemption(code, now))
		return err
	}

	proxy.Down()
	ctx := t.Context()
	_, err = s.Rotate(ctx, tokenstore.RotateRequest{
		Presented: storetest.Ref(first), Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now.Add(time.Minute),
	})
	requireStoreError(t, err)
	_, _, err = s.LookupToken(ctx, storetest.Ref(first))
	requireStoreError(t, err)
	_, err = s.Grant(ctx, g.ID)
	requireStoreError(t, err)
	g2 := storetest.NewGrant(now)
	requireStoreError(t, s.CreateGrant(ctx, g2, storetest.FirstToken(g2)))
	requireStoreError(t, s.RevokeGrant(ctx, g.ID, now))
	requireStoreError(t, s.UseOnce(ctx, "k", now.Add(time.Minute), now))
	_, err = s.Sweep(ctx, now)
	requireStoreError(t, err)
	requireStoreError(t, s.CreateCode(ctx, storetest.NewCode(now)))
	requireStoreError(t, redeem(s))
	requireStoreError(t, redeem(pgstore.TransactionalOnly(s)))
	requireStoreError(t, s.CreateLaunch(ctx, storetest.NewLaunch(now)))
	_, err = s.ConsumeLaunch(ctx, storetest.LaunchRef(launch), now)
	requireStoreError(t, err)

	proxy.Up()
	requireRotatesOnce(t, s, storetest.Ref(first), now.Add(2*time.Minute))
	require.NoError(t, redeem(s))
	require.ErrorIs(t, redeem(s), tokenstore.ErrReused)
	_, err = s.ConsumeLaunch(ctx, storetest.LaunchRef(launch), now)
	require.NoError(t, err)
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
			Presented: storetest.Ref(first), Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now.Add(time.Minute),
		})
		requireStoreError(t, err)
		requireRotatesOnce(t, s, storetest.Ref(first), now.Add(2*time.Minute))
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
				Presented: storetest.Ref(first), Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now.Add(time.Minute),
			})
			errc <- err
		}()
		waitForLockWait(t, admin, name)
		require.Equal(t, 1, terminate(t, admin, name))
		requireStoreError(t, <-errc)

		require.NoError(t, lock.Rollback(t.Context()))
		requireRotatesOnce(t, s, storetest.Ref(first), now.Add(2*time.Minute))
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

// TestRotateInterrupted: a Rotate waiting for a row lock, before or in the
// middle of its transaction, is canceled or has its backend terminated. It
// fails with a store error and leaves nothing half-written: a transaction
// that was not committed writes nothing, and the one-statement path (which
// the server may finish after pgx has given up on it, like a request whose
// reply is lost) writes all of the rotation or nothing. The client's next
// presentation works either way.
func TestRotateInterrupted(t *testing.T) {
	admin := newPool(t, nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	cases := []struct {
		name       string
		retry      bool // present a used token within the retry window
		lockNext   bool // hold the lock of the successor rather than of the presented token
		terminated bool // terminate the backend rather than cancel the context
		mayFinish  bool // the server may complete the statement after the cancellation
	}{
		{"FirstPresentationCanceled", false, false, false, true},
		{"RetryCanceledLockingPresented", true, false, false, false},
		{"RetryCanceledSuperseding", true, true, false, false},
		{"RetryTerminatedSuperseding", true, true, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			schema := newSchema(t, admin)
			observer := migratedStore(t, admin, schema)
			pool, name := namedPool(t, nil)
			s, err := pgstore.New(pool, pgstore.Options{Schema: schema})
			require.NoError(t, err)
			g := storetest.NewGrant(now)
			first := storetest.CreateFamily(t, s, g)
			refs := []tokenstore.TokenRef{storetest.Ref(first)}
			if tc.retry {
				refs = append(refs, storetest.Ref(storetest.RequireRotate(t, s, refs[0], now.Add(time.Minute)).Token))
			}
			locked := refs[0]
			if tc.lockNext {
				locked = refs[1]
			}
			before := lookupAll(t, observer, refs)

			lock, err := admin.Begin(t.Context())
			require.NoError(t, err)
			defer func() { _ = lock.Rollback(context.Background()) }()
			_, err = lock.Exec(t.Context(), "SELECT 1 FROM "+pgx.Identifier{schema, "smartauth_refresh_tokens"}.Sanitize()+
				" WHERE hash = $1 FOR UPDATE", locked.Hash[:])
			require.NoError(t, err)

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			req := tokenstore.RotateRequest{
				Presented: refs[0], Next: storetest.NewHash(), ClientID: storetest.ClientID,
				Now: now.Add(2 * time.Minute), RetryWindow: time.Minute,
			}
			errc := make(chan error, 1)
			go func() {
				_, err := s.Rotate(ctx, req)
				errc <- err
			}()
			waitForLockWait(t, admin, name)
			if tc.terminated {
				require.Equal(t, 1, terminate(t, admin, name))
			} else {
				cancel()
			}
			requireStoreError(t, <-errc)
			require.NoError(t, lock.Rollback(t.Context()))
			waitForIdle(t, admin, name)

			nextRef := tokenstore.TokenRef{Hash: req.Next, GrantID: g.ID}
			after := lookupAll(t, observer, refs)
			if tc.mayFinish && !after[0].Token.UsedAt.IsZero() {
				// The server finished the rotation: all of it.
				want := before[0]
				want.Token.UsedAt = req.Now
				require.Equal(t, want, after[0])
				_, next, err := observer.LookupToken(t.Context(), nextRef)
				require.NoError(t, err, "Next was created with the rotation")
				require.Equal(t, 2, next.Generation)
			} else {
				require.Equal(t, before, after, "nothing was written")
				_, _, err = observer.LookupToken(t.Context(), nextRef)
				require.ErrorIs(t, err, tokenstore.ErrNotFound, "Next was not created")
			}

			// The client presents the token again: a first presentation,
			// or a retry if the interrupted one took effect.
			req.Next, req.Now = storetest.NewHash(), now.Add(3*time.Minute)
			res, err := s.Rotate(t.Context(), req)
			require.NoError(t, err)
			require.Equal(t, !after[0].Token.UsedAt.IsZero(), res.Retry, "Retry")
			got, tok, err := observer.LookupToken(t.Context(), storetest.Ref(res.Token))
			require.NoError(t, err)
			require.NoError(t, tok.Check(got, req.Now))
		})
	}
}

// waitForIdle waits until no backend named name runs a statement.
func waitForIdle(t *testing.T, admin *pgxpool.Pool, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		var busy bool
		require.NoError(t, admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE application_name = $1 AND state <> 'idle')`, name).Scan(&busy))
		if !busy {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("the interrupted statement never ended")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// record is what LookupToken returns.
type record struct {
	Grant tokenstore.Grant
	Token tokenstore.RefreshToken
}

// lookupAll returns the records of refs.
func lookupAll(t *testing.T, s tokenstore.Store, refs []tokenstore.TokenRef) []record {
	t.Helper()
	out := make([]record, len(refs))
	for i, ref := range refs {
		g, tok, err := s.LookupToken(t.Context(), ref)
		require.NoError(t, err)
		out[i] = record{g, tok}
	}
	return out
}

// TestServerPausedRetry: PostgreSQL hangs during a rotation and the
// request times out, so the client never learns whether the token was
// rotated (the statement may run once the server resumes). Presented again
// within the retry window, the token is rotated, as a first presentation
// or a retry, and the family is left with exactly one unused token.
func TestServerPausedRetry(t *testing.T) {
	url, srv := testenv.StartPostgres(t)
	pool, err := pgxpool.New(t.Context(), url)
	require.NoError(t, err)
	defer pool.Close()
	s, err := pgstore.New(pool, pgstore.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(t.Context()))
	now := time.Now().UTC().Truncate(time.Millisecond)
	g := storetest.NewGrant(now)
	first := storetest.CreateFamily(t, s, g)
	req := tokenstore.RotateRequest{
		Presented: storetest.Ref(first), ClientID: storetest.ClientID, Now: now.Add(time.Minute), RetryWindow: time.Minute,
	}

	srv.Pause()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	req.Next = storetest.NewHash()
	_, err = s.Rotate(ctx, req)
	cancel()
	requireStoreError(t, err)
	srv.Resume()

	req.Next = storetest.NewHash()
	res, err := s.Rotate(t.Context(), req)
	require.NoError(t, err)
	got, tok, err := s.LookupToken(t.Context(), storetest.Ref(res.Token))
	require.NoError(t, err)
	require.NoError(t, tok.Check(got, req.Now))

	var unused [][]byte
	rows, err := pool.Query(t.Context(), `SELECT hash FROM smartauth_refresh_tokens WHERE grant_id = $1 AND used_at IS NULL`, g.ID)
	require.NoError(t, err)
	unused, err = pgx.CollectRows(rows, pgx.RowTo[[]byte])
	require.NoError(t, err)
	require.Equal(t, [][]byte{res.Token.Hash[:]}, unused, "the family has one live token: the last one handed out")
}
