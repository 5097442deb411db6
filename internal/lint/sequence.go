package lint

import (
	"fmt"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

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

// ImplicitSeqName is the name PostgreSQL gives the sequence a serial or identity column col of table
// rel gets when none is named (makeObjectName(rel, col, "seq"), without the number it adds when the
// name is taken): for the deploy's judgement of what a run's own sequences are.
func ImplicitSeqName(rel, col string) string { return makeObjectName(rel, col, "seq") }

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
	_, ok := restartWith(options)
	return ok
}

// restartWith is the n of RESTART WITH n in sequence options ("" for a RESTART to the START), and
// whether they hold a RESTART.
func restartWith(options []*pg_query.Node) (string, bool) {
	for _, o := range options {
		d := o.GetDefElem()
		if d == nil || d.Defname != "restart" {
			continue
		}
		switch {
		case d.Arg.GetInteger() != nil:
			return strconv.FormatInt(int64(d.Arg.GetInteger().Ival), 10), true
		case d.Arg.GetFloat() != nil:
			return d.Arg.GetFloat().Fval, true
		}
		return "", true
	}
	return "", false
}

// restartMoves says where a RESTART (WITH n) or a setval to n moves sequence what ("its sequence",
// "it") and what follows. Without n it goes back to its START, under every value drawn. The lint cannot
// tell whether n is under the values in use, as it does not know how far the sequence is: it says so.
// The next nextval returns n after RESTART WITH n or setval(…, n, false), n+1 after setval(…, n)
// (called): the values that collide start there.
func restartMoves(what, n string, called bool) string {
	if n == "" {
		return "sets " + what + " back to its START"
	}
	from := "from " + n + " on"
	if called {
		from = "past " + n
	}
	return fmt.Sprintf("may move %s back (it does when values %s are in use; the file cannot tell how far the sequence is)", what, from)
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
		if a.nullableForIdentity(rv, name) {
			f := a.add("add-identity-existing-column", fmt.Sprintf("ADD GENERATED … AS IDENTITY on %s.%s fails: the column is nullable, and PostgreSQL refuses an identity on it (\"column %q of relation %q must be declared NOT NULL before identity can be added\"), so the deploy stops here",
				rel, name, name, rv.Relname))
			f.Risk, f.Lock = Dangerous, "— (ERROR)"
			f.Suggestion = fmt.Sprintf("SET NOT NULL on %s.%s first (in the same ALTER TABLE, or before it; with a validated CHECK (%s IS NOT NULL) it scans nothing), then add the identity and move its sequence past the existing ids: %s", rel, name, col, setval)
			return
		}
		f := a.add("add-identity-existing-column", fmt.Sprintf("ADD GENERATED … AS IDENTITY on %s.%s: the new identity's sequence starts at 1 (or its START), under the ids the table already holds", rel, name))
		f.Suggestion = "SET lock_timeout first; then move the new identity's sequence past the existing ids: " + setval
	case pg_query.AlterTableType_AT_DropIdentity:
		f := a.add("add-identity-existing-column", fmt.Sprintf("DROP IDENTITY on %s.%s: INSERTs that leave the column out no longer get an id", rel, name))
		f.Suggestion = fmt.Sprintf("SET lock_timeout first; give the column a default first (ALTER TABLE %s ALTER COLUMN %s SET DEFAULT nextval(…)) or have every writer supply the id", relIdent(rv), col)
	default: // AT_SetIdentity
		opts := cmd.Def.GetList().GetItems()
		if n, ok := restartWith(opts); ok {
			f := a.add("restart-sequence", fmt.Sprintf("RESTART%s of the identity of %s.%s %s: the INSERTs that draw an id then collide with the ids the table already holds (duplicate key) until the sequence passes them all", withN(n), rel, name, restartMoves("its sequence", n, false)))
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

// restartSequence judges ALTER SEQUENCE … RESTART [WITH n] (options) of pre-existing sequence key.
func (a *analyzer) restartSequence(rv *pg_query.RangeVar, key string, options []*pg_query.Node) {
	n, _ := restartWith(options)
	f := a.add("restart-sequence", fmt.Sprintf("ALTER SEQUENCE %s RESTART%s %s: the INSERTs that draw from it then collide with the values already used (duplicate key) until the sequence passes them all", relName(rv), withN(n), restartMoves("it", n, false)))
	rel, col, more := a.numberedBy(key)
	f.Suggestion = "move the sequence forward instead, past the values in use: " + setvalSuggestion(quoteLiteral(relIdent(rv)), rel, col) + more
}

// numberedBy is the table and column (SQL) that sequence key numbers, for a setval suggestion, and
// what to add to the suggestion when the state does not know them (t.id stand in for them).
func (a *analyzer) numberedBy(key string) (rel, col, more string) {
	owner, ok := a.st.owned[key]
	if !ok {
		return "t", "id", " (t.id being the column it numbers)"
	}
	t, c := splitOwner(owner)
	parts := schema.SplitKey(t)
	if keySchema(t) == a.st.schema {
		parts = parts[len(parts)-1:]
	}
	for i := range parts {
		parts[i] = quoteIdent(parts[i])
	}
	return strings.Join(parts, "."), quoteIdent(c), ""
}

// setvals judges each setval(sequence, value [, is_called]) a SELECT calls as restart-sequence judges
// RESTART WITH: setval moves the sequence wherever value says, back as well as forward, and PostgreSQL
// does not undo it when the transaction rolls back. A constant value moves it back when values past it
// are in use (dangerous: the lint cannot know how far production's sequence is); max() of the column
// the sequence numbers, plus k >= 0 (k >= 1 with is_called false), is the rule's own advice (past the
// values in use), and says nothing; any other computed value is caution, max() of another column or
// table, of some rows (a WHERE), or short of it (- 1000) too. A sequence, or table, created earlier in
// the change has no rows to collide with, and is not flagged.
func (a *analyzer) setvals(n *pg_query.Node) {
	walk(n, func(m proto.Message) {
		if fc, ok := m.(*pg_query.FuncCall); ok && builtinCall(fc, "setval") && (len(fc.Args) == 2 || len(fc.Args) == 3) {
			a.setval(fc, n)
		}
	})
}

// soleTable is the one table a SELECT reads all rows of: one relation in FROM, no WHERE, GROUP BY,
// HAVING, WITH, LIMIT or set operation; nil for any other SELECT.
func soleTable(sel *pg_query.SelectStmt) *pg_query.RangeVar {
	if len(sel.FromClause) != 1 || sel.WhereClause != nil || len(sel.GroupClause) > 0 || sel.HavingClause != nil || sel.WithClause != nil ||
		sel.LimitCount != nil || sel.LimitOffset != nil || sel.Op != pg_query.SetOperation_SETOP_NONE {
		return nil
	}
	return sel.FromClause[0].GetRangeVar()
}

func (a *analyzer) setval(fc *pg_query.FuncCall, stmt *pg_query.Node) {
	seq := a.setvalTarget(fc.Args[0])
	if seq.fresh {
		return
	}
	value, constant := constantText(fc.Args[1])
	if rv, col, ok := SetvalMax(fc, stmt); ok && seq.numbers(a.st, rv, col) {
		return
	}
	const collide = "the INSERTs that draw from it then collide with those values (duplicate key) until the sequence passes them all"
	var f *Finding
	if constant {
		f = a.add("restart-sequence", fmt.Sprintf("setval() sets %s to %s, which %s: %s", seq.name, value, restartMoves("it", value, !notCalled(fc)), collide))
	} else {
		f = a.add("restart-sequence", fmt.Sprintf("setval() sets %s to a computed value that is not max() of the column it numbers (plus 1 or more with is_called false): below the values in use, it moves the sequence back, and %s", seq.name, collide))
		f.Risk = Caution
	}
	// setval takes the ROW EXCLUSIVE nextval() takes, which queues nothing.
	f.Lock = "ROW EXCLUSIVE on the sequence"
	f.Suggestion = "move the sequence forward instead, past the values in use: " + setvalSuggestion(seq.expr, seq.rel, seq.col) + seq.more
}

// SetvalMax reads setval call fc, a call in statement stmt, as one that sets its sequence past every
// value of a column, and returns that column and its table (as written): the value is max() of the
// column, of the one table the statement's SELECT reads whole when fc is one of its targets
// (setval(…, max(id)) FROM t) or of a scalar subquery's ((SELECT max(id) FROM t)), optionally in
// COALESCE(…, constants) and plus a constant k >= 0, with k >= 1 when is_called is false (nextval then
// returns the value itself). ok is false for any other value: a constant, max() of some rows (a WHERE,
// GROUP BY, LIMIT), short of it (- 1000). Whether the column is the one the sequence numbers is the
// caller's to judge: the lint's restart-sequence and the deploy's judgement of what a run loses both
// read setval with it.
func SetvalMax(fc *pg_query.FuncCall, stmt *pg_query.Node) (table *pg_query.RangeVar, column string, ok bool) {
	var from *pg_query.RangeVar
	if sel := stmt.GetSelectStmt(); sel != nil {
		if t := soleTable(sel); t != nil {
			for _, rt := range sel.TargetList {
				if rt.GetResTarget().GetVal().GetFuncCall() == fc {
					from = t
				}
			}
		}
	}
	return setvalMax(fc, from)
}

// setvalMax is SetvalMax with the table of the SELECT around the call (from, nil for none).
func setvalMax(fc *pg_query.FuncCall, from *pg_query.RangeVar) (*pg_query.RangeVar, string, bool) {
	if len(fc.Args) != 2 && len(fc.Args) != 3 {
		return nil, "", false
	}
	if _, constant := constantText(fc.Args[1]); constant {
		return nil, "", false
	}
	rv, col, k, ok := maxOf(fc.Args[1], from)
	if !ok || k < 1 && !called(fc) {
		return nil, "", false
	}
	return rv, col, true
}

// maxOf reads v as max() of a column plus k, from the table of the SELECT around it (from, nil for
// none) or of a scalar subquery: max(id), (SELECT max(id) FROM t), COALESCE(max(id), c, …) and + k, k a
// constant >= 0, in any nesting; ok is false for anything else.
func maxOf(v *pg_query.Node, from *pg_query.RangeVar) (rv *pg_query.RangeVar, col string, k int64, ok bool) {
	if tc := v.GetTypeCast(); tc != nil {
		v = tc.Arg
	}
	switch {
	case v.GetAExpr() != nil:
		e := v.GetAExpr()
		if e.Kind != pg_query.A_Expr_Kind_AEXPR_OP || len(e.Name) != 1 || e.Name[0].GetString_().GetSval() != "+" {
			return nil, "", 0, false
		}
		for _, side := range [][2]*pg_query.Node{{e.Lexpr, e.Rexpr}, {e.Rexpr, e.Lexpr}} {
			if c, isConst := constantText(side[1]); isConst {
				n, err := strconv.ParseInt(c, 10, 64)
				if err != nil || n < 0 {
					return nil, "", 0, false
				}
				rv, col, k, ok := maxOf(side[0], from)
				return rv, col, k + n, ok
			}
		}
	case v.GetCoalesceExpr() != nil:
		args := v.GetCoalesceExpr().Args
		if len(args) < 2 {
			return nil, "", 0, false
		}
		for _, a := range args[1:] {
			if _, isConst := constantText(a); !isConst {
				return nil, "", 0, false
			}
		}
		return maxOf(args[0], from) // a constant stands for an empty column, which nothing collides with
	case v.GetSubLink() != nil:
		sl := v.GetSubLink()
		sel := sl.Subselect.GetSelectStmt()
		if sl.SubLinkType != pg_query.SubLinkType_EXPR_SUBLINK || sel == nil || len(sel.TargetList) != 1 {
			return nil, "", 0, false
		}
		if t := soleTable(sel); t != nil {
			return maxOf(sel.TargetList[0].GetResTarget().GetVal(), t)
		}
	case v.GetFuncCall() != nil:
		fc := v.GetFuncCall()
		if !builtinCall(fc, "max") || len(fc.Args) != 1 || fc.AggFilter != nil || fc.Over != nil || from == nil {
			return nil, "", 0, false
		}
		if c := fc.Args[0].GetColumnRef(); c != nil && lastField(c) != "" {
			return from, lastField(c), 0, true
		}
	}
	return nil, "", 0, false
}

// called tells whether setval call fc leaves is_called true: no third argument, or a constant true.
func called(fc *pg_query.FuncCall) bool {
	if len(fc.Args) < 3 {
		return true
	}
	c := fc.Args[2].GetAConst()
	if tc := fc.Args[2].GetTypeCast(); tc != nil {
		c = tc.Arg.GetAConst()
	}
	switch {
	case c.GetBoolval() != nil:
		return c.GetBoolval().Boolval
	case c.GetSval() != nil:
		v := strings.ToLower(strings.TrimSpace(c.GetSval().Sval))
		return v != "" && strings.HasPrefix("true", v) || v == "on" || v == "yes" || v == "y" || v == "1"
	}
	return false
}

// setvalSequence is the sequence a setval names, as far as the file tells.
type setvalSequence struct {
	name           string // for messages: "sequence tickets_id_seq", "the sequence of tickets.id"
	expr           string // SQL that names it, for the suggestion
	rel, col, more string // the table and column it numbers, as numberedBy gives them
	fresh          bool   // created in the change, or numbers a table created in the change
	// key is the sequence's state key, "" when the file does not name it; table (its state key) and
	// column are what it numbers, "" when the state does not know.
	key, table, column string
}

// numbers tells whether the sequence numbers column col of table rv: the one the state knows, or,
// when it knows none, the one PostgreSQL would name it after (<table>_<column>_seq in the table's
// schema).
func (s setvalSequence) numbers(st *state, rv *pg_query.RangeVar, col string) bool {
	tkey := st.rel(rv)
	if s.table != "" {
		return tkey == s.table && col == s.column
	}
	return s.key != "" && sibling(tkey, makeObjectName(bare(tkey), col, "seq")) == s.key
}

// setvalTarget reads setval's first argument: a sequence's name ('tickets_id_seq', or cast to
// regclass), or pg_get_serial_sequence('table', 'column') with constant arguments. Anything else is
// some sequence the file does not name.
func (a *analyzer) setvalTarget(arg *pg_query.Node) setvalSequence {
	if name, ok := constantString(arg); ok {
		if rv := qualifiedName(name); rv != nil {
			key := a.st.rel(rv)
			rel, col, more := a.numberedBy(key)
			var table, column string
			if owner, ok := a.st.owned[key]; ok {
				table, column = splitOwner(owner)
			}
			return setvalSequence{name: "sequence " + relName(rv), expr: quoteLiteral(name), rel: rel, col: col, more: more, fresh: a.st.isNew(key),
				key: key, table: table, column: column}
		}
	}
	if fc := arg.GetFuncCall(); fc != nil && builtinCall(fc, "pg_get_serial_sequence") && len(fc.Args) == 2 {
		table, tok := constantString(fc.Args[0])
		column, cok := constantString(fc.Args[1])
		if rv := qualifiedName(table); tok && cok && rv != nil {
			tkey := a.st.rel(rv)
			fresh := a.st.isNew(tkey)
			for _, seq := range a.st.ownedSeqs(tkey) {
				if _, c := splitOwner(a.st.owned[seq]); c == column {
					fresh = fresh || a.st.isNew(seq)
				}
			}
			// pg_get_serial_sequence reads the table's name as SQL does, and the column's as it is.
			return setvalSequence{name: "the sequence of " + relName(rv) + "." + column,
				expr: fmt.Sprintf("pg_get_serial_sequence(%s, %s)", quoteLiteral(table), quoteLiteral(column)),
				rel:  relIdent(rv), col: quoteIdent(column), fresh: fresh, table: tkey, column: column}
		}
	}
	return setvalSequence{name: "a sequence", expr: "seq", rel: "t", col: "id", more: " (seq being the sequence, t.id the column it numbers)"}
}

// withN is " WITH n" for the n of RESTART WITH n, "" for none.
func withN(n string) string {
	if n == "" {
		return ""
	}
	return " WITH " + n
}

// notCalled tells whether setval call fc says is_called false: the next nextval returns the value
// itself.
func notCalled(fc *pg_query.FuncCall) bool {
	if len(fc.Args) < 3 {
		return false
	}
	c := fc.Args[2].GetAConst()
	if tc := fc.Args[2].GetTypeCast(); tc != nil {
		c = tc.Arg.GetAConst()
	}
	switch {
	case c.GetBoolval() != nil:
		return !c.GetBoolval().Boolval
	case c.GetSval() != nil:
		v := strings.ToLower(strings.TrimSpace(c.GetSval().Sval))
		return v != "" && strings.HasPrefix("false", v) || v == "off" || v == "no" || v == "n" || v == "0"
	}
	return false
}

// builtinCall tells whether fc calls PostgreSQL's function name, written bare or as pg_catalog.name.
func builtinCall(fc *pg_query.FuncCall, name string) bool {
	switch len(fc.Funcname) {
	case 1:
		return lastName(fc.Funcname) == name
	case 2:
		return fc.Funcname[0].GetString_().GetSval() == "pg_catalog" && lastName(fc.Funcname) == name
	}
	return false
}

// constantText is the text of a constant, cast or not ('1', 1, 1::bigint), and whether n is one.
func constantText(n *pg_query.Node) (string, bool) {
	if tc := n.GetTypeCast(); tc != nil {
		n = tc.Arg
	}
	c := n.GetAConst()
	switch {
	case c == nil || c.Isnull:
		return "", false
	case c.GetIval() != nil:
		return strconv.FormatInt(int64(c.GetIval().Ival), 10), true
	case c.GetFval() != nil:
		return c.GetFval().Fval, true
	case c.GetSval() != nil:
		return c.GetSval().Sval, true
	}
	return "", false
}

// constantString is the text of a string constant, cast or not ('s', 's'::regclass).
func constantString(n *pg_query.Node) (string, bool) {
	if tc := n.GetTypeCast(); tc != nil {
		n = tc.Arg
	}
	if s := n.GetAConst().GetSval(); s != nil {
		return s.Sval, true
	}
	return "", false
}

// qualifiedName reads a relation's name written as a string ('tickets_id_seq', 'app."Seq"'), as
// PostgreSQL reads regclass input and pg_get_serial_sequence's table: parts cut at dots, each folded to
// lower case unless double-quoted ("" stands for a quote inside). It is nil for text that is no such
// name.
func qualifiedName(s string) *pg_query.RangeVar {
	var parts []string
	for {
		s = strings.TrimLeft(s, " \t\n\r\f\v")
		var part string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			s = s[1:]
			for {
				i := strings.IndexByte(s, '"')
				if i < 0 {
					return nil // unterminated
				}
				b.WriteString(s[:i])
				s = s[i+1:]
				if !strings.HasPrefix(s, `"`) {
					break
				}
				b.WriteByte('"')
				s = s[1:]
			}
			part = b.String()
		} else {
			i := strings.IndexAny(s, ". \t\n\r\f\v")
			if i < 0 {
				i = len(s)
			}
			part, s = asciiLower(s[:i]), s[i:]
		}
		if part == "" {
			return nil
		}
		parts = append(parts, part)
		s = strings.TrimLeft(s, " \t\n\r\f\v")
		if s == "" {
			break
		}
		if s[0] != '.' {
			return nil
		}
		s = s[1:]
	}
	switch len(parts) {
	case 1:
		return &pg_query.RangeVar{Relname: parts[0]}
	case 2, 3: // database.schema.name: the database must be the current one
		return &pg_query.RangeVar{Schemaname: parts[len(parts)-2], Relname: parts[len(parts)-1]}
	}
	return nil
}

// nullableForIdentity tells a column the state knows is nullable, which no SET NOT NULL of the same
// ALTER TABLE (in any order: PostgreSQL takes both) makes NOT NULL: ADD GENERATED … AS IDENTITY on it
// fails.
func (a *analyzer) nullableForIdentity(rv *pg_query.RangeVar, name string) bool {
	t := a.st.known(a.st.rel(rv))
	if t == nil || !a.st.complete {
		return false
	}
	c := t.cols[name]
	if c == nil || c.notNull {
		return false
	}
	for _, n := range a.atCmds {
		if cmd := n.GetAlterTableCmd(); cmd.GetSubtype() == pg_query.AlterTableType_AT_SetNotNull && cmd.Name == name {
			return false
		}
	}
	return true
}
