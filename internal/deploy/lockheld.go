package deploy

import (
	"context"
	"errors"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	pg_query "github.com/pganalyze/pg_query_go/v6"

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
// would.
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
		walk(st.Node.ProtoReflect(), func(cte *pg_query.CommonTableExpr) {
			if rv := writtenRelation(cte.GetCtequery()); rv != nil {
				ctes[rv] = true
			}
		})
		walk(st.Node.ProtoReflect(), func(rv *pg_query.RangeVar) {
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
