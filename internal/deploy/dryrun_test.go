package deploy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/migrate"
)

// TestDeployDryRunPredictsTheDeploy: a dry run ends as the deploy would for the same state, blocked
// (exit 3) or not, with the same reason, and says what the deploy would find: outside the window (the
// dry run exited 0 with a note, the deploy 3), a --run-id an earlier run used (the dry run exited 0, the
// deploy was blocked; with nothing pending neither records a run, so neither is), maintenance mode an
// earlier run left on (the dry run did not mention it). The dry run shows the plan all the same.
func TestDeployDryRunPredictsTheDeploy(t *testing.T) {
	t.Parallel()
	set := folder(t, goodMigrations)
	first := &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}
	// 01:59:30 in Berlin; the window opens at 03:00 CEST, 30 s of elapsed time later.
	now := time.Date(2026, 3, 29, 1, 59, 30, 0, mustZone(t, "Europe/Berlin"))
	window := func(o *Options, outside string, maxWait time.Duration) {
		o.Config.TimeZone, o.Config.Windows = "Europe/Berlin", []config.Window{{Cron: "0 3 * * *", Duration: time.Hour}}
		o.Config.OutsideWindow, o.Config.MaxWait = outside, maxWait
		o.Clock = &fakeClock{now: now}
	}
	for _, tc := range []struct {
		name    string
		runID   string
		set     *migrate.Set
		before  func(t *testing.T, tg *target)
		options func(o *Options)
		blocked string // the reason of both, "" when neither is blocked
		note    string // a note of the dry run
	}{
		{name: "outside the window", runID: "run-w", set: set,
			options: func(o *Options) { window(o, "", 0) },
			blocked: "outside the maintenance window; the next window opens at 2026-03-29T03:00:00+02:00",
			note:    "the deploy would be blocked (outside_window: fail)"},
		{name: "outside the window, further than max_wait", runID: "run-w", set: set,
			options: func(o *Options) { window(o, "wait", 10*time.Second) },
			blocked: "outside the maintenance window; the next window opens at 2026-03-29T03:00:00+02:00",
			note:    "the deploy would be blocked (outside_window: wait)"},
		{name: "outside the window, within max_wait", runID: "run-w", set: set,
			options: func(o *Options) { window(o, "wait", time.Minute) },
			note:    "the deploy would wait until 2026-03-29T03:00:00+02:00 (30s), then go on"},
		{name: "run id used", runID: "E1", set: set,
			before:  func(t *testing.T, tg *target) { deployed(t, tg, first, "E1") },
			blocked: "run id E1 was used by an earlier run"},
		{name: "run id used, nothing pending", runID: "E1", set: first,
			before: func(t *testing.T, tg *target) { deployed(t, tg, first, "E1") }},
		{name: "maintenance mode left on by a finished run", runID: "run-m", set: set,
			before: func(t *testing.T, tg *target) {
				deployed(t, tg, first, "run-1")
				tg.exec(t, "UPDATE schemagate.schemagate_runs SET maintenance_on = true WHERE run_id = 'run-1'")
				tg.exec(t, "UPDATE app_settings SET value = 'on' WHERE key = 'maintenance'")
			},
			note: "maintenance mode is on, left on by run run-1 (tester, started "},
		{name: "maintenance mode left on by a run that did not finish", runID: "run-m", set: set,
			before: func(t *testing.T, tg *target) {
				deployed(t, tg, first, "run-1")
				tg.exec(t, "INSERT INTO schemagate.schemagate_runs (run_id, env, status, holder, maintenance_on) VALUES ('run-dead', 'test', 'running', 'ci@host', true)")
				tg.exec(t, "UPDATE app_settings SET value = 'on' WHERE key = 'maintenance'")
			},
			blocked: "run run-dead (ci@host",
			note:    "maintenance mode, left on by run run-dead, stays on until --recover"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			if tc.before != nil {
				tc.before(t, tg)
			}
			var results [2]*Result
			var errs [2]error
			var plan []string
			for i, dry := range []bool{true, false} { // the dry run first: the deploy changes the state
				o := tg.options(t, tc.set, tc.runID)
				if tc.options != nil {
					tc.options(&o)
				}
				o.DryRun = dry
				if dry {
					o.Progress = func(msg string) { plan = append(plan, msg) }
				}
				results[i], errs[i] = Run(t.Context(), o)
			}
			dry, real := errs[0], errs[1]
			for _, r := range []struct {
				what string
				err  error
			}{{"dry run", dry}, {"deploy", real}} {
				var b *Blocked
				switch {
				case tc.blocked == "" && r.err != nil:
					t.Errorf("%s: %v, want no error", r.what, r.err)
				case tc.blocked != "" && (!errors.As(r.err, &b) || !strings.Contains(b.Reason, tc.blocked)):
					t.Errorf("%s: %v, want blocked: %s", r.what, r.err, tc.blocked)
				}
			}
			var bd, br *Blocked
			if errors.As(dry, &bd) && errors.As(real, &br) && (bd.Reason != br.Reason || bd.Hint != br.Hint) {
				t.Errorf("the dry run's block differs from the deploy's:\n%s (%s)\n%s (%s)", bd.Reason, bd.Hint, br.Reason, br.Hint)
			}
			if notes := strings.Join(results[0].Notes, "\n"); !strings.Contains(notes, tc.note) {
				t.Errorf("dry run notes %q, want one saying %q", notes, tc.note)
			}
			if !strings.HasPrefix(tc.blocked, "run run-dead") && len(tc.set.Migrations) > 1 && // that block comes before the plan
				!strings.Contains(strings.Join(plan, "\n"), "would apply 4_orders_note") {
				t.Errorf("the dry run showed no plan: %q", plan)
			}
		})
	}
}

// deployed deploys set to tg as run runID.
func deployed(t *testing.T, tg *target, set *migrate.Set, runID string) {
	t.Helper()
	o := tg.options(t, set, runID)
	if _, err := Run(t.Context(), o); err != nil {
		t.Fatalf("deploy %s: %v", runID, err)
	}
}

// TestDeployDryRunReportsAStaleLockRow: a lock row that an earlier run left behind (it lost its lock's
// session, or its process died) was reported by the deploy, which overwrites it, and not by the dry run,
// so the person on call learnt of it only at the deploy. The dry run reports the same finding now, saying
// that it leaves the row as it is and that the deploy would overwrite it.
func TestDeployDryRunReportsAStaleLockRow(t *testing.T) {
	t.Parallel()
	set := folder(t, goodMigrations)
	first := &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}
	for _, tc := range []struct {
		name, runID string
		finding     string // what the dry run and the deploy both say of the row
	}{
		{name: "a run that ended", runID: "run-1", finding: "was left by that run, which lost the deploy lock and then ended (outcome deployed at "},
		{name: "a run that recorded no end", runID: "run-gone", finding: "was left by that run, which did not record its end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			deployed(t, tg, first, "run-1")
			tg.exec(t, `INSERT INTO schemagate.schemagate_lock (id, holder, run_id, since, backend_pid) VALUES (1, 'ci@host', '`+tc.runID+`', now(), 0)`)
			o := tg.options(t, set, "run-2")
			o.DryRun = true
			res, err := Run(t.Context(), o)
			if err != nil || res.Outcome != OutcomeDryRun {
				t.Fatalf("dry run: %v, outcome %s", err, res.Outcome)
			}
			notes := strings.Join(res.Notes, "\n")
			for _, want := range []string{"the deploy lock row of ci@host (run " + tc.runID + ") since 20", tc.finding,
				"the dry run leaves the row as it is: the deploy would take the lock and overwrite the row"} {
				if !strings.Contains(notes, want) {
					t.Errorf("dry run notes %q, want one saying %q", notes, want)
				}
			}
			if got := tg.value(t, "SELECT run_id FROM schemagate.schemagate_lock"); got != tc.runID {
				t.Errorf("the dry run changed the lock row to run %s", got)
			}
			o.DryRun = false
			res, err = Run(t.Context(), o)
			if err != nil || res.Outcome != OutcomeDeployed {
				t.Fatalf("deploy: %v, outcome %s", err, res.Outcome)
			}
			if notes := strings.Join(res.Notes, "\n"); !strings.Contains(notes, tc.finding) || strings.Contains(notes, "dry run") {
				t.Errorf("deploy notes %q, want the same finding, as the deploy's", notes)
			}
		})
	}
}
