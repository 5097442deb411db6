package rehearse

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pg"
)

// sentinel watches whether the server still answers while the statement watchdog does not watch it:
// before the first connection, while the database is copied, renamed or dropped for a round trip (the
// watchdog's connection would keep CREATE DATABASE ... TEMPLATE from copying it), while the rehearsal
// reconnects, and once the watchdog has given up watching. A call of the run to a server that stopped
// answering there (a paused container, stopped processes, a hung host) would never return: the
// sentinel stops the run as the watchdog does (see run.frozen), from one goroutine that lives as long
// as the run, whatever the step.
type sentinel struct {
	stop context.CancelFunc
	done sync.WaitGroup
	// target is where it asks: the server's admin database, never the rehearsal's (its copy needs it
	// without other sessions), within its own time whatever the URL's connect_timeout says (see
	// ownDeadline).
	target *pgx.ConnConfig
}

// sentinelEvery is how often the sentinel asks, while the watchdog does not watch.
const sentinelEvery = time.Second

// startSentinel starts the run's sentinel; the returned func stops it and waits for it. It watches
// while r.uncovered is set (see run.cover).
func (r *run) startSentinel(ctx context.Context) (stop func(), err error) {
	target, err := sentinelTarget(r.inst.URL, r.inst.AdminURL)
	if err != nil {
		return nil, fmt.Errorf("read the throwaway database's URL: %w", err)
	}
	sctx, cancel := context.WithCancel(ctx)
	s := &sentinel{stop: cancel, target: ownDeadline(target)}
	r.uncovered.Store(true)
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		var conn *pgx.Conn
		defer func() { closeSoon(conn) }()
		t := time.NewTicker(sentinelEvery)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
			}
			if !r.uncovered.Load() {
				// Held while the watchdog watches, its session would keep its database from being
				// copied or dropped (a migration's CREATE DATABASE copies template1).
				closeSoon(conn)
				conn = nil
				continue
			}
			var err error
			conn, err = s.ask(sctx, conn)
			if sctx.Err() != nil {
				return
			}
			if !waitedInVain(err) || !r.uncovered.Load() {
				continue // an answer (a refusal too), or the watchdog watches again and judges itself
			}
			r.stopFrozen(sctx, fmt.Errorf("%w within %s to the sentinel's SELECT 1 on a connection of its own: %w, so the run was stopped", errNoAnswer, answerWithin, err))
			return
		}
	}()
	return func() { s.stop(); s.done.Wait() }, nil
}

// ask asks the server on conn, the sentinel's connection, whether it answers (SELECT 1), within
// answerWithin; when conn is nil or lost, on a new connection opened within what is left of that time.
// One connection, kept: on a shared server (url provider) a connection a second would fill its log and
// count against its max_connections (or a pooler's). It returns the connection to ask on next time (nil
// once lost) and why the server did not answer: a timeout (see waitedInVain) when nothing answered in
// time, a lost connection that could not be opened again in time among them.
func (s *sentinel) ask(ctx context.Context, conn *pgx.Conn) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, answerWithin)
	defer cancel()
	if conn != nil {
		_, err := conn.PgConn().Exec(ctx, "SELECT 1").ReadAll()
		if err == nil {
			return conn, nil
		}
		closeSoon(conn)
		if waitedInVain(err) || ctx.Err() != nil {
			return nil, err
		}
	}
	conn, err := pgx.ConnectConfig(ctx, pg.OwnSession(s.target))
	if err != nil {
		return nil, err
	}
	if _, err := conn.PgConn().Exec(ctx, "SELECT 1").ReadAll(); err != nil {
		closeSoon(conn)
		return nil, err
	}
	return conn, nil
}

// closeSoon closes conn (when not nil) without waiting on a server that may not answer.
func closeSoon(conn *pgx.Conn) {
	if conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// cover tells the sentinel whether the watchdog watches the server (false while it does not).
func (r *run) cover(watched bool) { r.uncovered.Store(!watched) }

// sentinelTarget is the connection the sentinel makes: to the admin URL when there is one, on a
// database other than the rehearsal's (see adminConn), else to url.
func sentinelTarget(url, adminURL string) (*pgx.ConnConfig, error) {
	if adminURL == "" {
		return pgx.ParseConfig(url)
	}
	work, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(adminURL)
	if err != nil {
		return nil, err
	}
	if cfg.Database == work.Database {
		cfg.Database = "template1"
	}
	return cfg, nil
}

// guard makes the run stop when its server stops answering (see run.frozen and sentinel): the run's
// calls take the returned context, which that stop cancels. end, called once the run is over with what
// it returns, stops the sentinel and says what the run must return instead: the stoppedError of that
// stop, whatever a call returned after it (a lost connection, a canceled context, a rollback's error),
// the *capacityError of a session the server refused (see blame), or, for a lost connection to a server that no longer answers, a stoppedError saying so.
func (r *run) guard(ctx context.Context) (_ context.Context, end func(error) error, err error) {
	outer := ctx
	ctx, stall := context.WithCancelCause(ctx)
	r.stall = stall
	stopSentinel, err := r.startSentinel(ctx)
	if err != nil {
		stall(nil)
		return nil, nil, err
	}
	return ctx, func(err error) error {
		stopSentinel()
		defer stall(nil)
		var stopped *stoppedError
		if errors.As(context.Cause(ctx), &stopped) && outer.Err() == nil {
			return stopped
		}
		var refused *capacityError
		if errors.As(context.Cause(ctx), &refused) && outer.Err() == nil {
			return refused // a session the server refused for want of capacity (see blame)
		}
		// "reset session: unexpected EOF" says little: say that the server went away (a crash, an OOM
		// kill, a container stopped from outside) when it no longer answers.
		if err != nil && ctx.Err() == nil && !errors.As(err, &stopped) && pg.ConnectionLost(err) && serverAnswers(ctx, r.inst.URL, 5*time.Second) != nil {
			return &stoppedError{provider: r.opts.Provider.Name(), err: err, dir: r.opts.Dir}
		}
		return err
	}, nil
}
