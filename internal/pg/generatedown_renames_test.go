package pg_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// queryText is the first column of the first row of sql, as text.
func queryText(t *testing.T, conn *pgx.Conn, sql string) string {
	t.Helper()
	var s string
	if err := conn.QueryRow(context.Background(), sql).Scan(&s); err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	return s
}

// TestGenerateDownRenames proves the downs of renames and schema moves of types, relations and
// routines: the down renames or moves the object back (no DROP, no CREATE), the catalog is the one
// before the up, the up applies again to the catalog after it, and the rows that use the object keep
// their values.
func TestGenerateDownRenames(t *testing.T) {
	tests := []struct {
		name  string
		setup string
		up    string
		// data is a query whose text result must read the same before the up and after the down.
		data string
	}{
		{name: "enum rename", setup: `CREATE TYPE mood AS ENUM ('sad', 'ok');
			CREATE TABLE t (id int, m mood DEFAULT 'ok' CHECK (m <> 'sad'), ms mood[]); INSERT INTO t VALUES (1, 'ok', '{sad,ok}');
			CREATE FUNCTION fm(m mood) RETURNS text LANGUAGE sql AS 'SELECT m::text';
			CREATE VIEW tv AS SELECT id, m FROM t WHERE m = 'ok'`,
			up: `ALTER TYPE mood RENAME TO feeling`, data: `SELECT string_agg(m::text || ms::text, ',') FROM t`},
		{name: "enum move", setup: `CREATE SCHEMA s; CREATE TYPE mood AS ENUM ('sad', 'ok');
			CREATE TABLE t (id int, m mood); INSERT INTO t VALUES (1, 'ok')`,
			up: `ALTER TYPE mood SET SCHEMA s`, data: `SELECT string_agg(m::text, ',') FROM t`},
		{name: "domain rename and move", setup: `CREATE SCHEMA s; CREATE DOMAIN pos AS int CHECK (VALUE > 0);
			CREATE TABLE t (id int, p pos); INSERT INTO t VALUES (1, 5)`,
			up: `ALTER DOMAIN pos RENAME TO positive; ALTER DOMAIN positive SET SCHEMA s`, data: `SELECT string_agg(p::text, ',') FROM t`},
		{name: "composite rename under functions", setup: `CREATE TYPE pt AS (x int, y int);
			CREATE TABLE t (id int, p pt); INSERT INTO t VALUES (1, ROW(1, 2));
			CREATE FUNCTION px(p pt) RETURNS int LANGUAGE sql AS 'SELECT p.x';
			CREATE FUNCTION mk(x int) RETURNS pt LANGUAGE sql RETURN ROW(x, x)::pt`,
			up: `ALTER TYPE pt RENAME TO point2`, data: `SELECT string_agg(p::text, ',') FROM t`},
		{name: "composite move under a function", setup: `CREATE SCHEMA s; CREATE TYPE pt AS (x int, y int);
			CREATE FUNCTION px(p pt) RETURNS int LANGUAGE sql AS 'SELECT p.x'`,
			up: `ALTER TYPE pt SET SCHEMA s`},
		{name: "range rename", setup: `CREATE TYPE span AS RANGE (subtype = int8);
			CREATE TABLE t (id int, s span); INSERT INTO t VALUES (1, span(1, 5))`,
			up: `ALTER TYPE span RENAME TO period`, data: `SELECT string_agg(s::text, ',') FROM t`},
		{name: "table move", setup: `CREATE SCHEMA s; CREATE TABLE t (id serial PRIMARY KEY, n text);
			CREATE INDEX t_n ON t (n); CREATE TABLE r (tid int REFERENCES t); CREATE VIEW tv AS SELECT n FROM t;
			INSERT INTO t (n) VALUES ('x')`,
			up: `ALTER TABLE t SET SCHEMA s`, data: `SELECT string_agg(id || n, ',') FROM t`},
		{name: "sequence move", setup: `CREATE SCHEMA s; CREATE SEQUENCE q START 5;
			CREATE TABLE t (id bigint DEFAULT nextval('q'), n text); INSERT INTO t (n) VALUES ('x')`,
			up: `ALTER SEQUENCE q SET SCHEMA s`, data: `SELECT string_agg(id || n, ',') FROM t`},
		{name: "view and materialized view move", setup: `CREATE SCHEMA s; CREATE TABLE t (id int); CREATE VIEW v AS SELECT id FROM t;
			CREATE MATERIALIZED VIEW mv AS SELECT id FROM v; CREATE INDEX mv_id ON mv (id)`,
			up: `ALTER VIEW v SET SCHEMA s; ALTER MATERIALIZED VIEW mv SET SCHEMA s`},
		{name: "function rename and move", setup: `CREATE SCHEMA s; CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'SELECT a';
			CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
			CREATE TABLE t (id int); CREATE TRIGGER t_touch BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION touch()`,
			up: `ALTER FUNCTION f(int) RENAME TO g; ALTER FUNCTION g(int) SET SCHEMA s; ALTER FUNCTION touch() RENAME TO touch2`},
		// The default and the index name the configuration, which maps token types to the dictionary: they
		// follow both back.
		{name: "text search configuration rename and dictionary move", setup: `CREATE SCHEMA fts; ` + tsSetup + `;
			CREATE TABLE docs (id int, body text, tsv tsvector DEFAULT to_tsvector('my_cfg', ''));
			CREATE INDEX docs_fts ON docs USING gin (to_tsvector('my_cfg', body));
			INSERT INTO docs (id, body) VALUES (1, 'the cats')`,
			up:   `ALTER TEXT SEARCH CONFIGURATION my_cfg RENAME TO cfg2; ALTER TEXT SEARCH DICTIONARY my_dict SET SCHEMA fts`,
			data: `SELECT string_agg(to_tsvector('my_cfg', body)::text, ',') FROM docs`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := pgtest.Conn(t)
			exec(t, conn, tc.setup)
			var data string
			if tc.data != "" {
				data = queryText(t, conn, tc.data)
			}
			r := runRoundTrip(t, conn, tc.up)
			t.Logf("generated down:\n%s", r.down.SQL)
			if !r.exact() {
				t.Fatalf("round trip not exact:\ndown error: %v\nre-up error: %v\nafter down: %q\nafter re-up: %q",
					r.downErr, r.reUpErr, r.downProblems, r.reUpProblems)
			}
			for _, s := range r.down.Statements() {
				if !strings.HasPrefix(s, "ALTER ") || strings.Contains(s, " DROP ") {
					t.Errorf("down step %q: want renames and moves alone", s)
				}
			}
			if r.down.DataLoss || !r.down.Reversible() {
				t.Errorf("DataLoss %v, Reversible %v: want a lossless down", r.down.DataLoss, r.down.Reversible())
			}
			if tc.data == "" {
				return
			}
			// runRoundTrip leaves the database after the re-up: take it down once more and read the rows.
			if err := applyDown(context.Background(), conn, r.down); err != nil {
				t.Fatalf("down again: %v", err)
			}
			if got := queryText(t, conn, tc.data); got != data {
				t.Errorf("after the down the rows read %q, before the up %q", got, data)
			}
		})
	}
}

// TestGenerateDownRenamesRangeRedefined: a range type re-created under its name with another subtype
// cannot be altered back. Unused, it is dropped and re-created exactly; used by a column, the down says
// so (an irreversible step and its warning) and runs without error instead of failing.
func TestGenerateDownRenamesRangeRedefined(t *testing.T) {
	t.Run("unused", func(t *testing.T) {
		t.Parallel()
		conn := pgtest.Conn(t)
		exec(t, conn, `CREATE TYPE span AS RANGE (subtype = int8); COMMENT ON TYPE span IS 'period'`)
		r := runRoundTrip(t, conn, `DROP TYPE span; CREATE TYPE span AS RANGE (subtype = int4)`)
		t.Logf("generated down:\n%s", r.down.SQL)
		if !r.exact() {
			t.Fatalf("round trip not exact: %v %v %q %q", r.downErr, r.reUpErr, r.downProblems, r.reUpProblems)
		}
	})
	t.Run("used by a column", func(t *testing.T) {
		t.Parallel()
		conn := pgtest.Conn(t)
		exec(t, conn, `CREATE TYPE span AS RANGE (subtype = int8); CREATE TABLE t (id int, s span); INSERT INTO t VALUES (1, span(1, 5))`)
		r := runRoundTrip(t, conn, `ALTER TABLE t DROP COLUMN s; DROP TYPE span; CREATE TYPE span AS RANGE (subtype = int4);
			ALTER TABLE t ADD COLUMN s span`)
		t.Logf("generated down:\n%s\nwarnings: %q", r.down.SQL, r.down.Warnings)
		if r.downErr != nil {
			t.Fatalf("the down must run: %v", r.downErr)
		}
		if r.down.Reversible() || !strings.Contains(strings.Join(r.down.Warnings, "\n"), "column t.s") {
			t.Errorf("want an irreversible step that names column t.s, warnings %q", r.down.Warnings)
		}
		if len(r.downProblems) == 0 {
			t.Errorf("the difference the down leaves must be reported")
		}
	})
}
