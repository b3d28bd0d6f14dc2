package fhirspec

import "strings"

// referenceQuery is one value of a reference search.
type referenceQuery struct {
	raw string
	// idOnly reports a bare id: any target type matches.
	idOnly bool
	// parsed reports that raw is a literal reference (ref, version).
	parsed  bool
	ref     Reference
	version string
	baseOK  func(string) bool
}

// parseReferenceQuery parses one (unescaped) reference value.
func parseReferenceQuery(s string, baseOK func(string) bool) referenceQuery {
	q := referenceQuery{raw: s, baseOK: baseOK}
	if validID(s) {
		q.idOnly = true
		return q
	}
	q.ref, q.version, q.parsed = parseReference(s)
	return q
}

// local reports whether base names this server: "" (relative), accepted
// by baseOK, or any base when baseOK is nil.
func (q *referenceQuery) local(base string) bool {
	return base == "" || q.baseOK == nil || q.baseOK(base)
}

// match reports whether v, a decoded Reference or canonical/uri element,
// matches q; resolveIs, if not "", is the only resource type the path
// keeps references to.
func (q *referenceQuery) match(v any, resolveIs string) bool {
	switch v := v.(type) {
	case string: // canonical or uri
		if resolveIs != "" {
			return false
		}
		return matchCanonical(v, q.raw)
	case map[string]any:
		s, ok := v["reference"].(string)
		if !ok {
			return false
		}
		ref, version, parsed := parseReference(s)
		if resolveIs != "" && (!parsed || ref.Type != resolveIs) {
			return false
		}
		if s == q.raw {
			return true
		}
		if !parsed || !q.local(ref.Base) {
			return false
		}
		switch {
		case q.idOnly:
			return ref.ID == q.raw
		case q.parsed:
			return ref.Type == q.ref.Type && ref.ID == q.ref.ID &&
				(q.version == "" || q.version == version) && q.local(q.ref.Base)
		}
	}
	return false
}

// matchCanonical matches a canonical element (url, optionally "|version")
// against a search value: the URLs are equal and, if the value has a
// version, so are the versions.
func matchCanonical(elem, value string) bool {
	eu, ev, _ := strings.Cut(elem, "|")
	vu, vv, hasVersion := strings.Cut(value, "|")
	return eu != "" && eu == vu && (!hasVersion || vv == ev)
}
