package lint

import (
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// serverRuleIDs are the rules of check_server.go.
var serverRuleIDs = []string{"role-privilege-change", "alter-database", "server-program", "server-file-access", "alter-system",
	"untrusted-code", "foreign-connection", "other-sessions", "switch-role"}

// riskCase is a statement and the class one rule must give it.
type riskCase struct {
	name, sql, rule string
	want            Risk
}

// assertRisks checks each case's statement gets its rule at its class.
func assertRisks(t *testing.T, tests []riskCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, found := riskOf(t, tt.sql, tt.rule)
			if !found || got != tt.want {
				t.Errorf("%s: %s %v (found %v), want %v", tt.sql, tt.rule, got, found, tt.want)
			}
		})
	}
}

// riskOf returns the highest risk of rule id's findings on sql, and whether it had any.
func riskOf(t *testing.T, sql, id string) (Risk, bool) {
	t.Helper()
	s := &migrate.Script{File: "m.sql", SQL: sql, Statements: sqlparse.Parse(sql)}
	r, found := Safe, false
	for _, f := range AnalyzeScript(s, true, Config{Schema: testSchema(t)}) {
		if f.Rule == id {
			r, found = Max(r, f.Risk), true
		}
	}
	return r, found
}

// assertQuiet fails the test for each finding of sql from one of the rules ids.
func assertQuiet(t *testing.T, sql string, ids []string) {
	t.Helper()
	s := &migrate.Script{File: "m.sql", SQL: sql, Statements: sqlparse.Parse(sql)}
	for _, f := range AnalyzeScript(s, true, Config{Schema: testSchema(t)}) {
		if slices.Contains(ids, f.Rule) {
			t.Errorf("%s", f)
		}
	}
}

// TestServerRuleExamples: each rule of check_server.go and check_reach.go raises its documented Bad
// example (at its default class or above) and not its Good example.
func TestServerRuleExamples(t *testing.T) {
	t.Parallel()
	for _, id := range append(slices.Clone(serverRuleIDs), reachRuleIDs...) {
		r, ok := Lookup(id)
		if !ok {
			t.Fatalf("no rule %s", id)
		}
		if got, found := riskOf(t, r.Bad, id); !found || got < r.Risk {
			t.Errorf("%s: Bad example %q gives %v (found %v), want at least %v", id, r.Bad, got, found, r.Risk)
		}
		if _, found := riskOf(t, r.Good, id); found {
			t.Errorf("%s: Good example %q triggers it", id, r.Good)
		}
	}
}

// TestServerRuleClasses: a statement that takes over the server or its host is dangerous; ordinary role
// and connection changes are caution; legitimate migration SQL raises none of these rules.
func TestServerRuleClasses(t *testing.T) {
	t.Parallel()
	tests := []riskCase{
		{"password of an existing role", "ALTER ROLE postgres PASSWORD 'pwned';", "role-privilege-change", Dangerous},
		{"superuser login", "CREATE ROLE backdoor SUPERUSER LOGIN PASSWORD 'pw';", "role-privilege-change", Dangerous},
		{"createrole", "ALTER USER app CREATEROLE;", "role-privilege-change", Dangerous},
		{"bypassrls", "ALTER ROLE app BYPASSRLS;", "role-privilege-change", Dangerous},
		{"replication", "ALTER ROLE app WITH REPLICATION;", "role-privilege-change", Dangerous},
		{"server program role", "GRANT pg_execute_server_program TO app;", "role-privilege-change", Dangerous},
		{"signal backend role", "GRANT pg_signal_backend TO app;", "role-privilege-change", Dangerous},
		{"administrator role", "GRANT rds_superuser TO app;", "role-privilege-change", Dangerous},
		{"joins a server role", "CREATE ROLE r IN ROLE pg_write_server_files;", "role-privilege-change", Dangerous},
		{"drop role", "DROP ROLE app;", "role-privilege-change", Dangerous},
		{"reassign owned", "REASSIGN OWNED BY app TO intruder;", "role-privilege-change", Dangerous},
		{"role setting that loads code", "ALTER ROLE app SET session_preload_libraries = 'evil';", "role-privilege-change", Dangerous},
		{"plain role", "CREATE ROLE reporting;", "role-privilege-change", Caution},
		{"plain membership", "GRANT app_rw TO bob;", "role-privilege-change", Caution},
		{"role setting", "ALTER ROLE other SET statement_timeout = '5s';", "role-privilege-change", Caution},
		{"default privileges of another role", "ALTER DEFAULT PRIVILEGES FOR ROLE other GRANT SELECT ON TABLES TO me;", "role-privilege-change", Caution},
		{"password of a role the migration created", "CREATE ROLE r;\nALTER ROLE r PASSWORD 'x';", "role-privilege-change", Caution},
		{"hidden password change", "DO $$ BEGIN EXECUTE 'ALTER ROLE postgres PASSWORD ''x'''; END $$;", "role-privilege-change", Dangerous},
		{"database owner", "ALTER DATABASE app OWNER TO intruder;", "alter-database", Dangerous},
		{"database rename", "ALTER DATABASE app RENAME TO old;", "alter-database", Dangerous},
		{"database setting", "ALTER DATABASE app SET timezone = 'UTC';", "alter-database", Caution},
		{"copy to program", "COPY (SELECT 1) TO PROGRAM 'cat >/dev/null';", "server-program", Dangerous},
		{"copy from program", "COPY users FROM PROGRAM 'id';", "server-program", Dangerous},
		{"copy from a server file", "COPY users FROM '/etc/passwd';", "server-file-access", Dangerous},
		{"copy to a server file", "COPY users TO '/tmp/file';", "server-file-access", Dangerous},
		{"read file in a select", "SELECT pg_read_file('/etc/passwd');", "server-file-access", Dangerous},
		{"large object import", "SELECT lo_import('/etc/passwd');", "server-file-access", Dangerous},
		{"adminpack", "CREATE EXTENSION adminpack;", "server-file-access", Dangerous},
		{"alter system", "ALTER SYSTEM SET work_mem = '1GB';", "alter-system", Dangerous},
		{"reload", "SELECT pg_reload_conf();", "alter-system", Dangerous},
		{"untrusted language", "CREATE EXTENSION plpython3u;", "untrusted-code", Dangerous},
		{"create language", "CREATE LANGUAGE plperlu;", "untrusted-code", Dangerous},
		{"c function", "CREATE FUNCTION f() RETURNS int LANGUAGE c AS 'x.so', 'f';", "untrusted-code", Dangerous},
		{"plpython function", "CREATE FUNCTION f() RETURNS int LANGUAGE plpython3u AS 'return 1';", "untrusted-code", Dangerous},
		{"dblink extension", "CREATE EXTENSION dblink;", "foreign-connection", Caution},
		{"postgres_fdw extension", "CREATE EXTENSION postgres_fdw;", "foreign-connection", Caution},
		{"dblink call", "SELECT dblink_exec('host=x', 'DROP TABLE users');", "foreign-connection", Dangerous},
		{"user mapping with a password", "CREATE USER MAPPING FOR app SERVER s OPTIONS (password 'p');", "foreign-connection", Dangerous},
		{"terminate others", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity;", "other-sessions", Dangerous},
		{"replication origin moved", "SELECT pg_replication_origin_advance('sub', '0/0');", "alter-system", Dangerous},
		{"shared statistics reset", "SELECT pg_stat_reset_shared('bgwriter');", "alter-system", Caution},
		{"quoted call in a body", `DO $$ BEGIN PERFORM "pg_read_file"('/etc/passwd'); END $$;`, "server-file-access", Dangerous},
		{"cancel others in a DO block", "DO $$ BEGIN PERFORM pg_cancel_backend(1); END $$;", "other-sessions", Dangerous},
		{"session authorization", "SET SESSION AUTHORIZATION postgres;", "switch-role", Dangerous},
		{"session authorization by set_config", "SELECT set_config('session_authorization', 'postgres', false);", "switch-role", Dangerous},
		{"set role to an owner", "SET ROLE app_owner;", "switch-role", Caution},
		{"set role to a superuser", "SET ROLE postgres;", "switch-role", Dangerous},
	}
	assertRisks(t, tests)
}

// TestServerRulesQuietOnOrdinarySQL: what migrations normally do raises none of the server rules.
func TestServerRulesQuietOnOrdinarySQL(t *testing.T) {
	t.Parallel()
	sql := strings.Join([]string{
		"COPY users (id, email) FROM STDIN;\n1\ta@example.com\n\\.",
		"COPY users TO STDOUT;",
		"CREATE EXTENSION IF NOT EXISTS pgcrypto;",
		"CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\";",
		"CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;",
		"CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';",
		"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'mood') THEN CREATE TYPE mood AS ENUM ('a'); END IF; END $$;",
		"SELECT lower(email), gen_random_uuid(), now() FROM users;",
		"SELECT set_config('lock_timeout', '2s', false);",
		"GRANT SELECT, INSERT ON users TO app_rw;",
		"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO app_ro;",
		"RESET ROLE;",
		"SET search_path = app, public;",
		"ALTER TABLE users OWNER TO app_owner;",
	}, "\n")
	assertQuiet(t, sql, serverRuleIDs)
}
