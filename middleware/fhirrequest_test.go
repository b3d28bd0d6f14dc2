package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/scope"
)

func TestParseFHIRRequest(t *testing.T) {
	type fr = middleware.FHIRRequest
	tests := []struct {
		method, target string
		want           fr
	}{
		{"GET", "/fhir/metadata", fr{Interaction: scope.InteractionCapabilities}},
		{"HEAD", "/fhir/metadata", fr{Interaction: scope.InteractionCapabilities}},
		{"POST", "/fhir", fr{Interaction: scope.InteractionBatch}},
		{"POST", "/fhir/", fr{Interaction: scope.InteractionBatch}},
		{"GET", "/fhir", fr{Interaction: scope.InteractionSearch}},
		{"GET", "/fhir/?_type=Observation", fr{Interaction: scope.InteractionSearch}},
		{"GET", "/fhir/_search?_type=Observation", fr{Interaction: scope.InteractionSearch}},
		{"POST", "/fhir/_search", fr{Interaction: scope.InteractionSearch}},
		{"GET", "/fhir/_history", fr{Interaction: scope.InteractionHistorySystem}},
		{"GET", "/fhir/Patient/1", fr{Interaction: scope.InteractionRead, ResourceType: "Patient", ID: "1"}},
		{"HEAD", "/fhir/Patient/1", fr{Interaction: scope.InteractionRead, ResourceType: "Patient", ID: "1"}},
		{"OPTIONS", "/fhir/Patient/1", fr{Interaction: scope.InteractionRead, ResourceType: "Patient", ID: "1"}},
		{"GET", "/fhir/Patient/a-B.9", fr{Interaction: scope.InteractionRead, ResourceType: "Patient", ID: "a-B.9"}},
		{"GET", "/fhir/Patient/1/_history/2", fr{Interaction: scope.InteractionVRead, ResourceType: "Patient", ID: "1", VersionID: "2"}},
		{"GET", "/fhir/Patient/1/_history", fr{Interaction: scope.InteractionHistoryInstance, ResourceType: "Patient", ID: "1"}},
		{"GET", "/fhir/Patient/_history", fr{Interaction: scope.InteractionHistoryType, ResourceType: "Patient"}},
		{"GET", "/fhir/Observation?code=1234-5", fr{Interaction: scope.InteractionSearch, ResourceType: "Observation"}},
		{"GET", "/fhir/Observation/_search?code=1234-5", fr{Interaction: scope.InteractionSearch, ResourceType: "Observation"}},
		{"POST", "/fhir/Observation/_search", fr{Interaction: scope.InteractionSearch, ResourceType: "Observation"}},
		{"GET", "/fhir/Patient/1/Observation", fr{Interaction: scope.InteractionSearch, ResourceType: "Observation", CompartmentType: "Patient", CompartmentID: "1"}},
		{"GET", "/fhir/Patient/1/*", fr{Interaction: scope.InteractionSearch, ResourceType: "*", CompartmentType: "Patient", CompartmentID: "1"}},
		{"GET", "/fhir/Patient/1/Observation/_search", fr{Interaction: scope.InteractionSearch, ResourceType: "Observation", CompartmentType: "Patient", CompartmentID: "1"}},
		{"POST", "/fhir/Encounter/e1/Observation/_search", fr{Interaction: scope.InteractionSearch, ResourceType: "Observation", CompartmentType: "Encounter", CompartmentID: "e1"}},
		{"POST", "/fhir/Observation", fr{Interaction: scope.InteractionCreate, ResourceType: "Observation"}},
		{"PUT", "/fhir/Observation/1", fr{Interaction: scope.InteractionUpdate, ResourceType: "Observation", ID: "1"}},
		{"PUT", "/fhir/Observation?identifier=x", fr{Interaction: scope.InteractionUpdate, ResourceType: "Observation"}},
		{"PATCH", "/fhir/Observation/1", fr{Interaction: scope.InteractionPatch, ResourceType: "Observation", ID: "1"}},
		{"PATCH", "/fhir/Observation?identifier=x", fr{Interaction: scope.InteractionPatch, ResourceType: "Observation"}},
		{"DELETE", "/fhir/Observation/1", fr{Interaction: scope.InteractionDelete, ResourceType: "Observation", ID: "1"}},
		{"DELETE", "/fhir/Observation?identifier=x", fr{Interaction: scope.InteractionDelete, ResourceType: "Observation"}},
		{"GET", "/fhir/$export", fr{Interaction: scope.InteractionOperation, Operation: "export"}},
		{"POST", "/fhir/$reindex", fr{Interaction: scope.InteractionOperation, Operation: "reindex"}},
		{"GET", "/fhir/Patient/$export", fr{Interaction: scope.InteractionOperation, ResourceType: "Patient", Operation: "export"}},
		{"POST", "/fhir/ValueSet/$validate-code", fr{Interaction: scope.InteractionOperation, ResourceType: "ValueSet", Operation: "validate-code"}},
		{"GET", "/fhir/Patient/1/$everything", fr{Interaction: scope.InteractionOperation, ResourceType: "Patient", ID: "1", Operation: "everything"}},
		{"POST", "/fhir/Patient/1/_history/2/$meta", fr{Interaction: scope.InteractionOperation, ResourceType: "Patient", ID: "1", VersionID: "2", Operation: "meta"}},
		{"GET", "/fhir/Patient/%24everything", fr{Interaction: scope.InteractionOperation, ResourceType: "Patient", Operation: "everything"}},
		{"GET", "/fhir/Patient/" + strings.Repeat("a", 64), fr{Interaction: scope.InteractionRead, ResourceType: "Patient", ID: strings.Repeat("a", 64)}},
		{"GET", "/fhir/Patient/...", fr{Interaction: scope.InteractionRead, ResourceType: "Patient", ID: "..."}},
		{"GET", "/fhir/Patient/%31", fr{Interaction: scope.InteractionRead, ResourceType: "Patient", ID: "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, nil)
			got, err := middleware.ParseFHIRRequest(r, "/fhir")
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseFHIRRequestBasePath(t *testing.T) {
	read := middleware.FHIRRequest{Interaction: scope.InteractionRead, ResourceType: "Patient", ID: "1"}
	tests := []struct {
		base, target string
		ok           bool
	}{
		{"", "/Patient/1", true},
		{"/", "/Patient/1", true},
		{"/fhir", "/fhir/Patient/1", true},
		{"/fhir/", "/fhir/Patient/1", true},
		{"fhir", "/fhir/Patient/1", true},
		{"/api/fhir/r4", "/api/fhir/r4/Patient/1", true},
		{"/fhir", "/Patient/1", false},
		{"/fhir", "/fhirx/Patient/1", false},
		{"fhir", "/fhirx/Patient/1", false},
		{"/fhir", "/other/fhir/Patient/1", false},
		{"", "/fhir/Patient/1", false}, // "fhir" is not a resource type
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.target, func(t *testing.T) {
			got, err := middleware.ParseFHIRRequest(httptest.NewRequest("GET", tt.target, nil), tt.base)
			if !tt.ok {
				require.ErrorIs(t, err, middleware.ErrNotFHIRRequest)
				assert.Zero(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, read, got)
		})
	}
}

func TestParseFHIRRequestRejects(t *testing.T) {
	tests := []struct{ method, target string }{
		{"GET", "/fhir//Patient/1"},
		{"GET", "/fhir/Patient//1"},
		{"GET", "/fhir/Patient/1/"},
		{"GET", "/fhir/Patient/"},
		{"GET", "/fhir/Patient/.."},
		{"GET", "/fhir/Patient/."},
		{"GET", "/fhir/Patient/../Observation/1"},
		{"GET", "/fhir/Patient/1/_history/.."},
		{"GET", "/fhir/Patient/%2e%2e"},
		{"GET", "/fhir/Patient/1%2F_history%2F2"},
		{"GET", "/fhir/Patient/1%2f_history"},
		{"GET", "/fhir/Patient/a_b"},
		{"GET", "/fhir/Patient/a%20b"},
		{"GET", "/fhir/Patient/" + strings.Repeat("a", 65)},
		{"GET", "/fhir/patient/1"},
		{"GET", "/fhir/Pat1ent/1"},
		{"GET", "/fhir/_Patient/1"},
		{"GET", "/fhir/metadata/x"},
		{"POST", "/fhir/metadata"},
		{"DELETE", "/fhir/metadata"},
		{"PUT", "/fhir"},
		{"DELETE", "/fhir"},
		{"PATCH", "/fhir/"},
		{"POST", "/fhir/_history"},
		{"DELETE", "/fhir/_search"},
		{"POST", "/fhir/Patient/1"},
		{"POST", "/fhir/Patient/_history"},
		{"PUT", "/fhir/Patient/_search"},
		{"DELETE", "/fhir/Patient/1/_history"},
		{"DELETE", "/fhir/Patient/1/_history/2"},
		{"PUT", "/fhir/Patient/1/$everything"},
		{"DELETE", "/fhir/$export"},
		{"POST", "/fhir/Patient/1/Observation"},
		{"PUT", "/fhir/Patient/1/Observation/_search"},
		{"GET", "/fhir/Patient/1/observation"},
		{"GET", "/fhir/Patient/1/Observation/1"},
		{"GET", "/fhir/Patient/1/Observation/_history"},
		{"GET", "/fhir/Patient/1/$everything/x"},
		{"GET", "/fhir/Patient/1/_history/2/x"},
		{"GET", "/fhir/Patient/1/_history/2/$meta/x"},
		{"GET", "/fhir/Patient/1/_history/2/3/4"},
		{"GET", "/fhir/$"},
		{"GET", "/fhir/$1op"},
		{"GET", "/fhir/$op!"},
		{"GET", "/fhir/Patient/$"},
		{"GET", "/fhir/Patient/1/$"},
		{"GET", "/fhir/Patient/1/_history/2/$"},
		{"GET", "/fhir/_other"},
		{"GET", "/fhir/*"},
		{"CONNECT", "/fhir/Patient/1"},
		{"TRACE", "/fhir/Patient/1"},
		{"PROPFIND", "/fhir/Patient/1"},
		{"GET", "/elsewhere"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			got, err := middleware.ParseFHIRRequest(httptest.NewRequest(tt.method, tt.target, nil), "/fhir")
			require.ErrorIs(t, err, middleware.ErrNotFHIRRequest)
			assert.Zero(t, got)
		})
	}

	_, err := middleware.ParseFHIRRequest(nil, "")
	require.ErrorIs(t, err, middleware.ErrNotFHIRRequest)
	_, err = middleware.ParseFHIRRequest(&http.Request{Method: "GET"}, "")
	require.ErrorIs(t, err, middleware.ErrNotFHIRRequest)
	r := httptest.NewRequest("OPTIONS", "*", nil)
	_, err = middleware.ParseFHIRRequest(r, "")
	require.ErrorIs(t, err, middleware.ErrNotFHIRRequest)
}

func TestFHIRRequestPatientID(t *testing.T) {
	tests := []struct {
		target, want string
	}{
		{"/Patient/1", "1"},
		{"/Patient/1/_history/2", "1"},
		{"/Patient/1/$everything", "1"},
		{"/Patient/1/Observation", "1"},
		{"/Patient/1/*", "1"},
		{"/Patient?name=x", ""},
		{"/Observation/1", ""},
		{"/Encounter/1/Observation", ""},
	}
	for _, tt := range tests {
		fr, err := middleware.ParseFHIRRequest(httptest.NewRequest("GET", tt.target, nil), "")
		require.NoError(t, err, tt.target)
		assert.Equal(t, tt.want, fr.PatientID(), tt.target)
	}
}

func TestParseFHIRRequestDoesNotAllocate(t *testing.T) {
	reqs := []*http.Request{
		httptest.NewRequest("GET", "/fhir/Patient/1/_history/2", nil),
		httptest.NewRequest("GET", "/fhir/Observation?code=x", nil),
		httptest.NewRequest("POST", "/fhir/Patient/1/$everything", nil),
		httptest.NewRequest("GET", "/fhir/Patient/1/Observation/_search", nil),
		httptest.NewRequest("GET", "/fhir/Patient/bad_id", nil),
	}
	allocs := testing.AllocsPerRun(200, func() {
		for _, r := range reqs {
			_, _ = middleware.ParseFHIRRequest(r, "/fhir")
		}
	})
	assert.Zero(t, allocs)
}

func FuzzParseFHIRRequest(f *testing.F) {
	for _, s := range [][2]string{
		{"GET", "/fhir/Patient/1"}, {"GET", "/fhir/Patient/1/_history/2"}, {"POST", "/fhir"},
		{"GET", "/fhir/Patient/1/Observation/_search"}, {"POST", "/fhir/Patient/1/_history/2/$meta"},
		{"GET", "/fhir/Patient/%2e%2e/x"}, {"DELETE", "/fhir/Observation?x=1"}, {"HEAD", "/fhir//"},
	} {
		f.Add(s[0], s[1], "/fhir")
	}
	f.Fuzz(func(t *testing.T, method, target, base string) {
		r, err := http.NewRequest(method, target, nil)
		if err != nil {
			return
		}
		fr, err := middleware.ParseFHIRRequest(r, base)
		if err != nil {
			if fr != (middleware.FHIRRequest{}) {
				t.Fatalf("error %v with non-zero result %+v", err, fr)
			}
			return
		}
		if fr.Interaction < scope.InteractionRead || fr.Interaction > scope.InteractionBatch {
			t.Fatalf("invalid interaction %d", fr.Interaction)
		}
		for _, id := range []string{fr.ID, fr.VersionID, fr.CompartmentID} {
			if id == "." || id == ".." || len(id) > 64 {
				t.Fatalf("bad id %q in %+v", id, fr)
			}
		}
		if fr.ResourceType != "" && fr.ResourceType != "*" && !scope.IsResourceType(fr.ResourceType) {
			t.Fatalf("bad resource type %q", fr.ResourceType)
		}
		if (fr.Operation != "") != (fr.Interaction == scope.InteractionOperation) {
			t.Fatalf("operation mismatch %+v", fr)
		}
	})
}
