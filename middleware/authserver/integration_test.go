package authserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/authserver"
)

// TestAccessTokensAcceptedByMiddleware: access tokens from the token
// endpoint are accepted by middleware.NewJWTVerifier and Authenticate with
// nothing but configuration, keys from the JWKS handler or static.
func TestAccessTokensAcceptedByMiddleware(t *testing.T) {
	for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, func(c *authserver.TokenConfig) {
				ks, err := authserver.NewKeySet(testKey(t, alg))
				require.NoError(t, err)
				c.Keys = ks
			})
			jwks := httptest.NewServer(e.keys.JWKSHandler())
			defer jwks.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()

			sources := map[string]middleware.JWTConfig{
				"JWKS URL":    {JWKSURLs: []string{jwks.URL}},
				"static keys": {StaticKeys: e.keys.PublicKeys()},
			}
			for name, cfg := range sources {
				t.Run(name, func(t *testing.T) {
					cfg.Issuers = []string{testIssuer}
					cfg.Audience = testAudience
					cfg.RequireType = "at+jwt"
					cfg.Now = e.clock.Now
					v, err := middleware.NewJWTVerifier(ctx, cfg)
					require.NoError(t, err)

					resp := e.refreshOK(e.grant(clientA, testScope))
					lc := callProtected(t, middleware.Authenticate(v), resp.AccessToken, http.StatusOK)
					assert.Equal(t, testIssuer, lc["iss"])
					assert.Equal(t, "user-1", lc["sub"])
					assert.Equal(t, clientA, lc["client_id"])
					assert.Equal(t, "pat-123", lc["patient"])
					assert.Equal(t, "enc-456", lc["encounter"])
					assert.Equal(t, "Practitioner/77", lc["fhirUser"])
					assert.Equal(t, true, lc["banner"])
					assert.Equal(t, "https://ehr.example.org/smart-style.json", lc["style"])
					assert.NotEmpty(t, lc["grant_id"])
					assert.Equal(t, true, lc["has_openid"])
				})
			}
		})
	}
}

// TestRevokedFamilyAccessTokensRefused: once reuse revoked the family, its
// access tokens are refused by Authenticate WithRevocationCheck (the
// grant_id claim names the family).
func TestRevokedFamilyAccessTokensRefused(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := middleware.NewJWTVerifier(ctx, middleware.JWTConfig{
		StaticKeys: e.keys.PublicKeys(), Issuers: []string{testIssuer}, Audience: testAudience,
		RequireType: "at+jwt", Now: e.clock.Now,
	})
	require.NoError(t, err)
	auth := middleware.Authenticate(v, middleware.WithRevocationCheck(e.store, 0), middleware.WithRevocationClock(e.clock.Now))

	rt0 := e.grant(clientA, testScope)
	r1 := e.refreshOK(rt0)
	r2 := e.refreshOK(r1.RefreshToken)
	require.Equal(t, http.StatusBadRequest, e.refresh(rt0).Code) // reuse: family revoked
	callProtected(t, auth, r1.AccessToken, http.StatusUnauthorized)
	callProtected(t, auth, r2.AccessToken, http.StatusUnauthorized)

	r := e.refreshOK(e.grant(clientA, testScope)) // another family is unaffected
	callProtected(t, auth, r.AccessToken, http.StatusOK)
}

// callProtected calls a handler behind auth with the bearer token, requires
// status, and returns what the handler read from the launch context.
func callProtected(t *testing.T, auth func(http.Handler) http.Handler, token string, status int) map[string]any {
	t.Helper()
	protected := auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lc, ok := middleware.LaunchContextFrom(r.Context())
		if !ok {
			http.Error(w, "no launch context", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"iss": lc.Issuer, "sub": lc.Subject, "client_id": lc.ClientID, "patient": lc.Patient,
			"encounter": lc.Encounter, "fhirUser": lc.FHIRUser, "banner": lc.NeedPatientBanner,
			"style": lc.SmartStyleURL, "grant_id": lc.GrantID, "has_openid": lc.Scopes.Has("openid"),
		})
	}))
	req := httptest.NewRequest(http.MethodGet, "https://fhir.example.org/r4/Patient/pat-123", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	protected.ServeHTTP(rec, req)
	require.Equal(t, status, rec.Code, rec.Body.String())
	if status != http.StatusOK {
		return nil
	}
	var got map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	return got
}
