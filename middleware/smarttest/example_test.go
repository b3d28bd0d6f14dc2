package smarttest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/smarttest"
)

// patientHandler is a stand-in for a user's FHIR handler. It serves any
// Patient: RequireFHIRScopes keeps other patients' data from patient/
// tokens.
var patientHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/fhir+json")
	fmt.Fprintf(w, `{"resourceType":"Patient","id":%q}`, r.PathValue("id"))
})

func newRoutes(iss *smarttest.Issuer) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /Patient/{id}", iss.Middleware()(middleware.RequireFHIRScopes()(patientHandler)))
	return mux
}

// A table-driven test of a FHIR handler, with four lines of setup.
func TestPatientRoute(t *testing.T) {
	iss := smarttest.NewIssuer(t)
	h := newRoutes(iss)
	tests := []struct {
		name   string
		path   string
		claims smarttest.Claims
		want   int
	}{
		{"own patient", "/Patient/123", smarttest.Claims{Patient: "123", Scope: "patient/Patient.rs"}, http.StatusOK},
		{"other patient", "/Patient/456", smarttest.Claims{Patient: "123", Scope: "patient/Patient.rs"}, http.StatusForbidden},
		{"no scope", "/Patient/123", smarttest.Claims{Patient: "123", Scope: "launch/patient"}, http.StatusForbidden},
		{"expired", "/Patient/123", smarttest.Claims{Patient: "123", Scope: "patient/Patient.rs", ExpiresIn: -smarttest.DefaultLifetime}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, iss.Request(http.MethodGet, tt.path, tt.claims))
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
		})
	}
}

// TestJWKSURL shows the same issuer behind an httptest JWK Set server.
func TestJWKSURL(t *testing.T) {
	iss := smarttest.NewIssuer(t)
	cfg := iss.JWTConfig()
	cfg.StaticKeys, cfg.JWKSURLs = nil, []string{iss.JWKSURL()}
	v, err := middleware.NewJWTVerifier(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := v.VerifyToken(t.Context(), iss.Token(smarttest.Claims{Patient: "123", Encounter: "e1", Scope: "patient/*.rs"}))
	if err != nil {
		t.Fatal(err)
	}
	if lc.Patient != "123" || lc.Encounter != "e1" || !lc.Scopes.Has("patient/*.rs") {
		t.Fatalf("unexpected launch context %+v", lc)
	}
}

func ExampleIssuer() {
	t := &testing.T{} // in a real test: the *testing.T of the test function
	iss := smarttest.NewIssuer(t)
	h := iss.Middleware()(middleware.RequireFHIRScopes()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lc, _ := middleware.LaunchContextFrom(r.Context())
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprintf(w, `{"resourceType":"Patient","id":%q}`, lc.Patient)
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, iss.Request(http.MethodGet, "/Patient/123", smarttest.Claims{Patient: "123", Scope: "patient/Patient.rs"}))
	fmt.Println(rec.Code, rec.Body)
	// Output: 200 {"resourceType":"Patient","id":"123"}
}
