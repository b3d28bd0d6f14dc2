package redisstore

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/smartauth/smartauth/tokenstore"
)

// keyspace names the keys of one Store (see the package documentation):
//
//	<prefix>{<family tag>}:g              grant (hash)
//	<prefix>{<family tag>}:t:<hex hash>   refresh-token record (hash)
//	<prefix>{<family tag>}:c              authorization code creating the family (hash)
//	<prefix>x:{<hex hash>}                index: first token -> grant ID (string)
//	<prefix>o:{<one-time tag>}            UseOnce record (string)
//	<prefix>l:{<hex hash>}                EHR launch (hash)
//
// The braces delimit the Redis Cluster hash tag: every key of a family
// (its grant and its tokens) hashes to the slot of the family's tag, and
// different families spread over the slots. The prefix contains no brace
// (New checks), so the first braces of a key are always the store's.
type keyspace struct {
	prefix string
}

// maxLiteralTag is the longest grant ID or UseOnce key used as it is in a
// hash tag; longer ones, or ones with other characters, are hashed.
const maxLiteralTag = 64

// hashedTagMark starts a hashed tag. It is not a character literal tags
// may contain, so a hashed tag never equals a literal one.
const hashedTagMark = '#'

// appendTag appends the hash tag of id, braces included: "{" + id + "}" if
// id is 1 to maxLiteralTag characters of [A-Za-z0-9_-] (or, when dots and
// colons are allowed, also '.' and ':'), else "{#" + hex SHA-256 of id +
// "}". Distinct ids always get distinct tags.
func appendTag(b []byte, id string, dotsAndColons bool) []byte {
	b = append(b, '{')
	if literalTag(id, dotsAndColons) {
		b = append(b, id...)
	} else {
		sum := sha256.Sum256([]byte(id))
		b = append(b, hashedTagMark)
		b = hex.AppendEncode(b, sum[:])
	}
	return append(b, '}')
}

// literalTag reports whether s may be used as it is in a hash tag.
func literalTag(s string, dotsAndColons bool) bool {
	if len(s) == 0 || len(s) > maxLiteralTag {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		case dotsAndColons && (c == '.' || c == ':'):
		default:
			return false
		}
	}
	return true
}

// grant returns the key of a grant.
func (k keyspace) grant(grantID string) string {
	b := make([]byte, 0, len(k.prefix)+2+2*sha256.Size+3)
	b = append(b, k.prefix...)
	b = appendTag(b, grantID, false)
	return string(append(b, ":g"...))
}

// token returns the key of a refresh-token record of a grant.
func (k keyspace) token(grantID string, h tokenstore.Hash) string {
	b := make([]byte, 0, len(k.prefix)+2+2*sha256.Size+3+hex.EncodedLen(len(h)))
	b = append(b, k.prefix...)
	b = appendTag(b, grantID, false)
	b = append(b, ":t:"...)
	b = hex.AppendEncode(b, h[:])
	return string(b)
}

// index returns the key of the index record of a token: the ID of its
// grant, for tokens whose value does not name it.
func (k keyspace) index(h tokenstore.Hash) string {
	b := make([]byte, 0, len(k.prefix)+4+hex.EncodedLen(len(h)))
	b = append(b, k.prefix...)
	b = append(b, "x:{"...)
	b = hex.AppendEncode(b, h[:])
	return string(append(b, '}'))
}

// once returns the key of a UseOnce record.
func (k keyspace) once(key string) string {
	b := make([]byte, 0, len(k.prefix)+4+2*sha256.Size+1)
	b = append(b, k.prefix...)
	b = append(b, "o:"...)
	return string(appendTag(b, key, true))
}

// code returns the key of the authorization code that creates a grant
// (one per family).
func (k keyspace) code(grantID string) string {
	b := make([]byte, 0, len(k.prefix)+2+2*sha256.Size+3)
	b = append(b, k.prefix...)
	b = appendTag(b, grantID, false)
	return string(append(b, ":c"...))
}

// launch returns the key of a launch record.
func (k keyspace) launch(h tokenstore.Hash) string {
	b := make([]byte, 0, len(k.prefix)+4+hex.EncodedLen(len(h)))
	b = append(b, k.prefix...)
	b = append(b, "l:{"...)
	b = hex.AppendEncode(b, h[:])
	return string(append(b, '}'))
}
