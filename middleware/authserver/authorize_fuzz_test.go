package authserver_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/smartauth/smartauth/middleware/authserver"
)

// registeredRedirects are every redirect URI of the test clients.
var registeredRedirects = []string{appPublicCB, appConfCB1, appConfCB2, appOtherCB}

// FuzzAuthorizeRequest: whatever the query of an authorization request,
// the endpoint never fails, and never redirects anywhere but to a
// registered redirect URI (no open redirector).
func FuzzAuthorizeRequest(f *testing.F) {
	p := newPKCE()
	f.Add(authzParams(p).Encode())
	f.Add(authzParams(p, "client_id", appConf, "redirect_uri", appConfCB1).Encode())
	f.Add(authzParams(p, "redirect_uri", "https://evil.example/cb").Encode())
	f.Add(authzParams(p, "redirect_uri", "").Encode())
	f.Add(authzParams(p, "scope", "launch patient/*.rs", "launch", "x").Encode())
	f.Add("client_id=app-public&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback%23x")
	f.Add("client_id=app-public&client_id=app-conf")
	f.Add("%zz=1;a=b")
	e := newAuthzEnv(f, nil)
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, authzEndpoint, nil)
		req.URL.RawQuery = query
		rec := httptest.NewRecorder()
		e.authz.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusSeeOther:
			loc := rec.Header().Get("Location")
			ok := false
			for _, uri := range registeredRedirects {
				if rest, found := strings.CutPrefix(loc, uri); found && (rest == "" || rest[0] == '?' || rest[0] == '&') {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("redirected to %q, not a registered redirect URI", loc)
			}
			if _, err := url.Parse(loc); err != nil {
				t.Fatalf("malformed Location %q", loc)
			}
		case http.StatusBadRequest:
			if rec.Header().Get("Location") != "" {
				t.Fatal("a shown error has a Location")
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

// FuzzInteractionField: a posted interaction field the endpoint did not
// seal for this browser is refused and shown, never acted upon.
func FuzzInteractionField(f *testing.F) {
	e := newAuthzEnv(f, nil)
	pagedSteps(e)
	page := fieldOf(f, e.get(authzParams(newPKCE())))
	f.Add(page)
	f.Add(page[:len(page)/2])
	f.Add("")
	f.Add(strings.Repeat("A", 100))
	other := newAuthzEnv(f, nil) // another browser: no binding cookie
	f.Fuzz(func(t *testing.T, field string) {
		form := url.Values{authserver.InteractionField: {field}, "user": {"attacker"}}
		req := httptest.NewRequest(http.MethodPost, authzEndpoint, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		other.authz.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest || rec.Header().Get("Location") != "" {
			t.Fatalf("status %d, Location %q", rec.Code, rec.Header().Get("Location"))
		}
	})
}
