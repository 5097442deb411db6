package rehearse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestColumnOrderIsACautionNotAFailure: the canonical down of a DROP COLUMN adds the column back, last.
// The catalog is the same but for the order of the columns: the round trip passes, and a column-order
// finding (caution) says what SELECT * and INSERT without a column list now see. A down that also gets
// the column's type wrong still fails, for the type.
func TestColumnOrderIsACautionNotAFailure(t *testing.T) {
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_orders.up.sql":   "CREATE TABLE orders (id bigint PRIMARY KEY, note text, status text NOT NULL);",
		"1_orders.down.sql": "DROP TABLE orders;",
		"2_drop.up.sql":     "ALTER TABLE orders DROP COLUMN note;",
		"2_drop.down.sql":   "ALTER TABLE orders ADD COLUMN note text;",
		"3_drop.up.sql":     "ALTER TABLE orders DROP COLUMN status;",
		"3_drop.down.sql":   "ALTER TABLE orders ADD COLUMN status varchar(20) NOT NULL;",
	})
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	m := migration(t, rep, "2")
	if m.Roundtrip.Status != report.RoundtripOK {
		t.Fatalf("round trip of a down that only moves a column: %+v, want ok", m.Roundtrip)
	}
	var order *lint.Finding
	for i := range m.Findings {
		if m.Findings[i].Rule == "column-order" {
			order = &m.Findings[i]
		}
	}
	if order == nil || order.Risk != lint.Caution || !strings.Contains(order.Message, "column orders.note is column 3 after the down, was column 2") ||
		!strings.HasSuffix(order.File, "2_drop.down.sql") {
		t.Fatalf("column-order finding %+v in %+v", order, m.Findings)
	}
	if m.Risk < lint.Caution {
		t.Errorf("migration risk %s, want at least caution", m.Risk)
	}
	// The type is wrong too: that fails the round trip; the order is still only the finding.
	m3 := migration(t, rep, "3")
	if m3.Roundtrip.Status != report.RoundtripFailed || !containsAll(m3.Roundtrip.Problems, "status") || containsAll(m3.Roundtrip.Problems, "column 3") {
		t.Fatalf("round trip of a down with the wrong type: %+v", m3.Roundtrip)
	}
}
