package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/snapshot"
)

// childEnv makes the test binary a deploy process that the crash test kills with SIGKILL.
const childEnv = "SCHEMAGATE_TEST_DEPLOY_CHILD"

// deployChild deploys the folder in $SCHEMAGATE_TEST_DIR to $SCHEMAGATE_TEST_URL, printing progress.
func deployChild() int {
	url, dir := os.Getenv("SCHEMAGATE_TEST_URL"), os.Getenv("SCHEMAGATE_TEST_DIR")
	format := migrate.FormatGolangMigrate
	if f := os.Getenv("SCHEMAGATE_TEST_FORMAT"); f != "" {
		format = migrate.Format(f)
	}
	set, err := migrate.Read(os.DirFS(dir), format)
	if err != nil {
		fmt.Println("read:", err)
		return 1
	}
	env := &config.Environment{Maintenance: config.Maintenance{
		On:  config.Action{SQL: "UPDATE app_settings SET value = 'on' WHERE key = 'maintenance'"},
		Off: config.Action{SQL: "UPDATE app_settings SET value = 'off' WHERE key = 'maintenance'"},
	}}
	maint, _ := NewMaintenance(env.Maintenance, url, os.Getenv)
	o := Options{Env: "test", Config: env, URL: url, Set: set, RunID: "run-killed",
		Holder: "doomed", Maintenance: maint, Progress: func(m string) { fmt.Println(m) }}
	if snaps := os.Getenv("SCHEMAGATE_TEST_SNAPDIR"); snaps != "" {
		o.Snapshotter = &snapshot.PGDump{URL: url, Dir: snaps, ExcludeSchemas: []string{"schemagate"}}
	}
	_, err = Run(context.Background(), o)
	if err != nil {
		fmt.Println("deploy:", err)
		return 1
	}
	return 0
}

func writeFolder(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, sql := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDeployKilledThenRecovered(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	dir := t.TempDir()
	files := with(goodMigrations, map[string]string{
		"2_backfill.up.sql": "SELECT pg_sleep(60);\nINSERT INTO customers SELECT id, 'x' FROM accounts;",
	})
	writeFolder(t, dir, files)

	seen := startAndKill(t, tg.url, dir, nil)
	if !strings.HasPrefix(seen, "turning maintenance mode on\nmaintenance mode on") {
		t.Fatalf("child output: %q", seen)
	}
	if tg.maintenance(t) != "on" {
		t.Fatal("the killed deploy did not leave maintenance mode on; the test proves nothing")
	}

	// A plain deploy refuses to run over the unfinished run and leaves maintenance mode on: turning it off
	// would make the dead run's snapshot unsafe for --recover.
	fixed := with(files, map[string]string{"2_backfill.up.sql": goodMigrations["2_backfill.up.sql"]})
	o := tg.options(t, folder(t, fixed), "run-next")
	res, err := Run(t.Context(), o)
	var b *Blocked
	if !errors.As(err, &b) || !strings.Contains(b.Reason, "run-killed") || !strings.Contains(b.Hint, "--recover") {
		t.Fatalf("deploy over a dead run: %v", err)
	}
	if tg.maintenance(t) != "on" || !strings.Contains(b.Hint, "maintenance mode stays on") {
		t.Errorf("maintenance mode %s after the blocked run (hint %q); want it left on for --recover", tg.maintenance(t), b.Hint)
	}
	if res.Lock == nil || !strings.Contains(res.Lock.Stale, "doomed") {
		t.Errorf("stale lock row not reported: %+v", res.Lock)
	}

	// --recover undoes what the dead run applied, then deploys.
	o = tg.options(t, folder(t, fixed), "run-recover")
	o.Recover = true
	res, err = Run(t.Context(), o)
	if err != nil {
		t.Fatalf("recover: %v", err)
	}
	if res.Recovered == nil || res.Recovered.RunID != "run-killed" || strings.Join(res.Recovered.Undone, ",") != "1" || res.Recovered.Method != "down" {
		t.Errorf("recovery %+v", res.Recovered)
	}
	if res.Outcome != OutcomeDeployed {
		t.Errorf("outcome %s", res.Outcome)
	}
	if got, want := tg.historyOf(t), "1:rolled-back 2:failed 1:applied 2:applied 3:applied 4:applied"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
	if got := tg.value(t, "SELECT status FROM schemagate.schemagate_runs WHERE run_id = 'run-killed'"); got != "recovered" {
		t.Errorf("dead run recorded as %q", got)
	}
	if tg.maintenance(t) != "off" {
		t.Error("maintenance mode left on")
	}
	// The killed run recorded when its on action went through; the on action runs again all the same (it
	// may have been turned off by hand since), and the report says when the killed run turned it on.
	if mr := res.Maintenance; mr == nil || mr.InheritedFrom != "run-killed" || mr.Since == nil || mr.On == nil ||
		!strings.Contains(mr.OnAgain, "run run-killed turned maintenance mode on at "+mr.Since.UTC().Format(time.RFC3339)) {
		t.Errorf("maintenance %+v, want the on action run again, saying when the killed run turned it on", res.Maintenance)
	}
}

// TestDeployRecoverJudgesCodeAsBeforeTheDeadRun: --recover judged the functions the dead run's
// migrations called by the database as it was at the recovery, after the ups (the last session's note):
// an up that called reset_names, which overwrites accounts.name, and then put a harmless function in its
// place was judged by the harmless one, and the recovery ran the downs, leaving the names overwritten. It
// now judges by what the dead run read before its first migration, kept in its schemagate_runs row, and
// restores the snapshot. A function the dead run did not read (the folder changed since) counts as one
// whose code is unknown; a run of an earlier release, which kept nothing, is judged as before, with a note.
func TestDeployRecoverJudgesCodeAsBeforeTheDeadRun(t *testing.T) {
	t.Parallel()
	const (
		overwrite = "SELECT reset_names();\nALTER FUNCTION reset_names() RENAME TO reset_names_v1;\nALTER FUNCTION noop() RENAME TO reset_names;"
		undo      = "ALTER FUNCTION reset_names() RENAME TO noop;\nALTER FUNCTION reset_names_v1() RENAME TO reset_names;"
	)
	tests := []struct {
		name      string
		up, down  string
		newDown   string // the down in the folder --recover reads, when it changed
		forget    bool   // the dead run's row keeps nothing: the history tables are an earlier release's
		method    string
		said      string // what the recovery's progress says
		note      string
		unchanged bool // the data is as before the dead run once the run after the recovery rolled back
	}{
		{name: "code replaced after the call", up: overwrite, down: undo, method: "snapshot", unchanged: true,
			said: `restoring the snapshot: the up of 1_x destroys data its down cannot bring back: 1_x.up.sql:1 calls reset_names, whose code (function reset_names()) holds "UPDATE accounts SET"`},
		{name: "a function the dead run did not read", up: "ALTER TABLE accounts ADD COLUMN z int;", down: "ALTER TABLE accounts DROP COLUMN z;",
			newDown: "SELECT noop();\nALTER TABLE accounts DROP COLUMN z;", method: "snapshot", unchanged: true,
			said: "1_x.down.sql:1 calls noop, whose code cannot be read (run run-killed did not read it from the database before its first migration, and the migration folder changed since)"},
		{name: "a run of an earlier release", up: overwrite, down: undo, forget: true, method: "down",
			note: "run run-killed recorded nothing of the functions its migrations call before its first migration (an earlier release)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.exec(t, `CREATE FUNCTION reset_names() RETURNS void LANGUAGE sql AS $$ UPDATE accounts SET name = 'x' $$;
				CREATE FUNCTION noop() RETURNS void LANGUAGE sql AS 'SELECT 1';`)
			data := func() string { return strings.SplitN(tg.checksums(t), "app_settings", 2)[0] }
			before := data()
			dir := t.TempDir()
			writeFolder(t, dir, map[string]string{"1_x.up.sql": tc.up, "1_x.down.sql": tc.down, "2_sleep.up.sql": "SELECT pg_sleep(60);", "2_sleep.down.sql": "SELECT 1;"})
			snaps := t.TempDir()
			startAndKill(t, tg.url, dir, []string{"SCHEMAGATE_TEST_SNAPDIR=" + snaps})
			if got := tg.historyOf(t); got != "1:applied 2:running" {
				t.Fatalf("history after the kill %q: the test proves nothing", got)
			}
			if tc.up == overwrite {
				if got := tg.value(t, "SELECT count(*)::text FROM accounts WHERE name = 'x'"); got != "3000" {
					t.Fatalf("%s accounts overwritten by the killed run, want 3000; the test proves nothing", got)
				}
				if got := tg.value(t, "SELECT coalesce(before_run->'code'->'reset_names'->0->>'destroys', 'none') FROM schemagate.schemagate_runs WHERE run_id = 'run-killed'"); got != "UPDATE accounts SET" {
					t.Errorf("the dead run recorded %q of reset_names, want what its code destroys", got)
				}
			}
			if tc.forget {
				// The deploy that recovers it brings the table up to date first.
				tg.exec(t, "ALTER TABLE schemagate.schemagate_runs DROP COLUMN before_run")
			}

			// Recovered from the folder without the sleep; the deploy after the recovery fails, so that
			// its own rollback (by its own snapshot) leaves the database as the recovery left it.
			files := map[string]string{"1_x.up.sql": tc.up, "1_x.down.sql": tc.down, "2_sleep.up.sql": "SELECT 2;", "2_sleep.down.sql": "SELECT 1;",
				"3_fail.up.sql": "SELECT 1 / 0;", "3_fail.down.sql": "SELECT 1;"}
			if tc.newDown != "" {
				files["1_x.down.sql"] = tc.newDown
			}
			o := tg.options(t, folder(t, files), "run-recover")
			o.Snapshotter = &snapshot.PGDump{URL: tg.url, Dir: snaps, ExcludeSchemas: []string{"schemagate"}}
			o.Recover = true
			var mu sync.Mutex
			var said []string
			o.Progress = func(msg string) {
				t.Log(msg)
				mu.Lock()
				defer mu.Unlock()
				said = append(said, msg)
			}
			res, err := Run(t.Context(), o)
			if err == nil {
				t.Fatal("the deploy after the recovery succeeded; its last migration divides by zero")
			}
			mu.Lock()
			recovery := strings.Join(said, "\n")
			mu.Unlock()
			recovery, _, _ = strings.Cut(recovery, "\nmaintenance mode ") // what the recovery said, before the deploy that follows it
			if res.Recovered == nil || res.Recovered.Method != tc.method || res.Recovered.Failed != "" || !strings.Contains(recovery, tc.said) {
				t.Fatalf("recovery %+v, progress:\n%s\nwant it undone by %s, saying %q", res.Recovered, recovery, tc.method, tc.said)
			}
			if notes := strings.Join(res.Notes, "\n"); !strings.Contains(notes, tc.note) {
				t.Errorf("notes:\n%s\nwant %q", notes, tc.note)
			}
			if got := tg.value(t, "SELECT status FROM schemagate.schemagate_runs WHERE run_id = 'run-killed'"); got != "recovered" {
				t.Errorf("dead run recorded as %q", got)
			}
			if after := data(); tc.unchanged && after != before {
				t.Errorf("data after the recovery and the failed deploy differs:\n%s\n---\n%s", before, after)
			}
		})
	}
}

// waitForSleep waits until a session on url runs pg_sleep.
func waitForSleep(t *testing.T, url string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE state = 'active' AND query ILIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()
			  AND datname = current_database()`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the deploy child never reached pg_sleep in migration 2")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// inSecond matches the progress line of migration 2 (2_name or 00002_name), whichever its place in the run.
var inSecond = regexp.MustCompile(`^applying \d+/\d+ 0*2_`)

// startAndKill runs a deploy child on dir and kills it with SIGKILL once it is inside migration 2.
func startAndKill(t *testing.T, url, dir string, env []string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"=1", "SCHEMAGATE_TEST_URL="+url, "SCHEMAGATE_TEST_DIR="+dir), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var seen []string
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if inSecond.MatchString(sc.Text()) {
			break
		}
	}
	waitForSleep(t, url) // the child is inside pg_sleep: what came before it in migration 2 has run
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	return strings.Join(seen, "\n")
}

func TestDeployKilledOutsideTransactionRecoveredBySnapshot(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	data := func() string { return strings.SplitN(tg.checksums(t), "app_settings", 2)[0] }
	before := data()
	dir := t.TempDir()
	writeFolder(t, dir, map[string]string{
		"00001_customers.sql": "-- +goose Up\nCREATE TABLE customers (id bigint PRIMARY KEY);\n-- +goose Down\nDROP TABLE customers;\n",
		"00002_reprice.sql":   "-- +goose NO TRANSACTION\n-- +goose Up\nUPDATE orders SET total = 0;\nSELECT pg_sleep(60);\n-- +goose Down\nSELECT 1;\n",
	})
	snaps := t.TempDir()
	seen := startAndKill(t, tg.url, dir, []string{"SCHEMAGATE_TEST_FORMAT=goose", "SCHEMAGATE_TEST_SNAPDIR=" + snaps})
	if !strings.Contains(seen, "snapshot") {
		t.Fatalf("child output: %q", seen)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM orders WHERE total <> 0"); got != "0" {
		t.Fatal("the killed run's first statement did not commit; the test proves nothing")
	}

	// Recover with the repricing removed: the half-applied migration forces the snapshot.
	writeFolder(t, dir, map[string]string{"00002_reprice.sql": "-- +goose NO TRANSACTION\n-- +goose Up\nSELECT 2;\n-- +goose Down\nSELECT 1;\n"})
	set, err := migrate.Read(os.DirFS(dir), migrate.FormatGoose)
	if err != nil {
		t.Fatal(err)
	}
	// A plain run first: blocked, it must leave maintenance mode on, or the dead run's snapshot becomes
	// unsafe and --recover could no longer restore it.
	o := tg.options(t, set, "run-plain")
	o.Snapshotter = &snapshot.PGDump{URL: tg.url, Dir: snaps, ExcludeSchemas: []string{"schemagate"}}
	var b *Blocked
	if _, err := Run(t.Context(), o); !errors.As(err, &b) || !strings.Contains(b.Hint, "--recover") {
		t.Fatalf("plain deploy over the dead run: %v, want blocked", err)
	}
	if tg.maintenance(t) != "on" {
		t.Error("the blocked run turned maintenance mode off")
	}
	o = tg.options(t, set, "run-recover")
	o.Snapshotter = &snapshot.PGDump{URL: tg.url, Dir: snaps, ExcludeSchemas: []string{"schemagate"}}
	o.Recover = true
	res, err := Run(t.Context(), o)
	if err != nil {
		t.Fatalf("recover: %v", err)
	}
	if res.Recovered == nil || res.Recovered.Method != "snapshot" || strings.Join(res.Recovered.Undone, ",") != "1,2" {
		t.Errorf("recovery %+v", res.Recovered)
	}
	if after := data(); after != before {
		t.Errorf("data after recovery differs:\n%s\n---\n%s", before, after)
	}
	if tg.maintenance(t) != "off" {
		t.Error("maintenance mode left on")
	}
}

// TestDeployRecoverBySnapshotNamesRoleChanges: --recover restores the dead run's snapshot, which does
// not undo the ALTER ROLE of its first migration. A failed deploy's restore says so in
// rollback.not_restored and the text; --recover's said nothing of it but a note. It now says so in
// recovered.not_restored and on the report's Recovered line.
func TestDeployRecoverBySnapshotNamesRoleChanges(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	role := fmt.Sprintf("sg_recover_role_%d", time.Now().UnixNano())
	tg.exec(t, "CREATE ROLE "+role)
	t.Cleanup(func() { _, _ = tg.conn.Exec(context.Background(), "DROP ROLE IF EXISTS "+role) })
	dir := t.TempDir()
	writeFolder(t, dir, map[string]string{
		"00001_customers.sql": "-- +goose Up\nCREATE TABLE customers (id bigint PRIMARY KEY);\nALTER ROLE " + role + " CONNECTION LIMIT 5;\n-- +goose Down\nDROP TABLE customers;\n",
		"00002_reprice.sql":   "-- +goose NO TRANSACTION\n-- +goose Up\nUPDATE orders SET total = 0;\nSELECT pg_sleep(60);\n-- +goose Down\nSELECT 1;\n",
	})
	snaps := t.TempDir()
	startAndKill(t, tg.url, dir, []string{"SCHEMAGATE_TEST_FORMAT=goose", "SCHEMAGATE_TEST_SNAPDIR=" + snaps})

	writeFolder(t, dir, map[string]string{"00002_reprice.sql": "-- +goose NO TRANSACTION\n-- +goose Up\nSELECT 2;\n-- +goose Down\nSELECT 1;\n"})
	set, err := migrate.Read(os.DirFS(dir), migrate.FormatGoose)
	if err != nil {
		t.Fatal(err)
	}
	o := tg.options(t, set, "run-recover")
	o.Snapshotter = &snapshot.PGDump{URL: tg.url, Dir: snaps, ExcludeSchemas: []string{"schemagate"}}
	o.Recover = true
	res, err := Run(t.Context(), o)
	if err != nil {
		t.Fatalf("recover: %v", err)
	}
	if res.Recovered == nil || res.Recovered.Method != "snapshot" {
		t.Fatalf("recovery %+v; want the snapshot restored", res.Recovered)
	}
	var js bytes.Buffer
	if err := res.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Recovered struct {
			NotRestored []string `json:"not_restored"`
		} `json:"recovered"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Recovered.NotRestored; len(got) != 1 || !strings.Contains(got[0], "ALTER ROLE "+role+" at 00001_customers.sql:3") {
		t.Errorf("recovered.not_restored %q; want the ALTER ROLE of 00001_customers.sql", got)
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`Recovered:.*the snapshot does not undo ALTER ROLE ` + role).MatchString(text.String()) {
		t.Errorf("the Recovered line does not name the ALTER ROLE:\n%s", text.String())
	}
}

// TestDeployKilledAfterImportKeepsImported: a run that took over another tool's history and died in its
// first own migration is recovered without undoing the imported migrations, which that tool applied
// (their downs would drop production tables).
func TestDeployKilledAfterImportKeepsImported(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	tg.exec(t, goodMigrations["1_customers.up.sql"]+"\nINSERT INTO customers VALUES (-1, 'kept@example.com');\n"+
		golangMigrateTable+"\nINSERT INTO schema_migrations VALUES (1, false)")
	dir := t.TempDir()
	files := with(goodMigrations, map[string]string{
		"2_backfill.up.sql": "SELECT pg_sleep(60);\nINSERT INTO customers SELECT id, 'x' FROM accounts;",
	})
	writeFolder(t, dir, files)
	startAndKill(t, tg.url, dir, nil)
	if got := tg.historyOf(t); got != "1:applied 2:running" {
		t.Fatalf("history after the kill %q: the test proves nothing", got)
	}

	fixed := with(files, map[string]string{"2_backfill.up.sql": goodMigrations["2_backfill.up.sql"]})
	o := tg.options(t, folder(t, fixed), "run-recover")
	o.Recover = true
	res, err := Run(t.Context(), o)
	if err != nil {
		t.Fatalf("recover: %v", err)
	}
	if res.Recovered == nil || len(res.Recovered.Undone) != 0 {
		t.Errorf("recovery undid %+v; the imported migration 1 must stay", res.Recovered)
	}
	if got := tg.value(t, "SELECT email FROM customers WHERE id = -1"); got != "kept@example.com" {
		t.Errorf("the row the other tool's migration 1 held is %q after the recovery", got)
	}
	if got, want := tg.historyOf(t), "1:applied 2:failed 2:applied 3:applied 4:applied"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
}

// TestDeployKilledRunWithoutDownKeptApplied: the dead run applied a migration that has no down, and
// it took no snapshot. --recover cannot undo it, says so (no "recovered" line) and points at
// --keep-applied, which keeps it as applied and deploys the rest.
func TestDeployKilledRunWithoutDownKeptApplied(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	dir := t.TempDir()
	files := with(goodMigrations, map[string]string{
		"2_backfill.up.sql": "SELECT pg_sleep(60);\nINSERT INTO customers SELECT id, 'x' FROM accounts;",
	})
	delete(files, "1_customers.down.sql")
	writeFolder(t, dir, files)
	startAndKill(t, tg.url, dir, nil)

	fixed := with(files, map[string]string{"2_backfill.up.sql": goodMigrations["2_backfill.up.sql"]})
	o := tg.options(t, folder(t, fixed), "run-recover")
	o.Recover = true
	res, err := Run(t.Context(), o)
	var b *Blocked
	if !errors.As(err, &b) || !strings.Contains(b.Hint, "--keep-applied") {
		t.Fatalf("recover without a down or a snapshot: %v", err)
	}
	if res.Recovered == nil || res.Recovered.Failed == "" || len(res.Recovered.Undone) != 0 {
		t.Errorf("recovery %+v: want it failed, with nothing undone", res.Recovered)
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil || strings.Contains(text.String(), "Recovered") || strings.Contains(text.String(), "FAILED") {
		t.Errorf("the report claims a recovery, or a failure of the blocked one:\n%s", text.String())
	}
	// Nothing ran: the Recovery line said "FAILED: 1_customers has no down migration, ...", under a
	// headline that says blocked, and not what the database was left with.
	if want := "Recovery: run run-killed: not run: the down migrations were refused (1_customers has no down migration), and the snapshot cannot be restored: run run-killed recorded no snapshot; the database was left as it is, with run run-killed's 1 still applied (history says so)"; !strings.Contains(strings.Join(strings.Fields(text.String()), " "), want) {
		t.Errorf("the report does not say %q:\n%s", want, text.String())
	}
	if res.Outcome != OutcomeBlocked || !strings.HasPrefix(res.Recovered.NotRun, "the down migrations were refused") {
		t.Errorf("outcome %s, recovery not run %q", res.Outcome, res.Recovered.NotRun)
	}

	o = tg.options(t, folder(t, fixed), "run-keep")
	o.Recover, o.KeepApplied = true, true
	res, err = Run(t.Context(), o)
	if err != nil {
		t.Fatalf("recover --keep-applied: %v", err)
	}
	if res.Recovered == nil || strings.Join(res.Recovered.Kept, ",") != "1" || len(res.Recovered.Undone) != 0 || res.Outcome != OutcomeDeployed {
		t.Errorf("recovery %+v, outcome %s", res.Recovered, res.Outcome)
	}
	if got, want := tg.historyOf(t), "1:applied 2:failed 2:applied 3:applied 4:applied"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
}

// outcome is what a Run returned.
type outcome struct {
	res *Result
	err error
}

// runAsync starts Run(ctx, o) and returns where its outcome comes, for a test that acts on the server
// while it runs.
func runAsync(ctx context.Context, o Options) <-chan outcome {
	done := make(chan outcome, 1)
	go func() {
		res, err := Run(ctx, o)
		done <- outcome{res, err}
	}()
	return done
}

// TestDeployRecoverRefusesASnapshotWrittenOverSince: a deploy killed half way through a migration that
// runs outside a transaction leaves maintenance mode on, as history records; a person then brings the
// application back by hand, and it writes (a new row, a changed one). --recover restored the snapshot all
// the same, history saying maintenance mode had stayed on: the writes were gone and the run exited 0
// (found by an SRE tester). The killed run now records its snapshot's mark and the transaction ids of its
// own statements, and --recover reads the application's tables for rows others wrote since: it refuses
// the restore, naming the tables, and keeps those rows; the run's own statement (UPDATE orders) is not
// taken for another session's.
func TestDeployRecoverRefusesASnapshotWrittenOverSince(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	dir := t.TempDir()
	writeFolder(t, dir, map[string]string{
		"00001_customers.sql": "-- +goose Up\nCREATE TABLE customers (id bigint PRIMARY KEY);\n-- +goose Down\nDROP TABLE customers;\n",
		"00002_reprice.sql":   "-- +goose NO TRANSACTION\n-- +goose Up\nUPDATE orders SET total = 0;\nSELECT pg_sleep(60);\n-- +goose Down\nSELECT 1;\n",
	})
	snaps := t.TempDir()
	seen := startAndKill(t, tg.url, dir, []string{"SCHEMAGATE_TEST_FORMAT=goose", "SCHEMAGATE_TEST_SNAPDIR=" + snaps})
	if !strings.Contains(seen, "snapshot") || tg.value(t, "SELECT count(*)::text FROM orders WHERE total <> 0") != "0" {
		t.Fatalf("the killed run did not get to its UPDATE; the test proves nothing: %q", seen)
	}
	// The application, back by hand: a new account and a changed one.
	tg.exec(t, "INSERT INTO accounts VALUES (987654321, 'late payer', 5)")
	tg.exec(t, "UPDATE accounts SET balance = balance + 1 WHERE id = (SELECT min(id) FROM accounts WHERE id <> 987654321)")
	writeFolder(t, dir, map[string]string{"00002_reprice.sql": "-- +goose NO TRANSACTION\n-- +goose Up\nSELECT 2;\n-- +goose Down\nSELECT 1;\n"})
	set, err := migrate.Read(os.DirFS(dir), migrate.FormatGoose)
	if err != nil {
		t.Fatal(err)
	}
	o := tg.options(t, set, "run-recover")
	o.Snapshotter = &snapshot.PGDump{URL: tg.url, Dir: snaps, ExcludeSchemas: []string{"schemagate"}}
	o.Recover = true
	res, err := Run(t.Context(), o)
	if err == nil {
		t.Fatalf("recover restored the snapshot over the application's writes: %+v", res.Recovered)
	}
	if !strings.Contains(err.Error(), "public.accounts") || !strings.Contains(err.Error(), "were written since its snapshot") || strings.Contains(err.Error(), "public.orders") {
		t.Errorf("recover: %v; want the restore refused for the rows written to accounts (and not orders, the run's own)", err)
	}
	if got := tg.value(t, "SELECT name FROM accounts WHERE id = 987654321"); got != "late payer" {
		t.Errorf("the application's new row: %q, want it kept", got)
	}
}
