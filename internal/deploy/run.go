package deploy

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/snapshot"
)

// protect turns maintenance mode on and takes the snapshot (in the configured order) and the baseline the
// verification compares with. On error nothing has changed in the database.
func (d *deployer) protect(ctx context.Context, pending []*migrate.Migration) error {
	eff := newEffects()
	for _, m := range pending {
		merge(eff, analyze(m.Up))
	}
	countRows := enabled(d.env.Verify.RowCounts)
	if d.o.Snapshotter == nil {
		d.note("no snapshot configured: a failure that the down migrations cannot undo needs a person")
	}
	if d.env.Snapshot.BeforeMaintenance {
		d.step = "reading the database's write activity"
		before, err := d.activity(ctx)
		if err != nil {
			return err
		}
		d.step = "taking the snapshot"
		if err := d.takeSnapshot(ctx); err != nil {
			return err
		}
		if err := d.reviveAfterSnapshot(ctx); err != nil {
			return err
		}
		d.step = "turning maintenance mode on"
		if err := d.maintenanceOn(ctx); err != nil {
			return err
		}
		d.step = "reading the database's write activity"
		after, err := d.activity(ctx)
		if err != nil {
			return err
		}
		d.res.Writes = d.compare(ctx, before, after)
		d.watchWrites(ctx)
		d.snapOK = !d.res.Writes.Detected
		if d.res.Writes.Detected {
			d.note("%d transactions wrote between the snapshot and maintenance mode: an automatic restore would lose them, so it is refused", d.res.Writes.XIDs)
		}
		d.step = "taking the baseline the verification compares with"
		if d.base, err = takeBaseline(ctx, d.conn, d.hist.schema, eff, countRows, d.hist.lockTimeout); err != nil {
			return baselineBlocked(err)
		}
		if err := d.baseSequences(ctx, pending); err != nil {
			return baselineBlocked(err)
		}
		d.base.checksOK = d.verifier().checksBefore(ctx)
	} else {
		d.step = "turning maintenance mode on"
		if err := d.maintenanceOn(ctx); err != nil {
			return err
		}
		d.step = "taking the snapshot and the baseline the verification compares with"
		d.watchWrites(ctx)
		// The baseline needs the work connection, the snapshot its own: take them side by side (nothing
		// else may use the work connection meanwhile).
		type baseRes struct {
			b   *baseline
			err error
		}
		ch := make(chan baseRes, 1)
		go func() {
			b, err := takeBaseline(ctx, d.conn, d.hist.schema, eff, countRows, d.hist.lockTimeout)
			ch <- baseRes{b, err}
		}()
		snapErr := d.takeSnapshot(ctx)
		br := <-ch
		if snapErr != nil {
			return snapErr
		}
		if br.err != nil {
			return baselineBlocked(br.err)
		}
		if err := d.reviveAfterSnapshot(ctx); err != nil {
			return err
		}
		d.base, d.snapOK = br.b, true
		if err := d.baseSequences(ctx, pending); err != nil {
			return baselineBlocked(err)
		}
		d.base.checksOK = d.verifier().checksBefore(ctx)
	}
	if d.res.Snapshot != nil {
		// Recorded before any migration runs, for the recovery of a run that dies.
		d.step = "recording the snapshot"
		if err := d.reviveAfterSnapshot(ctx); err != nil {
			return err
		}
		if err := d.run.set(ctx, "snapshot", snapshotJSON(d.res.Snapshot)); err != nil {
			return err
		}
		if err := d.run.set(ctx, "snapshot_safe", d.snapOK); err != nil {
			return err
		}
		if w := d.watch; w != nil && w.next != 0 {
			// What --recover needs to tell the writes made since the snapshot (see recoverySnapshot).
			b, _ := json.Marshal(writeMark{Next: w.next, XIP: w.xip})
			if err := d.run.set(ctx, "write_mark", b); err != nil {
				return err
			}
		}
	}
	return nil
}

// reviveAfterSnapshot connects again (revive) when a server restart took the work connection or the
// deploy lock's between the snapshot and its record in the run's row: the restart changes no data, and
// maintenance mode stays as it was, so the snapshot still holds the database as it is, and the deploy
// carries on as after a restart in any other step. A server that does not come back blocks the run:
// nothing was changed (finish tries once more to connect, to turn maintenance mode off and record the run).
func (d *deployer) reviveAfterSnapshot(ctx context.Context) error {
	if err := d.revive(ctx); err != nil {
		if ctx.Err() != nil || d.takenOver != nil {
			return err
		}
		return &Blocked{Reason: fmt.Sprintf("lost the connection to the database server after the snapshot (a restart?) and could not connect again: %v; nothing was changed", err),
			Hint: "check that the database server is up and accepts connections, then deploy again"}
	}
	return nil
}

func (d *deployer) maintenanceOn(ctx context.Context) error {
	if d.o.Maintenance == nil {
		return nil
	}
	// Recorded before switching, so that a crash in between still gets it turned off by the next run.
	if err := d.run.set(ctx, "maintenance_on", true); err != nil {
		return err
	}
	d.maintOn = true
	if d.res.Maintenance == nil {
		d.res.Maintenance = &MaintenanceResult{}
	}
	if mr := d.res.Maintenance; mr.Inherited {
		// An earlier run left maintenance mode on, as far as history tells: the on action runs again all
		// the same. History cannot tell that nobody turned it off since: a person brings the application
		// back by hand before --recover, and an off action that reported failure (the run then ends
		// "finished", maintenance_on still set) may have gone through. Migrating on that word would
		// change the schema under an application that serves, and take a snapshot that writes make unsafe.
		mr.OnAgain = fmt.Sprintf("run %s recorded turning maintenance mode on, but not that its on action went through (it may have died before, or was of an earlier release), so the on action ran again", mr.InheritedFrom)
		if mr.Since != nil {
			mr.OnAgain = fmt.Sprintf("run %s turned maintenance mode on at %s and did not record turning it off; the on action ran again, as it may have been turned off since (by hand, or by an off action that reported a failure)",
				mr.InheritedFrom, mr.Since.UTC().Format(time.RFC3339))
		}
		d.note("maintenance mode: %s", mr.OnAgain)
	}
	// Said once done: an action that fails has not put the application in maintenance mode.
	d.progress("turning maintenance mode on")
	if err := d.o.Maintenance.On(ctx); err != nil {
		d.res.Maintenance.Error = err.Error()
		// Blocked: the database is as it was (maintenance mode is switched off again on the way out).
		reason := err.Error()
		if !strings.HasPrefix(reason, "turn maintenance mode on") { // a Switch's error says so already
			reason = "turn maintenance mode on: " + reason
		}
		b := &Blocked{Reason: reason + "; nothing was changed",
			Hint: "check the maintenance.on action (and that what it calls is up), then deploy again"}
		var nr *NoRowError
		var lw *LockWaitError
		switch {
		case errors.As(err, &nr):
			// The switch did not move: migrating now would change the schema under an application that
			// still serves. Nothing turned maintenance mode on, so the off action is not run (unless an
			// earlier run left it on): after an on SQL whose WHERE clause matches no row, an off SQL
			// that checks the flag changes no row either, and the run warned that maintenance mode
			// "may still be on", as if it had gone on.
			b.Reason = reason + "; maintenance mode did not go on, so no migration ran; nothing was changed"
			b.Hint = "fix the maintenance.on SQL so that it changes the row that puts the application in maintenance mode (its WHERE clause, the key's spelling, that the row exists), then deploy again"
			d.maintenanceNeverOn(ctx)
		case errors.As(err, &lw):
			// Its SQL waited for a lock and its transaction was rolled back: maintenance mode did not go
			// on, and the off action would only wait for the same lock (unless an earlier run left it on).
			b.Hint = lw.Hint + ", then deploy again (lock_timeout bounds how long the maintenance SQL waits)"
			d.maintenanceNeverOn(ctx)
		}
		return b
	}
	now := d.clock.Now().UTC()
	d.res.Maintenance.On = &now
	// When it went on: a run that dies from here on leaves it on, and the next deploy need not run the
	// on action again, and counts maintenance mode from now.
	// Only a help to the next deploy (without it, that one runs the on action again): no reason to stop.
	if err := d.run.set(ctx, "maintenance_since", now); err != nil {
		d.log.Warn("record when maintenance mode went on", "err", err)
	}
	d.progress("maintenance mode on")
	return nil
}

// maintenanceNeverOn records that the on action left maintenance mode as it was, off, so that the run
// does not turn it off on the way out, unless an earlier run had left it on, which must go off.
func (d *deployer) maintenanceNeverOn(ctx context.Context) {
	if d.res.Maintenance.Inherited {
		return
	}
	d.maintOn = false
	_ = d.run.set(ctx, "maintenance_on", false)
}

func (d *deployer) takeSnapshot(ctx context.Context) error {
	if d.o.Snapshotter == nil {
		return nil
	}
	limit, bound, byWindow := d.snapshotLimit()
	snapCtx, deadline := ctx, time.Time{}
	if limit != 0 {
		// A real-time deadline, whatever the clock: the hook and pg_dump run in real time.
		deadline = time.Now().Add(max(limit, 0))
		var cancel context.CancelFunc
		snapCtx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
		d.progress("taking snapshot (stopped after %s if not done: %s)", max(limit, 0).Round(time.Second), bound)
	} else {
		d.progress("taking snapshot")
	}
	stopTicks := d.snapshotTicks(limit)
	info, restore, err := d.o.Snapshotter.Snapshot(snapCtx, d.o.RunID)
	stopTicks()
	if err != nil {
		if ctx.Err() == nil && !deadline.IsZero() && !time.Now().Before(deadline) {
			return d.snapshotTimedOut(limit, bound, byWindow)
		}
		// Blocked: no migration ran, so the database is as it was.
		return snapshotBlocked("take snapshot", err)
	}
	d.res.Snapshot, d.restore = info, restore
	where := info.Location
	if where == "" {
		where = info.ID
	}
	took := time.Duration(info.DurationMS) * time.Millisecond
	switch {
	case info.ClientVersion != "":
		d.progress("snapshot %s taken in %s by pg_dump %s (%s) for PostgreSQL %s", where, took, info.ClientVersion, info.Client, info.ServerVersion)
	case info.Client != "":
		d.progress("snapshot %s taken in %s by the pg_dump of %s for PostgreSQL %s", where, took, info.Client, info.ServerVersion)
	default:
		d.progress("snapshot %s taken in %s", where, took)
	}
	if pp, ok := d.o.Snapshotter.(pinner); ok {
		for _, n := range pp.RetentionNotes() {
			d.progress("%s", n)
		}
	}
	return nil
}

// snapshotTick is how often the progress says that the snapshot is still running.
const snapshotTick = 30 * time.Second

// snapshotLimit is how long the snapshot may take, and what bounds it (bound, for the messages):
// snapshot.timeout (for a command, its default of 1h), cut to what is left of the maintenance window less
// min_window_left, after which no migration could start (negative when that is past already); byWindow
// says the window's end set it. 0 when nothing bounds it (pg_dump, no window or --break-window). A
// snapshot that hangs keeps maintenance mode on: the bound ends it.
func (d *deployer) snapshotLimit() (limit time.Duration, bound string, byWindow bool) {
	limit, bound = d.env.Snapshot.Timeout, "snapshot.timeout"
	if c, ok := d.o.Snapshotter.(*snapshot.Command); ok && limit <= 0 {
		limit, bound = c.TakeLimit(), "the snapshot command's default timeout, which snapshot.timeout sets"
	}
	if w := d.res.Window; w != nil && w.Open && !w.Broken && !w.Always && w.End != nil && d.sched != nil {
		last := w.End.Add(-d.sched.MinLeft())
		left := last.Sub(d.clock.Now())
		if limit <= 0 || left < limit {
			limit, byWindow = cmp.Or(left, -1), true // 0 would mean no bound
			bound = "the maintenance window closes at " + w.End.UTC().Format(time.RFC3339)
			if d.sched.MinLeft() > 0 {
				bound = fmt.Sprintf("no migration may start after %s (min_window_left %s before the maintenance window closes at %s)",
					last.UTC().Format(time.RFC3339), d.sched.MinLeft(), w.End.UTC().Format(time.RFC3339))
			}
		}
	}
	return limit, bound, byWindow
}

// snapshotTicks has the progress say every snapshotTick (Options.snapshotTick in tests) that the
// snapshot is still running and for how long, until stop is called: a snapshot that takes long, or
// hangs, is seen to, with maintenance mode on. limit is snapshotLimit's.
func (d *deployer) snapshotTicks(limit time.Duration) (stop func()) {
	every := cmp.Or(d.o.snapshotTick, snapshotTick)
	start := time.Now()
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				took := now.Sub(start).Round(time.Second)
				if limit > 0 {
					d.progress("snapshot still running, %s (stopped in %s if not done)", took, max(limit-now.Sub(start), 0).Round(time.Second))
				} else {
					d.progress("snapshot still running, %s", took)
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// snapshotTimedOut is the Blocked of a snapshot that limit stopped, bound saying what set it and byWindow
// whether that was the maintenance window's end (see snapshotLimit): its hint is then a window that
// leaves the snapshot time, not a longer snapshot.timeout.
func (d *deployer) snapshotTimedOut(limit time.Duration, bound string, byWindow bool) *Blocked {
	what, left := "the snapshot", ""
	hint := "raise snapshot.timeout if the snapshot needs longer (or see what it waits for), then deploy again"
	switch d.o.Snapshotter.(type) {
	case *snapshot.PGDump:
		what, left = "pg_dump", "; its partial snapshot folder was removed"
	case *snapshot.Command:
		what, left = "the snapshot command", " (with what it started); check whether it left a partial snapshot on the platform"
		hint = "see what the snapshot command waits for, or raise snapshot.timeout if it needs longer, then deploy again"
	}
	if byWindow {
		hint = "deploy again in a window that leaves the snapshot time to finish and the migrations time to run (or break this one with --break-window --reason)"
		if _, ok := d.o.Snapshotter.(*snapshot.PGDump); ok {
			hint += "; compress: 0 dumps about four times faster"
		}
	}
	return &Blocked{Reason: fmt.Sprintf("take snapshot: %s did not finish within %s (%s), so it was stopped%s; no migration ran, nothing was changed",
		what, max(limit, 0).Round(time.Second), bound, left), Hint: hint}
}

// snapshotClient blocks the deploy, before it records its run or turns maintenance mode on, when the
// snapshot could not be taken for want of its programs (the client of the server's version): found only
// at the snapshot, that put the application in maintenance mode for a deploy that could not start.
func (d *deployer) snapshotClient(ctx context.Context) error {
	cc, ok := d.o.Snapshotter.(clientChecker)
	if !ok {
		return nil
	}
	d.step = "looking for the snapshot client"
	if err := cc.CheckClient(ctx); err != nil {
		return snapshotBlocked("snapshot", err)
	}
	return nil
}

// snapshotBlocked is the Blocked of a snapshot step (what) that failed with err before any migration ran.
func snapshotBlocked(what string, err error) *Blocked {
	b := &Blocked{Reason: fmt.Sprintf("%s: %v; nothing was changed", what, err), Hint: "fix the snapshot's problem, then deploy again"}
	var se *snapshot.Error
	if errors.As(err, &se) {
		b.Reason = fmt.Sprintf("%s: %s: %v; nothing was changed", what, se.Op, se.Err)
		if se.Hint != "" {
			b.Hint = se.Hint
		}
	}
	return b
}

type activity struct {
	lsn  string
	xmax int64
}

func (d *deployer) activity(ctx context.Context) (activity, error) {
	var a activity
	err := d.conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text, pg_snapshot_xmax(pg_current_snapshot())::text::bigint").Scan(&a.lsn, &a.xmax)
	if err != nil {
		return a, fmt.Errorf("read write activity: %w", err)
	}
	return a, nil
}

// compare counts the transaction ids others took between two readings. Transaction ids are cluster-wide,
// so writes to other databases of the server count too: the check errs on the side of refusing a restore.
func (d *deployer) compare(ctx context.Context, before, after activity) *Writes {
	// Our own: the maintenance_on record, and maintenance SQL that wrote.
	own := ownXIDs(d.o.Maintenance)
	if d.o.Maintenance != nil {
		own++ // maintenanceOn's record
	}
	w := &Writes{XIDs: max(0, after.xmax-before.xmax-own)}
	_ = d.conn.QueryRow(ctx, "SELECT pg_wal_lsn_diff($1::text::pg_lsn, $2::text::pg_lsn)::bigint", after.lsn, before.lsn).Scan(&w.WALBytes)
	w.Detected = w.XIDs > 0
	return w
}

// retryPolicy is how many times a lock timeout is retried, and the first wait before a retry (doubled
// after each).
func (d *deployer) retryPolicy() (retries int, backoff time.Duration) {
	retries = 3
	if d.env.Retries != nil {
		retries = *d.env.Retries
	}
	backoff = d.env.RetryBackoff
	if backoff <= 0 {
		backoff = 2 * time.Second
	}
	return retries, backoff
}

func (d *deployer) applier() *applier {
	lt := d.hist.lockTimeout
	retries, backoff := d.retryPolicy()
	st, _ := d.statementTimeout()
	tt, _ := d.transactionTimeout()
	return &applier{conn: d.conn, session: d.session, lockTimeout: lt, statementTimeout: st, transactionTimeout: tt, retries: retries,
		backoff: backoff, clock: d.clock, own: func(x int64) { d.ownXIDs = append(d.ownXIDs, x) }, recordOwn: d.recordOwnXID(), unwatch: d.unwatch, before: d.beforeScript, ownStatements: d.o.Snapshotter != nil || enabled(d.env.Verify.RowCounts), files: d.o, retrying: func(m *migrate.Migration, attempt int, wait time.Duration, err error) {
			d.progress("%s: lock timeout (attempt %d), retrying in %s", m.ID(), attempt, wait)
		}, note: func(msg string) {
			d.progress("%s", msg)
			d.note("%s", msg)
		}}
}

// applyAll applies the pending migrations, verifies, and rolls back on failure.
func (d *deployer) applyAll(ctx context.Context, pending []*migrate.Migration) error {
	// The first change is next: a signal that came before it (while the snapshot was recorded, which it
	// does not interrupt) stops a run that changed nothing.
	d.step = "starting the first migration"
	if ctx.Err() != nil {
		return d.notStarted(ctx, ctx.Err())
	}
	// The window may have closed since the lock was taken: the recovery, the checks, generated downs,
	// the snapshot (a pg_dump of a large database) and maintenance mode all take their time. No
	// migration starts then (windowClosed before each later one).
	if closed, ok := d.windowClosed(); ok {
		for j := range pending {
			d.res.Migrations[j].Status = StatusNotRun
		}
		d.res.Window.Open = false
		b := &Blocked{Reason: closed + " while this deploy prepared its first migration (checks, snapshot, maintenance mode): no migration started",
			Hint: "run it again in the next window, or break this one with --break-window --reason"}
		if next := d.sched.NextStartable(d.clock.Now(), 1); len(next) > 0 {
			d.res.Window.Next = &next[0].Start
			b.Hint = fmt.Sprintf("the next window opens at %s; run it again then, or break this one with --break-window --reason", next[0].Start.UTC().Format(time.RFC3339))
		}
		d.progress("%s", b.Reason)
		return b
	}
	ap := d.applier()
	ap.window = d.retryWindow // a rollback's downs retry whatever the window (d.applier has none)
	d.progress("%s", d.timeoutsInForce())
	ids := map[string]int64{}
	// The schemas the folder's tool creates before its first migration (Flyway's flyway.schemas); a
	// rollback by the downs drops again those this run created (see dropCreatedSchemas).
	for _, s := range d.o.Set.Schemas {
		var created bool
		if err := d.conn.QueryRow(ctx, "SELECT to_regnamespace($1) IS NULL", ident(s)).Scan(&created); err != nil {
			return fmt.Errorf("look for schema %s: %w", s, err)
		}
		if _, err := d.conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+ident(s)); err != nil {
			return fmt.Errorf("create schema %s, as %s does before its first migration: %w", s, d.o.Set.Format, err)
		}
		if created {
			d.createdSchemas = append(d.createdSchemas, s)
		}
	}
	for i, m := range pending {
		mr := &d.res.Migrations[i]
		if ctx.Err() != nil {
			// Stopped (a cancelled CI job): undo what this run applied, as part of the clean-up.
			for j := i; j < len(pending); j++ {
				d.res.Migrations[j].Status = StatusNotRun
			}
			why := fmt.Sprintf("stopped before %s: %v", m.ID(), context.Cause(ctx))
			d.progress("%s", why)
			cctx, err := d.cleanup(ctx)
			if err != nil {
				return d.unreachable(pending[:i], m, false, err)
			}
			return d.rollback(cctx, undoPlan{migs: pending[:i], ids: ids}, why)
		}
		if closed, ok := d.windowClosed(); ok && i > 0 { // before the first: see above
			return d.stopAtWindowEnd(ctx, pending, i, ids, closed, false)
		}
		if err := d.lock.conn.Ping(ctx); err != nil {
			// Without its connection the lock is gone and another deploy may start: stop here.
			for j := i; j < len(pending); j++ {
				d.res.Migrations[j].Status = StatusNotRun
			}
			return d.rollback(ctx, undoPlan{migs: pending[:i], ids: ids}, "lost the deploy lock's connection: "+err.Error())
		}
		mr.Status = StatusRunning
		d.progress("applying %d/%d %s", i+1, len(pending), m.ID())
		id, err := d.hist.begin(ctx, d.conn, d.o, m)
		var lw *LockWaitError
		if errors.As(err, &lw) {
			// Another session holds a lock on history: m did not start. Undo what this run applied, as
			// after any failure (a down that cannot be recorded either is rolled back with its record).
			for j := i; j < len(pending); j++ {
				d.res.Migrations[j].Status = StatusNotRun
			}
			d.progress("%v", err)
			return d.rollback(ctx, undoPlan{migs: pending[:i], ids: ids}, err.Error())
		}
		if err != nil {
			return err
		}
		ids[m.Key()] = id
		ap.started = d.statementHook(ctx, id, m) // which statement a half-applied migration had reached
		st, err := ap.run(ctx, m, m.Up, func(tx pgx.Tx) error {
			return d.hist.mark(ctx, tx, id, m.ID(), StatusApplied, 0, 0, "")
		})
		mr.DurationMS, mr.Attempts = st.duration.Milliseconds(), st.attempts
		var we *windowEndError
		if errors.As(err, &we) && ctx.Err() == nil && (!m.NoTransaction || (st.executed == 0 && st.partly < 0)) {
			// A lock timeout whose retry the window leaves no room for, and nothing of m stays (its
			// transaction rolled back; no statement of a non-transactional one completed): the run stops
			// as before a migration when the window closes, m with the rest. A non-transactional m that
			// got part-way fails below, as when its statement fails otherwise.
			mr.Error = sqlError(err, "up")
			d.markFailed(ctx, id, m, st, err.Error())
			return d.stopAtWindowEnd(ctx, pending, i, ids, we.Closed, true)
		}
		if err != nil && !m.NoTransaction && (pg.ConnectionLost(err) || transactionTimedOut(err)) && ctxErr(err) == nil && d.conn.IsClosed() {
			// The server rolls back the transaction of a connection it loses, and of a session it ends
			// because the transaction outlasted transaction_timeout.
			mr.Status, mr.Error = StatusFailed, sqlError(err, "up")
			for j := i + 1; j < len(pending); j++ {
				d.res.Migrations[j].Status = StatusNotRun
			}
			return d.lostInTransaction(ctx, pending, i, ids, st, err)
		}
		if err != nil {
			mr.Status, mr.Error = StatusFailed, sqlError(err, "up")
			for j := i + 1; j < len(pending); j++ {
				d.res.Migrations[j].Status = StatusNotRun
			}
			why := fmt.Sprintf("%s failed: %v", m.ID(), err)
			applied := pending[:i]
			var partial *migrate.Migration
			if m.NoTransaction && st.executed > 0 {
				partial = m
			}
			told := false // the reason was printed as progress
			if transactionTimedOut(err) && d.conn.IsClosed() && ctx.Err() == nil {
				// A statement of a non-transactional m outlasted transaction_timeout: the server ended the
				// session, rolling back that statement's transaction; those before it stay. The records and
				// the rollback need a session: connect again.
				tt, from := d.transactionTimeout()
				why = fmt.Sprintf("%s failed: a statement ran longer than transaction_timeout %s (%s), and the server ended the session: %v", m.ID(), tt, from, err)
				d.progress("%s", why)
				told = true
				if rerr := d.reconnect(ctx); rerr != nil {
					return d.unreachable(pending[:i], m, false, rerr)
				}
			}
			if ctx.Err() != nil {
				// Stopped (a cancelled CI job) during the migration: the rollback is part of the clean-up
				// the signal starts, so it runs on a context the signal does not cancel.
				why = fmt.Sprintf("%s stopped: %v", m.ID(), context.Cause(ctx))
				d.progress("%s", why) // now: the clean-up may wait for the cancelled session
				told = true
				oldPID := uint32(0)
				if d.conn != nil && d.conn.PgConn() != nil {
					oldPID = d.conn.PgConn().PID()
				}
				cctx, cerr := d.cleanup(ctx)
				if cerr != nil {
					return d.unreachable(pending[:i], m, st.committing, cerr)
				}
				ctx = cctx
				if oldPID != 0 && oldPID != d.conn.PgConn().PID() {
					// The cancelled statement's session must be gone before its outcome is read.
					if err := d.waitGone(ctx, int(oldPID)); err != nil {
						return d.unreachable(pending[:i], m, st.committing, err)
					}
				}
				if m.NoTransaction {
					partial = m // the statement under way may have completed
				} else {
					// The history row commits with the migration: applied means its COMMIT went through.
					status, err := d.hist.status(ctx, d.conn, id, m.ID())
					if err != nil {
						return d.unreadable(pending[:i], m, id, st, why, err)
					}
					if status == StatusApplied {
						mr.Status, mr.Error = StatusApplied, nil
						applied = pending[:i+1]
					}
				}
			}
			if mr.Status == StatusFailed {
				d.markFailed(ctx, id, m, st, err.Error())
			}
			if !told {
				d.progress("%s", why)
			}
			if partial != nil {
				mr.Completed = completedStatements(d.o.file(m.Up.File), m.Up, st)
			}
			err = d.rollback(ctx, undoPlan{migs: applied, ids: ids, partial: partial}, why)
			if partial != nil {
				d.leftHalfway(ctx, partial, id)
			}
			return err
		}
		_ = d.hist.mark(ctx, d.conn, id, m.ID(), StatusApplied, st.duration, st.attempts, "")
		mr.Status = StatusApplied
		d.progress("applied %s in %s", m.ID(), st.duration.Round(time.Millisecond))
		if err := d.renewAfter(ctx, ap, pending, i); err != nil {
			return err
		}
		if err := d.verifyChange(ctx, pending, i, ids); err != nil {
			return err
		}
	}
	if err := d.verifyApplied(ctx, pending, ids); err != nil {
		return err
	}
	d.progress("verified: %d checks passed", len(d.res.Verify))
	return d.lockKept(ctx, pending)
}

// verifyChange runs the verify script of pending[i], a sqitch change just applied, as sqitch deploy
// --verify runs it: right after the change, before the next one. One that fails fails the change (its
// error is the script's, at its place in the script), no later change runs, and the run rolls back, the
// change included, as after any failed migration.
func (d *deployer) verifyChange(ctx context.Context, pending []*migrate.Migration, i int, ids map[string]int64) error {
	m := pending[i]
	if m.Verify.Empty() {
		return nil
	}
	c, err := d.verifier().sqitchVerify(ctx, m, "apply")
	if err != nil {
		err = d.o.named(err)
		c.Message = err.Error()
	}
	d.res.Verify = append(d.res.Verify, c)
	if err == nil {
		d.progress("verified %s (%s)", m.ID(), m.Verify.File)
		return nil
	}
	mr := &d.res.Migrations[i]
	mr.Error = sqlError(err, "verify")
	if mr.Error.File == "" {
		mr.Error.File = d.o.file(m.Verify.File)
	}
	for j := i + 1; j < len(pending); j++ {
		d.res.Migrations[j].Status = StatusNotRun
	}
	why := fmt.Sprintf("%s: its verify script %s failed: %v", m.ID(), d.o.file(m.Verify.File), err)
	if ctx.Err() != nil {
		why = fmt.Sprintf("stopped during the verify script of %s: %v", m.ID(), context.Cause(ctx))
	} else if pg.ConnectionLost(err) && d.conn.IsClosed() {
		what := fmt.Sprintf("the verify script of %s (%s)", m.ID(), d.o.file(m.Verify.File))
		lost, lerr := d.lostVerifying(ctx, pending[:i+1], what, err)
		if lerr != nil {
			return lerr
		}
		why = lost
	}
	d.progress("%s", why)
	cctx, cerr := d.cleanup(ctx)
	if cerr != nil {
		return d.unreachable(pending[:i+1], m, false, cerr)
	}
	return d.rollback(cctx, undoPlan{migs: pending[:i+1], ids: ids}, why)
}

// verifyApplied verifies the migrations this run applied and rolls them back when a check fails.
func (d *deployer) verifyApplied(ctx context.Context, applied []*migrate.Migration, ids map[string]int64) error {
	v := d.verifier()
	checks := v.afterApply(ctx, d.base, applied)
	d.res.Verify = append(d.res.Verify, checks...) // after the verify scripts, which ran after their changes
	if bad := failedChecks(checks); len(bad) > 0 {
		why := fmt.Sprintf("verification %q failed: %s", bad[0].Name, bad[0].Message)
		if ctx.Err() != nil {
			why = fmt.Sprintf("stopped during the verification: %v", context.Cause(ctx))
		} else if d.conn.IsClosed() {
			// The checks failed for the connection they ran on, not for what they check.
			lost, lerr := d.lostVerifying(ctx, applied, "the verification", errors.New(bad[0].Message))
			if lerr != nil {
				return lerr
			}
			why = lost
		}
		d.progress("%s", why)
		cctx, err := d.cleanup(ctx)
		if err != nil {
			return d.unreachable(applied, applied[len(applied)-1], false, err)
		}
		return d.rollback(cctx, undoPlan{migs: applied, ids: ids}, why)
	}
	return nil
}

// cleanup returns the context that undoing a run uses: one that the signal that stopped the run does not
// cancel (the rollback is part of the clean-up that signal starts; the downs keep their lock and
// statement timeouts, and a snapshot restore, once started, runs to its end). When the cancelled
// statement took the work connection with it, it connects again.
func (d *deployer) cleanup(ctx context.Context) (context.Context, error) {
	if ctx.Err() == nil {
		return ctx, nil
	}
	c := context.WithoutCancel(ctx)
	if d.conn == nil || d.conn.IsClosed() {
		if d.conn != nil {
			d.conn.Close(c)
		}
		if err := d.reconnect(c); err != nil {
			return c, err
		}
	}
	return c, nil
}

// windowClosed tells whether the maintenance window this run started in has closed (or a blackout began),
// or has less than min_window_left left, so that no further migration may start; and says which.
func (d *deployer) windowClosed() (string, bool) {
	w, sched := d.res.Window, d.sched
	if w == nil || sched == nil || !w.Open || w.Broken {
		return "", false
	}
	now := d.clock.Now()
	_, ok, left := sched.Startable(now)
	if ok {
		return "", false
	}
	closed := "the maintenance window closed"
	if w.End != nil {
		closed += " at " + w.End.UTC().Format(time.RFC3339)
	}
	if _, open := sched.Open(now); open {
		closed = tooLittleLeft(sched, left)
	}
	if bo, in := sched.Blackout(now); in {
		closed = "the " + bo.String() + " began"
	}
	return closed, true
}

// retryWindow tells whether the retry of migration m after its lock timeout (attempt) may start its
// next attempt once the backoff of wait is over (wait 0: it is over now), by the rule that no migration
// starts outside the window or with less than min_window_left of it left (windowClosed): the attempt
// must start in the window open now, at least min_window_left before its end, and outside a blackout. A
// backoff that would end later is not waited out. It says why not; a broken window (--break-window)
// never stops a retry.
func (d *deployer) retryWindow(m *migrate.Migration, attempt int, wait time.Duration) (string, bool) {
	if closed, ok := d.windowClosed(); ok {
		return fmt.Sprintf("%s while %s waited to retry after its lock timeout (attempt %d)", closed, m.ID(), attempt), false
	}
	w, sched := d.res.Window, d.sched
	if wait <= 0 || w == nil || sched == nil || !w.Open || w.Broken {
		return "", true
	}
	at := d.clock.Now().Add(wait)
	period, ok, left := sched.StartableLater(d.clock.Now(), at)
	if ok {
		return "", true
	}
	retry := fmt.Sprintf("%s gave up waiting for a lock (attempt %d), and its retry in %s would start at %s", m.ID(), attempt, wait, at.UTC().Format(time.RFC3339))
	if left > 0 {
		return fmt.Sprintf("%s, with only %s of the maintenance window left, less than min_window_left (%s)", retry, left.Round(time.Second), sched.MinLeft()), false
	}
	if bo, in := sched.Blackout(period.End); in {
		return fmt.Sprintf("%s, after the %s begins at %s", retry, bo, period.End.UTC().Format(time.RFC3339)), false
	}
	return fmt.Sprintf("%s, after the maintenance window closes at %s", retry, period.End.UTC().Format(time.RFC3339)), false
}

// stopAtWindowEnd ends a run whose window closed before pending[i] started, or, retried, before the
// retry of pending[i] after a lock timeout started (nothing of it stays): what it applied stays
// (verified; rolled back if a check fails), the rest waits for the next window. The run is partial.
func (d *deployer) stopAtWindowEnd(ctx context.Context, pending []*migrate.Migration, i int, ids map[string]int64, closed string, retried bool) error {
	for j := i; j < len(pending); j++ {
		d.res.Migrations[j].Status = StatusNotRun
	}
	if retried {
		// Its statement ran and lock_timeout cancelled it: it failed, as history records it (markFailed),
		// though nothing of it stays and it runs again in the next window.
		d.res.Migrations[i].Status = StatusFailed
	}
	d.res.Window.Open = false
	var done, left []string
	for _, m := range pending[:i] {
		done = append(done, m.ID())
	}
	for _, m := range pending[i:] {
		left = append(left, m.ID())
	}
	applied, stays := "applied and verified "+strings.Join(done, ", "), strings.Join(done, ", ")+" stay applied"
	stopped, notStarted := closed+" during the deploy", "not started: "+strings.Join(left, ", ")
	progress, didNot := "not starting "+strings.Join(left, ", "), strings.Join(left, ", ")+" did not start"
	if retried {
		stopped = closed
		notStarted = "not retried (nothing of it stays): " + left[0]
		progress, didNot = "not retrying "+left[0], left[0]+" was not retried (nothing of it stays)"
		if len(left) > 1 {
			rest := strings.Join(left[1:], ", ")
			notStarted += "; not started: " + rest
			progress += ", not starting " + rest
			didNot += ", " + rest + " did not start"
		}
	}
	d.progress("%s: %s", closed, progress)
	if err := d.verifyApplied(ctx, pending[:i], ids); err != nil {
		return err
	}
	if err := d.lockKept(ctx, pending[:i]); err != nil {
		return err
	}
	if len(done) == 0 {
		// Only a retried migration can stop the run before anything is applied (the window is not asked
		// before the first), and nothing of it stays: the database is as it was, blocked (exit 3), not
		// partial (exit 1: what was applied stays, a person looks).
		d.note("%s: nothing was applied, %s", stopped, didNot)
		b := &Blocked{Reason: fmt.Sprintf("%s: %s; nothing was applied, nothing was changed", stopped, notStarted),
			Hint: "it deploys in the next window; or break this one with --break-window --reason"}
		if next, ok := d.nextWindow(); ok {
			d.res.Window.Next = &next.Start
			b.Hint = fmt.Sprintf("it deploys in the next window, which opens at %s; or break this one with --break-window --reason",
				next.Start.UTC().Format(time.RFC3339))
		}
		d.progress("%s", b.Reason)
		return b
	}
	// Not blocked: blocked says that the database is as it was, and part of the run is applied.
	d.res.Outcome = OutcomePartial
	d.res.Reason = fmt.Sprintf("%s: %s; %s", stopped, applied, notStarted)
	d.res.Hint = "the rest deploys in the next window; or break this one with --break-window --reason"
	if next, ok := d.nextWindow(); ok {
		d.res.Window.Next = &next.Start
		d.res.Hint = fmt.Sprintf("the rest deploys in the next window, which opens at %s; or break this one with --break-window --reason",
			next.Start.UTC().Format(time.RFC3339))
	}
	d.note("%s: %s, %s", stopped, stays, didNot)
	d.progress("%s", d.res.Reason)
	return errors.New(d.res.Reason)
}

// nextWindow is the first window after the one open now (if any) that a migration can start in: where
// a run that stopped at its window's end (or min_window_left before it) carries on.
func (d *deployer) nextWindow() (Interval, bool) {
	now := d.clock.Now()
	cur, open := d.sched.Period(now)
	for _, iv := range d.sched.NextStartable(now, 2) {
		if !open || !iv.Start.Equal(cur.Start) {
			return iv, true
		}
	}
	return Interval{}, false
}

// waitGone waits until a dead run's work connection has left the server, terminating it if it lingers
// (a statement that does not notice its client is gone).
func (d *deployer) waitGone(ctx context.Context, pid int) error {
	if pid == 0 {
		return nil
	}
	deadline := d.clock.Now().Add(time.Minute)
	terminated := false
	what := fmt.Sprintf("stopped while waiting for the dead run's connection (pid %d) to go", pid)
	for {
		var alive bool
		if err := d.conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND application_name = 'schemagate deploy')", pid).Scan(&alive); err != nil {
			if ctx.Err() != nil {
				return stopped(ctx, what)
			}
			return fmt.Errorf("check the dead run's connection: %w", err)
		}
		if !alive {
			return nil
		}
		if !terminated {
			d.progress("terminating the dead run's connection (pid %d)", pid)
			_, _ = d.conn.Exec(ctx, "SELECT pg_terminate_backend($1)", pid)
			terminated = true
		}
		if d.clock.Now().After(deadline) {
			return errors.New("the dead run's connection (pid " + fmt.Sprint(pid) + ") does not go away; terminate it by hand")
		}
		select {
		case <-ctx.Done():
			return stopped(ctx, what)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// renewAfter opens a new work session after pending[i], applied, when it may have changed the settings a
// new session starts with (pg.ChangesNewSessions: ALTER ROLE or ALTER DATABASE … SET or RESET) and a
// migration follows or its own sqitch verify script is to run: the reset before each migration (RESET
// ALL) goes back to what the session started with, so the next one (and this one's verify script) would
// run under the old search path, where a deploy that ran it alone, psql, sqitch or any tool, in a session
// of its own, runs under the new one, as the rehearsal does (it renews before the verify script of the
// last change too). The migrations that change no such setting keep the session. A server that cannot
// be reached again leaves the run as a connection lost before the next migration (or the verify script)
// does: the later ones not run, for --recover.
func (d *deployer) renewAfter(ctx context.Context, ap *applier, pending []*migrate.Migration, i int) error {
	m := pending[i]
	last := i+1 == len(pending)
	if last && m.Verify.Empty() || !pg.ChangesNewSessions(m.Up) {
		return nil
	}
	next := "the next migration runs"
	switch {
	case last:
		next = "its verify script runs"
	case !m.Verify.Empty():
		next = "its verify script and the next migration run"
	}
	d.progress("%s changes the settings of its role or database: %s in a new session, which has them", m.ID(), next)
	d.conn.Close(context.WithoutCancel(ctx))
	if err := d.reconnect(ctx); err != nil {
		err = fmt.Errorf("open a new session after %s: %w", m.ID(), err)
		for j := i + 1; j < len(pending); j++ {
			d.res.Migrations[j].Status = StatusNotRun
		}
		if !m.Verify.Empty() {
			// m committed, its verify script did not run: as a verify script that lost the server
			// (unreachable would say that m, or the next one, which never started, cannot have committed).
			return d.unverified(pending[:i+1], fmt.Sprintf("the verify script of %s (%s)", m.ID(), d.o.file(m.Verify.File)), err)
		}
		return d.unreachable(pending[:i+1], pending[i+1], false, err)
	}
	ap.conn = d.conn
	return nil
}

// recordOwnXID is what the applier records each transaction id of the run's in (see applier.recordOwn):
// a row of schemagate_run_xids, written in that transaction, so that it commits with the writes it
// owns. Only a run with a snapshot needs them (--recover restores it); nil otherwise.
func (d *deployer) recordOwnXID() func(ctx context.Context, q execer, xid int64) error {
	if d.o.Snapshotter == nil || d.run == nil {
		return nil
	}
	sql := fmt.Sprintf("INSERT INTO %s (run_id, xid) VALUES ($1, $2)", d.hist.table("schemagate_run_xids"))
	return func(ctx context.Context, q execer, xid int64) error {
		if _, err := q.Exec(ctx, sql, d.run.id, xid); err != nil {
			return fmt.Errorf("record the transaction id of the run's own: %w", err)
		}
		return nil
	}
}
