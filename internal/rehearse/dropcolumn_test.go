package rehearse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
)

// TestDropColumnATriggerOfAnEarlierMigrationReads: the rules judge a new migration again with what the
// rehearsal's catalog has of what it names, the triggers of its tables and the functions they run
// included, though the migration names neither: DROP COLUMN of a column such a function reads as
// NEW.qty goes through on the server and breaks every INSERT and UPDATE, and drop-column says so,
// dangerous, as lint --dir does; a function whose body names items.qty is mentioned. A trigger an
// earlier migration disabled is not.
func TestDropColumnATriggerOfAnEarlierMigrationReads(t *testing.T) {
	files := map[string]string{
		"001_base.sql": "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int);\n" +
			"CREATE FUNCTION items_chk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.qty < 0 THEN RAISE EXCEPTION 'neg'; END IF; RETURN NEW; END $$;\n" +
			"CREATE TRIGGER items_chk BEFORE INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION items_chk();\n" +
			"CREATE FUNCTION total_qty() RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT sum(items.qty) FROM items); END $$;\n" +
			"CREATE TABLE parts (id bigint PRIMARY KEY, qty int);\n" +
			"CREATE FUNCTION parts_chk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.qty < 0 THEN RAISE EXCEPTION 'neg'; END IF; RETURN NEW; END $$;\n" +
			"CREATE TRIGGER parts_chk BEFORE INSERT ON parts FOR EACH ROW EXECUTE FUNCTION parts_chk();\n" +
			"ALTER TABLE parts DISABLE TRIGGER parts_chk;\n",
		"002_drop.sql": "SET lock_timeout = '2s';\nALTER TABLE items DROP COLUMN qty;\nALTER TABLE parts DROP COLUMN qty;\n",
	}
	got, all := newDropColumnFindings(t, files)
	if f := got[2]; f.Risk != lint.Dangerous || !strings.Contains(f.Message, "trigger items_chk on items runs items_chk(), whose body names NEW.qty") ||
		!strings.Contains(f.Message, "function total_qty() names items.qty") {
		t.Errorf("line 2: %s drop-column: %s, want it dangerous, naming trigger items_chk and function total_qty() (all: %v)", f.Risk, f.Message, all)
	}
	if f := got[3]; f.Risk != lint.Caution || strings.Contains(f.Message, "trigger") {
		t.Errorf("line 3: %s drop-column: %s, want it caution, the trigger being disabled", f.Risk, f.Message)
	}
}

// TestDropColumnAFunctionOfAnEarlierMigrationUses: a LANGUAGE sql function with a BEGIN ATOMIC or
// RETURN body, created by an earlier migration, depends on the columns it uses (PostgreSQL 14 and
// later), so the new migration's DROP COLUMN fails on the server (2BP01), and drop-column says so,
// dangerous, naming the functions, as lint --dir does. The rehearsal's catalog wrote the functions
// before the tables, and the rules, which learn a body's columns only of tables they know, took the
// drop for a generic caution: one function reads items.price in its body, the other takes the table's
// row type as a parameter.
func TestDropColumnAFunctionOfAnEarlierMigrationUses(t *testing.T) {
	files := map[string]string{
		"001_base.sql": "CREATE TABLE items (id int, price numeric, qty int);\n" +
			"CREATE FUNCTION total_price() RETURNS numeric LANGUAGE sql BEGIN ATOMIC SELECT sum(price) FROM items; END;\n" +
			"CREATE FUNCTION item_qty(i items) RETURNS int LANGUAGE sql RETURN i.qty;\n",
		"002_drop.sql": "SET lock_timeout = '2s';\nALTER TABLE items DROP COLUMN price;\nALTER TABLE items DROP COLUMN qty;\n",
	}
	got, all := newDropColumnFindings(t, files)
	for line, fn := range map[int]string{2: "function total_price() uses it", 3: "function item_qty(items) uses it"} {
		if f := got[line]; f.Risk != lint.Dangerous || !strings.Contains(f.Message, "fails: "+fn) {
			t.Errorf("line %d: %s drop-column: %s, want it dangerous, saying the drop fails: %s (all: %v)", line, f.Risk, f.Message, fn, all)
		}
	}
}

// newDropColumnFindings rehearses files (plain, in name order) with the first as history and the second
// new, without round trips, and returns the new migration's drop-column findings by line, and all its
// findings.
func newDropColumnFindings(t *testing.T, files map[string]string) (map[int]lint.Finding, []lint.Finding) {
	t.Helper()
	set := folderOf(t, migrate.FormatPlain, files)
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}, Provider: provider(t), NoRoundtrip: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]lint.Finding{}
	for _, f := range rep.Migrations[1].Findings {
		if f.Rule == "drop-column" {
			got[f.Line] = f
		}
	}
	return got, rep.Migrations[1].Findings
}
