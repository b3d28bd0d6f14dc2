package authserver

import (
	"crypto/sha256"
	"encoding/base64"
)

// PKCE (RFC 7636) as SMART App Launch 2.2 requires it: the S256 method
// only ("SHALL NOT support the plain method").

// CodeChallengeS256 is the only code_challenge_method accepted.
const CodeChallengeS256 = "S256"

// s256ChallengeLen is the length of an S256 code_challenge: a SHA-256
// digest, base64url without padding.
var s256ChallengeLen = base64.RawURLEncoding.EncodedLen(sha256.Size)

// validS256Challenge reports whether c can be an S256 code_challenge:
// 43 base64url characters that decode to 32 bytes.
func validS256Challenge(c string) bool {
	if len(c) != s256ChallengeLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil
}

// validCodeVerifier reports whether v is a code_verifier as RFC 7636 §4.1
// defines it: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." /
// "_" / "~".
func validCodeVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// s256Challenge returns the S256 code_challenge of a code_verifier:
// BASE64URL(SHA256(ASCII(verifier))) (RFC 7636 §4.2).
func s256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
