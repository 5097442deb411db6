package config

import "testing"

// TestRuleClassesAnyCase: rule classes in schemagate.yml are read in any letter case, as --rule reads them.
func TestRuleClassesAnyCase(t *testing.T) {
	cfg := Default()
	if err := Parse("schemagate.yml", []byte("lint:\n  rules: {set-not-null: OFF, drop-column: Dangerous, truncate: ' caution '}\n"), cfg); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"set-not-null": "off", "drop-column": "dangerous", "truncate": "caution"} {
		if got := cfg.Lint.Rules[id]; got != want {
			t.Errorf("%s: class %q, want %q", id, got, want)
		}
	}
}
