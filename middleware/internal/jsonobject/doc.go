// Package jsonobject reads the members of a JSON object one at a time and
// decodes only the values the caller asks for.
//
// The JWT verifier of package middleware uses it on token payloads: it
// needs a dozen claims out of an object that may hold many more, and
// decoding the whole payload into a map[string]any with encoding/json
// costs more than the rest of the verification but the signature. Unlike
// decoding into a struct with encoding/json, member names match exactly
// (encoding/json also accepts "PATIENT" for a field tagged "patient").
//
// The input must already be valid JSON (json.Valid): the package finds
// member and element boundaries, it does not check the grammar. On invalid
// input it returns an error or unspecified values, and never panics. For
// valid input it agrees with encoding/json decoding into an any:
//
//   - Members visits the members in document order, duplicates included
//     (a map keeps the last), and fails — with ErrRange — exactly when a
//     number anywhere in the object does not fit a float64, the one way
//     json.Unmarshal into a map[string]any fails on valid JSON;
//   - Decode returns what json.Unmarshal into an any returns: string,
//     float64, bool, nil, []any and map[string]any. Strings of printable
//     ASCII without escapes are substrings of the input, not copies.
//
// Usage:
//
//	if !json.Valid(payload) {
//		return errMalformed
//	}
//	err := jsonobject.Members(string(payload), func(name, value string) error {
//		if name != "patient" {
//			return nil
//		}
//		v, err := jsonobject.Decode(value)
//		patient = v
//		return err
//	})
package jsonobject
