package pg_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/schema"
)

// builtInPrivilegeRole is the role the built-in privileges cases grant to. The tests share one server:
// whichever test makes it first does.
const builtInPrivilegeRole = `DO $$ BEGIN CREATE ROLE sg_builtin_r1; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`

// TestBuiltInPrivilegesCompared: GRANT and REVOKE on built-in objects (pg_catalog's functions, views,
// tables' columns, types and schema, information_schema's views, the plpgsql language) and on an
// extension's objects are read where they differ from the initial privileges (pg_init_privs), and a
// down that does not undo them is told so, one sentence per privilege, as pg_dump would have written
// them out. A fresh database has none of them; a generated down puts each back.
func TestBuiltInPrivilegesCompared(t *testing.T) {
	cases := []struct {
		name, setup, up string
		want            []string
	}{
		{name: "execute on a built-in function", up: `GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_reset() TO sg_builtin_r1`,
			want: []string{"privilege EXECUTE on function pg_catalog.pg_stat_reset() to sg_builtin_r1 is left behind by the down"}},
		{name: "PUBLIC's select on a built-in view", up: `REVOKE SELECT ON pg_catalog.pg_stat_activity FROM PUBLIC`,
			want: []string{"privilege SELECT on view pg_catalog.pg_stat_activity to PUBLIC is not restored by the down"}},
		{name: "PUBLIC's usage on plpgsql", up: `REVOKE USAGE ON LANGUAGE plpgsql FROM PUBLIC`,
			want: []string{"privilege USAGE on language plpgsql to PUBLIC is not restored by the down"}},
		{name: "an extension's view and function", setup: `CREATE EXTENSION pg_stat_statements`,
			up: `GRANT SELECT ON pg_stat_statements TO sg_builtin_r1; GRANT EXECUTE ON FUNCTION pg_stat_statements_info() TO sg_builtin_r1`,
			want: []string{"privilege EXECUTE on function public.pg_stat_statements_info() to sg_builtin_r1 is left behind by the down",
				"privilege SELECT on view public.pg_stat_statements to sg_builtin_r1 is left behind by the down"}},
		{name: "an extension's revoked initial privilege", setup: `CREATE EXTENSION pg_stat_statements`,
			up:   `REVOKE SELECT ON pg_stat_statements FROM PUBLIC`,
			want: []string{"privilege SELECT on view public.pg_stat_statements to PUBLIC is not restored by the down"}},
		{name: "a built-in table's column", up: `GRANT SELECT (subname) ON pg_catalog.pg_subscription TO sg_builtin_r1`,
			want: []string{"privilege SELECT (subname) on table pg_catalog.pg_subscription to sg_builtin_r1 is left behind by the down"}},
		// A column's privileges with no initial ones, and an ACL emptied of every grant, held no array
		// aclexplode takes: the whole catalog read failed (ACL arrays must be one-dimensional).
		{name: "a built-in table's column with no initial privileges", up: `GRANT SELECT (relname) ON pg_catalog.pg_class TO sg_builtin_r1`,
			want: []string{"privilege SELECT (relname) on table pg_catalog.pg_class to sg_builtin_r1 is left behind by the down"}},
		{name: "an extension view's column", setup: `CREATE EXTENSION pg_stat_statements`, up: `GRANT SELECT (query) ON pg_stat_statements TO sg_builtin_r1`,
			want: []string{"privilege SELECT (query) on view public.pg_stat_statements to sg_builtin_r1 is left behind by the down"}},
		{name: "every privilege revoked from a built-in function", up: `REVOKE ALL ON FUNCTION pg_catalog.pg_stat_reset() FROM CURRENT_USER`,
			want: []string{"privilege EXECUTE on function pg_catalog.pg_stat_reset() to postgres is not restored by the down"}},
		{name: "the grant option on a built-in schema and type", setup: `GRANT USAGE ON TYPE int4 TO sg_builtin_r1`,
			up: `GRANT USAGE ON SCHEMA pg_catalog TO sg_builtin_r1 WITH GRANT OPTION; GRANT USAGE ON TYPE int4 TO sg_builtin_r1 WITH GRANT OPTION`,
			want: []string{"privilege USAGE on schema pg_catalog to sg_builtin_r1 is left behind by the down",
				"privilege USAGE on type pg_catalog.int4 to sg_builtin_r1 is held with grant option after the down, was without grant option"}},
		{name: "information_schema's initial grants", up: `REVOKE SELECT ON information_schema.tables FROM PUBLIC`,
			want: []string{"privilege SELECT on view information_schema.tables to PUBLIC is not restored by the down"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := pgtest.Conn(t)
			exec(t, conn, builtInPrivilegeRole)
			fresh := inspect(t, conn)
			if len(fresh.BuiltInPrivileges) > 0 {
				t.Fatalf("a fresh database has privileges on built-in objects that differ from the initial ones: %v", slices.Sorted(maps.Keys(fresh.BuiltInPrivileges)))
			}
			if tc.setup != "" {
				exec(t, conn, tc.setup)
			}
			before := inspect(t, conn)
			exec(t, conn, tc.up)
			after := inspect(t, conn)
			// A down that does nothing leaves the up's privileges behind.
			got := schema.Describe(schema.Compare(before, after), schema.DownPhrasing)
			if !slices.Equal(got, tc.want) {
				t.Errorf("after %s, a down that does nothing is described\n%s\nwant\n%s", tc.up, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			// Exactly undone, by REVOKE and GRANT: no difference.
			down := schema.GenerateDown(before, after)
			if err := applyDown(t.Context(), conn, down); err != nil {
				t.Fatalf("generated down: %v\n%s", err, down.SQL)
			}
			if d := schema.Describe(schema.Compare(before, inspect(t, conn)), schema.DownPhrasing); len(d) > 0 {
				t.Errorf("after the generated down:\n%s\n--- down:\n%s", strings.Join(d, "\n"), down.SQL)
			}
		})
	}
}

// TestIncrementalReadsBuiltInPrivileges: GRANT and REVOKE on built-in objects and on an extension's
// write those objects' rows (outside the user range, or of an extension's member) and lock nothing:
// each read after them must be whole. Verify mode checks every read against a whole one, in the
// middle of the case's transaction, after it is rolled back and after it commits.
func TestIncrementalReadsBuiltInPrivileges(t *testing.T) {
	conn := pgtest.Conn(t)
	exec(t, conn, builtInPrivilegeRole)
	cases := []string{
		`CREATE TABLE t (a int)`,
		`GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_reset() TO sg_builtin_r1; REVOKE SELECT ON pg_catalog.pg_stat_activity FROM PUBLIC`,
		`REVOKE USAGE ON LANGUAGE plpgsql FROM PUBLIC; GRANT USAGE ON TYPE int4 TO sg_builtin_r1 WITH GRANT OPTION`,
		`ALTER TABLE t ADD COLUMN b int`,
		`REVOKE EXECUTE ON FUNCTION pg_catalog.pg_stat_reset() FROM sg_builtin_r1; GRANT SELECT ON pg_catalog.pg_stat_activity TO PUBLIC;
		 GRANT USAGE ON LANGUAGE plpgsql TO PUBLIC; REVOKE USAGE ON TYPE int4 FROM sg_builtin_r1`,
		`GRANT USAGE ON SCHEMA pg_catalog TO sg_builtin_r1; REVOKE SELECT ON information_schema.tables FROM PUBLIC`,
		`CREATE EXTENSION pg_stat_statements`,
		`GRANT SELECT ON pg_stat_statements TO sg_builtin_r1; GRANT EXECUTE ON FUNCTION pg_stat_statements_info() TO sg_builtin_r1`,
		`REVOKE SELECT ON pg_stat_statements FROM PUBLIC, sg_builtin_r1`,
		`DROP EXTENSION pg_stat_statements`,
	}
	in := runIncrementalCases(t, conn, cases, false)
	if in.Partial == 0 {
		t.Errorf("no incremental read out of %d: the incremental path is not taken", in.Full)
	}
}
