package lint

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// largeInsert is a data seed of n rows into tm (id, m, note), m of enum type mood; row at (0-based,
// -1 for none) gives m the label 'happy' rather than 'sad'.
func largeInsert(n, at int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO tm (id, m, note) VALUES\n")
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		label := "sad"
		if i == at {
			label = "happy"
		}
		fmt.Fprintf(&b, "(%d, '%s', 'note number %d, with some text')", i, label, i)
	}
	b.WriteString(";\n")
	return b.String()
}

// fullTree is script(src) with each statement's parse tree the parser's whole one: what schemagate
// read before rows of a large INSERT were left out of its tree (sqlparse's elideRows).
func fullTree(t testing.TB, src string) *migrate.Script {
	s := script(src)
	for i, st := range s.Statements {
		tree, err := pg_query.Parse(st.SQL)
		if err != nil || len(tree.Stmts) != 1 {
			t.Fatalf("statement %d: %v", i, err)
		}
		s.Statements[i] = sqlparse.Statement{SQL: st.SQL, Pos: st.Pos, End: st.End, Node: tree.Stmts[0].Stmt, Skipped: st.Skipped}
	}
	return s
}

// TestLargeInsertFindingsAsFullParse: the findings on a large INSERT, whose parse tree leaves out most
// of its rows, are those of the full parse, to the line, column and message: enum-add-value reads each
// row's literals, and a label the transaction added, given to the enum's column in row 2,500 of 3,000,
// makes it dangerous as it does in the full tree; the same label in no row leaves it caution.
func TestLargeInsertFindingsAsFullParse(t *testing.T) {
	t.Parallel()
	schema := "CREATE TYPE mood AS ENUM ('sad');\nCREATE TABLE tm (id int, m mood, note text);\n"
	for _, tt := range []struct {
		name string
		at   int
		risk Risk
	}{
		{"label in a row left out", 2500, Dangerous},
		{"label in a row kept", 3, Dangerous},
		{"label in no row", -1, Caution},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "-- seed\nALTER TYPE mood ADD VALUE 'happy';\n" + largeInsert(3000, tt.at) + "UPDATE tm SET note = 'x';\n"
			s := script(src)
			if n := len(s.Statements[1].Node.GetInsertStmt().GetSelectStmt().GetSelectStmt().GetValuesLists()); n >= 3000 {
				t.Fatalf("the tree keeps all %d rows", n)
			}
			got := AnalyzeScript(s, true, Config{Schema: schema})
			want := AnalyzeScript(fullTree(t, src), true, Config{Schema: schema})
			if !reflect.DeepEqual(got, want) {
				t.Errorf("findings differ:\n%+v\nwant\n%+v", got, want)
			}
			f := find(got, "enum-add-value")
			if f == nil || f.Risk != tt.risk || f.Line != 2 || f.Column != 1 {
				t.Fatalf("enum-add-value: %+v, want %s at 2:1", f, tt.risk)
			}
			if tt.risk == Dangerous && !strings.Contains(f.Message, "line 3 of the same transaction") {
				t.Errorf("message %q names not the INSERT's line", f.Message)
			}
			if f := find(got, "backfill-in-migration"); f == nil || f.Line != 3004 || f.Column != 1 {
				t.Errorf("the UPDATE after the INSERT: %+v, want a finding at 3004:1", f)
			}
		})
	}
}

// BenchmarkLintLargeInsert measures parsing and linting a data seed of 100,000 rows (5.3 MB), alone
// ("seed") and after an ALTER TYPE … ADD VALUE in its transaction, whose label its last row gives, so
// that enum-add-value reads every row ("add-value"): "elided" as schemagate does it, "full" with the
// parser's whole tree (the statement parsed whole again, as before rows were left out of the tree).
func BenchmarkLintLargeInsert(b *testing.B) {
	schema := "CREATE TYPE mood AS ENUM ('sad');\nCREATE TABLE tm (id int, m mood, note text);\n"
	for _, c := range []struct{ name, src string }{
		{"seed", largeInsert(100000, -1)},
		{"add-value", "ALTER TYPE mood ADD VALUE 'happy';\n" + largeInsert(100000, 99999)},
	} {
		b.Run(c.name+"/elided", func(b *testing.B) {
			b.SetBytes(int64(len(c.src)))
			b.ReportAllocs()
			for b.Loop() {
				AnalyzeScript(script(c.src), true, Config{Schema: schema})
			}
		})
		b.Run(c.name+"/full", func(b *testing.B) {
			b.SetBytes(int64(len(c.src)))
			b.ReportAllocs()
			for b.Loop() {
				AnalyzeScript(fullTree(b, c.src), true, Config{Schema: schema})
			}
		})
	}
}
