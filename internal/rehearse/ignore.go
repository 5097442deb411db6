package rehearse

import (
	"strings"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/schema"
)

// newInspector is the rehearsal's catalog reader: it leaves out schemagate's own bookkeeping and the
// history table (or schema) that the folder's own tool keeps, where that tool keeps it by default, and
// nothing else: a migration's own table that shares such a name elsewhere (auth.schema_migrations) or
// another tool's name (a schema_migrations table in a goose folder) is compared like any other.
func newInspector(set *migrate.Set) (*pg.Inspector, error) {
	in, err := pg.NewInspector()
	if err != nil {
		return nil, err
	}
	format := migrate.FormatPlain
	if set != nil {
		format = set.Format
	}
	in.Ignore = toolIgnore(format)
	if format == migrate.FormatFlyway && set.SearchPath != "" {
		// Flyway keeps its history table in its default schema, the first of the search path it sets.
		in.Ignore.Tables = append(in.Ignore.Tables, strings.Trim(set.SearchPath, `"`)+".flyway_schema_history")
	}
	return in, nil
}

// toolIgnore is what a rehearsal of a folder of format leaves out.
func toolIgnore(format migrate.Format) schema.Ignore {
	ig := schema.Ignore{Schemas: []string{"schemagate"}, Tables: []string{"schemagate_*"}}
	switch format {
	case migrate.FormatGolangMigrate, migrate.FormatDbmate:
		ig.Tables = append(ig.Tables, "public.schema_migrations")
	case migrate.FormatGoose:
		ig.Tables = append(ig.Tables, "public.goose_db_version")
	case migrate.FormatFlyway:
		ig.Tables = append(ig.Tables, "public.flyway_schema_history")
	case migrate.FormatSQLMigrate:
		ig.Tables = append(ig.Tables, "public.gorp_migrations")
	case migrate.FormatSqitch:
		ig.Schemas = append(ig.Schemas, "sqitch")
	case migrate.FormatAtlas:
		ig.Schemas = append(ig.Schemas, "atlas_schema_revisions")
	}
	return ig
}
