package scope

import "strings"

// Set is a parsed, space-separated list of scopes. The zero Set grants
// nothing.
//
// A Set is immutable and safe for concurrent use; copying it is cheap (a
// string and a pointer) and copies share the parsed scopes. Sets are
// comparable with ==, but == only tells whether two Sets come from the same
// Parse call: compare String() to compare scope strings.
type Set struct {
	raw string
	p   *parsed
}

// parsed holds the scopes of a Set. It is never modified after Parse.
type parsed struct {
	scopes []Scope
}

// Decision is the outcome of Set.Check.
type Decision uint8

// The decisions of Set.Check.
const (
	// Deny: no scope allows the interaction.
	Deny Decision = iota
	// Allow: at least one scope without constraints allows it.
	Allow
	// AllowConstrained: only scopes with search parameter constraints
	// allow it; Set.Matching returns them, and the server must restrict
	// the data to resources that match at least one of them.
	AllowConstrained
)

// Parse parses a scope string: scope tokens separated by spaces (RFC 6749
// §3.3; runs of spaces and leading or trailing spaces are tolerated). It
// never fails: tokens it does not understand, or malformed clinical scopes,
// are kept as KindUnknown (Has finds them) but grant no FHIR access. A
// token containing a tab or another character that RFC 6749 does not allow
// in a scope token is KindUnknown.
func Parse(s string) Set {
	n := 0
	for tok := range strings.SplitSeq(s, " ") {
		if tok != "" {
			n++
		}
	}
	if n == 0 {
		return Set{raw: s}
	}
	p := &parsed{scopes: make([]Scope, 0, n)}
	for tok := range strings.SplitSeq(s, " ") {
		if tok != "" {
			p.scopes = append(p.scopes, parseScope(tok))
		}
	}
	return Set{raw: s, p: p}
}

// String returns the scope string exactly as given to Parse.
func (s Set) String() string { return s.raw }

// Len returns the number of scope tokens in the set (duplicates included).
func (s Set) Len() int {
	if s.p == nil {
		return 0
	}
	return len(s.p.scopes)
}

// Has reports whether the exact scope token name (case-sensitive, no
// prefix or substring match) is in the set.
func (s Set) Has(name string) bool {
	if s.p == nil {
		return false
	}
	for i := range s.p.scopes {
		if s.p.scopes[i].Raw == name {
			return true
		}
	}
	return false
}

// Scopes returns a copy of the parsed scopes, in the order of the scope
// string.
func (s Set) Scopes() []Scope {
	if s.p == nil {
		return nil
	}
	out := make([]Scope, len(s.p.scopes))
	for i, sc := range s.p.scopes {
		out[i] = sc.clone()
	}
	return out
}

// Allows reports whether any scope in the set allows interaction i on
// resourceType in context c (patient, user or system). Scopes are a union:
// "patient/Observation.r patient/Observation.s" allows what
// "patient/Observation.rs" allows. A scope with search parameter
// constraints counts as allowing; use Check to tell the two apart and
// Matching to get the constraints.
//
// resourceType must be a resource type name, matched exactly and
// case-sensitively (a "patient/Observation.rs" scope does not allow
// "ObservationDefinition"); a "*" scope allows every type. resourceType
// "*" stands for all types at once (e.g. system-level search): only "*"
// scopes allow it. Allows does not allocate.
func (s Set) Allows(c Context, resourceType string, i Interaction) bool {
	return s.Check(c, resourceType, i) != Deny
}

// Check is like Allows but tells whether the access is unconstrained
// (Allow: some allowing scope has no search parameter constraints) or
// constrained (AllowConstrained: every allowing scope has constraints). It
// does not allocate.
func (s Set) Check(c Context, resourceType string, i Interaction) Decision {
	need := PermissionFor(i)
	if s.p == nil || need == 0 || (resourceType != "*" && !IsResourceType(resourceType)) {
		return Deny
	}
	d := Deny
	for k := range s.p.scopes {
		sc := &s.p.scopes[k]
		if !sc.allows(c, resourceType, need) {
			continue
		}
		if sc.Constraints == nil {
			return Allow
		}
		d = AllowConstrained
	}
	return d
}

// Matching returns a copy of every scope that allows interaction i on
// resourceType in context c, constrained or not, in scope string order; nil
// if none does. A server that gets AllowConstrained from Check uses their
// Constraints to restrict the data: each resource must match all the
// constraints of at least one returned scope.
func (s Set) Matching(c Context, resourceType string, i Interaction) []Scope {
	need := PermissionFor(i)
	if s.p == nil || need == 0 || (resourceType != "*" && !IsResourceType(resourceType)) {
		return nil
	}
	var out []Scope
	for k := range s.p.scopes {
		if sc := &s.p.scopes[k]; sc.allows(c, resourceType, need) {
			out = append(out, sc.clone())
		}
	}
	return out
}

// allows reports whether the (clinical) scope grants permission need on
// resourceType in context c. Non-clinical scopes have no permissions.
func (sc *Scope) allows(c Context, resourceType string, need Permission) bool {
	return sc.Permissions&need != 0 && sc.Context == c &&
		(sc.ResourceType == "*" || sc.ResourceType == resourceType)
}
