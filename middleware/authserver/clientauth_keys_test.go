package authserver

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseClientKeySet(t *testing.T) {
	keys := caKeys()
	rsaJWK := caJWK(t, &keys.rsa.PublicKey, "rsa-1")
	with := func(m map[string]any, kv ...any) map[string]any {
		c := make(map[string]any, len(m))
		for k, v := range m {
			c[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}
	tests := []struct {
		name    string
		doc     []byte
		kids    []string // kids of the usable keys
		wantErr bool
	}{
		{name: "rsa, ec, okp", doc: caJWKS(t, rsaJWK, caJWK(t, &keys.ec384.PublicKey, "ec"), caJWK(t, keys.ed.Public(), "ed")), kids: []string{"rsa-1", "ec", "ed"}},
		{name: "use sig and key_ops verify", doc: caJWKS(t, with(rsaJWK, "use", "sig", "key_ops", []string{"verify"})), kids: []string{"rsa-1"}},
		{name: "use enc skipped", doc: caJWKS(t, with(rsaJWK, "use", "enc")), kids: []string{}},
		{name: "key_ops without verify skipped", doc: caJWKS(t, with(rsaJWK, "key_ops", []string{"encrypt"})), kids: []string{}},
		{name: "oct skipped", doc: caJWKS(t, map[string]any{"kty": "oct", "kid": "h", "k": "c2VjcmV0"}), kids: []string{}},
		{name: "unknown kty skipped", doc: caJWKS(t, map[string]any{"kty": "XYZ", "kid": "x"}), kids: []string{}},
		{name: "malformed RSA skipped", doc: caJWKS(t, map[string]any{"kty": "RSA", "kid": "x", "n": "!!", "e": "AQAB"}), kids: []string{}},
		{name: "small RSA skipped", doc: caJWKS(t, caJWK(t, &keys.rsaSmall.PublicKey, "s")), kids: []string{}},
		{name: "even exponent skipped", doc: caJWKS(t, with(rsaJWK, "e", "Ag")), kids: []string{}},
		{name: "EC point not on curve skipped", doc: caJWKS(t, with(caJWK(t, &keys.ec384.PublicKey, "ec"), "y", caB64(make([]byte, 48)))), kids: []string{}},
		{name: "X25519 skipped", doc: caJWKS(t, map[string]any{"kty": "OKP", "crv": "X25519", "kid": "x", "x": caB64(make([]byte, 32))}), kids: []string{}},
		{name: "private parts ignored", doc: caJWKS(t, with(caJWK(t, &keys.ec384.PublicKey, "ec"), "d", caB64(keys.ec384.D.Bytes()))), kids: []string{"ec"}},
		{name: "x5c and x5u ignored", doc: caJWKS(t, with(rsaJWK, "x5c", []string{"!!not base64"}, "x5u", "http://127.0.0.1:1/")), kids: []string{"rsa-1"}},
		{name: "entry not an object skipped", doc: []byte(`{"keys":[1,"x",null]}`), kids: []string{}},
		{name: "empty keys", doc: []byte(`{"keys":[]}`), kids: []string{}},
		{name: "not JSON", doc: []byte(`keys`), wantErr: true},
		{name: "no keys member", doc: []byte(`{"kty":"RSA"}`), wantErr: true},
		{name: "keys not an array", doc: []byte(`{"keys":{}}`), wantErr: true},
		{name: "too many keys", doc: []byte(`{"keys":[` + strings.Repeat(`{},`, maxClientKeys) + `{}]}`), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := parseClientKeySet(tt.doc)
			if tt.wantErr {
				require.ErrorIs(t, err, errInvalidJWKS)
				return
			}
			require.NoError(t, err)
			kids := []string{}
			for _, k := range set {
				kids = append(kids, k.kid)
			}
			assert.Equal(t, tt.kids, kids)
		})
	}
}

func TestClientKeySetFind(t *testing.T) {
	keys := caKeys()
	set, err := parseClientKeySet(caJWKS(t,
		caJWK(t, &keys.rsa.PublicKey, "rsa"),
		func() map[string]any { m := caJWK(t, &keys.rsaOther.PublicKey, "rsa-ps"); m["alg"] = "PS256"; return m }(),
		caJWK(t, &keys.ec384.PublicKey, "ec384"),
		caJWK(t, &keys.ec256.PublicKey, "ec256"),
		caJWK(t, keys.ed.Public(), "ed"),
		caJWK(t, &keys.ecDupA.PublicKey, "dup"),
		caJWK(t, &keys.ecDupB.PublicKey, "dup"),
	))
	require.NoError(t, err)
	tests := []struct {
		kid, alg string
		n        int
	}{
		{"rsa", "RS256", 1}, {"rsa", "RS384", 1}, {"rsa", "RS512", 1}, {"rsa", "PS384", 1},
		{"rsa", "ES384", 0}, {"rsa", "EdDSA", 0}, {"rsa", "HS256", 0}, {"rsa", "none", 0},
		{"rsa-ps", "PS256", 1}, {"rsa-ps", "RS256", 0}, {"rsa-ps", "PS384", 0},
		{"ec384", "ES384", 1}, {"ec384", "ES256", 0}, {"ec384", "ES512", 0}, {"ec384", "RS384", 0},
		{"ec256", "ES256", 1}, {"ec256", "ES384", 0},
		{"ed", "EdDSA", 1}, {"ed", "ES256", 0},
		{"dup", "ES256", 2},
		{"nope", "RS384", 0}, {"", "RS384", 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.kid, tt.alg), func(t *testing.T) {
			key, n := set.find(tt.kid, tt.alg)
			assert.Equal(t, tt.n, n)
			if n == 1 {
				switch tt.kid {
				case "rsa":
					assert.True(t, keys.rsa.PublicKey.Equal(key.(*rsa.PublicKey)))
				case "ec384":
					assert.True(t, keys.ec384.PublicKey.Equal(key.(*ecdsa.PublicKey)))
				}
			}
		})
	}
}

func TestClientKeySetCache(t *testing.T) {
	c := newClientKeySetCache()
	doc := caJWKS(t, caJWK(t, &caKeys().rsa.PublicKey, "rsa"))
	a, err := c.get(doc)
	require.NoError(t, err)
	b, err := c.get(json.RawMessage(string(doc)))
	require.NoError(t, err)
	assert.Same(t, &a[0], &b[0], "parsed once")
	_, err = c.get([]byte("junk"))
	require.ErrorIs(t, err, errInvalidJWKS)
	for i := range maxKeySetCacheEntries + 1 {
		_, _ = c.get(fmt.Appendf(nil, `{"keys":[],"n":%d}`, i))
	}
	assert.LessOrEqual(t, len(c.entries), maxKeySetCacheEntries)
}

func TestJWKSCacheTTL(t *testing.T) {
	tests := []struct {
		header []string
		want   time.Duration
	}{
		{nil, defaultJWKSTTL},
		{[]string{"public"}, defaultJWKSTTL},
		{[]string{"max-age=300"}, 300 * time.Second},
		{[]string{"public, max-age=60, must-revalidate"}, time.Minute},
		{[]string{`MAX-AGE="120"`}, 2 * time.Minute},
		{[]string{"max-age=0"}, 0},
		{[]string{"max-age=99999999"}, maxJWKSTTL},
		{[]string{"max-age=abc"}, 0},
		{[]string{"max-age=-1"}, 0},
		{[]string{"no-store"}, 0},
		{[]string{"max-age=300, no-cache"}, 0},
		{[]string{"public", "max-age=30"}, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.header, "|"), func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.header {
				h.Add("Cache-Control", v)
			}
			assert.Equal(t, tt.want, jwksCacheTTL(h))
		})
	}
}

func TestClientJWKSCacheEviction(t *testing.T) {
	clock := newCAClock()
	c := newClientJWKSCache(nil, clock.Now)
	for i := range maxJWKSCacheEntries {
		c.store(fmt.Sprintf("https://c%d.example/jwks", i), clientKeySet{}, time.Minute, nil)
	}
	require.Len(t, c.entries, maxJWKSCacheEntries)
	c.store("https://new.example/jwks", clientKeySet{}, time.Minute, nil)
	assert.Len(t, c.entries, maxJWKSCacheEntries, "one arbitrary entry evicted")
	assert.Contains(t, c.entries, "https://new.example/jwks")

	clock.Advance(2 * time.Minute)
	c.store("https://newer.example/jwks", clientKeySet{}, time.Minute, nil)
	assert.Len(t, c.entries, 1, "expired entries evicted")
}
