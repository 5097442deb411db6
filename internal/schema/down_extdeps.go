package schema

import (
	"fmt"
	"slices"
	"strings"
)

// An index, routine, trigger or materialized view may be marked as depending on an extension (ALTER
// ... DEPENDS ON EXTENSION, pg_depend deptype 'x'): a DROP EXTENSION then drops it too, without
// CASCADE. So a mark the up added is taken off before the down drops anything (an extension the up
// created goes in dropTypes, and would take the object with it), and a mark the up took off is put back
// once the object and the extension are there again.

// extensionMarked is an object that can carry such marks: its kind and key, what ALTER names it by, and
// its marks ("hstore, pg_trgm", as the catalog holds them).
type extensionMarked struct {
	kind, key, target, marks string
}

// extensionMarkedObjects are the objects of c that carry marks, in a stable order.
func extensionMarkedObjects(c *Catalog) []extensionMarked {
	var out []extensionMarked
	add := func(kind, key, target, marks string) {
		if marks != "" {
			out = append(out, extensionMarked{kind, key, target, marks})
		}
	}
	for _, k := range sortedKeys(c.Functions) {
		if f := c.Functions[k]; f.Range == nil && f.Kind != "a" {
			add(f.kindName(), k, functionRef(f), f.Extensions)
		}
	}
	for _, k := range sortedKeys(c.Views) {
		if v := c.Views[k]; v.Materialized {
			add(KindMaterializedView, k, "MATERIALIZED VIEW "+qkey(k), v.Extensions)
		}
	}
	for _, k := range sortedKeys(c.Indexes) {
		add(KindIndex, k, "INDEX "+qkey(k), c.Indexes[k].Extensions)
	}
	for _, k := range sortedKeys(c.Triggers) {
		x := c.Triggers[k]
		add(KindTrigger, k, "TRIGGER "+Ident(x.Name)+" ON "+QIdent(x.Schema, x.Table), x.Extensions)
	}
	return out
}

// marksOf splits an object's marks into extension names.
func marksOf(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ", ")
}

// unmarkExtensionDeps takes off the marks the up added to objects the down keeps (after the drops of
// dropDependents and dropTablesAndColumns, which take their marks with them).
func (g *downGen) unmarkExtensionDeps() {
	a, b := g.a, g.b
	want := map[string]string{}
	for _, o := range extensionMarkedObjects(b) {
		want[o.kind+"\x00"+o.key] = o.marks
	}
	for _, o := range extensionMarkedObjects(a) {
		switch o.kind {
		case KindIndex:
			x := a.Indexes[o.key]
			if b.Indexes[o.key] == nil || g.dropIdx[o.key] || a.relation(x.QTable()) == "" || g.dropViews[x.QTable()] {
				continue
			}
		case KindTrigger:
			x := a.Triggers[o.key]
			if b.Triggers[o.key] == nil || g.dropTrg[o.key] || a.relation(x.QTable()) == "" || g.dropViews[x.QTable()] {
				continue
			}
		case KindMaterializedView:
			if b.Views[o.key] == nil || g.dropViews[o.key] {
				continue
			}
		default:
			if b.Functions[o.key] == nil {
				continue
			}
		}
		keep := marksOf(want[o.kind+"\x00"+o.key])
		for _, e := range marksOf(o.marks) {
			if !slices.Contains(keep, e) {
				g.add(fmt.Sprintf("take off the mark the up put on %s %s: a DROP EXTENSION %s would drop it", o.kind, display(o.key), e),
					"ALTER "+o.target+" NO DEPENDS ON EXTENSION "+Ident(e))
			}
		}
	}
}

// markExtensionDeps puts back the marks of the before-catalog's objects that they lack: all of them on
// an object the down created again, and on a routine whose definition it restored (CREATE OR REPLACE
// takes a routine's marks off).
func (g *downGen) markExtensionDeps() {
	a, b := g.a, g.b
	for _, o := range extensionMarkedObjects(b) {
		have := ""
		switch o.kind {
		case KindIndex:
			x, ax := b.Indexes[o.key], a.Indexes[o.key]
			if ax != nil && !g.wasCreated(KindIndex, o.key) && !(x.Constraint != "" && g.wasCreated(KindConstraint, subKey(x.QTable(), x.Constraint))) {
				have = ax.Extensions
			}
		case KindTrigger:
			if ax := a.Triggers[o.key]; ax != nil && !g.wasCreated(KindTrigger, o.key) {
				have = ax.Extensions
			}
		case KindMaterializedView:
			if av := a.Views[o.key]; av != nil && !g.wasCreated(KindMaterializedView, o.key) {
				have = av.Extensions
			}
		default:
			if af := a.Functions[o.key]; af != nil && !g.wasCreated(o.kind, o.key) && af.Definition == b.Functions[o.key].Definition {
				have = af.Extensions
			}
		}
		got := marksOf(have)
		for _, e := range marksOf(o.marks) {
			if !slices.Contains(got, e) {
				g.add(fmt.Sprintf("mark %s %s as depending on extension %s again", o.kind, display(o.key), e),
					"ALTER "+o.target+" DEPENDS ON EXTENSION "+Ident(e))
			}
		}
	}
}
