package lint

import (
	"fmt"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// saferFormExempt are the rules whose page shows a safer form that schemagate lint cannot rate below
// the rule's class, each with why. TestRuleExamples still checks that the form does not trigger the
// rule itself. No example needs a live catalog or another version than its "-- with pg_version" line.
var saferFormExempt = map[string]string{
	// Emptying tables is dangerous however it is written (truncate): the safer form names every table
	// it empties, where CASCADE empties the tables that reference them unseen, and stays a TRUNCATE.
	"truncate-cascade": "TRUNCATE is dangerous itself (truncate); the form names the tables CASCADE would empty unseen",
}

// TestRuleExamples: every rule raised from the parse tree triggers on the "Triggers" example of its page
// at its class or above and stays silent on its "Does not trigger" example, run as the page shows them:
// on the example schema (testdata/schema.sql) after the rule's Given, in a transaction unless the
// example is a goose file with NO TRANSACTION, on the version its "-- with pg_version N" line names,
// each part that a "-- next migration" line begins a migration of its own after the ones before it.
// Pages showed examples that were no SQL, or that triggered the rule they were shown not to trigger.
// Where the page calls the example the safer form, schemagate lint on it raises nothing above the
// rule's class, and nothing dangerous: the "safer form" of change-column-type-coercible was a
// varchar(50) shrunk to varchar(10), a dangerous change-column-type-rewrite, and that of
// change-column-type-with-checks set TimeZone to UTC after the ALTER, which then rewrote the table.
// Rules raised from the trace or by comparing with the base have examples that only illustrate.
func TestRuleExamples(t *testing.T) {
	t.Parallel()
	schema := testSchema(t)
	for _, r := range Rules() {
		if r.Dynamic || r.History {
			continue
		}
		t.Run(r.ID, func(t *testing.T) {
			t.Parallel()
			bad, found := exampleRisk(t, r, r.Bad, schema)
			if !found || bad < r.Risk {
				t.Errorf("the Triggers example %q gives %s %v (found %v), want at least %v", r.Bad, r.ID, bad, found, r.Risk)
			}
			good := exampleFindings(t, r, r.Good, schema)
			for _, f := range good {
				if f.Rule == r.ID {
					t.Errorf("the Does-not-trigger example %q gives %s %v", r.Good, r.ID, f.Risk)
				}
			}
			if !r.HasSaferForm() {
				return
			}
			if why, ok := saferFormExempt[r.ID]; ok {
				t.Logf("safer form not judged: %s", why)
				return
			}
			// A safer form is no worse than what it replaces, and a dangerous rule's is not dangerous.
			limit := min(r.Risk, Caution)
			for _, f := range good {
				if !f.Ignored && f.Risk > limit {
					t.Errorf("the safer form %q gives %s, above %v", r.Good, f, limit)
				}
			}
		})
	}
}

// exampleRisk is the highest risk of rule r's findings on example sql run as TestRuleExamples says,
// and whether it had any.
func exampleRisk(t *testing.T, r Rule, sql, schema string) (Risk, bool) {
	t.Helper()
	risk, found := Safe, false
	for _, f := range exampleFindings(t, r, sql, schema) {
		if f.Rule == r.ID {
			risk, found = Max(risk, f.Risk), true
		}
	}
	return risk, found
}

// exampleFindings lints example sql of rule r as TestRuleExamples says. A finding that the SQL does not
// parse fails the test.
func exampleFindings(t *testing.T, r Rule, sql, schema string) []Finding {
	t.Helper()
	cfg := Config{Schema: schema + "\n" + r.Given}
	if r.Off {
		cfg.Rules = map[string]string{r.ID: r.Risk.String()}
	}
	if first, _, _ := strings.Cut(sql, "\n"); strings.HasPrefix(first, "-- with pg_version ") {
		fields := strings.Fields(strings.TrimPrefix(first, "-- with pg_version "))
		v, err := ParseVersion(fields[0])
		if err != nil {
			t.Fatalf("%q: %v", first, err)
		}
		cfg.PGVersion = v
	}
	q := NewSequence(cfg)
	var out []Finding
	for i, part := range exampleMigrations(sql) {
		inTx := !strings.Contains(part, "-- +goose NO TRANSACTION")
		s := &migrate.Script{File: fmt.Sprintf("m%d.sql", i+1), SQL: part, Statements: sqlparse.Parse(part)}
		for _, f := range q.AnalyzeScript(s, inTx) {
			if f.Rule == "parse-error" && r.ID != "parse-error" {
				t.Errorf("%q: %s", sql, f)
			}
			out = append(out, f)
		}
	}
	return out
}

// exampleMigrations cuts an example into its migrations: a line that starts with "-- next migration"
// begins the next one.
func exampleMigrations(sql string) []string {
	var parts []string
	start := 0
	for off := 0; off < len(sql); {
		end := strings.IndexByte(sql[off:], '\n') + 1
		if end == 0 {
			end = len(sql) - off
		}
		if off > start && strings.HasPrefix(sql[off:], "-- next migration") {
			parts = append(parts, sql[start:off])
			start = off
		}
		off += end
	}
	return append(parts, sql[start:])
}
