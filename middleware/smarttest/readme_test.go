package smarttest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/smarttest"
)

// TestReadmeSnippet runs the smarttest snippet of README.md.
func TestReadmeSnippet(t *testing.T) {
	yourHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write([]byte(`{"resourceType":"Patient","id":"123"}`))
	})

	iss := smarttest.NewIssuer(t)
	h := iss.Middleware()(middleware.RequireFHIRScopes()(yourHandler))
	req := iss.Request(http.MethodGet, "/Patient/123", smarttest.Claims{Patient: "123", Scope: "patient/Patient.rs"})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	if rec.Code != http.StatusOK || rec.Body.String() != `{"resourceType":"Patient","id":"123"}` {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
}
