package rehearse_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestGolangMigrateMultiStatement: golang-migrate sends a file as one query, one implicit transaction,
// where CREATE INDEX CONCURRENTLY after another statement fails (25001); with x-multi-statement it sends
// each statement alone, and the same file applies. A function body cut at its ';' fails under
// x-multi-statement, as golang-migrate sends its pieces as statements of their own.
func TestGolangMigrateMultiStatement(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"1_a.up.sql":   "CREATE TABLE a (id bigint);",
		"1_a.down.sql": "DROP TABLE a;",
		"2_i.up.sql":   "CREATE TABLE b (id bigint);\nCREATE INDEX CONCURRENTLY a_i ON a (id);\n",
		"2_i.down.sql": "DROP INDEX CONCURRENTLY a_i;\nDROP TABLE b;\n",
	} {
		writeTestFile(t, filepath.Join(dir, name), body)
	}
	run := func(t *testing.T, dir string, opts migrate.Options) *report.Report {
		t.Helper()
		set, err := migrate.ReadWith(os.DirFS(dir), migrate.FormatGolangMigrate, opts)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: provider(t)})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	t.Run("one query", func(t *testing.T) {
		m := migration(t, run(t, dir, migrate.Options{}), "2")
		if m.Status != report.StatusFailed || m.Error == nil || m.Error.SQLState != "25001" {
			t.Fatalf("2_i without x-multi-statement: %s %+v, want failed with 25001 as under golang-migrate", m.Status, m.Error)
		}
	})
	t.Run("x-multi-statement", func(t *testing.T) {
		rep := run(t, dir, migrate.Options{MultiStatement: true})
		wantAllApplied(t, rep)
		if rt := migration(t, rep, "2").Roundtrip; rt == nil || rt.Status != report.RoundtripOK {
			t.Errorf("2_i round trip %+v, want ok", rt)
		}
	})
	t.Run("function body cut", func(t *testing.T) {
		fn := t.TempDir()
		writeTestFile(t, filepath.Join(fn, "1_f.up.sql"), "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND\n$$;\n")
		writeTestFile(t, filepath.Join(fn, "1_f.down.sql"), "DROP FUNCTION f();\n")
		if m := migration(t, run(t, fn, migrate.Options{}), "1"); m.Status != report.StatusApplied {
			t.Fatalf("1_f without x-multi-statement: %s %+v, want applied", m.Status, m.Error)
		}
		m := migration(t, run(t, fn, migrate.Options{MultiStatement: true}), "1")
		if m.Status != report.StatusFailed || m.Error == nil || !strings.Contains(m.Error.Message, "dollar-quoted") {
			t.Fatalf("1_f with x-multi-statement: %s %+v, want failed on the body cut at its ';'", m.Status, m.Error)
		}
	})
}
