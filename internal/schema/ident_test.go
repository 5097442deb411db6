package schema

import (
	"slices"
	"testing"
)

// TestKeys: a key quotes only the names that would make it ambiguous, and splits back into its names.
func TestKeys(t *testing.T) {
	tests := []struct {
		name  string
		parts []string
		key   string
		sql   string // qkey
	}{
		{name: "plain", parts: []string{"public", "users"}, key: "public.users", sql: "users"},
		{name: "upper case stays readable", parts: []string{"app", "Users"}, key: "app.Users", sql: `app."Users"`},
		{name: "dotted table", parts: []string{"a", "b.c"}, key: `a."b.c"`, sql: `a."b.c"`},
		{name: "dotted schema", parts: []string{"a.b", "c"}, key: `"a.b".c`, sql: `"a.b".c`},
		{name: "quotes doubled", parts: []string{"s", `say "hi"`}, key: `s."say ""hi"""`, sql: `s."say ""hi"""`},
		{name: "parenthesis", parts: []string{"s", "f(x"}, key: `s."f(x"`, sql: `s."f(x"`},
		{name: "column", parts: []string{"a.b", "c", "d.e"}, key: `"a.b".c."d.e"`, sql: `"a.b".c."d.e"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Key(tt.parts...); got != tt.key {
				t.Errorf("Key(%q) = %s, want %s", tt.parts, got, tt.key)
			}
			if got := SplitKey(tt.key); !slices.Equal(got, tt.parts) {
				t.Errorf("SplitKey(%s) = %q, want %q", tt.key, got, tt.parts)
			}
			if got := qkey(tt.key); got != tt.sql {
				t.Errorf("qkey(%s) = %s, want %s", tt.key, got, tt.sql)
			}
		})
	}
	if Key("a", "b.c") == Key("a.b", "c") {
		t.Error(`a."b.c" and "a.b".c share a key`)
	}
	// A function's signature: its arguments belong to its last part.
	if got := SplitKey(`"a.b".f(integer, public.t)`); !slices.Equal(got, []string{"a.b", "f(integer, public.t)"}) {
		t.Errorf("SplitKey of a signature = %q", got)
	}
	if got := keyName(`s."f(x"(integer)`); got != "f(x" {
		t.Errorf("keyName = %q, want f(x", got)
	}
	if got := keyParent(`"a.b".c.d`); got != `"a.b".c` {
		t.Errorf("keyParent = %q", got)
	}
	if got := typeKey(`"a.b"."My Type"`); got != `"a.b".My Type` {
		t.Errorf("typeKey = %q", got)
	}
}
