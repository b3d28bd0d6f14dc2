package endpointtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

// backendClientID is the SMART Backend Services client of the replay tests.
const backendClientID = "endpoint-test-bulk"

// invalidClientBody is the one answer to a refused client assertion.
const invalidClientBody = `{"error":"invalid_client","error_description":"client authentication failed"}` + "\n"

// backendClient is a private_key_jwt client with an ES384 key, registered
// for system/*.rs.
type backendClient struct {
	client authserver.Client
	key    *ecdsa.PrivateKey
}

func newBackendClient(t *testing.T) backendClient {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	pt, err := key.PublicKey.Bytes()
	require.NoError(t, err)
	b64 := base64.RawURLEncoding.EncodeToString
	jwks, err := json.Marshal(map[string]any{"keys": []any{map[string]string{
		"kty": "EC", "crv": "P-384", "kid": "bulk-1", "x": b64(pt[1:49]), "y": b64(pt[49:]),
	}}})
	require.NoError(t, err)
	return backendClient{
		client: authserver.Client{ID: backendClientID, AuthMethod: authserver.AuthPrivateKeyJWT, JWKS: jwks, Scope: "system/*.rs"},
		key:    key,
	}
}

// assertion returns a new ES384 client assertion (a new jti).
func (c backendClient) assertion(t *testing.T) string {
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodES384, jwt.RegisteredClaims{
		Issuer: backendClientID, Subject: backendClientID, Audience: jwt.ClaimStrings{tokenEndpoint},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(4 * time.Minute)),
		ID: tokenstore.NewID(),
	})
	tok.Header["kid"] = "bulk-1"
	s, err := tok.SignedString(c.key)
	require.NoError(t, err)
	return s
}

// clientCredentials posts a client_credentials request for system/*.rs
// authenticated by assertion.
func clientCredentials(h http.Handler, assertion string) *httptest.ResponseRecorder {
	form := url.Values{
		"grant_type": {"client_credentials"}, "scope": {"system/*.rs"},
		"client_assertion_type": {authserver.ClientAssertionTypeJWTBearer}, "client_assertion": {assertion},
	}
	req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// backendInstances returns two token endpoints with the client_credentials
// grant and the backend client, on the two stores of pair (each instance's
// store is its replay guard).
func backendInstances(t *testing.T, pair storePair, client backendClient) [2]*authserver.TokenHandler {
	a, b := pair(t)
	o := handlerOptions{clients: []authserver.Client{client.client}, clientCredentials: true}
	return [2]*authserver.TokenHandler{newHandlerWith(t, a, o), newHandlerWith(t, b, o)}
}

// TestAssertionReplayAcrossInstances: a client assertion is single use
// across every instance that shares the store (SMART
// client-confidential-asymmetric, "Signature Verification": the jti must
// not have been "previously encountered for the given iss"): once one
// instance accepted it for a client_credentials token, the other refuses it
// with 401 invalid_client, and so does the first. On Redis the instances
// have clients of their own (ContextTimeoutEnabled) on one key prefix.
func TestAssertionReplayAcrossInstances(t *testing.T) {
	for name, pair := range storePairs() {
		t.Run(name, func(t *testing.T) {
			client := newBackendClient(t)
			instances := backendInstances(t, pair, client)
			a := client.assertion(t)

			rec := clientCredentials(instances[0], a)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			var resp tokenResponse
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
			require.Equal(t, "system/*.rs", resp.Scope)
			require.Empty(t, resp.RefreshToken)

			for i, h := range []http.Handler{instances[1], instances[0]} {
				rec := clientCredentials(h, a)
				require.Equal(t, http.StatusUnauthorized, rec.Code, "replay %d", i)
				require.Equal(t, invalidClientBody, rec.Body.String(), "replay %d", i)
				require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			}
			// A new assertion works at either instance.
			require.Equal(t, http.StatusOK, clientCredentials(instances[1], client.assertion(t)).Code)
		})
	}
}

// TestConcurrentAssertionReplay: presenters simultaneous presentations of
// one client assertion, alternately through two instances sharing a store,
// get exactly one 200; every other is 401 invalid_client — every
// repetition, on every store.
func TestConcurrentAssertionReplay(t *testing.T) {
	const replayRepetitions = 10
	for name, pair := range storePairs() {
		t.Run(name, func(t *testing.T) {
			client := newBackendClient(t)
			instances := backendInstances(t, pair, client)
			for rep := range replayRepetitions {
				a := client.assertion(t)
				statuses := make([]int, presenters)
				bodies := make([]string, presenters)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range presenters {
					wg.Go(func() {
						<-start
						rec := clientCredentials(instances[i%2], a)
						statuses[i], bodies[i] = rec.Code, rec.Body.String()
					})
				}
				close(start)
				wg.Wait()
				ok := 0
				for i, status := range statuses {
					switch {
					case status == http.StatusOK:
						ok++
					case status != http.StatusUnauthorized || bodies[i] != invalidClientBody:
						t.Errorf("repetition %d, presentation %d: %d %s", rep, i, status, bodies[i])
					}
				}
				require.Equal(t, 1, ok, "repetition %d: answers 200", rep)
			}
		})
	}
}
