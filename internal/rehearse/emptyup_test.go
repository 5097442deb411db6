package rehearse_test

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestEmptyUpAndDownOnlyVersions: golang-migrate records a version whose up file is empty, and one
// with a down file alone, running nothing for their up (postgres.go runStatement, migrate.go
// newMigration): a history that holds them replays, and the migrations after them are rehearsed. A new
// down-only version whose down drops what an earlier migration made fails its round trip, naming it.
func TestEmptyUpAndDownOnlyVersions(t *testing.T) {
	t.Parallel()
	baseFiles := map[string]string{
		"1_a.up.sql":   "CREATE TABLE a (id bigint PRIMARY KEY);",
		"1_a.down.sql": "DROP TABLE a;",
		"2_b.up.sql":   " \n",
		"2_b.down.sql": "",
		"3_c.down.sql": "DROP TABLE IF EXISTS c;",
	}
	curFiles := maps.Clone(baseFiles)
	curFiles["4_d.up.sql"] = "CREATE TABLE d (id bigint PRIMARY KEY);"
	curFiles["4_d.down.sql"] = "DROP TABLE d;"
	base := folderOf(t, migrate.FormatGolangMigrate, baseFiles)
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGolangMigrate, curFiles), Base: base, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, m := range rep.Migrations {
		statuses = append(statuses, m.Version+":"+m.Status)
	}
	if got, want := strings.Join(statuses, " "), "1:base 2:base 3:base 4:applied"; got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
	if m := migration(t, rep, "4"); m.Roundtrip.Status != report.RoundtripOK {
		t.Errorf("4_d round trip %+v, want ok", m.Roundtrip)
	}
	if !rep.OK {
		t.Errorf("report not OK: %+v", rep.Migrations)
	}

	// A new version with a down file alone: its up makes nothing, so a down that drops table a leaves the
	// database without what it had before the migration.
	curFiles = maps.Clone(baseFiles)
	curFiles["4_gone.down.sql"] = "DROP TABLE a;"
	rep, err = rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGolangMigrate, curFiles), Base: base, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	m := migration(t, rep, "4")
	if m.Status != report.StatusApplied || m.Roundtrip.Status != report.RoundtripFailed || !containsAll(m.Roundtrip.Problems, "table a", "not restored by the down") ||
		len(m.Roundtrip.Places) == 0 || m.Roundtrip.Places[0].File != "4_gone.down.sql" {
		t.Errorf("4_gone: status %s, round trip %+v; want applied, its round trip failed naming table a at 4_gone.down.sql", m.Status, m.Roundtrip)
	}
	if rep.OK {
		t.Error("report OK despite a down that drops table a")
	}
}
