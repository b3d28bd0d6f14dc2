package naivefhir

import (
	"fmt"
	"strings"
)

// elements returns the values of res a search parameter looks at: the
// top-level element named like the parameter (without regard to case, or
// a choice type such as medicationReference for "medication"), with a few
// aliases: patient is patient or else subject, member is member.entity,
// family and given are in name.
func elements(res map[string]any, name string) []any {
	switch name {
	case "_id":
		return nonNil(res["id"])
	case "patient":
		if v := field(res, "patient"); len(v) > 0 {
			return v
		}
		return field(res, "subject")
	case "member":
		return children(field(res, "member"), "entity")
	case "family", "given":
		if _, isName := res["name"].([]any); isName {
			return children(field(res, "name"), name)
		}
	}
	return field(res, name)
}

// field returns the top-level element name of res (arrays flattened).
func field(res map[string]any, name string) []any {
	var out []any
	for k, v := range res {
		if strings.EqualFold(k, name) || len(k) > len(name) && strings.EqualFold(k[:len(name)], name) && isUpper(k[len(name)]) {
			out = append(out, flatten(nonNil(v))...)
		}
	}
	return out
}

// children returns the child element name of every value (arrays flattened).
func children(vals []any, name string) []any {
	var out []any
	for _, v := range vals {
		if obj, ok := v.(map[string]any); ok {
			out = append(out, flatten(nonNil(obj[name]))...)
		}
	}
	return out
}

func nonNil(v any) []any {
	if v == nil {
		return nil
	}
	return []any{v}
}

// flatten replaces arrays among vals by their elements (one level).
func flatten(vals []any) []any {
	var out []any
	for _, v := range vals {
		if list, ok := v.([]any); ok {
			out = append(out, list...)
		} else {
			out = append(out, v)
		}
	}
	return out
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

// matchParam reports whether res matches one occurrence of a parameter:
// any of its alternatives.
func matchParam(res map[string]any, p param) bool {
	vals := elements(res, p.name)
	switch p.modifier {
	case "missing":
		return (len(vals) == 0) == (len(p.values) == 1 && p.values[0] == "true")
	case "not":
		return !anyMatch(vals, p, "")
	}
	return anyMatch(vals, p, p.modifier)
}

func anyMatch(vals []any, p param, modifier string) bool {
	for _, want := range p.values {
		for _, v := range vals {
			if p.name == "_id" {
				if v == want {
					return true
				}
				continue
			}
			if matchValue(v, want, modifier) {
				return true
			}
		}
	}
	return false
}

// matchValue reports whether one element value matches want.
func matchValue(v any, want, modifier string) bool {
	switch x := v.(type) {
	case string:
		_, code := splitToken(want)
		return strings.EqualFold(x, code) || strings.HasPrefix(strings.ToLower(x), strings.ToLower(want))
	case bool, float64:
		return fmt.Sprint(x) == want
	case map[string]any:
		if ref, ok := x["reference"].(string); ok {
			return matchReference(ref, want, modifier)
		}
		if codings, ok := x["coding"].([]any); ok {
			for _, c := range codings {
				if cm, ok := c.(map[string]any); ok && matchToken(cm, want) {
					return true
				}
			}
			return false
		}
		if _, ok := x["family"]; ok || x["given"] != nil || x["text"] != nil {
			for _, k := range []string{"family", "given", "text"} {
				for _, s := range flatten(nonNil(x[k])) {
					if matchValue(s, want, "") {
						return true
					}
				}
			}
			return false
		}
		return matchToken(x, want)
	}
	return false
}

// matchToken matches a Coding or Identifier (code or value) against a
// token: code, system|code, |code or system|.
func matchToken(c map[string]any, want string) bool {
	system, _ := c["system"].(string)
	code, ok := c["code"].(string)
	if !ok {
		code, _ = c["value"].(string)
	}
	wantSystem, wantCode := splitToken(want)
	switch {
	case !strings.Contains(want, "|"):
		return code == wantCode
	case wantCode == "":
		return system == wantSystem
	}
	return system == wantSystem && code == wantCode
}

func splitToken(want string) (system, code string) {
	if s, c, ok := strings.Cut(want, "|"); ok {
		return s, c
	}
	return "", want
}

// matchReference matches a reference against a search value: an id, a
// relative or absolute reference (whatever its base), or with a type
// modifier an id of that type.
func matchReference(ref, want, modifier string) bool {
	key, ok := referenceKey(map[string]any{"reference": ref})
	if !ok {
		return ref == want
	}
	if modifier != "" && !strings.Contains(want, "/") {
		want = modifier + "/" + want
	}
	if !strings.Contains(want, "/") {
		return strings.HasSuffix(key, "/"+want)
	}
	wantKey, ok := referenceKey(map[string]any{"reference": want})
	return ok && wantKey == key
}

// referenceKey returns "Type/id" of a Reference object whose reference is
// relative or absolute (a version is dropped); false for anything else
// (contained, urn:, not a Reference).
func referenceKey(v any) (string, bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	ref, ok := obj["reference"].(string)
	if !ok || ref == "" || ref[0] == '#' || strings.HasPrefix(ref, "urn:") {
		return "", false
	}
	segs := strings.Split(ref, "/")
	if n := len(segs); n >= 4 && segs[n-2] == "_history" {
		segs = segs[:n-2]
	}
	n := len(segs)
	if n < 2 || segs[n-2] == "" || segs[n-1] == "" {
		return "", false
	}
	return segs[n-2] + "/" + segs[n-1], true
}
