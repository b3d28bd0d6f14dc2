package authserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

func TestNewTokenHandlerConfig(t *testing.T) {
	e := newEnv(t, nil)
	valid := authserver.TokenConfig{Issuer: testIssuer, Audience: testAudience, Store: e.store,
		Clients: testClients(t, e.store, e.clock.Now), Keys: e.keys}
	_, err := authserver.NewTokenHandler(valid)
	require.NoError(t, err)

	tests := []struct {
		name string
		mod  func(*authserver.TokenConfig)
	}{
		{"no issuer", func(c *authserver.TokenConfig) { c.Issuer = "" }},
		{"no audience", func(c *authserver.TokenConfig) { c.Audience = "" }},
		{"no store", func(c *authserver.TokenConfig) { c.Store = nil }},
		{"no clients", func(c *authserver.TokenConfig) { c.Clients = nil }},
		{"no signer", func(c *authserver.TokenConfig) { c.Keys = nil }},
		{"negative lifetime", func(c *authserver.TokenConfig) { c.AccessTokenLifetime = -time.Second }},
		{"duplicate grant type", func(c *authserver.TokenConfig) {
			c.Grants = []authserver.GrantHandler{stubGrant{typ: "refresh_token"}}
		}},
		{"empty grant type", func(c *authserver.TokenConfig) { c.Grants = []authserver.GrantHandler{stubGrant{}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.mod(&cfg)
			_, err := authserver.NewTokenHandler(cfg)
			assert.Error(t, err)
		})
	}
}

// TestTokenRequestRules covers the request checks made before any grant
// logic: method, content type, body size, duplicates, grant_type, client
// authentication.
func TestTokenRequestRules(t *testing.T) {
	const (
		onlyPost       = `{"error":"invalid_request","error_description":"the token endpoint accepts only POST"}` + "\n"
		badType        = `{"error":"invalid_request","error_description":"the content type must be application/x-www-form-urlencoded"}` + "\n"
		tooLarge       = `{"error":"invalid_request","error_description":"the request body is too large"}` + "\n"
		duplicate      = `{"error":"invalid_request","error_description":"a parameter is included more than once"}` + "\n"
		malformed      = `{"error":"invalid_request","error_description":"the request body is not valid form encoding"}` + "\n"
		noGrantType    = `{"error":"invalid_request","error_description":"grant_type is required"}` + "\n"
		unsupported    = `{"error":"unsupported_grant_type","error_description":"the grant type is not supported"}` + "\n"
		noRefreshToken = `{"error":"invalid_request","error_description":"refresh_token is required"}` + "\n"
	)
	type request struct {
		method string
		body   func(rt string) string
		opts   []func(*http.Request)
	}
	withRT := func(rt string) string { return refreshForm(rt) }
	tests := []struct {
		name       string
		req        request
		wantStatus int
		wantBody   string // exact; "" means a token response (200) or not checked
		wantCode   string // checked when wantBody is ""
		wantHeader map[string]string
	}{
		{name: "valid", req: request{body: withRT}, wantStatus: 200},
		{name: "GET", req: request{method: http.MethodGet, body: withRT}, wantStatus: 405, wantBody: onlyPost,
			wantHeader: map[string]string{"Allow": "POST, OPTIONS", "Content-Type": "application/json", "Cache-Control": "no-store"}},
		{name: "PUT", req: request{method: http.MethodPut, body: withRT}, wantStatus: 405, wantBody: onlyPost,
			wantHeader: map[string]string{"Allow": "POST, OPTIONS"}},
		{name: "OPTIONS without CORS", req: request{method: http.MethodOptions, body: withRT}, wantStatus: 204,
			wantHeader: map[string]string{"Allow": "POST, OPTIONS", "Access-Control-Allow-Origin": ""}},
		{name: "JSON content type", req: request{body: withRT, opts: opts(header("Content-Type", "application/json"))},
			wantStatus: 400, wantBody: badType},
		{name: "multipart content type", req: request{body: withRT, opts: opts(header("Content-Type", "multipart/form-data; boundary=x"))},
			wantStatus: 400, wantBody: badType},
		{name: "no content type", req: request{body: withRT, opts: opts(func(r *http.Request) { r.Header.Del("Content-Type") })},
			wantStatus: 400, wantBody: badType},
		{name: "malformed content type", req: request{body: withRT, opts: opts(header("Content-Type", "application/x-www-form-urlencoded; ="))},
			wantStatus: 400, wantBody: badType},
		{name: "charset UTF-8", req: request{body: withRT, opts: opts(header("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8"))},
			wantStatus: 200},
		{name: "charset utf-8 with space and upper-case type", req: request{body: withRT, opts: opts(header("Content-Type", "Application/X-WWW-Form-URLEncoded; charset=utf-8"))},
			wantStatus: 200},
		{name: "charset latin1", req: request{body: withRT, opts: opts(header("Content-Type", "application/x-www-form-urlencoded; charset=ISO-8859-1"))},
			wantStatus: 400, wantBody: badType},
		{name: "oversized body", req: request{body: func(rt string) string { return refreshForm(rt, "pad", strings.Repeat("x", 70<<10)) }},
			wantStatus: 413, wantBody: tooLarge},
		{name: "oversized body without Content-Length", req: request{
			body: func(rt string) string { return refreshForm(rt, "pad", strings.Repeat("x", 70<<10)) },
			opts: opts(func(r *http.Request) { r.ContentLength = -1 })},
			wantStatus: 413, wantBody: tooLarge},
		{name: "duplicate refresh_token", req: request{body: func(rt string) string { return withRT(rt) + "&refresh_token=" + rt }},
			wantStatus: 400, wantBody: duplicate},
		{name: "duplicate grant_type", req: request{body: func(rt string) string { return withRT(rt) + "&grant_type=refresh_token" }},
			wantStatus: 400, wantBody: duplicate},
		{name: "duplicate with empty value", req: request{body: func(rt string) string { return withRT(rt) + "&scope=&scope=openid" }},
			wantStatus: 400, wantBody: duplicate},
		{name: "bad percent escape", req: request{body: func(rt string) string { return withRT(rt) + "&scope=%zz" }},
			wantStatus: 400, wantBody: malformed},
		{name: "semicolon separator", req: request{body: func(rt string) string { return withRT(rt) + ";scope=openid" }},
			wantStatus: 400, wantBody: malformed},
		{name: "empty parameter is omitted", req: request{body: func(rt string) string { return withRT(rt) + "&scope=" }},
			wantStatus: 200},
		{name: "missing grant_type", req: request{body: func(rt string) string { return "refresh_token=" + rt }},
			wantStatus: 400, wantBody: noGrantType},
		{name: "empty grant_type", req: request{body: func(rt string) string { return "grant_type=&refresh_token=" + rt }},
			wantStatus: 400, wantBody: noGrantType},
		{name: "unknown grant_type", req: request{body: func(rt string) string { return "grant_type=password&username=a&password=b" }},
			wantStatus: 400, wantBody: unsupported},
		{name: "grant_type is case-sensitive", req: request{body: func(rt string) string { return "grant_type=Refresh_Token&refresh_token=" + rt }},
			wantStatus: 400, wantBody: unsupported},
		{name: "missing refresh_token", req: request{body: func(string) string { return "grant_type=refresh_token" }},
			wantStatus: 400, wantBody: noRefreshToken},
		{name: "refresh_token in query string only", req: request{body: func(string) string { return "grant_type=refresh_token" }},
			wantStatus: 400, wantBody: noRefreshToken},
		{name: "no client authentication", req: request{body: withRT, opts: opts(func(r *http.Request) { r.Header.Del("Authorization") })},
			wantStatus: 401, wantCode: authserver.CodeInvalidClient,
			wantHeader: map[string]string{"WWW-Authenticate": "", "Cache-Control": "no-store"}},
		{name: "wrong secret", req: request{body: withRT, opts: opts(basic(clientA, "wrong-secret"))},
			wantStatus: 401, wantCode: authserver.CodeInvalidClient,
			wantHeader: map[string]string{"WWW-Authenticate": `Basic realm="token", charset="UTF-8"`}},
		{name: "unknown client", req: request{body: withRT, opts: opts(basic("nobody", "whatever"))},
			wantStatus: 401, wantCode: authserver.CodeInvalidClient,
			wantHeader: map[string]string{"WWW-Authenticate": `Basic realm="token", charset="UTF-8"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			rt := e.grant(clientA, testScope)
			method := tt.req.method
			if method == "" {
				method = http.MethodPost
			}
			target := "https://auth.example.org/token"
			if tt.name == "refresh_token in query string only" {
				target += "?refresh_token=" + url.QueryEscape(rt)
			}
			req := httptest.NewRequest(method, target, strings.NewReader(tt.req.body(rt)))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			basic(clientA, clientASecret)(req)
			for _, o := range tt.req.opts {
				o(req)
			}
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, req)

			require.Equal(t, tt.wantStatus, rec.Code, rec.Body.String())
			for name, want := range tt.wantHeader {
				assert.Equal(t, want, rec.Header().Get(name), name)
			}
			switch {
			case tt.wantBody != "":
				assert.Equal(t, tt.wantBody, rec.Body.String())
				assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
				assert.Equal(t, "no-cache", rec.Header().Get("Pragma"))
			case tt.wantCode != "":
				assert.Equal(t, tt.wantCode, errorCode(t, rec))
			case tt.wantStatus == 200:
				assertTokenResponseHeaders(t, rec)
				resp := decodeTokenResponse(t, rec)
				assert.NotEmpty(t, resp.AccessToken)
				assert.NotEqual(t, rt, resp.RefreshToken)
			}
		})
	}
}

func opts(o ...func(*http.Request)) []func(*http.Request) { return o }

func errorCode(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return body.Error
}

func assertTokenResponseHeaders(t testing.TB, rec *httptest.ResponseRecorder) {
	t.Helper()
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "no-cache", rec.Header().Get("Pragma"))
}

// TestClientAuthenticationMethods: every grant authenticates its client;
// public clients send client_id, post clients client_secret in the body.
func TestClientAuthenticationMethods(t *testing.T) {
	tests := []struct {
		name   string
		client string
		extra  []string
		opts   []func(*http.Request)
		status int
	}{
		{"basic", clientA, nil, opts(basic(clientA, clientASecret)), 200},
		{"post", clientPost, []string{"client_id", clientPost, "client_secret", clientPostSec}, nil, 200},
		{"post wrong secret", clientPost, []string{"client_id", clientPost, "client_secret", "nope"}, nil, 401},
		{"public", clientPublic, []string{"client_id", clientPublic}, nil, 200},
		{"public without client_id", clientPublic, nil, nil, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			rt := e.grant(tt.client, testScope)
			rec := e.post(refreshForm(rt, tt.extra...), tt.opts...)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			if tt.status == 401 {
				assert.Equal(t, authserver.CodeInvalidClient, errorCode(t, rec))
				assert.Equal(t, []string{authserver.AuditGrantCreated, authserver.AuditClientAuthFailed}, e.audit.kinds())
				// The token was not consumed.
				_, tok, err := e.store.LookupToken(context.Background(), tokenstore.ParseRefreshToken(rt))
				require.NoError(t, err)
				assert.True(t, tok.UsedAt.IsZero())
			}
		})
	}
}

// TestRefreshRotationAndReuse: each refresh rotates; replaying RT(n-2)
// after RT(n-1) was used revokes the family, so RT(n) fails too. Every
// refresh token issued names its grant.
func TestRefreshRotationAndReuse(t *testing.T) {
	for _, window := range []time.Duration{0, -1} {
		t.Run(fmt.Sprintf("RetryWindow %v", window), func(t *testing.T) {
			e := newEnv(t, func(c *authserver.TokenConfig) { c.RetryWindow = window })
			rt0, grantID, err := e.h.CreateGrant(context.Background(), authserver.NewGrant{ClientID: clientA, Scope: testScope})
			require.NoError(t, err)
			assert.Equal(t, grantID, tokenstore.ParseRefreshToken(rt0).GrantID)
			r1 := e.refreshOK(rt0)
			require.NotEqual(t, rt0, r1.RefreshToken)
			require.Len(t, r1.RefreshToken, 74) // 43 random characters, '.', the grant ID (NewID) in base64url
			assert.Equal(t, grantID, tokenstore.ParseRefreshToken(r1.RefreshToken).GrantID)
			e.clock.Advance(time.Minute)
			r2 := e.refreshOK(r1.RefreshToken)
			require.NotEqual(t, r1.RefreshToken, r2.RefreshToken)

			rec := e.refresh(rt0) // RT(n-2) replayed
			require.Equal(t, 400, rec.Code)
			assert.Equal(t, bodyInvalidGrant, rec.Body.String())

			rec = e.refresh(r2.RefreshToken) // RT(n): the family is revoked
			require.Equal(t, 400, rec.Code)
			assert.Equal(t, bodyInvalidGrant, rec.Body.String())

			assert.Equal(t, []string{
				authserver.AuditGrantCreated, authserver.AuditRefreshSucceeded, authserver.AuditRefreshSucceeded,
				authserver.AuditReuseDetected, authserver.AuditRefreshFailed,
			}, e.audit.kinds())
			reuse := e.audit.events[3]
			assert.Equal(t, clientA, reuse.ClientID)
			assert.Equal(t, grantID, reuse.GrantID)
			assert.Equal(t, "revoked", e.audit.events[4].Reason)
		})
	}
}

// TestRefreshInvalidGrantBodiesIdentical: unknown, expired, idle-expired,
// revoked, reused and another client's tokens are indistinguishable.
func TestRefreshInvalidGrantBodiesIdentical(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(e *env) (rt string)
		wantReason string
		withScope  bool
	}{
		{"unknown", func(e *env) string { return "no-such-token" }, "not_found", false},
		{"unknown with scope", func(e *env) string { return "no-such-token" }, "not_found", true},
		{"absolute expiry", func(e *env) string {
			rt := e.grant(clientA, testScope)
			e.clock.Advance(authserver.DefaultOfflineAbsolute)
			return rt
		}, "expired", false},
		{"idle expiry", func(e *env) string {
			rt := e.grant(clientA, testScope)
			e.clock.Advance(authserver.DefaultOfflineIdle)
			return rt
		}, "expired", false},
		{"online idle expiry", func(e *env) string {
			rt := e.grant(clientA, "openid online_access patient/*.rs")
			e.clock.Advance(authserver.DefaultOnlineIdle + time.Second)
			return rt
		}, "expired", false},
		{"revoked", func(e *env) string {
			rt := e.grant(clientA, testScope)
			g, _, err := e.store.LookupToken(context.Background(), tokenstore.ParseRefreshToken(rt))
			require.NoError(e.t, err)
			require.NoError(e.t, e.store.RevokeGrant(context.Background(), g.ID, e.clock.Now()))
			return rt
		}, "revoked", false},
		{"revoked with scope", func(e *env) string {
			rt := e.grant(clientA, testScope)
			g, _, err := e.store.LookupToken(context.Background(), tokenstore.ParseRefreshToken(rt))
			require.NoError(e.t, err)
			require.NoError(e.t, e.store.RevokeGrant(context.Background(), g.ID, e.clock.Now()))
			return rt
		}, "revoked", true},
		{"reused", func(e *env) string {
			rt := e.grant(clientA, testScope)
			e.refreshOK(e.refreshOK(rt).RefreshToken)
			return rt
		}, "", false},
		{"reused with broader scope", func(e *env) string {
			rt := e.grant(clientA, "openid offline_access")
			e.refreshOK(e.refreshOK(rt).RefreshToken)
			return rt
		}, "", true},
		{"used, with broader scope, within the retry window", func(e *env) string {
			rt := e.grant(clientA, "openid offline_access")
			e.refreshOK(rt)
			return rt
		}, "", true},
		{"another client's token", func(e *env) string { return e.grant(clientB, testScope) }, "client_mismatch", false},
		{"another client's token with scope", func(e *env) string { return e.grant(clientB, testScope) }, "client_mismatch", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			rt := tt.setup(e)
			var params []string
			if tt.withScope {
				params = []string{"scope", "openid patient/*.rs"}
			}
			rec := e.refresh(rt, params...)
			require.Equal(t, http.StatusBadRequest, rec.Code)
			assert.Equal(t, bodyInvalidGrant, rec.Body.String())
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.Equal(t, "no-cache", rec.Header().Get("Pragma"))
			assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
			last := e.audit.events[len(e.audit.events)-1]
			if tt.wantReason == "" {
				assert.Equal(t, authserver.AuditReuseDetected, last.Kind)
			} else {
				assert.Equal(t, authserver.AuditRefreshFailed, last.Kind)
				assert.Equal(t, tt.wantReason, last.Reason)
			}
		})
	}
}

// TestRefreshOtherClientTokenStillWorks: client B presenting A's token is
// refused and changes nothing.
func TestRefreshOtherClientTokenStillWorks(t *testing.T) {
	e := newEnv(t, nil)
	rtA := e.grant(clientA, testScope)
	rec := e.post(refreshForm(rtA), basic(clientB, clientBSecret))
	require.Equal(t, 400, rec.Code)
	assert.Equal(t, bodyInvalidGrant, rec.Body.String())
	e.refreshOK(rtA)
}

func TestRefreshScope(t *testing.T) {
	const granted = "openid fhirUser offline_access launch/patient patient/Observation.rs patient/Patient.r"
	t.Run("broader scope is refused and does not consume the token", func(t *testing.T) {
		for _, scope := range []string{
			"openid patient/*.rs",             // one scope not granted
			"patient/Observation.rs user/*.*", // a broader one
			"patient/Patient.rs",              // search on Patient was not granted
			"   ",                             // no scope token at all
		} {
			e := newEnv(t, nil)
			rt := e.grant(clientA, granted)
			rec := e.refresh(rt, "scope", scope)
			require.Equal(t, 400, rec.Code, scope)
			assert.Equal(t, bodyInvalidScope, rec.Body.String())
			last := e.audit.events[len(e.audit.events)-1]
			assert.Equal(t, authserver.AuditEvent{Kind: authserver.AuditRefreshFailed, ClientID: clientA,
				GrantID: last.GrantID, Reason: "invalid_scope", Time: testStart}, last)
			resp := e.refreshOK(rt) // not consumed
			assert.Equal(t, granted, resp.Scope)
		}
	})
	t.Run("narrower scope narrows the access token only", func(t *testing.T) {
		e := newEnv(t, nil)
		rt := e.grant(clientA, granted)
		r1 := e.refreshOK(rt, "scope", "patient/Patient.r  launch/patient patient/Patient.r")
		assert.Equal(t, "patient/Patient.r launch/patient", r1.Scope)
		assert.Equal(t, "patient/Patient.r launch/patient", jwtPart(t, r1.AccessToken, 1)["scope"])
		assert.Empty(t, r1.IDToken, "openid was not requested")

		r2 := e.refreshOK(r1.RefreshToken)
		assert.Equal(t, granted, r2.Scope)
		assert.Equal(t, granted, jwtPart(t, r2.AccessToken, 1)["scope"])
		assert.NotEmpty(t, r2.IDToken)

		g, _, err := e.store.LookupToken(context.Background(), tokenstore.ParseRefreshToken(r2.RefreshToken))
		require.NoError(t, err)
		assert.Equal(t, granted, g.Scope)
	})
	t.Run("same scope", func(t *testing.T) {
		e := newEnv(t, nil)
		rt := e.grant(clientA, granted)
		assert.Equal(t, granted, e.refreshOK(rt, "scope", granted).Scope)
	})
}

// TestRefreshScopeNarrowingByMeaning: a requested scope is granted if the
// original grant covers it by meaning (RFC 6749 §6 forbids only scopes
// "not originally granted"; SMART App Launch 2.2, scopes-and-launch-context:
// v1 read = rs, write = cud; wildcards; constraints narrow). Anything else
// is invalid_scope and the refresh token is not consumed.
func TestRefreshScopeNarrowingByMeaning(t *testing.T) {
	tests := []struct {
		granted, requested string
		ok                 bool
	}{
		{"launch/patient patient/*.rs", "patient/Observation.rs", true},
		{"launch/patient patient/*.rs", "launch/patient patient/Observation.r patient/Condition.s", true},
		{"launch/patient patient/*.rs", "patient/*.r", true},
		{"launch/patient patient/*.rs", "patient/Observation.rs?category=laboratory", true},
		{"launch/patient patient/*.read", "patient/Observation.rs", true},
		{"launch/patient patient/*.read", "patient/Observation.read", true},
		{"launch/patient patient/Observation.rs", "patient/Observation.read", true},
		{"user/*.*", "user/Patient.cruds user/Observation.write", true},
		{"user/*.write", "user/Encounter.cud", true},
		{"patient/Observation.rs?category=laboratory", "patient/Observation.r?category=laboratory", true},
		{"patient/Observation.rs?category=laboratory", "patient/Observation.rs?category=laboratory&code=2339-0", true},
		{"openid fhirUser patient/*.rs", "openid fhirUser", true},
		// Widening attempts.
		{"launch/patient patient/Observation.rs", "patient/*.rs", false},
		{"launch/patient patient/*.rs", "user/Observation.rs", false},
		{"launch/patient patient/*.rs", "system/*.rs", false},
		{"launch/patient patient/*.rs", "patient/Observation.cruds", false},
		{"launch/patient patient/*.read", "patient/Observation.c", false},
		{"user/*.write", "user/Patient.r", false},
		{"patient/Observation.rs?category=laboratory", "patient/Observation.rs", false},
		{"patient/Observation.rs?category=laboratory", "patient/Observation.rs?category=vital-signs", false},
		{"patient/Observation.rs?category=laboratory", "patient/*.rs?category=laboratory", false},
		{"launch/patient patient/*.rs", "launch/encounter", false},
		{"patient/*.rs", "offline_access", false},
		{"patient/*.rs", "patient/Observation.sr", false},
	}
	for _, tt := range tests {
		t.Run(tt.granted+" -> "+tt.requested, func(t *testing.T) {
			e := newEnv(t, nil)
			rt := e.grant(clientA, tt.granted)
			rec := e.refresh(rt, "scope", tt.requested)
			if !tt.ok {
				require.Equal(t, 400, rec.Code, rec.Body.String())
				assert.Equal(t, bodyInvalidScope, rec.Body.String())
				assert.Equal(t, tt.granted, e.refreshOK(rt).Scope, "not consumed")
				return
			}
			require.Equal(t, 200, rec.Code, rec.Body.String())
			var resp authserver.TokenResponse
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
			assert.Equal(t, strings.Join(strings.Fields(tt.requested), " "), resp.Scope)
			assert.Equal(t, resp.Scope, jwtPart(t, resp.AccessToken, 1)["scope"])
			assert.Equal(t, tt.granted, e.refreshOK(resp.RefreshToken).Scope, "the grant keeps its scope")
		})
	}
}

// TestRefreshRetry: within the retry window, the same client presenting an
// already rotated token again gets new tokens and supersedes the successor
// it was given before; the family never has two live tokens.
func TestRefreshRetry(t *testing.T) {
	t.Run("default window", func(t *testing.T) {
		e := newEnv(t, nil)
		rt0 := e.grant(clientA, testScope)
		r1 := e.refreshOK(rt0)

		e.clock.Advance(5 * time.Second)
		r1b := e.refreshOK(rt0) // the answer was lost: a retry
		assert.NotEqual(t, r1.RefreshToken, r1b.RefreshToken)
		last := e.audit.events[len(e.audit.events)-1]
		assert.Equal(t, authserver.AuditRefreshSucceeded, last.Kind)
		assert.Equal(t, "retry", last.Reason)

		// r1 was superseded: it is dead, r1b is the live token.
		_, tok, err := e.store.LookupToken(context.Background(), tokenstore.ParseRefreshToken(r1.RefreshToken))
		require.NoError(t, err)
		assert.False(t, tok.UsedAt.IsZero(), "superseded")
		r2 := e.refreshOK(r1b.RefreshToken)

		// A thief presenting the superseded token is reuse: the family
		// is revoked.
		rec := e.refresh(r1.RefreshToken)
		require.Equal(t, http.StatusBadRequest, rec.Code)
		assert.Equal(t, bodyInvalidGrant, rec.Body.String())
		assert.Equal(t, authserver.AuditReuseDetected, e.audit.events[len(e.audit.events)-1].Kind)
		rec = e.refresh(r2.RefreshToken)
		assert.Equal(t, bodyInvalidGrant, rec.Body.String())
	})
	t.Run("window measured by the store", func(t *testing.T) {
		e := newEnv(t, func(c *authserver.TokenConfig) {
			c.RetryWindow = 10 * time.Second
			c.Store = tokenstore.NewMemoryStore(tokenstore.MemoryOptions{Clock: c.Now}) // the test clock
		})
		rt0 := e.grant(clientA, testScope)
		e.refreshOK(rt0)
		e.clock.Advance(9 * time.Second)
		r1b := e.refreshOK(rt0)
		assert.Equal(t, "retry", e.audit.events[len(e.audit.events)-1].Reason)
		e.clock.Advance(2 * time.Second) // 11 s after the first acceptance
		rec := e.refresh(rt0)
		require.Equal(t, http.StatusBadRequest, rec.Code)
		assert.Equal(t, bodyInvalidGrant, rec.Body.String())
		assert.Equal(t, authserver.AuditReuseDetected, e.audit.events[len(e.audit.events)-1].Kind)
		assert.Equal(t, bodyInvalidGrant, e.refresh(r1b.RefreshToken).Body.String(), "family revoked")
	})
	t.Run("another client's retry is reuse", func(t *testing.T) {
		e := newEnv(t, nil)
		rt0 := e.grant(clientA, testScope)
		r1 := e.refreshOK(rt0)
		rec := e.post(refreshForm(rt0), basic(clientB, clientBSecret))
		require.Equal(t, http.StatusBadRequest, rec.Code)
		assert.Equal(t, bodyInvalidGrant, rec.Body.String())
		assert.Equal(t, bodyInvalidGrant, e.refresh(r1.RefreshToken).Body.String(), "family revoked")
	})
	t.Run("negative window: no retry", func(t *testing.T) {
		e := newEnv(t, func(c *authserver.TokenConfig) { c.RetryWindow = -1 })
		rt0 := e.grant(clientA, testScope)
		r1 := e.refreshOK(rt0)
		rec := e.refresh(rt0)
		require.Equal(t, http.StatusBadRequest, rec.Code)
		assert.Equal(t, bodyInvalidGrant, rec.Body.String())
		assert.Equal(t, authserver.AuditReuseDetected, e.audit.events[len(e.audit.events)-1].Kind)
		assert.Equal(t, bodyInvalidGrant, e.refresh(r1.RefreshToken).Body.String(), "family revoked")
	})
	t.Run("retry with a narrower scope", func(t *testing.T) {
		e := newEnv(t, nil)
		rt0 := e.grant(clientA, testScope)
		e.refreshOK(rt0)
		r1b := e.refreshOK(rt0, "scope", "patient/*.rs")
		assert.Equal(t, "patient/*.rs", r1b.Scope)
		e.refreshOK(r1b.RefreshToken)
	})
	t.Run("a used token with a broader scope is reuse", func(t *testing.T) {
		// A genuine retry repeats an accepted request, whose scope was
		// valid; no retry is granted with an invalid scope.
		e := newEnv(t, nil)
		rt0 := e.grant(clientA, testScope)
		r1 := e.refreshOK(rt0)
		rec := e.refresh(rt0, "scope", "user/*.rs")
		require.Equal(t, http.StatusBadRequest, rec.Code)
		assert.Equal(t, bodyInvalidGrant, rec.Body.String())
		assert.Equal(t, authserver.AuditReuseDetected, e.audit.events[len(e.audit.events)-1].Kind)
		assert.Equal(t, bodyInvalidGrant, e.refresh(r1.RefreshToken).Body.String(), "family revoked")
	})
}

// TestRefreshRetryAfterSigningFailure: a token rotated by the store whose
// answer could not be signed is answered 500; the client's retry with the
// same token succeeds, and the family stays whole.
func TestRefreshRetryAfterSigningFailure(t *testing.T) {
	e := newEnv(t, nil)
	rt0 := e.grant(clientA, testScope)
	restore := authserver.FailNextSign(e.keys)
	rec := e.refresh(rt0)
	restore()
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Equal(t, bodyServerError, rec.Body.String())
	last := e.audit.events[len(e.audit.events)-1]
	assert.Equal(t, authserver.AuditRefreshFailed, last.Kind)
	assert.Equal(t, "server_error", last.Reason)

	// The store rotated rt0; the retry gets the live successor.
	_, tok, err := e.store.LookupToken(context.Background(), tokenstore.ParseRefreshToken(rt0))
	require.NoError(t, err)
	assert.False(t, tok.UsedAt.IsZero())
	r1 := e.refreshOK(rt0)
	assert.Equal(t, "retry", e.audit.events[len(e.audit.events)-1].Reason)
	e.refreshOK(r1.RefreshToken)
}

func TestTokenConfigRetryWindow(t *testing.T) {
	e := newEnv(t, nil)
	for _, tt := range []struct {
		window time.Duration
		ok     bool
	}{
		{0, true}, {-1, true}, {time.Second, true}, {authserver.MaxRetryWindow, true},
		{authserver.MaxRetryWindow + time.Millisecond, false},
	} {
		_, err := authserver.NewTokenHandler(authserver.TokenConfig{Issuer: testIssuer, Audience: testAudience, Store: e.store,
			Clients: testClients(t, e.store, e.clock.Now), Keys: e.keys, RetryWindow: tt.window})
		assert.Equal(t, tt.ok, err == nil, "RetryWindow %v: %v", tt.window, err)
	}
	assert.Equal(t, 30*time.Second, authserver.DefaultRetryWindow)
	assert.Equal(t, 5*time.Second, authserver.DefaultStoreTimeout)
}

// failingStore fails the operations named in fail with a non-sentinel
// error. An operation named in hang runs and then, ignoring its context,
// does not answer until release is closed.
type failingStore struct {
	tokenstore.Store
	fail, hang *opSet
	release    chan struct{}
}

func newFailingStore() failingStore {
	return failingStore{Store: tokenstore.NewMemoryStore(tokenstore.MemoryOptions{}),
		fail: &opSet{}, hang: &opSet{}, release: make(chan struct{})}
}

// opSet is a set of operation names, safe for concurrent use.
type opSet struct {
	mu  sync.Mutex
	ops map[string]bool
}

func (s *opSet) set(op string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ops == nil {
		s.ops = map[string]bool{}
	}
	s.ops[op] = on
}

func (s *opSet) has(op string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ops[op]
}

var errStoreDown = errors.New("store: connection refused")

func (s failingStore) Rotate(ctx context.Context, req tokenstore.RotateRequest) (tokenstore.RotateResult, error) {
	if s.fail.has("Rotate") {
		return tokenstore.RotateResult{}, errStoreDown
	}
	if s.hang.has("Rotate") {
		defer func() { <-s.release }()
	}
	return s.Store.Rotate(ctx, req)
}

func (s failingStore) LookupToken(ctx context.Context, ref tokenstore.TokenRef) (tokenstore.Grant, tokenstore.RefreshToken, error) {
	if s.fail.has("LookupToken") {
		return tokenstore.Grant{}, tokenstore.RefreshToken{}, errStoreDown
	}
	if s.hang.has("LookupToken") {
		defer func() { <-s.release }()
	}
	return s.Store.LookupToken(ctx, ref)
}

const bodyUnavailable = `{"error":"temporarily_unavailable","error_description":"the authorization server is temporarily unavailable; retry the request later"}` + "\n"

// TestRefreshStoreFailure: a store that fails, or does not answer within
// StoreTimeout (even ignoring its context, even after it rotated the
// token), is answered 503 temporarily_unavailable with Retry-After; the
// client's retry with the same refresh token then succeeds, once.
func TestRefreshStoreFailure(t *testing.T) {
	tests := []struct {
		name   string
		fail   string // fails at once
		hang   string // runs, then hangs past the deadline
		params []string
		reason string
	}{
		{"Rotate fails", "Rotate", "", nil, "store_error"},
		{"LookupToken for scope fails", "LookupToken", "", []string{"scope", "openid"}, "store_error"},
		{"Rotate hangs after rotating", "", "Rotate", nil, "store_timeout"},
		{"LookupToken for scope hangs", "", "LookupToken", []string{"scope", "openid"}, "store_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFailingStore()
			e := newEnv(t, func(c *authserver.TokenConfig) {
				c.Store = fs
				c.StoreTimeout = 20 * time.Millisecond
			})
			rt := e.grant(clientA, testScope)
			fs.fail.set(tt.fail, true)
			fs.hang.set(tt.hang, true)
			rec := e.refresh(rt, tt.params...)
			require.Equal(t, http.StatusServiceUnavailable, rec.Code)
			assert.Equal(t, bodyUnavailable, rec.Body.String())
			assert.Equal(t, "1", rec.Header().Get("Retry-After"))
			assertTokenResponseHeaders(t, rec)
			last := e.audit.events[len(e.audit.events)-1]
			assert.Equal(t, authserver.AuditRefreshFailed, last.Kind)
			assert.Equal(t, tt.reason, last.Reason)

			// The store answers again: the client's retry succeeds, and
			// the family has one live token.
			fs.fail.set(tt.fail, false)
			fs.hang.set(tt.hang, false)
			close(fs.release)
			r1 := e.refreshOK(rt, tt.params...)
			r2 := e.refreshOK(r1.RefreshToken)
			_, tok, err := e.store.LookupToken(context.Background(), tokenstore.ParseRefreshToken(r2.RefreshToken))
			require.NoError(t, err)
			assert.True(t, tok.UsedAt.IsZero())
		})
	}
}

// TestRefreshResponse checks the fields of a token response and the claims
// of its tokens.
func TestRefreshResponse(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	banner := false
	rt, grantID, err := e.h.CreateGrant(ctx, authserver.NewGrant{
		ClientID: clientA, Subject: "user-1", FHIRUser: "Practitioner/77", Scope: testScope,
		Launch: authserver.Launch{
			Patient: "pat-123", Encounter: "enc-456", NeedPatientBanner: &banner,
			SmartStyleURL: "https://ehr.example.org/style.json", Intent: "reconcile-medications", Tenant: "t1",
			FHIRContext: []middleware.FHIRContextItem{{Reference: "Appointment/a1", Role: "https://example.org/role"}},
		},
	})
	require.NoError(t, err)
	rec := e.refresh(rt)
	require.Equal(t, 200, rec.Code)
	assertTokenResponseHeaders(t, rec)

	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	newRT, _ := body["refresh_token"].(string)
	assert.NotEqual(t, rt, newRT)
	assert.Equal(t, map[string]any{
		"access_token":        body["access_token"],
		"id_token":            body["id_token"],
		"refresh_token":       newRT,
		"token_type":          "Bearer",
		"expires_in":          float64(3600),
		"scope":               testScope,
		"patient":             "pat-123",
		"encounter":           "enc-456",
		"need_patient_banner": false,
		"smart_style_url":     "https://ehr.example.org/style.json",
		"intent":              "reconcile-medications",
		"tenant":              "t1",
		"fhirContext":         []any{map[string]any{"reference": "Appointment/a1", "role": "https://example.org/role"}},
	}, body)

	at := body["access_token"].(string)
	assert.Equal(t, map[string]any{"alg": "ES256", "kid": e.keys.ActiveKeyID(), "typ": "at+jwt"}, jwtPart(t, at, 0))
	claims := jwtPart(t, at, 1)
	iat := float64(testStart.Unix())
	assert.Equal(t, map[string]any{
		"iss": testIssuer, "aud": testAudience, "sub": "user-1", "client_id": clientA,
		"iat": iat, "exp": iat + 3600, "jti": claims["jti"], "scope": testScope, "grant_id": grantID,
		"fhirUser": "Practitioner/77", "patient": "pat-123", "encounter": "enc-456",
		"need_patient_banner": false, "smart_style_url": "https://ehr.example.org/style.json",
		"intent": "reconcile-medications", "tenant": "t1",
		"fhirContext": []any{map[string]any{"reference": "Appointment/a1", "role": "https://example.org/role"}},
	}, claims)
	assert.Len(t, claims["jti"], 22)

	idt := body["id_token"].(string)
	assert.Equal(t, map[string]any{"alg": "ES256", "kid": e.keys.ActiveKeyID(), "typ": "JWT"}, jwtPart(t, idt, 0))
	assert.Equal(t, map[string]any{
		"iss": testIssuer, "sub": "user-1", "aud": clientA, "iat": iat, "exp": iat + 3600,
		"fhirUser": "Practitioner/77", "profile": "Practitioner/77",
	}, jwtPart(t, idt, 1))

	// Every jti differs.
	r2 := e.refreshOK(newRT)
	assert.NotEqual(t, claims["jti"], jwtPart(t, r2.AccessToken, 1)["jti"])
}

func TestIDTokenPresence(t *testing.T) {
	tests := []struct {
		name      string
		scope     string
		requested string
		want      bool
		profile   bool
	}{
		{"openid", "openid fhirUser offline_access", "", true, false},
		{"openid profile", "openid profile offline_access", "", true, true},
		{"no openid", "fhirUser offline_access patient/*.rs", "", false, false},
		{"openid narrowed away", "openid fhirUser offline_access patient/*.rs", "patient/*.rs", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			rt := e.grant(clientA, tt.scope)
			var params []string
			if tt.requested != "" {
				params = []string{"scope", tt.requested}
			}
			resp := e.refreshOK(rt, params...)
			if !tt.want {
				assert.Empty(t, resp.IDToken)
				return
			}
			claims := jwtPart(t, resp.IDToken, 1)
			assert.Equal(t, "Practitioner/77", claims["fhirUser"])
			_, hasProfile := claims["profile"]
			assert.Equal(t, tt.profile, hasProfile)
		})
	}
}

func TestLaunchContextOmittedWhenAbsent(t *testing.T) {
	e := newEnv(t, nil)
	rt, _, err := e.h.CreateGrant(context.Background(), authserver.NewGrant{ClientID: clientA, Scope: "offline_access system/*.rs"})
	require.NoError(t, err)
	rec := e.refresh(rt)
	require.Equal(t, 200, rec.Code)
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"access_token", "token_type", "expires_in", "scope", "refresh_token"}, keys)
	claims := jwtPart(t, body["access_token"].(string), 1)
	assert.Equal(t, clientA, claims["sub"], "sub falls back to client_id")
	assert.NotContains(t, claims, "fhirUser")
	assert.NotContains(t, claims, "patient")
}

func TestCreateGrantLifetimes(t *testing.T) {
	tests := []struct {
		name     string
		scope    string
		cfg      func(*authserver.TokenConfig)
		kind     tokenstore.Kind
		idle     time.Duration
		absolute time.Duration
	}{
		{"offline", "openid offline_access", nil, tokenstore.KindOffline, authserver.DefaultOfflineIdle, authserver.DefaultOfflineAbsolute},
		{"offline wins over online", "offline_access online_access", nil, tokenstore.KindOffline, authserver.DefaultOfflineIdle, authserver.DefaultOfflineAbsolute},
		{"online", "openid online_access", nil, tokenstore.KindOnline, authserver.DefaultOnlineIdle, authserver.DefaultOnlineAbsolute},
		{"neither", "patient/*.rs", nil, tokenstore.KindOnline, authserver.DefaultOnlineIdle, authserver.DefaultOnlineAbsolute},
		{"configured", "offline_access", func(c *authserver.TokenConfig) {
			c.OfflineLifetime = authserver.Lifetime{Idle: time.Hour, Absolute: 48 * time.Hour}
		}, tokenstore.KindOffline, time.Hour, 48 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg)
			rt, id, err := e.h.CreateGrant(context.Background(), authserver.NewGrant{ClientID: clientA, Scope: tt.scope})
			require.NoError(t, err)
			g, tok, err := e.store.LookupToken(context.Background(), tokenstore.ParseRefreshToken(rt))
			require.NoError(t, err)
			assert.Equal(t, id, g.ID)
			assert.Equal(t, tt.kind, g.Kind)
			assert.Equal(t, tt.idle, g.IdleTimeout)
			assert.Equal(t, testStart.Add(tt.absolute), g.ExpiresAt)
			assert.Equal(t, testStart.Add(min(tt.idle, tt.absolute)), tok.ExpiresAt)
			assert.Equal(t, 1, tok.Generation)
		})
	}
}

func TestCreateGrantErrors(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	_, _, err := e.h.CreateGrant(ctx, authserver.NewGrant{Scope: "openid"})
	assert.Error(t, err)
	_, _, err = e.h.CreateGrant(ctx, authserver.NewGrant{ClientID: clientA, Scope: "  "})
	assert.Error(t, err)
	ng := authserver.NewGrant{ClientID: clientA, Scope: "offline_access", RefreshToken: "fixed-demo-token"}
	rt, _, err := e.h.CreateGrant(ctx, ng)
	require.NoError(t, err)
	assert.Equal(t, "fixed-demo-token", rt)
	_, _, err = e.h.CreateGrant(ctx, ng)
	assert.ErrorIs(t, err, tokenstore.ErrConflict)
}

// stubGrant is an extra grant type.
type stubGrant struct {
	typ string
}

func (g stubGrant) GrantType() string { return g.typ }

func (g stubGrant) HandleGrant(_ context.Context, req *authserver.TokenRequest) (*authserver.TokenResponse, error) {
	switch req.Form.Get("mode") {
	case "oauth-error":
		return nil, &authserver.Error{Code: authserver.CodeUnauthorizedClient, Description: "not for this client"}
	case "plain-error":
		return nil, errors.New("boom")
	case "nil":
		return nil, nil
	}
	return &authserver.TokenResponse{AccessToken: "stub-for-" + req.Client.ID, ExpiresIn: 60, Scope: "system/*.rs"}, nil
}

func TestAdditionalGrantTypes(t *testing.T) {
	e := newEnv(t, func(c *authserver.TokenConfig) {
		c.Grants = []authserver.GrantHandler{stubGrant{typ: "client_credentials"}}
	})
	tests := []struct {
		mode   string
		status int
		body   string
	}{
		{"", 200, `{"access_token":"stub-for-app-a","token_type":"Bearer","expires_in":60,"scope":"system/*.rs"}`},
		{"oauth-error", 400, `{"error":"unauthorized_client","error_description":"not for this client"}` + "\n"},
		{"plain-error", 500, bodyServerError},
		{"nil", 500, bodyServerError},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			rec := e.post("grant_type=client_credentials&mode="+tt.mode, basic(clientA, clientASecret))
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, tt.body, rec.Body.String())
		})
	}
	// Client authentication comes first for every grant type.
	rec := e.post("grant_type=client_credentials", basic(clientA, "bad"))
	assert.Equal(t, 401, rec.Code)
}
