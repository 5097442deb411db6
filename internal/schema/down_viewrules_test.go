package schema

import (
	"testing"
)

// TestGenerateDownViewRules: a view's rules (not _RETURN, its definition) go back as a table's do, in
// the order their dependencies want: one the up added is dropped before the table it writes to, one the
// up dropped or changed is created again after the view (and the tables it names) exist, with its
// comment.
func TestGenerateDownViewRules(t *testing.T) {
	const ins = "CREATE RULE uo_ins AS\n    ON INSERT TO public.user_orders DO INSTEAD  INSERT INTO public.items (id)\n  VALUES (new.id);"
	const del = "CREATE RULE uo_del AS\n    ON DELETE TO public.user_orders DO INSTEAD NOTHING;"
	items := func() *Table {
		return &Table{OID: 700, Schema: "public", Name: "items", Columns: []*Column{{Num: 1, Name: "id", Type: "integer"}}}
	}
	// The up added items and a rule on the view that writes to it.
	before, after := shop(), shop()
	after.Tables["public.items"] = items()
	after.Views["public.user_orders"].Rules = ins
	d := GenerateDown(before, after)
	if r, tb := stepIndex(d, "DROP RULE uo_ins ON user_orders"), stepIndex(d, "DROP TABLE items"); r < 0 || tb <= r {
		t.Errorf("want the rule dropped (at %d) before the table it writes to (at %d):\n%s", r, tb, d.SQL)
	}

	// The up dropped the rule (with its comment) and the table; and changed another.
	before, after = shop(), shop()
	before.Tables["public.items"] = items()
	before.Views["public.user_orders"].Rules = del + "\n" + ins
	before.Views["public.user_orders"].RuleComments = map[string]string{"uo_ins": "writes go to items"}
	after.Views["public.user_orders"].Rules = "CREATE RULE uo_del AS\n    ON DELETE TO public.user_orders DO ALSO NOTHING;"
	d = GenerateDown(before, after)
	order := []string{"DROP RULE uo_del ON user_orders", "CREATE TABLE items", "CREATE RULE uo_del", "CREATE RULE uo_ins",
		"COMMENT ON RULE uo_ins ON user_orders IS 'writes go to items'"}
	last := -1
	for _, p := range order {
		i := stepIndex(d, p)
		if i <= last {
			t.Fatalf("step %q at %d, want after %d\n%s", p, i, last, d.SQL)
		}
		last = i
	}

	// The up dropped the view: it comes back, then its rules.
	after = shop()
	after.Tables["public.items"] = items()
	delete(after.Views, "public.user_orders")
	d = GenerateDown(before, after)
	if v, r := stepIndex(d, "CREATE VIEW user_orders"), stepIndex(d, "CREATE RULE uo_ins"); v < 0 || r <= v {
		t.Errorf("want the rule created (at %d) after the view (at %d):\n%s", r, v, d.SQL)
	}
	if stepIndex(d, "COMMENT ON RULE uo_ins ON user_orders IS 'writes go to items'") < 0 {
		t.Errorf("no comment on the re-created rule:\n%s", d.SQL)
	}

	// A comment changed alone.
	after = shop()
	after.Tables["public.items"] = items()
	after.Views["public.user_orders"].Rules = before.Views["public.user_orders"].Rules
	d = GenerateDown(before, after)
	if len(d.Steps) != 1 || d.Steps[0].SQL != "COMMENT ON RULE uo_ins ON user_orders IS 'writes go to items'" {
		t.Errorf("want only the comment back:\n%s", d.SQL)
	}
}
