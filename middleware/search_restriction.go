package middleware

import (
	"net/url"
	"slices"
	"strings"

	"github.com/smartauth/smartauth/middleware/internal/fhirspec"
)

// restrictedBySearch reports whether a restricted search (or history)
// asks, by its own path and parameters, only for data one Alternative
// permits, so that what the server matches — its total, whether anything
// matches at all — depends on no data the scopes do not grant. A search
// that is not restricted so is refused: a FHIR server that does not filter
// by itself would otherwise be an oracle of other patients' data (a
// search served or withheld depending on whether someone else's data
// matches; a Bundle total counting it).
//
// An Alternative is implied when (1) its patient restriction is: the type
// is outside the Patient compartment, or the path is the patient's
// compartment, or a parameter on the same elements as a compartment
// parameter names only the patient (for Patient: _id), and (2) each of its
// constraints is given as a parameter of that name whose values are all
// the constraint's value. For a search of every type, this must hold for
// each type of _type.
func (d *accessDecision) restrictedBySearch(fr FHIRRequest, params url.Values) bool {
	types := []string{d.resourceType}
	if d.resourceType == "*" {
		types = nil
		for key, vs := range params {
			if strings.ToLower(key) == "_type" {
				for _, v := range vs {
					types = append(types, strings.Split(v, ",")...)
				}
			}
		}
		if types == nil {
			types = []string{"*"} // restricted only by a compartment path
		}
	}
	for _, t := range types {
		if !slices.ContainsFunc(d.alts, func(a Alternative) bool { return d.implies(fr, params, t, a) }) {
			return false
		}
	}
	return true
}

// implies reports whether the search of type typ asks only for data
// alternative a permits.
func (d *accessDecision) implies(fr FHIRRequest, params url.Values, typ string, a Alternative) bool {
	for _, c := range a.Params {
		if !slices.ContainsFunc(params[c.Name], func(v string) bool {
			return !slices.ContainsFunc(strings.Split(v, ","), func(item string) bool { return item != c.Value })
		}) {
			return false
		}
	}
	switch {
	case a.Patient == "":
		return true
	case fr.CompartmentType == "Patient" && fr.CompartmentID == a.Patient && typ != "Patient":
		return true
	case typ == "*":
		return false
	case typ != "Patient" && !fhirspec.IsPatientCompartmentType(typ):
		return true
	}
	for key, values := range params {
		name, modifier, _ := strings.Cut(key, ":")
		if d.restrictsToPatient(typ, name, modifier, values, a.Patient) {
			return true
		}
	}
	return false
}

// restrictsToPatient reports whether one parameter occurrence list
// restricts a search of typ to the compartment of patient: _id of a
// Patient search naming only them, or a reference parameter on the
// elements of a compartment parameter whose every value names them as a
// Patient (a bare id only for a parameter that targets Patient alone, or
// with the :Patient modifier).
func (d *accessDecision) restrictsToPatient(typ, name, modifier string, values []string, patient string) bool {
	if name == "_id" {
		return typ == "Patient" && modifier == "" && slices.ContainsFunc(values, func(v string) bool {
			return !slices.ContainsFunc(strings.Split(v, ","), func(id string) bool { return id != patient })
		})
	}
	if typ == "Patient" {
		return false
	}
	p, ok := fhirspec.Param(typ, name)
	if !ok || p.Type != fhirspec.TypeReference || !onCompartmentElements(typ, p) {
		return false
	}
	bareOK := modifier == "Patient" || modifier == "" && len(p.Targets) == 1 && p.Targets[0] == "Patient"
	if modifier != "" && modifier != "Patient" {
		return false
	}
	return slices.ContainsFunc(values, func(v string) bool {
		return !slices.ContainsFunc(strings.Split(v, ","), func(item string) bool {
			if strings.IndexByte(item, '/') < 0 {
				return !bareOK || item != patient
			}
			ref, ok := fhirspec.ParseReference(item)
			return !ok || ref.Type != "Patient" || ref.ID != patient || ref.Base != "" && !d.baseOK(ref.Base)
		})
	})
}

// onCompartmentElements reports whether every path of p is the path of a
// Patient compartment parameter of typ (so that matching it puts a
// resource in the compartment).
func onCompartmentElements(typ string, p fhirspec.SearchParam) bool {
	if len(p.Paths) == 0 || !p.Checkable {
		return false
	}
	for _, path := range p.Paths {
		if path.ResolveIs != "" && path.ResolveIs != "Patient" {
			return false
		}
		found := false
		for _, code := range fhirspec.PatientCompartmentParams(typ) {
			cp, ok := fhirspec.Param(typ, code)
			if ok && slices.ContainsFunc(cp.Paths, func(c fhirspec.Path) bool { return slices.Equal(c.Elements, path.Elements) }) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
