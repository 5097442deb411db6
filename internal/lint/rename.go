package lint

import (
	"slices"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// renameColumn follows RENAME COLUMN old TO nw of table key, and of the tables below it (partitions and
// inheritance children), which PostgreSQL renames with it: ALTER TABLE ONLY is refused when there are any
// ("inherited column must be renamed in child tables too"). Whatever refers to a column does so by its
// number, so it stays and from now on uses the new name: the CHECKs and other constraints (which keep
// their names), the indexes (keys, expressions, predicates), the partition key, the views, the sequence
// the column owns.
// Left under the old name, each would judge a later statement on the new name wrongly: a type change
// that rebuilds an index, a DROP COLUMN a view refuses, a sequence that stays owned.
func (s *state) renameColumn(key, old, nw string) {
	if out, ok := s.viewOut[key]; ok {
		s.viewOut[key] = renamed(out, old, nw)
	}
	for _, k := range append([]string{key}, s.inheritors(key)...) {
		for _, seq := range s.ownedSeqs(k) {
			if _, c := splitOwner(s.owned[seq]); c == old {
				s.setOwned(seq, k, nw)
			}
		}
		for _, ix := range s.indexesOn(k) {
			if cols, ok := s.indexCols[ix]; ok {
				s.indexCols[ix] = renamed(cols, old, nw)
			}
		}
		if keys, ok := s.partitioned[k]; ok {
			s.partitioned[k] = renamed(keys, old, nw)
		}
		for _, v := range s.viewsOf(k) {
			used := s.viewCols[v]
			used[k] = renamed(used[k], old, nw)
		}
		for _, tr := range s.triggers[k] {
			tr.cols = renamed(tr.cols, old, nw)
		}
		for r := range s.colUsers[k] {
			if cols, ok := r.cols[k]; ok {
				r.cols[k] = renamed(cols, old, nw)
			}
		}
		s.renameFuncUsersColumn(k, old, nw)
		t := s.tables[k]
		if t == nil {
			continue
		}
		rekey(t.cols, old, nw)
		for i := range t.indexes {
			t.indexes[i] = renamed(t.indexes[i], old, nw)
		}
		for i := range t.uniques {
			t.uniques[i] = renamed(t.uniques[i], old, nw)
		}
		for ix, cols := range t.exprIndexes {
			t.exprIndexes[ix] = renamed(cols, old, nw)
		}
		for _, kc := range t.constraints {
			kc.cols = renamed(kc.cols, old, nw)
		}
		for _, ck := range t.checks {
			if !slices.Contains(ck.cols, old) {
				continue
			}
			ck.cols = renamed(ck.cols, old, nw)
			ck.expr = proto.Clone(ck.expr).(*pg_query.Node) // a LIKE copy may share it
			walk(ck.expr, func(m proto.Message) {
				if cr, ok := m.(*pg_query.ColumnRef); ok && len(cr.Fields) > 0 {
					if f := cr.Fields[len(cr.Fields)-1].GetString_(); f != nil && f.Sval == old {
						f.Sval = nw
					}
				}
			})
		}
	}
}

// renamed is cols with old replaced by nw: a new slice when it has old (the state shares some lists
// between maps and copies), cols itself otherwise.
func renamed(cols []string, old, nw string) []string {
	if !slices.Contains(cols, old) {
		return cols
	}
	out := slices.Clone(cols)
	for i, c := range out {
		if c == old {
			out[i] = nw
		}
	}
	return out
}
