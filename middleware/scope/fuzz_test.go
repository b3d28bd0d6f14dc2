package scope

import (
	"regexp"
	"strings"
	"testing"
)

// validClinical is an independent definition of a well-formed clinical
// scope, used as an oracle: a token it rejects must grant nothing.
var validClinical = regexp.MustCompile(`^(patient|user|system)/(\*|[A-Z][A-Za-z]*)\.(` +
	`(read|write|\*)|` + // v1
	`(c?r?u?d?s?)(\?[!#-\[\]-~]*)?)$`) // v2 (emptiness checked separately)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", " ", "launch/patient patient/*.rs openid fhirUser offline_access",
		"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
		"user/*.cruds", "patient/*.read", "user/Patient.write", "system/*.*",
		"patient/Observation.sr", "patient/Observation.rr", "patient/observation.rs", "Patient/Observation.rs",
		"patient/Observation.readx", "patient/Observation.", "a\tb", "patient/Observation.rs?a=%zz&b=1",
		"user/Observation.s?code=a%20b&&", "launch/xyz", "patient/Observation.read?x=y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Scopes arrive inside tokens capped at 8 KiB; the oracle below is
		// quadratic in the number of scopes, so keep inputs token-sized.
		if len(s) > 8192 {
			return
		}
		set := Parse(s)
		if set.String() != s {
			t.Fatalf("String() = %q, want %q", set.String(), s)
		}
		scopes := set.Scopes()
		tokens := 0
		for _, tok := range strings.Split(s, " ") {
			if tok != "" {
				tokens++
			}
		}
		if set.Len() != tokens || len(scopes) != tokens {
			t.Fatalf("Len() = %d, %d scopes, want %d for %q", set.Len(), len(scopes), tokens, s)
		}
		for _, sc := range scopes {
			if !set.Has(sc.Raw) {
				t.Fatalf("Has(%q) = false", sc.Raw)
			}
			one := Parse(sc.Raw)
			granted := false
			for c := Patient; c <= System; c++ {
				for _, typ := range []string{"Observation", "Patient", "*", sc.ResourceType} {
					for _, i := range allInteractions {
						if one.Allows(c, typ, i) {
							granted = true
						}
					}
				}
			}
			m := validClinical.FindStringSubmatch(sc.Raw)
			valid := m != nil && (m[4] != "" || m[5] != "")
			if !valid && granted {
				t.Fatalf("malformed scope %q grants access", sc.Raw)
			}
			if sc.Kind != KindClinical && (sc.Permissions != 0 || sc.Context != 0 || sc.ResourceType != "" || sc.Constraints != nil || sc.Version != 0) {
				t.Fatalf("non-clinical scope %q has clinical fields: %+v", sc.Raw, sc)
			}
			if sc.Kind == KindClinical && (!valid || sc.Permissions == 0) {
				t.Fatalf("clinical scope %q: valid=%v, %+v", sc.Raw, valid, sc)
			}
			if sc.Version == 1 && sc.Constraints != nil {
				t.Fatalf("v1 scope %q with constraints", sc.Raw)
			}
		}
	})
}
