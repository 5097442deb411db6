package deploy

import (
	"strings"
	"testing"
)

// TestDeployInheritedMaintenanceOnRunsAgain: a run whose off action failed ends with maintenance mode
// recorded on, and when its on action went through; its hint asks a person to turn maintenance mode off
// by hand, who does. The next deploy took the record for the truth ("maintenance mode already on since
// ...: the on action does not run again") and migrated under an application that served, maintenance
// flag off. It runs the on action again, and says why.
func TestDeployInheritedMaintenanceOnRunsAgain(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	tg.exec(t, "CREATE TABLE on_log (at timestamptz)")
	on := "INSERT INTO on_log VALUES (now()); UPDATE app_settings SET value = 'on' WHERE key = 'maintenance'"
	one := map[string]string{"1_customers.up.sql": goodMigrations["1_customers.up.sql"], "1_customers.down.sql": goodMigrations["1_customers.down.sql"]}
	o := tg.options(t, folder(t, one), "run-1")
	sqlSwitch(t, tg, &o, on, "DO $$ BEGIN RAISE EXCEPTION 'off broken'; END $$")
	res, _ := runBounded(t, o)
	if res == nil || res.Maintenance == nil || !res.Maintenance.LeftOn() {
		t.Fatalf("run-1: maintenance %+v, want left on by its failed off action", res)
	}
	if got := tg.value(t, "SELECT (maintenance_on AND maintenance_since IS NOT NULL)::text FROM schemagate.schemagate_runs WHERE run_id = 'run-1'"); got != "true" {
		t.Fatalf("run-1 recorded maintenance on with its time: %s, want true", got)
	}
	tg.exec(t, "UPDATE app_settings SET value = 'off' WHERE key = 'maintenance'") // by hand, as the hint asks

	two := with(one, map[string]string{"2_seen.up.sql": "CREATE TABLE seen AS SELECT value FROM app_settings WHERE key = 'maintenance';", "2_seen.down.sql": "DROP TABLE seen;"})
	o2 := tg.options(t, folder(t, two), "run-2")
	sqlSwitch(t, tg, &o2, on, "UPDATE app_settings SET value = 'off' WHERE key = 'maintenance'")
	res2, err := runBounded(t, o2)
	if err != nil || res2.Outcome != OutcomeDeployed {
		t.Fatalf("run-2: %v, outcome %s", err, res2.Outcome)
	}
	if v := tg.value(t, "SELECT value FROM seen"); v != "on" {
		t.Errorf("migration 2 ran with the maintenance flag %q", v)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM on_log"); got != "2" {
		t.Errorf("the on action ran %s times in all, want 2 (once a run)", got)
	}
	if mr := res2.Maintenance; mr == nil || !strings.Contains(mr.OnAgain, "run run-1 turned maintenance mode on at ") || !strings.Contains(mr.OnAgain, "the on action ran again") {
		t.Errorf("maintenance %+v, want a note that the on action ran again and why", res2.Maintenance)
	}
	if tg.maintenance(t) != "off" {
		t.Error("maintenance mode left on")
	}
}
