package lint

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// scanFindings are the table-scan findings of statement e for the relations it scanned that no finding
// of it explains (unexplained), and the relations they report. heldModes are the modes its transaction
// holds on each pre-existing relation during the statement, own the lock the statement took itself,
// sf its static facts (when known).
//
// A scan blocks what conflicts with the locks held while it runs. Under SHARE or stronger on the table
// writes wait for it (reads too under ACCESS EXCLUSIVE): one finding per such table. Under a weaker
// lock (ACCESS SHARE for a query, ROW EXCLUSIVE for an UPDATE, SHARE UPDATE EXCLUSIVE for VALIDATE
// CONSTRAINT) it blocks no read or write, and raises nothing, unless the transaction holds SHARE or
// stronger on another relation, whose queries then wait for the scan: one finding names them.
//
// The trace runs on the rehearsal's database, whose tables hold no rows or a few: where the planner
// chose a sequential scan for a statement whose WHERE a key range bounds, production reads the key's
// index, and the check of a NOT NULL column added without a default stops at production's first row,
// failing the statement (stmtFacts.shortScans). Neither is a full scan there.
func scanFindings(base Finding, e Evidence, unexplained []string, heldModes map[string]lockSet, own func(string) lockLevel, sf stmtFacts, known bool) ([]Finding, []string) {
	advice := sf.scanAdvice
	if !known {
		advice = scanSuggestionText(base.Statement)
	}
	earlier := func(rel string, l lockLevel) string {
		if l > own(rel) {
			return ", which an earlier statement of the transaction took"
		}
		return ""
	}
	var out []Finding
	var reported, weak []string
	for _, rel := range unexplained {
		if known && sf.shortScans[rel] {
			continue
		}
		l := heldModes[rel].strongest()
		if l < lockSH {
			weak = append(weak, rel)
			continue
		}
		f := withRule(base, "table-scan")
		f.Lock = l.String()
		f.Message = fmt.Sprintf("the rehearsal saw a full scan of %s while holding %s%s%s", rel, f.Lock, earlier(rel, l), blocksDuring(l))
		if advice != "" {
			f.Suggestion = advice
		}
		out = append(out, f)
		reported = append(reported, rel)
	}
	if len(weak) == 0 || len(out) > 0 {
		return out, reported
	}
	// The strongest lock the transaction holds on another relation, which waits for the scans too.
	other, l := "", lockNone
	for _, rel := range slices.Sorted(maps.Keys(heldModes)) {
		if m := heldModes[rel].strongest(); m > l && !slices.Contains(weak, rel) && !droppedBy(e, rel) {
			other, l = rel, m
		}
	}
	if l < lockSH {
		return nil, nil
	}
	f := withRule(base, "table-scan")
	f.Lock = l.String() + " on " + other
	waits := "writes"
	if l >= lockAE {
		waits = "reads and writes"
	}
	f.Message = fmt.Sprintf("the rehearsal saw a full scan of %s while the transaction holds %s on %s%s: %s of %s wait for the whole scan",
		andList(weak), l, other, earlier(other, l), waits, other)
	if advice != "" {
		f.Suggestion = advice
	}
	return []Finding{f}, weak
}

// Advice of table-scan for a scan under a lock that blocks writes, by the kind of statement (see
// scanSuggestion).
const (
	dmlScanSuggestion      = "batch it in a later migration (a bounded key range per short transaction), or run it outside the transaction that holds the lock, so no long scan runs under it"
	createAsScanSuggestion = "create it in a migration of its own, outside the transaction that holds the lock (or WITH NO DATA here and REFRESH it there): " +
		"its query's scan alone takes ACCESS SHARE, which blocks no reads or writes"
	queryScanSuggestion = "run the query outside the transaction that holds the lock (a migration of its own): under ACCESS SHARE alone its scan blocks no reads or writes"
	alterScanSuggestion = "add a constraint NOT VALID and VALIDATE CONSTRAINT it in a later transaction (SHARE UPDATE EXCLUSIVE, which blocks no reads or writes); " +
		"build the index a constraint needs CONCURRENTLY first and add the constraint USING INDEX"
	attachScanSuggestion = "before attaching, give the DEFAULT partition a validated CHECK that excludes the new bound " +
		"(CHECK (NOT (key IS NOT NULL AND key >= … AND key < …)), NOT VALID, then VALIDATE CONSTRAINT), so PostgreSQL skips its scan"
	indexScanSuggestion = "CREATE INDEX CONCURRENTLY, outside a transaction: it takes SHARE UPDATE EXCLUSIVE, which blocks no writes"
)

// scanSuggestion is table-scan's advice for a statement n that scans a table under a lock that blocks
// writes: its own safe form. "" leaves the rule's, for a statement the parse tree does not show the work
// of (a function call, DO, CALL).
func scanSuggestion(n *pg_query.Node) string {
	switch {
	case n.GetUpdateStmt() != nil || n.GetDeleteStmt() != nil || n.GetInsertStmt() != nil || n.GetMergeStmt() != nil:
		return dmlScanSuggestion
	case n.GetCreateTableAsStmt() != nil || n.GetSelectStmt().GetIntoClause() != nil:
		return createAsScanSuggestion
	case len(n.GetSelectStmt().GetFromClause()) > 0:
		return queryScanSuggestion
	case n.GetIndexStmt() != nil:
		return indexScanSuggestion
	case n.GetAlterTableStmt() != nil:
		for _, c := range n.GetAlterTableStmt().GetCmds() {
			if c.GetAlterTableCmd().GetSubtype() == pg_query.AlterTableType_AT_AttachPartition {
				return attachScanSuggestion
			}
		}
		return alterScanSuggestion
	}
	return ""
}

// scanSuggestionText is scanSuggestion from a statement's excerpt, when the static analysis has no facts
// of it: only its first word tells a statement that changes rows.
func scanSuggestionText(sql string) string {
	word, _, _ := strings.Cut(strings.TrimSpace(sql), " ")
	switch strings.ToUpper(word) {
	case "UPDATE", "DELETE", "INSERT", "MERGE":
		return dmlScanSuggestion
	}
	return ""
}
