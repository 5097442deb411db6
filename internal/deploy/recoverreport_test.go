package deploy

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/config"
)

// TestDeployRecoverReportSaysWhatHappened: what --recover's report said of a run that ended without
// recording its end, left as a run whose server stayed away leaves it (its lock row, its run row
// running, maintenance mode on; nothing applied): "Recovered: run D3 (0 migrations undone by -)", the
// lock row "left by a process that died" (the process had exited normally), and the recovery's own on
// action ran a second time, unexplained. The report now says there was nothing to roll back, words the
// lock row truthfully, and says why the on action runs again: when the run recorded when its on action
// went through, maintenance mode may have been turned off by hand since (see
// TestDeployInheritedMaintenanceOnRunsAgain); when it did not, the action may never have gone through.
func TestDeployRecoverReportSaysWhatHappened(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		since string // the dead run's maintenance_since
		ons   string // the on actions the recovery ran
		said  []string
	}{
		{"on action recorded", "'2026-12-01T03:00:00Z'", "1",
			[]string{"run run-d3 turned maintenance mode on at 2026-12-01T03:00:00Z and did not record turning it off; the on action ran again, as it may have been turned off since"}},
		{"on action not recorded", "NULL", "1",
			[]string{"run run-d3 recorded turning maintenance mode on, but not that its on action went through (it may have died before, or was of an earlier release), so the on action ran again"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			set := folder(t, goodMigrations)
			// One migration left to deploy after the recovery, which needs maintenance mode on.
			if _, err := Run(t.Context(), tg.options(t, folder(t, with(goodMigrations, map[string]string{"4_orders_note.up.sql": "", "4_orders_note.down.sql": ""})), "run-1")); err != nil {
				t.Fatal(err)
			}
			tg.exec(t, `CREATE TABLE maint_log (what text);
				UPDATE app_settings SET value = 'on' WHERE key = 'maintenance';
				INSERT INTO schemagate.schemagate_runs (run_id, env, status, holder, maintenance_on, maintenance_since)
				VALUES ('run-d3', 'test', 'running', 'ci@host', true, `+tc.since+`);
				INSERT INTO schemagate.schemagate_lock (id, holder, run_id, since, backend_pid) VALUES (1, 'ci@host', 'run-d3', now(), 0)
				ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, run_id = excluded.run_id, since = excluded.since, backend_pid = 0`)
			o := tg.options(t, set, "run-recover")
			o.Recover = true
			o.Config.Maintenance.On = config.Action{SQL: "INSERT INTO maint_log VALUES ('on')"}
			maint, err := NewMaintenance(o.Config.Maintenance, tg.url, func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			o.Maintenance = maint
			res, err := Run(t.Context(), o)
			if err != nil || res.Outcome != OutcomeDeployed || statuses(res) != "4:applied" {
				t.Fatalf("recover: %v, outcome %s, migrations %s", err, res.Outcome, statuses(res))
			}
			var b strings.Builder
			if err := res.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(strings.Fields(b.String()), " ")
			for _, want := range append(tc.said,
				"Recovered: run run-d3: nothing of it to roll back (no migration of it had been applied)",
				"(run run-d3) since 20", "was left by that run, which did not record its end: it ended without reaching the database server to record its outcome") {
				if !strings.Contains(text, strings.Join(strings.Fields(want), " ")) {
					t.Errorf("the report does not say %q:\n%s", want, b.String())
				}
			}
			for _, wrong := range []string{"0 migrations", "undone by -", "a process that died"} {
				if strings.Contains(text, wrong) {
					t.Errorf("the report says %q:\n%s", wrong, b.String())
				}
			}
			if got := tg.value(t, "SELECT count(*)::text FROM maint_log"); got != tc.ons {
				t.Errorf("the recovery ran the on action %s times, want %s", got, tc.ons)
			}
			if tg.maintenance(t) != "off" {
				t.Error("maintenance mode left on")
			}
		})
	}
}
