package rehearse_test

import (
	"context"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestBuiltCatalogWritesAreReadWhole: a system catalog written by a statement built as it runs
// (EXECUTE 'update ' || 'pg_attribute ...', EXECUTE format('delete from %s ...', 'pg_description')),
// which takes no lock the incremental read could see, makes the read after it whole: the correct downs
// pass their round trips and the next migration is not blamed for what the read missed, with
// incremental reads as with each one checked against a whole one.
func TestBuiltCatalogWritesAreReadWhole(t *testing.T) {
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_setup.up.sql":       "CREATE TABLE t (id int PRIMARY KEY, a text, b int); COMMENT ON TABLE t IS 'things';",
		"1_setup.down.sql":     "DROP TABLE t;",
		"2_notnull.up.sql":     `DO $$ BEGIN EXECUTE 'update ' || 'pg_attribute set attnotnull = true where attrelid = ''t''::regclass and attname = ''b'''; END $$;`,
		"2_notnull.down.sql":   "ALTER TABLE t ALTER COLUMN b DROP NOT NULL;",
		"3_uncomment.up.sql":   `DO $$ BEGIN EXECUTE format('delete from %s where objoid = ''t''::regclass', 'pg_description'); END $$;`,
		"3_uncomment.down.sql": "COMMENT ON TABLE t IS 'things';",
		"4_next.up.sql":        "ALTER TABLE t ADD COLUMN c int;",
		"4_next.down.sql":      "ALTER TABLE t DROP COLUMN c;",
	})
	for _, mode := range []string{"verify", "incremental"} {
		t.Run(mode, func(t *testing.T) {
			t.Setenv("SCHEMAGATE_INSPECT", mode)
			rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: provider(t)})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range rep.Migrations {
				if m.Status != report.StatusApplied || m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
					t.Errorf("%s: %s %+v, round trip %+v, want applied and ok", m.Label(), m.Status, m.Error, m.Roundtrip)
				}
			}
			if len(rep.Notes) > 0 {
				t.Errorf("notes %q, want none (no read to do again whole)", rep.Notes)
			}
		})
	}
}
