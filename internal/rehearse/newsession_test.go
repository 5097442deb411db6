package rehearse_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestSettingsOfRoleAndDatabaseReachLaterMigrations: a migration that gives its role or database a
// search path (ALTER ROLE CURRENT_USER SET, ALTER DATABASE … SET in a DO block) changes what the next
// migration, in a session of its own under psql, sqitch or the next deploy, starts with: its unqualified
// CREATE TABLE lands in app. The rehearsal reset its one session (RESET ALL), which goes back to what the
// session started with, so widgets landed in public and the assertion divided by zero (exit 3), new or
// replayed as history. A down that resets the setting runs with it, and the re-up, in a session of its
// own, without it: its t lands in public again, in a transactional round trip and in an autocommit one.
func TestSettingsOfRoleAndDatabaseReachLaterMigrations(t *testing.T) {
	const (
		widgets = "CREATE TABLE widgets (id bigint PRIMARY KEY);"
		assert  = "SELECT 1/(SELECT count(*) FROM pg_tables WHERE schemaname = 'app' AND tablename = 'widgets')::int;\n" +
			"SELECT 1/(SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 't')::int;"
		roleSet     = "ALTER ROLE CURRENT_USER SET search_path = app, public;"
		roleReset   = "ALTER ROLE CURRENT_USER RESET search_path;"
		dbSet       = "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = app, public', current_database()); END $$;"
		dbReset     = "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET search_path', current_database()); END $$;"
		downOfSetUp = "DROP TABLE public.t;" // the down runs with the search path its up gave: t is named
	)
	cases := []struct {
		name   string
		format migrate.Format
		files  map[string]string
	}{
		{"plain folder, ALTER ROLE", migrate.FormatPlain, map[string]string{
			"01_schema.sql":  "CREATE SCHEMA app;\nCREATE TABLE t (id int);\n" + roleSet,
			"02_widgets.sql": widgets,
			"03_assert.sql":  assert,
		}},
		{"golang-migrate, ALTER ROLE, the down resets it", migrate.FormatGolangMigrate, map[string]string{
			"1_schema.up.sql":    "CREATE SCHEMA app;",
			"1_schema.down.sql":  "DROP SCHEMA app;",
			"2_path.up.sql":      "CREATE TABLE t (id int);\n" + roleSet,
			"2_path.down.sql":    roleReset + "\n" + downOfSetUp,
			"3_widgets.up.sql":   widgets,
			"3_widgets.down.sql": "DROP TABLE widgets;",
			"4_assert.up.sql":    assert,
			"4_assert.down.sql":  "SELECT 1;",
		}},
		{"golang-migrate, ALTER DATABASE in a DO block, the down resets it", migrate.FormatGolangMigrate, map[string]string{
			"1_schema.up.sql":    "CREATE SCHEMA app;",
			"1_schema.down.sql":  "DROP SCHEMA app;",
			"2_path.up.sql":      "CREATE TABLE t (id int);\n" + dbSet,
			"2_path.down.sql":    dbReset + "\n" + downOfSetUp,
			"3_widgets.up.sql":   widgets,
			"3_widgets.down.sql": "DROP TABLE widgets;",
			"4_assert.up.sql":    assert,
			"4_assert.down.sql":  "SELECT 1;",
		}},
		{"dbmate, ALTER ROLE outside a transaction, the down resets it", migrate.FormatDbmate, map[string]string{
			"1_schema.sql":  "-- migrate:up\nCREATE SCHEMA app;\n-- migrate:down\nDROP SCHEMA app;\n",
			"2_path.sql":    "-- migrate:up transaction:false\nCREATE TABLE t (id int);\n" + roleSet + "\n-- migrate:down transaction:false\n" + roleReset + "\n" + downOfSetUp + "\n",
			"3_widgets.sql": "-- migrate:up\n" + widgets + "\n-- migrate:down\nDROP TABLE widgets;\n",
			"4_assert.sql":  "-- migrate:up\n" + assert + "\n-- migrate:down\nSELECT 1;\n",
		}},
	}
	for _, c := range cases {
		set := folderOf(t, c.format, c.files)
		last := len(set.Migrations) - 1
		for _, history := range slices.Compact([]int{0, 1, last - 1, last}) {
			t.Run(fmt.Sprintf("%s, %d in history", c.name, history), func(t *testing.T) {
				opts := rehearse.Options{Set: set, Provider: provider(t), NoTrace: true}
				if history > 0 {
					opts.Base = &migrate.Set{Format: set.Format, Migrations: set.Migrations[:history]}
				}
				rep, err := rehearse.Run(context.Background(), opts)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, m := range rep.Migrations {
					s := m.Version + ":" + m.Status
					if m.Error != nil {
						s += " (" + m.Error.File + ": " + m.Error.Message + ")"
					}
					if m.Roundtrip != nil && m.Roundtrip.Status != report.RoundtripOK && m.Roundtrip.Status != report.RoundtripNoDown {
						s += " round trip " + m.Roundtrip.Status + " " + strings.Join(m.Roundtrip.Problems, "; ")
					}
					got = append(got, s)
					want := report.StatusApplied
					if !m.New {
						want = report.StatusBase
					}
					if m.Status != want || m.Error != nil || m.Roundtrip != nil && m.Roundtrip.Status != report.RoundtripOK && m.Roundtrip.Status != report.RoundtripNoDown {
						t.Errorf("%s: %s %+v, round trip %+v; want %s, round trip ok", m.Version, m.Status, m.Error, m.Roundtrip, want)
					}
				}
				if !rep.OK {
					t.Errorf("report not OK: %s", strings.Join(got, ", "))
				}
			})
		}
	}
}

// TestSettingsOfDatabaseOutliveRoundTripOnCopy: a round trip that runs on the database with a copy
// standing by (CREATE INDEX CONCURRENTLY, whose down of SELECT 1 leaves the index: it fails, rightly)
// puts the copy in the database's place, and CREATE DATABASE … TEMPLATE copies no pg_db_role_setting
// row, which the database's oid keys: the search path and the setting an earlier migration gave the
// database (ALTER DATABASE … SET) or its role in it (ALTER ROLE … IN DATABASE … SET) were gone, and the
// next migration's CREATE TABLE widgets landed in public (the assertion divided by zero). A list keeps
// its quoted element ("my app", public), a string its quote and its backslash.
func TestSettingsOfDatabaseOutliveRoundTripOnCopy(t *testing.T) {
	const (
		dbSet = "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = \"my app\", public', current_database());\n" +
			"EXECUTE format('ALTER DATABASE %I SET app.greeting = %L', current_database(), 'it''s a\\b'); END $$;"
		dbReset = "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET ALL', current_database()); END $$;"
		roleSet = "DO $$ BEGIN EXECUTE format('ALTER ROLE %I IN DATABASE %I SET search_path = \"my app\", public', current_user, current_database());\n" +
			"EXECUTE format('ALTER ROLE %I IN DATABASE %I SET app.greeting = %L', current_user, current_database(), 'it''s a\\b'); END $$;"
		roleReset = "DO $$ BEGIN EXECUTE format('ALTER ROLE %I IN DATABASE %I RESET ALL', current_user, current_database()); END $$;"
	)
	cases := []struct{ name, set, reset string }{
		{"ALTER DATABASE … SET", dbSet, dbReset},
		{"ALTER ROLE … IN DATABASE … SET", roleSet, roleReset},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
				"1_app.up.sql":       "CREATE SCHEMA \"my app\";\n" + c.set,
				"1_app.down.sql":     c.reset + "\nDROP SCHEMA \"my app\";",
				"2_items.up.sql":     "CREATE TABLE items (id bigint PRIMARY KEY, sku text);",
				"2_items.down.sql":   "DROP TABLE items;",
				"3_idx.up.sql":       "CREATE INDEX CONCURRENTLY items_sku_idx ON items (sku);",
				"3_idx.down.sql":     "SELECT 1;",
				"4_widgets.up.sql":   "CREATE TABLE widgets (id bigint PRIMARY KEY);",
				"4_widgets.down.sql": "DROP TABLE widgets;",
				"5_assert.up.sql": "SELECT 1/(SELECT count(*) FROM pg_tables WHERE schemaname = 'my app' AND tablename = 'widgets')::int;\n" +
					"SELECT 1/(current_setting('app.greeting') = 'it''s a\\b')::int;",
				"5_assert.down.sql": "SELECT 1;",
			})
			rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: provider(t), NoTrace: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range rep.Migrations {
				wantRoundtrip := report.RoundtripOK
				if m.Version == "3" {
					wantRoundtrip = report.RoundtripFailed
				}
				if m.Status != report.StatusApplied || m.Error != nil || m.Roundtrip == nil || m.Roundtrip.Status != wantRoundtrip {
					t.Errorf("%s: %s %+v, round trip %+v; want applied, round trip %s", m.Version, m.Status, m.Error, m.Roundtrip, wantRoundtrip)
				}
			}
		})
	}
}
