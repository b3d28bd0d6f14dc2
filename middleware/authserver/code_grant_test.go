package authserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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

// The exact error bodies of the code exchange.
const (
	bodyInvalidCode   = `{"error":"invalid_grant","error_description":"the authorization code is invalid, expired or already used"}` + "\n"
	bodyWrongVerifier = `{"error":"invalid_grant","error_description":"code_verifier does not match the code_challenge"}` + "\n"
	bodyWrongRedirect = `{"error":"invalid_grant","error_description":"redirect_uri is not the one of the authorization request"}` + "\n"
)

// grantOfCode returns the ID of the grant a code names.
func grantOfCode(code string) string { return tokenstore.ParseRefreshToken(code).GrantID }

// TestCodeExchangeRefusals: every refusal of the authorization_code grant,
// with its exact answer and RFC clause, and whether the code survives it.
func TestCodeExchangeRefusals(t *testing.T) {
	type outcome int
	const (
		kept     outcome = iota // the code can still be exchanged
		consumed                // the code is gone, nothing was issued
		revoked                 // the grant made from the code is revoked
		dead                    // expired: nobody can use it, nothing to revoke
	)
	tests := []struct {
		name     string
		rfc      string
		client   string
		run      func(e *authzEnv, code string, p pkce) *httptest.ResponseRecorder
		status   int
		body     string
		thenCode outcome
	}{
		{name: "missing code_verifier", rfc: "RFC 7636 §4.5; RFC 6749 §5.2",
			run: func(e *authzEnv, code string, p pkce) *httptest.ResponseRecorder {
				return e.exchange(appPublic, code, p, appPublicCB, "code_verifier", "")
			},
			status: 400, body: `{"error":"invalid_request","error_description":"code_verifier is required (PKCE)"}` + "\n", thenCode: kept},
		{name: "malformed code_verifier", rfc: "RFC 7636 §4.1",
			run: func(e *authzEnv, code string, p pkce) *httptest.ResponseRecorder {
				return e.exchange(appPublic, code, p, appPublicCB, "code_verifier", "too-short")
			},
			status: 400, body: `{"error":"invalid_request","error_description":"code_verifier must be 43 to 128 unreserved characters (RFC 7636 §4.1)"}` + "\n", thenCode: kept},
		{name: "missing code", rfc: "RFC 6749 §4.1.3",
			run: func(e *authzEnv, code string, p pkce) *httptest.ResponseRecorder {
				return e.exchange(appPublic, code, p, appPublicCB, "code", "")
			},
			status: 400, body: `{"error":"invalid_request","error_description":"code is required"}` + "\n", thenCode: kept},
		{name: "wrong code_verifier", rfc: "RFC 7636 §4.6",
			run: func(e *authzEnv, code string, _ pkce) *httptest.ResponseRecorder {
				return e.exchange(appPublic, code, newPKCE(), appPublicCB)
			},
			status: 400, body: bodyWrongVerifier, thenCode: consumed},
		{name: "plain verifier: the challenge itself", rfc: "RFC 7636 §4.6; SMART App Launch 2.2 (no plain)",
			run: func(e *authzEnv, code string, p pkce) *httptest.ResponseRecorder {
				return e.exchange(appPublic, code, p, appPublicCB, "code_verifier", p.challenge)
			},
			status: 400, body: bodyWrongVerifier, thenCode: consumed},
		{name: "wrong redirect_uri", rfc: "RFC 6749 §4.1.3, §10.6",
			run: func(e *authzEnv, code string, p pkce) *httptest.ResponseRecorder {
				return e.exchange(appPublic, code, p, "https://evil.example/cb")
			},
			status: 400, body: bodyWrongRedirect, thenCode: consumed},
		{name: "wrong redirect_uri and code_verifier", rfc: "RFC 6749 §4.1.3; RFC 7636 §4.6",
			run: func(e *authzEnv, code string, _ pkce) *httptest.ResponseRecorder {
				return e.exchange(appPublic, code, newPKCE(), "https://evil.example/cb")
			},
			status: 400, body: bodyWrongRedirect, thenCode: consumed},
		{name: "missing redirect_uri", rfc: "RFC 6749 §4.1.3",
			run: func(e *authzEnv, code string, p pkce) *httptest.ResponseRecorder {
				return e.exchange(appPublic, code, p, "")
			},
			status: 400, body: bodyWrongRedirect, thenCode: consumed},
		{name: "reused code", rfc: "RFC 6749 §4.1.2, §10.5; RFC 9700 §4.5",
			run: func(e *authzEnv, code string, p pkce) *httptest.ResponseRecorder {
				e.exchangeOK(code, p)
				return e.exchange(appPublic, code, p, appPublicCB)
			},
			status: 400, body: bodyInvalidCode, thenCode: revoked},
		{name: "expired code", rfc: "RFC 6749 §4.1.2 (short lifetime); SMART App Launch 2.2",
			run: func(e *authzEnv, code string, p pkce) *httptest.ResponseRecorder {
				e.clock.Advance(authserver.DefaultCodeLifetime)
				return e.exchange(appPublic, code, p, appPublicCB)
			},
			status: 400, body: bodyInvalidCode, thenCode: dead},
		{name: "another client's code", rfc: "RFC 6749 §4.1.3 (code issued to the authenticated client)",
			run: func(e *authzEnv, code string, p pkce) *httptest.ResponseRecorder {
				return e.exchange(appOther, code, p, appPublicCB)
			},
			status: 400, body: bodyInvalidCode, thenCode: consumed},
		{name: "another client's code, confidential", rfc: "RFC 6749 §4.1.3",
			run: func(e *authzEnv, code string, p pkce) *httptest.ResponseRecorder {
				return e.exchange(appConf, code, p, appPublicCB)
			},
			status: 400, body: bodyInvalidCode, thenCode: consumed},
		{name: "unknown code", rfc: "RFC 6749 §5.2",
			run: func(e *authzEnv, _ string, p pkce) *httptest.ResponseRecorder {
				made, _ := tokenstore.NewRefreshToken(tokenstore.NewID())
				return e.exchange(appPublic, made, p, appPublicCB)
			},
			status: 400, body: bodyInvalidCode, thenCode: kept},
		{name: "code naming another grant", rfc: "RFC 6749 §5.2",
			run: func(e *authzEnv, code string, p pkce) *httptest.ResponseRecorder {
				return e.exchange(appPublic, code[:43]+".b3RoZXI", p, appPublicCB)
			},
			status: 400, body: bodyInvalidCode, thenCode: kept},
		{name: "client without redirect URI", rfc: "RFC 6749 §5.2 (unauthorized_client)",
			run: func(e *authzEnv, code string, p pkce) *httptest.ResponseRecorder {
				return e.exchange(appNoRedir, code, p, appPublicCB)
			},
			status: 400, body: `{"error":"unauthorized_client","error_description":"the client is not registered for the authorization code flow"}` + "\n", thenCode: kept},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Logf("%s: %d %s", tt.rfc, tt.status, tt.body)
			e := newAuthzEnv(t, nil)
			p := newPKCE()
			code := e.code(authzParams(p))
			rec := tt.run(e, code, p)
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, tt.body, rec.Body.String())
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))

			after := e.exchange(appPublic, code, p, appPublicCB)
			switch tt.thenCode {
			case dead:
				assert.Equal(t, bodyInvalidCode, after.Body.String())
			case kept:
				assert.Equal(t, http.StatusOK, after.Code, "the refusal consumed the code: %s", after.Body.String())
			case consumed:
				assert.Equal(t, bodyInvalidCode, after.Body.String())
				g, err := e.store.Grant(context.Background(), grantOfCode(code))
				require.NoError(t, err, "presenting a consumed code again leaves a revoked grant in its place")
				assert.True(t, g.Revoked)
			case revoked:
				g, err := e.store.Grant(context.Background(), grantOfCode(code))
				require.NoError(t, err)
				assert.True(t, g.Revoked, "the grant made from a reused code must be revoked")
			}
		})
	}
}

// TestCodeExchange: a standalone launch of a public client; the response
// carries what a refresh of the same grant carries, and the access token
// is accepted by the middleware.
func TestCodeExchange(t *testing.T) {
	e := newAuthzEnv(t, nil)
	e.picker = func(_ http.ResponseWriter, _ *http.Request, in *authserver.Interaction) (authserver.PatientSelection, bool, error) {
		assert.True(t, in.NeedPatient)
		assert.False(t, in.NeedEncounter)
		assert.Equal(t, authzUser.Subject, in.User.Subject)
		assert.Equal(t, authzUser.FHIRUser, in.User.FHIRUser)
		assert.True(t, testStart.Equal(in.User.AuthTime), "AuthTime defaults to the time of sign-in")
		return authserver.PatientSelection{Patient: "pat-123"}, true, nil
	}
	p := newPKCE()
	code := e.code(authzParams(p))
	resp := e.exchangeOK(code, p)

	assert.Equal(t, "Bearer", resp.TokenType)
	assert.Equal(t, int64(3600), resp.ExpiresIn)
	assert.Equal(t, "openid fhirUser launch/patient patient/*.rs offline_access", resp.Scope)
	assert.Equal(t, "pat-123", resp.Patient)
	assert.NotEmpty(t, resp.RefreshToken)
	assert.Equal(t, grantOfCode(code), tokenstore.ParseRefreshToken(resp.RefreshToken).GrantID)

	at := jwtPart(t, resp.AccessToken, 1)
	assert.Equal(t, grantOfCode(code), at["grant_id"])
	assert.Equal(t, "pat-123", at["patient"])
	assert.Equal(t, "user-1", at["sub"])
	assert.Equal(t, appPublic, at["client_id"])

	id := jwtPart(t, resp.IDToken, 1)
	assert.Equal(t, map[string]any{
		"iss": testIssuer, "sub": "user-1", "aud": appPublic, "fhirUser": "Practitioner/77",
		"nonce": "nonce-42", "auth_time": float64(testStart.Unix()),
		"iat": float64(testStart.Unix()), "exp": float64(testStart.Add(time.Hour).Unix()),
	}, id)

	g, err := e.store.Grant(context.Background(), grantOfCode(code))
	require.NoError(t, err)
	assert.Equal(t, tokenstore.KindOffline, g.Kind)

	// The refresh answers with the same fields (no nonce, no auth_time:
	// OpenID Connect Core §12.2).
	rr := e.refreshPublic(resp.RefreshToken)
	assert.Equal(t, resp.Scope, rr.Scope)
	assert.Equal(t, resp.Launch, rr.Launch)
	rid := jwtPart(t, rr.IDToken, 1)
	delete(id, "nonce")
	delete(id, "auth_time")
	assert.Equal(t, id, rid)

	// The middleware accepts the access token.
	v, err := e.keys.AccessTokenVerifier(middleware.JWTConfig{Issuers: []string{testIssuer}, Audience: testAudience, Now: e.clock.Now})
	require.NoError(t, err)
	lc, err := v.VerifyToken(context.Background(), resp.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "pat-123", lc.Patient)
	assert.Equal(t, grantOfCode(code), lc.GrantID)
}

// refreshPublic refreshes a token of appPublic and returns the response.
func (e *authzEnv) refreshPublic(rt string) authserver.TokenResponse {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, tokenEndpoint,
		strings.NewReader(refreshForm(rt, "client_id", appPublic)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	e.tokens.ServeHTTP(rec, req)
	require.Equal(e.t, http.StatusOK, rec.Code, rec.Body.String())
	return decodeTokenResponse(e.t, rec)
}

// TestCodeExchangeRefreshToken: a refresh token only with offline_access
// or online_access (SMART: permission-offline, permission-online).
func TestCodeExchangeRefreshToken(t *testing.T) {
	tests := []struct {
		scope   string
		refresh bool
		kind    tokenstore.Kind
	}{
		{"openid fhirUser patient/*.rs offline_access", true, tokenstore.KindOffline},
		{"openid fhirUser patient/*.rs online_access", true, tokenstore.KindOnline},
		{"openid fhirUser patient/*.rs", false, tokenstore.KindOnline},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			e := newAuthzEnv(t, nil)
			p := newPKCE()
			resp := e.exchangeOK(e.code(authzParams(p, "scope", tt.scope)), p)
			assert.Equal(t, tt.scope, resp.Scope)
			assert.Equal(t, tt.refresh, resp.RefreshToken != "")
			g, err := e.store.Grant(context.Background(), jwtPart(t, resp.AccessToken, 1)["grant_id"].(string))
			require.NoError(t, err, "the grant exists even without a refresh token, for revocation")
			assert.Equal(t, tt.kind, g.Kind)
		})
	}
}

// TestCodeExchangeConfidential: a confidential client, a registered
// redirect URI with a query kept, and the authorization request made
// with POST.
func TestCodeExchangeConfidential(t *testing.T) {
	e := newAuthzEnv(t, nil)
	p := newPKCE()
	params := authzParams(p, "client_id", appConf, "redirect_uri", appConfCB1, "scope", "openid fhirUser user/*.rs online_access")
	q := redirected(t, e.post(params), appConfCB1)
	rec := e.exchange(appConf, q.Get("code"), p, appConfCB1)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	resp := decodeTokenResponse(t, rec)
	assert.Equal(t, "openid fhirUser user/*.rs online_access", resp.Scope)
	assert.Empty(t, resp.Patient)

	// Without authentication, the confidential client is refused before
	// the code is looked at.
	code := redirected(t, e.get(params), appConfCB1).Get("code")
	unauth := e.exchange(appPublic, code, p, appConfCB1, "client_id", appConf)
	assert.Equal(t, http.StatusUnauthorized, unauth.Code)
	assert.Equal(t, http.StatusOK, e.exchange(appConf, code, p, appConfCB1).Code)
}

// TestCodeExchangeOmittedRedirectURI: a client with one redirect URI may
// omit it (RFC 6749 §3.1.2.3); the token request then may omit it too, or
// name the registered one. Any other is refused, and consumes the code.
func TestCodeExchangeOmittedRedirectURI(t *testing.T) {
	e := newAuthzEnv(t, nil)
	p := newPKCE()
	params := authzParams(p, "redirect_uri", "")
	q := redirected(t, e.get(params), appPublicCB)
	assert.Equal(t, http.StatusOK, e.exchange(appPublic, q.Get("code"), p, "").Code)

	q = redirected(t, e.get(params), appPublicCB)
	assert.Equal(t, http.StatusOK, e.exchange(appPublic, q.Get("code"), p, appPublicCB).Code)

	q = redirected(t, e.get(params), appPublicCB)
	assert.Equal(t, bodyWrongRedirect, e.exchange(appPublic, q.Get("code"), p, appOtherCB).Body.String())
	assert.Equal(t, bodyInvalidCode, e.exchange(appPublic, q.Get("code"), p, appPublicCB).Body.String(), "the refusal consumed the code")
}

// TestEHRLaunch: the context the EHR registered reaches the token
// response, and the access token, when the launch scope is granted.
func TestEHRLaunch(t *testing.T) {
	banner := false
	context := authserver.Launch{
		Patient: "pat-123", Encounter: "enc-456",
		FHIRContext:       []middleware.FHIRContextItem{{Reference: "DiagnosticReport/dr-1"}},
		NeedPatientBanner: &banner, SmartStyleURL: "https://ehr.example.org/style.json",
		Intent: "reconcile-medications", Tenant: "hospital-a",
	}
	e := newAuthzEnv(t, nil)
	e.picker = func(http.ResponseWriter, *http.Request, *authserver.Interaction) (authserver.PatientSelection, bool, error) {
		t.Error("the picker must not be asked: the EHR gave the patient")
		return authserver.PatientSelection{}, true, nil
	}
	var seen *authserver.Interaction
	e.consent = func(_ http.ResponseWriter, _ *http.Request, in *authserver.Interaction) (string, bool, error) {
		cp := *in
		seen = &cp
		return in.Scope, true, nil
	}
	launch := e.launch(authserver.EHRLaunch{ClientID: appPublic, Subject: authzUser.Subject, Context: context})
	p := newPKCE()
	resp := e.exchangeOK(e.code(authzParams(p, "scope", "launch launch/patient openid fhirUser patient/*.rs", "launch", launch)), p)
	assert.Equal(t, context, resp.Launch)
	assert.Equal(t, "launch launch/patient openid fhirUser patient/*.rs", resp.Scope)
	require.NotNil(t, seen)
	assert.True(t, seen.EHRLaunch)
	assert.Equal(t, context, seen.Launch)

	raw, err := json.Marshal(resp)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"need_patient_banner":false`)
	assert.Contains(t, string(raw), `"fhirContext":[{"reference":"DiagnosticReport/dr-1"}]`)

	// Consent that refuses the launch scope refuses the context with it.
	launch = e.launch(authserver.EHRLaunch{Context: context})
	e.consent = func(http.ResponseWriter, *http.Request, *authserver.Interaction) (string, bool, error) {
		return "openid patient/*.rs", true, nil
	}
	p = newPKCE()
	resp = e.exchangeOK(e.code(authzParams(p, "scope", "launch openid patient/*.rs", "launch", launch)), p)
	assert.Equal(t, authserver.Launch{}, resp.Launch)
	assert.Equal(t, "openid patient/*.rs", resp.Scope)
}

// TestConsentNarrowsScope: the granted scope is what consent allows, by
// meaning, and launch context scopes without their context are dropped.
func TestConsentNarrowsScope(t *testing.T) {
	tests := []struct {
		name, requested, granted, want string
		picker                         bool
	}{
		{"narrower by meaning", "openid patient/*.rs launch/patient offline_access", "patient/Observation.rs launch/patient", "patient/Observation.rs launch/patient", true},
		{"no picker: launch/patient dropped", "openid patient/*.rs launch/patient", "openid patient/*.rs launch/patient", "openid patient/*.rs", false},
		{"no encounter picked: launch/encounter dropped", "patient/*.rs launch/patient launch/encounter", "patient/*.rs launch/patient launch/encounter", "patient/*.rs launch/patient", true},
		{"duplicates collapse", "patient/*.rs patient/*.rs launch/patient", "launch/patient patient/*.rs launch/patient", "launch/patient patient/*.rs", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAuthzEnv(t, func(c *authserver.AuthorizationConfig) {
				if !tt.picker {
					c.Patients = nil
				}
			})
			e.picker = func(http.ResponseWriter, *http.Request, *authserver.Interaction) (authserver.PatientSelection, bool, error) {
				return authserver.PatientSelection{Patient: "pat-9"}, true, nil
			}
			e.consent = func(http.ResponseWriter, *http.Request, *authserver.Interaction) (string, bool, error) {
				return tt.granted, true, nil
			}
			p := newPKCE()
			resp := e.exchangeOK(e.code(authzParams(p, "scope", tt.requested)), p)
			assert.Equal(t, tt.want, resp.Scope)
		})
	}
}

// TestCodeReuseRevokesTokens: the second presentation of a code revokes
// the grant, so the refresh token and (for the middleware's revocation
// check) the access token issued from the first are dead.
func TestCodeReuseRevokesTokens(t *testing.T) {
	e := newAuthzEnv(t, nil)
	p := newPKCE()
	code := e.code(authzParams(p))
	resp := e.exchangeOK(code, p)
	assert.Equal(t, bodyInvalidCode, e.exchange(appPublic, code, p, appPublicCB).Body.String())
	assert.Contains(t, e.audit.kinds(), authserver.AuditCodeReused)

	req := httptest.NewRequest(http.MethodPost, tokenEndpoint, strings.NewReader(refreshForm(resp.RefreshToken, "client_id", appPublic)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	e.tokens.ServeHTTP(rec, req)
	assert.Equal(t, bodyInvalidGrant, rec.Body.String())
	requireAccessTokenRefused(t, e, resp.AccessToken)
}

// requireAccessTokenRefused requires the middleware, with its revocation
// check on e's store, to refuse the access token.
func requireAccessTokenRefused(t testing.TB, e *authzEnv, accessToken string) {
	t.Helper()
	v, err := e.keys.AccessTokenVerifier(middleware.JWTConfig{Issuers: []string{testIssuer}, Audience: testAudience, Now: e.clock.Now})
	require.NoError(t, err)
	h := middleware.Authenticate(v, middleware.WithRevocationCheck(e.store, time.Minute), middleware.WithRevocationClock(e.clock.Now))(
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	req := httptest.NewRequest(http.MethodGet, testAudience+"/Patient/pat-123", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "the access token of a revoked grant was accepted")
}

// TestConcurrentCodeExchange: 50 concurrent exchanges of one code.
// Exactly one redeems it and gets the tokens: the store redeems the code
// and creates the grant in one atomic operation. The other 49 are reuse
// (RFC 6749 §4.1.2: the code was used twice), so the grant ends revoked
// and the tokens of the one success are refused: its access token by a
// resource server with the revocation check, its refresh token by the
// token endpoint.
func TestConcurrentCodeExchange(t *testing.T) {
	e := newAuthzEnv(t, nil)
	p := newPKCE()
	code := e.code(authzParams(p))
	requireOneRedemption(t, e, exchangeAtOnce(e, code, p), code)
}

// codePresenters is how many requests present one code at once.
const codePresenters = 50

// exchangeAtOnce presents code codePresenters times at once.
func exchangeAtOnce(e *authzEnv, code string, p pkce) []*httptest.ResponseRecorder {
	recs := make([]*httptest.ResponseRecorder, codePresenters)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range codePresenters {
		wg.Go(func() {
			<-start
			recs[i] = e.exchange(appPublic, code, p, appPublicCB)
		})
	}
	close(start)
	wg.Wait()
	return recs
}

// requireOneRedemption checks the outcome of exchangeAtOnce (see
// TestConcurrentCodeExchange).
func requireOneRedemption(t *testing.T, e *authzEnv, recs []*httptest.ResponseRecorder, code string) {
	t.Helper()
	var ok []authserver.TokenResponse
	for _, rec := range recs {
		if rec.Code == http.StatusOK {
			ok = append(ok, decodeTokenResponse(t, rec))
			continue
		}
		assert.Equal(t, http.StatusBadRequest, rec.Code)
		assert.Equal(t, bodyInvalidCode, rec.Body.String())
	}
	exchanged, reused := 0, 0
	for _, ev := range e.audit.events {
		switch ev.Kind {
		case authserver.AuditCodeExchanged:
			exchanged++
		case authserver.AuditCodeReused:
			reused++
		}
	}
	t.Logf("%d of %d exchanges answered 200", len(ok), codePresenters)
	require.Len(t, ok, 1, "exactly one exchange gets tokens")
	assert.Equal(t, 1, exchanged)
	assert.Equal(t, codePresenters-1, reused)
	g, err := e.store.Grant(context.Background(), grantOfCode(code))
	require.NoError(t, err)
	assert.True(t, g.Revoked, "the grant of a code used twice is revoked")

	resp := ok[0]
	assert.Equal(t, grantOfCode(code), jwtPart(t, resp.AccessToken, 1)["grant_id"])
	require.NotEmpty(t, resp.RefreshToken)
	requireAccessTokenRefused(t, e, resp.AccessToken)
	req := httptest.NewRequest(http.MethodPost, tokenEndpoint, strings.NewReader(refreshForm(resp.RefreshToken, "client_id", appPublic)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	e.tokens.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Equal(t, bodyInvalidGrant, rec.Body.String())
}
