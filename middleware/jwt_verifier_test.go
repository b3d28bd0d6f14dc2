package middleware

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewJWTVerifierConfig(t *testing.T) {
	k := jwtTestKeys()
	valid := staticTestConfig
	tests := []struct {
		name    string
		mutate  func(*JWTConfig)
		wantErr string // "" for success
	}{
		{"valid", func(*JWTConfig) {}, ""},
		{"no issuers", func(c *JWTConfig) { c.Issuers = nil }, "no Issuers"},
		{"empty issuer", func(c *JWTConfig) { c.Issuers = []string{""} }, "empty issuer"},
		{"no audience", func(c *JWTConfig) { c.Audience = "" }, "neither Audience nor AudienceFunc"},
		{"audience func only", func(c *JWTConfig) {
			c.Audience = ""
			c.AudienceFunc = func(context.Context) (string, error) { return jwtTestAudience, nil }
		}, ""},
		{"no key source", func(c *JWTConfig) { c.StaticKeys = nil }, "no keys"},
		{"empty key maps", func(c *JWTConfig) { c.StaticKeys, c.HMACSecrets = map[string]crypto.PublicKey{}, map[string][]byte{} }, "no keys"},
		{"leeway 60s", func(c *JWTConfig) { c.Leeway = 60 * time.Second }, ""},
		{"leeway over 60s", func(c *JWTConfig) { c.Leeway = 61 * time.Second }, "Leeway"},
		{"negative leeway", func(c *JWTConfig) { c.Leeway = -time.Second }, "Leeway"},
		{"none algorithm", func(c *JWTConfig) { c.Algorithms = []string{"RS256", "none"} }, `"none"`},
		{"None algorithm", func(c *JWTConfig) { c.Algorithms = []string{"None"} }, `"none"`},
		{"unknown algorithm", func(c *JWTConfig) { c.Algorithms = []string{"RS256", "XS999"} }, "unsupported algorithm"},
		{"hmac secret without HS alg", func(c *JWTConfig) { c.HMACSecrets = map[string][]byte{"hs": k.hmac} }, "HMAC"},
		{"hmac secret with HS alg", func(c *JWTConfig) {
			c.StaticKeys = nil
			c.HMACSecrets = map[string][]byte{"hs": k.hmac}
			c.Algorithms = []string{"HS256"}
		}, ""},
		{"hmac secret next to public keys", func(c *JWTConfig) {
			c.HMACSecrets = map[string][]byte{"hs": k.hmac}
			c.Algorithms = append(defaultAlgorithms(), "HS256")
		}, ""},
		{"hmac secret shorter than the hash", func(c *JWTConfig) {
			c.HMACSecrets = map[string][]byte{"hs": k.hmac[:31]}
			c.Algorithms = append(defaultAlgorithms(), "HS256")
		}, "RFC 7518"},
		{"hmac secret of 32 bytes for HS512 only", func(c *JWTConfig) {
			c.HMACSecrets = map[string][]byte{"hs": k.hmac[:32]}
			c.Algorithms = append(defaultAlgorithms(), "HS512")
		}, "RFC 7518"},
		{"short hmac secret, insecure launcher compat", func(c *JWTConfig) {
			c.HMACSecrets = map[string][]byte{"hs": []byte("short")}
			c.Algorithms = []string{"HS256"}
			c.StaticKeys = nil
			c.InsecureLauncherCompat = true
			c.Logger = slog.New(slog.DiscardHandler)
		}, ""},
		{"empty hmac secret, insecure launcher compat", func(c *JWTConfig) {
			c.HMACSecrets = map[string][]byte{"hs": {}}
			c.Algorithms = append(defaultAlgorithms(), "HS256")
			c.InsecureLauncherCompat = true
			c.Logger = slog.New(slog.DiscardHandler)
		}, "HMAC"},
		{"hmac secret in StaticKeys", func(c *JWTConfig) {
			c.StaticKeys["hs"] = k.hmac
			c.Algorithms = append(defaultAlgorithms(), "HS256")
		}, "HMACSecrets"},
		{"kid of a static key and a secret", func(c *JWTConfig) {
			c.HMACSecrets = map[string][]byte{"rsa": k.hmac}
			c.Algorithms = append(defaultAlgorithms(), "HS256")
		}, `kid "rsa" names both`},
		{"only hmac secrets", func(c *JWTConfig) {
			c.StaticKeys = nil
			c.HMACSecrets = map[string][]byte{"": k.hmac}
			c.Algorithms = []string{"HS256"}
		}, ""},
		{"private key", func(c *JWTConfig) { c.StaticKeys["priv"] = k.rsa }, "private key"},
		{"unsupported key type", func(c *JWTConfig) { c.StaticKeys["s"] = "not a key" }, "unsupported type"},
		{"key fits no allowed alg", func(c *JWTConfig) { c.Algorithms = []string{"RS256"} }, "fits none"},
		{"small rsa key", func(c *JWTConfig) {
			small, err := rsa.GenerateKey(rand.Reader, 1024)
			require.NoError(t, err)
			c.StaticKeys["small"] = &small.PublicKey
		}, "fits none"},
		{"registered header in crit", func(c *JWTConfig) { c.UnderstoodCritical = []string{"exp", "alg"} }, `"alg"`},
		{"b64 in crit", func(c *JWTConfig) { c.UnderstoodCritical = []string{"b64"} }, `"b64"`},
		{"negative max token size", func(c *JWTConfig) { c.MaxTokenSize = -1 }, "negative"},
		{"bad JWKS URL", func(c *JWTConfig) { c.JWKSURLs = []string{"::not a url"} }, "JWKS URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid()
			tt.mutate(&cfg)
			v, err := NewJWTVerifier(t.Context(), cfg)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, v)
				return
			}
			require.Error(t, err)
			assert.Nil(t, v)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

// TestJWTVerifySignatures covers algorithms, keys and signatures.
func TestJWTVerifySignatures(t *testing.T) {
	k := jwtTestKeys()
	payload := claimsJSON(t, nil)
	rsaPubDER, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	require.NoError(t, err)
	rsaPubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPubDER})
	rsaPKCS1PEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)})

	golangJWT := func(method jwt.SigningMethod, kid string, key any) string {
		tok := jwt.NewWithClaims(method, jwt.MapClaims{
			"iss": jwtTestIssuer, "aud": []string{jwtTestAudience}, "sub": "user-1",
			"exp": jwtTestNow.Add(time.Hour).Unix(), "iat": jwtTestNow.Unix(), "patient": "pat-123",
			"scope": "launch/patient patient/*.rs openid fhirUser",
		})
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(key)
		require.NoError(t, err)
		return s
	}

	// hs allows HS256 next to the public keys: the alg-confusion cases must
	// still fail because the kid's key is not an HMAC secret.
	hs := func(c *JWTConfig) {
		c.Algorithms = append(defaultAlgorithms(), "HS256")
		c.HMACSecrets = map[string][]byte{"hs": k.hmac}
	}
	withoutKid := func(c *JWTConfig) { c.StaticKeys[""] = &k.rsa.PublicKey }

	tests := []struct {
		name    string
		token   string
		config  func(*JWTConfig)
		wantErr error // nil: success
	}{
		{"RS256 by hand", handSign(t, "RS256", headerJSON("RS256", "rsa"), payload, k.rsa), nil, nil},
		{"PS256 by hand", handSign(t, "PS256", headerJSON("PS256", "rsa"), payload, k.rsa), nil, nil},
		{"ES256 by hand", handSign(t, "ES256", headerJSON("ES256", "ec256"), payload, k.ec256), nil, nil},
		{"ES384 by hand", handSign(t, "ES384", headerJSON("ES384", "ec384"), payload, k.ec384), nil, nil},
		{"EdDSA by hand", handSign(t, "EdDSA", headerJSON("EdDSA", "ed"), payload, k.ed), nil, nil},
		{"HS256 by hand, allowed", handSign(t, "HS256", headerJSON("HS256", "hs"), payload, k.hmac), hs, nil},
		{"RS256 golang-jwt", golangJWT(jwt.SigningMethodRS256, "rsa", k.rsa), nil, nil},
		{"PS512 golang-jwt", golangJWT(jwt.SigningMethodPS512, "rsa", k.rsa), nil, nil},
		{"ES256 golang-jwt", golangJWT(jwt.SigningMethodES256, "ec256", k.ec256), nil, nil},
		{"EdDSA golang-jwt", golangJWT(jwt.SigningMethodEdDSA, "ed", k.ed), nil, nil},
		{"no kid uses the \"\" key", handSign(t, "RS256", headerJSON("RS256", ""), payload, k.rsa), withoutKid, nil},

		{"alg none", b64url(`{"alg":"none","kid":"rsa"}`) + "." + b64url(payload) + ".", nil, ErrAlgorithmNotAllowed},
		{"alg none with signature", b64url(`{"alg":"none"}`) + "." + b64url(payload) + ".c2ln", withoutKid, ErrAlgorithmNotAllowed},
		{"alg NONE", b64url(`{"alg":"NONE","kid":"rsa"}`) + "." + b64url(payload) + ".", nil, ErrAlgorithmNotAllowed},
		{"alg unknown", b64url(`{"alg":"XS999","kid":"rsa"}`) + "." + b64url(payload) + ".c2ln", nil, ErrAlgorithmNotAllowed},
		{"alg missing", b64url(`{"kid":"rsa"}`) + "." + b64url(payload) + ".c2ln", nil, ErrMalformedToken},
		{"HS256 not allowed", handSign(t, "HS256", headerJSON("HS256", "rsa"), payload, rsaPubPEM), nil, ErrAlgorithmNotAllowed},
		{"HS256 keyed with RSA public key PEM", handSign(t, "HS256", headerJSON("HS256", "rsa"), payload, rsaPubPEM), hs, ErrAlgorithmNotAllowed},
		{"HS256 keyed with RSA public key PKCS1 PEM", handSign(t, "HS256", headerJSON("HS256", "rsa"), payload, rsaPKCS1PEM), hs, ErrAlgorithmNotAllowed},
		{"HS256 keyed with RSA public key DER", handSign(t, "HS256", headerJSON("HS256", "rsa"), payload, rsaPubDER), hs, ErrAlgorithmNotAllowed},
		{"HS256 without kid keyed with RSA public key", handSign(t, "HS256", headerJSON("HS256", ""), payload, rsaPubDER),
			func(c *JWTConfig) { hs(c); withoutKid(c) }, ErrAlgorithmNotAllowed},
		{"HS256 with wrong secret", handSign(t, "HS256", headerJSON("HS256", "hs"), payload, []byte("another-secret-another-secret-xx")), hs, ErrBadSignature},
		{"RS256 with EC key kid", handSign(t, "RS256", headerJSON("RS256", "ec256"), payload, k.rsa), nil, ErrAlgorithmNotAllowed},
		{"ES256 with P-384 key kid", handSign(t, "ES384", headerJSON("ES256", "ec384"), payload, k.ec384), nil, ErrAlgorithmNotAllowed},
		{"ES384 with P-256 key kid", handSign(t, "ES256", headerJSON("ES384", "ec256"), payload, k.ec256), nil, ErrAlgorithmNotAllowed},
		{"EdDSA with RSA key kid", handSign(t, "EdDSA", headerJSON("EdDSA", "rsa"), payload, k.ed), nil, ErrAlgorithmNotAllowed},
		{"PS256 with Ed25519 key kid", handSign(t, "PS256", headerJSON("PS256", "ed"), payload, k.rsa), nil, ErrAlgorithmNotAllowed},
		{"RS256 signed by another key", handSign(t, "RS256", headerJSON("RS256", "rsa"), payload, k.rsaOther), nil, ErrBadSignature},
		{"RS256 signature relabelled PS256", relabel(t, handSign(t, "RS256", headerJSON("RS256", "rsa"), payload, k.rsa), headerJSON("PS256", "rsa")), nil, ErrBadSignature},
		{"payload tampered", tamper(handSign(t, "RS256", headerJSON("RS256", "rsa"), payload, k.rsa), claimsJSON(t, map[string]any{"patient": "other"})), nil, ErrBadSignature},
		{"signature truncated", truncateSignature(t, handSign(t, "ES256", headerJSON("ES256", "ec256"), payload, k.ec256)), nil, ErrBadSignature},
		{"unknown kid", handSign(t, "RS256", headerJSON("RS256", "nope"), payload, k.rsa), nil, ErrUnknownKey},
		{"no kid and no \"\" key", handSign(t, "RS256", headerJSON("RS256", ""), payload, k.rsa), nil, ErrUnknownKey},
		{"kid not a string", handSign(t, "RS256", `{"alg":"RS256","kid":7}`, payload, k.rsa), nil, ErrMalformedToken},

		// Embedded keys are never used: a token signed by the attacker's
		// key that carries that key (or a URL to it) is rejected.
		{"embedded jwk, unknown kid", handSign(t, "RS256",
			headerJSON("RS256", "attacker", `"jwk":`+jwkJSON(t, "attacker", &k.rsaOther.PublicKey)), payload, k.rsaOther), nil, ErrUnknownKey},
		{"embedded jwk, known kid", handSign(t, "RS256",
			headerJSON("RS256", "rsa", `"jwk":`+jwkJSON(t, "rsa", &k.rsaOther.PublicKey)), payload, k.rsaOther), nil, ErrBadSignature},
		{"embedded jwk, no kid", handSign(t, "RS256",
			headerJSON("RS256", "", `"jwk":`+jwkJSON(t, "", &k.rsaOther.PublicKey)), payload, k.rsaOther), withoutKid, ErrBadSignature},
		{"jku and x5u headers", handSign(t, "RS256",
			headerJSON("RS256", "rsa", `"jku":"https://attacker.example/jwks"`, `"x5u":"https://attacker.example/cert"`), payload, k.rsaOther), nil, ErrBadSignature},

		{"empty", "", nil, ErrMalformedToken},
		{"one segment", "abc", nil, ErrMalformedToken},
		{"four segments", "a.b.c.d", nil, ErrMalformedToken},
		{"header not base64", "!!!." + b64url(payload) + ".c2ln", nil, ErrMalformedToken},
		{"header not JSON", b64url("not json") + "." + b64url(payload) + ".c2ln", nil, ErrMalformedToken},
		// The payload is parsed only once the signature verifies.
		{"payload not JSON", handSign(t, "RS256", headerJSON("RS256", "rsa"), "[1,2", k.rsa), nil, ErrMalformedToken},
		{"payload not JSON, not signed", b64url(headerJSON("RS256", "rsa")) + "." + b64url("[1,2") + ".c2ln", nil, ErrBadSignature},
		{"payload an array", handSign(t, "RS256", headerJSON("RS256", "rsa"), "[1,2]", k.rsa), nil, ErrMalformedToken},
		{"payload null", handSign(t, "RS256", headerJSON("RS256", "rsa"), "null", k.rsa), nil, ErrMalformedToken},
		{"payload number out of range", handSign(t, "RS256", headerJSON("RS256", "rsa"),
			strings.TrimSuffix(payload, "}")+`,"x":[1e999]}`, k.rsa), nil, ErrMalformedToken},
		{"payload with trailing data", handSign(t, "RS256", headerJSON("RS256", "rsa"), payload+"x", k.rsa), nil, ErrMalformedToken},
		{"payload not base64", b64url(headerJSON("RS256", "rsa")) + ".e30*." + "c2ln", nil, ErrMalformedToken},
		{"header an array", handSign(t, "RS256", `["RS256"]`, payload, k.rsa), nil, ErrMalformedToken},
		{"header with trailing data", handSign(t, "RS256", headerJSON("RS256", "rsa")+"{}", payload, k.rsa), nil, ErrMalformedToken},
		{"header with duplicate alg, last wins", handSign(t, "RS256", `{"alg":"none","kid":"rsa","alg":"RS256"}`, payload, k.rsa), nil, nil},
		{"header with duplicate alg, last none", handSign(t, "RS256", `{"alg":"RS256","kid":"rsa","alg":"none"}`, payload, k.rsa), nil, ErrAlgorithmNotAllowed},
		{"header alg in other case", handSign(t, "RS256", `{"ALG":"none","Alg":"x","alg":"RS256","kid":"rsa"}`, payload, k.rsa), nil, nil},
		{"header alg escaped", handSign(t, "RS256", `{"\u0061lg":"RS256","kid":"rsa"}`, payload, k.rsa), nil, nil},
		{"header alg null", handSign(t, "RS256", `{"alg":null,"kid":"rsa"}`, payload, k.rsa), nil, ErrMalformedToken},
		{"kid null", handSign(t, "RS256", `{"alg":"RS256","kid":null}`, payload, k.rsa), withoutKid, ErrMalformedToken},
		{"signature with non-zero padding bits", flipPaddingBits(t, handSign(t, "ES256", headerJSON("ES256", "ec256"), payload, k.ec256)), nil, ErrMalformedToken},
		{"signature with a newline", handSign(t, "ES256", headerJSON("ES256", "ec256"), payload, k.ec256) + "\n", nil, ErrMalformedToken},
		{"empty signature", b64url(headerJSON("RS256", "rsa")) + "." + b64url(payload) + ".", nil, ErrBadSignature},
		{"signature not base64", b64url(headerJSON("RS256", "rsa")) + "." + b64url(payload) + ".***", nil, ErrMalformedToken},
		{"padded segments", b64url(headerJSON("RS256", "rsa")) + "==." + b64url(payload) + ".c2ln", nil, ErrMalformedToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := staticTestConfig()
			if tt.config != nil {
				tt.config(&cfg)
			}
			v := newTestVerifier(t, cfg)
			lc, err := v.VerifyToken(t.Context(), tt.token)
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, "pat-123", lc.Patient)
				assert.Equal(t, jwtTestIssuer, lc.Issuer)
				assert.Equal(t, []string{jwtTestAudience}, lc.Audience)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			assert.Nil(t, lc)
			assertNoLeak(t, err, tt.token, strings.Split(tt.token, ".")[0], "pat-123", "attacker")
		})
	}
}

// relabel replaces the header of a signed token, keeping its signature.
func relabel(t *testing.T, token, header string) string {
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	return b64url(header) + "." + parts[1] + "." + parts[2]
}

// flipPaddingBits changes the unused low bits of the last character of a
// token's signature (ES256: 64 bytes, so the last character carries 4
// unused bits): the same signature bytes, in a non-canonical encoding.
func flipPaddingBits(t *testing.T, token string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, token[len(token)-1])
	require.GreaterOrEqual(t, last, 0)
	other := token[:len(token)-1] + string(alphabet[last|1])
	if last&1 == 1 {
		other = token[:len(token)-1] + string(alphabet[last&^1|2])
	}
	sig, err := base64.RawURLEncoding.DecodeString(other[strings.LastIndexByte(other, '.')+1:])
	require.NoError(t, err, "the lax decoder accepts it")
	orig, err := base64.RawURLEncoding.DecodeString(token[strings.LastIndexByte(token, '.')+1:])
	require.NoError(t, err)
	require.Equal(t, orig, sig, "same signature bytes")
	return other
}

// truncateSignature drops the last byte of a token's signature.
func truncateSignature(t *testing.T, token string) string {
	i := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	require.NoError(t, err)
	return token[:i+1] + base64.RawURLEncoding.EncodeToString(sig[:len(sig)-1])
}

// tamper replaces the payload of a signed token, keeping its signature.
func tamper(token, payload string) string {
	parts := strings.Split(token, ".")
	return parts[0] + "." + b64url(payload) + "." + parts[2]
}

// TestJWTVerifyClaims covers iss, aud, exp, nbf, iat and the leeway.
func TestJWTVerifyClaims(t *testing.T) {
	k := jwtTestKeys()
	at := func(d time.Duration) int64 { return jwtTestNow.Add(d).Unix() }
	tests := []struct {
		name      string
		overrides map[string]any
		leeway    time.Duration
		wantErr   error
	}{
		{"valid", nil, 0, nil},
		{"second trusted issuer", map[string]any{"iss": "https://other-issuer.example.org"}, 0, nil},
		{"issuer with trailing slash", map[string]any{"iss": jwtTestIssuer + "/"}, 0, ErrBadIssuer},
		{"issuer differs in case", map[string]any{"iss": strings.ToUpper(jwtTestIssuer)}, 0, ErrBadIssuer},
		{"issuer missing", map[string]any{"iss": nil}, 0, ErrBadIssuer},
		{"issuer not a string", map[string]any{"iss": []string{jwtTestIssuer}}, 0, ErrBadIssuer},
		{"audience array", map[string]any{"aud": []string{"https://other.example.org", jwtTestAudience}}, 0, nil},
		{"audience wrong", map[string]any{"aud": "https://other.example.org"}, 0, ErrBadAudience},
		{"audience with trailing slash", map[string]any{"aud": jwtTestAudience + "/"}, 0, ErrBadAudience},
		{"audience array without us", map[string]any{"aud": []string{"https://a.example.org", "https://b.example.org"}}, 0, ErrBadAudience},
		{"audience missing", map[string]any{"aud": nil}, 0, ErrBadAudience},
		{"audience empty array", map[string]any{"aud": []string{}}, 0, ErrBadAudience},
		{"audience a number", map[string]any{"aud": 42}, 0, ErrBadAudience},
		{"expired", map[string]any{"exp": at(-time.Second)}, 0, ErrTokenExpired},
		{"expires now", map[string]any{"exp": at(0)}, 0, ErrTokenExpired},
		{"expires in a second", map[string]any{"exp": at(time.Second)}, 0, nil},
		{"exp missing", map[string]any{"exp": nil}, 0, ErrTokenExpired},
		{"exp zero", map[string]any{"exp": 0}, 0, ErrTokenExpired},
		{"exp a string", map[string]any{"exp": fmt.Sprint(at(time.Hour))}, 0, ErrMalformedToken},
		{"exp huge", map[string]any{"exp": 1e300}, 0, nil /* see below */},
		{"nbf in the future", map[string]any{"nbf": at(time.Second)}, 0, ErrTokenNotYetValid},
		{"nbf now", map[string]any{"nbf": at(0)}, 0, nil},
		{"iat in the future", map[string]any{"iat": at(time.Second)}, 0, ErrTokenNotYetValid},
		{"iat now", map[string]any{"iat": at(0)}, 0, nil},
		{"iat missing", map[string]any{"iat": nil}, 0, nil},

		// Leeway boundaries, 30s: exp is valid while now < exp+30s, nbf
		// and iat while now >= value-30s.
		{"leeway: exp 29s ago", map[string]any{"exp": at(-29 * time.Second)}, 30 * time.Second, nil},
		{"leeway: exp 30s ago", map[string]any{"exp": at(-30 * time.Second)}, 30 * time.Second, ErrTokenExpired},
		{"leeway: nbf in 30s", map[string]any{"nbf": at(30 * time.Second)}, 30 * time.Second, nil},
		{"leeway: nbf in 31s", map[string]any{"nbf": at(31 * time.Second)}, 30 * time.Second, ErrTokenNotYetValid},
		{"leeway: iat in 30s", map[string]any{"iat": at(30 * time.Second)}, 30 * time.Second, nil},
		{"leeway: iat in 31s", map[string]any{"iat": at(31 * time.Second)}, 30 * time.Second, ErrTokenNotYetValid},
		{"leeway 60s: exp 59s ago", map[string]any{"exp": at(-59 * time.Second)}, 60 * time.Second, nil},
		{"leeway 60s: exp 60s ago", map[string]any{"exp": at(-60 * time.Second)}, 60 * time.Second, ErrTokenExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := staticTestConfig()
			cfg.Leeway = tt.leeway
			v := newTestVerifier(t, cfg)
			token := handSign(t, "ES256", headerJSON("ES256", "ec256"), claimsJSON(t, tt.overrides), k.ec256)
			lc, err := v.VerifyToken(t.Context(), token)
			if tt.name == "exp huge" {
				// Not representable as a time: golang-jwt's verdict
				// depends on the platform's float conversion; either
				// way the token must be refused.
				require.Error(t, err)
				assert.True(t, errors.Is(err, ErrTokenExpired) || errors.Is(err, ErrBadLaunchContext), err)
				return
			}
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, "pat-123", lc.Patient)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			assertNoLeak(t, err, jwtTestIssuer, jwtTestAudience, "pat-123", "other.example.org")
		})
	}
}

func TestJWTVerifyHeader(t *testing.T) {
	k := jwtTestKeys()
	payload := claimsJSON(t, nil)
	tests := []struct {
		name        string
		extra       []string // extra header members
		requireType string
		critical    []string
		wantErr     error
	}{
		{"no typ, none required", nil, "", nil, nil},
		{"typ at+jwt", []string{`"typ":"at+jwt"`}, "at+jwt", nil, nil},
		{"typ application/at+jwt", []string{`"typ":"application/at+jwt"`}, "at+jwt", nil, nil},
		{"typ AT+JWT", []string{`"typ":"AT+JWT"`}, "at+jwt", nil, nil},
		{"typ Application/At+Jwt", []string{`"typ":"Application/At+Jwt"`}, "application/at+jwt", nil, nil},
		{"typ JWT", []string{`"typ":"JWT"`}, "at+jwt", nil, ErrBadType},
		{"typ missing", nil, "at+jwt", nil, ErrBadType},
		{"typ not a string", []string{`"typ":["at+jwt"]`}, "at+jwt", nil, ErrBadType},
		{"typ with suffix", []string{`"typ":"at+jwt2"`}, "at+jwt", nil, ErrBadType},
		{"typ application/ only", []string{`"typ":"application/"`}, "at+jwt", nil, ErrBadType},
		{"crit unknown", []string{`"crit":["exp"]`, `"exp":1`}, "", nil, ErrUnsupportedCritical},
		{"crit understood", []string{`"crit":["https://example.org/x"]`, `"https://example.org/x":true`}, "", []string{"https://example.org/x"}, nil},
		{"crit one understood one not", []string{`"crit":["a","b"]`, `"a":1`, `"b":2`}, "", []string{"a"}, ErrUnsupportedCritical},
		{"crit understood but absent", []string{`"crit":["a"]`}, "", []string{"a"}, ErrUnsupportedCritical},
		{"crit empty", []string{`"crit":[]`}, "", []string{"a"}, ErrUnsupportedCritical},
		{"crit a string", []string{`"crit":"a"`, `"a":1`}, "", []string{"a"}, ErrUnsupportedCritical},
		{"crit with a number", []string{`"crit":[1]`}, "", []string{"a"}, ErrUnsupportedCritical},
		{"crit names alg", []string{`"crit":["alg"]`}, "", nil, ErrUnsupportedCritical},
		{"crit b64 false", []string{`"crit":["b64"]`, `"b64":false`}, "", nil, ErrUnsupportedCritical},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := staticTestConfig()
			cfg.RequireType = tt.requireType
			cfg.UnderstoodCritical = tt.critical
			v := newTestVerifier(t, cfg)
			token := handSign(t, "EdDSA", headerJSON("EdDSA", "ed", tt.extra...), payload, k.ed)
			_, err := v.VerifyToken(t.Context(), token)
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
		})
	}
}

func TestJWTVerifyTokenTooLarge(t *testing.T) {
	k := jwtTestKeys()
	cfg := staticTestConfig()
	cfg.MaxTokenSize = 2048
	v := newTestVerifier(t, cfg)

	pad := func(n int) map[string]any { return map[string]any{"pad": strings.Repeat("x", n)} }
	small := handSign(t, "ES256", headerJSON("ES256", "ec256"), claimsJSON(t, pad(1000)), k.ec256)
	require.Less(t, len(small), 2048)
	_, err := v.VerifyToken(t.Context(), small)
	require.NoError(t, err)

	big := handSign(t, "ES256", headerJSON("ES256", "ec256"), claimsJSON(t, pad(2000)), k.ec256)
	_, err = v.VerifyToken(t.Context(), big)
	require.ErrorIs(t, err, ErrTokenTooLarge)

	// The default cap is 8192 bytes.
	v = newTestVerifier(t, staticTestConfig())
	_, err = v.VerifyToken(t.Context(), strings.Repeat("a", 8193))
	require.ErrorIs(t, err, ErrTokenTooLarge)
	_, err = v.VerifyToken(t.Context(), strings.Repeat("a", 8192))
	require.ErrorIs(t, err, ErrMalformedToken)

	// Rejected before any decoding: the cost does not grow with the input.
	ctx := t.Context()
	for _, size := range []int{10 << 10, 1 << 20} {
		token := strings.Repeat("eyJhbGciOiJSUzI1NiJ9.", size/21+1)[:size]
		allocs := testing.AllocsPerRun(50, func() {
			if _, err := v.VerifyToken(ctx, token); !errors.Is(err, ErrTokenTooLarge) {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, "size %d", size)
	}
}

// TestJWTErrorsDoNotLeak sends tokens whose header and claims hold
// recognisable, hostile values and checks no error text contains them.
func TestJWTErrorsDoNotLeak(t *testing.T) {
	k := jwtTestKeys()
	const hostileKid = "kid\"quoted\r\nX-Injected: yes"
	secrets := []string{"quoted", "X-Injected", "secret-patient", "secret-aud", "secret-iss", "hostile"}
	tokens := map[string]string{
		"unknown kid":     handSign(t, "RS256", fmt.Sprintf(`{"alg":"RS256","kid":%q}`, hostileKid), claimsJSON(t, nil), k.rsa),
		"bad audience":    handSign(t, "RS256", headerJSON("RS256", "rsa"), claimsJSON(t, map[string]any{"aud": "secret-aud"}), k.rsa),
		"bad issuer":      handSign(t, "RS256", headerJSON("RS256", "rsa"), claimsJSON(t, map[string]any{"iss": "secret-iss"}), k.rsa),
		"bad patient":     handSign(t, "RS256", headerJSON("RS256", "rsa"), claimsJSON(t, map[string]any{"patient": "secret-patient/../hostile"}), k.rsa),
		"bad typ":         handSign(t, "RS256", `{"alg":"RS256","kid":"rsa","typ":"hostile\r\n"}`, claimsJSON(t, nil), k.rsa),
		"bad crit":        handSign(t, "RS256", `{"alg":"RS256","kid":"rsa","crit":["hostile\""],"hostile\"":1}`, claimsJSON(t, nil), k.rsa),
		"bad alg":         b64url(`{"alg":"hostile\r\n","kid":"rsa"}`) + "." + b64url(claimsJSON(t, nil)) + ".c2ln",
		"kid not string":  handSign(t, "RS256", `{"alg":"RS256","kid":{"hostile":"quoted"}}`, claimsJSON(t, nil), k.rsa),
		"exp not numeric": handSign(t, "RS256", headerJSON("RS256", "rsa"), claimsJSON(t, map[string]any{"exp": "hostile"}), k.rsa),
	}
	cfg := staticTestConfig()
	cfg.RequireType = ""
	cfg.JWKSURLs = []string{newJWKSServer(t, jwkJSON(t, "rsa-jwks", &k.rsa.PublicKey)).URL}
	v := newTestVerifier(t, cfg)
	cfgTyp := staticTestConfig()
	cfgTyp.RequireType = "at+jwt"
	vTyp := newTestVerifier(t, cfgTyp)
	for name, token := range tokens {
		t.Run(name, func(t *testing.T) {
			rejected := 0
			for _, v := range []*JWTVerifier{v, vTyp} {
				_, err := v.VerifyToken(t.Context(), token)
				if err != nil {
					rejected++
				}
				assertNoLeak(t, err, append(secrets, token, strings.Split(token, ".")[1])...)
			}
			assert.NotZero(t, rejected)
		})
	}
}

func TestJWTVerifierCache(t *testing.T) {
	k := jwtTestKeys()
	var mu sync.Mutex
	now := jwtTestNow
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	setClock := func(t time.Time) { mu.Lock(); defer mu.Unlock(); now = t }

	cfg := staticTestConfig()
	cfg.Now = clock
	cfg.Leeway = 10 * time.Second
	v := newTestVerifier(t, cfg)
	token := handSign(t, "RS256", headerJSON("RS256", "rsa"), claimsJSON(t, nil), k.rsa)

	first, err := v.VerifyToken(t.Context(), token)
	require.NoError(t, err)
	second, err := v.VerifyToken(t.Context(), token)
	require.NoError(t, err)
	assert.Same(t, first, second, "a repeated token is served from the cache")
	assert.Equal(t, 1, v.cache.Len())

	// A different token (same claims, new signature for ES, or another
	// signature byte) never hits.
	other := handSign(t, "ES256", headerJSON("ES256", "ec256"), claimsJSON(t, nil), k.ec256)
	third, err := v.VerifyToken(t.Context(), other)
	require.NoError(t, err)
	assert.NotSame(t, first, third)
	mid := len(token) - 20 // inside the signature
	forged := token[:mid] + flipLast(token[mid:mid+1]) + token[mid+1:]
	_, err = v.VerifyToken(t.Context(), forged)
	require.Error(t, err)

	// exp is rechecked on a hit, with the same leeway.
	setClock(jwtTestNow.Add(time.Hour + 9*time.Second))
	_, err = v.VerifyToken(t.Context(), token)
	require.NoError(t, err)
	setClock(jwtTestNow.Add(time.Hour + 10*time.Second))
	_, err = v.VerifyToken(t.Context(), token)
	require.ErrorIs(t, err, ErrTokenExpired)

	// Failures are not cached: a token not yet valid becomes valid later.
	setClock(jwtTestNow)
	early := handSign(t, "RS256", headerJSON("RS256", "rsa"), claimsJSON(t, map[string]any{"nbf": jwtTestNow.Add(time.Minute).Unix()}), k.rsa)
	_, err = v.VerifyToken(t.Context(), early)
	require.ErrorIs(t, err, ErrTokenNotYetValid)
	setClock(jwtTestNow.Add(time.Minute))
	_, err = v.VerifyToken(t.Context(), early)
	require.NoError(t, err)

	// CacheSize < 0 disables the cache.
	cfg.CacheSize = -1
	setClock(jwtTestNow)
	uncached := newTestVerifier(t, cfg)
	a, err := uncached.VerifyToken(t.Context(), token)
	require.NoError(t, err)
	b, err := uncached.VerifyToken(t.Context(), token)
	require.NoError(t, err)
	assert.NotSame(t, a, b)
	assert.Equal(t, a, b)
	assert.Nil(t, uncached.cache)
}

func flipLast(s string) string {
	if s[len(s)-1] == 'A' {
		return s[:len(s)-1] + "B"
	}
	return s[:len(s)-1] + "A"
}

type audTenantKey struct{}

func TestJWTVerifierAudienceFunc(t *testing.T) {
	k := jwtTestKeys()
	cfg := staticTestConfig()
	cfg.Audience = ""
	errNoTenant := errors.New("no tenant in context")
	cfg.AudienceFunc = func(ctx context.Context) (string, error) {
		tenant, _ := ctx.Value(audTenantKey{}).(string)
		switch tenant {
		case "":
			return "", errNoTenant
		case "blank":
			return "", nil
		}
		return "https://fhir.example.org/" + tenant, nil
	}
	v := newTestVerifier(t, cfg)
	tokenA := handSign(t, "RS256", headerJSON("RS256", "rsa"), claimsJSON(t, map[string]any{"aud": "https://fhir.example.org/a"}), k.rsa)
	ctxA := context.WithValue(t.Context(), audTenantKey{}, "a")
	ctxB := context.WithValue(t.Context(), audTenantKey{}, "b")

	// Fresh: tenant b's server refuses tenant a's token.
	_, err := v.VerifyToken(ctxB, tokenA)
	require.ErrorIs(t, err, ErrBadAudience)
	lc, err := v.VerifyToken(ctxA, tokenA)
	require.NoError(t, err)
	assert.Equal(t, []string{"https://fhir.example.org/a"}, lc.Audience)
	// Cached: the audience is checked again for each request.
	_, err = v.VerifyToken(ctxB, tokenA)
	require.ErrorIs(t, err, ErrBadAudience)
	again, err := v.VerifyToken(ctxA, tokenA)
	require.NoError(t, err)
	assert.Same(t, lc, again)

	_, err = v.VerifyToken(t.Context(), tokenA)
	require.ErrorIs(t, err, ErrBadAudience)
	require.ErrorIs(t, err, errNoTenant)
	_, err = v.VerifyToken(context.WithValue(t.Context(), audTenantKey{}, "blank"), tokenA)
	require.ErrorIs(t, err, ErrBadAudience)
}

// TestJWTVerifyLaunchContext checks the claims reach the LaunchContext
// through the verifier (claims_test.go covers the shapes in detail).
func TestJWTVerifyLaunchContext(t *testing.T) {
	k := jwtTestKeys()
	v := newTestVerifier(t, staticTestConfig())
	tests := []struct {
		name    string
		claims  map[string]any
		check   func(*testing.T, *LaunchContext)
		wantErr error
	}{
		{"fhirContext strings and objects", map[string]any{
			"fhirContext": []any{"DiagnosticReport/1", map[string]any{"reference": "Observation/2", "role": "https://example.org/role"}},
		}, func(t *testing.T, lc *LaunchContext) {
			assert.Equal(t, []FHIRContextItem{{Reference: "DiagnosticReport/1"}, {Reference: "Observation/2", Role: "https://example.org/role"}}, lc.FHIRContext)
		}, nil},
		{"nested context", map[string]any{"patient": nil, "context": map[string]any{"patient": "nested-1", "need_patient_banner": true}},
			func(t *testing.T, lc *LaunchContext) {
				assert.Equal(t, "nested-1", lc.Patient)
				assert.True(t, lc.NeedPatientBanner)
			}, nil},
		{"scope array", map[string]any{"scope": []string{"launch", "patient/*.rs"}},
			func(t *testing.T, lc *LaunchContext) { assert.Equal(t, "launch patient/*.rs", lc.Scopes.String()) }, nil},
		{"client_id from azp", map[string]any{"client_id": nil, "azp": "app-azp"},
			func(t *testing.T, lc *LaunchContext) { assert.Equal(t, "app-azp", lc.ClientID) }, nil},
		{"patient a number", map[string]any{"patient": 123}, nil, ErrBadLaunchContext},
		{"fhirContext an object", map[string]any{"fhirContext": map[string]any{"reference": "X/1"}}, nil, ErrBadLaunchContext},
		{"scope a number", map[string]any{"scope": 1}, nil, ErrBadLaunchContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := handSign(t, "EdDSA", headerJSON("EdDSA", "ed"), claimsJSON(t, tt.claims), k.ed)
			lc, err := v.VerifyToken(t.Context(), token)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "user-1", lc.Subject)
			assert.Equal(t, "jti-1", lc.TokenID)
			assert.Equal(t, jwtTestNow.Add(time.Hour), lc.ExpiresAt)
			assert.Equal(t, jwtTestNow.Add(-time.Minute), lc.IssuedAt)
			assert.Equal(t, "user-1", lc.Claims()["sub"])
			tt.check(t, lc)
		})
	}
}

// TestKeyFits pins the key/alg compatibility table.
func TestKeyFits(t *testing.T) {
	k := jwtTestKeys()
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	require.NoError(t, err)
	keys := map[string]any{
		"rsa": &k.rsa.PublicKey, "p256": &k.ec256.PublicKey, "p384": &k.ec384.PublicKey,
		"p521": &p521.PublicKey, "ed": k.ed.Public(), "hmac32": k.hmac[:32], "hmac64": append(append([]byte{}, k.hmac...), k.hmac...),
		"rsa-private": k.rsa, "ed-pointer": new(ed25519.PublicKey), "nil-rsa": (*rsa.PublicKey)(nil),
	}
	fits := map[string][]string{
		"RS256": {"rsa"}, "PS384": {"rsa"}, "ES256": {"p256"}, "ES384": {"p384"}, "ES512": {"p521"},
		"EdDSA": {"ed"}, "HS256": {"hmac32", "hmac64"}, "HS512": {"hmac64"},
	}
	for alg, want := range fits {
		spec, ok := lookupAlg(alg)
		require.True(t, ok, alg)
		for name, key := range keys {
			assert.Equal(t, listHas(want, name), keyFits(spec, key), "%s with %s", alg, name)
		}
	}
	_, ok := lookupAlg("none")
	assert.False(t, ok)
}

func listHas(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// TestJWTClaimsConcurrent: the claims of a cached LaunchContext are
// decoded once, by whichever request asks first.
func TestJWTClaimsConcurrent(t *testing.T) {
	k := jwtTestKeys()
	v := newTestVerifier(t, staticTestConfig())
	token := handSign(t, "RS256", headerJSON("RS256", "rsa"), claimsJSON(t, map[string]any{"extra": []any{1, "x"}}), k.rsa)
	want := decodeClaimsJSON(t, claimsJSON(t, map[string]any{"extra": []any{1, "x"}}))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			lc, err := v.VerifyToken(t.Context(), token)
			if !assert.NoError(t, err) {
				return
			}
			assert.Equal(t, want, lc.Claims())
			extra, ok := lc.Claim("extra")
			assert.True(t, ok)
			assert.Equal(t, []any{1.0, "x"}, extra)
		})
	}
	wg.Wait()
}
