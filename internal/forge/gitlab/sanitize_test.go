package gitlab

import (
	"strings"
	"testing"
	"unicode"
)

// commandLines returns the lines whose first non-whitespace rune is '/': the lines GitLab could take
// as quick actions, under the most generous reading of its extractor.
func commandLines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if strings.HasPrefix(strings.TrimLeftFunc(l, unicode.IsSpace), "/") {
			out = append(out, l)
		}
	}
	return out
}

func TestSanitizeNote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain text unchanged", "## Report\n\n| a | b |\n|---|---|\n", "## Report\n\n| a | b |\n|---|---|\n"},
		{"slash inside a line unchanged", "see db/migrations/001.sql and a/b", "see db/migrations/001.sql and a/b"},
		{"merge", "/merge", zwsp + "/merge"},
		{"approve after text", "ok\n/approve\nbye", "ok\n" + zwsp + "/approve\nbye"},
		{"indented label", " /label ~safe", " " + zwsp + "/label ~safe"},
		{"tab then command", "\t/assign_reviewer @m", "\t" + zwsp + "/assign_reviewer @m"},
		{"non-breaking space", "\u00a0/merge", "\u00a0" + zwsp + "/merge"},
		{"inside our fence too", "```sql\n/* comment */\nSELECT 1;\n```", "```sql\n" + zwsp + "/* comment */\nSELECT 1;\n```"},
		{"inside a >>> quote", ">>>\n/approve\n>>>", ">>>\n" + zwsp + "/approve\n>>>"},
		{"inside an HTML block", "<details>\n/unapprove\n</details>", "<details>\n" + zwsp + "/unapprove\n</details>"},
		{"CRLF", "a\r\n/merge\r\n", "a\n" + zwsp + "/merge\n"},
		{"lone CR", "a\r/merge", "a\n" + zwsp + "/merge"},
		{"indented fence is not ours", "  ```\n/merge\n  ```", zwsp + "  ```\n" + zwsp + "/merge\n" + zwsp + "  ```"},
		{"indented closer cannot close ours", "```\ncode\n ```\nmore\n```", "```\ncode\n" + zwsp + " ```\nmore\n```"},
		{"unclosed fence closed", "```sql\nDROP TABLE x;", "```sql\nDROP TABLE x;\n```"},
		{"longer fence holds a shorter one", "````\n```\n/x\n```\n````", "````\n```\n" + zwsp + "/x\n```\n````"},
		{"tilde fence", "~~~\n/merge\n~~~", "~~~\n" + zwsp + "/merge\n~~~"},
		{"backtick info with backtick is no fence", "``` a`b\n/merge", "``` a`b\n" + zwsp + "/merge"},
		{"already neutral", zwsp + "/merge", zwsp + "/merge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := SanitizeNote(tt.in)
			if got != tt.want {
				t.Errorf("SanitizeNote(%q) =\n%q\nwant\n%q", tt.in, got, tt.want)
			}
			if cl := commandLines(got); len(cl) > 0 {
				t.Errorf("SanitizeNote(%q) keeps command lines %q", tt.in, cl)
			}
			if again := SanitizeNote(got); again != got {
				t.Errorf("SanitizeNote is not idempotent: %q then %q", got, again)
			}
		})
	}
}

func FuzzSanitizeNote(f *testing.F) {
	for _, s := range []string{
		"/merge", "a\n /approve", "```\n/x\n```\n/y", "  ```\n/merge\n```", "<div>\n```\n\n/merge\n```",
		">>>\n/approve\n>>>", "a\r/close", "\u2028/merge", "````\n```\n/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := SanitizeNote(s)
		if cl := commandLines(got); len(cl) > 0 {
			t.Fatalf("SanitizeNote(%q) = %q keeps command lines %q", s, got, cl)
		}
		if again := SanitizeNote(got); again != got {
			t.Fatalf("SanitizeNote not idempotent on %q: %q then %q", s, got, again)
		}
		// Nothing but zero-width spaces and a final closing fence is added.
		norm := strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
		norm = strings.ReplaceAll(norm, zwsp, "")
		stripped := strings.ReplaceAll(got, zwsp, "")
		if rest, ok := strings.CutPrefix(stripped, norm); !ok || strings.Trim(rest, "\n`~") != "" {
			t.Fatalf("SanitizeNote(%q) = %q changed more than line starts", s, got)
		}
	})
}
