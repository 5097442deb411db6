package deploy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// lockTable has another session, named app, hold a lock of mode on table in an open transaction until
// release (which may be called any number of times; the test's end calls it too).
func (tg *target) lockTable(t *testing.T, table, mode, app string) (release func()) {
	t.Helper()
	return tg.holdLocks(t, "LOCK TABLE "+table+" IN "+mode+" MODE", app)
}

// holdLocks has another session, named app, run sql in a transaction that it leaves open, holding the
// locks sql took, until release (which may be called any number of times; the test's end calls it too).
func (tg *target) holdLocks(t *testing.T, sql, app string) (release func()) {
	t.Helper()
	cfg, err := pgx.ParseConfig(tg.url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = app
	blocker, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := blocker.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), sql); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_ = tx.Rollback(context.Background())
			blocker.Close(context.Background())
		})
	}
	t.Cleanup(release)
	return release
}

// runBounded runs the deploy with a deadline that only keeps a deploy that waits for ever from hanging
// the test: reaching it fails the test.
func runBounded(t *testing.T, o Options) (*Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	res, err := Run(ctx, o)
	if ctx.Err() != nil {
		t.Fatalf("the deploy waited on the lock until the test's deadline: err %v", err)
	}
	return res, err
}

// runWithHistoryLocked runs the deploy o while another session (application history-reader) holds
// ACCESS EXCLUSIVE on schemagate_history from the start of migration 2 until the run ends.
func (tg *target) runWithHistoryLocked(t *testing.T, o Options) (*Result, error) {
	t.Helper()
	var release func()
	progress := o.Progress
	o.Progress = func(msg string) {
		progress(msg)
		if strings.HasPrefix(msg, "applying 2/") && release == nil {
			release = tg.lockTable(t, "schemagate.schemagate_history", "ACCESS EXCLUSIVE", "history-reader")
		}
	}
	res, err := runBounded(t, o)
	if release == nil {
		t.Fatalf("the deploy never reached migration 2: %v", err)
	}
	release()
	return res, err
}

// TestDeployHistoryWriteLockWaitBounded: another session locks schemagate_history between two migrations.
// Recording the next migration used to wait for that lock for ever, in maintenance mode; it now gives up
// after lock_timeout, names the table and who holds it, and history still agrees with the database.
func TestDeployHistoryWriteLockWaitBounded(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	orders := tg.value(t, "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM orders t")
	o := tg.options(t, folder(t, goodMigrations), "run-1")
	o.Config.LockTimeout = time.Second
	res, err := tg.runWithHistoryLocked(t, o)
	if err == nil || res.Outcome != OutcomeFailed {
		t.Fatalf("err %v, outcome %s; want failed", err, res.Outcome)
	}
	for _, want := range []string{"record migration 2_backfill", "schemagate.schemagate_history", "history-reader", "AccessExclusiveLock"} {
		if !strings.Contains(res.Reason, want) {
			t.Errorf("reason %q does not name %q", res.Reason, want)
		}
	}
	if res.Hint == "" {
		t.Error("no hint")
	}
	if got, want := statuses(res), "1:applied 2:not-run 3:not-run 4:not-run"; got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
	// History says what the database holds: migration 1 applied (its down could not be recorded, so it
	// did not run), nothing else.
	if got, want := tg.historyOf(t), "1:applied"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
	if got := tg.value(t, "SELECT (to_regclass('customers') IS NOT NULL AND count(customer_id) = 0)::text FROM accounts"); got != "true" {
		t.Errorf("migration 1 is not applied as history says: %s", got)
	}
	if got := tg.value(t, "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM orders t"); got != orders {
		t.Error("orders changed")
	}
	if got := tg.value(t, "SELECT status || ' ' || outcome FROM schemagate.schemagate_runs WHERE run_id = 'run-1'"); got != "finished failed" {
		t.Errorf("run recorded as %q", got)
	}
	if tg.maintenance(t) != "off" {
		t.Error("maintenance mode left on")
	}
}

// waitForQuery waits until a session on url runs a query whose text holds pattern.
func waitForQuery(t *testing.T, url, pattern string) {
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
			WHERE state = 'active' AND strpos(query, $1) > 0 AND pid <> pg_backend_pid() AND datname = current_database()`, pattern).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no session ran %q", pattern)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDeployHistoryRecordLockWaitBounded: another session locks schemagate_history while migration 2
// runs, so that its history row, written in the migration's transaction, waits. That used to wait for
// ever; the migration now fails after lock_timeout with an error that names the lock (not a statement of
// the script, and not retried as the script's own lock timeouts are), and nothing of it is applied.
func TestDeployHistoryRecordLockWaitBounded(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := with(goodMigrations, map[string]string{
		// Waits for the test's signal, a row the test commits once it holds the lock.
		"2_backfill.up.sql": "DO $$ BEGIN WHILE NOT EXISTS (SELECT 1 FROM app_settings WHERE key = 'go') LOOP PERFORM pg_sleep(0.01); END LOOP; END $$;\n" +
			"INSERT INTO customers SELECT id, 'x' FROM accounts;",
	})
	o := tg.options(t, folder(t, files), "run-1")
	o.Config.LockTimeout = time.Second
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	done := runAsync(ctx, o)
	waitForQuery(t, tg.url, "WHILE NOT EXISTS")
	release := tg.lockTable(t, "schemagate.schemagate_history", "ACCESS EXCLUSIVE", "history-reader")
	tg.exec(t, "INSERT INTO app_settings VALUES ('go', 'now')")
	var out outcome
	select {
	case out = <-done:
	case <-ctx.Done():
		release() // a wait that ignores the deadline gets its lock, and the deploy ends
		out = <-done
		t.Fatalf("the deploy waited on the lock until the test's deadline: err %v", out.err)
	}
	release()
	res := out.res
	if out.err == nil || res.Outcome != OutcomeFailed {
		t.Fatalf("err %v, outcome %s; want failed", out.err, res.Outcome)
	}
	mr := res.Migrations[1]
	if mr.Status != StatusFailed || mr.Error == nil || !strings.Contains(mr.Error.Message, "record migration 2_backfill as applied") ||
		!strings.Contains(mr.Error.Message, "history-reader") || mr.Error.File != "" || mr.Error.SQLState != sqlstateLockNotAvailable {
		t.Errorf("migration 2: %s, error %+v; want failed on its history row, naming the lock's holder", mr.Status, mr.Error)
	}
	if mr.Attempts != 1 {
		t.Errorf("migration 2 ran %d times; a lock on history is not the script's to retry", mr.Attempts)
	}
	// Nothing of migration 2 is applied, and history does not say it is; migration 1 is as recorded.
	if got := tg.value(t, "SELECT count(*)::text FROM customers"); got != "0" {
		t.Errorf("customers has %s rows: migration 2's transaction committed", got)
	}
	if got := tg.historyOf(t); strings.Contains(got, "2:applied") || !strings.HasPrefix(got, "1:applied") {
		t.Errorf("history %q", got)
	}
	if tg.maintenance(t) != "off" {
		t.Error("maintenance mode left on")
	}
}

// TestDeployHistoryReadLockWaitBounded: before anything changes, the deploy reads its own history (or,
// on a first deploy, the folder's tool's history table), which another session has locked. It used to
// wait for ever; it now gives up after lock_timeout and is blocked, naming the table and who holds it.
func TestDeployHistoryReadLockWaitBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup string
		// first deploys goodMigrations once before the lock is taken.
		first bool
		table string
	}{
		{name: "schemagate history", first: true, table: "schemagate.schemagate_history"},
		{name: "golang-migrate history to import", setup: golangMigrateTable + " INSERT INTO schema_migrations VALUES (1, false);", table: "public.schema_migrations"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			if tc.setup != "" {
				tg.exec(t, tc.setup)
			}
			files := goodMigrations
			if tc.first {
				if _, err := Run(t.Context(), tg.options(t, folder(t, goodMigrations), "run-0")); err != nil {
					t.Fatal(err)
				}
				files = with(goodMigrations, map[string]string{"5_later.up.sql": "CREATE TABLE later (id int);", "5_later.down.sql": "DROP TABLE later;"})
			}
			history := "" // a first deploy: no history yet
			if tc.first {
				history = tg.historyOf(t)
			}
			before := tg.checksums(t)
			release := tg.lockTable(t, tc.table, "ACCESS EXCLUSIVE", "history-reader")
			o := tg.options(t, folder(t, files), "run-1")
			o.Config.LockTimeout = time.Second
			res, err := runBounded(t, o)
			release()
			var b *Blocked
			if !errors.As(err, &b) {
				t.Fatalf("err %v, outcome %s; want blocked", err, res.Outcome)
			}
			for _, want := range []string{tc.table, "history-reader", "nothing was changed"} {
				if !strings.Contains(b.Reason, want) {
					t.Errorf("reason %q does not name %q", b.Reason, want)
				}
			}
			if after := tg.checksums(t); after != before {
				t.Errorf("the database changed:\n%s\n---\n%s", before, after)
			}
			if got := tg.historyOf(t); got != history {
				t.Errorf("history %q, was %q", got, history)
			}
			if tg.maintenance(t) != "off" {
				t.Error("maintenance mode left on")
			}
		})
	}
}

// TestDeployRecoverLockWaitBounded: --recover finds schemagate_history locked by another session, for
// reads (ACCESS EXCLUSIVE) or for writes (SHARE). It used to wait for ever; it now gives up after
// lock_timeout, is blocked naming the table and who holds it, and leaves the dead run as it was
// (history, its run row, maintenance mode on for its snapshot), so that --recover works once the lock
// is gone.
func TestDeployRecoverLockWaitBounded(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"ACCESS EXCLUSIVE", "SHARE"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			dir := t.TempDir()
			files := with(goodMigrations, map[string]string{
				"2_backfill.up.sql": "SELECT pg_sleep(60);\nINSERT INTO customers SELECT id, 'x' FROM accounts;",
			})
			writeFolder(t, dir, files)
			startAndKill(t, tg.url, dir, nil)
			const dead = "1:applied 2:running"
			if got := tg.historyOf(t); got != dead {
				t.Fatalf("history after the kill %q: the test proves nothing", got)
			}
			fixed := folder(t, with(files, map[string]string{"2_backfill.up.sql": goodMigrations["2_backfill.up.sql"]}))

			release := tg.lockTable(t, "schemagate.schemagate_history", mode, "history-reader")
			o := tg.options(t, fixed, "run-recover")
			o.Recover = true
			o.Config.LockTimeout = time.Second
			res, err := runBounded(t, o)
			release()
			var b *Blocked
			if !errors.As(err, &b) {
				t.Fatalf("err %v, outcome %s; want blocked", err, res.Outcome)
			}
			for _, want := range []string{"schemagate.schemagate_history", "history-reader", "run-killed"} {
				if !strings.Contains(b.Reason, want) {
					t.Errorf("reason %q does not name %q", b.Reason, want)
				}
			}
			if !strings.Contains(b.Hint, "--recover") {
				t.Errorf("hint %q does not say to run --recover again", b.Hint)
			}
			if got := tg.historyOf(t); got != dead {
				t.Errorf("history %q, want it as the dead run left it: %q", got, dead)
			}
			if got := tg.value(t, "SELECT status || ' ' || maintenance_on FROM schemagate.schemagate_runs WHERE run_id = 'run-killed'"); got != "running true" {
				t.Errorf("dead run recorded as %q", got)
			}
			if tg.maintenance(t) != "on" {
				t.Error("maintenance mode turned off: the dead run's snapshot is no longer safe to restore")
			}

			// Once the lock is gone, --recover does its job.
			o = tg.options(t, fixed, "run-recover-2")
			o.Recover = true
			res, err = runBounded(t, o)
			if err != nil || res.Outcome != OutcomeDeployed {
				t.Fatalf("recover after the lock: %v, outcome %s", err, res.Outcome)
			}
			if got, want := tg.historyOf(t), "1:rolled-back 2:failed 1:applied 2:applied 3:applied 4:applied"; got != want {
				t.Errorf("history %q, want %q", got, want)
			}
			if tg.maintenance(t) != "off" {
				t.Error("maintenance mode left on")
			}
		})
	}
}

// TestDeployUnrecordedFailureSettled: another session locks schemagate_history while migration 2 runs, so
// that neither its row, written in its transaction, nor the record of its failure can be written; the
// lock then goes, and the run rolls back. Migration 2's row used to say "running" in the finished run;
// the run now records it as failed when it ends.
func TestDeployUnrecordedFailureSettled(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	before := tg.checksums(t)
	files := with(goodMigrations, map[string]string{
		// Waits until the test's session holds its lock on history.
		"2_backfill.up.sql": "DO $$ BEGIN WHILE NOT EXISTS (SELECT 1 FROM pg_locks WHERE relation = 'schemagate.schemagate_history'::regclass AND mode = 'AccessExclusiveLock' AND granted) LOOP PERFORM pg_sleep(0.01); END LOOP; END $$;\n" +
			goodMigrations["2_backfill.up.sql"],
	})
	o := tg.options(t, folder(t, files), "run-1")
	o.Config.LockTimeout = time.Second
	var mu sync.Mutex
	var release func()
	progress := o.Progress
	o.Progress = func(msg string) {
		progress(msg)
		mu.Lock()
		defer mu.Unlock()
		if strings.HasPrefix(msg, "2_backfill failed") && release != nil {
			release() // after the failed attempts to record migration 2, before the rollback
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	done := runAsync(ctx, o)
	waitForQuery(t, tg.url, "WHILE NOT EXISTS")
	mu.Lock()
	release = tg.lockTable(t, "schemagate.schemagate_history", "ACCESS EXCLUSIVE", "history-reader")
	mu.Unlock()
	var out outcome
	select {
	case out = <-done:
	case <-ctx.Done():
		release()
		out = <-done
		t.Fatalf("the deploy waited on the lock until the test's deadline: err %v", out.err)
	}
	res := out.res
	if out.err == nil || res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "down" {
		t.Fatalf("err %v, outcome %s, rollback %+v; want rolled back by the downs", out.err, res.Outcome, res.Rollback)
	}
	if got, want := statuses(res), "1:rolled-back 2:failed 3:not-run 4:not-run"; got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
	if got, want := tg.historyOf(t), "1:rolled-back 2:failed"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
	if got := tg.value(t, "SELECT coalesce(error, '') FROM schemagate.schemagate_history WHERE version = '2'"); !strings.Contains(got, "record migration 2_backfill as applied") {
		t.Errorf("migration 2's row records the error %q; want why it failed", got)
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("the database is not back:\n%s\n---\n%s", before, after)
	}
}

// TestDeployUnreadableCommitNamesTheLock: migration 2 is stopped (by SIGTERM, or by the loss of the
// connection) while another session holds schemagate_history locked, so that the deploy cannot read
// the row that tells whether its transaction committed. The result said "lost the connection to the
// database server ... the state of the database is unknown" and to run --recover once the server is
// back; it now says that the lock stopped the read, names its holder, and says what history tells. The
// run's end is recorded, and the next deploy carries on.
func TestDeployUnreadableCommitNamesTheLock(t *testing.T) {
	t.Parallel()
	files := with(goodMigrations, map[string]string{
		"2_backfill.up.sql": "SELECT pg_sleep(60);\n" + goodMigrations["2_backfill.up.sql"],
	})
	tests := []struct {
		name string
		// stop stops migration 2, which sleeps.
		stop func(t *testing.T, tg *target, cancel context.CancelCauseFunc)
		why  string
	}{
		{name: "stopped by a signal", why: "2_backfill stopped: received SIGTERM", stop: func(t *testing.T, tg *target, cancel context.CancelCauseFunc) {
			cancel(sigterm)
		}},
		{name: "lost connection", why: "lost the connection to the database server during 2_backfill", stop: func(t *testing.T, tg *target, cancel context.CancelCauseFunc) {
			tg.exec(t, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE query ILIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid() AND datname = current_database()`)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			o := tg.options(t, folder(t, files), "run-1")
			o.Config.LockTimeout = time.Second
			ctx, cancel := context.WithCancelCause(t.Context())
			defer cancel(nil)
			done := runAsync(ctx, o)
			waitForSleep(t, tg.url)
			release := tg.lockTable(t, "schemagate.schemagate_history", "ACCESS EXCLUSIVE", "history-reader")
			tc.stop(t, tg, cancel)
			var out outcome
			select {
			case out = <-done:
			case <-time.After(time.Minute):
				release()
				t.Fatal("the deploy did not return")
			}
			release()
			res := out.res
			if out.err == nil || res.Outcome != OutcomeFailed {
				t.Fatalf("err %v, outcome %s; want failed", out.err, res.Outcome)
			}
			for _, want := range []string{tc.why + ", and whether its transaction committed cannot be read", "read the history row of 2_backfill",
				"lock_timeout", "schemagate.schemagate_history", "application history-reader"} {
				if !strings.Contains(res.Reason, want) {
					t.Errorf("reason %q does not say %q", res.Reason, want)
				}
			}
			if strings.Contains(res.Reason, "could not carry on") || strings.Contains(res.Reason, "state of the database is unknown") {
				t.Errorf("reason %q: the server was there", res.Reason)
			}
			for _, want := range []string{"this run applied 1_customers before it, and 2_backfill only if its row", "deploy again"} {
				if !strings.Contains(res.Hint, want) {
					t.Errorf("hint %q does not say %q", res.Hint, want)
				}
			}
			if strings.Contains(res.Hint, "server is back") {
				t.Errorf("hint %q", res.Hint)
			}
			// What the result says is what history says: migration 1 applied, nothing of 2.
			if got := tg.historyOf(t); !strings.HasPrefix(got, "1:applied 2:") || strings.Contains(got, "2:applied") {
				t.Errorf("history %q", got)
			}
			if got := tg.value(t, "SELECT count(*)::text FROM customers"); got != "0" {
				t.Errorf("customers has %s rows", got)
			}
			if got := tg.value(t, "SELECT status || ' ' || outcome FROM schemagate.schemagate_runs WHERE run_id = 'run-1'"); got != "finished failed" {
				t.Errorf("run recorded as %q", got)
			}
			if tg.maintenance(t) != "off" {
				t.Error("maintenance mode left on")
			}

			// Deploying again carries on from what history says.
			res, err := runBounded(t, tg.options(t, folder(t, goodMigrations), "run-2"))
			if err != nil || res.Outcome != OutcomeDeployed {
				t.Fatalf("next deploy: %v, outcome %s", err, res.Outcome)
			}
			if got, want := statuses(res), "2:applied 3:applied 4:applied"; got != want {
				t.Errorf("next deploy: statuses %q, want %q", got, want)
			}
		})
	}
}

// wantSaidOnce fails unless line is one of the progress lines said, once.
func wantSaidOnce(t *testing.T, said []string, line string) {
	t.Helper()
	if n := slices.Index(said, line); n < 0 || slices.Contains(said[n+1:], line) {
		t.Errorf("progress says %q %d times; want once:\n%s", line, len(slices.DeleteFunc(slices.Clone(said), func(s string) bool { return s != line })), strings.Join(said, "\n"))
	}
}

// TestDeployStoppedSaysWhyOnce: a SIGTERM during migration 2 printed "2_backfill stopped: received
// SIGTERM" twice, before the clean-up and again before the rollback; it is said once, before the
// clean-up, and the rollback follows.
func TestDeployStoppedSaysWhyOnce(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := with(goodMigrations, map[string]string{"2_backfill.up.sql": "SELECT pg_sleep(60);\n" + goodMigrations["2_backfill.up.sql"]})
	o := tg.options(t, folder(t, files), "run-1")
	var mu sync.Mutex
	var said []string
	o.Progress = func(msg string) {
		mu.Lock()
		said = append(said, msg)
		mu.Unlock()
	}
	bound, stop := context.WithTimeout(t.Context(), time.Minute)
	defer stop()
	ctx, cancel := context.WithCancelCause(bound)
	defer cancel(nil)
	done := runAsync(ctx, o)
	waitForSleep(t, tg.url)
	cancel(sigterm)
	out := <-done
	res, err := out.res, out.err
	if bound.Err() != nil {
		t.Fatalf("the deploy was not stopped by the signal: err %v", err)
	}
	if err == nil || res.Outcome != OutcomeRolledBack {
		t.Fatalf("err %v, outcome %s; want rolled back", err, res.Outcome)
	}
	mu.Lock()
	defer mu.Unlock()
	wantSaidOnce(t, said, "2_backfill stopped: received SIGTERM")
}

// TestDeployUnrecordedEndNoteWorks: another session locks schemagate_runs as the run ends, so its end
// cannot be recorded. The note says how to record it by hand; run as given, that SQL must leave the
// run as one that finished (the next deploy is not blocked by it and does not take it for dead).
func TestDeployUnrecordedEndNoteWorks(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	o := tg.options(t, folder(t, goodMigrations), "run-1")
	o.Config.LockTimeout = 200 * time.Millisecond
	var release func()
	progress := o.Progress
	o.Progress = func(msg string) {
		progress(msg)
		if msg == "maintenance mode off" && release == nil {
			release = tg.lockTable(t, "schemagate.schemagate_runs", "ACCESS EXCLUSIVE", "runs-reader")
		}
	}
	res, err := runBounded(t, o)
	if release == nil {
		t.Fatalf("maintenance mode never went off: %v", err)
	}
	release()
	if err != nil || res.Outcome != OutcomeDeployed {
		t.Fatalf("err %v, outcome %s; want deployed", err, res.Outcome)
	}
	var fix string
	for _, n := range res.Notes {
		if _, sql, ok := strings.Cut(n, "record it by hand: "); ok {
			fix = sql
		}
	}
	if fix == "" {
		t.Fatalf("no note says how to record the run's end by hand: %q", res.Notes)
	}
	if got := tg.value(t, "SELECT status FROM schemagate.schemagate_runs WHERE run_id = 'run-1'"); got != "running" {
		t.Fatalf("run recorded as %q although its end could not be recorded", got)
	}
	tg.exec(t, fix)
	if got := tg.value(t, "SELECT status || ' ' || outcome || ' ' || (finished_at IS NOT NULL) FROM schemagate.schemagate_runs WHERE run_id = 'run-1'"); got != "finished deployed true" {
		t.Errorf("after the note's SQL the run is recorded as %q", got)
	}
	res, err = runBounded(t, tg.options(t, folder(t, goodMigrations), "run-2"))
	if err != nil || res.Outcome != OutcomeNothing {
		t.Fatalf("next deploy: err %v, outcome %s, reason %q; want up to date", err, res.Outcome, res.Reason)
	}
}
