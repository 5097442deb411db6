package schema

import (
	"slices"
	"strings"
	"testing"
)

// TestDescribeOperatorFamiliesAndClasses: a member of a family or class gained, lost or changed, and a
// class made the default, read as sentences that name the member's slot.
func TestDescribeOperatorFamiliesAndClasses(t *testing.T) {
	lt := OpMember{Kind: "OPERATOR", Number: 1, Left: "integer", Right: "bigint", Object: "<(integer,bigint)"}
	cmp := OpMember{Kind: "FUNCTION", Number: 1, Left: "integer", Right: "bigint", Object: "btint48cmp(integer,bigint)"}
	le := OpMember{Kind: "OPERATOR", Number: 2, Left: "integer", Right: "bigint", Object: "<=(integer,bigint)"}
	catalog := func(fam []OpMember, def bool, eq string) *Catalog {
		c := NewCatalog()
		f := &OperatorFamily{OID: 1, Schema: "public", Name: "f", Method: "btree", Members: fam}
		x := &OperatorClass{OID: 2, Schema: "public", Name: "c", Method: "btree", Type: "integer", Family: "public.f", Default: def,
			Members: []OpMember{{Kind: "OPERATOR", Number: 3, Left: "integer", Right: "integer", Object: eq}}}
		c.OperatorFamilies[f.Key()], c.OperatorClasses[x.Key()] = f, x
		c.SortMembers()
		return c
	}
	before := catalog([]OpMember{cmp, lt}, false, "===(integer,integer)")
	after := catalog([]OpMember{le, cmp}, true, "====(integer,integer)")
	got := Describe(Compare(before, after), DownPhrasing)
	want := []string{
		"operator family f USING btree no longer has OPERATOR 1 (integer, bigint) <(integer,bigint) after the down",
		"operator family f USING btree has OPERATOR 2 (integer, bigint) <=(integer,bigint) after the down, did not before",
		"operator class c USING btree is the default for its type after the down, was not the default for its type",
		"operator class c USING btree has OPERATOR 3 (integer, integer) ====(integer,integer) after the down, was ===(integer,integer)",
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("sentences lack %q:\n%q", w, got)
		}
	}
	if m := before.OperatorFamilies["public.f USING btree"].Members; m[0] != lt || m[1] != cmp {
		t.Errorf("members %v, want the operator first", m)
	}
}

// TestSignaturesWithParentheses: a quoted name may hold "(" or ","; signatures as regprocedure and
// regoperator write them are cut where their argument list starts, whatever the names hold.
func TestSignaturesWithParentheses(t *testing.T) {
	tests := []struct {
		name, sig, fn, key string
	}{
		{name: "plain", sig: "===(integer,integer)", fn: "===", key: "public.===(integer, integer)"},
		{name: "quoted function", sig: `"f(x)"(integer,integer)`, fn: `"f(x)"`, key: `public."f(x)"(integer, integer)`},
		{name: "quoted schema", sig: `"s(1".<~>(integer,integer)`, fn: `"s(1".<~>`, key: `"s(1".<~>(integer, integer)`},
		{name: "quoted type", sig: `s.<~>(NONE,"a(b,c)")`, fn: "s.<~>", key: `s.<~>(NONE, "a(b,c)")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := functionName(tt.sig); got != tt.fn {
				t.Errorf("functionName(%s) = %s, want %s", tt.sig, got, tt.fn)
			}
			if got := operatorKey(tt.sig); got != tt.key {
				t.Errorf("operatorKey(%s) = %s, want %s", tt.sig, got, tt.key)
			}
		})
	}
	m := OpMember{Kind: "OPERATOR", Number: 3, Left: "integer", Right: `"a(b,c)"`, Object: `"s(1".<~>(integer,"a(b,c)")`}
	if got, want := m.SQL(), `OPERATOR 3 "s(1".<~> (integer, "a(b,c)")`; got != want {
		t.Errorf("member SQL %s, want %s", got, want)
	}
}

// TestGeneratedDownOfDanglingLink: an operator whose commutator dangles (its partner dropped without
// linking back) is created again without it, with a warning: no statement makes such a link.
func TestGeneratedDownOfDanglingLink(t *testing.T) {
	before := NewCatalog()
	x := &Operator{OID: 1, Schema: "public", Name: "~>>", Left: "integer", Right: "integer", Result: "boolean",
		Function: "same(integer,integer)", Commutator: DroppedOperator}
	before.Operators[x.Key()] = x
	down := GenerateDown(before, NewCatalog())
	if !strings.Contains(down.SQL, "CREATE OPERATOR public.~>> (LEFTARG = integer, RIGHTARG = integer, FUNCTION = same)") {
		t.Errorf("down does not create ~>> without its link:\n%s", down.SQL)
	}
	if len(down.Warnings) != 1 || !strings.Contains(down.Warnings[0], "not restored: the link of operator ~>>(integer, integer)") {
		t.Errorf("warnings %q, want the dangling link", down.Warnings)
	}
}
