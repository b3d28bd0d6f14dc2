package middleware

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Test tokens are built by hand here (base64url of JSON written in the
// test, signed with crypto/*), independently of any signing code of the
// module, or with golang-jwt.

const (
	jwtTestIssuer   = "https://auth.example.org"
	jwtTestAudience = "https://fhir.example.org/r4"
)

// jwtTestNow is the pinned clock of most tests.
var jwtTestNow = time.Unix(1900000000, 0).UTC()

// jwtTestKeySet are the keys of the tests, generated once per test binary.
type jwtTestKeySet struct {
	rsa, rsaOther *rsa.PrivateKey
	ec256, ec384  *ecdsa.PrivateKey
	ed            ed25519.PrivateKey
	hmac          []byte
}

var jwtTestKeys = sync.OnceValue(func() jwtTestKeySet {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	var k jwtTestKeySet
	var err error
	k.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	k.rsaOther, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	k.ec256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	k.ec384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	must(err)
	_, k.ed, err = ed25519.GenerateKey(rand.Reader)
	must(err)
	k.hmac = []byte("0123456789abcdef0123456789abcdef-test-hmac")
	return k
})

func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// handSign returns the compact JWS of the header and payload JSON given,
// signed with key for alg. It does not look at the header: tests may lie.
func handSign(t testing.TB, alg, header, payload string, key any) string {
	t.Helper()
	input := b64url(header) + "." + b64url(payload)
	return input + "." + base64.RawURLEncoding.EncodeToString(handSignature(t, alg, input, key))
}

func handSignature(t testing.TB, alg, input string, key any) []byte {
	t.Helper()
	digest := func(h hash.Hash) []byte { h.Write([]byte(input)); return h.Sum(nil) }
	switch alg {
	case "RS256":
		sig, err := rsa.SignPKCS1v15(rand.Reader, key.(*rsa.PrivateKey), crypto.SHA256, digest(sha256.New()))
		require.NoError(t, err)
		return sig
	case "PS256":
		sig, err := rsa.SignPSS(rand.Reader, key.(*rsa.PrivateKey), crypto.SHA256, digest(sha256.New()),
			&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		require.NoError(t, err)
		return sig
	case "ES256", "ES384":
		k := key.(*ecdsa.PrivateKey)
		var d []byte
		if alg == "ES256" {
			d = digest(sha256.New())
		} else {
			d = digest(sha512.New384())
		}
		r, s, err := ecdsa.Sign(rand.Reader, k, d)
		require.NoError(t, err)
		size := (k.Curve.Params().BitSize + 7) / 8
		sig := make([]byte, 2*size)
		r.FillBytes(sig[:size])
		s.FillBytes(sig[size:])
		return sig
	case "EdDSA":
		return ed25519.Sign(key.(ed25519.PrivateKey), []byte(input))
	case "HS256":
		return digest(hmac.New(sha256.New, key.([]byte)))
	}
	t.Fatalf("handSign: unsupported alg %s", alg)
	return nil
}

// claimsJSON returns the JSON of the default test claims with overrides
// applied (a nil value deletes the claim).
func claimsJSON(t testing.TB, overrides map[string]any) string {
	t.Helper()
	c := map[string]any{
		"iss":       jwtTestIssuer,
		"aud":       jwtTestAudience,
		"sub":       "user-1",
		"client_id": "app-1",
		"iat":       jwtTestNow.Add(-time.Minute).Unix(),
		"exp":       jwtTestNow.Add(time.Hour).Unix(),
		"jti":       "jti-1",
		"scope":     "launch/patient patient/*.rs openid fhirUser",
		"patient":   "pat-123",
	}
	for k, v := range overrides {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	b, err := json.Marshal(c)
	require.NoError(t, err)
	return string(b)
}

// headerJSON returns a header with alg and kid ("" for none) plus extra
// raw JSON members (e.g. `"typ":"at+jwt"`).
func headerJSON(alg, kid string, extra ...string) string {
	members := []string{fmt.Sprintf(`"alg":%q`, alg)}
	if kid != "" {
		members = append(members, fmt.Sprintf(`"kid":%q`, kid))
	}
	members = append(members, extra...)
	return "{" + strings.Join(members, ",") + "}"
}

// staticTestConfig is a config with one static key per kind.
func staticTestConfig() JWTConfig {
	k := jwtTestKeys()
	return JWTConfig{
		Issuers:  []string{jwtTestIssuer, "https://other-issuer.example.org"},
		Audience: jwtTestAudience,
		StaticKeys: map[string]crypto.PublicKey{
			"rsa":   &k.rsa.PublicKey,
			"ec256": &k.ec256.PublicKey,
			"ec384": &k.ec384.PublicKey,
			"ed":    k.ed.Public(),
		},
		Now: func() time.Time { return jwtTestNow },
	}
}

func newTestVerifier(t testing.TB, cfg JWTConfig) *JWTVerifier {
	t.Helper()
	v, err := NewJWTVerifier(t.Context(), cfg)
	require.NoError(t, err)
	return v
}

// jwkJSON is the hand-written public JWK of key.
func jwkJSON(t testing.TB, kid string, key any, extra ...string) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	var members []string
	switch k := key.(type) {
	case *rsa.PublicKey:
		members = []string{`"kty":"RSA"`, fmt.Sprintf(`"n":%q`, enc(k.N.Bytes())),
			fmt.Sprintf(`"e":%q`, enc(big.NewInt(int64(k.E)).Bytes()))}
	case *ecdsa.PublicKey:
		pub, err := k.ECDH()
		require.NoError(t, err)
		raw := pub.Bytes()[1:] // 0x04 || X || Y
		size := len(raw) / 2
		members = []string{`"kty":"EC"`, fmt.Sprintf(`"crv":%q`, k.Curve.Params().Name),
			fmt.Sprintf(`"x":%q`, enc(raw[:size])), fmt.Sprintf(`"y":%q`, enc(raw[size:]))}
	case ed25519.PublicKey:
		members = []string{`"kty":"OKP"`, `"crv":"Ed25519"`, fmt.Sprintf(`"x":%q`, enc(k))}
	case []byte:
		members = []string{`"kty":"oct"`, fmt.Sprintf(`"k":%q`, enc(k))}
	default:
		t.Fatalf("jwkJSON: unsupported key %T", key)
	}
	members = append(members, fmt.Sprintf(`"kid":%q`, kid))
	members = append(members, extra...)
	return "{" + strings.Join(members, ",") + "}"
}

// jwksServer is an httptest JWK Set endpoint whose set and health the test
// changes, and which counts requests.
type jwksServer struct {
	*httptest.Server
	mu       sync.Mutex
	keys     []string // JWK JSON objects
	status   int      // 0: 200
	requests atomic.Int64
	// hook, if set, runs at the start of each request with its number
	// (1-based).
	hook func(n int64)
}

func newJWKSServer(t testing.TB, keys ...string) *jwksServer {
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.requests.Add(1)
		s.mu.Lock()
		hook, keys, status := s.hook, s.keys, s.status
		s.mu.Unlock()
		if hook != nil {
			hook(n)
		}
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		fmt.Fprintf(w, `{"keys":[%s]}`, strings.Join(keys, ","))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

func (s *jwksServer) setStatus(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

func (s *jwksServer) setHook(hook func(n int64)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = hook
}

// assertNoLeak fails if err's text contains any of the secrets (those of
// at least 5 bytes: shorter ones may occur by chance).
func assertNoLeak(t testing.TB, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range secrets {
		if len(s) >= 5 && strings.Contains(msg, s) {
			t.Errorf("error %q contains %q", msg, s)
		}
	}
}
