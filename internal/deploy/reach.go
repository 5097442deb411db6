package deploy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/schema"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// links is what ties the tables of a run together, read from the parse trees of its scripts as they run
// one after the other: foreign keys, partitions and inheritance. Emptying a table the run created holds
// no row from before the run, but what it ties to may: TRUNCATE ... CASCADE empties every table with a
// foreign key to it, a DELETE deletes or overwrites the rows that reference the rows it deletes (ON
// DELETE CASCADE, SET NULL, SET DEFAULT), and both, without ONLY, empty its partitions and inheritance
// children (reach).
//
// Ties to a table the run created are all made by the run: before the run no foreign key could
// reference it, nor any table be its child (a table dropped to create one of its name takes its foreign
// keys and children with it, and a table renamed away keeps them). What the parse trees show is then
// what there is, but for two things. A partition inherits the foreign keys that reference its
// partitioned parents, which may be the database's: those of a parent from before the run are read
// from the database before the run (readCascades, "references" facts), and a TRUNCATE ... CASCADE of
// the new partition empties the tables they belong to. And what a DO block does is in its text: one
// whose text may tie tables (linkWord) makes the emptying statements after it count as reaching tables
// from before the run.
type links struct {
	q      func(string) string
	tables map[string]*table // by the name the scripts give it at this point, qualified
	all    []*table
	fks    []*fkey
	// facts are what readCascades read of the database before the run ("references T"); need, when
	// set, records every table whose facts the check asks for (factsNeeded).
	facts map[string]string
	need  func(string)
	// linked is where a DO block may have tied tables ("file:line") and the words that say so.
	linked, linkedWord string
	// path is the schema the current script's SET search_path puts first ("" for none).
	path string
	// upFacts says that the script checked is an up: a DELETE of a table from before the run reaches
	// the rows of the database's foreign keys to it that its down must bring back (for a down, the rows
	// it deletes are the up's, and the rows referencing them were written by the run).
	upFacts bool
	// journal, when set, records how to undo each change a check makes to links kept for other checks
	// (see withBase).
	journal *[]func()
}

// remember records undo, when a journal is kept.
func (l *links) remember(undo func()) {
	if l.journal != nil {
		*l.journal = append(*l.journal, undo)
	}
}

// setTable names t name from now on (nil: the name stands for no table).
func (l *links) setTable(name string, t *table) {
	if l.journal != nil {
		old, had := l.tables[name]
		l.remember(func() {
			if had {
				l.tables[name] = old
			} else {
				delete(l.tables, name)
			}
		})
	}
	if t == nil {
		delete(l.tables, name)
	} else {
		l.tables[name] = t
	}
}

// setAdded records whether the run added column col to t.
func (l *links) setAdded(t *table, col string, added bool) {
	if l.journal != nil {
		old := t.added[col]
		l.remember(func() {
			if old {
				t.added[col] = true
			} else {
				delete(t.added, col)
			}
		})
	}
	if added {
		t.added[col] = true
	} else {
		delete(t.added, col)
	}
}

// setParents changes t's parents.
func (l *links) setParents(t *table, parents []parentLink) {
	if l.journal != nil {
		old := slices.Clone(t.parents)
		l.remember(func() { t.parents = old })
	}
	t.parents = parents
}

// changeKey changes fk (its name, columns or whether it is dropped) through change.
func (l *links) changeKey(fk *fkey, change func()) {
	if l.journal != nil {
		name, cols, dropped := fk.name, slices.Clone(fk.cols), fk.dropped
		l.remember(func() { fk.name, fk.cols, fk.dropped = name, cols, dropped })
	}
	change()
}

// table is a table as the run's scripts tie it to others.
type table struct {
	name    string // qualified: the name before the run, or the one the run created it under
	fresh   bool   // the run created it: it held no row before the run
	dropped bool
	added   map[string]bool // columns the run added to it, by their current names
	parents []parentLink
}

type parentLink struct {
	t         *table
	partition bool // a partition (PARTITION OF, ATTACH PARTITION); else a child by inheritance
}

// fkey is a foreign key from a column list of table from to table to; onDelete is its ON DELETE action as
// the parse tree writes it ("a" no action, "r" restrict, "c" cascade, "n" set null, "d" set default).
type fkey struct {
	from, to *table
	name     string
	cols     []string
	onDelete string
	dropped  bool
}

// reached is a loss that emptying a table brings about beyond the table itself.
type reached struct {
	line int
	// what says it, after the statement's file:line ("empties tags with CASCADE, which also empties
	// old_items (it references tags), a table from before the run").
	what string
	// table is the table from before the run whose rows go (qualified), cols its columns overwritten
	// instead (ON DELETE SET NULL, SET DEFAULT); unknown says what is reached could not be known.
	table   string
	cols    []string
	unknown bool
}

// linkWord finds, in a DO block's text, what may tie tables together.
var linkWord = regexp.MustCompile(`(?i)\b(references|foreign\s+key|inherit|attach\s+partition|partition\s+of)\b`)

func newLinks(q func(string) string, facts map[string]string) *links {
	return &links{q: q, tables: map[string]*table{}, facts: facts}
}

// shown is a qualified name as messages write it: without the schema unqualified names stand for.
func (l *links) shown(name string) string {
	if i := strings.LastIndex(l.q("x"), "."); i >= 0 && strings.HasPrefix(name, l.q("x")[:i+1]) {
		return name[i+1:]
	}
	return name
}

// name is the qualified name rv stands for at this point.
func (l *links) name(rv *pg_query.RangeVar) string {
	if rv.GetSchemaname() == "" && l.path != "" {
		return relKey(l.path, rv.GetRelname())
	}
	return l.q(rvName(rv))
}

// get is the table a name stands for: one that was there before the run when the scripts did not
// create it.
func (l *links) get(name string) *table {
	if t, ok := l.tables[name]; ok {
		return t
	}
	t := &table{name: name, added: map[string]bool{}}
	l.setTable(name, t)
	l.all = append(l.all, t)
	return t
}

// create records a table created under name; ifNotExists that it may be the one that was there.
func (l *links) create(name string, ifNotExists bool) *table {
	if ifNotExists {
		return l.get(name)
	}
	t := &table{name: name, fresh: true, added: map[string]bool{}}
	l.setTable(name, t)
	l.all = append(l.all, t)
	return t
}

// script replays the statements of s; report, when set, is told what each statement that empties or
// deletes from a table reaches beyond it.
func (l *links) script(s *migrate.Script, report func(reached)) {
	if s == nil {
		return
	}
	l.path = ""
	// An EXECUTE deletes what the statement the script prepared under its name deletes (runner.run).
	prepared := map[string]*pg_query.Node{}
	for _, st := range s.Statements {
		if st.Node == nil {
			continue
		}
		switch x := st.Node.Node.(type) {
		case *pg_query.Node_PrepareStmt:
			prepared[strings.ToLower(x.PrepareStmt.Name)] = x.PrepareStmt.Query
		case *pg_query.Node_ExecuteStmt:
			if q := prepared[strings.ToLower(x.ExecuteStmt.Name)]; q != nil {
				l.statement(q, "", fmt.Sprintf("%s:%d", s.File, st.Pos.Line), st.Pos.Line, report)
			}
		}
		// Only a SET or a set_config call sets the search path: the text says whether to look (the
		// scripts before the one checked are replayed for each migration of a run).
		if st.Node.GetVariableSetStmt() != nil || strings.Contains(strings.ToLower(st.SQL), "set_config") {
			if p, ok := setsSearchPath(st.Node); ok {
				l.path = p
			}
		}
		l.statement(st.Node, st.SQL, fmt.Sprintf("%s:%d", s.File, st.Pos.Line), st.Pos.Line, report)
	}
}

func (l *links) statement(n *pg_query.Node, sql, at string, line int, report func(reached)) {
	emit := func(rs []reached) {
		for _, r := range rs {
			r.line = line
			if report != nil {
				report(r)
			}
		}
	}
	// DELETEs write where the statement runs them, also in a WITH clause and as a MERGE's action (not in
	// what a statement only defines: a function's body, a prepared statement, a rule). They tie nothing:
	// only the script checked needs them.
	if report != nil && n.GetCreateFunctionStmt() == nil && n.GetPrepareStmt() == nil && n.GetRuleStmt() == nil {
		sqlparse.Walk(n.ProtoReflect(), func(d *pg_query.DeleteStmt) {
			emit(l.empty(d.Relation, false, false, d.WhereClause == nil))
		})
		sqlparse.Walk(n.ProtoReflect(), func(m *pg_query.MergeStmt) {
			for _, w := range m.MergeWhenClauses {
				if w.GetMergeWhenClause().GetCommandType() == pg_query.CmdType_CMD_DELETE {
					emit(l.empty(m.Relation, false, false, false))
					return
				}
			}
		})
	}
	switch n := n.Node.(type) {
	case *pg_query.Node_TruncateStmt:
		for _, r := range n.TruncateStmt.Relations {
			emit(l.empty(r.GetRangeVar(), true, n.TruncateStmt.Behavior == pg_query.DropBehavior_DROP_CASCADE, true))
		}
	case *pg_query.Node_DoStmt:
		if w := linkWord.FindString(sql); w != "" && l.linked == "" {
			l.linked, l.linkedWord = at, strings.Join(strings.Fields(w), " ")
		}
	case *pg_query.Node_CreateStmt:
		c := n.CreateStmt
		t := l.create(l.name(c.Relation), c.IfNotExists)
		for _, p := range c.InhRelations {
			if rv := p.GetRangeVar(); rv != nil {
				l.setParents(t, append(t.parents, parentLink{t: l.get(l.name(rv)), partition: c.Partbound != nil}))
			}
		}
		for _, e := range c.TableElts {
			if cd := e.GetColumnDef(); cd != nil {
				for _, cn := range cd.Constraints {
					l.foreignKey(t, cn.GetConstraint(), cd.Colname)
				}
			}
			l.foreignKey(t, e.GetConstraint(), "")
		}
	case *pg_query.Node_CreateTableAsStmt:
		if into := n.CreateTableAsStmt.Into; into != nil {
			l.create(l.name(into.Rel), n.CreateTableAsStmt.IfNotExists)
		}
	case *pg_query.Node_RenameStmt:
		r := n.RenameStmt
		switch r.RenameType {
		case pg_query.ObjectType_OBJECT_TABLE:
			from := l.name(r.Relation)
			parts := schema.SplitKey(from)
			to := schema.Key(append(parts[:len(parts)-1:len(parts)-1], r.Newname)...) // a rename keeps the schema
			l.move(from, to)
		case pg_query.ObjectType_OBJECT_COLUMN:
			t := l.get(l.name(r.Relation))
			if t.added[r.Subname] {
				l.setAdded(t, r.Subname, false)
				l.setAdded(t, r.Newname, true)
			}
			for _, fk := range l.fks {
				if fk.from == t {
					if slices.Contains(fk.cols, r.Subname) {
						l.changeKey(fk, func() {
							fk.cols = slices.Clone(fk.cols)
							for i, c := range fk.cols {
								if c == r.Subname {
									fk.cols[i] = r.Newname
								}
							}
						})
					}
				}
			}
		case pg_query.ObjectType_OBJECT_TABCONSTRAINT:
			t := l.get(l.name(r.Relation))
			for _, fk := range l.fks {
				if fk.from == t && fk.name == r.Subname {
					l.changeKey(fk, func() { fk.name = r.Newname })
				}
			}
		}
	case *pg_query.Node_AlterObjectSchemaStmt:
		if a := n.AlterObjectSchemaStmt; a.ObjectType == pg_query.ObjectType_OBJECT_TABLE && a.Relation != nil {
			l.move(l.name(a.Relation), relKey(a.Newschema, a.Relation.Relname))
		}
	case *pg_query.Node_AlterTableStmt:
		if n.AlterTableStmt.Objtype != pg_query.ObjectType_OBJECT_TABLE {
			break // ALTER INDEX ... ATTACH PARTITION ties indexes
		}
		t := l.get(l.name(n.AlterTableStmt.Relation))
		for _, c := range n.AlterTableStmt.Cmds {
			cmd := c.GetAlterTableCmd()
			if cmd == nil {
				continue
			}
			switch cmd.Subtype {
			case pg_query.AlterTableType_AT_AddColumn:
				if cd := cmd.Def.GetColumnDef(); cd != nil {
					l.setAdded(t, cd.Colname, true)
					for _, cn := range cd.Constraints {
						l.foreignKey(t, cn.GetConstraint(), cd.Colname)
					}
				}
			case pg_query.AlterTableType_AT_AddConstraint:
				l.foreignKey(t, cmd.Def.GetConstraint(), "")
			case pg_query.AlterTableType_AT_DropConstraint:
				for _, fk := range l.fks {
					if fk.from == t && fk.name == cmd.Name {
						l.changeKey(fk, func() { fk.dropped = true })
					}
				}
			case pg_query.AlterTableType_AT_DropColumn:
				// The foreign keys of a column go with it.
				l.setAdded(t, cmd.Name, false)
				for _, fk := range l.fks {
					if fk.from == t && slices.Contains(fk.cols, cmd.Name) {
						l.changeKey(fk, func() { fk.dropped = true })
					}
				}
			case pg_query.AlterTableType_AT_AttachPartition:
				if rv := cmd.Def.GetPartitionCmd().GetName(); rv != nil {
					child := l.get(l.name(rv))
					l.setParents(child, append(child.parents, parentLink{t: t, partition: true}))
				}
			case pg_query.AlterTableType_AT_DetachPartition:
				if rv := cmd.Def.GetPartitionCmd().GetName(); rv != nil {
					l.unlink(l.get(l.name(rv)), t)
				}
			case pg_query.AlterTableType_AT_AddInherit:
				if rv := cmd.Def.GetRangeVar(); rv != nil {
					l.setParents(t, append(t.parents, parentLink{t: l.get(l.name(rv))}))
				}
			case pg_query.AlterTableType_AT_DropInherit:
				if rv := cmd.Def.GetRangeVar(); rv != nil {
					l.unlink(t, l.get(l.name(rv)))
				}
			}
		}
	case *pg_query.Node_DropStmt:
		d := n.DropStmt
		switch d.RemoveType {
		case pg_query.ObjectType_OBJECT_TABLE:
			for _, o := range d.Objects {
				var parts []string
				for _, it := range o.GetList().GetItems() {
					parts = append(parts, it.GetString_().GetSval())
				}
				name := schema.Key(parts...)
				if len(parts) == 1 {
					name = l.name(&pg_query.RangeVar{Relname: parts[0]})
				}
				if t, ok := l.tables[name]; ok {
					l.drop(t, d.Behavior == pg_query.DropBehavior_DROP_CASCADE)
				}
			}
		case pg_query.ObjectType_OBJECT_SCHEMA:
			if d.Behavior == pg_query.DropBehavior_DROP_CASCADE {
				for _, o := range d.Objects {
					for name, t := range l.tables {
						if strings.HasPrefix(name, schema.KeyPart(o.GetString_().GetSval())+".") {
							l.drop(t, true)
						}
					}
				}
			}
		}
	}
}

// foreignKey records c, when it is a foreign key of table t (col: the column it is written on, "" for a
// table constraint).
func (l *links) foreignKey(t *table, c *pg_query.Constraint, col string) {
	if c == nil || c.Contype != pg_query.ConstrType_CONSTR_FOREIGN || c.Pktable == nil {
		return
	}
	fk := &fkey{from: t, to: l.get(l.name(c.Pktable)), name: c.Conname, onDelete: c.FkDelAction}
	for _, a := range c.FkAttrs {
		fk.cols = append(fk.cols, a.GetString_().GetSval())
	}
	if len(fk.cols) == 0 && col != "" {
		fk.cols = []string{col}
	}
	if fk.name == "" {
		// The name PostgreSQL chooses, which a later DROP CONSTRAINT names it by (it adds a number when
		// the name is taken: such a drop is not recognized, and the key stays, on the safe side).
		parts := schema.SplitKey(t.name)
		rel := parts[len(parts)-1]
		fk.name = rel + "_" + strings.Join(fk.cols, "_") + "_fkey"
	}
	l.fks = append(l.fks, fk)
}

// move records that the table named from is named to from now on.
func (l *links) move(from, to string) {
	t := l.get(from)
	l.setTable(from, nil)
	l.setTable(to, t)
}

// unlink removes child's link to parent (DETACH PARTITION, NO INHERIT).
func (l *links) unlink(child, parent *table) {
	l.setParents(child, slices.DeleteFunc(slices.Clone(child.parents), func(p parentLink) bool { return p.t == parent }))
}

// drop records that t is dropped, with its partitions, and with its children by inheritance when cascade
// (without, a table that has some is not dropped).
func (l *links) drop(t *table, cascade bool) {
	if t.dropped {
		return
	}
	t.dropped = true
	l.remember(func() { t.dropped = false })
	for n, x := range l.tables {
		if x == t {
			l.setTable(n, nil)
		}
	}
	for _, c := range l.all {
		for _, p := range c.parents {
			if p.t == t && (p.partition || cascade) {
				l.drop(c, cascade)
			}
		}
	}
}

// ancestors are the partitioned tables t is a partition of, nearest first, as the scripts tie them.
func ancestors(t *table) []*table {
	var out []*table
	for cur := t; ; {
		next := (*table)(nil)
		for _, p := range cur.parents {
			if p.partition && !p.t.dropped && !slices.Contains(out, p.t) {
				next = p.t
			}
		}
		if next == nil {
			return out
		}
		out = append(out, next)
		cur = next
	}
}

// dbKey is the key of what readCascades reads of the foreign keys that reference table name (qualified).
func dbKey(name string) string { return "references " + name }

// empty says what emptying (TRUNCATE, DELETE without WHERE: all) or deleting rows of rv reaches beyond
// it that was there before the run. truncate with cascade empties the tables whose foreign keys
// reference it, or any of the partitioned tables it is a partition of (each partition has their foreign
// keys), whatever their actions; a DELETE acts as those keys say: ON DELETE CASCADE deletes the rows
// that reference the rows it deletes, SET NULL and SET DEFAULT overwrite their columns, NO ACTION and
// RESTRICT make it fail. Without ONLY both empty its partitions and children by inheritance, and those
// of theirs. A TRUNCATE ONLY of a partitioned table fails, a DELETE FROM ONLY of one deletes nothing.
func (l *links) empty(rv *pg_query.RangeVar, truncate, cascade, all bool) []reached {
	if rv == nil {
		return nil
	}
	start := l.get(l.name(rv))
	verb := "deletes rows of"
	if all {
		verb = "empties"
	}
	head := verb + " " + l.shown(start.name)
	if truncate && cascade {
		head += " with CASCADE"
	}
	var out []reached
	if l.linked != "" && !(truncate && !rv.Inh && !cascade) {
		out = append(out, reached{unknown: true, what: fmt.Sprintf("%s, and the DO block at %s (its text holds %q) may have tied tables from before the run to it, which it would reach", head, l.linked, l.linkedWord)})
	}
	type item struct {
		t   *table
		how string // how it is reached, as "(a partition of parent)"
		all bool   // every row goes
		// kids says that its children by inheritance go too (the start without ONLY, and their
		// children); partitions go with every table reached.
		kids bool
	}
	seen := map[*table]bool{start: true}
	queue := []item{{t: start, all: all, kids: rv.Inh}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		t := it.t
		if t != start && !t.fresh {
			v := "deletes rows of"
			if it.all {
				v = "empties"
			}
			out = append(out, reached{table: t.name, what: fmt.Sprintf("%s, which also %s %s %s, a table from before the run", head, v, l.shown(t.name), it.how)})
		}
		add := func(x item) {
			if !seen[x.t] && !x.t.dropped {
				seen[x.t] = true
				queue = append(queue, x)
			}
		}
		// Its partitions and children: a DELETE FROM ONLY a partitioned table deletes nothing.
		if t != start || rv.Inh {
			for _, c := range l.all {
				for _, p := range c.parents {
					if p.t == t && (p.partition || it.kids) {
						how := "(a child of " + l.shown(t.name) + " by inheritance)"
						if p.partition {
							how = "(a partition of " + l.shown(t.name) + ")"
						}
						add(item{t: c, how: how, all: it.all, kids: it.kids})
					}
				}
			}
		}
		if truncate && !cascade {
			continue // a foreign key to it makes the TRUNCATE fail
		}
		for _, to := range append([]*table{t}, ancestors(t)...) {
			for _, fk := range l.fks {
				if fk.dropped || fk.to != to || fk.from.dropped || fk.from == t {
					continue
				}
				switch {
				case truncate:
					add(item{t: fk.from, how: "(it references " + l.shown(to.name) + ")", all: true})
				case fk.onDelete == "c":
					add(item{t: fk.from, how: "(its foreign key to " + l.shown(to.name) + " is ON DELETE CASCADE)"})
				case fk.onDelete == "n" || fk.onDelete == "d":
					// Columns the run added held no value before it.
					if !fk.from.fresh && !addedAll(fk.from, fk.cols) {
						out = append(out, l.overwrites(head, fk.from, fk.cols, to, fk.onDelete))
					}
				}
			}
			// The database's foreign keys: to a table from before the run, for a TRUNCATE ... CASCADE, and
			// for a DELETE of an up (see links.upFacts).
			if to.fresh || !(truncate || l.upFacts && t == start) {
				continue
			}
			if l.need != nil {
				l.need(to.name)
			}
			v, ok := l.facts[dbKey(to.name)]
			if !ok {
				out = append(out, reached{unknown: true, what: fmt.Sprintf("%s, which also %s the rows of the tables whose foreign keys reference %s, a table from before the run, and which those are was not read from the database before the run",
					head, map[bool]string{true: "empties", false: "deletes or overwrites"}[truncate], l.shown(to.name))})
				continue
			}
			for _, ref := range dbRefs(v) {
				if x, ok := l.tables[ref.table]; ok && seen[x] {
					continue
				}
				how := "(it references " + l.shown(to.name) + ")"
				switch {
				case truncate:
					out = append(out, reached{table: ref.table, what: fmt.Sprintf("%s, which also empties %s %s, a table from before the run", head, l.shown(ref.table), how)})
				case ref.action == "c":
					out = append(out, reached{table: ref.table, what: fmt.Sprintf("%s, which also deletes rows of %s (its foreign key to %s is ON DELETE CASCADE), a table from before the run", head, l.shown(ref.table), l.shown(to.name))})
				case ref.action == "n" || ref.action == "d":
					out = append(out, l.overwrites(head, &table{name: ref.table}, ref.cols, to, ref.action))
				}
			}
		}
	}
	return out
}

// addedAll tells whether every column of cols is one the run added to t.
func addedAll(t *table, cols []string) bool {
	for _, c := range cols {
		if !t.added[c] {
			return false
		}
	}
	return len(cols) > 0
}

// overwrites is the loss of a DELETE (head) whose rows from's foreign key (cols) to table to sets to
// NULL or to their defaults (action "n", "d").
func (l *links) overwrites(head string, from *table, cols []string, to *table, action string) reached {
	act := map[string]string{"n": "SET NULL", "d": "SET DEFAULT"}[action]
	var qc []string
	for _, c := range cols {
		qc = append(qc, colKey(l.shown(from.name), c))
	}
	what := "a column"
	if len(cols) > 1 {
		what = "columns"
	}
	return reached{table: from.name, cols: cols, what: fmt.Sprintf("%s, which also overwrites %s (its foreign key to %s is ON DELETE %s), %s from before the run",
		head, strings.Join(qc, ", "), l.shown(to.name), act, what)}
}

// dbRef is a foreign key of the database that references a table: the table it belongs to (qualified),
// its ON DELETE action (confdeltype) and its columns.
type dbRef struct {
	table, action string
	cols          []string
}

// dbRefs reads what readCascades keeps of the foreign keys that reference a table: one line each,
// "table<TAB>action<TAB>col,col".
func dbRefs(v string) []dbRef {
	var out []dbRef
	for _, line := range strings.Split(v, "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			continue
		}
		out = append(out, dbRef{table: f[0], action: f[1], cols: strings.Split(f[2], ",")})
	}
	return out
}

// linksLose is the first loss that the statements of check reach beyond the tables they empty (links),
// once the scripts before it have run; "" when none does. file:line of the statement comes first.
func linksLose(before []*migrate.Script, check *migrate.Script, searchPath string, facts map[string]string, up bool, keep func(reached) bool) (string, reached) {
	var first reached
	found := false
	withBase(searchPath, before, facts, func(l *links) {
		l.upFacts = up
		l.script(check, func(r reached) {
			if !found && (keep == nil || keep(r)) {
				first, found = r, true
			}
		})
	})
	if !found {
		return "", reached{}
	}
	return fmt.Sprintf("%s:%d %s", check.File, first.line, first.what), first
}

// factsNeeded are the tables from before the run (qualified) whose foreign keys the checks of
// downLosesData and upLosesData ask the database about (links.empty), for the migrations pending.
func factsNeeded(pending []*migrate.Migration, searchPath string) []string {
	var names []string
	ups := make([]*migrate.Script, len(pending))
	for i, m := range pending {
		ups[i] = m.Up
	}
	for i, m := range pending {
		for _, c := range []struct {
			before []*migrate.Script
			check  *migrate.Script
			up     bool
		}{{ups[:i], m.Up, true}, {ups[: i+1 : i+1], m.Down, false}} {
			withBase(searchPath, c.before, nil, func(l *links) {
				l.need = func(n string) {
					if !slices.Contains(names, n) {
						names = append(names, n)
					}
				}
				l.upFacts = c.up
				l.script(c.check, func(reached) {})
			})
		}
	}
	return names
}
