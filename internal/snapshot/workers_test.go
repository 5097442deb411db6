package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// bigDatabase is a database whose table big takes pg_dump's worker seconds to dump, and its name.
func bigDatabase(t *testing.T) (string, *pgx.Conn, string) {
	t.Helper()
	url, c := database(t)
	mustExec(t, c, "CREATE TABLE big AS SELECT g AS id, md5(g::text) AS a, md5((g * 7)::text) AS b FROM generate_series(1, 1000000) g")
	var db string
	if err := c.QueryRow(t.Context(), "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	return url, c, db
}

// procParent returns the name and parent pid of process pid ("" when it is gone).
func procParent(pid int) (string, int) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return "", 0
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", 0
	}
	f := strings.Fields(s[end+1:]) // state, ppid, ...
	if len(f) < 2 || f[0] == "Z" {
		return "", 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return s[open+1 : end], ppid
}

// dumpWorkers returns the pids of pg_dump's parallel workers dumping database db: the pg_dump processes
// a pg_dump forked, whose command line (the leader's) names db.
func dumpWorkers(t *testing.T, db string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		name, ppid := procParent(pid)
		if parent, _ := procParent(ppid); name != "pg_dump" || parent != "pg_dump" {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.Contains(string(cmdline), db) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// stopWorkersMidCopy waits until a pg_dump worker copies table big of database db and stops (SIGSTOP)
// every worker of that dump: a worker that takes for ever over its table, as one dumping a table of
// hundreds of gigabytes takes hours. The test's cleanup kills them, whatever happens.
func stopWorkersMidCopy(t *testing.T, c *pgx.Conn, db string) []int {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute) // a guard against a dump that never starts, not a timed assertion
	for {
		var copying bool
		if err := c.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = $1
			AND application_name = 'pg_dump' AND state = 'active' AND query LIKE 'COPY public.big %')`, db).Scan(&copying); err != nil {
			t.Fatal(err)
		}
		if copying {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no pg_dump worker copied table big")
		}
		time.Sleep(10 * time.Millisecond)
	}
	pids := dumpWorkers(t, db)
	t.Cleanup(func() {
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if len(pids) != 2 {
		t.Fatalf("found pg_dump workers %v, want the 2 of -j 2", pids)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
	}
	return pids
}

// waitWorkersGone waits until the workers' processes and their sessions are gone, and fails the test
// when they are still there after a generous bound: they live on.
func waitWorkersGone(t *testing.T, c *pgx.Conn, db string, pids []int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, pid := range pids {
		for name, _ := procParent(pid); name != "" && time.Now().Before(deadline); name, _ = procParent(pid) {
			time.Sleep(20 * time.Millisecond)
		}
		if name, _ := procParent(pid); name != "" {
			t.Errorf("pg_dump worker %d runs on", pid)
		}
	}
	for {
		var n int
		if err := c.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pg_dump'`, db).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d sessions of pg_dump are still on the server", n)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPGDumpCancelEndsItsWorkers: the deploy gets a signal (its context ends) while pg_dump's parallel
// workers dump a big table. Only the pg_dump leader was killed; a worker carried on with its table
// (minutes on a real database), holding its snapshot and locks, and Snapshot waited for it to close
// the output pipe, maintenance mode on. The whole process group now ends at once, the workers'
// sessions leave the server, and Snapshot fails leaving no folder. The workers are stopped (SIGSTOP)
// mid-copy: a worker that would never finish its table, with which the old code never returned.
func TestPGDumpCancelEndsItsWorkers(t *testing.T) {
	t.Parallel()
	url, c, db := bigDatabase(t)
	dir := t.TempDir()
	p := &PGDump{URL: url, Dir: dir, Jobs: 2}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, _, err := p.Snapshot(ctx, "cancelled")
		done <- err
	}()
	pids := stopWorkersMidCopy(t, c, db)
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the cancelled snapshot succeeded")
		}
	case <-time.After(2 * time.Minute): // a guard against the old behaviour hanging the test, not a timed assertion
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL) // lets Snapshot return
		}
		<-done
		t.Fatal("Snapshot did not return after its context ended: it waited for pg_dump's workers")
	}
	waitWorkersGone(t, c, db, pids)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the cancelled snapshot left %v in %s", entries, dir)
	}
}

// TestPGDumpWorkersDieWithSchemagate: schemagate (the test binary run again, see takeAndWait) is killed
// with SIGKILL, which it cannot catch, while pg_dump's workers dump a big table. pg_dump itself got its
// parent-death signal, but its workers, which it forked, are not schemagate's children: they ran on
// until they had dumped their table. The guard of pg_dump's process group now kills them with it.
func TestPGDumpWorkersDieWithSchemagate(t *testing.T) {
	t.Parallel()
	url, c, db := bigDatabase(t)
	dir := t.TempDir()
	// In the test's process group, as schemagate is in its CI job's: a process group of its own would be
	// orphaned by its death, and the kernel would hang up the stopped workers in it.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killedSnapshotEnv+"="+url+"|"+dir+"|killed")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	pids := stopWorkersMidCopy(t, c, db)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitWorkersGone(t, c, db, pids)
}

// TestPGDumpRestoreBrokenPartWay: the server ends the restore's session (pg_terminate_backend) while it
// copies a big table. The hint said that the restore "may have gone through" if the connection broke
// during the final COMMIT, and proposed pg_restore --clean by hand, which is neither one transaction nor
// the deploy's clear: a failure part way would leave the database half cleared. It now says that
// nothing was changed (the COMMIT had not been sent), and gives the command that restores as the deploy
// does; that command, run here, brings the snapshot back.
func TestPGDumpRestoreBrokenPartWay(t *testing.T) {
	t.Parallel()
	url, c, db := bigDatabase(t)
	ctx := t.Context()
	p := &PGDump{URL: url, Dir: t.TempDir(), ExcludeSchemas: []string{"schemagate"}}
	info, restore, err := p.Snapshot(ctx, "broken")
	if err != nil {
		t.Fatal(err)
	}
	snapped := fingerprint(t, c)
	mustExec(t, c, "DELETE FROM big WHERE id <= 10; CREATE TABLE later (x int)")
	changed := fingerprint(t, c)

	done := make(chan error, 1)
	go func() { done <- restore(ctx) }()
	for {
		var pid int
		err := c.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'schemagate restore'
			AND state = 'active' AND query LIKE 'COPY public.big %'`, db).Scan(&pid)
		if err == nil {
			mustExec(t, c, "SELECT pg_terminate_backend("+strconv.Itoa(pid)+")")
			break
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			t.Fatalf("the restore ended (%v) before it copied table big", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	err = <-done
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("restore broken part way: %v, want a snapshot error", err)
	}
	if !strings.HasPrefix(se.Hint, "nothing was changed") || strings.Contains(se.Hint, "may have gone through") || strings.Contains(se.Hint, "--clean") {
		t.Errorf("hint %q; want that nothing was changed, and no pg_restore --clean", se.Hint)
	}
	if got := fingerprint(t, c); got != changed {
		t.Errorf("the broken restore changed the database:\n--- before\n%s\n--- after\n%s", changed, got)
	}

	// The command the hint gives, run as a person would, with the database's URL.
	sql, list, dump := filepath.Join(info.Location, "restore.sql"), filepath.Join(info.Location, "restore.list"), filepath.Join(info.Location, "dump")
	cmd := fmt.Sprintf("(cat %s; pg_restore --single-transaction -L %s -f - %s) | psql -X -v ON_ERROR_STOP=1 -d <url>", sql, list, dump)
	if !strings.Contains(se.Hint, cmd) {
		t.Fatalf("hint %q lacks %q", se.Hint, cmd)
	}
	script := "set -o pipefail 2>/dev/null; " + strings.ReplaceAll(cmd, "<url>", "'"+url+"'")
	if out, err := exec.CommandContext(ctx, "bash", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	if got := fingerprint(t, c); got != snapped {
		t.Errorf("the hint's command did not restore the snapshot:\n--- snapshot\n%s\n--- after\n%s", snapped, got)
	}
}

// TestCommitSent: the restore may have committed only when the last statement psql sent is the final
// COMMIT.
func TestCommitSent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, echo string
		want       bool
	}{
		{"final commit", "BEGIN;\nCOPY public.big (id, a, b) FROM stdin;\nCOMMIT;\n", true},
		{"copy under way", "BEGIN;\nCOPY public.big (id, a, b) FROM stdin;\n", false},
		{"commit inside a procedure", "CREATE PROCEDURE p() LANGUAGE plpgsql AS $$\nBEGIN\nCOMMIT;\nEND $$;\n", false},
		{"nothing sent", "", false},
	} {
		if got := commitSent(tc.echo); got != tc.want {
			t.Errorf("%s: commitSent = %v, want %v", tc.name, got, tc.want)
		}
	}
}
