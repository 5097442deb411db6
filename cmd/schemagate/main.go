// Command schemagate guards PostgreSQL schema migrations from pull request to production.
package main

import (
	"context"
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
