package rehearse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestRoundtripKeepsTheTablesAndColumnsTheUpStartedFrom: the catalogs of a round trip are compared by
// name, so a down that drops the table or column the up set aside under another name gives back one
// of the same name and shape, empty, and passed. The identity check (OIDs, attribute numbers) fails
// it, saying what would be lost; what keeps the very table or column passes, and what has no
// identity to keep (a table the up itself created again, a view, a generated column) is not asked
// for one. Each case runs in a transaction and outside one (goose NO TRANSACTION: a whole read after
// the down, the database copied).
func TestRoundtripKeepsTheTablesAndColumnsTheUpStartedFrom(t *testing.T) {
	t.Parallel()
	base := "CREATE TABLE users (id int PRIMARY KEY, name text);\nINSERT INTO users VALUES (1, 'ann');\n" +
		"CREATE TABLE items (id int PRIMARY KEY, qty int, g int GENERATED ALWAYS AS (qty * 2) STORED);\n" +
		"CREATE MATERIALIZED VIEW mv AS SELECT id FROM items;\n"
	tests := []struct {
		name, up, down string
		want           string // "" passes; else a problem of the failed round trip contains it
	}{
		{"table set aside, dropped by the down",
			"ALTER TABLE users RENAME TO users_old;\nCREATE TABLE users (id int PRIMARY KEY, name text);",
			"DROP TABLE users_old;",
			"table users after the down is not the table the up started from: the down dropped that table (the up had renamed it to users_old) and left another in its place: its rows would be lost"},
		{"table dropped and created again by the down",
			"COMMENT ON TABLE users IS 'people';",
			"DROP TABLE users;\nCREATE TABLE users (id int PRIMARY KEY, name text);",
			"table users after the down is not the table the up started from: the down dropped that table and created another in its place: its rows would be lost"},
		{"table set aside, kept aside by the down",
			"ALTER TABLE users RENAME TO users_old;\nCREATE TABLE users (id int PRIMARY KEY, name text);",
			"ALTER TABLE users_old RENAME TO users_kept;",
			"table users after the down is not the table the up started from: the down left that table as users_kept and put another in its place"},
		{"column set aside, dropped by the down",
			"ALTER TABLE users RENAME COLUMN name TO legacy_name;\nALTER TABLE users ADD COLUMN name text;",
			"ALTER TABLE users DROP COLUMN legacy_name;",
			"column users.name after the down is not the column the up started from: the down dropped that column (the up had renamed it to legacy_name) and left another in its place: its values would be lost"},
		{"type change undone by drop and add",
			"ALTER TABLE users ALTER COLUMN name TYPE varchar(200);",
			"ALTER TABLE users DROP COLUMN name;\nALTER TABLE users ADD COLUMN name text;",
			"column users.name after the down is not the column the up started from: the down dropped that column and added another in its place: its values would be lost"},
		{"table set aside, put back by the down",
			"ALTER TABLE users RENAME TO users_old;\nCREATE TABLE users (id int PRIMARY KEY, name text);",
			"DROP TABLE users;\nALTER TABLE users_old RENAME TO users;", ""},
		{"column set aside, put back by the down",
			"ALTER TABLE users RENAME COLUMN name TO legacy_name;\nALTER TABLE users ADD COLUMN name text;",
			"ALTER TABLE users DROP COLUMN name;\nALTER TABLE users RENAME COLUMN legacy_name TO name;", ""},
		{"type change undone by a type change",
			"ALTER TABLE users ALTER COLUMN name TYPE varchar(200);",
			"ALTER TABLE users ALTER COLUMN name TYPE text;", ""},
		{"table the up drops and creates again",
			"DROP TABLE users;\nCREATE TABLE users (id int PRIMARY KEY, name text);",
			"DROP TABLE users;\nCREATE TABLE users (id int PRIMARY KEY, name text);", ""},
		{"column added, dropped by the down",
			"ALTER TABLE users ADD COLUMN email text;",
			"ALTER TABLE users DROP COLUMN email;", ""},
		{"materialized view set aside, dropped by the down",
			"ALTER MATERIALIZED VIEW mv RENAME TO mv_old;\nCREATE MATERIALIZED VIEW mv AS SELECT id FROM items;",
			"DROP MATERIALIZED VIEW mv_old;", ""},
		{"generated column set aside, dropped by the down",
			"ALTER TABLE items RENAME COLUMN g TO g_old;\nALTER TABLE items ADD COLUMN g int GENERATED ALWAYS AS (qty * 2) STORED;",
			"ALTER TABLE items DROP COLUMN g_old;", ""},
	}
	for _, tt := range tests {
		for _, noTx := range []bool{false, true} {
			name := tt.name
			if noTx {
				name += ", outside a transaction"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				head := "-- +goose Up\n"
				if noTx {
					head = "-- +goose NO TRANSACTION\n" + head
				}
				set := folderOf(t, migrate.FormatGoose, map[string]string{
					"00001_base.sql":   "-- +goose Up\n" + base,
					"00002_change.sql": head + tt.up + "\n-- +goose Down\n" + tt.down + "\n",
				})
				rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set,
					Base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}, Provider: provider(t)})
				if err != nil {
					t.Fatal(err)
				}
				rt := migration(t, rep, "2").Roundtrip
				if tt.want == "" {
					if rt.Status != report.RoundtripOK {
						t.Fatalf("round trip %s: %v, want ok", rt.Status, rt.Problems)
					}
					return
				}
				if rt.Status != report.RoundtripFailed || !containsAll(rt.Problems, tt.want) {
					t.Fatalf("round trip %s: %q, want failed with %q", rt.Status, rt.Problems, tt.want)
				}
				for _, p := range rt.Problems {
					if strings.Contains(p, "the up started from") && !strings.Contains(p, tt.want) {
						t.Errorf("another identity problem: %q", p)
					}
				}
			})
		}
	}
}
