package authserver

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func FuzzBasicCredentials(f *testing.F) {
	for _, seed := range []string{
		caEncodedBasic(caBasicID, caBasicSecret),
		caBasic(caBasicID, caBasicSecret),
		caBasic("id%3Awith%2Bplus%25", "a%3Ab%2Bc%25d"),
		caBasic(caRawID, caRawSecret),
		caBasic("a", "%zz"),
		caBasic("%", "%"),
		caBasic("", ""),
		"basic " + base64.StdEncoding.EncodeToString([]byte("x:y")),
		"Basic",
		"Basic !!!",
		"Bearer abc",
		"  Basic   eDp5  ",
		"",
	} {
		f.Add(seed)
	}
	clients, err := NewStaticClients(Client{ID: caBasicID, AuthMethod: AuthClientSecretBasic, SecretHash: HashSecret(caBasicSecret)})
	require.NoError(f, err)
	auth, err := NewClientAuthenticator(ClientAuthConfig{Clients: clients, TokenEndpoint: caTokenURL, Replay: caNoReplay{},
		FailureLimit: -1})
	require.NoError(f, err)

	f.Fuzz(func(t *testing.T, header string) {
		cred, err := parseBasicCredentials(header)
		if err == nil {
			_, token, _ := strings.Cut(strings.Trim(header, " \t"), " ")
			decoded, derr := base64.StdEncoding.DecodeString(strings.TrimLeft(token, " "))
			require.NoError(t, derr)
			rawID, rawSecret, ok := strings.Cut(string(decoded), ":")
			require.True(t, ok)
			require.NotEmpty(t, rawID)
			// One reading of each part: form-decoded, or raw if that fails.
			require.Equal(t, formDecodeOrRaw(rawID), cred.id)
			require.Equal(t, formDecodeOrRaw(rawSecret), cred.secret)
			if d, err := url.QueryUnescape(rawSecret); err == nil {
				require.Equal(t, d, cred.secret)
			} else {
				require.Equal(t, rawSecret, cred.secret)
			}
		} else {
			require.ErrorIs(t, err, errMalformedBasic)
		}

		r := httptest.NewRequest(http.MethodPost, caTokenURL, nil)
		r.Header.Set("Authorization", header)
		c, err := auth.Authenticate(context.Background(), r, nil)
		if err == nil {
			require.Equal(t, caBasicID, c.ID)
			require.Equal(t, caBasicSecret, cred.secret)
			return
		}
		requireAuthError(t, err, http.StatusUnauthorized, CodeInvalidClient, true, nil)
	})
}

func FuzzClientAssertion(f *testing.F) {
	keys := caKeys()
	clients, err := NewStaticClients(caClients(f, keys, "https://jwks.invalid/jwks.json")...)
	require.NoError(f, err)
	auth, err := NewClientAuthenticator(ClientAuthConfig{
		Clients: clients, TokenEndpoint: caTokenURL, Replay: caNoReplay{},
		Now:        func() time.Time { return caStart },
		HTTPClient: &http.Client{Transport: caNoNetwork{}},
	})
	require.NoError(f, err)

	// Seeds: assertions that are valid except for one thing.
	expired := caClaims(caJWTID, caStart.Add(-time.Hour))
	valid := caSign(f, caHeader("RS384", "rsa-1"), caClaims(caJWTID, caStart), keys.rsa)
	for _, seed := range []string{
		caSign(f, caHeader("RS384", "rsa-1"), expired, keys.rsa),
		caSign(f, caHeader("ES384", "ec-1"), expired, keys.ec384),
		caSign(f, caHeader("none", "rsa-1"), caClaims(caJWTID, caStart), nil),
		caSign(f, caHeader("HS256", "rsa-1"), caClaims(caJWTID, caStart), []byte("secret")),
		caSign(f, caHeader("RS384", "url-1"), caClaims(caURLID, caStart), keys.urlRSA),
		valid[:len(valid)-4] + "AAAA",
		tamper(valid, caSign(f, caHeader("RS384", "rsa-1"), caClaims(caBothID, caStart), keys.rsa)),
		"a.b.c",
		"..",
		"",
		"eyJhbGciOiJSUzM4NCIsImtpZCI6InJzYS0xIn0.e30.",
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, assertion string) {
		c, err := auth.Authenticate(context.Background(), nil, caAssertionForm(assertion))
		require.Error(t, err)
		require.Nil(t, c)
		if assertion == "" {
			requireAuthError(t, err, http.StatusBadRequest, CodeInvalidRequest, false, nil)
			return
		}
		requireAuthError(t, err, http.StatusUnauthorized, CodeInvalidClient, false, nil)
		if len(assertion) > 16 {
			require.NotContains(t, err.Error(), assertion)
		}
	})
}

// caNoNetwork is a RoundTripper that refuses every request.
type caNoNetwork struct{}

func (caNoNetwork) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("no network in this test")
}

func FuzzParseClientKeySet(f *testing.F) {
	keys := caKeys()
	f.Add(caJWKS(f, caJWK(f, &keys.rsa.PublicKey, "rsa-1"), caJWK(f, &keys.ec384.PublicKey, "ec"), caJWK(f, keys.ed.Public(), "ed")))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AA"},{"kty":"EC","crv":"P-256","x":"","y":""},{"kty":"RSA","n":"AQ","e":"AQ"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		set, err := parseClientKeySet(doc)
		if err != nil {
			require.ErrorIs(t, err, errInvalidJWKS)
			return
		}
		require.LessOrEqual(t, len(set), maxClientKeys)
		for _, k := range set {
			fits := slices.ContainsFunc(supportedAssertionAlgorithms, func(alg string) bool { return keyFitsAlg(k.key, alg) })
			require.True(t, fits, "every kept key can verify some algorithm")
			require.False(t, keyFitsAlg(k.key, "HS256"))
			require.False(t, keyFitsAlg(k.key, "none"))
		}
	})
}

func FuzzJWKSCacheTTL(f *testing.F) {
	for _, s := range []string{"", "max-age=60", "no-store", `public, max-age="5"`, "max-age=99999999999999999999", "max-age=-3,,="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		ttl := jwksCacheTTL(http.Header{"Cache-Control": {v}})
		require.GreaterOrEqual(t, ttl, time.Duration(0))
		require.LessOrEqual(t, ttl, maxJWKSTTL)
	})
}

func FuzzParseSecretHash(f *testing.F) {
	f.Add(HashSecret("x"))
	f.Add(HashSecretPBKDF2("x", 1))
	f.Add("pbkdf2-sha256:1:AAAAAAAAAAA:AAAA")
	f.Add("sha256::")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseSecretHash(s)
		if err != nil {
			require.ErrorIs(t, err, errInvalidSecretHash)
			return
		}
		require.Len(t, h.sum, secretSumSize)
		if h.iterations > 1000 {
			return // keep each run fast
		}
		require.False(t, h.matches(""))
		_ = h.matches(url.QueryEscape(s))
	})
}
