package rehearse_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
)

// TestTableScanWhereTheScanBlocks: the rehearsal's trace sees sequential scans of the empty history's
// tables in statements that block nobody on production: the backfill rule's own batched UPDATE (ROW
// EXCLUSIVE, and its WHERE a key range bounds), CREATE MATERIALIZED VIEW (ACCESS SHARE on its sources),
// ADD COLUMN … NOT NULL without a default (its check stops at the first row, failing the statement, as
// add-column-required says). None is a table-scan. A scan under a lock an earlier statement of the
// transaction took, on the scanned table or another, is one, with the statement's own safe form as
// advice, not the rule's advice for DDL.
func TestTableScanWhereTheScanBlocks(t *testing.T) {
	const head = "SET lock_timeout = '2s';\nSET statement_timeout = '30s';\n"
	// The migrations apply one after another: each names what it adds apart.
	matview := func(name string) string {
		return "CREATE MATERIALIZED VIEW " + name + " AS SELECT o.id, count(u.id) FROM orgs o LEFT JOIN users u ON u.org_id = o.id GROUP BY o.id;\n"
	}
	tests := []struct {
		name, up, down string
		lock, advice   string // of the table-scan on the migration's last statement; lock "" wants none
		also           string // another rule the migration keeps
	}{
		{name: "batched backfill", up: "UPDATE users SET status = 'active' WHERE id IN (SELECT id FROM users WHERE status IS NULL ORDER BY id LIMIT 1000);\n"},
		{name: "materialized view", up: matview("org_sizes"), down: "DROP MATERIALIZED VIEW org_sizes;\n"},
		{name: "required column", up: "ALTER TABLE users ADD COLUMN c int NOT NULL;\n", down: "ALTER TABLE users DROP COLUMN c;\n", also: "add-column-required"},
		{name: "update after an alter", up: "ALTER TABLE users ADD COLUMN tier int;\nUPDATE users SET tier = 0 WHERE status IS NULL;\n",
			down: "ALTER TABLE users DROP COLUMN tier;\n", lock: "ACCESS EXCLUSIVE", advice: "batch it in a later migration"},
		{name: "update while another table is locked", up: "ALTER TABLE orgs ADD COLUMN note text;\nUPDATE users SET status = 'x' WHERE status IS NULL;\n",
			down: "ALTER TABLE orgs DROP COLUMN note;\n", lock: "ACCESS EXCLUSIVE on public.orgs", advice: "batch it in a later migration"},
		{name: "materialized view after an alter of its source", up: "ALTER TABLE orgs ADD COLUMN note2 text;\n" + matview("org_sizes2"),
			down: "DROP MATERIALIZED VIEW org_sizes2;\nALTER TABLE orgs DROP COLUMN note2;\n", lock: "ACCESS EXCLUSIVE", advice: "WITH NO DATA"},
	}
	files := map[string]string{
		"1_init.up.sql": "CREATE TABLE orgs (id bigint PRIMARY KEY, name text);\n" +
			"CREATE TABLE users (id bigint PRIMARY KEY, status text, org_id bigint REFERENCES orgs, email text);\n",
		"1_init.down.sql": "DROP TABLE users;\nDROP TABLE orgs;\n",
	}
	for i, tt := range tests {
		name := fmt.Sprintf("%d_%s", i+2, strings.ReplaceAll(tt.name, " ", "_"))
		files[name+".up.sql"] = head + tt.up
		files[name+".down.sql"] = tt.down + "SELECT 1;\n"
	}
	set := folderOf(t, migrate.FormatGolangMigrate, files)
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		m := rep.Migrations[i+1]
		if m.Error != nil {
			t.Fatalf("%s: %s %+v", tt.name, m.Status, m.Error)
		}
		var scans []lint.Finding
		also := tt.also == ""
		for _, f := range m.Findings {
			switch f.Rule {
			case "table-scan":
				scans = append(scans, f)
			case tt.also:
				also = true
			}
		}
		if !also {
			t.Errorf("%s: no %s in %+v", tt.name, tt.also, m.Findings)
		}
		if tt.lock == "" {
			if len(scans) > 0 {
				t.Errorf("%s: %+v, want no table-scan", tt.name, scans)
			}
			continue
		}
		if len(scans) != 1 {
			t.Errorf("%s: table-scan findings %+v, want one", tt.name, scans)
			continue
		}
		f := scans[0]
		if f.Line != strings.Count(head+tt.up, "\n") || f.Risk != lint.Dangerous || f.Lock != tt.lock || !strings.Contains(f.Suggestion, tt.advice) {
			t.Errorf("%s: table-scan at line %d, %s under %q: %q (suggestion %q); want the last statement, dangerous under %q, advice with %q",
				tt.name, f.Line, f.Risk, f.Lock, f.Message, f.Suggestion, tt.lock, tt.advice)
		}
	}
}
