package authserver

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateClient(t *testing.T) {
	keys := caKeys()
	jwks := caJWKS(t, caJWK(t, &keys.rsa.PublicKey, "rsa-1"))
	hash := HashSecret("0123456789abcdef0123456789abcdef")
	tests := []struct {
		name   string
		client Client
		ok     bool
	}{
		{"public", Client{ID: "app", AuthMethod: AuthNone}, true},
		{"basic", Client{ID: "app", AuthMethod: AuthClientSecretBasic, SecretHash: hash}, true},
		{"post", Client{ID: "app", AuthMethod: AuthClientSecretPost, SecretHash: HashSecretPBKDF2("pw", 1000)}, true},
		{"jwt inline", Client{ID: "app", AuthMethod: AuthPrivateKeyJWT, JWKS: jwks}, true},
		{"jwt url", Client{ID: "app", AuthMethod: AuthPrivateKeyJWT, JWKSURL: "https://app.example/jwks.json"}, true},
		{"jwt both", Client{ID: "app", AuthMethod: AuthPrivateKeyJWT, JWKS: jwks, JWKSURL: "https://app.example/jwks.json"}, true},
		{"client_id with colon and spaces", Client{ID: "a:b c", AuthMethod: AuthNone}, true},

		{"empty ID", Client{AuthMethod: AuthNone}, false},
		{"control character in ID", Client{ID: "a\nb", AuthMethod: AuthNone}, false},
		{"no method", Client{ID: "app"}, false},
		{"unknown method", Client{ID: "app", AuthMethod: "tls_client_auth"}, false},
		{"public with secret", Client{ID: "app", AuthMethod: AuthNone, SecretHash: hash}, false},
		{"public with keys", Client{ID: "app", AuthMethod: AuthNone, JWKS: jwks}, false},
		{"basic without secret", Client{ID: "app", AuthMethod: AuthClientSecretBasic}, false},
		{"basic with plain secret", Client{ID: "app", AuthMethod: AuthClientSecretBasic, SecretHash: "secret"}, false},
		{"basic with keys", Client{ID: "app", AuthMethod: AuthClientSecretBasic, SecretHash: hash, JWKSURL: "https://app.example/jwks"}, false},
		{"jwt without keys", Client{ID: "app", AuthMethod: AuthPrivateKeyJWT}, false},
		{"jwt with secret", Client{ID: "app", AuthMethod: AuthPrivateKeyJWT, JWKS: jwks, SecretHash: hash}, false},
		{"jwt with invalid JWKS", Client{ID: "app", AuthMethod: AuthPrivateKeyJWT, JWKS: json.RawMessage(`{"kty":"RSA"}`)}, false},
		{"jwt with only unusable keys", Client{ID: "app", AuthMethod: AuthPrivateKeyJWT, JWKS: caJWKS(t, caJWK(t, &keys.rsaSmall.PublicKey, "small"))}, false},
		{"jwt with http URL", Client{ID: "app", AuthMethod: AuthPrivateKeyJWT, JWKSURL: "http://app.example/jwks.json"}, false},
		{"jwt with relative URL", Client{ID: "app", AuthMethod: AuthPrivateKeyJWT, JWKSURL: "/jwks.json"}, false},
		{"jwt with URL user info", Client{ID: "app", AuthMethod: AuthPrivateKeyJWT, JWKSURL: "https://u:p@app.example/jwks.json"}, false},
		{"jwt with URL fragment", Client{ID: "app", AuthMethod: AuthPrivateKeyJWT, JWKSURL: "https://app.example/jwks.json#k"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateClient(&tt.client)
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrInvalidRegistration)
			}
		})
	}
}

func TestNewStaticClients(t *testing.T) {
	hash := HashSecret("0123456789abcdef0123456789abcdef")
	jwks := caJWKS(t, caJWK(t, &caKeys().ec384.PublicKey, "ec-1"))
	s, err := NewStaticClients(
		Client{ID: "a", AuthMethod: AuthClientSecretBasic, SecretHash: hash},
		Client{ID: "b", AuthMethod: AuthPrivateKeyJWT, JWKS: jwks},
	)
	require.NoError(t, err)

	c, err := s.Client(context.Background(), "a")
	require.NoError(t, err)
	assert.Equal(t, &Client{ID: "a", AuthMethod: AuthClientSecretBasic, SecretHash: hash}, c)

	// Callers get copies.
	c.AuthMethod = AuthNone
	c, err = s.Client(context.Background(), "a")
	require.NoError(t, err)
	assert.Equal(t, AuthClientSecretBasic, c.AuthMethod)

	// The JWKS was copied at construction.
	jwks[0] = 'X'
	c, err = s.Client(context.Background(), "b")
	require.NoError(t, err)
	assert.Equal(t, byte('{'), c.JWKS[0])

	_, err = s.Client(context.Background(), "nobody")
	require.ErrorIs(t, err, ErrUnknownClient)

	_, err = NewStaticClients(Client{ID: "a", AuthMethod: AuthNone}, Client{ID: "a", AuthMethod: AuthNone})
	require.ErrorIs(t, err, ErrInvalidRegistration)
	_, err = NewStaticClients(Client{ID: "a", AuthMethod: AuthClientSecretPost})
	require.ErrorIs(t, err, ErrInvalidRegistration)

	empty, err := NewStaticClients()
	require.NoError(t, err)
	_, err = empty.Client(context.Background(), "a")
	require.ErrorIs(t, err, ErrUnknownClient)
}
