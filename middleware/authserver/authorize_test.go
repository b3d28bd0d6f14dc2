package authserver_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
)

// requireShown requires an error page for the user, never a redirect.
func requireShown(t testing.TB, rec *httptest.ResponseRecorder, status int, code, description string) {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	assert.Empty(t, rec.Header().Get("Location"), "an error that must be shown was redirected")
	assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Contains(t, rec.Body.String(), `Error <code id="error">`+code+`</code>: <span id="error_description">`+
		html.EscapeString(description)+`</span>`)
}

// requireRedirectedError requires the error at the redirect URI uri, with
// exactly error, error_description, iss and state (if not empty).
func requireRedirectedError(t testing.TB, rec *httptest.ResponseRecorder, uri, state, code, description string) {
	t.Helper()
	q := redirected(t, rec, uri)
	want := url.Values{"error": {code}, "error_description": {description}, "iss": {testIssuer}}
	if state != "" {
		want.Set("state", state)
	}
	assert.Equal(t, want, q)
}

// TestAuthorizeRefusals: every refusal of the authorization endpoint, with
// its exact error, and whether it is shown to the user (before the
// redirect URI is known to be the client's: never a redirect, so never an
// open redirector) or sent to the app.
func TestAuthorizeRefusals(t *testing.T) {
	const state = "state-0123456789abcdef"
	p := newPKCE()
	type want struct {
		shown       bool
		status      int // of a shown error
		code, desc  string
		redirectURI string // of a redirected error: appPublicCB unless set
		noState     bool   // the redirect has no state
	}
	tests := []struct {
		name   string
		rfc    string
		setup  func(e *authzEnv) url.Values // nil: authzParams(p, pairs...)
		pairs  []string
		method string // GET unless set
		want   want
	}{
		// Shown: the client or the redirect URI are not established.
		{name: "missing client_id", rfc: "RFC 6749 §4.1.2.1", pairs: []string{"client_id", ""},
			want: want{shown: true, status: 400, code: "invalid_request", desc: "client_id is required"}},
		{name: "unknown client", rfc: "RFC 6749 §4.1.2.1", pairs: []string{"client_id", "nobody"},
			want: want{shown: true, status: 400, code: "invalid_request", desc: "the client is not registered"}},
		{name: "client without redirect URI", rfc: "RFC 6749 §4.1.2.1, §3.1.2.2", pairs: []string{"client_id", appNoRedir},
			want: want{shown: true, status: 400, code: "unauthorized_client", desc: "the client is not registered for the authorization code flow (no redirect URI)"}},
		{name: "open redirect: unregistered redirect_uri", rfc: "RFC 6749 §4.1.2.1, §10.15; RFC 9700 §4.11",
			pairs: []string{"redirect_uri", "https://evil.example/callback"},
			want:  want{shown: true, status: 400, code: "invalid_request", desc: "redirect_uri is not registered for the client"}},
		{name: "open redirect: registered URI with a path suffix", rfc: "RFC 9700 §4.1.3 (exact matching)",
			pairs: []string{"redirect_uri", appPublicCB + "/../../evil"},
			want:  want{shown: true, status: 400, code: "invalid_request", desc: "redirect_uri is not registered for the client"}},
		{name: "open redirect: registered URI with a query added", rfc: "RFC 9700 §4.1.3 (exact matching)",
			pairs: []string{"redirect_uri", appPublicCB + "?next=https://evil.example"},
			want:  want{shown: true, status: 400, code: "invalid_request", desc: "redirect_uri is not registered for the client"}},
		{name: "open redirect: another host with the registered path", rfc: "RFC 9700 §4.1.3 (exact matching)",
			pairs: []string{"redirect_uri", "https://app.example.com.evil.example/callback"},
			want:  want{shown: true, status: 400, code: "invalid_request", desc: "redirect_uri is not registered for the client"}},
		{name: "open redirect: another client's redirect URI", rfc: "RFC 6749 §3.1.2.3",
			pairs: []string{"redirect_uri", appOtherCB},
			want:  want{shown: true, status: 400, code: "invalid_request", desc: "redirect_uri is not registered for the client"}},
		{name: "redirect_uri differing in case", rfc: "RFC 9700 §4.1.3 (exact matching)",
			pairs: []string{"redirect_uri", strings.ToUpper(appPublicCB)},
			want:  want{shown: true, status: 400, code: "invalid_request", desc: "redirect_uri is not registered for the client"}},
		{name: "missing redirect_uri, several registered", rfc: "RFC 6749 §3.1.2.3",
			pairs: []string{"client_id", appConf, "redirect_uri", ""},
			want:  want{shown: true, status: 400, code: "invalid_request", desc: "redirect_uri is required: the client has several"}},
		{name: "repeated parameter", rfc: "RFC 6749 §3.1",
			setup: func(*authzEnv) url.Values {
				v := authzParams(p)
				v.Add("redirect_uri", "https://evil.example/cb")
				return v
			},
			want: want{shown: true, status: 400, code: "invalid_request", desc: "a parameter is included more than once"}},
		{name: "method PUT", rfc: "RFC 6749 §3.1", method: http.MethodPut,
			want: want{shown: true, status: 405, code: "invalid_request", desc: "the authorization endpoint accepts only GET and POST"}},

		// Redirected to the app, with state.
		{name: "request object", rfc: "OpenID Connect Core §6", pairs: []string{"request", "eyJhbGciOiJub25lIn0.e30."},
			want: want{code: "request_not_supported", desc: "request objects are not supported"}},
		{name: "missing response_type", rfc: "RFC 6749 §4.1.2.1", pairs: []string{"response_type", ""},
			want: want{code: "invalid_request", desc: "response_type is required"}},
		{name: "response_type token", rfc: "RFC 6749 §4.1.2.1; RFC 9700 §2.1.2", pairs: []string{"response_type", "token"},
			want: want{code: "unsupported_response_type", desc: "the only response_type supported is code"}},
		{name: "missing state", rfc: "SMART App Launch 2.2 (state required)", pairs: []string{"state", ""},
			want: want{code: "invalid_request", desc: "state is required", noState: true}},
		{name: "state with control characters", rfc: "RFC 6749 Appendix A.5", pairs: []string{"state", "a\nb"},
			want: want{code: "invalid_request", desc: "state must be at most 1024 printable ASCII characters", noState: true}},
		{name: "missing aud", rfc: "SMART App Launch 2.2 (aud required)", pairs: []string{"aud", ""},
			want: want{code: "invalid_request", desc: "aud is required: the FHIR base URL of the server"}},
		{name: "wrong aud", rfc: "SMART App Launch 2.2 (aud); RFC 9700 §4.10", pairs: []string{"aud", "https://evil.example/fhir"},
			want: want{code: "invalid_request", desc: "aud is not the FHIR base URL of this server"}},
		{name: "aud of a sub-path", rfc: "SMART App Launch 2.2 (aud)", pairs: []string{"aud", testAudience + "/Patient"},
			want: want{code: "invalid_request", desc: "aud is not the FHIR base URL of this server"}},
		{name: "missing code_challenge", rfc: "RFC 7636 §4.4.1; SMART App Launch 2.2 (PKCE)", pairs: []string{"code_challenge", ""},
			want: want{code: "invalid_request", desc: "code challenge required (PKCE, S256)"}},
		{name: "code_challenge_method plain", rfc: "RFC 7636 §4.4.1; SMART App Launch 2.2 (SHALL NOT support plain)",
			pairs: []string{"code_challenge_method", "plain"},
			want:  want{code: "invalid_request", desc: "transform algorithm not supported: code_challenge_method must be S256"}},
		{name: "missing code_challenge_method (plain by default)", rfc: "RFC 7636 §4.3, §4.4.1",
			pairs: []string{"code_challenge_method", ""},
			want:  want{code: "invalid_request", desc: "transform algorithm not supported: code_challenge_method must be S256"}},
		{name: "code_challenge not S256-shaped", rfc: "RFC 7636 §4.2", pairs: []string{"code_challenge", "short"},
			want: want{code: "invalid_request", desc: "code_challenge is not an S256 challenge (43 base64url characters)"}},
		{name: "missing scope", rfc: "RFC 6749 §3.3; SMART App Launch 2.2", pairs: []string{"scope", ""},
			want: want{code: "invalid_scope", desc: "scope is required"}},
		{name: "malformed scope", rfc: "RFC 6749 §3.3", pairs: []string{"scope", `openid "quoted"`},
			want: want{code: "invalid_scope", desc: "scope is malformed or longer than 4096 bytes"}},
		{name: "prompt=none", rfc: "OpenID Connect Core §3.1.2.6", pairs: []string{"prompt", "none"},
			want: want{code: "interaction_required", desc: "prompt=none is not supported: the user must take part"}},
		{name: "launch scope without launch", rfc: "SMART App Launch 2.2 (EHR launch)", pairs: []string{"scope", "launch openid patient/*.rs"},
			want: want{code: "invalid_request", desc: "the launch scope needs the launch parameter of an EHR launch"}},
		{name: "launch without the launch scope", rfc: "SMART App Launch 2.2 (EHR launch)",
			setup: func(e *authzEnv) url.Values { return authzParams(p, "launch", e.launch(authserver.EHRLaunch{})) },
			want:  want{code: "invalid_request", desc: "the launch parameter needs the launch scope"}},
		{name: "unknown launch", rfc: "SMART App Launch 2.2 (EHR launch)",
			pairs: []string{"scope", "launch patient/*.rs", "launch", "made-up-launch"},
			want:  want{code: "invalid_request", desc: "the launch is unknown, used, expired or another client's"}},
		{name: "used launch", rfc: "SMART App Launch 2.2 (EHR launch)",
			setup: func(e *authzEnv) url.Values {
				v := authzParams(p, "scope", "launch patient/*.rs", "launch", e.launch(authserver.EHRLaunch{}))
				e.code(v)
				return v
			},
			want: want{code: "invalid_request", desc: "the launch is unknown, used, expired or another client's"}},
		{name: "expired launch", rfc: "SMART App Launch 2.2 (EHR launch)",
			setup: func(e *authzEnv) url.Values {
				v := authzParams(p, "scope", "launch patient/*.rs", "launch", e.launch(authserver.EHRLaunch{}))
				e.clock.Advance(authserver.DefaultLaunchLifetime)
				return v
			},
			want: want{code: "invalid_request", desc: "the launch is unknown, used, expired or another client's"}},
		{name: "another client's launch", rfc: "SMART App Launch 2.2 (EHR launch)",
			setup: func(e *authzEnv) url.Values {
				return authzParams(p, "scope", "launch patient/*.rs", "launch", e.launch(authserver.EHRLaunch{ClientID: appOther}))
			},
			want: want{code: "invalid_request", desc: "the launch is unknown, used, expired or another client's"}},
		{name: "launch for another user", rfc: "SMART App Launch 2.2 (EHR launch); RFC 6749 §4.1.2.1",
			setup: func(e *authzEnv) url.Values {
				return authzParams(p, "scope", "launch patient/*.rs", "launch", e.launch(authserver.EHRLaunch{Subject: "user-2"}))
			},
			want: want{code: "access_denied", desc: "the EHR launched the app for another user"}},
		{name: "user refuses", rfc: "RFC 6749 §4.1.2.1",
			setup: func(e *authzEnv) url.Values {
				e.consent = func(http.ResponseWriter, *http.Request, *authserver.Interaction) (string, bool, error) {
					return "", false, authserver.ErrAccessDenied
				}
				return authzParams(p)
			},
			want: want{code: "access_denied", desc: "the authorization was refused"}},
		{name: "policy grants nothing", rfc: "RFC 6749 §4.1.2.1",
			setup: func(e *authzEnv) url.Values {
				e.consent = func(http.ResponseWriter, *http.Request, *authserver.Interaction) (string, bool, error) {
					return " ", true, nil
				}
				return authzParams(p)
			},
			want: want{code: "access_denied", desc: "no scope was granted"}},
		{name: "consent grants more than requested", rfc: "RFC 6749 §4.1.2.1 (server_error)",
			setup: func(e *authzEnv) url.Values {
				e.consent = func(http.ResponseWriter, *http.Request, *authserver.Interaction) (string, bool, error) {
					return "user/*.rs", true, nil
				}
				return authzParams(p)
			},
			want: want{code: "server_error", desc: "the authorization server could not handle the request"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAuthzEnv(t, nil)
			params := authzParams(p, tt.pairs...)
			if tt.setup != nil {
				params = tt.setup(e)
			}
			var rec *httptest.ResponseRecorder
			if tt.method != "" {
				rec = e.do(httptest.NewRequest(tt.method, authzEndpoint+"?"+params.Encode(), nil))
			} else {
				rec = e.get(params)
			}
			t.Logf("%s: %s %s (%s)", tt.rfc, map[bool]string{true: "shown", false: "redirected"}[tt.want.shown], tt.want.code, tt.want.desc)
			if tt.want.shown {
				requireShown(t, rec, tt.want.status, tt.want.code, tt.want.desc)
				return
			}
			uri := tt.want.redirectURI
			if uri == "" {
				uri = appPublicCB
			}
			st := state
			if tt.want.noState {
				st = ""
			}
			requireRedirectedError(t, rec, uri, st, tt.want.code, tt.want.desc)
			assert.Contains(t, e.audit.kinds(), authserver.AuditAuthorizationRefused)
		})
	}
}

// TestAuthorizePostRefusals: the same rules for authorize-post, and the
// refusals of the form body itself.
func TestAuthorizePostRefusals(t *testing.T) {
	p := newPKCE()
	e := newAuthzEnv(t, nil)

	rec := e.post(authzParams(p, "aud", "https://evil.example/fhir"))
	requireRedirectedError(t, rec, appPublicCB, "state-0123456789abcdef", "invalid_request", "aud is not the FHIR base URL of this server")

	rec = e.post(authzParams(p, "redirect_uri", "https://evil.example/cb"))
	requireShown(t, rec, 400, "invalid_request", "redirect_uri is not registered for the client")

	req := httptest.NewRequest(http.MethodPost, authzEndpoint, strings.NewReader(authzParams(p).Encode()))
	req.Header.Set("Content-Type", "application/json")
	requireShown(t, e.do(req), 400, "invalid_request", "the content type must be application/x-www-form-urlencoded")

	big := authzParams(p, "state", strings.Repeat("s", authserver.DefaultMaxBodySize))
	requireShown(t, e.post(big), 413, "invalid_request", "the request body is too large")
}

// TestAuthorizeSecurityHeaders: every answer is uncacheable, cannot be
// framed, and sends no Referer.
func TestAuthorizeSecurityHeaders(t *testing.T) {
	e := newAuthzEnv(t, nil)
	for _, rec := range []*httptest.ResponseRecorder{
		e.get(authzParams(newPKCE())),                        // redirected
		e.get(authzParams(newPKCE(), "client_id", "nobody")), // shown
	} {
		h := rec.Header()
		assert.Equal(t, "no-store", h.Get("Cache-Control"))
		assert.Equal(t, "no-cache", h.Get("Pragma"))
		assert.Equal(t, "frame-ancestors 'none'", h.Get("Content-Security-Policy"))
		assert.Equal(t, "DENY", h.Get("X-Frame-Options"))
		assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
		assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	}
	framed := newAuthzEnv(t, func(c *authserver.AuthorizationConfig) { c.FrameAncestors = []string{"https://ehr.example.org"} })
	rec := framed.get(authzParams(newPKCE()))
	assert.Equal(t, "frame-ancestors https://ehr.example.org", rec.Header().Get("Content-Security-Policy"))
	assert.Empty(t, rec.Header().Get("X-Frame-Options"))
}

// TestNewAuthorizationHandlerConfig: required fields and bounds.
func TestNewAuthorizationHandlerConfig(t *testing.T) {
	var valid authserver.AuthorizationConfig
	newAuthzEnv(t, func(c *authserver.AuthorizationConfig) { valid = *c })
	tests := []struct {
		name string
		mod  func(*authserver.AuthorizationConfig)
	}{
		{"no endpoint", func(c *authserver.AuthorizationConfig) { c.Endpoint = "" }},
		{"http endpoint", func(c *authserver.AuthorizationConfig) { c.Endpoint = "http://auth.example.org/authorize" }},
		{"no issuer", func(c *authserver.AuthorizationConfig) { c.Issuer = "" }},
		{"no audience", func(c *authserver.AuthorizationConfig) { c.Audience = "" }},
		{"no clients", func(c *authserver.AuthorizationConfig) { c.Clients = nil }},
		{"no store", func(c *authserver.AuthorizationConfig) { c.Store = nil }},
		{"no login", func(c *authserver.AuthorizationConfig) { c.Login = nil }},
		{"no consent", func(c *authserver.AuthorizationConfig) { c.Consent = nil }},
		{"code lifetime above 60s", func(c *authserver.AuthorizationConfig) { c.CodeLifetime = 61 * time.Second }},
		{"negative lifetime", func(c *authserver.AuthorizationConfig) { c.InteractionLifetime = -time.Second }},
		{"short interaction key", func(c *authserver.AuthorizationConfig) { c.InteractionKey = make([]byte, 16) }},
		{"frame ancestor with a space", func(c *authserver.AuthorizationConfig) { c.FrameAncestors = []string{"https://a https://b"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.mod(&cfg)
			_, err := authserver.NewAuthorizationHandler(cfg)
			assert.Error(t, err)
		})
	}
	_, err := authserver.NewAuthorizationHandler(valid)
	require.NoError(t, err)
}
