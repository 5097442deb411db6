package lint

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// provesNotNull tells whether a validated CHECK whose expression is n proves column col NOT NULL, so
// that PostgreSQL 12+ skips SET NOT NULL's scan. PostgreSQL asks whether the constraint's expression,
// made canonical (NOT pushed inwards, ANDs and ORs flattened), implies col IS NOT NULL in the weak sense
// a CHECK is held to (NULL passes): col IS NOT NULL, NOT (col IS NULL) and a row (…, col, …) IS NOT NULL
// prove it, so does an AND with one conjunct that proves it and an OR whose every arm proves it; a strict
// comparison (col > 0) does not, as a CHECK passes on NULL (measured on 15 with client_min_messages
// debug1: "existing constraints on column … are sufficient to prove that it does not contain nulls").
// col IS DISTINCT FROM NULL (either way round) proves it too, and NOT (col IS NOT DISTINCT FROM NULL):
// PostgreSQL makes a NULL test of them when one side is a bare NULL; against NULL::int it does not.
func provesNotNull(n *pg_query.Node, col string) bool {
	return impliesNotNull(n, col, false)
}

// impliesNotNull is provesNotNull of n, or of NOT n when negated.
func impliesNotNull(n *pg_query.Node, col string, negated bool) bool {
	if b := n.GetBoolExpr(); b != nil {
		if b.Boolop == pg_query.BoolExprType_NOT_EXPR {
			return len(b.Args) == 1 && impliesNotNull(b.Args[0], col, !negated)
		}
		// NOT (a AND b) is NOT a OR NOT b, and NOT (a OR b) is NOT a AND NOT b.
		if (b.Boolop == pg_query.BoolExprType_AND_EXPR) != negated {
			for _, a := range b.Args {
				if impliesNotNull(a, col, negated) {
					return true
				}
			}
			return false
		}
		for _, a := range b.Args {
			if !impliesNotNull(a, col, negated) {
				return false
			}
		}
		return len(b.Args) > 0
	}
	if arg, notNull, ok := distinctFromNull(n); ok {
		return notNull != negated && isColumn(arg, col)
	}
	nt := n.GetNullTest()
	if nt == nil {
		return false
	}
	notNull := nt.Nulltesttype == pg_query.NullTestType_IS_NOT_NULL
	if row := nt.Arg.GetRowExpr(); row != nil {
		// ROW(a, b) IS NOT NULL is a IS NOT NULL AND b IS NOT NULL; NOT (ROW(a, b) IS NULL) says only
		// that one of them is not null.
		if negated || !notNull {
			return false
		}
		for _, a := range row.Args {
			if isColumn(a, col) {
				return true
			}
		}
		return false
	}
	return notNull != negated && isColumn(nt.Arg, col)
}

// distinctFromNull reads x IS DISTINCT FROM NULL (notNull) and x IS NOT DISTINCT FROM NULL as the NULL
// tests PostgreSQL's parse analysis makes of them (transformAExprDistinct) when one side is a bare NULL
// literal, and gives x.
func distinctFromNull(n *pg_query.Node) (arg *pg_query.Node, notNull, ok bool) {
	e := n.GetAExpr()
	if e == nil || (e.Kind != pg_query.A_Expr_Kind_AEXPR_DISTINCT && e.Kind != pg_query.A_Expr_Kind_AEXPR_NOT_DISTINCT) {
		return nil, false, false
	}
	isNull := func(n *pg_query.Node) bool { c := n.GetAConst(); return c != nil && c.Isnull }
	switch {
	case isNull(e.Rexpr):
		arg = e.Lexpr
	case isNull(e.Lexpr):
		arg = e.Rexpr
	default:
		return nil, false, false
	}
	return arg, e.Kind == pg_query.A_Expr_Kind_AEXPR_DISTINCT, true
}

// isColumn tells whether n is a reference to column col (as PostgreSQL knows it: the parser has folded the
// reference, and "Bar" is another column than bar), qualified or not.
func isColumn(n *pg_query.Node, col string) bool {
	cr := n.GetColumnRef()
	if cr == nil || len(cr.Fields) == 0 {
		return false
	}
	s := cr.Fields[len(cr.Fields)-1].GetString_()
	return s != nil && s.Sval == col
}

// unprovenBelow lists the tables below table key (partitions and inheritance children, known to the
// state) that SET NOT NULL of its column col scans: PostgreSQL sets the column NOT NULL in each, and
// skips the scan of one whose column is NOT NULL already or one a validated CHECK of its own, or
// inherited, proves it of.
func (s *state) unprovenBelow(key, col string) []string {
	var out []string
	for _, k := range s.inheritors(key) {
		t := s.tables[k]
		if t == nil {
			continue
		}
		if c := t.cols[col]; c != nil && c.notNull {
			continue
		}
		if t.nullProof(col) == nil {
			out = append(out, bare(k))
		}
	}
	slices.Sort(out)
	return out
}

// nullProof returns the validated CHECK of t that proves its column col IS NOT NULL, the first by name
// (a stable message), or nil when none does.
func (t *table) nullProof(col string) *check { return t.nullProofExcept(col, nil) }

// nullProofExcept is nullProof without the CHECKs named in dropped.
func (t *table) nullProofExcept(col string, dropped map[string]bool) *check {
	for _, k := range slices.Sorted(maps.Keys(t.checks)) {
		if ck := t.checks[k]; ck.validated && !dropped[k] && provesNotNull(ck.expr, col) {
			return ck
		}
	}
	return nil
}

// addedColumn is an ADD COLUMN of the migration on a pre-existing table, as a later SET NOT NULL of the
// column in the same migration needs it: NOT NULL written in the ADD COLUMN costs no pass over the
// table of its own (measured on 15: ADD COLUMN c int NOT NULL DEFAULT 0 scans nothing, ADD COLUMN c int
// DEFAULT 0 then SET NOT NULL scans the table once, in one ALTER TABLE or two), where SET NOT NULL
// afterwards scans every row for a NULL the DEFAULT cannot have put there.
type addedColumn struct {
	stmtIdx int // the statement that adds it
	line    int // where its ADD COLUMN stands
	// head is its name and type as written (what comes before its first constraint), notNull its whole
	// definition with NOT NULL written in; both "" when the text cannot be read (see columnText).
	head, notNull string
	// filled says every row the table has gets a value: a DEFAULT of its own (not DEFAULT NULL) or of
	// its domain, or GENERATED … STORED. Without one they all hold NULL, and SET NOT NULL fails.
	filled bool
	// pass is "rewrite" or "scan" when the ADD COLUMN reads every row of the table, and passFor why:
	// that pass checks NOT NULL in each row too, so NOT NULL in the ADD COLUMN (or a SET NOT NULL in the
	// same ALTER TABLE) adds none (measured on 15), but a SET NOT NULL in a later statement reads the
	// table a second time.
	pass, passFor string
	// undecided says the parser cannot tell whether the DEFAULT is volatile (see defaultVolatility).
	undecided bool
}

// quietStatement tells whether a statement leaves the values of a table's rows as they are, as far as
// its parse tree tells: DDL, settings and transaction control. (An ALTER COLUMN … TYPE, whose USING may
// fill the column, makes the analyzer forget the column it changes: see alterCmd.) DML, a DO block, a
// CALL or a SELECT (which may call a function that writes) may fill a column; a statement that did not
// parse may be anything.
func quietStatement(st *sqlparse.Statement) bool {
	n := st.Node
	switch {
	case n == nil:
		return false
	case n.GetAlterTableStmt() != nil, n.GetIndexStmt() != nil, n.GetCreateStmt() != nil, n.GetCommentStmt() != nil,
		n.GetVariableSetStmt() != nil, n.GetTransactionStmt() != nil, n.GetGrantStmt() != nil, n.GetRenameStmt() != nil,
		n.GetLockStmt() != nil, n.GetCreateSeqStmt() != nil, n.GetViewStmt() != nil, n.GetCreateTrigStmt() != nil,
		n.GetCreateFunctionStmt() != nil:
		return true
	}
	return false
}

// columnText reads the definition of column cd, added by statement st, from the statement's text: head
// is its name and type as written (all before its first constraint), notNull the definition with NOT
// NULL written in (in place of a NULL constraint, or before its first constraint, or at its end). Blank
// space and comments between tokens read as one space, so the text fits on one line. Both are "" when
// the text cannot be matched to cd.
func columnText(st *sqlparse.Statement, cd *pg_query.ColumnDef) (head, notNull string) {
	start := st.Offset(cd.Location)
	if start < 0 {
		return "", ""
	}
	res, err := pg_query.Scan(st.SQL[start:])
	if err != nil {
		return "", ""
	}
	first, null := -1, -1 // offsets in st.SQL of the first constraint and of a NULL constraint
	for _, n := range cd.Constraints {
		c := n.GetConstraint()
		off := st.Offset(c.GetLocation())
		if c == nil || off < start {
			return "", ""
		}
		if first < 0 || off < first {
			first = off
		}
		if c.Contype == pg_query.ConstrType_CONSTR_NULL {
			null = off
		}
	}
	var h, full strings.Builder
	space := func(b *strings.Builder) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
	}
	inserted, spaced := false, false
	depth, prevEnd := 0, start
	for _, t := range res.Tokens {
		if t.Token == pg_query.Token_SQL_COMMENT || t.Token == pg_query.Token_C_COMMENT {
			continue
		}
		from, to := start+int(t.Start), start+int(t.End)
		switch t.Token {
		case pg_query.Token_ASCII_40, pg_query.Token_ASCII_91:
			depth++
		case pg_query.Token_ASCII_41, pg_query.Token_ASCII_93:
			depth--
		}
		if depth < 0 || depth == 0 && (t.Token == pg_query.Token_ASCII_44 || t.Token == pg_query.Token_ASCII_59) {
			break // the end of the subcommand, or of the statement
		}
		// Blank space or a comment between two tokens reads as one space; none stays none (numeric(10,2)).
		gap := from > prevEnd
		prevEnd = to
		tok := st.SQL[from:to]
		if first < 0 || from < first {
			if gap {
				space(&h)
			}
			h.WriteString(tok)
		}
		switch {
		case from == null:
			if !strings.EqualFold(tok, "NULL") {
				return "", "" // CONSTRAINT name NULL: rare enough to go without the text
			}
			space(&full)
			full.WriteString("NOT NULL")
			inserted, spaced = true, true
			continue
		case from == first && null < 0:
			// Before the first constraint only when there is no NULL constraint, which NOT NULL replaces
			// where it stands (DEFAULT '{}' NULL): written here as well, it came out twice.
			space(&full)
			full.WriteString("NOT NULL")
			inserted, gap = true, true
		}
		if gap || spaced {
			space(&full)
		}
		spaced = false
		full.WriteString(tok)
	}
	if !inserted {
		space(&full)
		full.WriteString("NOT NULL")
	}
	return strings.TrimSpace(h.String()), full.String()
}

// setNotNullAdded judges SET NOT NULL of column name of rv (key is its state key), which the migration
// added (ac), and tells whether it did: not when a statement between the two may have filled a column
// added without a DEFAULT, which leaves SET NOT NULL's usual advice.
//
// NOT NULL belongs in the ADD COLUMN. With a DEFAULT that fills every row and stores no value in them
// (PostgreSQL 11+, a non-volatile DEFAULT), ADD COLUMN … NOT NULL DEFAULT scans nothing, where SET NOT
// NULL afterwards scans the whole table, in the same ALTER TABLE or a later one. An ADD COLUMN that
// rewrites (or scans) the table checks NOT NULL in each row it reads: a SET NOT NULL in the same ALTER
// TABLE costs nothing more, one in a later statement reads the table again (measured on 15). Without a
// DEFAULT every row holds NULL, and SET NOT NULL fails on a table that has rows, whatever the pass.
func (a *analyzer) setNotNullAdded(rv *pg_query.RangeVar, key, name string, ac *addedColumn) bool {
	rel, same := relName(rv), ac.stmtIdx == a.stmtIdx
	adds := fmt.Sprintf("the ADD COLUMN of line %d", ac.line)
	if same {
		adds = "the ADD COLUMN of this statement"
	}
	if ac.pass != "" && same && ac.filled {
		a.add("set-not-null-proven", fmt.Sprintf("SET NOT NULL on %s.%s is checked row by row in the %s %s makes for %s: no scan of its own", rel, name, ac.pass, adds, ac.passFor))
		return true
	}
	if !ac.filled && !same {
		for i := ac.stmtIdx + 1; i < a.stmtIdx; i++ {
			if !quietStatement(&a.script.Statements[i]) {
				return false // an UPDATE (a function, a DO block) between may have filled it
			}
		}
	}
	var f *Finding
	if !ac.filled {
		f = a.add("set-not-null", fmt.Sprintf("SET NOT NULL on %s.%s fails on a table that has rows: %s adds %s without a DEFAULT, so every row holds NULL in it, and the deploy stops here",
			rel, name, adds, quoteIdent(name)))
		head := ac.head
		if head == "" {
			head = quoteIdent(name) + " …"
		}
		f.Suggestion = fmt.Sprintf("give the column a DEFAULT and write NOT NULL in its ADD COLUMN, without the SET NOT NULL: ALTER TABLE %s ADD COLUMN %s NOT NULL DEFAULT <value>; "+
			"with a non-volatile value PostgreSQL 11+ scans nothing. To fill it from other columns instead, add it nullable, backfill it in batches, then ADD CONSTRAINT … CHECK (%s IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT and SET NOT NULL, each in its own transaction",
			relIdent(rv), head, quoteIdent(name))
	} else {
		write := fmt.Sprintf("drop the SET NOT NULL and write NOT NULL in the ADD COLUMN of line %d;", ac.line)
		if ac.notNull != "" {
			write = fmt.Sprintf("drop the SET NOT NULL and write NOT NULL in the ADD COLUMN: ALTER TABLE %s ADD COLUMN %s;", relIdent(rv), ac.notNull)
		}
		if ac.pass != "" {
			did := map[string]string{"rewrite": "rewrote", "scan": "scanned"}[ac.pass]
			f = a.add("set-not-null", fmt.Sprintf("SET NOT NULL on %s.%s scans the whole table while holding ACCESS EXCLUSIVE, after %s %s it for %s: NOT NULL written in that ADD COLUMN is checked in its %s, row by row, with no second pass",
				rel, name, adds, did, ac.passFor, ac.pass))
			f.Suggestion = fmt.Sprintf("%s one pass over the table instead of two. The %s stays (the ADD COLUMN's own finding says how to go without it)", write, ac.pass)
		} else {
			costs := "scans nothing"
			if ac.undecided {
				costs = "costs no pass over the table of its own"
			}
			f = a.add("set-not-null", fmt.Sprintf("SET NOT NULL on %s.%s scans the whole table while holding ACCESS EXCLUSIVE, though %s gave every row its DEFAULT: NOT NULL written in that ADD COLUMN %s",
				rel, name, adds, costs))
			f.Suggestion = write + " PostgreSQL 11+ stores a non-volatile DEFAULT once, for every row, and knows none of them is NULL, so it scans nothing"
			if ac.undecided {
				f.Suggestion += "; were the DEFAULT volatile, the ADD COLUMN would rewrite the table and check NOT NULL in each row it writes, still without a second pass"
			}
		}
	}
	f.subject = rel + "." + name
	if rv.GetInh() {
		f.below = a.tracedBelow(key)
	}
	return true
}

// droppedChecks are the CHECKs of table key that ALTER TABLE at drops: by DROP CONSTRAINT, or by
// DROP COLUMN of a column they use (PostgreSQL drops such a constraint with the column). PostgreSQL
// runs an ALTER TABLE's drops before its other subcommands (AT_PASS_DROP), so a SET NOT NULL in it,
// written before or after, is no longer proven by them.
func (a *analyzer) droppedChecks(key string, at *pg_query.AlterTableStmt) map[string]bool {
	t := a.st.known(key)
	if t == nil || len(t.checks) == 0 {
		return nil
	}
	var dropped map[string]bool
	for _, c := range at.Cmds {
		cmd := c.GetAlterTableCmd()
		switch cmd.GetSubtype() {
		case pg_query.AlterTableType_AT_DropConstraint:
			if t.checks[cmd.Name] != nil {
				if dropped == nil {
					dropped = map[string]bool{}
				}
				dropped[cmd.Name] = true
			}
		case pg_query.AlterTableType_AT_DropColumn:
			for k, ck := range t.checks {
				if slices.Contains(ck.cols, cmd.Name) {
					if dropped == nil {
						dropped = map[string]bool{}
					}
					dropped[k] = true
				}
			}
		}
	}
	return dropped
}
