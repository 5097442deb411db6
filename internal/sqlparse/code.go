package sqlparse

import pg_query "github.com/pganalyze/pg_query_go/v6"

// Code is the statement's SQL without the rows of a VALUES list made only of literals ('x', 42, -1.5,
// NULL), as in a data seed's INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), …: such rows are data,
// and run nothing, name nothing and write no catalog, as the parse tree says. Scans of the text for what
// a statement may call or write (a function's name, GRANT, pg_attribute) then read the statement's
// code, not megabytes of its data, and a word in a literal ('grant') is no call. What is left out runs
// from the first row's first literal to the last row's last one, which stays, so the text around them
// is kept as it is: INSERT INTO t (a, b) VALUES ('y'), … ON CONFLICT … RETURNING …. A cast
// ('1'::money) is left in: a cast may call a function (CREATE CAST … WITH FUNCTION) named in the text.
// Any other statement's Code is its SQL.
func (st *Statement) Code() string {
	from, to, ok := st.literalRows()
	if !ok {
		return st.SQL
	}
	return st.SQL[:from] + st.SQL[to:]
}

// literalRows finds the span of SQL that Code leaves out: from the first literal of a VALUES list of
// literals to the last one.
func (st *Statement) literalRows() (from, to int, ok bool) {
	var sel *pg_query.SelectStmt
	switch {
	case st.Node.GetInsertStmt() != nil:
		sel = st.Node.GetInsertStmt().GetSelectStmt().GetSelectStmt()
	case st.Node.GetSelectStmt() != nil:
		sel = st.Node.GetSelectStmt()
	}
	if sel == nil || len(sel.ValuesLists) < 2 {
		return 0, 0, false // a row or none: nothing worth leaving out
	}
	first, last := int32(-1), int32(-1)
	for _, row := range sel.ValuesLists {
		list := row.GetList()
		if list == nil || len(list.Items) == 0 {
			return 0, 0, false
		}
		for _, v := range list.Items {
			c := v.GetAConst()
			if c == nil || c.Location < 0 {
				return 0, 0, false
			}
			if first < 0 || c.Location < first {
				first = c.Location
			}
			last = max(last, c.Location)
		}
	}
	// Rows the tree leaves out are literals (see elideRows): the last of them may be the list's last.
	for _, r := range st.elided {
		last = max(last, int32(r.last))
	}
	from, to = st.Offset(first), st.Offset(last)
	if from < 0 || to <= from {
		return 0, 0, false
	}
	return from, to, true
}
