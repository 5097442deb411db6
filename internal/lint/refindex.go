package lint

import "slices"

// refIndex is a reverse index of a map whose entries name other keys (a sequence's owning table, an
// index's table, the tables a view uses, a foreign key's referenced table): under each named key, the
// keys of the entries that may name it. It may say too much, never too little: every place that makes
// an entry name a key adds it here, and nothing has to remove it when the entry changes or goes away,
// so a reader checks each listed entry against the map (and forgets those that no longer hold). A DROP,
// RENAME or SET SCHEMA then reads what refers to its object instead of every entry of the history.
type refIndex map[string]map[string]bool

// add lists from under to.
func (x refIndex) add(to, from string) {
	m := x[to]
	if m == nil {
		m = map[string]bool{}
		x[to] = m
	}
	m[from] = true
}

// lookup returns, in order, the keys listed under to for which holds tells that their entry still names
// it, and forgets the others.
func (x refIndex) lookup(to string, holds func(from string) bool) []string {
	var out []string
	for from := range x[to] {
		if holds(from) {
			out = append(out, from)
		} else {
			delete(x[to], from)
		}
	}
	if len(x[to]) == 0 {
		delete(x, to)
	}
	slices.Sort(out)
	return out
}

// setOwned records that column col of table tkey owns sequence seq.
func (s *state) setOwned(seq, tkey, col string) {
	s.owned[seq] = colKey(tkey, col)
	s.ownedBy.add(tkey, seq)
}

// ownedSeqs lists the sequences the columns of table tkey own.
func (s *state) ownedSeqs(tkey string) []string {
	return s.ownedBy.lookup(tkey, func(seq string) bool {
		col, ok := s.owned[seq]
		if !ok {
			return false
		}
		t, _ := splitOwner(col)
		return t == tkey
	})
}

// setIndexTable records that index ix is on relation rel.
func (s *state) setIndexTable(ix, rel string) {
	s.indexTable[ix] = rel
	s.indexesOf.add(rel, ix)
}

// indexesOn lists the indexes indexTable puts on relation rel.
func (s *state) indexesOn(rel string) []string {
	return s.indexesOf.lookup(rel, func(ix string) bool {
		t, ok := s.indexTable[ix]
		return ok && t == rel
	})
}

// setViewCols records the columns view v uses, by relation.
func (s *state) setViewCols(v string, used map[string][]string) {
	s.viewCols[v] = used
	for rel := range used {
		s.viewUsers.add(rel, v)
	}
}

// viewsOf lists the views whose viewCols has relation rel.
func (s *state) viewsOf(rel string) []string {
	return s.viewUsers.lookup(rel, func(v string) bool {
		_, ok := s.viewCols[v][rel]
		return ok
	})
}

// exprIndexTables lists the tables whose exprIndexes has index ix.
func (s *state) exprIndexTables(ix string) []string {
	return s.exprIxOf.lookup(ix, func(tkey string) bool {
		t := s.tables[tkey]
		if t == nil {
			return false
		}
		_, ok := t.exprIndexes[ix]
		return ok
	})
}

// referencing lists the tables with a foreign key that references table ref.
func (s *state) referencing(ref string) []string {
	return s.refBy.lookup(ref, func(tkey string) bool {
		t := s.tables[tkey]
		if t == nil {
			return false
		}
		for _, kc := range t.constraints {
			if kc.ref == ref {
				return true
			}
		}
		return false
	})
}

// indexTableKey lists in the indexes what table t, under key tkey, holds: its expression indexes, the
// tables its foreign keys reference and its key constraints' names (when it takes a new key).
func (s *state) indexTableKey(tkey string, t *table) {
	for ix := range t.exprIndexes {
		s.exprIxOf.add(ix, tkey)
	}
	for name, kc := range t.constraints {
		if kc.ref != "" {
			s.refBy.add(kc.ref, tkey)
		}
		s.conNamed.add(constraintKey(keySchema(tkey), name), tkey)
	}
}
