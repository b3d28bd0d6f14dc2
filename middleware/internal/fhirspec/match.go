package fhirspec

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUncheckable is returned by Match when the search parameter cannot be
// checked on a resource: it is unknown for the resource type, its
// expression is not made of simple paths only, its type is not one Match
// supports (token, reference, string, uri), or it carries an unsupported
// modifier.
var ErrUncheckable = errors.New("fhirspec: search parameter cannot be checked on a resource")

// modifier is a supported search parameter modifier.
type modifier uint8

const (
	modNone     modifier = iota
	modExact             // :exact (string)
	modContains          // :contains (string)
)

// Checkable reports whether Match can check name (a parameter code with an
// optional modifier, e.g. "name:exact") on resources of resourceType,
// that is whether Match never returns ErrUncheckable for it.
func Checkable(resourceType, name string) bool {
	_, _, err := checkableParam(resourceType, name)
	return err == nil
}

// checkableParam returns the parameter and modifier of name on
// resourceType, or an error wrapping ErrUncheckable.
func checkableParam(resourceType, name string) (*SearchParam, modifier, error) {
	code, mod, hasMod := strings.Cut(name, ":")
	sp := lookupParam(resourceType, code)
	if sp == nil {
		return nil, 0, fmt.Errorf("%w: %s has no search parameter %q", ErrUncheckable, resourceType, code)
	}
	if !sp.Checkable {
		return nil, 0, fmt.Errorf("%w: the expression of %s search parameter %s is not a simple element path", ErrUncheckable, resourceType, code)
	}
	switch sp.Type {
	case TypeToken, TypeReference, TypeURI:
		if hasMod {
			return nil, 0, fmt.Errorf("%w: modifier :%s on %s search parameter %s", ErrUncheckable, mod, sp.Type, code)
		}
		return sp, modNone, nil
	case TypeString:
		switch {
		case !hasMod:
			return sp, modNone, nil
		case mod == "exact":
			return sp, modExact, nil
		case mod == "contains":
			return sp, modContains, nil
		}
		return nil, 0, fmt.Errorf("%w: modifier :%s on string search parameter %s", ErrUncheckable, mod, code)
	}
	return nil, 0, fmt.Errorf("%w: %s search parameter %s has type %s", ErrUncheckable, resourceType, code, sp.Type)
}

// lookupParam is Param without the copy: the table entry of code on
// resourceType, nil if none.
func lookupParam(resourceType, code string) *SearchParam {
	t := lookupType(resourceType)
	if t == nil {
		return nil
	}
	if p := t.param(code); p != nil {
		return p
	}
	if c := lookupCommonParam(code); c != nil && (t.domainResource || !c.domainOnly) {
		return &c.param
	}
	return nil
}

// Match reports whether res, a decoded resource of resourceType, matches
// the search parameter constraint name=value, as in a SMART v2 scope such
// as patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory.
// name is a parameter code with an optional modifier; value is already
// percent-decoded. A value with commas is a FHIR OR list ("a,b": a or b;
// "\," is an escaped comma, as are "\|", "\$" and "\\"); an empty value or
// alternative matches nothing. The semantics are those of FHIR R4 search:
//
//   - token: "code", "system|code", "|code" (no system) or "system|" (any
//     code of system), against a Coding (system, code), a CodeableConcept
//     (any of its codings), an Identifier (system, value), a ContactPoint
//     (value; it has no system URI) or a code, string, uri or boolean
//     ("true", "false") primitive, which has no system: it matches "code"
//     and "|code" only. Codes compare exactly (case-sensitive).
//   - reference: "Type/id" (optionally "/_history/version"), "id" (any
//     target type) or an absolute URL, against Reference.reference, or
//     against a canonical or uri element (URL equal, and the version after
//     "|" if the value has one). References compare equal as strings, or
//     as Type, id (and the value's version, if any) when each base is ""
//     or accepted by baseOK (a nil baseOK accepts every base). Paths
//     restricted to a type (where(resolve() is Patient)) only hold
//     references to that type.
//   - string: by default, the element starts with value, ignoring case and
//     accents (combining marks after NFD); :contains looks for value
//     anywhere in the element, also ignoring case and accents; :exact
//     compares exactly. A HumanName matches on text, family, given, prefix
//     or suffix, an Address on text, line, city, district, state,
//     postalCode or country.
//   - uri: exact match.
//
// Match returns an error wrapping ErrUncheckable, for any res, when
// Checkable(resourceType, name) is false.
func Match(res map[string]any, resourceType, name, value string, baseOK func(string) bool) (bool, error) {
	sp, mod, err := checkableParam(resourceType, name)
	if err != nil {
		return false, err
	}
	for rest, more := value, true; more; {
		var alt string
		alt, rest, more = nextAlternative(rest)
		if alt != "" && matchAlternative(res, sp, mod, alt, baseOK) {
			return true, nil
		}
	}
	return false, nil
}

// matchAlternative reports whether res matches one (still escaped) value
// of an OR list.
func matchAlternative(res map[string]any, sp *SearchParam, mod modifier, alt string, baseOK func(string) bool) bool {
	switch sp.Type {
	case TypeToken:
		q, ok := parseTokenQuery(alt)
		if !ok {
			return false
		}
		for _, p := range sp.Paths {
			if visit(res, p.Elements, q.match) {
				return true
			}
		}
	case TypeReference:
		q := parseReferenceQuery(unescape(alt), baseOK)
		for _, p := range sp.Paths {
			resolveIs := p.ResolveIs
			if visit(res, p.Elements, func(v any) bool { return q.match(v, resolveIs) }) {
				return true
			}
		}
	case TypeString:
		q := newStringQuery(unescape(alt), mod)
		for _, p := range sp.Paths {
			if visit(res, p.Elements, q.match) {
				return true
			}
		}
	case TypeURI:
		u := unescape(alt)
		for _, p := range sp.Paths {
			if visit(res, p.Elements, func(v any) bool { s, ok := v.(string); return ok && s == u }) {
				return true
			}
		}
	}
	return false
}

// nextAlternative splits the first value off a FHIR OR list at the first
// comma that is not escaped with a backslash; more reports that another
// value follows.
func nextAlternative(s string) (alt, rest string, more bool) {
	if i := unescapedIndex(s, ','); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// unescapedIndex returns the index of the first c in s that is not escaped
// with a backslash, -1 if none.
func unescapedIndex(s string, c byte) int {
	if strings.IndexByte(s, '\\') < 0 {
		return strings.IndexByte(s, c)
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case c:
			return i
		}
	}
	return -1
}

// unescape removes the FHIR search escapes \, \| \$ and \\ from s. It
// allocates only when s holds a backslash.
func unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case ',', '|', '$', '\\':
				i++
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
