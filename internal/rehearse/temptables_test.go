package rehearse_test

import (
	"context"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestTemporaryTablesDoNotOutliveTheirScript: each script runs as in a session of its own, so a
// temporary table an up makes is gone when its down runs, when the up runs again after the down, and
// when the next migration runs: an up that makes a temporary table passes its round trip, and a later
// migration may make one of the same name, in a folder whose tool runs each migration in a
// transaction (goose) as in one that runs none (golang-migrate).
func TestTemporaryTablesDoNotOutliveTheirScript(t *testing.T) {
	const setup = "CREATE TABLE t (id int PRIMARY KEY, a text); INSERT INTO t VALUES (1, 'x');"
	const fix = "CREATE TEMP TABLE tmp_fix AS SELECT id FROM t WHERE a = 'x'; UPDATE t SET a = 'y' WHERE id IN (SELECT id FROM tmp_fix);"
	const fixDown = "UPDATE t SET a = 'x' WHERE a = 'y';"
	const again = "CREATE TEMP TABLE tmp_fix AS SELECT id FROM t WHERE a = 'y'; UPDATE t SET a = 'z' WHERE id IN (SELECT id FROM tmp_fix);"
	const againDown = "UPDATE t SET a = 'y' WHERE a = 'z';"
	sets := map[string]*migrate.Set{
		"golang-migrate": folderOf(t, migrate.FormatGolangMigrate, map[string]string{
			"1_setup.up.sql": setup, "1_setup.down.sql": "DROP TABLE t;",
			"2_fix.up.sql": fix, "2_fix.down.sql": fixDown,
			"3_again.up.sql": again, "3_again.down.sql": againDown,
		}),
		"goose": folderOf(t, migrate.FormatGoose, map[string]string{
			"00001_setup.sql": "-- +goose Up\n" + setup + "\n-- +goose Down\nDROP TABLE t;\n",
			"00002_fix.sql":   "-- +goose Up\n" + fix + "\n-- +goose Down\n" + fixDown + "\n",
			"00003_again.sql": "-- +goose Up\n" + again + "\n-- +goose Down\n" + againDown + "\n",
		}),
	}
	// With the change log, the session is reset by its function (pg.Inspector.ResetSQL).
	for _, mode := range []string{"verify", "log"} {
		t.Run(mode, func(t *testing.T) {
			t.Setenv("SCHEMAGATE_INSPECT", mode)
			for name, set := range sets {
				rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: provider(t)})
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range rep.Migrations {
					if m.Status != report.StatusApplied || m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
						t.Errorf("%s: %s: %s %+v, round trip %+v, want applied and ok", name, m.Label(), m.Status, m.Error, m.Roundtrip)
					}
				}
			}
		})
	}
}
