package deploy

import (
	"fmt"
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
	// catalog before the run) may do anything, like a DO block.
	Funcs, CreatedFuncs map[string]bool
	// Losses describe statements that destroy data: dropped tables or columns, TRUNCATE, DELETE.
	Losses []loss
}

type loss struct {
	what     string // "table", "column", "truncate", "delete"
	relation string
	column   string
	line     int
}

func newEffects() *effects {
	return &effects{Tables: map[string]bool{}, Rows: map[string]bool{}, Updated: map[string]map[string]bool{}, Created: map[string]bool{},
		AddedColumns: map[string]bool{}, Validates: map[string]bool{}, Funcs: map[string]bool{}, CreatedFuncs: map[string]bool{}}
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
		walk(st.Node.ProtoReflect(), func(fc *pg_query.FuncCall) { e.Funcs[funcName(fc.Funcname)] = true })
		line := st.Pos.Line
		switch n := st.Node.Node.(type) {
		case *pg_query.Node_InsertStmt:
			e.Rows[name(n.InsertStmt.Relation)] = true
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
				}
			}
		case *pg_query.Node_MergeStmt:
			e.Rows[name(n.MergeStmt.Relation)] = true
		case *pg_query.Node_CopyStmt:
			if n.CopyStmt.IsFrom {
				e.Rows[name(n.CopyStmt.Relation)] = true
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
					e.Losses = append(e.Losses, loss{what: "table", relation: strings.Join(parts, "."), line: line})
				}
			}
		case *pg_query.Node_CreateFunctionStmt:
			e.CreatedFuncs[funcName(n.CreateFunctionStmt.Funcname)] = true
		case *pg_query.Node_DoStmt, *pg_query.Node_CallStmt:
			e.Opaque = true
		}
	}
	return e
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
// a table or column the up did not create, or empties a table the up did not fill. "" when it does not.
// searchPath is what the deploy puts in front of the search path (migrate.Set.SearchPath, quoted; "" for
// none): an unqualified name stands for a table in that schema, else in public, so "users" and
// "app.users" are the same table when it is "app".
func downLosesData(m *migrate.Migration, searchPath string) string {
	up, down := analyze(m.Up), analyze(m.Down)
	schema := "public"
	if searchPath != "" {
		schema = unquoteIdent(searchPath)
	}
	q := func(rel string) string {
		if rel == "" || strings.Contains(rel, ".") {
			return rel
		}
		return schema + "." + rel
	}
	created, added, rows := map[string]bool{}, map[string]bool{}, map[string]bool{}
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
	for _, l := range down.Losses {
		rel := q(l.relation)
		switch l.what {
		case "table":
			if !created[rel] {
				return fmt.Sprintf("%s:%d drops table %s, which its up did not create", m.Down.File, l.line, l.relation)
			}
		case "column":
			if !created[rel] && !added[rel+"."+l.column] {
				return fmt.Sprintf("%s:%d drops column %s.%s, which its up did not add", m.Down.File, l.line, l.relation, l.column)
			}
		case "truncate", "delete":
			if !created[rel] && !rows[rel] {
				return fmt.Sprintf("%s:%d empties %s, which its up did not fill", m.Down.File, l.line, l.relation)
			}
		}
	}
	return ""
}
