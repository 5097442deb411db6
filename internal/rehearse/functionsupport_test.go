package rehearse_test

import (
	"context"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
)

// TestRoundTripSeesSupportFunctions: a function's planner support function (ALTER FUNCTION ...
// SUPPORT) is compared on its own, also when pg_get_functiondef prints it on the line of the other
// attributes (" STRICT SUPPORT textlike_support", " IMMUTABLE STRICT SUPPORT ..."), which the
// comparison of the definitions leaves out: a down that forgets it fails its round trip, one that sets
// the function back passes.
func TestRoundTripSeesSupportFunctions(t *testing.T) {
	files := map[string]string{
		"1_setup.up.sql": `CREATE FUNCTION f(text, text) RETURNS bool LANGUAGE sql STRICT AS 'SELECT $1 LIKE $2';
CREATE FUNCTION g(text, text) RETURNS bool LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 LIKE $2';
CREATE FUNCTION h(text, text) RETURNS bool LANGUAGE sql AS 'SELECT $1 LIKE $2';`,
		"1_setup.down.sql":   "DROP FUNCTION h(text, text); DROP FUNCTION g(text, text); DROP FUNCTION f(text, text);",
		"2_forgets.up.sql":   "ALTER FUNCTION f(text, text) SUPPORT textlike_support; ALTER FUNCTION g(text, text) SUPPORT textlike_support; ALTER FUNCTION h(text, text) SUPPORT textlike_support;",
		"2_forgets.down.sql": "SELECT 1;",
		// A down that re-creates the functions as they were (CREATE OR REPLACE resets SUPPORT).
		"3_undoes.up.sql": `CREATE OR REPLACE FUNCTION f(text, text) RETURNS bool LANGUAGE sql STRICT AS 'SELECT $1 LIKE $2';
CREATE OR REPLACE FUNCTION g(text, text) RETURNS bool LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 LIKE $2';
CREATE OR REPLACE FUNCTION h(text, text) RETURNS bool LANGUAGE sql AS 'SELECT $1 LIKE $2';`,
		"3_undoes.down.sql": "ALTER FUNCTION f(text, text) SUPPORT textlike_support; ALTER FUNCTION g(text, text) SUPPORT textlike_support; ALTER FUNCTION h(text, text) SUPPORT textlike_support;",
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGolangMigrate, files), Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	checkRoundtrips(t, rep, []string{"1", "3"}, map[string][]string{
		"2": {"function f(text, text) has support function textlike_support after the down, was none",
			"function g(text, text) has support function textlike_support after the down, was none",
			"function h(text, text) has support function textlike_support after the down, was none"},
	})
	if m := migration(t, rep, "2"); m.Roundtrip != nil && len(m.Roundtrip.Problems) != 3 {
		t.Errorf("migration 2: problems %q, want one per function", m.Roundtrip.Problems)
	}
}
