// Package pg talks to PostgreSQL: connecting, applying migration scripts statement by statement with
// positioned errors, tracing what each statement locks, rewrites and scans, and inspecting the catalog.
package pg

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// StatementError is a statement that failed, positioned in its file.
type StatementError struct {
	File      string
	Line      int
	Column    int
	SQLState  string
	Message   string
	Detail    string
	Hint      string
	Statement string
	Err       error
}

func (e *StatementError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
	if e.SQLState != "" {
		fmt.Fprintf(&b, " (SQLSTATE %s)", e.SQLState)
	}
	if e.Detail != "" {
		b.WriteString("\n  detail: " + e.Detail)
	}
	if e.Hint != "" {
		b.WriteString("\n  hint: " + e.Hint)
	}
	return b.String()
}

func (e *StatementError) Unwrap() error { return e.Err }

// Execer runs SQL on a connection or in a transaction.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// StatementResult is what ApplyScript reports per statement (when asked to).
type StatementResult struct {
	Index    int
	Duration time.Duration
}

// ApplyOptions tune ApplyScript.
type ApplyOptions struct {
	// Before and After, when set, run around each statement (tracing); an error from them stops the apply.
	Before func(ctx context.Context, i int, st *sqlparse.Statement) error
	After  func(ctx context.Context, i int, st *sqlparse.Statement, d time.Duration) error
	// Whole sends the script as one multi-statement query (one round trip; used to replay history fast).
	// A failing statement is then found by counting the statements that completed. A script in
	// autocommit goes statement by statement all the same (CREATE INDEX CONCURRENTLY cannot run in
	// the implicit transaction block of such a query), its runs of literal INSERTs joined (see Join).
	Whole bool
	// Fresh puts the session back as a new connection has it first (ResetSession), so that what an
	// earlier script SET does not reach this one.
	Fresh bool
	// ResetSQL, when set, is what Fresh runs instead of ResetSession (see Inspector.ResetSQL).
	ResetSQL string
	// Discarded says the caller rolls its transaction back after the script (a sqitch verify script):
	// the script's own ROLLBACK, which ends such scripts, is skipped as its BEGIN is.
	Discarded bool
	// OpenBlockOK says the script has already run in production (history): one that started outside a
	// transaction block and left one open (see EndsIdle) has it rolled back without an error, which
	// leaves the database as psql left it there.
	OpenBlockOK bool
	// Progress, when set, is called at most every ProgressEvery while the script runs, with the number
	// of statements done and the statement running next: a script of a hundred thousand statements
	// takes minutes.
	Progress func(done, total int, next *sqlparse.Statement)
	// Running, when set, is told of each statement as it is sent (of a run sent together, the first):
	// the rehearsal's watchdog, which sees only the server's text of what runs, names with it the
	// script and line of a statement still running.
	Running func(st *sqlparse.Statement)
	// Join sends a run of statements that can go together (see joinable) inside a transaction in one
	// query: for the rehearsal, where a round trip per statement costs more than a seed migration's
	// INSERTs themselves. A deploy sends each statement alone, as psql and the migration tools do, each
	// under its own statement_timeout. Quiet, when set, tells whether After needs nothing from the
	// database after st (see Tracer.Quiet): only such statements are joined, and After is called for
	// each of them once the query is done.
	Join  bool
	Quiet func(st *sqlparse.Statement) bool
	// Hook, when set, sees the statements it picks right after each of them ran. A script with such a
	// statement is not sent whole (Whole), and such a statement is not joined to others (Join).
	Hook *StatementHook
}

// StatementHook sees, on the script's own session, each statement it picks right after it ran: in
// autocommit once it committed, inside a transaction before the COMMIT. The rehearsal on a shared
// server records there the roles a statement created, before anything can stop the run and leave them
// behind; the other callers pass none and pay nothing.
type StatementHook struct {
	// Picks tells whether Ran must see st.
	Picks func(st *sqlparse.Statement) bool
	// Ran is called once statement i of s ran without an error; it cannot fail the script.
	Ran func(ctx context.Context, s *migrate.Script, i int)
}

// picks tells whether h picks a statement of s (false for no hook).
func (h *StatementHook) picks(s *migrate.Script) bool {
	if h == nil || s == nil {
		return false
	}
	for i := range s.Statements {
		if h.Picks(&s.Statements[i]) {
			return true
		}
	}
	return false
}

// Runs of joinable statements are sent at most joinStatements (and about joinBytes) to a query: a round
// trip per statement costs more than the server's work on a literal INSERT (a seed migration of 200,000
// ran 4 times slower statement by statement), and a query's statements are parsed all at once, so a
// bounded query keeps the server's memory small.
const (
	joinStatements = 1000
	joinBytes      = 256 << 10
)

// ProgressEvery is how often ApplyOptions.Progress is called on a long script.
var ProgressEvery = 15 * time.Second

// ResetSession puts a session back as a new connection has it: every setting (search_path, timeouts,
// client_min_messages...) at its default, the role and session user it logged in as, no temporary
// object (DISCARD TEMP) and no sequence value cached for currval (DISCARD SEQUENCES). Each script
// starts from it: in production each one may run in a session of its own (another deploy, psql -f per
// file, Flyway's restored state, a down run days after its up), so one that relies on an earlier one's SET
// (pg_dump's output empties search_path) must fail in the rehearsal, not in production, and one that
// makes a temporary table must not fail when its up runs again after its down, or a later migration
// makes one of the same name. DISCARD ALL would do it all, but it may not run in a transaction block,
// and it deallocates the prepared statements the driver keeps; the session's advisory locks are left
// (a deploy holds its own). Inside a transaction it is undone with it.
const ResetSession = "RESET ALL; RESET SESSION AUTHORIZATION; DISCARD TEMP; DISCARD SEQUENCES"

// Reset runs ResetSession on conn.
func Reset(ctx context.Context, conn *pgx.Conn) error {
	return ResetWith(ctx, conn, "")
}

// ResetWith runs q, which resets the session as ResetSession does, on conn; ResetSession when q is "".
func ResetWith(ctx context.Context, conn *pgx.Conn, q string) error {
	if q == "" {
		q = ResetSession
	}
	if err := execSimple(ctx, conn, q); err != nil {
		return fmt.Errorf("reset session: %w", err)
	}
	return nil
}

// ApplyScript runs a script's statements in order on conn. It does not begin or commit a transaction:
// the caller decides (see Migration.NoTransaction). On failure it returns a *StatementError.
func ApplyScript(ctx context.Context, conn *pgx.Conn, s *migrate.Script, opts ApplyOptions) error {
	if s == nil {
		return nil
	}
	if opts.Fresh {
		// On its own: joined to the script, it would make a single CREATE INDEX CONCURRENTLY part of a
		// multi-statement query, which runs as one transaction.
		if err := ResetWith(ctx, conn, opts.ResetSQL); err != nil {
			return err
		}
	}
	if conn.PgConn().TxStatus() == 'I' {
		err := applyStatements(ctx, conn, s, opts)
		if opts.OpenBlockOK && err == nil {
			return rollBackOpenBlock(ctx, conn)
		}
		return EndsIdle(ctx, conn, s, err)
	}
	return applyStatements(ctx, conn, s, opts)
}

// EndsIdle checks a script that started outside a transaction block, after it ran (err is what running
// it returned): one that left a block open (BEGIN with no COMMIT after it) is an error at the statement
// that opened it, and the block is rolled back, as psql rolls it back when the script ends and the
// connection closes. Whatever ran after that BEGIN is then not in the database, and the migration does
// not do what it says: golang-migrate's and dbmate's drivers fail or lose their own bookkeeping in the
// same block. A script that failed inside its own block has that block rolled back too, so the session
// can go on.
func EndsIdle(ctx context.Context, conn *pgx.Conn, s *migrate.Script, err error) error {
	if conn.PgConn().TxStatus() == 'I' || (err != nil && ConnectionLost(err)) {
		return err
	}
	if rerr := rollBackOpenBlock(ctx, conn); rerr != nil && err == nil {
		return rerr
	}
	if err != nil || len(s.Statements) == 0 {
		return err
	}
	opener := &s.Statements[len(s.Statements)-1]
	for i := len(s.Statements) - 1; i >= 0; i-- {
		if sqlparse.LeavesBlockOpen(s.Statements[i].Node) {
			opener = &s.Statements[i]
			break
		}
	}
	return positioned(s, opener, &pgconn.PgError{Severity: "ERROR", Code: "25001",
		Message: "the script ends inside the transaction block this statement opens: nothing after it is committed (psql rolls the block back when the script ends, and the migration tool's own bookkeeping fails or is lost with it)",
		Hint:    "end the block with COMMIT, or remove the BEGIN"})
}

// rollBackOpenBlock rolls back the transaction block a script left open, if any.
func rollBackOpenBlock(ctx context.Context, conn *pgx.Conn) error {
	if err := Rollback(ctx, conn); err != nil {
		return fmt.Errorf("roll back the transaction block the script left open: %w", err)
	}
	return nil
}

// rollbackAttempts is how many ROLLBACKs Rollback sends at most: the second runs without the limit
// that canceled the first (see Rollback).
const rollbackAttempts = 3

// Rollback ends the transaction block open on conn, if any, whatever the context (a canceled run still
// ends it); nil when none is open any more, or the connection is gone with it.
//
// A ROLLBACK runs under the statement_timeout the block set for itself (a migration's SET LOCAL
// statement_timeout = '1ms'), and a machine busy enough to hold the server's process past it before
// the ROLLBACK gets to end the block cancels it (57014, "due to statement timeout", or "due to user
// request" when the limit ran out as the statement before it ended): the block stays open, aborted, and
// the session's next statement failed with 25P02, "current transaction is aborted" (a rehearsal's next
// migration, at its session reset). That cancellation rolled back the block's SET LOCAL with the rest
// of its work, so the ROLLBACK sent again runs without the limit, and ends the block.
func Rollback(ctx context.Context, conn *pgx.Conn) error {
	return rollbackWith(ctx, conn, "ROLLBACK")
}

// rollbackWith is Rollback with rollback for its statement (a test's takes longer than 1 ms to parse).
func rollbackWith(ctx context.Context, conn *pgx.Conn, rollback string) error {
	ctx = context.WithoutCancel(ctx)
	var err error
	for range rollbackAttempts {
		if conn.IsClosed() || conn.PgConn().TxStatus() == 'I' {
			return nil
		}
		err = execSimple(ctx, conn, rollback)
	}
	if conn.IsClosed() || conn.PgConn().TxStatus() == 'I' {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("the transaction block is still open (status %c)", conn.PgConn().TxStatus())
	}
	return fmt.Errorf("%d ROLLBACKs: %w", rollbackAttempts, err)
}

// applyStatements is ApplyScript once the session is reset.
func applyStatements(ctx context.Context, conn *pgx.Conn, s *migrate.Script, opts ApplyOptions) error {
	inTx := conn.PgConn().TxStatus() == 'T'
	// A script in autocommit is not sent whole: the server runs a query of several statements as one
	// implicit transaction block, where CREATE INDEX CONCURRENTLY, VACUUM, DROP DATABASE and their like
	// fail, and psql and the migration tools run such a script statement by statement.
	if opts.Whole && (inTx || len(s.Statements) <= 1) && opts.Before == nil && opts.After == nil && !hasCopyData(s) && !changesLexing(s) && !opts.Hook.picks(s) {
		_, err := applyJoined(ctx, conn, []*migrate.Script{s}, false, "", nil)
		return err
	}
	join := inTx
	if opts.Whole && !inTx {
		// Runs of literal INSERTs (joinable) still go in one query: one that fails stops a replay, so
		// the rest of its run, rolled back with it, no longer matters.
		join, opts.Join = true, true
	}
	reported := time.Now()
	for i := 0; i < len(s.Statements); i++ {
		st := &s.Statements[i]
		if opts.Progress != nil && time.Since(reported) >= ProgressEvery {
			opts.Progress(i, len(s.Statements), st)
			reported = time.Now()
		}
		if n := joinableRun(s.Statements[i:], join, opts); n > 1 {
			if opts.Running != nil {
				opts.Running(st)
			}
			if err := applyRun(ctx, conn, s, i, n, opts); err != nil {
				return err
			}
			i += n - 1
			continue
		}
		if inTx && sqlparse.OpensOrCommits(st.Node) {
			continue // the script's own BEGIN/COMMIT: the caller's transaction already makes it atomic
		}
		if inTx && opts.Discarded && sqlparse.EndsTransaction(st.Node) {
			continue
		}
		if inTx && sqlparse.EndsTransaction(st.Node) {
			// Run, it would throw away what the script did so far and leave the rest outside the
			// migration's transaction, and the rehearsal could no longer undo it.
			return positioned(s, st, &pgconn.PgError{Severity: "ERROR", Code: "25000",
				Message: "a transactional migration may not end its transaction: this statement would discard what the script did before it and run the rest in autocommit",
				Hint:    "remove it; to run a migration outside a transaction, mark it as its tool does (-- +goose NO TRANSACTION, -- migrate:up transaction:false, ...)"})
		}
		if opts.Before != nil {
			if err := opts.Before(ctx, i, st); err != nil {
				return err
			}
		}
		if opts.Running != nil {
			opts.Running(st)
		}
		start := time.Now()
		err := ExecStatement(ctx, conn, st)
		d := time.Since(start)
		if err != nil {
			return positioned(s, st, err)
		}
		if opts.Hook != nil && opts.Hook.Picks(st) {
			opts.Hook.Ran(ctx, s, i)
		}
		if opts.After != nil {
			if err := opts.After(ctx, i, st, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// joinStatement writes sql and its terminator to a query of several statements and returns how many
// characters it wrote. The semicolon goes on a line of its own: a statement's text may end in a --
// comment, which would take in a semicolon on its line and join the statement to the next.
func joinStatement(b *strings.Builder, sql string) int {
	b.WriteString(sql)
	b.WriteString("\n;")
	return utf8.RuneCountInString(sql) + 2
}

// joinable tells whether st can be sent in one query with its neighbours and still run as it runs alone:
// an INSERT of literal rows (repeatedInsert), whose text has no backslash. The server parses a query's
// statements all at once before running the first, so a statement whose reading depends on a setting an
// earlier one may change (standard_conforming_strings decides what a backslash in a string means) is
// not joinable; literal rows run no code that the order could change.
func joinable(st *sqlparse.Statement) bool {
	return st.Err == nil && !st.FromStdin && repeatedInsert(st) != nil && !strings.Contains(st.SQL, `\`)
}

// joinableRun is how many of sts, from the first, can go in one query (see ApplyOptions.Quiet): 0 or 1
// when they run one by one. Only inside a transaction block (inTx), or where a failure stops
// everything (a replay, see applyStatements): there a query of several statements fails as a whole just
// as the block does, where outside one it would roll back statements that psql commits one by one.
func joinableRun(sts []sqlparse.Statement, inTx bool, opts ApplyOptions) int {
	if !inTx || !opts.Join || opts.Before != nil || (opts.After != nil && opts.Quiet == nil) {
		return 0
	}
	n, size := 0, 0
	for n < len(sts) && n < joinStatements && size < joinBytes {
		st := &sts[n]
		if !joinable(st) || (opts.After != nil && !opts.Quiet(st)) || (opts.Hook != nil && opts.Hook.Picks(st)) {
			break
		}
		size += len(st.SQL)
		n++
	}
	return n
}

// applyRun sends statements from..from+n of s in one query and calls After for each (each taking an
// equal share of the query's time). A failing statement is the one after the last that completed, as
// in applyJoined; After is called for those before it.
func applyRun(ctx context.Context, conn *pgx.Conn, s *migrate.Script, from, n int, opts ApplyOptions) error {
	sts := s.Statements[from : from+n]
	var b strings.Builder
	starts := make([]int, n) // each statement's first character in the query (0-based, in characters)
	runes := 0
	for i := range sts {
		starts[i] = runes
		runes += joinStatement(&b, sts[i].SQL)
	}
	start := time.Now()
	results, err := conn.PgConn().Exec(ctx, b.String()).ReadAll()
	done := n
	if err != nil {
		done = 0
		for _, r := range results {
			if r.Err == nil {
				done++
			}
		}
		done = min(done, n-1)
	}
	if opts.After != nil {
		d := time.Since(start) / time.Duration(n)
		for i := range done {
			if aerr := opts.After(ctx, from+i, &sts[i], d); aerr != nil {
				return aerr
			}
		}
	}
	if err == nil {
		return nil
	}
	st := &sts[done]
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Position > 0 {
		shifted := *pe
		shifted.Position = pe.Position - int32(starts[done])
		if shifted.Position < 1 || int(shifted.Position) > utf8.RuneCountInString(st.SQL)+1 {
			shifted.Position = 0 // not in this statement: keep the statement's own place
		}
		return positioned(s, st, &shifted)
	}
	return positioned(s, st, err)
}

// ExecStatement runs one statement of a script with the simple query protocol, as psql does, so any
// statement works, including those the extended protocol refuses; a COPY … FROM STDIN is sent the data
// that follows it in the file.
func ExecStatement(ctx context.Context, conn *pgx.Conn, st *sqlparse.Statement) error {
	if err := nulError(st); err != nil {
		return err
	}
	if st.FromStdin {
		_, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(st.CopyData), st.SQL)
		return err
	}
	_, err := conn.PgConn().Exec(ctx, st.SQL).ReadAll()
	if err == nil && forgetsPrepared(st) {
		err = forgetPrepared(ctx, conn)
	}
	return err
}

// forgetsPrepared tells whether st removes every prepared statement of its session: DEALLOCATE ALL or
// DISCARD ALL. (A DEALLOCATE of one name removes the migration's own statement: it cannot name one of
// pgx's, whose names it does not know, and the migration's others must stay.)
func forgetsPrepared(st *sqlparse.Statement) bool {
	if st.Node == nil {
		return false
	}
	if d := st.Node.GetDeallocateStmt(); d != nil {
		return d.GetIsall()
	}
	d := st.Node.GetDiscardStmt()
	return d != nil && d.GetTarget() == pg_query.DiscardMode_DISCARD_ALL
}

// anyForgetsPrepared tells whether a statement of scripts removes prepared statements (forgetsPrepared).
func anyForgetsPrepared(scripts []*migrate.Script) bool {
	for _, s := range scripts {
		for i := range s.Statements {
			if forgetsPrepared(&s.Statements[i]) {
				return true
			}
		}
	}
	return false
}

// forgetPrepared tells conn that a migration's statement removed all the session's prepared statements
// (see forgetsPrepared): pgx keeps its own list of those it prepared (the rehearsal's and the deploy's
// catalog reads, traces and bookkeeping are), and the next use of one failed (prepared statement
// "stmt_..." does not exist), blamed on the migration at no line, or failing a deploy after its
// migration committed. It forgets them all (pgx's DeallocateAll, whose DEALLOCATE ALL finds none left
// on the server), and they are prepared again at their next use.
func forgetPrepared(ctx context.Context, conn *pgx.Conn) error {
	delete(conn.PgConn().CustomData(), preparedKey)
	if err := conn.DeallocateAll(ctx); err != nil {
		return fmt.Errorf("forget the session's prepared statements after the migration's DEALLOCATE or DISCARD ALL: %w", err)
	}
	return nil
}

// nulError is the server's error for a statement with a NUL byte, which is not sent: PostgreSQL refuses
// such a query as a whole (invalid byte sequence), and the statement's text holds "\0" in its place.
func nulError(st *sqlparse.Statement) error {
	if st.Err == nil || st.Err.Message != sqlparse.NULMessage {
		return nil
	}
	return &pgconn.PgError{Severity: "ERROR", Code: "22021",
		Message: `invalid byte sequence for encoding "UTF8": 0x00: the file has a NUL byte here, which PostgreSQL refuses in SQL text`,
		Hint:    "remove the NUL byte (a file saved as UTF-16, or binary data pasted into it?)"}
}

// hasCopyData tells whether a script has COPY … FROM STDIN data: such a script runs statement by
// statement, since a query of several statements cannot carry it.
func hasCopyData(s *migrate.Script) bool {
	for i := range s.Statements {
		if s.Statements[i].FromStdin {
			return true
		}
	}
	return false
}

// changesLexing reports a script that may change how the server reads the statements after one:
// standard_conforming_strings decides what a backslash in a string means, and the server reads a query
// of several statements whole before it runs the first, so such a script is not sent as one query.
func changesLexing(s *migrate.Script) bool {
	for i := range s.Statements {
		if strings.Contains(strings.ToLower(s.Statements[i].SQL), "standard_conforming_strings") {
			return true
		}
	}
	return false
}

// execSimple runs SQL text with the simple query protocol (like psql).
func execSimple(ctx context.Context, conn *pgx.Conn, sql string) error {
	_, err := conn.PgConn().Exec(ctx, sql).ReadAll()
	return err
}

// ownsTransaction tells whether a script has its own BEGIN or COMMIT (sqitch scripts do): it then runs
// statement by statement so that those are skipped inside the migration's transaction.
func ownsTransaction(s *migrate.Script) bool {
	for i := range s.Statements {
		if sqlparse.OpensOrCommits(s.Statements[i].Node) {
			return true
		}
	}
	return false
}

// Positioned turns an execution error of statement st of script s into a *StatementError.
func Positioned(s *migrate.Script, st *sqlparse.Statement, err error) *StatementError {
	return positioned(s, st, err)
}

// ConnectionLost reports whether err means the server went away (as opposed to a statement failing).
func ConnectionLost(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	// Anything that is not the server's answer to a statement is a broken connection.
	return err != nil
}

// positioned turns an execution error into a *StatementError at the statement (or, when the server
// gives a character position, at that character).
func positioned(s *migrate.Script, st *sqlparse.Statement, err error) *StatementError {
	se := &StatementError{File: s.File, Line: st.Pos.Line, Column: st.Pos.Column, Statement: st.SQL, Message: err.Error(), Err: err}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		se.SQLState, se.Message, se.Detail, se.Hint = pe.Code, pe.Message, pe.Detail, pe.Hint
		if pe.Position > 0 {
			se.Line, se.Column = advance(st.Pos, st.SQL, int(pe.Position)-1)
			se.Line = st.FileLine(se.Line)
		}
		if n := copyLine(st, pe); n > 0 {
			se.Line, se.Column = st.DataPos.Line+n-1, 1 // the data line the server names
			se.Message += " (" + pe.Where + ")"
		}
		if line, col, frame := doBlockLine(st, pe); line > 0 {
			se.Line, se.Column = st.FileLine(line), col
			se.Message += " (" + frame + ")"
		}
	}
	return se
}

// doBlockFrame is the context line of a DO block's own code in an error's Where: the last one, since
// PostgreSQL lists the innermost call first.
var doBlockFrame = regexp.MustCompile(`PL/pgSQL function inline_code_block line (\d+)[^\n]*`)

// doBlockLine is the file position of the line of a DO block that an error raised at run time names
// ("PL/pgSQL function inline_code_block line 5 at PERFORM"), and that context line; 0 when the
// statement is no DO block, the error names no line of it, or its code cannot be found in the text
// (PL/pgSQL counts lines from the start of the code, so the code must be quoted as it is: $$...$$).
func doBlockLine(st *sqlparse.Statement, pe *pgconn.PgError) (line, col int, frame string) {
	do := st.Node.GetDoStmt()
	if do == nil || pe.Where == "" {
		return 0, 0, ""
	}
	frames := doBlockFrame.FindAllStringSubmatch(pe.Where, -1)
	if len(frames) == 0 {
		return 0, 0, ""
	}
	last := frames[len(frames)-1]
	n, err := strconv.Atoi(last[1])
	if err != nil || n < 1 {
		return 0, 0, ""
	}
	code := ""
	for _, a := range do.GetArgs() {
		if d := a.GetDefElem(); d != nil && d.GetDefname() == "as" {
			code = d.GetArg().GetString_().GetSval()
		}
	}
	i := strings.Index(st.SQL, code)
	if code == "" || i < 0 || n > strings.Count(code, "\n")+1 {
		return 0, 0, ""
	}
	line, col = advance(st.Pos, st.SQL, utf8.RuneCountInString(st.SQL[:i]))
	if n > 1 {
		text := strings.Split(code, "\n")[n-1]
		line, col = line+n-1, 1+utf8.RuneCountInString(text)-utf8.RuneCountInString(strings.TrimLeft(text, " \t"))
	}
	return line, col, last[0]
}

// copyWhere is the context a COPY data error carries: "COPY t, line 2, column name: \"x\"".
var copyWhere = regexp.MustCompile(`^COPY [^\n]*?, line (\d+)`)

// copyLine is the data line (1-based) a failed COPY … FROM STDIN names, or 0.
func copyLine(st *sqlparse.Statement, pe *pgconn.PgError) int {
	if !st.FromStdin {
		return 0
	}
	m := copyWhere.FindStringSubmatch(pe.Where)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 || n > strings.Count(st.CopyData, "\n")+1 {
		return 0
	}
	return n
}

// advance moves from a statement's position by n characters of its text.
func advance(p sqlparse.Position, text string, n int) (line, col int) {
	line, col = p.Line, p.Column
	i := 0
	for _, r := range text {
		if i == n {
			break
		}
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
		i++
	}
	return line, col
}

// ApplyMigration runs m's up (or down) script in the migration's transaction mode: in one transaction
// unless the migration is non-transactional.
func ApplyMigration(ctx context.Context, conn *pgx.Conn, m *migrate.Migration, s *migrate.Script, opts ApplyOptions) error {
	if m.NoTransaction {
		return ApplyScript(ctx, conn, s, opts)
	}
	if opts.Whole && opts.Before == nil && opts.After == nil && s != nil && !ownsTransaction(s) && !hasCopyData(s) && !changesLexing(s) && !opts.Hook.picks(s) {
		reset := ""
		if opts.Fresh {
			reset = cmp.Or(opts.ResetSQL, ResetSession)
		}
		_, err := applyJoined(ctx, conn, []*migrate.Script{s}, true, reset, nil) // BEGIN, the script and COMMIT in one round trip
		return err
	}
	if err := execSimple(ctx, conn, "BEGIN"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := ApplyScript(ctx, conn, s, opts); err != nil {
		_ = Rollback(ctx, conn)
		return err
	}
	if err := execSimple(ctx, conn, "COMMIT"); err != nil {
		// A COMMIT that failed before it committed (a deferred constraint, the script's own SET LOCAL
		// statement_timeout running out) leaves the block open and aborted.
		_ = Rollback(ctx, conn)
		if s == nil || len(s.Statements) == 0 {
			return fmt.Errorf("commit: %w", err)
		}
		return positioned(s, &s.Statements[len(s.Statements)-1], err) // deferred constraints fail here
	}
	return nil
}

// batchable tells whether m can be replayed in a batch: a transactional migration whose up script
// does not open or end transactions itself and carries no COPY data.
func batchable(m *migrate.Migration) bool {
	return !m.NoTransaction && m.Up != nil && len(m.Up.Statements) > 0 && !ownsTransaction(m.Up) && !hasCopyData(m.Up) && !changesLexing(m.Up)
}

// batchMigrations and batchBytes bound what one batch carries: the server parses a query string whole
// before running it, and batches of a few dozen migrations replay fastest.
const (
	batchMigrations = 50
	batchBytes      = 1 << 20
)

// ApplyHistory replays the up scripts of migrations in order, each in its transaction mode and from a
// fresh session (ResetSession), as fast as it can: transactional ones a few dozen per round trip
// ("BEGIN; <reset>; <script>; COMMIT;" over and over), the others one by one. It returns how many were
// applied and, when one failed, that migration's *StatementError; the ones before it stay applied.
func ApplyHistory(ctx context.Context, conn *pgx.Conn, ms []*migrate.Migration) (int, error) {
	return ApplyHistoryWith(ctx, conn, ms, nil)
}

// ApplyHistoryWith is ApplyHistory with a hook (see ApplyOptions.Hook; nil for none): a migration
// with a statement it picks is replayed on its own, statement by statement.
func ApplyHistoryWith(ctx context.Context, conn *pgx.Conn, ms []*migrate.Migration, hook *StatementHook) (int, error) {
	return ReplayHistory(ctx, conn, ms, HistoryOptions{Hook: hook})
}

// HistoryOptions tune ReplayHistory.
type HistoryOptions struct {
	// Hook: see ApplyOptions.Hook.
	Hook *StatementHook
	// Sending, when set, is told of the migration (its index in ms) whose script is sent next, and of
	// each of its statements as it is sent on its own (st nil for the script, or a batch starting with
	// it, sent in one query: see Mark).
	Sending func(m int, st *sqlparse.Statement)
	// Mark has each statement of a batch set application_name, for its transaction, to a mark that
	// Marked reads back: the server shows a batch's text as that of all its scripts, and only so does
	// another session (the rehearsal's watchdog) learn from pg_stat_activity which statement runs.
	// A statement of the migration that reads application_name sees the mark.
	Mark bool
}

// replayMark is the application_name a marked batch sets before statement st of migration m (see
// HistoryOptions.Mark).
const replayMark = "schemagate replay %d.%d"

// Marked reads a mark of a batch (see HistoryOptions.Mark) in an application_name: the migration's
// index in ReplayHistory's ms and the statement's in its up script.
func Marked(applicationName string) (m, st int, ok bool) {
	if _, err := fmt.Sscanf(applicationName, replayMark, &m, &st); err != nil {
		return 0, 0, false
	}
	return m, st, true
}

// ReplayHistory is ApplyHistory with options.
func ReplayHistory(ctx context.Context, conn *pgx.Conn, ms []*migrate.Migration, opts HistoryOptions) (int, error) {
	hook := opts.Hook
	applied := 0
	for applied < len(ms) {
		m := ms[applied]
		if !batchable(m) || hook.picks(m.Up) {
			apply := ApplyOptions{Whole: true, Fresh: true, OpenBlockOK: true, Hook: hook}
			if opts.Sending != nil {
				i := applied
				opts.Sending(i, nil)
				apply.Running = func(st *sqlparse.Statement) { opts.Sending(i, st) }
			}
			if err := ApplyMigration(ctx, conn, m, m.Up, apply); err != nil {
				return applied, err
			}
			applied++
			continue
		}
		var batch []*migrate.Script
		for size := 0; applied+len(batch) < len(ms) && len(batch) < batchMigrations; {
			next := ms[applied+len(batch)]
			if !batchable(next) || hook.picks(next.Up) || (len(batch) > 0 && size+len(next.Up.SQL) > batchBytes) {
				break
			}
			size += len(next.Up.SQL)
			batch = append(batch, next.Up)
		}
		var mark func(sc, st int) string
		if opts.Mark {
			first := applied
			mark = func(sc, st int) string {
				return "SET LOCAL application_name = '" + fmt.Sprintf(replayMark, first+sc, st) + "'"
			}
		}
		if opts.Sending != nil {
			opts.Sending(applied, nil)
		}
		n, err := applyJoined(ctx, conn, batch, true, ResetSession, mark)
		applied += n
		if err != nil {
			return applied, err
		}
	}
	return applied, nil
}

// joinedPlace is where the statement behind one result of a joined query comes from: script sc,
// statement st (-1 for a BEGIN, len(statements) for a COMMIT), starting at rune offset start.
type joinedPlace struct{ sc, st, start int }

// applyJoined sends scripts as one multi-statement query: one round trip. With tx each script is wrapped
// in BEGIN and COMMIT in that query; without, the query runs as one implicit transaction. With fresh each
// script starts with ResetSession. It returns how
// many scripts were applied (committed) and, when a statement failed, a *StatementError at it: the
// failing statement is the one after the last that completed, so it is found even when the server gives
// no position (most errors), and a position, when there is one, is mapped into the statement. A failure
// leaves no transaction open.
func applyJoined(ctx context.Context, conn *pgx.Conn, scripts []*migrate.Script, tx bool, reset string, mark func(sc, st int) string) (int, error) {
	for i, s := range scripts {
		for j := range s.Statements {
			if err := nulError(&s.Statements[j]); err != nil {
				// The server refuses the whole query: run the scripts before this one, then fail
				// this one at its NUL byte, where nothing of it has run.
				applied, perr := applyJoined(ctx, conn, scripts[:i], tx, reset, mark)
				if perr != nil {
					return applied, perr
				}
				return applied, positioned(s, &s.Statements[j], err)
			}
		}
	}
	var b strings.Builder
	var places []joinedPlace
	runes := 0
	add := func(sc, st int, sql string) {
		places = append(places, joinedPlace{sc, st, runes})
		runes += joinStatement(&b, sql)
	}
	for i, s := range scripts {
		if len(s.Statements) == 0 {
			continue
		}
		if tx {
			add(i, -1, "BEGIN")
		}
		if reset != "" {
			for _, q := range strings.Split(reset, "; ") {
				add(i, -1, q)
			}
		}
		for j, st := range s.Statements {
			if mark != nil && (j == 0 || !joinable(&s.Statements[j-1]) || !joinable(&st)) {
				// As the statement's own place: it cannot fail, and a failure blames the statement. A
				// run of literal INSERTs (a seed's thousands) is marked once, by its first: a mark
				// costs about what such an INSERT does, and they rarely run long.
				add(i, j, mark(i, j))
			}
			add(i, j, st.SQL)
		}
		if tx {
			add(i, len(s.Statements), "COMMIT")
		}
	}
	if len(places) == 0 {
		return len(scripts), nil
	}
	results, err := conn.PgConn().Exec(ctx, b.String()).ReadAll()
	if err == nil {
		if anyForgetsPrepared(scripts) {
			return len(scripts), forgetPrepared(ctx, conn)
		}
		return len(scripts), nil
	}
	if anyForgetsPrepared(scripts) && !ConnectionLost(err) {
		// DEALLOCATE is not undone by a rollback: what ran before the failure stays forgotten.
		defer func() { _ = forgetPrepared(context.WithoutCancel(ctx), conn) }()
	}
	done := 0 // statements that completed: the next one failed
	for _, r := range results {
		if r.Err == nil {
			done++
		}
	}
	if !ConnectionLost(err) {
		_ = Rollback(ctx, conn)
	}
	if done >= len(places) { // cannot happen: every statement completed, yet the query failed
		return 0, err
	}
	p := places[done]
	var pe *pgconn.PgError
	if done == 0 && errors.As(err, &pe) && pe.Position > 0 {
		// Nothing ran: the server could not read the query (a syntax its version lacks). The
		// position names the statement, which may be in a later script than the first.
		for _, q := range places {
			if q.start > int(pe.Position)-1 {
				break
			}
			p = q
		}
		if p.sc > 0 {
			// The scripts before the failing one have not run: run them, then fail it where it is.
			applied, perr := applyJoined(ctx, conn, scripts[:p.sc], tx, reset, mark)
			if perr != nil {
				return applied, perr
			}
			return applied, positionedIn(scripts[p.sc], p, pe)
		}
	}
	applied := 0
	if tx {
		applied = p.sc // the scripts before it committed
	}
	s := scripts[p.sc]
	sts := s.Statements
	switch {
	case p.st < 0:
		return applied, positioned(s, &sts[0], err)
	case p.st >= len(sts):
		return applied, positioned(s, &sts[len(sts)-1], err) // the COMMIT failed: deferred constraints
	}
	if errors.As(err, &pe) && pe.Position > 0 {
		return applied, positionedIn(s, p, pe)
	}
	return applied, positioned(s, &sts[p.st], err)
}

// positionedIn is the *StatementError of an error whose position is in a joined query, at the statement
// of script s that p places (one of its own: not a BEGIN, reset or COMMIT the query added).
func positionedIn(s *migrate.Script, p joinedPlace, pe *pgconn.PgError) *StatementError {
	sts := s.Statements
	st := min(max(p.st, 0), len(sts)-1)
	shifted := *pe
	shifted.Position = pe.Position - int32(p.start)
	if p.st != st || shifted.Position < 1 || int(shifted.Position) > utf8.RuneCountInString(sts[st].SQL)+1 {
		shifted.Position = 0 // the position is not in this statement: keep the statement's own place
	}
	return positioned(s, &sts[st], &shifted)
}
