package lint

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// The sequences columns own (serial, identity, OWNED BY): PostgreSQL drops them with their column or
// table, moves them with their table, and refuses to move them alone to another schema.

// ownerName is the column that owns sequence key, for messages ("users.id", the table's schema left
// out when it is the first of the search path), and whether one does.
func (s *state) ownerName(key string) (string, bool) {
	col, ok := s.owned[key]
	if !ok {
		return "", false
	}
	t, c := splitOwner(col)
	if keySchema(t) == s.schema {
		t = bare(t)
	}
	return t + "." + c, true
}

// dropsOwnedBy drops the sequences column col of table tkey owns ("" for every column).
func (s *state) dropsOwnedBy(tkey, col string) {
	for seq, owner := range s.owned {
		if t, c := splitOwner(owner); t == tkey && (col == "" || c == col) {
			s.drops(seq)
		}
	}
}

// ownsSequence records the sequence that column col of table tkey gets from serial or an identity
// (options are the identity's sequence options, which may name it): named by SEQUENCE NAME, or as
// PostgreSQL names it, "<table>_<column>_seq" in the table's schema, cut to 63 bytes. PostgreSQL adds a
// number when that name is taken; the state then does not know the name, and records nothing.
func (s *state) ownsSequence(tkey, col string, options []*pg_query.Node, created bool) {
	seq := ""
	for _, o := range options {
		if d := o.GetDefElem(); d != nil && d.Defname == "sequence_name" {
			seq = s.qual(d.Arg.GetList().GetItems())
		}
	}
	if seq == "" {
		seq = sibling(tkey, makeObjectName(bare(tkey), col, "seq"))
		if s.exists[seq] {
			return
		}
	}
	s.createsRel(seq, "S", false, created)
	s.owned[seq] = colKey(tkey, col)
}

// makeObjectName builds a name as PostgreSQL's makeObjectName does: name1_name2_label, the longer of
// name1 and name2 cut first until it fits in 63 bytes, at a character boundary.
func makeObjectName(name1, name2, label string) string {
	n1, n2 := objectNameLengths(len(name1), len(name2), label)
	out := clipName(name1, n1)
	if name2 != "" {
		out += "_" + clipName(name2, n2)
	}
	return out + "_" + label
}

// seqOwnedBy follows the OWNED BY option of CREATE or ALTER SEQUENCE key.
func (s *state) seqOwnedBy(key string, options []*pg_query.Node) {
	for _, o := range options {
		d := o.GetDefElem()
		if d == nil || d.Defname != "owned_by" {
			continue
		}
		items := d.Arg.GetList().GetItems()
		if len(items) < 2 { // OWNED BY NONE
			delete(s.owned, key)
			continue
		}
		col := items[len(items)-1].GetString_().GetSval()
		s.owned[key] = colKey(s.qual(items[:len(items)-1]), col)
	}
}
