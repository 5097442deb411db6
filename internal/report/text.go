package report

import (
	"bufio"
	"fmt"
	"io"

	"github.com/schemagate/schemagate/internal/lint"
)

// WriteText renders findings compiler-style, one per line, so that editors and CI logs link them:
//
//	db/003_users.sql:4:1: dangerous set-not-null: SET NOT NULL on users.email scans …
//	    suggestion: ADD CONSTRAINT … NOT VALID; …
//	    see: https://github.com/schemagate/schemagate/blob/main/docs/rules/set-not-null.md
//
// Ignored findings keep their line, marked "ignored" with the reason, and get no suggestion.
func WriteText(w io.Writer, findings []lint.Finding) error {
	b := bufio.NewWriterSize(w, 64<<10)
	for _, f := range findings {
		b.WriteString(f.String())
		if f.Ignored {
			fmt.Fprintf(b, " [ignored: %s]\n", f.Reason)
			continue
		}
		b.WriteByte('\n')
		if f.Suggestion != "" {
			fmt.Fprintf(b, "    suggestion: %s\n", f.Suggestion)
		}
		if f.URL != "" {
			fmt.Fprintf(b, "    see: %s\n", f.URL)
		}
	}
	return b.Flush()
}

// Summary is a one-line count of findings by risk, e.g. "3 findings: 1 dangerous, 2 caution (1 ignored)".
func Summary(findings []lint.Finding) string {
	var t Tally
	t.Add(findings)
	return t.String()
}

// Tally counts findings by risk as they come, for a Summary of findings no longer held.
type Tally struct {
	byRisk  [3]int
	total   int
	ignored int
}

// Add counts findings.
func (t *Tally) Add(findings []lint.Finding) {
	for _, f := range findings {
		t.total++
		if f.Ignored {
			t.ignored++
			continue
		}
		if f.Risk >= lint.Safe && f.Risk <= lint.Dangerous {
			t.byRisk[f.Risk]++
		}
	}
}

// String is the Summary line.
func (t *Tally) String() string {
	n := t.total - t.ignored
	s := fmt.Sprintf("%d finding%s: %d dangerous, %d caution, %d safe", n, Plural(n), t.byRisk[lint.Dangerous], t.byRisk[lint.Caution], t.byRisk[lint.Safe])
	if t.ignored > 0 {
		s += fmt.Sprintf(" (%d ignored)", t.ignored)
	}
	return s
}

// Plural is "s" unless n is 1: fmt.Sprintf("%d statement%s", n, Plural(n)).
func Plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
