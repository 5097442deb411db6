package lint

import (
	"fmt"
	"strings"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// IgnoreDirective is the comment that suppresses a finding: `-- schemagate:ignore <rule-id>[,<rule-id>] <reason>`
// (or the same in a one-line /* */ comment) on the comment line(s) directly above the statement, after
// the end of the statement before it: text inside a string or a function body is not a comment.
const IgnoreDirective = "schemagate:ignore"

type ignore struct {
	rules  []string
	reason string
	line   int
	column int
}

// ignoresAbove reads the ignore comments on the comment lines directly above the statement.
func (a *analyzer) ignoresAbove(st *sqlparse.Statement) []ignore {
	src := a.script.SQL
	off := st.Pos.Offset - a.script.Start
	if off < 0 || off > len(src) {
		return nil
	}
	// Only whole lines between the end of the previous statement and this one can be comments above
	// it: a line that starts inside the previous statement may be in one of its strings.
	prevEnd := 0
	if i := a.stmtIdx; i > 0 && i < len(a.script.Statements) && &a.script.Statements[i] == st {
		prevEnd = a.script.Statements[i-1].End - a.script.Start
	}
	line := st.Pos.Line
	// Start at the beginning of the statement's own line; text before it on that line is not "above".
	end := strings.LastIndexByte(src[:off], '\n')
	var out []ignore
	for end >= 0 {
		start := strings.LastIndexByte(src[:end], '\n') + 1
		if start < prevEnd {
			break
		}
		text := strings.TrimSpace(src[start:end])
		line--
		var body string
		switch {
		case strings.HasPrefix(text, "--"):
			body = strings.TrimSpace(strings.TrimPrefix(text, "--"))
		case strings.HasPrefix(text, "/*") && strings.HasSuffix(text, "*/") && !strings.Contains(text[2:len(text)-2], "*/"):
			body = strings.TrimSpace(text[2 : len(text)-2])
		default:
			return out
		}
		if rest, ok := strings.CutPrefix(body, IgnoreDirective); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			fields := strings.Fields(rest)
			ig := ignore{line: line, column: strings.IndexAny(src[start:end], "-/") + 1}
			if len(fields) > 0 {
				for _, id := range strings.Split(fields[0], ",") {
					if id = strings.TrimSpace(id); id != "" {
						ig.rules = append(ig.rules, id)
					}
				}
				ig.reason = strings.Join(fields[1:], " ")
			}
			out = append(out, ig)
		}
		end = start - 1
	}
	return out
}

// applyIgnores marks the current statement's findings that an ignore comment names, and raises
// ignore-without-reason for a comment that gives none (then nothing is suppressed).
func (a *analyzer) applyIgnores() { a.ignoreFindings(true) }

// ignoreFindings applies the ignore comments above the current statement to its findings from
// a.first on; raise says whether to report comments without a reason (once per statement).
func (a *analyzer) ignoreFindings(raise bool) {
	igs := a.ignoresAbove(a.stmt)
	if len(igs) == 0 {
		return
	}
	for _, ig := range igs {
		if raise {
			for _, id := range ig.rules {
				if _, ok := Lookup(strings.ToLower(id)); !ok {
					f := a.add("ignore-unknown-rule", fmt.Sprintf("schemagate:ignore names %q, which is no rule%s: nothing is suppressed for it", id, DidYouMean(id)))
					f.Line, f.Column = ig.line, ig.column
				}
			}
		}
		if ig.reason == "" {
			if !raise {
				continue
			}
			f := a.add("ignore-without-reason", "")
			f.Line, f.Column = ig.line, ig.column
			if len(ig.rules) > 0 {
				f.Message = "schemagate:ignore " + strings.Join(ig.rules, ",") + " gives no reason, so nothing is suppressed"
			}
			continue
		}
		for i := a.first; i < len(a.out); i++ {
			f := &a.out[i]
			for _, id := range ig.rules {
				if strings.EqualFold(id, f.Rule) && f.Rule != "ignore-without-reason" {
					f.Ignored, f.Reason = true, ig.reason
				}
			}
		}
	}
}

// StatementIgnore is what the schemagate:ignore comments above one statement suppress: the rules they
// name, for the reason given. Comments without a reason suppress nothing and are left out.
type StatementIgnore struct {
	File         string
	Line, Column int // the statement's position, as in its findings
	Rules        []string
	Reason       string
}

// IgnoresOf lists the ignore comments above the statements of s, for ApplyEvidence: the findings the
// rehearsal adds to a statement (table-scan, table-rewrite, unexplained-exclusive-lock, invalid-index, a
// drop-table seen in dynamic SQL) are ignored by a comment that names their rule, as static ones are.
func IgnoresOf(s *migrate.Script) []StatementIgnore {
	if s == nil {
		return nil
	}
	var out []StatementIgnore
	a := &analyzer{script: s}
	for i := range s.Statements {
		st := &s.Statements[i]
		a.stmt, a.stmtIdx = st, i
		for _, ig := range a.ignoresAbove(st) {
			if ig.reason != "" && len(ig.rules) > 0 {
				out = append(out, StatementIgnore{File: s.File, Line: st.Pos.Line, Column: st.Pos.Column, Rules: ig.rules, Reason: ig.reason})
			}
		}
	}
	return out
}
