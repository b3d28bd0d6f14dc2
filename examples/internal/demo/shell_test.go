package demo

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireTools skips the test unless the named programs are installed (or
// fails it if SMARTAUTH_REQUIRE_SERVICES=1).
func requireTools(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("SMARTAUTH_REQUIRE_SERVICES") == "1" {
				t.Fatalf("%s not installed (SMARTAUTH_REQUIRE_SERVICES=1: not skipping)", name)
			}
			t.Skipf("%s not installed: this test runs the printed shell commands", name)
		}
	}
}

// runShell runs script with sh -eu and returns its standard output.
func runShell(t *testing.T, script string) string {
	t.Helper()
	requireTools(t, "sh", "curl", "sed")
	cmd := exec.CommandContext(t.Context(), "sh", "-euc", script)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "script:\n%s\nstderr:\n%s", script, stderr.String())
	return stdout.String()
}

// welcomeCommands returns the shell commands of a welcome text: the
// REFRESH_TOKEN= line and the indented lines after "Refresh it".
func welcomeCommands(t *testing.T, welcome string) string {
	t.Helper()
	const heading = "Refresh it, then read the patient in context with the access token returned:\n\n"
	_, cmds, ok := strings.Cut(welcome, heading)
	require.True(t, ok, "no commands in the welcome text:\n%s", welcome)
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(cmds, "\n"), "\n") {
		require.True(t, strings.HasPrefix(l, "  "), "unexpected line %q", l)
		lines = append(lines, strings.TrimPrefix(l, "  "))
	}
	return strings.Join(lines, "\n") + "\n"
}
