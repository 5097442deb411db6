package rehearse_test

import (
	"context"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestRoundTripSeesUnloggedSequences: a sequence's persistence (ALTER SEQUENCE ... SET UNLOGGED,
// PostgreSQL 15) is compared: a down that leaves it unlogged fails its round trip, one that sets it back
// passes, and a generated down sets it back, or creates the unlogged sequence it drops again unlogged.
func TestRoundTripSeesUnloggedSequences(t *testing.T) {
	files := map[string]string{
		"1_setup.up.sql": "CREATE SEQUENCE s; CREATE UNLOGGED SEQUENCE u;", "1_setup.down.sql": "DROP SEQUENCE u; DROP SEQUENCE s;",
		"2_forgets.up.sql": "ALTER SEQUENCE s SET UNLOGGED; ALTER SEQUENCE u SET LOGGED;", "2_forgets.down.sql": "SELECT 1;",
		// What 2 left is set back here, and its down puts it as 2 left it.
		"3_undoes.up.sql": "ALTER SEQUENCE s SET LOGGED; ALTER SEQUENCE u SET UNLOGGED;", "3_undoes.down.sql": "ALTER SEQUENCE s SET UNLOGGED; ALTER SEQUENCE u SET LOGGED;",
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGolangMigrate, files), Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	checkRoundtrips(t, rep, []string{"1", "3"}, map[string][]string{
		"2": {"sequence s is unlogged after the down, was logged", "sequence u is logged after the down, was unlogged"},
	})

	gen := map[string]string{
		"20240101000001_alter.sql": "-- migrate:up\nALTER SEQUENCE s SET UNLOGGED;\nALTER SEQUENCE u SET LOGGED;\n-- migrate:down\n",
		"20240101000002_drop.sql":  "-- migrate:up\nDROP SEQUENCE w;\n-- migrate:down\n",
	}
	setupSQL := "CREATE SEQUENCE s; CREATE UNLOGGED SEQUENCE u; CREATE UNLOGGED SEQUENCE w;"
	setup := []*migrate.Script{{File: "setup.sql", SQL: setupSQL, Statements: sqlparse.Parse(setupSQL)}}
	rep, err = rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatDbmate, gen), Provider: provider(t),
		GenerateDown: true, Setup: setup})
	if err != nil {
		t.Fatal(err)
	}
	checkGeneratedDowns(t, rep, map[string][]string{
		"20240101000001": {"ALTER SEQUENCE s SET LOGGED", "ALTER SEQUENCE u SET UNLOGGED"},
		"20240101000002": {"CREATE UNLOGGED SEQUENCE w "},
	})
}
