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
	// No throttle: every failure is checked.
	auth, err := NewClientAuthenticator(ClientAuthConfig{Clients: clients, TokenEndpoint: caTokenURL, Replay: caNoReplay{},
		FailureLimit: -1})
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

// BenchmarkAuthenticateWrongSecret is the pair whose costs must match: a
// wrong secret for a registered client_secret_basic client (HashSecret)
// and for an unknown client_id of the same length
// (TestUnknownClientCostsAsKnown asserts it).
func BenchmarkAuthenticateWrongSecret(b *testing.B) {
	auth, known, unknown := newTimingPair(b)
	for _, bc := range []struct {
		name string
		r    *http.Request
	}{{"known", known}, {"unknown", unknown}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_, _ = auth.Authenticate(ctx, bc.r, nil)
			}
		})
	}
}

// BenchmarkAuthenticateThrottled measures an attempt refused by the
// throttle: no lookup, no hash.
func BenchmarkAuthenticateThrottled(b *testing.B) {
	clients, err := NewStaticClients(Client{ID: caBasicID, AuthMethod: AuthClientSecretBasic, SecretHash: HashSecretPBKDF2(caBasicSecret, 0)})
	if err != nil {
		b.Fatal(err)
	}
	now := caStart
	auth, err := NewClientAuthenticator(ClientAuthConfig{Clients: clients, TokenEndpoint: caTokenURL, Replay: caNoReplay{},
		FailureLimit: 1, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, caTokenURL, nil)
	r.Header.Set("Authorization", caEncodedBasic(caBasicID, "wrong"))
	ctx := context.Background()
	_, _ = auth.Authenticate(ctx, r, nil) // spends the one attempt
	b.ReportAllocs()
	for b.Loop() {
		if _, err := auth.Authenticate(ctx, r, nil); err.(*Error).Status != http.StatusTooManyRequests {
			b.Fatal(err)
		}
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
