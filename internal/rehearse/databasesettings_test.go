package rehearse_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestDatabaseSettingsRoundTrip: the round trip compares the database's own settings (ALTER DATABASE
// ... SET, here by name through format and current_database(), as a migration must: the database is
// named otherwise in each place) as it compares a role's. An up that set work_mem with a down that did
// nothing passed; it fails, in a transactional round trip and on the database's copy, and so does an up
// that resets one. A down that resets it passes, and a generated down puts them back, verified.
func TestDatabaseSettingsRoundTrip(t *testing.T) {
	const (
		set   = "DO $$BEGIN EXECUTE format('ALTER DATABASE %I SET work_mem = %L', current_database(), '64MB'); END$$;"
		reset = "DO $$BEGIN EXECUTE format('ALTER DATABASE %I RESET work_mem', current_database()); END$$;"
		base  = "-- migrate:up\nCREATE TABLE t (a int);\n-- migrate:down\nDROP TABLE t;\n"
		later = "-- migrate:up\nCREATE TABLE later (a int);\n-- migrate:down\nDROP TABLE later;\n"
	)
	tests := []struct {
		name, history, up string
		generate          bool
		want              string // the round trip's problem, "" for a round trip that passes
	}{
		{name: "set, the down does nothing", history: base, up: "-- migrate:up\n" + set + "\n-- migrate:down\nSELECT 1;\n",
			want: "the database's setting work_mem is 64MB after the down, was not set"},
		{name: "set outside a transaction, the down does nothing", history: base,
			up:   "-- migrate:up transaction:false\n" + set + "\n-- migrate:down transaction:false\nSELECT 1;\n",
			want: "the database's setting work_mem is 64MB after the down, was not set"},
		{name: "reset, the down does nothing", history: "-- migrate:up\nCREATE TABLE t (a int);\n" + strings.Replace(set, "64MB", "8MB", 1) +
			"\n-- migrate:down\nDROP TABLE t;\n", up: "-- migrate:up\n" + reset + "\n-- migrate:down\nSELECT 1;\n",
			want: "the database's setting work_mem is not set after the down, was 8MB"},
		{name: "set, the down resets it", history: base, up: "-- migrate:up\n" + set + "\n-- migrate:down\n" + reset + "\n"},
		{name: "set, no down, one generated", history: base, up: "-- migrate:up\n" + set + "\n-- migrate:down\n", generate: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := folderOf(t, migrate.FormatDbmate, map[string]string{"1_base.sql": tc.history, "2_settings.sql": tc.up, "3_later.sql": later})
			rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: fs, Base: &migrate.Set{Format: fs.Format, Migrations: fs.Migrations[:1]},
				Provider: provider(t), GenerateDown: tc.generate})
			if err != nil {
				t.Fatal(err)
			}
			m := migration(t, rep, "2")
			if m.Status != report.StatusApplied || m.Roundtrip == nil {
				t.Fatalf("2: %s %+v", m.Status, m.Error)
			}
			switch {
			case tc.generate:
				gd := m.GeneratedDown
				if gd == nil || !gd.Verified || !strings.Contains(gd.SQL, "current_database()") || !strings.Contains(gd.SQL, "RESET work_mem") {
					t.Errorf("generated down: %+v; want one verified that resets work_mem in current_database()", gd)
				}
			case tc.want == "":
				if m.Roundtrip.Status != report.RoundtripOK {
					t.Errorf("round trip %s: %q; want ok", m.Roundtrip.Status, m.Roundtrip.Problems)
				}
			case m.Roundtrip.Status != report.RoundtripFailed || !slices.Contains(m.Roundtrip.Problems, tc.want):
				t.Errorf("round trip %s: %q; want failed saying %q", m.Roundtrip.Status, m.Roundtrip.Problems, tc.want)
			}
			if l := migration(t, rep, "3"); l.Status != report.StatusApplied || l.Roundtrip == nil || l.Roundtrip.Status != report.RoundtripOK {
				t.Errorf("3: %s; want applied, round trip ok", l.Status)
			}
		})
	}
}

// TestGeneratedDownOfTheDatabasesSettingsByName: a migration that names the rehearsal's database
// literally (the local provider's is postgres) sets that database's own settings, which the round trip
// compares and a generated down gives back in current_database(): the down is verified, where it was
// "NOT verified: ALTER DATABASE postgres SET timezone ... changes a database's settings, which the
// generated down does not undo" (ALTER ROLE ALL IN DATABASE writes the same setting). Another
// database's settings, which nothing compares or undoes, still leave it unverified.
func TestGeneratedDownOfTheDatabasesSettingsByName(t *testing.T) {
	tests := []struct {
		name, up string
		problem  string // "" for a down verified
	}{
		{name: "ALTER DATABASE of its own", up: "ALTER DATABASE postgres SET timezone = 'UTC';"},
		{name: "ALTER DATABASE of its own, reset", up: "ALTER DATABASE postgres RESET work_mem;"},
		{name: "ALTER ROLE ALL IN DATABASE of its own", up: "ALTER ROLE ALL IN DATABASE postgres SET work_mem = '64MB';"},
		{name: "another database", up: "ALTER DATABASE template1 SET work_mem = '64MB';",
			problem: "ALTER DATABASE template1 SET work_mem at 2_settings.sql:3 changes a database's settings, which the generated down does not undo"},
		{name: "another database, every role", up: "ALTER ROLE ALL IN DATABASE template1 SET work_mem = '64MB';",
			problem: "ALTER ROLE ALL IN DATABASE template1 SET work_mem at 2_settings.sql:3 changes the settings of every role, which the generated down does not undo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := folderOf(t, migrate.FormatDbmate, map[string]string{
				"1_base.sql":     "-- migrate:up\nCREATE TABLE t (a int);\nALTER DATABASE postgres SET work_mem = '8MB';\n-- migrate:down\nDROP TABLE t;\n",
				"2_settings.sql": "-- migrate:up\nCREATE TABLE u (a int);\n" + tc.up + "\n-- migrate:down\n",
			})
			rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: fs, Base: &migrate.Set{Format: fs.Format, Migrations: fs.Migrations[:1]},
				Provider: provider(t), GenerateDown: true})
			if err != nil {
				t.Fatal(err)
			}
			m := migration(t, rep, "2")
			if m.Status != report.StatusApplied || m.GeneratedDown == nil {
				t.Fatalf("2: %s %+v, generated down %+v", m.Status, m.Error, m.GeneratedDown)
			}
			gd := m.GeneratedDown
			if tc.problem == "" && (!gd.Verified || len(gd.Problems) > 0) {
				t.Errorf("generated down: verified %v, problems %q; want verified\n%s", gd.Verified, gd.Problems, gd.SQL)
			}
			if tc.problem != "" && (gd.Verified || !slices.Contains(gd.Problems, tc.problem)) {
				t.Errorf("generated down: verified %v, problems %q; want not verified, saying %q", gd.Verified, gd.Problems, tc.problem)
			}
		})
	}
}
