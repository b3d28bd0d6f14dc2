package middleware

import (
	"crypto"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smartauth/smartauth/middleware/internal/tokencache"
)

// benchTokens are n distinct tokens (distinct jti) with a realistic SMART
// payload, signed by hand with alg and key under kid.
func benchTokens(b *testing.B, n int, alg, kid string, key any) []string {
	b.Helper()
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = handSign(b, alg, headerJSON(alg, kid, `"typ":"at+jwt"`), claimsJSON(b, map[string]any{
			"jti":                 fmt.Sprintf("jti-%d", i),
			"scope":               "launch/patient openid fhirUser offline_access patient/*.rs patient/Observation.cruds user/Practitioner.r",
			"encounter":           "enc-456",
			"fhirUser":            "Practitioner/789",
			"need_patient_banner": true,
			"smart_style_url":     "https://ehr.example.org/smart-style.json",
			"fhirContext":         []any{map[string]any{"reference": "DiagnosticReport/1", "role": "https://example.org/role"}},
			"grant_id":            "grant-1",
		}), key)
	}
	return tokens
}

// benchVerifier is a verifier whose keys come from a JWK Set server, as in
// production.
func benchVerifier(b *testing.B, cacheSize int) *JWTVerifier {
	b.Helper()
	k := jwtTestKeys()
	srv := newJWKSServer(b, jwkJSON(b, "rsa", &k.rsa.PublicKey), jwkJSON(b, "ec", &k.ec256.PublicKey))
	cfg := jwksTestConfig(srv.URL)
	cfg.RequireType = "at+jwt"
	cfg.CacheSize = cacheSize
	return newTestVerifier(b, cfg)
}

const benchDistinctTokens = 512

// benchFresh verifies distinct tokens with the cache on: each verification
// is a miss followed by a Put. The cache is emptied (untimed) before a
// token repeats.
func benchFresh(b *testing.B, alg, kid string, key any) {
	v := benchVerifier(b, 0)
	tokens := benchTokens(b, benchDistinctTokens, alg, kid, key)
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(tokens) {
			b.StopTimer()
			v.cache = tokencache.New[cachedToken](defaultCacheSize)
			i = 0
			b.StartTimer()
		}
		if _, err := v.VerifyToken(ctx, tokens[i]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkJWTVerifyFreshRS256(b *testing.B) {
	benchFresh(b, "RS256", "rsa", jwtTestKeys().rsa)
}

func BenchmarkJWTVerifyFreshES256(b *testing.B) {
	benchFresh(b, "ES256", "ec", jwtTestKeys().ec256)
}

// BenchmarkJWTVerifyUncachedRS256 verifies with the cache disabled.
func BenchmarkJWTVerifyUncachedRS256(b *testing.B) {
	v := benchVerifier(b, -1)
	tokens := benchTokens(b, benchDistinctTokens, "RS256", "rsa", jwtTestKeys().rsa)
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := v.VerifyToken(ctx, tokens[i%len(tokens)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkJWTVerifyCachedRS256(b *testing.B) {
	v := benchVerifier(b, 0)
	token := benchTokens(b, 1, "RS256", "rsa", jwtTestKeys().rsa)[0]
	ctx := b.Context()
	if _, err := v.VerifyToken(ctx, token); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.VerifyToken(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
}

// benchBare is the floor: golang-jwt parsing and verifying the same tokens
// into MapClaims, with the key at hand.
func benchBare(b *testing.B, alg, kid string, key any, pub crypto.PublicKey) {
	tokens := benchTokens(b, benchDistinctTokens, alg, kid, key)
	keyfunc := func(*jwt.Token) (any, error) { return pub, nil }
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tok, err := jwt.Parse(tokens[i%len(tokens)], keyfunc, jwt.WithValidMethods([]string{alg}),
			jwt.WithTimeFunc(func() time.Time { return jwtTestNow }))
		if err != nil || !tok.Valid {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkBareJWTParseRS256(b *testing.B) {
	k := jwtTestKeys()
	benchBare(b, "RS256", "rsa", k.rsa, &k.rsa.PublicKey)
}

func BenchmarkBareJWTParseES256(b *testing.B) {
	k := jwtTestKeys()
	benchBare(b, "ES256", "ec", k.ec256, &k.ec256.PublicKey)
}

// BenchmarkJWTVerifyVsBareRS256 alternates a fresh VerifyToken (distinct
// tokens, keys from a JWK Set) and a bare golang-jwt Parse of the same
// token, and reports the ratio of their median durations ("x-bare").
// Alternating makes the ratio robust to a machine shared with other work,
// which skews separate benchmarks. Sub-benchmarks: with the cache on (each
// verification is a miss and a Put) and off.
func BenchmarkJWTVerifyVsBareRS256(b *testing.B) {
	b.Run("cache", func(b *testing.B) { benchVsBare(b, 0) })
	b.Run("nocache", func(b *testing.B) { benchVsBare(b, -1) })
}

func benchVsBare(b *testing.B, cacheSize int) {
	k := jwtTestKeys()
	v := benchVerifier(b, cacheSize)
	tokens := benchTokens(b, benchDistinctTokens, "RS256", "rsa", k.rsa)
	keyfunc := func(*jwt.Token) (any, error) { return &k.rsa.PublicKey, nil }
	ctx := b.Context()
	var ours, bare []time.Duration
	i := 0
	for b.Loop() {
		if i == len(tokens) {
			if v.cache != nil {
				v.cache = tokencache.New[cachedToken](defaultCacheSize)
			}
			i = 0
		}
		verify := func() time.Duration {
			t0 := time.Now()
			if _, err := v.VerifyToken(ctx, tokens[i]); err != nil {
				b.Fatal(err)
			}
			return time.Since(t0)
		}
		parse := func() time.Duration {
			t0 := time.Now()
			tok, err := jwt.Parse(tokens[i], keyfunc, jwt.WithValidMethods([]string{"RS256"}),
				jwt.WithTimeFunc(func() time.Time { return jwtTestNow }))
			if err != nil || !tok.Valid {
				b.Fatal(err)
			}
			return time.Since(t0)
		}
		// Alternate which goes first: the second finds the token in
		// the CPU caches.
		if i%2 == 0 {
			ours = append(ours, verify())
			bare = append(bare, parse())
		} else {
			bare = append(bare, parse())
			ours = append(ours, verify())
		}
		i++
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2])
	}
	mo, mb := median(ours), median(bare)
	b.ReportMetric(mo, "verify-ns")
	b.ReportMetric(mb, "bare-ns")
	b.ReportMetric(mo/mb, "x-bare")
}
