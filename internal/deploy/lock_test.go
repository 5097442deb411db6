package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestDeployKeepsItsLockThroughIdleTimeouts: a database that ends idle sessions (idle_session_timeout)
// and sessions idle in a transaction (idle_in_transaction_session_timeout) after 300 ms, and a migration
// that runs longer than that. The deploy lock's connection, idle for the whole deploy, used to be ended
// by the server: the lock was gone (another deploy could start) and the run either rolled back when it
// noticed before the next migration or reported success. The deploy's connections now turn these
// timeouts off for their session: it deploys, holding its lock to the end.
func TestDeployKeepsItsLockThroughIdleTimeouts(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	if tg.value(t, "SELECT (current_setting('server_version_num')::int >= 140000)::text") != "true" {
		t.Skip("idle_session_timeout needs PostgreSQL 14")
	}
	db := pgx.Identifier{tg.value(t, "SELECT current_database()")}.Sanitize()
	// New sessions only: the test's own connection keeps no timeout.
	tg.exec(t, "ALTER DATABASE "+db+" SET idle_session_timeout = '300ms'")
	tg.exec(t, "ALTER DATABASE "+db+" SET idle_in_transaction_session_timeout = '300ms'")
	set := folder(t, with(goodMigrations, map[string]string{
		"2_backfill.up.sql": goodMigrations["2_backfill.up.sql"] + "\nSELECT pg_sleep(1.5);",
	}))
	res, err := Run(t.Context(), tg.options(t, set, "run-idle"))
	if err != nil || res.Outcome != OutcomeDeployed || !res.OK {
		t.Fatalf("err %v, outcome %s, reason %q; want deployed", err, res.Outcome, res.Reason)
	}
	if got, want := statuses(res), "1:applied 2:applied 3:applied 4:applied"; got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
	if got := tg.value(t, "SELECT status || ' ' || outcome FROM schemagate.schemagate_runs WHERE run_id = 'run-idle'"); got != "finished deployed" {
		t.Errorf("run recorded as %q", got)
	}
	// The lock was released by its holder, not left behind by a session the server ended.
	if got := tg.value(t, "SELECT count(*)::text FROM schemagate.schemagate_lock"); got != "0" {
		t.Errorf("%s lock rows left", got)
	}
}

// TestDeployLockLostAtTheEndNeedsAttention: the deploy lock's session ends during the last migration (a
// person or a timeout terminated it). Nothing noticed it before: the run reported "deployed" (exit 0)
// although, for part of it, another deploy could have run. It now checks its lock before its verdict:
// the migrations stay applied and verified, and the run ends failed, saying why.
func TestDeployLockLostAtTheEndNeedsAttention(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	set := folder(t, with(goodMigrations, map[string]string{
		"4_orders_note.up.sql": goodMigrations["4_orders_note.up.sql"] + "\nSELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'schemagate deploy lock' AND datname = current_database();",
	}))
	res, err := Run(t.Context(), tg.options(t, set, "run-lostlock"))
	var lost *LockLostError
	if !errors.As(err, &lost) || res.Outcome != OutcomeFailed || res.OK {
		t.Fatalf("err %v, outcome %s; want failed: the deploy lock was lost", err, res.Outcome)
	}
	for _, want := range []string{"applied and verified 1_customers, 2_backfill, 3_fk, 4_orders_note", "lost the deploy lock", "another deploy could have run"} {
		if !strings.Contains(res.Reason, want) {
			t.Errorf("reason %q lacks %q", res.Reason, want)
		}
	}
	if !strings.Contains(res.Hint, "schemagate_runs") {
		t.Errorf("hint %q", res.Hint)
	}
	if got, want := statuses(res), "1:applied 2:applied 3:applied 4:applied"; got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
	if got, want := tg.historyOf(t), "1:applied 2:applied 3:applied 4:applied"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
	if got := tg.value(t, "SELECT status || ' ' || outcome FROM schemagate.schemagate_runs WHERE run_id = 'run-lostlock'"); got != "finished failed" {
		t.Errorf("run recorded as %q", got)
	}
	if tg.maintenance(t) != "off" {
		t.Error("maintenance mode left on")
	}
	// Its lock row stays (the session that would clear it is gone): the next deploy said it "was left by a
	// process that died", sending the person on call after a crash that never was.
	res, err = Run(t.Context(), tg.options(t, set, "run-after"))
	if err != nil || res.Outcome != OutcomeNothing {
		t.Fatalf("the next deploy: %v, outcome %s", err, res.Outcome)
	}
	notes := strings.Join(res.Notes, "\n")
	if !strings.Contains(notes, "(run run-lostlock") || !strings.Contains(notes, "was left by that run, which lost the deploy lock and then ended (outcome failed at ") ||
		strings.Contains(notes, "died") {
		t.Errorf("notes %q, want the lock row said to be left by run-lostlock, which lost its lock and ended", notes)
	}
}

// TestRecoverRefusesALiveRun: run A's deploy lock session is ended while its migration runs; A is alive.
// A second deploy then took A for dead, and --recover terminated A's work connection and undid its
// migrations under it. Its connection on the server tells that A is alive: --recover now refuses,
// changing nothing (A keeps running, maintenance mode stays on), and so does a plain deploy.
func TestRecoverRefusesALiveRun(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := with(goodMigrations, map[string]string{"2_backfill.up.sql": "SELECT pg_sleep(60);\n" + goodMigrations["2_backfill.up.sql"]})
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	done := runAsync(ctx, tg.options(t, folder(t, files), "run-alive"))
	waitForSleep(t, tg.url)
	tg.exec(t, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'schemagate deploy lock' AND datname = current_database()`)

	for _, recover := range []bool{true, false} {
		o := tg.options(t, folder(t, files), "run-second")
		o.Recover = recover
		res, err := Run(t.Context(), o)
		var b *Blocked
		if !errors.As(err, &b) || res.Outcome != OutcomeBlocked {
			t.Fatalf("recover=%v: err %v, outcome %s; want blocked: run-alive is alive", recover, err, res.Outcome)
		}
		if !strings.Contains(b.Reason, "run run-alive") || !strings.Contains(b.Reason, "is still running") || !strings.Contains(b.Hint, "pg_terminate_backend") {
			t.Errorf("recover=%v: blocked %q", recover, b)
		}
		if res.Recovered != nil {
			t.Errorf("recover=%v: recovered %+v", recover, res.Recovered)
		}
		if got := tg.value(t, `SELECT count(*)::text FROM pg_stat_activity WHERE state = 'active' AND query ILIKE '%pg_sleep(60)%'
			AND pid <> pg_backend_pid() AND datname = current_database()`); got != "1" {
			t.Fatalf("recover=%v: the live run's migration is not running any more", recover)
		}
		if tg.maintenance(t) != "on" {
			t.Errorf("recover=%v: the live run's maintenance mode was turned off", recover)
		}
	}
	if got := tg.value(t, "SELECT status FROM schemagate.schemagate_runs WHERE run_id = 'run-alive'"); got != "running" {
		t.Errorf("the live run is recorded as %q", got)
	}
	cancel(sigterm)
	select {
	case out := <-done:
		if out.res.OK {
			t.Errorf("the live run reported %s", out.res.Outcome)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the live run did not end")
	}
}

// TestDeployLockWaitSurvivesALostConnection: the connection of a deploy waiting for the deploy lock
// breaks (a person terminated it, the server restarted). The deploy failed, exit 1 "the database needs
// attention", though it had changed nothing (tester A's F5). It now connects again and goes on waiting
// within lock_wait; when it cannot connect again in time it is blocked, nothing changed (exit 3).
func TestDeployLockWaitSurvivesALostConnection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// refuse makes the database refuse new connections once the waiting one is terminated.
		refuse bool
	}{{name: "connects again and deploys"}, {name: "cannot connect again", refuse: true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			db := tg.value(t, "SELECT current_database()")
			holder, err := pgx.Connect(t.Context(), tg.url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { holder.Close(context.Background()) })
			if _, err := holder.Exec(t.Context(), "SELECT pg_advisory_lock($1)", lockKey); err != nil {
				t.Fatal(err)
			}
			// A database's connections are allowed or refused from another one.
			var admin *pgx.Conn
			if tc.refuse {
				cfg, err := pgx.ParseConfig(tg.url)
				if err != nil {
					t.Fatal(err)
				}
				cfg.Database = "postgres"
				if admin, err = pgx.ConnectConfig(t.Context(), cfg); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					_, _ = admin.Exec(context.Background(), "ALTER DATABASE "+pgx.Identifier{db}.Sanitize()+" ALLOW_CONNECTIONS true")
					admin.Close(context.Background())
				})
			}
			o := tg.options(t, folder(t, goodMigrations), "run-relock")
			o.Config.LockWait = 20 * time.Second
			if tc.refuse {
				o.Config.LockWait = 3 * time.Second
			}
			type result struct {
				res *Result
				err error
			}
			done := make(chan result, 1)
			go func() {
				res, err := Run(t.Context(), o)
				done <- result{res, err}
			}()
			// Wait until the deploy waits for the lock, then end its lock connection.
			deadline := time.Now().Add(30 * time.Second)
			for {
				n := tg.value(t, "SELECT count(*)::text FROM pg_stat_activity WHERE application_name = 'schemagate deploy lock' AND datname = $1", db)
				if n == "1" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the deploy never waited for the lock")
				}
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond)
			if tc.refuse {
				if _, err := admin.Exec(t.Context(), "ALTER DATABASE "+pgx.Identifier{db}.Sanitize()+" ALLOW_CONNECTIONS false"); err != nil {
					t.Fatal(err)
				}
			}
			tg.value(t, "SELECT count(pg_terminate_backend(pid))::text FROM pg_stat_activity WHERE application_name = 'schemagate deploy lock' AND datname = $1", db)
			if !tc.refuse {
				time.Sleep(time.Second)
				if _, err := holder.Exec(t.Context(), "SELECT pg_advisory_unlock($1)", lockKey); err != nil {
					t.Fatal(err)
				}
			}
			r := <-done
			if tc.refuse {
				var b *Blocked
				if !errors.As(r.err, &b) || r.res.Outcome != OutcomeBlocked ||
					!strings.Contains(r.res.Reason, "lost the connection to the database while waiting for the deploy lock") ||
					!strings.Contains(r.res.Reason, "nothing was changed") {
					t.Fatalf("err %v, outcome %s, reason %q; want blocked, nothing changed", r.err, r.res.Outcome, r.res.Reason)
				}
				return
			}
			if r.err != nil || r.res.Outcome != OutcomeDeployed {
				t.Fatalf("err %v, outcome %s; want deployed once the lock was free", r.err, r.res.Outcome)
			}
			if got, want := tg.historyOf(t), "1:applied 2:applied 3:applied 4:applied"; got != want {
				t.Errorf("history %q, want %q", got, want)
			}
		})
	}
}

// TestReleaseLostLockIsQuiet: releasing a lock whose connection is gone (terminated, a server restart)
// printed `level=WARN msg="release lock" err="release the deploy lock: conn closed\nconn closed"`
// (tester A's F5). The lock went with its connection: nothing is left to release, and release says
// nothing.
func TestReleaseLostLockIsQuiet(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	hist := history{schema: "schemagate"}
	if _, err := hist.ensure(t.Context(), tg.conn); err != nil {
		t.Fatal(err)
	}
	l, _, err := acquireLock(t.Context(), tg.url, hist, time.Second, realClock{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tg.value(t, "SELECT pg_terminate_backend($1)::text", l.conn.PgConn().PID())
	if err := l.release(t.Context()); err != nil {
		t.Errorf("release of a lock whose connection is gone: %v", err)
	}
}

// TestDeployLockHeldNamesTheSession: a deploy whose runner's host died (or lost its network) leaves its
// lock's session on the server, which keeps it, and the advisory lock, until TCP keepalives end it
// (hours, with the kernel's defaults): waiting or raising lock_wait does not help then. The blocked
// deploy names the session that holds the lock, as pg_locks has it (not the lock row's pid, which may be
// an earlier holder's, reused since), and how to end it once its job is known to be gone.
func TestDeployLockHeldNamesTheSession(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	// A first deploy creates the history tables and so the lock row's table.
	if _, err := Run(t.Context(), tg.options(t, folder(t, goodMigrations), "run-first")); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(tg.url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "schemagate deploy lock"
	ghost, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ghost.Close(context.Background())
	var pid int
	if err := ghost.QueryRow(t.Context(), "SELECT pg_backend_pid() FROM (SELECT pg_advisory_lock($1)) l", lockKey).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	// Its lock row, with the pid of another session (the row of an earlier holder names a pid that may
	// have been reused since).
	tg.exec(t, `INSERT INTO schemagate.schemagate_lock (id, holder, run_id, since, backend_pid) VALUES (1, 'alice', 'run-ghost', now(), 1)
		ON CONFLICT (id) DO UPDATE SET holder = 'alice', run_id = 'run-ghost', backend_pid = 1`)
	o := tg.options(t, folder(t, goodMigrations), "run-second")
	o.Config.LockWait = time.Minute
	o.Clock = &fakeClock{now: time.Date(2026, 5, 5, 3, 0, 0, 0, time.UTC)}
	res, err := Run(t.Context(), o)
	var b *Blocked
	if !errors.As(err, &b) || !strings.Contains(b.Reason, "alice (run run-ghost)") {
		t.Fatalf("err %v, want blocked naming alice's run", err)
	}
	want := fmt.Sprintf("SELECT pg_terminate_backend(%d)", pid)
	if !strings.Contains(b.Hint, want) || !strings.Contains(b.Hint, fmt.Sprintf("pid %d", pid)) || !strings.Contains(b.Hint, "schemagate deploy lock") ||
		!strings.Contains(b.Hint, "wait for that deploy to finish") {
		t.Errorf("hint %q; want it to name the session holding the lock (pid %d) and %s", b.Hint, pid, want)
	}
	if res.Hint != b.Hint {
		t.Errorf("result hint %q, want %q", res.Hint, b.Hint)
	}
}

// TestDeployWaitsOutALiveRunThatEnds: run A's deploy lock session is ended while its migration runs,
// and a second deploy starts while A is alive; A's migration then fails and A rolls itself back and
// records its end while the second deploy waits for A's connection to go. The deploy took the
// connection's going for A's death and said "run A ... did not finish; run again with --recover" (and
// --recover marked A recovered over the end it had recorded). Both now stop (exit 3, nothing changed),
// naming A's connection as they saw it and how A ended, without sending anyone to --recover.
func TestDeployWaitsOutALiveRunThatEnds(t *testing.T) {
	t.Parallel()
	for _, recover := range []bool{false, true} {
		t.Run(fmt.Sprintf("recover=%v", recover), func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			files := with(goodMigrations, map[string]string{"2_backfill.up.sql": "SELECT pg_sleep(60);\n" + goodMigrations["2_backfill.up.sql"]})
			done := runAsync(t.Context(), tg.options(t, folder(t, files), "run-alive"))
			waitForSleep(t, tg.url)
			pid := tg.value(t, `SELECT pid::text FROM pg_stat_activity WHERE state = 'active' AND query ILIKE '%pg_sleep(60)%' AND query NOT ILIKE '%pg_stat_activity%'
				AND pid <> pg_backend_pid() AND datname = current_database()`)
			tg.exec(t, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE application_name = 'schemagate deploy lock' AND datname = current_database()`)

			o := tg.options(t, folder(t, files), "run-second")
			o.Recover = recover
			second := runAsync(t.Context(), o)
			// Once the second deploy looks for run-alive's connection, run-alive's migration fails.
			for tg.value(t, `SELECT count(*)::text FROM pg_stat_activity WHERE query LIKE '%FROM pg_stat_activity WHERE pid = $1 AND application_name%'
				AND pid <> pg_backend_pid() AND datname = current_database()`) == "0" {
				time.Sleep(20 * time.Millisecond)
			}
			tg.exec(t, "SELECT pg_cancel_backend("+pid+")")
			alive := <-done
			if alive.res.Outcome != OutcomeRolledBack {
				t.Fatalf("run-alive: %s, %v", alive.res.Outcome, alive.err)
			}
			out := <-second
			var b *Blocked
			if !errors.As(out.err, &b) || out.res.Outcome != OutcomeBlocked {
				t.Fatalf("err %v, outcome %s; want blocked: run-alive was alive", out.err, out.res.Outcome)
			}
			for _, want := range []string{"run run-alive", "was still running when this deploy began", "pid " + pid, "it has ended since (outcome rolled-back at "} {
				if !strings.Contains(b.Reason, want) {
					t.Errorf("reason %q lacks %q", b.Reason, want)
				}
			}
			if strings.Contains(b.Hint, "--recover") || !strings.Contains(b.Hint, "nothing was changed") {
				t.Errorf("hint %q", b.Hint)
			}
			if out.res.Recovered != nil {
				t.Errorf("recovered %+v", out.res.Recovered)
			}
			if got := tg.value(t, "SELECT status || ' ' || outcome FROM schemagate.schemagate_runs WHERE run_id = 'run-alive'"); got != "finished rolled-back" {
				t.Errorf("run-alive recorded as %q", got)
			}
			if got := tg.historyOf(t); got != "1:rolled-back 2:failed" {
				t.Errorf("history %q", got)
			}
			if tg.maintenance(t) != "off" {
				t.Error("maintenance mode left on")
			}
		})
	}
}
