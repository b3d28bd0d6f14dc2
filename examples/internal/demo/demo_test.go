package demo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	seedPatient   = "783a1f02-5bf9-41c9-90d0-c2c4d35d3ec3"
	seedEncounter = "41e27bbf-e5c2-4261-9f67-ca4676273959"
	otherPatient  = "5c41cecf-cf81-434f-9da7-e24e5a99dbc2"
	// seedBasic is the Authorization header of the seed exchange
	// (my-app:my-app-secret-123).
	seedBasic = "Basic bXktYXBwOm15LWFwcC1zZWNyZXQtMTIz"
)

// startDemo runs the demo server's handler in-process with the
// configuration and data of testdata/.
func startDemo(t *testing.T) (*Server, *testClock, *Config) {
	t.Helper()
	return startDemoWith(t, nil)
}

// startDemoWith is startDemo with the configuration edited by edit first.
func startDemoWith(t *testing.T, edit func(*Config)) (*Server, *testClock, *Config) {
	t.Helper()
	return startDemoOpts(t, edit, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// startDemoOpts is startDemoWith with the Options o (BaseURL, Config, Data
// and Now are set here).
func startDemoOpts(t *testing.T, edit func(*Config), o Options) (*Server, *testClock, *Config) {
	t.Helper()
	clock := &testClock{}
	cfg, err := LoadConfig(testdataDir + "/demo-config.json")
	require.NoError(t, err)
	if edit != nil {
		edit(cfg)
	}
	// The handler is set before the server starts: requests from other
	// processes (curl) would otherwise race with setting it.
	ts := httptest.NewUnstartedServer(nil)
	t.Cleanup(ts.Close)
	o.BaseURL, o.Config, o.Data, o.Now = "http://"+ts.Listener.Addr().String(), cfg, os.DirFS(testdataDir+"/fhir"), clock.now
	srv, err := New(context.Background(), o)
	require.NoError(t, err)
	ts.Config.Handler = srv.Handler
	ts.Start()
	return srv, clock, cfg
}

// testClock is the real clock plus an offset the test can advance.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

func postForm(t *testing.T, target, authorization string, form url.Values) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	if len(body) > 0 {
		require.NoError(t, json.Unmarshal(body, &m), string(body))
	}
	return resp, m
}

func get(t *testing.T, target, accessToken string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	require.NoError(t, err)
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// TestDemoStory runs the whole story against the demo: refresh → read →
// forbidden read → revoke → failed refresh → introspection says inactive.
func TestDemoStory(t *testing.T) {
	srv, clock, cfg := startDemo(t)
	seedToken := cfg.Grants[0].RefreshToken

	// 1. The seed's refresh exchange: Basic auth, form body.
	resp, tok := postForm(t, srv.TokenURL, seedBasic, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {seedToken},
	})
	require.Equal(t, http.StatusOK, resp.StatusCode, tok)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Equal(t, "no-cache", resp.Header.Get("Pragma"))
	for _, k := range []string{"access_token", "token_type", "expires_in", "scope", "refresh_token", "id_token",
		"patient", "encounter", "need_patient_banner", "smart_style_url"} {
		assert.Contains(t, tok, k)
	}
	assert.Equal(t, "Bearer", tok["token_type"])
	assert.Equal(t, float64(3600), tok["expires_in"])
	assert.Equal(t, seedPatient, tok["patient"])
	assert.Equal(t, seedEncounter, tok["encounter"])
	assert.Equal(t, true, tok["need_patient_banner"])
	assert.Equal(t, "https://launch.smarthealthit.org/smart-style.json", tok["smart_style_url"])
	assert.Equal(t, cfg.Grants[0].Scope, tok["scope"])
	rt1 := tok["refresh_token"].(string)
	assert.NotEqual(t, seedToken, rt1)
	at := tok["access_token"].(string)

	// 2. Read the patient in context.
	resp, body := get(t, srv.FHIRBaseURL+"/Patient/"+seedPatient, at)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, "application/fhir+json", resp.Header.Get("Content-Type"))
	assert.Contains(t, body, `"id": "`+seedPatient+`"`)

	// 3. Narrow the grant to patient/ scopes and read another patient's
	// data: forbidden.
	resp, tok = postForm(t, srv.TokenURL, seedBasic, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt1}, "scope": {"launch/patient patient/*.*"},
	})
	require.Equal(t, http.StatusOK, resp.StatusCode, tok)
	assert.Equal(t, "launch/patient patient/*.*", tok["scope"])
	rt2 := tok["refresh_token"].(string)
	narrow := tok["access_token"].(string)
	resp, body = get(t, srv.FHIRBaseURL+"/Observation/obs-other-patient-1", narrow)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	assert.Equal(t, `Bearer realm="smartauth", error="insufficient_scope", error_description="The data involved is not permitted by the granted scopes"`,
		resp.Header.Get("WWW-Authenticate"))
	resp, body = get(t, srv.FHIRBaseURL+"/Patient/"+otherPatient, narrow)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	resp, body = get(t, srv.FHIRBaseURL+"/Observation/obs-heart-rate-1", narrow)
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, body = get(t, srv.FHIRBaseURL+"/Observation?patient="+otherPatient, narrow)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	resp, body = get(t, srv.FHIRBaseURL+"/Observation", narrow)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Contains(t, body, `"total":3`) // obs-glucose-1, obs-heart-rate-1, obs-shared-1
	assert.NotContains(t, body, "obs-other-patient")

	// No token: 401 with a bare Bearer challenge.
	resp, _ = get(t, srv.FHIRBaseURL+"/Patient/"+seedPatient, "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Bearer realm="smartauth"`, resp.Header.Get("WWW-Authenticate"))

	// 4. Revoke the refresh token: the whole family goes.
	resp, m := postForm(t, srv.RevocationURL, seedBasic, url.Values{"token": {rt2}})
	require.Equal(t, http.StatusOK, resp.StatusCode, m)

	// 5. The refresh token fails with invalid_grant.
	resp, m = postForm(t, srv.TokenURL, seedBasic, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt2},
	})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "invalid_grant", m["error"])

	// The access tokens of the revoked family are refused too, once the
	// revocation check interval has passed since they were last checked.
	clock.advance(revocationCheckInterval + time.Second)
	resp, _ = get(t, srv.FHIRBaseURL+"/Patient/"+seedPatient, at)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// 6. Introspection (by the resource-server client) says inactive, for
	// both the refresh and the access token.
	rsAuth := url.Values{"client_id": {"resource-server"}, "client_secret": {"resource-server-secret-0f9d2c"}}
	for _, tokVal := range []string{rt2, at} {
		form := url.Values{"token": {tokVal}}
		for k, v := range rsAuth {
			form[k] = v
		}
		resp, m = postForm(t, srv.IntrospectionURL, "", form)
		require.Equal(t, http.StatusOK, resp.StatusCode, m)
		assert.Equal(t, map[string]any{"active": false}, m)
	}
}

// TestDemoIntrospectionActive shows an active token's introspection carries
// the launch context.
func TestDemoIntrospectionActive(t *testing.T) {
	srv, _, cfg := startDemo(t)
	resp, tok := postForm(t, srv.TokenURL, seedBasic, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {cfg.Grants[0].RefreshToken},
	})
	require.Equal(t, http.StatusOK, resp.StatusCode, tok)
	resp, m := postForm(t, srv.IntrospectionURL, "", url.Values{
		"token": {tok["access_token"].(string)}, "client_id": {"resource-server"}, "client_secret": {"resource-server-secret-0f9d2c"},
	})
	require.Equal(t, http.StatusOK, resp.StatusCode, m)
	assert.Equal(t, true, m["active"])
	assert.Equal(t, "my-app", m["client_id"])
	assert.Equal(t, seedPatient, m["patient"])
	assert.Equal(t, seedEncounter, m["encounter"])
	assert.Equal(t, "Practitioner/SMART-1234", m["fhirUser"])
}

// TestDemoPublicClientAndDiscovery covers the public patient-app grant, the
// discovery document and the wrong-secret refusal the SMART launcher lacked.
func TestDemoPublicClientAndDiscovery(t *testing.T) {
	srv, _, cfg := startDemo(t)

	wrong := "Basic " + base64.StdEncoding.EncodeToString([]byte("my-app:not-the-secret"))
	resp, m := postForm(t, srv.TokenURL, wrong, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {cfg.Grants[0].RefreshToken},
	})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "invalid_client", m["error"])
	assert.True(t, strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic "))

	resp, tok := postForm(t, srv.TokenURL, "", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {cfg.Grants[1].RefreshToken}, "client_id": {"patient-app"},
	})
	require.Equal(t, http.StatusOK, resp.StatusCode, tok)
	at := tok["access_token"].(string)
	r, body := get(t, srv.FHIRBaseURL+"/Patient/"+seedPatient, at)
	assert.Equal(t, http.StatusOK, r.StatusCode, body)
	r, body = get(t, srv.FHIRBaseURL+"/Patient/"+otherPatient, at)
	assert.Equal(t, http.StatusForbidden, r.StatusCode, body)
	r, body = get(t, srv.FHIRBaseURL+"/Encounter/"+seedEncounter, at)
	assert.Equal(t, http.StatusOK, r.StatusCode, body)

	r, body = get(t, srv.DiscoveryURL, "")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	var d map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &d))
	assert.Equal(t, srv.TokenURL, d["token_endpoint"])
	assert.Equal(t, srv.JWKSURL, d["jwks_uri"])
	assert.Equal(t, srv.IntrospectionURL, d["introspection_endpoint"])
	assert.Equal(t, srv.RevocationURL, d["revocation_endpoint"])
	assert.Equal(t, []any{"S256"}, d["code_challenge_methods_supported"])

	r, body = get(t, srv.FHIRBaseURL+"/metadata", "")
	assert.Equal(t, http.StatusOK, r.StatusCode)
	assert.Contains(t, body, `"CapabilityStatement"`)
}

// TestDemoEnforcesScopesOnData: the leaks the demo used to have, with a
// constrained token and with a mixed-scope token, are closed by the
// middleware, although the demo's handler serves whatever it is asked.
func TestDemoEnforcesScopesOnData(t *testing.T) {
	const (
		labScope   = "launch/patient patient/Observation.rs?category=laboratory"
		mixedScope = "launch/patient patient/*.rs user/Observation.rs?category=laboratory"
	)
	srv, _, _ := startDemoWith(t, func(cfg *Config) {
		cfg.Clients = append(cfg.Clients, ClientConfig{ClientID: "lab-app", AuthMethod: "none"}, ClientConfig{ClientID: "mixed-app", AuthMethod: "none"})
		cfg.Grants = append(cfg.Grants,
			GrantConfig{ClientID: "lab-app", RefreshToken: "lab-app-refresh-token-0123456789abcdef", Subject: "s1", Scope: labScope, Launch: json.RawMessage(`{"patient":"` + seedPatient + `"}`)},
			GrantConfig{ClientID: "mixed-app", RefreshToken: "mixed-app-refresh-token-0123456789abcdef", Subject: "s2", Scope: mixedScope, Launch: json.RawMessage(`{"patient":"` + seedPatient + `"}`)},
		)
	})
	token := func(client, refresh string) string {
		resp, tok := postForm(t, srv.TokenURL, "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {client}})
		require.Equal(t, http.StatusOK, resp.StatusCode, tok)
		return tok["access_token"].(string)
	}
	lab := token("lab-app", "lab-app-refresh-token-0123456789abcdef")
	mixed := token("mixed-app", "mixed-app-refresh-token-0123456789abcdef")
	tests := []struct {
		name, token, path string
		status            int
		has, hasNot       []string
	}{
		{"constrained: own lab by id", lab, "/Observation/obs-glucose-1", 200, []string{"obs-glucose-1"}, nil},
		{"constrained: own vital signs by id", lab, "/Observation/obs-heart-rate-1", 403, nil, []string{"heart"}},
		{"constrained: search", lab, "/Observation?patient=" + seedPatient, 200, []string{"obs-glucose-1"}, []string{"obs-heart-rate-1"}},
		{"constrained: search by category", lab, "/Observation?patient=" + seedPatient + "&category=vital-signs", 403, nil, []string{"heart"}},
		{"mixed: other patient's vital signs by id", mixed, "/Observation/obs-other-patient-1", 403, nil, []string{otherPatient}},
		// The user/ scope grants the other patient's laboratory results, and nothing else of theirs.
		{"mixed: other patient's data by search", mixed, "/Observation?patient=" + otherPatient, 200, []string{"obs-other-patient-lab-1"}, []string{"obs-other-patient-1", "vital-signs"}},
		{"mixed: own vital signs", mixed, "/Observation/obs-heart-rate-1", 200, []string{"obs-heart-rate-1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, srv.FHIRBaseURL+tt.path, tt.token)
			assert.Equal(t, tt.status, resp.StatusCode, body)
			for _, s := range tt.has {
				assert.Contains(t, body, s)
			}
			for _, s := range tt.hasNot {
				assert.NotContains(t, body, s)
			}
		})
	}
}
