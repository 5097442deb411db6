package sqlparse

import pg_query "github.com/pganalyze/pg_query_go/v6"

// RoleChange names a statement that changes a role, one role's settings, its comment or a membership
// ("ALTER ROLE api_user") and what it changes ("a role", "a role's settings", "the comment of a role",
// "role membership"); kind is "" for any other statement. The catalog comparison covers these (roles
// are read with the catalog), so OutsideCatalog leaves them out; roles belong to the server, so a
// snapshot of the database does not hold them (internal/deploy asks both). A security label on a role,
// and ALTER ROLE ALL, are OutsideCatalog's.
func RoleChange(n *pg_query.Node) (label, kind string) {
	switch x := n.Node.(type) {
	case *pg_query.Node_CreateRoleStmt:
		word := "ROLE"
		switch x.CreateRoleStmt.StmtType {
		case pg_query.RoleStmtType_ROLESTMT_USER:
			word = "USER"
		case pg_query.RoleStmtType_ROLESTMT_GROUP:
			word = "GROUP"
		}
		return "CREATE " + word + " " + x.CreateRoleStmt.Role, "a role"
	case *pg_query.Node_AlterRoleStmt:
		return "ALTER ROLE " + RoleName(x.AlterRoleStmt.Role), "a role"
	case *pg_query.Node_AlterRoleSetStmt:
		s := x.AlterRoleSetStmt
		if s.Role == nil {
			return "", ""
		}
		label = "ALTER ROLE " + RoleName(s.Role)
		if s.Database != "" {
			label += " IN DATABASE " + s.Database
		}
		return label + setLabel(s.Setstmt), "a role's settings"
	case *pg_query.Node_DropRoleStmt:
		return "DROP ROLE " + names(x.DropRoleStmt.Roles), "a role"
	case *pg_query.Node_GrantRoleStmt:
		s := x.GrantRoleStmt
		if s.IsGrant {
			return "GRANT " + names(s.GrantedRoles) + " TO " + names(s.GranteeRoles), "role membership"
		}
		return "REVOKE " + names(s.GrantedRoles) + " FROM " + names(s.GranteeRoles), "role membership"
	case *pg_query.Node_RenameStmt:
		if x.RenameStmt.RenameType == pg_query.ObjectType_OBJECT_ROLE {
			return "ALTER ROLE " + x.RenameStmt.Subname + " RENAME TO " + x.RenameStmt.Newname, "a role"
		}
	case *pg_query.Node_CommentStmt:
		if x.CommentStmt.Objtype == pg_query.ObjectType_OBJECT_ROLE {
			return "COMMENT ON ROLE " + objectName(x.CommentStmt.Object), "the comment of a role"
		}
	}
	return "", ""
}
