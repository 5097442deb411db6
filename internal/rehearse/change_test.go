package rehearse_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestTableOfTheChange: migration 2 indexes, alters (a volatile default rewrites the table) and sets
// NOT NULL (a scan) on the table migration 1 creates. When both are new migrations of the change (a
// base without them), the table is new to migration 2 as it would be to migration 1: neither the rules
// nor the trace's locks, rewrite and scan make it risky. When migration 1 is history (at --base), the
// table is pre-existing and migration 2 is dangerous, as before; and so it is without a base, where
// which migrations deploy together is unknown.
func TestTableOfTheChange(t *testing.T) {
	dir := t.TempDir()
	for name, sql := range map[string]string{
		"1_orders.up.sql":   "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, note text);\n",
		"1_orders.down.sql": "DROP TABLE orders;\n",
		"2_orders_customer.up.sql": "CREATE INDEX orders_customer_idx ON orders (customer_id);\n" +
			"ALTER TABLE orders ADD COLUMN created_at timestamptz DEFAULT clock_timestamp();\n" +
			"ALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n",
		"2_orders_customer.down.sql": "ALTER TABLE orders ALTER COLUMN note DROP NOT NULL;\nALTER TABLE orders DROP COLUMN created_at;\nDROP INDEX orders_customer_idx;\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set := readDir(t, dir, migrate.FormatGolangMigrate)
	p := provider(t)
	for _, tt := range []struct {
		name string
		base *migrate.Set
		risk lint.Risk
		want []string // rules migration 2 raises
	}{
		{name: "both new", base: &migrate.Set{Format: set.Format}, risk: lint.Safe},
		{name: "no base", risk: lint.Dangerous, want: []string{"create-index-blocking", "add-column-volatile-default", "set-not-null"}},
		{name: "1 is history", base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}, risk: lint.Dangerous,
			want: []string{"create-index-blocking", "add-column-volatile-default", "set-not-null"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: tt.base, Provider: p, Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			m := migration(t, rep, "2")
			if m.Status != report.StatusApplied || m.Risk != tt.risk {
				t.Errorf("migration 2: status %s, risk %s, want applied, %s: %v", m.Status, m.Risk, tt.risk, m.Findings)
			}
			for _, rule := range tt.want {
				found := false
				for _, f := range m.Findings {
					found = found || f.Rule == rule
				}
				if !found {
					t.Errorf("migration 2: no %s: %v", rule, m.Findings)
				}
			}
			if tt.risk == lint.Safe {
				for _, f := range m.Findings {
					if f.Risk > lint.Safe {
						t.Errorf("migration 2: %s", f)
					}
				}
			}
		})
	}
}
