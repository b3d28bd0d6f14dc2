package demo

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "copy testdata/demo-config.json and testdata/fhir to defaults/ (go generate)")

// testdataDir is the module's testdata directory, the canonical home of the
// demo's configuration and data.
const testdataDir = "../../../testdata"

// TestDefaultsMatchTestdata: the embedded configuration and data are exact
// copies of testdata/demo-config.json and testdata/fhir/*.json, which the
// other tests use. With -update (go generate) it makes them so.
func TestDefaultsMatchTestdata(t *testing.T) {
	want := map[string]string{"demo-config.json": filepath.Join(testdataDir, "demo-config.json")}
	fhir, err := filepath.Glob(filepath.Join(testdataDir, "fhir", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, fhir)
	for _, f := range fhir {
		want[filepath.Join("fhir", filepath.Base(f))] = f
	}

	if *update {
		require.NoError(t, os.RemoveAll("defaults"))
		require.NoError(t, os.MkdirAll(filepath.Join("defaults", "fhir"), 0o755))
		for dst, src := range want {
			b, err := os.ReadFile(src)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join("defaults", dst), b, 0o644))
		}
		t.Log("defaults/ refreshed: rebuild to embed them")
		return
	}

	have, err := filepath.Glob(filepath.Join("defaults", "fhir", "*.json"))
	require.NoError(t, err)
	have = append(have, filepath.Join("defaults", "demo-config.json"))
	got := map[string]bool{}
	for _, f := range have {
		rel, err := filepath.Rel("defaults", f)
		require.NoError(t, err)
		got[rel] = true
	}
	for rel := range want {
		assert.True(t, got[rel], "defaults/%s is missing: run go generate ./examples/internal/demo", rel)
	}
	for rel := range got {
		_, ok := want[rel]
		assert.True(t, ok, "defaults/%s has no counterpart in testdata: run go generate ./examples/internal/demo", rel)
	}
	for rel, src := range want {
		w, err := os.ReadFile(src)
		require.NoError(t, err)
		// The embedded copy, as the binary sees it.
		g, err := defaults.ReadFile("defaults/" + filepath.ToSlash(rel))
		if assert.NoError(t, err, "defaults/%s is not embedded", rel) {
			assert.Equal(t, string(w), string(g), "defaults/%s differs from %s: run go generate ./examples/internal/demo", rel, src)
		}
	}
}

// TestDefaultConfigAndData: the built-in configuration parses and the data
// loads.
func TestDefaultConfigAndData(t *testing.T) {
	cfg := DefaultConfig()
	require.NotEmpty(t, cfg.Grants)
	assert.Equal(t, "my-app", cfg.Grants[0].ClientID)
	rs, err := loadResources(DefaultData())
	require.NoError(t, err)
	assert.NotNil(t, rs.get("Patient", "783a1f02-5bf9-41c9-90d0-c2c4d35d3ec3"))
	// Each call returns a configuration of its own.
	cfg.Grants = nil
	assert.NotEmpty(t, DefaultConfig().Grants)
}
