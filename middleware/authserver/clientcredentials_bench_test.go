package authserver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartauth/smartauth/middleware/authserver"
)

// ccBenchRequests returns n client_credentials request bodies, each with a
// fresh client assertion of ccAll signed with alg, ES384 or RS384 (signing
// them is the client's cost, kept out of the measurement).
func ccBenchRequests(b *testing.B, alg string, now time.Time, n int) []string {
	b.Helper()
	k := ccKeys()
	bodies := make([]string, n)
	for i := range bodies {
		a := assertion(b, k.es384, "ES384", "es384-1", ccAll, ccTokenURL, now, nil)
		if alg == "RS384" {
			a = assertion(b, k.rs384, "RS384", "rs384-1", ccAll, ccTokenURL, now, nil)
		}
		bodies[i] = ccForm(a, "system/*.rs").Encode()
	}
	return bodies
}

// newCCBenchHandler is the token endpoint of the benchmarks (memory store
// as the replay guard, ES256 signing key, no audit) and its clock's time.
func newCCBenchHandler(b *testing.B) (http.Handler, time.Time) {
	b.Helper()
	e := newCCEnv(b, func(c *authserver.TokenConfig) {
		c.Audit = func(context.Context, authserver.AuditEvent) {}
	})
	return e.h, e.clock.Now()
}

func ccServe(b *testing.B, h http.Handler, body string) {
	req := httptest.NewRequest(http.MethodPost, ccTokenURL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

// BenchmarkClientCredentials: one client_credentials request through the
// token endpoint: form, client assertion verified (ES384 or RS384, inline
// JWKS), jti recorded in the memory store, scope mediated, ES256 access
// token signed.
func BenchmarkClientCredentials(b *testing.B) {
	for _, alg := range []string{"ES384", "RS384"} {
		b.Run(alg, func(b *testing.B) {
			h, now := newCCBenchHandler(b)
			bodies := ccBenchRequests(b, alg, now, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				ccServe(b, h, bodies[i])
			}
		})
	}
}

// BenchmarkClientCredentialsParallel is BenchmarkClientCredentials/ES384
// from GOMAXPROCS goroutines: the requests per second of the machine are
// 1e9 / (ns/op).
func BenchmarkClientCredentialsParallel(b *testing.B) {
	h, now := newCCBenchHandler(b)
	bodies := ccBenchRequests(b, "ES384", now, b.N)
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ccServe(b, h, bodies[next.Add(1)-1])
		}
	})
}
