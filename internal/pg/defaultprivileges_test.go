package pg_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/schema"
)

// defaultPrivilegeRoles makes the roles the database-wide default privileges cases grant to and act
// for. The tests share one server: whichever test makes them first does.
const defaultPrivilegeRoles = `DO $$ BEGIN CREATE ROLE sg_defacl_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE sg_defacl_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`

// TestDatabaseDefaultPrivilegesRoundTrip: the database-wide default privileges (ALTER DEFAULT
// PRIVILEGES without IN SCHEMA) are read, compared and put back by a generated down, whether the up
// made an entry, changed one or took one away, for the current role or another, on every kind, also
// where an entry takes away what PostgreSQL's built-in defaults give (PUBLIC's EXECUTE on functions and
// USAGE on types, the role's own privileges).
func TestDatabaseDefaultPrivilegesRoundTrip(t *testing.T) {
	cases := []struct{ name, setup, up string }{
		{name: "grant on tables", up: `ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO sg_defacl_reader`},
		{name: "revoke PUBLIC's execute", up: `ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC`},
		{name: "revoke PUBLIC's usage on types", up: `ALTER DEFAULT PRIVILEGES REVOKE USAGE ON TYPES FROM PUBLIC`},
		{name: "give PUBLIC's execute back", setup: `ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC`,
			up: `ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC`},
		{name: "take an entry away", setup: `ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO sg_defacl_reader`,
			up: `ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM sg_defacl_reader`},
		{name: "the role revokes its own", up: `ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM CURRENT_USER`},
		{name: "for another role, with grant option", up: `ALTER DEFAULT PRIVILEGES FOR ROLE sg_defacl_owner GRANT USAGE, SELECT ON SEQUENCES TO sg_defacl_reader WITH GRANT OPTION;
			ALTER DEFAULT PRIVILEGES FOR ROLE sg_defacl_owner GRANT USAGE ON SCHEMAS TO PUBLIC`},
		{name: "change another role's entry", setup: `ALTER DEFAULT PRIVILEGES FOR ROLE sg_defacl_owner GRANT SELECT, INSERT ON TABLES TO sg_defacl_reader;
			ALTER DEFAULT PRIVILEGES FOR ROLE sg_defacl_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC`,
			up: `ALTER DEFAULT PRIVILEGES FOR ROLE sg_defacl_owner REVOKE INSERT ON TABLES FROM sg_defacl_reader;
			ALTER DEFAULT PRIVILEGES FOR ROLE sg_defacl_owner GRANT UPDATE ON TABLES TO PUBLIC;
			ALTER DEFAULT PRIVILEGES FOR ROLE sg_defacl_owner GRANT EXECUTE ON FUNCTIONS TO sg_defacl_reader`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := pgtest.Conn(t)
			exec(t, conn, defaultPrivilegeRoles)
			if tc.setup != "" {
				exec(t, conn, tc.setup)
			}
			r := runRoundTrip(t, conn, tc.up)
			t.Logf("generated down:\n%s", r.down.SQL)
			if r.before.DefaultPrivileges == r.after.DefaultPrivileges {
				t.Fatalf("the up changed no default privileges: %q", r.after.DefaultPrivileges)
			}
			if r.down.Empty() || !strings.Contains(r.down.SQL, "ALTER DEFAULT PRIVILEGES FOR ROLE") {
				t.Fatalf("no down generated for %s:\n%s", tc.up, r.down.SQL)
			}
			if !r.exact() {
				t.Errorf("round trip not exact:\ndown error: %v\nre-up error: %v\nafter down: %q\nafter re-up: %q\n--- down:\n%s",
					r.downErr, r.reUpErr, r.downProblems, r.reUpProblems, r.down.SQL)
			}
		})
	}
}

// TestDatabaseDefaultPrivilegesRead: a catalog reads the database-wide default privileges as one sorted
// line per role and kind, the whole ACL of the entry (an entry that only revokes PUBLIC's EXECUTE holds
// the role's own), and leaves those IN SCHEMA to their schema; a down that forgets them is told in one
// sentence per role and kind.
func TestDatabaseDefaultPrivilegesRead(t *testing.T) {
	conn := pgtest.Conn(t)
	exec(t, conn, defaultPrivilegeRoles)
	var user string
	if err := conn.QueryRow(context.Background(), "SELECT current_user").Scan(&user); err != nil {
		t.Fatal(err)
	}
	before := inspect(t, conn)
	if before.DefaultPrivileges != "" {
		t.Fatalf("a new database has default privileges %q", before.DefaultPrivileges)
	}
	exec(t, conn, `ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
		ALTER DEFAULT PRIVILEGES FOR ROLE sg_defacl_owner GRANT SELECT ON TABLES TO sg_defacl_reader;
		ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON SEQUENCES TO sg_defacl_reader`)
	after := inspect(t, conn)
	lines := []string{"sg_defacl_owner: tables: sg_defacl_owner=arwdDxt" + maintain(t, conn) + "/sg_defacl_owner,sg_defacl_reader=r/sg_defacl_owner",
		user + ": functions: " + user + "=X/" + user}
	slices.Sort(lines)
	want := strings.Join(lines, "\n")
	if after.DefaultPrivileges != want {
		t.Errorf("default privileges:\n%s\nwant:\n%s", after.DefaultPrivileges, want)
	}
	if s := after.Schemas["public"].DefaultPrivileges; s != user+": sequences: sg_defacl_reader=r/"+user {
		t.Errorf("public's default privileges %q", s)
	}
	got := schema.Describe(schema.Compare(after, before), schema.DownPhrasing)
	for _, w := range []string{
		"the database-wide default privileges of role " + user + " on functions are the built-in defaults after the down, were " + user + "=X/" + user,
		"the database-wide default privileges of role sg_defacl_owner on tables are the built-in defaults after the down, were sg_defacl_owner=arwdDxt" +
			maintain(t, conn) + "/sg_defacl_owner,sg_defacl_reader=r/sg_defacl_owner",
	} {
		if !strings.Contains(strings.Join(got, "\n"), w) {
			t.Errorf("missing %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
}

// maintain is the MAINTAIN privilege's letter in a table's ACL from PostgreSQL 17, which added it.
func maintain(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	var v int
	if err := conn.QueryRow(context.Background(), "SELECT current_setting('server_version_num')::int").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v >= 170000 {
		return "m"
	}
	return ""
}
