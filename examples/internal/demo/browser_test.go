package demo

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requireBrowserEnv makes a missing Chromium a failure rather than a skip
// (.ci/run sets it).
const requireBrowserEnv = "SMARTAUTH_REQUIRE_BROWSER"

// chromiumPath returns the Chromium (or Chrome) binary, or skips the test
// when there is none — unless requireBrowserEnv is 1.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(requireBrowserEnv) == "1" {
		t.Fatalf("Chromium not found, and %s=1: install it (Debian: apt-get install chromium)", requireBrowserEnv)
	}
	t.Skipf("Chromium not found: install it (Debian: apt-get install chromium) to run the browser test, or set %s=1 to make its absence a failure", requireBrowserEnv)
	return ""
}

// newBrowser starts a headless Chromium with a profile of its own and
// returns a tab's context, bounded by timeout.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // root in CI containers
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// The first run starts the browser, for as long as tab lives; the
	// timeout bounds what follows.
	require.NoError(t, chromedp.Do(tab), "starting Chromium")
	ctx, cancelTimeout := context.WithTimeout(tab, timeout)
	t.Cleanup(cancelTimeout)
	return ctx
}

// waitApp waits until the sample app reports status (its #status text)
// or an error, and fails the test with the error.
func waitApp(t *testing.T, ctx context.Context, status string) {
	t.Helper()
	// The page may still be navigating (a redirect to the app): a poll
	// of the page that goes away fails, and is tried again on the next.
	predicate := `(() => {
		const s = document.getElementById('status'), e = document.getElementById('error');
		return !!(s && e) && (s.textContent === ` + "`" + status + "`" + ` || !e.hidden);
	})()`
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate, chromedp.WithPollingInterval(50*time.Millisecond)))
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("waiting for the app to report %q: %v; the page shows:\n%s", status, err, lastPage(t, ctx))
		}
		time.Sleep(50 * time.Millisecond)
	}
	appErr, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('error').hidden ? '' : document.getElementById('error').textContent`))
	require.NoError(t, err)
	require.Empty(t, appErr, "the app failed")
}

// lastPage returns what the page shows after ctx ended (for a failure
// message), waiting 5 s at most.
func lastPage(t *testing.T, ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return text
}

// waitVisible waits until the element sel is visible, across the
// navigations (redirects) that lead to its page.
func waitVisible(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	for {
		err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel)))
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("waiting for %s: %v; the page shows:\n%s", sel, err, lastPage(t, ctx))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pageText returns what the page shows.
func pageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	require.NoError(t, err)
	return text
}

// TestBrowserLaunch drives headless Chromium through the sandbox: the
// sample app (on its own origin) does the standalone launch — sign in,
// pick the patient, consent, code exchange with PKCE S256, FHIR reads,
// refresh — then the launch page does an EHR launch of it for another
// patient. It asserts what the app shows and logs the final pages.
func TestBrowserLaunch(t *testing.T) {
	ctx := newBrowser(t, 90*time.Second)
	s := startSandbox(t, nil)
	run := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		err := chromedp.Do(ctx, actions...)
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("the browser did not get there in time; the page shows:\n%s", lastPage(t, ctx))
		}
		require.NoError(t, err)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err)
		return strings.TrimSpace(s)
	}

	// Standalone launch: the app asks; the user signs in, picks the
	// patient and consents.
	run(chromedp.Navigate(s.srv.AppURL))
	waitApp(t, ctx, "Ready: launch the app standalone, or from the sandbox launcher (EHR launch).")
	run(chromedp.Click(chromedp.CSS("#launch")))
	waitVisible(t, ctx, "#user")
	assert.Contains(t, pageText(t, ctx), "sample-app asks to use your health record.")
	run(chromedp.SetValue(chromedp.CSS("#user"), "practitioner-SMART-1234"),
		chromedp.Click(chromedp.CSS("#sign-in")))
	waitVisible(t, ctx, "#pick")
	run(chromedp.Click(chromedp.CSS(`[id="choice-`+seedPatient+`"]`)),
		chromedp.Click(chromedp.CSS("#pick")))
	waitVisible(t, ctx, "#allow")
	consent := pageText(t, ctx)
	assert.Contains(t, consent, "Allow sample-app to access your data?")
	assert.Contains(t, consent, "Signed in as Dr. Susan Careful. Patient: Adrian Ebert.")
	run(chromedp.Click(chromedp.CSS("#allow")))
	waitApp(t, ctx, "Launched.")

	assert.Equal(t, "Adrian Ebert", text("#patient-name"))
	assert.Equal(t, "standalone", text("#launch-type"))
	assert.Equal(t, "Practitioner/SMART-1234", text("#user"))
	assert.Equal(t, "launch/patient openid fhirUser offline_access patient/Patient.rs patient/Observation.rs", text("#scope"))
	assert.Equal(t, "yes", text("#has-refresh"))
	observations := text("#observations")
	assert.Contains(t, observations, "Glucose [Mass/volume] in Blood: 95 mg/dL")
	assert.Contains(t, observations, "Heart rate: 72 beats/minute")
	assert.NotContains(t, observations, "131", "another patient's observation")

	run(chromedp.Click(chromedp.CSS("#refresh")))
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('refresh-status').textContent.startsWith('Refreshed') || !document.getElementById('error').hidden`,
		chromedp.WithPollingInterval(50*time.Millisecond)))
	require.NoError(t, err)
	waitApp(t, ctx, "Launched.")
	assert.Regexp(t, `^Refreshed at .*: a new access token \(different\) read Adrian Ebert again; the refresh token rotated\.$`, text("#refresh-status"))
	t.Logf("standalone launch, final page:\n%s", pageText(t, ctx))

	// EHR launch from the launch page: Dr. Careful opens the app in
	// Alysa Nader's chart; the EHR session signs her in, the patient is
	// in context, she consents.
	run(chromedp.Navigate(s.srv.LauncherURL))
	waitVisible(t, ctx, "#launch-app")
	run(chromedp.Click(chromedp.CSS("#type-ehr")),
		chromedp.SetValue(chromedp.CSS("#provider"), "SMART-1234"),
		chromedp.SetValue(chromedp.CSS("#patient"), otherPatient),
		chromedp.SetValue(chromedp.CSS("#encounter"), "enc-other-patient-1"),
		chromedp.Click(chromedp.CSS("#launch-app")))
	waitVisible(t, ctx, "#allow")
	consent = pageText(t, ctx)
	assert.Contains(t, consent, "Signed in as Dr. Susan Careful. Patient: Alysa Nader.")
	assert.NotContains(t, consent, "Choose a patient")
	run(chromedp.Click(chromedp.CSS("#allow")))
	waitApp(t, ctx, "Launched.")

	assert.Equal(t, "Alysa Nader", text("#patient-name"))
	assert.Equal(t, "EHR", text("#launch-type"))
	assert.Equal(t, "launch openid fhirUser online_access patient/Patient.rs patient/Observation.rs", text("#scope"))
	observations = text("#observations")
	assert.Contains(t, observations, "Glucose [Mass/volume] in Blood: 131 mg/dL")
	assert.Contains(t, observations, "Heart rate: 64 beats/minute")
	assert.NotContains(t, observations, "Adrian")
	t.Logf("EHR launch, final page:\n%s", pageText(t, ctx))
}
