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

// IsZero reports whether h is the zero Hash, which stands for no token
// (the hash of no value is ever zero).
func (h Hash) IsZero() bool {
	return h == Hash{}
}

// NewToken returns a new random token of TokenBytes bytes, base64url-encoded
// without padding (43 characters), and its Hash.
func NewToken() (string, Hash) {
	var b [TokenBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24).
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	return tok, HashToken(tok)
}

// TokenRef is how a store finds a presented refresh token: the Hash of its
// value and the family the value names, if any. Make it with
// ParseRefreshToken.
type TokenRef struct {
	// Hash is HashToken of the whole token value.
	Hash Hash
	// GrantID is the family the value names (a value made by
	// NewRefreshToken), or "" if it names none (a value made by NewToken or
	// chosen by the host). It is a routing hint for stores that keep each
	// family's records together (redisstore puts every family in a Redis
	// Cluster slot of its own) and is never trusted: Hash covers the whole
	// value, so a value naming another family is simply unknown.
	GrantID string
}

// maxGrantIDInToken bounds the grant ID ParseRefreshToken accepts, in
// bytes.
const maxGrantIDInToken = 256

// tokenRandomLen is the length of the random part of a token value:
// TokenBytes bytes, base64url without padding.
var tokenRandomLen = base64.RawURLEncoding.EncodedLen(TokenBytes)

// NewRefreshToken returns a new refresh-token value that names grantID,
// and its TokenRef. The value is TokenBytes random bytes, base64url without
// padding, then "." and grantID base64url-encoded: 43 + 1 + ⌈4n/3⌉
// URL-safe characters for a grant ID of n bytes (74 for a NewID). The
// grant ID in a token is not secret (grant IDs are random, not secret
// identifiers); the token's secrecy rests on its 256 random bits.
func NewRefreshToken(grantID string) (string, TokenRef) {
	if grantID == "" || len(grantID) > maxGrantIDInToken {
		tok, h := NewToken()
		return tok, TokenRef{Hash: h}
	}
	var b [TokenBytes]byte
	_, _ = rand.Read(b[:])
	enc := base64.RawURLEncoding
	v := make([]byte, 0, tokenRandomLen+1+enc.EncodedLen(len(grantID)))
	v = enc.AppendEncode(v, b[:])
	v = append(v, '.')
	v = enc.AppendEncode(v, []byte(grantID))
	tok := string(v)
	return tok, TokenRef{Hash: HashToken(tok), GrantID: grantID}
}

// ParseRefreshToken returns the TokenRef of a presented refresh-token
// value: its Hash and, if the value has the shape NewRefreshToken gives
// it, the grant ID it names. It never fails: any other value gets an empty
// GrantID.
func ParseRefreshToken(value string) TokenRef {
	ref := TokenRef{Hash: HashToken(value)}
	if len(value) <= tokenRandomLen+1 || value[tokenRandomLen] != '.' {
		return ref
	}
	enc := base64.RawURLEncoding
	rest := value[tokenRandomLen+1:]
	if enc.DecodedLen(len(rest)) > maxGrantIDInToken {
		return ref
	}
	id, err := enc.DecodeString(rest)
	if err != nil || len(id) == 0 {
		return ref
	}
	ref.GrantID = string(id)
	return ref
}

// NewID returns a random identifier (128 bits, base64url) for grants.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
