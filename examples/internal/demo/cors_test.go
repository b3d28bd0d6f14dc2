package demo

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// corsHeaders returns the Access-Control-* headers and Vary of h.
func corsHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		if strings.HasPrefix(k, "Access-Control-") || k == "Vary" {
			out[k] = strings.Join(v, ", ")
		}
	}
	return out
}

// TestDemoCORSOnFHIRRoutes: a browser app of a configured origin
// (cors_origins) may call the FHIR routes: the preflight passes without a
// token, and the answers (refusals included) carry the CORS headers,
// WWW-Authenticate exposed. Another origin gets no CORS header.
func TestDemoCORSOnFHIRRoutes(t *testing.T) {
	srv, _, cfg := startDemo(t)
	const app, other = "http://localhost:3000", "https://evil.example"
	require.Equal(t, []string{app}, cfg.CORSOrigins)
	_, tok := postForm(t, srv.TokenURL, seedBasic, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {srv.DemoGrant.RefreshToken}})
	at := tok["access_token"].(string)
	patientURL := srv.FHIRBaseURL + "/Patient/" + seedPatient

	do := func(method, target, origin, token string, hdr map[string]string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, target, nil)
		require.NoError(t, err)
		req.Header.Set("Origin", origin)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(body)
	}
	preflight := map[string]string{"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
	allowedPreflight := map[string]string{
		"Access-Control-Allow-Origin":  app,
		"Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE",
		"Access-Control-Allow-Headers": "Authorization, Content-Type, Accept, If-Match, If-None-Exist, Prefer",
		"Access-Control-Max-Age":       "600",
		"Vary":                         "Origin",
	}
	allowed := map[string]string{
		"Access-Control-Allow-Origin":   app,
		"Access-Control-Expose-Headers": "WWW-Authenticate, Location, Content-Location, ETag",
		"Vary":                          "Origin",
	}
	none := map[string]string{"Vary": "Origin"}

	tests := []struct {
		name, method, target, origin, token string
		hdr                                 map[string]string
		status                              int
		cors                                map[string]string
		wwwAuthenticate                     string
	}{
		{"preflight of a read, no token", http.MethodOptions, patientURL, app, "", preflight, http.StatusNoContent, allowedPreflight, ""},
		{"preflight of a search", http.MethodOptions, srv.FHIRBaseURL + "/Observation?patient=" + seedPatient, app, "", preflight, http.StatusNoContent, allowedPreflight, ""},
		{"preflight of metadata", http.MethodOptions, srv.FHIRBaseURL + "/metadata", app, "", preflight, http.StatusNoContent, allowedPreflight, ""},
		{"read", http.MethodGet, patientURL, app, at, nil, http.StatusOK, allowed, ""},
		{"search", http.MethodGet, srv.FHIRBaseURL + "/Observation?patient=" + seedPatient, app, at, nil, http.StatusOK, allowed, ""},
		{"metadata", http.MethodGet, srv.FHIRBaseURL + "/metadata", app, "", nil, http.StatusOK, allowed, ""},
		{"refusal carries CORS headers", http.MethodGet, patientURL, app, "", nil, http.StatusUnauthorized, allowed, `Bearer realm="smartauth"`},
		{"other origin: preflight", http.MethodOptions, patientURL, other, "", preflight, http.StatusNoContent, none, ""},
		{"other origin: read", http.MethodGet, patientURL, other, at, nil, http.StatusOK, none, ""},
		{"other origin: refusal", http.MethodGet, patientURL, other, "", nil, http.StatusUnauthorized, none, `Bearer realm="smartauth"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(tt.method, tt.target, tt.origin, tt.token, tt.hdr)
			assert.Equal(t, tt.status, resp.StatusCode, body)
			assert.Equal(t, tt.cors, corsHeaders(resp.Header))
			assert.Equal(t, tt.wwwAuthenticate, resp.Header.Get("WWW-Authenticate"))
			if tt.status == http.StatusNoContent {
				assert.Empty(t, body)
			}
		})
	}

	// Without cors_origins, no CORS header at all.
	srv, _, _ = startDemoOpts(t, func(c *Config) { c.CORSOrigins = nil }, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	resp, _ := do(http.MethodGet, srv.FHIRBaseURL+"/metadata", app, "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, corsHeaders(resp.Header))
}
