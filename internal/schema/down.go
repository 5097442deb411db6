package schema

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// DownScript is a generated rollback: DDL that takes the after-catalog back to the before-catalog.
type DownScript struct {
	// SQL is the whole script, steps in order, each preceded by its comment.
	SQL   string `json:"sql"`
	Steps []Step `json:"steps"`
	// DataLoss is set when a step cannot restore data (a table or column re-created empty): the
	// snapshot taken before the deploy is the rollback then, not this script.
	DataLoss bool `json:"data_loss"`
	// NoTransaction is set when a step cannot run in a transaction block (CREATE INDEX CONCURRENTLY):
	// run the steps one by one in autocommit mode.
	NoTransaction bool     `json:"no_transaction"`
	Warnings      []string `json:"warnings,omitempty"`
}

// Step is one statement of a DownScript.
type Step struct {
	// SQL is the statement without its terminating semicolon; empty for an irreversible step.
	SQL     string `json:"sql"`
	Comment string `json:"comment"`
	// DataLoss is set when the step re-creates something whose data it cannot bring back.
	DataLoss bool `json:"data_loss,omitempty"`
	// Irreversible is set when no DDL can undo the change (the step's SQL is empty).
	Irreversible bool `json:"irreversible,omitempty"`
	// NoTransaction is set when the step cannot run in a transaction block.
	NoTransaction bool `json:"no_transaction,omitempty"`
	// converted marks a data-loss step that casts values back (they are kept, maybe not as they were),
	// unlike one that re-creates a table or column empty.
	converted bool
}

// Empty reports whether the script has nothing to do.
func (s *DownScript) Empty() bool { return s == nil || len(s.Steps) == 0 }

// Statements are the SQL of the steps that have some, in order.
func (s *DownScript) Statements() []string {
	var out []string
	for _, st := range s.Steps {
		if st.SQL != "" {
			out = append(out, st.SQL)
		}
	}
	return out
}

// Reversible reports whether every change can be undone (no irreversible step).
func (s *DownScript) Reversible() bool {
	for _, st := range s.Steps {
		if st.Irreversible {
			return false
		}
	}
	return true
}

type downGen struct {
	a, b  *Catalog // a: after (what the database is), b: before (what it must become)
	steps []Step
	warns []string

	// created records objects (kind + "\x00" + key) this script creates, so their comments are restored.
	created map[string]bool
	// dropViews are the after-catalog views dropped; dropCons, dropIdx, dropTrg and dropPol likewise.
	dropViews, dropCons, dropIdx, dropTrg, dropPol map[string]bool
	// regenCols are "table.column" keys of generated columns dropped to be re-added with their expression.
	regenCols map[string]bool
	opts      DownOptions
}

func (g *downGen) add(comment, sql string) *Step {
	g.steps = append(g.steps, Step{SQL: sql, Comment: comment})
	return &g.steps[len(g.steps)-1]
}

func (g *downGen) irreversible(comment string) {
	g.steps = append(g.steps, Step{Comment: comment, Irreversible: true})
	g.warns = append(g.warns, comment)
}

// GenerateDown writes the DDL that takes a database from the after-catalog back to the before-catalog,
// in dependency order: triggers, policies, views, constraints, indexes and tables that the up added are
// dropped first; then types, sequences and functions are re-created, columns restored, tables,
// constraints, views, indexes and triggers re-created; objects the up added that others depended on are
// dropped last. Renames (recognised by OID in two snapshots of the same database) are undone by renaming.
func GenerateDown(before, after *Catalog) *DownScript {
	return GenerateDownWith(before, after, DownOptions{})
}

// DownOptions say how the down will be run.
type DownOptions struct {
	// InTransaction is set when the tool runs the down in one transaction block whatever it holds
	// (golang-migrate and dbmate send a file as one query; goose and Flyway wrap a file unless told
	// not to): no step may then refuse one, so indexes are built without CONCURRENTLY.
	InTransaction bool
}

// GenerateDownWith is GenerateDown for a down run as opts says.
func GenerateDownWith(before, after *Catalog, opts DownOptions) *DownScript {
	if before == nil {
		before = NewCatalog()
	}
	if after == nil {
		after = NewCatalog()
	}
	g := &downGen{a: clone(after), b: before, created: map[string]bool{}, dropViews: map[string]bool{},
		dropCons: map[string]bool{}, dropIdx: map[string]bool{}, dropTrg: map[string]bool{},
		dropPol: map[string]bool{}, regenCols: map[string]bool{}, opts: opts}
	g.renames()
	g.compositeRenames()
	g.dropDependents()
	g.dropTablesAndColumns()
	g.createTypes()
	g.restoreColumns()
	g.createTables()
	g.createDependents()
	g.dropTypes()
	g.comments()
	g.properties()
	if stepIndexSQL(g.steps, setBodiesOff) >= 0 {
		g.add("check function bodies again for what runs next on this session", "RESET check_function_bodies")
	}
	return g.script()
}

const setBodiesOff = "SET check_function_bodies = off"

func stepIndexSQL(steps []Step, sql string) int {
	for i, st := range steps {
		if st.SQL == sql {
			return i
		}
	}
	return -1
}

func clone(c *Catalog) *Catalog {
	b, err := json.Marshal(c)
	out := NewCatalog()
	if err != nil {
		return out
	}
	if err := json.Unmarshal(b, out); err != nil {
		return NewCatalog()
	}
	return out
}

func (g *downGen) script() *DownScript {
	s := &DownScript{Steps: g.steps, Warnings: g.warns}
	var b strings.Builder
	emptied, converted := false, false
	for _, st := range g.steps {
		if st.DataLoss {
			s.DataLoss = true
			if st.converted {
				converted = true
			} else {
				emptied = true
			}
		}
		if st.NoTransaction {
			s.NoTransaction = true
		}
	}
	var lost []string
	if emptied {
		lost = append(lost, "tables or columns come back empty")
	}
	if converted {
		lost = append(lost, "values the up converted to another type may not come back as they were")
	}
	if s.DataLoss {
		s.Warnings = append(s.Warnings, "this down cannot restore data ("+strings.Join(lost, "; ")+"): roll back from the snapshot instead")
	}
	if s.NoTransaction {
		b.WriteString("-- Run outside a transaction block: CREATE INDEX CONCURRENTLY cannot run inside one.\n")
	}
	for i, st := range g.steps {
		if i > 0 || s.NoTransaction {
			b.WriteString("\n")
		}
		switch {
		case st.Irreversible:
			b.WriteString("-- IRREVERSIBLE: " + st.Comment + "\n")
		case st.DataLoss:
			b.WriteString("-- DATA LOSS: " + st.Comment + "\n")
		default:
			b.WriteString("-- " + st.Comment + "\n")
		}
		if st.SQL != "" {
			b.WriteString(st.SQL + ";\n")
		}
	}
	s.SQL = b.String()
	return s
}

// renames undoes renames of tables, columns, views, sequences, constraints, indexes and enum values,
// and rewrites the working after-catalog to the old names so the rest compares by name.
func (g *downGen) renames() {
	a, b := g.a, g.b
	for _, ak := range sortedKeys(a.Tables) {
		t := a.Tables[ak]
		if _, ok := b.Tables[ak]; ok || t.OID == 0 {
			continue
		}
		for _, bk := range sortedKeys(b.Tables) {
			bt := b.Tables[bk]
			if _, taken := a.Tables[bk]; taken || bt.OID != t.OID || bt.Schema != t.Schema {
				continue
			}
			g.add(fmt.Sprintf("rename table %s back to %s", display(ak), display(bk)),
				"ALTER TABLE "+qkey(ak)+" RENAME TO "+Ident(bt.Name))
			g.retable(t, ak, bk, bt.Name)
			break
		}
	}
	for _, k := range sortedKeys(a.Tables) {
		t, bt := a.Tables[k], b.Tables[k]
		if bt == nil || t.OID == 0 || t.OID != bt.OID {
			continue
		}
		for _, c := range t.Columns {
			if bt.Column(c.Name) != nil {
				continue
			}
			for _, bc := range bt.Columns {
				if bc.Num == c.Num && t.Column(bc.Name) == nil {
					g.add(fmt.Sprintf("rename column %s.%s back to %s", display(k), c.Name, bc.Name),
						"ALTER TABLE "+qkey(k)+" RENAME COLUMN "+Ident(c.Name)+" TO "+Ident(bc.Name))
					for _, s := range a.Sequences {
						if s.OwnedBy == k+"."+c.Name {
							s.OwnedBy = k + "." + bc.Name
						}
					}
					g.followColumnRename(k, c.Name, bc.Name)
					c.Name = bc.Name
					break
				}
			}
		}
	}
	for _, ak := range sortedKeys(a.Views) {
		v := a.Views[ak]
		if _, ok := b.Views[ak]; ok || v.OID == 0 {
			continue
		}
		for _, bk := range sortedKeys(b.Views) {
			bv := b.Views[bk]
			if _, taken := a.Views[bk]; taken || bv.OID != v.OID || bv.Schema != v.Schema {
				continue
			}
			word := "VIEW"
			if v.Materialized {
				word = "MATERIALIZED VIEW"
			}
			g.add(fmt.Sprintf("rename %s %s back to %s", strings.ToLower(word), display(ak), display(bk)),
				"ALTER "+word+" "+qkey(ak)+" RENAME TO "+Ident(bv.Name))
			delete(a.Views, ak)
			v.Name = bv.Name
			a.Views[bk] = v
			for _, x := range a.Indexes {
				if x.QTable() == ak {
					x.Table = bv.Name
				}
			}
			break
		}
	}
	for _, ak := range sortedKeys(a.Sequences) {
		s := a.Sequences[ak]
		if _, ok := b.Sequences[ak]; ok || s.OID == 0 {
			continue
		}
		for _, bk := range sortedKeys(b.Sequences) {
			bs := b.Sequences[bk]
			if _, taken := a.Sequences[bk]; taken || bs.OID != s.OID || bs.Schema != s.Schema {
				continue
			}
			g.add(fmt.Sprintf("rename sequence %s back to %s", display(ak), display(bk)),
				"ALTER SEQUENCE "+qkey(ak)+" RENAME TO "+Ident(bs.Name))
			delete(a.Sequences, ak)
			s.Name = bs.Name
			a.Sequences[bk] = s
			break
		}
	}
	for _, ak := range sortedKeys(a.Constraints) {
		x := a.Constraints[ak]
		if _, ok := b.Constraints[ak]; ok || x.OID == 0 {
			continue
		}
		for _, bk := range sortedKeys(b.Constraints) {
			bx := b.Constraints[bk]
			if _, taken := a.Constraints[bk]; taken || bx.OID != x.OID || bx.QTable() != x.QTable() {
				continue
			}
			g.add(fmt.Sprintf("rename constraint %s on %s back to %s", x.Name, display(x.QTable()), bx.Name),
				"ALTER TABLE "+constraintOwner(x)+" RENAME CONSTRAINT "+Ident(x.Name)+" TO "+Ident(bx.Name))
			for ik, ix := range a.Indexes {
				if ix.Constraint == x.Name && ix.QTable() == x.QTable() {
					delete(a.Indexes, ik)
					ix.Constraint, ix.Name = bx.Name, bx.Name
					ix.Definition = strings.Replace(ix.Definition, " INDEX "+Ident(x.Name)+" ON ", " INDEX "+Ident(bx.Name)+" ON ", 1)
					a.Indexes[ix.Schema+"."+ix.Name] = ix
				}
			}
			delete(a.Constraints, ak)
			x.Name = bx.Name
			a.Constraints[bk] = x
			break
		}
	}
	for _, ak := range sortedKeys(a.Indexes) {
		x := a.Indexes[ak]
		if _, ok := b.Indexes[ak]; ok || x.OID == 0 || x.Constraint != "" {
			continue
		}
		for _, bk := range sortedKeys(b.Indexes) {
			bx := b.Indexes[bk]
			if _, taken := a.Indexes[bk]; taken || bx.OID != x.OID || bx.Schema != x.Schema {
				continue
			}
			g.add(fmt.Sprintf("rename index %s back to %s", display(ak), display(bk)),
				"ALTER INDEX "+qkey(ak)+" RENAME TO "+Ident(bx.Name))
			delete(a.Indexes, ak)
			x.Definition = strings.Replace(x.Definition, " INDEX "+Ident(x.Name)+" ON ", " INDEX "+Ident(bx.Name)+" ON ", 1)
			x.Name = bx.Name
			a.Indexes[bk] = x
			break
		}
	}
	for _, k := range sortedKeys(a.Enums) {
		e, be := a.Enums[k], b.Enums[k]
		if be == nil || len(e.ValueOIDs) != len(e.Values) || len(be.ValueOIDs) != len(be.Values) {
			continue
		}
		for i, v := range e.Values {
			j := slices.Index(be.ValueOIDs, e.ValueOIDs[i])
			if j < 0 || be.Values[j] == v || slices.Contains(e.Values, be.Values[j]) {
				continue
			}
			g.add(fmt.Sprintf("rename value %s of enum %s back to %s", Literal(v), display(k), Literal(be.Values[j])),
				"ALTER TYPE "+qkey(k)+" RENAME VALUE "+Literal(v)+" TO "+Literal(be.Values[j]))
			e.Values[i] = be.Values[j]
		}
	}
}

// compositeRenames undoes renames and moves of composite types (recognised by OID) and renames of their
// attributes (recognised by attnum, or by position when the attribute list kept its length), and
// rewrites the working after-catalog to the old names.
func (g *downGen) compositeRenames() {
	a, b := g.a, g.b
	for _, ak := range sortedKeys(a.Composites) {
		x := a.Composites[ak]
		if _, ok := b.Composites[ak]; ok || x.OID == 0 {
			continue
		}
		for _, bk := range sortedKeys(b.Composites) {
			bx := b.Composites[bk]
			if _, taken := a.Composites[bk]; taken || bx.OID != x.OID {
				continue
			}
			cur := qkey(ak)
			if bx.Name != x.Name {
				g.add(fmt.Sprintf("rename composite type %s back to %s", display(ak), bx.Name),
					"ALTER TYPE "+cur+" RENAME TO "+Ident(bx.Name))
				cur = QIdent(x.Schema, bx.Name)
			}
			if bx.Schema != x.Schema {
				g.add(fmt.Sprintf("move composite type %s back to schema %s", display(QIdent(x.Schema, bx.Name)), bx.Schema),
					"ALTER TYPE "+cur+" SET SCHEMA "+Ident(bx.Schema))
			}
			delete(a.Composites, ak)
			x.Schema, x.Name = bx.Schema, bx.Name
			a.Composites[bk] = x
			g.retype(ak, bk)
			break
		}
	}
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

// retype rewrites, in the working after-catalog, the uses of the type whose key was ak (now bk): column
// types, view column types, attribute types of composite types and domains' base types.
func (g *downGen) retype(ak, bk string) {
	schema, name, _ := strings.Cut(bk, ".")
	newRef := QIdent(schema, name)
	if schema == "public" {
		newRef = Ident(name)
	}
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

// followColumnRename updates, in the working catalog, what PostgreSQL itself updates when column from of
// table is renamed back to to: the definitions of the table's indexes, constraints, triggers and
// policies that quote it. A definition is taken over only when it then reads exactly as the
// before-catalog's, so that what the rename restores is not dropped and built again (an index build on
// a big table) and anything else still is.
func (g *downGen) followColumnRename(table, from, to string) {
	word := regexp.MustCompile(`(^|[^A-Za-z0-9_$"])` + regexp.QuoteMeta(Ident(from)) + `($|[^A-Za-z0-9_$"])`)
	sub := func(def string) string {
		// Twice: adjacent occurrences share the separator the first pass consumed.
		for range 2 {
			def = word.ReplaceAllString(def, "${1}"+strings.ReplaceAll(Ident(to), "$", "$$")+"${2}")
		}
		return def
	}
	takeOver := func(have *string, want string) {
		if *have != want && sub(*have) == want {
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
}

// retable moves table t of the working catalog from key ak to bk (name newName), with its parts.
func (g *downGen) retable(t *Table, ak, bk, newName string) {
	a := g.a
	delete(a.Tables, ak)
	oldName := t.Name
	t.Name = newName
	a.Tables[bk] = t
	oldQ, newQ := QIdent(t.Schema, oldName), QIdent(t.Schema, newName)
	fix := func(def string) string {
		def = strings.ReplaceAll(def, " ON "+t.Schema+"."+Ident(oldName)+" ", " ON "+t.Schema+"."+Ident(newName)+" ")
		return strings.ReplaceAll(def, " ON "+oldQ+" ", " ON "+newQ+" ")
	}
	for k, x := range a.Constraints {
		if x.QTable() == ak {
			delete(a.Constraints, k)
			x.Table = newName
			a.Constraints[x.Schema+"."+x.Table+"."+x.Name] = x
		}
		if x.References == ak {
			x.References = bk
			x.Definition = strings.Replace(x.Definition, "REFERENCES "+oldQ+"(", "REFERENCES "+newQ+"(", 1)
		}
	}
	for _, x := range a.Indexes {
		if x.QTable() == ak {
			x.Table = newName
			x.Definition = fix(x.Definition)
		}
	}
	for k, x := range a.Triggers {
		if x.QTable() == ak {
			delete(a.Triggers, k)
			x.Table = newName
			x.Definition = fix(x.Definition)
			a.Triggers[x.Schema+"."+x.Table+"."+x.Name] = x
		}
	}
	for k, x := range a.Policies {
		if x.QTable() == ak {
			delete(a.Policies, k)
			x.Table = newName
			a.Policies[x.Schema+"."+x.Table+"."+x.Name] = x
		}
	}
	for _, s := range a.Sequences {
		if strings.HasPrefix(s.OwnedBy, ak+".") {
			s.OwnedBy = bk + strings.TrimPrefix(s.OwnedBy, ak)
		}
	}
	for _, v := range a.Views {
		for i, d := range v.DependsOn {
			if d == ak {
				v.DependsOn[i] = bk
			}
		}
	}
}
