package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/migrate"
)

// reconnectWait is how long a deploy that lost its work connection tries to connect again (the server
// may be restarting); reconnectEvery how often it tries.
const (
	reconnectWait  = 30 * time.Second
	reconnectEvery = time.Second
)

// lostInTransaction handles the work connection breaking while pending[i], a transactional migration,
// ran, or the server ending its session because it outlasted transaction_timeout. The server rolls back
// the transaction of a connection it loses, so nothing of that migration is applied, unless the break
// came during its COMMIT: its history row, written in the same transaction, tells. The deploy connects again (waiting up to reconnectWait for a server that restarts) and rolls
// back the run's earlier migrations as after any failure. When the server stays away, it says what is
// known and leaves the run, still recorded as running, to deploy --recover: no snapshot restore and no
// verification can run without a server.
func (d *deployer) lostInTransaction(ctx context.Context, pending []*migrate.Migration, i int, ids map[string]int64, st step, cause error) error {
	m := pending[i]
	mr := &d.res.Migrations[i]
	lost := "lost the connection to the database server"
	timedOut, limit := transactionTimedOut(cause), ""
	if timedOut {
		tt, from := d.transactionTimeout()
		limit = "transaction_timeout " + tt.String()
		lost = fmt.Sprintf("the server ended the session, as the migration's transaction outlasted %s (%s)", limit, from)
	}
	d.progress("%s: %s: %v", m.ID(), lost, cause)
	if d.conn != nil {
		d.conn.Close(context.WithoutCancel(ctx))
	}
	if err := d.reconnect(ctx); err != nil {
		return d.unreachable(pending[:i], m, st.committing, err)
	}
	// The history row commits with the migration: applied means the COMMIT went through.
	status, err := d.hist.status(ctx, d.conn, ids[m.Key()], m.ID())
	if err != nil {
		return d.unreadable(pending[:i], m, ids[m.Key()], st, "lost the connection to the database server during "+m.ID(), err)
	}
	applied := pending[:i]
	why := fmt.Sprintf("lost the connection to the database server during %s: the server rolled back its transaction, nothing of it is applied", m.ID())
	if timedOut {
		why = fmt.Sprintf("%s ran longer than %s: the server ended its session and rolled back its transaction, nothing of it is applied", m.ID(), limit)
	}
	if status == StatusApplied {
		mr.Status = StatusApplied
		applied = pending[:i+1]
		why = fmt.Sprintf("lost the connection to the database server during the COMMIT of %s, which went through", m.ID())
	} else {
		d.markFailed(ctx, ids[m.Key()], m, st, cause.Error())
	}
	d.progress("%s", why)
	if len(applied) > 0 {
		return d.rollback(ctx, undoPlan{migs: applied, ids: ids}, why)
	}
	// Nothing to undo: check that the database is as it was.
	d.res.Reason = why
	v := d.verifier()
	checks := v.afterRollback(ctx, d.base)
	d.res.Verify = append(d.res.Verify, checks...)
	if bad := failedChecks(checks); len(bad) > 0 {
		d.res.Outcome = OutcomeFailed
		d.res.Hint = fmt.Sprintf("the database should be as it was, but %q failed: %s", bad[0].Name, bad[0].Message)
		return fmt.Errorf("%s; but %s", why, d.res.Hint)
	}
	d.res.Outcome = OutcomeRolledBack
	d.progress("nothing of this run is applied, verified")
	return errors.New(why)
}

// reconnect opens the work connection again, retrying for reconnectWait, and makes sure this run still
// holds the deploy lock (whose connection a server restart ends too): otherwise another deploy may run.
func (d *deployer) reconnect(ctx context.Context) error {
	deadline := d.clock.Now().Add(reconnectWait)
	for tries := 0; ; tries++ {
		err := d.connect(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return stopped(ctx, "stopped while connecting to the database server again")
		}
		if !d.clock.Now().Before(deadline) {
			return fmt.Errorf("%w (tried for %s)", err, reconnectWait)
		}
		if tries == 0 {
			d.progress("cannot connect to the database server: %v; trying again for %s", err, reconnectWait)
		}
		select {
		case <-ctx.Done():
			return stopped(ctx, "stopped while connecting to the database server again")
		case <-d.clock.After(reconnectEvery):
		}
	}
	if d.lock.conn.Ping(ctx) == nil {
		return d.recordConnection(ctx) // held all along: no other deploy can have run
	}
	// The server restarted, or the lock's session was ended (a person, a network that broke): take the
	// lock again, if no other deploy took it meanwhile. One that did (--recover from another runner, as
	// the hint of a lost run says) may have rolled back this run, deployed the migrations again and let the
	// application write to them: a down now would drop what it deployed, with the application's data.
	prev := d.lock
	prev.conn.Close(context.WithoutCancel(ctx))
	l, _, err := acquireLock(ctx, d.o.URL, d.hist, 0, d.clock, nil)
	var le *LockError
	if errors.As(err, &le) {
		who := "another deploy"
		if le.Holder != nil {
			who = "run " + le.Holder.RunID + " of " + le.Holder.Name
		}
		return d.takeOver(ctx, &takenOverError{by: who, how: "holds it now (it may be recovering this run: deploy --recover)",
			hint: fmt.Sprintf("once %s has ended, read this run's row in %s: recovered, it rolled back this run and there is nothing to do; still running (a deploy without --recover stops at this run), run the deploy again with --recover to roll back what this run applied",
				who, d.hist.table("schemagate_runs"))})
	}
	if err != nil {
		return fmt.Errorf("take the deploy lock again: %w", err)
	}
	if to, err := d.tookOver(ctx, l, prev); to != nil || err != nil {
		// Not this run's lock to keep: the row stays as the other deploy left it.
		_, _ = l.conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey)
		l.conn.Close(context.WithoutCancel(ctx))
		if err != nil {
			return fmt.Errorf("take the deploy lock again: %w", err)
		}
		return d.takeOver(ctx, to)
	}
	d.lock = l
	if _, err := l.claim(ctx, &Holder{Name: d.o.Holder, RunID: d.o.RunID, Commit: d.o.Commit, JobURL: d.o.JobURL}); err != nil {
		return err
	}
	return d.recordConnection(ctx)
}

// recordConnection writes the run's new work connection in its row (backend_pid), once the run knows it
// is still its own: a deploy or --recover that finds the run's lock session gone tells a live run from a
// dead one by that connection (deadRunGone), and the one the row named is gone. Without it, a run that
// had connected again (a server restart, a new session after a migration that changes settings) and
// then lost its lock session looked dead at once, and --recover rolled it back while it ran.
func (d *deployer) recordConnection(ctx context.Context) error {
	if d.run == nil {
		return nil
	}
	if err := d.run.set(ctx, "backend_pid", int(d.conn.PgConn().PID())); err != nil {
		return fmt.Errorf("record the run's new connection: %w", err)
	}
	return nil
}

// takenOverError says that another deploy took the deploy lock while this run had lost it, and so may
// have recovered the run (rolled back what it applied, marked it recovered, deployed again): nothing
// this run could still do (a down, a restore, a record, maintenance mode off) is its to do any more.
type takenOverError struct {
	// by names the other deploy ("run Y4 of ci-runner-2"); how says what it did, as far as is known;
	// hint, when set, what to do (else there is nothing to do for this run: see finishTakenOver).
	by, how, hint string
}

func (e *takenOverError) Error() string {
	return fmt.Sprintf("%s took the deploy lock while this run had lost its connections to the database server, and %s", e.by, e.how)
}

// tookOver tells whether another deploy took over this run while it had lost the deploy lock (prev, its
// lock before, with the row it claimed), now that the run holds the lock again (l), before it writes
// anything. Once the run is recorded, its row in schemagate_runs tells: every deploy stops at a run
// recorded running, changing nothing, but --recover, which rolls it back and marks it recovered; so a
// row that no longer says running was taken over (a deploy that took the lock and stopped at the run
// did nothing to it). Before that, another deploy did not see the run and may have deployed: the lock
// row, which each deploy that takes the lock overwrites with its own since, and releasing the lock
// deletes, tells whether one held the lock meanwhile.
func (d *deployer) tookOver(ctx context.Context, l *lock, prev *lock) (*takenOverError, error) {
	var runID, holder, status string
	var since *time.Time
	err := l.conn.QueryRow(ctx, fmt.Sprintf(`SELECT coalesce(l.run_id, ''), coalesce(l.holder, ''), l.since,
		  coalesce((SELECT r.status FROM %s r WHERE r.run_id = $1), '')
		FROM (SELECT 1) one LEFT JOIN %s l ON l.id = 1`, d.hist.table("schemagate_runs"), d.hist.table("schemagate_lock")), d.o.RunID).Scan(&runID, &holder, &since, &status)
	if err != nil {
		return nil, fmt.Errorf("read the deploy lock row and this run's record: %w", err)
	}
	switch {
	case d.run != nil && status == "running":
		return nil, nil
	case d.run != nil && status == "":
		return &takenOverError{by: d.runSince(ctx, l.conn), how: "this run's row in " + d.hist.table("schemagate_runs") + " is gone"}, nil
	case d.run != nil:
		// The run that marked it so took the lock after it: the latest run recorded since this one began.
		return &takenOverError{by: d.runSince(ctx, l.conn), how: "recorded this run as " + status + " in " + d.hist.table("schemagate_runs")}, nil
	case runID == "":
		return &takenOverError{by: d.runSince(ctx, l.conn), how: "ran and released it, without seeing this run, which had recorded nothing yet"}, nil
	case runID != d.o.RunID || since == nil || !since.Equal(prev.since):
		return &takenOverError{by: "run " + runID + " of " + holder, how: "took it without seeing this run, which had recorded nothing yet"}, nil
	}
	return nil, nil
}

// runSince names the latest run that schemagate_runs records as started after this run took the deploy
// lock: the deploy that took the lock from this run, when it recorded a run (a --recover with nothing
// to deploy after the recovery records none); "another deploy" when none is recorded.
func (d *deployer) runSince(ctx context.Context, conn *pgx.Conn) string {
	var runID, holder string
	err := conn.QueryRow(ctx, fmt.Sprintf(`SELECT run_id, coalesce(holder, '') FROM %s
		WHERE run_id <> $1 AND started_at >= $2 ORDER BY started_at DESC LIMIT 1`, d.hist.table("schemagate_runs")), d.o.RunID, d.lock.since).Scan(&runID, &holder)
	if err != nil {
		return "another deploy"
	}
	return "run " + runID + " of " + holder
}

// takeOver ends this run's part once another deploy took over (to): the work connection is closed, so
// that nothing more reaches the database from this run, and finish reports it (see takenOver).
func (d *deployer) takeOver(ctx context.Context, to *takenOverError) error {
	d.takenOver = to
	if d.conn != nil {
		d.conn.Close(context.WithoutCancel(ctx))
	}
	d.progress("%v: stopping here, touching nothing", to)
	return to
}

// revive connects again, as reconnect does (trying for reconnectWait, the deploy lock taken again),
// when the work connection or the deploy lock's is gone: a server that restarted ends both, and every
// step after the lock (the snapshot's record, the downs, maintenance mode off, the run's end, the lock's
// release) carries on after a restart, as the migrations do. nil when both are there. When it finds that
// another deploy took the run over (d.takenOver, its error), the caller must stop there: every step
// after it is the other deploy's (finish ends the run with finishTakenOver).
func (d *deployer) revive(ctx context.Context) error {
	if d.lock == nil || !d.connGone(ctx) {
		return nil
	}
	if d.conn != nil {
		d.conn.Close(context.WithoutCancel(ctx))
	}
	d.progress("lost the connection to the database server (a restart?): connecting again")
	return d.reconnect(ctx)
}

// connGone tells whether the work connection or the deploy lock's is gone.
func (d *deployer) connGone(ctx context.Context) bool {
	gone := func(c *pgx.Conn) bool { return c == nil || c.IsClosed() || c.Ping(ctx) != nil }
	return gone(d.conn) || d.lock != nil && gone(d.lock.conn)
}

// unreadable reports a run that, after migration m stopped (why), cannot read m's history row, which
// tells whether its transaction committed: when another session holds a lock on history longer than
// lock_timeout, the server is there and history still tells what the database holds (each row commits
// with its migration), but nothing can be rolled back, since the records of a rollback wait for the same
// lock; any other error is unreachable's. The run's end is recorded: the next deploy carries on from
// what history says.
func (d *deployer) unreadable(applied []*migrate.Migration, m *migrate.Migration, id int64, st step, why string, err error) error {
	var lw *LockWaitError
	if !errors.As(err, &lw) {
		return d.unreachable(applied, m, st.committing, err)
	}
	d.res.Outcome = OutcomeFailed
	d.res.Reason = fmt.Sprintf("%s, and whether its transaction committed cannot be read: %v", why, err)
	before := appliedList(applied)
	d.res.Hint = fmt.Sprintf("history tells what the database holds: this run applied %s before it, and %s only if its row in %s (id %d) says applied; %s, then deploy again to apply the rest (or roll back by hand)",
		before, m.ID(), d.hist.table("schemagate_history"), id, lw.Hint)
	d.note("no rollback was tried: its records would wait for the same lock on history")
	// A row that still says running did not commit: finish records it as failed if it can.
	d.unsettled = append(d.unsettled, unsettledRow{id: id, label: m.ID(), d: st.duration, attempts: st.attempts, err: why})
	d.progress("%s", d.res.Reason)
	return errors.New(d.res.Reason)
}

// unreachable reports a run whose server went away during migration m and did not come back: what
// this run applied before m stays applied, m's transaction did not commit (unless its COMMIT was under
// way), and deploy --recover must finish the job once the server is back: the run's end is not recorded
// (the next deploy takes it for one that died, as it must for --recover to undo it).
func (d *deployer) unreachable(applied []*migrate.Migration, m *migrate.Migration, committing bool, err error) error {
	var to *takenOverError
	if errors.As(err, &to) {
		return to // the server is there, and the run is another deploy's now (see finish)
	}
	d.res.Outcome = OutcomeFailed
	d.res.Reason = fmt.Sprintf("lost the connection to the database server during %s and could not carry on (%v): the state of the database is unknown", m.ID(), err)
	tx := fmt.Sprintf("%s ran in a transaction, which cannot have committed: the server rolls back the transaction of a connection it loses", m.ID())
	if committing {
		tx = fmt.Sprintf("%s ran in a transaction whose COMMIT was under way: whether it committed is unknown (its row in schemagate_history says applied if it did)", m.ID())
	}
	before := "applied nothing before it"
	if len(applied) > 0 {
		before = "applied before it: " + appliedList(applied)
	}
	d.res.Hint = fmt.Sprintf("%s; this run %s. Once the server is back, run the deploy again with --recover: it rolls back what this run applied and turns maintenance mode off", tx, before)
	d.note("no rollback, snapshot restore or verification was tried: they need the server; the run stays recorded as running, for --recover")
	// finish leaves the run's record and maintenance mode as they are, for --recover (see awaitRecover).
	d.awaitRecover = true
	d.progress("%s", d.res.Reason)
	return errors.New(d.res.Reason)
}

// lostVerifying handles the work connection breaking before what verifies applied (what: "the verify
// script of users (verify/users.sql)", "the verification") could finish: the migrations committed, each
// with its history row, but are not verified. The deploy connects again (waiting up to reconnectWait for
// a server that restarts), and the caller rolls them back as after a failed verification, for the reason
// why, which says that the connection was lost, not that the verification failed. When the server stays
// away, it says so and leaves the run, still recorded as running, and maintenance mode on, to deploy
// --recover, as unreachable does: a rollback tried without the server failed on the check of
// other sessions' writes, and the report told to decide with the application's owners, to record the run
// by hand rather than run --recover, and to turn maintenance mode off by hand.
func (d *deployer) lostVerifying(ctx context.Context, applied []*migrate.Migration, what string, cause error) (why string, err error) {
	d.progress("lost the connection to the database server before %s could finish: %v", what, cause)
	d.conn.Close(context.WithoutCancel(ctx))
	done := appliedList(applied)
	err = d.reconnect(ctx)
	if err == nil {
		return fmt.Sprintf("lost the connection to the database server before %s could finish: %s applied, not verified", what, done), nil
	}
	return "", d.unverified(applied, what, err)
}

// appliedList names the migrations, in order, for a message: "nothing" for none.
func appliedList(applied []*migrate.Migration) string {
	if len(applied) == 0 {
		return "nothing"
	}
	ids := make([]string, len(applied))
	for i, m := range applied {
		ids[i] = m.ID()
	}
	return strings.Join(ids, ", ")
}

// unverified reports a run whose server went away before what verifies applied (see lostVerifying)
// could finish, and did not come back (err): applied committed, and is not verified; deploy --recover
// must finish the job once the server is back, as after unreachable.
func (d *deployer) unverified(applied []*migrate.Migration, what string, err error) error {
	var to *takenOverError
	if errors.As(err, &to) {
		return to // the server is there, and the run is another deploy's now (see finish)
	}
	done := appliedList(applied)
	d.res.Outcome = OutcomeFailed
	d.res.Reason = fmt.Sprintf("lost the connection to the database server before %s could finish, and could not carry on (%v): %s applied, not verified", what, err, done)
	d.res.Hint = fmt.Sprintf("this run applied %s, each committed with its row in %s, but %s did not finish, so they are not verified. Once the server is back, run the deploy again with --recover: it rolls back what this run applied and turns maintenance mode off",
		done, d.hist.table("schemagate_history"), what)
	d.note("no rollback, snapshot restore or verification was tried: they need the server; the run stays recorded as running, for --recover")
	// finish leaves the run's record and maintenance mode as they are, for --recover (see awaitRecover).
	d.awaitRecover = true
	d.progress("%s", d.res.Reason)
	return errors.New(d.res.Reason)
}

// lockKept checks, before a run that applied and verified migrations (applied) reports its verdict, that
// it still holds the deploy lock. A lock whose session ended during the last migration or the
// verification (the server or a person terminated it, the network broke) is noticed only here: the run
// then keeps what it applied and verified (undoing it now, without the lock, could collide with another
// deploy), and ends failed, since it may not have been the only deploy: a person must look.
func (d *deployer) lockKept(ctx context.Context, applied []*migrate.Migration) error {
	err := d.lock.held(ctx)
	if err == nil {
		return nil
	}
	d.res.Outcome = OutcomeFailed
	d.res.Reason = fmt.Sprintf("applied and verified %s, but %v: for part of the run another deploy could have run against the database at the same time",
		appliedList(applied), err)
	d.res.Hint = fmt.Sprintf("the migrations are applied and history records them; check in %s that no other run started while this one ran, and what ended the deploy lock's session (a terminated backend, a broken connection, a pooler in front of the database)",
		d.hist.table("schemagate_runs"))
	d.progress("%s", d.res.Reason)
	return err
}

// liveRunGrace is how long --recover waits for the work connection of a run that looks dead to leave
// the server. A deploy process that died takes its connections with it: the server sees an idle
// session's socket close at once, and a statement's within client_connection_check_interval (1 s, which
// the work connection sets on PostgreSQL 14+). A connection still there after this is a live run's (its
// deploy lock's session was ended, by a person or a timeout, while it worked) or one whose host or
// network went away without closing it.
const liveRunGrace = 10 * time.Second

// runAlive describes the work connection of run r when it is still on the server ("pid 123, active
// since 2026-...: its process is alive"), "" when it is not.
func (d *deployer) runAlive(ctx context.Context, r deadRun) (string, error) {
	if r.BackendPID == 0 {
		return "", nil
	}
	var state string
	err := d.conn.QueryRow(ctx, `SELECT coalesce(state, '?') || ' since ' || to_char(coalesce(state_change, backend_start) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
		FROM pg_stat_activity WHERE pid = $1 AND application_name = 'schemagate deploy'`, r.BackendPID).Scan(&state)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look for the connection of run %s: %w", r.RunID, err)
	}
	return fmt.Sprintf("its work connection (pid %d) is still connected, %s", r.BackendPID, state), nil
}

// liveRunBlocked is what a deploy that finds run r alive (alive describes its connection) says: r is
// not dead, so neither a deploy nor --recover may touch what it does.
func liveRunBlocked(r deadRun, alive string) *Blocked {
	return &Blocked{Reason: fmt.Sprintf("run %s (%s, started %s) is still running: %s, although it no longer holds the deploy lock",
		r.RunID, r.Holder, r.Since.UTC().Format(time.RFC3339), alive),
		Hint: fmt.Sprintf("wait for it to end (its report says whether it lost its deploy lock); only if its process is gone (its host crashed or was cut off), end that session (SELECT pg_terminate_backend(%d)), then run the deploy again with --recover; nothing was changed", r.BackendPID)}
}

// liveRunEnded is what a deploy says of run r, which it found unfinished, when r ended on its own
// (ended: how, as its row says) while the deploy waited for its connection to go: r was alive (seen
// describes its connection, "" when it had gone by the first look), and what it left is for the next
// deploy to read from history.
func liveRunEnded(r deadRun, seen, ended string) *Blocked {
	was := "its work connection left the server as this deploy began"
	if seen != "" {
		was = seen
	}
	return &Blocked{Reason: fmt.Sprintf("run %s (%s, started %s) was still running when this deploy began: %s, although it no longer held the deploy lock; it has ended since (%s)",
		r.RunID, r.Holder, r.Since.UTC().Format(time.RFC3339), was, ended),
		Hint: "read its report (it says what it kept or rolled back), then run the deploy again, which carries on from what history records; nothing was changed"}
}

// deadRunGone waits until the work connection of run r, which looks dead, has left the server (see
// liveRunGrace). A run whose connection stays is alive (a *Blocked says so): --recover must not
// terminate its connection and undo its migrations under it, and a deploy must not call it dead.
func (d *deployer) deadRunGone(ctx context.Context, r deadRun) error {
	if r.Status == runHalfway {
		return nil // it ended: its connections went with it (and its pid may be another session's now)
	}
	deadline := time.Now().Add(liveRunGrace)
	seen := "" // its connection, as last seen on the server
	for {
		alive, err := d.runAlive(ctx, r)
		if err != nil {
			if ctx.Err() != nil {
				return stopped(ctx, fmt.Sprintf("stopped while waiting for the connection of run %s (pid %d) to go", r.RunID, r.BackendPID))
			}
			return err
		}
		if alive == "" {
			if r.Status != "running" {
				return nil
			}
			// A connection that went while this deploy waited may have gone with a run that ended on
			// its own (it lost its deploy lock's session and rolled back, or kept what it had verified):
			// its row, read before the wait, said running, and --recover would undo what it kept.
			if ended := d.hist.ended(ctx, d.conn, r.RunID); ended != "" {
				if d.res.Maintenance != nil && d.res.Maintenance.Inherited {
					d.maintOn, d.res.Maintenance = false, nil // as below: the run has it as it left it
				}
				return liveRunEnded(r, seen, ended)
			}
			return nil
		}
		seen = alive
		if !time.Now().Before(deadline) {
			// As after a lock wait (recoveryBlocked): maintenance mode stays as the run has it.
			if d.res.Maintenance != nil && d.res.Maintenance.Inherited {
				d.maintOn, d.res.Maintenance = false, nil
			}
			return liveRunBlocked(r, alive)
		}
		select {
		case <-ctx.Done():
			return stopped(ctx, fmt.Sprintf("stopped while waiting for the connection of run %s (pid %d) to go", r.RunID, r.BackendPID))
		case <-time.After(200 * time.Millisecond):
		}
	}
}
