package fhirspec

// Values returns the values at p in res, nil if there are none. An array at
// any step is flattened: Values(obs, Path{Elements: []string{"category",
// "coding"}}) returns every Coding of every category. p.ResolveIs is not
// applied (it filters references, see InPatientCompartment and Match).
func Values(res map[string]any, p Path) []any {
	var out []any
	visit(res, p.Elements, func(v any) bool {
		out = append(out, v)
		return false
	})
	return out
}

// maxArrayDepth bounds how deeply nested arrays are flattened at one step;
// FHIR JSON never nests arrays, so deeper nesting is ignored rather than
// followed without bound.
const maxArrayDepth = 8

// visit calls fn with each value at elems under node, flattening arrays,
// until fn returns true; it reports whether fn did. It does not allocate.
func visit(node any, elems []string, fn func(any) bool) bool {
	return visitDepth(node, elems, fn, 0)
}

func visitDepth(node any, elems []string, fn func(any) bool, arrays int) bool {
	switch n := node.(type) {
	case nil:
		return false
	case []any:
		if arrays >= maxArrayDepth {
			return false
		}
		for _, v := range n {
			if visitDepth(v, elems, fn, arrays+1) {
				return true
			}
		}
		return false
	case map[string]any:
		if len(elems) == 0 {
			return fn(n)
		}
		v, ok := n[elems[0]]
		if !ok {
			return false
		}
		return visitDepth(v, elems[1:], fn, 0)
	default:
		if len(elems) == 0 {
			return fn(n)
		}
		return false
	}
}
