package middleware

import (
	"net/url"
	"strings"

	"github.com/smartauth/smartauth/middleware/internal/fhirspec"
	"github.com/smartauth/smartauth/middleware/scope"
)

// checkSearchParams refuses the search parameters a restricted decision
// cannot allow: chained parameters, _has and _filter always (their
// criteria concern resources the response does not hold, so they could
// probe data no scope grants), and, when only patient/ scopes allow the
// request, every parameter naming a patient reference that names anyone
// but the patient in context. Parameter names are compared without regard
// to case, so that a server that ignores case cannot be used to slip a
// parameter past the check.
func (d *accessDecision) checkSearchParams(params url.Values, fr FHIRRequest) *AuthError {
	var types []string
	for key, values := range params {
		name := strings.ToLower(key)
		if strings.HasPrefix(name, "_has:") || name == "_has" || name == "_filter" || strings.IndexByte(name, '.') >= 0 {
			return refusal("unverifiable_search")
		}
		if !d.patientOnly {
			continue
		}
		base, modifier, _ := strings.Cut(name, ":")
		if types == nil {
			types = searchedTypes(d.resourceType, params)
		}
		multiTarget, ok := patientParam(base, types)
		if !ok {
			continue
		}
		// The modifier keeps its case: resource types are case-sensitive.
		if _, m, found := strings.Cut(key, ":"); found {
			modifier = m
		}
		for _, v := range values {
			for item := range strings.SplitSeq(v, ",") {
				if !d.namesOnlyPatientInContext(base, modifier, item, multiTarget) {
					return refusal("patient_not_in_context")
				}
			}
		}
	}
	return nil
}

// searchedTypes returns the resource types a search covers: typ, or for a
// search of every type ("*") the types of _type, or every type of the
// Patient compartment and Patient.
func searchedTypes(typ string, params url.Values) []string {
	if typ != "*" {
		return []string{typ}
	}
	var out []string
	for key, vs := range params {
		if strings.ToLower(key) != "_type" {
			continue
		}
		for _, v := range vs {
			for t := range strings.SplitSeq(v, ",") {
				out = append(out, t)
			}
		}
	}
	if out == nil {
		out = fhirspec.PatientCompartmentTypes()
	}
	return out
}

// patientParam reports whether the (lower-case) parameter name names a
// patient reference on any of types — a reference parameter that may
// target Patient, or _id of a Patient search — and returns whether its
// targets are other types too.
func patientParam(name string, types []string) (multiTarget bool, ok bool) {
	for _, t := range types {
		if name == "_id" && t == "Patient" {
			ok = true
			continue
		}
		for _, code := range fhirspec.PatientReferenceParams(t) {
			if strings.ToLower(code) != name {
				continue
			}
			ok = true
			if p, found := fhirspec.Param(t, code); !found || len(p.Targets) != 1 {
				multiTarget = true
			}
		}
	}
	return multiTarget, ok
}

// namesOnlyPatientInContext reports whether one value of a patient
// reference parameter is acceptable when only patient/ scopes allow the
// search: it names the patient in context (an id, Patient/id or an
// absolute reference under the configured base URL), or, for a parameter
// that may also target other types, a resource of another type (the
// response is verified anyway). Any modifier other than a resource type
// (:identifier, :missing, :not, :above, ...) is refused: it selects
// patients by other means than their id.
func (d *accessDecision) namesOnlyPatientInContext(param, modifier, value string, multiTarget bool) bool {
	if value == "" {
		return false
	}
	switch {
	case modifier == "" || modifier == "Patient":
	case scope.IsResourceType(modifier) && param != "_id" && multiTarget:
		return true // a reference to another type: not a patient
	default:
		return false
	}
	if strings.IndexByte(value, '/') < 0 {
		return value == d.patient // a bare id: taken as a Patient id
	}
	if param == "_id" {
		return false
	}
	ref, ok := fhirspec.ParseReference(value)
	switch {
	case !ok:
		return false
	case ref.Type != "Patient":
		return modifier == "" && multiTarget
	case ref.Base != "" && !d.baseOK(ref.Base):
		return false
	}
	return ref.ID == d.patient
}

// contradictsAll reports whether the search parameters contradict every
// Alternative: each alternative has a constraint parameter that the
// search gives only values the constraint cannot match (a value list,
// comma separated, that lacks the constraint's value). An alternative
// without constraints is never contradicted. It is an early, clearer
// refusal; response verification is what enforces the constraints.
func (d *accessDecision) contradictsAll(params url.Values) bool {
	if len(params) == 0 {
		return false
	}
	for _, alt := range d.alts {
		if !contradicts(alt.Params, params) {
			return false
		}
	}
	return true
}

// contradicts reports whether query asks for something the constraints
// cs can never satisfy: a parameter of cs is given with a value list that
// does not contain the constraint's value. Parameters are compared by
// exact name, so a modifier ("category:not") is a different parameter;
// values are compared literally.
func contradicts(cs []scope.Param, query url.Values) bool {
	for _, p := range cs {
		for _, v := range query[p.Name] {
			if !fhirValueListContains(v, p.Value) {
				return true
			}
		}
	}
	return false
}

// fhirValueListContains reports whether the FHIR search value list (values
// separated by commas that are not escaped with "\") contains want.
func fhirValueListContains(list, want string) bool {
	start, escaped := 0, false
	for i := 0; i < len(list); i++ {
		switch {
		case escaped:
			escaped = false
		case list[i] == '\\':
			escaped = true
		case list[i] == ',':
			if list[start:i] == want {
				return true
			}
			start = i + 1
		}
	}
	return list[start:] == want
}
