package pg_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/schema"
)

// applyRead runs sql in a transaction, commits it with its locks and reads the catalog incrementally
// since mark (the inspector is in verify mode: the read is checked against a full one).
func applyRead(t *testing.T, conn *pgx.Conn, in *pg.Inspector, mark *pg.Mark, sql string) *pg.Mark {
	t.Helper()
	return applyReadAs(t, conn, in, mark, sql, in.Ran(sql, mark))
}

// applyReadAs is applyRead with the read told ran (see pg.Ran) instead of what sql shows.
func applyReadAs(t *testing.T, conn *pgx.Conn, in *pg.Inspector, mark *pg.Mark, sql string, ran pg.Ran) *pg.Mark {
	t.Helper()
	ctx := context.Background()
	exec(t, conn, "BEGIN")
	exec(t, conn, sql)
	locks, err := in.Locks(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, conn, "COMMIT")
	next, err := in.Since(ctx, conn, mark, locks, ran)
	if err != nil {
		t.Fatalf("read after %q: %v", sql, err)
	}
	return next
}

// downSentences applies base, up and down, and describes how the catalog after the down differs from
// the one before the up.
func downSentences(t *testing.T, base, up, down string) []string {
	t.Helper()
	conn := pgtest.Conn(t)
	exec(t, conn, base)
	in := &pg.Inspector{Ignore: withoutRoles, Mode: pg.InspectVerify}
	before, err := in.Inspect(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	afterUp := applyRead(t, conn, in, before, up)
	afterDown := applyRead(t, conn, in, afterUp, down)
	return schema.Describe(schema.Compare(before.Catalog(), afterDown.Catalog()), schema.DownPhrasing)
}

// TestCompareCatalogProperties reads, on a real server, the properties a down must restore that are
// easy to miss: for each, a down that forgets it is caught with the exact sentence, and the right down
// passes. Every read is incremental and checked against a full one.
func TestCompareCatalogProperties(t *testing.T) {
	cases := []struct {
		name, base, up, bad, good string
		want                      []string
	}{
		{name: "table moved to another schema", base: `CREATE SCHEMA s2; CREATE TABLE t (a int); CREATE INDEX t_a_idx ON t (a)`,
			up: `ALTER TABLE IF EXISTS t SET SCHEMA s2`, bad: `SELECT 1`, good: `ALTER TABLE s2.t SET SCHEMA public`,
			want: []string{"table public.t is named s2.t after the down"}},
		// Lists PostgreSQL keeps in the order they were set, which a down may set in another order.
		{name: "function settings in another order", base: `CREATE FUNCTION g() RETURNS int LANGUAGE sql SET search_path = public SET work_mem = '64MB' AS 'SELECT 1'`,
			up: `ALTER FUNCTION g() RESET search_path`, bad: `SELECT 1`, good: `ALTER FUNCTION g() SET search_path = public`,
			want: []string{"function g() has its configuration changed after the down: nothing, was \"search_path=public\""}},
		{name: "index options in another order", base: `CREATE TABLE t (a int); CREATE INDEX i ON t (a) WITH (fillfactor = 70, deduplicate_items = off)`,
			up: `ALTER INDEX i RESET (fillfactor)`, bad: `SELECT 1`, good: `ALTER INDEX i SET (fillfactor = 70)`,
			want: []string{"index i has its definition changed after the down: \"… (a) WITH (deduplicate_items=off)\", was \"… (a) WITH (deduplicate_items=off, fillfactor='70')\""}},
		{name: "policy roles in another order", base: `DO $$ BEGIN CREATE ROLE sg_pol_ra; CREATE ROLE sg_pol_rb; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
CREATE TABLE t (a int); CREATE POLICY p ON t TO sg_pol_ra, sg_pol_rb USING (true)`,
			up: `DROP POLICY p ON t`, bad: `CREATE POLICY p ON t TO sg_pol_ra USING (true)`, good: `CREATE POLICY p ON t TO sg_pol_rb, sg_pol_ra USING (true)`,
			want: []string{"policy p on t has roles sg_pol_ra after the down, was sg_pol_ra, sg_pol_rb"}},
		{name: "extended statistics target", base: `CREATE TABLE t (a int, b int); CREATE STATISTICS st ON a, b FROM t`,
			up: `ALTER STATISTICS st SET STATISTICS 500`, bad: `SELECT 1`, good: `ALTER STATISTICS st SET STATISTICS -1`,
			want: []string{"table t has its extended statistics changed after the down: \"CREATE STATISTICS public.st ON a, b FROM t; ALTER STATISTICS public.st SET STATISTICS 500\", was \"CREATE STATISTICS public.st ON a, b FROM t\""}},
		{name: "table moved on by the down", base: `CREATE SCHEMA s2; CREATE SCHEMA s3; CREATE TABLE t (a int)`,
			up: `ALTER TABLE t SET SCHEMA s2`, bad: `ALTER TABLE s2.t SET SCHEMA s3`, good: `ALTER TABLE s2.t SET SCHEMA public`,
			want: []string{"table public.t is named s3.t after the down"}},
		{name: "enum moved", base: `CREATE SCHEMA s2; CREATE TYPE e AS ENUM ('a')`,
			up: `ALTER TYPE e SET SCHEMA s2`, bad: `SELECT 1`, good: `ALTER TYPE s2.e SET SCHEMA public`,
			want: []string{"enum public.e is named s2.e after the down"}},
		{name: "materialized view with no data", base: `CREATE TABLE t (a int); CREATE MATERIALIZED VIEW mv AS SELECT a FROM t`,
			up:   `DROP MATERIALIZED VIEW mv; CREATE MATERIALIZED VIEW mv AS SELECT a, 1 AS b FROM t`,
			bad:  `DROP MATERIALIZED VIEW mv; CREATE MATERIALIZED VIEW mv AS SELECT a FROM t WITH NO DATA`,
			good: `DROP MATERIALIZED VIEW mv; CREATE MATERIALIZED VIEW mv AS SELECT a FROM t`,
			want: []string{"materialized view mv is not populated (WITH NO DATA) after the down, was populated"}},
		{name: "foreign key triggers disabled", base: `CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (pid int REFERENCES p)`,
			up: `ALTER TABLE c DISABLE TRIGGER ALL`, bad: `SELECT 1`, good: `ALTER TABLE c ENABLE TRIGGER ALL`,
			want: []string{"table c has internal or cloned triggers not enabled after the down: (constraint c_pid_fkey: disabled), was none"}},
		{name: "partition's trigger clone disabled", base: `CREATE TABLE m (k int) PARTITION BY LIST (k);
				CREATE TABLE m1 PARTITION OF m FOR VALUES IN (1);
				CREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
				CREATE TRIGGER trg BEFORE INSERT ON m FOR EACH ROW EXECUTE FUNCTION tf()`,
			up: `ALTER TABLE m1 DISABLE TRIGGER trg`, bad: `SELECT 1`, good: `ALTER TABLE m1 ENABLE TRIGGER trg`,
			want: []string{"table m1 has internal or cloned triggers not enabled after the down: (trg (cloned): disabled), was none"}},
		{name: "toast storage parameter", base: `CREATE TABLE t (a text)`,
			up: `ALTER TABLE t SET (toast.autovacuum_enabled = false)`, bad: `SELECT 1`, good: `ALTER TABLE t RESET (toast.autovacuum_enabled)`,
			want: []string{"table t has storage parameters toast.autovacuum_enabled=false after the down, was none"}},
		{name: "materialized view toast storage parameter", base: `CREATE MATERIALIZED VIEW mv_docs AS SELECT 1 AS id, 'x'::text AS body`,
			up: `ALTER MATERIALIZED VIEW mv_docs SET (toast.autovacuum_enabled = false)`, bad: `SELECT 1`,
			good: `ALTER MATERIALIZED VIEW mv_docs RESET (toast.autovacuum_enabled)`,
			want: []string{"materialized view mv_docs has options toast.autovacuum_enabled=false after the down, was none"}},
		{name: "column options and compression", base: `CREATE TABLE t (a text)`,
			up: `ALTER TABLE t ALTER COLUMN a SET (n_distinct = 100); ALTER TABLE t ALTER COLUMN a SET COMPRESSION pglz`, bad: `SELECT 1`,
			good: `ALTER TABLE t ALTER COLUMN a RESET (n_distinct); ALTER TABLE t ALTER COLUMN a SET COMPRESSION DEFAULT`,
			want: []string{"column t.a has compression pglz after the down, was default", "column t.a has options n_distinct=100 after the down, was none"}},
		{name: "index column statistics", base: `CREATE TABLE t (a int); CREATE INDEX t_expr_idx ON t ((a + 1))`,
			up: `ALTER INDEX t_expr_idx ALTER COLUMN 1 SET STATISTICS 1000`, bad: `SELECT 1`, good: `ALTER INDEX t_expr_idx ALTER COLUMN 1 SET STATISTICS -1`,
			want: []string{"index t_expr_idx has statistics targets 1: 1000 after the down, was none"}},
		{name: "rule state and comment", base: `CREATE TABLE t (a int); CREATE RULE r AS ON DELETE TO t DO INSTEAD NOTHING`,
			up: `ALTER TABLE t DISABLE RULE r; COMMENT ON RULE r ON t IS 'x'`, bad: `SELECT 1`,
			good: `ALTER TABLE t ENABLE RULE r; COMMENT ON RULE r ON t IS NULL`,
			want: []string{"rule r on t is disabled after the down, was enabled", "rule r on t has comment \"x\" after the down, was none"}},
		{name: "rule left behind", base: `CREATE TABLE t (a int)`,
			up: `CREATE RULE r AS ON DELETE TO t DO INSTEAD NOTHING`, bad: `SELECT 1`, good: `DROP RULE r ON t`,
			want: []string{"rule r on t is left behind by the down"}},
		{name: "policy comment and rename", base: `CREATE TABLE t (a int); CREATE POLICY p ON t USING (true); CREATE POLICY q ON t USING (true)`,
			up: `COMMENT ON POLICY p ON t IS 'x'; ALTER POLICY q ON t RENAME TO q2`, bad: `SELECT 1`,
			good: `COMMENT ON POLICY p ON t IS NULL; ALTER POLICY q2 ON t RENAME TO q`,
			want: []string{"policy p on t has comment \"x\" after the down, was none", "policy q on t is named q2 after the down"}},
		{name: "domain constraint comment", base: `CREATE DOMAIN d AS int CONSTRAINT c CHECK (VALUE > 0)`,
			up: `COMMENT ON CONSTRAINT c ON DOMAIN d IS 'x'`, bad: `SELECT 1`, good: `COMMENT ON CONSTRAINT c ON DOMAIN d IS NULL`,
			want: []string{`domain d has comment on constraint c "x" after the down, was none`}},
		{name: "identity options", base: `CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY)`,
			up: `ALTER TABLE t ALTER COLUMN id SET INCREMENT BY 10 SET START 100 SET CACHE 5`, bad: `SELECT 1`,
			good: `ALTER TABLE t ALTER COLUMN id SET INCREMENT BY 1 SET START 1 SET CACHE 1`,
			want: []string{"column t.id has identity always (START WITH 100 INCREMENT BY 10 CACHE 5) after the down, was always"}},
		{name: "identity sequence persistence", base: `CREATE TABLE it2 (id int GENERATED ALWAYS AS IDENTITY)`,
			up: `ALTER SEQUENCE it2_id_seq SET UNLOGGED`, bad: `SELECT 1`, good: `ALTER SEQUENCE it2_id_seq SET LOGGED`,
			want: []string{"column it2.id has its identity sequence unlogged after the down, was logged"}},
		{name: "identity sequence type", base: `CREATE TABLE it3 (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)`,
			up: `ALTER SEQUENCE it3_id_seq AS integer`, bad: `SELECT 1`, good: `ALTER SEQUENCE it3_id_seq AS bigint`,
			want: []string{"column it3.id has identity sequence type integer after the down, was the column's"}},
		{name: "identity re-added with other options", base: `CREATE TABLE t (id int NOT NULL GENERATED BY DEFAULT AS IDENTITY)`,
			up:   `ALTER TABLE t ALTER COLUMN id DROP IDENTITY`,
			bad:  `ALTER TABLE t ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (MAXVALUE 1000 CYCLE)`,
			good: `ALTER TABLE t ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY`,
			want: []string{"column t.id has identity by default (MAXVALUE 1000 CYCLE) after the down, was by default"}},
		{name: "view and materialized view columns", base: `CREATE TABLE t (a int); CREATE VIEW v AS SELECT a FROM t;
				CREATE MATERIALIZED VIEW mv AS SELECT a FROM t;
				DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sg_compare_ro') THEN CREATE ROLE sg_compare_ro; END IF; END $$`,
			up: `ALTER VIEW v ALTER COLUMN a SET DEFAULT 42; COMMENT ON COLUMN v.a IS 'x'; GRANT SELECT (a) ON v TO sg_compare_ro;
				COMMENT ON COLUMN mv.a IS 'y'; ALTER MATERIALIZED VIEW mv ALTER COLUMN a SET STATISTICS 900`, bad: `SELECT 1`,
			good: `ALTER VIEW v ALTER COLUMN a DROP DEFAULT; COMMENT ON COLUMN v.a IS NULL; REVOKE SELECT (a) ON v FROM sg_compare_ro;
				COMMENT ON COLUMN mv.a IS NULL; ALTER MATERIALIZED VIEW mv ALTER COLUMN a SET STATISTICS -1`,
			want: []string{"column mv.a has comment \"y\" after the down, was none", "column mv.a has statistics target 900 after the down, was default",
				"column v.a has default 42 after the down, was none", "column v.a has comment \"x\" after the down, was none",
				"column v.a has privileges sg_compare_ro=r/{me} after the down, was none"}},
		{name: "composite type attributes", base: `CREATE TYPE addr AS (street text, city text)`,
			up:   `ALTER TYPE addr ADD ATTRIBUTE zip varchar(10) CASCADE; ALTER TYPE addr ALTER ATTRIBUTE city TYPE varchar(80) CASCADE; COMMENT ON COLUMN addr.street IS 'x'`,
			bad:  `ALTER TYPE addr DROP ATTRIBUTE zip CASCADE`,
			good: `ALTER TYPE addr DROP ATTRIBUTE zip CASCADE; ALTER TYPE addr ALTER ATTRIBUTE city TYPE text CASCADE; COMMENT ON COLUMN addr.street IS NULL`,
			want: []string{`composite type addr has attributes (street text, city character varying(80)) after the down, was (street text, city text)`,
				`composite type addr has comment on attribute street "x" after the down, was none`}},
		{name: "composite type left behind, renamed and moved", base: `CREATE SCHEMA s2; CREATE TYPE pair AS (a int, b int); CREATE TABLE u (p pair)`,
			up:   `CREATE TYPE extra AS (x int); ALTER TYPE pair RENAME TO couple; COMMENT ON TYPE couple IS 'y'`,
			bad:  `ALTER TYPE couple SET SCHEMA s2`,
			good: `DROP TYPE extra; ALTER TYPE couple RENAME TO pair; COMMENT ON TYPE pair IS NULL`,
			want: []string{"composite type extra is left behind by the down", "composite type public.pair is named s2.couple after the down",
				`composite type s2.couple has comment "y" after the down, was none`}},
		{name: "aggregate definition", base: `CREATE AGGREGATE mysum(int) (SFUNC = int4pl, STYPE = int, INITCOND = '0')`,
			up:   `DROP AGGREGATE mysum(int); CREATE AGGREGATE mysum(int) (SFUNC = int4pl, STYPE = int, INITCOND = '1')`,
			bad:  `DROP AGGREGATE mysum(int); CREATE AGGREGATE mysum(int) (SFUNC = int4pl, STYPE = int, INITCOND = '5')`,
			good: `DROP AGGREGATE mysum(int); CREATE AGGREGATE mysum(int) (SFUNC = int4pl, STYPE = int, INITCOND = '0')`,
			want: []string{`aggregate mysum(integer) has its definition changed after the down: "… INITCOND = '5')", was "… INITCOND = '0')"`}},
		{name: "aggregate MFINALFUNC_MODIFY", base: `CREATE AGGREGATE msum(int) (SFUNC = int4pl, STYPE = int, MSFUNC = int4pl, MINVFUNC = int4mi, MSTYPE = int, MFINALFUNC = int4abs)`,
			up:   `CREATE OR REPLACE AGGREGATE msum(int) (SFUNC = int4pl, STYPE = int, MSFUNC = int4pl, MINVFUNC = int4mi, MSTYPE = int, MFINALFUNC = int4abs, MFINALFUNC_MODIFY = SHAREABLE)`,
			bad:  `SELECT 1`,
			good: `CREATE OR REPLACE AGGREGATE msum(int) (SFUNC = int4pl, STYPE = int, MSFUNC = int4pl, MINVFUNC = int4mi, MSTYPE = int, MFINALFUNC = int4abs)`,
			want: []string{`aggregate msum(integer) has its definition changed after the down: "… MFINALFUNC = int4abs, MFINALFUNC_MODIFY = SHAREABLE)", was "… MFINALFUNC = int4abs)"`}},
		{name: "function attributes", base: `CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT x'`,
			up: `ALTER FUNCTION f(int) STABLE STRICT SECURITY DEFINER PARALLEL SAFE COST 5 SET work_mem = '8MB'`, bad: `SELECT 1`,
			good: `ALTER FUNCTION f(int) VOLATILE CALLED ON NULL INPUT SECURITY INVOKER PARALLEL UNSAFE COST 100 RESET ALL`,
			want: []string{"function f(x integer) is STABLE after the down, was VOLATILE",
				"function f(x integer) is STRICT after the down, was CALLED ON NULL INPUT",
				"function f(x integer) is SECURITY DEFINER after the down, was SECURITY INVOKER",
				"function f(x integer) is PARALLEL SAFE after the down, was PARALLEL UNSAFE",
				"function f(x integer) has COST 5 after the down, was COST 100",
				"function f(x integer) has configuration work_mem=8MB after the down, was none"}},
		{name: "view definition region", base: `CREATE TABLE t (a int); CREATE VIEW v AS SELECT a FROM t`,
			up:   `CREATE OR REPLACE VIEW v AS SELECT a FROM t WHERE a > 1`,
			bad:  `CREATE OR REPLACE VIEW v AS SELECT a FROM t WHERE a >= 0`,
			good: `CREATE OR REPLACE VIEW v AS SELECT a FROM t`,
			want: []string{`view v has its definition changed after the down: "FROM t WHERE (t.a >= 0);", was "FROM t;"`}},
		{name: "range type left behind", base: `SELECT 1`,
			up: `CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi)`, bad: `SELECT 1`, good: `DROP TYPE floatrange`,
			want: []string{"range type floatrange is left behind by the down"}},
		{name: "renames say no more", base: `CREATE TABLE t (a int PRIMARY KEY); CREATE INDEX t_a_idx ON t (a);
				CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT x'`,
			up: `ALTER TABLE t RENAME TO t2; ALTER INDEX t_a_idx RENAME TO t_a_idx2; ALTER FUNCTION f(int) RENAME TO f2`, bad: `SELECT 1`,
			good: `ALTER TABLE t2 RENAME TO t; ALTER INDEX t_a_idx2 RENAME TO t_a_idx; ALTER FUNCTION f2(int) RENAME TO f`,
			want: []string{"table t is named t2 after the down", "index t_a_idx is named t_a_idx2 after the down",
				"function f(x integer) is named f2(x integer) after the down"}},
		{name: "function arguments renamed", base: `CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT 1'`,
			up: `DROP FUNCTION f(int); CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'SELECT 1'`, bad: `SELECT 1`,
			good: `DROP FUNCTION f(int); CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT 1'`,
			want: []string{"function f(x integer) has its parameters renamed after the down: f(a integer)",
				`function f(a integer) has its definition changed after the down: "CREATE OR REPLACE FUNCTION public.f(a integer)", was "CREATE OR REPLACE FUNCTION public.f(x integer)"`}},
		{name: "collation put back on the default", base: `CREATE TABLE t (a text COLLATE "C", b text)`,
			up: `ALTER TABLE t ALTER COLUMN a TYPE text COLLATE "default", ALTER COLUMN b TYPE text COLLATE "C"`, bad: `SELECT 1`,
			good: `ALTER TABLE t ALTER COLUMN a TYPE text COLLATE "C", ALTER COLUMN b TYPE text COLLATE "default"`,
			want: []string{`column t.a has the default collation after the down, was collation "C"`,
				`column t.b has collation "C" after the down, was the default collation`}},
		{name: "policy made restrictive", base: `CREATE TABLE t (a int); CREATE POLICY p ON t USING (a > 0)`,
			up: `DROP POLICY p ON t; CREATE POLICY p ON t AS RESTRICTIVE USING (a > 0)`, bad: `SELECT 1`,
			good: `DROP POLICY p ON t; CREATE POLICY p ON t USING (a > 0)`,
			want: []string{"policy p on t is RESTRICTIVE after the down, was PERMISSIVE"}},
		{name: "trigger state and replica identity", base: `CREATE TABLE t (a int PRIMARY KEY);
				CREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
				CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION tf()`,
			up: `ALTER TABLE t ENABLE ALWAYS TRIGGER trg; ALTER TABLE t REPLICA IDENTITY FULL`, bad: `SELECT 1`,
			good: `ALTER TABLE t ENABLE TRIGGER trg; ALTER TABLE t REPLICA IDENTITY DEFAULT`,
			want: []string{"table t has replica identity full after the down, was default (primary key)",
				"trigger trg on t is enabled always after the down, was enabled"}},
		{name: "sequence owner and inheritance", base: `CREATE TABLE par (a int); CREATE TABLE ch (a int) INHERITS (par); CREATE SEQUENCE s`,
			up: `ALTER TABLE ch NO INHERIT par; ALTER SEQUENCE s OWNED BY par.a`, bad: `SELECT 1`,
			good: `ALTER TABLE ch INHERIT par; ALTER SEQUENCE s OWNED BY NONE`,
			want: []string{"table ch inherits nothing after the down, was par",
				"column ch.a is declared locally after the down, was declared locally and inherited",
				"sequence s is owned by par.a after the down, was owned by nothing"}},
		{name: "typed table made plain", base: `CREATE TYPE pair AS (a int, b text); CREATE TABLE t OF pair`,
			up: `ALTER TABLE t NOT OF`, bad: `SELECT 1`, good: `ALTER TABLE t OF pair`,
			want: []string{"table t is no longer of type pair after the down"}},
		{name: "table made typed", base: `CREATE SCHEMA s2; CREATE TYPE pair AS (a int, b text); CREATE TYPE s2.pair AS (a int, b text);
				CREATE TABLE t (a int, b text)`,
			up: `ALTER TABLE t OF pair`, bad: `ALTER TABLE t NOT OF; ALTER TABLE t OF s2.pair`, good: `ALTER TABLE t NOT OF`,
			want: []string{"table t is of type s2.pair after the down, was not a typed table"}},
		{name: "foreign table left behind", base: `CREATE FOREIGN DATA WRAPPER w; CREATE SERVER s FOREIGN DATA WRAPPER w`,
			up: `CREATE FOREIGN TABLE ft (a int) SERVER s`, bad: `SELECT 1`, good: `DROP FOREIGN TABLE ft`,
			want: []string{"foreign table ft is left behind by the down"}},
		{name: "foreign table columns and options", base: `CREATE FOREIGN DATA WRAPPER w; CREATE SERVER s FOREIGN DATA WRAPPER w;
				CREATE FOREIGN TABLE ft (a int OPTIONS (column_name 'A'), b text) SERVER s OPTIONS (x 'y')`,
			up: `ALTER FOREIGN TABLE ft OPTIONS (SET x 'z', ADD q '1'); ALTER FOREIGN TABLE ft ALTER COLUMN a OPTIONS (SET column_name 'B');
				ALTER FOREIGN TABLE ft ADD COLUMN c int; ALTER FOREIGN TABLE ft DROP COLUMN b`,
			bad: `ALTER FOREIGN TABLE ft OPTIONS (SET x 'y')`,
			good: `ALTER FOREIGN TABLE ft OPTIONS (SET x 'y', DROP q); ALTER FOREIGN TABLE ft ALTER COLUMN a OPTIONS (SET column_name 'A');
				ALTER FOREIGN TABLE ft DROP COLUMN c; ALTER FOREIGN TABLE ft ADD COLUMN b text`,
			want: []string{"column ft.c is left behind by the down", "column ft.b is not restored by the down",
				"foreign table ft has options q=1, x=y after the down, was x=y", "column ft.a has foreign options column_name=B after the down, was column_name=A"}},
		{name: "foreign table server", base: `CREATE FOREIGN DATA WRAPPER w; CREATE SERVER s FOREIGN DATA WRAPPER w; CREATE SERVER s2 FOREIGN DATA WRAPPER w;
				CREATE FOREIGN TABLE ft (a int) SERVER s`,
			up: `DROP FOREIGN TABLE ft; CREATE FOREIGN TABLE ft (a int) SERVER s2`, bad: `ALTER SERVER s RENAME TO s3`,
			good: `DROP FOREIGN TABLE ft; CREATE FOREIGN TABLE ft (a int) SERVER s`,
			want: []string{"foreign table ft has server s2 after the down, was s", "server s is named s3 after the down"}},
		// UPDATE OF a, b fires as UPDATE OF b, a does: a down that re-creates the trigger with its columns in
		// another order is right, one with other columns is not.
		{name: "trigger columns in another order", base: `CREATE TABLE t (a int, b int, c int);
				CREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
				CREATE TRIGGER trg BEFORE UPDATE OF b, a ON t FOR EACH ROW EXECUTE FUNCTION tf()`,
			up:   `DROP TRIGGER trg ON t`,
			bad:  `CREATE TRIGGER trg BEFORE UPDATE OF c, b ON t FOR EACH ROW EXECUTE FUNCTION tf()`,
			good: `CREATE TRIGGER trg BEFORE UPDATE OF a, b ON t FOR EACH ROW EXECUTE FUNCTION tf()`,
			want: []string{`trigger trg on t has its definition changed after the down: "… UPDATE OF b, c …", was "… UPDATE OF a, b …"`}},
		{name: "text search configuration mappings", base: `CREATE TEXT SEARCH CONFIGURATION my_cfg (COPY = simple)`,
			up: `ALTER TEXT SEARCH CONFIGURATION my_cfg ALTER MAPPING FOR asciiword WITH english_stem;
				ALTER TEXT SEARCH CONFIGURATION my_cfg DROP MAPPING FOR email`, bad: `SELECT 1`,
			good: `ALTER TEXT SEARCH CONFIGURATION my_cfg ALTER MAPPING FOR asciiword WITH simple;
				ALTER TEXT SEARCH CONFIGURATION my_cfg ADD MAPPING FOR email WITH simple`,
			want: []string{"text search configuration my_cfg maps asciiword to english_stem after the down, was simple",
				"text search configuration my_cfg maps email to nothing after the down, was simple"}},
		// The options ALTER TEXT SEARCH DICTIONARY sets go to the end of the list: a down that sets back
		// the one the up changed leaves them in another order, and is right.
		{name: "text search dictionary options", base: `CREATE TEXT SEARCH DICTIONARY my_dict (TEMPLATE = simple, STOPWORDS = english, ACCEPT = false)`,
			up: `ALTER TEXT SEARCH DICTIONARY my_dict (STOPWORDS = russian)`, bad: `SELECT 1`,
			good: `ALTER TEXT SEARCH DICTIONARY my_dict (STOPWORDS = english)`,
			want: []string{"text search dictionary my_dict has options accept = 'false', stopwords = 'russian' after the down, was accept = 'false', stopwords = 'english'"}},
		{name: "text search dictionary order, owner, comment", base: `DO $$ BEGIN CREATE ROLE sg_ts_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
				CREATE TEXT SEARCH DICTIONARY my_dict (TEMPLATE = simple);
				CREATE TEXT SEARCH CONFIGURATION my_cfg (COPY = simple);
				ALTER TEXT SEARCH CONFIGURATION my_cfg ALTER MAPPING FOR word WITH my_dict, simple`,
			up: `ALTER TEXT SEARCH CONFIGURATION my_cfg ALTER MAPPING FOR word WITH simple, my_dict;
				COMMENT ON TEXT SEARCH CONFIGURATION my_cfg IS 'x'; ALTER TEXT SEARCH DICTIONARY my_dict OWNER TO sg_ts_owner;
				COMMENT ON TEXT SEARCH DICTIONARY my_dict IS 'd'; CREATE TEXT SEARCH CONFIGURATION extra (COPY = simple)`,
			bad: `DROP TEXT SEARCH CONFIGURATION extra; DROP TEXT SEARCH CONFIGURATION my_cfg`,
			good: `ALTER TEXT SEARCH CONFIGURATION my_cfg ALTER MAPPING FOR word WITH my_dict, simple;
				COMMENT ON TEXT SEARCH CONFIGURATION my_cfg IS NULL; ALTER TEXT SEARCH DICTIONARY my_dict OWNER TO CURRENT_USER;
				COMMENT ON TEXT SEARCH DICTIONARY my_dict IS NULL; DROP TEXT SEARCH CONFIGURATION extra`,
			want: []string{"text search configuration my_cfg is not restored by the down",
				"text search dictionary my_dict has owner sg_ts_owner after the down, was {me}",
				`text search dictionary my_dict has comment "d" after the down, was none`}},
		{name: "text search configuration left behind", base: `CREATE TEXT SEARCH CONFIGURATION my_cfg (COPY = simple)`,
			up: `CREATE TEXT SEARCH CONFIGURATION extra (COPY = simple); COMMENT ON TEXT SEARCH CONFIGURATION my_cfg IS 'x';
				ALTER TEXT SEARCH CONFIGURATION my_cfg ALTER MAPPING FOR word WITH simple, english_stem`,
			bad: `COMMENT ON TEXT SEARCH CONFIGURATION my_cfg IS NULL`,
			good: `DROP TEXT SEARCH CONFIGURATION extra; COMMENT ON TEXT SEARCH CONFIGURATION my_cfg IS NULL;
				ALTER TEXT SEARCH CONFIGURATION my_cfg ALTER MAPPING FOR word WITH simple`,
			want: []string{"text search configuration extra is left behind by the down",
				"text search configuration my_cfg maps word to simple, english_stem after the down, was simple"}},
		// A column default and an index expression name the configuration: renamed, they read the new
		// name, and the rename alone is the difference.
		{name: "text search configuration renamed under a default and an index", base: `CREATE SCHEMA s2;
				CREATE TEXT SEARCH CONFIGURATION my_cfg (COPY = english);
				CREATE TABLE docs (body text, tsv tsvector DEFAULT to_tsvector('public.my_cfg', ''));
				CREATE INDEX docs_fts ON docs USING gin (to_tsvector('my_cfg', body))`,
			up: `ALTER TEXT SEARCH CONFIGURATION my_cfg RENAME TO cfg2`, bad: `ALTER TEXT SEARCH CONFIGURATION cfg2 SET SCHEMA s2`,
			good: `ALTER TEXT SEARCH CONFIGURATION cfg2 RENAME TO my_cfg`,
			want: []string{"text search configuration public.my_cfg is named s2.cfg2 after the down"}},
		// The tags of WHEN TAG IN compare in any order.
		{name: "event trigger tags", base: `CREATE FUNCTION evt() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
				CREATE EVENT TRIGGER et ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE') EXECUTE FUNCTION evt()`,
			up:   `DROP EVENT TRIGGER et; CREATE EVENT TRIGGER et2 ON sql_drop EXECUTE FUNCTION evt()`,
			bad:  `CREATE EVENT TRIGGER et ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION evt()`,
			good: `DROP EVENT TRIGGER et2; CREATE EVENT TRIGGER et ON ddl_command_end WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE') EXECUTE FUNCTION evt()`,
			want: []string{"event trigger et2 is left behind by the down",
				"event trigger et has tags CREATE TABLE after the down, was ALTER TABLE, CREATE TABLE"}},
		// A renamed trigger function is the function's difference alone.
		{name: "event trigger state, comment and rename", base: `CREATE FUNCTION evt() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
				CREATE EVENT TRIGGER et ON ddl_command_end EXECUTE FUNCTION evt()`,
			up: `ALTER EVENT TRIGGER et DISABLE; COMMENT ON EVENT TRIGGER et IS 'x'; ALTER EVENT TRIGGER et RENAME TO et_new;
				ALTER FUNCTION evt() RENAME TO evt_fn`,
			bad: `ALTER EVENT TRIGGER et_new RENAME TO et`,
			good: `ALTER EVENT TRIGGER et_new RENAME TO et; ALTER EVENT TRIGGER et ENABLE; COMMENT ON EVENT TRIGGER et IS NULL;
				ALTER FUNCTION evt_fn() RENAME TO evt`,
			want: []string{"function evt() is named evt_fn() after the down", "event trigger et is disabled after the down, was enabled",
				`event trigger et has comment "x" after the down, was none`}},
		// NO INHERIT leaves the child's inherited columns and CHECK constraints on it, declared locally;
		// INHERIT again keeps them so: dropping the parent's column would no longer drop the child's.
		{name: "inherited columns and constraints declared locally", base: `CREATE TABLE par (id bigint, a int CHECK (a > 0));
				CREATE TABLE ch (b int) INHERITS (par)`,
			up: `ALTER TABLE ch NO INHERIT par`, bad: `ALTER TABLE ch INHERIT par`,
			good: `DROP TABLE ch; CREATE TABLE ch (b int) INHERITS (par)`,
			want: []string{"column ch.a is declared locally and inherited after the down, was inherited only",
				"column ch.id is declared locally and inherited after the down, was inherited only",
				"constraint par_a_check on ch is declared locally and inherited after the down, was inherited only"}},
		{name: "inherited from two parents", base: `CREATE TABLE par1 (a int CONSTRAINT a_pos CHECK (a > 0));
				CREATE TABLE par2 (a int CONSTRAINT a_pos CHECK (a > 0)); CREATE TABLE ch (b int) INHERITS (par1, par2)`,
			up: `ALTER TABLE ch NO INHERIT par2`, bad: `SELECT 1`, good: `ALTER TABLE ch INHERIT par2`,
			want: []string{"table ch inherits par1 after the down, was par1, par2",
				"column ch.a is inherited only after the down, was inherited only (from 2 parents)",
				"constraint a_pos on ch is inherited only after the down, was inherited only (from 2 parents)"}},
		// A partition's columns and constraints are inherited only again once attached.
		{name: "partition detached", base: `CREATE TABLE p (id int, a int CHECK (a > 0), PRIMARY KEY (id)) PARTITION BY RANGE (id);
				CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10)`,
			up: `ALTER TABLE p DETACH PARTITION p1`, bad: `SELECT 1`, good: `ALTER TABLE p ATTACH PARTITION p1 FOR VALUES FROM (0) TO (10)`,
			want: []string{"table p1 is no longer a partition of p after the down",
				"table p1 has partition bound none after the down, was FOR VALUES FROM (0) TO (10)",
				"column p1.a is declared locally after the down, was inherited only", "column p1.id is declared locally after the down, was inherited only",
				"constraint p1_pkey on p1 is declared locally after the down, was inherited only",
				"constraint p_a_check on p1 is declared locally after the down, was inherited only"}},
		// Extended statistics and collations are lines of their table's and schema's definitions; their
		// owners and comments compare as their own.
		{name: "statistics and collation owners and comments", base: `DO $$ BEGIN CREATE ROLE sg_note_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
				CREATE TABLE t (id bigint, k int); CREATE STATISTICS st ON id, k FROM t;
				CREATE COLLATION mycoll (provider = icu, locale = 'und')`,
			up: `COMMENT ON STATISTICS st IS 'x'; ALTER STATISTICS st OWNER TO sg_note_owner;
				COMMENT ON COLLATION mycoll IS 'y'; ALTER COLLATION mycoll OWNER TO sg_note_owner`,
			bad: `SELECT 1`,
			good: `COMMENT ON STATISTICS st IS NULL; ALTER STATISTICS st OWNER TO CURRENT_USER;
				COMMENT ON COLLATION mycoll IS NULL; ALTER COLLATION mycoll OWNER TO CURRENT_USER`,
			want: []string{"statistics st has owner sg_note_owner after the down, was {me}", `statistics st has comment "x" after the down, was none`,
				"collation mycoll has owner sg_note_owner after the down, was {me}", `collation mycoll has comment "y" after the down, was none`}},
		// Created again, a statistics object or a collation has no comment: the table's and the schema's
		// definitions are the same, the comments are not.
		{name: "statistics and collation created again without their comments", base: `CREATE SCHEMA s2;
				CREATE TABLE t (id bigint, k int); CREATE STATISTICS s2.st ON id, k FROM t; COMMENT ON STATISTICS s2.st IS 'x';
				CREATE COLLATION mycoll (provider = icu, locale = 'und'); COMMENT ON COLLATION mycoll IS 'y'`,
			up:  `DROP STATISTICS s2.st; DROP COLLATION mycoll`,
			bad: `CREATE STATISTICS s2.st ON id, k FROM t; CREATE COLLATION mycoll (provider = icu, locale = 'und')`,
			good: `CREATE STATISTICS s2.st ON id, k FROM t; CREATE COLLATION mycoll (provider = icu, locale = 'und');
				COMMENT ON STATISTICS s2.st IS 'x'; COMMENT ON COLLATION mycoll IS 'y'`,
			want: []string{`statistics s2.st has comment none after the down, was "x"`, `collation mycoll has comment none after the down, was "y"`}},
		// Publications: what each publishes of its tables, its schemas, operations and options.
		{name: "publication left behind and not restored", base: `CREATE TABLE orders (id int PRIMARY KEY, total int);
				CREATE PUBLICATION app_pub FOR TABLE orders; COMMENT ON PUBLICATION app_pub IS 'cdc'`,
			up:   `DROP PUBLICATION app_pub; CREATE PUBLICATION new_pub FOR TABLE orders`,
			bad:  `CREATE PUBLICATION app_pub FOR TABLE orders`,
			good: `DROP PUBLICATION new_pub; CREATE PUBLICATION app_pub FOR TABLE orders; COMMENT ON PUBLICATION app_pub IS 'cdc'`,
			want: []string{"publication new_pub is left behind by the down", `publication app_pub has comment none after the down, was "cdc"`}},
		{name: "publication tables, row filters and column lists", base: `CREATE TABLE orders (id int PRIMARY KEY, total int, note text);
				CREATE TABLE users (id int PRIMARY KEY, email text); CREATE TABLE items (id int PRIMARY KEY);
				CREATE PUBLICATION app_pub FOR TABLE orders (id, total) WHERE (total > 0), users`,
			up: `ALTER PUBLICATION app_pub DROP TABLE users; ALTER PUBLICATION app_pub ADD TABLE items;
				ALTER PUBLICATION app_pub SET TABLE orders (total, id, note) WHERE (total > 10), items`,
			bad: `ALTER PUBLICATION app_pub SET TABLE orders WHERE (total > 0), items, users`,
			good: `ALTER PUBLICATION app_pub DROP TABLE items; ALTER PUBLICATION app_pub ADD TABLE users;
				ALTER PUBLICATION app_pub DROP TABLE orders; ALTER PUBLICATION app_pub ADD TABLE orders (total, id) WHERE (total > 0)`,
			want: []string{"publication app_pub publishes all columns of table items after the down, did not before",
				"publication app_pub publishes all columns WHERE (total > 0) of table orders after the down, was columns (id, total) WHERE (total > 0)"}},
		{name: "publication operations, options, schemas, owner", base: `DO $$ BEGIN CREATE ROLE sg_pub_owner SUPERUSER; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
				CREATE SCHEMA s1; CREATE SCHEMA s2; CREATE TABLE s1.t (a int);
				CREATE PUBLICATION app_pub FOR TABLES IN SCHEMA s1 WITH (publish = 'insert, update, delete')`,
			up: `ALTER PUBLICATION app_pub SET (publish = 'insert', publish_via_partition_root = true);
				ALTER PUBLICATION app_pub DROP TABLES IN SCHEMA s1; ALTER PUBLICATION app_pub ADD TABLES IN SCHEMA s2;
				ALTER PUBLICATION app_pub OWNER TO sg_pub_owner`,
			bad: `ALTER PUBLICATION app_pub SET (publish_via_partition_root = false)`,
			good: `ALTER PUBLICATION app_pub SET (publish = 'insert, delete, update', publish_via_partition_root = false);
				ALTER PUBLICATION app_pub SET TABLES IN SCHEMA s1; ALTER PUBLICATION app_pub OWNER TO CURRENT_USER`,
			want: []string{"publication app_pub publishes insert after the down, was insert, update, delete",
				"publication app_pub publishes the tables in schema s2 after the down, did not before",
				"publication app_pub has owner sg_pub_owner after the down, was {me}",
				"publication app_pub no longer publishes the tables in schema s1 after the down"}},
		{name: "publication for all tables, renamed", base: `CREATE TABLE t (a int); CREATE PUBLICATION app_pub FOR TABLE t WITH (publish_via_partition_root = true)`,
			up:   `ALTER PUBLICATION app_pub RENAME TO app_pub2`,
			bad:  `DROP PUBLICATION app_pub2; CREATE PUBLICATION app_pub FOR ALL TABLES`,
			good: `ALTER PUBLICATION app_pub2 RENAME TO app_pub`,
			want: []string{"publication app_pub is FOR ALL TABLES after the down, was not FOR ALL TABLES",
				"publication app_pub has publish_via_partition_root off after the down, was on",
				"publication app_pub no longer publishes table t after the down"}},
		// A renamed table is the same table of the publication: its rename is the one difference.
		{name: "published table renamed", base: `CREATE TABLE orders (id int, total int); CREATE PUBLICATION app_pub FOR TABLE orders (id) WHERE (total > 0)`,
			up: `ALTER TABLE orders RENAME TO purchases`, bad: `SELECT 1`, good: `ALTER TABLE purchases RENAME TO orders`,
			want: []string{"table orders is named purchases after the down"}},
		// Column order: what SELECT *, INSERT and COPY without a column list see. The holes dropped
		// columns leave in attnum are no difference.
		{name: "column re-created at the end", base: `CREATE TABLE t (a int, b text, c int)`,
			up:   `ALTER TABLE t DROP COLUMN b`,
			bad:  `ALTER TABLE t ADD COLUMN b text`,
			good: `ALTER TABLE t RENAME TO t_old; CREATE TABLE t (a int, b text, c int); INSERT INTO t (a, c) SELECT a, c FROM t_old; DROP TABLE t_old`,
			want: []string{"column t.b is column 3 after the down, was column 2", "column t.c is column 2 after the down, was column 3"}},
		{name: "table rewritten with its columns in another order", base: `CREATE TABLE t (a int, b int); ALTER TABLE t ADD COLUMN x int; ALTER TABLE t DROP COLUMN x`,
			up:   `ALTER TABLE t ADD COLUMN c int; ALTER TABLE t ADD COLUMN a2 int; ALTER TABLE t DROP COLUMN a; ALTER TABLE t RENAME COLUMN a2 TO a`,
			bad:  `ALTER TABLE t DROP COLUMN c`,
			good: `ALTER TABLE t DROP COLUMN c; ALTER TABLE t ADD COLUMN b2 int; ALTER TABLE t DROP COLUMN b; ALTER TABLE t RENAME COLUMN b2 TO b`,
			want: []string{"column t.a is column 2 after the down, was column 1", "column t.b is column 1 after the down, was column 2"}},
	}
	t.Cleanup(func() {
		_, _ = pgtest.Conn(t).Exec(context.Background(), "DROP ROLE IF EXISTS sg_pub_owner")
		_, _ = pgtest.Conn(t).Exec(context.Background(), "DROP ROLE IF EXISTS sg_compare_ro")
		_, _ = pgtest.Conn(t).Exec(context.Background(), "DROP ROLE IF EXISTS sg_ts_owner")
		_, _ = pgtest.Conn(t).Exec(context.Background(), "DROP ROLE IF EXISTS sg_note_owner")
	})
	var me string
	if err := pgtest.Conn(t).QueryRow(context.Background(), "SELECT current_user").Scan(&me); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.want {
				tc.want[i] = strings.ReplaceAll(tc.want[i], "{me}", me)
			}
			got := downSentences(t, tc.base, tc.up, tc.bad)
			if !slices.Equal(got, tc.want) {
				t.Errorf("bad down: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if got := downSentences(t, tc.base, tc.up, tc.good); len(got) > 0 {
				t.Errorf("good down: got\n%s", strings.Join(got, "\n"))
			}
		})
	}
}
