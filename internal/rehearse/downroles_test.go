package rehearse_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/sandbox"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestGeneratedDownNamesNoRehearsalRole: a generated down (rollback-script) of a migration that grants
// privileges, on a table, a column, a sequence and by default (database-wide and in a schema), and
// takes one from the owner, revokes and grants back only those, and one that gives a table and a view
// to another role gives them back to CURRENT_USER: it named the throwaway database's own role
// (postgres) as owner and grantee (REVOKE ALL ... FROM PUBLIC, postgres, reader; GRANT ... TO
// postgres; OWNER TO postgres). Each down is verified, and run as the role that ran the migrations on
// another database (app, as in production) it gives back the owners and ACLs those migrations left
// there, which the old one did not (it granted postgres everything, and made it the owner). On
// PostgreSQL 15 (local) and 17 (docker: tables have MAINTAIN).
func TestGeneratedDownNamesNoRehearsalRole(t *testing.T) {
	t.Parallel()
	const reader, app = "sg_downroles_reader", "sg_downroles_app"
	files := map[string]string{
		"1_a.up.sql": `CREATE TABLE accounts (id int PRIMARY KEY, secret text);
CREATE VIEW accounts_v AS SELECT id FROM accounts;
CREATE SEQUENCE counter;
`,
		"2_b.up.sql": `GRANT SELECT ON accounts TO ` + reader + `;
GRANT UPDATE (secret) ON accounts TO ` + reader + `;
GRANT USAGE ON SEQUENCE counter TO ` + reader + `;
REVOKE TRUNCATE ON accounts FROM CURRENT_USER;
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO ` + reader + `;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT INSERT ON TABLES TO ` + reader + `;
`,
		"3_c.up.sql": `ALTER TABLE accounts OWNER TO ` + reader + `;
ALTER VIEW accounts_v OWNER TO ` + reader + `;
`,
	}
	wants := map[string][]string{
		"2": {
			"ALTER DEFAULT PRIVILEGES FOR ROLE CURRENT_USER IN SCHEMA public REVOKE INSERT ON TABLES FROM " + reader,
			"ALTER DEFAULT PRIVILEGES FOR ROLE CURRENT_USER REVOKE SELECT ON TABLES FROM " + reader,
			"REVOKE SELECT ON TABLE accounts FROM " + reader,
			"GRANT TRUNCATE ON TABLE accounts TO CURRENT_USER",
			"REVOKE UPDATE (secret) ON TABLE accounts FROM " + reader,
			"REVOKE USAGE ON SEQUENCE counter FROM " + reader,
		},
		// Giving the table back puts its owner in reader's place in the ACLs (reader's column privilege
		// becomes the owner's, as its SELECT does): reader gets them again.
		"3": {
			"ALTER TABLE accounts OWNER TO CURRENT_USER",
			"GRANT SELECT ON TABLE accounts TO " + reader,
			"REVOKE UPDATE (secret) ON TABLE accounts FROM CURRENT_USER",
			"GRANT UPDATE (secret) ON TABLE accounts TO " + reader,
			"ALTER VIEW accounts_v OWNER TO CURRENT_USER",
		},
	}
	setupSQL := "CREATE ROLE " + reader + " NOLOGIN;"
	setup := []*migrate.Script{{File: "setup.sql", SQL: setupSQL, Statements: sqlparse.Parse(setupSQL)}}
	for _, tc := range []struct {
		name string
		// start gives the provider of the rehearsal and the admin URL of a server that stands for
		// production.
		start func(t *testing.T) (sandbox.Provider, string)
	}{
		{"15", func(t *testing.T) (sandbox.Provider, string) { return provider(t), pgtest.URL(t) }},
		{"17", func(t *testing.T) (sandbox.Provider, string) {
			inst := pgtest.TCPServerVersion(t, 17)
			return sandbox.NewDocker(sandbox.Options{Image: "schemagate/postgres:17", PGVersion: 17}), inst.AdminURL
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, prodURL := tc.start(t)
			set := folderOf(t, migrate.FormatGolangMigrate, files)
			downs := map[string]string{}
			for _, v := range []string{"2", "3"} {
				gd, err := rehearse.RollbackScript(context.Background(), rehearse.Options{Set: set, Provider: p, Setup: setup}, v)
				if err != nil {
					t.Fatalf("rollback script of %s: %v", v, err)
				}
				if !gd.Verified {
					t.Errorf("down of %s not verified: %q\n%s", v, gd.Problems, gd.SQL)
				}
				var got []string
				for _, l := range strings.Split(gd.SQL, "\n") {
					if l != "" && !strings.HasPrefix(l, "--") {
						got = append(got, strings.TrimSuffix(l, ";"))
					}
				}
				if strings.Join(got, "\n") != strings.Join(wants[v], "\n") {
					t.Errorf("down of %s:\n%s\nwant:\n%s", v, strings.Join(got, "\n"), strings.Join(wants[v], "\n"))
				}
				if regexp.MustCompile(`(?i)\bpostgres\b`).MatchString(strings.Join(got, "\n")) {
					t.Errorf("down of %s names the rehearsal's role postgres:\n%s", v, gd.SQL)
				}
				if !strings.Contains(gd.SQL, "-- Run it as the role that ran the migrations: CURRENT_USER below stands for that role.") {
					t.Errorf("down of %s does not say it runs as the migrations' role:\n%s", v, gd.SQL)
				}
				downs[v] = gd.SQL
			}
			atProduction(t, prodURL, reader, app, files, downs)
		})
	}
}

// atProduction runs the migrations of files, as app (a role made for it, that reader's privileges and
// ownership pass through), on the database of admin (a superuser's URL), each of the downs after its
// migration, and checks that it gives back the owners and ACLs the migrations before it left.
func atProduction(t *testing.T, admin, reader, app string, files map[string]string, downs map[string]string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec := func(what, sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// Roles are the server's: the shared server's outlive the database, which is dropped at the end.
	exec("roles", "CREATE ROLE "+reader+" NOLOGIN; CREATE ROLE "+app+" NOLOGIN; GRANT "+reader+" TO "+app+
		"; GRANT CREATE ON SCHEMA public TO "+app+", "+reader)
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP OWNED BY "+reader+", "+app+"; DROP ROLE "+reader+"; DROP ROLE "+app)
	})
	exec("set role", "SET ROLE "+app)
	const state = `SELECT string_agg(x, E'\n' ORDER BY x) FROM (
  SELECT c.relname || ': ' || c.relowner::regrole || ' ' || coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner))::text AS x
    FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'S')
  UNION ALL SELECT attrelid::regclass || '.' || attname || ': ' || attacl::text FROM pg_attribute
    WHERE attrelid = 'public.accounts'::regclass AND attacl IS NOT NULL
  UNION ALL SELECT 'default ' || defaclrole::regrole || ' ' || defaclnamespace || ' ' || defaclobjtype::text || ': ' || defaclacl::text FROM pg_default_acl) s`
	read := func() string {
		t.Helper()
		var s *string
		if err := conn.QueryRow(ctx, state).Scan(&s); err != nil {
			t.Fatalf("read the owners and ACLs: %v", err)
		}
		if s == nil {
			return ""
		}
		return *s
	}
	exec("1_a", files["1_a.up.sql"])
	for _, m := range []struct{ v, file string }{{"2", "2_b.up.sql"}, {"3", "3_c.up.sql"}} {
		before := read()
		exec(m.file, files[m.file])
		if _, err := conn.Exec(ctx, downs[m.v]); err != nil {
			t.Fatalf("the down of %s, run as %s: %v\n%s", m.v, app, err, downs[m.v])
		}
		if after := read(); after != before {
			t.Errorf("after the down of %s, run as %s:\n%s\nwant, as before %s:\n%s", m.v, app, after, m.file, before)
		}
		exec(m.file+" again", files[m.file])
	}
}
