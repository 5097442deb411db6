package deploy

import (
	"context"
	"strings"
	"testing"
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
			o.Maintenance = nil // a maintenance mode that does not stop every writer
			progress := o.Progress
			o.Progress = func(msg string) {
				progress(msg)
				if strings.HasPrefix(msg, "applying 2/2") && tc.write != "" {
					tg.exec(t, tc.write) // committed after the snapshot, before the failure
				}
			}
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
