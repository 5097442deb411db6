package schema

import (
	"slices"
	"strings"
	"testing"
)

// TestDescribeProceduralObjects: a table's access method, a language's TRUSTED and a conversion's DEFAULT
// read as sentences, and a language the up added goes after the functions written in it and before its
// handler in a generated down, which creates a dropped one again between the two.
func TestDescribeProceduralObjects(t *testing.T) {
	catalog := func(am string, trusted, def bool) *Catalog {
		c := NewCatalog()
		c.Tables["public.t"] = &Table{OID: 1, Schema: "public", Name: "t", AccessMethod: am}
		c.Languages["pl"] = &Language{OID: 2, Name: "pl", Trusted: trusted, Handler: "pl_handler"}
		c.Conversions["public.conv"] = &Conversion{OID: 3, Schema: "public", Name: "conv", Source: "LATIN1", Destination: "UTF8",
			Function: "conv_fn", Default: def}
		return c
	}
	got := Describe(Compare(catalog("", false, true), catalog("heap2", true, false)), DownPhrasing)
	for _, w := range []string{
		"table t's access method is heap2 after the down, was heap",
		"language pl is TRUSTED after the down, was not TRUSTED",
		"conversion conv is not the default for its encodings after the down, was the default for its encodings",
	} {
		if !slices.Contains(got, w) {
			t.Errorf("sentences lack %q:\n%q", w, got)
		}
	}

	handler := &Function{OID: 10, Schema: "public", Name: "pl_handler", Kind: "f", Result: "language_handler",
		Definition: "CREATE OR REPLACE FUNCTION public.pl_handler()\n RETURNS language_handler\n LANGUAGE c\nAS '$libdir/plpgsql', $function$plpgsql_call_handler$function$\n"}
	inPL := &Function{OID: 11, Schema: "public", Name: "a_in_pl", Kind: "f", Result: "integer",
		Definition: "CREATE OR REPLACE FUNCTION public.a_in_pl()\n RETURNS integer\n LANGUAGE pl\nAS $function$BEGIN RETURN 1; END$function$\n"}
	with := NewCatalog()
	with.Languages["pl"] = &Language{OID: 2, Name: "pl", Handler: "pl_handler"}
	with.Functions[handler.Signature()], with.Functions[inPL.Signature()] = handler, inPL
	order := func(sql string, parts ...string) {
		t.Helper()
		at := -1
		for _, p := range parts {
			i := strings.Index(sql, p)
			if i <= at {
				t.Errorf("%q not after %q in\n%s", p, parts, sql)
				return
			}
			at = i
		}
	}
	order(GenerateDown(NewCatalog(), with).SQL, "DROP ROUTINE a_in_pl()", "DROP LANGUAGE pl", "DROP ROUTINE pl_handler()")
	order(GenerateDown(with, NewCatalog()).SQL, "CREATE OR REPLACE FUNCTION public.pl_handler()", "CREATE LANGUAGE pl HANDLER pl_handler",
		"CREATE OR REPLACE FUNCTION public.a_in_pl()")
}
