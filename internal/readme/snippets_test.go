package readme

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// moduleRoot is the repository root, relative to this package.
const moduleRoot = "../.."

// TestGoSnippetsAreCompiled: every Go code block of README.md appears, up
// to indentation and blank lines, in a _test.go file of the module (an
// Example function or a test), so that it compiles with the code and the
// README cannot drift from the API.
func TestGoSnippetsAreCompiled(t *testing.T) {
	md, err := os.ReadFile(filepath.Join(moduleRoot, "README.md"))
	require.NoError(t, err)
	var tests []string
	err = filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != moduleRoot && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata"):
			return filepath.SkipDir
		case !d.IsDir() && strings.HasSuffix(path, "_test.go"):
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			tests = append(tests, Normalize(string(b)))
		}
		return nil
	})
	require.NoError(t, err)

	n := 0
	for _, b := range CodeBlocks(string(md)) {
		if b.Lang != "go" {
			continue
		}
		n++
		snippet := Normalize(b.Text)
		found := false
		for _, f := range tests {
			if strings.Contains(f, snippet) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("README.md:%d: this Go snippet is in no _test.go file; put it in an Example function or a test so that it is compiled:\n%s", b.Line, b.Text)
		}
	}
	require.GreaterOrEqual(t, n, 5, "README.md should have its Go snippets")
}
