package schema

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// renames undoes renames and schema moves, recognised by OID in two snapshots of the same database: of
// tables, columns, views, sequences, constraints, indexes, types (enums, domains, composite and range
// types), composite attributes, enum values, functions and text search configurations and dictionaries
// (event triggers: see eventTriggerRenames).
// It rewrites the working after-catalog to the
// old names so the rest compares by name, and takes over the definitions that quote a renamed object
// (PostgreSQL stores those by OID: they read as before once the object has its old name again), so that
// what the renames restore is not dropped and re-created as well.
func (g *downGen) renames() {
	g.relationRenames()
	g.typeRenames()
	g.attributeRenames()
	g.enumValueRenames()
	g.functionRenames()
	g.textSearchRenames()
	g.followRenames()
}

// moveBack adds the steps that take an object from its place after the up (schema s, name n) back to its
// place before it (bs, bn): ALTER word ... RENAME TO, then ... SET SCHEMA. ref writes the object's
// reference for a schema and name (a function's adds its arguments), what says what it is ("enum").
func (g *downGen) moveBack(what, word string, ref func(schema, name string) string, s, n, bs, bn string) {
	if bn != n {
		g.add(fmt.Sprintf("rename %s %s back to %s", what, display(Key(s, n)), KeyPart(bn)), "ALTER "+word+" "+ref(s, n)+" RENAME TO "+Ident(bn))
	}
	if bs != s {
		g.add(fmt.Sprintf("move %s %s back to schema %s", what, display(Key(s, bn)), bs), "ALTER "+word+" "+ref(s, bn)+" SET SCHEMA "+Ident(bs))
	}
	if bn != n || bs != s {
		// An object moved to a temporary name on the way is named by the definitions after the up as it
		// was named then.
		if orig, ok := g.asideOf[Key(s, n)]; ok {
			s, n = schemaAndName(orig)
		}
		g.renamed = append(g.renamed, rename{oldSchema: bs, oldName: bn, newSchema: s, newName: n})
	}
}

// relationRenames undoes renames and moves of tables, views, sequences and indexes, renames of
// columns and constraints. An old name may be held after the up: by an object the up created under it
// (the table renamed aside and created anew), which is moved out of the way to be dropped there as
// added by the up, or by another object renamed (a chain or a cycle: see untangle).
func (g *downGen) relationRenames() {
	a, b := g.a, g.b
	var moves []*nameMove
	for _, m := range renamedByOID(a.Tables, b.Tables, func(x *Table) uint32 { return x.OID }, nil) {
		t, bt := m.x, m.bx
		moves = append(moves, &nameMove{from: m.ak, to: m.bk,
			back: func(from string) {
				g.moveBack("table", "TABLE", QIdent, t.Schema, t.Name, bt.Schema, bt.Name)
				g.retable(t, from, m.bk, bt.Schema, bt.Name)
			},
			aside: func(from, tmp string) { g.tableAside(cycleStep("table", from), from, tmp) }})
	}
	for _, m := range renamedByOID(a.Views, b.Views, func(x *View) uint32 { return x.OID }, nil) {
		v, bv := m.x, m.bx
		what := strings.ToLower(kindOfView(v))
		moves = append(moves, &nameMove{from: m.ak, to: m.bk,
			back: func(from string) {
				g.moveBack(what, strings.ToUpper(kindOfView(v)), QIdent, v.Schema, v.Name, bv.Schema, bv.Name)
				delete(a.Views, from)
				v.Schema, v.Name = bv.Schema, bv.Name
				a.Views[m.bk] = v
				g.rerelation(from, m.bk)
			},
			aside: func(from, tmp string) { g.viewAside(cycleStep(what, from), from, tmp) }})
	}
	for _, m := range renamedByOID(a.Sequences, b.Sequences, func(x *Sequence) uint32 { return x.OID }, nil) {
		s, bs := m.x, m.bx
		moves = append(moves, &nameMove{from: m.ak, to: m.bk,
			back: func(from string) {
				g.moveBack("sequence", "SEQUENCE", QIdent, s.Schema, s.Name, bs.Schema, bs.Name)
				delete(a.Sequences, from)
				s.Schema, s.Name = bs.Schema, bs.Name
				a.Sequences[m.bk] = s
			},
			aside: func(from, tmp string) { g.sequenceAside(cycleStep("sequence", from), from, tmp) }})
	}
	// An index that backs a constraint is renamed with it, below.
	for _, m := range renamedByOID(a.Indexes, b.Indexes, func(x *Index) uint32 { return x.OID }, func(x, bx *Index) bool { return x.Constraint == "" && bx.Schema == x.Schema }) {
		x, bx := m.x, m.bx
		moves = append(moves, &nameMove{from: m.ak, to: m.bk,
			back: func(from string) {
				g.add(fmt.Sprintf("rename index %s back to %s", display(from), display(m.bk)),
					"ALTER INDEX "+qkey(from)+" RENAME TO "+Ident(bx.Name))
				delete(a.Indexes, from)
				x.Definition = strings.Replace(x.Definition, " INDEX "+Ident(x.Name)+" ON ", " INDEX "+Ident(bx.Name)+" ON ", 1)
				x.Name = bx.Name
				a.Indexes[m.bk] = x
			},
			aside: func(from, tmp string) { g.indexAside(cycleStep("index", from), from, tmp) }})
	}
	untangle(moves, g.relationOccupant, g.relationTmp)
	g.columnRenames()
	g.constraintRenames()
}

// cycleStep is the comment of the step that renames the object at key to a temporary name: the objects
// renamed back take each other's names.
func cycleStep(what, key string) string {
	return fmt.Sprintf("rename %s %s to a temporary name first: the names go back round a cycle", what, display(key))
}

// columnRenames undoes renames of columns, recognised by attnum.
func (g *downGen) columnRenames() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(a.Tables) {
		t, bt := a.Tables[k], b.Tables[k]
		if bt == nil || t.OID == 0 || t.OID != bt.OID {
			continue
		}
		byNum := map[int]*Column{}
		for _, bc := range bt.Columns {
			if bc.Num != 0 {
				byNum[bc.Num] = bc
			}
		}
		var moves []*nameMove
		claimed := map[string]bool{}
		for _, c := range t.Columns {
			bc := byNum[c.Num]
			if c.Num == 0 && bt.Column(c.Name) == nil {
				// No attnums (a catalog written by hand): a column of neither name.
				for _, x := range bt.Columns {
					if x.Num == 0 && t.Column(x.Name) == nil && !claimed[x.Name] {
						bc = x
						break
					}
				}
			}
			if bc == nil || bc.Name == c.Name {
				continue
			}
			claimed[bc.Name] = true
			moves = append(moves, &nameMove{from: c.Name, to: bc.Name,
				back: func(from string) {
					g.add(fmt.Sprintf("rename column %s back to %s", display(subKey(k, from)), KeyPart(bc.Name)),
						"ALTER TABLE "+qkey(k)+" RENAME COLUMN "+Ident(from)+" TO "+Ident(bc.Name))
					g.followColumn(k, from, bc.Name, false)
					c.Name = bc.Name
				},
				aside: func(from, tmp string) { g.columnAside(cycleStep("column", subKey(k, from)), k, from, tmp) }})
		}
		// A column the up added (an attnum the table did not have) under a name a column goes back to.
		occupant := func(name string) func(string) {
			c := t.Column(name)
			if c == nil || c.Num == 0 || byNum[c.Num] != nil {
				return nil
			}
			return func(tmp string) {
				g.columnAside(fmt.Sprintf("move column %s, which the up added, out of the way: a column renamed back takes its name", display(subKey(k, name))), k, name, tmp)
			}
		}
		tmp := func(name string) string {
			return tmpName(name, func(n string) bool { return t.Column(n) != nil || bt.Column(n) != nil })
		}
		untangle(moves, occupant, tmp)
	}
}

// constraintRenames undoes renames of constraints (with the indexes that back them). A constraint's
// name is its table's, and one backed by an index shares the index's name with the schema's relations.
func (g *downGen) constraintRenames() {
	a, b := g.a, g.b
	var moves []*nameMove
	for _, m := range renamedByOID(a.Constraints, b.Constraints, func(x *Constraint) uint32 { return x.OID }, func(x, bx *Constraint) bool { return bx.QTable() == x.QTable() }) {
		x, bx := m.x, m.bx
		moves = append(moves, &nameMove{from: m.ak, to: m.bk,
			back: func(string) {
				g.renameConstraint(x, bx.Name, fmt.Sprintf("rename constraint %s on %s back to %s", x.Name, display(x.QTable()), bx.Name))
			},
			aside: func(from, tmp string) {
				g.renameConstraint(x, lastName(tmp), fmt.Sprintf("rename constraint %s on %s to a temporary name first: the names go back round a cycle", x.Name, display(x.QTable())))
			}})
	}
	inB := oidsOf(b.Constraints, func(x *Constraint) uint32 { return x.OID })
	occupant := func(key string) func(string) {
		if x := a.Constraints[key]; x != nil {
			if x.OID == 0 || inB[x.OID] {
				return nil
			}
			return func(tmp string) {
				g.renameConstraint(x, lastName(tmp), fmt.Sprintf("move constraint %s on %s, which the up created, out of the way: a constraint renamed back takes its name", x.Name, display(x.QTable())))
			}
		}
		parts := SplitKey(key)
		if rel := Key(parts[0], parts[len(parts)-1]); a.Indexes[rel] != nil {
			if aside := g.relationOccupant(rel); aside != nil {
				return func(string) { aside(g.relationTmp(rel)) }
			}
		}
		return nil
	}
	tmp := func(key string) string {
		parts := SplitKey(key)
		schema, table := parts[0], parts[1]
		return Key(schema, table, tmpName(parts[len(parts)-1], func(n string) bool {
			return a.Constraints[Key(schema, table, n)] != nil || b.Constraints[Key(schema, table, n)] != nil || g.relationTaken(Key(schema, n))
		}))
	}
	untangle(moves, occupant, tmp)
}

// renameConstraint renames constraint x to name, with the index that backs it.
func (g *downGen) renameConstraint(x *Constraint, name, comment string) {
	a := g.a
	g.add(comment, "ALTER TABLE "+constraintOwner(x)+" RENAME CONSTRAINT "+Ident(x.Name)+" TO "+Ident(name))
	for ik, ix := range a.Indexes {
		if ix.Constraint == x.Name && ix.QTable() == x.QTable() {
			delete(a.Indexes, ik)
			ix.Definition = strings.Replace(ix.Definition, " INDEX "+Ident(ix.Name)+" ON ", " INDEX "+Ident(name)+" ON ", 1)
			ix.Constraint, ix.Name = name, name
			a.Indexes[Key(ix.Schema, ix.Name)] = ix
		}
	}
	delete(a.Constraints, Key(x.Schema, x.Table, x.Name))
	x.Name = name
	a.Constraints[Key(x.Schema, x.Table, x.Name)] = x
}

// enumValueRenames undoes renames of enum values, recognised by the values' OIDs. A value the up added
// under a name one goes back to is renamed out of the way (see untangle).
func (g *downGen) enumValueRenames() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(a.Enums) {
		e, be := a.Enums[k], b.Enums[k]
		if be == nil || len(e.ValueOIDs) != len(e.Values) || len(be.ValueOIDs) != len(be.Values) {
			continue
		}
		rename := func(i int, to, comment string) {
			g.add(comment, "ALTER TYPE "+qkey(k)+" RENAME VALUE "+Literal(e.Values[i])+" TO "+Literal(to))
			e.Values[i] = to
		}
		var moves []*nameMove
		for i, v := range e.Values {
			j := slices.Index(be.ValueOIDs, e.ValueOIDs[i])
			if j < 0 || be.Values[j] == v {
				continue
			}
			old := be.Values[j]
			moves = append(moves, &nameMove{from: v, to: old,
				back: func(string) {
					rename(i, old, fmt.Sprintf("rename value %s of enum %s back to %s", Literal(e.Values[i]), display(k), Literal(old)))
				},
				aside: func(_, tmp string) {
					rename(i, tmp, fmt.Sprintf("rename value %s of enum %s to a temporary name first: the names go back round a cycle", Literal(e.Values[i]), display(k)))
				}})
		}
		occupant := func(v string) func(string) {
			i := slices.Index(e.Values, v)
			if i < 0 || e.ValueOIDs[i] == 0 || slices.Contains(be.ValueOIDs, e.ValueOIDs[i]) {
				return nil
			}
			return func(tmp string) {
				rename(i, tmp, fmt.Sprintf("move value %s of enum %s, which the up added, out of the way: a value renamed back takes its name", Literal(v), display(k)))
			}
		}
		tmp := func(v string) string {
			return tmpName(v, func(n string) bool { return slices.Contains(e.Values, n) || slices.Contains(be.Values, n) })
		}
		untangle(moves, occupant, tmp)
	}
}

// typeRef is one user-defined type of a catalog, whatever its kind.
type typeRef struct {
	kind, schema, name string
	oid                uint32
}

// userTypes are the enums, domains, composite and range types of c by key.
func userTypes(c *Catalog) map[string]typeRef {
	out := map[string]typeRef{}
	for k, e := range c.Enums {
		out[k] = typeRef{KindEnum, e.Schema, e.Name, e.OID}
	}
	for k, d := range c.Domains {
		out[k] = typeRef{KindDomain, d.Schema, d.Name, d.OID}
	}
	for k, x := range c.Composites {
		out[k] = typeRef{KindComposite, x.Schema, x.Name, x.OID}
	}
	for k, r := range rangeTypes(c) {
		out[k] = typeRef{KindRange, r.Schema, r.Name, r.OID}
	}
	return out
}

// typeRenames undoes renames and moves of enums, domains, composite and range types (recognised by OID):
// ALTER TYPE ... RENAME TO and SET SCHEMA keep the type, so the columns, attributes, domains and
// functions that use it keep their values and follow it back; dropping and re-creating it would fail
// while they use it, or lose their data.
func (g *downGen) typeRenames() {
	a, b := g.a, g.b
	var moves []*nameMove
	for _, m := range renamedByOID(userTypes(a), userTypes(b), func(x typeRef) uint32 { return x.oid }, func(x, bx typeRef) bool { return bx.kind == x.kind }) {
		x, bx := m.x, m.bx
		moves = append(moves, &nameMove{from: m.ak, to: m.bk,
			back: func(from string) {
				word := "TYPE"
				if x.kind == KindDomain {
					word = "DOMAIN"
				}
				schema, name := schemaAndName(from)
				g.moveBack(x.kind, word, QIdent, schema, name, bx.schema, bx.name)
				switch x.kind {
				case KindEnum:
					e := a.Enums[from]
					delete(a.Enums, from)
					e.Schema, e.Name = bx.schema, bx.name
					a.Enums[m.bk] = e
				case KindDomain:
					d := a.Domains[from]
					delete(a.Domains, from)
					d.Schema, d.Name = bx.schema, bx.name
					a.Domains[m.bk] = d
				case KindComposite:
					c := a.Composites[from]
					delete(a.Composites, from)
					c.Schema, c.Name = bx.schema, bx.name
					a.Composites[m.bk] = c
				case KindRange:
					// The constructor functions carry the range type; they come back with it.
					for _, f := range a.Functions {
						if f.Range != nil && f.Range.OID == x.oid {
							f.Range.Schema, f.Range.Name = bx.schema, bx.name
						}
					}
				}
				g.retype(from, m.bk)
			},
			aside: func(from, tmp string) { g.typeAside(cycleStep(x.kind, from), from, tmp) }})
	}
	untangle(moves, g.relationOccupant, g.relationTmp)
}

// attributeRenames undoes renames of the attributes of composite types (recognised by attnum, or by
// position when the attribute list kept its length).
func (g *downGen) attributeRenames() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(a.Composites) {
		x, bx := a.Composites[k], b.Composites[k]
		if bx == nil || x.OID == 0 || x.OID != bx.OID {
			continue
		}
		has := func(c *Composite, name string) bool {
			return slices.ContainsFunc(c.Attributes, func(at *Attribute) bool { return at.Name == name })
		}
		for i, at := range x.Attributes {
			if has(bx, at.Name) {
				continue
			}
			var old *Attribute
			for j, bat := range bx.Attributes {
				if (at.Num != 0 && bat.Num == at.Num) || (at.Num == 0 && bat.Num == 0 && j == i && len(bx.Attributes) == len(x.Attributes)) {
					old = bat
					break
				}
			}
			if old == nil || has(x, old.Name) || old.Type != at.Type || old.Collation != at.Collation {
				continue
			}
			g.add(fmt.Sprintf("rename attribute %s of composite type %s back to %s", at.Name, display(k), old.Name),
				"ALTER TYPE "+qkey(k)+" RENAME ATTRIBUTE "+Ident(at.Name)+" TO "+Ident(old.Name))
			at.Name = old.Name
		}
	}
}

// functionRenames undoes renames and moves of functions, procedures and aggregates, recognised by OID. A
// routine recognised so is the same routine: when its signature differs only because a type it takes or
// returns was renamed (and is renamed back above), it follows the type by itself and is left alone.
// A range type's constructors come and go with their type: they are only re-keyed.
func (g *downGen) functionRenames() {
	a, b := g.a, g.b
	// The names the temporary keys stand for.
	tmpNames := map[string]string{}
	var moves []*nameMove
	for _, m := range renamedByOID(a.Functions, b.Functions, func(x *Function) uint32 { return x.OID }, func(f, bf *Function) bool { return bf.Kind == f.Kind && (bf.Range == nil) == (f.Range == nil) }) {
		f, bf := m.x, m.bx
		moves = append(moves, &nameMove{from: m.ak, to: m.bk,
			back: func(from string) {
				if f.Range == nil {
					word := "ROUTINE"
					if f.Kind == "a" {
						word = "AGGREGATE"
					}
					// The types the arguments name are back under their old names by now: use those.
					ref := func(schema, name string) string { return QIdent(schema, name) + "(" + routineArgs(bf) + ")" }
					g.moveBack(strings.ToLower(functionKeyword(f)), word, ref, f.Schema, f.Name, bf.Schema, bf.Name)
				}
				delete(a.Functions, from)
				f.Schema, f.Name, f.Args, f.ArgTypes, f.Result = bf.Schema, bf.Name, bf.Args, bf.ArgTypes, bf.Result
				a.Functions[m.bk] = f
				for _, o := range a.Functions {
					for i, d := range o.DependsOn {
						if d == from {
							o.DependsOn[i] = m.bk
						}
					}
				}
				for _, t := range a.Triggers {
					if t.Function == from {
						t.Function = m.bk
					}
				}
			},
			aside: func(from, tmp string) {
				what := strings.ToLower(functionKeyword(f))
				g.functionAside(fmt.Sprintf("rename %s %s to a temporary name first: the names go back round a cycle", what, display(from)), from, tmpNames[tmp])
			}})
	}
	inB := oidsOf(b.Functions, func(x *Function) uint32 { return x.OID })
	// A routine the up created that takes the arguments of one that goes back to its name.
	occupant := func(key string) func(string) {
		bf := b.Functions[key]
		for _, ak := range sortedKeys(a.Functions) {
			f := a.Functions[ak]
			if f.OID == 0 || inB[f.OID] || f.Range != nil || f.Schema != bf.Schema || f.Name != bf.Name || (ak != key && f.ArgTypes != bf.ArgTypes) {
				continue
			}
			return func(tmp string) {
				what := strings.ToLower(functionKeyword(f))
				g.functionAside(fmt.Sprintf("move %s %s, which the up created, out of the way: a %s renamed back takes its name", what, display(ak), what), ak, tmpNames[tmp])
			}
		}
		return nil
	}
	tmp := func(key string) string {
		f := a.Functions[key]
		if f == nil {
			f = b.Functions[key]
		}
		name := tmpName(f.Name, func(n string) bool {
			for _, c := range []*Catalog{a, b} {
				for _, o := range c.Functions {
					if o.Schema == f.Schema && o.Name == n {
						return true
					}
				}
			}
			return false
		})
		k := Key(f.Schema, name) + "(" + f.Args + ")"
		tmpNames[k] = name
		return k
	}
	untangle(moves, occupant, tmp)
}

// followRenames takes over, in the working after-catalog, each definition of an object the down keeps
// that reads as the before-catalog's once the objects renamed back have their old names: PostgreSQL
// stores expressions, view queries, signatures and SQL-standard function bodies by OID, so they follow.
// A function body kept as source text does not, and is compared as it is.
func (g *downGen) followRenames() {
	if len(g.renamed) == 0 {
		return
	}
	renames := slices.Clone(g.renamed)
	slices.SortFunc(renames, func(x, y rename) int { return cmp.Compare(len(y.newName), len(x.newName)) })
	takeOver := func(have *string, want string) {
		if *have != want && canon(*have, renames, false) == canon(want, renames, true) {
			*have = want
		}
	}
	a, b := g.a, g.b
	for k, t := range a.Tables {
		bt := b.Tables[k]
		if bt == nil {
			continue
		}
		takeOver(&t.PartitionKey, bt.PartitionKey)
		for _, c := range t.Columns {
			if bc := bt.Column(c.Name); bc != nil {
				takeOver(&c.Type, bc.Type)
				takeOver(&c.Default, bc.Default)
				takeOver(&c.Generated, bc.Generated)
			}
		}
	}
	for k, v := range a.Views {
		if bv := b.Views[k]; bv != nil {
			takeOver(&v.Definition, bv.Definition)
			if len(v.Columns) == len(bv.Columns) {
				for i := range v.Columns {
					takeOver(&v.Columns[i], bv.Columns[i])
				}
			}
		}
	}
	for k, x := range a.Constraints {
		if bx := b.Constraints[k]; bx != nil {
			takeOver(&x.Definition, bx.Definition)
		}
	}
	for k, x := range a.Indexes {
		if bx := b.Indexes[k]; bx != nil {
			takeOver(&x.Definition, bx.Definition)
		}
	}
	for k, x := range a.Triggers {
		if bx := b.Triggers[k]; bx != nil {
			takeOver(&x.Definition, bx.Definition)
		}
	}
	for k, x := range a.Policies {
		if bx := b.Policies[k]; bx != nil {
			takeOver(&x.Using, bx.Using)
			takeOver(&x.WithCheck, bx.WithCheck)
		}
	}
	for k, d := range a.Domains {
		bd := b.Domains[k]
		if bd == nil {
			continue
		}
		takeOver(&d.BaseType, bd.BaseType)
		takeOver(&d.Default, bd.Default)
		for n, def := range d.Constraints {
			if want, ok := bd.Constraints[n]; ok {
				takeOver(&def, want)
				d.Constraints[n] = def
			}
		}
	}
	for k, x := range a.Composites {
		if bx := b.Composites[k]; bx != nil && len(bx.Attributes) == len(x.Attributes) {
			for i, at := range x.Attributes {
				if bx.Attributes[i].Name == at.Name {
					takeOver(&at.Type, bx.Attributes[i].Type)
				}
			}
		}
	}
	for k, x := range a.TextSearchConfigs {
		bx := b.TextSearchConfigs[k]
		if bx == nil {
			continue
		}
		takeOver(&x.Parser, bx.Parser)
		for tok, dicts := range x.Mappings {
			if want := bx.Mappings[tok]; len(want) == len(dicts) {
				for i := range dicts {
					takeOver(&dicts[i], want[i])
				}
			}
		}
	}
	for k, f := range a.Functions {
		bf := b.Functions[k]
		if bf == nil || f.OID == 0 || f.OID != bf.OID {
			continue
		}
		head, body := splitFunctionDef(f.Definition)
		bHead, bBody := splitFunctionDef(bf.Definition)
		if body != bBody && !standardBody(body) {
			continue
		}
		if canon(head, renames, false) == canon(bHead, renames, true) && canon(body, renames, false) == canon(bBody, renames, true) {
			f.Definition = bf.Definition
		}
	}
}

// splitFunctionDef splits pg_get_functiondef's text into its header (the first line and those that
// follow it indented) and its body.
func splitFunctionDef(def string) (head, body string) {
	lines := strings.SplitAfter(def, "\n")
	i := 1
	for i < len(lines) && strings.HasPrefix(lines[i], " ") {
		i++
	}
	return strings.Join(lines[:min(i, len(lines))], ""), strings.Join(lines[min(i, len(lines)):], "")
}

// standardBody tells a SQL-standard function body (BEGIN ATOMIC ... END, RETURN ...), which PostgreSQL
// stores parsed and prints with the current names of what it uses.
func standardBody(body string) bool {
	b := strings.TrimSpace(body)
	return strings.HasPrefix(b, "BEGIN ATOMIC") || strings.HasPrefix(b, "RETURN ")
}

// retype rewrites, in the working after-catalog, the uses of the type whose key was ak (now bk): column
// types, the types of typed tables, view column types, attribute types of composite types and domains'
// base types.
func (g *downGen) retype(ak, bk string) {
	schema, name := schemaAndName(bk)
	newRef := QIdent(schema, name)
	fix := func(t string) string {
		base := baseTypeName(t)
		if typeKey(base) != ak {
			return t
		}
		return newRef + strings.TrimPrefix(t, base)
	}
	for _, t := range g.a.Tables {
		for _, c := range t.Columns {
			c.Type = fix(c.Type)
		}
		if t.OfType != "" {
			t.OfType = fix(t.OfType)
		}
	}
	for _, x := range g.a.Composites {
		for _, at := range x.Attributes {
			at.Type = fix(at.Type)
		}
	}
	for _, d := range g.a.Domains {
		d.BaseType = fix(d.BaseType)
	}
	for _, v := range g.a.Views {
		for i, c := range v.Columns {
			if j := strings.LastIndex(c, " "); j > 0 {
				v.Columns[i] = c[:j+1] + fix(c[j+1:])
			}
		}
	}
}

// followColumn updates, in the working catalog, what PostgreSQL itself updates when column from of
// table is renamed to to: the sequences it owns, the definitions of the table's indexes, constraints,
// triggers and policies that quote it. Renamed back (force unset), a definition is taken over only when
// it then reads exactly as the before-catalog's, so that what the rename restores is not dropped and
// built again (an index build on a big table) and anything else still is; renamed to a temporary name
// (force set), a definition reads with that name, so that the rename back from it is followed too.
func (g *downGen) followColumn(table, from, to string, force bool) {
	for _, s := range g.a.Sequences {
		if s.OwnedBy == subKey(table, from) {
			s.OwnedBy = subKey(table, to)
		}
	}
	word := regexp.MustCompile(`(^|[^A-Za-z0-9_$"])` + regexp.QuoteMeta(Ident(from)) + `($|[^A-Za-z0-9_$"])`)
	sub := func(def string) string {
		// Twice: adjacent occurrences share the separator the first pass consumed.
		for range 2 {
			def = word.ReplaceAllString(def, "${1}"+strings.ReplaceAll(Ident(to), "$", "$$")+"${2}")
		}
		return def
	}
	takeOver := func(have *string, want string) {
		if force {
			*have = sub(*have)
		} else if *have != want && sub(*have) == want {
			*have = want
		}
	}
	for k, x := range g.a.Indexes {
		if bx := g.b.Indexes[k]; bx != nil && x.QTable() == table {
			takeOver(&x.Definition, bx.Definition)
		}
	}
	for k, x := range g.a.Constraints {
		if bx := g.b.Constraints[k]; bx != nil && x.QTable() == table {
			takeOver(&x.Definition, bx.Definition)
		}
	}
	for k, x := range g.a.Triggers {
		if bx := g.b.Triggers[k]; bx != nil && x.QTable() == table {
			takeOver(&x.Definition, bx.Definition)
		}
	}
	for k, x := range g.a.Policies {
		if bx := g.b.Policies[k]; bx != nil && x.QTable() == table {
			takeOver(&x.Using, bx.Using)
			takeOver(&x.WithCheck, bx.WithCheck)
		}
	}
	// The table's column defaults and generation expressions.
	if t, bt := g.a.Tables[table], g.b.Tables[table]; t != nil && bt != nil {
		for _, c := range t.Columns {
			if bc := bt.Column(c.Name); bc != nil {
				takeOver(&c.Default, bc.Default)
				takeOver(&c.Generated, bc.Generated)
			}
		}
	}
	// The column lists and row filters of the publications that publish the table.
	for k, x := range g.a.Publications {
		pt, ok := x.Tables[table]
		bx := g.b.Publications[k]
		if !ok || bx == nil {
			continue
		}
		if bpt, ok := bx.Tables[table]; ok {
			pt.Columns = slices.Clone(pt.Columns)
			for i, c := range pt.Columns {
				if c == from {
					pt.Columns[i] = to
				}
			}
			slices.Sort(pt.Columns)
			takeOver(&pt.Where, bpt.Where)
			x.Tables[table] = pt
		}
	}
}

// retable moves table t of the working catalog from key ak to bk (schema newSchema, name newName), with
// its parts: constraints, indexes, triggers, policies and the sequences it owns move with it.
func (g *downGen) retable(t *Table, ak, bk, newSchema, newName string) {
	a := g.a
	delete(a.Tables, ak)
	oldSchema, oldName := t.Schema, t.Name
	t.Schema, t.Name = newSchema, newName
	a.Tables[bk] = t
	oldQ, newQ := QIdent(oldSchema, oldName), QIdent(newSchema, newName)
	fix := func(def string) string {
		def = strings.ReplaceAll(def, " ON "+Ident(oldSchema)+"."+Ident(oldName)+" ", " ON "+Ident(newSchema)+"."+Ident(newName)+" ")
		return strings.ReplaceAll(def, " ON "+oldQ+" ", " ON "+newQ+" ")
	}
	for k, x := range a.Constraints {
		if x.QTable() == ak {
			delete(a.Constraints, k)
			x.Schema, x.Table = newSchema, newName
			a.Constraints[Key(x.Schema, x.Table, x.Name)] = x
		}
		if x.References == ak {
			x.References = bk
			x.Definition = strings.Replace(x.Definition, "REFERENCES "+oldQ+"(", "REFERENCES "+newQ+"(", 1)
		}
	}
	for k, x := range a.Indexes {
		if x.QTable() == ak {
			delete(a.Indexes, k)
			x.Schema, x.Table = newSchema, newName
			x.Definition = fix(x.Definition)
			a.Indexes[Key(x.Schema, x.Name)] = x
		}
	}
	for k, x := range a.Triggers {
		if x.QTable() == ak {
			delete(a.Triggers, k)
			x.Schema, x.Table = newSchema, newName
			x.Definition = fix(x.Definition)
			a.Triggers[Key(x.Schema, x.Table, x.Name)] = x
		}
	}
	for k, x := range a.Policies {
		if x.QTable() == ak {
			delete(a.Policies, k)
			x.Schema, x.Table = newSchema, newName
			a.Policies[Key(x.Schema, x.Table, x.Name)] = x
		}
	}
	for k, s := range a.Sequences {
		if keyParent(s.OwnedBy) != ak {
			continue
		}
		s.OwnedBy = bk + strings.TrimPrefix(s.OwnedBy, ak)
		if s.Schema != newSchema {
			// ALTER TABLE ... SET SCHEMA moves the sequences the table's columns own.
			delete(a.Sequences, k)
			g.renamed = append(g.renamed, rename{oldSchema: newSchema, oldName: s.Name, newSchema: s.Schema, newName: s.Name})
			s.Schema = newSchema
			a.Sequences[Key(s.Schema, s.Name)] = s
		}
	}
	for _, x := range a.Publications {
		if pt, ok := x.Tables[ak]; ok {
			delete(x.Tables, ak)
			x.Tables[bk] = pt
		}
	}
	for _, x := range a.Tables {
		if x.PartitionOf == ak {
			x.PartitionOf = bk
		}
		for i, p := range x.Inherits {
			if p == ak {
				x.Inherits[i] = bk
			}
		}
	}
	g.rerelation(ak, bk)
}

// rerelation rewrites what refers to the relation whose key was ak (now bk) in the working catalog: the
// views that read it, and the indexes of a materialized view moved to another schema.
func (g *downGen) rerelation(ak, bk string) {
	schema, name := schemaAndName(bk)
	for k, x := range g.a.Indexes {
		if x.QTable() == ak {
			delete(g.a.Indexes, k)
			x.Schema, x.Table = schema, name
			g.a.Indexes[Key(x.Schema, x.Name)] = x
		}
	}
	for _, v := range g.a.Views {
		for i, d := range v.DependsOn {
			if d == ak {
				v.DependsOn[i] = bk
			}
		}
	}
}

// oidMove is an object of the catalog after the up (x, at key ak) that the catalog before it has under
// another key (bk, as bx).
type oidMove[T any] struct {
	ak, bk string
	x, bx  T
}

// renamedByOID are the objects of a (the catalog after the up) that b (before it) has with the same OID
// (oid; 0: none) under another key, and, when match is set, matching: the same object renamed or moved.
// The key may be held in either catalog by another object: untangle orders the renames back. Keys go
// in order.
func renamedByOID[T any](a, b map[string]T, oid func(T) uint32, match func(x, bx T) bool) []oidMove[T] {
	byOID := map[uint32][]string{}
	for _, bk := range sortedKeys(b) {
		if o := oid(b[bk]); o != 0 {
			byOID[o] = append(byOID[o], bk)
		}
	}
	var out []oidMove[T]
	for _, ak := range sortedKeys(a) {
		x := a[ak]
		if oid(x) == 0 {
			continue
		}
		if bx, ok := b[ak]; ok && oid(bx) == oid(x) {
			continue
		}
		for _, bk := range byOID[oid(x)] {
			if bx := b[bk]; bk != ak && (match == nil || match(x, bx)) {
				out = append(out, oidMove[T]{ak, bk, x, bx})
				break
			}
		}
	}
	return out
}

// movedByOID calls moved for each object of a (the catalog after the up) that is gone from b (before it)
// under its key and that b has under another key not taken in a, with the same OID (oid; 0: none) and,
// when match is set, matching: the same object renamed or moved. Keys go in order, and moved may change
// a (each move takes its old key in a).
func movedByOID[T any](a, b map[string]T, oid func(T) uint32, match func(x, bx T) bool, moved func(ak, bk string, x, bx T)) {
	for _, ak := range sortedKeys(a) {
		x := a[ak]
		if _, ok := b[ak]; ok || oid(x) == 0 {
			continue
		}
		for _, bk := range sortedKeys(b) {
			bx := b[bk]
			if _, taken := a[bk]; taken || oid(bx) != oid(x) || (match != nil && !match(x, bx)) {
				continue
			}
			moved(ak, bk, x, bx)
			break
		}
	}
}
