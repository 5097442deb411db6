package lint

import (
	"fmt"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// viewOutput is the list of the output columns of a view's query, in order, as PostgreSQL names them
// (FigureColname, see figureColname): the view's own column list first, then each target's alias, a column reference's
// last name, a function's name. A name the parse does not tell for sure is "": only the count is known
// there. It is nil when the count is unknown either (SELECT *, t.*, a query it does not read).
func viewOutput(query *pg_query.Node, aliases []*pg_query.Node) []string {
	sel := query.GetSelectStmt()
	for sel != nil && sel.Op != pg_query.SetOperation_SETOP_NONE {
		sel = sel.Larg // a UNION's columns are named by its first branch
	}
	if sel == nil {
		return nil
	}
	var out []string
	switch {
	case len(sel.ValuesLists) > 0:
		for i := range sel.ValuesLists[0].GetList().GetItems() {
			out = append(out, fmt.Sprintf("column%d", i+1))
		}
	case len(sel.TargetList) > 0:
		for _, t := range sel.TargetList {
			rt := t.GetResTarget()
			if rt == nil {
				return nil
			}
			name, star := outputName(rt)
			if star {
				return nil
			}
			out = append(out, name)
		}
	default:
		return nil
	}
	for i, a := range aliases {
		if i < len(out) {
			out[i] = a.GetString_().GetSval()
		}
	}
	return out
}

// outputName is the name PostgreSQL gives target rt, "" when the parse does not tell, and whether it
// is a star (which expands to columns the parse does not know).
func outputName(rt *pg_query.ResTarget) (string, bool) {
	if cr := rt.Val.GetColumnRef(); cr != nil && len(cr.Fields) > 0 && cr.Fields[len(cr.Fields)-1].GetAStar() != nil {
		return "", true
	}
	if rt.Name != "" {
		return rt.Name, false
	}
	name, strength, ok := figureColname(rt.Val)
	switch {
	case !ok:
		return "", false
	case strength == 0:
		return "?column?", false
	}
	return name, false
}

// replaceViewFails tells why PostgreSQL refuses CREATE OR REPLACE VIEW of view key, whose output
// columns the state knows, with query's output instead (checkViewColumns: a replacement may only add
// columns at the end), or "" when it does not know it to fail.
func (s *state) replaceViewFails(key string, v *pg_query.ViewStmt) string {
	old, ok := s.viewOut[key]
	nw := viewOutput(v.Query, v.Aliases)
	if !ok || old == nil || nw == nil {
		return ""
	}
	for i, o := range old {
		if i >= len(nw) {
			return fmt.Sprintf("it drops column %s (\"cannot drop columns from view\")", quoteIdent(o))
		}
		if o != "" && nw[i] != "" && o != nw[i] {
			return fmt.Sprintf("column %d is %s, where the view has %s (\"cannot change name of view column\"): a replacement keeps the existing columns, by name and in order", i+1, quoteIdent(nw[i]), quoteIdent(o))
		}
	}
	return ""
}
