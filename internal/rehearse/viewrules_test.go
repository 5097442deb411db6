package rehearse_test

import (
	"context"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// setupScript is sql as a --setup script.
func setupScript(sql string) []*migrate.Script {
	return []*migrate.Script{{File: "setup.sql", SQL: sql, Statements: sqlparse.Parse(sql)}}
}

// TestRoundTripSeesRulesOnViews: the rules of a view (not its _RETURN rule, which is its definition)
// are compared as a table's are: a down that leaves a rule replaced, added or commented
// fails its round trip, where it passed and writes went to another table; a down that puts it back
// passes.
func TestRoundTripSeesRulesOnViews(t *testing.T) {
	setup := setupScript(`CREATE TABLE t (a int); CREATE TABLE t2 (a int); CREATE VIEW v AS SELECT a FROM t;
CREATE RULE v_ins AS ON INSERT TO v DO INSTEAD INSERT INTO t VALUES (new.a);`)
	files := map[string]string{
		"1_replace.up.sql":   "CREATE OR REPLACE RULE v_ins AS ON INSERT TO v DO INSTEAD INSERT INTO t2 VALUES (new.a);",
		"1_replace.down.sql": "SELECT 1;",
		"2_add.up.sql":       "CREATE OR REPLACE RULE v_del AS ON DELETE TO v DO INSTEAD DELETE FROM t WHERE a = old.a; COMMENT ON RULE v_ins ON v IS 'writes';",
		"2_add.down.sql":     "SELECT 1;",
		// Exact downs pass.
		"3_exact.up.sql":   "DROP RULE v_del ON v; COMMENT ON RULE v_ins ON v IS NULL; CREATE OR REPLACE RULE v_ins AS ON INSERT TO v DO INSTEAD INSERT INTO t VALUES (new.a);",
		"3_exact.down.sql": "CREATE OR REPLACE RULE v_ins AS ON INSERT TO v DO INSTEAD INSERT INTO t2 VALUES (new.a); COMMENT ON RULE v_ins ON v IS 'writes'; CREATE OR REPLACE RULE v_del AS ON DELETE TO v DO INSTEAD DELETE FROM t WHERE a = old.a;",
		"4_upd.up.sql":     "CREATE OR REPLACE RULE v_upd AS ON UPDATE TO v DO INSTEAD NOTHING;",
		"4_upd.down.sql":   "DROP RULE v_upd ON v;",
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGolangMigrate, files), Provider: provider(t),
		Setup: setup})
	if err != nil {
		t.Fatal(err)
	}
	checkRoundtrips(t, rep, []string{"3", "4"}, map[string][]string{
		"1": {"rule v_ins on v has its definition changed after the down"},
		"2": {"rule v_del on v is left behind by the down", `rule v_ins on v has comment "writes" after the down, was none`},
	})
}
