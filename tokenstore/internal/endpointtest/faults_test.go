package endpointtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/internal/testenv"
	"github.com/smartauth/smartauth/tokenstore/pgstore"
	"github.com/smartauth/smartauth/tokenstore/redisstore"
)

// Deadlines of the fault tests.
const (
	// faultStoreTimeout is the StoreTimeout of the handlers whose store
	// the tests pause.
	faultStoreTimeout = time.Second
	// deadlineSlack is how much later than faultStoreTimeout the answer
	// may come, on a loaded machine (without the deadline, a paused store
	// holds the request for the store client's own timeouts and retries,
	// or for ever).
	deadlineSlack = 2 * time.Second
	// readyTimeout bounds the wait for a resumed server to answer.
	readyTimeout = 30 * time.Second
)

// pausedServer is a store on a server of the test's own that the test can
// pause (SIGSTOP) and resume.
type pausedServer struct {
	store         tokenstore.Store
	pause, resume func()
	// waitReady returns once the resumed server answers a new connection.
	waitReady func(ctx context.Context) error
}

func pausableStores() map[string]func(t *testing.T) pausedServer {
	return map[string]func(t *testing.T) pausedServer{
		"Redis": func(t *testing.T) pausedServer {
			srv := testenv.StartRedis(t)
			client := srv.Client(t, nil) // ContextTimeoutEnabled
			probe := srv.Client(t, nil)
			return pausedServer{
				store: redisstore.New(client, redisstore.Options{Prefix: "endpointtest:"}),
				pause: func() {
					if err := srv.Pause(); errors.Is(err, errors.ErrUnsupported) {
						t.Skip("pausing a process (SIGSTOP) is not supported on this system")
					} else {
						require.NoError(t, err)
					}
				},
				resume:    func() { require.NoError(t, srv.Resume()) },
				waitReady: func(ctx context.Context) error { return probe.Ping(ctx).Err() },
			}
		},
		"PostgreSQL": func(t *testing.T) pausedServer {
			dbURL, srv := testenv.StartPostgres(t)
			cfg, err := pgxpool.ParseConfig(dbURL)
			require.NoError(t, err)
			pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
			require.NoError(t, err)
			t.Cleanup(pool.Close)
			s, err := pgstore.New(pool, pgstore.Options{})
			require.NoError(t, err)
			require.NoError(t, s.Migrate(context.Background()))
			return pausedServer{
				store: s, pause: srv.Pause, resume: srv.Resume,
				waitReady: func(ctx context.Context) error {
					// A new connection: it is served after whatever the
					// paused backends had been sent.
					conn, err := pool.Acquire(ctx)
					if err != nil {
						return err
					}
					defer conn.Release()
					return conn.Ping(ctx)
				},
			}
		},
	}
}

// TestPausedStore: a store server that stops answering in the middle of a
// refresh (paused with SIGSTOP, its connections open) gets the request
// answered 503 temporarily_unavailable within the deadline; once it is
// resumed, the client's retry with the same refresh token succeeds and the
// family is intact: not revoked, the retry's token live and refreshing,
// the presented one dead.
func TestPausedStore(t *testing.T) {
	for name, start := range pausableStores() {
		t.Run(name, func(t *testing.T) {
			ps := start(t)
			h := newHandlerWith(t, ps.store, handlerOptions{storeTimeout: faultStoreTimeout})
			requireRefreshed(t, refresh(h, newGrant(t, h))) // scripts loaded, connections open
			rt := newGrant(t, h)

			ps.pause()
			begin := time.Now()
			rec := refresh(h, rt)
			elapsed := time.Since(begin)
			ps.resume()
			requireOAuthError(t, rec, http.StatusServiceUnavailable, "temporarily_unavailable", unavailableDescription)
			require.Equal(t, "1", rec.Header().Get("Retry-After"))
			require.Less(t, elapsed, faultStoreTimeout+deadlineSlack, "answered within the deadline")
			t.Logf("%s paused: 503 after %v (StoreTimeout %v)", name, elapsed.Round(time.Millisecond), faultStoreTimeout)

			ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
			defer cancel()
			require.NoError(t, ps.waitReady(ctx))

			_, before, err := ps.store.LookupToken(ctx, tokenstore.ParseRefreshToken(rt))
			require.NoError(t, err)
			t.Logf("%s resumed: the abandoned rotation had reached the store: %v", name, !before.UsedAt.IsZero())
			next := requireRefreshed(t, refresh(h, rt)) // the client's retry
			requireFamilyIntact(t, ps.store, rt, next.RefreshToken)
			requireRefreshed(t, refresh(h, next.RefreshToken))
		})
	}
}

// requireFamilyIntact requires the family of the refresh tokens presented
// and live to be not revoked, with presented dead and live live.
func requireFamilyIntact(t *testing.T, store tokenstore.Store, presented, live string) {
	t.Helper()
	ctx := context.Background()
	g, tok, err := store.LookupToken(ctx, tokenstore.ParseRefreshToken(live))
	require.NoError(t, err)
	require.False(t, g.Revoked, "family revoked")
	require.NoError(t, tok.Check(g, time.Now()), "the retry's token is live")
	g2, used, err := store.LookupToken(ctx, tokenstore.ParseRefreshToken(presented))
	require.NoError(t, err)
	require.Equal(t, g.ID, g2.ID)
	require.ErrorIs(t, used.Check(g2, time.Now()), tokenstore.ErrReused, "the presented token is dead")
}

// jwtClientID is a private_key_jwt client of the replay tests.
const jwtClientID = "endpoint-test-backend"

// assertionClient is a private_key_jwt client: its registration and its
// key.
type assertionClient struct {
	client authserver.Client
	key    *ecdsa.PrivateKey
}

func newAssertionClient(t *testing.T) assertionClient {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	pt, err := key.PublicKey.Bytes()
	require.NoError(t, err)
	b64 := base64.RawURLEncoding.EncodeToString
	jwks, err := json.Marshal(map[string]any{"keys": []any{map[string]string{
		"kty": "EC", "crv": "P-256", "kid": "k1", "x": b64(pt[1:33]), "y": b64(pt[33:]),
	}}})
	require.NoError(t, err)
	return assertionClient{
		client: authserver.Client{ID: jwtClientID, AuthMethod: authserver.AuthPrivateKeyJWT, JWKS: jwks},
		key:    key,
	}
}

// refreshWithAssertion posts a refresh of rt authenticated by a new client
// assertion (a new jti).
func (c assertionClient) refreshWithAssertion(t *testing.T, h http.Handler, rt string) *httptest.ResponseRecorder {
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.RegisteredClaims{
		Issuer: jwtClientID, Subject: jwtClientID, Audience: jwt.ClaimStrings{tokenEndpoint},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(2 * time.Minute)),
		ID: tokenstore.NewID(),
	})
	tok.Header["kid"] = "k1"
	assertion, err := tok.SignedString(c.key)
	require.NoError(t, err)
	form := url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_assertion_type": {authserver.ClientAssertionTypeJWTBearer}, "client_assertion": {assertion},
	}
	req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// proxiedStores are stores on the shared test servers whose connections go
// through a Proxy.
func proxiedStores() map[string]func(t *testing.T) (tokenstore.Store, *testenv.Proxy) {
	return map[string]func(t *testing.T) (tokenstore.Store, *testenv.Proxy){
		"Redis": proxiedRedis,
		"PostgreSQL": func(t *testing.T) (tokenstore.Store, *testenv.Proxy) {
			var proxy *testenv.Proxy
			s := pgStore(t, func(cfg *pgxpool.Config) {
				proxy = testenv.StartProxy(t, net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port))))
				host, port, _ := net.SplitHostPort(proxy.Addr())
				p, _ := strconv.Atoi(port)
				cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Fallbacks = host, uint16(p), nil
			})
			return s, proxy
		},
	}
}

// TestReplayGuardReplyLost: the reply to the replay guard's record of a
// client assertion's jti is lost (the store executed it). The request is
// answered 200 (go-redis resends the call, and redisstore recognises its
// own record) or 5xx (the client then retries with a new assertion) —
// never 401 invalid_client, which would tell a legitimate client its
// assertion was replayed.
func TestReplayGuardReplyLost(t *testing.T) {
	const rounds = 5
	for name, newStore := range proxiedStores() {
		t.Run(name, func(t *testing.T) {
			store, proxy := newStore(t)
			client := newAssertionClient(t)
			h := newHandlerWith(t, store, handlerOptions{clients: []authserver.Client{client.client}})
			grant := func() string {
				rt, _, err := h.CreateGrant(context.Background(), authserver.NewGrant{ClientID: jwtClientID, Scope: "system/*.rs"})
				require.NoError(t, err)
				return rt
			}
			// Scripts loaded, connections open.
			require.Equal(t, http.StatusOK, client.refreshWithAssertion(t, h, grant()).Code)

			outcomes := map[int]int{}
			for range rounds {
				rt := grant()
				proxy.DropNextReply()
				rec := client.refreshWithAssertion(t, h, rt)
				outcomes[rec.Code]++
				switch {
				case rec.Code == http.StatusOK:
				case rec.Code >= http.StatusInternalServerError:
					// The client retries, with a new assertion.
					rec = client.refreshWithAssertion(t, h, rt)
					require.Equal(t, http.StatusOK, rec.Code, "retry: %s", rec.Body)
				default:
					t.Fatalf("a lost reply of the replay guard was answered %d: %s", rec.Code, rec.Body)
				}
			}
			t.Logf("%s: answers to %d requests whose replay-guard reply was lost: %v", name, rounds, outcomes)
		})
	}
}
