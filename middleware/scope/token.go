package scope

import (
	"net/url"
	"strings"
)

// Kind says what sort of scope a Scope is.
type Kind uint8

// The scope kinds. Only KindClinical scopes grant FHIR access.
const (
	// KindUnknown is a scope this package does not recognize, including a
	// malformed clinical scope (e.g. "patient/Observation.sr"): it is kept
	// so that Set.Has finds it, but it grants no FHIR access.
	KindUnknown Kind = iota
	// KindClinical is a clinical data scope such as "patient/Observation.rs",
	// "user/*.cruds" (v2) or "patient/*.read" (v1).
	KindClinical
	// KindLaunch is the EHR launch scope "launch".
	KindLaunch
	// KindLaunchContext is a launch context request such as
	// "launch/patient", "launch/encounter" or "launch/imagingstudy".
	KindLaunchContext
	// KindOpenID is "openid".
	KindOpenID
	// KindFHIRUser is "fhirUser".
	KindFHIRUser
	// KindProfile is "profile" (SMART v1 identity scope).
	KindProfile
	// KindOfflineAccess is "offline_access".
	KindOfflineAccess
	// KindOnlineAccess is "online_access".
	KindOnlineAccess
)

// Param is one name=value search parameter constraint of a SMART v2 scope,
// e.g. {Name: "category", Value:
// "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"}.
// Name is kept as written, with any modifier ("code:in"); Value is
// percent-decoded.
type Param struct {
	Name  string
	Value string
}

// Scope is one parsed scope token.
type Scope struct {
	// Raw is the scope token exactly as it appeared in the scope string.
	Raw string
	// Kind is what sort of scope this is.
	Kind Kind
	// Context is patient, user or system for a clinical scope, else 0.
	Context Context
	// ResourceType is the FHIR resource type or "*" for a clinical scope,
	// else "".
	ResourceType string
	// Permissions are the granted permission letters of a clinical scope
	// (v1 scopes mapped to v2: read = rs, write = cud, * = cruds), else 0.
	Permissions Permission
	// Constraints are the search parameter constraints of a v2 clinical
	// scope ("?name=value&..."), in order; nil if it has none. A scope with
	// constraints grants access only to resources that match all of them.
	Constraints []Param
	// Version is 1 for a v1 clinical scope (.read, .write, .*), 2 for a v2
	// one (.cruds letters), 0 for every other kind.
	Version int
}

// String returns s.Raw.
func (s Scope) String() string { return s.Raw }

// clone returns a copy of s that shares no memory that can be modified.
func (s Scope) clone() Scope {
	if s.Constraints != nil {
		s.Constraints = append([]Param(nil), s.Constraints...)
	}
	return s
}

// parseScope parses one scope token. It never fails: anything it does not
// recognize is KindUnknown with only Raw set.
func parseScope(tok string) Scope {
	unknown := Scope{Raw: tok}
	if !validToken(tok) {
		return unknown
	}
	switch tok {
	case "launch":
		return Scope{Raw: tok, Kind: KindLaunch}
	case "openid":
		return Scope{Raw: tok, Kind: KindOpenID}
	case "fhirUser":
		return Scope{Raw: tok, Kind: KindFHIRUser}
	case "profile":
		return Scope{Raw: tok, Kind: KindProfile}
	case "offline_access":
		return Scope{Raw: tok, Kind: KindOfflineAccess}
	case "online_access":
		return Scope{Raw: tok, Kind: KindOnlineAccess}
	}
	if rest, ok := strings.CutPrefix(tok, "launch/"); ok {
		if rest == "" {
			return unknown
		}
		return Scope{Raw: tok, Kind: KindLaunchContext}
	}
	if sc, ok := parseClinical(tok); ok {
		return sc
	}
	return unknown
}

// parseClinical parses context "/" type "." permissions ["?" constraints].
func parseClinical(tok string) (Scope, bool) {
	head, query, hasQuery := strings.Cut(tok, "?")
	ctxName, rest, ok := strings.Cut(head, "/")
	if !ok {
		return Scope{}, false
	}
	var c Context
	switch ctxName {
	case "patient":
		c = Patient
	case "user":
		c = User
	case "system":
		c = System
	default:
		return Scope{}, false
	}
	typ, suffix, ok := strings.Cut(rest, ".")
	if !ok || (typ != "*" && !IsResourceType(typ)) {
		return Scope{}, false
	}
	sc := Scope{Raw: tok, Kind: KindClinical, Context: c, ResourceType: typ}
	switch suffix {
	case "read":
		sc.Permissions, sc.Version = Read|Search, 1
	case "write":
		sc.Permissions, sc.Version = Create|Update|Delete, 1
	case "*":
		sc.Permissions, sc.Version = Create|Read|Update|Delete|Search, 1
	default:
		p, ok := parseLetters(suffix)
		if !ok {
			return Scope{}, false
		}
		sc.Permissions, sc.Version = p, 2
	}
	if hasQuery {
		if sc.Version != 2 {
			// SMART v1 had no constraints: never guess what was meant.
			return Scope{}, false
		}
		params, ok := parseConstraints(query)
		if !ok {
			return Scope{}, false
		}
		sc.Constraints = params
	}
	return sc, true
}

// parseLetters parses a non-empty subsequence of "cruds" (in that order,
// each letter at most once).
func parseLetters(s string) (Permission, bool) {
	const letters = "cruds"
	if s == "" || len(s) > len(letters) {
		return 0, false
	}
	var p Permission
	next := 0 // index in letters of the next acceptable letter
	for i := range len(s) {
		j := strings.IndexByte(letters[next:], s[i])
		if j < 0 {
			return 0, false
		}
		next += j
		p |= 1 << next
		next++
	}
	return p, true
}

// parseConstraints parses "name=value&name=value". Empty items (as in a
// trailing "&") are skipped; at least one param is required, every param
// needs a non-empty name and value, and percent-escapes must be valid.
func parseConstraints(q string) ([]Param, bool) {
	n := strings.Count(q, "&") + 1
	params := make([]Param, 0, n)
	for item := range strings.SplitSeq(q, "&") {
		if item == "" {
			continue
		}
		name, value, ok := strings.Cut(item, "=")
		if !ok || name == "" || value == "" {
			return nil, false
		}
		var err error
		if name, err = unescape(name); err != nil || name == "" {
			return nil, false
		}
		if value, err = unescape(value); err != nil || value == "" {
			return nil, false
		}
		params = append(params, Param{Name: name, Value: value})
	}
	if len(params) == 0 {
		return nil, false
	}
	return params, true
}

// unescape decodes percent-escapes ("+" is kept as is: scope tokens cannot
// contain spaces, and "+" is meaningful in FHIR values such as dates).
func unescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	return url.PathUnescape(s)
}

// validToken reports whether tok is a non-empty RFC 6749 scope-token:
// printable ASCII except '"' and '\'.
func validToken(tok string) bool {
	if tok == "" {
		return false
	}
	for i := range len(tok) {
		b := tok[i]
		if b < 0x21 || b > 0x7e || b == '"' || b == '\\' {
			return false
		}
	}
	return true
}

// IsResourceType reports whether s looks like a FHIR resource type name:
// an ASCII upper-case letter followed by ASCII letters ([A-Z][A-Za-z]*).
// It does not check s against a list of known types.
func IsResourceType(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		b := s[i]
		if (b < 'A' || b > 'Z') && (b < 'a' || b > 'z') {
			return false
		}
	}
	return true
}
