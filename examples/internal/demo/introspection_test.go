package demo

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/authserver"
)

// TestLibraryIntrospectionVerifierAgainstDemo: the two halves of the
// library talk out of the box. middleware.NewIntrospectionVerifier (HTTP
// Basic) works against the demo's /auth/introspect with the demo's
// configuration — resource-server is registered client_secret_post, and
// RFC 6749 §2.3.1 makes Basic acceptable for it — and with a client
// registered client_secret_basic; active answers are cached, active:false
// is refused and not cached.
func TestLibraryIntrospectionVerifierAgainstDemo(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Clients = append(cfg.Clients, ClientConfig{ClientID: "rs-basic", AuthMethod: "client_secret_basic", ClientSecret: "rs-basic-secret-7c1e"})
	cfg.IntrospectionClients = append(cfg.IntrospectionClients, "rs-basic")

	var introspections atomic.Int64
	ts := httptest.NewUnstartedServer(nil)
	t.Cleanup(ts.Close)
	srv, err := New(context.Background(), Options{
		BaseURL: "http://" + ts.Listener.Addr().String(), Config: cfg,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == introspectionPath {
			introspections.Add(1)
		}
		srv.Handler.ServeHTTP(w, r)
	})
	ts.Start()

	refresh := func(t *testing.T, rt string) (access, next string) {
		t.Helper()
		resp, tok := postForm(t, srv.TokenURL, seedBasic, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		require.Equal(t, http.StatusOK, resp.StatusCode, tok)
		return tok["access_token"].(string), tok["refresh_token"].(string)
	}

	for _, c := range []struct{ id, secret string }{
		{"resource-server", "resource-server-secret-0f9d2c"}, // registered client_secret_post
		{"rs-basic", "rs-basic-secret-7c1e"},                 // registered client_secret_basic
	} {
		t.Run(c.id, func(t *testing.T) {
			v, err := middleware.NewIntrospectionVerifier(middleware.IntrospectionVerifierConfig{
				Endpoint: srv.IntrospectionURL, ClientID: c.id, ClientSecret: c.secret,
				Issuers: []string{ts.URL}, Audience: srv.FHIRBaseURL,
			})
			require.NoError(t, err)
			// A grant of the test's own, so that revoking it leaves the
			// other subtest's alone.
			rt, _, err := srv.Tokens.CreateGrant(context.Background(), mustNewGrant(t, cfg.Grants[0]))
			require.NoError(t, err)
			at, rt := refresh(t, rt)

			// Active: the launch context, then the cache.
			n := introspections.Load()
			lc, err := v.VerifyToken(context.Background(), at)
			require.NoError(t, err)
			assert.Equal(t, seedPatient, lc.Patient)
			assert.Equal(t, seedEncounter, lc.Encounter)
			assert.Equal(t, "my-app", lc.ClientID)
			assert.True(t, lc.Scopes.Has("patient/*.*"))
			assert.Equal(t, n+1, introspections.Load())
			_, err = v.VerifyToken(context.Background(), at)
			require.NoError(t, err)
			assert.Equal(t, n+1, introspections.Load(), "an active answer is cached")

			// active:false is refused, every time asked again.
			at2, rt := refresh(t, rt)
			resp, m := postForm(t, srv.RevocationURL, seedBasic, url.Values{"token": {rt}})
			require.Equal(t, http.StatusOK, resp.StatusCode, m)
			for range 2 {
				n := introspections.Load()
				_, err = v.VerifyToken(context.Background(), at2)
				assert.True(t, errors.Is(err, middleware.ErrInactiveToken), "%v", err)
				assert.Equal(t, n+1, introspections.Load(), "an inactive answer is not cached")
			}
			_, err = v.VerifyToken(context.Background(), "not-a-token-of-this-server")
			assert.True(t, errors.Is(err, middleware.ErrInactiveToken), "%v", err)

			// And behind Authenticate: 200 for the active token, 401 for
			// the inactive one.
			h := middleware.Authenticate(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				lc, _ := middleware.LaunchContextFrom(r.Context())
				_, _ = io.WriteString(w, lc.Patient)
			}))
			for tok, want := range map[string]int{at: http.StatusOK, at2: http.StatusUnauthorized} {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodGet, "/fhir/Patient/"+seedPatient, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				h.ServeHTTP(rec, req)
				assert.Equal(t, want, rec.Code, rec.Body.String())
			}
		})
	}

	// A client that may not introspect, or a wrong secret: the verifier
	// cannot decide (503), it never calls the token invalid.
	at, _ := refresh(t, srv.DemoGrant.RefreshToken)
	for _, c := range []struct{ id, secret string }{
		{"my-app", "my-app-secret-123"},            // not in introspection_clients: 403
		{"resource-server", "wrong-secret-000000"}, // 401
	} {
		v, err := middleware.NewIntrospectionVerifier(middleware.IntrospectionVerifierConfig{
			Endpoint: srv.IntrospectionURL, ClientID: c.id, ClientSecret: c.secret,
		})
		require.NoError(t, err)
		_, err = v.VerifyToken(context.Background(), at)
		assert.True(t, errors.Is(err, middleware.ErrVerifierUnavailable), "%s: %v", c.id, err)
	}
}

func mustNewGrant(t *testing.T, g GrantConfig) authserver.NewGrant {
	t.Helper()
	ng, err := newGrant(g)
	require.NoError(t, err)
	ng.RefreshToken = ""
	return ng
}
