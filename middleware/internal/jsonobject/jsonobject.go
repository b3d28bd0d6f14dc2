package jsonobject

import (
	"encoding/json"
	"errors"
	"strconv"
)

// Errors of Members and Decode.
var (
	// ErrNotObject reports input whose top-level value is not an object.
	ErrNotObject = errors.New("jsonobject: not a JSON object")
	// ErrNotArray reports input whose top-level value is not an array.
	ErrNotArray = errors.New("jsonobject: not a JSON array")
	// ErrRange reports a number that does not fit a float64.
	ErrRange = errors.New("jsonobject: number out of the range of a float64")
	// ErrSyntax reports input that is not valid JSON (the caller was to
	// check it with json.Valid).
	ErrSyntax = errors.New("jsonobject: invalid JSON")
)

// Members calls fn with the name (decoded) and the raw value of each member
// of the JSON object data, in document order, and stops at the first error
// fn returns, which it returns. It returns ErrNotObject if data is not an
// object and ErrRange if a number anywhere in data does not fit a float64.
// data must be valid JSON. Apart from fn, it takes time linear in
// len(data).
func Members(data string, fn func(name, value string) error) error {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return ErrNotObject
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return end(data, i+1)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return ErrSyntax
		}
		nameEnd, err := skipString(data, i)
		if err != nil {
			return err
		}
		name, err := decodeString(data[i:nameEnd])
		if err != nil {
			return err
		}
		i = skipSpace(data, nameEnd)
		if i >= len(data) || data[i] != ':' {
			return ErrSyntax
		}
		i = skipSpace(data, i+1)
		valueEnd, err := skipValue(data, i)
		if err != nil {
			return err
		}
		if err := fn(name, data[i:valueEnd]); err != nil {
			return err
		}
		var done bool
		if i, done, err = next(data, valueEnd, '}'); err != nil {
			return err
		}
		if done {
			return end(data, i)
		}
	}
}

// Elements calls fn with the raw value of each element of the JSON array
// data, in order, and stops at the first error fn returns, which it
// returns. It returns ErrNotArray if data is not an array and ErrRange if
// a number anywhere in data does not fit a float64. data must be valid
// JSON. Apart from fn, it takes time linear in len(data).
func Elements(data string, fn func(value string) error) error {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return ErrNotArray
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return end(data, i+1)
	}
	for {
		n, err := skipValue(data, i)
		if err != nil {
			return err
		}
		if err := fn(data[i:n]); err != nil {
			return err
		}
		var done bool
		if i, done, err = next(data, n, ']'); err != nil {
			return err
		}
		if done {
			return end(data, i)
		}
	}
}

// Decode decodes one raw JSON value as json.Unmarshal into an any does.
// value must be valid JSON. It takes time linear in len(value).
func Decode(value string) (any, error) {
	v, i, err := decodeValue(value, skipSpace(value, 0))
	if err != nil {
		return nil, err
	}
	return v, end(value, i)
}

// decodeValue decodes the value starting at data[i] and returns it with
// the offset after it.
func decodeValue(data string, i int) (any, int, error) {
	if i >= len(data) {
		return nil, 0, ErrSyntax
	}
	switch data[i] {
	case '"':
		n, err := skipString(data, i)
		if err != nil {
			return nil, 0, err
		}
		s, err := decodeString(data[i:n])
		return s, n, err
	case '{':
		return decodeObject(data, i)
	case '[':
		return decodeArray(data, i)
	case 't':
		return true, i + len("true"), literal(data, i, "true")
	case 'f':
		return false, i + len("false"), literal(data, i, "false")
	case 'n':
		return nil, i + len("null"), literal(data, i, "null")
	}
	n := skipNumber(data, i)
	f, err := parseNumber(data[i:n])
	return f, n, err
}

// decodeObject decodes the object starting at data[i]; of members with the
// same name, the last counts.
func decodeObject(data string, i int) (any, int, error) {
	m := make(map[string]any)
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return m, i + 1, nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return nil, 0, ErrSyntax
		}
		n, err := skipString(data, i)
		if err != nil {
			return nil, 0, err
		}
		name, err := decodeString(data[i:n])
		if err != nil {
			return nil, 0, err
		}
		i = skipSpace(data, n)
		if i >= len(data) || data[i] != ':' {
			return nil, 0, ErrSyntax
		}
		v, n, err := decodeValue(data, skipSpace(data, i+1))
		if err != nil {
			return nil, 0, err
		}
		m[name] = v
		var done bool
		if i, done, err = next(data, n, '}'); err != nil || done {
			return m, i, err
		}
	}
}

// decodeArray decodes the array starting at data[i]. encoding/json decodes
// an empty array to an empty, non-nil slice.
func decodeArray(data string, i int) (any, int, error) {
	a := make([]any, 0)
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return a, i + 1, nil
	}
	for {
		v, n, err := decodeValue(data, i)
		if err != nil {
			return nil, 0, err
		}
		a = append(a, v)
		var done bool
		if i, done, err = next(data, n, ']'); err != nil || done {
			return a, i, err
		}
	}
}

// next moves past the comma or the closing bracket that follows an element
// ending at data[i]: it returns the offset of the next element, or (done)
// the offset after the closing bracket.
func next(data string, i int, closing byte) (int, bool, error) {
	i = skipSpace(data, i)
	if i >= len(data) {
		return 0, false, ErrSyntax
	}
	switch data[i] {
	case ',':
		return skipSpace(data, i+1), false, nil
	case closing:
		return i + 1, true, nil
	}
	return 0, false, ErrSyntax
}

// end checks that only white space follows offset i.
func end(data string, i int) error {
	if skipSpace(data, i) != len(data) {
		return ErrSyntax
	}
	return nil
}

func skipSpace(data string, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the offset after the string starting at data[i]
// (which is '"').
func skipString(data string, i int) (int, error) {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '"':
			return i + 1, nil
		case '\\':
			i++ // the escaped byte; \uXXXX has no '"' or '\\' in its digits
		}
	}
	return 0, ErrSyntax
}

// skipNumber returns the offset after the number starting at data[i].
func skipNumber(data string, i int) int {
	for i < len(data) {
		switch c := data[i]; {
		case '0' <= c && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the offset after the value starting at data[i],
// checking that every number in it fits a float64.
func skipValue(data string, i int) (int, error) {
	if i >= len(data) {
		return 0, ErrSyntax
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case 't':
		return i + len("true"), literal(data, i, "true")
	case 'f':
		return i + len("false"), literal(data, i, "false")
	case 'n':
		return i + len("null"), literal(data, i, "null")
	case '{', '[':
	default:
		n := skipNumber(data, i)
		return n, checkNumber(data[i:n])
	}
	// An object or array: find its end. Outside strings, a '-' or a digit
	// starts a number (names are strings; true, false and null have none).
	depth := 0
	for i < len(data) {
		switch c := data[i]; {
		case c == '{' || c == '[':
			depth++
			i++
		case c == '}' || c == ']':
			depth--
			i++
			if depth == 0 {
				return i, nil
			}
		case c == '"':
			n, err := skipString(data, i)
			if err != nil {
				return 0, err
			}
			i = n
		case c == '-' || ('0' <= c && c <= '9'):
			n := skipNumber(data, i)
			if err := checkNumber(data[i:n]); err != nil {
				return 0, err
			}
			i = n
		default:
			i++
		}
	}
	return 0, ErrSyntax
}

func literal(data string, i int, lit string) error {
	if len(data)-i < len(lit) || data[i:i+len(lit)] != lit {
		return ErrSyntax
	}
	return nil
}

// checkNumber reports ErrRange for a number that does not fit a float64.
// A number of at most 15 characters without an exponent always fits.
func checkNumber(num string) error {
	if len(num) <= 15 {
		simple := true
		for i := 0; i < len(num); i++ {
			if num[i] == 'e' || num[i] == 'E' {
				simple = false
				break
			}
		}
		if simple {
			if num == "" {
				return ErrSyntax
			}
			return nil
		}
	}
	_, err := parseNumber(num)
	return err
}

// parseNumber converts a JSON number as encoding/json does for an any.
func parseNumber(num string) (float64, error) {
	f, err := strconv.ParseFloat(num, 64)
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, strconv.ErrRange):
		return 0, ErrRange
	}
	return 0, ErrSyntax
}

// decodeString decodes a quoted JSON string. Printable ASCII without
// escapes is returned as a substring; anything else (escapes, non-ASCII,
// which encoding/json checks for invalid UTF-8) goes through encoding/json.
func decodeString(quoted string) (string, error) {
	if len(quoted) < 2 {
		return "", ErrSyntax
	}
	s := quoted[1 : len(quoted)-1]
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '\\' || c == '"' {
			var out string
			if err := json.Unmarshal([]byte(quoted), &out); err != nil {
				return "", ErrSyntax
			}
			return out, nil
		}
	}
	return s, nil
}
