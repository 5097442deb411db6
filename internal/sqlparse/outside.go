package sqlparse

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// What a statement changes beyond the objects of the database's schemas (roles and their memberships
// are compared: see RoleChange): the settings of every role, the database's and the server's
// settings, subscriptions, tablespaces, large objects... (the database-wide default privileges, casts,
// foreign-data wrappers, servers, user mappings, foreign tables, operators, operator classes and
// families, text search parsers and templates, access methods, procedural languages, conversions and
// transforms are compared). The catalog comparison that proves a down does not see it
// (internal/rehearse), and a snapshot of the database does not hold the cluster-wide part of it
// (internal/deploy).

// outside is an object type the catalog comparison does not cover: the words that name it in SQL and
// what a statement on it changes ("a role").
type outside struct{ words, kind string }

var outsideObjects = map[pg_query.ObjectType]outside{
	pg_query.ObjectType_OBJECT_ROLE:          {"ROLE", "a role"},
	pg_query.ObjectType_OBJECT_DATABASE:      {"DATABASE", "a database"},
	pg_query.ObjectType_OBJECT_TABLESPACE:    {"TABLESPACE", "a tablespace"},
	pg_query.ObjectType_OBJECT_SUBSCRIPTION:  {"SUBSCRIPTION", "a subscription"},
	pg_query.ObjectType_OBJECT_LARGEOBJECT:   {"LARGE OBJECT", "a large object"},
	pg_query.ObjectType_OBJECT_PARAMETER_ACL: {"PARAMETER", "a server parameter"},
}

// OutsideCatalog names a statement whose effect lies outside the compared catalog ("ALTER SYSTEM SET
// work_mem") and what it changes ("the server's configuration"); kind is "" for any other statement.
func OutsideCatalog(n *pg_query.Node) (label, kind string) {
	if _, kind := RoleChange(n); kind != "" {
		return "", "" // compared
	}
	switch x := n.Node.(type) {
	case *pg_query.Node_AlterRoleSetStmt:
		// ALTER ROLE ALL: RoleChange has those of one role.
		label = "ALTER ROLE ALL"
		if x.AlterRoleSetStmt.Database != "" {
			label += " IN DATABASE " + x.AlterRoleSetStmt.Database
		}
		return label + setLabel(x.AlterRoleSetStmt.Setstmt), "the settings of every role"
	case *pg_query.Node_CreatedbStmt:
		return "CREATE DATABASE " + x.CreatedbStmt.Dbname, "a database"
	case *pg_query.Node_DropdbStmt:
		return "DROP DATABASE " + x.DropdbStmt.Dbname, "a database"
	case *pg_query.Node_AlterDatabaseStmt:
		return "ALTER DATABASE " + x.AlterDatabaseStmt.Dbname, "a database"
	case *pg_query.Node_AlterDatabaseSetStmt:
		return "ALTER DATABASE " + x.AlterDatabaseSetStmt.Dbname + setLabel(x.AlterDatabaseSetStmt.Setstmt), "a database's settings"
	case *pg_query.Node_AlterDatabaseRefreshCollStmt:
		return "ALTER DATABASE " + x.AlterDatabaseRefreshCollStmt.Dbname + " REFRESH COLLATION VERSION", "a database"
	case *pg_query.Node_AlterSystemStmt:
		return "ALTER SYSTEM" + setLabel(x.AlterSystemStmt.Setstmt), "the server's configuration"
	case *pg_query.Node_CreateSubscriptionStmt:
		return "CREATE SUBSCRIPTION " + x.CreateSubscriptionStmt.Subname, "a subscription"
	case *pg_query.Node_AlterSubscriptionStmt:
		return "ALTER SUBSCRIPTION " + x.AlterSubscriptionStmt.Subname, "a subscription"
	case *pg_query.Node_DropSubscriptionStmt:
		return "DROP SUBSCRIPTION " + x.DropSubscriptionStmt.Subname, "a subscription"
	case *pg_query.Node_CreateTableSpaceStmt:
		return "CREATE TABLESPACE " + x.CreateTableSpaceStmt.Tablespacename, "a tablespace"
	case *pg_query.Node_DropTableSpaceStmt:
		return "DROP TABLESPACE " + x.DropTableSpaceStmt.Tablespacename, "a tablespace"
	case *pg_query.Node_AlterTableSpaceOptionsStmt:
		return "ALTER TABLESPACE " + x.AlterTableSpaceOptionsStmt.Tablespacename, "a tablespace"
	case *pg_query.Node_DefineStmt:
		if o, ok := outsideObjects[x.DefineStmt.Kind]; ok {
			return "CREATE " + o.words + " " + qualified(x.DefineStmt.Defnames), o.kind
		}
	case *pg_query.Node_DropStmt:
		if o, ok := outsideObjects[x.DropStmt.RemoveType]; ok {
			return "DROP " + o.words + " " + names(x.DropStmt.Objects), o.kind
		}
	case *pg_query.Node_RenameStmt:
		if o, ok := outsideObjects[x.RenameStmt.RenameType]; ok {
			name := x.RenameStmt.Subname // roles, databases, tablespaces; the others name an object
			if name == "" {
				name = objectName(x.RenameStmt.Object)
			}
			return "ALTER " + o.words + " " + name + " RENAME TO " + x.RenameStmt.Newname, o.kind
		}
	case *pg_query.Node_AlterOwnerStmt:
		if o, ok := outsideObjects[x.AlterOwnerStmt.ObjectType]; ok {
			return "ALTER " + o.words + " " + objectName(x.AlterOwnerStmt.Object) + " OWNER TO " + RoleName(x.AlterOwnerStmt.Newowner), o.kind
		}
	case *pg_query.Node_AlterObjectSchemaStmt:
		if o, ok := outsideObjects[x.AlterObjectSchemaStmt.ObjectType]; ok {
			return "ALTER " + o.words + " " + objectName(x.AlterObjectSchemaStmt.Object) + " SET SCHEMA " + x.AlterObjectSchemaStmt.Newschema, o.kind
		}
	case *pg_query.Node_CommentStmt:
		if o, ok := outsideObjects[x.CommentStmt.Objtype]; ok {
			return "COMMENT ON " + o.words + " " + objectName(x.CommentStmt.Object), "the comment of " + o.kind
		}
	case *pg_query.Node_SecLabelStmt:
		if o, ok := outsideObjects[x.SecLabelStmt.Objtype]; ok {
			return "SECURITY LABEL ON " + o.words + " " + objectName(x.SecLabelStmt.Object), "the security label of " + o.kind
		}
	case *pg_query.Node_GrantStmt:
		s := x.GrantStmt
		if o, ok := outsideObjects[s.Objtype]; ok && s.Targtype == pg_query.GrantTargetType_ACL_TARGET_OBJECT {
			verb, prep := "GRANT", "TO"
			if !s.IsGrant {
				verb, prep = "REVOKE", "FROM"
			}
			return verb + " ON " + o.words + " " + names(s.Objects) + " " + prep + " " + names(s.Grantees), "the privileges of " + o.kind
		}
	}
	return "", ""
}

// DatabaseSettings is the database whose own settings a statement sets or resets (ALTER DATABASE d SET
// or RESET, and ALTER ROLE ALL IN DATABASE d SET or RESET, which writes the same row of
// pg_db_role_setting), as the statement names it; "" for any other statement. OutsideCatalog counts it
// as a database's settings: the catalog comparison reads those of the database it runs in alone, so
// such a statement lies outside it only when d is another database.
func DatabaseSettings(n *pg_query.Node) string {
	switch x := n.Node.(type) {
	case *pg_query.Node_AlterDatabaseSetStmt:
		return x.AlterDatabaseSetStmt.Dbname
	case *pg_query.Node_AlterRoleSetStmt:
		if x.AlterRoleSetStmt.Role == nil {
			return x.AlterRoleSetStmt.Database
		}
	}
	return ""
}

// DatabaseCompared is the database whose privileges (GRANT or REVOKE ON DATABASE d, naming it alone),
// comment (COMMENT ON DATABASE d), owner (ALTER DATABASE d OWNER TO), connection limit, IS_TEMPLATE or
// ALLOW_CONNECTIONS (ALTER DATABASE d CONNECTION LIMIT, IS_TEMPLATE, ALLOW_CONNECTIONS, with no other
// option) a statement changes, as the statement names it; "" for any other statement. OutsideCatalog
// counts it as a database's: the catalog comparison reads those of the database it runs in alone, so
// such a statement lies outside it only when d is another database.
func DatabaseCompared(n *pg_query.Node) string {
	switch x := n.Node.(type) {
	case *pg_query.Node_GrantStmt:
		s := x.GrantStmt
		if s.Objtype == pg_query.ObjectType_OBJECT_DATABASE && s.Targtype == pg_query.GrantTargetType_ACL_TARGET_OBJECT && len(s.Objects) == 1 {
			return objectName(s.Objects[0])
		}
	case *pg_query.Node_CommentStmt:
		if x.CommentStmt.Objtype == pg_query.ObjectType_OBJECT_DATABASE {
			return objectName(x.CommentStmt.Object)
		}
	case *pg_query.Node_AlterOwnerStmt:
		if x.AlterOwnerStmt.ObjectType == pg_query.ObjectType_OBJECT_DATABASE {
			return objectName(x.AlterOwnerStmt.Object)
		}
	case *pg_query.Node_AlterDatabaseStmt:
		for _, o := range x.AlterDatabaseStmt.Options {
			switch strings.ToLower(o.GetDefElem().GetDefname()) {
			case "connection_limit", "is_template", "allow_connections":
			default:
				return ""
			}
		}
		if len(x.AlterDatabaseStmt.Options) > 0 {
			return x.AlterDatabaseStmt.Dbname
		}
	}
	return ""
}

// ParameterPrivileges tells whether a statement grants or revokes privileges on configuration
// parameters (GRANT SET ON PARAMETER, PostgreSQL 15+). OutsideCatalog counts them as a server
// parameter's: the catalog comparison reads them (pg_parameter_acl), and a generated down gives them
// back, but a snapshot of the database does not hold them (internal/deploy).
func ParameterPrivileges(n *pg_query.Node) bool {
	s := n.GetGrantStmt()
	return s != nil && s.Objtype == pg_query.ObjectType_OBJECT_PARAMETER_ACL && s.Targtype == pg_query.GrantTargetType_ACL_TARGET_OBJECT
}

// DatabaseDefaultPrivileges names an ALTER DEFAULT PRIVILEGES without IN SCHEMA ("ALTER DEFAULT
// PRIVILEGES FOR ROLE app"), which changes the database-wide default privileges; "" for any other
// statement. The catalog comparison covers them (pg_default_acl belongs to the database), as it does
// those IN SCHEMA; a restore of a snapshot does not clear them (internal/deploy).
func DatabaseDefaultPrivileges(n *pg_query.Node) string {
	x := n.GetAlterDefaultPrivilegesStmt()
	if x == nil {
		return ""
	}
	label := "ALTER DEFAULT PRIVILEGES"
	for _, o := range x.Options {
		d := o.GetDefElem()
		switch strings.ToLower(d.GetDefname()) {
		case "schemas":
			return ""
		case "roles":
			label += " FOR ROLE " + names(d.GetArg().GetList().GetItems())
		}
	}
	return label
}

// setLabel is " SET name", " RESET name" or " RESET ALL" for the SET of an ALTER ROLE, ALTER DATABASE
// or ALTER SYSTEM.
func setLabel(s *pg_query.VariableSetStmt) string {
	if s == nil {
		return ""
	}
	switch s.Kind {
	case pg_query.VariableSetKind_VAR_RESET:
		return " RESET " + s.Name
	case pg_query.VariableSetKind_VAR_RESET_ALL:
		return " RESET ALL"
	}
	return " SET " + s.Name
}

// RoleName is a role as a statement names it: CURRENT_USER and the like, PUBLIC, or its name.
func RoleName(r *pg_query.RoleSpec) string {
	if r == nil {
		return ""
	}
	switch r.Roletype {
	case pg_query.RoleSpecType_ROLESPEC_CURRENT_ROLE:
		return "CURRENT_ROLE"
	case pg_query.RoleSpecType_ROLESPEC_CURRENT_USER:
		return "CURRENT_USER"
	case pg_query.RoleSpecType_ROLESPEC_SESSION_USER:
		return "SESSION_USER"
	case pg_query.RoleSpecType_ROLESPEC_PUBLIC:
		return "PUBLIC"
	}
	return r.Rolename
}

func rangeVar(rv *pg_query.RangeVar) string {
	if rv == nil {
		return ""
	}
	if rv.Schemaname != "" {
		return rv.Schemaname + "." + rv.Relname
	}
	return rv.Relname
}

func typeName(t *pg_query.TypeName) string {
	if t == nil {
		return ""
	}
	var parts []string
	for _, n := range t.Names {
		if s := n.GetString_().GetSval(); s != "" && s != "pg_catalog" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ".")
}

// qualified joins a name list (schema, name) with dots.
func qualified(ns []*pg_query.Node) string {
	var parts []string
	for _, n := range ns {
		parts = append(parts, objectName(n))
	}
	return strings.Join(parts, ".")
}

// names lists objects by name, comma-separated.
func names(ns []*pg_query.Node) string {
	var parts []string
	for _, n := range ns {
		parts = append(parts, objectName(n))
	}
	return strings.Join(parts, ", ")
}

// objectName names the object a node stands for, as far as the parse tree has it.
func objectName(n *pg_query.Node) string {
	switch x := n.GetNode().(type) {
	case *pg_query.Node_String_:
		return x.String_.Sval
	case *pg_query.Node_Integer:
		return fmt.Sprint(x.Integer.Ival)
	case *pg_query.Node_RoleSpec:
		return RoleName(x.RoleSpec)
	case *pg_query.Node_AccessPriv:
		return x.AccessPriv.PrivName
	case *pg_query.Node_TypeName:
		return typeName(x.TypeName)
	case *pg_query.Node_RangeVar:
		return rangeVar(x.RangeVar)
	case *pg_query.Node_ObjectWithArgs:
		return qualified(x.ObjectWithArgs.Objname)
	case *pg_query.Node_List:
		items := x.List.Items
		if len(items) == 2 && items[0].GetTypeName() != nil && items[1].GetTypeName() != nil {
			return "(" + objectName(items[0]) + " AS " + objectName(items[1]) + ")" // a cast
		}
		return qualified(items)
	}
	return ""
}
