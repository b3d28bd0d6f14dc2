package authserver_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
)

// FuzzParseKeySet: ParseKeySet never panics; it accepts a document or
// refuses it with ErrInvalidKeySet; an accepted set signs, and reloading
// the same document changes nothing that is published.
func FuzzParseKeySet(f *testing.F) {
	ec, rsaKey, ed := testKey(f, "ES256"), testKey(f, "RS256"), testKey(f, "EdDSA")
	f.Add(marshalKeys(f,
		managed(withID(ec, "a"), authserver.KeyActive, time.Time{}),
		managed(withID(ed, "b"), authserver.KeyNext, time.Time{}),
		managed(withID(rsaKey, "c"), authserver.KeyRetired, testStart.Add(time.Hour)),
	))
	der, err := x509.MarshalPKCS8PrivateKey(ec.Key)
	require.NoError(f, err)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"kid": "p", "status": "active"}, Bytes: der}))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA","alg":"HS256","kid":"h"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":"","d":""}]}`))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nkid: x\n\nAAAA\n-----END PRIVATE KEY-----\n"))
	c := &clock{t: testStart}

	f.Fuzz(func(t *testing.T, data []byte) {
		ks, err := authserver.ParseKeySet(data, authserver.WithHMAC(), authserver.WithKeySetClock(c.Now))
		if err != nil {
			require.True(t, errors.Is(err, authserver.ErrInvalidKeySet), "%v", err)
			return
		}
		_, err = ks.Sign(authserver.TypeAccessToken, map[string]any{"sub": "x"})
		require.NoError(t, err)
		published, err := ks.PublicJWKS()
		require.NoError(t, err)
		require.NoError(t, ks.Reload(data))
		again, err := ks.PublicJWKS()
		require.NoError(t, err)
		require.Equal(t, string(published), string(again))
	})
}
