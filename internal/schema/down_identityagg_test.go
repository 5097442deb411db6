package schema

import (
	"strings"
	"testing"
)

// TestGenerateDownIdentityOptions: what the up did to an identity sequence's options goes back in one
// ALTER TABLE ... ALTER COLUMN, read against the defaults of the increment's sign and the sequence's
// type (an option string that lost INCREMENT BY -1 changed three options); none is written where the
// options are the same, nor for a column the down makes an identity again with its options.
func TestGenerateDownIdentityOptions(t *testing.T) {
	catalog := func(typ, seqType, opts string) *Catalog {
		c := NewCatalog()
		col := &Column{Num: 1, Name: "id", Type: typ, NotNull: true, Identity: "always", IdentityOptions: opts}
		if seqType != "" {
			col.IdentitySequence = &IdentitySequence{Type: seqType}
		}
		c.Tables["public.t"] = &Table{Schema: "public", Name: "t", Columns: []*Column{col}}
		return c
	}
	for _, tc := range []struct {
		name   string
		before *Catalog
		after  *Catalog
		want   string
	}{
		{"increment", catalog("integer", "", ""), catalog("integer", "", "INCREMENT BY 5"),
			"ALTER TABLE t ALTER COLUMN id SET INCREMENT BY 1;"},
		{"options set back", catalog("integer", "", "START WITH 10 MINVALUE 10 MAXVALUE 1000 CACHE 20 CYCLE"), catalog("integer", "", ""),
			"ALTER TABLE t ALTER COLUMN id SET MINVALUE 10 SET MAXVALUE 1000 SET START WITH 10 SET CACHE 20 SET CYCLE;"},
		{"turned descending and back", catalog("integer", "", "INCREMENT BY -1"),
			catalog("integer", "", "START WITH -1 MINVALUE -2147483648 MAXVALUE -1"),
			"ALTER TABLE t ALTER COLUMN id SET INCREMENT BY -1;"},
		{"narrowed: before the type", catalog("integer", "", ""), catalog("bigint", "", "MAXVALUE 5000000000"),
			"ALTER TABLE t ALTER COLUMN id SET NO MAXVALUE;\n\n-- change t.id back to integer\nALTER TABLE t ALTER COLUMN id TYPE integer;"},
		{"widened: after the type", catalog("bigint", "", "MAXVALUE 1000"), catalog("bigint", "integer", "MAXVALUE 2000"),
			"ALTER SEQUENCE t_id_seq AS bigint;\n\n-- restore the options of the identity sequence of column t.id\nALTER TABLE t ALTER COLUMN id SET MAXVALUE 1000;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := GenerateDown(tc.before, tc.after)
			if !strings.Contains(d.SQL, tc.want) || !d.Reversible() {
				t.Errorf("generated down:\n%s\nwant it to hold\n%s", d.SQL, tc.want)
			}
		})
	}
	// The same options after a type change that AS moves by itself: the type alone.
	d := GenerateDown(catalog("bigint", "", ""), catalog("bigint", "integer", ""))
	if strings.Contains(d.SQL, "ALTER TABLE") {
		t.Errorf("options restored where AS gives them back:\n%s", d.SQL)
	}
	// Identity dropped and added again by the down: its options come with ADD GENERATED.
	noIdentity := catalog("integer", "", "")
	noIdentity.Tables["public.t"].Columns[0].Identity = ""
	d = GenerateDown(catalog("integer", "", "CACHE 5"), noIdentity)
	if strings.Count(d.SQL, "CACHE 5") != 1 || strings.Contains(d.SQL, "SET CACHE") {
		t.Errorf("identity made again:\n%s", d.SQL)
	}
}

// TestGenerateDownAggregates: an aggregate the up dropped or replaced is made again from its definition,
// with its parallel safety and a qualified sort operator inside OPERATOR(...); one whose parallel
// safety alone changed is replaced too; one of no arguments is dropped as agg(*); one with no
// definition read stays an irreversible step, worded as before.
func TestGenerateDownAggregates(t *testing.T) {
	agg := func(name, args, def, parallel string) *Function {
		return &Function{Schema: "public", Name: name, Args: args, Kind: "a", Result: "integer", Parallel: parallel,
			Definition: "CREATE OR REPLACE AGGREGATE public." + name + "(" + or(args, "*") + ") (" + def + ")"}
	}
	before := NewCatalog()
	before.Functions["public.s(integer)"] = agg("s", "integer", "SFUNC = int4pl, STYPE = integer", "PARALLEL SAFE")
	before.Functions["public.m(integer)"] = agg("m", "integer", "SFUNC = int4larger, STYPE = integer, SORTOP = pg_catalog.>", "PARALLEL UNSAFE")
	before.Functions["public.p(integer)"] = agg("p", "integer", "SFUNC = int4pl, STYPE = integer", "PARALLEL UNSAFE")
	before.Functions["public.x(integer)"] = &Function{Schema: "public", Name: "x", Args: "integer", Kind: "a", Result: "integer"}
	after := NewCatalog()
	after.Functions["public.s(integer)"] = agg("s", "integer", "SFUNC = int4pl, STYPE = integer, INITCOND = '1'", "PARALLEL SAFE")
	after.Functions["public.p(integer)"] = agg("p", "integer", "SFUNC = int4pl, STYPE = integer", "PARALLEL RESTRICTED")
	after.Functions["public.c()"] = agg("c", "", "SFUNC = int8inc, STYPE = bigint", "PARALLEL UNSAFE")
	d := GenerateDown(before, after)
	for _, w := range []string{
		"-- restore the definition of aggregate s(integer)\nCREATE OR REPLACE AGGREGATE public.s(integer) (SFUNC = int4pl, STYPE = integer, PARALLEL = SAFE);",
		"-- re-create aggregate m(integer)\nCREATE OR REPLACE AGGREGATE public.m(integer) (SFUNC = int4larger, STYPE = integer, SORTOP = OPERATOR(pg_catalog.>));",
		"CREATE OR REPLACE AGGREGATE public.p(integer) (SFUNC = int4pl, STYPE = integer);",
		"DROP AGGREGATE c(*);",
	} {
		if !strings.Contains(d.SQL, w) {
			t.Errorf("missing %s in:\n%s", w, d.SQL)
		}
	}
	if strings.Contains(d.SQL, "check_function_bodies") {
		t.Errorf("function bodies unchecked for aggregates alone:\n%s", d.SQL)
	}
	if want := "aggregate x(integer) cannot be re-created from the catalog: write its CREATE AGGREGATE by hand"; d.Reversible() ||
		!strings.Contains(strings.Join(d.Warnings, "\n"), want) {
		t.Errorf("warnings %q, want %q", d.Warnings, want)
	}
}
