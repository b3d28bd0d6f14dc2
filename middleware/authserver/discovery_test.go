package authserver_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

const discoveryURL = "https://fhir.example.org/r4/.well-known/smart-configuration"

func serveDiscovery(t *testing.T, h http.Handler, method string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, discoveryURL, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestDiscoveryDocument(t *testing.T) {
	assertionAuth, err := authserver.NewClientAuthenticator(authserver.ClientAuthConfig{
		Clients:             mustStaticClients(t),
		TokenEndpoint:       "https://auth.example.org/token",
		Replay:              tokenstore.NewMemoryStore(tokenstore.MemoryOptions{}),
		AssertionAlgorithms: []string{"ES384", "RS384", "PS256"},
	})
	require.NoError(t, err)

	tests := []struct {
		name string
		cfg  authserver.DiscoveryConfig
		want string
	}{
		{
			name: "minimal: refresh only, every client type",
			cfg:  authserver.DiscoveryConfig{TokenEndpoint: "https://auth.example.org/token"},
			want: `{"grant_types_supported":["refresh_token"],` +
				`"token_endpoint":"https://auth.example.org/token",` +
				`"token_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post","private_key_jwt","none"],` +
				`"token_endpoint_auth_signing_alg_values_supported":["RS384","ES384"],` +
				`"code_challenge_methods_supported":["S256"],` +
				`"capabilities":["client-public","client-confidential-symmetric","client-confidential-asymmetric",` +
				`"permission-offline","permission-online","permission-patient","permission-user","permission-v1","permission-v2"]}`,
		},
		{
			name: "full: launch, openid, every endpoint, extras",
			cfg: authserver.DiscoveryConfig{
				Issuer:                "https://auth.example.org",
				JWKSURI:               "https://auth.example.org/jwks",
				AuthorizationEndpoint: "https://auth.example.org/authorize",
				TokenEndpoint:         "https://auth.example.org/token",
				RegistrationEndpoint:  "https://auth.example.org/register",
				ManagementEndpoint:    "https://auth.example.org/manage",
				IntrospectionEndpoint: "https://auth.example.org/introspect",
				RevocationEndpoint:    "https://auth.example.org/revoke",
				ScopesSupported:       []string{"openid", "fhirUser", "launch", "launch/patient", "patient/*.rs", "offline_access", "openid"},
				ExtraCapabilities: []string{"launch-ehr", "launch-standalone", "context-ehr-patient",
					"context-standalone-patient", "context-banner", "context-style", "sso-openid-connect", "permission-v2"},
				Extra: map[string]any{
					"user_access_brand_bundle": "https://brands.example.org/bundle.json",
					"associated_endpoints": []map[string]any{
						{"url": "https://state.example.org", "capabilities": []string{"smart-app-state"}},
					},
				},
			},
			want: `{"issuer":"https://auth.example.org",` +
				`"jwks_uri":"https://auth.example.org/jwks",` +
				`"authorization_endpoint":"https://auth.example.org/authorize",` +
				`"grant_types_supported":["authorization_code","refresh_token"],` +
				`"token_endpoint":"https://auth.example.org/token",` +
				`"token_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post","private_key_jwt","none"],` +
				`"token_endpoint_auth_signing_alg_values_supported":["RS384","ES384"],` +
				`"registration_endpoint":"https://auth.example.org/register",` +
				`"scopes_supported":["openid","fhirUser","launch","launch/patient","patient/*.rs","offline_access"],` +
				`"response_types_supported":["code"],` +
				`"management_endpoint":"https://auth.example.org/manage",` +
				`"introspection_endpoint":"https://auth.example.org/introspect",` +
				`"revocation_endpoint":"https://auth.example.org/revoke",` +
				`"code_challenge_methods_supported":["S256"],` +
				`"capabilities":["client-public","client-confidential-symmetric","client-confidential-asymmetric",` +
				`"permission-offline","permission-online","permission-patient","permission-user","permission-v1","permission-v2",` +
				`"launch-ehr","launch-standalone","context-ehr-patient","context-standalone-patient","context-banner","context-style",` +
				`"sso-openid-connect"],` +
				`"associated_endpoints":[{"capabilities":["smart-app-state"],"url":"https://state.example.org"}],` +
				`"user_access_brand_bundle":"https://brands.example.org/bundle.json"}`,
		},
		{
			name: "symmetric clients only: no signing algorithms",
			cfg: authserver.DiscoveryConfig{
				TokenEndpoint:                     "https://auth.example.org/token",
				TokenEndpointAuthMethodsSupported: []authserver.AuthMethod{authserver.AuthClientSecretBasic},
			},
			want: `{"grant_types_supported":["refresh_token"],` +
				`"token_endpoint":"https://auth.example.org/token",` +
				`"token_endpoint_auth_methods_supported":["client_secret_basic"],` +
				`"code_challenge_methods_supported":["S256"],` +
				`"capabilities":["client-confidential-symmetric",` +
				`"permission-offline","permission-online","permission-patient","permission-user","permission-v1","permission-v2"]}`,
		},
		{
			name: "capabilities replaced, algorithms from the client authenticator, localhost http",
			cfg: authserver.DiscoveryConfig{
				TokenEndpoint:                     "http://localhost:8080/token",
				IntrospectionEndpoint:             "http://127.0.0.1:8080/introspect",
				RevocationEndpoint:                "http://[::1]:8080/revoke",
				TokenEndpointAuthMethodsSupported: []authserver.AuthMethod{authserver.AuthPrivateKeyJWT},
				Clients:                           assertionAuth,
				GrantTypesSupported:               []string{"refresh_token", "client_credentials"},
				Capabilities:                      []string{"client-confidential-asymmetric", "permission-v2"},
			},
			want: `{"grant_types_supported":["refresh_token","client_credentials"],` +
				`"token_endpoint":"http://localhost:8080/token",` +
				`"token_endpoint_auth_methods_supported":["private_key_jwt"],` +
				`"token_endpoint_auth_signing_alg_values_supported":["ES384","RS384","PS256"],` +
				`"introspection_endpoint":"http://127.0.0.1:8080/introspect",` +
				`"revocation_endpoint":"http://[::1]:8080/revoke",` +
				`"code_challenge_methods_supported":["S256"],` +
				`"capabilities":["client-confidential-asymmetric","permission-v2"]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := authserver.NewDiscoveryHandler(tt.cfg)
			require.NoError(t, err)
			rec := serveDiscovery(t, h, http.MethodGet, map[string]string{"Accept": "text/html"})
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, tt.want, rec.Body.String())
			assert.NotContains(t, rec.Body.String(), "plain")
		})
	}
}

func mustStaticClients(t *testing.T) *authserver.StaticClients {
	t.Helper()
	c, err := authserver.NewStaticClients()
	require.NoError(t, err)
	return c
}

func TestDiscoveryHeaders(t *testing.T) {
	h, err := authserver.NewDiscoveryHandler(authserver.DiscoveryConfig{TokenEndpoint: "https://auth.example.org/token"})
	require.NoError(t, err)
	get := serveDiscovery(t, h, http.MethodGet, nil)
	body := get.Body.String()

	tests := []struct {
		name       string
		method     string
		hdr        map[string]string
		wantStatus int
		wantHeader http.Header
		wantBody   string
	}{
		{
			name: "GET", method: http.MethodGet, hdr: map[string]string{"Origin": "https://app.example"},
			wantStatus: http.StatusOK,
			wantHeader: http.Header{
				"Access-Control-Allow-Origin": {"*"},
				"Content-Type":                {"application/json"},
				"Content-Length":              {strconv.Itoa(len(body))},
				"Cache-Control":               {"public, max-age=300"},
				"X-Content-Type-Options":      {"nosniff"},
			},
			wantBody: body,
		},
		{
			name: "HEAD", method: http.MethodHead,
			wantStatus: http.StatusOK,
			wantHeader: http.Header{
				"Access-Control-Allow-Origin": {"*"},
				"Content-Type":                {"application/json"},
				"Content-Length":              {strconv.Itoa(len(body))},
				"Cache-Control":               {"public, max-age=300"},
				"X-Content-Type-Options":      {"nosniff"},
			},
		},
		{
			name: "preflight", method: http.MethodOptions,
			hdr: map[string]string{
				"Origin": "https://app.example", "Access-Control-Request-Method": "GET",
				"Access-Control-Request-Headers": "authorization, x-requested-with",
			},
			wantStatus: http.StatusNoContent,
			wantHeader: http.Header{
				"Access-Control-Allow-Origin":  {"*"},
				"Access-Control-Allow-Methods": {"GET, HEAD, OPTIONS"},
				"Access-Control-Allow-Headers": {"Authorization, *"},
				"Access-Control-Max-Age":       {"86400"},
				"Allow":                        {"GET, HEAD, OPTIONS"},
			},
		},
		{
			name: "plain OPTIONS", method: http.MethodOptions,
			wantStatus: http.StatusNoContent,
			wantHeader: http.Header{"Access-Control-Allow-Origin": {"*"}, "Allow": {"GET, HEAD, OPTIONS"}},
		},
		{
			name: "POST", method: http.MethodPost, wantStatus: http.StatusMethodNotAllowed,
			wantHeader: http.Header{"Access-Control-Allow-Origin": {"*"}, "Allow": {"GET, HEAD, OPTIONS"}},
		},
		{
			name: "PUT", method: http.MethodPut, wantStatus: http.StatusMethodNotAllowed,
			wantHeader: http.Header{"Access-Control-Allow-Origin": {"*"}, "Allow": {"GET, HEAD, OPTIONS"}},
		},
		{
			name: "DELETE", method: http.MethodDelete, wantStatus: http.StatusMethodNotAllowed,
			wantHeader: http.Header{"Access-Control-Allow-Origin": {"*"}, "Allow": {"GET, HEAD, OPTIONS"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serveDiscovery(t, h, tt.method, tt.hdr)
			assert.Equal(t, tt.wantStatus, rec.Code)
			assert.Equal(t, tt.wantHeader, rec.Header())
			assert.Equal(t, tt.wantBody, rec.Body.String())
		})
	}
}

func TestDiscoveryMaxAge(t *testing.T) {
	for _, tt := range []struct {
		maxAge time.Duration
		want   string
	}{
		{0, "public, max-age=300"},
		{time.Hour, "public, max-age=3600"},
		{-1, "no-cache"},
	} {
		h, err := authserver.NewDiscoveryHandler(authserver.DiscoveryConfig{
			TokenEndpoint: "https://auth.example.org/token", MaxAge: tt.maxAge,
		})
		require.NoError(t, err)
		assert.Equal(t, tt.want, serveDiscovery(t, h, http.MethodGet, nil).Header().Get("Cache-Control"))
	}
}

func TestDiscoveryConfigErrors(t *testing.T) {
	const tok = "https://auth.example.org/token"
	tests := []struct {
		name string
		cfg  authserver.DiscoveryConfig
	}{
		{"no token endpoint", authserver.DiscoveryConfig{}},
		{"relative token endpoint", authserver.DiscoveryConfig{TokenEndpoint: "/token"}},
		{"host without scheme", authserver.DiscoveryConfig{TokenEndpoint: "auth.example.org/token"}},
		{"opaque URL", authserver.DiscoveryConfig{TokenEndpoint: "localhost:8080"}},
		{"http for a public host", authserver.DiscoveryConfig{TokenEndpoint: "http://auth.example.org/token"}},
		{"http for a private address", authserver.DiscoveryConfig{TokenEndpoint: "http://10.0.0.1/token"}},
		{"other scheme", authserver.DiscoveryConfig{TokenEndpoint: "ftp://auth.example.org/token"}},
		{"user info", authserver.DiscoveryConfig{TokenEndpoint: "https://user:pw@auth.example.org/token"}},
		{"fragment", authserver.DiscoveryConfig{TokenEndpoint: "https://auth.example.org/token#x"}},
		{"empty fragment", authserver.DiscoveryConfig{TokenEndpoint: "https://auth.example.org/token#"}},
		{"issuer with query", authserver.DiscoveryConfig{TokenEndpoint: tok, Issuer: "https://auth.example.org?a=b"}},
		{"bad jwks_uri", authserver.DiscoveryConfig{TokenEndpoint: tok, JWKSURI: "jwks.json"}},
		{"bad introspection endpoint", authserver.DiscoveryConfig{TokenEndpoint: tok, IntrospectionEndpoint: "http://example.org/i"}},
		{"bad revocation endpoint", authserver.DiscoveryConfig{TokenEndpoint: tok, RevocationEndpoint: "revoke"}},
		{"bad management endpoint", authserver.DiscoveryConfig{TokenEndpoint: tok, ManagementEndpoint: "//manage"}},
		{"bad registration endpoint", authserver.DiscoveryConfig{TokenEndpoint: tok, RegistrationEndpoint: "https://"}},
		{"bad authorization endpoint", authserver.DiscoveryConfig{TokenEndpoint: tok, AuthorizationEndpoint: "authorize"}},
		{"authorization_code without authorization endpoint", authserver.DiscoveryConfig{
			TokenEndpoint: tok, GrantTypesSupported: []string{"authorization_code"}}},
		{"response types without authorization endpoint", authserver.DiscoveryConfig{
			TokenEndpoint: tok, ResponseTypesSupported: []string{"code"}}},
		{"launch-ehr without authorization endpoint", authserver.DiscoveryConfig{
			TokenEndpoint: tok, ExtraCapabilities: []string{"launch-ehr"}}},
		{"launch-standalone without authorization endpoint", authserver.DiscoveryConfig{
			TokenEndpoint: tok, Capabilities: []string{"launch-standalone"}}},
		{"sso-openid-connect without issuer", authserver.DiscoveryConfig{
			TokenEndpoint: tok, JWKSURI: "https://auth.example.org/jwks", ExtraCapabilities: []string{"sso-openid-connect"}}},
		{"sso-openid-connect without jwks_uri", authserver.DiscoveryConfig{
			TokenEndpoint: tok, Issuer: "https://auth.example.org", ExtraCapabilities: []string{"sso-openid-connect"}}},
		{"unknown auth method", authserver.DiscoveryConfig{
			TokenEndpoint: tok, TokenEndpointAuthMethodsSupported: []authserver.AuthMethod{"tls_client_auth"}}},
		{"alg none", authserver.DiscoveryConfig{
			TokenEndpoint: tok, TokenEndpointAuthSigningAlgValuesSupported: []string{"none"}}},
		{"HMAC alg", authserver.DiscoveryConfig{
			TokenEndpoint: tok, TokenEndpointAuthSigningAlgValuesSupported: []string{"HS256"}}},
		{"empty capability", authserver.DiscoveryConfig{TokenEndpoint: tok, ExtraCapabilities: []string{""}}},
		{"capability with space", authserver.DiscoveryConfig{TokenEndpoint: tok, ExtraCapabilities: []string{"launch ehr"}}},
		{"scope with space", authserver.DiscoveryConfig{TokenEndpoint: tok, ScopesSupported: []string{"openid profile"}}},
		{"empty grant type", authserver.DiscoveryConfig{TokenEndpoint: tok, GrantTypesSupported: []string{""}}},
		{"Extra shadows code_challenge_methods_supported (plain)", authserver.DiscoveryConfig{
			TokenEndpoint: tok, Extra: map[string]any{"code_challenge_methods_supported": []string{"S256", "plain"}}}},
		{"Extra shadows capabilities", authserver.DiscoveryConfig{
			TokenEndpoint: tok, Extra: map[string]any{"capabilities": []string{}}}},
		{"Extra with empty name", authserver.DiscoveryConfig{TokenEndpoint: tok, Extra: map[string]any{"": 1}}},
		{"Extra not encodable", authserver.DiscoveryConfig{TokenEndpoint: tok, Extra: map[string]any{"x": func() {}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := authserver.NewDiscoveryHandler(tt.cfg)
			require.ErrorIs(t, err, authserver.ErrInvalidDiscovery)
			assert.Nil(t, h)
		})
	}
}

func TestDefaultCapabilities(t *testing.T) {
	assert.Equal(t, []string{
		"client-public", "permission-offline", "permission-online", "permission-patient",
		"permission-user", "permission-v1", "permission-v2",
	}, authserver.DefaultCapabilitiesForTest([]authserver.AuthMethod{authserver.AuthNone}))
	assert.Equal(t, []string{
		"client-confidential-symmetric", "client-confidential-asymmetric", "permission-offline",
		"permission-online", "permission-patient", "permission-user", "permission-v1", "permission-v2",
	}, authserver.DefaultCapabilitiesForTest([]authserver.AuthMethod{authserver.AuthClientSecretPost, authserver.AuthPrivateKeyJWT}))
}

func BenchmarkDiscovery(b *testing.B) {
	h, err := authserver.NewDiscoveryHandler(authserver.DiscoveryConfig{TokenEndpoint: "https://auth.example.org/token"})
	require.NoError(b, err)
	req := httptest.NewRequest(http.MethodGet, discoveryURL, nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}
