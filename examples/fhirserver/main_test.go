package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets a test run the command's main in a child process (the test
// binary itself, with FHIRSERVER_RUN_MAIN=1), to see its exit code.
func TestMain(m *testing.M) {
	if os.Getenv("FHIRSERVER_RUN_MAIN") == "1" {
		os.Args = append([]string{"fhirserver"}, strings.Fields(os.Getenv("FHIRSERVER_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runMain runs main with args in a child process and returns its exit
// code, stdout and stderr.
func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.CommandContext(t.Context(), exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "FHIRSERVER_RUN_MAIN=1", "FHIRSERVER_ARGS="+strings.Join(args, " "))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return code, stdout.String(), stderr.String()
}

// TestMainFlags: -h prints the usage and exits 0; a bad flag exits 2
// with the flag package's message only; a port clash exits 1 and names
// the -addr flag.
func TestMainFlags(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = busy.Close() })

	tests := []struct {
		name       string
		args       []string
		code       int
		stderrHas  []string
		stderrNot  []string
		stdoutNone bool
	}{
		{"-h", []string{"-h"}, 0, []string{"Usage: fhirserver [flags]", "-addr address", "-config file", "-data directory", "-store URL", "-log-level level"}, []string{"ERROR"}, true},
		{"-help", []string{"-help"}, 0, []string{"Usage: fhirserver [flags]"}, []string{"ERROR"}, true},
		{"unknown flag", []string{"-bogus"}, 2, []string{"flag provided but not defined: -bogus", "Usage: fhirserver [flags]"}, []string{"ERROR"}, true},
		{"stray argument", []string{"serve"}, 2, []string{`unexpected argument "serve"`, "Usage: fhirserver [flags]"}, []string{"ERROR"}, true},
		{"port in use", []string{"-addr", busy.Addr().String()}, 1, []string{"ERROR", busy.Addr().String() + " is already in use", "choose another address with -addr"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, tt.args...)
			assert.Equal(t, tt.code, code, stderr)
			for _, s := range tt.stderrHas {
				assert.Contains(t, stderr, s)
			}
			for _, s := range tt.stderrNot {
				assert.NotContains(t, stderr, s)
			}
			if tt.stdoutNone {
				assert.Empty(t, stdout)
			}
		})
	}
}

// TestRunPortClash: the error names the flag to change.
func TestRunPortClash(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = busy.Close() })
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"-addr", busy.Addr().String()}, &stdout, &stderr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "choose another address with -addr")
	assert.Empty(t, stdout.String())
}

// TestRunHelp: -h is not an error.
func TestRunHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-h"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "Usage: fhirserver [flags]")
	assert.Empty(t, stdout.String())
}
