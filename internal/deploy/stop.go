package deploy

import "context"

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
