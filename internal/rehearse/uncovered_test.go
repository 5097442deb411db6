package rehearse

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestUncoveredStatements: what the catalog comparison does not see is named from the parse tree, each
// statement at its line; what it sees (tables, grants on them, default privileges in a schema and
// database-wide, CREATE LANGUAGE as the extension it is, roles and their memberships, casts,
// foreign-data wrappers, servers, user mappings, foreign tables, operators, operator classes and
// families, text search parsers and templates, access methods, procedural languages, conversions,
// transforms, data) and what cannot be judged (DO blocks) is not.
func TestUncoveredStatements(t *testing.T) {
	cases := map[string]string{
		"ALTER ROLE ALL SET work_mem = '64MB'":             "ALTER ROLE ALL SET work_mem|the settings of every role",
		"SECURITY LABEL ON ROLE app IS 'x'":                "SECURITY LABEL ON ROLE app|the security label of a role",
		"ALTER DATABASE app SET search_path = app, public": "ALTER DATABASE app SET search_path|a database's settings",
		"ALTER DATABASE app CONNECTION LIMIT 5":            "ALTER DATABASE app|a database",
		"ALTER DATABASE app OWNER TO app":                  "ALTER DATABASE app OWNER TO app|a database",
		"ALTER SYSTEM SET max_connections = 500":           "ALTER SYSTEM SET max_connections|the server's configuration",
		"GRANT CONNECT ON DATABASE app TO app":             "GRANT ON DATABASE app TO app|the privileges of a database",
		"DROP SUBSCRIPTION s":                              "DROP SUBSCRIPTION s|a subscription",
		"CREATE TABLESPACE ts LOCATION '/x'":               "CREATE TABLESPACE ts|a tablespace",
		"CREATE DATABASE other":                            "CREATE DATABASE other|a database",
		// Seen by the comparison, or not judged.
		"CREATE TABLE t (id int)":                                                        "",
		"GRANT SELECT ON t TO app":                                                       "",
		"ALTER FUNCTION f() OWNER TO app":                                                "",
		"ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT SELECT ON TABLES TO app":             "",
		"ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO app":                         "",
		"ALTER DEFAULT PRIVILEGES FOR ROLE o REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC":    "",
		"CREATE LANGUAGE plperl":                                                         "",
		"INSERT INTO t VALUES (1)":                                                       "",
		"CREATE USER app_login":                                                          "",
		"CREATE GROUP readers":                                                           "",
		"ALTER USER app_login WITH PASSWORD 'x'":                                         "",
		"ALTER ROLE app IN DATABASE db RESET ALL":                                        "",
		"ALTER ROLE app SET search_path = a":                                             "",
		"DROP ROLE a, b":                                                                 "",
		"GRANT admin TO app WITH ADMIN OPTION":                                           "",
		"REVOKE admin FROM app":                                                          "",
		"ALTER ROLE app RENAME TO app2":                                                  "",
		"COMMENT ON ROLE app IS 'x'":                                                     "",
		"DO $$ BEGIN CREATE ROLE r; END $$":                                              "",
		"COMMENT ON TABLE t IS 'x'":                                                      "",
		"SET statement_timeout = '1s'":                                                   "",
		"DROP TABLE t":                                                                   "",
		"CREATE TEXT SEARCH CONFIGURATION s.cfg (COPY = english)":                        "",
		"ALTER TEXT SEARCH CONFIGURATION cfg DROP MAPPING FOR word":                      "",
		"ALTER TEXT SEARCH DICTIONARY d (StopWords = english)":                           "",
		"COMMENT ON TEXT SEARCH DICTIONARY d IS 'x'":                                     "",
		"CREATE EVENT TRIGGER e ON ddl_command_end EXECUTE FUNCTION f()":                 "",
		"ALTER EVENT TRIGGER e DISABLE":                                                  "",
		"DROP EVENT TRIGGER IF EXISTS e":                                                 "",
		"COMMENT ON EVENT TRIGGER e IS 'x'":                                              "",
		"ALTER EVENT TRIGGER e OWNER TO app":                                             "",
		"CREATE PUBLICATION p FOR TABLE t":                                               "",
		"ALTER PUBLICATION p ADD TABLE u":                                                "",
		"DROP PUBLICATION p":                                                             "",
		"COMMENT ON PUBLICATION p IS 'x'":                                                "",
		"ALTER PUBLICATION p OWNER TO app":                                               "",
		"CREATE CAST (text AS int) WITH INOUT":                                           "",
		"DROP CAST (text AS int)":                                                        "",
		"COMMENT ON CAST (text AS int) IS 'x'":                                           "",
		"CREATE FOREIGN DATA WRAPPER w":                                                  "",
		"ALTER FOREIGN DATA WRAPPER w OPTIONS (ADD a 'b')":                               "",
		"CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw":                         "",
		"ALTER SERVER remote OPTIONS (SET host 'b')":                                     "",
		"GRANT USAGE ON FOREIGN SERVER remote TO app":                                    "",
		"ALTER SERVER remote OWNER TO app":                                               "",
		"DROP SERVER remote":                                                             "",
		"CREATE USER MAPPING FOR CURRENT_USER SERVER remote":                             "",
		"ALTER USER MAPPING FOR app SERVER remote OPTIONS (user 'x')":                    "",
		"DROP USER MAPPING FOR PUBLIC SERVER remote":                                     "",
		"CREATE FOREIGN TABLE s.ft (a int) SERVER remote":                                "",
		"ALTER FOREIGN TABLE ft ADD COLUMN b int":                                        "",
		"IMPORT FOREIGN SCHEMA r FROM SERVER remote INTO public":                         "",
		"DROP FOREIGN TABLE ft":                                                          "",
		"CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = f)":              "",
		"ALTER OPERATOR === (int, int) SET (RESTRICT = eqsel)":                           "",
		"COMMENT ON OPERATOR === (int, int) IS 'x'":                                      "",
		"DROP OPERATOR === (int, int)":                                                   "",
		"CREATE OPERATOR CLASS s.c FOR TYPE int USING btree AS OPERATOR 1 <":             "",
		"CREATE OPERATOR FAMILY f USING btree":                                           "",
		"ALTER OPERATOR FAMILY f USING btree ADD OPERATOR 1 < (int, bigint)":             "",
		"ALTER OPERATOR CLASS c USING btree RENAME TO c2":                                "",
		"DROP OPERATOR CLASS c USING btree":                                              "",
		"CREATE TEXT SEARCH PARSER s.p (START = a, GETTOKEN = b, END = c, LEXTYPES = d)": "",
		"CREATE TEXT SEARCH TEMPLATE t (LEXIZE = dsimple_lexize)":                        "",
		"COMMENT ON TEXT SEARCH PARSER p IS 'x'":                                         "",
		"DROP TEXT SEARCH TEMPLATE t":                                                    "",
		"CREATE LANGUAGE pl HANDLER pl_handler":                                          "",
		"ALTER LANGUAGE pl OWNER TO app":                                                 "",
		"GRANT USAGE ON LANGUAGE pl TO app":                                              "",
		"CREATE CONVERSION c FOR 'LATIN1' TO 'UTF8' FROM f":                              "",
		"COMMENT ON CONVERSION c IS 'x'":                                                 "",
		"CREATE ACCESS METHOD am TYPE TABLE HANDLER h":                                   "",
		"DROP ACCESS METHOD am":                                                          "",
		"CREATE TRANSFORM FOR int LANGUAGE sql (FROM SQL WITH FUNCTION f(internal))":     "",
		"DROP TRANSFORM FOR int LANGUAGE sql":                                            "",
		"ALTER TABLE t SET ACCESS METHOD heap2":                                          "",
	}
	for sql, want := range cases {
		st := sqlparse.Parse(sql)
		if len(st) != 1 || st[0].Node == nil {
			t.Fatalf("%s: does not parse", sql)
		}
		label, kind := sqlparse.OutsideCatalog(st[0].Node)
		if got := label + "|" + kind; got != want && !(want == "" && kind == "") {
			t.Errorf("%s: %q, want %q", sql, got, want)
		}
	}
	s := &migrate.Script{File: "2_roles.sql", SQL: "CREATE TABLE t (id int);\nALTER ROLE ALL SET work_mem = '1MB';\n"}
	s.Statements = sqlparse.Parse(s.SQL)
	if got := strings.Join(uncovered(s, "db", "app"), "\n"); got != "ALTER ROLE ALL SET work_mem at db/2_roles.sql:2 changes the settings of every role, which the generated down does not undo" {
		t.Errorf("uncovered: %q", got)
	}
	// The rehearsal's own database (app here) by name: its settings, privileges, comment, owner,
	// connection limit, IS_TEMPLATE and ALLOW_CONNECTIONS are compared and given back, as the
	// privileges on parameters are; not its tablespace, nor another database's.
	s = &migrate.Script{File: "3_db.sql", SQL: "ALTER DATABASE app SET timezone = 'UTC';\nALTER ROLE ALL IN DATABASE app RESET work_mem;\n" +
		"ALTER DATABASE other SET timezone = 'UTC';\nALTER DATABASE app CONNECTION LIMIT 5;\nALTER DATABASE app IS_TEMPLATE true ALLOW_CONNECTIONS true;\n" +
		"GRANT CREATE, TEMPORARY ON DATABASE app TO r WITH GRANT OPTION;\nREVOKE CONNECT ON DATABASE other FROM PUBLIC;\n" +
		"GRANT CONNECT ON DATABASE app, other TO r;\nCOMMENT ON DATABASE app IS 'x';\nALTER DATABASE app OWNER TO r;\n" +
		"GRANT SET ON PARAMETER work_mem TO r;\nREVOKE ALTER SYSTEM ON PARAMETER lock_timeout FROM r;\n" +
		"ALTER DATABASE other IS_TEMPLATE true;\nALTER DATABASE app SET TABLESPACE t2;\n"}
	s.Statements = sqlparse.Parse(s.SQL)
	want := "ALTER DATABASE other SET timezone at db/3_db.sql:3 changes a database's settings, which the generated down does not undo\n" +
		"REVOKE ON DATABASE other FROM PUBLIC at db/3_db.sql:7 changes the privileges of a database, which the generated down does not undo\n" +
		"GRANT ON DATABASE app, other TO r at db/3_db.sql:8 changes the privileges of a database, which the generated down does not undo\n" +
		"ALTER DATABASE other at db/3_db.sql:13 changes a database, which the generated down does not undo\n" +
		"ALTER DATABASE app at db/3_db.sql:14 changes a database, which the generated down does not undo"
	if got := strings.Join(uncovered(s, "db", "app"), "\n"); got != want {
		t.Errorf("uncovered: %q, want %q", got, want)
	}
}
