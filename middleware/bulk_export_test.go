package middleware_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/scope"
)

// TestRequireFHIRScopesBulkExport: $export kick-offs, per the Bulk Data
// Access IG (hl7.org/fhir/uv/bulkdata): "Export" (export.md: system,
// Patient and Group levels, the _type parameter, GET or POST with a
// Parameters body) and "Authorization" (authorization.md, "Enforcing
// Authorization": a client that asks for _type=Observation with only
// system/Patient.read SHOULD get a failure to the kick-off request; and
// "Scopes": system scopes parallel user scopes). The IG's backend services
// example asks for system/*.read.
func TestRequireFHIRScopesBulkExport(t *testing.T) {
	const params = `{"resourceType":"Parameters","parameter":[{"name":"_type","valueString":"Observation"},{"name":"_outputFormat","valueString":"application/fhir+ndjson"}]}`
	tests := []struct {
		name, scopes, method, target, contentType, body string
		want                                            int
		hint                                            string
	}{
		// export.md: system-level export of every type.
		{"system/*.rs exports everything", "system/*.rs", "GET", "/fhir/$export", "", "", 202, ""},
		{"v1 system/*.read", "system/*.read", "GET", "/fhir/$export", "", "", 202, ""},
		{"user/*.rs (a user-level export)", "user/*.rs", "GET", "/fhir/$export", "", "", 202, ""},
		{"system/Patient.rs alone: not everything", "system/Patient.rs", "GET", "/fhir/$export", "", "", 403, "system/*.rs"},
		{"search alone is enough", "system/*.s", "GET", "/fhir/$export", "", "", 202, ""},
		{"read alone is not", "system/*.r", "GET", "/fhir/$export", "", "", 403, "system/*.rs"},
		// authorization.md, "Enforcing Authorization".
		{"_type within the scopes", "system/Patient.rs system/Observation.rs", "GET", "/fhir/$export?_type=Patient,Observation", "", "", 202, ""},
		{"_type=Observation with system/Patient.rs", "system/Patient.rs", "GET", "/fhir/$export?_type=Observation", "", "", 403, "system/Observation.rs"},
		{"repeated _type", "system/Patient.rs", "GET", "/fhir/$export?_type=Patient&_type=Condition", "", "", 403, "system/Condition.rs"},
		{"_type not a resource type", "system/*.rs", "GET", "/fhir/$export?_type=Nothing", "", "", 403, ""},
		{"empty _type", "system/*.rs", "GET", "/fhir/$export?_type=", "", "", 403, ""},
		// export.md: POST kick-off with a Parameters resource.
		{"POST Parameters within the scopes", "system/Observation.rs", "POST", "/fhir/$export", "application/fhir+json", params, 202, ""},
		{"POST Parameters outside the scopes", "system/Patient.rs", "POST", "/fhir/$export", "application/fhir+json", params, 403, "system/Observation.rs"},
		{"POST not Parameters", "system/*.rs", "POST", "/fhir/$export", "application/fhir+json", `{"resourceType":"Bundle"}`, 403, ""},
		// export.md: Patient level, all patients' compartments.
		{"Patient/$export", "system/*.rs", "GET", "/fhir/Patient/$export", "", "", 202, ""},
		{"Patient/$export with _type", "system/Patient.rs system/Observation.rs", "GET", "/fhir/Patient/$export?_type=Observation", "", "", 202, ""},
		{"Patient/$export without _type needs *", "system/Patient.rs", "GET", "/fhir/Patient/$export", "", "", 403, "system/*.rs"},
		// export.md: Group level.
		{"Group/[id]/$export", "system/*.rs", "GET", "/fhir/Group/g1/$export", "", "", 202, ""},
		{"Group export needs the group", "system/Observation.rs", "GET", "/fhir/Group/g1/$export?_type=Observation", "", "", 403, "system/Group.r"},
		{"Group export with the group", "system/Group.r system/Observation.rs", "GET", "/fhir/Group/g1/$export?_type=Observation", "", "", 202, ""},
		// No restricted export: the files could not be verified.
		{"patient scopes never export", "patient/*.rs", "GET", "/fhir/Patient/$export", "", "", 403, "system/*.rs"},
		{"constrained scopes never export", "system/Observation.rs?category=laboratory", "GET", "/fhir/$export?_type=Observation", "", "", 403, "system/Observation.rs"},
		// Not a kick-off: the operation rule decides.
		{"poll status is the server's", "system/*.rs", "GET", "/fhir/$export-poll-status", "", "", 403, ""},
		{"Observation/$export is no export level", "system/*.rs", "GET", "/fhir/Observation/$export", "", "", 202, ""},
	}
	kickoff := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Location", "https://fhir.example.org/r4/$export-poll-status?job=1")
		w.WriteHeader(http.StatusAccepted)
	})
	mw := middleware.RequireFHIRScopes(middleware.WithBasePath("/fhir"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			r := httptest.NewRequest(tt.method, tt.target, body)
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			rec := httptest.NewRecorder()
			withLaunchContext(lcWith("123", tt.scopes))(mw(kickoff)).ServeHTTP(rec, r)
			assert.Equal(t, tt.want, rec.Code, rec.Body.String())
			if tt.want == 403 && tt.hint != "" {
				assert.Equal(t, denied(tt.hint), rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

func TestFHIRRequestBulkExport(t *testing.T) {
	tests := []struct {
		fr   middleware.FHIRRequest
		want middleware.BulkExportLevel
	}{
		{middleware.FHIRRequest{Interaction: scope.InteractionOperation, Operation: "export"}, middleware.BulkExportSystem},
		{middleware.FHIRRequest{Interaction: scope.InteractionOperation, Operation: "export", ResourceType: "Patient"}, middleware.BulkExportPatient},
		{middleware.FHIRRequest{Interaction: scope.InteractionOperation, Operation: "export", ResourceType: "Group", ID: "g"}, middleware.BulkExportGroup},
		{middleware.FHIRRequest{Interaction: scope.InteractionOperation, Operation: "export", ResourceType: "Patient", ID: "p"}, middleware.NotBulkExport},
		{middleware.FHIRRequest{Interaction: scope.InteractionOperation, Operation: "export", ResourceType: "Group"}, middleware.NotBulkExport},
		{middleware.FHIRRequest{Interaction: scope.InteractionOperation, Operation: "everything", ResourceType: "Patient"}, middleware.NotBulkExport},
		{middleware.FHIRRequest{Interaction: scope.InteractionSearch, ResourceType: "Patient"}, middleware.NotBulkExport},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.fr.BulkExport(), "%+v", tt.fr)
	}
}
