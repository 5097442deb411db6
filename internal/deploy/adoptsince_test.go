package deploy

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
)

// toolSince is what each tool leaves when it applies a fourth migration, seed (INSERT INTO seeds
// VALUES (42)), to a database schemagate took over: the file and the tool's history row.
func toolSince(format migrate.Format, files map[string]string) (map[string]string, string) {
	files = maps.Clone(files)
	seed := "INSERT INTO seeds VALUES (42);\n"
	switch format {
	case migrate.FormatGolangMigrate:
		files["4_seed.up.sql"], files["4_seed.down.sql"] = seed, "DELETE FROM seeds WHERE v = 42;\n"
		return files, "UPDATE schema_migrations SET version = 4"
	case migrate.FormatGoose:
		files["00004_seed.sql"] = "-- +goose Up\n" + seed + "-- +goose Down\nDELETE FROM seeds WHERE v = 42;\n"
		return files, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (4, true)"
	case migrate.FormatDbmate:
		files["20240101000004_seed.sql"] = "-- migrate:up\n" + seed + "-- migrate:down\nDELETE FROM seeds WHERE v = 42;\n"
		return files, "INSERT INTO schema_migrations VALUES ('20240101000004')"
	case migrate.FormatFlyway:
		files["V3__seed.sql"] = seed
		return files, fmt.Sprintf("INSERT INTO flyway_schema_history VALUES (9, '3', 'seed', 'SQL', 'V3__seed.sql', %d, 'flyway', now(), 5, true)", flywayChecksum(seed))
	case migrate.FormatSQLMigrate:
		files["4_seed.sql"] = "-- +migrate Up\n" + seed + "-- +migrate Down\nDELETE FROM seeds WHERE v = 42;\n"
		return files, "INSERT INTO gorp_migrations VALUES ('4_seed.sql', now())"
	case migrate.FormatSqitch:
		files["sqitch.plan"] += "seed 2024-01-04T00:00:00Z Dev <dev@example.com> # seed\n"
		files["deploy/seed.sql"], files["revert/seed.sql"] = seed, "DELETE FROM seeds WHERE v = 42;\n"
		return files, `INSERT INTO sqitch.changes (change_id, change, project, committer_name, committer_email, planned_at, planner_name, planner_email)
			VALUES ('4444', 'seed', 'shop', 'Dev', 'dev@example.com', now(), 'Dev', 'dev@example.com')`
	case migrate.FormatAtlas:
		delete(files, "atlas.sum")
		files["20240101000004_seed.sql"] = seed
		files["atlas.sum"] = migrate.AtlasSum(files)
		return files, `INSERT INTO atlas_schema_revisions.atlas_schema_revisions VALUES
			('20240101000004', 'seed', 2, 1, 1, now(), 1000, NULL, NULL, 'x', NULL, 'Atlas CLI v0.30.0')`
	}
	panic("no case for " + format)
}

// TestDeployBlocksOnWhatTheToolAppliedSince: after the import, the folder's tool applied another
// migration (goose up with a new 00004_seed.sql, a new flyway_schema_history row, ...). Every later
// deploy reads the tool's table again: it used to read it only while schemagate_history was empty, so the
// next deploy ran the seed again, exit 0, and the table held 42 twice. It now blocks before changing
// anything, naming the migration and the tool's table, with --dry-run too; with ImportToolApplied
// (deploy --import-tool-applied) it records the migration as imported and runs nothing of it.
func TestDeployBlocksOnWhatTheToolAppliedSince(t *testing.T) {
	t.Parallel()
	for _, tc := range adoptCases() {
		t.Run(string(tc.format), func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.exec(t, "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY); CREATE TABLE seeds (v int);\n"+tc.history)
			if res, err := Run(t.Context(), tg.options(t, readFolder(t, tc.files, tc.format), "run-adopt")); err != nil || res.Outcome != OutcomeDeployed {
				t.Fatalf("first deploy: err %v, outcome %s", err, res.Outcome)
			}
			files, row := toolSince(tc.format, tc.files)
			tg.exec(t, "INSERT INTO seeds VALUES (42);\n"+row) // the tool applies the seed
			set := readFolder(t, files, tc.format)
			var seed *migrate.Migration
			for _, m := range set.Migrations {
				if m.Name == "seed" {
					seed = m
				}
			}
			if seed == nil {
				t.Fatal("the folder has no seed migration")
			}
			src := importSources[tc.format]
			table := src.table[strings.LastIndex(src.table, ".")+1:]
			before := tg.checksums(t)
			for _, dry := range []bool{true, false} {
				o := tg.options(t, set, fmt.Sprintf("run-dry-%v", dry))
				o.DryRun = dry
				res, err := Run(t.Context(), o)
				var b *Blocked
				if !errors.As(err, &b) || res.Outcome != OutcomeBlocked ||
					!strings.Contains(b.Reason, src.tool+"'s ") || !strings.Contains(b.Reason, table+" records "+seed.ID()+" as applied, which schemagate_history does not") ||
					!strings.Contains(b.Hint, "stop running "+src.tool) || !strings.Contains(b.Hint, "--import-tool-applied") {
					t.Fatalf("dry run %v: err %v, outcome %s; want blocked naming %s and %s's %s, and how to go on", dry, err, res.Outcome, seed.ID(), src.tool, table)
				}
				if after := tg.checksums(t); after != before {
					t.Fatalf("dry run %v: a blocked deploy changed the database:\n%s\nwas\n%s", dry, after, before)
				}
			}
			o := tg.options(t, set, "run-import")
			o.ImportToolApplied = true
			res, err := Run(t.Context(), o)
			if err != nil || res.Imported == nil || strings.Join(res.Imported.Versions, " ") != seed.ID() || len(res.Migrations) != 0 {
				t.Fatalf("deploy --import-tool-applied: err %v, imported %+v, migrations %s; want %s imported and nothing run", err, res.Imported, statuses(res), seed.ID())
			}
			if n := tg.value(t, "SELECT count(*) FROM seeds"); n != "1" {
				t.Errorf("seeds holds %s rows, want 1: the tool's migration ran again", n)
			}
			if by := tg.value(t, "SELECT applied_by FROM schemagate.schemagate_history WHERE version = '"+seed.Key()+"'"); !strings.HasPrefix(by, importedBy) {
				t.Errorf("%s is recorded as applied by %q, want imported", seed.ID(), by)
			}
			if res, err := Run(t.Context(), tg.options(t, set, "run-after")); err != nil || res.Outcome != OutcomeNothing {
				t.Errorf("deploy after recording it: err %v, outcome %s; want up to date", err, res.Outcome)
			}
		})
	}
}
