package schema

import (
	"fmt"
	"slices"
	"strings"
)

// This file writes what a generated down does for publications and for the order of a table's columns.
// Publications the up renamed are renamed back first; what the down must take out of a publication
// (the publication itself when the up added it, tables and schemas the up added to it, tables published
// otherwise) goes before the tables and columns are dropped, so that no column list or membership
// holds up a drop; what it must put back goes after the tables, columns and schemas are back.

// publicationRenames undoes renames of publications, recognised by OID.
func (g *downGen) publicationRenames() {
	a, b := g.a, g.b
	movedByOID(a.Publications, b.Publications, func(x *Publication) uint32 { return x.OID }, nil,
		func(ak, bk string, x, bx *Publication) {
			g.add(fmt.Sprintf("rename publication %s back to %s", x.Name, bx.Name),
				"ALTER PUBLICATION "+Ident(x.Name)+" RENAME TO "+Ident(bx.Name))
			delete(a.Publications, ak)
			x.Name = bx.Name
			a.Publications[bk] = x
		})
}

// keptTable tells whether the down keeps table k as it is (it neither drops it nor re-creates it).
func (g *downGen) keptTable(k string) bool {
	return g.a.Tables[k] != nil && g.b.Tables[k] != nil && !g.replacedTable(k)
}

// dropPublications drops the publications the up added, and those whose FOR ALL TABLES it changed (to
// create them again), and takes out of the others the tables and schemas the before-catalog's do not
// publish, or publish otherwise (other columns, another row filter: they are added back as they were).
func (g *downGen) dropPublications() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(a.Publications) {
		x, bx := a.Publications[k], b.Publications[k]
		alter := "ALTER PUBLICATION " + Ident(k) + " "
		switch {
		case bx == nil:
			g.add("drop publication "+k+" (added by the up)", "DROP PUBLICATION "+Ident(k))
			delete(a.Publications, k)
			continue
		case bx.AllTables != x.AllTables:
			g.add("drop publication "+k+" to create it again as it was", "DROP PUBLICATION "+Ident(k))
			delete(a.Publications, k)
			continue
		}
		for _, t := range sortedKeys(x.Tables) {
			if bt, ok := bx.Tables[t]; ok && publishedAs(bt) == publishedAs(x.Tables[t]) && g.keptTable(t) {
				continue
			}
			if g.keptTable(t) {
				// A table the down drops leaves the publication with it.
				g.add(fmt.Sprintf("take table %s out of publication %s (published by the up, or otherwise)", display(t), k),
					alter+"DROP TABLE "+qkey(t))
			}
			delete(x.Tables, t)
		}
		var schemas []string
		for _, s := range x.Schemas {
			if !slices.Contains(bx.Schemas, s) {
				g.add(fmt.Sprintf("take the tables in schema %s out of publication %s (added by the up)", s, k),
					alter+"DROP TABLES IN SCHEMA "+Ident(s))
				continue
			}
			schemas = append(schemas, s)
		}
		x.Schemas = schemas
	}
}

// createPublications creates again the publications of the before-catalog the down dropped or the up
// dropped, and puts back into the others their tables, schemas and options.
func (g *downGen) createPublications() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(b.Publications) {
		bx, x := b.Publications[k], a.Publications[k]
		if x == nil {
			g.add("re-create publication "+k, "CREATE PUBLICATION "+Ident(k)+" "+publicationSummary(bx))
			g.markCreated(KindPublication, k)
			continue
		}
		alter := "ALTER PUBLICATION " + Ident(k) + " "
		for _, t := range sortedKeys(bx.Tables) {
			if _, ok := x.Tables[t]; !ok {
				g.add(fmt.Sprintf("publish table %s in publication %s again", display(t), k), alter+"ADD TABLE "+publishedTableSQL(t, bx.Tables[t]))
			}
		}
		for _, s := range bx.Schemas {
			if !slices.Contains(x.Schemas, s) {
				g.add(fmt.Sprintf("publish the tables in schema %s in publication %s again", s, k), alter+"ADD TABLES IN SCHEMA "+Ident(s))
			}
		}
		if !slices.Equal(x.Publish, bx.Publish) || x.ViaRoot != bx.ViaRoot {
			g.add("restore the options of publication "+k, alter+"SET ("+publicationOptions(bx)+")")
		}
	}
}

// publicationProperties restores the owners of the publications of the before-catalog.
func (g *downGen) publicationProperties() {
	for _, k := range sortedKeys(g.b.Publications) {
		x, ax := g.b.Publications[k], g.a.Publications[k]
		fresh := ax == nil || g.wasCreated(KindPublication, k)
		have := ""
		if !fresh {
			have = ax.Owner
		}
		g.ownerAs(KindPublication, k, "PUBLICATION", Ident(k), x.Owner, have, fresh)
	}
}

// publicationComments restores the comments of the publications of the before-catalog.
func (g *downGen) publicationComments(restore func(kind, key, target, want string, have *string)) {
	for _, k := range sortedKeys(g.b.Publications) {
		var have *string
		if ax := g.a.Publications[k]; ax != nil {
			have = &ax.Comment
		}
		restore(KindPublication, k, "PUBLICATION "+Ident(k), g.b.Publications[k].Comment, have)
	}
}

// columnOrder says which kept tables the down leaves with their columns in another order than before
// the up: ADD COLUMN puts a column last, so a column the up dropped (or one the down drops to re-add as
// a generated column) comes back at the end, and columns the up rebuilt in another order stay so. No
// statement moves a column; only re-creating the table restores the order that SELECT *, and INSERT
// and COPY without a column list, see.
func (g *downGen) columnOrder() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(b.Tables) {
		bt, t := b.Tables[k], a.Tables[k]
		if t == nil || g.wasCreated(KindTable, k) {
			continue
		}
		var order []string
		for _, c := range t.Columns {
			if bt.Column(c.Name) != nil && !g.regenCols[subKey(k, c.Name)] {
				order = append(order, c.Name)
			}
		}
		for _, bc := range bt.Columns {
			if !slices.Contains(order, bc.Name) {
				order = append(order, bc.Name)
			}
		}
		var moved []string
		for i, bc := range bt.Columns {
			if j := slices.Index(order, bc.Name); j != i {
				moved = append(moved, fmt.Sprintf("%s is column %d after this down, was column %d", bc.Name, j+1, i+1))
			}
		}
		if len(moved) > 0 {
			g.irreversible(fmt.Sprintf("not restored: the column order of %s (%s); ADD COLUMN puts a column last and no statement "+
				"moves one (re-create table %s to restore it)", display(k), strings.Join(moved, "; "), display(k)))
		}
	}
}
