package pg_test

import (
	"testing"

	"github.com/schemagate/schemagate/internal/pg"
)

// TestChangesNewSessions: the statements that change what a new session starts with (pg_db_role_setting),
// written plainly or in code run from text, and a few that only look alike.
func TestChangesNewSessions(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want bool
	}{
		{"ALTER ROLE SET", "ALTER ROLE CURRENT_USER SET search_path = app, public;", true},
		{"ALTER USER RESET", "ALTER USER app RESET statement_timeout;", true},
		{"ALTER ROLE IN DATABASE", "ALTER ROLE app IN DATABASE shop SET work_mem = '64MB';", true},
		{"ALTER ROLE ALL", "ALTER ROLE ALL SET lock_timeout = '5s';", true},
		{"ALTER DATABASE SET", "CREATE TABLE a (id int);\nALTER DATABASE shop SET search_path = app, public;", true},
		{"ALTER DATABASE RESET ALL", "ALTER DATABASE shop RESET ALL;", true},
		{"DO block with format", "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = app, public', current_database()); END $$;", true},
		{"DO block, words concatenated", "DO $$ BEGIN EXECUTE 'ALTER ' || 'ROLE ' || quote_ident(current_user) || ' RESET search_path'; END $$;", true},
		{"function body", "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'alter user app set timezone = ''UTC'''; END $$;", true},
		{"session SET", "SET search_path = app, public;\nSELECT set_config('search_path', 'app', false);", false},
		{"ALTER ROLE without SET", "ALTER ROLE app RENAME TO app2;\nALTER ROLE app2 NOLOGIN;", false},
		{"DO block without", "DO $$ BEGIN PERFORM set_config('search_path', 'app', false); ALTER TABLE t ADD COLUMN c int; END $$;", false},
		{"string that says it", "INSERT INTO notes VALUES ('ALTER ROLE x SET y = 1');", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pg.ChangesNewSessions(script(tt.sql)); got != tt.want {
				t.Errorf("ChangesNewSessions(%q) = %v, want %v", tt.sql, got, tt.want)
			}
		})
	}
	if pg.ChangesNewSessions(nil) {
		t.Error("a nil script changes new sessions")
	}
}
