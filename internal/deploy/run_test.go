package deploy

import (
	"context"
	"errors"
	"fmt"
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
			done := runAsync(ctx, tg.options(t, folder(t, files), "run-cancelled"))
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
// the migration's own error, in the result and in history, read "timeout: context canceled". A
// non-transactional CREATE INDEX CONCURRENTLY's still did in the JSON report ("context canceled"): the
// drop of the INVALID index it left ran on the cancelled context, failed, and so left the index too.
func TestDeployCancelledMigrationErrorNamesCause(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		up      string
		line    int    // of the statement the cancel stopped
		outcome string // "" for any: a non-transactional migration's rollback is the run's to choose
	}{
		{name: "transactional", up: "SELECT pg_sleep(60);\nINSERT INTO customers SELECT id, 'x' FROM accounts;", line: 1, outcome: OutcomeRolledBack},
		{name: "non-transactional", up: "CREATE INDEX CONCURRENTLY accounts_slow ON accounts (slow(id /* pg_sleep(60) */));", line: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.exec(t, "CREATE FUNCTION slow(bigint) RETURNS bigint IMMUTABLE LANGUAGE sql AS 'SELECT $1 FROM pg_sleep(60)'")
			files := with(goodMigrations, map[string]string{"2_backfill.up.sql": tc.up})
			ctx, cancel := context.WithCancelCause(t.Context())
			defer cancel(nil)
			done := runAsync(ctx, tg.options(t, folder(t, files), "run-cancelled"))
			waitForSleep(t, tg.url)
			cancel(errors.New("received SIGTERM"))
			out := <-done
			res := out.res
			if out.err == nil || (tc.outcome != "" && res.Outcome != tc.outcome) || !strings.Contains(res.Reason, "received SIGTERM") {
				t.Fatalf("err %v, outcome %s, reason %q; want rolled back, naming the signal", out.err, res.Outcome, res.Reason)
			}
			mr := res.Migrations[1]
			if mr.Error == nil || !strings.Contains(mr.Error.Message, "received SIGTERM") || strings.Contains(mr.Error.Message, "context canceled") {
				t.Errorf("migration 2's error %+v; want it to name the cause", mr.Error)
			} else if mr.Error.File != "2_backfill.up.sql" || mr.Error.Line != tc.line {
				t.Errorf("migration 2's error at %s:%d; want 2_backfill.up.sql, the pg_sleep", mr.Error.File, mr.Error.Line)
			}
			if got := tg.value(t, "SELECT coalesce(string_agg(error, ' | '), '') FROM schemagate.schemagate_history WHERE version = '2'"); !strings.Contains(got, "received SIGTERM") {
				t.Errorf("history records migration 2's error as %q", got)
			}
			var text strings.Builder
			if err := res.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), fmt.Sprintf("2_backfill.up.sql:%d:1: canceled: received SIGTERM", tc.line)) {
				t.Errorf("the text does not name the cause at the statement:\n%s", text.String())
			}
			var js strings.Builder
			if err := res.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(js.String(), "context canceled") {
				t.Errorf("the JSON report says \"context canceled\":\n%s", js.String())
			}
			if got := tg.value(t, "SELECT count(*)::text FROM pg_index WHERE NOT indisvalid"); got != "0" {
				t.Errorf("%s INVALID indexes left", got)
			}
		})
	}
}

// TestDeployStopsWhenTheWindowCloses: the window closes part-way through a run. The run used to carry
// on after the window; it now stops, keeps (and verifies) what it applied, and is partial: not blocked,
// which says that the database is as it was. When migration 4 outlasts the window, migration 5 does not
// start. When migration 4 gives up waiting for a lock and its retry (after retry_backoff) would start
// after the window's end, the retry does not start either (it used to, and migration 4 was applied at
// 04:30): its transaction rolled back, so it waits for the next window with migration 5.
func TestDeployStopsWhenTheWindowCloses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// retry: migration 4 waits for a lock held until its first lock timeout, with a backoff of an
		// hour; otherwise it takes 40 minutes (the fake clock moves once it is applied).
		retry                     bool
		reason, statuses, history string
		noteDefault               string
	}{
		{name: "a migration outlasts the window", reason: "the maintenance window closed at 2026-05-05T04:00:00Z during the deploy: applied and verified 1_customers, 2_backfill, 3_fk, 4_orders_note; not started: 5_later",
			statuses: "1:applied 2:applied 3:applied 4:applied 5:not-run", history: "1:applied 2:applied 3:applied 4:applied", noteDefault: "''::text"},
		{name: "the retry after a lock timeout would start after the window", retry: true,
			reason: "4_orders_note gave up waiting for a lock (attempt 1), and its retry in 1h0m0s would start at 2026-05-05T04:30:00Z, after the maintenance window closes at 2026-05-05T04:00:00Z: " +
				"applied and verified 1_customers, 2_backfill, 3_fk; not retried (nothing of it stays): 4_orders_note; not started: 5_later",
			statuses: "1:applied 2:applied 3:applied 4:failed 5:not-run", history: "1:applied 2:applied 3:applied 4:failed", noteDefault: "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			files := with(goodMigrations, map[string]string{
				"5_later.up.sql":   "CREATE TABLE later (id int);",
				"5_later.down.sql": "DROP TABLE later;",
			})
			o := tg.options(t, folder(t, files), "run-window")
			o.Config.Windows = []config.Window{{Cron: "0 3 * * *", Duration: time.Hour}}
			clock := &fakeClock{now: time.Date(2026, 5, 5, 3, 30, 0, 0, time.UTC)}
			o.Clock = clock
			if tc.retry {
				o.Config.LockTimeout = 100 * time.Millisecond
				o.Config.RetryBackoff = time.Hour // the retry would start at 04:30
				release := tg.holdLock(t, "orders")
				releaseAtLockTimeout(&o.Progress, release)
			} else {
				advanceWhen(&o.Progress, "applied 4_orders_note", clock, 40*time.Minute)
			}
			res, err := Run(t.Context(), o)
			var b *Blocked
			if err == nil || errors.As(err, &b) || res.Outcome != OutcomePartial || res.OK || res.Reason != tc.reason {
				t.Fatalf("err %v, outcome %s, reason %q; want partial: %q", err, res.Outcome, res.Reason, tc.reason)
			}
			if got, want := res.Hint, "the rest deploys in the next window, which opens at 2026-05-06T03:00:00Z; or break this one with --break-window --reason"; got != want {
				t.Errorf("hint %q, want %q", got, want)
			}
			applied := strings.Count(tc.statuses, "applied")
			if got, want := res.headline(), fmt.Sprintf("deploy to test stopped part-way: %d migrations applied, %d left for the next window", applied, 5-applied); got != want {
				t.Errorf("headline %q, want %q", got, want)
			}
			if got := tg.value(t, "SELECT status || ' ' || outcome FROM schemagate.schemagate_runs WHERE run_id = 'run-window'"); got != "finished partial" {
				t.Errorf("run recorded as %q", got)
			}
			if got := statuses(res); got != tc.statuses {
				t.Errorf("statuses %q, want %q", got, tc.statuses)
			}
			if got := tg.value(t, "SELECT count(*)::text FROM pg_tables WHERE tablename = 'later'"); got != "0" {
				t.Error("migration 5 ran after the window closed")
			}
			if got := tg.value(t, "SELECT coalesce(pg_get_expr(adbin, adrelid), 'none') FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum WHERE attrelid = 'orders'::regclass AND attname = 'note'"); got != tc.noteDefault {
				t.Errorf("orders.note's default %s, want %s", got, tc.noteDefault)
			}
			if got := tg.historyOf(t); got != tc.history {
				t.Errorf("history %q, want %q", got, tc.history)
			}
			reportAgreesWithHistory(t, tg, res)
			if tg.maintenance(t) != "off" {
				t.Error("maintenance mode left on")
			}
		})
	}
}

// TestDeployRetryKeepsToTheWindow: a lock-timeout retry starts its attempt only where a migration may
// start: in the window the run started in, with at least min_window_left of it left (here 15m of the
// 03:00-04:00 window, the lock timeout at 03:30). A backoff that would end later is not waited out, and
// the window is asked again once the backoff is over (a timer that fires late). A migration that does not
// get its retry leaves nothing behind (its transaction rolled back, or no statement of a non-transactional
// one completed), and the run stops as at the window's end; a non-transactional one that got part-way
// fails as when its statement fails otherwise, naming the window, and is rolled back.
func TestDeployRetryKeepsToTheWindow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		backoff time.Duration
		late    time.Duration // how late the backoff's timer fires
		// blackout: the window is 23:00-01:00 and a blackout begins at midnight, the lock timeout at 23:30
		blackout bool
		up       string // 4_orders_note.up.sql, when not goodMigrations'
		// outcome and statuses of the run; reason, what its reason says; attempts, migration 4's
		outcome, statuses, reason string
		attempts                  int
	}{
		{name: "fits", backoff: 10 * time.Minute, outcome: OutcomeDeployed, statuses: "1:applied 2:applied 3:applied 4:applied", attempts: 2},
		{name: "less than min_window_left left", backoff: 20 * time.Minute, outcome: OutcomePartial, statuses: "1:applied 2:applied 3:applied 4:failed", attempts: 1,
			reason: "4_orders_note gave up waiting for a lock (attempt 1), and its retry in 20m0s would start at 2026-05-05T03:50:00Z, with only 10m0s of the maintenance window left, less than min_window_left (15m0s): applied and verified 1_customers, 2_backfill, 3_fk; not retried (nothing of it stays): 4_orders_note"},
		{name: "after the window", backoff: time.Hour, outcome: OutcomePartial, statuses: "1:applied 2:applied 3:applied 4:failed", attempts: 1,
			reason: "its retry in 1h0m0s would start at 2026-05-05T04:30:00Z, after the maintenance window closes at 2026-05-05T04:00:00Z"},
		{name: "the backoff's timer fires late", backoff: 15 * time.Minute, late: 2 * time.Minute, outcome: OutcomePartial, statuses: "1:applied 2:applied 3:applied 4:failed", attempts: 1,
			reason: "only 13m0s of the maintenance window is left, less than min_window_left (15m0s) while 4_orders_note waited to retry after its lock timeout (attempt 1): applied and verified 1_customers, 2_backfill, 3_fk; not retried (nothing of it stays): 4_orders_note"},
		{name: "into a blackout", backoff: time.Hour, blackout: true, outcome: OutcomePartial, statuses: "1:applied 2:applied 3:applied 4:failed", attempts: 1,
			reason: "its retry in 1h0m0s would start at 2026-05-06T00:30:00Z, after the blackout 2026-05-06 to 2026-05-06 (freeze) begins at 2026-05-06T00:00:00Z"},
		{name: "non-transactional, nothing done", backoff: time.Hour, outcome: OutcomePartial, statuses: "1:applied 2:applied 3:applied 4:failed", attempts: 1,
			up:     "ALTER TABLE orders ALTER COLUMN note SET DEFAULT '';\nCREATE INDEX CONCURRENTLY accounts_name_idx ON accounts (name);",
			reason: "after the maintenance window closes at 2026-05-05T04:00:00Z: applied and verified 1_customers, 2_backfill, 3_fk; not retried (nothing of it stays): 4_orders_note"},
		{name: "non-transactional, part-way", backoff: time.Hour, outcome: OutcomeRolledBack, statuses: "1:restored 2:restored 3:restored 4:restored", attempts: 1,
			up:     "CREATE INDEX CONCURRENTLY accounts_name_idx ON accounts (name);\nALTER TABLE orders ALTER COLUMN note SET DEFAULT '';",
			reason: "4_orders_note failed: 4_orders_note.sql:4:1: canceling statement due to lock timeout (SQLSTATE 55P03); not retried: 4_orders_note gave up waiting for a lock (attempt 1), and its retry in 1h0m0s would start at 2026-05-05T04:30:00Z, after the maintenance window closes at 2026-05-05T04:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			set := folder(t, goodMigrations)
			if tc.up != "" { // goose runs it outside a transaction
				files := map[string]string{"4_orders_note.sql": "-- +goose NO TRANSACTION\n-- +goose Up\n" + tc.up +
					"\n-- +goose Down\nALTER TABLE orders ALTER COLUMN note DROP DEFAULT;\nDROP INDEX IF EXISTS accounts_name_idx;\n"}
				for _, v := range []string{"1_customers", "2_backfill", "3_fk"} {
					files[v+".sql"] = "-- +goose Up\n" + goodMigrations[v+".up.sql"] + "\n-- +goose Down\n" + goodMigrations[v+".down.sql"] + "\n"
				}
				if set = gooseFolder(t, files); !set.Migrations[3].NoTransaction || set.Migrations[3].ID() != "4_orders_note" {
					t.Fatalf("4_orders_note: %s, in a transaction: %v", set.Migrations[3].ID(), !set.Migrations[3].NoTransaction)
				}
			}
			o := tg.options(t, set, "run-retry")
			o.Config.Windows = []config.Window{{Cron: "0 3 * * *", Duration: time.Hour}}
			o.Config.MinWindowLeft = 15 * time.Minute
			clock := &fakeClock{now: time.Date(2026, 5, 5, 3, 30, 0, 0, time.UTC)}
			o.Clock = clock
			if tc.late > 0 {
				o.Clock = &lateClock{fakeClock: clock, late: tc.late}
			}
			if tc.blackout {
				o.Config.Windows = []config.Window{{Cron: "0 23 * * *", Duration: 2 * time.Hour}}
				o.Config.Blackouts = []config.Blackout{{From: "2026-05-06", To: "2026-05-06", Reason: "freeze"}}
				clock.now = time.Date(2026, 5, 5, 23, 30, 0, 0, time.UTC)
			}
			o.Config.LockTimeout = 100 * time.Millisecond
			o.Config.RetryBackoff = tc.backoff
			release := tg.holdLock(t, "orders")
			releaseAtLockTimeout(&o.Progress, release)
			res, err := Run(t.Context(), o)
			if res.Outcome != tc.outcome || (err == nil) != (tc.outcome == OutcomeDeployed) || !strings.Contains(res.Reason, tc.reason) {
				t.Fatalf("err %v, outcome %s, reason %q; want %s: %q", err, res.Outcome, res.Reason, tc.outcome, tc.reason)
			}
			if got := statuses(res); got != tc.statuses {
				t.Errorf("statuses %q, want %q", got, tc.statuses)
			}
			m4 := res.Migrations[3]
			if m4.Attempts != tc.attempts {
				t.Errorf("migration 4 made %d attempts, want %d", m4.Attempts, tc.attempts)
			}
			if tc.outcome == OutcomeDeployed {
				return
			}
			if m4.Error == nil || !strings.Contains(m4.Error.Message, "canceling statement due to lock timeout; not retried: ") {
				t.Errorf("migration 4's error %+v; want the lock timeout, not retried for the window", m4.Error)
			}
			if got := tg.value(t, "SELECT coalesce(pg_get_expr(adbin, adrelid), 'none') FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum WHERE attrelid = 'orders'::regclass AND attname = 'note'"); got != "none" {
				t.Errorf("orders.note's default %s: migration 4 stayed", got)
			}
			if tc.outcome == OutcomePartial {
				if got, want := tg.historyOf(t), "1:applied 2:applied 3:applied 4:failed"; got != want {
					t.Errorf("history %q, want %q", got, want)
				}
				reportAgreesWithHistory(t, tg, res)
				if got := tg.value(t, "SELECT (to_regclass('accounts_name_idx') IS NULL)::text"); got != "true" {
					t.Error("the index of migration 4's second statement was built")
				}
			}
			if tg.maintenance(t) != "off" {
				t.Error("maintenance mode left on")
			}
		})
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
		clock := &fakeClock{now: time.Date(2026, 5, 5, 3, 5, 0, 0, time.UTC)}
		o.Clock = clock
		advanceWhen(&o.Progress, "applied 4_orders_note", clock, 20*time.Minute) // 03:25: 35 minutes left
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
