package schema

import (
	"strings"
	"testing"
)

// TestGenerateDownShellTypes: a shell type the up made is dropped after the routines that name it, one
// it dropped is made again (with its comment) before the routines that name it; a shell the up defined
// as a base type, and a base type the up left a shell, are irreversible steps with no SQL, as the
// catalog holds no base type's definition.
func TestGenerateDownShellTypes(t *testing.T) {
	shell := func(c *Catalog) *Catalog {
		c.ShellTypes["public.sh"] = &ShellType{OID: 960, Schema: "public", Name: "sh", Comment: "later"}
		return c
	}
	in := func(c *Catalog) *Catalog {
		c.Functions["public.sh_in(cstring)"] = &Function{OID: 961, Schema: "public", Name: "sh_in", Args: "cstring", ArgTypes: "cstring",
			Kind: "f", Result: "sh", Definition: "CREATE OR REPLACE FUNCTION public.sh_in(cstring)\n RETURNS sh\n LANGUAGE internal\nAS $function$int4in$function$\n"}
		return c
	}
	// Made with a routine that names it: the routine goes first.
	d := GenerateDown(shop(), in(shell(shop())))
	if f, s := stepIndex(d, "DROP ROUTINE sh_in(cstring)"), stepIndex(d, "DROP TYPE sh"); f < 0 || s <= f {
		t.Errorf("want DROP TYPE sh (at %d) after the routine (at %d):\n%s", s, f, d.SQL)
	}
	// Dropped with CASCADE, the routine with it: the shell first, then the routine, and the comment.
	d = GenerateDown(in(shell(shop())), shop())
	order := []string{"CREATE TYPE sh", "CREATE OR REPLACE FUNCTION", "COMMENT ON TYPE sh IS 'later'"}
	last := -1
	for _, p := range order {
		i := stepIndex(d, p)
		if i <= last {
			t.Fatalf("step %q at %d, want after %d\n%s", p, i, last, d.SQL)
		}
		last = i
	}
	// Filled by CREATE TYPE sh (INPUT = sh_in, ...): sh_in names it, no shell is left. No CREATE TYPE.
	d = GenerateDown(in(shell(shop())), in(shop()))
	if d.Reversible() || stepIndex(d, "CREATE TYPE sh") >= 0 || !strings.Contains(d.SQL, "-- IRREVERSIBLE: not restored: shell type sh") {
		t.Errorf("want an irreversible step and no CREATE TYPE:\n%s", d.SQL)
	}
	// A base type (named by sh_in before) dropped with CASCADE and made a shell: no DROP TYPE, which
	// would fail on the restored sh_in.
	d = GenerateDown(in(shop()), shell(shop()))
	if d.Reversible() || stepIndex(d, "DROP TYPE sh") >= 0 || !strings.Contains(d.SQL, "-- IRREVERSIBLE: not restored: type sh") {
		t.Errorf("want an irreversible step and no DROP TYPE:\n%s", d.SQL)
	}
	// Given to an enum: the enum goes, then the shell comes back.
	after := shop()
	after.Enums["public.sh"] = &Enum{OID: 970, Schema: "public", Name: "sh", Values: []string{"a"}}
	d = GenerateDown(shell(shop()), after)
	if e, s := stepIndex(d, "DROP TYPE sh"), stepIndex(d, "CREATE TYPE sh"); e < 0 || s <= e {
		t.Errorf("want CREATE TYPE sh (at %d) after the enum's drop (at %d):\n%s", s, e, d.SQL)
	}
	// A comment alone.
	after = shell(shop())
	after.ShellTypes["public.sh"].Comment = ""
	if d := GenerateDown(shell(shop()), after); len(d.Steps) != 1 || d.Steps[0].SQL != "COMMENT ON TYPE sh IS 'later'" {
		t.Errorf("want the comment back alone:\n%s", d.SQL)
	}
}
