// Command schemagate guards PostgreSQL schema migrations from pull request to production.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/schemagate/schemagate/internal/cli"
)

func main() {
	// A closed stdout or stderr (schemagate check | head) must not kill the process: Go's default for
	// SIGPIPE on them is to exit at once, which would leave a throwaway container running or a deploy
	// half done. Ignored, the write fails instead, and the run finishes and cleans up.
	signal.Ignore(syscall.SIGPIPE)
	ctx, cancel := context.WithCancelCause(context.Background())
	// Later signals stay caught, and so do not cut short the clean-up the first one started (a deploy's
	// rollback among it); SIGKILL remains for a person who wants out at any cost.
	// SIGHUP (the terminal or ssh session that ran it went away) stops it as SIGTERM does: Go's default
	// would end the process at once, a deploy half done, with no rollback. Its output then goes nowhere:
	// writes fail (EIO, or EPIPE, SIGPIPE being ignored) and the run carries on regardless.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	got := make(chan os.Signal, 1)
	go func() {
		s := <-signals
		got <- s
		// The run stops and cleans up (servers, containers, a deploy's rollback); context.Cause names
		// the signal in what it reports.
		cancel(fmt.Errorf("received %s", signalName(s)))
	}()
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	select {
	case s := <-got:
		code = exitCode(s, code)
	default:
	}
	os.Exit(code)
}

// signalName is how a person knows the signal: SIGTERM (a cancelled CI job), SIGINT (Ctrl-C), SIGHUP
// (a dropped ssh session).
func signalName(s os.Signal) string {
	if n, ok := s.(syscall.Signal); ok {
		switch n {
		case syscall.SIGTERM:
			return "SIGTERM"
		case syscall.SIGINT:
			return "SIGINT (Ctrl-C)"
		case syscall.SIGHUP:
			return "SIGHUP (the terminal hung up)"
		}
	}
	return s.String()
}

// exitCode is the exit code of a run that a signal stopped: 128 plus the signal's number (130 for
// Ctrl-C, 143 for SIGTERM, 129 for SIGHUP), as shells and CI runners expect of an interrupted command,
// when the run ended as a tool failure (1), which is how a cancelled run ends. A run that finished its own way
// (0 done, 3 a deploy rolled back, ...) keeps its code: it says what the database is like.
func exitCode(s os.Signal, code int) int {
	n, ok := s.(syscall.Signal)
	if !ok || code != 1 {
		return code
	}
	return 128 + int(n)
}
