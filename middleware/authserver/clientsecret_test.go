package authserver

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHashSecret(t *testing.T) {
	const secret = "tO9tQ8n3u2b7-x_0aZ"
	a, b := HashSecret(secret), HashSecret(secret)
	assert.NotEqual(t, a, b, "salted")
	assert.True(t, strings.HasPrefix(a, "sha256:"))
	assert.NotContains(t, a, secret)
	for _, s := range []string{a, b} {
		h, err := parseSecretHash(s)
		require.NoError(t, err)
		assert.True(t, h.matches(secret))
		assert.False(t, h.matches(secret+"x"))
		assert.False(t, h.matches(""))
	}
}

func TestHashSecretPBKDF2(t *testing.T) {
	s := HashSecretPBKDF2("pass word", 1000)
	assert.True(t, strings.HasPrefix(s, "pbkdf2-sha256:1000:"), s)
	h, err := parseSecretHash(s)
	require.NoError(t, err)
	assert.True(t, h.matches("pass word"))
	assert.False(t, h.matches("pass+word"))

	assert.Equal(t, 600_000, pbkdf2Iterations(0))
	assert.Equal(t, 600_000, pbkdf2Iterations(-1))
	assert.Equal(t, 1, pbkdf2Iterations(1))
	assert.Equal(t, 10_000_000, pbkdf2Iterations(maxPBKDF2Iterations+1))
}

func TestEmptySecretNeverMatches(t *testing.T) {
	h, err := parseSecretHash(HashSecret(""))
	require.NoError(t, err)
	assert.False(t, h.matches(""))
}

func TestParseSecretHashInvalid(t *testing.T) {
	salt, sum := secretB64(make([]byte, 16)), secretB64(make([]byte, 32))
	for _, s := range []string{
		"",
		"secret",
		"sha256",
		"sha256:" + salt,
		"sha256:" + salt + ":" + secretB64(make([]byte, 31)),
		"sha256:" + secretB64(make([]byte, 4)) + ":" + sum,
		"sha256:!!:" + sum,
		"sha256:" + salt + ":" + sum + "=",
		"md5:" + salt + ":" + sum,
		"pbkdf2-sha256:" + salt + ":" + sum,
		"pbkdf2-sha256:0:" + salt + ":" + sum,
		"pbkdf2-sha256:-5:" + salt + ":" + sum,
		"pbkdf2-sha256:99999999:" + salt + ":" + sum,
		"pbkdf2-sha256:x:" + salt + ":" + sum,
		"pbkdf2-sha256:1000:" + salt + ":" + sum + ":extra",
	} {
		_, err := parseSecretHash(s)
		assert.ErrorIs(t, err, errInvalidSecretHash, "%q", s)
	}
	_, err := parseSecretHash("sha256:" + salt + ":" + sum)
	assert.NoError(t, err)
	_, err = parseSecretHash("pbkdf2-sha256:1:" + salt + ":" + sum)
	assert.NoError(t, err)
}
