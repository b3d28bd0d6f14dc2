package fhirspec

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParamSpotChecks(t *testing.T) {
	tests := []struct {
		typ, code string
		want      SearchParam
	}{
		{"Observation", "category", SearchParam{Code: "category", Type: TypeToken,
			Paths: []Path{{Elements: []string{"category"}}}, Checkable: true}},
		{"Observation", "code", SearchParam{Code: "code", Type: TypeToken,
			Paths: []Path{{Elements: []string{"code"}}}, Checkable: true}},
		{"Observation", "patient", SearchParam{Code: "patient", Type: TypeReference, Targets: []string{"Patient"},
			Paths: []Path{{Elements: []string{"subject"}, ResolveIs: "Patient"}}, Checkable: true}},
		{"Observation", "value-concept", SearchParam{Code: "value-concept", Type: TypeToken,
			Paths: []Path{{Elements: []string{"valueCodeableConcept"}}}, Checkable: true}},
		{"Observation", "value-string", SearchParam{Code: "value-string", Type: TypeString,
			Paths: []Path{{Elements: []string{"valueString"}}, {Elements: []string{"valueCodeableConcept", "text"}}}, Checkable: true}},
		{"Encounter", "participant", SearchParam{Code: "participant", Type: TypeReference,
			Targets: []string{"Practitioner", "PractitionerRole", "RelatedPerson"},
			Paths:   []Path{{Elements: []string{"participant", "individual"}}}, Checkable: true}},
		{"Patient", "link", SearchParam{Code: "link", Type: TypeReference, Targets: []string{"Patient", "RelatedPerson"},
			Paths: []Path{{Elements: []string{"link", "other"}}}, Checkable: true}},
		{"Patient", "email", SearchParam{Code: "email", Type: TypeToken}}, // telecom.where(system='email')
		{"Patient", "phonetic", SearchParam{Code: "phonetic", Type: TypeString,
			Paths: []Path{{Elements: []string{"name"}}}}}, // server-defined phonetic match
		{"MessageHeader", "event", SearchParam{Code: "event", Type: TypeToken,
			Paths: []Path{{Elements: []string{"eventCoding"}}, {Elements: []string{"eventUri"}}}, Checkable: true}},
		{"InsurancePlan", "name", SearchParam{Code: "name", Type: TypeString,
			Paths: []Path{{Elements: []string{"name"}}, {Elements: []string{"alias"}}}, Checkable: true}},
		{"Bundle", "composition", SearchParam{Code: "composition", Type: TypeReference, Targets: []string{"Composition"}}},
		{"Medication", "_lastUpdated", SearchParam{Code: "_lastUpdated", Type: TypeDate,
			Paths: []Path{{Elements: []string{"meta", "lastUpdated"}}}, Checkable: true}},
		{"Observation", "_tag", SearchParam{Code: "_tag", Type: TypeToken,
			Paths: []Path{{Elements: []string{"meta", "tag"}}}, Checkable: true}},
		{"Observation", "_text", SearchParam{Code: "_text", Type: TypeString}},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"."+tt.code, func(t *testing.T) {
			got, ok := Param(tt.typ, tt.code)
			require.True(t, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParamCompositeAndDate(t *testing.T) {
	p, ok := Param("Observation", "code-value-quantity")
	require.True(t, ok)
	assert.Equal(t, TypeComposite, p.Type)
	p, ok = Param("Observation", "date")
	require.True(t, ok)
	assert.Equal(t, TypeDate, p.Type)
	assert.Equal(t, []Path{
		{Elements: []string{"effectiveDateTime"}}, {Elements: []string{"effectivePeriod"}},
		{Elements: []string{"effectiveTiming"}}, {Elements: []string{"effectiveInstant"}},
	}, p.Paths)
}

func TestParamUnknown(t *testing.T) {
	for _, tt := range []struct{ typ, code string }{
		{"Observation", "nope"},
		{"Observation", "code:text"}, // Param takes a code without modifier
		{"NotAType", "_id"},
		{"", "_id"},
		{"Bundle", "_text"}, // Bundle is not a DomainResource
		{"Resource", "_id"},
		{"DeviceDefinition", "classification"}, // not in 4.0.1
	} {
		_, ok := Param(tt.typ, tt.code)
		assert.False(t, ok, "%s %s", tt.typ, tt.code)
	}
}

func TestCommonParamsApplyToEveryType(t *testing.T) {
	require.Len(t, typeTable, 146)
	assert.True(t, slices.IsSortedFunc(typeTable, func(a, b typeInfo) int {
		return strings.Compare(a.name, b.name)
	}))
	for _, ti := range typeTable {
		assert.True(t, slices.IsSortedFunc(ti.params, func(a, b SearchParam) int { return strings.Compare(a.Code, b.Code) }), ti.name)
		for _, code := range []string{"_id", "_lastUpdated", "_profile", "_tag", "_security", "_source"} {
			p, ok := Param(ti.name, code)
			require.True(t, ok, "%s %s", ti.name, code)
			assert.True(t, p.Checkable, "%s %s", ti.name, code)
		}
		p, _ := Param(ti.name, "_id")
		assert.Equal(t, []Path{{Elements: []string{"id"}}}, p.Paths)
		_, ok := Param(ti.name, "_text")
		assert.Equal(t, ti.name != "Bundle" && ti.name != "Binary" && ti.name != "Parameters", ok, ti.name)
	}
}

func TestPatientCompartmentTables(t *testing.T) {
	n := 0
	for _, ti := range typeTable {
		if IsPatientCompartmentType(ti.name) {
			n++
			for _, code := range PatientCompartmentParams(ti.name) {
				p, ok := Param(ti.name, code)
				require.True(t, ok, "%s %s", ti.name, code)
				assert.Equal(t, TypeReference, p.Type)
				assert.NotEmpty(t, p.Paths)
			}
		}
	}
	assert.Equal(t, 67, n)

	assert.Equal(t, []string{"subject", "performer"}, PatientCompartmentParams("Observation"))
	assert.Equal(t, []string{"link"}, PatientCompartmentParams("Patient"))
	assert.Equal(t, []string{"patient", "recorder", "asserter"}, PatientCompartmentParams("AllergyIntolerance"))
	assert.Equal(t, []string{"member"}, PatientCompartmentParams("Group"))
	assert.Equal(t, []string{"policy-holder", "subscriber", "beneficiary", "payor"}, PatientCompartmentParams("Coverage"))
	for _, typ := range []string{"Medication", "Practitioner", "Organization", "Location", "Binary", "Bundle", "Parameters", "Nope", ""} {
		assert.Nil(t, PatientCompartmentParams(typ), typ)
		assert.False(t, IsPatientCompartmentType(typ), typ)
	}
}

func TestPatientReferenceParams(t *testing.T) {
	tests := []struct {
		typ  string
		want []string
	}{
		{"Observation", []string{"focus", "patient", "performer", "subject"}},
		{"Encounter", []string{"patient", "subject"}},
		{"Patient", []string{"link"}},
		{"AllergyIntolerance", []string{"asserter", "patient", "recorder"}},
		{"Group", []string{"member"}},
		{"Medication", nil},
		{"Practitioner", nil},
		{"Nope", nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, PatientReferenceParams(tt.typ), tt.typ)
	}
	for _, ti := range typeTable {
		got := PatientReferenceParams(ti.name)
		assert.True(t, slices.IsSorted(got), ti.name)
		assert.Len(t, slices.Compact(slices.Clone(got)), len(got), ti.name)
		for _, c := range PatientCompartmentParams(ti.name) {
			assert.Contains(t, got, c, ti.name)
		}
		for _, code := range got {
			p, ok := Param(ti.name, code)
			require.True(t, ok)
			assert.Equal(t, TypeReference, p.Type, "%s %s", ti.name, code)
		}
	}
}

func TestParamTypeString(t *testing.T) {
	names := []string{"unknown", "number", "date", "string", "token", "reference", "composite", "quantity", "uri", "special"}
	for i, n := range names {
		assert.Equal(t, n, ParamType(i).String())
	}
	assert.Equal(t, "unknown", ParamType(200).String())
}
