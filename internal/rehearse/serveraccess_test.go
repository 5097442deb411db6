package rehearse

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/migrate"
)

// TestServerAccessFindsWhatReachesTheServersMachine: the statements that reach the files or programs
// of the server's machine, in their parse trees or in code run from text; the rest are not.
func TestServerAccessFindsWhatReachesTheServersMachine(t *testing.T) {
	for _, tc := range []struct{ sql, want string }{
		{"COPY items FROM PROGRAM 'cat /etc/passwd';", "COPY … PROGRAM runs a program"},
		{"COPY items TO '/tmp/items.csv';", "COPY to or from a server file"},
		{"COPY (SELECT 1) TO STDOUT;", ""},
		{"SELECT pg_read_file('/etc/passwd');", "pg_read_file() reads, writes or lists"},
		{`SELECT pg_catalog."pg_read_binary_file" ('/etc/passwd');`, `pg_read_binary_file" () reads`},
		{"SELECT lo_import('/etc/passwd');", "lo_import()"},
		{"SELECT pg_ls_dir('.');", "pg_ls_dir()"},
		{"CREATE EXTENSION IF NOT EXISTS adminpack;", "CREATE EXTENSION adminpack"},
		{"CREATE EXTENSION file_fdw;", "CREATE EXTENSION file_fdw"},
		{"CREATE EXTENSION plperlu;", "CREATE EXTENSION plperlu"},
		{"CREATE EXTENSION pgcrypto;", ""},
		{"CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;", "FOREIGN DATA WRAPPER file_fdw"},
		{"CREATE FOREIGN TABLE ft (a text) SERVER files OPTIONS (program 'curl -s example.com');", "foreign table's program option"},
		{"ALTER FOREIGN TABLE ft OPTIONS (SET filename '/etc/passwd');", "foreign table's filename option"},
		{"ALTER FOREIGN TABLE ft OPTIONS (DROP program);", ""},
		{"CREATE FUNCTION f() RETURNS int LANGUAGE plperlu AS $$ 1 $$;", "LANGUAGE plperlu"},
		{"CREATE FUNCTION run(cstring) RETURNS int AS 'libc.so.6', 'system' LANGUAGE C STRICT;", "LANGUAGE c"},
		{"CREATE FUNCTION r(text) RETURNS text AS 'pg_read_file_all' LANGUAGE internal;", "LANGUAGE internal"},
		{"DO $$ BEGIN EXECUTE 'COPY items FROM ''/etc/passwd'''; END $$;", "code run from text"},
		{"DO $$ BEGIN EXECUTE 'COPY items FROM PROGRAM ''id'''; END $$;", "which runs a program"},
		{"DO $$ BEGIN EXECUTE 'CREATE FUNCTION f() RETURNS int LANGUAGE plpython3u AS ''return 1'''; END $$;", `"plpython3u"`},
		{"LOAD 'auto_explain';", "LOAD loads a library"},
		{"ALTER SYSTEM SET archive_command = 'curl example.com';", "ALTER SYSTEM writes"},
		{"CREATE TABLE copy (program text, language text);", ""},
		{"INSERT INTO copy (program) VALUES ('curl');", ""},
		{"CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $$ BEGIN INSERT INTO copy_log SELECT 1 FROM items; RETURN 1; END $$;", ""},
		{"CREATE FUNCTION h() RETURNS int LANGUAGE sql AS $$ SELECT count(*) FROM copy WHERE program = 'x' $$;", ""},
	} {
		set, err := migrate.Read(fstest.MapFS{"001_x.sql": &fstest.MapFile{Data: []byte(tc.sql)}}, migrate.FormatPlain)
		if err != nil {
			t.Fatal(err)
		}
		st := set.Migrations[0].Up.Statements
		if len(st) != 1 {
			t.Fatalf("%q: %d statements", tc.sql, len(st))
		}
		got := serverAccess(st[0].Node, st[0].SQL)
		if (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%q: serverAccess says %q, want %q", tc.sql, got, tc.want)
		}
	}
}
