package deploy

import (
	"strings"
	"sync"
	"testing"

	"github.com/schemagate/schemagate/internal/config"
)

// TestRolledBackDeployWhoseMaintenanceOffFails: a deploy that fails and is rolled back, and whose
// maintenance-off action then fails. The result must say that maintenance mode was left on (LeftOn,
// which makes the exit code 1 whatever the outcome: the application may still be down), and progress
// must not say "maintenance mode off": it used to, before running the action that then failed.
func TestRolledBackDeployWhoseMaintenanceOffFails(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	set := folder(t, with(goodMigrations, map[string]string{"2_backfill.up.sql": "SELECT 1/0;"}))
	o := tg.options(t, set, "run-offfails")
	o.Config.Maintenance.Off = config.Action{Command: "echo off; exit 7"}
	maint, err := NewMaintenance(o.Config.Maintenance, tg.url, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	o.Maintenance = maint
	var mu sync.Mutex
	var progress []string
	o.Progress = func(msg string) {
		t.Log(msg)
		mu.Lock()
		progress = append(progress, msg)
		mu.Unlock()
	}
	res, err := Run(t.Context(), o)
	if err == nil || res.Outcome != OutcomeRolledBack {
		t.Fatalf("err %v, outcome %s; want rolled back", err, res.Outcome)
	}
	if !res.Maintenance.LeftOn() {
		t.Errorf("maintenance %+v: want it reported as left on", res.Maintenance)
	}
	if !strings.Contains(res.Maintenance.Hint, "by hand") {
		t.Errorf("maintenance hint %q", res.Maintenance.Hint)
	}
	mu.Lock()
	defer mu.Unlock()
	var failed bool
	for _, p := range progress {
		if p == "maintenance mode off" {
			t.Errorf("progress says %q although the off action failed", p)
		}
		failed = failed || strings.HasPrefix(p, "could not turn maintenance mode off")
	}
	if !failed {
		t.Errorf("progress does not say that maintenance mode could not be turned off: %q", progress)
	}
}

// TestMaintenanceLeftOnOnlyWhenOffFailed: an on action that failed inside its transaction (a lock wait)
// left nothing on and is not "left on"; an off action that failed is.
func TestMaintenanceLeftOnOnlyWhenOffFailed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		m    *MaintenanceResult
		want bool
	}{
		{"none", nil, false},
		{"on failed, nothing on", &MaintenanceResult{Error: "turn maintenance mode on: lock timeout"}, false},
		{"off failed", &MaintenanceResult{Error: "turn maintenance mode off: exit status 7", Hint: "turn it off by hand: ..."}, true},
		{"off went through", &MaintenanceResult{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.m.LeftOn(); got != tc.want {
				t.Errorf("LeftOn() = %v, want %v", got, tc.want)
			}
		})
	}
}
