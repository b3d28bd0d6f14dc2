package authserver_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

const (
	testIssuer   = "https://auth.example.org"
	testAudience = "https://fhir.example.org/r4"
	testScope    = "openid fhirUser profile offline_access launch/patient patient/*.rs"

	// Registered test clients.
	clientA       = "app-a" // client_secret_basic
	clientASecret = "secret-of-app-a-0123456789"
	clientB       = "app-b" // client_secret_basic
	clientBSecret = "secret-of-app-b-0123456789"
	clientPost    = "app-post" // client_secret_post
	clientPostSec = "secret-of-app-post-0123456"
	clientPublic  = "app-public" // none
)

// The exact error bodies of the endpoint.
const (
	bodyInvalidGrant = `{"error":"invalid_grant","error_description":"the refresh token is invalid, expired or revoked"}` + "\n"
	bodyInvalidScope = `{"error":"invalid_scope","error_description":"the requested scope exceeds the scope originally granted"}` + "\n"
	bodyServerError  = `{"error":"server_error","error_description":"the authorization server could not handle the request"}` + "\n"
)

var testStart = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// auditLog records audit events.
type auditLog struct {
	mu     sync.Mutex
	events []authserver.AuditEvent
}

func (a *auditLog) record(_ context.Context, e authserver.AuditEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
}

func (a *auditLog) kinds() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var k []string
	for _, e := range a.events {
		k = append(k, e.Kind)
	}
	return k
}

// env is a token endpoint over a memory store with the test clients.
type env struct {
	t     testing.TB
	h     *authserver.TokenHandler
	store tokenstore.Store
	keys  *authserver.KeySet
	clock *clock
	audit *auditLog
}

var (
	keysOnce sync.Once
	keyRS256 authserver.SigningKey
	keyES256 authserver.SigningKey
)

// testKey returns a signing key generated once per test binary (RSA key
// generation is slow).
func testKey(t testing.TB, alg string) authserver.SigningKey {
	keysOnce.Do(func() {
		var err error
		keyRS256, err = authserver.GenerateSigningKey("RS256")
		require.NoError(t, err)
		keyES256, err = authserver.GenerateSigningKey("ES256")
		require.NoError(t, err)
	})
	switch alg {
	case "RS256":
		return keyRS256
	case "ES256":
		return keyES256
	}
	k, err := authserver.GenerateSigningKey(alg)
	require.NoError(t, err)
	return k
}

// newEnv returns an endpoint; mod, if not nil, adjusts the config.
func newEnv(t testing.TB, mod func(*authserver.TokenConfig)) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: testStart}, audit: &auditLog{}}
	ks, err := authserver.NewKeySet(testKey(t, "ES256"), authserver.WithKeySetClock(e.clock.Now))
	require.NoError(t, err)
	e.keys = ks
	e.store = tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	cfg := authserver.TokenConfig{
		Issuer:   testIssuer,
		Audience: testAudience,
		Store:    e.store,
		Clients:  testClients(t, e.store, e.clock.Now),
		Keys:     ks,
		Audit:    e.audit.record,
		Logger:   slog.New(slog.DiscardHandler),
		Now:      e.clock.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	e.keys = cfg.Keys
	e.store = cfg.Store
	h, err := authserver.NewTokenHandler(cfg)
	require.NoError(t, err)
	e.h = h
	return e
}

// testLaunch is the launch context of the test grants.
func testLaunch() authserver.Launch {
	banner := true
	return authserver.Launch{
		Patient:           "pat-123",
		Encounter:         "enc-456",
		NeedPatientBanner: &banner,
		SmartStyleURL:     "https://ehr.example.org/smart-style.json",
		FHIRContext:       nil,
	}
}

// grant creates a grant for client with scope and returns its refresh
// token.
func (e *env) grant(client, scope string) string {
	e.t.Helper()
	rt, _, err := e.h.CreateGrant(context.Background(), authserver.NewGrant{
		ClientID: client, Subject: "user-1", FHIRUser: "Practitioner/77", Scope: scope, Launch: testLaunch(),
	})
	require.NoError(e.t, err)
	return rt
}

// post sends a token request with the form body and the request options.
func (e *env) post(body string, opts ...func(*http.Request)) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "https://auth.example.org/token", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, o := range opts {
		o(req)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// refresh sends a refresh request for client A (Basic).
func (e *env) refresh(rt string, params ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.post(refreshForm(rt, params...), basic(clientA, clientASecret))
}

// refreshOK refreshes as client A, requires success and returns the
// response.
func (e *env) refreshOK(rt string, params ...string) authserver.TokenResponse {
	e.t.Helper()
	rec := e.refresh(rt, params...)
	require.Equal(e.t, http.StatusOK, rec.Code, rec.Body.String())
	return decodeTokenResponse(e.t, rec)
}

// refreshForm encodes grant_type=refresh_token, refresh_token and params
// (name, value pairs).
func refreshForm(rt string, params ...string) string {
	v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	for i := 0; i+1 < len(params); i += 2 {
		v.Set(params[i], params[i+1])
	}
	return v.Encode()
}

func basic(id, secret string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) }
}

func header(name, value string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

func decodeTokenResponse(t testing.TB, rec *httptest.ResponseRecorder) authserver.TokenResponse {
	t.Helper()
	var resp authserver.TokenResponse
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	return resp
}

// jwtPart decodes the header (0) or payload (1) of a compact JWS.
func jwtPart(t testing.TB, token string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}
