package schema

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// nameMove is one object of the working after-catalog to take back to its name before the up.
type nameMove struct {
	// from is the object's key in its namespace now, to its key before the up.
	from, to string
	// back writes the steps that take the object from key from to key to, and moves it there in the
	// working catalog; aside does the same to a temporary key, to break a cycle.
	back  func(from string)
	aside func(from, tmp string)
}

// untangle takes each of moves back to its old key in an order PostgreSQL accepts, where an old name
// may be held by another object after the up: by one of moves (a chain: it goes back first), by one
// the up created (occupant gives its move out of the way, to a temporary key where the phases that
// follow drop it as added by the up; nil when the key is free), or round a cycle (one object goes to a
// temporary key first). tmp gives a temporary key free in both catalogs for a key.
func untangle(moves []*nameMove, occupant func(key string) func(tmp string), tmp func(key string) string) {
	at := map[string]*nameMove{}
	for _, m := range moves {
		at[m.from] = m
	}
	pending := slices.Clone(moves)
	slices.SortFunc(pending, func(x, y *nameMove) int { return cmp.Compare(x.from, y.from) })
	for len(pending) > 0 {
		progressed := false
		for i := 0; i < len(pending); {
			m := pending[i]
			if at[m.to] != nil {
				i++
				continue
			}
			if aside := occupant(m.to); aside != nil {
				aside(tmp(m.to))
			}
			delete(at, m.from)
			m.back(m.from)
			pending = slices.Delete(pending, i, i+1)
			progressed = true
		}
		if !progressed {
			// A cycle: every name wanted is held by another of them.
			m := pending[0]
			t := tmp(m.from)
			m.aside(m.from, t)
			delete(at, m.from)
			at[t] = m
			m.from = t
		}
	}
}

// tmpSuffix marks the temporary names of a generated down.
const tmpSuffix = "_down_tmp"

// tmpName is a name for name that taken says is free: name (cut to fit PostgreSQL's 63 bytes) with
// tmpSuffix, and a number when that is taken too.
func tmpName(name string, taken func(string) bool) string {
	for i := 0; ; i++ {
		suffix := tmpSuffix
		if i > 0 {
			suffix += strconv.Itoa(i)
		}
		base := name
		for len(base)+len(suffix) > 63 {
			_, size := utf8.DecodeLastRuneInString(base)
			base = base[:len(base)-size]
		}
		if n := base + suffix; !taken(n) {
			return n
		}
	}
}

// oidsOf are the OIDs of the objects of m.
func oidsOf[T any](m map[string]T, oid func(T) uint32) map[uint32]bool {
	out := map[uint32]bool{}
	for _, x := range m {
		out[oid(x)] = true
	}
	return out
}

// relationTaken reports whether key (schema.name) names, in either catalog, a relation or a type:
// relations (tables, views, sequences, indexes, composite types) share one namespace, and a table's,
// a view's or a composite type's row type shares the types' one.
func (g *downGen) relationTaken(key string) bool {
	for _, c := range []*Catalog{g.a, g.b} {
		if c.Tables[key] != nil || c.Views[key] != nil || c.Sequences[key] != nil || c.Indexes[key] != nil ||
			c.Composites[key] != nil || c.Enums[key] != nil || c.Domains[key] != nil || rangeTypes(c)[key] != nil {
			return true
		}
	}
	return false
}

// relationTmp is a temporary key for a relation or a type at key.
func (g *downGen) relationTmp(key string) string {
	schema, name := schemaAndName(key)
	return Key(schema, tmpName(name, func(n string) bool { return g.relationTaken(Key(schema, n)) }))
}

// relationOccupant is the move out of the way of the relation or type at key that the up created (its
// OID is nowhere in the before-catalog), nil when there is none.
func (g *downGen) relationOccupant(key string) func(tmp string) {
	a, b := g.a, g.b
	created := func(oid uint32, before map[uint32]bool) bool { return oid != 0 && !before[oid] }
	why := func(what string) string {
		return fmt.Sprintf("move %s %s, which the up created, out of the way: an object renamed back takes its name", what, display(key))
	}
	switch {
	case a.Tables[key] != nil && created(a.Tables[key].OID, oidsOf(b.Tables, func(x *Table) uint32 { return x.OID })):
		return func(tmp string) { g.tableAside(why(a.Tables[key].kind()), key, tmp) }
	case a.Views[key] != nil && created(a.Views[key].OID, oidsOf(b.Views, func(x *View) uint32 { return x.OID })):
		return func(tmp string) { g.viewAside(why(strings.ToLower(kindOfView(a.Views[key]))), key, tmp) }
	case a.Sequences[key] != nil && created(a.Sequences[key].OID, oidsOf(b.Sequences, func(x *Sequence) uint32 { return x.OID })):
		return func(tmp string) { g.sequenceAside(why("sequence"), key, tmp) }
	case a.Indexes[key] != nil && created(a.Indexes[key].OID, oidsOf(b.Indexes, func(x *Index) uint32 { return x.OID })):
		return func(tmp string) { g.indexAside(why("index"), key, tmp) }
	}
	at, bt := userTypes(a), userTypes(b)
	if x, ok := at[key]; ok && created(x.oid, oidsOf(bt, func(x typeRef) uint32 { return x.oid })) {
		return func(tmp string) { g.typeAside(why(x.kind), key, tmp) }
	}
	return nil
}

// aside records that the object at tmp stands for the one the after-catalog names from: the renames
// recorded for what follows renamed objects (see followRenames) are from the names after the up.
func (g *downGen) aside(from, tmp string) {
	if g.asideOf == nil {
		g.asideOf = map[string]string{}
	}
	if orig, ok := g.asideOf[from]; ok {
		from = orig
	}
	g.asideOf[tmp] = from
}

// tableAside renames table key to tmp (same schema), with its parts.
func (g *downGen) tableAside(why, key, tmp string) {
	t := g.a.Tables[key]
	schema, name := schemaAndName(tmp)
	g.add(why, "ALTER TABLE "+qkey(key)+" RENAME TO "+Ident(name))
	g.aside(key, tmp)
	g.retable(t, key, tmp, schema, name)
}

// viewAside renames view (or materialized view) key to tmp (same schema).
func (g *downGen) viewAside(why, key, tmp string) {
	v := g.a.Views[key]
	schema, name := schemaAndName(tmp)
	g.add(why, "ALTER "+strings.ToUpper(kindOfView(v))+" "+qkey(key)+" RENAME TO "+Ident(name))
	g.aside(key, tmp)
	delete(g.a.Views, key)
	v.Schema, v.Name = schema, name
	g.a.Views[tmp] = v
	g.rerelation(key, tmp)
}

// sequenceAside renames sequence key to tmp (same schema).
func (g *downGen) sequenceAside(why, key, tmp string) {
	s := g.a.Sequences[key]
	schema, name := schemaAndName(tmp)
	g.add(why, "ALTER SEQUENCE "+qkey(key)+" RENAME TO "+Ident(name))
	g.aside(key, tmp)
	delete(g.a.Sequences, key)
	s.Schema, s.Name = schema, name
	g.a.Sequences[tmp] = s
}

// indexAside renames index key to tmp (same schema); PostgreSQL renames the constraint it backs too.
func (g *downGen) indexAside(why, key, tmp string) {
	x := g.a.Indexes[key]
	_, name := schemaAndName(tmp)
	g.add(why, "ALTER INDEX "+qkey(key)+" RENAME TO "+Ident(name))
	if x.Constraint != "" {
		ck := Key(x.Schema, x.Table, x.Constraint)
		if c := g.a.Constraints[ck]; c != nil {
			delete(g.a.Constraints, ck)
			c.Name = name
			g.a.Constraints[Key(c.Schema, c.Table, c.Name)] = c
		}
		x.Constraint = name
	}
	delete(g.a.Indexes, key)
	x.Definition = strings.Replace(x.Definition, " INDEX "+Ident(x.Name)+" ON ", " INDEX "+Ident(name)+" ON ", 1)
	x.Name = name
	g.a.Indexes[tmp] = x
}

// typeAside renames the enum, domain, composite or range type at key to tmp (same schema).
func (g *downGen) typeAside(why, key, tmp string) {
	a := g.a
	schema, name := schemaAndName(tmp)
	word := "TYPE"
	switch {
	case a.Enums[key] != nil:
		e := a.Enums[key]
		delete(a.Enums, key)
		e.Schema, e.Name = schema, name
		a.Enums[tmp] = e
	case a.Domains[key] != nil:
		word = "DOMAIN"
		d := a.Domains[key]
		delete(a.Domains, key)
		d.Schema, d.Name = schema, name
		a.Domains[tmp] = d
	case a.Composites[key] != nil:
		x := a.Composites[key]
		delete(a.Composites, key)
		x.Schema, x.Name = schema, name
		a.Composites[tmp] = x
	default:
		for _, f := range a.Functions {
			if f.Range != nil && Key(f.Range.Schema, f.Range.Name) == key {
				f.Range.Schema, f.Range.Name = schema, name
			}
		}
	}
	g.add(why, "ALTER "+word+" "+qkey(key)+" RENAME TO "+Ident(name))
	g.aside(key, tmp)
	g.retype(key, tmp)
}

// functionAside renames the routine with signature key to name.
func (g *downGen) functionAside(why, key, name string) string {
	f := g.a.Functions[key]
	word := "ROUTINE"
	if f.Kind == "a" {
		word = "AGGREGATE"
	}
	g.add(why, "ALTER "+word+" "+QIdent(f.Schema, f.Name)+"("+routineArgs(f)+") RENAME TO "+Ident(name))
	g.aside(Key(f.Schema, f.Name), Key(f.Schema, name))
	delete(g.a.Functions, key)
	f.Name = name
	g.a.Functions[f.Signature()] = f
	for _, o := range g.a.Functions {
		for i, d := range o.DependsOn {
			if d == key {
				o.DependsOn[i] = f.Signature()
			}
		}
	}
	for _, t := range g.a.Triggers {
		if t.Function == key {
			t.Function = f.Signature()
		}
	}
	return f.Signature()
}

// columnAside renames column from of table key to tmp, with what PostgreSQL changes with it; the
// views that read the table are dropped and created again around the down (see rebuiltTables), as
// what they read is no longer what they name.
func (g *downGen) columnAside(why, key, from, tmp string) {
	g.add(why, "ALTER TABLE "+qkey(key)+" RENAME COLUMN "+Ident(from)+" TO "+Ident(tmp))
	g.a.Tables[key].Column(from).Name = tmp
	g.followColumn(key, from, tmp, true)
	if g.asideTables == nil {
		g.asideTables = map[string]bool{}
	}
	g.asideTables[key] = true
}
