package deploy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// maintenanceBlockers are an application's sessions holding a lock that the test setup's maintenance
// SQL (UPDATE app_settings ... WHERE key = 'maintenance') needs: on the table, or on the flag's row; want
// is how the deploy names it.
var maintenanceBlockers = []struct {
	name, sql, want string
}{
	{name: "table lock", sql: "LOCK TABLE app_settings IN EXCLUSIVE MODE", want: "public.app_settings is locked (ExclusiveLock) by pid"},
	{name: "row lock", sql: "SELECT 1 FROM app_settings WHERE key = 'maintenance' FOR UPDATE", want: "a row of public.app_settings is locked by pid"},
}

// boundedSwitch gives the options' maintenance switch a timeout shorter than the test's deadline, so that
// a wait that only the timeout ends shows as a failure of the test rather than its deadline.
func boundedSwitch(t *testing.T, o *Options) {
	t.Helper()
	sw, ok := o.Maintenance.(*Switch)
	if !ok {
		t.Fatalf("maintenance %T", o.Maintenance)
	}
	sw.Timeout = 10 * time.Second
}

// TestDeployMaintenanceOnLockWaitBounded: an application's session holds a lock the maintenance SQL needs
// when the deploy turns maintenance mode on. That used to wait until the action's timeout (30s) and fail
// with "context deadline exceeded", naming nothing, and then the off action waited as long for the same
// lock. The SQL now gives up after lock_timeout: the deploy is blocked before any change, naming the
// table and the session; maintenance mode did not go on, so nothing turns it off.
func TestDeployMaintenanceOnLockWaitBounded(t *testing.T) {
	t.Parallel()
	for _, tc := range maintenanceBlockers {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			before := tg.checksums(t)
			release := tg.holdLocks(t, tc.sql, "app-worker")
			o := tg.options(t, folder(t, goodMigrations), "run-1")
			o.Config.LockTimeout = time.Second
			boundedSwitch(t, &o)
			res, err := runBounded(t, o)
			release()
			var b *Blocked
			if !errors.As(err, &b) {
				t.Fatalf("err %v, outcome %s; want blocked", err, res.Outcome)
			}
			for _, want := range []string{"turn maintenance mode on", "lock_timeout", tc.want, "application app-worker", "nothing was changed"} {
				if !strings.Contains(b.Reason, want) {
					t.Errorf("reason %q does not name %q", b.Reason, want)
				}
			}
			if !strings.Contains(b.Hint, "public.app_settings") {
				t.Errorf("hint %q does not say which lock to end", b.Hint)
			}
			if after := tg.checksums(t); after != before {
				t.Errorf("the database changed:\n%s\n---\n%s", before, after)
			}
			if got := tg.historyOf(t); got != "" {
				t.Errorf("history %q", got)
			}
			if res.Snapshot != nil {
				t.Error("snapshot taken although maintenance mode did not go on")
			}
			// The off action did not run (it would have waited for the same lock and said maintenance
			// mode may still be on): the result's error is the on action's.
			if m := res.Maintenance; m == nil || m.On != nil || m.Off != nil || !strings.Contains(m.Error, "turn maintenance mode on") {
				t.Errorf("maintenance %+v", res.Maintenance)
			}
			for _, n := range res.Notes {
				if strings.Contains(n, "still on") {
					t.Errorf("note %q", n)
				}
			}
			if got := tg.value(t, "SELECT status || ' ' || maintenance_on FROM schemagate.schemagate_runs WHERE run_id = 'run-1'"); got != "finished false" {
				t.Errorf("run recorded as %q", got)
			}
		})
	}
}

// TestDeployMaintenanceOffLockWaitBounded: an application's session takes a lock the maintenance SQL needs
// while the migrations run. Turning maintenance mode off used to wait until the action's timeout and
// note that maintenance mode "may still be on" and that "the next deploy turns it off". It now gives up
// after lock_timeout; the result keeps the deploy (deployed, applied, verified) and says that maintenance
// mode is still on, which session holds the lock, and the SQL to run by hand; the next deploy turns it
// off.
func TestDeployMaintenanceOffLockWaitBounded(t *testing.T) {
	t.Parallel()
	const off = "UPDATE app_settings SET value = 'off' WHERE key = 'maintenance'"
	for _, tc := range maintenanceBlockers {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			o := tg.options(t, folder(t, goodMigrations), "run-1")
			o.Config.LockTimeout = time.Second
			boundedSwitch(t, &o)
			var release func()
			progress := o.Progress
			o.Progress = func(msg string) {
				progress(msg)
				if strings.HasPrefix(msg, "applying 1/") {
					release = tg.holdLocks(t, tc.sql, "app-worker")
				}
			}
			res, err := runBounded(t, o)
			if release == nil {
				t.Fatalf("the deploy never reached migration 1: %v", err)
			}
			release()
			if err != nil || res.Outcome != OutcomeDeployed || !res.OK {
				t.Fatalf("err %v, outcome %s; want deployed", err, res.Outcome)
			}
			if got, want := statuses(res), "1:applied 2:applied 3:applied 4:applied"; got != want {
				t.Errorf("statuses %q, want %q", got, want)
			}
			if len(res.Verify) == 0 || len(failedChecks(res.Verify)) > 0 {
				t.Errorf("verification %+v", res.Verify)
			}
			m := res.Maintenance
			if m == nil || m.On == nil || m.Off != nil {
				t.Fatalf("maintenance %+v; want on and not off", m)
			}
			for _, want := range []string{"turn maintenance mode off", "lock_timeout", tc.want, "application app-worker"} {
				if !strings.Contains(m.Error, want) {
					t.Errorf("maintenance error %q does not name %q", m.Error, want)
				}
			}
			var text strings.Builder
			if err := res.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"deployed 4 migrations", "Maintenance mode:", "still on: turn maintenance mode off", "maintenance mode is still on", "app-worker", "by hand: run on the database: " + off} {
				if !strings.Contains(text.String(), want) {
					t.Errorf("the text does not say %q:\n%s", want, text.String())
				}
			}
			if tg.maintenance(t) != "on" {
				t.Fatal("maintenance mode is off: the test proves nothing")
			}
			if got := tg.value(t, "SELECT status || ' ' || outcome || ' ' || maintenance_on FROM schemagate.schemagate_runs WHERE run_id = 'run-1'"); got != "finished deployed true" {
				t.Errorf("run recorded as %q", got)
			}

			// The next deploy has nothing to apply, and turns maintenance mode off.
			res, err = runBounded(t, tg.options(t, folder(t, goodMigrations), "run-2"))
			if err != nil || res.Outcome != OutcomeNothing {
				t.Fatalf("next deploy: %v, outcome %s", err, res.Outcome)
			}
			if tg.maintenance(t) != "off" {
				t.Error("the next deploy left maintenance mode on")
			}
		})
	}
}

// TestMaintenanceSQLShortLockTimeoutNamesHolder: the maintenance SQL gives up on a lock an application's
// session holds after a lock_timeout of 20ms. The holder used to be named only when a second connection
// caught the wait while it lasted, which it rarely does in 20ms: the error then named no one. It is now
// looked up once the timeout has ended the wait (on the table the failed statement needs, or the row
// the error names), so every try names it.
func TestMaintenanceSQLShortLockTimeoutNamesHolder(t *testing.T) {
	t.Parallel()
	for _, tc := range maintenanceBlockers {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.holdLocks(t, tc.sql, "app-worker")
			a := &SQLAction{URL: tg.url, LockTimeout: 20 * time.Millisecond,
				SQL: "SELECT 1; UPDATE app_settings SET value = 'on' WHERE key = 'maintenance'"}
			for try := 1; try <= 10; try++ {
				err := a.Run(t.Context())
				var lw *LockWaitError
				if !errors.As(err, &lw) {
					t.Fatalf("try %d: err %v; want a lock wait", try, err)
				}
				if len(lw.Holders) == 0 || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "application app-worker") {
					t.Fatalf("try %d: %q does not name the holder (%q, application app-worker)", try, err, tc.want)
				}
				if !strings.Contains(lw.Hint, "public.app_settings") {
					t.Errorf("try %d: hint %q does not say which lock to end", try, lw.Hint)
				}
			}
			if tg.maintenance(t) != "off" {
				t.Error("the maintenance SQL went through")
			}
		})
	}
}

// TestDeployMaintenanceCommandTimeoutStopsItsChildren: a maintenance command that starts a child (a
// sleep, a curl in a wrapper script) which keeps its output open. maintenance.timeout killed only sh,
// and the deploy waited for the child, holding the deploy lock (20 s and 77 s in tester A's F9), then
// said only "signal: killed". The command's process group is now stopped at the timeout, the deploy is
// blocked soon after, and the reason says that the command timed out after the timeout.
func TestDeployMaintenanceCommandTimeoutStopsItsChildren(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	dir := t.TempDir()
	o := tg.options(t, folder(t, goodMigrations), "run-slow-on")
	o.Maintenance = &Switch{
		OnAction:  &CommandAction{Command: "echo turning on; sleep 30 & echo $! > " + dir + "/child; sleep 30 | cat; echo done"},
		OffAction: &CommandAction{Command: "echo off > " + dir + "/off"},
		Timeout:   time.Second,
	}
	start := time.Now()
	res, err := runBounded(t, o)
	took := time.Since(start)
	var b *Blocked
	if !errors.As(err, &b) {
		t.Fatalf("err %v, outcome %s; want blocked", err, res.Outcome)
	}
	if took > 10*time.Second {
		t.Errorf("the deploy took %s; the action's timeout is 1s", took)
	}
	for _, want := range []string{"turn maintenance mode on", "maintenance command timed out after 1s", "its output: turning on", "nothing was changed"} {
		if !strings.Contains(b.Reason, want) {
			t.Errorf("reason %q does not say %q", b.Reason, want)
		}
	}
	if strings.Contains(b.Reason, "signal: killed") {
		t.Errorf("reason %q", b.Reason)
	}
	pid, err := os.ReadFile(filepath.Join(dir, "child"))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	fmt.Sscanf(string(pid), "%d", &n)
	if n <= 0 {
		t.Fatalf("child pid %q", pid)
	}
	// The child is gone (a zombie at most, until init reaps it).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n))
		if err != nil || strings.Contains(string(st), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the command's child %d still runs: %s", n, st)
			_ = syscall.Kill(n, syscall.SIGKILL)
			break
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "off")); err != nil {
		t.Errorf("the off action did not run: %v", err)
	}
}
