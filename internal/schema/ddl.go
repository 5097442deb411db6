package schema

import (
	"fmt"
	"slices"
	"strings"
)

// This file builds the DDL statements GenerateDown emits, one object at a time.

func tableName(key string) string { return qkey(key) }

func constraintOwner(x *Constraint) string { return QIdent(x.Schema, x.Table) }

// createTableSQL writes CREATE TABLE, or CREATE FOREIGN TABLE for a foreign table. A typed table's
// columns are written out (the risk rules learn them from this text): the down makes it typed again with
// ALTER TABLE ... OF.
func createTableSQL(t *Table) string {
	prefix, server := "CREATE TABLE ", ""
	switch {
	case t.Foreign():
		prefix, server = "CREATE FOREIGN TABLE ", " SERVER "+Ident(t.Server)+foreignOptionsSQL(t.ForeignOptions)
	case t.Unlogged:
		prefix = "CREATE UNLOGGED TABLE "
	}
	using := ""
	if t.AccessMethod != "" && !t.Foreign() {
		using = " USING " + Ident(t.AccessMethod)
	}
	if t.PartitionOf != "" {
		return prefix + QIdent(t.Schema, t.Name) + " PARTITION OF " + qkey(t.PartitionOf) + " " + t.PartitionBound + using + server
	}
	var cols []string
	for _, c := range t.Columns {
		if !c.Inherited {
			// A foreign table column's OPTIONS come right after its type.
			cols = append(cols, "    "+Ident(c.Name)+" "+c.Type+foreignOptionsSQL(c.ForeignOptions)+strings.TrimPrefix(columnSummary(c), c.Type))
		}
	}
	s := prefix + QIdent(t.Schema, t.Name) + " (\n" + strings.Join(cols, ",\n") + "\n)"
	if len(cols) == 0 {
		s = prefix + QIdent(t.Schema, t.Name) + " ()"
	}
	if len(t.Inherits) > 0 {
		parents := make([]string, len(t.Inherits))
		for i, p := range t.Inherits {
			parents[i] = qkey(p)
		}
		s += " INHERITS (" + strings.Join(parents, ", ") + ")"
	}
	if t.Partitioned {
		s += " PARTITION BY " + t.PartitionKey
	}
	return s + using + server
}

func addConstraintSQL(x *Constraint) string {
	s := "ALTER TABLE " + constraintOwner(x) + " ADD CONSTRAINT " + Ident(x.Name) + " " + x.Definition
	if !x.Validated && (x.Type == "c" || x.Type == "f") && !strings.HasSuffix(x.Definition, "NOT VALID") {
		s += " NOT VALID"
	}
	return s
}

func dropConstraintSQL(x *Constraint) string {
	return "ALTER TABLE " + constraintOwner(x) + " DROP CONSTRAINT " + Ident(x.Name)
}

// createIndexSQL is the index's definition, built CONCURRENTLY when concurrent.
func createIndexSQL(x *Index, concurrent bool) string {
	// pg_get_indexdef says ON ONLY for a partitioned table's index; without ONLY the index is built on
	// every partition too, as it was.
	def := strings.Replace(x.Definition, " ON ONLY ", " ON ", 1)
	if concurrent {
		for _, p := range []string{"CREATE UNIQUE INDEX ", "CREATE INDEX "} {
			if strings.HasPrefix(def, p) {
				def = p + "CONCURRENTLY " + def[len(p):]
				break
			}
		}
	}
	return def
}

func createSequenceSQL(s *Sequence) string {
	if s.Unlogged {
		return "CREATE UNLOGGED SEQUENCE " + QIdent(s.Schema, s.Name) + " " + sequenceOptions(s)
	}
	return "CREATE SEQUENCE " + QIdent(s.Schema, s.Name) + " " + sequenceOptions(s)
}

func sequenceOptions(s *Sequence) string {
	cycle := "NO CYCLE"
	if s.Cycle {
		cycle = "CYCLE"
	}
	return fmt.Sprintf("AS %s INCREMENT BY %d MINVALUE %d MAXVALUE %d START WITH %d CACHE %d %s",
		s.Type, s.Increment, s.Min, s.Max, s.Start, s.Cache, cycle)
}

func ownedBySQL(s *Sequence) string {
	owner := "NONE"
	if s.OwnedBy != "" {
		if parts := SplitKey(s.OwnedBy); len(parts) == 3 {
			owner = QIdent(parts[0], parts[1]) + "." + Ident(parts[2])
		}
	}
	return "ALTER SEQUENCE " + QIdent(s.Schema, s.Name) + " OWNED BY " + owner
}

func createViewSQL(v *View) string {
	def := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v.Definition), ";"))
	if v.Materialized {
		using := ""
		if v.AccessMethod != "" {
			using = " USING " + Ident(v.AccessMethod)
		}
		// One never populated (or made unscannable again) is created so: it reads as not populated.
		noData := ""
		if v.NoData {
			noData = "\nWITH NO DATA"
		}
		return "CREATE MATERIALIZED VIEW " + QIdent(v.Schema, v.Name) + using + " AS\n" + def + noData
	}
	return "CREATE VIEW " + QIdent(v.Schema, v.Name) + " AS\n" + def
}

func dropViewSQL(v *View) string {
	if v.Materialized {
		return "DROP MATERIALIZED VIEW " + QIdent(v.Schema, v.Name)
	}
	return "DROP VIEW " + QIdent(v.Schema, v.Name)
}

// functionKeyword is what COMMENT ON, DROP and the descriptions of steps call f: FUNCTION, PROCEDURE
// or AGGREGATE (COMMENT ON FUNCTION and DROP FUNCTION refuse an aggregate: "is an aggregate function").
func functionKeyword(f *Function) string {
	switch f.Kind {
	case "p":
		return "PROCEDURE"
	case "a":
		return "AGGREGATE"
	}
	return "FUNCTION"
}

func functionRef(f *Function) string {
	return functionKeyword(f) + " " + QIdent(f.Schema, f.Name) + "(" + routineArgs(f) + ")"
}

// routineArgs are f's arguments as DROP, COMMENT ON and ALTER take them: * for an aggregate of none
// (count(*)-like), which they refuse as ().
func routineArgs(f *Function) string {
	if f.Kind == "a" && f.Args == "" {
		return "*"
	}
	return f.Args
}

func createEnumSQL(e *Enum) string {
	return "CREATE TYPE " + QIdent(e.Schema, e.Name) + " AS ENUM (" + strings.Join(quoteAll(e.Values), ", ") + ")"
}

func createCompositeSQL(x *Composite) string {
	return "CREATE TYPE " + QIdent(x.Schema, x.Name) + " AS " + compositeAttributes(x)
}

// compositeAttributes writes the attribute list of a composite type as CREATE TYPE takes it.
func compositeAttributes(x *Composite) string {
	parts := make([]string, len(x.Attributes))
	for i, a := range x.Attributes {
		parts[i] = attributeSQL(a)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func attributeSQL(a *Attribute) string {
	s := Ident(a.Name) + " " + a.Type
	if a.Collation != "" {
		s += " COLLATE " + a.Collation
	}
	return s
}

func createDomainSQL(d *Domain) string {
	return "CREATE DOMAIN " + QIdent(d.Schema, d.Name) + " AS " + domainSummary(d)
}

func createExtensionSQL(e *Extension) string {
	return "CREATE EXTENSION IF NOT EXISTS " + Ident(e.Name) + " WITH SCHEMA " + Ident(e.Schema) +
		" VERSION " + Literal(e.Version)
}

func createTriggerSQL(t *Trigger) string { return t.Definition }

func dropTriggerSQL(t *Trigger) string {
	return "DROP TRIGGER " + Ident(t.Name) + " ON " + QIdent(t.Schema, t.Table)
}

func triggerEnableSQL(t *Trigger) string {
	verb := map[string]string{"O": "ENABLE TRIGGER ", "D": "DISABLE TRIGGER ", "R": "ENABLE REPLICA TRIGGER ",
		"A": "ENABLE ALWAYS TRIGGER "}[t.Enabled]
	if verb == "" {
		verb = "ENABLE TRIGGER "
	}
	return "ALTER TABLE " + QIdent(t.Schema, t.Table) + " " + verb + Ident(t.Name)
}

func createPolicySQL(p *Policy) string {
	s := "CREATE POLICY " + Ident(p.Name) + " ON " + QIdent(p.Schema, p.Table)
	if !p.Permissive {
		s += " AS RESTRICTIVE"
	}
	s += " FOR " + p.Command + " TO " + p.Roles
	if p.Using != "" {
		s += " USING (" + p.Using + ")"
	}
	if p.WithCheck != "" {
		s += " WITH CHECK (" + p.WithCheck + ")"
	}
	return s
}

func dropPolicySQL(p *Policy) string {
	return "DROP POLICY " + Ident(p.Name) + " ON " + QIdent(p.Schema, p.Table)
}

func commentSQL(target, comment string) string {
	v := "NULL"
	if comment != "" {
		v = Literal(comment)
	}
	return "COMMENT ON " + target + " IS " + v
}

// columnTarget names a column in COMMENT ON / ALTER TABLE.
func columnTarget(tableKey, col string) string { return qkey(tableKey) + "." + Ident(col) }

// orderRelations sorts relation keys so that each comes after the relations it depends on (deps gives
// them); cycles keep their sorted order.
func orderRelations(keys []string, deps func(string) []string) []string {
	slices.Sort(keys)
	in := map[string]bool{}
	for _, k := range keys {
		in[k] = true
	}
	var out []string
	state := map[string]int{}
	var visit func(k string)
	visit = func(k string) {
		if state[k] != 0 {
			return
		}
		state[k] = 1
		d := slices.Clone(deps(k))
		slices.Sort(d)
		for _, x := range d {
			if in[x] {
				visit(x)
			}
		}
		state[k] = 2
		out = append(out, k)
	}
	for _, k := range keys {
		visit(k)
	}
	return out
}

// SchemaSQL writes the schemas, enums, domains, sequences, functions, tables and views of the catalog
// that keep returns true for (by bare name), with the tables' constraints and indexes, as DDL: for tools that read
// a schema from SQL (the risk rules learn column types, NOT NULL, CHECK constraints and indexes from
// it, and take what it does not describe as absent, so each kind of object a migration may name is
// written). A nil keep keeps everything.
func (c *Catalog) SchemaSQL(keep func(name string) bool) string {
	if keep == nil {
		keep = func(string) bool { return true }
	}
	var b strings.Builder
	for _, k := range sortedKeys(c.Schemas) {
		if n := c.Schemas[k].Name; n != "public" && keep(n) {
			b.WriteString("CREATE SCHEMA " + Ident(n) + ";\n")
		}
	}
	for _, k := range sortedKeys(c.Enums) {
		if e := c.Enums[k]; keep(e.Name) {
			b.WriteString(createEnumSQL(e) + ";\n")
		}
	}
	for _, k := range sortedKeys(c.Sequences) {
		if x := c.Sequences[k]; keep(x.Name) {
			b.WriteString(createSequenceSQL(x) + ";\n")
		}
	}
	for _, k := range sortedKeys(c.Domains) {
		if d := c.Domains[k]; keep(d.Name) {
			b.WriteString(createDomainSQL(d) + ";\n")
		}
	}
	tables := map[string]bool{}
	for _, k := range sortedKeys(c.Tables) {
		if t := c.Tables[k]; keep(t.Name) {
			tables[k] = true
		}
	}
	// The functions that call a kept function, through LANGUAGE sql bodies the rules read, come along, and
	// so do the tables whose indexes, stored generated columns, CHECK and exclusion constraints or
	// partition key call one of them: PostgreSQL recomputes none of these when the function is replaced
	// (replace-function-in-use), which the rules tell from the expressions.
	called := map[string]bool{}
	for _, f := range c.Functions {
		if (f.Kind == "f" || f.Kind == "w") && keep(f.Name) {
			called[strings.ToLower(f.Name)] = true
		}
	}
	callers := map[string]bool{} // by key
	for grew := len(called) > 0; grew; {
		grew = false
		for k, f := range c.Functions {
			if (f.Kind == "f" || f.Kind == "w") && !callers[k] && !called[strings.ToLower(f.Name)] && namesWord(f.Definition, called) {
				callers[k], called[strings.ToLower(f.Name)], grew = true, true, true
			}
		}
	}
	if len(called) > 0 {
		for k, t := range c.Tables {
			if tables[k] {
				continue
			}
			uses := namesWord(t.PartitionKey, called)
			for _, col := range t.Columns {
				uses = uses || namesWord(col.Generated, called)
			}
			if uses {
				tables[k] = true
			}
		}
		for _, x := range c.Indexes {
			if namesWord(x.Definition, called) {
				tables[x.QTable()] = true
			}
		}
		for _, x := range c.Constraints {
			if (x.Type == "c" || x.Type == "x") && namesWord(x.Definition, called) {
				tables[x.QTable()] = true
			}
		}
	}
	// A kept partitioned table's DEFAULT partition comes along: attaching a partition scans it under
	// ACCESS EXCLUSIVE, though the migration does not name it.
	for k, t := range c.Tables {
		if t.PartitionBound == "DEFAULT" && tables[t.PartitionOf] {
			tables[k] = true
		}
	}
	// The tables whose foreign keys reference a kept partitioned table come along: DETACH PARTITION
	// drops the foreign key's copy for the partition on each, under ACCESS EXCLUSIVE, after scanning it.
	for _, x := range c.Constraints {
		if x.Type == "f" && !x.Inherited && tables[x.References] {
			if t := c.Tables[x.References]; t != nil && t.PartitionKey != "" {
				tables[x.QTable()] = true
			}
		}
	}
	// The triggers of the kept tables, and the functions they execute, come along too, as do the
	// functions whose body names a kept table: PostgreSQL does not track the columns such a body
	// names, so the rules read it to tell what a DROP COLUMN breaks.
	triggerFuncs := map[string]bool{}
	for _, tr := range c.Triggers {
		if tables[tr.QTable()] {
			triggerFuncs[tr.Function] = true
		}
	}
	// Functions (not procedures or aggregates) as pg_get_functiondef writes them: the rules judge a
	// DEFAULT calling one by its volatility and, for LANGUAGE sql, its body. One with a BEGIN ATOMIC or
	// RETURN body that names a kept table (in its body or as a parameter's row type) comes after the
	// tables and views: PostgreSQL resolves such a body when it creates the function, and records a
	// dependency on each column it uses, which the rules learn only for a table they already know.
	var after []string
	for _, k := range sortedKeys(c.Functions) {
		f := c.Functions[k]
		if (f.Kind == "f" || f.Kind == "w") && f.Range == nil && f.Definition != "" && (keep(f.Name) || callers[k] || triggerFuncs[f.Signature()] || namesTable(f.Definition, c.Tables, tables)) {
			def := strings.TrimRight(f.Definition, "\n") + ";\n"
			if sqlBody(f.Definition) && namesTable(f.Definition, c.Tables, tables) {
				after = append(after, def)
				continue
			}
			b.WriteString(def)
		}
	}
	for _, k := range sortedKeys(c.Tables) {
		if tables[k] {
			b.WriteString(createTableSQL(c.Tables[k]) + ";\n")
		}
	}
	for _, k := range sortedKeys(c.Constraints) {
		if x := c.Constraints[k]; tables[x.QTable()] && !x.Inherited {
			b.WriteString(addConstraintSQL(x) + ";\n")
		}
	}
	for _, k := range sortedKeys(c.Views) {
		if v := c.Views[k]; keep(v.Name) {
			b.WriteString(createViewSQL(v) + ";\n")
			tables[k] = true // a materialized view's indexes
		}
	}
	for _, def := range after {
		b.WriteString(def)
	}
	for _, k := range sortedKeys(c.Indexes) {
		if x := c.Indexes[k]; tables[x.QTable()] && x.Constraint == "" {
			b.WriteString(x.Definition + ";\n")
		}
	}
	for _, k := range sortedKeys(c.Triggers) {
		tr := c.Triggers[k]
		if !tables[tr.QTable()] || tr.Definition == "" {
			continue
		}
		b.WriteString(tr.Definition + ";\n")
		switch target := Ident(tr.Schema) + "." + Ident(tr.Table); tr.Enabled {
		case "D":
			b.WriteString("ALTER TABLE " + target + " DISABLE TRIGGER " + Ident(tr.Name) + ";\n")
		case "R":
			b.WriteString("ALTER TABLE " + target + " ENABLE REPLICA TRIGGER " + Ident(tr.Name) + ";\n")
		case "A":
			b.WriteString("ALTER TABLE " + target + " ENABLE ALWAYS TRIGGER " + Ident(tr.Name) + ";\n")
		}
	}
	// A serial column's sequence belongs to it (moving the sequence alone fails, dropping the column
	// drops it).
	for _, k := range sortedKeys(c.Sequences) {
		x := c.Sequences[k]
		if parts := SplitKey(x.OwnedBy); keep(x.Name) && len(parts) == 3 && tables[Key(parts[0], parts[1])] {
			b.WriteString(ownedBySQL(x) + ";\n")
		}
	}
	return b.String()
}

// namesTable tells whether text (a function's definition) has the name of one of the kept tables as a
// word, in any letter case: the body may name its columns.
func namesTable(text string, all map[string]*Table, kept map[string]bool) bool {
	lower := strings.ToLower(text)
	for k := range kept {
		t := all[k]
		if t == nil {
			continue
		}
		name := strings.ToLower(t.Name)
		for i := 0; ; {
			j := strings.Index(lower[i:], name)
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(name)
			if (start == 0 || !wordByte(lower[start-1])) && (end == len(lower) || !wordByte(lower[end])) {
				return true
			}
			i = start + 1
		}
	}
	return false
}

// sqlBody tells whether def, as pg_get_functiondef writes a function, has a BEGIN ATOMIC or RETURN
// body (PostgreSQL 14 and later), which PostgreSQL parses when it creates the function, rather than
// one written as a string (AS $function$ …): the lines of its attributes start with a space, the
// body's first line does not.
func sqlBody(def string) bool {
	lines := strings.Split(def, "\n")
	for _, l := range lines[min(1, len(lines)):] {
		if l != "" && l[0] != ' ' {
			return strings.HasPrefix(l, "BEGIN ATOMIC") || strings.HasPrefix(l, "RETURN ")
		}
	}
	return false
}

// namesWord tells whether text has one of words (lower-case) as a word, in any letter case.
func namesWord(text string, words map[string]bool) bool {
	lower := strings.ToLower(text)
	for i := 0; i < len(lower); {
		if !wordByte(lower[i]) {
			i++
			continue
		}
		j := i
		for j < len(lower) && wordByte(lower[j]) {
			j++
		}
		if words[lower[i:j]] {
			return true
		}
		i = j
	}
	return false
}

func wordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 0x80
}
