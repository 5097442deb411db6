package lint

import (
	"fmt"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// transaction follows the script's transaction control: BEGIN, COMMIT and ROLLBACK (also AND CHAIN),
// SAVEPOINT, ROLLBACK TO, RELEASE, and two-phase commit.
func (a *analyzer) transaction(t *pg_query.TransactionStmt) {
	switch t.Kind {
	case pg_query.TransactionStmtKind_TRANS_STMT_BEGIN, pg_query.TransactionStmtKind_TRANS_STMT_START:
		if a.explicitTx {
			a.add("transaction-boundaries", "BEGIN inside an open transaction: PostgreSQL ignores it with a warning, and the first COMMIT ends both")
		}
		if a.toolTx && !a.explicitTx {
			a.toolBegin = a.stmt // judged at the COMMIT that ends the tool's transaction
		}
		if !a.inTx() {
			a.txStart, a.savepoints = a.timeouts(), nil
			a.block++
			a.resetTx()
		}
		// In a transaction already (the tool's, or the script's own), PostgreSQL ignores the BEGIN: the
		// locks and SET LOCAL of that transaction stay.
		a.explicitTx, a.beginStmt = true, a.stmt
	case pg_query.TransactionStmtKind_TRANS_STMT_COMMIT, pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		word := "COMMIT"
		if t.Kind == pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK {
			word = "ROLLBACK"
		}
		if t.Chain && !a.inTx() {
			// Outside a transaction block there is nothing to chain to: PostgreSQL refuses it.
			a.add("transaction-boundaries", fmt.Sprintf("%s AND CHAIN outside a transaction block: PostgreSQL refuses it (%s AND CHAIN can only be used in transaction blocks) and the deploy fails", word, word))
			return
		}
		if a.toolTx && !t.Chain && a.explicitTx && a.toolBegin != nil && a.statementsAfter() {
			a.add("transaction-boundaries", a.toolTxEnded(word))
		}
		if !a.explicitTx {
			switch {
			case a.toolTx && t.Chain:
				a.add("transaction-boundaries", word+" AND CHAIN without BEGIN in a migration the tool runs in a transaction: it ends the tool's transaction early and starts another, which the tool then ends")
			case a.toolTx:
				a.add("transaction-boundaries", "COMMIT/ROLLBACK without BEGIN in a migration the tool runs in a transaction: it ends the tool's transaction early")
			default:
				a.add("transaction-boundaries", "COMMIT/ROLLBACK without BEGIN").Risk = Caution
			}
		}
		// ROLLBACK undoes the transaction's SET as well as its SET LOCAL (outside a transaction it does
		// nothing); COMMIT keeps the SET.
		if t.Kind == pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK && a.inTx() {
			a.restoreTimeouts(a.txStart)
		}
		if t.Chain {
			// … AND CHAIN ends the transaction (its locks and SET LOCAL go) and at once starts another
			// with the same characteristics: what follows still runs in a transaction block, which a
			// later COMMIT has to end.
			if a.explicitTx {
				a.beginStmt = a.stmt
				a.block++
			}
		} else {
			a.explicitTx, a.beginStmt, a.toolBegin = false, nil, nil
			if a.toolTx && a.script.CommitsHalfWay {
				// The tool's transaction ended here: the reader found that the tool runs the rest
				// statement by statement, as goose and sql-migrate do (and so does the rehearsal).
				a.toolTx = false
			}
		}
		a.resetTx()
		a.txStart, a.savepoints = a.timeouts(), nil
		a.dropPendingEnum()
	case pg_query.TransactionStmtKind_TRANS_STMT_PREPARE:
		a.prepareTransaction(t)
	case pg_query.TransactionStmtKind_TRANS_STMT_COMMIT_PREPARED, pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_PREPARED:
		word := "COMMIT PREPARED"
		if t.Kind == pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_PREPARED {
			word = "ROLLBACK PREPARED"
		}
		if a.refusesTx(word) {
			return
		}
		if k, ok := a.prepared[t.Gid]; ok {
			a.out[k].Message = fmt.Sprintf("PREPARE TRANSACTION '%s' ends the transaction without committing it: what it did stays invisible, and every lock it took stays held "+
				"(later statements on those relations wait for it) until %s on line %d; %s", t.Gid, word, a.stmt.Pos.Line, preparedDisabled)
			delete(a.prepared, t.Gid)
		}
	case pg_query.TransactionStmtKind_TRANS_STMT_SAVEPOINT:
		if a.inTx() {
			a.savepoints = append(a.savepoints, savepoint{t.SavepointName, a.timeouts()})
		} else {
			a.add("transaction-boundaries", "SAVEPOINT outside a transaction block: PostgreSQL refuses it (SAVEPOINT can only be used in transaction blocks) and the deploy fails")
		}
	case pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO, pg_query.TransactionStmtKind_TRANS_STMT_RELEASE:
		if !a.inTx() {
			word := "RELEASE SAVEPOINT"
			if t.Kind == pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO {
				word = "ROLLBACK TO SAVEPOINT"
			}
			a.add("transaction-boundaries", fmt.Sprintf("%s outside a transaction block: PostgreSQL refuses it (%s can only be used in transaction blocks) and the deploy fails", word, word))
			return
		}
		// ROLLBACK TO SAVEPOINT undoes the SET and SET LOCAL made since the savepoint, which stays;
		// RELEASE keeps them and ends the savepoint (and those made after it).
		for i := len(a.savepoints) - 1; i >= 0; i-- {
			if a.savepoints[i].name != t.SavepointName {
				continue
			}
			if t.Kind == pg_query.TransactionStmtKind_TRANS_STMT_RELEASE {
				a.savepoints = a.savepoints[:i]
				break
			}
			a.restoreTimeouts(a.savepoints[i].at)
			a.savepoints = a.savepoints[:i+1]
			break
		}
	}
}

// statementsAfter tells whether a statement of the script follows the current one.
func (a *analyzer) statementsAfter() bool {
	for _, st := range a.script.Statements[a.stmtIdx+1:] {
		if st.Node != nil || st.Err != nil {
			return true
		}
	}
	return false
}

// toolTxEnded is what transaction-boundaries says of a COMMIT or ROLLBACK (word) that closes a BEGIN
// written inside the transaction the tool runs the migration in, with statements after it. PostgreSQL
// ignores that BEGIN (there is already a transaction in progress), so the COMMIT or ROLLBACK ends the
// tool's own transaction: what follows runs outside it, and the tool's COMMIT at the end only warns.
func (a *analyzer) toolTxEnded(word string) string {
	done := "what the migration did before it stays committed: the migration is left half applied"
	if word == "ROLLBACK" {
		done = "what the migration did before it, the statements before the BEGIN too, is rolled back while the rest is applied"
	}
	return fmt.Sprintf("BEGIN (line %d) inside the transaction the tool runs the migration in starts no transaction of its own (PostgreSQL carries on the one in progress), so this %s ends the tool's transaction: "+
		"the statements after it run outside any transaction the tool controls, and when one of them fails, %s", a.toolBegin.Pos.Line, word, done)
}

// preparedDisabled is what prepared-transaction findings say of a default server.
const preparedDisabled = "PostgreSQL refuses PREPARE TRANSACTION unless max_prepared_transactions is above 0, and it is 0 by default (prepared transactions are disabled): the transaction is rolled back and the deploy fails"

// prepareTransaction judges PREPARE TRANSACTION 'gid'. For the session it ends the transaction block
// as COMMIT does (SET LOCAL ends, SET stays), but nothing is committed: the prepared transaction keeps
// its locks, and what it did stays invisible, until COMMIT PREPARED or ROLLBACK PREPARED, from any
// session, ends it. Outside a transaction block PostgreSQL only warns.
func (a *analyzer) prepareTransaction(t *pg_query.TransactionStmt) {
	if !a.inTx() {
		f := a.add("prepared-transaction", fmt.Sprintf("PREPARE TRANSACTION '%s' outside a transaction block prepares nothing (PostgreSQL only warns); on a server where it would, %s", t.Gid, preparedDisabled))
		f.Risk = Caution
		return
	}
	locks := ""
	if a.txAE {
		locks = fmt.Sprintf(" (ACCESS EXCLUSIVE on a pre-existing %s among them)", relkindWord(a.txAEKind))
	}
	a.prepared[t.Gid] = len(a.out)
	a.add("prepared-transaction", fmt.Sprintf("PREPARE TRANSACTION '%s' ends the transaction without committing it: what it did stays invisible, and every lock it took%s stays held "+
		"until COMMIT PREPARED '%s', which this migration never runs, so later statements and the application wait on them indefinitely; %s", t.Gid, locks, t.Gid, preparedDisabled))
	a.explicitTx, a.beginStmt = false, nil
	a.resetTx()
	a.txStart, a.savepoints = a.timeouts(), nil
	a.dropPendingEnum()
}

// dropPendingEnum withdraws ADD VALUE findings whose transaction ended with no later statement.
func (a *analyzer) dropPendingEnum() {
	for _, k := range a.pendingEnum {
		a.out[k].Rule = ""
	}
	a.pendingEnum = nil
}

func (a *analyzer) resetTx() {
	a.lockTimeout.endTx()
	a.stmtTimeout.endTx()
	a.utcZone.endTx()
	a.txAE, a.txAEKind, a.txStrong, a.txAfterAEDone, a.txAfterAECheap = false, "", false, false, false
	clear(a.txAEKeys)
	a.txStrongOn = nil
	a.txNotValid = map[string]bool{}
	a.txEnumValues = nil
}

// partialRun tells whether a failure after the current statement can leave it done and the script
// not: it runs in no transaction block, so it commits by itself, and a later statement of the script may
// fail. A retry then meets what it made (non-idempotent-ddl). The last statement of a script, which
// either does all it does or nothing, leaves no such run.
func (a *analyzer) partialRun() bool {
	return !a.inTx() && a.stmtIdx < len(a.script.Statements)-1
}

// isChain tells whether n is COMMIT AND CHAIN or ROLLBACK AND CHAIN.
func isChain(n *pg_query.Node) bool { return n.GetTransactionStmt().GetChain() }

// txOpened says where the file's own transaction block now open began, for messages: "the BEGIN on
// line 3", "the transaction COMMIT AND CHAIN on line 7 starts".
func (a *analyzer) txOpened() string {
	if t := a.beginStmt.Node.GetTransactionStmt(); t.GetChain() {
		word := "COMMIT"
		if t.Kind == pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK {
			word = "ROLLBACK"
		}
		return fmt.Sprintf("the transaction %s AND CHAIN on line %d starts", word, a.beginStmt.Pos.Line)
	}
	return fmt.Sprintf("the BEGIN on line %d", a.beginStmt.Pos.Line)
}
