package jsonobject

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// member is one (name, raw value) pair visited by Members.
type member struct{ name, value string }

func members(t *testing.T, data string) ([]member, error) {
	t.Helper()
	var got []member
	err := Members(data, func(name, value string) error {
		got = append(got, member{name, value})
		return nil
	})
	return got, err
}

func TestMembers(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    []member
		wantErr error
	}{
		{"empty object", `{}`, nil, nil},
		{"spaces", " \t\r\n{ \n} \n", nil, nil},
		{"members in order", `{"b":1,"a":"x","c":[1,{"d":null}],"e":{"f":[]},"g":true,"h":false}`,
			[]member{{"b", "1"}, {"a", `"x"`}, {"c", `[1,{"d":null}]`}, {"e", `{"f":[]}`}, {"g", "true"}, {"h", "false"}}, nil},
		{"spaces around", `{ "a" : 1 , "b" :"x" }`, []member{{"a", "1"}, {"b", `"x"`}}, nil},
		{"duplicates kept", `{"a":1,"a":2}`, []member{{"a", "1"}, {"a", "2"}}, nil},
		{"escaped name", `{"pat\u0069ent":"x","a\"b":1}`, []member{{"patient", `"x"`}, {`a"b`, "1"}}, nil},
		{"case kept", `{"Patient":"x","patient":"y"}`, []member{{"Patient", `"x"`}, {"patient", `"y"`}}, nil},
		{"brackets in strings", `{"a":"}]{[","b":["]",{"}":"{"}]}`, []member{{"a", `"}]{["`}, {"b", `["]",{"}":"{"}]`}}, nil},
		{"escaped quote in string", `{"a":"x\"}","b":2}`, []member{{"a", `"x\"}"`}, {"b", "2"}}, nil},
		{"numbers", `{"a":-1.5e3,"b":0,"c":1E+2}`, []member{{"a", "-1.5e3"}, {"b", "0"}, {"c", "1E+2"}}, nil},
		{"array", `[1]`, nil, ErrNotObject},
		{"string", `"x"`, nil, ErrNotObject},
		{"null", `null`, nil, ErrNotObject},
		{"empty", ``, nil, ErrNotObject},
		{"number too large", `{"a":1e400}`, nil, ErrRange},
		{"number too large, nested", `{"a":[{"b":[-1e999]}]}`, nil, ErrRange},
		{"long number fits", `{"a":123456789012345678901234567890}`, []member{{"a", "123456789012345678901234567890"}}, nil},
		{"long number too large", `{"a":1` + strings.Repeat("0", 400) + `}`, nil, ErrRange},
		{"tiny number is zero", `{"a":1e-400}`, []member{{"a", "1e-400"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := members(t, tt.data)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestMembersStopsAtError(t *testing.T) {
	errStop := errors.New("stop")
	n := 0
	err := Members(`{"a":1,"b":2,"c":3}`, func(name, _ string) error {
		n++
		if name == "b" {
			return errStop
		}
		return nil
	})
	require.ErrorIs(t, err, errStop)
	assert.Equal(t, 2, n)
}

func TestElements(t *testing.T) {
	var got []string
	err := Elements(` [1, "a" ,[2,{"b":[]}], {} ,null] `, func(value string) error {
		got = append(got, value)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"1", `"a"`, `[2,{"b":[]}]`, "{}", "null"}, got)

	got = nil
	require.NoError(t, Elements(`[]`, func(value string) error { got = append(got, value); return nil }))
	assert.Empty(t, got)
	require.ErrorIs(t, Elements(`{}`, func(string) error { return nil }), ErrNotArray)
	require.ErrorIs(t, Elements(`[1,[1e999]]`, func(string) error { return nil }), ErrRange)
}

func TestDecode(t *testing.T) {
	tests := []struct {
		data string
		want any
	}{
		{`"abc"`, "abc"},
		{`"a\nb\u00e9"`, "a\nbé"},
		{`"é"`, "é"},
		{"\"\xff\"", "\ufffd"},
		{`"\ud800"`, "\ufffd"},
		{"\"a\x7fb\"", "a\x7fb"},
		{`-0`, -0.0},
		{`12.5e-1`, 1.25},
		{`true`, true},
		{`false`, false},
		{`null`, nil},
		{`[]`, []any{}},
		{`{}`, map[string]any{}},
		{` [1, "a", [ ], {"b": null}] `, []any{1.0, "a", []any{}, map[string]any{"b": nil}}},
		{`{"a":1,"a":2}`, map[string]any{"a": 2.0}},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			got, err := Decode(tt.data)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			var want any
			require.NoError(t, json.Unmarshal([]byte(tt.data), &want))
			assert.Equal(t, want, got, "as encoding/json")
		})
	}
	for _, bad := range []string{`1e400`, `[1e400]`, `{"a":-1e400}`} {
		_, err := Decode(bad)
		require.ErrorIs(t, err, ErrRange, bad)
	}
}

// TestDecodeSharesInput: plain ASCII strings are not copied.
func TestDecodeSharesInput(t *testing.T) {
	data := `{"patient":"pat-123","scope":"a b"}`
	allocs := testing.AllocsPerRun(100, func() {
		err := Members(data, func(_, value string) error {
			s, err := decodeString(value)
			if err != nil || s == "" {
				t.Fatal(s, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

// TestInvalidInputDoesNotPanic feeds input that is not valid JSON.
func TestInvalidInputDoesNotPanic(t *testing.T) {
	for _, data := range []string{`{`, `{"`, `{"a`, `{"a"`, `{"a":`, `{"a":1`, `{"a":1,`, `{"a":"\`, `{"a":[`,
		`{"a":{"b":`, `{"a":tru}`, `{"a":n}`, `{1:2}`, `{"a" 1}`, `{"a":1 "b":2}`, `{"a":1}x`, `"`, `[`, `[1,`, `[1 2]`, `t`, `-`, ``} {
		_, _ = members(t, data)
		_, _ = Decode(data)
		_ = Elements(data, func(string) error { return nil })
	}
}

// FuzzDecode checks Members and Decode against encoding/json on valid
// JSON, and that they never panic on anything else.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, `{"a":1,"a":"x"}`,
		`{"pat\u0069ent":"\u00e9\ud800"}`, `[1,2]`, `"x"`, `{"a":1e400}`, `{"a":[-0.0e-0,1E+2]}`, "{\"\xff\":\"\x7f\"}", `{"a":"}"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		got, err := Decode(data)
		var m map[string]any
		merr := Members(data, func(name, value string) error {
			v, err := Decode(value)
			if m == nil {
				m = make(map[string]any)
			}
			m[name] = v
			return err
		})
		var elems []any
		eerr := Elements(data, func(value string) error {
			v, err := Decode(value)
			elems = append(elems, v)
			return err
		})
		if !json.Valid([]byte(data)) {
			return
		}
		var want any
		wantErr := json.Unmarshal([]byte(data), &want)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("Decode(%q): error %v, encoding/json %v", data, err, wantErr)
		}
		if err == nil {
			assert.Equal(t, want, got)
		}
		if arr, isArray := want.([]any); isArray && wantErr == nil {
			require.NoError(t, eerr)
			if elems == nil {
				elems = []any{}
			}
			assert.Equal(t, arr, elems)
		}
		obj, isObject := want.(map[string]any)
		if !isObject {
			if wantErr == nil && !errors.Is(merr, ErrNotObject) {
				t.Fatalf("Members(%q) of a non-object: %v", data, merr)
			}
			return
		}
		if (merr == nil) != (wantErr == nil) {
			t.Fatalf("Members(%q): error %v, encoding/json %v", data, merr, wantErr)
		}
		if merr == nil {
			if m == nil {
				m = map[string]any{}
			}
			assert.Equal(t, obj, m)
		}
	})
}

// BenchmarkDecodeNested decodes deeply nested arrays: the time per byte
// must not grow with the depth (a decoder that skips each element before
// decoding it takes time quadratic in the depth).
func BenchmarkDecodeNested(b *testing.B) {
	for _, depth := range []int{500, 4000} {
		b.Run(strconv.Itoa(depth), func(b *testing.B) {
			obj := `{"a":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`
			b.SetBytes(int64(len(obj)))
			b.ReportAllocs()
			for b.Loop() {
				if err := Members(obj, func(_, value string) error {
					_, err := Decode(value)
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
