package fhirspec

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestInPatientCompartment(t *testing.T) {
	const base = "https://ehr.example.org/fhir"
	tests := []struct {
		name   string
		res    string
		baseOK func(string) bool
		want   bool
	}{
		{"Observation subject", `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"}}`, nil, true},
		{"Observation subject other patient", `{"resourceType":"Observation","subject":{"reference":"Patient/p2"}}`, nil, false},
		{"Observation subject versioned", `{"resourceType":"Observation","subject":{"reference":"Patient/p1/_history/3"}}`, nil, true},
		{"Observation performer", `{"resourceType":"Observation","subject":{"reference":"Group/g1"},"performer":[{"reference":"Practitioner/d1"},{"reference":"Patient/p1"}]}`, nil, true},
		{"Observation performer not patient", `{"resourceType":"Observation","performer":[{"reference":"Practitioner/p1"},{"reference":"RelatedPerson/p1"}]}`, nil, false},
		{"Observation subject Group with patient id", `{"resourceType":"Observation","subject":{"reference":"Group/p1"}}`, nil, false},
		{"Observation focus not a compartment param", `{"resourceType":"Observation","focus":[{"reference":"Patient/p1"}]}`, nil, false},
		{"Observation no references", `{"resourceType":"Observation","status":"final"}`, nil, false},
		{"Observation subject display only", `{"resourceType":"Observation","subject":{"display":"Patient/p1"}}`, nil, false},
		{"Observation logical reference", `{"resourceType":"Observation","subject":{"type":"Patient","identifier":{"value":"p1"}}}`, nil, false},
		{"Observation contained reference", `{"resourceType":"Observation","contained":[{"resourceType":"Patient","id":"p1"}],"subject":{"reference":"#p1"}}`, nil, false},
		{"Observation urn reference", `{"resourceType":"Observation","subject":{"reference":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"}}`, nil, false},
		{"Observation reference not a string", `{"resourceType":"Observation","subject":{"reference":42}}`, nil, false},
		{"Observation subject array (malformed)", `{"resourceType":"Observation","subject":[{"reference":"Patient/p1"}]}`, nil, true},
		{"Observation absolute, any base", `{"resourceType":"Observation","subject":{"reference":"https://other.example.com/Patient/p1"}}`, nil, true},
		{"Observation absolute, our base", `{"resourceType":"Observation","subject":{"reference":"` + base + `/Patient/p1"}}`, onlyBase(base), true},
		{"Observation absolute, foreign base", `{"resourceType":"Observation","subject":{"reference":"https://other.example.com/Patient/p1"}}`, onlyBase(base), false},
		{"Observation relative with baseOK", `{"resourceType":"Observation","subject":{"reference":"Patient/p1"}}`, onlyBase(base), true},
		{"Encounter subject", `{"resourceType":"Encounter","subject":{"reference":"Patient/p1"}}`, nil, true},
		{"Encounter participant not compartment", `{"resourceType":"Encounter","participant":[{"individual":{"reference":"Practitioner/d1"}}],"subject":{"reference":"Patient/p2"}}`, nil, false},
		{"Patient self", `{"resourceType":"Patient","id":"p1"}`, nil, true},
		{"Patient other", `{"resourceType":"Patient","id":"p2"}`, nil, false},
		{"Patient link", `{"resourceType":"Patient","id":"p2","link":[{"other":{"reference":"Patient/p1"},"type":"seealso"}]}`, nil, true},
		{"Patient link RelatedPerson", `{"resourceType":"Patient","id":"p2","link":[{"other":{"reference":"RelatedPerson/p1"},"type":"seealso"}]}`, nil, false},
		{"Patient id not a string", `{"resourceType":"Patient","id":1}`, nil, false},
		{"Group member", `{"resourceType":"Group","type":"person","actual":true,"member":[{"entity":{"reference":"Patient/p9"}},{"entity":{"reference":"Patient/p1"}}]}`, nil, true},
		{"Group member other", `{"resourceType":"Group","member":[{"entity":{"reference":"Patient/p9"}}]}`, nil, false},
		{"AllergyIntolerance patient", `{"resourceType":"AllergyIntolerance","patient":{"reference":"Patient/p1"}}`, nil, true},
		{"AllergyIntolerance recorder", `{"resourceType":"AllergyIntolerance","patient":{"reference":"Patient/p2"},"recorder":{"reference":"Patient/p1"}}`, nil, true},
		{"AllergyIntolerance asserter", `{"resourceType":"AllergyIntolerance","patient":{"reference":"Patient/p2"},"asserter":{"reference":"Patient/p1"}}`, nil, true},
		{"Appointment actor", `{"resourceType":"Appointment","participant":[{"actor":{"reference":"Location/l1"}},{"actor":{"reference":"Patient/p1"}}]}`, nil, true},
		{"Coverage beneficiary", `{"resourceType":"Coverage","beneficiary":{"reference":"Patient/p1"}}`, nil, true},
		{"Medication", `{"resourceType":"Medication","id":"p1","code":{"text":"Patient/p1"}}`, nil, false},
		{"Practitioner", `{"resourceType":"Practitioner","id":"p1"}`, nil, false},
		{"Organization", `{"resourceType":"Organization","id":"p1"}`, nil, false},
		{"no resourceType", `{"id":"p1","subject":{"reference":"Patient/p1"}}`, nil, false},
		{"unknown resourceType", `{"resourceType":"Nope","subject":{"reference":"Patient/p1"}}`, nil, false},
		{"resourceType not a string", `{"resourceType":["Observation"],"subject":{"reference":"Patient/p1"}}`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, InPatientCompartment(decode(t, tt.res), "p1", tt.baseOK))
		})
	}
}

func TestInPatientCompartmentEmptyPatientID(t *testing.T) {
	assert.False(t, InPatientCompartment(decode(t, `{"resourceType":"Patient"}`), "", nil))
	assert.False(t, InPatientCompartment(decode(t, `{"resourceType":"Patient","id":""}`), "", nil))
	assert.False(t, InPatientCompartment(nil, "p1", nil))
}

func TestInPatientCompartmentDoesNotAllocate(t *testing.T) {
	res := decode(t, `{"resourceType":"Observation","subject":{"reference":"Group/g"},"performer":[{"reference":"Practitioner/d"},{"reference":"https://h/fhir/Patient/p1"}]}`)
	ok := onlyBase("https://h/fhir")
	allocs := testing.AllocsPerRun(100, func() {
		if !InPatientCompartment(res, "p1", ok) {
			t.Fatal("not in compartment")
		}
	})
	assert.Zero(t, allocs)
}

func TestValues(t *testing.T) {
	res := decode(t, `{"resourceType":"Encounter",
		"participant":[{"individual":{"reference":"Practitioner/1"}},{"type":[]},{"individual":{"reference":"Patient/2"}}],
		"subject":{"reference":"Patient/2"},
		"category":[{"coding":[{"code":"a"},{"code":"b"}]},{"coding":[{"code":"c"}]}],
		"status":"finished"}`)
	tests := []struct {
		elems []string
		want  []any
	}{
		{[]string{"participant", "individual"}, []any{
			map[string]any{"reference": "Practitioner/1"}, map[string]any{"reference": "Patient/2"}}},
		{[]string{"subject", "reference"}, []any{"Patient/2"}},
		{[]string{"category", "coding", "code"}, []any{"a", "b", "c"}},
		{[]string{"status"}, []any{"finished"}},
		{[]string{"status", "x"}, nil},
		{[]string{"nope"}, nil},
		{[]string{"participant", "type"}, nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Values(res, Path{Elements: tt.elems}), "%v", tt.elems)
	}
	assert.Equal(t, []any{res}, Values(res, Path{}))
	assert.Nil(t, Values(nil, Path{Elements: []string{"a"}}))
}
