package rehearse

import (
	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/report"
)

// judgeNotRun judges again the new migrations the rehearsal left not run (after a failed migration, a
// history that does not apply, a server that stopped), on the static model of the folder that lint --dir
// builds: the history as the rehearsal replays it, then the new migrations in order, each seeing what
// the earlier ones create, the failed one included. Judged alone, as their findings start, they know
// nothing of the tables they change, and an ALTER COLUMN ... TYPE of a timestamptz, varchar(50) or
// numeric(12,2) column the history made reads as a type change of unknown cost (caution) where lint
// --dir finds a rewrite (dangerous): the report, the comment and the gate's approval would understate
// the change. With a base, the new migrations are one change, as the rehearsal takes them
// (lint.Sequence.StartChange). The folder is judged only when a migration needs it: a run without a
// failure pays nothing for it.
func (r *run) judgeNotRun() {
	var todo []*migrate.Migration
	for _, m := range r.sp.Fresh {
		i, ok := r.index[m]
		// A goose Go migration has no SQL to judge: it stays as it is.
		if _, static := r.nStatic[m]; ok && static && m.External == "" && r.rep.Migrations[i].Status == report.StatusNotRun {
			todo = append(todo, m)
		}
	}
	if len(todo) == 0 {
		return
	}
	seq := lint.NewSequence(r.opts.Lint)
	for _, m := range r.sp.History {
		seq.Analyze(m, r.opts.Set.Format)
	}
	if r.opts.Base != nil {
		seq.StartChange()
	}
	for _, m := range r.sp.Fresh {
		if len(todo) == 0 {
			break
		}
		if r.sp.Refused(m) {
			continue // the rehearsal runs the later migrations without it, as the tool would
		}
		found := seq.Analyze(m, r.opts.Set.Format)
		if m != todo[0] {
			continue
		}
		todo = todo[1:]
		// The first nStatic findings are lint.Analyze's (as the rehearsal's own judging takes them);
		// the tool's findings and Split.Mark's follow and stay.
		rm := &r.rep.Migrations[r.index[m]]
		if n := r.nStatic[m]; n <= len(rm.Findings) {
			rm.Findings = append(found, rm.Findings[n:]...)
		}
		delete(r.nStatic, m) // judged: a second finish (a stop found as the run ends) leaves it so
	}
}
