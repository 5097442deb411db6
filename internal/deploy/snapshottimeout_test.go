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

// TestSnapshotTimedOutSaysWhatBoundIt: the hint of a snapshot that was stopped follows what stopped it.
// When the maintenance window's end bounds it (less min_window_left, when set), a longer snapshot.timeout
// would not help: the hint is a window that leaves the snapshot time (for pg_dump, with compress: 0); when
// snapshot.timeout does, raising it is. snapshotLimit says which as a value, not in its message's words.
func TestSnapshotTimedOutSaysWhatBoundIt(t *testing.T) {
	t.Parallel()
	window := []config.Window{{Cron: "0 3 * * *", Duration: time.Hour}}
	at := time.Date(2026, 5, 5, 3, 50, 0, 0, time.UTC) // 10 minutes before the window closes
	pgDump := &snapshot.PGDump{URL: "postgres://unused", Dir: t.TempDir()}
	command := &snapshot.Command{Take: "true", Restore: "true"}
	for _, tc := range []struct {
		name        string
		env         config.Environment
		snap        snapshot.Snapshotter
		bound, hint string
	}{
		{"snapshot.timeout, within the window", config.Environment{Windows: window, Snapshot: config.Snapshot{Timeout: time.Minute}}, command,
			"(snapshot.timeout)", "see what the snapshot command waits for, or raise snapshot.timeout"},
		{"snapshot.timeout, no window", config.Environment{Snapshot: config.Snapshot{Timeout: time.Hour}}, pgDump,
			"(snapshot.timeout)", "raise snapshot.timeout if the snapshot needs longer"},
		{"the window's end", config.Environment{Windows: window, Snapshot: config.Snapshot{Timeout: time.Hour}}, pgDump,
			"(the maintenance window closes at 2026-05-05T04:00:00Z)", "deploy again in a window that leaves the snapshot time to finish and the migrations time to run (or break this one with --break-window --reason); compress: 0 dumps about four times faster"},
		{"min_window_left before the window's end", config.Environment{Windows: window, MinWindowLeft: 5 * time.Minute}, command,
			"(no migration may start after 2026-05-05T03:55:00Z (min_window_left 5m0s before the maintenance window closes at 2026-05-05T04:00:00Z))", "deploy again in a window that leaves the snapshot time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := tc.env
			d := &deployer{o: &Options{Snapshotter: tc.snap}, env: &env, clock: &fakeClock{now: at}, res: &Result{}}
			if err := d.window(t.Context()); err != nil {
				t.Fatal(err)
			}
			b := d.snapshotTimedOut(d.snapshotLimit())
			if !strings.Contains(b.Reason, tc.bound) {
				t.Errorf("reason %q does not name the bound %q", b.Reason, tc.bound)
			}
			if !strings.HasPrefix(b.Hint, tc.hint) {
				t.Errorf("hint %q, want it to start with %q", b.Hint, tc.hint)
			}
		})
	}
}
