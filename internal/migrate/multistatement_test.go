package migrate

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestGolangMigrateMultiStatement: with x-multi-statement golang-migrate cuts a file at every ';' and
// sends each piece alone, so the file's statements commit one by one (PerStatement), a CREATE INDEX
// CONCURRENTLY among others runs in autocommit, a function body cut at its ';' does not parse, with a
// message and a note that say why, and a piece longer than x-multi-statement-max-size fails the file.
func TestGolangMigrateMultiStatement(t *testing.T) {
	t.Parallel()
	read := func(t *testing.T, opts Options, files map[string]string) (*Set, []*Error) {
		t.Helper()
		fsys := fstest.MapFS{}
		for name, body := range files {
			fsys[name] = &fstest.MapFile{Data: []byte(body)}
		}
		set, err := ReadWith(fsys, FormatGolangMigrate, opts)
		return set, readErrors(t, err)
	}
	cic := map[string]string{
		"1_i.up.sql":   "CREATE TABLE b (id bigint);\nCREATE INDEX CONCURRENTLY a_i ON a (id);\n",
		"1_i.down.sql": "DROP INDEX CONCURRENTLY a_i;\nDROP TABLE b;\n",
		"2_t.up.sql":   "CREATE TABLE c (id bigint);\nCREATE TABLE d (id bigint);\n",
	}
	t.Run("default: one query", func(t *testing.T) {
		t.Parallel()
		set, errs := read(t, Options{}, cic)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		m := set.Migrations[0]
		if m.NoTransaction || m.Up.NoTransaction || m.PerStatement || set.Options.MultiStatement {
			t.Errorf("without x-multi-statement: NoTransaction %v/%v PerStatement %v, want one transaction", m.NoTransaction, m.Up.NoTransaction, m.PerStatement)
		}
	})
	t.Run("x-multi-statement", func(t *testing.T) {
		t.Parallel()
		set, errs := read(t, Options{MultiStatement: true}, cic)
		if len(errs) > 0 || len(set.Warnings) > 0 {
			t.Fatal(errs, set.Warnings)
		}
		if !set.Options.MultiStatement {
			t.Error("Set.Options does not record x-multi-statement")
		}
		m := set.Migrations[0]
		if !m.PerStatement || !m.NoTransaction || !m.Up.NoTransaction || !m.Down.NoTransaction || len(m.Up.Statements) != 2 {
			t.Errorf("CIC with another statement: PerStatement %v NoTransaction %v up %v down %v, %d statements; want each statement alone, in autocommit",
				m.PerStatement, m.NoTransaction, m.Up.NoTransaction, m.Down.NoTransaction, len(m.Up.Statements))
		}
		// Statements that a transaction runs alike stay in one (a cheap round trip), but each commits by
		// itself under the tool, as PerStatement says.
		if m := set.Migrations[1]; !m.PerStatement || m.NoTransaction {
			t.Errorf("2_t: PerStatement %v NoTransaction %v, want true, false", m.PerStatement, m.NoTransaction)
		}
	})
	t.Run("a function body cut at its semicolon", func(t *testing.T) {
		t.Parallel()
		files := map[string]string{"1_f.up.sql": "CREATE TABLE a (id bigint);\nCREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND\n$$;\n"}
		set, errs := read(t, Options{}, files)
		if len(errs) > 0 || len(set.Migrations[0].Up.Statements) != 2 || set.Migrations[0].Up.Statements[1].Err != nil {
			t.Fatalf("without x-multi-statement: %v %+v", errs, set.Migrations[0].Up.Statements)
		}
		set, errs = read(t, Options{MultiStatement: true}, files)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		sts := set.Migrations[0].Up.Statements
		if len(sts) != 3 || sts[0].Err != nil || sts[1].Err == nil || sts[1].Pos.Line != 2 || !strings.Contains(sts[1].Err.Message, "cuts the file at every ';'") ||
			!strings.Contains(sts[1].Err.Message, "line 2 to line 4") {
			t.Fatalf("statements %+v, want CREATE TABLE, then the body cut at line 4 failing to parse and saying why", sts)
		}
		if len(set.Warnings) != 1 || set.Warnings[0].Line != 4 || !strings.Contains(set.Warnings[0].Msg, "x-multi-statement cuts the file at every ';'") {
			t.Errorf("warnings %v, want one at line 4", set.Warnings)
		}
	})
	t.Run("a comment cut at its semicolon runs what follows", func(t *testing.T) {
		t.Parallel()
		set, _ := read(t, Options{MultiStatement: true}, map[string]string{"1_c.up.sql": "-- was: DROP TABLE a; CREATE TABLE b (id bigint);\nCREATE TABLE c (id bigint);\n"})
		sts := set.Migrations[0].Up.Statements
		if len(sts) != 2 || sts[0].Err != nil || !strings.HasPrefix(sts[0].SQL, "CREATE TABLE b") {
			t.Fatalf("statements %+v, want CREATE TABLE b (golang-migrate sends what follows the ';' of the comment) and c", sts)
		}
	})
	t.Run("x-multi-statement-max-size", func(t *testing.T) {
		t.Parallel()
		long := "CREATE TABLE a (id bigint);\nINSERT INTO a VALUES " + strings.Repeat("(1),", 2000) + "(1);\n"
		_, errs := read(t, Options{MultiStatement: true, MultiStatementMaxSize: 5000}, map[string]string{"1_a.up.sql": long})
		if len(errs) != 1 || errs[0].Line != 2 || !strings.Contains(errs[0].Msg, "token too long") {
			t.Fatalf("errors %v, want the piece of 8000 bytes refused", errs)
		}
		if _, errs := read(t, Options{MultiStatement: true, MultiStatementMaxSize: 9000}, map[string]string{"1_a.up.sql": long}); len(errs) > 0 {
			t.Fatal(errs)
		}
		// Below the 4096 bytes its scanner starts with, golang-migrate reads up to those.
		if _, errs := read(t, Options{MultiStatement: true, MultiStatementMaxSize: 10}, map[string]string{"1_a.up.sql": "CREATE TABLE a (id bigint);"}); len(errs) > 0 {
			t.Fatal(errs)
		}
	})
}
