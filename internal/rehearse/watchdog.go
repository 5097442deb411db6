package rehearse

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sqlparse"
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
	// err, under mu, is why the watchdog gave up watching: its session was ended again and again (a
	// migration that terminates every other backend). It then cancels the migrations' statements.
	mu  sync.Mutex
	err error
	// guard fingerprints a shared server around the migrations' statements (nil on a server of the
	// run's own); blamed, under mu, are the changes it found that resolveBlame has yet to pin on a
	// migration.
	guard  *serverGuard
	blamed []string
}

// cancelGrace is how long a canceled statement may go on before the watchdog ends its session.
const cancelGrace = 5 * time.Second

// answerWithin is how long the watchdog waits for an answer of the server (its look at the statements, a
// new connection) before it takes the server for frozen: a paused container, a stopped postmaster. A
// live server answers those in milliseconds, even on a loaded machine.
const answerWithin = 10 * time.Second

// errNoAnswer marks a look at the server, or a statement, that got no answer in time (see answerWithin);
// errNoSignal one whose backend takes no signal (its session ended, it runs on).
var (
	errNoAnswer = errors.New("no answer")
	errNoSignal = errors.New("still runs its statement")
)

// watchdogLosses is how many times in a row the watchdog may lose its connection (or fail to get one)
// before it gives up watching and cancels every statement of the migrations instead.
const watchdogLosses = 3

// startWatchdog watches the rehearsal's database from a connection to it (the server's maintenance
// database may be the rehearsal's own, and no other is sure to exist); close stops it, so that the
// database can be copied. It also says which statement is still running, every StillRunningEvery
// (default 30s), so that a long rehearsal is not silent. A negative limit cancels nothing.
//
// A migration can end the watchdog's session (pg_terminate_backend on every other backend) and then
// sleep: the watchdog connects again and the limit holds. When it cannot (the migration keeps ending
// sessions), it cancels the migrations' statements through the rehearsal connection's own cancel
// key, which no SQL can revoke, and the canceled statement's migration fails saying why (see timedOut).
//
// A server that stops answering (its container paused, its processes stopped, a hung host) would hold
// the run forever: neither the statement nor the cancel request would ever return. When the watchdog's
// look gets no answer within answerWithin, nor a new connection, or a statement whose session it ended
// still runs answerWithin later, it stops the run (see run.frozen): the run fails as the tool's, naming
// the server and what the provider knows of it, and the server is removed as after any run.
//
// first is the watchdog's connection (see connectPair), which it closes when it stops, or at once when
// it cannot start.
func (r *run) startWatchdog(ctx context.Context, first *pgx.Conn) error {
	limit := r.statementLimit()
	every := r.opts.StillRunningEvery
	if every <= 0 {
		every = 30 * time.Second
	}
	db, err := r.database(ctx)
	if err != nil {
		first.Close(context.WithoutCancel(ctx))
		return err
	}
	// Its reconnects wait 5 s for the server, whatever the URL's connect_timeout says: a shorter one
	// would count a server slow to accept as a lost connection, three of which stop the watchdog.
	again := ownDeadline(first.Config())
	rehearsal := r.conn.PgConn() // its cancel key stays valid whatever a migration does
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	w := &watchdog{limit: limit, stop: stop, canceled: &r.canceled}
	if r.inst.ClaimRoles != nil { // a shared server: see serverGuard
		if w.guard, err = newServerGuard(ctx, r); err != nil {
			stop()
			first.Close(context.Background())
			return err
		}
	}
	threshold := every // statements running longer are reported (and canceled past the limit)
	if limit > 0 {
		threshold = min(threshold, limit)
	}
	poll := min(time.Second, max(threshold/4, 10*time.Millisecond))
	// The statements that ran longer than the first threshold: reported ones by their start, to
	// report each again only a period later.
	reported := map[time.Time]time.Duration{}
	// look reads the long-running statements once through conn, cancels those past the limit and
	// reports the others.
	ended := map[time.Time]bool{} // the statements whose session it ended, by their start
	// The statements it canceled, by their start: one that is still active at the next look (it caught
	// the cancellation, or its backend was slow to take it) is canceled again, which a handler that
	// catches one cancellation needs, but said and counted once.
	canceledAt := map[time.Time]bool{}
	look := func(conn *pgx.Conn) (err error) {
		w.polling.Lock()
		defer w.polling.Unlock()
		lctx, cancel := context.WithTimeout(wctx, answerWithin)
		defer cancel()
		defer func() {
			if err != nil && lctx.Err() != nil && wctx.Err() == nil {
				err = fmt.Errorf("%w within %s to the statement watchdog's look at the running statements: %w", errNoAnswer, answerWithin, err)
			}
		}()
		// The backend that plans the catalog reads beside the replay ($6, see run.warming) is left out:
		// its statements are schemagate's own, neither a migration's to report nor one to cancel.
		// MATERIALIZED and CASE: the planner may order a WHERE clause's conditions as it likes,
		// and pg_cancel_backend must run only on the rows the others chose.
		rows, err := conn.Query(lctx, `WITH slow AS MATERIALIZED (
			  SELECT a.pid, a.query_start, clock_timestamp() - a.query_start AS running, a.query, a.application_name
			  FROM pg_stat_activity a
			  WHERE a.datname = $1 AND a.pid <> pg_backend_pid() AND a.pid <> $6 AND a.backend_type = 'client backend'
			    AND a.state = 'active' AND clock_timestamp() - a.query_start > $3::interval)
			SELECT pid, query_start, running, left(query, 2000), coalesce(application_name, ''),
			  CASE WHEN $4 AND $2::interval > interval '0' AND running > $2::interval THEN pg_cancel_backend(pid) ELSE false END,
			  -- a statement that outlives its cancellation (a loop that catches query_canceled) has its
			  -- session ended: a cancel takes effect within milliseconds
			  CASE WHEN $4 AND $2::interval > interval '0' AND running > $2::interval + $5::interval THEN pg_terminate_backend(pid) ELSE false END
			FROM slow WHERE $4`, db, limit, threshold, r.applying.Load(), cancelGrace, r.warming.Load())
		if err != nil {
			return err
		}
		seen := map[time.Time]bool{}
		var frozen error
		for rows.Next() {
			var (
				pid      int
				start    time.Time
				running  time.Duration
				query    string
				app      string
				canceled bool
				end      bool
			)
			if err = rows.Scan(&pid, &start, &running, &query, &app, &canceled, &end); err != nil {
				break
			}
			seen[start] = true
			// What the rehearsal's own session runs is named by phase, file and line: the text alone
			// does not tell the up's statement from the re-up's, nor a history batch's from another.
			// A history batch's text is that of all its scripts: the statement is the one its mark
			// names.
			if pid != int(rehearsal.PID()) && pid == int(r.warmed.Load()) {
				// The warm-up's backend, read by a look sent before it was known ($6 was 0 then) and
				// answered once it ran: schemagate's own too.
				continue
			}
			at := "  "
			if pid == int(rehearsal.PID()) {
				if !end && !canceled && r.running.Load() == nil {
					// The migrations' statements stopped running since the look began (applying was read
					// as it was sent): this is schemagate's own, a catalog read after them, no line's.
					continue
				}
				where, st := r.runningAt(app)
				if where != "" {
					at += where + ": "
				}
				if st != nil {
					query = st.SQL
				}
			}
			switch {
			case end && running > limit+cancelGrace+answerWithin:
				// Its backend takes no signal: stopped (SIGSTOP), or hung in the kernel.
				frozen = fmt.Errorf("%w: its backend (pid %d) %w %s after the watchdog ended its session (statement timeout %s): %s",
					errNoAnswer, pid, errNoSignal, (running - limit - cancelGrace).Round(time.Second), limit, statementLine(query))
			case end:
				r.ended.Store(statementLine(query))
				if !ended[start] {
					ended[start] = true
					r.opts.Progress("%sstill running %s after its cancellation (statement timeout %s): its session is ended: %s", at, tenths(running-limit), limit, statementLine(query))
				}
			case canceled:
				if !canceledAt[start] {
					canceledAt[start] = true
					w.canceled.Add(1)
					r.opts.Progress("%scanceled after %s (statement timeout %s): %s", at, tenths(running), limit, statementLine(query))
				}
			case running >= reported[start]+every:
				reported[start] = running.Truncate(every)
				r.opts.Progress("%sstill running after %s: %s", at, running.Round(time.Second), statementLine(query))
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
		for start := range ended {
			if !seen[start] {
				delete(ended, start)
			}
		}
		for start := range canceledAt {
			if !seen[start] {
				delete(canceledAt, start)
			}
		}
		if err == nil {
			err = frozen
		}
		return err
	}
	// reconnect gets a new connection after the last was lost, and says what the rehearsal was running:
	// most likely the statement that ended the watchdog's session.
	reconnect := func() (conn *pgx.Conn, err error) {
		cctx, cancel := context.WithTimeout(wctx, 5*time.Second)
		defer cancel()
		defer func() {
			if err != nil && cctx.Err() != nil && wctx.Err() == nil {
				err = fmt.Errorf("%w within 5s to the statement watchdog's new connection: %w", errNoAnswer, err)
			}
		}()
		conn, err = pgx.ConnectConfig(cctx, again)
		if err != nil {
			return nil, err
		}
		var q string
		if err := conn.QueryRow(cctx, `SELECT coalesce(left(query, 2000), '') FROM pg_stat_activity WHERE pid = $1`, rehearsal.PID()).Scan(&q); err != nil {
			conn.Close(context.Background())
			return nil, err
		}
		r.opts.Progress("  the statement watchdog's session was ended; it reconnected (the rehearsal was running: %s)", statementLine(q))
		return conn, nil
	}
	// cancelRehearsal cancels what the rehearsal connection runs, with the cancel protocol (no session
	// of the watchdog's own needed).
	cancelRehearsal := func() {
		if !r.applying.Load() {
			return
		}
		cctx, cancel := context.WithTimeout(wctx, 5*time.Second)
		defer cancel()
		w.polling.Lock()
		defer w.polling.Unlock()
		if err := rehearsal.CancelRequest(cctx); err != nil && wctx.Err() == nil {
			r.opts.Logger.Error("cancel a statement the watchdog cannot watch", "error", err)
		}
	}
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		conn := first
		defer func() {
			if conn != nil {
				conn.Close(context.Background())
			}
		}()
		t := time.NewTicker(poll)
		defer t.Stop()
		losses := 0              // in a row, without a look that worked
		progressed := time.Now() // the replay's last progress line (see replayProgress)
		for {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
			}
			if w.failure() != nil {
				cancelRehearsal()
				continue
			}
			if conn == nil {
				c, err := reconnect()
				if err != nil {
					if wctx.Err() != nil {
						return
					}
					if r.frozen(wctx, err, rehearsal) {
						return
					}
					if losses++; losses >= watchdogLosses {
						w.fail(err, r.opts.Logger)
						r.cover(false) // the sentinel tells a frozen server from here on
						cancelRehearsal()
					}
					continue
				}
				conn = c
			}
			err := look(conn)
			if err == nil {
				losses = 0
				if now := r.running.Load(); now != nil && now.history != nil && r.applying.Load() &&
					time.Since(progressed) >= pg.ProgressEvery && time.Since(now.start) >= pg.ProgressEvery {
					r.replayProgress(wctx, conn, now, rehearsal.PID())
					progressed = time.Now()
				}
				continue
			}
			if wctx.Err() != nil {
				return
			}
			if r.frozen(wctx, err, rehearsal) {
				return
			}
			// The session was ended (or the look failed otherwise): connect again at once, so the
			// limit holds for the statement running now.
			r.opts.Logger.Warn("statement watchdog lost its connection; reconnecting", "error", err)
			conn.Close(context.Background())
			conn = nil
			losses++
			if losses >= watchdogLosses {
				w.fail(err, r.opts.Logger)
				r.cover(false)
				cancelRehearsal()
				continue
			}
			if c, err := reconnect(); err == nil {
				conn = c
			} else if wctx.Err() != nil || r.frozen(wctx, err, rehearsal) {
				return
			}
		}
	}()
	r.watch = w
	r.cover(true)
	return nil
}

// running is what the rehearsal's session runs: a phase ("up", "down", "re-up", "verify") of script, at
// the statement sent last (see pg.ApplyOptions.Running), or a part of the history's replay.
type running struct {
	phase  string
	script *migrate.Script
	st     atomic.Pointer[sqlparse.Statement]
	// history is the part of the history being replayed (pg.ReplayHistory's ms), after before of the
	// replay's total migrations, which started at start; sent is the migration sent last, and its
	// statement when it went on its own (see pg.HistoryOptions.Sending).
	history       []*migrate.Migration
	before, total int
	start         time.Time
	sent          atomic.Pointer[sentAt]
}

// sentAt is a migration of running.history (its index) and its statement sent last (nil when sent in a
// batch).
type sentAt struct {
	m  int
	st *sqlparse.Statement
}

// during records that the rehearsal's session runs phase of s, and returns what tells it each statement
// as it is sent (see pg.ApplyOptions.Running). The record lasts until the statements stop running
// (see run.apply).
func (r *run) during(phase string, s *migrate.Script) func(*sqlparse.Statement) {
	now := &running{phase: phase, script: s}
	r.running.Store(now)
	return func(st *sqlparse.Statement) { now.st.Store(st) }
}

// replaying records that the rehearsal's session replays part of the history, before of them having
// been replayed already, out of total; it returns what tells it which migration is sent (see
// pg.HistoryOptions.Sending).
func (r *run) replaying(part []*migrate.Migration, before, total int) func(int, *sqlparse.Statement) {
	start := r.replayStart
	if start.IsZero() {
		start = time.Now()
	}
	now := &running{phase: "history", history: part, before: before, total: total, start: start}
	r.running.Store(now)
	return func(m int, st *sqlparse.Statement) { now.sent.Store(&sentAt{m, st}) }
}

// runningAt says where the rehearsal's session is, for a watchdog line: "down at db/1_a.down.sql:2",
// "history migration 1_a at db/1_a.up.sql:2", with the statement when it knows it; "" when nothing
// is recorded. app is the session's application_name, which marks the statement a history batch
// runs (see pg.HistoryOptions.Mark).
func (r *run) runningAt(app string) (string, *sqlparse.Statement) {
	now := r.running.Load()
	if now == nil {
		return "", nil
	}
	if now.history != nil {
		m, st := now.at(app)
		if m < 0 {
			return "", nil
		}
		hm := now.history[m]
		if st == nil {
			return "history migration " + hm.ID() + " (or one sent with it)", nil
		}
		return fmt.Sprintf("history migration %s at %s:%d", hm.ID(), path.Join(filepath.ToSlash(r.opts.Dir), hm.Up.File), st.Pos.Line), st
	}
	if now.script == nil {
		return "", nil
	}
	file := path.Join(filepath.ToSlash(r.opts.Dir), now.script.File)
	if st := now.st.Load(); st != nil {
		return fmt.Sprintf("%s at %s:%d", now.phase, file, st.Pos.Line), st
	}
	return now.phase + " of " + file, nil
}

// at is the migration of the history's part (its index; -1 for none yet) and the statement (nil when
// not known) that the session runs, its application_name app holding a batch's mark.
func (now *running) at(app string) (int, *sqlparse.Statement) {
	if m, i, ok := pg.Marked(app); ok && m < len(now.history) && i < len(now.history[m].Up.Statements) {
		return m, &now.history[m].Up.Statements[i]
	}
	if sent := now.sent.Load(); sent != nil {
		return sent.m, sent.st
	}
	return -1, nil
}

// replayProgress says how far the history's replay has come (now is its record), as the up's
// progress does for a long script: which migration of how many, and where, from the rehearsal's
// application_name (a batch's mark).
func (r *run) replayProgress(ctx context.Context, conn *pgx.Conn, now *running, pid uint32) {
	ctx, cancel := context.WithTimeout(ctx, answerWithin)
	defer cancel()
	var app string
	if err := conn.QueryRow(ctx, `SELECT coalesce(application_name, '') FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&app); err != nil {
		return // the next look finds out what is wrong
	}
	m, st := now.at(app)
	if m < 0 {
		return
	}
	hm := now.history[m]
	where := hm.ID()
	if st != nil {
		where += ", " + path.Join(filepath.ToSlash(r.opts.Dir), hm.Up.File) + ":" + fmt.Sprint(st.Pos.Line)
	}
	r.opts.Progress("  history: %d of %d migrations in %s, now at %s", now.before+m, now.total, time.Since(now.start).Round(time.Second), where)
}

// announce says that the round trip's phase (down, re-up) of s starts, after an up that ran long
// enough for the user to follow the run: its lines would otherwise read as the up's.
func (r *run) announce(phase string, s *migrate.Script) {
	if r.current == nil || time.Duration(r.current.DurationMS)*time.Millisecond < pg.ProgressEvery || s == nil {
		return
	}
	r.opts.Progress("  round trip: %s, %s", phase, path.Join(filepath.ToSlash(r.opts.Dir), s.File))
}

// frozen tells whether err, what the watchdog's look or connection got, means that the server stopped
// answering: it got no answer in time (errNoAnswer), and a new connection gets none within answerWithin
// either, or a backend takes no signal. It then stops the run, cutting the rehearsal's connection.
func (r *run) frozen(wctx context.Context, err error, rehearsal *pgconn.PgConn) bool {
	if !errors.Is(err, errNoAnswer) {
		return false
	}
	// A backend that takes no signal stops the run whether or not the server still takes connections.
	if !errors.Is(err, errNoSignal) {
		// A refusal, or a connection the host refuses, is an answer: the server is not frozen.
		if err := serverAnswers(wctx, r.inst.URL, answerWithin); !waitedInVain(err) {
			r.opts.Logger.Warn("statement watchdog: a slow answer, but the server answers", "error", err)
			return false
		}
		err = fmt.Errorf("%w, nor to a new connection within %s", err, answerWithin)
	}
	if wctx.Err() != nil {
		return false
	}
	r.stopFrozen(wctx, fmt.Errorf("%w, so the run was stopped", err))
	_ = rehearsal.Conn().Close() // the migration's statement returns, whatever its context
	return true
}

// stopFrozen stops the run because its server stopped answering (err says how it found out): the run's
// context is canceled with a stoppedError naming the step and what the provider knows of the server, so
// every call of the run returns, on every connection, and the run fails with that error (once: the
// first stop wins).
func (r *run) stopFrozen(ctx context.Context, err error) {
	stopped := &stoppedError{provider: r.opts.Provider.Name(), err: err, dir: r.opts.Dir}
	stopped.during, _ = r.step.Load().(string)
	if r.inst.Stalled != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerWithin)
		stopped.hint = r.inst.Stalled(sctx)
		cancel()
	}
	r.opts.Logger.Error("the throwaway PostgreSQL stopped answering; stopping the run", "error", stopped)
	if r.stall != nil {
		r.stall(stopped)
	}
}

// tenths is d to a tenth of a second, for a line that compares it with the statement timeout: in whole
// seconds a statement canceled at 5.7 s of a 5 s limit ran "6s", which the report's 5672 ms contradicts.
func tenths(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }

// ownDeadline is cfg for a connection that only the caller's context times out: the watchdog and the
// sentinel give the server their own time to answer (answerWithin, 5 s for a reconnect), which a URL's
// connect_timeout (the url provider adds 10 s, a user may write 1) must not shorten into a lost
// connection, nor into no answer.
func ownDeadline(cfg *pgx.ConnConfig) *pgx.ConnConfig {
	cfg = cfg.Copy()
	cfg.ConnectTimeout = 0
	cfg.DialFunc = (&net.Dialer{}).DialContext // connect_timeout bounds the dial too
	return cfg
}

// waitedInVain tells whether err is a wait for the server that ran out of time.
func waitedInVain(err error) bool {
	return pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded)
}

// fail records that the watchdog cannot watch any more.
func (w *watchdog) fail(err error, log interface{ Error(string, ...any) }) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
		log.Error("statement watchdog: the migrations' statements are canceled from now on", "error", err)
	}
}

// failure is why the watchdog stopped watching, nil while it watches.
func (w *watchdog) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// apply marks the migrations' own statements as running until the returned func is called: the watchdog
// cancels and reports those only, never schemagate's catalog reads (slow on a loaded machine).
//
// On a shared server it also fingerprints the server before and after (see serverGuard), and a change
// fails the migration that made it.
func (r *run) apply() (done func()) {
	r.resolveBlame()
	var g *serverGuard
	if r.watch != nil && r.watch.failure() == nil {
		g = r.watch.guard
	}
	if g != nil {
		if err := g.start(); err != nil {
			r.blame(nil, err)
			g = nil
		}
	}
	r.applying.Store(true)
	return func() {
		r.applying.Store(false)
		r.running.Store(nil)
		if g == nil {
			return
		}
		if what, err := g.check(); err != nil || len(what) > 0 {
			r.blame(what, err)
		}
	}
}

// statementLine is a statement as a progress line shows it: the first line of the SQL that is not the
// session reset or BEGIN the rehearsal sends ahead of it (a history batch starts so), at most 100
// characters.
func statementLine(q string) string {
	for _, line := range strings.Split(q, "\n") {
		// A joined query puts each statement's semicolon at the start of the next line.
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), ";"))
		switch strings.TrimSuffix(strings.ToUpper(line), ";") {
		case "", "BEGIN", "RESET ALL", "RESET SESSION AUTHORIZATION", "DISCARD TEMP", "DISCARD SEQUENCES":
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
	r.cover(false) // the sentinel watches until the next watchdog does
	if r.watch != nil {
		r.watch.stop()
		r.watch.done.Wait()
		r.resolveBlame()
		if r.watch.guard != nil {
			r.watch.guard.close()
		}
		r.watch = nil
	}
}

// timedOut tells whether a failed statement was the watchdog's doing: canceled "due to user request"
// (statement_timeout's own cancel says "due to statement timeout") after the watchdog canceled one.
// Once the watchdog has given up (see startWatchdog), it rewrites e to say so and returns false.
func (r *run) timedOut(e *report.SQLError) bool {
	if e.SQLState != "57014" || !strings.Contains(e.Message, "user request") {
		return false
	}
	if w := r.watch; w != nil {
		// The cancel takes effect on the server before the watchdog reads the answer that counts it:
		// wait for the look in progress to end.
		w.polling.Lock()
		defer w.polling.Unlock()
		if err := w.failure(); errors.Is(err, ErrSharedServer) {
			e.Message = fmt.Sprintf("canceled: %v", err)
			e.Hint = "--provider url shares the server: rehearse migrations that change roles, databases or the server with --provider local or docker."
			return false
		} else if err != nil {
			e.Message = fmt.Sprintf("canceled: the statement watchdog's session was ended and it could not connect again (%v), so no statement may run without its time limit", err)
			e.Hint = "A migration ended the other sessions on the server (pg_terminate_backend, most likely this one): a migration must not end sessions it did not open."
			return false
		}
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
