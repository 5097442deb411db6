package deploy

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/schema"
)

// A setval to max() of the sequence's own column cannot set the sequence behind that column: nextval
// hands out a key past every one the column holds, so it loses no key in use, and it is no loss. It is
// how seed migrations (INSERT … (id, …) VALUES …, then setval) and serial-to-identity conversions put
// the sequence past the keys they wrote. The value is max(c) (in a scalar subquery, or as the aggregate
// of a SELECT … FROM the table), optionally COALESCE(max(c), constant) and + k with a constant k ≥ 0,
// and k ≥ 1 with is_called false, where nextval returns the value itself. A filter, a WHERE or a GROUP
// BY reads only some of the rows: not the max of the column. The check "sequences ahead of their
// columns" after the downs still catches a sequence a down leaves behind. The lint rule
// restart-sequence reads setval the same way: both call lint.SetvalMax.

// setvalMax reads setval call fc of statement n (path is the script's search path, "" for the
// deploy's): the column (colKey, its table named as written) whose max() it sets the sequence to,
// when its value is such a max() as above (lint.SetvalMax); "" otherwise.
func setvalMax(fc *pg_query.FuncCall, n *pg_query.Node, path string) string {
	rv, col, ok := lint.SetvalMax(fc, n)
	if !ok {
		return ""
	}
	sc := rv.Schemaname
	if sc == "" {
		sc = path
	}
	return colKey(relKey(sc, rv.Relname), col)
}

// maxSeq is, qualified by q, the sequence setval loss l sets to max() of its own column (l.maxOf):
// the sequence it names is the one PostgreSQL names for that column (table_column_seq, in the table's
// schema), or it names the sequence by that column (pg_get_serial_sequence). "" when it is not so: a
// sequence named otherwise, or the max() of another column.
func maxSeq(l loss, q func(string) string) string {
	if l.seq != seqSetval || l.maxOf == "" {
		return ""
	}
	rel, col := cutColKey(l.maxOf)
	parts := schema.SplitKey(q(rel))
	if len(parts) != 2 {
		return ""
	}
	own := schema.Key(parts[0], lint.ImplicitSeqName(parts[1], col))
	switch {
	case l.column != "" && colKey(q(l.relation), l.column) == colKey(q(rel), col):
		return own
	case l.column == "" && l.relation != "" && q(l.relation) == own:
		return own
	}
	return ""
}

// setsToMax tells whether set, setvals of a script (effects.toMax), sets sequence seq (qualified by q)
// to max() of its own column.
func setsToMax(set []loss, seq string, q func(string) string) bool {
	for _, l := range set {
		if s := maxSeq(l, q); s != "" && s == seq {
			return true
		}
	}
	return false
}
