package schema

import (
	"strings"
	"testing"
)

// TestGenerateDownTablespaces: a table, an index (a constraint's too) and a materialized view the up
// moved to another tablespace go back where they were (the database's default, pg_default, when the
// catalog names none), and those the down creates again are moved to theirs once created.
func TestGenerateDownTablespaces(t *testing.T) {
	mv := func() *View {
		return &View{OID: 310, Schema: "public", Name: "mv", Materialized: true, Definition: " SELECT id FROM orders;",
			Columns: []string{"id integer"}, DependsOn: []string{"public.orders"}}
	}
	before, after := shop(), shop()
	before.Views["public.mv"], after.Views["public.mv"] = mv(), mv()
	before.Tables["public.users"].Tablespace = "ts1"
	after.Tables["public.orders"].Tablespace = "ts1"
	after.Indexes["public.users_pkey"].Tablespace = "ts2"
	after.Views["public.mv"].Tablespace = "ts1"
	d := GenerateDown(before, after)
	for _, want := range []string{"ALTER TABLE orders SET TABLESPACE pg_default", "ALTER TABLE users SET TABLESPACE ts1",
		"ALTER INDEX users_pkey SET TABLESPACE pg_default", "ALTER MATERIALIZED VIEW mv SET TABLESPACE pg_default"} {
		if stepIndex(d, want) < 0 {
			t.Errorf("no step %q in\n%s", want, d.SQL)
		}
	}

	// Dropped by the up: created again, then moved (CREATE TABLE and CREATE INDEX as the catalog writes
	// them name no tablespace).
	before = shop()
	before.Views["public.mv"] = mv()
	before.Views["public.mv"].Tablespace = "ts1"
	before.Indexes["public.orders_note_idx"] = &Index{OID: 800, Schema: "public", Table: "orders", Name: "orders_note_idx",
		Definition: "CREATE INDEX orders_note_idx ON public.orders USING btree (note)", Valid: true, Tablespace: "ts2"}
	before.Tables["public.orders"].Tablespace = "ts1"
	after = shop()
	delete(after.Tables, "public.orders")
	delete(after.Constraints, "public.orders.orders_user_fk")
	delete(after.Views, "public.user_orders")
	d = GenerateDown(before, after)
	for _, pair := range [][2]string{{"CREATE TABLE orders", "ALTER TABLE orders SET TABLESPACE ts1"},
		{"CREATE INDEX orders_note_idx", "ALTER INDEX orders_note_idx SET TABLESPACE ts2"},
		{"CREATE MATERIALIZED VIEW mv", "ALTER MATERIALIZED VIEW mv SET TABLESPACE ts1"}} {
		if c, m := stepIndex(d, pair[0]), stepIndex(d, pair[1]); c < 0 || m <= c {
			t.Errorf("want %q after %q (at %d, %d) in\n%s", pair[1], pair[0], m, c, d.SQL)
		}
	}
	if strings.Contains(d.SQL, "SET TABLESPACE pg_default") {
		t.Errorf("nothing was in the default tablespace to move back:\n%s", d.SQL)
	}
	// Nothing moved: no step.
	if d := GenerateDown(before, before); !d.Empty() {
		t.Errorf("down of no change:\n%s", d.SQL)
	}
}
