package deploy

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/schemagate/schemagate/internal/migrate"
)

// CommentMarker identifies the deploy comment of an environment on a change request.
func CommentMarker(env string) string { return "<!-- schemagate:deploy " + env + " -->" }

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
		if m.Off == nil {
			v = "still on: " + m.Error
		}
		add("Maintenance mode", v)
	}
	if m := r.Maintenance; m != nil && m.Inherited {
		v := "left on by an earlier run; turned off"
		switch {
		case m.Off != nil:
		case m.On != nil: // the line above says it is still on
			v = "left on by an earlier run"
		case m.Error != "":
			v = "left on by an earlier run; still on: " + m.Error
		}
		add("Maintenance mode", v)
	}
	if r.Writes != nil {
		add("Writes after snapshot", fmt.Sprintf("%d transactions, %d WAL bytes", r.Writes.XIDs, r.Writes.WALBytes))
	}
	if rb := r.Rollback; rb != nil {
		v := rb.Method + " in " + ms(rb.DurationMS)
		if rb.Why != "" {
			v += " (" + rb.Why + ")"
		}
		if !rb.OK {
			v += ": FAILED: " + rb.Error
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
		case rc.Failed != "":
			add("Recovery", fmt.Sprintf("run %s: FAILED: %s%s", rc.RunID, rc.Failed, notRestored))
		case len(rc.Kept) > 0:
			add("Recovered", fmt.Sprintf("run %s (%d migrations kept as applied: %s)", rc.RunID, len(rc.Kept), strings.Join(rc.Kept, ", ")))
		default:
			add("Recovered", fmt.Sprintf("run %s (%d migrations undone by %s)%s", rc.RunID, len(rc.Undone), orDash(rc.Method), notRestored))
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

// WriteText renders the result for a terminal.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", r.headline())
	if r.Reason != "" {
		fmt.Fprintf(&b, "  reason: %s\n", r.Reason)
	}
	if r.Hint != "" {
		fmt.Fprintf(&b, "  hint: %s\n", r.Hint)
	}
	for _, f := range r.facts() {
		fmt.Fprintf(&b, "  %-22s %s\n", f[0]+":", f[1])
	}
	for _, d := range r.Drift {
		fmt.Fprintf(&b, "  drift: %s\n", d)
	}
	for _, m := range r.Migrations {
		fmt.Fprintf(&b, "  %-12s %s %s", m.Status, m.id(), ms(m.DurationMS))
		if m.Attempts > 1 {
			fmt.Fprintf(&b, " (%d attempts)", m.Attempts)
		}
		b.WriteString("\n")
		if m.Error != nil {
			fmt.Fprintf(&b, "      %s%s\n", m.Error.where(": "), m.Error.Message)
		}
		if m.RollbackError != nil {
			fmt.Fprintf(&b, "      down %s%s\n", m.RollbackError.where(": "), m.RollbackError.Message)
		}
	}
	for _, c := range r.Verify {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "  %s %s [%s] %s\n", mark, c.Name, c.Phase, c.Message)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Markdown renders the result for a job summary or a change request comment.
func (r *Result) Markdown() string {
	var b strings.Builder
	icon := map[string]string{OutcomeDeployed: "✅", OutcomeNothing: "✅", OutcomeDryRun: "📝", OutcomeBlocked: "⛔", OutcomeRolledBack: "↩️"}[r.Outcome]
	if icon == "" {
		icon = "🚨"
	}
	fmt.Fprintf(&b, "### %s schemagate: %s\n\n", icon, mdEscape(r.headline()))
	if r.Reason != "" {
		fmt.Fprintf(&b, "**Reason:** %s\n\n", mdEscape(r.Reason))
	}
	if r.Hint != "" {
		fmt.Fprintf(&b, "**Hint:** %s\n\n", mdEscape(r.Hint))
	}
	b.WriteString("| | |\n|---|---|\n")
	for _, f := range r.facts() {
		fmt.Fprintf(&b, "| %s | %s |\n", f[0], mdCell(f[1]))
	}
	for _, d := range r.Drift {
		fmt.Fprintf(&b, "| Drift | %s |\n", mdCell(d))
	}
	if len(r.Migrations) > 0 {
		b.WriteString("\n| Migration | Status | Duration | Error |\n|---|---|---|---|\n")
		for _, m := range r.Migrations {
			e := ""
			if m.Error != nil {
				e = m.Error.Message
				if m.Error.File != "" {
					e = fmt.Sprintf("`%s:%d:%d` %s", m.Error.File, m.Error.Line, m.Error.Column, e)
				}
			}
			if m.RollbackError != nil {
				down := m.RollbackError.Message
				if m.RollbackError.File != "" {
					down = fmt.Sprintf("`%s:%d` %s", m.RollbackError.File, m.RollbackError.Line, down)
				}
				e += " down " + down
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", mdCell(m.id()), m.Status, ms(m.DurationMS), mdCell(e))
		}
	}
	if len(r.Verify) > 0 {
		b.WriteString("\n| Check | Phase | Result |\n|---|---|---|\n")
		for _, c := range r.Verify {
			res := "✅"
			if !c.OK {
				res = "❌"
			}
			if c.Message != "" {
				res += " " + c.Message
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", mdCell(c.Name), c.Phase, mdCell(res))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\n> %s\n", mdEscape(n))
	}
	return b.String()
}

func mdEscape(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "\n", " ").Replace(s)
}

func mdCell(s string) string {
	return strings.ReplaceAll(mdEscape(s), "|", "\\|")
}

// where is the error's place, file:line:column followed by sep, or "" for an error that is no
// statement's (a history row that could not be written).
func (e *SQLError) where(sep string) string {
	if e.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d:%d%s", e.File, e.Line, e.Column, sep)
}

// id names a migration as migrate.Migration.ID does (version_name; the name alone for a Flyway
// repeatable migration or a sqitch change).
func (m MigrationResult) id() string {
	return (&migrate.Migration{Version: m.Version, Name: m.Name}).ID()
}
