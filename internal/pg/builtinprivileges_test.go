package pg_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/pg"
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

// TestTouchesBuiltIns: the statements that may write rows of built-in objects are told apart from
// those that cannot, so that the probe looks for such rows only after the first kind.
func TestTouchesBuiltIns(t *testing.T) {
	for sql, want := range map[string]bool{
		`GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_reset() TO r`: true,
		`revoke select on pg_stat_activity from public`:             true,
		`ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO r`:      true,
		`DROP OWNED BY r`:                                                             true,
		`ALTER FUNCTION now() OWNER TO r`:                                             true,
		`ALTER LANGUAGE plpgsql RENAME TO pl`:                                         true,
		`ALTER FUNCTION pg_catalog.now() SET  SCHEMA public`:                          true,
		`ALTER DOMAIN information_schema.sql_identifier SET /* move */ SCHEMA public`: true, // a comment between the words
		"ALTER TABLE information_schema.sql_features SET -- move\nSCHEMA public":      true,
		`DO $$ BEGIN EXECUTE 'GR' || 'ANT SELECT ON pg_class TO r'; END $$`:           true, // built as it runs
		`DO $$ BEGIN EXECUTE format('%s', current_setting('x.q')); END $$`:            true, // not in the text at all
		`CREATE TABLE t (id int PRIMARY KEY, grantee text)`:                           false,
		`ALTER TABLE t ADD COLUMN note text; CREATE INDEX t_note ON t (note)`:         false,
		`CREATE VIEW v AS SELECT id FROM t; COMMENT ON VIEW v IS 'granted'`:           false,
		`ALTER TABLE t ALTER COLUMN note SET DEFAULT 'x'`:                             false,
		`CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'`:                  false,
		`DO $$ BEGIN EXECUTE 'CREATE INDEX t_id ON t (id)'; END $$`:                   false, // a literal: its words are in the text
		`INSERT INTO t (id) VALUES (1); UPDATE t SET note = 'renamed owner'`:          true,  // words in literals count, which costs a pass, no more
	} {
		if got := pg.TouchesBuiltIns(sql); got != want {
			t.Errorf("TouchesBuiltIns(%q) = %v, want %v", sql, got, want)
		}
	}
}

// TestProbeLooksForBuiltInsWhenTold: the probe's pass over the rows of built-in objects runs only when
// the read is told the SQL may have written some (Ran.BuiltIns), which is what spares the pass after
// most migrations; Inspector.Ran tells so for a GRANT in the script, in a function it calls (also
// through another), or in a trigger function that its DML fires, and not for DDL that grants nothing.
func TestProbeLooksForBuiltInsWhenTold(t *testing.T) {
	ctx := t.Context()
	conn := pgtest.Conn(t)
	exec(t, conn, builtInPrivilegeRole)
	exec(t, conn, `CREATE TABLE t (id int)`)
	in := &pg.Inspector{Ignore: schema.DefaultIgnore, Mode: pg.InspectIncremental}
	const key = "EXECUTE on function pg_catalog.pg_stat_reset() to sg_builtin_r1"
	mark, err := in.Inspect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if ran := in.Ran(`ALTER TABLE t ADD COLUMN b int; CREATE INDEX t_b ON t (b)`, mark); ran != (pg.Ran{}) {
		t.Errorf("DDL that grants nothing: %+v, want the zero Ran", ran)
	}

	// Told nothing, the probe does not look: the grant goes unseen by this incremental read.
	grant := `GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_reset() TO sg_builtin_r1`
	blind := applyReadAs(t, conn, in, mark, grant, pg.Ran{})
	if !blind.Incremental || blind.Catalog().BuiltInPrivileges[key] != nil {
		t.Fatalf("a probe told that nothing wrote built-in rows looked for them (incremental %v)", blind.Incremental)
	}
	exec(t, conn, `REVOKE EXECUTE ON FUNCTION pg_catalog.pg_stat_reset() FROM sg_builtin_r1;
CREATE FUNCTION sg_grant_reset() RETURNS void LANGUAGE plpgsql AS $$
BEGIN GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_reset() TO sg_builtin_r1; END $$;
CREATE FUNCTION sg_setup() RETURNS void LANGUAGE sql AS 'SELECT sg_grant_reset()'`)
	if mark, err = in.Inspect(ctx, conn); err != nil {
		t.Fatal(err)
	}
	// Once the database has a function that grants, any script may run it (from a view, a default, a
	// CHECK constraint...), naming it or not.
	if ran := in.Ran(`ALTER TABLE t ADD COLUMN b int`, mark); !ran.BuiltIns {
		t.Errorf("DDL on a database with a function that grants: %+v, want BuiltIns", ran)
	}

	for _, sql := range []string{grant, `SELECT sg_grant_reset()`, `SELECT sg_setup()`} {
		ran := in.Ran(sql, mark)
		if !ran.BuiltIns {
			t.Errorf("%s: Ran %+v, want BuiltIns", sql, ran)
		}
		after := applyReadAs(t, conn, in, mark, sql, ran)
		if after.Catalog().BuiltInPrivileges[key] == nil {
			t.Errorf("%s: the read after it does not see the grant", sql)
		}
		exec(t, conn, `REVOKE EXECUTE ON FUNCTION pg_catalog.pg_stat_reset() FROM sg_builtin_r1`)
		if mark, err = in.Inspect(ctx, conn); err != nil {
			t.Fatal(err)
		}
	}

	// The trigger's REVOKE, fired by an INSERT.
	exec(t, conn, grant+`;
CREATE FUNCTION sg_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN REVOKE EXECUTE ON FUNCTION pg_catalog.pg_stat_reset() FROM sg_builtin_r1; RETURN NEW; END $$;
CREATE TRIGGER t_insert AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION sg_on_insert()`)
	if mark, err = in.Inspect(ctx, conn); err != nil {
		t.Fatal(err)
	}
	insert := `INSERT INTO t (id) VALUES (1)`
	ran := in.Ran(insert, mark)
	if !ran.BuiltIns {
		t.Errorf("%s, which fires a trigger that revokes: Ran %+v, want BuiltIns", insert, ran)
	}
	if after := applyReadAs(t, conn, in, mark, insert, ran); after.Catalog().BuiltInPrivileges[key] != nil {
		t.Errorf("%s: the read after it still has the revoked privilege", insert)
	}
}

// TestIncrementalReadsBuiltInsThroughFunctions: a function that writes built-in rows runs without the
// script naming it (from a view, a column's default, SQL built as it runs) or builds its GRANT as it
// runs, and a comment splits SET SCHEMA: the probe must still look for built-in rows after each.
// Verify mode checks every read against a whole one (a reviewer found each of these read wrong while
// the probe followed only the names in the script and triggers).
func TestIncrementalReadsBuiltInsThroughFunctions(t *testing.T) {
	conn := pgtest.Conn(t)
	exec(t, conn, builtInPrivilegeRole)
	revoke := `REVOKE EXECUTE ON FUNCTION pg_catalog.pg_stat_reset() FROM sg_builtin_r1`
	cases := []string{
		`CREATE FUNCTION sg_g() RETURNS int LANGUAGE plpgsql AS $$
BEGIN GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_reset() TO sg_builtin_r1; RETURN 1; END $$;
CREATE VIEW v AS SELECT sg_g() AS x; CREATE TABLE t (id int, x int DEFAULT sg_g())`,
		`SELECT * FROM v`, revoke,
		`INSERT INTO t (id) VALUES (1)`, revoke,
		`SELECT query_to_xml('SELECT sg_' || 'g()', true, true, '')`, revoke,
		`CREATE FUNCTION sg_dyn() RETURNS void LANGUAGE plpgsql AS $$
BEGIN EXECUTE 'GR' || 'ANT USAGE ON TYPE int4 TO sg_builtin_r1'; END $$`,
		`SELECT sg_dyn()`,
		`CREATE TABLE n (id int, name information_schema.sql_identifier)`,
		`ALTER DOMAIN information_schema.sql_identifier SET /* move */ SCHEMA public`,
	}
	runIncrementalCases(t, conn, cases, false)
}
