package schema

import (
	"slices"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// stepIndex is the position of the first step whose SQL is prefix or starts with prefix and a space, or -1.
func stepIndex(d *DownScript, prefix string) int {
	return slices.IndexFunc(d.Steps, func(s Step) bool { return s.SQL == prefix || strings.HasPrefix(s.SQL, prefix+" ") })
}

func TestGenerateDownNothingToDo(t *testing.T) {
	if d := GenerateDown(shop(), shop()); !d.Empty() || d.SQL != "" {
		t.Fatalf("down of no change: %q", d.SQL)
	}
}

func TestGenerateDownDropsDependentsFirst(t *testing.T) {
	before := shop()
	after := shop()
	after.Tables["public.items"] = &Table{OID: 700, Schema: "public", Name: "items", Columns: []*Column{
		{Num: 1, Name: "id", Type: "integer"}, {Num: 2, Name: "order_id", Type: "integer"}}}
	after.Views["public.item_view"] = &View{OID: 701, Schema: "public", Name: "item_view", Definition: "SELECT id FROM items",
		DependsOn: []string{"public.items"}}
	after.Views["public.item_view2"] = &View{OID: 702, Schema: "public", Name: "item_view2", Definition: "SELECT id FROM item_view",
		DependsOn: []string{"public.item_view"}}
	after.Enums["public.mood"] = &Enum{OID: 703, Schema: "public", Name: "mood", Values: []string{"ok"}}
	after.Tables["public.orders"].Columns = append(after.Tables["public.orders"].Columns,
		&Column{Num: 4, Name: "mood", Type: "mood"})

	d := GenerateDown(before, after)
	order := []string{"DROP VIEW item_view2", "DROP VIEW item_view", "DROP TABLE items", "ALTER TABLE orders DROP COLUMN mood", "DROP TYPE mood"}
	last := -1
	for _, p := range order {
		i := stepIndex(d, p)
		if i <= last {
			t.Fatalf("step %q at %d, want after %d\n%s", p, i, last, d.SQL)
		}
		last = i
	}
	if d.DataLoss || d.NoTransaction {
		t.Errorf("dropping what the up added loses nothing and needs no CONCURRENTLY: %+v", d)
	}
}

func TestGenerateDownRecreatesInDependencyOrder(t *testing.T) {
	before := shop()
	after := shop()
	delete(after.Views, "public.user_orders")
	delete(after.Constraints, "public.orders.orders_user_fk")
	delete(after.Tables, "public.users")
	delete(after.Constraints, "public.users.users_pkey")
	delete(after.Indexes, "public.users_pkey")
	delete(after.Enums, "public.status")

	d := GenerateDown(before, after)
	order := []string{"CREATE TYPE status", "CREATE TABLE users", "ALTER TABLE users ADD CONSTRAINT users_pkey",
		"ALTER TABLE orders ADD CONSTRAINT orders_user_fk", "CREATE VIEW user_orders"}
	last := -1
	for _, p := range order {
		i := stepIndex(d, p)
		if i <= last {
			t.Fatalf("step %q at %d, want after %d\n%s", p, i, last, d.SQL)
		}
		last = i
	}
	if !d.DataLoss || !d.Steps[stepIndex(d, "CREATE TABLE users")].DataLoss {
		t.Errorf("re-created table must be data loss")
	}
	if !slices.ContainsFunc(d.Warnings, func(w string) bool { return strings.Contains(w, "snapshot") }) {
		t.Errorf("warnings must point to the snapshot: %q", d.Warnings)
	}
	if !strings.Contains(d.SQL, "-- DATA LOSS: re-create table users") {
		t.Errorf("script must mark the data-losing step:\n%s", d.SQL)
	}
}

func TestGenerateDownIndexConcurrently(t *testing.T) {
	before := shop()
	before.Indexes["public.orders_note_idx"] = &Index{OID: 800, Schema: "public", Table: "orders", Name: "orders_note_idx",
		Definition: "CREATE INDEX orders_note_idx ON public.orders USING btree (note)", Valid: true}
	d := GenerateDown(before, shop())
	if !d.NoTransaction || len(d.Steps) != 1 || d.Steps[0].SQL != "CREATE INDEX CONCURRENTLY orders_note_idx ON public.orders USING btree (note)" {
		t.Fatalf("got %+v", d)
	}
	// On a table the down re-creates, the index is built plainly (the table is empty and new).
	after := shop()
	delete(after.Tables, "public.orders")
	delete(after.Constraints, "public.orders.orders_user_fk")
	delete(after.Views, "public.user_orders")
	d = GenerateDown(before, after)
	if d.NoTransaction || stepIndex(d, "CREATE INDEX orders_note_idx") < 0 {
		t.Fatalf("got\n%s", d.SQL)
	}
	// A down its tool runs in one transaction (golang-migrate sends the file as one query) builds it
	// plainly too: CONCURRENTLY would fail there.
	d = GenerateDownWith(before, shop(), DownOptions{InTransaction: true})
	if d.NoTransaction || len(d.Steps) != 1 || d.Steps[0].SQL != "CREATE INDEX orders_note_idx ON public.orders USING btree (note)" {
		t.Fatalf("in a transaction: got %+v", d)
	}
}

// TestGenerateDownDropIndexConcurrently: an index the up added to a table the down keeps is dropped
// CONCURRENTLY (a plain DROP INDEX takes ACCESS EXCLUSIVE on the table), outside a transaction block;
// plainly where the down runs in one, or where PostgreSQL refuses CONCURRENTLY (a partitioned table).
func TestGenerateDownDropIndexConcurrently(t *testing.T) {
	idx := &Index{OID: 800, Schema: "public", Table: "orders", Name: "orders_note_idx",
		Definition: "CREATE INDEX orders_note_idx ON public.orders USING btree (note)", Valid: true}
	after := shop()
	after.Indexes["public.orders_note_idx"] = idx
	d := GenerateDown(shop(), after)
	if !d.NoTransaction || len(d.Steps) != 1 || d.Steps[0].SQL != "DROP INDEX CONCURRENTLY orders_note_idx" || !d.Steps[0].NoTransaction {
		t.Fatalf("got %+v", d)
	}
	if !strings.Contains(d.SQL, "-- Run outside a transaction block: DROP INDEX CONCURRENTLY cannot run inside one.") {
		t.Errorf("the script must say why it runs outside a transaction block:\n%s", d.SQL)
	}
	d = GenerateDownWith(shop(), after, DownOptions{InTransaction: true})
	if d.NoTransaction || len(d.Steps) != 1 || d.Steps[0].SQL != "DROP INDEX orders_note_idx" {
		t.Fatalf("in a transaction: got %+v", d)
	}
	// A changed definition: dropped concurrently, built again concurrently, and the script names both.
	before := shop()
	before.Indexes["public.orders_note_idx"] = &Index{OID: 799, Schema: "public", Table: "orders", Name: "orders_note_idx",
		Definition: "CREATE INDEX orders_note_idx ON public.orders USING hash (note)", Valid: true}
	d = GenerateDown(before, after)
	if drop, create := stepIndex(d, "DROP INDEX CONCURRENTLY orders_note_idx"), stepIndex(d, "CREATE INDEX CONCURRENTLY orders_note_idx"); drop < 0 || create < drop {
		t.Fatalf("changed definition: got\n%s", d.SQL)
	}
	if !strings.Contains(d.SQL, "CREATE INDEX CONCURRENTLY and DROP INDEX CONCURRENTLY cannot run inside one.") {
		t.Errorf("the script must name both statements:\n%s", d.SQL)
	}
	// On a partitioned table PostgreSQL refuses DROP INDEX CONCURRENTLY.
	partBefore, partAfter := shop(), shop()
	for _, c := range []*Catalog{partBefore, partAfter} {
		tb := *c.Tables["public.orders"]
		tb.Partitioned = true
		c.Tables["public.orders"] = &tb
	}
	partAfter.Indexes["public.orders_note_idx"] = idx
	d = GenerateDown(partBefore, partAfter)
	if d.NoTransaction || len(d.Steps) != 1 || d.Steps[0].SQL != "DROP INDEX orders_note_idx" {
		t.Fatalf("partitioned table: got %+v", d)
	}
}

func TestGenerateDownEnumValues(t *testing.T) {
	before, after := shop(), shop()
	after.Enums["public.status"].Values = []string{"new", "refunded", "paid"}
	after.Enums["public.status"].ValueOIDs = []uint32{401, 403, 402}
	d := GenerateDown(before, after)
	if d.Reversible() || len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], "'refunded'") {
		t.Fatalf("adding an enum value must be irreversible with a warning: %+v", d)
	}
	if !strings.Contains(d.SQL, "-- IRREVERSIBLE: enum status keeps value 'refunded'") {
		t.Errorf("script:\n%s", d.SQL)
	}

	after = shop()
	after.Enums["public.status"].Values = []string{"new", "settled"}
	d = GenerateDown(before, after)
	if !d.Reversible() || len(d.Steps) != 1 || d.Steps[0].SQL != "ALTER TYPE status RENAME VALUE 'settled' TO 'paid'" {
		t.Fatalf("renamed value: %+v", d.Steps)
	}

	after = shop()
	after.Enums["public.status"].Values = []string{"paid"}
	after.Enums["public.status"].ValueOIDs = []uint32{402}
	d = GenerateDown(before, after)
	if len(d.Steps) != 1 || d.Steps[0].SQL != "ALTER TYPE status ADD VALUE 'new' BEFORE 'paid'" {
		t.Fatalf("removed value: %+v", d.Steps)
	}
}

func TestGenerateDownColumnChanges(t *testing.T) {
	before, after := shop(), shop()
	u := after.Tables["public.users"]
	u.Columns[0].Identity = ""
	u.Columns[1].Type = "character varying(200)"
	u.Columns[1].NotNull = false
	u.Columns[1].Default = "'x'::character varying"
	d := GenerateDown(before, after)
	order := []string{
		"ALTER TABLE users ALTER COLUMN email DROP DEFAULT",
		"ALTER TABLE users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY",
		"ALTER TABLE users ALTER COLUMN email TYPE text USING email::text",
		"ALTER TABLE users ALTER COLUMN email SET NOT NULL",
	}
	for _, p := range order {
		if stepIndex(d, p) < 0 {
			t.Errorf("missing %q in\n%s", p, d.SQL)
		}
	}
	if stepIndex(d, order[0]) > stepIndex(d, order[2]) {
		t.Errorf("the default must go before the type changes:\n%s", d.SQL)
	}
	// text to varchar(200) failed on a longer value rather than cut it: changing back loses nothing.
	if d.DataLoss {
		t.Errorf("changing a column back loses no rows:\n%s", d.SQL)
	}
	// numeric(12,4) to numeric(10,2) rounded every value: no down brings the digits back.
	before, after = shop(), shop()
	before.Tables["public.users"].Columns[1].Type = "numeric(12,4)"
	after.Tables["public.users"].Columns[1].Type = "numeric(10,2)"
	d = GenerateDown(before, after)
	if st := stepIndex(d, "ALTER TABLE users ALTER COLUMN email TYPE numeric(12,4) USING email::numeric(12,4)"); st < 0 || !d.Steps[st].DataLoss || !d.DataLoss {
		t.Errorf("a rounded column changed back must be marked as losing data:\n%s", d.SQL)
	}

	// A widening is undone by the assignment cast (an error on a value that no longer fits, never a
	// cut), and loses nothing.
	before, after = shop(), shop()
	before.Tables["public.users"].Columns[1].Type = "character varying(100)"
	d = GenerateDown(before, after)
	if stepIndex(d, "ALTER TABLE users ALTER COLUMN email TYPE character varying(100)") < 0 || strings.Contains(d.SQL, "USING") || d.DataLoss {
		t.Errorf("varchar(100) widened to text, changed back:\n%s (data loss %v)", d.SQL, d.DataLoss)
	}
	// ... but the narrowing back rewrites the table and fails on a longer value written since: a warning says so.
	if want := "the down narrows users.email back from text to character varying(100): it rewrites the table"; !slices.ContainsFunc(d.Warnings, func(w string) bool { return strings.Contains(w, want) }) {
		t.Errorf("no warning %q: %q", want, d.Warnings)
	}
}

func TestWidening(t *testing.T) {
	for _, c := range []struct {
		from, to string
		want     bool
	}{
		{"integer", "bigint", true}, {"smallint", "integer", true}, {"bigint", "integer", false},
		{"integer", "numeric", true}, {"real", "double precision", true}, {"double precision", "real", false},
		{"character varying(20)", "character varying(50)", true}, {"character varying(50)", "character varying(20)", false},
		{"character varying(20)", "text", true}, {"character varying(20)", "character varying", true}, {"text", "character varying", true},
		{"text", "character varying(20)", false}, {"text", "integer", false}, {"character(5)", "text", false},
		{"numeric(10,2)", "numeric(12,2)", true}, {"numeric(10,2)", "numeric(12,4)", true}, {"numeric(12,4)", "numeric(10,2)", false},
		{"numeric(10,2)", "numeric(11,4)", false}, {"numeric(10,2)", "numeric", true}, {"numeric", "numeric(30,10)", false},
		{"json", "jsonb", false}, {"timestamp without time zone", "timestamp with time zone", false},
		{"integer[]", "bigint[]", true}, {"integer[]", "bigint", false}, {"bit varying(4)", "bit varying(8)", true},
	} {
		if got := widening(c.from, c.to); got != c.want {
			t.Errorf("widening(%q, %q) = %v, want %v", c.from, c.to, got, c.want)
		}
	}
}

func TestGenerateDownRenames(t *testing.T) {
	before, after := shop(), shop()
	o := after.Tables["public.orders"]
	delete(after.Tables, "public.orders")
	o.Name = "purchases"
	o.Columns[2].Name = "remark"
	after.Tables["public.purchases"] = o
	fk := after.Constraints["public.orders.orders_user_fk"]
	delete(after.Constraints, "public.orders.orders_user_fk")
	fk.Table = "purchases"
	after.Constraints["public.purchases.orders_user_fk"] = fk
	d := GenerateDown(before, after)
	if d.Steps[0].SQL != "ALTER TABLE purchases RENAME TO orders" ||
		d.Steps[1].SQL != "ALTER TABLE orders RENAME COLUMN remark TO note" || d.DataLoss {
		t.Fatalf("got\n%s", d.SQL)
	}
	if stepIndex(d, "ALTER TABLE orders DROP CONSTRAINT") >= 0 || stepIndex(d, "CREATE TABLE") >= 0 {
		t.Errorf("a rename must not drop or re-create:\n%s", d.SQL)
	}
}

func TestGenerateDownReaddsNotNullColumnInTwoSteps(t *testing.T) {
	before, after := shop(), shop()
	u := after.Tables["public.users"]
	u.Columns = u.Columns[:1] // the up dropped users.email (text NOT NULL, no default)
	d := GenerateDown(before, after)
	add := stepIndex(d, "ALTER TABLE users ADD COLUMN email text")
	set := stepIndex(d, "ALTER TABLE users ALTER COLUMN email SET NOT NULL")
	if add < 0 || set < add || d.Steps[add].SQL != "ALTER TABLE users ADD COLUMN email text" {
		t.Fatalf("got\n%s", d.SQL)
	}
	if !d.Steps[add].DataLoss || !d.DataLoss {
		t.Errorf("a re-added column is data loss")
	}
}

// TestGenerateDownConversionWording: a column the up converted comes back converted, not empty; the
// script's warning must say so, and a cast back to char(n) cuts silently rather than fails.
func TestGenerateDownConversionWording(t *testing.T) {
	for _, tc := range []struct{ was, is string }{
		{"character(3)", "character varying(10)"},
		{"timestamp(6) without time zone", "timestamp(3) without time zone"},
	} {
		before, after := shop(), shop()
		before.Tables["public.users"].Columns[1].Type = tc.was
		after.Tables["public.users"].Columns[1].Type = tc.is
		d := GenerateDown(before, after)
		if !d.DataLoss {
			t.Fatalf("%s -> %s: want data loss\n%s", tc.was, tc.is, d.SQL)
		}
		for _, w := range d.Warnings {
			if strings.Contains(w, "come back empty") {
				t.Errorf("%s -> %s: warning %q says columns come back empty: they come back converted", tc.was, tc.is, w)
			}
		}
		if !slices.ContainsFunc(d.Warnings, func(w string) bool { return strings.Contains(w, "may not come back as they were") }) {
			t.Errorf("%s -> %s: no warning about converted values: %q", tc.was, tc.is, d.Warnings)
		}
		truncates := slices.ContainsFunc(d.Warnings, func(w string) bool { return strings.Contains(w, "truncates") && strings.Contains(w, "silently") })
		if want := strings.HasPrefix(tc.was, "character("); truncates != want {
			t.Errorf("%s -> %s: warning of silent truncation %v, want %v: %q", tc.was, tc.is, truncates, want, d.Warnings)
		}
	}
	// A dropped column still comes back empty, and says so.
	before, after := shop(), shop()
	after.Tables["public.users"].Columns = after.Tables["public.users"].Columns[:1]
	d := GenerateDown(before, after)
	if !slices.ContainsFunc(d.Warnings, func(w string) bool { return strings.Contains(w, "come back empty") }) {
		t.Errorf("dropped column: %q", d.Warnings)
	}
}

// TestGenerateDownGrantComments: every GRANT a down restores has a comment of its own.
func TestGenerateDownGrantComments(t *testing.T) {
	before, after := shop(), shop()
	before.Composites["public.c"] = &Composite{OID: 900, Schema: "public", Name: "c", Attributes: []*Attribute{{Name: "x", Type: "integer"}},
		Access: Access{Owner: "postgres", Privileges: "=U/postgres,postgres=U/postgres,app=U*/postgres"}}
	after.Composites["public.c"] = &Composite{OID: 900, Schema: "public", Name: "c", Attributes: []*Attribute{{Name: "x", Type: "integer"}},
		Access: Access{Owner: "postgres", Privileges: "postgres=U/postgres"}}
	d := GenerateDown(before, after)
	if stepIndex(d, "GRANT USAGE ON TYPE c TO app WITH GRANT OPTION") < 0 {
		t.Fatalf("no GRANT:\n%s", d.SQL)
	}
	for _, st := range d.Steps {
		if strings.TrimSpace(st.Comment) == "" {
			t.Errorf("step %q has no comment:\n%s", st.SQL, d.SQL)
		}
	}
	if strings.Contains(d.SQL, "-- \n") {
		t.Errorf("empty comment line:\n%s", d.SQL)
	}
}

// TestGenerateDownCompositeRenames: renames of a composite type and of its attributes are undone by
// renaming, not by re-creating.
func TestGenerateDownCompositeRenames(t *testing.T) {
	before, after := shop(), shop()
	before.Composites["public.addr"] = &Composite{OID: 900, Schema: "public", Name: "addr",
		Attributes: []*Attribute{{Num: 1, Name: "street", Type: "text"}, {Num: 3, Name: "city", Type: "text"}}}
	after.Composites["s.address"] = &Composite{OID: 900, Schema: "s", Name: "address",
		Attributes: []*Attribute{{Num: 1, Name: "line1", Type: "text"}, {Num: 3, Name: "city", Type: "text"}}}
	before.Tables["public.users"].Columns[1].Type = "addr[]"
	after.Tables["public.users"].Columns[1].Type = "s.address[]"
	d := GenerateDown(before, after)
	want := []string{"ALTER TYPE s.address RENAME TO addr", "ALTER TYPE s.addr SET SCHEMA public", "ALTER TYPE addr RENAME ATTRIBUTE line1 TO street"}
	if got := d.Statements(); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q\n%s", got, want, d.SQL)
	}
}

// TestGenerateDownCommentsRunNothing: the comment before each step names objects as they are named, and
// a quoted name may hold a line break: the script must still hold only its steps, the rest of such a
// name kept inside the comment (a CR or LF ends a -- comment for PostgreSQL).
func TestGenerateDownCommentsRunNothing(t *testing.T) {
	before := shop()
	after := shop()
	const table, col = "x\ndelete from orders;\n--", "c\rtruncate orders;\r--"
	after.Tables["public."+table] = &Table{OID: 700, Schema: "public", Name: table, Columns: []*Column{{Num: 1, Name: "id", Type: "bigint"}}}
	after.Tables["public.orders"].Columns = append(after.Tables["public.orders"].Columns, &Column{Num: 4, Name: col, Type: "integer"})
	d := GenerateDown(before, after)
	stmts, err := pg_query.SplitWithParser(d.SQL, true)
	if err != nil {
		t.Fatalf("the generated down does not parse: %v\n%s", err, d.SQL)
	}
	if len(stmts) != len(d.Steps) {
		t.Fatalf("%d statements in the script, want its %d steps:\n%q", len(stmts), len(d.Steps), d.SQL)
	}
	for _, s := range stmts {
		if low := strings.ToLower(s); strings.Contains(low, "delete") && !strings.Contains(low, `"x`) || strings.Contains(low, "truncate") && !strings.Contains(low, `"c`) {
			t.Errorf("statement outside the steps: %q", s)
		}
	}
	if !strings.Contains(d.SQL, `x\x0adelete from orders;\x0a--`) || !strings.Contains(d.SQL, `c\x0dtruncate orders;\x0d--`) {
		t.Errorf("comment does not show the line break escaped:\n%s", d.SQL)
	}
}
