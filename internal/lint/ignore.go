package lint

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

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
		body, ok := commentBody(text)
		if !ok {
			return out
		}
		if ig, ok := directive(body, line, strings.IndexAny(src[start:end], "-/")+1); ok {
			out = append(out, ig)
		}
		end = start - 1
	}
	return out
}

// directive reads the ignore directive of a comment's body (its text without -- or /* */) at line and
// column; ok is false when the comment is no directive.
func directive(body string, line, column int) (ig ignore, ok bool) {
	rest, ok := strings.CutPrefix(body, IgnoreDirective)
	if !ok || rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return ignore{}, false
	}
	fields := strings.Fields(rest)
	ig = ignore{line: line, column: column}
	if len(fields) > 0 {
		for _, id := range strings.Split(fields[0], ",") {
			if id = strings.TrimSpace(id); id != "" {
				ig.rules = append(ig.rules, id)
			}
		}
		ig.reason = strings.Join(fields[1:], " ")
	}
	return ig, true
}

// commentBody is the text of a comment alone on its line (text, trimmed), without -- or /* */; ok is
// false for anything else.
func commentBody(text string) (body string, ok bool) {
	switch {
	case strings.HasPrefix(text, "--"):
		return strings.TrimSpace(strings.TrimPrefix(text, "--")), true
	case strings.HasPrefix(text, "/*") && strings.HasSuffix(text, "*/") && len(text) >= 4 && !strings.Contains(text[2:len(text)-2], "*/"):
		return strings.TrimSpace(text[2 : len(text)-2]), true
	}
	return "", false
}

// ignoresInside reads the ignore comments inside the current statement, by the line they stand on: a
// comment alone on its line directly above a column of CREATE TABLE or a subcommand of ALTER TABLE
// suppresses that part's findings. The scanner tells comments from string literals and function bodies.
func (a *analyzer) ignoresInside() map[int]ignore {
	sql := a.stmt.SQL
	if !strings.Contains(sql, IgnoreDirective) {
		return nil
	}
	res, err := pg_query.Scan(sql)
	if err != nil {
		return nil
	}
	var out map[int]ignore
	for _, t := range res.Tokens {
		if t.Token != pg_query.Token_SQL_COMMENT && t.Token != pg_query.Token_C_COMMENT || t.Start < 0 || int(t.End) > len(sql) {
			continue
		}
		from := strings.LastIndexByte(sql[:t.Start], '\n') + 1
		to := len(sql)
		if nl := strings.IndexByte(sql[t.End:], '\n'); nl >= 0 {
			to = int(t.End) + nl
		}
		if from == 0 || strings.TrimSpace(sql[from:t.Start]) != "" || strings.TrimSpace(sql[t.End:to]) != "" {
			continue // on the statement's first line, or beside code: not a line of its own
		}
		body, ok := commentBody(strings.TrimSpace(sql[t.Start:t.End]))
		if !ok {
			continue // a /* */ comment over several lines
		}
		p := a.stmt.PosOf(int(t.Start))
		if ig, ok := directive(body, p.Line, p.Column); ok {
			if out == nil {
				out = map[int]ignore{}
			}
			out[p.Line] = ig
		}
	}
	return out
}

// applyIgnores marks the current statement's findings that an ignore comment names, and raises
// ignore-without-reason for a comment that gives none (then nothing is suppressed).
func (a *analyzer) applyIgnores() { a.ignoreFindings(true) }

// ignoreFindings applies the ignore comments above the current statement to its findings from
// a.first on; raise says whether to report comments without a reason (once per statement).
func (a *analyzer) ignoreFindings(raise bool) {
	from := len(a.out) // the findings this raises are not the statement's to suppress
	for _, ig := range a.ignoresAbove(a.stmt) {
		a.ignoreWith(ig, raise, from, func(*Finding) bool { return true })
	}
	inside := a.ignoresInside()
	if len(inside) == 0 {
		return
	}
	// A part's findings (see analyzer.part) stand on the part's first line; the comment lines directly
	// above it are its own.
	lines := map[int]bool{}
	for i := a.first; i < from; i++ {
		if f := &a.out[i]; f.StatementLine > 0 {
			lines[f.Line] = true
		}
	}
	for _, l := range slices.Sorted(maps.Keys(lines)) {
		for above := l - 1; ; above-- {
			ig, ok := inside[above]
			if !ok {
				break
			}
			delete(inside, above) // one comment, checked once, even above two parts' findings
			a.ignoreWith(ig, raise, from, func(f *Finding) bool { return f.StatementLine > 0 && f.Line == l })
		}
	}
	// A directive inside the statement that stands above no part is checked all the same: it
	// suppresses nothing, so its rules and reason must be right for when it does.
	if raise {
		for _, l := range slices.Sorted(maps.Keys(inside)) {
			a.ignoreWith(inside[l], raise, from, func(*Finding) bool { return false })
		}
	}
}

// ignoreWith applies one ignore comment to those of the statement's findings (before from) that in
// selects, raising ignore-unknown-rule and ignore-without-reason at the comment when raise is set.
func (a *analyzer) ignoreWith(ig ignore, raise bool, from int, in func(*Finding) bool) {
	if raise {
		for _, id := range ig.rules {
			if _, ok := Lookup(strings.ToLower(id)); !ok {
				a.add("ignore-unknown-rule", fmt.Sprintf("schemagate:ignore names %q, which is no rule%s: nothing is suppressed for it", id, DidYouMean(id))).moveTo(ig.line, ig.column)
			}
		}
	}
	if ig.reason == "" {
		if raise {
			f := a.add("ignore-without-reason", "")
			f.moveTo(ig.line, ig.column)
			if len(ig.rules) > 0 {
				f.Message = "schemagate:ignore " + strings.Join(ig.rules, ",") + " gives no reason, so nothing is suppressed"
			}
		}
		return
	}
	for i := a.first; i < from; i++ {
		f := &a.out[i]
		if !in(f) {
			continue
		}
		for _, id := range ig.rules {
			if strings.EqualFold(id, f.Rule) && f.Rule != "ignore-without-reason" {
				f.Ignored, f.Reason = true, ig.reason
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
