package authserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/authserver"
)

// accessClaims are minimal access-token claims at testStart.
func accessClaims(lifetime time.Duration) map[string]any {
	return map[string]any{
		"iss": testIssuer, "aud": testAudience, "sub": "user-1", "client_id": clientA,
		"iat": testStart.Unix(), "exp": testStart.Add(lifetime).Unix(), "scope": "patient/*.rs",
	}
}

func keySetVerifierConfig(now func() time.Time) middleware.JWTConfig {
	return middleware.JWTConfig{Issuers: []string{testIssuer}, Audience: testAudience, Now: now}
}

func TestAccessTokenVerifierFollowsRotation(t *testing.T) {
	c := &clock{t: testStart}
	ks, err := authserver.NewKeySet(testKey(t, "ES256"), authserver.WithKeySetClock(c.Now))
	require.NoError(t, err)
	v, err := ks.AccessTokenVerifier(keySetVerifierConfig(c.Now))
	require.NoError(t, err)

	sign := func(typ string) string {
		s, err := ks.Sign(typ, accessClaims(3*time.Hour))
		require.NoError(t, err)
		return s
	}
	first := sign(authserver.TypeAccessToken)
	lc, err := v.VerifyToken(context.Background(), first)
	require.NoError(t, err)
	assert.Equal(t, "user-1", lc.Subject)

	_, err = v.VerifyToken(context.Background(), sign(authserver.TypeJWT))
	assert.ErrorIs(t, err, middleware.ErrBadType, "typ at+jwt is required by default")

	require.NoError(t, ks.Rotate(testKey(t, "RS256"), testStart.Add(time.Hour)))
	second := sign(authserver.TypeAccessToken)
	for _, tok := range []string{first, second} {
		_, err = v.VerifyToken(context.Background(), tok)
		assert.NoError(t, err)
	}

	c.Advance(time.Hour) // the ES256 key is retired for good
	_, err = v.VerifyToken(context.Background(), second)
	assert.NoError(t, err)
	_, err = v.VerifyToken(context.Background(), first)
	// No ES256 key is left, so ES256 is no longer even an allowed algorithm.
	assert.ErrorIs(t, err, middleware.ErrAlgorithmNotAllowed)
}

func TestAccessTokenVerifierHMAC(t *testing.T) {
	key, err := authserver.GenerateSigningKey("HS256")
	require.NoError(t, err)
	ks, err := authserver.NewKeySet(key, authserver.WithHMAC())
	require.NoError(t, err)
	c := &clock{t: testStart}
	v, err := ks.AccessTokenVerifier(keySetVerifierConfig(c.Now))
	require.NoError(t, err)
	tok, err := ks.Sign(authserver.TypeAccessToken, accessClaims(time.Hour))
	require.NoError(t, err)
	_, err = v.VerifyToken(context.Background(), tok)
	assert.NoError(t, err)
}

func TestAccessTokenVerifierConfig(t *testing.T) {
	ks, err := authserver.NewKeySet(testKey(t, "ES256"))
	require.NoError(t, err)
	tests := []struct {
		name string
		cfg  middleware.JWTConfig
	}{
		{"JWKS URLs", middleware.JWTConfig{Issuers: []string{testIssuer}, Audience: testAudience,
			JWKSURLs: []string{"https://auth.example.org/jwks"}}},
		{"no issuer", middleware.JWTConfig{Audience: testAudience}},
		{"no audience", middleware.JWTConfig{Issuers: []string{testIssuer}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ks.AccessTokenVerifier(tt.cfg)
			assert.Error(t, err)
			assert.Nil(t, v)
		})
	}
}
