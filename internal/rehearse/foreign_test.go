package rehearse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestForeignObjectsAndCasts: foreign-data wrappers, servers, user mappings and casts are in the compared
// catalog. A down that leaves them behind, or does not take back an ALTER of their options, owner,
// privileges or comment, fails its round trip and says what it left; a down that undoes them passes.
// Extension-made ones (postgres_fdw's wrapper) are no part of the comparison.
func TestForeignObjectsAndCasts(t *testing.T) {
	files := map[string]string{
		"00001_fdw.sql": `-- +goose Up
CREATE EXTENSION postgres_fdw;
CREATE FOREIGN DATA WRAPPER w OPTIONS (debug 'true');
CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS (host 'a', port '5432');
CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'x');
CREATE USER MAPPING FOR PUBLIC SERVER s OPTIONS (user 'u');
CREATE TYPE color AS ENUM ('red', 'green');
CREATE CAST (color AS text) WITH INOUT AS ASSIGNMENT;
-- +goose Down
DROP CAST (color AS text);
DROP TYPE color;
DROP USER MAPPING FOR PUBLIC SERVER s;
DROP SERVER remote;
DROP SERVER s;
DROP FOREIGN DATA WRAPPER w;
DROP EXTENSION postgres_fdw;
`,
		"00002_forgets.sql": `-- +goose Up
CREATE SERVER s2 FOREIGN DATA WRAPPER w;
CREATE USER MAPPING FOR CURRENT_USER SERVER s2;
CREATE FUNCTION color_len(color) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
CREATE CAST (color AS int) WITH FUNCTION color_len(color);
-- +goose Down
DROP USER MAPPING FOR CURRENT_USER SERVER s2;
`,
		"00003_alters.sql": `-- +goose Up
ALTER SERVER s OPTIONS (SET host 'b', DROP port);
ALTER SERVER s VERSION '2';
COMMENT ON SERVER s IS 'the s';
GRANT USAGE ON FOREIGN SERVER s TO PUBLIC;
ALTER FOREIGN DATA WRAPPER w OPTIONS (SET debug 'false');
ALTER USER MAPPING FOR PUBLIC SERVER s OPTIONS (SET user 'v');
COMMENT ON CAST (color AS text) IS 'by name';
-- +goose Down
ALTER SERVER s OPTIONS (SET host 'a', ADD port '5432');
`,
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGoose, files), Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"2": {"server s2 is left behind by the down", "cast (color AS integer) is left behind by the down",
			"function color_len(color) is left behind by the down"},
		"3": {"server s", "version", "comment", "privileges", "foreign-data wrapper w", "debug=false",
			"user mapping public on s", "user=v", "cast (color AS text)", "by name"},
	}
	checkRoundtrips(t, rep, []string{"1"}, cases)
	for v := range cases {
		if rt := migration(t, rep, v).Roundtrip; rt != nil && strings.Contains(strings.Join(rt.Problems, "\n"), "postgres_fdw") {
			t.Errorf("migration %s: the extension's wrapper is compared:\n%s", v, strings.Join(rt.Problems, "\n"))
		}
	}
}

// TestGeneratedDownOfForeignObjects: the generated down drops the wrappers, servers, user mappings and
// casts an up added (before the types and functions they use), creates again those an up dropped with
// their options, and takes back ALTERs of them; each is verified by its round trip.
func TestGeneratedDownOfForeignObjects(t *testing.T) {
	files := map[string]string{
		"20240101000001_add.sql": `-- migrate:up
CREATE FOREIGN DATA WRAPPER w2;
CREATE SERVER s2 FOREIGN DATA WRAPPER w2 OPTIONS (host 'h');
CREATE USER MAPPING FOR PUBLIC SERVER s2 OPTIONS (user 'u');
CREATE FOREIGN TABLE ft (a int) SERVER s2;
CREATE TYPE color AS ENUM ('red');
CREATE FUNCTION color_len(color) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
CREATE CAST (color AS int) WITH FUNCTION color_len(color) AS IMPLICIT;
-- migrate:down
`,
		"20240101000002_drop.sql": `-- migrate:up
DROP USER MAPPING FOR PUBLIC SERVER s;
DROP SERVER s;
DROP FOREIGN DATA WRAPPER w;
-- migrate:down
`,
		"20240101000003_alter.sql": `-- migrate:up
ALTER SERVER s2 OPTIONS (SET host 'i', ADD port '1');
ALTER SERVER s2 VERSION '9';
COMMENT ON SERVER s2 IS 'x';
ALTER SERVER s2 RENAME TO s3;
ALTER FOREIGN DATA WRAPPER w2 RENAME TO w3;
COMMENT ON CAST (color AS int) IS 'c';
-- migrate:down
`,
	}
	setupSQL := `CREATE FOREIGN DATA WRAPPER w OPTIONS (debug 'true');
CREATE SERVER s TYPE 'pg' VERSION '15' FOREIGN DATA WRAPPER w OPTIONS (host 'a');
COMMENT ON SERVER s IS 'the s';
CREATE USER MAPPING FOR PUBLIC SERVER s OPTIONS (user 'u', password 'p');`
	setup := []*migrate.Script{{File: "setup.sql", SQL: setupSQL, Statements: sqlparse.Parse(setupSQL)}}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatDbmate, files), Provider: provider(t),
		GenerateDown: true, Setup: setup})
	if err != nil {
		t.Fatal(err)
	}
	wants := map[string][]string{
		"20240101000001": {"DROP CAST (color AS integer)", "DROP USER MAPPING FOR PUBLIC SERVER s2", "DROP SERVER s2", "DROP FOREIGN DATA WRAPPER w2"},
		"20240101000002": {"CREATE FOREIGN DATA WRAPPER w NO HANDLER NO VALIDATOR OPTIONS (debug 'true')",
			"CREATE SERVER s TYPE 'pg' VERSION '15' FOREIGN DATA WRAPPER w OPTIONS (host 'a')",
			"COMMENT ON SERVER s IS 'the s'", "CREATE USER MAPPING FOR PUBLIC SERVER s OPTIONS (password 'p', \"user\" 'u')"},
		"20240101000003": {"ALTER SERVER s3 RENAME TO s2", "ALTER FOREIGN DATA WRAPPER w3 RENAME TO w2", "ALTER SERVER s2 VERSION NULL",
			"ALTER SERVER s2 OPTIONS (DROP port, SET host 'h')", "COMMENT ON SERVER s2 IS NULL", "COMMENT ON CAST (color AS integer) IS NULL"},
	}
	checkGeneratedDowns(t, rep, wants)
}
