package scope

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var allInteractions = []Interaction{
	InteractionRead, InteractionVRead, InteractionHistoryInstance,
	InteractionSearch, InteractionHistoryType, InteractionHistorySystem,
	InteractionCreate, InteractionUpdate, InteractionPatch, InteractionDelete,
	InteractionOperation, InteractionCapabilities, InteractionBatch,
}

// allowed returns the permission letters set grants on typ in context c,
// computed through Allows.
func allowed(set Set, c Context, typ string) string {
	var p Permission
	for _, i := range allInteractions {
		if set.Allows(c, typ, i) {
			p |= PermissionFor(i)
		}
	}
	return p.String()
}

func TestSetAllows(t *testing.T) {
	tests := []struct {
		name  string
		scope string
		c     Context
		typ   string
		want  string // letters allowed
	}{
		{"v2 rs", "patient/Observation.rs", Patient, "Observation", "rs"},
		{"wrong context user", "patient/Observation.rs", User, "Observation", ""},
		{"wrong context system", "patient/Observation.rs", System, "Observation", ""},
		{"invalid context", "patient/Observation.rs", 0, "Observation", ""},
		{"other type", "patient/Observation.rs", Patient, "Patient", ""},
		{"no prefix match", "patient/Observation.rs", Patient, "ObservationDefinition", ""},
		{"no prefix match reversed", "patient/ObservationDefinition.rs", Patient, "Observation", ""},
		{"case-sensitive type", "patient/Observation.rs", Patient, "observation", ""},
		{"wildcard", "patient/*.rs", Patient, "Condition", "rs"},
		{"wildcard needs a type name", "patient/*.rs", Patient, "condition", ""},
		{"wildcard request needs wildcard scope", "user/Observation.rs", User, "*", ""},
		{"wildcard request", "user/*.s", User, "*", "s"},
		{"empty type", "user/*.cruds", User, "", ""},
		{"cruds", "user/*.cruds", User, "Appointment", "cruds"},
		{"c only: write does not imply read", "patient/Observation.c", Patient, "Observation", "c"},
		{"cu", "patient/Observation.cu", Patient, "Observation", "cu"},
		{"d", "system/Encounter.d", System, "Encounter", "d"},
		{"v1 read", "patient/*.read", Patient, "Observation", "rs"},
		{"v1 write", "user/Patient.write", User, "Patient", "cud"},
		{"v1 star", "user/Patient.*", User, "Patient", "cruds"},
		{"v1 system", "system/*.read", System, "Patient", "rs"},
		{"union r + s", "patient/Observation.r patient/Observation.s", Patient, "Observation", "rs"},
		{"union v1 + v2", "patient/Observation.read patient/Observation.c", Patient, "Observation", "crs"},
		{"union wildcard + type", "patient/*.r patient/Observation.d", Patient, "Observation", "rd"},
		{"constrained counts", "patient/Observation.rs?category=" + labCat, Patient, "Observation", "rs"},
		{"out of order", "patient/Observation.sr", Patient, "Observation", ""},
		{"repeated", "patient/Observation.rr", Patient, "Observation", ""},
		{"lower-case type", "patient/observation.rs", Patient, "observation", ""},
		{"upper-case context", "Patient/Observation.rs", Patient, "Observation", ""},
		{"readx", "patient/Observation.readx", Patient, "Observation", ""},
		{"empty suffix", "patient/Observation.", Patient, "Observation", ""},
		{"invalid ignored, valid kept", "patient/Observation.sr patient/Observation.r", Patient, "Observation", "r"},
		{"empty", "", Patient, "Observation", ""},
		{"only spaces", "   ", Patient, "Observation", ""},
		{"extra spaces", "  launch   patient/Observation.rs  ", Patient, "Observation", "rs"},
		{"tab is not a separator", "launch\tpatient/Observation.rs", Patient, "Observation", ""},
		{"trailing tab", "patient/Observation.rs\t", Patient, "Observation", ""},
		{"newline", "patient/Observation.rs\nuser/*.cruds", User, "Observation", ""},
		{"non-clinical", "launch/patient openid fhirUser offline_access online_access profile launch", Patient, "Patient", ""},
		{"launch/Observation", "launch/Observation.rs", Patient, "Observation", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := Parse(tt.scope)
			assert.Equal(t, tt.want, allowed(set, tt.c, tt.typ))
			assert.Equal(t, tt.scope, set.String())
		})
	}
}

func TestSetHas(t *testing.T) {
	set := Parse("launch/patient  openid fhirUser patient/Observation.rs launch/xyz patient/Observation.sr")
	for _, name := range []string{"launch/patient", "openid", "fhirUser", "patient/Observation.rs", "launch/xyz", "patient/Observation.sr"} {
		assert.True(t, set.Has(name), name)
	}
	for _, name := range []string{"", " ", "launch", "launch/", "launch/patient openid", "patient/Observation.r", "patient/Observation", "Openid", "fhiruser", "xyz"} {
		assert.False(t, set.Has(name), name)
	}
	assert.False(t, Set{}.Has(""))
	assert.Equal(t, 6, set.Len())
	assert.Equal(t, 0, Set{}.Len())
}

func TestSetCheckAndMatching(t *testing.T) {
	const lab = "patient/Observation.rs?category=" + labCat
	const vital = "patient/Observation.r?category=vital-signs&status=final"
	tests := []struct {
		name  string
		scope string
		i     Interaction
		want  Decision
		match []string
	}{
		{"unconstrained", "patient/Observation.rs", InteractionRead, Allow, []string{"patient/Observation.rs"}},
		{"constrained only", lab, InteractionSearch, AllowConstrained, []string{lab}},
		{"two constrained", lab + " " + vital, InteractionRead, AllowConstrained, []string{lab, vital}},
		{"constrained and unconstrained", lab + " patient/*.r", InteractionRead, Allow, []string{lab, "patient/*.r"}},
		{"unconstrained first", "patient/*.r " + lab, InteractionRead, Allow, []string{"patient/*.r", lab}},
		{"constraint on another letter", vital + " patient/Observation.s", InteractionSearch, Allow, []string{"patient/Observation.s"}},
		{"deny", lab, InteractionCreate, Deny, nil},
		{"operation never", "patient/*.cruds", InteractionOperation, Deny, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := Parse(tt.scope)
			assert.Equal(t, tt.want, set.Check(Patient, "Observation", tt.i))
			var raws []string
			for _, sc := range set.Matching(Patient, "Observation", tt.i) {
				raws = append(raws, sc.Raw)
			}
			assert.Equal(t, tt.match, raws)
		})
	}
	assert.Nil(t, Parse("patient/*.r").Matching(Patient, "bad type", InteractionRead))
	assert.Equal(t, Deny, Set{}.Check(Patient, "Observation", InteractionRead))
	assert.Nil(t, Set{}.Matching(Patient, "Observation", InteractionRead))
}

func TestSetIsImmutable(t *testing.T) {
	set := Parse("patient/Observation.rs?category=lab launch")
	scopes := set.Scopes()
	require.Len(t, scopes, 2)
	scopes[0].Constraints[0].Value = "changed"
	scopes[0].Permissions = Create
	scopes[1].Raw = "changed"
	m := set.Matching(Patient, "Observation", InteractionRead)
	require.Len(t, m, 1)
	m[0].Constraints[0].Name = "changed"

	want := []Scope{
		{Raw: "patient/Observation.rs?category=lab", Kind: KindClinical, Context: Patient, ResourceType: "Observation",
			Permissions: Read | Search, Constraints: []Param{{"category", "lab"}}, Version: 2},
		{Raw: "launch", Kind: KindLaunch},
	}
	assert.Equal(t, want, set.Scopes())
	assert.True(t, set.Has("launch"))
	assert.Nil(t, Set{}.Scopes())

	cp := set
	assert.True(t, cp == set)
	assert.Equal(t, set.String(), cp.String())
}

func TestSetConcurrentUse(t *testing.T) {
	set := Parse("patient/*.rs user/Observation.cud?category=lab launch")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				assert.True(t, set.Allows(Patient, "Condition", InteractionRead))
				assert.Equal(t, AllowConstrained, set.Check(User, "Observation", InteractionCreate))
				assert.Len(t, set.Matching(User, "Observation", InteractionDelete), 1)
				assert.True(t, set.Has("launch"))
				assert.Len(t, set.Scopes(), 3)
			}
		})
	}
	wg.Wait()
}

func TestAllowsDoesNotAllocate(t *testing.T) {
	set := Parse("launch/patient openid fhirUser patient/Condition.rs patient/Observation.rs?category=lab user/Patient.r patient/*.c")
	allocs := testing.AllocsPerRun(1000, func() {
		_ = set.Allows(Patient, "Observation", InteractionSearch)
		_ = set.Allows(User, "Observation", InteractionSearch)
		_ = set.Check(Patient, "Encounter", InteractionCreate)
		_ = set.Has("launch/patient")
		_ = set.String()
	})
	assert.Zero(t, allocs)
}
