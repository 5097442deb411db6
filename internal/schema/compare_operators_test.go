package schema

import (
	"slices"
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
