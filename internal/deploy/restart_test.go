package deploy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/snapshot"
)

// ownServer is a PostgreSQL server of the test's own (initdb and pg_ctl of the local binaries, on a
// Unix socket), which the test may stop and start: the shared server must not restart under other tests.
type ownServer struct {
	bin, data, sock, log string
	cred                 *syscall.Credential
	wg                   sync.WaitGroup
}

// newOwnServer starts an ownServer and returns it with the URL of its database postgres.
func newOwnServer(t *testing.T) (*ownServer, string) {
	t.Helper()
	out, err := exec.Command("pg_config", "--bindir").Output()
	if err != nil {
		t.Skipf("no pg_config: %v", err)
	}
	s := &ownServer{bin: strings.TrimSpace(string(out))}
	dir, err := os.MkdirTemp("", "sgrestart")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s.data, s.sock, s.log = filepath.Join(dir, "data"), dir, filepath.Join(dir, "log")
	if os.Geteuid() == 0 { // the server runs as postgres, never as root
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root without a postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	s.run(t, "initdb", "-D", s.data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
	if err := s.pgctl("start"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.wg.Wait()
		_ = s.command("pg_ctl", "-D", s.data, "-m", "immediate", "-w", "stop").Run()
	})
	return s, fmt.Sprintf("postgres://postgres@/postgres?host=%s&port=5499", s.sock)
}

func (s *ownServer) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.sock
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

func (s *ownServer) run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := s.command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// pgctl runs pg_ctl action (start, stop) and waits for it.
func (s *ownServer) pgctl(action string) error {
	out, err := s.command("pg_ctl", "-D", s.data, "-l", s.log, "-m", "fast", "-w", "-o",
		"-k "+s.sock+" -p 5499 -c listen_addresses='' -c fsync=off -c max_connections=40", action).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %v\n%s", action, err, out)
	}
	return nil
}

// restart stops the server (pg_ctl stop -m fast, as a restart does: every session ends, 57P01) and starts
// it again after down, in the background: meanwhile connections fail (the server is shutting down, then
// not there).
func (s *ownServer) restart(t *testing.T, down time.Duration) {
	t.Helper()
	if err := s.pgctl("stop"); err != nil {
		t.Error(err)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		time.Sleep(down)
		if err := s.pgctl("start"); err != nil {
			t.Error(err)
		}
	}()
}

// restartingSnapshot is a snapshotter whose snapshot fails as pg_dump does when the server restarts under
// it.
type restartingSnapshot struct {
	snapshot.Snapshotter
	restart func()
}

func (r *restartingSnapshot) Snapshot(ctx context.Context, runID string) (*snapshot.Info, snapshot.RestoreFunc, error) {
	r.restart()
	return nil, nil, errors.New(`pg_dump: error: query failed: FATAL:  terminating connection due to administrator command`)
}

// reconnectTarget gives tg a new connection, after a restart ended its own.
func reconnectTarget(t *testing.T, tg *target) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		conn, err := pgx.Connect(t.Context(), tg.url)
		if err == nil {
			tg.conn.Close(context.Background())
			tg.conn = conn
			t.Cleanup(func() { conn.Close(context.Background()) })
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("connect after the restart: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestDeploySurvivesRestartOutsideMigrations: the server restarts during a step after the deploy lock
// that is not a migration. Only the migration step connected again; the others ran on the connection the
// restart ended, or connected once while the server was down: the snapshot that failed under a restart
// left maintenance mode on, the run recorded as running and the lock row there (exit 1, "the end of this
// run could not be recorded"), and the next deploy took the run for one that died; a restart during a
// down left the run NOT ROLLED BACK. Each step now connects again, as the migration step does, and the
// run ends as it would have without the restart.
func TestDeploySurvivesRestartOutsideMigrations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		// during, when set, restarts the server once the deploy is under way (srv), rather than the
		// snapshot doing so.
		during  bool
		outcome string
	}{
		{name: "snapshot", files: goodMigrations, outcome: OutcomeBlocked},
		{name: "down", during: true, outcome: OutcomeRolledBack, files: with(goodMigrations, map[string]string{
			// The down sleeps only on the server as it was before the restart.
			"1_customers.down.sql": "SELECT pg_sleep(60) FROM started WHERE at = pg_postmaster_start_time();\nALTER TABLE accounts DROP COLUMN customer_id;\nDROP TABLE customers;",
			"2_backfill.up.sql":    "INSERT INTO customers VALUES (1, NULL);",
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, tg, o := restartTarget(t, tc.files)
			if !tc.during {
				o.Snapshotter = &restartingSnapshot{Snapshotter: o.Snapshotter, restart: func() { srv.restart(t, 3*time.Second) }}
			}
			done := runAsync(t.Context(), o)
			if tc.during {
				waitForSleep(t, tg.url)
				srv.restart(t, 3*time.Second)
			}
			out := <-done
			res := out.res
			if res.Outcome != tc.outcome {
				t.Errorf("outcome %s (%v), reason %q, notes %q; want %s", res.Outcome, out.err, res.Reason, res.Notes, tc.outcome)
			}
			for _, n := range res.Notes {
				if strings.Contains(n, "could not be recorded") || strings.Contains(n, "maintenance mode") {
					t.Errorf("note: %s", n)
				}
			}
			reconnectTarget(t, tg)
			if got := tg.maintenance(t); got != "off" {
				t.Errorf("maintenance mode %s after the run", got)
			}
			if got := tg.value(t, "SELECT status || ' ' || maintenance_on FROM schemagate.schemagate_runs WHERE run_id = 'run-restart'"); strings.HasPrefix(got, "running") || strings.HasSuffix(got, "true") {
				t.Errorf("run recorded as %q", got)
			}
			if got := tg.value(t, "SELECT count(*)::text FROM schemagate.schemagate_lock"); got != "0" {
				t.Errorf("the lock row is left: %s", tg.value(t, "SELECT row_to_json(l)::text FROM schemagate.schemagate_lock l"))
			}
			if tc.during {
				if got := tg.value(t, "SELECT count(*)::text FROM schemagate.schemagate_history WHERE status IN ('applied', 'running')"); got != "0" {
					t.Errorf("%s history rows still applied or running: %s", got, tg.historyOf(t))
				}
			}
		})
	}
}

// TestDeployRestartDuringMigrationSaysWhyNoRestore: the server restarts while migration 2 runs, with the
// default pg_dump snapshot. The restart ends the session whose exported snapshot marked the moment of
// the snapshot, so the write check failed ("read the snapshot's view: ERROR: invalid snapshot
// identifier") and the run ended NOT ROLLED BACK with the hint "nothing was lost: the database was left as
// it is, with the other sessions' writes", though no other session wrote. Deletes leave no row version
// to find once that view is gone: the restore stays refused, but says why (the server restarted).
// Downs lose no delete (they drop or empty what they undo), and inserts and updates are still found by
// their xmin: downs that destroy data run after a restart, exit 3.
func TestDeployRestartDuringMigrationSaysWhyNoRestore(t *testing.T) {
	t.Parallel()
	slow := "SELECT pg_sleep(60) FROM started WHERE at = pg_postmaster_start_time();\nINSERT INTO customers SELECT id, 'x' FROM accounts;"
	tests := []struct {
		name    string
		files   map[string]string
		outcome string
		want    string // in the hint
	}{
		{name: "by snapshot", files: with(goodMigrations, map[string]string{"1_customers.down.sql": "", "2_backfill.up.sql": slow}),
			outcome: OutcomeFailed, want: "the server restarted"},
		{name: "by downs", files: with(goodMigrations, map[string]string{"2_backfill.up.sql": slow}), outcome: OutcomeRolledBack},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, tg, o := restartTarget(t, tc.files)
			done := runAsync(t.Context(), o)
			waitForSleep(t, tg.url)
			srv.restart(t, 3*time.Second)
			out := <-done
			res := out.res
			all := res.Reason + " | " + res.Hint + " | " + strings.Join(res.Notes, " | ")
			if res.Outcome != tc.outcome {
				t.Errorf("outcome %s (%v); want %s: %s", res.Outcome, out.err, tc.outcome, all)
			}
			if strings.Contains(all, "other sessions' writes and") || strings.Contains(all, "invalid snapshot identifier") {
				t.Errorf("the result speaks of other sessions' writes, which there were none of, or of the snapshot identifier: %s", all)
			}
			if !strings.Contains(all, tc.want) {
				t.Errorf("the result does not say %q: %s", tc.want, all)
			}
		})
	}
}

// restartTarget is a target on a server of the test's own, which it may restart, holding table started
// (the server's start time, for scripts that act only before a restart), and the options of a deploy of
// files to it.
func restartTarget(t *testing.T, files map[string]string) (*ownServer, *target, Options) {
	srv, url := newOwnServer(t)
	tg := newTargetAt(t, url)
	tg.exec(t, "CREATE TABLE started AS SELECT pg_postmaster_start_time() AS at")
	return srv, tg, tg.options(t, folder(t, files), "run-restart")
}

// restartAfterSnapshot is a snapshotter that takes its snapshot, then, once the deploy's sessions are
// idle (the baseline, taken beside the snapshot, is done), restarts the server before the deploy records
// the snapshot.
type restartAfterSnapshot struct {
	snapshot.Snapshotter
	url     string
	restart func()
}

func (r *restartAfterSnapshot) Snapshot(ctx context.Context, runID string) (*snapshot.Info, snapshot.RestoreFunc, error) {
	info, restore, err := r.Snapshotter.Snapshot(ctx, runID)
	if err != nil {
		return info, restore, err
	}
	conn, err := pgx.Connect(ctx, r.url)
	if err != nil {
		return nil, nil, err
	}
	for idle := 0; idle < 3; {
		var active int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = 'schemagate deploy' AND state = 'active'`).Scan(&active); err != nil {
			conn.Close(context.Background())
			return nil, nil, err
		}
		if active > 0 {
			idle = 0
		} else {
			idle++
		}
		time.Sleep(100 * time.Millisecond)
	}
	conn.Close(context.Background())
	r.restart()
	return info, restore, nil
}

// TestDeployRestartAfterSnapshotBeforeItIsRecorded: the server restarts once the snapshot is taken and
// before the run's row records it (or, with the snapshot before maintenance mode, records maintenance
// mode on). Recording it ran on the connection the restart ended: the run ended failed, with no hint,
// though nothing had changed. It now connects again, as the other steps after the lock do, records the
// snapshot and deploys.
func TestDeployRestartAfterSnapshotBeforeItIsRecorded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		before bool // snapshot.before_maintenance
	}{
		{name: "maintenance first"},
		{name: "snapshot first", before: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, tg, o := restartTarget(t, goodMigrations)
			o.Config.Snapshot.BeforeMaintenance = tc.before
			o.Snapshotter = &restartAfterSnapshot{Snapshotter: o.Snapshotter, url: tg.url, restart: func() { srv.restart(t, 3*time.Second) }}
			out := <-runAsync(t.Context(), o)
			res := out.res
			if res.Outcome != OutcomeDeployed {
				t.Errorf("outcome %s (%v), reason %q, hint %q, notes %q; want %s", res.Outcome, out.err, res.Reason, res.Hint, res.Notes, OutcomeDeployed)
			}
			reconnectTarget(t, tg)
			if got := tg.maintenance(t); got != "off" {
				t.Errorf("maintenance mode %s after the run", got)
			}
			if got := tg.value(t, "SELECT status || ' ' || (snapshot IS NOT NULL) FROM schemagate.schemagate_runs WHERE run_id = 'run-restart'"); got != "finished true" {
				t.Errorf("run recorded as %q, want finished, with its snapshot", got)
			}
			if got := tg.value(t, "SELECT count(*)::text FROM schemagate.schemagate_lock"); got != "0" {
				t.Errorf("the lock row is left: %s", tg.value(t, "SELECT row_to_json(l)::text FROM schemagate.schemagate_lock l"))
			}
			if got := tg.value(t, "SELECT count(*)::text FROM schemagate.schemagate_history WHERE status = 'applied'"); got != "4" {
				t.Errorf("history: %s", tg.historyOf(t))
			}
		})
	}
}
