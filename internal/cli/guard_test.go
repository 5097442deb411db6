package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
