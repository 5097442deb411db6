package rehearse

import (
	"context"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
)

// A migration that gives its role or database a setting (ALTER ROLE CURRENT_USER SET search_path = app,
// public) changes what every later session starts with, and psql, sqitch or the next deploy runs the
// next migration in such a session. The rehearsal keeps one connection and starts each script with RESET
// ALL (pg.ResetSession), which goes back to what that connection started with, not to the settings added
// since: so after such a script (pg.ChangesNewSessions) it opens a new session, where RESET ALL then
// comes back to them. Scripts that change no such setting keep the connection, and cost nothing more.
// A round trip that runs in one transaction (rolled back) cannot: its re-up starts from the settings the
// up left, whatever its down did to them.

// renewError is a new session the run could not open after a script that changed the settings new
// sessions start with.
type renewError struct {
	after string
	err   error
}

func (e *renewError) Error() string {
	return "open a new session after " + e.after + ", which changes the settings new sessions start with: " + e.err.Error()
}

func (e *renewError) Unwrap() error { return e.err }

// renew opens a new session for the run after script s (named for an error) when s may have changed the
// settings a new session starts with; it tells whether it did.
func (r *run) renew(ctx context.Context, s *migrate.Script) (bool, error) {
	if !pg.ChangesNewSessions(s) {
		return false, nil
	}
	r.close(ctx)
	if err := r.connect(ctx); err != nil {
		return false, &renewError{after: s.File, err: err}
	}
	return true, nil
}

// replay applies the history's ups ms as pg.ApplyHistoryWith does, as the migrations' own statements
// (see run.apply), in a new session after each one that changes the settings new sessions start with: the
// replay's batches stop there. It returns how many were applied, whether it opened a new session, and the
// failure: the migration's (a *pg.StatementError, or a lost connection), or a *renewError.
func (r *run) replay(ctx context.Context, ms []*migrate.Migration) (int, bool, error) {
	applied, renewed := 0, false
	for applied < len(ms) {
		end := applied
		for end < len(ms) && !pg.ChangesNewSessions(ms[end].Up) {
			end++
		}
		end = min(end+1, len(ms)) // with the one that changes them
		part := ms[applied:end]
		done := r.apply()
		n, err := pg.ReplayHistory(ctx, r.conn, part, pg.HistoryOptions{Hook: r.roleHook(ranUps(part, len(part), nil)...),
			Sending: r.replaying(part, applied, len(ms)), Mark: true})
		r.recordRoles(ctx, stoppedAt(err), ranUps(part, n, err)...)
		done()
		applied += n
		if err != nil {
			return applied, renewed, err
		}
		did, err := r.renew(ctx, part[len(part)-1].Up)
		if err != nil {
			return applied, renewed, err
		}
		renewed = renewed || did
	}
	return applied, renewed, nil
}
