package lint

import (
	"maps"
	"slices"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// provesNotNull tells whether a validated CHECK whose expression is n proves column col NOT NULL, so
// that PostgreSQL 12+ skips SET NOT NULL's scan. PostgreSQL asks whether the constraint's expression,
// made canonical (NOT pushed inwards, ANDs and ORs flattened), implies col IS NOT NULL in the weak sense
// a CHECK is held to (NULL passes): col IS NOT NULL, NOT (col IS NULL) and a row (…, col, …) IS NOT NULL
// prove it, so does an AND with one conjunct that proves it and an OR whose every arm proves it; a strict
// comparison (col > 0) does not, as a CHECK passes on NULL (measured on 15 with client_min_messages
// debug1: "existing constraints on column … are sufficient to prove that it does not contain nulls").
// col IS DISTINCT FROM NULL (either way round) proves it too, and NOT (col IS NOT DISTINCT FROM NULL):
// PostgreSQL makes a NULL test of them when one side is a bare NULL; against NULL::int it does not.
func provesNotNull(n *pg_query.Node, col string) bool {
	return impliesNotNull(n, col, false)
}

// impliesNotNull is provesNotNull of n, or of NOT n when negated.
func impliesNotNull(n *pg_query.Node, col string, negated bool) bool {
	if b := n.GetBoolExpr(); b != nil {
		if b.Boolop == pg_query.BoolExprType_NOT_EXPR {
			return len(b.Args) == 1 && impliesNotNull(b.Args[0], col, !negated)
		}
		// NOT (a AND b) is NOT a OR NOT b, and NOT (a OR b) is NOT a AND NOT b.
		if (b.Boolop == pg_query.BoolExprType_AND_EXPR) != negated {
			for _, a := range b.Args {
				if impliesNotNull(a, col, negated) {
					return true
				}
			}
			return false
		}
		for _, a := range b.Args {
			if !impliesNotNull(a, col, negated) {
				return false
			}
		}
		return len(b.Args) > 0
	}
	if arg, notNull, ok := distinctFromNull(n); ok {
		return notNull != negated && isColumn(arg, col)
	}
	nt := n.GetNullTest()
	if nt == nil {
		return false
	}
	notNull := nt.Nulltesttype == pg_query.NullTestType_IS_NOT_NULL
	if row := nt.Arg.GetRowExpr(); row != nil {
		// ROW(a, b) IS NOT NULL is a IS NOT NULL AND b IS NOT NULL; NOT (ROW(a, b) IS NULL) says only
		// that one of them is not null.
		if negated || !notNull {
			return false
		}
		for _, a := range row.Args {
			if isColumn(a, col) {
				return true
			}
		}
		return false
	}
	return notNull != negated && isColumn(nt.Arg, col)
}

// distinctFromNull reads x IS DISTINCT FROM NULL (notNull) and x IS NOT DISTINCT FROM NULL as the NULL
// tests PostgreSQL's parse analysis makes of them (transformAExprDistinct) when one side is a bare NULL
// literal, and gives x.
func distinctFromNull(n *pg_query.Node) (arg *pg_query.Node, notNull, ok bool) {
	e := n.GetAExpr()
	if e == nil || (e.Kind != pg_query.A_Expr_Kind_AEXPR_DISTINCT && e.Kind != pg_query.A_Expr_Kind_AEXPR_NOT_DISTINCT) {
		return nil, false, false
	}
	isNull := func(n *pg_query.Node) bool { c := n.GetAConst(); return c != nil && c.Isnull }
	switch {
	case isNull(e.Rexpr):
		arg = e.Lexpr
	case isNull(e.Lexpr):
		arg = e.Rexpr
	default:
		return nil, false, false
	}
	return arg, e.Kind == pg_query.A_Expr_Kind_AEXPR_DISTINCT, true
}

// isColumn tells whether n is a reference to column col (as PostgreSQL knows it: the parser has folded the
// reference, and "Bar" is another column than bar), qualified or not.
func isColumn(n *pg_query.Node, col string) bool {
	cr := n.GetColumnRef()
	if cr == nil || len(cr.Fields) == 0 {
		return false
	}
	s := cr.Fields[len(cr.Fields)-1].GetString_()
	return s != nil && s.Sval == col
}

// unprovenBelow lists the tables below table key (partitions and inheritance children, known to the
// state) that SET NOT NULL of its column col scans: PostgreSQL sets the column NOT NULL in each, and
// skips the scan of one whose column is NOT NULL already or one a validated CHECK of its own, or
// inherited, proves it of.
func (s *state) unprovenBelow(key, col string) []string {
	var out []string
	for _, k := range s.inheritors(key) {
		t := s.tables[k]
		if t == nil {
			continue
		}
		if c := t.cols[col]; c != nil && c.notNull {
			continue
		}
		if t.nullProof(col) == nil {
			out = append(out, bare(k))
		}
	}
	slices.Sort(out)
	return out
}

// nullProof returns the validated CHECK of t that proves its column col IS NOT NULL, the first by name
// (a stable message), or nil when none does.
func (t *table) nullProof(col string) *check {
	for _, k := range slices.Sorted(maps.Keys(t.checks)) {
		if ck := t.checks[k]; ck.validated && provesNotNull(ck.expr, col) {
			return ck
		}
	}
	return nil
}
