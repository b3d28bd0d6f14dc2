package endpointtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/internal/testenv"
	"github.com/smartauth/smartauth/tokenstore/pgstore"
	"github.com/smartauth/smartauth/tokenstore/redisstore"
)

// Parameters of the concurrent-refresh tests.
const (
	// presenters is how many requests present the same refresh token at
	// once, alternately through the two instances.
	presenters = 40
	// repetitions is how many times each test is run per store.
	repetitions = 30
	// clockSkew is how far ahead of the real time one instance's clock is,
	// and how far behind the other's.
	clockSkew = 5 * time.Second
)

// storePair returns two stores over the same records, as two instances of
// the authorization server would have: one shared MemoryStore; two Redis
// clients (ContextTimeoutEnabled) on the test Redis with one key prefix of
// the test's own; two PostgreSQL pools on one schema of the test's own.
type storePair func(t *testing.T) (a, b tokenstore.Store)

func storePairs() map[string]storePair {
	return map[string]storePair{
		"Memory": func(*testing.T) (tokenstore.Store, tokenstore.Store) {
			s := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
			return s, s
		},
		"Redis": func(t *testing.T) (tokenstore.Store, tokenstore.Store) {
			client := func() *redis.Client {
				return testenv.RedisClient(t, func(o *redis.Options) { o.ContextTimeoutEnabled = true })
			}
			a, b := client(), client()
			opts := redisstore.Options{Prefix: testenv.RedisPrefix(t, a)}
			return redisstore.New(a, opts), redisstore.New(b, opts)
		},
		"PostgreSQL": func(t *testing.T) (tokenstore.Store, tokenstore.Store) {
			admin := testenv.PostgresPool(t, nil)
			schema := testenv.PostgresSchema(t, admin)
			migrated, err := pgstore.New(admin, pgstore.Options{Schema: schema})
			require.NoError(t, err)
			require.NoError(t, migrated.Migrate(context.Background()))
			store := func() tokenstore.Store {
				s, err := pgstore.New(testenv.PostgresPool(t, func(c *pgxpool.Config) { c.MaxConns = 10 }),
					pgstore.Options{Schema: schema})
				require.NoError(t, err)
				return s
			}
			return store(), store()
		},
	}
}

// skewedInstances returns two token endpoints on the stores of pair, one
// whose clock is clockSkew ahead, one clockSkew behind, with the given
// retry window; and the store of the first, to inspect the records.
func skewedInstances(t *testing.T, pair storePair, retryWindow time.Duration) ([2]*authserver.TokenHandler, tokenstore.Store) {
	a, b := pair(t)
	ahead := func() time.Time { return time.Now().Add(clockSkew) }
	behind := func() time.Time { return time.Now().Add(-clockSkew) }
	return [2]*authserver.TokenHandler{
		newHandlerWith(t, a, handlerOptions{now: ahead, retryWindow: retryWindow}),
		newHandlerWith(t, b, handlerOptions{now: behind, retryWindow: retryWindow}),
	}, a
}

// presentAtOnce presents rt presenters times at once, alternately through
// the two instances, and returns the outcomes.
func presentAtOnce(t *testing.T, instances [2]*authserver.TokenHandler, rt string) []refreshResult {
	results := make([]refreshResult, presenters)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range presenters {
		wg.Go(func() {
			<-start
			results[i] = refreshOutcome(t, instances[i%2], rt)
		})
	}
	close(start)
	wg.Wait()
	return results
}

// TestConcurrentRefreshNoRetry: with retries off, of presenters
// simultaneous presentations of one refresh token through two instances
// whose clocks are 2×clockSkew apart, exactly one is answered 200 — every
// repetition, on every store. (The others are reuse, and revoke the
// family.)
func TestConcurrentRefreshNoRetry(t *testing.T) {
	for name, pair := range storePairs() {
		t.Run(name, func(t *testing.T) {
			instances, _ := skewedInstances(t, pair, -1)
			good := 0
			for rep := range repetitions {
				rt := newGrant(t, instances[rep%2])
				ok, other := 0, 0
				for _, r := range presentAtOnce(t, instances, rt) {
					switch r.status {
					case http.StatusOK:
						ok++
					case http.StatusBadRequest:
					default:
						other++
					}
				}
				if ok == 1 && other == 0 {
					good++
				} else {
					t.Errorf("repetition %d: %d answers 200, %d neither 200 nor 400", rep, ok, other)
				}
			}
			t.Logf("%s, no retry: exactly one 200 of %d presentations in %d/%d repetitions", name, presenters, good, repetitions)
			require.Equal(t, repetitions, good)
		})
	}
}

// TestConcurrentRefreshRetryWindow: with the default retry window, the
// simultaneous presentations are the first one and retries; whatever their
// answers, the family is never forked nor revoked: of every refresh token
// returned, at most one is live, the others are dead (used or superseded),
// and the live one refreshes.
func TestConcurrentRefreshRetryWindow(t *testing.T) {
	for name, pair := range storePairs() {
		t.Run(name, func(t *testing.T) {
			instances, store := skewedInstances(t, pair, 0)
			good, answered := 0, 0
			for rep := range repetitions {
				rt := newGrant(t, instances[rep%2])
				var returned []string
				for _, r := range presentAtOnce(t, instances, rt) {
					if r.status == http.StatusOK {
						returned = append(returned, r.refreshToken)
					}
				}
				answered += len(returned)
				if err := checkFamily(t, instances, store, append(returned, rt)); err != nil {
					t.Errorf("repetition %d (%d answers 200): %v", rep, len(returned), err)
					continue
				}
				good++
			}
			t.Logf("%s, retry window %v: family intact in %d/%d repetitions (%d of %d presentations answered 200)",
				name, authserver.DefaultRetryWindow, good, repetitions, answered, repetitions*presenters)
			require.Equal(t, repetitions, good)
		})
	}
}

// checkFamily checks the family of tokens (all of one grant): not revoked,
// at most one of them live and every other dead (used or superseded, not
// expired), and the live one, if any, refreshes.
func checkFamily(t *testing.T, instances [2]*authserver.TokenHandler, store tokenstore.Store, tokens []string) error {
	ctx := context.Background()
	live := ""
	for _, tok := range tokens {
		g, rt, err := store.LookupToken(ctx, tokenstore.ParseRefreshToken(tok))
		if err != nil {
			return fmt.Errorf("lookup: %w", err)
		}
		if g.Revoked {
			return errors.New("the family is revoked")
		}
		switch err := rt.Check(g, time.Now()); {
		case err == nil && live != "":
			return errors.New("two live refresh tokens: the family forked")
		case err == nil:
			live = tok
		case !errors.Is(err, tokenstore.ErrReused):
			return fmt.Errorf("a returned token is neither live nor dead: %w", err)
		}
	}
	if live == "" {
		return nil
	}
	if r := refreshOutcome(t, instances[1], live); r.status != http.StatusOK {
		return fmt.Errorf("the live token does not refresh: %d", r.status)
	}
	return nil
}
