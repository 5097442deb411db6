package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestDeployRestoreRefusedAfterOtherSessionsWrote: a migration without a down is applied, another
// session writes to the application's tables (an insert, an update, a delete) and commits, and a later
// migration fails. The rollback restored the snapshot and so silently dropped that session's committed
// write (the tester's "app-write-2"). The restore is now refused: the database is left as it is, with the
// write and the applied migration, history says so, the run fails (exit 1, needs attention) and the
// report says what was not rolled back and why. Without such writes the restore goes through (the
// deploy's own writes, the backfill, do not count).
func TestDeployRestoreRefusedAfterOtherSessionsWrote(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		write string // what the application commits while the deploy runs; "" for nothing
		check string // true after the deploy when the write is still there
	}{
		{name: "insert", write: "INSERT INTO accounts VALUES (9001, 'app-write-2', 1)", check: "SELECT (count(*) = 1)::text FROM accounts WHERE name = 'app-write-2'"},
		{name: "update", write: "UPDATE orders SET note = 'paid' WHERE id = 17", check: "SELECT (note = 'paid')::text FROM orders WHERE id = 17"},
		{name: "delete", write: "DELETE FROM orders WHERE id = 5", check: "SELECT (count(*) = 0)::text FROM orders WHERE id = 5"},
		{name: "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.exec(t, "CREATE TABLE app_log (id int)")
			before := tg.checksums(t)
			set := folder(t, map[string]string{
				"1_z.up.sql":        "ALTER TABLE accounts ADD COLUMN z int;\nINSERT INTO app_log VALUES (1);\nUPDATE accounts SET z = 1 WHERE id < 10;",
				"2_broken.up.sql":   "SELECT 1/0;",
				"2_broken.down.sql": "SELECT 1;",
			})
			o := tg.options(t, set, "run-writes")
			o.Maintenance = nil                         // a maintenance mode that does not stop every writer
			tg.writeAt(t, &o, "applying 2/2", tc.write) // committed after the snapshot, before the failure
			res, err := Run(t.Context(), o)
			if err == nil {
				t.Fatal("deploy succeeded")
			}
			rb := res.Rollback
			if tc.write == "" {
				if res.Outcome != OutcomeRolledBack || rb == nil || rb.Method != "snapshot" || !rb.OK {
					t.Fatalf("outcome %s, rollback %+v; want the snapshot restored", res.Outcome, rb)
				}
				if after := tg.checksums(t); after != before {
					t.Errorf("database differs after restore:\n%s\n---\n%s", before, after)
				}
				return
			}
			if res.Outcome != OutcomeFailed || rb == nil || rb.OK || !strings.Contains(rb.Error, "other sessions wrote to") ||
				!strings.Contains(rb.Error, "the snapshot was not restored") {
				t.Fatalf("outcome %s, rollback %+v; want the restore refused for the other session's write", res.Outcome, rb)
			}
			if tg.value(t, tc.check) != "true" {
				t.Error("the other session's committed write is gone")
			}
			if tg.value(t, "SELECT count(*)::text FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'z'") != "1" {
				t.Error("1_z was undone although history keeps it")
			}
			if got, want := tg.historyOf(t), "1:applied 2:failed"; got != want {
				t.Errorf("history %q, want %q", got, want)
			}
			if !strings.Contains(res.Hint, "1_z still applied") || !strings.Contains(strings.Join(res.Notes, "\n"), "NOT ROLLED BACK") {
				t.Errorf("hint %q, notes %q; want them to say what was not rolled back", res.Hint, res.Notes)
			}
		})
	}
}

// TestDeploySignalDuringRollbackRunsTheDowns: a migration fails, and SIGTERM comes as the rollback starts
// the down of an earlier one (the context cancelled with that cause, as main does). The signal cancelled
// the down, which sent the rollback to the snapshot, and could break the records after it. The rollback is
// part of the clean-up the signal starts: the down now runs to its end, history records it, and the run
// is rolled back.
func TestDeploySignalDuringRollbackRunsTheDowns(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	before := tg.checksums(t)
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	o := tg.options(t, folder(t, map[string]string{
		"1_a.up.sql":   "CREATE TABLE a (i int);\nINSERT INTO a VALUES (1);",
		"1_a.down.sql": "DROP TABLE a;",
		"2_b.up.sql":   "SELECT 1/0;",
		"2_b.down.sql": "SELECT 1;",
	}), "run-signal")
	progress := o.Progress
	o.Progress = func(msg string) {
		progress(msg)
		if strings.HasPrefix(msg, "rolling back 1_a with its down") {
			cancel(sigterm)
		}
	}
	res, err := Run(ctx, o)
	if err == nil {
		t.Fatal("deploy succeeded")
	}
	if ctx.Err() == nil {
		t.Fatal("the rollback never started its down; the test proves nothing")
	}
	if res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "down" || !res.Rollback.OK {
		t.Fatalf("outcome %s, rollback %+v; want rolled back by the down", res.Outcome, res.Rollback)
	}
	if got, want := tg.historyOf(t), "1:rolled-back 2:failed"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
	if got := tg.value(t, "SELECT status || ' ' || outcome FROM schemagate.schemagate_runs WHERE run_id = 'run-signal'"); got != "finished rolled-back" {
		t.Errorf("run recorded as %q", got)
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("database differs after the rollback:\n%s\n---\n%s", before, after)
	}
}

// goosefolder builds a goose folder from name -> SQL.
func gooseFolder(t *testing.T, files map[string]string) *migrate.Set {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, sql := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(sql)}
	}
	set, err := migrate.Read(fsys, migrate.FormatGoose)
	if err != nil {
		t.Fatalf("read migrations: %v", err)
	}
	return set
}

// TestDeployConcurrentIndexWithSnapshot: with the default pg_dump snapshot, the deploy held, for the whole
// run, the transaction that marks the snapshot's moment (for the check of other sessions' writes), and
// CREATE INDEX CONCURRENTLY and REINDEX CONCURRENTLY wait for every older snapshot: each hit lock_timeout,
// was retried and rolled back, although the rehearsal passed it (the tester's F1). The watch now pauses
// around such a statement, and the migrations deploy.
func TestDeployConcurrentIndexWithSnapshot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		set  func(t *testing.T) *migrate.Set
	}{
		{"golang-migrate", func(t *testing.T) *migrate.Set {
			return folder(t, map[string]string{
				"1_idx.up.sql":     "CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);",
				"1_idx.down.sql":   "DROP INDEX CONCURRENTLY orders_total_idx;",
				"2_reidx.up.sql":   "REINDEX INDEX CONCURRENTLY orders_total_idx;",
				"2_reidx.down.sql": "SELECT 1;",
			})
		}},
		{"goose no transaction", func(t *testing.T) *migrate.Set {
			return gooseFolder(t, map[string]string{
				"00001_idx.sql": "-- +goose NO TRANSACTION\n-- +goose Up\nUPDATE orders SET note = 'x' WHERE id < 10;\nCREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);\n" +
					"REINDEX TABLE CONCURRENTLY orders;\nDROP INDEX CONCURRENTLY orders_total_idx;\nCREATE UNIQUE INDEX CONCURRENTLY accounts_name_idx ON accounts (name);\n" +
					"-- +goose Down\nDROP INDEX CONCURRENTLY accounts_name_idx;\n",
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			o := tg.options(t, tc.set(t), "run-cic")
			retries := 0
			o.Config.Retries, o.Config.LockTimeout = &retries, 2*time.Second
			res, err := Run(t.Context(), o)
			if err != nil || res.Outcome != OutcomeDeployed {
				t.Fatalf("deploy: %v (outcome %s, notes %q)", err, res.Outcome, res.Notes)
			}
			if res.Snapshot == nil {
				t.Fatal("no snapshot taken: the test proves nothing")
			}
			for _, n := range res.Notes {
				if strings.Contains(n, "refused") {
					t.Errorf("note %q: the watch was lost", n)
				}
			}
			if got := tg.value(t, "SELECT count(*)::text FROM pg_index WHERE NOT indisvalid"); got != "0" {
				t.Errorf("%s INVALID indexes", got)
			}
		})
	}
}

// TestDeployConcurrentIndexKeepsWriteCheck: around CREATE INDEX CONCURRENTLY the transaction that marks
// the snapshot's moment is ended, and marked again after it; the check of other sessions' writes must
// still see a write committed before the pause, and one committed while the index was built (when no
// transaction kept the deleted row readable), and must still let the deploy's own writes through.
func TestDeployConcurrentIndexKeepsWriteCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, when, write, check string
	}{
		{name: "delete before the index", when: "applying 2/3", write: "DELETE FROM orders WHERE id = 5", check: "SELECT (count(*) = 0)::text FROM orders WHERE id = 5"},
		{name: "delete during the index", when: "during", write: "DELETE FROM orders WHERE id = 5", check: "SELECT (count(*) = 0)::text FROM orders WHERE id = 5"},
		{name: "update during the index", when: "during", write: "UPDATE accounts SET name = 'paid' WHERE id = 17", check: "SELECT (name = 'paid')::text FROM accounts WHERE id = 17"},
		{name: "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			before := tg.checksums(t)
			set := folder(t, map[string]string{
				"1_z.up.sql":        "ALTER TABLE accounts ADD COLUMN z int;\nUPDATE accounts SET z = 1 WHERE id < 10;\nDELETE FROM orders WHERE id = 6;",
				"2_idx.up.sql":      "CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);",
				"2_idx.down.sql":    "DROP INDEX CONCURRENTLY orders_total_idx;",
				"3_broken.up.sql":   "SELECT 1/0;",
				"3_broken.down.sql": "SELECT 1;",
			})
			o := tg.options(t, set, "run-cic-writes")
			o.Maintenance = nil // a maintenance mode that does not stop every writer
			o.Config.LockTimeout = 20 * time.Second
			done := make(chan error, 1)
			progress := o.Progress
			o.Progress = func(msg string) {
				progress(msg)
				switch {
				case tc.write == "":
				case tc.when == "during" && strings.Contains(msg, "waits for every older snapshot"):
					// Keep the index build waiting for a lock, write while it waits (the watch's
					// transaction is over by then), then let it go.
					release := tg.lockTable(t, "orders", "SHARE UPDATE EXCLUSIVE", "blocker")
					go func() { done <- writeWhileWaiting(tg.url, tc.write, release) }()
				case strings.HasPrefix(msg, tc.when):
					tg.exec(t, tc.write)
				}
			}
			res, err := Run(t.Context(), o)
			if err == nil {
				t.Fatal("deploy succeeded")
			}
			if tc.when == "during" {
				if err := <-done; err != nil {
					t.Fatalf("the write during the index build: %v", err)
				}
			}
			rb := res.Rollback
			if tc.write == "" {
				if res.Outcome != OutcomeRolledBack || rb == nil || rb.Method != "snapshot" || !rb.OK {
					t.Fatalf("outcome %s, rollback %+v, notes %q; want the snapshot restored", res.Outcome, rb, res.Notes)
				}
				if after := tg.checksums(t); after != before {
					t.Errorf("database differs after restore:\n%s\n---\n%s", before, after)
				}
				return
			}
			if res.Outcome != OutcomeFailed || rb == nil || rb.OK || !strings.Contains(rb.Error, "other sessions wrote to") {
				t.Fatalf("outcome %s, rollback %+v; want the restore refused for the other session's write", res.Outcome, rb)
			}
			if tg.value(t, tc.check) != "true" {
				t.Error("the other session's committed write is gone")
			}
		})
	}
}

// writeWhileWaiting waits until a CREATE INDEX CONCURRENTLY waits for a lock, commits write on a
// connection of its own, then calls release.
func writeWhileWaiting(url, write string, release func()) error {
	defer release()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	deadline := time.Now().Add(15 * time.Second)
	for {
		var waiting bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
			AND query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock')`).Scan(&waiting); err != nil {
			return err
		}
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("the index build never waited")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var open bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
		AND application_name = 'schemagate deploy' AND state LIKE 'idle in transaction%')`).Scan(&open); err != nil {
		return err
	}
	if open {
		return errors.New("a deploy session is idle in a transaction while the index is built")
	}
	_, err = conn.Exec(ctx, write)
	return err
}

// TestOwnTxSeesWritesInAWithClause: the write check takes the writes of a non-transactional migration's
// statement for the deploy's own only when the statement runs in a transaction whose id the deploy
// reads (ownTx); an INSERT, UPDATE or DELETE in a WITH clause writes as much as one alone.
func TestOwnTxSeesWritesInAWithClause(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sql  string
		want bool
	}{
		{"WITH u AS (UPDATE accounts SET balance = 0 RETURNING id) SELECT count(*) FROM u", true},
		{"WITH d AS (DELETE FROM orders WHERE id > 10 RETURNING *) INSERT INTO orders_archive SELECT * FROM d", true},
		{"WITH n AS (INSERT INTO app_settings VALUES ('k', 'v') RETURNING key) SELECT key FROM n", true},
		{"WITH s AS (SELECT id FROM accounts) UPDATE orders SET note = 'x' WHERE account_id IN (SELECT id FROM s)", true},
		{"CREATE INDEX CONCURRENTLY i ON orders (note)", false},
	} {
		stmts := sqlparse.Parse(tc.sql)
		if len(stmts) != 1 || stmts[0].Node == nil {
			t.Fatalf("%s does not parse", tc.sql)
		}
		if got := ownTx(stmts[0].Node); got != tc.want {
			t.Errorf("ownTx(%s) = %v, want %v", tc.sql, got, tc.want)
		}
	}
}

// TestSplitQualified: the names of the tables a table is under are read back part by part, so that a
// DROP of "a.b".c does not reach a."b.c".
func TestSplitQualified(t *testing.T) {
	tests := []struct{ in, schema, name string }{
		{"public.users", "public", "users"},
		{`a."b.c"`, "a", "b.c"},
		{`"a.b".c`, "a.b", "c"},
		{`"My Schema"."T ""x"""`, "My Schema", `T "x"`},
	}
	for _, tt := range tests {
		if s, n := splitQualified(tt.in); s != tt.schema || n != tt.name {
			t.Errorf("splitQualified(%s) = %q, %q, want %q, %q", tt.in, s, n, tt.schema, tt.name)
		}
	}
}

// TestDeployRestoreRefusedAtRestoreTime: the downs cannot undo the run (1_z has no down), so the
// rollback goes to the snapshot, which the deploy took before any write of another session: refused
// before the restore, it would be restored. Another session commits a write after the snapshot (as the
// migrations run, or as the restore begins), and the restore's own check (guardRestore), made as it
// starts, refuses it. Nothing ran: the report says the rollback was not run (rollback.not_run), with
// the exact words of the refusal; the run fails (failed, exit 1); the write, the applied migration and
// history stay as they were; the notes say NOT ROLLED BACK and the hint what to decide.
func TestDeployRestoreRefusedAtRestoreTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, at string }{
		{"as the migrations run", "applying 2/2"},
		{"as the restore begins", "restoring the snapshot:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			set := folder(t, map[string]string{
				"1_z.up.sql":        "ALTER TABLE accounts ADD COLUMN z int;",
				"2_broken.up.sql":   "SELECT 1/0;",
				"2_broken.down.sql": "SELECT 1;",
			})
			o := tg.options(t, set, "run-restore-time")
			o.Maintenance = nil // a maintenance mode that does not stop every writer
			tg.writeAt(t, &o, tc.at, "INSERT INTO accounts VALUES (9002, 'app-write-3', 1)")
			res, err := Run(t.Context(), o)
			if err == nil || res.OK || res.Outcome != OutcomeFailed {
				t.Fatalf("outcome %s, ok %v, err %v; want failed", res.Outcome, res.OK, err)
			}
			if res.Snapshot == nil || res.Writes != nil {
				t.Fatalf("snapshot %+v, writes before maintenance %+v: want a snapshot no write had reached", res.Snapshot, res.Writes)
			}
			refusal := `1 transaction of other sessions wrote to public.accounts since the snapshot, and restoring it would lose their writes`
			rb := res.Rollback
			if rb == nil || rb.OK || rb.Method != "snapshot" || rb.Why != "1_z has no down migration" ||
				rb.Error != "1_z has no down migration, and the snapshot was not restored: "+refusal ||
				rb.NotRun != "the down migrations were refused (1_z has no down migration), and the snapshot was not restored: "+refusal {
				t.Fatalf("rollback %+v; want the restore refused at restore time: %s", rb, refusal)
			}
			wantRollbackNotRun(t, res, "not run: the down migrations were refused (1_z has no down migration), and the snapshot was not restored: "+refusal)
			var js strings.Builder
			if err := res.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(js.String(), `"not_run": "the down migrations were refused (1_z has no down migration), and the snapshot was not restored: 1 transaction of other sessions wrote to public.accounts`) ||
				!strings.Contains(js.String(), `"outcome": "failed"`) {
				t.Errorf("JSON report:\n%s", js.String())
			}
			if got := strings.Join(res.Notes, "\n"); !strings.Contains(got, "NOT ROLLED BACK: 1_z has no down migration, and the snapshot was not restored: "+refusal+"; the database was left as it is, with this run's 1_z still applied") {
				t.Errorf("notes %q", got)
			}
			if want := "nothing was lost: the database was left as it is, with the other sessions' writes and this run's 1_z still applied (history says so)"; !strings.HasPrefix(res.Hint, want) {
				t.Errorf("hint %q; want it to start %q", res.Hint, want)
			}
			// Nothing was lost: the other session's row, and 1_z as history records it.
			if got := tg.value(t, "SELECT count(*)::text FROM accounts WHERE id = 9002 AND name = 'app-write-3'"); got != "1" {
				t.Errorf("the other session's committed write is gone (%s rows)", got)
			}
			if got := tg.value(t, "SELECT count(*)::text FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'z'"); got != "1" {
				t.Error("1_z was undone although history keeps it")
			}
			if got, want := tg.historyOf(t), "1:applied 2:failed"; got != want {
				t.Errorf("history %q, want %q", got, want)
			}
			if got := tg.value(t, "SELECT status || ' ' || outcome FROM schemagate.schemagate_runs WHERE run_id = 'run-restore-time'"); got != "finished failed" {
				t.Errorf("run recorded as %q", got)
			}
		})
	}
}
