// Package lint holds schemagate's risk rules: each statement of a migration is judged from its parse tree
// (static analysis) and, during a rehearsal, from what it did in a real database (dynamic evidence).
package lint

import (
	"fmt"
	"strings"
)

// Risk classifies a change. The zero value is Safe; higher is worse.
type Risk int

// Risk classes, in increasing order of concern.
const (
	Safe Risk = iota
	Caution
	Dangerous
)

var riskNames = [...]string{"safe", "caution", "dangerous"}

func (r Risk) String() string {
	if r < 0 || int(r) >= len(riskNames) {
		return fmt.Sprintf("risk(%d)", int(r))
	}
	return riskNames[r]
}

// ParseRisk reads a risk class name.
func ParseRisk(s string) (Risk, error) {
	for i, n := range riskNames {
		if strings.EqualFold(s, n) {
			return Risk(i), nil
		}
	}
	return 0, fmt.Errorf("unknown risk class %q (want safe, caution or dangerous)", s)
}

// MarshalText writes the risk's name.
func (r Risk) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a risk's name.
func (r *Risk) UnmarshalText(b []byte) error {
	v, err := ParseRisk(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Max returns the higher of two risks.
func Max(a, b Risk) Risk {
	if a > b {
		return a
	}
	return b
}

// Finding is one thing a rule says about one statement.
type Finding struct {
	Rule       string `json:"rule"`
	Risk       Risk   `json:"risk"`
	File       string `json:"file"`
	Line       int    `json:"line"`
	Column     int    `json:"column"`
	Message    string `json:"message"`
	Lock       string `json:"lock,omitempty"`
	Rewrite    bool   `json:"rewrite"`
	Scan       bool   `json:"scan"`
	Suggestion string `json:"suggestion,omitempty"`
	// URL is the rule's documentation page.
	URL string `json:"url,omitempty"`
	// Source says where the finding comes from: "static" (parse tree), "dynamic" (rehearsal trace),
	// "static+dynamic" (both), or "history" (the folder compared with the base ref).
	Source string `json:"source"`
	// Statement is the statement's SQL, shortened for display.
	Statement string `json:"statement,omitempty"`
	// Ignored is set when a `-- schemagate:ignore` comment suppresses the finding; Reason says why.
	Ignored bool   `json:"ignored,omitempty"`
	Reason  string `json:"ignore_reason,omitempty"`
	// Repeated counts the findings like this one (the same rule, risk and message, in the same file) at
	// later statements, up to line ThroughLine, that Fold took into it: a data migration of 200,000
	// UPDATEs has one such finding, not 200,000.
	Repeated    int `json:"repeated,omitempty"`
	ThroughLine int `json:"through_line,omitempty"`
	// StatementLine and StatementColumn are where the finding's statement starts, set when Line and
	// Column point elsewhere: at the column of a CREATE TABLE, or the subcommand of an ALTER TABLE, that
	// the finding is about, or at the ignore comment an ignore-* finding is about. Findings of one
	// statement are matched (rehearsal evidence, ignore comments) by the statement's position.
	StatementLine   int `json:"statement_line,omitempty"`
	StatementColumn int `json:"statement_column,omitempty"`

	// subject names what a type change or SET ACCESS METHOD finding is about ("users.created_at: timestamp -> timestamptz"),
	// for ApplyEvidence to restate.
	subject string
	// foreignKeys says, for a type change, which foreign keys it drops and adds again and the lock that
	// takes on their other tables: kept when the rehearsal's outcome rewrites the message.
	foreignKeys string
	// timeZoneDependent marks a type change between timestamp and timestamptz, which rewrites the table
	// unless the session's TimeZone is UTC: the rehearsal's (UTC) trace cannot clear it.
	timeZoneDependent bool
	// ifExists is the finding a DROP … IF EXISTS / ALTER … IF EXISTS would get if the object it names
	// existed: set on the safe finding of one that the known schema says does nothing, for ApplyEvidence
	// to bring back when the rehearsal sees the statement lock a relation that existed before.
	ifExists *Finding
	// wholeStatement is the excerpt of the whole statement when Statement is a part's (see partExcerpt):
	// what the rehearsal's findings of the statement show.
	wholeStatement string
	// below lists the tables under the one the finding is about that its statement reaches too
	// (partitions, inheritance children, as the trace names them): their scans are the statement's.
	below []string
	// knownDefault marks an ADD COLUMN whose DEFAULT calls no function the parser does not know: it is
	// not volatile, so a rewrite the rehearsal sees in its statement is another subcommand's.
	knownDefault bool
	// undecidedDefault marks an ADD COLUMN whose DEFAULT calls a function the parser cannot judge (caution
	// until the rehearsal's trace shows whether the table was rewritten).
	undecidedDefault bool
	// facts is what the analysis of the finding's script knows about each of its statements.
	facts *scriptFacts
}

// moveTo puts the finding at line and column (its part's, or the ignore comment's it is about), keeping
// its statement's position.
func (f *Finding) moveTo(line, column int) {
	if f.StatementLine == 0 {
		f.StatementLine, f.StatementColumn = f.Line, f.Column
	}
	f.Line, f.Column = line, column
}

// statementExcerpt is the excerpt of the finding's whole statement.
func (f *Finding) statementExcerpt() string {
	if f.wholeStatement != "" {
		return f.wholeStatement
	}
	return f.Statement
}

// StatementPos is where the finding's statement starts: Line and Column unless they point elsewhere.
func (f *Finding) StatementPos() (line, column int) {
	if f.StatementLine > 0 {
		return f.StatementLine, f.StatementColumn
	}
	return f.Line, f.Column
}

// String renders the finding compiler-style: "file:line:col: risk rule: message", and how many like it
// it stands for (see Fold).
func (f Finding) String() string {
	return fmt.Sprintf("%s:%d:%d: %s %s: %s%s", f.File, f.Line, f.Column, f.Risk, f.Rule, f.Message, f.RepeatedNote())
}

// RepeatedNote is " (and 199,999 more like it, through line 200,001)" for a finding that stands for
// others (see Fold), "" for one that does not.
func (f Finding) RepeatedNote() string {
	if f.Repeated == 0 {
		return ""
	}
	return fmt.Sprintf(" (and %s more like it, through line %s)", thousands(f.Repeated), thousands(f.ThroughLine))
}

// thousands writes n with a comma every three digits.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// FoldAfter is how many findings alike Fold keeps apart before it takes the others into the first.
const FoldAfter = 10

// Fold takes findings that differ only in their statement (the same rule, risk, message, file,
// suggestion, lock and ignore) into the first of them when there are more than FoldAfter: it says how
// many more and through which line (Repeated, ThroughLine). Their risk is one, so the highest risk,
// an approval and --fail-on judge the same; a script that repeats one statement 200,000 times gets one
// line in each report, not 200,000. Fewer alike are kept as they are, and the order is kept.
func Fold(fs []Finding) []Finding {
	type key struct {
		rule, file, message, suggestion, lock, source, reason string
		risk                                                  Risk
		rewrite, scan, ignored                                bool
	}
	keyOf := func(f *Finding) key {
		return key{f.Rule, f.File, f.Message, f.Suggestion, f.Lock, f.Source, f.Reason, f.Risk, f.Rewrite, f.Scan, f.Ignored}
	}
	count := make(map[key]int, len(fs))
	for i := range fs {
		count[keyOf(&fs[i])] += 1 + fs[i].Repeated
	}
	folds := false
	for _, n := range count {
		folds = folds || n > FoldAfter
	}
	if !folds {
		return fs
	}
	first := map[key]int{} // where the first of a folded group is in out
	out := make([]Finding, 0, len(fs))
	for _, f := range fs {
		k := keyOf(&f)
		if count[k] <= FoldAfter {
			out = append(out, f)
			continue
		}
		i, ok := first[k]
		if !ok {
			first[k] = len(out)
			if f.Repeated == 0 {
				f.ThroughLine = f.Line
			}
			out = append(out, f)
			continue
		}
		out[i].Repeated += 1 + f.Repeated
		out[i].ThroughLine = max(out[i].ThroughLine, f.Line, f.ThroughLine)
	}
	for i := range out {
		if out[i].Repeated == 0 {
			out[i].ThroughLine = 0
		}
	}
	return out
}

// Highest returns the highest risk among findings that are not ignored.
func Highest(fs []Finding) Risk {
	r := Safe
	for _, f := range fs {
		if !f.Ignored {
			r = Max(r, f.Risk)
		}
	}
	return r
}
