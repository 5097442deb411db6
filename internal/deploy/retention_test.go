package deploy

import (
	"os"
	"testing"

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
