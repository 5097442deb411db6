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

	// subject names what a type change finding is about ("users.created_at: timestamp -> timestamptz"),
	// for ApplyEvidence to restate.
	subject string
	// timeZoneDependent marks a type change between timestamp and timestamptz, which rewrites the table
	// unless the server's TimeZone is UTC: the rehearsal's (UTC) trace cannot clear it.
	timeZoneDependent bool
	// ifExists is the finding a DROP … IF EXISTS / ALTER … IF EXISTS would get if the object it names
	// existed: set on the safe finding of one that the known schema says does nothing, for ApplyEvidence
	// to bring back when the rehearsal sees the statement lock a relation that existed before.
	ifExists *Finding
	// facts is what the analysis of the finding's script knows about each of its statements.
	facts *scriptFacts
}

// String renders the finding compiler-style: "file:line:col: risk rule: message".
func (f Finding) String() string {
	return fmt.Sprintf("%s:%d:%d: %s %s: %s", f.File, f.Line, f.Column, f.Risk, f.Rule, f.Message)
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
