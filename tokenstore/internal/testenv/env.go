package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"
)

// Default addresses of the test servers (see .ci/services.sh).
const (
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
)

// Environment variables read by the store tests.
const (
	// RedisURLEnv overrides DefaultRedisURL.
	RedisURLEnv = "SMARTAUTH_REDIS_URL"
	// PostgresURLEnv overrides DefaultPostgresURL.
	PostgresURLEnv = "SMARTAUTH_POSTGRES_URL"
	// RequireServicesEnv, set to 1, turns the skip of a test whose server
	// does not answer into a failure (CI sets it).
	RequireServicesEnv = "SMARTAUTH_REQUIRE_SERVICES"
)

// PingTimeout bounds the check that a test server answers.
const PingTimeout = 2 * time.Second

// RedisURL returns the URL of the test Redis.
func RedisURL() string { return getenv(RedisURLEnv, DefaultRedisURL) }

// PostgresURL returns the URL of the test PostgreSQL database.
func PostgresURL() string { return getenv(PostgresURLEnv, DefaultPostgresURL) }

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Unreachable reports that the server named what at rawURL did not answer
// (err): it skips the test, or fails it if SMARTAUTH_REQUIRE_SERVICES=1.
// The password of rawURL, if any, is not printed.
func Unreachable(t testing.TB, what, rawURL, env string, err error) {
	t.Helper()
	msg := "%s not reachable at %s (%v); set %s or run .ci/services.sh"
	args := []any{what, redact(rawURL), err, env}
	if os.Getenv(RequireServicesEnv) == "1" {
		t.Fatalf(msg+" (%s=1: not skipping)", append(args, RequireServicesEnv)...)
	}
	t.Skipf(msg, args...)
}

// redact hides the password of a URL.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}

// UniqueName returns prefix followed by 16 random hex digits: a name (key
// prefix, schema) no other test run uses.
func UniqueName(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
