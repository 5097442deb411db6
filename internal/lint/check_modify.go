package lint

import (
	"fmt"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// modifyRows judges an UPDATE or DELETE of rel with where: every row (dangerous, message all) or rows
// no key range bounds (caution, message unbounded), on a table the migration did not create.
func (a *analyzer) modifyRows(rel *pg_query.RangeVar, where *pg_query.Node, all, unbounded string) {
	if a.st.isNew(a.st.rel(rel)) {
		return
	}
	a.takes(lockRX)
	switch {
	case alwaysTrue(where):
		a.add("backfill-in-migration", fmt.Sprintf(all, relName(rel)))
	case !a.keyBounded(where, rel):
		a.add("backfill-in-migration", fmt.Sprintf(unbounded, relName(rel))).Risk = Caution
	default:
		// Production reads the key's index; the rehearsal's empty table makes the planner scan it.
		a.scansShort(rel)
	}
}

// modify judges a data-modifying statement (UPDATE, DELETE, INSERT, MERGE) and those in its WITH
// clause, and those a statement that runs a query runs with it: the data-modifying WITH of a SELECT
// (SELECT … INTO too), CREATE TABLE … AS and COPY (query) TO, and a COPY of UPDATE … RETURNING.
// PostgreSQL refuses them in views, materialized views and cursors, and below the top level.
func (a *analyzer) modify(n *pg_query.Node) {
	switch {
	case n.GetSelectStmt() != nil:
		a.modifyCTEs(n.GetSelectStmt().WithClause)
	case n.GetCreateTableAsStmt() != nil:
		if c := n.GetCreateTableAsStmt(); c.Objtype != pg_query.ObjectType_OBJECT_MATVIEW {
			a.modify(c.Query)
		}
	case n.GetCopyStmt() != nil:
		if q := n.GetCopyStmt().Query; q != nil {
			a.modify(q)
		}
	case n.GetUpdateStmt() != nil:
		u := n.GetUpdateStmt()
		a.modifyCTEs(u.WithClause)
		a.modifyRows(u.Relation, u.WhereClause, "UPDATE of every row of %s in the migration: long row locks, bloat and a long transaction",
			"UPDATE of %s whose WHERE is not bounded by a key range: it may touch most rows in one long transaction, with row locks and bloat")
	case n.GetDeleteStmt() != nil:
		d := n.GetDeleteStmt()
		a.modifyCTEs(d.WithClause)
		a.modifyRows(d.Relation, d.WhereClause, "DELETE of every row of %s in the migration: long row locks and a long transaction",
			"DELETE from %s whose WHERE is not bounded by a key range: it may touch most rows in one long transaction, with row locks")
	case n.GetInsertStmt() != nil:
		ins := n.GetInsertStmt()
		a.modifyCTEs(ins.WithClause)
		if sel := ins.SelectStmt.GetSelectStmt(); sel != nil {
			a.modifyCTEs(sel.WithClause)
			if len(sel.FromClause) > 0 && !a.st.isNew(a.st.rel(ins.Relation)) {
				a.takes(lockRX)
				a.add("backfill-in-migration", fmt.Sprintf("INSERT … SELECT into %s copies rows inside the migration's transaction", relName(ins.Relation)))
			}
		}
	case n.GetMergeStmt() != nil:
		m := n.GetMergeStmt()
		a.modifyCTEs(m.WithClause)
		if a.st.isNew(a.st.rel(m.Relation)) {
			return
		}
		a.takes(lockRX)
		src := m.SourceRelation
		if sel := src.GetRangeSubselect().GetSubquery().GetSelectStmt(); sel != nil && len(sel.FromClause) == 0 {
			return // MERGE … USING (VALUES …) or (SELECT <constants>): the rows are in the statement
		}
		if a.keyBounded(m.JoinCondition, m.Relation) {
			a.scansShort(m.Relation)
			return
		}
		from := "a query"
		if rv := src.GetRangeVar(); rv != nil {
			from = relName(rv)
		}
		a.add("backfill-in-migration", fmt.Sprintf("MERGE INTO %s from %s changes every matching row inside the migration's transaction", relName(m.Relation), from))
	}
}

// keyBounded tells whether a WHERE (or MERGE … ON) condition on target limits the rows by a key range,
// as a batched backfill does: one of its AND-ed conditions compares a key column of target (id, or a
// column of its primary key or a unique index) with constants (=, IN, BETWEEN, < or <=), or picks rows
// with a LIMIT-ed subquery (id IN (SELECT id … LIMIT n), ctid = ANY(ARRAY(SELECT ctid … LIMIT n))).
// A condition without columns (1 = 2, a parameter) counts as bounded.
func (a *analyzer) keyBounded(w *pg_query.Node, target *pg_query.RangeVar) bool {
	if w == nil {
		return false
	}
	if b := w.GetBoolExpr(); b != nil {
		switch b.Boolop {
		case pg_query.BoolExprType_AND_EXPR:
			return slices.ContainsFunc(b.Args, func(x *pg_query.Node) bool { return a.keyBounded(x, target) })
		case pg_query.BoolExprType_OR_EXPR:
			return !slices.ContainsFunc(b.Args, func(x *pg_query.Node) bool { return !a.keyBounded(x, target) })
		}
		return false
	}
	if limitedSubquery(w) {
		return true
	}
	if !hasColumn(w) {
		return !alwaysTrue(w)
	}
	e := w.GetAExpr()
	if e == nil {
		return false
	}
	op := ""
	if len(e.Name) == 1 {
		op = e.Name[0].GetString_().GetSval()
	}
	switch e.Kind {
	case pg_query.A_Expr_Kind_AEXPR_OP:
		switch {
		case a.keyColumn(e.Lexpr, target) && constant(e.Rexpr):
			return op == "=" || op == "<" || op == "<="
		case a.keyColumn(e.Rexpr, target) && constant(e.Lexpr):
			return op == "=" || op == ">" || op == ">="
		}
	case pg_query.A_Expr_Kind_AEXPR_IN, pg_query.A_Expr_Kind_AEXPR_BETWEEN, pg_query.A_Expr_Kind_AEXPR_BETWEEN_SYM:
		return op != "<>" && a.keyColumn(e.Lexpr, target) && constant(e.Rexpr)
	case pg_query.A_Expr_Kind_AEXPR_OP_ANY:
		return op == "=" && a.keyColumn(e.Lexpr, target) && (constant(e.Rexpr) || limitedSubquery(e.Rexpr))
	}
	return false
}

// keyColumn tells whether n is a key column of target: id, ctid, or a column that leads a primary key
// or unique index the state knows. A column qualified by another table's name or alias is not.
func (a *analyzer) keyColumn(n *pg_query.Node, target *pg_query.RangeVar) bool {
	cr := n.GetColumnRef()
	if cr == nil || len(cr.Fields) == 0 {
		return false
	}
	if len(cr.Fields) > 1 {
		q := cr.Fields[len(cr.Fields)-2].GetString_().GetSval()
		if q != target.GetRelname() && q != target.GetAlias().GetAliasname() {
			return false
		}
	}
	col := cr.Fields[len(cr.Fields)-1].GetString_().GetSval()
	if strings.EqualFold(col, "id") || col == "ctid" { // an id column in any letter case, by its name alone
		return true
	}
	if t := a.st.known(a.st.rel(target)); t != nil {
		for _, u := range t.uniques {
			if len(u) > 0 && u[0] == col {
				return true
			}
		}
	}
	return false
}

// constant tells whether an expression names no column and runs no subquery: literals, parameters,
// casts and lists of them.
func constant(n *pg_query.Node) bool {
	return n != nil && !hasColumn(n) && !hasSubLink(n)
}

func hasColumn(n *pg_query.Node) bool {
	found := false
	walk(n, func(m proto.Message) {
		if _, ok := m.(*pg_query.ColumnRef); ok {
			found = true
		}
	})
	return found
}

func hasSubLink(n *pg_query.Node) bool {
	found := false
	walk(n, func(m proto.Message) {
		if _, ok := m.(*pg_query.SubLink); ok {
			found = true
		}
	})
	return found
}

// limitedSubquery tells whether n is a subquery (IN (SELECT …), ARRAY(SELECT …)) with a LIMIT.
func limitedSubquery(n *pg_query.Node) bool {
	sl := n.GetSubLink()
	return sl != nil && sl.Subselect.GetSelectStmt().GetLimitCount() != nil
}

// modifyCTEs judges the data-modifying statements of a WITH clause: they run whatever the outer
// statement does with their rows.
func (a *analyzer) modifyCTEs(w *pg_query.WithClause) {
	for _, c := range w.GetCtes() {
		if q := c.GetCommonTableExpr().GetCtequery(); q != nil {
			a.modify(q)
		}
	}
}

// alwaysTrue tells whether a WHERE clause keeps every row: none, or a constant true condition
// (true, 1 = 1, 'a' = 'a', 't'::boolean, … AND …).
func alwaysTrue(w *pg_query.Node) bool {
	switch {
	case w == nil:
		return true
	case w.GetAConst() != nil:
		return w.GetAConst().GetBoolval().GetBoolval()
	case w.GetTypeCast() != nil:
		tc := w.GetTypeCast()
		if n, _ := typeName(tc.TypeName); n == "bool" || n == "boolean" {
			if c := tc.Arg.GetAConst(); c != nil {
				switch strings.ToLower(c.GetSval().GetSval()) {
				case "t", "true", "y", "yes", "on", "1":
					return true
				}
			}
		}
		return alwaysTrue(tc.Arg)
	case w.GetAExpr() != nil:
		e := w.GetAExpr()
		l, r := e.Lexpr.GetAConst(), e.Rexpr.GetAConst()
		if e.Kind != pg_query.A_Expr_Kind_AEXPR_OP || l == nil || r == nil || len(e.Name) != 1 {
			return false
		}
		same := proto.Equal(withoutLocation(l), withoutLocation(r))
		switch e.Name[0].GetString_().GetSval() {
		case "=", "<=", ">=":
			return same
		}
		return false
	case w.GetBoolExpr() != nil:
		b := w.GetBoolExpr()
		switch b.Boolop {
		case pg_query.BoolExprType_AND_EXPR:
			for _, x := range b.Args {
				if !alwaysTrue(x) {
					return false
				}
			}
			return true
		case pg_query.BoolExprType_OR_EXPR:
			for _, x := range b.Args {
				if alwaysTrue(x) {
					return true
				}
			}
		}
	}
	return false
}

func withoutLocation(c *pg_query.A_Const) *pg_query.A_Const {
	c = proto.Clone(c).(*pg_query.A_Const)
	c.Location = 0
	return c
}
