package sqlparse

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// brief renders statements as "line:col SQL" plus "!line:col message" for errors.
func brief(sts []Statement) []string {
	out := make([]string, len(sts))
	for i, st := range sts {
		out[i] = fmt.Sprintf("%d:%d %s", st.Pos.Line, st.Pos.Column, st.SQL)
		if st.Err != nil {
			out[i] += fmt.Sprintf(" !%d:%d %s", st.Err.Pos.Line, st.Err.Pos.Column, st.Err.Message)
		}
	}
	return out
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"empty", "", nil},
		{"blank and comments", "  \n-- nothing\n/* at all */\n", nil},
		{"two statements", "CREATE TABLE t (id int);\n  INSERT INTO t VALUES (1);\n", []string{"1:1 CREATE TABLE t (id int)", "2:3 INSERT INTO t VALUES (1)"}},
		{"leading comments are skipped", "-- head\n/* block */ SELECT 1;", []string{"2:13 SELECT 1"}},
		{"no final semicolon", "SELECT 1;\nSELECT 2", []string{"1:1 SELECT 1", "2:1 SELECT 2"}},
		{"columns count characters", "SELECT 'ééé'; SELECT 2;", []string{"1:1 SELECT 'ééé'", "1:15 SELECT 2"}},
		{"dollar quotes", "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\nSELECT 2;",
			[]string{"1:1 CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql", "2:1 SELECT 2"}},
		{"syntax error keeps the other statements", "SELECT 1;\nSELEC 2;\nSELECT 3;",
			[]string{"1:1 SELECT 1", `2:1 SELEC 2 !2:1 syntax error at or near "SELEC"`, "3:1 SELECT 3"}},
		{"error position counts characters", "SELECT 'ééé' FRM x;\nSELECT 2;",
			[]string{`1:1 SELECT 'ééé' FRM x !1:18 syntax error at or near "x"`, "2:1 SELECT 2"}},
		{"error at end of input", "SELECT 1;\nSELECT (", []string{"1:1 SELECT 1", "2:1 SELECT ( !2:9 syntax error at end of input"}},
		{"quotes and comments hide semicolons when splitting", "SELEC ';'; SELECT \"a;b\" /* ; */ FROM t; -- ;\nSELECT $x$;$x$;",
			[]string{`1:1 SELEC ';' !1:1 syntax error at or near "SELEC"`, `1:12 SELECT "a;b" /* ; */ FROM t`, "2:1 SELECT $x$;$x$"}},
		{"an escape string hides its semicolons when splitting", "SELEC E'it\\'s; fine';\nSELECT e'\\\\';",
			[]string{`1:1 SELEC E'it\'s; fine' !1:1 syntax error at or near "SELEC"`, `2:1 SELECT e'\\'`}},
		{"an unclosed parenthesis does not swallow later statements", "CREATE TABLE t (id int;\nSELECT 2;",
			[]string{`1:1 CREATE TABLE t (id int !1:23 syntax error at or near ";"`, "2:1 SELECT 2"}},
		{"semicolons inside parentheses stay together", "CREATE RULE r AS ON INSERT TO t DO ALSO (NOTIFY a; NOTIFY b);\nSELEC 1;",
			[]string{"1:1 CREATE RULE r AS ON INSERT TO t DO ALSO (NOTIFY a; NOTIFY b)", `2:1 SELEC 1 !2:1 syntax error at or near "SELEC"`}},
		{"NUL byte", "SELECT 1;\nSELECT 2;\x00DROP TABLE t;", []string{"1:1 SELECT 1", "2:1 SELECT 2", "2:10 \\0DROP TABLE t; !2:10 NUL byte in SQL text (PostgreSQL rejects it)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sts := Parse(tc.src)
			if got := brief(sts); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Parse:\n got %q\nwant %q", got, tc.want)
			}
			checkInvariants(t, tc.src, 0, len(tc.src), sts)
			for _, st := range sts {
				if (st.Node == nil) == (st.Err == nil) {
					t.Errorf("%q: Node %v and Err %v: want exactly one", st.SQL, st.Node, st.Err)
				}
			}
		})
	}
}

func TestParseRange(t *testing.T) {
	t.Parallel()
	src := "-- +goose Up\nCREATE TABLE t (id int);\n-- +goose Down\n  DROP TABLE t;\n"
	down := strings.Index(src, "  DROP")
	lines := NewLines(src)
	up := ParseRange(src, len("-- +goose Up\n"), down, lines)
	dn := ParseRange(src, down, len(src), lines)
	if got := brief(up); fmt.Sprint(got) != "[2:1 CREATE TABLE t (id int)]" {
		t.Errorf("up = %q", got)
	}
	if got := brief(dn); fmt.Sprint(got) != "[4:3 DROP TABLE t]" {
		t.Errorf("down = %q", got)
	}
	if dn[0].Pos.Offset != down+2 || dn[0].End > len(src) {
		t.Errorf("down offsets %d..%d", dn[0].Pos.Offset, dn[0].End)
	}
	// Out-of-range bounds are clamped, not a panic.
	for _, r := range [][2]int{{-5, 3}, {10, 5}, {0, 1 << 20}, {len(src) + 1, len(src) + 9}} {
		sts := ParseRange(src, r[0], r[1], nil)
		checkInvariants(t, src, 0, len(src), sts)
	}
}

func TestLinesPos(t *testing.T) {
	t.Parallel()
	l := NewLines("ab\nçd\n\nx")
	for _, tc := range []struct {
		off  int
		want string
	}{{-1, "1:1"}, {0, "1:1"}, {2, "1:3"}, {3, "2:1"}, {5, "2:2"}, {7, "3:1"}, {8, "4:1"}, {9, "4:2"}, {99, "4:2"}} {
		if got := l.Pos(tc.off).String(); got != tc.want {
			t.Errorf("Pos(%d) = %s, want %s", tc.off, got, tc.want)
		}
	}
}

// checkInvariants verifies what every statement promises: it lies in [start, end] after the previous
// one, its SQL is the text at its position, and its line and column agree with the text.
func checkInvariants(t testing.TB, src string, start, end int, sts []Statement) {
	t.Helper()
	checkInvariantsOf(t, src, src, start, end, sts)
}

// checkInvariantsOf is checkInvariants for statements parsed from text, a copy of src with some bytes
// changed (psql commands blanked): positions are in src's lines and characters, statements are text's.
func checkInvariantsOf(t testing.TB, src, text string, start, end int, sts []Statement) {
	t.Helper()
	end = min(max(end, 0), len(src))
	start = min(max(start, 0), end)
	prev := start
	for _, st := range sts {
		if st.Pos.Offset < prev || st.End < st.Pos.Offset || st.End > end {
			t.Fatalf("statement %q at %d..%d is outside %d..%d or out of order", st.SQL, st.Pos.Offset, st.End, prev, end)
		}
		if !strings.HasPrefix(text[st.Pos.Offset:], st.SQL) && !strings.Contains(text[st.Pos.Offset:st.End], "\x00") {
			t.Errorf("statement %q is not the text at offset %d", st.SQL, st.Pos.Offset)
		}
		if strings.Trim(st.SQL, pgSpace) == "" {
			t.Errorf("empty statement at %v", st.Pos)
		}
		want := wantPos(src, st.Pos.Offset)
		if st.Pos != want {
			t.Errorf("statement %q at %+v, want %+v", st.SQL, st.Pos, want)
		}
		if st.Err != nil {
			if st.Err.Pos.Offset < st.Pos.Offset || st.Err.Pos.Offset > st.End || st.Err.Pos != wantPos(src, st.Err.Pos.Offset) {
				t.Errorf("error of %q at %+v, outside the statement %d..%d", st.SQL, st.Err.Pos, st.Pos.Offset, st.End)
			}
		}
		prev = st.End
	}
}

// wantPos computes a position the slow way (a byte-order mark that starts the text takes no column).
func wantPos(src string, off int) Position {
	line := 1 + strings.Count(src[:off], "\n")
	lineStart := strings.LastIndexByte(src[:off], '\n') + 1
	if line == 1 && strings.HasPrefix(src, "\uFEFF") {
		lineStart = min(len("\uFEFF"), off)
	}
	return Position{Offset: off, Line: line, Column: 1 + utf8.RuneCountInString(src[lineStart:off])}
}

func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, src string) {
		checkInvariants(t, src, 0, len(src), Parse(src))
	})
}

func FuzzParseRange(f *testing.F) {
	f.Fuzz(func(t *testing.T, src string, start, end int) {
		checkInvariants(t, src, start, end, ParseRange(src, start, end, nil))
	})
}

func BenchmarkParse(b *testing.B) {
	var sb strings.Builder
	for i := range 200 {
		fmt.Fprintf(&sb, "CREATE TABLE t%d (id bigint PRIMARY KEY, name text NOT NULL, created timestamptz DEFAULT now());\n", i)
		fmt.Fprintf(&sb, "CREATE INDEX CONCURRENTLY t%d_name ON t%d (name);\n", i, i)
	}
	src := sb.String()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		Parse(src)
	}
}

// BenchmarkParseCopyData parses a pg_dump-style file of 200 tables, each with a COPY block of 500 rows:
// the data is walked once, not parsed as SQL (MB/s).
func BenchmarkParseCopyData(b *testing.B) {
	var sb strings.Builder
	for i := range 200 {
		fmt.Fprintf(&sb, "CREATE TABLE t%d (id bigint PRIMARY KEY, name text);\nCOPY t%[1]d (id, name) FROM stdin;\n", i)
		for r := range 500 {
			fmt.Fprintf(&sb, "%d\tname %d; it's (row)\n", r, r)
		}
		sb.WriteString("\\.\n\n")
	}
	src := sb.String()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if sts := Parse(src); len(sts) != 400 {
			b.Fatalf("%d statements, want 400", len(sts))
		}
	}
}

func TestNeedsAutocommit(t *testing.T) {
	for sql, want := range map[string]bool{
		"CREATE INDEX CONCURRENTLY i ON t (a)":      true,
		"CREATE INDEX i ON t (a)":                   false,
		"DROP INDEX CONCURRENTLY i":                 true,
		"DROP INDEX i":                              false,
		"REINDEX (CONCURRENTLY) INDEX i":            true,
		"REINDEX INDEX CONCURRENTLY i":              true,
		"REINDEX INDEX i":                           false,
		"REINDEX (CONCURRENTLY false) INDEX i":      false,
		"REINDEX (CONCURRENTLY 0, VERBOSE) TABLE t": false,
		"VACUUM t":                          true,
		"ANALYZE t":                         false,
		"CREATE DATABASE d":                 true,
		"ALTER SYSTEM SET work_mem = '8MB'": true,
		"ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY":           true,
		"ALTER TABLE p DETACH PARTITION p1":                        false,
		"ALTER TABLE t ADD COLUMN b int":                           false,
		"REINDEX SCHEMA public":                                    true,
		"REINDEX DATABASE d":                                       true,
		"REINDEX TABLE t":                                          false,
		"CLUSTER":                                                  true,
		"CLUSTER t USING i":                                        false,
		"ALTER DATABASE d SET TABLESPACE ts":                       true,
		"ALTER DATABASE d SET work_mem = '8MB'":                    false,
		"CREATE SUBSCRIPTION s CONNECTION 'host=db' PUBLICATION p": true,
		"CREATE SUBSCRIPTION s CONNECTION 'host=db' PUBLICATION p WITH (connect = false)":   false,
		"CREATE SUBSCRIPTION s CONNECTION 'host=db' PUBLICATION p WITH (create_slot = off)": false,
	} {
		sts := Parse(sql)
		if len(sts) != 1 || sts[0].Node == nil {
			t.Fatalf("%s: did not parse", sql)
		}
		if got := NeedsAutocommit(sts[0].Node); got != want {
			t.Errorf("NeedsAutocommit(%s) = %v, want %v", sql, got, want)
		}
	}
}

// TestCopyFromStdin: COPY … FROM STDIN takes the lines after it up to \. as its data, as psql does, and
// the statements after the data are parsed where they stand.
func TestCopyFromStdin(t *testing.T) {
	t.Parallel()
	type copyWant struct {
		stmt int    // index of the COPY statement
		data string // its data
	}
	tests := []struct {
		name  string
		src   string
		want  []string
		copyW []copyWant
	}{
		{"data then more statements",
			"CREATE TABLE t (id int, name text);\nCOPY t (id, name) FROM stdin;\n1\tO'Brien; (x\n2\t\\N\n\\.\nINSERT INTO t VALUES (3, 'c');\n",
			[]string{"1:1 CREATE TABLE t (id int, name text)", "2:1 COPY t (id, name) FROM stdin", "6:1 INSERT INTO t VALUES (3, 'c')"},
			[]copyWant{{1, "1\tO'Brien; (x\n2\t\\N\n"}}},
		{"CSV with options and CRLF terminator", "COPY t FROM STDIN WITH (FORMAT csv, HEADER true); -- rows follow\r\nid,name\r\n1,\"a;b\"\r\n\\.\r\nSELECT 1;",
			[]string{"1:1 COPY t FROM STDIN WITH (FORMAT csv, HEADER true)", "5:1 SELECT 1"},
			[]copyWant{{0, "id,name\r\n1,\"a;b\"\r\n"}}},
		{"two blocks", "COPY a FROM stdin;\nx\n\\.\nCOPY b FROM stdin;\ny\n\\.\n",
			[]string{"1:1 COPY a FROM stdin", "4:1 COPY b FROM stdin"},
			[]copyWant{{0, "x\n"}, {1, "y\n"}}},
		{"data to the end without a terminator", "COPY a FROM stdin;\n1\n2\n", []string{"1:1 COPY a FROM stdin"}, []copyWant{{0, "1\n2\n"}}},
		{"no data at all", "COPY a FROM stdin;", []string{"1:1 COPY a FROM stdin"}, []copyWant{{0, ""}}},
		{"a line with more than \\. is data", "COPY a FROM stdin;\n\\.x\n \\.\n\\.\nSELECT 2;", []string{"1:1 COPY a FROM stdin", "5:1 SELECT 2"},
			[]copyWant{{0, "\\.x\n \\.\n"}}},
		{"COPY from a file or to stdout has no data", "COPY a FROM '/tmp/a.csv';\nCOPY a TO STDOUT;\nSELECT 3;",
			[]string{"1:1 COPY a FROM '/tmp/a.csv'", "2:1 COPY a TO STDOUT", "3:1 SELECT 3"}, nil},
		{"data with quotes, semicolons and COPY words between blocks",
			"COPY a FROM stdin;\nit's; COPY b FROM stdin;\n(\n\\.\nCOPY b (x) FROM STDIN\n  WITH (DELIMITER ';');\n1;2\n\\.\nSELECT 'from stdin';\n",
			[]string{"1:1 COPY a FROM stdin", "5:1 COPY b (x) FROM STDIN\n  WITH (DELIMITER ';')", "9:1 SELECT 'from stdin'"},
			[]copyWant{{0, "it's; COPY b FROM stdin;\n(\n"}, {1, "1;2\n"}}},
		{"a syntax error after the data keeps its place", "COPY a FROM stdin;\n1\n\\.\nSELEC 4;\n",
			[]string{"1:1 COPY a FROM stdin", `4:1 SELEC 4 !4:1 syntax error at or near "SELEC"`}, []copyWant{{0, "1\n"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sts := Parse(tc.src)
			if got := brief(sts); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("Parse:\n got %q\nwant %q", got, tc.want)
			}
			checkInvariants(t, tc.src, 0, len(tc.src), sts)
			copies := map[int]string{}
			for _, c := range tc.copyW {
				copies[c.stmt] = c.data
			}
			for i, st := range sts {
				data, isCopy := copies[i]
				if st.FromStdin != isCopy || st.CopyData != data {
					t.Errorf("statement %d %q: FromStdin %v data %q, want %v %q", i, st.SQL, st.FromStdin, st.CopyData, isCopy, data)
				}
			}
		})
	}
}

// TestPosOfNode: a parse-tree location maps to its line and column in the file, in characters, for a
// statement parsed with the whole file and for one parsed alone because another does not parse.
func TestPosOfNode(t *testing.T) {
	t.Parallel()
	for name, src := range map[string]string{
		"whole file":         "SELECT 1;\nCREATE TABLE t (\n  ä int,\n  b json);\nSELECT 2; CREATE TABLE u (c int);\n",
		"beside a bad one":   "SELECT 1;\nCREATE TABLE t (\n  ä int,\n  b json);\nSELECT 2; CREATE TABLE u (c int);\nSELEC broken;\n",
		"after a bad one":    "SELEC broken;\nCREATE TABLE t (\n  ä int,\n  b json);\nSELECT 2; CREATE TABLE u (c int);\n",
		"CRLF and a comment": "SELECT 1;\r\n/* x */ CREATE TABLE t (\r\n  ä int,\r\n  b json);\r\nSELECT 2; CREATE TABLE u (c int);\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			got := map[string]Position{}
			for _, st := range Parse(src) {
				cs := st.Node.GetCreateStmt()
				if cs == nil {
					continue
				}
				for _, e := range cs.TableElts {
					cd := e.GetColumnDef()
					got[cd.Colname] = st.PosOf(st.Offset(cd.Location))
				}
			}
			want := map[string][2]int{"ä": {3, 3}, "b": {4, 3}, "c": {5, 27}}
			for col, w := range want {
				if p := got[col]; p.Line != w[0] || p.Column != w[1] {
					t.Errorf("column %s at %d:%d, want %d:%d", col, p.Line, p.Column, w[0], w[1])
				}
			}
		})
	}
	st := Parse("SELECT 1")[0]
	if st.Offset(-1) != -1 || st.Offset(100) != -1 || st.PosOf(-1) != st.Pos || st.PosOf(100) != st.Pos {
		t.Error("a location outside the statement is not its position")
	}
}

func TestCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, sql, want string
	}{
		{"rows of literals", "INSERT INTO t (a, b) VALUES (1, 'grant'),\n(-2, NULL), (3.5, E'pg_class')",
			"INSERT INTO t (a, b) VALUES (E'pg_class')"},
		{"what follows the rows stays", "INSERT INTO t VALUES (1, 'a'), (2, 'b') ON CONFLICT (a) DO UPDATE SET b = f(excluded.b) RETURNING g(a)",
			"INSERT INTO t VALUES ('b') ON CONFLICT (a) DO UPDATE SET b = f(excluded.b) RETURNING g(a)"},
		{"a bare VALUES", "VALUES (1), (2), (3)", "VALUES (3)"},
		{"a call in a row keeps them all", "INSERT INTO t VALUES (1, 'a'), (2, f('b'))", "INSERT INTO t VALUES (1, 'a'), (2, f('b'))"},
		{"a cast keeps them all", "INSERT INTO t VALUES (1, 'a'), (2, 'b'::money)", "INSERT INTO t VALUES (1, 'a'), (2, 'b'::money)"},
		{"a default keeps them all", "INSERT INTO t VALUES (1, 'a'), (2, DEFAULT)", "INSERT INTO t VALUES (1, 'a'), (2, DEFAULT)"},
		{"a single row", "INSERT INTO t VALUES (1, 'grant')", "INSERT INTO t VALUES (1, 'grant')"},
		{"a select", "INSERT INTO t SELECT 1, 'a'", "INSERT INTO t SELECT 1, 'a'"},
		{"another statement", "GRANT SELECT ON t TO r", "GRANT SELECT ON t TO r"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// After another statement and a comment: the tree's locations are the section's, not SQL's.
			sts := Parse("SELECT 1;\n/* seed */ " + tc.sql + ";")
			if len(sts) != 2 || sts[1].Err != nil {
				t.Fatalf("Parse: %q", brief(sts))
			}
			if got := sts[1].Code(); got != tc.want {
				t.Errorf("Code:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
	if got := (&Statement{SQL: "SELEC 1, 2"}).Code(); got != "SELEC 1, 2" {
		t.Errorf("Code of a statement that did not parse: %q", got)
	}
}
