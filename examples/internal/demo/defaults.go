package demo

import (
	"embed"
	"fmt"
	"io/fs"
)

// The built-in configuration and FHIR data are copies of the module's
// testdata/demo-config.json and testdata/fhir (embedding needs them below
// this package). TestDefaultsMatchTestdata fails when they differ;
// go generate refreshes them.
//
//go:generate go test -run ^TestDefaultsMatchTestdata$ -update .
//go:embed defaults/demo-config.json defaults/fhir/*.json
var defaults embed.FS

// DefaultConfig returns the built-in configuration (testdata/demo-config.json
// of the module), freshly parsed: the caller may edit it.
func DefaultConfig() *Config {
	b, err := defaults.ReadFile("defaults/demo-config.json")
	if err != nil {
		panic(fmt.Sprintf("demo: built-in configuration: %v", err))
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		panic(fmt.Sprintf("demo: built-in configuration: %v", err))
	}
	return cfg
}

// DefaultData returns the built-in FHIR resources (testdata/fhir of the
// module), one *.json file per resource at the root of the file system.
func DefaultData() fs.FS {
	sub, err := fs.Sub(defaults, "defaults/fhir")
	if err != nil {
		panic(fmt.Sprintf("demo: built-in data: %v", err))
	}
	return sub
}
