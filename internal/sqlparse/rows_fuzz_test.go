package sqlparse

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"github.com/pganalyze/pg_query_go/v6/parser"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// FuzzElideRows checks the rows left out of a large INSERT's parse tree against the full parse, for
// any text: an INSERT whose VALUES list repeats a fuzzed row (and a fuzzed separator) past elideMin,
// after a fuzzed target and before a fuzzed tail. Where the full parse succeeds, the statements' trees
// with their left-out rows put back (ElidedRows) must be the full parse's, node for node and location
// for location; where it fails, Parse must report the full parse's error at the same position.
func FuzzElideRows(f *testing.F) {
	f.Add("t (id, name)", "(1, 'a b', -2.5e3, NULL, TRUE)", ",\n", ";\nSELECT 1;\n")
	f.Add("public.t AS x", "(-2147483648, 'é''€', .5, 7., false)", ", ", " ON CONFLICT DO NOTHING RETURNING *;")
	f.Add("t", "(1, 'x'::text)", ",", ";")
	f.Add("t", "(0x1F, 1_000, 0o17, 0b101)", ",", ";")
	f.Add("t", "('a'\n'b', E'\\n', U&'d', B'101', X'1F', $$x$$)", ",\n", ";")
	f.Add("t", "(1, 'a */ b')", " /* c */,", ";")
	f.Add("t", "(1,, 2)", ",", ";")
	f.Add("t", "(9999999999999999999, 1e400, -0, 00012)", ",", ";")
	f.Fuzz(func(t *testing.T, target, row, sep, tail string) {
		if len(row)+len(sep) == 0 || len(target)+len(tail) > 1<<10 || len(row)+len(sep) > 1<<10 {
			return
		}
		n := elideMin/(len(row)+len(sep)) + 2*keptRows
		src := "INSERT INTO " + target + " VALUES " + strings.Repeat(row+sep, n) + row + tail
		if strings.IndexByte(src, 0) >= 0 || !utf8.ValidString(src) {
			// Parse refuses a NUL byte on its own (NULMessage), where the C parser stops at it; and the
			// folder readers refuse text that is not UTF-8, whose characters the C parser counts its own way.
			return
		}
		sts := Parse(src)
		full, err := pg_query.Parse(src)
		if err != nil {
			var pe *parser.Error
			if !errors.As(err, &pe) {
				return
			}
			want := Error{Message: pe.Message, Pos: NewLines(src).Pos(byteOffset(src, pe.Cursorpos-1))}
			for _, st := range sts {
				// Parse may add a hint to the parser's message (a psql variable, …), or refuse the text
				// on its own before the parser sees it (nesting too deep).
				if st.Err != nil && (st.Err.Pos == want.Pos && strings.HasPrefix(st.Err.Message, want.Message) || strings.Contains(st.Err.Message, "more than schemagate parses")) {
					return
				}
			}
			var got []string
			for _, st := range sts {
				if st.Err != nil {
					got = append(got, st.Err.Error())
				}
			}
			t.Fatalf("the full parse fails with %v; Parse reports %q", want, got)
		}
		if len(sts) != len(full.Stmts) {
			t.Fatalf("%d statements, the full parse has %d", len(sts), len(full.Stmts))
		}
		for i, st := range sts {
			if st.Err != nil {
				t.Fatalf("statement %d: %v, the full parse has none", i, st.Err)
			}
			if got, want := withElidedRows(st), full.Stmts[i].Stmt; !proto.Equal(got, want) {
				t.Fatalf("statement %d: the tree with its rows put back differs from the full parse's\n%.2000v\nwant\n%.2000v", i, got, want)
			}
		}
	})
}

// withElidedRows is st's tree with the rows it leaves out put back in their places.
func withElidedRows(st Statement) *pg_query.Node {
	if len(st.elided) == 0 {
		return st.Node
	}
	node := proto.Clone(st.Node).(*pg_query.Node)
	sel := node.GetInsertStmt().GetSelectStmt().GetSelectStmt()
	kept := sel.ValuesLists
	var rows []*pg_query.Node
	st.ElidedRows(func(row []*pg_query.Node) {
		loc := firstLocation(row[0].ProtoReflect())
		for len(kept) > 0 && firstLocation(kept[0].ProtoReflect()) < loc {
			rows, kept = append(rows, kept[0]), kept[1:]
		}
		items := make([]*pg_query.Node, len(row))
		for i := range row {
			items[i] = proto.Clone(row[i]).(*pg_query.Node)
		}
		rows = append(rows, &pg_query.Node{Node: &pg_query.Node_List{List: &pg_query.List{Items: items}}})
	})
	sel.ValuesLists = append(rows, kept...)
	return node
}

// firstLocation is the smallest location (a field named location, not -1) in m's tree.
func firstLocation(m protoreflect.Message) int32 {
	first := int32(-1)
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		var l int32 = -1
		switch {
		case fd.Name() == "location" && fd.Kind() == protoreflect.Int32Kind:
			l = int32(v.Int())
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			for i := 0; i < v.List().Len(); i++ {
				if x := firstLocation(v.List().Get(i).Message()); x >= 0 && (l < 0 || x < l) {
					l = x
				}
			}
		case fd.Kind() == protoreflect.MessageKind && !fd.IsMap():
			l = firstLocation(v.Message())
		}
		if l >= 0 && (first < 0 || l < first) {
			first = l
		}
		return true
	})
	return first
}
