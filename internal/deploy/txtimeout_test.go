package deploy

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/snapshot"
)

// txTimeoutTarget is a fresh database of a PostgreSQL 17 server whose deploy role has
// transaction_timeout = '2s' in it, and deploy options for set: a snapshot hook that takes nothing
// and cannot restore, so that the rollback is the downs', guarded by the write watch as with any
// snapshot. (This machine's pg_dump is older than 17: see TestDeploySnapshotClientOfTheServerVersion.)
func txTimeoutTarget(t *testing.T, set func(*testing.T) *migrate.Set, runID string) (*target, Options, *[]string) {
	t.Helper()
	tg := newTargetAt(t, pgtest.TCPServerVersion(t, 17).URL)
	db := pgx.Identifier{tg.value(t, "SELECT current_database()")}.Sanitize()
	tg.exec(t, "ALTER ROLE CURRENT_USER IN DATABASE "+db+" SET transaction_timeout = '2s'")
	o := tg.options(t, set(t), runID)
	o.Snapshotter = &snapshot.Command{Take: "echo snap-1", Restore: "echo cannot restore >&2; exit 1", Timeout: time.Minute}
	progress := &[]string{}
	o.Progress = func(msg string) { t.Log(msg); *progress = append(*progress, msg) }
	return tg, o, progress
}

// folderOf is folder for txTimeoutTarget.
func folderOf(files map[string]string) func(*testing.T) *migrate.Set {
	return func(t *testing.T) *migrate.Set { return folder(t, files) }
}

// TestDeployOwnSessionsOutlastTransactionTimeout: PostgreSQL 17's transaction_timeout, set on the
// deploy's role, ends a session whose transaction (idle or not) outlasts it. The write watch holds one
// transaction for the whole deploy, to mark the snapshot's moment: two migrations of 1.5 s and 1.2 s
// outlasted 2 s, the server ended the watch's session, and the rollback of the second's failure stopped
// at "NOT ROLLED BACK: ... could not be checked (read the snapshot's view: ERROR: snapshot ... does not
// exist)", the database left needing attention. The deploy's own sessions now turn transaction_timeout
// off, as they do idle_session_timeout: the downs run, and the run is rolled back.
func TestDeployOwnSessionsOutlastTransactionTimeout(t *testing.T) {
	t.Parallel()
	tg, o, progress := txTimeoutTarget(t, folderOf(map[string]string{
		"1_slow.up.sql":   "SELECT pg_sleep(1.5);\nCREATE TABLE t1 (id int);",
		"1_slow.down.sql": "DROP TABLE t1;",
		"2_fail.up.sql":   "SELECT pg_sleep(1.2);\nSELECT 1/0;",
		"2_fail.down.sql": "SELECT 1;",
	}), "run-own-sessions")
	res, err := runBounded(t, o)
	if err == nil || res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "down" {
		t.Fatalf("err %v, outcome %s, rollback %+v; want migration 2 failed and the run rolled back by the downs\n%s",
			err, res.Outcome, res.Rollback, strings.Join(*progress, "\n"))
	}
	if e := res.Migrations[1].Error; e == nil || e.SQLState != "22012" {
		t.Errorf("migration 2 error %+v, want 22012 (division by zero)", e)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM pg_tables WHERE tablename = 't1'"); got != "0" {
		t.Error("t1 is still there after the rollback")
	}
}

// TestDeployTransactionTimeoutIsTheMigrationsLimit: the transaction_timeout the server gives the
// deploy's role (PostgreSQL 17+) bounds each migration, as its statement_timeout does: the progress
// output names it, a migration's own SET cannot lift it, and a migration that outlasts it, whose session
// the server ends (SQLSTATE 25P04) and whose transaction it rolls back, is rolled back with the run.
// Before, the deploy went on on the closed connection: "NOT ROLLED BACK: ... record the end of the run:
// conn closed", the database needing attention.
func TestDeployTransactionTimeoutIsTheMigrationsLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, up string
		note     string
	}{
		{name: "a long migration", up: "SELECT pg_sleep(3);\n"},
		{name: "a script that lifts it", up: "SET LOCAL transaction_timeout = 0;\nSELECT pg_sleep(3);\n",
			note: "2_slow.up.sql:1 turns transaction_timeout off; the deploy kept it at 2s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg, o, progress := txTimeoutTarget(t, folderOf(map[string]string{
				"1_t1.up.sql":     "CREATE TABLE t1 (id int);",
				"1_t1.down.sql":   "DROP TABLE t1;",
				"2_slow.up.sql":   tc.up + "CREATE TABLE t2 (id int);",
				"2_slow.down.sql": "DROP TABLE t2;",
			}), "run-transaction-timeout")
			res, err := runBounded(t, o)
			all := strings.Join(*progress, "\n")
			if err == nil || res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "down" {
				t.Fatalf("err %v, outcome %s, rollback %+v; want migration 2 ended by transaction_timeout and the run rolled back by the downs\n%s",
					err, res.Outcome, res.Rollback, all)
			}
			if e := res.Migrations[1].Error; e == nil || e.SQLState != "25P04" {
				t.Errorf("migration 2 error %+v, want 25P04 (transaction timeout)", e)
			}
			for _, want := range []string{"transaction_timeout 2s (set on the role in this database)", "2_slow ran longer than transaction_timeout 2s"} {
				if !strings.Contains(all, want) {
					t.Errorf("progress does not say %q:\n%s", want, all)
				}
			}
			if tc.note != "" && !strings.Contains(strings.Join(res.Notes, "\n"), tc.note) {
				t.Errorf("notes lack %q:\n%s", tc.note, strings.Join(res.Notes, "\n"))
			}
			if got := tg.value(t, "SELECT count(*)::text FROM pg_tables WHERE tablename IN ('t1', 't2')"); got != "0" {
				t.Errorf("%s of t1, t2 are still there after the rollback", got)
			}
		})
	}
}

// TestDeployTransactionTimeoutEndsANonTransactionalMigration: a statement of a non-transactional
// migration that outlasts the role's transaction_timeout ends the work session (25P04), the statements
// before it committed. The deploy connects again, records the failure and rolls the run back, the
// half-applied migration with it (by the snapshot, as after any failure half way). Before, it went on on the closed connection, and left the database
// needing attention.
func TestDeployTransactionTimeoutEndsANonTransactionalMigration(t *testing.T) {
	t.Parallel()
	tg, o, progress := txTimeoutTarget(t, func(t *testing.T) *migrate.Set {
		set, err := migrate.Read(fstest.MapFS{
			"00001_t1.sql": {Data: []byte("-- +goose Up\nCREATE TABLE t1 (id int);\n-- +goose Down\nDROP TABLE t1;\n")},
			"00002_t2.sql": {Data: []byte("-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE t2 (id int);\nSELECT pg_sleep(3);\n" +
				"-- +goose Down\nDROP TABLE IF EXISTS t2;\n")},
		}, migrate.FormatGoose)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}, "run-transaction-timeout-notx")
	// The half-applied migration is undone by the snapshot's restore, which drops what the run created.
	o.Snapshotter = &snapshot.Command{Take: "echo snap-1", Restore: `exec psql -X -q -v ON_ERROR_STOP=1 -d "$URL" -c "DROP TABLE IF EXISTS t1, t2"`,
		Env: []string{"URL=" + tg.url}, Timeout: time.Minute}
	res, err := runBounded(t, o)
	all := strings.Join(*progress, "\n")
	if err == nil || res.Outcome != OutcomeRolledBack || res.Rollback == nil || !res.Rollback.OK {
		t.Fatalf("err %v, outcome %s, rollback %+v; want migration 2 ended by transaction_timeout and the run rolled back\n%s",
			err, res.Outcome, res.Rollback, all)
	}
	if e := res.Migrations[1].Error; e == nil || e.SQLState != "25P04" {
		t.Errorf("migration 2 error %+v, want 25P04 (transaction timeout)", e)
	}
	if got := tg.value(t, "SELECT status || ': ' || coalesce(error, '<none>') FROM schemagate.schemagate_history WHERE version = '2'"); !strings.HasPrefix(got, res.Migrations[1].Status+": ") ||
		!strings.Contains(got, "transaction timeout") {
		t.Errorf("history of 2: %q; want its status (%s) with the error it failed with", got, res.Migrations[1].Status)
	}
	if want := "a statement ran longer than transaction_timeout 2s (set on the role in this database)"; !strings.Contains(all, want) {
		t.Errorf("progress does not say %q:\n%s", want, all)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM pg_tables WHERE tablename IN ('t1', 't2')"); got != "0" {
		t.Errorf("%s of t1, t2 are still there after the rollback", got)
	}
}
