package rehearse_test

import (
	"context"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/rehearse"
)

// TestRoundTripSeesTablespaces: the tablespace of a table, a partitioned table (its partitions'
// default), a materialized view and an index (a constraint's too, USING INDEX TABLESPACE) is compared:
// a down that leaves one in another tablespace fails its round trip, where it passed; one that moves it
// back passes, and the database's default tablespace reads the same named (pg_default) or not. On the
// local provider: a shared server's (url) refuses CREATE TABLESPACE, which is the server's.
func TestRoundTripSeesTablespaces(t *testing.T) {
	setup := setupScript(`CREATE TABLESPACE ts1 LOCATION '` + pgtest.TablespaceDir(t) + `';
CREATE TABLE t (a int); CREATE INDEX i ON t (a); CREATE MATERIALIZED VIEW mv AS SELECT a FROM t;
CREATE TABLE p (a int) PARTITION BY RANGE (a); CREATE TABLE u (a int CONSTRAINT u_a UNIQUE);
CREATE TABLE d (a int) TABLESPACE pg_default; CREATE TABLE dp (a int) PARTITION BY RANGE (a);`)
	files := map[string]string{
		"1_table.up.sql":     "ALTER TABLE t SET TABLESPACE ts1;",
		"1_table.down.sql":   "SELECT 1;",
		"2_index.up.sql":     "ALTER INDEX i SET TABLESPACE ts1; ALTER MATERIALIZED VIEW mv SET TABLESPACE ts1;",
		"2_index.down.sql":   "SELECT 1;",
		"3_parted.up.sql":    "ALTER TABLE p SET TABLESPACE ts1;",
		"3_parted.down.sql":  "SELECT 1;",
		"4_key.up.sql":       "ALTER TABLE u DROP CONSTRAINT u_a; ALTER TABLE u ADD CONSTRAINT u_a UNIQUE (a) USING INDEX TABLESPACE ts1;",
		"4_key.down.sql":     "SELECT 1;",
		"5_back.up.sql":      "ALTER TABLE t SET TABLESPACE pg_default; ALTER INDEX i SET TABLESPACE pg_default; ALTER MATERIALIZED VIEW mv SET TABLESPACE pg_default; ALTER TABLE p SET TABLESPACE pg_default;",
		"5_back.down.sql":    "ALTER TABLE t SET TABLESPACE ts1; ALTER INDEX i SET TABLESPACE ts1; ALTER MATERIALIZED VIEW mv SET TABLESPACE ts1; ALTER TABLE p SET TABLESPACE ts1;",
		"6_default.up.sql":   "ALTER TABLE d SET TABLESPACE pg_default; ALTER TABLE dp SET TABLESPACE pg_default; CREATE INDEX di ON d (a) TABLESPACE pg_default;",
		"6_default.down.sql": "DROP INDEX di;",
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGolangMigrate, files), Provider: provider(t),
		Setup: setup})
	if err != nil {
		t.Fatal(err)
	}
	checkRoundtrips(t, rep, []string{"5", "6"}, map[string][]string{
		"1": {"table t is in tablespace ts1 after the down, was pg_default"},
		"2": {"index i is in tablespace ts1 after the down, was pg_default", "materialized view mv is in tablespace ts1 after the down, was pg_default"},
		"3": {"table p is in tablespace ts1 after the down, was pg_default"},
		"4": {"index u_a is in tablespace ts1 after the down, was pg_default"},
	})
}
