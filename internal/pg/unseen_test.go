package pg_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/schema"
)

// TestUnseenChanges: column privileges and direct catalog writes force a whole read; table-level grants,
// grants on routines (whose argument lists have parentheses) and role grants do not.
func TestUnseenChanges(t *testing.T) {
	for sql, want := range map[string]bool{
		"GRANT SELECT (a) ON t TO r":                                                                                    true,
		"grant select, update (a, b) on t to r":                                                                         true,
		"GRANT INSERT (a), SELECT ON t TO r":                                                                            true,
		"REVOKE GRANT OPTION FOR REFERENCES (a) ON t FROM r":                                                            true,
		"REVOKE ALL PRIVILEGES (a) ON t FROM r":                                                                         true,
		"DO $$ BEGIN EXECUTE 'GRANT UPDATE (x) ON t TO r'; END $$":                                                      true,
		"UPDATE pg_catalog.pg_attribute SET attnotnull = true":                                                          true,
		"GRANT /* reporting */ SELECT (a) ON t TO r":                                                                    true,
		"REVOKE SELECT -- tighten\n (a) ON t FROM r":                                                                    true,
		"UPDATE /**/ pg_attribute SET attnotnull = true":                                                                true,
		"DO $$ BEGIN EXECUTE 'GRANT ' || 'SELECT (a) ON t TO r'; END $$":                                                true,
		"DO $$ DECLARE q text := 'REVOKE SELECT'; BEGIN EXECUTE q || ' (a) ON t FROM r'; END $$":                        true,
		"DO $$ BEGIN EXECUTE format('GRANT SELECT %s ON t TO r', '(a)'); END $$":                                        true,
		"GRANT SELECT ON t TO r":                                                                                        false,
		"GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA public TO r":                                                      false,
		"GRANT EXECUTE ON FUNCTION f(int, text) TO r":                                                                   false,
		"REVOKE ALL ON FUNCTION f(int) FROM PUBLIC":                                                                     false,
		"GRANT reader TO app":                                                                                           false,
		"UPDATE accounts SET balance = 0":                                                                               false,
		"CREATE TABLE grants (id int); SELECT update_totals(1)":                                                         false,
		"REASSIGN OWNED BY app TO admin":                                                                                true,
		"SELECT set_config('schemagate.ddl', 'x|', false)":                                                              true,
		"DROP FUNCTION pg_catalog.schemagate_log_ddl() CASCADE":                                                         true,
		"CREATE TABLE reassignments (owned_by text)":                                                                    false,
		"SELECT dblink_exec('dbname=app', 'CREATE TABLE x (id int)')":                                                   true,
		"SELECT * FROM dblink ('dbname=app', 'SELECT 1') AS t(x int)":                                                   true,
		"CREATE TABLE dblinks (id int)":                                                                                 false,
		"SET event_triggers = off; ALTER TABLE t ADD COLUMN x int; RESET event_triggers":                                true,
		"ALTER ROLE app PASSWORD NULL":                                                                                  true,
		"ALTER USER app WITH ENCRYPTED PASSWORD 'x' VALID UNTIL 'infinity'":                                             true,
		"DO $$ BEGIN EXECUTE 'ALTER ROLE app PASSWORD ''x'''; END $$":                                                   true,
		"CREATE TABLE users (password text); ALTER ROLE app LOGIN":                                                      false,
		"DO $$ DECLARE s text; BEGIN SELECT stmt INTO s FROM pending; EXECUTE s; END $$":                                true,
		"DO $$ DECLARE r record; BEGIN FOR r IN SELECT stmt FROM pending LOOP EXECUTE r.stmt USING 1; END LOOP; END $$": true,
		"DO $$ BEGIN EXECUTE format('%s', (SELECT stmt FROM pending LIMIT 1)); END $$":                                  true,
		"DO $$ DECLARE q text := 'x'; BEGIN EXECUTE format(q, 1); END $$":                                               true,
		"DO $$ BEGIN EXECUTE (SELECT stmt FROM pending LIMIT 1); END $$":                                                true,
		"CREATE FUNCTION run(q text) RETURNS SETOF int LANGUAGE plpgsql AS $f$ BEGIN RETURN QUERY EXECUTE q; END $f$":   true,
		"CREATE FUNCTION run(text) RETURNS void LANGUAGE plpgsql AS $f$ BEGIN EXECUTE $1; END $f$":                      true,
		"DO $$ BEGIN EXECUTE 'CREATE TABLE x (id int)'; END $$":                                                         false,
		"DO $$ BEGIN EXECUTE E'CREATE TABLE x (id int, s text DEFAULT \\'a\\')'; END $$":                                false,
		"DO $$ BEGIN EXECUTE $q$CREATE TABLE x (id int)$q$; END $$":                                                     false,
		"DO $$ BEGIN EXECUTE format('ALTER TABLE %I ADD COLUMN x int', 't'); END $$":                                    false,
		"DO $$ BEGIN EXECUTE 'ALTER TABLE ' || quote_ident('t') || ' ADD COLUMN x int'; END $$":                         false,
		"CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()":                                         false,
		"CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE PROCEDURE f();":                                       false,
		"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO r":                                                          false,
		// Catalog writes built as they run: the literal pieces name the catalog.
		"DO $$ BEGIN EXECUTE 'update ' || 'pg_attribute set attnotnull = true where attrelid = ''t''::regclass'; END $$":                              true,
		"DO $$ BEGIN EXECUTE format('delete from %s where objoid = ''t''::regclass', 'pg_description'); END $$":                                       true,
		"DO $$ BEGIN EXECUTE format('DELETE FROM %I WHERE objoid = 1', 'pg_description'); END $$":                                                     true,
		"DO $$ DECLARE c text := 'pg_attribute'; BEGIN EXECUTE 'UPDATE ' || c || ' SET attnotnull = true'; END $$":                                    true,
		"DO $$ BEGIN EXECUTE 'UPDATE pg_' || 'attribute SET attnotnull = true'; END $$":                                                               true,
		"DO $$ BEGIN EXECUTE 'DELETE FROM pg_catalog.' || quote_ident('pg_description'); END $$":                                                      true,
		"DO $$ BEGIN EXECUTE E'UPDATE ' || E'pg_class SET relhasrules = false'; END $$":                                                               true,
		"CREATE FUNCTION fix() RETURNS void LANGUAGE plpgsql AS $f$ BEGIN EXECUTE format('UPDATE %s SET attnotnull = true', 'pg_attribute'); END $f$": true,
		// DDL built as it runs takes locks: a catalog read outside the literals, or a name that only
		// starts like one, is no piece of the statement.
		"DO $$ DECLARE r record; BEGIN FOR r IN SELECT relname FROM pg_class WHERE relname LIKE 'x%' LOOP EXECUTE format('ALTER TABLE %I ADD COLUMN y int', r.relname); END LOOP; END $$": false,
		"DO $$ BEGIN EXECUTE format('CREATE INDEX %I ON t (a)', 'pg_classes_idx'); END $$":                                                                                                false,
		"DO $$ BEGIN EXECUTE 'CREATE INDEX i ON ' || 't' || ' (a)'; PERFORM pg_sleep(0); END $$":                                                                                          false,
	} {
		if got := pg.UnseenChanges(sql); got != want {
			t.Errorf("UnseenChanges(%q) = %v, want %v", sql, got, want)
		}
	}
}

// TestCallsUnseen: a script that calls a function of the catalog before it whose body grants column
// privileges, writes a system catalog or sets a password (none of which the probe sees) must be read
// whole after, as must any script once such a function is a trigger or event trigger function, which
// may fire on anything. So must a script that reaches one through others: a wrapper (PL/pgSQL PERFORM,
// SQL, CALL of a procedure, qualified by a schema or not), a chain of them, an overload of a name, a
// cycle that comes to one, a function the script itself creates, and a trigger or event trigger
// function that calls one. A script that names no such function, or only a longer name, or functions
// that call only each other, need not be; and after the script, the read it forces sees the column
// privilege the incremental read would miss.
func TestCallsUnseen(t *testing.T) {
	ctx := t.Context()
	conn := pgtest.Conn(t)
	role := "schemagate_calls_" + strings.ToLower(rand.Text()[:8])
	t.Cleanup(func() { // before the database goes: the role's column privileges must go first
		_, _ = conn.Exec(context.Background(), "DROP OWNED BY "+role+"; DROP ROLE IF EXISTS "+role)
	})
	setup := `CREATE TABLE t (id int PRIMARY KEY, a text);
	CREATE ROLE ` + role + `;
	CREATE FUNCTION grant_col(tbl text, col text, rol text) RETURNS void LANGUAGE plpgsql AS
	  $$ BEGIN EXECUTE format('grant update (%I) on %I to %I', col, tbl, rol); END $$;
	CREATE FUNCTION "Forget"() RETURNS void LANGUAGE sql AS
	  $$ DELETE FROM pg_catalog.pg_description WHERE objoid = 't'::regclass $$;
	CREATE PROCEDURE set_password(r text) LANGUAGE plpgsql AS
	  $$ BEGIN EXECUTE format('ALTER ROLE %I PASSWORD %L', r, 'x'); END $$;
	CREATE FUNCTION grant_columns() RETURNS int LANGUAGE sql AS 'SELECT 1';
	CREATE FUNCTION wrapper() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM grant_col('t', 'a', 'r1'); END $$;
	CREATE SCHEMA app;
	CREATE FUNCTION app.inner_wrap() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM public.wrapper(); END $$;
	CREATE FUNCTION sql_wrapper() RETURNS void LANGUAGE sql AS $$ SELECT app.inner_wrap() $$;
	CREATE PROCEDURE outer_proc() LANGUAGE plpgsql AS $$ BEGIN CALL set_password('r1'); END $$;
	CREATE FUNCTION touch(int) RETURNS void LANGUAGE sql AS 'SELECT 1';
	CREATE FUNCTION touch(text) RETURNS void LANGUAGE sql AS $$ SELECT "Forget"() $$;
	CREATE FUNCTION ping(n int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN CASE WHEN n > 0 THEN pong(n - 1) ELSE 0 END; END $$;
	CREATE FUNCTION pong(n int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN ping(n); END $$;
	CREATE FUNCTION tick(n int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM tock(n); RETURN 0; END $$;
	CREATE FUNCTION tock(n int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM tick(n - 1); PERFORM wrapper(); RETURN 0; END $$;
	CREATE FUNCTION count_t() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM t';
	CREATE FUNCTION "Grant It"() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'GRANT SELECT (a) ON t TO r1'; END $$;
	CREATE FUNCTION calls_spaced() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM "Grant It"(); END $$;
	CREATE TABLE hooks (fn text);
	CREATE FUNCTION run_sql(q text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE q; END $$;
	CREATE FUNCTION call_hook(fn text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE format('SELECT %I()', fn); END $$;
	CREATE FUNCTION make_x() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'CREATE TABLE x (id int)'; END $$;`
	if _, err := conn.Exec(ctx, setup); err != nil {
		t.Fatal(err)
	}
	in := &pg.Inspector{Ignore: schema.DefaultIgnore, Mode: pg.InspectIncremental}
	mark, err := in.Inspect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, sql string
		want      bool
	}{
		{"call", "SELECT grant_col('t', 'a', 'r1')", true},
		{"qualified, other case", "select PUBLIC.Grant_Col('t', 'a', 'r1');", true},
		{"quoted name", `SELECT "Forget"()`, true},
		{"procedure", "CALL set_password('r1')", true},
		{"in a DO block", "DO $$ BEGIN PERFORM grant_col('t', 'a', 'r1'); END $$", true},
		{"longer name", "SELECT grant_columns()", false},
		{"through a wrapper", "SELECT wrapper()", true},
		{"through two, qualified", "SELECT app.inner_wrap()", true},
		{"through an SQL function", "SELECT sql_wrapper()", true},
		{"procedure calling a procedure", "CALL outer_proc()", true},
		{"wrapper in a DO block", "DO $$ BEGIN PERFORM sql_wrapper(); END $$", true},
		{"an overload calls it", "SELECT touch(1)", true},
		{"cycle reaching it", "SELECT tick(3)", true},
		{"cycle not reaching it", "SELECT ping(3)", false},
		{"function calling none", "SELECT count_t()", false},
		{"through a name that is no word", "SELECT calls_spaced()", true},
		{"runs what it is given", "SELECT run_sql('SELECT 1')", true},
		{"calls a name it is given", "SELECT call_hook(fn) FROM hooks", true},
		{"script builds a call", "DO $$ BEGIN EXECUTE 'SELECT ' || (SELECT fn FROM hooks) || '()'; END $$", true},
		{"runs a constant string", "SELECT make_x()", false},
		{"function made in the script", `CREATE FUNCTION w2() RETURNS void LANGUAGE sql AS $$ SELECT wrapper() $$; SELECT w2()`, true},
		{"unrelated", "ALTER TABLE t ADD COLUMN z int", false},
		{"no mark", "", false},
	} {
		before := mark
		if tc.name == "no mark" {
			before = nil
		}
		if got := in.CallsUnseen(tc.sql, before); got != tc.want {
			t.Errorf("%s: CallsUnseen(%q) = %v, want %v", tc.name, tc.sql, got, tc.want)
		}
	}

	// A trigger function (an event trigger function too) that calls one that grants may fire on anything.
	for _, result := range []string{"trigger", "event_trigger"} {
		if _, err := conn.Exec(ctx, `CREATE FUNCTION audit() RETURNS `+result+` LANGUAGE plpgsql AS
		  $$ BEGIN PERFORM sql_wrapper(); END $$`); err != nil {
			t.Fatal(err)
		}
		withAudit, err := in.Inspect(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		if sql := "ALTER TABLE t ADD COLUMN z int"; !in.CallsUnseen(sql, withAudit) {
			t.Errorf("CallsUnseen(%q) with a function returning %s that calls a granting one = false, want true", sql, result)
		}
		if _, err := conn.Exec(ctx, `DROP FUNCTION audit()`); err != nil {
			t.Fatal(err)
		}
	}

	// A trigger function that grants fires on an INSERT that names neither it nor its trigger.
	if _, err := conn.Exec(ctx, `CREATE FUNCTION on_insert() RETURNS trigger LANGUAGE plpgsql AS
	  $$ BEGIN EXECUTE 'GRANT SELECT (a) ON t TO `+role+`'; RETURN NEW; END $$;
	CREATE TRIGGER t_ins AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION on_insert();`); err != nil {
		t.Fatal(err)
	}
	withTrigger, err := in.Inspect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if sql := "ALTER TABLE t ADD COLUMN z int"; !in.CallsUnseen(sql, withTrigger) {
		t.Errorf("CallsUnseen(%q) with a granting trigger function = false, want true", sql)
	}

	// The call's read sees the grant.
	sql := "SELECT grant_col('t', 'a', '" + role + "')"
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
	after, err := in.Since(ctx, conn, withTrigger, nil, in.Ran(sql, withTrigger))
	if err != nil {
		t.Fatal(err)
	}
	if acl := after.Catalog().Tables["public.t"].Column("a").Privileges; !strings.Contains(acl, role+"=w") {
		t.Errorf("column t.a privileges after %s = %q, want an UPDATE grant to %s", sql, acl, role)
	}
}
