package lint

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// PostgreSQL records no dependency on the columns a PL/pgSQL body names, nor a LANGUAGE sql body
// written as a string (only BEGIN ATOMIC and RETURN bodies are parsed when the function is created):
// DROP COLUMN goes through, and the function fails when it next reaches the column. For a row trigger's
// function that is the first INSERT, UPDATE or DELETE of the table that fires it (measured on 15:
// 42703 record "new" has no field "qty"). The state follows the functions and triggers the history
// defines so that drop-column can name them.

// routine is a function the history defines (one signature), with what its body names.
type routine struct {
	key      string // funcKey: schema-qualified name and input types
	language string // lower-cased: plpgsql, sql, …
	// refs are what the body names as name.col (see bodyRefs), read once from its tokens as
	// PostgreSQL's scanner reads them, comments left out (see sqlparse.Tokens); nil for a body the
	// state does not read: a BEGIN ATOMIC or RETURN body, whose columns PostgreSQL tracks, a language
	// other than plpgsql and sql, or one that does not scan.
	refs map[dotted]qualifiers
	// cols are the columns of known tables a BEGIN ATOMIC or RETURN body (PostgreSQL 14 and later) uses,
	// by table key: PostgreSQL records a dependency on each (see bodyColumns), so it refuses to drop one
	// without CASCADE, and drops the function with CASCADE.
	cols map[string][]string
}

// dotted is a name.col a body writes, each word as PostgreSQL folds it (see ident): a record's field
// (NEW.qty) or a table's column (items.qty).
type dotted struct{ name, col string }

// qualifiers say what stands before the name of a dotted reference, over its occurrences in a body.
type qualifiers struct {
	// field: an occurrence without a dot before it (NEW.qty, not x.new.qty), which namesField reads as
	// a record's field.
	field bool
	// unqualified: an occurrence that names no schema (items.qty), which routinesNaming takes at its
	// word.
	unqualified bool
	// schemas are the schemas of schema.items.qty.
	schemas []string
}

// bodyRefs reads what tokens name as name.col, with what stands before each (see qualifiers). A body is
// read once, when the function is defined: each DROP and RENAME COLUMN then looks its column up, where
// reading every body of the history again made `lint --dir` quadratic.
func bodyRefs(tokens []string) map[dotted]qualifiers {
	var refs map[dotted]qualifiers
	for i := 2; i < len(tokens); i++ {
		if tokens[i-1] != "." {
			continue
		}
		col, ok := ident(tokens[i])
		if !ok {
			continue
		}
		name, ok := ident(tokens[i-2])
		if !ok {
			continue
		}
		if refs == nil {
			refs = map[dotted]qualifiers{}
		}
		d := dotted{name, col}
		q := refs[d]
		q.field = q.field || i < 3 || tokens[i-3] != "."
		if i >= 4 && tokens[i-3] == "." {
			if sch, ok := ident(tokens[i-4]); ok && !slices.Contains(q.schemas, sch) {
				q.schemas = append(q.schemas, sch)
			}
		} else {
			q.unqualified = true
		}
		refs[d] = q
	}
	return refs
}

// indexRoutine adds r to the state's indexes of the functions whose bodies name name.col and use a
// table's columns (naming, colUsers), as it reads now; unindexRoutine takes it out of them, before r
// changes or goes.
func (s *state) indexRoutine(r *routine) {
	for d := range r.refs {
		if s.naming[d] == nil {
			s.naming[d] = map[*routine]bool{}
		}
		s.naming[d][r] = true
	}
	for key := range r.cols {
		addUser(s.colUsers, key, r)
	}
}

func (s *state) unindexRoutine(r *routine) {
	for d := range r.refs {
		delete(s.naming[d], r)
		if len(s.naming[d]) == 0 {
			delete(s.naming, d)
		}
	}
	for key := range r.cols {
		delete(s.colUsers[key], r)
		if len(s.colUsers[key]) == 0 {
			delete(s.colUsers, key)
		}
	}
}

// addUser records in index that routine r uses columns of table key.
func addUser(index map[string]map[*routine]bool, key string, r *routine) {
	if index[key] == nil {
		index[key] = map[*routine]bool{}
	}
	index[key][r] = true
}

// trigger is a trigger the history creates on a table.
type trigger struct {
	name string
	// fn is the function it executes, nil when the history does not define it. A CREATE OR REPLACE
	// FUNCTION changes it in place: PostgreSQL keeps the function's OID, which the trigger points to.
	fn  *routine
	row bool // FOR EACH ROW
	// off says it does not fire in an ordinary session: ALTER TABLE … DISABLE TRIGGER, or ENABLE
	// REPLICA TRIGGER (it fires only under session_replication_role = replica).
	off bool
	// events are the events it fires on, as PostgreSQL's tgtype bits (triggerInsert …).
	events int32
	// cols are the columns of UPDATE OF and those WHEN names: PostgreSQL records a dependency on them,
	// so it refuses to drop one without CASCADE.
	cols []string
}

// The event bits of CreateTrigStmt.Events (TRIGGER_TYPE_INSERT …).
const (
	triggerInsert int32 = 1 << 2
	triggerDelete int32 = 1 << 3
	triggerUpdate int32 = 1 << 4
)

// inputTypes are the types of a function's input parameters, as funcKey takes them.
func inputTypes(params []*pg_query.Node) []string {
	var types []string
	for _, p := range params {
		fp := p.GetFunctionParameter()
		switch fp.GetMode() {
		case pg_query.FunctionParameterMode_FUNC_PARAM_OUT, pg_query.FunctionParameterMode_FUNC_PARAM_TABLE:
			continue
		}
		name, _ := typeName(fp.GetArgType())
		types = append(types, name)
	}
	return types
}

// defineRoutine notes a CREATE [OR REPLACE] FUNCTION and its body. A replacement changes the known
// function in place, so the triggers that execute it see the new body, as PostgreSQL's do.
func (s *state) defineRoutine(cf *pg_query.CreateFunctionStmt) {
	if cf.IsProcedure {
		return
	}
	key := funcKey(s.qual(cf.Funcname), inputTypes(cf.Parameters))
	r := s.routines[key]
	if r == nil {
		r = &routine{key: key}
		s.routines[key] = r
	}
	s.unindexRoutine(r)
	var tokens []string
	r.language, tokens = readBody(cf)
	r.refs = bodyRefs(tokens)
	r.cols = nil
	if cf.SqlBody != nil {
		r.cols = s.bodyColumns(cf)
	}
	s.indexRoutine(r)
}

// bodyColumns lists the columns of known tables that the BEGIN ATOMIC or RETURN body of cf uses, by
// table key, as PostgreSQL records them when it creates the function (measured on 15): those its
// queries read (usedColumns), the target columns of an INSERT, an UPDATE … SET and an ON CONFLICT DO
// UPDATE SET, and a field of a parameter of a table's row type (i.qty, (i).qty, $1.qty). An INSERT
// without a column list depends on as many columns as it has values, in the table's order, which the
// state does not keep: those are left out.
func (s *state) bodyColumns(cf *pg_query.CreateFunctionStmt) map[string][]string {
	used := s.usedColumns(cf.SqlBody)
	add := func(key, col string) {
		if t := s.known(key); t != nil && t.cols[col] != nil && !slices.Contains(used[key], col) {
			used[key] = append(used[key], col)
		}
	}
	params := map[string]string{} // a parameter of a table's row type, by name and by $n: the table's key
	n := 0
	for _, p := range cf.Parameters {
		fp := p.GetFunctionParameter()
		switch fp.GetMode() {
		case pg_query.FunctionParameterMode_FUNC_PARAM_OUT, pg_query.FunctionParameterMode_FUNC_PARAM_TABLE:
			continue // $n counts the input parameters only
		}
		n++
		t := fp.GetArgType()
		if t == nil || len(t.ArrayBounds) > 0 || t.PctType || s.known(s.qual(t.Names)) == nil {
			continue
		}
		params[fmt.Sprintf("$%d", n)] = s.qual(t.Names)
		if fp.Name != "" {
			params[fp.Name] = s.qual(t.Names)
		}
	}
	rels := map[string]bool{} // the names a query's FROM gives: i.qty is a column of the table i there, not a parameter's field
	walk(cf.SqlBody, func(m proto.Message) {
		if rv, ok := m.(*pg_query.RangeVar); ok {
			rels[rv.Relname] = true
			if rv.Alias != nil {
				rels[rv.Alias.Aliasname] = true
			}
		}
	})
	param := func(name string) string {
		if rels[name] {
			return ""
		}
		return params[name]
	}
	walk(cf.SqlBody, func(m proto.Message) {
		switch m := m.(type) {
		case *pg_query.InsertStmt:
			key := s.rel(m.Relation)
			for _, c := range m.Cols {
				add(key, c.GetResTarget().GetName())
			}
			for _, c := range m.GetOnConflictClause().GetTargetList() {
				add(key, c.GetResTarget().GetName())
			}
		case *pg_query.UpdateStmt:
			key := s.rel(m.Relation)
			for _, c := range m.TargetList {
				add(key, c.GetResTarget().GetName())
			}
		case *pg_query.ColumnRef:
			if len(m.Fields) == 2 {
				if key := param(m.Fields[0].GetString_().GetSval()); key != "" {
					add(key, m.Fields[1].GetString_().GetSval())
				}
			}
		case *pg_query.A_Indirection:
			key := ""
			if cr := m.Arg.GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
				key = param(cr.Fields[0].GetString_().GetSval())
			} else if pr := m.Arg.GetParamRef(); pr != nil {
				key = params[fmt.Sprintf("$%d", pr.Number)]
			}
			if key != "" && len(m.Indirection) > 0 {
				add(key, m.Indirection[0].GetString_().GetSval())
			}
		}
	})
	return used
}

// routinesUsing names the functions whose BEGIN ATOMIC or RETURN body PostgreSQL records as depending
// on column col of table key: it refuses to drop the column without CASCADE while they exist.
func (s *state) routinesUsing(key, col string) []string {
	var keys []string
	for r := range s.colUsers[key] {
		if slices.Contains(r.cols[key], col) {
			keys = append(keys, r.key)
		}
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = "function " + funcShown(k)
	}
	return out
}

// dropRoutinesUsing follows DROP COLUMN col of table key … CASCADE, which drops the functions whose
// body depends on the column (see routinesUsing).
func (s *state) dropRoutinesUsing(key, col string) {
	for r := range s.colUsers[key] {
		if slices.Contains(r.cols[key], col) {
			delete(s.routines, r.key)
			s.unindexRoutine(r)
		}
	}
}

// readBody is a CREATE FUNCTION's language, lower-cased, and the tokens of its body (see routine.refs).
func readBody(cf *pg_query.CreateFunctionStmt) (language string, tokens []string) {
	body := ""
	for _, o := range cf.Options {
		d := o.GetDefElem()
		switch d.GetDefname() {
		case "language":
			language = strings.ToLower(d.GetArg().GetString_().GetSval())
		case "as":
			if items := d.GetArg().GetList().GetItems(); len(items) == 1 { // two are a C function's file and symbol
				body = items[0].GetString_().GetSval()
			}
		}
	}
	if cf.SqlBody != nil || language != "plpgsql" && language != "sql" {
		return language, nil
	}
	if toks, err := sqlparse.Tokens(body); err == nil {
		tokens = toks
	}
	return language, tokens
}

// routinesNamed lists the keys of the known functions o names: one signature, or every overload of the
// name when o gives no argument list.
func (s *state) routinesNamed(o *pg_query.ObjectWithArgs) []string {
	if o == nil {
		return nil
	}
	_, key, all := s.funcSignature(o)
	if !all {
		if _, ok := s.routines[key]; ok {
			return []string{key}
		}
		return nil
	}
	prefix := funcKey(s.qual(o.GetObjname()), nil)
	prefix = prefix[:len(prefix)-1] // "schema.name("
	var keys []string
	for k := range s.routines {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// dropRoutines forgets the functions a DROP FUNCTION names, and the triggers that execute them: with
// CASCADE PostgreSQL drops those too, without it the DROP fails and the deploy stops.
func (s *state) dropRoutines(o *pg_query.ObjectWithArgs) {
	for _, key := range s.routinesNamed(o) {
		r := s.routines[key]
		delete(s.routines, key)
		s.unindexRoutine(r)
		for _, ts := range s.triggers {
			maps.DeleteFunc(ts, func(_ string, tr *trigger) bool { return tr.fn == r })
		}
	}
}

// moveRoutines follows ALTER FUNCTION … RENAME TO name or SET SCHEMA schema (the other one ""): the
// triggers keep executing the function under its new name.
func (s *state) moveRoutines(o *pg_query.ObjectWithArgs, schema, name string) {
	for _, key := range s.routinesNamed(o) {
		r := s.routines[key]
		sch, rest, _ := strings.Cut(key, "(")
		newSch, newName := keySchema(sch), bare(sch)
		if schema != "" {
			newSch = schema
		}
		if name != "" {
			newName = name
		}
		delete(s.routines, key)
		r.key = relKey(newSch, newName) + "(" + rest
		if other := s.routines[r.key]; other != nil {
			s.unindexRoutine(other) // PostgreSQL refuses the move; the state keeps one function of the key
		}
		s.routines[r.key] = r
	}
}

// createTrigger notes a CREATE [OR REPLACE] TRIGGER.
func (s *state) createTrigger(ct *pg_query.CreateTrigStmt) {
	table := s.rel(ct.Relation)
	if s.triggers[table] == nil {
		s.triggers[table] = map[string]*trigger{}
	}
	tr := &trigger{name: ct.Trigname, fn: s.routines[funcKey(s.qual(ct.Funcname), nil)], row: ct.Row, events: ct.Events,
		cols: append(colNames(ct.Columns), exprColumns(ct.WhenClause)...)}
	s.triggers[table][ct.Trigname] = tr
}

// enableTrigger follows ALTER TABLE table ENABLE / DISABLE TRIGGER name (ALL, USER).
func (s *state) enableTrigger(table string, cmd *pg_query.AlterTableCmd) {
	off := false
	all := false
	switch cmd.Subtype {
	case pg_query.AlterTableType_AT_DisableTrig, pg_query.AlterTableType_AT_EnableReplicaTrig:
		off = true
	case pg_query.AlterTableType_AT_DisableTrigAll, pg_query.AlterTableType_AT_DisableTrigUser:
		off, all = true, true
	case pg_query.AlterTableType_AT_EnableTrigAll, pg_query.AlterTableType_AT_EnableTrigUser:
		all = true
	}
	for name, tr := range s.triggers[table] {
		if all || name == cmd.Name {
			tr.off = off
		}
	}
}

// dropTrigger follows DROP TRIGGER name ON table (items: the table's name, then the trigger's).
func (s *state) dropTrigger(items []*pg_query.Node) {
	if len(items) < 2 {
		return
	}
	delete(s.triggers[s.qual(items[:len(items)-1])], lastName(items))
}

// triggerRef is a row trigger whose function's body names a column of its table through NEW or OLD.
type triggerRef struct {
	table string // the table's key
	tr    *trigger
	ref   string // as the message shows it: NEW.qty, OLD.qty
	rec   string // the record of ref, lower-cased: new, old
	// events are the trigger's events that reach the reference: INSERT and UPDATE for NEW, UPDATE and
	// DELETE for OLD (the other record is NULL there, and was before the drop too).
	events int32
}

// triggerBodiesUsing lists the row triggers of tables (state keys) whose function's body names column
// col as NEW.col or OLD.col, by table and trigger name.
func (s *state) triggerBodiesUsing(tables []string, col string) []triggerRef {
	var out []triggerRef
	for _, table := range tables {
		for _, name := range slices.Sorted(maps.Keys(s.triggers[table])) {
			tr := s.triggers[table][name]
			if !tr.row || tr.off || tr.fn == nil || tr.fn.language != "plpgsql" {
				continue
			}
			var events int32
			ref, rec := "", ""
			for _, r := range []struct {
				name   string
				events int32
			}{{"new", triggerInsert | triggerUpdate}, {"old", triggerUpdate | triggerDelete}} {
				if e := tr.events & r.events; e != 0 && namesField(tr.fn.refs, r.name, col) {
					events |= e
					if ref == "" {
						ref, rec = strings.ToUpper(r.name)+"."+col, r.name
					}
				}
			}
			if events != 0 {
				out = append(out, triggerRef{table: table, tr: tr, ref: ref, rec: rec, events: events})
			}
		}
	}
	return out
}

// triggersUsing names the triggers of table key that PostgreSQL records as depending on column col
// (UPDATE OF, WHEN): it refuses to drop the column without CASCADE while they exist.
func (s *state) triggersUsing(key, col string) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(s.triggers[key])) {
		if slices.Contains(s.triggers[key][name].cols, col) {
			out = append(out, fmt.Sprintf("trigger %s on %s", name, bare(key)))
		}
	}
	return out
}

// routinesNaming names the functions the history defines, other than those of skip, whose body names
// column col of table key qualified by the table's name (items.qty, public.items.qty): PostgreSQL does
// not check them when the column goes. The name may stand for something else there (an alias, a
// variable), so this is what the text says, not a proof.
func (s *state) routinesNaming(key, col string, skip map[*routine]bool) []string {
	d := dotted{bare(key), col}
	var keys []string
	for r := range s.naming[d] {
		if skip[r] {
			continue
		}
		// schema.items.qty must name the table's schema; a bare items.qty is taken at its word.
		if q := r.refs[d]; q.unqualified || slices.Contains(q.schemas, keySchema(key)) {
			keys = append(keys, r.key)
		}
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = funcShown(k)
	}
	return out
}

// namesField tells whether a body whose references are refs (see bodyRefs) names field col of record
// rec (new, old) as rec.col: the words as PostgreSQL folds them, whatever blank space or comments stand
// between them, not after another dot (x.new.col is a field of something else).
func namesField(refs map[dotted]qualifiers, rec, col string) bool {
	return refs[dotted{rec, col}].field
}

// ident is the name identifier token tok stands for: a quoted one exactly, an unquoted one folded to
// lower case as PostgreSQL folds it (ASCII letters only); ok is false for a token that is no
// identifier.
func ident(tok string) (name string, ok bool) {
	if len(tok) >= 2 && tok[0] == '"' && tok[len(tok)-1] == '"' {
		return strings.ReplaceAll(tok[1:len(tok)-1], `""`, `"`), true
	}
	if tok == "" || !(tok[0] == '_' || tok[0] >= 'a' && tok[0] <= 'z' || tok[0] >= 'A' && tok[0] <= 'Z' || tok[0] >= 0x80) {
		return "", false // a string, a number, punctuation
	}
	return asciiLower(tok), true
}

// asciiLower folds ASCII letters to lower case and leaves other bytes, as PostgreSQL's
// downcase_identifier does in a multibyte encoding.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// eventWords says events as prose: "INSERT or UPDATE", "UPDATE or DELETE".
func eventWords(events int32) string {
	var words []string
	for _, e := range []struct {
		bit  int32
		word string
	}{{triggerInsert, "INSERT"}, {triggerUpdate, "UPDATE"}, {triggerDelete, "DELETE"}} {
		if events&e.bit != 0 {
			words = append(words, e.word)
		}
	}
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// funcShown is a function's key as messages show it: its name and input types, without the schema.
func funcShown(key string) string {
	name, rest, _ := strings.Cut(key, "(")
	return bare(name) + "(" + rest
}

// trigFix tells whether a later statement of the transaction that runs the current one takes away
// what makes trigger ref fail once column col is gone (DROP COLUMN, RENAME COLUMN): it drops the
// trigger, its function or its table, replaces the trigger, gives the table a column col again (ADD
// COLUMN, or RENAME COLUMN … TO col), or replaces the function with a body that no longer names the
// column. No INSERT or UPDATE of another session sees the table between the two: the transaction
// holds ACCESS EXCLUSIVE on it from the DROP COLUMN on. Outside a transaction block there is a
// moment when it does, so nothing counts.
func (a *analyzer) trigFix(ref triggerRef, col string) bool {
	if !a.inTx() {
		return false
	}
	s := a.st
	for _, st := range a.script.Statements[a.stmtIdx+1:] {
		n := st.Node
		if n == nil {
			continue
		}
		switch {
		case n.GetTransactionStmt() != nil:
			return false
		case n.GetCreateTrigStmt() != nil:
			if c := n.GetCreateTrigStmt(); c.Replace && c.Trigname == ref.tr.name && s.rel(c.Relation) == ref.table {
				return true
			}
		case n.GetCreateFunctionStmt() != nil:
			cf := n.GetCreateFunctionStmt()
			if funcKey(s.qual(cf.Funcname), inputTypes(cf.Parameters)) == ref.tr.fn.key {
				lang, toks := readBody(cf)
				if refs := bodyRefs(toks); lang != "plpgsql" || !namesField(refs, "new", col) && !namesField(refs, "old", col) {
					return true
				}
			}
		case n.GetDropStmt() != nil:
			d := n.GetDropStmt()
			for _, o := range d.Objects {
				switch d.RemoveType {
				case pg_query.ObjectType_OBJECT_TRIGGER:
					if items := o.GetList().GetItems(); len(items) >= 2 && lastName(items) == ref.tr.name && s.qual(items[:len(items)-1]) == ref.table {
						return true
					}
				case pg_query.ObjectType_OBJECT_FUNCTION:
					if slices.Contains(s.routinesNamed(o.GetObjectWithArgs()), ref.tr.fn.key) {
						return true
					}
				case pg_query.ObjectType_OBJECT_TABLE:
					if s.qual(o.GetList().GetItems()) == ref.table {
						return true
					}
				}
			}
		case n.GetRenameStmt() != nil:
			if r := n.GetRenameStmt(); r.RenameType == pg_query.ObjectType_OBJECT_COLUMN && r.Newname == col && s.rel(r.Relation) == ref.table {
				return true
			}
		case n.GetAlterTableStmt() != nil:
			if at := n.GetAlterTableStmt(); s.rel(at.Relation) == ref.table {
				for _, c := range at.Cmds {
					if cmd := c.GetAlterTableCmd(); cmd.GetSubtype() == pg_query.AlterTableType_AT_AddColumn && cmd.Def.GetColumnDef().GetColname() == col {
						return true
					}
				}
			}
		}
	}
	return false
}

// dropColumnUsers makes drop-column's finding f, of DROP COLUMN col of table key (rv, cascade with
// CASCADE), say what uses the column: views, triggers and BEGIN ATOMIC or RETURN functions PostgreSQL
// records as depending on it make the drop fail without CASCADE, and go with it with CASCADE; row triggers whose function's body names it as NEW.col or OLD.col let it
// go through and fail afterwards, CASCADE or not; other functions whose body names table.col may fail
// when called, which the message mentions without changing the class.
func (a *analyzer) dropColumnUsers(f *Finding, rv *pg_query.RangeVar, key, col string, cascade bool) {
	rel := relName(rv)
	tables := []string{key}
	if rv.GetInh() {
		// PostgreSQL drops the column from the partitions too, and with it what their own triggers read.
		for _, k := range a.st.inheritors(key) {
			if _, part := a.st.partOf[k]; part {
				tables = append(tables, k)
			}
		}
	}
	var fixes, deps []string
	for _, v := range a.st.viewsUsing(key, col) {
		// With the kind, as PostgreSQL's DETAIL says it: the list may name triggers and functions too.
		kind := "view"
		if a.st.kinds[v] == "m" {
			kind = "materialized view"
		}
		deps = append(deps, kind+" "+bare(v))
	}
	for _, t := range tables {
		deps = append(deps, a.st.triggersUsing(t, col)...)
	}
	if a.cfg.Major() >= 14 { // BEGIN ATOMIC and RETURN bodies came with 14
		for _, t := range tables {
			deps = append(deps, a.st.routinesUsing(t, col)...)
		}
	}
	fails := len(deps) > 0 && !cascade
	if fails {
		f.Risk = Dangerous
		uses := "uses"
		if len(deps) > 1 {
			uses = "use"
		}
		f.Message = fmt.Sprintf("DROP COLUMN %s.%s fails: %s %s it, and PostgreSQL drops no column other objects depend on without CASCADE, so the deploy stops here", rel, col, andList(deps), uses)
		fixes = append(fixes, fmt.Sprintf("drop or replace %s without the column", andList(deps)))
	} else if len(deps) > 0 {
		f.Message += fmt.Sprintf("; CASCADE drops %s with it: code that uses them fails from then on", andList(deps))
	}
	refs := a.unfixed(a.st.triggerBodiesUsing(tables, col), col)
	skip := map[*routine]bool{}
	if len(refs) > 0 {
		f.Risk = Dangerous
		after, funcs, trigs := bodiesBreak(refs, col, skip)
		if fails {
			f.Message += "; without them it would go through, but " + after
		} else {
			f.Message = fmt.Sprintf("DROP COLUMN %s.%s goes through, but %s", rel, col, after)
		}
		fixes = append(fixes, fmt.Sprintf("change %s so that it no longer names %s (CREATE OR REPLACE FUNCTION), or drop %s", andList(funcs), col, andList(trigs)))
	}
	if len(fixes) > 0 {
		f.Suggestion = fmt.Sprintf("in an earlier step: %s; then drop the column", strings.Join(fixes, "; "))
	}
	f.Message += a.st.namingNote(key, col, skip, "drop")
}

// renameColumnUsers makes rename-column's finding f, of RENAME COLUMN old TO nw of table key (rv), say
// which row triggers of the table, or of a table below it (PostgreSQL renames the column there too),
// run a PL/pgSQL function whose body names the column as NEW.old or OLD.old: PostgreSQL rewrites no
// function body, so from the rename on each write that fires one fails (measured on 15: 42703 record
// "new" has no field "qty"), unless a later statement of the same transaction takes that away (see
// trigFix). Views, constraints, indexes, UPDATE OF and WHEN, and BEGIN ATOMIC bodies refer to the
// column by number and follow the rename. Functions whose body names table.old are mentioned.
func (a *analyzer) renameColumnUsers(f *Finding, rv *pg_query.RangeVar, key, old, nw string) {
	tables := []string{key}
	if rv.GetInh() {
		tables = append(tables, a.st.inheritors(key)...)
	}
	refs := a.unfixed(a.st.triggerBodiesUsing(tables, old), old)
	skip := map[*routine]bool{}
	if len(refs) > 0 {
		f.Risk = Dangerous
		after, funcs, trigs := bodiesBreak(refs, old, skip)
		f.Message += ", and " + after
		f.Suggestion = fmt.Sprintf("in the transaction of the rename, change %s to name %s where it names %s (CREATE OR REPLACE FUNCTION), or drop %s; for running code: %s",
			andList(funcs), quoteIdent(nw), quoteIdent(old), andList(trigs), f.Suggestion)
	}
	f.Message += a.st.namingNote(key, old, skip, "rename")
}

// unfixed is refs without those a later statement of the transaction fixes (see trigFix) once column
// col is gone.
func (a *analyzer) unfixed(refs []triggerRef, col string) []triggerRef {
	var out []triggerRef
	for _, r := range refs {
		if !a.trigFix(r, col) {
			out = append(out, r)
		}
	}
	return out
}

// bodiesBreak says what the row triggers refs do once column col is gone from their tables (dropped or
// renamed): the clause of the message that says so, and the functions and triggers a fix changes or
// drops. It adds the functions to skip, which namingNote then leaves out.
func bodiesBreak(refs []triggerRef, col string, skip map[*routine]bool) (after string, funcs, trigs []string) {
	var whose []string
	var events int32
	for _, r := range refs {
		whose = append(whose, fmt.Sprintf("trigger %s on %s runs %s, whose body names %s", r.tr.name, bare(r.table), funcShown(r.tr.fn.key), r.ref))
		if !slices.Contains(funcs, funcShown(r.tr.fn.key)) {
			funcs = append(funcs, funcShown(r.tr.fn.key))
		}
		trigs = append(trigs, fmt.Sprintf("trigger %s on %s", r.tr.name, bare(r.table)))
		events |= r.events
		skip[r.tr.fn] = true
	}
	fires := "fires it fails when its function reaches"
	if len(refs) > 1 {
		fires = "fires one of them fails when its function reaches"
	}
	after = fmt.Sprintf("%s; PostgreSQL does not track the columns a PL/pgSQL body names, so from then on each %s that %s the column (42703: record \"%s\" has no field \"%s\")",
		andList(whose), eventWords(events), fires, refs[0].rec, col)
	return after, funcs, trigs
}

// namingNote is what a finding on the drop or rename (what) of column col of table key adds about the
// functions, other than those of skip, whose body names key's table.col (see routinesNaming), "" when
// there are none.
func (s *state) namingNote(key, col string, skip map[*routine]bool, what string) string {
	switch others := s.routinesNaming(key, col, skip); len(others) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("; function %s names %s.%s in its body, which PostgreSQL does not track: if that is this column, calling the function fails after the %s", others[0], bare(key), col, what)
	default:
		return fmt.Sprintf("; functions %s name %s.%s in their bodies, which PostgreSQL does not track: if that is this column, calling them fails after the %s", andList(others), bare(key), col, what)
	}
}
