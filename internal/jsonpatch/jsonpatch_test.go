package jsonpatch

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The examples of RFC 6902 Appendix A (those on objects at the root).
func TestApply(t *testing.T) {
	tests := []struct {
		name, doc, patch, want string // want "" = error
	}{
		{"A.1 add member", `{"foo":"bar"}`, `[{"op":"add","path":"/baz","value":"qux"}]`, `{"baz":"qux","foo":"bar"}`},
		{"A.2 add array element", `{"foo":["bar","baz"]}`, `[{"op":"add","path":"/foo/1","value":"qux"}]`, `{"foo":["bar","qux","baz"]}`},
		{"A.3 remove member", `{"baz":"qux","foo":"bar"}`, `[{"op":"remove","path":"/baz"}]`, `{"foo":"bar"}`},
		{"A.4 remove array element", `{"foo":["bar","qux","baz"]}`, `[{"op":"remove","path":"/foo/1"}]`, `{"foo":["bar","baz"]}`},
		{"A.5 replace", `{"baz":"qux","foo":"bar"}`, `[{"op":"replace","path":"/baz","value":"boo"}]`, `{"baz":"boo","foo":"bar"}`},
		{"A.6 move", `{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}`, `[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]`,
			`{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}`},
		{"A.7 move array element", `{"foo":["all","grass","cows","eat"]}`, `[{"op":"move","from":"/foo/1","path":"/foo/3"}]`, `{"foo":["all","cows","eat","grass"]}`},
		{"A.8 test success", `{"baz":"qux","foo":["a",2,"c"]}`, `[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]`, `{"baz":"qux","foo":["a",2,"c"]}`},
		{"A.9 test failure", `{"baz":"qux"}`, `[{"op":"test","path":"/baz","value":"bar"}]`, ""},
		{"A.10 add nested", `{"foo":"bar"}`, `[{"op":"add","path":"/child","value":{"grandchild":{}}}]`, `{"child":{"grandchild":{}},"foo":"bar"}`},
		{"A.12 add to nonexistent target", `{"foo":"bar"}`, `[{"op":"add","path":"/baz/bat","value":"qux"}]`, ""},
		{"A.14 escapes", `{"/":9,"~1":10}`, `[{"op":"test","path":"/~01","value":10}]`, `{"/":9,"~1":10}`},
		{"A.16 append", `{"foo":["bar"]}`, `[{"op":"add","path":"/foo/-","value":["abc","def"]}]`, `{"foo":["bar",["abc","def"]]}`},
		{"copy", `{"a":{"b":1}}`, `[{"op":"copy","from":"/a","path":"/c"}]`, `{"a":{"b":1},"c":{"b":1}}`},
		{"replace missing", `{"a":1}`, `[{"op":"replace","path":"/b","value":2}]`, ""},
		{"remove root", `{"a":1}`, `[{"op":"remove","path":""}]`, ""},
		{"replace root with non-object", `{"a":1}`, `[{"op":"replace","path":"","value":[1]}]`, ""},
		{"move into own child", `{"a":{"b":1}}`, `[{"op":"move","from":"/a","path":"/a/c"}]`, ""},
		{"index with leading zero", `{"a":[1,2]}`, `[{"op":"remove","path":"/a/01"}]`, ""},
		{"index out of range", `{"a":[1,2]}`, `[{"op":"add","path":"/a/3","value":0}]`, ""},
		{"unknown op", `{"a":1}`, `[{"op":"frobnicate","path":"/a"}]`, ""},
		{"no path", `{"a":1}`, `[{"op":"remove"}]`, ""},
		{"bad escape", `{"a":1}`, `[{"op":"remove","path":"/~2"}]`, ""},
		{"not a patch", `{"a":1}`, `{"op":"remove","path":"/a"}`, ""},
		{"no value", `{"a":1}`, `[{"op":"add","path":"/b"}]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc map[string]any
			require.NoError(t, json.Unmarshal([]byte(tt.doc), &doc))
			before, _ := json.Marshal(doc)
			got, err := Apply(doc, []byte(tt.patch))
			after, _ := json.Marshal(doc)
			assert.Equal(t, string(before), string(after), "the input is not modified")
			if tt.want == "" {
				assert.ErrorIs(t, err, ErrInvalid)
				return
			}
			require.NoError(t, err)
			b, err := json.Marshal(got)
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(b))
		})
	}
}

func FuzzApply(f *testing.F) {
	f.Add(`{"a":[1,{"b":2}]}`, `[{"op":"move","from":"/a/1","path":"/c"},{"op":"add","path":"/a/-","value":3}]`)
	f.Add(`{"foo":["all","grass"]}`, `[{"op":"copy","from":"/foo","path":"/foo/0"}]`)
	f.Fuzz(func(t *testing.T, doc, patch string) {
		var m map[string]any
		if json.Unmarshal([]byte(doc), &m) != nil || m == nil {
			return
		}
		before, _ := json.Marshal(m)
		out, err := Apply(m, []byte(patch))
		after, _ := json.Marshal(m)
		if string(before) != string(after) {
			t.Fatal("input modified")
		}
		if err == nil && out == nil {
			t.Fatal("nil result without error")
		}
	})
}
