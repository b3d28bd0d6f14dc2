package demo

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// peekIssuer returns the iss claim of a JWT without verifying it, or "".
// It is used only to route the token to the verifier that checks it.
func peekIssuer(token string) string {
	_, rest, ok := strings.Cut(token, ".")
	if !ok {
		return ""
	}
	payload, _, ok := strings.Cut(rest, ".")
	if !ok {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return ""
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Iss
}

// jsonUnmarshal is json.Unmarshal that accepts an empty document.
func jsonUnmarshal(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}
