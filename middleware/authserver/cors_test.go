package authserver_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
)

var corsHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers", "Access-Control-Max-Age",
}

func TestCORSWrap(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	const app = "https://app.example.com"
	tests := []struct {
		name       string
		cors       authserver.CORS
		method     string
		origin     string
		preflight  bool
		wantStatus int
		want       map[string]string // CORS headers expected; others must be absent
	}{
		{name: "preflight allowed origin", cors: authserver.CORS{AllowedOrigins: []string{app}},
			method: http.MethodOptions, origin: app, preflight: true, wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin":  app,
				"Access-Control-Allow-Methods": "POST",
				"Access-Control-Allow-Headers": "Authorization, Content-Type",
				"Access-Control-Max-Age":       "600",
			}},
		{name: "preflight disallowed origin", cors: authserver.CORS{AllowedOrigins: []string{app}},
			method: http.MethodOptions, origin: "https://evil.example.com", preflight: true, wantStatus: 204},
		{name: "preflight origin differing in scheme", cors: authserver.CORS{AllowedOrigins: []string{app}},
			method: http.MethodOptions, origin: "http://app.example.com", preflight: true, wantStatus: 204},
		{name: "actual request allowed", cors: authserver.CORS{AllowedOrigins: []string{app}},
			method: http.MethodPost, origin: app, wantStatus: 418,
			want: map[string]string{"Access-Control-Allow-Origin": app}},
		{name: "actual request disallowed", cors: authserver.CORS{AllowedOrigins: []string{app}},
			method: http.MethodPost, origin: "https://evil.example.com", wantStatus: 418},
		{name: "no Origin", cors: authserver.CORS{AllowedOrigins: []string{app}},
			method: http.MethodPost, wantStatus: 418},
		{name: "credentials for an exact origin", cors: authserver.CORS{AllowedOrigins: []string{app}, AllowCredentials: true},
			method: http.MethodPost, origin: app, wantStatus: 418,
			want: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "true"}},
		{name: "wildcard", cors: authserver.CORS{AllowedOrigins: []string{"*"}, AllowCredentials: true},
			method: http.MethodPost, origin: "https://any.example.net", wantStatus: 418,
			want: map[string]string{"Access-Control-Allow-Origin": "*"}},
		{name: "wildcard preflight, custom settings", cors: authserver.CORS{AllowedOrigins: []string{"*"},
			AllowedMethods: []string{"POST", "GET"}, AllowedHeaders: []string{"Content-Type"}, MaxAge: time.Hour},
			method: http.MethodOptions, origin: "https://any.example.net", preflight: true, wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin":  "*",
				"Access-Control-Allow-Methods": "POST, GET",
				"Access-Control-Allow-Headers": "Content-Type",
				"Access-Control-Max-Age":       "3600",
			}},
		{name: "zero value allows nothing", method: http.MethodOptions, origin: app, preflight: true, wantStatus: 418},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "/token", nil)
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.preflight {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
			}
			rec := httptest.NewRecorder()
			tt.cors.Wrap(next).ServeHTTP(rec, req)
			assert.Equal(t, tt.wantStatus, rec.Code)
			if len(tt.cors.AllowedOrigins) > 0 {
				assert.Equal(t, []string{"Origin"}, rec.Header().Values("Vary"))
			} else {
				assert.Empty(t, rec.Header().Values("Vary"))
			}
			for _, name := range corsHeaders {
				assert.Equal(t, tt.want[name], rec.Header().Get(name), name)
			}
		})
	}
}

func TestTokenEndpointCORS(t *testing.T) {
	const app = "https://app.example.com"
	e := newEnv(t, func(c *authserver.TokenConfig) { c.CORS = authserver.CORS{AllowedOrigins: []string{app}} })

	req := httptest.NewRequest(http.MethodOptions, "/token", nil)
	req.Header.Set("Origin", app)
	req.Header.Set("Access-Control-Request-Method", "POST")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	require.Equal(t, 204, rec.Code)
	assert.Equal(t, app, rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "POST", rec.Header().Get("Access-Control-Allow-Methods"))
	assert.Equal(t, "Authorization, Content-Type", rec.Header().Get("Access-Control-Allow-Headers"))
	assert.Empty(t, rec.Body.String())

	rt := e.grant(clientPublic, testScope)
	rec = e.post(refreshForm(rt, "client_id", clientPublic), header("Origin", app))
	require.Equal(t, 200, rec.Code)
	assert.Equal(t, app, rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "Origin", rec.Header().Get("Vary"))

	rec = e.post(refreshForm("unknown", "client_id", clientPublic), header("Origin", "https://evil.example.com"))
	require.Equal(t, 400, rec.Code)
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))

	// Errors carry CORS headers too, so that the browser app can read them.
	rec = e.post(refreshForm("unknown", "client_id", clientPublic), header("Origin", app))
	require.Equal(t, 400, rec.Code)
	assert.Equal(t, app, rec.Header().Get("Access-Control-Allow-Origin"))
	assert.True(t, strings.HasPrefix(rec.Body.String(), `{"error":"invalid_grant"`))
}
