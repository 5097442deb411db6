package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
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

// TestCleanErrorKeepsTheToolsLineBreaks: the hint line a message ends with and the indented lines of a
// list (pgx's addresses) are printed as lines, not as a literal \n; a line break that the quoted text
// brings is escaped, and none of these breaks ever starts a line that the runner would read as a
// workflow command (it trims leading white space, Unicode spaces included).
func TestCleanErrorKeepsTheToolsLineBreaks(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantLines []string
		wantIn    []string
	}{
		{
			name:      "hint",
			err:       fmt.Errorf("start throwaway database: %w", fmt.Errorf("%w\nhint: the image schemagate/nosuch:1 could not be pulled", errors.New("lookup registry: no such host"))),
			wantLines: []string{"start throwaway database: lookup registry: no such host", "hint: the image schemagate/nosuch:1 could not be pulled"},
		},
		{
			name:      "pgx addresses",
			err:       errors.New("connect to postgres://h:1/x: failed to connect to `user=u database=x`:\n\t127.0.0.1:1 (127.0.0.1): dial error\n\t[::1]:1 (::1): dial error (is the server running?)"),
			wantLines: []string{"connect to postgres://h:1/x: failed to connect to `user=u database=x`:", "\t127.0.0.1:1 (127.0.0.1): dial error", "\t[::1]:1 (::1): dial error (is the server running?)"},
		},
		{
			name:   "quoted newline",
			err:    errors.New("read 1_x\n::add-mask::secret.sql: bad"),
			wantIn: []string{`1_x\n::add-mask::secret.sql`},
		},
		{
			name:   "quoted breaks that would start a command",
			err:    fmt.Errorf("%w\nhint: do it", errors.New("ERROR: boom\n  ::add-mask::a\n\t::error::b\n \u00a0\u2003::set-output name=risk::safe\nhint: ::stop-commands::x")),
			wantIn: []string{`boom\n  ::add-mask::a\n` + "\t" + `::error::b\n ` + "\u00a0\u2003::set-output", "hint: ::stop-commands::x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cleanError(tt.err)
			lines := strings.Split(got, "\n")
			for _, w := range tt.wantLines {
				if !slices.Contains(lines, w) {
					t.Errorf("no line %q in:\n%s", w, got)
				}
			}
			for _, w := range tt.wantIn {
				if !strings.Contains(got, w) {
					t.Errorf("%q not in:\n%s", w, got)
				}
			}
			for _, l := range lines {
				if strings.HasPrefix(strings.TrimLeftFunc(l, unicode.IsSpace), "::") {
					t.Errorf("line %q would be read as a workflow command:\n%s", l, got)
				}
			}
		})
	}
}

// TestCheckErrorHintOnItsOwnLine: the connect error of the url provider lists pgx's addresses on lines
// of their own, not joined by a literal \n\t.
func TestCheckErrorHintOnItsOwnLine(t *testing.T) {
	code, out, errOut := run(t, nil, "check", "--dir", "../../examples/shop", "-q", "--provider", "url", "--database-url", "postgres://u@127.0.0.1:1/x?password=pw")
	if code != ExitFailure && code != ExitUsage {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(errOut, `\n`) || !strings.Contains(errOut, "\n\t127.0.0.1:1") {
		t.Errorf("the addresses are not on lines of their own:\n%s", errOut)
	}
	if strings.Contains(errOut, "password=pw") {
		t.Errorf("the password is shown:\n%s", errOut)
	}
	noCommandLines(t, "check", out+errOut)
}

// TestTextOutputShowsInvisibleCharacters: a bidi control in a name (Trojan Source: text that reads
// otherwise than it runs) and a byte-order mark the server quotes back are written out, not passed on
// invisibly.
func TestTextOutputShowsInvisibleCharacters(t *testing.T) {
	dir := t.TempDir()
	writeSQL(t, dir, "1_a.up.sql", "ALTER TABLE t ADD COLUMN \"admin\u202e \u2066-- ok\u2069\u200b\" int NOT NULL DEFAULT random();\n")
	code, out, errOut := lintRun(t, "--dir", dir, "--fail-on", "never")
	if code != ExitOK || !strings.Contains(out, `admin\u202e \u2066-- ok\u2069\u200b`) || strings.ContainsAny(out, "\u202e\u2066\u2069\u200b") {
		t.Errorf("lint: exit %d, want the invisible characters written out\n%s%s", code, out, errOut)
	}
	if got := clean("syntax error at or near \"\ufeffCREATE\""); got != `syntax error at or near "\ufeffCREATE"` {
		t.Errorf("clean: %q", got)
	}
}

// TestTextOutputEscapesTabs: a tab in what the text output quotes (a file name, a server's hint) used to
// be printed raw, unlike every other control character; the tab that indents one of schemagate's own
// lines (pgx's list of addresses) stays.
func TestTextOutputEscapesTabs(t *testing.T) {
	if got, want := cleanError(errors.New("connect: failed:\n\t127.0.0.1:1 (a\tb): dial error")), "connect: failed:\n\t127.0.0.1:1 (a\\tb): dial error"; got != want {
		t.Errorf("cleanError = %q, want %q", got, want)
	}
	dir := t.TempDir()
	writeSQL(t, dir, "1_tab\tname.up.sql", "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n")
	code, out, errOut := lintRun(t, "--dir", dir, "--fail-on", "never")
	if code != ExitOK || !strings.Contains(out, `1_tab\tname.up.sql:1:1:`) || strings.Contains(out+errOut, "\t") {
		t.Errorf("lint: exit %d, want the file name's tab escaped\n%s%s", code, out, errOut)
	}

	requirePG(t)
	mig := t.TempDir()
	writeSQL(t, mig, "1_tab\tname.up.sql", "DO $$BEGIN RAISE EXCEPTION 'x' USING HINT = E'a\\tb'; END$$;\n")
	code, out, errOut = run(t, nil, "check", "-q", "--dir", mig)
	for _, want := range []string{`1_tab\tname  (`, `1_tab\tname.up.sql:1:6: error: x`, `hint: a\tb`} {
		if !strings.Contains(out, want) {
			t.Errorf("check: exit %d, want %q\n%s%s", code, want, out, errOut)
		}
	}
	if strings.Contains(out+errOut, "\t") {
		t.Errorf("check: a raw tab in the output:\n%s%s", out, errOut)
	}
}
