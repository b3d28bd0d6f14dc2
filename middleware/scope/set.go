package scope

// Set is a parsed, space-separated list of scopes. The zero Set grants
// nothing. A Set is immutable and safe for concurrent use.
//
// STUB: the scope package owner replaces this file; the API below is the
// contract other packages use.
type Set struct {
	raw string
}

// Parse parses a space-separated scope string. It never fails: scopes it
// does not understand are kept (Has finds them) but grant no FHIR access.
func Parse(s string) Set { return Set{raw: s} }

// String returns the scope string as given to Parse.
func (s Set) String() string { return s.raw }

// Has reports whether the exact scope name (case-sensitive) is in the set.
func (s Set) Has(name string) bool { return false }

// Allows reports whether any scope in the set allows interaction i on
// resourceType in context c (patient, user or system).
func (s Set) Allows(c Context, resourceType string, i Interaction) bool { return false }
