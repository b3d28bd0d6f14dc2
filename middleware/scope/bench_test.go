package scope

import "testing"

const benchScopes = "launch/patient openid fhirUser offline_access patient/Patient.r patient/Condition.rs " +
	"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory " +
	"patient/MedicationRequest.rs patient/AllergyIntolerance.cruds user/Practitioner.r patient/*.read"

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Parse(benchScopes)
	}
}

func BenchmarkAllows(b *testing.B) {
	set := Parse(benchScopes)
	b.ReportAllocs()
	for b.Loop() {
		if !set.Allows(Patient, "MedicationRequest", InteractionSearch) {
			b.Fatal("not allowed")
		}
	}
}

func BenchmarkAllowsDenied(b *testing.B) {
	set := Parse(benchScopes)
	b.ReportAllocs()
	for b.Loop() {
		if set.Allows(User, "Observation", InteractionDelete) {
			b.Fatal("allowed")
		}
	}
}
