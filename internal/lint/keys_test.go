package lint

import (
	"slices"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestDottedNamesAreTwoRelations: a."b.c" and "a.b".c are two tables. Creating one leaves the other
// pre-existing (their keys were once both a.b.c), and the change's own table is told apart from the
// other by the keys the rehearsal gives (Config.ChangeCreated).
func TestDottedNamesAreTwoRelations(t *testing.T) {
	schemaSQL := `CREATE SCHEMA a; CREATE SCHEMA "a.b"; CREATE TABLE "a.b".c (x int);`
	tests := []struct {
		name    string
		sql     string
		created map[string]string
		want    bool
	}{
		{name: "created in the migration", sql: `CREATE TABLE a."b.c" (x int);
ALTER TABLE "a.b".c ADD COLUMN y text;`, want: true},
		{name: "created earlier in the change", sql: `ALTER TABLE "a.b".c ADD COLUMN y text;`,
			created: map[string]string{`a."b.c"`: "1"}, want: true},
		{name: "the table itself created earlier in the change", sql: `ALTER TABLE "a.b".c ADD COLUMN y text;`,
			created: map[string]string{`"a.b".c`: "1"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := &migrate.Script{File: "1.sql", SQL: tt.sql, Statements: sqlparse.Parse(tt.sql)}
			var rules []string
			for _, f := range AnalyzeScript(script, true, Config{Schema: schemaSQL, ChangeCreated: tt.created}) {
				rules = append(rules, f.Rule)
			}
			if got := slices.Contains(rules, "add-column-nullable"); got != tt.want {
				t.Errorf("add-column-nullable found: %v, want %v (findings %q)", got, tt.want, rules)
			}
		})
	}
}
