package authserver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
)

// parseWith verifies a token with the KeySet's published keys, as a
// resource server would.
func parseWith(t testing.TB, ks *authserver.KeySet, token string, algs ...string) (jwt.MapClaims, error) {
	t.Helper()
	keys := ks.PublicKeys()
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		k, ok := keys[kid]
		if !ok {
			return nil, jwt.ErrTokenUnverifiable
		}
		return k, nil
	}, jwt.WithValidMethods(algs))
	return claims, err
}

func TestKeySetSignAlgorithms(t *testing.T) {
	for _, alg := range []string{"RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			k := testKey(t, alg)
			ks, err := authserver.NewKeySet(k)
			require.NoError(t, err)
			assert.Equal(t, alg, ks.Algorithm())
			assert.Equal(t, k.ID, ks.ActiveKeyID())
			assert.Len(t, k.ID, 43, "RFC 7638 thumbprint")
			tok, err := ks.Sign(authserver.TypeAccessToken, map[string]any{"sub": "x", "exp": time.Now().Add(time.Hour).Unix()})
			require.NoError(t, err)
			claims, err := parseWith(t, ks, tok, alg)
			require.NoError(t, err)
			assert.Equal(t, "x", claims["sub"])
			assert.Equal(t, map[string]any{"alg": alg, "kid": k.ID, "typ": "at+jwt"}, jwtPart(t, tok, 0))

			tok, err = ks.Sign("custom+jwt", map[string]any{"a": 1})
			require.NoError(t, err)
			assert.Equal(t, "custom+jwt", jwtPart(t, tok, 0)["typ"])
		})
	}
}

func TestKeySetInvalidKeys(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	hs, err := authserver.GenerateSigningKey("HS256")
	require.NoError(t, err)
	tests := []struct {
		name string
		key  authserver.SigningKey
	}{
		{"none", authserver.SigningKey{Algorithm: "none"}},
		{"unknown alg", authserver.SigningKey{Algorithm: "XX256", Key: testKey(t, "ES256").Key}},
		{"no key", authserver.SigningKey{Algorithm: "ES256"}},
		{"small RSA", authserver.SigningKey{Algorithm: "RS256", Key: small}},
		{"curve mismatch", authserver.SigningKey{Algorithm: "ES256", Key: p384}},
		{"RSA key for ES256", authserver.SigningKey{Algorithm: "ES256", Key: testKey(t, "RS256").Key}},
		{"EC key for EdDSA", authserver.SigningKey{Algorithm: "EdDSA", Key: p384}},
		{"HMAC without WithHMAC", hs},
		{"key and secret", authserver.SigningKey{Algorithm: "ES256", Key: p384, Secret: []byte("x")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := authserver.NewKeySet(tt.key)
			assert.ErrorIs(t, err, authserver.ErrInvalidSigningKey)
		})
	}
	_, err = authserver.GenerateSigningKey("none")
	assert.ErrorIs(t, err, authserver.ErrInvalidSigningKey)
}

func TestKeySetHMAC(t *testing.T) {
	hs, err := authserver.GenerateSigningKey("HS256")
	require.NoError(t, err)
	_, err = authserver.NewKeySet(authserver.SigningKey{ID: "k", Algorithm: "HS256", Secret: []byte("short")}, authserver.WithHMAC())
	assert.ErrorIs(t, err, authserver.ErrInvalidSigningKey)

	ks, err := authserver.NewKeySet(hs, authserver.WithHMAC())
	require.NoError(t, err)
	tok, err := ks.Sign(authserver.TypeJWT, map[string]any{"sub": "x"})
	require.NoError(t, err)
	_, err = jwt.Parse(tok, func(*jwt.Token) (any, error) { return hs.Secret, nil }, jwt.WithValidMethods([]string{"HS256"}))
	require.NoError(t, err)

	jwks, err := ks.PublicJWKS()
	require.NoError(t, err)
	assert.JSONEq(t, `{"keys":[]}`, string(jwks), "HMAC secrets are never published")
	assert.Empty(t, ks.PublicKeys())
}

func TestKeySetRotation(t *testing.T) {
	c := &clock{t: testStart}
	k1, k2, k3 := testKey(t, "ES256"), testKey(t, "EdDSA"), testKey(t, "RS256")
	ks, err := authserver.NewKeySet(k1, authserver.WithKeySetClock(c.Now))
	require.NoError(t, err)
	old, err := ks.Sign(authserver.TypeAccessToken, map[string]any{"sub": "old"})
	require.NoError(t, err)

	require.NoError(t, ks.Rotate(k2, c.Now().Add(time.Hour)))
	assert.Equal(t, k2.ID, ks.ActiveKeyID())
	assert.Equal(t, "EdDSA", ks.Algorithm())
	assert.ElementsMatch(t, []string{k1.ID, k2.ID}, kids(t, ks))
	_, err = parseWith(t, ks, old, "ES256")
	require.NoError(t, err, "tokens of the retired key still verify")
	assert.ErrorIs(t, ks.Rotate(k1, c.Now().Add(time.Hour)), authserver.ErrInvalidSigningKey, "kid still published")

	c.Advance(time.Hour)
	assert.Equal(t, []string{k2.ID}, kids(t, ks), "retired key unpublished after retireAfter")
	_, err = parseWith(t, ks, old, "ES256")
	require.Error(t, err)

	require.NoError(t, ks.Rotate(k3, c.Now()))
	assert.Equal(t, []string{k3.ID}, kids(t, ks), "retireAfter now: unpublished at once")
}

func TestKeySetConcurrentSignAndRotate(t *testing.T) {
	ks, err := authserver.NewKeySet(testKey(t, "ES256"))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 50 {
				tok, err := ks.Sign(authserver.TypeAccessToken, map[string]int{"i": i})
				assert.NoError(t, err)
				assert.Equal(t, 3, strings.Count(tok, ".")+1)
				_, _ = ks.PublicJWKS()
			}
		})
	}
	for range 5 {
		k, err := authserver.GenerateSigningKey("EdDSA")
		require.NoError(t, err)
		require.NoError(t, ks.Rotate(k, time.Now().Add(time.Minute)))
	}
	wg.Wait()
}

func kids(t testing.TB, ks *authserver.KeySet) []string {
	t.Helper()
	b, err := ks.PublicJWKS()
	require.NoError(t, err)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(b, &set))
	var ids []string
	for _, k := range set.Keys {
		ids = append(ids, k["kid"].(string))
	}
	return ids
}

func TestJWKSHandler(t *testing.T) {
	ks, err := authserver.NewKeySet(testKey(t, "ES256"))
	require.NoError(t, err)
	require.NoError(t, ks.Rotate(testKey(t, "RS256"), time.Now().Add(time.Hour)))
	h := ks.JWKSHandler()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/jwks", nil))
	require.Equal(t, 200, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "public, max-age=300", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "*", rec.Header().Get("Access-Control-Allow-Origin"))
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &set))
	require.Len(t, set.Keys, 2)
	rs, ec := set.Keys[0], set.Keys[1]
	assert.ElementsMatch(t, []string{"kty", "use", "alg", "kid", "n", "e"}, keysOf(rs))
	assert.Equal(t, map[string]any{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": testKey(t, "RS256").ID, "e": "AQAB", "n": rs["n"]}, rs)
	assert.ElementsMatch(t, []string{"kty", "use", "alg", "kid", "crv", "x", "y"}, keysOf(ec))
	assert.Equal(t, "P-256", ec["crv"])
	assert.NotContains(t, rec.Body.String(), `"d"`, "no private member")

	// The published keys verify what the KeySet signs, through keyfunc-style
	// JWK parsing by the verifier (see the integration test); here: HEAD,
	// OPTIONS and other methods.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/jwks", nil))
	assert.Equal(t, 200, rec.Code)
	assert.Empty(t, rec.Body.String())
	assert.NotEmpty(t, rec.Header().Get("Content-Length"))

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodOptions, "/jwks", nil))
	assert.Equal(t, 204, rec.Code)
	assert.Equal(t, "*", rec.Header().Get("Access-Control-Allow-Origin"))

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/jwks", nil))
	assert.Equal(t, 405, rec.Code)
	assert.Equal(t, "GET, HEAD, OPTIONS", rec.Header().Get("Allow"))
}

func keysOf(m map[string]any) []string {
	var k []string
	for name := range m {
		k = append(k, name)
	}
	return k
}

func benchmarkSign(b *testing.B, alg string) {
	ks, err := authserver.NewKeySet(testKey(b, alg))
	require.NoError(b, err)
	// The shape of an access token's claims.
	claims := struct {
		Iss, Aud, Sub, ClientID string
		Iat, Exp                int64
		Jti, Scope, GrantID     string
		authserver.Launch
	}{testIssuer, testAudience, "user-1", clientA, 1700000000, 1700003600,
		"abcdefghijklmnopqrstuv", testScope, "grant-abcdefghijklmnop", testLaunch()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ks.Sign(authserver.TypeAccessToken, claims); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignRS256(b *testing.B) { benchmarkSign(b, "RS256") }
func BenchmarkSignES256(b *testing.B) { benchmarkSign(b, "ES256") }
