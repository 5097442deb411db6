package sqlparse

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"github.com/pganalyze/pg_query_go/v6/parser"
	"google.golang.org/protobuf/proto"
)

// seedInsert is an INSERT of n rows of every kind of literal plainRow takes (integers, a negative, one
// past 32 bits, numerics, an exponent, strings with a quote, multi-byte characters, a backslash, a
// slash, NULL, TRUE, FALSE), and every few rows one it leaves in the tree: a cast, DEFAULT, an E'…' string,
// a call, a string holding */ or /*, a string ending in a slash before the closing bracket, a block
// comment before a row; -- comments between rows, one holding a bracket. after is appended after the
// list (ON CONFLICT …).
func seedInsert(n int, after string) string {
	var b strings.Builder
	b.WriteString("-- seed\nINSERT INTO public.t AS x (id, name, v, ok) OVERRIDING SYSTEM VALUE VALUES\n")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
			switch i % 97 {
			case 5:
				b.WriteString(" -- batch (two)\n")
			case 6:
				b.WriteString(" /* c */ ")
			}
			b.WriteString("\n")
		}
		switch i % 23 {
		case 3:
			fmt.Fprintf(&b, "(%d, 'x'::text, %d.5, true)", i, i)
		case 4:
			fmt.Fprintf(&b, "(%d, DEFAULT, NULL, false)", i)
		case 5:
			fmt.Fprintf(&b, "(%d, E'tab\\t', -%d, NULL)", i, i)
		case 6:
			fmt.Fprintf(&b, "(%d, lower('A'), 1, TRUE)", i)
		case 7:
			fmt.Fprintf(&b, "(%d, 'a */ b', 1, TRUE)", i)
		case 8:
			fmt.Fprintf(&b, "(%d, 'a /* b', 1, TRUE)", i)
		case 9:
			fmt.Fprintf(&b, "(%d, 1, 2, 'a/')", i)
		default:
			fmt.Fprintf(&b, "(%d, 'name ''%d'' é€ \\ /', %d.%de-3, FALSE) ", i, i, -i, i)
		}
		switch i % 41 {
		case 1:
			b.WriteString(" ")
		case 2:
			fmt.Fprintf(&b, ",\n(-%d, '', 2147483648, null),(-2147483648, 'y', .5, true), (0, 'z', 7., NULL)", i)
		}
	}
	b.WriteString(after)
	return b.String()
}

// TestElidedRowsMatchFullTree: a large INSERT's parse tree leaves out its plain rows past the first
// keptRows, and what a rule can read is what the full parse gives: the statement's other nodes, the
// rows kept and, through ElidedRows, every row left out (the same A_Const nodes at the same
// locations), the text Code keeps, and positions.
func TestElidedRowsMatchFullTree(t *testing.T) {
	t.Parallel()
	for _, after := range []string{";\n", "\nON CONFLICT (id) DO NOTHING RETURNING id;\n", "\nRETURNING *;\n"} {
		src := "CREATE TABLE t (id int);\n" + seedInsert(3000, after) + "SELECT 1;\n"
		sts := Parse(src)
		if len(sts) != 3 || sts[1].Err != nil {
			t.Fatalf("%d statements, %v", len(sts), sts[1].Err)
		}
		st := sts[1]
		if len(st.elided) == 0 {
			t.Fatalf("nothing elided")
		}
		full, err := pg_query.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		want := full.Stmts[1].Stmt
		// The rows in order of location, those of the tree and those left out.
		var rows []*pg_query.Node
		sel := st.Node.GetInsertStmt().GetSelectStmt().GetSelectStmt()
		kept := sel.ValuesLists
		st.ElidedRows(func(row []*pg_query.Node) {
			loc := row[0].GetAConst().Location
			for len(kept) > 0 && kept[0].GetList().Items[0].GetAConst().GetLocation() < loc {
				rows, kept = append(rows, kept[0]), kept[1:]
			}
			rows = append(rows, &pg_query.Node{Node: &pg_query.Node_List{List: &pg_query.List{Items: append([]*pg_query.Node(nil), row...)}}})
		})
		rows = append(rows, kept...)
		if len(sel.ValuesLists) >= len(rows)/2 {
			t.Errorf("the tree keeps %d rows of %d", len(sel.ValuesLists), len(rows))
		}
		got := proto.Clone(st.Node).(*pg_query.Node)
		got.GetInsertStmt().GetSelectStmt().GetSelectStmt().ValuesLists = rows
		if !proto.Equal(got, want) {
			wl := want.GetInsertStmt().GetSelectStmt().GetSelectStmt().ValuesLists
			for i := range min(len(rows), len(wl)) {
				if !proto.Equal(rows[i], wl[i]) {
					t.Fatalf("row %d: %v, want %v", i, rows[i], wl[i])
				}
			}
			t.Fatalf("trees differ (%d rows, want %d)", len(rows), len(wl))
		}
		// Code and positions as with the full tree.
		whole := st
		whole.Node, whole.elided = want, nil
		if st.Code() != whole.Code() {
			t.Errorf("Code differs:\n%.200s\nwant\n%.200s", st.Code(), whole.Code())
		}
		if st.Pos.String() != "3:1" || sts[2].Pos.Line != strings.Count(src, "\n") {
			t.Errorf("positions %s, %s", st.Pos, sts[2].Pos)
		}
	}
}

// TestElidedRowsSyntaxError: a syntax error in a row far down a large INSERT is reported where the
// full parse reports it, and so is one after plain rows left out holding multi-byte characters (the
// parser's cursor counts characters).
func TestElidedRowsSyntaxError(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"(1, 'é' 'x')", "(2, 3abc)", "(4,, 5)", "(6, 'é', 1.2.3)"} {
		src := seedInsert(2000, ",\n"+bad+";\n") + "SELECT 1;\n"
		sts := Parse(src)
		if len(sts) != 2 || sts[0].Err == nil {
			t.Fatalf("%s: %d statements, err %v", bad, len(sts), sts[0].Err)
		}
		// The full parse of the statement alone (the first piece of src), its cursor made a position.
		text := src[:strings.Index(src, "SELECT 1;")]
		_, err := pg_query.Parse(text)
		var pe *parser.Error
		if !errors.As(err, &pe) {
			t.Fatalf("%s: the full parse has no error: %v", bad, err)
		}
		want := Error{Message: pe.Message, Pos: NewLines(src).Pos(byteOffset(text, pe.Cursorpos-1))}
		if *sts[0].Err != want {
			t.Errorf("%s: %v, want %v", bad, sts[0].Err, want)
		}
		if line := strings.Count(src[:strings.LastIndex(src, bad)], "\n") + 1; sts[0].Err.Pos.Line != line {
			t.Errorf("%s: error on line %d, want %d", bad, sts[0].Err.Pos.Line, line)
		}
	}
}

// TestElidedRowsOnlyInsertValues: rows are left out of an INSERT … VALUES only; not of a VALUES list in a
// set operation, an INSERT … SELECT, a VALUES followed by ORDER BY or LIMIT (which read its rows), nor a
// small statement.
func TestElidedRowsOnlyInsertValues(t *testing.T) {
	t.Parallel()
	rows := strings.Repeat("(1, 'abcdefgh'),\n", 2000) + "(2, 'z')"
	for _, tt := range []struct {
		name, sql string
		elided    bool
	}{
		{"insert values", "INSERT INTO t VALUES " + rows, true},
		{"insert with quoted target", `INSERT INTO "my t"."x" (a, "b c") VALUES ` + rows + " ON CONFLICT DO NOTHING", true},
		{"small", "INSERT INTO t VALUES " + strings.Repeat("(1, 'a'),", 100) + "(2, 'z')", false},
		{"union", "INSERT INTO t VALUES " + rows + " UNION SELECT 1, 'a'", false},
		{"limit", "INSERT INTO t VALUES " + rows + " LIMIT 1", false},
		{"select from values", "INSERT INTO t SELECT * FROM (VALUES " + rows + ") v", false},
		{"values", "VALUES " + rows, false},
		{"with", "WITH w AS (SELECT 1) INSERT INTO t VALUES " + rows, false},
		{"in a rule", "CREATE RULE r AS ON INSERT TO u DO ALSO (SELECT 1; INSERT INTO t VALUES " + rows + " ON CONFLICT DO NOTHING)", false},
	} {
		st := Parse(tt.sql + ";\n")
		if len(st) != 1 || st[0].Err != nil {
			t.Fatalf("%s: %d statements, %v", tt.name, len(st), st[0].Err)
		}
		if got := len(st[0].elided) > 0; got != tt.elided {
			t.Errorf("%s: elided %v, want %v", tt.name, got, tt.elided)
		}
	}
}
