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
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/snapshot"
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

// lockWaiting returns a channel that is closed once a session named app of the target's database waits
// for a lock (the deploys of other tests, in their own databases, have the same names).
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
			if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock' AND datname = current_database()", app).Scan(&n); err != nil {
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

// stallApproval is an approval check that waits until the deploy is stopped; waiting is closed once it
// waits.
type stallApproval struct{ waiting chan struct{} }

func (a stallApproval) Check(ctx context.Context, _ []*migrate.Migration) error {
	close(a.waiting)
	<-ctx.Done()
	return ctx.Err()
}

// TestDeployStoppedBeforeChangesIsBlocked: a deploy holds the deploy lock, has set up, and is stopped by
// SIGTERM before its first change: while it reads history (its unfinished runs, its applied migrations,
// the folder's tool's history to import; each waiting for a lock the test holds), checks the approval
// (a check that waits), records its run, turns maintenance mode on, takes the snapshot or the baseline
// (each waiting for a lock the test holds), or once these are done, before the first migration starts.
// It ended failed (exit 1, 143 after SIGTERM; or rolled back, with nothing to roll back), or blocked with a
// reason that blamed the step ("approval does not cover these migrations: context canceled"); it now ends
// blocked (exit 3), says where the signal stopped it, that nothing was applied, and what it did
// meanwhile (its own records, maintenance mode on and off again, the snapshot), releases the lock and
// leaves maintenance mode off.
func TestDeployStoppedBeforeChangesIsBlocked(t *testing.T) {
	t.Parallel()
	later := with(goodMigrations, map[string]string{"5_later.up.sql": "CREATE TABLE later (id int);", "5_later.down.sql": "DROP TABLE later;"})
	tests := []struct {
		name string
		// first deploys goodMigrations before the run, which then has 5_later to deploy; sql runs before.
		first bool
		sql   string
		// setup makes the step wait; it returns a channel that is closed once the deploy waits in the
		// step, what to do once the signal is sent (nil: nothing), and what to release once the deploy
		// has ended (nil: nothing), before the database is compared with what it was.
		setup func(t *testing.T, tg *target, o *Options) (waiting <-chan struct{}, signalled, release func())
		want  string
		// did are what the reason must say the run did, and didNot what it must not claim.
		did, didNot []string
		// run: the run's row is recorded (as blocked).
		run bool
	}{
		{
			name:  "unfinished runs",
			first: true,
			setup: func(t *testing.T, tg *target, o *Options) (<-chan struct{}, func(), func()) {
				release := tg.holdLocks(t, "LOCK TABLE schemagate.schemagate_runs IN ACCESS EXCLUSIVE MODE", "hold-runs")
				return tg.lockWaiting(t, "schemagate deploy"), nil, release
			},
			want:   "stopped while reading unfinished runs from history",
			didNot: []string{"schemagate's own records", "maintenance", "snapshot"},
		},
		{
			name:  "history",
			first: true,
			setup: func(t *testing.T, tg *target, o *Options) (<-chan struct{}, func(), func()) {
				release := tg.holdLocks(t, "LOCK TABLE schemagate.schemagate_history IN ACCESS EXCLUSIVE MODE", "hold-history")
				return tg.lockWaiting(t, "schemagate deploy"), nil, release
			},
			want:   "stopped while reading history",
			didNot: []string{"schemagate's own records", "maintenance", "snapshot"},
		},
		{
			name: "history to import",
			sql:  golangMigrateTable + " INSERT INTO schema_migrations VALUES (1, false);",
			setup: func(t *testing.T, tg *target, o *Options) (<-chan struct{}, func(), func()) {
				release := tg.holdLocks(t, "LOCK TABLE public.schema_migrations IN ACCESS EXCLUSIVE MODE", "hold-import")
				return tg.lockWaiting(t, "schemagate deploy"), nil, release
			},
			want:   "stopped while reading the history of the folder's tool",
			did:    []string{"its history tables in schema schemagate, which it created (empty)"},
			didNot: []string{"imported", "this run's row", "maintenance", "snapshot"},
		},
		{
			name: "approval",
			setup: func(t *testing.T, tg *target, o *Options) (<-chan struct{}, func(), func()) {
				waiting := make(chan struct{})
				o.Config.RequireApproval, o.Approval = true, stallApproval{waiting: waiting}
				return waiting, nil, nil
			},
			want:   "stopped while checking the approval",
			didNot: []string{"approval does not cover", "this run's row", "maintenance", "snapshot"},
		},
		{
			name:  "run record",
			first: true,
			setup: func(t *testing.T, tg *target, o *Options) (<-chan struct{}, func(), func()) {
				release := tg.holdLocks(t, "LOCK TABLE schemagate.schemagate_runs IN SHARE MODE", "hold-runs")
				return tg.lockWaiting(t, "schemagate deploy"), nil, release
			},
			want:   "stopped while recording the run",
			didNot: []string{"schemagate's own records", "maintenance", "snapshot"},
		},
		{
			name: "maintenance mode",
			setup: func(t *testing.T, tg *target, o *Options) (<-chan struct{}, func(), func()) {
				// The off action needs the row too: the test lets it go once the signal is sent.
				release := tg.holdLocks(t, "SELECT 1 FROM app_settings WHERE key = 'maintenance' FOR UPDATE", "hold-flag")
				return tg.lockWaiting(t, "schemagate maintenance"), release, nil
			},
			want:   "stopped while turning maintenance mode on",
			did:    []string{"this run's row in schemagate.schemagate_runs, which records it as blocked", "it was turning maintenance mode on, and turned it off again"},
			didNot: []string{"snapshot"},
			run:    true,
		},
		{
			name: "snapshot",
			setup: func(t *testing.T, tg *target, o *Options) (<-chan struct{}, func(), func()) {
				o.Config.Snapshot.BeforeMaintenance = true
				o.Snapshotter.(*snapshot.PGDump).LockWaitTimeout = time.Hour // the signal, not pg_dump's timeout, ends the wait
				release := tg.holdLocks(t, "LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE", "hold-accounts")
				return tg.lockWaiting(t, "pg_dump"), nil, release
			},
			want:   "stopped while taking the snapshot",
			did:    []string{"this run's row in schemagate.schemagate_runs, which records it as blocked"},
			didNot: []string{"maintenance", "took snapshot"},
			run:    true,
		},
		{
			name: "baseline",
			setup: func(t *testing.T, tg *target, o *Options) (<-chan struct{}, func(), func()) {
				o.Snapshotter = nil
				release := tg.holdLocks(t, "LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE", "hold-accounts")
				return tg.lockWaiting(t, "schemagate deploy"), nil, release
			},
			want:   "stopped while taking the snapshot and the baseline the verification compares with",
			did:    []string{"this run's row", "it turned maintenance mode on, and off again"},
			didNot: []string{"took snapshot"},
			run:    true,
		},
		{
			name: "before the first migration",
			setup: func(t *testing.T, tg *target, o *Options) (<-chan struct{}, func(), func()) {
				// Once the snapshot is taken (the baseline beside it done), the test holds up the run's
				// record of it, which the signal does not interrupt; the run goes on to the first migration.
				held := make(chan func(), 1)
				progress := o.Progress
				o.Progress = func(msg string) {
					progress(msg)
					if strings.HasPrefix(msg, "snapshot ") && strings.Contains(msg, " taken in ") {
						held <- tg.holdLocks(t, "LOCK TABLE schemagate.schemagate_runs IN SHARE MODE", "hold-runs")
					}
				}
				return tg.lockWaiting(t, "schemagate deploy"), func() { (<-held)() }, nil
			},
			want: "stopped while starting the first migration",
			did: []string{"this run's row in schemagate.schemagate_runs, which records it as blocked", "it turned maintenance mode on, and off again",
				"it took snapshot "},
			run: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			if tt.sql != "" {
				tg.exec(t, tt.sql)
			}
			files := goodMigrations
			if tt.first {
				if _, err := Run(t.Context(), tg.options(t, folder(t, goodMigrations), "run-0")); err != nil {
					t.Fatal(err)
				}
				files = later
			}
			history := ""
			if tt.first {
				history = tg.historyOf(t)
			}
			before := tg.checksums(t)
			o := tg.options(t, folder(t, files), "run-1")
			o.Config.LockTimeout = time.Hour // the signal, not lock_timeout, ends the waits
			waiting, signalled, release := tt.setup(t, tg, &o)
			// The deadline only keeps a deploy that the signal does not stop from hanging the test.
			bound, stop := context.WithTimeout(t.Context(), time.Minute)
			defer stop()
			ctx, cancel := context.WithCancelCause(bound)
			defer cancel(nil)
			go func() {
				select {
				case <-waiting:
					cancel(sigterm)
					if signalled != nil {
						signalled()
					}
				case <-ctx.Done():
				}
			}()
			res, err := Run(ctx, o)
			if release != nil {
				release()
			}
			if bound.Err() != nil {
				t.Fatalf("the deploy was not stopped by the signal: err %v", err)
			}
			if err == nil || !errors.Is(err, context.Canceled) || !errors.Is(err, sigterm) {
				t.Fatalf("err %v, outcome %s; want it stopped", err, res.Outcome)
			}
			t.Logf("reason: %s", res.Reason)
			wantNotStarted(t, res, err)
			if !strings.Contains(res.Reason, tt.want+", after taking the deploy lock: received SIGTERM") || !strings.Contains(res.Reason, "nothing was changed") {
				t.Errorf("reason %q; want it to say %q, the signal, and that nothing was changed", res.Reason, tt.want)
			}
			for _, s := range tt.did {
				if !strings.Contains(res.Reason, s) {
					t.Errorf("reason %q; want it to say %q", res.Reason, s)
				}
			}
			for _, s := range tt.didNot {
				if strings.Contains(res.Reason, s) {
					t.Errorf("reason %q; it says %q, which the run did not do", res.Reason, s)
				}
			}
			if res.Rollback != nil {
				t.Errorf("rollback %+v; want none, nothing was applied", res.Rollback)
			}
			for _, m := range res.Migrations {
				if m.Status != StatusPending {
					t.Errorf("migration %s %s; want it pending", m.Version, m.Status)
				}
			}
			tg.eventually(t, "the deploy lock released and the deploy's connections gone",
				`SELECT NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))
				   AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'schemagate deploy%')`)
			if got := tg.maintenance(t); got != "off" {
				t.Errorf("maintenance mode %s after the stopped run", got)
			}
			if got := tg.value(t, "SELECT count(*)::text FROM schemagate.schemagate_runs WHERE run_id = 'run-1' AND status = 'finished' AND outcome = 'blocked' AND NOT maintenance_on"); got != map[bool]string{true: "1", false: "0"}[tt.run] {
				t.Errorf("%s runs recorded as blocked; want the run recorded: %v", got, tt.run)
			}
			if got := tg.value(t, "SELECT count(*)::text FROM schemagate.schemagate_runs WHERE run_id = 'run-1' AND (status <> 'finished' OR outcome IS DISTINCT FROM 'blocked')"); got != "0" {
				t.Error("the stopped run is recorded as other than blocked")
			}
			if got := tg.value(t, "SELECT count(*)::text FROM schemagate.schemagate_lock WHERE run_id = 'run-1'"); got != "0" {
				t.Error("the stopped deploy left its lock row")
			}
			if got := tg.historyOf(t); got != history {
				t.Errorf("history %q, was %q", got, history)
			}
			if after := tg.checksums(t); after != before {
				t.Errorf("the database changed:\n%s\n---\n%s", before, after)
			}
		})
	}
}
