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
	var n [3]int
	ignored := 0
	for _, f := range findings {
		if f.Ignored {
			ignored++
			continue
		}
		if f.Risk >= lint.Safe && f.Risk <= lint.Dangerous {
			n[f.Risk]++
		}
	}
	total := len(findings) - ignored
	s := fmt.Sprintf("%d finding%s: %d dangerous, %d caution, %d safe", total, Plural(total), n[lint.Dangerous], n[lint.Caution], n[lint.Safe])
	if ignored > 0 {
		s += fmt.Sprintf(" (%d ignored)", ignored)
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
