package lint

import (
	"fmt"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// txEnumValue is a label ALTER TYPE … ADD VALUE added to enum typ (its key) in the open transaction;
// at is the index in out of that statement's enum-add-value finding.
type txEnumValue struct {
	typ, label string
	at         int // -1 for a type the transaction created, which has no finding until a use
	line       int // of the ADD VALUE
}

// usesNewEnumValue makes the enum-add-value finding of a label added earlier in the transaction
// dangerous when statement st uses it: PostgreSQL refuses a value added in the same transaction
// before COMMIT ("unsafe use of new value", SQLSTATE 55P04), so the deploy stops there. A use is the
// label cast to the type ('c'::status), or given as a literal to a column the state knows to be of
// the type: UPDATE … SET col = 'c', INSERT (…, col, …) VALUES (…, 'c', …), a column DEFAULT 'c' (CREATE TABLE,
// ADD COLUMN, ALTER COLUMN … SET DEFAULT).
func (a *analyzer) usesNewEnumValue(st *sqlparse.Statement) {
	for i, v := range a.txEnumValues {
		if v.at < 0 {
			if a.usesLabel(st, v) {
				f := a.add("enum-add-value", fmt.Sprintf("this statement uses '%s', which ALTER TYPE %s ADD VALUE added on line %d of the same transaction: PostgreSQL refuses a new enum value before COMMIT, also of a type the transaction created (unsafe use of new value, SQLSTATE 55P04), so the deploy stops here",
					v.label, bare(v.typ), v.line))
				f.Risk = Dangerous
				f.Suggestion = fmt.Sprintf("put '%s' in the CREATE TYPE's list of labels, or commit between the ADD VALUE and the statements that use it", v.label)
				a.txEnumValues[i].at = len(a.out) - 1
			}
			continue
		}
		if f := &a.out[v.at]; f.Risk != Dangerous && a.usesLabel(st, v) {
			f.Risk = Dangerous
			f.Message = fmt.Sprintf("ALTER TYPE %s ADD VALUE '%s', and line %d of the same transaction uses '%s': PostgreSQL refuses a new enum value before COMMIT (unsafe use of new value, SQLSTATE 55P04), so the deploy stops there",
				bare(v.typ), v.label, st.Pos.Line, v.label)
			f.Suggestion = "commit between them: ADD VALUE in a migration (or transaction) of its own, the statements that use the value after it"
		}
	}
}

// usesLabel tells whether statement st uses label v: in its parse tree, or in the rows of its INSERT's
// VALUES list that the tree leaves out (a data seed's, sqlparse.Statement.ElidedRows), which hold
// literals only and are read as the tree's rows are.
func (a *analyzer) usesLabel(st *sqlparse.Statement, v txEnumValue) bool {
	n := st.Node
	isType := func(t *pg_query.TypeName) bool {
		return t != nil && len(t.ArrayBounds) == 0 && a.st.qual(t.Names) == v.typ
	}
	isLabel := func(n *pg_query.Node) bool {
		c := n.GetAConst()
		return c != nil && c.GetSval() != nil && c.GetSval().Sval == v.label
	}
	// colOfType tells whether column col of relation rv is known to be of the enum.
	colOfType := func(rv *pg_query.RangeVar, col string) bool {
		t := a.st.known(a.st.rel(rv))
		if t == nil {
			return false
		}
		c := t.cols[col]
		return c != nil && c.typ == bare(v.typ)
	}
	// compared tells whether expr compares a column of rv known to be of the enum with the label
	// (col = 'c', 'c' <> col, col IN ('a', 'c')): the label is read as the enum's.
	compared := func(expr *pg_query.Node, rv *pg_query.RangeVar) bool {
		hit := false
		walk(expr, func(m proto.Message) {
			e, ok := m.(*pg_query.A_Expr)
			if !ok || hit {
				return
			}
			col := func(n *pg_query.Node) bool {
				f := n.GetColumnRef().GetFields()
				if len(f) == 0 {
					return false
				}
				s := f[len(f)-1].GetString_()
				return s != nil && colOfType(rv, s.Sval)
			}
			labels := func(n *pg_query.Node) bool {
				if isLabel(n) {
					return true
				}
				for _, item := range n.GetList().GetItems() {
					if isLabel(item) {
						return true
					}
				}
				return false
			}
			hit = col(e.Lexpr) && labels(e.Rexpr) || col(e.Rexpr) && labels(e.Lexpr)
		})
		return hit
	}
	// insertsLabel tells whether a row of INSERT ins gives the label to a column of the enum.
	insertsLabel := func(ins *pg_query.InsertStmt, row []*pg_query.Node) bool {
		for i, val := range row {
			if i < len(ins.Cols) && isLabel(val) && colOfType(ins.Relation, ins.Cols[i].GetResTarget().GetName()) {
				return true
			}
		}
		return false
	}
	found := false
	walk(n, func(m proto.Message) {
		switch x := m.(type) {
		case *pg_query.TypeCast:
			found = found || isType(x.TypeName) && isLabel(x.Arg)
		case *pg_query.ColumnDef:
			if isType(x.TypeName) {
				found = found || x.RawDefault != nil && isLabel(x.RawDefault)
				for _, c := range x.Constraints {
					if k := c.GetConstraint(); k.GetContype() == pg_query.ConstrType_CONSTR_DEFAULT && isLabel(k.GetRawExpr()) {
						found = true
					}
				}
			}
		case *pg_query.UpdateStmt:
			for _, t := range x.TargetList {
				if rt := t.GetResTarget(); rt != nil && isLabel(rt.Val) && colOfType(x.Relation, rt.Name) {
					found = true
				}
			}
			found = found || compared(x.WhereClause, x.Relation)
		case *pg_query.DeleteStmt:
			found = found || compared(x.WhereClause, x.Relation)
		case *pg_query.IndexStmt:
			// A partial index's predicate (WHERE m = 'c'): PostgreSQL coerces the label to the column's type.
			found = found || compared(x.WhereClause, x.Relation)
		case *pg_query.AlterTableStmt:
			// ALTER COLUMN col SET DEFAULT 'c': PostgreSQL coerces the default to the column's type there.
			for _, c := range x.Cmds {
				if cmd := c.GetAlterTableCmd(); cmd.GetSubtype() == pg_query.AlterTableType_AT_ColumnDefault && cmd.Def != nil && isLabel(cmd.Def) && colOfType(x.Relation, cmd.Name) {
					found = true
				}
			}
		case *pg_query.InsertStmt:
			for _, row := range x.SelectStmt.GetSelectStmt().GetValuesLists() {
				found = found || insertsLabel(x, row.GetList().GetItems())
			}
			if x == n.GetInsertStmt() && !found {
				st.ElidedRows(func(row []*pg_query.Node) { found = found || insertsLabel(x, row) })
			}
		}
	})
	return found
}
