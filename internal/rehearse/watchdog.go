package rehearse

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/report"
)

// DefaultStatementTimeout is how long a statement may run in the rehearsal when Options.StatementTimeout
// is zero. On an empty throwaway database no migration's statement should come near it.
const DefaultStatementTimeout = 10 * time.Minute

// watchdog cancels (pg_cancel_backend) every statement of the rehearsal's database that runs longer than
// limit, from a connection of its own. A migration can SET statement_timeout = 0, and each one starts from
// a reset session, so a server-side timeout would not hold: a migration that loops or sleeps, by mistake
// or on purpose, would keep the CI job until the platform's own timeout (six hours on GitHub). The
// canceled statement fails with SQLSTATE 57014 and its migration is reported failed.
type watchdog struct {
	limit time.Duration
	// canceled counts the statements it canceled, over the whole run (connect and close start and stop
	// the watchdog with the rehearsal's connection).
	canceled *atomic.Int64
	stop     context.CancelFunc
	done     sync.WaitGroup
}

// startWatchdog watches the rehearsal's database from a connection to it (the server's maintenance
// database may be the rehearsal's own, and no other is sure to exist); close stops it, so that the
// database can be copied. A negative limit watches nothing.
func (r *run) startWatchdog(ctx context.Context) error {
	limit := r.opts.StatementTimeout
	if limit == 0 {
		limit = DefaultStatementTimeout
	}
	if limit < 0 {
		return nil
	}
	db, err := currentDatabase(ctx, r.conn)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, r.inst.URL)
	if err != nil {
		return fmt.Errorf("connect the statement watchdog: %w", err)
	}
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	w := &watchdog{limit: limit, stop: stop, canceled: &r.canceled}
	every := min(time.Second, max(limit/4, 10*time.Millisecond))
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		defer conn.Close(context.Background())
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
			}
			var n int64
			// MATERIALIZED: the planner may order a WHERE clause's conditions as it likes, and
			// pg_cancel_backend must run only on the rows the others chose.
			err := conn.QueryRow(wctx, `WITH slow AS MATERIALIZED (
				  SELECT a.pid FROM pg_stat_activity a
				  WHERE a.datname = $1 AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'
				    AND a.state = 'active' AND clock_timestamp() - a.query_start > $2)
				SELECT count(*) FILTER (WHERE pg_cancel_backend(pid)) FROM slow`, db, limit).Scan(&n)
			if err != nil {
				if wctx.Err() == nil {
					r.opts.Logger.Warn("statement watchdog stopped", "error", err)
				}
				return
			}
			if n > 0 {
				w.canceled.Add(n)
				r.opts.Logger.Warn("canceled statements that ran too long", "count", n, "limit", limit)
			}
		}
	}()
	r.watch = w
	return nil
}

// stopWatchdog stops the watchdog and waits for it.
func (r *run) stopWatchdog() {
	if r.watch != nil {
		r.watch.stop()
		r.watch.done.Wait()
		r.watch = nil
	}
}

// timedOut tells whether a failed statement was the watchdog's doing: canceled "due to user request"
// (statement_timeout's own cancel says "due to statement timeout") after the watchdog canceled one.
func (r *run) timedOut(e *report.SQLError) bool {
	return e.SQLState == "57014" && strings.Contains(e.Message, "user request") && r.canceled.Load() > 0
}

// statementLimit is the watchdog's limit, for messages.
func (r *run) statementLimit() time.Duration {
	if r.opts.StatementTimeout == 0 {
		return DefaultStatementTimeout
	}
	return r.opts.StatementTimeout
}
