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
// limit (none when it is negative), from a connection of its own. A migration can SET statement_timeout
// = 0, and each one starts from a reset session, so a server-side timeout would not hold: a migration
// that loops or sleeps, by mistake or on purpose, would keep the CI job until the platform's own timeout
// (six hours on GitHub). The canceled statement fails with SQLSTATE 57014 and its migration is reported
// failed.
type watchdog struct {
	limit time.Duration
	// canceled counts the statements it canceled, over the whole run (connect and close start and stop
	// the watchdog with the rehearsal's connection).
	canceled *atomic.Int64
	stop     context.CancelFunc
	done     sync.WaitGroup
	// polling is held while one look at the server and what follows from it is in progress: a statement
	// it canceled can fail before the count goes up (see timedOut).
	polling sync.Mutex
}

// startWatchdog watches the rehearsal's database from a connection to it (the server's maintenance
// database may be the rehearsal's own, and no other is sure to exist); close stops it, so that the
// database can be copied. It also says which statement is still running, every StillRunningEvery
// (default 30s), so that a long rehearsal is not silent. A negative limit cancels nothing.
func (r *run) startWatchdog(ctx context.Context) error {
	limit := r.statementLimit()
	every := r.opts.StillRunningEvery
	if every <= 0 {
		every = 30 * time.Second
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
	threshold := every // statements running longer are reported (and canceled past the limit)
	if limit > 0 {
		threshold = min(threshold, limit)
	}
	poll := min(time.Second, max(threshold/4, 10*time.Millisecond))
	// The statements that ran longer than the first threshold: reported ones by their start, to
	// report each again only a period later.
	reported := map[time.Time]time.Duration{}
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		defer conn.Close(context.Background())
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
			}
			w.polling.Lock()
			// MATERIALIZED and CASE: the planner may order a WHERE clause's conditions as it likes,
			// and pg_cancel_backend must run only on the rows the others chose.
			rows, err := conn.Query(wctx, `WITH slow AS MATERIALIZED (
				  SELECT a.pid, a.query_start, clock_timestamp() - a.query_start AS running, a.query
				  FROM pg_stat_activity a
				  WHERE a.datname = $1 AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'
				    AND a.state = 'active' AND clock_timestamp() - a.query_start > $3::interval)
				SELECT query_start, running, left(query, 2000),
				  CASE WHEN $4 AND $2::interval > interval '0' AND running > $2::interval THEN pg_cancel_backend(pid) ELSE false END
				FROM slow WHERE $4`, db, limit, threshold, r.applying.Load())
			if err == nil {
				seen := map[time.Time]bool{}
				for rows.Next() {
					var (
						start    time.Time
						running  time.Duration
						query    string
						canceled bool
					)
					if err = rows.Scan(&start, &running, &query, &canceled); err != nil {
						break
					}
					seen[start] = true
					switch {
					case canceled:
						w.canceled.Add(1)
						r.opts.Logger.Warn("canceled a statement that ran too long", "limit", limit, "statement", statementLine(query))
					case running >= reported[start]+every:
						reported[start] = running.Truncate(every)
						r.opts.Progress("  still running after %s: %s", running.Round(time.Second), statementLine(query))
					}
				}
				rows.Close()
				if err == nil {
					err = rows.Err()
				}
				for start := range reported {
					if !seen[start] {
						delete(reported, start)
					}
				}
			}
			w.polling.Unlock()
			if err != nil {
				if wctx.Err() == nil {
					r.opts.Logger.Warn("statement watchdog stopped", "error", err)
				}
				return
			}
		}
	}()
	r.watch = w
	return nil
}

// apply marks the migrations' own statements as running until the returned func is called: the watchdog
// cancels and reports those only, never schemagate's catalog reads (slow on a loaded machine).
func (r *run) apply() (done func()) {
	r.applying.Store(true)
	return func() { r.applying.Store(false) }
}

// statementLine is a statement as a progress line shows it: the first line of the SQL that is not the
// session reset or BEGIN the rehearsal sends ahead of it (a history batch starts so), at most 100
// characters.
func statementLine(q string) string {
	for _, line := range strings.Split(q, "\n") {
		line = strings.TrimSpace(line)
		switch strings.TrimSuffix(strings.ToUpper(line), ";") {
		case "", "BEGIN", "RESET ALL", "RESET SESSION AUTHORIZATION":
			continue
		}
		if r := []rune(line); len(r) > 100 {
			line = string(r[:99]) + "…"
		}
		return line
	}
	return "(statement)"
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
	if e.SQLState != "57014" || !strings.Contains(e.Message, "user request") {
		return false
	}
	if w := r.watch; w != nil {
		// The cancel takes effect on the server before the watchdog reads the answer that counts it:
		// wait for the look in progress to end.
		w.polling.Lock()
		defer w.polling.Unlock()
	}
	return r.canceled.Load() > 0
}

// statementLimit is the watchdog's limit: Options.StatementTimeout, DefaultStatementTimeout for 0.
func (r *run) statementLimit() time.Duration {
	if r.opts.StatementTimeout == 0 {
		return DefaultStatementTimeout
	}
	return r.opts.StatementTimeout
}
