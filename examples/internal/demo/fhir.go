package demo

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/smartauth/smartauth/middleware"
)

// fhirHandler serves the demo data set read-only: read (GET /{type}/{id}) and
// search (GET /{type}?patient=…). It runs behind middleware.Authenticate and
// middleware.RequireFHIRScopes, which have already checked that some granted
// scope allows the interaction on the type; what is left here is the data
// level rule of patient/ scopes: if only patient/ scopes allow the request,
// the data must be in the compartment of the patient in context.
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
	if patient, restricted := patientRestriction(r); restricted && res.Patient != patient {
		forbidPatient(w, r)
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
	if patient, restricted := patientRestriction(r); restricted {
		if want != "" && want != patient {
			forbidPatient(w, r)
			return
		}
		want = patient
	}
	matches := h.data.search(typ, want)
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

// patientRestriction reports whether RequireFHIRScopes allowed the request
// only through patient/ scopes, and then the patient in context.
func patientRestriction(r *http.Request) (string, bool) {
	if !middleware.RequiresPatientCompartment(r.Context()) {
		return "", false
	}
	lc, _ := middleware.LaunchContextFrom(r.Context())
	return lc.Patient, true
}

func forbidPatient(w http.ResponseWriter, r *http.Request) {
	middleware.DefaultErrorHandler(w, r, &middleware.AuthError{
		Status: http.StatusForbidden,
		Code:   "insufficient_scope",
		Reason: "insufficient_scope",
		Err:    middleware.ErrInsufficientScope,
	})
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
