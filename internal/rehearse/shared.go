package rehearse

import (
	"errors"
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/migrate"
)

// ErrSharedServer marks migrations that would change what a shared server (the url provider) keeps
// after the rehearsal: roles the run did not create, tablespaces, databases, server settings.
var ErrSharedServer = errors.New("the migrations change the shared server")

// sharedServerChanges finds the statements of the scripts that change server-wide objects other than
// the roles the scripts themselves create (which the url provider drops with its database). On a
// server the rehearsal shares, such a change would stay behind: ALTER or DROP of an existing role,
// membership between existing roles, ALTER SYSTEM, tablespaces, other databases.
func sharedServerChanges(setup []*migrate.Script, sets ...*migrate.Set) error {
	scripts := allScripts(setup, sets...)
	own := map[string]bool{}
	for _, s := range scripts {
		if s == nil {
			continue
		}
		for i := range s.Statements {
			if r := s.Statements[i].Node.GetCreateRoleStmt(); r != nil {
				own[r.Role] = true
			}
		}
	}
	ours := func(r *pg_query.RoleSpec) bool {
		return r != nil && r.Roletype == pg_query.RoleSpecType_ROLESPEC_CSTRING && own[r.Rolename]
	}
	var found []string
	seen := map[string]bool{}
	for _, s := range scripts {
		if s == nil {
			continue
		}
		for i := range s.Statements {
			st := &s.Statements[i]
			what := serverWide(st.Node, ours, own)
			if what == "" {
				continue
			}
			at := fmt.Sprintf("%s:%d: %s", s.File, st.Pos.Line, what)
			if !seen[at] {
				seen[at] = true
				found = append(found, at)
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	if len(found) > 5 {
		found = append(found[:5], fmt.Sprintf("and %d more", len(found)-5))
	}
	return fmt.Errorf("%w, where it would stay after the rehearsal (--provider url shares the server):\n  %s\nrehearse them with --provider local or docker, which start a server of their own",
		ErrSharedServer, strings.Join(found, "\n  "))
}

// serverWide says what a statement changes on the server outside its database, "" when nothing (or
// only roles of the run's own).
func serverWide(n *pg_query.Node, ours func(*pg_query.RoleSpec) bool, own map[string]bool) string {
	if n == nil {
		return ""
	}
	switch {
	case n.GetAlterRoleStmt() != nil:
		if r := n.GetAlterRoleStmt().Role; !ours(r) {
			return "ALTER ROLE " + roleName(r) + " changes a role (roles are server-wide)"
		}
	case n.GetAlterRoleSetStmt() != nil:
		if r := n.GetAlterRoleSetStmt().Role; r == nil || !ours(r) {
			return "ALTER ROLE " + roleName(r) + " SET changes a role's settings (roles are server-wide)"
		}
	case n.GetDropRoleStmt() != nil:
		for _, x := range n.GetDropRoleStmt().Roles {
			if r := x.GetRoleSpec(); !ours(r) {
				return "DROP ROLE " + roleName(r) + " drops a role (roles are server-wide)"
			}
		}
	case n.GetRenameStmt() != nil && n.GetRenameStmt().RenameType == pg_query.ObjectType_OBJECT_ROLE:
		if name := n.GetRenameStmt().Subname; !own[name] {
			return "ALTER ROLE " + name + " RENAME renames a role (roles are server-wide)"
		}
	case n.GetGrantRoleStmt() != nil:
		g := n.GetGrantRoleStmt()
		mine := false
		for _, x := range g.GrantedRoles {
			mine = mine || own[x.GetAccessPriv().GetPrivName()]
		}
		for _, x := range g.GranteeRoles {
			mine = mine || ours(x.GetRoleSpec())
		}
		if !mine {
			return "GRANT/REVOKE of role membership between existing roles (roles are server-wide)"
		}
	case n.GetAlterSystemStmt() != nil:
		return "ALTER SYSTEM changes the server's configuration"
	case n.GetCreateTableSpaceStmt() != nil, n.GetDropTableSpaceStmt() != nil, n.GetAlterTableSpaceOptionsStmt() != nil:
		return "a tablespace statement (tablespaces are server-wide)"
	case n.GetCreatedbStmt() != nil, n.GetDropdbStmt() != nil, n.GetAlterDatabaseStmt() != nil,
		n.GetAlterDatabaseSetStmt() != nil, n.GetAlterDatabaseRefreshCollStmt() != nil:
		return "a database statement (CREATE/ALTER/DROP DATABASE reach beyond the rehearsal's own database)"
	case n.GetCommentStmt() != nil:
		switch n.GetCommentStmt().Objtype {
		case pg_query.ObjectType_OBJECT_ROLE, pg_query.ObjectType_OBJECT_DATABASE, pg_query.ObjectType_OBJECT_TABLESPACE:
			if name := n.GetCommentStmt().Object.GetString_().GetSval(); !own[name] {
				return "COMMENT ON a role, database or tablespace (server-wide)"
			}
		}
	}
	return ""
}

func roleName(r *pg_query.RoleSpec) string {
	switch {
	case r == nil:
		return "ALL"
	case r.Roletype == pg_query.RoleSpecType_ROLESPEC_CSTRING:
		return r.Rolename
	case r.Roletype == pg_query.RoleSpecType_ROLESPEC_CURRENT_USER:
		return "CURRENT_USER"
	case r.Roletype == pg_query.RoleSpecType_ROLESPEC_SESSION_USER:
		return "SESSION_USER"
	case r.Roletype == pg_query.RoleSpecType_ROLESPEC_CURRENT_ROLE:
		return "CURRENT_ROLE"
	}
	return "PUBLIC"
}
