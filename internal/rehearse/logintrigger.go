package rehearse

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// An event trigger ON login (PostgreSQL 17) runs as every new session of the database starts, and an
// error its function raises refuses the session. The rehearsal keeps its session from one migration to
// the next, so a migration that creates one passed when nothing after it needed a new session (the
// last one, or one followed by transactional migrations only), and was found only by the next migration
// that did (a non-transactional one's tracer), which then failed in its place. After a script that may
// create or enable one, or change what one runs, the rehearsal tries a new session (see loginRefused):
// the migration's tool, the application and the next deploy each start one.

// loginHint is what a migration whose login event trigger refuses new sessions should do.
const loginHint = "An event trigger ON login runs its function as every session of the database starts, and an error it raises refuses that session: " +
	"the application's, a deploy's, a DBA's. Catch the error in the function, or leave the trigger out of the migration."

// loginTriggerStatement is the statement of s that may create or enable an event trigger ON login, or
// change what one runs, nil if none: CREATE EVENT TRIGGER ... ON login (preferred: it names the event),
// ALTER EVENT TRIGGER ... ENABLE (the trigger's event is the catalog's), or a DO block or routine whose
// text mentions an event trigger (SQL built as it runs, a trigger function replaced), as
// pg.ChangesNewSessions reads code bodies. A routine made in one script and called in another is seen
// where it is made; the trigger it creates is then found by the next new session (see refusedReport).
func loginTriggerStatement(s *migrate.Script) *sqlparse.Statement {
	if s == nil {
		return nil
	}
	var maybe *sqlparse.Statement
	for i := range s.Statements {
		st := &s.Statements[i]
		n := st.Node
		switch {
		case n == nil:
		case n.GetCreateEventTrigStmt().GetEventname() == "login":
			return st
		case maybe != nil:
		case n.GetAlterEventTrigStmt() != nil && n.GetAlterEventTrigStmt().GetTgenabled() != "D":
			maybe = st
		case n.GetDoStmt() != nil, n.GetCreateFunctionStmt() != nil:
			if eventTriggerText.MatchString(st.SQL) {
				maybe = st
			}
		}
	}
	return maybe
}

// eventTriggerText finds an event trigger in code the server runs from text ('CREATE EVENT ' ||
// 'TRIGGER', RETURNS event_trigger).
var eventTriggerText = regexp.MustCompile(`(?i)\bevent(_|\b[\s'"|+,()]*\b)trigger\b`)

// loginRefused tries a new session of the rehearsal's database after script s, when s may have created
// or enabled an event trigger ON login (see loginTriggerStatement) on a server that has them (17 and
// later). A refusal is returned as the error of s in phase, at that statement, its message naming the
// trigger as whose's ("its", "the down's"); nil when the session was let in. Another failure to connect
// is the tool's (the error).
func (r *run) loginRefused(ctx context.Context, s *migrate.Script, phase, whose string) (*report.SQLError, error) {
	if r.inst.ServerVersion < 170000 {
		return nil, nil
	}
	st := loginTriggerStatement(s)
	if st == nil {
		return nil, nil
	}
	err := serverAnswers(ctx, r.inst.URL, 30*time.Second)
	if err == nil {
		return nil, nil
	}
	err = r.refusedAtLogin(ctx, err)
	var refused *loginRefusedError
	if !errors.As(err, &refused) {
		return nil, fmt.Errorf("open a new session after %s, which may create or enable a login event trigger: %w", s.File, err)
	}
	return refusalError(refused, whose, phase, s, st), nil
}

// refusalError is refused as the error of script s in phase, at statement st, its trigger whose.
func refusalError(refused *loginRefusedError, whose, phase string, s *migrate.Script, st *sqlparse.Statement) *report.SQLError {
	e := &report.SQLError{Message: refused.message(whose), Phase: phase, File: s.File, Hint: loginHint}
	if st != nil {
		e.Line, e.Column, e.Statement = st.Pos.Line, st.Pos.Column, st.SQL
	}
	var pe *pgconn.PgError
	if errors.As(refused.err, &pe) {
		e.SQLState = pe.Code
	}
	return e
}
