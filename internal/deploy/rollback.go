package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/snapshot"
)

// undoPlan is what a rollback must undo.
type undoPlan struct {
	// migs are the migrations applied, in apply order; ids their history rows by version.
	migs []*migrate.Migration
	ids  map[string]int64
	// partial is a non-transactional migration that failed after some of its statements committed.
	partial *migrate.Migration
}

// rollback undoes a failed run of this deploy, verifies the database is back to the baseline, and returns
// the error that describes the failure.
func (d *deployer) rollback(ctx context.Context, p undoPlan, why string) error {
	// The rollback is part of the clean-up a signal starts: one that comes now (or came before) must
	// not cancel a down half way, nor the records of what the rollback did. The downs keep their lock and
	// statement timeouts, the restore its lock timeout.
	ctx = context.WithoutCancel(ctx)
	d.res.Reason = why
	// The live restore first checks that no other session wrote since the snapshot (guardRestore).
	rb, stop := d.undo(ctx, p, d.guardRestore(d.restore), d.restoreRefusal())
	d.res.Rollback = rb
	if !rb.OK {
		d.res.Outcome = OutcomeFailed
		d.res.Hint = d.rollbackHint(rb, stop)
		return fmt.Errorf("%s; rollback failed: %s", why, rb.Error)
	}
	if rb.Method == "down" {
		d.dropCreatedSchemas(ctx)
	}
	v := d.verifier()
	v.restored = rb.Method != "down"
	checks := v.afterRollback(ctx, d.base)
	d.res.Verify = append(d.res.Verify, checks...)
	bad := failedChecks(checks)
	if len(bad) > 0 && rb.Method == "down" && d.restoreRefusal() == "" {
		// The downs ran but did not bring the database back (a down that cannot restore deleted rows):
		// the snapshot can.
		d.progress("after the down migrations, %q failed: restoring the snapshot", bad[0].Name)
		restoreMS, err := d.restoreAll(ctx, p)
		rb.RestoreMS = restoreMS
		rb.DurationMS += restoreMS // the rollback took the downs and the restore
		if err != nil {
			rb.OK, rb.Error = false, err.Error()
			var fw *foreignWritesError
			if errors.As(err, &fw) {
				rb.Error = fmt.Sprintf("after the downs, %q failed (%s), and the snapshot was not restored: %v", bad[0].Name, bad[0].Message, fw)
				// The downs did run: the database is as they left it, not as the migrations did.
				msg := "ROLLED BACK BY THE DOWNS, NOT VERIFIED: " + rb.Error + "; the database was left as the downs left it, with " + d.stillApplied()
				d.progress("%s", msg)
				d.note("%s", msg)
			}
			d.res.Outcome = OutcomeFailed
			d.res.Hint = d.rollbackHint(rb, err)
			return fmt.Errorf("%s; rollback failed: %s", why, rb.Error)
		}
		d.notRestored(rb, p)
		rb.Method, rb.Why = "down+snapshot", fmt.Sprintf("after the downs, %q failed: %s", bad[0].Name, bad[0].Message)
		v.restored = true
		checks = v.afterRollback(ctx, d.base)
		d.res.Verify = append(d.res.Verify, checks...)
		bad = failedChecks(checks)
	}
	if len(bad) > 0 {
		d.res.Outcome = OutcomeFailed
		d.res.Hint = fmt.Sprintf("after rolling back, %q failed: %s", bad[0].Name, bad[0].Message)
		return fmt.Errorf("%s; rolled back by %s but %s", why, rb.Method, d.res.Hint)
	}
	if rb.Lost != "" {
		// The schema is back, the data an up destroyed is not: the database is not as it was.
		d.res.Outcome = OutcomeFailed
		d.res.Hint = "the downs brought the schema back, but not the data: " + rb.Lost + "; restore it from a backup if it is needed"
		d.progress("rolled back by %s, but data is lost: %s", rb.Method, rb.Lost)
		return fmt.Errorf("%s; rolled back by %s, but data is lost: %s", why, rb.Method, rb.Lost)
	}
	d.res.Outcome = OutcomeRolledBack
	if rb.Method == "down" && len(p.migs) == 0 && p.partial == nil {
		d.progress("nothing of this run had been applied; verified")
		return fmt.Errorf("%s; nothing of this run had been applied", why)
	}
	d.progress("rolled back by %s and verified", rb.Method)
	return fmt.Errorf("%s; rolled back by %s", why, rb.Method)
}

// dropCreatedSchemas drops the schemas this run created for the folder's tool, newest first, once the
// downs have undone the migrations: they were not there before. A schema that still holds something is
// kept (DROP SCHEMA without CASCADE refuses it), and the verification that follows names what is left.
func (d *deployer) dropCreatedSchemas(ctx context.Context) {
	for i := len(d.createdSchemas) - 1; i >= 0; i-- {
		s := d.createdSchemas[i]
		if _, err := d.conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+ident(s)); err != nil {
			d.note("schema %s, which this run created, is not empty after the downs: kept (%v)", s, err)
		}
	}
}

// rollbackHint is the hint of a rollback that did not bring the database back, or could not record
// that it did; stop is undo's.
func (d *deployer) rollbackHint(rb *RollbackResult, stop error) string {
	var fw *foreignWritesError
	if errors.As(stop, &fw) && fw.err != nil {
		// The check could not be made: there may have been no other session's write at all.
		return "the database was left as it is, with " + d.stillApplied() + " (history says so): " + fw.Error() +
			". Decide with the application's owners: undo the migrations by hand (a down script), deploy a fix, or, once sure that no other session wrote since the snapshot, restore the snapshot by hand"
	}
	if errors.As(stop, &fw) {
		return "nothing was lost: the database was left as it is, with the other sessions' writes and " + d.stillApplied() +
			" (history says so). Decide with the application's owners: undo the migrations by hand (a down script), deploy a fix, or restore the snapshot by hand accepting the loss of those writes"
	}
	var ue *unrecordedError
	if errors.As(stop, &ue) {
		return ue.hint(d.hist.table("schemagate_runs"), d.o.RunID)
	}
	var lw *LockWaitError
	if errors.As(stop, &lw) {
		var applied []string
		for _, m := range d.res.Migrations {
			if m.Status == StatusApplied {
				applied = append(applied, m.id())
			}
		}
		if len(applied) == 0 {
			return "the rollback stopped where history still says what the database holds (nothing of this run is applied); " + lw.Hint + ", then deploy again"
		}
		// A deploy run again applies what is not applied and leaves these in place: the rollback this
		// run began is not finished by it.
		newest := slices.Clone(applied)
		slices.Reverse(newest)
		return "the rollback stopped half way, where history still says what the database holds (applied: " + strings.Join(applied, ", ") + "); " + lw.Hint +
			", then finish the rollback by hand (the down of " + strings.Join(newest, ", then ") + ", or the snapshot): a deploy run again would keep " +
			strings.Join(applied, ", ") + " and apply only the migrations after them"
	}
	return "the database is not back to where it was: " + rb.Error
}

// unrecordedError is a snapshot restore that history could not record: the database is back to the
// snapshot, while schemagate_history still records the migrations it undid as applied.
type unrecordedError struct {
	table string
	migs  []string
	ids   []int64
	err   error
}

func (e *unrecordedError) Error() string {
	return fmt.Sprintf("the snapshot was restored, but recording it failed, so history still records %s as applied: %v", strings.Join(e.migs, ", "), e.err)
}

func (e *unrecordedError) Unwrap() error { return e.err }

// hint says how to record the restore: --recover, which the next deploy (blocked until then, see
// runUnrecorded) asks for, or the statements that do it by hand, for history and for run runID.
func (e *unrecordedError) hint(runs, runID string) string {
	ids := make([]string, len(e.ids))
	for i, id := range e.ids {
		ids[i] = fmt.Sprint(id)
	}
	return fmt.Sprintf("the database is back to where it was, but history is not: it still takes %s as applied, so the next deploy is blocked until deploy --recover records the restore (by hand: UPDATE %s SET status = 'restored' WHERE id IN (%s); UPDATE %s SET status = 'recovered' WHERE run_id = %s)",
		strings.Join(e.migs, ", "), e.table, strings.Join(ids, ", "), runs, quoteLit(runID))
}

func (d *deployer) restoreRefusal() string {
	switch {
	case d.restore == nil:
		return "no snapshot was taken"
	case !d.snapOK:
		return "writes reached the database after the snapshot, and restoring it would lose them"
	}
	return ""
}

// undoNeed decides how undo rolls p back, before anything runs: need says why only the snapshot can (a
// down missing or losing data, a migration half applied; "" when the downs can), lost what the downs
// cannot bring back when the snapshot cannot be restored (refusal says why not). A dry run of --recover
// reports the same decision (recoveryPlan.method).
func (d *deployer) undoNeed(ctx context.Context, p undoPlan, refusal string) (need, lost string) {
	if p.partial != nil {
		return p.partial.ID() + " stopped half way outside a transaction", ""
	}
	code := d.funcCode(ctx, p.migs)
	for i := len(p.migs) - 1; i >= 0 && need == ""; i-- {
		need = snapshotOnly(p.migs[i], p.migs[:i], d.o.Set.SearchPath, code, d.cascades) // as restorable expects
	}
	// An up that destroyed data its down does not bring back: the snapshot has it. Without a snapshot
	// that can be restored the downs still bring the schema back, and the rollback says what is lost.
	for i := len(p.migs) - 1; i >= 0 && need == "" && lost == ""; i-- {
		lost = upDestroyed(p.migs[i], p.migs[:i], d.o.Set.SearchPath, code, d.cascades)
	}
	if lost != "" && refusal == "" {
		need, lost = lost, ""
	}
	return need, lost
}

// undo rolls migrations back: their downs newest first, or the snapshot when a down is missing, would lose
// data or fails, or when a non-transactional migration stopped half way. stop is set when it stopped
// because history could not be written: a *LockWaitError when a down could not be recorded (it was
// rolled back with its record, and no snapshot is restored, which could not be recorded either), an
// *unrecordedError when a restore could not be, a *LockWaitError too when lock_timeout stopped the
// restore (rolled back whole). History then still tells what the database holds, or stop says how it
// does not.
func (d *deployer) undo(ctx context.Context, p undoPlan, restore snapshot.RestoreFunc, refusal string) (rb *RollbackResult, stop error) {
	start := d.clock.Now()
	rb = &RollbackResult{Method: "down"}
	defer func() { rb.DurationMS = d.clock.Now().Sub(start).Milliseconds() }()
	if d.takenOver != nil {
		// Another deploy took the lock while this run had lost it (see reconnect): what this run applied
		// is that deploy's to undo, or to keep, now. Nothing failed: the rollback was not run, and the
		// report says so (not run, naming that deploy), as it does of downs it refused.
		rb.Error = "nothing was rolled back: " + d.takenOver.Error()
		rb.NotRun = takenOverNotRun(d.takenOver, "")
		return rb, d.takenOver
	}
	need, lost := d.undoNeed(ctx, p, refusal)
	// refused is why no down runs at all (only the snapshot can undo the run); "" when the downs run.
	refused := need
	if need == "" {
		// The downs drop the tables the run created and the columns it added: other sessions' writes to
		// them since the snapshot would go too, without a word. Neither the downs run then nor the
		// snapshot is restored (which would lose them as well): the database is left as it is, for a
		// person to decide, as when a restore is refused.
		if fw := d.downWrites(ctx, p.migs); fw != nil {
			rb.Error = "the down migrations were not run, nor the snapshot restored: " + fw.Error()
			rb.NotRun = "the down migrations were refused (" + fw.Error() + "), and the snapshot was not restored either, for the same reason"
			d.foreignWritesKept(rb)
			return rb, fw
		}
		ap := d.applier()
		for i := len(p.migs) - 1; i >= 0; i-- {
			m := p.migs[i]
			id := p.ids[m.Key()]
			d.progress("rolling back %s with its down migration", m.ID())
			st, err := ap.run(ctx, m, m.Down, func(tx pgx.Tx) error {
				return d.hist.mark(ctx, tx, id, m.ID(), StatusRolledBack, 0, 0, "")
			})
			for tries := 0; err != nil && tries < 3 && !m.Down.NoTransaction && pg.ConnectionLost(err) && ctxErr(err) == nil && d.connGone(ctx); tries++ {
				// The connection went during a down that runs in a transaction (a server that restarted):
				// the server rolled it back, unless its COMMIT went through, which its history row,
				// committed with it, tells. Connected again, it runs again.
				d.progress("%s: lost the connection to the database server during its down: %v", m.ID(), err)
				if rerr := d.revive(ctx); rerr != nil {
					if d.takenOver != nil {
						// The run is the other deploy's now: no down again, no snapshot either. The
						// down's transaction went with the connection (its history row, which the
						// other deploy reads, tells if its COMMIT went through first).
						rb.Error = fmt.Sprintf("the down of %s did not run: %v", m.ID(), rerr)
						rb.NotRun = takenOverNotRun(d.takenOver, fmt.Sprintf("the down of %s lost its connection to the database server and was not run again", m.ID()))
						return rb, d.takenOver
					}
					err = fmt.Errorf("%w; and connecting again failed: %v", err, rerr)
					break
				}
				if status, serr := d.hist.status(ctx, d.conn, id, m.ID()); serr == nil && status == StatusRolledBack {
					err = nil
					break
				}
				ap = d.applier()
				st, err = ap.run(ctx, m, m.Down, func(tx pgx.Tx) error {
					return d.hist.mark(ctx, tx, id, m.ID(), StatusRolledBack, 0, 0, "")
				})
			}
			mr := d.resultOf(m)
			if mr != nil {
				mr.RollbackMS = st.duration.Milliseconds()
			}
			if err != nil {
				if mr != nil {
					mr.RollbackError = sqlError(err, "down")
				}
				var lw *LockWaitError
				if errors.As(err, &lw) {
					rb.Error = fmt.Sprintf("the down of %s could not be recorded, and was rolled back with its record: %v", m.ID(), err)
					if m.Down.NoTransaction {
						rb.Error = fmt.Sprintf("the down of %s ran outside a transaction, but could not be recorded, so history still records it as applied: %v", m.ID(), err)
					}
					return rb, lw
				}
				need = fmt.Sprintf("the down of %s failed: %v", m.ID(), err)
				break
			}
			if mr != nil {
				mr.Status = StatusRolledBack
			}
		}
		if need == "" {
			rb.OK = true
			if lost != "" {
				rb.Lost = lost + ", and the snapshot cannot be restored: " + refusal
			}
			return rb, nil
		}
	}
	rb.Method, rb.Why = "snapshot", need
	if refusal != "" {
		rb.Error = need + ", and the snapshot cannot be restored: " + refusal
		if refused != "" {
			rb.NotRun = "the down migrations were refused (" + refused + "), and the snapshot cannot be restored: " + refusal
		}
		return rb, nil
	}
	d.progress("restoring the snapshot: %s", need)
	ms, err := d.restoreWith(ctx, restore, p)
	rb.RestoreMS = ms
	var fw *foreignWritesError
	if errors.As(err, &fw) {
		rb.Error = need + ", and the snapshot was not restored: " + fw.Error()
		if refused != "" {
			rb.NotRun = "the down migrations were refused (" + refused + "), and the snapshot was not restored: " + fw.Error()
		}
		d.foreignWritesKept(rb)
		return rb, fw
	}
	var ue *unrecordedError
	if errors.As(err, &ue) {
		rb.Error = err.Error()
		d.notRestored(rb, p)
		return rb, ue
	}
	if err != nil {
		rb.Error = err.Error()
		var lw *LockWaitError
		if errors.As(err, &lw) {
			// The restore's transaction was rolled back whole: history, which records these migrations
			// as applied, still tells what the database holds.
			return rb, lw
		}
		return rb, nil
	}
	rb.OK = true
	d.notRestored(rb, p)
	return rb, nil
}

// takenOverNotRun is RollbackResult.NotRun of a rollback that another deploy's takeover (to) stopped
// (see reconnect): cut says what of it had begun ("the down of 1_a lost its connection ... and was not
// run again"; "" when nothing had). The rollback did not fail: it is not this run's to carry out any
// more, as that deploy may have rolled the run back, deployed again and let the application write.
// The downs that ran before it (newer migrations' ones) show as rolled back in the report's rows, and
// the report's Rollback line then says what ran before what did not (see Result.facts).
func takenOverNotRun(to *takenOverError, cut string) string {
	if cut != "" {
		cut += ", nor any down or snapshot restore after it: "
	}
	return cut + to.Error() + ": what this run applied is that deploy's to roll back or keep now"
}

// restoreAll restores this run's snapshot; ms is how long the restore took.
func (d *deployer) restoreAll(ctx context.Context, p undoPlan) (ms int64, err error) {
	return d.restoreWith(ctx, d.guardRestore(d.restore), p)
}

// restoreWith restores a snapshot and records the plan's migrations as restored; ms is how long the
// restore took.
func (d *deployer) restoreWith(ctx context.Context, restore snapshot.RestoreFunc, p undoPlan) (ms int64, err error) {
	defer func() {
		// History still says applied for what the restore undid: the run's record must not say it ended
		// as history has it (see runRow.restoreUnrecorded); a recovery's is marked by recoverRuns.
		var ue *unrecordedError
		if errors.As(err, &ue) && d.run != nil {
			d.run.restoreUnrecorded = true
		}
	}()
	start := d.clock.Now()
	err = d.restoreLocked(ctx, restore)
	took := d.clock.Now().Sub(start)
	if err != nil {
		var lw *LockWaitError
		var fw *foreignWritesError
		if !errors.As(err, &lw) && !errors.As(err, &fw) { // which say what they were
			err = fmt.Errorf("restore snapshot: %w", err)
		}
		return took.Milliseconds(), err
	}
	d.progress("snapshot restored in %s", took.Round(time.Millisecond))
	// Its records must not fail for the state of the work connection: a statement a signal cancelled
	// may have taken it (connect again), and the restore dropped and recreated what cached statements
	// refer to (history's own writes use no cached statement, see history.mark).
	ctx = context.WithoutCancel(ctx)
	if d.conn == nil || d.conn.IsClosed() {
		if err := d.reconnect(ctx); err != nil {
			return took.Milliseconds(), d.unrecorded(p, err)
		}
	} else {
		_ = d.conn.DeallocateAll(ctx)
	}
	var ue *unrecordedError
	for _, m := range restored(p) {
		if err := d.hist.mark(ctx, d.conn, p.ids[m.Key()], m.ID(), StatusRestored, 0, 0, ""); err != nil {
			if ue == nil {
				ue = &unrecordedError{table: d.hist.table("schemagate_history"), err: err}
			}
			ue.migs, ue.ids = append(ue.migs, m.ID()), append(ue.ids, p.ids[m.Key()])
		}
		if mr := d.resultOf(m); mr != nil {
			mr.Status = StatusRestored
		}
	}
	if ue != nil {
		return took.Milliseconds(), ue
	}
	return took.Milliseconds(), nil
}

// restored is what a snapshot restore of plan p undoes.
func restored(p undoPlan) []*migrate.Migration {
	all := append([]*migrate.Migration{}, p.migs...)
	if p.partial != nil {
		all = append(all, p.partial)
	}
	return all
}

// unrecorded is the *unrecordedError of a restore none of whose records could be written (err).
func (d *deployer) unrecorded(p undoPlan, err error) *unrecordedError {
	ue := &unrecordedError{table: d.hist.table("schemagate_history"), err: err}
	for _, m := range restored(p) {
		ue.migs, ue.ids = append(ue.migs, m.ID()), append(ue.ids, p.ids[m.Key()])
		if mr := d.resultOf(m); mr != nil {
			mr.Status = StatusRestored
		}
	}
	return ue
}

// foreignWritesKept says, loudly, that a live restore was refused because other sessions wrote since the
// snapshot (rb.Error says which), and what stays applied.
func (d *deployer) foreignWritesKept(rb *RollbackResult) {
	msg := "NOT ROLLED BACK: " + rb.Error + "; the database was left as it is, with " + d.stillApplied()
	d.progress("%s", msg)
	d.note("%s", msg)
}

// stillApplied names the migrations of this run that the rollback left applied.
func (d *deployer) stillApplied() string {
	var applied, half []string
	for _, m := range d.res.Migrations {
		switch {
		case m.Status == StatusApplied:
			applied = append(applied, m.id())
		case len(m.Completed) > 0 && (m.Status == StatusFailed || m.Status == StatusHalfApplied):
			// A non-transactional migration stopped half way: what completed of it stays.
			half = append(half, m.id()+" half applied (completed: "+strings.Join(m.Completed, ", ")+")")
		}
	}
	var out []string
	if len(applied) > 0 {
		out = append(out, strings.Join(applied, ", ")+" still applied")
	}
	out = append(out, half...)
	if len(out) == 0 {
		return "nothing of this run applied"
	}
	return "this run's " + strings.Join(out, " and ")
}

func (d *deployer) resultOf(m *migrate.Migration) *MigrationResult {
	for i := range d.res.Migrations {
		if d.res.Migrations[i].Version == m.Version && d.res.Migrations[i].Name == m.Name {
			return &d.res.Migrations[i]
		}
	}
	return nil
}
