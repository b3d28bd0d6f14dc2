package authserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smartauth/smartauth/middleware/authserver"
)

// benchmarkRefresh sends full refresh requests through the handler (memory
// store, client_secret_basic client), each with the refresh token returned
// by the previous one.
func benchmarkRefresh(b *testing.B, alg string) {
	e := newEnv(b, func(c *authserver.TokenConfig) {
		ks, err := authserver.NewKeySet(testKey(b, alg))
		if err != nil {
			b.Fatal(err)
		}
		c.Keys = ks
		c.Audit = func(context.Context, authserver.AuditEvent) {}
	})
	rt := e.grant(clientA, testScope)
	var resp struct {
		RefreshToken string `json:"refresh_token"`
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(refreshForm(rt)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(clientA, clientASecret)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			b.Fatal(err)
		}
		rt = resp.RefreshToken
	}
}

func BenchmarkRefreshRS256(b *testing.B) { benchmarkRefresh(b, "RS256") }
func BenchmarkRefreshES256(b *testing.B) { benchmarkRefresh(b, "ES256") }

// BenchmarkAuthorizeAndExchange: an authorization request whose steps
// answer at once (validation, sealing, the code stored) and the code
// exchange (redemption, grant, signed access and ID tokens), on the
// memory store.
func BenchmarkAuthorizeAndExchange(b *testing.B) {
	e := newAuthzEnv(b, nil)
	p := newPKCE()
	params := authzParams(p)
	b.ReportAllocs()
	for b.Loop() {
		code := e.code(params)
		if rec := e.exchange(appPublic, code, p, appPublicCB); rec.Code != http.StatusOK {
			b.Fatal(rec.Body.String())
		}
	}
}
