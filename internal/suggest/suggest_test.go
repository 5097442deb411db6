package suggest

import "testing"

func TestDistance(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"", "abc", 3}, {"abc", "", 3}, {"schemas", "schemas", 0},
		{"shemas", "schemas", 1},   // insertion
		{"schemass", "schemas", 1}, // deletion
		{"Schemas", "schemas", 1},  // case counts
		{"kitten", "sitting", 3},   // substitution, substitution, insertion
		{"prefer-bigint", "prefer-bigin", 1},
		{"sqlMigrationPrefx", "sqlMigrationPrefix", 1},
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Distance(c.b, c.a); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetric)", c.b, c.a, got, c.want)
		}
	}
}
