package lint

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// LockEvidence is one relation lock a statement acquired during the rehearsal.
type LockEvidence struct {
	Relation string `json:"relation"`
	// Mode is pg_locks.mode, e.g. AccessExclusiveLock.
	Mode string `json:"mode"`
	// Dropped is set when the statement dropped the relation.
	Dropped bool `json:"dropped,omitempty"`
	// Preexisting is set when the relation existed before the migration began.
	Preexisting bool `json:"preexisting,omitempty"`
}

// Evidence is what one statement did in the rehearsal database.
type Evidence struct {
	// File, Line and Column are the statement's position, as in its static findings.
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	// Locks are the relation locks the statement newly acquired.
	Locks []LockEvidence `json:"locks,omitempty"`
	// Rewritten lists pre-existing relations whose filenode changed; Scanned those seq-scanned.
	Rewritten []string `json:"rewritten,omitempty"`
	Scanned   []string `json:"scanned,omitempty"`
	// FastDefault lists "table.column" added with a stored missing value (no rewrite).
	FastDefault []string `json:"fast_default,omitempty"`
	// InvalidIndexes lists indexes left INVALID after the statement.
	InvalidIndexes []string `json:"invalid_indexes,omitempty"`
	// Concurrent is set when the statement ran outside a transaction (CONCURRENTLY and friends).
	Concurrent bool    `json:"concurrent,omitempty"`
	DurationMS float64 `json:"duration_ms"`
	// Err is the statement's error, if it failed.
	Err string `json:"error,omitempty"`
}

var lockRank = map[string]lockLevel{
	"AccessShareLock": lockAS, "RowShareLock": lockRS, "RowExclusiveLock": lockRX, "ShareUpdateExclusiveLock": lockSUE,
	"ShareLock": lockSH, "ShareRowExclusiveLock": lockSRE, "ExclusiveLock": lockEX, "AccessExclusiveLock": lockAE,
}

// SourceBoth marks a static finding that the rehearsal confirmed.
const SourceBoth = "static+dynamic"

// ApplyEvidence merges what the rehearsal observed into the static findings. Evidence is matched to
// findings by statement position (File, Line, Column). For each statement that ran without error:
//
//   - A type change the parser judged (change-column-type-coercible / change-column-type-rewrite) takes
//     the observed outcome: a rewrite of a pre-existing table makes it change-column-type-rewrite
//     (dangerous), no rewrite makes it change-column-type-coercible (caution).
//   - ADD COLUMN … DEFAULT judged volatile but stored as a fast default becomes
//     add-column-default-nonvolatile, and the reverse when the table was rewritten.
//   - A static finding that claims a rewrite, a scan or a lock is confirmed (Source "static+dynamic")
//     when the trace shows that rewrite, scan or a lock on a pre-existing relation.
//   - A rewrite of a pre-existing table that no finding of the statement explains adds table-rewrite
//     (dangerous); a full scan no finding explains adds table-scan (dangerous when SHARE or stronger
//     was held on the table, caution otherwise). Both name the lock held.
//   - ACCESS EXCLUSIVE on a pre-existing table other than those a DROP CONSTRAINT / DROP TABLE finding
//     names (the referenced side of a dropped foreign key) is appended to that finding's Lock.
//   - An INVALID index left behind adds invalid-index (dangerous).
//
// Findings without evidence are returned unchanged. Ignore comments keep their effect: a finding
// corrected in place stays ignored; findings added here are never ignored.
func ApplyEvidence(static []Finding, ev []Evidence) []Finding {
	out := slices.Clone(static)
	type key struct {
		file      string
		line, col int
	}
	byStmt := map[key][]int{}
	for i, f := range out {
		k := key{f.File, f.Line, f.Column}
		byStmt[k] = append(byStmt[k], i)
	}
	for _, e := range ev {
		if e.Err != "" {
			continue
		}
		idx := byStmt[key{e.File, e.Line, e.Column}]
		stmtSQL := ""
		if len(idx) > 0 {
			stmtSQL = out[idx[0]].Statement
		}
		held := map[string]lockLevel{}
		for _, l := range e.Locks {
			if l.Preexisting {
				held[l.Relation] = max(held[l.Relation], lockRank[l.Mode])
			}
		}
		explainedRewrite, explainedScan := false, false
		for _, i := range idx {
			f := &out[i]
			switch f.Rule {
			case "change-column-type-coercible", "change-column-type-rewrite":
				setTypeOutcome(f, len(e.Rewritten) > 0)
			case "add-column-volatile-default":
				if len(e.FastDefault) > 0 && len(e.Rewritten) == 0 {
					retarget(f, "add-column-default-nonvolatile", Safe)
					f.Rewrite = false
					f.Message = "the rehearsal stored the DEFAULT as a fast default (" + strings.Join(e.FastDefault, ", ") + "): no rewrite"
					f.Source = SourceBoth
				}
			case "add-column-default-nonvolatile":
				if len(e.Rewritten) > 0 {
					retarget(f, "add-column-volatile-default", Dangerous)
					f.Message = "the rehearsal saw the DEFAULT rewrite " + strings.Join(e.Rewritten, ", ") + ": it is volatile"
					f.Source = SourceBoth
				}
			case "drop-constraint", "drop-table":
				for _, rel := range slices.Sorted(maps.Keys(held)) {
					if held[rel] == lockAE && !mentions(f.Message, rel) && !mentions(f.Lock, rel) {
						f.Lock += "; ACCESS EXCLUSIVE on " + rel + " (observed)"
						f.Source = SourceBoth
					}
				}
			}
			if f.Rewrite {
				explainedRewrite = true
				explainedScan = true // a rewrite reads the whole table
				if len(e.Rewritten) > 0 {
					f.Source = SourceBoth
				}
			}
			if f.Scan {
				explainedScan = true
				if len(e.Scanned) > 0 {
					f.Source = SourceBoth
				}
			}
			if f.Lock != "" && !f.Rewrite && !f.Scan && len(held) > 0 && f.Source == "static" {
				f.Source = SourceBoth
			}
		}
		base := Finding{File: e.File, Line: e.Line, Column: e.Column, Source: "dynamic", Statement: stmtSQL}
		if !explainedRewrite {
			for _, rel := range e.Rewritten {
				f := withRule(base, "table-rewrite")
				f.Lock = lockName(held[rel])
				f.Message = fmt.Sprintf("the rehearsal saw %s rewritten (new relfilenode) while holding %s", rel, f.Lock)
				out = append(out, f)
				explainedScan = true
			}
		}
		if !explainedScan {
			for _, rel := range e.Scanned {
				f := withRule(base, "table-scan")
				l := held[rel]
				f.Lock = lockName(l)
				if l < lockSH {
					f.Risk = Caution
				}
				f.Message = fmt.Sprintf("the rehearsal saw a full scan of %s while holding %s", rel, f.Lock)
				out = append(out, f)
			}
		}
		for _, ix := range e.InvalidIndexes {
			f := withRule(base, "invalid-index")
			f.Message = fmt.Sprintf("index %s was left INVALID: queries never use it, writes still maintain it, and a retry with the same name fails", ix)
			f.Suggestion = fmt.Sprintf("DROP INDEX CONCURRENTLY IF EXISTS %s; then fix the cause and retry", ix)
			out = append(out, f)
		}
	}
	return out
}

func lockName(l lockLevel) string {
	if l == lockNone {
		return "no lock on it"
	}
	return l.String()
}

func withRule(f Finding, id string) Finding {
	r, _ := Lookup(id)
	f.Rule, f.Risk, f.Rewrite, f.Scan, f.Suggestion, f.URL = r.ID, r.Risk, r.Rewrite, r.Scan, r.Suggestion, r.URL()
	return f
}

func retarget(f *Finding, id string, risk Risk) {
	r, _ := Lookup(id)
	f.Rule, f.Risk, f.Rewrite, f.Scan, f.URL, f.Suggestion = r.ID, risk, r.Rewrite, r.Scan, r.URL(), r.Suggestion
}

func setTypeOutcome(f *Finding, rewritten bool) {
	if rewritten {
		retarget(f, "change-column-type-rewrite", Dangerous)
		f.Message = "the rehearsal saw the type change rewrite the table: " + f.Message
	} else {
		retarget(f, "change-column-type-coercible", Caution)
		f.Message = "the rehearsal saw no rewrite (binary-coercible): " + f.Message
	}
	f.Source = SourceBoth
}

// mentions tells whether text names rel as a whole name: "public.queues" is not mentioned by
// "public.queues_pkey".
func mentions(text, rel string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], rel)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(rel)
		if (start == 0 || !identChar(text[start-1])) && (end == len(text) || !identChar(text[end])) {
			return true
		}
		i = start + 1
	}
}

func identChar(c byte) bool {
	return c == '_' || c == '$' || c == '.' || c == '"' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
