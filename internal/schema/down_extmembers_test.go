package schema

import (
	"slices"
	"testing"
)

// withMembers is c with extension name (version 1.8) owning the members.
func withMembers(c *Catalog, name string, members ...ExtensionMember) *Catalog {
	c.Extensions[name] = &Extension{Name: name, Version: "1.8", Schema: "public", Members: members}
	return c
}

var (
	hstoreType = ExtensionMember{Object: "type public.hstore", Class: classType, OID: 700}
	fMember    = ExtensionMember{Object: "function public.f(integer)", Class: classProcedure, OID: 900}
)

func withF(c *Catalog) *Catalog {
	c.Functions["public.f(integer)"] = &Function{OID: 900, Schema: "public", Name: "f", Args: "integer", Kind: "f", Result: "integer",
		Definition: "CREATE OR REPLACE FUNCTION public.f(integer) RETURNS integer LANGUAGE sql AS $function$SELECT 1$function$"}
	return c
}

// TestCompareExtensionMembers: an object that joins or leaves an extension (ALTER EXTENSION ... ADD or
// DROP), which the catalog lists on the extension and leaves out of its other objects, is a difference,
// told with the member as the subject in each phrasing.
func TestCompareExtensionMembers(t *testing.T) {
	before := withMembers(NewCatalog(), "hstore", hstoreType, fMember)
	after := withMembers(NewCatalog(), "hstore", hstoreType)
	tests := []struct {
		name       string
		old, new   *Catalog
		phrasing   Phrasing
		want       []string
		wantChange bool
	}{
		{name: "let go, not given back by the down", old: before, new: after, phrasing: DownPhrasing,
			want: []string{"function public.f(integer) is no longer a member of extension hstore after the down"}},
		{name: "given, not let go by the down", old: after, new: before, phrasing: DownPhrasing,
			want: []string{"function public.f(integer) is a member of extension hstore after the down, not before"}},
		{name: "missing after re-up", old: before, new: after, phrasing: ReUpPhrasing,
			want: []string{"function public.f(integer) is no longer a member of extension hstore after re-up"}},
		{name: "the same members", old: before, new: withMembers(NewCatalog(), "hstore", hstoreType, fMember), phrasing: DownPhrasing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Describe(Compare(tc.old, tc.new), tc.phrasing)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestGenerateDownExtensionMembers: a generated down lets go of what the up gave an extension and gives
// back what the up took from one, first, so that the object is neither created again (it is there) nor
// dropped (it was there before); an object the up made and gave an extension is let go, then dropped;
// one the up let go and dropped cannot come back (the catalog has no member's definition).
func TestGenerateDownExtensionMembers(t *testing.T) {
	release := "ALTER EXTENSION hstore DROP FUNCTION public.f(integer)"
	join := "ALTER EXTENSION hstore ADD FUNCTION public.f(integer)"
	tests := []struct {
		name          string
		before, after *Catalog
		want          []string // the statements, in order
		irreversible  bool
	}{
		{name: "a user function given to the extension",
			before: withMembers(withF(NewCatalog()), "hstore", hstoreType),
			after:  withMembers(NewCatalog(), "hstore", hstoreType, fMember),
			want:   []string{release}},
		{name: "a function made by the up and given to the extension",
			before: withMembers(NewCatalog(), "hstore", hstoreType),
			after:  withMembers(NewCatalog(), "hstore", hstoreType, fMember),
			want:   []string{release, "DROP FUNCTION public.f(integer)"}},
		{name: "a member let go",
			before: withMembers(NewCatalog(), "hstore", hstoreType, fMember),
			after:  withMembers(withF(NewCatalog()), "hstore", hstoreType),
			want:   []string{join}},
		{name: "a member moved to another extension",
			before: withMembers(withMembers(NewCatalog(), "citext"), "hstore", hstoreType, fMember),
			after:  withMembers(withMembers(NewCatalog(), "citext", fMember), "hstore", hstoreType),
			want:   []string{"ALTER EXTENSION citext DROP FUNCTION public.f(integer)", join}},
		{name: "a user function given to an extension the up created",
			before: withF(NewCatalog()),
			after:  withMembers(NewCatalog(), "hstore", hstoreType, fMember),
			want:   []string{release, "DROP EXTENSION hstore"}},
		{name: "a member let go and dropped",
			before:       withMembers(NewCatalog(), "hstore", hstoreType, fMember),
			after:        withMembers(NewCatalog(), "hstore", hstoreType),
			irreversible: true},
		{name: "members of an extension the up updated",
			before: withMembers(NewCatalog(), "hstore", hstoreType),
			after: func() *Catalog {
				c := withMembers(NewCatalog(), "hstore", hstoreType, fMember)
				c.Extensions["hstore"].Version = "1.9"
				return c
			}(),
			want: []string{"ALTER EXTENSION hstore UPDATE TO '1.8'"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := GenerateDown(tc.before, tc.after)
			if got := d.Statements(); !slices.Equal(got, tc.want) {
				t.Errorf("statements:\n%q\nwant:\n%q\n%s", got, tc.want, d.SQL)
			}
			if d.Reversible() == tc.irreversible {
				t.Errorf("reversible: %v, want %v:\n%s", d.Reversible(), !tc.irreversible, d.SQL)
			}
		})
	}
}

// TestMemberSQL: pg_identify_object's types become the keywords ALTER EXTENSION names members by.
func TestMemberSQL(t *testing.T) {
	for object, want := range map[string]string{
		"function public.f(integer)":                     "FUNCTION public.f(integer)",
		"operator class public.c USING btree":            "OPERATOR CLASS public.c USING btree",
		"operator public.=(public.hstore,public.hstore)": "OPERATOR public.=(public.hstore,public.hstore)",
		"foreign-data wrapper w":                         "FOREIGN DATA WRAPPER w",
		"cast (text[] AS public.hstore)":                 "CAST (text[] AS public.hstore)",
		"materialized view public.mv":                    "MATERIALIZED VIEW public.mv",
	} {
		if got := memberSQL(object); got != want {
			t.Errorf("memberSQL(%q) = %q, want %q", object, got, want)
		}
	}
}
