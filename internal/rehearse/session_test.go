package rehearse_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestRunGoesOnAfterAMigrationEndsItsSession: a down that ends its own session (pg_terminate_backend
// of its backend), or whose session the watchdog ends, is a failed round trip like any other: the run
// goes on in a new session and reports the later migrations. It used to stop with "reset session: conn
// closed", no report, exit 1. An up that ends its session is a failed migration, reported.
func TestRunGoesOnAfterAMigrationEndsItsSession(t *testing.T) {
	const stubborn = "DO $$ BEGIN FOR i IN 1..200 LOOP BEGIN PERFORM pg_sleep(100); EXCEPTION WHEN query_canceled THEN NULL; END; END LOOP; END $$;"
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql":   "CREATE TABLE a (id bigint);",
		"1_a.down.sql": "DROP TABLE a;\nSELECT pg_terminate_backend(pg_backend_pid());",
		"2_b.up.sql":   "CREATE TABLE b (id bigint);",
		"2_b.down.sql": "DROP TABLE b;\n" + stubborn,
		"3_c.up.sql":   "CREATE TABLE c (id bigint);",
		"3_c.down.sql": "DROP TABLE c;",
		"4_d.up.sql":   "CREATE TABLE d (id bigint);\nSELECT pg_terminate_backend(pg_backend_pid());",
		"4_d.down.sql": "DROP TABLE d;",
		"5_e.up.sql":   "CREATE TABLE e (id bigint);",
		"5_e.down.sql": "DROP TABLE e;",
	})
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	rep, err := rehearse.Run(ctx, rehearse.Options{Set: set, Provider: provider(t), StatementTimeout: time.Second, NoTrace: true})
	if err != nil {
		t.Fatalf("the run stopped: %v", err)
	}
	m := migration(t, rep, "1")
	if m.Status != report.StatusApplied || m.Roundtrip.Status != report.RoundtripFailed || m.Roundtrip.Error == nil ||
		m.Roundtrip.Error.SQLState != "57P01" || m.Roundtrip.Error.Line != 2 || !strings.Contains(m.Roundtrip.Error.Hint, "session running the migration was ended") {
		t.Errorf("1: %s, round trip %+v %+v; want applied, round trip failed at the down's line 2 (57P01) with a hint", m.Status, m.Roundtrip, m.Roundtrip.Error)
	}
	m = migration(t, rep, "2")
	if m.Roundtrip.Status != report.RoundtripFailed || m.Roundtrip.Error == nil || !strings.Contains(m.Roundtrip.Error.Message, "went on after its cancellation") {
		t.Errorf("2: round trip %+v %+v; want failed, its session ended by the watchdog", m.Roundtrip, m.Roundtrip.Error)
	}
	// The new session finds the database in its after-up state: c's round trip compares cleanly.
	if m = migration(t, rep, "3"); m.Status != report.StatusApplied || m.Roundtrip.Status != report.RoundtripOK {
		t.Errorf("3: %s, round trip %+v; want applied and ok", m.Status, m.Roundtrip)
	}
	if m = migration(t, rep, "4"); m.Status != report.StatusFailed || m.Error == nil || m.Error.SQLState != "57P01" || m.Error.Line != 2 {
		t.Errorf("4: %s %+v; want failed at line 2 with 57P01", m.Status, m.Error)
	}
	if m = migration(t, rep, "5"); m.Status != report.StatusNotRun {
		t.Errorf("5: %s; want not-run after 4 failed", m.Status)
	}
	if rep.OK {
		t.Error("report OK with failures")
	}
}

// TestRunNamesAServerThatWentAway: when the server itself dies under the rehearsal (here a migration
// kills its postmaster), the run fails as a tool error that says so, not "reset session: unexpected EOF".
//
// The program the migration's COPY runs reads its input to the end before it kills the postmaster: the
// COPY writes its row to the program and closes the pipe, and a program that exits without reading
// (kill alone) makes that write or close fail with "could not close pipe to external command: Broken
// pipe" (XX000) whenever it is done before the COPY gets to write, which a busy machine orders so about
// once in 50 runs. The DO statement then fails on its own, an error of the migration's that the report
// rightly keeps as it is, and the server's end is not what failed it.
func TestRunNamesAServerThatWentAway(t *testing.T) {
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql":   "CREATE TABLE a (id bigint);",
		"1_a.down.sql": "DROP TABLE a;",
		"2_kill.up.sql": "DO $$ BEGIN EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'cat >/dev/null; kill -9 $(head -1 ' || current_setting('data_directory') || '/postmaster.pid)'); END $$;\n" +
			"SELECT pg_sleep(0.5);",
		"2_kill.down.sql": "SELECT 1;",
		"3_b.up.sql":      "CREATE TABLE b (id bigint);",
	})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	rep, err := rehearse.Run(ctx, rehearse.Options{Set: set, Dir: "db/migrations", Provider: provider(t), NoTrace: true})
	if err == nil || !strings.Contains(err.Error(), "the throwaway PostgreSQL (local provider) stopped answering") {
		t.Fatalf("error %v; want one that says the server stopped answering", err)
	}
	// It names the statement in the folder, as the report's failures do.
	if !strings.Contains(err.Error(), "db/migrations/2_kill.up.sql:") {
		t.Errorf("error %v; want it to name db/migrations/2_kill.up.sql", err)
	}
	// The report of what was done comes with the error, for the reports a CI keeps: the migration the
	// server died under failed with it, the later ones are not run.
	if rep == nil {
		t.Fatal("no report with the error")
	}
	if m := migration(t, rep, "1"); m.Status != report.StatusApplied || m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
		t.Errorf("1: %s, round trip %+v; want applied and ok", m.Status, m.Roundtrip)
	}
	if m := migration(t, rep, "2"); m.Status != report.StatusFailed || m.Error == nil || m.Error.File != "2_kill.up.sql" ||
		!strings.Contains(m.Error.Message, "the throwaway PostgreSQL (local provider) stopped answering") {
		t.Errorf("2: %s %+v; want failed in 2_kill.up.sql, the server stopped answering", m.Status, m.Error)
	}
	if m := migration(t, rep, "3"); m.Status != report.StatusNotRun {
		t.Errorf("3: %s; want not-run", m.Status)
	}
	if rep.OK {
		t.Error("report OK")
	}
}

// TestCheckJudgesWithTheCatalogItKnows: the rules judge each new migration again with the tables it
// names as the rehearsal's catalog has them. A table created IF NOT EXISTS that the catalog does not
// hold is new (its index blocks nobody), and attaching a partition names the DEFAULT partition it
// scans, though the migration does not mention it.
func TestCheckJudgesWithTheCatalogItKnows(t *testing.T) {
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_events.up.sql": "CREATE TABLE events (id bigint, ts timestamptz NOT NULL) PARTITION BY RANGE (ts);\n" +
			"CREATE TABLE events_old PARTITION OF events DEFAULT;\nCREATE TABLE events_2025 (id bigint, ts timestamptz NOT NULL);\n" +
			"CREATE VIEW recent AS SELECT id, ts FROM events;",
		"1_events.down.sql": "DROP VIEW recent;\nDROP TABLE events_2025;\nDROP TABLE events;",
		"2_foo.up.sql":      "SET lock_timeout = '2s';\nCREATE TABLE IF NOT EXISTS foo (id bigint, v int);\nCREATE INDEX foo_v ON foo (v);",
		"2_foo.down.sql":    "DROP TABLE foo;",
		"3_attach.up.sql":   "ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
		"3_attach.down.sql": "ALTER TABLE events DETACH PARTITION events_2025;",
		"4_view.up.sql":     "SET lock_timeout = '2s';\nCREATE OR REPLACE VIEW recent AS SELECT id, ts FROM events;\nALTER VIEW recent RENAME TO recent_events;",
		"4_view.down.sql":   "ALTER VIEW recent_events RENAME TO recent;",
	})
	base := &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Base: base, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range migration(t, rep, "2").Findings {
		if f.Rule == "create-index-blocking" {
			t.Errorf("2: %s %s: the table is new, its index blocks nobody", f.Risk, f.Message)
		}
	}
	found := false
	for _, f := range migration(t, rep, "3").Findings {
		if f.Rule == "attach-partition-scan" && strings.Contains(f.Message, "DEFAULT partition events_old") {
			found = true
			if f.Risk.String() != "dangerous" {
				t.Errorf("3: %s %s; want dangerous", f.Risk, f.Message)
			}
		}
	}
	if !found {
		t.Errorf("3: no attach-partition-scan naming the default partition events_old: %+v", migration(t, rep, "3").Findings)
	}
	// CREATE OR REPLACE of a view the catalog holds creates nothing: its rename is one.
	renamed := false
	for _, f := range migration(t, rep, "4").Findings {
		renamed = renamed || f.Rule == "rename-table" && f.Line == 3
	}
	if !renamed {
		t.Errorf("4: no rename-table for the view's rename: %+v", migration(t, rep, "4").Findings)
	}
}

// TestCheckSeesWhatADoBlockDrops: a DO block that drops a table is dangerous drop-table from what the
// rehearsal saw, and one that renames a view shows the view's lock (views are traced too).
func TestCheckSeesWhatADoBlockDrops(t *testing.T) {
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql":   "CREATE TABLE orgs (id bigint PRIMARY KEY);\nCREATE VIEW org_ids AS SELECT id FROM orgs;\nCREATE TABLE logs (id bigint);",
		"1_a.down.sql": "DROP VIEW org_ids;\nDROP TABLE orgs;\nDROP TABLE logs;",
		"2_b.up.sql": "SET lock_timeout = '2s';\nDO $$ BEGIN EXECUTE 'ALTER VIEW org_ids RENAME TO org_keys'; END $$;\n" +
			"DO $$ BEGIN EXECUTE 'DROP TABLE logs'; END $$;",
		"2_b.down.sql": "CREATE TABLE logs (id bigint);\nALTER VIEW org_keys RENAME TO org_ids;",
	})
	base := &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Base: base, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	var drop, view bool
	for _, f := range migration(t, rep, "2").Findings {
		drop = drop || f.Rule == "drop-table" && f.Line == 3 && f.Risk.String() == "dangerous" && strings.Contains(f.Message, "drop table public.logs")
		view = view || f.Line == 2 && f.Source == "dynamic" && strings.Contains(f.Message, "org_keys")
	}
	if !drop || !view {
		t.Errorf("drop-table of logs at line 3: %v; a lock on the view at line 2: %v\n%+v", drop, view, migration(t, rep, "2").Findings)
	}
}

// TestCheckIgnoresWhatTheRehearsalAddsByItsRule: an ignore comment that names the rule of a finding
// the rehearsal adds (here drop-table, from a DROP inside a DO block) ignores it, with the comment's
// reason, and the migration's risk leaves it out (the DO block stays caution opaque-statement); the same finding on an uncommented statement stays.
func TestCheckIgnoresWhatTheRehearsalAddsByItsRule(t *testing.T) {
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql":   "CREATE TABLE logs (id bigint);\nCREATE TABLE audit (id bigint);",
		"1_a.down.sql": "DROP TABLE logs;\nDROP TABLE audit;",
		"2_b.up.sql": "SET lock_timeout = '2s';\n-- schemagate:ignore drop-table logs were moved to the archive in 1.4\n" +
			"DO $$ BEGIN EXECUTE 'DROP TABLE logs'; END $$;",
		"2_b.down.sql": "CREATE TABLE logs (id bigint);",
		"3_c.up.sql":   "SET lock_timeout = '2s';\nDO $$ BEGIN EXECUTE 'DROP TABLE audit'; END $$;",
		"3_c.down.sql": "CREATE TABLE audit (id bigint);",
	})
	base := &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Base: base, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		version string
		ignored bool
		risk    string
	}{{"2", true, "caution"}, {"3", false, "dangerous"}} { // caution: the DO block stays opaque-statement
		m := migration(t, rep, tc.version)
		var drop *lint.Finding
		for i, f := range m.Findings {
			if f.Rule == "drop-table" && f.Source == "dynamic" {
				drop = &m.Findings[i]
			}
		}
		switch {
		case drop == nil:
			t.Errorf("%s: no drop-table from the trace: %+v", tc.version, m.Findings)
		case drop.Ignored != tc.ignored || tc.ignored && drop.Reason != "logs were moved to the archive in 1.4":
			t.Errorf("%s: drop-table ignored %v (%q), want %v", tc.version, drop.Ignored, drop.Reason, tc.ignored)
		case m.Risk.String() != tc.risk:
			t.Errorf("%s: risk %s, want %s: %+v", tc.version, m.Risk, tc.risk, m.Findings)
		}
	}
}

// TestProgressOfALongScript: a script of many statements says how far it has come, in the up, the down
// and the re-up (every pg.ProgressEvery; here after each statement).
func TestProgressOfALongScript(t *testing.T) {
	defer func(d time.Duration) { pg.ProgressEvery = d }(pg.ProgressEvery)
	pg.ProgressEvery = 0
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql":   "CREATE TABLE a (id bigint);\nINSERT INTO a VALUES (1);\nINSERT INTO a VALUES (2);",
		"1_a.down.sql": "DELETE FROM a;\nDROP TABLE a;",
	})
	var lines []string
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Provider: provider(t), Dir: "db",
		Progress: func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }})
	if err != nil || !rep.OK {
		t.Fatalf("run: %v %+v", err, rep)
	}
	out := strings.Join(lines, "\n")
	for _, want := range []string{"  up: 2 of 3 statements in 0s, now at db/1_a.up.sql:3", "  down: 1 of 2 statements in 0s, now at db/1_a.down.sql:2",
		"  re-up: 1 of 3 statements in 0s, now at db/1_a.up.sql:2"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}
}

// TestStillRunningSaysPhaseAndLine: a statement still running is named with the phase and the file and
// line it runs from, and after a long up the round trip says when its down and re-up start: the same
// statement in the up and the re-up, or the down's after the up's, read as the up starting again.
func TestStillRunningSaysPhaseAndLine(t *testing.T) {
	defer func(d time.Duration) { pg.ProgressEvery = d }(pg.ProgressEvery)
	pg.ProgressEvery = 0 // every up is long enough to announce its round trip
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql":   "CREATE TABLE a (id bigint);\nSELECT pg_sleep(0.9);",
		"1_a.down.sql": "SELECT pg_sleep(0.9);\nDROP TABLE a;",
	})
	var log progressLog
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Provider: provider(t), Dir: "db", NoTrace: true,
		StillRunningEvery: 300 * time.Millisecond, Progress: log.add})
	if err != nil || !rep.OK {
		t.Fatalf("run: %v %+v", err, rep)
	}
	out := log.String()
	// In this order: each phase's line after the announcement of the phase.
	at := 0
	for _, want := range []string{"  up at db/1_a.up.sql:2: still running after", "  round trip: down, db/1_a.down.sql",
		"  down at db/1_a.down.sql:1: still running after", "  round trip: re-up, db/1_a.up.sql", "  re-up at db/1_a.up.sql:2: still running after"} {
		i := strings.Index(out[at:], want)
		if i < 0 {
			t.Errorf("progress lacks %q after the lines before it:\n%s", want, out)
			continue
		}
		at += i + len(want)
	}
}

// TestReplayProgress: the history's replay says how far it has come (every pg.ProgressEvery; here at
// every look of the watchdog), and a statement of it still running is named with its migration, file
// and line, though a batch of migrations went to the server as one query (whose text began with
// RESET ALL, which the line named).
func TestReplayProgress(t *testing.T) {
	defer func(d time.Duration) { pg.ProgressEvery = d }(pg.ProgressEvery)
	pg.ProgressEvery = 0
	out := sleepyReplay(t, 300*time.Millisecond, "1.2", "0.8")
	for _, want := range []string{"  history: 0 of 2 migrations in", "now at 1_a, db/1_a.up.sql:2", "  history: 1 of 2 migrations in",
		"now at 2_b, db/2_b.up.sql:2", "  history migration 1_a at db/1_a.up.sql:2: still running after",
		"  history migration 2_b at db/2_b.up.sql:2: still running after"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "still running") && (strings.Contains(l, "RESET") || !strings.Contains(l, "SELECT pg_sleep(")) {
			t.Errorf("progress line %q: want the sleeping statement named", l)
		}
	}
}

// TestCommitInsideABlockSaysWhere: a DO block that commits, among other statements of a golang-migrate
// file (one query, a transaction block), fails as under golang-migrate, and the hint says how it would
// run.
func TestCommitInsideABlockSaysWhere(t *testing.T) {
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql": "CREATE TABLE a (id int);\nDO $$ BEGIN INSERT INTO a VALUES (1); COMMIT; END $$;", "1_a.down.sql": "DROP TABLE a;",
	})
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	m := migration(t, rep, "1")
	if m.Error == nil || m.Error.SQLState != "2D000" || !strings.Contains(m.Error.Hint, "make it the file's only statement") {
		t.Errorf("error %+v, want 2D000 with a hint", m.Error)
	}
}

// TestCatalogReadsFromChangeLog: with SCHEMAGATE_INSPECT=log, on its own server, where it is a
// superuser, the rehearsal takes what each step changed from the change log (pg.Inspector.TrackChanges)
// for nearly every read.
func TestCatalogReadsFromChangeLog(t *testing.T) {
	t.Setenv("SCHEMAGATE_INSPECT", "log")
	set, err := migrate.Read(fstest.MapFS{
		"1_a.up.sql": {Data: []byte("CREATE TABLE a (id bigint PRIMARY KEY, name text);")}, "1_a.down.sql": {Data: []byte("DROP TABLE a;")},
		"2_b.up.sql":   {Data: []byte("ALTER TABLE a ADD COLUMN note text;\nCREATE INDEX a_name ON a (name);")},
		"2_b.down.sql": {Data: []byte("DROP INDEX a_name;\nALTER TABLE a DROP COLUMN note;")},
		"3_c.up.sql":   {Data: []byte("CREATE VIEW v AS SELECT id, name FROM a;\nCOMMENT ON VIEW v IS 'names';")},
		"3_c.down.sql": {Data: []byte("DROP VIEW v;")},
	}, migrate.FormatGolangMigrate)
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Provider: provider(t), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("rehearsal not ok: %+v", failed(rep))
	}
	m := regexp.MustCompile(`"from the change log"=(\d+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no count of reads from the change log in the debug log:\n%s", logs.String())
	}
	// 3 migrations, 3 reads each; the first read is whole.
	if n, _ := strconv.Atoi(m[1]); n < 8 {
		t.Errorf("%d reads from the change log, want 8:\n%s", n, logs.String())
	}
}

// TestCopyRowsAreNotReadAsSQL: the rows of a COPY ... FROM stdin block are data. Text in them that
// would make a statement's catalog changes unseen by an incremental read (REASSIGN OWNED, dblink) made
// the read after the migration whole, and a pg_dump of 50 MB spent a minute in those patterns; only
// the statements are read for it.
func TestCopyRowsAreNotReadAsSQL(t *testing.T) {
	set := folderOf(t, migrate.FormatPlain, map[string]string{
		"001_notes.sql": "CREATE TABLE notes (id bigint PRIMARY KEY, body text);\nCOPY notes (id, body) FROM stdin;\n" +
			"1\tthe team will REASSIGN OWNED BY the old role\n2\tcall dblink('x') later\n\\.\nALTER TABLE notes ADD COLUMN extra text;\n",
	})
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Provider: provider(t), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if m := migration(t, rep, "001"); m.Status != report.StatusApplied {
		t.Fatalf("001: %s %+v, want applied", m.Status, m.Error)
	}
	m := regexp.MustCompile(`"catalog reads" full=(\d+) incremental=(\d+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no count of catalog reads in the debug log:\n%s", logs.String())
	}
	// The first read is whole; the one after the migration reads what its statements changed.
	if m[1] != "1" || m[2] != "1" {
		t.Errorf("%s whole and %s incremental catalog reads, want 1 and 1 (the rows read as SQL?)", m[1], m[2])
	}
}

// TestMigrationsStatementTimeoutSparesTheCatalogReads: a migration that sets a short statement_timeout
// for its own transaction (SET LOCAL) gets it for its statements, not for the catalog reads of its round
// trip and the lock traces between its statements, which used to be canceled (exit 1, "inspect
// catalog after re-up"), and it still has it after them. The migrations' own statements under the limit
// are one cheap SELECT each, as its CREATE TABLE ran before the SET: one that a busy machine still delays
// past 1 ms fails its migration at that SELECT (57014 there), which says nothing of the reads, and the
// rehearsal runs again, a few times at most. So it does when the one statement of a read's that must run
// under the limit, the one that sets it aside, outlasted it (pg.ErrSpareCanceled: the run's error, or a
// trace's failure of the migration): it failed 2 to 4 runs in 80 under a load of 20 on two cores. A
// read canceled fails the run (an error), and the test.
func TestMigrationsStatementTimeoutSparesTheCatalogReads(t *testing.T) {
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql":   "CREATE TABLE a (id bigint PRIMARY KEY);\nCREATE TABLE b (id bigint PRIMARY KEY, a bigint REFERENCES a);\nSET LOCAL statement_timeout = '1ms';",
		"1_a.down.sql": "DROP TABLE b;\nDROP TABLE a;",
		"2_c.up.sql":   "CREATE TABLE c (id bigint);\nSET LOCAL statement_timeout = '1ms';\nSELECT 1 / (current_setting('statement_timeout') = '1ms')::int;",
		"2_c.down.sql": "DROP TABLE c;\nSELECT 1 / (current_setting('statement_timeout') = '0')::int;",
	})
	// ownLimit tells an error of the migration's own SELECT, or of the statement that sets the limit
	// aside for a trace, under its 1 ms limit. So is one at 1_a's SET LOCAL, its last statement: the
	// SET CONSTRAINTS ALL IMMEDIATE and the COMMIT that end its transaction run under the limit it set,
	// as a deploy's COMMIT would, and a failure there is the script's last statement's (the SET runs
	// under no limit itself). A read's failure is never a migration's: it fails the run.
	ownLimit := func(e *report.SQLError) bool {
		return e != nil && (e.SQLState == "57014" && (strings.HasPrefix(e.Statement, "SELECT 1 /") || strings.HasPrefix(e.Statement, "SET LOCAL statement_timeout")) ||
			strings.Contains(e.Message, pg.ErrSpareCanceled.Error()))
	}
	for attempt := 1; ; attempt++ {
		rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Provider: provider(t)})
		if errors.Is(err, pg.ErrSpareCanceled) && attempt < 5 {
			t.Logf("attempt %d: the statement that sets the limit aside for a read outlasted it; again: %v", attempt, err)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		again := false
		for _, v := range []string{"1", "2"} {
			m := migration(t, rep, v)
			if ownLimit(m.Error) || m.Roundtrip != nil && ownLimit(m.Roundtrip.Error) {
				again = true
			}
		}
		if again && attempt < 5 {
			t.Logf("attempt %d: a migration's own SELECT outlasted its 1 ms statement_timeout; again", attempt)
			continue
		}
		for _, v := range []string{"1", "2"} {
			if m := migration(t, rep, v); m.Status != report.StatusApplied || m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
				t.Errorf("%s: %s, error %+v, round trip %+v; want applied, round trip ok", v, m.Status, m.Error, m.Roundtrip)
			}
		}
		return
	}
}

// TestProgressOfAnEndedSession: the progress says what follows a migration that ends its own session.
// After a down in the round trip the rehearsal goes on in a new session; after an up the later
// migrations are not run (a failed migration stops the run), which the progress line said otherwise.
func TestProgressOfAnEndedSession(t *testing.T) {
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql":   "CREATE TABLE a (id bigint);",
		"1_a.down.sql": "DROP TABLE a;\nSELECT pg_terminate_backend(pg_backend_pid());",
		"2_b.up.sql":   "CREATE TABLE b (id bigint);\nSELECT pg_terminate_backend(pg_backend_pid());",
		"3_c.up.sql":   "CREATE TABLE c (id bigint);",
	})
	var lines []string
	progress := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	rep, err := rehearse.Run(ctx, rehearse.Options{Set: set, Provider: provider(t), NoTrace: true, Progress: progress})
	if err != nil {
		t.Fatalf("the run stopped: %v", err)
	}
	if m := migration(t, rep, "3"); m.Status != report.StatusNotRun {
		t.Fatalf("3: %s; want not-run after 2 failed", m.Status)
	}
	var afterDown, afterUp string
	for i, l := range lines {
		if i == 0 || !strings.Contains(l, "its session was ended") {
			continue
		}
		switch {
		case strings.Contains(lines[i-1], "FAILED at") && strings.Contains(lines[i-1], "2_b.up.sql"):
			afterUp = l
		case afterDown == "":
			afterDown = l
		}
	}
	if !strings.Contains(afterDown, "the rehearsal goes on in a new one") {
		t.Errorf("after 1's down ended its session: %q; want that the rehearsal goes on\n%s", afterDown, strings.Join(lines, "\n"))
	}
	if strings.Contains(afterUp, "goes on") || !strings.Contains(afterUp, "3_c is not run") {
		t.Errorf("after 2's up ended its session: %q; want that 3_c is not run\n%s", afterUp, strings.Join(lines, "\n"))
	}
}

// TestMigrationsThatForgetPreparedStatements: a migration's DEALLOCATE ALL removes the session's
// prepared statements, among them the rehearsal's own catalog reads and traces, which pgx kept a list
// of: the next one failed (prepared statement "stmt_..." does not exist), and the migration was failed
// at no line for it. Traced statement by statement, round-tripped, and replayed as history (its scripts
// joined in one query), such migrations now rehearse as any other; a DEALLOCATE of one of the
// migration's own statements leaves its others be.
func TestMigrationsThatForgetPreparedStatements(t *testing.T) {
	files := map[string]string{
		"1_a.up.sql":   "CREATE TABLE a (id bigint);\nDEALLOCATE ALL;\nCREATE INDEX a_id ON a (id);",
		"1_a.down.sql": "DEALLOCATE ALL;\nDROP TABLE a;",
		"2_b.up.sql":   "CREATE TABLE b (id bigint);\nDEALLOCATE ALL;\nPREPARE keep AS SELECT 1;\nPREPARE gone AS SELECT 2;\nDEALLOCATE gone;\nEXECUTE keep;\nDEALLOCATE keep;",
		"2_b.down.sql": "DROP TABLE b;\nDEALLOCATE ALL;",
		"3_c.up.sql":   "CREATE TABLE c (id bigint);",
		"3_c.down.sql": "DROP TABLE c;",
	}
	set := folderOf(t, migrate.FormatGolangMigrate, files)
	for _, base := range []*migrate.Set{nil, {Format: set.Format, Migrations: set.Migrations[:2]}} {
		rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Base: base, Provider: provider(t)})
		if err != nil {
			t.Fatalf("base %v: %v", base != nil, err)
		}
		for _, m := range rep.Migrations {
			want := report.StatusApplied
			if m.New && (m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK) {
				t.Errorf("base %v: %s: round trip %+v; want ok", base != nil, m.Version, m.Roundtrip)
			}
			if !m.New {
				want = report.StatusBase
			}
			if m.Status != want {
				t.Errorf("base %v: %s: %s %+v; want %s", base != nil, m.Version, m.Status, m.Error, want)
			}
		}
	}
}

// progressLog keeps the progress lines of a run, which the watchdog's goroutine writes too.
type progressLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *progressLog) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

// String is the lines so far, one a line.
func (l *progressLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// TestReplayProgressNamesNoWarmUp: while the history replays, a second connection plans the catalog
// reads (pg.Inspector.Warm); the watchdog, which reports every statement running longer than
// StillRunningEvery, reports the replay's and never those, nor the catalog read that follows the
// replay on the rehearsal's own session, which are schemagate's own: a loaded machine once had it say
// "still running after 0s: EXPLAIN EXECUTE "stmt_…"" beside the history's progress.
// Here every statement of more than a millisecond is reported, and the watchdog looks every 10 ms.
func TestReplayProgressNamesNoWarmUp(t *testing.T) {
	out := sleepyReplay(t, time.Millisecond, "0.6", "0.6")
	if !strings.Contains(out, "  history migration 1_a at db/1_a.up.sql:2: still running after") {
		t.Errorf("progress lacks the sleeping statement of 1_a:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		// A migration's statement is named by its file and line, or, in a history batch whose mark the
		// look missed, by its migration ("history migration 1_a (or one sent with it)").
		if strings.Contains(l, "still running") && !strings.Contains(l, " db/") && !strings.Contains(l, "  history migration ") {
			t.Errorf("progress line %q: want only the migrations' statements named", l)
		}
	}
}

// sleepyReplay rehearses a history of two migrations, 1_a and 2_b, whose second statements sleep for
// the seconds given, and one new migration, 3_c, with the watchdog reporting every statement that runs
// longer than every; it returns the progress lines.
func sleepyReplay(t *testing.T, every time.Duration, a, b string) string {
	t.Helper()
	history := map[string]string{
		"1_a.up.sql": "CREATE TABLE a (id bigint);\nSELECT pg_sleep(" + a + ");",
		"2_b.up.sql": "CREATE TABLE b (id bigint);\nSELECT pg_sleep(" + b + ");",
	}
	base := folderOf(t, migrate.FormatGolangMigrate, history)
	history["3_c.up.sql"], history["3_c.down.sql"] = "CREATE TABLE c (id bigint);", "DROP TABLE c;"
	set := folderOf(t, migrate.FormatGolangMigrate, history)
	var log progressLog
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Base: base, Provider: provider(t), Dir: "db", NoTrace: true,
		StillRunningEvery: every, Progress: log.add})
	if err != nil || !rep.OK {
		t.Fatalf("run: %v %+v", err, rep)
	}
	return log.String()
}
