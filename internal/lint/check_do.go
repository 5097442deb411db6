package lint

import (
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

// doBlock follows what a PL/pgSQL DO block's body does with the timeouts (SET [LOCAL] lock_timeout,
// PERFORM set_config(…), RESET), read with PostgreSQL's PL/pgSQL parser. The lock the rehearsal sees
// the DO take is judged with the lock_timeout in effect at the body's statements that may take locks
// (the statement's facts); the settings stay after the block: SET LOCAL until the transaction ends
// (a DO outside a transaction block is its own transaction), SET until the session ends.
//
// The body's statements run in order; one inside IF, a loop or an inner block may not run, so a
// setting there counts only when it turns a timeout off.
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
	// Inside the body a transaction is always open: SET LOCAL holds until the block ends at least.
	lock, stmt := a.lockTimeout, a.stmtTimeout
	deployWhere, deployOK := a.deployTimeout("lock_timeout", func(e DeployEnvironment) time.Duration { return e.LockTimeout })
	var sets []timeoutSet
	locking, covered, byDeploy := 0, true, false
	var visit func(stmts []any, nested bool)
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
					if ts, ok := plTimeoutSets(node, field, kind == "PLpgSQL_stmt_perform"); ok {
						for _, t := range ts {
							if nested && t.on {
								continue // may not run
							}
							t.apply(&lock, &stmt, true)
							sets = append(sets, t)
						}
						continue
					}
				case "PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors", "PLpgSQL_stmt_fors", "PLpgSQL_stmt_call",
					"PLpgSQL_stmt_return_query", "PLpgSQL_stmt_open":
				default:
					// IF, CASE, loops, inner blocks: their statements may run (or not).
					plNested(node, func(inner []any) { visit(inner, true) })
					continue
				}
				// A statement that may take locks: judged with the lock_timeout in effect now.
				locking++
				switch {
				case lock.on():
				case !lock.off() && deployOK:
					byDeploy = true
				default:
					covered = false
				}
				plNested(node, func(inner []any) { visit(inner, true) }) // FOR … LOOP bodies
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
		a.facts.stmts[k] = sf
	}
	for _, t := range sets {
		t.apply(&a.lockTimeout, &a.stmtTimeout, a.inTx())
	}
}

// plTimeoutSets reads the SQL of a PL/pgSQL statement (node[field]): ok when it only changes timeouts
// (SET, RESET, PERFORM set_config(…)), with the changes it makes.
func plTimeoutSets(node map[string]any, field string, perform bool) (sets []timeoutSet, ok bool) {
	expr, _ := node[field].(map[string]any)
	e, _ := expr["PLpgSQL_expr"].(map[string]any)
	query, _ := e["query"].(string)
	if query == "" {
		return nil, false
	}
	stmts := sqlparse.Parse(query)
	if len(stmts) != 1 || stmts[0].Node == nil {
		return nil, false
	}
	n := stmts[0].Node
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
