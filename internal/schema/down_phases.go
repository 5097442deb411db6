package schema

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

func (g *downGen) markCreated(kind, key string) { g.created[kind+"\x00"+key] = true }

func (g *downGen) wasCreated(kind, key string) bool { return g.created[kind+"\x00"+key] }

// rebuiltTables are tables kept by the down whose columns change type, collation or generation
// expression, or that had a column the up added moved out of the way of one renamed back: views that
// read them must be dropped and re-created around the change.
func (g *downGen) rebuiltTables() map[string]bool {
	out := map[string]bool{}
	for k := range g.asideTables {
		out[k] = true
	}
	for k, t := range g.a.Tables {
		bt := g.b.Tables[k]
		if bt == nil {
			continue
		}
		for _, c := range t.Columns {
			bc := bt.Column(c.Name)
			if bc != nil && (bc.Type != c.Type || bc.Collation != c.Collation || bc.Generated != c.Generated) {
				out[k] = true
			}
		}
	}
	return out
}

func constraintChanged(x, bx *Constraint) bool {
	return x.Definition != bx.Definition || x.Type != bx.Type || x.Deferrable != bx.Deferrable ||
		x.Deferred != bx.Deferred || (x.Validated && !bx.Validated)
}

func viewChanged(v, bv *View) bool {
	return v.Definition != bv.Definition || v.Materialized != bv.Materialized || !slices.Equal(v.Columns, bv.Columns)
}

// dropDependents drops the triggers, policies, views, constraints and indexes of the after-catalog
// that the before-catalog does not have (or has differently), on relations the down keeps.
func (g *downGen) dropDependents() {
	a, b := g.a, g.b
	keptRel := func(q string) bool { return b.relation(q) != "" && a.relation(q) != "" }
	rebuilt := g.rebuiltTables()
	for k, v := range a.Views {
		if bv := b.Views[k]; bv == nil || viewChanged(v, bv) {
			g.dropViews[k] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for k, v := range a.Views {
			if g.dropViews[k] {
				continue
			}
			for _, d := range v.DependsOn {
				if rebuilt[d] || g.dropViews[d] || a.Tables[d] != nil && (b.Tables[d] == nil || g.replacedTable(d)) {
					g.dropViews[k] = true
					changed = true
					break
				}
			}
		}
	}
	keptRelAfterViews := func(q string) bool { return keptRel(q) && !g.dropViews[q] }
	g.dropViewRules()
	g.dropTableRules()

	for _, k := range sortedKeys(a.Triggers) {
		x := a.Triggers[k]
		if !keptRelAfterViews(x.QTable()) {
			continue
		}
		if bx := b.Triggers[k]; bx == nil || bx.Definition != x.Definition {
			g.dropTrg[k] = true
			g.add(fmt.Sprintf("drop trigger %s on %s", x.Name, display(x.QTable())), dropTriggerSQL(x))
		}
	}
	for _, k := range sortedKeys(a.Policies) {
		x := a.Policies[k]
		if !keptRel(x.QTable()) {
			continue
		}
		// A policy's expressions block a change of type of the columns they use.
		if bx := b.Policies[k]; bx == nil || policySummary(bx) != policySummary(x) || rebuilt[x.QTable()] {
			g.dropPol[k] = true
			g.add(fmt.Sprintf("drop policy %s on %s", x.Name, display(x.QTable())), dropPolicySQL(x))
		}
	}
	var views []string
	for k := range g.dropViews {
		views = append(views, k)
	}
	views = orderRelations(views, func(k string) []string { return a.Views[k].DependsOn })
	slices.Reverse(views)
	for _, k := range views {
		v := a.Views[k]
		g.add(fmt.Sprintf("drop %s %s", strings.ToLower(kindOfView(v)), display(k)), dropViewSQL(v))
	}

	for _, k := range sortedKeys(a.Constraints) {
		x := a.Constraints[k]
		if x.Inherited || !keptRel(x.QTable()) {
			continue
		}
		if bx := b.Constraints[k]; bx == nil || constraintChanged(x, bx) {
			g.dropCons[k] = true
		}
	}
	// A key or unique constraint cannot go while foreign keys use it: drop and re-create those too.
	for k, x := range a.Constraints {
		if (x.Type == "p" || x.Type == "u") && g.dropCons[k] {
			for fk, f := range a.Constraints {
				if f.Type == "f" && f.References == x.QTable() && keptRel(f.QTable()) && !f.Inherited {
					g.dropCons[fk] = true
				}
			}
		}
	}
	for _, foreign := range []bool{true, false} {
		for _, k := range sortedKeys(g.dropCons) {
			x := a.Constraints[k]
			if (x.Type == "f") == foreign {
				g.add(fmt.Sprintf("drop constraint %s on %s", KeyPart(x.Name), display(x.QTable())), dropConstraintSQL(x))
			}
		}
	}
	for _, k := range sortedKeys(a.Indexes) {
		x := a.Indexes[k]
		if x.Constraint != "" || x.Inherited || !keptRelAfterViews(x.QTable()) {
			continue
		}
		if bx := b.Indexes[k]; bx == nil || bx.Definition != x.Definition || bx.Constraint != "" {
			g.dropIdx[k] = true
			// Without CONCURRENTLY, DROP INDEX takes ACCESS EXCLUSIVE on the table, which waits for every
			// query on it and holds up every one after: the rollback of a CREATE INDEX CONCURRENTLY would
			// do what the up was written to avoid. As re-created indexes are built concurrently (see
			// createDependents), one on a table the down keeps is dropped so when the down may run
			// outside a transaction block; never on a partitioned table (PostgreSQL refuses it there), nor
			// on one the down drops and creates again anyway.
			rel := x.QTable()
			concurrent := !g.opts.InTransaction && !rebuilt[rel] && !g.replacedTable(rel) &&
				(a.Tables[rel] != nil && !a.Tables[rel].Partitioned || a.Views[rel] != nil && a.Views[rel].Materialized)
			sql := "DROP INDEX " + qkey(k)
			if concurrent {
				sql = "DROP INDEX CONCURRENTLY " + qkey(k)
			}
			g.add("drop index "+display(k), sql).NoTransaction = concurrent
		}
	}
}

func kindOfView(v *View) string {
	if v.Materialized {
		return KindMaterializedView
	}
	return KindView
}

// dropTablesAndColumns drops the tables and columns the up added and undoes column properties that
// would stand in the way of restoring types and functions (defaults, identity, generation). A table the
// up turned into a foreign one, or the other way round, is dropped to be created again, and a table the
// up made typed (or typed by another type) is made a plain one.
func (g *downGen) dropTablesAndColumns() {
	a, b := g.a, g.b
	// Foreign tables first: one may inherit from a table the up added.
	for _, foreign := range []bool{true, false} {
		var names, shown, replaced []string
		for _, k := range sortedKeys(a.Tables) {
			if a.Tables[k].Foreign() != foreign {
				continue
			}
			switch {
			case g.replacedTable(k):
				replaced = append(replaced, k)
			case b.Tables[k] == nil:
				names, shown = append(names, qkey(k)), append(shown, display(k))
			}
		}
		word := KindTable
		if foreign {
			word = KindForeignTable
		}
		if len(names) > 0 {
			g.add("drop "+word+" "+strings.Join(shown, ", ")+" (added by the up)", "DROP "+strings.ToUpper(word)+" "+strings.Join(names, ", "))
		}
		for _, k := range replaced {
			g.add(fmt.Sprintf("drop %s %s to create it again as a %s", word, display(k), b.Tables[k].kind()),
				"DROP "+strings.ToUpper(word)+" "+qkey(k))
			delete(a.Tables, k)
		}
	}
	for _, k := range sortedKeys(a.Tables) {
		t, bt := a.Tables[k], b.Tables[k]
		if bt == nil {
			continue
		}
		if t.OfType != "" && t.OfType != bt.OfType {
			g.add(fmt.Sprintf("make %s a table of no type (the up made it of type %s)", display(k), t.OfType), "ALTER TABLE "+qkey(k)+" NOT OF")
			t.OfType = ""
		}
		if t.PartitionOf != "" && (t.PartitionOf != bt.PartitionOf || t.PartitionBound != bt.PartitionBound) {
			g.add(fmt.Sprintf("detach partition %s from %s", display(k), display(t.PartitionOf)),
				"ALTER TABLE "+qkey(t.PartitionOf)+" DETACH PARTITION "+qkey(k))
			g.dropAttachClones(k)
		}
		for _, p := range t.Inherits {
			if !slices.Contains(bt.Inherits, p) {
				g.add(fmt.Sprintf("stop %s inheriting from %s", display(k), display(p)), "ALTER TABLE "+qkey(k)+" NO INHERIT "+qkey(p))
			}
		}
		for _, c := range t.Columns {
			if c.Inherited {
				continue // the parent's column: it changes with the parent
			}
			bc := bt.Column(c.Name)
			alter := "ALTER TABLE " + qkey(k) + " ALTER COLUMN " + Ident(c.Name) + " "
			where := display(subKey(k, c.Name))
			switch {
			case bc == nil && t.OfType != "":
				continue // a typed table's column: it changes with the type
			case bc == nil:
				g.add("drop column "+where+" (added by the up)", "ALTER TABLE "+qkey(k)+" DROP COLUMN "+Ident(c.Name))
				continue
			case bc.Generated != "" && bc.Generated != c.Generated && g.setsExpression(c, bc):
				// In place: the column keeps its place, its statistics, privileges and what depends on
				// it (an index, a view), which a drop would take with it. Once the routines the up
				// dropped are back when the expression calls one (restoreColumns); else now, before the
				// routines the new expression calls are dropped.
				if !namesWord(bc.Generated, g.routinesDropped()) {
					g.add("set the expression of generated column "+where+" back", alter+"SET EXPRESSION AS ("+bc.Generated+")")
					g.exprSet[subKey(k, c.Name)] = true
				}
				continue
			case bc.Generated != "" && bc.Generated != c.Generated:
				g.regenCols[subKey(k, c.Name)] = true
				g.add("drop column "+where+" to re-add it as a generated column", "ALTER TABLE "+qkey(k)+" DROP COLUMN "+Ident(c.Name))
				continue
			}
			if c.Identity != "" && bc.Identity == "" {
				g.add("drop identity of "+where, alter+"DROP IDENTITY")
			}
			if c.Default != "" && c.Default != bc.Default {
				g.add("drop default of "+where, alter+"DROP DEFAULT")
			}
			if c.Generated != "" && bc.Generated == "" {
				g.add("make "+where+" a plain column", alter+"DROP EXPRESSION")
			}
		}
	}
	for _, k := range sortedKeys(a.Functions) {
		f, bf := a.Functions[k], b.Functions[k]
		if bf != nil && f.Range == nil && bf.Range == nil && bf.Definition != f.Definition && (bf.Result != f.Result || bf.Kind != f.Kind) {
			g.add("drop "+strings.ToLower(functionKeyword(f))+" "+display(k)+" to re-create it with its old result",
				"DROP "+functionRef(f))
			delete(a.Functions, k)
		}
	}
}

// dropAttachClones drops, right after the DETACH of partition k, what ATTACH PARTITION made on it for
// its parent: an index of the parent's partitioned indexes the partition had no match for (ev_old_at_idx
// for ev_at_idx), a key or unique constraint with its index, and a clone of a foreign key. DETACH keeps
// them all, as the partition's own (PostgreSQL 15: DetachPartitionFinalize), where the up found none;
// it drops only the cloned triggers. Before the DETACH they could not go ("cannot drop index
// ev_old_at_idx because index ev_at_idx requires it"), so the drop of indexes and constraints passes
// them over (they are Inherited). Whatever existed before the up, the partition's own index or CHECK
// constraint that the ATTACH took as the parent's, is the partition's again and stays.
func (g *downGen) dropAttachClones(k string) {
	a, b := g.a, g.b
	for _, foreign := range []bool{true, false} {
		for _, ck := range sortedKeys(a.Constraints) {
			x := a.Constraints[ck]
			if x.QTable() != k || !x.Inherited || (x.Type == "f") != foreign || b.Constraints[ck] != nil {
				continue
			}
			g.dropCons[ck] = true
			g.add(fmt.Sprintf("drop constraint %s on %s (made by the attach)", KeyPart(x.Name), display(k)), dropConstraintSQL(x))
		}
	}
	for _, ik := range sortedKeys(a.Indexes) {
		x := a.Indexes[ik]
		if x.QTable() != k || !x.Inherited || x.Constraint != "" || b.Indexes[ik] != nil {
			continue
		}
		g.dropIdx[ik] = true
		g.add("drop index "+display(ik)+" (made by the attach)", "DROP INDEX "+qkey(ik))
	}
}

// restoreColumns takes the columns of kept tables back to their old type, default, identity and
// nullability, and re-adds the columns the up dropped (empty: data loss).
func (g *downGen) restoreColumns() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(b.Tables) {
		bt, t := b.Tables[k], a.Tables[k]
		if t == nil {
			continue
		}
		for _, bc := range bt.Columns {
			c := t.Column(bc.Name)
			if bc.Inherited || c != nil && c.Inherited {
				continue
			}
			where := display(subKey(k, bc.Name))
			if t.OfType != "" && (c == nil || c.Type != bc.Type || c.Collation != bc.Collation) {
				continue // a typed table's column: it changes with the type
			}
			if c == nil || g.regenCols[subKey(k, bc.Name)] {
				// A NOT NULL column without a default cannot be added to a table that has rows: add it
				// nullable and say what the separate SET NOT NULL needs.
				later := c == nil && bc.NotNull && bc.Default == "" && bc.Identity == "" && bc.Generated == ""
				def := *bc
				def.NotNull = bc.NotNull && !later
				st := g.add("re-add column "+where, "ALTER TABLE "+qkey(k)+" ADD COLUMN "+Ident(bc.Name)+" "+columnSummary(&def))
				if c == nil && !bt.Foreign() {
					st.DataLoss = true
					st.Comment = "re-add column " + where + " (its values are lost: it comes back empty or with its default)"
				}
				if later {
					g.add("make "+where+" NOT NULL again (fails while rows have no value: fill them from the snapshot first)",
						"ALTER TABLE "+qkey(k)+" ALTER COLUMN "+Ident(bc.Name)+" SET NOT NULL")
				}
				g.markCreated(KindColumn, subKey(k, bc.Name))
				continue
			}
			alter := "ALTER TABLE " + qkey(k) + " ALTER COLUMN " + Ident(bc.Name) + " "
			if bc.Generated != "" && bc.Generated != c.Generated && g.setsExpression(c, bc) && !g.exprSet[subKey(k, bc.Name)] {
				g.add("set the expression of generated column "+where+" back", alter+"SET EXPRESSION AS ("+bc.Generated+")")
			}
			if c.Type != bc.Type && c.Identity != "" && bc.Identity != "" {
				// The identity sequence takes the column's type: its options first where it narrows it.
				g.identityOptionsBefore(bt, bc, c, identitySequenceType(c), bc.Type)
			}
			if c.Type != bc.Type || c.Collation != bc.Collation {
				s := alter + "TYPE " + bc.Type
				if bc.Collation != "" {
					s += " COLLATE " + bc.Collation
				}
				lossless := c.Type == bc.Type || g.keepsValues(bc.Type, c.Type)
				if c.Type != bc.Type && !widening(bc.Type, c.Type) {
					s += " USING " + Ident(bc.Name) + "::" + bc.Type
				}
				// A widening is undone by the assignment cast back, which fails on a value that does not
				// fit instead of cutting it (an explicit ::varchar(20) would truncate).
				st := g.add(fmt.Sprintf("change %s back to %s", where, bc.Type), s)
				if c.Type != bc.Type && widening(bc.Type, c.Type) {
					g.warns = append(g.warns, fmt.Sprintf("the down narrows %s back from %s to %s: it rewrites the table under ACCESS EXCLUSIVE, and fails on a value written since the up that does not fit", where, c.Type, bc.Type))
				}
				if c.Type != bc.Type && !widening(bc.Type, c.Type) && charType(bc.Type) && !charWidened(c.Type, bc.Type) {
					g.warns = append(g.warns, fmt.Sprintf("the down narrows %s back from %s to %s with an explicit cast: "+
						"PostgreSQL truncates a value that does not fit a %s silently (it does not fail), so longer values written since the up are cut", where, c.Type, bc.Type, bc.Type))
				}
				if !lossless {
					st.DataLoss = true
					st.converted = true
					st.Comment = fmt.Sprintf("change %s back to %s (the up converted its values to %s: they may not come back as they were)", where, bc.Type, c.Type)
				}
			}
			if bc.Default != "" && bc.Default != c.Default {
				g.add("restore default of "+where, alter+"SET DEFAULT "+bc.Default)
			}
			if bc.NotNull && !c.NotNull {
				g.add("make "+where+" NOT NULL again", alter+"SET NOT NULL")
			}
			switch {
			case bc.Identity != "" && c.Identity == "":
				opts := ""
				if bc.IdentityOptions != "" {
					opts = " (" + bc.IdentityOptions + ")"
				}
				g.add("make "+where+" an identity column again", alter+"ADD GENERATED "+strings.ToUpper(bc.Identity)+" AS IDENTITY"+opts)
			case bc.Identity != "" && c.Identity != bc.Identity:
				g.add("restore identity kind of "+where, alter+"SET GENERATED "+strings.ToUpper(bc.Identity))
			}
			if !bc.NotNull && c.NotNull {
				g.add("make "+where+" nullable again", alter+"DROP NOT NULL")
			}
		}
	}
}

// createTables re-creates the tables the up dropped (empty: data loss), parents before partitions.
func (g *downGen) createTables() {
	a, b := g.a, g.b
	var keys []string
	for k := range b.Tables {
		if a.Tables[k] == nil {
			keys = append(keys, k)
		}
	}
	keys = orderRelations(keys, func(k string) []string {
		if p := b.Tables[k].PartitionOf; p != "" {
			return []string{p}
		}
		return b.Tables[k].Inherits
	})
	for _, k := range keys {
		if b.Tables[k].Foreign() {
			// Its rows live on the foreign server.
			g.add("re-create foreign table "+display(k), createTableSQL(b.Tables[k]))
		} else {
			st := g.add("re-create table "+display(k)+" (its rows are lost: it comes back empty)", createTableSQL(b.Tables[k]))
			st.DataLoss = true
		}
		g.markCreated(KindTable, k)
		g.markCreated(b.Tables[k].kind(), k) // for what names its kind (comments)
		for _, c := range b.Tables[k].Columns {
			g.markCreated(KindColumn, subKey(k, c.Name))
		}
	}
	for _, k := range sortedKeys(b.Tables) {
		bt, t := b.Tables[k], a.Tables[k]
		if t != nil && t.Unlogged != bt.Unlogged {
			mode := "LOGGED"
			if bt.Unlogged {
				mode = "UNLOGGED"
			}
			g.add("make "+display(k)+" "+strings.ToLower(mode)+" again", "ALTER TABLE "+qkey(k)+" SET "+mode)
		}
		if t != nil && t.PartitionKey != bt.PartitionKey {
			g.irreversible(fmt.Sprintf("table %s is partitioned by %q, was %q: a partition key cannot be changed in place",
				display(k), t.PartitionKey, bt.PartitionKey))
		}
		for _, p := range bt.Inherits {
			if t != nil && !slices.Contains(t.Inherits, p) {
				g.add(fmt.Sprintf("make %s inherit from %s again", display(k), display(p)), "ALTER TABLE "+qkey(k)+" INHERIT "+qkey(p))
			}
		}
		if t != nil && bt.PartitionOf != "" && (t.PartitionOf != bt.PartitionOf || t.PartitionBound != bt.PartitionBound) {
			g.add(fmt.Sprintf("attach %s again as a partition of %s", display(k), display(bt.PartitionOf)),
				"ALTER TABLE "+qkey(bt.PartitionOf)+" ATTACH PARTITION "+qkey(k)+" "+bt.PartitionBound)
		}
		// Once its columns are back: they must be the type's, in order.
		if bt.OfType != "" && (t == nil || t.OfType != bt.OfType) {
			g.add(fmt.Sprintf("make %s a table of type %s again", display(k), bt.OfType), "ALTER TABLE "+qkey(k)+" OF "+bt.OfType)
		}
	}
	g.inheritedLocally()
	for _, k := range sortedKeys(b.Tables) {
		bt, t := b.Tables[k], a.Tables[k]
		if bt.RowSecurity && (t == nil || !t.RowSecurity) {
			g.add("enable row level security on "+display(k), "ALTER TABLE "+qkey(k)+" ENABLE ROW LEVEL SECURITY")
		} else if !bt.RowSecurity && t != nil && t.RowSecurity {
			g.add("disable row level security on "+display(k), "ALTER TABLE "+qkey(k)+" DISABLE ROW LEVEL SECURITY")
		}
	}
	for _, k := range sortedKeys(b.Sequences) {
		s, as := b.Sequences[k], a.Sequences[k]
		if (as == nil && s.OwnedBy != "") || (as != nil && as.OwnedBy != s.OwnedBy) {
			g.add("restore the owner of sequence "+display(k), ownedBySQL(s))
		}
	}
}

// inheritedLocally says what of the kept inheritance children no statement restores: a column or
// CHECK constraint that came only from the parents and is now declared on the child too
// (pg_attribute.attislocal, pg_constraint.conislocal: ALTER TABLE ... NO INHERIT leaves every inherited
// one so, and INHERIT again does not undo it), so that dropping the parent's no longer drops it; or the
// other way round. Only re-creating the child would. A partition's follow ATTACH PARTITION, and what
// was declared on the child alone comes back once the down has taken its parents away.
func (g *downGen) inheritedLocally() {
	a, b := g.a, g.b
	word := func(inherited bool) string {
		if inherited {
			return "inherited only"
		}
		return "declared locally"
	}
	for _, k := range sortedKeys(b.Tables) {
		bt, t := b.Tables[k], a.Tables[k]
		if t == nil || g.wasCreated(KindTable, k) || bt.PartitionOf != "" {
			continue
		}
		for _, bc := range bt.Columns {
			c := t.Column(bc.Name)
			if c == nil || c.Inherited == bc.Inherited || !bc.Inherited && bc.InheritCount == 0 {
				continue
			}
			g.irreversible(fmt.Sprintf("not restored: column %s is %s, was %s; no statement changes that (re-create table %s to restore it)",
				display(subKey(k, bc.Name)), word(c.Inherited), word(bc.Inherited), display(k)))
		}
	}
	for _, k := range sortedKeys(b.Constraints) {
		bx, x := b.Constraints[k], a.Constraints[k]
		bt := b.Tables[bx.QTable()]
		if x == nil || bt == nil || a.Tables[bx.QTable()] == nil || g.wasCreated(KindTable, bx.QTable()) || bt.PartitionOf != "" ||
			g.wasCreated(KindConstraint, k) || g.dropCons[k] || x.Inherited == bx.Inherited || !bx.Inherited && bx.InheritCount == 0 {
			continue
		}
		g.irreversible(fmt.Sprintf("not restored: constraint %s on %s is %s, was %s; no statement changes that (re-create table %s to restore it)",
			bx.Name, display(bx.QTable()), word(x.Inherited), word(bx.Inherited), display(bx.QTable())))
	}
}

// createDependents re-creates constraints, views, indexes, triggers and policies.
func (g *downGen) createDependents() {
	a, b := g.a, g.b
	for _, foreign := range []bool{false, true} {
		for _, k := range sortedKeys(b.Constraints) {
			x := b.Constraints[k]
			if x.Inherited || (x.Type == "f") != foreign {
				continue
			}
			if a.Constraints[k] == nil || g.dropCons[k] || g.wasCreated(KindTable, x.QTable()) {
				g.add(fmt.Sprintf("re-create constraint %s on %s", KeyPart(x.Name), display(x.QTable())), addConstraintSQL(x))
				g.markCreated(KindConstraint, k)
			}
		}
	}
	for _, k := range sortedKeys(b.Constraints) {
		x, ax := b.Constraints[k], a.Constraints[k]
		if !g.wasCreated(KindConstraint, k) && ax != nil && x.Validated && !ax.Validated && !x.Inherited {
			g.add(fmt.Sprintf("validate constraint %s on %s again", x.Name, display(x.QTable())),
				"ALTER TABLE "+constraintOwner(x)+" VALIDATE CONSTRAINT "+Ident(x.Name))
		}
	}
	var views []string
	for k := range b.Views {
		if a.Views[k] == nil || g.dropViews[k] {
			views = append(views, k)
		}
	}
	views = orderRelations(views, func(k string) []string { return b.Views[k].DependsOn })
	for _, k := range views {
		v := b.Views[k]
		g.add(fmt.Sprintf("re-create %s %s", kindOfView(v), display(k)), createViewSQL(v))
		g.markCreated(kindOfView(v), k)
	}
	g.createViewRules()
	g.createTableRules()
	for _, k := range sortedKeys(b.Indexes) {
		x := b.Indexes[k]
		if x.Constraint != "" || x.Inherited {
			continue
		}
		rel := x.QTable()
		fresh := g.wasCreated(KindTable, rel) || g.wasCreated(KindView, rel) || g.wasCreated(KindMaterializedView, rel)
		if a.Indexes[k] != nil && !g.dropIdx[k] && !fresh {
			continue
		}
		concurrent := !fresh && !(b.Tables[rel] != nil && b.Tables[rel].Partitioned) && !g.opts.InTransaction
		st := g.add("re-create index "+display(k), createIndexSQL(x, concurrent))
		st.NoTransaction = concurrent
		if !x.Valid {
			g.warns = append(g.warns, fmt.Sprintf("index %s was invalid before the up; the down builds it valid", display(k)))
		}
		g.markCreated(KindIndex, k)
	}
	for _, k := range sortedKeys(b.Triggers) {
		x := b.Triggers[k]
		rel := x.QTable()
		fresh := g.wasCreated(KindTable, rel) || g.wasCreated(KindView, rel) || g.wasCreated(KindMaterializedView, rel)
		ax := a.Triggers[k]
		if ax == nil || g.dropTrg[k] || fresh {
			g.add(fmt.Sprintf("re-create trigger %s on %s", x.Name, display(rel)), createTriggerSQL(x))
			g.markCreated(KindTrigger, k)
			if x.Enabled != "O" {
				g.add(fmt.Sprintf("restore the enabled state of trigger %s on %s", x.Name, display(rel)), triggerEnableSQL(x))
			}
		} else if ax.Enabled != x.Enabled {
			g.add(fmt.Sprintf("restore the enabled state of trigger %s on %s", x.Name, display(rel)), triggerEnableSQL(x))
		}
	}
	for _, k := range sortedKeys(b.Policies) {
		x := b.Policies[k]
		if a.Policies[k] == nil || g.dropPol[k] || g.wasCreated(KindTable, x.QTable()) {
			g.markCreated(KindPolicy, k)
			g.add(fmt.Sprintf("re-create policy %s on %s", x.Name, display(x.QTable())), createPolicySQL(x))
		}
	}
}

// keepsValues tells whether the up's change of a column from type from to type to kept its values, so
// that the down's cast back restores them: a widening (see widening); a narrowing between character
// types, which fails rather than cuts unless the up cast explicitly (USING col::varchar(10)); an enum to
// or from text (the labels); a domain to or from its base type.
func (g *downGen) keepsValues(from, to string) bool {
	if widening(from, to) || (stringType(from) && stringType(to)) {
		return true
	}
	if (g.isEnum(from) && stringType(to)) || (stringType(from) && g.isEnum(to)) {
		return true
	}
	if base, ok := g.domainBase(from); ok && (base == to || widening(base, to)) {
		return true
	}
	if base, ok := g.domainBase(to); ok && (base == from || widening(from, base)) {
		return true
	}
	return false
}

// baseTypeName is type t without its array brackets.
func baseTypeName(t string) string {
	for {
		s, ok := strings.CutSuffix(t, "[]")
		if !ok {
			return t
		}
		t = s
	}
}

// charType tells character(n) (bpchar), which an explicit cast pads or cuts silently.
func charType(t string) bool {
	name, _ := typeMods(t)
	return name == "character" || name == "bpchar"
}

// charWidened tells whether character type from is no longer than to: casting from to to cuts nothing.
func charWidened(from, to string) bool {
	_, fm := typeMods(from)
	_, tm := typeMods(to)
	return charType(from) && len(fm) == 1 && len(tm) == 1 && fm[0] <= tm[0]
}

// stringType tells text and character varying, bounded or not.
func stringType(t string) bool {
	name, _ := typeMods(t)
	return name == "text" || name == "character varying"
}

// typeKey is the catalog key of a type as format_type writes it (status, public.status, "My Type",
// "a.b".status).
func typeKey(t string) string { return sqlNameKey(t) }

func (g *downGen) isEnum(t string) bool {
	k := typeKey(t)
	return g.a.Enums[k] != nil || g.b.Enums[k] != nil
}

func (g *downGen) domainBase(t string) (string, bool) {
	k := typeKey(t)
	for _, c := range []*Catalog{g.b, g.a} {
		if d := c.Domains[k]; d != nil {
			return d.BaseType, true
		}
	}
	return "", false
}

// widening tells whether changing a column from type from to type to keeps every value exactly, so
// that casting back restores it: a wider integer or float, numeric with room for as many digits on
// each side of the point, character varying longer or unbounded. Anything else (text to integer with
// USING, numeric with fewer decimals, char to text, json to jsonb, timestamp to timestamptz) may have
// changed values, which no down can bring back.
func widening(from, to string) bool {
	fromBase, fromArr := strings.CutSuffix(from, "[]")
	toBase, toArr := strings.CutSuffix(to, "[]")
	if fromArr != toArr {
		return false
	}
	from, to = fromBase, toBase
	if from == to {
		return true
	}
	rank := map[string]int{"smallint": 1, "integer": 2, "bigint": 3}
	if rf, rt := rank[from], rank[to]; rf > 0 && rt > 0 {
		return rf < rt
	}
	if rank[from] > 0 && to == "numeric" {
		return true
	}
	if from == "real" && to == "double precision" {
		return true
	}
	fromName, fromMods := typeMods(from)
	toName, toMods := typeMods(to)
	switch {
	case fromName == "character varying" && (to == "text" || (toName == "character varying" && (len(toMods) == 0 || (len(fromMods) == 1 && toMods[0] >= fromMods[0])))):
		return true
	case from == "text" && to == "character varying":
		return true
	case fromName == "numeric" && toName == "numeric":
		if len(toMods) == 0 {
			return true
		}
		if len(fromMods) == 0 {
			return false
		}
		fs, ts := 0, 0
		if len(fromMods) > 1 {
			fs = fromMods[1]
		}
		if len(toMods) > 1 {
			ts = toMods[1]
		}
		return ts >= fs && toMods[0]-ts >= fromMods[0]-fs
	case fromName == "bit varying" && toName == "bit varying":
		return len(toMods) == 0 || (len(fromMods) == 1 && toMods[0] >= fromMods[0])
	}
	return false
}

// typeMods splits "numeric(12,4)" into "numeric" and [12 4]; a type without modifiers has none.
func typeMods(t string) (string, []int) {
	name, args, ok := strings.Cut(t, "(")
	if !ok || !strings.HasSuffix(args, ")") {
		return t, nil
	}
	var mods []int
	for _, a := range strings.Split(strings.TrimSuffix(args, ")"), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(a))
		if err != nil {
			return t, nil
		}
		mods = append(mods, n)
	}
	return name, mods
}

// setsExpression tells whether the down sets the expression of generated column c (after the up) back
// to bc's (before it) in place, ALTER COLUMN … SET EXPRESSION AS, rather than drop the column and add it
// again: from PostgreSQL 17, for a column generated on both sides, of the same type and collation.
func (g *downGen) setsExpression(c, bc *Column) bool {
	return g.opts.ServerVersion >= 170000 && c.Generated != "" && c.Type == bc.Type && c.Collation == bc.Collation
}

// routinesDropped are the names (lower case) of the functions the up dropped, which the down makes
// again only after the columns' first phase.
func (g *downGen) routinesDropped() map[string]bool {
	out := map[string]bool{}
	for k, f := range g.b.Functions {
		if g.a.Functions[k] == nil {
			out[strings.ToLower(f.Name)] = true
		}
	}
	return out
}
