package migrate

import (
	"maps"
	"testing"
)

// TestFlywayConfProperties: a flyway.conf reads as Flyway reads it (ConfigUtils.loadConfigurationFromString,
// then java.util.Properties.load): "key: value", "key value" and a key alone are settings, ! starts a
// comment, a line ending with a backslash goes on over the next one unless that one is empty or a
// flyway.* setting, lines are trimmed, every backslash is literal (Flyway doubles them before
// Properties reads the text, so \=, \:, \t and \u0041 escape nothing), and ${NAME} is the environment
// variable NAME, or nothing. A problem in a continued value is reported on the line of its key.
func TestFlywayConfProperties(t *testing.T) {
	t.Setenv("SG_TEST_HOME", "/srv/app")
	for _, c := range []struct {
		name, src    string
		placeholders map[string]string
		table        string // flyway.table, "" when unset
		errs         []string
	}{
		{
			name: "separators",
			src: "flyway.placeholders.colon: a\nflyway.placeholders.space   b c\n\tflyway.placeholders.equals = d \n" +
				"flyway.placeholders.empty\nflyway.placeholders.both :=e\n",
			placeholders: map[string]string{"colon": "a", "space": "b c", "equals": "d", "empty": "", "both": "=e"},
		},
		{
			// A line that goes on over a # line takes it in; a comment line does not go on.
			name: "comments",
			src: "! flyway.placeholders.bang=1\n  # flyway.placeholders.hash=2\nflyway.placeholders.kept=a\\\n# not a comment\n" +
				"# a comment line does not go on\\\nflyway.placeholders.c: d\n",
			placeholders: map[string]string{"kept": "a# not a comment", "c": "d"},
		},
		{
			name: "continued lines",
			src: "flyway.placeholders.list=a,\\\n    b,\\\n\tc\nflyway.table=history\n" +
				// The next line is a flyway.* setting: the backslash is the value's.
				"flyway.placeholders.path=C:\\dir\\\nflyway.placeholders.after=1\n" +
				// The next line is empty: the same.
				"flyway.placeholders.blank=x\\\n\nflyway.placeholders.last=y\\",
			placeholders: map[string]string{"list": "a,b,c", "path": `C:\dir\`, "after": "1", "blank": `x\`, "last": `y\`},
			table:        "history",
		},
		{
			name: "backslashes are literal",
			src: "flyway.placeholders.key\\=part=v\nflyway.placeholders.colon\\:x=1\nflyway.placeholders.tab=a\\tb\n" +
				"flyway.placeholders.unicode=\\u0041\nflyway.placeholders.two=\\\\\n",
			placeholders: map[string]string{`key\`: "part=v", `colon\`: "x=1", "tab": `a\tb`, "unicode": `\u0041`, "two": `\\`},
		},
		{
			name:         "environment variables",
			src:          "flyway.placeholders.home=${SG_TEST_HOME}/x ${SG_TEST_UNSET_VARIABLE}\n# ${SG_TEST_HOME}\nflyway.table=${SG_TEST_UNSET_VARIABLE}t\n",
			placeholders: map[string]string{"home": "/srv/app/x "},
			table:        "t",
		},
		{
			name:         "errors on the line of the key",
			src:          "flyway.placeholders.a=1\nflyway.mixed=ma\\\n   ybe\nflyway.createSchemas=x\n",
			placeholders: map[string]string{"a": "1"},
			errs:         []string{`flyway.conf:2: invalid flyway.mixed value "maybe"`, `flyway.conf:4: invalid flyway.createSchemas value "x"`},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &reader{}
			st := flywaySettings{placeholders: map[string]string{}}
			r.flywayConf("flyway.conf", c.src, &st)
			matchProblems(t, "error", describe(r.errs), c.errs)
			if !maps.Equal(st.placeholders, c.placeholders) || st.table != c.table {
				t.Errorf("placeholders %q, table %q; want %q, %q", st.placeholders, st.table, c.placeholders, c.table)
			}
		})
	}
}
