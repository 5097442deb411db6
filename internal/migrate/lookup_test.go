package migrate

import "testing"

// TestLookup: a migration is found by what a user types: its version with or without leading zeros,
// its ID or file name, or R__name for a Flyway repeatable.
func TestLookup(t *testing.T) {
	gm, err := Read(mapFS(map[string]string{
		"0005_require_phone.up.sql": "SELECT 1;", "0005_require_phone.down.sql": "SELECT 1;",
		"0012_orders.up.sql": "SELECT 1;",
	}), FormatGolangMigrate)
	if err != nil {
		t.Fatal(err)
	}
	fw, err := Read(mapFS(map[string]string{"V1__a.sql": "SELECT 1;", "R__view_t.sql": "SELECT 1;"}), FormatFlyway)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		set        *Set
		name, want string
	}{
		{gm, "0005", "5_require_phone"}, {gm, "5", "5_require_phone"}, {gm, "005", "5_require_phone"},
		{gm, "0005_require_phone", "5_require_phone"}, {gm, "0005_require_phone.up.sql", "5_require_phone"}, {gm, "5_require_phone", "5_require_phone"},
		{gm, "12", "12_orders"}, {gm, "6", ""}, {gm, "require_phone", ""},
		{fw, "R__view_t", "view_t"}, {fw, "1", "1_a"}, {fw, "V1__a.sql", "1_a"},
	} {
		got := ""
		if m := c.set.Lookup(c.name); m != nil {
			got = m.ID()
		}
		if got != c.want {
			t.Errorf("Lookup(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}
