package lint

import (
	"bytes"
	"fmt"
	"strings"
)

// Doc renders the rule's documentation page in Markdown: docs/rules/<id>.md holds it (TestRuleDocs
// keeps the pages current), and `schemagate rules ID` prints it.
func (r Rule) Doc() []byte {
	var b bytes.Buffer
	yn := func(v bool) string {
		if v {
			return "yes"
		}
		return "no"
	}
	lock := r.Lock
	if lock == "" {
		lock = "none on tables"
	}
	fmt.Fprintf(&b, "# %s\n\n", r.ID)
	fmt.Fprintf(&b, "<!-- Generated from internal/lint (catalog.go, rule.go) by `go test ./internal/lint -run TestRuleDocs -update`; do not edit. -->\n\n")
	fmt.Fprintf(&b, "**Default risk:** %s", r.Risk)
	if r.Off {
		b.WriteString(" (opt-in: off unless `lint.rules` gives it a class)")
	}
	if r.Dynamic {
		b.WriteString(" (raised from the rehearsal's trace, not from the parse tree)")
	}
	if r.History {
		b.WriteString(" (raised by comparing the folder with `check --base`, not from the parse tree)")
	}
	b.WriteString("\n\n## What it detects\n\n" + r.Summary + ".\n\n")
	b.WriteString("## Why it matters\n\n" + r.Why + "\n\n")
	b.WriteString("| lock | rewrites the table | scans the table |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| %s | %s | %s |\n\n", strings.ReplaceAll(lock, "|", "\\|"), yn(r.Rewrite), yn(r.Scan))
	if r.Given != "" {
		b.WriteString("## Given\n\nThe examples below follow an earlier migration:\n\n```sql\n" + r.Given + "\n```\n\n")
	}
	b.WriteString("## Triggers\n\n```sql\n" + r.Bad + "\n```\n\n")
	if !r.HasSaferForm() {
		form := "a form that is safe as it is"
		if r.AsIs {
			form = "a form to keep as it is, with the care its safe alternative asks for"
		}
		b.WriteString("## Does not trigger\n\nThis rule names " + form + "; the statement below is another form, which it leaves to other rules (`schemagate lint` on it says how they judge it).\n\n```sql\n" + r.Good + "\n```\n\n")
	} else {
		b.WriteString("## Does not trigger (safer form)\n\n```sql\n" + r.Good + "\n```\n\n")
	}
	if r.Suggestion != "" {
		b.WriteString("## Safe alternative\n\n" + r.Suggestion + "\n\n")
	}
	if r.Notes != "" {
		b.WriteString("## Notes\n\n" + r.Notes + "\n\n")
	}
	b.WriteString("## Suppressing it\n\nWrite a comment with a reason on the line directly above the statement:\n\n")
	fmt.Fprintf(&b, "```sql\n-- schemagate:ignore %s <why this is acceptable here>\n```\n\n", r.ID)
	fmt.Fprintf(&b, "or change its class for the whole repository in `schemagate.yml`:\n\n```yaml\nlint:\n  rules:\n    %s: off   # or safe, caution, dangerous\n```\n", r.ID)
	return b.Bytes()
}

// HasSaferForm tells whether the rule's page calls its Good example the safer form. A rule marked AsIs
// has none, nor has a safe rule that is no advice (the catalog marks those "advisory": prefer-text...):
// it names a form that is fine as it is (ADD COLUMN without a default, VALIDATE in a transaction of its
// own), so what does not trigger it is no safer, and often another rule's (a VALIDATE after a strong lock).
func (r Rule) HasSaferForm() bool {
	return !r.AsIs && (r.Risk != Safe || strings.Contains(r.Why, "(advisory"))
}
