package testenv

import (
	"errors"
	"os"
	"testing"
)

// PostgresBinEnv names a directory holding initdb and postgres, overriding
// the search of StartPostgres.
const PostgresBinEnv = "SMARTAUTH_POSTGRES_BIN"

// errNotLinux is why StartPostgres cannot run outside Linux.
var errNotLinux = errors.New("throwaway servers need Linux (/proc)")

// missing reports that what StartPostgres needs is not installed.
func missing(t testing.TB, err error) {
	t.Helper()
	if os.Getenv(RequireServicesEnv) == "1" {
		t.Fatalf("postgres server: %v (%s=1: not skipping)", err, RequireServicesEnv)
	}
	t.Skipf("postgres server: %v; install PostgreSQL or set %s", err, PostgresBinEnv)
}
