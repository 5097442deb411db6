package deploy

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/report"
)

// CommentMarker identifies the deploy comment of an environment on a change request. The name is
// escaped by report.MarkerText, as a folder's marker is, with '_' and '-' kept too: ASCII letters and
// digits, '.', '/', '_' and '-' stand as they are (but a '-' right after one that does), and every
// other byte is written %XX (its code in hex), so that no name ends the HTML comment ("-->"), puts "--"
// into it or lets text through, and two names never share a marker. A name of only those characters keeps the marker earlier versions gave
// it; for the others see OldCommentMarkers.
func CommentMarker(env string) string { return commentMarker(report.MarkerText(env, "_-")) }

// OldCommentMarkers are the markers that versions before CommentMarker escaped gave env's comment, where
// they differ from CommentMarker(env): the name as it is. forge.Upsert looks for them when no comment
// holds CommentMarker(env), and its update carries CommentMarker(env) from then on. A name with '%' has
// none: its old marker could be another name's new one ("a%3Cb" was what "a<b" is now).
func OldCommentMarkers(env string) []string {
	if old := commentMarker(env); old != CommentMarker(env) && !strings.Contains(env, "%") {
		return []string{old}
	}
	return nil
}

func commentMarker(env string) string { return "<!-- schemagate:deploy " + env + " -->" }

// WriteJSON renders the result as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func ms(n int64) string {
	return (time.Duration(n) * time.Millisecond).Round(time.Millisecond).String()
}

func (r *Result) headline() string {
	switch r.Outcome {
	case OutcomeDeployed:
		return fmt.Sprintf("deployed %d migrations to %s", countStatus(r.Migrations, StatusApplied), r.Env)
	case OutcomeNothing:
		return r.Env + " is up to date"
	case OutcomeDryRun:
		return fmt.Sprintf("dry run: %d migrations pending on %s", len(r.Migrations), r.Env)
	case OutcomeBlocked:
		return "deploy to " + r.Env + " blocked"
	case OutcomeRolledBack:
		return "deploy to " + r.Env + " failed and was rolled back"
	case OutcomePartial:
		// What is not applied is left for the next window: those not started, and one whose lock timeout
		// was not retried (failed, nothing of it stays).
		applied := countStatus(r.Migrations, StatusApplied)
		return fmt.Sprintf("deploy to %s stopped part-way: %d migrations applied, %d left for the next window", r.Env,
			applied, len(r.Migrations)-applied)
	}
	return "deploy to " + r.Env + " FAILED: the database needs attention"
}

func countStatus(ms []MigrationResult, status string) int {
	n := 0
	for _, m := range ms {
		if m.Status == status {
			n++
		}
	}
	return n
}

// facts are the report's key lines, shared by the text and Markdown renderings.
func (r *Result) facts() [][2]string {
	var out [][2]string
	add := func(k, v string) { out = append(out, [2]string{k, v}) }
	add("Run", r.RunID)
	if r.Commit != "" {
		add("Commit", shortSHA(r.Commit))
	}
	if w := r.Window; w != nil {
		switch {
		case w.Broken:
			add("Window", "broken: "+w.Reason)
		case !w.Open && (w.Blackout != "" || w.Next != nil):
			s := "closed"
			if w.Blackout != "" {
				s += ": " + w.Blackout
			}
			if w.Next != nil {
				s += "; next opens " + w.Next.Format(time.RFC3339)
			}
			add("Window", s)
		case w.Always:
			add("Window", "any time")
		case w.Open && w.End != nil:
			s := "open until " + w.End.Format(time.RFC3339)
			if w.WaitedMS > 0 {
				s += " (waited " + ms(w.WaitedMS) + ")"
			}
			add("Window", s)
		}
	}
	if l := r.Lock; l != nil {
		s := ms(l.WaitMS)
		if l.WaitedFor != "" {
			s += " behind " + l.WaitedFor
		}
		add("Lock wait", s)
	}
	if s := r.Snapshot; s != nil {
		where := s.Location
		if where == "" {
			where = s.ID
		}
		v := fmt.Sprintf("%s in %s", where, ms(s.DurationMS))
		if s.Size > 0 {
			v += fmt.Sprintf(", %s, sha256 %s", size(s.Size), short(s.SHA256))
		}
		add("Snapshot", v)
	}
	if m := r.Maintenance; m != nil && m.On != nil {
		v := fmt.Sprintf("%s (%s beyond the migrations)", ms(m.DurationMS), ms(m.OverheadMS))
		if m.Inherited && m.Since != nil && m.On.Equal(*m.Since) {
			v = fmt.Sprintf("%s, on since run %s turned it on at %s (%s beyond the migrations)", ms(m.DurationMS), m.InheritedFrom, m.Since.UTC().Format(time.RFC3339), ms(m.OverheadMS))
		}
		switch {
		case m.Off == nil && m.LeftTo != "":
			v = "as " + m.LeftTo + " left it: it took over this run"
		case m.Off == nil && m.Error != "":
			v = "still on: " + m.Error
		case m.Off == nil:
			// Nothing failed: the run left it on for --recover, its server gone (see unreachable).
			v = "still on, for deploy --recover to turn off once the server is back"
		}
		if m.OnAgain != "" {
			v += "; " + m.OnAgain
		}
		if m.Warning != "" {
			v += "; WARNING: " + m.Warning
		}
		add("Maintenance mode", v)
	}
	if m := r.Maintenance; m != nil && m.Inherited && m.On == nil { // else the line above tells it
		v := "left on by an earlier run; turned off"
		switch {
		case m.LeftTo != "" && m.Off == nil:
			v = "left on by an earlier run; as " + m.LeftTo + " left it: it took over this run"
		case m.Error != "" && m.Off == nil:
			v = "left on by an earlier run; still on: " + m.Error
		}
		if m.Warning != "" {
			v += "; WARNING: " + m.Warning
		}
		add("Maintenance mode", v)
	}
	if r.Writes != nil {
		add("Writes after snapshot", fmt.Sprintf("%d transactions, %d WAL bytes", r.Writes.XIDs, r.Writes.WALBytes))
	}
	if rb := r.Rollback; rb != nil {
		v := rb.Method + " in " + ms(rb.DurationMS)
		if rb.Method == "down" && rb.OK && !r.undidAny() {
			// The failed migration's own transaction was rolled back; no down ran.
			v = "nothing to undo: no migration of this run had been applied"
		}
		switch {
		case rb.NotRun != "" && r.undidAny():
			// Another deploy took the run over after some downs had run (see takenOverNotRun): those
			// ran, the rest is not this run's to run.
			v += ", then not run further: " + rb.NotRun
		case rb.NotRun != "":
			// No down ran, and no restore: nothing failed to run, the rollback refused to, or another
			// deploy took the run over.
			v = "not run: " + rb.NotRun
		case !rb.OK:
			if rb.Why != "" {
				v += " (" + rb.Why + ")"
			}
			v += ": FAILED: " + rb.Error
		case rb.Why != "":
			v += " (" + rb.Why + ")"
		}
		if rb.Lost != "" {
			v += "; DATA LOST: " + rb.Lost
		}
		if len(rb.NotRestored) > 0 {
			v += "; the snapshot does not undo " + strings.Join(rb.NotRestored, ", ")
		}
		add("Rollback", v)
	}
	if im := r.Imported; im != nil {
		add("Imported history", fmt.Sprintf("%d migrations from %s (%s)", len(im.Versions), im.Tool, im.Table))
	}
	if rc := r.Recovered; rc != nil {
		notRestored := ""
		if len(rc.NotRestored) > 0 {
			notRestored = "; the snapshot does not undo " + strings.Join(rc.NotRestored, ", ")
		}
		switch {
		case rc.Plan != "":
			add("Recovery plan", rc.Plan)
		case rc.NotRun != "":
			// Nothing ran, nothing failed to: as the Rollback line of a rollback that refused.
			add("Recovery", fmt.Sprintf("run %s: not run: %s", rc.RunID, rc.NotRun))
		case rc.Failed != "":
			add("Recovery", fmt.Sprintf("run %s: FAILED: %s%s", rc.RunID, rc.Failed, notRestored))
		default:
			add("Recovered", fmt.Sprintf("run %s: %s%s", rc.RunID, rc.account(true), notRestored))
		}
	}
	add("Duration", ms(r.DurationMS))
	return out
}

func size(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f kB", float64(n)/1e3)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// undidAny tells whether the rollback undid a migration of the run with its down.
func (r *Result) undidAny() bool {
	for _, m := range r.Migrations {
		if m.Status == StatusRolledBack {
			return true
		}
	}
	return false
}

// WriteText renders the result for a terminal. Everything it quotes (file names, what the server said,
// hook output, the user's reason) is escaped as check's text output is (report.Clean): a line break in a
// server message must not start a line of its own, which GitHub Actions would read as a workflow
// command (::add-mask::, ::stop-commands::). A message's lines are written each on its own line, after
// "| " (ql); a file name's line break is written out as \n.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	q := report.Clean
	// ql quotes a message that may hold line breaks (a server's detail and hint, a hook's output): each
	// of its lines goes on a line of its own, the ones after the first after indent and "| ", so that
	// none starts a line of the output and none shows as a literal \n (as it did: tester A's F10a).
	ql := func(s, indent string) string {
		lines := strings.Split(strings.TrimRight(s, "\r\n"), "\n")
		for i, l := range lines {
			lines[i] = q(strings.TrimSuffix(l, "\r"))
		}
		return strings.Join(lines, "\n"+indent+"| ")
	}
	fmt.Fprintf(&b, "%s\n", q(r.headline()))
	if r.Reason != "" {
		fmt.Fprintf(&b, "  reason: %s\n", ql(r.Reason, "    "))
	}
	if r.Hint != "" {
		fmt.Fprintf(&b, "  hint: %s\n", ql(r.Hint, "    "))
	}
	for _, f := range r.facts() {
		fmt.Fprintf(&b, "  %-22s %s\n", f[0]+":", ql(f[1], "    "))
	}
	for _, d := range r.Drift {
		fmt.Fprintf(&b, "  drift: %s\n", q(d))
	}
	for _, m := range r.Migrations {
		fmt.Fprintf(&b, "  %-12s %s %s", m.Status, q(m.id()), ms(m.DurationMS))
		if m.Attempts > 1 {
			fmt.Fprintf(&b, " (%d attempts)", m.Attempts)
		}
		b.WriteString("\n")
		if m.Error != nil {
			fmt.Fprintf(&b, "      %s%s\n", q(m.Error.where(": ")), ql(m.Error.Message, "        "))
		}
		if len(m.Completed) > 0 {
			fmt.Fprintf(&b, "      completed (and stay): %s\n", q(strings.Join(m.Completed, ", ")))
		}
		if m.RollbackError != nil {
			fmt.Fprintf(&b, "      down %s%s\n", q(m.RollbackError.where(": ")), ql(m.RollbackError.Message, "        "))
		}
	}
	for _, c := range r.Verify {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "  %s %s [%s] %s\n", mark, q(c.Name), c.Phase, ql(c.Message, "    "))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  note: %s\n", ql(n, "    "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Markdown renders the result whole, of any length, for a job summary or a change request comment;
// SummaryMarkdown and CommentMarkdown bound it to what those take. What it quotes is escaped as check
// --report-md escapes it (report.Text, report.CodeCell): it stays on its line and in its cell, mentions
// nobody, opens no HTML and leaves no code span or fence open. A message a migration raised (the
// server's, the reason, a verification's) is cut at report.MaxMessageRunes, saying so.
func (r *Result) Markdown() string { return r.markdown(wholeReport) }

// FileMarkdown renders the result for a Markdown file (deploy --report-md) as check's --report-md is
// rendered (report.FileMarkdown): within 1 MiB (report.MaxSummaryBytes), leaving out what it must (see
// fit) and ending with report.FileNote, which says what it left out and names jsonReport (the
// --report-json file, "" when none) as the full report.
func (r *Result) FileMarkdown(jsonReport string) string {
	return r.fit(func(s string) bool { return len(s) <= report.MaxSummaryBytes },
		func(dropped []string) string { return report.FileNote(dropped, jsonReport) })
}

// SummaryMarkdown renders the result for the job summary (GITHUB_STEP_SUMMARY) within maxBytes: the
// runner refuses a step's summary over 1 MiB, and drops it whole. The caller gives what the file has
// room for (report.MaxSummaryBytes less what the step already wrote). Past it, it leaves out what it
// must (see fit) and ends with report.SummaryNote, naming the JSON report (jsonReport, "" when none)
// and the CI job (JobURL) as where the full report is.
func (r *Result) SummaryMarkdown(maxBytes int, jsonReport string) string {
	return r.fit(func(s string) bool { return len(s) <= maxBytes },
		func(dropped []string) string { return report.SummaryNote(dropped, r.fullReport(jsonReport, false)) })
}

// CommentMarkdown renders the result as the change request comment, ending with its marker
// (CommentMarker), within maxRunes characters (runes) as the forge stores it (stored, nil for as it is:
// GitLab adds a zero-width space before a line's slash): the forge refuses a longer comment (GitHub's
// limit is 65,536 characters, GitLab's 1,000,000: forge.MaxCommentRunes), and the deploy would have no
// comment. Past it, it leaves out what it must (see fit) and ends with report.CommentNote, naming the
// job summary (summary: the job wrote one, shown at JobURL) or else the CI job's log, and the JSON
// report (jsonReport, "" when none) as where the full report is.
func (r *Result) CommentMarkdown(maxRunes int, stored func(string) string, jsonReport string, summary bool) string {
	end := "\n\n" + CommentMarker(r.Env)
	if stored == nil {
		stored = func(s string) string { return s }
	}
	return r.fit(func(s string) bool { return utf8.RuneCountInString(stored(s+end)) <= maxRunes },
		func(dropped []string) string { return report.CommentNote(dropped, r.fullReport(jsonReport, summary)) }) + end
}

// fullReport says where the full report is, for the note of a rendering that left parts out: the job
// summary when summary is set (GitHub Actions shows it on the run's page, JobURL), else the CI job's
// log, which holds the text report whole, and the JSON report (jsonReport) when one is written.
func (r *Result) fullReport(jsonReport string, summary bool) string {
	json := "the JSON report (--report-json)"
	if jsonReport != "" {
		json = "the JSON report " + report.Code(jsonReport)
	}
	switch job := report.Link("CI job", r.JobURL); {
	case summary:
		where := "the job summary"
		if l := report.Link("job summary", r.JobURL); l != "" {
			where = "the " + l
		}
		if jsonReport != "" {
			where += " and " + json
		}
		return "The full report is in " + where + "."
	case job != "" && jsonReport != "":
		return "The full report is " + json + " and the log of the " + job + "."
	case job != "":
		return "The full report is in the log of the " + job + "."
	}
	return "The full report is " + json + "."
}

// fit renders the result whole when fits takes it. Else it leaves out, until fits takes it, the checks
// that passed, the notes and the drift, in that order, then the rows of the migrations without an error,
// from the end, then the checks that failed, from the last; then it cuts each fact at
// report.MaxMessageRunes (a list of thousands of versions a recovery kept), and last the rendering at
// the last line that fits. The headline, the
// reason and hint, the facts (the rollback's result among them) and the rows of the migrations with an
// error come first and go last. note(dropped) ends a rendering that left out the parts dropped names.
func (r *Result) fit(fits func(string) bool, note func(dropped []string) string) string {
	c := wholeReport
	if out := r.markdown(c); fits(out) {
		return out
	}
	var dropped []string
	render := func() string { return r.markdown(c) + "\n" + note(dropped) }
	for _, cut := range []struct {
		what  string
		apply func()
		has   bool
	}{
		{"the checks that passed", func() { c.noPassed = true }, len(failedChecks(r.Verify)) < len(r.Verify)},
		{"notes", func() { c.noNotes = true }, len(r.Notes) > 0},
		{"drift", func() { c.noDrift = true }, len(r.Drift) > 0},
	} {
		if !cut.has {
			continue
		}
		cut.apply()
		dropped = append(dropped, cut.what)
		if out := render(); fits(out) {
			return out
		}
	}
	// As many of n items as fit, the first ones: set(k) shows k of them and names what it leaves out
	// (the last entry of dropped). True when some fit, or none do but the rest then fits.
	most := func(n int, set func(k int)) bool {
		dropped = append(dropped, "")
		lo, hi := 0, n // lo fit, or none do
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if set(mid); fits(render()) {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		set(lo)
		return lo > 0 || fits(render())
	}
	if plainRows(r.Migrations) > 0 && most(len(r.Migrations), func(k int) {
		c.rows, dropped[len(dropped)-1] = k, fmt.Sprintf("the rows of the migrations past the first %d but those with an error", k)
		if k == 0 {
			dropped[len(dropped)-1] = "the rows of the migrations without an error"
		}
	}) {
		return render()
	}
	if failed := len(failedChecks(r.Verify)); failed > 0 && most(failed, func(k int) {
		c.failed, dropped[len(dropped)-1] = k, fmt.Sprintf("the checks that failed past the first %d", k)
		if k == 0 {
			dropped[len(dropped)-1] = "the checks that failed"
		}
	}) {
		return render()
	}
	// A list among the facts (the versions a recovery kept) is cut as a message is, saying so.
	if c.clipFacts = true; fits(render()) {
		return render()
	}
	// The last resort: the rendering up to the last line that fits.
	dropped = append(dropped, "the rest of the report")
	lines := strings.SplitAfter(r.markdown(c), "\n")
	cut := func(k int) string { return strings.Join(lines[:k], "") + "\n" + note(dropped) }
	lo, hi := 0, len(lines)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fits(cut(mid)) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return cut(lo)
}

// plainRows counts the migrations whose rows a rendering may leave out (see mdCut.rows): those with no
// error and nothing completed of them.
func plainRows(ms []MigrationResult) int {
	n := 0
	for _, m := range ms {
		if plain(m) {
			n++
		}
	}
	return n
}

func plain(m MigrationResult) bool {
	return m.Error == nil && m.RollbackError == nil && len(m.Completed) == 0
}

// mdCut is what a rendering leaves out to fit a size (see fit).
type mdCut struct {
	noPassed, noNotes, noDrift bool
	// clipFacts cuts each fact at report.MaxMessageRunes.
	clipFacts bool
	// rows is how many migrations' rows it shows, and those past them with an error; -1 shows all.
	rows int
	// failed is how many of the checks that failed it shows, the first ones; -1 shows all.
	failed int
}

// wholeReport leaves nothing out.
var wholeReport = mdCut{rows: -1, failed: -1}

func (r *Result) markdown(c mdCut) string {
	var b strings.Builder
	icon := map[string]string{OutcomeDeployed: "✅", OutcomeNothing: "✅", OutcomeDryRun: "📝", OutcomeBlocked: "⛔", OutcomeRolledBack: "↩️", OutcomePartial: "⚠️"}[r.Outcome]
	if icon == "" {
		icon = "🚨"
	}
	fmt.Fprintf(&b, "### %s schemagate: %s\n\n", icon, report.Text(r.headline()))
	if r.Reason != "" {
		fmt.Fprintf(&b, "**Reason:** %s\n\n", report.TextUpTo(r.Reason, report.MaxMessageRunes))
	}
	if r.Hint != "" {
		fmt.Fprintf(&b, "**Hint:** %s\n\n", report.TextUpTo(r.Hint, report.MaxMessageRunes))
	}
	b.WriteString("| | |\n|---|---|\n")
	for _, f := range r.facts() {
		v := report.Text(f[1])
		if c.clipFacts {
			v = report.TextUpTo(f[1], report.MaxMessageRunes)
		}
		fmt.Fprintf(&b, "| %s | %s |\n", f[0], v)
	}
	if !c.noDrift {
		for _, d := range r.Drift {
			fmt.Fprintf(&b, "| Drift | %s |\n", report.Text(d))
		}
	}
	if len(r.Migrations) > 0 {
		b.WriteString("\n| Migration | Status | Duration | Error |\n|---|---|---|---|\n")
		left := 0
		for i, m := range r.Migrations {
			if c.rows >= 0 && i >= c.rows && plain(m) {
				left++
				continue
			}
			var e []string
			if m.Error != nil {
				if m.Error.File != "" {
					e = append(e, report.CodeCell(report.Place(m.Error.File, m.Error.Line, m.Error.Column)))
				}
				e = append(e, report.TextUpTo(m.Error.Message, report.MaxMessageRunes))
			}
			if m.RollbackError != nil {
				e = append(e, "down")
				if m.RollbackError.File != "" {
					e = append(e, report.CodeCell(report.Place(m.RollbackError.File, m.RollbackError.Line, 0)))
				}
				e = append(e, report.TextUpTo(m.RollbackError.Message, report.MaxMessageRunes))
			}
			if len(m.Completed) > 0 {
				e = append(e, report.Text("completed (and stay): "+strings.Join(m.Completed, ", ")))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", report.CodeCell(m.id()), m.Status, ms(m.DurationMS), strings.Join(e, " "))
		}
		if left > 0 {
			fmt.Fprintf(&b, "| … | *%d more migrations left out* | | |\n", left)
		}
	}
	checks := r.Verify
	if c.noPassed {
		checks = failedChecks(checks)
	}
	if c.failed >= 0 {
		checks = failedChecks(checks)
		checks = checks[:min(c.failed, len(checks))]
	}
	if len(checks) > 0 {
		b.WriteString("\n| Check | Phase | Result |\n|---|---|---|\n")
		for _, ch := range checks {
			res := "✅"
			if !ch.OK {
				res = "❌"
			}
			if ch.Message != "" {
				res += " " + report.TextUpTo(ch.Message, report.MaxMessageRunes)
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", report.Text(ch.Name), ch.Phase, res)
		}
	}
	if !c.noNotes {
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "\n> %s\n", report.Text(n))
		}
	}
	return b.String()
}

// where is the error's place, file:line:column followed by sep, or "" for an error that is no
// statement's (a history row that could not be written).
func (e *SQLError) where(sep string) string {
	if e.File == "" {
		return ""
	}
	return report.Place(e.File, e.Line, e.Column) + sep
}

// id names a migration as migrate.Migration.ID does (version_name; the name alone for a Flyway
// repeatable migration or a sqitch change).
func (m MigrationResult) id() string {
	return (&migrate.Migration{Version: m.Version, Name: m.Name}).ID()
}
