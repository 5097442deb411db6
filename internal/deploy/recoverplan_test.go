package deploy

import (
	"os"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/snapshot"
)

// TestDeployRecoverDryRunShowsThePlanItFollows: a dry run with --recover printed the plan of history as
// the dead run left it: the migration the run had applied counted as applied, so the dry run listed only
// the one it died in ("would apply 2_wait"), while the real --recover restored the snapshot and applied
// both. The dry run now plans the recovery as --recover does (planRecovery): what it rolls back and how,
// then every migration the deploy applies after it; the real --recover then does exactly that. Both cases
// of the exploratory report: a transactional migration killed with a later one pending behind an applied
// one without a down, and a goose NO TRANSACTION migration left half applied.
func TestDeployRecoverDryRunShowsThePlanItFollows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		format migrate.Format
		files  map[string]string
		// fixed replaces the file whose pg_sleep the run died in, so that the recovery's deploy goes through.
		fixed      map[string]string
		wantUndone string
		wantPlan   string
	}{
		{
			name:   "transactional, killed with one applied before it",
			format: migrate.FormatGolangMigrate,
			files: map[string]string{
				"1_rename.up.sql":  "UPDATE accounts SET name = 'renamed' WHERE id <= 10;",
				"2_wait.up.sql":    "SELECT pg_sleep(60);",
				"2_wait.down.sql":  "SELECT 1;",
				"3_later.up.sql":   "CREATE TABLE later (id int);",
				"3_later.down.sql": "DROP TABLE later;",
			},
			fixed:      map[string]string{"2_wait.up.sql": "SELECT pg_sleep(0);"},
			wantUndone: "1",
			wantPlan:   "roll back 1 by restoring its snapshot (1_rename has no down migration)",
		},
		{
			name:   "goose NO TRANSACTION left half applied",
			format: migrate.FormatGoose,
			files: map[string]string{
				"00001_customers.sql": "-- +goose Up\nCREATE TABLE customers (id bigint PRIMARY KEY);\n-- +goose Down\nDROP TABLE customers;\n",
				"00002_reprice.sql":   "-- +goose NO TRANSACTION\n-- +goose Up\nUPDATE orders SET total = 0;\nSELECT pg_sleep(60);\n-- +goose Down\nSELECT 1;\n",
			},
			fixed:      map[string]string{"00002_reprice.sql": "-- +goose NO TRANSACTION\n-- +goose Up\nUPDATE orders SET total = 0;\nSELECT 2;\n-- +goose Down\nSELECT 1;\n"},
			wantUndone: "1,2",
			wantPlan:   "roll back 1, 2 by restoring its snapshot (2_reprice stopped half way outside a transaction)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			dir, snaps := t.TempDir(), t.TempDir()
			files := map[string]string{}
			for k, v := range tc.files {
				if v != "" {
					files[k] = v
				}
			}
			writeFolder(t, dir, files)
			startAndKill(t, tg.url, dir, []string{"SCHEMAGATE_TEST_FORMAT=" + string(tc.format), "SCHEMAGATE_TEST_SNAPDIR=" + snaps})
			if tg.maintenance(t) != "on" {
				t.Fatal("the killed deploy did not leave maintenance mode on; the test proves nothing")
			}
			writeFolder(t, dir, tc.fixed)
			set, err := migrate.Read(os.DirFS(dir), tc.format)
			if err != nil {
				t.Fatal(err)
			}
			options := func(runID string) Options {
				o := tg.options(t, set, runID)
				o.Snapshotter = &snapshot.PGDump{URL: tg.url, Dir: snaps, ExcludeSchemas: []string{"schemagate"}}
				o.Recover = true
				return o
			}
			before := tg.historyOf(t)

			o := options("run-dry")
			o.DryRun = true
			dry, err := Run(t.Context(), o)
			if err != nil {
				t.Fatalf("dry run with --recover: %v", err)
			}
			if got := tg.historyOf(t); got != before {
				t.Errorf("the dry run changed history: %q, was %q", got, before)
			}
			if got := statuses(dry); got != "1:pending 2:pending 3:pending" && got != "1:pending 2:pending" {
				t.Errorf("dry run's plan %q, want every migration of the folder pending, the dead run's included", got)
			}
			rc := dry.Recovered
			if rc == nil || rc.Method != "snapshot" || strings.Join(rc.Undone, ",") != tc.wantUndone || !strings.Contains(rc.Plan, tc.wantPlan) {
				t.Fatalf("dry run's recovery %+v, want %s undone by the snapshot, plan saying %q", rc, tc.wantUndone, tc.wantPlan)
			}
			var text strings.Builder
			if err := dry.WriteText(&text); err != nil || !strings.Contains(text.String(), "Recovery plan") {
				t.Errorf("the dry run's text does not show the recovery plan (%v):\n%s", err, text.String())
			}

			res, err := Run(t.Context(), options("run-recover"))
			if err != nil {
				t.Fatalf("recover: %v", err)
			}
			got := res.Recovered
			if got == nil || got.Method != rc.Method || strings.Join(got.Undone, ",") != strings.Join(rc.Undone, ",") {
				t.Errorf("the recovery did %+v, the dry run said %+v", got, rc)
			}
			var planned, applied []string
			for _, m := range dry.Migrations {
				planned = append(planned, m.Version)
			}
			for _, m := range res.Migrations {
				if m.Status == StatusApplied {
					applied = append(applied, m.Version)
				}
			}
			if strings.Join(applied, ",") != strings.Join(planned, ",") {
				t.Errorf("--recover applied %v, the dry run planned %v", applied, planned)
			}
		})
	}
}
