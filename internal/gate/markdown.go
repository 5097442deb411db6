package gate

import (
	"fmt"
	"strings"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/report"
)

// StatusContext is the commit status the gate sets on the head commit; make it required in branch
// protection to enforce the gate.
const StatusContext = "schemagate/dba-approval"

// Status is the commit status for the decision, in its HeadState; its description (at most 140
// characters) says who must approve.
func Status(d *Decision, targetURL string) forge.Status {
	st := forge.Status{Context: StatusContext, TargetURL: targetURL}
	switch {
	case d.HeadState() != d.State:
		// Satisfied here, but the status is the commit's, which another open pull request shows too.
		st.State, st.Description = "pending", d.HeadWaits()
	case d.State == Approved:
		st.State, st.Description = "success", "Approved by "+strings.Join(d.ApprovedBy, ", ")
	case d.State == NotRequired:
		st.State, st.Description = "success", "Not required: "+d.Reason
	case d.State == Blocked:
		st.State = "failure"
		switch {
		case len(d.BlockedBy) > 0:
			st.Description = "Changes requested by " + strings.Join(d.BlockedBy, ", ")
		case len(d.Unowned) > 0:
			st.Description = "No one may approve " + strings.Join(d.Unowned, ", ")
		default:
			st.Description = "Blocked: " + d.Reason
		}
	default:
		st.State = "pending"
		st.Description = fmt.Sprintf("Needs %d approval%s from %s", d.Needed, report.Plural(d.Needed), strings.Join(d.Owners, ", "))
	}
	// The description quotes the change request (its files' names, owners and logins, the reason) and
	// shows as plain text on the pull request and in the API: its control characters and bidi controls
	// are escaped (report.Clean), so a file name cannot read otherwise than it is (U+202E).
	st.Description = report.Clean(st.Description)
	if r := []rune(st.Description); len(r) > 140 {
		st.Description = string(r[:139]) + "…"
	}
	return st
}

// Markdown renders the decision as the "DBA approval" section of the job summary. Logins, teams and
// paths are put in code spans so that they neither ping anyone nor inject Markdown; prose is escaped as
// report.Text escapes it. Its lists are bounded (see maxListed): a change of thousands of migration
// files would make it larger than the job summary may be.
func Markdown(d *Decision) string { return MarkdownUpTo(d, 0) }

// MarkdownUpTo is Markdown in at most maxBytes bytes, the room the job summary has left (see
// ci.Actions.SummaryRoom); 0 means no bound but the lists'. What does not fit is left out from the
// end, the requirements table's last rows first and then the last notes, each list saying how many it
// left out, so that the section ends as it was made to rather than cut at the runner's limit. It can
// exceed maxBytes only when its heading, the ignored findings and the checksum alone do.
func MarkdownUpTo(d *Decision, maxBytes int) string {
	p := markdownParts(d)
	rows, notes := len(p.rows), len(p.notes)
	for {
		md := p.render(rows, notes)
		if maxBytes <= 0 || len(md) <= maxBytes || rows+notes == 0 {
			return md
		}
		over := len(md) - maxBytes
		for over > 0 && rows > 0 {
			rows--
			over -= len(p.rows[rows])
		}
		for over > 0 && notes > 0 {
			notes--
			over -= len(p.notes[notes])
		}
	}
}

// parts are the rendered pieces of the section: rows and notes are the lines MarkdownUpTo may leave out.
type parts struct {
	head, ignored, tail string
	rows, notes         []string
	// allRows and allNotes are how many the decision has, of which rows and notes are the first.
	allRows, allNotes int
}

func markdownParts(d *Decision) *parts {
	p := &parts{allRows: len(d.Requirements), allNotes: len(d.Notes)}
	var b strings.Builder
	icon := map[string]string{Approved: "✅", Pending: "⏳", Blocked: "⛔", NotRequired: "➖"}[d.State]
	fmt.Fprintf(&b, "### %s DBA approval: %s\n\n", icon, d.State)
	switch d.State {
	case NotRequired:
		fmt.Fprintf(&b, "Not required (%s).\n", report.TextUpTo(d.Reason, maxNoteRunes))
	case Approved:
		fmt.Fprintf(&b, "Approved by %s.\n", shortList(d.ApprovedBy, ""))
	case Blocked:
		switch {
		case len(d.BlockedBy) > 0:
			fmt.Fprintf(&b, "Changes requested by %s. Their approval is needed before merging.\n", shortList(d.BlockedBy, ""))
		case len(d.Unowned) > 0:
			fmt.Fprintf(&b, "Nobody may approve %s: add a CODEOWNERS rule on the base branch or set `approval.dba_users`.\n", shortList(d.Unowned, "files"))
		default:
			fmt.Fprintf(&b, "Blocked: %s.\n", report.TextUpTo(d.Reason, maxNoteRunes))
		}
	default:
		fmt.Fprintf(&b, "Waiting for %d approval%s from %s.\n", d.Needed, report.Plural(d.Needed), shortList(d.Owners, ""))
	}
	if w := d.HeadWaits(); w != "" && d.HeadState() != d.State {
		fmt.Fprintf(&b, "\nThe commit status `%s` stays pending: %s.\n", StatusContext, report.TextUpTo(w, maxNoteRunes))
	}
	p.head = b.String()
	for _, r := range d.Requirements[:min(len(d.Requirements), maxRowsShown)] {
		owners := codeCells(r.Owners, "")
		if r.Section != "" {
			owners = report.TextUpTo(r.Section, maxNameRunes) + ": " + owners
		}
		approved := fmt.Sprintf("%d of %d", min(len(r.ApprovedBy), r.Needed), r.Needed)
		if len(r.ApprovedBy) > 0 {
			approved += " (" + codeCells(r.ApprovedBy, "") + ")"
		}
		p.rows = append(p.rows, fmt.Sprintf("| %s | %s | %s |\n", owners, codeCells(r.Files, "files"), approved))
	}
	if len(d.Ignored) > 0 {
		b.Reset()
		b.WriteString("\nIgnored by the author, counted for the approval:\n\n")
		for i, ig := range d.Ignored {
			if i == maxIgnoredShown {
				fmt.Fprintf(&b, "- … %d more (in the check's report)\n", len(d.Ignored)-i)
				break
			}
			fmt.Fprintf(&b, "- %s\n", report.TextUpTo(ig, maxIgnoredRunes))
		}
		p.ignored = b.String()
	}
	for _, n := range d.Notes[:min(len(d.Notes), maxNotesShown)] {
		p.notes = append(p.notes, "- "+report.TextUpTo(n, maxNoteRunes)+"\n")
	}
	if d.Checksum != "" && d.Required {
		p.tail = fmt.Sprintf("\n<sub>Approval applies to migrations checksum `%s`; any change to their SQL needs a new approval.</sub>\n", d.Checksum[:min(12, len(d.Checksum))])
	}
	return p
}

// render is the section with the first rows rows of the requirements table and the first notes notes.
func (p *parts) render(rows, notes int) string {
	var b strings.Builder
	b.WriteString(p.head)
	if rows > 0 {
		b.WriteString("\n| Owners | Files | Approved |\n|---|---|---|\n")
		for _, r := range p.rows[:rows] {
			b.WriteString(r)
		}
	}
	if left := p.allRows - rows; left > 0 {
		// A line of its own after a blank one: a line right after the table would be read as its row.
		fmt.Fprintf(&b, "\n- … and %d more owner rule%s (the gate's --json output lists them all)\n", left, report.Plural(left))
	}
	b.WriteString(p.ignored)
	if p.allNotes > 0 {
		b.WriteString("\n")
		for _, n := range p.notes[:notes] {
			b.WriteString(n)
		}
		if left := p.allNotes - notes; left > 0 {
			fmt.Fprintf(&b, "- … and %d more note%s (the gate's output lists them all)\n", left, report.Plural(left))
		}
	}
	b.WriteString(p.tail)
	return b.String()
}

// What the section lists of the author's ignored findings is bounded, as in the check's comment (see
// report.Markdown): a seed migration may ignore thousands, each with a reason of any length.
const (
	maxIgnoredShown = 20
	maxIgnoredRunes = 500
)

// What the section lists of the change request is bounded too: it may hold thousands of migration
// files, with a note each (those past the number the gate reads back), and a file's name may be long.
// maxListed is how many files (or logins) a list shows, in the heading or a cell of the table.
const (
	maxListed     = 20
	maxNameRunes  = 500
	maxRowsShown  = 50
	maxNotesShown = 50
	maxNoteRunes  = 1000
)

// The section quotes the change request (its files, the ignore comments' reasons) and is shown in the
// comment and the job summary: it escapes as the check's comment does (report.Text, report.Code), which
// also shows bidi controls as text and keeps a URL in the text from becoming a link.

// codeCells is shortList for a table cell: a pipe splits a GitHub table row even inside a code span,
// unless escaped (see report.CodeCell).
func codeCells(items []string, what string) string {
	return listed(items, what, func(s string) string { return report.CodeCellUpTo(s, maxNameRunes) })
}

// shortList lists items in code spans, maxListed at most, then how many more (of what, if not "").
func shortList(items []string, what string) string {
	return listed(items, what, func(s string) string { return report.CodeUpTo(s, maxNameRunes) })
}

func listed(items []string, what string, code func(string) string) string {
	var out []string
	for _, s := range items[:min(len(items), maxListed)] {
		out = append(out, code(s))
	}
	if left := len(items) - len(out); left > 0 {
		more := fmt.Sprintf("… and %d more", left)
		if what != "" {
			more += " " + what
		}
		out = append(out, more)
	}
	return strings.Join(out, ", ")
}

func codeList(items []string) string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = report.Code(s)
	}
	return strings.Join(out, ", ")
}

// text escapes prose: see report.Text.
func text(s string) string { return report.Text(s) }
