package fhirspec

// tokenQuery is one value of a token search: "code", "system|code",
// "|code" or "system|".
type tokenQuery struct {
	system string
	code   string
	// hasSystem reports a "|" in the value: system is then the required
	// system, "" meaning none.
	hasSystem bool
}

// parseTokenQuery parses one (still escaped) token value; false if it can
// match nothing ("" or "|").
func parseTokenQuery(alt string) (tokenQuery, bool) {
	i := unescapedIndex(alt, '|')
	if i < 0 {
		q := tokenQuery{code: unescape(alt)}
		return q, q.code != ""
	}
	q := tokenQuery{system: unescape(alt[:i]), code: unescape(alt[i+1:]), hasSystem: true}
	return q, q.code != "" || q.system != ""
}

// match reports whether v, a decoded element, matches q.
func (q *tokenQuery) match(v any) bool {
	switch v := v.(type) {
	case string:
		return q.matchPrimitive(v)
	case bool:
		if v {
			return q.matchPrimitive("true")
		}
		return q.matchPrimitive("false")
	case map[string]any:
		if coding, ok := v["coding"]; ok { // CodeableConcept
			return visit(coding, nil, func(c any) bool {
				obj, ok := c.(map[string]any)
				return ok && q.matchPair(obj, "code")
			})
		}
		if _, ok := v["value"].(string); ok { // Identifier, ContactPoint
			if _, ok := v["code"]; !ok {
				return q.matchPair(v, "value")
			}
		}
		return q.matchPair(v, "code") // Coding
	}
	return false
}

// matchPrimitive matches a code, string, uri or boolean, which has no
// system: only "code" and "|code" can match.
func (q *tokenQuery) matchPrimitive(s string) bool {
	return q.system == "" && q.code != "" && s == q.code
}

// matchPair matches obj's system and its codeKey property (code for a
// Coding, value for an Identifier or ContactPoint).
func (q *tokenQuery) matchPair(obj map[string]any, codeKey string) bool {
	code, _ := obj[codeKey].(string)
	system, _ := obj["system"].(string)
	if codeKey == "value" && isContactPointSystem(system) {
		system = "" // a ContactPoint: its system is a kind, not a URI
	}
	switch {
	case !q.hasSystem:
		return code == q.code
	case q.code == "":
		return system == q.system
	default:
		return system == q.system && code == q.code
	}
}

// isContactPointSystem reports whether s is a ContactPoint.system code
// (which no Identifier.system URI is).
func isContactPointSystem(s string) bool {
	switch s {
	case "phone", "fax", "email", "pager", "url", "sms", "other":
		return true
	}
	return false
}
