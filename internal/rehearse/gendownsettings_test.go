package rehearse_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
)

// TestGeneratedDownRestoresColumnSettings: the catalog compares a view column's default, a column's
// attribute options (n_distinct) and compression, an index column's statistics target and whether a
// materialized view is populated, but the generator wrote nothing for them: the down of each such up
// was empty and (before its proof) called verified. It now sets each back, both ways (set by the up,
// or taken off by it), also on what the down creates again (a materialized view WITH NO DATA, a column
// re-added with its compression and options), and each down is verified.
func TestGeneratedDownRestoresColumnSettings(t *testing.T) {
	t.Parallel()
	ups := []struct{ up, want string }{
		{"ALTER VIEW va ALTER COLUMN v SET DEFAULT 5;\nALTER VIEW va ALTER COLUMN w DROP DEFAULT;",
			"ALTER VIEW va ALTER COLUMN v DROP DEFAULT;\n\n-- restore the default of view column va.w\nALTER VIEW va ALTER COLUMN w SET DEFAULT 'x'::text;"},
		{"ALTER TABLE t ALTER COLUMN n SET (n_distinct=100);\nALTER TABLE t ALTER COLUMN e RESET (n_distinct);",
			"ALTER TABLE t ALTER COLUMN n RESET (n_distinct);\n\n-- restore the options of column t.e\nALTER TABLE t ALTER COLUMN e SET (n_distinct=50);"},
		{"ALTER TABLE t ALTER COLUMN c SET COMPRESSION pglz;\nALTER TABLE t ALTER COLUMN d SET COMPRESSION default;",
			"ALTER TABLE t ALTER COLUMN c SET COMPRESSION default;\n\n-- restore the compression of column t.d\nALTER TABLE t ALTER COLUMN d SET COMPRESSION pglz;"},
		{"ALTER INDEX i ALTER COLUMN 1 SET STATISTICS 500;\nALTER INDEX i ALTER COLUMN 2 SET STATISTICS -1;",
			"ALTER INDEX i ALTER COLUMN 1 SET STATISTICS -1;\n\n-- restore the statistics target of column 2 of index i\nALTER INDEX i ALTER COLUMN 2 SET STATISTICS 70;"},
		{"REFRESH MATERIALIZED VIEW mv;\nREFRESH MATERIALIZED VIEW mv2 WITH NO DATA;",
			"REFRESH MATERIALIZED VIEW mv WITH NO DATA;\n\n-- materialized view mv2 was populated: refresh it\nREFRESH MATERIALIZED VIEW mv2;"},
		{"ALTER MATERIALIZED VIEW mv2 ALTER COLUMN id SET STATISTICS 300;\nALTER MATERIALIZED VIEW mv2 ALTER COLUMN id SET (n_distinct=7);",
			"ALTER MATERIALIZED VIEW mv2 ALTER COLUMN id SET STATISTICS -1;\n\n-- restore the options of column mv2.id\nALTER MATERIALIZED VIEW mv2 ALTER COLUMN id RESET (n_distinct);"},
		{"DROP MATERIALIZED VIEW mv3;\nALTER TABLE t DROP COLUMN g;\nALTER TABLE t DROP COLUMN f;",
			"FROM t\nWITH NO DATA;\n\n-- restore the compression of column t.f\nALTER TABLE t ALTER COLUMN f SET COMPRESSION pglz;\n\n-- restore the options of column t.g\nALTER TABLE t ALTER COLUMN g SET (n_distinct=50);"},
	}
	files := map[string]string{"00001_base.sql": `-- +goose Up
CREATE TABLE t (id int PRIMARY KEY, n int, c text, d text COMPRESSION pglz, e int, f text COMPRESSION pglz, g int);
ALTER TABLE t ALTER COLUMN e SET (n_distinct = 50);
ALTER TABLE t ALTER COLUMN g SET (n_distinct = 50);
CREATE VIEW va AS SELECT id AS v, c AS w FROM t;
ALTER VIEW va ALTER COLUMN w SET DEFAULT 'x';
CREATE INDEX i ON t ((n + 1), (id * 2));
ALTER INDEX i ALTER COLUMN 2 SET STATISTICS 70;
CREATE MATERIALIZED VIEW mv AS SELECT id FROM t WITH NO DATA;
CREATE MATERIALIZED VIEW mv2 AS SELECT id FROM t;
CREATE MATERIALIZED VIEW mv3 AS SELECT id FROM t WITH NO DATA;
`}
	// Each up runs after the ones before it, from the base as it is: each down undoes its own.
	for i, u := range ups {
		files[fmt.Sprintf("%05d_change.sql", i+2)] = "-- +goose Up\n" + u.up + "\n"
	}
	set := folderOf(t, migrate.FormatGoose, files)
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]},
		Provider: provider(t), GenerateDown: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range ups {
		gd := migration(t, rep, fmt.Sprint(i+2)).GeneratedDown
		if gd == nil || !gd.Verified || !strings.Contains(gd.SQL, u.want) {
			t.Errorf("generated down of %q: %+v, want one verified with\n%s", u.up, gd, u.want)
		}
	}
}
