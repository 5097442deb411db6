package deploy

import (
	"errors"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
)

// TestDeployImportOfPrunedMigrations: the tool's history records a migration whose file was deleted
// (teams prune old migrations; goose up and dbmate up go on without it). The first deploy still blocks
// by default, as a wrong folder looks the same, but its hint says what the tool does, to check the
// folder, and how to accept it; it used to say "an applied migration must never change; add a new
// migration instead", which fits no deleted file. With import_missing: accept it notes the version and
// imports and deploys the rest.
func TestDeployImportOfPrunedMigrations(t *testing.T) {
	t.Parallel()
	goose := func(table string) string {
		return "-- +goose Up\nCREATE TABLE " + table + " (id int PRIMARY KEY);\n-- +goose Down\nDROP TABLE " + table + ";\n"
	}
	dbmate := func(table string) string {
		return "-- migrate:up\nCREATE TABLE " + table + " (id int PRIMARY KEY);\n-- migrate:down\nDROP TABLE " + table + ";\n"
	}
	for _, tc := range []struct {
		format                 migrate.Format
		files                  map[string]string
		history                string
		missing, tool, want    string
		imported, wantStatuses string
	}{
		{migrate.FormatGoose, map[string]string{"00002_b.sql": goose("b"), "00003_c.sql": goose("c")},
			gooseTable + ` INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true)`,
			"version 1 is applied (goose's goose_db_version) but missing from the migration folder", "goose up goes on without them", "2_b", "2_b", "3:applied"},
		{migrate.FormatDbmate, map[string]string{"01_b.sql": dbmate("b"), "02_c.sql": dbmate("c")},
			`CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY); INSERT INTO schema_migrations VALUES ('00'), ('01')`,
			"version 00 is applied (dbmate's schema_migrations) but missing from the migration folder", "dbmate up goes on without them", "01_b", "01_b", "02:applied"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.exec(t, "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY);\n"+tc.history)
			set := readFolder(t, tc.files, tc.format)
			before := tg.checksums(t)
			for _, dry := range []bool{true, false} {
				o := tg.options(t, set, "run-block")
				o.DryRun = dry
				res, err := Run(t.Context(), o)
				var b *Blocked
				if !errors.As(err, &b) || res.Outcome != OutcomeBlocked || !strings.Contains(b.Reason, tc.missing) ||
					!strings.Contains(b.Hint, tc.tool) || !strings.Contains(b.Hint, "check that the deploy reads the right folder") ||
					!strings.Contains(b.Hint, "import_missing: accept") || strings.Contains(b.Hint, "must never change") {
					t.Fatalf("dry run %v: err %v (hint %q), outcome %s; want blocked on %q with a hint that says what %s does and how to accept it",
						dry, err, hintOf(b), res.Outcome, tc.missing, tc.format)
				}
			}
			if after := tg.checksums(t); after != before {
				t.Fatalf("a blocked deploy changed the database:\n%s\nwas\n%s", after, before)
			}
			o := tg.options(t, set, "run-accept")
			o.Config.ImportMissing = ImportAccept
			res, err := Run(t.Context(), o)
			if err != nil || res.Outcome != OutcomeDeployed || res.Imported == nil || strings.Join(res.Imported.Versions, " ") != tc.imported || statuses(res) != tc.wantStatuses {
				t.Fatalf("import_missing: accept: err %v, outcome %s, imported %+v, migrations %s; want %s imported and %s", err, res.Outcome, res.Imported, statuses(res), tc.imported, tc.wantStatuses)
			}
			if notes := strings.Join(res.Notes, "\n"); !strings.Contains(notes, tc.missing+": taken as deleted on purpose (import_missing: accept)") {
				t.Errorf("the report does not note the pruned version:\n%s", notes)
			}
			if res, err := Run(t.Context(), tg.options(t, set, "run-again")); err != nil || res.Outcome != OutcomeNothing {
				t.Errorf("next deploy: err %v, outcome %s; want up to date", err, res.Outcome)
			}
		})
	}
}

func hintOf(b *Blocked) string {
	if b == nil {
		return ""
	}
	return b.Hint
}
