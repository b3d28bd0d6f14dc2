package authserver_test

import (
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
)

// pagedSteps makes every step of e show a page first, then answer with
// the posted form: Login the "user" field, the picker the "patient" field,
// Consent the "scope" fields (repeated, as checkboxes post them). It
// returns the log of the steps' calls: the step and whether it had an
// answer.
func pagedSteps(e *authzEnv) *[]string {
	var calls []string
	call := func(step string, in *authserver.Interaction) {
		calls = append(calls, step+map[bool]string{true: "+answer", false: ""}[in.Answer != nil])
	}
	e.login = func(w http.ResponseWriter, _ *http.Request, in *authserver.Interaction) (authserver.User, bool, error) {
		call("login", in)
		if in.Answer == nil {
			stepPage(w, in, "Sign in")
			return authserver.User{}, false, nil
		}
		if in.Answer.Get("cancel") != "" {
			return authserver.User{}, false, authserver.ErrAccessDenied
		}
		return authserver.User{Subject: in.Answer.Get("user")}, true, nil
	}
	e.picker = func(w http.ResponseWriter, _ *http.Request, in *authserver.Interaction) (authserver.PatientSelection, bool, error) {
		call("patient", in)
		if in.Answer == nil {
			stepPage(w, in, "Pick a patient")
			return authserver.PatientSelection{}, false, nil
		}
		return authserver.PatientSelection{Patient: in.Answer.Get("patient")}, true, nil
	}
	e.consent = func(w http.ResponseWriter, _ *http.Request, in *authserver.Interaction) (string, bool, error) {
		call("consent", in)
		if in.Answer == nil {
			stepPage(w, in, "Allow?")
			return "", false, nil
		}
		granted := ""
		for _, s := range in.Answer["scope"] {
			granted += s + " "
		}
		return granted, true, nil
	}
	return &calls
}

// answer posts a step's page: its interaction field and the fields.
func (e *authzEnv) answer(page string, fields url.Values, opts ...func(*http.Request)) *httptest.ResponseRecorder {
	e.t.Helper()
	form := url.Values{authserver.InteractionField: {page}}
	for k, v := range fields {
		form[k] = v
	}
	return e.post(form, opts...)
}

// TestInteractionPages: each step shows its page, gets the user's answer
// from its own page only, and the code comes after the last one.
func TestInteractionPages(t *testing.T) {
	e := newAuthzEnv(t, nil)
	calls := pagedSteps(e)
	p := newPKCE()

	rec := e.get(authzParams(p))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), "<h1>Sign in</h1>")
	assert.Contains(t, rec.Body.String(), `action="`+authzEndpoint+`"`)
	cookie := rec.Result().Cookies()
	require.Len(t, cookie, 1)
	assert.Equal(t, "__Secure-smartauth-authz", cookie[0].Name)
	assert.Equal(t, "/authorize", cookie[0].Path)
	assert.True(t, cookie[0].HttpOnly)
	assert.True(t, cookie[0].Secure)
	assert.Equal(t, http.SameSiteLaxMode, cookie[0].SameSite)
	assert.Equal(t, int(authserver.DefaultInteractionLifetime/time.Second), cookie[0].MaxAge)

	rec = e.answer(fieldOf(t, rec), url.Values{"user": {"user-7"}})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "<h1>Pick a patient</h1>")

	rec = e.answer(fieldOf(t, rec), url.Values{"patient": {"pat-5"}})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "<h1>Allow?</h1>")

	rec = e.answer(fieldOf(t, rec), url.Values{"scope": {"launch/patient", "patient/*.rs"}})
	q := redirected(t, rec, appPublicCB)
	resp := e.exchangeOK(q.Get("code"), p)
	assert.Equal(t, "launch/patient patient/*.rs", resp.Scope)
	assert.Equal(t, "pat-5", resp.Patient)
	assert.Equal(t, "user-7", jwtPart(t, resp.AccessToken, 1)["sub"])
	assert.Equal(t, []string{"login", "login+answer", "patient", "patient+answer", "consent", "consent+answer"}, *calls)
}

// TestInteractionRefusals: a posted page is refused, and shown, when it
// was not sealed by the endpoint, comes from another browser or site, or
// is submitted twice; it is sent to the app as access_denied when the
// user cancels or takes too long.
func TestInteractionRefusals(t *testing.T) {
	const restart = " Start again from the app."
	loginPage := func(e *authzEnv) string {
		pagedSteps(e)
		rec := e.get(authzParams(newPKCE()))
		require.Equal(t, http.StatusOK, rec.Code)
		return fieldOf(t, rec)
	}
	t.Run("tampered field", func(t *testing.T) {
		e := newAuthzEnv(t, nil)
		page := loginPage(e)
		tampered := []byte(page)
		tampered[len(tampered)/2] ^= 1
		requireShown(t, e.answer(string(tampered), nil), 400, "invalid_request", "the form does not hold an authorization of this server."+restart)
	})
	t.Run("field of another endpoint's key", func(t *testing.T) {
		other := newAuthzEnv(t, nil)
		page := loginPage(other)
		e := newAuthzEnv(t, nil)
		e.jar = other.jar
		requireShown(t, e.answer(page, nil), 400, "invalid_request", "the form does not hold an authorization of this server."+restart)
	})
	t.Run("another browser", func(t *testing.T) {
		e := newAuthzEnv(t, nil)
		page := loginPage(e)
		e.jar, _ = cookiejar.New(nil)
		requireShown(t, e.answer(page, url.Values{"user": {"attacker"}}), 400, "invalid_request",
			"the authorization was started in another browser, or this browser refused its cookie."+restart)
		e.get(authzParams(newPKCE())) // this browser's own authorization does not help
		requireShown(t, e.answer(page, url.Values{"user": {"attacker"}}), 400, "invalid_request",
			"the authorization was started in another browser, or this browser refused its cookie."+restart)
	})
	t.Run("cross-site post", func(t *testing.T) {
		e := newAuthzEnv(t, nil)
		page := loginPage(e)
		rec := e.answer(page, url.Values{"user": {"user-1"}}, header("Sec-Fetch-Site", "cross-site"))
		requireShown(t, rec, 403, "invalid_request", "a form posted from another site is refused")
	})
	t.Run("field twice", func(t *testing.T) {
		e := newAuthzEnv(t, nil)
		page := loginPage(e)
		rec := e.post(url.Values{authserver.InteractionField: {page, page}})
		requireShown(t, rec, 400, "invalid_request", "the form holds the authorization more than once."+restart)
	})
	t.Run("too late", func(t *testing.T) {
		e := newAuthzEnv(t, nil)
		page := loginPage(e)
		e.clock.Advance(authserver.DefaultInteractionLifetime)
		requireRedirectedError(t, e.answer(page, url.Values{"user": {"user-1"}}), appPublicCB, "state-0123456789abcdef",
			"access_denied", "the authorization was not completed in time")
	})
	t.Run("user cancels", func(t *testing.T) {
		e := newAuthzEnv(t, nil)
		page := loginPage(e)
		requireRedirectedError(t, e.answer(page, url.Values{"cancel": {"1"}}), appPublicCB, "state-0123456789abcdef",
			"access_denied", "the authorization was refused")
	})
	t.Run("consent submitted twice", func(t *testing.T) {
		e := newAuthzEnv(t, nil)
		pagedSteps(e)
		p := newPKCE()
		rec := e.get(authzParams(p))
		rec = e.answer(fieldOf(t, rec), url.Values{"user": {"user-1"}})
		rec = e.answer(fieldOf(t, rec), url.Values{"patient": {"pat-1"}})
		consent := fieldOf(t, rec)
		redirected(t, e.answer(consent, url.Values{"scope": {"patient/*.rs"}}), appPublicCB)
		requireShown(t, e.answer(consent, url.Values{"scope": {"patient/*.rs"}}), 400, "invalid_request", "this authorization is already complete")
	})
	t.Run("step fails", func(t *testing.T) {
		e := newAuthzEnv(t, nil)
		e.login = func(http.ResponseWriter, *http.Request, *authserver.Interaction) (authserver.User, bool, error) {
			return authserver.User{}, false, errors.New("directory down")
		}
		requireRedirectedError(t, e.get(authzParams(newPKCE())), appPublicCB, "state-0123456789abcdef",
			"server_error", "the authorization server could not handle the request")
	})
	t.Run("step neither answers nor writes", func(t *testing.T) {
		e := newAuthzEnv(t, nil)
		e.login = func(http.ResponseWriter, *http.Request, *authserver.Interaction) (authserver.User, bool, error) {
			return authserver.User{}, false, nil
		}
		requireRedirectedError(t, e.get(authzParams(newPKCE())), appPublicCB, "state-0123456789abcdef",
			"server_error", "the authorization server could not handle the request")
	})
	t.Run("user without subject", func(t *testing.T) {
		e := newAuthzEnv(t, nil)
		e.login = func(http.ResponseWriter, *http.Request, *authserver.Interaction) (authserver.User, bool, error) {
			return authserver.User{}, true, nil
		}
		requireRedirectedError(t, e.get(authzParams(newPKCE())), appPublicCB, "state-0123456789abcdef",
			"server_error", "the authorization server could not handle the request")
	})
	t.Run("picker returns a malformed id", func(t *testing.T) {
		e := newAuthzEnv(t, nil)
		e.picker = func(http.ResponseWriter, *http.Request, *authserver.Interaction) (authserver.PatientSelection, bool, error) {
			return authserver.PatientSelection{Patient: "../Patient/1"}, true, nil
		}
		requireRedirectedError(t, e.get(authzParams(newPKCE())), appPublicCB, "state-0123456789abcdef",
			"server_error", "the authorization server could not handle the request")
	})
}
