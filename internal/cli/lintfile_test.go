package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLintFileSections: a goose, dbmate or sql-migrate file given as FILE holds its down after its up;
// lint judges the up section alone, as lint --dir does, and not the down as if it ran after the up.
// --format applies to FILE arguments too.
func TestLintFileSections(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const up = "alter table users add column x text;\n\n"
	const down = "alter table users drop column x;\ndrop table legacy;\n"
	goose := writeSQL(t, dir, "00002_x.sql", "-- +goose Up\n"+up+"-- +goose Down\n"+down)
	dbmate := writeSQL(t, dir, "20240101000000_x.sql", "-- migrate:up\n"+up+"-- migrate:down\n"+down)
	sqlMigrate := writeSQL(t, dir, "3_x.sql", "-- +migrate Up\n"+up+"-- +migrate Down\n"+down)
	noTx := writeSQL(t, dir, "00004_idx.sql", "-- +goose NO TRANSACTION\n-- +goose Up\nSET lock_timeout = '1s';\nSET statement_timeout = '1min';\ncreate index concurrently i on users (x);\n-- +goose Down\ndrop index concurrently i;\n")
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"goose", []string{goose}},
		{"dbmate", []string{dbmate}},
		{"sql-migrate", []string{sqlMigrate}},
		{"--format goose", []string{"--format", "goose", goose}},
		{"several", []string{goose, dbmate, sqlMigrate}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := lintRun(t, append(tt.args, "--fail-on", "never")...)
			if code != ExitOK || !strings.Contains(out, ":2:1: safe add-column-nullable") {
				t.Errorf("exit %d, want 0 with the up's finding\n%s%s", code, out, errs)
			}
			for _, no := range []string{"drop-table", "drop-column", ":5:", ":6:"} {
				if strings.Contains(out, no) {
					t.Errorf("a finding of the down (%s):\n%s", no, out)
				}
			}
		})
	}
	t.Run("NO TRANSACTION", func(t *testing.T) {
		t.Parallel()
		code, out, errs := lintRun(t, noTx)
		if code != ExitOK || strings.Contains(out, "concurrently-in-transaction") || strings.Contains(out, "drop-index") {
			t.Errorf("exit %d, want 0: CREATE INDEX CONCURRENTLY outside a transaction\n%s%s", code, out, errs)
		}
	})
	t.Run("--format goose on a dbmate file", func(t *testing.T) {
		t.Parallel()
		code, out, errs := lintRun(t, "--format", "goose", dbmate)
		if code != ExitUsage || !strings.Contains(errs, "as a goose migration") || !strings.Contains(errs, "+goose Up") {
			t.Errorf("exit %d, want %d saying it is no goose migration\n%s%s", code, ExitUsage, out, errs)
		}
	})
	t.Run("plain file", func(t *testing.T) {
		t.Parallel()
		plain := writeSQL(t, dir, "plain.sql", up+down)
		code, out, errs := lintRun(t, plain, "--fail-on", "never")
		if code != ExitOK || !strings.Contains(out, "plain.sql:4:1: dangerous drop-table") {
			t.Errorf("exit %d: a plain file is one migration, all of it\n%s%s", code, out, errs)
		}
	})
}

// TestLintRuleErrorsOnePerLine: every bad --rule is an error on a line of its own, worded as check words
// it, in the order of the flags (they used to share one line, joined by a literal \n).
func TestLintRuleErrorsOnePerLine(t *testing.T) {
	t.Parallel()
	f := writeSQL(t, t.TempDir(), "m.sql", "select 1;\n")
	code, _, errs := lintRun(t, f, "--rule", "foo=bar", "--rule", "baz=qux", "--rule", "drop-tabel=off", "--rule", "x")
	want := "schemagate: --rule: unknown rule id \"foo\"\n" +
		"  --rule: unknown class \"bar\" (want off, safe, caution or dangerous)\n" +
		"  --rule: unknown rule id \"baz\"\n" +
		"  --rule: unknown class \"qux\" (want off, safe, caution or dangerous)\n" +
		"  --rule: unknown rule id \"drop-tabel\" (did you mean \"drop-table\"?)\n" +
		"  --rule \"x\": want id=class\n"
	if code != ExitUsage || !strings.HasPrefix(errs, want) {
		t.Errorf("exit %d\nstderr: %q\nwant   %q", code, errs, want)
	}
	// The same flags to check: the same words, in the same order.
	code, _, errs = run(t, nil, "check", "-q", "--dir", "testdata/lint/migrations", "--rule", "foo=bar", "--rule", "baz=qux", "--rule", "drop-tabel=off")
	if want := strings.TrimSuffix(want, "  --rule \"x\": want id=class\n"); code != ExitUsage || !strings.HasPrefix(errs, want) {
		t.Errorf("check: exit %d\nstderr: %q\nwant   %q", code, errs, want)
	}
	// A rule named in another case is the rule.
	risky := writeSQL(t, t.TempDir(), "r.sql", "SET lock_timeout = '1s';\nSET statement_timeout = '1min';\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n")
	if code, out, errs := lintRun(t, risky, "--rule", "Set-Not-Null=OFF"); code != ExitOK || strings.Contains(out, "set-not-null") {
		t.Errorf("--rule Set-Not-Null=OFF: exit %d\n%s%s", code, out, errs)
	}
}

// TestCLIUsageWords: assorted usage errors say what is wrong and exit 2.
func TestCLIUsageWords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := writeSQL(t, dir, "m.sql", "select 1;\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown help topic", []string{"help", "nosuch"}, `schemagate: unknown help topic "nosuch"`},
		{"misspelt help topic", []string{"help", "chek"}, "did you mean check?"},
		{"stray argument", []string{"check", "extra-arg", "--dir", dir}, `schemagate: schemagate check takes no arguments: unexpected argument "extra-arg"`},
		{"lint pg version", []string{"lint", f, "--pg-version", "8.4"}, "schemagate: --pg-version: PostgreSQL version 8.4 is not supported (want 9 to 30, such as 15 or 14.2)"},
		{"lint pg version 40", []string{"lint", f, "--pg-version", "40"}, "PostgreSQL version 40 is not supported (want 9 to 30"},
		{"lint a folder", []string{"lint", dir}, "schemagate: " + dir + " is a folder: lint takes a migration folder with --dir " + dir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := run(t, nil, tt.args...)
			if code != ExitUsage || !strings.Contains(errs, tt.want) {
				t.Errorf("%v: exit %d, want %d saying %q\n%s%s", tt.args, code, ExitUsage, tt.want, out, errs)
			}
		})
	}
}

// TestImageIgnoredWarns: --image chooses the docker provider's container; with another provider it does
// nothing, and says so.
func TestImageIgnoredWarns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mig := filepath.Join(dir, "m")
	if err := os.Mkdir(mig, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSQL(t, mig, "1_a.up.sql", "CREATE TABLE t (id bigint);\n")
	want := "schemagate: --image applies to --provider docker only: ignored with --provider url\n"
	// No server answers: the warning comes before the rehearsal.
	_, _, errs := run(t, nil, "check", "-q", "--dir", mig, "--provider", "url", "--database-url", "postgres://127.0.0.1:1/x", "--image", "postgres:16")
	if !strings.Contains(errs, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errs)
	}
	_, _, errs = run(t, nil, "check", "-q", "--dir", mig, "--provider", "docker", "--database-url", "postgres://127.0.0.1:1/x", "--image", "postgres:16", "--pg-version", "99")
	if strings.Contains(errs, "--image applies") {
		t.Errorf("a warning with --provider docker:\n%s", errs)
	}
}
