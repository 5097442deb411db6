package snapshot

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// killedSnapshotEnv, set, makes the test binary a deploy that takes a snapshot (of the database, into the
// folder, for the run the variable names, "url|dir|run") and is killed while at it (see TestMain).
const killedSnapshotEnv = "SCHEMAGATE_TEST_KILLED_SNAPSHOT"

// takeAndWait is the process TestPGDumpRemovesTheSnapshotOfAKilledRun kills: it takes a snapshot,
// which waits for a locked table.
func takeAndWait(spec string) {
	f := strings.SplitN(spec, "|", 3)
	p := &PGDump{URL: f[0], Dir: f[1], LockWaitTimeout: 10 * time.Minute}
	_, _, _ = p.Snapshot(context.Background(), f[2])
	os.Exit(0)
}

// TestPGDumpRemovesTheSnapshotOfAKilledRun: a deploy killed (SIGKILL, with its pg_dump) while taking its
// snapshot leaves a folder with a dump and no manifest. The retention skipped folders without a
// manifest, so every such deploy leaked a full-size dump. The snapshot of the next run of the same
// database now removes it, and says so; a folder it cannot tell the database of stays.
func TestPGDumpRemovesTheSnapshotOfAKilledRun(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	ctx := t.Context()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	mustExec(t, c, "CREATE TABLE busy (id int); INSERT INTO busy SELECT generate_series(1, 1000)")
	blocker, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close(context.Background())
	tx, err := blocker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, blocker, "LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown-20260101T000000Z") // whose, nothing says
	if err := os.MkdirAll(filepath.Join(unknown, "dump"), 0o700); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killedSnapshotEnv+"="+url+"|"+dir+"|killed")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var db string
	if err := c.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	for {
		var n int
		if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pg_dump' AND wait_event_type = 'Lock'`, db).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Killed with its pg_dump, as a CI runner kills a canceled job's process group.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var killed string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "killed-") {
			killed = filepath.Join(dir, e.Name())
		}
	}
	if killed == "" {
		t.Fatalf("the killed run left no folder in %s", dir)
	}
	if _, err := os.Stat(filepath.Join(killed, ManifestFile)); err == nil {
		t.Fatalf("the killed run's folder %s has a manifest", killed)
	}

	p := &PGDump{URL: url, Dir: dir, Keep: 1}
	info, _, err := p.Snapshot(ctx, "next")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(killed); !os.IsNotExist(err) {
		t.Errorf("the killed run's folder %s is still there (%v)", killed, err)
	}
	if _, err := os.Stat(unknown); err != nil {
		t.Errorf("a folder nothing says the database of went: %v", err)
	}
	if _, err := os.Stat(filepath.Join(info.Location, TakingFile)); !os.IsNotExist(err) {
		t.Errorf("the finished snapshot keeps its %s (%v)", TakingFile, err)
	}
	if !slices.ContainsFunc(p.RetentionNotes(), func(n string) bool {
		return strings.Contains(n, "removed "+killed) && strings.Contains(n, "run killed")
	}) {
		t.Errorf("notes %q do not name the removed folder", p.RetentionNotes())
	}
}
