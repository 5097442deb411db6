package report

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/schema"
)

// DefaultMaxRunes keeps a comment under GitHub's 65,536-character limit with room for the marker.
const DefaultMaxRunes = 65000

// MarkdownOptions tune the Markdown rendering.
type MarkdownOptions struct {
	// Marker is the hidden marker appended to the comment (see Marker); empty means none.
	Marker string
	// MaxRunes bounds the rendering's length in runes; 0 means DefaultMaxRunes, negative means no bound.
	MaxRunes int
	// MaxBytes bounds the rendering's length in bytes (the job summary's 1 MiB); 0 means no bound.
	MaxBytes int
	// Stored is what the forge keeps of a rendering (forge.StoredBody: GitLab puts a zero-width space
	// before every line that starts with a slash, code blocks included), which MaxRunes and MaxBytes
	// bound; nil means the rendering as it is.
	Stored func(string) string
	// SummaryURL links the full report (the job summary); JobURL links the job's log.
	SummaryURL string
	JobURL     string
	// PipelineURL links a GitLab pipeline, whose jobs' artifacts hold the reports: GitLab has no job
	// summary, so a note names no job summary when SummaryURL is empty and this is set.
	PipelineURL string
	// RuleURLBase, when set, is prefixed to a known rule's id to link its documentation, in place of
	// the rule's page (lint.Rule.URL). A finding's own URL is never linked (see ruleLink).
	RuleURLBase string
	// Artifact names the report file or artifact that holds the full report.
	Artifact string

	// to is where the rendering goes, set by JobSummary and FileMarkdown: a note about what was left out
	// says what the reader holds and where the rest is.
	to destination
}

// destination is where a Markdown rendering goes.
type destination int

const (
	// toComment is the sticky comment (or GitLab note): the job summary and the report hold more.
	toComment destination = iota
	// toSummary is the job summary, which cannot point at itself: only the JSON report holds more.
	toSummary
	// toFile is a file (check --report-md): no job summary is known, the JSON report holds more.
	toFile
)

// section is one droppable part of the rendering; drop is its order of removal (1 first, 0 never).
type section struct {
	title string
	text  string
	drop  int
}

// Markdown renders the report as the sticky change-request comment (the same text serves GitHub
// comments and GitLab notes). Everything that comes from the change request is escaped: it cannot leave
// a code block, inject HTML, mention anyone, forge the marker or start a line with a GitLab quick
// action. Past opts.MaxRunes, sections are dropped from the least important (ER diagram, schema
// changes, notes, statement details, findings, failures) and the summary table and approval are kept.
func Markdown(r *Report, opts MarkdownOptions) string {
	if opts.MaxRunes == 0 {
		opts.MaxRunes = DefaultMaxRunes
	}
	secs := []section{
		{title: "status", text: mdHeader(r)},
		{title: "migrations", text: mdTable(r)},
		{title: "approval", text: mdApproval(r.Approval)},
		{title: "failures", text: mdFailures(r), drop: 6},
		{title: "findings", text: mdFindings(r, opts, true, -1), drop: 5},
		// A generated down's verdict and what it cannot restore outweigh the schema changes; its script
		// is also in the text output, the JSON report and rollback-script, and goes first (see below).
		{title: "generated downs", text: mdGeneratedDowns(r, true), drop: 4},
		{title: "schema changes", text: mdSchema(r), drop: 2},
		{title: "ER diagram", text: mdER(r), drop: 1},
		// The notes say what the run did not do (a base that does not apply, a rehearsal canceled part
		// way, what was left out of the SQL): short, and kept over the diagram and the schema changes.
		{title: "notes", text: mdNotes(r), drop: 3},
	}
	fits := func(s string) bool {
		if opts.Stored != nil {
			s = opts.Stored(s)
		}
		if opts.MaxRunes > 0 && utf8.RuneCountInString(s) > opts.MaxRunes {
			return false
		}
		return opts.MaxBytes <= 0 || len(s) <= opts.MaxBytes
	}
	out := assemble(secs, nil, opts)
	if fits(out) {
		return out
	}
	// First try the findings without their collapsed statements.
	var dropped []string
	for _, i := range dropOrder(secs) {
		if secs[i].title == "generated downs" {
			// First without their scripts.
			secs[i].text = mdGeneratedDowns(r, false)
			if out = assemble(secs, append(dropped, "the generated downs' scripts"), opts); fits(out) {
				return out
			}
		}
		if secs[i].title == "findings" {
			secs[i].text = mdFindings(r, opts, false, -1)
			if out = assemble(secs, dropped, opts); fits(out) {
				return out
			}
			// Then as many findings as fit, most severe first, rather than none.
			lo, hi := 0, len(r.Findings()) // lo findings fit (0 always "fits": tried below)
			for lo < hi {
				mid := (lo + hi + 1) / 2
				secs[i].text = mdFindings(r, opts, false, mid)
				if fits(assemble(secs, append(dropped, "findings past the first "+strconv.Itoa(mid)), opts)) {
					lo = mid
				} else {
					hi = mid - 1
				}
			}
			if lo > 0 {
				secs[i].text = mdFindings(r, opts, false, lo)
				return assemble(secs, append(dropped, "findings past the first "+strconv.Itoa(lo)), opts)
			}
		}
		dropped = append(dropped, secs[i].title)
		secs[i].text = ""
		if out = assemble(secs, dropped, opts); fits(out) {
			return out
		}
	}
	// Only the kept sections remain: shorten the migration table row by row.
	rows := strings.Split(secs[1].text, "\n")
	for len(rows) > 4 {
		rows = rows[:len(rows)-2]
		secs[1].text = strings.Join(rows, "\n") + "\n| … | *more migrations left out* | | | | | |\n"
		if out = assemble(secs, append(dropped, "migration rows"), opts); fits(out) {
			return out
		}
	}
	// Still too long (the fields of the kept sections are bounded, but not their number: a forged
	// report's approval, or a limit smaller than they are): a rendering the forge refuses leaves the
	// previous comment in place, which then reads as this run's. Say the report is too large instead,
	// and where it is.
	if out = tooLarge(r, opts); fits(out) {
		return out
	}
	opts.Artifact = "" // the pointer without the report's file name, which the caller chose
	return tooLarge(r, opts)
}

// tooLarge is the shortest rendering: the status line, that the report is too large for this place, and
// where the full report is.
func tooLarge(r *Report, opts MarkdownOptions) string {
	status := "passed"
	icon := riskIcon[r.Risk]
	if !r.OK || r.FailOnReached {
		status, icon = "failed", "❌"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## %s schemagate: %s, risk **%s**\n\n", icon, status, r.Risk)
	what := "comment"
	switch opts.to {
	case toSummary:
		what = "summary"
	case toFile:
		what = "file"
	}
	fmt.Fprintf(&b, "> [!WARNING]\n> The report is too large to show in this %s, even shortened. %s\n\n", what, fullReportPointer(opts))
	return assemble([]section{{text: b.String()}}, nil, opts)
}

func dropOrder(secs []section) []int {
	var idx []int
	for i, s := range secs {
		if s.drop > 0 && s.text != "" {
			idx = append(idx, i)
		}
	}
	sort.Slice(idx, func(a, b int) bool { return secs[idx[a]].drop < secs[idx[b]].drop })
	return idx
}

func assemble(secs []section, dropped []string, opts MarkdownOptions) string {
	var b strings.Builder
	for _, s := range secs {
		if s.text != "" {
			b.WriteString(s.text)
			b.WriteString("\n")
		}
	}
	b.WriteString(shortenedNote(dropped, opts))
	var links []string
	if u := safeURL(opts.SummaryURL); u != "" {
		links = append(links, "[job summary]("+u+")")
	} else if u := safeURL(opts.PipelineURL); u != "" {
		links = append(links, "[pipeline]("+u+")")
	}
	if u := safeURL(opts.JobURL); u != "" {
		links = append(links, "[job log]("+u+")")
	}
	b.WriteString("<sub>schemagate")
	if len(links) > 0 {
		b.WriteString(" · " + strings.Join(links, " · "))
	}
	b.WriteString("</sub>\n")
	if opts.Marker != "" {
		b.WriteString("\n" + opts.Marker + "\n")
	}
	return b.String()
}

// shortenedNote says what a rendering left out (dropped, none: "") and where the full report is.
func shortenedNote(dropped []string, opts MarkdownOptions) string {
	return note(opts.to, dropped, fullReportPointer(opts))
}

// note is the note of a rendering for to that left out the parts named in dropped ("" when none); full
// says where the full report is.
func note(to destination, dropped []string, full string) string {
	if len(dropped) == 0 {
		return ""
	}
	what := "This comment is shortened to fit the size limit"
	switch to {
	case toSummary:
		what = "This summary is shortened to fit the size limit"
	case toFile:
		what = "This report is shortened to stay within 1 MiB"
	}
	return "> [!NOTE]\n> " + what + "; left out: " + strings.Join(dropped, ", ") + ".\n> " + full + "\n\n"
}

func fullReportPointer(opts MarkdownOptions) string {
	switch opts.to {
	case toSummary:
		// The job summary is the long rendering: only the JSON report holds more.
		if opts.Artifact != "" {
			return "The full report is the JSON report " + Code(opts.Artifact) + " (the action's report-json output; upload it with actions/upload-artifact to keep it)."
		}
		return "The full report is the JSON report (--report-json)."
	case toFile:
		if opts.Artifact != "" {
			return "The full report is the JSON report " + Code(opts.Artifact) + "."
		}
		return "The full report is the JSON report (--report-json)."
	}
	if safeURL(opts.SummaryURL) == "" && opts.PipelineURL != "" {
		// GitLab: the check job's artifacts hold the reports.
		file := "the JSON report (--report-json)"
		if opts.Artifact != "" {
			file = "the report file " + Code(opts.Artifact)
		}
		pipeline := "the pipeline"
		if l := Link("pipeline", opts.PipelineURL); l != "" {
			pipeline = "the " + l
		}
		return "The full report is " + file + " among the check job's artifacts in " + pipeline + "."
	}
	where := "the job summary"
	if l := Link("job summary", opts.SummaryURL); l != "" {
		where = "the " + l
	}
	if opts.Artifact != "" {
		where += " and the report file " + Code(opts.Artifact)
	} else {
		where += " and the JSON report (--report-json)"
	}
	return "The full report is in " + where + "."
}

// Link is a Markdown link to u with the text text, or "" when u is not a plain http(s) URL that a link
// can hold (see safeURL).
func Link(text, u string) string {
	if u = safeURL(u); u == "" {
		return ""
	}
	return "[" + Text(text) + "](" + u + ")"
}

var urlOK = regexp.MustCompile(`^https?://[A-Za-z0-9._~:/?#@!$&'*+,;=%-]+$`)

// safeURL returns u when it is a plain http(s) URL that cannot break a Markdown link, else "".
func safeURL(u string) string {
	if !urlOK.MatchString(u) || strings.Contains(u, "'") {
		return ""
	}
	return u
}

var riskIcon = map[lint.Risk]string{lint.Safe: "✅", lint.Caution: "⚠️", lint.Dangerous: "🛑"}

func mdHeader(r *Report) string {
	var b strings.Builder
	status := "passed"
	icon := riskIcon[r.Risk]
	switch {
	case !r.OK:
		status, icon = "failed", "❌"
	case r.FailOnReached:
		// fail_on is text of the report, which may be an untrusted artifact (schemagate comment).
		status, icon = "failed (the risk reaches fail-on "+TextUpTo(r.FailOn, maxFieldRunes)+")", "❌"
	}
	fmt.Fprintf(&b, "## %s schemagate: %s, risk **%s**", icon, status, r.Risk)
	if ar := r.RiskForApproval(); ar > r.Risk {
		fmt.Fprintf(&b, " (**%s** for the DBA approval, which counts the findings the author ignored)", ar)
	}
	b.WriteString("\n\n")
	// The header is never left out, and each of these is text of the report, which may be an untrusted
	// artifact (schemagate comment): a 70,000-character format made the comment too long to post.
	var facts []string
	if r.Dir != "" {
		facts = append(facts, "folder "+CodeUpTo(r.Dir, maxFieldRunes))
	}
	if r.Base != "" {
		facts = append(facts, "base "+CodeUpTo(shortSHA(r.Base), maxFieldRunes))
	}
	if r.Format != "" {
		facts = append(facts, "format "+CodeUpTo(r.Format, maxFieldRunes))
	}
	if db := r.Database; db != nil {
		facts = append(facts, "rehearsed on PostgreSQL "+TextUpTo(db.ServerVersion, maxFieldRunes)+" ("+TextUpTo(db.Provider, maxFieldRunes)+")")
	}
	added, edited, deleted := r.ChangeCounts()
	change := fmt.Sprintf("%d new migration%s", added, Plural(added))
	if edited > 0 {
		change += fmt.Sprintf(", %d edited", edited)
	}
	if deleted > 0 {
		change += fmt.Sprintf(", %d deleted", deleted)
	}
	facts = append(facts, change)
	b.WriteString(strings.Join(facts, " · ") + "\n")
	if r.Redacted {
		// Not among the notes, which are collapsed: a reader must know that *** is not the server's.
		b.WriteString("\n> 🔒 " + Text(RedactedNote) + "\n")
	}
	return b.String()
}

// maxFieldRunes bounds a short field of the report in the parts of the comment that are never left out
// (the header, a row of the migration table): a folder, a format, a version, a migration's name.
const maxFieldRunes = 200

func shortSHA(s string) string {
	if len(s) == 40 && strings.Trim(s, "0123456789abcdef") == "" {
		return s[:12]
	}
	return s
}

func mdTable(r *Report) string {
	news := r.New()
	if len(news) == 0 {
		return "No new migrations in this change.\n"
	}
	var b strings.Builder
	b.WriteString("| Version | Name | Risk | Status | Duration | Locks | Round trip |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, m := range news {
		rt := "–"
		if m.Roundtrip != nil {
			rt = roundtripLabel(m.Roundtrip.Status)
		}
		status := TextUpTo(m.Status, maxFieldRunes)
		if m.Status == StatusFailed {
			status = "❌ failed"
		}
		fmt.Fprintf(&b, "| %s | %s | %s %s | %s | %s | %s | %s |\n", CodeCellUpTo(m.Version, maxFieldRunes), TextUpTo(m.Name, maxFieldRunes),
			riskIcon[m.Risk], m.Risk, status, duration(m.DurationMS), locks(m), rt)
	}
	return b.String()
}

func roundtripLabel(s string) string {
	switch s {
	case RoundtripOK:
		return "✅ ok"
	case RoundtripFailed:
		return "❌ failed"
	case RoundtripNoDown:
		return "⚠️ no down"
	}
	return TextUpTo(s, maxFieldRunes)
}

func duration(ms int64) string {
	switch {
	case ms < 1000:
		return fmt.Sprintf("%d ms", ms)
	case ms < 60000:
		return fmt.Sprintf("%.1f s", float64(ms)/1000)
	}
	return fmt.Sprintf("%d min %d s", ms/60000, ms%60000/1000)
}

// locks lists the strongest lock modes a migration took, per relation, from its trace and findings.
func locks(m Migration) string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, t := range m.Trace {
		for _, l := range t.Locks {
			if strings.Contains(l.Mode, "Exclusive") || strings.Contains(l.Mode, "Share") {
				add(CodeCellUpTo(l.Mode, maxFieldRunes) + " " + TextUpTo(l.Relation, maxFieldRunes))
			}
		}
	}
	if len(out) == 0 {
		for _, f := range m.Findings {
			if f.Lock != "" && !f.Ignored {
				add(CodeCellUpTo(f.Lock, maxFieldRunes))
			}
		}
	}
	if len(out) == 0 {
		return "–"
	}
	if len(out) > 4 {
		out = append(out[:4], fmt.Sprintf("+%d more", len(out)-4))
	}
	return strings.Join(out, "<br>")
}

// The approval section is never left out of the comment, so what it lists of the author's is bounded:
// the ignored findings (a seed migration may ignore thousands) and each one's text, whose reason is the
// ignore comment's, of any length. Unbounded, they could make the comment longer than GitHub takes.
const (
	maxIgnoredShown = 20
	maxIgnoredRunes = 500
)

func mdApproval(a *Approval) string {
	if a == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("### DBA approval\n\n")
	switch {
	case a.State == ApprovalUndecided:
		b.WriteString("⏳ Whether this change needs a DBA approval is decided by the DBA gate (`schemagate gate`, which writes its decision here), not by this report.")
	case !a.Required || a.State == "not-required":
		b.WriteString("✅ Not required for this change.")
	case a.State == "approved":
		b.WriteString("✅ **Approved**")
		if len(a.Approved) > 0 {
			b.WriteString(" by " + people(a.Approved))
		}
		b.WriteString(".")
	case a.State == "blocked":
		b.WriteString("🛑 **Blocked**.")
	default:
		b.WriteString("⏳ **Required** and pending")
		if a.Needed > 0 {
			fmt.Fprintf(&b, " (%d more approval%s needed)", a.Needed, Plural(a.Needed))
		}
		b.WriteString(".")
	}
	if a.Reason != "" {
		b.WriteString(" " + TextUpTo(a.Reason, MaxMessageRunes))
	}
	b.WriteString("\n")
	if len(a.Ignored) > 0 {
		b.WriteString("\nIgnored by the author, counted for the approval:\n\n")
		for i, ig := range a.Ignored {
			if i == maxIgnoredShown {
				fmt.Fprintf(&b, "- … %d more (in the full report)\n", len(a.Ignored)-i)
				break
			}
			b.WriteString("- " + TextUpTo(ig, maxIgnoredRunes) + "\n")
		}
	}
	if len(a.Owners) > 0 {
		b.WriteString("\nOwners: " + people(a.Owners) + "\n")
	}
	return b.String()
}

// people shows logins and teams without mentioning them.
func people(ps []string) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = Code(p)
	}
	return strings.Join(out, ", ")
}

// What a failure quotes is bounded in the Markdown: a failed seed INSERT of 100 kB, or a message a
// migration raised with as much, would otherwise not fit the comment, whose failures section would then
// be left out whole, the message and place of the failure with it. The file and the JSON report hold
// the whole text.
const (
	maxStatementRunes = 4000
	// MaxMessageRunes is where TextUpTo cuts a server's message, detail or hint in the Markdown.
	MaxMessageRunes = 2000
	// maxScriptRunes bounds a generated down's script in a rendering with a size limit.
	maxScriptRunes = 8000
)

// clipRunes cuts s to at most n runes (at a line break in its last quarter when it has one) and says
// whether it did.
func clipRunes(s string, n int) (string, bool) {
	if utf8.RuneCountInString(s) <= n {
		return s, false
	}
	cut := string([]rune(s)[:n])
	if i := strings.LastIndexByte(cut, '\n'); i >= len(cut)*3/4 {
		cut = cut[:i]
	}
	return cut, true
}

// TextUpTo is Text of s, at most n runes of it, saying where it cut: for text of any length (a message a
// migration raised) in a rendering with a size limit (a comment, the job summary). The bound is on the
// escaped text, which may be several times as long as s: a bidi control is shown as \u202e, seven runes
// once its backslash is escaped, and "<" is "&lt;". Cut before escaping, 500 bidi controls took 3,500.
func TextUpTo(s string, n int) string { return upTo(s, n, Text) }

// CodeUpTo is Code of s, at most n runes of it (code span included), saying where it cut, as TextUpTo.
func CodeUpTo(s string, n int) string { return upTo(s, n, Code) }

// CodeCellUpTo is CodeUpTo for a table cell (see CodeCell).
func CodeCellUpTo(s string, n int) string { return upTo(s, n, CodeCell) }

// upTo renders s with esc, cut to the longest start of s whose rendering takes at most n runes when the
// whole does not, with a note saying how long s was. The rendering is cut through s, never in the
// middle of an escape ("\\", "&amp;") or of a code span.
func upTo(s string, n int, esc func(string) string) string {
	out := esc(s)
	if utf8.RuneCountInString(out) <= n {
		return out
	}
	rs := []rune(s)
	// The longest start that fits, by bisection: the empty start always does (when n allows its
	// rendering at all), and escaping takes at least as many runes as it escapes, less some white
	// space (oneLine), so no start of more than 2n runes fits.
	lo, hi := 0, min(len(rs), 2*n+2)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if utf8.RuneCountInString(esc(string(rs[:mid]))) <= n {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return esc(string(rs[:lo])) + fmt.Sprintf(" … *(cut: %d characters in all)*", len(rs))
}

func sqlErrorText(e *SQLError) string {
	var b strings.Builder
	b.WriteString(Code(Place(e.File, e.Line, e.Column)))
	if e.Phase != "" {
		b.WriteString(" (" + Text(e.Phase) + ")")
	}
	if e.SQLState != "" {
		b.WriteString(" SQLSTATE " + Code(e.SQLState))
	}
	b.WriteString(": " + TextUpTo(e.Message, MaxMessageRunes) + "\n")
	if e.Detail != "" {
		b.WriteString("\n**Detail:** " + TextUpTo(e.Detail, MaxMessageRunes) + "\n")
	}
	if e.Hint != "" {
		b.WriteString("\n**Hint:** " + TextUpTo(e.Hint, MaxMessageRunes) + "\n")
	}
	if e.Statement != "" {
		stmt, cut := clipRunes(e.Statement, maxStatementRunes)
		body := Fence(stmt, "sql")
		if cut {
			body += fmt.Sprintf("\n*(the statement is cut here: %d characters in all; the whole is in the file)*\n", utf8.RuneCountInString(e.Statement))
		}
		b.WriteString("\n" + details("Statement", body))
	}
	return b.String()
}

// mdGeneratedDowns tells, for each migration that has a down schemagate wrote (--generate-down), whether
// it is verified and why not, what it cannot restore (its DATA LOSS and IRREVERSIBLE steps, its
// warnings), and, withScripts, the script in a collapsed block, cut at maxScriptRunes.
func mdGeneratedDowns(r *Report, withScripts bool) string {
	var b strings.Builder
	for _, m := range r.Migrations {
		gd := m.GeneratedDown
		if gd == nil {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("### Generated downs\n\n")
		}
		id := Code(m.Version + " " + m.Name)
		switch {
		case gd.Verified && strings.TrimSpace(gd.SQL) == "":
			why := gd.Note
			if why == "" {
				why = "nothing to undo"
			}
			fmt.Fprintf(&b, "- ✅ %s: a down was generated and verified: %s\n", id, TextUpTo(why, MaxMessageRunes))
			continue
		case gd.Verified:
			fmt.Fprintf(&b, "- ✅ %s: a down was generated and verified: it took the database back to the schema before the migration, which then ran again\n", id)
		default:
			fmt.Fprintf(&b, "- ⚠️ %s: a down was generated, **not verified**\n", id)
		}
		for _, p := range gd.Problems {
			b.WriteString("  - " + TextUpTo(p, MaxMessageRunes) + "\n")
		}
		// What the up destroyed that the catalogs do not show (rows, values), then what a step cannot
		// restore, which the script's own comments say; its warnings say the same of an irreversible
		// step, and are not repeated.
		for _, l := range gd.Destroyed {
			b.WriteString("  - **DATA LOSS:** " + TextUpTo(l, MaxMessageRunes) + "\n")
		}
		told := map[string]bool{}
		for _, l := range strings.Split(gd.SQL, "\n") {
			for _, mark := range []string{"DATA LOSS", "IRREVERSIBLE"} {
				if rest, ok := strings.CutPrefix(l, "-- "+mark+": "); ok {
					told[rest] = true
					b.WriteString("  - **" + mark + ":** " + TextUpTo(rest, MaxMessageRunes) + "\n")
				}
			}
		}
		for _, w := range gd.Warnings {
			if !told[w] {
				b.WriteString("  - " + TextUpTo(w, MaxMessageRunes) + "\n")
			}
		}
		if sql := strings.TrimSpace(gd.SQL); withScripts && sql != "" {
			// A fence inside a list item would be indented (see mdFindings): at column 0 after it.
			script, cut := clipRunes(sql, maxScriptRunes)
			body := Fence(script, "sql")
			if cut {
				body += fmt.Sprintf("\n*(the script is cut here: %d characters in all; the whole is in the JSON report and from schemagate rollback-script)*\n", utf8.RuneCountInString(sql))
			}
			b.WriteString("\n" + details("Generated down of "+HTMLCode(m.Version+" "+m.Name), body) + "\n")
		}
	}
	return b.String()
}

func details(summary, body string) string {
	return "<details><summary>" + summary + "</summary>\n\n" + body + "\n</details>\n"
}

func mdFailures(r *Report) string {
	var b strings.Builder
	for _, m := range r.Migrations {
		if m.Status == StatusFailed && m.Error != nil {
			fmt.Fprintf(&b, "### ❌ Migration %s failed\n\n", Code(m.Version+" "+m.Name))
			b.WriteString(sqlErrorText(m.Error))
			b.WriteString("\n")
		}
		if rt := m.Roundtrip; rt != nil && rt.Status == RoundtripFailed {
			fmt.Fprintf(&b, "### ❌ Round trip of %s failed\n\n", Code(m.Version+" "+m.Name))
			b.WriteString("Applying the down and then the up again did not give back the same schema.\n\n")
			for i, p := range rt.Problems {
				b.WriteString("- " + Text(p))
				// The failed statement, the last problem, has its place in the error below.
				if at := rt.PlaceOf(i); at != nil && !rt.IsFailure(i) {
					b.WriteString(" (" + Code(Place(at.File, at.Line, at.Column)) + ")")
				}
				b.WriteString("\n")
			}
			if rt.Error != nil {
				b.WriteString("\n" + sqlErrorText(rt.Error))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// ruleLink links a finding's rule to its documentation page. The page is the rule's own (lint.Rule.URL,
// or RuleURLBase and its id), never the finding's URL: the report may be a fork's artifact (schemagate
// comment in a workflow_run workflow, the gate's rewrite of the comment), whose author chooses every
// field, and a link with a trusted rule's look could lead anywhere ([reviewed-by-dba](https://evil…)).
// A rule lint does not know is shown as code, not linked.
func (o MarkdownOptions) ruleLink(f lint.Finding) string {
	r, ok := lint.Lookup(f.Rule)
	if !ok {
		return Code(f.Rule)
	}
	u := r.URL()
	if o.RuleURLBase != "" {
		u = o.RuleURLBase + r.ID
	}
	if l := Link(r.ID, u); l != "" {
		return l
	}
	return Code(f.Rule)
}

func mdFindings(r *Report, opts MarkdownOptions, withStatements bool, limit int) string {
	var b strings.Builder
	var ignored, shown, more int
	fs := r.Findings()
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Risk > fs[j].Risk })
	for _, f := range fs {
		if f.Ignored {
			ignored++
			continue
		}
		if limit >= 0 && shown >= limit {
			more++
			continue
		}
		shown++
		if b.Len() == 0 {
			b.WriteString("### Findings\n\n")
		}
		fmt.Fprintf(&b, "- %s **%s** %s at %s: %s", riskIcon[f.Risk], f.Risk, opts.ruleLink(f),
			Code(fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column)), Text(f.Message+f.RepeatedNote()))
		var tags []string
		if f.Lock != "" {
			tags = append(tags, "lock "+Code(f.Lock))
		}
		if f.Rewrite {
			tags = append(tags, "rewrites the table")
		}
		if f.Scan {
			tags = append(tags, "scans the table")
		}
		if len(tags) > 0 {
			b.WriteString(" (" + strings.Join(tags, ", ") + ")")
		}
		b.WriteString("\n")
		if f.Suggestion != "" {
			b.WriteString("  - **Safe alternative:** " + Text(f.Suggestion) + "\n")
		}
		if withStatements && f.Statement != "" {
			// A fence inside a list item would be indented, and an indented line may not start with "/"
			// for GitLab; collapsed statements are written at column 0 after the list instead.
			line, _ := f.StatementPos()
			b.WriteString("\n" + details("Statement at "+HTMLCode(fmt.Sprintf("%s:%d", f.File, line)), Fence(f.Statement, "sql")) + "\n")
		}
	}
	if more > 0 {
		fmt.Fprintf(&b, "- … %d more finding%s (in the full report)\n", more, Plural(more))
	}
	if ignored > 0 {
		if b.Len() == 0 {
			b.WriteString("### Findings\n\n")
		}
		fmt.Fprintf(&b, "\n%d finding%s ignored by `schemagate:ignore` comments.\n", ignored, Plural(ignored))
	}
	return b.String()
}

func mdSchema(r *Report) string {
	var body strings.Builder
	for _, m := range r.New() {
		d := m.SchemaDiff
		if d.Empty() {
			continue
		}
		fmt.Fprintf(&body, "**%s**\n\n", Code(m.Version+" "+m.Name))
		list := func(verb string, cs []schema.Change) {
			for _, c := range cs {
				fmt.Fprintf(&body, "- %s %s %s", verb, Text(c.Kind), Code(c.Name))
				for _, p := range c.Properties {
					fmt.Fprintf(&body, "; %s: %s → %s", Text(p.Property), Code(p.Old), Code(p.New))
				}
				body.WriteString("\n")
			}
		}
		list("➕ added", d.Added)
		list("✏️ changed", d.Changed)
		list("➖ removed", d.Removed)
		body.WriteString("\n")
	}
	if body.Len() == 0 {
		return ""
	}
	return details("Schema changes", body.String())
}

var fkRef = regexp.MustCompile(`REFERENCES\s+([A-Za-z0-9_."]+)`)

// columnType is the type of a column's definition: its type and then its options (COLLATE, GENERATED,
// DEFAULT, NOT NULL), never its name.
func columnType(def string) string {
	typ := def
	for _, opt := range []string{" COLLATE ", " GENERATED ", " DEFAULT ", " NOT NULL"} {
		typ, _, _ = strings.Cut(typ, opt)
	}
	if typ = strings.TrimSpace(typ); typ == "" {
		return "column"
	}
	return typ
}

// tableColumns splits a table's definition as the schema diff writes it ("(id bigint NOT NULL, "a b"
// numeric(10,2) DEFAULT 'x, y')", then perhaps a foreign table's SERVER …) into each column's name and
// definition: at the commas outside parentheses, string literals and quoted names.
func tableColumns(def string) [][2]string {
	if !strings.HasPrefix(def, "(") {
		return nil
	}
	var out [][2]string
	depth, inStr, inIdent, start := 0, false, false, 1
	item := func(s string) {
		s = strings.TrimSpace(s)
		if s == "" {
			return
		}
		name, rest := s, ""
		if strings.HasPrefix(s, `"`) {
			// A quoted name: "" stands for one quote inside it.
			for i := 1; i < len(s); i++ {
				if s[i] == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						i++
						continue
					}
					name, rest = strings.ReplaceAll(s[1:i], `""`, `"`), s[i+1:]
					break
				}
			}
		} else {
			name, rest, _ = strings.Cut(s, " ")
		}
		out = append(out, [2]string{name, strings.TrimSpace(rest)})
	}
	for i := 1; i < len(def); i++ {
		switch ch := def[i]; {
		case inStr:
			inStr = ch != '\''
		case inIdent:
			inIdent = ch != '"'
		case ch == '\'':
			inStr = true
		case ch == '"':
			inIdent = true
		case ch == '(':
			depth++
		case ch == ')' && depth > 0:
			depth--
		case ch == ')':
			item(def[start:i])
			return out
		case ch == ',' && depth == 0:
			item(def[start:i])
			start = i + 1
		}
	}
	return out
}

// mdER draws the tables the new migrations add, change or remove, with the columns the diff names and
// the foreign keys it adds.
func mdER(r *Report) string {
	type entity struct {
		cols  []string
		state string
	}
	ents := map[string]*entity{}
	var order []string
	get := func(name string) *entity {
		id := MermaidID(name)
		e, ok := ents[id]
		if !ok {
			e = &entity{}
			ents[id] = e
			order = append(order, id)
		}
		return e
	}
	var rels []string
	for _, m := range r.New() {
		d := m.SchemaDiff
		if d == nil {
			continue
		}
		visit := func(cs []schema.Change, state string) {
			for _, c := range cs {
				switch {
				case c.Kind == "table":
					e := get(c.Name)
					e.state = state
					// An added or removed table's columns are in its definition, not changes of their own.
					for _, col := range tableColumns(c.Definition) {
						e.cols = append(e.cols, MermaidID(columnType(col[1]))+" "+MermaidID(col[0])+` "`+state+`"`)
					}
				case c.Table != "":
					e := get(c.Table)
					if c.Kind == "column" {
						name := schema.ObjectName(c)
						typ, note := columnType(c.Definition), state
						for _, p := range c.Properties {
							if p.Property == "type" { // a changed column shows its new type, and the old one
								typ, note = p.New, state+" from "+mermaidText(p.Old)
							}
						}
						e.cols = append(e.cols, MermaidID(typ)+" "+MermaidID(name)+` "`+note+`"`)
					}
					if c.Kind == "constraint" && state == "added" {
						if mm := fkRef.FindStringSubmatch(c.Definition); mm != nil {
							// The referenced table as SQL names it, quoted where needed: read as a key (see schema.Key).
							parts := schema.SplitKey(mm[1])
							if len(parts) == 1 {
								sch, _, _ := schema.CutKey(c.Table)
								parts = []string{sch, parts[0]}
							}
							ref := schema.Key(parts...)
							get(ref)
							rels = append(rels, fmt.Sprintf("    %s }o--|| %s : %s", MermaidID(c.Table), MermaidID(ref), MermaidID(schema.ObjectName(c))))
						}
					}
				}
			}
		}
		visit(d.Added, "added")
		visit(d.Changed, "changed")
		visit(d.Removed, "removed")
	}
	if len(order) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("erDiagram\n")
	for _, id := range order {
		e := ents[id]
		if len(e.cols) == 0 {
			fmt.Fprintf(&b, "    %s {\n    }\n", id)
			continue
		}
		fmt.Fprintf(&b, "    %s {\n", id)
		for _, c := range e.cols {
			b.WriteString("        " + c + "\n")
		}
		b.WriteString("    }\n")
	}
	for _, rel := range rels {
		b.WriteString(rel + "\n")
	}
	return details("Tables changed (ER diagram)", Fence(b.String(), "mermaid"))
}

// mermaidText keeps what may stand in an ER diagram's attribute comment of what s says (a type name such
// as numeric(10,2) or character varying(20)): letters, digits, spaces and ( ) , . _; the rest is _.
func mermaidText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) || strings.ContainsRune(" (),._", r) {
			return r
		}
		return '_'
	}, s)
}

func mdNotes(r *Report) string {
	if len(r.Notes) == 0 {
		return ""
	}
	var b strings.Builder
	for _, n := range r.Notes {
		b.WriteString("- " + Text(n) + "\n")
	}
	return details("Notes", b.String())
}
