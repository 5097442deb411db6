package deploy

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/snapshot"
)

// TestDeploySnapshotStoppedAtItsBound: a snapshot that hangs (a command that sleeps, a pg_dump waiting
// for a lock) kept maintenance mode on, with nothing in the output after "taking snapshot", until a
// person sent SIGTERM: snapshots had no bound of their own, and the maintenance window's end was not
// checked during one. snapshot.timeout, and the window's end, now stop it (the command's process group,
// pg_dump), and the deploy is blocked, nothing changed, maintenance mode off, pg_dump's partial folder
// removed; while it runs, the progress says so every snapshotTick.
func TestDeploySnapshotStoppedAtItsBound(t *testing.T) {
	t.Parallel()
	// ticks has the progress of o counted for "snapshot still running".
	ticks := func(t *testing.T, o *Options) *int {
		var mu sync.Mutex
		n := new(int)
		progress := o.Progress
		o.Progress = func(msg string) {
			progress(msg)
			if strings.HasPrefix(msg, "snapshot still running, ") {
				mu.Lock()
				*n++
				mu.Unlock()
			}
		}
		o.snapshotTick = 300 * time.Millisecond
		return n
	}
	t.Run("snapshot.timeout stops a command that hangs", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		before := tg.checksums(t)
		o := tg.options(t, folder(t, goodMigrations), "run-snap-hangs")
		o.Config.Snapshot.Timeout = 2 * time.Second
		o.Snapshotter = &snapshot.Command{Take: "sleep 100000; echo id", Restore: "true"}
		n := ticks(t, &o)
		res, err := runBounded(t, o)
		if res.Outcome != OutcomeBlocked || err == nil {
			t.Fatalf("outcome %s, err %v; want blocked", res.Outcome, err)
		}
		for _, want := range []string{"the snapshot command did not finish within 2s (snapshot.timeout)", "nothing was changed"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("reason %q lacks %q", err, want)
			}
		}
		tg.nothingChanged(t, res, before)
		if *n == 0 {
			t.Error(`the progress never said "snapshot still running"`)
		}
	})
	t.Run("the window's end stops pg_dump waiting for a lock", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		before := tg.checksums(t)
		o := tg.options(t, folder(t, goodMigrations), "run-snap-window")
		dir := t.TempDir()
		// pg_dump would wait two minutes for the lock on orders: the window closes 3 s after the start.
		o.Snapshotter = &snapshot.PGDump{URL: tg.url, Dir: dir, Jobs: 2, ExcludeSchemas: []string{"schemagate"}, LockWaitTimeout: 2 * time.Minute}
		o.Config.Windows = []config.Window{{Cron: "0 3 * * *", Duration: time.Hour}}
		o.Clock = &fakeClock{now: time.Date(2026, 5, 5, 3, 59, 57, 0, time.UTC)}
		n := ticks(t, &o)
		var release func()
		progress := o.Progress
		o.Progress = func(msg string) {
			progress(msg)
			if strings.HasPrefix(msg, "taking snapshot") && release == nil {
				release = tg.lockTable(t, "orders", "ACCESS EXCLUSIVE", "long-job")
			}
		}
		res, err := runBounded(t, o)
		if release != nil {
			release()
		}
		if res.Outcome != OutcomeBlocked || err == nil {
			t.Fatalf("outcome %s, err %v; want blocked", res.Outcome, err)
		}
		for _, want := range []string{"pg_dump did not finish within 3s (the maintenance window closes at 2026-05-05T04:00:00Z)",
			"its partial snapshot folder was removed", "nothing was changed"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("reason %q lacks %q", err, want)
			}
		}
		tg.nothingChanged(t, res, before)
		if *n == 0 {
			t.Error(`the progress never said "snapshot still running"`)
		}
		if left, err := os.ReadDir(dir); err != nil || len(left) != 0 {
			t.Errorf("snapshot folder holds %v (%v), want nothing", left, err)
		}
		if got := tg.value(t, "SELECT count(*)::text FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pg_dump'"); got != "0" {
			t.Errorf("%s pg_dump sessions left on the server", got)
		}
	})
}
