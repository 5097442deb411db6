package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// TestWorkflowCommandsFromFileNamesAreDefused: on GitHub Actions, a migration whose file name holds a
// newline and a workflow command must not make the runner execute it (a line starting with "::").
func TestWorkflowCommandsFromFileNamesAreDefused(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "1_x\n::add-mask::secret\n##[error]x.up.sql")
	if err := os.WriteFile(name, []byte("DROP TABLE users;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, env := range []map[string]string{{"GITHUB_ACTIONS": "true"}, nil} {
		code, out, errOut := run(t, env, "lint", name)
		if code != ExitBlocked {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		executable := false
		for _, l := range strings.Split(out+errOut, "\n") {
			executable = executable || strings.HasPrefix(strings.TrimSpace(l), "::") || strings.Contains(l, "##[")
		}
		if onActions := env != nil; executable == onActions {
			t.Errorf("GITHUB_ACTIONS=%v: lines the runner would execute: %v, want %v\n%s%s", onActions, executable, !onActions, out, errOut)
		}
		if !strings.Contains(out, "drop-table") {
			t.Errorf("the finding is lost:\n%s", out)
		}
	}
}

func TestDefuse(t *testing.T) {
	for in, want := range map[string]string{
		"plain line\n":                     "plain line\n",
		"a::b\n":                           "a::b\n",
		"::error::x\n  ::warning::y\nok\n": "(quoted) ::error::x\n(quoted)   ::warning::y\nok\n",
		"see ##[group]x":                   "see #\u200b#[group]x",
	} {
		if got := defuse(in); got != want {
			t.Errorf("defuse(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDefuseAsTheRunnerReadsLines: the runner reads a line up to "\n" or "\r" (.NET ReadLine) and trims
// any Unicode white space (.NET TrimStart) before it looks for "::": text from the pull request with a
// lone carriage return or a no-break space before a command (a string literal of generated rollback
// SQL, a function body) must not start a line the runner executes.
func TestDefuseAsTheRunnerReadsLines(t *testing.T) {
	for _, in := range []string{
		"-- rollback\r::add-mask::x\n",
		"SELECT 'a\r\r::error::forged';\n",
		"\u00a0::add-mask::x\n",
		"ok\n\u3000\u2003::error::x\n",
		"\u2028::warning::y\n",
		"\u0085::warning::y\n",
		"text\r  ::set-output name=risk::safe",
	} {
		out := defuse(in)
		for _, line := range strings.FieldsFunc(out, func(r rune) bool { return r == '\n' || r == '\r' }) {
			if strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "::") {
				t.Errorf("defuse(%q) = %q: the runner executes %q", in, out, line)
			}
		}
		if strings.Count(out, "\r") != strings.Count(in, "\r") || !strings.Contains(out, "(quoted)") {
			t.Errorf("defuse(%q) = %q: want each line kept, the command's quoted", in, out)
		}
	}
}
