// Package pg talks to PostgreSQL: connecting, applying migration scripts statement by statement with
// positioned errors, tracing what each statement locks, rewrites and scans, and inspecting the catalog.
package pg

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
	// A failing statement is then located from the server's error position.
	Whole bool
}

// ApplyScript runs a script's statements in order on conn. It does not begin or commit a transaction:
// the caller decides (see Migration.NoTransaction). On failure it returns a *StatementError.
func ApplyScript(ctx context.Context, conn *pgx.Conn, s *migrate.Script, opts ApplyOptions) error {
	if s == nil {
		return nil
	}
	if opts.Whole && opts.Before == nil && opts.After == nil {
		return applyWhole(ctx, conn, s)
	}
	inTx := conn.PgConn().TxStatus() == 'T'
	for i := range s.Statements {
		st := &s.Statements[i]
		if inTx && sqlparse.OpensOrCommits(st.Node) {
			continue // the script's own BEGIN/COMMIT: the caller's transaction already makes it atomic
		}
		if opts.Before != nil {
			if err := opts.Before(ctx, i, st); err != nil {
				return err
			}
		}
		start := time.Now()
		err := execSimple(ctx, conn, st.SQL)
		d := time.Since(start)
		if err != nil {
			return positioned(s, st, err)
		}
		if opts.After != nil {
			if err := opts.After(ctx, i, st, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// execSimple runs one statement with the simple query protocol (like psql), so any statement works,
// including those the extended protocol refuses.
func execSimple(ctx context.Context, conn *pgx.Conn, sql string) error {
	_, err := conn.PgConn().Exec(ctx, sql).ReadAll()
	return err
}

func applyWhole(ctx context.Context, conn *pgx.Conn, s *migrate.Script) error {
	return applyJoined(ctx, conn, s, false)
}

// applyJoined sends a script as one multi-statement query: one round trip. With tx it is wrapped in
// BEGIN and COMMIT in that same query, and a failure leaves no transaction open.
func applyJoined(ctx context.Context, conn *pgx.Conn, s *migrate.Script, tx bool) error {
	if len(s.Statements) == 0 {
		return nil
	}
	// Send the statements' own text joined, so server positions map back to statements exactly.
	var b strings.Builder
	if tx {
		b.WriteString("BEGIN;\n")
	}
	starts := make([]int, len(s.Statements))
	runes := utf8.RuneCountInString(b.String())
	for i, st := range s.Statements {
		starts[i] = runes
		b.WriteString(st.SQL)
		b.WriteString(";\n")
		runes += utf8.RuneCountInString(st.SQL) + 2
	}
	if tx {
		b.WriteString("COMMIT;\n")
	}
	err := execSimple(ctx, conn, b.String())
	if err == nil {
		return nil
	}
	if tx {
		// A failing statement leaves the transaction aborted; a failing COMMIT (deferred constraints)
		// has already ended it.
		if conn.PgConn().TxStatus() == 'I' {
			if ConnectionLost(err) {
				return positioned(s, &s.Statements[len(s.Statements)-1], err)
			}
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Position == 0 {
				return positioned(s, &s.Statements[len(s.Statements)-1], err) // the COMMIT failed
			}
		}
		_ = execSimple(context.WithoutCancel(ctx), conn, "ROLLBACK")
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Position > 0 {
		pos := int(pe.Position) - 1
		idx := 0
		for i := range starts {
			if starts[i] <= pos {
				idx = i
			}
		}
		shifted := *pe
		shifted.Position = int32(pos - starts[idx] + 1)
		return positioned(s, &s.Statements[idx], &shifted)
	}
	// No position: the failing statement is unknown; blame the script's first statement line but say so.
	se := positioned(s, &s.Statements[0], err)
	return se
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
		}
	}
	return se
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
	if opts.Whole && opts.Before == nil && opts.After == nil && s != nil && !ownsTransaction(s) {
		return applyJoined(ctx, conn, s, true) // BEGIN, the script and COMMIT in one round trip
	}
	if err := execSimple(ctx, conn, "BEGIN"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := ApplyScript(ctx, conn, s, opts); err != nil {
		_ = execSimple(context.WithoutCancel(ctx), conn, "ROLLBACK")
		return err
	}
	if err := execSimple(ctx, conn, "COMMIT"); err != nil {
		if s == nil || len(s.Statements) == 0 {
			return fmt.Errorf("commit: %w", err)
		}
		return positioned(s, &s.Statements[len(s.Statements)-1], err) // deferred constraints fail here
	}
	return nil
}

// Batchable tells whether ApplyBatch can replay m: a transactional migration whose up script does not
// open or end transactions itself.
func Batchable(m *migrate.Migration) bool {
	return !m.NoTransaction && m.Up != nil && len(m.Up.Statements) > 0 && !ownsTransaction(m.Up)
}

// batchMigrations and batchBytes bound what one ApplyBatch query carries: the server parses a query
// string whole before running it, and batches of a few dozen migrations replay fastest.
const (
	batchMigrations = 50
	batchBytes      = 1 << 20
)

// ApplyBatch replays the up scripts of migrations (all Batchable), each in its own transaction, as
// few multi-statement queries as it can: "BEGIN; <script>; COMMIT;" over and over, a few dozen
// migrations per round trip. It returns how many migrations were applied (committed) and, when one
// failed, that migration's *StatementError: the failing statement is the one after the last that
// completed, so it is found even when the server gives no position.
func ApplyBatch(ctx context.Context, conn *pgx.Conn, ms []*migrate.Migration) (int, error) {
	applied := 0
	for applied < len(ms) {
		end, size := applied, 0
		for end < len(ms) && end-applied < batchMigrations && (end == applied || size+len(ms[end].Up.SQL) <= batchBytes) {
			size += len(ms[end].Up.SQL)
			end++
		}
		n, err := applyBatch(ctx, conn, ms[applied:end])
		applied += n
		if err != nil {
			return applied, err
		}
	}
	return applied, nil
}

// batchPlace is where the statement behind one result of a batch comes from: migration m, statement
// st (-1 for the BEGIN, len(statements) for the COMMIT), starting at rune offset start of the query.
type batchPlace struct{ m, st, start int }

func applyBatch(ctx context.Context, conn *pgx.Conn, ms []*migrate.Migration) (int, error) {
	var b strings.Builder
	var places []batchPlace
	runes := 0
	add := func(m, st int, sql string) {
		places = append(places, batchPlace{m, st, runes})
		b.WriteString(sql)
		b.WriteString(";\n")
		runes += utf8.RuneCountInString(sql) + 2
	}
	for i, m := range ms {
		add(i, -1, "BEGIN")
		for j, st := range m.Up.Statements {
			add(i, j, st.SQL)
		}
		add(i, len(m.Up.Statements), "COMMIT")
	}
	results, err := conn.PgConn().Exec(ctx, b.String()).ReadAll()
	if err == nil {
		return len(ms), nil
	}
	done := 0 // statements that completed: the next one failed
	for _, r := range results {
		if r.Err == nil {
			done++
		}
	}
	if conn.PgConn().TxStatus() != 'I' && !ConnectionLost(err) {
		_ = execSimple(context.WithoutCancel(ctx), conn, "ROLLBACK")
	}
	if done >= len(places) { // cannot happen: every statement completed, yet the query failed
		return 0, fmt.Errorf("replay history: %w", err)
	}
	p := places[done]
	m := ms[p.m]
	sts := m.Up.Statements
	switch {
	case p.st < 0:
		return p.m, positioned(m.Up, &sts[0], err)
	case p.st >= len(sts):
		return p.m, positioned(m.Up, &sts[len(sts)-1], err) // the COMMIT failed: deferred constraints
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Position > 0 {
		shifted := *pe
		shifted.Position = pe.Position - int32(p.start)
		if shifted.Position < 1 || int(shifted.Position) > utf8.RuneCountInString(sts[p.st].SQL)+1 {
			shifted.Position = 0 // the position is not in this statement: keep the statement's own place
		}
		return p.m, positioned(m.Up, &sts[p.st], &shifted)
	}
	return p.m, positioned(m.Up, &sts[p.st], err)
}
