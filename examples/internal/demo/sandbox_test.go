package demo

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/smartauth/smartauth/middleware/authserver"
)

// sandboxServers is the demo and its sample app, each on a loopback port
// of its own (two origins).
type sandboxServers struct {
	srv             *Server
	baseURL, appURL string
}

// startSandbox runs the demo with the default configuration (edited by
// edit, if not nil) and the sample app, over real sockets.
func startSandbox(t *testing.T, edit func(*Config)) sandboxServers {
	t.Helper()
	cfg, err := LoadConfig("../../../testdata/demo-config.json")
	require.NoError(t, err)
	if edit != nil {
		edit(cfg)
	}
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		return ln
	}
	ln, appLn := listen(), listen()
	s := sandboxServers{baseURL: "http://" + ln.Addr().String(), appURL: "http://" + appLn.Addr().String()}
	s.srv, err = New(context.Background(), Options{
		BaseURL: s.baseURL, AppURL: s.appURL, Config: cfg, Data: os.DirFS("../../../testdata/fhir"),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	for _, x := range []struct {
		ln net.Listener
		h  http.Handler
	}{{ln, s.srv.Handler}, {appLn, s.srv.AppHandler}} {
		hs := &http.Server{Handler: x.h}
		go func() { _ = hs.Serve(x.ln) }()
		t.Cleanup(func() { _ = hs.Close() })
	}
	return s
}

// formBrowser is an HTTP client with a cookie jar that fills in the
// sandbox's pages as a user would, and stops at the app's redirect URI.
type formBrowser struct {
	t      *testing.T
	client *http.Client
}

func newFormBrowser(t *testing.T, appURL string) formBrowser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	app, err := url.Parse(appURL)
	require.NoError(t, err)
	return formBrowser{t: t, client: &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host == app.Host {
			return http.ErrUseLastResponse // the app's redirect URI: the test reads the code
		}
		return nil
	}}}
}

// page is a sandbox page: its form's action and interaction field.
type page struct {
	body, action, field string
}

var (
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	hiddenField = regexp.MustCompile(`name="` + authserver.InteractionField + `" value="([^"]*)"`)
	checkboxes  = regexp.MustCompile(`type="checkbox" name="scope" value="([^"]*)" checked`)
)

// read returns the page of a 200 response.
func (b formBrowser) read(resp *http.Response) page {
	b.t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	require.Equal(b.t, http.StatusOK, resp.StatusCode, string(body))
	p := page{body: string(body)}
	if m := formAction.FindStringSubmatch(p.body); m != nil {
		p.action = html.UnescapeString(m[1])
	}
	if m := hiddenField.FindStringSubmatch(p.body); m != nil {
		p.field = html.UnescapeString(m[1])
	}
	return p
}

// submit posts the page's form with the fields.
func (b formBrowser) submit(p page, fields url.Values) *http.Response {
	b.t.Helper()
	require.NotEmpty(b.t, p.field, "not a step page: %s", p.body)
	form := url.Values{authserver.InteractionField: {p.field}}
	for k, v := range fields {
		form[k] = v
	}
	resp, err := b.client.PostForm(p.action, form)
	require.NoError(b.t, err)
	return resp
}

// authorize goes through sign-in, patient picker and consent (granting
// every scope) from authURL, and returns the parameters the app receives.
func (b formBrowser) authorize(authURL, user, patient string) url.Values {
	b.t.Helper()
	resp, err := b.client.Get(authURL)
	require.NoError(b.t, err)
	login := b.read(resp)
	require.Contains(b.t, login.body, "<h1>Sign in</h1>")
	picker := b.read(b.submit(login, url.Values{"user": {user}, "action": {"sign-in"}}))
	require.Contains(b.t, picker.body, "<h1>Choose a patient</h1>")
	consent := b.read(b.submit(picker, url.Values{"choice": {patient}, "action": {"pick"}}))
	require.Contains(b.t, consent.body, "Allow")
	var scopes []string
	for _, m := range checkboxes.FindAllStringSubmatch(consent.body, -1) {
		scopes = append(scopes, html.UnescapeString(m[1]))
	}
	resp = b.submit(consent, url.Values{"scope": scopes, "action": {"allow"}})
	defer resp.Body.Close()
	require.Equal(b.t, http.StatusSeeOther, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(b.t, err)
	return loc.Query()
}

// TestOAuth2ClientStandaloneLaunch: an independent client,
// golang.org/x/oauth2 (AuthCodeURL and Exchange with PKCE S256), does the
// standalone launch, with an HTTP client that posts the sandbox's sign-in,
// patient-picker and consent forms — as the public sample app and as a
// confidential client.
func TestOAuth2ClientStandaloneLaunch(t *testing.T) {
	const confidentialRedirect = "http://localhost:3000/callback"
	s := startSandbox(t, func(c *Config) {
		for i := range c.Clients {
			if c.Clients[i].ClientID == "my-app" {
				c.Clients[i].RedirectURIs = []string{confidentialRedirect}
			}
		}
	})
	tests := []struct {
		name string
		conf *oauth2.Config
	}{
		{"public sample app", &oauth2.Config{ClientID: SampleAppClientID, RedirectURL: s.srv.AppURL,
			Endpoint: oauth2.Endpoint{AuthURL: s.srv.AuthorizationURL, TokenURL: s.srv.TokenURL, AuthStyle: oauth2.AuthStyleInParams}}},
		{"confidential my-app", &oauth2.Config{ClientID: "my-app", ClientSecret: "my-app-secret-123", RedirectURL: confidentialRedirect,
			Endpoint: oauth2.Endpoint{AuthURL: s.srv.AuthorizationURL, TokenURL: s.srv.TokenURL, AuthStyle: oauth2.AuthStyleInHeader}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			tt.conf.Scopes = []string{"openid", "fhirUser", "launch/patient", "patient/*.rs", "offline_access"}
			verifier := oauth2.GenerateVerifier()
			authURL := tt.conf.AuthCodeURL("state-of-the-test-0123456789", oauth2.S256ChallengeOption(verifier),
				oauth2.SetAuthURLParam("aud", s.srv.FHIRBaseURL), oauth2.SetAuthURLParam("nonce", "n-1"))
			b := newFormBrowser(t, tt.conf.RedirectURL)
			q := b.authorize(authURL, "practitioner-SMART-1234", seedPatient)
			require.Empty(t, q.Get("error"), q.Get("error_description"))
			assert.Equal(t, "state-of-the-test-0123456789", q.Get("state"))
			assert.Equal(t, s.baseURL, q.Get("iss"))

			tok, err := tt.conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			require.NoError(t, err)
			assert.Equal(t, seedPatient, tok.Extra("patient"))
			assert.Equal(t, "openid fhirUser launch/patient patient/*.rs offline_access", tok.Extra("scope"))
			assert.NotEmpty(t, tok.RefreshToken)
			assert.NotEmpty(t, tok.Extra("id_token"))

			resp, err := tt.conf.Client(ctx, tok).Get(s.srv.FHIRBaseURL + "/Patient/" + seedPatient)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			assert.Contains(t, string(body), `"family": "Ebert"`)

			// A refresh through the oauth2 token source.
			expired := *tok
			expired.Expiry = time.Now().Add(-time.Hour)
			next, err := tt.conf.TokenSource(ctx, &expired).Token()
			require.NoError(t, err)
			assert.NotEqual(t, tok.AccessToken, next.AccessToken)
			assert.Equal(t, seedPatient, next.Extra("patient"))

			// The code is single-use: presenting it again revokes the
			// grant, so the refreshed tokens die with it.
			_, err = tt.conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			var re *oauth2.RetrieveError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "invalid_grant", re.ErrorCode)
			next.Expiry = time.Now().Add(-time.Hour)
			_, err = tt.conf.TokenSource(ctx, next).Token()
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "invalid_grant", re.ErrorCode)
		})
	}
}

// TestSandboxDiscovery: the discovery document advertises the
// authorization endpoint and exactly what the sandbox implements.
func TestSandboxDiscovery(t *testing.T) {
	s := startSandbox(t, nil)
	resp, err := http.Get(s.srv.DiscoveryURL)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	doc := string(body)
	for _, want := range []string{
		`"authorization_endpoint":"` + s.baseURL + `/auth/authorize"`,
		`"grant_types_supported":["authorization_code","refresh_token"]`,
		`"code_challenge_methods_supported":["S256"]`,
		`"launch-ehr","launch-standalone","authorize-post","context-ehr-patient","context-ehr-encounter","context-banner","context-style","context-standalone-patient","context-standalone-encounter","sso-openid-connect"]`,
		`"authorization_response_iss_parameter_supported":true`,
	} {
		assert.Contains(t, doc, want)
	}
	assert.False(t, strings.Contains(doc, "plain"))

	resp, err = http.Get(s.baseURL + "/.well-known/openid-configuration")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}
