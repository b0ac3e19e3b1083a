package docscheck

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sourceLink is a markdown link to a Go or TypeScript file of the
// repository.
var sourceLink = regexp.MustCompile(`\]\(((?:\.\./)?[\w./-]+\.(?:go|ts))\)`)

// TestSnippetsComeFromCode checks every ```go or ```ts block whose
// preceding paragraph links a .go or .ts file: its lines, indentation
// aside, must appear consecutively in that file.
func TestSnippetsComeFromCode(t *testing.T) {
	root := filepath.Join("..", "..")
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, md := range append(files, filepath.Join(root, "README.md")) {
		checked += checkFile(t, md)
	}
	if checked == 0 {
		t.Fatal("no snippet names its source: the check found nothing to check")
	}
}

// checkFile checks the snippets of one markdown file and returns how many
// named their source.
func checkFile(t *testing.T, md string) int {
	text, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(text), "\n")
	checked := 0
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```go" && lines[i] != "```ts" {
			continue
		}
		end := i + 1
		for end < len(lines) && lines[end] != "```" {
			end++
		}
		if srcs := linkedSources(lines, i); len(srcs) > 0 {
			if !excerptOfAny(t, filepath.Dir(md), srcs, lines[i+1:end]) {
				t.Errorf("%s:%d: the snippet is not an excerpt of %v (copy it again from the code)", md, i+1, srcs)
			}
			checked++
		}
		i = end
	}
	return checked
}

func excerptOfAny(t *testing.T, dir string, srcs, snippet []string) bool {
	for _, src := range srcs {
		code, err := os.ReadFile(filepath.Join(dir, src))
		if err != nil {
			t.Errorf("the snippet names %s: %v", src, err)
			continue
		}
		if excerpt(strings.Split(string(code), "\n"), snippet) {
			return true
		}
	}
	return false
}

// linkedSources returns the .go files linked in the paragraph just before
// line i (up to a blank line or another code block).
func linkedSources(lines []string, i int) []string {
	var srcs []string
	for j := i - 1; j >= 0 && j >= i-8; j-- {
		l := lines[j]
		if strings.HasPrefix(l, "```") || strings.TrimSpace(l) == "" && j < i-1 {
			break
		}
		for _, m := range sourceLink.FindAllStringSubmatch(l, -1) {
			srcs = append(srcs, m[1])
		}
	}
	return srcs
}

// excerpt reports whether each part of snippet (parts are separated by
// blank lines) appears in code, in order.
func excerpt(code, snippet []string) bool {
	from := 0
	var part []string
	for k := 0; k <= len(snippet); k++ {
		if k < len(snippet) && strings.TrimSpace(snippet[k]) != "" {
			part = append(part, snippet[k])
			continue
		}
		if len(part) == 0 {
			continue
		}
		at := indexLines(code[from:], part)
		if at < 0 {
			return false
		}
		from += at + len(part)
		part = nil
	}
	return true
}

// indexLines returns where snippet starts in code, indentation aside, or -1.
func indexLines(code, snippet []string) int {
	norm := func(s string) string { return strings.TrimSpace(s) }
	for start := 0; start+len(snippet) <= len(code); start++ {
		ok := true
		for k, l := range snippet {
			if norm(code[start+k]) != norm(l) {
				ok = false
				break
			}
		}
		if ok {
			return start
		}
	}
	return -1
}
