package fhirspec

import "strings"

// PatientCompartmentParams returns the search parameters (codes) whose
// references put a resource of resourceType in a patient's compartment, per
// the R4 Patient CompartmentDefinition (Observation: subject, performer;
// Patient: link), and nil if resourceType is not in the Patient
// compartment. The returned slice must not be modified.
func PatientCompartmentParams(resourceType string) []string {
	if t := lookupType(resourceType); t != nil {
		return t.compartment
	}
	return nil
}

// IsPatientCompartmentType reports whether resources of resourceType can be
// in a patient's compartment: the CompartmentDefinition lists the type with
// at least one parameter. Medication, Practitioner or Organization are not.
func IsPatientCompartmentType(resourceType string) bool {
	return len(PatientCompartmentParams(resourceType)) > 0
}

// PatientReferenceParams returns the codes of the reference search
// parameters of resourceType that may name a patient (their targets include
// Patient, e.g. Observation: focus, patient, performer, subject) together
// with its Patient compartment parameters; sorted and unique, nil if none.
// The returned slice must not be modified.
func PatientReferenceParams(resourceType string) []string {
	if t := lookupType(resourceType); t != nil {
		return t.patientRefParams
	}
	return nil
}

// InPatientCompartment reports whether res, a decoded FHIR resource, lies
// in the compartment of the patient whose id is patientID, per the R4
// Patient CompartmentDefinition. That is when res is the Patient with that
// id, or when one of the Paths of its type's compartment parameters holds a
// Reference (an object with a "reference" string) that ParseReference
// parses as Type "Patient" and ID patientID, and whose Base is "" or
// accepted by baseOK (a nil baseOK accepts every base). Only references to
// a Patient count: a Group, a RelatedPerson or a contained or logical
// (identifier-only) reference never does. A resource whose resourceType is
// missing or not a compartment type, or an empty patientID, gives false.
//
// InPatientCompartment does not allocate.
func InPatientCompartment(res map[string]any, patientID string, baseOK func(base string) bool) bool {
	if patientID == "" {
		return false
	}
	rt, _ := res["resourceType"].(string)
	t := lookupType(rt)
	if t == nil || len(t.compartment) == 0 {
		return false
	}
	if rt == "Patient" {
		if id, _ := res["id"].(string); id == patientID {
			return true
		}
	}
	for _, p := range t.compartmentPaths {
		if p.ResolveIs != "" && p.ResolveIs != "Patient" {
			continue
		}
		if visit(res, p.Elements, func(v any) bool {
			s := referenceString(v)
			if !strings.Contains(s, "Patient/") {
				return false // cheap rejection of the other references
			}
			r, ok := ParseReference(s)
			return ok && r.Type == "Patient" && r.ID == patientID && (r.Base == "" || baseOK == nil || baseOK(r.Base))
		}) {
			return true
		}
	}
	return false
}

// referenceString returns the "reference" of v, a decoded Reference
// object, "" if there is none.
func referenceString(v any) string {
	obj, _ := v.(map[string]any)
	s, _ := obj["reference"].(string)
	return s
}
