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
