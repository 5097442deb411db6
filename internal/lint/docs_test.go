package lint

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/rules/*.md from the rule catalog")

const docsDir = "../../docs/rules"

// TestRuleDocs checks that docs/rules has a current page for every rule (regenerate with -update).
func TestRuleDocs(t *testing.T) {
	if *update {
		if err := os.MkdirAll(docsDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range Rules() {
		path := filepath.Join(docsDir, r.ID+".md")
		want := r.Doc()
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (run go test ./internal/lint -run TestRuleDocs -update)", r.ID, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date (run go test ./internal/lint -run TestRuleDocs -update)", path)
		}
		if !strings.HasSuffix(r.URL(), "docs/rules/"+r.ID+".md") {
			t.Errorf("%s: URL %s", r.ID, r.URL())
		}
	}
}

// TestRuleDocsSaferForm: the page of a safe rule that names a good form (validate-constraint) called the
// form that does not trigger it the "safer form", though that was a VALIDATE after a strong lock in its
// transaction, which validate-in-same-transaction calls dangerous. Only the pages of rules that warn
// (dangerous, caution, or safe advice such as prefer-text) still say so.
func TestRuleDocsSaferForm(t *testing.T) {
	t.Parallel()
	for id, safer := range map[string]bool{"validate-constraint": false, "add-column-nullable": false, "prefer-text": true, "add-column-required": true, "change-column-type-coercible": false} {
		r, ok := Lookup(id)
		if !ok {
			t.Fatalf("no rule %s", id)
		}
		if got := strings.Contains(string(r.Doc()), "## Does not trigger (safer form)"); got != safer {
			t.Errorf("%s: page says safer form %v, want %v", id, got, safer)
		}
	}
}
