package deploy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/schemagate/schemagate/internal/migrate"
)

// effects is what a script does, read from its parse tree.
type effects struct {
	// Tables are every relation the script names.
	Tables map[string]bool
	// Rows are relations whose row count it may change (INSERT, DELETE, TRUNCATE, MERGE, COPY FROM).
	Rows map[string]bool
	// Updated are the columns, by relation, whose values it may change in place (UPDATE ... SET).
	Updated map[string]map[string]bool
	// Created are relations it creates; AddedColumns "relation.column" pairs it adds.
	Created      map[string]bool
	AddedColumns map[string]bool
	// Validates are "relation.constraint" pairs it validates (ALTER TABLE ... VALIDATE CONSTRAINT).
	Validates map[string]bool
	// Opaque is set when some statement may do anything (DO blocks, CALL): every table is suspect.
	Opaque bool
	// Funcs are the functions the script calls, as written (lower case, qualified when it qualifies them);
	// CreatedFuncs those it creates. A call of a function that is not built in (resolved against the
	// catalog before the run) may do anything, like a DO block. CalledAt is the line of each function's
	// first call.
	Funcs, CreatedFuncs map[string]bool
	CalledAt            map[string]int
	// CreatedSchemas are the schemas it creates (CREATE SCHEMA without IF NOT EXISTS, which may find
	// one that was there).
	CreatedSchemas map[string]bool
	// Losses describe statements that destroy data: dropped tables or columns, schemas dropped with
	// CASCADE (with every table they hold), TRUNCATE, DELETE, UPDATE, which overwrites values, also in a
	// WITH clause (a data-modifying CTE), and column type changes (ALTER COLUMN ... TYPE), which may
	// narrow; and DO blocks whose text holds such a statement (see destroyingCode).
	Losses []loss
	// Filled are relations it writes rows into (INSERT, MERGE, COPY FROM, CREATE TABLE AS): how a down
	// may bring back rows its up deleted.
	Filled map[string]bool
}

type loss struct {
	what     string // "table", "schema", "column", "truncate", "delete", "update", "type"; "code" for a DO block
	relation string // the schema for "schema"
	column   string
	line     int
	// matview is a dropped materialized view: its rows are computed, not data of its own.
	matview bool
	// code is what a DO block's text holds that destroys data ("DROP COLUMN", "DELETE FROM").
	code string
	// typ is the type a column is changed to ("type"); using says that a USING expression converts it.
	typ   colType
	using bool
}

func newEffects() *effects {
	return &effects{Tables: map[string]bool{}, Rows: map[string]bool{}, Updated: map[string]map[string]bool{}, Created: map[string]bool{},
		AddedColumns: map[string]bool{}, Validates: map[string]bool{}, Funcs: map[string]bool{}, CreatedFuncs: map[string]bool{},
		CalledAt: map[string]int{}, Filled: map[string]bool{}, CreatedSchemas: map[string]bool{}}
}

func rvName(rv *pg_query.RangeVar) string {
	if rv == nil {
		return ""
	}
	if rv.Schemaname != "" {
		return rv.Schemaname + "." + rv.Relname
	}
	return rv.Relname
}

// setsSearchPath tells whether n sets search_path (SET [LOCAL] search_path, RESET, set_config with a
// constant), and the first schema it names; "" for the default or what cannot be read.
func setsSearchPath(n *pg_query.Node) (string, bool) {
	first := func(list string) string {
		p, _, _ := strings.Cut(list, ",")
		p = strings.TrimSpace(p)
		if p == "" || strings.Contains(p, "$user") {
			return ""
		}
		return unquoteIdent(p)
	}
	if v := n.GetVariableSetStmt(); v != nil && strings.EqualFold(v.Name, "search_path") {
		if v.Kind == pg_query.VariableSetKind_VAR_SET_VALUE && len(v.Args) > 0 {
			if c := v.Args[0].GetAConst(); c != nil && c.GetSval() != nil {
				return first(`"` + strings.ReplaceAll(c.GetSval().Sval, `"`, `""`) + `"`), true
			}
		}
		return "", true
	}
	path, found := "", false
	walk(n.ProtoReflect(), func(fc *pg_query.FuncCall) {
		if strings.TrimPrefix(funcName(fc.Funcname), "pg_catalog.") != "set_config" || len(fc.Args) < 2 {
			return
		}
		k, v := fc.Args[0].GetAConst().GetSval(), fc.Args[1].GetAConst().GetSval()
		if k != nil && strings.EqualFold(k.Sval, "search_path") && v != nil {
			path, found = first(v.Sval), true
		}
	})
	return path, found
}

// analyze reads the effects of a script.
func analyze(s *migrate.Script) *effects {
	e := newEffects()
	if s == nil {
		return e
	}
	// path is the schema the script's own SET search_path puts first ("" until it sets one): its
	// unqualified names are that schema's from then on. Each script starts from a reset session.
	path := ""
	name := func(rv *pg_query.RangeVar) string {
		if rv != nil && rv.Schemaname == "" && path != "" {
			return path + "." + rv.Relname
		}
		return rvName(rv)
	}
	for _, st := range s.Statements {
		if st.Node == nil {
			continue
		}
		if p, ok := setsSearchPath(st.Node); ok {
			path = p
		}
		walk(st.Node.ProtoReflect(), func(rv *pg_query.RangeVar) { e.Tables[name(rv)] = true })
		line := st.Pos.Line
		walk(st.Node.ProtoReflect(), func(fc *pg_query.FuncCall) {
			f := funcName(fc.Funcname)
			if !e.Funcs[f] {
				e.Funcs[f], e.CalledAt[f] = true, line
			}
		})
		e.statement(st.Node, st.SQL, line, path)
		// The INSERT, UPDATE and DELETE of a WITH clause write as the statement's own do (not in what a
		// statement only defines: a function's BEGIN ATOMIC body, a prepared statement, a rule).
		if st.Node.GetCreateFunctionStmt() == nil && st.Node.GetPrepareStmt() == nil && st.Node.GetRuleStmt() == nil {
			walk(st.Node.ProtoReflect(), func(cte *pg_query.CommonTableExpr) { e.statement(cte.Ctequery, "", line, path) })
		}
	}
	return e
}

// statement adds the effects of one statement n (a script's, or the query of a WITH clause: sql is then
// "") at line; path is the schema the script's search path puts first ("" for none).
func (e *effects) statement(n *pg_query.Node, sql string, line int, path string) {
	if n == nil {
		return
	}
	name := func(rv *pg_query.RangeVar) string {
		if rv != nil && rv.Schemaname == "" && path != "" {
			return path + "." + rv.Relname
		}
		return rvName(rv)
	}
	switch n := n.Node.(type) {
	case *pg_query.Node_InsertStmt:
		e.Rows[name(n.InsertStmt.Relation)] = true
		e.Filled[name(n.InsertStmt.Relation)] = true
	case *pg_query.Node_DeleteStmt:
		rel := name(n.DeleteStmt.Relation)
		e.Rows[rel] = true
		e.Losses = append(e.Losses, loss{what: "delete", relation: rel, line: line})
	case *pg_query.Node_UpdateStmt:
		rel := name(n.UpdateStmt.Relation)
		if e.Updated[rel] == nil {
			e.Updated[rel] = map[string]bool{}
		}
		for _, t := range n.UpdateStmt.TargetList {
			if rt := t.GetResTarget(); rt != nil {
				e.Updated[rel][rt.Name] = true
				e.Losses = append(e.Losses, loss{what: "update", relation: rel, column: rt.Name, line: line})
			}
		}
	case *pg_query.Node_MergeStmt:
		e.Rows[name(n.MergeStmt.Relation)] = true
		e.Filled[name(n.MergeStmt.Relation)] = true
	case *pg_query.Node_CopyStmt:
		if n.CopyStmt.IsFrom {
			e.Rows[name(n.CopyStmt.Relation)] = true
			e.Filled[name(n.CopyStmt.Relation)] = true
		}
	case *pg_query.Node_TruncateStmt:
		for _, r := range n.TruncateStmt.Relations {
			rel := name(r.GetRangeVar())
			e.Rows[rel] = true
			e.Losses = append(e.Losses, loss{what: "truncate", relation: rel, line: line})
		}
	case *pg_query.Node_CreateStmt:
		e.Created[name(n.CreateStmt.Relation)] = true
	case *pg_query.Node_CreateTableAsStmt:
		if n.CreateTableAsStmt.Into != nil {
			e.Created[name(n.CreateTableAsStmt.Into.Rel)] = true
			e.Filled[name(n.CreateTableAsStmt.Into.Rel)] = true
		}
	case *pg_query.Node_AlterTableStmt:
		rel := name(n.AlterTableStmt.Relation)
		for _, c := range n.AlterTableStmt.Cmds {
			cmd := c.GetAlterTableCmd()
			if cmd == nil {
				continue
			}
			switch cmd.Subtype {
			case pg_query.AlterTableType_AT_AddColumn:
				if cd := cmd.Def.GetColumnDef(); cd != nil {
					e.AddedColumns[rel+"."+cd.Colname] = true
				}
			case pg_query.AlterTableType_AT_DropColumn:
				e.Losses = append(e.Losses, loss{what: "column", relation: rel, column: cmd.Name, line: line})
			case pg_query.AlterTableType_AT_AlterColumnType:
				if cd := cmd.Def.GetColumnDef(); cd != nil {
					e.Losses = append(e.Losses, loss{what: "type", relation: rel, column: cmd.Name, line: line,
						typ: typeOf(cd.TypeName), using: cd.RawDefault != nil})
				}
			case pg_query.AlterTableType_AT_ValidateConstraint:
				e.Validates[rel+"."+cmd.Name] = true
			case pg_query.AlterTableType_AT_AttachPartition:
				// The partition's rows become the parent's (a DETACH, which takes them away, is not
				// expected to change counts: it is reported).
				e.Rows[rel] = true
			}
		}
	case *pg_query.Node_DropStmt:
		if n.DropStmt.RemoveType == pg_query.ObjectType_OBJECT_TABLE || n.DropStmt.RemoveType == pg_query.ObjectType_OBJECT_MATVIEW {
			for _, o := range n.DropStmt.Objects {
				var parts []string
				for _, it := range o.GetList().GetItems() {
					parts = append(parts, it.GetString_().GetSval())
				}
				rel := strings.Join(parts, ".")
				if len(parts) == 1 && path != "" {
					rel = path + "." + rel
				}
				e.Losses = append(e.Losses, loss{what: "table", relation: rel, line: line,
					matview: n.DropStmt.RemoveType == pg_query.ObjectType_OBJECT_MATVIEW})
			}
		}
		// Without CASCADE a schema that holds anything is not dropped.
		if n.DropStmt.RemoveType == pg_query.ObjectType_OBJECT_SCHEMA && n.DropStmt.Behavior == pg_query.DropBehavior_DROP_CASCADE {
			for _, o := range n.DropStmt.Objects {
				e.Losses = append(e.Losses, loss{what: "schema", relation: o.GetString_().GetSval(), line: line})
			}
		}
	case *pg_query.Node_CreateSchemaStmt:
		if !n.CreateSchemaStmt.IfNotExists && n.CreateSchemaStmt.Schemaname != "" {
			e.CreatedSchemas[n.CreateSchemaStmt.Schemaname] = true
		}
	case *pg_query.Node_CreateFunctionStmt:
		e.CreatedFuncs[funcName(n.CreateFunctionStmt.Funcname)] = true
	case *pg_query.Node_DoStmt:
		e.Opaque = true
		// What it does is in its text: as its parse tree cannot show it, the text is searched.
		if what := destroyingCode(sql); what != "" {
			e.Losses = append(e.Losses, loss{what: "code", line: line, code: what})
		}
	case *pg_query.Node_CallStmt:
		e.Opaque = true
	}
}

// funcName is a function's name as written: "name" or "schema.name", lower case.
func funcName(parts []*pg_query.Node) string {
	var names []string
	for _, p := range parts {
		names = append(names, strings.ToLower(p.GetString_().GetSval()))
	}
	return strings.Join(names, ".")
}

// walk calls f for every node of type T in a parse tree (a RangeVar, a FuncCall), also inside those it
// finds (a function call's arguments hold calls too).
func walk[T protoreflect.ProtoMessage](m protoreflect.Message, f func(T)) {
	if x, ok := m.Interface().(T); ok {
		f(x)
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			if fd.Kind() == protoreflect.MessageKind {
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					walk(l.Get(i).Message(), f)
				}
			}
		case fd.IsMap():
		case fd.Kind() == protoreflect.MessageKind:
			walk(v.Message(), f)
		}
		return true
	})
}

// downLosesData explains why running m's down would destroy data that existed before m's up ran: it drops
// a table or column the up did not create, drops with CASCADE a schema the up did not create, empties a
// table the up did not fill, or changes the type of a column the up did not add other than back to the
// type the up widened it from or to a wider one (widens; a USING expression counts as lossy, and so
// does a change of a column whose type the up did not change, which may narrow it). What the parse
// tree cannot show counts too, as for upLosesData: a DO block whose text holds a statement that
// destroys data, a call of a function whose code (code) holds one or cannot be read. "" when it does
// not. searchPath is what the deploy puts in front of the search path (migrate.Set.SearchPath, quoted;
// "" for none): an unqualified name stands for a table in that schema, else in public, so "users" and
// "app.users" are the same table when it is "app".
func downLosesData(m *migrate.Migration, searchPath string, code map[string][]codeDef) string {
	up, down := analyze(m.Up), analyze(m.Down)
	q := qualifier(searchPath)
	created, added, rows, retyped := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]colType{}
	for r := range up.Created {
		created[q(r)] = true
	}
	for rc := range up.AddedColumns {
		i := strings.LastIndex(rc, ".")
		added[q(rc[:i])+rc[i:]] = true
	}
	for r := range up.Rows {
		rows[q(r)] = true
	}
	for _, l := range up.Losses {
		if l.what == "type" {
			retyped[q(l.relation)+"."+l.column] = l.typ // the type the down finds: the up's last
		}
	}
	for _, l := range down.Losses {
		rel := q(l.relation)
		at := fmt.Sprintf("%s:%d", m.Down.File, l.line)
		switch l.what {
		case "table":
			if !created[rel] {
				return fmt.Sprintf("%s drops table %s, which its up did not create", at, l.relation)
			}
		case "schema":
			if !up.CreatedSchemas[l.relation] {
				return fmt.Sprintf("%s drops schema %s with CASCADE, and every table in it, which its up did not create", at, l.relation)
			}
		case "column":
			if !created[rel] && !added[rel+"."+l.column] {
				return fmt.Sprintf("%s drops column %s.%s, which its up did not add", at, l.relation, l.column)
			}
		case "truncate", "delete":
			if !created[rel] && !rows[rel] {
				return fmt.Sprintf("%s empties %s, which its up did not fill", at, l.relation)
			}
		case "type":
			col := rel + "." + l.column
			if created[rel] || added[col] {
				continue
			}
			was, ok := retyped[col]
			switch {
			case l.using:
				return fmt.Sprintf("%s changes the type of column %s.%s to %s with USING, a conversion that may lose data its up did not add", at, l.relation, l.column, l.typ)
			case !ok:
				return fmt.Sprintf("%s changes the type of column %s.%s to %s, which its up did not change: it may narrow it", at, l.relation, l.column, l.typ)
			case !widens(was, l.typ) && !widens(l.typ, was):
				return fmt.Sprintf("%s changes the type of column %s.%s from %s to %s, neither back from a widening nor a widening itself: it may lose data", at, l.relation, l.column, was, l.typ)
			}
			retyped[col] = l.typ
		case "code":
			return fmt.Sprintf("%s runs a DO block that holds %q, which may destroy data that was there before the up", at, l.code)
		}
	}
	return calledCodeLoses(m.Down, down, code, "data that was there before the up")
}

// qualifier qualifies a relation name as the deploy resolves it: an unqualified name stands for a table in
// searchPath's schema (migrate.Set.SearchPath, quoted; "" for none), else in public.
func qualifier(searchPath string) func(string) string {
	schema := "public"
	if searchPath != "" {
		schema = unquoteIdent(searchPath)
	}
	return func(rel string) string {
		if rel == "" || strings.Contains(rel, ".") {
			return rel
		}
		return schema + "." + rel
	}
}

// upLosesData explains what data that was there before m's up ran the up destroyed, and its down does not
// bring back: it drops a table or column it did not create (an up that creates a table and drops it again
// destroys nothing of what was there), empties a table (TRUNCATE, DELETE) or overwrites values of
// columns it did not add (UPDATE). A down that only recreates the shape (ADD COLUMN, CREATE TABLE) does
// not bring the data back; one that writes it again does: rows into the table (INSERT, COPY, MERGE,
// CREATE TABLE AS) for a dropped or emptied table, values into the column (UPDATE) for a dropped or
// overwritten one. A dropped materialized view is computed again, not lost. A schema dropped with
// CASCADE that neither m nor earlier created loses every table it held, whatever the down does. A column
// type change (ALTER COLUMN ... TYPE) of a column neither added loses data unless it is a widening
// (widens) from the type the down changes it back to, without USING: the down says what the type was
// (the rollback's verification, which compares the catalog with the one before the run, finds a down
// that says it wrongly, and restores the snapshot); one whose down does not change the type back, or with
// a USING expression, counts as lossy. Tables and columns that
// earlier (the run's migrations applied before m, whose downs remove them again) created count as m's
// own. "" when nothing is lost. searchPath is as for downLosesData.
// What the parse tree cannot show counts as lost too, the down's writes notwithstanding: a DO block whose
// text holds such a statement (destroyingCode), and a call of a function whose code (code, by name
// without schema: folderCode, deployer.funcCode) holds one, or whose code is unknown.
func upLosesData(m *migrate.Migration, earlier []*migrate.Migration, searchPath string, code map[string][]codeDef) string {
	up := analyze(m.Up)
	if len(up.Losses) == 0 {
		return calledCodeLoses(m.Up, up, code, "data the down of "+m.ID()+" does not bring back")
	}
	down := analyze(m.Down)
	q := qualifier(searchPath)
	created, added, refilled, rewritten := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	schemas, retyped := map[string]bool{}, map[string]colType{}
	for _, e := range append([]*migrate.Migration{m}, earlier...) {
		eff := up
		if e != m {
			eff = analyze(e.Up)
		}
		for r := range eff.Created {
			created[q(r)] = true
		}
		for rc := range eff.AddedColumns {
			i := strings.LastIndex(rc, ".")
			added[q(rc[:i])+rc[i:]] = true
		}
		for sc := range eff.CreatedSchemas {
			schemas[sc] = true
		}
	}
	// The type a column had before the up is the one its down changes it back to (the last it does).
	for _, l := range down.Losses {
		if l.what == "type" {
			retyped[q(l.relation)+"."+l.column] = l.typ
		}
	}
	for r := range down.Filled {
		refilled[q(r)] = true
	}
	for r, cols := range down.Updated {
		for c := range cols {
			rewritten[q(r)+"."+c] = true
		}
	}
	for _, l := range up.Losses {
		at := fmt.Sprintf("%s:%d", m.Up.File, l.line)
		if l.what == "schema" {
			if !schemas[l.relation] {
				return fmt.Sprintf("%s drops schema %s with CASCADE, and with it every table it holds, which the down of %s cannot bring back", at, l.relation, m.ID())
			}
			continue
		}
		rel := q(l.relation)
		if created[rel] || l.matview {
			continue
		}
		switch l.what {
		case "table":
			if !refilled[rel] {
				return fmt.Sprintf("%s drops table %s, and the down of %s does not fill it again", at, l.relation, m.ID())
			}
		case "column":
			if !rewritten[rel+"."+l.column] {
				return fmt.Sprintf("%s drops column %s.%s, and the down of %s does not write its values again", at, l.relation, l.column, m.ID())
			}
		case "truncate", "delete":
			if !refilled[rel] {
				verb := "empties"
				if l.what == "delete" {
					verb = "deletes rows of"
				}
				return fmt.Sprintf("%s %s %s, and the down of %s does not put its rows back", at, verb, l.relation, m.ID())
			}
		case "update":
			if !added[rel+"."+l.column] && !rewritten[rel+"."+l.column] {
				return fmt.Sprintf("%s overwrites %s.%s, and the down of %s does not write its old values again", at, l.relation, l.column, m.ID())
			}
		case "type":
			col := rel + "." + l.column
			if added[col] {
				continue
			}
			was, ok := retyped[col]
			switch {
			case l.using:
				return fmt.Sprintf("%s changes the type of %s.%s to %s with USING, a conversion that may lose data the down of %s does not bring back", at, l.relation, l.column, l.typ, m.ID())
			case !ok:
				return fmt.Sprintf("%s changes the type of %s.%s to %s, and the down of %s does not change it back, so nothing shows it is a widening: it may lose data", at, l.relation, l.column, l.typ, m.ID())
			case !widens(was, l.typ):
				return fmt.Sprintf("%s changes the type of %s.%s from %s to %s, which is not a widening: it may lose data the down of %s does not bring back", at, l.relation, l.column, was, l.typ, m.ID())
			}
			retyped[col] = l.typ
		case "code":
			return fmt.Sprintf("%s runs a DO block that holds %q, which may destroy data the down of %s does not bring back", at, l.code, m.ID())
		}
	}
	return calledCodeLoses(m.Up, up, code, "data the down of "+m.ID()+" does not bring back")
}

// calledCodeLoses says which function that script s (whose effects are up) calls may destroy data, by
// what code says of it (see upLosesData), and says it may destroy what; "" when none may.
func calledCodeLoses(s *migrate.Script, up *effects, code map[string][]codeDef, what string) string {
	funcs := make([]string, 0, len(up.Funcs))
	for f := range up.Funcs {
		funcs = append(funcs, f)
	}
	slices.SortFunc(funcs, func(a, b string) int { return cmp.Or(up.CalledAt[a]-up.CalledAt[b], strings.Compare(a, b)) })
	for _, f := range funcs {
		at := fmt.Sprintf("%s:%d", s.File, up.CalledAt[f])
		for _, c := range code[bareName(f)] {
			switch {
			case c.unknown:
				why := "neither the migration folder nor the database defines it"
				if c.place != "" {
					why = c.place
				}
				return fmt.Sprintf("%s calls %s, whose code cannot be read (%s): it may destroy %s", at, f, why, what)
			case c.destroys != "":
				return fmt.Sprintf("%s calls %s, whose code (%s) holds %q, which may destroy %s", at, f, c.place, c.destroys, what)
			}
		}
	}
	return ""
}
