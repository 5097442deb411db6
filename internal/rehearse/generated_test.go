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

// TestGeneratedDownFailureKeepsDetail: the generated down of a migration that adds a type and two tables
// the comparison leaves out (schemagate_*, as it does its own) that use it drops the type but not them,
// and fails. Its problem says why in full, as PostgreSQL did: the message with its DETAIL (the dependent
// objects, one line each) and HINT, and names the statements the down cannot undo (the settings of
// every role are not in the compared catalog).
func TestGeneratedDownFailureKeepsDetail(t *testing.T) {
	files := map[string]string{"00001_op.sql": `-- +goose Up
CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE TABLE schemagate_a (m mood);
CREATE TABLE schemagate_b (m mood);
ALTER ROLE ALL SET work_mem = '64MB';
`}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGoose, files), Provider: provider(t), GenerateDown: true})
	if err != nil {
		t.Fatal(err)
	}
	gd := migration(t, rep, "1").GeneratedDown
	if gd == nil || gd.Verified {
		t.Fatalf("generated down %+v, want one that is not verified", gd)
	}
	problems := strings.Join(gd.Problems, "\n")
	for _, want := range []string{
		"the down fails: cannot drop type mood because other objects depend on it (DETAIL: column m of table schemagate_a depends on type mood; column m of table schemagate_b depends on type mood; HINT: Use DROP ... CASCADE to drop the dependent objects too.)",
		"ALTER ROLE ALL SET work_mem at 00001_op.sql:5 changes the settings of every role, which the generated down does not undo",
	} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems lack %q:\n%s", want, problems)
		}
	}
	if e := gd.Error; e == nil || e.SQLState != "2BP01" || e.Phase != "down" || !strings.Contains(e.Detail, "column m of table schemagate_a depends on type mood") ||
		!strings.Contains(e.Hint, "CASCADE") || e.File != "1.generated.down.sql" {
		t.Errorf("error %+v, want the down's error with its detail and hint", e)
	}
}

// TestGeneratedDownOfAnOperator: operators are in the compared catalog: the generated down of a
// migration that adds two and their function drops the operators before the function, and is verified.
func TestGeneratedDownOfAnOperator(t *testing.T) {
	files := map[string]string{"00001_op.sql": `-- +goose Up
CREATE FUNCTION same(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = same);
CREATE OPERATOR <=> (LEFTARG = int, RIGHTARG = int, FUNCTION = same);
`}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGoose, files), Provider: provider(t), GenerateDown: true})
	if err != nil {
		t.Fatal(err)
	}
	gd := migration(t, rep, "1").GeneratedDown
	if gd == nil || !gd.Verified || !strings.Contains(gd.SQL, "DROP OPERATOR public.===(integer, integer)") ||
		!strings.Contains(gd.SQL, "DROP OPERATOR public.<=>(integer, integer)") {
		t.Fatalf("generated down %+v, want a verified one dropping both operators", gd)
	}
}

// TestGeneratedDownOfEventTriggers: event triggers are in the compared catalog: the generated down of a
// migration that adds two and their function drops them first, and is verified.
func TestGeneratedDownOfEventTriggers(t *testing.T) {
	files := map[string]string{"00001_evt.sql": `-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION audit_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
-- +goose StatementEnd
CREATE EVENT TRIGGER audit_ddl_end ON ddl_command_end EXECUTE FUNCTION audit_ddl();
CREATE EVENT TRIGGER audit_ddl_start ON ddl_command_start WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION audit_ddl();
`}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGoose, files), Provider: provider(t), GenerateDown: true})
	if err != nil {
		t.Fatal(err)
	}
	gd := migration(t, rep, "1").GeneratedDown
	if gd == nil || !gd.Verified || !strings.Contains(gd.SQL, "DROP EVENT TRIGGER audit_ddl_end") || !strings.Contains(gd.SQL, "DROP EVENT TRIGGER audit_ddl_start") {
		t.Fatalf("generated down %+v, want a verified one dropping both event triggers", gd)
	}
}

// TestGeneratedDownOutsideTheCatalog: a generated down is not verified when the up did what the catalog
// comparison does not see (the settings of every role), and its problems name each such statement. A
// data-only migration keeps its empty, verified down, and a GRANT on a table, ALTER ROLE, a membership
// (in a predefined role too), a comment on a role and database-wide default privileges (compared, and
// undone) do not count.
func TestGeneratedDownOutsideTheCatalog(t *testing.T) {
	files := map[string]string{
		"20240101000001_role.sql": "-- migrate:up\nALTER ROLE api_user INHERIT;\nALTER ROLE api_user SET statement_timeout = '3s';\n-- migrate:down\n",
		"20240101000002_table.sql": "-- migrate:up\nCREATE TABLE t (id int);\nGRANT pg_read_all_data TO api_user;\n" +
			"COMMENT ON ROLE api_user IS 'the API';\nALTER ROLE ALL SET work_mem = '64MB';\n-- migrate:down\n",
		"20240101000003_data.sql": "-- migrate:up\nINSERT INTO t VALUES (1);\n-- migrate:down\n",
		"20240101000004_grant.sql": "-- migrate:up\nGRANT SELECT ON t TO api_user;\n" +
			"ALTER DEFAULT PRIVILEGES FOR ROLE api_user GRANT SELECT ON TABLES TO PUBLIC;\n-- migrate:down\n",
	}
	setupSQL := "CREATE ROLE api_user NOLOGIN NOINHERIT;"
	setup := []*migrate.Script{{File: "setup.sql", SQL: setupSQL, Statements: sqlparse.Parse(setupSQL)}}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatDbmate, files), Provider: provider(t), GenerateDown: true, Setup: setup})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		version  string
		verified bool
		sql      string
		problems []string
	}{
		{"20240101000001", true, "ALTER ROLE api_user NOINHERIT;\n\n-- reset role api_user's setting statement_timeout (the up set it)\nALTER ROLE api_user RESET statement_timeout", nil},
		{"20240101000002", false, "REVOKE pg_read_all_data FROM api_user", []string{
			"ALTER ROLE ALL SET work_mem at 20240101000002_table.sql:5 changes the settings of every role, which the generated down does not undo",
		}},
		{"20240101000003", true, "", nil},
		{"20240101000004", true, "ALTER DEFAULT PRIVILEGES FOR ROLE api_user REVOKE SELECT ON TABLES FROM PUBLIC", nil},
	}
	for _, c := range cases {
		m := migration(t, rep, c.version)
		gd := m.GeneratedDown
		if gd == nil {
			t.Errorf("%s: %s %+v, no generated down", c.version, m.Status, m.Error)
			continue
		}
		if gd.Verified != c.verified || !strings.Contains(gd.SQL, c.sql) || strings.Join(gd.Problems, "\n") != strings.Join(c.problems, "\n") {
			t.Errorf("%s: verified %v, problems:\n%s\nSQL:\n%s\nwant verified %v, SQL with %q, problems:\n%s", c.version, gd.Verified,
				strings.Join(gd.Problems, "\n"), gd.SQL, c.verified, c.sql, strings.Join(c.problems, "\n"))
		}
		// An empty script says why it is empty, and that is no problem of it.
		if wantNote := c.sql == "" && c.verified; (gd.Note != "") != wantNote {
			t.Errorf("%s: note %q, want one: %v", c.version, gd.Note, wantNote)
		}
	}
}

// TestGeneratedDownRunsAsItsToolRunsIt: a down that re-creates a dropped index among other steps builds
// it CONCURRENTLY only where the folder's tool runs the statements one by one (psql for plain folders);
// golang-migrate sends the down as one query, a transaction block, where CONCURRENTLY fails, so there
// it builds the index plainly. Both are proven.
func TestGeneratedDownRunsAsItsToolRunsIt(t *testing.T) {
	for _, tc := range []struct {
		format     migrate.Format
		files      map[string]string
		concurrent bool
	}{
		{migrate.FormatGolangMigrate, map[string]string{
			"1_t.up.sql": "CREATE TABLE t (id int, v text);\nCREATE INDEX t_v_idx ON t (v);", "1_t.down.sql": "DROP TABLE t;",
			"2_change.up.sql": "DROP INDEX t_v_idx;\nALTER TABLE t ADD COLUMN note text;"}, false},
		{migrate.FormatPlain, map[string]string{
			"1_t.sql":      "CREATE TABLE t (id int, v text);\nCREATE INDEX t_v_idx ON t (v);",
			"2_change.sql": "DROP INDEX t_v_idx;\nALTER TABLE t ADD COLUMN note text;"}, true},
		// a dbmate down section runs in a transaction unless marked transaction:false: a down pasted
		// under a plain -- migrate:down must not need one
		{migrate.FormatDbmate, map[string]string{
			"20240101000001_t.sql": "-- migrate:up\nCREATE TABLE t (id int, v text);\nCREATE INDEX t_v_idx ON t (v);\n-- migrate:down\nDROP TABLE t;\n",
			"20240101000002_d.sql": "-- migrate:up\nDROP INDEX t_v_idx;\n-- migrate:down\n"}, false},
		{migrate.FormatSQLMigrate, map[string]string{
			"1_t.sql": "-- +migrate Up\nCREATE TABLE t (id int, v text);\nCREATE INDEX t_v_idx ON t (v);\n-- +migrate Down\nDROP TABLE t;\n",
			"2_d.sql": "-- +migrate Up\nDROP INDEX t_v_idx;\n-- +migrate Down notransaction\n"}, true},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			gd := verifiedSecondDown(t, tc.format, tc.files)
			if got := strings.Contains(gd.SQL, "CREATE INDEX CONCURRENTLY"); got != tc.concurrent || gd.NoTransaction != tc.concurrent {
				t.Errorf("CONCURRENTLY %v (no transaction %v), want %v:\n%s", got, gd.NoTransaction, tc.concurrent, gd.SQL)
			}
		})
	}
}

// TestGeneratedDownDropsIndexesConcurrently: the down written for an up that adds an index to a table
// it keeps drops the index CONCURRENTLY (a plain DROP INDEX takes ACCESS EXCLUSIVE on the table) where
// the folder's tool runs it outside a transaction block: golang-migrate a down of that one statement,
// psql a plain folder's statements one by one, goose an up marked NO TRANSACTION (its down too). Where
// the tool would wrap it in one, it drops the index plainly. Each is proven.
func TestGeneratedDownDropsIndexesConcurrently(t *testing.T) {
	table := "CREATE TABLE t (id int, v text);\n"
	for _, tc := range []struct {
		name       string
		format     migrate.Format
		files      map[string]string
		concurrent bool
	}{
		{"golang-migrate, one step", migrate.FormatGolangMigrate, map[string]string{
			"1_t.up.sql": table, "1_t.down.sql": "DROP TABLE t;",
			"2_idx.up.sql": "CREATE INDEX CONCURRENTLY t_v_idx ON t (v);"}, true},
		{"golang-migrate, two steps", migrate.FormatGolangMigrate, map[string]string{
			"1_t.up.sql": table, "1_t.down.sql": "DROP TABLE t;",
			"2_idx.up.sql": "ALTER TABLE t ADD COLUMN note text;\nCREATE INDEX t_v_idx ON t (v);"}, false},
		{"plain", migrate.FormatPlain, map[string]string{
			"1_t.sql":   table,
			"2_idx.sql": "ALTER TABLE t ADD COLUMN note text;\nCREATE INDEX CONCURRENTLY t_v_idx ON t (v);"}, true},
		{"goose, no transaction", migrate.FormatGoose, map[string]string{
			"1_t.sql":   "-- +goose Up\n" + table + "-- +goose Down\nDROP TABLE t;\n",
			"2_idx.sql": "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY t_v_idx ON t (v);\n"}, true},
		{"goose, in a transaction", migrate.FormatGoose, map[string]string{
			"1_t.sql":   "-- +goose Up\n" + table + "-- +goose Down\nDROP TABLE t;\n",
			"2_idx.sql": "-- +goose Up\nCREATE INDEX t_v_idx ON t (v);\n"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gd := verifiedSecondDown(t, tc.format, tc.files)
			if !strings.Contains(gd.SQL, "DROP INDEX") {
				t.Fatalf("the down drops no index:\n%s", gd.SQL)
			}
			if got := strings.Contains(gd.SQL, "DROP INDEX CONCURRENTLY t_v_idx"); got != tc.concurrent || gd.NoTransaction != tc.concurrent {
				t.Errorf("CONCURRENTLY %v (no transaction %v), want %v:\n%s", got, gd.NoTransaction, tc.concurrent, gd.SQL)
			}
		})
	}
}

// verifiedSecondDown rehearses the folder of files with generated downs and returns the one written for
// its second migration, failing the test unless the rehearsal proved it.
func verifiedSecondDown(t *testing.T, format migrate.Format, files map[string]string) *report.GeneratedDown {
	t.Helper()
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: folderOf(t, format, files), Provider: provider(t), GenerateDown: true})
	if err != nil {
		t.Fatal(err)
	}
	gd := rep.Migrations[1].GeneratedDown
	if gd == nil || !gd.Verified {
		t.Fatalf("generated down not verified: %+v", gd)
	}
	return gd
}

// TestTransactionalDownOfANonTransactionalUp: sql-migrate marks each direction apart, so a down without
// notransaction runs in a transaction even when its up runs outside one: there DROP INDEX CONCURRENTLY
// fails, as it does under sql-migrate. The round trip on the database copy used to run it in autocommit
// and say ok.
func TestTransactionalDownOfANonTransactionalUp(t *testing.T) {
	set := folderOf(t, migrate.FormatSQLMigrate, map[string]string{
		"1_t.sql":   "-- +migrate Up\nCREATE TABLE t (id bigint);\n-- +migrate Down\nDROP TABLE t;\n",
		"2_idx.sql": "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_id_idx ON t (id);\n-- +migrate Down\nDROP INDEX CONCURRENTLY IF EXISTS t_id_idx;\n",
		"3_ok.sql":  "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY t_id2_idx ON t (id);\n-- +migrate Down notransaction\nDROP INDEX CONCURRENTLY t_id2_idx;\n",
	})
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	bad, ok := migration(t, rep, "2"), migration(t, rep, "3")
	if bad.Roundtrip == nil || bad.Roundtrip.Status != report.RoundtripFailed || !strings.Contains(strings.Join(bad.Roundtrip.Problems, "\n"), "cannot run inside a transaction block") {
		t.Errorf("2: round trip %+v, want the down failing inside a transaction block", bad.Roundtrip)
	}
	if ok.Status != report.StatusApplied || ok.Roundtrip == nil || ok.Roundtrip.Status != report.RoundtripOK {
		t.Errorf("3: %s, round trip %+v; want applied and ok", ok.Status, ok.Roundtrip)
	}
}

// TestGeneratedDownRenamesOntoTakenNames: the generated downs of the three ups an exploratory tester
// found losing data while verified: a table renamed aside and created anew, a column renamed aside and
// added anew, two columns swapped. Each down renames the old object back (the new one moved out of the
// way and dropped) and is verified; before, it dropped users_old or legacy_name, the ones holding the
// rows, or did nothing for the swap.
func TestGeneratedDownRenamesOntoTakenNames(t *testing.T) {
	base := "CREATE TABLE users (id int PRIMARY KEY, first text, last text, name text);\nINSERT INTO users VALUES (1, 'Ada', 'Lovelace', 'Ada L');\n"
	tests := []struct {
		name, up string
		want     []string
		not      string
	}{
		{name: "table renamed aside", up: "ALTER TABLE users RENAME TO users_old;\nALTER TABLE users_old RENAME CONSTRAINT users_pkey TO users_old_pkey;\nCREATE TABLE users (id int PRIMARY KEY, name text);\n",
			want: []string{"ALTER TABLE users RENAME TO users_down_tmp;", "ALTER TABLE users_old RENAME TO users;", "ALTER TABLE users RENAME CONSTRAINT users_old_pkey TO users_pkey;", "DROP TABLE users_down_tmp;"},
			not:  "DROP TABLE users_old"},
		{name: "column renamed aside", up: "ALTER TABLE users RENAME COLUMN name TO legacy_name;\nALTER TABLE users ADD COLUMN name text;\n",
			want: []string{"ALTER TABLE users RENAME COLUMN name TO name_down_tmp;", "ALTER TABLE users RENAME COLUMN legacy_name TO name;", "ALTER TABLE users DROP COLUMN name_down_tmp;"},
			not:  "DROP COLUMN legacy_name"},
		{name: "columns swapped", up: "ALTER TABLE users RENAME COLUMN first TO tmp;\nALTER TABLE users RENAME COLUMN last TO first;\nALTER TABLE users RENAME COLUMN tmp TO last;\n",
			want: []string{"ALTER TABLE users RENAME COLUMN first TO first_down_tmp;", "ALTER TABLE users RENAME COLUMN last TO first;", "ALTER TABLE users RENAME COLUMN first_down_tmp TO last;"},
			not:  "IRREVERSIBLE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{"1_base.sql": base, "2_up.sql": tc.up}
			rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: folderOf(t, migrate.FormatPlain, files), Provider: provider(t), GenerateDown: true})
			if err != nil {
				t.Fatal(err)
			}
			gd := migration(t, rep, "2").GeneratedDown
			if gd == nil || !gd.Verified || gd.DataLoss || len(gd.Warnings) > 0 || strings.Contains(gd.SQL, tc.not) {
				t.Fatalf("generated down %+v, want a verified one without %q", gd, tc.not)
			}
			at := 0
			for _, w := range tc.want {
				i := strings.Index(gd.SQL[at:], w)
				if i < 0 {
					t.Fatalf("generated down:\n%s\nwant %q in this order", gd.SQL, tc.want)
				}
				at += i + len(w)
			}
		})
	}
}
