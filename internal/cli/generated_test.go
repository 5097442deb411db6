package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/report"
)

// TestCheckTextSaysWhyAGeneratedDownIsNotVerified: the text output lists the generated down's problems
// and warnings under its "NOT verified" line, as comments of the script, as rollback-script does; the
// JSON is not the only place that says why.
func TestCheckTextSaysWhyAGeneratedDownIsNotVerified(t *testing.T) {
	rep := &report.Report{OK: true, Migrations: []report.Migration{{Version: "1", Name: "evt", New: true, Status: report.StatusApplied,
		Roundtrip: &report.Roundtrip{Status: report.RoundtripNoDown},
		GeneratedDown: &report.GeneratedDown{SQL: "-- drop routine audit_ddl() (added by the up)\nDROP ROUTINE audit_ddl();\n",
			Problems: []string{"the down fails: cannot drop function audit_ddl() because other objects depend on it (DETAIL: event trigger audit_ddl_end depends on function audit_ddl())",
				"CREATE EVENT TRIGGER audit_ddl_end at db/00001_evt.sql:5 changes an event trigger, which the generated down does not undo\nDROP TABLE users;"},
			Warnings: []string{"index public.i was invalid before the up; the down builds it valid"}}},
		{Version: "2", Name: "data", New: true, Status: report.StatusApplied, Roundtrip: &report.Roundtrip{Status: report.RoundtripNoDown},
			GeneratedDown: &report.GeneratedDown{Verified: true, Note: "nothing to undo: the migration changes no schema object"}},
	}}
	var b bytes.Buffer
	writeCheckText(&b, rep, "")
	want := `    generated down (NOT verified):
      -- the down fails: cannot drop function audit_ddl() because other objects depend on it (DETAIL: event trigger audit_ddl_end depends on function audit_ddl())
      -- CREATE EVENT TRIGGER audit_ddl_end at db/00001_evt.sql:5 changes an event trigger, which the generated down does not undo\nDROP TABLE users;
      -- warning: index public.i was invalid before the up; the down builds it valid
      -- drop routine audit_ddl() (added by the up)
      DROP ROUTINE audit_ddl();
`
	if !strings.Contains(b.String(), want) {
		t.Errorf("text output lacks\n%s\ngot:\n%s", want, b.String())
	}
	// An empty down is no blank line.
	want = "    generated down (verified):\n      -- nothing to undo: the migration changes no schema object\n"
	if !strings.HasSuffix(b.String(), want) {
		t.Errorf("text output does not end with\n%s\ngot:\n%s", want, b.String())
	}
}

// TestCheckGeneratedDownNotVerified: check --generate-down on a migration that adds a type, a table the
// comparison leaves out (schemagate_*) that uses it, and settings of every role (not in the compared
// catalog) says in its text why the generated down is not verified: the down's error with
// PostgreSQL's DETAIL, and the statement it does not undo; rollback-script says the same.
func TestCheckGeneratedDownNotVerified(t *testing.T) {
	requirePG(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "00001_op.sql"), []byte(`-- +goose Up
CREATE TYPE mood AS ENUM ('sad', 'ok');
ALTER ROLE ALL SET work_mem = '64MB';
CREATE TABLE schemagate_notes (m mood);
`))
	code, out, errOut := run(t, nil, "check", "--dir", dir, "--generate-down", "-q")
	if code != ExitOK {
		t.Fatalf("check --generate-down: exit %d\n%s\n%s", code, out, errOut)
	}
	file := filepath.ToSlash(filepath.Join(dir, "00001_op.sql"))
	for _, want := range []string{
		"    generated down (NOT verified):\n",
		"      -- the down fails: cannot drop type mood because other objects depend on it (DETAIL: column m of table schemagate_notes depends on type mood; HINT: Use DROP ... CASCADE to drop the dependent objects too.)\n",
		"      -- ALTER ROLE ALL SET work_mem at " + file + ":3 changes the settings of every role, which the generated down does not undo\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = run(t, nil, "rollback-script", "--dir", dir, "-q", "1")
	if code != ExitBlocked || out != "" || !strings.Contains(errOut, "--   the down fails: cannot drop type mood because other objects depend on it (DETAIL: column m of table schemagate_notes") ||
		!strings.Contains(errOut, "--   ALTER ROLE ALL SET work_mem at "+file+":3 changes the settings of every role") {
		t.Errorf("rollback-script: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestCheckTextShowsDetail: a failed migration's and a failed round trip's PostgreSQL DETAIL (which
// names the duplicated key, the dependent object...) is printed with the hint, and the annotation
// carries it too.
func TestCheckTextShowsDetail(t *testing.T) {
	rep := &report.Report{Migrations: []report.Migration{
		{Version: "1", Name: "uniq", New: true, Status: report.StatusFailed, Error: &report.SQLError{Message: `could not create unique index "u_email"`,
			SQLState: "23505", Detail: "Key (email)=(a@example.com) is duplicated.", File: "db/1_uniq.up.sql", Line: 2, Column: 1}},
		{Version: "2", Name: "drop", New: true, Status: report.StatusApplied, Roundtrip: &report.Roundtrip{Status: report.RoundtripFailed,
			Problems: []string{"the down fails: cannot drop table t because other objects depend on it"},
			Error: &report.SQLError{Message: "cannot drop table t because other objects depend on it", SQLState: "2BP01",
				Detail: "view v depends on table t", Hint: "Use DROP ... CASCADE to drop the dependent objects too.", File: "db/2_drop.down.sql", Line: 1, Column: 1}}},
	}}
	var b bytes.Buffer
	writeCheckText(&b, rep, "")
	for _, want := range []string{"      detail: Key (email)=(a@example.com) is duplicated.\n",
		"      detail: view v depends on table t\n      hint: Use DROP ... CASCADE"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, b.String())
		}
	}
	var found bool
	for _, a := range report.Annotations(rep) {
		found = found || strings.Contains(a.Message, "\nDetail: Key (email)=(a@example.com) is duplicated.")
	}
	if !found {
		t.Errorf("no annotation carries the detail: %+v", report.Annotations(rep))
	}
}

// TestRollbackScriptOfADataMigration: the rollback of a migration that changes no schema object is
// verified and empty, and says why in a comment; the JSON report has it as a note, not a problem.
func TestRollbackScriptOfADataMigration(t *testing.T) {
	requirePG(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "1_a.up.sql"), []byte("CREATE TABLE a (id bigint PRIMARY KEY);\n"))
	writeFile(t, filepath.Join(dir, "1_a.down.sql"), []byte("DROP TABLE a;\n"))
	writeFile(t, filepath.Join(dir, "2_rows.up.sql"), []byte("INSERT INTO a VALUES (1), (2);\n"))
	code, out, errOut := run(t, nil, "rollback-script", "--dir", dir, "-q", "2")
	if code != ExitOK {
		t.Fatalf("rollback-script: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "verified on a throwaway database.\n-- nothing to undo: the migration changes no schema object\n") {
		t.Errorf("rollback script of a data migration:\n%s", out)
	}
	jsonPath := filepath.Join(t.TempDir(), "r.json")
	if code, out, errOut := run(t, nil, "check", "--dir", dir, "--generate-down", "--report-json", jsonPath, "-q"); code != ExitOK {
		t.Fatalf("check --generate-down: exit %d\n%s\n%s", code, out, errOut)
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Migrations []struct {
			Version       string
			GeneratedDown *report.GeneratedDown `json:"generated_down"`
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	for _, m := range rep.Migrations {
		if gd := m.GeneratedDown; m.Version == "2" && (gd == nil || !gd.Verified || gd.Note == "" || len(gd.Problems) > 0) {
			t.Errorf("generated down of 2: %+v, want verified with a note and no problems", gd)
		}
	}
}

// TestCheckGeneratedDownMarksWhatTheUpDestroyed: check --generate-down and rollback-script say the same
// of a generated down whose up deleted rows and overwrote values (which no catalog difference shows):
// each statement a DATA LOSS line, in the text as in the script's header, and in the JSON report
// (data_loss, destroyed) and the Markdown one. check printed the down as verified with no word of it,
// and its reports had data_loss false: only rollback-script judged the up's statements.
func TestCheckGeneratedDownMarksWhatTheUpDestroyed(t *testing.T) {
	requirePG(t)
	dir := filepath.Join(t.TempDir(), "db")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSQL(t, dir, "1_base.sql", "CREATE TABLE t (id bigint PRIMARY KEY, a text);\n")
	writeSQL(t, dir, "2_up.sql", "UPDATE t SET a = lower(a);\nDELETE FROM t WHERE id > 10;\nALTER TABLE t ADD COLUMN z int;\n")
	code, script, errOut := run(t, nil, "rollback-script", "--dir", dir, "-q", "2")
	if code != ExitOK {
		t.Fatalf("rollback-script: exit %d\n%s\n%s", code, script, errOut)
	}
	file := filepath.ToSlash(filepath.Join(dir, "2_up.sql"))
	want := []string{
		"-- DATA LOSS: the up destroyed data this down cannot bring back (each statement below); roll back from the deploy snapshot instead.\n",
		"-- DATA LOSS: " + file + ":1: UPDATE of t.a\n",
		"-- DATA LOSS: " + file + ":2: DELETE from t\n",
	}
	for _, w := range want {
		if !strings.Contains(script, w) {
			t.Errorf("rollback-script lacks %q:\n%s", w, script)
		}
	}
	jsonPath, mdPath := filepath.Join(t.TempDir(), "r.json"), filepath.Join(t.TempDir(), "r.md")
	code, out, errOut := run(t, nil, "check", "--dir", dir, "--generate-down", "--report-json", jsonPath, "--report-md", mdPath, "-q")
	if code != ExitOK {
		t.Fatalf("check --generate-down: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, w := range want {
		if !strings.Contains(out, "      "+w) {
			t.Errorf("check's text lacks %q:\n%s", w, out)
		}
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	var gd *report.GeneratedDown
	for _, m := range rep.Migrations {
		if m.Version == "2" {
			gd = m.GeneratedDown
		}
	}
	wantLost := []string{file + ":1: UPDATE of t.a", file + ":2: DELETE from t"}
	if gd == nil || !gd.Verified || !gd.DataLoss || !slices.Equal(gd.Destroyed, wantLost) {
		t.Errorf("JSON report's generated down of 2: %+v, want verified, data loss, destroyed %q", gd, wantLost)
	}
	md, err := os.ReadFile(mdPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "**DATA LOSS:** "+report.Text(file+":1: UPDATE of t.a")) {
		t.Errorf("the Markdown report does not say what the up destroyed:\n%s", md)
	}
}
