package report

import (
	"regexp"
	"strings"
	"testing"
)

var unescapedPipe = regexp.MustCompile(`(^|[^\\])\|`)

// FuzzEscape checks the escapers' invariants on any input: one line, no raw HTML or comment opener, no
// leading "/", no unescaped pipe, and a fence that the content cannot close.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "/merge", "a|b", "<!-- x -->", "```", "@org/team", "</details>", "\\|", "a\n/b", "x\u202e-- y\u2066"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, out := range map[string]string{"Text": Text(s), "Code": Code(s), "HTMLCode": HTMLCode(s)} {
			if strings.ContainsAny(out, "\n\r") {
				t.Errorf("%s(%q) spans lines: %q", name, s, out)
			}
			if strings.Contains(out, "<!--") || strings.Contains(out, "-->") {
				t.Errorf("%s(%q) holds a comment delimiter: %q", name, s, out)
			}
			if strings.HasPrefix(out, "/") {
				t.Errorf("%s(%q) starts with /: %q", name, s, out)
			}
		}
		if out := Text(s); strings.ContainsAny(out, "<>") || unescapedPipe.MatchString(out) {
			t.Errorf("Text(%q) = %q", s, out)
		}
		if out := CodeCell(s); unescapedPipe.MatchString(out) {
			t.Errorf("CodeCell(%q) has an unescaped pipe: %q", s, out)
		}
		if out := Code(s); strings.Contains(out, `\|`) && !strings.Contains(s, `\|`) {
			t.Errorf("Code(%q) = %q: a backslash outside a table cell shows", s, out)
		}
		fence := Fence(s, "sql")
		lines := strings.Split(strings.TrimSuffix(fence, "\n"), "\n")
		open := strings.TrimSuffix(lines[0], "sql")
		for _, l := range lines[1 : len(lines)-1] {
			if strings.HasPrefix(strings.TrimLeft(l, " "), open) {
				t.Errorf("Fence(%q): inner line %q closes the fence", s, l)
			}
		}
		if lines[len(lines)-1] != open {
			t.Errorf("Fence(%q) does not end with its opener", s)
		}
		for name, out := range map[string]string{"Text": Text(s), "Code": Code(s), "Fence": fence} {
			if strings.ContainsFunc(out, isBidi) {
				t.Errorf("%s(%q) passes a bidi control on: %q", name, s, out)
			}
		}
	})
}

// TestBidiControlsShown: a bidi control in untrusted text (Trojan Source) is written out in the
// comment, in prose, code spans and SQL blocks alike.
func TestBidiControlsShown(t *testing.T) {
	s := "SELECT 1; /* admin\u202e \u2066*/ DROP TABLE users;"
	for name, out := range map[string]string{"Text": Text(s), "Code": Code(s), "Fence": Fence(s, "sql")} {
		if !strings.Contains(out, "u202e") || !strings.Contains(out, "u2066") || strings.ContainsFunc(out, isBidi) {
			t.Errorf("%s: %q", name, out)
		}
	}
}
