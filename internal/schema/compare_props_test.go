package schema

import (
	"slices"
	"strings"
	"testing"
)

func checkSentences(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCompareSchemaMove(t *testing.T) {
	before, after := shop(), shop()
	after.Schemas["s2"] = &Schema{OID: 2300, Name: "s2"}
	before.Schemas["s2"] = after.Schemas["s2"]
	o := after.Tables["public.orders"]
	delete(after.Tables, "public.orders")
	o.Schema = "s2"
	after.Tables["s2.orders"] = o
	fk := after.Constraints["public.orders.orders_user_fk"]
	delete(after.Constraints, "public.orders.orders_user_fk")
	fk.Schema = "s2"
	after.Constraints["s2.orders.orders_user_fk"] = fk
	e := after.Enums["public.status"]
	delete(after.Enums, "public.status")
	e.Schema = "s2"
	after.Enums["s2.status"] = e
	checkSentences(t, "down", Describe(Compare(before, after), DownPhrasing), []string{
		"table public.orders is named s2.orders after the down",
		"enum public.status is named s2.status after the down",
	})
	checkSentences(t, "re-up", Describe(Compare(after, before), ReUpPhrasing), []string{
		"table s2.orders is named public.orders after re-up",
		"enum s2.status is named public.status after re-up",
	})
}

func TestCompareFunctionAttributesApart(t *testing.T) {
	def := func(attrs string) string {
		return "CREATE OR REPLACE FUNCTION public.f(x integer)\n RETURNS integer\n LANGUAGE sql\n" + attrs +
			"AS $function$SELECT x$function$\n"
	}
	before, after := shop(), shop()
	before.Functions["public.f(x integer)"] = &Function{OID: 900, Schema: "public", Name: "f", Args: "x integer", ArgTypes: "integer",
		Kind: "f", Definition: def(""), Volatility: "VOLATILE", Parallel: "PARALLEL UNSAFE", Cost: "100", Rows: "0"}
	after.Functions["public.f(x integer)"] = &Function{OID: 900, Schema: "public", Name: "f", Args: "x integer", ArgTypes: "integer",
		Kind: "f", Definition: def(" STABLE STRICT SECURITY DEFINER\n SET search_path TO 'pg_catalog'\n"), Volatility: "STABLE",
		Strict: true, SecurityDefiner: true, Parallel: "PARALLEL UNSAFE", Cost: "100", Rows: "0", Config: "search_path=pg_catalog"}
	checkSentences(t, "attributes", Describe(Compare(before, after), DownPhrasing), []string{
		"function f(x integer) is STABLE after the down, was VOLATILE",
		"function f(x integer) is STRICT after the down, was CALLED ON NULL INPUT",
		"function f(x integer) is SECURITY DEFINER after the down, was SECURITY INVOKER",
		"function f(x integer) has configuration search_path=pg_catalog after the down, was none",
	})
	// Arguments renamed by a re-creation (another OID): one function, named differently.
	g := *after.Functions["public.f(x integer)"]
	g.OID, g.Args, g.Definition, g.Volatility, g.Strict, g.SecurityDefiner, g.Config = 901, "y integer", strings.ReplaceAll(def(""), "x", "y"), "VOLATILE", false, false, ""
	delete(after.Functions, "public.f(x integer)")
	after.Functions["public.f(y integer)"] = &g
	checkSentences(t, "arguments", Describe(Compare(before, after), DownPhrasing), []string{
		"function f(x integer) has its parameters renamed after the down: f(y integer)",
		`function f(y integer) has its definition changed after the down: "CREATE OR REPLACE FUNCTION public.f(y integer) RETURNS integer LANGUAGE sql AS $function$SELECT y$function$", was "CREATE OR REPLACE FUNCTION public.f(x integer) RETURNS integer LANGUAGE sql AS $function$SELECT x$function$"`,
	})
}

// TestCompareFunctionSupport: the support function is compared on its own, also when it shares its
// header line with attributes the definition leaves out.
func TestCompareFunctionSupport(t *testing.T) {
	def := func(attrs string) string {
		return "CREATE OR REPLACE FUNCTION public.f(text, text)\n RETURNS boolean\n LANGUAGE sql\n" + attrs +
			"AS $function$SELECT $1 LIKE $2$function$\n"
	}
	fn := func(attrs, support string) *Function {
		return &Function{OID: 900, Schema: "public", Name: "f", Args: "text, text", ArgTypes: "text, text", Kind: "f",
			Definition: def(attrs), Volatility: "IMMUTABLE", Strict: true, Parallel: "PARALLEL UNSAFE", Cost: "100", Rows: "0", Support: support}
	}
	before, after := shop(), shop()
	before.Functions["public.f(text, text)"] = fn(" IMMUTABLE STRICT\n", "")
	after.Functions["public.f(text, text)"] = fn(" IMMUTABLE STRICT SUPPORT textlike_support\n", "textlike_support")
	checkSentences(t, "support", Describe(Compare(before, after), DownPhrasing), []string{
		"function f(text, text) has support function textlike_support after the down, was none",
	})
}

func TestCompareAggregatesAndRanges(t *testing.T) {
	before, after := shop(), shop()
	agg := func(init string) *Function {
		return &Function{OID: 910, Schema: "public", Name: "mysum", Args: "integer", ArgTypes: "integer", Kind: "a", Parallel: "PARALLEL UNSAFE",
			Definition: "CREATE OR REPLACE AGGREGATE public.mysum(integer) (SFUNC = int4pl, STYPE = integer, INITCOND = '" + init + "')"}
	}
	before.Functions["public.mysum(integer)"] = agg("0")
	after.Functions["public.mysum(integer)"] = agg("5")
	r := &RangeType{OID: 920, Schema: "public", Name: "floatrange", Definition: "SUBTYPE = double precision"}
	for _, args := range []string{"double precision, double precision", "double precision, double precision, text"} {
		after.Functions["public.floatrange("+args+")"] = &Function{OID: 921, Schema: "public", Name: "floatrange", Args: args, Kind: "f", Range: r}
	}
	checkSentences(t, "down", Describe(Compare(before, after), DownPhrasing), []string{
		"range type floatrange is left behind by the down",
		`aggregate mysum(integer) has its definition changed after the down: "… INITCOND = '5')", was "… INITCOND = '0')"`,
	})
}

func TestCompareRenameSaysNoMore(t *testing.T) {
	before, after := shop(), shop()
	u := after.Tables["public.users"]
	delete(after.Tables, "public.users")
	u.Name = "members"
	after.Tables["public.members"] = u
	// The identity sequence keeps its name, which is no longer the one PostgreSQL would give.
	u.Column("id").IdentitySequence = &IdentitySequence{Name: "users_id_seq"}
	pk := after.Indexes["public.users_pkey"]
	pk.Table = "members"
	pk.Definition = "CREATE UNIQUE INDEX users_pkey ON public.members USING btree (id)"
	c := after.Constraints["public.users.users_pkey"]
	delete(after.Constraints, "public.users.users_pkey")
	c.Table = "members"
	after.Constraints["public.members.users_pkey"] = c
	fk := after.Constraints["public.orders.orders_user_fk"]
	fk.Definition, fk.References = "FOREIGN KEY (user_id) REFERENCES members(id)", "public.members"
	v := after.Views["public.user_orders"]
	v.Definition = " SELECT u.email, o.id FROM members u JOIN orders o ON o.user_id = u.id;"
	v.DependsOn = []string{"public.members", "public.orders"}
	ix := &Index{OID: 103, Schema: "public", Table: "orders", Name: "orders_note_idx", Definition: "CREATE INDEX orders_note_idx ON public.orders USING btree (note)"}
	before.Indexes["public.orders_note_idx"] = ix
	ix2 := *ix
	ix2.Name, ix2.Definition = "orders_remark_idx", "CREATE INDEX orders_remark_idx ON public.orders USING btree (note)"
	after.Indexes["public.orders_remark_idx"] = &ix2
	checkSentences(t, "renames", Describe(Compare(before, after), DownPhrasing), []string{
		"table users is named members after the down",
		"index orders_note_idx is named orders_remark_idx after the down",
	})
}

func TestDescribeWording(t *testing.T) {
	before, after := shop(), shop()
	before.Triggers["public.users.trg"] = &Trigger{OID: 930, Schema: "public", Table: "users", Name: "trg", Enabled: "O", Definition: "CREATE TRIGGER trg"}
	after.Triggers["public.users.trg"] = &Trigger{OID: 930, Schema: "public", Table: "users", Name: "trg", Enabled: "D", Definition: "CREATE TRIGGER trg"}
	after.Tables["public.users"].ReplicaIdentity = "full"
	after.Tables["public.users"].Rules = "CREATE RULE r AS\n    ON DELETE TO public.users DO INSTEAD NOTHING;"
	before.Tables["public.orders"].Inherits = []string{"public.users"}
	before.Sequences["public.s"] = &Sequence{OID: 940, Schema: "public", Name: "s", OwnedBy: "public.orders.id"}
	after.Sequences["public.s"] = &Sequence{OID: 940, Schema: "public", Name: "s"}
	before.Views["public.user_orders"].Definition = " SELECT u.email,\n    o.id\n   FROM users u\n     JOIN orders o ON o.user_id = u.id;"
	after.Views["public.user_orders"].Definition = " SELECT u.email,\n    o.id\n   FROM users u\n     JOIN orders o ON o.user_id = u.id\n  WHERE o.id >= 0;"
	before.Tables["public.users"].OfType = "person"
	after.Tables["public.users"].OfType = "s2.person"
	before.Tables["public.orders"].OfType = "purchase"
	before.Views["public.user_orders"].ColumnDetails = []*ViewColumn{{Name: "email"}, {Name: "id"}}

	after.Views["public.user_orders"].ColumnDetails = []*ViewColumn{{Name: "email", Default: "'x'::text"}, {Name: "id"}}
	checkSentences(t, "wording", Describe(Compare(before, after), DownPhrasing), []string{
		"rule r on users is left behind by the down",
		"table orders inherits nothing after the down, was users",
		"table orders is no longer of type purchase after the down",
		`view user_orders has its definition changed after the down: "JOIN orders o ON o.user_id = u.id WHERE o.id >= 0;", was "JOIN orders o ON o.user_id = u.id;"`,
		"column user_orders.email has default 'x'::text after the down, was none",
		"table users is of type s2.person after the down, was of type person",
		"table users has replica identity full after the down, was default (primary key)",
		"trigger trg on users is disabled after the down, was enabled",
		"sequence s is owned by nothing after the down, was owned by orders.id",
	})
}

// TestDescribePartitionsParentsAndGenerated: public is left out of every name of a list of parents, not
// only the first; a partition detached or attached, and a column generated or no longer, say so.
func TestDescribePartitionsParentsAndGenerated(t *testing.T) {
	col := func(name string, props ...PropertyChange) Change {
		return Change{Kind: KindColumn, Name: "public.t." + name, Table: "public.t", Properties: props}
	}
	table := func(name string, props ...PropertyChange) Change {
		return Change{Kind: KindTable, Name: "public." + name, Properties: props}
	}
	d := &Diff{Changed: []Change{
		table("c", PropertyChange{Property: "inherits", Old: "public.pa, public.pb, s.pc", New: "public.pa"}),
		table("p2", PropertyChange{Property: "partition of", Old: "public.p", New: ""}),
		table("p3", PropertyChange{Property: "partition of", Old: "", New: "s.p"}),
		table("p4", PropertyChange{Property: "partition of", Old: "public.p", New: "public.q"}),
		col("g", PropertyChange{Property: "generated", Old: "(b * 2)", New: ""}),
		col("h", PropertyChange{Property: "generated", Old: "", New: "(b * 2)"}),
		col("i", PropertyChange{Property: "generated", Old: "(b * 2)", New: "(b * 3)"}),
	}}
	checkSentences(t, "wording", Describe(d, DownPhrasing), []string{
		"table c inherits pa after the down, was pa, pb, s.pc",
		"table p2 is no longer a partition of p after the down",
		"table p3 is a partition of s.p after the down, was not a partition",
		"table p4 is a partition of q after the down, was of p",
		"column t.g is no longer generated after the down, was generated as (b * 2)",
		"column t.h is generated as (b * 2) after the down, was not generated",
		"column t.i is generated as (b * 3) after the down, was generated as (b * 2)",
	})
}

// TestDescribeDefaultsAndConstraintIndexes: an empty storage, compression or statistics target is the
// default, row security reads on/off, a comment is quoted; a constraint's own index, gone or left with
// it, is not a sentence of its own.
func TestDescribeDefaultsAndConstraintIndexes(t *testing.T) {
	d := &Diff{
		Added: []Change{
			{Kind: KindConstraint, Name: "public.u.u_email_key", Table: "public.u"},
			{Kind: KindIndex, Name: "public.u_email_key", Table: "public.u"},
			{Kind: KindIndex, Name: "public.u_other_idx", Table: "public.u"},
		},
		Changed: []Change{
			{Kind: KindColumn, Name: "public.c.body", Table: "public.c", Properties: []PropertyChange{
				{Property: "storage", Old: "", New: "main"}, {Property: "statistics target", Old: "", New: "500"},
				{Property: "comment", Old: "", New: "login, email"}}},
			{Kind: KindTable, Name: "public.c", Properties: []PropertyChange{{Property: "row security", Old: "false", New: "true"}}},
		},
	}
	got := strings.Join(Describe(d, DownPhrasing), "\n")
	for _, want := range []string{
		"constraint u_email_key on u is left behind by the down",
		"index u_other_idx is left behind by the down",
		"column c.body has storage main after the down, was default",
		"column c.body has statistics target 500 after the down, was default",
		`column c.body has comment "login, email" after the down, was none`,
		"table c has row security on after the down, was off",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "index u_email_key") {
		t.Errorf("the constraint's index has a sentence of its own:\n%s", got)
	}
}

// TestDescribeWhiteSpaceOnly: a definition that differs only in white space says so and shows the first
// line that differs with its white space written out, instead of two equal quotes.
func TestDescribeWhiteSpaceOnly(t *testing.T) {
	body := func(indent string) string {
		return "CREATE OR REPLACE FUNCTION public.f()\n RETURNS integer\n LANGUAGE plpgsql\nAS $function$\nBEGIN\n" + indent + "RETURN 1;\nEND\n$function$\n"
	}
	fn := func(def string) *Catalog {
		c := NewCatalog()
		c.Functions["public.f()"] = &Function{OID: 950, Schema: "public", Name: "f", Kind: "f", Result: "integer", Definition: def}
		return c
	}
	checkSentences(t, "indent", Describe(Compare(fn(body("  ")), fn(body("    "))), DownPhrasing), []string{
		`function f() has its definition changed in white space only after the down: line 6 is "    RETURN 1;", was "  RETURN 1;"`,
	})
	checkSentences(t, "blank line", Describe(Compare(fn(body("  ")), fn(strings.Replace(body("  "), "BEGIN\n", "BEGIN\n\n", 1))), DownPhrasing), []string{
		`function f() has its definition changed in white space only after the down: 10 lines, was 9; line 6 is "", was "  RETURN 1;"`,
	})
	// a line broken in two
	checkSentences(t, "broken line", Describe(Compare(fn(body("  ")), fn(strings.Replace(body("  "), "RETURN 1;", "RETURN\n    1;", 1))), DownPhrasing), []string{
		`function f() has its definition changed in white space only after the down: 10 lines, was 9; line 6 is "  RETURN", was "  RETURN 1;"`,
	})
}

// TestCompareCollationAndPolicyKind: a column or domain on its type's default collation reads "the
// default collation", and a policy's kind PERMISSIVE or RESTRICTIVE.
func TestCompareCollationAndPolicyKind(t *testing.T) {
	before, after := shop(), shop()
	before.Tables["public.orders"].Columns[2].Collation = `"C"`
	after.Tables["public.users"].Columns[1].Collation = `"C"`
	before.Domains["public.code"] = &Domain{OID: 500, Schema: "public", Name: "code", BaseType: "text", Collation: `"C"`}
	after.Domains["public.code"] = &Domain{OID: 500, Schema: "public", Name: "code", BaseType: "text"}
	before.Policies["public.orders.own"] = &Policy{OID: 600, Schema: "public", Table: "orders", Name: "own", Command: "*",
		Permissive: true, Roles: "public", Using: "true"}
	p := *before.Policies["public.orders.own"]
	p.Permissive = false
	after.Policies["public.orders.own"] = &p
	checkSentences(t, "down", Describe(Compare(before, after), DownPhrasing), []string{
		`column orders.note has the default collation after the down, was collation "C"`,
		"policy own on orders is RESTRICTIVE after the down, was PERMISSIVE",
		`column users.email has collation "C" after the down, was the default collation`,
		`domain code has the default collation after the down, was collation "C"`,
	})
}
