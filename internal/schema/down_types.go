package schema

import (
	"fmt"
	"slices"
	"strings"
)

// This file holds the phases of a generated down for types and routines: they are re-created or changed
// back before the tables that use them (createTypes), and what the up added is dropped after them
// (dropTypes).

// createTypes re-creates schemas, extensions, text search dictionaries and configurations, enums,
// domains, sequences and functions the up removed or changed.
// createSchemas re-creates the schemas the up dropped or renamed, before anything is moved back into
// them: a schema renamed (ALTER SCHEMA a RENAME TO b) has its objects moved back one by one (renames),
// into the schema of the old name, which the up left nowhere. A schema needs nothing made before it;
// its owner and privileges are restored with the others' (properties).
func (g *downGen) createSchemas() {
	for _, k := range sortedKeys(g.b.Schemas) {
		if g.a.Schemas[k] == nil {
			g.add("re-create schema "+k, "CREATE SCHEMA "+Ident(k))
			g.markCreated(KindSchema, k)
		}
	}
}

func (g *downGen) createTypes() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(b.Functions) {
		if b.Functions[k].Range != nil || b.Functions[k].Kind == "a" {
			continue // an aggregate has no body to check
		}
		if a.Functions[k] == nil || a.Functions[k].Definition != b.Functions[k].Definition {
			g.add("let function bodies refer to tables re-created later", setBodiesOff)
			break
		}
	}
	for _, k := range sortedKeys(b.Extensions) {
		e, ae := b.Extensions[k], a.Extensions[k]
		switch {
		case ae == nil:
			g.add("re-create extension "+k, createExtensionSQL(e))
			g.markCreated(KindExtension, k)
		case ae.Version != e.Version:
			g.add(fmt.Sprintf("return extension %s to version %s", k, e.Version),
				"ALTER EXTENSION "+Ident(k)+" UPDATE TO "+Literal(e.Version))
		}
		if ae != nil && ae.Schema != e.Schema {
			g.add("move extension "+k+" back to schema "+e.Schema, "ALTER EXTENSION "+Ident(k)+" SET SCHEMA "+Ident(e.Schema))
		}
	}
	// After the extensions, whose templates and parsers they may use.
	g.createTextSearch()
	// Before the routines, which may name them.
	g.createShellTypes()
	for _, k := range sortedKeys(b.Enums) {
		e, ae := b.Enums[k], a.Enums[k]
		if ae == nil {
			g.add("re-create enum "+display(k), createEnumSQL(e))
			g.markCreated(KindEnum, k)
			continue
		}
		g.enumValues(k, ae, e)
	}
	// Composite types come after the enums, domains and range types their attributes use; domains over
	// a composite type are created with the composite types, below.
	for _, k := range sortedKeys(b.Domains) {
		d, ad := b.Domains[k], a.Domains[k]
		if b.Composites[typeKey(baseTypeName(d.BaseType))] != nil {
			continue
		}
		if ad == nil {
			g.add("re-create domain "+display(k), createDomainSQL(d))
			g.markCreated(KindDomain, k)
			continue
		}
		g.domainChanges(k, ad, d)
	}
	ranges, aRanges := rangeTypes(b), rangeTypes(a)
	for _, k := range sortedKeys(ranges) {
		r, ar := ranges[k], aRanges[k]
		if ar != nil && ar.Definition != r.Definition {
			g.rangeRedefined(k, ar, r)
			continue
		}
		if ar == nil {
			g.add("re-create range type "+display(k), "CREATE TYPE "+QIdent(r.Schema, r.Name)+" AS RANGE ("+r.Definition+")")
			g.markCreated(KindRange, k)
		}
	}
	// Composite types and the domains over them, in dependency order (the key of such a domain starts
	// with "domain " here).
	var typeKeys []string
	for _, k := range sortedKeys(b.Composites) {
		typeKeys = append(typeKeys, k)
	}
	for _, k := range sortedKeys(b.Domains) {
		if b.Composites[typeKey(baseTypeName(b.Domains[k].BaseType))] != nil {
			typeKeys = append(typeKeys, "domain "+k)
		}
	}
	ref := func(t string) string {
		k := typeKey(baseTypeName(t))
		switch {
		case b.Composites[k] != nil:
			return k
		case b.Domains[k] != nil && b.Composites[typeKey(baseTypeName(b.Domains[k].BaseType))] != nil:
			return "domain " + k
		}
		return ""
	}
	typeKeys = orderRelations(typeKeys, func(k string) []string {
		if d, ok := strings.CutPrefix(k, "domain "); ok {
			return []string{ref(b.Domains[d].BaseType)}
		}
		var deps []string
		for _, at := range b.Composites[k].Attributes {
			if r := ref(at.Type); r != "" && r != k {
				deps = append(deps, r)
			}
		}
		return deps
	})
	for _, k := range typeKeys {
		if d, ok := strings.CutPrefix(k, "domain "); ok {
			if a.Domains[d] == nil {
				g.add("re-create domain "+display(d), createDomainSQL(b.Domains[d]))
				g.markCreated(KindDomain, d)
			} else {
				g.domainChanges(d, a.Domains[d], b.Domains[d])
			}
			continue
		}
		x, ax := b.Composites[k], a.Composites[k]
		if ax == nil {
			g.add("re-create composite type "+display(k), createCompositeSQL(x))
			g.markCreated(KindComposite, k)
			continue
		}
		g.compositeChanges(k, ax, x)
	}
	for _, k := range sortedKeys(b.Sequences) {
		s, as := b.Sequences[k], a.Sequences[k]
		if as == nil {
			g.add("re-create sequence "+display(k)+" (its current value is not restored)", createSequenceSQL(s))
			g.markCreated(KindSequence, k)
			continue
		}
		if sequenceOptions(as) != sequenceOptions(s) {
			g.add("restore the options of sequence "+display(k), "ALTER SEQUENCE "+qkey(k)+" "+sequenceOptions(s))
		}
		if as.Unlogged != s.Unlogged {
			mode := "LOGGED"
			if s.Unlogged {
				mode = "UNLOGGED"
			}
			g.add("make sequence "+display(k)+" "+strings.ToLower(mode)+" again", "ALTER SEQUENCE "+qkey(k)+" SET "+mode)
		}
	}
	var funcs []string
	for k, f := range b.Functions {
		if f.Range != nil {
			continue // a range type's constructors come with the type
		}
		if af := a.Functions[k]; af == nil || af.Definition != f.Definition || f.Kind == "a" && aggregateChanged(af, f) {
			funcs = append(funcs, k)
		}
	}
	// SQL-standard bodies are parsed when created: the functions they call must exist first.
	// A function written in a language the down creates again comes after the language's handlers.
	funcs = orderRelations(funcs, func(k string) []string {
		return append(slices.Clone(b.Functions[k].DependsOn), g.languageFunctions(b.Functions[k])...)
	})
	for _, k := range funcs {
		f, af := b.Functions[k], a.Functions[k]
		word := strings.ToLower(functionKeyword(f))
		if f.Kind == "w" || f.Definition == "" {
			g.irreversible(fmt.Sprintf("aggregate %s cannot be re-created from the catalog: write its CREATE AGGREGATE by hand", display(k)))
			continue
		}
		if f.Kind == "a" {
			// After the functions it names (DependsOn has them: pg_depend records an aggregate's
			// transition, final, combine, serial and moving functions), and its sort operator.
			if g.sortOperatorLater(f) {
				g.laterAggregates = append(g.laterAggregates, k)
			} else {
				g.createAggregate(k, f, af)
			}
			continue
		}
		g.createLanguageFor(f)
		verb := "re-create "
		if af != nil {
			verb = "restore the definition of "
		}
		g.add(verb+word+" "+display(k), strings.TrimRight(strings.TrimSpace(f.Definition), ";"))
		if af == nil {
			g.markCreated(f.kindName(), k)
		}
	}
}

func (f *Function) kindName() string {
	if f.Kind == "p" {
		return KindProcedure
	}
	return KindFunction
}

func (g *downGen) enumValues(k string, ae, e *Enum) {
	for _, v := range ae.Values {
		if !slices.Contains(e.Values, v) {
			g.irreversible(fmt.Sprintf("enum %s keeps value %s that the up added: PostgreSQL cannot drop an enum value "+
				"(re-create the type by hand, or restore the snapshot)", display(k), Literal(v)))
		}
	}
	have := slices.Clone(ae.Values)
	for i, v := range e.Values {
		if slices.Contains(have, v) {
			continue
		}
		pos := ""
		if i > 0 {
			pos = " AFTER " + Literal(e.Values[i-1])
		} else if len(have) > 0 {
			pos = " BEFORE " + Literal(have[0])
		}
		g.add(fmt.Sprintf("restore value %s of enum %s", Literal(v), display(k)),
			"ALTER TYPE "+qkey(k)+" ADD VALUE "+Literal(v)+pos)
		j := 0
		if i > 0 {
			j = slices.Index(have, e.Values[i-1]) + 1
		}
		have = slices.Insert(have, j, v)
	}
	var kept []string
	for _, v := range have {
		if slices.Contains(e.Values, v) {
			kept = append(kept, v)
		}
	}
	if !slices.Equal(kept, e.Values) {
		g.irreversible(fmt.Sprintf("enum %s has its values in another order than before: the order cannot be changed in place", display(k)))
	}
}

// compositeChanges takes composite type k back from its attributes after the up (ax) to those before (x):
// attributes the up added are dropped, those it dropped are added again (at the end: if they were not
// last, the verification of the down says the order differs), and changed types are changed back. The
// tables that stay of the type change with it (CASCADE).
func (g *downGen) compositeChanges(k string, ax, x *Composite) {
	alter := "ALTER TYPE " + qkey(k) + " "
	cascade := ""
	for _, t := range g.a.Tables {
		if t.OfType != "" && typeKey(t.OfType) == k {
			cascade = " CASCADE"
		}
	}
	had := func(c *Composite, name string) *Attribute {
		for _, a := range c.Attributes {
			if a.Name == name {
				return a
			}
		}
		return nil
	}
	for _, a := range ax.Attributes {
		if had(x, a.Name) == nil {
			g.add(fmt.Sprintf("drop attribute %s of composite type %s (added by the up)", a.Name, display(k)), alter+"DROP ATTRIBUTE "+Ident(a.Name)+cascade)
		}
	}
	for _, a := range x.Attributes {
		cur := had(ax, a.Name)
		switch {
		case cur == nil:
			g.add(fmt.Sprintf("add attribute %s of composite type %s again", a.Name, display(k)), alter+"ADD ATTRIBUTE "+attributeSQL(a)+cascade)
		case cur.Type != a.Type || cur.Collation != a.Collation:
			sql := alter + "ALTER ATTRIBUTE " + Ident(a.Name) + " SET DATA TYPE " + a.Type
			if a.Collation != "" {
				sql += " COLLATE " + a.Collation
			}
			g.add(fmt.Sprintf("change attribute %s of composite type %s back to %s", a.Name, display(k), a.Type), sql+cascade)
		}
	}
}

func (g *downGen) domainChanges(k string, ad, d *Domain) {
	alter := "ALTER DOMAIN " + qkey(k) + " "
	if ad.BaseType != d.BaseType || ad.Collation != d.Collation {
		g.irreversible(fmt.Sprintf("domain %s is %s, was %s: a domain's type cannot be changed in place", display(k),
			ad.BaseType, d.BaseType))
	}
	if ad.Default != d.Default {
		if d.Default == "" {
			g.add("drop default of domain "+display(k), alter+"DROP DEFAULT")
		} else {
			g.add("restore default of domain "+display(k), alter+"SET DEFAULT "+d.Default)
		}
	}
	if ad.NotNull != d.NotNull {
		if d.NotNull {
			g.add("make domain "+display(k)+" NOT NULL again", alter+"SET NOT NULL")
		} else {
			g.add("make domain "+display(k)+" nullable again", alter+"DROP NOT NULL")
		}
	}
	for _, n := range sortedKeys(ad.Constraints) {
		if def, ok := d.Constraints[n]; !ok || def != ad.Constraints[n] {
			g.add(fmt.Sprintf("drop constraint %s of domain %s", n, display(k)), alter+"DROP CONSTRAINT "+Ident(n))
		}
	}
	for _, n := range sortedKeys(d.Constraints) {
		if def, ok := ad.Constraints[n]; !ok || def != d.Constraints[n] {
			g.add(fmt.Sprintf("restore constraint %s of domain %s", n, display(k)),
				alter+"ADD CONSTRAINT "+Ident(n)+" "+d.Constraints[n])
		}
	}
}

// dropTypes drops what the up added that tables, views or functions used: functions, text search
// configurations and dictionaries, composite types, domains, enums, sequences, extensions and schemas,
// in that order.
func (g *downGen) dropTypes() {
	a, b := g.a, g.b
	// One statement per kind: PostgreSQL resolves the dependencies among the objects of one DROP.
	var funcs, langFuncs, aggs, types, seqs, exts, schemas []string
	for _, k := range sortedKeys(a.Functions) {
		if f := a.Functions[k]; b.Functions[k] == nil && f.Range == nil {
			ref := QIdent(f.Schema, f.Name) + "(" + routineArgs(f) + ")"
			switch {
			case f.Kind == "a":
				aggs = append(aggs, ref)
			case g.addedLanguage(f):
				// Before the language, which goes before its handlers.
				langFuncs = append(langFuncs, ref)
			default:
				funcs = append(funcs, ref)
			}
		}
	}
	// Composite, range, domain and enum types in one DROP TYPE (it takes domains too): they may use one
	// another in any direction (a domain over a composite type, a composite type with a domain attribute).
	var typeKeys []string
	for _, k := range sortedKeys(a.Composites) {
		if b.Composites[k] == nil {
			typeKeys = append(typeKeys, k)
		}
	}
	aRanges, bRanges := rangeTypes(a), rangeTypes(b)
	for _, k := range sortedKeys(aRanges) {
		if bRanges[k] == nil {
			typeKeys = append(typeKeys, k)
		}
	}
	for _, k := range sortedKeys(a.Domains) {
		if b.Domains[k] == nil {
			typeKeys = append(typeKeys, k)
		}
	}
	for _, k := range sortedKeys(a.Enums) {
		if b.Enums[k] == nil {
			typeKeys = append(typeKeys, k)
		}
	}
	slices.Sort(typeKeys)
	for _, k := range typeKeys {
		types = append(types, qkey(k))
	}
	for _, k := range sortedKeys(a.Sequences) {
		if b.Sequences[k] == nil {
			seqs = append(seqs, qkey(k))
		}
	}
	for _, k := range sortedKeys(a.Extensions) {
		if b.Extensions[k] == nil {
			exts = append(exts, Ident(k))
		}
	}
	for _, k := range sortedKeys(a.Schemas) {
		if b.Schemas[k] == nil {
			schemas = append(schemas, Ident(k))
		}
	}
	dropMany := func(what, stmt string, names []string) {
		if len(names) > 0 {
			g.add("drop "+what+" "+strings.Join(names, ", ")+" (added by the up)", stmt+" "+strings.Join(names, ", "))
		}
	}
	dropMany("aggregate", "DROP AGGREGATE", aggs)
	dropMany("routine", "DROP ROUTINE", langFuncs)
	dropMany("language", "DROP LANGUAGE", g.addedLanguages())
	dropMany("routine", "DROP ROUTINE", funcs)
	configs, dicts := g.addedTextSearch()
	dropMany("text search configuration", "DROP TEXT SEARCH CONFIGURATION", configs)
	dropMany("text search dictionary", "DROP TEXT SEARCH DICTIONARY", dicts)
	parsers, templates := g.addedTSParsersAndTemplates()
	dropMany("text search parser", "DROP TEXT SEARCH PARSER", parsers)
	dropMany("text search template", "DROP TEXT SEARCH TEMPLATE", templates)
	dropMany("type", "DROP TYPE", types)
	g.dropShellTypes()
	dropMany("sequence", "DROP SEQUENCE IF EXISTS", seqs)
	g.dropReleasedMembers()
	dropMany("extension", "DROP EXTENSION", exts)
	dropMany("schema", "DROP SCHEMA", schemas)
}

// rangeTypes are the range types of c by key, as their constructor functions carry them.
func rangeTypes(c *Catalog) map[string]*RangeType {
	out := map[string]*RangeType{}
	for _, f := range c.Functions {
		if r := f.Range; r != nil {
			out[Key(r.Schema, r.Name)] = r
		}
	}
	return out
}
