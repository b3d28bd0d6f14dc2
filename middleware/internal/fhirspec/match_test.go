package fhirspec

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const labObservation = `{
  "resourceType": "Observation",
  "id": "o1",
  "meta": {"tag": [{"system": "http://example.org/tags", "code": "reviewed"}], "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab"]},
  "status": "final",
  "category": [{"coding": [
    {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory", "display": "Laboratory"},
    {"code": "local-lab"}
  ]}],
  "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}], "text": "Glucose"},
  "subject": {"reference": "Patient/p1"},
  "performer": [{"reference": "https://ehr.example.org/fhir/Practitioner/d1"}, {"reference": "Organization/o9"}],
  "identifier": [{"system": "urn:oid:1.2.3", "value": "A-1"}, {"value": "no-system"}],
  "valueQuantity": {"value": 6.3, "unit": "mmol/l", "system": "http://unitsofmeasure.org", "code": "mmol/L"}
}`

func TestMatchToken(t *testing.T) {
	obs := decode(t, labObservation)
	tests := []struct {
		name, value string
		want        bool
	}{
		// CodeableConcept, any coding
		{"category", "http://terminology.hl7.org/CodeSystem/observation-category|laboratory", true},
		{"category", "laboratory", true},
		{"category", "Laboratory", false}, // codes are case-sensitive
		{"category", "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs", false},
		{"category", "http://terminology.hl7.org/CodeSystem/observation-category|", true},
		{"category", "http://example.org/other|", false},
		{"category", "|laboratory", false}, // that coding has a system
		{"category", "|local-lab", true},
		{"category", "local-lab", true},
		{"category", "vital-signs,laboratory", true}, // OR list
		{"category", "vital-signs,social-history", false},
		{"category", "", false},
		{"category", "|", false},
		{"category", ",", false},
		{"code", "http://loinc.org|2345-7", true},
		{"code", "http://loinc.org|2345", false},
		{"code", "Glucose", false}, // not the text
		// code primitive
		{"status", "final", true},
		{"status", "|final", true},
		{"status", "preliminary", false},
		{"status", "preliminary,final", true},
		{"status", "http://hl7.org/fhir/observation-status|final", false}, // a primitive has no system
		{"status", "Final", false},
		// Identifier
		{"identifier", "urn:oid:1.2.3|A-1", true},
		{"identifier", "A-1", true},
		{"identifier", "|A-1", false},
		{"identifier", "|no-system", true},
		{"identifier", "urn:oid:1.2.3|", true},
		{"identifier", "urn:oid:9|A-1", false},
		// Coding (meta.tag) and id
		{"_tag", "http://example.org/tags|reviewed", true},
		{"_tag", "reviewed", true},
		{"_tag", "http://example.org/tags|draft", false},
		{"_id", "o1", true},
		{"_id", "o2,o1", true},
		{"_id", "o2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			got, err := Match(obs, "Observation", tt.name, tt.value, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestMatchTokenEscapes(t *testing.T) {
	res := decode(t, `{"resourceType":"Observation","identifier":[{"system":"http://x","value":"a,b|c\\d"}],"status":"a,b"}`)
	tests := []struct {
		name, value string
		want        bool
	}{
		{"identifier", `http://x|a\,b\|c\\d`, true},
		{"identifier", `a\,b\|c\\d`, true},
		{"identifier", `a,b|c\\d`, false}, // "a" or "b|c\d"
		{"status", `a\,b`, true},
		{"status", `a,b`, false},
		{"status", `x,a\,b`, true},
	}
	for _, tt := range tests {
		got, err := Match(res, "Observation", tt.name, tt.value, nil)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "%s=%s", tt.name, tt.value)
	}
}

func TestMatchTokenContactPointAndBoolean(t *testing.T) {
	pat := decode(t, `{"resourceType":"Patient","id":"p1","active":true,
		"telecom":[{"system":"phone","value":"555-1234","use":"home"},{"system":"email","value":"a@example.org"}]}`)
	tests := []struct {
		name, value string
		want        bool
	}{
		{"telecom", "555-1234", true},
		{"telecom", "|a@example.org", true},
		{"telecom", "phone|555-1234", false}, // ContactPoint.system is not a URI system
		{"telecom", "555", false},
		{"active", "true", true},
		{"active", "false", false},
		{"active", "|true", true},
	}
	for _, tt := range tests {
		got, err := Match(pat, "Patient", tt.name, tt.value, nil)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "%s=%s", tt.name, tt.value)
	}
}

func TestMatchTokenChoiceAndComponents(t *testing.T) {
	obs := decode(t, `{"resourceType":"Observation","valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"260385009"}]},
		"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]}}],
		"code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]}}`)
	tests := []struct {
		name, value string
		want        bool
	}{
		{"value-concept", "http://snomed.info/sct|260385009", true},
		{"value-concept", "260385009", true},
		{"combo-code", "8480-6", true},
		{"combo-code", "85354-9", true},
		{"component-code", "85354-9", false},
		{"component-code", "http://loinc.org|8480-6", true},
	}
	for _, tt := range tests {
		got, err := Match(obs, "Observation", tt.name, tt.value, nil)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "%s=%s", tt.name, tt.value)
	}
	mh := decode(t, `{"resourceType":"MessageHeader","eventCoding":{"system":"http://example.org/events","code":"admit"}}`)
	got, err := Match(mh, "MessageHeader", "event", "http://example.org/events|admit", nil)
	require.NoError(t, err)
	assert.True(t, got)
	mh = decode(t, `{"resourceType":"MessageHeader","eventUri":"http://example.org/events/admit"}`)
	got, err = Match(mh, "MessageHeader", "event", "http://example.org/events/admit", nil)
	require.NoError(t, err)
	assert.True(t, got)
}

func TestMatchString(t *testing.T) {
	pat := decode(t, `{"resourceType":"Patient","id":"p1",
		"name":[{"use":"official","family":"Müller-Lüdenscheidt","given":["José","Éva"],"prefix":["Dr."]},{"text":"Jo Smith"}],
		"address":[{"line":["12 Rue de l'Église"],"city":"Zürich","postalCode":"8001","country":"CH"}]}`)
	tests := []struct {
		name, value string
		want        bool
	}{
		{"name", "müller", true},
		{"name", "MULLER", true},
		{"name", "Muller-Ludenscheidt", true},
		{"name", "mueller", false},
		{"name", "jose", true},
		{"name", "JOSÉ", true},
		{"name", "eva", true},
		{"name", "dr", true},
		{"name", "jo smith", true},
		{"name", "smith", false}, // starts with
		{"name", "ludenscheidt", false},
		{"name", "xyz,jo", true},
		{"name:contains", "ludenscheidt", true},
		{"name:contains", "LÜDEN", true},
		{"name:contains", "smi", true},
		{"name:contains", "nobody", false},
		{"name:exact", "José", true},
		{"name:exact", "Jose", false},
		{"name:exact", "josé", false},
		{"name:exact", "Jo Smith", true},
		{"family", "mul", true},
		{"family", "jose", false},
		{"given", "JO", true},
		{"given", "dr", false},
		{"address", "zurich", true},
		{"address", "12 rue de l'eglise", true},
		{"address", "8001", true},
		{"address", "ch", true},
		{"address:contains", "eglise", true},
		{"address-city", "zür", true},
		{"address-city", "8001", false},
		{"address-postalcode", "80", true},
		{"name", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			got, err := Match(pat, "Patient", tt.name, tt.value, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestFold(t *testing.T) {
	assert.Equal(t, fold("MULLER"), fold("müller"))
	assert.Equal(t, fold("Ångström"), fold("angstrom"))
	assert.Equal(t, fold("\u212a"), fold("k")) // Kelvin sign
	assert.NotEqual(t, fold("a"), fold("b"))
}

func TestMatchReference(t *testing.T) {
	const base = "https://ehr.example.org/fhir"
	obs := decode(t, `{"resourceType":"Observation",
		"subject":{"reference":"Patient/p1"},
		"performer":[{"reference":"`+base+`/Practitioner/d1"},{"reference":"Organization/o9/_history/2"},{"reference":"urn:uuid:0b5d3b8e-1a6e-4f0d-9a47-4a2e5f6f7a10"}],
		"basedOn":[{"reference":"#sr1"}]}`)
	tests := []struct {
		name, value string
		baseOK      func(string) bool
		want        bool
	}{
		{"subject", "Patient/p1", nil, true},
		{"subject", "p1", nil, true},
		{"subject", "Patient/p2", nil, false},
		{"subject", "Group/p1", nil, false},
		{"subject", "p2,Patient/p1", nil, true},
		{"subject", base + "/Patient/p1", onlyBase(base), true},
		{"subject", "https://other.example.com/Patient/p1", onlyBase(base), false},
		{"subject", "https://other.example.com/Patient/p1", nil, true}, // nil baseOK: any base
		{"subject", "Patient/p1/_history/1", nil, false},               // version asked, none held
		{"patient", "Patient/p1", nil, true},
		{"patient", "p1", nil, true},
		{"performer", "Practitioner/d1", onlyBase(base), true},
		{"performer", "d1", onlyBase(base), true},
		{"performer", "Practitioner/d1", onlyBase("https://other.example.com"), false},
		{"performer", base + "/Practitioner/d1", onlyBase("https://other.example.com"), true}, // same string
		{"performer", "Organization/o9", nil, true},
		{"performer", "Organization/o9/_history/2", nil, true},
		{"performer", "Organization/o9/_history/3", nil, false},
		{"performer", "urn:uuid:0b5d3b8e-1a6e-4f0d-9a47-4a2e5f6f7a10", nil, true},
		{"performer", "urn:uuid:00000000-0000-0000-0000-000000000000", nil, false},
		{"based-on", "sr1", nil, false},
		{"based-on", "#sr1", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			got, err := Match(obs, "Observation", tt.name, tt.value, tt.baseOK)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}

	// patient is subject.where(resolve() is Patient): a Group subject is not
	// a patient, even by equal string.
	grp := decode(t, `{"resourceType":"Observation","subject":{"reference":"Group/g1"}}`)
	for _, v := range []string{"Group/g1", "g1"} {
		got, err := Match(grp, "Observation", "patient", v, nil)
		require.NoError(t, err)
		assert.False(t, got, v)
		got, err = Match(grp, "Observation", "subject", v, nil)
		require.NoError(t, err)
		assert.True(t, got, v)
	}
}

func TestMatchReferenceCanonical(t *testing.T) {
	pd := decode(t, `{"resourceType":"PlanDefinition","action":[{"definitionCanonical":"http://example.org/ActivityDefinition/ad1|2.0"}]}`)
	tests := []struct {
		value string
		want  bool
	}{
		{"http://example.org/ActivityDefinition/ad1", true},
		{"http://example.org/ActivityDefinition/ad1|2.0", true},
		{"http://example.org/ActivityDefinition/ad1|1.0", false},
		{"http://example.org/ActivityDefinition/ad2", false},
	}
	for _, tt := range tests {
		got, err := Match(pd, "PlanDefinition", "definition", tt.value, nil)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, tt.value)
	}
}

func TestMatchURI(t *testing.T) {
	obs := decode(t, labObservation)
	got, err := Match(obs, "Observation", "_profile", "http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab", nil)
	require.NoError(t, err)
	assert.True(t, got)
	got, err = Match(obs, "Observation", "_profile", "http://hl7.org/fhir/us/core/StructureDefinition/US-core-observation-lab", nil)
	require.NoError(t, err)
	assert.False(t, got)
}

func TestMatchUncheckable(t *testing.T) {
	obs := decode(t, labObservation)
	tests := []struct {
		typ, name string
	}{
		{"Observation", "date"},               // date
		{"Observation", "value-quantity"},     // quantity
		{"Observation", "code-value-concept"}, // composite
		{"Location", "near"},                  // special
		{"Observation", "nope"},               // unknown
		{"Observation", "subject.name"},       // chained
		{"Nope", "code"},                      // unknown type
		{"Observation", "code:text"},          // token modifier
		{"Observation", "code:not"},           // token modifier
		{"Observation", "code:missing"},       // :missing
		{"Observation", "subject:Patient"},    // reference type modifier
		{"Observation", "_profile:below"},     // uri modifier
		{"Patient", "name:missing"},           // string modifier
		{"Patient", "name:text"},              // string modifier
		{"Patient", "email"},                  // telecom.where(system='email')
		{"Patient", "deceased"},               // exists() and ...
		{"Patient", "phonetic"},               // server-defined
		{"Observation", "_text"},              // no expression
		{"Observation", "_content"},           // no expression
		{"Bundle", "composition"},             // Bundle.entry[0].resource
		{"Observation", ""},                   // empty
		{"Observation", ":exact"},             // no code
		{"Observation", "combo-code-value-concept"},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"?"+tt.name, func(t *testing.T) {
			assert.False(t, Checkable(tt.typ, tt.name))
			got, err := Match(obs, tt.typ, tt.name, "x", nil)
			assert.False(t, got)
			assert.True(t, errors.Is(err, ErrUncheckable), "%v", err)
		})
	}
}

func TestCheckable(t *testing.T) {
	for _, tt := range []struct{ typ, name string }{
		{"Observation", "category"}, {"Observation", "code"}, {"Observation", "patient"},
		{"Observation", "subject"}, {"Observation", "_id"}, {"Observation", "_tag"},
		{"Observation", "_profile"}, {"Observation", "value-string:contains"},
		{"Patient", "name"}, {"Patient", "name:exact"}, {"Patient", "name:contains"},
		{"Patient", "telecom"}, {"Patient", "identifier"}, {"Condition", "clinical-status"},
		{"MedicationRequest", "code"}, {"Medication", "code"},
	} {
		assert.True(t, Checkable(tt.typ, tt.name), "%s %s", tt.typ, tt.name)
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	obs := decode(t, labObservation)
	ok := onlyBase("https://ehr.example.org/fhir")
	for _, tt := range []struct{ name, value string }{
		{"category", "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs,http://terminology.hl7.org/CodeSystem/observation-category|laboratory"},
		{"code", "http://loinc.org|2345-7"},
		{"performer", "Practitioner/d1"},
		{"value-string", "gluc"},
	} {
		allocs := testing.AllocsPerRun(100, func() {
			_, _ = Match(obs, "Observation", tt.name, tt.value, ok)
		})
		assert.Zero(t, allocs, tt.name)
	}
}
