package readme

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCodeBlocks(t *testing.T) {
	md := "# T\n\ntext\n\n```go\nfunc f() {}\n\n\tx := 1\n```\n\n```sh\necho hi\n```\n```\nplain\n```\n```sh\nopen"
	assert.Equal(t, []Block{
		{Lang: "go", Text: "func f() {}\n\n\tx := 1\n", Line: 5},
		{Lang: "sh", Text: "echo hi\n", Line: 11},
		{Lang: "", Text: "plain\n", Line: 14},
		{Lang: "sh", Text: "open\n", Line: 17},
	}, CodeBlocks(md))
	assert.Empty(t, CodeBlocks("no code\n"))
}

func TestSection(t *testing.T) {
	md := "# Top\n## A\na\n```sh\n## not a heading\n```\n### A.1\nsub\n## B\nb\n"
	got, ok := Section(md, "## A")
	assert.True(t, ok)
	assert.Equal(t, "## A\na\n```sh\n## not a heading\n```\n### A.1\nsub", got)
	got, ok = Section(md, "### A.1")
	assert.True(t, ok)
	assert.Equal(t, "### A.1\nsub", got)
	got, ok = Section(md, "## B")
	assert.True(t, ok)
	assert.Equal(t, "## B\nb\n", got)
	_, ok = Section(md, "## C")
	assert.False(t, ok)
}

func TestNormalize(t *testing.T) {
	assert.Equal(t, "a := 1\nif a {\n}", Normalize("\n\t\ta := 1  \n\n\t\tif a {\n\t\t}\n"))
}
