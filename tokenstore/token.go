package tokenstore

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// TokenBytes is the number of random bytes in a refresh token made by
// NewToken: 256 bits.
const TokenBytes = 32

// Hash is the SHA-256 digest of a refresh-token value: what a store keeps
// instead of the token. Because tokens carry 256 bits of randomness a plain
// SHA-256 is a one-way function for them; a dump of the store yields no
// usable token.
type Hash [sha256.Size]byte

// HashToken returns the Hash of a token value.
func HashToken(token string) Hash {
	return sha256.Sum256([]byte(token))
}

// String returns the lower-case hex encoding of h (safe to log: it is not the
// token).
func (h Hash) String() string {
	return hex.EncodeToString(h[:])
}

// NewToken returns a new random token of TokenBytes bytes, base64url-encoded
// without padding (43 characters), and its Hash.
func NewToken() (string, Hash) {
	var b [TokenBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24).
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	return tok, HashToken(tok)
}

// NewID returns a random identifier (128 bits, base64url) for grants.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
