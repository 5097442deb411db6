package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noCommandLines fails when out has a line that starts with a workflow command or holds a raw escape.
func noCommandLines(t *testing.T, what, out string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "::") || strings.ContainsAny(l, "\x1b\r") {
			t.Errorf("%s: line %q starts a workflow command or holds a control character:\n%s", what, l, out)
		}
	}
}

// TestTextOutputEscapesControlCharacters: names, SQL and server messages from the pull request are
// printed with their newlines and other control characters escaped, so none starts a line of its own
// (a workflow command) or moves a terminal's cursor.
func TestTextOutputEscapesControlCharacters(t *testing.T) {
	dir := t.TempDir()
	writeSQL(t, dir, "1_e\x1b[2J.up.sql", "ALTER TABLE t ADD COLUMN \"x\n::stop-commands::pwn\n::error::forged\" int NOT NULL DEFAULT random();\n")
	code, out, errOut := lintRun(t, "--dir", dir, "--fail-on", "never")
	if code != ExitOK || !strings.Contains(out, `x\n::stop-commands::pwn\n::error::forged`) || !strings.Contains(out, `1_e\x1b[2J.up.sql`) {
		t.Errorf("lint: exit %d, want the name and the file escaped\n%s%s", code, out, errOut)
	}
	noCommandLines(t, "lint", out+errOut)

	bad := t.TempDir()
	writeSQL(t, bad, "2_x\n::add-mask::secret.down.sql", "SELECT 1;\n")
	code, out, errOut = lintRun(t, "--dir", bad)
	if code != ExitUsage || !strings.Contains(errOut, `2_x\n::add-mask::secret`) {
		t.Errorf("lint of a bad folder: exit %d, want 2 naming the file escaped\n%s%s", code, out, errOut)
	}
	noCommandLines(t, "lint error", out+errOut)

	requirePG(t)
	mig := t.TempDir()
	writeSQL(t, mig, "1_boom.up.sql", "DO $$BEGIN RAISE EXCEPTION E'boom\\n::add-mask::hello' USING HINT = E'h\\n::set-output name=risk::safe'; END$$;\n")
	writeSQL(t, mig, "1_boom.down.sql", "SELECT 1;\n")
	code, out, errOut = run(t, nil, "check", "--dir", mig)
	if code != ExitBlocked || !strings.Contains(out, `boom\n::add-mask::hello`) || !strings.Contains(out, `h\n::set-output name=risk::safe`) {
		t.Errorf("check: exit %d, want the server's message and hint escaped\n%s%s", code, out, errOut)
	}
	noCommandLines(t, "check", out+errOut)
	if _, err := os.Stat(filepath.Join(mig, "1_boom.up.sql")); err != nil {
		t.Fatal(err)
	}
}

// TestReadErrorsOnTheirOwnLines: the read errors of a folder are each on a line of their own (the line
// break between them is schemagate's), while a newline inside a file name is still escaped.
func TestReadErrorsOnTheirOwnLines(t *testing.T) {
	dir := t.TempDir()
	writeSQL(t, dir, "00001_a.sql", "-- +goose Up\n-- +goose Foo\nSELECT 1;\n")
	writeSQL(t, dir, "00002_b\n::error::x.sql", "-- +goose Up\n-- +goose Bar\nSELECT 1;\n")
	check := func(what string, code int, out, errOut string) {
		t.Helper()
		var a, b bool
		for _, l := range strings.Split(errOut, "\n") {
			a = a || strings.Contains(l, `00001_a.sql:2: unknown goose annotation "Foo"`) && !strings.Contains(l, "Bar")
			b = b || strings.Contains(l, `00002_b\n::error::x.sql:2: unknown goose annotation "Bar"`) && !strings.Contains(l, "Foo")
		}
		if code != ExitUsage || !a || !b || strings.Contains(errOut, `\n00002`) {
			t.Errorf("%s: exit %d, want each error on its own line, the file name escaped\n%s%s", what, code, out, errOut)
		}
		noCommandLines(t, what, out+errOut)
	}
	code, out, errOut := lintRun(t, "--dir", dir)
	check("lint", code, out, errOut)
	code, out, errOut = run(t, nil, "check", "--dir", dir, "--provider", "url", "--database-url", "postgres://127.0.0.1:1/x", "-q")
	check("check", code, out, errOut)
}
