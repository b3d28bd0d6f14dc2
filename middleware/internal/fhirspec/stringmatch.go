package fhirspec

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// stringQuery is one value of a string search.
type stringQuery struct {
	value string
	mod   modifier
	// ascii reports that value is ASCII, folded is value folded (lazily,
	// when an element needs the Unicode path).
	ascii     bool
	folded    string
	hasFolded bool
}

func newStringQuery(value string, mod modifier) stringQuery {
	return stringQuery{value: value, mod: mod, ascii: isASCII(value)}
}

// humanNameAddressFields are the string parts of a HumanName and an Address
// that a string search matches.
var humanNameAddressFields = [...]string{
	"text", "family", "given", "prefix", "suffix", // HumanName
	"line", "city", "district", "state", "postalCode", "country", // Address
}

// match reports whether v, a decoded string, HumanName or Address, matches
// q.
func (q *stringQuery) match(v any) bool {
	switch v := v.(type) {
	case string:
		return q.matchString(v)
	case map[string]any:
		for _, f := range humanNameAddressFields {
			if x, ok := v[f]; ok && visit(x, nil, func(s any) bool {
				str, ok := s.(string)
				return ok && q.matchString(str)
			}) {
				return true
			}
		}
	}
	return false
}

// matchString matches one string element.
func (q *stringQuery) matchString(s string) bool {
	if q.mod == modExact {
		return s == q.value
	}
	if q.ascii && isASCII(s) {
		if q.mod == modContains {
			return asciiContainsFold(s, q.value)
		}
		return len(s) >= len(q.value) && asciiEqualFold(s[:len(q.value)], q.value)
	}
	if !q.hasFolded {
		q.folded, q.hasFolded = fold(q.value), true
	}
	fs := fold(s)
	if q.mod == modContains {
		return strings.Contains(fs, q.folded)
	}
	return strings.HasPrefix(fs, q.folded)
}

// fold returns s without its accents (the combining marks of its NFD
// form), each letter replaced by a canonical case form (the smallest rune
// of its simple case folding orbit), so that two strings that differ only
// in case and accents fold equal.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	var it norm.Iter
	it.InitString(norm.NFD, s)
	for !it.Done() {
		seg := it.Next()
		for len(seg) > 0 {
			r, n := utf8.DecodeRune(seg)
			seg = seg[n:]
			if unicode.Is(unicode.Mn, r) {
				continue
			}
			b.WriteRune(foldRune(r))
		}
	}
	return b.String()
}

// foldRune returns the smallest rune of r's simple case folding orbit.
func foldRune(r rune) rune {
	smallest := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < smallest {
			smallest = f
		}
	}
	return smallest
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// asciiEqualFold reports whether the ASCII strings a and b are equal
// ignoring case.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

// asciiContainsFold reports whether the ASCII string s contains sub,
// ignoring case.
func asciiContainsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if asciiEqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
