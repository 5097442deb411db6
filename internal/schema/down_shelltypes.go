package schema

import (
	"fmt"
	"strings"
)

// A shell type (CREATE TYPE name alone) is a placeholder that the input and output functions of a base
// type name before CREATE TYPE name (INPUT = ...) defines it. The catalog holds shells, not base types,
// so a shell that went (or came) may be a base type defined (or dropped) under its name: what the
// catalogs' routines and columns name tells, and the down then says it cannot restore it rather than
// write a CREATE TYPE or DROP TYPE that would fail.

// typeNamedIn reports whether a routine's arguments or result, or a table's column, of c names the type
// key k.
func typeNamedIn(c *Catalog, k string) bool {
	names := func(t string) bool {
		t = strings.TrimPrefix(strings.TrimSpace(t), "SETOF ")
		return t != "" && typeKey(baseTypeName(t)) == k
	}
	for _, f := range c.Functions {
		if names(f.Result) {
			return true
		}
		for _, a := range strings.Split(f.ArgTypes, ", ") {
			if names(a) {
				return true
			}
		}
	}
	for _, t := range c.Tables {
		for _, col := range t.Columns {
			if names(col.Type) {
				return true
			}
		}
	}
	return false
}

// otherTypeNamed reports whether c has a type other than a shell under key k (an enum, domain, composite
// or range type: dropTypes drops one the up added).
func otherTypeNamed(c *Catalog, k string) bool {
	return c.Enums[k] != nil || c.Domains[k] != nil || c.Composites[k] != nil || rangeTypes(c)[k] != nil
}

// createShellTypes makes again the shells the up dropped, before the routines that name them are
// created again; the shell of a name the up gave to an enum, domain, composite or range type comes back
// once dropTypes dropped that (dropShellTypes).
func (g *downGen) createShellTypes() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(b.ShellTypes) {
		switch {
		case a.ShellTypes[k] != nil || otherTypeNamed(a, k):
		case typeNamedIn(a, k):
			g.irreversible(fmt.Sprintf("not restored: shell type %s, which the up defined as a base type (CREATE TYPE %s (INPUT = ...)): "+
				"no statement makes a type a shell again; drop the type with what uses it (its values are lost) and create the shell by hand",
				display(k), qkey(k)))
		default:
			g.add("re-create shell type "+display(k), "CREATE TYPE "+qkey(k))
			g.markCreated(KindShellType, k)
		}
	}
}

// dropShellTypes drops the shells the up made, after the routines that name them (dropTypes), and
// makes the shells that were under the names of types dropTypes just dropped. A shell the before-catalog
// names in a routine or a column stands for a base type the up dropped: the catalog does not hold base
// types, so the down cannot define it again, and dropping the shell would fail on the routines the down
// restored.
func (g *downGen) dropShellTypes() {
	a, b := g.a, g.b
	var drop, shown []string
	for _, k := range sortedKeys(a.ShellTypes) {
		switch {
		case b.ShellTypes[k] != nil:
		case typeNamedIn(b, k):
			g.irreversible(fmt.Sprintf("not restored: type %s, a base type before the up, is a shell after it: "+
				"the catalog does not hold a base type's definition; write its CREATE TYPE %s (INPUT = ...) by hand", display(k), qkey(k)))
		default:
			drop, shown = append(drop, qkey(k)), append(shown, display(k))
		}
	}
	if len(drop) > 0 {
		g.add("drop shell type "+strings.Join(shown, ", ")+" (added by the up)", "DROP TYPE "+strings.Join(drop, ", "))
	}
	for _, k := range sortedKeys(b.ShellTypes) {
		if a.ShellTypes[k] == nil && otherTypeNamed(a, k) {
			g.add("re-create shell type "+display(k)+" (the up defined another type under its name)", "CREATE TYPE "+qkey(k))
			g.markCreated(KindShellType, k)
		}
	}
}

// shellTypeNotes restores the owners and comments of the before-catalog's shells.
func (g *downGen) shellTypeNotes(restore func(kind, key, target, want string, have *string)) {
	for _, k := range sortedKeys(g.b.ShellTypes) {
		x, ax := g.b.ShellTypes[k], g.a.ShellTypes[k]
		fresh := g.wasCreated(KindShellType, k)
		if ax == nil && !fresh {
			continue // not restored (said so above)
		}
		var have *string
		hadOwner := ""
		if ax != nil {
			have, hadOwner = &ax.Comment, ax.Owner
		}
		g.ownerAs(KindShellType, k, "TYPE", qkey(k), x.Owner, hadOwner, fresh)
		restore(KindShellType, k, "TYPE "+qkey(k), x.Comment, have)
	}
}
