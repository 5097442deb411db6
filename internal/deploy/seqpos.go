package deploy

import (
	"cmp"
	"fmt"
	"maps"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/lint"
)

// A sequence's position is data: the keys the table it feeds holds were taken from it, and a position
// set back (setval, ALTER SEQUENCE ... RESTART, an identity column's RESTART) or lost with the sequence
// (DROP SEQUENCE, DROP IDENTITY, which a down cannot make again but from its start) hands out those keys
// again: the application's next INSERT fails with a duplicate key. A statement that does so to a
// sequence the script (or an earlier migration of the run) did not make is a loss of kind "sequence";
// nextval only advances a position, which loses nothing.

// Ways a statement sets a sequence's position or loses it (loss.seq).
const (
	seqSetval        = "setval"
	seqRestart       = "restart"
	seqDrop          = "drop"
	seqDropIdentity  = "drop identity"
	seqRestartColumn = "restart identity"
)

// serialTypes are the pseudo-types that give a column a sequence of its own.
var serialTypes = map[string]bool{"serial": true, "serial4": true, "bigserial": true, "serial8": true, "smallserial": true, "serial2": true}

// seqOfColumn is the sequence a column's serial type or identity (cd, of table rel in schema sc, "" when
// the name is unqualified) makes; "" when it makes none. It is named as PostgreSQL names it
// (table_column_seq, cut to 63 bytes as ChooseRelationName cuts it) unless the identity says SEQUENCE
// NAME; a name PostgreSQL had to choose another for, as one of the name was there, is not seen, and
// counts as a sequence the script did not make.
func seqOfColumn(sc, rel string, cd *pg_query.ColumnDef) string {
	if cd == nil {
		return ""
	}
	if tn := cd.TypeName; tn != nil && len(tn.Names) == 1 && serialTypes[strings.ToLower(tn.Names[0].GetString_().GetSval())] {
		return relKey(sc, lint.ImplicitSeqName(rel, cd.Colname))
	}
	for _, c := range cd.Constraints {
		if con := c.GetConstraint(); con != nil && con.Contype == pg_query.ConstrType_CONSTR_IDENTITY {
			return identitySeq(sc, rel, cd.Colname, con.Options)
		}
	}
	return ""
}

// identitySeq is the sequence an identity of column col of table rel (in schema sc) makes, with its
// options (SEQUENCE NAME).
func identitySeq(sc, rel, col string, options []*pg_query.Node) string {
	for _, o := range options {
		if d := o.GetDefElem(); d != nil && d.Defname == "sequence_name" {
			var parts []string
			for _, p := range d.Arg.GetList().GetItems() {
				parts = append(parts, p.GetString_().GetSval())
			}
			if len(parts) == 1 {
				return relKey(sc, parts[0])
			}
			return relKey(parts[0], parts[len(parts)-1])
		}
	}
	return relKey(sc, lint.ImplicitSeqName(rel, col))
}

// regclassKey is the key (relKey) of the relation a regclass literal names (`customers_id_seq`,
// `public."Seq"`): unquoted names fold to lower case, as the server reads them; an unqualified one is in
// path's schema when path is not "". "" when it does not read as a name.
func regclassKey(text, path string) string {
	var parts []string
	s := strings.TrimSpace(text)
	for s != "" {
		var part string
		if s[0] == '"' {
			end := 1
			for {
				i := strings.IndexByte(s[end:], '"')
				if i < 0 {
					return ""
				}
				end += i + 1
				if end < len(s) && s[end] == '"' {
					end++
					continue
				}
				break
			}
			part, s = strings.ReplaceAll(s[1:end-1], `""`, `"`), strings.TrimSpace(s[end:])
		} else {
			i := strings.IndexByte(s, '.')
			if i < 0 {
				i = len(s)
			}
			part, s = strings.ToLower(strings.TrimSpace(s[:i])), s[i:]
			if part == "" {
				return ""
			}
		}
		parts = append(parts, part)
		if s == "" {
			break
		}
		if s[0] != '.' {
			return ""
		}
		s = strings.TrimSpace(s[1:])
	}
	switch len(parts) {
	case 1:
		return relKey(path, parts[0])
	case 2, 3: // a database name before the schema must be the current one's
		return relKey(parts[len(parts)-2], parts[len(parts)-1])
	}
	return ""
}

// constText is the text of a constant string argument, through casts ('s'::regclass, 's'::text); ok is
// false for anything else.
func constText(n *pg_query.Node) (string, bool) {
	for n.GetTypeCast() != nil {
		n = n.GetTypeCast().Arg
	}
	if c := n.GetAConst(); c != nil && c.GetSval() != nil {
		return c.GetSval().Sval, true
	}
	return "", false
}

// setvalTarget is the sequence a call of setval sets: by its name (seq), or as the sequence of a
// column (rel and col, pg_get_serial_sequence('table', 'column')); all "" when it is named at run time.
func setvalTarget(fc *pg_query.FuncCall, path string) (seq, rel, col string) {
	if len(fc.Args) == 0 {
		return "", "", ""
	}
	arg := fc.Args[0]
	for arg.GetTypeCast() != nil {
		arg = arg.GetTypeCast().Arg
	}
	if s, ok := constText(arg); ok {
		return regclassKey(s, path), "", ""
	}
	if g := arg.GetFuncCall(); g != nil && strings.TrimPrefix(funcName(g.Funcname), "pg_catalog.") == "pg_get_serial_sequence" && len(g.Args) == 2 {
		t, ok1 := constText(g.Args[0])
		c, ok2 := constText(g.Args[1])
		if ok1 && ok2 {
			return "", regclassKey(t, path), c // the column is taken as written, not folded
		}
	}
	return "", "", ""
}

// setvals records the setval calls of statement n at line as losses, but of sequences the script made
// (madeSeqs) or of columns it added or of tables it made. What a statement only defines (a view's, a
// rule's or a prepared statement's query) sets nothing when it runs; a function's body is left to
// what calls it (calls).
func (e *effects) setvals(n *pg_query.Node, line int, path string) {
	if n.GetViewStmt() != nil || n.GetRuleStmt() != nil || n.GetPrepareStmt() != nil {
		return
	}
	calls(n, func(fc *pg_query.FuncCall) {
		if strings.TrimPrefix(funcName(fc.Funcname), "pg_catalog.") != "setval" {
			return
		}
		seq, rel, col := setvalTarget(fc, path)
		maxOf := setvalMax(fc, n, path)
		if maxOf != "" {
			e.toMax = append(e.toMax, loss{what: "sequence", seq: seqSetval, relation: cmp.Or(seq, rel), column: col, maxOf: maxOf, line: line})
		}
		if seq != "" {
			e.Sequences[seq] = true
		} else if rel != "" {
			e.Sequences[rel] = true
		}
		switch {
		case seq != "":
			if !e.madeSeqs[seq] {
				e.seqLoss(loss{what: "sequence", seq: seqSetval, relation: seq, maxOf: maxOf, line: line})
			}
		case rel != "":
			if !e.ownColumn(e.orig(rel), col) {
				e.seqLoss(loss{what: "sequence", seq: seqSetval, relation: e.orig(rel), column: col, maxOf: maxOf, line: line})
			}
		default:
			e.Losses = append(e.Losses, loss{what: "sequence", seq: seqSetval, line: line})
		}
	})
}

// seqLoss records "sequence" loss l, which the statement's names as written did not show to be of
// the script's own: CREATE TABLE public.notes (id serial) and setval('notes_id_seq', …) name one
// sequence two ways, which only the deploy's search path tells. l.own judges it again then (upLosses),
// by what the script had made when the statement ran: a sequence it drops and makes again under the
// same name lost the position of the first.
func (e *effects) seqLoss(l loss) {
	if l.relation != "" {
		seqs, tables, added, idents := maps.Clone(e.madeSeqs), maps.Clone(e.madeTables), maps.Clone(e.AddedColumns), maps.Clone(e.madeIdents)
		rel, col := l.relation, l.column
		l.own = func(q func(string) string) bool {
			if col == "" {
				return hasRel(seqs, q(rel), q)
			}
			k := colKey(q(rel), col)
			return hasRel(tables, q(rel), q) || hasCol(added, k, q) || hasCol(idents, k, q)
		}
	}
	e.Losses = append(e.Losses, l)
}

// ownColumn tells whether column col of table o (named as before the script) is the script's own, and
// so is its sequence: of a table it made, added by it, or given an identity by it.
func (e *effects) ownColumn(o, col string) bool {
	k := colKey(o, e.origCol(o, col))
	return e.madeTables[o] || e.AddedColumns[k] || e.madeIdents[k]
}

// seqLossText is what a "sequence" loss l did, in a few words (short) and as the reason says it (long,
// after its file:line).
func seqLossText(l loss) (short, long string) {
	col := colKey(l.relation, l.column)
	switch {
	case l.seq == seqSetval && l.column != "":
		return "setval of the sequence of " + col, "sets the position of the sequence of " + col
	case l.seq == seqSetval && l.relation != "":
		return "setval of " + l.relation, "sets the position of sequence " + l.relation
	case l.seq == seqSetval:
		return "setval", "sets the position of a sequence it names at run time"
	case l.seq == seqRestart:
		return "ALTER SEQUENCE " + l.relation + " RESTART", "restarts sequence " + l.relation
	case l.seq == seqRestartColumn:
		return "RESTART of " + col, "restarts the identity of " + col
	case l.seq == seqDropIdentity:
		return "DROP IDENTITY of " + col, "drops the identity of " + col + ", and with it its sequence's position"
	}
	return "DROP SEQUENCE " + l.relation, "drops sequence " + l.relation + ", and with it its position"
}

// seqLossLong is the whole reason of a "sequence" loss l of script file, which undo of m cannot bring
// back.
func seqLossLong(file string, l loss, by string) string {
	_, long := seqLossText(l)
	return fmt.Sprintf("%s:%d %s, which %s cannot bring back (the keys taken from it would be handed out again)", file, l.line, long, by)
}

// seqSchema is the schema a sequence made for a column of table rv goes in: the table's, as written or
// as the script's search path puts it ("" for an unqualified name the deploy's search path resolves).
func seqSchema(rv *pg_query.RangeVar, path string) string {
	if rv.GetSchemaname() != "" {
		return rv.GetSchemaname()
	}
	return path
}

// hasOption tells whether options (DefElems) hold one named name.
func hasOption(options []*pg_query.Node, name string) bool {
	for _, o := range options {
		if o.GetDefElem().GetDefname() == name {
			return true
		}
	}
	return false
}

// hasRel tells whether set, whose keys are relations as a script named them (unqualified or not), holds
// rel (qualified by q) once qualified by q; hasCol the same for "table.column" keys (colKey).
func hasRel(set map[string]bool, rel string, q func(string) string) bool {
	for k := range set {
		if q(k) == rel {
			return true
		}
	}
	return false
}

func hasCol(set map[string]bool, col string, q func(string) string) bool {
	for k := range set {
		if r, c := cutColKey(k); colKey(q(r), c) == col {
			return true
		}
	}
	return false
}
