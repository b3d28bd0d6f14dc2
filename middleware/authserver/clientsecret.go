package authserver

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Client secret hash formats (the value of Client.SecretHash). Salts and
// hashes are unpadded standard base64.
//
//	sha256:<salt>:<hash>                  hash = SHA-256(salt || secret)
//	pbkdf2-sha256:<iterations>:<salt>:<hash> hash = PBKDF2-HMAC-SHA256(secret, salt, iterations, 32)
//
// The fast sha256 format is meant for generated, high-entropy secrets (at
// least 128 random bits, for example 32 random bytes in base64url): for
// those, a slow hash adds nothing. Use HashSecretPBKDF2 for secrets that a
// person chose. An unknown client_id is checked against a dummy hash in
// the sha256 format, so it costs what a sha256 client with a wrong secret
// costs; a PBKDF2 client's wrong secret costs more, which tells that its
// client_id is registered.
const (
	secretHashSHA256 = "sha256"
	secretHashPBKDF2 = "pbkdf2-sha256"

	secretSaltSize = 16
	secretSumSize  = sha256.Size

	// DefaultPBKDF2Iterations is the iteration count HashSecretPBKDF2 uses
	// when given zero (OWASP 2023 recommendation for PBKDF2-HMAC-SHA256).
	DefaultPBKDF2Iterations = 600_000
	// maxPBKDF2Iterations bounds the work one verification can cost.
	maxPBKDF2Iterations = 10_000_000
)

// errInvalidSecretHash reports a SecretHash that is not in one of the
// supported formats.
var errInvalidSecretHash = errors.New("authserver: invalid client secret hash")

// HashSecret returns the salted SHA-256 hash of a client secret in the
// format "sha256:<salt>:<hash>", for Client.SecretHash. Every call uses a
// new random salt, so two hashes of the same secret differ.
//
// This is the recommended scheme, and right for generated secrets: a
// secret of at least 128 random bits (say 32 random bytes, base64url
// encoded) cannot be guessed, nor found from its SHA-256 in a stolen
// client registry, so a slow hash would add cost to every request and no
// protection. Secrets hashed this way must be generated; use
// HashSecretPBKDF2 only for secrets a person chose. Unknown client_ids
// are checked against a dummy hash of this scheme, so that a wrong secret
// of a registered client and any secret of an unknown one cost the same.
func HashSecret(secret string) string {
	salt := newSecretSalt()
	return secretHashSHA256 + ":" + secretB64(salt) + ":" + secretB64(sha256Secret(salt, secret))
}

// HashSecretPBKDF2 returns the PBKDF2-HMAC-SHA256 hash of a client secret
// in the format "pbkdf2-sha256:<iterations>:<salt>:<hash>", for
// Client.SecretHash. iterations zero means DefaultPBKDF2Iterations; it is
// capped at 10,000,000.
//
// Use it only for human-chosen secrets, which a stolen registry would
// otherwise expose to offline guessing; prefer generated secrets and
// HashSecret. Verification costs as much as hashing (hundreds of
// milliseconds of CPU at the default count) on every request of the
// client, and a wrong secret of a PBKDF2 client costs more than an unknown client_id, so
// the client_id is not hidden. ClientAuthConfig.FailureLimit bounds the
// cost an attacker can impose per client_id.
func HashSecretPBKDF2(secret string, iterations int) string {
	iterations = pbkdf2Iterations(iterations)
	salt := newSecretSalt()
	sum := pbkdf2Secret(salt, secret, iterations)
	return secretHashPBKDF2 + ":" + strconv.Itoa(iterations) + ":" + secretB64(salt) + ":" + secretB64(sum)
}

// pbkdf2Iterations returns the iteration count HashSecretPBKDF2 uses for n.
func pbkdf2Iterations(n int) int {
	if n <= 0 {
		return DefaultPBKDF2Iterations
	}
	return min(n, maxPBKDF2Iterations)
}

// secretHash is a parsed Client.SecretHash.
type secretHash struct {
	kind       string
	iterations int
	salt       []byte
	sum        []byte
}

// parseSecretHash parses a Client.SecretHash.
func parseSecretHash(s string) (secretHash, error) {
	kind, rest, _ := strings.Cut(s, ":")
	h := secretHash{kind: kind}
	var salt, sum string
	switch kind {
	case secretHashSHA256:
		var ok bool
		if salt, sum, ok = strings.Cut(rest, ":"); !ok {
			return secretHash{}, errInvalidSecretHash
		}
	case secretHashPBKDF2:
		parts := strings.Split(rest, ":")
		if len(parts) != 3 {
			return secretHash{}, errInvalidSecretHash
		}
		n, err := strconv.Atoi(parts[0])
		if err != nil || n < 1 || n > maxPBKDF2Iterations {
			return secretHash{}, fmt.Errorf("%w: bad iteration count", errInvalidSecretHash)
		}
		h.iterations = n
		salt, sum = parts[1], parts[2]
	default:
		return secretHash{}, fmt.Errorf("%w: unknown format", errInvalidSecretHash)
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.DecodeString(salt); err != nil || len(h.salt) < 8 {
		return secretHash{}, fmt.Errorf("%w: bad salt", errInvalidSecretHash)
	}
	if h.sum, err = base64.RawStdEncoding.DecodeString(sum); err != nil || len(h.sum) != secretSumSize {
		return secretHash{}, fmt.Errorf("%w: bad hash", errInvalidSecretHash)
	}
	return h, nil
}

// matches reports whether secret hashes to h, comparing in constant time.
// It computes exactly one hash of h's scheme and cost, so that the time
// depends only on the scheme and on the length of secret, which the client
// chose. An empty secret never matches (its hash is computed all the
// same).
func (h secretHash) matches(secret string) bool {
	var sum []byte
	if h.kind == secretHashPBKDF2 {
		sum = pbkdf2Secret(h.salt, secret, h.iterations)
	} else {
		sum = sha256Secret(h.salt, secret)
	}
	return subtle.ConstantTimeCompare(sum, h.sum) == 1 && secret != ""
}

func sha256Secret(salt []byte, secret string) []byte {
	d := sha256.New()
	d.Write(salt)
	d.Write([]byte(secret))
	return d.Sum(nil)
}

func pbkdf2Secret(salt []byte, secret string, iterations int) []byte {
	sum, err := pbkdf2.Key(sha256.New, secret, salt, iterations, secretSumSize)
	if err != nil {
		// Only possible in FIPS-only mode with a salt or key too short,
		// which the sizes used here are not. Never matches.
		return nil
	}
	return sum
}

func newSecretSalt() []byte {
	salt := make([]byte, secretSaltSize)
	_, _ = rand.Read(salt) // never fails (crypto/rand, Go 1.24+)
	return salt
}

func secretB64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }
