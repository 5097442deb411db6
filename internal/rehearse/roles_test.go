package rehearse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestRoundTripSeesRoles: roles, their attributes, settings and comments, and memberships are in the
// compared catalog. A down that forgets DROP ROLE, a REVOKE, or to take back ALTER ROLE fails its round
// trip and says what it left; a down that undoes it all passes, and role statements get no
// not-checked note.
func TestRoundTripSeesRoles(t *testing.T) {
	files := map[string]string{
		"00001_app.sql": `-- +goose Up
CREATE ROLE sg_app LOGIN;
-- +goose Down
DROP ROLE sg_app;
`,
		"00002_reader.sql": `-- +goose Up
CREATE ROLE sg_reader;
-- +goose Down
SELECT 1;
`,
		"00003_grant.sql": `-- +goose Up
GRANT sg_reader TO sg_app;
-- +goose Down
SELECT 1;
`,
		"00004_alter.sql": `-- +goose Up
ALTER ROLE sg_app CONNECTION LIMIT 5 NOLOGIN;
ALTER ROLE sg_app SET search_path = app, public;
-- +goose Down
SELECT 1;
`,
		"00005_undone.sql": `-- +goose Up
CREATE USER sg_tmp PASSWORD 'secret';
GRANT sg_reader TO sg_tmp WITH ADMIN OPTION;
ALTER ROLE sg_app CONNECTION LIMIT 9;
ALTER ROLE sg_app SET work_mem = '8MB';
COMMENT ON ROLE sg_app IS 'the app';
ALTER ROLE sg_reader RENAME TO sg_readers;
-- +goose Down
ALTER ROLE sg_readers RENAME TO sg_reader;
COMMENT ON ROLE sg_app IS NULL;
ALTER ROLE sg_app RESET work_mem;
ALTER ROLE sg_app CONNECTION LIMIT 5;
REVOKE sg_reader FROM sg_tmp;
DROP ROLE sg_tmp;
`,
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGoose, files), Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"2": {"role sg_reader is left behind by the down", `the up fails when run again after the down: role "sg_reader" already exists`},
		"3": {"membership of sg_app in sg_reader is left behind by the down"},
		"4": {"role sg_app has CONNECTION LIMIT 5 after the down, was none", "role sg_app is NOLOGIN after the down, was LOGIN",
			"role sg_app's setting search_path is app, public after the down, was not set"},
	}
	checkRoundtrips(t, rep, []string{"1", "5"}, cases)
	for v, wants := range cases { // and nothing else
		if rt := migration(t, rep, v).Roundtrip; rt != nil && len(rt.Problems) != len(wants) {
			problems := strings.Join(rt.Problems, "\n")
			t.Errorf("migration %s: %d problems, want %d:\n%s", v, len(rt.Problems), len(wants), problems)
		}
	}
	for _, n := range rep.Notes {
		if strings.Contains(n, "ROLE") || strings.Contains(n, "GRANT sg_") {
			t.Errorf("note on a role statement, which the round trip checks: %s", n)
		}
	}
}

// TestGeneratedDownOfRoles: the generated down drops the roles an up created and revokes the memberships
// it granted between roles that stay, takes back ALTER ROLE (attributes, settings, comment, rename), and
// creates again a role an up dropped with its attributes, settings and memberships; each is verified
// by its round trip, but for the dropped role's password, which cannot be read back: the down says so
// and is not verified.
func TestGeneratedDownOfRoles(t *testing.T) {
	files := map[string]string{
		"20240101000001_add.sql": `-- migrate:up
CREATE ROLE sg_reader NOLOGIN CONNECTION LIMIT 3;
GRANT sg_reader TO sg_app;
GRANT sg_base TO sg_app WITH ADMIN OPTION;
-- migrate:down
`,
		"20240101000002_alter.sql": `-- migrate:up
ALTER ROLE sg_app CONNECTION LIMIT 5 CREATEDB;
ALTER ROLE sg_app SET search_path = a, "B c";
ALTER ROLE sg_app RESET work_mem;
COMMENT ON ROLE sg_app IS 'app';
ALTER ROLE sg_app RENAME TO sg_app2;
-- migrate:down
`,
		"20240101000003_drop.sql": `-- migrate:up
DROP ROLE sg_old;
DROP ROLE sg_older;
-- migrate:down
`,
	}
	setupSQL := `CREATE ROLE sg_app LOGIN; CREATE ROLE sg_base;
ALTER ROLE sg_app SET work_mem = '8MB';
CREATE ROLE sg_old LOGIN CONNECTION LIMIT 4; ALTER ROLE sg_old SET statement_timeout = '5s'; GRANT sg_base TO sg_old;
COMMENT ON ROLE sg_old IS 'old';
CREATE ROLE sg_older LOGIN PASSWORD 'secret';`
	setup := []*migrate.Script{{File: "setup.sql", SQL: setupSQL, Statements: sqlparse.Parse(setupSQL)}}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatDbmate, files), Provider: provider(t),
		GenerateDown: true, Setup: setup})
	if err != nil {
		t.Fatal(err)
	}
	wants := map[string][]string{
		"20240101000001": {"REVOKE sg_base FROM sg_app", "DROP ROLE sg_reader"},
		"20240101000002": {"ALTER ROLE sg_app2 RENAME TO sg_app", "ALTER ROLE sg_app NOCREATEDB CONNECTION LIMIT -1",
			"ALTER ROLE sg_app SET work_mem TO '8MB'", "ALTER ROLE sg_app RESET search_path", "COMMENT ON ROLE sg_app IS NULL"},
		"20240101000003": {"CREATE ROLE sg_old LOGIN CONNECTION LIMIT 4", "ALTER ROLE sg_old SET statement_timeout TO '5s'",
			"GRANT sg_base TO sg_old", "COMMENT ON ROLE sg_old IS 'old'", "CREATE ROLE sg_older LOGIN",
			"IRREVERSIBLE: not restored: the password of role sg_older"},
	}
	for v, want := range wants {
		m := migration(t, rep, v)
		gd := m.GeneratedDown
		if gd == nil {
			t.Errorf("%s: %s %+v: no generated down", v, m.Status, m.Error)
			continue
		}
		if verified := v != "20240101000003"; gd.Verified != verified {
			t.Errorf("%s: generated down verified %v, want %v: %+v", v, gd.Verified, verified, gd)
		}
		for _, w := range want {
			if !strings.Contains(gd.SQL, w) {
				t.Errorf("%s: generated down lacks %q:\n%s", v, w, gd.SQL)
			}
		}
	}
	gd := migration(t, rep, "20240101000003").GeneratedDown
	if problems := strings.Join(gd.Problems, "\n"); problems != "role sg_older has no password after the down, had a password" {
		t.Errorf("dropped role's password: problems %q", problems)
	}
	if strings.Contains(migration(t, rep, "20240101000001").GeneratedDown.SQL, "REVOKE sg_reader") {
		t.Errorf("the membership of a dropped role is revoked on its own:\n%s", migration(t, rep, "20240101000001").GeneratedDown.SQL)
	}
}

// TestRoundTripSeesGrantorsOfMemberships: from PostgreSQL 16 on, each grantor's grant of a membership
// is one of its own, and REVOKE takes back the current role's alone. A down that leaves the grant an up
// made GRANTED BY another role fails its round trip naming it (the memberships were read as one per
// member and role, and REVOKE g FROM u left the member in the role with the round trip ok); a down
// that revokes it GRANTED BY that role passes, and the generated down does so, verified.
func TestRoundTripSeesGrantorsOfMemberships(t *testing.T) {
	files := map[string]string{
		"00001_by_x.sql": `-- +goose Up
GRANT sg_g2 TO sg_u2 GRANTED BY sg_x2;
-- +goose Down
SELECT 1;
`,
		"00002_revoked.sql": `-- +goose Up
GRANT sg_g2 TO sg_u3 GRANTED BY sg_x2;
-- +goose Down
REVOKE sg_g2 FROM sg_u3;
`,
		"00003_undone.sql": `-- +goose Up
GRANT sg_g2 TO sg_u4 GRANTED BY sg_x2;
-- +goose Down
REVOKE sg_g2 FROM sg_u4 GRANTED BY sg_x2;
`,
	}
	setupSQL := `CREATE ROLE sg_g2; CREATE ROLE sg_x2; CREATE ROLE sg_u2; CREATE ROLE sg_u3; CREATE ROLE sg_u4;
GRANT sg_g2 TO sg_x2 WITH ADMIN OPTION; GRANT sg_g2 TO sg_u2; GRANT sg_g2 TO sg_u3;`
	setup := []*migrate.Script{{File: "setup.sql", SQL: setupSQL, Statements: sqlparse.Parse(setupSQL)}}
	p := dockerProvider(t, 17)
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGoose, files), Provider: p, Setup: setup})
	if err != nil {
		t.Fatal(err)
	}
	checkRoundtrips(t, rep, []string{"3"}, map[string][]string{
		"1": {"membership of sg_u2 in sg_g2 granted by sg_x2 is left behind by the down"},
		"2": {"membership of sg_u3 in sg_g2 granted by sg_x2 is left behind by the down"},
	})

	gen := map[string]string{
		"20240101000001_by_x.sql":    "-- migrate:up\nGRANT sg_g2 TO sg_u2 GRANTED BY sg_x2;\n-- migrate:down\n",
		"20240101000002_options.sql": "-- migrate:up\nGRANT sg_g2 TO sg_u3 WITH INHERIT FALSE;\n-- migrate:down\n",
	}
	rep, err = rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatDbmate, gen), Provider: p, Setup: setup,
		GenerateDown: true})
	if err != nil {
		t.Fatal(err)
	}
	m := migration(t, rep, "20240101000001")
	if gd := m.GeneratedDown; gd == nil || !gd.Verified || !strings.Contains(gd.SQL, "REVOKE sg_g2 FROM sg_u2 GRANTED BY sg_x2") {
		t.Errorf("%s %+v: generated down %+v; want REVOKE sg_g2 FROM sg_u2 GRANTED BY sg_x2, verified", m.Status, m.Error, gd)
	}
	// The option of the grant the setup made (a superuser's grants are the bootstrap superuser's).
	m = migration(t, rep, "20240101000002")
	if gd := m.GeneratedDown; gd == nil || !gd.Verified || !strings.Contains(gd.SQL, "GRANT sg_g2 TO sg_u3 WITH INHERIT TRUE GRANTED BY postgres") {
		t.Errorf("%s %+v: generated down %+v; want GRANT sg_g2 TO sg_u3 WITH INHERIT TRUE GRANTED BY postgres, verified", m.Status, m.Error, gd)
	}
}
