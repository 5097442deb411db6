package lint

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestChangeCreated: an object an earlier new migration of the change created is exempt from the lock
// and rewrite rules in the later ones, as one the migration itself created is; one a history migration
// created (before StartChange) is not, and neither is an object the change creates under the name of
// a history one, nor what holds only inside the transaction that created a type.
func TestChangeCreated(t *testing.T) {
	t.Parallel()
	const orders = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, note text);\n"
	const customers = "CREATE TABLE customers (id bigint PRIMARY KEY);\n"
	tests := []struct {
		name    string
		history []string // migrations before StartChange
		change  []string // the change's new migrations; the last is judged
		pg      int
		risk    Risk   // the last migration's highest risk
		rule    string // a rule the last migration must raise ("" for none)
		absent  string // a rule it must not raise
		says    string // rule's message contains it
	}{
		{name: "index on a table of the change", change: []string{orders, "CREATE INDEX orders_customer_idx ON orders (customer_id);\n"},
			risk: Safe, absent: "create-index-blocking"},
		{name: "index on a history table", history: []string{orders}, change: []string{"CREATE INDEX orders_customer_idx ON orders (customer_id);\n"},
			risk: Dangerous, rule: "create-index-blocking"},
		{name: "volatile default on a table of the change", change: []string{orders, "ALTER TABLE orders ADD COLUMN created_at timestamptz DEFAULT clock_timestamp();\n"},
			risk: Safe, absent: "add-column-volatile-default"},
		{name: "volatile default on a history table", history: []string{orders}, change: []string{"ALTER TABLE orders ADD COLUMN created_at timestamptz DEFAULT clock_timestamp();\n"},
			risk: Dangerous, rule: "add-column-volatile-default"},
		{name: "SET NOT NULL on a table of the change", change: []string{orders, "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n"},
			risk: Safe, absent: "set-not-null"},
		{name: "SET NOT NULL on a history table", history: []string{orders}, change: []string{"ALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n"},
			risk: Dangerous, rule: "set-not-null"},
		{name: "foreign key between tables of the change", change: []string{customers, orders, "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);\n"},
			risk: Safe, absent: "add-foreign-key"},
		{name: "foreign key of a change table to a history table", history: []string{customers}, change: []string{orders, "SET lock_timeout = '2s';\nALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);\n"},
			risk: Caution, absent: "add-foreign-key"},
		{name: "a later migration of the change", change: []string{orders, "CREATE TABLE other (id int);\n", "CREATE INDEX orders_customer_idx ON orders (customer_id);\n"},
			risk: Safe, absent: "create-index-blocking"},
		{name: "dropped and re-created by the change", change: []string{orders, "DROP TABLE orders;\n" + orders, "CREATE INDEX orders_customer_idx ON orders (customer_id);\n"},
			risk: Safe, absent: "create-index-blocking"},
		{name: "history table re-created by the change", history: []string{orders}, change: []string{"DROP TABLE orders;\n" + orders, "CREATE INDEX orders_customer_idx ON orders (customer_id);\n"},
			risk: Dangerous, rule: "create-index-blocking"},
		{name: "history table renamed by the change", history: []string{orders}, change: []string{"ALTER TABLE orders RENAME TO purchases;\n", "CREATE INDEX purchases_customer_idx ON purchases (customer_id);\n"},
			risk: Dangerous, rule: "create-index-blocking"},
		{name: "change table renamed", change: []string{orders, "ALTER TABLE orders RENAME TO purchases;\n", "CREATE INDEX purchases_customer_idx ON purchases (customer_id);\n"},
			risk: Safe, absent: "create-index-blocking"},
		{name: "a finding still raised names the migration", change: []string{orders, "SET lock_timeout = '2s';\nALTER TABLE orders DISABLE TRIGGER ALL;\n"},
			risk: Dangerous, rule: "drop-or-toggle-trigger", says: "(orders was created by migration 1.sql of this change)"},
		{name: "domain of the change used by a history table", history: []string{orders},
			change: []string{"CREATE DOMAIN note_text AS text;\n", "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN remark note_text;\n", "ALTER DOMAIN note_text ADD CONSTRAINT short CHECK (length(VALUE) < 100);\n"},
			risk:   Dangerous, rule: "domain-constraint"},
		// PostgreSQL before 12 refuses ADD VALUE in a transaction block unless the type was created in it.
		{name: "enum of the change, another transaction", change: []string{"CREATE TYPE mood AS ENUM ('sad');\n", "ALTER TYPE mood ADD VALUE 'happy';\n"},
			pg: 11, risk: Dangerous, rule: "enum-add-value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			seq := NewSequence(Config{PGVersion: tt.pg})
			for i, src := range tt.history {
				seq.AnalyzeScript(&migrate.Script{File: "h" + string(rune('1'+i)) + ".sql", SQL: src, Statements: sqlparse.Parse(src)}, true)
			}
			seq.StartChange()
			var got []Finding
			for i, src := range tt.change {
				got = seq.AnalyzeScript(&migrate.Script{File: string(rune('1'+i)) + ".sql", SQL: src, Statements: sqlparse.Parse(src)}, true)
			}
			if h := Highest(got); h != tt.risk {
				t.Errorf("risk %s, want %s: %v", h, tt.risk, got)
			}
			if tt.absent != "" && find(got, tt.absent) != nil {
				t.Errorf("%s raised: %v", tt.absent, got)
			}
			if tt.rule == "" {
				return
			}
			f := find(got, tt.rule)
			switch {
			case f == nil:
				t.Errorf("%s missing: %v", tt.rule, got)
			case !strings.Contains(f.Message, tt.says):
				t.Errorf("%s says %q, want it to contain %q", tt.rule, f.Message, tt.says)
			}
		})
	}
}

// TestChangeCreatedConfig: Config.ChangeCreated, as the rehearsal gives it with the catalog as Schema,
// exempts what an earlier new migration created; without it the table is pre-existing, and a migration
// judged alone (lint FILE) knows nothing of the change.
func TestChangeCreatedConfig(t *testing.T) {
	t.Parallel()
	const schema = "CREATE TABLE public.orders (id bigint NOT NULL, customer_id bigint);\n"
	src := script("CREATE INDEX orders_customer_idx ON orders (customer_id);\nALTER TABLE orders ADD COLUMN at timestamptz DEFAULT clock_timestamp();\n")
	got := AnalyzeScript(src, true, Config{Schema: schema, ChangeCreated: map[string]string{"public.orders": "10_create_orders"}})
	if h := Highest(got); h != Safe {
		t.Errorf("created by an earlier new migration: risk %s, want safe: %v", h, got)
	}
	for _, cfg := range []Config{{Schema: schema}, {}} {
		got := AnalyzeScript(src, true, cfg)
		if find(got, "create-index-blocking") == nil || find(got, "add-column-volatile-default") == nil || Highest(got) != Dangerous {
			t.Errorf("schema %q: want create-index-blocking and add-column-volatile-default, dangerous: %v", cfg.Schema, got)
		}
	}
}
