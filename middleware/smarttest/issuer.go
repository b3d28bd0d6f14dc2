package smarttest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smartauth/smartauth/middleware"
)

// Default values used by NewIssuer.
const (
	// DefaultIssuer is the iss of tokens minted by an Issuer.
	DefaultIssuer = "https://auth.smarttest.invalid"
	// DefaultAudience is the aud of tokens minted by an Issuer: the FHIR
	// base URL the verifier expects.
	DefaultAudience = "https://fhir.smarttest.invalid/fhir"
	// DefaultClientID is the client_id of minted tokens.
	DefaultClientID = "smarttest-app"
	// DefaultLifetime is how long minted tokens live unless Claims.ExpiresIn
	// says otherwise.
	DefaultLifetime = 5 * time.Minute
)

// Issuer mints SMART access tokens signed with an in-process ES256 key and
// builds the verifier and middleware that accept them. Create one with
// NewIssuer; it is safe for concurrent use.
type Issuer struct {
	// URL is the iss of minted tokens.
	URL string
	// Audience is the aud of minted tokens.
	Audience string
	// KeyID is the kid of the signing key.
	KeyID string

	tb     testing.TB
	key    *ecdsa.PrivateKey
	now    func() time.Time
	mu     sync.Mutex
	jwks   *httptest.Server
	verify middleware.TokenVerifier
}

// Option configures an Issuer.
type Option func(*Issuer)

// WithIssuerURL sets the iss of minted tokens (default DefaultIssuer).
func WithIssuerURL(u string) Option { return func(i *Issuer) { i.URL = u } }

// WithAudience sets the aud of minted tokens and the audience the verifier
// expects (default DefaultAudience).
func WithAudience(aud string) Option { return func(i *Issuer) { i.Audience = aud } }

// WithClock sets the clock used for iat/exp of minted tokens and by the
// verifier (default time.Now).
func WithClock(now func() time.Time) Option { return func(i *Issuer) { i.now = now } }

// NewIssuer returns an Issuer with a fresh ES256 key. Resources it starts
// (the JWKS server, if JWKSURL is called) are released by tb.Cleanup.
func NewIssuer(tb testing.TB, opts ...Option) *Issuer {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("smarttest: generate key: %v", err)
	}
	var kid [9]byte
	_, _ = rand.Read(kid[:])
	i := &Issuer{
		URL:      DefaultIssuer,
		Audience: DefaultAudience,
		KeyID:    base64.RawURLEncoding.EncodeToString(kid[:]),
		tb:       tb,
		key:      key,
		now:      time.Now,
	}
	for _, o := range opts {
		o(i)
	}
	return i
}

// PublicKey returns the issuer's public verification key.
func (i *Issuer) PublicKey() crypto.PublicKey { return &i.key.PublicKey }

// JWTConfig returns a middleware.JWTConfig that accepts this issuer's tokens
// with static keys (no network).
func (i *Issuer) JWTConfig() middleware.JWTConfig {
	return middleware.JWTConfig{
		StaticKeys:  map[string]crypto.PublicKey{i.KeyID: &i.key.PublicKey},
		Algorithms:  []string{"ES256"},
		Issuers:     []string{i.URL},
		Audience:    i.Audience,
		Now:         i.now,
		RequireType: "at+jwt",
	}
}

// Verifier returns a verifier that accepts this issuer's tokens. It is built
// once and shared.
func (i *Issuer) Verifier() middleware.TokenVerifier {
	i.tb.Helper()
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.verify == nil {
		v, err := middleware.NewJWTVerifier(context.Background(), i.JWTConfig())
		if err != nil {
			i.tb.Fatalf("smarttest: verifier: %v", err)
		}
		i.verify = v
	}
	return i.verify
}

// Middleware returns middleware.Authenticate configured with Verifier and
// opts.
func (i *Issuer) Middleware(opts ...middleware.AuthenticateOption) func(http.Handler) http.Handler {
	return middleware.Authenticate(i.Verifier(), opts...)
}

// JWKSURL starts (once) an httptest server publishing the issuer's public key
// as a JWK Set and returns its URL, for tests of JWKS-based configuration.
func (i *Issuer) JWKSURL() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.jwks == nil {
		body := i.jwksJSON()
		i.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}))
		i.tb.Cleanup(i.jwks.Close)
	}
	return i.jwks.URL
}

func (i *Issuer) jwksJSON() []byte {
	pub := i.key.PublicKey
	b, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": i.KeyID,
		"x": base64.RawURLEncoding.EncodeToString(pub.X.FillBytes(make([]byte, 32))),
		"y": base64.RawURLEncoding.EncodeToString(pub.Y.FillBytes(make([]byte, 32))),
	}}})
	return b
}

// Token mints a signed access token carrying c.
func (i *Issuer) Token(c Claims) string {
	i.tb.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, c.mapClaims(i))
	tok.Header["typ"] = "at+jwt"
	tok.Header["kid"] = i.KeyID
	s, err := tok.SignedString(i.key)
	if err != nil {
		i.tb.Fatalf("smarttest: sign: %v", err)
	}
	return s
}

// Request returns an httptest request for method and target carrying a
// token minted from c in its Authorization header.
func (i *Issuer) Request(method, target string, c Claims) *http.Request {
	i.tb.Helper()
	r := httptest.NewRequest(method, target, nil)
	r.Header.Set("Authorization", "Bearer "+i.Token(c))
	return r
}
