package scope_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/smartauth/smartauth/middleware/scope"
)

func TestSetCovers(t *testing.T) {
	tests := []struct {
		granted, requested string
		want               bool
	}{
		// Literal.
		{"openid fhirUser launch/patient offline_access", "openid", true},
		{"openid fhirUser launch/patient offline_access", "launch/patient", true},
		{"openid launch/patient", "launch/encounter", false},
		{"openid", "fhirUser", false},
		{"offline_access", "online_access", false},
		{"patient/Observation.sr", "patient/Observation.sr", true}, // malformed, but literally granted
		{"patient/Observation.rs", "patient/Observation.sr", false},

		// Wildcards.
		{"patient/*.rs", "patient/Observation.rs", true},
		{"patient/*.rs", "patient/Observation.r", true},
		{"patient/*.rs", "patient/*.s", true},
		{"patient/Observation.rs", "patient/*.rs", false},
		{"patient/Observation.rs patient/Patient.rs", "patient/*.rs", false},

		// Permissions.
		{"patient/Observation.rs", "patient/Observation.rs", true},
		{"patient/Observation.r patient/Observation.s", "patient/Observation.rs", true},
		{"patient/Observation.rs", "patient/Observation.cruds", false},
		{"patient/Observation.rs", "patient/Observation.c", false},
		{"user/*.cruds", "user/Encounter.ud", true},

		// Contexts never mix.
		{"user/*.rs", "patient/Observation.rs", false},
		{"patient/*.rs", "user/Observation.rs", false},
		{"system/*.rs", "user/Observation.rs", false},

		// v1 and v2 by meaning.
		{"patient/*.read", "patient/Observation.rs", true},
		{"patient/*.read", "patient/Observation.read", true},
		{"patient/Observation.rs", "patient/Observation.read", true},
		{"patient/*.read", "patient/Observation.c", false},
		{"user/*.*", "user/Patient.cruds", true},
		{"user/*.write", "user/Patient.cud", true},
		{"user/*.write", "user/Patient.r", false},

		// Constraints.
		{"patient/Observation.rs", "patient/Observation.rs?category=laboratory", true},
		{"patient/*.rs", "patient/Observation.rs?category=laboratory", true},
		{"patient/Observation.rs?category=laboratory", "patient/Observation.rs", false},
		{"patient/Observation.rs?category=laboratory", "patient/Observation.rs?category=laboratory", true},
		{"patient/Observation.rs?category=laboratory", "patient/Observation.r?category=laboratory", true},
		{"patient/Observation.rs?category=laboratory", "patient/Observation.rs?category=vital-signs", false},
		{"patient/Observation.rs?category=laboratory", "patient/Observation.rs?category=laboratory&code=1234", true},
		{"patient/Observation.rs?category=laboratory&code=1234", "patient/Observation.rs?category=laboratory", false},
		{"patient/Observation.rs?category=laboratory", "patient/*.rs?category=laboratory", false},

		// Nothing granted.
		{"", "openid", false},
		{"", "patient/Observation.rs", false},
	}
	for _, tt := range tests {
		got := scope.Parse(tt.granted).Covers(tt.requested)
		assert.Equal(t, tt.want, got, "%q covers %q", tt.granted, tt.requested)
	}
}
