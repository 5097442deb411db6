package deploy

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"weak"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/schema"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// effects is what a script does, read from its parse tree.
type effects struct {
	// Tables are every relation the script names (not the name of a WITH clause where it refers to the
	// clause: see relations).
	Tables map[string]bool
	// Rows are relations whose row count it may change (INSERT, DELETE, TRUNCATE, MERGE, COPY FROM).
	Rows map[string]bool
	// Updated are the columns, by relation, whose values it may change in place (UPDATE ... SET).
	Updated map[string]map[string]bool
	// Created are relations it creates; AddedColumns "relation.column" pairs it adds.
	Created      map[string]bool
	AddedColumns map[string]bool
	// Validates are "relation.constraint" pairs it validates (ALTER TABLE ... VALIDATE CONSTRAINT).
	Validates map[string]bool
	// Opaque is set when some statement may do anything (DO blocks, CALL): every table is suspect.
	Opaque bool
	// Funcs are the functions the script calls, as written (lower case, qualified when it qualifies them);
	// CreatedFuncs those it creates. A call of a function that is not built in (resolved against the
	// catalog before the run) may do anything, like a DO block. CalledAt is the line of each function's
	// first call.
	Funcs, CreatedFuncs map[string]bool
	CalledAt            map[string]int
	// Written are the tables it writes, by bare name (lower case), with the line of its first write of
	// each kind, by the trigger event it fires (trigInsert, ...): a trigger the folder creates on the
	// table calls its function there (calledCodeLoss).
	Written map[string]map[int32]int
	// CreatedSchemas are the schemas it creates (CREATE SCHEMA without IF NOT EXISTS, which may find
	// one that was there).
	CreatedSchemas map[string]bool
	// CreatedTypes are the types and domains it creates (CREATE TYPE, CREATE DOMAIN), CreatedExtensions
	// the extensions (CREATE EXTENSION without IF NOT EXISTS), each as long as it does not drop it again;
	// CreatedRoles the roles (CREATE ROLE, USER, GROUP). GivesOwnership says that it hands objects to a
	// role (ALTER ... OWNER TO, REASSIGN OWNED), which a DROP OWNED BY that role would then drop.
	CreatedTypes, CreatedExtensions, CreatedRoles map[string]bool
	GivesOwnership                                bool
	// Losses describe statements that destroy data: dropped tables or columns, schemas dropped with
	// CASCADE (with every table they hold), types, domains and extensions dropped with CASCADE (with the
	// columns that use them) that it did not create before, DROP OWNED (every object of a role, tables
	// included), TRUNCATE, DELETE, UPDATE, which overwrites values, also in a WITH clause (a
	// data-modifying CTE), as a MERGE's action or an INSERT's ON CONFLICT DO UPDATE, and column type
	// changes (ALTER COLUMN ... TYPE), which may narrow; and DO blocks whose text holds such a statement
	// (see destroyingCode).
	Losses []loss
	// Sequences are the sequences it names where the parse tree shows no relation (setval's, by name,
	// or the table of pg_get_serial_sequence), for the check that sequences are not behind their columns.
	Sequences map[string]bool
	// Filled are relations it writes rows into (INSERT, a MERGE that inserts, COPY FROM, CREATE TABLE
	// AS): how a down may bring back rows its up deleted.
	Filled map[string]bool

	// Losses, AddedColumns and Filled, and touched and rewrote, name relations and columns as they were
	// named before the script: a table it renamed (ALTER TABLE ... RENAME TO, SET SCHEMA) by its name
	// before the rename, a column by its name before a RENAME COLUMN, so that what the script does to
	// them later is judged as done to what was there. renamed maps a table's name after the script's
	// renames so far to the name it had before; renamedCols "table.column" (the table by its name before)
	// to the column's name before. shadowed are tables it created under the name of one it renamed away:
	// new, but named as the one that was there (they do not count as its own).
	renamed, renamedCols map[string]string
	shadowed             map[string]bool
	// madeTables are the tables it created (CREATE TABLE, CREATE TABLE AS, without IF NOT EXISTS, which
	// may find the one that was there), by the name it created them under, and madeSchemas the schemas
	// (CREATE SCHEMA without IF NOT EXISTS), as long as they stand: what it drops, empties or changes of
	// them afterwards loses nothing that was there before it, and is no loss; what it does to one of
	// the name before it creates it (DROP TABLE t; CREATE TABLE t) is. A table created under the name of
	// one it renamed away (shadowed) is not among them.
	madeTables, madeSchemas map[string]bool
	// madeSeqs are the sequences it made (CREATE SEQUENCE without IF NOT EXISTS, and those of the serial
	// and identity columns of the tables it made and of the columns it added or gave an identity), by
	// their keys as it names them (seqOfColumn), as long as it does not drop them; madeIdents the
	// "table.column" pairs it gave an identity (ADD GENERATED ... AS IDENTITY). Setting their positions,
	// or dropping them, loses nothing that was there before it (see seqpos.go).
	madeSeqs, madeIdents map[string]bool
	// toMax are its setvals to max() of a column (loss.maxOf set), of sequences it made too: a down
	// that makes again a sequence its up dropped, and sets it to max() of its column, brings back a
	// position no key in use collides with (maxSeq).
	toMax []loss
	// touched are the relations whose row count it may change (Rows); rewrote the "table.column" pairs
	// whose values it may change in place (Updated), named as they were before the script.
	touched, rewrote map[string]bool
}

type loss struct {
	what     string // "table", "schema", "column", "truncate", "delete", "update", "type", "cascade", "owned", "sequence"; "code" for a DO block
	relation string // the schema for "schema"; the type, domain or extension for "cascade"
	// object is what a DROP ... CASCADE drops ("type", "domain", "extension"); roles are those whose
	// objects DROP OWNED drops.
	object string
	roles  []string
	column string
	line   int
	// matview is a dropped materialized view: its rows are computed, not data of its own.
	matview bool
	// code is what a DO block's text holds that destroys data ("DROP COLUMN", "DELETE FROM"); with
	// object "execute", the name of a prepared statement that an EXECUTE runs and the script does not
	// prepare (what it runs is not known).
	code string
	// typ is the type a column is changed to ("type"); using says that a USING expression converts it,
	// computed that the expression (computedAs, as SQL) computes other values than the type change
	// alone would (it is more than the column or a cast of it: length(c), d * 2).
	typ        colType
	using      bool
	computed   bool
	computedAs string
	// all says that a "truncate" or "delete" takes every row of the table (TRUNCATE, DELETE without
	// WHERE): the rows that were there before an up that filled it too.
	all bool
	// seq is how a "sequence" loss sets a sequence's position or loses it (seqSetval, seqRestart, ...);
	// relation is the sequence, or, with column, the table whose column's sequence it is; both "" for
	// a setval of a sequence named at run time. own tells, once the deploy's search path qualifies the
	// names (q), whether the sequence or column was the script's own when the statement ran (seqLoss).
	seq string
	own func(q func(string) string) bool
	// maxOf is, for a setval, the column (colKey) whose max() it sets the sequence to (setvalMax): no
	// loss when the sequence is that column's (maxSeq).
	maxOf string
}

// ran says what a "code" loss l runs: "a DO block that holds \"DELETE FROM\"", "EXECUTE wipe, a
// statement the script does not prepare".
func (l loss) ran() string {
	if l.object == "execute" {
		return fmt.Sprintf("EXECUTE %s, a statement the script does not prepare", l.code)
	}
	return fmt.Sprintf("a DO block that holds %q", l.code)
}

func newEffects() *effects {
	return &effects{Tables: map[string]bool{}, Rows: map[string]bool{}, Updated: map[string]map[string]bool{}, Created: map[string]bool{},
		AddedColumns: map[string]bool{}, Validates: map[string]bool{}, Funcs: map[string]bool{}, CreatedFuncs: map[string]bool{},
		CalledAt: map[string]int{}, Written: map[string]map[int32]int{}, Filled: map[string]bool{}, CreatedSchemas: map[string]bool{},
		CreatedTypes: map[string]bool{}, CreatedExtensions: map[string]bool{}, CreatedRoles: map[string]bool{},
		renamed: map[string]string{}, renamedCols: map[string]string{}, shadowed: map[string]bool{}, touched: map[string]bool{}, rewrote: map[string]bool{},
		madeTables: map[string]bool{}, madeSchemas: map[string]bool{}, madeSeqs: map[string]bool{}, madeIdents: map[string]bool{}, Sequences: map[string]bool{}}
}

// orig is the name relation rel (as the script names it at this point) had before the script.
func (e *effects) orig(rel string) string {
	if o, ok := e.renamed[rel]; ok {
		return o
	}
	return rel
}

// origCol is the name column col of relation rel (named as before the script) had before the script.
func (e *effects) origCol(rel, col string) string {
	if o, ok := e.renamedCols[colKey(rel, col)]; ok {
		return o
	}
	return col
}

// before is what relation rel and its column col (col "" for none), as named once the script has run,
// were named before it, both names qualified by q (see qualifier). A later script (a down) names them so.
func (e *effects) before(q func(string) string, rel, col string) (string, string) {
	orig := q(rel)
	for k, v := range e.renamed {
		if q(k) == orig {
			orig = q(v)
			break
		}
	}
	for k, v := range e.renamedCols {
		if r, c := cutColKey(k); q(r) == orig && c == col {
			return orig, v
		}
	}
	return orig, col
}

// rename records that the table named from is named to from now on (qualified as the script names it).
func (e *effects) rename(from, to string) {
	o := e.orig(from)
	delete(e.renamed, from)
	if to != o {
		e.renamed[to] = o
	}
}

// renamedAway tells whether rel (named as before the script) was renamed, so that its name is free for a
// new table.
func (e *effects) renamedAway(rel string) bool {
	for _, o := range e.renamed {
		if o == rel {
			return true
		}
	}
	return false
}

// rvName is the catalog key (schema.Key) of the relation rv names, qualified as rv is.
func rvName(rv *pg_query.RangeVar) string {
	if rv == nil {
		return ""
	}
	return relKey(rv.Schemaname, rv.Relname)
}

// relKey is the catalog key (schema.Key) of relation rel of schema sc, unqualified when sc is "". Names
// holding a dot, a quote or a parenthesis are quoted in it, so that it is cut where SQL cuts the name:
// public."a.b" is table a.b of schema public, a.b table b of schema a.
func relKey(sc, rel string) string {
	if sc == "" {
		return schema.KeyPart(rel)
	}
	return schema.Key(sc, rel)
}

// colKey is the key of column (or constraint) col of the relation whose key (relKey) is rel.
func colKey(rel, col string) string { return rel + "." + schema.KeyPart(col) }

// cutColKey cuts a colKey into the relation's key and the column's name.
func cutColKey(k string) (rel, col string) {
	parts := schema.SplitKey(k)
	return schema.Key(parts[:len(parts)-1]...), parts[len(parts)-1]
}

// setsSearchPath tells whether n sets search_path (SET [LOCAL] search_path, RESET, set_config with a
// constant), and the first schema it names; "" for the default or what cannot be read.
func setsSearchPath(n *pg_query.Node) (string, bool) {
	first := func(list string) string {
		p, _, _ := strings.Cut(list, ",")
		p = strings.TrimSpace(p)
		if p == "" || strings.Contains(p, "$user") {
			return ""
		}
		return unquoteIdent(p)
	}
	if v := n.GetVariableSetStmt(); v != nil && strings.EqualFold(v.Name, "search_path") {
		if v.Kind == pg_query.VariableSetKind_VAR_SET_VALUE && len(v.Args) > 0 {
			if c := v.Args[0].GetAConst(); c != nil && c.GetSval() != nil {
				return first(`"` + strings.ReplaceAll(c.GetSval().Sval, `"`, `""`) + `"`), true
			}
		}
		return "", true
	}
	path, found := "", false
	calls(n, func(fc *pg_query.FuncCall) {
		if strings.TrimPrefix(funcName(fc.Funcname), "pg_catalog.") != "set_config" || len(fc.Args) < 2 {
			return
		}
		k, v := fc.Args[0].GetAConst().GetSval(), fc.Args[1].GetAConst().GetSval()
		if k != nil && strings.EqualFold(k.Sval, "search_path") && v != nil {
			path, found = first(v.Sval), true
		}
	})
	return path, found
}

// analyzed holds analyze's result per script, for as long as the script is in use (weak keys: a script
// no longer referenced takes its entry with it). The checks of a deploy judge each pending migration
// after the ones before it, which would otherwise read every earlier script again for each migration.
var analyzed sync.Map // weak.Pointer[migrate.Script] -> *effects

// analyze reads the effects of a script. The result is shared: callers must not change it.
func analyze(s *migrate.Script) *effects {
	if s == nil {
		return newEffects()
	}
	key := weak.Make(s)
	if e, ok := analyzed.Load(key); ok {
		return e.(*effects)
	}
	e := analyzeScript(s)
	if _, loaded := analyzed.LoadOrStore(key, e); !loaded {
		runtime.AddCleanup(s, func(k weak.Pointer[migrate.Script]) { analyzed.Delete(k) }, key)
	}
	return e
}

// analyzeScript is analyze without the cache.
func analyzeScript(s *migrate.Script) *effects {
	e := newEffects()
	// path is the schema the script's own SET search_path puts first ("" until it sets one): its
	// unqualified names are that schema's from then on. Each script starts from a reset session.
	path := ""
	r := &runner{e: e, prepared: map[string]*pg_query.Node{}, rules: map[string][]*pg_query.RuleStmt{}}
	name := func(rv *pg_query.RangeVar) string {
		if rv != nil && rv.Schemaname == "" && path != "" {
			return relKey(path, rv.Relname)
		}
		return rvName(rv)
	}
	for _, st := range s.Statements {
		if st.Node == nil {
			continue
		}
		if p, ok := setsSearchPath(st.Node); ok {
			path = p
		}
		// The names of WITH clauses are no tables, where they are visible (relations).
		relations(st.Node.ProtoReflect(), nil, func(rv *pg_query.RangeVar) { e.Tables[name(rv)] = true })
		line := st.Pos.Line
		calls(st.Node, func(fc *pg_query.FuncCall) {
			f := funcName(fc.Funcname)
			if !e.Funcs[f] {
				e.Funcs[f], e.CalledAt[f] = true, line
			}
		})
		r.path = path
		r.run(st.Node, st.SQL, line, 0)
	}
	return e
}

// runner reads what the statements of a script run, as the server runs them: a statement may run
// another that it wraps, and that statement's writes are its own (see run).
type runner struct {
	e    *effects
	path string
	// prepared are the queries of the statements the script prepared so far, by name (PREPARE, until
	// DEALLOCATE); rules the rules it created so far (CREATE RULE), by the bare name of their table.
	prepared map[string]*pg_query.Node
	rules    map[string][]*pg_query.RuleStmt
}

// run adds the effects of statement n (sql is its text, "" for one that another wraps) at line, and of
// what it runs: the INSERT, UPDATE and DELETE of its WITH clauses, the statement EXPLAIN ANALYZE runs
// (EXPLAIN without ANALYZE runs nothing), the query of a COPY (query) TO, the query of the prepared
// statement an EXECUTE runs, and the actions of the rules the script created on a table it writes.
// What a statement only defines runs nothing then: a function's BEGIN ATOMIC body, a PREPARE never
// executed, a rule no write fires. depth is how deeply n is wrapped: rules that fire each other end at
// maxCallDepth, where the server fails.
func (r *runner) run(n *pg_query.Node, sql string, line, depth int) {
	if n == nil || depth > maxCallDepth {
		return
	}
	r.e.statement(n, sql, line, r.path)
	// The setval calls of what runs: an EXPLAIN ANALYZE's or a COPY's query, and a prepared statement, are
	// read when run below (a plain EXPLAIN runs nothing).
	if x := n.GetCopyStmt(); n.GetExplainStmt() == nil && (x == nil || x.Query == nil) {
		r.e.setvals(n, line, r.path)
	}
	switch x := n.Node.(type) {
	case *pg_query.Node_CreateFunctionStmt, *pg_query.Node_PrepareStmt, *pg_query.Node_RuleStmt:
	case *pg_query.Node_ExplainStmt:
		if explainRuns(x.ExplainStmt) {
			r.run(x.ExplainStmt.Query, "", line, depth+1)
		}
		return // the WITH clauses are the query's
	case *pg_query.Node_CopyStmt:
		if x.CopyStmt.Query != nil {
			r.run(x.CopyStmt.Query, "", line, depth+1)
			return
		}
	default:
		sqlparse.Walk(n.ProtoReflect(), func(cte *pg_query.CommonTableExpr) {
			r.e.statement(cte.Ctequery, "", line, r.path)
			r.written(cte.Ctequery, line, depth)
		})
	}
	switch x := n.Node.(type) {
	case *pg_query.Node_PrepareStmt:
		r.prepared[strings.ToLower(x.PrepareStmt.Name)] = x.PrepareStmt.Query
	case *pg_query.Node_DeallocateStmt:
		if x.DeallocateStmt.Isall {
			clear(r.prepared)
		}
		delete(r.prepared, strings.ToLower(x.DeallocateStmt.Name))
	case *pg_query.Node_ExecuteStmt:
		q, ok := r.prepared[strings.ToLower(x.ExecuteStmt.Name)]
		if !ok {
			// Prepared by an earlier script of the run's session, or not at all: it may run anything.
			r.e.Opaque = true
			r.e.Losses = append(r.e.Losses, loss{what: "code", object: "execute", code: x.ExecuteStmt.Name, line: line})
			return
		}
		r.run(q, "", line, depth+1)
	case *pg_query.Node_RuleStmt:
		rel := strings.ToLower(x.RuleStmt.GetRelation().GetRelname())
		r.rules[rel] = append(r.rules[rel], x.RuleStmt)
	default:
		r.written(n, line, depth)
	}
}

// written runs the actions of the rules the script created that n (an INSERT, UPDATE or DELETE, also
// of a WITH clause; n's own effects are read already) fires on the table it writes: a rule DO ALSO
// runs them beside the write, DO INSTEAD in its place (the write still counts: it errs on the side of
// a loss). Rules are matched by the table's bare name.
func (r *runner) written(n *pg_query.Node, line, depth int) {
	if n == nil || len(r.rules) == 0 {
		return
	}
	var rel *pg_query.RangeVar
	var ev pg_query.CmdType
	switch x := n.Node.(type) {
	case *pg_query.Node_InsertStmt:
		rel, ev = x.InsertStmt.Relation, pg_query.CmdType_CMD_INSERT
	case *pg_query.Node_UpdateStmt:
		rel, ev = x.UpdateStmt.Relation, pg_query.CmdType_CMD_UPDATE
	case *pg_query.Node_DeleteStmt:
		rel, ev = x.DeleteStmt.Relation, pg_query.CmdType_CMD_DELETE
	default:
		return
	}
	for _, rule := range r.rules[strings.ToLower(rel.GetRelname())] {
		if rule.Event != ev {
			continue
		}
		for _, a := range rule.Actions {
			r.run(a, "", line, depth+1)
		}
	}
}

// explainRuns tells whether EXPLAIN x runs its statement: with ANALYZE, not turned off (ANALYZE false).
func explainRuns(x *pg_query.ExplainStmt) bool {
	runs := false
	for _, o := range x.Options {
		d := o.GetDefElem()
		if d == nil || !strings.EqualFold(d.Defname, "analyze") {
			continue
		}
		runs = true
		if c := d.GetArg().GetAConst(); c != nil {
			switch {
			case c.GetBoolval() != nil:
				runs = c.GetBoolval().Boolval
			case c.GetIval() != nil:
				runs = c.GetIval().Ival != 0
			case c.GetSval() != nil:
				runs = !slices.Contains([]string{"false", "off", "0", "no"}, strings.ToLower(c.GetSval().Sval))
			}
		} else if sv := d.GetArg().GetString_(); sv != nil {
			runs = !slices.Contains([]string{"false", "off", "0", "no"}, strings.ToLower(sv.Sval))
		}
	}
	return runs
}

// statement adds the effects of one statement n (a script's, or the query of a WITH clause: sql is then
// "") at line; path is the schema the script's search path puts first ("" for none).
func (e *effects) statement(n *pg_query.Node, sql string, line int, path string) {
	if n == nil {
		return
	}
	name := func(rv *pg_query.RangeVar) string {
		if rv != nil && rv.Schemaname == "" && path != "" {
			return relKey(path, rv.Relname)
		}
		return rvName(rv)
	}
	// fires records that a write to rv fires its triggers for event ev.
	fires := func(rv *pg_query.RangeVar, ev int32) {
		t := strings.ToLower(rv.GetRelname())
		if e.Written[t] == nil {
			e.Written[t] = map[int32]int{}
		}
		if _, ok := e.Written[t][ev]; !ok {
			e.Written[t][ev] = line
		}
	}
	// fill records rows written into rv.
	fill := func(rv *pg_query.RangeVar) {
		e.Rows[name(rv)], e.Filled[e.orig(name(rv))], e.touched[e.orig(name(rv))] = true, true, true
		fires(rv, trigInsert)
	}
	// create records a table it creates; ifNotExists that it may find the one that was there.
	create := func(rv *pg_query.RangeVar, ifNotExists bool) {
		e.Created[name(rv)] = true
		if e.renamedAway(name(rv)) {
			e.shadowed[name(rv)] = true
		} else if !ifNotExists {
			e.madeTables[name(rv)] = true
		}
	}
	switch n := n.Node.(type) {
	case *pg_query.Node_InsertStmt:
		fill(n.InsertStmt.Relation)
		// ON CONFLICT DO UPDATE overwrites the rows it finds, as an UPDATE.
		if oc := n.InsertStmt.OnConflictClause; oc != nil && oc.Action == pg_query.OnConflictAction_ONCONFLICT_UPDATE {
			e.overwrite(name(n.InsertStmt.Relation), oc.TargetList, line)
			fires(n.InsertStmt.Relation, trigUpdate)
		}
	case *pg_query.Node_DeleteStmt:
		rel := name(n.DeleteStmt.Relation)
		e.Rows[rel], e.touched[e.orig(rel)] = true, true
		fires(n.DeleteStmt.Relation, trigDelete)
		if !e.madeTables[e.orig(rel)] {
			e.Losses = append(e.Losses, loss{what: "delete", relation: e.orig(rel), line: line, all: n.DeleteStmt.WhereClause == nil})
		}
	case *pg_query.Node_UpdateStmt:
		e.overwrite(name(n.UpdateStmt.Relation), n.UpdateStmt.TargetList, line)
		fires(n.UpdateStmt.Relation, trigUpdate)
	case *pg_query.Node_MergeStmt:
		// Its WHEN clauses insert, update and delete as the statements alone would.
		rel := name(n.MergeStmt.Relation)
		e.Rows[rel], e.touched[e.orig(rel)] = true, true
		for _, w := range n.MergeStmt.MergeWhenClauses {
			switch c := w.GetMergeWhenClause(); c.GetCommandType() {
			case pg_query.CmdType_CMD_INSERT:
				fill(n.MergeStmt.Relation)
			case pg_query.CmdType_CMD_UPDATE:
				e.overwrite(rel, c.TargetList, line)
				fires(n.MergeStmt.Relation, trigUpdate)
			case pg_query.CmdType_CMD_DELETE:
				fires(n.MergeStmt.Relation, trigDelete)
				if !e.madeTables[e.orig(rel)] {
					e.Losses = append(e.Losses, loss{what: "delete", relation: e.orig(rel), line: line})
				}
			}
		}
	case *pg_query.Node_CopyStmt:
		if n.CopyStmt.IsFrom {
			fill(n.CopyStmt.Relation)
		}
	case *pg_query.Node_TruncateStmt:
		for _, r := range n.TruncateStmt.Relations {
			rel := name(r.GetRangeVar())
			e.Rows[rel], e.touched[e.orig(rel)] = true, true
			fires(r.GetRangeVar(), trigTruncate)
			if !e.madeTables[e.orig(rel)] {
				e.Losses = append(e.Losses, loss{what: "truncate", relation: e.orig(rel), line: line, all: true})
			}
		}
	case *pg_query.Node_CreateStmt:
		create(n.CreateStmt.Relation, n.CreateStmt.IfNotExists)
		if rv := n.CreateStmt.Relation; e.madeTables[name(rv)] {
			for _, el := range n.CreateStmt.TableElts {
				if seq := seqOfColumn(seqSchema(rv, path), rv.Relname, el.GetColumnDef()); seq != "" {
					e.madeSeqs[seq] = true
				}
			}
		}
	case *pg_query.Node_CreateSeqStmt:
		if !n.CreateSeqStmt.IfNotExists {
			e.madeSeqs[name(n.CreateSeqStmt.Sequence)] = true
		}
	case *pg_query.Node_AlterSeqStmt:
		if seq := name(n.AlterSeqStmt.Sequence); !e.madeSeqs[seq] && hasOption(n.AlterSeqStmt.Options, "restart") {
			e.seqLoss(loss{what: "sequence", seq: seqRestart, relation: seq, line: line})
		}
	case *pg_query.Node_CreateTableAsStmt:
		if n.CreateTableAsStmt.Into != nil {
			create(n.CreateTableAsStmt.Into.Rel, n.CreateTableAsStmt.IfNotExists)
			fill(n.CreateTableAsStmt.Into.Rel)
		}
	case *pg_query.Node_RenameStmt:
		rn := n.RenameStmt
		switch rn.RenameType {
		case pg_query.ObjectType_OBJECT_TABLE:
			to := relKey("", rn.Newname)
			if rn.Relation.GetSchemaname() != "" {
				to = relKey(rn.Relation.GetSchemaname(), rn.Newname)
			} else if path != "" {
				to = relKey(path, rn.Newname)
			}
			e.rename(name(rn.Relation), to)
		case pg_query.ObjectType_OBJECT_COLUMN:
			o := e.orig(name(rn.Relation))
			col := e.origCol(o, rn.Subname)
			delete(e.renamedCols, colKey(o, rn.Subname))
			if rn.Newname != col {
				e.renamedCols[colKey(o, rn.Newname)] = col
			}
		}
	case *pg_query.Node_AlterObjectSchemaStmt:
		if a := n.AlterObjectSchemaStmt; a.ObjectType == pg_query.ObjectType_OBJECT_TABLE && a.Relation != nil {
			e.rename(name(a.Relation), relKey(a.Newschema, a.Relation.Relname))
		}
	case *pg_query.Node_AlterTableStmt:
		rel := name(n.AlterTableStmt.Relation)
		o := e.orig(rel)
		// renamedAway tells whether column c of the table was renamed, so that its name is free.
		renamedAway := func(c string) bool {
			for k, v := range e.renamedCols {
				if v == c && strings.HasPrefix(k, o+".") {
					return true
				}
			}
			return false
		}
		for _, c := range n.AlterTableStmt.Cmds {
			cmd := c.GetAlterTableCmd()
			if cmd == nil {
				continue
			}
			switch cmd.Subtype {
			case pg_query.AlterTableType_AT_AddColumn:
				// A column added under the name of one renamed away is new, but named as the one that was
				// there: it is not counted as added.
				if cd := cmd.Def.GetColumnDef(); cd != nil && !renamedAway(cd.Colname) {
					e.AddedColumns[colKey(o, cd.Colname)] = true
				}
				if seq := seqOfColumn(seqSchema(n.AlterTableStmt.Relation, path), n.AlterTableStmt.Relation.GetRelname(), cmd.Def.GetColumnDef()); seq != "" {
					e.madeSeqs[seq] = true
				}
			case pg_query.AlterTableType_AT_AddIdentity:
				e.madeIdents[colKey(o, e.origCol(o, cmd.Name))] = true
				if con := cmd.Def.GetConstraint(); con != nil {
					e.madeSeqs[identitySeq(seqSchema(n.AlterTableStmt.Relation, path), n.AlterTableStmt.Relation.GetRelname(), cmd.Name, con.Options)] = true
				}
			case pg_query.AlterTableType_AT_SetIdentity:
				// SET START, SET INCREMENT and SET GENERATED leave the position where it is; RESTART sets it.
				if hasOption(cmd.Def.GetList().GetItems(), "restart") && !e.ownColumn(o, cmd.Name) {
					e.seqLoss(loss{what: "sequence", seq: seqRestartColumn, relation: o, column: e.origCol(o, cmd.Name), line: line})
				}
			case pg_query.AlterTableType_AT_DropIdentity:
				if k := colKey(o, e.origCol(o, cmd.Name)); e.madeIdents[k] {
					delete(e.madeIdents, k)
				} else if !e.ownColumn(o, cmd.Name) {
					e.seqLoss(loss{what: "sequence", seq: seqDropIdentity, relation: o, column: e.origCol(o, cmd.Name), line: line})
				}
			case pg_query.AlterTableType_AT_DropColumn:
				// One it added before loses nothing that was there.
				if col := e.origCol(o, cmd.Name); !e.AddedColumns[colKey(o, col)] && !e.madeTables[o] {
					e.Losses = append(e.Losses, loss{what: "column", relation: o, column: col, line: line})
				}
			case pg_query.AlterTableType_AT_AlterColumnType:
				if cd := cmd.Def.GetColumnDef(); cd != nil && !e.madeTables[o] {
					l := loss{what: "type", relation: o, column: e.origCol(o, cmd.Name), line: line,
						typ: typeOf(cd.TypeName), using: cd.RawDefault != nil}
					if l.using && !castOfColumn(cd.RawDefault, cmd.Name) {
						l.computed, l.computedAs = true, exprSQL(cd.RawDefault)
					}
					e.Losses = append(e.Losses, l)
				}
			case pg_query.AlterTableType_AT_ValidateConstraint:
				e.Validates[colKey(rel, cmd.Name)] = true
			case pg_query.AlterTableType_AT_ChangeOwner:
				e.GivesOwnership = true
			case pg_query.AlterTableType_AT_AttachPartition:
				// The partition's rows become the parent's (a DETACH, which takes them away, is not
				// expected to change counts: it is reported).
				e.Rows[rel], e.touched[o] = true, true
			}
		}
	case *pg_query.Node_DropStmt:
		if n.DropStmt.RemoveType == pg_query.ObjectType_OBJECT_TABLE || n.DropStmt.RemoveType == pg_query.ObjectType_OBJECT_MATVIEW {
			for _, o := range n.DropStmt.Objects {
				var parts []string
				for _, it := range o.GetList().GetItems() {
					parts = append(parts, it.GetString_().GetSval())
				}
				rel := schema.Key(parts...)
				if len(parts) == 1 && path != "" {
					rel = relKey(path, parts[0])
				}
				// One it created before (and not one of its name that was there) is its own.
				if o := e.orig(rel); e.madeTables[o] {
					delete(e.madeTables, o)
				} else {
					e.Losses = append(e.Losses, loss{what: "table", relation: o, line: line,
						matview: n.DropStmt.RemoveType == pg_query.ObjectType_OBJECT_MATVIEW})
				}
			}
		}
		// Without CASCADE a schema that holds anything is not dropped. One it created before is its own,
		// and so are the tables in it; one of the name that it creates after the drop is another.
		if n.DropStmt.RemoveType == pg_query.ObjectType_OBJECT_SCHEMA {
			for _, o := range n.DropStmt.Objects {
				sc := o.GetString_().GetSval()
				if e.madeSchemas[sc] {
					delete(e.madeSchemas, sc)
				} else if n.DropStmt.Behavior == pg_query.DropBehavior_DROP_CASCADE {
					e.Losses = append(e.Losses, loss{what: "schema", relation: sc, line: line})
				}
				for t := range e.madeTables {
					if strings.HasPrefix(t, schema.KeyPart(sc)+".") {
						delete(e.madeTables, t)
					}
				}
			}
		}
		// Without CASCADE a type, domain or extension that a column uses is not dropped. One this script
		// created before is its own: the columns that use it are too, or count where they changed type.
		if kind := droppedKinds[n.DropStmt.RemoveType]; kind != "" {
			created := e.CreatedTypes
			if kind == "extension" {
				created = e.CreatedExtensions
			}
			for _, o := range n.DropStmt.Objects {
				obj := o.GetString_().GetSval()
				if tn := o.GetTypeName(); tn != nil {
					obj = typeName(tn.Names, path)
				}
				if created[obj] {
					delete(created, obj)
				} else if n.DropStmt.Behavior == pg_query.DropBehavior_DROP_CASCADE {
					e.Losses = append(e.Losses, loss{what: "cascade", object: kind, relation: obj, line: line})
				}
			}
		}
		if n.DropStmt.RemoveType == pg_query.ObjectType_OBJECT_SEQUENCE {
			for _, o := range n.DropStmt.Objects {
				var parts []string
				for _, it := range o.GetList().GetItems() {
					parts = append(parts, it.GetString_().GetSval())
				}
				seq := schema.Key(parts...)
				if len(parts) == 1 && path != "" {
					seq = relKey(path, parts[0])
				}
				if e.madeSeqs[seq] {
					delete(e.madeSeqs, seq)
				} else {
					e.seqLoss(loss{what: "sequence", seq: seqDrop, relation: seq, line: line})
				}
			}
		}
	case *pg_query.Node_DropOwnedStmt:
		l := loss{what: "owned", line: line}
		for _, r := range n.DropOwnedStmt.Roles {
			l.roles = append(l.roles, roleName(r.GetRoleSpec()))
		}
		e.Losses = append(e.Losses, l)
	case *pg_query.Node_CreateSchemaStmt:
		if !n.CreateSchemaStmt.IfNotExists && n.CreateSchemaStmt.Schemaname != "" {
			e.CreatedSchemas[n.CreateSchemaStmt.Schemaname] = true
			e.madeSchemas[n.CreateSchemaStmt.Schemaname] = true
		}
	case *pg_query.Node_CreateEnumStmt:
		e.CreatedTypes[typeName(n.CreateEnumStmt.TypeName, path)] = true
	case *pg_query.Node_CreateRangeStmt:
		e.CreatedTypes[typeName(n.CreateRangeStmt.TypeName, path)] = true
	case *pg_query.Node_CreateDomainStmt:
		e.CreatedTypes[typeName(n.CreateDomainStmt.Domainname, path)] = true
	case *pg_query.Node_CompositeTypeStmt:
		e.CreatedTypes[name(n.CompositeTypeStmt.Typevar)] = true
	case *pg_query.Node_DefineStmt:
		if n.DefineStmt.Kind == pg_query.ObjectType_OBJECT_TYPE {
			e.CreatedTypes[typeName(n.DefineStmt.Defnames, path)] = true
		}
	case *pg_query.Node_CreateExtensionStmt:
		if !n.CreateExtensionStmt.IfNotExists {
			e.CreatedExtensions[n.CreateExtensionStmt.Extname] = true
		}
	case *pg_query.Node_CreateRoleStmt:
		e.CreatedRoles[n.CreateRoleStmt.Role] = true
	case *pg_query.Node_AlterOwnerStmt, *pg_query.Node_ReassignOwnedStmt:
		e.GivesOwnership = true
	case *pg_query.Node_CreateFunctionStmt:
		e.CreatedFuncs[funcName(n.CreateFunctionStmt.Funcname)] = true
	case *pg_query.Node_DoStmt:
		e.Opaque = true
		// What it does is in its text: as its parse tree cannot show it, the text is searched, and the
		// functions it calls are followed as the script's own calls are.
		if what := destroyingCode(sql); what != "" {
			e.Losses = append(e.Losses, loss{what: "code", line: line, code: what})
		}
		for _, f := range doCalls(sql) {
			if !e.Funcs[f] {
				e.Funcs[f], e.CalledAt[f] = true, line
			}
		}
	case *pg_query.Node_CallStmt:
		e.Opaque = true
	}
}

// overwrite records that the columns targets (the SET of an UPDATE, a MERGE's UPDATE or an INSERT's ON
// CONFLICT DO UPDATE) of relation rel, as named at this point, get new values at line.
func (e *effects) overwrite(rel string, targets []*pg_query.Node, line int) {
	if e.Updated[rel] == nil {
		e.Updated[rel] = map[string]bool{}
	}
	o := e.orig(rel)
	for _, t := range targets {
		if rt := t.GetResTarget(); rt != nil {
			e.Updated[rel][rt.Name] = true
			col := e.origCol(o, rt.Name)
			e.rewrote[colKey(o, col)] = true
			if !e.madeTables[o] {
				e.Losses = append(e.Losses, loss{what: "update", relation: o, column: col, line: line})
			}
		}
	}
}

// droppedKinds are the objects whose DROP ... CASCADE drops the columns that use them (an extension's:
// those that use its types), by what losses call them.
var droppedKinds = map[pg_query.ObjectType]string{
	pg_query.ObjectType_OBJECT_TYPE: "type", pg_query.ObjectType_OBJECT_DOMAIN: "domain", pg_query.ObjectType_OBJECT_EXTENSION: "extension",
}

// typeName is a type's name as written ("name" or "schema.name"), in path's schema when it is
// unqualified and path is not "".
func typeName(parts []*pg_query.Node, path string) string {
	var names []string
	for _, p := range parts {
		names = append(names, p.GetString_().GetSval())
	}
	if path != "" && len(names) == 1 {
		names = append([]string{path}, names...)
	}
	return strings.Join(names, ".")
}

// roleName is a role as a statement names it; "" for CURRENT_USER, SESSION_USER and the like.
func roleName(r *pg_query.RoleSpec) string {
	if r.GetRoletype() != pg_query.RoleSpecType_ROLESPEC_CSTRING {
		return ""
	}
	return r.GetRolename()
}

// funcName is a function's name as written: "name" or "schema.name", lower case.
func funcName(parts []*pg_query.Node) string {
	var names []string
	for _, p := range parts {
		names = append(names, strings.ToLower(p.GetString_().GetSval()))
	}
	return strings.Join(names, ".")
}

// calls calls f for every function call that statement n makes when it runs: none for a CREATE FUNCTION
// or CREATE PROCEDURE, which only defines what its body (BEGIN ATOMIC or RETURN) and its parameters'
// defaults call when the function is called (bodyCalls reads them then, as it reads a quoted body).
func calls(n *pg_query.Node, f func(*pg_query.FuncCall)) {
	if n == nil || n.GetCreateFunctionStmt() != nil {
		return
	}
	sqlparse.Walk(n.ProtoReflect(), f)
}

// downLosesData explains why running m's down would destroy data that existed before m's up ran: it drops
// a table or column the up did not create, drops with CASCADE a schema, type, domain or extension the up
// did not create (with the columns that use it), drops what a role owns (DROP OWNED) other than one the
// up created without handing it objects (ALTER ... OWNER TO, REASSIGN OWNED), deletes rows of a
// table the up did not fill, empties (TRUNCATE, DELETE without WHERE) a table that neither the up nor
// an earlier migration of the run (earlier, the migrations the run applies before m) created, whose
// rows from before the up go with those the up wrote, or changes the type of a column the up did not
// add other than back to the type the up widened it from or to a wider one (widens; a USING expression
// counts as lossy, and so does a change of a column whose type the up did not change, which may narrow
// it). Emptying or deleting from a table also loses what that reaches beyond it, through what the run
// tied to it (links: foreign keys, partitions, children by inheritance) and the foreign keys that
// cascades says the database had before the run ("references schema.table", deployer.readCascades): a
// table the run created held no row before it, but one that references it, or a partition of it, may
// have. What the parse
// tree cannot show counts too, as for upLosesData: a DO block whose text holds a statement that
// destroys data, a call of a function whose code (code) holds one or cannot be read. "" when it does
// not. searchPath is what the deploy puts in front of the search path (migrate.Set.SearchPath, quoted;
// "" for none): an unqualified name stands for a table in that schema, else in public, so "users" and
// "app.users" are the same table when it is "app".
func downLosesData(m *migrate.Migration, earlier []*migrate.Migration, searchPath string, code map[string][]codeDef, cascades map[string]string) string {
	up, down := analyze(m.Up), analyze(m.Down)
	q := qualifier(searchPath)
	// What the up did is named as before it (analyze), what the down does as after it: up.before
	// names the down's tables and columns as before the up.
	created, added, rows, retyped := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]colType{}
	// The tables the up created and left standing: not one it created with IF NOT EXISTS, which may have
	// found the one that was there, nor one it created under the name of one it renamed away.
	for r := range up.madeTables {
		created[q(r)] = true
	}
	// The tables an earlier migration of the run created and left standing (by the names it left them):
	// they held no row before the run, and the rollback undoes that migration too.
	made, release := earlierMade(searchPath, earlier)
	defer release()
	fresh := made.created
	for rc := range up.AddedColumns {
		rel, col := cutColKey(rc)
		added[colKey(q(rel), col)] = true
	}
	for r := range up.touched {
		rows[q(r)] = true
	}
	for _, l := range up.Losses {
		if l.what == "type" {
			retyped[colKey(q(l.relation), l.column)] = l.typ // the type the down finds: the up's last
		}
	}
	for _, l := range down.Losses {
		rel, column := up.before(q, l.relation, l.column)
		at := fmt.Sprintf("%s:%d", m.Down.File, l.line)
		switch l.what {
		case "table":
			if !created[rel] {
				return fmt.Sprintf("%s drops table %s, which its up did not create", at, l.relation)
			}
		case "schema":
			if !up.CreatedSchemas[l.relation] {
				return fmt.Sprintf("%s drops schema %s with CASCADE, and every table in it, which its up did not create", at, l.relation)
			}
		case "column":
			if !created[rel] && !added[colKey(rel, column)] {
				return fmt.Sprintf("%s drops column %s.%s, which its up did not add", at, l.relation, l.column)
			}
		case "truncate", "delete":
			switch {
			case created[rel] || fresh[rel]:
			case l.all:
				// The up's rows go, and with them those that were there before the up.
				return fmt.Sprintf("%s empties %s, which neither its up nor an earlier migration of the run created: it deletes the rows that were there before the up, not only those the up wrote", at, l.relation)
			case !rows[rel]:
				return fmt.Sprintf("%s deletes rows of %s, which its up did not fill", at, l.relation)
			}
		case "type":
			col := colKey(rel, column)
			if created[rel] || added[col] {
				continue
			}
			was, ok := retyped[col]
			switch {
			case l.using:
				return fmt.Sprintf("%s changes the type of column %s.%s to %s with USING, a conversion that may lose data its up did not add", at, l.relation, l.column, l.typ)
			case !ok:
				return fmt.Sprintf("%s changes the type of column %s.%s to %s, which its up did not change: it may narrow it", at, l.relation, l.column, l.typ)
			case !widens(was, l.typ) && !widens(l.typ, was):
				return fmt.Sprintf("%s changes the type of column %s.%s from %s to %s, neither back from a widening nor a widening itself: it may lose data", at, l.relation, l.column, was, l.typ)
			}
			retyped[col] = l.typ
		case "cascade":
			created := up.CreatedExtensions[l.relation]
			if l.object != "extension" {
				created = false
				for t := range up.CreatedTypes {
					created = created || q(t) == q(l.relation)
				}
			}
			if !created {
				return fmt.Sprintf("%s drops %s %s with CASCADE, which its up did not create: it drops the columns that use it, with their data", at, l.object, l.relation)
			}
		case "owned":
			if !ownRoles(l.roles, up.CreatedRoles) || up.GivesOwnership || down.GivesOwnership {
				return fmt.Sprintf("%s drops every object role %s owns (DROP OWNED), tables included, which its up did not create", at, strings.Join(l.roles, ", "))
			}
		case "code":
			return fmt.Sprintf("%s runs %s, which may destroy data that was there before the up", at, l.ran())
		case "sequence":
			// A sequence its up made, or one of a column its up added, had no position before the up.
			switch col := colKey(rel, column); {
			case l.relation == "":
			case l.column != "" && (created[rel] || added[col] || hasCol(up.madeIdents, col, q) || made.idents[col]):
				continue
			case l.column == "" && (hasRel(up.madeSeqs, rel, q) || made.seqs[rel]):
				continue
			case maxSeq(l, q) != "":
				continue // past every key of its column
			}
			return seqLossLong(m.Down.File, l, "the rollback")
		}
	}
	// Emptying a table the run created may reach tables from before the run (links).
	var before []*migrate.Script
	for _, e := range earlier {
		before = append(before, e.Up)
	}
	if why, _ := linksLose(append(before, m.Up), m.Down, searchPath, cascades, false, nil); why != "" {
		return why
	}
	return calledCodeLoses(m.Down, down, code, "data that was there before the up")
}

// qualifier qualifies a relation name as the deploy resolves it: an unqualified name stands for a table in
// searchPath's schema (migrate.Set.SearchPath, quoted; "" for none), else in public.
func qualifier(searchPath string) func(string) string {
	sc := "public"
	if searchPath != "" {
		sc = unquoteIdent(searchPath)
	}
	return func(rel string) string {
		if rel == "" || len(schema.SplitKey(rel)) > 1 {
			return rel
		}
		return schema.KeyPart(sc) + "." + rel
	}
}

// ownRoles tells whether every role of roles is one of created (the script's own, whose objects are
// those it created).
func ownRoles(roles []string, created map[string]bool) bool {
	for _, r := range roles {
		if !created[r] {
			return false
		}
	}
	return true
}

// calledCodeLoses says which function that script s (whose effects are up) calls may destroy data, by
// what code says of it (see upLosesData), and says it may destroy what; "" when none may. The calls in
// the functions' bodies are followed (codeDef.calls), each function once, to maxCallDepth: deeper calls
// count as code that cannot be read.
func calledCodeLoses(s *migrate.Script, up *effects, code map[string][]codeDef, what string) string {
	if call, why, line := calledCodeLoss(up, code); call != "" {
		return fmt.Sprintf("%s:%d %s%s may destroy %s", s.File, line, call, why, what)
	}
	return ""
}

// Trigger events, as CREATE TRIGGER's parse tree (and pg_trigger.tgtype) holds them.
const (
	trigInsert   int32 = 1 << 2
	trigDelete   int32 = 1 << 3
	trigUpdate   int32 = 1 << 4
	trigTruncate int32 = 1 << 5
)

// calledCodeLoss is the first call (by its line) of those a script whose effects are up makes that may
// destroy data, what it is ("calls purge", "writes to orders, whose trigger bump (1_x.up.sql:2) calls
// bump"), why, as codeLoses says it, and its line; "" when none may. A write to a table fires the
// triggers the folder creates on it for that event (code's "on table" entries, see folderCode): their
// function runs as if the script called it there, whatever a migration does to the trigger between
// (it errs on the side of a loss).
func calledCodeLoss(up *effects, code map[string][]codeDef) (call, why string, line int) {
	type called struct {
		line    int
		f, call string
	}
	var cs []called
	for f := range up.Funcs {
		cs = append(cs, called{up.CalledAt[f], f, "calls " + f})
	}
	for t, evs := range up.Written {
		for _, c := range code["on "+t] {
			for ev, l := range evs {
				if c.events&ev == 0 {
					continue
				}
				for _, f := range c.calls {
					cs = append(cs, called{l, f, fmt.Sprintf("writes to %s, whose trigger %s (%s) calls %s", t, c.trigger, c.place, f)})
				}
			}
		}
	}
	slices.SortFunc(cs, func(a, b called) int { return cmp.Or(a.line-b.line, strings.Compare(a.call, b.call)) })
	for _, c := range cs {
		if why := codeLoses(c.f, code, map[string]bool{}, 1); why != "" {
			return c.call, why, c.line
		}
	}
	return "", "", 0
}

// loWriters are the built-in functions that destroy or overwrite the content of large objects, which the
// tables hold only by oid, and what they do to them. Called without a schema they are pg_catalog's,
// which the search path puts first. The others create (lo_create, lo_from_bytea, lo_import) or read.
var loWriters = map[string]string{
	"lo_unlink": "unlinks", "lo_put": "overwrites", "lowrite": "overwrites",
	"lo_truncate": "truncates", "lo_truncate64": "truncates",
}

// codeLoses says why function f (as a call names it) may destroy data, by what code says of it and of
// the functions it calls, as what follows "calls f" and comes before " may destroy": ", whose code
// (place) holds "DELETE FROM", which", ", which calls g, whose code cannot be read (...): it". "" when it
// may not. seen are the functions looked into already (each is looked into once: functions that call
// each other end), depth is how deep f is called.
func codeLoses(f string, code map[string][]codeDef, seen map[string]bool, depth int) string {
	n := bareName(f)
	if what := loWriters[n]; what != "" && (n == f || f == "pg_catalog."+n) {
		return fmt.Sprintf(", a built-in function that %s large objects, which", what)
	}
	if seen[n] {
		return ""
	}
	seen[n] = true
	for _, c := range code[n] {
		switch {
		case c.unknown:
			why := "neither the migration folder nor the database defines it"
			if c.place != "" {
				why = c.place
			}
			return fmt.Sprintf(", whose code cannot be read (%s): it", why)
		case c.destroys != "":
			return fmt.Sprintf(", whose code (%s) holds %q, which", c.place, c.destroys)
		case c.opaque != "":
			return fmt.Sprintf(", whose code (%s) %s: it", c.place, c.opaque)
		}
	}
	for _, c := range code[n] {
		for _, g := range c.calls {
			if depth >= maxCallDepth {
				return fmt.Sprintf(", whose calls nest more than %d deep and are not followed: it", maxCallDepth)
			}
			if why := codeLoses(g, code, seen, depth+1); why != "" {
				return ", which calls " + g + why
			}
		}
	}
	return ""
}

// castOfColumn tells whether expression x, a USING of ALTER COLUMN col TYPE, is col itself or a cast of
// it (col::integer, CAST(col AS bigint)): it converts each value as the type change without USING
// would, so what it keeps of them is the types' affair (widens, and the generated down's catalogs). A
// cast to a length (col::varchar(10)) is not: it cuts a value the change without USING refuses.
func castOfColumn(x *pg_query.Node, col string) bool {
	for x.GetTypeCast() != nil {
		if len(x.GetTypeCast().GetTypeName().GetTypmods()) > 0 {
			return false
		}
		x = x.GetTypeCast().Arg
	}
	fields := x.GetColumnRef().GetFields()
	return len(fields) > 0 && fields[len(fields)-1].GetString_().GetSval() == col
}

// exprSQL is expression x as SQL (length(a), d * 2), "" when it cannot be written.
func exprSQL(x *pg_query.Node) string {
	// The deparser wants the parser's tree version, which only a parse tells; such a USING is rare.
	tree, err := pg_query.Parse("SELECT")
	if err != nil {
		return ""
	}
	sel := &pg_query.SelectStmt{TargetList: []*pg_query.Node{{Node: &pg_query.Node_ResTarget{ResTarget: &pg_query.ResTarget{Val: x}}}}}
	sql, err := pg_query.Deparse(&pg_query.ParseResult{Version: tree.Version, Stmts: []*pg_query.RawStmt{{Stmt: &pg_query.Node{Node: &pg_query.Node_SelectStmt{SelectStmt: sel}}}}})
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(sql, "SELECT ")
}
