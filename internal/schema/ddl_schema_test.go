package schema

import (
	"strings"
	"testing"
)

// TestSchemaSQLOwnedSequences: the schema the rules read says which column a serial's sequence belongs
// to, when both are kept; a sequence of no column, or of a table left out, says nothing of it.
func TestSchemaSQLOwnedSequences(t *testing.T) {
	c := NewCatalog()
	c.Tables["public.orders"] = &Table{Schema: "public", Name: "orders", Columns: []*Column{{Num: 1, Name: "id", Type: "integer", NotNull: true}}}
	c.Sequences["public.orders_id_seq"] = &Sequence{Schema: "public", Name: "orders_id_seq", Type: "integer", Increment: 1, Min: 1, Max: 2147483647, Start: 1, Cache: 1, OwnedBy: "public.orders.id"}
	c.Sequences["public.free_seq"] = &Sequence{Schema: "public", Name: "free_seq", Type: "bigint", Increment: 1, Min: 1, Max: 9223372036854775807, Start: 1, Cache: 1}
	got := c.SchemaSQL(nil)
	if !strings.Contains(got, "ALTER SEQUENCE orders_id_seq OWNED BY orders.id;") {
		t.Errorf("no OWNED BY for the serial's sequence:\n%s", got)
	}
	if strings.Count(got, "OWNED BY") != 1 {
		t.Errorf("OWNED BY written for a sequence of no column:\n%s", got)
	}
	if got := c.SchemaSQL(func(n string) bool { return n != "orders" }); strings.Contains(got, "OWNED BY") {
		t.Errorf("OWNED BY written for a table left out:\n%s", got)
	}
}

// TestSchemaSQLTypedAndForeignTables: the rules learn a typed table's columns (written out, not OF its
// type), and a foreign table is written as one, with its server and options.
func TestSchemaSQLTypedAndForeignTables(t *testing.T) {
	c := NewCatalog()
	c.Tables["public.pairs"] = &Table{Schema: "public", Name: "pairs", OfType: "pair",
		Columns: []*Column{{Num: 1, Name: "a", Type: "integer", NotNull: true}, {Num: 2, Name: "b", Type: "text"}}}
	c.Tables["public.remote"] = &Table{Schema: "public", Name: "remote", Server: "far", ForeignOptions: []string{"schema_name=x'y", "table name=t"},
		Columns: []*Column{{Num: 1, Name: "a", Type: "integer", NotNull: true, ForeignOptions: []string{"column_name=A"}}}}
	got := c.SchemaSQL(nil)
	for _, want := range []string{"CREATE TABLE pairs (\n    a integer NOT NULL,\n    b text\n);",
		"CREATE FOREIGN TABLE remote (\n    a integer OPTIONS (column_name 'A') NOT NULL\n) SERVER far OPTIONS (schema_name 'x''y', \"table name\" 't');"} {
		if !strings.Contains(got, want) {
			t.Errorf("schema SQL has no\n%s\nin\n%s", want, got)
		}
	}
}

// TestSchemaSQLFunctions: a function kept is written as pg_get_functiondef has it (the rules judge a
// DEFAULT calling it by its volatility); procedures and aggregates are not.
func TestSchemaSQLFunctions(t *testing.T) {
	c := NewCatalog()
	c.Functions["public.my_imm()"] = &Function{Schema: "public", Name: "my_imm", Kind: "f", Volatility: "IMMUTABLE",
		Definition: "CREATE OR REPLACE FUNCTION public.my_imm()\n RETURNS text\n LANGUAGE sql\n IMMUTABLE\nAS $function$ SELECT 'x' $function$\n"}
	c.Functions["public.reset()"] = &Function{Schema: "public", Name: "reset", Kind: "p",
		Definition: "CREATE OR REPLACE PROCEDURE public.reset()\n LANGUAGE sql\nAS $procedure$ SELECT 1 $procedure$\n"}
	got := c.SchemaSQL(nil)
	if want := "CREATE OR REPLACE FUNCTION public.my_imm()\n RETURNS text\n LANGUAGE sql\n IMMUTABLE\nAS $function$ SELECT 'x' $function$;\n"; !strings.Contains(got, want) {
		t.Errorf("schema SQL has no\n%s\nin\n%s", want, got)
	}
	if strings.Contains(got, "PROCEDURE") {
		t.Errorf("a procedure written:\n%s", got)
	}
	if got := c.SchemaSQL(func(n string) bool { return n != "my_imm" }); strings.Contains(got, "my_imm") {
		t.Errorf("a function left out written:\n%s", got)
	}
}

// TestSchemaSQLTriggers: the schema the rules read has the triggers of the tables kept, with how they
// are enabled, and the functions they run though the migration does not name them, as well as the
// functions whose body names a kept table (PostgreSQL does not track the columns such a body names);
// the trigger of a table left out, and a function naming none kept, are not written.
func TestSchemaSQLTriggers(t *testing.T) {
	c := NewCatalog()
	c.Tables["public.items"] = &Table{Schema: "public", Name: "items", Columns: []*Column{{Num: 1, Name: "qty", Type: "integer"}}}
	c.Tables["public.other"] = &Table{Schema: "public", Name: "other", Columns: []*Column{{Num: 1, Name: "id", Type: "integer"}}}
	fn := func(name, body string) *Function {
		return &Function{Schema: "public", Name: name, Kind: "f",
			Definition: "CREATE OR REPLACE FUNCTION public." + name + "()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$ BEGIN " + body + " END $function$\n"}
	}
	c.Functions["public.items_chk()"] = fn("items_chk", "RETURN NEW;")
	c.Functions["public.other_chk()"] = fn("other_chk", "RETURN NEW;")
	c.Functions["public.total()"] = fn("total", "RETURN (SELECT sum(Items.qty) FROM items);")
	c.Functions["public.lone()"] = fn("lone", "RETURN (SELECT count(*) FROM items_log);")
	c.Triggers["public.items.items_chk"] = &Trigger{Schema: "public", Table: "items", Name: "items_chk", Enabled: "D", Function: "public.items_chk()",
		Definition: "CREATE TRIGGER items_chk BEFORE INSERT ON public.items FOR EACH ROW EXECUTE FUNCTION items_chk()"}
	c.Triggers["public.other.other_chk"] = &Trigger{Schema: "public", Table: "other", Name: "other_chk", Enabled: "O", Function: "public.other_chk()",
		Definition: "CREATE TRIGGER other_chk BEFORE INSERT ON public.other FOR EACH ROW EXECUTE FUNCTION other_chk()"}
	got := c.SchemaSQL(func(n string) bool { return n == "items" })
	for _, want := range []string{"CREATE OR REPLACE FUNCTION public.items_chk()", "CREATE OR REPLACE FUNCTION public.total()",
		"CREATE TRIGGER items_chk BEFORE INSERT ON public.items FOR EACH ROW EXECUTE FUNCTION items_chk();\nALTER TABLE public.items DISABLE TRIGGER items_chk;\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("schema SQL has no\n%s\nin\n%s", want, got)
		}
	}
	for _, not := range []string{"other_chk", "lone"} {
		if strings.Contains(got, not) {
			t.Errorf("schema SQL has %s, of no table kept:\n%s", not, got)
		}
	}
}

// TestSchemaSQLFunctionUsers: a kept function brings along the functions whose body names it and the
// tables whose indexes, stored generated columns, CHECK or exclusion constraints or partition key call
// one of them (the rules tell what replacing it leaves stale); a table that calls none stays out.
func TestSchemaSQLFunctionUsers(t *testing.T) {
	c := NewCatalog()
	c.Functions["public.norm(text)"] = &Function{Schema: "public", Name: "norm", Kind: "f",
		Definition: "CREATE OR REPLACE FUNCTION public.norm(text)\n RETURNS text\n LANGUAGE sql\n IMMUTABLE\nAS $function$ SELECT lower($1) $function$\n"}
	c.Functions["public.email_key(text)"] = &Function{Schema: "public", Name: "email_key", Kind: "f",
		Definition: "CREATE OR REPLACE FUNCTION public.email_key(text)\n RETURNS text\n LANGUAGE sql\n IMMUTABLE\nAS $function$ SELECT 'k:' || NORM($1) $function$\n"}
	col := func(name string) []*Column { return []*Column{{Num: 1, Name: name, Type: "text"}} }
	c.Tables["public.users"] = &Table{Schema: "public", Name: "users", Columns: col("email")}
	c.Tables["public.accounts"] = &Table{Schema: "public", Name: "accounts", Columns: []*Column{{Num: 1, Name: "email", Type: "text"}, {Num: 2, Name: "k", Type: "text", Generated: "email_key(email)"}}}
	c.Tables["public.codes"] = &Table{Schema: "public", Name: "codes", Columns: col("code")}
	c.Tables["public.ev"] = &Table{Schema: "public", Name: "ev", Columns: col("code"), Partitioned: true, PartitionKey: "LIST (norm(code))"}
	c.Tables["public.other"] = &Table{Schema: "public", Name: "other", Columns: col("normal")}
	c.Indexes["public.users_norm"] = &Index{Schema: "public", Table: "users", Name: "users_norm", Definition: "CREATE INDEX users_norm ON public.users USING btree (norm(email))"}
	c.Indexes["public.other_normal"] = &Index{Schema: "public", Table: "other", Name: "other_normal", Definition: "CREATE INDEX other_normal ON public.other USING btree (normal)"}
	c.Constraints["public.codes.codes_norm"] = &Constraint{Schema: "public", Table: "codes", Name: "codes_norm", Type: "c", Definition: "CHECK ((norm(code) = code))"}
	got := c.SchemaSQL(func(n string) bool { return n == "norm" })
	for _, want := range []string{"FUNCTION public.email_key(text)", "CREATE TABLE users", "CREATE INDEX users_norm", "CREATE TABLE accounts", "CREATE TABLE codes", "codes_norm", "CREATE TABLE ev"} {
		if !strings.Contains(got, want) {
			t.Errorf("schema SQL has no %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "other") {
		t.Errorf("a table that calls no kept function written:\n%s", got)
	}
}
