package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/config"
)

// TestDeployCancelledRollsBack: the deploy's context is cancelled (SIGTERM from a cancelled CI job) while
// migration 2 runs. The rollback is part of the clean-up: it used to run on the cancelled context, so
// the down failed ("conn closed") and the snapshot restore too ("list snapshot: context canceled"),
// leaving migration 1 applied and the run recorded as running with maintenance mode on.
func TestDeployCancelledRollsBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		files  map[string]string
		method string
	}{
		{name: "by downs", files: map[string]string{}, method: "down"},
		{name: "by snapshot", files: map[string]string{"1_customers.down.sql": ""}, method: "snapshot"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			before := tg.checksums(t)
			files := with(with(goodMigrations, tc.files), map[string]string{
				"2_backfill.up.sql": "SELECT pg_sleep(60);\nINSERT INTO customers SELECT id, 'x' FROM accounts;",
			})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			type outcome struct {
				res *Result
				err error
			}
			done := make(chan outcome, 1)
			o := tg.options(t, folder(t, files), "run-cancelled")
			go func() {
				res, err := Run(ctx, o)
				done <- outcome{res, err}
			}()
			waitForSleep(t, tg.url)
			cancel()
			out := <-done
			res, err := out.res, out.err
			if err == nil || res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != tc.method {
				t.Fatalf("err %v, outcome %s, rollback %+v; want rolled back by %s", err, res.Outcome, res.Rollback, tc.method)
			}
			if after := tg.checksums(t); after != before {
				t.Errorf("database not back:\n%s\n---\n%s", before, after)
			}
			if tg.maintenance(t) != "off" {
				t.Error("maintenance mode left on")
			}
			if got := tg.value(t, "SELECT status || ' ' || maintenance_on FROM schemagate.schemagate_runs WHERE run_id = 'run-cancelled'"); strings.HasPrefix(got, "running") || strings.HasSuffix(got, "true") {
				t.Errorf("run recorded as %q", got)
			}
			if got := tg.value(t, "SELECT count(*)::text FROM schemagate.schemagate_history WHERE status IN ('applied', 'running')"); got != "0" {
				t.Errorf("%s history rows still applied or running: %s", got, tg.historyOf(t))
			}
		})
	}
}

// TestDeployCancelledMigrationErrorNamesCause: the deploy is cancelled with a cause (the signal that
// stopped it, as main passes it) while a statement of migration 2 runs. The run's reason named it, but
// the migration's own error, in the result and in history, read "timeout: context canceled".
func TestDeployCancelledMigrationErrorNamesCause(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := with(goodMigrations, map[string]string{
		"2_backfill.up.sql": "SELECT pg_sleep(60);\nINSERT INTO customers SELECT id, 'x' FROM accounts;",
	})
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1)
	o := tg.options(t, folder(t, files), "run-cancelled")
	go func() {
		res, err := Run(ctx, o)
		done <- outcome{res, err}
	}()
	waitForSleep(t, tg.url)
	cancel(errors.New("received SIGTERM"))
	out := <-done
	res := out.res
	if out.err == nil || res.Outcome != OutcomeRolledBack || !strings.Contains(res.Reason, "received SIGTERM") {
		t.Fatalf("err %v, outcome %s, reason %q; want rolled back, naming the signal", out.err, res.Outcome, res.Reason)
	}
	mr := res.Migrations[1]
	if mr.Error == nil || !strings.Contains(mr.Error.Message, "received SIGTERM") || strings.Contains(mr.Error.Message, "context canceled") {
		t.Errorf("migration 2's error %+v; want it to name the cause", mr.Error)
	} else if mr.Error.File != "2_backfill.up.sql" || mr.Error.Line != 1 {
		t.Errorf("migration 2's error at %s:%d; want 2_backfill.up.sql:1, the pg_sleep", mr.Error.File, mr.Error.Line)
	}
	if got := tg.value(t, "SELECT coalesce(string_agg(error, ' | '), '') FROM schemagate.schemagate_history WHERE version = '2'"); !strings.Contains(got, "received SIGTERM") {
		t.Errorf("history records migration 2's error as %q", got)
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "2_backfill.up.sql:1:1: canceled: received SIGTERM") {
		t.Errorf("the text does not name the cause at the statement:\n%s", text.String())
	}
}

// TestDeployStopsWhenTheWindowCloses: the window closes while migration 4 waits out a lock timeout. The
// run used to carry on with migration 5 after the window; it now stops before starting it, keeps (and
// verifies) what it applied, and is partial: not blocked, which says that the database is as it was.
func TestDeployStopsWhenTheWindowCloses(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := with(goodMigrations, map[string]string{
		"5_later.up.sql":   "CREATE TABLE later (id int);",
		"5_later.down.sql": "DROP TABLE later;",
	})
	o := tg.options(t, folder(t, files), "run-window")
	now := time.Date(2026, 5, 5, 3, 30, 0, 0, time.UTC)
	o.Config.Windows = []config.Window{{Cron: "0 3 * * *", Duration: time.Hour}}
	o.Clock = &fakeClock{now: now}
	o.Config.LockTimeout = 100 * time.Millisecond
	o.Config.RetryBackoff = time.Hour // the fake clock moves past the window's end during the backoff
	release := tg.holdLock(t, "orders")
	releaseAtLockTimeout(&o.Progress, release)
	res, err := Run(t.Context(), o)
	var b *Blocked
	if err == nil || errors.As(err, &b) || res.Outcome != OutcomePartial || res.OK ||
		!strings.Contains(res.Reason, "the maintenance window closed at 2026-05-05T04:00:00Z") || !strings.Contains(res.Reason, "not started: 5_later") {
		t.Fatalf("err %v, outcome %s, reason %q; want partial: the window closed before migration 5", err, res.Outcome, res.Reason)
	}
	if !strings.Contains(res.Hint, "next window") {
		t.Errorf("hint %q", res.Hint)
	}
	if got, want := res.headline(), "deploy to test stopped part-way: 4 migrations applied, 1 left for the next window"; got != want {
		t.Errorf("headline %q, want %q", got, want)
	}
	if got := tg.value(t, "SELECT status || ' ' || outcome FROM schemagate.schemagate_runs WHERE run_id = 'run-window'"); got != "finished partial" {
		t.Errorf("run recorded as %q", got)
	}
	if got, want := statuses(res), "1:applied 2:applied 3:applied 4:applied 5:not-run"; got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM pg_tables WHERE tablename = 'later'"); got != "0" {
		t.Error("migration 5 ran after the window closed")
	}
	if got, want := tg.historyOf(t), "1:applied 2:applied 3:applied 4:applied"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
	if tg.maintenance(t) != "off" {
		t.Error("maintenance mode left on")
	}
}

// TestDeployScriptsThatCommitThemselves: golang-migrate files that run outside a transaction because
// they commit on their own. A COMMIT of the file's own, after its BEGIN, commits (the new enum value
// is then usable); when a statement after it fails, or a DO block fails after committing batches, part
// of the migration stays: the snapshot puts the database back, and the session is clean for the
// records (the run ends rolled back, not needing attention). A failure inside the file's own block,
// before anything committed, is TestDeployFailureInsideTheScriptsOwnBlock.
func TestDeployScriptsThatCommitThemselves(t *testing.T) {
	t.Parallel()
	t.Run("enum value committed, then used", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		set := folder(t, map[string]string{
			"1_e.up.sql": "CREATE TYPE e AS ENUM ('a');", "1_e.down.sql": "DROP TYPE e;",
			"2_use.up.sql": "BEGIN;\nALTER TYPE e ADD VALUE 'x';\nCOMMIT;\nCREATE TABLE u (v e DEFAULT 'x');", "2_use.down.sql": "DROP TABLE u;",
		})
		res, err := Run(t.Context(), tg.options(t, set, "run-1"))
		if err != nil || res.Outcome != OutcomeDeployed || tg.value(t, "SELECT (to_regclass('u') IS NOT NULL)::text") != "true" {
			t.Fatalf("err %v, outcome %s, migrations %s", err, res.Outcome, statuses(res))
		}
	})
	for _, tc := range []struct{ name, up string }{
		{"a statement after the file's COMMIT fails", "BEGIN;\nCREATE TABLE d (id int);\nCOMMIT;\nSELECT 1/0;"},
		{"the file ends inside a block it opened", "CREATE TABLE d (id int);\nCOMMIT;\nBEGIN;\nCREATE TABLE e (id int);"},
		{"a DO block fails after committing batches", "DO $$ BEGIN\n  FOR i IN 1..3 LOOP\n    UPDATE accounts SET name = 'batch ' || i WHERE id % 3 = i - 1;\n    COMMIT;\n  END LOOP;\n  RAISE EXCEPTION 'stop';\nEND $$;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			before := tg.checksums(t)
			set := folder(t, map[string]string{"1_x.up.sql": tc.up, "1_x.down.sql": "SELECT 1;"})
			if !set.Migrations[0].NoTransaction {
				t.Fatal("the migration should run outside a transaction")
			}
			res, err := Run(t.Context(), tg.options(t, set, "run-1"))
			if strings.HasPrefix(tc.name, "a DO block") {
				// Its batches' transactions cannot be told from other sessions' (they run outside a
				// transaction of the deploy's): the restore that would lose other sessions' writes is
				// refused (see TestDeployRestoreRefusedAfterOtherSessionsWrote), and the run needs a person.
				if res == nil || res.Outcome != OutcomeFailed || res.Rollback == nil || !strings.Contains(res.Rollback.Error, "the snapshot was not restored") {
					t.Fatalf("err %v, result %+v; want the restore refused", err, res)
				}
				return
			}
			if res == nil || res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "snapshot" || !res.Rollback.OK {
				t.Fatalf("err %v, result %+v; want rolled back from the snapshot", err, res)
			}
			if after := tg.checksums(t); after != before {
				t.Errorf("the database differs after the rollback:\n%s\nwant\n%s", after, before)
			}
			if got := tg.value(t, "SELECT status FROM schemagate.schemagate_runs WHERE run_id = 'run-1'"); got == "running" {
				t.Errorf("run record: %s", got)
			}
		})
	}
}

// TestDeployFailureInsideTheScriptsOwnBlock: a statement that fails inside the file's own BEGIN ...
// COMMIT, before anything of the file committed, leaves nothing: the migration failed, nothing applied,
// and the earlier migrations of the run are rolled back by their downs (no snapshot needed).
func TestDeployFailureInsideTheScriptsOwnBlock(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	before := tg.checksums(t)
	set := folder(t, map[string]string{
		"1_pre.up.sql": "CREATE TABLE pre (id int);", "1_pre.down.sql": "DROP TABLE pre;",
		"2_bad.up.sql": "BEGIN;\nCREATE TABLE inside (id int);\nSELECT 1/0;\nCOMMIT;\nCREATE TABLE after (id int);", "2_bad.down.sql": "SELECT 1;",
	})
	if !set.Migrations[1].NoTransaction {
		t.Fatal("2_bad should run outside a transaction")
	}
	o := tg.options(t, set, "run-1")
	o.Snapshotter = nil
	res, err := Run(t.Context(), o)
	if res == nil || res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "down" {
		t.Fatalf("err %v, result %+v; want rolled back by the downs", err, res)
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("the database differs after the rollback:\n%s\nwant\n%s", after, before)
	}
}

// TestDeployMinWindowLeft: min_window_left keeps migrations from starting in the last minutes of a
// window. A deploy that finds less left does not start (blocked, or waiting for the next window), and
// a run stops before the next migration when a lock wait took it into them, as when the window closes.
func TestDeployMinWindowLeft(t *testing.T) {
	t.Parallel()
	window := []config.Window{{Cron: "0 3 * * *", Duration: time.Hour}}
	t.Run("too little left to start", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		o := tg.options(t, folder(t, goodMigrations), "run-short")
		o.Config.Windows, o.Config.MinWindowLeft = window, 15*time.Minute
		o.Clock = &fakeClock{now: time.Date(2026, 5, 5, 3, 50, 0, 0, time.UTC)}
		res, err := Run(t.Context(), o)
		var b *Blocked
		if !errors.As(err, &b) || res.Outcome != OutcomeBlocked {
			t.Fatalf("err %v, outcome %s; want blocked", err, res.Outcome)
		}
		for _, want := range []string{"only 10m0s of the maintenance window is left, less than min_window_left (15m0s)", "the next window opens at 2026-05-06T03:00:00Z"} {
			if !strings.Contains(b.Reason, want) {
				t.Errorf("reason %q does not say %q", b.Reason, want)
			}
		}
		if got := tg.value(t, "SELECT count(*)::text FROM pg_tables WHERE tablename = 'customers'"); got != "0" {
			t.Error("the blocked deploy changed the database")
		}
	})
	t.Run("waits for the next window", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		o := tg.options(t, folder(t, goodMigrations), "run-wait")
		o.Config.Windows, o.Config.MinWindowLeft = window, 15*time.Minute
		o.Config.OutsideWindow, o.Config.MaxWait = "wait", 24*time.Hour
		o.Clock = &fakeClock{now: time.Date(2026, 5, 5, 3, 50, 0, 0, time.UTC)}
		res, err := Run(t.Context(), o)
		if err != nil || res.Outcome != OutcomeDeployed {
			t.Fatalf("err %v, outcome %s; want deployed in the next window", err, res.Outcome)
		}
		if got, want := time.Duration(res.Window.WaitedMS)*time.Millisecond, 23*time.Hour+10*time.Minute; got != want {
			t.Errorf("waited %s, want %s (until the next window)", got, want)
		}
	})
	t.Run("stops before the next migration", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		files := with(goodMigrations, map[string]string{
			"5_later.up.sql":   "CREATE TABLE later (id int);",
			"5_later.down.sql": "DROP TABLE later;",
		})
		o := tg.options(t, folder(t, files), "run-left")
		o.Config.Windows, o.Config.MinWindowLeft = window, 45*time.Minute
		o.Clock = &fakeClock{now: time.Date(2026, 5, 5, 3, 5, 0, 0, time.UTC)}
		o.Config.LockTimeout = 100 * time.Millisecond
		o.Config.RetryBackoff = 20 * time.Minute // the fake clock moves to 03:25 during the backoff: 35 minutes left
		release := tg.holdLock(t, "orders")
		releaseAtLockTimeout(&o.Progress, release)
		res, err := Run(t.Context(), o)
		var b *Blocked
		if err == nil || errors.As(err, &b) || res.Outcome != OutcomePartial ||
			!strings.Contains(res.Reason, "only 35m0s of the maintenance window is left, less than min_window_left (45m0s)") || !strings.Contains(res.Reason, "not started: 5_later") {
			t.Fatalf("err %v, outcome %s, reason %q; want partial, stopped before migration 5", err, res.Outcome, res.Reason)
		}
		if want := "the rest deploys in the next window, which opens at 2026-05-06T03:00:00Z"; !strings.Contains(res.Hint, want) {
			t.Errorf("hint %q, want %q: not the window the run stopped in", res.Hint, want)
		}
		if got, want := statuses(res), "1:applied 2:applied 3:applied 4:applied 5:not-run"; got != want {
			t.Errorf("statuses %q, want %q", got, want)
		}
		if got := tg.value(t, "SELECT count(*)::text FROM pg_tables WHERE tablename = 'later'"); got != "0" {
			t.Error("migration 5 started with less than min_window_left left")
		}
	})
}

// TestDeployBreakWindowGoesPastTheWindowsEnd: --break-window given while the window is still open (too
// little of it left for the migrations, as the person knows) lets the run go on past the window's end,
// as it would have deployed had the window been closed at the start, and records the reason.
func TestDeployBreakWindowGoesPastTheWindowsEnd(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := with(goodMigrations, map[string]string{
		"5_later.up.sql":   "CREATE TABLE later (id int);",
		"5_later.down.sql": "DROP TABLE later;",
	})
	o := tg.options(t, folder(t, files), "run-break-open")
	o.Config.Windows = []config.Window{{Cron: "0 3 * * *", Duration: time.Hour}}
	o.Clock = &fakeClock{now: time.Date(2026, 5, 5, 3, 30, 0, 0, time.UTC)}
	o.Config.LockTimeout = 100 * time.Millisecond
	o.Config.RetryBackoff = time.Hour // the fake clock moves past the window's end during the backoff
	o.BreakWindow, o.Reason = true, "the migrations outlast tonight's window"
	release := tg.holdLock(t, "orders")
	releaseAtLockTimeout(&o.Progress, release)
	res, err := Run(t.Context(), o)
	if err != nil || !res.OK || res.Outcome != OutcomeDeployed {
		t.Fatalf("err %v, outcome %s, reason %q; want deployed: --break-window lets the run outlast the window", err, res.Outcome, res.Reason)
	}
	if got, want := statuses(res), "1:applied 2:applied 3:applied 4:applied 5:applied"; got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
	if got := tg.value(t, "SELECT coalesce(break_reason, '') FROM schemagate.schemagate_runs WHERE run_id = 'run-break-open' AND window_broken"); got != o.Reason {
		t.Errorf("recorded reason %q, want %q", got, o.Reason)
	}
	if tg.maintenance(t) != "off" {
		t.Error("maintenance mode left on")
	}
}

// TestDeployNoRetryOfAStatementThatCommittedPart: a DO block (or CALL) outside a transaction that
// commits part of its work and then gives up waiting for a lock (lock_timeout) is not run again: what it
// committed stays, and a second run would apply it twice (here: a balance raised twice). The migration
// stopped half way, as when such a block fails otherwise.
func TestDeployNoRetryOfAStatementThatCommittedPart(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	set := folder(t, map[string]string{
		"1_raise.up.sql": "DO $$ BEGIN\n  UPDATE accounts SET balance = balance + 100 WHERE id = 1;\n  COMMIT;\n" +
			"  UPDATE orders SET note = 'raised' WHERE id = 1;\nEND $$;",
		"1_raise.down.sql": "SELECT 1;",
	})
	if !set.Migrations[0].NoTransaction {
		t.Fatal("the migration should run outside a transaction")
	}
	before := tg.value(t, "SELECT balance::text FROM accounts WHERE id = 1")
	release := tg.holdLocks(t, "SELECT 1 FROM orders WHERE id = 1 FOR UPDATE", "app")
	o := tg.options(t, set, "run-raise")
	o.Snapshotter = nil
	o.Config.LockTimeout = 100 * time.Millisecond
	releaseAtLockTimeout(&o.Progress, release) // a retry would now get through, and raise the balance again
	res, err := Run(t.Context(), o)
	release()
	if got, want := tg.value(t, "SELECT (balance - $1::numeric)::text FROM accounts WHERE id = 1", before), "100.00"; got != want {
		t.Errorf("balance raised by %s, want %s: the block ran more than once", got, want)
	}
	if err == nil || res.Outcome == OutcomeDeployed || len(res.Migrations) != 1 || res.Migrations[0].Status == StatusApplied {
		t.Fatalf("err %v, outcome %s, statuses %s; want the migration stopped half way", err, res.Outcome, statuses(res))
	}
	if res.Migrations[0].Attempts != 1 {
		t.Errorf("attempts %d, want 1", res.Migrations[0].Attempts)
	}
}
