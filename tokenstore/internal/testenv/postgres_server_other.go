//go:build !linux

package testenv

import "testing"

// PostgresServer is a throwaway PostgreSQL cluster of one test. It needs
// Linux (/proc): elsewhere StartPostgres skips the test.
type PostgresServer struct{}

// StartPostgres skips the test (or fails it under
// SMARTAUTH_REQUIRE_SERVICES=1): throwaway servers need Linux.
func StartPostgres(t testing.TB) (string, *PostgresServer) {
	t.Helper()
	missing(t, errNotLinux)
	return "", nil
}

// URL is never reached: StartPostgres skips.
func (*PostgresServer) URL() string { return "" }

// Addr is never reached: StartPostgres skips.
func (*PostgresServer) Addr() string { return "" }

// Start is never reached: StartPostgres skips.
func (*PostgresServer) Start() {}

// Stop is never reached: StartPostgres skips.
func (*PostgresServer) Stop() {}

// Pause is never reached: StartPostgres skips.
func (*PostgresServer) Pause() {}

// Resume is never reached: StartPostgres skips.
func (*PostgresServer) Resume() {}
