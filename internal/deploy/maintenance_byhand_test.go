package deploy

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The by-hand step for a maintenance switch whose off action failed is SQL a person copies: it must run
// as the action does, not as its words joined (a line comment swallowing the rest, a literal's spaces
// squeezed).
func TestByHandSQLRunsAsWritten(t *testing.T) {
	for _, tc := range []struct{ sql, want string }{
		{"-- back to normal\nUPDATE app_settings\n  SET banner = 'back  soon'\n  WHERE key = 'maintenance';",
			"run on the database: UPDATE app_settings SET banner = 'back  soon' WHERE key = 'maintenance';"},
		{"UPDATE app_settings SET banner = 'two\nlines';",
			"run on the database the maintenance.off SQL as it is written (a literal in it spans lines):\nUPDATE app_settings SET banner = 'two\nlines';\n"},
	} {
		got := byHand(&Switch{OffAction: &SQLAction{SQL: tc.sql}})
		if got != tc.want {
			t.Errorf("byHand(%q) =\n%q\nwant\n%q", tc.sql, got, tc.want)
		}
	}
	// The action's short name keeps the literal too, cut at a character's start.
	s := (&SQLAction{SQL: "UPDATE t SET v = 'a  b'"}).String()
	if s != "sql UPDATE t SET v = 'a  b'" {
		t.Errorf("String() = %q", s)
	}
	long := (&SQLAction{SQL: "UPDATE t SET v = '" + strings.Repeat("é", 60) + "'"}).String()
	if !strings.HasPrefix(long, "sql ...") || !strings.Contains(long, "é'") || strings.ContainsRune(long, '\uFFFD') || !utf8.ValidString(long) {
		t.Errorf("String() of a long action = %q", long)
	}
}
