package schema

import (
	"slices"
	"strings"
	"testing"
)

// pubShop is shop with a publication app_pub of orders (two columns, rows with a positive id) and
// users, for inserts and updates, and a publication all_pub FOR ALL TABLES.
func pubShop() *Catalog {
	c := shop()
	c.Publications["app_pub"] = &Publication{OID: 970, Name: "app_pub", Publish: []string{"insert", "update"},
		Tables: map[string]PublishedTable{"public.orders": {Columns: []string{"id", "note"}, Where: "(id > 0)"}, "public.users": {}},
		Owner:  "app", Comment: "cdc"}
	c.Publications["all_pub"] = &Publication{OID: 971, Name: "all_pub", AllTables: true,
		Publish: []string{"insert", "update", "delete", "truncate"}, Owner: "app"}
	return c
}

// TestComparePublications: each table of a publication compares on its own (what it publishes of it),
// a renamed table stays the same table of the publication, and a publication renamed is one (the
// sentences after its rename name it as it is now, as for every renamed object).
func TestComparePublications(t *testing.T) {
	before, after := pubShop(), pubShop()
	p := after.Publications["app_pub"]
	delete(after.Publications, "app_pub")
	p.Name = "app_pub2"
	after.Publications["app_pub2"] = p
	p.Tables = map[string]PublishedTable{"public.orders": {Where: "(id > 0)"}, "public.items": {Columns: []string{"id"}}}
	p.Publish = []string{"insert"}
	p.ViaRoot = true
	p.Schemas = []string{"audit"}
	after.Publications["all_pub"].AllTables = false
	after.Publications["new_pub"] = &Publication{OID: 972, Name: "new_pub"}
	got := Describe(Compare(before, after), DownPhrasing)
	want := []string{
		"publication new_pub is left behind by the down",
		"publication all_pub is not FOR ALL TABLES after the down, was FOR ALL TABLES",
		"publication app_pub is named app_pub2 after the down",
		"publication app_pub2 publishes insert after the down, was insert, update",
		"publication app_pub2 has publish_via_partition_root on after the down, was off",
		"publication app_pub2 publishes columns (id) of table items after the down, did not before",
		"publication app_pub2 publishes all columns WHERE (id > 0) of table orders after the down, was columns (id, note) WHERE (id > 0)",
		"publication app_pub2 publishes the tables in schema audit after the down, did not before",
		"publication app_pub2 no longer publishes table users after the down",
	}
	checkSentences(t, "publications", got, want)

	// The table renamed: the rename is the one difference.
	before, after = pubShop(), pubShop()
	o := after.Tables["public.orders"]
	delete(after.Tables, "public.orders")
	o.Name = "purchases"
	after.Tables["public.purchases"] = o
	for _, x := range after.Constraints {
		if x.Table == "orders" {
			x.Table = "purchases"
		}
	}
	ap := after.Publications["app_pub"]
	ap.Tables["public.purchases"] = ap.Tables["public.orders"]
	delete(ap.Tables, "public.orders")
	got = Describe(Compare(before, after), DownPhrasing)
	if slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "publication") }) {
		t.Errorf("a renamed table is the same table of the publication: got\n%s", strings.Join(got, "\n"))
	}
}

// TestCompareColumnOrder: a column compares by its rank among the table's live columns; the holes of
// dropped columns alone are no difference, and a column only one side has moves no other.
func TestCompareColumnOrder(t *testing.T) {
	cols := func(names ...string) []*Column {
		var out []*Column
		for i, n := range names {
			num, name, _ := strings.Cut(n, ":")
			if name == "" {
				name, num = num, ""
			}
			c := &Column{Num: i + 1, Name: name, Type: "integer"}
			if num != "" {
				c.Num = int(num[0] - '0')
			}
			out = append(out, c)
		}
		return out
	}
	tests := []struct {
		name          string
		before, after []*Column
		want          []string
	}{
		{name: "holes of dropped columns", before: cols("1:a", "2:b", "3:c"), after: cols("1:a", "3:b", "5:c")},
		{name: "re-added at the end", before: cols("a", "b", "c"), after: cols("1:a", "3:c", "4:b"),
			want: []string{"column t.b is column 3 after the down, was column 2", "column t.c is column 2 after the down, was column 3"}},
		{name: "rebuilt in another order", before: cols("a", "b", "c"), after: cols("3:b", "4:c", "5:a"),
			want: []string{"column t.a is column 3 after the down, was column 1", "column t.b is column 1 after the down, was column 2",
				"column t.c is column 2 after the down, was column 3"}},
		{name: "a column not restored", before: cols("a", "b", "c"), after: cols("1:a", "3:c"),
			want: []string{"column t.b is not restored by the down"}},
		{name: "a column left behind", before: cols("a", "b"), after: cols("1:a", "3:x", "4:b"),
			want: []string{"column t.x is left behind by the down"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, after := NewCatalog(), NewCatalog()
			before.Tables["public.t"] = &Table{OID: 10, Schema: "public", Name: "t", Columns: tc.before}
			after.Tables["public.t"] = &Table{OID: 10, Schema: "public", Name: "t", Columns: tc.after}
			checkSentences(t, tc.name, Describe(Compare(before, after), DownPhrasing), tc.want)
		})
	}
}

// TestGenerateDownPublications: a renamed publication is renamed back, what the up took out of one is
// put back and what it added taken out (before the tables and columns the down drops), its options and
// comment restored; a publication the up added is dropped, one whose FOR ALL TABLES changed created
// again.
func TestGenerateDownPublications(t *testing.T) {
	before, after := pubShop(), pubShop()
	p := after.Publications["app_pub"]
	delete(after.Publications, "app_pub")
	p.Name = "app_pub2"
	after.Publications["app_pub2"] = p
	after.Tables["public.items"] = &Table{OID: 500, Schema: "public", Name: "items", Columns: []*Column{{Num: 1, Name: "id", Type: "integer"}}}
	p.Tables = map[string]PublishedTable{"public.orders": {Where: "(id > 0)"}, "public.items": {}}
	p.Publish, p.ViaRoot, p.Comment = []string{"insert"}, true, ""
	after.Publications["all_pub"] = &Publication{OID: 973, Name: "all_pub", Tables: map[string]PublishedTable{"public.users": {}},
		Publish: []string{"insert", "update", "delete", "truncate"}, Owner: "app"}
	after.Publications["new_pub"] = &Publication{OID: 974, Name: "new_pub", Schemas: []string{"public"}}
	want := []string{
		"ALTER PUBLICATION app_pub2 RENAME TO app_pub",
		"DROP PUBLICATION all_pub",
		"ALTER PUBLICATION app_pub DROP TABLE orders",
		"DROP PUBLICATION new_pub",
		"DROP TABLE items",
		"CREATE PUBLICATION all_pub FOR ALL TABLES WITH (publish = 'insert, update, delete, truncate', publish_via_partition_root = false)",
		"ALTER PUBLICATION app_pub ADD TABLE orders (id, note) WHERE (id > 0)",
		"ALTER PUBLICATION app_pub ADD TABLE users",
		"ALTER PUBLICATION app_pub SET (publish = 'insert, update', publish_via_partition_root = false)",
		"COMMENT ON PUBLICATION app_pub IS 'cdc'",
		"ALTER PUBLICATION all_pub OWNER TO app",
	}
	if got := sqls(GenerateDown(before, after)); !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestGenerateDownColumnOrder: a column re-added comes last; where that moves it, the down says the
// order is not restored. Re-adding the last column moves nothing.
func TestGenerateDownColumnOrder(t *testing.T) {
	before, after := shop(), shop()
	o := after.Tables["public.orders"]
	o.Columns = slices.Delete(o.Columns, 1, 2) // user_id
	delete(after.Constraints, "public.orders.orders_user_fk")
	d := GenerateDown(before, after)
	if d.Reversible() {
		t.Fatalf("want an irreversible step\n%s", d.SQL)
	}
	want := "not restored: the column order of orders (user_id is column 3 after this down, was column 2; note is column 2 after this down, " +
		"was column 3); ADD COLUMN puts a column last and no statement moves one (re-create table orders to restore it)"
	if !slices.Contains(d.Warnings, want) {
		t.Errorf("warnings %q, want %q", d.Warnings, want)
	}

	before, after = shop(), shop()
	o = after.Tables["public.orders"]
	o.Columns = o.Columns[:2] // note, the last one
	if d := GenerateDown(before, after); !d.Reversible() {
		t.Errorf("re-adding the last column keeps the order\n%s", d.SQL)
	}
}

// TestGenerateDownPublishedColumnRenamed: a column renamed back takes the publication's column list and
// row filter with it (PostgreSQL keeps them by attribute number): the table stays in the publication.
func TestGenerateDownPublishedColumnRenamed(t *testing.T) {
	before, after := pubShop(), pubShop()
	after.Tables["public.orders"].Column("note").Name = "remark"
	after.Tables["public.orders"].Column("id").Name = "order_id"
	after.Publications["app_pub"].Tables["public.orders"] = PublishedTable{Columns: []string{"order_id", "remark"}, Where: "(order_id > 0)"}
	want := []string{"ALTER TABLE orders RENAME COLUMN order_id TO id", "ALTER TABLE orders RENAME COLUMN remark TO note"}
	if got := sqls(GenerateDown(before, after)); !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestFilterPublications: the ignore list takes its tables and schemas out of a publication too, in a
// copy (catalogs read incrementally share their objects).
func TestFilterPublications(t *testing.T) {
	c := NewCatalog()
	p := &Publication{Name: "p", Tables: map[string]PublishedTable{"public.schema_migrations": {}, "public.orders": {}},
		Schemas: []string{"public", "sqitch"}}
	c.Publications["p"] = p
	got := c.Filter(DefaultIgnore).Publications["p"]
	if !slices.Equal(sortedKeys(got.Tables), []string{"public.orders"}) || !slices.Equal(got.Schemas, []string{"public"}) {
		t.Errorf("filtered publication: tables %v, schemas %v", sortedKeys(got.Tables), got.Schemas)
	}
	if len(p.Tables) != 2 || len(p.Schemas) != 2 {
		t.Errorf("the catalog's publication was changed in place: %+v", p)
	}
}
