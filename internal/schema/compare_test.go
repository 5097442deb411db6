package schema

import (
	"slices"
	"strings"
	"testing"
)

// shop is a small catalog built by hand: users and orders, a view, an index and an enum.
func shop() *Catalog {
	c := NewCatalog()
	c.Schemas["public"] = &Schema{OID: 2200, Name: "public"}
	c.Tables["public.users"] = &Table{OID: 100, Schema: "public", Name: "users", Columns: []*Column{
		{Num: 1, Name: "id", Type: "bigint", NotNull: true, Identity: "always"},
		{Num: 2, Name: "email", Type: "text", NotNull: true},
	}}
	c.Tables["public.orders"] = &Table{OID: 200, Schema: "public", Name: "orders", Columns: []*Column{
		{Num: 1, Name: "id", Type: "integer", NotNull: true},
		{Num: 2, Name: "user_id", Type: "bigint"},
		{Num: 3, Name: "note", Type: "text"},
	}}
	c.Constraints["public.users.users_pkey"] = &Constraint{OID: 101, Schema: "public", Table: "users", Name: "users_pkey",
		Type: "p", Definition: "PRIMARY KEY (id)", Validated: true}
	c.Indexes["public.users_pkey"] = &Index{OID: 102, Schema: "public", Table: "users", Name: "users_pkey",
		Definition: "CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)", Valid: true, Unique: true,
		Primary: true, Constraint: "users_pkey"}
	c.Constraints["public.orders.orders_user_fk"] = &Constraint{OID: 201, Schema: "public", Table: "orders",
		Name: "orders_user_fk", Type: "f", Definition: "FOREIGN KEY (user_id) REFERENCES users(id)", Validated: true,
		References: "public.users"}
	c.Views["public.user_orders"] = &View{OID: 300, Schema: "public", Name: "user_orders",
		Definition: " SELECT u.email, o.id FROM users u JOIN orders o ON o.user_id = u.id;",
		Columns:    []string{"email text", "id integer"}, DependsOn: []string{"public.orders", "public.users"}}
	c.Enums["public.status"] = &Enum{OID: 400, Schema: "public", Name: "status", Values: []string{"new", "paid"},
		ValueOIDs: []uint32{401, 402}}
	return c
}

func TestCompareIdenticalIsEmpty(t *testing.T) {
	if d := Compare(shop(), shop()); !d.Empty() {
		t.Fatalf("diff of equal catalogs: %+v", d)
	}
}

func TestCompareGroupsByTable(t *testing.T) {
	before, after := shop(), shop()
	after.Tables["public.orders"].Columns[2].Type = "character varying(20)"
	after.Tables["public.orders"].Columns = append(after.Tables["public.orders"].Columns,
		&Column{Num: 4, Name: "total", Type: "numeric"})
	after.Indexes["public.users_email_idx"] = &Index{OID: 103, Schema: "public", Table: "users", Name: "users_email_idx",
		Definition: "CREATE INDEX users_email_idx ON public.users USING btree (email)", Valid: true}
	after.Tables["public.items"] = &Table{OID: 500, Schema: "public", Name: "items", Columns: []*Column{{Num: 1, Name: "id", Type: "integer"}}}
	after.Constraints["public.orders.orders_user_fk"].Validated = false
	delete(after.Views, "public.user_orders")
	after.Enums["public.status"].Values = append(after.Enums["public.status"].Values, "shipped")

	d := Compare(before, after)
	var added []string
	for _, c := range d.Added {
		added = append(added, c.Kind+" "+c.Name)
	}
	wantAdded := []string{"table public.items", "column public.orders.total", "index public.users_email_idx"}
	if !slices.Equal(added, wantAdded) {
		t.Errorf("added = %q, want %q", added, wantAdded)
	}
	if len(d.Removed) != 1 || d.Removed[0].Kind != KindView || d.Removed[0].Name != "public.user_orders" {
		t.Errorf("removed = %+v", d.Removed)
	}
	var changed []string
	for _, c := range d.Changed {
		for _, p := range c.Properties {
			changed = append(changed, c.Name+" "+p.Property+": "+p.Old+" -> "+p.New)
		}
	}
	wantChanged := []string{
		"public.orders.note type: text -> character varying(20)",
		"public.orders.orders_user_fk validated: true -> false",
		"public.status values: ('new', 'paid') -> ('new', 'paid', 'shipped')",
	}
	if !slices.Equal(changed, wantChanged) {
		t.Errorf("changed = %q, want %q", changed, wantChanged)
	}
	if d.Changed[1].Table != "public.orders" {
		t.Errorf("constraint change not grouped under its table: %+v", d.Changed[1])
	}
}

func TestDescribeRoundTripSentences(t *testing.T) {
	before, afterDown := shop(), shop()
	afterDown.Indexes["public.users_email_idx"] = &Index{OID: 103, Schema: "public", Table: "users", Name: "users_email_idx",
		Definition: "CREATE INDEX users_email_idx ON public.users USING btree (email)", Valid: true}
	delete(afterDown.Views, "public.user_orders")
	afterDown.Tables["public.orders"].Columns[2].Type = "character varying(20)"
	afterDown.Tables["public.users"].Columns[1].NotNull = false
	afterDown.Constraints["public.orders.orders_user_fk"].Validated = false
	afterDown.Tables["public.archive"] = &Table{OID: 600, Schema: "public", Name: "archive", Columns: []*Column{{Num: 1, Name: "id", Type: "integer"}}}
	afterDown.Indexes["public.archive_pkey"] = &Index{OID: 601, Schema: "public", Table: "archive", Name: "archive_pkey", Valid: true}

	got := Describe(Compare(before, afterDown), DownPhrasing)
	want := []string{
		"table archive is left behind by the down",
		"index users_email_idx is left behind by the down",
		"view user_orders is not restored by the down",
		"column orders.note is varchar(20) after the down, was text",
		"constraint orders_user_fk on orders is NOT VALID after the down, was validated",
		"column users.email is nullable after the down, was NOT NULL",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	got = Describe(Compare(before, afterDown), ReUpPhrasing)
	if !slices.Contains(got, "column orders.note is varchar(20) after re-up, was text") ||
		!slices.Contains(got, "view user_orders is missing after re-up") {
		t.Errorf("re-up sentences: %q", got)
	}
}

func TestCompareRecognisesRenames(t *testing.T) {
	before, after := shop(), shop()
	o := after.Tables["public.orders"]
	delete(after.Tables, "public.orders")
	o.Name = "purchases"
	o.Columns[2].Name = "remark"
	after.Tables["public.purchases"] = o
	got := Describe(Compare(before, after), DownPhrasing)
	want := []string{
		"table orders is named purchases after the down",
		"column purchases.note is named remark after the down",
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing %q in %q", w, got)
		}
	}
	// Without OIDs (catalogs of two databases) a rename is a removal and an addition.
	b2, a2 := shop(), shop()
	a2.Tables["public.orders"].OID = 999
	a2.Tables["public.orders"].Columns[2].Name = "remark"
	got = Describe(Compare(b2, a2), DownPhrasing)
	if !slices.Contains(got, "column orders.remark is left behind by the down") ||
		!slices.Contains(got, "column orders.note is not restored by the down") {
		t.Errorf("got %q", got)
	}
}

func TestFilterIgnoresBookkeeping(t *testing.T) {
	c := shop()
	c.Tables["public.schema_migrations"] = &Table{Schema: "public", Name: "schema_migrations"}
	c.Tables["public.schemagate_lock"] = &Table{Schema: "public", Name: "schemagate_lock"}
	c.Tables["sqitch.changes"] = &Table{Schema: "sqitch", Name: "changes"}
	c.Schemas["sqitch"] = &Schema{Name: "sqitch"}
	c.Indexes["public.schema_migrations_pkey"] = &Index{Schema: "public", Table: "schema_migrations", Name: "schema_migrations_pkey"}
	c.Filter(DefaultIgnore)
	if len(c.Tables) != 2 || c.Schemas["sqitch"] != nil || c.Indexes["public.schema_migrations_pkey"] != nil {
		t.Errorf("left: tables %v, schemas %v", sortedKeys(c.Tables), sortedKeys(c.Schemas))
	}
	c.Filter(Ignore{Tables: []string{"public.orders"}})
	if c.Tables["public.orders"] != nil || c.Constraints["public.orders.orders_user_fk"] != nil {
		t.Errorf("qualified ignore pattern not applied")
	}
}

func TestIdent(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "users", "users"},
		{"digits", "t1_x", "t1_x"},
		{"upper", "Users", `"Users"`},
		{"keyword", "order", `"order"`},
		{"space", "a b", `"a b"`},
		{"quote", `a"b`, `"a""b"`},
		{"leading digit", "1a", `"1a"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Ident(tc.in); got != tc.want {
				t.Errorf("Ident(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
	if got := Literal("it's"); got != "'it''s'" {
		t.Errorf("Literal = %s", got)
	}
}

func TestDescribeMigrationAndLongValues(t *testing.T) {
	before, after := shop(), shop()
	before.Functions["public.f()"] = &Function{Schema: "public", Name: "f", Kind: "f", Definition: "CREATE FUNCTION f()\nRETURNS int\nAS 'select 1'"}
	after.Functions["public.f()"] = &Function{Schema: "public", Name: "f", Kind: "f", Definition: "CREATE FUNCTION f()\nRETURNS int\nAS 'select 2'"}
	after.Tables["public.users"].Unlogged = true
	delete(after.Enums, "public.status")
	got := Describe(Compare(before, after), MigrationPhrasing)
	want := []string{
		"enum status is dropped",
		`table users has unlogged true after the migration, was false`,
		`function f() has its definition changed after the migration: "AS 'select 2'", was "AS 'select 1'"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
