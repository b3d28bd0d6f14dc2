package sandbox

import (
	"context"
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

// testDirectory is a fixed data set.
type testDirectory struct{}

func (testDirectory) Patients() []Person {
	return []Person{{ID: "p1", Name: "Ann One"}, {ID: "p2", Name: "Bob Two"}}
}

func (testDirectory) Practitioners() []Person { return []Person{{ID: "dr1", Name: "Dr. Who"}} }

func (testDirectory) Encounters(patient string) []Encounter {
	if patient == "p1" {
		return []Encounter{{ID: "e1", Patient: "p1", Name: "ambulatory"}, {ID: "e2", Patient: "p1", Name: "inpatient"}}
	}
	return nil
}

// recordedLaunches records the launches registered.
type recordedLaunches struct{ got []authserver.EHRLaunch }

func (r *recordedLaunches) CreateLaunch(_ context.Context, l authserver.EHRLaunch) (string, error) {
	r.got = append(r.got, l)
	return "launch-value", nil
}

func newTestSandbox(t *testing.T) (*Sandbox, *recordedLaunches) {
	t.Helper()
	rl := &recordedLaunches{}
	sb, err := New(Config{Directory: testDirectory{}, FHIRBaseURL: "http://127.0.0.1:8080/fhir", Launches: rl,
		LauncherURL: "http://127.0.0.1:8080/launcher", AppLaunchURL: "http://127.0.0.1:8081/", AppClientID: "sample-app"})
	require.NoError(t, err)
	return sb, rl
}

func postLauncher(sb *Sandbox, form url.Values, opts ...func(*http.Request)) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/launcher", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, o := range opts {
		o(req)
	}
	rec := httptest.NewRecorder()
	sb.Launcher().ServeHTTP(rec, req)
	return rec
}

func TestLauncher(t *testing.T) {
	sb, rl := newTestSandbox(t)
	rec := httptest.NewRecorder()
	sb.Launcher().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/launcher", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), `<option value="e2">Ann One — inpatient</option>`)

	ehr := url.Values{"launch_type": {"ehr"}, "app_url": {"http://127.0.0.1:8081/?x=1"}, "client_id": {"sample-app"},
		"provider": {"dr1"}, "patient": {"p1"}, "encounter": {"e2"}, "need_patient_banner": {"true"}}
	rec = postLauncher(sb, ehr)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	assert.Equal(t, "http://127.0.0.1:8081/?iss=http%3A%2F%2F127.0.0.1%3A8080%2Ffhir&launch=launch-value&x=1", rec.Header().Get("Location"))
	banner := true
	assert.Equal(t, []authserver.EHRLaunch{{ClientID: "sample-app", Subject: "practitioner-dr1",
		Context: authserver.Launch{Patient: "p1", Encounter: "e2", NeedPatientBanner: &banner}}}, rl.got)
	var session *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie {
			session = c
		}
	}
	require.NotNil(t, session, "the EHR launch signs the provider in")
	assert.True(t, session.HttpOnly)

	// The session signs the provider in at the authorization endpoint.
	req := httptest.NewRequest(http.MethodGet, "/auth/authorize", nil)
	req.AddCookie(session)
	u, done, err := sb.Authenticate(httptest.NewRecorder(), req, &authserver.Interaction{})
	require.NoError(t, err)
	assert.True(t, done)
	assert.Equal(t, "practitioner-dr1", u.Subject)
	assert.Equal(t, "Practitioner/dr1", u.FHIRUser)
	forged := *session
	forged.Value = strings.Replace(forged.Value, forged.Value[:4], "cGF0", 1)
	req = httptest.NewRequest(http.MethodGet, "/auth/authorize", nil)
	req.AddCookie(&forged)
	_, done, err = sb.Authenticate(httptest.NewRecorder(), req, &authserver.Interaction{})
	require.NoError(t, err)
	assert.False(t, done, "a session cookie that was not signed by the sandbox signs nobody in")

	rec = postLauncher(sb, url.Values{"launch_type": {"standalone"}, "app_url": {"http://127.0.0.1:8081/"}})
	assert.Equal(t, "http://127.0.0.1:8081/?iss=http%3A%2F%2F127.0.0.1%3A8080%2Ffhir", rec.Header().Get("Location"))

	for name, tc := range map[string]struct {
		form   url.Values
		opts   []func(*http.Request)
		status int
	}{
		"cross-site post":         {ehr, []func(*http.Request){func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }}, http.StatusForbidden},
		"javascript: app URL":     {url.Values{"launch_type": {"standalone"}, "app_url": {"javascript:alert(1)"}}, nil, http.StatusBadRequest},
		"relative app URL":        {url.Values{"launch_type": {"standalone"}, "app_url": {"/x"}}, nil, http.StatusBadRequest},
		"unknown patient":         {with(ehr, "patient", "p9"), nil, http.StatusBadRequest},
		"another patient's visit": {with(ehr, "patient", "p2"), nil, http.StatusBadRequest},
		"unknown provider":        {with(ehr, "provider", "dr9"), nil, http.StatusBadRequest},
	} {
		t.Run(name, func(t *testing.T) {
			rec := postLauncher(sb, tc.form, tc.opts...)
			assert.Equal(t, tc.status, rec.Code)
			assert.Empty(t, rec.Header().Get("Location"))
		})
	}
}

func with(v url.Values, k, value string) url.Values {
	out := url.Values{}
	for key, vals := range v {
		out[key] = vals
	}
	out.Set(k, value)
	return out
}

// TestPickPatient: a patient who signs in is the patient; encounters are
// offered when asked for; a choice not offered is asked again.
func TestPickPatient(t *testing.T) {
	sb, _ := newTestSandbox(t)
	patientUser := authserver.User{Subject: "patient-p1", FHIRUser: "Patient/p1", AuthTime: time.Now()}
	sel, done, err := sb.PickPatient(httptest.NewRecorder(), nil, &authserver.Interaction{User: patientUser, NeedPatient: true})
	require.NoError(t, err)
	assert.True(t, done)
	assert.Equal(t, authserver.PatientSelection{Patient: "p1"}, sel)

	rec := httptest.NewRecorder()
	_, done, err = sb.PickPatient(rec, nil, &authserver.Interaction{User: patientUser, NeedPatient: true, NeedEncounter: true})
	require.NoError(t, err)
	assert.False(t, done, "two encounters: the patient chooses")
	assert.Contains(t, rec.Body.String(), `value="p1/e2"`)
	assert.NotContains(t, rec.Body.String(), `value="p2`)

	doctor := authserver.User{Subject: "practitioner-dr1", FHIRUser: "Practitioner/dr1"}
	rec = httptest.NewRecorder()
	_, done, _ = sb.PickPatient(rec, nil, &authserver.Interaction{User: doctor, NeedPatient: true, Answer: url.Values{"choice": {"p9"}, "action": {"pick"}}})
	assert.False(t, done)
	assert.Contains(t, rec.Body.String(), "Choose one of the list.")
	sel, done, _ = sb.PickPatient(httptest.NewRecorder(), nil, &authserver.Interaction{User: doctor, NeedPatient: true, Answer: url.Values{"choice": {"p2"}}})
	assert.True(t, done)
	assert.Equal(t, authserver.PatientSelection{Patient: "p2"}, sel)
	_, _, err = sb.PickPatient(httptest.NewRecorder(), nil, &authserver.Interaction{User: doctor, NeedPatient: true, Answer: url.Values{"action": {"cancel"}}})
	assert.ErrorIs(t, err, authserver.ErrAccessDenied)
}
