package demo

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/smartauth/smartauth/middleware"
)

// fhirHandler serves the demo data set read-only: read (GET /{type}/{id}) and
// search (GET /{type}?patient=…). It knows nothing of SMART: it serves
// whatever it is asked for. middleware.RequireFHIRScopes, in front of it,
// enforces the scopes down to the data — the patient compartment of
// patient/ scopes and the constraints of scopes like
// patient/Observation.rs?category=laboratory — and withholds any response
// holding data the token does not permit.
type fhirHandler struct {
	data *resources
}

func (h fhirHandler) read(w http.ResponseWriter, r *http.Request) {
	typ, id := r.PathValue("type"), r.PathValue("id")
	res := h.data.get(typ, id)
	if res == nil {
		writeOutcome(w, http.StatusNotFound, "not-found", "Resource "+typ+"/"+id+" is not known")
		return
	}
	w.Header().Set("Content-Type", "application/fhir+json")
	_, _ = w.Write(res.JSON)
}

func (h fhirHandler) search(w http.ResponseWriter, r *http.Request) {
	typ := r.PathValue("type")
	q := r.URL.Query()
	want := strings.TrimPrefix(q.Get("patient"), "Patient/")
	if want == "" {
		want = strings.TrimPrefix(q.Get("subject"), "Patient/")
	}
	if typ == "Patient" && want == "" {
		want = q.Get("_id")
	}
	// Keep what the token permits, so that a search without a patient
	// parameter returns the patient's own data instead of being refused
	// (the middleware would withhold a Bundle with anyone else's data).
	access := middleware.AccessFrom(r.Context())
	var matches []*resource
	for _, m := range h.data.search(typ, want) {
		if ok, _ := access.PermitsJSON(m.JSON); ok {
			matches = append(matches, m)
		}
	}
	type entry struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
	}
	bundle := struct {
		ResourceType string  `json:"resourceType"`
		Type         string  `json:"type"`
		Total        int     `json:"total"`
		Entry        []entry `json:"entry,omitempty"`
	}{ResourceType: "Bundle", Type: "searchset", Total: len(matches)}
	for _, m := range matches {
		bundle.Entry = append(bundle.Entry, entry{FullURL: m.Type + "/" + m.ID, Resource: m.JSON})
	}
	w.Header().Set("Content-Type", "application/fhir+json")
	_ = json.NewEncoder(w).Encode(bundle)
}

// writeOutcome writes a FHIR OperationOutcome.
func writeOutcome(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"resourceType": "OperationOutcome",
		"issue":        []map[string]string{{"severity": "error", "code": code, "diagnostics": msg}},
	})
}

// capabilityStatement is served at /fhir/metadata, with the SMART security
// extension (oauth-uris) and the smart-configuration pointer.
func capabilityStatement(s *Server) http.Handler {
	body, _ := json.Marshal(map[string]any{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"kind":         "instance",
		"fhirVersion":  "4.0.1",
		"format":       []string{"application/fhir+json"},
		"rest": []map[string]any{{
			"mode": "server",
			"security": map[string]any{
				"service": []map[string]any{{"coding": []map[string]string{{
					"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR",
				}}}},
				"extension": []map[string]any{{
					"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
					"extension": []map[string]string{
						{"url": "token", "valueUri": s.TokenURL},
						{"url": "revoke", "valueUri": s.RevocationURL},
						{"url": "introspect", "valueUri": s.IntrospectionURL},
					},
				}},
			},
			"resource": []map[string]any{
				{"type": "Patient", "interaction": []map[string]string{{"code": "read"}, {"code": "search-type"}}},
				{"type": "Encounter", "interaction": []map[string]string{{"code": "read"}, {"code": "search-type"}}},
				{"type": "Observation", "interaction": []map[string]string{{"code": "read"}, {"code": "search-type"}}},
				{"type": "Practitioner", "interaction": []map[string]string{{"code": "read"}, {"code": "search-type"}}},
			},
		}},
	})
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write(body)
	})
}
