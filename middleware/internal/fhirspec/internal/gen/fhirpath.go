package main

import (
	"errors"
	"strings"
)

// This file understands the small part of FHIRPath that search parameter
// expressions use for simple element paths.

// splitUnion splits a FHIRPath expression at its top-level union operators
// ("|" outside parentheses, brackets and string literals) and returns the
// trimmed parts; nil for an empty expression.
func splitUnion(expr string) ([]string, error) {
	var parts []string
	depth, start := 0, 0
	inString := false
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '\'' {
				inString = false
			}
		case c == '\'':
			inString = true
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			depth--
			if depth < 0 {
				return nil, errors.New("unbalanced parentheses in expression")
			}
		case c == '|' && depth == 0:
			parts = append(parts, strings.TrimSpace(expr[start:i]))
			start = i + 1
		}
	}
	if depth != 0 || inString {
		return nil, errors.New("unbalanced expression")
	}
	if last := strings.TrimSpace(expr[start:]); last != "" || len(parts) > 0 {
		parts = append(parts, last)
	}
	for _, p := range parts {
		if p == "" {
			return nil, errors.New("empty part in union")
		}
	}
	return parts, nil
}

// partRoot returns the resource type a union part starts from
// ("Observation" in "(Observation.value as Quantity)"), "" if the part
// starts from the context resource (an element name such as "name").
func partRoot(part string) string {
	s := strings.TrimLeft(part, "( \t\n")
	i := 0
	for i < len(s) && isIdentChar(s[i]) {
		i++
	}
	if i == 0 || s[0] < 'A' || s[0] > 'Z' {
		return ""
	}
	return s[:i]
}

// token is a lexical token of an expression: an identifier, or one
// punctuation character of ".()"; any other character makes the part not
// simple.
type token struct {
	ident string // "" for punctuation
	punct byte
}

// tokenize splits part into tokens, false if it holds anything a simple
// path does not (strings, numbers, operators, indexers).
func tokenize(part string) ([]token, bool) {
	var toks []token
	for i := 0; i < len(part); {
		c := part[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '.' || c == '(' || c == ')':
			toks = append(toks, token{punct: c})
			i++
		case isIdentStart(c):
			j := i
			for j < len(part) && isIdentChar(part[j]) {
				j++
			}
			toks = append(toks, token{ident: part[i:j]})
			i = j
		default:
			return nil, false
		}
	}
	return toks, true
}

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }

// pathParser parses one union part as a simple path:
//
//	part    = chain [ "as" Type ]
//	chain   = primary { "." member }
//	primary = Name | "(" chain [ "as" Type ] ")"
//	member  = name | "ofType(" Type ")" | "as(" Type ")" | "where(resolve() is" Type ")"
//
// where the first Name is a resource type when capitalized (the root) or
// else the first element, a cast renames the element before it to its
// choice JSON name (value + Quantity), and where(resolve() is Type) may only
// come last.
type pathParser struct {
	toks []token
	i    int
	p    path
	// casted reports that the last element was already cast.
	casted bool
}

// parsePath returns the simple path of part, false if part is not one.
func parsePath(part string) (path, bool) {
	toks, ok := tokenize(part)
	if !ok {
		return path{}, false
	}
	pp := pathParser{toks: toks}
	if !pp.chain() || !pp.optionalAs() || pp.i != len(pp.toks) || len(pp.p.elements) == 0 {
		return path{}, false
	}
	return pp.p, true
}

func (pp *pathParser) peekPunct(c byte) bool {
	return pp.i < len(pp.toks) && pp.toks[pp.i].ident == "" && pp.toks[pp.i].punct == c
}

func (pp *pathParser) peekIdent(name string) bool {
	return pp.i < len(pp.toks) && pp.toks[pp.i].ident == name
}

// expectPunct consumes punctuation c.
func (pp *pathParser) expectPunct(c byte) bool {
	if !pp.peekPunct(c) {
		return false
	}
	pp.i++
	return true
}

// ident consumes an identifier and returns it, "" if there is none.
func (pp *pathParser) ident() string {
	if pp.i >= len(pp.toks) || pp.toks[pp.i].ident == "" {
		return ""
	}
	pp.i++
	return pp.toks[pp.i-1].ident
}

func (pp *pathParser) chain() bool {
	// primary
	if pp.expectPunct('(') {
		if !pp.chain() || !pp.optionalAs() || !pp.expectPunct(')') {
			return false
		}
	} else {
		name := pp.ident()
		switch {
		case name == "":
			return false
		case name[0] >= 'A' && name[0] <= 'Z':
			// the root resource type: no element
		default:
			pp.p.elements = append(pp.p.elements, name)
		}
	}
	for pp.expectPunct('.') {
		name := pp.ident()
		if name == "" || pp.p.resolveIs != "" {
			return false // where(resolve() is T) must come last
		}
		if !pp.peekPunct('(') {
			pp.p.elements = append(pp.p.elements, name)
			pp.casted = false
			continue
		}
		pp.i++ // (
		switch name {
		case "ofType", "as":
			if !pp.cast(pp.ident()) {
				return false
			}
		case "where":
			if pp.ident() != "resolve" || !pp.expectPunct('(') || !pp.expectPunct(')') || pp.ident() != "is" {
				return false
			}
			t := pp.ident()
			if t == "" || len(pp.p.elements) == 0 {
				return false
			}
			pp.p.resolveIs = t
		default:
			return false
		}
		if !pp.expectPunct(')') {
			return false
		}
	}
	return true
}

// optionalAs consumes an "as Type" cast if there is one.
func (pp *pathParser) optionalAs() bool {
	if !pp.peekIdent("as") {
		return true
	}
	pp.i++
	return pp.cast(pp.ident())
}

// cast renames the last element to its JSON name for type t.
func (pp *pathParser) cast(t string) bool {
	n := len(pp.p.elements)
	if t == "" || n == 0 || pp.casted || pp.p.resolveIs != "" {
		return false
	}
	pp.p.elements[n-1] += upperFirst(t)
	pp.casted = true
	return true
}
