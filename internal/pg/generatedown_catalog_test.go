package pg_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/schema"
)

// downCase is an up whose generated down is run on a real server: the catalog after it must be the one
// before the up (and the up apply again), or, when irreversible, the down must say so and run without
// an error.
type downCase struct {
	name, setup, up string
	irreversible    bool
}

func runDownCases(t *testing.T, cases []downCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := pgtest.Conn(t)
			if tc.setup != "" {
				exec(t, conn, tc.setup)
			}
			r := runRoundTrip(t, conn, tc.up)
			t.Logf("generated down:\n%s", r.down.SQL)
			if r.down.Empty() {
				t.Fatalf("no down generated for %s", tc.up)
			}
			if tc.irreversible {
				if r.down.Reversible() || len(r.down.Warnings) == 0 || r.downErr != nil {
					t.Errorf("want an irreversible step, a warning and a down that runs; down error: %v", r.downErr)
				}
				return
			}
			if !r.exact() {
				t.Errorf("round trip not exact:\ndown error: %v\nre-up error: %v\nafter down: %q\nafter re-up: %q",
					r.downErr, r.reUpErr, r.downProblems, r.reUpProblems)
			}
		})
	}
}

// TestGenerateDownTablespaces: a table, a partitioned table, an index (a constraint's too) and a
// materialized view the up moved to another tablespace, or out of one, go back; those the up dropped
// come back in theirs. The tablespace is the server's, made for the test in a folder its OS user owns.
func TestGenerateDownTablespaces(t *testing.T) {
	ts := pgtest.Tablespace(t)
	const rels = `CREATE TABLE t (a int CONSTRAINT t_a UNIQUE); CREATE INDEX i ON t (a); CREATE MATERIALIZED VIEW mv AS SELECT a FROM t;
		CREATE TABLE p (a int) PARTITION BY RANGE (a); INSERT INTO t VALUES (1);`
	moveAll := func(to string) string {
		return `ALTER TABLE t SET TABLESPACE ` + to + `; ALTER INDEX i SET TABLESPACE ` + to + `; ALTER INDEX t_a SET TABLESPACE ` + to +
			`; ALTER MATERIALIZED VIEW mv SET TABLESPACE ` + to + `; ALTER TABLE p SET TABLESPACE ` + to
	}
	t.Run("cases", func(t *testing.T) {
		runDownCases(t, []downCase{
			{name: "moved in", setup: rels, up: moveAll(ts)},
			{name: "moved out", setup: rels + moveAll(ts), up: moveAll("pg_default")},
			{name: "dropped", setup: rels + moveAll(ts), up: `DROP MATERIALIZED VIEW mv; DROP TABLE t, p`},
			{name: "key re-made elsewhere", setup: rels,
				up: `ALTER TABLE t DROP CONSTRAINT t_a; ALTER TABLE t ADD CONSTRAINT t_a UNIQUE (a) USING INDEX TABLESPACE ` + ts},
		})
	})
}

// TestGenerateDownViewRules: a view's rules go back, in an order the server accepts: one the up added
// that writes to a table the up added too is dropped before that table, and one the up dropped (with the
// table it writes to, or with its view) comes back after them, with its comment.
func TestGenerateDownViewRules(t *testing.T) {
	const view = `CREATE TABLE t (a int); CREATE VIEW v AS SELECT a FROM t;`
	const rule = view + ` CREATE TABLE t2 (a int); CREATE RULE v_ins AS ON INSERT TO v DO INSTEAD INSERT INTO t2 VALUES (new.a);
		CREATE RULE "v Del" AS ON DELETE TO v DO INSTEAD NOTHING; COMMENT ON RULE v_ins ON v IS 'writes go to t2';`
	runDownCases(t, []downCase{
		{name: "added with the table it writes to", setup: view,
			up: `CREATE TABLE t2 (a int); CREATE RULE v_ins AS ON INSERT TO v DO INSTEAD INSERT INTO t2 VALUES (new.a)`},
		{name: "replaced", setup: rule, up: `CREATE OR REPLACE RULE v_ins AS ON INSERT TO v DO INSTEAD INSERT INTO t VALUES (new.a)`},
		{name: "dropped with the table it writes to", setup: rule, up: `DROP TABLE t2 CASCADE`},
		{name: "dropped with its view", setup: rule, up: `DROP VIEW v`},
		{name: "view replaced", setup: rule, up: `DROP VIEW v; CREATE VIEW v AS SELECT a, a AS b FROM t`},
		{name: "commented", setup: rule, up: `COMMENT ON RULE v_ins ON v IS NULL; COMMENT ON RULE "v Del" ON v IS 'nothing'`},
	})
}

// TestGenerateDownExtensionMarks: the DEPENDS ON EXTENSION marks of an index, a function, a procedure,
// a trigger and a materialized view go back: a mark the up added is taken off before the down drops the
// extension the up created (a DROP EXTENSION drops what is marked, with no CASCADE), and one the up took
// off, or lost with its object when it dropped the extension, is put back on the object made again.
func TestGenerateDownExtensionMarks(t *testing.T) {
	const objects = `CREATE TABLE t (a int); CREATE INDEX i ON t (a); CREATE MATERIALIZED VIEW mv AS SELECT a FROM t;
		CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
		CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1'; CREATE TRIGGER tg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();
		INSERT INTO t VALUES (1);`
	mark := func(no string) string {
		return `ALTER INDEX i ` + no + `DEPENDS ON EXTENSION hstore; ALTER FUNCTION f() ` + no + `DEPENDS ON EXTENSION hstore;
		ALTER PROCEDURE p() ` + no + `DEPENDS ON EXTENSION hstore; ALTER TRIGGER tg ON t ` + no + `DEPENDS ON EXTENSION hstore;
		ALTER MATERIALIZED VIEW mv ` + no + `DEPENDS ON EXTENSION hstore;`
	}
	const ext = `CREATE EXTENSION hstore;`
	runDownCases(t, []downCase{
		{name: "marked on an extension the up created", setup: objects, up: ext + mark("")},
		{name: "marked", setup: objects + ext, up: mark("")},
		{name: "unmarked", setup: objects + ext + mark(""), up: mark("NO ")},
		{name: "extension dropped with what is marked", setup: objects + ext + mark(""), up: `DROP EXTENSION hstore`},
		{name: "function replaced", setup: objects + ext + mark(""),
			up: `CREATE OR REPLACE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`},
	})
}

// TestGenerateDownShellTypes: a shell type (CREATE TYPE name alone) the up made or dropped goes back,
// in an order the server accepts around the routines that name it; a shell the up defined as a base type,
// and a base type it dropped and left a shell, cannot be undone from the catalog (it holds no base
// type's definition): the down says so and runs without an error.
func TestGenerateDownShellTypes(t *testing.T) {
	const io = `CREATE FUNCTION sh_in(cstring) RETURNS sh LANGUAGE internal IMMUTABLE STRICT AS 'int4in';
		CREATE FUNCTION sh_out(sh) RETURNS cstring LANGUAGE internal IMMUTABLE STRICT AS 'int4out';`
	const base = `CREATE TYPE sh; ` + io + ` CREATE TYPE sh (INPUT = sh_in, OUTPUT = sh_out, LIKE = int4);`
	runDownCases(t, []downCase{
		{name: "made", up: `CREATE TYPE sh`},
		{name: "made with the routines that name it", up: `CREATE TYPE sh; ` + io},
		{name: "dropped", setup: `CREATE TYPE sh; COMMENT ON TYPE sh IS 'later'`, up: `DROP TYPE sh`},
		{name: "dropped with the routines that name it", setup: `CREATE TYPE sh; COMMENT ON TYPE sh IS 'later'; ` + io, up: `DROP TYPE sh CASCADE`},
		{name: "commented", setup: `CREATE TYPE sh`, up: `COMMENT ON TYPE sh IS 'later'`},
		{name: "name given to an enum", setup: `CREATE TYPE sh`, up: `DROP TYPE sh; CREATE TYPE sh AS ENUM ('a')`},
		{name: "defined as a base type", setup: `CREATE TYPE sh; ` + io, up: `CREATE TYPE sh (INPUT = sh_in, OUTPUT = sh_out, LIKE = int4)`,
			irreversible: true},
		{name: "base type left a shell", setup: base, up: `DROP TYPE sh CASCADE; CREATE TYPE sh`, irreversible: true},
	})
}

// TestGenerateDownTableRules: a table's rules go back in an order the server accepts, as a view's do:
// one the up added (or changed) that names a table, a column or a view the up added too is dropped
// before them, and one the up dropped comes back once what it names is there again.
func TestGenerateDownTableRules(t *testing.T) {
	const table = `CREATE TABLE t (a int);`
	const rule = table + ` CREATE TABLE t2 (a int); CREATE VIEW v2 AS SELECT a FROM t2;
		CREATE RULE t_ins AS ON INSERT TO t DO INSTEAD INSERT INTO t2 VALUES (new.a);
		CREATE RULE "t Upd" AS ON UPDATE TO t DO ALSO INSERT INTO v2 VALUES (new.a);`
	runDownCases(t, []downCase{
		{name: "added with the table it writes to", setup: table,
			up: `CREATE TABLE t2 (a int); CREATE RULE t_ins AS ON INSERT TO t DO INSTEAD INSERT INTO t2 VALUES (new.a)`},
		{name: "added with the column it reads", setup: table,
			up: `ALTER TABLE t ADD b int; CREATE RULE t_del AS ON DELETE TO t WHERE old.b > 0 DO INSTEAD NOTHING`},
		{name: "added with the view it writes to", setup: table,
			up: `CREATE VIEW v AS SELECT a FROM t; CREATE RULE t_ins AS ON INSERT TO t WHERE new.a < 0 DO INSTEAD INSERT INTO v VALUES (-new.a)`},
		{name: "replaced to write to a table the up added", setup: rule,
			up: `CREATE TABLE t3 (a int); CREATE OR REPLACE RULE t_ins AS ON INSERT TO t DO INSTEAD INSERT INTO t3 VALUES (new.a)`},
		{name: "dropped with the table it writes to", setup: rule, up: `DROP TABLE t2 CASCADE`},
		{name: "dropped with the view it writes to", setup: rule, up: `DROP VIEW v2 CASCADE`},
		{name: "dropped with its table", setup: rule, up: `DROP TABLE t`},
		{name: "dropped", setup: rule, up: `DROP RULE t_ins ON t; DROP RULE "t Upd" ON t`},
	})
}

// TestGenerateDownTableRuleStatesAndComments: a table rule's state (ENABLE, DISABLE, ENABLE ALWAYS,
// ENABLE REPLICA) and its comment go back, on a rule the down keeps as on one it creates again (which
// starts enabled and without a comment; CREATE OR REPLACE RULE keeps both, DROP loses both).
func TestGenerateDownTableRuleStatesAndComments(t *testing.T) {
	const rules = `CREATE TABLE t (a int); CREATE TABLE t2 (a int);
		CREATE RULE t_ins AS ON INSERT TO t DO INSTEAD INSERT INTO t2 VALUES (new.a);
		CREATE RULE "t Upd" AS ON UPDATE TO t DO ALSO NOTHING; CREATE RULE t_del AS ON DELETE TO t DO INSTEAD NOTHING;
		CREATE RULE t_trunc AS ON DELETE TO t2 DO ALSO NOTHING;`
	const marked = rules + ` ALTER TABLE t DISABLE RULE t_ins; ALTER TABLE t ENABLE ALWAYS RULE "t Upd";
		ALTER TABLE t ENABLE REPLICA RULE t_del; COMMENT ON RULE t_ins ON t IS 'writes go to t2'; COMMENT ON RULE "t Upd" ON t IS 'it''s "kept"';`
	runDownCases(t, []downCase{
		{name: "disabled", setup: rules,
			up: `ALTER TABLE t DISABLE RULE t_ins; ALTER TABLE t ENABLE ALWAYS RULE "t Upd"; ALTER TABLE t ENABLE REPLICA RULE t_del`},
		{name: "enabled", setup: marked, up: `ALTER TABLE t ENABLE RULE t_ins; ALTER TABLE t ENABLE RULE "t Upd"; ALTER TABLE t DISABLE RULE t_del`},
		{name: "commented", setup: marked, up: `COMMENT ON RULE t_ins ON t IS NULL; COMMENT ON RULE t_del ON t IS 'new'`},
		{name: "replaced", setup: marked, up: `CREATE OR REPLACE RULE t_ins AS ON INSERT TO t DO INSTEAD NOTHING`},
		{name: "dropped", setup: marked, up: `DROP RULE t_ins ON t; DROP RULE "t Upd" ON t; DROP RULE t_del ON t`},
		{name: "dropped with the table it writes to", setup: marked, up: `DROP TABLE t2 CASCADE`},
		{name: "dropped with its table", setup: marked, up: `DROP TABLE t CASCADE`},
	})
}

// TestGenerateDownExtensionMembers: what the up gave an extension (ALTER EXTENSION ... ADD) is let go,
// and dropped when the up made it; what the up took from one (ALTER EXTENSION ... DROP) is given back,
// neither dropped nor made again; a member the up let go and dropped cannot come back from the catalog.
func TestGenerateDownExtensionMembers(t *testing.T) {
	const objects = `CREATE EXTENSION hstore; CREATE FUNCTION f(int) RETURNS int LANGUAGE sql AS 'SELECT 1';
		CREATE TABLE t (a int); INSERT INTO t VALUES (1); CREATE TYPE en AS ENUM ('a');`
	const given = objects + ` ALTER EXTENSION hstore ADD FUNCTION f(int); ALTER EXTENSION hstore ADD TABLE t;
		ALTER EXTENSION hstore ADD TYPE en;`
	runDownCases(t, []downCase{
		{name: "function given", setup: objects, up: `ALTER EXTENSION hstore ADD FUNCTION f(int)`},
		{name: "table and type given", setup: objects, up: `ALTER EXTENSION hstore ADD TABLE t; ALTER EXTENSION hstore ADD TYPE en`},
		{name: "made and given", setup: objects,
			up: `CREATE FUNCTION g(int) RETURNS int LANGUAGE sql AS 'SELECT 2'; ALTER EXTENSION hstore ADD FUNCTION g(int)`},
		{name: "given to an extension the up created", setup: `CREATE FUNCTION f(int) RETURNS int LANGUAGE sql AS 'SELECT 1'`,
			up: `CREATE EXTENSION hstore; ALTER EXTENSION hstore ADD FUNCTION f(int)`},
		{name: "function let go", setup: given, up: `ALTER EXTENSION hstore DROP FUNCTION f(int)`},
		{name: "table and type let go", setup: given, up: `ALTER EXTENSION hstore DROP TABLE t; ALTER EXTENSION hstore DROP TYPE en`},
		{name: "an extension's own function let go", setup: objects, up: `ALTER EXTENSION hstore DROP FUNCTION hstore_version_diag(hstore)`},
		{name: "let go and dropped", setup: given, up: `ALTER EXTENSION hstore DROP FUNCTION f(int); DROP FUNCTION f(int)`,
			irreversible: true},
	})
}

// TestExtensionMembersCompared: a down that does not give back what the up took from an extension, or
// let go of what the up gave one, fails the round trip with a sentence that says so: one that does
// nothing, and one that drops the function the up let go of (the catalog after it was the one before
// the up, which left the extension without its member unseen).
func TestExtensionMembersCompared(t *testing.T) {
	const objects = `CREATE EXTENSION hstore; CREATE FUNCTION f(int) RETURNS int LANGUAGE sql AS 'SELECT 1';`
	const letGo = "function public.f(integer) is no longer a member of extension hstore after the down"
	tests := []struct{ name, setup, up, down, want string }{
		{name: "given, nothing done", setup: objects, up: `ALTER EXTENSION hstore ADD FUNCTION f(int)`,
			want: "function public.f(integer) is a member of extension hstore after the down, not before"},
		{name: "let go, nothing done", setup: objects + ` ALTER EXTENSION hstore ADD FUNCTION f(int)`,
			up: `ALTER EXTENSION hstore DROP FUNCTION f(int)`, want: letGo},
		{name: "let go, dropped by the down", setup: objects + ` ALTER EXTENSION hstore ADD FUNCTION f(int)`,
			up: `ALTER EXTENSION hstore DROP FUNCTION f(int)`, down: `DROP FUNCTION f(int)`, want: letGo},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := pgtest.Conn(t)
			exec(t, conn, tc.setup)
			before := inspect(t, conn)
			exec(t, conn, tc.up)
			if tc.down != "" {
				exec(t, conn, tc.down)
			}
			got := schema.Describe(schema.Compare(before, inspect(t, conn)), schema.DownPhrasing)
			if !slices.Contains(got, tc.want) {
				t.Errorf("got %q, want %q among them", got, tc.want)
			}
		})
	}
}

// setDatabase is a statement that sets the current database's clause (SET x = y, RESET x), whatever the
// test database is called.
func setDatabase(clause string) string {
	return `DO $$BEGIN EXECUTE format('ALTER DATABASE %I ', current_database()) || ` + schema.Literal(clause) + `; END$$`
}

// TestGenerateDownDatabaseSettings: what the up set, changed or reset of the database's own settings
// (ALTER DATABASE ... SET) goes back, in the database the down runs in.
func TestGenerateDownDatabaseSettings(t *testing.T) {
	runDownCases(t, []downCase{
		{name: "set", up: setDatabase("SET work_mem = '64MB'")},
		{name: "changed", setup: setDatabase("SET statement_timeout = '5s'"), up: setDatabase("SET statement_timeout = '1min'")},
		{name: "a list reset", setup: setDatabase(`SET search_path = app, "my app"`), up: setDatabase("RESET search_path")},
		{name: "all reset", setup: setDatabase("SET work_mem = '8MB'") + "; " + setDatabase("SET lock_timeout = '3s'"),
			up: setDatabase("RESET ALL")},
	})
}

// TestDatabaseSettingsCompared: a down that leaves the database's settings as the up made them fails
// the round trip with a sentence that says so, as for a role's: the round trip compared only the
// roles' settings, and an up that set one with a down that did nothing passed.
func TestDatabaseSettingsCompared(t *testing.T) {
	tests := []struct{ name, setup, up, want string }{
		{name: "set", up: setDatabase("SET work_mem = '64MB'"), want: "the database's setting work_mem is 64MB after the down, was not set"},
		{name: "reset", setup: setDatabase("SET work_mem = '8MB'"), up: setDatabase("RESET work_mem"),
			want: "the database's setting work_mem is not set after the down, was 8MB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := pgtest.Conn(t)
			if tc.setup != "" {
				exec(t, conn, tc.setup)
			}
			before := inspect(t, conn)
			exec(t, conn, tc.up)
			got := schema.Describe(schema.Compare(before, inspect(t, conn)), schema.DownPhrasing)
			if !slices.Equal(got, []string{tc.want}) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// onDatabase is a statement that runs head, the current database's name, then tail, whatever the test
// database is called.
func onDatabase(head, tail string) string {
	return `DO $$BEGIN EXECUTE format('` + head + ` %I ', current_database()) || ` + schema.Literal(tail) + `; END$$`
}

// databaseRole is the role the database's privileges cases grant to and give the database to. The
// tests share one server: whichever test makes it first does.
const databaseRole = `DO $$ BEGIN CREATE ROLE sg_db_r1; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`

// databaseCases are ups that change the database's privileges, owner, comment or connection limit, and
// what a down that does nothing is told.
var databaseCases = []struct{ name, setup, up, want string }{
	{name: "granted", up: onDatabase("GRANT CONNECT, CREATE, TEMPORARY ON DATABASE", "TO sg_db_r1"),
		want: "privilege CONNECT on the database to sg_db_r1 is left behind by the down\n" +
			"privilege CREATE on the database to sg_db_r1 is left behind by the down\n" +
			"privilege TEMPORARY on the database to sg_db_r1 is left behind by the down"},
	{name: "PUBLIC's revoked", up: onDatabase("REVOKE TEMPORARY ON DATABASE", "FROM PUBLIC"),
		want: "privilege TEMPORARY on the database to PUBLIC is not restored by the down"},
	{name: "the owner's revoked", up: onDatabase("REVOKE CREATE ON DATABASE", "FROM CURRENT_USER"),
		want: "privilege CREATE on the database to postgres is not restored by the down"},
	{name: "a grant option", setup: onDatabase("GRANT CREATE ON DATABASE", "TO sg_db_r1"),
		up:   onDatabase("GRANT CREATE ON DATABASE", "TO sg_db_r1 WITH GRANT OPTION"),
		want: "privilege CREATE on the database to sg_db_r1 is held with grant option after the down, was without grant option"},
	{name: "commented", up: onDatabase("COMMENT ON DATABASE", "IS 'orders db'"),
		want: `the database's comment is "orders db" after the down, was none`},
	{name: "comment removed", setup: onDatabase("COMMENT ON DATABASE", "IS 'orders db'"), up: onDatabase("COMMENT ON DATABASE", "IS NULL"),
		want: `the database's comment is none after the down, was "orders db"`},
	{name: "connection limit", up: onDatabase("ALTER DATABASE", "CONNECTION LIMIT 50"),
		want: "the database's connection limit is 50 after the down, was none"},
	{name: "owner", up: onDatabase("ALTER DATABASE", "OWNER TO sg_db_r1"),
		want: "the database's owner is sg_db_r1 after the down, was postgres"},
	{name: "owner with privileges", setup: onDatabase("REVOKE CONNECT ON DATABASE", "FROM PUBLIC"),
		up:   onDatabase("ALTER DATABASE", "OWNER TO sg_db_r1"),
		want: "the database's owner is sg_db_r1 after the down, was postgres"},
}

// TestDatabasePrivilegesCompared: a down that leaves the database's privileges (GRANT ... ON DATABASE,
// one privilege of one grantee, against its owner's defaults), owner, comment or connection limit as the
// up made them fails the round trip with a sentence that says so: they were read nowhere, and such an
// up with a down that did nothing passed.
func TestDatabasePrivilegesCompared(t *testing.T) {
	exec(t, pgtest.Conn(t), databaseRole)
	for _, tc := range databaseCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := pgtest.Conn(t)
			if tc.setup != "" {
				exec(t, conn, tc.setup)
			}
			before := inspect(t, conn)
			exec(t, conn, tc.up)
			got := schema.Describe(schema.Compare(before, inspect(t, conn)), schema.DownPhrasing)
			if strings.Join(got, "\n") != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestGenerateDownDatabasePrivileges: what the up did to the database's privileges, owner, comment or
// connection limit goes back, in the database the down runs in.
func TestGenerateDownDatabasePrivileges(t *testing.T) {
	exec(t, pgtest.Conn(t), databaseRole)
	var cases []downCase
	for _, tc := range databaseCases {
		cases = append(cases, downCase{name: tc.name, setup: tc.setup, up: tc.up})
	}
	t.Run("cases", func(t *testing.T) { runDownCases(t, cases) })
}

// TestParameterPrivilegesCompared: GRANT SET and ALTER SYSTEM ON PARAMETER (pg_parameter_acl, PostgreSQL
// 15+) left by a down that does nothing fail the round trip, and a generated down revokes them. They
// are the server's: the test is not parallel, and revokes what it granted.
func TestParameterPrivilegesCompared(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	var version int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version < 150000 {
		// The read must not fail on a server without pg_parameter_acl.
		inspect(t, conn)
		t.Skip("no privileges on parameters before PostgreSQL 15")
	}
	exec(t, conn, databaseRole)
	const up = `GRANT SET ON PARAMETER work_mem TO sg_db_r1; GRANT ALTER SYSTEM ON PARAMETER lock_timeout TO sg_db_r1 WITH GRANT OPTION`
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), `REVOKE SET ON PARAMETER work_mem FROM sg_db_r1; REVOKE ALTER SYSTEM ON PARAMETER lock_timeout FROM sg_db_r1 CASCADE`)
	})
	before := inspect(t, conn)
	exec(t, conn, up)
	got := schema.Describe(schema.Compare(before, inspect(t, conn)), schema.DownPhrasing)
	want := []string{"privilege ALTER SYSTEM on parameter lock_timeout to sg_db_r1 is left behind by the down",
		"privilege SET on parameter work_mem to sg_db_r1 is left behind by the down"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	exec(t, conn, `REVOKE SET ON PARAMETER work_mem FROM sg_db_r1; REVOKE ALTER SYSTEM ON PARAMETER lock_timeout FROM sg_db_r1 CASCADE`)
	if d := schema.Compare(before, inspect(t, conn)); !d.Empty() {
		t.Fatalf("revoked, yet: %q", schema.Describe(d, schema.DownPhrasing))
	}
	r := runRoundTrip(t, conn, up)
	t.Logf("generated down:\n%s", r.down.SQL)
	if !r.exact() {
		t.Errorf("round trip not exact:\ndown error: %v\nre-up error: %v\nafter down: %q\nafter re-up: %q",
			r.downErr, r.reUpErr, r.downProblems, r.reUpProblems)
	}
}
