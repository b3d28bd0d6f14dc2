package middleware_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/scope"
)

// Resources of the enforcement tests: patient p1 is in context, p2 is
// someone else.
const (
	obsP1Lab   = `{"resourceType":"Observation","id":"o1","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"subject":{"reference":"Patient/p1"}}`
	obsP1Vital = `{"resourceType":"Observation","id":"o2","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"subject":{"reference":"Patient/p1"}}`
	obsP2Lab   = `{"resourceType":"Observation","id":"o3","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"subject":{"reference":"Patient/p2"}}`
	obsP2Vital = `{"resourceType":"Observation","id":"o4","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"subject":{"reference":"Patient/p2"}}`
	patientP1  = `{"resourceType":"Patient","id":"p1","name":[{"family":"One"}]}`
	patientP2  = `{"resourceType":"Patient","id":"p2","name":[{"family":"Two"}]}`
	medication = `{"resourceType":"Medication","id":"m1","code":{"text":"aspirin"}}`
	outcome404 = `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`

	labScopeSystem = "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
	mixedScopes    = "patient/*.rs user/Observation.rs?category=laboratory"

	withheldBody    = `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden","diagnostics":"The data involved is not permitted by the granted scopes"}]}`
	unverifiable500 = `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception","diagnostics":"The response cannot be checked against the granted scopes"}]}`
	unverifiable406 = `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-supported","diagnostics":"The response cannot be checked against the granted scopes"}]}`
	unverifiable502 = unverifiable500
	tooLarge500     = `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception","diagnostics":"The response is too large to be checked against the granted scopes"}]}`
)

func searchset(resources ...string) string {
	entries := make([]string, len(resources))
	for i, r := range resources {
		entries[i] = `{"fullUrl":"x","resource":` + r + `}`
	}
	return `{"resourceType":"Bundle","type":"searchset","entry":[` + strings.Join(entries, ",") + `]}`
}

// fixedHandler answers every request with status, content type and body,
// and a header that must not survive a withheld response.
func fixedHandler(status int, contentType, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("ETag", `W/"1"`)
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

// serveWith runs one request through RequireFHIRScopes in front of next,
// with patient p1 and scopes in context.
func serveWith(t *testing.T, scopes, method, target string, body io.Reader, next http.Handler, opts ...middleware.FHIRScopeOption) *httptest.ResponseRecorder {
	t.Helper()
	opts = append([]middleware.FHIRScopeOption{middleware.WithAuditLogger(slog.New(slog.DiscardHandler))}, opts...)
	h := withLaunchContext(lcWith("p1", scopes))(middleware.RequireFHIRScopes(opts...)(next))
	r := httptest.NewRequest(method, target, body)
	if body != nil {
		r.Header.Set("Content-Type", "application/fhir+json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func TestRequireFHIRScopesVerifiesResponses(t *testing.T) {
	tests := []struct {
		name        string
		scopes      string
		target      string
		status      int    // of the handler
		contentType string // of the handler
		body        string // of the handler
		wantStatus  int
		wantBody    string // "" means: the handler's body
	}{
		{"own observation", "patient/Observation.rs", "/Observation/o1", 200, "application/fhir+json", obsP1Lab, 200, ""},
		{"other patient's observation", "patient/Observation.rs", "/Observation/o3", 200, "application/fhir+json", obsP2Lab, 403, withheldBody},
		{"own patient", "patient/Patient.rs", "/Patient/p1", 200, "application/fhir+json", patientP1, 200, ""},
		{"other patient under another path", "patient/Patient.rs", "/Patient?name=Two", 200, "application/fhir+json", searchset(patientP2), 403, withheldBody},
		{"own search", "patient/Observation.rs", "/Observation?patient=p1", 200, "application/fhir+json", searchset(obsP1Lab, obsP1Vital), 200, ""},
		{"search with one foreign entry", "patient/Observation.rs", "/Observation?patient=p1", 200, "application/fhir+json", searchset(obsP1Lab, obsP2Vital, obsP1Vital), 403, withheldBody},
		{"nested bundle", "patient/*.rs", "/Observation?patient=p1", 200, "application/fhir+json", searchset(obsP1Lab, searchset(obsP2Lab)), 403, withheldBody},
		{"contained other patient", "patient/*.rs", "/Observation/o1", 200, "application/fhir+json",
			`{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"},"contained":[` + patientP2 + `]}`, 403, withheldBody},
		{"contained foreign observation", "patient/*.rs", "/Observation/o1", 200, "application/fhir+json",
			`{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"},"contained":[` + obsP2Lab + `]}`, 403, withheldBody},
		{"contained medication", "patient/*.rs", "/MedicationRequest/mr", 200, "application/fhir+json",
			`{"resourceType":"MedicationRequest","id":"mr","subject":{"reference":"Patient/p1"},"contained":[{"resourceType":"Medication","id":"m"}]}`, 200, ""},
		{"include of a type the scopes lack", "patient/Observation.rs", "/Observation?patient=p1&_include=Observation:subject", 200, "application/fhir+json",
			searchset(obsP1Lab, patientP1), 403, withheldBody},
		{"include of the patient", "patient/Observation.rs patient/Patient.rs", "/Observation?patient=p1&_include=Observation:subject", 200, "application/fhir+json",
			searchset(obsP1Lab, patientP1), 200, ""},
		{"non-compartment type", "patient/Medication.rs", "/Medication/m1", 200, "application/fhir+json", medication, 200, ""},
		{"no subject: not provably in the compartment", "patient/Observation.rs", "/Observation/o9", 200, "application/fhir+json",
			`{"resourceType":"Observation","id":"o9"}`, 403, withheldBody},
		{"absolute reference without base URL", "patient/Observation.rs", "/Observation/o9", 200, "application/fhir+json",
			`{"resourceType":"Observation","id":"o9","subject":{"reference":"https://fhir.example.org/r4/Patient/p1"}}`, 403, withheldBody},
		{"operation outcome", "patient/Observation.rs", "/Observation/o9", 404, "application/fhir+json", outcome404, 404, ""},
		{"search outcome entry", "patient/Observation.rs", "/Observation?patient=p1", 200, "application/fhir+json", searchset(obsP1Lab, outcome404), 200, ""},
		{"not a resource", "patient/Observation.rs", "/Observation/o1", 200, "application/fhir+json", `{"id":"o1"}`, 403, withheldBody},
		{"array body", "patient/Observation.rs", "/Observation/o1", 200, "application/fhir+json", `[` + obsP1Lab + `]`, 500, unverifiable500},
		{"malformed JSON", "patient/Observation.rs", "/Observation/o1", 200, "application/fhir+json", `{"resourceType":`, 500, unverifiable500},
		{"XML", "patient/Observation.rs", "/Observation/o1", 200, "application/fhir+xml", `<Observation/>`, 406, unverifiable406},
		{"HTML error", "patient/Observation.rs", "/Observation/o1", 502, "text/html", `<p>upstream down</p>`, 502, unverifiable502},

		// Constrained scopes.
		{"constrained: matching", labScopeSystem, "/Observation/o1", 200, "application/fhir+json", obsP1Lab, 200, ""},
		{"constrained: own vital signs", labScopeSystem, "/Observation/o2", 200, "application/fhir+json", obsP1Vital, 403, withheldBody},
		{"constrained by code only", labScope, "/Observation?patient=p1", 200, "application/fhir+json", searchset(obsP1Lab), 200, ""},
		{"constrained search with vital signs", labScope, "/Observation?patient=p1", 200, "application/fhir+json", searchset(obsP1Lab, obsP1Vital), 403, withheldBody},
		{"constrained: other patient's lab", labScope, "/Observation/o3", 200, "application/fhir+json", obsP2Lab, 403, withheldBody},

		// The mixed-scope token of the issue.
		{"mixed: other patient's lab", mixedScopes, "/Observation/o3", 200, "application/fhir+json", obsP2Lab, 200, ""},
		{"mixed: other patient's vital signs", mixedScopes, "/Observation/o4", 200, "application/fhir+json", obsP2Vital, 403, withheldBody},
		{"mixed: search", mixedScopes, "/Observation?patient=p2", 200, "application/fhir+json", searchset(obsP2Lab, obsP2Vital), 403, withheldBody},
		{"mixed: own vital signs", mixedScopes, "/Observation/o2", 200, "application/fhir+json", obsP1Vital, 200, ""},

		// v1 scopes.
		{"v1 own", "patient/*.read", "/Observation/o1", 200, "application/fhir+json", obsP1Lab, 200, ""},
		{"v1 other", "patient/*.read", "/Observation/o3", 200, "application/fhir+json", obsP2Lab, 403, withheldBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The handler is taken to filter its searches: what is tested
			// here is that the middleware verifies what it serves anyway.
			rec := serveWith(t, tt.scopes, http.MethodGet, tt.target, nil, fixedHandler(tt.status, tt.contentType, tt.body),
				middleware.WithSearchesFilteredByHandler())
			require.Equal(t, tt.wantStatus, rec.Code, rec.Body.String())
			switch {
			case tt.wantStatus == tt.status && tt.wantBody == "":
				assert.Equal(t, tt.body, rec.Body.String())
				assert.Equal(t, `W/"1"`, rec.Header().Get("ETag"))
				assert.Equal(t, fmt.Sprint(len(tt.body)), rec.Header().Get("Content-Length"))
				assert.Equal(t, tt.contentType, rec.Header().Get("Content-Type"))
			default:
				assert.Empty(t, rec.Header().Get("ETag"), "no header of a withheld response")
				assert.Equal(t, "application/fhir+json", rec.Header().Get("Content-Type"))
				assert.NotContains(t, rec.Body.String(), "p2")
				if tt.wantBody != "" {
					assert.Equal(t, tt.wantBody, rec.Body.String())
				}
			}
		})
	}
}

func TestRequireFHIRScopesBaseURL(t *testing.T) {
	abs := `{"resourceType":"Observation","id":"o9","subject":{"reference":"https://fhir.example.org/r4/Patient/p1"}}`
	other := `{"resourceType":"Observation","id":"o9","subject":{"reference":"https://elsewhere.example.org/Patient/p1"}}`
	base := middleware.WithBaseURL("https://fhir.example.org/r4/")
	rec := serveWith(t, "patient/Observation.rs", "GET", "/Observation/o9", nil, fixedHandler(200, "application/fhir+json", abs), base)
	assert.Equal(t, 200, rec.Code)
	rec = serveWith(t, "patient/Observation.rs", "GET", "/Observation/o9", nil, fixedHandler(200, "application/fhir+json", other), base)
	assert.Equal(t, 403, rec.Code, "another server's Patient/p1 is someone else")
	rec = serveWith(t, "patient/Observation.rs", "GET", "/Observation?subject=https://fhir.example.org/r4/Patient/p1", nil,
		fixedHandler(200, "application/fhir+json", searchset(abs)), base)
	assert.Equal(t, 200, rec.Code)
	rec = serveWith(t, "patient/Observation.rs", "GET", "/Observation?subject=https://elsewhere.example.org/Patient/p1", nil,
		fixedHandler(200, "application/fhir+json", searchset()), base)
	assert.Equal(t, 403, rec.Code)
}

func TestRequireFHIRScopesResponseLimits(t *testing.T) {
	rec := serveWith(t, "patient/Observation.rs", "GET", "/Observation/o1", nil,
		fixedHandler(200, "application/fhir+json", obsP1Lab), middleware.WithMaxBodySize(int64(len(obsP1Lab))))
	assert.Equal(t, 200, rec.Code, "a body of exactly the cap")
	rec = serveWith(t, "patient/Observation.rs", "GET", "/Observation/o1", nil,
		fixedHandler(200, "application/fhir+json", obsP1Lab), middleware.WithMaxBodySize(int64(len(obsP1Lab)-1)))
	assert.Equal(t, 500, rec.Code)
	assert.Equal(t, tooLarge500, rec.Body.String())

	// No body: passed as it is.
	rec = serveWith(t, "patient/Observation.rs", "GET", "/Observation/o1", nil, fixedHandler(http.StatusNotModified, "", ""))
	assert.Equal(t, http.StatusNotModified, rec.Code)
	assert.Equal(t, `W/"1"`, rec.Header().Get("ETag"))
	assert.Empty(t, rec.Body.String())
}

// unbufferedProbe reports whether the writer the handler got is the
// server's own (nothing buffered in between).
func unbufferedProbe(got *bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, *got = w.(*httptest.ResponseRecorder)
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = io.WriteString(w, obsP2Vital)
	})
}

func TestRequireFHIRScopesUnrestrictedIsNotBuffered(t *testing.T) {
	for _, scopes := range []string{"user/*.rs", "system/Observation.rs", "user/Observation.rs patient/Observation.rs", "user/*.read"} {
		var direct bool
		rec := serveWith(t, scopes, "GET", "/Observation/o4", nil, unbufferedProbe(&direct))
		assert.Equal(t, 200, rec.Code, scopes)
		assert.True(t, direct, "%s: the handler writes to the server's writer", scopes)
		assert.Equal(t, obsP2Vital, rec.Body.String())
	}
	var direct bool
	serveWith(t, "patient/Observation.rs", "GET", "/Observation/o4", nil, unbufferedProbe(&direct))
	assert.False(t, direct, "a restricted response is buffered")
	serveWith(t, "patient/Observation.rs", "GET", "/Observation/o4", nil, unbufferedProbe(&direct), middleware.WithEnforcementByHandler())
	assert.True(t, direct, "opt-out: the handler enforces")
}

func TestRequireFHIRScopesSearchParameters(t *testing.T) {
	ok := fixedHandler(200, "application/fhir+json", searchset(obsP1Lab))
	tests := []struct {
		target string
		want   int
	}{
		{"/Observation?patient=p1", 200},
		{"/Observation?patient=Patient/p1", 200},
		{"/Observation?subject=Patient/p1", 200},
		{"/Observation?subject:Patient=p1", 200},
		{"/Observation?subject=p1", 200},
		{"/Observation?patient=p2", 403},
		{"/Observation?patient=Patient/p2", 403},
		{"/Observation?subject=Patient/p2", 403},
		{"/Observation?subject:Patient=p2", 403},
		{"/Observation?subject=p2", 403},
		{"/Observation?subject=http://evil.example.org/Patient/p1", 403},
		{"/Observation?subject=Patient/p1,Patient/p2", 403},
		{"/Observation?patient=p1&patient=p2", 403},
		{"/Observation?SUBJECT=Patient/p2", 403},
		{"/Observation?Patient=p2", 403},
		{"/Observation?performer=Patient/p2", 403},
		{"/Observation?subject=Group/g1", 200},
		{"/Observation?subject:Group=g1", 200},
		{"/Observation?subject:identifier=http://x|1", 403},
		{"/Observation?subject:missing=true", 403},
		{"/Observation?patient:not=p1", 403},
		{"/Observation?patient=", 403},
		{"/Observation?patient=urn:uuid:1", 403},
		{"/Observation?subject.name=Two", 403},
		{"/Observation?patient.identifier=x", 403},
		{"/Observation?_has:Observation:patient:code=1", 403},
		{"/Observation?_filter=subject%20eq%20Patient/p2", 403},
		{"/Patient?_id=p1", 200},
		{"/Patient?_id=p1,p2", 403},
		{"/Patient?_ID=p2", 403},
		{"/Patient?link=Patient/p2", 403},
		{"/Patient/p1/Observation?subject=Patient/p2", 403},
		{"/?_type=Observation&patient=p2", 403},
		{"/?_type=Observation&patient=p1", 200},
		{"/?patient=p2", 403},
		{"/Observation?code=1234-5", 200},
		{"/Observation?patient%3Dp2=1", 200}, // a parameter named "patient=p2": no patient
	}
	for _, tt := range tests {
		rec := serveWith(t, "patient/*.rs", "GET", tt.target, nil, ok, middleware.WithSearchesFilteredByHandler())
		assert.Equal(t, tt.want, rec.Code, tt.target)
	}

	// POST _search: the form body counts as parameters.
	for body, want := range map[string]int{"patient=p1": 200, "patient=p2": 403, "subject=Patient%2Fp2": 403, "code=1": 200} {
		h := withLaunchContext(lcWith("p1", "patient/*.rs"))(middleware.RequireFHIRScopes(middleware.WithSearchesFilteredByHandler())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			assert.Equal(t, body, string(b), "the handler reads the whole body")
			ok.ServeHTTP(w, r)
		})))
		r := httptest.NewRequest("POST", "/Observation/_search", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		assert.Equal(t, want, rec.Code, body)
	}

	// With user/ constrained scopes the patient parameters are the
	// response's business; chains are still refused.
	rec := serveWith(t, "user/Observation.rs?category=laboratory", "GET", "/Observation?patient=p2&category=laboratory", nil, fixedHandler(200, "application/fhir+json", searchset(obsP2Lab)))
	assert.Equal(t, 200, rec.Code)
	rec = serveWith(t, "user/Observation.rs?category=laboratory", "GET", "/Observation?patient.name=x", nil, ok)
	assert.Equal(t, 403, rec.Code)
	// Unrestricted: nothing is checked.
	rec = serveWith(t, "user/Observation.rs", "GET", "/Observation?patient.name=x", nil, ok)
	assert.Equal(t, 200, rec.Code)
}

// storeLoader is a ResourceLoader over a map "Type/id" -> JSON.
type storeLoader map[string]string

func (s storeLoader) LoadResource(_ context.Context, typ, id string) ([]byte, error) {
	b, ok := s[typ+"/"+id]
	if !ok {
		return nil, middleware.ErrResourceNotFound
	}
	return []byte(b), nil
}

func TestRequireFHIRScopesWrites(t *testing.T) {
	loader := middleware.WithResourceLoader(storeLoader{"Observation/o1": obsP1Lab, "Observation/o3": obsP2Lab, "Patient/p1": patientP1, "Patient/p2": patientP2})
	// created answers 201 with the resource written (or nothing for a
	// delete).
	created := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(201)
		_, _ = w.Write(b)
	})
	p2Subject := strings.Replace(obsP1Lab, "Patient/p1", "Patient/p2", 1)
	tests := []struct {
		name, scopes, method, target, body string
		opts                               []middleware.FHIRScopeOption
		want                               int
	}{
		{"create own", "patient/Observation.crus", "POST", "/Observation", obsP1Lab, nil, 201},
		{"create in another compartment", "patient/Observation.crus", "POST", "/Observation", obsP2Lab, nil, 403},
		{"create of another type", "patient/Observation.crus", "POST", "/Observation", patientP1, nil, 403},
		{"create not JSON", "patient/Observation.crus", "POST", "/Observation", "<Observation/>", nil, 403},
		{"create outside constraint", labScope + " patient/Observation.c?category=laboratory", "POST", "/Observation", obsP1Vital, nil, 403},
		{"update own with loader", "patient/Observation.u", "PUT", "/Observation/o1", obsP1Lab, []middleware.FHIRScopeOption{loader}, 201},
		{"update own without loader", "patient/Observation.u", "PUT", "/Observation/o1", obsP1Lab, nil, 403},
		{"update into another compartment", "patient/Observation.u", "PUT", "/Observation/o1", p2Subject, []middleware.FHIRScopeOption{loader}, 403},
		{"update of another's resource", "patient/Observation.u", "PUT", "/Observation/o3", strings.Replace(obsP2Lab, "Patient/p2", "Patient/p1", 1), []middleware.FHIRScopeOption{loader}, 403},
		{"update with id mismatch", "patient/Observation.u", "PUT", "/Observation/o1", strings.Replace(obsP1Lab, `"o1"`, `"o3"`, 1), []middleware.FHIRScopeOption{loader}, 403},
		{"update creates", "patient/Observation.u", "PUT", "/Observation/new", strings.Replace(obsP1Lab, `"o1"`, `"new"`, 1), []middleware.FHIRScopeOption{loader}, 201},
		{"conditional update", "patient/Observation.u", "PUT", "/Observation?identifier=x", obsP1Lab, []middleware.FHIRScopeOption{loader}, 403},
		{"delete own", "patient/Observation.d", "DELETE", "/Observation/o1", "", []middleware.FHIRScopeOption{loader}, 201},
		{"delete another's", "patient/Observation.d", "DELETE", "/Observation/o3", "", []middleware.FHIRScopeOption{loader}, 403},
		{"delete without loader", "patient/Observation.d", "DELETE", "/Observation/o1", "", nil, 403},
		{"conditional delete", "patient/Observation.d", "DELETE", "/Observation?code=x", "", []middleware.FHIRScopeOption{loader}, 403},
		{"update own patient without loader", "patient/Patient.ru", "PUT", "/Patient/p1", patientP1, nil, 201},
		{"update non-compartment type", "patient/Medication.u", "PUT", "/Medication/m1", medication, nil, 201},
		{"unrestricted update", "user/Observation.u", "PUT", "/Observation/o3", obsP2Lab, nil, 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			rec := serveWith(t, tt.scopes, tt.method, tt.target, body, created, tt.opts...)
			assert.Equal(t, tt.want, rec.Code, rec.Body.String())
		})
	}
}

func TestRequireFHIRScopesPatch(t *testing.T) {
	loader := middleware.WithResourceLoader(storeLoader{"Observation/o1": obsP1Lab})
	tests := []struct {
		contentType, patch string
		want               int
	}{
		{"application/json-patch+json", `[{"op":"add","path":"/status","value":"final"}]`, 200},
		{"application/json-patch+json", `[{"op":"replace","path":"/status","value":"final"}]`, 403}, // no such member
		{"application/json-patch+json", `[{"op":"replace","path":"/subject/reference","value":"Patient/p2"}]`, 403},
		{"application/json-patch+json", `[{"op":"remove","path":"/subject"}]`, 403},
		{"application/json-patch+json", `[{"op":"replace","path":"/id","value":"o3"}]`, 403},
		{"application/json-patch+json", `[{"op":"test","path":"/id","value":"nope"}]`, 403},
		{"application/json-patch+json", `not json`, 403},
		{"application/fhir+json", `{"resourceType":"Parameters"}`, 403},
	}
	for _, tt := range tests {
		h := withLaunchContext(lcWith("p1", "patient/Observation.rus"))(middleware.RequireFHIRScopes(loader)(fixedHandler(200, "application/fhir+json", obsP1Lab)))
		r := httptest.NewRequest("PATCH", "/Observation/o1", strings.NewReader(tt.patch))
		r.Header.Set("Content-Type", tt.contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		assert.Equal(t, tt.want, rec.Code, tt.patch)
	}
}

func TestRequireFHIRScopesBatch(t *testing.T) {
	batch := func(entries ...string) string {
		return `{"resourceType":"Bundle","type":"batch","entry":[` + strings.Join(entries, ",") + `]}`
	}
	get := func(u string) string { return `{"request":{"method":"GET","url":"` + u + `"}}` }
	post := func(u, res string) string {
		return `{"resource":` + res + `,"request":{"method":"POST","url":"` + u + `"}}`
	}
	response := func(resources ...string) string {
		entries := make([]string, len(resources))
		for i, r := range resources {
			entries[i] = `{"resource":` + r + `,"response":{"status":"200 OK"}}`
		}
		return `{"resourceType":"Bundle","type":"batch-response","entry":[` + strings.Join(entries, ",") + `]}`
	}
	tests := []struct {
		name, scopes, body, resp string
		want                     int
	}{
		{"own reads", "patient/*.rs", batch(get("Observation/o1"), get("Patient/p1")), response(obsP1Lab, patientP1), 200},
		{"foreign data in the response", "patient/*.rs", batch(get("Observation/o1"), get("Observation/o3")), response(obsP1Lab, obsP2Lab), 403},
		{"other patient's path", "patient/*.rs", batch(get("Observation/o1"), get("Patient/p2")), response(obsP1Lab, patientP2), 403},
		{"other patient by search", "patient/*.rs", batch(get("Observation?patient=p2")), response(searchset()), 403},
		{"entry needs its own scope", "patient/Observation.rs", batch(get("Observation/o1"), get("Condition/c1")), response(obsP1Lab, obsP1Lab), 403},
		{"write into another compartment", "patient/*.cruds", batch(post("Observation", obsP2Lab)), response(obsP2Lab), 403},
		{"own write", "patient/*.cruds", batch(post("Observation", obsP1Lab)), response(obsP1Lab), 200},
		{"entry count differs", "patient/*.rs", batch(get("Observation/o1")), response(obsP1Lab, obsP1Lab), 403},
		{"nested batch", "user/*.cruds", batch(post("", batch())), response(), 403},
		{"unrestricted", "user/*.cruds", batch(get("Observation/o3")), response(obsP2Lab), 200},
		{"unrestricted entry is still decided", "user/Observation.rs", batch(get("Observation/o3"), `{"request":{"method":"DELETE","url":"Patient/p2"}}`), response(obsP2Lab, obsP2Lab), 403},
		{"absolute entry URL", "user/*.cruds", batch(get("https://elsewhere.example.org/Observation/o3")), response(obsP2Lab), 403},
		{"not a batch", "user/*.cruds", searchset(), response(), 403},
		{"no request", "user/*.cruds", batch(`{"resource":` + obsP1Lab + `}`), response(), 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serveWith(t, tt.scopes, "POST", "/", strings.NewReader(tt.body), fixedHandler(200, "application/fhir+json", tt.resp))
			assert.Equal(t, tt.want, rec.Code, rec.Body.String())
			if tt.want != 200 {
				assert.NotContains(t, rec.Body.String(), "p2")
			}
		})
	}
}

func TestAccessFrom(t *testing.T) {
	zero := middleware.AccessFrom(context.Background())
	assert.False(t, zero.Unrestricted(), "fails closed")
	assert.False(t, zero.Enforced())
	assert.Nil(t, zero.Alternatives())
	assert.False(t, zero.Permits(map[string]any{"resourceType": "Medication"}))
	ok, err := zero.PermitsJSON([]byte(medication))
	assert.NoError(t, err)
	assert.False(t, ok)

	var got middleware.Access
	h := withLaunchContext(lcWith("p1", mixedScopes))(middleware.RequireFHIRScopes(middleware.WithEnforcementByHandler())(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got = middleware.AccessFrom(r.Context())
	})))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/Observation", nil))
	assert.False(t, got.Unrestricted())
	assert.False(t, got.Enforced())
	assert.Equal(t, []middleware.Alternative{
		{Scope: "patient/*.rs", Context: scope.Patient, Patient: "p1"},
		{Scope: "user/Observation.rs?category=laboratory", Context: scope.User, Params: []scope.Param{{Name: "category", Value: "laboratory"}}},
	}, got.Alternatives())
	for body, want := range map[string]bool{obsP1Vital: true, obsP2Lab: true, obsP2Vital: false, medication: true, patientP2: false, searchset(obsP1Lab, obsP2Vital): false} {
		ok, err := got.PermitsJSON([]byte(body))
		require.NoError(t, err)
		assert.Equal(t, want, ok, body)
	}
	_, err = got.PermitsJSON([]byte("<xml/>"))
	assert.ErrorIs(t, err, middleware.ErrNotJSON)

	// An unrestricted request: its type is permitted whatever it holds,
	// other types as the token's scopes say.
	h = withLaunchContext(lcWith("p1", "user/Observation.rs patient/Medication.rs"))(middleware.RequireFHIRScopes()(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got = middleware.AccessFrom(r.Context())
	})))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/Observation", nil))
	assert.True(t, got.Unrestricted())
	for body, want := range map[string]bool{obsP2Vital: true, medication: true, patientP1: false, searchset(obsP2Lab, patientP2): false} {
		ok, err := got.PermitsJSON([]byte(body))
		require.NoError(t, err)
		assert.Equal(t, want, ok, body)
	}
}

func TestRequireFHIRScopesAuditsWithheldResponses(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	lc := lcWith("p1", "patient/Observation.rs")
	lc.ClientID = "app-1"
	h := withLaunchContext(lc)(middleware.RequireFHIRScopes(middleware.WithAuditLogger(logger))(fixedHandler(200, "application/fhir+json", obsP2Vital)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/Observation/o4?x="+url.QueryEscape("secret"), nil))
	assert.Equal(t, 403, rec.Code)
	line := buf.String()
	assert.Contains(t, line, `msg="smartauth: response withheld" reason=resource_not_permitted interaction=read resource_type=Observation client_id=app-1`)
	for _, leak := range []string{"p2", "o4", "p1", "secret", "vital"} {
		assert.NotContains(t, line, leak)
	}
}

// TestRequireFHIRScopesSearchesRestrictThemselves: by default a restricted
// search must ask only for data one alternative permits, so that a server
// that does not filter cannot be used as an oracle (a search withheld or
// not depending on other patients' data, or a total counting it).
func TestRequireFHIRScopesSearchesRestrictThemselves(t *testing.T) {
	ok := fixedHandler(200, "application/fhir+json", searchset())
	tests := []struct {
		scopes, target string
		want           int
	}{
		{"patient/*.rs", "/Observation?patient=p1", 200},
		{"patient/*.rs", "/Observation?subject=Patient/p1&code=1", 200},
		{"patient/*.rs", "/Patient/p1/Observation?code=1", 200},
		{"patient/*.rs", "/Patient?_id=p1", 200},
		{"patient/*.rs", "/Medication?code=1", 200},
		{"patient/*.rs", "/Observation?code=1", 403},
		{"patient/*.rs", "/Observation?_summary=count", 403},
		{"patient/*.rs", "/Patient?family=Two", 403},
		{"patient/*.rs", "/Observation?subject=Group/g1", 403},
		{"patient/*.rs", "/Observation/_history", 403},
		{"patient/*.rs", "/?_type=Observation&patient=p1", 200},
		{"patient/*.rs", "/?_type=Observation", 403},
		{labScope, "/Observation?patient=p1&category=laboratory", 200},
		{labScope, "/Observation?patient=p1", 403},
		{labScope, "/Observation?category=laboratory", 403},
		{mixedScopes, "/Observation?category=laboratory", 200},
		{mixedScopes, "/Observation?patient=p1", 200},
		{mixedScopes, "/Observation?code=1", 403},
		{"user/Observation.rs", "/Observation?code=1", 200},
	}
	for _, tt := range tests {
		rec := serveWith(t, tt.scopes, "GET", tt.target, nil, ok)
		assert.Equal(t, tt.want, rec.Code, "%s %s", tt.scopes, tt.target)
		if tt.want == 403 {
			assert.Contains(t, rec.Body.String(), "The search must be restricted")
		}
		rec = serveWith(t, tt.scopes, "GET", tt.target, nil, ok, middleware.WithSearchesFilteredByHandler())
		assert.Equal(t, 200, rec.Code, "opt-out: %s %s", tt.scopes, tt.target)
	}
}
