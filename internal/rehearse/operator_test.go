package rehearse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// opFunctions are the functions the operators and classes of these tests use.
const opFunctions = `CREATE FUNCTION int_same(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
CREATE FUNCTION int_cmp3(int, int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT CASE WHEN $1 < $2 THEN -1 WHEN $1 > $2 THEN 1 ELSE 0 END';
`

// boxOperator is a type, an operator < (int, bt_box) and a btree support function for them, which
// ALTER OPERATOR FAMILY can add to the built-in integer_ops.
const boxOperator = `CREATE TYPE bt_box AS (v int);
CREATE FUNCTION int_lt_box(int, bt_box) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 < $2.v';
CREATE FUNCTION int_cmp_box(int, bt_box) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT btint4cmp($1, $2.v)';
CREATE OPERATOR < (LEFTARG = int, RIGHTARG = bt_box, FUNCTION = int_lt_box);
`

// TestOperatorsAndTextSearchParsers: operators, operator families and classes (with their members), and
// text search parsers and templates are in the compared catalog. A down that leaves them behind, does not
// create again one the up dropped, or does not take back an ALTER of them, fails its round trip and says
// what it left; a down that undoes them passes.
func TestOperatorsAndTextSearchParsers(t *testing.T) {
	files := map[string]string{
		"00001_ops.sql": `-- +goose Up
` + opFunctions + `CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = int_same, COMMUTATOR = ===, RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR FAMILY fam USING btree;
CREATE OPERATOR CLASS int_ops FOR TYPE int USING btree FAMILY fam AS OPERATOR 3 ===, FUNCTION 1 int_cmp3(int, int);
CREATE TEXT SEARCH PARSER prs (START = prsd_start, GETTOKEN = prsd_nexttoken, END = prsd_end, LEXTYPES = prsd_lextype);
CREATE TEXT SEARCH TEMPLATE tmpl (LEXIZE = dsimple_lexize);
-- +goose Down
DROP TEXT SEARCH TEMPLATE tmpl;
DROP TEXT SEARCH PARSER prs;
DROP OPERATOR FAMILY fam USING btree;
DROP OPERATOR === (int, int);
DROP FUNCTION int_cmp3(int, int);
DROP FUNCTION int_same(int, int);
`,
		"00002_forgets.sql": `-- +goose Up
CREATE OPERATOR ==== (LEFTARG = int, RIGHTARG = int, FUNCTION = int_same);
CREATE OPERATOR FAMILY fam2 USING hash;
CREATE TEXT SEARCH TEMPLATE tmpl2 (INIT = dsimple_init, LEXIZE = dsimple_lexize);
-- +goose Down
SELECT 1;
`,
		"00003_alters.sql": `-- +goose Up
ALTER OPERATOR === (int, int) SET (RESTRICT = scalarltsel);
COMMENT ON OPERATOR === (int, int) IS 'same';
ALTER OPERATOR FAMILY fam USING btree ADD OPERATOR 1 < (int, bigint);
COMMENT ON OPERATOR CLASS int_ops USING btree IS 'ops';
COMMENT ON TEXT SEARCH PARSER prs IS 'p';
-- +goose Down
SELECT 1;
`,
		"00004_drops.sql": `-- +goose Up
DROP OPERATOR ==== (int, int);
DROP TEXT SEARCH TEMPLATE tmpl2;
-- +goose Down
SELECT 1;
`,
		// Members added to a built-in family are the user's: a down that leaves them, or does not add
		// back those the up dropped, fails.
		"00005_box.sql": `-- +goose Up
` + boxOperator + `-- +goose Down
DROP TYPE bt_box CASCADE;
`,
		"00006_builtin_family.sql": `-- +goose Up
ALTER OPERATOR FAMILY integer_ops USING btree ADD OPERATOR 1 < (int, bt_box), FUNCTION 1 (int, bt_box) int_cmp_box(int, bt_box);
-- +goose Down
SELECT 1;
`,
		"00007_builtin_family_drop.sql": `-- +goose Up
ALTER OPERATOR FAMILY integer_ops USING btree DROP FUNCTION 1 (int, bt_box);
-- +goose Down
SELECT 1;
`,
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGoose, files), Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1", "5"} {
		if rt := migration(t, rep, v).Roundtrip; rt == nil || rt.Status != report.RoundtripOK {
			t.Errorf("migration %s: round trip %+v, want ok", v, rt)
		}
	}
	cases := map[string][]string{
		"2": {"operator ====(integer, integer) is left behind by the down", "operator family fam2 USING hash is left behind by the down",
			"text search template tmpl2 is left behind by the down"},
		"3": {"operator ===(integer, integer) has restrict estimator scalarltsel after the down, was eqsel",
			`operator ===(integer, integer) has comment "same" after the down, was none`,
			"operator family fam USING btree has OPERATOR 1 (integer, bigint) <(integer,bigint) after the down, did not before",
			`operator class int_ops USING btree has comment "ops" after the down, was none`,
			`text search parser prs has comment "p" after the down, was none`},
		"4": {"operator ====(integer, integer) is not restored by the down", "text search template tmpl2 is not restored by the down"},
		"6": {"operator family pg_catalog.integer_ops USING btree has OPERATOR 1 (integer, bt_box) <(integer,bt_box) after the down, did not before",
			"operator family pg_catalog.integer_ops USING btree has FUNCTION 1 (integer, bt_box) int_cmp_box(integer,bt_box) after the down, did not before"},
		"7": {"operator family pg_catalog.integer_ops USING btree no longer has FUNCTION 1 (integer, bt_box) int_cmp_box(integer,bt_box) after the down"},
	}
	checkRoundtrips(t, rep, nil, cases)
}

// TestGeneratedDownOfOperators: the generated down drops the operators, operator classes and families
// and text search parsers and templates an up added (after the indexes and configurations that use them,
// before their functions), creates again those an up dropped with their members, estimators and comments,
// and takes back renames, moves and ALTERs of them; each is verified by its round trip.
func TestGeneratedDownOfOperators(t *testing.T) {
	files := map[string]string{
		"20240101000001_add.sql": `-- migrate:up
` + opFunctions + `CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = int_same, COMMUTATOR = ===, NEGATOR = !==,
  RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR CLASS int_ops FOR TYPE int USING btree AS OPERATOR 3 ===, FUNCTION 1 int_cmp3(int, int);
CREATE TABLE t (a int);
CREATE INDEX t_a ON t (a int_ops);
CREATE TEXT SEARCH PARSER prs2 (START = prsd_start, GETTOKEN = prsd_nexttoken, END = prsd_end, LEXTYPES = prsd_lextype, HEADLINE = prsd_headline);
CREATE TEXT SEARCH CONFIGURATION cfg2 (PARSER = prs2);
-- migrate:down
`,
		"20240101000002_drop.sql": `-- migrate:up
DROP TEXT SEARCH DICTIONARY sdict;
DROP TEXT SEARCH TEMPLATE stmpl;
DROP OPERATOR FAMILY sfam USING btree;
DROP OPERATOR ~~~ (int, int);
-- migrate:down
`,
		"20240101000003_alter.sql": `-- migrate:up
ALTER OPERATOR === (int, int) SET (RESTRICT = scalarltsel, JOIN = NONE);
COMMENT ON OPERATOR === (int, int) IS 'x';
ALTER OPERATOR CLASS int_ops USING btree RENAME TO int_ops2;
ALTER OPERATOR FAMILY int_ops USING btree RENAME TO int_fam;
ALTER OPERATOR FAMILY int_fam USING btree ADD FUNCTION 1 (int, bigint) btint48cmp(int, bigint);
CREATE SCHEMA other;
ALTER OPERATOR === (int, int) SET SCHEMA other;
ALTER TEXT SEARCH PARSER prs2 RENAME TO prs3;
COMMENT ON TEXT SEARCH PARSER prs3 IS 'p';
-- migrate:down
`,
		// A quoted name may hold "(": the function "f(x)" and the schema "s(1" must not be cut there.
		"20240101000004_paren.sql": `-- migrate:up
DROP OPERATOR FAMILY pfam USING btree;
DROP OPERATOR "s(1".<~> (int, int);
-- migrate:down
`,
		// Members of a built-in family: added back, dropped again; the family itself stays.
		"20240101000005_builtin_drop.sql": `-- migrate:up
ALTER OPERATOR FAMILY integer_ops USING btree DROP OPERATOR 1 (int, bt_box), FUNCTION 1 (int, bt_box);
-- migrate:down
`,
		"20240101000006_builtin_add.sql": `-- migrate:up
ALTER OPERATOR FAMILY integer_ops USING btree ADD OPERATOR 1 < (int, bt_box), FUNCTION 1 (int, bt_box) int_cmp_box(int, bt_box);
-- migrate:down
`,
	}
	setupSQL := `CREATE SCHEMA "s(1";
CREATE FUNCTION "f(x)"(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
CREATE OPERATOR "s(1".<~> (LEFTARG = int, RIGHTARG = int, FUNCTION = "f(x)", COMMUTATOR = <~>);
CREATE OPERATOR <~> (LEFTARG = int, RIGHTARG = int, FUNCTION = "f(x)", COMMUTATOR = OPERATOR("s(1".<~>));
CREATE OPERATOR FAMILY pfam USING btree;
ALTER OPERATOR FAMILY pfam USING btree ADD OPERATOR 3 "s(1".<~> (int, int);
` + boxOperator + `ALTER OPERATOR FAMILY integer_ops USING btree ADD OPERATOR 1 < (int, bt_box), FUNCTION 1 (int, bt_box) int_cmp_box(int, bt_box);
CREATE FUNCTION s_same(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
CREATE FUNCTION s_cmp(int, int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT CASE WHEN $1 < $2 THEN -1 WHEN $1 > $2 THEN 1 ELSE 0 END';
CREATE OPERATOR ~~~ (LEFTARG = int, RIGHTARG = int, FUNCTION = s_same, COMMUTATOR = ~~~, RESTRICT = eqsel);
COMMENT ON OPERATOR ~~~ (int, int) IS 'same';
CREATE OPERATOR FAMILY sfam USING btree;
CREATE OPERATOR CLASS s_ops FOR TYPE int USING btree FAMILY sfam AS OPERATOR 3 ~~~, FUNCTION 1 s_cmp(int, int);
ALTER OPERATOR FAMILY sfam USING btree ADD OPERATOR 1 < (int, bigint), FUNCTION 1 (int, bigint) btint48cmp(int, bigint);
COMMENT ON OPERATOR FAMILY sfam USING btree IS 'f';
CREATE TEXT SEARCH TEMPLATE stmpl (INIT = dsimple_init, LEXIZE = dsimple_lexize);
COMMENT ON TEXT SEARCH TEMPLATE stmpl IS 't';
CREATE TEXT SEARCH DICTIONARY sdict (TEMPLATE = stmpl);`
	setup := []*migrate.Script{{File: "setup.sql", SQL: setupSQL, Statements: sqlparse.Parse(setupSQL)}}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatDbmate, files), Provider: provider(t),
		GenerateDown: true, Setup: setup})
	if err != nil {
		t.Fatal(err)
	}
	wants := map[string][]string{
		"20240101000001": {"DROP TABLE t", "DROP OPERATOR CLASS int_ops USING btree", "DROP OPERATOR FAMILY int_ops USING btree",
			"DROP OPERATOR public.===(integer, integer)", "DROP OPERATOR public.!==(integer, integer)",
			"DROP TEXT SEARCH CONFIGURATION cfg2", "DROP TEXT SEARCH PARSER prs2"},
		"20240101000002": {"CREATE TEXT SEARCH TEMPLATE stmpl (INIT = dsimple_init, LEXIZE = dsimple_lexize)",
			"COMMENT ON TEXT SEARCH TEMPLATE stmpl IS 't'", "CREATE TEXT SEARCH DICTIONARY sdict (TEMPLATE = stmpl)",
			"CREATE OPERATOR public.~~~ (LEFTARG = integer, RIGHTARG = integer, FUNCTION = s_same, COMMUTATOR = ~~~, RESTRICT = eqsel)",
			"COMMENT ON OPERATOR public.~~~(integer, integer) IS 'same'", "CREATE OPERATOR FAMILY sfam USING btree",
			"ALTER OPERATOR FAMILY sfam USING btree ADD OPERATOR 1 < (integer, bigint), FUNCTION 1 (integer, bigint) btint48cmp(integer,bigint)",
			"COMMENT ON OPERATOR FAMILY sfam USING btree IS 'f'",
			"CREATE OPERATOR CLASS s_ops FOR TYPE integer USING btree FAMILY sfam AS OPERATOR 3 ~~~ (integer, integer), FUNCTION 1 (integer, integer) s_cmp(integer,integer)"},
		"20240101000003": {"ALTER OPERATOR CLASS int_ops2 USING btree RENAME TO int_ops", "ALTER OPERATOR FAMILY int_fam USING btree RENAME TO int_ops",
			"ALTER OPERATOR FAMILY int_ops USING btree DROP FUNCTION 1 (integer, bigint)",
			"ALTER OPERATOR other.===(integer, integer) SET SCHEMA public",
			"ALTER OPERATOR public.===(integer, integer) SET (RESTRICT = eqsel, JOIN = eqjoinsel)",
			"COMMENT ON OPERATOR public.===(integer, integer) IS NULL", "ALTER TEXT SEARCH PARSER prs3 RENAME TO prs2",
			"COMMENT ON TEXT SEARCH PARSER prs2 IS NULL"},
		"20240101000004": {`CREATE OPERATOR "s(1".<~> (LEFTARG = integer, RIGHTARG = integer, FUNCTION = "f(x)", COMMUTATOR = <~>)`,
			`ALTER OPERATOR FAMILY pfam USING btree ADD OPERATOR 3 "s(1".<~> (integer, integer)`},
		"20240101000005": {"ALTER OPERATOR FAMILY pg_catalog.integer_ops USING btree ADD OPERATOR 1 < (integer, bt_box), " +
			"FUNCTION 1 (integer, bt_box) int_cmp_box(integer,bt_box)"},
		"20240101000006": {"ALTER OPERATOR FAMILY pg_catalog.integer_ops USING btree DROP OPERATOR 1 (integer, bt_box), FUNCTION 1 (integer, bt_box)"},
	}
	checkGeneratedDowns(t, rep, wants)
	for _, v := range []string{"20240101000005", "20240101000006"} {
		if gd := migration(t, rep, v).GeneratedDown; gd != nil && strings.Contains(gd.SQL, "OPERATOR FAMILY pg_catalog.integer_ops USING btree;") {
			t.Errorf("%s: generated down creates or drops the built-in family:\n%s", v, gd.SQL)
		}
	}
	// Creating "s(1".<~> again links <~> back to it: <~> itself is neither dropped nor created again.
	if gd := migration(t, rep, "20240101000004").GeneratedDown; gd != nil && strings.Contains(gd.SQL, "DROP OPERATOR public.<~>") {
		t.Errorf("20240101000004: generated down drops <~>, whose commutator creating \"s(1\".<~> restores:\n%s", gd.SQL)
	}
}

// TestGeneratedDownOfOperatorLinks: the generated down takes back the commutator and negator links an
// up changed through PostgreSQL's own upkeep of them: an operator the up linked by creating its partner
// is left alone (dropping the partner unlinks it; the class that uses it would keep it from being
// dropped), and a shell the up filled is made again by creating again the operator that named it.
func TestGeneratedDownOfOperatorLinks(t *testing.T) {
	files := map[string]string{
		"20240101000001_partner.sql": `-- migrate:up
CREATE OPERATOR ~>> (LEFTARG = int, RIGHTARG = int, FUNCTION = int_same, COMMUTATOR = <<~);
CREATE OPERATOR <<! (LEFTARG = int, RIGHTARG = int, FUNCTION = int_same, NEGATOR = <<~);
-- migrate:down
`,
		"20240101000002_fill.sql": `-- migrate:up
CREATE OPERATOR ~^^ (LEFTARG = int, RIGHTARG = int, FUNCTION = int_same);
-- migrate:down
`,
	}
	setupSQL := opFunctions + `CREATE OPERATOR <<~ (LEFTARG = int, RIGHTARG = int, FUNCTION = int_same);
CREATE OPERATOR CLASS l_ops FOR TYPE int USING hash AS OPERATOR 1 <<~, FUNCTION 1 hashint4(int);
CREATE OPERATOR ^^~ (LEFTARG = int, RIGHTARG = int, FUNCTION = int_same, COMMUTATOR = ~^^);`
	setup := []*migrate.Script{{File: "setup.sql", SQL: setupSQL, Statements: sqlparse.Parse(setupSQL)}}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatDbmate, files), Provider: provider(t),
		GenerateDown: true, Setup: setup})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		version        string
		want, unwanted []string
	}{
		{version: "20240101000001", want: []string{"DROP OPERATOR public.~>>(integer, integer)", "DROP OPERATOR public.<<!(integer, integer)"},
			unwanted: []string{"DROP OPERATOR public.<<~", "CREATE OPERATOR"}},
		{version: "20240101000002", want: []string{"DROP OPERATOR public.~^^(integer, integer)", "DROP OPERATOR public.^^~(integer, integer)",
			"CREATE OPERATOR public.^^~ (LEFTARG = integer, RIGHTARG = integer, FUNCTION = int_same, COMMUTATOR = ~^^)"}},
	}
	for _, tt := range tests {
		m := migration(t, rep, tt.version)
		gd := m.GeneratedDown
		if gd == nil || !gd.Verified {
			t.Errorf("%s: %s %+v: generated down %+v, want a verified one", tt.version, m.Status, m.Error, gd)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(gd.SQL, w) {
				t.Errorf("%s: generated down lacks %q:\n%s", tt.version, w, gd.SQL)
			}
		}
		for _, w := range tt.unwanted {
			if strings.Contains(gd.SQL, w) {
				t.Errorf("%s: generated down has %q:\n%s", tt.version, w, gd.SQL)
			}
		}
		if len(gd.Warnings) > 0 {
			t.Errorf("%s: generated down warns %q", tt.version, gd.Warnings)
		}
	}
}
