package lint

import (
	"regexp"
	"strings"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// timeoutSet is one change of a timeout setting: SET [LOCAL] name = value, RESET, or set_config(name,
// value, is_local) with constant arguments. name is "lock_timeout" or "statement_timeout"; "" is RESET
// ALL (both off).
type timeoutSet struct {
	name      string
	on, local bool
}

// timeoutSets lists the timeout changes statement n makes, in order.
func timeoutSets(n *pg_query.Node) []timeoutSet {
	if v := n.GetVariableSetStmt(); v != nil {
		on := v.Kind == pg_query.VariableSetKind_VAR_SET_VALUE && !zeroSetting(v.Args)
		switch name := strings.ToLower(v.Name); {
		case v.Kind == pg_query.VariableSetKind_VAR_RESET_ALL:
			return []timeoutSet{{name: ""}}
		case name == "lock_timeout", name == "statement_timeout":
			return []timeoutSet{{name: name, on: on, local: v.IsLocal}}
		}
		return nil
	}
	if n.GetSelectStmt() == nil {
		return nil
	}
	var sets []timeoutSet
	walk(n, func(m proto.Message) {
		fc, ok := m.(*pg_query.FuncCall)
		if !ok || lastName(fc.Funcname) != "set_config" || len(fc.Args) != 3 {
			return
		}
		name := strings.ToLower(fc.Args[0].GetAConst().GetSval().GetSval())
		if fc.Args[1].GetAConst() == nil || fc.Args[2].GetAConst() == nil || name != "lock_timeout" && name != "statement_timeout" {
			return
		}
		sets = append(sets, timeoutSet{name: name, on: !zeroSetting([]*pg_query.Node{fc.Args[1]}),
			local: fc.Args[2].GetAConst().GetBoolval().GetBoolval()})
	})
	return sets
}

// apply records the change on the lock and statement timeouts; inTx says whether a transaction block
// is open (SET LOCAL does nothing without one).
func (s timeoutSet) apply(lock, stmt *timeout, inTx bool) {
	switch s.name {
	case "":
		lock.set(false, false, inTx)
		stmt.set(false, false, inTx)
	case "lock_timeout":
		lock.set(s.on, s.local, inTx)
	case "statement_timeout":
		stmt.set(s.on, s.local, inTx)
	}
}

// doCommitInTransaction raises do-commit-in-transaction for a DO block whose body COMMITs or ROLLBACKs
// in a transaction block (the tool's, or the file's own BEGIN): PostgreSQL refuses it there with
// "invalid transaction termination" (2D000). A CALL, or a DO calling a procedure, may commit too, but
// nothing in the file tells: those stay opaque-statement, for the rehearsal to run.
func (a *analyzer) doCommitInTransaction(n *pg_query.Node) {
	if !a.inTx() || !sqlparse.CommitsInside(n) {
		return
	}
	where := "in the transaction block the migration tool runs this migration in"
	if a.explicitTx && a.beginStmt != nil {
		where = "inside " + a.txOpened()
	}
	a.add("do-commit-in-transaction", "DO block runs COMMIT or ROLLBACK "+where+
		": PostgreSQL refuses it (invalid transaction termination, SQLSTATE 2D000) and the deploy fails")
}

// doBlock follows what a PL/pgSQL DO block's body does with the timeouts (SET [LOCAL] lock_timeout,
// PERFORM set_config(…), SELECT set_config(…) INTO, RESET), read with PostgreSQL's PL/pgSQL parser.
// The locks the rehearsal sees the DO take are judged with the lock_timeout in effect at the body's
// statements that may take them (the statement's facts): a lock on a relation the statements name,
// with the timeout in effect at each of them that may take SHARE or stronger on it (a SET between ALTER
// TABLE a and ALTER TABLE b covers b's lock, not a's); any other lock, or any lock when a
// statement that ran without a timeout may have locked relations it does not name (dynamic SQL, a
// function call, a DROP reaching other tables), with the block's as a whole: in effect only when it was
// at every such statement. The settings stay after the block: SET LOCAL until the transaction ends (a
// DO outside a transaction block is its own transaction), SET until the session ends.
//
// A DO run outside a transaction block may end its transaction (PostgreSQL 11+): COMMIT ends what SET
// LOCAL set, ROLLBACK also undoes what SET set since the transaction began (the DO's start, or the last
// COMMIT or ROLLBACK before it); the statements after them run in a new transaction. Inside a
// transaction block both fail (invalid transaction termination), and nothing after them runs.
//
// The body's statements run in order; one inside IF, a loop or an inner block may not run, so a
// setting there counts only when it turns a timeout off, and a COMMIT or ROLLBACK there leaves the
// worse of the timeouts with and without it.
func (a *analyzer) doBlock(d *pg_query.DoStmt) {
	tree, ok := sqlparse.DoBlockTree(d)
	if !ok {
		return
	}
	top, _ := tree.(map[string]any)
	block := plBlockBody(top)
	if block == nil {
		return
	}
	// Inside the body a transaction is always open: SET LOCAL holds until the block ends, or its
	// transaction does (start is how the timeouts stood when that transaction began).
	lock, stmt := a.lockTimeout, a.stmtTimeout
	start := timeouts{lock, stmt, a.utcZone}
	if a.inTx() {
		start = a.txStart
	}
	deployWhere, deployOK := a.deployTimeout("lock_timeout", func(e DeployEnvironment) time.Duration { return e.LockTimeout })
	locking, covered, byDeploy := 0, true, false
	rels, blind := map[string]relCover{}, false
	var visit func(stmts []any, nested bool)
	// visitNested visits the statements inside statement node of kind; a loop's body twice, for its
	// later rounds start with what the last one left (a COMMIT, or a timeout turned off, at its end).
	visitNested := func(kind string, node map[string]any) {
		rounds := 1
		if plLoops[kind] {
			rounds = 2
		}
		for range rounds {
			plNested(node, func(inner []any) { visit(inner, true) })
		}
	}
	visit = func(stmts []any, nested bool) {
		for _, s := range stmts {
			m, _ := s.(map[string]any)
			for kind, v := range m {
				node, _ := v.(map[string]any)
				switch kind {
				case "PLpgSQL_stmt_execsql", "PLpgSQL_stmt_perform":
					field := "sqlstmt"
					if kind == "PLpgSQL_stmt_perform" {
						field = "expr"
					}
					into, _ := node["into"].(bool)
					if ts, ok := plTimeoutSets(node, field, kind == "PLpgSQL_stmt_perform" || into); ok {
						for _, t := range ts {
							if nested && t.on {
								continue // may not run
							}
							t.apply(&lock, &stmt, true)
						}
						continue
					}
				case "PLpgSQL_stmt_commit", "PLpgSQL_stmt_rollback":
					// COMMIT AND CHAIN and ROLLBACK AND CHAIN end the transaction all the same.
					after := timeouts{lock, stmt, a.utcZone}
					if kind == "PLpgSQL_stmt_rollback" {
						after = start
					}
					after.lock.endTx()
					after.stmt.endTx()
					if nested {
						// It may not run: the worse of both, now and for a later ROLLBACK.
						after = timeouts{worse(lock, after.lock), worse(stmt, after.stmt), a.utcZone}
						if kind == "PLpgSQL_stmt_commit" {
							start = timeouts{worse(start.lock, after.lock), worse(start.stmt, after.stmt), a.utcZone}
						}
					} else if kind == "PLpgSQL_stmt_commit" {
						start = after
					}
					lock, stmt = after.lock, after.stmt
					continue
				case "PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors", "PLpgSQL_stmt_fors", "PLpgSQL_stmt_call",
					"PLpgSQL_stmt_return_query", "PLpgSQL_stmt_open":
				default:
					// IF, CASE, loops, inner blocks: their statements may run (or not).
					visitNested(kind, node)
					continue
				}
				// A statement that may take locks: judged with the lock_timeout in effect now.
				locking++
				cover := relCover{covered: true}
				switch {
				case lock.on():
				case !lock.off() && deployOK:
					byDeploy, cover.deploy = true, deployWhere
				default:
					covered, cover.covered = false, false
				}
				targets, known := a.plLockTargets(kind, node)
				blind = blind || !known && !cover.covered
				// A later statement may take a stronger lock on a relation than an earlier one did, and wait
				// for it: any statement naming it without a timeout leaves it uncovered.
				for _, r := range targets {
					if c, seen := rels[r]; !seen || !cover.covered || c.covered && c.deploy == "" {
						rels[r] = cover
					}
				}
				visitNested(kind, node) // FOR … LOOP bodies
			}
		}
	}
	visit(block, false)
	if locking > 0 && a.stmt != nil {
		k := [2]int{a.stmt.Pos.Line, a.stmt.Pos.Column}
		sf := a.facts.stmts[k]
		sf.lockTimeout, sf.deploy = covered, ""
		if covered && byDeploy {
			sf.deploy = deployWhere
		}
		if !blind && len(rels) > 0 {
			sf.relTimeout = rels
		}
		a.facts.stmts[k] = sf
	}
	// What the body left stands after the block, but its SET LOCAL only while a transaction block
	// the DO runs in is open.
	a.lockTimeout, a.stmtTimeout = lock, stmt
	if !a.inTx() {
		a.lockTimeout.endTx()
		a.stmtTimeout.endTx()
	}
	// The body's time zone changes are not followed: one that names the setting leaves the session's
	// zone unknown, so no later type change counts on UTC.
	if a.stmt != nil && zoneWords.MatchString(a.stmt.SQL) {
		a.utcZone.set(false, false, a.inTx())
	}
}

// zoneWords matches text that may change the session's TimeZone (SET TIME ZONE, SET timezone,
// set_config('TimeZone', …)).
var zoneWords = regexp.MustCompile(`(?i)time\s*zone`)

// plLoops are the PL/pgSQL statements whose body may run more than once.
var plLoops = map[string]bool{"PLpgSQL_stmt_loop": true, "PLpgSQL_stmt_while": true, "PLpgSQL_stmt_fori": true, "PLpgSQL_stmt_fors": true,
	"PLpgSQL_stmt_forc": true, "PLpgSQL_stmt_foreach_a": true, "PLpgSQL_stmt_dynfors": true}

// plSQL parses the SQL of a PL/pgSQL statement (node[field]); nil when it is not one statement.
func plSQL(node map[string]any, field string) *pg_query.Node {
	expr, _ := node[field].(map[string]any)
	e, _ := expr["PLpgSQL_expr"].(map[string]any)
	query, _ := e["query"].(string)
	if query == "" {
		return nil
	}
	stmts := sqlparse.Parse(query)
	if len(stmts) != 1 {
		return nil
	}
	return stmts[0].Node
}

// plTimeoutSets reads the SQL of a PL/pgSQL statement (node[field]): ok when it only changes timeouts
// (SET, RESET, PERFORM set_config(…), or SELECT set_config(…) INTO: perform), with the changes it makes.
func plTimeoutSets(node map[string]any, field string, perform bool) (sets []timeoutSet, ok bool) {
	n := plSQL(node, field)
	if n == nil {
		return nil, false
	}
	sets = timeoutSets(n)
	if n.GetVariableSetStmt() != nil {
		return sets, true // another setting changes no lock either
	}
	// PERFORM set_config(…): only when the query is nothing but set_config calls.
	sel := n.GetSelectStmt()
	if !perform || len(sets) == 0 || sel == nil || sel.FromClause != nil || sel.WhereClause != nil || len(sets) != len(sel.TargetList) {
		return nil, false
	}
	return sets, true
}

// plNested calls fn with each list of statements directly inside a PL/pgSQL statement (then_body,
// else_body, elsif_list's bodies, loop bodies, an inner block's body, exception handlers' actions).
func plNested(v any, fn func([]any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			if list, ok := sub.([]any); ok && (k == "body" || k == "then_body" || k == "else_body" || k == "action" || k == "stmts" || k == "else_stmts") {
				fn(list)
				continue
			}
			if strings.HasPrefix(k, "PLpgSQL_stmt_") {
				continue // a statement inside a list already given
			}
			plNested(sub, fn)
		}
	case []any:
		for _, sub := range v {
			plNested(sub, fn)
		}
	}
}

// plBlockBody is the statement list of the function's outermost block.
func plBlockBody(top map[string]any) []any {
	fn, _ := top["PLpgSQL_function"].(map[string]any)
	action, _ := fn["action"].(map[string]any)
	block, _ := action["PLpgSQL_stmt_block"].(map[string]any)
	body, _ := block["body"].([]any)
	return body
}

// plLockTargets lists the relations (as the trace names them) that a statement of a DO block's body
// (kind, node) may take SHARE or a stronger lock on. known is false when it may also lock relations it
// does not name, or its SQL is not at hand: dynamic SQL, a function call (which may run anything), a
// cursor or loop over a query, ALTER TABLE subcommands that lock the other side of a foreign key or
// another partition (DROP CONSTRAINT, DROP COLUMN, ALTER COLUMN TYPE, ATTACH/DETACH PARTITION), CREATE
// TABLE … PARTITION OF (the DEFAULT partition), DROP (the index's table, tables reached by foreign
// key), TRUNCATE … CASCADE, and any statement not listed here. Reads and row changes take ROW EXCLUSIVE
// at most, which queues nothing: no targets. Indexes and TOAST of a named table go unnamed; their
// locks follow the table's.
func (a *analyzer) plLockTargets(kind string, node map[string]any) (rels []string, known bool) {
	var n *pg_query.Node
	switch kind {
	case "PLpgSQL_stmt_execsql":
		n = plSQL(node, "sqlstmt")
	case "PLpgSQL_stmt_perform":
		n = plSQL(node, "expr")
	}
	if n == nil || calledFunction(n) != "" {
		return nil, false
	}
	switch {
	case n.GetSelectStmt() != nil, n.GetInsertStmt() != nil, n.GetUpdateStmt() != nil, n.GetDeleteStmt() != nil, n.GetMergeStmt() != nil:
		return nil, true
	case n.GetAlterTableStmt() != nil:
		at := n.GetAlterTableStmt()
		if at.Objtype != pg_query.ObjectType_OBJECT_TABLE {
			return nil, false
		}
		for _, c := range at.Cmds {
			switch c.GetAlterTableCmd().GetSubtype() {
			case pg_query.AlterTableType_AT_DropConstraint, pg_query.AlterTableType_AT_DropColumn, pg_query.AlterTableType_AT_AlterColumnType,
				pg_query.AlterTableType_AT_AttachPartition, pg_query.AlterTableType_AT_DetachPartition, pg_query.AlterTableType_AT_DetachPartitionFinalize:
				return nil, false
			}
		}
	case n.GetCreateStmt() != nil:
		if n.GetCreateStmt().Partbound != nil {
			return nil, false
		}
	case n.GetTruncateStmt() != nil:
		if n.GetTruncateStmt().Behavior == pg_query.DropBehavior_DROP_CASCADE {
			return nil, false
		}
	case n.GetRenameStmt() != nil, n.GetAlterObjectSchemaStmt() != nil:
		if n.GetRenameStmt().GetRelation() == nil && n.GetAlterObjectSchemaStmt().GetRelation() == nil {
			return nil, false
		}
	case n.GetIndexStmt() != nil, n.GetCreateTrigStmt() != nil, n.GetLockStmt() != nil, n.GetRefreshMatViewStmt() != nil, n.GetViewStmt() != nil,
		n.GetCreatePolicyStmt() != nil, n.GetAlterPolicyStmt() != nil, n.GetRuleStmt() != nil:
	default:
		return nil, false
	}
	walk(n, func(m proto.Message) {
		if rv, ok := m.(*pg_query.RangeVar); ok {
			rels = append(rels, traceName(a.st.rel(rv)))
		}
	})
	return rels, true
}

// traceName is the name the rehearsal's trace gives the relation of state key key: schema and name,
// each as quote_ident writes it.
func traceName(key string) string {
	return quoteIdent(keySchema(key)) + "." + quoteIdent(bare(key))
}
