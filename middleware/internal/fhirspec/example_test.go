package fhirspec_test

import (
	"encoding/json"
	"fmt"

	"github.com/smartauth/smartauth/middleware/internal/fhirspec"
)

func Example() {
	var obs map[string]any
	_ = json.Unmarshal([]byte(`{
		"resourceType": "Observation",
		"status": "final",
		"category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
		"subject": {"reference": "https://ehr.example.org/fhir/Patient/p1"}
	}`), &obs)
	local := func(base string) bool { return base == "https://ehr.example.org/fhir" }

	fmt.Println(fhirspec.InPatientCompartment(obs, "p1", local))
	fmt.Println(fhirspec.InPatientCompartment(obs, "p2", local))
	fmt.Println(fhirspec.Match(obs, "Observation", "category",
		"http://terminology.hl7.org/CodeSystem/observation-category|laboratory", local))
	fmt.Println(fhirspec.Match(obs, "Observation", "category", "vital-signs,social-history", local))
	fmt.Println(fhirspec.Match(obs, "Observation", "date", "2024", local))
	// Output:
	// true
	// false
	// true <nil>
	// false <nil>
	// false fhirspec: search parameter cannot be checked on a resource: Observation search parameter date has type date
}

func ExampleParam() {
	p, _ := fhirspec.Param("Observation", "patient")
	fmt.Println(p.Type, p.Targets, p.Paths, p.Checkable)
	fmt.Println(fhirspec.PatientCompartmentParams("Observation"))
	fmt.Println(fhirspec.PatientReferenceParams("Observation"))
	// Output:
	// reference [Patient] [{[subject] Patient}] true
	// [subject performer]
	// [focus patient performer subject]
}

func ExampleParseReference() {
	fmt.Println(fhirspec.ParseReference("https://ehr.example.org/fhir/Patient/p1/_history/3"))
	fmt.Println(fhirspec.ParseReference("urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"))
	// Output:
	// {https://ehr.example.org/fhir Patient p1} true
	// {  } false
}
