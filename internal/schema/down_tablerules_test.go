package schema

import (
	"slices"
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

// TestGenerateDownTableRuleStatesAndComments: a table rule's state and comment go back, on a rule the
// down keeps (only what changed) as on one it creates again (which starts enabled, with no comment).
func TestGenerateDownTableRuleStatesAndComments(t *testing.T) {
	const ins = "CREATE RULE orders_ins AS\n    ON INSERT TO public.orders DO INSTEAD NOTHING;"
	const upd = "CREATE RULE \"orders Upd\" AS\n    ON UPDATE TO public.orders DO ALSO NOTHING;"
	const del = "CREATE RULE orders_del AS\n    ON DELETE TO public.orders DO INSTEAD NOTHING;"
	marked := func() *Catalog {
		c := shop()
		c.Tables["public.orders"].Rules = upd + "\n" + del + "\n" + ins
		c.Tables["public.orders"].RuleStates = map[string]string{"orders_ins": "disabled", "orders Upd": "enabled always", "orders_del": "enabled replica"}
		c.Tables["public.orders"].RuleComments = map[string]string{"orders_ins": "keeps rows out", "orders Upd": `it's "kept"`}
		return c
	}
	steps := func(d *DownScript) []string {
		var out []string
		for _, s := range d.Steps {
			out = append(out, s.SQL)
		}
		return out
	}

	// The up changed the states and comments alone: only they go back.
	after := marked()
	after.Tables["public.orders"].RuleStates = map[string]string{"orders_ins": "enabled replica"}
	after.Tables["public.orders"].RuleComments = map[string]string{"orders_del": "new"}
	d := GenerateDown(marked(), after)
	want := []string{
		`ALTER TABLE orders ENABLE ALWAYS RULE "orders Upd"`,
		"ALTER TABLE orders ENABLE REPLICA RULE orders_del",
		"ALTER TABLE orders DISABLE RULE orders_ins",
		`COMMENT ON RULE "orders Upd" ON orders IS 'it''s "kept"'`,
		"COMMENT ON RULE orders_del ON orders IS NULL",
		"COMMENT ON RULE orders_ins ON orders IS 'keeps rows out'",
	}
	if got := steps(d); !slices.Equal(got, want) {
		t.Errorf("steps:\n%q\nwant:\n%q", got, want)
	}

	// The up enabled every rule and took the comments off: a state of enabled is written too.
	before := shop()
	before.Tables["public.orders"].Rules = ins
	after = marked()
	after.Tables["public.orders"].Rules = ins
	d = GenerateDown(before, after)
	want = []string{"ALTER TABLE orders ENABLE RULE orders_ins", "COMMENT ON RULE orders_ins ON orders IS NULL"}
	if got := steps(d); !slices.Equal(got, want) {
		t.Errorf("steps:\n%q\nwant:\n%q", got, want)
	}

	// The up dropped one rule and replaced another (which keeps its state and comment): both are
	// created again, then given theirs.
	after = marked()
	after.Tables["public.orders"].Rules = upd + "\n" + "CREATE RULE orders_ins AS\n    ON INSERT TO public.orders DO ALSO NOTHING;"
	after.Tables["public.orders"].RuleStates = map[string]string{"orders_ins": "disabled", "orders Upd": "enabled always"}
	d = GenerateDown(marked(), after)
	for _, pair := range [][2]string{
		{"CREATE RULE orders_del", "ALTER TABLE orders ENABLE REPLICA RULE orders_del"},
		{"CREATE RULE orders_ins", "ALTER TABLE orders DISABLE RULE orders_ins"},
		{"CREATE RULE orders_ins", "COMMENT ON RULE orders_ins ON orders IS 'keeps rows out'"},
	} {
		if c, s := stepIndex(d, pair[0]), stepIndex(d, pair[1]); c < 0 || s <= c {
			t.Errorf("want %q (at %d) after %q (at %d):\n%s", pair[1], s, pair[0], c, d.SQL)
		}
	}
	if stepIndex(d, `ALTER TABLE orders ENABLE ALWAYS RULE "orders Upd"`) >= 0 || stepIndex(d, `COMMENT ON RULE "orders Upd"`) >= 0 {
		t.Errorf("the rule the up kept as it was is altered:\n%s", d.SQL)
	}

	// The up dropped the table: its rules come back with their states and comments.
	after = shop()
	delete(after.Tables, "public.orders")
	delete(after.Constraints, "public.orders.orders_user_fk")
	delete(after.Views, "public.user_orders")
	d = GenerateDown(marked(), after)
	for _, s := range []string{"ALTER TABLE orders DISABLE RULE orders_ins", `ALTER TABLE orders ENABLE ALWAYS RULE "orders Upd"`,
		"ALTER TABLE orders ENABLE REPLICA RULE orders_del", "COMMENT ON RULE orders_ins ON orders IS 'keeps rows out'",
		`COMMENT ON RULE "orders Upd" ON orders IS 'it''s "kept"'`} {
		if stepIndex(d, s) < 0 {
			t.Errorf("no %q:\n%s", s, d.SQL)
		}
	}
	if stepIndex(d, "COMMENT ON RULE orders_del") >= 0 {
		t.Errorf("a comment written for a rule that had none:\n%s", d.SQL)
	}
}
