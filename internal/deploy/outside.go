package deploy

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
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
// any other statement.
func outsideSnapshot(n *pg_query.Node) string {
	label, kind := sqlparse.OutsideCatalog(n)
	if clusterWide[kind] {
		return label
	}
	return ""
}

// clusterWide are the kinds of sqlparse.OutsideCatalog that a snapshot of the database leaves out (the
// others, event triggers, publications, casts..., are objects of the database it holds).
var clusterWide = map[string]bool{"a role": true, "a role's settings": true, "the settings of every role": true,
	"role membership": true, "a database": true, "a database's settings": true, "the server's configuration": true,
	"the database-wide default privileges": true, "a tablespace": true, "a server parameter": true}
