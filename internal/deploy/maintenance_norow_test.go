package deploy

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/config"
)

// sqlSwitch gives the options a maintenance switch of SQL actions on and off.
func sqlSwitch(t *testing.T, tg *target, o *Options, on, off string) {
	t.Helper()
	o.Config.Maintenance = config.Maintenance{On: config.Action{SQL: on}, Off: config.Action{SQL: off}}
	m, err := NewMaintenance(o.Config.Maintenance, tg.url, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	o.Maintenance = m
}

// TestDeployMaintenanceOnSQLChangedNoRow: a maintenance.on SQL whose UPDATE matches no row (a misspelt
// key) used to succeed silently, and the deploy applied its migrations believing the application was in
// maintenance mode while it still served. It is now a failed pre-step: blocked before any migration,
// naming the action and saying that its SQL changed no row, with the deploy lock released.
func TestDeployMaintenanceOnSQLChangedNoRow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, on string }{
		{"update", "UPDATE app_settings SET value = 'on' WHERE key = 'maintenace'"},
		{"delete", "DELETE FROM app_settings WHERE key = 'no such key'"},
		{"insert", "INSERT INTO app_settings SELECT 'maintenance', 'on' WHERE false"},
		{"several", "SELECT set_config('app.x', 'y', false); UPDATE app_settings SET value = 'on' WHERE key = 'maintenace'; DELETE FROM app_settings WHERE false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			before := tg.checksums(t)
			o := tg.options(t, folder(t, goodMigrations), "run-1")
			sqlSwitch(t, tg, &o, tc.on, "UPDATE app_settings SET value = 'off' WHERE key = 'maintenance'")
			res, err := runBounded(t, o)
			var b *Blocked
			if !errors.As(err, &b) || res.Outcome != OutcomeBlocked {
				t.Fatalf("err %v, outcome %s; want blocked", err, res.Outcome)
			}
			for _, want := range []string{"turn maintenance mode on (sql ", "changed no row", "nothing was changed"} {
				if !strings.Contains(b.Reason, want) {
					t.Errorf("reason %q does not say %q", b.Reason, want)
				}
			}
			if !strings.Contains(b.Hint, "maintenance.on") {
				t.Errorf("hint %q", b.Hint)
			}
			if got := tg.historyOf(t); got != "" {
				t.Errorf("history %q: a migration ran", got)
			}
			if got := statuses(res); strings.Contains(got, StatusApplied) {
				t.Errorf("statuses %s", got)
			}
			if after := tg.checksums(t); after != before {
				t.Errorf("the database changed:\n%s\n---\n%s", before, after)
			}
			if n := tg.value(t, "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND (classid::bigint << 32 | objid::bigint) = $1", lockKey); n != "0" {
				t.Errorf("%s sessions still hold the deploy lock", n)
			}
		})
	}
}

// TestDeployMaintenanceOffSQLChangedNoRow: a maintenance.off SQL that changes no row, once the
// migrations have committed, does not fail the deploy (it is deployed, exit 0), but warns loudly, in the
// progress output, the notes and the result's maintenance section, that maintenance mode may still be on.
func TestDeployMaintenanceOffSQLChangedNoRow(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	o := tg.options(t, folder(t, goodMigrations), "run-1")
	sqlSwitch(t, tg, &o, "UPDATE app_settings SET value = 'on' WHERE key = 'maintenance'", "UPDATE app_settings SET value = 'off' WHERE key = 'maintenace'")
	var progress []string
	o.Progress = func(msg string) { t.Log(msg); progress = append(progress, msg) }
	res, err := runBounded(t, o)
	if err != nil || res.Outcome != OutcomeDeployed || !res.OK {
		t.Fatalf("err %v, outcome %s; want deployed", err, res.Outcome)
	}
	m := res.Maintenance
	if m == nil || !strings.Contains(m.Warning, "changed no row") || !strings.Contains(m.Warning, "may still be on") {
		t.Fatalf("maintenance %+v: want a warning", m)
	}
	if m.LeftOn() {
		t.Errorf("maintenance %+v counts as left on: the deploy would exit 1", m)
	}
	if !strings.Contains(strings.Join(progress, "\n"), "WARNING: maintenance mode may still be on") {
		t.Errorf("progress does not warn:\n%s", strings.Join(progress, "\n"))
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "changed no row") {
		t.Errorf("notes %q", res.Notes)
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "Maintenance mode:") || !strings.Contains(text.String(), "WARNING") {
		t.Errorf("the text report's maintenance line does not warn:\n%s", text.String())
	}
	if got := tg.maintenance(t); got != "on" {
		t.Errorf("maintenance flag %q (the off SQL matched nothing, so it stays on)", got)
	}
}

// TestMaintenanceSQLWithoutRowCount: SQL that is not INSERT, UPDATE, DELETE or MERGE (a set_config, a
// function call, a DO block) has no row count and still succeeds; so does DML of which one statement
// changes a row, as a DELETE then INSERT of the flag does when the row is missing.
func TestMaintenanceSQLWithoutRowCount(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	tg.exec(t, `CREATE FUNCTION set_maintenance(v text) RETURNS void LANGUAGE sql AS $$ UPDATE app_settings SET value = v WHERE key = 'nothing' $$`)
	for _, sql := range []string{
		"SELECT set_config('app.maintenance', 'on', false)",
		"SELECT set_maintenance('on')",
		"DO $$ BEGIN UPDATE app_settings SET value = 'on' WHERE key = 'nothing'; END $$",
		"DELETE FROM app_settings WHERE key = 'maintenance'; INSERT INTO app_settings VALUES ('maintenance', 'on')",
		"DELETE FROM app_settings WHERE key = 'flag'; INSERT INTO app_settings VALUES ('flag', 'on')",
	} {
		a := &SQLAction{URL: tg.url, SQL: sql}
		if err := a.Run(t.Context()); err != nil {
			t.Errorf("%s: %v", sql, err)
		}
	}
	for sql, tag := range map[string]string{
		"UPDATE app_settings SET value = 'on' WHERE key = 'nothing'":                                                         "UPDATE 0",
		"MERGE INTO app_settings t USING (SELECT 'nothing' AS k) s ON t.key = s.k WHEN MATCHED THEN UPDATE SET value = 'on'": "MERGE 0",
	} {
		err := (&SQLAction{URL: tg.url, SQL: sql}).Run(t.Context())
		var nr *NoRowError
		if !errors.As(err, &nr) || nr.Tag != tag {
			t.Errorf("%s: err %v, want a *NoRowError for %s", sql, err, tag)
		}
	}
	merge := "MERGE INTO app_settings t USING (SELECT 'maintenance' AS k) s ON t.key = s.k WHEN MATCHED THEN UPDATE SET value = 'on'"
	if err := (&SQLAction{URL: tg.url, SQL: merge}).Run(t.Context()); err != nil {
		t.Errorf("%s: %v", merge, err)
	}
}

// TestDeployMaintenanceOnNoRowLeavesItOff: an on SQL that changes no row (a misspelt key) put nothing in
// maintenance mode, and the deploy says so: its progress said "maintenance mode on" before the action
// ran, and then, running the off action on the way out, warned that maintenance mode "may still be on"
// when an off SQL that checks the flag (AND value <> 'off') changed no row either. The off action is not
// run now, unless an earlier run had left maintenance mode on, which must still go off.
func TestDeployMaintenanceOnNoRowLeavesItOff(t *testing.T) {
	t.Parallel()
	const on = "UPDATE app_settings SET value = 'on' WHERE key = 'maintenence'"
	for _, tc := range []struct {
		name      string
		off       string
		inherited bool // an earlier run left maintenance mode on
	}{
		{"off SQL that checks the flag", "UPDATE app_settings SET value = 'off' WHERE key = 'maintenance' AND value <> 'off'", false},
		{"off SQL that leaves a trace", "INSERT INTO off_log VALUES (now()); UPDATE app_settings SET value = 'off' WHERE key = 'maintenance'", false},
		{"left on by an earlier run", "INSERT INTO off_log VALUES (now()); UPDATE app_settings SET value = 'off' WHERE key = 'maintenance'", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.exec(t, "CREATE TABLE off_log (at timestamptz)")
			if tc.inherited {
				deployed(t, tg, folder(t, map[string]string{"1_customers.up.sql": goodMigrations["1_customers.up.sql"]}), "run-0")
				// Left on by a run that recorded turning it on, but not that its on action went through (it
				// died in between): the on action runs again (see TestDeployRecoverReportSaysWhatHappened
				// for a run that recorded it, whose on action is not run again).
				tg.exec(t, "UPDATE schemagate.schemagate_runs SET maintenance_on = true, maintenance_since = NULL WHERE run_id = 'run-0'")
				tg.exec(t, "UPDATE app_settings SET value = 'on' WHERE key = 'maintenance'")
			}
			o := tg.options(t, folder(t, goodMigrations), "run-1")
			sqlSwitch(t, tg, &o, on, tc.off)
			var progress []string
			o.Progress = func(msg string) { t.Log(msg); progress = append(progress, msg) }
			res, err := runBounded(t, o)
			var b *Blocked
			if !errors.As(err, &b) || !strings.Contains(b.Reason, "maintenance mode did not go on") {
				t.Fatalf("err %v; want blocked: maintenance mode did not go on", err)
			}
			said := strings.Join(progress, "\n")
			if slices.Contains(progress, "maintenance mode on") {
				t.Errorf("progress says maintenance mode is on, though the on action failed:\n%s", said)
			}
			if !slices.Contains(progress, "turning maintenance mode on") {
				t.Errorf("progress does not say the on action runs:\n%s", said)
			}
			m := res.Maintenance
			if m == nil || m.LeftOn() || m.Warning != "" || strings.Contains(said+strings.Join(res.Notes, "\n"), "may still be on") {
				t.Errorf("maintenance %+v, notes %q, progress:\n%s\nwant no warning that maintenance mode may be on", m, res.Notes, said)
			}
			offRan := tg.value(t, "SELECT count(*)::text FROM off_log") != "0"
			switch {
			case tc.inherited && !offRan:
				t.Error("maintenance mode, left on by an earlier run, was not turned off")
			case tc.inherited && tg.maintenance(t) != "off":
				t.Errorf("maintenance flag %q after its off action", tg.maintenance(t))
			case !tc.inherited && offRan:
				t.Error("the off action ran, though nothing had turned maintenance mode on")
			case !tc.inherited && tg.maintenance(t) != "off":
				t.Errorf("maintenance flag %q", tg.maintenance(t))
			}
			if got := tg.value(t, "SELECT count(*)::text FROM schemagate.schemagate_runs WHERE maintenance_on"); got != "0" {
				t.Errorf("%s runs are recorded with maintenance mode on", got)
			}
		})
	}
}
