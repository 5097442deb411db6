package deploy

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/snapshot"
)

// TestDeploySnapshotRetentionPerDatabase: two services share snapshot.dir and the environment's name,
// each with its own database, and keep one snapshot. A deploy of one database removed the other's
// snapshot, which a dead run of it may need for --recover (tester A's F6). Each deploy now removes only
// its own database's older snapshots.
func TestDeploySnapshotRetentionPerDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := newTarget(t), newTarget(t)
	deploy := func(tg *target, files map[string]string, runID string) *Result {
		t.Helper()
		o := tg.options(t, folder(t, files), runID)
		o.Snapshotter = &snapshot.PGDump{URL: tg.url, Dir: dir, Jobs: 2, Keep: 1, ExcludeSchemas: []string{"schemagate"}}
		res, err := Run(t.Context(), o)
		if err != nil || res.Outcome != OutcomeDeployed || res.Snapshot == nil {
			t.Fatalf("deploy %s: %v, outcome %s", runID, err, res.Outcome)
		}
		return res
	}
	exists := func(loc string) bool {
		_, err := os.Stat(loc)
		return err == nil
	}
	a1 := deploy(a, goodMigrations, "a1").Snapshot.Location
	b1 := deploy(b, goodMigrations, "b1").Snapshot.Location
	if !exists(a1) {
		t.Fatalf("the deploy of another database removed %s", a1)
	}
	a2 := deploy(a, with(goodMigrations, map[string]string{"5_x.up.sql": "CREATE TABLE x (id int);", "5_x.down.sql": "DROP TABLE x;"}), "a2").Snapshot.Location
	if exists(a1) || !exists(a2) || !exists(b1) {
		t.Errorf("after a2 (keep 1): a1 kept %v (want false), a2 %v, b1 %v (want true)", exists(a1), exists(a2), exists(b1))
	}
}

// TestDeployRetentionKeepsAFailedRunsSnapshot: a run ends failed (the database needs a person, and its
// report tells them how to restore its snapshot by hand); the next run, which deploys, keeps one
// snapshot. It removed the failed run's, the only copy of the data from before: a run whose outcome is
// failed is recorded finished, and only the snapshots of unfinished runs were kept. It is now kept, and
// the progress says so and why.
func TestDeployRetentionKeepsAFailedRunsSnapshot(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tg := newTarget(t)
	tg.exec(t, "CREATE EXTENSION citext VERSION '1.4'")
	run := func(files map[string]string, runID string, checks []config.Check) (*Result, []string) {
		t.Helper()
		o := tg.options(t, folder(t, files), runID)
		o.Config.Verify.Checks = checks
		o.Snapshotter = &snapshot.PGDump{URL: tg.url, Dir: dir, Jobs: 2, Keep: 1, ExcludeSchemas: []string{"schemagate"}}
		var lines []string
		o.Progress = func(msg string) {
			lines = append(lines, msg)
			t.Log(msg)
		}
		res, _ := Run(t.Context(), o)
		return res, lines
	}
	// The restore keeps the extension's update, so "schema as before" fails after it: failed.
	res, _ := run(map[string]string{"1_x.up.sql": "CREATE TABLE z (id int);\nALTER EXTENSION citext UPDATE TO '1.6';\n"}, "run-1",
		[]config.Check{{Name: "fails", SQL: "SELECT false"}})
	if res.Outcome != OutcomeFailed || res.Snapshot == nil {
		t.Fatalf("run-1: outcome %s, snapshot %v; want failed with a snapshot", res.Outcome, res.Snapshot)
	}
	failed := res.Snapshot.Location
	files := map[string]string{}
	for i, id := range []string{"run-2", "run-3"} {
		files[fmt.Sprintf("%d_y.up.sql", i+2)] = fmt.Sprintf("CREATE TABLE y%d (id int);", i+2)
		res, lines := run(files, id, nil)
		if res.Outcome != OutcomeDeployed {
			t.Fatalf("%s: outcome %s (%s); want deployed", id, res.Outcome, res.Reason)
		}
		if _, err := os.Stat(failed); err != nil {
			t.Fatalf("%s (keep 1) removed the snapshot of failed run-1: %v", id, err)
		}
		if !slices.ContainsFunc(lines, func(l string) bool {
			return strings.Contains(l, "kept snapshot "+failed+" beyond the retention: run run-1 ended failed")
		}) {
			t.Errorf("%s: the progress does not say it kept run-1's snapshot and why:\n%s", id, strings.Join(lines, "\n"))
		}
	}
}
