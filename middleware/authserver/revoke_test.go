package authserver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

// revoke sends a revocation request; without options it authenticates as
// client A.
func (x *endpointsEnv) revoke(form url.Values, opts ...func(*http.Request)) *httptest.ResponseRecorder {
	if opts == nil {
		opts = append(opts, basic(clientA, clientASecret))
	}
	return formPost(x.rv, "https://auth.example.org/revoke", form, opts...)
}

// requireRevoked200 requires the empty 200 answer of the endpoint.
func requireRevoked200(t testing.TB, rec *httptest.ResponseRecorder) {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Empty(t, rec.Body.String())
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "no-cache", rec.Header().Get("Pragma"))
	assert.Equal(t, "0", rec.Header().Get("Content-Length"))
}

// requireFamilyRevoked checks every way a revoked family shows.
func (x *endpointsEnv) requireFamilyRevoked(t testing.TB, tr authserver.TokenResponse) {
	t.Helper()
	rec := x.refresh(tr.RefreshToken)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Equal(t, bodyInvalidGrant, rec.Body.String())
	_, err := x.store.Rotate(context.Background(), tokenstore.RotateRequest{
		Presented: tokenstore.ParseRefreshToken(tr.RefreshToken), Next: tokenstore.HashToken("next"), ClientID: clientA, Now: x.clock.Now(),
	})
	assert.ErrorIs(t, err, tokenstore.ErrRevoked)
	assert.Equal(t, bodyInactive, x.introspectToken(t, tr.AccessToken, ""))
	assert.Equal(t, bodyInactive, x.introspectToken(t, tr.RefreshToken, ""))
}

func TestRevokeOwnTokens(t *testing.T) {
	tests := []struct {
		name string
		// token picks the token to revoke from the grant's tokens.
		token func(usedRT string, tr authserver.TokenResponse) string
		hint  string
		kind  string // Reason of the audit event
	}{
		{"refresh token", func(_ string, tr authserver.TokenResponse) string { return tr.RefreshToken }, "", "refresh_token"},
		{"refresh token, hint", func(_ string, tr authserver.TokenResponse) string { return tr.RefreshToken }, "refresh_token", "refresh_token"},
		{"refresh token, wrong hint", func(_ string, tr authserver.TokenResponse) string { return tr.RefreshToken }, "access_token", "refresh_token"},
		{"refresh token, unknown hint", func(_ string, tr authserver.TokenResponse) string { return tr.RefreshToken }, "id_token", "refresh_token"},
		{"used refresh token of the family", func(used string, _ authserver.TokenResponse) string { return used }, "", "refresh_token"},
		{"access token", func(_ string, tr authserver.TokenResponse) string { return tr.AccessToken }, "", "access_token"},
		{"access token, hint", func(_ string, tr authserver.TokenResponse) string { return tr.AccessToken }, "access_token", "access_token"},
		{"access token, wrong hint", func(_ string, tr authserver.TokenResponse) string { return tr.AccessToken }, "refresh_token", "access_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newEndpointsEnv(t, nil, nil)
			used, tr, grantID := x.launchGrant(t, clientA, clientASecret, testScope)
			form := url.Values{"token": {tt.token(used, tr)}}
			if tt.hint != "" {
				form.Set("token_type_hint", tt.hint)
			}
			requireRevoked200(t, x.revoke(form))
			last := x.audit.events[len(x.audit.events)-1]
			assert.Equal(t, authserver.AuditEvent{Kind: authserver.AuditTokenRevoked, ClientID: clientA, GrantID: grantID,
				Reason: tt.kind, Time: testStart}, last)
			x.requireFamilyRevoked(t, tr)

			// Revoking again is still 200.
			requireRevoked200(t, x.revoke(form))
		})
	}
}

func TestRevokeOtherClientsToken(t *testing.T) {
	x := newEndpointsEnv(t, nil, nil)
	_, tr, grantID := x.launchGrant(t, clientA, clientASecret, testScope)
	for _, tok := range []string{tr.RefreshToken, tr.AccessToken} {
		requireRevoked200(t, x.revoke(url.Values{"token": {tok}}, basic(clientB, clientBSecret)))
		last := x.audit.events[len(x.audit.events)-1]
		assert.Equal(t, authserver.AuditEvent{Kind: authserver.AuditRevocationRefused, ClientID: clientB, GrantID: grantID,
			Time: testStart}, last)
	}
	// Client A's tokens are untouched.
	assert.Contains(t, x.introspectToken(t, tr.AccessToken, ""), `"active":true`)
	next := x.refreshOK(tr.RefreshToken)
	assert.NotEmpty(t, next.AccessToken)
}

func TestRevokePublicClient(t *testing.T) {
	x := newEndpointsEnv(t, nil, nil)
	rt, _, err := x.h.CreateGrant(context.Background(), authserver.NewGrant{ClientID: clientPublic, Scope: "launch/patient patient/*.rs"})
	require.NoError(t, err)
	requireRevoked200(t, formPost(x.rv, "https://auth.example.org/revoke", url.Values{"token": {rt}, "client_id": {clientPublic}}))
	rec := x.post(refreshForm(rt, "client_id", clientPublic))
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Equal(t, bodyInvalidGrant, rec.Body.String())
}

func TestRevokeInvalidTokens(t *testing.T) {
	x := newEndpointsEnv(t, nil, nil)
	_, tr, _ := x.launchGrant(t, clientA, clientASecret, testScope)
	otherKeys, err := authserver.NewKeySet(testKey(t, "ES384"))
	require.NoError(t, err)
	tests := []struct{ name, token, hint string }{
		{"unknown", "dGhpcyBpcyBub3QgYSB0b2tlbiBvZiBvdXJz0123456789", ""},
		{"unknown with hint", "unknown", "refresh_token"},
		{"malformed JWT", "abc.def.ghi", "access_token"},
		{"foreign access token", resign(t, otherKeys, authserver.TypeAccessToken, tr.AccessToken, nil), ""},
		{"other issuer", resign(t, x.keys, authserver.TypeAccessToken, tr.AccessToken, func(c map[string]any) { c["iss"] = "https://evil.example.org" }), ""},
		{"too large", strings.Repeat("a", 10000), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(x.audit.events)
			requireRevoked200(t, x.revoke(url.Values{"token": {tt.token}, "token_type_hint": {tt.hint}}))
			assert.Len(t, x.audit.events, n, "nothing revoked")
		})
	}
	assert.Contains(t, x.introspectToken(t, tr.RefreshToken, ""), `"active":true`)
}

func TestRevokeExpiredAccessTokenIsInvalid(t *testing.T) {
	x := newEndpointsEnv(t, nil, nil)
	_, tr, _ := x.launchGrant(t, clientA, clientASecret, testScope)
	x.clock.Advance(2 * time.Hour)
	requireRevoked200(t, x.revoke(url.Values{"token": {tr.AccessToken}}))
	// An expired access token names nothing: the family lives on.
	assert.Contains(t, x.introspectToken(t, tr.RefreshToken, ""), `"active":true`)
}

func TestRevokeRequestRules(t *testing.T) {
	x := newEndpointsEnv(t, nil, nil)
	rt := x.grant(clientA, testScope)
	tests := []struct {
		name       string
		method     string
		form       url.Values
		opts       []func(*http.Request)
		wantStatus int
		wantBody   string
	}{
		{"missing token", http.MethodPost, url.Values{}, opts(basic(clientA, clientASecret)), http.StatusBadRequest, bodyTokenRequired},
		{"no credentials", http.MethodPost, url.Values{"token": {rt}}, opts(), http.StatusUnauthorized, bodyClientAuth},
		{"no credentials, no token", http.MethodPost, url.Values{}, opts(), http.StatusUnauthorized, bodyClientAuth},
		{"wrong secret", http.MethodPost, url.Values{"token": {rt}}, opts(basic(clientA, "nope")), http.StatusUnauthorized, bodyClientAuth},
		{"confidential client without secret", http.MethodPost, url.Values{"token": {rt}, "client_id": {clientA}}, opts(),
			http.StatusUnauthorized, bodyClientAuth},
		{"GET", http.MethodGet, nil, nil, http.StatusMethodNotAllowed,
			`{"error":"invalid_request","error_description":"the revocation endpoint accepts only POST"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec *httptest.ResponseRecorder
			if tt.method == http.MethodPost {
				rec = formPost(x.rv, "https://auth.example.org/revoke", tt.form, tt.opts...)
			} else {
				req := httptest.NewRequest(tt.method, "https://auth.example.org/revoke", nil)
				rec = httptest.NewRecorder()
				x.rv.ServeHTTP(rec, req)
			}
			assert.Equal(t, tt.wantStatus, rec.Code)
			assert.Equal(t, tt.wantBody, rec.Body.String())
		})
	}
	// Nothing above revoked the token.
	assert.Contains(t, x.introspectToken(t, rt, ""), `"active":true`)
}

func TestRevokeStoreFailure(t *testing.T) {
	const body = `{"error":"temporarily_unavailable","error_description":"the token could not be revoked; retry later"}` + "\n"
	for _, mode := range []string{"failing", "silent"} {
		t.Run(mode, func(t *testing.T) {
			x := newEndpointsEnv(t, nil, func(c *authserver.RevocationConfig) { c.StoreTimeout = 20 * time.Millisecond })
			_, tr, _ := x.launchGrant(t, clientA, clientASecret, testScope)
			if mode == "failing" {
				x.faulty.down.Store(true)
			} else {
				x.faulty.block()
			}
			for _, tok := range []string{tr.RefreshToken, tr.AccessToken, "unknown"} {
				rec := x.revoke(url.Values{"token": {tok}})
				assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
				assert.Equal(t, body, rec.Body.String())
				assert.Equal(t, "1", rec.Header().Get("Retry-After"))
				assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			}
			x.faulty.down.Store(false)
			x.faulty.unblock()
			assert.Contains(t, x.introspectToken(t, tr.RefreshToken, ""), `"active":true`)
		})
	}
}

func TestRevokeCORS(t *testing.T) {
	x := newEndpointsEnv(t, nil, func(c *authserver.RevocationConfig) {
		c.CORS = authserver.CORS{AllowedOrigins: []string{"https://app.example.org"}}
	})
	req := httptest.NewRequest(http.MethodOptions, "https://auth.example.org/revoke", nil)
	req.Header.Set("Origin", "https://app.example.org")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	rec := httptest.NewRecorder()
	x.rv.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, "https://app.example.org", rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "POST", rec.Header().Get("Access-Control-Allow-Methods"))
	assert.Equal(t, "Authorization, Content-Type", rec.Header().Get("Access-Control-Allow-Headers"))

	rt, _, err := x.h.CreateGrant(context.Background(), authserver.NewGrant{ClientID: clientPublic, Scope: "patient/*.rs"})
	require.NoError(t, err)
	rec = x.revoke(url.Values{"token": {rt}, "client_id": {clientPublic}}, header("Origin", "https://app.example.org"))
	requireRevoked200(t, rec)
	assert.Equal(t, "https://app.example.org", rec.Header().Get("Access-Control-Allow-Origin"))
}

func TestNewRevocationHandlerConfig(t *testing.T) {
	x := newEndpointsEnv(t, nil, nil)
	valid := authserver.RevocationConfig{Issuer: testIssuer, Audience: testAudience, Store: x.store, Keys: x.keys,
		Clients: testClients(t, x.store, x.clock.Now)}
	_, err := authserver.NewRevocationHandler(valid)
	require.NoError(t, err)
	tests := []struct {
		name string
		mod  func(*authserver.RevocationConfig)
	}{
		{"no issuer", func(c *authserver.RevocationConfig) { c.Issuer = "" }},
		{"no audience", func(c *authserver.RevocationConfig) { c.Audience = "" }},
		{"no store", func(c *authserver.RevocationConfig) { c.Store = nil }},
		{"no keys", func(c *authserver.RevocationConfig) { c.Keys = nil }},
		{"no clients", func(c *authserver.RevocationConfig) { c.Clients = nil }},
		{"negative body size", func(c *authserver.RevocationConfig) { c.MaxBodySize = -1 }},
		{"negative token size", func(c *authserver.RevocationConfig) { c.MaxTokenSize = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.mod(&cfg)
			h, err := authserver.NewRevocationHandler(cfg)
			assert.Error(t, err)
			assert.Nil(t, h)
		})
	}
}

// FuzzRevoke sends arbitrary tokens and hints as client B, who owns
// nothing: the endpoint never panics, always answers 200 with an empty
// body, and client A's family stays usable.
func FuzzRevoke(f *testing.F) {
	x := newEndpointsEnv(f, nil, nil)
	_, tr, _ := x.launchGrant(f, clientA, clientASecret, testScope)
	f.Add(tr.AccessToken, "")
	f.Add(tr.RefreshToken, "refresh_token")
	f.Add("a.b.c", "access_token")
	f.Add("x", "unknown")
	f.Fuzz(func(t *testing.T, token, hint string) {
		if token == "" {
			return
		}
		rec := x.revoke(url.Values{"token": {token}, "token_type_hint": {hint}}, basic(clientB, clientBSecret))
		if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
			t.Fatalf("status %d, body %q", rec.Code, rec.Body.String())
		}
		if body := x.introspectToken(t, tr.RefreshToken, ""); !strings.HasPrefix(body, `{"active":true,`) {
			t.Fatalf("client A's refresh token is no longer active: %s", body)
		}
	})
}

func BenchmarkRevoke(b *testing.B) {
	x := newEndpointsEnv(b, nil, nil)
	_, tr, _ := x.launchGrant(b, clientA, clientASecret, testScope)
	body := url.Values{"token": {tr.RefreshToken}}.Encode()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "https://auth.example.org/revoke", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		basic(clientA, clientASecret)(req)
		rec := httptest.NewRecorder()
		x.rv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
