package rehearse

// How a folder splits against its base: the history to replay, the new migrations to rehearse, and what
// the change did to migrations the base already had (edited, deleted, out of order).

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/report"
)

// Split is a folder split against its base ref.
type Split struct {
	// History is replayed once, in folder order; Fresh is rehearsed.
	History, Fresh []*migrate.Migration
	// Edited maps a migration whose version the base has with other text to the base's migration,
	// which the history replays in its place: that text is what databases ran.
	Edited map[*migrate.Migration]*migrate.Migration
	// DownEdited maps a migration whose up the base has with the same text, but whose down or verify
	// script changed, to the base's migration. The migration is history (databases ran that up), and
	// the change is part of the pull request: a fixed down is what a later rollback runs.
	DownEdited map[*migrate.Migration]*migrate.Migration
	// SameStatements maps a migration whose up the base has with other text but the same statements
	// (migrate.Migration.SameStatements: comments or blank space changed) to the base's migration, for a
	// folder whose tool records no checksum of what it applied (migrate.ChecksumFree). The history
	// replays the base's text, which runs the same statements: the tool runs the edit nowhere and
	// refuses it nowhere, and neither does schemagate deploy (its history records the statements'
	// checksum), so it is no failure.
	SameStatements map[*migrate.Migration]*migrate.Migration
	// OutOfOrder maps a new migration that sorts before the last history migration to that one. It is
	// failed and not rehearsed, as for an edited one: schemagate deploy refuses a folder with an
	// unapplied migration that sorts before an applied one (deploy's plan calls it drift), whatever the
	// folder's tool would do with it.
	OutOfOrder map[*migrate.Migration]*migrate.Migration
	// Deleted are the base's migrations the folder no longer has, in the base's order. The history
	// replays them where the base has them: databases ran them.
	Deleted []*migrate.Migration
	// Rerun maps a repeatable migration (Flyway R__) whose text changed to its base version: databases
	// ran the base's, which the history replays, and the tool runs the new one again, which is new.
	Rerun map[*migrate.Migration]*migrate.Migration
	// baseLast is the base's last migration (not repeatable), which a migration that takes a version the
	// base gives another one is to sort after.
	baseLast *migrate.Migration
	format   migrate.Format
	set      *migrate.Set // the folder: what its tool's settings make of the findings (Flyway's validation)
}

// SplitHistory sorts the folder into history (present at base with the same content) and new
// migrations, each in folder order. Repeatable migrations (Flyway R__) are matched by name, and one
// whose text changed is new (the tool runs it again) while its base version stays in the history
// (databases ran it). With no base, every migration is new.
func SplitHistory(cur, base *migrate.Set) Split {
	sp := Split{Edited: map[*migrate.Migration]*migrate.Migration{}, DownEdited: map[*migrate.Migration]*migrate.Migration{}, SameStatements: map[*migrate.Migration]*migrate.Migration{},
		OutOfOrder: map[*migrate.Migration]*migrate.Migration{}, Rerun: map[*migrate.Migration]*migrate.Migration{}, format: cur.Format, set: cur}
	if base == nil {
		sp.Fresh = cur.Migrations
		return sp
	}
	old := map[string]*migrate.Migration{}
	for _, m := range base.Migrations {
		old[m.Key()] = m
		if !m.Repeatable {
			sp.baseLast = m
		}
	}
	now := map[string]bool{}
	for _, m := range cur.Migrations {
		now[m.Key()] = true
	}
	// A deleted migration goes into the history before the first kept one that follows it at the base.
	deletedBefore := map[string][]*migrate.Migration{}
	var pending []*migrate.Migration
	for _, b := range base.Migrations {
		if !now[b.Key()] {
			sp.Deleted = append(sp.Deleted, b)
			pending = append(pending, b)
			continue
		}
		if len(pending) > 0 {
			deletedBefore[b.Key()], pending = pending, nil
		}
	}
	var lastHistory *migrate.Migration
	for _, m := range cur.Migrations {
		b, ok := old[m.Key()]
		if ok {
			sp.History = append(sp.History, deletedBefore[m.Key()]...)
		}
		switch {
		case ok && !m.Repeatable && migrate.SameScript(m.Up, b.Up) && !sameRecord(m, b, cur.Format):
			// The up is as applied, but what the tool recorded of it no longer matches (a sqitch change's
			// ID, a Flyway description): the tool refuses the folder, as for an edited migration.
			sp.History = append(sp.History, b)
			sp.Edited[m] = b
		case ok && m.SameText(b):
			sp.History = append(sp.History, m)
		case ok && !m.Repeatable && migrate.SameScript(m.Up, b.Up):
			sp.History = append(sp.History, m)
			sp.DownEdited[m] = b
		case ok && !m.Repeatable && migrate.ChecksumFree(cur.Format) && m.SameStatements(b):
			// Only comments or blank space changed in the up (and maybe its down): the base's text runs
			// the same statements, as databases ran them.
			sp.History = append(sp.History, b)
			sp.SameStatements[m] = b
		case ok && !m.Repeatable:
			sp.History = append(sp.History, b)
			sp.Edited[m] = b
		case ok:
			sp.History = append(sp.History, b)
			sp.Rerun[m] = b
			sp.Fresh = append(sp.Fresh, m)
			continue
		default:
			sp.Fresh = append(sp.Fresh, m)
			continue
		}
		if !m.Repeatable {
			lastHistory = m
		}
	}
	sp.History = append(sp.History, pending...)
	// A new migration before the last history one in folder order: databases at the base's last version
	// meet it after that one, if at all, and schemagate deploy refuses it (deploy's plan: "is not applied
	// but sorts before applied"), even where the tool would apply it (Flyway's outOfOrder, dbmate,
	// sql-migrate).
	seen := false
	for i := len(cur.Migrations) - 1; i >= 0; i-- {
		m := cur.Migrations[i]
		if m == lastHistory {
			seen = true
			continue
		}
		if seen && !m.Repeatable && slices.Contains(sp.Fresh, m) {
			sp.OutOfOrder[m] = lastHistory
		}
	}
	return sp
}

// sameRecord tells whether the tool that owns the format identifies m and b, one migration at two
// commits with the same up script, alike in the history it keeps in databases: sqitch records a change's
// ID, which its plan line and the change planned before it make (migrate.PlanEntry); Flyway records the
// description, which its validate compares.
func sameRecord(m, b *migrate.Migration, format migrate.Format) bool {
	if format == migrate.FormatFlyway && migrate.FlywayDescription(m.Name) != migrate.FlywayDescription(b.Name) {
		return false
	}
	return m.SamePlanEntry(b)
}

// Counts says, for a folder of total migrations, what the rehearsal replays as history and what it
// rehearses as new, the two adding up to what runs: "5 migrations: 3 history, 2 new". When the change
// edits or deletes what the base has, the history also counts the base's text of those, which it
// replays in their place, and says so, and the line ends with the change as the report counts it
// (its new migrations: added, edited, down or verify script changed, deleted):
//
//	2 migrations, and 1 deleted since the base: 3 history to replay (2 unchanged, 1 deleted, as the base has it), 0 new to rehearse; the change: 0 added, 0 edited, 1 deleted
func (sp Split) Counts(total int) string {
	edited, downEdited, deleted, rerun, same := len(sp.Edited), len(sp.DownEdited), len(sp.Deleted), len(sp.Rerun), len(sp.SameStatements)
	head := fmt.Sprintf("%d migration%s", total, report.Plural(total))
	if edited+downEdited+deleted+rerun+same == 0 {
		return fmt.Sprintf("%s: %d history, %d new", head, len(sp.History), len(sp.Fresh))
	}
	if deleted > 0 {
		head += fmt.Sprintf(", and %d deleted since the base", deleted)
	}
	// What the history replays, by what it is: the base's text stands in for an edited or deleted
	// migration, and for a changed repeatable one (which also runs again, as new).
	var kinds []string
	for _, k := range []struct {
		n    int
		what string
	}{
		{len(sp.History) - edited - downEdited - deleted - rerun - same, "unchanged"},
		{downEdited, "with only a changed down or verify script"},
		{same, "with an up changed outside its statements (comments, blank space), as the base has it"},
		{edited, "edited, as the base has it"},
		{deleted, "deleted, as the base has it"},
		{rerun, "changed repeatable, as the base has it"},
	} {
		if k.n > 0 || k.what == "unchanged" {
			kinds = append(kinds, fmt.Sprintf("%d %s", k.n, k.what))
		}
	}
	fresh := fmt.Sprintf("%d new to rehearse", len(sp.Fresh))
	if rerun > 0 {
		fresh += fmt.Sprintf(" (%d added, %d changed repeatable run again)", len(sp.Fresh)-rerun, rerun)
	}
	return fmt.Sprintf("%s: %d history to replay (%s), %s; the change: %d added, %d edited, %d deleted",
		head, len(sp.History), strings.Join(kinds, ", "), fresh, len(sp.Fresh)-rerun, edited+downEdited+rerun+same, deleted)
}

// Mark adds to m's report entry what comparing the folder with its base found: an edited migration is
// part of the change, failed (databases keep the base's text, deploys refuse the changed checksum), and
// a new one out of order gets a finding on what its tool does with it.
func (sp Split) Mark(m *migrate.Migration, rm *report.Migration) {
	if m.External == migrate.ExternalGo && rm.New {
		r, _ := lint.Lookup("go-migration")
		rm.Findings = append(rm.Findings, lint.Finding{Rule: r.ID, Risk: r.Risk, File: m.Up.File, Line: 1, Column: 1, Source: "history",
			Message:    fmt.Sprintf("%s is a goose Go migration: its code cannot run in the rehearsal, so what it does is not checked and later migrations run without it", m.ID()),
			Suggestion: r.Suggestion, URL: r.URL()})
	}
	if last, ok := sp.OutOfOrder[m]; ok {
		f := outOfOrderFinding(m, last, sp.set)
		if !sp.Refused(m) {
			// The folder's tool applies it (after the later ones): rehearsed as it would run, with the
			// finding that says where it runs and that schemagate deploy refuses it.
			rm.Findings = append(rm.Findings, f)
		} else {
			// As for an edited migration, its findings are the one that says why it fails: the folder's
			// tool never runs it there or refuses it, and so does schemagate deploy, so the rehearsal
			// does not run it (see rehearse).
			rm.New, rm.Findings = true, []lint.Finding{f}
			rm.Status = report.StatusFailed
			rm.Error = &report.SQLError{Message: "sorts before " + last.ID() + ", which the base applied: schemagate deploy refuses it, so it is not rehearsed (out-of-order-migration)",
				File: f.File, Line: f.Line, Column: 1, Phase: "order"}
			rm.Roundtrip = &report.Roundtrip{Status: report.RoundtripSkipped, Problems: []string{}}
		}
	}
	if b, ok := sp.DownEdited[m]; ok {
		f := editedFinding(m, b, sp.set)
		rm.New, rm.Findings = true, []lint.Finding{f}
		problem := "the down changed after the base applied the migration: the history replays it, so the new down is not rehearsed here; `schemagate check` without --base rehearses every migration's down"
		if m.Down.Empty() && !b.Down.Empty() {
			problem = "the down was deleted after the base applied the migration: a rollback of it has no down script to run now"
			if m.Down != nil {
				problem = "the down no longer has a statement since the base applied the migration: a rollback of it has nothing to run now"
			}
		} else if migrate.SameScript(m.Down, b.Down) {
			problem = "the verify script changed after the base applied the migration: the history replays it, so the new verify script is not run here; the next deploy's verify runs it"
		}
		rm.Roundtrip = &report.Roundtrip{Status: report.RoundtripSkipped, Problems: []string{problem}}
	}
	if b, ok := sp.SameStatements[m]; ok {
		rm.New, rm.Findings = true, []lint.Finding{sameStatementsFinding(m, b, sp.format)}
		problem := "the up changed after the base applied the migration, outside its statements only: the history replays the base's text, which runs the same statements, so the round trip is not rehearsed here; `schemagate check` without --base rehearses every migration's down"
		if !migrate.SameScript(m.Down, b.Down) || !migrate.SameScript(m.Verify, b.Verify) {
			// Its down changed too: the caution editedFinding gives a down-only edit, which a rollback runs.
			if f, ok := scriptFinding(lint.Finding{}, m, b); ok {
				rm.Findings = append(rm.Findings, f)
			}
		}
		rm.Roundtrip = &report.Roundtrip{Status: report.RoundtripSkipped, Problems: []string{problem}}
	}
	if _, ok := sp.Edited[m]; ok {
		f := editedFinding(m, sp.Edited[m], sp.set)
		if b := sp.Edited[m]; raced(m, b) {
			f = racedFinding(f, m, b, sp.baseLast)
		}
		rm.New, rm.Findings = true, []lint.Finding{f}
		rm.Status = report.StatusFailed
		rm.Error = &report.SQLError{Message: "edited after the base applied it: the history replays the base's text (edited-applied-migration)",
			File: f.File, Line: f.Line, Column: 1, Phase: "edit"}
		switch b := sp.Edited[m]; {
		case raced(m, b):
			rm.Error.Message = fmt.Sprintf("version %s is taken at the base by %s: the history replays that migration in its place (edited-applied-migration)", m.Version, path.Base(b.Up.File))
		case !migrate.SameScript(m.Up, b.Up):
		case !m.SamePlanEntry(b):
			rm.Error.Message = "its line or its place in the plan changed after the base deployed it, which moves sqitch's change IDs: the history replays it as the base has it (edited-applied-migration)"
		default:
			rm.Error.Message = "renamed after the base applied it: Flyway's validate refuses the new description; the history replays it as the base has it (edited-applied-migration)"
			if ok, why := sp.set.FlywayPasses(m.Repeatable, ""); ok {
				rm.Error.Message = "renamed after the base applied it: Flyway's migrate would go on (" + why + "), with the old description in its history; the history replays it as the base has it (edited-applied-migration)"
			}
		}
		rm.Roundtrip = &report.Roundtrip{Status: report.RoundtripSkipped, Problems: []string{}}
	}
}

// DeletedEntry is the report entry of a base migration the folder no longer has: failed, for what
// databases ran cannot be taken back by deleting the file.
func (sp Split) DeletedEntry(b *migrate.Migration) report.Migration {
	r, _ := lint.Lookup("deleted-applied-migration")
	f := lint.Finding{Rule: r.ID, Risk: r.Risk, File: b.Up.File, Line: 1, Column: 1, Source: "history",
		Message:    fmt.Sprintf("migration %s is at the base but was deleted: databases that applied it keep what it did and their history names it; the rehearsal replays it as they ran it", b.ID()) + flywayMissing(b, sp.set),
		Suggestion: r.Suggestion, URL: r.URL()}
	failure := "deleted after the base applied it: the history replays the base's text (deleted-applied-migration)"
	if sp.format == migrate.FormatSQLMigrate {
		f.Message, f.Suggestion, failure = sqlMigrateUnknown(f, b, sp.Fresh)
	}
	rm := report.Migration{Version: b.Version, Name: b.Name, File: b.Up.File, Checksum: b.Checksum, New: true,
		Status: report.StatusFailed, Statements: len(b.Up.Statements), Findings: []lint.Finding{f}, Risk: r.Risk,
		Error:     &report.SQLError{Message: failure, File: b.Up.File, Line: 1, Column: 1, Phase: "edit"},
		Roundtrip: &report.Roundtrip{Status: report.RoundtripSkipped, Problems: []string{}}}
	if b.Down != nil {
		rm.DownFile = b.Down.File
	}
	return rm
}

// editedFinding says that m's text differs from the base's, which databases already ran. When only its
// down or verify script did, the finding is a caution at that script: databases keep what the same up
// did, and schemagate deploy takes the new down for a rollback. When the scripts are the same but what
// the tool records of the migration is not (see sameRecord), the finding says what its tool then does.
func editedFinding(m, base *migrate.Migration, set *migrate.Set) lint.Finding {
	r, _ := lint.Lookup("edited-applied-migration")
	format := set.Format
	refuses := "schemagate deploy refuses the changed checksum"
	if format == migrate.FormatFlyway {
		refuses = "schemagate deploy (like Flyway's validate) refuses the changed checksum"
		if ok, why := set.FlywayPasses(m.Repeatable, ""); ok {
			refuses = "schemagate deploy refuses the changed checksum, though Flyway's migrate would not stop on it (" + why + "): it would go on without ever running the new text"
		}
		if base != nil && m.Up != nil && base.Up != nil && migrate.FlywayChecksum(m.Up.SQL) == migrate.FlywayChecksum(base.Up.SQL) {
			// Lines split or joined: Flyway's checksum (the lines' bytes without their breaks) is the
			// applied one, so its validate takes the script, but a new database runs other statements.
			refuses = "schemagate deploy refuses it, though Flyway's validate takes it (its checksum, of the lines without their breaks, is the applied one): a new database would run the new text"
		}
	}
	f := lint.Finding{Rule: r.ID, Risk: r.Risk, File: m.Up.File, Line: 1, Column: 1, Source: "history",
		Message:    fmt.Sprintf("migration %s is at the base with other text: databases that applied it keep the old one, the tool never runs the edit, and %s", m.ID(), refuses),
		Suggestion: r.Suggestion, URL: r.URL()}
	if base != nil && migrate.SameScript(m.Up, base.Up) && !sameRecord(m, base, format) {
		return recordFinding(f, m, base, set)
	}
	if base != nil && !migrate.SameScript(m.Up, base.Up) {
		f.Line = firstChange(m.Up, base.Up)
	}
	// Name the script that changed: when only the down (or verify) script did, the up databases ran is
	// the same, and the finding points at the file the change is in.
	if base != nil && migrate.SameScript(m.Up, base.Up) {
		if d, ok := scriptFinding(f, m, base); ok {
			return d
		}
	}
	return f
}

// scriptFinding is f made the caution on m's down or verify script, the first of them that differs
// from base's (ok false when neither does): databases that applied the up are unaffected, and a
// rollback or the next deploy's verification runs the new script.
func scriptFinding(f lint.Finding, m, base *migrate.Migration) (lint.Finding, bool) {
	r, _ := lint.Lookup("edited-applied-migration")
	f.Rule, f.URL, f.Source, f.Line, f.Column = r.ID, r.URL(), "history", 1, 1
	for _, p := range []struct {
		what     string
		now, was *migrate.Script
	}{{"down", m.Down, base.Down}, {"verify", m.Verify, base.Verify}} {
		if migrate.SameScript(p.now, p.was) {
			continue
		}
		f.File = m.Up.File
		if p.now != nil {
			f.File = p.now.File
		}
		f.Risk = lint.Caution
		runs, tried := "a rollback runs the new down script", "check without --base rehearses every down"
		if p.what == "verify" {
			runs, tried = "the next deploy's verification runs the new verify script", "check without --base runs every verify script"
		}
		differs := "differs from the base's"
		if p.now.Empty() && !p.was.Empty() {
			// Deleted: nothing new to review, but what a rollback or a deploy runs is gone.
			differs = "was deleted after the base applied the migration"
			if p.now != nil {
				differs = "no longer has a statement since the base applied the migration"
			}
			runs = "a rollback of it has no down script to run now"
			if p.what == "verify" {
				runs = "the next deploy runs no verification for it"
			}
		}
		f.Message = fmt.Sprintf("the %s script of migration %s %s; the up is the same, so databases that applied it are unaffected and %s (schemagate deploy accepts the change, as golang-migrate, goose, Flyway and sqitch do)", p.what, m.ID(), differs, runs)
		if !migrate.SameScript(m.Up, base.Up) {
			f.Message = fmt.Sprintf("the %s script of migration %s %s; its up runs the same statements, so databases that applied it are unaffected and %s (schemagate deploy accepts the change)", p.what, m.ID(), differs, runs)
		}
		f.Suggestion = "review the new " + p.what + " script: against --base the rehearsal replays this migration as history and does not run it; " + tried
		if p.now.Empty() && !p.was.Empty() {
			f.Suggestion = "restore the " + p.what + " script if the deletion was not meant: the base's is " + p.was.File
		}
		return f, true
	}
	return f, false
}

// sameStatementsFinding says that m's up differs from the base's only outside its statements (see
// Split.SameStatements), at the first line that changed. It is safe: no database runs anything else
// for it, the folder's tool records no checksum that would refuse it, and schemagate deploy takes it
// (its history records the statements' checksum); a caution would ask for an approval (the default
// policy asks one for caution) of an edit that changes nothing a database runs.
func sameStatementsFinding(m, base *migrate.Migration, format migrate.Format) lint.Finding {
	r, _ := lint.Lookup("edited-applied-migration")
	return lint.Finding{Rule: r.ID, Risk: lint.Safe, File: m.Up.File, Line: migrate.FirstChangedLine(m.Up, base.Up), Column: 1, Source: "history",
		Message: fmt.Sprintf("migration %s is at the base with other text, but the edit changes no statement (only comments or blank space outside string literals and function bodies): databases that applied it are unaffected and every new database runs the same statements; %s records no checksum of applied migrations, and schemagate deploy takes it for the applied one (where its history recorded the statements' checksum: rows an earlier release wrote lack it)",
			m.ID(), format),
		Suggestion: "nothing to do for databases: the rehearsal replays the base's text, which runs the same statements; an edit of a statement would fail as edited-applied-migration",
		URL:        r.URL()}
}

// Refused tells whether m is a new migration that sorts before the base's last one (OutOfOrder) and
// that the folder's tool never runs there or refuses to run: golang-migrate only moves forward; goose
// (without --allow-missing), Atlas (without --exec-order non-linear), sqitch and Flyway without outOfOrder
// refuse it or skip it. Such a migration fails and is not rehearsed. dbmate, sql-migrate and Flyway with
// outOfOrder apply it after the later ones: it is rehearsed, and its finding says that schemagate deploy
// refuses it (a folder deployed by the tool itself runs it).
func (sp Split) Refused(m *migrate.Migration) bool {
	if _, ok := sp.OutOfOrder[m]; !ok {
		return false
	}
	switch sp.format {
	case migrate.FormatDbmate, migrate.FormatSQLMigrate:
		return false
	case migrate.FormatFlyway:
		return sp.set == nil || !sp.set.OutOfOrder
	}
	return true
}

// raced tells whether m, a migration the base has at its version (or key) with another up, is another
// migration than the base's: its up file has another name, as when two pull requests took the same next
// version, and the one merged first is at the base. It is then no edit to revert.
func raced(m, base *migrate.Migration) bool {
	return m.Up != nil && base != nil && base.Up != nil && !migrate.SameScript(m.Up, base.Up) &&
		path.Base(m.Up.File) != path.Base(base.Up.File)
}

// racedFinding is f, the edited-applied-migration finding on m, for a migration that raced another to
// its version (see raced): base, at the base, took it first; last is the base's last migration.
func racedFinding(f lint.Finding, m, base, last *migrate.Migration) lint.Finding {
	after := ""
	if last != nil {
		after = fmt.Sprintf(" (the base's last is %s)", path.Base(last.Up.File))
	}
	f.Message = fmt.Sprintf("version %s is taken at the base by %s: migration %s is another migration with the same version (two changes took it), so databases that applied %s never run %s, and schemagate deploy refuses the changed checksum of version %s",
		m.Version, path.Base(base.Up.File), m.ID(), base.ID(), m.ID(), m.Version)
	f.Suggestion = "give this migration a version after the last one" + after + ", and keep " + path.Base(base.Up.File) + " as the base has it"
	f.Line = 1
	return f
}

// firstChange is the file line of the first statement of now that differs from was's statement at its
// place (or that was lacks), for the finding to point at the edit; the last statement's line when
// only was has more; 1 when now has none, or when only text between statements changed (comments).
func firstChange(now, was *migrate.Script) int {
	if now == nil || len(now.Statements) == 0 {
		return 1
	}
	for i := range now.Statements {
		if was == nil || i >= len(was.Statements) || now.Statements[i].SQL != was.Statements[i].SQL {
			return now.Statements[i].Pos.Line
		}
	}
	if len(was.Statements) > len(now.Statements) {
		return now.Statements[len(now.Statements)-1].Pos.Line
	}
	return 1
}

// recordFinding is f, an edited-applied-migration finding on m, for a migration whose up is the base's
// but which its tool no longer recognises as the one databases applied (see sameRecord).
func recordFinding(f lint.Finding, m, base *migrate.Migration, set *migrate.Set) lint.Finding {
	if p, was := m.Plan, base.Plan; p != nil && was != nil {
		f.File, f.Line = p.File, p.Line
		what := "its line in the plan differs from the base's (planner, date, dependencies or note)"
		if p.Info == was.Info {
			what = fmt.Sprintf("the change planned right before it is now %s, and was %s at the base", orNone(p.Parent), orNone(was.Parent))
		}
		f.Message = fmt.Sprintf("change %s is deployed at the base, but %s: sqitch's change ID covers that line and the ID of the change planned before it, so the IDs of %s and of every later change move, and sqitch deploy on a database that has it fails (\"Cannot find change <id> in %s\")",
			m.ID(), what, m.ID(), path.Base(p.File))
		f.Suggestion = "restore the plan's lines as the base has them up to the last deployed change; plan new changes after it, and rework a deployed change (sqitch rework) instead of editing its line"
		return f
	}
	f.Message = fmt.Sprintf("migration %s is at the base with the description %q, now %q: Flyway's validate, which migrate runs first, fails (\"Migration description mismatch for migration version %s\")",
		m.ID(), migrate.FlywayDescription(base.Name), migrate.FlywayDescription(m.Name), m.Version)
	f.Suggestion = "keep the file name the base has (the description is part of what Flyway recorded); flyway repair records the new one in databases that applied it"
	if ok, why := set.FlywayPasses(m.Repeatable, ""); ok {
		f.Message = fmt.Sprintf("migration %s is at the base with the description %q, now %q: Flyway's migrate would not stop on it (%s), and its history keeps the old description, which a later validate (flyway validate, or migrate with validation on) refuses (\"Migration description mismatch for migration version %s\")",
			m.ID(), migrate.FlywayDescription(base.Name), migrate.FlywayDescription(m.Name), why, m.Version)
	}
	return f
}

// flywayMissing says, for b, a Flyway migration that databases applied and the folder no longer has,
// whether Flyway's migrate stops on it: its validation fails on a missing migration unless
// ignoreMigrationPatterns lets it pass or validateOnMigrate is off. An applied version above every
// version the folder still has is "future" to Flyway instead (it cannot tell it from one a newer
// release applied), which the default pattern *:future lets pass. "" for the other formats.
func flywayMissing(b *migrate.Migration, set *migrate.Set) string {
	if set == nil || set.Format != migrate.FormatFlyway {
		return ""
	}
	state := "missing"
	if !b.Repeatable {
		state = "future"
		for _, m := range set.Migrations {
			if !m.Repeatable && migrate.CompareFlywayVersions(m.Version, b.Version) > 0 {
				state = "missing"
				break
			}
		}
	}
	if ok, why := set.FlywayPasses(b.Repeatable, state); ok {
		if state == "future" {
			return fmt.Sprintf("; Flyway's migrate would not stop on it: above every version the folder has, it is a future migration to Flyway, which its validation lets pass (%s), but schemagate deploy stops at it", why)
		}
		return fmt.Sprintf("; Flyway's migrate would not stop on it (%s), but schemagate deploy does", why)
	}
	name := b.Version
	if b.Repeatable {
		name = migrate.FlywayDescription(b.Name)
	}
	return fmt.Sprintf("; Flyway's validate, which migrate runs first, fails on it too (\"Detected applied migration not resolved locally: %s\")", name)
}

// sqlMigrateUnknown is the message, suggestion and error of f, the deleted-applied-migration finding on
// b, a sql-migrate migration the base has and the folder no longer does. sql-migrate knows an applied
// migration by its file name (gorp_migrations.id), and its plan (planMigrationCommon) stops before it
// applies anything when the table names a file the folder lacks, unless the environment sets
// ignoreunknown (MigrationSet.IgnoreUnknown). A file renamed with the same up (a new migration of the
// folder, in fresh) is such a deletion: the new name is a migration sql-migrate has never applied.
func sqlMigrateUnknown(f lint.Finding, b *migrate.Migration, fresh []*migrate.Migration) (msg, suggestion, failure string) {
	name := path.Base(b.Up.File)
	stops := fmt.Sprintf("sql-migrate's up stops before it applies anything (\"Unable to create migration plan because of %s: unknown migration in database\") unless its environment sets ignoreunknown", name)
	for _, m := range fresh {
		if !migrate.SameScript(m.Up, b.Up) {
			continue
		}
		now := path.Base(m.Up.File)
		msg = fmt.Sprintf("migration %s is at the base and was renamed to %s: sql-migrate records an applied migration by its file name, so databases that applied it name %s in gorp_migrations, which the folder no longer has, and %s, "+
			"with which it would take %s for a new migration and run it again; the rehearsal replays %s as they ran it", b.ID(), now, name, stops, now, name)
		return msg, "keep the file name the base has: sql-migrate knows a migration by it",
			"renamed to " + now + " after the base applied it: sql-migrate knows migrations by file name; the history replays the base's text (deleted-applied-migration)"
	}
	msg = fmt.Sprintf("migration %s is at the base but was deleted: databases that applied it keep what it did and name %s in gorp_migrations, and %s; the rehearsal replays it as they ran it", b.ID(), name, stops)
	return msg, f.Suggestion, "deleted after the base applied it: the history replays the base's text (deleted-applied-migration)"
}

// orNone names a change for recordFinding: "none" for no change (the plan's first).
func orNone(key string) string {
	if key == "" {
		return "none (the plan's first change)"
	}
	return key
}

// outOfOrderFinding says that new migration m sorts before last, the base's last migration, and what
// the owning tool does with it on a database already at last. It is dangerous in every format, as the
// catalog has it: schemagate deploy refuses it whatever the tool does, a certain failure once merged.
func outOfOrderFinding(m, last *migrate.Migration, set *migrate.Set) lint.Finding {
	r, _ := lint.Lookup("out-of-order-migration")
	format := set.Format
	what := "it runs after " + last.ID() + " there, not in folder order"
	switch {
	case format == migrate.FormatGolangMigrate:
		what = "golang-migrate only moves forward, so it never applies it there"
	case format == migrate.FormatGoose:
		what = "goose refuses it as a missing migration unless run with --allow-missing"
	case format == migrate.FormatFlyway && set.OutOfOrder:
		// With outOfOrder=true Flyway's migrate applies it after the later ones; schemagate deploy still
		// refuses it (below).
		what = "outOfOrder is on, so Flyway's migrate applies it there, after " + last.ID() + ", not in folder order"
	case format == migrate.FormatFlyway:
		// Without outOfOrder Flyway's migrate fails loudly before it changes anything.
		what = "outOfOrder is off, so Flyway's migrate fails its validation (\"Detected resolved migration not applied to database: " + m.Version + "\") and applies nothing"
		if ok, why := set.FlywayPasses(false, "ignored"); ok {
			// Its validation lets the ignored migration pass: migrate skips it without a word, and never
			// applies it there, as golang-migrate does.
			what = "outOfOrder is off and Flyway's validation lets it pass (" + why + "), so Flyway's migrate skips it there without a word and never applies it"
		}
	case format == migrate.FormatAtlas:
		what = "atlas migrate apply refuses to run it unless --exec-order non-linear is given"
	case format == migrate.FormatSqitch:
		// A change planned before a deployed one changes the IDs of the changes after it (each ID
		// covers the one planned before it): the edited-applied-migration finding says what sqitch does.
		what = "sqitch's deploy refuses it, as the plan's changes after it are other changes to sqitch now; plan it after the base's last change"
	case format == migrate.FormatSQLMigrate:
		// planMigrationCommon plans first, before the migrations after the last one applied, every
		// migration that gorp_migrations lacks and that sorts before that one (ToCatchup).
		what = "sql-migrate's up applies it all the same, before the migrations that sort after " + path.Base(last.Up.File) +
			" (its plan first catches up on every migration missing from gorp_migrations that sorts before the last one applied), so it runs after " +
			last.ID() + " there, not in folder order"
	}
	what += "; schemagate deploy refuses it, as it does any unapplied migration that sorts before an applied one"
	f := lint.Finding{Rule: r.ID, Risk: r.Risk, File: m.Up.File, Line: 1, Column: 1, Source: "history",
		Message:    fmt.Sprintf("new migration %s sorts before %s, which the base already has: on a database at %s, %s", m.ID(), last.ID(), last.Version, what),
		Suggestion: "rename it to sort after " + path.Base(last.Up.File) + ", the last migration the base applied", URL: r.URL()}
	if m.Plan != nil {
		f.File, f.Line = m.Plan.File, m.Plan.Line // a sqitch change's place is its line in the plan
		f.Message = fmt.Sprintf("new change %s is planned before %s, which the base already deployed: %s", m.ID(), last.ID(), what)
		f.Suggestion = "plan new changes after the last deployed one (sqitch add appends to the plan)"
	}
	return f
}
