package cli

import (
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestRollbackScriptNamesTheFailingFile: a migration that fails to apply (the one rolled back, or one
// before it) is bad input, exit 2, and its SQL error names the file from where the command runs
// (DIR/2_b.up.sql:2:13), as check does, not from inside the folder (2_b.up.sql:2:13), which no editor
// opened here finds.
func TestRollbackScriptNamesTheFailingFile(t *testing.T) {
	requirePG(t)
	dir := filepath.Join(t.TempDir(), "db")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSQL(t, dir, "1_a.up.sql", "CREATE TABLE a (id bigint);\n")
	writeSQL(t, dir, "1_a.down.sql", "DROP TABLE a;\n")
	writeSQL(t, dir, "2_b.up.sql", "CREATE TABLE b (id bigint);\nINSERT INTO nosuch VALUES (1);\n")
	writeSQL(t, dir, "3_c.up.sql", "CREATE TABLE c (id bigint);\n")
	want := filepath.ToSlash(filepath.Join(dir, "2_b.up.sql")) + ":2:13: relation \"nosuch\" does not exist"
	for _, version := range []string{"2", "3"} {
		t.Run(version, func(t *testing.T) {
			code, out, errOut := run(t, nil, "rollback-script", "--dir", dir, "--version", version, "-q")
			if code != ExitUsage || !strings.Contains(errOut, want) {
				t.Errorf("exit %d, want %d naming %s\nstdout: %s\nstderr: %s", code, ExitUsage, want, out, errOut)
			}
		})
	}
}

// TestRollbackScriptCleansWhatItPrints: rollback-script prints the pull request's text on stderr: the
// file names in its progress lines, and the SQL of a down that did not verify, which quotes the bodies
// of the objects it re-creates. A terminal escape (ESC ]0; sets the window title, ESC [2J clears the
// screen), a carriage return (which GitLab's log and a terminal take for the start of a line: a forged
// section_start) or a line that starts with "::" (a workflow command) must reach the log escaped.
func TestRollbackScriptCleansWhatItPrints(t *testing.T) {
	requirePG(t)
	cfg := filepath.Join(t.TempDir(), "schemagate.yml")
	writeFile(t, cfg, []byte("format: golang-migrate\ngolang_migrate:\n  multi_statement: true\n"))
	dir := t.TempDir()
	name := "1_x\x1b[0Ksection_start:1:evil\r\x1b[0KFake section\x1b]0;title\x07\x1b[2J.up.sql"
	writeFile(t, filepath.Join(dir, name), []byte("DROP FUNCTION answer();\n"))
	setup := filepath.Join(t.TempDir(), "setup.sql")
	// The body's ';' makes the generated down unverified under x-multi-statement: it is printed, not written.
	writeFile(t, setup, []byte("CREATE FUNCTION answer() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN '\x1b[2J\r\n::error::forged'; END $$;\n"))
	code, out, errOut := run(t, nil, "rollback-script", "--config", cfg, "--dir", dir, "--setup", setup, "1")
	if code != ExitBlocked || !strings.Contains(errOut, "NOT VERIFIED") || out != "" {
		t.Fatalf("exit %d, want %d: unverified and printed on stderr\nstdout: %q\nstderr: %q", code, ExitBlocked, out, errOut)
	}
	if !strings.Contains(errOut, `applying 0 migrations before 1_x\x1b[0Ksection_start:1:evil\r\x1b[0KFake section\x1b]0;title\x07\x1b[2J`) {
		t.Errorf("the progress does not name the migration, escaped:\n%s", errOut)
	}
	if !strings.Contains(errOut, `RETURN '\x1b[2J\r`) {
		t.Errorf("the unverified down is not shown, escaped:\n%s", errOut)
	}
	if strings.ContainsAny(errOut, "\x1b\x07\r") {
		t.Errorf("stderr holds a raw control character:\n%q", errOut)
	}
	for _, line := range strings.Split(errOut, "\n") {
		if startsCommand(line) {
			t.Errorf("a line of stderr reads as a workflow command: %q", line)
		}
	}
}

// TestRollbackScriptMarksRowsTheUpDestroyed: an up that empties a table (TRUNCATE), deletes rows or
// overwrites values (UPDATE) destroys data that no catalog difference shows. Its generated down was
// written "verified" with no word of it; each such statement of the up is now a DATA LOSS line (its
// file:line and what it did), and the script says to roll back from the deploy snapshot, as a down that
// re-creates a dropped table empty does. Rows the up wrote into a table or column it created are no loss.
func TestRollbackScriptMarksRowsTheUpDestroyed(t *testing.T) {
	requirePG(t)
	dir := filepath.Join(t.TempDir(), "db")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSQL(t, dir, "1_init.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY, email text, age int);\n")
	writeSQL(t, dir, "1_init.down.sql", "DROP TABLE users;\n")
	writeSQL(t, dir, "2_data.up.sql", "TRUNCATE users;\nALTER TABLE users ADD COLUMN x int;\n"+
		"UPDATE users SET email = lower(email), x = 1;\nDELETE FROM users WHERE age IS NULL;\n"+
		"CREATE TABLE t (id int);\nDELETE FROM t;\n")
	code, out, errOut := run(t, nil, "rollback-script", "--dir", dir, "--version", "2", "-q")
	if code != ExitOK {
		t.Fatalf("rollback-script: exit %d\n%s\n%s", code, out, errOut)
	}
	file := filepath.ToSlash(filepath.Join(dir, "2_data.up.sql"))
	for _, want := range []string{
		"-- DATA LOSS: " + file + ":1: TRUNCATE of users\n",
		"-- DATA LOSS: " + file + ":3: UPDATE of users.email\n",
		"-- DATA LOSS: " + file + ":4: DELETE from users\n",
		"roll back from the deploy snapshot instead",
		"ALTER TABLE users DROP COLUMN x;\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the rollback script lacks %q:\n%s", want, out)
		}
	}
	for _, not := range []string{"UPDATE of users.x", "DELETE from t\n", "\n-- Rollback of migration 2_data, generated by schemagate and verified on a throwaway database.\n"} {
		if strings.Contains("\n"+out, not) {
			t.Errorf("the rollback script holds %q:\n%s", not, out)
		}
	}
}

// TestRollbackScriptMarksValuesAUsingComputed: ALTER COLUMN … TYPE … USING an expression gives the
// column other values (length(a), d * 2, upper(e), a cut to varchar(10)); the generated down changes the
// type back, verified, and no catalog shows the values stayed as the expression made them: a widening
// (int to bigint, varchar(20) to text) or a same-type change was written unmarked. Each such statement
// is now a DATA LOSS line naming its column and expression; a change without USING, or whose USING is
// the column or a cast of it, is left to the catalogs: a widening stays unmarked, a narrowing
// (numeric(12,2) to integer, timestamptz to date) is marked by its step, as before.
func TestRollbackScriptMarksValuesAUsingComputed(t *testing.T) {
	requirePG(t)
	dir := filepath.Join(t.TempDir(), "db")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSQL(t, dir, "1_base.sql", "CREATE TABLE t (id bigint PRIMARY KEY, a text, b numeric(12,2), c timestamptz, d int, e varchar(20), f text, g int, h varchar(20));\n")
	writeSQL(t, dir, "2_up.sql", "ALTER TABLE t ALTER COLUMN a TYPE int USING length(a);\n"+
		"ALTER TABLE t ALTER COLUMN b TYPE int;\n"+
		"ALTER TABLE t ALTER COLUMN c TYPE date;\n"+
		"ALTER TABLE t ALTER COLUMN d TYPE bigint USING d * 2;\n"+
		"ALTER TABLE t ALTER COLUMN e TYPE text USING upper(e);\n"+
		"ALTER TABLE t ALTER COLUMN f TYPE varchar(10) USING f::varchar(10);\n"+
		"ALTER TABLE t ALTER COLUMN g TYPE bigint USING g::bigint;\n"+
		"ALTER TABLE t ALTER COLUMN h TYPE text;\n")
	code, out, errOut := run(t, nil, "rollback-script", "--dir", dir, "-q", "2")
	if code != ExitOK {
		t.Fatalf("rollback-script: exit %d\n%s\n%s", code, out, errOut)
	}
	file := filepath.ToSlash(filepath.Join(dir, "2_up.sql"))
	changed := ": the expression gave the column other values, and changing the type back does not undo them\n"
	for _, want := range []string{
		"-- DATA LOSS: " + file + ":1: ALTER COLUMN t.a TYPE integer USING length(a)" + changed,
		"-- DATA LOSS: " + file + ":4: ALTER COLUMN t.d TYPE bigint USING d * 2" + changed,
		"-- DATA LOSS: " + file + ":5: ALTER COLUMN t.e TYPE text USING upper(e)" + changed,
		"-- DATA LOSS: " + file + ":6: ALTER COLUMN t.f TYPE varchar(10) USING f::varchar(10)" + changed,
		"-- DATA LOSS: change t.a back to text (the up converted its values to integer",
		"-- DATA LOSS: change t.b back to numeric(12,2) (the up converted its values to integer",
		"-- DATA LOSS: change t.c back to timestamp with time zone (the up converted its values to date",
		"\nALTER TABLE t ALTER COLUMN d TYPE integer;\n",
		"\nALTER TABLE t ALTER COLUMN e TYPE character varying(20);\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the rollback script lacks %q:\n%s", want, out)
		}
	}
	for _, not := range []string{":2: ", ":3: ", ":7: ", ":8: ", "DATA LOSS: change t.d", "DATA LOSS: change t.e", "DATA LOSS: change t.g", "DATA LOSS: change t.h"} {
		if strings.Contains(out, not) {
			t.Errorf("the rollback script holds %q:\n%s", not, out)
		}
	}
}

// TestRollbackScriptGooseAndSQLMigrateStatementBlocks: goose and sql-migrate end a statement at every
// line whose last word ends with ';'. The generated down re-created a plpgsql function whose body has
// such lines as a bare statement, "verified": pasted under the migration's Down annotation, the tool
// would send the body in pieces. Such a statement is now written inside StatementBegin/StatementEnd,
// the down is verified as the tool's reader reads it, and the migration with the written down pasted
// under its Down annotation checks clean (its round trip runs what the tool sends).
func TestRollbackScriptGooseAndSQLMigrateStatementBlocks(t *testing.T) {
	requirePG(t)
	body := "CREATE FUNCTION bump(x int) RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  x := x + 1;\n  RETURN x;\nEND $$;\n"
	for _, tc := range []struct {
		name, tool string
	}{
		{"goose", "goose"},
		{"sql-migrate", "migrate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ann := "-- +" + tc.tool + " "
			writeFile(t, filepath.Join(dir, "00001_init.sql"), []byte(ann+"Up\n"+ann+"StatementBegin\n"+body+ann+"StatementEnd\n"+ann+"Down\nDROP FUNCTION bump(int);\n"))
			up := ann + "Up\nDROP FUNCTION bump(int);\n" + ann + "Down\n"
			writeFile(t, filepath.Join(dir, "00002_drop.sql"), []byte(up+"SELECT 1;\n"))
			down := filepath.Join(t.TempDir(), "down.sql")
			code, out, errOut := run(t, nil, "rollback-script", "--format", tc.name, "--dir", dir, "--version", "2", "-q", "-o", down)
			if code != ExitOK {
				t.Fatalf("rollback-script: exit %d\n%s\n%s", code, out, errOut)
			}
			b, err := os.ReadFile(down)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "\n"+ann+"StatementBegin\nCREATE OR REPLACE FUNCTION") || !strings.Contains(string(b), "$function$;\n"+ann+"StatementEnd\n") {
				t.Errorf("the function is not written inside StatementBegin/StatementEnd:\n%s", b)
			}
			// Pasted under the Down annotation, the tool runs it as rehearsed.
			writeFile(t, filepath.Join(dir, "00002_drop.sql"), append([]byte(up), b...))
			if code, out, errOut := run(t, nil, "check", "--format", tc.name, "--dir", dir, "-q"); code != ExitOK {
				t.Errorf("check with the written down: exit %d\n%s%s\n%s", code, out, errOut, b)
			}
		})
	}
}

// TestRollbackScriptGooseNameInHeader: goose takes every -- line holding +goose, anywhere in it, for an
// annotation and refuses a file whose annotation it does not know. The header named the migration
// 00002_+goose_drop as it is ("-- Rollback of migration 00002_+goose_drop, ..."), and its DATA LOSS
// lines its file: pasted under the migration's -- +goose Down, goose refused the file. In a goose folder
// the header now writes +goose as +GOOSE, which goose reads as a comment; the SQL below is unchanged.
func TestRollbackScriptGooseNameInHeader(t *testing.T) {
	requirePG(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "00001_init.sql"), []byte("-- +goose Up\nCREATE TABLE t (id int, note text);\n-- +goose Down\nDROP TABLE t;\n"))
	up := "-- +goose Up\nDELETE FROM t WHERE id > 1;\nALTER TABLE t ADD COLUMN n int;\n-- +goose Down\n"
	name := "00002_+goose_drop.sql"
	writeFile(t, filepath.Join(dir, name), []byte(up+"SELECT 1;\n"))
	code, out, errOut := run(t, nil, "rollback-script", "--format", "goose", "--dir", dir, "--version", "2", "-q")
	if code != ExitOK {
		t.Fatalf("rollback-script: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "-- Rollback of migration 2_+GOOSE_drop,") || !strings.Contains(out, "-- DATA LOSS: "+filepath.ToSlash(dir)+"/00002_+GOOSE_drop.sql:2: DELETE from t\n") {
		t.Errorf("the header does not name the migration and its file with +GOOSE:\n%s", out)
	}
	if !strings.Contains(out, "\nALTER TABLE t DROP COLUMN n;\n") {
		t.Errorf("the rollback script lacks its SQL:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "+goose") {
			t.Errorf("line %q holds +goose, which goose reads as an annotation", l)
		}
	}
	// Pasted under the Down annotation, goose reads the file: check passes it.
	writeFile(t, filepath.Join(dir, name), []byte(up+out))
	if code, out2, errOut := run(t, nil, "check", "--format", "goose", "--dir", dir, "-q"); code != ExitOK {
		t.Errorf("check with the written down: exit %d\n%s%s\n%s", code, out2, errOut, out)
	}
}

// TestRollbackScriptOutputKeepsTheMigrations: -o naming a file of the migration folder overwrote it
// without a word (exit 0): -o 2_b.up.sql left the migration holding only its down, and for goose, whose
// down lives in the up's file, -o 00002_b.sql replaced the whole migration. Such an output is now bad
// input (exit 2, the file untouched), however the path is spelled (relative, ./, absolute, through a
// symbolic link, a hard link); the message of a single-file format says where the script goes. Files of
// the folder that are no migration's were still overwritten (a Flyway callback, a script's .conf, a
// README, one in a subfolder): they are refused too, and so is a new file the tool would read as
// another migration's script (3_c.down.sql, V9__x.sql) or report on (a new Flyway callback, which
// Flyway would run after every migrate). The files of the folder it writes are the migration's own down
// file, new (a Flyway undo script) or holding nothing to lose (empty); one that holds a down is refused,
// --force or not.
func TestRollbackScriptOutputKeepsTheMigrations(t *testing.T) {
	requirePG(t)
	root := t.TempDir()
	t.Chdir(root)
	if err := os.Mkdir("m", 0o755); err != nil {
		t.Fatal(err)
	}
	writeSQL(t, "m", "1_a.up.sql", "CREATE TABLE users (id int);\n")
	writeSQL(t, "m", "1_a.down.sql", "DROP TABLE users;\n")
	writeSQL(t, "m", "2_b.up.sql", "ALTER TABLE users ADD COLUMN z int;\n")
	if err := os.Symlink(filepath.Join("m", "2_b.up.sql"), "link.sql"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir("g", 0o755); err != nil {
		t.Fatal(err)
	}
	writeSQL(t, "g", "00001_a.sql", "-- +goose Up\nCREATE TABLE users (id int);\n-- +goose Down\nDROP TABLE users;\n")
	writeSQL(t, "g", "00002_b.sql", "-- +goose Up\nALTER TABLE users ADD COLUMN z int;\n")
	// Files of the folders that are no migration: a README, one in a subfolder, a Flyway callback and
	// a script's .conf; reached also through a hard link and a symbolic link from outside.
	writeSQL(t, "m", "README.md", "# migrations\n")
	if err := os.MkdirAll(filepath.Join("m", "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeSQL(t, filepath.Join("m", "docs"), "notes.md", "notes\n")
	if err := os.Link(filepath.Join("m", "README.md"), "hard.md"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("m", "docs", "notes.md"), "notes-link.md"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir("f", 0o755); err != nil {
		t.Fatal(err)
	}
	writeSQL(t, "f", "V1__a.sql", "CREATE TABLE users (id int);\n")
	writeSQL(t, "f", "V2__b.sql", "ALTER TABLE users ADD COLUMN z int;\n")
	writeSQL(t, "f", "V2__b.sql.conf", "executeInTransaction=true\n")
	writeSQL(t, "f", "afterMigrate.sql", "SELECT 1;\n")
	snapshot := func() map[string]string {
		files := map[string]string{}
		for _, d := range []string{"m", "g", "f"} {
			err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
				if err != nil || e.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				files[p] = string(b)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		return files
	}
	for _, tc := range []struct {
		name, dir, output, want string
		force                   bool
	}{
		{"own up", "m", "m/2_b.up.sql", "m/2_b.up.sql is migration 2_b's own file", false},
		{"own up, ./", "m", "./m/../m/2_b.up.sql", "m/2_b.up.sql is migration 2_b's own file", false},
		{"own up, absolute", "m", filepath.Join(root, "m", "2_b.up.sql"), "m/2_b.up.sql is migration 2_b's own file", false},
		{"own up, symbolic link", "m", "link.sql", "m/2_b.up.sql is migration 2_b's own file", false},
		{"own up, forced", "m", "m/2_b.up.sql", "m/2_b.up.sql is migration 2_b's own file", true},
		{"another's down", "m", "m/1_a.down.sql", "m/1_a.down.sql is the down of migration 1_a", false},
		{"another's up", "m", "m/1_a.up.sql", "m/1_a.up.sql is the up of migration 1_a", false},
		{"goose own file", "g", "g/00002_b.sql", "g/00002_b.sql is migration 2_b's own file: writing the rollback there would replace its up (goose keeps the down in the up's file): print the script (leave out -o) or write it to another file, and paste it into that file under its -- +goose Down annotation", false},
		{"goose another's file", "g", "g/00001_a.sql", "g/00001_a.sql is the file (up and down) of migration 1_a", false},
		{"README", "m", "./m/README.md", "m/README.md is a file of the migration folder m: rollback-script does not write over one", false},
		{"README, hard link", "m", "hard.md", "m/README.md is a file of the migration folder m", false},
		{"subfolder, absolute", "m", filepath.Join(root, "m", "docs", "notes.md"), "m/docs/notes.md is a file of the migration folder m", false},
		{"subfolder, symbolic link", "m", "notes-link.md", "m/docs/notes.md is a file of the migration folder m", true},
		{"flyway callback", "f", "f/afterMigrate.sql", "f/afterMigrate.sql is a file of the migration folder f", false},
		{"flyway script's conf", "f", "f/V2__b.sql.conf", "f/V2__b.sql.conf is a file of the migration folder f", false},
		{"new down of another migration", "m", "m/3_c.down.sql", "m/3_c.down.sql would be a file of the migration folder m that the folder's tool reads as a script of migration 3_c", false},
		{"new flyway migration", "f", "./f/V9__x.sql", "f/V9__x.sql would be a file of the migration folder f that the folder's tool reads as a script of migration 9_x", false},
		{"new flyway callback", "f", "f/beforeMigrate.sql", "f/beforeMigrate.sql would be a file of the migration folder f that reading the folder reports (ignored: Flyway callback script)", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot()
			args := []string{"rollback-script", "-q", "--dir", tc.dir, "2", "-o", tc.output}
			if tc.force {
				args = append(args, "--force")
			}
			code, out, errOut := run(t, nil, args...)
			if code != ExitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want %d saying %q\nstdout: %s\nstderr: %s", code, ExitUsage, tc.want, out, errOut)
			}
			if after := snapshot(); !maps.Equal(before, after) {
				t.Errorf("the folder changed:\nbefore: %q\nafter:  %q", before, after)
			}
		})
	}

	// A new file the tool reads as the migration's own down: written.
	code, out, errOut := run(t, nil, "rollback-script", "-q", "--dir", "f", "2", "-o", "f/U2__b.sql")
	if undo, err := os.ReadFile(filepath.Join("f", "U2__b.sql")); code != ExitOK || err != nil || !strings.Contains(string(undo), "ALTER TABLE users DROP COLUMN z;\n") {
		t.Fatalf("into a new Flyway undo script: exit %d, file %q (%v)\n%s\n%s", code, undo, err, out, errOut)
	}

	// The migration's own down file, empty, is what the tool reads: written, once.
	writeSQL(t, "m", "2_b.down.sql", "")
	code, out, errOut = run(t, nil, "rollback-script", "-q", "--dir", "m", "2", "-o", "m/2_b.down.sql")
	if code != ExitOK {
		t.Fatalf("into the empty down file: exit %d\n%s\n%s", code, out, errOut)
	}
	down, err := os.ReadFile(filepath.Join("m", "2_b.down.sql"))
	if err != nil || !strings.Contains(string(down), "ALTER TABLE users DROP COLUMN z;\n") {
		t.Fatalf("the down file holds %q (%v)", down, err)
	}
	for _, force := range []bool{false, true} {
		args := []string{"rollback-script", "-q", "--dir", "m", "2", "-o", "m/2_b.down.sql"}
		if force {
			args = append(args, "--force")
		}
		code, out, errOut = run(t, nil, args...)
		if want := "m/2_b.down.sql already holds the down of migration 2_b"; code != ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("over the written down (--force %v): exit %d, want %d saying %q\nstdout: %s\nstderr: %s", force, code, ExitUsage, want, out, errOut)
		}
	}
}

// TestRollbackScriptUndoesWhatAttachMade: ATTACH PARTITION makes on the partition an index for each of
// the parent's partitioned indexes it has no match for, a key constraint for the parent's key and a
// clone of each foreign key; DETACH PARTITION keeps them all as the partition's own. The generated down
// only detached, so it did not verify ("index ev_old_at_idx is left behind by the down"). It now drops
// them after the DETACH, and keeps what the partition had before the up: its own index ev_old_own,
// which the ATTACH took as ev_at_idx's, and its CHECK constraint. Verified means the catalog after the
// down is the one before the up, on PostgreSQL.
func TestRollbackScriptUndoesWhatAttachMade(t *testing.T) {
	requirePG(t)
	dir := filepath.Join(t.TempDir(), "m")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSQL(t, dir, "1_a.up.sql", "CREATE TABLE ref (id bigint PRIMARY KEY);\n"+
		"CREATE TABLE ev (id bigint, at timestamptz NOT NULL, r bigint REFERENCES ref, CHECK (id > 0), PRIMARY KEY (id, at)) PARTITION BY RANGE (at);\n"+
		"CREATE TABLE ev_old (id bigint NOT NULL, at timestamptz NOT NULL, r bigint, CONSTRAINT ev_id_check CHECK (id > 0));\n"+
		"CREATE INDEX ev_at_idx ON ev (at);\nCREATE INDEX ev_r_idx ON ev (r);\nCREATE INDEX ev_old_own ON ev_old (at);\n")
	writeSQL(t, dir, "2_b.up.sql", "ALTER TABLE ev ATTACH PARTITION ev_old FOR VALUES FROM ('2000-01-01') TO ('2024-01-01');\n")
	code, out, errOut := run(t, nil, "rollback-script", "-q", "--dir", dir, "2")
	if code != ExitOK || !strings.Contains(out, "verified on a throwaway database") {
		t.Fatalf("rollback-script: exit %d, want %d, verified\nstdout: %s\nstderr: %s", code, ExitOK, out, errOut)
	}
	for _, want := range []string{
		"ALTER TABLE ev DETACH PARTITION ev_old;\n",
		"ALTER TABLE ev_old DROP CONSTRAINT ev_r_fkey;\n",
		"ALTER TABLE ev_old DROP CONSTRAINT ev_old_pkey;\n",
		"DROP INDEX ev_old_r_idx;\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the rollback lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "DETACH PARTITION") > strings.Index(out, "DROP INDEX") {
		t.Errorf("the index is dropped before the DETACH, which PostgreSQL refuses:\n%s", out)
	}
	for _, not := range []string{"ev_old_own", "ev_id_check"} {
		if strings.Contains(out, not) {
			t.Errorf("the rollback touches %s, which the partition had before the up:\n%s", not, out)
		}
	}

	// The brief's case: the parent's plain partitioned index alone.
	writeSQL(t, dir, "1_a.up.sql", "CREATE TABLE ev (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);\n"+
		"CREATE TABLE ev_old (id bigint, at timestamptz NOT NULL);\nCREATE INDEX ev_at_idx ON ev (at);\n")
	code, out, errOut = run(t, nil, "rollback-script", "-q", "--dir", dir, "2")
	if code != ExitOK || !strings.Contains(out, "DROP INDEX ev_old_at_idx;\n") {
		t.Errorf("rollback-script: exit %d, want %d dropping ev_old_at_idx\nstdout: %s\nstderr: %s", code, ExitOK, out, errOut)
	}
}

// TestRollbackScriptSqitchRevertInATransaction: sqitch runs a revert script with psql in autocommit, and
// its templates wrap every script in BEGIN … COMMIT; the generated revert had none, so a step that
// failed left the steps before it done. The revert of a deploy that runs in a transaction is now wrapped
// (an index it re-creates is built without CONCURRENTLY, which a block refuses), and run as sqitch runs
// it, psql --file with ON_ERROR_STOP, on a database where its last step fails, it leaves the schema as
// it was (the column it dropped first is still there). A deploy that psql runs outside a transaction (CREATE INDEX CONCURRENTLY) gets a revert
// without, as the deploy is.
func TestRollbackScriptSqitchRevertInATransaction(t *testing.T) {
	requirePG(t)
	psql := ""
	for _, p := range append([]string{"/usr/bin/psql"}, globFiles("/usr/lib/postgresql/*/bin/psql")...) {
		if _, err := os.Stat(p); err == nil {
			psql = p
			break
		}
	}
	if psql == "" {
		t.Fatal("psql not found: install postgresql-client (scripts/setup-machine.sh)")
	}
	dir := filepath.Join(t.TempDir(), "s")
	for _, d := range []string{"deploy", "revert"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeSQL(t, dir, "sqitch.plan", "%syntax-version=1.0.0\n%project=p\n\n"+
		"a 2024-01-01T00:00:00Z A <a@example.com> # a\nb 2024-01-02T00:00:00Z A <a@example.com> # b\n")
	deployA := "BEGIN;\nCREATE TABLE users (id int, email text);\nCREATE INDEX users_email ON users (email);\nCOMMIT;\n"
	deployB := "BEGIN;\nDROP INDEX users_email;\nALTER TABLE users ADD COLUMN z int;\nCOMMIT;\n"
	writeSQL(t, dir, "deploy/a.sql", deployA)
	writeSQL(t, dir, "revert/a.sql", "BEGIN;\nDROP TABLE users;\nCOMMIT;\n")
	writeSQL(t, dir, "deploy/b.sql", deployB)
	out := filepath.Join(dir, "revert", "b.sql")
	code, stdout, errOut := run(t, nil, "rollback-script", "-q", "--dir", dir, "b", "-o", out)
	if code != ExitOK {
		t.Fatalf("rollback-script: exit %d\nstdout: %s\nstderr: %s", code, stdout, errOut)
	}
	revert, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.TrimSpace(string(revert))
	if i := strings.Index(body, "\nBEGIN;\n"); i < 0 || strings.Contains(body[:i], ";") || !strings.HasSuffix(body, "\nCOMMIT;") ||
		!strings.Contains(body, "CREATE INDEX users_email ON public.users USING btree (email);") {
		t.Fatalf("the revert is not one transaction that re-creates the index without CONCURRENTLY:\n%s", revert)
	}

	// As sqitch runs it, on a database where its last step fails (a table took the index's name): the
	// column it dropped first is back with the rollback of the whole.
	if i, j := strings.Index(body, "DROP COLUMN z;"), strings.Index(body, "CREATE INDEX users_email"); i < 0 || i > j {
		t.Fatalf("the test wants the column dropped before the index is re-created:\n%s", revert)
	}
	url := pgtest.URL(t)
	psqlFile := func(file string) (string, error) {
		b, err := exec.Command(psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", file).CombinedOutput()
		return string(b), err
	}
	for _, f := range []string{"deploy/a.sql", "deploy/b.sql"} {
		if msg, err := psqlFile(filepath.Join(dir, f)); err != nil {
			t.Fatalf("psql %s: %v\n%s", f, err, msg)
		}
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), "CREATE TABLE users_email (id int)"); err != nil {
		t.Fatal(err)
	}
	if msg, err := psqlFile(out); err == nil || !strings.Contains(msg, `relation "users_email" already exists`) {
		t.Fatalf("psql of the revert: %v, want the CREATE INDEX refused\n%s", err, msg)
	}
	var columns int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'z'").Scan(&columns); err != nil {
		t.Fatal(err)
	}
	if columns != 1 {
		t.Errorf("the failed revert left users.z dropped: a half-reverted schema\n%s", revert)
	}

	// A deploy psql runs outside a transaction: its revert is not wrapped either, and drops the index
	// as the deploy built it, CONCURRENTLY.
	writeSQL(t, dir, "deploy/b.sql", "CREATE INDEX CONCURRENTLY users_id ON users (id);\n")
	code, stdout, errOut = run(t, nil, "rollback-script", "-q", "--dir", dir, "b")
	if code != ExitOK || strings.Contains(stdout, "BEGIN") || !strings.Contains(stdout, "DROP INDEX CONCURRENTLY users_id;\n") {
		t.Errorf("rollback-script of a CONCURRENTLY deploy: exit %d, want %d, DROP INDEX CONCURRENTLY without BEGIN\nstdout: %s\nstderr: %s", code, ExitOK, stdout, errOut)
	}
}

func globFiles(pattern string) []string {
	m, _ := filepath.Glob(pattern)
	return m
}

// TestRollbackScriptOnAFullDiskKeepsThePreviousFile: rollback-script -o wrote the script in place
// (os.WriteFile truncates first), so a write that a full disk failed left the first page of the new
// script where the previous one had been: a down cut short, which the tool would run as it is. It is
// now written to a new file beside it and renamed over it once complete: the previous script stays,
// no temporary file is left, and the command fails (exit 1) saying why. The disk is a tmpfs the test
// mounts, filled up (see fullDisk).
func TestRollbackScriptOnAFullDiskKeepsThePreviousFile(t *testing.T) {
	requirePG(t)
	const previous = "-- the previous rollback script\nDROP TABLE big;\n"
	disk := fullDisk(t, map[string]string{"rollback.sql": previous})
	dir := t.TempDir()
	// The down of 2 creates the function again, its body with it: a script of more than two pages.
	writeSQL(t, dir, "1_a.up.sql", "CREATE FUNCTION big() RETURNS text LANGUAGE sql AS $$ SELECT '"+strings.Repeat("x", 12000)+"' $$;\n")
	writeSQL(t, dir, "1_a.down.sql", "DROP FUNCTION big();\n")
	writeSQL(t, dir, "2_b.up.sql", "DROP FUNCTION big();\n")
	out := filepath.Join(disk, "rollback.sql")
	code, stdout, errOut := run(t, nil, "rollback-script", "-q", "--dir", dir, "2", "-o", out)
	if code != ExitFailure || !strings.Contains(errOut, "write "+out) || !strings.Contains(errOut, "no space left on device") {
		t.Errorf("exit %d, want %d saying the write of %s failed for want of space\nstdout: %s\nstderr: %s", code, ExitFailure, out, stdout, errOut)
	}
	if got, err := os.ReadFile(out); err != nil || string(got) != previous {
		t.Errorf("%s holds %d bytes starting %.80q (%v), want the previous script kept", out, len(got), got, err)
	}
	diskHolds(t, disk, "fill rollback.sql")
}
