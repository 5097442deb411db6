package rehearse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestRoundTripSeesPrivilegesOnBuiltInObjects: GRANT and REVOKE on built-in objects (a pg_catalog
// function, view and language) and on an extension's objects are in the compared catalog, where they
// differ from the initial privileges as pg_dump writes them out. A down that does nothing fails its
// round trip, one problem per privilege it leaves; downs that undo them exactly pass. The catalog reads
// run incrementally where they may (the suite verifies each against a whole read).
func TestRoundTripSeesPrivilegesOnBuiltInObjects(t *testing.T) {
	files := map[string]string{
		"1_extension.up.sql": `GRANT EXECUTE ON FUNCTION pg_stat_statements_reset(oid, oid, bigint) TO sg_acl_r1;
GRANT SELECT ON pg_stat_statements TO sg_acl_r1;`,
		"1_extension.down.sql": "SELECT 1;",
		"2_function.up.sql":    "GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_reset() TO sg_acl_r1;",
		"2_function.down.sql":  "SELECT 1;",
		"3_view.up.sql":        "REVOKE SELECT ON pg_catalog.pg_stat_activity FROM PUBLIC;",
		"3_view.down.sql":      "SELECT 1;",
		"4_language.up.sql":    "REVOKE USAGE ON LANGUAGE plpgsql FROM PUBLIC;",
		"4_language.down.sql":  "SELECT 1;",
		"5_exact.up.sql": `CREATE TABLE t (id int);
GRANT EXECUTE ON FUNCTION pg_read_binary_file(text) TO sg_acl_r1;
GRANT SELECT ON pg_catalog.pg_stat_activity TO PUBLIC;
REVOKE SELECT ON pg_stat_statements FROM PUBLIC;`,
		"5_exact.down.sql": `GRANT SELECT ON pg_stat_statements TO PUBLIC;
REVOKE SELECT ON pg_catalog.pg_stat_activity FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pg_read_binary_file(text) FROM sg_acl_r1;
DROP TABLE t;`,
		"6_leftover.up.sql":   "GRANT EXECUTE ON FUNCTION pg_read_binary_file(text, bigint, bigint) TO sg_acl_r1;",
		"6_leftover.down.sql": "REVOKE EXECUTE ON FUNCTION pg_read_binary_file(text, bigint, bigint) FROM PUBLIC;",
	}
	setupSQL := `CREATE ROLE sg_acl_r1; CREATE EXTENSION pg_stat_statements;`
	setup := []*migrate.Script{{File: "setup.sql", SQL: setupSQL, Statements: sqlparse.Parse(setupSQL)}}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGolangMigrate, files),
		Provider: provider(t), Setup: setup})
	if err != nil {
		t.Fatal(err)
	}
	checkRoundtrips(t, rep, []string{"5"}, map[string][]string{
		"1": {"privilege EXECUTE on function public.pg_stat_statements_reset(oid, oid, bigint) to sg_acl_r1 is left behind by the down",
			"privilege SELECT on view public.pg_stat_statements to sg_acl_r1 is left behind by the down"},
		"2": {"privilege EXECUTE on function pg_catalog.pg_stat_reset() to sg_acl_r1 is left behind by the down"},
		"3": {"privilege SELECT on view pg_catalog.pg_stat_activity to PUBLIC is not restored by the down"},
		"4": {"privilege USAGE on language plpgsql to PUBLIC is not restored by the down"},
		"6": {"privilege EXECUTE on function pg_catalog.pg_read_binary_file(text, bigint, bigint) to sg_acl_r1 is left behind by the down"},
	})
	for _, v := range []string{"2", "3", "4", "6"} {
		if rt := migration(t, rep, v).Roundtrip; rt != nil && len(rt.Problems) != 1 {
			t.Errorf("migration %s: %d problems, want 1:\n%s", v, len(rt.Problems), strings.Join(rt.Problems, "\n"))
		}
	}
}
