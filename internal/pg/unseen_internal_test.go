package pg

import (
	"fmt"
	"testing"

	"github.com/schemagate/schemagate/internal/schema"
)

// BenchmarkCallsUnseen is what CallsUnseen costs a round trip's step on a catalog of 500 functions:
// none of which writes what the probe cannot see (most catalogs), or one that does, which the others
// do not call (every function is then looked at for names).
func BenchmarkCallsUnseen(b *testing.B) {
	for _, tc := range []struct {
		name   string
		unseen bool
	}{{"none", false}, {"one", true}} {
		b.Run(tc.name, func(b *testing.B) {
			funcs := map[string]*schema.Function{}
			for i := range 500 {
				f := &schema.Function{Schema: "public", Name: fmt.Sprintf("t%d_count", i), Result: "bigint",
					Definition: fmt.Sprintf("CREATE OR REPLACE FUNCTION public.t%[1]d_count()\n RETURNS bigint\n LANGUAGE sql\n STABLE\nAS $function$ SELECT count(*) FROM t%[1]d $function$\n", i)}
				funcs[f.Signature()] = f
			}
			if tc.unseen {
				f := &schema.Function{Schema: "public", Name: "grant_col", Result: "void",
					Definition: "CREATE OR REPLACE FUNCTION public.grant_col(c text)\n RETURNS void\n LANGUAGE plpgsql\nAS $function$ BEGIN EXECUTE format('GRANT SELECT (%I) ON t TO r', c); END $function$\n"}
				funcs[f.Signature()] = f
			}
			mark := &Mark{raw: &schema.Catalog{Functions: funcs}}
			in := &Inspector{}
			for b.Loop() {
				if in.CallsUnseen("ALTER TABLE t1 ADD COLUMN note_2 text;\nALTER TABLE t1 ADD COLUMN qty_2 integer NOT NULL DEFAULT 0;\n", mark) {
					b.Fatal("CallsUnseen = true, want false")
				}
			}
		})
	}
}

// TestCallsUnseenAsksAgainWhenFunctionsChange: the answer kept for the functions last asked about is
// not given for others, even when they differ only by one function's definition.
func TestCallsUnseenAsksAgainWhenFunctionsChange(t *testing.T) {
	fn := func(body string) *schema.Function {
		return &schema.Function{Schema: "public", Name: "wrapper", Result: "void",
			Definition: "CREATE OR REPLACE FUNCTION public.wrapper()\n RETURNS void\n LANGUAGE sql\nAS $function$ " + body + " $function$\n"}
	}
	grant := &schema.Function{Schema: "public", Name: "grant_col", Result: "void",
		Definition: "CREATE OR REPLACE FUNCTION public.grant_col()\n RETURNS void\n LANGUAGE sql\nAS $function$ GRANT SELECT (a) ON t TO r $function$\n"}
	calls := &Mark{raw: &schema.Catalog{Functions: map[string]*schema.Function{"public.wrapper()": fn("SELECT grant_col()"), "public.grant_col()": grant}}}
	plain := &Mark{raw: &schema.Catalog{Functions: map[string]*schema.Function{"public.wrapper()": fn("SELECT 1"), "public.grant_col()": grant}}}
	in := &Inspector{}
	for i, tc := range []struct {
		mark *Mark
		want bool
	}{{calls, true}, {calls, true}, {plain, false}, {calls, true}, {plain, false}} {
		if got := in.CallsUnseen("SELECT wrapper()", tc.mark); got != tc.want {
			t.Errorf("ask %d: CallsUnseen = %v, want %v", i, got, tc.want)
		}
	}
}
