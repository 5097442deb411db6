package deploy

import (
	"fmt"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// notRestored records on rb (and in the notes) the statements of the migrations a snapshot restore undid
// whose effect lies outside the snapshot, which holds the database's objects but not the cluster's roles
// nor the database's and server's settings, nor an extension's version: they stay as the migrations left
// them.
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
				out = append(out, fmt.Sprintf("%s at %s:%d", label, d.o.file(m.Up.File), st.Pos.Line))
			}
		}
	}
	if len(out) == 0 {
		return
	}
	rb.NotRestored = out
	d.note("the snapshot restore does not undo %s: roles, role membership, database-wide default privileges and database or server settings are outside the snapshot, schema public's default privileges are kept as they are, and an extension stays at the version it has (the dump records none); undo them by hand",
		strings.Join(out, ", "))
}

// outsideSnapshot names a statement whose effect a snapshot of the database does not hold ("ALTER ROLE
// r1"): roles, role membership, database-wide default privileges, database and server settings, an
// extension's version. "" for any other statement.
func outsideSnapshot(n *pg_query.Node) string {
	label, kind := sqlparse.OutsideCatalog(n)
	if kind == "" {
		label, kind = sqlparse.RoleChange(n) // compared by the rehearsal, yet the server's, not the snapshot's
	}
	if clusterWide[kind] {
		return label
	}
	if label := sqlparse.DatabaseDefaultPrivileges(n); label != "" {
		return label // the rehearsal compares them, but the restore does not clear them
	}
	for _, base := range []string{"a role", "a database", "a tablespace", "a server parameter"} {
		if strings.HasSuffix(kind, " of "+base) { // its comment, security label or privileges
			return label
		}
	}
	if x, ok := n.Node.(*pg_query.Node_AlterExtensionStmt); ok {
		// The dump's CREATE EXTENSION IF NOT EXISTS names no version: the extension, which the clear
		// keeps, stays at the one the migration updated it to.
		return "ALTER EXTENSION " + x.AlterExtensionStmt.Extname + " UPDATE"
	}
	return publicSchemaChange(n)
}

// publicSchemaChange names a statement that changes the default privileges of schema public (ALTER
// DEFAULT PRIVILEGES ... IN SCHEMA public): the restore keeps the database's public schema, and with it
// the default privileges a migration set there (the dump's own re-grant those it holds, and revoke
// nothing). Default privileges in another schema go and come back with it (its pg_default_acl rows
// depend on the schema, which the restore drops and recreates), so the restore undoes them. Public's own
// privileges, owner and comment the restore sets back to the snapshot's (snapshot.Info.KeptSchemas).
func publicSchemaChange(n *pg_query.Node) string {
	isPublic := func(o *pg_query.Node) bool { return o.GetString_().GetSval() == "public" }
	if x, ok := n.Node.(*pg_query.Node_AlterDefaultPrivilegesStmt); ok {
		for _, o := range x.AlterDefaultPrivilegesStmt.Options {
			if d := o.GetDefElem(); d.GetDefname() == "schemas" && slices.ContainsFunc(d.GetArg().GetList().GetItems(), isPublic) {
				return "ALTER DEFAULT PRIVILEGES IN SCHEMA public"
			}
		}
	}
	return ""
}

// clusterWide are the kinds of sqlparse.OutsideCatalog and sqlparse.RoleChange that a snapshot of
// the database leaves out (the others, event triggers, publications, casts..., are objects of the
// database it holds).
var clusterWide = map[string]bool{"a role": true, "a role's settings": true, "the settings of every role": true,
	"role membership": true, "a database": true, "a database's settings": true, "the server's configuration": true,
	"a tablespace": true, "a server parameter": true}
