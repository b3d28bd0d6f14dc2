package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// defsDir is where the FHIR R4 definitions are: $FHIR_R4_DEFS, or the
// go:generate default (a "shared" directory beside the repository).
func defsDir() string {
	if d := os.Getenv("FHIR_R4_DEFS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "..", "..", "..", "shared", "fhir-r4")
}

// TestGeneratedFileUpToDate regenerates the tables and compares them with
// the committed tables_gen.go.
func TestGeneratedFileUpToDate(t *testing.T) {
	dir := defsDir()
	if _, err := os.Stat(filepath.Join(dir, searchParamFile)); err != nil {
		t.Skipf("FHIR R4 definitions not found in %s (set FHIR_R4_DEFS to check tables_gen.go): %v", dir, err)
	}
	want, notes, err := generate(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"skipped SearchParameter/DeviceDefinition-classification: version 5.0.0-snapshot1, not 4.0.1"}, notes)
	got, err := os.ReadFile(filepath.Join("..", "..", "tables_gen.go"))
	require.NoError(t, err)
	if string(got) != string(want) {
		t.Fatal("tables_gen.go is stale: run go generate ./middleware/internal/fhirspec")
	}
}

func TestSplitUnion(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{"", nil},
		{"Observation.subject", []string{"Observation.subject"}},
		{"A.x | B.y|(C.z as Reference)", []string{"A.x", "B.y", "(C.z as Reference)"}},
		{"A.telecom.where(system='a|b') | A.b", []string{"A.telecom.where(system='a|b')", "A.b"}},
		{"(A.x | A.y).z | B", []string{"(A.x | A.y).z", "B"}},
	}
	for _, tt := range tests {
		got, err := splitUnion(tt.expr)
		require.NoError(t, err, tt.expr)
		assert.Equal(t, tt.want, got, tt.expr)
	}
	for _, bad := range []string{"A.x |", "(A.x", "A.x)", "A.where(x='y"} {
		_, err := splitUnion(bad)
		assert.Error(t, err, bad)
	}
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		part string
		want path
		ok   bool
	}{
		{"Observation.subject", path{[]string{"subject"}, ""}, true},
		{"Encounter.participant.individual", path{[]string{"participant", "individual"}, ""}, true},
		{"Observation.subject.where(resolve() is Patient)", path{[]string{"subject"}, "Patient"}, true},
		{"(Observation.value as CodeableConcept)", path{[]string{"valueCodeableConcept"}, ""}, true},
		{"Observation.value.as(CodeableConcept)", path{[]string{"valueCodeableConcept"}, ""}, true},
		{"(Observation.value.ofType(Quantity))", path{[]string{"valueQuantity"}, ""}, true},
		{"Condition.onset.ofType(dateTime)", path{[]string{"onsetDateTime"}, ""}, true},
		{"(Observation.value.ofType(CodeableConcept)).text", path{[]string{"valueCodeableConcept", "text"}, ""}, true},
		{"Observation.component.value as Quantity", path{[]string{"component", "valueQuantity"}, ""}, true},
		{"Resource.meta.lastUpdated", path{[]string{"meta", "lastUpdated"}, ""}, true},
		{"name", path{[]string{"name"}, ""}, true},

		{"Observation", path{}, false},
		{"Patient.telecom.where(system='email')", path{}, false},
		{"Bundle.entry[0].resource", path{}, false},
		{"Patient.deceased.exists() and Patient.deceased != false", path{}, false},
		{"Observation.extension('http://x')", path{}, false},
		{"Observation.subject.resolve()", path{}, false},
		{"Observation.subject.where(resolve() is Patient).display", path{}, false},
		{"Observation.value.ofType(Quantity).ofType(Range)", path{}, false},
		{"Observation.value.first()", path{}, false},
		{"Observation.value + 1", path{}, false},
		{"(Observation.value as)", path{}, false},
		{"Observation.ofType(Quantity)", path{}, false},
	}
	for _, tt := range tests {
		got, ok := parsePath(tt.part)
		assert.Equal(t, tt.ok, ok, tt.part)
		if tt.ok {
			assert.Equal(t, tt.want, got, tt.part)
		}
	}
}

func TestPartRoot(t *testing.T) {
	assert.Equal(t, "Observation", partRoot("((Observation.value.ofType(CodeableConcept)).text"))
	assert.Equal(t, "Resource", partRoot("Resource.id"))
	assert.Equal(t, "", partRoot("name"))
	assert.Equal(t, "", partRoot("'x'"))
}

func TestExpandChoices(t *testing.T) {
	used := map[string]bool{}
	got := expandChoices("MessageHeader", path{[]string{"event"}, ""}, used)
	assert.Equal(t, []path{{[]string{"eventCoding"}, ""}, {[]string{"eventUri"}, ""}}, got)
	assert.True(t, used["MessageHeader.event"])
	got = expandChoices("MessageHeader", path{[]string{"focus"}, ""}, used)
	assert.Equal(t, []path{{[]string{"focus"}, ""}}, got)
}
