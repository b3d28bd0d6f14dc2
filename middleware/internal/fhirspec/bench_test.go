package fhirspec

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// observationBundle returns the decoded resources of a 1,000-entry search
// Bundle of laboratory and vital-signs Observations of two patients.
func observationBundle(b *testing.B) []map[string]any {
	var sb strings.Builder
	sb.WriteString(`{"resourceType":"Bundle","type":"searchset","entry":[`)
	for i := range 1000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		cat, patient := "laboratory", "p1"
		if i%3 == 0 {
			cat = "vital-signs"
		}
		if i%4 == 0 {
			patient = "p2"
		}
		fmt.Fprintf(&sb, `{"fullUrl":"https://ehr.example.org/fhir/Observation/o%d","resource":{
			"resourceType":"Observation","id":"o%d","meta":{"lastUpdated":"2024-01-02T03:04:05Z"},"status":"final",
			"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":%q}]}],
			"code":{"coding":[{"system":"http://loinc.org","code":"2345-7","display":"Glucose"}],"text":"Glucose"},
			"subject":{"reference":"Patient/%s","display":"Jo"},
			"performer":[{"reference":"Practitioner/d1"},{"reference":"Organization/o1"}],
			"effectiveDateTime":"2024-01-02T03:04:05Z",
			"valueQuantity":{"value":6.3,"unit":"mmol/l","system":"http://unitsofmeasure.org","code":"mmol/L"}}}`,
			i, i, cat, patient)
	}
	sb.WriteString(`]}`)
	var bundle struct {
		Entry []struct {
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal([]byte(sb.String()), &bundle); err != nil {
		b.Fatal(err)
	}
	out := make([]map[string]any, len(bundle.Entry))
	for i, e := range bundle.Entry {
		out[i] = e.Resource
	}
	return out
}

// BenchmarkFilterBundle filters a decoded 1,000-entry Observation Bundle for
// patient/Observation.rs?category=...|laboratory: one op is the whole
// Bundle.
func BenchmarkFilterBundle(b *testing.B) {
	resources := observationBundle(b)
	baseOK := func(base string) bool { return base == "https://ehr.example.org/fhir" }
	const value = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
	b.ReportAllocs()
	for b.Loop() {
		kept := 0
		for _, res := range resources {
			if !InPatientCompartment(res, "p1", baseOK) {
				continue
			}
			ok, err := Match(res, "Observation", "category", value, baseOK)
			if err != nil {
				b.Fatal(err)
			}
			if ok {
				kept++
			}
		}
		if kept != 500 {
			b.Fatalf("kept %d", kept)
		}
	}
}

func BenchmarkInPatientCompartment(b *testing.B) {
	resources := observationBundle(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, res := range resources {
			InPatientCompartment(res, "p1", nil)
		}
	}
}

func BenchmarkMatchString(b *testing.B) {
	pat := map[string]any{}
	if err := json.Unmarshal([]byte(`{"resourceType":"Patient","name":[{"family":"Müller","given":["José"]},{"family":"Smith","given":["Jo"]}]}`), &pat); err != nil {
		b.Fatal(err)
	}
	for _, v := range []string{"smi", "mul"} {
		b.Run(v, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ok, err := Match(pat, "Patient", "name", v, nil); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}
