package middleware

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"

	"github.com/smartauth/smartauth/internal/jsonpatch"
	"github.com/smartauth/smartauth/middleware/internal/fhirspec"
	"github.com/smartauth/smartauth/middleware/scope"
)

// checkWrite applies a restricted decision to a create, update, patch or
// delete of one resource (fr.ID set, except for a create): the resource
// written must be permitted, and so must the resource changed, which the
// ResourceLoader provides. With WithEnforcementByHandler nothing is read:
// the handler checks.
func (h *fhirScopeHandler) checkWrite(r *http.Request, fr FHIRRequest, d *accessDecision) (*http.Request, *AuthError) {
	if !d.enforced {
		return r, nil
	}
	var body []byte
	if fr.Interaction != scope.InteractionDelete {
		var ae *AuthError
		if body, ae = readBody(r, h.opts.maxBody); ae != nil {
			return r, ae
		}
		r = withBody(r, body)
	}

	switch fr.Interaction {
	case scope.InteractionCreate, scope.InteractionUpdate:
		res, ok := decodeResource(r.Header.Get("Content-Type"), body)
		switch {
		case !ok || res["resourceType"] != fr.ResourceType:
			return r, refusal("unverifiable_request")
		case fr.Interaction == scope.InteractionUpdate && res["id"] != fr.ID:
			return r, refusal("unverifiable_request")
		case !d.permitsDocument(res):
			return r, refusal("resource_not_permitted")
		}
	}
	if fr.Interaction == scope.InteractionCreate || !d.needsProof(fr.ResourceType, fr.ID) {
		return r, nil // a patch cannot change the type, which alone decides
	}

	current, ae := h.loadPermitted(r, fr, d)
	if ae != nil || current == nil || fr.Interaction != scope.InteractionPatch {
		return r, ae
	}
	// A patch: apply it to the current version and check the result.
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json-patch+json" {
		return r, refusal("unverifiable_request")
	}
	patched, err := jsonpatch.Apply(current, body)
	if err != nil {
		return r, refusal("unverifiable_request")
	}
	if patched["resourceType"] != fr.ResourceType || patched["id"] != fr.ID || !d.permitsDocument(patched) {
		return r, refusal("resource_not_permitted")
	}
	return r, nil
}

// loadPermitted loads the resource an update, patch or delete changes and
// checks that it is permitted. It returns nil (and no error) for an
// update of a resource that does not exist (it creates it; its body was
// checked); a patch or delete of one is refused.
func (h *fhirScopeHandler) loadPermitted(r *http.Request, fr FHIRRequest, d *accessDecision) (map[string]any, *AuthError) {
	if h.opts.loader == nil {
		return nil, refusal("loader_required")
	}
	b, err := h.opts.loader.LoadResource(r.Context(), fr.ResourceType, fr.ID)
	switch {
	case errors.Is(err, ErrResourceNotFound) && fr.Interaction == scope.InteractionUpdate:
		return nil, nil // an update that creates: its body was checked
	case errors.Is(err, ErrResourceNotFound):
		// Nothing the loader knows to patch or delete: refused rather than
		// forwarded, in case the server finds something the loader did
		// not (ids compared without regard to case, say).
		return nil, refusal("resource_not_permitted")
	case err != nil:
		h.opts.logger.ErrorContext(r.Context(), "smartauth: resource loader failed", "error", err)
		return nil, &AuthError{Status: http.StatusServiceUnavailable, Reason: "loader_unavailable", Err: ErrVerifierUnavailable}
	}
	current, ok := decodeResource("", b)
	if !ok || current["resourceType"] != fr.ResourceType || current["id"] != fr.ID {
		return nil, refusal("unverifiable_request")
	}
	if !d.permitsDocument(current) {
		return nil, refusal("resource_not_permitted")
	}
	return current, nil
}

// needsProof reports whether an update, patch or delete of typ/id needs
// the current resource to decide: unless an unconstrained scope permits
// every resource of the type (a type outside the Patient compartment under
// a patient/ scope), or the resource is the patient in context's Patient.
func (d *accessDecision) needsProof(typ, id string) bool {
	for _, sc := range d.scopes {
		if sc.Constraints != nil || (sc.ResourceType != "*" && sc.ResourceType != typ) {
			continue
		}
		switch {
		case sc.Context != scope.Patient:
			return false
		case typ == "Patient" && id == d.patient:
			return false
		case typ != "Patient" && !fhirspec.IsPatientCompartmentType(typ):
			return false
		}
	}
	return true
}

// decodeResource decodes a JSON resource. contentType, if not empty, must
// be a JSON media type.
func decodeResource(contentType string, b []byte) (map[string]any, bool) {
	if contentType != "" && !isJSONMediaType(contentType) {
		return nil, false
	}
	var res map[string]any
	if err := json.Unmarshal(b, &res); err != nil || res == nil {
		return nil, false
	}
	return res, true
}

// isJSONMediaType reports whether a Content-Type names FHIR JSON (or plain
// JSON, which FHIR servers also accept).
func isJSONMediaType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/fhir+json" || mt == "application/json" || mt == "application/json+fhir")
}
