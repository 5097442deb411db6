package schema

import (
	"fmt"
	"slices"
	"strings"
)

// This file writes what a generated down does for foreign tables beyond what it does for every table:
// their options, their columns' options, and the server they read through.

// foreignOptionsSQL writes options ("name=value") as CREATE FOREIGN TABLE takes them,
// " OPTIONS (name 'value', ...)", or "" for none.
func foreignOptionsSQL(opts []string) string {
	if len(opts) == 0 {
		return ""
	}
	parts := make([]string, len(opts))
	for i, o := range opts {
		n, v, _ := strings.Cut(o, "=")
		parts[i] = Ident(n) + " " + Literal(v)
	}
	return " OPTIONS (" + strings.Join(parts, ", ") + ")"
}

// alterOptionsSQL writes the OPTIONS clause of ALTER FOREIGN TABLE that takes options from have to want
// (DROP, SET, ADD), or "" when they are the same.
func alterOptionsSQL(want, have []string) string {
	split := func(opts []string) map[string]string {
		m := map[string]string{}
		for _, o := range opts {
			n, v, _ := strings.Cut(o, "=")
			m[n] = v
		}
		return m
	}
	w, h := split(want), split(have)
	var parts []string
	for _, n := range slices.Sorted(mapKeys(h)) {
		if _, ok := w[n]; !ok {
			parts = append(parts, "DROP "+Ident(n))
		}
	}
	for _, n := range slices.Sorted(mapKeys(w)) {
		switch v, ok := h[n]; {
		case !ok:
			parts = append(parts, "ADD "+Ident(n)+" "+Literal(w[n]))
		case v != w[n]:
			parts = append(parts, "SET "+Ident(n)+" "+Literal(w[n]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " OPTIONS (" + strings.Join(parts, ", ") + ")"
}

// replacedTable tells whether the table of key k is a foreign table on one side and a plain one on the
// other: the down drops it and creates it again.
func (g *downGen) replacedTable(k string) bool {
	t, bt := g.a.Tables[k], g.b.Tables[k]
	return t != nil && bt != nil && t.Foreign() != bt.Foreign()
}

// foreignTables restores the options of the foreign tables of the before-catalog and of their columns,
// and says that a foreign table's server cannot be changed back in place.
func (g *downGen) foreignTables() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(b.Tables) {
		bt := b.Tables[k]
		if !bt.Foreign() {
			continue
		}
		alter := "ALTER FOREIGN TABLE " + qkey(k)
		t := a.Tables[k]
		fresh := g.wasCreated(KindTable, k) || t == nil
		if !fresh {
			if t.Server != bt.Server {
				g.irreversible(fmt.Sprintf("foreign table %s reads through server %s, was %s: a foreign table's server cannot be changed "+
					"in place (drop it and create it again on server %s, with its dependents)", display(k), t.Server, bt.Server, bt.Server))
			}
			if o := alterOptionsSQL(bt.ForeignOptions, t.ForeignOptions); o != "" {
				g.add("restore the options of foreign table "+display(k), alter+o)
			}
		}
		for _, bc := range bt.Columns {
			// createTableSQL writes the options of the columns it declares (not a partition's, nor
			// inherited ones).
			var have []string
			switch {
			case fresh && bt.PartitionOf == "" && !bc.Inherited:
				have = bc.ForeignOptions
			case !fresh && !g.wasCreated(KindColumn, subKey(k, bc.Name)):
				if c := t.Column(bc.Name); c != nil {
					have = c.ForeignOptions
				}
			}
			if o := alterOptionsSQL(bc.ForeignOptions, have); o != "" {
				g.add(fmt.Sprintf("restore the options of column %s", display(subKey(k, bc.Name))), alter+" ALTER COLUMN "+Ident(bc.Name)+o)
			}
		}
	}
}
