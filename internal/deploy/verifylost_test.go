package deploy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/config"
)

// sleepyVerify is sqitchV1 whose users verify script sleeps until the test cuts its connection.
var sleepyVerify = with(sqitchV1, map[string]string{"verify/users.sql": "SELECT pg_sleep(60);\nSELECT id, name FROM app.users WHERE false;\n"})

// loseServerAt has o's run lose its work connection when its progress reaches a line that starts with
// at; with away, the database takes no new connection either (a server that stays away). allow lets
// connections in again (the test's end does too).
func (tg *target) loseServerAt(t *testing.T, o *Options, at string, away bool) (allow func()) {
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
	allow = func() {
		if _, err := admin.Exec(context.Background(), "ALTER DATABASE "+db+" ALLOW_CONNECTIONS true"); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(allow)
	o.Clock = &fakeClock{now: time.Now()} // the reconnection's waits pass at once
	progress, lost := o.Progress, false
	o.Progress = func(msg string) {
		progress(msg)
		if lost || !strings.HasPrefix(msg, at) {
			return
		}
		lost = true
		if !away {
			tg.exec(t, "SELECT pg_terminate_backend(backend_pid) FROM schemagate.schemagate_runs WHERE run_id = "+quoteLit(o.RunID))
			return
		}
		if _, err := admin.Exec(context.Background(), "ALTER DATABASE "+db+" ALLOW_CONNECTIONS false"); err != nil {
			t.Error(err)
		}
		tg.exec(t, "SELECT pg_terminate_backend(backend_pid) FROM schemagate.schemagate_runs WHERE run_id = "+quoteLit(o.RunID))
	}
	return allow
}

// TestDeployLostServerAroundVerification: the server goes away for good while a sqitch verify script
// runs, or just before the verification of the applied migrations. The run tried to roll back without
// it and reported "NOT ROLLED BACK: ... whether other sessions wrote ... could not be checked", with the
// hint to decide with the application's owners, a note to record the run by hand "rather than
// --recover", and maintenance mode to turn off by hand. The migrations committed and are not verified:
// the report now says so and leaves the run, recorded as running, with maintenance mode on, to
// --recover, as after a server lost during a migration; --recover then rolls them back.
func TestDeployLostServerAroundVerification(t *testing.T) {
	t.Parallel()
	check := []config.Check{{Name: "quick", SQL: "SELECT true"}}
	for _, tc := range []struct {
		name   string
		sqitch bool
		// at: lose the server when the progress reaches it; "" while the verify script sleeps.
		at, what, applied, statuses, undone string
	}{
		{name: "during a sqitch verify script", sqitch: true, what: "before the verify script of users (verify/users.sql) could finish",
			applied: "appschema, users", statuses: "appschema:applied users:applied", undone: "appschema,users"},
		{name: "before the verification", at: "applied 4_orders_note in", what: "before the verification could finish",
			applied: "1_customers, 2_backfill, 3_fk, 4_orders_note", statuses: "1:applied 2:applied 3:applied 4:applied", undone: "1,2,3,4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			before := tg.checksums(t)
			var o Options
			var res *Result
			var err error
			if tc.sqitch {
				o = tg.options(t, sqitchFolder(t, sleepyVerify), "run-lost")
				res, err = tg.runLost(t, o)
			} else {
				o = tg.options(t, folder(t, goodMigrations), "run-lost")
				o.Config.Verify.Checks = check
				allow := tg.loseServerAt(t, &o, tc.at, true)
				res, err = Run(t.Context(), o)
				allow()
			}
			if err == nil || res.Outcome != OutcomeFailed {
				t.Fatalf("outcome %s, err %v", res.Outcome, err)
			}
			if want := "lost the connection to the database server " + tc.what; !strings.HasPrefix(res.Reason, want) || !strings.HasSuffix(res.Reason, tc.applied+" applied, not verified") {
				t.Errorf("reason %q; want it to start with %q and name %s applied, not verified", res.Reason, want, tc.applied)
			}
			for _, want := range []string{"this run applied " + tc.applied + ", each committed", "not verified", "run the deploy again with --recover"} {
				if !strings.Contains(res.Hint, want) {
					t.Errorf("hint %q lacks %q", res.Hint, want)
				}
			}
			if res.Rollback != nil {
				t.Errorf("rollback %+v: none can run without the server", res.Rollback)
			}
			for _, n := range res.Notes {
				if strings.Contains(n, "rather than --recover") || strings.Contains(n, "by hand") || strings.Contains(n, "NOT ROLLED BACK") {
					t.Errorf("note contradicts the hint: %s", n)
				}
			}
			if got := statuses(res); got != tc.statuses {
				t.Errorf("statuses %q, want %q", got, tc.statuses)
			}
			if got := tg.value(t, "SELECT status FROM schemagate.schemagate_runs WHERE run_id = 'run-lost'"); got != "running" {
				t.Errorf("run recorded as %q; want running, for --recover", got)
			}
			if tg.maintenance(t) != "on" {
				t.Error("maintenance mode was turned off before --recover")
			}
			var text strings.Builder
			if err := res.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if want := "Maintenance mode: still on, for deploy --recover to turn off once the server is back"; !strings.Contains(strings.Join(strings.Fields(text.String()), " "), want) {
				t.Errorf("report lacks %q:\n%s", want, text.String())
			}

			// --recover does what the hint says: it rolls back what the run applied.
			files := folder(t, goodMigrations)
			if tc.sqitch {
				files = sqitchFolder(t, sqitchV1)
			}
			ro := tg.options(t, files, "run-recover")
			ro.Recover, ro.Snapshotter = true, nil
			rres, err := Run(t.Context(), ro)
			if err != nil || rres.Recovered == nil || strings.Join(rres.Recovered.Undone, ",") != tc.undone {
				t.Fatalf("recover: %v, %+v", err, rres.Recovered)
			}
			if tg.maintenance(t) != "off" {
				t.Error("--recover left maintenance mode on")
			}
			if after := tg.checksums(t); after == before {
				t.Error("the database is as before the runs; want the migrations deployed again by --recover")
			}
		})
	}
}

// TestDeployLostConnectionAroundVerification: the work connection breaks while a sqitch verify script
// runs, or just before the verification, and the server is there again at once. The run connected again
// and rolled back, as it should, but its reason said that the verify script or a check failed ("users:
// its verify script verify/users.sql failed: ... terminating connection", "verification \"row counts
// unchanged\" failed: ... conn closed"), where neither ran to its end: it now says that the connection was
// lost before it could finish, and what is applied, not verified.
func TestDeployLostConnectionAroundVerification(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		sqitch bool
		at     string // lose the connection when the progress reaches it; "" while the verify script sleeps
		reason string
	}{
		{name: "during a sqitch verify script", sqitch: true,
			reason: "lost the connection to the database server before the verify script of users (verify/users.sql) could finish: appschema, users applied, not verified"},
		{name: "before the verification", at: "applied 4_orders_note in",
			reason: "lost the connection to the database server before the verification could finish: 1_customers, 2_backfill, 3_fk, 4_orders_note applied, not verified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			before := tg.checksums(t)
			var res *Result
			var err error
			if tc.sqitch {
				res, err = tg.runCut(t, tg.options(t, sqitchFolder(t, sleepyVerify), "run-cut"), nil)
			} else {
				o := tg.options(t, folder(t, goodMigrations), "run-cut")
				o.Config.Verify.Checks = []config.Check{{Name: "quick", SQL: "SELECT true"}}
				tg.loseServerAt(t, &o, tc.at, false)
				res, err = Run(t.Context(), o)
			}
			if err == nil || res.Outcome != OutcomeRolledBack {
				t.Fatalf("outcome %s, err %v, hint %q", res.Outcome, err, res.Hint)
			}
			if res.Reason != tc.reason {
				t.Errorf("reason %q\nwant   %q", res.Reason, tc.reason)
			}
			if after := tg.checksums(t); after != before {
				t.Errorf("database differs after the run:\n%s\n---\n%s", before, after)
			}
			if got := tg.value(t, "SELECT status || ' ' || outcome FROM schemagate.schemagate_runs WHERE run_id = 'run-cut'"); got != "finished rolled-back" {
				t.Errorf("run recorded as %q", got)
			}
			if tg.maintenance(t) != "off" {
				t.Error("maintenance mode left on")
			}
		})
	}
}

// TestDeployValidatedCheckOnALostConnection: the connection breaks just before the verification, after
// 3_fk validated accounts_customer_fk. The check "constraints validated" took the error of its query for
// a constraint that is not valid and reported "accounts_customer_fk on accounts is still NOT VALID",
// which the server did not say (the constraint is validated); it now says that it could not read it.
func TestDeployValidatedCheckOnALostConnection(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	o := tg.options(t, folder(t, goodMigrations), "run-cut")
	o.Snapshotter = nil
	tg.loseServerAt(t, &o, "applied 4_orders_note in", false)
	res, err := Run(t.Context(), o)
	if err == nil || res.Outcome != OutcomeRolledBack {
		t.Fatalf("outcome %s, err %v", res.Outcome, err)
	}
	var got *Check
	for i, c := range res.Verify {
		if c.Name == "constraints validated" && c.Phase == "apply" {
			got = &res.Verify[i]
		}
	}
	if got == nil {
		t.Fatalf("no check of validated constraints: %+v", res.Verify)
	}
	if want := "could not read whether accounts_customer_fk on accounts is validated: "; got.OK || strings.Contains(got.Message, "still NOT VALID") || !strings.HasPrefix(got.Message, want) {
		t.Errorf("check %+v; want it failed, its message starting with %q", *got, want)
	}
}

// TestDeployLostServerBeforeVerifyScriptInNewSession: users changes its database's settings, so its
// verify script (and orders) run in a new session, which the server, gone for good, never gives. The
// report said "lost the connection to the database server during users" (or during orders, which never
// started) and "users ran in a transaction, which cannot have committed; this run applied before it:
// appschema, users", though users had committed (history says applied). It now says, as for a verify
// script that lost the server, that users is applied and not verified, and to run --recover.
func TestDeployLostServerBeforeVerifyScriptInNewSession(t *testing.T) {
	t.Parallel()
	settings := with(sqitchV1, map[string]string{"deploy/users.sql": "BEGIN;\nCREATE TABLE app.users (id int PRIMARY KEY, name text);\n" +
		"DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET work_mem = %L', current_database(), '8MB'); END $$;\nCOMMIT;\n"})
	for _, tc := range []struct {
		name, statuses string
		files          map[string]string
	}{
		{name: "the last change", statuses: "appschema:applied users:applied", files: settings},
		{name: "a change before another", statuses: "appschema:applied users:applied orders:not-run", files: with(settings, map[string]string{
			"sqitch.plan":       sqitchPlanV1 + "orders [users] 2024-01-04T00:00:00Z Tester <t@example.com>\n",
			"deploy/orders.sql": "CREATE TABLE app.orders (id int);\n", "revert/orders.sql": "DROP TABLE app.orders;\n",
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			o := tg.options(t, sqitchFolder(t, tc.files), "run-lost")
			allow := tg.loseServerAt(t, &o, "users changes the settings of its role or database", true)
			res, err := Run(t.Context(), o)
			allow()
			if err == nil || res.Outcome != OutcomeFailed {
				t.Fatalf("outcome %s, err %v", res.Outcome, err)
			}
			if want := "lost the connection to the database server before the verify script of users (verify/users.sql) could finish, and could not carry on (open a new session after users: "; !strings.HasPrefix(res.Reason, want) {
				t.Errorf("reason %q; want it to start with %q", res.Reason, want)
			}
			if want := "this run applied appschema, users, each committed"; !strings.HasPrefix(res.Hint, want) || strings.Contains(res.Hint, "cannot have committed") || !strings.Contains(res.Hint, "--recover") {
				t.Errorf("hint %q; want it to start with %q and say to run --recover", res.Hint, want)
			}
			if got := statuses(res); got != tc.statuses {
				t.Errorf("statuses %q, want %q", got, tc.statuses)
			}
			if got := tg.historyOf(t); got != "appschema:applied users:applied" {
				t.Errorf("history %q", got)
			}
			if got := tg.value(t, "SELECT status FROM schemagate.schemagate_runs WHERE run_id = 'run-lost'"); got != "running" {
				t.Errorf("run recorded as %q; want running, for --recover", got)
			}
			if tg.maintenance(t) != "on" {
				t.Error("maintenance mode was turned off before --recover")
			}
		})
	}
}
