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
	if f := got[2]; f.Risk != lint.Dangerous || !strings.Contains(f.Message, "trigger items_chk on items runs items_chk(), whose body names NEW.qty") ||
		!strings.Contains(f.Message, "function total_qty() names items.qty") {
		t.Errorf("line 2: %s drop-column: %s, want it dangerous, naming trigger items_chk and function total_qty() (all: %v)", f.Risk, f.Message, rep.Migrations[1].Findings)
	}
	if f := got[3]; f.Risk != lint.Caution || strings.Contains(f.Message, "trigger") {
		t.Errorf("line 3: %s drop-column: %s, want it caution, the trigger being disabled", f.Risk, f.Message)
	}
}
