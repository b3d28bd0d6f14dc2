package endpointtest

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/internal/testenv"
	"github.com/smartauth/smartauth/tokenstore/pgstore"
	"github.com/smartauth/smartauth/tokenstore/redisstore"
)

// The descriptions the token endpoint gives.
const (
	unavailableDescription  = "the authorization server is temporarily unavailable; retry the request later"
	invalidGrantDescription = "the refresh token is invalid, expired or revoked"
)

// failingStore is a store whose server can be taken away: fail makes the
// next store call fail, recover lets calls succeed again.
type failingStore struct {
	store         tokenstore.Store
	fail, recover func()
}

// proxiedRedis is a redisstore whose client goes through a Proxy.
func proxiedRedis(t *testing.T) (tokenstore.Store, *testenv.Proxy) {
	opts := testenv.RedisOptions(t)
	proxy := testenv.StartProxy(t, opts.Addr)
	c := testenv.RedisClient(t, func(o *redis.Options) {
		o.Addr = proxy.Addr()
		o.MaxRetryBackoff = 10 * time.Millisecond
		o.ContextTimeoutEnabled = true
	})
	prefix := testenv.RedisPrefix(t, testenv.RedisClient(t, nil))
	return redisstore.New(c, redisstore.Options{Prefix: prefix}), proxy
}

// pgStore returns a migrated pgstore, in a schema of its own, on a pool
// configured by edit (on top of the test database's configuration).
func pgStore(t testing.TB, edit func(*pgxpool.Config)) *pgstore.Store {
	t.Helper()
	admin := testenv.PostgresPool(t, nil)
	schema := testenv.PostgresSchema(t, admin)
	migrated, err := pgstore.New(admin, pgstore.Options{Schema: schema})
	require.NoError(t, err)
	require.NoError(t, migrated.Migrate(context.Background()))
	s, err := pgstore.New(testenv.PostgresPool(t, edit), pgstore.Options{Schema: schema})
	require.NoError(t, err)
	return s
}

func failingStores() map[string]func(t *testing.T) failingStore {
	return map[string]func(t *testing.T) failingStore{
		"Redis/Unreachable": func(t *testing.T) failingStore {
			s, proxy := proxiedRedis(t)
			return failingStore{s, proxy.Down, proxy.Up}
		},
		"PostgreSQL/Unreachable": func(t *testing.T) failingStore {
			var proxy *testenv.Proxy
			s := pgStore(t, func(cfg *pgxpool.Config) {
				proxy = testenv.StartProxy(t, net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port))))
				host, port, _ := net.SplitHostPort(proxy.Addr())
				p, _ := strconv.Atoi(port)
				cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Fallbacks = host, uint16(p), nil
			})
			return failingStore{s, proxy.Down, proxy.Up}
		},
		"PostgreSQL/BackendTerminated": func(t *testing.T) failingStore {
			name := testenv.UniqueName("smartauth-test-")
			s := pgStore(t, func(cfg *pgxpool.Config) {
				cfg.ConnConfig.RuntimeParams["application_name"] = name
				cfg.MaxConns = 1
				// Hand out the dead connection rather than ping it first.
				cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
			})
			admin := testenv.PostgresPool(t, nil)
			terminate := func() {
				var n int
				require.NoError(t, admin.QueryRow(t.Context(),
					`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, name).Scan(&n))
				require.Equal(t, 1, n, "backends terminated")
			}
			return failingStore{s, terminate, func() {}}
		},
	}
}

// TestStoreFailure: a failing store is answered with 503
// temporarily_unavailable and Retry-After, and the refresh token still
// rotates once the store is back: the retry succeeds, its successor
// refreshes, and presenting the consumed token after that is reuse.
func TestStoreFailure(t *testing.T) {
	for name, newStore := range failingStores() {
		t.Run(name, func(t *testing.T) {
			fs := newStore(t)
			h := newHandler(t, fs.store)
			rt := newGrant(t, h)

			fs.fail()
			rec := refresh(h, rt)
			requireOAuthError(t, rec, http.StatusServiceUnavailable, "temporarily_unavailable", unavailableDescription)
			require.Equal(t, "1", rec.Header().Get("Retry-After"))
			fs.recover()

			next := requireRefreshed(t, refresh(h, rt))
			last := requireRefreshed(t, refresh(h, next.RefreshToken))
			requireOAuthError(t, refresh(h, rt), http.StatusBadRequest, "invalid_grant", invalidGrantDescription)
			// The reuse revoked the family, the newest token included.
			requireOAuthError(t, refresh(h, last.RefreshToken), http.StatusBadRequest, "invalid_grant", invalidGrantDescription)
		})
	}
}

// TestRedisReplyLost: the rotation ran in Redis but its reply was lost;
// go-redis resends it, and the client gets its tokens, once.
func TestRedisReplyLost(t *testing.T) {
	s, proxy := proxiedRedis(t)
	h := newHandler(t, s)
	rt := newGrant(t, h)
	requireRefreshed(t, refresh(h, newGrant(t, h))) // loads the scripts

	proxy.DropNextReply()
	next := requireRefreshed(t, refresh(h, rt))
	requireRefreshed(t, refresh(h, next.RefreshToken))
	requireOAuthError(t, refresh(h, rt), http.StatusBadRequest, "invalid_grant", invalidGrantDescription)
}
