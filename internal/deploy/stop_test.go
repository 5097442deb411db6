package deploy

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/config"
)

// sigterm is the cause main cancels the run's context with on SIGTERM.
var sigterm = errors.New("received SIGTERM")

// TestDeployLockWaitStoppedNamesCause: a deploy waits for the deploy lock that another deploy holds, and
// is stopped by SIGTERM (its context cancelled with that cause, as main does). Its result read "context
// canceled"; it now says what it was waiting for and names the signal. The run ended failed (exit 143);
// nothing had changed, so it now ends blocked (exit 3) and says that nothing was applied.
func TestDeployLockWaitStoppedNamesCause(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	// Holds the first deploy (and so the deploy lock) while the test's session named hold-first is there.
	hold := tg.holdLocks(t, "SELECT 1", "hold-first")
	files := with(goodMigrations, map[string]string{
		"2_backfill.up.sql": "DO $$ BEGIN WHILE EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'hold-first') LOOP PERFORM pg_sleep(0.01); PERFORM pg_stat_clear_snapshot(); END LOOP; END $$;\n" +
			goodMigrations["2_backfill.up.sql"],
	})
	first := tg.options(t, folder(t, files), "run-first")
	first.Holder = "alice"
	started := make(chan struct{})
	var once sync.Once
	progress := first.Progress
	first.Progress = func(msg string) {
		progress(msg)
		if strings.HasPrefix(msg, "applying 2/") {
			once.Do(func() { close(started) })
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := Run(t.Context(), first)
		done <- err
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("the first deploy ended before migration 2: %v", err)
	}

	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	second := tg.options(t, folder(t, files), "run-second")
	second.Config.LockWait = time.Hour
	second.Progress = func(msg string) {
		t.Log(msg)
		if strings.HasPrefix(msg, "waiting for the deploy lock held by alice") {
			cancel(sigterm)
		}
	}
	res, err := Run(ctx, second)
	hold()
	if ferr := <-done; ferr != nil {
		t.Errorf("first deploy: %v", ferr)
	}
	if err == nil || !errors.Is(err, context.Canceled) || !errors.Is(err, sigterm) {
		t.Fatalf("second deploy: err %v; want it stopped", err)
	}
	wantNotStarted(t, res, err)
	if !strings.Contains(res.Reason, "stopped while waiting for the deploy lock: received SIGTERM") || strings.Contains(res.Reason, "context canceled") {
		t.Errorf("reason %q; want it to say it was stopped waiting for the deploy lock by SIGTERM", res.Reason)
	}
	if res.Lock == nil || !strings.Contains(res.Lock.WaitedFor, "alice") {
		t.Errorf("lock %+v; want it to name the deploy it waited for", res.Lock)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM schemagate.schemagate_runs WHERE run_id = 'run-second'"); got != "0" {
		t.Error("the stopped deploy recorded a run")
	}
}

// wantNotStarted checks that a deploy a signal stopped while it waited to start (for its window, for the
// deploy lock) ends blocked, saying that nothing was applied, and not failed: its exit code is then
// blocked's (3), "nothing changed", rather than a failed deploy's (1, 143 after SIGTERM), which would
// send an operator looking for damage that is not there.
func wantNotStarted(t *testing.T, res *Result, err error) {
	t.Helper()
	var b *Blocked
	if !errors.As(err, &b) || res.Outcome != OutcomeBlocked || res.OK {
		t.Errorf("err %T %v, outcome %s; want blocked", err, err, res.Outcome)
	}
	if !strings.Contains(res.Reason, "nothing was applied") {
		t.Errorf("reason %q; want it to say that nothing was applied", res.Reason)
	}
}

// stopClock is a fake clock whose waits are cut short by a signal: After sends the signal (stop) and
// never fires.
type stopClock struct {
	fakeClock
	stop func()
}

func (c *stopClock) After(time.Duration) <-chan time.Time {
	c.stop()
	return make(chan time.Time)
}

// TestDeployWindowWaitStoppedNamesCause: a deploy waits for its maintenance window (outside_window: wait)
// and is stopped by SIGTERM. Its result read "context canceled"; it now says what it was waiting for and
// names the signal, and nothing changed. It ended failed (exit 143); it now ends blocked (exit 3) and says
// that nothing was applied.
func TestDeployWindowWaitStoppedNamesCause(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	before := tg.checksums(t)
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	o := tg.options(t, folder(t, goodMigrations), "run-wait")
	o.Config.Windows = []config.Window{{Cron: "0 3 * * *", Duration: time.Hour}}
	o.Config.OutsideWindow, o.Config.MaxWait = "wait", 2*time.Hour
	o.Clock = &stopClock{fakeClock: fakeClock{now: time.Date(2026, 5, 5, 2, 0, 0, 0, time.UTC)}, stop: func() { cancel(sigterm) }}
	res, err := Run(ctx, o)
	if err == nil || !errors.Is(err, context.Canceled) || !errors.Is(err, sigterm) {
		t.Fatalf("err %v; want it stopped", err)
	}
	wantNotStarted(t, res, err)
	if !strings.Contains(res.Reason, "stopped while waiting for the maintenance window: received SIGTERM") || strings.Contains(res.Reason, "context canceled") {
		t.Errorf("reason %q; want it to say it was stopped waiting for the window by SIGTERM", res.Reason)
	}
	if res.Window == nil || res.Window.Open || res.Window.Next == nil {
		t.Errorf("window %+v", res.Window)
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("the database changed:\n%s\n---\n%s", before, after)
	}
}
