package lint

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestRuleExamples: every rule raised from the parse tree triggers on the "Triggers" example of its page
// at its class or above and stays silent on its "Does not trigger" example, run as the page shows them:
// on the example schema (testdata/schema.sql) after the rule's Given, in a transaction unless the
// example is a goose file with NO TRANSACTION, on the version its "-- with pg_version N" line names.
// Pages showed examples that were no SQL, or that triggered the rule they were shown not to trigger.
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
			if good, found := exampleRisk(t, r, r.Good, schema); found {
				t.Errorf("the Does-not-trigger example %q gives %s %v", r.Good, r.ID, good)
			}
		})
	}
}

// exampleRisk is the highest risk of rule r's findings on example sql run as TestRuleExamples says,
// and whether it had any. A finding that the SQL does not parse fails the test.
func exampleRisk(t *testing.T, r Rule, sql, schema string) (Risk, bool) {
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
	inTx := !strings.Contains(sql, "-- +goose NO TRANSACTION")
	s := &migrate.Script{File: "m.sql", SQL: sql, Statements: sqlparse.Parse(sql)}
	risk, found := Safe, false
	for _, f := range AnalyzeScript(s, inTx, cfg) {
		if f.Rule == "parse-error" && r.ID != "parse-error" {
			t.Errorf("%q: %s", sql, f)
		}
		if f.Rule == r.ID {
			risk, found = Max(risk, f.Risk), true
		}
	}
	return risk, found
}
