package sqlparse

import (
	"fmt"
	"strings"
	"testing"
)

func TestParsePsql(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string // statements, as brief gives them
		cmds []string // line:column name [args] [last]
		data string   // the data of the COPY statement, if any
	}{
		{"commands around statements", "\\set ON_ERROR_STOP on\nCREATE TABLE t (id int);\n\\echo done\n",
			[]string{"2:1 CREATE TABLE t (id int)"}, []string{"1:1 set [ON_ERROR_STOP on]", "3:1 echo [done] last"}, ""},
		{"backslashes in quotes, dollar quotes and comments are SQL",
			"SELECT 'a\n\\set x';\nDO $$\n\\echo no\n$$;\n/* a\n\\q */ SELECT 1;\n-- \\c other\nSELECT E'\\\\';",
			[]string{"1:1 SELECT 'a\n\\set x'", "3:1 DO $$\n\\echo no\n$$", "7:7 SELECT 1", "9:1 SELECT E'\\\\'"}, nil, ""},
		{"pg_dump output: \\restrict, and COPY data with \\N and \\.",
			"\\restrict KEY\nSET search_path = '';\nCOPY t (id, n) FROM stdin;\n1\t\\N\n\\.\n\\unrestrict KEY\n",
			[]string{"2:1 SET search_path = ''", "3:1 COPY t (id, n) FROM stdin"},
			[]string{"1:1 restrict [KEY]", "6:1 unrestrict [KEY] last"}, "1\t\\N\n"},
		{"\\g and \\gx end a statement", "SELECT 1\n\\g\nSELECT 2\n  \\gx\n",
			[]string{"1:1 SELECT 1", "3:1 SELECT 2"}, []string{"2:1 g []", "4:3 gx [] last"}, ""},
		{"indented, CRLF", "  \\set x 1\r\nSELECT 1;\r\n\t\\q\r\n",
			[]string{"2:1 SELECT 1"}, []string{"1:3 set [x 1]", "3:2 q [] last"}, ""},
		{"a command inside a statement", "CREATE TABLE t (\n\\echo inside\n  id int);\n\\ir more.sql\nSELECT 2;",
			[]string{"1:1 CREATE TABLE t (\n            \n  id int)", "5:1 SELECT 2"},
			[]string{"2:1 echo [inside]", "4:1 ir [more.sql]"}, ""},
		{"a command before COPY", "\\set x\nCOPY t FROM stdin;\n\\N\n\\.\n",
			[]string{"2:1 COPY t FROM stdin"}, []string{"1:1 set [x]"}, "\\N\n"},
		{"no command", "SELECT '\\';", []string{"1:1 SELECT '\\'"}, nil, ""},
		{"escape strings", "SELECT E'it\\'s \\\\', e'\\''; \\echo x\nSELECT 'a\\', be'\\' \\echo y\n;",
			[]string{"1:1 SELECT E'it\\'s \\\\', e'\\''", "2:1 SELECT 'a\\', be'\\'"},
			[]string{"1:28 echo [x]", "2:20 echo [y]"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sts, cmds := ParsePsql(tc.src, 0, len(tc.src), nil)
			if got := brief(sts); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("statements:\n got %q\nwant %q", got, tc.want)
			}
			var got []string
			blanked := []byte(tc.src)
			for _, c := range cmds {
				s := fmt.Sprintf("%d:%d %s [%s]", c.Pos.Line, c.Pos.Column, c.Name, c.Args)
				if c.Last {
					s += " last"
				}
				got = append(got, s)
				if tc.src[c.Pos.Offset] != '\\' {
					t.Errorf("command %s does not start at a backslash", s)
				}
				blank(blanked, c.Pos.Offset)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.cmds) {
				t.Errorf("commands:\n got %q\nwant %q", got, tc.cmds)
			}
			// Statements stand where they stand in the file, with the commands blanked out.
			checkInvariantsOf(t, tc.src, string(blanked), 0, len(tc.src), sts)
			for _, st := range sts {
				if st.FromStdin != (tc.data != "") && strings.HasPrefix(st.SQL, "COPY") || st.CopyData != tc.data && st.FromStdin {
					t.Errorf("statement %q: data %q, want %q", st.SQL, st.CopyData, tc.data)
				}
			}
		})
	}
}

func TestPsqlCommandInOtherFormatsIsExplained(t *testing.T) {
	t.Parallel()
	// The server would get the line and the statement after it as one (they end at the same semicolon).
	sts := Parse("SELECT 1;\n\\set ON_ERROR_STOP on\nSELECT 2;")
	if len(sts) != 2 || sts[0].Node == nil || sts[1].Err == nil || !strings.Contains(sts[1].Err.Message, "psql meta-command") {
		t.Fatalf("got %q, want SELECT 1, then a psql meta-command error", brief(sts))
	}
	if !IsPsqlCommand(" \n\\echo x") || IsPsqlCommand("SELECT '\\'") {
		t.Error("IsPsqlCommand")
	}
}

func FuzzParsePsql(f *testing.F) {
	f.Fuzz(func(t *testing.T, src string) {
		sts, cmds := ParsePsql(src, 0, len(src), nil)
		blanked := []byte(src)
		prev := -1
		for _, c := range cmds {
			if c.Pos.Offset <= prev || src[c.Pos.Offset] != '\\' || c.Pos != wantPos(src, c.Pos.Offset) {
				t.Fatalf("command %+v out of order, not at a backslash, or mispositioned", c)
			}
			prev = c.Pos.Offset
			blank(blanked, c.Pos.Offset)
		}
		for _, st := range sts {
			if st.FromStdin || strings.Contains(src, "\x00") {
				continue // COPY data may hold what looks like a command line; a NUL byte reads as \0
			}
			for _, line := range strings.Split(st.SQL, "\n") {
				if strings.HasPrefix(strings.TrimLeft(line, " \t"), `\`) && !strings.ContainsAny(st.SQL, `'"$/-`) {
					t.Errorf("statement %q keeps a command line", st.SQL)
				}
			}
		}
		checkInvariantsOf(t, src, string(blanked), 0, len(src), sts)
	})
}

// blank blanks a command in a copy of its text: from its backslash to the end of the line, a carriage
// return before the line feed kept.
func blank(text []byte, at int) {
	end := at
	for end < len(text) && text[end] != '\n' {
		end++
	}
	if end < len(text) && end > at && text[end-1] == '\r' {
		end--
	}
	for i := at; i < end; i++ {
		text[i] = ' '
	}
}
