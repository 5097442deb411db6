package lint

import "testing"

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
