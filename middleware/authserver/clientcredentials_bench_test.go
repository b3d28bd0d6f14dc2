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
// fresh ES384 assertion of ccAll (signing them is the client's cost, kept
// out of the measurement).
func ccBenchRequests(b *testing.B, now time.Time, n int) []string {
	b.Helper()
	k := ccKeys()
	bodies := make([]string, n)
	for i := range bodies {
		bodies[i] = ccForm(assertion(b, k.es384, "ES384", "es384-1", ccAll, ccTokenURL, now, nil), "system/*.rs").Encode()
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
// token endpoint: form, ES384 client assertion verified (inline JWKS), jti
// recorded in the memory store, scope mediated, ES256 access token signed.
func BenchmarkClientCredentials(b *testing.B) {
	h, now := newCCBenchHandler(b)
	bodies := ccBenchRequests(b, now, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ccServe(b, h, bodies[i])
	}
}

// BenchmarkClientCredentialsParallel is BenchmarkClientCredentials from
// GOMAXPROCS goroutines: the requests per second of a machine are
// 1e9 / (ns/op).
func BenchmarkClientCredentialsParallel(b *testing.B) {
	h, now := newCCBenchHandler(b)
	bodies := ccBenchRequests(b, now, b.N)
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ccServe(b, h, bodies[next.Add(1)-1])
		}
	})
}
