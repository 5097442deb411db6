package rehearse

// What a change did to the base's migration files when the folder at the base does not read as
// migrations (a duplicate version that two merges left, a down without its up): there is no history to
// replay, but an edited or deleted migration the base has must not pass for a new one.

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/report"
)

// UnreadBase compares the folder with its base file by file, for a base whose folder does not read: the
// rehearsal then has no history and rehearses every migration as new, and UnreadBase marks in its report
// what the change did to the files the base's reader took as (or refused as) a migration's script.
//
//   - A base file that a migration of the folder still holds at the same path, with other text (line
//     endings and a byte order mark aside), is an edit of an applied migration: in its up file (for
//     formats with one file per migration, the file) the migration fails edited-applied-migration, as
//     against a readable base; in its down or verify file only, it is a caution at that file.
//   - A base file no migration holds any more is a deleted applied migration (deleted-applied-migration,
//     failed), one report entry per base migration; a down or verify file gone while its up stays is a
//     caution on that migration.
//   - A base migration whose files are all gone but whose text is now in a new migration's files (its up
//     among them) was renamed: the tool sees a new migration, which the rehearsal runs as new, and a
//     caution on it says that databases that applied it under its old name run it again. Fixing a broken
//     base by renumbering a duplicate version is such a rename.
//   - sqitch: the base's sqitch.plan is compared too, as far as its lines read (migrate.Set.Plan). sqitch
//     knows a deployed change by an ID that covers its line and the ID of the change planned before it,
//     so a change of the base whose line now reads otherwise (dependencies, note, date, planner), before
//     which another change is now planned, or which was renamed fails edited-applied-migration at its
//     line in the plan, as against a readable base: sqitch deploy fails on a database that has it.
type UnreadBase struct {
	format  migrate.Format
	set     *migrate.Set // the folder as it is
	edits   map[*migrate.Migration][]fileChange
	moved   map[*migrate.Migration][][2]string // base file, its file now
	deleted [][]string                         // the files of each deleted base migration
	partial map[string]*migrate.Migration      // a base file's migration, where the base's reader read one
	// planned are the sqitch changes whose line or place in the plan differs from the base's.
	planned map[*migrate.Migration]planChange
	// removed gives, for a deleted base sqitch change's deploy script, its line in the base's plan.
	removed map[string]migrate.PlanEntry
}

// planChange is what differs in a sqitch change's plan entry from the base's line of it (was).
type planChange struct {
	was, now *migrate.PlannedChange
	renamed  bool // was is another change's line, the change's scripts now this one's
}

// fileChange is a base file of a migration that the change edited or deleted; up tells whether it is
// the migration's up file.
type fileChange struct {
	file     string
	up, gone bool
}

// CompareUnreadBase compares set, the folder as it is (its files in now), with the folder at the base
// (base), which does not read: partial and readErr are what migrate.Read returned for it. A base file
// counts when the base's reader read it as a migration's script, or named it (a .sql file) in readErr.
func CompareUnreadBase(set *migrate.Set, now, base fs.FS, partial *migrate.Set, readErr error) (*UnreadBase, error) {
	u := &UnreadBase{format: set.Format, set: set, edits: map[*migrate.Migration][]fileChange{},
		moved: map[*migrate.Migration][][2]string{}, partial: map[string]*migrate.Migration{},
		planned: map[*migrate.Migration]planChange{}, removed: map[string]migrate.PlanEntry{}}
	files := map[string]bool{}
	if partial != nil {
		for _, b := range partial.Migrations {
			for _, f := range b.Files() {
				files[f] = true
				u.partial[f] = b
			}
		}
	}
	for _, e := range joined(readErr) {
		var me *migrate.Error
		if errors.As(e, &me) && strings.HasSuffix(strings.ToLower(me.File), ".sql") {
			files[path.Clean(me.File)] = true
		}
	}
	// Every path the base has, migration file or not: a file is new only where the base had none.
	atBase := map[string]bool{}
	if err := fs.WalkDir(base, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			atBase[p] = true
		}
		return err
	}); err != nil {
		return nil, fmt.Errorf("list the base's migration folder: %w", err)
	}
	holder := map[string]*migrate.Migration{} // a file now, by path, and the migration that holds it
	text := map[string]string{}
	byKey := map[string]*migrate.Migration{}
	for _, m := range set.Migrations {
		for _, f := range m.Files() {
			data, err := fs.ReadFile(now, f)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", f, err)
			}
			holder[f], text[f] = m, textForm(data)
		}
		if m.Up != nil {
			byKey[groupKey(m.Up.File)] = m
		}
	}
	gone := map[string][]string{} // by groupKey
	for _, f := range slices.Sorted(maps.Keys(files)) {
		data, err := fs.ReadFile(base, f)
		if err != nil {
			continue // named by an error, but not there (a link out of the repository)
		}
		was := textForm(data)
		if m, ok := holder[f]; ok {
			if text[f] != was {
				u.edits[m] = append(u.edits[m], fileChange{file: f, up: upFile(set.Format, m, f)})
			}
			continue
		}
		gone[groupKey(f)] = append(gone[groupKey(f)], f)
	}
	fresh := map[string][]string{}
	for _, p := range slices.Sorted(maps.Keys(text)) {
		if !atBase[p] {
			fresh[text[p]] = append(fresh[text[p]], p)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(gone)) {
		files := gone[key]
		if m, ok := byKey[key]; ok {
			// Its up is still there: a down or verify script was deleted. Or its up file was deleted
			// and its down kept, which golang-migrate reads as a version whose up runs nothing: an edit
			// of the up.
			noUp := m.Up != nil && !upFile(set.Format, m, m.Up.File)
			for _, f := range files {
				u.edits[m] = append(u.edits[m], fileChange{file: f, gone: true, up: noUp && strings.Contains(path.Base(f), ".up.")})
			}
			continue
		}
		if m, pairs := renamed(files, base, holder, fresh, atBase); m != nil {
			u.moved[m] = append(u.moved[m], pairs...)
			continue
		}
		u.deleted = append(u.deleted, files)
	}
	if set.Format == migrate.FormatSqitch && partial != nil {
		u.comparePlan(set, partial)
	}
	return u, nil
}

// comparePlan compares the sqitch changes of set with the base's plan lines that read (partial.Plan):
// a change whose line differs from the base's, or before which another change is now planned, changes
// its sqitch ID; so does one renamed (its scripts moved to a change of another name). A change the plan
// no longer has, its scripts deleted, is already a deleted base migration: its line is noted for its
// entry. A line of the base whose change has no deploy script there could not be deployed from the
// base, and a line that does not read at the base is not known: neither counts.
func (u *UnreadBase) comparePlan(set, partial *migrate.Set) {
	now := map[string]*migrate.Migration{}
	for _, m := range set.Migrations {
		now[m.Key()] = m
	}
	lines := map[string]*migrate.PlannedChange{}
	for _, p := range set.Plan {
		lines[p.Key()] = p
	}
	for _, p := range partial.Plan {
		b := partial.Find(p.Key())
		if b == nil || b.Up == nil {
			continue
		}
		if m := now[p.Key()]; m != nil {
			if m.Plan != nil && lines[p.Key()] != nil &&
				(m.Plan.Info != p.Entry.Info || (!p.ParentUnread && m.Plan.Parent != p.Entry.Parent)) {
				u.planned[m] = planChange{was: p, now: lines[p.Key()]}
			}
			continue
		}
		for m, pairs := range u.moved {
			for _, pr := range pairs {
				if pr[0] == b.Up.File && m.Plan != nil && lines[m.Key()] != nil {
					u.planned[m] = planChange{was: p, now: lines[m.Key()], renamed: true}
				}
			}
		}
		for _, files := range u.deleted {
			if slices.Contains(files, b.Up.File) {
				u.removed[b.Up.File] = p.Entry
			}
		}
	}
}

// renamed tells whether the base files (one base migration's, all gone) are now, each with its text,
// files of one migration that is new (none of its files is at the base), its up among them. fresh lists
// by text the files now that the base does not have, in path order.
func renamed(files []string, base fs.FS, holder map[string]*migrate.Migration, fresh map[string][]string, atBase map[string]bool) (*migrate.Migration, [][2]string) {
	var to *migrate.Migration
	var pairs [][2]string
	used := map[string]bool{}
	for _, f := range files {
		data, err := fs.ReadFile(base, f)
		if err != nil {
			return nil, nil
		}
		found := ""
		for _, p := range fresh[textForm(data)] {
			if !used[p] && (to == nil || holder[p] == to) {
				found = p
				break
			}
		}
		if found == "" {
			return nil, nil
		}
		to, used[found] = holder[found], true
		pairs = append(pairs, [2]string{f, found})
	}
	if to == nil || to.Up == nil || !used[to.Up.File] {
		return nil, nil
	}
	for _, f := range to.Files() {
		if atBase[f] {
			return nil, nil
		}
	}
	return to, pairs
}

// Mark adds to m's report entry (rehearsed, or analysed, as new) what the change did to its files at the
// base: an edited up fails it, as against a readable base; an edited or deleted down or verify script
// and a rename are cautions. A sqitch change whose plan entry differs from the base's line of it (a
// rename included) fails at its line in the plan.
func (u *UnreadBase) Mark(m *migrate.Migration, rm *report.Migration) {
	if u == nil {
		return
	}
	r, _ := lint.Lookup("edited-applied-migration")
	unread := "; the folder at the base does not read, so the rehearsal ran every migration as new, this one as the change has it"
	if pc, ok := u.planned[m]; ok {
		f := planFinding(m, pc)
		rm.Findings = append(rm.Findings, f)
		if rm.Status != report.StatusFailed {
			rm.Status = report.StatusFailed
			rm.Error = &report.SQLError{Message: "its line, its name or its place in the plan changed since the base, which moves sqitch's change IDs (edited-applied-migration)",
				File: f.File, Line: f.Line, Column: 1, Phase: "edit"}
		}
	}
	for _, c := range u.edits[m] {
		if !c.up {
			continue
		}
		f := editedFinding(m, nil, u.set)
		f.File = c.file
		f.Message += unread
		rm.Findings = append(rm.Findings, f)
		if rm.Status != report.StatusFailed {
			rm.Status = report.StatusFailed
			rm.Error = &report.SQLError{Message: "edited after the base applied it: databases that applied it never run the new text (edited-applied-migration)",
				File: c.file, Line: 1, Column: 1, Phase: "edit"}
		}
		return
	}
	for _, c := range u.edits[m] {
		what := "differs from the base's"
		if c.gone {
			what = "was deleted"
		}
		rm.Findings = append(rm.Findings, lint.Finding{Rule: r.ID, Risk: lint.Caution, File: c.file, Line: 1, Column: 1, Source: "history",
			Message: fmt.Sprintf("%s, a script of migration %s that the base has, %s; its up file is not edited, so databases that applied it are unaffected, and a rollback runs what the folder has now (the folder at the base does not read, so this is compared file by file)",
				path.Base(c.file), m.ID(), what),
			Suggestion: "review the change to the " + path.Base(c.file) + " script", URL: r.URL()})
	}
	if pairs := u.moved[m]; len(pairs) > 0 && !u.planned[m].renamed {
		rm.Findings = append(rm.Findings, lint.Finding{Rule: r.ID, Risk: lint.Caution, File: m.Up.File, Line: 1, Column: 1, Source: "history",
			Message: fmt.Sprintf("migration %s is the base's %s renamed, with the same text: its tool sees a new migration and runs it, also on databases that applied it under its old name; the folder at the base does not read, so which of its migrations databases applied is not known here",
				m.ID(), baseLabel(pairs[0][0])),
			Suggestion: "make sure no database applied it under its old name (or record it there under the new one) before deploying", URL: r.URL()})
	}
}

// Deleted lists the report entries of the base migrations the folder no longer has: failed, as against a
// readable base, but with nothing replaying them (there is no history).
func (u *UnreadBase) Deleted() []report.Migration {
	if u == nil {
		return nil
	}
	r, _ := lint.Lookup("deleted-applied-migration")
	var out []report.Migration
	for _, files := range u.deleted {
		rm := report.Migration{Name: baseLabel(files[0]), File: files[0], New: true, Status: report.StatusFailed, Risk: r.Risk,
			Roundtrip: &report.Roundtrip{Status: report.RoundtripSkipped, Problems: []string{}}}
		var base *migrate.Migration
		for _, f := range files {
			if b := u.partial[f]; b != nil {
				base = b
				rm.Version, rm.Name, rm.Checksum, rm.Statements, rm.File = b.Version, b.Name, b.Checksum, len(b.Up.Statements), b.Up.File
				if b.Down != nil {
					rm.DownFile = b.Down.File
				}
				break
			}
		}
		// The up file names the entry when it is among them (golang-migrate's N_x.up.sql, sqitch's deploy/).
		for _, f := range files {
			if k := path.Base(f); rm.Version == "" && (strings.Contains(k, ".up.") || strings.HasPrefix(f, "deploy/")) {
				rm.File = f
			}
		}
		label := rm.Name
		if rm.Version != "" {
			label = (&migrate.Migration{Version: rm.Version, Name: rm.Name}).ID()
		}
		msg := fmt.Sprintf("migration %s is at the base but was deleted: databases that applied it keep what it did and their history names it; the folder at the base does not read, so nothing replays it here", label)
		if base != nil {
			msg += flywayMissing(base, u.set)
		}
		if e, ok := u.removed[rm.File]; ok {
			msg += fmt.Sprintf("; its line in the base's plan (%s:%d) is gone too, and sqitch deploy fails on a database that has it (\"Cannot find change\")", e.File, e.Line)
		}
		rm.Findings = []lint.Finding{{Rule: r.ID, Risk: r.Risk, File: rm.File, Line: 1, Column: 1, Source: "history",
			Message:    msg,
			Suggestion: "restore the file and undo what it did in a new migration; to give a duplicate version of the base a version of its own, rename its files without changing their text", URL: r.URL()}}
		rm.Error = &report.SQLError{Message: "deleted after the base applied it (deleted-applied-migration)", File: rm.File, Line: 1, Column: 1, Phase: "edit"}
		out = append(out, rm)
	}
	return out
}

// MarkReport marks rep, the report of a rehearsal of set with every migration new (Options.Base nil),
// as Mark and Deleted do, and computes its verdict again.
func (u *UnreadBase) MarkReport(rep *report.Report, set *migrate.Set) {
	if u == nil {
		return
	}
	for i, m := range set.Migrations {
		if i < len(rep.Migrations) && m.Up != nil && rep.Migrations[i].File == m.Up.File {
			u.Mark(m, &rep.Migrations[i])
		}
	}
	rep.Migrations = append(rep.Migrations, u.Deleted()...)
	rep.Finish()
}

// Changes counts what the comparison found, for the note that says the base does not read.
func (u *UnreadBase) Changes() (edited, deleted, renamed int) {
	if u == nil {
		return 0, 0, 0
	}
	edited = len(u.edits)
	for m, pc := range u.planned {
		if _, ok := u.edits[m]; !ok && !pc.renamed {
			edited++
		}
	}
	return edited, len(u.deleted), len(u.moved)
}

// planFinding says that sqitch change m's plan entry is not the base's line of it (pc.was), which moves
// its sqitch ID and the IDs of every later change: at m's line in the plan now.
func planFinding(m *migrate.Migration, pc planChange) lint.Finding {
	r, _ := lint.Lookup("edited-applied-migration")
	was := pc.was
	at := fmt.Sprintf("%s:%d at the base", was.Entry.File, was.Entry.Line)
	var what string
	switch {
	case pc.renamed:
		what = fmt.Sprintf("it is the base's change %s (%s) renamed, its scripts moved with the same text: sqitch's change ID covers the name, and sqitch sees a new change it deploys again", was.Name, at)
	case !slices.Equal(pc.now.Requires, was.Requires) || !slices.Equal(pc.now.Conflicts, was.Conflicts):
		what = fmt.Sprintf("its dependencies are now [%s], and were [%s] at the base (%s)", planDeps(pc.now), planDeps(was), at)
	case m.Plan.Info != was.Entry.Info:
		what = fmt.Sprintf("its line in the plan differs from the base's (%s: planner, date, note, or the plan's %%project or %%uri)", at)
	default:
		what = fmt.Sprintf("the change planned right before it is now %s, and was %s at the base (%s): the plan was reordered, or a change planned before it", orNone(m.Plan.Parent), orNone(was.Entry.Parent), at)
	}
	return lint.Finding{Rule: r.ID, Risk: r.Risk, File: m.Plan.File, Line: m.Plan.Line, Column: 1, Source: "history",
		Message: fmt.Sprintf("change %s is in the base's plan, but %s: sqitch's change ID covers its line and the ID of the change planned before it, so the IDs of %s and of every later change move, and sqitch deploy on a database that has them fails (\"Cannot find change <id> in %s\"); the folder at the base does not read, so its plan is compared line by line",
			m.ID(), what, m.ID(), path.Base(m.Plan.File)),
		Suggestion: "restore the plan's lines of the base's changes as the base has them, in its order; plan new changes after them, and rework a deployed change (sqitch rework) instead of editing its line",
		URL:        r.URL()}
}

// planDeps writes a change's dependencies as the plan does: a b !c.
func planDeps(c *migrate.PlannedChange) string {
	out := slices.Clone(c.Requires)
	for _, x := range c.Conflicts {
		out = append(out, "!"+x)
	}
	return strings.Join(out, " ")
}

// upFile tells whether f is the file of m's up script. A golang-migrate version with a down file alone
// has an empty up named after that file (golang-migrate runs nothing for it): the file is its down.
func upFile(format migrate.Format, m *migrate.Migration, f string) bool {
	if m.Up == nil || f != m.Up.File {
		return false
	}
	return format != migrate.FormatGolangMigrate || m.Down == nil || m.Down.File != f
}

// groupKey is what the files of one migration have in common: golang-migrate's N_x.up.sql and
// N_x.down.sql, sqitch's deploy/x.sql, revert/x.sql and verify/x.sql; a format with one file per
// migration keys it by its path.
func groupKey(p string) string {
	for _, d := range []string{"deploy/", "revert/", "verify/"} {
		if rest, ok := strings.CutPrefix(p, d); ok {
			p = rest
			break
		}
	}
	dir, name := path.Split(p)
	for _, s := range []string{".up.", ".down."} {
		if i := strings.LastIndex(name, s); i > 0 {
			name = name[:i] + "." + name[i+len(s):]
			break
		}
	}
	return dir + name
}

// baseLabel names a base migration from one of its files: 2_c for 2_c.up.sql.
func baseLabel(file string) string {
	k := path.Base(groupKey(file))
	if i := strings.LastIndex(k, "."); i > 0 {
		k = k[:i]
	}
	return k
}

// textForm is a file's text with its line endings, byte order mark and trailing blank space aside, as
// migrate.SameScript reads scripts (a checkout with core.autocrlf changes the first two, not the
// migration; blank lines at the end change nothing a tool sends).
func textForm(data []byte) string {
	return strings.TrimRight(strings.ReplaceAll(strings.TrimPrefix(string(data), "\uFEFF"), "\r\n", "\n"), " \t\n")
}

// joined lists the errors err joins (errors.Join), or err alone.
func joined(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
