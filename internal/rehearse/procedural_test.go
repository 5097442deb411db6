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

// checkRoundtrips checks the round trips of rep: each migration of ok passes, each of failed fails
// with every problem listed.
func checkRoundtrips(t *testing.T, rep *report.Report, ok []string, failed map[string][]string) {
	t.Helper()
	for _, v := range ok {
		if m := migration(t, rep, v); m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
			t.Errorf("migration %s: %s %+v, round trip %+v, want ok", v, m.Status, m.Error, m.Roundtrip)
		}
	}
	for v, wants := range failed {
		m := migration(t, rep, v)
		rt := m.Roundtrip
		if rt == nil || rt.Status != report.RoundtripFailed {
			t.Errorf("migration %s: %s %+v, round trip %+v, want failed", v, m.Status, m.Error, rt)
			continue
		}
		problems := strings.Join(rt.Problems, "\n")
		for _, want := range wants {
			if !strings.Contains(problems, want) {
				t.Errorf("migration %s: problems lack %q:\n%s", v, want, problems)
			}
		}
	}
}

// checkGeneratedDowns checks that each migration of wants got a verified generated down holding every
// statement listed.
func checkGeneratedDowns(t *testing.T, rep *report.Report, wants map[string][]string) {
	t.Helper()
	for v, want := range wants {
		m := migration(t, rep, v)
		gd := m.GeneratedDown
		if gd == nil || !gd.Verified {
			t.Errorf("%s: %s %+v: generated down %+v, want a verified one", v, m.Status, m.Error, gd)
			continue
		}
		for _, w := range want {
			if !strings.Contains(gd.SQL, w) {
				t.Errorf("%s: generated down lacks %q:\n%s", v, w, gd.SQL)
			}
		}
	}
}

// TestTableAccessMethod: a table's and a materialized view's access method are compared: a down that
// does not set it back fails its round trip, one that does passes, and a generated down sets it back
// (or creates the table it drops again with it).
func TestTableAccessMethod(t *testing.T) {
	files := map[string]string{
		"00001_am.sql": `-- +goose Up
CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;
CREATE TABLE t (a int);
CREATE MATERIALIZED VIEW mv AS SELECT 1 AS x;
-- +goose Down
DROP MATERIALIZED VIEW mv;
DROP TABLE t;
DROP ACCESS METHOD heap2;
`,
		"00002_forgets.sql": `-- +goose Up
ALTER TABLE t SET ACCESS METHOD heap2;
ALTER MATERIALIZED VIEW mv SET ACCESS METHOD heap2;
-- +goose Down
SELECT 1;
`,
		"00003_undoes.sql": `-- +goose Up
CREATE TABLE u (a int) USING heap2;
ALTER TABLE u SET ACCESS METHOD heap;
-- +goose Down
ALTER TABLE u SET ACCESS METHOD heap2;
DROP TABLE u;
`,
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGoose, files), Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	checkRoundtrips(t, rep, []string{"1", "3"}, map[string][]string{
		"2": {"table t's access method is heap2 after the down, was heap", "materialized view mv's access method is heap2 after the down, was heap"},
	})

	gen := map[string]string{
		"20240101000001_alter.sql": `-- migrate:up
ALTER TABLE t SET ACCESS METHOD heap2;
ALTER TABLE u SET ACCESS METHOD heap;
ALTER MATERIALIZED VIEW mv SET ACCESS METHOD heap2;
-- migrate:down
`,
		"20240101000002_drop.sql": `-- migrate:up
DROP TABLE w;
DROP MATERIALIZED VIEW mv;
-- migrate:down
`,
	}
	setupSQL := `CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;
CREATE TABLE t (a int); CREATE TABLE u (a int) USING heap2; CREATE TABLE w (a int) USING heap2; CREATE MATERIALIZED VIEW mv AS SELECT 1 AS x;`
	setup := []*migrate.Script{{File: "setup.sql", SQL: setupSQL, Statements: sqlparse.Parse(setupSQL)}}
	rep, err = rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatDbmate, gen), Provider: provider(t),
		GenerateDown: true, Setup: setup})
	if err != nil {
		t.Fatal(err)
	}
	checkGeneratedDowns(t, rep, map[string][]string{
		"20240101000001": {"ALTER TABLE t SET ACCESS METHOD heap", "ALTER TABLE u SET ACCESS METHOD heap2",
			"ALTER MATERIALIZED VIEW mv SET ACCESS METHOD heap"},
		"20240101000002": {"CREATE TABLE w (\n    a integer\n) USING heap2", "CREATE MATERIALIZED VIEW mv USING heap2 AS"},
	})
}

// procFunctions are the functions the access methods, languages, conversions and transforms of these
// tests use: a table access method's handler (heap's), a language's (plpgsql's), a conversion's and a
// transform's.
const procFunctions = `CREATE FUNCTION am_handler(internal) RETURNS table_am_handler LANGUAGE internal AS 'heap_tableam_handler';
CREATE FUNCTION lang_handler() RETURNS language_handler LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_call_handler';
CREATE FUNCTION lang_inline(internal) RETURNS void LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_inline_handler';
CREATE FUNCTION conv_fn(int4, int4, cstring, internal, int4, bool) RETURNS int4 LANGUAGE c STRICT
  AS '$libdir/utf8_and_iso8859_1', 'iso8859_1_to_utf8';
CREATE TYPE tr AS ENUM ('a');
CREATE FUNCTION tr_from(internal) RETURNS internal LANGUAGE internal IMMUTABLE STRICT AS 'prsd_start';
CREATE FUNCTION tr_to(internal) RETURNS tr LANGUAGE internal IMMUTABLE STRICT AS 'enum_in';
`

// TestAccessMethodsLanguagesConversionsTransforms: access methods, procedural languages, conversions and
// transforms are in the compared catalog. A down that leaves them behind, does not create again one the
// up dropped, or does not take back an ALTER of them, fails its round trip and says what it left; a down
// that undoes them passes.
func TestAccessMethodsLanguagesConversionsTransforms(t *testing.T) {
	files := map[string]string{
		"00001_create.sql": `-- +goose Up
` + procFunctions + `CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER am_handler;
CREATE LANGUAGE pl2 HANDLER lang_handler INLINE lang_inline;
CREATE CONVERSION conv FOR 'LATIN1' TO 'UTF8' FROM conv_fn;
CREATE TRANSFORM FOR tr LANGUAGE pl2 (FROM SQL WITH FUNCTION tr_from(internal));
-- +goose Down
DROP TRANSFORM FOR tr LANGUAGE pl2;
DROP CONVERSION conv;
DROP LANGUAGE pl2;
DROP ACCESS METHOD heap2;
DROP FUNCTION am_handler(internal), lang_handler(), lang_inline(internal), conv_fn(int4, int4, cstring, internal, int4, bool),
  tr_from(internal), tr_to(internal);
DROP TYPE tr;
`,
		"00002_forgets.sql": `-- +goose Up
CREATE ACCESS METHOD heap3 TYPE TABLE HANDLER am_handler;
CREATE LANGUAGE pl3 HANDLER lang_handler;
CREATE CONVERSION conv3 FOR 'LATIN1' TO 'UTF8' FROM conv_fn;
CREATE TRANSFORM FOR tr LANGUAGE plpgsql (TO SQL WITH FUNCTION tr_to(internal));
-- +goose Down
SELECT 1;
`,
		"00003_alters.sql": `-- +goose Up
COMMENT ON ACCESS METHOD heap2 IS 'am';
CREATE OR REPLACE TRUSTED LANGUAGE pl2 HANDLER lang_handler;
COMMENT ON LANGUAGE pl2 IS 'l';
COMMENT ON CONVERSION conv IS 'c';
CREATE OR REPLACE TRANSFORM FOR tr LANGUAGE pl2 (FROM SQL WITH FUNCTION tr_from(internal), TO SQL WITH FUNCTION tr_to(internal));
-- +goose Down
SELECT 1;
`,
		"00004_drops.sql": `-- +goose Up
DROP TRANSFORM FOR tr LANGUAGE pl2;
DROP CONVERSION conv;
DROP ACCESS METHOD heap2;
-- +goose Down
SELECT 1;
`,
		"00005_undone.sql": `-- +goose Up
CREATE SCHEMA other;
ALTER CONVERSION conv3 SET SCHEMA other;
ALTER LANGUAGE pl2 RENAME TO pl4;
COMMENT ON TRANSFORM FOR tr LANGUAGE plpgsql IS 't';
-- +goose Down
COMMENT ON TRANSFORM FOR tr LANGUAGE plpgsql IS NULL;
ALTER LANGUAGE pl4 RENAME TO pl2;
ALTER CONVERSION other.conv3 SET SCHEMA public;
DROP SCHEMA other;
`,
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGoose, files), Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	checkRoundtrips(t, rep, []string{"1", "5"}, map[string][]string{
		"2": {"access method heap3 is left behind by the down", "language pl3 is left behind by the down",
			"conversion conv3 is left behind by the down", "transform FOR tr LANGUAGE plpgsql is left behind by the down"},
		"3": {`access method heap2 has comment "am" after the down, was none`,
			"language pl2 is TRUSTED after the down, was not TRUSTED",
			"language pl2 has inline handler none after the down, was lang_inline",
			`language pl2 has comment "l" after the down, was none`,
			`conversion conv has comment "c" after the down, was none`,
			"transform FOR tr LANGUAGE pl2 has to SQL function tr_to(internal) after the down, was none"},
		"4": {"access method heap2 is not restored by the down", "conversion conv is not restored by the down",
			"transform FOR tr LANGUAGE pl2 is not restored by the down"},
	})
}

// TestGeneratedDownOfAccessMethodsLanguagesConversionsTransforms: the generated down drops the access
// methods, languages, conversions and transforms an up added (after what uses them, before their
// functions), creates again those an up dropped (a language before the functions written in it), and
// takes back renames, moves and ALTERs of them; each is verified by its round trip (their statements no
// longer count as what the comparison does not see).
func TestGeneratedDownOfAccessMethodsLanguagesConversionsTransforms(t *testing.T) {
	files := map[string]string{
		"20240101000001_add.sql": `-- migrate:up
` + procFunctions + `CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER am_handler;
CREATE TABLE t (a int) USING heap2;
CREATE LANGUAGE pl2 HANDLER lang_handler INLINE lang_inline;
CREATE FUNCTION in_pl2() RETURNS int LANGUAGE pl2 AS 'BEGIN RETURN 1; END';
CREATE DEFAULT CONVERSION conv FOR 'LATIN1' TO 'UTF8' FROM conv_fn;
CREATE TRANSFORM FOR tr LANGUAGE pl2 (FROM SQL WITH FUNCTION tr_from(internal));
-- migrate:down
`,
		"20240101000002_drop.sql": `-- migrate:up
DROP TABLE st;
DROP ACCESS METHOD sheap;
DROP LANGUAGE spl CASCADE;
DROP CONVERSION sconv;
-- migrate:down
`,
		"20240101000003_alter.sql": `-- migrate:up
CREATE OR REPLACE LANGUAGE pl2 HANDLER lang_handler;
ALTER LANGUAGE pl2 RENAME TO pl3;
COMMENT ON LANGUAGE pl3 IS 'l';
CREATE SCHEMA other;
ALTER CONVERSION conv SET SCHEMA other;
ALTER CONVERSION other.conv RENAME TO conv2;
COMMENT ON CONVERSION other.conv2 IS 'c';
CREATE OR REPLACE TRANSFORM FOR tr LANGUAGE pl3 (TO SQL WITH FUNCTION tr_to(internal));
COMMENT ON ACCESS METHOD heap2 IS 'am';
-- migrate:down
`,
	}
	setupSQL := `CREATE FUNCTION s_am_handler(internal) RETURNS table_am_handler LANGUAGE internal AS 'heap_tableam_handler';
CREATE ACCESS METHOD sheap TYPE TABLE HANDLER s_am_handler;
COMMENT ON ACCESS METHOD sheap IS 'am';
CREATE TABLE st (a int) USING sheap;
CREATE FUNCTION s_lang_handler() RETURNS language_handler LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_call_handler';
CREATE TRUSTED LANGUAGE spl HANDLER s_lang_handler;
COMMENT ON LANGUAGE spl IS 'lang';
CREATE FUNCTION in_spl() RETURNS int LANGUAGE spl AS 'BEGIN RETURN 1; END';
CREATE FUNCTION s_conv_fn(int4, int4, cstring, internal, int4, bool) RETURNS int4 LANGUAGE c STRICT
  AS '$libdir/utf8_and_iso8859_1', 'iso8859_1_to_utf8';
CREATE CONVERSION sconv FOR 'LATIN1' TO 'UTF8' FROM s_conv_fn;
COMMENT ON CONVERSION sconv IS 'conv';
CREATE TYPE s_tr AS ENUM ('a');
CREATE FUNCTION s_tr_to(internal) RETURNS s_tr LANGUAGE internal IMMUTABLE STRICT AS 'enum_in';
CREATE TRANSFORM FOR s_tr LANGUAGE spl (TO SQL WITH FUNCTION s_tr_to(internal));`
	setup := []*migrate.Script{{File: "setup.sql", SQL: setupSQL, Statements: sqlparse.Parse(setupSQL)}}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatDbmate, files), Provider: provider(t),
		GenerateDown: true, Setup: setup})
	if err != nil {
		t.Fatal(err)
	}
	checkGeneratedDowns(t, rep, map[string][]string{
		"20240101000001": {"DROP TABLE t", "DROP TRANSFORM FOR tr LANGUAGE pl2", "DROP CONVERSION conv", "DROP ACCESS METHOD heap2",
			"DROP ROUTINE in_pl2();\n", "DROP LANGUAGE pl2"},
		"20240101000002": {"CREATE ACCESS METHOD sheap TYPE TABLE HANDLER s_am_handler", "COMMENT ON ACCESS METHOD sheap IS 'am'",
			") USING sheap", "CREATE TRUSTED LANGUAGE spl HANDLER s_lang_handler", "COMMENT ON LANGUAGE spl IS 'lang'",
			"CREATE CONVERSION sconv FOR 'LATIN1' TO 'UTF8' FROM s_conv_fn", "COMMENT ON CONVERSION sconv IS 'conv'",
			"CREATE TRANSFORM FOR s_tr LANGUAGE spl (TO SQL WITH FUNCTION s_tr_to(internal))"},
		"20240101000003": {"ALTER LANGUAGE pl3 RENAME TO pl2", "CREATE OR REPLACE LANGUAGE pl2 HANDLER lang_handler INLINE lang_inline",
			"COMMENT ON LANGUAGE pl2 IS NULL", "ALTER CONVERSION other.conv2 RENAME TO conv", "ALTER CONVERSION other.conv SET SCHEMA public",
			"COMMENT ON CONVERSION conv IS NULL",
			"CREATE OR REPLACE TRANSFORM FOR tr LANGUAGE pl2 (FROM SQL WITH FUNCTION tr_from(internal))",
			"COMMENT ON ACCESS METHOD heap2 IS NULL"},
	})
}
