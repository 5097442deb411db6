package deploy

import "testing"

// TestDeployEmptyUpAndDownOnlyVersions: golang-migrate records a version whose up file is empty, and one
// with a down file alone, and runs nothing for their up (postgres.go runStatement, migrate.go
// newMigration): the deploy applies and records them as golang-migrate does, and a rollback by downs
// runs their down files.
func TestDeployEmptyUpAndDownOnlyVersions(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := with(goodMigrations, map[string]string{
		"5_noop.up.sql":       " \n",
		"5_noop.down.sql":     "SELECT 1;",
		"6_downonly.down.sql": "SELECT 2;",
	})
	res, err := Run(t.Context(), tg.options(t, folder(t, files), "run-empty"))
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if res.Outcome != OutcomeDeployed || !res.OK {
		t.Fatalf("outcome %s", res.Outcome)
	}
	if got, want := statuses(res), "1:applied 2:applied 3:applied 4:applied 5:applied 6:applied"; got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
	if got, want := tg.historyOf(t), "1:applied 2:applied 3:applied 4:applied 5:applied 6:applied"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}

	// A later migration that fails rolls the run back by downs, through the down-only version's down.
	before := tg.checksums(t)
	files = with(files, map[string]string{
		"7_c.up.sql":       "CREATE TABLE c (id bigint);",
		"7_c.down.sql":     "DROP TABLE c;",
		"8_e.up.sql":       " ",
		"8_e.down.sql":     "SELECT 4;",
		"9_f.down.sql":     "SELECT 3;",
		"10_fail.up.sql":   "SELECT 1 / 0;",
		"10_fail.down.sql": "SELECT 1;",
	})
	res, err = Run(t.Context(), tg.options(t, folder(t, files), "run-fail"))
	if err == nil {
		t.Fatal("deploy succeeded")
	}
	if res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "down" {
		t.Fatalf("outcome %s, rollback %+v", res.Outcome, res.Rollback)
	}
	if got, want := statuses(res), "7:rolled-back 8:rolled-back 9:rolled-back 10:failed"; got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("database differs after rollback:\n%s\n---\n%s", before, after)
	}
}
