package deploy

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// sleeper is a transactional migration 2 that creates a table and then sleeps until the test cuts its
// connection.
var sleeper = with(goodMigrations, map[string]string{
	"2_backfill.up.sql":   "CREATE TABLE k9 (id int);\nSELECT pg_sleep(60);",
	"2_backfill.down.sql": "DROP TABLE k9;",
	"3_fk.up.sql":         "", "3_fk.down.sql": "", "4_orders_note.up.sql": "", "4_orders_note.down.sql": "",
})

// runCut deploys and terminates the deploy's work connection once migration 2 sleeps; before, if set,
// runs just before that.
func (tg *target) runCut(t *testing.T, o Options, before func()) (*Result, error) {
	t.Helper()
	type out struct {
		res *Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := Run(t.Context(), o)
		done <- out{res, err}
	}()
	waitForSleep(t, tg.url)
	if before != nil {
		before()
	}
	tg.exec(t, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE query ILIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid() AND datname = current_database()`)
	select {
	case r := <-done:
		return r.res, r.err
	case <-time.After(2 * time.Minute):
		t.Fatal("the deploy did not return after its connection was cut")
	}
	return nil, nil
}

// TestDeployLostConnectionInTransaction: the server ends the deploy's connection while a transactional
// migration runs. Its transaction is rolled back by the server: the migration is reported as not
// applied, the deploy connects again, rolls back the earlier migration of the run by its down, verifies
// and records the run's end (exit 3, no --recover needed), with no snapshot restore.
func TestDeployLostConnectionInTransaction(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, history, statuses string
		files                   map[string]string
	}{
		{"after an applied migration", "1:rolled-back 2:failed", "1:rolled-back 2:failed", sleeper},
		{"in the first migration", "2:failed", "2:failed", with(sleeper, map[string]string{"1_customers.up.sql": "", "1_customers.down.sql": ""})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			before := tg.checksums(t)
			res, err := tg.runCut(t, tg.options(t, folder(t, tc.files), "run-cut"), nil)
			if err == nil || res.Outcome != OutcomeRolledBack {
				t.Fatalf("outcome %s, err %v, hint %q", res.Outcome, err, res.Hint)
			}
			if !strings.Contains(res.Reason, "lost the connection") || !strings.Contains(res.Reason, "nothing of it is applied") {
				t.Errorf("reason %q", res.Reason)
			}
			if got := statuses(res); got != tc.statuses {
				t.Errorf("statuses %q, want %q", got, tc.statuses)
			}
			if rb := res.Rollback; rb != nil && (rb.Method != "down" || !rb.OK || tc.history == "2:failed") {
				t.Errorf("rollback %+v", rb)
			}
			for _, c := range res.Verify {
				if !c.OK {
					t.Errorf("check %s failed: %s", c.Name, c.Message)
				}
			}
			if after := tg.checksums(t); after != before {
				t.Errorf("database differs after the run:\n%s\n---\n%s", before, after)
			}
			if got := tg.historyOf(t); got != tc.history {
				t.Errorf("history %q, want %q", got, tc.history)
			}
			if got := tg.value(t, "SELECT status || ' ' || outcome FROM schemagate.schemagate_runs WHERE run_id = 'run-cut'"); got != "finished rolled-back" {
				t.Errorf("run recorded as %q", got)
			}
			if tg.maintenance(t) != "off" {
				t.Error("maintenance mode left on")
			}
			// The next deploy is not blocked by the run.
			res, err = Run(t.Context(), tg.options(t, folder(t, goodMigrations), "run-next"))
			if err != nil || res.Outcome != OutcomeDeployed {
				t.Fatalf("next deploy: %s, %v", res.Outcome, err)
			}
		})
	}
}

// TestDeployLostServerInTransaction: the server cannot be reached again after the connection broke. The
// report says the state is unknown, that the interrupted migration did not commit, what the run applied
// before it and to run --recover; no snapshot restore or verification is tried. --recover then undoes it.
func TestDeployLostServerInTransaction(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	before := tg.checksums(t)
	res, err := tg.runLost(t, tg.options(t, folder(t, sleeper), "run-cut"))
	if err == nil || res.Outcome != OutcomeFailed {
		t.Fatalf("outcome %s, err %v", res.Outcome, err)
	}
	if !strings.Contains(res.Reason, "state of the database is unknown") {
		t.Errorf("reason %q", res.Reason)
	}
	for _, want := range []string{"2_backfill ran in a transaction, which cannot have committed", "applied before it: 1_customers", "--recover"} {
		if !strings.Contains(res.Hint, want) {
			t.Errorf("hint %q lacks %q", res.Hint, want)
		}
	}
	if res.Rollback != nil || len(res.Verify) != 0 {
		t.Errorf("rollback %+v, checks %+v: neither can run without the server", res.Rollback, res.Verify)
	}
	if got := statuses(res); got != "1:applied 2:failed" {
		t.Errorf("statuses %q", got)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM pg_class WHERE relname = 'k9'"); got != "0" {
		t.Fatal("the interrupted migration's table exists")
	}
	// One recommendation: --recover. A note used to say "rather than --recover, ... record it by hand:
	// UPDATE ...", which would have left 1_customers applied by a failed run. The run stays recorded as
	// running, and maintenance mode on, for --recover (which restores the snapshot only while it is on).
	for _, n := range res.Notes {
		if strings.Contains(n, "rather than --recover") || strings.Contains(n, "UPDATE") {
			t.Errorf("note contradicts the hint: %s", n)
		}
	}
	if got := tg.value(t, "SELECT status FROM schemagate.schemagate_runs WHERE run_id = 'run-cut'"); got != "running" {
		t.Errorf("run recorded as %q; want running, for --recover", got)
	}
	if tg.maintenance(t) != "on" {
		t.Error("maintenance mode was turned off before --recover")
	}

	o := tg.options(t, folder(t, with(sleeper, map[string]string{"2_backfill.up.sql": "CREATE TABLE k9 (id int);"})), "run-recover")
	o.Recover = true
	res, err = Run(t.Context(), o)
	if err != nil || res.Recovered == nil || strings.Join(res.Recovered.Undone, ",") != "1" {
		t.Fatalf("recover: %v, %+v", err, res.Recovered)
	}
	var b *Blocked
	if errors.As(err, &b) {
		t.Fatal(b)
	}
	if got := tg.historyOf(t); got != "1:rolled-back 2:failed 1:applied 2:applied" {
		t.Errorf("history %q", got)
	}
	if tg.maintenance(t) != "off" {
		t.Error("--recover left maintenance mode on")
	}
	if after := tg.checksums(t); after == before {
		t.Error("the database is as before the runs; want the migrations applied")
	}
}

// TestDeployLostServerReportReadsWhole: the report of a run whose server stayed away during its first
// migration, maintenance mode left on for --recover. It read "Maintenance mode: still on: " (the reason
// of a failed off action, which there was none of) and "this run nothing before it."; each is a whole
// sentence now.
func TestDeployLostServerReportReadsWhole(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := with(sleeper, map[string]string{"1_customers.up.sql": "", "1_customers.down.sql": ""})
	res, err := tg.runLost(t, tg.options(t, folder(t, files), "run-cut-first"))
	if err == nil || res.Outcome != OutcomeFailed {
		t.Fatalf("outcome %s, err %v", res.Outcome, err)
	}
	if want := "2_backfill ran in a transaction, which cannot have committed: the server rolls back the transaction of a connection it loses; this run applied nothing before it. Once the server is back"; !strings.HasPrefix(res.Hint, want) {
		t.Errorf("hint %q; want it to start with %q", res.Hint, want)
	}
	if tg.maintenance(t) != "on" {
		t.Error("maintenance mode was turned off before --recover")
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	want := "Maintenance mode: still on, for deploy --recover to turn off once the server is back"
	found := false
	for _, l := range strings.Split(text.String(), "\n") {
		found = found || strings.Join(strings.Fields(l), " ") == want
	}
	if !found {
		t.Errorf("report lacks the line %q:\n%s", want, text.String())
	}
}

// runLost deploys o and, once migration 2 sleeps, makes the server unreachable (the database takes no
// new connection: a server that stays away; the test's own connection and the deploy lock's stay) and
// terminates the deploy's work connection.
func (tg *target) runLost(t *testing.T, o Options) (*Result, error) {
	t.Helper()
	db := pgx.Identifier{tg.value(t, "SELECT current_database()")}.Sanitize()
	cfg, err := pgx.ParseConfig(tg.url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = "postgres"
	admin, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	allow := func() {
		if _, err := admin.Exec(context.Background(), "ALTER DATABASE "+db+" ALLOW_CONNECTIONS true"); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(allow)
	o.Clock = &fakeClock{now: time.Now()} // the reconnection's waits pass at once
	res, err := tg.runCut(t, o, func() {
		if _, err := admin.Exec(t.Context(), "ALTER DATABASE "+db+" ALLOW_CONNECTIONS false"); err != nil {
			t.Fatal(err)
		}
	})
	allow()
	return res, err
}

// TestDeployLostRunTakenOverByRecover: a run loses its connections (its runner's network went down, and a
// person ended its sessions, as the hint of a lost run says), another runner's --recover rolls it back
// from a hotfix folder and deploys again, and the application writes to what it deployed. When the
// lost run reaches the server again, it took the deploy lock again (it was free) and ran the down of its
// migration 1: the column the recovery had deployed went, with the application's values, while history
// still said applied, and the run rewrote its row from recovered to finished. It now sees that another
// deploy took over and touches nothing: database, history, its row and maintenance mode stay as the
// recovery and the application left them, and its report says so (failed, exit 1).
func TestDeployLostRunTakenOverByRecover(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	o := tg.options(t, folder(t, sleeper), "run-y3")
	o.Snapshotter = nil // snapshot kind none: the downs are the only rollback
	var after, history string
	onceLost(&o, func() { // while run-y3 cannot reach the server, another runner recovers it
		res, err := Run(t.Context(), tg.recoverOptions(t, hotfix))
		if err != nil || res.Outcome != OutcomeDeployed || res.Recovered == nil {
			t.Errorf("recover: %s, %v, %+v", res.Outcome, err, res.Recovered)
		}
		tg.exec(t, "UPDATE accounts SET customer_id = 42 WHERE id <= 10")
		after, history = tg.checksums(t), tg.historyOf(t)
	})
	res, err := tg.runCut(t, o, func() {
		tg.exec(t, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = 'schemagate deploy lock' AND datname = current_database()`)
	})
	if history == "" {
		t.Fatal("the recovery did not run")
	}
	if err == nil || res.Outcome != OutcomeFailed {
		t.Fatalf("outcome %s, err %v", res.Outcome, err)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM accounts WHERE customer_id = 42"); got != "10" {
		t.Errorf("%s rows keep the application's customer_id; want 10", got)
	}
	if got := tg.checksums(t); got != after {
		t.Errorf("database changed after the recovery:\n%s\n---\n%s", after, got)
	}
	if got := tg.historyOf(t); got != history {
		t.Errorf("history %q; want %q, as the recovery left it", got, history)
	}
	if got := tg.value(t, "SELECT status FROM schemagate.schemagate_runs WHERE run_id = 'run-y3'"); got != "recovered" {
		t.Errorf("run-y3 recorded as %q; want recovered, as the recovery left it", got)
	}
	if tg.maintenance(t) != "off" {
		t.Error("maintenance mode is on; the recovery turned it off")
	}
	if res.Rollback != nil && res.Rollback.OK {
		t.Errorf("rollback %+v", res.Rollback)
	}
	recoveredBy(t, res, "run run-y4 of runner-2")
	if strings.Contains(res.Hint, "--recover") {
		t.Errorf("hint %q: the run was recovered already", res.Hint)
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "as run run-y4 of runner-2 left it") || strings.Contains(text.String(), "still on") {
		t.Errorf("report's maintenance mode:\n%s", text.String())
	}
}

// TestDeployLostRunMeetsRecoverHoldingTheLock: as TestDeployLostRunTakenOverByRecover, but the lost run
// reaches the server again while the --recover still holds the deploy lock. It said "could not carry on
// ... run the deploy again with --recover" (which is running); it now says that run holds the lock and
// may be recovering it, and touches nothing.
func TestDeployLostRunMeetsRecoverHoldingTheLock(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	o := tg.options(t, folder(t, sleeper), "run-y3")
	o.Snapshotter = nil
	recovering, lostDone, recovered := make(chan struct{}), make(chan struct{}), make(chan *Result, 1)
	onceLost(&o, func() {
		ro := tg.recoverOptions(t, hotfix)
		rp := ro.Progress
		ro.Progress = func(msg string) {
			rp(msg)
			if strings.HasPrefix(msg, "recovering run run-y3") {
				close(recovering)
				<-lostDone // run-y3 connects again while this one holds the lock
			}
		}
		go func() {
			res, err := Run(context.WithoutCancel(t.Context()), ro)
			if err != nil {
				t.Errorf("recover: %v", err)
			}
			recovered <- res
		}()
		<-recovering
	})
	res, err := tg.runCut(t, o, func() {
		tg.exec(t, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = 'schemagate deploy lock' AND datname = current_database()`)
	})
	close(lostDone)
	rec := <-recovered
	if rec == nil || rec.Outcome != OutcomeDeployed {
		t.Fatalf("recover: %+v", rec)
	}
	if err == nil || res.Outcome != OutcomeFailed {
		t.Fatalf("outcome %s, err %v", res.Outcome, err)
	}
	if want := "run run-y4 of runner-2 took the deploy lock while this run had lost its connections to the database server, and holds it now"; !strings.HasPrefix(res.Reason, want) {
		t.Errorf("reason %q; want it to start with %q", res.Reason, want)
	}
	if !strings.Contains(res.Hint, "once run run-y4 of runner-2 has ended") || !strings.Contains(res.Hint, "still running") {
		t.Errorf("hint %q; want it to say what this run's row tells once run-y4 has ended", res.Hint)
	}
	if got := tg.historyOf(t); got != "1:rolled-back 2:failed 1:applied 2:applied" {
		t.Errorf("history %q", got)
	}
	if got := tg.value(t, "SELECT status FROM schemagate.schemagate_runs WHERE run_id = 'run-y3'"); got != "recovered" {
		t.Errorf("run-y3 recorded as %q", got)
	}
	if tg.maintenance(t) != "off" {
		t.Error("maintenance mode left on")
	}
}

// TestDeployRunTakenOverWhileItFinishes: a run loses its sessions once it has verified its migrations
// (a person ended them), another runner's --recover rolls it back and deploys them again, and a person
// turns maintenance mode on afterwards. The run, in finish, connected again, saw that it was taken over
// ("stopping here, touching nothing") and carried on all the same: it turned maintenance mode off, tried
// to record its end and left a note to overwrite its row, which the recovery had marked recovered, with
// finished. It now stops there, as a run taken over anywhere else does. In "as it records its end" the
// sessions go while the run turns maintenance mode off, so that the revive of the run's end finds it.
func TestDeployRunTakenOverWhileItFinishes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// inOff: cut and recover in the run's maintenance off action rather than after its verification.
		inOff bool
	}{
		{name: "after verification"},
		{name: "as it records its end", inOff: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			o := tg.options(t, folder(t, goodMigrations), "run-y3")
			o.Snapshotter = nil
			var history string
			takeOver := func() {
				tg.exec(t, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
					WHERE application_name LIKE 'schemagate deploy%' AND datname = current_database()`)
				res, err := Run(t.Context(), tg.recoverOptions(t, goodMigrations))
				if err != nil || res.Outcome != OutcomeDeployed || res.Recovered == nil {
					t.Errorf("recover: %s, %v, %+v", res.Outcome, err, res.Recovered)
				}
				tg.exec(t, "UPDATE app_settings SET value = 'on' WHERE key = 'maintenance'")
				history = tg.historyOf(t)
			}
			if tc.inOff {
				o.Maintenance = &Switch{
					OnAction:  &SQLAction{URL: tg.url, SQL: "UPDATE app_settings SET value = 'on' WHERE key = 'maintenance'"},
					OffAction: &takeOverAction{run: takeOver},
				}
			} else {
				progress := o.Progress
				o.Progress = func(msg string) {
					progress(msg)
					if strings.HasPrefix(msg, "verified:") {
						takeOver()
					}
				}
			}
			res, err := Run(t.Context(), o)
			if history == "" {
				t.Fatal("the recovery did not run")
			}
			if err == nil || res.Outcome != OutcomeFailed {
				t.Fatalf("outcome %s, err %v", res.Outcome, err)
			}
			if got := tg.maintenance(t); got != "on" {
				t.Errorf("maintenance mode is %s: the run turned it off after it was taken over", got)
			}
			if m := res.Maintenance; !tc.inOff && (m == nil || m.Off != nil || m.LeftTo != "run run-y4 of runner-2") {
				t.Errorf("maintenance %+v; want it left to run-y4", m)
			}
			if got := tg.value(t, "SELECT status FROM schemagate.schemagate_runs WHERE run_id = 'run-y3'"); got != "recovered" {
				t.Errorf("run-y3 recorded as %q; want recovered, as the recovery left it", got)
			}
			if got := tg.historyOf(t); got != history {
				t.Errorf("history %q; want %q, as the recovery left it", got, history)
			}
			for _, n := range res.Notes {
				if strings.Contains(n, "UPDATE") {
					t.Errorf("note %q tells to overwrite the row the recovery recorded", n)
				}
			}
			recoveredBy(t, res, "run run-y4 of runner-2")
		})
	}
}

// hotfix is sleeper fixed: its migration 2 no longer sleeps, as a recovery from another runner deploys it.
var hotfix = with(sleeper, map[string]string{"2_backfill.up.sql": "CREATE TABLE k9 (id int);"})

// recoverOptions are the options of run-y4, another runner's --recover of the folder of files, with no
// snapshot (the downs are the only rollback).
func (tg *target) recoverOptions(t *testing.T, files map[string]string) Options {
	ro := tg.options(t, folder(t, files), "run-y4")
	ro.Snapshotter, ro.Recover, ro.Holder = nil, true, "runner-2"
	return ro
}

// onceLost has o's run call do, once, when it says it lost the connection to the database server.
func onceLost(o *Options, do func()) {
	var once sync.Once
	progress := o.Progress
	o.Progress = func(msg string) {
		progress(msg)
		if strings.Contains(msg, "lost the connection to the database server") {
			once.Do(do)
		}
	}
}

// recoveredBy checks that res, a run taken over, says so: which deploy (by) took its lock, that it
// recorded the run as recovered, and that the run did nothing since.
func recoveredBy(t *testing.T, res *Result, by string) {
	t.Helper()
	for _, want := range []string{by + " took the deploy lock", "recorded this run as recovered", "did nothing after it connected again"} {
		if !strings.Contains(res.Reason, want) {
			t.Errorf("reason %q lacks %q", res.Reason, want)
		}
	}
}

// takeOverAction is a maintenance off action that, the first time, has another deploy take the run over
// (run), which leaves maintenance mode as that deploy and the test leave it.
type takeOverAction struct {
	run  func()
	once sync.Once
}

func (a *takeOverAction) Run(context.Context) error {
	a.once.Do(a.run)
	return nil
}

func (a *takeOverAction) String() string { return "take over" }

// TestDeployRollbackTakenOver: a migration fails, and while the rollback runs the down of the run's
// first migration, the run loses its connections (a person ended its sessions); another runner's
// --recover rolls it back and deploys again. The run, connected again, sees that it was taken over and
// runs no down again and no restore, as TestDeployLostRunTakenOverByRecover's run does. Its report's
// Rollback line said "down in 0s: FAILED: the down of 1_customers did not run: ...", as if the rollback
// had failed: it was not run, as another deploy owns the run now. It says so, naming that deploy, in
// the text and Markdown reports and the JSON's rollback.not_run.
func TestDeployRollbackTakenOver(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := with(sleeper, map[string]string{
		"1_customers.down.sql": goodMigrations["1_customers.down.sql"] + "\nSELECT pg_sleep(60);",
		"2_backfill.up.sql":    "SELECT 1/0;",
		"2_backfill.down.sql":  "SELECT 1;",
	})
	o := tg.options(t, folder(t, files), "run-y3")
	o.Snapshotter = nil // the downs are the only rollback
	var history string
	onceLost(&o, func() { // while run-y3 cannot reach the server, another runner recovers it
		res, err := Run(t.Context(), tg.recoverOptions(t, with(files, map[string]string{
			"1_customers.down.sql": goodMigrations["1_customers.down.sql"],
			"2_backfill.up.sql":    goodMigrations["2_backfill.up.sql"],
		})))
		if err != nil || res.Outcome != OutcomeDeployed || res.Recovered == nil {
			t.Errorf("recover: %s, %v, %+v", res.Outcome, err, res.Recovered)
		}
		history = tg.historyOf(t)
	})
	res, err := tg.runCut(t, o, func() { // the down sleeps: its lock's session goes first
		tg.exec(t, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = 'schemagate deploy lock' AND datname = current_database()`)
	})
	if history == "" {
		t.Fatal("the recovery did not run")
	}
	if err == nil || res.Outcome != OutcomeFailed {
		t.Fatalf("outcome %s, err %v", res.Outcome, err)
	}
	recoveredBy(t, res, "run run-y4 of runner-2")
	if got := tg.historyOf(t); got != history {
		t.Errorf("history %q; want %q, as the recovery left it", got, history)
	}
	rb := res.Rollback
	want := "the down of 1_customers lost its connection to the database server and was not run again, nor any down or snapshot restore after it: " +
		"run run-y4 of runner-2 took the deploy lock while this run had lost its connections to the database server, and recorded this run as recovered in \"schemagate\".schemagate_runs: " +
		"what this run applied is that deploy's to roll back or keep now"
	if rb == nil || rb.OK || rb.NotRun != want {
		t.Fatalf("rollback %+v; want not run: %q", rb, want)
	}
	wantRollbackNotRun(t, res, "not run: "+want)
	var js strings.Builder
	if err := res.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"not_run": "the down of 1_customers lost its connection`) {
		t.Errorf("JSON report's rollback lacks not_run:\n%s", js.String())
	}
}
