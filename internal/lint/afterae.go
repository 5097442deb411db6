package lint

import (
	"slices"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// afterAE judges a statement that runs while its transaction already holds ACCESS EXCLUSIVE on a
// pre-existing relation (statement-after-access-exclusive): the lock stays until COMMIT, and what
// matters is how much longer the statement makes it last. cheap is true when the statement takes no
// lock it may wait for and does no work that grows with the data: it only touches relations the
// transaction holds ACCESS EXCLUSIVE on already, or objects new to the migration, and is one of the
// forms known to stay in the catalog (an ADD COLUMN without a rewrite, a COMMENT, a CREATE TABLE, an
// index on a new table, an UPDATE of a column the migration added by a key lookup, a DROP CONSTRAINT of a
// CHECK, such as the one that proved a SET NOT NULL before it). why says what it
// is, for the message. Anything else, or any doubt, is not cheap: a statement that may wait for a lock
// on another pre-existing relation holds the ACCESS EXCLUSIVE for as long as it waits, and a scan,
// rewrite, backfill, index build or validation for as long as it works.
func (a *analyzer) afterAE(n *pg_query.Node) (cheap bool, why string) {
	if a.st.opaque {
		return false, ""
	}
	switch {
	case n.GetAlterTableStmt() != nil:
		s := n.GetAlterTableStmt()
		if !a.heldOrNew(s.Relation) || !a.onlyRelations(n) {
			return false, ""
		}
		for _, c := range s.Cmds {
			if !a.cheapAlter(a.st.rel(s.Relation), c.GetAlterTableCmd()) {
				return false, ""
			}
		}
		return true, "an ALTER TABLE that changes only the catalog"
	case n.GetCommentStmt() != nil:
		s := n.GetCommentStmt()
		var names []*pg_query.Node
		switch s.Objtype {
		case pg_query.ObjectType_OBJECT_TABLE:
			names = s.Object.GetList().GetItems()
		case pg_query.ObjectType_OBJECT_COLUMN:
			if items := s.Object.GetList().GetItems(); len(items) > 1 {
				names = items[:len(items)-1]
			}
		default:
			return false, ""
		}
		rv := rangeVarOf(names)
		return rv != nil && a.heldOrNew(rv), "a COMMENT"
	case n.GetCreateStmt() != nil:
		s := n.GetCreateStmt()
		if len(s.InhRelations) > 0 || s.Partbound != nil || s.OfTypename != nil {
			return false, ""
		}
		for _, e := range s.TableElts {
			if e.GetTableLikeClause() != nil {
				return false, ""
			}
		}
		// The new table is empty; a FOREIGN KEY locks the table it references, which must be held or new.
		return a.onlyRelations(n, s.Relation), "a CREATE TABLE"
	case n.GetIndexStmt() != nil:
		s := n.GetIndexStmt()
		return !s.Concurrent && s.Relation != nil && a.st.isNew(a.st.rel(s.Relation)) && a.onlyRelations(n), "an index on a table new to the migration"
	case n.GetCreateSeqStmt() != nil:
		for _, o := range n.GetCreateSeqStmt().Options {
			if o.GetDefElem().GetDefname() == "owned_by" {
				return false, ""
			}
		}
		return true, "a CREATE SEQUENCE"
	case n.GetCreateEnumStmt() != nil:
		return true, "a CREATE TYPE"
	case n.GetUpdateStmt() != nil:
		return a.keyUpdate(n.GetUpdateStmt()), "an UPDATE of a column the migration added, by a key lookup"
	}
	return false, ""
}

// cheapAlter tells an ALTER TABLE subcommand that changes only the catalog, on a relation the caller
// checked: ADD COLUMN with no constraint but NULL, NOT NULL with a constant DEFAULT, or a constant
// DEFAULT (PostgreSQL 11+ stores it without a rewrite), of a type that is no serial type and no domain
// with constraints or a DEFAULT that is no constant;
// SET or DROP DEFAULT; DROP NOT NULL; DROP COLUMN without CASCADE of a column no foreign key uses, as
// far as a complete history tells (dropping it drops the foreign key, which takes ACCESS EXCLUSIVE on
// the referenced table). key is the relation's state key.
func (a *analyzer) cheapAlter(key string, c *pg_query.AlterTableCmd) bool {
	if c == nil {
		return false
	}
	switch c.Subtype {
	case pg_query.AlterTableType_AT_ColumnDefault, pg_query.AlterTableType_AT_DropNotNull:
		return true
	case pg_query.AlterTableType_AT_DropConstraint:
		// A CHECK is a catalog row: dropping it takes ACCESS EXCLUSIVE on its table alone, already held,
		// and reads no row (measured on 15). Not one the table's children have too: their copies go with
		// it, under locks of their own.
		t := a.st.known(key)
		return t != nil && a.st.complete && c.Behavior != pg_query.DropBehavior_DROP_CASCADE && t.checks[c.Name] != nil &&
			len(a.st.children(key)) == 0
	case pg_query.AlterTableType_AT_DropColumn:
		t := a.st.known(key)
		if c.Behavior == pg_query.DropBehavior_DROP_CASCADE || !a.st.complete || t == nil {
			return false
		}
		return !a.foreignKeyUses(key, c.Name)
	case pg_query.AlterTableType_AT_AddColumn:
		cd := c.Def.GetColumnDef()
		if cd == nil || a.st.constrainedDomain(cd.TypeName) || cd.RawDefault != nil || cd.CollClause != nil {
			return false
		}
		// serial is a DEFAULT nextval(…) that fills every row, and a domain's volatile DEFAULT fills
		// them as one written on the column would: both rewrite the table.
		if typ, _ := typeName(cd.TypeName); serialTypes[typ] {
			return false
		}
		if def := a.st.domainDefault(cd.TypeName); def != nil && !literal(def) {
			return false
		}
		hasDefault, notNull := false, false
		for _, cn := range cd.Constraints {
			con := cn.GetConstraint()
			switch {
			case con == nil:
				return false
			case con.Contype == pg_query.ConstrType_CONSTR_NULL:
			case con.Contype == pg_query.ConstrType_CONSTR_NOTNULL:
				notNull = true
			case con.Contype == pg_query.ConstrType_CONSTR_DEFAULT && literal(con.RawExpr) && a.cfg.Major() >= 11:
				hasDefault = true
			default:
				return false
			}
		}
		return !notNull || hasDefault
	}
	return false
}

// literal tells an expression that is a constant, or a constant cast to a type.
func literal(n *pg_query.Node) bool {
	if tc := n.GetTypeCast(); tc != nil {
		n = tc.Arg
	}
	return n.GetAConst() != nil
}

// keyUpdate tells an UPDATE of a relation the transaction holds ACCESS EXCLUSIVE on that sets only
// columns the migration added (no foreign key uses them: its check of the referenced row may wait) to constants,
// picking rows by a key column equal to a constant: it reads a few rows by an index. Not one with a
// FROM, a WITH, a subquery or a function call (what the function does is not seen), nor one of a
// table the history gives a trigger.
func (a *analyzer) keyUpdate(s *pg_query.UpdateStmt) bool {
	if s.Relation == nil || len(s.FromClause) > 0 || s.WithClause != nil || s.WhereClause == nil || !a.heldAE(s.Relation) {
		return false
	}
	key := a.st.rel(s.Relation)
	if len(a.st.triggers[key]) > 0 {
		return false
	}
	calls := false
	walk(s, func(m proto.Message) {
		switch m.(type) {
		case *pg_query.FuncCall, *pg_query.SubLink:
			calls = true
		}
	})
	if calls {
		return false
	}
	for _, t := range s.TargetList {
		rt := t.GetResTarget()
		if rt == nil || len(rt.Indirection) > 0 || !literal(rt.Val) || !a.txNewCols[colKey(key, rt.Name)] || a.foreignKeyUses(key, rt.Name) {
			return false
		}
	}
	terms := []*pg_query.Node{s.WhereClause}
	if b := s.WhereClause.GetBoolExpr(); b != nil && b.Boolop == pg_query.BoolExprType_AND_EXPR {
		terms = b.Args
	}
	for _, t := range terms {
		e := t.GetAExpr()
		if e == nil || e.Kind != pg_query.A_Expr_Kind_AEXPR_OP || len(e.Name) != 1 || e.Name[0].GetString_().GetSval() != "=" {
			continue
		}
		col, val := e.Lexpr.GetColumnRef(), e.Rexpr
		if col == nil {
			col, val = e.Rexpr.GetColumnRef(), e.Lexpr
		}
		if col != nil && literal(val) && a.isKeyColumn(key, lastField(col)) {
			return true
		}
	}
	return false
}

// isKeyColumn tells whether col alone is a unique key of table key: its primary key or a unique
// index, as far as the state knows, or id when it knows none (a lone migration, whose history it
// does not see).
func (a *analyzer) isKeyColumn(key, col string) bool {
	t := a.st.known(key)
	if t == nil || len(t.uniques) == 0 && !a.st.complete {
		return col == "id"
	}
	for _, u := range t.uniques {
		if len(u) == 1 && u[0] == col {
			return true
		}
	}
	return false
}

// lastField is the column a ColumnRef names (its last field), "" for *.
func lastField(c *pg_query.ColumnRef) string {
	if len(c.Fields) == 0 {
		return ""
	}
	return c.Fields[len(c.Fields)-1].GetString_().GetSval()
}

// rangeVarOf is the relation a dotted name list (COMMENT ON's) names.
func rangeVarOf(names []*pg_query.Node) *pg_query.RangeVar {
	parts := make([]string, 0, len(names))
	for _, n := range names {
		s := n.GetString_()
		if s == nil {
			return nil
		}
		parts = append(parts, s.Sval)
	}
	switch len(parts) {
	case 1:
		return &pg_query.RangeVar{Relname: parts[0], Inh: true, Relpersistence: "p"}
	case 2:
		return &pg_query.RangeVar{Schemaname: parts[0], Relname: parts[1], Inh: true, Relpersistence: "p"}
	}
	return nil
}

// heldAE tells whether the transaction holds ACCESS EXCLUSIVE on relation rv.
func (a *analyzer) heldAE(rv *pg_query.RangeVar) bool {
	return rv != nil && a.txAEKeys[a.st.rel(rv)]
}

// heldOrNew tells whether relation rv is one the transaction holds ACCESS EXCLUSIVE on, or one new to
// the migration: a statement on it waits for no other session.
func (a *analyzer) heldOrNew(rv *pg_query.RangeVar) bool {
	return rv != nil && (a.heldAE(rv) || a.st.isNew(a.st.rel(rv)))
}

// onlyRelations tells whether every relation statement n names is held or new (heldOrNew), but the
// one it creates, when it creates one.
func (a *analyzer) onlyRelations(n *pg_query.Node, creates ...*pg_query.RangeVar) bool {
	ok := true
	walk(n, func(m proto.Message) {
		if rv, is := m.(*pg_query.RangeVar); is && (len(creates) == 0 || rv != creates[0]) && !a.heldOrNew(rv) {
			ok = false
		}
	})
	return ok
}

// noteAddedColumns records the columns an ALTER TABLE of the migration adds (see keyUpdate), but those
// a foreign key uses, its own REFERENCES or a FOREIGN KEY the migration adds later: an UPDATE that sets
// one checks the referenced row FOR KEY SHARE, which waits for a session that updates or deletes it.
func (a *analyzer) noteAddedColumns(n *pg_query.Node) {
	s := n.GetAlterTableStmt()
	if s == nil || s.Relation == nil {
		return
	}
	key := a.st.rel(s.Relation)
	for _, c := range s.Cmds {
		cmd := c.GetAlterTableCmd()
		switch {
		case cmd.GetSubtype() == pg_query.AlterTableType_AT_AddColumn && cmd.Def.GetColumnDef() != nil:
			cd := cmd.Def.GetColumnDef()
			a.txNewCols[colKey(key, cd.Colname)] = len(foreignKeyRefs(cd.Constraints)) == 0
		case cmd.GetSubtype() == pg_query.AlterTableType_AT_AddConstraint && cmd.Def.GetConstraint().GetContype() == pg_query.ConstrType_CONSTR_FOREIGN:
			for _, col := range colNames(cmd.Def.GetConstraint().FkAttrs) {
				delete(a.txNewCols, colKey(key, col))
			}
		}
	}
}

// foreignKeyUses tells whether a foreign key of table key the state knows uses column col.
func (a *analyzer) foreignKeyUses(key, col string) bool {
	t := a.st.known(key)
	if t == nil {
		return false
	}
	for _, kc := range t.constraints {
		if kc.ref != "" && slices.Contains(kc.cols, col) {
			return true
		}
	}
	return false
}
