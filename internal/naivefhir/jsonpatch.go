package naivefhir

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
)

var errPatch = errors.New("naivefhir: patch cannot be applied")

// applyPatch applies a JSON Patch (RFC 6902) to a copy of doc.
func applyPatch(doc map[string]any, patch []byte) (map[string]any, error) {
	var ops []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		From  string          `json:"from"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(patch, &ops); err != nil {
		return nil, err
	}
	var root any = deepCopy(doc)
	for _, op := range ops {
		var value any
		if len(op.Value) > 0 {
			if err := json.Unmarshal(op.Value, &value); err != nil {
				return nil, err
			}
		}
		var err error
		switch op.Op {
		case "add":
			root, err = pointerSet(root, op.Path, value, true)
		case "replace":
			if _, err = pointerGet(root, op.Path); err == nil {
				root, err = pointerSet(root, op.Path, value, false)
			}
		case "remove":
			root, err = pointerRemove(root, op.Path)
		case "test":
			var got any
			if got, err = pointerGet(root, op.Path); err == nil && !reflect.DeepEqual(got, value) {
				err = errPatch
			}
		case "move", "copy":
			var got any
			if got, err = pointerGet(root, op.From); err == nil && op.Op == "move" {
				root, err = pointerRemove(root, op.From)
			}
			if err == nil {
				root, err = pointerSet(root, op.Path, deepCopy(got), true)
			}
		default:
			err = errPatch
		}
		if err != nil {
			return nil, err
		}
	}
	out, ok := root.(map[string]any)
	if !ok {
		return nil, errPatch
	}
	return out, nil
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
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}

// tokens splits a JSON Pointer.
func tokens(ptr string) ([]string, error) {
	if ptr == "" {
		return nil, nil
	}
	if ptr[0] != '/' {
		return nil, errPatch
	}
	ts := strings.Split(ptr[1:], "/")
	for i, t := range ts {
		ts[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return ts, nil
}

func index(t string, n int, allowEnd bool) (int, error) {
	if t == "-" && allowEnd {
		return n, nil
	}
	i, err := strconv.Atoi(t)
	if err != nil || i < 0 || i > n || (i == n && !allowEnd) || (t != "0" && t[0] == '0') {
		return 0, errPatch
	}
	return i, nil
}

func pointerGet(root any, ptr string) (any, error) {
	ts, err := tokens(ptr)
	if err != nil {
		return nil, err
	}
	cur := root
	for _, t := range ts {
		switch x := cur.(type) {
		case map[string]any:
			v, ok := x[t]
			if !ok {
				return nil, errPatch
			}
			cur = v
		case []any:
			i, err := index(t, len(x), false)
			if err != nil {
				return nil, err
			}
			cur = x[i]
		default:
			return nil, errPatch
		}
	}
	return cur, nil
}

// pointerSet sets (insert: adds, inserting into arrays) the value at ptr
// and returns the new root.
func pointerSet(root any, ptr string, value any, insert bool) (any, error) {
	ts, err := tokens(ptr)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return value, nil
	}
	parent, err := pointerGet(root, ptr[:strings.LastIndexByte(ptr, '/')])
	if err != nil {
		return nil, err
	}
	last := ts[len(ts)-1]
	switch x := parent.(type) {
	case map[string]any:
		x[last] = value
	case []any:
		i, err := index(last, len(x), insert)
		if err != nil {
			return nil, err
		}
		if insert {
			x = append(x[:i], append([]any{value}, x[i:]...)...)
			return pointerSet(root, ptr[:strings.LastIndexByte(ptr, '/')], x, false)
		}
		x[i] = value
	default:
		return nil, errPatch
	}
	return root, nil
}

func pointerRemove(root any, ptr string) (any, error) {
	ts, err := tokens(ptr)
	if err != nil || len(ts) == 0 {
		return nil, errPatch
	}
	parentPtr := ptr[:strings.LastIndexByte(ptr, '/')]
	parent, err := pointerGet(root, parentPtr)
	if err != nil {
		return nil, err
	}
	last := ts[len(ts)-1]
	switch x := parent.(type) {
	case map[string]any:
		if _, ok := x[last]; !ok {
			return nil, errPatch
		}
		delete(x, last)
		return root, nil
	case []any:
		i, err := index(last, len(x), false)
		if err != nil {
			return nil, err
		}
		return pointerSet(root, parentPtr, append(x[:i:i], x[i+1:]...), false)
	}
	return nil, errPatch
}
