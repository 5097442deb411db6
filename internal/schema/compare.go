package schema

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Kinds of objects in a Change.
const (
	KindSchema           = "schema"
	KindExtension        = "extension"
	KindTable            = "table"
	KindForeignTable     = "foreign table"
	KindColumn           = "column"
	KindConstraint       = "constraint"
	KindIndex            = "index"
	KindSequence         = "sequence"
	KindView             = "view"
	KindMaterializedView = "materialized view"
	KindFunction         = "function"
	KindProcedure        = "procedure"
	KindEnum             = "enum"
	KindDomain           = "domain"
	KindComposite        = "composite type"
	KindShellType        = "shell type"
	KindTrigger          = "trigger"
	KindPolicy           = "policy"
	KindRule             = "rule"
	KindAggregate        = "aggregate"
	KindRange            = "range type"
	KindTSConfig         = "text search configuration"
	KindTSDictionary     = "text search dictionary"
	KindEventTrigger     = "event trigger"
	KindStatistics       = "statistics"
	KindCollation        = "collation"
	KindPublication      = "publication"
	KindForeignWrapper   = "foreign-data wrapper"
	KindForeignServer    = "server"
	KindUserMapping      = "user mapping"
	KindCast             = "cast"
	KindOperator         = "operator"
	KindOpFamily         = "operator family"
	KindOpClass          = "operator class"
	KindTSParser         = "text search parser"
	KindTSTemplate       = "text search template"
	KindAccessMethod     = "access method"
	KindLanguage         = "language"
	KindConversion       = "conversion"
	KindTransform        = "transform"
	KindRole             = "role"
	KindMembership       = "membership"
	// KindDefaultPrivileges is the database-wide default privileges, one object per catalog (see
	// defaultPrivilegesObject).
	KindDefaultPrivileges = "default privileges"
	// KindDatabase is the database's own settings, owner, comment, connection limit, IS_TEMPLATE and
	// ALLOW_CONNECTIONS, one object per catalog (see databaseObject); its privileges are KindPrivilege
	// objects.
	KindDatabase = "database"
)

// kindRank orders kinds inside a group: the relation first, then its parts.
var kindRank = map[string]int{
	KindSchema: 0, KindExtension: 1, KindEnum: 2, KindDomain: 3, KindComposite: 3, KindShellType: 3, KindSequence: 4, KindTable: 5, KindForeignTable: 5,
	KindView: 6, KindMaterializedView: 7, KindColumn: 8, KindConstraint: 9, KindIndex: 10,
	KindTrigger: 11, KindPolicy: 12, KindRule: 13, KindRange: 14, KindFunction: 15, KindProcedure: 16, KindAggregate: 17,
	KindTSDictionary: 18, KindTSConfig: 19, KindEventTrigger: 20, KindStatistics: 21, KindCollation: 22,
	KindPublication: 23, KindForeignWrapper: 24, KindForeignServer: 25, KindUserMapping: 26, KindCast: 27,
	KindOperator: 28, KindOpFamily: 29, KindOpClass: 30, KindTSParser: 31, KindTSTemplate: 32,
	KindAccessMethod: 33, KindLanguage: 34, KindConversion: 35, KindTransform: 36,
	KindRole: 33, KindMembership: 34, KindDefaultPrivileges: 37, KindPrivilege: 38, KindDatabase: 39,
}

// scoped are the kinds whose names are unique per table: they move with their table, whose own change
// tells of a move to another schema.
var scoped = map[string]bool{KindColumn: true, KindConstraint: true, KindIndex: true, KindTrigger: true,
	KindPolicy: true, KindRule: true}

// object is one catalog object flattened for comparison.
type object struct {
	kind  string
	key   string
	table string
	// id identifies the object across a rename (OID, or table OID and attribute number); "" if unknown.
	id string
	// alt identifies a function across a re-creation with renamed arguments: its kind, schema, name and
	// argument types.
	alt   string
	props []PropertyChange // Property and New only
	def   string
	// listed is set for an object whose presence a property of another tells (a view's column: the
	// view's columns; an extended statistics object: its table's extended statistics; a collation: its
	// schema's collations): it is never added or removed on its own, only its properties compare.
	listed bool
	// name and schema are the object's own (unqualified) name and schema, to read its definition past a
	// rename.
	name, schema string
	// columns are the keys of a table's columns, in attribute order (the order SELECT * shows them in).
	columns []string
}

func prop(name, value string) PropertyChange { return PropertyChange{Property: name, New: value} }

func boolStr(b bool) string { return strconv.FormatBool(b) }

// extensionsProperty is the property of the extensions an object is marked as depending on (ALTER ...
// DEPENDS ON EXTENSION): a DROP EXTENSION drops it with them.
const extensionsProperty = "extension dependencies"

// extensionMemberProperty starts the property of an extension's member, named after the member
// ("owns function public.f(integer)"), "member" while the extension owns it: one that joins or leaves the
// extension (ALTER EXTENSION ... ADD or DROP) is a change of the extension's.
const extensionMemberProperty = "owns "

// persistence is "unlogged" for an unlogged relation, "" (logged) for another.
func persistence(unlogged bool) string {
	if unlogged {
		return "unlogged"
	}
	return ""
}

func oidStr(o uint32) string {
	if o == 0 {
		return ""
	}
	return strconv.FormatUint(uint64(o), 10)
}

// objects flattens c. Columns of every table are listed; Compare drops those of added and removed tables.
func (c *Catalog) objects() []object {
	var out []object
	for k, s := range c.Schemas {
		out = append(out, object{kind: KindSchema, key: k, id: oidStr(s.OID), def: "CREATE SCHEMA " + Ident(s.Name),
			props: append(access(s.Access), prop("comment", s.Comment), prop("default privileges", s.DefaultPrivileges),
				prop("collations", s.Collations))})
		for n, x := range s.CollationNotes {
			out = append(out, object{kind: KindCollation, key: Key(k, n), listed: true,
				props: []PropertyChange{prop("owner", x.Owner), prop("comment", x.Comment)}})
		}
	}
	for k, e := range c.Extensions {
		props := []PropertyChange{prop("version", e.Version), prop("schema", e.Schema), prop("comment", e.Comment)}
		for _, m := range e.Members {
			props = append(props, prop(extensionMemberProperty+m.Object, "member"))
		}
		out = append(out, object{kind: KindExtension, key: k, def: e.Name + " " + e.Version, props: props})
	}
	for k, t := range c.Tables {
		props := []PropertyChange{prop("partition key", t.PartitionKey), prop("partition of", t.PartitionOf),
			prop("partition bound", t.PartitionBound), prop("inherits", strings.Join(t.Inherits, ", ")),
			prop("of type", t.OfType), prop("unlogged", boolStr(t.Unlogged)), prop("access method", t.AccessMethod),
			prop("tablespace", t.Tablespace),
			prop("row security", boolStr(t.RowSecurity)), prop("forced row security", boolStr(t.ForceRowSecurity)),
			prop("comment", t.Comment), prop("storage parameters", t.Options), prop("replica identity", t.ReplicaIdentity),
			prop("internal triggers", t.InternalTriggers),
			prop("extended statistics", t.Statistics), prop("owner", t.Owner), prop("privileges", t.Privileges)}
		if t.Foreign() {
			props = append(props, prop("server", t.Server), prop("options", strings.Join(t.ForeignOptions, ", ")))
		}
		cols := make([]string, len(t.Columns))
		for i, col := range t.Columns {
			cols[i] = subKey(k, col.Name)
		}
		out = append(out, object{kind: t.kind(), key: k, id: oidStr(t.OID), def: tableSummary(t), name: t.Name, schema: t.Schema,
			props: props, columns: cols})
		for sk, x := range t.StatisticsNotes {
			out = append(out, object{kind: KindStatistics, key: sk, table: k, listed: true,
				props: []PropertyChange{prop("owner", x.Owner), prop("comment", x.Comment)}})
		}
		for _, col := range t.Columns {
			id := ""
			if t.OID != 0 {
				id = fmt.Sprintf("%d:%d", t.OID, col.Num)
			}
			identity := col.Identity
			if identity != "" && col.IdentityOptions != "" {
				identity += " (" + col.IdentityOptions + ")"
			}
			seq := col.IdentitySequence
			if seq == nil {
				seq = &IdentitySequence{}
			}
			out = append(out, object{kind: KindColumn, key: subKey(k, col.Name), table: k, id: id, def: columnSummary(col),
				props: []PropertyChange{prop("type", col.Type), prop("not null", boolStr(col.NotNull)),
					prop("default", col.Default), prop("identity", identity),
					prop("identity sequence name", identitySequenceName(t, col)), prop("identity sequence privileges", seq.Privileges),
					prop("identity sequence comment", seq.Comment), prop("identity sequence persistence", persistence(seq.Unlogged)),
					prop("identity sequence type", seq.Type),
					prop("generated", col.Generated),
					prop("collation", col.Collation), prop("comment", col.Comment), prop("storage", col.Storage),
					prop("compression", col.Compression), prop("statistics target", col.Statistics),
					prop("options", col.Options), prop("privileges", col.Privileges),
					prop("foreign options", strings.Join(col.ForeignOptions, ", ")),
					prop("inheritance", inheritance(col.Inherited, col.InheritCount))}})
		}
		out = append(out, ruleObjects(k, t.Schema, t.Rules, t.RuleStates, t.RuleComments)...)
	}
	for k, s := range c.Sequences {
		out = append(out, object{kind: KindSequence, key: k, id: oidStr(s.OID), def: sequenceSummary(s), name: s.Name, schema: s.Schema,
			props: []PropertyChange{prop("type", s.Type), prop("start", i64(s.Start)), prop("increment", i64(s.Increment)),
				prop("min", i64(s.Min)), prop("max", i64(s.Max)), prop("cache", i64(s.Cache)), prop("cycle", boolStr(s.Cycle)),
				prop("persistence", persistence(s.Unlogged)), prop("owned by", s.OwnedBy), prop("comment", s.Comment), prop("owner", s.Owner), prop("privileges", s.Privileges)}})
	}
	for k, v := range c.Views {
		kind := KindView
		props := []PropertyChange{prop("definition", v.Definition), prop("columns", strings.Join(v.Columns, ", ")),
			prop("comment", v.Comment), prop("options", v.Options), prop("owner", v.Owner), prop("privileges", v.Privileges)}
		if v.Materialized {
			kind = KindMaterializedView
			props = append(props, prop("populated", boolStr(!v.NoData)), prop("access method", v.AccessMethod),
				prop("tablespace", v.Tablespace), prop("extended statistics", v.Statistics), prop(extensionsProperty, v.Extensions))
		}
		out = append(out, object{kind: kind, key: k, id: oidStr(v.OID), def: v.Definition, name: v.Name, schema: v.Schema, props: props})
		for i, col := range v.ColumnDetails {
			id := ""
			if v.OID != 0 {
				id = fmt.Sprintf("%d:%d", v.OID, i+1)
			}
			out = append(out, object{kind: KindColumn, key: subKey(k, col.Name), table: k, id: id, listed: true,
				props: []PropertyChange{prop("default", col.Default), prop("comment", col.Comment),
					prop("statistics target", col.Statistics), prop("privileges", col.Privileges), prop("storage", col.Storage),
					prop("compression", col.Compression), prop("options", col.Options)}})
		}
		for sk, x := range v.StatisticsNotes {
			out = append(out, object{kind: KindStatistics, key: sk, table: k, listed: true,
				props: []PropertyChange{prop("owner", x.Owner), prop("comment", x.Comment)}})
		}
		out = append(out, ruleObjects(k, v.Schema, v.Rules, v.RuleStates, v.RuleComments)...)
	}
	ranges := map[string]bool{}
	for k, f := range c.Functions {
		if r := f.Range; r != nil {
			rk := Key(r.Schema, r.Name)
			if !ranges[rk] {
				ranges[rk] = true
				out = append(out, object{kind: KindRange, key: rk, id: oidStr(r.OID), def: r.Definition, name: r.Name, schema: r.Schema,
					props: []PropertyChange{prop("definition", r.Definition), prop("comment", r.Comment), prop("owner", r.Owner),
						prop("privileges", r.Privileges)}})
			}
			continue
		}
		kind := f.kindName()
		if f.Kind == "a" {
			kind = KindAggregate
		}
		props := []PropertyChange{prop("kind", f.Kind), prop("result", f.Result), prop("definition", functionBody(f.Definition))}
		if f.Kind != "a" {
			props = append(props, prop("volatility", f.Volatility), prop("strictness", strictness(f.Strict)),
				prop("security", security(f.SecurityDefiner)), prop("leakproof", leakproof(f.Leakproof)),
				prop("parallel", f.Parallel), prop("cost", f.Cost), prop("rows", f.Rows), prop("configuration", f.Config),
				prop("support function", f.Support), prop(extensionsProperty, f.Extensions))
		} else {
			props = append(props, prop("parallel", f.Parallel))
		}
		props = append(props, prop("comment", f.Comment), prop("owner", f.Owner), prop("privileges", f.Privileges))
		alt := ""
		if f.ArgTypes != "" || f.Args == "" {
			alt = f.Kind + "\x00" + Key(f.Schema, f.Name) + "(" + f.ArgTypes + ")"
		}
		out = append(out, object{kind: kind, key: k, id: oidStr(f.OID), alt: alt, def: f.Definition, name: f.Name, schema: f.Schema,
			props: props})
	}
	for k, e := range c.Enums {
		out = append(out, object{kind: KindEnum, key: k, id: oidStr(e.OID), def: "(" + strings.Join(quoteAll(e.Values), ", ") + ")",
			name: e.Name, schema: e.Schema,
			props: []PropertyChange{prop("values", "("+strings.Join(quoteAll(e.Values), ", ")+")"), prop("comment", e.Comment),
				prop("owner", e.Owner), prop("privileges", e.Privileges)}})
	}
	for k, d := range c.Domains {
		props := []PropertyChange{prop("base type", d.BaseType), prop("default", d.Default), prop("not null", boolStr(d.NotNull)),
			prop("collation", d.Collation), prop("constraints", domainConstraints(d)), prop("comment", d.Comment),
			prop("owner", d.Owner), prop("privileges", d.Privileges)}
		for _, n := range sortedKeys(d.ConstraintComments) {
			props = append(props, prop("comment on constraint "+Ident(n), d.ConstraintComments[n]))
		}
		out = append(out, object{kind: KindDomain, key: k, id: oidStr(d.OID), def: domainSummary(d), name: d.Name, schema: d.Schema,
			props: props})
	}
	for k, x := range c.Composites {
		props := []PropertyChange{prop("attributes", compositeAttributes(x)), prop("comment", x.Comment),
			prop("owner", x.Owner), prop("privileges", x.Privileges)}
		for _, a := range x.Attributes {
			if a.Comment != "" {
				props = append(props, prop("comment on attribute "+Ident(a.Name), a.Comment))
			}
		}
		out = append(out, object{kind: KindComposite, key: k, id: oidStr(x.OID), def: compositeAttributes(x), name: x.Name, schema: x.Schema,
			props: props})
	}
	for k, x := range c.ShellTypes {
		out = append(out, object{kind: KindShellType, key: k, id: oidStr(x.OID), def: "CREATE TYPE " + qkey(k), name: x.Name, schema: x.Schema,
			props: []PropertyChange{prop("comment", x.Comment), prop("owner", x.Owner)}})
	}
	for k, x := range c.Constraints {
		out = append(out, object{kind: KindConstraint, key: k, table: x.QTable(), id: oidStr(x.OID), def: x.Definition,
			name: x.Name, schema: x.Schema,
			props: []PropertyChange{prop("definition", x.Definition), prop("validated", boolStr(x.Validated)),
				prop("deferrable", boolStr(x.Deferrable)), prop("deferred", boolStr(x.Deferred)), prop("comment", x.Comment),
				prop("inheritance", inheritance(x.Inherited, x.InheritCount))}})
	}
	for k, x := range c.Indexes {
		out = append(out, object{kind: KindIndex, key: k, table: x.QTable(), id: oidStr(x.OID), def: x.Definition,
			name: x.Name, schema: x.Schema,
			props: []PropertyChange{prop("definition", x.Definition), prop("valid", boolStr(x.Valid)), prop("comment", x.Comment),
				prop("clustered", boolStr(x.Clustered)), prop("statistics targets", x.Statistics),
				prop("tablespace", x.Tablespace), prop(extensionsProperty, x.Extensions)}})
	}
	for k, x := range c.Triggers {
		out = append(out, object{kind: KindTrigger, key: k, table: x.QTable(), id: oidStr(x.OID), def: x.Definition,
			name: x.Name, schema: x.Schema,
			props: []PropertyChange{prop("definition", x.Definition), prop("state", triggerState(x.Enabled)), prop("comment", x.Comment),
				prop(extensionsProperty, x.Extensions)}})
	}
	for k, x := range c.TextSearchDictionaries {
		out = append(out, object{kind: KindTSDictionary, key: k, id: oidStr(x.OID), def: tsDictionarySummary(x), name: x.Name, schema: x.Schema,
			props: []PropertyChange{prop("template", x.Template), prop("options", strings.Join(x.Options, ", ")),
				prop("owner", x.Owner), prop("comment", x.Comment)}})
	}
	for k, x := range c.TextSearchConfigs {
		props := []PropertyChange{prop("parser", x.Parser)}
		for _, tok := range sortedKeys(x.Mappings) {
			props = append(props, prop(mappingProperty+tok, strings.Join(x.Mappings[tok], ", ")))
		}
		props = append(props, prop("owner", x.Owner), prop("comment", x.Comment))
		out = append(out, object{kind: KindTSConfig, key: k, id: oidStr(x.OID), def: tsConfigSummary(x), name: x.Name, schema: x.Schema,
			props: props})
	}
	for k, x := range c.EventTriggers {
		out = append(out, object{kind: KindEventTrigger, key: k, id: oidStr(x.OID), def: eventTriggerSummary(x), name: x.Name,
			props: []PropertyChange{prop("event", x.Event), prop("tags", strings.Join(x.Tags, ", ")), prop("function", x.Function),
				prop("state", triggerState(x.Enabled)), prop("owner", x.Owner), prop("comment", x.Comment)}})
	}
	for k, x := range c.Publications {
		props := []PropertyChange{prop("all tables", boolStr(x.AllTables)), prop("publish", strings.Join(x.Publish, ", ")),
			prop("publish_via_partition_root", boolStr(x.ViaRoot))}
		for _, t := range sortedKeys(x.Tables) {
			props = append(props, prop(publishedTableProperty+t, publishedAs(x.Tables[t])))
		}
		for _, s := range x.Schemas {
			props = append(props, prop(publishedSchemaProperty+s, "published"))
		}
		props = append(props, prop("owner", x.Owner), prop("comment", x.Comment))
		out = append(out, object{kind: KindPublication, key: k, id: oidStr(x.OID), def: publicationSummary(x), name: x.Name,
			props: props})
	}
	for k, x := range c.ForeignDataWrappers {
		out = append(out, object{kind: KindForeignWrapper, key: k, id: oidStr(x.OID), def: foreignWrapperSummary(x), name: x.Name,
			props: append([]PropertyChange{prop("handler", x.Handler), prop("validator", x.Validator),
				prop("options", strings.Join(x.Options, ", "))}, append(access(x.Access), prop("comment", x.Comment))...)})
	}
	for k, x := range c.ForeignServers {
		out = append(out, object{kind: KindForeignServer, key: k, id: oidStr(x.OID), def: foreignServerSummary(x), name: x.Name,
			props: append([]PropertyChange{prop("foreign-data wrapper", x.Wrapper), prop("server type", x.Type), prop("version", x.Version),
				prop("options", strings.Join(x.Options, ", "))}, append(access(x.Access), prop("comment", x.Comment))...)})
	}
	for k, x := range c.UserMappings {
		out = append(out, object{kind: KindUserMapping, key: k, def: "FOR " + x.User + " SERVER " + x.Server,
			props: []PropertyChange{prop("options", strings.Join(x.Options, ", "))}})
	}
	for k, x := range c.Casts {
		out = append(out, object{kind: KindCast, key: k, id: oidStr(x.OID), def: castSummary(x),
			props: []PropertyChange{prop("function", x.Function), prop("context", x.Context), prop("method", x.Method),
				prop("comment", x.Comment)}})
	}
	out = append(out, c.operatorObjects()...)
	out = append(out, c.proceduralObjects()...)
	out = append(out, c.roleObjects()...)
	out = append(out, c.defaultPrivilegesObject(), c.databaseObject())
	for k, x := range c.Policies {
		out = append(out, object{kind: KindPolicy, key: k, table: x.QTable(), id: oidStr(x.OID), def: policySummary(x),
			name: x.Name, schema: x.Schema,
			props: []PropertyChange{prop("command", x.Command), prop("permissive", boolStr(x.Permissive)), prop("roles", x.Roles),
				prop("using", x.Using), prop("with check", x.WithCheck), prop("comment", x.Comment)}})
	}
	return out
}

// inheritance words where a column or constraint comes from, for the sentences ("column ch.a is
// declared locally and inherited after the down, was inherited only"): "" when it is declared on its
// table alone (the ordinary case), "inherited only" when it comes only from parents (and goes with
// theirs), "declared locally and inherited" when both (it stays when theirs is dropped), with the
// number of parents when more than one.
func inheritance(inherited bool, count int) string {
	var s string
	switch {
	case inherited:
		s = "inherited only"
	case count > 0:
		s = "declared locally and inherited"
	default:
		return ""
	}
	if count > 1 {
		s += fmt.Sprintf(" (from %d parents)", count)
	}
	return s
}

// ruleObjects are the rules of the table or view k (its Rules, RuleStates and RuleComments).
func ruleObjects(k, schema, rules string, states, comments map[string]string) []object {
	var out []object
	for n, def := range defsByName(rules, ruleName) {
		name := unquote(n)
		out = append(out, object{kind: KindRule, key: subKey(k, name), table: k, def: def, name: name, schema: schema,
			props: []PropertyChange{prop("definition", def), prop("state", ruleState(states[name])),
				prop("comment", comments[name])}})
	}
	return out
}

// unquote reads a name as Ident writes it.
func unquote(n string) string {
	if len(n) >= 2 && n[0] == '"' && n[len(n)-1] == '"' {
		return strings.ReplaceAll(n[1:len(n)-1], `""`, `"`)
	}
	return n
}

// triggerState words a trigger's pg_trigger.tgenabled.
func triggerState(code string) string {
	switch code {
	case "O", "":
		return "enabled"
	case "D":
		return "disabled"
	case "A":
		return "enabled always"
	case "R":
		return "enabled replica"
	}
	return code
}

// ruleState is a rule's state as Table.RuleStates holds it, "enabled" when it holds none.
func ruleState(s string) string {
	if s == "" {
		return "enabled"
	}
	return s
}

func strictness(strict bool) string {
	if strict {
		return "STRICT"
	}
	return "CALLED ON NULL INPUT"
}

func security(definer bool) string {
	if definer {
		return "SECURITY DEFINER"
	}
	return "SECURITY INVOKER"
}

func leakproof(b bool) string {
	if b {
		return "LEAKPROOF"
	}
	return "NOT LEAKPROOF"
}

// functionAttributes are the first words of the lines of pg_get_functiondef's header that print the
// attributes a Function holds on its own (volatility, strictness, security, leakproofness, parallel
// safety, cost, rows, SET clauses, support function): the line pg_get_functiondef prints them on holds
// several (" STRICT SUPPORT textlike_support"), so each must be compared on its own.
var functionAttributes = []string{"IMMUTABLE", "STABLE", "VOLATILE", "STRICT", "SECURITY", "LEAKPROOF", "PARALLEL", "COST",
	"ROWS", "SET", "CALLED", "RETURNS NULL", "NOT LEAKPROOF", "SUPPORT"}

// functionBody is a function's definition without the header lines of the attributes compared on their
// own; the header is the first line and those that follow it indented, before the body (AS ..., BEGIN
// ATOMIC or RETURN).
func functionBody(def string) string {
	if !strings.HasPrefix(def, "CREATE ") || !strings.Contains(def, "\n") {
		return def
	}
	lines := strings.Split(def, "\n")
	out := lines[:1:1]
	header := true
	for _, l := range lines[1:] {
		if header && !strings.HasPrefix(l, " ") {
			header = false
		}
		if header {
			t := strings.TrimSpace(l)
			if t == "WINDOW" || strings.HasPrefix(t, "WINDOW ") {
				// WINDOW leads the attributes line of a window function: keep the word alone.
				l = " WINDOW"
			} else if slices.ContainsFunc(functionAttributes, func(w string) bool { return t == w || strings.HasPrefix(t, w+" ") }) {
				continue
			}
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// access lists who owns an object and who may use it.
func access(a Access) []PropertyChange {
	return []PropertyChange{prop("owner", a.Owner), prop("privileges", a.Privileges)}
}

func i64(v int64) string { return strconv.FormatInt(v, 10) }

func quoteAll(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = Literal(v)
	}
	return out
}

func tableSummary(t *Table) string {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = Ident(c.Name) + " " + columnSummary(c)
	}
	s := "(" + strings.Join(cols, ", ") + ")"
	if t.Foreign() {
		s += " SERVER " + Ident(t.Server) + foreignOptionsSQL(t.ForeignOptions)
	}
	return s
}

// identitySequenceName is the name of col's identity sequence (the one PostgreSQL gives unless the
// catalog keeps another); "" for a column that is no identity.
func identitySequenceName(t *Table, col *Column) string {
	switch {
	case col.Identity == "":
		return ""
	case col.IdentitySequence != nil && col.IdentitySequence.Name != "":
		return col.IdentitySequence.Name
	}
	return IdentitySequenceName(t.Name, col.Name)
}

func columnSummary(c *Column) string {
	s := c.Type
	if c.Collation != "" {
		s += " COLLATE " + c.Collation
	}
	if c.Identity != "" {
		s += " GENERATED " + strings.ToUpper(c.Identity) + " AS IDENTITY"
		if c.IdentityOptions != "" {
			s += " (" + c.IdentityOptions + ")"
		}
	}
	if c.Generated != "" {
		s += " GENERATED ALWAYS AS (" + c.Generated + ") STORED"
	}
	if c.Default != "" {
		s += " DEFAULT " + c.Default
	}
	if c.NotNull {
		s += " NOT NULL"
	}
	return s
}

func sequenceSummary(s *Sequence) string {
	return fmt.Sprintf("AS %s START %d INCREMENT %d MINVALUE %d MAXVALUE %d CACHE %d%s",
		s.Type, s.Start, s.Increment, s.Min, s.Max, s.Cache, map[bool]string{true: " CYCLE"}[s.Cycle])
}

func domainSummary(d *Domain) string {
	s := d.BaseType
	if d.Collation != "" {
		s += " COLLATE " + d.Collation
	}
	if d.Default != "" {
		s += " DEFAULT " + d.Default
	}
	if d.NotNull {
		s += " NOT NULL"
	}
	if cs := domainConstraints(d); cs != "" {
		s += " " + cs
	}
	return s
}

func domainConstraints(d *Domain) string {
	names := sortedKeys(d.Constraints)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = "CONSTRAINT " + Ident(n) + " " + d.Constraints[n]
	}
	return strings.Join(parts, " ")
}

// mappingProperty starts the property of a text search configuration's mapping of one token type
// ("mapping asciiword"): its value is the dictionaries, in order.
const mappingProperty = "mapping "

// tsConfigSummary is "(PARSER = default) asciiword: english_stem; email: simple", mappings by token type.
func tsConfigSummary(x *TextSearchConfig) string {
	s := "(PARSER = " + x.Parser + ")"
	var maps []string
	for _, tok := range sortedKeys(x.Mappings) {
		maps = append(maps, tok+": "+strings.Join(x.Mappings[tok], ", "))
	}
	if len(maps) > 0 {
		s += " " + strings.Join(maps, "; ")
	}
	return s
}

// tsDictionarySummary is the option list of CREATE TEXT SEARCH DICTIONARY, "(TEMPLATE = simple,
// stopwords = 'english')".
func tsDictionarySummary(x *TextSearchDictionary) string {
	return "(" + strings.Join(append([]string{"TEMPLATE = " + x.Template}, x.Options...), ", ") + ")"
}

// eventTriggerSummary is what follows the name in CREATE EVENT TRIGGER: "ON sql_drop WHEN TAG IN ('DROP
// TABLE') EXECUTE FUNCTION f()".
func eventTriggerSummary(x *EventTrigger) string {
	s := "ON " + x.Event
	if len(x.Tags) > 0 {
		s += " WHEN TAG IN (" + strings.Join(quoteAll(x.Tags), ", ") + ")"
	}
	return s + " EXECUTE FUNCTION " + x.Function + "()"
}

// foreignWrapperSummary is what follows the name in CREATE FOREIGN DATA WRAPPER: "HANDLER h VALIDATOR v".
func foreignWrapperSummary(x *ForeignDataWrapper) string {
	s := "NO HANDLER"
	if x.Handler != "" {
		s = "HANDLER " + x.Handler
	}
	if x.Validator != "" {
		return s + " VALIDATOR " + x.Validator
	}
	return s + " NO VALIDATOR"
}

// foreignServerSummary is what follows the name in CREATE SERVER: "TYPE 't' FOREIGN DATA WRAPPER w".
func foreignServerSummary(x *ForeignServer) string {
	s := ""
	if x.Type != "" {
		s += "TYPE " + Literal(x.Type) + " "
	}
	if x.Version != "" {
		s += "VERSION " + Literal(x.Version) + " "
	}
	return s + "FOREIGN DATA WRAPPER " + x.Wrapper
}

// castSummary is what follows CREATE CAST (source AS target): "WITH FUNCTION f(integer) AS IMPLICIT".
func castSummary(x *Cast) string {
	s := "WITHOUT FUNCTION"
	switch {
	case x.Method == "inout":
		s = "WITH INOUT"
	case x.Function != "":
		s = "WITH FUNCTION " + x.Function
	}
	switch x.Context {
	case "implicit":
		s += " AS IMPLICIT"
	case "assignment":
		s += " AS ASSIGNMENT"
	}
	return s
}

// publishedTableProperty and publishedSchemaProperty start the properties of a publication's table
// ("table public.orders", its value what is published of it: see publishedAs) and of a schema of FOR
// TABLES IN SCHEMA ("schema audit", its value "published").
const (
	publishedTableProperty  = "table "
	publishedSchemaProperty = "schema "
)

// publishedAs words what a publication publishes of a table: "all columns", "columns (a, b)", either
// followed by " WHERE (expression)" for a row filter.
func publishedAs(t PublishedTable) string {
	s := "all columns"
	if len(t.Columns) > 0 {
		s = "columns " + publishedColumns(t)
	}
	if t.Where != "" {
		s += " WHERE " + parenthesized(t.Where)
	}
	return s
}

// parenthesized is a row filter in the parentheses WHERE takes: pg_get_expr prints most expressions in
// parentheses already ("(total > 0)"), not a column or a function call.
func parenthesized(e string) string {
	if !strings.HasPrefix(e, "(") {
		return "(" + e + ")"
	}
	depth := 0
	var quote byte
	for i := 0; i < len(e); i++ {
		switch c := e[i]; {
		case quote != 0:
			if c == quote {
				quote = 0 // a doubled quote closes and opens again
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 && i < len(e)-1 {
				return "(" + e + ")" // "(a) AND (b)"
			}
		}
	}
	return e
}

// publishedColumns is a column list as CREATE PUBLICATION takes it, "(a, b)"; "" for none.
func publishedColumns(t PublishedTable) string {
	if len(t.Columns) == 0 {
		return ""
	}
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = Ident(c)
	}
	return "(" + strings.Join(cols, ", ") + ")"
}

// publishedTableSQL is a table of FOR TABLE / ADD TABLE with its column list and row filter:
// "public.orders (id, total) WHERE (total > 0)".
func publishedTableSQL(key string, t PublishedTable) string {
	s := qkey(key)
	if c := publishedColumns(t); c != "" {
		s += " " + c
	}
	if t.Where != "" {
		s += " WHERE " + parenthesized(t.Where)
	}
	return s
}

// publicationSummary is what follows the name in CREATE PUBLICATION: "FOR TABLE orders, TABLES IN
// SCHEMA audit WITH (publish = 'insert, update', publish_via_partition_root = false)".
func publicationSummary(x *Publication) string {
	var parts []string
	for _, t := range sortedKeys(x.Tables) {
		parts = append(parts, "TABLE "+publishedTableSQL(t, x.Tables[t]))
	}
	for _, s := range x.Schemas {
		parts = append(parts, "TABLES IN SCHEMA "+Ident(s))
	}
	s := ""
	switch {
	case x.AllTables:
		s = "FOR ALL TABLES "
	case len(parts) > 0:
		s = "FOR " + strings.Join(parts, ", ") + " "
	}
	return s + "WITH (" + publicationOptions(x) + ")"
}

// publicationOptions are the options of CREATE PUBLICATION ... WITH and ALTER PUBLICATION ... SET.
func publicationOptions(x *Publication) string {
	return "publish = " + Literal(strings.Join(x.Publish, ", ")) + ", publish_via_partition_root = " + boolStr(x.ViaRoot)
}

func policySummary(p *Policy) string {
	s := "FOR " + p.Command + " TO " + p.Roles
	if !p.Permissive {
		s = "AS RESTRICTIVE " + s
	}
	if p.Using != "" {
		s += " USING (" + p.Using + ")"
	}
	if p.WithCheck != "" {
		s += " WITH CHECK (" + p.WithCheck + ")"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Compare returns what differs from before to after: objects only in after are Added, objects only in
// before are Removed, objects in both with different properties are Changed (old → new). An object
// renamed between two snapshots of the same database is one Change with a "name" property. Columns of
// an added or removed table are not listed on their own (the table's Definition has them). Changes are
// grouped by table and sorted, so the result is stable. A column that stands at another place among
// its table's columns is Changed ("position"): a down that re-adds a column the up dropped at the end
// changes what SELECT * shows. Sequence positions are not compared.
func Compare(before, after *Catalog) *Diff {
	if before == nil {
		before = NewCatalog()
	}
	if after == nil {
		after = NewCatalog()
	}
	before, after = pruneShared(before, after)
	withBuiltInFamilies(before, after) // pruneShared's maps are the Compare's own
	bo, ao := before.objects(), after.objects()
	bp, ap := builtInPrivilegeObjects(before, after)
	bo, ao = append(bo, bp...), append(ao, ap...)
	bmap := make(map[string]*object, len(bo))
	amap := make(map[string]*object, len(ao))
	for i := range bo {
		bmap[bo[i].kind+"\x00"+bo[i].key] = &bo[i]
	}
	for i := range ao {
		amap[ao[i].kind+"\x00"+ao[i].key] = &ao[i]
	}
	d := &Diff{}
	// Renames: an object only in before and one only in after with the same identity (or, for functions
	// re-created with renamed arguments, the same kind, name and argument types).
	renamedFrom := map[*object]*object{}
	byID, byAlt := map[string]*object{}, map[string]*object{}
	for i := range bo {
		o := &bo[i]
		if amap[o.kind+"\x00"+o.key] != nil {
			continue
		}
		if o.id != "" {
			byID[o.kind+"\x00"+o.id] = o
		}
		if o.alt != "" {
			byAlt[o.alt] = o
		}
	}
	renamedOld := map[*object]bool{}
	for _, pass := range []func(o *object) (map[string]*object, string){
		func(o *object) (map[string]*object, string) { return byID, o.kind + "\x00" + o.id },
		func(o *object) (map[string]*object, string) { return byAlt, o.alt },
	} {
		for i := range ao {
			o := &ao[i]
			if bmap[o.kind+"\x00"+o.key] != nil || renamedFrom[o] != nil {
				continue
			}
			m, k := pass(o)
			if k == "" || k == o.kind+"\x00" {
				continue
			}
			if old := m[k]; old != nil && !renamedOld[old] && old.kind == o.kind {
				renamedFrom[o] = old
				renamedOld[old] = true
				delete(m, k)
			}
		}
	}
	// What the renames explain: definitions that quote a renamed or moved object differ by its name alone.
	var renames []rename
	for o, old := range renamedFrom {
		if o.name != "" && old.name != "" {
			renames = append(renames, rename{old.schema, old.name, o.schema, o.name})
		}
	}
	slices.SortFunc(renames, func(a, b rename) int { return cmp.Compare(len(b.newName), len(a.newName)) })
	positions := columnPositions(ao, bmap, amap, renamedFrom)
	addedTables, removedTables := map[string]bool{}, map[string]bool{}
	for i := range ao {
		o := &ao[i]
		if isRelation(o.kind) && bmap[o.kind+"\x00"+o.key] == nil && renamedFrom[o] == nil {
			addedTables[o.key] = true
		}
	}
	for i := range bo {
		o := &bo[i]
		if isRelation(o.kind) && amap[o.kind+"\x00"+o.key] == nil && !renamedOld[o] {
			removedTables[o.key] = true
		}
	}
	for i := range ao {
		o := &ao[i]
		old := bmap[o.kind+"\x00"+o.key]
		if old == nil {
			old = renamedFrom[o]
		}
		if old == nil {
			if o.kind == KindColumn && addedTables[o.table] || o.listed {
				continue
			}
			d.Added = append(d.Added, Change{Kind: o.kind, Name: o.key, Table: o.table, Definition: o.def})
			continue
		}
		var props []PropertyChange
		switch {
		case old.key == o.key:
		case !scoped[o.kind] && old.schema != "" && old.schema != o.schema:
			props = append(props, PropertyChange{Property: "qualified name", Old: old.key, New: o.key})
		case lastName(old.key) != lastName(o.key):
			props = append(props, PropertyChange{Property: "name", Old: lastName(old.key), New: lastName(o.key)})
		}
		// A publication's table is a property named after it: a renamed table is the same one.
		propName := func(name string, old bool) string {
			if o.kind == KindPublication && len(renames) > 0 && strings.HasPrefix(name, publishedTableProperty) {
				return canon(name, renames, old)
			}
			return name
		}
		oldProps := make(map[string]string, len(old.props))
		for _, p := range old.props {
			oldProps[propName(p.Property, true)] = p.New
		}
		seen := make(map[string]bool, len(o.props))
		for _, p := range o.props {
			name := propName(p.Property, false)
			seen[name] = true
			was := oldProps[name]
			if was == p.New || len(renames) > 0 && canon(was, renames, true) == canon(p.New, renames, false) {
				continue
			}
			props = append(props, PropertyChange{Property: p.Property, Old: was, New: p.New})
		}
		for _, p := range old.props {
			if !seen[propName(p.Property, true)] && p.New != "" {
				props = append(props, PropertyChange{Property: p.Property, Old: p.New})
			}
		}
		if pc, ok := positions[o]; ok {
			props = append(props, pc)
		}
		if len(props) > 0 {
			d.Changed = append(d.Changed, Change{Kind: o.kind, Name: o.key, Table: o.table, Properties: props})
		}
	}
	for i := range bo {
		o := &bo[i]
		if amap[o.kind+"\x00"+o.key] != nil || renamedOld[o] {
			continue
		}
		if o.kind == KindColumn && removedTables[o.table] || o.listed {
			continue
		}
		d.Removed = append(d.Removed, Change{Kind: o.kind, Name: o.key, Table: o.table, Definition: o.def})
	}
	sortChanges(d.Added)
	sortChanges(d.Changed)
	sortChanges(d.Removed)
	return d
}

// columnPositions finds the columns of the tables both catalogs have that stand at another place
// among the table's columns: what SELECT *, and INSERT or COPY without a column list, see. A column's
// position is its rank among the table's live columns (attnum has holes where columns were dropped, and
// those alone move nothing). Columns only one catalog has are told of on their own and shift the
// others: a column counts as moved only when its rank among the columns both have differs too. It maps
// the after-catalog's column object to its "position" change.
func columnPositions(ao []object, bmap, amap map[string]*object, renamedFrom map[*object]*object) map[*object]PropertyChange {
	out := map[*object]PropertyChange{}
	for i := range ao {
		t := &ao[i]
		if t.kind != KindTable && t.kind != KindForeignTable {
			continue
		}
		bt := bmap[t.kind+"\x00"+t.key]
		if bt == nil {
			bt = renamedFrom[t]
		}
		if bt == nil {
			continue
		}
		oldRank := make(map[*object]int, len(bt.columns))
		for j, k := range bt.columns {
			if c := bmap[KindColumn+"\x00"+k]; c != nil {
				oldRank[c] = j
			}
		}
		// The columns both have, in the after-catalog's order, with their ranks in each.
		type shared struct {
			col           *object
			rank, old     int
			commonRank    int
			commonOldRank int
		}
		var both []*shared
		for j, k := range t.columns {
			c := amap[KindColumn+"\x00"+k]
			if c == nil {
				continue
			}
			bc := bmap[KindColumn+"\x00"+k]
			if bc == nil {
				bc = renamedFrom[c]
			}
			r, ok := oldRank[bc]
			if bc == nil || !ok {
				continue
			}
			both = append(both, &shared{col: c, rank: j, old: r, commonRank: len(both)})
		}
		byOld := slices.Clone(both)
		slices.SortFunc(byOld, func(x, y *shared) int { return cmp.Compare(x.old, y.old) })
		for j, x := range byOld {
			x.commonOldRank = j
		}
		for _, x := range both {
			if x.commonRank != x.commonOldRank && x.rank != x.old {
				out[x.col] = PropertyChange{Property: "position", Old: strconv.Itoa(x.old + 1), New: strconv.Itoa(x.rank + 1)}
			}
		}
	}
	return out
}

func isRelation(kind string) bool {
	return kind == KindTable || kind == KindForeignTable || kind == KindView || kind == KindMaterializedView
}

// rename is an object renamed or moved to another schema.
type rename struct{ oldSchema, oldName, newSchema, newName string }

// canon writes every renamed object a text quotes (qualified or not) as one placeholder, under its old
// names in an old text and its new ones in a new text, so that texts that differ only by those names
// read the same.
func canon(s string, renames []rename, old bool) string {
	for i, r := range renames {
		schema, name := r.newSchema, r.newName
		if old {
			schema, name = r.oldSchema, r.oldName
		}
		ph := "\x00" + strconv.Itoa(i) + "\x00"
		if schema != "" {
			s = strings.ReplaceAll(s, Ident(schema)+"."+Ident(name), ph)
		}
		s = replaceWord(s, Ident(name), ph)
	}
	return s
}

// replaceWord replaces the identifier from by to where it stands as a whole word.
func replaceWord(s, from, to string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, from)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := i + len(from)
		if (i == 0 || !identByte(s[i-1])) && (j == len(s) || !identByte(s[j])) {
			b.WriteString(s[:i])
			b.WriteString(to)
		} else {
			b.WriteString(s[:j])
		}
		s = s[j:]
	}
}

func identByte(c byte) bool {
	return c == '_' || c == '$' || c == '"' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// lastName is the last part of a key as the key writes it (function signatures keep their argument
// list).
func lastName(key string) string { return lastKeyPart(key) }

// group is the table a change is shown under; objects not tied to a table sort after all tables.
func group(c Change) string {
	if c.Table != "" {
		return c.Table
	}
	switch c.Kind {
	case KindTable, KindForeignTable, KindView, KindMaterializedView:
		return c.Name
	}
	return "\xff" + fmt.Sprintf("%02d", kindRank[c.Kind])
}

func sortChanges(cs []Change) {
	slices.SortFunc(cs, func(a, b Change) int {
		return cmp.Or(cmp.Compare(group(a), group(b)), cmp.Compare(kindRank[a.Kind], kindRank[b.Kind]),
			cmp.Compare(a.Name, b.Name))
	})
}

// pruneShared leaves out of both catalogs the objects they share: the same object (pointer) under the
// same key cannot differ, and catalogs read incrementally share every object the change left alone, so
// comparing them costs what the change touched, not the size of the schema.
func pruneShared(a, b *Catalog) (*Catalog, *Catalog) {
	pa, pb := NewCatalog(), NewCatalog()
	pa.DefaultPrivileges, pb.DefaultPrivileges = a.DefaultPrivileges, b.DefaultPrivileges
	pa.DatabaseSettings, pb.DatabaseSettings = a.DatabaseSettings, b.DatabaseSettings
	pa.DatabaseComment, pb.DatabaseComment = a.DatabaseComment, b.DatabaseComment
	pa.DatabaseConnectionLimit, pb.DatabaseConnectionLimit = a.DatabaseConnectionLimit, b.DatabaseConnectionLimit
	pa.DatabaseIsTemplate, pb.DatabaseIsTemplate = a.DatabaseIsTemplate, b.DatabaseIsTemplate
	pa.DatabaseConnectionsDisallowed, pb.DatabaseConnectionsDisallowed = a.DatabaseConnectionsDisallowed, b.DatabaseConnectionsDisallowed
	if a.DatabaseOwner != "" && b.DatabaseOwner != "" {
		pa.DatabaseOwner, pb.DatabaseOwner = a.DatabaseOwner, b.DatabaseOwner
	}
	pruneMap(a.Schemas, b.Schemas, pa.Schemas, pb.Schemas)
	pruneMap(a.Tables, b.Tables, pa.Tables, pb.Tables)
	pruneMap(a.Sequences, b.Sequences, pa.Sequences, pb.Sequences)
	pruneMap(a.Views, b.Views, pa.Views, pb.Views)
	pruneMap(a.Functions, b.Functions, pa.Functions, pb.Functions)
	pruneMap(a.Enums, b.Enums, pa.Enums, pb.Enums)
	pruneMap(a.Domains, b.Domains, pa.Domains, pb.Domains)
	pruneMap(a.Composites, b.Composites, pa.Composites, pb.Composites)
	pruneMap(a.ShellTypes, b.ShellTypes, pa.ShellTypes, pb.ShellTypes)
	pruneMap(a.Extensions, b.Extensions, pa.Extensions, pb.Extensions)
	pruneMap(a.Constraints, b.Constraints, pa.Constraints, pb.Constraints)
	pruneMap(a.Indexes, b.Indexes, pa.Indexes, pb.Indexes)
	pruneMap(a.Triggers, b.Triggers, pa.Triggers, pb.Triggers)
	pruneMap(a.Policies, b.Policies, pa.Policies, pb.Policies)
	pruneMap(a.TextSearchConfigs, b.TextSearchConfigs, pa.TextSearchConfigs, pb.TextSearchConfigs)
	pruneMap(a.TextSearchDictionaries, b.TextSearchDictionaries, pa.TextSearchDictionaries, pb.TextSearchDictionaries)
	pruneMap(a.EventTriggers, b.EventTriggers, pa.EventTriggers, pb.EventTriggers)
	pruneMap(a.Publications, b.Publications, pa.Publications, pb.Publications)
	pruneMap(a.ForeignDataWrappers, b.ForeignDataWrappers, pa.ForeignDataWrappers, pb.ForeignDataWrappers)
	pruneMap(a.ForeignServers, b.ForeignServers, pa.ForeignServers, pb.ForeignServers)
	pruneMap(a.UserMappings, b.UserMappings, pa.UserMappings, pb.UserMappings)
	pruneMap(a.Casts, b.Casts, pa.Casts, pb.Casts)
	pruneMap(a.Operators, b.Operators, pa.Operators, pb.Operators)
	pruneMap(a.OperatorFamilies, b.OperatorFamilies, pa.OperatorFamilies, pb.OperatorFamilies)
	pruneMap(a.OperatorClasses, b.OperatorClasses, pa.OperatorClasses, pb.OperatorClasses)
	pruneMap(a.TextSearchParsers, b.TextSearchParsers, pa.TextSearchParsers, pb.TextSearchParsers)
	pruneMap(a.TextSearchTemplates, b.TextSearchTemplates, pa.TextSearchTemplates, pb.TextSearchTemplates)
	pruneMap(a.AccessMethods, b.AccessMethods, pa.AccessMethods, pb.AccessMethods)
	pruneMap(a.Languages, b.Languages, pa.Languages, pb.Languages)
	pruneMap(a.Conversions, b.Conversions, pa.Conversions, pb.Conversions)
	pruneMap(a.Transforms, b.Transforms, pa.Transforms, pb.Transforms)
	pruneMap(a.Roles, b.Roles, pa.Roles, pb.Roles)
	pruneMap(a.Memberships, b.Memberships, pa.Memberships, pb.Memberships)
	pruneMap(a.BuiltInPrivileges, b.BuiltInPrivileges, pa.BuiltInPrivileges, pb.BuiltInPrivileges)
	return pa, pb
}

func pruneMap[V comparable](a, b, pa, pb map[string]V) {
	for k, x := range a {
		if y, ok := b[k]; !ok || y != x {
			pa[k] = x
		}
	}
	for k, y := range b {
		if x, ok := a[k]; !ok || x != y {
			pb[k] = y
		}
	}
}
