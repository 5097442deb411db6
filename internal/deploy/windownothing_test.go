package deploy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/config"
)

// TestDeployWindowEndBeforeAnythingAppliedIsBlocked: a run whose first migration gave up waiting for a
// lock, and whose retry the window left no room for, ended partial ("0 migrations applied, 1 left for
// the next window"), exit 1, a person must act, though its transaction was rolled back and nothing had
// changed. It is blocked now (exit 3: the database is as it was), maintenance mode off, and deploys in
// the next window.
func TestDeployWindowEndBeforeAnythingAppliedIsBlocked(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	before := tg.checksums(t)
	o := tg.options(t, folder(t, map[string]string{
		"1_orders_extra.up.sql":   "ALTER TABLE orders ADD COLUMN extra int;",
		"1_orders_extra.down.sql": "ALTER TABLE orders DROP COLUMN extra;",
	}), "run-window-nothing")
	o.Config.Windows = []config.Window{{Cron: "0 3 * * *", Duration: time.Hour}}
	o.Clock = &fakeClock{now: time.Date(2026, 5, 5, 3, 30, 0, 0, time.UTC)}
	o.Config.LockTimeout = 100 * time.Millisecond
	o.Config.RetryBackoff = time.Hour // the retry would start at 04:30, after the window
	tg.holdLock(t, "orders")          // the application's long query, for the whole run
	res, err := runBounded(t, o)
	var b *Blocked
	if !errors.As(err, &b) || res.Outcome != OutcomeBlocked || res.OK {
		t.Fatalf("err %v, outcome %s; want blocked", err, res.Outcome)
	}
	want := "1_orders_extra gave up waiting for a lock (attempt 1), and its retry in 1h0m0s would start at 2026-05-05T04:30:00Z, " +
		"after the maintenance window closes at 2026-05-05T04:00:00Z: not retried (nothing of it stays): 1_orders_extra; nothing was applied, nothing was changed"
	if res.Reason != want {
		t.Errorf("reason %q, want %q", res.Reason, want)
	}
	if got, want := res.Hint, "it deploys in the next window, which opens at 2026-05-06T03:00:00Z; or break this one with --break-window --reason"; got != want {
		t.Errorf("hint %q, want %q", got, want)
	}
	if got, want := res.headline(), "deploy to test blocked"; got != want {
		t.Errorf("headline %q, want %q", got, want)
	}
	if got := statuses(res); got != "1:failed" {
		t.Errorf("statuses %q, want 1:failed", got)
	}
	if got := tg.historyOf(t); got != "1:failed" {
		t.Errorf("history %q, want 1:failed", got)
	}
	reportAgreesWithHistory(t, tg, res)
	if got := tg.value(t, "SELECT status || ' ' || outcome FROM schemagate.schemagate_runs WHERE run_id = 'run-window-nothing'"); got != "finished blocked" {
		t.Errorf("run recorded as %q", got)
	}
	if after := tg.checksums(t); after != before {
		t.Error("database changed")
	}
	if tg.maintenance(t) != "off" {
		t.Error("maintenance mode left on")
	}
	if res.Snapshot == nil {
		t.Error("no snapshot recorded")
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "nothing was applied, 1_orders_extra was not retried (nothing of it stays)") {
		t.Errorf("notes %q", res.Notes)
	}
}

// reportAgreesWithHistory fails t unless each migration of res that has a history row has the status
// that row has: a migration whose lock timeout was not retried for the window said not-run in the
// report and failed in schemagate_history.
func reportAgreesWithHistory(t *testing.T, tg *target, res *Result) {
	t.Helper()
	recorded := map[string]string{}
	for _, vs := range strings.Fields(tg.historyOf(t)) {
		v, s, _ := strings.Cut(vs, ":")
		recorded[v] = s // the last row of a version
	}
	for _, m := range res.Migrations {
		if s, ok := recorded[m.Version]; ok && s != m.Status {
			t.Errorf("migration %s is %s in the report, %s in schemagate_history", m.id(), m.Status, s)
		}
	}
}
