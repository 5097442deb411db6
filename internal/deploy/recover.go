package deploy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/snapshot"
)

// recoveryPlan is what --recover does to a run that did not finish, read from history without changing
// anything: recoverRuns carries it out, and a dry run with --recover reports it (planRecovery makes it
// for both, so that the plan a dry run shows is the one the recovery follows).
type recoveryPlan struct {
	run deadRun
	// rec is the recovery as its report tells it once it has gone through: Undone, Kept, ByHand, and
	// Method when no rollback decides it (a restore to record, a migration undone by hand).
	rec *Recovery
	// marks are the history rows recorded before anything is rolled back: a migration whose transaction
	// died with the run (failed), what a person did by hand to the one it left half applied, a restore the
	// run could not record.
	marks []historyMark
	// undo is what the rollback undoes (its downs, or the run's snapshot); partialAt is the statement the
	// half-applied migration had started, ended whether its run recorded it half applied.
	undo      undoPlan
	partialAt int
	ended     bool
	// keys are the history keys of undo's migrations, by migration key.
	keys map[string]string
	// after is the status of each history key the recovery changes, as history will record it: the plan
	// of the deploy that follows reads history so.
	after map[string]string
}

// historyMark is the status a history row is given.
type historyMark struct {
	id                   int64
	label, status, error string
}

// planRecovery reads from history what --recover does to run r (see recoveryPlan). A migration of r that
// the folder no longer holds blocks it, before anything changes.
func (d *deployer) planRecovery(ctx context.Context, r deadRun) (*recoveryPlan, error) {
	rows, err := d.hist.runMigrations(ctx, d.conn, r.RunID)
	if err != nil {
		return nil, fmt.Errorf("recover run %s: %w", r.RunID, err)
	}
	pl := &recoveryPlan{run: r, partialAt: -1, undo: undoPlan{ids: map[string]int64{}}, keys: map[string]string{}, after: map[string]string{},
		rec: &Recovery{RunID: r.RunID, Since: r.Since.UTC().Format(time.RFC3339), Holder: r.Holder, MaintenanceOff: r.MaintenanceOn}}
	if r.Status == runUnrecorded {
		// It restored its snapshot: what history still says applied (or running outside a transaction) is
		// restored; one still running in a transaction did not commit (failed). See halfway.go.
		pl.rec.Method, pl.rec.Why = "snapshot", "run "+r.RunID+" restored it before it ended; history now records that"
		for j := len(rows) - 1; j >= 0; j-- {
			row := rows[j]
			status := StatusRestored
			switch {
			case row.Status == StatusRunning && !row.NoTransaction:
				status = StatusFailed
			case row.Status != StatusApplied && row.Status != StatusRunning:
				continue
			}
			pl.marks = append(pl.marks, historyMark{id: row.ID, label: row.Version, status: status})
			pl.after[row.Version] = status
			if status == StatusRestored {
				pl.rec.Undone = append(pl.rec.Undone, row.Version)
			}
		}
		return pl, nil
	}
	p := &pl.undo
	for j := len(rows) - 1; j >= 0; j-- { // oldest first
		row := rows[j]
		m := recordedMigration(d.o.Set, row.Version, row.Checksum) // perhaps under an earlier release's key
		switch {
		case row.Status == StatusRunning && !row.NoTransaction:
			// Its transaction died with the connection: nothing to undo.
			label := row.Version
			if m != nil {
				label = m.ID()
			}
			pl.marks = append(pl.marks, historyMark{id: row.ID, label: label, status: StatusFailed, error: "run died"})
			pl.rec.Died = append(pl.rec.Died, label)
			pl.after[row.Version] = StatusFailed
			continue
		case row.Status != StatusApplied && row.Status != StatusRunning && row.Status != StatusHalfApplied:
			continue
		case m == nil:
			return nil, &Blocked{Reason: fmt.Sprintf("cannot recover run %s: version %s it applied is not in the migration folder", r.RunID, row.Version),
				Hint: "deploy from the commit that run deployed, with --recover"}
		}
		p.ids[m.Key()], pl.keys[m.Key()] = row.ID, row.Version
		if row.Status == StatusRunning || row.Status == StatusHalfApplied {
			p.partial, pl.partialAt = m, row.Statement
			pl.ended = row.Status == StatusHalfApplied
		} else {
			p.migs = append(p.migs, m)
		}
		pl.rec.Undone = append(pl.rec.Undone, m.Key())
		pl.after[row.Version] = StatusRolledBack
	}
	if m := p.partial; m != nil {
		// What the person running --recover says of it: undone by hand (--undone), it is recorded as
		// rolled back; finished by hand (--keep-applied), as applied. It is then no longer part of the
		// rollback. Without either, the rollback must undo it (only the snapshot can).
		status, what := "", ""
		switch {
		case undoneMatches(d.o.Undone, m):
			status, what = StatusRolledBack, fmt.Sprintf("%s undone by hand (--undone %s)", m.ID(), d.o.Undone)
		case d.o.KeepApplied:
			status, what = StatusApplied, m.ID()+" finished by hand (--keep-applied)"
		}
		if status != "" {
			pl.marks = append(pl.marks, historyMark{id: p.ids[m.Key()], label: m.ID(), status: status})
			pl.after[pl.keys[m.Key()]] = status
			pl.rec.ByHand, pl.rec.Hand = what, m.Key()
			p.partial = nil
			if status == StatusApplied {
				// Applied now, as the run's other migrations are: --keep-applied keeps it with them.
				p.migs = append(p.migs, m)
			} else {
				pl.rec.Method = "hand"
			}
		}
	}
	if d.o.KeepApplied && len(p.migs) > 0 {
		for _, m := range p.migs {
			pl.rec.Kept = append(pl.rec.Kept, m.Key())
			pl.rec.Undone = without(pl.rec.Undone, m.Key())
			pl.after[pl.keys[m.Key()]] = StatusApplied
		}
		p.migs = nil
	}
	return pl, nil
}

// undoes tells whether the recovery rolls anything back (its downs or its snapshot).
func (pl *recoveryPlan) undoes() bool { return len(pl.undo.migs) > 0 || pl.undo.partial != nil }

// recoverySnapshot is the restore of dead run r's snapshot, or why it cannot be used (refusal): a
// snapshot is safe to restore only while maintenance mode has stayed on since it was taken.
func (d *deployer) recoverySnapshot(ctx context.Context, r deadRun) (restore snapshot.RestoreFunc, refusal string) {
	refusal = "run " + r.RunID + " recorded no snapshot"
	if r.Snapshot != nil && d.o.Snapshotter != nil {
		switch rf, err := d.o.Snapshotter.Reopen(ctx, r.Snapshot); {
		case err != nil:
			refusal = "its snapshot cannot be opened: " + err.Error()
		case !r.SnapshotSafe || !r.MaintenanceOn:
			refusal = "writes may have reached the database since its snapshot"
		default:
			// History says maintenance mode stayed on; the rows tell whether it did.
			switch wrote, err := d.writtenSince(ctx, r); {
			case err != nil:
				refusal = "whether other sessions wrote since its snapshot cannot be told: " + err.Error()
			case wrote != "":
				refusal = wrote
			default:
				restore, refusal = rf, ""
			}
		}
	}
	return restore, refusal
}

// recoverRuns cleans up after runs that died: it waits for their work connection to go, then rolls back
// what they applied (downs, or their snapshot when maintenance mode has stayed on since it was taken),
// judged as the dead run would have judged it, by what it read of the database before its first
// migration (loadBefore), as planRecovery planned it.
func (d *deployer) recoverRuns(ctx context.Context, dead []deadRun) error {
	if err := d.checkUndone(ctx, dead); err != nil {
		return err
	}
	// Each dead run's rollback judges by what that run read before its first migration (loadBefore); the
	// deploy that follows reads the database again.
	defer d.forgetBefore()
	for i := len(dead) - 1; i >= 0; i-- {
		r := dead[i]
		d.progress("recovering run %s of %s (started %s)", r.RunID, r.Holder, r.Since.UTC().Format(time.RFC3339))
		if err := d.deadRunGone(ctx, r); err != nil {
			return err
		}
		pl, err := d.planRecovery(ctx, r)
		if err != nil {
			return err
		}
		rec, p := pl.rec, pl.undo
		for _, mk := range pl.marks {
			if err := d.hist.mark(ctx, d.conn, mk.id, mk.label, mk.status, 0, 0, mk.error); err != nil {
				return fmt.Errorf("recover run %s: %w", r.RunID, err)
			}
		}
		if r.Status == runUnrecorded {
			if err := d.hist.markRun(ctx, d.conn, r.RunID, "recovered", r.MaintenanceOn); err != nil {
				return fmt.Errorf("recover run %s: %w", r.RunID, err)
			}
			d.note("recovered run %s: its snapshot restore, which it could not record, is now recorded: %s restored", r.RunID, strings.Join(rec.Undone, ", "))
			d.res.Recovered = rec
			continue
		}
		if rec.ByHand != "" {
			d.note("recovered run %s: %s, as its history row %d now says", r.RunID, rec.ByHand, pl.marks[len(pl.marks)-1].id)
		}
		if pl.undoes() {
			restore, refusal := d.recoverySnapshot(ctx, r)
			if err := d.loadBefore(ctx, r); err != nil {
				return err
			}
			rb, stop := d.undo(ctx, p, restore, refusal)
			rec.Method, rec.Why, rec.NotRestored = rb.Method, rb.Why, rb.NotRestored
			if rb.OK && rb.Lost != "" {
				d.note("recovering run %s, the downs brought the schema back, but not the data: %s", r.RunID, rb.Lost)
			}
			rec.notRun(rb, r.RunID)
			if stop != nil {
				rec.Failed, rec.Undone = rb.Error, nil
				d.res.Recovered = rec
				d.recoverUnrecorded(ctx, r, stop)
				return fmt.Errorf("recover run %s: %w", r.RunID, stop)
			}
			if !rb.OK {
				rec.Failed, rec.Undone = rb.Error, nil
				d.res.Recovered = rec
				if p.partial != nil {
					rec.Failed += "; " + halfway(d.o, p.partial, pl.partialAt, pl.ended)
					d.res.Hint = halfwayHint(p.partial)
					return fmt.Errorf("recover run %s: %s", r.RunID, rec.Failed)
				}
				if restore == nil {
					return &Blocked{Reason: fmt.Sprintf("recover run %s: %s", r.RunID, rb.Error), Hint: keepAppliedHint}
				}
				return fmt.Errorf("recover run %s: %s", r.RunID, rb.Error)
			}
		}
		if err := d.hist.markRun(ctx, d.conn, r.RunID, "recovered", r.MaintenanceOn); err != nil {
			return fmt.Errorf("recover run %s: %w", r.RunID, err)
		}
		d.res.Recovered = rec
		if did := rec.account(true); did != rec.ByHand { // else the note above says it
			d.note("recovered run %s: %s", r.RunID, did)
		}
	}
	return nil
}

// notRun fills rc.NotRun when the recovery's rollback (rb) of run runID ran nothing (rb.NotRun: the
// downs refused, the snapshot not restored): the report's Recovery line then says "not run", as the
// Rollback line of a live run's rollback does, not FAILED (which a blocked recovery's headline
// contradicted), and what the database is left with, in the words of the hint and notes: the
// migrations it was to roll back (rc.Undone, which the caller then empties) stay applied.
func (rc *Recovery) notRun(rb *RollbackResult, runID string) {
	if rb.NotRun == "" {
		return
	}
	rc.NotRun = rb.NotRun + "; the database was left as it is, with run " + runID + "'s " + strings.Join(rc.Undone, ", ") + " still applied (history says so)"
}

// keepAppliedHint is the way out of a recovery whose downs cannot undo what the dead run applied and
// whose snapshot cannot be restored.
const keepAppliedHint = "if what it applied should stay (check the database), run again with --recover --keep-applied; otherwise restore a backup"

// planRecoveries is a dry run's account of what --recover would do to the runs that did not finish
// (dead, oldest first), planned as recoverRuns plans it (planRecovery), and how it would roll them back
// (undoNeed, as undo decides): the recovery in the result, with Planned set, and history as the
// recovery would leave it, for the plan of the deploy that follows. A recovery that would stop is
// returned as the error the deploy would stop with (blocked, since nothing changes).
func (d *deployer) planRecoveries(ctx context.Context, dead []deadRun) error {
	if err := d.checkUndone(ctx, dead); err != nil {
		return err
	}
	defer d.forgetBefore()
	d.afterRecovery = map[string]string{}
	for i := len(dead) - 1; i >= 0; i-- {
		r := dead[i]
		pl, err := d.planRecovery(ctx, r)
		if err != nil {
			return err
		}
		rec := pl.rec
		d.res.Recovered = rec
		if pl.undoes() {
			_, refusal := d.recoverySnapshot(ctx, r)
			if err := d.loadBefore(ctx, r); err != nil {
				return err
			}
			need, lost := d.undoNeed(ctx, pl.undo, refusal)
			switch {
			case need == "":
				rec.Method = "down"
				if lost != "" {
					d.note("--recover would roll back run %s by its downs, which bring the schema back, but not the data: %s, and the snapshot cannot be restored: %s", r.RunID, lost, refusal)
				}
			case refusal != "":
				// As undo and recoverRuns end then: only the snapshot could, and it cannot.
				rec.Method, rec.Why = "snapshot", need
				why := need + ", and the snapshot cannot be restored: " + refusal
				b := &Blocked{Reason: fmt.Sprintf("--recover would stop at run %s, changing nothing: %s", r.RunID, why), Hint: keepAppliedHint}
				if p := pl.undo.partial; p != nil {
					b.Reason += "; " + halfway(d.o, p, pl.partialAt, pl.ended)
					b.Hint = halfwayHint(p)
				}
				rec.Plan = "run " + r.RunID + ": would stop, changing nothing: " + why
				return b
			default:
				rec.Method, rec.Why = "snapshot", need
				for _, k := range rec.Undone {
					pl.after[pl.keys[k]] = StatusRestored
				}
			}
		}
		for k, st := range pl.after {
			d.afterRecovery[k] = st
		}
		rec.Plan = pl.plan()
		d.progress("--recover would first recover %s", rec.Plan)
	}
	return nil
}

// plan says what the recovery would do before the deploy that follows (Recovery.Plan).
func (pl *recoveryPlan) plan() string {
	return fmt.Sprintf("run %s: %s; then deploy the pending migrations", pl.rec.RunID, pl.rec.account(false))
}

// account says what the recovery did (done) or would do: what a person did by hand, what it rolled
// back and how, what it kept, what it recorded failed, or that there was nothing to undo.
func (rc *Recovery) account(done bool) string {
	tense := func(did, would string) string {
		if done {
			return did
		}
		return would
	}
	var do []string
	if rc.ByHand != "" {
		do = append(do, tense("", "record ")+rc.ByHand)
	}
	undone := rc.Undone
	if rc.Hand != "" {
		undone = without(slices.Clone(undone), rc.Hand) // the person undid it
	}
	switch {
	case len(undone) == 0:
	case rc.Method == "snapshot":
		v := tense("rolled back ", "roll back ") + strings.Join(undone, ", ") + " by restoring its snapshot"
		if rc.Why != "" {
			v += " (" + rc.Why + ")"
		}
		do = append(do, v)
	default:
		do = append(do, fmt.Sprintf("%s %s by %s down migration%s, newest first", tense("rolled back", "roll back"), strings.Join(undone, ", "), pronoun(len(undone)), plural(len(undone))))
	}
	if len(rc.Kept) > 0 {
		do = append(do, tense("kept ", "keep ")+strings.Join(rc.Kept, ", ")+" as applied (--keep-applied)")
	}
	if len(undone) == 0 && len(rc.Kept) == 0 && rc.ByHand == "" {
		do = append(do, "nothing of it to roll back (no migration of it had been applied)")
	}
	if len(rc.Died) > 0 {
		do = append(do, fmt.Sprintf("%s %s failed (%s transaction died with the run: nothing to undo)", tense("recorded", "record"), strings.Join(rc.Died, ", "), pronoun(len(rc.Died))))
	}
	return strings.Join(do, "; ")
}

// pronoun is "its" for one, "their" for more.
func pronoun(n int) string {
	if n == 1 {
		return "its"
	}
	return "their"
}

// applyRecovery gives the rows of latest the status a planned recovery records for them (after, by
// history key), as history reads once the recovery is done.
func applyRecovery(latest []appliedRow, after map[string]string) {
	for i := range latest {
		if st, ok := after[latest[i].Version]; ok {
			latest[i].Status = st
		}
	}
}

// writtenSince tells whether sessions other than dead run r's wrote rows of the application's tables
// since r's snapshot: history says maintenance mode stayed on, but a person may have turned it off
// (to bring the application back after the run died), and a restore would then drop what the
// application wrote since. It reads each table for row versions that transactions r's mark did not see
// wrote (as the live watch does), other than r's own (schemagate_run_xids); "" when there are none, or
// when r recorded no mark (a run of an earlier release). A row deleted since leaves nothing to find.
func (d *deployer) writtenSince(ctx context.Context, r deadRun) (string, error) {
	if r.Mark == nil {
		return "", nil
	}
	rows, err := d.conn.Query(ctx, fmt.Sprintf("SELECT xid FROM %s WHERE run_id = $1", d.hist.table("schemagate_run_xids")), r.RunID)
	if err != nil {
		return "", err
	}
	own, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return "", err
	}
	w := &writeWatch{next: r.Mark.Next, xip: r.Mark.XIP, found: map[int64]bool{}}
	s, err := w.scanner(ctx, d.conn, own)
	if err != nil {
		return "", err
	}
	tables, err := appTables(ctx, d.conn, d.hist.schema)
	if err != nil {
		return "", err
	}
	for _, t := range tables {
		if err := s.scan(ctx, d.conn, t, "xmin", true); err != nil {
			return "", fmt.Errorf("read %s: %w", t, err)
		}
	}
	if len(s.foreign) == 0 {
		return "", nil
	}
	return fmt.Sprintf("rows of %s were written since its snapshot by %d transaction(s) other than the run's own (maintenance mode may have been turned off since, by hand or by an action that failed): restoring it would lose them",
		strings.Join(s.wrote, ", "), len(s.foreign)), nil
}
