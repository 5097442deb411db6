package rehearse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestRoundTripSeesDatabaseDefaultPrivileges: the database-wide default privileges (ALTER DEFAULT
// PRIVILEGES without IN SCHEMA) are in the compared catalog. A down that forgets its REVOKE fails its
// round trip and says which role's default privileges on what it left changed; downs that undo them,
// for the current role and for another, pass, also one that gives PUBLIC back the EXECUTE the up took
// from the built-in defaults; and none of these statements gets a not-checked note.
func TestRoundTripSeesDatabaseDefaultPrivileges(t *testing.T) {
	files := map[string]string{
		"00001_roles.sql": `-- +goose Up
CREATE ROLE sg_owner;
CREATE ROLE sg_reader;
-- +goose Down
DROP ROLE sg_reader;
DROP ROLE sg_owner;
`,
		"00002_forgets.sql": `-- +goose Up
ALTER DEFAULT PRIVILEGES FOR ROLE sg_owner GRANT SELECT ON SEQUENCES TO sg_reader;
-- +goose Down
SELECT 1;
`,
		"00003_undone.sql": `-- +goose Up
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO sg_reader;
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE sg_owner GRANT USAGE ON TYPES TO sg_reader;
-- +goose Down
ALTER DEFAULT PRIVILEGES FOR ROLE sg_owner REVOKE USAGE ON TYPES FROM sg_reader;
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC;
ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM sg_reader;
`,
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGoose, files), Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	checkRoundtrips(t, rep, []string{"1", "3"}, map[string][]string{
		"2": {"the database-wide default privileges of role sg_owner on sequences are sg_owner=rwU/sg_owner,sg_reader=r/sg_owner after the down, were the built-in defaults"},
	})
	if rt := migration(t, rep, "2").Roundtrip; rt != nil && len(rt.Problems) != 1 {
		t.Errorf("migration 2: %d problems, want 1:\n%s", len(rt.Problems), strings.Join(rt.Problems, "\n"))
	}
	for _, n := range rep.Notes {
		if strings.Contains(n, "DEFAULT PRIVILEGES") {
			t.Errorf("note on default privileges, which the round trip checks: %s", n)
		}
	}
}

// TestGeneratedDownOfDatabaseDefaultPrivileges: the generated down of a migration that changes the
// database-wide default privileges of the current role (CURRENT_USER) and of another puts them back
// (PUBLIC's EXECUTE on functions too), revoking and granting only what the up changed, and is verified
// by its round trip.
func TestGeneratedDownOfDatabaseDefaultPrivileges(t *testing.T) {
	files := map[string]string{
		"20240101000001_defaults.sql": `-- migrate:up
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO sg_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE sg_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE sg_owner REVOKE INSERT ON TABLES FROM sg_reader;
-- migrate:down
`,
	}
	setupSQL := `CREATE ROLE sg_owner; CREATE ROLE sg_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE sg_owner GRANT SELECT, INSERT ON TABLES TO sg_reader;`
	setup := []*migrate.Script{{File: "setup.sql", SQL: setupSQL, Statements: sqlparse.Parse(setupSQL)}}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatDbmate, files), Provider: provider(t),
		GenerateDown: true, Setup: setup})
	if err != nil {
		t.Fatal(err)
	}
	checkGeneratedDowns(t, rep, map[string][]string{
		"20240101000001": {
			"ALTER DEFAULT PRIVILEGES FOR ROLE CURRENT_USER REVOKE SELECT ON TABLES FROM sg_reader;",
			"ALTER DEFAULT PRIVILEGES FOR ROLE sg_owner GRANT EXECUTE ON FUNCTIONS TO PUBLIC;",
			"ALTER DEFAULT PRIVILEGES FOR ROLE sg_owner GRANT INSERT ON TABLES TO sg_reader;",
		},
	})
	if gd := migration(t, rep, "20240101000001").GeneratedDown; gd != nil && len(gd.Problems) != 0 {
		t.Errorf("generated down problems:\n%s", strings.Join(gd.Problems, "\n"))
	}
}
