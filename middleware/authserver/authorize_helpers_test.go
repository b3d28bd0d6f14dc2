package authserver_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

// The endpoint, clients and redirect URIs of the authorization tests.
const (
	authzEndpoint = "https://auth.example.org/authorize"
	tokenEndpoint = "https://auth.example.org/token"

	appPublic   = "app-public" // none, one redirect URI
	appPublicCB = "https://app.example.com/callback"
	appConf     = "app-conf" // client_secret_basic, two redirect URIs
	appConfSec  = "secret-of-app-conf-0123456789"
	appConfCB1  = "https://conf.example.com/cb?tenant=7" // a registered query is kept
	appConfCB2  = "https://conf.example.com/other"
	appOther    = "app-other" // none, its own redirect URI
	appOtherCB  = "https://other.example.com/cb"
	appNoRedir  = "app-noredirect" // none, no redirect URI
)

// authzUser is the user the test Login signs in.
var authzUser = authserver.User{Subject: "user-1", FHIRUser: "Practitioner/77"}

// authzEnv is an authorization endpoint and a token endpoint with the
// authorization_code grant, over one memory store, with scripted steps.
type authzEnv struct {
	t      testing.TB
	clock  *clock
	store  *tokenstore.MemoryStore
	keys   *authserver.KeySet
	audit  *auditLog
	authz  *authserver.AuthorizationHandler
	tokens *authserver.TokenHandler
	jar    *cookiejar.Jar

	// The steps: each nil field answers at once (the user authzUser, no
	// patient, every requested scope).
	login   authserver.LoginFunc
	picker  authserver.PatientPickerFunc
	consent authserver.ConsentFunc
}

// newAuthzEnv returns an environment; mod, if not nil, adjusts the
// authorization endpoint's config (its step fields are set before).
func newAuthzEnv(t testing.TB, mod func(*authserver.AuthorizationConfig)) *authzEnv {
	t.Helper()
	e := &authzEnv{t: t, clock: &clock{t: testStart}, audit: &auditLog{}}
	e.store = tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	ks, err := authserver.NewKeySet(testKey(t, "ES256"), authserver.WithKeySetClock(e.clock.Now))
	require.NoError(t, err)
	e.keys = ks
	clients, err := authserver.NewStaticClients(
		authserver.Client{ID: appPublic, AuthMethod: authserver.AuthNone, RedirectURIs: []string{appPublicCB}},
		authserver.Client{ID: appConf, AuthMethod: authserver.AuthClientSecretBasic, SecretHash: authserver.HashSecret(appConfSec),
			RedirectURIs: []string{appConfCB1, appConfCB2}},
		authserver.Client{ID: appOther, AuthMethod: authserver.AuthNone, RedirectURIs: []string{appOtherCB}},
		authserver.Client{ID: appNoRedir, AuthMethod: authserver.AuthNone},
	)
	require.NoError(t, err)
	auth, err := authserver.NewClientAuthenticator(authserver.ClientAuthConfig{
		Clients: clients, TokenEndpoint: tokenEndpoint, Replay: e.store, Now: e.clock.Now,
	})
	require.NoError(t, err)
	e.tokens, err = authserver.NewTokenHandler(authserver.TokenConfig{
		Issuer: testIssuer, Audience: testAudience, Store: e.store, Clients: auth, Keys: ks,
		Grants: []authserver.GrantHandler{authserver.NewCodeGrant(e.store)},
		Audit:  e.audit.record, Logger: slog.New(slog.DiscardHandler), Now: e.clock.Now,
	})
	require.NoError(t, err)
	cfg := authserver.AuthorizationConfig{
		Endpoint: authzEndpoint, Issuer: testIssuer, Audience: testAudience,
		Clients: clients, Store: e.store,
		Login: authserver.LoginFunc(func(w http.ResponseWriter, r *http.Request, in *authserver.Interaction) (authserver.User, bool, error) {
			if e.login != nil {
				return e.login(w, r, in)
			}
			return authzUser, true, nil
		}),
		Patients: authserver.PatientPickerFunc(func(w http.ResponseWriter, r *http.Request, in *authserver.Interaction) (authserver.PatientSelection, bool, error) {
			if e.picker != nil {
				return e.picker(w, r, in)
			}
			return authserver.PatientSelection{}, true, nil
		}),
		Consent: authserver.ConsentFunc(func(w http.ResponseWriter, r *http.Request, in *authserver.Interaction) (string, bool, error) {
			if e.consent != nil {
				return e.consent(w, r, in)
			}
			return in.Scope, true, nil
		}),
		Audit: e.audit.record, Logger: slog.New(slog.DiscardHandler), Now: e.clock.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	e.authz, err = authserver.NewAuthorizationHandler(cfg)
	require.NoError(t, err)
	e.jar, err = cookiejar.New(nil)
	require.NoError(t, err)
	return e
}

// pkce is a code verifier and its S256 challenge.
type pkce struct{ verifier, challenge string }

func newPKCE() pkce {
	var b [32]byte
	_, _ = rand.Read(b[:])
	v := base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(v))
	return pkce{verifier: v, challenge: base64.RawURLEncoding.EncodeToString(sum[:])}
}

// authzParams returns a valid standalone request of appPublic with p's
// challenge; pairs (name, value) override parameters, and a value of ""
// removes one.
func authzParams(p pkce, pairs ...string) url.Values {
	v := url.Values{
		"response_type":         {"code"},
		"client_id":             {appPublic},
		"redirect_uri":          {appPublicCB},
		"scope":                 {"openid fhirUser launch/patient patient/*.rs offline_access"},
		"state":                 {"state-0123456789abcdef"},
		"aud":                   {testAudience},
		"code_challenge":        {p.challenge},
		"code_challenge_method": {"S256"},
		"nonce":                 {"nonce-42"},
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			v.Del(pairs[i])
		} else {
			v.Set(pairs[i], pairs[i+1])
		}
	}
	return v
}

// do serves req with the browser's cookies, and keeps those it sets.
func (e *authzEnv) do(req *http.Request) *httptest.ResponseRecorder {
	e.t.Helper()
	u, _ := url.Parse(authzEndpoint)
	for _, c := range e.jar.Cookies(u) {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	e.authz.ServeHTTP(rec, req)
	e.jar.SetCookies(u, rec.Result().Cookies())
	return rec
}

// get sends an authorization request with GET.
func (e *authzEnv) get(params url.Values) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.do(httptest.NewRequest(http.MethodGet, authzEndpoint+"?"+params.Encode(), nil))
}

// post posts a form to the authorization endpoint.
func (e *authzEnv) post(form url.Values, opts ...func(*http.Request)) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, authzEndpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, o := range opts {
		o(req)
	}
	return e.do(req)
}

// redirected requires a 303 to the redirect URI uri and returns the
// parameters of the answer.
func redirected(t testing.TB, rec *httptest.ResponseRecorder, uri string) url.Values {
	t.Helper()
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	loc, err := url.Parse(rec.Header().Get("Location"))
	require.NoError(t, err)
	base := *loc
	base.RawQuery = ""
	want, err := url.Parse(uri)
	require.NoError(t, err)
	wantQuery := want.Query()
	want.RawQuery = ""
	require.Equal(t, want.String(), base.String(), "redirected elsewhere than the registered URI")
	q := loc.Query()
	for k, v := range wantQuery { // the registered query is kept
		require.Equal(t, v, q[k])
		q.Del(k)
	}
	require.Equal(t, testIssuer, q.Get("iss"))
	return q
}

// code runs an authorization that the steps answer at once and returns
// the code.
func (e *authzEnv) code(params url.Values) string {
	e.t.Helper()
	q := redirected(e.t, e.get(params), params.Get("redirect_uri"))
	require.Empty(e.t, q.Get("error"), q.Get("error_description"))
	require.Equal(e.t, params.Get("state"), q.Get("state"))
	require.NotEmpty(e.t, q.Get("code"))
	return q.Get("code")
}

// exchange posts an authorization_code token request; pairs (name, value)
// override the form, "" removes a parameter; appConf authenticates with
// Basic, other clients with client_id.
func (e *authzEnv) exchange(client, code string, p pkce, redirectURI string, pairs ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {p.verifier}, "redirect_uri": {redirectURI}}
	var opts []func(*http.Request)
	if client == appConf {
		opts = append(opts, basic(appConf, appConfSec))
	} else {
		form.Set("client_id", client)
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			form.Del(pairs[i])
		} else {
			form.Set(pairs[i], pairs[i+1])
		}
	}
	req := httptest.NewRequest(http.MethodPost, tokenEndpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, o := range opts {
		o(req)
	}
	rec := httptest.NewRecorder()
	e.tokens.ServeHTTP(rec, req)
	return rec
}

// exchangeOK exchanges a code of appPublic and returns the response.
func (e *authzEnv) exchangeOK(code string, p pkce) authserver.TokenResponse {
	e.t.Helper()
	rec := e.exchange(appPublic, code, p, appPublicCB)
	require.Equal(e.t, http.StatusOK, rec.Code, rec.Body.String())
	return decodeTokenResponse(e.t, rec)
}

// hiddenField matches the interaction field of a step page.
var hiddenField = regexp.MustCompile(`name="` + authserver.InteractionField + `" value="([^"]*)"`)

// fieldOf returns the interaction field value of a step's page.
func fieldOf(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	m := hiddenField.FindStringSubmatch(rec.Body.String())
	require.NotNil(t, m, "no interaction field in the page: %s", rec.Body.String())
	return html.UnescapeString(m[1])
}

// stepPage writes a minimal page of a step, as a host would.
func stepPage(w http.ResponseWriter, in *authserver.Interaction, title string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(`<form method="post" action="` + html.EscapeString(in.FormAction()) + `"><h1>` + title + `</h1>` +
		string(in.HiddenFields()) + `</form>`))
}

// launch registers an EHR launch and returns its value.
func (e *authzEnv) launch(l authserver.EHRLaunch) string {
	e.t.Helper()
	v, err := e.authz.CreateLaunch(context.Background(), l)
	require.NoError(e.t, err)
	return v
}
