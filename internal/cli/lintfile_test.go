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

// TestLintFileToolTransaction: a FILE argument of a known format (--format, format in schemagate.yml, or
// told by its name) runs in the transaction mode that format's tool gives it, by the folder readers'
// rules, as lint --dir judges it: a file that is one CREATE INDEX CONCURRENTLY runs outside a transaction
// under golang-migrate (one query), Flyway (a script of only non-transactional statements) and psql
// (plain, sqitch), so it is no concurrently-in-transaction, where it was one (exit 3). Where the tool
// runs it in a transaction, it still is; and with no format known, the file is taken to run in one, and
// the finding says how to tell lint the format.
func TestLintFileToolTransaction(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const cic = "SET statement_timeout = '1h';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON users (a);\n"
	for _, sub := range []string{"gm", "fw"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	gm := writeSQL(t, dir, "gm/0005_idx.up.sql", "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON users (a);\n")
	gmDown := writeSQL(t, dir, "gm/0005_idx.down.sql", "DROP INDEX CONCURRENTLY IF EXISTS i;\n")
	gmTwo := writeSQL(t, dir, "gm/0006_two.up.sql", cic)                                                  // one query of two statements: an implicit transaction
	fw := writeSQL(t, dir, "fw/V5__idx.sql", "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON users (a);\n") // a SET would be a transactional statement: Flyway refuses the mix
	fwUndo := writeSQL(t, dir, "fw/U5__idx.sql", "DROP INDEX CONCURRENTLY IF EXISTS i;\n")
	plain := writeSQL(t, dir, "idx.sql", cic)
	goose := writeSQL(t, dir, "00007_idx.sql", "-- +goose Up\n"+cic)
	conf := writeSQL(t, dir, "plain.yml", "format: plain\n")

	outside := []struct {
		name, stdin string
		args        []string
	}{
		{"golang-migrate, told by its name", "", []string{gm}},
		{"--format golang-migrate", "", []string{"--format", "golang-migrate", gm}},
		{"golang-migrate on standard input", "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON users (a);\n",
			[]string{"-", "--stdin-name", "db/migrations/0005_idx.up.sql", "--format", "golang-migrate"}},
		{"golang-migrate down file", "", []string{gmDown}},
		{"Flyway, told by its name", "", []string{fw}},
		{"--format flyway", "", []string{"--format", "flyway", fw}},
		{"Flyway undo script", "", []string{"--format", "flyway", fwUndo}},
		{"--format plain", "", []string{"--format", "plain", fw}},
		{"--format sqitch", "", []string{"--format", "sqitch", plain}},
		{"format: plain in schemagate.yml", "", []string{"--config", conf, plain}},
	}
	for _, tt := range outside {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := runStdin(t, tt.stdin, append([]string{"lint"}, tt.args...)...)
			if code != ExitOK || strings.Contains(out, "concurrently-in-transaction") {
				t.Errorf("exit %d, want 0: its tool runs the file outside a transaction\n%s%s", code, out, errs)
			}
		})
	}

	inside := []struct {
		name string
		args []string
	}{
		{"golang-migrate file of two statements", []string{gmTwo}},
		{"--format atlas", []string{"--format", "atlas", plain}},
		{"goose without NO TRANSACTION", []string{goose}},
	}
	for _, tt := range inside {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := lintRun(t, tt.args...)
			if code != ExitBlocked || !strings.Contains(out, ":1: dangerous concurrently-in-transaction: CREATE INDEX CONCURRENTLY cannot run inside a transaction block: the deploy fails\n") {
				t.Errorf("exit %d, want %d: its tool runs the file in a transaction\n%s%s", code, ExitBlocked, out, errs)
			}
		})
	}

	t.Run("no format known", func(t *testing.T) {
		t.Parallel()
		code, out, errs := lintRun(t, plain)
		if code != ExitBlocked || !strings.Contains(out, "idx.sql:2:1: dangerous concurrently-in-transaction:") ||
			!strings.Contains(out, "not knowing its format; if its tool runs it outside one, give lint the format with --format") ||
			!strings.Contains(out, "or pass --no-transaction") {
			t.Errorf("exit %d, want %d saying how to tell lint the format\n%s%s", code, ExitBlocked, out, errs)
		}
		if code, out, errs := lintRun(t, "--no-transaction", plain); code != ExitOK {
			t.Errorf("--no-transaction: exit %d\n%s%s", code, out, errs)
		}
	})
	t.Run("a name the format's tool does not read", func(t *testing.T) {
		t.Parallel()
		code, out, errs := lintRun(t, "--format", "golang-migrate", plain)
		if code != ExitUsage || !strings.Contains(errs, "read "+plain+" as a golang-migrate migration:") ||
			!strings.Contains(errs, filepath.ToSlash(plain)+": ignored: not a golang-migrate file name") {
			t.Errorf("exit %d, want %d: golang-migrate never runs idx.sql\n%s%s", code, ExitUsage, out, errs)
		}
		code, out, errs = runStdin(t, "select 1;\n", "lint", "-", "--format", "golang-migrate")
		if code != ExitUsage || !strings.Contains(errs, "give it with --stdin-name") {
			t.Errorf("standard input without --stdin-name: exit %d, want %d\n%s%s", code, ExitUsage, out, errs)
		}
	})
}
