package deploy

import (
	"context"
	"errors"
	"io"
	"net"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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

// TestDeploySetupStoppedIsBlocked: a deploy holds the deploy lock and is stopped by SIGTERM while it sets
// up, before it has changed anything: while it creates the history tables (here waiting for another
// session that creates the same schema), while it writes the lock row (waiting for another session's
// uncommitted row), or while it opens its work connection (which a proxy holds). It ended failed (exit 1,
// 143 after SIGTERM); it now ends blocked (exit 3), says that nothing was changed, and releases the lock.
func TestDeploySetupStoppedIsBlocked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// setup makes the step wait; it returns the URL the deploy uses and a channel that is closed once
		// the deploy waits in the step.
		setup func(t *testing.T, tg *target) (url string, waiting <-chan struct{})
		want  string
		// created: the deploy created the history tables before the signal, and the reason says so.
		created bool
	}{
		{
			name: "history creation",
			setup: func(t *testing.T, tg *target) (string, <-chan struct{}) {
				tg.holdLocks(t, "CREATE SCHEMA schemagate", "hold-schema")
				return tg.url, tg.lockWaiting(t, "schemagate deploy lock")
			},
			want: "stopped while setting up the history tables",
		},
		{
			name: "lock row",
			setup: func(t *testing.T, tg *target) (string, <-chan struct{}) {
				if _, err := (history{schema: "schemagate"}).ensure(t.Context(), tg.conn); err != nil {
					t.Fatal(err)
				}
				tg.holdLocks(t, "INSERT INTO schemagate.schemagate_lock (id, holder) VALUES (1, 'someone')", "hold-lock-row")
				return tg.url, tg.lockWaiting(t, "schemagate deploy lock")
			},
			want: "stopped while writing the deploy lock row",
		},
		{
			name: "work connection",
			setup: func(t *testing.T, tg *target) (string, <-chan struct{}) {
				return stallSecondConnection(t, tg.url)
			},
			want:    "stopped while opening the work connection",
			created: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			before := tg.checksums(t)
			url, waiting := tt.setup(t, tg)
			// The deadline only keeps a deploy that the signal does not stop from hanging the test.
			bound, stop := context.WithTimeout(t.Context(), time.Minute)
			defer stop()
			ctx, cancel := context.WithCancelCause(bound)
			defer cancel(nil)
			go func() {
				select {
				case <-waiting:
					cancel(sigterm)
				case <-ctx.Done():
				}
			}()
			o := tg.options(t, folder(t, goodMigrations), "run-setup")
			o.URL = url
			o.Config.LockTimeout = time.Hour // the signal, not lock_timeout, ends the wait
			res, err := Run(ctx, o)
			if bound.Err() != nil {
				t.Fatalf("the deploy was not stopped by the signal: err %v", err)
			}
			if err == nil || !errors.Is(err, context.Canceled) || !errors.Is(err, sigterm) {
				t.Fatalf("err %v; want it stopped", err)
			}
			wantNotStarted(t, res, err)
			if !strings.Contains(res.Reason, tt.want+", after taking the deploy lock: received SIGTERM") || !strings.Contains(res.Reason, "nothing was changed") {
				t.Errorf("reason %q; want it to say %q, the signal, and that nothing was changed", res.Reason, tt.want)
			}
			if got := strings.Contains(res.Reason, "history tables in schema schemagate, which it created"); got != tt.created {
				t.Errorf("reason %q: says it created the history tables: %v, want %v", res.Reason, got, tt.created)
			}
			// A connection the signal cut leaves the server when its backend notices (soon, not at once):
			// the lock goes with it.
			tg.eventually(t, "the deploy lock released and the deploy's connections gone",
				`SELECT NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))
				   AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'schemagate deploy%')`)
			if tg.value(t, "SELECT (to_regclass('schemagate.schemagate_runs') IS NOT NULL)::text") == "true" {
				if got := tg.value(t, "SELECT count(*)::text FROM schemagate.schemagate_runs"); got != "0" {
					t.Error("the stopped deploy recorded a run")
				}
				if got := tg.value(t, "SELECT count(*)::text FROM schemagate.schemagate_lock WHERE holder = 'tester'"); got != "0" {
					t.Error("the stopped deploy left its lock row")
				}
			}
			if after := tg.checksums(t); after != before {
				t.Errorf("the database changed:\n%s\n---\n%s", before, after)
			}
		})
	}
}

// eventually fails the test unless the query (a boolean) turns true within a minute.
func (tg *target) eventually(t *testing.T, what, query string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if tg.value(t, "SELECT ("+query+")::text") == "true" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %s; still not after a minute", what)
		}
	}
}

// lockWaiting returns a channel that is closed once a session named app waits for a lock.
func (tg *target) lockWaiting(t *testing.T, app string) <-chan struct{} {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), tg.url)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{})
	go func() {
		defer conn.Close(context.Background())
		for t.Context().Err() == nil {
			var n int
			if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", app).Scan(&n); err != nil {
				return
			}
			if n > 0 {
				close(ch)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return ch
}

// stallSecondConnection returns the URL of a proxy (a Unix socket) in front of the server of url that
// passes the first connection through and holds the second, without answering, until the test ends;
// waiting is closed when the second arrives. The deploy's first connection is the deploy lock's, its
// second its work connection.
func stallSecondConnection(t *testing.T, url string) (proxyURL string, waiting <-chan struct{}) {
	t.Helper()
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	host, port := q.Get("host"), q.Get("port")
	if !strings.HasPrefix(host, "/") {
		t.Fatalf("the test server's URL %s is not a Unix socket's", url)
	}
	if port == "" {
		port = "5432"
	}
	dir, err := os.MkdirTemp("", "sgproxy")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ln, err := net.Listen("unix", filepath.Join(dir, ".s.PGSQL."+port))
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	ch := make(chan struct{})
	go func() {
		for n := 1; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
			if n == 2 {
				close(ch)
				continue
			}
			s, err := net.Dial("unix", filepath.Join(host, ".s.PGSQL."+port))
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			held = append(held, s)
			mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
		}
	}()
	q.Set("host", dir)
	u.RawQuery = q.Encode()
	return u.String(), ch
}
