package fhirspec

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// decode decodes the JSON object s as encoding/json does for the
// middleware.
func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m), s)
	return m
}

// onlyBase accepts one service base URL.
func onlyBase(base string) func(string) bool {
	return func(b string) bool { return b == base }
}
