package authserver_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
)

func TestOpenIDConfiguration(t *testing.T) {
	h, err := authserver.NewOpenIDConfigurationHandler(authserver.OpenIDConfig{
		Issuer: testIssuer, AuthorizationEndpoint: authzEndpoint, TokenEndpoint: tokenEndpoint,
		JWKSURI: testIssuer + "/jwks", SigningAlgorithms: []string{"RS256"},
	})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, testIssuer+authserver.OpenIDConfigurationPath, nil))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "*", rec.Header().Get("Access-Control-Allow-Origin"))
	assert.JSONEq(t, `{
		"issuer": "https://auth.example.org",
		"authorization_endpoint": "https://auth.example.org/authorize",
		"token_endpoint": "https://auth.example.org/token",
		"jwks_uri": "https://auth.example.org/jwks",
		"scopes_supported": ["openid", "fhirUser", "profile"],
		"response_types_supported": ["code"],
		"response_modes_supported": ["query"],
		"grant_types_supported": ["authorization_code", "refresh_token"],
		"subject_types_supported": ["public"],
		"id_token_signing_alg_values_supported": ["RS256"],
		"token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
		"claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "fhirUser", "profile"],
		"code_challenge_methods_supported": ["S256"],
		"request_parameter_supported": false,
		"request_uri_parameter_supported": false,
		"authorization_response_iss_parameter_supported": true
	}`, rec.Body.String())

	for name, cfg := range map[string]authserver.OpenIDConfig{
		"no issuer":         {AuthorizationEndpoint: authzEndpoint, TokenEndpoint: tokenEndpoint, JWKSURI: testIssuer + "/jwks", SigningAlgorithms: []string{"RS256"}},
		"issuer with query": {Issuer: testIssuer + "?x=1", AuthorizationEndpoint: authzEndpoint, TokenEndpoint: tokenEndpoint, JWKSURI: testIssuer + "/jwks", SigningAlgorithms: []string{"RS256"}},
		"no algorithms":     {Issuer: testIssuer, AuthorizationEndpoint: authzEndpoint, TokenEndpoint: tokenEndpoint, JWKSURI: testIssuer + "/jwks"},
		"HS256":             {Issuer: testIssuer, AuthorizationEndpoint: authzEndpoint, TokenEndpoint: tokenEndpoint, JWKSURI: testIssuer + "/jwks", SigningAlgorithms: []string{"HS256"}},
	} {
		_, err := authserver.NewOpenIDConfigurationHandler(cfg)
		assert.ErrorIs(t, err, authserver.ErrInvalidDiscovery, name)
	}
}

// TestAuthorizationCapabilities: the endpoint advertises what it does,
// and the discovery document accepts it.
func TestAuthorizationCapabilities(t *testing.T) {
	e := newAuthzEnv(t, nil)
	assert.Equal(t, []string{"launch-ehr", "launch-standalone", "authorize-post", "context-ehr-patient",
		"context-ehr-encounter", "context-banner", "context-style", "context-standalone-patient"}, e.authz.Capabilities())
	noPicker := newAuthzEnv(t, func(c *authserver.AuthorizationConfig) { c.Patients = nil })
	assert.NotContains(t, noPicker.authz.Capabilities(), "context-standalone-patient")

	_, err := authserver.NewDiscoveryHandler(authserver.DiscoveryConfig{
		TokenEndpoint: tokenEndpoint, AuthorizationEndpoint: authzEndpoint, ExtraCapabilities: e.authz.Capabilities(),
	})
	require.NoError(t, err)
}
