package lint

import (
	"cmp"
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
	// Kind is the relation's pg_class.relkind (r table, p partitioned table, v view, m materialized
	// view, i index...), when the trace knows it.
	Kind string `json:"kind,omitempty"`
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
	// InvalidPartitioned lists those of InvalidIndexes that are partitioned indexes (CREATE INDEX … ON
	// ONLY a partitioned table), which DROP INDEX CONCURRENTLY refuses.
	InvalidPartitioned []string `json:"invalid_partitioned,omitempty"`
	// ClearedIndexes lists indexes INVALID before the statement that are no longer after it: validated
	// (ALTER INDEX … ATTACH PARTITION of the last partition's index validates the partitioned index made
	// INVALID by CREATE INDEX … ON ONLY) or dropped.
	ClearedIndexes []string `json:"cleared_indexes,omitempty"`
	// Concurrent is set when the statement ran outside a transaction (CONCURRENTLY and friends).
	Concurrent bool `json:"concurrent,omitempty"`
	// IfNotExists is set when the statement is a CREATE INDEX … IF NOT EXISTS: run again after it left
	// its index INVALID, it skips that index with only a notice and succeeds (measured on 15).
	IfNotExists bool    `json:"if_not_exists,omitempty"`
	DurationMS  float64 `json:"duration_ms"`
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
// findings by statement position (File, Line, Column). Locks persist to the end of their transaction:
// a statement holds what it acquired and what earlier statements of its transaction acquired (a
// statement with Concurrent evidence is its own transaction, and so is one the static analysis found
// outside any transaction block as the tool runs the script, such as psql outside the script's own
// BEGIN … COMMIT, though the rehearsal ran it in one). For each statement that ran without error:
//
//   - A type change the parser judged (change-column-type-coercible / change-column-type-rewrite) takes
//     the observed outcome: a rewrite of a pre-existing table makes it change-column-type-rewrite
//     (dangerous), no rewrite makes it change-column-type-coercible (caution).
//   - ADD COLUMN … DEFAULT judged volatile but stored as a fast default becomes
//     add-column-default-nonvolatile, and the reverse when the table was rewritten. One calling a
//     function the parser could not judge (caution) becomes safe when the statement held a lock on its
//     pre-existing table and the trace saw no rewrite.
//   - SET NOT NULL that did not scan its table (a validated CHECK proved it) becomes set-not-null-proven.
//   - SET ACCESS METHOD that rewrote nothing (the table already used the method) becomes safe: a brief
//     ACCESS EXCLUSIVE, no rewrite.
//   - A static finding that claims a rewrite, a scan or a lock is confirmed (Source "static+dynamic")
//     when the trace shows that rewrite, scan or a lock on a pre-existing relation.
//   - A rewrite of a pre-existing table that no finding of the statement explains adds table-rewrite
//     (dangerous); a full scan of a relation that no scanning finding of the statement names adds
//     table-scan (dangerous) when SHARE or stronger was held on the table, or on another relation
//     while a weaker lock was (see scanFindings), and not for a scan production will not do (a key-
//     bounded UPDATE's, which the empty rehearsal database's planner chose). Both name the strongest
//     lock held, also one an earlier statement of the transaction took; table-scan suggests the
//     statement's own safe form (scanSuggestion).
//   - SHARE or a stronger lock on a pre-existing relation, in a statement no finding claims a lock for,
//     adds unexplained-exclusive-lock (caution; dangerous when no lock_timeout is in effect at the
//     statement: none set earlier in its script and none from schemagate deploy, unless the
//     configuration turns missing-lock-timeout off or safe, or an ignore comment above the statement
//     names it).
//     Statements of scripts with no static finding at all fall back to the file's missing-lock-timeout.
//     A DO block's lock on a relation its statements name is judged with the lock_timeout in effect at
//     those statements, not at the block as a whole (see doBlock).
//   - SHARE or a stronger lock on a pre-existing relation that a finding of the statement names but the
//     static analysis could not count for missing-lock-timeout (CREATE OR REPLACE VIEW of a view the
//     history the rules read may lack: the lock shows it replaced one) adds missing-lock-timeout when no
//     lock_timeout is in effect at the statement, unless one of the same class or higher stands at it
//     or at an earlier statement of the script.
//   - A DROP … IF EXISTS / ALTER … IF EXISTS judged to do nothing (its object absent from the known
//     schema) is confirmed when the statement locked no pre-existing relation; when it did, the
//     object existed after all and the statement gets back the finding it would have had (dangerous
//     when no lock_timeout is in effect).
//   - ACCESS EXCLUSIVE on a pre-existing table other than those a DROP CONSTRAINT / DROP TABLE finding
//     names (the referenced side of a dropped foreign key) is appended to that finding's Lock.
//   - An index a statement made INVALID that is still INVALID at the end of the migration (the end of
//     ev: no later statement validated or dropped it) adds invalid-index (dangerous) at that statement.
//     CREATE INDEX … ON ONLY a partitioned table makes its index INVALID on purpose; attaching the index
//     of its last partition validates it.
//
// Findings without evidence are returned unchanged. Ignore comments keep their effect: a finding
// corrected in place stays ignored; a rewrite is explained by (so adds nothing after) an ignored finding
// that claims one, and a table-scan added to a statement whose rewriting or scanning finding is ignored
// is ignored with it. A finding added here is also ignored by an ignore comment above its statement
// that names its rule (ignores, from IgnoresOf).
//
// It applies no rule classes of a configuration: see ApplyEvidenceWith.
func ApplyEvidence(static []Finding, ev []Evidence, ignores ...StatementIgnore) []Finding {
	return ApplyEvidenceWith(Config{}, static, ev, ignores...)
}

// ApplyEvidenceWith is ApplyEvidence under cfg's rule classes (--rule, lint.rules): a finding the
// evidence added or turned into another rule's (table-scan, unexplained-exclusive-lock,
// set-not-null-proven...) takes the class cfg gives its rule, or is dropped when cfg turns the rule off,
// as the static analysis' findings do (see configured). The others keep what the analysis gave them.
func ApplyEvidenceWith(cfg Config, static []Finding, ev []Evidence, ignores ...StatementIgnore) []Finding {
	out := applyEvidence(static, ev, ignores)
	var kept []Finding
	for i, f := range out {
		if i < len(static) && f.Rule == static[i].Rule {
			kept = append(kept, f)
			continue
		}
		kept = append(kept, configured(cfg, []Finding{f})...)
	}
	inTextOrder(kept)
	return kept
}

// inTextOrder puts findings in the order of the text (the rehearsal's, added last, among the parse
// tree's), file by file in the order the files first appear.
func inTextOrder(fs []Finding) {
	rank := map[string]int{}
	for _, f := range fs {
		if _, ok := rank[f.File]; !ok {
			rank[f.File] = len(rank)
		}
	}
	slices.SortStableFunc(fs, func(x, y Finding) int {
		return cmp.Or(cmp.Compare(rank[x.File], rank[y.File]), cmp.Compare(x.Line, y.Line), cmp.Compare(x.Column, y.Column))
	})
}

func applyEvidence(static []Finding, ev []Evidence, ignores []StatementIgnore) []Finding {
	out := slices.Clone(static)
	type key struct {
		file      string
		line, col int
	}
	ignoredAt := map[key][]StatementIgnore{}
	for _, ig := range ignores {
		k := key{ig.File, ig.Line, ig.Column}
		ignoredAt[k] = append(ignoredAt[k], ig)
	}
	byStmt := map[key][]int{}
	noTimeout := map[string]bool{} // files whose script leaves lock_timeout unset (a missing-lock-timeout stands)
	facts := map[string]*scriptFacts{}
	for i, f := range out {
		line, col := f.StatementPos()
		k := key{f.File, line, col}
		byStmt[k] = append(byStmt[k], i)
		if f.Rule == "missing-lock-timeout" && f.Risk != Safe && !f.Ignored {
			noTimeout[f.File] = true
		}
		if f.facts != nil {
			facts[f.facts.file] = f.facts
		}
	}
	// timeoutNote says how lock_timeout stands at the statement of e, for a finding on lock l it took
	// on relation rel ("" for the statement as a whole): whether the finding is dangerous for want of
	// one, and what to add to its message. Without the static analysis' facts of the statement, the
	// file's missing-lock-timeout decides.
	timeoutNote := func(e Evidence, rel string, l lockLevel) (dangerous bool, note string) {
		sf, ok := facts[e.File].at(e.Line, e.Column)
		if !ok {
			if noTimeout[e.File] {
				return true, "; the migration does not set lock_timeout, so " + queuedBehind(l, lockedKind(e, rel))
			}
			return false, "; keep lock_timeout set so a wait for it cannot queue the table's queries"
		}
		sf.lockTimeout, sf.deploy = sf.coverFor(rel)
		accepted := slices.ContainsFunc(ignoredAt[key{e.File, e.Line, e.Column}], func(ig StatementIgnore) bool {
			return slices.ContainsFunc(ig.Rules, func(id string) bool { return strings.EqualFold(id, "missing-lock-timeout") })
		})
		switch {
		case !sf.lockTimeout && sf.escalate && !accepted:
			return true, "; no lock_timeout is in effect at this statement, so " + queuedBehind(l, lockedKind(e, rel))
		case !sf.lockTimeout:
			return false, "; no lock_timeout is in effect at this statement"
		case sf.deploy != "":
			return false, "; schemagate deploy runs it with " + sf.deploy + " and retries on SQLSTATE 55P03"
		}
		return false, "; keep lock_timeout set so a wait for it cannot queue the table's queries"
	}
	// txHeld are the lock modes on pre-existing relations that the open transaction took in earlier
	// statements: PostgreSQL keeps them until the transaction ends. Statements run outside a
	// transaction (Concurrent) are each their own. So, as the tool runs the script, are those the static
	// analysis found outside any transaction block (psql outside the script's own BEGIN … COMMIT), and
	// each BEGIN … COMMIT of the script is a transaction of its own, though the rehearsal may have run
	// them all in one (see stmtFacts.block): rehearsed are the modes that one holds.
	var txHeld, rehearsed map[string]lockSet
	txFile, txBlock := "", -1
	for ei, e := range ev {
		madeInvalid := len(e.InvalidIndexes) > 0
		e.InvalidIndexes = stillInvalid(e.InvalidIndexes, ev[ei+1:])
		if e.Err != "" {
			txHeld, rehearsed = nil, nil // the transaction is aborted; nothing after it runs in it
			// A failed CREATE INDEX CONCURRENTLY leaves its index behind INVALID, which blocks the retry.
			if len(e.InvalidIndexes) > 0 {
				base := Finding{File: e.File, Line: e.Line, Column: e.Column, Source: "dynamic"}
				if idx := byStmt[key{e.File, e.Line, e.Column}]; len(idx) > 0 {
					base.Statement = out[idx[0]].statementExcerpt()
				}
				added := len(out)
				out = append(out, invalidIndexFindings(base, e, "the failed statement left index %s behind INVALID")...)
				ignoreAt(out[added:], ignoredAt[key{e.File, e.Line, e.Column}])
			}
			continue
		}
		if e.Concurrent || e.File != txFile {
			txHeld, rehearsed, txFile, txBlock = nil, nil, e.File, -1
		}
		// The trace reports a lock only when the transaction did not hold it, in that mode, before (a
		// transaction that holds ACCESS EXCLUSIVE still gets ROW EXCLUSIVE as a lock of its own when it
		// updates the table): a mode it believed held means the transaction ended in between (COMMIT in
		// the script).
		for _, l := range e.Locks {
			if rehearsed[l.Relation].has(lockRank[l.Mode]) && l.Preexisting {
				txHeld, rehearsed = nil, nil
				break
			}
		}
		sf, known := facts[e.File].at(e.Line, e.Column)
		alone := e.Concurrent || known && sf.block == 0
		split := known && sf.block != txBlock // the tool runs it in another transaction than the statement before
		if known {
			txBlock = sf.block
		}
		if alone || split {
			txHeld = nil
		}
		idx := byStmt[key{e.File, e.Line, e.Column}]
		stmtSQL := ""
		if len(idx) > 0 {
			stmtSQL = out[idx[0]].statementExcerpt()
		}
		heldModes := maps.Clone(txHeld)
		if heldModes == nil {
			heldModes = map[string]lockSet{}
		}
		newLocks := map[string]lockLevel{}
		for _, l := range e.Locks {
			if l.Preexisting {
				heldModes[l.Relation] = heldModes[l.Relation].with(lockRank[l.Mode])
				newLocks[l.Relation] = max(newLocks[l.Relation], lockRank[l.Mode])
			}
		}
		// retaken are the locks the statement took again unseen, under the tool, in a transaction of its
		// own: the rehearsal's transaction held them already, so the trace does not show them. A relation
		// it scanned or rewrote without a lock of its own in the trace is locked at least in the weakest
		// mode held (what the statement before it that locked it took).
		retaken := map[string]lockLevel{}
		if (alone || split) && !e.Concurrent {
			for _, rel := range slices.Concat(e.Scanned, e.Rewritten) {
				if heldModes[rel] == 0 && rehearsed[rel] != 0 {
					retaken[rel] = rehearsed[rel].weakest()
					heldModes[rel] = heldModes[rel].with(retaken[rel])
				}
			}
		}
		if !e.Concurrent {
			if rehearsed == nil {
				rehearsed = map[string]lockSet{}
			}
			for rel, m := range heldModes {
				rehearsed[rel] |= m
			}
		}
		if !alone {
			txHeld = heldModes
		}
		// held is the strongest lock the statement runs under, on each relation.
		held := func(rel string) lockLevel { return heldModes[rel].strongest() }
		explainedRewrite := false
		var scanners []*Finding
		lockClaimed := false
		var lockers []*Finding // findings that claim a lock (see uncountedLock)
		revived := false
		for _, i := range idx {
			f := &out[i]
			if f.ifExists != nil {
				if !revive(f, e, newLocks) {
					continue // it did nothing, as judged: it claims no lock, rewrite or scan
				}
				revived = true // it comes back with what it would say, lock_timeout included
				if dangerous, note := timeoutNote(e, "", maxLock(newLocks)); dangerous {
					f.Risk = Dangerous
					f.Message += note
				}
			}
			switch f.Rule {
			case "change-column-type-coercible", "change-column-type-rewrite":
				setTypeOutcome(f, e.Rewritten)
				// ACCESS EXCLUSIVE on another table is that of a foreign key over the column, dropped
				// and added again, which the history the rules read may not have shown.
				for _, rel := range slices.Sorted(maps.Keys(newLocks)) {
					if newLocks[rel] == lockAE && lockedKind(e, rel) != "i" && !names(f, rel) && !mentions(f.Lock, rel) {
						f.Lock += "; ACCESS EXCLUSIVE on " + rel + " (observed)"
						f.Message += fmt.Sprintf("; it also held ACCESS EXCLUSIVE on %s (a foreign key over the column dropped and added again)", rel)
					}
				}
			case "add-column-volatile-default":
				if len(e.FastDefault) > 0 && len(e.Rewritten) == 0 {
					retarget(f, "add-column-default-nonvolatile", Safe)
					f.Rewrite = false
					f.Message = "the rehearsal stored the DEFAULT as a fast default (" + strings.Join(e.FastDefault, ", ") + "): no rewrite"
					f.Source = SourceBoth
				}
			case "add-column-default-nonvolatile":
				switch {
				case len(e.Rewritten) > 0 && !f.knownDefault:
					retarget(f, "add-column-volatile-default", Dangerous)
					f.Message = "the rehearsal saw the DEFAULT rewrite " + strings.Join(e.Rewritten, ", ") + ": it is volatile"
					f.Source = SourceBoth
				case len(e.Rewritten) == 0 && f.undecidedDefault && f.Risk == Caution:
					// A volatile DEFAULT gives the table new storage even when it has no rows: the trace
					// of a pre-existing table the statement held a lock on (its own, or its transaction's)
					// showing none decides it is not volatile.
					if rel := heldNamed(f, heldModes); rel != "" {
						retarget(f, "add-column-default-nonvolatile", Safe)
						f.Suggestion = ""
						f.Message = fmt.Sprintf("the rehearsal saw no rewrite of %s: the DEFAULT is not volatile, a fast default (metadata-only, a brief ACCESS EXCLUSIVE)", rel)
						f.Source = SourceBoth
					}
				}
			case "set-not-null":
				scanned := slices.ContainsFunc(e.Scanned, func(rel string) bool { return reaches(f, rel, newLocks, e) })
				if !scanned {
					// PostgreSQL skips the scan when the column is NOT NULL already, and (12+) when a
					// validated CHECK (col IS NOT NULL) proves it: the trace does not say which.
					subject := f.subject
					if subject == "" {
						subject = "the column"
					}
					retarget(f, "set-not-null-proven", Safe)
					f.Scan = false
					f.Message = fmt.Sprintf("the rehearsal saw SET NOT NULL on %s scan nothing: the column is already NOT NULL, or a validated CHECK (… IS NOT NULL) proves it, so the statement only takes a brief ACCESS EXCLUSIVE", subject)
					f.Source = SourceBoth
				}
			case "set-access-method":
				if len(e.Rewritten) == 0 {
					// The table already uses the method: PostgreSQL keeps its storage (same relfilenode,
					// measured on 15), which the parse tree cannot tell for a method other than heap.
					f.Risk, f.Rewrite, f.Lock = Safe, false, "ACCESS EXCLUSIVE brief"
					f.Message = fmt.Sprintf("the rehearsal saw %s keep the table's storage (same relfilenode): it already uses that method, so the statement only takes a brief ACCESS EXCLUSIVE", f.subject)
					f.Suggestion = ""
				}
				f.Source = SourceBoth
			case "drop-constraint", "drop-table":
				for _, rel := range slices.Sorted(maps.Keys(newLocks)) {
					if newLocks[rel] == lockAE && !mentions(f.Message, rel) && !mentions(f.Lock, rel) {
						f.Lock += "; ACCESS EXCLUSIVE on " + rel + " (observed)"
						f.Source = SourceBoth
					}
				}
			}
			if r, _ := Lookup(f.Rule); (f.Lock != "" || r.Lock != "" || f.Rule == "missing-lock-timeout") && f.Rule != "statement-after-access-exclusive" {
				lockClaimed = true
				if f.Rule != "missing-lock-timeout" {
					lockers = append(lockers, f)
				}
			}
			if f.Rewrite {
				explainedRewrite = true
				scanners = append(scanners, f) // a rewrite reads the whole table
				if len(e.Rewritten) > 0 {
					f.Source = SourceBoth
				}
			}
			if f.Scan {
				scanners = append(scanners, f)
				if len(e.Scanned) > 0 {
					f.Source = SourceBoth
				}
			}
			if f.Lock != "" && !f.Rewrite && !f.Scan && len(newLocks) > 0 && f.Source == "static" {
				f.Source = SourceBoth
			}
		}
		scanExplained := func(rel string) bool {
			for _, f := range scanners {
				if reaches(f, rel, newLocks, e) || scansRelated[f.Rule] {
					return true
				}
			}
			return false
		}
		base := Finding{File: e.File, Line: e.Line, Column: e.Column, Source: "dynamic", Statement: stmtSQL}
		added := len(out)
		// A scan of a relation the statement's findings do not name (the table of a reindexed index)
		// repeats what an ignored finding that rewrites or scans says: its ignore comment covers it.
		scanIgnored, scanReason := false, ""
		for _, f := range scanners {
			if f.Ignored {
				scanIgnored, scanReason = true, fmt.Sprintf("covered by the ignored %s: %s", f.Rule, f.Reason)
				break
			}
		}
		reported := map[string]bool{}
		// A table or view the statement dropped, that existed before the migration, where no finding of
		// the statement says it drops anything: a DROP run by a DO block, a function or EXECUTE.
		dropClaimed, droppedHere := false, map[string]bool{}
		for _, i := range idx {
			dropClaimed = dropClaimed || dropRules[out[i].Rule]
		}
		for _, l := range e.Locks {
			what := droppedKinds[l.Kind]
			if !l.Dropped || !l.Preexisting || what == "" || dropClaimed || reported[l.Relation] {
				continue
			}
			f := withRule(base, "drop-table")
			if l.Kind == "v" {
				f = withRule(base, "replace-or-drop-view") // a view holds no data: DROP VIEW's own rule
			}
			f.Lock = lockName(lockRank[l.Mode])
			f.Message = fmt.Sprintf("the rehearsal saw the statement drop %s %s, which existed before the migration", what, l.Relation)
			if l.Kind == "v" {
				f.Message += ": what reads it breaks"
			} else {
				f.Message += ": its rows are gone, and what reads it breaks"
			}
			out = append(out, f)
			reported[l.Relation] = true
		}
		if len(reported) > 0 {
			for _, l := range e.Locks {
				droppedHere[l.Relation] = l.Dropped // its indexes and TOAST go with it
			}
		}
		if !explainedRewrite {
			// A table's rewrite rebuilds its indexes (new relfilenodes too): one finding per table
			// names them, rather than one more finding per index.
			kinds := map[string]string{}
			for _, l := range e.Locks {
				kinds[l.Relation] = l.Kind
			}
			var tables, indexes []string
			for _, rel := range e.Rewritten {
				if k := kinds[rel]; k == "i" || k == "I" {
					indexes = append(indexes, rel)
				} else {
					tables = append(tables, rel)
				}
			}
			if len(tables) == 0 {
				tables, indexes = indexes, nil
			}
			for _, rel := range tables {
				f := withRule(base, "table-rewrite")
				f.Lock = lockName(held(rel))
				with := ""
				if len(tables) == 1 && len(indexes) > 0 {
					with = " with its indexes " + strings.Join(indexes, ", ")
				}
				f.Message = fmt.Sprintf("the rehearsal saw %s rewritten%s (new relfilenode) while holding %s", rel, with, f.Lock)
				out = append(out, f)
				reported[rel] = true
			}
			for _, rel := range indexes {
				reported[rel] = true
			}
		}
		var unexplained []string
		for _, rel := range e.Scanned {
			if reported[rel] || slices.Contains(e.Rewritten, rel) && explainedRewrite || scanExplained(rel) {
				continue
			}
			if !explainedRewrite && len(e.Rewritten) > 0 {
				continue // an unexplained rewrite was reported: it reads the table
			}
			unexplained = append(unexplained, rel)
		}
		ownLock := func(rel string) lockLevel { return max(newLocks[rel], retaken[rel]) }
		scans, scanned := scanFindings(base, e, unexplained, heldModes, ownLock, sf, known)
		for _, f := range scans {
			f.Ignored, f.Reason = scanIgnored, scanReason
			out = append(out, f)
		}
		for _, rel := range scanned {
			reported[rel] = true
		}
		if !lockClaimed {
			for _, rel := range slices.Sorted(maps.Keys(newLocks)) {
				l := newLocks[rel]
				if l < lockSH || reported[rel] || droppedHere[rel] || droppedBy(e, rel) {
					continue
				}
				sf, ok := facts[e.File].at(e.Line, e.Column)
				if ok && sf.known[rel] >= l || !ok && l == lockSH && madeInvalid && lockedKind(e, rel) == "p" || !ok && l == lockAE && detachedConcurrently(e, rel) {
					// The static analysis knows it and counted it for missing-lock-timeout. Without its
					// facts (a script with no finding), SHARE on a partitioned table by a statement that
					// made an index INVALID is CREATE INDEX … ON ONLY's, which builds nothing, and ACCESS
					// EXCLUSIVE on the partition DETACH PARTITION … CONCURRENTLY's, which the rules count.
					continue
				}
				sequence := lockedKind(e, rel) == "S"
				if sequence {
					if sf, ok := facts[e.File].at(e.Line, e.Column); ok && sf.counted {
						// A sequence the statement alters with the table it owns it (ALTER TABLE … ALTER
						// COLUMN … RESTART, SET SCHEMA, OWNER TO), or by name (ALTER SEQUENCE): the
						// statement's own finding or missing-lock-timeout covers the lock.
						continue
					}
				}
				f := withRule(base, "unexplained-exclusive-lock")
				f.Lock = l.String()
				f.Message = fmt.Sprintf("the rehearsal saw the statement take %s on %s, which existed before the migration, and no rule explains it", l, rel)
				if sequence {
					f.Message = fmt.Sprintf("the rehearsal saw the statement take %s on sequence %s, which existed before the migration, and no rule explains it: every nextval() on it, an INSERT that draws a default from it too, waits until the transaction ends", l, rel)
				}
				dangerous, note := timeoutNote(e, rel, l)
				if dangerous {
					f.Risk = Dangerous
				}
				f.Message += note
				if sf, ok := facts[e.File].at(e.Line, e.Column); ok && sf.deploy != "" {
					// As missing-lock-timeout's, when only the deploy's lock_timeout covers it.
					f.Suggestion = "check what the statement does to the table; if the migration also reaches the database another way than schemagate deploy, SET lock_timeout in it"
				}
				out = append(out, f)
			}
		}
		// A lock a finding claims that the static analysis could not count for missing-lock-timeout
		// (CREATE OR REPLACE VIEW of a view the history the rules read may lack) counts once the
		// rehearsal sees it on a relation that existed before, as it would have had the rules known.
		if sf, ok := facts[e.File].at(e.Line, e.Column); ok && !sf.counted && !revived && !sf.lockTimeout && sf.escalate {
			if rel, l := uncountedLock(lockers, e, newLocks); l >= lockSH {
				kind := lockedKind(e, rel)
				f := withRule(base, "missing-lock-timeout")
				f.Message = fmt.Sprintf("the rehearsal saw the statement take %s on %s, which existed before the migration, without an earlier SET lock_timeout: %s",
					l, rel, queuedBehind(l, kind))
				if kind == "m" && l < lockAE {
					f.Risk = Caution
				}
				if !lockTimeoutRaised(out, e, f.Risk) {
					out = append(out, f)
				}
			}
		}
		out = append(out, invalidIndexFindings(base, e, "index %s was left INVALID")...)
		ignoreAt(out[added:], ignoredAt[key{e.File, e.Line, e.Column}])
	}
	return out
}

// stillInvalid are the indexes of invalid that none of the statements after (later) validated or
// dropped: those the migration leaves INVALID.
func stillInvalid(invalid []string, later []Evidence) []string {
	return slices.DeleteFunc(slices.Clone(invalid), func(ix string) bool {
		return slices.ContainsFunc(later, func(e Evidence) bool { return slices.Contains(e.ClearedIndexes, ix) })
	})
}

// invalidIndexFindings are the invalid-index findings of a statement (e) that left indexes INVALID, those
// of e.InvalidPartitioned among them partitioned indexes; what says how (a format with the index's name).
//
// PostgreSQL refuses DROP INDEX CONCURRENTLY of a partitioned index ("cannot drop partitioned index …
// concurrently"): one stays INVALID until each partition has an index attached to it, so attaching the
// missing ones is the fix, or a plain DROP INDEX, which takes ACCESS EXCLUSIVE on the partitioned table
// and on every partition (measured on 15 from pg_locks).
//
// A retry of the statement fails on the index of its name, unless the statement has IF NOT EXISTS:
// then it skips the INVALID index with only a notice and succeeds (measured on 15), which is worse, as
// the tool then records a failed migration applied, with no usable index.
func invalidIndexFindings(base Finding, e Evidence, what string) []Finding {
	retry := "a retry with the same name fails"
	switch {
	case e.IfNotExists && e.Err != "":
		retry = "a retry does not fail: IF NOT EXISTS skips the INVALID index with only a notice and keeps it, " +
			"so the migration is recorded as applied with no usable index"
	case e.IfNotExists:
		retry = "a run of the statement again does not fail: IF NOT EXISTS skips the INVALID index with only a notice and keeps it"
	}
	var out []Finding
	for _, ix := range e.InvalidIndexes {
		f := withRule(base, "invalid-index")
		f.Message = fmt.Sprintf(what, ix) + ": queries never use it, writes still maintain it, and " + retry
		f.Suggestion = fmt.Sprintf("DROP INDEX CONCURRENTLY IF EXISTS %s; then fix the cause and retry", ix)
		if e.IfNotExists {
			f.Suggestion = fmt.Sprintf("DROP INDEX CONCURRENTLY IF EXISTS %s before any retry (IF NOT EXISTS would keep it INVALID); then fix the cause and retry", ix)
		}
		if slices.Contains(e.InvalidPartitioned, ix) {
			f.Message = fmt.Sprintf(what, ix) + ": a partitioned index stays INVALID until every partition has an index attached to it, and " + retry
			f.Suggestion = fmt.Sprintf("for each partition without an index attached to it, CREATE INDEX CONCURRENTLY IF NOT EXISTS one on the partition "+
				"and ALTER INDEX %s ATTACH PARTITION it (the last makes it valid); or DROP INDEX IF EXISTS %s, without CONCURRENTLY "+
				"(PostgreSQL refuses it for a partitioned index), which takes ACCESS EXCLUSIVE on the partitioned table and every partition", ix, ix)
		}
		out = append(out, f)
	}
	return out
}

// ignoreAt marks the findings that an ignore comment of their statement names.
func ignoreAt(fs []Finding, igs []StatementIgnore) {
	for i := range fs {
		for _, ig := range igs {
			if slices.ContainsFunc(ig.Rules, func(id string) bool { return strings.EqualFold(id, fs[i].Rule) }) {
				fs[i].Ignored, fs[i].Reason = true, ig.Reason
			}
		}
	}
}

// lockSet holds lock modes, one bit per lockLevel: pg_locks has a row for each mode a transaction
// holds on a relation.
type lockSet uint16

func (s lockSet) has(l lockLevel) bool     { return l > lockNone && s&(1<<l) != 0 }
func (s lockSet) with(l lockLevel) lockSet { return s | 1<<l }
func (s lockSet) weakest() lockLevel {
	for l := lockAS; l <= lockAE; l++ {
		if s.has(l) {
			return l
		}
	}
	return lockNone
}

func (s lockSet) strongest() lockLevel {
	for l := lockAE; l > lockNone; l-- {
		if s.has(l) {
			return l
		}
	}
	return lockNone
}

func maxLock(locks map[string]lockLevel) lockLevel {
	l := lockNone
	for _, m := range locks {
		l = max(l, m)
	}
	return l
}

// lockTimeoutRaised tells whether a missing-lock-timeout of class risk or higher that stands (not
// ignored) was raised at the statement of e or at an earlier one of its script: as the static analysis
// does, the rule is raised once per script unless a later statement deserves a higher class.
func lockTimeoutRaised(fs []Finding, e Evidence, risk Risk) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool {
		line, col := f.StatementPos()
		return f.Rule == "missing-lock-timeout" && f.File == e.File && f.Risk >= risk && !f.Ignored &&
			(line < e.Line || line == e.Line && col <= e.Column)
	})
}

// uncountedLock is the strongest lock of newLocks (the pre-existing relations statement e locked) on a
// relation that one of lockers (its findings that claim a lock) names and that it did not drop.
func uncountedLock(lockers []*Finding, e Evidence, newLocks map[string]lockLevel) (rel string, l lockLevel) {
	for _, r := range slices.Sorted(maps.Keys(newLocks)) {
		if newLocks[r] <= l || droppedBy(e, r) || !slices.ContainsFunc(lockers, func(f *Finding) bool { return names(f, r) }) {
			continue
		}
		rel, l = r, newLocks[r]
	}
	return rel, l
}

// detachedConcurrently tells whether e, with its ACCESS EXCLUSIVE on rel, is what DETACH PARTITION …
// CONCURRENTLY leaves in a trace: a statement outside a transaction that took SHARE UPDATE EXCLUSIVE on
// a partitioned table and on rel, then ACCESS EXCLUSIVE on rel in its second transaction.
func detachedConcurrently(e Evidence, rel string) bool {
	if !e.Concurrent {
		return false
	}
	parent, part := false, false
	for _, l := range e.Locks {
		if l.Mode != "ShareUpdateExclusiveLock" {
			continue
		}
		parent = parent || l.Kind == "p" && l.Relation != rel
		part = part || l.Relation == rel
	}
	return parent && part
}

// revive judges a finding of a statement the static analysis found to do nothing (ifExists is set) by
// what the rehearsal saw: a lock on a relation that existed before the migration, one the statement
// names or dropped, means the object existed after all (the schema the rules read lacked it), and the
// finding it would have had comes back, saying so; otherwise the finding is confirmed. (A lock on a
// relation the statement neither names nor drops is one its transaction held already: a statement
// traced outside the migration's transaction reports every lock its session holds.) It reports
// whether the finding came back.
func revive(f *Finding, e Evidence, newLocks map[string]lockLevel) bool {
	acted := slices.ContainsFunc(e.Locks, func(l LockEvidence) bool {
		return l.Preexisting && (l.Dropped || names(f.ifExists, l.Relation))
	})
	if !acted {
		f.Source = SourceBoth
		f.Message += "; the rehearsal saw it take no lock on what it names"
		return false
	}
	var seen []string // "ACCESS EXCLUSIVE on public.t and public.t_idx", strongest first
	for l := lockAE; l > lockNone; l-- {
		var rels []string
		for _, rel := range slices.Sorted(maps.Keys(newLocks)) {
			if newLocks[rel] == l {
				rels = append(rels, rel)
			}
		}
		if len(rels) > 0 {
			seen = append(seen, l.String()+" on "+andList(rels))
		}
	}
	would := *f.ifExists
	would.Source, would.Ignored, would.Reason, would.facts = SourceBoth, f.Ignored, f.Reason, f.facts
	would.Message += "; the rehearsal saw it take " + strings.Join(seen, ", ") + ", so it does act: the schema the rules read lacks what it names"
	*f = would
	return true
}

// lockedKind is the relkind the trace gives relation rel among the locks of e ("" when it does not
// tell, or rel is "").
func lockedKind(e Evidence, rel string) string {
	kind := ""
	for _, lk := range e.Locks {
		if rel != "" && lk.Relation == rel {
			kind = lk.Kind
		}
	}
	return kind
}

// dropRules are the rules of statements that say they drop relations; droppedKinds names the relation
// kinds a dynamic drop-table is added for.
var (
	// dropRules are the static rules that say their statement drops relations (DROP VIEW's too).
	dropRules    = map[string]bool{"drop-table": true, "drop-cascade": true, "drop-schema-or-database": true, "drop-column": true, "replace-or-drop-view": true}
	droppedKinds = map[string]string{"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view", "f": "foreign table"}
)

// scansRelated are rules whose statement also scans relations it does not name: the referenced table
// of a foreign key being validated, every table using a domain, a materialized view's sources, the
// table of a reindexed index (whose finding says what the scan blocks: under the index's ACCESS
// EXCLUSIVE, reads that plan against the table wait too, which a table-scan's "reads go on" denied).
var scansRelated = map[string]bool{"validate-constraint": true, "validate-in-same-transaction": true, "domain-constraint": true,
	"refresh-matview-blocking": true, "refresh-matview-concurrently": true, "reindex-blocking": true}

// names tells whether a finding names relation rel (as the trace writes it, "public.users") in its
// message, lock or statement: as "users", "public.users", "users.email", in any letter case.
func names(f *Finding, rel string) bool {
	name := strings.ToLower(rel)
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Trim(name, `"`)
	for _, text := range []string{f.Message, f.Lock, f.Statement} {
		text = strings.ToLower(text)
		for i := 0; ; {
			j := strings.Index(text[i:], name)
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(name)
			if (start == 0 || !wordChar(text[start-1])) && (end == len(text) || !wordChar(text[end])) {
				return true
			}
			i = start + 1
		}
	}
	return false
}

// heldNamed is the first (by name) pre-existing relation the finding names that its statement ran
// under a lock on (held: the statement's and its transaction's), "" for none: one the trace covered.
func heldNamed(f *Finding, held map[string]lockSet) string {
	for _, rel := range slices.Sorted(maps.Keys(held)) {
		if held[rel] != 0 && names(f, rel) {
			return rel
		}
	}
	return ""
}

// reaches tells whether the statement e of a finding reaches relation rel (as the trace writes it): the
// finding names it, or rel is a table below the one the finding is about (a partition, an inheritance
// child), as the static analysis knows them or as the trace shows them: PostgreSQL locks the partitions
// a statement on a partitioned table recurses to in the mode it locks the partitioned table, so a
// relation the statement newly locked (newLocks) as strongly as a partitioned table the finding names
// is one of them. The rules may know only some of the partitions (those the migration names).
func reaches(f *Finding, rel string, newLocks map[string]lockLevel, e Evidence) bool {
	if names(f, rel) || slices.Contains(f.below, rel) {
		return true
	}
	for _, l := range e.Locks {
		if l.Kind == "p" && l.Relation != rel && newLocks[l.Relation] > lockNone && newLocks[rel] >= newLocks[l.Relation] && names(f, l.Relation) {
			return true
		}
	}
	return false
}

func wordChar(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// blocksDuring says what a lock held during a scan blocks: ACCESS EXCLUSIVE every query, SHARE up to
// EXCLUSIVE writes only (they do not conflict with ACCESS SHARE, what reads take).
func blocksDuring(l lockLevel) string {
	switch {
	case l >= lockAE:
		return ": reads and writes wait for the whole scan"
	case l >= lockSH:
		return ": writes wait for the whole scan; reads go on"
	}
	return ""
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

// setTypeOutcome judges a type change by what the rehearsal saw. A change between timestamp and
// timestamptz rewrites the table unless the session's TimeZone is UTC, which the rehearsal's is: its
// "no rewrite" says nothing about a server in another time zone, so the static finding stands.
func setTypeOutcome(f *Finding, rewritten []string) {
	subject := f.subject
	if subject == "" {
		subject = "the type change"
	}
	switch {
	case len(rewritten) > 0:
		retarget(f, "change-column-type-rewrite", Dangerous)
		f.Message = fmt.Sprintf("the rehearsal saw %s rewrite %s (new relfilenode) under ACCESS EXCLUSIVE", subject, strings.Join(rewritten, ", ")) + f.foreignKeys
	case f.timeZoneDependent:
		f.Message += "; the rehearsal saw no rewrite only because it runs with TimeZone UTC"
	default:
		retarget(f, "change-column-type-coercible", Caution)
		f.Message = fmt.Sprintf("the rehearsal saw no rewrite: %s is binary-coercible, a brief ACCESS EXCLUSIVE only", subject) + f.foreignKeys
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

// droppedBy tells whether statement e dropped relation rel: the lock it took on what it drops is part of
// dropping it (DROP INDEX CONCURRENTLY ends with ACCESS EXCLUSIVE on the index; the rehearsal sees that
// lock or not, as its sampling of a statement run outside a transaction catches it), and a dropped
// table has its own finding.
func droppedBy(e Evidence, rel string) bool {
	for _, l := range e.Locks {
		if l.Relation == rel && l.Dropped {
			return true
		}
	}
	return false
}

// DidNothing lists the statements of static (findings of the static analysis) that the rehearsal's
// evidence ev shows did nothing: a DROP … IF EXISTS the rules could not tell drops anything (a DO block
// or a function names the relation, PostgreSQL may have chosen its name) that took no lock at all, where
// no earlier statement of its script locked a relation of a name it drops (the transaction may hold
// every lock the DROP takes already). Judged again with them as Config.NothingDone, the static analysis
// counts no lock for them. Statements that ran outside a transaction are left out: the trace samples
// their locks, and may miss them.
func DidNothing(static []Finding, ev []Evidence) []Position {
	facts := map[string]*scriptFacts{}
	for _, f := range static {
		if f.facts != nil {
			facts[f.facts.file] = f.facts
		}
	}
	var out []Position
	for i, e := range ev {
		sf, ok := facts[e.File].at(e.Line, e.Column)
		if !ok || len(sf.dropIfExists) == 0 || e.Err != "" || e.Concurrent || len(e.Locks) > 0 {
			continue
		}
		locked := false
		for _, earlier := range ev[:i] {
			for _, l := range earlier.Locks {
				for _, name := range sf.dropIfExists {
					locked = locked || earlier.File == e.File && strings.HasSuffix(l.Relation, "."+quoteIdent(name))
				}
			}
		}
		if !locked {
			out = append(out, Position{e.File, e.Line, e.Column})
		}
	}
	return out
}
