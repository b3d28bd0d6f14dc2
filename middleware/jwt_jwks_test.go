package middleware

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func jwksTestConfig(urls ...string) JWTConfig {
	return JWTConfig{
		JWKSURLs: urls,
		Issuers:  []string{jwtTestIssuer},
		Audience: jwtTestAudience,
		Now:      func() time.Time { return jwtTestNow },
	}
}

func TestJWTVerifierJWKS(t *testing.T) {
	k := jwtTestKeys()
	srv := newJWKSServer(t,
		jwkJSON(t, "rsa", &k.rsa.PublicKey, `"use":"sig"`, `"alg":"RS256"`),
		jwkJSON(t, "ec", &k.ec256.PublicKey),
		jwkJSON(t, "ed", k.ed.Public()),
		jwkJSON(t, "rsa-enc", &k.rsaOther.PublicKey, `"use":"enc"`),
		jwkJSON(t, "oct", k.hmac),
	)
	cfg := jwksTestConfig(srv.URL)
	cfg.Algorithms = append(defaultAlgorithms(), "HS256")
	cfg.StaticKeys = map[string]crypto.PublicKey{"static": k.ec384.Public()}
	v := newTestVerifier(t, cfg)
	require.EqualValues(t, 1, srv.requests.Load(), "the JWK Set is fetched once at start")
	payload := claimsJSON(t, nil)

	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"RS256 from JWKS", handSign(t, "RS256", headerJSON("RS256", "rsa"), payload, k.rsa), nil},
		{"ES256 from JWKS", handSign(t, "ES256", headerJSON("ES256", "ec"), payload, k.ec256), nil},
		{"EdDSA from JWKS", handSign(t, "EdDSA", headerJSON("EdDSA", "ed"), payload, k.ed), nil},
		{"static key next to JWKS", handSign(t, "ES384", headerJSON("ES384", "static"), payload, k.ec384), nil},
		{"no kid: every fitting key is tried", handSign(t, "ES256", headerJSON("ES256", ""), payload, k.ec256), nil},
		{"no kid, no fitting key", relabel(t, handSign(t, "ES256", headerJSON("ES256", ""), payload, k.ec256), headerJSON("ES512", "")), ErrUnknownKey},
		{"no kid, wrong key", handSign(t, "RS256", headerJSON("RS256", ""), payload, k.rsaOther), ErrBadSignature},
		{"JWK alg differs from token alg", handSign(t, "PS256", headerJSON("PS256", "rsa"), payload, k.rsa), ErrAlgorithmNotAllowed},
		{"key type differs from token alg", handSign(t, "RS256", headerJSON("RS256", "ec"), payload, k.rsa), ErrAlgorithmNotAllowed},
		{"encryption key", handSign(t, "RS256", headerJSON("RS256", "rsa-enc"), payload, k.rsaOther), ErrUnknownKey},
		{"HMAC with a JWKS oct key", handSign(t, "HS256", headerJSON("HS256", "oct"), payload, k.hmac), ErrUnknownKey},
		{"unknown kid", handSign(t, "RS256", headerJSON("RS256", "unknown"), payload, k.rsa), ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lc, err := v.VerifyToken(t.Context(), tt.token)
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, "pat-123", lc.Patient)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
		})
	}
	// The one unknown kid was allowed one refresh (limiter burst 1); the
	// HMAC token and the kid-less ones never cause a fetch.
	assert.EqualValues(t, 2, srv.requests.Load())
}

// TestJWTVerifierUnknownKIDFlood sends 200 tokens with random kids at once,
// with the default limits: the JWKS server sees one refresh, and no request
// waits for it.
func TestJWTVerifierUnknownKIDFlood(t *testing.T) {
	k := jwtTestKeys()
	srv := newJWKSServer(t, jwkJSON(t, "rsa", &k.rsa.PublicKey))
	v := newTestVerifier(t, jwksTestConfig(srv.URL))
	require.EqualValues(t, 1, srv.requests.Load())

	// The refresh an unknown kid causes blocks in the server until the
	// test releases it: every other request must finish meanwhile.
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	srv.setHook(func(int64) {
		once.Do(func() { close(entered) })
		<-release
	})

	const n = 200
	payload := claimsJSON(t, nil)
	tokens := make([]string, n)
	for i := range tokens {
		kid := make([]byte, 8)
		_, _ = rand.Read(kid)
		tokens[i] = handSign(t, "RS256", headerJSON("RS256", hex.EncodeToString(kid)), payload, k.rsa)
	}
	results := make(chan error, n)
	for _, tok := range tokens {
		go func() {
			_, err := v.VerifyToken(t.Context(), tok)
			results <- err
		}()
	}

	waitFor := func(what string, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(30 * time.Second): // a deadlock guard, not a timing assertion
			t.Fatalf("timed out waiting for %s", what)
		}
	}
	waitFor("the refresh request", entered)
	// While the single refresh is blocked, the other 199 requests finish.
	others := make(chan struct{})
	go func() {
		for range n - 1 {
			assert.ErrorIs(t, <-results, ErrUnknownKey)
		}
		close(others)
	}()
	waitFor("the requests not refreshing", others)
	close(release)
	require.ErrorIs(t, <-results, ErrUnknownKey)
	assert.EqualValues(t, 2, srv.requests.Load(), "initial fetch + one refresh")

	// A second wave: the limiter allows no refresh for 5 minutes.
	for _, tok := range tokens {
		_, err := v.VerifyToken(t.Context(), tok)
		require.ErrorIs(t, err, ErrUnknownKey)
	}
	assert.EqualValues(t, 2, srv.requests.Load())

	// Known keys keep working throughout.
	_, err := v.VerifyToken(t.Context(), handSign(t, "RS256", headerJSON("RS256", "rsa"), payload, k.rsa))
	require.NoError(t, err)
}

func TestJWTVerifierUnknownKIDWait(t *testing.T) {
	k := jwtTestKeys()
	srv := newJWKSServer(t, jwkJSON(t, "rsa", &k.rsa.PublicKey))
	cfg := jwksTestConfig(srv.URL)
	// One refresh per hour, waiting at most a minute: a second unknown
	// kid fails at once (the limiter knows the wait would be too long).
	cfg.UnknownKIDRefreshInterval = time.Hour
	cfg.UnknownKIDWait = time.Minute
	v := newTestVerifier(t, cfg)
	payload := claimsJSON(t, nil)

	// The first unknown kid refreshes and finds the key published since.
	srv.setKeys(jwkJSON(t, "rsa", &k.rsa.PublicKey), jwkJSON(t, "new", &k.rsaOther.PublicKey))
	_, err := v.VerifyToken(t.Context(), handSign(t, "RS256", headerJSON("RS256", "new"), payload, k.rsaOther))
	require.NoError(t, err)
	assert.EqualValues(t, 2, srv.requests.Load())

	_, err = v.VerifyToken(t.Context(), handSign(t, "RS256", headerJSON("RS256", "newer"), payload, k.rsaOther))
	require.ErrorIs(t, err, ErrUnknownKey)
	assert.EqualValues(t, 2, srv.requests.Load())

	// A negative rate limit disables refreshes for unknown kids.
	srv2 := newJWKSServer(t, jwkJSON(t, "rsa", &k.rsa.PublicKey))
	cfg = jwksTestConfig(srv2.URL)
	cfg.UnknownKIDRefreshInterval = -1
	v = newTestVerifier(t, cfg)
	_, err = v.VerifyToken(t.Context(), handSign(t, "RS256", headerJSON("RS256", "new"), payload, k.rsaOther))
	require.ErrorIs(t, err, ErrUnknownKey)
	assert.EqualValues(t, 1, srv2.requests.Load())
}

// TestJWTVerifierJWKSServerDown: keys fetched before keep working when the
// JWKS server fails later.
func TestJWTVerifierJWKSServerDown(t *testing.T) {
	k := jwtTestKeys()
	srv := newJWKSServer(t, jwkJSON(t, "rsa", &k.rsa.PublicKey))
	cfg := jwksTestConfig(srv.URL)
	cfg.UnknownKIDRefreshInterval = time.Nanosecond // every unknown kid refreshes
	cfg.CacheSize = -1                              // every token is verified with the stored keys
	v := newTestVerifier(t, cfg)
	payload := claimsJSON(t, nil)
	good := handSign(t, "RS256", headerJSON("RS256", "rsa"), payload, k.rsa)

	srv.setStatus(http.StatusServiceUnavailable)
	_, err := v.VerifyToken(t.Context(), handSign(t, "RS256", headerJSON("RS256", "unknown"), payload, k.rsa))
	require.ErrorIs(t, err, ErrUnknownKey)
	require.EqualValues(t, 2, srv.requests.Load(), "a refresh was attempted")
	_, err = v.VerifyToken(t.Context(), good)
	require.NoError(t, err)

	srv.Close()
	_, err = v.VerifyToken(t.Context(), handSign(t, "RS256", headerJSON("RS256", "unknown"), payload, k.rsa))
	require.ErrorIs(t, err, ErrUnknownKey)
	_, err = v.VerifyToken(t.Context(), good)
	require.NoError(t, err)
}

// TestJWTVerifierJWKSDownAtStart: the verifier starts without its keys and
// accepts tokens once a refresh succeeds.
func TestJWTVerifierJWKSDownAtStart(t *testing.T) {
	k := jwtTestKeys()
	srv := newJWKSServer(t, jwkJSON(t, "rsa", &k.rsa.PublicKey))
	srv.setStatus(http.StatusInternalServerError)
	cfg := jwksTestConfig(srv.URL)
	cfg.UnknownKIDRefreshInterval = time.Nanosecond
	v := newTestVerifier(t, cfg)
	token := handSign(t, "RS256", headerJSON("RS256", "rsa"), claimsJSON(t, nil), k.rsa)

	_, err := v.VerifyToken(t.Context(), token)
	require.ErrorIs(t, err, ErrUnknownKey)
	srv.setStatus(0)
	_, err = v.VerifyToken(t.Context(), token)
	require.NoError(t, err)
}

// TestJWTVerifierKeyRemoved: once a refresh drops a key from the JWK Set,
// its tokens are rejected, cached ones included.
func TestJWTVerifierKeyRemoved(t *testing.T) {
	k := jwtTestKeys()
	srv := newJWKSServer(t, jwkJSON(t, "old", &k.rsa.PublicKey), jwkJSON(t, "new", &k.rsaOther.PublicKey))
	cfg := jwksTestConfig(srv.URL)
	cfg.UnknownKIDRefreshInterval = time.Nanosecond
	v := newTestVerifier(t, cfg)
	payload := claimsJSON(t, nil)
	oldToken := handSign(t, "RS256", headerJSON("RS256", "old"), payload, k.rsa)
	newToken := handSign(t, "RS256", headerJSON("RS256", "new"), payload, k.rsaOther)

	_, err := v.VerifyToken(t.Context(), oldToken)
	require.NoError(t, err)
	_, err = v.VerifyToken(t.Context(), oldToken) // now cached
	require.NoError(t, err)

	srv.setKeys(jwkJSON(t, "new", &k.rsaOther.PublicKey))
	// An unknown kid triggers the refresh that drops "old".
	_, err = v.VerifyToken(t.Context(), handSign(t, "RS256", headerJSON("RS256", "other"), payload, k.rsa))
	require.ErrorIs(t, err, ErrUnknownKey)

	_, err = v.VerifyToken(t.Context(), oldToken)
	require.ErrorIs(t, err, ErrUnknownKey)
	_, err = v.VerifyToken(t.Context(), newToken)
	require.NoError(t, err)
}

// TestJWTVerifierPeriodicRefresh: the refresh goroutine picks up a key
// removal without any unknown kid.
func TestJWTVerifierPeriodicRefresh(t *testing.T) {
	k := jwtTestKeys()
	srv := newJWKSServer(t, jwkJSON(t, "old", &k.rsa.PublicKey))
	cfg := jwksTestConfig(srv.URL)
	cfg.JWKSRefreshInterval = 20 * time.Millisecond
	cfg.UnknownKIDRefreshInterval = -1
	v := newTestVerifier(t, cfg)
	token := handSign(t, "RS256", headerJSON("RS256", "old"), claimsJSON(t, nil), k.rsa)
	_, err := v.VerifyToken(t.Context(), token)
	require.NoError(t, err)

	srv.setKeys()
	require.Eventually(t, func() bool {
		_, err := v.VerifyToken(t.Context(), token)
		return err != nil
	}, 30*time.Second, 10*time.Millisecond)
	_, err = v.VerifyToken(t.Context(), token)
	require.ErrorIs(t, err, ErrUnknownKey)
}

func TestJWTVerifierJWKSTooLarge(t *testing.T) {
	k := jwtTestKeys()
	huge := jwkJSON(t, "rsa", &k.rsa.PublicKey, `"x-pad":"`+jwksPadding(maxJWKSBytes)+`"`)
	srv := newJWKSServer(t, huge)
	v := newTestVerifier(t, jwksTestConfig(srv.URL))
	_, err := v.VerifyToken(t.Context(), handSign(t, "RS256", headerJSON("RS256", "rsa"), claimsJSON(t, nil), k.rsa))
	require.ErrorIs(t, err, ErrUnknownKey, "an oversized JWK Set is not used")
}

func jwksPadding(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

// TestJWTVerifierContextEndsRefresh: cancelling the context given to
// NewJWTVerifier ends the refresh goroutines.
//
// The verifier is built under a pprof label unique to this test, which
// every goroutine it starts inherits; only goroutines with that label are
// counted, so the JWKS verifiers of tests running in parallel cannot change
// the counts.
func TestJWTVerifierContextEndsRefresh(t *testing.T) {
	k := jwtTestKeys()
	label := "refresh-" + t.Name()
	srv := newJWKSServer(t, jwkJSON(t, "rsa", &k.rsa.PublicKey))
	cfg := jwksTestConfig(srv.URL, srv.URL+"/second")
	cfg.JWKSRefreshInterval = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	require.Zero(t, labelledGoroutines(t, label, "jwkset.NewStorageFromHTTP.func"))
	pprof.Do(ctx, pprof.Labels("smartauth-test", label), func(ctx context.Context) {
		_, err := NewJWTVerifier(ctx, cfg)
		require.NoError(t, err)
	})
	assert.Equal(t, 2, labelledGoroutines(t, label, "jwkset.NewStorageFromHTTP.func"), "one refresh goroutine per URL")
	require.Eventually(t, func() bool { return srv.requests.Load() >= 6 }, 30*time.Second, time.Millisecond,
		"the JWK Sets are refreshed periodically")

	cancel()
	require.Eventually(t, func() bool {
		return labelledGoroutines(t, label, "jwkset.NewStorageFromHTTP.func") == 0
	}, 30*time.Second, time.Millisecond)
}

// labelledGoroutines counts the goroutines that carry the pprof label
// smartauth-test=label and have fn in their stack.
func labelledGoroutines(t *testing.T, label, fn string) int {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, pprof.Lookup("goroutine").WriteTo(&buf, 1))
	want := fmt.Sprintf("%q:%q", "smartauth-test", label)
	n := 0
	// debug=1 output: one record per distinct stack, separated by blank
	// lines: "<count> @ <pcs>", "# labels: {...}", then the frames.
	for rec := range strings.SplitSeq(buf.String(), "\n\n") {
		if !strings.Contains(rec, "# labels: {") || !strings.Contains(rec, want) || !strings.Contains(rec, fn) {
			continue
		}
		head, _, _ := strings.Cut(rec, " @ ")
		c, err := strconv.Atoi(head[strings.LastIndexByte(head, '\n')+1:])
		require.NoError(t, err)
		n += c
	}
	return n
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestJWTVerifierJWKSLogger: JWK Set failures are logged through
// JWTConfig.Logger, at Warn.
func TestJWTVerifierJWKSLogger(t *testing.T) {
	k := jwtTestKeys()
	srv := newJWKSServer(t, jwkJSON(t, "rsa", &k.rsa.PublicKey))
	srv.setStatus(http.StatusInternalServerError)
	var buf syncBuffer
	cfg := jwksTestConfig(srv.URL)
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	newTestVerifier(t, cfg) // the first fetch fails; NewJWTVerifier does not
	out := buf.String()
	assert.Contains(t, out, "level=WARN")
	assert.Contains(t, out, "JWK Set fetch failed")
	assert.Contains(t, out, srv.URL)
}
