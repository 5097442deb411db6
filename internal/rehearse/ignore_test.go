package rehearse_test

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
)

// TestToolTablesOfOtherToolsAndSchemasAreCompared: the round trip leaves out only the history table of
// the folder's own tool, where that tool keeps it: a schema_migrations table in a goose folder, or one
// in schema auth of a dbmate folder, that the down leaves behind is reported; dbmate's own
// public.schema_migrations is not.
func TestToolTablesOfOtherToolsAndSchemasAreCompared(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format migrate.Format
		files  map[string]string
		want   string // a round-trip problem, or "" for none
	}{
		{"goose folder, golang-migrate's name", migrate.FormatGoose, map[string]string{
			"00001_t.sql": "-- +goose Up\nCREATE TABLE schema_migrations (version text PRIMARY KEY);\nCREATE TABLE kept (id int);\n-- +goose Down\nDROP TABLE kept;\n"},
			"table schema_migrations is left behind by the down"},
		{"dbmate folder, another schema", migrate.FormatDbmate, map[string]string{
			"20240101000000_auth.sql": "-- migrate:up\nCREATE SCHEMA auth;\nCREATE TABLE auth.schema_migrations (version text PRIMARY KEY);\n-- migrate:down\nSELECT 1;\n"},
			"table auth.schema_migrations is left behind by the down"},
		{"dbmate folder, dbmate's own table", migrate.FormatDbmate, map[string]string{
			"20240101000000_t.sql": "-- migrate:up\nCREATE TABLE IF NOT EXISTS schema_migrations (version varchar(128) PRIMARY KEY);\n-- migrate:down\n"},
			""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := folderOf(t, tc.format, tc.files)
			rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Provider: provider(t)})
			if err != nil {
				t.Fatal(err)
			}
			m := rep.Migrations[0]
			var problems []string
			if m.Roundtrip != nil {
				problems = m.Roundtrip.Problems
			}
			got := strings.Join(problems, "\n")
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("round trip problems:\n%s\nwant %q", got, tc.want)
			}
		})
	}
}

// TestFlywaySchemasAndSearchPath: Flyway creates the schemas flyway.schemas lists and runs each
// migration with the first in front of the search path, so unqualified names land there (V2 names the
// table qualified), the undo and the re-up run there too, and its history table there is its own.
func TestFlywaySchemasAndSearchPath(t *testing.T) {
	set := folderOf(t, migrate.FormatFlyway, map[string]string{
		"flyway.conf":  "flyway.schemas=app,extra\n",
		"V1__t.sql":    "CREATE TABLE t (id bigint);\nCREATE TABLE flyway_schema_history (installed_rank int);",
		"V2__c.sql":    "COMMENT ON TABLE app.t IS 'in app';\nCREATE TABLE extra.e (id int);",
		"V3__n.sql":    "ALTER TABLE t ADD COLUMN n int;",
		"U3__n.sql":    "ALTER TABLE t DROP COLUMN n;",
		"V4__left.sql": "CREATE TABLE leftover (id int);",
		"U4__left.sql": "SELECT 1;",
	})
	if got := strings.Join(set.Schemas, ","); got != "app,extra" || set.SearchPath != `"app"` {
		t.Fatalf("schemas %q, search path %q", got, set.SearchPath)
	}
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1", "2", "3"} {
		if m := migration(t, rep, v); m.Status != "applied" || m.Error != nil {
			t.Errorf("%s: %s %+v", v, m.Status, m.Error)
		}
	}
	if rt := migration(t, rep, "3").Roundtrip; rt == nil || rt.Status != "ok" {
		t.Errorf("3: round trip %+v, want ok", rt)
	}
	if rt := migration(t, rep, "4").Roundtrip; rt == nil || !strings.Contains(strings.Join(rt.Problems, "\n"), "table app.leftover is left behind by the down") {
		t.Errorf("4: round trip %+v, want app.leftover left behind", rt)
	}
}
