package endpointtest

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

const (
	issuer        = "https://auth.example.org"
	tokenEndpoint = issuer + "/token"
	audience      = "https://fhir.example.org/r4"
	clientID      = "endpoint-test-app"
	clientSecret  = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0" // test only
	grantScope    = "openid fhirUser offline_access launch/patient patient/*.rs"
)

// handlerOptions adjust the token endpoint newHandlerWith builds. Zero
// values are the library's defaults.
type handlerOptions struct {
	// now is the clock of the instance (the token endpoint's and its
	// client authenticator's).
	now func() time.Time
	// retryWindow and storeTimeout are TokenConfig's.
	retryWindow, storeTimeout time.Duration
	// clients are registered besides the client_secret_basic test client.
	clients []authserver.Client
	// clientCredentials enables the client_credentials grant.
	clientCredentials bool
}

// newHandler returns a token endpoint on store with one confidential
// client (client_secret_basic) and an ES256 signer.
func newHandler(t testing.TB, store tokenstore.Store) *authserver.TokenHandler {
	t.Helper()
	return newHandlerWith(t, store, handlerOptions{})
}

// newHandlerWith is newHandler with options. The store is also the
// replay guard of client assertions.
func newHandlerWith(t testing.TB, store tokenstore.Store, o handlerOptions) *authserver.TokenHandler {
	t.Helper()
	key, err := authserver.GenerateSigningKey("ES256")
	require.NoError(t, err)
	signer, err := authserver.NewKeySet(key)
	require.NoError(t, err)
	clients, err := authserver.NewStaticClients(append([]authserver.Client{{
		ID: clientID, AuthMethod: authserver.AuthClientSecretBasic, SecretHash: authserver.HashSecret(clientSecret),
	}}, o.clients...)...)
	require.NoError(t, err)
	auth, err := authserver.NewClientAuthenticator(authserver.ClientAuthConfig{
		Clients: clients, TokenEndpoint: tokenEndpoint, Replay: store, Now: o.now, StoreTimeout: o.storeTimeout,
	})
	require.NoError(t, err)
	var cc *authserver.ClientCredentialsConfig
	if o.clientCredentials {
		cc = &authserver.ClientCredentialsConfig{}
	}
	h, err := authserver.NewTokenHandler(authserver.TokenConfig{
		Issuer:            issuer,
		Audience:          audience,
		Store:             store,
		Clients:           auth,
		Keys:              signer,
		RetryWindow:       o.retryWindow,
		StoreTimeout:      o.storeTimeout,
		ClientCredentials: cc,
		Audit:             func(context.Context, authserver.AuditEvent) {},
		Logger:            slog.New(slog.DiscardHandler),
		Now:               o.now,
	})
	require.NoError(t, err)
	return h
}

// newGrant creates a grant through h and returns its first refresh token.
func newGrant(t testing.TB, h *authserver.TokenHandler) string {
	t.Helper()
	rt, _, err := h.CreateGrant(context.Background(), authserver.NewGrant{
		ClientID: clientID, Subject: "user-1", Scope: grantScope,
		Launch: authserver.Launch{Patient: "pat-123"},
	})
	require.NoError(t, err)
	return rt
}

// newGrantOrError is newGrant for goroutines other than the test's: it
// reports a failure with t.Error.
func newGrantOrError(t testing.TB, h *authserver.TokenHandler) string {
	rt, _, err := h.CreateGrant(context.Background(), authserver.NewGrant{
		ClientID: clientID, Subject: "user-1", Scope: grantScope,
		Launch: authserver.Launch{Patient: "pat-123"},
	})
	if err != nil {
		t.Error(err)
	}
	return rt
}

// refresh posts a refresh_token request for rt and returns the response.
func refresh(h http.Handler, rt string) *httptest.ResponseRecorder {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, clientSecret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// tokenResponse is the part of a successful token response the tests read.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	Patient      string `json:"patient"`
}

// requireRefreshed requires rec to be a successful token response and
// returns it.
func requireRefreshed(t testing.TB, rec *httptest.ResponseRecorder) tokenResponse {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	var resp tokenResponse
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	require.NotEmpty(t, resp.AccessToken)
	require.Equal(t, "Bearer", resp.TokenType)
	require.NotEmpty(t, resp.RefreshToken)
	require.Equal(t, grantScope, resp.Scope)
	require.Equal(t, "pat-123", resp.Patient)
	return resp
}

// refreshResult is the outcome of a refresh: the status and, for a 200,
// the new refresh token.
type refreshResult struct {
	status       int
	refreshToken string
}

// refreshOutcome posts a refresh for rt through h and returns its outcome;
// a 200 without a refresh token is reported with t.Error (safe from any
// goroutine).
func refreshOutcome(t testing.TB, h http.Handler, rt string) refreshResult {
	rec := refresh(h, rt)
	res := refreshResult{status: rec.Code}
	if rec.Code == http.StatusOK {
		var resp tokenResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.RefreshToken == "" {
			t.Errorf("200 without a refresh token: %v", err)
		}
		res.refreshToken = resp.RefreshToken
	}
	return res
}

// requireOAuthError requires rec to be the OAuth error response with the
// given status, code and description.
func requireOAuthError(t testing.TB, rec *httptest.ResponseRecorder, status int, code, description string) {
	t.Helper()
	require.Equal(t, status, rec.Code, "body: %s", rec.Body)
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	require.JSONEq(t, `{"error":"`+code+`","error_description":"`+description+`"}`, rec.Body.String())
}
