package authserver

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

func TestAuthenticatePrivateKeyJWT(t *testing.T) {
	f := newCAFixture(t)
	keys := f.keys
	now := f.clock.Now()
	rsaPublicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&keys.rsa.PublicKey))})

	// with returns a copy of m with the given members set (nil deletes).
	with := func(m map[string]any, kv ...any) map[string]any {
		m = maps.Clone(m)
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	claims := func(kv ...any) map[string]any { return with(caClaims(caJWTID, now), kv...) }
	rs384 := caHeader("RS384", "rsa-1")
	es384 := caHeader("ES384", "ec-1")

	// byLibrary signs with golang-jwt instead of by hand.
	byLibrary := func(method jwt.SigningMethod, kid string, key any) string {
		tok := jwt.NewWithClaims(method, jwt.RegisteredClaims{
			Issuer: caJWTID, Subject: caJWTID, Audience: jwt.ClaimStrings{caTokenURL},
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)), IssuedAt: jwt.NewNumericDate(now),
			ID: "lib-" + kid + "-" + method.Alg(),
		})
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		require.NoError(t, err)
		return s
	}

	tests := []struct {
		name      string
		assertion string
		extra     []string // more form parameters
		wantID    string
		cause     error // nil: success
	}{
		{name: "RS384 by hand", assertion: caSign(t, rs384, claims(), keys.rsa), wantID: caJWTID},
		{name: "ES384 by hand", assertion: caSign(t, es384, claims(), keys.ec384), wantID: caJWTID},
		{name: "RS384 by golang-jwt", assertion: byLibrary(jwt.SigningMethodRS384, "rsa-1", keys.rsa), wantID: caJWTID},
		{name: "ES384 by golang-jwt", assertion: byLibrary(jwt.SigningMethodES384, "ec-1", keys.ec384), wantID: caJWTID},
		{name: "RS256", assertion: caSign(t, caHeader("RS256", "rsa-1"), claims(), keys.rsa), wantID: caJWTID},
		{name: "RS512", assertion: caSign(t, caHeader("RS512", "rsa-1"), claims(), keys.rsa), wantID: caJWTID},
		{name: "PS384", assertion: caSign(t, caHeader("PS384", "rsa-1"), claims(), keys.rsa), wantID: caJWTID},
		{name: "ES256", assertion: caSign(t, caHeader("ES256", "ec256-1"), claims(), keys.ec256), wantID: caJWTID},
		{name: "no typ", assertion: caSign(t, with(rs384, "typ", nil), claims(), keys.rsa), wantID: caJWTID},
		{name: "typ lower case", assertion: caSign(t, with(rs384, "typ", "jwt"), claims(), keys.rsa), wantID: caJWTID},
		{name: "typ client-authentication+jwt", assertion: caSign(t, with(rs384, "typ", "client-authentication+jwt"), claims(), keys.rsa), wantID: caJWTID},
		{name: "matching client_id", assertion: caSign(t, rs384, claims(), keys.rsa), extra: []string{"client_id", caJWTID}, wantID: caJWTID},
		{name: "aud array", assertion: caSign(t, rs384, claims("aud", []string{"https://other.example", caTokenURL}), keys.rsa), wantID: caJWTID},
		{name: "exp exactly 5 minutes ahead", assertion: caSign(t, rs384, claims("exp", now.Add(5*time.Minute).Unix()), keys.rsa), wantID: caJWTID},
		{name: "exp 1 second ahead", assertion: caSign(t, rs384, claims("exp", now.Add(time.Second).Unix()), keys.rsa), wantID: caJWTID},
		{name: "no iat", assertion: caSign(t, rs384, claims("iat", nil), keys.rsa), wantID: caJWTID},
		{name: "nbf now", assertion: caSign(t, rs384, claims("nbf", now.Unix()), keys.rsa), wantID: caJWTID},
		{name: "embedded x5u and jwk ignored", assertion: caSign(t, with(rs384, "x5u", "https://evil.example/x5u", "jwk", caJWK(t, &keys.rsaOther.PublicKey, "rsa-1")), claims(), keys.rsa), wantID: caJWTID},

		{name: "other client_id", assertion: caSign(t, rs384, claims(), keys.rsa), extra: []string{"client_id", caBothID}, cause: errClientIDMismatch},
		{name: "wrong aud", assertion: caSign(t, rs384, claims("aud", "https://other.example/token"), keys.rsa), cause: errAssertionAudience},
		{name: "aud with trailing slash", assertion: caSign(t, rs384, claims("aud", caTokenURL+"/"), keys.rsa), cause: errAssertionAudience},
		{name: "aud array without endpoint", assertion: caSign(t, rs384, claims("aud", []string{"https://other.example"}), keys.rsa), cause: errAssertionAudience},
		{name: "no aud", assertion: caSign(t, rs384, claims("aud", nil), keys.rsa), cause: errAssertionAudience},
		{name: "expired", assertion: caSign(t, rs384, claims("exp", now.Add(-time.Second).Unix()), keys.rsa), cause: errAssertionExpiry},
		{name: "exp now", assertion: caSign(t, rs384, claims("exp", now.Unix()), keys.rsa), cause: errAssertionExpiry},
		{name: "exp more than 5 minutes ahead", assertion: caSign(t, rs384, claims("exp", now.Add(5*time.Minute+time.Second).Unix()), keys.rsa), cause: errAssertionExpiry},
		{name: "exp far ahead", assertion: caSign(t, rs384, claims("exp", now.Add(24*time.Hour).Unix()), keys.rsa), cause: errAssertionExpiry},
		{name: "missing exp", assertion: caSign(t, rs384, claims("exp", nil), keys.rsa), cause: errAssertionExpiry},
		{name: "exp not a number", assertion: caSign(t, rs384, claims("exp", "soon"), keys.rsa), cause: jwt.ErrTokenMalformed},
		{name: "nbf in the future", assertion: caSign(t, rs384, claims("nbf", now.Add(time.Minute).Unix()), keys.rsa), cause: jwt.ErrTokenNotValidYet},
		{name: "iat in the future", assertion: caSign(t, rs384, claims("iat", now.Add(time.Minute).Unix()), keys.rsa), cause: jwt.ErrTokenUsedBeforeIssued},
		{name: "missing jti", assertion: caSign(t, rs384, claims("jti", nil), keys.rsa), cause: errAssertionJTI},
		{name: "empty jti", assertion: caSign(t, rs384, claims("jti", ""), keys.rsa), cause: errAssertionJTI},
		{name: "iss differs from sub", assertion: caSign(t, rs384, claims("sub", caBothID), keys.rsa), cause: errAssertionIssuer},
		{name: "missing iss", assertion: caSign(t, rs384, claims("iss", nil), keys.rsa), cause: errAssertionIssuer},
		{name: "missing sub", assertion: caSign(t, rs384, claims("sub", nil), keys.rsa), cause: errAssertionIssuer},
		{name: "unknown client", assertion: caSign(t, rs384, with(caClaims("nobody", now)), keys.rsa), cause: ErrUnknownClient},
		{name: "basic client", assertion: caSign(t, rs384, with(caClaims(caBasicID, now)), keys.rsa), cause: errWrongClientMethod},
		{name: "alg none", assertion: caSign(t, caHeader("none", "rsa-1"), claims(), nil), cause: jwt.ErrTokenSignatureInvalid},
		{name: "alg none upper case", assertion: caSign(t, caHeader("NONE", "rsa-1"), claims(), nil), cause: jwt.ErrTokenUnverifiable},
		{name: "no alg", assertion: caSign(t, with(rs384, "alg", nil), claims(), nil), cause: jwt.ErrTokenUnverifiable},
		{name: "HS256 with the client secret", assertion: caSign(t, caHeader("HS256", "hmac-1"), claims(), []byte(caBasicSecret)), cause: jwt.ErrTokenSignatureInvalid},
		{name: "HS256 with the public key", assertion: caSign(t, caHeader("HS256", "rsa-1"), claims(), rsaPublicPEM), cause: jwt.ErrTokenSignatureInvalid},
		{name: "EdDSA not allowed by default", assertion: caSign(t, caHeader("EdDSA", "ed-1"), claims(), keys.ed), cause: jwt.ErrTokenSignatureInvalid},
		{name: "signed by another key", assertion: caSign(t, rs384, claims(), keys.rsaOther), cause: jwt.ErrTokenSignatureInvalid},
		{name: "embedded jwk of the signing key", assertion: caSign(t, with(rs384, "jwk", caJWK(t, &keys.rsaOther.PublicKey, "rsa-1")), claims(), keys.rsaOther), cause: jwt.ErrTokenSignatureInvalid},
		{name: "tampered claims", assertion: tamper(caSign(t, rs384, claims(), keys.rsa), caSign(t, rs384, claims("iss", caBothID, "sub", caBothID), keys.rsa)), cause: jwt.ErrTokenSignatureInvalid},
		{name: "unknown kid", assertion: caSign(t, caHeader("RS384", "rsa-2"), claims(), keys.rsa), cause: errAssertionKey},
		{name: "no kid", assertion: caSign(t, with(rs384, "kid", nil), claims(), keys.rsa), cause: errAssertionHeader},
		{name: "kid not a string", assertion: caSign(t, with(rs384, "kid", 1), claims(), keys.rsa), cause: errAssertionHeader},
		{name: "kid of an EC key with RS384", assertion: caSign(t, caHeader("RS384", "ec-1"), claims(), keys.rsa), cause: errAssertionKey},
		{name: "kid of a P-256 key with ES384", assertion: caSign(t, caHeader("ES384", "ec256-1"), claims(), keys.ec384), cause: errAssertionKey},
		{name: "kid of a 1024-bit RSA key", assertion: caSign(t, caHeader("RS384", "rsa-small"), claims(), keys.rsaSmall), cause: errAssertionKey},
		{name: "kid of two keys", assertion: caSign(t, caHeader("ES256", "dup"), claims(), keys.ecDupA), cause: errAssertionAmbiguousKey},
		{name: "crit header", assertion: caSign(t, with(rs384, "crit", []string{"exp"}), claims(), keys.rsa), cause: errAssertionHeader},
		{name: "typ at+jwt", assertion: caSign(t, with(rs384, "typ", "at+jwt"), claims(), keys.rsa), cause: errAssertionHeader},
		{name: "typ not a string", assertion: caSign(t, with(rs384, "typ", 7), claims(), keys.rsa), cause: errAssertionHeader},
		{name: "jku for a client without JWKS URL", assertion: caSign(t, with(rs384, "jku", "https://evil.example/jwks"), claims(), keys.rsa), cause: errAssertionJKU},
		{name: "jku not a string", assertion: caSign(t, with(rs384, "jku", 3), claims(), keys.rsa), cause: errAssertionJKU},
		{name: "two segments", assertion: "eyJhbGciOiJSUzM4NCJ9.eyJpc3MiOiJ4In0", cause: jwt.ErrTokenMalformed},
		{name: "garbage", assertion: "not a jwt", cause: jwt.ErrTokenMalformed},
		{name: "bad base64", assertion: "!!!.!!!.!!!", cause: jwt.ErrTokenMalformed},
		{name: "too long", assertion: strings.Repeat("a", maxAssertionLen+1), cause: errAssertionTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := f.authenticate(nil, caAssertionForm(tt.assertion, tt.extra...))
			if tt.cause != nil {
				requireAuthError(t, err, http.StatusUnauthorized, CodeInvalidClient, false, tt.cause)
				assert.Nil(t, c)
				assert.NotContains(t, err.Error(), tt.assertion)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantID, c.ID)
			assert.Equal(t, AuthPrivateKeyJWT, c.AuthMethod)
		})
	}
	assert.Zero(t, f.jwks.hits.Load(), "no client here has a JWKS URL in use")
}

// tamper returns the header and signature of a with the claims of b.
func tamper(a, b string) string {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	return pa[0] + "." + pb[1] + "." + pa[2]
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestAuthenticatePrivateKeyJWTLeeway(t *testing.T) {
	f := newCAFixture(t, func(c *ClientAuthConfig) { c.Leeway = 30 * time.Second })
	now := f.clock.Now()
	tests := []struct {
		name  string
		claim map[string]any
		ok    bool
	}{
		{"expired within leeway", map[string]any{"exp": now.Add(-20 * time.Second).Unix()}, true},
		{"expired beyond leeway", map[string]any{"exp": now.Add(-30 * time.Second).Unix()}, false},
		{"exp 5 min + leeway ahead", map[string]any{"exp": now.Add(5*time.Minute + 30*time.Second).Unix()}, true},
		{"exp beyond 5 min + leeway", map[string]any{"exp": now.Add(5*time.Minute + 31*time.Second).Unix()}, false},
		{"iat within leeway", map[string]any{"iat": now.Add(20 * time.Second).Unix()}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := caClaims(caJWTID, now)
			maps.Copy(claims, tt.claim)
			_, err := f.authenticate(nil, caAssertionForm(caSign(t, caHeader("RS384", "rsa-1"), claims, f.keys.rsa)))
			if tt.ok {
				require.NoError(t, err)
			} else {
				requireAuthError(t, err, http.StatusUnauthorized, CodeInvalidClient, false, errAssertionExpiry)
			}
		})
	}
}

func TestAuthenticatePrivateKeyJWTEdDSAWhenAllowed(t *testing.T) {
	f := newCAFixture(t, func(c *ClientAuthConfig) { c.AssertionAlgorithms = []string{"EdDSA", "ES384"} })
	now := f.clock.Now()
	c, err := f.authenticate(nil, caAssertionForm(caSign(t, caHeader("EdDSA", "ed-1"), caClaims(caJWTID, now), f.keys.ed)))
	require.NoError(t, err)
	assert.Equal(t, caJWTID, c.ID)
	_, err = f.authenticate(nil, caAssertionForm(caSign(t, caHeader("RS384", "rsa-1"), caClaims(caJWTID, now), f.keys.rsa)))
	requireAuthError(t, err, http.StatusUnauthorized, CodeInvalidClient, false, jwt.ErrTokenSignatureInvalid)
}

func TestAuthenticatePrivateKeyJWTReplay(t *testing.T) {
	f := newCAFixture(t)
	claims := caClaims(caJWTID, f.clock.Now())
	assertion := caSign(t, caHeader("ES384", "ec-1"), claims, f.keys.ec384)

	_, err := f.authenticate(nil, caAssertionForm(assertion))
	require.NoError(t, err)
	_, err = f.authenticate(nil, caAssertionForm(assertion))
	requireAuthError(t, err, http.StatusUnauthorized, CodeInvalidClient, false, errAssertionReplayed)

	// Another assertion with the same jti (newly signed) is a replay too.
	again := caSign(t, caHeader("RS384", "rsa-1"), claims, f.keys.rsa)
	_, err = f.authenticate(nil, caAssertionForm(again))
	requireAuthError(t, err, http.StatusUnauthorized, CodeInvalidClient, false, errAssertionReplayed)

	// The same jti from another client is not.
	other := caClaims(caBothID, f.clock.Now())
	other["jti"] = claims["jti"]
	_, err = f.authenticate(nil, caAssertionForm(caSign(t, caHeader("RS384", "rsa-1"), other, f.keys.rsa)))
	require.NoError(t, err)

	// The replay record is kept as long as the assertion is acceptable.
	err = f.replay.UseOnce(context.Background(), "jti:"+base64.RawURLEncoding.EncodeToString([]byte(caJWTID))+":"+claims["jti"].(string),
		time.Unix(claims["exp"].(int64), 0), f.clock.Now().Add(2*time.Minute-time.Second))
	require.ErrorIs(t, err, tokenstore.ErrReplayed)
}

// TestAuthenticatePrivateKeyJWTReplayGuardFailure: only ErrReplayed from
// the guard is a replay (401); any other failure of the guard, or its
// silence past StoreTimeout, is 503 and never invalid_client.
func TestAuthenticatePrivateKeyJWTReplayGuardFailure(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	tests := []struct {
		name   string
		guard  ReplayGuard
		status int
		code   string
		cause  error
	}{
		{"plain error", caFailingReplay{}, http.StatusServiceUnavailable, CodeTemporarilyUnavailable, errCAStoreDown},
		{"silent past the deadline", caBlockingReplay(block), http.StatusServiceUnavailable, CodeTemporarilyUnavailable, errStoreDeadline},
		{"wrapped ErrReplayed", caReplayedGuard{}, http.StatusUnauthorized, CodeInvalidClient, errAssertionReplayed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newCAFixture(t, func(c *ClientAuthConfig) { c.Replay, c.StoreTimeout = tt.guard, 20*time.Millisecond })
			assertion := caSign(t, caHeader("RS384", "rsa-1"), caClaims(caJWTID, f.clock.Now()), f.keys.rsa)
			c, err := f.authenticate(nil, caAssertionForm(assertion))
			requireAuthError(t, err, tt.status, tt.code, false, tt.cause)
			assert.Nil(t, c)
			if tt.status != http.StatusUnauthorized {
				assert.False(t, errors.Is(err, tokenstore.ErrReplayed))
				assert.Equal(t, time.Second, err.(*Error).RetryAfter)
			}
		})
	}
}

// TestAuthenticatePrivateKeyJWTReplayKey: the replay key cannot be made the
// same by two clients whose client_id and jti split differently at ':'.
func TestAuthenticatePrivateKeyJWTReplayKey(t *testing.T) {
	keys := caKeys()
	jwks := caJWKS(t, caJWK(t, &keys.rsa.PublicKey, "rsa-1"))
	clients, err := NewStaticClients(
		Client{ID: "a:b", AuthMethod: AuthPrivateKeyJWT, JWKS: jwks},
		Client{ID: "a", AuthMethod: AuthPrivateKeyJWT, JWKS: jwks},
	)
	require.NoError(t, err)
	guard := &caRecordingReplay{MemoryStore: tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})}
	auth, err := NewClientAuthenticator(ClientAuthConfig{Clients: clients, TokenEndpoint: caTokenURL, Replay: guard,
		Now: func() time.Time { return caStart }})
	require.NoError(t, err)
	for _, c := range []struct{ id, jti string }{{"a:b", "c"}, {"a", "b:c"}} {
		claims := caClaims(c.id, caStart)
		claims["jti"] = c.jti
		got, err := auth.Authenticate(context.Background(), nil, caAssertionForm(caSign(t, caHeader("RS384", "rsa-1"), claims, keys.rsa)))
		require.NoError(t, err, "client %q jti %q", c.id, c.jti)
		assert.Equal(t, c.id, got.ID)
	}
	assert.Equal(t, []string{"jti:YTpi:c", "jti:YQ:b:c"}, guard.keys)
}

func TestAuthenticatePrivateKeyJWTURL(t *testing.T) {
	f := newCAFixture(t)
	keys := f.keys
	auth := func(clientID, alg, kid string, key any, header ...any) error {
		t.Helper()
		h := caHeader(alg, kid)
		for i := 0; i+1 < len(header); i += 2 {
			h[header[i].(string)] = header[i+1]
		}
		_, err := f.authenticate(nil, caAssertionForm(caSign(t, h, caClaims(clientID, f.clock.Now()), key)))
		return err
	}
	unauthorized := func(err error, cause error) {
		t.Helper()
		requireAuthError(t, err, http.StatusUnauthorized, CodeInvalidClient, false, cause)
	}

	// First use fetches the set; later ones use the cache.
	require.NoError(t, auth(caURLID, "RS384", "url-1", keys.urlRSA))
	require.EqualValues(t, 1, f.jwks.hits.Load())
	require.NoError(t, auth(caURLID, "ES384", "url-ec", keys.urlEC))
	require.NoError(t, auth(caURLID, "RS384", "url-1", keys.urlRSA, "jku", f.jwksURL()))
	require.EqualValues(t, 1, f.jwks.hits.Load())

	// jku must be exactly the registered URL.
	unauthorized(auth(caURLID, "RS384", "url-1", keys.urlRSA, "jku", f.jwksURL()+"?x"), errAssertionJKU)
	unauthorized(auth(caURLID, "RS384", "url-1", keys.urlRSA, "jku", "https://evil.example/jwks.json"), errAssertionJKU)

	// An unknown kid right after a fetch does not refetch.
	unauthorized(auth(caURLID, "RS384", "url-2", keys.rsaOther), errAssertionKey)
	require.EqualValues(t, 1, f.jwks.hits.Load())

	// The client rotates its keys; a minute later an unknown kid refetches
	// once.
	f.jwks.set(caJWKS(t, caJWK(t, &keys.urlRSA.PublicKey, "url-1"), caJWK(t, &keys.rsaOther.PublicKey, "url-2")))
	f.clock.Advance(jwksRefreshInterval)
	require.NoError(t, auth(caURLID, "RS384", "url-2", keys.rsaOther))
	require.EqualValues(t, 2, f.jwks.hits.Load())
	unauthorized(auth(caURLID, "RS384", "url-3", keys.rsaOther), errAssertionKey)
	unauthorized(auth(caURLID, "ES384", "url-ec", keys.urlEC), errAssertionKey) // removed, still within the refresh interval
	require.EqualValues(t, 2, f.jwks.hits.Load())

	// Inline keys come first; the URL is used for other kids (and jku).
	require.NoError(t, auth(caBothID, "RS384", "rsa-1", keys.rsa))
	require.NoError(t, auth(caBothID, "RS384", "url-2", keys.rsaOther))
	require.EqualValues(t, 2, f.jwks.hits.Load())
	unauthorized(auth(caBothID, "RS384", "rsa-1", keys.rsa, "jku", f.jwksURL()), errAssertionKey)

	// The cache expires (default TTL), and honours Cache-Control.
	f.jwks.setCacheControl("public, max-age=60")
	f.clock.Advance(defaultJWKSTTL)
	require.NoError(t, auth(caURLID, "RS384", "url-1", keys.urlRSA))
	require.EqualValues(t, 3, f.jwks.hits.Load())
	f.clock.Advance(59 * time.Second)
	require.NoError(t, auth(caURLID, "RS384", "url-1", keys.urlRSA))
	require.EqualValues(t, 3, f.jwks.hits.Load())
	f.clock.Advance(time.Second)
	require.NoError(t, auth(caURLID, "RS384", "url-1", keys.urlRSA))
	require.EqualValues(t, 4, f.jwks.hits.Load())

	// A failing server: invalid_client, and no refetch during the backoff.
	f.clock.Advance(time.Minute)
	f.jwks.status.Store(http.StatusServiceUnavailable)
	unauthorized(auth(caURLID, "RS384", "url-1", keys.urlRSA), errJWKSFetch)
	unauthorized(auth(caURLID, "RS384", "url-1", keys.urlRSA), errJWKSFetch)
	require.EqualValues(t, 5, f.jwks.hits.Load())
	f.jwks.status.Store(http.StatusOK)
	f.clock.Advance(jwksFailureBackoff)
	require.NoError(t, auth(caURLID, "RS384", "url-1", keys.urlRSA))
	require.EqualValues(t, 6, f.jwks.hits.Load())

	// no-store: fetched for every assertion.
	f.jwks.setCacheControl("no-store")
	f.clock.Advance(time.Minute)
	require.NoError(t, auth(caURLID, "RS384", "url-1", keys.urlRSA))
	require.NoError(t, auth(caURLID, "RS384", "url-1", keys.urlRSA))
	require.EqualValues(t, 8, f.jwks.hits.Load())

	// Too large a document.
	f.jwks.set([]byte(`{"keys":[],"pad":"` + strings.Repeat("x", maxJWKSBytes) + `"}`))
	unauthorized(auth(caURLID, "RS384", "url-1", keys.urlRSA), errJWKSFetch)
}

func TestAuthenticatePrivateKeyJWTURLConcurrent(t *testing.T) {
	f := newCAFixture(t)
	const n = 16
	forms := make([]url.Values, n)
	for i := range forms {
		forms[i] = caAssertionForm(caSign(t, caHeader("RS384", "url-1"), caClaims(caURLID, f.clock.Now()), f.keys.urlRSA))
	}
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := f.authenticate(nil, forms[i])
			errs <- err
		}()
	}
	for range n {
		require.NoError(t, <-errs)
	}
	assert.EqualValues(t, 1, f.jwks.hits.Load())
}

func TestAuthenticatePrivateKeyJWTURLNotHTTPS(t *testing.T) {
	// A store that is not validated may return an http JWKS URL: it is
	// never fetched.
	keys := caKeys()
	f := newCAFixture(t)
	clients := staticClientsUnchecked(Client{ID: "plain", AuthMethod: AuthPrivateKeyJWT, JWKSURL: "http" + strings.TrimPrefix(f.jwksURL(), "https")})
	auth, err := NewClientAuthenticator(ClientAuthConfig{Clients: clients, TokenEndpoint: caTokenURL, Replay: caNoReplay{}, Now: f.clock.Now})
	require.NoError(t, err)
	_, err = auth.Authenticate(context.Background(), nil,
		caAssertionForm(caSign(t, caHeader("RS384", "url-1"), caClaims("plain", f.clock.Now()), keys.urlRSA)))
	requireAuthError(t, err, http.StatusUnauthorized, CodeInvalidClient, false, errJWKSURL)
	assert.Zero(t, f.jwks.hits.Load())
}

// staticClientsUnchecked builds a StaticClients without validation.
func staticClientsUnchecked(clients ...Client) *StaticClients {
	s := &StaticClients{clients: map[string]*Client{}}
	for i := range clients {
		s.clients[clients[i].ID] = &clients[i]
	}
	return s
}

func TestAuthenticatePrivateKeyJWTCanceledContext(t *testing.T) {
	f := newCAFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := (&http.Request{Header: http.Header{}}).WithContext(ctx)
	assertion := caSign(t, caHeader("RS384", "url-1"), caClaims(caURLID, f.clock.Now()), f.keys.urlRSA)
	_, err := f.auth.Authenticate(ctx, r, caAssertionForm(assertion))
	// The request is over before the client lookup: no store call starts.
	requireAuthError(t, err, http.StatusServiceUnavailable, CodeTemporarilyUnavailable, false, context.Canceled)
	require.EqualValues(t, 0, f.jwks.hits.Load())
}

func TestAuthenticatePrivateKeyJWTURLRefreshFailureKeepsFreshKeys(t *testing.T) {
	f := newCAFixture(t)
	auth := func(kid string, key any) error {
		_, err := f.authenticate(nil, caAssertionForm(caSign(t, caHeader("RS384", kid), caClaims(caURLID, f.clock.Now()), key)))
		return err
	}
	require.NoError(t, auth("url-1", f.keys.urlRSA))
	f.clock.Advance(jwksRefreshInterval)
	f.jwks.status.Store(http.StatusInternalServerError)
	requireAuthError(t, auth("url-2", f.keys.rsaOther), http.StatusUnauthorized, CodeInvalidClient, false, errJWKSFetch)
	require.EqualValues(t, 2, f.jwks.hits.Load())
	// The cached set is still fresh: it is kept and used without a fetch,
	// and the failed refresh counts for the rate limit.
	require.NoError(t, auth("url-1", f.keys.urlRSA))
	requireAuthError(t, auth("url-2", f.keys.rsaOther), http.StatusUnauthorized, CodeInvalidClient, false, errAssertionKey)
	require.EqualValues(t, 2, f.jwks.hits.Load())
}
