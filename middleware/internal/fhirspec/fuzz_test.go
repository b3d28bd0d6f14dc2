package fhirspec

import (
	"encoding/json"
	"errors"
	"testing"
)

// fuzzSeeds are resources for the fuzz corpora.
var fuzzSeeds = []string{
	labObservation,
	`{"resourceType":"Patient","id":"p1","link":[{"other":{"reference":"Patient/p2"}}],"name":[{"family":"Müller","given":["Jo"]}]}`,
	`{"resourceType":"Group","member":[{"entity":{"reference":"https://h/fhir/Patient/p1/_history/2"}}]}`,
	`{"resourceType":"Encounter","subject":[[[{"reference":"Patient/p1"}]]],"participant":{"individual":"Patient/p1"}}`,
	`{"resourceType":"Observation","subject":{"reference":{"reference":"Patient/p1"}},"category":"laboratory"}`,
	`{"resourceType":"AllergyIntolerance","patient":null,"recorder":[null,1,true,"x"]}`,
}

// FuzzInPatientCompartment checks that arbitrary JSON never panics the
// compartment check, and that a resource in the compartment has a
// compartment type.
func FuzzInPatientCompartment(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), "p1", "https://h/fhir")
	}
	f.Fuzz(func(t *testing.T, data []byte, patientID, base string) {
		var res map[string]any
		if json.Unmarshal(data, &res) != nil {
			return
		}
		in := InPatientCompartment(res, patientID, func(b string) bool { return b == base })
		_ = InPatientCompartment(res, patientID, nil)
		if in {
			rt, _ := res["resourceType"].(string)
			if !IsPatientCompartmentType(rt) {
				t.Fatalf("in the compartment of %q but %q is not a compartment type", patientID, rt)
			}
		}
	})
}

// FuzzMatch checks that arbitrary JSON, parameter names and values never
// panic Match, and that Match's error agrees with Checkable.
func FuzzMatch(f *testing.F) {
	for _, s := range fuzzSeeds {
		for _, p := range [][2]string{
			{"category", "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"},
			{"subject", "Patient/p1,p2"}, {"patient", "https://h/fhir/Patient/p1"},
			{"name:contains", "mül"}, {"name", `a\,b`}, {"_profile", "http://x"}, {"date", "2020"},
			{"identifier", `|x\|y`}, {"link", "p2"}, {"member", "Patient/p1/_history/2"},
		} {
			f.Add([]byte(s), p[0], p[1])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, name, value string) {
		var res map[string]any
		if json.Unmarshal(data, &res) != nil {
			return
		}
		rt, _ := res["resourceType"].(string)
		for _, typ := range []string{rt, "Observation", "Patient"} {
			ok, err := Match(res, typ, name, value, func(b string) bool { return b == "https://h/fhir" })
			if err != nil && (ok || !errors.Is(err, ErrUncheckable)) {
				t.Fatalf("Match = %v, %v", ok, err)
			}
			if (err == nil) != Checkable(typ, name) {
				t.Fatalf("Match error %v but Checkable(%q, %q) = %v", err, typ, name, Checkable(typ, name))
			}
		}
	})
}

// FuzzParseReference checks that ParseReference never panics and that
// what it accepts is well-formed.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"Patient/1", "Patient/1/_history/2", "https://h/fhir/Patient/1", "#x", "urn:uuid:1", "http://", "https://h/_history/1/_history/2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, ok := ParseReference(s)
		if !ok {
			if r != (Reference{}) {
				t.Fatalf("ParseReference(%q) = %+v, false", s, r)
			}
			return
		}
		if !validID(r.ID) || !isResourceType(r.Type) {
			t.Fatalf("ParseReference(%q) = %+v", s, r)
		}
		if r.Base != "" && schemeEnd(r.Base) == 0 {
			t.Fatalf("ParseReference(%q): base %q", s, r.Base)
		}
	})
}
