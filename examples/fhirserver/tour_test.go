package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/internal/readme"
)

// The lines of the README tour that the test does not run as they are:
// it starts the demo in-process (on a free port, its output in the same
// files) and stops it itself.
const (
	tourStart = "go run ./examples/fhirserver > demo.out 2> demo.log &"
	tourStop  = "kill %1"
	tourAddr  = "127.0.0.1:8080"
	patient   = "783a1f02-5bf9-41c9-90d0-c2c4d35d3ec3"
)

// tourExpectations are what the output of each shell block of the tour
// must (and must not) contain, in order; the last block (tourStop) has
// none. {base} is the demo's base URL.
var tourExpectations = []struct {
	has, hasNot []string
}{
	{has: []string{"smartauth demo FHIR server", "Demo credentials: made up for this demo", "\nREFRESH_TOKEN="}},
	{},
	{has: []string{`"token_type":"Bearer"`, `"expires_in":3600`, `"patient":"` + patient + `"`, `"encounter":"41e27bbf-e5c2-4261-9f67-ca4676273959"`,
		`"need_patient_banner":true`, `"smart_style_url":"https://launch.smarthealthit.org/smart-style.json"`, `"id_token":"`, `"refresh_token":"`,
		`"resourceType": "Patient"`, `"id": "` + patient + `"`}},
	{has: []string{"HTTP/1.1 401 Unauthorized", `Www-Authenticate: Bearer realm="smartauth"`, `"msg":"smartauth: request refused"`, `"status":401`}},
	{has: []string{`"scope":"launch/patient patient/*.rs"`, `"access_token":"`}},
	{has: []string{"HTTP/1.1 403 Forbidden", `error="insufficient_scope"`, `"total":3`, "obs-glucose-1", "obs-heart-rate-1", "obs-shared-1"},
		hasNot: []string{"obs-other-patient"}},
	{has: []string{`"token_endpoint":"{base}/auth/token"`, `"active":true`, `"client_id":"my-app"`, `"patient":"` + patient + `"`}},
	{has: []string{"200\n", `"error":"invalid_grant"`, "\n{\"active\":false}"}},
	{},
}

// TestReadmeTour runs the shell blocks of README.md's tour, as they are
// written, with sh against a fresh demo started in another directory than
// the repository (with its built-in configuration and data), and checks
// what each prints.
func TestReadmeTour(t *testing.T) {
	for _, tool := range []string{"sh", "curl", "sed", "grep", "tail"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("SMARTAUTH_REQUIRE_SERVICES") == "1" {
				t.Fatalf("%s not installed (SMARTAUTH_REQUIRE_SERVICES=1: not skipping)", tool)
			}
			t.Skipf("%s not installed: the tour needs it", tool)
		}
	}
	md, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	tour, ok := readme.Section(string(md), "## A 5-minute tour")
	require.True(t, ok, "README.md has no tour")
	tour, _, _ = strings.Cut(tour, "\n### ") // the tour proper, without the demo's reference subsections
	var blocks []string
	for _, b := range readme.CodeBlocks(tour) {
		require.Equal(t, "sh", b.Lang, "tour block %q", b.Text)
		blocks = append(blocks, b.Text)
	}
	require.Len(t, blocks, len(tourExpectations), "the tour's blocks changed: update tourExpectations")
	require.True(t, strings.HasPrefix(blocks[0], tourStart+"\n"), "the tour starts with %q", tourStart)
	require.Equal(t, tourStop+"\n", blocks[len(blocks)-1])

	// The demo, in a directory of its own: no testdata/ there.
	dir := t.TempDir()
	t.Chdir(dir)
	out, err := os.Create(filepath.Join(dir, "demo.out"))
	require.NoError(t, err)
	defer out.Close()
	logFile, err := os.Create(filepath.Join(dir, "demo.log"))
	require.NoError(t, err)
	defer logFile.Close()
	logs := &signalWriter{w: logFile, signal: []byte(`"msg":"listening"`), ready: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, out, logs) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	select {
	case <-logs.ready:
	case err := <-done:
		t.Fatalf("the demo stopped: %v", err)
	}
	welcome, err := os.ReadFile("demo.out")
	require.NoError(t, err)
	m := regexp.MustCompile(`FHIR base +http://([0-9.:]+)/fhir\n`).FindSubmatch(welcome)
	require.NotNil(t, m, "no FHIR base URL in:\n%s", welcome)
	addr := string(m[1])
	base := "http://" + addr

	// One shell runs every block but the last, in order, with the demo's
	// address, each block's output after a marker.
	var script strings.Builder
	for i, b := range blocks[:len(blocks)-1] {
		if i == 0 {
			b = strings.TrimPrefix(b, tourStart+"\n")
		}
		fmt.Fprintf(&script, "echo '@@@ block %d'\n%s", i, strings.ReplaceAll(b, tourAddr, addr))
	}
	cmd := exec.CommandContext(t.Context(), "sh", "-eu", "-c", script.String())
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "script:\n%s\nstdout:\n%s\nstderr:\n%s", script.String(), stdout.String(), stderr.String())

	outputs := strings.Split(stdout.String(), "@@@ block ")[1:]
	require.Len(t, outputs, len(blocks)-1, stdout.String())
	for i, o := range outputs {
		o = strings.TrimPrefix(o, fmt.Sprintf("%d\n", i))
		for _, s := range tourExpectations[i].has {
			assert.Contains(t, o, strings.ReplaceAll(s, "{base}", base), "block %d:\n%s", i, blocks[i])
		}
		for _, s := range tourExpectations[i].hasNot {
			assert.NotContains(t, o, s, "block %d:\n%s", i, blocks[i])
		}
	}
	// The demo never logs a token.
	logged, err := os.ReadFile("demo.log")
	require.NoError(t, err)
	for _, tok := range regexp.MustCompile(`"(?:access_token|refresh_token|id_token)":"([^"]+)"`).FindAllStringSubmatch(stdout.String(), -1) {
		assert.NotContains(t, string(logged), tok[1])
	}
}

// signalWriter writes to w and closes ready once a write contains signal.
type signalWriter struct {
	mu     sync.Mutex
	w      *os.File
	signal []byte
	ready  chan struct{}
	seen   bool
}

func (s *signalWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.w.Write(p)
	if !s.seen && bytes.Contains(p, s.signal) {
		s.seen = true
		close(s.ready)
	}
	return n, err
}
