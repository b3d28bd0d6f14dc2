package fhirspec

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseReference(t *testing.T) {
	tests := []struct {
		in   string
		want Reference
		ok   bool
	}{
		{"Patient/123", Reference{Type: "Patient", ID: "123"}, true},
		{"Patient/a-b.C9", Reference{Type: "Patient", ID: "a-b.C9"}, true},
		{"Patient/1/_history/2", Reference{Type: "Patient", ID: "1"}, true},
		{"Observation/" + strings.Repeat("a", 64), Reference{Type: "Observation", ID: strings.Repeat("a", 64)}, true},
		{"https://ehr.example.org/fhir/Patient/123", Reference{Base: "https://ehr.example.org/fhir", Type: "Patient", ID: "123"}, true},
		{"http://ehr.example.org/Patient/123/_history/4", Reference{Base: "http://ehr.example.org", Type: "Patient", ID: "123"}, true},
		{"HTTPS://h:8443/r4/Group/g", Reference{Base: "HTTPS://h:8443/r4", Type: "Group", ID: "g"}, true},

		{"", Reference{}, false},
		{"#p1", Reference{}, false},
		{"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a", Reference{}, false},
		{"urn:oid:1.2.3", Reference{}, false},
		{"123", Reference{}, false},
		{"Patient", Reference{}, false},
		{"Patient/", Reference{}, false},
		{"/Patient/1", Reference{}, false},
		{"Patient/1/", Reference{}, false},
		{"Patient/1/_history", Reference{}, false},
		{"Patient/1/_history/", Reference{}, false},
		{"Patient/1/_history/2/3", Reference{}, false},
		{"Patient/1/x/2", Reference{}, false},
		{"Patient/1 2", Reference{}, false},
		{"Patient/1_2", Reference{}, false},
		{"Patient/" + strings.Repeat("a", 65), Reference{}, false},
		{"patient/1", Reference{}, false},
		{"Foo/1", Reference{}, false},
		{"Resource/1", Reference{}, false},
		{"Patient?identifier=x", Reference{}, false},
		{"Patient/1?x=y", Reference{}, false},
		{"https://Patient/1", Reference{}, false},
		{"https:///Patient/1", Reference{}, false},
		{"https://", Reference{}, false},
		{"https://h/fhir/Patient/1#x", Reference{}, false},
		{"https://h/fhir/Patient/1?_format=json", Reference{}, false},
		{"https://h/_history/1", Reference{}, false},
		{"ftp://h/Patient/1", Reference{}, false},
		{"Patient/ü", Reference{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseReference(tt.in)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestParseReferenceVersion(t *testing.T) {
	_, v, ok := parseReference("https://h/Patient/1/_history/7")
	assert.True(t, ok)
	assert.Equal(t, "7", v)
	_, v, ok = parseReference("Patient/1")
	assert.True(t, ok)
	assert.Equal(t, "", v)
}

func TestParseReferenceDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = ParseReference("https://ehr.example.org/fhir/Patient/123/_history/2")
	})
	assert.Zero(t, allocs)
}
