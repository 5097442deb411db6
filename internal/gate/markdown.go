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

// Status is the commit status for the decision; its description (at most 140 characters) says who must
// approve.
func Status(d *Decision, targetURL string) forge.Status {
	st := forge.Status{Context: StatusContext, TargetURL: targetURL}
	switch d.State {
	case Approved:
		st.State, st.Description = "success", "Approved by "+strings.Join(d.ApprovedBy, ", ")
	case NotRequired:
		st.State, st.Description = "success", "Not required: "+d.Reason
	case Blocked:
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

// Markdown renders the decision as the "DBA approval" section of the pull request comment. Logins,
// teams and paths are put in code spans so that they neither ping anyone nor inject Markdown; prose is
// escaped as report.Text escapes it.
func Markdown(d *Decision) string {
	var b strings.Builder
	icon := map[string]string{Approved: "✅", Pending: "⏳", Blocked: "⛔", NotRequired: "➖"}[d.State]
	fmt.Fprintf(&b, "### %s DBA approval: %s\n\n", icon, d.State)
	switch d.State {
	case NotRequired:
		fmt.Fprintf(&b, "Not required (%s).\n", text(d.Reason))
	case Approved:
		fmt.Fprintf(&b, "Approved by %s.\n", codeList(d.ApprovedBy))
	case Blocked:
		if len(d.BlockedBy) > 0 {
			fmt.Fprintf(&b, "Changes requested by %s. Their approval is needed before merging.\n", codeList(d.BlockedBy))
		} else {
			fmt.Fprintf(&b, "Nobody may approve %s: add a CODEOWNERS rule on the base branch or set `approval.dba_users`.\n", codeList(d.Unowned))
		}
	default:
		fmt.Fprintf(&b, "Waiting for %d approval%s from %s.\n", d.Needed, report.Plural(d.Needed), codeList(d.Owners))
	}
	if len(d.Requirements) > 0 {
		b.WriteString("\n| Owners | Files | Approved |\n|---|---|---|\n")
		for _, r := range d.Requirements {
			owners := codeCells(r.Owners)
			if r.Section != "" {
				owners = text(r.Section) + ": " + owners
			}
			approved := fmt.Sprintf("%d of %d", min(len(r.ApprovedBy), r.Needed), r.Needed)
			if len(r.ApprovedBy) > 0 {
				approved += " (" + codeCells(r.ApprovedBy) + ")"
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", owners, codeCells(r.Files), approved)
		}
	}
	if len(d.Ignored) > 0 {
		b.WriteString("\nIgnored by the author, counted for the approval:\n\n")
		for i, ig := range d.Ignored {
			if i == maxIgnoredShown {
				fmt.Fprintf(&b, "- … %d more (in the check's report)\n", len(d.Ignored)-i)
				break
			}
			fmt.Fprintf(&b, "- %s\n", report.TextUpTo(ig, maxIgnoredRunes))
		}
	}
	if len(d.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range d.Notes {
			fmt.Fprintf(&b, "- %s\n", text(n))
		}
	}
	if d.Checksum != "" && d.Required {
		fmt.Fprintf(&b, "\n<sub>Approval applies to migrations checksum `%s`; any change to their SQL needs a new approval.</sub>\n", d.Checksum[:min(12, len(d.Checksum))])
	}
	return b.String()
}

// What the section lists of the author's ignored findings is bounded, as in the check's comment (see
// report.Markdown): a seed migration may ignore thousands, each with a reason of any length.
const (
	maxIgnoredShown = 20
	maxIgnoredRunes = 500
)

// The section quotes the change request (its files, the ignore comments' reasons) and is shown in the
// comment and the job summary: it escapes as the check's comment does (report.Text, report.Code), which
// also shows bidi controls as text and keeps a URL in the text from becoming a link.

// codeCells is codeList for a table cell: a pipe splits a GitHub table row even inside a code span,
// unless escaped (see report.CodeCell).
func codeCells(items []string) string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = report.CodeCell(s)
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
