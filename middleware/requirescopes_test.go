package middleware_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/scope"
)

const (
	rsDenied      = `Bearer realm="smartauth", error="insufficient_scope", error_description="The access token does not grant the scope this request requires"`
	rsUnauthed    = `Bearer realm="smartauth"`
	rsDeniedBody  = `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden","diagnostics":"The access token does not grant the scope this request requires"}]}`
	rsMissingBody = `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"login","diagnostics":"The request carries no bearer token"}]}`
	labScope      = "patient/Observation.rs?category=laboratory"
	vitalScope    = "patient/Observation.rs?category=vital-signs"
)

// rsResult is what a request through the middleware produced.
type rsResult struct {
	rec    *httptest.ResponseRecorder
	called bool
	access middleware.Access
}

// withLaunchContext stores lc (if not nil) in the request context, as
// Authenticate does.
func withLaunchContext(lc *middleware.LaunchContext) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if lc != nil {
				r = r.WithContext(middleware.NewContext(r.Context(), lc))
			}
			next.ServeHTTP(w, r)
		})
	}
}

func serveThrough(mw func(http.Handler) http.Handler, lc *middleware.LaunchContext, method, target string) rsResult {
	var res rsResult
	h := withLaunchContext(lc)(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res.called = true
		res.access = middleware.AccessFrom(r.Context())
		w.WriteHeader(http.StatusOK)
	})))
	res.rec = httptest.NewRecorder()
	h.ServeHTTP(res.rec, httptest.NewRequest(method, target, nil))
	return res
}

func lcWith(patient, scopes string) *middleware.LaunchContext {
	return &middleware.LaunchContext{Patient: patient, Scopes: scope.Parse(scopes)}
}

// accessWant is the expected Access of an allowed request.
type accessWant struct {
	unrestricted bool
	patientOnly  bool                     // every alternative is the patient compartment of "123", unconstrained
	alts         []middleware.Alternative // else: exactly these
}

// Expected outcomes.
var (
	unrestricted = &accessWant{unrestricted: true}
	patientOnly  = &accessWant{patientOnly: true}
	noAccess     = (*accessWant)(nil) // let through without decision
)

// alts is the accessWant of exactly these alternatives.
func alts(a ...middleware.Alternative) *accessWant { return &accessWant{alts: a} }

// assertAccess checks an Access against want.
func assertAccess(t *testing.T, want *accessWant, got middleware.Access) {
	t.Helper()
	if want == nil {
		assert.Equal(t, middleware.Access{}, got, "no decision")
		assert.False(t, got.Unrestricted())
		return
	}
	assert.Equal(t, want.unrestricted, got.Unrestricted(), "Unrestricted")
	switch {
	case want.unrestricted:
		assert.Nil(t, got.Alternatives())
		assert.False(t, got.Enforced())
	case want.patientOnly:
		require.NotEmpty(t, got.Alternatives())
		for _, a := range got.Alternatives() {
			assert.Equal(t, "123", a.Patient, a.Scope)
			assert.Equal(t, scope.Patient, a.Context, a.Scope)
			assert.Nil(t, a.Params, a.Scope)
		}
	default:
		assert.Equal(t, want.alts, got.Alternatives())
	}
}

func denied(hint string) string {
	if hint == "" {
		return rsDenied
	}
	return rsDenied + `, scope="` + hint + `"`
}

func TestRequireFHIRScopes(t *testing.T) {
	lab := []scope.Param{{Name: "category", Value: "laboratory"}}
	vital := []scope.Param{{Name: "category", Value: "vital-signs"}}
	labAlt := middleware.Alternative{Scope: labScope, Context: scope.Patient, Patient: "123", Params: lab}
	tests := []struct {
		name           string
		patient        string
		scopes         string
		method, target string
		want           *accessWant // nil with status 200: passed without decision
		status         int
		hint           string // for 403
	}{
		// patient/ scopes.
		{"search", "123", "patient/Observation.rs", "GET", "/fhir/Observation?code=x", patientOnly, 200, ""},
		{"search via _search GET", "123", "patient/Observation.rs", "GET", "/fhir/Observation/_search", patientOnly, 200, ""},
		{"search via _search POST", "123", "patient/Observation.rs", "POST", "/fhir/Observation/_search", patientOnly, 200, ""},
		{"read", "123", "patient/Observation.rs", "GET", "/fhir/Observation/1", patientOnly, 200, ""},
		{"head read", "123", "patient/Observation.rs", "HEAD", "/fhir/Observation/1", patientOnly, 200, ""},
		{"options read", "123", "patient/Observation.rs", "OPTIONS", "/fhir/Observation/1", patientOnly, 200, ""},
		{"vread", "123", "patient/Observation.r", "GET", "/fhir/Observation/1/_history/2", patientOnly, 200, ""},
		{"history-instance", "123", "patient/Observation.r", "GET", "/fhir/Observation/1/_history", patientOnly, 200, ""},
		{"history-instance needs r", "123", "patient/Observation.s", "GET", "/fhir/Observation/1/_history", nil, 403, "patient/Observation.r"},
		{"history-type", "123", "patient/Observation.s", "GET", "/fhir/Observation/_history", patientOnly, 200, ""},
		{"history-type needs s", "123", "patient/Observation.r", "GET", "/fhir/Observation/_history", nil, 403, "patient/Observation.s"},
		{"read needs r", "123", "patient/Observation.s", "GET", "/fhir/Observation/1", nil, 403, "patient/Observation.r"},
		{"search needs s", "123", "patient/Observation.r", "GET", "/fhir/Observation", nil, 403, "patient/Observation.s"},
		{"create", "123", "patient/Observation.c", "POST", "/fhir/Observation", patientOnly, 200, ""},
		{"create denied", "123", "patient/Observation.rs", "POST", "/fhir/Observation", nil, 403, "patient/Observation.c"},
		{"update", "123", "patient/Observation.u", "PUT", "/fhir/Observation/1", patientOnly, 200, ""},
		{"update denied", "123", "patient/Observation.rs", "PUT", "/fhir/Observation/1", nil, 403, "patient/Observation.u"},
		{"patch", "123", "patient/Observation.u", "PATCH", "/fhir/Observation/1", patientOnly, 200, ""},
		{"patch denied", "123", "patient/Observation.cd", "PATCH", "/fhir/Observation/1", nil, 403, "patient/Observation.u"},
		{"delete", "123", "patient/Observation.d", "DELETE", "/fhir/Observation/1", patientOnly, 200, ""},
		{"delete denied", "123", "patient/Observation.cru", "DELETE", "/fhir/Observation/1", nil, 403, "patient/Observation.d"},
		{"exact type", "123", "patient/Observation.rs", "GET", "/fhir/ObservationDefinition/1", nil, 403, "patient/ObservationDefinition.r"},
		{"wildcard", "123", "patient/*.rs", "GET", "/fhir/Condition?code=x", patientOnly, 200, ""},
		{"union of scopes", "123", "patient/Observation.r patient/Observation.s", "GET", "/fhir/Observation", patientOnly, 200, ""},
		{"own patient", "123", "patient/Patient.r", "GET", "/fhir/Patient/123", patientOnly, 200, ""},
		{"other patient", "123", "patient/Patient.r", "GET", "/fhir/Patient/456", nil, 403, "user/Patient.r"},
		{"own compartment", "123", "patient/Observation.rs", "GET", "/fhir/Patient/123/Observation", patientOnly, 200, ""},
		{"own compartment _search", "123", "patient/Observation.rs", "POST", "/fhir/Patient/123/Observation/_search", patientOnly, 200, ""},
		{"other compartment", "123", "patient/Observation.rs", "GET", "/fhir/Patient/456/Observation", nil, 403, "user/Observation.s"},
		{"compartment all types needs *", "123", "patient/Observation.rs", "GET", "/fhir/Patient/123/*", nil, 403, "patient/*.s"},
		{"compartment all types", "123", "patient/*.rs", "GET", "/fhir/Patient/123/*", patientOnly, 200, ""},
		{"encounter compartment", "123", "patient/Observation.rs", "GET", "/fhir/Encounter/9/Observation", patientOnly, 200, ""},
		{"no patient in context", "", "patient/Observation.rs", "GET", "/fhir/Observation", nil, 403, "user/Observation.s"},
		{"system search needs *", "123", "patient/Observation.rs", "GET", "/fhir?_type=Observation", nil, 403, "patient/*.s"},
		{"system search", "123", "patient/*.s", "GET", "/fhir?_type=Observation", patientOnly, 200, ""},
		{"system _search", "123", "patient/*.s", "POST", "/fhir/_search", patientOnly, 200, ""},
		{"history-system", "123", "patient/Observation.rs", "GET", "/fhir/_history", nil, 403, "patient/*.s"},
		{"malformed scope", "123", "patient/Observation.sr", "GET", "/fhir/Observation", nil, 403, "patient/Observation.s user/Observation.s"},
		{"lower-case type scope", "123", "patient/observation.rs", "GET", "/fhir/Observation", nil, 403, "patient/Observation.s user/Observation.s"},
		{"non-clinical scopes only", "123", "launch/patient openid fhirUser", "GET", "/fhir/Observation/1", nil, 403, "patient/Observation.r user/Observation.r"},
		{"empty scope", "", "", "GET", "/fhir/Observation/1", nil, 403, "user/Observation.r"},

		// user/ and system/ scopes.
		{"user search", "", "user/Observation.rs", "GET", "/fhir/Observation", unrestricted, 200, ""},
		{"user any compartment", "123", "user/Observation.rs", "GET", "/fhir/Patient/456/Observation", unrestricted, 200, ""},
		{"user wins over patient", "123", "patient/Observation.rs user/Observation.r", "GET", "/fhir/Observation/1", unrestricted, 200, ""},
		{"user denied", "", "user/Observation.rs", "DELETE", "/fhir/Observation/1", nil, 403, "user/Observation.d"},
		{"user and patient hint", "123", "patient/Observation.rs user/Observation.rs", "DELETE", "/fhir/Observation/1", nil, 403, "patient/Observation.d user/Observation.d"},
		{"user cruds", "", "user/*.cruds", "PATCH", "/fhir/Appointment/a", unrestricted, 200, ""},
		{"system read", "", "system/*.rs", "GET", "/fhir/Patient/1", unrestricted, 200, ""},
		{"system history-system", "", "system/*.rs", "GET", "/fhir/_history", unrestricted, 200, ""},
		{"system search", "", "system/*.rs", "GET", "/fhir", unrestricted, 200, ""},
		{"system write denied", "", "system/*.rs", "POST", "/fhir/Observation", nil, 403, "system/Observation.c"},
		{"system cud", "", "system/Encounter.cud", "PUT", "/fhir/Encounter/e", unrestricted, 200, ""},

		// SMART v1 scopes.
		{"v1 read", "123", "patient/*.read", "GET", "/fhir/Condition/1", patientOnly, 200, ""},
		{"v1 read search", "123", "patient/*.read", "GET", "/fhir/Condition", patientOnly, 200, ""},
		{"v1 read no write", "123", "patient/*.read", "POST", "/fhir/Condition", nil, 403, "patient/Condition.c"},
		{"v1 write", "", "user/Patient.write", "PUT", "/fhir/Patient/1", unrestricted, 200, ""},
		{"v1 write delete", "", "user/Patient.write", "DELETE", "/fhir/Patient/1", unrestricted, 200, ""},
		{"v1 write no read", "", "user/Patient.write", "GET", "/fhir/Patient/1", nil, 403, "user/Patient.r"},
		{"v1 star", "", "user/*.*", "DELETE", "/fhir/Patient/1", unrestricted, 200, ""},
		{"v1 system", "", "system/*.read", "GET", "/fhir/Patient", unrestricted, 200, ""},

		// Operations (default rule).
		{"instance op", "123", "patient/Patient.r", "GET", "/fhir/Patient/123/$everything", patientOnly, 200, ""},
		{"instance op other patient", "123", "patient/Patient.r", "GET", "/fhir/Patient/456/$everything", nil, 403, "user/Patient.r"},
		{"instance op needs r", "123", "patient/Patient.s", "POST", "/fhir/Patient/123/$everything", nil, 403, "patient/Patient.r"},
		{"type op", "", "user/ValueSet.s", "POST", "/fhir/ValueSet/$expand", unrestricted, 200, ""},
		{"type op needs s", "", "user/ValueSet.r", "GET", "/fhir/ValueSet/$expand", nil, 403, "user/ValueSet.s"},
		{"version op", "", "user/Patient.r", "POST", "/fhir/Patient/1/_history/2/$meta", unrestricted, 200, ""},
		{"system op", "", "user/*.cruds system/*.cruds", "GET", "/fhir/$export-poll-status", nil, 403, ""},

		// Capabilities, batch, not FHIR.
		{"metadata", "", "", "GET", "/fhir/metadata", noAccess, 200, ""},
		{"metadata head", "", "", "HEAD", "/fhir/metadata", noAccess, 200, ""},
		{"not FHIR", "", "user/*.cruds", "GET", "/fhir/patient/1", nil, 403, ""},
		{"outside base", "", "user/*.cruds", "GET", "/other/Patient/1", nil, 403, ""},
		{"traversal", "", "user/*.cruds", "GET", "/fhir/Patient/..", nil, 403, ""},
		{"empty segment", "", "user/*.cruds", "GET", "/fhir/Patient//1", nil, 403, ""},
		{"bad method", "", "user/*.cruds", "POST", "/fhir/Patient/1", nil, 403, ""},

		// Search parameter constraints.
		{"constrained search", "123", labScope, "GET", "/fhir/Observation",
			alts(labAlt), 200, ""},
		{"constrained read", "123", labScope, "GET", "/fhir/Observation/1",
			alts(labAlt), 200, ""},
		{"constrained search matching", "123", labScope, "GET", "/fhir/Observation?category=laboratory&code=x",
			alts(labAlt), 200, ""},
		{"constrained search value list", "123", labScope, "GET", "/fhir/Observation?category=vital-signs,laboratory",
			alts(labAlt), 200, ""},
		{"constrained search modifier not compared", "123", labScope, "GET", "/fhir/Observation?category:not=laboratory",
			alts(labAlt), 200, ""},
		{"constrained search contradicted", "123", labScope, "GET", "/fhir/Observation?category=vital-signs", nil, 403, ""},
		{"constrained search contradicted twice", "123", labScope, "GET", "/fhir/Observation?category=laboratory&category=vital-signs", nil, 403, ""},
		{"constrained compartment search contradicted", "123", labScope, "GET", "/fhir/Patient/123/Observation?category=imaging", nil, 403, ""},
		{"constrained read not checked against query", "123", labScope, "GET", "/fhir/Observation/1?category=imaging",
			alts(labAlt), 200, ""},
		{"two constrained, one matches", "123", labScope + " " + vitalScope, "GET", "/fhir/Observation?category=vital-signs",
			alts(labAlt, middleware.Alternative{Scope: vitalScope, Context: scope.Patient, Patient: "123", Params: vital}), 200, ""},
		{"two constrained, none matches", "123", labScope + " " + vitalScope, "GET", "/fhir/Observation?category=imaging", nil, 403, ""},
		{"constrained wrong letter", "123", labScope, "POST", "/fhir/Observation", nil, 403, "patient/Observation.c"},
		{"unconstrained patient dominates", "123", labScope + " patient/Observation.rs", "GET", "/fhir/Observation?category=imaging", patientOnly, 200, ""},
		{"unconstrained user dominates", "123", labScope + " user/Observation.rs", "GET", "/fhir/Observation?category=imaging", unrestricted, 200, ""},
		{"patient or constrained user", "123", "patient/Observation.rs user/Observation.rs?category=laboratory", "GET", "/fhir/Observation?category=imaging",
			alts(middleware.Alternative{Scope: "patient/Observation.rs", Context: scope.Patient, Patient: "123"},
				middleware.Alternative{Scope: "user/Observation.rs?category=laboratory", Context: scope.User, Params: lab}), 200, ""},
		{"constrained user", "", "user/Observation.rs?category=laboratory", "GET", "/fhir/Observation",
			alts(middleware.Alternative{Scope: "user/Observation.rs?category=laboratory", Context: scope.User, Params: lab}), 200, ""},
		{"constrained patient ignored without patient", "", labScope + " system/Observation.s?category=laboratory", "GET", "/fhir/Observation",
			alts(middleware.Alternative{Scope: "system/Observation.s?category=laboratory", Context: scope.System, Params: lab}), 200, ""},
	}
	// The request-level decision, without the body and response checks
	// (tested on their own below).
	mw := middleware.RequireFHIRScopes(middleware.WithBasePath("/fhir"), middleware.WithEnforcementByHandler())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := serveThrough(mw, lcWith(tt.patient, tt.scopes), tt.method, tt.target)
			require.Equal(t, tt.status, res.rec.Code)
			if tt.status == http.StatusOK {
				assert.True(t, res.called)
				assert.Empty(t, res.rec.Header().Get("WWW-Authenticate"))
				assertAccess(t, tt.want, res.access)
				return
			}
			assert.False(t, res.called)
			assert.Equal(t, denied(tt.hint), res.rec.Header().Get("WWW-Authenticate"))
			assert.Equal(t, "application/fhir+json", res.rec.Header().Get("Content-Type"))
			assert.Equal(t, rsDeniedBody, res.rec.Body.String())
		})
	}
}

func TestRequireFHIRScopesWithoutLaunchContext(t *testing.T) {
	mw := middleware.RequireFHIRScopes(middleware.WithBasePath("/fhir"))
	for _, target := range []string{"/fhir/Patient/1", "/fhir/patient/1", "/elsewhere", "/fhir"} {
		res := serveThrough(mw, nil, "GET", target)
		assert.Equal(t, http.StatusUnauthorized, res.rec.Code, target)
		assert.Equal(t, rsUnauthed, res.rec.Header().Get("WWW-Authenticate"), target)
		assert.Equal(t, rsMissingBody, res.rec.Body.String(), target)
		assert.False(t, res.called)
	}
	res := serveThrough(mw, nil, "GET", "/fhir/metadata")
	assert.Equal(t, http.StatusOK, res.rec.Code)
	assert.True(t, res.called)
	assertAccess(t, noAccess, res.access)
}

func TestRequireFHIRScopesErrors(t *testing.T) {
	var got []*middleware.AuthError
	eh := func(w http.ResponseWriter, _ *http.Request, err *middleware.AuthError) {
		got = append(got, err)
		w.WriteHeader(err.Status)
	}
	mw := middleware.RequireFHIRScopes(middleware.WithErrorHandler(eh))
	lc := lcWith("123", "patient/Observation.rs")
	serveThrough(mw, nil, "GET", "/Observation")
	serveThrough(mw, lc, "GET", "/Observation/1/x/y")
	serveThrough(mw, lc, "DELETE", "/Observation/1")
	require.Len(t, got, 3)

	assert.Equal(t, &middleware.AuthError{Status: 401, Reason: "missing_token", Err: middleware.ErrMissingToken}, got[0])

	assert.Equal(t, 403, got[1].Status)
	assert.Equal(t, "insufficient_scope", got[1].Code)
	assert.Equal(t, "insufficient_scope", got[1].Reason)
	assert.Empty(t, got[1].Scope)
	assert.ErrorIs(t, got[1], middleware.ErrInsufficientScope)
	assert.ErrorIs(t, got[1], middleware.ErrNotFHIRRequest)

	assert.Equal(t, &middleware.AuthError{Status: 403, Code: "insufficient_scope", Reason: "insufficient_scope",
		Scope: "patient/Observation.d", Err: middleware.ErrInsufficientScope}, got[2])

	// A nil handler restores the default.
	res := serveThrough(middleware.RequireFHIRScopes(middleware.WithErrorHandler(nil)), lc, "DELETE", "/Observation/1")
	assert.Equal(t, denied("patient/Observation.d"), res.rec.Header().Get("WWW-Authenticate"))
	// So does NewErrorHandler with another realm.
	res = serveThrough(middleware.RequireFHIRScopes(middleware.WithErrorHandler(middleware.NewErrorHandler("ehr"))), lc, "DELETE", "/Observation/1")
	assert.Equal(t, strings.Replace(denied("patient/Observation.d"), `"smartauth"`, `"ehr"`, 1), res.rec.Header().Get("WWW-Authenticate"))
}

func TestRequireFHIRScopesOperationRule(t *testing.T) {
	rule := func(fr middleware.FHIRRequest) (scope.Interaction, string, bool) {
		switch {
		case fr.Operation == "reindex" && fr.ResourceType == "":
			return scope.InteractionSearch, "*", true
		case fr.Operation == "everything":
			return 0, "", false
		}
		return middleware.DefaultOperationRule(fr)
	}
	mw := middleware.RequireFHIRScopes(middleware.WithBasePath("/fhir"), middleware.WithOperationRule(rule))
	tests := []struct {
		scopes, method, target string
		status                 int
		hint                   string
	}{
		{"system/*.rs", "GET", "/fhir/$reindex", 200, ""},
		{"system/Patient.rs", "GET", "/fhir/$reindex", 403, "system/*.s"},
		{"user/*.cruds", "GET", "/fhir/Patient/1/$everything", 403, ""},
		{"user/ValueSet.s", "GET", "/fhir/ValueSet/$expand", 200, ""},
		{"user/ValueSet.r", "GET", "/fhir/ValueSet/1/$expand", 200, ""},
		{"user/*.cruds", "GET", "/fhir/$meta", 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.scopes+" "+tt.target, func(t *testing.T) {
			res := serveThrough(mw, lcWith("", tt.scopes), tt.method, tt.target)
			assert.Equal(t, tt.status, res.rec.Code)
			if tt.status == 403 {
				assert.Equal(t, denied(tt.hint), res.rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
	// A nil rule restores the default (system-level refused).
	res := serveThrough(middleware.RequireFHIRScopes(middleware.WithOperationRule(nil)), lcWith("", "system/*.cruds"), "GET", "/$reindex")
	assert.Equal(t, http.StatusForbidden, res.rec.Code)
}

func TestDefaultOperationRule(t *testing.T) {
	tests := []struct {
		fr   middleware.FHIRRequest
		i    scope.Interaction
		typ  string
		want bool
	}{
		{middleware.FHIRRequest{Interaction: scope.InteractionOperation, ResourceType: "Patient", ID: "1", Operation: "everything"}, scope.InteractionRead, "Patient", true},
		{middleware.FHIRRequest{Interaction: scope.InteractionOperation, ResourceType: "ValueSet", Operation: "expand"}, scope.InteractionSearch, "ValueSet", true},
		{middleware.FHIRRequest{Interaction: scope.InteractionOperation, Operation: "export"}, 0, "", false},
	}
	for _, tt := range tests {
		i, typ, ok := middleware.DefaultOperationRule(tt.fr)
		assert.Equal(t, tt.i, i)
		assert.Equal(t, tt.typ, typ)
		assert.Equal(t, tt.want, ok)
	}
}

func TestRequireFHIRScopesWithServeMux(t *testing.T) {
	fhir := middleware.RequireFHIRScopes(middleware.WithBasePath("/fhir"))
	mux := http.NewServeMux()
	mux.Handle("GET /fhir/Patient/{id}", fhir(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = io.WriteString(w, `{"resourceType":"Patient","id":"`+r.PathValue("id")+`"}`)
	})))
	mux.Handle("GET /fhir/metadata", fhir(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "CapabilityStatement")
	})))
	srv := httptest.NewServer(withLaunchContext(lcWith("123", "patient/Patient.rs"))(mux))
	defer srv.Close()

	tests := []struct {
		path   string
		status int
		body   string
		auth   string
	}{
		{"/fhir/Patient/123", 200, `{"resourceType":"Patient","id":"123"}`, ""},
		{"/fhir/Patient/456", 403, rsDeniedBody, denied("user/Patient.r")},
		{"/fhir/metadata", 200, "CapabilityStatement", ""},
	}
	for _, tt := range tests {
		resp, err := srv.Client().Get(srv.URL + tt.path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, tt.status, resp.StatusCode, tt.path)
		assert.Equal(t, tt.body, string(body), tt.path)
		assert.Equal(t, tt.auth, resp.Header.Get("WWW-Authenticate"), tt.path)
	}
}

func TestRequireFHIRScopesStripPrefix(t *testing.T) {
	// Without WithBasePath, the middleware sees paths relative to the base.
	h := http.StripPrefix("/fhir", middleware.RequireFHIRScopes()(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})))
	res := serveThrough(func(next http.Handler) http.Handler { return h }, lcWith("", "user/Patient.r"), "GET", "/fhir/Patient/1")
	assert.Equal(t, http.StatusOK, res.rec.Code)
}

func TestRequireFHIRScopesPanicsOnNil(t *testing.T) {
	assert.Panics(t, func() { middleware.RequireFHIRScopes()(nil) })
}

func TestRequireScopes(t *testing.T) {
	tests := []struct {
		name   string
		lc     *middleware.LaunchContext
		scopes string
		status int
		auth   string
	}{
		{"all present", lcWith("", "openid fhirUser launch"), "openid fhirUser", 200, ""},
		{"one missing", lcWith("", "openid"), "openid fhirUser", 403, denied("fhirUser")},
		{"all missing", lcWith("", "launch"), "openid fhirUser", 403, denied("openid fhirUser")},
		{"exact match only", lcWith("", "launch/patient user/*.cruds"), "launch user/Patient.r", 403, denied("launch user/Patient.r")},
		{"case-sensitive", lcWith("", "fhiruser"), "fhirUser", 403, denied("fhirUser")},
		{"no launch context", nil, "openid", 401, rsUnauthed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := serveThrough(middleware.RequireScopes(tt.scopes), tt.lc, "GET", "/userinfo")
			assert.Equal(t, tt.status, res.rec.Code)
			assert.Equal(t, tt.status == 200, res.called)
			assert.Equal(t, tt.auth, res.rec.Header().Get("WWW-Authenticate"))
		})
	}

	var got *middleware.AuthError
	eh := func(w http.ResponseWriter, _ *http.Request, err *middleware.AuthError) {
		got = err
		w.WriteHeader(err.Status)
	}
	serveThrough(middleware.RequireScopes("openid", middleware.WithErrorHandler(eh)), lcWith("", ""), "GET", "/")
	assert.Equal(t, &middleware.AuthError{Status: 403, Code: "insufficient_scope", Reason: "insufficient_scope",
		Scope: "openid", Err: middleware.ErrInsufficientScope}, got)
	assert.True(t, errors.Is(got, middleware.ErrInsufficientScope))

	// One realm for all three middlewares.
	res := serveThrough(middleware.RequireScopes("openid", middleware.WithRealm("ehr")), lcWith("", ""), "GET", "/")
	assert.Equal(t, `Bearer realm="ehr", error="insufficient_scope", error_description="The access token does not grant the scope this request requires", scope="openid"`,
		res.rec.Header().Get("WWW-Authenticate"))

	for _, bad := range []string{"", " ", "openid  fhirUser", "openid\tfhirUser", `a"b`, "é"} {
		assert.Panics(t, func() { middleware.RequireScopes(bad) }, bad)
	}
	assert.Panics(t, func() { middleware.RequireScopes("openid")(nil) })
}

type rsNopWriter struct{ h http.Header }

func (w *rsNopWriter) Header() http.Header         { return w.h }
func (w *rsNopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *rsNopWriter) WriteHeader(int)             {}

func allowedRequest(scopes, patient, target string) (http.Handler, *http.Request) {
	lc := lcWith(patient, scopes)
	h := middleware.RequireFHIRScopes(middleware.WithBasePath("/fhir"))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest("GET", target, nil)
	return h, r.WithContext(middleware.NewContext(r.Context(), lc))
}

// TestRequireFHIRScopesAllocations: the unrestricted path allocates only
// the request copy carrying the decision.
func TestRequireFHIRScopesAllocations(t *testing.T) {
	for _, tt := range []struct{ scopes, patient, target string }{
		{"launch openid fhirUser user/Patient.rs user/Observation.rs", "", "/fhir/Observation/1"},
		{"launch/patient openid fhirUser patient/Patient.r user/Observation.rs", "123", "/fhir/Patient/123/Observation"},
		{"system/*.rs", "", "/fhir/Observation?patient=1&code=x"},
	} {
		h, r := allowedRequest(tt.scopes, tt.patient, tt.target)
		w := &rsNopWriter{h: http.Header{}}
		allocs := testing.AllocsPerRun(200, func() { h.ServeHTTP(w, r) })
		assert.LessOrEqual(t, allocs, 2.0, tt.target)
	}
}

func BenchmarkRequireFHIRScopes(b *testing.B) {
	h, r := allowedRequest("launch/patient openid fhirUser patient/Patient.r patient/Condition.rs user/Observation.rs user/Practitioner.r",
		"123", "/fhir/Observation/abc-123")
	w := &rsNopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

func BenchmarkRequireFHIRScopesDenied(b *testing.B) {
	h, r := allowedRequest("patient/Observation.rs", "123", "/fhir/Observation/abc-123")
	r.Method = http.MethodDelete
	w := &rsNopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

func ExampleRequireFHIRScopes() {
	// A handler that serves every Observation it is asked for: the
	// middleware keeps other patients' data from patient/ tokens.
	store := map[string]string{
		"1": `{"resourceType":"Observation","id":"1","subject":{"reference":"Patient/123"}}`,
		"2": `{"resourceType":"Observation","id":"2","subject":{"reference":"Patient/456"}}`,
	}
	fhir := middleware.RequireFHIRScopes(middleware.WithBasePath("/fhir"))
	observations := fhir(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = io.WriteString(w, store[r.PathValue("id")])
	}))
	mux := http.NewServeMux()
	mux.Handle("/fhir/Observation/{id}", observations)

	// Authenticate stores the LaunchContext; here we do it by hand.
	lc := &middleware.LaunchContext{Patient: "123", Scopes: scope.Parse("launch/patient patient/Observation.rs")}
	for _, req := range []struct{ method, target string }{{"GET", "/fhir/Observation/1"}, {"GET", "/fhir/Observation/2"}, {"DELETE", "/fhir/Observation/1"}} {
		r := httptest.NewRequest(req.method, req.target, nil)
		r = r.WithContext(middleware.NewContext(r.Context(), lc))
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(req.method, req.target, w.Code, w.Body.String())
	}
	// Output:
	// GET /fhir/Observation/1 200 {"resourceType":"Observation","id":"1","subject":{"reference":"Patient/123"}}
	// GET /fhir/Observation/2 403 {"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden","diagnostics":"The data involved is not permitted by the granted scopes"}]}
	// DELETE /fhir/Observation/1 403 {"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden","diagnostics":"The access token does not grant the scope this request requires"}]}
}

// ExampleAccessFrom shows a handler that restricts its search to what the
// scopes permit, so that the middleware's verification never has to
// refuse the response.
func ExampleAccessFrom() {
	search := func(w http.ResponseWriter, r *http.Request) {
		a := middleware.AccessFrom(r.Context())
		if a.Unrestricted() {
			fmt.Println("search every Observation")
			return
		}
		for _, alt := range a.Alternatives() {
			fmt.Printf("search Observations of patient %q matching %v (from %s)\n", alt.Patient, alt.Params, alt.Scope)
		}
	}
	h := middleware.RequireFHIRScopes(middleware.WithEnforcementByHandler())(http.HandlerFunc(search))
	for _, scopes := range []string{"user/Observation.rs", "patient/Observation.rs user/Observation.rs?category=laboratory"} {
		r := httptest.NewRequest("GET", "/Observation", nil)
		lc := &middleware.LaunchContext{Patient: "123", Scopes: scope.Parse(scopes)}
		h.ServeHTTP(httptest.NewRecorder(), r.WithContext(middleware.NewContext(r.Context(), lc)))
	}
	// Output:
	// search every Observation
	// search Observations of patient "123" matching [] (from patient/Observation.rs)
	// search Observations of patient "" matching [{category laboratory}] (from user/Observation.rs?category=laboratory)
}

func ExampleParseFHIRRequest() {
	for _, target := range []string{"/fhir/Patient/123/_history/2", "/fhir/Patient/123/Observation?code=x", "/fhir/Patient/123/$everything"} {
		fr, err := middleware.ParseFHIRRequest(httptest.NewRequest("GET", target, nil), "/fhir")
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s %s id=%q vid=%q op=%q compartment=%s/%s\n", fr.Interaction, fr.ResourceType, fr.ID, fr.VersionID, fr.Operation, fr.CompartmentType, fr.CompartmentID)
	}
	_, err := middleware.ParseFHIRRequest(httptest.NewRequest("GET", "/fhir/Patient/../secret", nil), "/fhir")
	fmt.Println(err)
	// Output:
	// vread Patient id="123" vid="2" op="" compartment=/
	// search Observation id="" vid="" op="" compartment=Patient/123
	// operation Patient id="123" vid="" op="everything" compartment=/
	// smartauth: not a FHIR REST request: empty, dot or encoded-slash path segment
}

func ExampleRequireScopes() {
	userinfo := middleware.RequireScopes("openid fhirUser")(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	for _, scopes := range []string{"openid fhirUser launch", "openid"} {
		r := httptest.NewRequest("GET", "/userinfo", nil)
		r = r.WithContext(middleware.NewContext(r.Context(), &middleware.LaunchContext{Scopes: scope.Parse(scopes)}))
		w := httptest.NewRecorder()
		userinfo.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body.String())
		if h := w.Header().Get("WWW-Authenticate"); h != "" {
			fmt.Println(h)
		}
	}
	// Output:
	// 200 ok
	// 403 {"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden","diagnostics":"The access token does not grant the scope this request requires"}]}
	// Bearer realm="smartauth", error="insufficient_scope", error_description="The access token does not grant the scope this request requires", scope="fhirUser"
}
