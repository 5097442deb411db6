package deploy

import "testing"

// TestDeployMigrationsThatForgetPreparedStatements: a migration's DEALLOCATE ALL removes the work
// session's prepared statements, among them the deploy's own queries (its history rows, its checks),
// which pgx kept a list of; the next one failed (prepared statement "stmt_..." does not exist) after
// the migration had committed. Run alone, and as one statement of a script with others, in a
// migration and in a down (the failing third migration rolls the others back), they deploy and roll
// back as any other; a DEALLOCATE of one of the migration's own statements leaves its others be.
func TestDeployMigrationsThatForgetPreparedStatements(t *testing.T) {
	t.Parallel()
	files := with(goodMigrations, map[string]string{
		"1_customers.up.sql":   goodMigrations["1_customers.up.sql"] + "\nDEALLOCATE ALL;",
		"1_customers.down.sql": "DEALLOCATE ALL;\n" + goodMigrations["1_customers.down.sql"],
		"2_backfill.up.sql":    "DEALLOCATE ALL;\nPREPARE keep AS SELECT 1;\nPREPARE gone AS SELECT 2;\nDEALLOCATE gone;\nEXECUTE keep;\nDEALLOCATE keep;",
		"2_backfill.down.sql":  "DEALLOCATE ALL;",
	})
	tg := newTarget(t)
	res, err := Run(t.Context(), tg.options(t, folder(t, files), "run-1"))
	if err != nil || res.Outcome != OutcomeDeployed {
		t.Fatalf("deploy: %v, outcome %s", err, res.Outcome)
	}
	if got, want := tg.historyOf(t), "1:applied 2:applied 3:applied 4:applied"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}

	tg = newTarget(t)
	before := tg.checksums(t)
	files["3_fk.up.sql"] = "DEALLOCATE ALL;\nSELECT 1 / 0;"
	res, err = Run(t.Context(), tg.options(t, folder(t, files), "run-2"))
	if err == nil || res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "down" {
		t.Fatalf("deploy: %v, outcome %s, rollback %+v; want rolled back by downs", err, res.Outcome, res.Rollback)
	}
	if e := res.Migrations[2].Error; e == nil || e.Line != 2 || e.SQLState != "22012" {
		t.Errorf("error %+v; want 3_fk.up.sql:2's division by zero", e)
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("database differs after rollback:\n%s\n---\n%s", before, after)
	}
	if got, want := tg.historyOf(t), "1:rolled-back 2:rolled-back 3:failed"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
}
