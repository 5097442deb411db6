package deploy

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/migrate"
)

// notRestored records on rb (and in the notes) the statements of the migrations a snapshot restore undid
// whose effect lies outside the snapshot, which holds the database's objects but not the cluster's roles
// nor the database's and server's settings: they stay as the migrations left them.
func (d *deployer) notRestored(rb *RollbackResult, p undoPlan) {
	migs := append([]*migrate.Migration{}, p.migs...)
	if p.partial != nil {
		migs = append(migs, p.partial)
	}
	var out []string
	for _, m := range migs {
		if m.Up == nil {
			continue
		}
		for _, st := range m.Up.Statements {
			if st.Node == nil {
				continue
			}
			if label := outsideSnapshot(st.Node); label != "" {
				out = append(out, fmt.Sprintf("%s at %s:%d", label, m.Up.File, st.Pos.Line))
			}
		}
	}
	if len(out) == 0 {
		return
	}
	rb.NotRestored = out
	d.note("the snapshot restore does not undo %s: roles, role membership, database-wide default privileges and database or server settings are outside the snapshot; undo them by hand",
		strings.Join(out, ", "))
}

// outsideSnapshot names a statement whose effect a snapshot of the database does not hold ("ALTER ROLE
// r1"): roles, role membership, database-wide default privileges, database and server settings. "" for
// any other statement. (internal/rehearse's outsideCatalog makes the same reading for its own purpose.)
func outsideSnapshot(n *pg_query.Node) string {
	switch x := n.Node.(type) {
	case *pg_query.Node_CreateRoleStmt:
		word := "ROLE"
		switch x.CreateRoleStmt.StmtType {
		case pg_query.RoleStmtType_ROLESTMT_USER:
			word = "USER"
		case pg_query.RoleStmtType_ROLESTMT_GROUP:
			word = "GROUP"
		}
		return "CREATE " + word + " " + x.CreateRoleStmt.Role
	case *pg_query.Node_AlterRoleStmt:
		return "ALTER ROLE " + roleSpecName(x.AlterRoleStmt.Role)
	case *pg_query.Node_AlterRoleSetStmt:
		if x.AlterRoleSetStmt.Role == nil {
			return "ALTER ROLE ALL"
		}
		return "ALTER ROLE " + roleSpecName(x.AlterRoleSetStmt.Role)
	case *pg_query.Node_DropRoleStmt:
		return "DROP ROLE " + roleNames(x.DropRoleStmt.Roles)
	case *pg_query.Node_GrantRoleStmt:
		s := x.GrantRoleStmt
		if s.IsGrant {
			return "GRANT " + roleNames(s.GrantedRoles) + " TO " + roleNames(s.GranteeRoles)
		}
		return "REVOKE " + roleNames(s.GrantedRoles) + " FROM " + roleNames(s.GranteeRoles)
	case *pg_query.Node_AlterDatabaseStmt:
		return "ALTER DATABASE " + x.AlterDatabaseStmt.Dbname
	case *pg_query.Node_AlterDatabaseSetStmt:
		return "ALTER DATABASE " + x.AlterDatabaseSetStmt.Dbname
	case *pg_query.Node_AlterDatabaseRefreshCollStmt:
		return "ALTER DATABASE " + x.AlterDatabaseRefreshCollStmt.Dbname
	case *pg_query.Node_AlterSystemStmt:
		return "ALTER SYSTEM"
	case *pg_query.Node_AlterDefaultPrivilegesStmt:
		label := "ALTER DEFAULT PRIVILEGES"
		for _, o := range x.AlterDefaultPrivilegesStmt.Options {
			d := o.GetDefElem()
			switch strings.ToLower(d.GetDefname()) {
			case "schemas":
				return "" // IN SCHEMA: held with the schema
			case "roles":
				label += " FOR ROLE " + roleNames(d.GetArg().GetList().GetItems())
			}
		}
		return label
	}
	return ""
}

func roleSpecName(r *pg_query.RoleSpec) string {
	if r == nil {
		return ""
	}
	switch r.Roletype {
	case pg_query.RoleSpecType_ROLESPEC_CURRENT_USER:
		return "CURRENT_USER"
	case pg_query.RoleSpecType_ROLESPEC_SESSION_USER:
		return "SESSION_USER"
	case pg_query.RoleSpecType_ROLESPEC_CURRENT_ROLE:
		return "CURRENT_ROLE"
	case pg_query.RoleSpecType_ROLESPEC_PUBLIC:
		return "PUBLIC"
	}
	return r.Rolename
}

func roleNames(nodes []*pg_query.Node) string {
	var out []string
	for _, n := range nodes {
		switch {
		case n.GetRoleSpec() != nil:
			out = append(out, roleSpecName(n.GetRoleSpec()))
		case n.GetAccessPriv() != nil:
			out = append(out, n.GetAccessPriv().PrivName)
		case n.GetString_() != nil:
			out = append(out, n.GetString_().Sval)
		}
	}
	return strings.Join(out, ", ")
}
