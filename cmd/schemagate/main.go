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
	signal.Notify(signals, cli.StopSignals...)
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
		code = cli.SignalExit(s, code)
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
