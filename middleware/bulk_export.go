package middleware

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/smartauth/smartauth/middleware/internal/fhirspec"
	"github.com/smartauth/smartauth/middleware/scope"
)

// BulkExportLevel is the level of a FHIR Bulk Data $export kick-off
// request (Bulk Data Access IG, "Export"): system, all patients, or a
// group.
type BulkExportLevel uint8

// The $export levels.
const (
	// NotBulkExport: the request is not an $export kick-off.
	NotBulkExport BulkExportLevel = iota
	// BulkExportSystem is [base]/$export: data of every type.
	BulkExportSystem
	// BulkExportPatient is [base]/Patient/$export: the Patient
	// compartment data of every patient.
	BulkExportPatient
	// BulkExportGroup is [base]/Group/[id]/$export: the Patient
	// compartment data of the group's members.
	BulkExportGroup
)

// BulkExport returns the $export level of the request, NotBulkExport for
// any other request (other operations on Patient or Group included).
func (fr FHIRRequest) BulkExport() BulkExportLevel {
	if fr.Interaction != scope.InteractionOperation || fr.Operation != "export" || fr.VersionID != "" {
		return NotBulkExport
	}
	switch {
	case fr.ResourceType == "":
		return BulkExportSystem
	case fr.ResourceType == "Patient" && fr.ID == "":
		return BulkExportPatient
	case fr.ResourceType == "Group" && fr.ID != "":
		return BulkExportGroup
	}
	return NotBulkExport
}

// decideBulkExport decides an $export kick-off per the Bulk Data Access
// IG ("Authorization", section "Enforcing Authorization": a request for
// types the scopes do not permit fails at kick-off). The export's files
// are produced later, outside the FHIR REST responses the middleware
// verifies, so only unrestricted access counts: for every exported type,
// an unconstrained user/ or system/ scope with search (s) — the
// permission of a search over all the type's resources; v1 .read grants
// it. The exported types are the _type parameter's (URL query, POST form
// or Parameters body), or every type when it is absent, which needs a "*"
// scope (system/*.rs). A group export also needs read (r) on the Group.
// patient/ scopes never allow an export: the middleware could not keep
// other patients' data out of the files.
// It returns the request to pass on (its body, if read, put back).
func (h *fhirScopeHandler) decideBulkExport(r *http.Request, lc *LaunchContext, fr FHIRRequest) (*http.Request, *accessDecision, *AuthError) {
	r, types, ae := h.exportTypes(r)
	if ae != nil {
		return r, nil, ae
	}
	allows := func(typ string, i scope.Interaction) bool {
		return lc.Scopes.Check(scope.System, typ, i) == scope.Allow || lc.Scopes.Check(scope.User, typ, i) == scope.Allow
	}
	if fr.BulkExport() == BulkExportGroup && !allows("Group", scope.InteractionRead) {
		return r, nil, insufficientScope("system/Group.r", ErrInsufficientScope)
	}
	if types == nil {
		if !allows("*", scope.InteractionSearch) {
			return r, nil, insufficientScope("system/*.rs", ErrInsufficientScope)
		}
		return r, h.unrestricted[scope.Search], nil
	}
	var missing []string
	for _, t := range types {
		if !fhirspec.IsResourceType(t) {
			return r, nil, refusal("unverifiable_request")
		}
		if !allows(t, scope.InteractionSearch) {
			missing = append(missing, "system/"+t+".rs")
		}
	}
	if missing != nil {
		return r, nil, insufficientScope(strings.Join(missing, " "), ErrInsufficientScope)
	}
	return r, h.unrestricted[scope.Search], nil
}

// maxExportParameters bounds the Parameters body of a POST $export.
const maxExportParameters = 1 << 20

// exportTypes returns the resource types of an $export's _type
// parameters, nil if there are none. A POST kick-off may carry them in a
// form or a Parameters resource; the body is read and put back in the
// returned request.
func (h *fhirScopeHandler) exportTypes(r *http.Request) (*http.Request, []string, *AuthError) {
	values := r.URL.Query()["_type"]
	if r.Method == http.MethodPost {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		b, ae := readBody(r, min(h.opts.maxBody, maxExportParameters))
		if ae != nil {
			return r, nil, ae
		}
		r = withBody(r, b)
		switch {
		case len(b) == 0:
		case ct == "application/x-www-form-urlencoded":
			form, err := url.ParseQuery(string(b))
			if err != nil {
				return r, nil, &AuthError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Reason: "malformed_body", Err: ErrMalformedRequest}
			}
			values = append(values, form["_type"]...)
		case isJSONMediaType(r.Header.Get("Content-Type")):
			var p struct {
				ResourceType string `json:"resourceType"`
				Parameter    []struct {
					Name        string  `json:"name"`
					ValueString *string `json:"valueString"`
				} `json:"parameter"`
			}
			if json.Unmarshal(b, &p) != nil || p.ResourceType != "Parameters" {
				return r, nil, refusal("unverifiable_request")
			}
			for _, param := range p.Parameter {
				if param.Name == "_type" {
					if param.ValueString == nil {
						return r, nil, refusal("unverifiable_request")
					}
					values = append(values, *param.ValueString)
				}
			}
		default:
			return r, nil, refusal("unverifiable_request")
		}
	}
	var types []string
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				types = append(types, t)
			}
		}
	}
	if values != nil && types == nil {
		return r, nil, refusal("unverifiable_request") // _type given, but empty
	}
	return r, types, nil
}
