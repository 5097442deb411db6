package schema

import (
	"testing"
)

// TestGenerateDownExtensionMarks: a DEPENDS ON EXTENSION mark the up put on an index, a routine, a
// trigger or a materialized view is taken off before the extension the up created is dropped (which
// would drop the object with it); one the up took off, or lost with the object, is put back once the
// object and its extension are there again, a routine's also after CREATE OR REPLACE restores its
// definition (which takes the marks off).
func TestGenerateDownExtensionMarks(t *testing.T) {
	marked := func(c *Catalog, ext string) *Catalog {
		c.Indexes["public.users_pkey"].Extensions = ext
		c.Functions["public.f(integer)"].Extensions = ext
		c.Triggers["public.orders.orders_touch"].Extensions = ext
		c.Views["public.mv"].Extensions = ext
		return c
	}
	shopWith := func() *Catalog {
		c := shop()
		c.Functions["public.f(integer)"] = &Function{OID: 900, Schema: "public", Name: "f", Args: "integer", Kind: "f", Result: "integer",
			Definition: "CREATE OR REPLACE FUNCTION public.f(integer) RETURNS integer LANGUAGE sql AS $function$SELECT 1$function$"}
		c.Triggers["public.orders.orders_touch"] = &Trigger{OID: 901, Schema: "public", Table: "orders", Name: "orders_touch",
			Definition: "CREATE TRIGGER orders_touch BEFORE INSERT ON public.orders FOR EACH ROW EXECUTE FUNCTION f()", Enabled: "O"}
		c.Views["public.mv"] = &View{OID: 902, Schema: "public", Name: "mv", Materialized: true, Definition: " SELECT id FROM orders;",
			Columns: []string{"id integer"}, DependsOn: []string{"public.orders"}}
		return c
	}
	unmarks := []string{"ALTER FUNCTION f(integer) NO DEPENDS ON EXTENSION hstore",
		"ALTER MATERIALIZED VIEW mv NO DEPENDS ON EXTENSION hstore", "ALTER INDEX users_pkey NO DEPENDS ON EXTENSION hstore",
		"ALTER TRIGGER orders_touch ON orders NO DEPENDS ON EXTENSION hstore"}
	marks := []string{"ALTER FUNCTION f(integer) DEPENDS ON EXTENSION hstore",
		"ALTER MATERIALIZED VIEW mv DEPENDS ON EXTENSION hstore", "ALTER INDEX users_pkey DEPENDS ON EXTENSION hstore",
		"ALTER TRIGGER orders_touch ON orders DEPENDS ON EXTENSION hstore"}

	// The up created hstore and marked the four: unmarked, then the extension dropped.
	before, after := shopWith(), marked(shopWith(), "hstore")
	after.Extensions["hstore"] = &Extension{OID: 950, Name: "hstore", Version: "1.8", Schema: "public"}
	d := GenerateDown(before, after)
	drop := stepIndex(d, "DROP EXTENSION hstore")
	for _, want := range unmarks {
		if i := stepIndex(d, want); i < 0 || i >= drop {
			t.Errorf("want %q (at %d) before DROP EXTENSION hstore (at %d):\n%s", want, i, drop, d.SQL)
		}
	}

	// The up dropped hstore, which took the four with it: they come back marked, after the extension.
	before.Extensions["hstore"] = after.Extensions["hstore"]
	before = marked(before, "hstore")
	after = shopWith()
	delete(after.Functions, "public.f(integer)")
	delete(after.Triggers, "public.orders.orders_touch")
	delete(after.Views, "public.mv")
	delete(after.Indexes, "public.users_pkey")
	delete(after.Constraints, "public.users.users_pkey")
	delete(after.Constraints, "public.orders.orders_user_fk")
	d = GenerateDown(before, after)
	create := stepIndex(d, "CREATE EXTENSION IF NOT EXISTS hstore")
	for _, want := range marks {
		if i := stepIndex(d, want); i < 0 || i <= create {
			t.Errorf("want %q (at %d) after CREATE EXTENSION hstore (at %d):\n%s", want, i, create, d.SQL)
		}
	}

	// The up took the marks off (and replaced the function, the same body): they are put back, nothing else.
	d = GenerateDown(before, func() *Catalog { c := shopWith(); c.Extensions["hstore"] = before.Extensions["hstore"]; return c }())
	if len(d.Steps) != len(marks) {
		t.Errorf("want only the %d marks back:\n%s", len(marks), d.SQL)
	}
	// The up replaced the function with another body: restored by CREATE OR REPLACE, then marked.
	after = marked(shopWith(), "hstore")
	after.Extensions["hstore"] = before.Extensions["hstore"]
	after.Functions["public.f(integer)"].Definition = "CREATE OR REPLACE FUNCTION public.f(integer) RETURNS integer LANGUAGE sql AS $function$SELECT 2$function$"
	after.Functions["public.f(integer)"].Extensions = ""
	d = GenerateDown(before, after)
	if r, m := stepIndex(d, "CREATE OR REPLACE FUNCTION public.f(integer)"), stepIndex(d, marks[0]); r < 0 || m <= r {
		t.Errorf("want %q (at %d) after the function's definition (at %d):\n%s", marks[0], m, r, d.SQL)
	}
	// Nothing changed: nothing to do.
	if d := GenerateDown(before, before); !d.Empty() {
		t.Errorf("down of no change:\n%s", d.SQL)
	}
}
