package rehearse_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
	"github.com/schemagate/schemagate/internal/schema"
)

// provider returns the local provider, failing under CI=true when the server binaries are missing.
func provider(t testing.TB) sandbox.Provider {
	t.Helper()
	p := sandbox.NewLocal(sandbox.Options{})
	inst, err := p.Start(context.Background())
	if err != nil {
		pgtest.Unavailable(t, "local PostgreSQL: %v", err)
	}
	inst.Close(context.Background())
	return p
}

func readDir(t testing.TB, dir string, format migrate.Format) *migrate.Set {
	t.Helper()
	set, err := migrate.Read(os.DirFS(dir), format)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	return set
}

func rehearseDir(t *testing.T, dir string) *report.Report {
	t.Helper()
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: readDir(t, dir, migrate.FormatAuto), Provider: provider(t), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func migration(t *testing.T, rep *report.Report, version string) report.Migration {
	t.Helper()
	for _, m := range rep.Migrations {
		if m.Version == version {
			return m
		}
	}
	t.Fatalf("no migration %s in report", version)
	return report.Migration{}
}

func TestShopExample(t *testing.T) {
	// 0001 and 0002 are the history (as at --base): the tables they create exist before the change.
	dir := "../../examples/shop"
	set := readDir(t, dir, migrate.FormatAuto)
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:2]}, Provider: provider(t), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("the shop example must rehearse cleanly: %+v", rep.Migrations)
	}
	for _, m := range rep.Migrations {
		if m.New && (m.Status != report.StatusApplied || m.Roundtrip.Status != report.RoundtripOK) {
			t.Errorf("%s: status %s round trip %+v", m.Version, m.Status, m.Roundtrip)
		}
	}
	// 0004 builds an index on an existing table without CONCURRENTLY: dangerous, seen statically and by trace.
	m := migration(t, rep, "4")
	if m.Risk != lint.Dangerous {
		t.Errorf("0004 risk = %s, want dangerous (%+v)", m.Risk, m.Findings)
	}
	if len(m.Trace) != 1 || len(m.Trace[0].Locks) == 0 {
		t.Errorf("0004 trace has no locks: %+v", m.Trace)
	}
	if rep.Risk != lint.Dangerous {
		t.Errorf("report risk %s, want dangerous", rep.Risk)
	}
	if m := migration(t, rep, "3"); m.SchemaDiff.Empty() {
		t.Errorf("0003 adds a column but its schema diff is empty")
	}
}

func TestDownLeavesIndexBehind(t *testing.T) {
	rep := rehearseDir(t, "testdata/down-leaves-index")
	m := migration(t, rep, "2")
	if m.Roundtrip.Status != report.RoundtripFailed {
		t.Fatalf("round trip %+v, want failed", m.Roundtrip)
	}
	if !containsAll(m.Roundtrip.Problems, "users_email_idx", "left behind") {
		t.Fatalf("problems %q do not say the index is left behind", m.Roundtrip.Problems)
	}
	// The run goes on from the after-up state: migration 3 applies and round-trips.
	if m3 := migration(t, rep, "3"); m3.Status != report.StatusApplied || m3.Roundtrip.Status != report.RoundtripOK {
		t.Fatalf("migration 3 after a failed round trip: %+v", m3)
	}
	if rep.OK {
		t.Fatal("report OK despite a failed round trip")
	}
}

func TestDownFails(t *testing.T) {
	rep := rehearseDir(t, "testdata/down-fails")
	m := migration(t, rep, "1")
	e := m.Roundtrip.Error
	if m.Roundtrip.Status != report.RoundtripFailed || e == nil {
		t.Fatalf("round trip %+v, want failed with an error", m.Roundtrip)
	}
	if e.Phase != "down" || e.File != "1_users.down.sql" || e.Line != 2 || e.SQLState != "42P01" {
		t.Fatalf("down error %+v, want 1_users.down.sql:2 SQLSTATE 42P01 in phase down", e)
	}
	if m2 := migration(t, rep, "2"); m2.Status != report.StatusApplied {
		t.Fatalf("migration 2 must still run: %+v", m2)
	}
}

func TestReUpFails(t *testing.T) {
	rep := rehearseDir(t, "testdata/reup-fails")
	m := migration(t, rep, "1")
	e := m.Roundtrip.Error
	if e == nil || e.Phase != "re-up" || e.File != "1_users.up.sql" || e.Line != 2 || e.SQLState != "42P07" {
		t.Fatalf("re-up error %+v, want 1_users.up.sql:2 SQLSTATE 42P07", e)
	}
	if !containsAll(m.Roundtrip.Problems, "audit", "left behind") {
		t.Fatalf("problems %q do not name the table left behind", m.Roundtrip.Problems)
	}
}

func TestSyntaxErrorStopsTheRun(t *testing.T) {
	rep := rehearseDir(t, "testdata/syntax-error")
	m := migration(t, rep, "2")
	if m.Status != report.StatusFailed || m.Error == nil {
		t.Fatalf("migration 2: %+v, want failed", m)
	}
	if m.Error.File != "2_bad.up.sql" || m.Error.Line != 4 || m.Error.SQLState != "42601" {
		t.Fatalf("error %+v, want 2_bad.up.sql:4 SQLSTATE 42601", m.Error)
	}
	if m3 := migration(t, rep, "3"); m3.Status != report.StatusNotRun {
		t.Fatalf("migration 3 status %s, want not-run", m3.Status)
	}
	found := false
	for _, f := range m.Findings {
		if f.Rule == "parse-error" && f.Line == 4 {
			found = true
		}
	}
	if !found {
		t.Fatalf("no parse-error finding at line 4: %+v", m.Findings)
	}
}

func TestConcurrentlyInTransaction(t *testing.T) {
	rep := rehearseDir(t, "testdata/concurrently-in-tx")
	m := migration(t, rep, "2")
	if m.Status != report.StatusFailed || m.Error.SQLState != "25001" || m.Error.Line != 3 || m.Error.File != "2_cic.up.sql" {
		t.Fatalf("migration 2: %+v / %+v, want failed at 2_cic.up.sql:3 SQLSTATE 25001", m, m.Error)
	}
}

func TestBaseMakesHistory(t *testing.T) {
	dir := "../../examples/shop"
	set := readDir(t, dir, migrate.FormatAuto)
	base := &migrate.Set{Format: set.Format, Migrations: set.Migrations[:3]}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: base, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, m := range rep.Migrations {
		statuses = append(statuses, m.Version+":"+m.Status)
		if m.New != (m.Version >= "4") {
			t.Errorf("%s new=%v", m.Version, m.New)
		}
	}
	want := "1:base 2:base 3:base 4:applied 5:applied"
	if got := strings.Join(statuses, " "); got != want {
		t.Fatalf("statuses %q, want %q", got, want)
	}
}

func containsAll(list []string, words ...string) bool {
	for _, s := range list {
		ok := true
		for _, w := range words {
			if !strings.Contains(s, w) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// TestMissedChangeIsRehearsedAgainWhole shows the safety net of incremental catalog reads. Migration 2
// runs, through an operator, a function that deletes a table's comment from pg_description: no lock, no
// new row, nothing an incremental read that scans the catalogs can see, no catalog DML in the
// migration's own text nor any function named in it (Inspector.CallsUnseen follows names, and an
// operator names its function nowhere in the text that uses it). The
// run's final whole read notices, and the rehearsal runs again with whole reads: migration 2's round trip
// is then judged on the real catalog (its down puts the comment back: ok) instead of a stale one. With the
// change log (SCHEMAGATE_INSPECT=log), the catalog rows written beside the logged DDL send the read after
// migration 2 to a whole read at once, and nothing is rehearsed twice.
func TestMissedChangeIsRehearsedAgainWhole(t *testing.T) {
	for _, mode := range []string{"incremental", "log"} { // verify mode would stop at the first stale read
		t.Run(mode, func(t *testing.T) { missedChange(t, mode) })
	}
}

func missedChange(t *testing.T, mode string) {
	t.Setenv("SCHEMAGATE_INSPECT", mode)
	dir := t.TempDir()
	files := map[string]string{
		"1_table.up.sql": `CREATE TABLE notes (id int PRIMARY KEY);
COMMENT ON TABLE notes IS 'kept';
CREATE FUNCTION forget_note_comment(int, int) RETURNS int LANGUAGE sql AS
  $$ DELETE FROM pg_catalog.pg_description WHERE objoid = 'notes'::regclass AND objsubid = 0; SELECT 1 $$;
CREATE OPERATOR ### (LEFTARG = int, RIGHTARG = int, FUNCTION = forget_note_comment);`,
		"1_table.down.sql":  "DROP OPERATOR ### (int, int); DROP FUNCTION forget_note_comment(int, int); DROP TABLE notes;",
		"2_forget.up.sql":   "SELECT 1 ### 2;",
		"2_forget.down.sql": "COMMENT ON TABLE notes IS 'kept';",
	}
	for name, sql := range files {
		if err := os.WriteFile(dir+"/"+name, []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var progress []string
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: readDir(t, dir, migrate.FormatGolangMigrate),
		Provider: provider(t), Dir: dir, Progress: func(f string, a ...any) { progress = append(progress, fmt.Sprintf(f, a...)) }})
	if err != nil {
		t.Fatal(err)
	}
	if m := migration(t, rep, "2"); m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
		t.Errorf("migration 2 round trip = %+v, want ok (judged on whole reads)", m.Roundtrip)
	}
	if !rep.OK {
		t.Errorf("report not OK: %+v", rep.Migrations)
	}
	joined := strings.Join(progress, "\n")
	if again := strings.Contains(joined, "rehearsing again with whole reads"); mode == "incremental" && (!again || !strings.Contains(joined, "public.notes")) {
		t.Errorf("progress does not say the run was repeated, naming the table:\n%s", joined)
	} else if mode == "log" && again {
		t.Errorf("rehearsed again, although the change log saw the catalog written:\n%s", joined)
	}
	if wrote := len(rep.Notes) > 0 && strings.Contains(rep.Notes[len(rep.Notes)-1], "read whole"); wrote != (mode == "incremental") {
		t.Errorf("notes %q: a note that the catalog was read whole %v, want %v", rep.Notes, wrote, mode == "incremental")
	}
	if m := migration(t, rep, "2"); m.SchemaDiff == nil || m.SchemaDiff.Empty() {
		t.Errorf("migration 2's schema diff is empty; the comment removal should show")
	}
}

// TestFunctionCallsWithUnseenChanges: a migration that changes column privileges through a function of
// an earlier migration (its own text only says SELECT grant_col(...), or SELECT wrapper() where wrapper
// calls grant_col) rewrites pg_attribute alone, which the incremental read's probe does not see. The
// read after it is whole, so the round trip is judged on the real catalog: a down that forgets the grant
// fails its own migration (not the next one, whose down would be the first to meet a whole read), and a
// down that revokes through a function passes.
func TestFunctionCallsWithUnseenChanges(t *testing.T) {
	t.Setenv("SCHEMAGATE_INSPECT", "incremental") // verify mode would stop at the first stale read
	base := `CREATE TABLE t (id bigint PRIMARY KEY, a text);
DO $$ BEGIN CREATE ROLE schemagate_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
CREATE FUNCTION grant_col(tbl text, col text, rol text) RETURNS void LANGUAGE plpgsql AS
  $$ BEGIN EXECUTE format('grant update (%I) on %I to %I', col, tbl, rol); END $$;
CREATE FUNCTION revoke_col(tbl text, col text, rol text) RETURNS void LANGUAGE plpgsql AS
  $$ BEGIN EXECUTE format('revoke update (%I) on %I from %I', col, tbl, rol); END $$;
CREATE FUNCTION wrapper() RETURNS void LANGUAGE plpgsql AS
  $$ BEGIN PERFORM grant_col('t', 'a', 'schemagate_app'); END $$;
CREATE TABLE pending (stmt text);
INSERT INTO pending VALUES ('GRANT UPDATE (a) ON t TO schemagate_app');
CREATE FUNCTION run_pending() RETURNS void LANGUAGE plpgsql AS
  $$ DECLARE s text; BEGIN FOR s IN SELECT stmt FROM pending LOOP EXECUTE s; END LOOP; END $$;`
	for _, tc := range []struct {
		name     string
		files    map[string]string
		failed   string // the migration whose round trip fails, naming the column's privileges
		ok       []string
		problems string
	}{{
		name: "down forgets",
		files: map[string]string{
			"2_grant.up.sql": "SELECT grant_col('t', 'a', 'schemagate_app');", "2_grant.down.sql": "SELECT 1;",
			"3_z.up.sql": "ALTER TABLE t ADD COLUMN z int;", "3_z.down.sql": "ALTER TABLE t DROP COLUMN z;",
		},
		failed: "2", ok: []string{"3"}, problems: "column t.a has privileges",
	}, {
		name: "through a wrapper",
		files: map[string]string{
			"2_grant.up.sql": "SELECT wrapper();", "2_grant.down.sql": "SELECT 1;",
			"3_z.up.sql": "ALTER TABLE t ADD COLUMN z int;", "3_z.down.sql": "ALTER TABLE t DROP COLUMN z;",
		},
		failed: "2", ok: []string{"3"}, problems: "column t.a has privileges",
	}, {
		name: "statements read from a table",
		files: map[string]string{
			"2_grant.up.sql": "SELECT run_pending();", "2_grant.down.sql": "SELECT 1;",
			"3_z.up.sql": "ALTER TABLE t ADD COLUMN z int;", "3_z.down.sql": "ALTER TABLE t DROP COLUMN z;",
		},
		failed: "2", ok: []string{"3"}, problems: "column t.a has privileges",
	}, {
		name: "a trigger calls a wrapper",
		files: map[string]string{
			"2_trigger.up.sql": `CREATE FUNCTION on_insert() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN PERFORM wrapper(); RETURN NEW; END $$;
CREATE TRIGGER t_ins AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION on_insert();`,
			"2_trigger.down.sql": "DROP TRIGGER t_ins ON t; DROP FUNCTION on_insert();",
			"3_row.up.sql":       "INSERT INTO t VALUES (1);", "3_row.down.sql": "DELETE FROM t;",
			"4_z.up.sql": "ALTER TABLE t ADD COLUMN z int;", "4_z.down.sql": "ALTER TABLE t DROP COLUMN z;",
		},
		failed: "3", ok: []string{"2", "4"}, problems: "column t.a has privileges",
	}, {
		name: "down revokes through a function",
		files: map[string]string{
			"2_grant.up.sql":   "GRANT UPDATE (a) ON t TO schemagate_app;",
			"2_grant.down.sql": "SELECT revoke_col('t', 'a', 'schemagate_app');",
		},
		ok: []string{"2"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			tc.files["1_base.up.sql"] = base
			var progress []string
			rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGolangMigrate, tc.files),
				Provider: provider(t), Progress: func(f string, a ...any) { progress = append(progress, fmt.Sprintf(f, a...)) }})
			if err != nil {
				t.Fatal(err)
			}
			if tc.failed != "" {
				m := migration(t, rep, tc.failed)
				if m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripFailed || !strings.Contains(strings.Join(m.Roundtrip.Problems, "\n"), tc.problems) {
					t.Errorf("migration %s round trip = %+v, want failed naming %q", tc.failed, m.Roundtrip, tc.problems)
				}
			}
			for _, v := range tc.ok {
				if m := migration(t, rep, v); m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
					t.Errorf("migration %s round trip = %+v, want ok", v, m.Roundtrip)
				}
			}
			if joined := strings.Join(progress, "\n"); strings.Contains(joined, "rehearsing again with whole reads") {
				t.Errorf("rehearsed again: a read after the call was incremental and missed the privileges:\n%s", joined)
			}
		})
	}
}

// TestHistoryFailureInLaterBatch: history replays a few dozen migrations per round trip; a failure in
// the second batch still names the right migration, file and line, keeps the ones before it as base
// and leaves the rest not run.
func TestHistoryFailureInLaterBatch(t *testing.T) {
	dir := generateHistory(t, 80)
	bad := filepath.Join(dir, "0067_func_t7.up.sql")
	if err := os.WriteFile(bad, []byte("CREATE INDEX t7_note_idx ON t7 (name);\nCREATE INDEX t7_note_idx ON t7 (created_at);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	set := readDir(t, dir, migrate.FormatGolangMigrate)
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: set, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK {
		t.Fatal("a failing history must fail the run")
	}
	for i, m := range rep.Migrations {
		want := report.StatusBase
		switch {
		case i+1 == 67:
			want = report.StatusFailed
			if e := m.Error; e == nil || e.File != "0067_func_t7.up.sql" || e.Line != 2 || e.SQLState != "42P07" {
				t.Errorf("0067 error %+v, want 0067_func_t7.up.sql:2 SQLSTATE 42P07", e)
			}
		case i+1 > 67:
			want = report.StatusNotRun
		}
		if m.Status != want {
			t.Errorf("%s: %s, want %s", m.Version, m.Status, want)
		}
	}
}

// TestMissingExtensionSaysWhatToDo: CREATE EXTENSION of an extension the throwaway server lacks fails
// the migration at its line, and the hint says how to rehearse on a server that has it.
func TestMissingExtensionSaysWhatToDo(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "1_geo.up.sql"), "CREATE TABLE places (id bigint PRIMARY KEY);\nCREATE EXTENSION IF NOT EXISTS sg_no_such_extension;\n")
	writeTestFile(t, filepath.Join(dir, "1_geo.down.sql"), "DROP TABLE places;\n")
	rep := rehearseDir(t, dir)
	e := migration(t, rep, "1").Error
	if e == nil || e.Line != 2 || e.SQLState != "0A000" || !strings.Contains(e.Hint, "does not have sg_no_such_extension") ||
		!strings.Contains(e.Hint, "--image") {
		t.Fatalf("error %+v, want line 2 with SQLSTATE 0A000 and a hint naming the extension and --image", e)
	}
}

func writeTestFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// folderOf writes files into a new folder and reads it in format.
func folderOf(t *testing.T, format migrate.Format, files map[string]string) *migrate.Set {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		writeTestFile(t, filepath.Join(dir, name), body)
	}
	return readDir(t, dir, format)
}

// TestEditedAndOutOfOrderMigrations: against its base, a change that edits a migration the base has is
// failed (databases keep the base's text, which the history replays), and a new migration that sorts
// before the base's last one is failed too, not run (schemagate deploy refuses it), saying what the
// owning tool does with it.
func TestEditedAndOutOfOrderMigrations(t *testing.T) {
	baseFiles := map[string]string{
		"10_a.up.sql": "CREATE TABLE a (id bigint PRIMARY KEY);", "10_a.down.sql": "DROP TABLE a;",
		"20_b.up.sql": "CREATE TABLE b (id bigint PRIMARY KEY);", "20_b.down.sql": "DROP TABLE b;",
		"30_c.up.sql": "ALTER TABLE b ADD COLUMN note text;", "30_c.down.sql": "ALTER TABLE b DROP COLUMN note;",
	}
	curFiles := map[string]string{}
	for k, v := range baseFiles {
		curFiles[k] = v
	}
	// The edit renames the table 30 alters: had the history replayed the edited text, 30 would fail.
	curFiles["20_b.up.sql"] = "-- b, renamed\nCREATE TABLE b_renamed (id bigint PRIMARY KEY);"
	curFiles["15_early.up.sql"] = "CREATE TABLE early (id bigint PRIMARY KEY);"
	curFiles["15_early.down.sql"] = "DROP TABLE early;"
	// 30's down alone is fixed: databases keep what its up did, and a rollback runs the new down.
	curFiles["30_c.down.sql"] = "ALTER TABLE b DROP COLUMN IF EXISTS note;"
	curFiles["40_late.up.sql"] = "CREATE TABLE late (id bigint PRIMARY KEY);"
	curFiles["40_late.down.sql"] = "DROP TABLE late;"
	base := folderOf(t, migrate.FormatGolangMigrate, baseFiles)
	set := folderOf(t, migrate.FormatGolangMigrate, curFiles)
	var progress []string
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: base, Provider: provider(t),
		Progress: func(format string, args ...any) { progress = append(progress, fmt.Sprintf(format, args...)) }})
	if err != nil {
		t.Fatal(err)
	}
	// The progress counts what the history replays (the base's text of 20 too) and what is rehearsed,
	// then the change as the report counts it: added, edited (also a down alone), deleted.
	want := "5 migrations: 3 history to replay (1 unchanged, 1 with only a changed down or verify script, 1 edited, as the base has it), " +
		"2 new to rehearse; the change: 2 added, 2 edited, 0 deleted"
	if len(progress) == 0 || progress[0] != want || len(rep.New()) != 4 {
		t.Errorf("progress starts %q, want %q (report: %d new)", progress, want, len(rep.New()))
	}
	if !slices.Contains(progress, "replaying 3 history migrations") {
		t.Errorf("progress %q, want it to replay the 3 history migrations it counted", progress)
	}
	var got []string
	rules := map[string][]string{}
	for _, m := range rep.Migrations {
		got = append(got, fmt.Sprintf("%s:%s:%v", m.Version, m.Status, m.New))
		for _, f := range m.Findings {
			if f.Source == "history" {
				rules[m.Version] = append(rules[m.Version], f.Rule+" "+f.Risk.String()+": "+f.Message)
			}
		}
	}
	if want := "10:base:false 15:failed:true 20:failed:true 30:base:true 40:applied:true"; strings.Join(got, " ") != want {
		t.Fatalf("migrations %q, want %q", strings.Join(got, " "), want)
	}
	if rep.OK {
		t.Error("report OK with an edited applied migration")
	}
	if r := rules["20"]; len(r) != 1 || !strings.HasPrefix(r[0], "edited-applied-migration dangerous: ") || !strings.Contains(r[0], "refuses the changed checksum") {
		t.Errorf("20: %q, want one dangerous edited-applied-migration finding", r)
	}
	if e := migration(t, rep, "20").Error; e == nil || e.File != "20_b.up.sql" || e.Line != 2 || e.Phase != "edit" {
		t.Errorf("20 error %+v, want it at the statement that changed, 20_b.up.sql:2", e)
	}
	if r := rules["15"]; len(r) != 1 || !strings.HasPrefix(r[0], "out-of-order-migration dangerous: ") || !strings.Contains(r[0], "golang-migrate only moves forward") ||
		!strings.Contains(r[0], "schemagate deploy refuses it") {
		t.Errorf("15: %q, want one dangerous out-of-order-migration finding", r)
	}
	if r := rules["30"]; len(r) != 1 || !strings.HasPrefix(r[0], "edited-applied-migration caution: the down script of migration 30_c differs") {
		t.Errorf("30: %q, want one caution edited-applied-migration finding on its down", r)
	}
	if m := migration(t, rep, "30"); m.Risk != lint.Caution || m.Findings[0].File != "30_c.down.sql" || m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripSkipped {
		t.Errorf("30: risk %s, findings %+v, round trip %+v", m.Risk, m.Findings, m.Roundtrip)
	}
	if r := rules["40"]; len(r) != 0 {
		t.Errorf("40 comes after the base's last migration: %q", r)
	}
}

// TestRepeatableMigrationsMatchByName: Flyway repeatable migrations have no version; each is matched with
// the base's by name, so an unchanged one is history and a changed one is new (Flyway runs it again).
func TestRepeatableMigrationsMatchByName(t *testing.T) {
	baseFiles := map[string]string{
		"V1__init.sql":  "CREATE TABLE t (id bigint PRIMARY KEY, name text);",
		"R__a_view.sql": "CREATE OR REPLACE VIEW a_view AS SELECT id FROM t;",
		"R__b_view.sql": "CREATE OR REPLACE VIEW b_view AS SELECT name FROM t;",
	}
	curFiles := map[string]string{
		"V1__init.sql":  baseFiles["V1__init.sql"],
		"R__a_view.sql": baseFiles["R__a_view.sql"],
		"R__b_view.sql": "CREATE OR REPLACE VIEW b_view AS SELECT name, id FROM t;", // on top of the base's: a column added at the end
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{
		Set: folderOf(t, migrate.FormatFlyway, curFiles), Base: folderOf(t, migrate.FormatFlyway, baseFiles), Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range rep.Migrations {
		got = append(got, fmt.Sprintf("%s:%s:%v", m.Label(), m.Status, m.New))
	}
	if want := "1_init:base:false a_view:base:false b_view:applied:true"; strings.Join(got, " ") != want {
		t.Errorf("migrations %q, want %q", strings.Join(got, " "), want)
	}
}

// TestChangedRepeatableRunsOnItsBaseVersion: databases at the base ran the base's R__ file, so its new
// text runs on top of that: a view that drops a column fails there (CREATE OR REPLACE VIEW cannot drop
// columns), as it fails in production. The history used to leave the base's version out, and it passed.
func TestChangedRepeatableRunsOnItsBaseVersion(t *testing.T) {
	baseFiles := map[string]string{
		"V1__t.sql": "CREATE TABLE t (id bigint, v text);",
		"R__v.sql":  "CREATE OR REPLACE VIEW v AS SELECT id, v FROM t;",
	}
	curFiles := map[string]string{"V1__t.sql": baseFiles["V1__t.sql"], "R__v.sql": "CREATE OR REPLACE VIEW v AS SELECT id FROM t;"}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{
		Set: folderOf(t, migrate.FormatFlyway, curFiles), Base: folderOf(t, migrate.FormatFlyway, baseFiles), Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	m := migration(t, rep, "") // the repeatable has no version
	if m.Status != report.StatusFailed || m.Error == nil || !strings.Contains(m.Error.Message, "cannot drop columns from view") {
		t.Errorf("R__v: status %s, error %+v; want failed: cannot drop columns from view", m.Status, m.Error)
	}
}

// TestSessionSettingsDoNotLeak: pg_dump's output empties search_path for the session. Neither the next
// migration (in production it runs in a session of its own) nor the catalog comparison (deparsed names
// are qualified by the search path) may see that, whether the dump is new or history.
func TestSessionSettingsDoNotLeak(t *testing.T) {
	const dump = "SELECT pg_catalog.set_config('search_path', '', false);\n"
	files := map[string]string{
		"1_dump.up.sql":   dump + "CREATE TYPE public.mood AS ENUM ('a', 'b');\nCREATE TABLE public.t (id bigint PRIMARY KEY, m public.mood);",
		"1_dump.down.sql": dump + "DROP TABLE public.t;\nDROP TYPE public.mood;",
		"2_more.up.sql":   dump + "CREATE TABLE public.u (id bigint PRIMARY KEY, m public.mood DEFAULT 'a');",
		"2_more.down.sql": "DROP TABLE u;",
		"3_z.up.sql":      "ALTER TABLE t ADD COLUMN z int;",
		"3_z.down.sql":    "ALTER TABLE t DROP COLUMN z;",
		"4_idx.up.sql":    "CREATE INDEX CONCURRENTLY t_z ON t (z);",
		"4_idx.down.sql":  "DROP INDEX CONCURRENTLY t_z;",
	}
	set := folderOf(t, migrate.FormatGolangMigrate, files)
	for _, history := range []int{0, 3} {
		t.Run(fmt.Sprintf("%d in history", history), func(t *testing.T) {
			opts := rehearse.Options{Set: set, Provider: provider(t)}
			if history > 0 {
				opts.Base = &migrate.Set{Format: set.Format, Migrations: set.Migrations[:history]}
			}
			rep, err := rehearse.Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range rep.Migrations {
				want := report.StatusApplied
				if !m.New {
					want = report.StatusBase
				}
				if m.Status != want || m.Error != nil {
					t.Errorf("%s: %s %+v, want %s", m.Version, m.Status, m.Error, want)
				}
				if m.New && (m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK) {
					t.Errorf("%s: round trip %+v, want ok", m.Version, m.Roundtrip)
				}
			}
		})
	}
}

// pgDump finds pg_dump where the local provider finds the server: pg_config --bindir, then Debian's
// folders.
func pgDump(t *testing.T) string {
	t.Helper()
	var dirs []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	more, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for _, d := range append(dirs, more...) {
		if _, err := os.Stat(filepath.Join(d, "pg_dump")); err == nil {
			return filepath.Join(d, "pg_dump")
		}
	}
	pgtest.Unavailable(t, "no pg_dump")
	return ""
}

// TestPgDumpPlainFolder: a plain folder that starts from pg_dump's output (\restrict lines since
// 15.14/16.10/17.6, COPY data with \N, search_path emptied) rehearses, and so does the migration after it.
func TestPgDumpPlainFolder(t *testing.T) {
	url := pgtest.URL(t)
	src, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Exec(context.Background(), `
		CREATE TYPE mood AS ENUM ('calm', 'busy');
		CREATE TABLE plans (id bigint PRIMARY KEY, name text, m mood DEFAULT 'calm');
		INSERT INTO plans VALUES (1, NULL, 'busy'), (2, E'back\\slash\ttab', 'calm');
		CREATE VIEW busy_plans AS SELECT id, name FROM plans WHERE m = 'busy';`)
	src.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pgDump(t), "--no-owner", "--no-privileges", "-d", url).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	if !strings.Contains(string(out), "\\N") || !strings.Contains(string(out), "set_config('search_path', '', false)") {
		t.Fatalf("pg_dump wrote no NULL in COPY data or no search_path reset; the test needs both:\n%s", out)
	}
	set := folderOf(t, migrate.FormatPlain, map[string]string{
		"001_baseline.sql": string(out),
		"002_next.sql":     "\\echo adding a column\nALTER TABLE plans ADD COLUMN note text;\n",
	})
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	wantAllApplied(t, rep)
}

// wantAllApplied fails the test for every migration of rep that is not applied without error.
func wantAllApplied(t *testing.T, rep *report.Report) {
	t.Helper()
	for _, m := range rep.Migrations {
		if m.Status != report.StatusApplied || m.Error != nil {
			t.Errorf("%s: %s %+v, want applied", m.Version, m.Status, m.Error)
		}
	}
}

// TestPlainFolderRunsAsPsqlDoes: psql runs a plain file statement by statement, so an enum value added
// and then used, or CREATE INDEX CONCURRENTLY after another statement, works; in one transaction both
// fail (55P04, 25001), and the rehearsal used to fail them.
func TestPlainFolderRunsAsPsqlDoes(t *testing.T) {
	set := folderOf(t, migrate.FormatPlain, map[string]string{
		"001_init.sql":  "CREATE TYPE state AS ENUM ('new', 'done');\nCREATE TABLE jobs (id bigint PRIMARY KEY, s state);\n",
		"002_enum.sql":  "ALTER TYPE state ADD VALUE 'failed';\nINSERT INTO jobs VALUES (1, 'failed');\n",
		"003_index.sql": "ALTER TABLE jobs ADD COLUMN note text;\nCREATE INDEX CONCURRENTLY jobs_note ON jobs (note);\n",
	})
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	wantAllApplied(t, rep)
}

// TestStatementTimeout: a statement that sleeps (or loops) past the limit is canceled, whatever
// statement_timeout the migration sets, and its migration is failed with a message that says why; a down
// that does so fails its round trip and the run goes on.
func TestStatementTimeout(t *testing.T) {
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql":   "CREATE TABLE a (id bigint PRIMARY KEY);",
		"1_a.down.sql": "SET statement_timeout = 0;\nSELECT pg_sleep(60);\nDROP TABLE a;",
		"2_b.up.sql":   "SET statement_timeout = 0;\nCREATE TABLE b (id bigint PRIMARY KEY);\nSELECT pg_sleep(60);",
		"2_b.down.sql": "DROP TABLE b;",
	})
	var mu sync.Mutex
	var progress []string
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: provider(t), StatementTimeout: 500 * time.Millisecond, NoTrace: true,
		Progress: func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			progress = append(progress, fmt.Sprintf(format, args...))
		}})
	if err != nil {
		t.Fatal(err)
	}
	// The cancellation is a progress line (not a log record) naming the statement.
	mu.Lock()
	if out := strings.Join(progress, "\n"); !strings.Contains(out, "(statement timeout 500ms): SELECT pg_sleep(60)") {
		t.Errorf("progress says nothing of the canceled statement:\n%s", out)
	}
	// How long it ran is said to a tenth of a second, as the report's milliseconds have it: whole
	// seconds said "canceled after 1s (statement timeout 500ms)" of a statement canceled at 0.6 s.
	for _, l := range progress {
		if m := canceledAfter.FindStringSubmatch(l); m != nil {
			if d, err := time.ParseDuration(m[1]); err != nil || d < 500*time.Millisecond || d >= time.Second {
				t.Errorf("progress line %q: want the time it ran, at least 500ms, in tenths of a second", l)
			}
		}
	}
	mu.Unlock()
	a, b := migration(t, rep, "1"), migration(t, rep, "2")
	if a.Status != report.StatusApplied || a.Roundtrip == nil || a.Roundtrip.Status != report.RoundtripFailed ||
		a.Roundtrip.Error == nil || !strings.Contains(a.Roundtrip.Error.Message, "longer than 500ms") || a.Roundtrip.Error.Line != 2 {
		t.Errorf("1: %s, round trip %+v; want applied, its down failed at line 2 for running longer than 500ms", a.Status, a.Roundtrip)
	}
	if b.Status != report.StatusFailed || b.Error == nil || !strings.Contains(b.Error.Message, "longer than 500ms") ||
		b.Error.Line != 3 || b.Error.SQLState != "57014" || !strings.Contains(b.Error.Hint, "--statement-timeout") {
		t.Errorf("2: %s %+v; want failed at line 3, SQLSTATE 57014, for running longer than 500ms", b.Status, b.Error)
	}
}

// TestStatementTimeoutInHistory: a history statement the rehearsal's limit canceled is reported as that,
// not as a base that does not apply, and the message names the limit and where it was set. The hint
// says to raise it and does not call the database empty: the history may have loaded rows (the new
// migration after it, canceled too, has the same hint).
func TestStatementTimeoutInHistory(t *testing.T) {
	base := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_events.up.sql": "CREATE TABLE events (id bigint);\nINSERT INTO events SELECT generate_series(1, 1000);\nSELECT pg_sleep(60);",
	})
	files := map[string]string{
		"1_events.up.sql": "CREATE TABLE events (id bigint);\nINSERT INTO events SELECT generate_series(1, 1000);\nSELECT pg_sleep(60);",
		"2_slow.up.sql":   "SELECT pg_sleep(60);",
		"2_slow.down.sql": "SELECT 1;",
	}
	set := folderOf(t, migrate.FormatGolangMigrate, files)
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Base: base, Provider: provider(t), NoTrace: true,
		StatementTimeout: 500 * time.Millisecond, StatementTimeoutFrom: "--statement-timeout"})
	if err != nil {
		t.Fatal(err)
	}
	m := migration(t, rep, "1")
	if m.Status != report.StatusFailed || m.Error == nil || m.Error.Line != 3 ||
		!strings.Contains(m.Error.Message, "longer than 500ms, the rehearsal's limit for one statement (set by --statement-timeout)") {
		t.Fatalf("1: %s %+v; want failed at line 3 for running longer than 500ms, set by --statement-timeout", m.Status, m.Error)
	}
	wantHint := func(name string, e *report.SQLError) {
		if strings.Contains(e.Hint, "empty") || !strings.Contains(e.Hint, "raise the limit with --statement-timeout") {
			t.Errorf("%s: hint %q: want it to say to raise the limit, and not call the database empty", name, e.Hint)
		}
	}
	wantHint("1", m.Error)
	notes := strings.Join(rep.Notes, "\n")
	if strings.Contains(notes, "does not apply") || !strings.Contains(notes, "history migration 1_events was stopped: a statement ran longer than 500ms") {
		t.Errorf("notes %q: want them to say the limit stopped history migration 1_events, not that the base does not apply", notes)
	}

	// Past a history that loaded rows, a new migration's statement runs into the limit: the same hint.
	loads := "CREATE TABLE events (id bigint);\nINSERT INTO events SELECT generate_series(1, 1000);"
	files["1_events.up.sql"] = loads
	set = folderOf(t, migrate.FormatGolangMigrate, files)
	base = folderOf(t, migrate.FormatGolangMigrate, map[string]string{"1_events.up.sql": loads})
	rep, err = rehearse.Run(t.Context(), rehearse.Options{Set: set, Base: base, Provider: provider(t), NoTrace: true,
		StatementTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if m := migration(t, rep, "2"); m.Status != report.StatusFailed || m.Error == nil ||
		!strings.Contains(m.Error.Message, "longer than 500ms, the rehearsal's limit for one statement") {
		t.Errorf("2: %s %+v; want failed for running longer than 500ms", m.Status, m.Error)
	} else {
		wantHint("2", m.Error)
	}
}

// canceledAfter finds the time a canceled statement ran in its progress line.
var canceledAfter = regexp.MustCompile(`canceled after (\S+) \(statement timeout`)

// TestStillRunningProgress: a long statement is not silent. The progress says which one is running.
func TestStillRunningProgress(t *testing.T) {
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_slow.up.sql":   "CREATE TABLE a (id bigint PRIMARY KEY);\nSELECT pg_sleep(1.5) AS backfill;",
		"1_slow.down.sql": "DROP TABLE a;",
	})
	var mu sync.Mutex
	var lines []string
	progress := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: provider(t), NoTrace: true,
		StillRunningEvery: 400 * time.Millisecond, Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	if m := migration(t, rep, "1"); m.Status != report.StatusApplied {
		t.Fatalf("1: %s %+v", m.Status, m.Error)
	}
	mu.Lock()
	defer mu.Unlock()
	sleeping := 0
	for _, l := range lines {
		if strings.Contains(l, "still running after") {
			if strings.Contains(l, "WITH ") {
				t.Errorf("progress line %q names schemagate's own catalog read", l)
			}
			if strings.Contains(l, "SELECT pg_sleep(1.5) AS backfill") {
				sleeping++
			}
		}
	}
	if sleeping < 2 {
		t.Errorf("progress %q: want the sleeping statement named at least twice as still running", lines)
	}
}

// TestGooseGoMigration: a goose folder may hold Go migrations. They are reported (not run, with a
// go-migration finding for the reviewer) and the SQL migrations around them are rehearsed.
func TestGooseGoMigration(t *testing.T) {
	set := folderOf(t, migrate.FormatGoose, map[string]string{
		"00001_users.sql":     "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY, email text);\n-- +goose Down\nDROP TABLE users;\n",
		"00002_backfill.go":   "package migrations\n\nimport \"github.com/pressly/goose/v3\"\n\nfunc init() { goose.AddMigrationContext(nil, nil) }\n",
		"00003_email_idx.sql": "-- +goose Up\nCREATE INDEX users_email ON users (email);\n-- +goose Down\nDROP INDEX users_email;\n",
	})
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: provider(t), NoTrace: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range rep.Migrations {
		s := m.Version + ":" + m.Status + "/" + m.Roundtrip.Status
		for _, f := range m.Findings {
			if f.Rule == "go-migration" {
				s += "+" + f.Rule + "@" + f.File
			}
		}
		got = append(got, s)
	}
	want := "1:applied/ok 2:not-run/skipped+go-migration@00002_backfill.go 3:applied/ok"
	if strings.Join(got, " ") != want || !rep.OK {
		t.Errorf("got %q (ok %v), want %q and ok", strings.Join(got, " "), rep.OK, want)
	}
}

// TestNonTransactionalRoundTripFailureGoesOn: a non-transactional migration whose down leaves something
// behind fails its round trip; the database copy taken before it is swapped back and the run goes on.
// With the local provider the rehearsal runs in database postgres, the one the admin URL names.
func TestNonTransactionalRoundTripFailureGoesOn(t *testing.T) {
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql":   "CREATE TABLE a (id bigint);",
		"1_a.down.sql": "DROP TABLE a;",
		"2_i.up.sql":   "CREATE INDEX CONCURRENTLY a_i ON a (id);",
		"2_i.down.sql": "SELECT 1;",
		"3_b.up.sql":   "ALTER TABLE a ADD COLUMN b int;",
		"3_b.down.sql": "ALTER TABLE a DROP COLUMN b;",
	})
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	rt := rep.Migrations[1].Roundtrip
	if rt == nil || rt.Status != report.RoundtripFailed || !strings.Contains(strings.Join(rt.Problems, "\n"), "a_i") {
		t.Fatalf("2_i round trip %+v, want failed naming the index left behind", rt)
	}
	if m := rep.Migrations[2]; m.Status != report.StatusApplied || m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
		t.Errorf("3_b after the failed round trip: %s %+v", m.Status, m.Roundtrip)
	}
}

// TestDeletedAppliedMigration: a change that deletes a migration the base has is failed, and the history
// still replays it where the base has it (databases ran it): the migration after it, which relies on
// it, applies; a deleted last migration is replayed last.
func TestDeletedAppliedMigration(t *testing.T) {
	baseFiles := map[string]string{
		"10_a.up.sql": "CREATE TABLE a (id bigint PRIMARY KEY);", "10_a.down.sql": "DROP TABLE a;",
		"20_b.up.sql": "CREATE TABLE b (id bigint PRIMARY KEY);", "20_b.down.sql": "DROP TABLE b;",
		"30_c.up.sql": "ALTER TABLE b ADD COLUMN note text;", "30_c.down.sql": "ALTER TABLE b DROP COLUMN note;",
		"35_d.up.sql": "CREATE TABLE d (id bigint PRIMARY KEY);",
	}
	curFiles := map[string]string{
		"10_a.up.sql": baseFiles["10_a.up.sql"], "10_a.down.sql": baseFiles["10_a.down.sql"],
		"30_c.up.sql": baseFiles["30_c.up.sql"], "30_c.down.sql": baseFiles["30_c.down.sql"],
		"40_e.up.sql": "ALTER TABLE d ADD COLUMN e int;", "40_e.down.sql": "ALTER TABLE d DROP COLUMN e;",
	}
	base := folderOf(t, migrate.FormatGolangMigrate, baseFiles)
	set := folderOf(t, migrate.FormatGolangMigrate, curFiles)
	sp := rehearse.SplitHistory(set, base)
	var hist []string
	for _, m := range sp.History {
		hist = append(hist, m.Version)
	}
	if strings.Join(hist, " ") != "10 20 30 35" {
		t.Errorf("history %v, want the base's order with the deleted 20 and 35 in place", hist)
	}
	var progress []string
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: base, Provider: provider(t),
		Progress: func(format string, args ...any) { progress = append(progress, fmt.Sprintf(format, args...)) }})
	if err != nil {
		t.Fatal(err)
	}
	// The history counts the deleted migrations it replays, and the counts add up: 3 in the folder and
	// 2 deleted are 4 replayed and 1 new.
	want := "3 migrations, and 2 deleted since the base: 4 history to replay (2 unchanged, 2 deleted, as the base has it), 1 new to rehearse; the change: 1 added, 0 edited, 2 deleted"
	if len(progress) == 0 || progress[0] != want || !slices.Contains(progress, "replaying 4 history migrations") {
		t.Errorf("progress %q, want it to start %q and replay 4 history migrations", progress, want)
	}
	var got []string
	for _, m := range rep.Migrations {
		got = append(got, fmt.Sprintf("%s:%s:%v", m.Version, m.Status, m.New))
	}
	if want := "10:base:false 30:base:false 40:applied:true 20:failed:true 35:failed:true"; strings.Join(got, " ") != want {
		t.Fatalf("migrations %q, want %q", strings.Join(got, " "), want)
	}
	if rep.OK {
		t.Error("report OK with a deleted applied migration")
	}
	m := migration(t, rep, "20")
	if len(m.Findings) != 1 || m.Findings[0].Rule != "deleted-applied-migration" || m.Error == nil || m.Error.File != "20_b.up.sql" {
		t.Errorf("20: findings %+v, error %+v", m.Findings, m.Error)
	}
}

// TestSqitchVerifyRuns: a change's verify script runs after its deploy, as sqitch deploy --verify and
// schemagate deploy run it; one that fails fails the change at its line.
func TestSqitchVerifyRuns(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("testdata", "formats", "sqitch")
	for _, sub := range []string{"", "deploy", "revert", "verify"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(filepath.Join(src, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(src, sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			writeTestFile(t, filepath.Join(dir, sub, e.Name()), string(b))
		}
	}
	rep := rehearseDir(t, dir)
	if !rep.OK {
		t.Fatalf("the sample sqitch project fails: %+v", failedOf(rep))
	}
	writeTestFile(t, filepath.Join(dir, "verify", "orders.sql"), "-- Verify shop:orders on pg\n\nBEGIN;\n\nSELECT id, no_such_column FROM orders WHERE false;\n\nROLLBACK;\n")
	rep = rehearseDir(t, dir)
	m := migration(t, rep, "orders")
	if m.Status != report.StatusFailed || m.Error == nil || m.Error.Phase != "verify" || m.Error.File != "verify/orders.sql" || m.Error.Line != 5 ||
		!strings.Contains(m.Error.Message, "no_such_column") {
		t.Errorf("orders with a broken verify: %s %+v", m.Status, m.Error)
	}
	// The change committed before its verify failed: the catalog is not the one before it, which the
	// end-of-run check must not take for a change the incremental reads missed.
	for _, n := range rep.Notes {
		if strings.Contains(n, "missed") {
			t.Errorf("note %q: a failed verify is not a missed change", n)
		}
	}
}

func failedOf(rep *report.Report) []string {
	var out []string
	for _, m := range rep.Migrations {
		if m.Error != nil {
			out = append(out, m.Version+": "+m.Error.Message)
		}
	}
	return out
}

// TestRoundTripSeesAccessOptionsRulesAndStatistics: a down that leaves privileges, an owner, storage
// parameters, a rule, extended statistics, a collation or default privileges behind fails its round
// trip, saying what stayed; a down that undoes them passes. The ups are idempotent (IF NOT EXISTS, OR
// REPLACE), so only the catalog comparison can catch a down that does nothing.
func TestRoundTripSeesAccessOptionsRulesAndStatistics(t *testing.T) {
	files := map[string]string{
		"01_base.up.sql": "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int);\nCREATE TABLE u (x bigint GENERATED ALWAYS AS IDENTITY);\n" +
			"DO $$ BEGIN CREATE ROLE schemagate_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;",
		"01_base.down.sql": "DROP TABLE u; DROP TABLE t;",
	}
	cases := []struct{ name, up, down, want string }{
		{"stats", "CREATE STATISTICS IF NOT EXISTS t_ab ON a, b FROM t;", "DROP STATISTICS IF EXISTS t_ab;", "extended statistics"},
		{"rule", "CREATE OR REPLACE RULE r AS ON DELETE TO t DO INSTEAD NOTHING;", "DROP RULE IF EXISTS r ON t;", "rule r on t is left behind"},
		{"coll", "CREATE COLLATION IF NOT EXISTS mycoll (locale = 'C');", "DROP COLLATION IF EXISTS mycoll;", "collations"},
		{"grant", "GRANT SELECT ON t TO schemagate_app;", "REVOKE SELECT ON t FROM schemagate_app;", "privileges"},
		{"opts", "ALTER TABLE t SET (autovacuum_enabled = false, fillfactor = 70);", "ALTER TABLE t RESET (autovacuum_enabled, fillfactor);", "storage parameters"},
		{"owner", "ALTER TABLE t OWNER TO schemagate_app;", "ALTER TABLE t OWNER TO CURRENT_USER;", "owner"},
		{"ident", "ALTER TABLE t REPLICA IDENTITY FULL;", "ALTER TABLE t REPLICA IDENTITY DEFAULT;", "replica identity"},
		{"defpriv", "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO schemagate_app;",
			"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM schemagate_app;", "default privileges"},
		{"colstats", "ALTER TABLE t ALTER COLUMN a SET STATISTICS 500;", "ALTER TABLE t ALTER COLUMN a SET STATISTICS -1;", "statistics target"},
		{"colgrant", "GRANT SELECT (a), UPDATE (b) ON t TO schemagate_app;", "REVOKE SELECT (a), UPDATE (b) ON t FROM schemagate_app;", "column t.a has privileges"},
		// An identity column's sequence is no sequence of the catalog: what is done to it is its column's.
		{"idseqgrant", "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO schemagate_app;",
			"REVOKE USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public FROM schemagate_app;", "column u.x has identity sequence privileges"},
		{"idseqcomment", "COMMENT ON SEQUENCE u_x_seq IS 'x';", "COMMENT ON SEQUENCE u_x_seq IS NULL;", "column u.x has identity sequence comment"},
		{"idseqname", "ALTER SEQUENCE u_x_seq RENAME TO u_x_seq2;", "ALTER SEQUENCE u_x_seq2 RENAME TO u_x_seq;", "column u.x has its identity sequence named u_x_seq2"},
	}
	for i, c := range cases {
		files[fmt.Sprintf("%02d_%s.up.sql", 2*i+2, c.name)] = c.up
		files[fmt.Sprintf("%02d_%s.down.sql", 2*i+2, c.name)] = "SELECT 1;" // forgets
		// What the failed round trip left is undone by the next migration, whose down puts it back.
		files[fmt.Sprintf("%02d_%s_ok.up.sql", 2*i+3, c.name)] = c.down
		files[fmt.Sprintf("%02d_%s_ok.down.sql", 2*i+3, c.name)] = c.up
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGolangMigrate, files), Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		m := rep.Migrations[2*i+1]
		if m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripFailed || !strings.Contains(strings.Join(m.Roundtrip.Problems, "\n"), c.want) {
			t.Errorf("%s (down does nothing): round trip %+v, want failed naming %q", m.Label(), m.Roundtrip, c.want)
		}
		ok := rep.Migrations[2*i+2]
		if ok.Status != report.StatusApplied || ok.Roundtrip == nil || ok.Roundtrip.Status != report.RoundtripOK {
			t.Errorf("%s (a down that puts it back): %s %+v %+v", ok.Label(), ok.Status, ok.Error, ok.Roundtrip)
		}
	}
}

// TestGeneratedDownsRestoreAccessOptionsRulesAndStatistics: --generate-down undoes grants (also on
// columns), owners,
// storage parameters, replica identity, CLUSTER ON, statistics targets, rules, extended statistics and
// collations, and each generated down is proven by the rehearsal.
func TestGeneratedDownsRestoreAccessOptionsRulesAndStatistics(t *testing.T) {
	ups := []string{
		"CREATE TABLE t (id bigint PRIMARY KEY, a int, b int); CREATE TABLE u (id int); CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n" +
			"DO $$ BEGIN CREATE ROLE schemagate_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;",
		"CREATE STATISTICS t_ab ON a, b FROM t;",
		"ALTER STATISTICS t_ab SET STATISTICS 300;",
		"CREATE RULE r AS ON DELETE TO t DO INSTEAD NOTHING;",
		"CREATE COLLATION mycoll (locale = 'C');",
		"GRANT SELECT, UPDATE ON t TO schemagate_app WITH GRANT OPTION; REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC;",
		"ALTER TABLE t SET (autovacuum_enabled = false, fillfactor = 70);",
		"ALTER TABLE u OWNER TO schemagate_app; ALTER FUNCTION f() OWNER TO schemagate_app;",
		"ALTER TABLE t REPLICA IDENTITY FULL; ALTER TABLE t CLUSTER ON t_pkey; ALTER TABLE t FORCE ROW LEVEL SECURITY;",
		"ALTER TABLE t ALTER COLUMN a SET STATISTICS 500;",
		"GRANT SELECT (a), UPDATE (a, b) ON t TO schemagate_app WITH GRANT OPTION; GRANT REFERENCES (b) ON t TO PUBLIC;",
		"REVOKE UPDATE (b) ON t FROM schemagate_app; GRANT INSERT (a) ON t TO schemagate_app;",
		"DROP RULE r ON t; DROP STATISTICS t_ab; ALTER TABLE t RESET (fillfactor); ALTER TABLE u OWNER TO CURRENT_USER;",
		"ALTER TABLE u OWNER TO schemagate_app; DROP TABLE t; DROP TABLE u; DROP FUNCTION f();",
	}
	files := map[string]string{}
	for i, up := range ups {
		files[fmt.Sprintf("%02d_step.sql", i+1)] = up
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatPlain, files), Provider: provider(t), GenerateDown: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range rep.Migrations {
		gd := m.GeneratedDown
		if gd == nil {
			t.Errorf("%s: no generated down", m.Label())
			continue
		}
		if i == len(ups)-1 { // the table comes back empty: proven, but flagged as data loss
			if !gd.DataLoss {
				t.Errorf("%s: data loss not flagged", m.Label())
			}
		}
		if !gd.Verified || len(gd.Problems) > 0 {
			t.Errorf("%s: generated down not verified: %q\n%s", m.Label(), gd.Problems, gd.SQL)
		}
	}
}

// TestRulesKnowTheSchemaEarlierMigrationsMade: the rules judge each migration knowing the tables it
// touches as the database has them, not as the lone file shows them: a SET NOT NULL proven by a CHECK
// validated two migrations earlier scans nothing, and a foreign key on a column no earlier migration
// indexed is reported.
func TestRulesKnowTheSchemaEarlierMigrationsMade(t *testing.T) {
	timeouts := "SET lock_timeout = '2s'; SET statement_timeout = '10s';\n"
	files := map[string]string{
		"001_base.sql":     "CREATE TABLE users (id bigint PRIMARY KEY, email text, org_id bigint);\nCREATE TABLE orgs (id bigint PRIMARY KEY);\n",
		"002_check.sql":    timeouts + "ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;\n",
		"003_validate.sql": timeouts + "ALTER TABLE users VALIDATE CONSTRAINT email_nn;\n",
		"004_not_null.sql": timeouts + "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n",
		"005_fk.sql":       timeouts + "ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;\n",
	}
	// 001 is the history: its tables exist before the change (a table of the change would be new).
	set := folderOf(t, migrate.FormatPlain, files)
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}, Provider: provider(t), NoRoundtrip: true})
	if err != nil {
		t.Fatal(err)
	}
	rules := func(i int) string {
		var ids []string
		for _, f := range rep.Migrations[i].Findings {
			ids = append(ids, f.Rule)
		}
		return strings.Join(ids, " ")
	}
	if got := rules(3); !strings.Contains(got, "set-not-null-proven") || strings.Contains(got, "set-not-null ") || strings.HasSuffix(got, "set-not-null") {
		t.Errorf("004: findings %q, want set-not-null-proven (the CHECK was validated by 003)", got)
	}
	if got := rules(4); !strings.Contains(got, "fk-missing-index") {
		t.Errorf("005: findings %q, want fk-missing-index (no index on users.org_id)", got)
	}
}

// TestEditedDownOnly: a change to the down script alone of a migration the base has is named at the
// down file, as a change of the down, not as an edit of the up that databases ran.
func TestEditedDownOnly(t *testing.T) {
	baseFiles := map[string]string{"1_a.up.sql": "CREATE TABLE a (id bigint PRIMARY KEY);", "1_a.down.sql": "SELECT 1;"}
	curFiles := map[string]string{"1_a.up.sql": baseFiles["1_a.up.sql"], "1_a.down.sql": "DROP TABLE a;"}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGolangMigrate, curFiles),
		Base: folderOf(t, migrate.FormatGolangMigrate, baseFiles), Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	m := migration(t, rep, "1")
	if len(m.Findings) != 1 || m.Findings[0].File != "1_a.down.sql" || !strings.Contains(m.Findings[0].Message, "the down script of migration 1_a differs") {
		t.Errorf("findings %+v", m.Findings)
	}

	// A down added to an applied goose migration, after a blank line as goose's template has it: its up
	// section gains that line, which is no edit of the up.
	base := folderOf(t, migrate.FormatGoose, map[string]string{"00001_nodown.sql": "-- +goose Up\nCREATE TABLE nodown (id bigint);\n"})
	cur := folderOf(t, migrate.FormatGoose, map[string]string{"00001_nodown.sql": "-- +goose Up\nCREATE TABLE nodown (id bigint);\n\n-- +goose Down\nDROP TABLE nodown;\n"})
	rep, err = rehearse.Run(context.Background(), rehearse.Options{Set: cur, Base: base, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	if m := migration(t, rep, "1"); m.Status == report.StatusFailed || len(m.Findings) != 1 || m.Findings[0].Risk != lint.Caution ||
		!strings.Contains(m.Findings[0].Message, "the down script of migration 1_nodown differs") {
		t.Errorf("goose down added: %s %+v, findings %+v; want a caution at the down", m.Status, m.Error, m.Findings)
	}
}

// TestDeferredWorkAndTransactionControl: deferred constraint checks and deferred triggers run when the
// migration's transaction would commit, and count as its own; between a down and its re-up (one
// transaction) the down's checks are the down's. A ROLLBACK in a transactional migration fails it at
// its line instead of ending the rehearsal's transaction half way.
func TestDeferredWorkAndTransactionControl(t *testing.T) {
	files := map[string]string{
		"01_base.up.sql": `CREATE TABLE p (id int PRIMARY KEY);
CREATE TABLE c (pid int REFERENCES p DEFERRABLE INITIALLY DEFERRED, kind text);
INSERT INTO p VALUES (1);
INSERT INTO c VALUES (1, 'legacy');
CREATE TABLE q (x int);
CREATE TABLE doomed (a int);
CREATE FUNCTION drop_doomed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DROP TABLE IF EXISTS doomed; RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER q_drop AFTER INSERT ON q DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION drop_doomed();`,
		"01_base.down.sql": "DROP TABLE q, c, p; DROP TABLE IF EXISTS doomed; DROP FUNCTION drop_doomed();",
		// A correct down: in production it commits before the re-up runs.
		"02_purge.up.sql":   "DELETE FROM c WHERE kind = 'legacy';\nALTER TABLE c ADD COLUMN note text;",
		"02_purge.down.sql": "ALTER TABLE c DROP COLUMN note;\nINSERT INTO c VALUES (1, 'legacy');",
		// The up drops a table through a deferred trigger, at commit.
		"03_fire.up.sql":   "INSERT INTO q VALUES (1);",
		"03_fire.down.sql": "DELETE FROM q;\nCREATE TABLE doomed (a int);",
		// The down breaks the deferred foreign key: its failure, not the re-up's.
		"04_note.up.sql":   "ALTER TABLE c ADD COLUMN note2 text;\nINSERT INTO c VALUES (1, 'kept');",
		"04_note.down.sql": "ALTER TABLE c DROP COLUMN note2;\nDELETE FROM p;",
		// Rows in either order under a deferred foreign key, in the up and in the re-up alike.
		"06_seed.up.sql":   "INSERT INTO c VALUES (2, 'early');\nINSERT INTO p VALUES (2);",
		"06_seed.down.sql": "DELETE FROM p WHERE id = 2;\nDELETE FROM c WHERE pid = 2;",
		"09_undo.up.sql":   "CREATE TABLE r1 (a int);\nROLLBACK;\nCREATE TABLE r2 (a int);",
		"09_undo.down.sql": "DROP TABLE IF EXISTS r2;\nDROP TABLE IF EXISTS r1;",
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGolangMigrate, files), Provider: provider(t)})
	if err != nil {
		t.Fatal(err) // verify mode (TestMain) fails the run when a catalog read misses the deferred drop
	}
	for _, v := range []string{"2", "3", "6"} {
		if m := migration(t, rep, v); m.Status != report.StatusApplied || m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
			t.Errorf("%s: %s %+v, round trip %+v; want applied, round trip ok", v, m.Status, m.Error, m.Roundtrip)
		}
	}
	if d := migration(t, rep, "3").SchemaDiff; d == nil || !strings.Contains(strings.Join(schema.Describe(d, schema.MigrationPhrasing), "\n"), "doomed") {
		t.Errorf("03: schema diff does not show the table its deferred trigger dropped")
	}
	// The trace counts the deferred drop as the last statement's: its ACCESS EXCLUSIVE lock on the table.
	var dropped bool
	for _, tr := range migration(t, rep, "3").Trace {
		for _, l := range tr.Locks {
			dropped = dropped || (tr.Line == 1 && l.Relation == "public.doomed" && l.Mode == "AccessExclusiveLock" && l.Dropped)
		}
	}
	if !dropped {
		t.Errorf("03: trace %+v; want the deferred trigger's ACCESS EXCLUSIVE lock on public.doomed, dropped, at line 1", migration(t, rep, "3").Trace)
	}
	m := migration(t, rep, "4")
	if rt := m.Roundtrip; rt == nil || rt.Status != report.RoundtripFailed || rt.Error == nil || rt.Error.File != "04_note.down.sql" ||
		!strings.Contains(strings.Join(rt.Problems, "\n"), "the down fails") || rt.Error.SQLState != "23503" {
		t.Errorf("04: %s %+v, round trip %+v; want the down failing on the foreign key", m.Status, m.Error, rt)
	}
	m = migration(t, rep, "9")
	if m.Status != report.StatusFailed || m.Error == nil || m.Error.Line != 2 || !strings.Contains(m.Error.Message, "may not end its transaction") {
		t.Errorf("09: %s %+v; want failed at line 2", m.Status, m.Error)
	}
}

// TestTraceNamesItsStatements: a script's own BEGIN and COMMIT are not run inside the rehearsal's
// transaction; the trace of each statement still names that statement.
func TestTraceNamesItsStatements(t *testing.T) {
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql":   "BEGIN;\nCREATE TABLE a (id int);\nCREATE INDEX a_id ON a (id);\nCOMMIT;\n",
		"1_a.down.sql": "DROP TABLE a;\n",
	})
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	m := migration(t, rep, "1")
	var got []string
	for _, tr := range m.Trace {
		got = append(got, fmt.Sprintf("%d:%s", tr.Line, tr.Statement))
	}
	if want := "2:CREATE TABLE a (id int) 3:CREATE INDEX a_id ON a (id)"; strings.Join(got, " ") != want {
		t.Errorf("trace %q, want %q", strings.Join(got, " "), want)
	}
}

// TestVerifyOnlyEdit: a sqitch change whose verify script alone changed since the base is a caution at
// that script, and says what runs it (the next deploy's verification), not a rollback.
func TestVerifyOnlyEdit(t *testing.T) {
	files := map[string]string{
		"sqitch.plan":      "%project=p\n\nusers 2024-01-01T00:00:00Z A <a@example.com>\n",
		"deploy/users.sql": "BEGIN;\nCREATE TABLE users (id int);\nCOMMIT;\n",
		"revert/users.sql": "BEGIN;\nDROP TABLE users;\nCOMMIT;\n",
		"verify/users.sql": "BEGIN;\nSELECT id FROM users WHERE false;\nROLLBACK;\n",
	}
	base := folderOf(t, migrate.FormatSqitch, files)
	files["verify/users.sql"] = "BEGIN;\nSELECT id FROM users LIMIT 0;\nROLLBACK;\n"
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatSqitch, files), Base: base, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Migrations[0]
	if len(m.Findings) != 1 || m.Findings[0].File != "verify/users.sql" || !strings.Contains(m.Findings[0].Message, "the next deploy's verification runs the new verify script") ||
		m.Roundtrip == nil || !strings.Contains(strings.Join(m.Roundtrip.Problems, "\n"), "the verify script changed") {
		t.Errorf("findings %+v, round trip %+v", m.Findings, m.Roundtrip)
	}
}

// TestScriptLeavingBlockOpenFails: an up or a down run outside a transaction that ends inside a
// transaction block it opened (BEGIN with no COMMIT after it) fails at that BEGIN: psql rolls the block
// back when the script ends, so what follows it never reaches the database, and the rehearsal does not
// go on inside that block either (the next migration ran in it, and saw what production never has).
func TestScriptLeavingBlockOpenFails(t *testing.T) {
	set := folderOf(t, migrate.FormatPlain, map[string]string{
		"001_a.sql": "CREATE TABLE a (id bigint);\nCOMMIT;\nBEGIN;\nALTER TABLE a ADD COLUMN b int;\n",
		"002_b.sql": "ALTER TABLE a ADD COLUMN b int;\n",
	})
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	m := migration(t, rep, "001")
	if m.Status != report.StatusFailed || m.Error == nil || m.Error.Line != 3 || m.Error.SQLState != "25001" {
		t.Fatalf("001: %s %+v; want failed at the BEGIN on line 3 (25001)", m.Status, m.Error)
	}
	set = folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql":   "CREATE TABLE a (id bigint);\nCOMMIT;\nCREATE TABLE c (id bigint);\n",
		"1_a.down.sql": "DROP TABLE c;\nCOMMIT;\nBEGIN;\nDROP TABLE a;\n",
		"2_b.up.sql":   "ALTER TABLE a ADD COLUMN b int;\n",
		"2_b.down.sql": "ALTER TABLE a DROP COLUMN b;\n",
	})
	rep, err = rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	m = migration(t, rep, "1")
	if rt := m.Roundtrip; m.Status != report.StatusApplied || rt == nil || rt.Status != report.RoundtripFailed || rt.Error == nil ||
		rt.Error.File != "1_a.down.sql" || rt.Error.Line != 3 || rt.Error.SQLState != "25001" {
		t.Fatalf("1: %s, round trip %+v; want applied with the down failing at its BEGIN on line 3", m.Status, m.Roundtrip)
	}
	if m := migration(t, rep, "2"); m.Status != report.StatusApplied || m.Roundtrip.Status != report.RoundtripOK {
		t.Fatalf("2: %s %+v, round trip %+v; want applied, ok (the database is back in its after-up state)", m.Status, m.Error, m.Roundtrip)
	}
}

// TestBeginWithoutCommitRehearsed: a migration that ends inside the transaction its BEGIN opened (no
// COMMIT anywhere) is rehearsed as its tool runs it. psql (plain folders, sqitch) rolls the
// transaction back when the script ends and exits 0, and golang-migrate's postgres driver refuses to
// begin the transaction that records the version: it fails at the BEGIN. It was run in one
// transaction of the rehearsal's, its BEGIN skipped, and reported applied, while the tool drops it.
// goose runs it in its transaction, whose COMMIT commits it: applied, as before.
func TestBeginWithoutCommitRehearsed(t *testing.T) {
	const body = "BEGIN;\nCREATE TABLE x (id bigint);\n"
	for _, tt := range []struct {
		name   string
		format migrate.Format
		files  map[string]string
		fails  bool
	}{
		{"plain", migrate.FormatPlain, map[string]string{"001_a.sql": body}, true},
		{"sqitch", migrate.FormatSqitch, map[string]string{"sqitch.plan": "%project=p\n\nx 2024-01-01T00:00:00Z A <a@example.com>\n",
			"deploy/x.sql": body, "revert/x.sql": "DROP TABLE x;\n"}, true},
		{"golang-migrate", migrate.FormatGolangMigrate, map[string]string{"1_a.up.sql": body, "1_a.down.sql": "DROP TABLE x;\n"}, true},
		{"goose", migrate.FormatGoose, map[string]string{"00001_a.sql": "-- +goose Up\n" + body + "-- +goose Down\nDROP TABLE x;\n"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, tt.format, tt.files), Provider: provider(t)})
			if err != nil {
				t.Fatal(err)
			}
			m := rep.Migrations[0]
			switch {
			case tt.fails && (m.Status != report.StatusFailed || m.Error == nil || m.Error.SQLState != "25001" || m.Error.Line != 1):
				t.Fatalf("%s %+v; want failed at the BEGIN on line 1 (25001)", m.Status, m.Error)
			case !tt.fails && m.Status != report.StatusApplied:
				t.Fatalf("%s %+v; want applied", m.Status, m.Error)
			}
		})
	}
}

// TestPsqlScriptsHoldNoLockAcrossStatements: psql runs sqitch scripts and plain folders statement by
// statement, each committing by itself outside the script's own BEGIN … COMMIT, so an UPDATE after
// SET NOT NULL does not run under its ACCESS EXCLUSIVE, though the rehearsal runs the script in one
// transaction (and its scan under its own ROW EXCLUSIVE, which blocks no reads or writes, is no
// table-scan); in the script's BEGIN … COMMIT, and under golang-migrate's transaction, it does.
func TestPsqlScriptsHoldNoLockAcrossStatements(t *testing.T) {
	const (
		setup = "CREATE TABLE t (id bigint, x int);\n"
		body  = "SET lock_timeout = '1s';\nSET statement_timeout = '1min';\nALTER TABLE t ALTER COLUMN x SET NOT NULL;\nUPDATE t SET x = 1 WHERE x IS NULL;\n"
		plan  = "%syntax-version=1.0.0\n%project=p\n\na 2024-01-01T00:00:00Z Me <me@example.com> # a\nb [a] 2024-01-01T00:01:00Z Me <me@example.com> # b\n"
	)
	sqitch := func(b string) map[string]string {
		return map[string]string{"sqitch.plan": plan, "deploy/a.sql": setup, "revert/a.sql": "DROP TABLE t;\n",
			"deploy/b.sql": b, "revert/b.sql": "ALTER TABLE t ALTER COLUMN x DROP NOT NULL;\n"}
	}
	tests := []struct {
		name   string
		format migrate.Format
		files  map[string]string
		held   bool // the UPDATE runs under the ALTER's ACCESS EXCLUSIVE
	}{
		{"sqitch", migrate.FormatSqitch, sqitch(body), false},
		{"sqitch BEGIN … COMMIT", migrate.FormatSqitch, sqitch(strings.Replace(body, "ALTER", "BEGIN;\nALTER", 1) + "COMMIT;\n"), true},
		{"plain", migrate.FormatPlain, map[string]string{"001_a.sql": setup, "002_b.sql": body}, false},
		{"golang-migrate", migrate.FormatGolangMigrate, map[string]string{"1_a.up.sql": setup, "1_a.down.sql": "DROP TABLE t;\n",
			"2_b.up.sql": body, "2_b.down.sql": "ALTER TABLE t ALTER COLUMN x DROP NOT NULL;\n"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The first migration is the history: its table exists before the change.
			set := folderOf(t, tt.format, tt.files)
			rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}, Provider: provider(t)})
			if err != nil {
				t.Fatal(err)
			}
			if m := rep.Migrations[1]; m.Status != report.StatusApplied || m.Error != nil {
				t.Errorf("%s: %s %+v, want applied", m.Version, m.Status, m.Error)
			}
			var after, scan *lint.Finding
			for _, f := range rep.Migrations[1].Findings {
				switch f.Rule {
				case "statement-after-access-exclusive":
					after = &f
				case "table-scan":
					scan = &f
				}
			}
			if (after != nil) != tt.held {
				t.Errorf("statement-after-access-exclusive %+v, want it %v", after, tt.held)
			}
			if !tt.held {
				// Under its own ROW EXCLUSIVE alone the UPDATE's scan blocks no reads or writes.
				if scan != nil {
					t.Errorf("table-scan %+v on the UPDATE run by itself, want none", scan)
				}
				return
			}
			if scan == nil {
				t.Fatalf("no table-scan on the UPDATE: %+v", rep.Migrations[1].Findings)
			}
			if earlier := scan.Lock == "ACCESS EXCLUSIVE" && strings.Contains(scan.Message, "an earlier statement of the transaction took"); earlier != tt.held || (scan.Risk == lint.Dangerous) != tt.held {
				t.Errorf("table-scan %s %q under %s, want the earlier ACCESS EXCLUSIVE held %v", scan.Risk, scan.Message, scan.Lock, tt.held)
			}
		})
	}
}

// TestMigrationsRunAsTheirToolRunsThem: a goose migration that commits half way (an enum value added,
// committed, then used) applies as goose applies it, whether new or in the history; a plain script runs
// as psql runs it (SET LOCAL does nothing, LOCK TABLE fails); Flyway runs REINDEX
// SCHEMA outside a transaction, and REINDEX INDEX CONCURRENTLY, which its parser does not list, in one,
// where PostgreSQL refuses it.
func TestMigrationsRunAsTheirToolRunsThem(t *testing.T) {
	goose := map[string]string{
		"00001_init.sql": "-- +goose Up\nCREATE TYPE mood AS ENUM ('sad', 'ok');\nCREATE TABLE person (id int PRIMARY KEY, m mood);\nINSERT INTO person VALUES (1, 'ok');\n" +
			"-- +goose Down\nDROP TABLE person;\nDROP TYPE mood;\n",
		"00002_happy.sql": "-- +goose Up\nALTER TYPE mood ADD VALUE 'happy';\nCOMMIT;\nUPDATE person SET m = 'happy' WHERE id = 1;\n" +
			"-- +goose Down\nUPDATE person SET m = 'ok' WHERE m = 'happy';\n",
		"00003_note.sql": "-- +goose Up\nALTER TABLE person ADD COLUMN note text;\n-- +goose Down\nALTER TABLE person DROP COLUMN note;\n",
	}
	set := folderOf(t, migrate.FormatGoose, goose)
	for _, base := range []*migrate.Set{nil, {Format: set.Format, Migrations: set.Migrations[:2]}} {
		rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Base: base, Provider: provider(t)})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range rep.Migrations {
			if m.Status != report.StatusApplied && m.Status != report.StatusBase {
				t.Errorf("goose (history %v): %s: %s %+v", base != nil, m.Version, m.Status, m.Error)
			}
		}
	}

	// psql runs a plain script without a BEGIN of its own statement by statement: SET LOCAL does
	// nothing there (the table goes to public), and LOCK TABLE fails.
	plain := folderOf(t, migrate.FormatPlain, map[string]string{
		"001_init.sql": "CREATE SCHEMA app;\nSET LOCAL search_path = app;\nCREATE TABLE child (id bigint PRIMARY KEY);\n",
		"002_next.sql": "ALTER TABLE public.child ADD COLUMN note text;\n",
		"003_lock.sql": "CREATE TABLE t (id int);\nLOCK TABLE t IN ACCESS EXCLUSIVE MODE;\n",
	})
	for _, base := range []*migrate.Set{nil, {Format: plain.Format, Migrations: plain.Migrations[:1]}} {
		rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: plain, Base: base, Provider: provider(t)})
		if err != nil {
			t.Fatal(err)
		}
		if m := migration(t, rep, "002"); m.Status != report.StatusApplied {
			t.Errorf("plain (history %v): 2: %s %+v; want applied (SET LOCAL outside a transaction does nothing)", base != nil, m.Status, m.Error)
		}
		if m := migration(t, rep, "003"); m.Status != report.StatusFailed || m.Error == nil || m.Error.Line != 2 || m.Error.SQLState != "25P01" {
			t.Errorf("plain (history %v): 3: %s %+v; want failed at line 2 (25P01), as under psql", base != nil, m.Status, m.Error)
		}
	}

	rep, err := rehearse.Run(t.Context(), rehearse.Options{Provider: provider(t), Set: folderOf(t, migrate.FormatFlyway, map[string]string{
		"V1__init.sql":   "CREATE TABLE t (id bigint PRIMARY KEY, a text);\nCREATE INDEX t_a_idx ON t (a);\n",
		"V2__schema.sql": "REINDEX SCHEMA public;\n",
		"V3__index.sql":  "REINDEX INDEX CONCURRENTLY t_a_idx;\n",
	})})
	if err != nil {
		t.Fatal(err)
	}
	if m := migration(t, rep, "2"); m.Status != report.StatusApplied {
		t.Errorf("flyway REINDEX SCHEMA: %s %+v; want applied", m.Status, m.Error)
	}
	if m := migration(t, rep, "3"); m.Status != report.StatusFailed || m.Error == nil || m.Error.SQLState != "25001" {
		t.Errorf("flyway REINDEX INDEX CONCURRENTLY: %s %+v; want failed with 25001, as under Flyway", m.Status, m.Error)
	}
}

// TestRoundtripProblemPlaces: each problem of a round trip is placed at the statement that names its
// object: an index the down leaves behind at the up's CREATE INDEX, a column it does not restore at the
// up's DROP COLUMN (the down names it nowhere), a column it restores otherwise at the down's ALTER, a
// failed re-up at its statement.
func TestRoundtripProblemPlaces(t *testing.T) {
	rep := rehearseDir(t, "testdata/roundtrip-places")
	rt := migration(t, rep, "2").Roundtrip
	want := map[string]string{
		"index orders_note_idx is left behind by the down": "2_change.up.sql:4:1",
		"column orders.legacy is not restored by the down": "2_change.up.sql:5:1",
		"column orders.note is varchar(30) after the down": "2_change.down.sql:2:1",
		"the up fails when run again after the down":       "2_change.up.sql:4:1",
	}
	for prefix, place := range want {
		found := false
		for i, p := range rt.Problems {
			if !strings.HasPrefix(p, prefix) {
				continue
			}
			found = true
			at := rt.PlaceOf(i)
			if at == nil || fmt.Sprintf("%s:%d:%d", at.File, at.Line, at.Column) != place {
				t.Errorf("%q is placed at %+v, want %s", p, at, place)
			}
		}
		if !found {
			t.Errorf("no problem %q in %q", prefix, rt.Problems)
		}
	}
}

// TestFailedStatementKeptWhole: the report keeps a failed statement whole, an up's and a down's alike,
// so that the comment can show 4,000 characters of it and say where it cuts (it showed 500 with no
// word of a cut, the JSON report the same 500).
func TestFailedStatementKeptWhole(t *testing.T) {
	long := func(n int) string {
		var b strings.Builder
		b.WriteString("DO $$\nDECLARE\n  total int := 0;\nBEGIN\n")
		for i := range n {
			fmt.Fprintf(&b, "  total := total + %d; -- step %d of the long block\n", i, i)
		}
		b.WriteString("  RAISE EXCEPTION 'stopped after %', total;\nEND\n$$")
		return b.String()
	}
	up, down := long(120), long(80)
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "1_a.up.sql"), "CREATE TABLE a (id int);\n")
	writeTestFile(t, filepath.Join(dir, "1_a.down.sql"), down+";\nDROP TABLE a;\n")
	writeTestFile(t, filepath.Join(dir, "2_b.up.sql"), "CREATE TABLE b (id int);\n"+up+";\n")
	writeTestFile(t, filepath.Join(dir, "2_b.down.sql"), "DROP TABLE b;\n")
	rep := rehearseDir(t, dir)
	for _, c := range []struct {
		name string
		e    *report.SQLError
		want string
	}{
		{"up of 2", migration(t, rep, "2").Error, up},
		{"down of 1", migration(t, rep, "1").Roundtrip.Error, down},
	} {
		if c.e == nil || c.e.SQLState != "P0001" {
			t.Fatalf("%s: error %+v, want SQLSTATE P0001", c.name, c.e)
		}
		if c.e.Statement != c.want {
			t.Errorf("%s: statement of %d characters, want the whole %d:\n%s", c.name, len(c.e.Statement), len(c.want), c.e.Statement)
		}
	}
	md := report.Markdown(rep, report.MarkdownOptions{})
	note := fmt.Sprintf("the statement is cut here: %d characters in all", len(up))
	if !strings.Contains(md, note) || !strings.Contains(md, "step 60 of the long block") {
		t.Errorf("comment lacks %q or the statement's first 4,000 characters:\n%s", note, md)
	}
}

// TestDeletedDownOfAnAppliedMigration: against its base, a migration whose down was deleted (or left
// without a statement) is said to have lost it, not to have a down that "differs" and that "a rollback
// runs": the finding and the round trip's note say a rollback has nothing to run now, and the
// suggestion names the base's file.
func TestDeletedDownOfAnAppliedMigration(t *testing.T) {
	baseFiles := map[string]string{
		"10_a.up.sql": "CREATE TABLE a (id bigint PRIMARY KEY);", "10_a.down.sql": "DROP TABLE a;",
		"20_b.up.sql": "CREATE TABLE b (id bigint PRIMARY KEY);", "20_b.down.sql": "DROP TABLE b;",
	}
	for _, tt := range []struct {
		name, down, finding, note string
	}{
		{"deleted", "", "the down script of migration 10_a was deleted after the base applied the migration", "the down was deleted after the base applied the migration"},
		{"emptied", "-- nothing to undo\n", "the down script of migration 10_a no longer has a statement since the base applied the migration", "the down no longer has a statement"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			curFiles := map[string]string{"10_a.up.sql": baseFiles["10_a.up.sql"], "20_b.up.sql": baseFiles["20_b.up.sql"], "20_b.down.sql": baseFiles["20_b.down.sql"]}
			if tt.down != "" {
				curFiles["10_a.down.sql"] = tt.down
			}
			base := folderOf(t, migrate.FormatGolangMigrate, baseFiles)
			set := folderOf(t, migrate.FormatGolangMigrate, curFiles)
			rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: base, Provider: provider(t)})
			if err != nil {
				t.Fatal(err)
			}
			m := migration(t, rep, "10")
			if len(m.Findings) != 1 || m.Findings[0].Rule != "edited-applied-migration" || !strings.Contains(m.Findings[0].Message, tt.finding) ||
				!strings.Contains(m.Findings[0].Message, "a rollback of it has no down script to run now") || strings.Contains(m.Findings[0].Message, "differs") ||
				!strings.Contains(m.Findings[0].Suggestion, "10_a.down.sql") {
				t.Errorf("findings %+v, want one saying %q", m.Findings, tt.finding)
			}
			if m.Roundtrip == nil || len(m.Roundtrip.Problems) != 1 || !strings.HasPrefix(m.Roundtrip.Problems[0], tt.note) {
				t.Errorf("round trip %+v, want a note starting %q", m.Roundtrip, tt.note)
			}
		})
	}
}
