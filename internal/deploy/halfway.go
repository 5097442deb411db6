package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/schemagate/schemagate/internal/migrate"
)

// A run that dies inside a non-transactional migration leaves it half applied: the statements that
// completed stay, the rest never ran, and only its snapshot (when one is safe to restore) can undo it
// automatically. Otherwise a person finishes or undoes the migration by hand and tells --recover which
// (--keep-applied: finished; --undone VERSION: undone), and --recover records it in history as if the
// deploy had done it. To say what is left to do, the run records in the migration's history row which
// statement it had started (history.started).

// statementHook returns the applier's started hook for the up of migration m, whose history row is id:
// it records each statement of a non-transactional up as it starts; nil for a transactional one, whose
// statements commit together or not at all. A record that fails stops the records (a stale one would
// mislead more than none) and is logged.
func (d *deployer) statementHook(ctx context.Context, id int64, m *migrate.Migration) func(int) {
	if !m.NoTransaction {
		return nil
	}
	failed := false
	return func(i int) {
		if failed || d.lock == nil || d.lock.conn == nil {
			return
		}
		if err := d.hist.started(ctx, d.lock.conn, id, m.ID(), i); err != nil {
			failed = true
			d.log.Warn("record the statement under way", "migration", m.ID(), "err", err)
			_ = d.hist.started(ctx, d.lock.conn, id, m.ID(), -1)
		}
	}
}

// statementLabel names a statement for a person: its first line (shortened) and its place in the file,
// which the report names file (see Options.file).
func statementLabel(file string, s *migrate.Script, i int) string {
	st := s.Statements[i]
	text, _, cut := strings.Cut(strings.TrimSpace(st.SQL), "\n")
	if len(text) > 60 {
		text, cut = text[:60], true
	}
	if cut {
		text += " …"
	}
	return fmt.Sprintf("%q at %s:%d", text, file, st.Pos.Line)
}

// halfway describes how far the non-transactional up of m got when its run died (or, ended, when it
// failed or was stopped and its run ended without undoing it), from the statement it had recorded as
// started (at, from 0; -1 when none was recorded). Files are named as o's report names them.
func halfway(o *Options, m *migrate.Migration, at int, ended bool) string {
	s := m.Up
	if s == nil {
		return fmt.Sprintf("which of its statements completed was not recorded; compare the database with %s", fileOf(m))
	}
	file := o.file(s.File)
	if at < 0 || at >= len(s.Statements) {
		return fmt.Sprintf("which of its statements completed was not recorded; compare the database with %s", file)
	}
	var done, left []string
	for i := range s.Statements {
		switch {
		case i < at:
			done = append(done, statementLabel(file, s, i))
		case i > at:
			left = append(left, statementLabel(file, s, i))
		}
	}
	out := fmt.Sprintf("the run died while statement %d of %d, %s, ran (it may have completed)", at+1, len(s.Statements), statementLabel(file, s, at))
	if ended {
		out = fmt.Sprintf("its run stopped at statement %d of %d, %s, which failed or was stopped (outside a transaction block of its script, it did not complete)", at+1, len(s.Statements), statementLabel(file, s, at))
	}
	if len(done) > 0 {
		out += "; completed before it: " + strings.Join(done, ", ")
	} else {
		out += "; no statement before it"
	}
	if len(left) > 0 {
		out += "; not started: " + strings.Join(left, ", ")
	}
	return out
}

// completedStatements names the statements of the non-transactional script s that completed and stay,
// as the run st of it says, in file (the script's file as the report names it).
func completedStatements(file string, s *migrate.Script, st step) []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, i := range st.done {
		if i >= 0 && i < len(s.Statements) {
			out = append(out, statementLabel(file, s, i))
		}
	}
	if st.partly >= 0 && st.partly < len(s.Statements) {
		out = append(out, statementLabel(file, s, st.partly)+" (failed, and may have committed part of its work)")
	}
	return out
}

// leftHalfway records what the run leaves of the non-transactional migration m (history row id) that
// stopped half way, once its rollback is over: when the snapshot restore that would have undone it did
// not happen (refused, failed, or no snapshot), m stays half applied. Its history row and result then
// say half-applied, the run ends recorded as runHalfway so that the next deploy stops until a person
// has finished or undone m (deploy --recover, as for a run that died), and the hint says so.
func (d *deployer) leftHalfway(ctx context.Context, m *migrate.Migration, id int64) {
	mr := d.resultOf(m)
	if mr == nil || mr.Status == StatusRestored {
		if mr != nil {
			mr.Completed = nil
		}
		return
	}
	mr.Status = StatusHalfApplied
	if d.run != nil {
		d.run.halfway = true
	}
	if err := d.hist.halfApplied(ctx, d.conn, id, m.ID()); err != nil {
		d.note("%s could not be recorded as half applied (%v): record it by hand: UPDATE %s SET status = %s WHERE id = %d",
			m.ID(), err, d.hist.table("schemagate_history"), quoteLit(StatusHalfApplied), id)
	}
	done := "no statement of it completed that is known"
	if len(mr.Completed) > 0 {
		done = "its statements " + strings.Join(mr.Completed, ", ") + " completed and stay in the database"
	}
	why := "the rollback did not undo it"
	if rb := d.res.Rollback; rb != nil && rb.Error != "" {
		why = rb.Error
	}
	snap := ""
	if si := d.res.Snapshot; si != nil {
		where := si.Location
		if where == "" {
			where = si.ID
		}
		snap = fmt.Sprintf(" (the snapshot %s holds the database as it was before this run)", where)
	}
	d.res.Hint = fmt.Sprintf("%s is half applied: %s; %s. The next deploy stops until a person deals with it%s: %s",
		m.ID(), done, why, snap, halfwayHint(m))
	d.note("%s is half applied: %s; the next deploy stops until it is finished or undone by hand (deploy --recover --keep-applied, or --recover --undone %s)",
		m.ID(), done, m.Key())
}

// halfwayBlocked is what a deploy without --recover says of run r, which ended leaving a migration half
// applied (runHalfway).
func (d *deployer) halfwayBlocked(ctx context.Context, r deadRun) *Blocked {
	b := &Blocked{Reason: fmt.Sprintf("run %s (%s, started %s) left a migration half applied outside a transaction",
		r.RunID, r.Holder, r.Since.UTC().Format("2006-01-02T15:04:05Z07:00")),
		Hint: "finish or undo it by hand, then run the deploy again with --recover --keep-applied (finished) or --recover --undone VERSION (undone)"}
	rows, err := d.hist.runMigrations(ctx, d.conn, r.RunID)
	if err != nil {
		return b
	}
	for _, row := range rows {
		if row.Status != StatusHalfApplied && !(row.Status == StatusRunning && row.NoTransaction) {
			continue
		}
		m := recordedMigration(d.o.Set, row.Version, row.Checksum)
		if m == nil {
			b.Reason = fmt.Sprintf("run %s (%s, started %s) left migration %s half applied outside a transaction",
				r.RunID, r.Holder, r.Since.UTC().Format("2006-01-02T15:04:05Z07:00"), row.Version)
			return b
		}
		b.Reason = fmt.Sprintf("run %s (%s, started %s) left %s half applied outside a transaction: %s; running it again would repeat what completed",
			r.RunID, r.Holder, r.Since.UTC().Format("2006-01-02T15:04:05Z07:00"), m.ID(), halfway(d.o, m, row.Statement, row.Status == StatusHalfApplied))
		b.Hint = halfwayHint(m)
		return b
	}
	return b
}

// halfwayHint is the way out of a recovery that cannot undo m, which its run left half applied.
func halfwayHint(m *migrate.Migration) string {
	return fmt.Sprintf("finish %s by hand (run the statements it did not complete), then run the deploy again with --recover --keep-applied, which records it as applied; "+
		"or undo what it completed by hand, then run it again with --recover --undone %s, which records it as undone and rolls back the rest of the run (with --keep-applied too: keeps the rest as applied); or restore a backup",
		m.ID(), m.Key())
}

// undoneMatches tells whether --undone's value names migration m: its key, version or id.
func undoneMatches(v string, m *migrate.Migration) bool {
	return v != "" && (v == m.Key() || v == m.Version || v == m.ID())
}

// checkUndone refuses, before --recover changes anything, an --undone that names no migration one of the
// dead runs left half applied: recording a migration as undone that was not half applied would make
// history lie.
func (d *deployer) checkUndone(ctx context.Context, dead []deadRun) error {
	v := d.o.Undone
	if v == "" {
		return nil
	}
	var halves []string
	for _, r := range dead {
		if r.Status == runUnrecorded {
			continue
		}
		rows, err := d.hist.runMigrations(ctx, d.conn, r.RunID)
		if err != nil {
			return fmt.Errorf("recover run %s: %w", r.RunID, err)
		}
		for _, row := range rows {
			if (row.Status != StatusRunning || !row.NoTransaction) && row.Status != StatusHalfApplied {
				continue
			}
			m := recordedMigration(d.o.Set, row.Version, row.Checksum)
			if m != nil && undoneMatches(v, m) {
				return nil
			}
			halves = append(halves, row.Version+" (run "+r.RunID+")")
		}
	}
	left := "no unfinished run left a migration half applied"
	if len(halves) > 0 {
		left = "the unfinished runs left half applied: " + strings.Join(halves, ", ")
	}
	return &Blocked{Reason: fmt.Sprintf("--undone %s: %s; nothing was changed", v, left),
		Hint: "--undone names the migration that a run which died left half applied, once a person has undone it by hand"}
}

// unrecordedBlocked is what a deploy without --recover says of run r, which restored its snapshot but
// could not record it (runUnrecorded): history still says applied for what the restore undid.
func (d *deployer) unrecordedBlocked(ctx context.Context, r deadRun) *Blocked {
	b := &Blocked{Reason: fmt.Sprintf("run %s (%s, started %s) restored its snapshot but could not record it: history still records what the restore undid as applied",
		r.RunID, r.Holder, r.Since.UTC().Format("2006-01-02T15:04:05Z07:00"))}
	var ids, vers []string
	if rows, err := d.hist.runMigrations(ctx, d.conn, r.RunID); err == nil {
		for _, row := range rows {
			if row.Status == StatusApplied || row.Status == StatusRunning && row.NoTransaction {
				ids, vers = append(ids, fmt.Sprint(row.ID)), append(vers, row.Version)
			}
		}
	}
	b.Hint = "run again with --recover, which records the restore in history and then deploys"
	if len(ids) > 0 {
		b.Reason = strings.Replace(b.Reason, "what the restore undid", strings.Join(vers, ", "), 1)
		b.Hint += fmt.Sprintf(" (by hand: UPDATE %s SET status = 'restored' WHERE id IN (%s); UPDATE %s SET status = 'recovered' WHERE run_id = %s)",
			d.hist.table("schemagate_history"), strings.Join(ids, ", "), d.hist.table("schemagate_runs"), quoteLit(r.RunID))
	}
	return b
}

// recoverUnrecorded is recoverRuns' error for a restore of run r that history could not record (stop,
// an *unrecordedError): run r is marked runUnrecorded so that the next --recover records the restore
// rather than trying to undo again what the restore undid.
func (d *deployer) recoverUnrecorded(ctx context.Context, r deadRun, stop error) {
	var ue *unrecordedError
	if !errors.As(stop, &ue) {
		return
	}
	if err := d.hist.markRun(ctx, d.conn, r.RunID, runUnrecorded, r.MaintenanceOn); err != nil {
		d.log.Warn("record run", "run", r.RunID, "err", err)
	}
}

// without returns list without the entries equal to k.
func without(list []string, k string) []string {
	out := list[:0]
	for _, v := range list {
		if v != k {
			out = append(out, v)
		}
	}
	return out
}
