package lint

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestCatalogTextIsWhole catches rule texts cut short (an unclosed parenthesis, a dangling backtick):
// they are what reviewers read in every report.
func TestCatalogTextIsWhole(t *testing.T) {
	for _, r := range Rules() {
		for field, text := range map[string]string{"summary": r.Summary, "suggestion": r.Suggestion, "why": r.Why} {
			if strings.Count(text, "(") != strings.Count(text, ")") {
				t.Errorf("%s: %s has unbalanced parentheses: %q", r.ID, field, text)
			}
			if strings.Count(text, "`")%2 != 0 {
				t.Errorf("%s: %s has an odd number of backticks: %q", r.ID, field, text)
			}
		}
	}
}

// TestConcurrentIndexHygieneNamesWhatIsMissing: the message says which safeguard the statement lacks.
func TestConcurrentIndexHygieneNamesWhatIsMissing(t *testing.T) {
	for sql, want := range map[string]string{
		"CREATE INDEX CONCURRENTLY users_email_idx ON users (email)": "without IF NOT EXISTS:",
		"CREATE INDEX CONCURRENTLY ON users (email)":                 "without an explicit name and IF NOT EXISTS:",
	} {
		s := &migrate.Script{File: "m.sql", SQL: sql, Statements: sqlparse.Parse(sql)}
		var got string
		for _, f := range AnalyzeScript(s, false, Config{}) {
			if f.Rule == "concurrent-index-hygiene" {
				got = f.Message
			}
		}
		if !strings.Contains(got, want) {
			t.Errorf("%s: message %q, want it to say %q", sql, got, want)
		}
	}
}
