package middleware

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// introspectionServer is a fake RFC 7662 endpoint. It answers each token
// with the JSON in responses ("" for an unknown token: active:false), and
// records what it was sent.
type introspectionServer struct {
	*httptest.Server
	mu        sync.Mutex
	responses map[string]string
	status    int
	hits      atomic.Int64
	lastAuth  string
	lastForm  string
	lastCT    string
	lastAccpt string
}

func newIntrospectionServer(t *testing.T) *introspectionServer {
	t.Helper()
	s := &introspectionServer{responses: map[string]string{}, status: 200}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if r.Method != http.MethodPost {
			http.Error(w, "method", http.StatusMethodNotAllowed)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, "form", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.lastAuth = r.Header.Get("Authorization")
		s.lastForm = r.PostForm.Encode()
		s.lastCT = r.Header.Get("Content-Type")
		s.lastAccpt = r.Header.Get("Accept")
		if s.status != 200 {
			w.WriteHeader(s.status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		resp, ok := s.responses[r.PostForm.Get("token")]
		if !ok {
			resp = `{"active":false}`
		}
		_, _ = fmt.Fprint(w, resp)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *introspectionServer) set(token, response string) {
	s.mu.Lock()
	s.responses[token] = response
	s.mu.Unlock()
}

func (s *introspectionServer) setStatus(status int) {
	s.mu.Lock()
	s.status = status
	s.mu.Unlock()
}

func (s *introspectionServer) last() (auth, form, ct, accept string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastAuth, s.lastForm, s.lastCT, s.lastAccpt
}

func activeResponse(t *testing.T, exp time.Time, extra map[string]any) string {
	t.Helper()
	m := map[string]any{
		"active":     true,
		"scope":      "launch/patient patient/*.rs openid fhirUser",
		"client_id":  "app",
		"sub":        "user-1",
		"iss":        "https://auth.example.org",
		"aud":        "https://fhir.example.org/r4",
		"exp":        exp.Unix(),
		"iat":        exp.Add(-time.Hour).Unix(),
		"token_type": "Bearer",
		"patient":    "123",
		"grant_id":   "g1",
	}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

func newTestIntrospectionVerifier(t *testing.T, s *introspectionServer, clock *testClock, mod func(*IntrospectionVerifierConfig)) *IntrospectionVerifier {
	t.Helper()
	cfg := IntrospectionVerifierConfig{
		Endpoint:     s.URL + "/introspect",
		ClientID:     "resource server",
		ClientSecret: "s3cr:t+%",
		HTTPClient:   s.Client(),
		Issuers:      []string{"https://auth.example.org"},
		Audience:     "https://fhir.example.org/r4",
		Now:          clock.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	v, err := NewIntrospectionVerifier(cfg)
	require.NoError(t, err)
	return v
}

func TestIntrospectionVerifierActive(t *testing.T) {
	t.Parallel()
	s := newIntrospectionServer(t)
	clock := newTestClock()
	exp := clock.Now().Add(time.Hour)
	s.set("opaque-1", activeResponse(t, exp, map[string]any{
		"fhirContext":         []any{"PractitionerRole/7", map[string]any{"reference": "Encounter/5", "role": "launch"}},
		"need_patient_banner": true,
		"encounter":           "5",
	}))
	v := newTestIntrospectionVerifier(t, s, clock, nil)

	lc, err := v.VerifyToken(context.Background(), "opaque-1")
	require.NoError(t, err)
	assert.Equal(t, "https://auth.example.org", lc.Issuer)
	assert.Equal(t, "user-1", lc.Subject)
	assert.Equal(t, "app", lc.ClientID)
	assert.Equal(t, []string{"https://fhir.example.org/r4"}, lc.Audience)
	assert.Equal(t, exp.Unix(), lc.ExpiresAt.Unix())
	assert.Equal(t, "g1", lc.GrantID)
	assert.Equal(t, "123", lc.Patient)
	assert.Equal(t, "5", lc.Encounter)
	assert.True(t, lc.NeedPatientBanner)
	assert.Equal(t, []FHIRContextItem{{Reference: "PractitionerRole/7"}, {Reference: "Encounter/5", Role: "launch"}}, lc.FHIRContext)
	assert.Equal(t, "launch/patient patient/*.rs openid fhirUser", lc.Scopes.String())
	active, _ := lc.Claim("active")
	assert.Equal(t, true, active)

	auth, form, ct, accept := s.last()
	// RFC 6749 §2.3.1: form-urlencode, then Basic.
	assert.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("resource+server:s3cr%3At%2B%25")), auth)
	assert.Equal(t, "token=opaque-1&token_type_hint=access_token", form)
	assert.Equal(t, "application/x-www-form-urlencoded", ct)
	assert.Equal(t, "application/json", accept)
}

func TestIntrospectionVerifierCaching(t *testing.T) {
	t.Parallel()
	s := newIntrospectionServer(t)
	clock := newTestClock()
	s.set("long", activeResponse(t, clock.Now().Add(time.Hour), nil))
	s.set("short", activeResponse(t, clock.Now().Add(time.Minute), nil))
	s.set("noexp", activeResponse(t, time.Time{}, map[string]any{"exp": nil, "iat": nil}))
	v := newTestIntrospectionVerifier(t, s, clock, nil)
	ctx := context.Background()
	verify := func(tok string) error {
		_, err := v.VerifyToken(ctx, tok)
		return err
	}

	require.NoError(t, verify("long"))
	require.NoError(t, verify("long"))
	assert.Equal(t, int64(1), s.hits.Load(), "active results are cached")

	require.NoError(t, verify("short"))
	require.NoError(t, verify("noexp"))
	assert.Equal(t, int64(3), s.hits.Load())

	clock.Advance(time.Minute) // short has expired: not from the cache, and the AS says expired
	s.set("short", `{"active":false}`)
	require.ErrorIs(t, verify("short"), ErrInactiveToken)
	assert.Equal(t, int64(4), s.hits.Load())
	require.NoError(t, verify("long"))
	require.NoError(t, verify("noexp"))
	assert.Equal(t, int64(4), s.hits.Load())

	clock.Advance(4 * time.Minute) // MaxTTL (5 min) reached for long and noexp
	require.NoError(t, verify("long"))
	require.NoError(t, verify("noexp"))
	assert.Equal(t, int64(6), s.hits.Load())

	// Inactive results are not cached.
	require.ErrorIs(t, verify("unknown"), ErrInactiveToken)
	require.ErrorIs(t, verify("unknown"), ErrInactiveToken)
	assert.Equal(t, int64(8), s.hits.Load())
}

func TestIntrospectionVerifierCacheDisabled(t *testing.T) {
	t.Parallel()
	s := newIntrospectionServer(t)
	clock := newTestClock()
	s.set("tok", activeResponse(t, clock.Now().Add(time.Hour), nil))
	v := newTestIntrospectionVerifier(t, s, clock, func(c *IntrospectionVerifierConfig) { c.CacheSize = -1 })
	for range 3 {
		_, err := v.VerifyToken(context.Background(), "tok")
		require.NoError(t, err)
	}
	assert.Equal(t, int64(3), s.hits.Load())
}

func TestIntrospectionVerifierErrorsNotCached(t *testing.T) {
	t.Parallel()
	s := newIntrospectionServer(t)
	clock := newTestClock()
	s.set("tok", activeResponse(t, clock.Now().Add(time.Hour), nil))
	v := newTestIntrospectionVerifier(t, s, clock, nil)

	s.setStatus(http.StatusInternalServerError)
	_, err := v.VerifyToken(context.Background(), "tok")
	require.ErrorIs(t, err, ErrVerifierUnavailable)
	assert.Equal(t, 503, NewAuthError(err).Status)

	s.setStatus(200)
	_, err = v.VerifyToken(context.Background(), "tok")
	require.NoError(t, err)
	assert.Equal(t, int64(2), s.hits.Load())
}

func TestIntrospectionVerifierResponses(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	exp := clock.Now().Add(time.Hour)
	tests := []struct {
		name     string
		response string
		status   int
		wantErr  error
	}{
		{"inactive", `{"active":false}`, 200, ErrInactiveToken},
		{"inactive with members", `{"active":false,"sub":"x"}`, 200, ErrInactiveToken},
		{"active missing", `{"sub":"x"}`, 200, ErrVerifierUnavailable},
		{"active not bool", `{"active":"true"}`, 200, ErrVerifierUnavailable},
		{"not json", `<html>`, 200, ErrVerifierUnavailable},
		{"array", `[{"active":true}]`, 200, ErrVerifierUnavailable},
		{"null", `null`, 200, ErrVerifierUnavailable},
		{"trailing data", `{"active":true}{"active":false}`, 200, ErrVerifierUnavailable},
		{"empty", ``, 200, ErrVerifierUnavailable},
		{"status 401", `{"active":true}`, 401, ErrVerifierUnavailable},
		{"status 400", `{"error":"invalid_request"}`, 400, ErrVerifierUnavailable},
		{"minimal active", `{"active":true}`, 200, nil},
		{"expired", activeResponse(t, clock.Now(), nil), 200, ErrTokenExpired},
		{"not yet valid", activeResponse(t, exp, map[string]any{"nbf": clock.Now().Add(time.Minute).Unix()}), 200, ErrTokenNotYetValid},
		{"valid nbf", activeResponse(t, exp, map[string]any{"nbf": clock.Now().Unix()}), 200, nil},
		{"untrusted issuer", activeResponse(t, exp, map[string]any{"iss": "https://evil.example"}), 200, ErrBadIssuer},
		{"no issuer", activeResponse(t, exp, map[string]any{"iss": nil}), 200, nil},
		{"wrong audience", activeResponse(t, exp, map[string]any{"aud": []string{"https://other.example"}}), 200, ErrBadAudience},
		{"audience list", activeResponse(t, exp, map[string]any{"aud": []string{"x", "https://fhir.example.org/r4"}}), 200, nil},
		{"no audience", activeResponse(t, exp, map[string]any{"aud": nil}), 200, nil},
		{"refresh token", activeResponse(t, exp, map[string]any{"token_type": "refresh_token"}), 200, ErrBadType},
		{"DPoP token", activeResponse(t, exp, map[string]any{"token_type": "DPoP"}), 200, ErrBadType},
		{"bad patient", activeResponse(t, exp, map[string]any{"patient": 123}), 200, ErrBadLaunchContext},
		{"bad exp", activeResponse(t, exp, map[string]any{"exp": "soon"}), 200, ErrBadLaunchContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = fmt.Fprint(w, tt.response)
			}))
			t.Cleanup(srv.Close)
			v, err := NewIntrospectionVerifier(IntrospectionVerifierConfig{
				Endpoint: srv.URL, HTTPClient: srv.Client(), Now: clock.Now,
				Issuers: []string{"https://auth.example.org"}, Audience: "https://fhir.example.org/r4",
			})
			require.NoError(t, err)
			lc, err := v.VerifyToken(context.Background(), "tok")
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, lc)
				assert.NotContains(t, err.Error(), "tok\"")
				return
			}
			require.NoError(t, err)
			require.NotNil(t, lc)
		})
	}
}

func TestIntrospectionVerifierOversizedResponse(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	big := `{"active":true,"x":"` + strings.Repeat("a", 1000) + `"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprint(w, big)
	}))
	t.Cleanup(srv.Close)
	for _, tt := range []struct {
		max     int64
		wantErr error
	}{{int64(len(big)) - 1, ErrVerifierUnavailable}, {int64(len(big)), nil}} {
		v, err := NewIntrospectionVerifier(IntrospectionVerifierConfig{Endpoint: srv.URL, HTTPClient: srv.Client(), Now: clock.Now, MaxResponseSize: tt.max})
		require.NoError(t, err)
		_, err = v.VerifyToken(context.Background(), "tok")
		if tt.wantErr != nil {
			require.ErrorIs(t, err, tt.wantErr)
		} else {
			require.NoError(t, err)
		}
	}
}

func TestIntrospectionVerifierAuthentication(t *testing.T) {
	t.Parallel()
	s := newIntrospectionServer(t)
	clock := newTestClock()
	s.set("tok", activeResponse(t, clock.Now().Add(time.Hour), nil))
	tests := []struct {
		name string
		mod  func(*IntrospectionVerifierConfig)
		want string
		hint string
	}{
		{"bearer", func(c *IntrospectionVerifierConfig) {
			c.ClientID, c.ClientSecret, c.BearerToken = "", "", "rs-token"
		}, "Bearer rs-token", "access_token"},
		{"custom", func(c *IntrospectionVerifierConfig) {
			c.ClientID, c.ClientSecret = "", ""
			c.Authorize = func(r *http.Request) error { r.Header.Set("Authorization", "Custom x"); return nil }
		}, "Custom x", "access_token"},
		{"none, no hint", func(c *IntrospectionVerifierConfig) {
			c.ClientID, c.ClientSecret, c.TokenTypeHint = "", "", "-"
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newTestIntrospectionVerifier(t, s, clock, func(c *IntrospectionVerifierConfig) {
				c.CacheSize = -1
				tt.mod(c)
			})
			_, err := v.VerifyToken(context.Background(), "tok")
			require.NoError(t, err)
			auth, form, _, _ := s.last()
			assert.Equal(t, tt.want, auth)
			if tt.hint == "" {
				assert.Equal(t, "token=tok", form)
			} else {
				assert.Equal(t, "token=tok&token_type_hint="+tt.hint, form)
			}
		})
	}

	// A failing authorizer is a failure of the verifier, not of the token.
	v := newTestIntrospectionVerifier(t, s, clock, func(c *IntrospectionVerifierConfig) {
		c.ClientID, c.ClientSecret = "", ""
		c.Authorize = func(*http.Request) error { return errors.New("no assertion key") }
	})
	_, err := v.VerifyToken(context.Background(), "tok")
	require.ErrorIs(t, err, ErrVerifierUnavailable)
}

func TestIntrospectionVerifierTokenChecks(t *testing.T) {
	t.Parallel()
	s := newIntrospectionServer(t)
	v := newTestIntrospectionVerifier(t, s, newTestClock(), func(c *IntrospectionVerifierConfig) { c.MaxTokenSize = 8 })
	_, err := v.VerifyToken(context.Background(), "123456789")
	require.ErrorIs(t, err, ErrTokenTooLarge)
	_, err = v.VerifyToken(context.Background(), "")
	require.ErrorIs(t, err, ErrMalformedToken)
	assert.Zero(t, s.hits.Load(), "nothing is sent")
}

func TestIntrospectionVerifierUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	v, err := NewIntrospectionVerifier(IntrospectionVerifierConfig{Endpoint: url})
	require.NoError(t, err)
	_, err = v.VerifyToken(context.Background(), "tok")
	require.ErrorIs(t, err, ErrVerifierUnavailable)
	assert.Equal(t, 503, NewAuthError(err).Status)
}

func TestNewIntrospectionVerifierConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  IntrospectionVerifierConfig
		ok   bool
	}{
		{"https", IntrospectionVerifierConfig{Endpoint: "https://auth.example.org/introspect"}, true},
		{"http loopback", IntrospectionVerifierConfig{Endpoint: "http://127.0.0.1:8080/introspect"}, true},
		{"http localhost", IntrospectionVerifierConfig{Endpoint: "http://localhost/introspect"}, true},
		{"http ipv6 loopback", IntrospectionVerifierConfig{Endpoint: "http://[::1]/introspect"}, true},
		{"http remote", IntrospectionVerifierConfig{Endpoint: "http://auth.example.org/introspect"}, false},
		{"empty", IntrospectionVerifierConfig{}, false},
		{"relative", IntrospectionVerifierConfig{Endpoint: "/introspect"}, false},
		{"ftp", IntrospectionVerifierConfig{Endpoint: "ftp://auth.example.org/"}, false},
		{"basic", IntrospectionVerifierConfig{Endpoint: "https://a.example/", ClientID: "a", ClientSecret: "b"}, true},
		{"id only", IntrospectionVerifierConfig{Endpoint: "https://a.example/", ClientID: "a"}, false},
		{"secret only", IntrospectionVerifierConfig{Endpoint: "https://a.example/", ClientSecret: "b"}, false},
		{"basic and bearer", IntrospectionVerifierConfig{Endpoint: "https://a.example/", ClientID: "a", ClientSecret: "b", BearerToken: "c"}, false},
		{"bearer and custom", IntrospectionVerifierConfig{Endpoint: "https://a.example/", BearerToken: "c",
			Authorize: func(*http.Request) error { return nil }}, false},
		{"negative TTL", IntrospectionVerifierConfig{Endpoint: "https://a.example/", MaxTTL: -1}, false},
		{"negative size", IntrospectionVerifierConfig{Endpoint: "https://a.example/", MaxResponseSize: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewIntrospectionVerifier(tt.cfg)
			if tt.ok {
				require.NoError(t, err)
				require.NotNil(t, v)
				return
			}
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "b\"")
		})
	}
}

func TestIntrospectionVerifierWithAuthenticate(t *testing.T) {
	t.Parallel()
	s := newIntrospectionServer(t)
	clock := newTestClock()
	s.set("opaque", activeResponse(t, clock.Now().Add(time.Hour), nil))
	v := newTestIntrospectionVerifier(t, s, clock, nil)
	h := Authenticate(v)(echoHandler)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request{headers: bearer("opaque")}.build())
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "sub=user-1 patient=123", rec.Body.String())

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, request{headers: bearer("revoked")}.build())
	assert.Equal(t, 401, rec.Code)
	assert.Equal(t, `Bearer realm="smartauth", error="invalid_token", error_description="The access token is not active"`,
		rec.Header().Get("WWW-Authenticate"))

	s.setStatus(http.StatusBadGateway)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, request{headers: bearer("other")}.build())
	assert.Equal(t, 503, rec.Code)
}

func FuzzIntrospectionResponse(f *testing.F) {
	for _, s := range []string{`{"active":true}`, `{"active":false}`, `{"active":true,"exp":1e400}`, `[]`, `{"active":true,"patient":{}}`,
		`{"active":true,"fhirContext":[{"reference":"a","canonical":"b"}]}`, `{"active":true,"scope":["a b"]}`} {
		f.Add([]byte(s))
	}
	v := &IntrospectionVerifier{names: DefaultClaimNames(), issuers: []string{"i"}, audience: "a"}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		members, err := parseIntrospectionResponse(body)
		if err != nil {
			if members != nil {
				t.Fatal("members with error")
			}
			return
		}
		if members["active"] != true {
			t.Fatal("inactive response accepted")
		}
		lc, err := v.launchContext(members, now)
		if err == nil && lc == nil {
			t.Fatal("nil launch context without error")
		}
	})
}
