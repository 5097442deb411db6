package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// runStdin runs the command with stdin as its standard input.
func runStdin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := &App{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(stdin), Version: "test",
		Getenv: func(string) string { return "" }}
	code := app.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

// TestLintStdin: the FILE - is standard input, linted as a file of the name --stdin-name gives (its
// annotations telling its format, as a file's do), beside FILE arguments; - twice, --stdin-name without
// -, and empty input are usage errors.
func TestLintStdin(t *testing.T) {
	t.Chdir(t.TempDir())
	code, out, errOut := runStdin(t, "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n", "lint", "-")
	if code != ExitBlocked || !strings.Contains(out, "<stdin>:1:1: dangerous set-not-null") {
		t.Errorf("plain SQL on stdin: exit %d\n%s%s", code, out, errOut)
	}

	// A goose file from an editor: its up section alone, under the buffer's name.
	goose := "-- +goose Up\nCREATE TABLE t (\n  a json\n);\n-- +goose Down\nDROP TABLE users;\n"
	code, out, errOut = runStdin(t, goose, "lint", "--json", "--fail-on", "never", "-", "--stdin-name", "db/20240101_t.sql")
	if code != ExitOK {
		t.Fatalf("goose on stdin: exit %d\n%s%s", code, out, errOut)
	}
	var doc struct{ Findings []struct{ Rule, File string } }
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	rules := map[string]string{}
	for _, f := range doc.Findings {
		rules[f.Rule] = f.File
	}
	if rules["json-column"] != "db/20240101_t.sql" || rules["drop-table"] != "" {
		t.Errorf("want json-column under the given name and nothing from the down section: %v", rules)
	}

	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"SELECT 1;", []string{"lint", "-", "-"}, "can be given once"},
		{"SELECT 1;", []string{"lint", "--stdin-name", "x.sql", "--dir", "."}, "give the FILE - too"},
		{" \n", []string{"lint", "-"}, "<stdin>: empty file"},
		{"SELECT \xff;", []string{"lint", "-", "--stdin-name", "bad.sql"}, "bad.sql:1: file is not valid UTF-8"},
	} {
		code, out, errOut := runStdin(t, tc.stdin, tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, want %d and %q\n%s%s", tc.args, code, ExitUsage, tc.want, out, errOut)
		}
	}
}
