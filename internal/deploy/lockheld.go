package deploy

import (
	"context"
	"errors"
	"maps"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// completed counts the statements of a multi-statement query that ended without error: the index of
// the one that failed.
func completed(results []*pgconn.Result) int {
	n := 0
	for _, r := range results {
		if r == nil || r.Err != nil {
			break
		}
		n++
	}
	return n
}

// tupleWait reads the row a lock_timeout ended a wait for from the error's context ("while updating
// tuple (0,1) in relation "app_settings""): its ctid and its relation's name, unqualified.
var tupleWait = regexp.MustCompile(`tuple (\([0-9]+,[0-9]+\)) in relation "([^\n]*)"`)

// heldAfterTimeout names who held the lock that lock_timeout (err) ended a wait for, on conn (outside a
// transaction), once the wait is over and pg_locks no longer shows it: the holder of the row the error
// names, or else the sessions holding a lock that conflicts with what the failed statement (statement
// failed of sql, counted from 0) needs on the tables it names. The sessions that held the lock are
// normally still there: a lock that made a wait time out is held longer than lock_timeout. Best effort:
// nothing when it cannot tell (the statement is a DO block or calls a function).
func heldAfterTimeout(ctx context.Context, conn *pgx.Conn, err error, sql string, failed int) lockSeen {
	if conn == nil || conn.IsClosed() || conn.PgConn().TxStatus() != 'I' {
		return lockSeen{}
	}
	needs := statementLocks(sql, failed)
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		if m := tupleWait.FindStringSubmatch(pe.Where); m != nil {
			rel := pgx.Identifier{m[2]}.Sanitize()
			for r, need := range needs {
				if need.name == m[2] {
					rel = r // the name as the statement wrote it, qualified where it was
					break
				}
			}
			if seen := rowHolders(ctx, conn, rel, m[1]); len(seen.holders) > 0 {
				return seen
			}
		}
	}
	var seen lockSeen
	for rel, need := range needs {
		holders := lockHolders(ctx, conn, need.mode, rel)
		if len(holders) == 0 {
			continue
		}
		if seen.table == "" {
			_ = conn.QueryRow(context.WithoutCancel(ctx), `SELECT format('%I.%I', n.nspname, c.relname)
				FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`, rel).Scan(&seen.table)
		}
		seen.holders = append(seen.holders, holders...)
	}
	return seen
}

// rowHolders describes the sessions holding a lock on the row at ctid of rel (as to_regclass reads it):
// the transaction whose id the row's xmax holds, among the sessions holding a lock on rel. A row locked
// by several transactions at once (FOR SHARE, a multixact) is put down to those of them that hold a
// lock on rel and have a transaction id.
func rowHolders(ctx context.Context, conn *pgx.Conn, rel, ctid string) lockSeen {
	ctx = context.WithoutCancel(ctx)
	var seen lockSeen
	var reg string
	if err := conn.QueryRow(ctx, `SELECT c.oid::regclass::text, format('%I.%I', n.nspname, c.relname)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`, rel).Scan(&reg, &seen.table); err != nil {
		return lockSeen{}
	}
	var xmax string
	if err := conn.QueryRow(ctx, "SELECT xmax::text FROM "+reg+" WHERE ctid = $1::tid", ctid).Scan(&xmax); err != nil {
		xmax = ""
	}
	rows, err := conn.Query(ctx, `
		WITH holders AS (
		  SELECT a.pid, a.backend_xid::text = $2 AS exact FROM pg_stat_activity a
		   WHERE a.pid <> pg_backend_pid() AND a.backend_xid IS NOT NULL
		     AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.relation = $1::regclass AND l.granted))
		SELECT 'a row of ' || $3 || ' is locked ' || `+holderSQL("h.pid")+`
		  FROM holders h JOIN pg_stat_activity a ON a.pid = h.pid
		 WHERE h.exact OR NOT EXISTS (SELECT 1 FROM holders WHERE exact)
		 ORDER BY h.pid LIMIT 5`, reg, xmax, seen.table)
	if err != nil {
		return lockSeen{}
	}
	if seen.holders, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return lockSeen{}
	}
	return seen
}

// lockNeed is a table lock a statement takes: its mode (pg_locks' name) and the table's name, unqualified.
type lockNeed struct{ mode, name string }

// statementLocks reads from the parse tree of statement i of sql (of every statement, when i is past
// them) the tables it names, as to_regclass reads them, and the table lock mode (pg_locks' name) it
// takes on each: what its target is written with (an INSERT, UPDATE, DELETE or MERGE:
// RowExclusiveLock; SELECT ... FOR UPDATE: RowShareLock; LOCK TABLE: its mode; TRUNCATE and other
// commands: AccessExclusiveLock, the strongest, which any held lock conflicts with), AccessShareLock for
// the tables it only reads. The target of an INSERT, UPDATE, DELETE or MERGE in a WITH clause (a
// data-modifying CTE: WITH u AS (UPDATE ...) SELECT ...) takes RowExclusiveLock, as the statement alone
// would. The names of WITH clauses (WITH u AS (...) SELECT * FROM u) are not tables, where they are
// visible (see relations).
func statementLocks(sql string, i int) map[string]lockNeed {
	stmts := sqlparse.Parse(sql)
	if i < len(stmts) {
		stmts = stmts[i : i+1]
	}
	out := map[string]lockNeed{}
	for _, st := range stmts {
		if st.Node == nil {
			continue
		}
		target, mode := map[*pg_query.RangeVar]bool{}, "AccessExclusiveLock"
		switch n := st.Node.Node.(type) {
		case *pg_query.Node_InsertStmt:
			target[n.InsertStmt.GetRelation()], mode = true, "RowExclusiveLock"
		case *pg_query.Node_UpdateStmt:
			target[n.UpdateStmt.GetRelation()], mode = true, "RowExclusiveLock"
		case *pg_query.Node_DeleteStmt:
			target[n.DeleteStmt.GetRelation()], mode = true, "RowExclusiveLock"
		case *pg_query.Node_MergeStmt:
			target[n.MergeStmt.GetRelation()], mode = true, "RowExclusiveLock"
		case *pg_query.Node_SelectStmt:
			mode = "AccessShareLock"
			if len(n.SelectStmt.GetLockingClause()) > 0 {
				mode = "RowShareLock"
			}
		case *pg_query.Node_LockStmt:
			mode = lockStmtModes[n.LockStmt.GetMode()]
			if mode == "" {
				mode = "AccessExclusiveLock"
			}
		case *pg_query.Node_DoStmt, *pg_query.Node_CallStmt:
			continue // what they lock is in their code
		}
		write := mode != "AccessShareLock" && len(target) == 0 // every table the statement names is its target
		ctes := map[*pg_query.RangeVar]bool{}
		sqlparse.Walk(st.Node.ProtoReflect(), func(cte *pg_query.CommonTableExpr) {
			if rv := writtenRelation(cte.GetCtequery()); rv != nil {
				ctes[rv] = true
			}
		})
		relations(st.Node.ProtoReflect(), nil, func(rv *pg_query.RangeVar) {
			name := pgx.Identifier{rv.GetRelname()}
			if rv.GetSchemaname() != "" {
				name = pgx.Identifier{rv.GetSchemaname(), rv.GetRelname()}
			}
			m := "AccessShareLock"
			if write || target[rv] {
				m = mode
			}
			if ctes[rv] && len(lockConflicts["RowExclusiveLock"]) > len(lockConflicts[m]) {
				m = "RowExclusiveLock"
			}
			if prev, ok := out[name.Sanitize()]; !ok || len(lockConflicts[m]) > len(lockConflicts[prev.mode]) {
				out[name.Sanitize()] = lockNeed{mode: m, name: rv.GetRelname()}
			}
		})
	}
	return out
}

// relations calls f for every table that the parse tree m names, leaving out the references to a WITH
// clause's query (a CTE): an unqualified name that a WITH clause around it defines, in the statement that
// holds the clause (subqueries included) and in the queries of the clause that come after the one
// defining it (all of them, with RECURSIVE). ctes are the names visible at m. The target of an INSERT,
// UPDATE, DELETE or MERGE is always a table, even when a CTE has its name, and a qualified name too.
func relations(m protoreflect.Message, ctes map[string]bool, f func(*pg_query.RangeVar)) {
	var with *pg_query.WithClause
	var target *pg_query.RangeVar
	switch x := m.Interface().(type) {
	case *pg_query.RangeVar:
		if x.GetSchemaname() != "" || !ctes[x.GetRelname()] {
			f(x)
		}
		return
	case *pg_query.SelectStmt:
		with = x.GetWithClause()
	case *pg_query.InsertStmt:
		with, target = x.GetWithClause(), x.GetRelation()
	case *pg_query.UpdateStmt:
		with, target = x.GetWithClause(), x.GetRelation()
	case *pg_query.DeleteStmt:
		with, target = x.GetWithClause(), x.GetRelation()
	case *pg_query.MergeStmt:
		with, target = x.GetWithClause(), x.GetRelation()
	}
	if with != nil {
		scope := func(n int) map[string]bool {
			s := maps.Clone(ctes)
			if s == nil {
				s = map[string]bool{}
			}
			for _, c := range with.GetCtes()[:n] {
				s[c.GetCommonTableExpr().GetCtename()] = true
			}
			return s
		}
		for i, c := range with.GetCtes() {
			visible := i
			if with.GetRecursive() {
				visible = len(with.GetCtes())
			}
			if q := c.GetCommonTableExpr().GetCtequery(); q != nil {
				relations(q.ProtoReflect(), scope(visible), f)
			}
		}
		ctes = scope(len(with.GetCtes()))
	}
	if target != nil {
		f(target)
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Name() == "with_clause" && with != nil, fd.Name() == "relation" && target != nil:
		case fd.IsList():
			if fd.Kind() == protoreflect.MessageKind {
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					relations(l.Get(i).Message(), ctes, f)
				}
			}
		case fd.IsMap():
		case fd.Kind() == protoreflect.MessageKind:
			relations(v.Message(), ctes, f)
		}
		return true
	})
}

// writtenRelation is the table n writes to when it is an INSERT, UPDATE, DELETE or MERGE; nil otherwise.
func writtenRelation(n *pg_query.Node) *pg_query.RangeVar {
	switch n := n.GetNode().(type) {
	case *pg_query.Node_InsertStmt:
		return n.InsertStmt.GetRelation()
	case *pg_query.Node_UpdateStmt:
		return n.UpdateStmt.GetRelation()
	case *pg_query.Node_DeleteStmt:
		return n.DeleteStmt.GetRelation()
	case *pg_query.Node_MergeStmt:
		return n.MergeStmt.GetRelation()
	}
	return nil
}

// lockStmtModes are LOCK TABLE's modes as the parse tree numbers them (lockdefs.h), by pg_locks' name.
var lockStmtModes = map[int32]string{
	1: "AccessShareLock", 2: "RowShareLock", 3: "RowExclusiveLock", 4: "ShareUpdateExclusiveLock",
	5: "ShareLock", 6: "ShareRowExclusiveLock", 7: "ExclusiveLock", 8: "AccessExclusiveLock",
}
