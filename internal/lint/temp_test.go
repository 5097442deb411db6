package lint

import (
	"fmt"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestTempTableShadows: a temporary table shadows a permanent one of the same name (pg_temp comes first
// in the search path), so the statements of the migration that created it that name it unqualified act
// on it: session-private, they lock nothing another session uses. After DROP TABLE of it, or in a later
// migration (another session), the name is the permanent table's again. The server shows it first: the
// statements take no lock on public.users and leave it as it was.
func TestTempTableShadows(t *testing.T) {
	const schema = "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n"
	const temp = "CREATE TEMP TABLE users (id bigint, email text);\n" +
		"ALTER TABLE users ADD COLUMN token double precision NOT NULL DEFAULT random();\n" +
		"UPDATE users SET email = lower(email);\n" +
		"CREATE INDEX users_email_tmp_idx ON users (email);\n" +
		"ALTER TABLE users ALTER COLUMN id TYPE int;\n" +
		"DROP INDEX users_email_tmp_idx;\n" +
		"DELETE FROM users;\n"
	const permanent = "ALTER TABLE users ADD COLUMN token2 double precision NOT NULL DEFAULT random();\n"

	conn := pgtest.Conn(t)
	ctx := t.Context()
	if _, err := conn.Exec(ctx, schema); err != nil {
		t.Fatal(err)
	}
	inRolledBackTx(t, conn, "SELECT 1")
	if _, err := conn.Exec(ctx, temp); err != nil {
		t.Fatal(err)
	}
	var locks, cols int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 'public.users'::regclass").Scan(&locks); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.users'::regclass AND attnum > 0").Scan(&cols); err != nil {
		t.Fatal(err)
	}
	if locks != 0 || cols != 2 {
		t.Fatalf("the server: %d locks on public.users, %d columns: the temporary table did not take the statements", locks, cols)
	}

	const timeouts = "SET lock_timeout = '2s'; SET statement_timeout = '5min';\n"
	cfg := Config{Schema: schema}
	tempLines := strings.Count(temp, "\n")
	check := func(name string, got []Finding, shadowed int) {
		t.Helper()
		for _, f := range got {
			if f.Line > 1 && f.Line <= 1+shadowed && f.Risk > Safe {
				t.Errorf("%s: line %d acts on the temporary table: %s", name, f.Line, f)
			}
		}
		if f := find(got, "add-column-volatile-default"); f == nil || f.Risk != Dangerous || f.Line <= 1+shadowed {
			t.Errorf("%s: want a dangerous add-column-volatile-default on public.users after line %d, got %+v", name, 1+shadowed, f)
		}
	}
	check("dropped", AnalyzeScript(script(timeouts+temp+"DROP TABLE users;\n"+permanent), true, cfg), tempLines+1)

	q := NewSequence(cfg)
	q.AnalyzeScript(script(timeouts+temp), true)
	check("later migration", q.AnalyzeScript(script(timeouts+permanent), true), 0)

	// Named with its schema, the permanent table is not the temporary one.
	got := AnalyzeScript(script(timeouts+"CREATE TEMP TABLE users (id bigint);\n"+strings.ReplaceAll(permanent, "TABLE users", "TABLE public.users")), true, cfg)
	if f := find(got, "add-column-volatile-default"); f == nil || f.Line != 3 {
		t.Errorf("public.users: want add-column-volatile-default at line 3, got %s", fmt.Sprint(got))
	}
}
