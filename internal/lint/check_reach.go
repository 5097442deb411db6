package lint

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// The rules in this file, like check_server.go's, judge statements whose effect reaches past the
// migration itself: code that runs on later statements (event triggers), code whose SQL is built at
// run time, functions that run with their owner's privileges, the system catalogs, privileges given to
// every role, publications of every table and sessions that switch off triggers and foreign keys.

// reachRules runs this file's rules on one statement; where is as for serverRules.
func (a *analyzer) reachRules(n *pg_query.Node, where string) {
	a.eventTrigger(n, where)
	a.systemCatalog(n, where)
	switch {
	case n.GetCreateFunctionStmt() != nil:
		s := n.GetCreateFunctionStmt()
		a.securityDefiner(s.Options, "CREATE "+funcKind(s.IsProcedure)+" "+strings.Join(nameList(s.Funcname), "."), false, where)
	case n.GetAlterFunctionStmt() != nil:
		s := n.GetAlterFunctionStmt()
		a.securityDefiner(s.Actions, "ALTER "+funcKind(s.Objtype == pg_query.ObjectType_OBJECT_PROCEDURE)+" "+strings.Join(nameList(s.GetFunc().GetObjname()), "."), true, where)
	case n.GetGrantStmt() != nil:
		a.grantToPublic(n.GetGrantStmt(), "", where)
	case n.GetAlterDefaultPrivilegesStmt() != nil:
		a.grantToPublic(n.GetAlterDefaultPrivilegesStmt().GetAction(), "ALTER DEFAULT PRIVILEGES … ", where)
	case n.GetCreatePublicationStmt() != nil:
		s := n.GetCreatePublicationStmt()
		if s.ForAllTables {
			a.server("publish-all-tables", Caution, where, fmt.Sprintf("CREATE PUBLICATION %s FOR ALL TABLES: every change to every table of the database, including tables created later, can be streamed to a subscriber outside it", s.Pubname))
		} else if sch := pubSchemas(s.Pubobjects); len(sch) > 0 {
			a.server("publish-all-tables", Caution, where, fmt.Sprintf("CREATE PUBLICATION %s FOR TABLES IN SCHEMA %s: every change to every table of the schema, including tables created later, can be streamed to a subscriber outside the database", s.Pubname, strings.Join(sch, ", ")))
		}
	case n.GetAlterPublicationStmt() != nil:
		s := n.GetAlterPublicationStmt()
		if sch := pubSchemas(s.Pubobjects); len(sch) > 0 && s.Action != pg_query.AlterPublicationAction_AP_DropObjects {
			a.server("publish-all-tables", Caution, where, fmt.Sprintf("ALTER PUBLICATION %s … TABLES IN SCHEMA %s: every change to every table of the schema, including tables created later, can be streamed to a subscriber outside the database", s.Pubname, strings.Join(sch, ", ")))
		}
	case n.GetAlterSubscriptionStmt() != nil:
		if s := n.GetAlterSubscriptionStmt(); s.Kind == pg_query.AlterSubscriptionType_ALTER_SUBSCRIPTION_CONNECTION {
			a.server("foreign-connection", Dangerous, where, fmt.Sprintf("ALTER SUBSCRIPTION %s CONNECTION points the subscription at another server, whose replicated rows it writes into local tables", s.Subname))
		}
	}
}

func funcKind(procedure bool) string {
	if procedure {
		return "PROCEDURE"
	}
	return "FUNCTION"
}

// nameList reads a list of String nodes (a qualified name).
func nameList(items []*pg_query.Node) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.GetString_().GetSval())
	}
	return out
}

// eventTrigger judges CREATE/ALTER/DROP EVENT TRIGGER.
func (a *analyzer) eventTrigger(n *pg_query.Node, where string) {
	switch {
	case n.GetCreateEventTrigStmt() != nil:
		s := n.GetCreateEventTrigStmt()
		fn := strings.Join(nameList(s.Funcname), ".")
		if strings.EqualFold(s.Eventname, "login") {
			// PostgreSQL 17: it fires as a session starts, not on DDL.
			a.server("event-trigger", Dangerous, where, fmt.Sprintf("CREATE EVENT TRIGGER %s ON login runs %s() at every login to the database, the application's, deploys' and DBAs' included, with the privileges of the role that logs in; an error it raises refuses the login",
				s.Trigname, fn))
			return
		}
		a.server("event-trigger", Dangerous, where, fmt.Sprintf("CREATE EVENT TRIGGER %s ON %s runs %s() on every later DDL statement of every session in the database, deploys and DBAs' included, with the privileges of whoever runs that statement",
			s.Trigname, s.Eventname, fn))
	case n.GetAlterEventTrigStmt() != nil:
		s := n.GetAlterEventTrigStmt()
		if s.Tgenabled == "D" {
			a.server("event-trigger", Caution, where, fmt.Sprintf("ALTER EVENT TRIGGER %s DISABLE switches off what it enforced or recorded for DDL (an audit, a guard)", s.Trigname))
			return
		}
		mode := map[string]string{"O": "ENABLE", "A": "ENABLE ALWAYS", "R": "ENABLE REPLICA"}[s.Tgenabled]
		a.server("event-trigger", Dangerous, where, fmt.Sprintf("ALTER EVENT TRIGGER %s %s makes its function run again on its event: later DDL statements of every session in the database, or every login to it (ON login)", s.Trigname, mode))
	case n.GetDropStmt() != nil && n.GetDropStmt().RemoveType == pg_query.ObjectType_OBJECT_EVENT_TRIGGER:
		var names []string
		for _, o := range n.GetDropStmt().Objects {
			names = append(names, o.GetString_().GetSval())
		}
		a.server("event-trigger", Caution, where, fmt.Sprintf("DROP EVENT TRIGGER %s removes what it enforced or recorded for DDL (an audit, a guard)", strings.Join(names, ", ")))
	case n.GetAlterOwnerStmt() != nil && n.GetAlterOwnerStmt().ObjectType == pg_query.ObjectType_OBJECT_EVENT_TRIGGER:
		s := n.GetAlterOwnerStmt()
		a.server("event-trigger", Caution, where, fmt.Sprintf("ALTER EVENT TRIGGER %s OWNER TO %s hands the trigger to another role", s.Object.GetString_().GetSval(), sqlparse.RoleName(s.Newowner)))
	}
}

// securityDefiner judges SECURITY DEFINER without SET search_path in the same CREATE or ALTER.
func (a *analyzer) securityDefiner(opts []*pg_query.Node, what string, alter bool, where string) {
	definer, pinned := false, false
	for _, o := range opts {
		d := o.GetDefElem()
		switch strings.ToLower(d.GetDefname()) {
		case "security":
			definer = d.Arg.GetBoolean().GetBoolval()
		case "set":
			if v := d.Arg.GetVariableSetStmt(); strings.EqualFold(v.GetName(), "search_path") &&
				(v.Kind == pg_query.VariableSetKind_VAR_SET_VALUE || v.Kind == pg_query.VariableSetKind_VAR_SET_CURRENT) {
				pinned = true
			}
		}
	}
	if !definer || pinned {
		return
	}
	msg := what + " … SECURITY DEFINER without SET search_path: it runs with its owner's privileges but resolves names through the caller's search_path, so a caller who creates a same-named table, function or operator in a schema searched first runs their own code as the owner"
	if alter {
		msg += " (unless the function already pins search_path)"
	}
	a.server("security-definer-search-path", Caution, where, msg)
}

// systemSchema tells whether schema is one of PostgreSQL's own.
func systemSchema(schema string) bool {
	schema = strings.ToLower(schema)
	return schema == "pg_catalog" || schema == "information_schema"
}

// systemCatalog judges DDL whose target is an object of pg_catalog or information_schema (named so,
// or created unqualified after SET search_path put one of them first).
func (a *analyzer) systemCatalog(n *pg_query.Node, where string) {
	var hits []string
	rel := func(r *pg_query.RangeVar) {
		if r == nil || r.Relpersistence == "t" {
			return
		}
		schema := r.Schemaname
		if schema == "" {
			schema = a.st.schema
		}
		if systemSchema(schema) {
			hits = append(hits, schema+"."+r.Relname)
		}
	}
	names := func(items []*pg_query.Node) {
		if len(items) == 0 {
			return
		}
		schema := a.st.schema
		if len(items) > 1 {
			schema = items[len(items)-2].GetString_().GetSval()
		}
		if systemSchema(schema) {
			hits = append(hits, schema+"."+items[len(items)-1].GetString_().GetSval())
		}
	}
	object := func(o *pg_query.Node, kind pg_query.ObjectType) {
		switch {
		case o == nil:
		case o.GetList() != nil:
			names(o.GetList().Items)
		case o.GetObjectWithArgs() != nil:
			names(o.GetObjectWithArgs().Objname)
		case o.GetTypeName() != nil:
			names(o.GetTypeName().Names)
		case o.GetString_() != nil && kind == pg_query.ObjectType_OBJECT_SCHEMA:
			if s := o.GetString_().GetSval(); systemSchema(s) {
				hits = append(hits, "schema "+s)
			}
		}
	}
	verb := "CREATE"
	switch {
	case n.GetCreateFunctionStmt() != nil:
		names(n.GetCreateFunctionStmt().Funcname)
	case n.GetCreateStmt() != nil:
		rel(n.GetCreateStmt().Relation)
	case n.GetCreateTableAsStmt() != nil:
		rel(n.GetCreateTableAsStmt().GetInto().GetRel())
	case n.GetViewStmt() != nil:
		rel(n.GetViewStmt().View)
	case n.GetCreateSeqStmt() != nil:
		rel(n.GetCreateSeqStmt().Sequence)
	case n.GetIndexStmt() != nil:
		rel(n.GetIndexStmt().Relation)
	case n.GetCreateTrigStmt() != nil:
		rel(n.GetCreateTrigStmt().Relation)
	case n.GetRuleStmt() != nil:
		rel(n.GetRuleStmt().Relation)
	case n.GetCreatePolicyStmt() != nil:
		rel(n.GetCreatePolicyStmt().Table)
	case n.GetDefineStmt() != nil:
		names(n.GetDefineStmt().Defnames)
	case n.GetCompositeTypeStmt() != nil:
		rel(n.GetCompositeTypeStmt().Typevar)
	case n.GetCreateEnumStmt() != nil:
		names(n.GetCreateEnumStmt().TypeName)
	case n.GetCreateRangeStmt() != nil:
		names(n.GetCreateRangeStmt().TypeName)
	case n.GetCreateDomainStmt() != nil:
		names(n.GetCreateDomainStmt().Domainname)
	default:
		verb = "ALTER"
		switch {
		case n.GetAlterFunctionStmt() != nil:
			names(n.GetAlterFunctionStmt().GetFunc().GetObjname())
		case n.GetAlterTableStmt() != nil:
			rel(n.GetAlterTableStmt().Relation)
		case n.GetAlterSeqStmt() != nil:
			rel(n.GetAlterSeqStmt().Sequence)
		case n.GetAlterPolicyStmt() != nil:
			rel(n.GetAlterPolicyStmt().Table)
		case n.GetAlterEnumStmt() != nil:
			names(n.GetAlterEnumStmt().TypeName)
		case n.GetAlterDomainStmt() != nil:
			names(n.GetAlterDomainStmt().TypeName)
		case n.GetRenameStmt() != nil:
			r := n.GetRenameStmt()
			rel(r.Relation)
			object(r.Object, r.RenameType)
		case n.GetAlterOwnerStmt() != nil:
			r := n.GetAlterOwnerStmt()
			rel(r.Relation)
			object(r.Object, r.ObjectType)
		case n.GetAlterObjectSchemaStmt() != nil:
			r := n.GetAlterObjectSchemaStmt()
			rel(r.Relation)
			object(r.Object, r.ObjectType)
			if systemSchema(r.Newschema) {
				hits = append(hits, "schema "+r.Newschema)
			}
		case n.GetDropStmt() != nil:
			verb = "DROP"
			d := n.GetDropStmt()
			for _, o := range d.Objects {
				object(o, d.RemoveType)
			}
		}
	}
	if len(hits) > 0 {
		a.server("system-catalog-change", Dangerous, where, fmt.Sprintf("%s of %s: an object of PostgreSQL's own catalog, which every query, extension and tool of the server relies on", verb, strings.Join(hits, ", ")))
	}
}

// publicTargets names the objects GRANT … TO PUBLIC judges, by object type.
var publicTargets = map[pg_query.ObjectType]string{pg_query.ObjectType_OBJECT_TABLE: "TABLES", pg_query.ObjectType_OBJECT_SEQUENCE: "SEQUENCES",
	pg_query.ObjectType_OBJECT_FUNCTION: "FUNCTIONS", pg_query.ObjectType_OBJECT_PROCEDURE: "PROCEDURES", pg_query.ObjectType_OBJECT_ROUTINE: "ROUTINES",
	pg_query.ObjectType_OBJECT_SCHEMA: "SCHEMAS", pg_query.ObjectType_OBJECT_FOREIGN_SERVER: "FOREIGN SERVER"}

// grantToPublic judges GRANT … TO PUBLIC on tables, sequences and schemas, on ALL … IN SCHEMA, and in
// default privileges; prefix is "ALTER DEFAULT PRIVILEGES … " for the latter.
func (a *analyzer) grantToPublic(s *pg_query.GrantStmt, prefix, where string) {
	if s == nil || !s.IsGrant {
		return
	}
	public := false
	for _, g := range s.Grantees {
		public = public || g.GetRoleSpec().GetRoletype() == pg_query.RoleSpecType_ROLESPEC_PUBLIC
	}
	kind, ok := publicTargets[s.Objtype]
	if !public || !ok {
		return
	}
	var privs []string
	for _, p := range s.Privileges {
		privs = append(privs, strings.ToUpper(p.GetAccessPriv().GetPrivName()))
	}
	priv := strings.Join(privs, ", ")
	if priv == "" {
		priv = "ALL"
	}
	switch {
	case s.Targtype == pg_query.GrantTargetType_ACL_TARGET_DEFAULTS:
		a.server("grant-to-public", Caution, where, fmt.Sprintf("%sGRANT %s ON %s TO PUBLIC: every role of the server, including roles created later, gets it on every such object created from now on", prefix, priv, kind))
	case s.Targtype == pg_query.GrantTargetType_ACL_TARGET_ALL_IN_SCHEMA:
		a.server("grant-to-public", Caution, where, fmt.Sprintf("GRANT %s ON ALL %s IN SCHEMA %s TO PUBLIC: every role of the server, including roles created later, gets it on every one of them", priv, kind, strings.Join(nameList(s.Objects), ", ")))
	case s.Objtype == pg_query.ObjectType_OBJECT_FUNCTION || s.Objtype == pg_query.ObjectType_OBJECT_PROCEDURE || s.Objtype == pg_query.ObjectType_OBJECT_ROUTINE:
		// EXECUTE on one function is PUBLIC's by default.
	case s.Objtype == pg_query.ObjectType_OBJECT_SCHEMA && priv != "CREATE" && priv != "ALL":
		// USAGE on a schema shows its names, not its rows.
	default:
		var objs []string
		for _, o := range s.Objects {
			if rv := o.GetRangeVar(); rv != nil {
				objs = append(objs, relName(rv))
			} else {
				objs = append(objs, o.GetString_().GetSval())
			}
		}
		a.server("grant-to-public", Caution, where, fmt.Sprintf("GRANT %s ON %s TO PUBLIC: every role of the server, including roles created later, gets it", priv, strings.Join(objs, ", ")))
	}
}

// pubSchemas returns the schemas a publication publishes whole.
func pubSchemas(objs []*pg_query.Node) []string {
	var out []string
	for _, o := range objs {
		switch p := o.GetPublicationObjSpec(); p.GetPubobjtype() {
		case pg_query.PublicationObjSpecType_PUBLICATIONOBJ_TABLES_IN_SCHEMA:
			out = append(out, p.Name)
		case pg_query.PublicationObjSpecType_PUBLICATIONOBJ_TABLES_IN_CUR_SCHEMA:
			out = append(out, "CURRENT_SCHEMA")
		}
	}
	return out
}

// replicationRole judges session_replication_role set to replica (value "" when it is not a literal)
// for scope ("the session", "every new session of role x").
func (a *analyzer) replicationRole(value, scope, where string) {
	value = strings.ToLower(strings.TrimSpace(value))
	if value != "replica" && value != "" {
		return
	}
	shown := value
	if shown == "" {
		shown = "(a value chosen at run time)"
	}
	a.server("session-replication-role", Dangerous, where, fmt.Sprintf("session_replication_role = %s for %s: ordinary triggers and the triggers that enforce foreign keys stop firing, so rows that break every foreign key and skip every audit or sync trigger go in unnoticed", shown, scope))
}

// plpgsqlExecutes finds the dynamic SQL of a PL/pgSQL body: every EXECUTE statement (also FOR … IN
// EXECUTE, RETURN QUERY EXECUTE, OPEN … FOR EXECUTE). For each, folded is the SQL it runs when its
// expression is string literals joined by ||, and dynamic says when it is not.
func plpgsqlExecutes(body string) (folded []string, dynamic int) {
	toks := plTokens(body)
	for i, t := range toks {
		if !t.word("execute") {
			continue
		}
		if i > 0 {
			switch p := toks[i-1]; {
			case p.text == ";", p.text == ">>", p.word("begin"), p.word("then"), p.word("else"), p.word("loop"), p.word("in"), p.word("query"), p.word("for"), p.word("exception"):
			default:
				continue // GRANT EXECUTE, EXECUTE FUNCTION of CREATE TRIGGER …
			}
		}
		var text strings.Builder
		constant, pieces := true, 0
		for _, e := range toks[i+1:] {
			if e.text == ";" || e.word("into") || e.word("using") {
				break
			}
			switch {
			case e.lit:
				text.WriteString(e.value)
				pieces++
			case e.text == "||", e.text == "(", e.text == ")":
			default:
				constant = false
			}
		}
		switch {
		case !constant || pieces == 0:
			dynamic++
		case pieces > 1:
			folded = append(folded, text.String())
		}
	}
	return folded, dynamic
}

// plToken is a token of a PL/pgSQL body: a word, a string literal (with its value) or punctuation.
type plToken struct {
	text  string
	lit   bool
	value string
}

func (t plToken) word(s string) bool { return !t.lit && strings.EqualFold(t.text, s) }

// plTokens cuts a body into tokens, skipping comments.
func plTokens(s string) []plToken {
	var out []plToken
	isWord := func(c byte) bool {
		return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case strings.HasPrefix(s[i:], "--"):
			end := strings.IndexByte(s[i:], '\n')
			if end < 0 {
				return out
			}
			i += end
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return out
			}
			i += end + 4
		case c == '\'' || (c == 'E' || c == 'e') && i+1 < len(s) && s[i+1] == '\'':
			escapes := c != '\''
			if escapes {
				i++
			}
			var v strings.Builder
			j := i + 1
			for ; j < len(s); j++ {
				if escapes && s[j] == '\\' && j+1 < len(s) {
					j++
					v.WriteByte(s[j])
					continue
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						v.WriteByte('\'')
						j++
						continue
					}
					break
				}
				v.WriteByte(s[j])
			}
			out = append(out, plToken{text: s[i:min(j+1, len(s))], lit: true, value: v.String()})
			i = j + 1
		case c == '$':
			j := i + 1
			for j < len(s) && isWord(s[j]) && !(s[j] >= '0' && s[j] <= '9' && j == i+1) {
				j++
			}
			if j < len(s) && s[j] == '$' {
				tag := s[i : j+1]
				end := strings.Index(s[j+1:], tag)
				if end < 0 {
					end = len(s) - j - 1
				}
				out = append(out, plToken{text: tag, lit: true, value: s[j+1 : j+1+end]})
				i = j + 1 + end + len(tag)
				continue
			}
			out = append(out, plToken{text: "$"})
			i++
		case isWord(c):
			j := i
			for j < len(s) && isWord(s[j]) {
				j++
			}
			out = append(out, plToken{text: s[i:j]})
			i = j
		case c == '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return out
			}
			out = append(out, plToken{text: s[i : i+end+2]})
			i += end + 2
		case strings.HasPrefix(s[i:], "||"), strings.HasPrefix(s[i:], ">>"), strings.HasPrefix(s[i:], "<<"), strings.HasPrefix(s[i:], ":="):
			out = append(out, plToken{text: s[i : i+2]})
			i += 2
		default:
			out = append(out, plToken{text: s[i : i+1]})
			i++
		}
	}
	return out
}

// dynamicSQL judges the EXECUTE statements of a PL/pgSQL body (a function's, kind "FUNCTION f", or a
// DO block's, kind ""): SQL folded from literals is judged like the body's own; SQL built from
// anything else raises dynamic-sql for a function (a DO block is opaque-statement already).
func (a *analyzer) dynamicSQL(body, kind, where string) {
	if !strings.Contains(strings.ToLower(body), "execute") {
		return
	}
	folded, dynamic := plpgsqlExecutes(body)
	for _, f := range folded {
		a.scanBody(f, where)
	}
	if dynamic > 0 && kind != "" {
		a.server("dynamic-sql", Caution, "", fmt.Sprintf("%s runs SQL built at run time (EXECUTE of an expression that is not a string literal): what it runs cannot be judged here, nor by the rehearsal, which does not call it", kind))
	}
}

// setValue is the value SET gives a setting: its first argument when that is a literal, "" when it is
// not, "default" for SET … TO DEFAULT and RESET.
func setValue(v *pg_query.VariableSetStmt) string {
	if v.GetKind() != pg_query.VariableSetKind_VAR_SET_VALUE {
		return "default"
	}
	if len(v.Args) == 0 {
		return ""
	}
	return v.Args[0].GetAConst().GetSval().GetSval()
}
