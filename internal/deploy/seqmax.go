package deploy

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/schema"
)

// A setval to max() of the sequence's own column cannot set the sequence behind that column: nextval
// hands out a key past every one the column holds, so it loses no key in use, and it is no loss. It is
// how seed migrations (INSERT … (id, …) VALUES …, then setval) and serial-to-identity conversions put
// the sequence past the keys they wrote. The value is max(c) (in a scalar subquery, or as the aggregate
// of a SELECT … FROM the table), optionally COALESCE(max(c), constant) and + k with a constant k ≥ 0,
// and k ≥ 1 with is_called false, where nextval returns the value itself. A filter, a WHERE or a GROUP
// BY reads only some of the rows: not the max of the column. The check "sequences ahead of their
// columns" after the downs still catches a sequence a down leaves behind. The lint rule
// restart-sequence says the same of max() (internal/lint/sequence.go, callsMax).

// setvalMax reads setval call fc of statement n (path is the script's search path, "" for the
// deploy's): the column (colKey, its table named as written) whose max() it sets the sequence to,
// when its value is such a max() as above; "" otherwise.
func setvalMax(fc *pg_query.FuncCall, n *pg_query.Node, path string) string {
	if len(fc.Args) != 2 && len(fc.Args) != 3 {
		return ""
	}
	least := int64(0)
	if len(fc.Args) == 3 {
		b := fc.Args[2].GetAConst().GetBoolval()
		if b == nil {
			return ""
		}
		if !b.Boolval {
			least = 1 // nextval returns the value itself: max(c) + 1 at least
		}
	}
	var from *pg_query.RangeVar
	if sel := n.GetSelectStmt(); sel != nil && wholeTable(sel) {
		from = sel.FromClause[0].GetRangeVar()
	}
	rv, col, k, ok := maxExpr(fc.Args[1], from)
	if !ok || k < least {
		return ""
	}
	sc := rv.Schemaname
	if sc == "" {
		sc = path
	}
	return colKey(relKey(sc, rv.Relname), col)
}

// wholeTable tells whether sel reads every row of the one table it selects from: an aggregate of it
// is over the whole column.
func wholeTable(sel *pg_query.SelectStmt) bool {
	return len(sel.FromClause) == 1 && sel.FromClause[0].GetRangeVar() != nil && sel.WhereClause == nil &&
		len(sel.GroupClause) == 0 && sel.HavingClause == nil && len(sel.DistinctClause) == 0
}

// maxExpr reads expression n as max() of a column of table from (or of the scalar subquery's table),
// plus k; ok is false for anything else.
func maxExpr(n *pg_query.Node, from *pg_query.RangeVar) (rv *pg_query.RangeVar, col string, k int64, ok bool) {
	switch {
	case n.GetTypeCast() != nil:
		return maxExpr(n.GetTypeCast().Arg, from)
	case n.GetSubLink() != nil:
		sl := n.GetSubLink()
		sel := sl.Subselect.GetSelectStmt()
		if sl.SubLinkType != pg_query.SubLinkType_EXPR_SUBLINK || sel == nil || !wholeTable(sel) || len(sel.TargetList) != 1 {
			return nil, "", 0, false
		}
		return maxExpr(sel.TargetList[0].GetResTarget().GetVal(), sel.FromClause[0].GetRangeVar())
	case n.GetAExpr() != nil:
		x := n.GetAExpr()
		if x.Kind != pg_query.A_Expr_Kind_AEXPR_OP || funcName(x.Name) != "+" {
			return nil, "", 0, false
		}
		for _, side := range [][2]*pg_query.Node{{x.Lexpr, x.Rexpr}, {x.Rexpr, x.Lexpr}} {
			if c, isInt := intConst(side[1]); isInt && c >= 0 {
				if rv, col, k, ok := maxExpr(side[0], from); ok {
					return rv, col, k + c, true
				}
			}
		}
		return nil, "", 0, false
	case n.GetCoalesceExpr() != nil:
		args := n.GetCoalesceExpr().Args
		if len(args) < 2 {
			return nil, "", 0, false
		}
		for _, a := range args[1:] {
			if _, isInt := intConst(a); !isInt {
				return nil, "", 0, false
			}
		}
		return maxExpr(args[0], from) // a constant stands for an empty column, which nothing collides with
	case n.GetFuncCall() != nil:
		fc := n.GetFuncCall()
		if strings.TrimPrefix(funcName(fc.Funcname), "pg_catalog.") != "max" || len(fc.Args) != 1 || fc.AggFilter != nil || fc.Over != nil || from == nil {
			return nil, "", 0, false
		}
		var fields []string
		for _, f := range fc.Args[0].GetColumnRef().GetFields() {
			s := f.GetString_()
			if s == nil {
				return nil, "", 0, false // * or an index
			}
			fields = append(fields, s.Sval)
		}
		switch {
		case len(fields) == 1:
		case len(fields) == 2 && (fields[0] == from.Relname || fields[0] == from.GetAlias().GetAliasname()):
		default:
			return nil, "", 0, false
		}
		return from, fields[len(fields)-1], 0, true
	}
	return nil, "", 0, false
}

// intConst is the value of an integer constant n.
func intConst(n *pg_query.Node) (int64, bool) {
	for n.GetTypeCast() != nil {
		n = n.GetTypeCast().Arg
	}
	if c := n.GetAConst(); c != nil && c.GetIval() != nil && !c.Isnull {
		return int64(c.GetIval().Ival), true
	}
	return 0, false
}

// maxSeq is, qualified by q, the sequence setval loss l sets to max() of its own column (l.maxOf):
// the sequence it names is the one PostgreSQL names for that column (table_column_seq, in the table's
// schema), or it names the sequence by that column (pg_get_serial_sequence). "" when it is not so: a
// sequence named otherwise, or the max() of another column.
func maxSeq(l loss, q func(string) string) string {
	if l.seq != seqSetval || l.maxOf == "" {
		return ""
	}
	rel, col := cutColKey(l.maxOf)
	parts := schema.SplitKey(q(rel))
	if len(parts) != 2 {
		return ""
	}
	own := schema.Key(parts[0], lint.ImplicitSeqName(parts[1], col))
	switch {
	case l.column != "" && colKey(q(l.relation), l.column) == colKey(q(rel), col):
		return own
	case l.column == "" && l.relation != "" && q(l.relation) == own:
		return own
	}
	return ""
}

// setsToMax tells whether set, setvals of a script (effects.toMax), sets sequence seq (qualified by q)
// to max() of its own column.
func setsToMax(set []loss, seq string, q func(string) string) bool {
	for _, l := range set {
		if s := maxSeq(l, q); s != "" && s == seq {
			return true
		}
	}
	return false
}
