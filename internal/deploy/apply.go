package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// sqlstateLockNotAvailable is lock_timeout's error (and NOWAIT's).
const sqlstateLockNotAvailable = "55P03"

// sqlstateTransactionTimeout is transaction_timeout's error (PostgreSQL 17+), with which the server
// ends the session: FATAL, the connection is closed.
const sqlstateTransactionTimeout = "25P04"

// transactionTimedOut tells whether the server ended the session of err because its transaction outlasted
// transaction_timeout.
func transactionTimedOut(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == sqlstateTransactionTimeout
}

// applier runs scripts on the work connection with the environment's timeouts and lock-timeout retries.
type applier struct {
	conn *pgx.Conn
	// session is SQL that sets the deploy's own session settings again after a reset.
	session     string
	lockTimeout time.Duration
	// statementTimeout is the limit in force (see deployer.statementTimeout); 0 for none, when the
	// session's own, which the reset gives back, is none too.
	statementTimeout time.Duration
	// transactionTimeout is the transaction_timeout in force (see deployer.transactionTimeout); 0 for
	// none, which the session's settings (keepSessionSQL) leave it at.
	transactionTimeout time.Duration
	retries            int
	backoff            time.Duration
	clock              Clock
	// retrying is told about each retry.
	retrying func(m *migrate.Migration, attempt int, wait time.Duration, err error)
	// window, when set, is asked before each retry of migration m whether its attempt may still start
	// once the backoff of wait is over, and again when it is over (wait 0); it returns why not (see
	// deployer.retryWindow). The deploy's migrations have one; a rollback's downs have none.
	window func(m *migrate.Migration, attempt int, wait time.Duration) (closed string, ok bool)
	// own is told the transaction id of each transaction the applier ran a script in, when it took one,
	// and of each statement of a non-transactional script that may write rows (ownTx): the writes of
	// those transactions are the deploy's own (see foreignWrites).
	own func(xid int64)
	// recordOwn records such an id in the transaction it belongs to (q runs in it), so that --recover
	// knows it for the run's own should the process die (see recordOwnXID); nil records nothing.
	recordOwn func(ctx context.Context, q execer, xid int64) error
	// unwatch, when set, is called before a statement that waits for every transaction with an older
	// snapshot (waitsForOlderSnapshots), at place (file:line), and returns what to call once it is over:
	// the deploy's own transaction that marks the snapshot's moment must not be open meanwhile.
	unwatch func(ctx context.Context, place string) (rewatch func())
	// before, when set, is called before each script runs (see deployer.beforeScript).
	before func(ctx context.Context, s *migrate.Script)
	// ownStatements runs the statements of a non-transactional script that may write rows in a
	// transaction block of their own, to tell own their ids (see ownTx): when a snapshot restore or the
	// row counts' check may need to tell the deploy's writes from other sessions'.
	ownStatements bool
	// inOwnTx is set while a statement runs in the transaction block ownTx opened for it.
	inOwnTx bool
	// note is told what the applier did beyond the script: a timeout the script would have lifted, put
	// back; an INVALID index a failed statement left, dropped.
	note func(msg string)
	// started, when set, is told before statement i (from 0) of a non-transactional up starts outside a
	// transaction block: the statements before it have completed (see history.started).
	started func(i int)
	// files names the scripts' files as the report does (Options.file); nil leaves them as they are.
	files *Options
}

// named names the file of err's statement as the report does (Options.named).
func (a *applier) named(err error) error {
	if a.files == nil {
		return err
	}
	return a.files.named(err)
}

// file names a script's file as the report does (Options.file).
func (a *applier) file(file string) string {
	if a.files == nil {
		return file
	}
	return a.files.file(file)
}

// step is one script run: its outcome and how many statements of it committed (outside a transaction).
type step struct {
	attempts int
	duration time.Duration
	// executed counts statements that ran to completion and stay (non-transactional scripts): each
	// statement outside the script's own BEGIN ... COMMIT, and each such block at its COMMIT.
	executed int
	// committing is set when the script and its record ran and the COMMIT was under way: a connection
	// lost then leaves it unknown whether the transaction committed.
	committing bool
	// done are the statements (indexes, from 0) of a non-transactional script that completed and stay,
	// as executed counts them; partly, when not -1, is a failed one that may have committed part of its
	// work (a CALL, a DO block that commits).
	done   []int
	partly int
}

// run applies script s of m in its transaction mode. inTx, when set, runs inside the transaction just
// before COMMIT (the history row), so the script and its record commit together.
func (a *applier) run(ctx context.Context, m *migrate.Migration, s *migrate.Script, inTx func(pgx.Tx) error) (step, error) {
	var st step
	start := a.clock.Now()
	defer func() { st.duration = a.clock.Now().Sub(start) }()
	if a.before != nil && s != nil {
		a.before(ctx, s)
	}
	noTx := m.NoTransaction
	if s != nil && s != m.Up {
		noTx = s.NoTransaction
	}
	if noTx {
		err := a.runOutside(ctx, m, s, &st)
		// What the script SET (a role, search_path, a lifted timeout) must reach neither the history row
		// nor what the deploy runs next on this session after a failure: its history, a rollback, whose
		// lock waits the session's own lock_timeout bounds.
		if rerr := a.reset(context.WithoutCancel(ctx), a.conn, true); err == nil {
			err = rerr
		}
		if err == nil && inTx != nil {
			err = explain(ctx, a.conn, pgx.BeginFunc(ctx, a.conn, inTx))
		}
		st.duration = a.clock.Now().Sub(start)
		return st, a.named(stoppedBy(ctx, err))
	}
	for {
		st.attempts++
		st.committing = false
		err := pgx.BeginFunc(ctx, a.conn, func(tx pgx.Tx) error {
			if err := a.reset(ctx, tx, false); err != nil {
				return err
			}
			if err := a.setTimeouts(ctx, tx, "SET LOCAL"); err != nil {
				return err
			}
			if err := a.exec(ctx, s); err != nil {
				return err
			}
			// What the script SET (search_path, a role) must not reach the history row, nor the
			// next migration.
			if err := a.reset(ctx, tx, true); err != nil {
				return err
			}
			if inTx != nil {
				if err := inTx(tx); err != nil {
					return err
				}
			}
			if a.own != nil {
				var xid *int64
				if err := tx.QueryRow(ctx, ownXIDSQL).Scan(&xid); err != nil {
					return err
				}
				if xid != nil {
					a.own(*xid)
					if a.recordOwn != nil {
						if err := a.recordOwn(ctx, tx, *xid); err != nil {
							return err
						}
					}
				}
			}
			st.committing = true
			return nil
		})
		if err == nil {
			st.duration = a.clock.Now().Sub(start)
			return st, nil
		}
		// A lock wait of the history row: who held the lock, now that the transaction is over.
		err = explain(ctx, a.conn, err)
		if stop := a.retry(ctx, m, st.attempts, err); stop != nil {
			st.duration = a.clock.Now().Sub(start)
			a.noteHolders(ctx, m, err)
			return st, a.named(stoppedBy(ctx, commitErr(s, stop)))
		}
	}
}

// runOutside runs a non-transactional script statement by statement, retrying only the statement that
// hit a lock timeout (the ones before it stay done).
func (a *applier) runOutside(ctx context.Context, m *migrate.Migration, s *migrate.Script, st *step) error {
	st.partly = -1
	if err := a.reset(ctx, a.conn, false); err != nil {
		return err
	}
	if err := a.setTimeouts(ctx, a.conn, "SET"); err != nil {
		return err
	}
	if s == nil {
		return nil
	}
	block := -1 // the statement that opened the script's own transaction block, while one is open
	for i := range s.Statements {
		stmt := &s.Statements[i]
		one := &migrate.Script{File: s.File, SQL: s.SQL, Start: s.Start, Statements: s.Statements[i : i+1]}
		if a.conn.PgConn().TxStatus() == 'I' {
			block = i
		}
		if a.started != nil && s == m.Up && a.conn.PgConn().TxStatus() == 'I' {
			a.started(i) // a statement the script's own block holds completes only at its COMMIT
		}
		if sqlparse.OpensOrCommits(stmt.Node) || sqlparse.EndsTransaction(stmt.Node) {
			// The script's own BEGIN, COMMIT or ROLLBACK runs as written (as golang-migrate and psql run
			// it); a.exec would take a COMMIT inside the block BEGIN opened for its caller's and skip it.
			if err := pg.ExecStatement(ctx, a.conn, stmt); err != nil {
				return a.abandonBlock(pg.Positioned(s, stmt, err))
			}
			if a.conn.PgConn().TxStatus() == 'I' {
				st.executed++ // a COMMIT: the block's work stays
				for j := block; j <= i && sqlparse.Commits(stmt.Node); j++ {
					st.done = append(st.done, j)
				}
			}
			continue
		}
		inBlock := a.conn.PgConn().TxStatus() != 'I' // inside the script's own BEGIN: a retry cannot resume it
		table, valid, err := a.invalidBefore(ctx, stmt)
		if err != nil {
			return a.abandonBlock(pg.Positioned(s, stmt, err))
		}
		if err := a.runStatement(ctx, m, s, i, one, inBlock, table, valid, st); err != nil {
			return err
		}
	}
	// A script that ends inside a block it opened (BEGIN with no COMMIT after it) is an error at that
	// BEGIN, its block rolled back as psql rolls it back: what ran before the block stays done (executed).
	return pg.EndsIdle(ctx, a.conn, s, nil)
}

// runStatement runs statement i of a non-transactional script s (one: a script of it alone), retrying it
// after a lock timeout; inBlock tells that it runs inside the script's own BEGIN; table and valid are
// invalidBefore's.
func (a *applier) runStatement(ctx context.Context, m *migrate.Migration, s *migrate.Script, i int, one *migrate.Script,
	inBlock bool, table string, valid []uint32, st *step) error {
	stmt := &s.Statements[i]
	if a.unwatch != nil && !inBlock && waitsForOlderSnapshots(stmt.Node) {
		defer a.unwatch(ctx, fmt.Sprintf("%s:%d", s.File, stmt.Pos.Line))()
	}
	own := !inBlock && a.ownStatements && a.own != nil && ownTx(stmt.Node)
	attempt := 0
	for {
		attempt++
		st.attempts = max(st.attempts, attempt)
		var err error
		if own {
			err = a.execOwn(ctx, s, stmt, one)
		} else {
			err = a.exec(ctx, one)
		}
		if err == nil {
			if !inBlock {
				st.executed++ // committed by itself; inside the script's own block it stays only at its COMMIT
				st.done = append(st.done, i)
			}
			break
		}
		// A statement a signal stopped names it ("canceled: received SIGTERM"), before what follows wraps
		// it: the report takes the statement's own message.
		err = stoppedBy(ctx, err)
		mayHaveCommitted := sqlparse.MayEndTransaction(stmt.Node)
		if mayHaveCommitted {
			// A DO block that commits or a CALL may have committed part of its work before it
			// failed: the migration is half done, not undone.
			st.executed++
			st.partly = i
		}
		if inBlock {
			return a.abandonBlock(err)
		}
		if mayHaveCommitted {
			// Not retried after a lock timeout either: run again, it would apply the part it
			// committed a second time (a balance raised twice). The migration stops half way.
			a.noteHolders(ctx, m, err)
			return err
		}
		if table != "" {
			// A failed CREATE INDEX or REINDEX ... CONCURRENTLY leaves an INVALID index behind, which
			// every later write keeps up to date: drop it, before a retry too.
			// Clean-up: it runs when a signal stopped the statement too.
			if derr := a.dropNewInvalid(context.WithoutCancel(ctx), table, valid); derr != nil {
				return fmt.Errorf("%w; and dropping the INVALID index it left failed: %v", err, derr)
			}
		}
		if stop := a.retry(ctx, m, attempt, err); stop != nil {
			a.noteHolders(ctx, m, err)
			return stop
		}
	}
	return nil
}

// ownXIDSQL reads the id of the transaction a migration's statements ran in, on their session, where
// they may have set the search path (SET search_path = public, pg_catalog) or made temporary relations,
// whose row types the session finds before pg_catalog's types when the path does not list pg_temp
// (CREATE TEMP TABLE text ...): what it names is pg_catalog's by name. So are the names of the other
// queries the applier runs between a migration's statements (invalidBefore, dropNewInvalid, exec's read
// of the timeouts): a temporary view pg_settings that showed statement_timeout within the deploy's limit
// let a migration's SET statement_timeout = 0 go unseen, and a public.pg_index or public.to_regclass(text)
// could have had the clean-up of a failed CREATE INDEX CONCURRENTLY drop another index.
const ownXIDSQL = "SELECT pg_catalog.pg_current_xact_id_if_assigned()::pg_catalog.text::pg_catalog.int8"

// ownTx tells a statement of a non-transactional script that the deploy runs in a transaction block of
// its own, to learn the transaction's id (see applier.own): one that may write the application's rows
// (DML, a SELECT or DO block that may call a function that writes, COPY, CREATE TABLE AS, an ALTER TABLE
// that may rewrite its table) and runs in a transaction block as it runs alone. The others write no rows
// of the application's tables (CREATE INDEX CONCURRENTLY, VACUUM, SET, CREATE TABLE...), or cannot run
// in a transaction block (a CALL or a DO block that may commit: their writes count as another session's).
func ownTx(n *pg_query.Node) bool {
	if n == nil || sqlparse.NeedsAutocommit(n) || sqlparse.MayEndTransaction(n) {
		return false
	}
	switch n.Node.(type) {
	case *pg_query.Node_InsertStmt, *pg_query.Node_UpdateStmt, *pg_query.Node_DeleteStmt, *pg_query.Node_MergeStmt,
		*pg_query.Node_SelectStmt, *pg_query.Node_CopyStmt, *pg_query.Node_CreateTableAsStmt, *pg_query.Node_AlterTableStmt,
		*pg_query.Node_ExecuteStmt, *pg_query.Node_ExplainStmt, *pg_query.Node_RefreshMatViewStmt, *pg_query.Node_DoStmt:
		return true
	}
	return false
}

// execOwn runs statement stmt of script s (one: a script of it alone) in a transaction block of its own,
// as a statement that commits by itself, and tells own the block's transaction id. What it SETs at the
// session's level stays after the COMMIT, as it would alone.
func (a *applier) execOwn(ctx context.Context, s *migrate.Script, stmt *sqlparse.Statement, one *migrate.Script) error {
	if _, err := a.conn.Exec(ctx, "BEGIN"); err != nil {
		return pg.Positioned(s, stmt, err)
	}
	a.inOwnTx = true
	err := a.exec(ctx, one)
	a.inOwnTx = false
	if err == nil {
		var xid *int64
		if err = a.conn.QueryRow(ctx, ownXIDSQL).Scan(&xid); err == nil && xid != nil {
			a.own(*xid)
			if a.recordOwn != nil {
				err = a.recordOwn(ctx, a.conn, *xid)
			}
		}
		if err != nil {
			err = pg.Positioned(s, stmt, err)
		}
	}
	if err != nil {
		// pg.Rollback: the statement's own SET LOCAL statement_timeout may cancel one ROLLBACK.
		if rerr := pg.Rollback(ctx, a.conn); rerr != nil {
			return fmt.Errorf("%w; and rolling back its transaction failed: %v", err, rerr)
		}
		return err
	}
	if _, err := a.conn.Exec(ctx, "COMMIT"); err != nil {
		// A COMMIT canceled before it ran (the statement's SET LOCAL statement_timeout ran out) leaves
		// the block open and aborted, and the deploy's next statement on the session would fail in it.
		_ = pg.Rollback(ctx, a.conn)
		return pg.Positioned(s, stmt, err) // a deferred constraint, as the statement alone would have failed
	}
	return nil
}

// abandonBlock rolls back the transaction block a script's own BEGIN left open when one of its
// statements failed (PostgreSQL aborted it; psql and golang-migrate end it the same way), so that the
// session is usable for what the deploy does next, and returns err.
func (a *applier) abandonBlock(err error) error {
	// pg.Rollback sends it again when the block's own SET LOCAL statement_timeout canceled it.
	if rerr := pg.Rollback(context.Background(), a.conn); rerr != nil {
		return fmt.Errorf("%w; and rolling back its transaction block failed: %v", err, rerr)
	}
	return err
}

// invalidBefore returns, for a CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY statement, the table it
// works on and the INVALID indexes that table has before it runs; table is "" for other statements.
func (a *applier) invalidBefore(ctx context.Context, st *sqlparse.Statement) (table string, invalid []uint32, err error) {
	rel, isIndex := concurrentIndexTarget(st.Node)
	if rel == "" {
		return "", nil, nil
	}
	table = rel
	if isIndex { // the leftover of REINDEX INDEX sits on the index's table
		err := a.conn.QueryRow(ctx, `SELECT coalesce((SELECT indrelid::pg_catalog.regclass::pg_catalog.text FROM pg_catalog.pg_index
		  WHERE indexrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass($1)), '')`, rel).Scan(&table)
		if err != nil || table == "" {
			return "", nil, err
		}
	}
	rows, err := a.conn.Query(ctx, "SELECT indexrelid FROM pg_catalog.pg_index WHERE indrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass($1) AND NOT indisvalid", table)
	if err != nil {
		return "", nil, fmt.Errorf("read the INVALID indexes of %s: %w", table, err)
	}
	invalid, err = pgx.CollectRows(rows, pgx.RowTo[uint32])
	return table, invalid, err
}

// dropNewInvalid drops the INVALID indexes of table that were not there before (invalid).
func (a *applier) dropNewInvalid(ctx context.Context, table string, invalid []uint32) error {
	rows, err := a.conn.Query(ctx, `SELECT indexrelid::pg_catalog.regclass::pg_catalog.text FROM pg_catalog.pg_index
		WHERE indrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass($1) AND NOT indisvalid
		  AND NOT indexrelid OPERATOR(pg_catalog.=) ANY($2::pg_catalog.oid[])`, table, invalid)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := a.conn.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+n); err != nil {
			return err
		}
		if a.note != nil {
			a.note(fmt.Sprintf("dropped the INVALID index %s that the failed statement left on %s", n, table))
		}
	}
	return nil
}

// concurrentIndexTarget is the relation a CREATE INDEX CONCURRENTLY or REINDEX (TABLE|INDEX)
// CONCURRENTLY statement names, quoted; isIndex tells a REINDEX INDEX; "" for any other statement.
func concurrentIndexTarget(n *pg_query.Node) (rel string, isIndex bool) {
	if n == nil {
		return "", false
	}
	rv := func(r *pg_query.RangeVar) string {
		if r == nil {
			return ""
		}
		if r.Schemaname != "" {
			return pgx.Identifier{r.Schemaname, r.Relname}.Sanitize()
		}
		return pgx.Identifier{r.Relname}.Sanitize()
	}
	if ix := n.GetIndexStmt(); ix != nil && ix.Concurrent {
		return rv(ix.Relation), false
	}
	if re := n.GetReindexStmt(); re != nil {
		switch {
		case !sqlparse.ReindexesConcurrently(n): // REINDEX (CONCURRENTLY false) leaves no INVALID index
		case re.Kind == pg_query.ReindexObjectType_REINDEX_OBJECT_TABLE:
			return rv(re.Relation), false
		case re.Kind == pg_query.ReindexObjectType_REINDEX_OBJECT_INDEX:
			return rv(re.Relation), true
		}
	}
	return "", false
}

// noteHolders says who held the lock a statement of migration m gave up waiting for (err, its last
// lock timeout), once its transaction is over: the sessions holding the row it names, or a lock that
// conflicts with what the statement needs (see heldAfterTimeout). Best effort: nothing when it cannot
// tell, or when err is no lock timeout of the migration's own SQL.
func (a *applier) noteHolders(ctx context.Context, m *migrate.Migration, err error) {
	var se *pg.StatementError
	var lw *LockWaitError
	if a.note == nil || !isLockTimeout(err) || errors.As(err, &lw) || !errors.As(err, &se) || se.Statement == "" {
		return
	}
	seen := heldAfterTimeout(context.WithoutCancel(ctx), a.conn, err, se.Statement, 0)
	if len(seen.holders) == 0 {
		return
	}
	a.note(fmt.Sprintf("%s: the statement at %s:%d gave up waiting for a lock: %s", m.ID(), a.file(se.File), se.Line, strings.Join(seen.holders, "; ")))
}

// retry waits before another attempt when err is a lock timeout of the script and attempts remain, and
// returns nil then; otherwise it returns the error the script ends with: err, or a *windowEndError of it
// when the maintenance window leaves no room for the attempt (a.window), asked before the backoff (an
// attempt that could not start once it is over is not waited for) and again after it. A lock wait of its
// history row (a *LockWaitError) is not retried: the lock is on schemagate's own table, which another
// session holds, and running the script again would not get it.
func (a *applier) retry(ctx context.Context, m *migrate.Migration, attempt int, err error) error {
	var pe *pgconn.PgError
	var lw *LockWaitError
	if !errors.As(err, &pe) || pe.Code != sqlstateLockNotAvailable || errors.As(err, &lw) || attempt > a.retries {
		return err
	}
	wait := a.backoff << (attempt - 1)
	if a.window != nil {
		if closed, ok := a.window(m, attempt, wait); !ok {
			return &windowEndError{Closed: closed, Err: err}
		}
	}
	if a.retrying != nil {
		a.retrying(m, attempt, wait, err)
	}
	select {
	case <-ctx.Done():
		return err
	case <-a.clock.After(wait):
	}
	if a.window != nil {
		if closed, ok := a.window(m, attempt, 0); !ok {
			return &windowEndError{Closed: closed, Err: err}
		}
	}
	return nil
}

// windowEndError is the lock timeout (Err) of a migration's statement that was not retried because the
// maintenance window left no room for another attempt: it would start after the window's end, in a
// blackout, or with less than min_window_left of the window left (Closed says which).
type windowEndError struct {
	Closed string
	Err    error
}

func (e *windowEndError) Error() string { return e.Err.Error() + "; not retried: " + e.Closed }

func (e *windowEndError) Unwrap() error { return e.Err }

// reset puts the session back as it was after the deploy connected (pg.ResetSession, then the deploy's
// own settings), so that each migration runs as in a session of its own, as the rehearsal ran it. after
// tells a reset after a script ran: the search path is then pinned with pg_catalog first again for what
// the deploy runs next on the session, its history, its checks, a rollback's reads (see
// deployer.connect); the reset before a script puts back the path the session started with.
func (a *applier) reset(ctx context.Context, x execer, after bool) error {
	q := pg.ResetSession
	if a.session != "" {
		q += "; " + a.session
	}
	if after {
		q += "; " + pg.PinCatalogPathSQL
	}
	if _, err := x.Exec(ctx, q); err != nil {
		return fmt.Errorf("reset session: %w", err)
	}
	return nil
}

// setTimeouts sets the limits of a script. With no statement_timeout in force none is set: the session's
// own, which the reset gave back, is none already, and SET statement_timeout = 0 is what used to lift a
// DBA's limit. The transaction_timeout in force, which the deploy's own session settings turn off, is set
// again for the script: in its transaction (SET LOCAL), from about its start, or for each statement and
// block of a non-transactional one (SET).
func (a *applier) setTimeouts(ctx context.Context, x execer, set string) error {
	q := fmt.Sprintf("%s lock_timeout = %d", set, a.lockTimeout.Milliseconds())
	if a.statementTimeout > 0 {
		q += fmt.Sprintf("; %s statement_timeout = %d", set, a.statementTimeout.Milliseconds())
	}
	if a.transactionTimeout > 0 {
		q += fmt.Sprintf("; %s transaction_timeout = %d", set, a.transactionTimeout.Milliseconds())
	}
	if _, err := x.Exec(ctx, q); err != nil {
		return fmt.Errorf("set timeouts: %w", err)
	}
	return nil
}

// exec runs a script with the environment's timeouts as ceilings: a statement of the script that SETs or
// RESETs lock_timeout, statement_timeout or transaction_timeout, or changes them any other way (set_config, a function that
// calls it), may lower them, not lift or disable them (pg_dump's output starts with SET lock_timeout = 0).
// The settings are read back after every statement that is not a plain SET of something else, and put
// back under the ceiling before the next one runs. The rule is the deploy's promise that no statement
// waits on a lock longer than lock_timeout, which is why check and gate count missing-lock-timeout as safe.
// (A single statement that lifts the timeout and then waits, such as a DO block that calls set_config and
// then ALTERs, is beyond it.)
func (a *applier) exec(ctx context.Context, s *migrate.Script) error {
	if a.lockTimeout <= 0 && a.statementTimeout <= 0 && a.transactionTimeout <= 0 {
		return pg.ApplyScript(ctx, a.conn, s, pg.ApplyOptions{})
	}
	return pg.ApplyScript(ctx, a.conn, s, pg.ApplyOptions{After: func(ctx context.Context, _ int, st *sqlparse.Statement, _ time.Duration) error {
		if st.Node == nil || st.Node.GetTransactionStmt() != nil {
			return nil
		}
		if set := st.Node.GetVariableSetStmt(); set != nil && set.Kind != pg_query.VariableSetKind_VAR_RESET_ALL &&
			set.Name != "lock_timeout" && set.Name != "statement_timeout" && set.Name != "transaction_timeout" {
			return nil // a SET of something else changes none of them
		}
		// The settings in one round trip, in milliseconds (0: no limit; transaction_timeout is 0 before
		// PostgreSQL 17, which has none, and where no limit is in force).
		var now [3]int64
		if err := a.conn.QueryRow(ctx, `SELECT (SELECT setting::pg_catalog.int8 FROM pg_catalog.pg_settings WHERE name OPERATOR(pg_catalog.=) 'lock_timeout'),
			(SELECT setting::pg_catalog.int8 FROM pg_catalog.pg_settings WHERE name OPERATOR(pg_catalog.=) 'statement_timeout'),
			coalesce((SELECT setting::pg_catalog.int8 FROM pg_catalog.pg_settings WHERE name OPERATOR(pg_catalog.=) 'transaction_timeout'), 0)`).Scan(&now[0], &now[1], &now[2]); err != nil {
			return pg.Positioned(s, st, fmt.Errorf("read the timeouts: %w", err))
		}
		// A transaction_timeout put back counts from then: the server starts its timer again when the
		// setting goes from none to a limit in a transaction.
		for i, c := range []struct {
			name  string
			limit time.Duration
		}{{"lock_timeout", a.lockTimeout}, {"statement_timeout", a.statementTimeout}, {"transaction_timeout", a.transactionTimeout}} {
			if c.limit <= 0 || (now[i] != 0 && now[i] <= c.limit.Milliseconds()) {
				continue
			}
			// In the block execOwn opened for a statement that runs alone, its SET lasts the session.
			local := a.conn.PgConn().TxStatus() == 'T' && !a.inOwnTx
			if _, err := a.conn.Exec(ctx, "SELECT pg_catalog.set_config($1, $2, $3)", c.name, fmt.Sprintf("%dms", c.limit.Milliseconds()), local); err != nil {
				return pg.Positioned(s, st, fmt.Errorf("set %s: %w", c.name, err))
			}
			if a.note != nil {
				what := "turns " + c.name + " off"
				if now[i] != 0 {
					what = fmt.Sprintf("raises %s to %s", c.name, time.Duration(now[i])*time.Millisecond)
				}
				a.note(fmt.Sprintf("%s:%d %s; the deploy kept it at %s", s.File, st.Pos.Line, what, c.limit))
			}
		}
		return nil
	}})
}

// commitErr positions an error raised at COMMIT (deferred constraints) on the script's last statement.
func commitErr(s *migrate.Script, err error) error {
	var se *pg.StatementError
	var lw *LockWaitError // the history row's, not the script's
	if errors.As(err, &se) || errors.As(err, &lw) || s == nil || len(s.Statements) == 0 {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pg.Positioned(s, &s.Statements[len(s.Statements)-1], err)
	}
	return err
}

// sqlError turns an apply error into the report's form.
func sqlError(err error, phase string) *SQLError {
	if err == nil {
		return nil
	}
	var lw *LockWaitError
	if errors.As(err, &lw) { // the script ran; its history row waited for a lock
		return &SQLError{Message: lw.Error(), SQLState: sqlstateLockNotAvailable, Hint: lw.Hint, Phase: phase}
	}
	out := &SQLError{Message: err.Error(), Phase: phase}
	var se *pg.StatementError
	if errors.As(err, &se) {
		out.File, out.Line, out.Column, out.Statement = se.File, se.Line, se.Column, se.Statement
		out.Message = se.Message
	}
	var pe *pgconn.PgError
	var we *windowEndError
	if errors.As(err, &pe) {
		out.Message, out.SQLState, out.Detail, out.Hint = pe.Message, pe.Code, pe.Detail, pe.Hint
		if errors.As(err, &we) {
			out.Message += "; not retried: " + we.Closed
		}
	} else if pg.ConnectionLost(err) && ctxErr(err) == nil {
		// Not the server's answer: the connection broke (the server went away, a network cut).
		out.Message = "lost the connection to the database server: " + out.Message
		out.Hint = "the server went away or the network broke while this ran; check the server, then run the deploy again (with --recover if it says a run did not finish)"
	}
	return out
}

// stoppedBy makes an error that the cancellation of ctx caused name the cause ctx was cancelled with
// (context.Cause: "received SIGTERM", as main cancels it) instead of "context canceled", keeping its place
// in the script; errors.Is still finds the context error in it. Other errors come back as they are.
func stoppedBy(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || ctxErr(err) == nil {
		return err
	}
	cause := context.Cause(ctx)
	if cause == nil || cause == ctx.Err() { // cancelled without a cause: nothing more to say
		return err
	}
	msg := "canceled: " + cause.Error()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		msg = "timed out: " + cause.Error()
	}
	var se *pg.StatementError
	if errors.As(err, &se) && se == err {
		c := *se
		c.Message, c.SQLState, c.Detail, c.Hint = msg, "", "", ""
		return &c
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// ctxErr is the context error err carries (the deploy was canceled or timed out), if any.
func ctxErr(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	}
	return nil
}
