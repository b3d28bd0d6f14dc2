package authserver

import (
	"context"
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
	"errors"
	"fmt"
	"hash"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

// Shared fixtures of the client authentication tests. Names start with ca
// to stay apart from the other tests of the package.

const caTokenURL = "https://ehr.example.com/auth/token"

var caStart = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// caClock is a settable clock.
type caClock struct {
	mu  sync.Mutex
	now time.Time
}

func newCAClock() *caClock { return &caClock{now: caStart} }

func (c *caClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *caClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// caKeyMaterial holds the test keys, generated once.
type caKeyMaterial struct {
	rsa      *rsa.PrivateKey // kid rsa-1
	rsaOther *rsa.PrivateKey // not registered anywhere
	rsaSmall *rsa.PrivateKey // 1024 bits, kid rsa-small (unusable)
	ec384    *ecdsa.PrivateKey
	ec256    *ecdsa.PrivateKey
	ecDupA   *ecdsa.PrivateKey // kid dup
	ecDupB   *ecdsa.PrivateKey // kid dup
	ed       ed25519.PrivateKey
	urlRSA   *rsa.PrivateKey // served by the JWKS URL, kid url-1
	urlEC    *ecdsa.PrivateKey
}

var caKeys = sync.OnceValue(func() *caKeyMaterial {
	rsaKey := func(bits int) *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			panic(err)
		}
		return k
	}
	ecKey := func(c elliptic.Curve) *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return &caKeyMaterial{
		rsa: rsaKey(2048), rsaOther: rsaKey(2048), rsaSmall: rsaKey(1024),
		ec384: ecKey(elliptic.P384()), ec256: ecKey(elliptic.P256()),
		ecDupA: ecKey(elliptic.P256()), ecDupB: ecKey(elliptic.P256()),
		ed: ed, urlRSA: rsaKey(2048), urlEC: ecKey(elliptic.P384()),
	}
})

func caB64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// caJWK returns the public JWK of key with the given kid.
func caJWK(t testing.TB, key crypto.PublicKey, kid string) map[string]any {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "kid": kid, "n": caB64(k.N.Bytes()), "e": caB64(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		pt, err := k.Bytes()
		require.NoError(t, err)
		return map[string]any{"kty": "EC", "kid": kid, "crv": k.Curve.Params().Name,
			"x": caB64(pt[1 : 1+size]), "y": caB64(pt[1+size:])}
	case ed25519.PublicKey:
		return map[string]any{"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": caB64(k)}
	}
	t.Fatalf("unsupported key %T", key)
	return nil
}

// caJWKS returns a JWK Set document of keys.
func caJWKS(t testing.TB, keys ...map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"keys": keys})
	require.NoError(t, err)
	return b
}

// caSign builds a compact JWS by hand (no JWT library), so that any header
// and claims, including broken ones, can be produced. key is a
// crypto.Signer for RS*, PS*, ES* and EdDSA, a []byte for HS*, nil for none.
func caSign(t testing.TB, header, claims map[string]any, key any) string {
	h, err := json.Marshal(header)
	require.NoError(t, err)
	c, err := json.Marshal(claims)
	require.NoError(t, err)
	input := caB64(h) + "." + caB64(c)
	alg, _ := header["alg"].(string)
	var sig []byte
	digest := func(newHash func() hash.Hash) []byte {
		d := newHash()
		d.Write([]byte(input))
		return d.Sum(nil)
	}
	hashFor := map[string]crypto.Hash{"256": crypto.SHA256, "384": crypto.SHA384, "512": crypto.SHA512}
	newHashFor := map[string]func() hash.Hash{"256": sha256.New, "384": sha512.New384, "512": sha512.New}
	switch {
	case alg == "none" || key == nil:
	case alg == "EdDSA":
		sig = ed25519.Sign(key.(ed25519.PrivateKey), []byte(input))
	case alg[:2] == "HS":
		m := hmac.New(newHashFor[alg[2:]], key.([]byte))
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case alg[:2] == "RS":
		sig, err = rsa.SignPKCS1v15(rand.Reader, key.(*rsa.PrivateKey), hashFor[alg[2:]], digest(newHashFor[alg[2:]]))
		require.NoError(t, err)
	case alg[:2] == "PS":
		sig, err = rsa.SignPSS(rand.Reader, key.(*rsa.PrivateKey), hashFor[alg[2:]], digest(newHashFor[alg[2:]]),
			&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		require.NoError(t, err)
	case alg[:2] == "ES":
		k := key.(*ecdsa.PrivateKey)
		r, s, err := ecdsa.Sign(rand.Reader, k, digest(newHashFor[alg[2:]]))
		require.NoError(t, err)
		size := (k.Curve.Params().BitSize + 7) / 8
		sig = make([]byte, 2*size)
		r.FillBytes(sig[:size])
		s.FillBytes(sig[size:])
	default:
		t.Fatalf("caSign: unsupported alg %q", alg)
	}
	return input + "." + caB64(sig)
}

var caJTI atomic.Int64

// caClaims returns valid assertion claims for clientID at now.
func caClaims(clientID string, now time.Time) map[string]any {
	return map[string]any{
		"iss": clientID, "sub": clientID, "aud": caTokenURL,
		"exp": now.Add(2 * time.Minute).Unix(), "iat": now.Unix(),
		"jti": fmt.Sprintf("jti-%d", caJTI.Add(1)),
	}
}

// caHeader returns a JWS header.
func caHeader(alg, kid string) map[string]any {
	return map[string]any{"alg": alg, "kid": kid, "typ": "JWT"}
}

// caJWKSServer is a TLS server of a client JWK Set that counts its hits.
type caJWKSServer struct {
	*httptest.Server
	hits         atomic.Int64
	body         atomic.Pointer[[]byte]
	status       atomic.Int64
	cacheControl atomic.Pointer[string]
}

func newCAJWKSServer(t testing.TB, body []byte) *caJWKSServer {
	s := &caJWKSServer{}
	s.set(body)
	s.status.Store(http.StatusOK)
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if cc := s.cacheControl.Load(); cc != nil {
			w.Header().Set("Cache-Control", *cc)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(s.status.Load()))
		_, _ = w.Write(*s.body.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *caJWKSServer) set(body []byte) { s.body.Store(&body) }

func (s *caJWKSServer) setCacheControl(v string) { s.cacheControl.Store(&v) }

// caFixture is an authenticator with one client of each kind.
type caFixture struct {
	auth   *ClientAuthenticator
	clock  *caClock
	keys   *caKeyMaterial
	jwks   *caJWKSServer
	replay *tokenstore.MemoryStore
}

// Registered clients of caFixture and their secrets.
const (
	caBasicID      = "basic-client"
	caBasicSecret  = "s3cret-basic-0123456789"
	caSpecialID    = "id:with+plus%"
	caSpecialSec   = "a:b+c%d"
	caRawID        = "raw%id" // not valid form encoding: taken as sent
	caRawSecret    = "a:b+c%d"
	caPlusSecretID = "plus-secret"
	caPlusSecret   = "x+y%41z" // a valid but different form decoding
	caPostID       = "post-client"
	caPostSecret   = "s3cret-post-0123456789"
	caPBKDF2ID     = "pbkdf2-client"
	caPBKDF2Secret = "correct horse battery staple"
	caPublicID     = "public-app"
	caJWTID        = "jwt-client"
	caURLID        = "jwt-url-client"
	caBothID       = "jwt-both-client"
)

func caClients(t testing.TB, keys *caKeyMaterial, jwksURL string) []Client {
	inline := caJWKS(t,
		caJWK(t, &keys.rsa.PublicKey, "rsa-1"),
		caJWK(t, &keys.ec384.PublicKey, "ec-1"),
		caJWK(t, &keys.ec256.PublicKey, "ec256-1"),
		caJWK(t, keys.ed.Public(), "ed-1"),
		caJWK(t, &keys.rsaSmall.PublicKey, "rsa-small"),
		caJWK(t, &keys.ecDupA.PublicKey, "dup"),
		caJWK(t, &keys.ecDupB.PublicKey, "dup"),
		map[string]any{"kty": "oct", "kid": "hmac-1", "k": caB64([]byte(caBasicSecret))},
	)
	return []Client{
		{ID: caBasicID, AuthMethod: AuthClientSecretBasic, SecretHash: HashSecret(caBasicSecret)},
		{ID: caSpecialID, AuthMethod: AuthClientSecretBasic, SecretHash: HashSecret(caSpecialSec)},
		{ID: caRawID, AuthMethod: AuthClientSecretBasic, SecretHash: HashSecret(caRawSecret)},
		{ID: caPlusSecretID, AuthMethod: AuthClientSecretBasic, SecretHash: HashSecret(caPlusSecret)},
		{ID: caPostID, AuthMethod: AuthClientSecretPost, SecretHash: HashSecret(caPostSecret)},
		{ID: caPBKDF2ID, AuthMethod: AuthClientSecretPost, SecretHash: HashSecretPBKDF2(caPBKDF2Secret, 1000)},
		{ID: caPublicID, AuthMethod: AuthNone},
		{ID: caJWTID, AuthMethod: AuthPrivateKeyJWT, JWKS: inline},
		{ID: caURLID, AuthMethod: AuthPrivateKeyJWT, JWKSURL: jwksURL},
		{ID: caBothID, AuthMethod: AuthPrivateKeyJWT, JWKS: caJWKS(t, caJWK(t, &keys.rsa.PublicKey, "rsa-1")), JWKSURL: jwksURL},
	}
}

func newCAFixture(t testing.TB, mod ...func(*ClientAuthConfig)) *caFixture {
	keys := caKeys()
	srv := newCAJWKSServer(t, caJWKS(t, caJWK(t, &keys.urlRSA.PublicKey, "url-1"), caJWK(t, &keys.urlEC.PublicKey, "url-ec")))
	clients, err := NewStaticClients(caClients(t, keys, srv.URL+"/jwks.json")...)
	require.NoError(t, err)
	f := &caFixture{clock: newCAClock(), keys: keys, jwks: srv, replay: tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})}
	cfg := ClientAuthConfig{
		Clients:       clients,
		TokenEndpoint: caTokenURL,
		Replay:        f.replay,
		HTTPClient:    srv.Client(),
		Now:           f.clock.Now,
	}
	for _, m := range mod {
		m(&cfg)
	}
	f.auth, err = NewClientAuthenticator(cfg)
	require.NoError(t, err)
	return f
}

func (f *caFixture) jwksURL() string { return f.jwks.URL + "/jwks.json" }

// authenticate runs Authenticate on a request with the given Authorization
// headers and form.
func (f *caFixture) authenticate(authz []string, form url.Values) (*Client, error) {
	r := httptest.NewRequest(http.MethodPost, caTokenURL, nil)
	for _, a := range authz {
		r.Header.Add("Authorization", a)
	}
	return f.auth.Authenticate(context.Background(), r, form)
}

// caBasic returns a Basic Authorization header of id and secret, as given
// (the caller encodes them or not).
func caBasic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// caEncodedBasic returns a Basic Authorization header with id and secret
// form-encoded as RFC 6749 §2.3.1 requires.
func caEncodedBasic(id, secret string) string {
	return caBasic(url.QueryEscape(id), url.QueryEscape(secret))
}

// caAssertionForm returns the form of a private_key_jwt request.
func caAssertionForm(assertion string, extra ...string) url.Values {
	form := url.Values{
		"client_assertion_type": {ClientAssertionTypeJWTBearer},
		"client_assertion":      {assertion},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return form
}

// requireAuthError checks err is an *Error with exactly these fields and,
// if cause is not nil, that it wraps cause.
func requireAuthError(t testing.TB, err error, status int, code string, challenge bool, cause error) {
	t.Helper()
	var e *Error
	require.True(t, errors.As(err, &e), "want *Error, got %v", err)
	require.Equal(t, status, e.Status, "status (%v)", e.Err)
	require.Equal(t, code, e.Code, "code (%v)", e.Err)
	require.Equal(t, challenge, e.BasicChallenge, "BasicChallenge")
	if cause != nil {
		require.ErrorIs(t, e, cause)
	}
	switch {
	case code == CodeInvalidClient && status == http.StatusTooManyRequests:
		require.Equal(t, "too many failed client authentication attempts; retry later", e.Description)
		require.Positive(t, e.RetryAfter)
	case code == CodeInvalidClient:
		require.Equal(t, "client authentication failed", e.Description)
	case code == CodeTemporarilyUnavailable:
		require.Equal(t, "client authentication is temporarily unavailable", e.Description)
		require.Equal(t, time.Second, e.RetryAfter)
	case code == CodeServerError:
		require.Equal(t, "the authorization server could not authenticate the client", e.Description)
	}
}

// caFailingStore is a ClientStore that always fails.
type caFailingStore struct{}

var errCAStoreDown = errors.New("store down")

func (caFailingStore) Client(context.Context, string) (*Client, error) { return nil, errCAStoreDown }

// caFailingReplay is a ReplayGuard that always fails.
type caFailingReplay struct{}

func (caFailingReplay) UseOnce(context.Context, string, time.Time, time.Time) error {
	return errCAStoreDown
}

// caBlockingReplay is a ReplayGuard that ignores its context and answers
// only once its channel is closed.
type caBlockingReplay chan struct{}

func (c caBlockingReplay) UseOnce(context.Context, string, time.Time, time.Time) error {
	<-c
	return nil
}

// caReplayedGuard is a ReplayGuard that finds every key replayed.
type caReplayedGuard struct{}

func (caReplayedGuard) UseOnce(context.Context, string, time.Time, time.Time) error {
	return fmt.Errorf("guard: %w", tokenstore.ErrReplayed)
}

// caRecordingReplay records the keys it is given.
type caRecordingReplay struct {
	*tokenstore.MemoryStore
	mu   sync.Mutex
	keys []string
}

func (r *caRecordingReplay) UseOnce(ctx context.Context, key string, expiresAt, now time.Time) error {
	r.mu.Lock()
	r.keys = append(r.keys, key)
	r.mu.Unlock()
	return r.MemoryStore.UseOnce(ctx, key, expiresAt, now)
}

// caNoReplay is a ReplayGuard that accepts everything (benchmarks).
type caNoReplay struct{}

func (caNoReplay) UseOnce(context.Context, string, time.Time, time.Time) error { return nil }
