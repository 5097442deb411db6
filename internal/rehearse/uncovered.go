package rehearse

import (
	"fmt"
	"path"
	"path/filepath"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// The catalog comparison that proves a generated down (schema.Compare) sees the objects of the
// database's schemas. What a migration does past them (sqlparse.OutsideCatalog) is neither undone by
// the generated down nor noticed by its proof: such a down must not be called verified.

// uncovered describes each statement of s whose effect the generated down does not undo and its proof
// does not see: "ALTER ROLE api_user at db/1_x.sql:2 changes a role, which the generated down does not
// undo". dir begins the file's path, as the report's other places do. Statements without a parse tree
// (none in a migration that ran) and opaque ones (DO blocks, function calls) are not judged. db is the
// rehearsal's database: its own settings, privileges, comment, owner and connection limit, named
// literally (ALTER DATABASE app SET …, GRANT CREATE ON DATABASE app …, the rehearsal's database being
// app), are compared, and the generated down gives them back, as it does the privileges on
// configuration parameters (GRANT SET ON PARAMETER).
func uncovered(s *migrate.Script, dir, db string) []string {
	if s == nil {
		return nil
	}
	file := path.Join(filepath.ToSlash(dir), s.File)
	var out []string
	for _, st := range s.Statements {
		if st.Node == nil {
			continue
		}
		if d := sqlparse.DatabaseSettings(st.Node); d != "" && d == db {
			continue
		}
		if d := sqlparse.DatabaseCompared(st.Node); (d != "" && d == db) || sqlparse.ParameterPrivileges(st.Node) {
			continue
		}
		if label, kind := sqlparse.OutsideCatalog(st.Node); kind != "" {
			out = append(out, fmt.Sprintf("%s at %s:%d changes %s, which the generated down does not undo", label, file, st.Pos.Line, kind))
		}
	}
	return out
}
