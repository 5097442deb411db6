package lint

import (
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/schema"
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

// TestKeyFastPathsCutAsSplitKey: keySchema and splitOwner, which cut a key without a quoted part or a
// function's arguments at its dots, give what reading it part by part (schema.CutKey, schema.SplitKey
// and schema.Key, as they did) gives, for keys Key writes from names with dots, quotes, parentheses and
// empty names, and for any string of those bytes.
func TestKeyFastPathsCutAsSplitKey(t *testing.T) {
	t.Parallel()
	slowSchema := func(key string) string {
		sch, _, _ := schema.CutKey(key)
		return sch
	}
	slowOwner := func(col string) (string, string) {
		parts := schema.SplitKey(col)
		if len(parts) < 2 {
			return col, ""
		}
		return schema.Key(parts[:len(parts)-1]...), parts[len(parts)-1]
	}
	rng := rand.New(rand.NewSource(1))
	const alphabet = `ab.."(),é `
	str := func(n int) string {
		var b strings.Builder
		for i := rng.Intn(n + 1); i > 0; i-- {
			b.WriteString(string([]rune(alphabet)[rng.Intn(len([]rune(alphabet)))]))
		}
		return b.String()
	}
	keys := []string{"", ".", "..", "a", "a.", ".a", "a..b", "a.b.", "public.t.c", `public."a.b".c`, `"".t.c`, `a."".c`, "public.f(int, public.t).x"}
	for i := 0; i < 200000; i++ {
		if i%2 == 0 {
			names := make([]string, 1+rng.Intn(4))
			for j := range names {
				names[j] = str(4)
			}
			keys = append(keys, schema.Key(names...))
		} else {
			keys = append(keys, str(8))
		}
	}
	fast := 0
	for _, k := range keys {
		if got, want := keySchema(k), slowSchema(k); got != want {
			t.Fatalf("keySchema(%q) = %q, CutKey gives %q", k, got, want)
		}
		gt, gc := splitOwner(k)
		if wt, wc := slowOwner(k); gt != wt || gc != wc {
			t.Fatalf("splitOwner(%q) = %q, %q; SplitKey and Key give %q, %q", k, gt, gc, wt, wc)
		}
		if !strings.ContainsAny(k, `"(`) {
			fast++
		}
	}
	if fast < len(keys)/4 {
		t.Fatalf("only %d of %d keys take the fast paths", fast, len(keys))
	}
}
