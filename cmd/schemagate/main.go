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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
