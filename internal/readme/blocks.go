package readme

import "strings"

// Block is a fenced code block.
type Block struct {
	// Lang is the info string after the opening fence ("go", "sh"), or "".
	Lang string
	// Text is the content between the fences; each line ends in "\n".
	Text string
	// Line is the line number of the opening fence, from 1.
	Line int
}

// CodeBlocks returns the code blocks of md fenced with ``` at the start of
// a line, in order. A block left open runs to the end of md.
func CodeBlocks(md string) []Block {
	var blocks []Block
	var cur *Block
	var text strings.Builder
	for i, line := range strings.Split(md, "\n") {
		fence := strings.HasPrefix(line, "```")
		switch {
		case cur == nil && fence:
			cur = &Block{Lang: strings.TrimSpace(strings.TrimPrefix(line, "```")), Line: i + 1}
			text.Reset()
		case cur != nil && fence && strings.TrimSpace(line) == "```":
			cur.Text = text.String()
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			text.WriteString(line)
			text.WriteByte('\n')
		}
	}
	if cur != nil {
		cur.Text = text.String()
		blocks = append(blocks, *cur)
	}
	return blocks
}

// Section returns the part of md that starts with the line heading (e.g.
// "## A 5-minute tour") and ends before the next heading of the same or a
// higher level, code blocks excepted. It reports false if there is no such
// line.
func Section(md, heading string) (string, bool) {
	level := len(heading) - len(strings.TrimLeft(heading, "#"))
	lines := strings.Split(md, "\n")
	start := -1
	inCode := false
	for i, line := range lines {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
			continue
		}
		if inCode {
			continue
		}
		if start < 0 {
			if line == heading {
				start = i
			}
			continue
		}
		if l := len(line) - len(strings.TrimLeft(line, "#")); l > 0 && l <= level && strings.HasPrefix(line[l:], " ") {
			return strings.Join(lines[start:i], "\n"), true
		}
	}
	if start < 0 {
		return "", false
	}
	return strings.Join(lines[start:], "\n"), true
}

// Normalize returns code with each line trimmed of surrounding white space
// and blank lines removed, so that a snippet can be found in a file that
// indents it differently.
func Normalize(code string) string {
	var out []string
	for _, line := range strings.Split(code, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
