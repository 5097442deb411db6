package rehearse_test

import (
	"context"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
)

// TestRoundTripSeesDependsOnExtension: an index, function, trigger or materialized view marked as
// depending on an extension (ALTER ... DEPENDS ON EXTENSION, pg_depend deptype 'x'), which a later DROP
// EXTENSION drops with it, is compared: a down that leaves the mark fails its round trip, where it
// passed; one that takes it away (NO DEPENDS ON EXTENSION) passes.
func TestRoundTripSeesDependsOnExtension(t *testing.T) {
	setup := setupScript(`CREATE EXTENSION hstore; CREATE TABLE t (a int); CREATE INDEX i ON t (a);
CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f(); CREATE MATERIALIZED VIEW mv AS SELECT a FROM t;`)
	files := map[string]string{
		"1_index.up.sql":   "ALTER INDEX i DEPENDS ON EXTENSION hstore;",
		"1_index.down.sql": "SELECT 1;",
		"2_others.up.sql": `ALTER FUNCTION f() DEPENDS ON EXTENSION hstore; ALTER TRIGGER tr ON t DEPENDS ON EXTENSION hstore;
ALTER MATERIALIZED VIEW mv DEPENDS ON EXTENSION hstore;`,
		"2_others.down.sql": "SELECT 1;",
		"3_undone.up.sql": `ALTER INDEX i NO DEPENDS ON EXTENSION hstore; ALTER FUNCTION f() NO DEPENDS ON EXTENSION hstore;
ALTER TRIGGER tr ON t NO DEPENDS ON EXTENSION hstore; ALTER MATERIALIZED VIEW mv NO DEPENDS ON EXTENSION hstore;`,
		"3_undone.down.sql": `ALTER INDEX i DEPENDS ON EXTENSION hstore; ALTER FUNCTION f() DEPENDS ON EXTENSION hstore;
ALTER TRIGGER tr ON t DEPENDS ON EXTENSION hstore; ALTER MATERIALIZED VIEW mv DEPENDS ON EXTENSION hstore;`,
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGolangMigrate, files), Provider: provider(t),
		Setup: setup})
	if err != nil {
		t.Fatal(err)
	}
	checkRoundtrips(t, rep, []string{"3"}, map[string][]string{
		"1": {"index i depends on extension hstore after the down, not before"},
		"2": {"function f() depends on extension hstore after the down, not before",
			"trigger tr on t depends on extension hstore after the down, not before",
			"materialized view mv depends on extension hstore after the down, not before"},
	})
}
