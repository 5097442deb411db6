package schema

import (
	"slices"
	"strings"
	"testing"
)

// typedShop is shop with a domain, a composite type, a range type, a sequence and functions that use
// them, and columns of each type.
func typedShop() *Catalog {
	c := shop()
	c.Schemas["geo"] = &Schema{OID: 2300, Name: "geo"}
	c.Domains["public.positive"] = &Domain{OID: 500, Schema: "public", Name: "positive", BaseType: "integer",
		Constraints: map[string]string{"positive_check": "CHECK ((VALUE > 0))"}}
	c.Composites["public.address"] = &Composite{OID: 510, Schema: "public", Name: "address",
		Attributes: []*Attribute{{Num: 1, Name: "street", Type: "text"}, {Num: 2, Name: "city", Type: "text"}}}
	c.Sequences["public.invoice_no"] = &Sequence{OID: 520, Schema: "public", Name: "invoice_no", Type: "bigint",
		Start: 1, Increment: 1, Min: 1, Max: 1 << 62, Cache: 1}
	span := &RangeType{OID: 530, Schema: "public", Name: "span", Definition: "SUBTYPE = bigint, MULTIRANGE_TYPE_NAME = span_multirange"}
	for i, args := range []string{"bigint, bigint", "bigint, bigint, text"} {
		f := &Function{OID: uint32(531 + i), Schema: "public", Name: "span", Args: args, Kind: "f", Result: "span", Range: span}
		c.Functions[f.Signature()] = f
	}
	c.Tables["public.orders"].Columns = append(c.Tables["public.orders"].Columns,
		&Column{Num: 4, Name: "status", Type: "status", Default: "'new'::status"},
		&Column{Num: 5, Name: "qty", Type: "positive"},
		&Column{Num: 6, Name: "ship_to", Type: "address"},
		&Column{Num: 7, Name: "invoice", Type: "bigint", Default: "nextval('invoice_no'::regclass)"},
		&Column{Num: 8, Name: "span", Type: "span"})
	c.Constraints["public.orders.orders_status_check"] = &Constraint{OID: 202, Schema: "public", Table: "orders",
		Name: "orders_status_check", Type: "c", Definition: "CHECK ((status <> 'paid'::status))", Validated: true}
	city := &Function{OID: 540, Schema: "public", Name: "city_of", Args: "a address", ArgTypes: "address", Kind: "f",
		Result: "text", Definition: "CREATE OR REPLACE FUNCTION public.city_of(a address)\n RETURNS text\n LANGUAGE sql\nAS $function$SELECT a.city$function$\n"}
	c.Functions[city.Signature()] = city
	return c
}

// renameType renames or moves, in catalog c as an up would leave it, the type with key from to schema
// and name, with what PostgreSQL prints differently afterwards: column types, defaults and
// constraints that quote it, and the signatures and headers of the functions that take it.
func renameType(c *Catalog, from, schema, name string) {
	to := schema + "." + name
	ref := QIdent(schema, name)
	oldSchema, oldName, _ := strings.Cut(from, ".")
	oldRef := QIdent(oldSchema, oldName)
	switch {
	case c.Enums[from] != nil:
		e := c.Enums[from]
		delete(c.Enums, from)
		e.Schema, e.Name = schema, name
		c.Enums[to] = e
	case c.Domains[from] != nil:
		d := c.Domains[from]
		delete(c.Domains, from)
		d.Schema, d.Name = schema, name
		c.Domains[to] = d
	case c.Composites[from] != nil:
		x := c.Composites[from]
		delete(c.Composites, from)
		x.Schema, x.Name = schema, name
		c.Composites[to] = x
	default:
		for _, f := range c.Functions {
			if f.Range != nil && Key(f.Range.Schema, f.Range.Name) == from {
				f.Range.Schema, f.Range.Name = schema, name
			}
		}
	}
	sub := func(s string) string { return replaceWord(s, oldRef, ref) }
	for _, t := range c.Tables {
		for _, col := range t.Columns {
			col.Type, col.Default = sub(col.Type), sub(col.Default)
		}
	}
	for _, x := range c.Constraints {
		x.Definition = sub(x.Definition)
	}
	for k, f := range c.Functions {
		if f.Range != nil {
			continue
		}
		delete(c.Functions, k)
		f.Args, f.ArgTypes, f.Result, f.Definition = sub(f.Args), sub(f.ArgTypes), sub(f.Result), sub(f.Definition)
		c.Functions[f.Signature()] = f
	}
}

// sqls are the statements of a down.
func sqls(d *DownScript) []string { return d.Statements() }

func TestGenerateDownTypeRenames(t *testing.T) {
	tests := []struct {
		name       string
		from       string
		schema, to string
		want       []string
	}{
		{name: "enum rename", from: "public.status", schema: "public", to: "order_status",
			want: []string{"ALTER TYPE order_status RENAME TO status"}},
		{name: "enum move", from: "public.status", schema: "geo", to: "status",
			want: []string{"ALTER TYPE geo.status SET SCHEMA public"}},
		{name: "enum rename and move", from: "public.status", schema: "geo", to: "state",
			want: []string{"ALTER TYPE geo.state RENAME TO status", "ALTER TYPE geo.status SET SCHEMA public"}},
		{name: "domain rename", from: "public.positive", schema: "public", to: "pos",
			want: []string{"ALTER DOMAIN pos RENAME TO positive"}},
		{name: "domain move", from: "public.positive", schema: "geo", to: "positive",
			want: []string{"ALTER DOMAIN geo.positive SET SCHEMA public"}},
		// The function that takes the composite type follows it back: no DROP, no CREATE.
		{name: "composite rename under a function", from: "public.address", schema: "public", to: "postal",
			want: []string{"ALTER TYPE postal RENAME TO address"}},
		{name: "composite move under a function", from: "public.address", schema: "geo", to: "address",
			want: []string{"ALTER TYPE geo.address SET SCHEMA public"}},
		{name: "range rename", from: "public.span", schema: "public", to: "period",
			want: []string{"ALTER TYPE period RENAME TO span"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before, after := typedShop(), typedShop()
			renameType(after, tc.from, tc.schema, tc.to)
			d := GenerateDown(before, after)
			if got := sqls(d); !slices.Equal(got, tc.want) {
				t.Errorf("down:\n%s\nwant only %q", d.SQL, tc.want)
			}
			if d.DataLoss || !d.Reversible() || len(d.Warnings) > 0 {
				t.Errorf("a rename back loses nothing: data loss %v, reversible %v, warnings %q", d.DataLoss, d.Reversible(), d.Warnings)
			}
		})
	}
}

func TestGenerateDownRelationAndFunctionMoves(t *testing.T) {
	tests := []struct {
		name string
		up   func(c *Catalog)
		want []string
	}{
		{name: "table move", up: func(c *Catalog) {
			tb := c.Tables["public.users"]
			delete(c.Tables, "public.users")
			tb.Schema = "geo"
			c.Tables["geo.users"] = tb
			x := c.Constraints["public.users.users_pkey"]
			delete(c.Constraints, "public.users.users_pkey")
			x.Schema = "geo"
			c.Constraints["geo.users.users_pkey"] = x
			ix := c.Indexes["public.users_pkey"]
			delete(c.Indexes, "public.users_pkey")
			ix.Schema, ix.Definition = "geo", "CREATE UNIQUE INDEX users_pkey ON geo.users USING btree (id)"
			c.Indexes["geo.users_pkey"] = ix
			fk := c.Constraints["public.orders.orders_user_fk"]
			fk.References, fk.Definition = "geo.users", "FOREIGN KEY (user_id) REFERENCES geo.users(id)"
			v := c.Views["public.user_orders"]
			v.Definition = " SELECT u.email, o.id FROM geo.users u JOIN orders o ON o.user_id = u.id;"
			v.DependsOn = []string{"public.orders", "geo.users"}
		}, want: []string{"ALTER TABLE geo.users SET SCHEMA public"}},
		{name: "view move", up: func(c *Catalog) {
			v := c.Views["public.user_orders"]
			delete(c.Views, "public.user_orders")
			v.Schema = "geo"
			c.Views["geo.user_orders"] = v
		}, want: []string{"ALTER VIEW geo.user_orders SET SCHEMA public"}},
		{name: "sequence move", up: func(c *Catalog) {
			s := c.Sequences["public.invoice_no"]
			delete(c.Sequences, "public.invoice_no")
			s.Schema = "geo"
			c.Sequences["geo.invoice_no"] = s
			c.Tables["public.orders"].Column("invoice").Default = "nextval('geo.invoice_no'::regclass)"
		}, want: []string{"ALTER SEQUENCE geo.invoice_no SET SCHEMA public"}},
		{name: "function rename and move", up: func(c *Catalog) {
			f := c.Functions["public.city_of(a address)"]
			delete(c.Functions, "public.city_of(a address)")
			f.Schema, f.Name = "geo", "town_of"
			f.Definition = strings.Replace(f.Definition, "public.city_of(", "geo.town_of(", 1)
			c.Functions[f.Signature()] = f
		}, want: []string{"ALTER ROUTINE geo.town_of(a address) RENAME TO city_of", "ALTER ROUTINE geo.city_of(a address) SET SCHEMA public"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before, after := typedShop(), typedShop()
			tc.up(after)
			d := GenerateDown(before, after)
			if got := sqls(d); !slices.Equal(got, tc.want) {
				t.Errorf("down:\n%s\nwant only %q", d.SQL, tc.want)
			}
			if d.DataLoss {
				t.Errorf("a move back loses nothing:\n%s", d.SQL)
			}
		})
	}
}

// A function that takes a renamed type and whose body (kept as source text) the up also changed is
// renamed back with the type and then has its old definition restored, never dropped.
func TestGenerateDownRenamedTypeChangedFunction(t *testing.T) {
	before, after := typedShop(), typedShop()
	renameType(after, "public.address", "public", "postal")
	f := after.Functions["public.city_of(a postal)"]
	f.Definition = strings.Replace(f.Definition, "SELECT a.city", "SELECT upper(a.city)", 1)
	d := GenerateDown(before, after)
	got := sqls(d)
	if len(got) == 0 || got[0] != "ALTER TYPE postal RENAME TO address" ||
		!slices.ContainsFunc(got, func(s string) bool {
			return strings.HasPrefix(s, "CREATE OR REPLACE FUNCTION public.city_of(a address)")
		}) ||
		slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "DROP") }) {
		t.Errorf("down:\n%s", d.SQL)
	}
}

func TestGenerateDownRangeRedefined(t *testing.T) {
	redefine := func(c *Catalog) {
		for _, f := range c.Functions {
			if f.Range != nil {
				f.OID += 100
				f.Range.OID = 630
				f.Range.Definition = "SUBTYPE = integer, MULTIRANGE_TYPE_NAME = span_multirange"
			}
		}
	}
	t.Run("used by a column", func(t *testing.T) {
		before, after := typedShop(), typedShop()
		redefine(after)
		d := GenerateDown(before, after)
		if d.Reversible() || len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], "column orders.span") ||
			!strings.Contains(d.Warnings[0], "SUBTYPE = bigint") {
			t.Errorf("want an irreversible step naming the column, warnings %q:\n%s", d.Warnings, d.SQL)
		}
		if len(d.Statements()) != 0 {
			t.Errorf("a down that cannot restore the range type must not try:\n%s", d.SQL)
		}
	})
	t.Run("used by a multirange column", func(t *testing.T) {
		before, after := typedShop(), typedShop()
		for _, c := range []*Catalog{before, after} {
			c.Tables["public.orders"].Column("span").Type = "span_multirange"
		}
		redefine(after)
		if d := GenerateDown(before, after); d.Reversible() {
			t.Errorf("want an irreversible step:\n%s", d.SQL)
		}
	})
	t.Run("unused", func(t *testing.T) {
		before, after := typedShop(), typedShop()
		for _, c := range []*Catalog{before, after} {
			cols := c.Tables["public.orders"].Columns
			c.Tables["public.orders"].Columns = cols[:len(cols)-1]
		}
		redefine(after)
		d := GenerateDown(before, after)
		want := []string{"DROP TYPE span", "CREATE TYPE span AS RANGE (SUBTYPE = bigint, MULTIRANGE_TYPE_NAME = span_multirange)"}
		if got := sqls(d); !slices.Equal(got, want) || !d.Reversible() {
			t.Errorf("down:\n%s\nwant %q", d.SQL, want)
		}
	})
}

// TestGenerateDownTypedTableTypeRenamed: a typed table follows the rename of its type, which the down
// undoes alone; a table the up made of another type is made a plain table, then of its type again once
// its type is back.
func TestGenerateDownTypedTableTypeRenamed(t *testing.T) {
	before, after := typedShop(), typedShop()
	before.Tables["public.users"].OfType = "address"
	renameType(after, "public.address", "public", "postal")
	after.Tables["public.users"].OfType = "postal"
	if got, want := sqls(GenerateDown(before, after)), []string{"ALTER TYPE postal RENAME TO address"}; !slices.Equal(got, want) {
		t.Errorf("rename: got %q, want %q", got, want)
	}
	after.Tables["public.users"].OfType = "geo.other"
	got := sqls(GenerateDown(before, after))
	want := []string{"ALTER TYPE postal RENAME TO address", "ALTER TABLE users NOT OF", "ALTER TABLE users OF address"}
	if !slices.Equal(got, want) {
		t.Errorf("other type: got %q, want %q", got, want)
	}
}

// TestGenerateDownRenamesOntoTakenNames: an object renamed whose old name the up gave to an object it
// created, or to another object it renamed, is renamed back by OID all the same: what holds the name
// and was created by the up is moved out of the way first (and dropped there), a chain goes back in
// order and a cycle through a temporary name. Before, the down dropped the renamed object (the column
// holding the data) and kept the new one, or did nothing.
func TestGenerateDownRenamesOntoTakenNames(t *testing.T) {
	tests := []struct {
		name string
		up   func(c *Catalog)
		// want are statements the down must run in this order (others may come between), never those
		// of not.
		want, not []string
	}{
		{name: "column renamed aside and added anew", up: func(c *Catalog) {
			o := c.Tables["public.orders"]
			o.Column("note").Name = "legacy_note"
			o.Columns = append(o.Columns, &Column{Num: 4, Name: "note", Type: "text"})
		}, want: []string{
			"ALTER TABLE orders RENAME COLUMN note TO note_down_tmp",
			"ALTER TABLE orders RENAME COLUMN legacy_note TO note",
			"ALTER TABLE orders DROP COLUMN note_down_tmp",
		}, not: []string{"ALTER TABLE orders DROP COLUMN legacy_note", "ALTER TABLE orders DROP COLUMN note"}},
		{name: "columns in a cycle of three", up: func(c *Catalog) {
			o := c.Tables["public.orders"]
			o.Columns[0].Name, o.Columns[1].Name, o.Columns[2].Name = "user_id", "note", "id"
		}, want: []string{
			"ALTER TABLE orders RENAME COLUMN id TO id_down_tmp",
			"ALTER TABLE orders RENAME COLUMN user_id TO id",
			"ALTER TABLE orders RENAME COLUMN note TO user_id",
			"ALTER TABLE orders RENAME COLUMN id_down_tmp TO note",
		}, not: []string{"ALTER TABLE orders DROP COLUMN id", "ALTER TABLE orders DROP COLUMN note", "ALTER TABLE orders DROP COLUMN user_id"}},
		{name: "table renamed aside and created anew", up: func(c *Catalog) {
			o := c.Tables["public.orders"]
			delete(c.Tables, "public.orders")
			o.Name = "orders_old"
			c.Tables["public.orders_old"] = o
			c.Constraints["public.orders_old.orders_user_fk"] = c.Constraints["public.orders.orders_user_fk"]
			c.Constraints["public.orders_old.orders_user_fk"].Table = "orders_old"
			delete(c.Constraints, "public.orders.orders_user_fk")
			c.Tables["public.orders"] = &Table{OID: 900, Schema: "public", Name: "orders", Columns: []*Column{{Num: 1, Name: "id", Type: "integer"}}}
			c.Views["public.user_orders"].DependsOn = []string{"public.orders_old", "public.users"}
			c.Views["public.user_orders"].Definition = strings.Replace(c.Views["public.user_orders"].Definition, "JOIN orders o", "JOIN orders_old o", 1)
		}, want: []string{
			"ALTER TABLE orders RENAME TO orders_down_tmp",
			"ALTER TABLE orders_old RENAME TO orders",
			"DROP TABLE orders_down_tmp",
		}, not: []string{"DROP TABLE orders_old", "DROP TABLE orders", "DROP VIEW user_orders"}},
		{name: "index name reused", up: func(c *Catalog) {
			c.Indexes["public.orders_note"] = &Index{OID: 910, Schema: "public", Table: "orders", Name: "orders_note",
				Definition: "CREATE INDEX orders_note ON public.orders USING btree (note)", Valid: true}
		}, want: []string{
			"ALTER INDEX orders_note RENAME TO orders_note_down_tmp",
			"ALTER INDEX orders_note_old RENAME TO orders_note",
			"DROP INDEX CONCURRENTLY orders_note_down_tmp",
		}},
		{name: "enum values swapped", up: func(c *Catalog) {
			c.Enums["public.status"].Values = []string{"paid", "new"}
		}, want: []string{
			"ALTER TYPE status RENAME VALUE 'new' TO 'new_down_tmp'",
			"ALTER TYPE status RENAME VALUE 'paid' TO 'new'",
			"ALTER TYPE status RENAME VALUE 'new_down_tmp' TO 'paid'",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before, after := shop(), shop()
			if tc.name == "index name reused" {
				before.Indexes["public.orders_note"] = &Index{OID: 905, Schema: "public", Table: "orders", Name: "orders_note",
					Definition: "CREATE INDEX orders_note ON public.orders USING btree (note)", Valid: true}
				after.Indexes["public.orders_note_old"] = &Index{OID: 905, Schema: "public", Table: "orders", Name: "orders_note_old",
					Definition: "CREATE INDEX orders_note_old ON public.orders USING btree (note)", Valid: true}
			}
			tc.up(after)
			d := GenerateDown(before, after)
			got := sqls(d)
			at := 0
			for _, w := range tc.want {
				i := slices.Index(got[at:], w)
				if i < 0 {
					t.Fatalf("down:\n%s\nwant %q in this order", d.SQL, tc.want)
				}
				at += i + 1
			}
			for _, n := range tc.not {
				if slices.Contains(got, n) {
					t.Errorf("down:\n%s\nmust not run %q", d.SQL, n)
				}
			}
			if d.DataLoss || !d.Reversible() {
				t.Errorf("a rename back loses nothing:\n%s", d.SQL)
			}
		})
	}
}

// TestSchemaRenamesBack: a schema found under its OID with another name is renamed back first, unless
// its old name is taken after the up or its new one was taken before (a swap), which the down's moves
// of each object handle.
func TestSchemaRenamesBack(t *testing.T) {
	cat := func(schemas map[string]uint32) *Catalog {
		c := NewCatalog()
		for name, oid := range schemas {
			c.Schemas[name] = &Schema{OID: oid, Name: name}
		}
		return c
	}
	for _, tc := range []struct {
		name          string
		before, after map[string]uint32
		want          []SchemaRename
	}{
		{"renamed", map[string]uint32{"a": 1, "keep": 2}, map[string]uint32{"b": 1, "keep": 2}, []SchemaRename{{From: "b", To: "a"}}},
		{"two renamed", map[string]uint32{"a": 1, "c": 3}, map[string]uint32{"b": 1, "d": 3}, []SchemaRename{{From: "b", To: "a"}, {From: "d", To: "c"}}},
		{"old name taken again", map[string]uint32{"a": 1}, map[string]uint32{"b": 1, "a": 5}, nil},
		{"swapped", map[string]uint32{"a": 1, "b": 2}, map[string]uint32{"b": 1, "a": 2}, nil},
		{"dropped and created", map[string]uint32{"a": 1}, map[string]uint32{"b": 4}, nil},
		{"no OID", map[string]uint32{"a": 0}, map[string]uint32{"b": 0}, nil},
	} {
		if got := SchemaRenamesBack(cat(tc.before), cat(tc.after)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
