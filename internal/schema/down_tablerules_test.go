package schema

import (
	"testing"
)

// TestGenerateDownTableRules: a table's rules go back in the order their dependencies want, as a
// view's do: one the up added or changed is dropped before the table, column or view it names that the
// up added too, and one the up dropped comes back once its table and what it names are there again.
func TestGenerateDownTableRules(t *testing.T) {
	const ins = "CREATE RULE orders_ins AS\n    ON INSERT TO public.orders DO INSTEAD  INSERT INTO public.items (id)\n  VALUES (new.id);"
	const del = "CREATE RULE orders_del AS\n    ON DELETE TO public.orders\n   WHERE (old.extra > 0) DO INSTEAD NOTHING;"
	const upd = "CREATE RULE \"orders Upd\" AS\n    ON UPDATE TO public.orders DO ALSO  INSERT INTO public.user_orders (id)\n  VALUES (new.id);"
	items := func() *Table {
		return &Table{OID: 700, Schema: "public", Name: "items", Columns: []*Column{{Num: 1, Name: "id", Type: "integer"}}}
	}
	inOrder := func(t *testing.T, d *DownScript, steps ...string) {
		t.Helper()
		last := -1
		for _, p := range steps {
			i := stepIndex(d, p)
			if i <= last {
				t.Fatalf("step %q at %d, want after %d\n%s", p, i, last, d.SQL)
			}
			last = i
		}
	}

	// The up added items, a column, and rules on orders that write to the one and read the other.
	before, after := shop(), shop()
	after.Tables["public.items"] = items()
	after.Tables["public.orders"].Columns = append(after.Tables["public.orders"].Columns, &Column{Num: 4, Name: "extra", Type: "integer"})
	after.Tables["public.orders"].Rules = del + "\n" + ins
	d := GenerateDown(before, after)
	inOrder(t, d, "DROP RULE orders_ins ON orders", "DROP TABLE items")
	inOrder(t, d, "DROP RULE orders_del ON orders", "ALTER TABLE orders DROP COLUMN extra")

	// The up changed a rule to write to a table it added.
	before, after = shop(), shop()
	before.Tables["public.orders"].Rules = upd
	after.Tables["public.items"] = items()
	after.Tables["public.orders"].Rules = "CREATE RULE \"orders Upd\" AS\n    ON UPDATE TO public.orders DO ALSO  INSERT INTO public.items (id)\n  VALUES (new.id);"
	d = GenerateDown(before, after)
	inOrder(t, d, `DROP RULE "orders Upd" ON orders`, "DROP TABLE items", `CREATE RULE "orders Upd"`)

	// The up dropped items and the view with the rules that write to them: both come back, then the rules.
	before, after = shop(), shop()
	before.Tables["public.items"] = items()
	before.Tables["public.orders"].Rules = upd + "\n" + ins
	delete(after.Views, "public.user_orders")
	d = GenerateDown(before, after)
	inOrder(t, d, "CREATE TABLE items", "CREATE VIEW user_orders", `CREATE RULE "orders Upd"`)
	inOrder(t, d, "CREATE TABLE items", "CREATE VIEW user_orders", "CREATE RULE orders_ins")

	// The up dropped orders: it comes back, then its rules.
	before, after = shop(), shop()
	before.Tables["public.orders"].Rules = upd
	delete(after.Tables, "public.orders")
	delete(after.Constraints, "public.orders.orders_user_fk")
	delete(after.Views, "public.user_orders")
	d = GenerateDown(before, after)
	inOrder(t, d, "CREATE TABLE orders", "CREATE VIEW user_orders", `CREATE RULE "orders Upd"`)
}
