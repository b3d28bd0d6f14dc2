package fhirspec

import "strings"

// Reference is a parsed FHIR reference string (Reference.reference).
type Reference struct {
	// Base is the service base URL of an absolute reference
	// ("https://example.org/fhir"), "" for a relative one.
	Base string
	// Type is the R4 resource type, e.g. "Patient".
	Type string
	// ID is the logical id of the resource.
	ID string
}

// ParseReference parses a literal reference to a resource: relative
// "Type/id" or "Type/id/_history/version", or absolute
// "http(s)://host[/path]/Type/id[/_history/version]". The version is
// checked and dropped ("Patient/1/_history/2" → Type "Patient", ID "1").
// It returns false for anything else: a contained reference ("#p1"), a
// urn:uuid: or urn:oid: URI, a search URL, a Type that is not an R4
// resource type, or an id (or version) that breaks the FHIR id rule
// [A-Za-z0-9\-.]{1,64}. It does not allocate.
func ParseReference(s string) (Reference, bool) {
	r, _, ok := parseReference(s)
	return r, ok
}

// parseReference is ParseReference that also returns the version ("" if
// none).
func parseReference(s string) (ref Reference, version string, ok bool) {
	rest := s
	var base string
	if i := schemeEnd(s); i > 0 {
		// Absolute: base is everything before the last two (or four, with
		// _history) segments.
		rest = s[i:]
		if rest == "" {
			return Reference{}, "", false
		}
		for j := 0; j < len(rest); j++ {
			switch c := rest[j]; c {
			case '?', '#', ' ', '\t', '\r', '\n', '\\':
				return Reference{}, "", false
			}
		}
		// Split off Type/id[/_history/v] from the end.
		n := 2
		if hasHistory(rest) {
			n = 4
		}
		cut := len(rest)
		for k := 0; k < n; k++ {
			j := strings.LastIndexByte(rest[:cut], '/')
			if j < 0 {
				return Reference{}, "", false
			}
			cut = j
		}
		if cut == 0 || rest[0] == '/' { // no host
			return Reference{}, "", false
		}
		base = s[:i+cut]
		rest = rest[cut+1:]
	}
	typ, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return Reference{}, "", false
	}
	id, rest, hist := strings.Cut(rest, "/")
	if hist {
		var h string
		if h, version, ok = strings.Cut(rest, "/"); !ok || h != "_history" || !validID(version) {
			return Reference{}, "", false
		}
	}
	if !validID(id) || !isResourceType(typ) {
		return Reference{}, "", false
	}
	return Reference{Base: base, Type: typ, ID: id}, version, true
}

// schemeEnd returns the length of an "http://" or "https://" prefix of s,
// 0 if there is none. The scheme is case-insensitive.
func schemeEnd(s string) int {
	switch {
	case len(s) >= 7 && strings.EqualFold(s[:7], "http://"):
		return 7
	case len(s) >= 8 && strings.EqualFold(s[:8], "https://"):
		return 8
	}
	return 0
}

// hasHistory reports whether the path rest ends in /_history/version.
func hasHistory(rest string) bool {
	j := strings.LastIndexByte(rest, '/')
	if j < 0 {
		return false
	}
	return strings.HasSuffix(rest[:j], "/_history")
}

// validID reports whether s is a FHIR id: [A-Za-z0-9\-.]{1,64}.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
