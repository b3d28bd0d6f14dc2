package fhirproxy_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/examples/internal/fhirproxy"
	"github.com/smartauth/smartauth/internal/leaksuite"
	"github.com/smartauth/smartauth/internal/naivefhir"
	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/smarttest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestLeakSuite runs the leak suite against the gateway in front of a
// naive FHIR server that enforces nothing.
func TestLeakSuite(t *testing.T) {
	leaksuite.Run(t, func(t *testing.T, env leaksuite.Env) http.Handler {
		upstream := httptest.NewServer(env.Upstream(env.FHIR))
		t.Cleanup(upstream.Close)
		h, err := fhirproxy.New(fhirproxy.Config{
			Upstream: upstream.URL,
			BaseURL:  leaksuite.BaseURL,
			Verifier: env.Verifier,
			Logger:   quiet,
		})
		require.NoError(t, err)
		return h
	})
}

// gateway is a gateway over a naive FHIR server loaded with testdata/fhir,
// served under /fhir of its upstream server.
type gateway struct {
	h        http.Handler
	iss      *smarttest.Issuer
	upstream *httptest.Server
	fhir     *naivefhir.Server

	mu   sync.Mutex
	seen []*http.Request // as the upstream received them
}

func newGateway(t *testing.T) *gateway {
	t.Helper()
	fhir, err := naivefhir.Load(osDirFS("../../../testdata/fhir"))
	require.NoError(t, err)
	g := &gateway{iss: smarttest.NewIssuer(t, smarttest.WithAudience(leaksuite.BaseURL)), fhir: fhir}
	g.upstream = httptest.NewServer(http.StripPrefix("/base", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.seen = append(g.seen, r.Clone(r.Context()))
		g.mu.Unlock()
		fhir.ServeHTTP(w, r)
	})))
	t.Cleanup(g.upstream.Close)
	g.h, err = fhirproxy.New(fhirproxy.Config{Upstream: g.upstream.URL + "/base", BaseURL: leaksuite.BaseURL, Verifier: g.iss.Verifier(), Logger: quiet})
	require.NoError(t, err)
	return g
}

func (g *gateway) do(t *testing.T, method, target, scope, body string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Host = "fhir.leaksuite.test"
	for k, v := range header {
		req.Header[k] = v
	}
	if scope != "" {
		req.Header.Set("Authorization", "Bearer "+g.iss.Token(smarttest.Claims{Patient: leaksuite.Patient, Scope: scope}))
	}
	rec := httptest.NewRecorder()
	g.h.ServeHTTP(rec, req)
	return rec
}

func (g *gateway) lastSeen() *http.Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.seen[len(g.seen)-1]
}

func TestRewritesLinksAndFullURLs(t *testing.T) {
	g := newGateway(t)
	for _, scope := range []string{"patient/*.rs", "user/*.rs"} { // verified and streamed
		t.Run(scope, func(t *testing.T) {
			rec := g.do(t, http.MethodGet, "/fhir/Observation?_count=1&patient="+leaksuite.Patient, scope, "", nil)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			body := rec.Body.String()
			assert.NotContains(t, body, g.upstream.URL)
			var b struct {
				Link  []struct{ Relation, URL string }
				Entry []struct {
					FullURL string `json:"fullUrl"`
				}
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &b))
			assert.Equal(t, []struct{ Relation, URL string }{
				{"self", leaksuite.BaseURL + "/Observation?_count=1&patient=" + leaksuite.Patient},
				{"next", leaksuite.BaseURL + "/Observation?_count=1&_offset=1&patient=" + leaksuite.Patient},
			}, b.Link)
			require.Len(t, b.Entry, 1)
			assert.Equal(t, leaksuite.BaseURL+"/Observation/obs-glucose-1", b.Entry[0].FullURL)
			if scope == "user/*.rs" {
				assert.Empty(t, rec.Header().Get("Content-Length"), "a rewritten, streamed body has no Content-Length")
			}
		})
	}
}

func TestRewritesLocation(t *testing.T) {
	g := newGateway(t)
	rec := g.do(t, http.MethodPost, "/fhir/Observation", "patient/Observation.c",
		`{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/`+leaksuite.Patient+`"}}`,
		http.Header{"Content-Type": {"application/fhir+json"}})
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Equal(t, leaksuite.BaseURL+"/Observation/n1/_history/1", rec.Header().Get("Location"))
}

func TestForwardsWithoutTokenOrHopByHopHeaders(t *testing.T) {
	g := newGateway(t)
	rec := g.do(t, http.MethodGet, "/fhir/Patient/"+leaksuite.Patient, "user/*.rs", "", http.Header{
		"Connection":          {"X-Secret"},
		"X-Secret":            {"hop"},
		"Te":                  {"deflate"},
		"Keep-Alive":          {"timeout=5"},
		"Proxy-Authorization": {"Basic eDp5"},
		"Forwarded":           {"for=203.0.113.9"},
		"Accept-Encoding":     {"gzip"},
		"X-Request-Id":        {"abc"},
	})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	seen := g.lastSeen()
	assert.Equal(t, "/base/Patient/"+leaksuite.Patient, seen.RequestURI)
	for _, h := range []string{"Authorization", "Connection", "X-Secret", "Te", "Keep-Alive", "Proxy-Authorization", "Forwarded"} {
		assert.Empty(t, seen.Header.Values(h), h)
	}
	assert.Equal(t, "abc", seen.Header.Get("X-Request-Id"))
	assert.Equal(t, "fhir.leaksuite.test", seen.Header.Get("X-Forwarded-Host"))
	assert.Empty(t, rec.Header().Get("Content-Encoding"))
}

func TestRoutes(t *testing.T) {
	g := newGateway(t)
	tests := []struct {
		name, method, target, scope string
		status                      int
	}{
		{"metadata without token", http.MethodGet, "/fhir/metadata", "", http.StatusOK},
		{"metadata with token", http.MethodGet, "/fhir/metadata", "patient/*.rs", http.StatusOK},
		{"FHIR without token", http.MethodGet, "/fhir/Patient/" + leaksuite.Patient, "", http.StatusUnauthorized},
		{"outside the base", http.MethodGet, "/other/Patient/" + leaksuite.Patient, "user/*.rs", http.StatusNotFound},
		{"prefix of the base", http.MethodGet, "/fhirx/Patient/" + leaksuite.Patient, "user/*.rs", http.StatusNotFound},
		{"root", http.MethodGet, "/", "user/*.rs", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := g.do(t, tt.method, tt.target, tt.scope, "", nil)
			assert.Equal(t, tt.status, rec.Code, rec.Body.String())
			assert.Equal(t, "application/fhir+json", rec.Header().Get("Content-Type"))
		})
	}
	rec := g.do(t, http.MethodGet, "/fhir/metadata", "", "", nil)
	assert.Contains(t, rec.Body.String(), `"url":"`+leaksuite.BaseURL+`"`, "the CapabilityStatement's implementation URL is rewritten")
}

func TestUpstreamDown(t *testing.T) {
	g := newGateway(t)
	g.upstream.Close()
	rec := g.do(t, http.MethodGet, "/fhir/Patient/"+leaksuite.Patient, "user/*.rs", "", nil)
	assert.Equal(t, http.StatusBadGateway, rec.Code)
	assert.JSONEq(t, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"transient","diagnostics":"The FHIR server is not available"}]}`, rec.Body.String())

	// An update needs the loader, which cannot reach the upstream either.
	rec = g.do(t, http.MethodDelete, "/fhir/Observation/obs-glucose-1", "patient/*.d", "", nil)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
}

func TestNewErrors(t *testing.T) {
	v := smarttest.NewIssuer(t).Verifier()
	for name, cfg := range map[string]fhirproxy.Config{
		"no verifier":         {Upstream: "http://u.test", BaseURL: "http://g.test/fhir"},
		"relative upstream":   {Upstream: "/fhir", BaseURL: "http://g.test/fhir", Verifier: v},
		"upstream with query": {Upstream: "http://u.test/?a=b", BaseURL: "http://g.test/fhir", Verifier: v},
		"no base URL":         {Upstream: "http://u.test", Verifier: v},
		"ftp base URL":        {Upstream: "http://u.test", BaseURL: "ftp://g.test/fhir", Verifier: v},
	} {
		_, err := fhirproxy.New(cfg)
		assert.Error(t, err, name)
	}
	var _ middleware.TokenVerifier = v
}
