package lint

import (
	"strings"
	"testing"
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
