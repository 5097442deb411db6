package lint

import (
	"strings"
	"testing"
)

// TestIgnoreOnlyInComments: an ignore directive counts only in a comment between the previous statement
// and this one. Text inside a string or a function body that looks like one must not suppress the next
// statement's finding, or a pull request could slip a DROP TABLE past the approval gate.
func TestIgnoreOnlyInComments(t *testing.T) {
	t.Parallel()
	for name, src := range map[string]string{
		"string":           "COMMENT ON TABLE orgs IS 'harmless\n-- schemagate:ignore drop-table inside a string literal\n'; DROP TABLE users;\n",
		"dollar":           "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$\n-- schemagate:ignore drop-table inside a body\nSELECT 1 $$;\nDROP TABLE users;\n",
		"dollar-next-line": "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1\n-- schemagate:ignore drop-table inside a body\n$$;\nDROP TABLE users;\n",
	} {
		fs := AnalyzeScript(script(src), true, Config{})
		if f := find(fs, "drop-table"); f == nil || f.Ignored {
			t.Errorf("%s: drop-table %+v, want reported and not ignored", name, f)
		}
	}
	// The same directive as a real comment, in either comment style, suppresses it.
	for name, src := range map[string]string{
		"line":  "COMMENT ON TABLE orgs IS 'harmless';\n-- schemagate:ignore drop-table emptied and retired in #12\nDROP TABLE users;\n",
		"block": "COMMENT ON TABLE orgs IS 'harmless';\n/* schemagate:ignore drop-table emptied and retired in #12 */\nDROP TABLE users;\n",
	} {
		fs := AnalyzeScript(script(src), true, Config{})
		if f := find(fs, "drop-table"); f == nil || !f.Ignored || f.Reason != "emptied and retired in #12" {
			t.Errorf("%s: drop-table %+v, want ignored with the reason", name, f)
		}
	}
}

// TestIgnoreUnknownRule: a misspelled rule id suppresses nothing and says so, with a did-you-mean; the
// finding it meant stays.
func TestIgnoreUnknownRule(t *testing.T) {
	t.Parallel()
	fs := AnalyzeScript(script("-- schemagate:ignore set-not-nul,DROP-TABLE users has 200 rows\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"), true, Config{})
	f := find(fs, "ignore-unknown-rule")
	if f == nil || f.Line != 1 || !strings.Contains(f.Message, `"set-not-nul"`) || !strings.Contains(f.Message, "set-not-null") || strings.Contains(f.Message, "DROP-TABLE") {
		t.Errorf("ignore-unknown-rule: %+v", f)
	}
	if snn := find(fs, "set-not-null"); snn == nil || snn.Ignored {
		t.Errorf("set-not-null must stay: %+v", snn)
	}
}
