package middleware

import (
	"crypto"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// authBench is the harness of the Authenticate benchmarks: one request
// reused for every call (its Authorization header replaced), a writer that
// discards the response, and a next handler that checks the launch context
// arrived. Its own cost is measured by serving next directly.
type authBench struct {
	b       *testing.B
	r       *http.Request
	w       *nopWriter
	next    http.Handler
	headers [][]string // Authorization header values, one per token
}

func newAuthBench(b *testing.B, tokens []string) *authBench {
	ab := &authBench{
		b: b,
		r: httptest.NewRequest(http.MethodGet, "/fhir/Patient/123", nil),
		w: &nopWriter{h: http.Header{}},
	}
	ab.next = http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		if r.Header == nil { // the harness run: no launch context to check
			return
		}
		if _, ok := LaunchContextFrom(r.Context()); !ok {
			b.Fatal("no launch context")
		}
	})
	for _, tok := range tokens {
		ab.headers = append(ab.headers, []string{"Bearer " + tok})
	}
	return ab
}

// serve sends the i-th token through h and returns the time it took.
func (ab *authBench) serve(h http.Handler, i int) time.Duration {
	t0 := time.Now()
	ab.r.Header["Authorization"] = ab.headers[i]
	h.ServeHTTP(ab.w, ab.r)
	return time.Since(t0)
}

// harness returns the time the harness alone takes for the i-th token.
func (ab *authBench) harness(i int) time.Duration {
	r := *ab.r
	r.Header = nil
	t0 := time.Now()
	ab.r.Header["Authorization"] = ab.headers[i]
	ab.next.ServeHTTP(ab.w, &r)
	return time.Since(t0)
}

// staticBenchVerifier is a verifier with the RSA test key as a static key,
// as in the Authenticate comparisons.
func staticBenchVerifier(b *testing.B, cacheSize int) *JWTVerifier {
	b.Helper()
	k := jwtTestKeys()
	return newTestVerifier(b, JWTConfig{
		StaticKeys:  map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey},
		Issuers:     []string{jwtTestIssuer},
		Audience:    jwtTestAudience,
		RequireType: "at+jwt",
		Now:         func() time.Time { return jwtTestNow },
		CacheSize:   cacheSize,
	})
}

// BenchmarkAuthenticateRepeatedRS256 sends one realistic RS256 token,
// verified once before the loop, through Authenticate with the JWT
// verifier: the steady state of a client making many requests.
func BenchmarkAuthenticateRepeatedRS256(b *testing.B) {
	v := staticBenchVerifier(b, 0)
	tokens := benchTokens(b, 1, "RS256", "rsa", jwtTestKeys().rsa)
	ab := newAuthBench(b, tokens)
	h := Authenticate(v)(ab.next)
	ab.serve(h, 0)
	b.ReportAllocs()
	for b.Loop() {
		ab.serve(h, 0)
	}
	b.ReportMetric(float64(len(tokens[0])), "token-bytes")
}

// BenchmarkAuthenticateVsBareRS256 compares Authenticate with a fresh
// token (distinct tokens, the RSA key static) to a bare golang-jwt Parse of
// the same token into MapClaims with the key at hand. The three runs — the
// harness alone, Authenticate, golang-jwt — are interleaved and their
// medians reported: auth-ns is Authenticate's median minus the harness's,
// x-bare the ratio of auth-ns to bare-ns.
func BenchmarkAuthenticateVsBareRS256(b *testing.B) {
	b.Run("nocache", func(b *testing.B) { benchAuthVsBare(b, -1) })
	b.Run("cache", func(b *testing.B) { benchAuthVsBare(b, 0) })
}

func benchAuthVsBare(b *testing.B, cacheSize int) {
	k := jwtTestKeys()
	tokens := benchTokens(b, benchDistinctTokens, "RS256", "rsa", k.rsa)
	ab := newAuthBench(b, tokens)
	newHandler := func() http.Handler { return Authenticate(staticBenchVerifier(b, cacheSize))(ab.next) }
	h := newHandler()
	keyfunc := func(*jwt.Token) (any, error) { return &k.rsa.PublicKey, nil }
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return jwtTestNow }))
	bare := func(i int) time.Duration {
		t0 := time.Now()
		tok, err := parser.Parse(tokens[i], keyfunc)
		if err != nil || !tok.Valid {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	var harness, ours, theirs []time.Duration
	i := 0
	for b.Loop() {
		if i == len(tokens) {
			b.StopTimer()
			h = newHandler() // an empty cache: every token stays fresh
			i = 0
			b.StartTimer()
		}
		// Rotate the order: whichever runs later finds the token in
		// the CPU caches.
		switch i % 3 {
		case 0:
			harness = append(harness, ab.harness(i))
			ours = append(ours, ab.serve(h, i))
			theirs = append(theirs, bare(i))
		case 1:
			ours = append(ours, ab.serve(h, i))
			theirs = append(theirs, bare(i))
			harness = append(harness, ab.harness(i))
		default:
			theirs = append(theirs, bare(i))
			harness = append(harness, ab.harness(i))
			ours = append(ours, ab.serve(h, i))
		}
		i++
	}
	mh, mo, mb := medianNS(harness), medianNS(ours), medianNS(theirs)
	b.ReportMetric(mo-mh, "auth-ns")
	b.ReportMetric(mb, "bare-ns")
	b.ReportMetric(mh, "harness-ns")
	b.ReportMetric((mo-mh)/mb, "x-bare")
}

func medianNS(d []time.Duration) float64 {
	slices.Sort(d)
	return float64(d[len(d)/2])
}
