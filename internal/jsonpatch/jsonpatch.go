// Package jsonpatch applies JSON Patch documents (RFC 6902) to decoded
// JSON values, so that RequireFHIRScopes can check what a FHIR patch
// would make of a resource before the server applies it.
//
// Usage sketch:
//
//	patched, err := jsonpatch.Apply(current, patchJSON)
package jsonpatch

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// ErrInvalid is returned (wrapped) for a patch that is malformed or cannot
// be applied (a path that does not exist, a failed test, ...).
var ErrInvalid = errors.New("jsonpatch: invalid patch")

// MaxOperations bounds the number of operations of a patch.
const MaxOperations = 10000

type operation struct {
	Op    string          `json:"op"`
	Path  *string         `json:"path"`
	From  *string         `json:"from"`
	Value json.RawMessage `json:"value"`
}

// Apply applies the JSON Patch patch to a deep copy of doc and returns the
// result; doc is not modified. The whole patch must apply: any failing
// operation fails it (RFC 6902 §5).
func Apply(doc map[string]any, patch []byte) (map[string]any, error) {
	var ops []operation
	if err := json.Unmarshal(patch, &ops); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(ops) > MaxOperations {
		return nil, fmt.Errorf("%w: too many operations", ErrInvalid)
	}
	var root any = deepCopy(doc)
	for i, op := range ops {
		var err error
		if root, err = apply(root, op); err != nil {
			return nil, fmt.Errorf("%w: operation %d: %w", ErrInvalid, i, err)
		}
	}
	out, ok := root.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: the result is not an object", ErrInvalid)
	}
	return out, nil
}

func apply(root any, op operation) (any, error) {
	if op.Path == nil {
		return nil, errors.New("no path")
	}
	path, err := parsePointer(*op.Path)
	if err != nil {
		return nil, err
	}
	value := func() (any, error) {
		if op.Value == nil {
			return nil, errors.New("no value")
		}
		var v any
		err := json.Unmarshal(op.Value, &v)
		return v, err
	}
	switch op.Op {
	case "add":
		v, err := value()
		if err != nil {
			return nil, err
		}
		return add(root, path, v)
	case "remove":
		_, root, err = remove(root, path)
		return root, err
	case "replace":
		v, err := value()
		if err != nil {
			return nil, err
		}
		if root, err = removeExisting(root, path); err != nil {
			return nil, err
		}
		return add(root, path, v)
	case "move", "copy":
		if op.From == nil {
			return nil, errors.New("no from")
		}
		from, err := parsePointer(*op.From)
		if err != nil {
			return nil, err
		}
		var v any
		if op.Op == "move" {
			if isPrefix(from, path) && len(from) < len(path) {
				return nil, errors.New("move into its own child")
			}
			if v, root, err = remove(root, from); err != nil {
				return nil, err
			}
		} else {
			if v, err = get(root, from); err != nil {
				return nil, err
			}
			v = deepCopy(v)
		}
		return add(root, path, v)
	case "test":
		v, err := value()
		if err != nil {
			return nil, err
		}
		got, err := get(root, path)
		if err != nil {
			return nil, err
		}
		if !reflect.DeepEqual(got, v) {
			return nil, errors.New("test failed")
		}
		return root, nil
	}
	return nil, errors.New("unknown op")
}

// parsePointer splits an RFC 6901 JSON Pointer into its reference tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, errors.New("path does not start with /")
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(t, "~0", ""), "~1", ""), "~") {
			return nil, errors.New("bad escape in path")
		}
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

func isPrefix(a, b []string) bool {
	if len(a) > len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func get(root any, path []string) (any, error) {
	cur := root
	for _, t := range path {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok {
				return nil, errors.New("no such member")
			}
			cur = v
		case []any:
			i, err := index(t, len(c), false)
			if err != nil {
				return nil, err
			}
			cur = c[i]
		default:
			return nil, errors.New("path through a scalar")
		}
	}
	return cur, nil
}

// add adds v at path in root (RFC 6902 §4.1) and returns the new root.
func add(root any, path []string, v any) (any, error) {
	if len(path) == 0 {
		return v, nil
	}
	parent, err := get(root, path[:len(path)-1])
	if err != nil {
		return nil, err
	}
	last := path[len(path)-1]
	switch p := parent.(type) {
	case map[string]any:
		p[last] = v
		return root, nil
	case []any:
		i, err := index(last, len(p), true)
		if err != nil {
			return nil, err
		}
		p = append(p, nil)
		copy(p[i+1:], p[i:])
		p[i] = v
		return set(root, path[:len(path)-1], p)
	}
	return nil, errors.New("parent is a scalar")
}

// remove removes the value at path and returns it and the new root.
func remove(root any, path []string) (any, any, error) {
	if len(path) == 0 {
		return nil, nil, errors.New("cannot remove the root")
	}
	parent, err := get(root, path[:len(path)-1])
	if err != nil {
		return nil, nil, err
	}
	last := path[len(path)-1]
	switch p := parent.(type) {
	case map[string]any:
		v, ok := p[last]
		if !ok {
			return nil, nil, errors.New("no such member")
		}
		delete(p, last)
		return v, root, nil
	case []any:
		i, err := index(last, len(p), false)
		if err != nil {
			return nil, nil, err
		}
		v := p[i]
		p = append(p[:i:i], p[i+1:]...)
		root, err = set(root, path[:len(path)-1], p)
		return v, root, err
	}
	return nil, nil, errors.New("parent is a scalar")
}

// removeExisting removes the value at path, which must exist; the root
// itself may be replaced.
func removeExisting(root any, path []string) (any, error) {
	if len(path) == 0 {
		return nil, nil
	}
	_, root, err := remove(root, path)
	return root, err
}

// set replaces the value at path (an array that changed length).
func set(root any, path []string, v any) (any, error) {
	if len(path) == 0 {
		return v, nil
	}
	parent, err := get(root, path[:len(path)-1])
	if err != nil {
		return nil, err
	}
	last := path[len(path)-1]
	switch p := parent.(type) {
	case map[string]any:
		p[last] = v
	case []any:
		i, err := index(last, len(p), false)
		if err != nil {
			return nil, err
		}
		p[i] = v
	default:
		return nil, errors.New("parent is a scalar")
	}
	return root, nil
}

// index parses an array index token; "-" (the end) only if end is allowed.
func index(t string, n int, end bool) (int, error) {
	if t == "-" && end {
		return n, nil
	}
	if t == "" || (len(t) > 1 && t[0] == '0') {
		return 0, errors.New("bad array index")
	}
	i, err := strconv.Atoi(t)
	if err != nil || i < 0 {
		return 0, errors.New("bad array index")
	}
	max := n - 1
	if end {
		max = n
	}
	if i > max {
		return 0, errors.New("array index out of range")
	}
	return i, nil
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}
