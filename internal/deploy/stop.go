package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// stopError is a wait of the deploy's (for the window, the deploy lock, a dead run's connection, the
// server after a lost connection) that the cancellation of its context ended. It says what waited and
// names the cause the context was cancelled with (context.Cause: "received SIGTERM", as main cancels
// it), not "context canceled"; errors.Is still finds the context's error, and the cause, in it.
type stopError struct {
	what  string
	cause error
	err   error
}

func (e *stopError) Error() string { return e.what + ": " + e.cause.Error() }

func (e *stopError) Unwrap() []error { return []error{e.err, e.cause} }

// stopped is the error of what, a wait that ctx ended (ctx is done).
func stopped(ctx context.Context, what string) error {
	err := ctx.Err()
	cause := context.Cause(ctx)
	if cause == nil {
		cause = err
	}
	return &stopError{what: what, cause: cause, err: err}
}

// stoppedBlocked turns err, a wait before the deploy changed anything (for the window, for the deploy
// lock) that a signal ended, into a *Blocked that says so: the run did not start, so it is not a failed
// deploy, and its exit code is blocked's (3), which tells the operator the database is as it was. errors.Is
// still finds the context's error and the cause in it. Any other error comes back as it is.
func stoppedBlocked(err error) error {
	var se *stopError
	if !errors.As(err, &se) {
		return err
	}
	return &Blocked{Reason: se.Error() + "; the deploy did not start: nothing was applied and nothing was changed",
		Hint: "run the deploy again", Err: err}
}

// setupStopped turns err, a step of the set-up between taking the deploy lock and the first change (the
// history tables, the lock row, the work connection) that a signal ended, into the *Blocked of
// stoppedBlocked: those steps change nothing of the application's, and the lock (its row with it) is
// released on the way out. created says that the history tables in schema were created (or brought up
// to date) before the signal, which the reason then owns up to. Any other error, and err when ctx is not
// done, comes back as it is.
func setupStopped(ctx context.Context, err error, what string, created bool, schema string) error {
	var b *Blocked
	if err == nil || ctx.Err() == nil || errors.As(err, &b) {
		return err
	}
	blocked := stoppedBlocked(stopped(ctx, "stopped while "+what+", after taking the deploy lock"))
	if created && errors.As(blocked, &b) {
		b.Reason = strings.TrimSuffix(b.Reason, "nothing was changed") +
			"nothing was changed but schemagate's own history tables in schema " + schema + ", which it created (empty) or brought up to date"
	}
	return blocked
}

// notStarted turns err, the end of a step between the set-up and the run's first change to the
// application's schema or data (reading history, the approval, maintenance mode, the snapshot and the
// baseline: d.step) when a signal stopped the run there (ctx is done), into a *Blocked: the run did not
// start, so it is not a failed deploy, and nothing needs rolling back. The signal wins over the step's
// own error (a snapshot or maintenance action that the signal cut short fails too). The reason says what
// the run did meanwhile; finish completes it (see account) once maintenance mode is off again. Any
// error comes back as it is when ctx is not done.
func (d *deployer) notStarted(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	stop := stopped(ctx, "stopped while "+d.step+", after taking the deploy lock")
	d.stop = &Blocked{Reason: stop.Error() + "; the deploy did not start: nothing was applied and nothing was changed",
		Hint: "run the deploy again", Err: stop}
	d.settleStop(ctx)
	return d.stop
}

// settleStop readies the work connection for the records finish writes (the run's end, maintenance mode
// off): a statement the signal cancelled takes its connection with it, so it connects again, and waits
// until the cancelled statement's session is gone (terminating it if it lingers, as one waiting for a
// lock does), so that what that statement did is settled. The run's row, when the signal came while it
// was being written, is then there or not: finish records its end when it is. When it cannot, finish
// notes what it could not record.
func (d *deployer) settleStop(ctx context.Context) {
	var oldPID uint32
	if d.conn != nil && d.conn.PgConn() != nil {
		oldPID = d.conn.PgConn().PID()
	}
	cctx, err := d.cleanup(ctx)
	if err != nil {
		d.log.Warn("connect again after the signal", "err", err)
		return
	}
	if oldPID != 0 && oldPID != d.conn.PgConn().PID() {
		if err := d.waitGone(cctx, int(oldPID)); err != nil {
			d.log.Warn("wait for the stopped statement's session", "err", err)
			return
		}
	}
	if d.run == nil && d.step == "recording the run" {
		var there bool
		err := d.conn.QueryRow(cctx, fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %s WHERE run_id = $1)", d.hist.table("schemagate_runs")), d.o.RunID).Scan(&there)
		if err == nil && there {
			d.run = &runRow{h: d.hist, conn: d.conn, id: d.o.RunID}
		}
	}
}

// account is what a run that a signal stopped before its first change did (see notStarted), to end its
// reason with, read once maintenance mode is off again: schemagate's own records it wrote, maintenance
// mode, the snapshot it took.
func (d *deployer) account() string {
	var own []string
	if d.created {
		own = append(own, "its history tables in schema "+d.hist.schema+", which it created (empty) or brought up to date")
	}
	if d.rekeyed {
		own = append(own, "its history recorded under "+rekeyWhat(d.o.Set))
	}
	if im := d.imported; im != nil {
		own = append(own, fmt.Sprintf("the %d applied migration%s it imported from %s's history (%s)", len(im.rows), plural(len(im.rows)), im.Tool, im.Table))
	}
	if d.run != nil {
		own = append(own, "this run's row in "+d.hist.schema+".schemagate_runs, which records it as blocked")
	}
	var s strings.Builder
	if len(own) > 0 {
		s.WriteString(" but schemagate's own records (" + strings.Join(own, "; ") + ")")
	}
	if mr := d.res.Maintenance; mr != nil {
		switch {
		case mr.Inherited && mr.Off != nil:
			s.WriteString("; it turned off maintenance mode, which an earlier run had left on")
		case mr.Inherited:
			s.WriteString("; maintenance mode, which an earlier run had left on, may still be on (see the notes)")
		case mr.On != nil && mr.Off != nil:
			s.WriteString("; it turned maintenance mode on, and off again")
		case mr.Off != nil:
			s.WriteString("; it was turning maintenance mode on, and turned it off again")
		default:
			s.WriteString("; it was turning maintenance mode on, which may still be on (see the notes)")
		}
	}
	if sn := d.res.Snapshot; sn != nil {
		where := sn.Location
		if where == "" {
			where = sn.ID
		}
		s.WriteString("; it took snapshot " + where + ", which is kept")
	}
	return s.String()
}
