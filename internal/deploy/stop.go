package deploy

import (
	"context"
	"errors"
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
