// Package readme reads the fenced code blocks of a Markdown document, so
// that tests can hold README.md to the code: every Go snippet must appear,
// compiled, in a _test.go file (TestGoSnippetsAreCompiled), and the tour's
// shell blocks are run against the demo (examples/fhirserver).
//
// It is used by tests only.
//
//	md, _ := os.ReadFile("README.md")
//	tour, _ := readme.Section(string(md), "## A 5-minute tour")
//	for _, b := range readme.CodeBlocks(tour) {
//		if b.Lang == "sh" {
//			run(b.Text)
//		}
//	}
package readme
