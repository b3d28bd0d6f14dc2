package middleware

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/smartauth/smartauth/middleware/scope"
)

func TestFHIRValueListContains(t *testing.T) {
	tests := []struct {
		list, want string
		ok         bool
	}{
		{"laboratory", "laboratory", true},
		{"a,laboratory,b", "laboratory", true},
		{"laboratory,", "laboratory", true},
		{",laboratory", "laboratory", true},
		{"vital-signs", "laboratory", false},
		{"", "laboratory", false},
		{"laboratoryx", "laboratory", false},
		{`a\,laboratory`, "laboratory", false},
		{`a\\,laboratory`, "laboratory", true},
		{`x\,y,z`, `x\,y`, true},
		{"http://loinc.org|1234-5,http://loinc.org|5678-9", "http://loinc.org|5678-9", true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.ok, fhirValueListContains(tt.list, tt.want), "%q in %q", tt.want, tt.list)
	}
}

func TestConstraintContradicts(t *testing.T) {
	c := Constraint{Scope: "x", Context: scope.Patient, Params: []scope.Param{
		{Name: "category", Value: "laboratory"},
		{Name: "status", Value: "final"},
	}}
	tests := []struct {
		query string
		want  bool
	}{
		{"", false},
		{"code=1", false},
		{"category=laboratory", false},
		{"category=laboratory&status=final", false},
		{"category=laboratory,imaging&status=final,amended", false},
		{"category:not=laboratory", false},
		{"category=imaging", true},
		{"status=preliminary", true},
		{"category=laboratory&category=imaging", true},
		{"category=", true},
	}
	for _, tt := range tests {
		q, err := url.ParseQuery(tt.query)
		assert.NoError(t, err)
		assert.Equal(t, tt.want, c.contradicts(q), tt.query)
	}
	assert.False(t, Constraint{Context: scope.Patient}.contradicts(url.Values{"category": {"x"}}))
}
