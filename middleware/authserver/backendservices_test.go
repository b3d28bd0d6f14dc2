package authserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

// TestBackendServicesEndToEnd runs SMART Backend Services (SMART App Launch
// 2.2, backend-services.md) as a Bulk Data client would, over HTTP with the
// real clock:
//
//  1. the client's ES384 public key is registered by JWK Set URL, served by
//     an httptest TLS server (client-confidential-asymmetric.md,
//     "Registering a client"; the server fetches it per "Signature
//     Verification");
//  2. discovery advertises the grant, the capability, private_key_jwt and
//     ES384;
//  3. a client_credentials request with an ES384 assertion and
//     scope=system/*.rs gets a 300 s access token;
//  4. GET [base]/$export with it passes middleware.Authenticate (keys from
//     the authorization server's JWK Set URL) and RequireFHIRScopes and
//     reaches the server's kick-off (202);
//  5. a request for user/ scopes is refused with invalid_scope;
//  6. a token with system/Patient.rs alone may export Patients but gets 403
//     on $export?_type=Observation and on a full export (Bulk Data IG,
//     authorization.md, "Enforcing Authorization").
func TestBackendServicesEndToEnd(t *testing.T) {
	ctx := t.Context()
	k := ccKeys()

	// The client's JWK Set URL.
	clientJWKS := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write(jwksOf(t, publicJWK(t, &k.es384.PublicKey, "backend-es384")))
	}))
	defer clientJWKS.Close()

	// The authorization server: token endpoint, JWK Set, discovery.
	authMux := http.NewServeMux()
	authSrv := httptest.NewServer(authMux)
	defer authSrv.Close()
	tokenURL := authSrv.URL + "/token"
	fhirMux := http.NewServeMux()
	fhirSrv := httptest.NewServer(fhirMux)
	defer fhirSrv.Close()
	fhirBase := fhirSrv.URL + "/fhir"

	store := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	clients, err := authserver.NewStaticClients(authserver.Client{
		ID: "bulk-exporter", AuthMethod: authserver.AuthPrivateKeyJWT,
		JWKSURL: clientJWKS.URL + "/jwks.json", Scope: "system/*.rs",
	})
	require.NoError(t, err)
	clientAuth, err := authserver.NewClientAuthenticator(authserver.ClientAuthConfig{
		Clients: clients, TokenEndpoint: tokenURL, Replay: store,
		AssertionAlgorithms: []string{"ES384", "RS384"},
		HTTPClient:          clientJWKS.Client(), // trusts the test TLS certificate
	})
	require.NoError(t, err)
	key, err := authserver.GenerateSigningKey("ES256")
	require.NoError(t, err)
	keys, err := authserver.NewKeySet(key)
	require.NoError(t, err)
	tokens, err := authserver.NewTokenHandler(authserver.TokenConfig{
		Issuer: authSrv.URL, Audience: fhirBase, Store: store, Clients: clientAuth, Keys: keys,
		ClientCredentials: &authserver.ClientCredentialsConfig{},
		Audit:             func(context.Context, authserver.AuditEvent) {},
	})
	require.NoError(t, err)
	discovery, err := authserver.NewDiscoveryHandler(authserver.DiscoveryConfig{
		Issuer: authSrv.URL, JWKSURI: authSrv.URL + "/jwks", TokenEndpoint: tokenURL,
		Tokens:                            tokens,
		TokenEndpointAuthMethodsSupported: []authserver.AuthMethod{authserver.AuthPrivateKeyJWT},
		ScopesSupported:                   []string{"system/*.rs", "system/*.read"},
	})
	require.NoError(t, err)
	authMux.Handle("POST /token", tokens)
	authMux.Handle("GET /jwks", keys.JWKSHandler())

	// The FHIR server: Authenticate with the published keys, then
	// RequireFHIRScopes in front of the $export kick-off.
	verifier, err := middleware.NewJWTVerifier(ctx, middleware.JWTConfig{
		JWKSURLs: []string{authSrv.URL + "/jwks"}, Issuers: []string{authSrv.URL}, Audience: fhirBase,
		RequireType: authserver.TypeAccessToken,
	})
	require.NoError(t, err)
	kickoff := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lc, _ := middleware.LaunchContextFrom(r.Context())
		w.Header().Set("Content-Location", fhirBase+"/$export-poll-status?client="+url.QueryEscape(lc.ClientID))
		w.WriteHeader(http.StatusAccepted)
	})
	fhirMux.Handle("/fhir/", middleware.Authenticate(verifier)(middleware.RequireFHIRScopes(middleware.WithBasePath("/fhir"))(kickoff)))
	fhirMux.Handle("GET /fhir/.well-known/smart-configuration", discovery)

	// 2. Discovery.
	resp, err := http.Get(fhirBase + "/.well-known/smart-configuration")
	require.NoError(t, err)
	var disc map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&disc))
	resp.Body.Close()
	assert.Equal(t, []any{"refresh_token", "client_credentials"}, disc["grant_types_supported"])
	assert.Equal(t, tokenURL, disc["token_endpoint"])
	assert.Equal(t, []any{"private_key_jwt"}, disc["token_endpoint_auth_methods_supported"])
	assert.Equal(t, []any{"ES384", "RS384"}, disc["token_endpoint_auth_signing_alg_values_supported"])
	assert.Equal(t, []any{"system/*.rs", "system/*.read"}, disc["scopes_supported"])
	assert.Contains(t, disc["capabilities"], "client-confidential-asymmetric")

	// 3. The token request.
	requestToken := func(scope string) (int, map[string]any) {
		t.Helper()
		a := assertion(t, k.es384, "ES384", "backend-es384", "bulk-exporter", tokenURL, time.Now(), nil)
		resp, err := http.PostForm(tokenURL, ccForm(a, scope))
		require.NoError(t, err)
		defer resp.Body.Close()
		var body map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return resp.StatusCode, body
	}
	status, body := requestToken("system/*.rs")
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, "Bearer", body["token_type"])
	assert.Equal(t, float64(300), body["expires_in"])
	assert.Equal(t, "system/*.rs", body["scope"])
	assert.NotContains(t, body, "refresh_token")
	everything, _ := body["access_token"].(string)

	// 4. $export with it.
	export := func(token, target string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fhirBase+target, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/fhir+json")
		req.Header.Set("Prefer", "respond-async")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	r := export(everything, "/$export")
	require.Equal(t, http.StatusAccepted, r.StatusCode)
	assert.Equal(t, fhirBase+"/$export-poll-status?client=bulk-exporter", r.Header.Get("Content-Location"))
	assert.Equal(t, http.StatusAccepted, export(everything, "/$export?_type=Observation,Patient").StatusCode)
	assert.Equal(t, http.StatusAccepted, export(everything, "/Group/g1/$export?_type=Observation").StatusCode)

	// 5. user/ scopes are refused.
	status, body = requestToken("user/*.rs")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, map[string]any{"error": "invalid_scope", "error_description": "the client_credentials grant issues system/ scopes only"}, body)

	// 6. system/Patient.rs alone.
	status, body = requestToken("system/Patient.rs")
	require.Equal(t, http.StatusOK, status, body)
	patientsOnly, _ := body["access_token"].(string)
	assert.Equal(t, http.StatusAccepted, export(patientsOnly, "/$export?_type=Patient").StatusCode)
	const denied = `Bearer realm="smartauth", error="insufficient_scope", ` +
		`error_description="The access token does not grant the scope this request requires", scope=`
	for target, hint := range map[string]string{
		"/$export?_type=Observation":         "system/Observation.rs",
		"/$export?_type=Patient,Observation": "system/Observation.rs",
		"/$export":                           "system/*.rs",
		"/Patient/$export":                   "system/*.rs",
	} {
		r := export(patientsOnly, target)
		assert.Equal(t, http.StatusForbidden, r.StatusCode, target)
		assert.Equal(t, denied+`"`+hint+`"`, r.Header.Get("WWW-Authenticate"), target)
	}
}
