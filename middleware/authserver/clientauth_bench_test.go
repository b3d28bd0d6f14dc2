package authserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

func BenchmarkAuthenticateBasic(b *testing.B) {
	clients, err := NewStaticClients(Client{ID: caBasicID, AuthMethod: AuthClientSecretBasic, SecretHash: HashSecret(caBasicSecret)})
	if err != nil {
		b.Fatal(err)
	}
	auth, err := NewClientAuthenticator(ClientAuthConfig{Clients: clients, TokenEndpoint: caTokenURL, Replay: caNoReplay{}})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, header string }{
		{"ok", caEncodedBasic(caBasicID, caBasicSecret)},
		{"wrong-secret", caEncodedBasic(caBasicID, "wrong")},
		{"unknown-client", caEncodedBasic("nobody", caBasicSecret)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodPost, caTokenURL, nil)
			r.Header.Set("Authorization", bc.header)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_, _ = auth.Authenticate(ctx, r, url.Values{})
			}
		})
	}
}

func BenchmarkAuthenticatePrivateKeyJWT(b *testing.B) {
	keys := caKeys()
	clients, err := NewStaticClients(caClients(b, keys, "https://jwks.invalid/jwks.json")...)
	if err != nil {
		b.Fatal(err)
	}
	// The replay guard accepts every jti, so that one assertion can be
	// presented b.N times: this measures parsing, key lookup and signature
	// verification.
	auth, err := NewClientAuthenticator(ClientAuthConfig{
		Clients: clients, TokenEndpoint: caTokenURL, Replay: caNoReplay{},
		Now: func() time.Time { return caStart },
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		alg, kid string
		key      any
	}{
		{"RS384", "rsa-1", keys.rsa},
		{"ES384", "ec-1", keys.ec384},
		{"ES256", "ec256-1", keys.ec256},
	} {
		b.Run(bc.alg, func(b *testing.B) {
			form := caAssertionForm(caSign(b, caHeader(bc.alg, bc.kid), caClaims(caJWTID, caStart), bc.key))
			ctx := context.Background()
			if _, err := auth.Authenticate(ctx, nil, form); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = auth.Authenticate(ctx, nil, form)
			}
		})
	}
}
