package sqlparse

import "testing"

// TestOneLine: white space between tokens collapses to one space and line breaks go, but a string
// literal or a quoted identifier keeps its own (a line break in it shown as \n); function and DO bodies
// are code, put on one line with their literals kept.
func TestOneLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, sql, want string
	}{
		{name: "spaces and line breaks", sql: "  UPDATE  orders\n   SET status = 1\r\n\tWHERE id = 2  ", want: "UPDATE orders SET status = 1 WHERE id = 2"},
		{name: "string literal", sql: "UPDATE t SET note = 'a  b'", want: "UPDATE t SET note = 'a  b'"},
		{name: "doubled quote", sql: "SELECT 'it''s   here',   1", want: "SELECT 'it''s   here', 1"},
		{name: "line break in a literal", sql: "INSERT INTO t VALUES ('line one\n  line two')", want: `INSERT INTO t VALUES ('line one\n  line two')`},
		{name: "escape string", sql: "SELECT E'a\\'  b',   2", want: `SELECT E'a\'  b', 2`},
		{name: "quoted identifier", sql: "ALTER TABLE \"my  table\"\n  ADD COLUMN \"a\tb\" int", want: "ALTER TABLE \"my  table\" ADD COLUMN \"a\tb\" int"},
		{name: "dollar-quoted value", sql: "COMMENT ON TABLE t IS $$two  spaces$$", want: "COMMENT ON TABLE t IS $$two  spaces$$"},
		{name: "tagged dollar value", sql: "SELECT $x$a  $$ b$x$", want: "SELECT $x$a  $$ b$x$"},
		{name: "function body", sql: "CREATE FUNCTION f() RETURNS text AS $$\nBEGIN\n    RETURN 'a  b';\nEND\n$$ LANGUAGE plpgsql",
			want: "CREATE FUNCTION f() RETURNS text AS $$ BEGIN RETURN 'a  b'; END $$ LANGUAGE plpgsql"},
		{name: "DO block", sql: "DO $do$\nBEGIN\n  PERFORM 1;\nEND$do$", want: "DO $do$ BEGIN PERFORM 1; END$do$"},
		{name: "DO with a language", sql: "DO LANGUAGE plpgsql $$\n  BEGIN  NULL;  END  $$", want: "DO LANGUAGE plpgsql $$ BEGIN NULL; END $$"},
		{name: "comments", sql: "SELECT 1 /* a\n   comment */  -- trailing   words", want: "SELECT 1 /* a comment */ /* trailing words */"},
		// On one line, a line comment would swallow what follows it: it is written as a /* */ one.
		{name: "line comment inside", sql: "ALTER TABLE t\n  ADD a int, -- why\n  ADD b int", want: "ALTER TABLE t ADD a int, /* why */ ADD b int"},
		{name: "line comment holding a comment mark", sql: "SELECT 1 -- a */ b\n, 2", want: "SELECT 1 -- a */ b , 2"},
		{name: "parameter, not a dollar quote", sql: "SELECT $1,   a$b$  FROM t", want: "SELECT $1, a$b$ FROM t"},
		{name: "unterminated literal", sql: "SELECT 'a  b", want: "SELECT 'a  b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := OneLine(tt.sql); got != tt.want {
				t.Errorf("OneLine(%q)\n got %q\nwant %q", tt.sql, got, tt.want)
			}
		})
	}
}

func TestRunnableLine(t *testing.T) {
	for _, tc := range []struct {
		sql, want string
		ok        bool
	}{
		{sql: "UPDATE settings SET v = 'on'", want: "UPDATE settings SET v = 'on'", ok: true},
		// a line comment would comment out the rest of the line: left out, with every comment
		{sql: "-- maintenance off\nUPDATE settings\n   SET v = 'a  b' /* two spaces */\n WHERE k = 1;", want: "UPDATE settings SET v = 'a  b' WHERE k = 1;", ok: true},
		{sql: "SELECT \"odd  name\"\tFROM t;\nSELECT 2;", want: "SELECT \"odd  name\" FROM t; SELECT 2;", ok: true},
		{sql: "SELECT E'a\\nb', $x$ keep  this $x$", want: "SELECT E'a\\nb', $x$ keep  this $x$", ok: true},
		{sql: "DO $$ BEGIN -- a comment in code\n PERFORM 1; END $$", ok: false},
		{sql: "UPDATE s SET v = 'line\nbreak'", ok: false},
		{sql: "SELECT/**/1", want: "SELECT 1", ok: true},
	} {
		got, ok := RunnableLine(tc.sql)
		if ok != tc.ok || got != tc.want {
			t.Errorf("RunnableLine(%q) = %q, %v; want %q, %v", tc.sql, got, ok, tc.want, tc.ok)
		}
	}
}
