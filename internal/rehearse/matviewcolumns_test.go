package rehearse_test

import (
	"context"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
)

// TestRoundTripSeesMaterializedViewColumns: a materialized view's columns have their storage,
// compression and attribute options (n_distinct) compared as a table's do, and its extended statistics
// objects are read as a table's are: a down that leaves one set fails its round trip, where it passed;
// one that sets it back passes.
func TestRoundTripSeesMaterializedViewColumns(t *testing.T) {
	setup := setupScript(`CREATE TABLE t (a text, b text); CREATE MATERIALIZED VIEW mv AS SELECT a, b FROM t;`)
	files := map[string]string{
		"1_storage.up.sql":       "ALTER MATERIALIZED VIEW mv ALTER COLUMN a SET STORAGE EXTERNAL;",
		"1_storage.down.sql":     "SELECT 1;",
		"2_options.up.sql":       "ALTER MATERIALIZED VIEW mv ALTER COLUMN a SET (n_distinct = 100);",
		"2_options.down.sql":     "SELECT 1;",
		"3_compression.up.sql":   "ALTER MATERIALIZED VIEW mv ALTER COLUMN b SET COMPRESSION lz4;",
		"3_compression.down.sql": "SELECT 1;",
		"4_statistics.up.sql":    "CREATE STATISTICS IF NOT EXISTS mvs (dependencies) ON a, b FROM mv;",
		"4_statistics.down.sql":  "SELECT 1;",
		// Downs that set each back pass.
		"5_back.up.sql": `ALTER MATERIALIZED VIEW mv ALTER COLUMN a SET STORAGE EXTENDED, ALTER COLUMN a RESET (n_distinct),
  ALTER COLUMN b SET COMPRESSION default; DROP STATISTICS mvs;`,
		"5_back.down.sql": `ALTER MATERIALIZED VIEW mv ALTER COLUMN a SET STORAGE EXTERNAL, ALTER COLUMN a SET (n_distinct = 100),
  ALTER COLUMN b SET COMPRESSION lz4; CREATE STATISTICS mvs (dependencies) ON a, b FROM mv;`,
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGolangMigrate, files), Provider: provider(t),
		Setup: setup})
	if err != nil {
		t.Fatal(err)
	}
	checkRoundtrips(t, rep, []string{"5"}, map[string][]string{
		"1": {"column mv.a has storage external after the down, was default"},
		"2": {"column mv.a has options"},
		"3": {"column mv.b has compression lz4 after the down, was default"},
		"4": {"materialized view mv has extended statistics"},
	})
}
