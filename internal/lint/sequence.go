package lint

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/schema"
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
	for _, seq := range s.ownedSeqs(tkey) {
		// A drop of one may have dropped another.
		if owner, ok := s.owned[seq]; ok {
			if t, c := splitOwner(owner); t == tkey && (col == "" || c == col) {
				s.drops(seq)
			}
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
	s.setOwned(seq, tkey, col)
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
		s.setOwned(key, s.qual(items[:len(items)-1]), col)
	}
}

// hasRestart reports whether sequence options hold RESTART [WITH n].
func hasRestart(options []*pg_query.Node) bool {
	for _, o := range options {
		if d := o.GetDefElem(); d != nil && d.Defname == "restart" {
			return true
		}
	}
	return false
}

// setvalSuggestion is the statement that moves sequence seq (an SQL expression giving its name) past
// the values column col of table rel already holds.
func setvalSuggestion(seq, rel, col string) string {
	return fmt.Sprintf("SELECT setval(%s, (SELECT max(%s) FROM %s))", seq, col, rel)
}

// identityCmd judges ADD GENERATED … AS IDENTITY, SET GENERATED / SET sequence options / RESTART, and
// DROP IDENTITY on column name of pre-existing table rv. RESTART moves the identity's sequence back
// (to its START, or to n): the next INSERT that draws an id collides with the rows already there.
func (a *analyzer) identityCmd(rv *pg_query.RangeVar, rel, name string, cmd *pg_query.AlterTableCmd) {
	col := quoteIdent(name)
	seq := fmt.Sprintf("pg_get_serial_sequence(%s, %s)", quoteLiteral(relIdent(rv)), quoteLiteral(name))
	setval := setvalSuggestion(seq, relIdent(rv), col)
	switch cmd.Subtype {
	case pg_query.AlterTableType_AT_AddIdentity:
		f := a.add("add-identity-existing-column", fmt.Sprintf("ADD GENERATED … AS IDENTITY on %s.%s: the new identity's sequence starts at 1 (or its START), under the ids the table already holds", rel, name))
		f.Suggestion = "SET lock_timeout first; then move the new identity's sequence past the existing ids: " + setval
	case pg_query.AlterTableType_AT_DropIdentity:
		f := a.add("add-identity-existing-column", fmt.Sprintf("DROP IDENTITY on %s.%s: INSERTs that leave the column out no longer get an id", rel, name))
		f.Suggestion = fmt.Sprintf("SET lock_timeout first; give the column a default first (ALTER TABLE %s ALTER COLUMN %s SET DEFAULT nextval(…)) or have every writer supply the id", relIdent(rv), col)
	default: // AT_SetIdentity
		opts := cmd.Def.GetList().GetItems()
		if hasRestart(opts) {
			f := a.add("restart-sequence", fmt.Sprintf("RESTART of the identity of %s.%s moves its sequence back: the next INSERT that draws an id collides with the ids the table already holds (duplicate key)", rel, name))
			f.Suggestion = "move the sequence forward instead, past the existing ids: " + setval
			return
		}
		msg := fmt.Sprintf("SET options of the identity of %s.%s: a brief ACCESS EXCLUSIVE on the table", rel, name)
		for _, o := range opts {
			if d := o.GetDefElem(); d != nil && d.Defname == "generated" {
				msg = fmt.Sprintf("SET GENERATED on %s.%s: under ALWAYS, INSERTs that supply the id fail unless they say OVERRIDING SYSTEM VALUE", rel, name)
			}
		}
		f := a.add("add-identity-existing-column", msg)
		f.Suggestion = "SET lock_timeout first; check that no writer supplies the id before SET GENERATED ALWAYS"
	}
}

// restartSequence judges ALTER SEQUENCE … RESTART [WITH n] of pre-existing sequence key.
func (a *analyzer) restartSequence(rv *pg_query.RangeVar, key string) {
	f := a.add("restart-sequence", fmt.Sprintf("ALTER SEQUENCE %s RESTART moves it back: the next INSERT that draws from it can collide with values already used (duplicate key)", relName(rv)))
	rel, col, more := "t", "id", " (t.id being the column it numbers)"
	if owner, ok := a.st.owned[key]; ok {
		t, c := splitOwner(owner)
		parts := schema.SplitKey(t)
		if keySchema(t) == a.st.schema {
			parts = parts[len(parts)-1:]
		}
		for i := range parts {
			parts[i] = quoteIdent(parts[i])
		}
		rel, col, more = strings.Join(parts, "."), quoteIdent(c), ""
	}
	f.Suggestion = "move the sequence forward instead, past the values in use: " + setvalSuggestion(quoteLiteral(relIdent(rv)), rel, col) + more
}
