package deploy

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/migrate"
)

// adoptCase is a database another tool migrated: its folder (three migrations creating tables a, b and
// c, or the format's own names), the tool's history table as the tool creates and fills it with the
// first two applied, and what the deploy must import.
type adoptCase struct {
	format  migrate.Format
	files   map[string]string
	history string // SQL creating and filling the tool's table; a and b already exist
	want    string // IDs the deploy imports
}

// The history tables as the tools create them.
const (
	golangMigrateTable = `CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);`
	gooseTable         = `CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());`
	flywayTable        = `CREATE TABLE flyway_schema_history (installed_rank integer NOT NULL PRIMARY KEY, version varchar(50),
		description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum integer,
		installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(), execution_time integer NOT NULL, success boolean NOT NULL);`
	atlasTable = `CREATE SCHEMA atlas_schema_revisions;
		CREATE TABLE atlas_schema_revisions.atlas_schema_revisions (version varchar NOT NULL PRIMARY KEY, description varchar NOT NULL,
		type bigint NOT NULL DEFAULT 2, applied bigint NOT NULL DEFAULT 0, total bigint NOT NULL DEFAULT 0, executed_at timestamptz NOT NULL,
		execution_time bigint NOT NULL, error text, error_stmt text, hash varchar NOT NULL, partial_hashes jsonb, operator_version varchar NOT NULL);`
)

func adoptCases() []adoptCase {
	goose := func(table string) string {
		return fmt.Sprintf("-- +goose Up\nCREATE TABLE %s (id int PRIMARY KEY);\n-- +goose Down\nDROP TABLE %[1]s;\n", table)
	}
	dbmate := func(table string) string {
		return fmt.Sprintf("-- migrate:up\nCREATE TABLE %s (id int PRIMARY KEY);\n-- migrate:down\nDROP TABLE %[1]s;\n", table)
	}
	sqlMigrate := func(table string) string {
		return fmt.Sprintf("-- +migrate Up\nCREATE TABLE %s (id int PRIMARY KEY);\n-- +migrate Down\nDROP TABLE %[1]s;\n", table)
	}
	create := func(table string) string { return fmt.Sprintf("CREATE TABLE %s (id int PRIMARY KEY);\n", table) }
	flywayFiles := map[string]string{
		"V1__a.sql":     create("a"),
		"V1_1__b.sql":   create("b"),
		"V2__c.sql":     create("c"),
		"R__a_view.sql": "CREATE OR REPLACE VIEW a_view AS SELECT id FROM a;\n",
		"R__b_view.sql": "CREATE OR REPLACE VIEW b_view AS SELECT id FROM b WHERE id > 1;\n",
	}
	atlasFiles := map[string]string{
		"20240101000001_a.sql": create("a"),
		"20240101000002_b.sql": create("b"),
		"20240101000003_c.sql": create("c"),
	}
	atlasFiles["atlas.sum"] = migrate.AtlasSum(atlasFiles)
	return []adoptCase{{
		format: migrate.FormatGolangMigrate,
		files: map[string]string{
			"1_a.up.sql": create("a"), "1_a.down.sql": "DROP TABLE a;",
			"2_b.up.sql": create("b"), "2_b.down.sql": "DROP TABLE b;",
			"3_c.up.sql": create("c"), "3_c.down.sql": "DROP TABLE c;",
		},
		history: golangMigrateTable + `
			INSERT INTO schema_migrations VALUES (2, false)`,
		want: "1_a 2_b",
	}, {
		format: migrate.FormatGoose,
		files:  map[string]string{"00001_a.sql": goose("a"), "00002_b.sql": goose("b"), "00003_c.sql": goose("c")},
		// goose before v3 recorded a down as a row with is_applied false: 3 was applied, then undone.
		history: gooseTable + `
			INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (3, true), (3, false)`,
		want: "1_a 2_b",
	}, {
		format:  migrate.FormatDbmate,
		files:   map[string]string{"20240101000001_a.sql": dbmate("a"), "20240101000002_b.sql": dbmate("b"), "20240101000003_c.sql": dbmate("c")},
		history: `CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101000001'), ('20240101000002')`,
		want:    "20240101000001_a 20240101000002_b",
	}, {
		format: migrate.FormatFlyway,
		files:  flywayFiles,
		// R__b_view changed since Flyway ran it (its recorded checksum is of another text): it runs again.
		history: fmt.Sprintf(flywayTable+`
			CREATE VIEW a_view AS SELECT id FROM a; CREATE VIEW b_view AS SELECT id FROM b;
			INSERT INTO flyway_schema_history VALUES
			  (1, '1', 'a', 'SQL', 'V1__a.sql', %d, 'flyway', now(), 5, true),
			  (2, '1.1', 'b', 'SQL', 'V1_1__b.sql', %d, 'flyway', now(), 5, true),
			  (3, NULL, 'a view', 'SQL', 'R__a_view.sql', %d, 'flyway', now(), 5, true),
			  (4, NULL, 'b view', 'SQL', 'R__b_view.sql', %d, 'flyway', now(), 5, true)`,
			flywayChecksum(flywayFiles["V1__a.sql"]), flywayChecksum(flywayFiles["V1_1__b.sql"]),
			flywayChecksum(flywayFiles["R__a_view.sql"]), flywayChecksum("CREATE OR REPLACE VIEW b_view AS SELECT id FROM b;\n")),
		want: "1_a 1.1_b a_view",
	}, {
		format:  migrate.FormatSQLMigrate,
		files:   map[string]string{"1_a.sql": sqlMigrate("a"), "2_b.sql": sqlMigrate("b"), "3_c.sql": sqlMigrate("c")},
		history: `CREATE TABLE gorp_migrations (id text NOT NULL PRIMARY KEY, applied_at timestamptz); INSERT INTO gorp_migrations VALUES ('1_a.sql', now()), ('2_b.sql', now())`,
		want:    "1_a 2_b",
	}, {
		format: migrate.FormatSqitch,
		files: map[string]string{
			"sqitch.plan": "%syntax-version=1.0.0\n%project=shop\n\n" +
				"a 2024-01-01T00:00:00Z Dev <dev@example.com> # a\n" +
				"b 2024-01-02T00:00:00Z Dev <dev@example.com> # b\n" +
				"c 2024-01-03T00:00:00Z Dev <dev@example.com> # c\n",
			"deploy/a.sql": create("a"), "revert/a.sql": "DROP TABLE a;",
			"deploy/b.sql": create("b"), "revert/b.sql": "DROP TABLE b;",
			"deploy/c.sql": create("c"), "revert/c.sql": "DROP TABLE c;",
		},
		history: `CREATE SCHEMA sqitch;
			CREATE TABLE sqitch.changes (change_id text PRIMARY KEY, script_hash text, change text NOT NULL, project text NOT NULL,
				note text NOT NULL DEFAULT '', committed_at timestamptz NOT NULL DEFAULT clock_timestamp(), committer_name text NOT NULL,
				committer_email text NOT NULL, planned_at timestamptz NOT NULL, planner_name text NOT NULL, planner_email text NOT NULL);
			INSERT INTO sqitch.changes (change_id, change, project, committer_name, committer_email, planned_at, planner_name, planner_email) VALUES
			  ('1111', 'a', 'shop', 'Dev', 'dev@example.com', now(), 'Dev', 'dev@example.com'),
			  ('2222', 'b', 'shop', 'Dev', 'dev@example.com', now(), 'Dev', 'dev@example.com'),
			  ('3333', 'c', 'billing', 'Dev', 'dev@example.com', now(), 'Dev', 'dev@example.com')`, // billing's change c is another project's
		want: "a b",
	}, {
		format: migrate.FormatAtlas,
		files:  atlasFiles,
		history: atlasTable + `
			INSERT INTO atlas_schema_revisions.atlas_schema_revisions VALUES
			  ('20240101000001', 'a', 2, 1, 1, now(), 1000, NULL, NULL, 'x', NULL, 'Atlas CLI v0.30.0'),
			  ('20240101000002', 'b', 2, 1, 1, now(), 1000, NULL, NULL, 'x', NULL, 'Atlas CLI v0.30.0')`,
		want: "20240101000001_a 20240101000002_b",
	}}
}

func readFolder(t *testing.T, files map[string]string, format migrate.Format) *migrate.Set {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, text := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	set, err := migrate.Read(fsys, format)
	if err != nil {
		t.Fatalf("read %s folder: %v", format, err)
	}
	return set
}

// TestDeployImportsOtherToolsHistory adopts a database each supported tool migrated: the first deploy
// records what the tool applied and deploys only the rest; the next one finds nothing to do.
func TestDeployImportsOtherToolsHistory(t *testing.T) {
	t.Parallel()
	for _, tc := range adoptCases() {
		t.Run(string(tc.format), func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.exec(t, "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY);\n"+tc.history)
			set := readFolder(t, tc.files, tc.format)
			res, err := Run(t.Context(), tg.options(t, set, "run-adopt"))
			if err != nil {
				t.Fatalf("deploy: %v (drift %q)", err, res.Drift)
			}
			if res.Outcome != OutcomeDeployed || res.Imported == nil || strings.Join(res.Imported.Versions, " ") != tc.want {
				t.Fatalf("outcome %s, imported %+v; want deployed with %q imported", res.Outcome, res.Imported, tc.want)
			}
			if got := tg.value(t, "SELECT (to_regclass('c') IS NOT NULL)::text"); got != "true" {
				t.Error("the pending migration did not run: no table c")
			}
			var text strings.Builder
			if err := res.WriteText(&text); err != nil || !strings.Contains(text.String(), "Imported history") ||
				!strings.Contains(res.Markdown(), "stop running it against this database") {
				t.Errorf("the reports do not tell about the import:\n%s", text.String())
			}
			by := tg.value(t, "SELECT string_agg(DISTINCT applied_by, ',') FROM schemagate.schemagate_history WHERE applied_by LIKE 'imported%'")
			if !strings.Contains(by, res.Imported.Tool) {
				t.Errorf("imported rows are recorded as applied by %q, want the tool named", by)
			}
			again, err := Run(t.Context(), tg.options(t, set, "run-again"))
			if err != nil || again.Outcome != OutcomeNothing || again.Imported != nil {
				t.Errorf("second deploy: err %v, outcome %s, imported %+v; want up to date without importing", err, again.Outcome, again.Imported)
			}
		})
	}
}

// TestDeployImportRefusesWhatItCannotTrust blocks, changing nothing, where the other tool's record says
// a migration stopped part way, names a version the folder lacks, or is not that tool's table.
func TestDeployImportRefusesWhatItCannotTrust(t *testing.T) {
	t.Parallel()
	byFormat := map[migrate.Format]adoptCase{}
	for _, c := range adoptCases() {
		byFormat[c.format] = c
	}
	tests := []struct {
		name    string
		format  migrate.Format
		history string
		want    string
	}{
		{"golang-migrate dirty", migrate.FormatGolangMigrate,
			golangMigrateTable + ` INSERT INTO schema_migrations VALUES (2, true)`,
			"marks version 2 dirty"},
		{"golang-migrate ahead of the folder", migrate.FormatGolangMigrate,
			golangMigrateTable + ` INSERT INTO schema_migrations VALUES (7, false)`,
			"at version 7, which the migration folder does not have"},
		{"not golang-migrate's table", migrate.FormatGolangMigrate,
			`CREATE TABLE schema_migrations (version varchar PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101')`,
			"is not golang-migrate's history table"},
		{"Flyway failed", migrate.FormatFlyway,
			flywayTable + `
			INSERT INTO flyway_schema_history VALUES (1, '1', 'a', 'SQL', 'V1__a.sql', 0, 'flyway', now(), 5, true), (2, '1.1', 'b', 'SQL', 'V1_1__b.sql', 0, 'flyway', now(), 5, false)`,
			"records V1.1 as failed"},
		{"goose version missing", migrate.FormatGoose,
			gooseTable + `
			INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (9, true)`,
			"version 9 is applied (goose's goose_db_version) but missing"},
		{"Atlas partly applied", migrate.FormatAtlas,
			atlasTable + `
			INSERT INTO atlas_schema_revisions.atlas_schema_revisions VALUES
			  ('20240101000001', 'a', 2, 1, 1, now(), 1000, NULL, NULL, 'x', NULL, 'v'), ('20240101000002', 'b', 2, 0, 1, now(), 1000, 'boom', 'CREATE', 'x', NULL, 'v')`,
			"version 20240101000002 as partly applied (0 of 1 statements)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.exec(t, "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY);\n"+tc.history)
			before := tg.checksums(t)
			res, err := Run(t.Context(), tg.options(t, readFolder(t, byFormat[tc.format].files, tc.format), "run-adopt"))
			var b *Blocked
			if !errors.As(err, &b) || res.Outcome != OutcomeBlocked || !strings.Contains(res.Reason+strings.Join(res.Drift, "\n"), tc.want) {
				t.Fatalf("err %v, outcome %s, reason %q, drift %q; want blocked with %q", err, res.Outcome, res.Reason, res.Drift, tc.want)
			}
			if after := tg.checksums(t); after != before {
				t.Errorf("a blocked deploy changed the database:\n%s\nwas\n%s", after, before)
			}
			if n := tg.value(t, "SELECT count(*) FROM schemagate.schemagate_history"); n != "0" {
				t.Errorf("%s history rows written by a blocked deploy", n)
			}
		})
	}
}

// TestDeployImportSettings: import_history none deploys the folder from the start; a table named there
// is read in the folder tool's layout; a baseline (Flyway) stands for every version up to it; a dry run
// reports what it would import and writes nothing.
func TestDeployImportSettings(t *testing.T) {
	t.Parallel()
	gm := adoptCases()[0]
	t.Run("none", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		tg.exec(t, gm.history)
		o := tg.options(t, readFolder(t, gm.files, gm.format), "run-none")
		o.Config.ImportHistory = ImportNone
		res, err := Run(t.Context(), o)
		if err != nil || res.Imported != nil || statuses(res) != "1:applied 2:applied 3:applied" {
			t.Fatalf("err %v, imported %+v, migrations %s; want all three deployed", err, res.Imported, statuses(res))
		}
	})
	t.Run("named table", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		tg.exec(t, "CREATE TABLE a (id int PRIMARY KEY); CREATE SCHEMA ops;\n"+strings.ReplaceAll(gm.history, "schema_migrations", "ops.migrate_state")+
			"; UPDATE ops.migrate_state SET version = 1")
		o := tg.options(t, readFolder(t, gm.files, gm.format), "run-named")
		o.Config.ImportHistory = "ops.migrate_state"
		res, err := Run(t.Context(), o)
		if err != nil || res.Imported == nil || res.Imported.Table != "ops.migrate_state" || statuses(res) != "2:applied 3:applied" {
			t.Fatalf("err %v, imported %+v, migrations %s; want 1 imported from ops.migrate_state, 2 and 3 deployed", err, res.Imported, statuses(res))
		}
		// Once schemagate_history has rows, the setting is not read again.
		o = tg.options(t, readFolder(t, gm.files, gm.format), "run-after")
		o.Config.ImportHistory = "ops.nothing_here"
		if res, err := Run(t.Context(), o); err != nil || res.Outcome != OutcomeNothing || res.Imported != nil {
			t.Errorf("deploy after the import: err %v, outcome %s, imported %+v; want up to date", err, res.Outcome, res.Imported)
		}
		fresh := newTarget(t)
		o = fresh.options(t, readFolder(t, gm.files, gm.format), "run-missing")
		o.Config.ImportHistory = "ops.nothing_here"
		res, err = Run(t.Context(), o)
		if !strings.Contains(fmt.Sprint(err), "import_history names ops.nothing_here, which does not exist") || res.Outcome != OutcomeBlocked {
			t.Errorf("a missing table named in import_history: err %v, outcome %s; want blocked naming it", err, res.Outcome)
		}
	})
	t.Run("flyway baseline and dry run", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		fw := adoptCases()[3]
		tg.exec(t, "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY);\n"+
			strings.Split(fw.history, "CREATE VIEW")[0]+
			"INSERT INTO flyway_schema_history VALUES (1, '1.1', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'flyway', now(), 0, true)")
		set := readFolder(t, fw.files, fw.format)
		o := tg.options(t, set, "run-dry")
		o.DryRun = true
		res, err := Run(t.Context(), o)
		if err != nil || res.Outcome != OutcomeDryRun || res.Imported == nil || strings.Join(res.Imported.Versions, " ") != "1_a 1.1_b" {
			t.Fatalf("dry run: err %v, outcome %s, imported %+v; want 1 and 1.1 imported by the baseline", err, res.Outcome, res.Imported)
		}
		if n := tg.value(t, "SELECT count(*) FROM flyway_schema_history"); n != "1" {
			t.Errorf("the dry run changed Flyway's table (%s rows)", n)
		}
		if tg.value(t, "SELECT (to_regclass('schemagate.schemagate_history') IS NULL)::text") != "true" {
			t.Error("the dry run wrote history rows")
		}
		res, err = Run(t.Context(), tg.options(t, set, "run-baseline"))
		if err != nil || statuses(res) != "2:applied :applied :applied" {
			t.Fatalf("deploy: err %v, migrations %s; want V2 and both repeatables deployed", err, statuses(res))
		}
	})
}

// TestDeployFlywayRepeatablesEach keeps one history row per repeatable migration: two of them deploy once,
// and only the one whose file changes deploys again.
func TestDeployFlywayRepeatablesEach(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := maps.Clone(adoptCases()[3].files)
	res, err := Run(t.Context(), tg.options(t, readFolder(t, files, migrate.FormatFlyway), "run-1"))
	if err != nil || statuses(res) != "1:applied 1.1:applied 2:applied :applied :applied" {
		t.Fatalf("first deploy: err %v, migrations %s", err, statuses(res))
	}
	// Earlier releases recorded repeatable migrations under an empty version: such rows still count.
	tg.exec(t, `UPDATE schemagate.schemagate_history SET version = '' WHERE version LIKE 'R\_\_%'`)
	res, err = Run(t.Context(), tg.options(t, readFolder(t, files, migrate.FormatFlyway), "run-2"))
	if err != nil || res.Outcome != OutcomeNothing {
		t.Fatalf("second deploy: err %v, outcome %s, migrations %s, drift %q; want up to date", err, res.Outcome, statuses(res), res.Drift)
	}
	files["R__b_view.sql"] = "CREATE OR REPLACE VIEW b_view AS SELECT id FROM b WHERE id > 2;\n"
	res, err = Run(t.Context(), tg.options(t, readFolder(t, files, migrate.FormatFlyway), "run-3"))
	if err != nil || len(res.Migrations) != 1 || res.Migrations[0].Name != "b_view" {
		t.Fatalf("after changing R__b_view: err %v, migrations %+v; want it alone deployed", err, res.Migrations)
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil || !strings.Contains(text.String(), "applied      b_view ") {
		t.Errorf("the report does not name the repeatable migration b_view:\n%s", text.String())
	}
}

// TestFlywayChecksum checks the properties of Flyway's checksum the import relies on: line endings and
// a byte order mark do not count, the text does.
func TestFlywayChecksum(t *testing.T) {
	lf := flywayChecksum("CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n")
	for _, same := range []string{
		"CREATE TABLE a (id int);\r\nINSERT INTO a VALUES (1);\r\n",
		"CREATE TABLE a (id int);\rINSERT INTO a VALUES (1);",
		"\uFEFFCREATE TABLE a (id int);\nINSERT INTO a VALUES (1);",
	} {
		if got := flywayChecksum(same); got != lf {
			t.Errorf("checksum of %q is %d, want %d as for the LF text", same, got, lf)
		}
	}
	if flywayChecksum("CREATE TABLE a (id int);\nINSERT INTO a VALUES (2);\n") == lf {
		t.Error("a changed statement has the same checksum")
	}
	// CRC-32 of the concatenated lines, as a signed 32-bit number: "ab" and "a\nb" agree with Java's
	// CRC32 of the bytes "ab" (0x9E83486D, negative as an int).
	if got := flywayChecksum("a\nb"); got != int32(-1635563411) {
		t.Errorf("checksum of a\\nb is %d, want -1635563411", got)
	}
}

// TestDeployFlywaySchemas: as Flyway does, the deploy creates the schemas flyway.schemas lists and runs
// each migration with the first in front of the search path: unqualified names land there, and the
// history row and the next session keep the usual search path.
func TestDeployFlywaySchemas(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := map[string]string{
		"flyway.conf": "flyway.schemas=app,extra\n",
		"V1__t.sql":   "CREATE TABLE t (id bigint);\n",
		"V2__c.sql":   "COMMENT ON TABLE app.t IS 'in app';\nCREATE TABLE extra.e (id int);\n",
	}
	res, err := Run(t.Context(), tg.options(t, readFolder(t, files, migrate.FormatFlyway), "run-1"))
	if err != nil || statuses(res) != "1:applied 2:applied" {
		t.Fatalf("deploy: err %v, migrations %s", err, statuses(res))
	}
	if got := tg.value(t, "SELECT obj_description('app.t'::regclass, 'pg_class')"); got != "in app" {
		t.Errorf("app.t has comment %q", got)
	}
	if got := tg.value(t, "SELECT (to_regclass('public.t') IS NULL)::text"); got != "true" {
		t.Error("public.t exists: the migration did not run with app first in the search path")
	}
}

// TestDeployFlywaySchemasRolledBack: a deploy that created Flyway's schemas and rolls back by the downs
// drops them again (they were not there before), so the database verifies as it was; it used to keep
// them and fail the verification ("extra: schema app"), and without a snapshot need a person.
func TestDeployFlywaySchemasRolledBack(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := map[string]string{
		"flyway.conf": "flyway.schemas=app,audit\n",
		"V1__t.sql":   "CREATE TABLE users (id bigint);\n",
		"U1__t.sql":   "DROP TABLE users;\n",
	}
	o := tg.options(t, readFolder(t, files, migrate.FormatFlyway), "run-1")
	o.Snapshotter = nil // the downs alone must bring it back
	o.Config.Verify.Checks = []config.Check{{Name: "fails", SQL: "SELECT false"}}
	res, err := Run(t.Context(), o)
	if res == nil || res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "down" {
		t.Fatalf("err %v, result %+v; want rolled back by the downs", err, res)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM pg_namespace WHERE nspname IN ('app', 'audit')"); got != "0" {
		t.Errorf("%s of the schemas the run created are still there", got)
	}
}
