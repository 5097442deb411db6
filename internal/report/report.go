// Package report is the model of what schemagate found: the rehearsal of each migration, the risk
// findings, the schema changes and the approval state. Markdown, text, JSON and SARIF are renderings of it.
package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/schema"
)

// Migration statuses.
const (
	StatusApplied = "applied"
	StatusFailed  = "failed"
	StatusNotRun  = "not-run"
	StatusBase    = "base"
)

// Round-trip statuses.
const (
	RoundtripOK      = "ok"
	RoundtripFailed  = "failed"
	RoundtripNoDown  = "no-down"
	RoundtripSkipped = "skipped"
)

// Report is the result of one schemagate run over one migration folder.
type Report struct {
	Tool    string `json:"tool"`
	Version string `json:"version"`
	// Dir is the migration folder, relative to the repository root when known.
	Dir string `json:"dir"`
	// DirGiven is the folder as the command was given it (relative to where it ran, or absolute), which
	// begins the files' paths; Dir names the same folder from the repository root.
	DirGiven string `json:"dir_given,omitempty"`
	Format   string `json:"format"`
	// Risk is the highest risk among the new migrations; findings an ignore comment silences do not
	// count, so it is what --fail-on and lint.fail_on judge.
	Risk lint.Risk `json:"risk"`
	// ApprovalRisk is Risk with the ignored findings counted: what the approval policy judges, since an
	// ignore comment is the author's word and the DBA's approval is what checks it.
	ApprovalRisk lint.Risk `json:"approval_risk"`
	// OK is false when a migration or a round trip failed.
	OK bool `json:"ok"`
	// FailOn is the lowest risk that fails the check (--fail-on, lint.fail_on), when one is set;
	// FailOnReached says the risk reached it, so the check failed although OK holds.
	FailOn        string    `json:"fail_on,omitempty"`
	FailOnReached bool      `json:"fail_on_reached,omitempty"`
	Database      *Database `json:"database,omitempty"`
	// Base is the git ref whose migrations count as history.
	Base string `json:"base,omitempty"`
	// Head is the commit the report was made for: the pull request's head commit (the action sets it;
	// the checkout of a pull_request event is a merge commit). The gate refuses a report whose head is
	// not the pull request's current head.
	Head       string      `json:"head,omitempty"`
	Migrations []Migration `json:"migrations"`
	// Approval is filled by the gate (or by check when a policy is configured).
	Approval *Approval `json:"approval,omitempty"`
	// DurationMS is the whole run's wall time.
	DurationMS int64 `json:"duration_ms"`
	// Notes are messages for the reader that concern the whole run.
	Notes []string `json:"notes,omitempty"`
	// Redacted says that secrets (a token, a password, in a server's message or anything else the report
	// holds) were replaced by "***" before the report was written: the renderings say so, lest a
	// reviewer take the *** for what the server said.
	Redacted bool `json:"redacted,omitempty"`
}

// RedactedNote is what the renderings say of a Redacted report.
const RedactedNote = "A secret was hidden: schemagate replaced what it holds for a token or password (one it was given or can see in its environment, or one shaped like a GitHub or GitLab token or an Authorization header) with *** wherever the server's messages or the migrations quoted it."

// Database describes the throwaway database a rehearsal ran on.
type Database struct {
	Provider      string `json:"provider"`
	ServerVersion string `json:"server_version"`
	ReadyMS       int64  `json:"ready_ms"`
	// Network is "none" when the server could reach no network (the local provider's, in a network
	// namespace of its own), "shared" when it shared the machine's, "" when the provider does not say.
	Network string `json:"network,omitempty"`
}

// Migration is what happened to one migration.
type Migration struct {
	Version  string `json:"version"`
	Name     string `json:"name"`
	File     string `json:"file"`
	DownFile string `json:"down_file,omitempty"`
	Checksum string `json:"checksum"`
	// FileBlob and DownFileBlob are the git blob SHAs of File and DownFile as the check read them: the
	// gate compares them with the pull request's changed files.
	FileBlob     string    `json:"file_blob,omitempty"`
	DownFileBlob string    `json:"down_file_blob,omitempty"`
	New          bool      `json:"new"`
	Status       string    `json:"status"`
	DurationMS   int64     `json:"duration_ms"`
	Statements   int       `json:"statements"`
	Risk         lint.Risk `json:"risk"`
	Error        *SQLError `json:"error,omitempty"`
	// Roundtrip is there for every new migration once the report is finished: "skipped" where its round
	// trip did not run (its up failed, it was not run, --no-roundtrip). History migrations have none.
	Roundtrip *Roundtrip `json:"roundtrip,omitempty"`
	// Findings are the risk engine's findings on this migration's up script.
	Findings []lint.Finding `json:"findings"`
	// Trace is the dynamic evidence recorded per statement during the rehearsal.
	Trace []StatementTrace `json:"trace,omitempty"`
	// SchemaDiff is what the migration changed in the catalog.
	SchemaDiff *schema.Diff `json:"schema_diff,omitempty"`
	// GeneratedDown is a rollback script schemagate wrote and verified, when asked to.
	GeneratedDown *GeneratedDown `json:"generated_down,omitempty"`
}

// SQLError is a statement that failed, with its place in the file.
type SQLError struct {
	Message  string `json:"message"`
	SQLState string `json:"sqlstate,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Hint     string `json:"hint,omitempty"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	// Phase says which step failed: "up", "down" or "re-up".
	Phase string `json:"phase,omitempty"`
	// Statement is the failed statement whole, as it was sent: the Markdown shows up to 4,000
	// characters of it and says where it cuts, pointing here and to the file for the rest.
	Statement string `json:"statement,omitempty"`
}

// Roundtrip is the proof that a migration can be undone and redone exactly.
type Roundtrip struct {
	Status string `json:"status"`
	// Problems describe each difference found, e.g. "index users_email_idx is left behind by the down".
	Problems []string  `json:"problems"`
	Error    *SQLError `json:"error,omitempty"`
	// Places says where in the migration's files a problem is shown: the statement of the up or the
	// down that names its object (the up's that creates an index the down leaves behind, the down's
	// that drops a column it does not restore). A problem without one is shown at the down's first line.
	Places []ProblemPlace `json:"places,omitempty"`
}

// ProblemPlace is where the round trip's problem Problems[Problem] is shown.
type ProblemPlace struct {
	Problem int    `json:"problem"`
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
}

// IsFailure reports whether problem i tells the failed statement of Error (the last problem, whose
// place is the error's own): outputs that show the error show it there.
func (rt *Roundtrip) IsFailure(i int) bool { return rt.Error != nil && i == len(rt.Problems)-1 }

// PlaceOf is where problem i is shown, nil when it has no place of its own.
func (rt *Roundtrip) PlaceOf(i int) *ProblemPlace {
	for j := range rt.Places {
		if rt.Places[j].Problem == i {
			return &rt.Places[j]
		}
	}
	return nil
}

// StatementTrace is what one statement did in the throwaway database.
type StatementTrace struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	// Statement is an excerpt: the statement's first 200 characters, ending in "…" where cut (a trace
	// is one per statement run, a seed's INSERTs included); File, Line and Column find the whole.
	Statement  string  `json:"statement"`
	DurationMS float64 `json:"duration_ms"`
	Locks      []Lock  `json:"locks,omitempty"`
	// Rewritten lists relations whose storage was rewritten (new filenode).
	Rewritten []string `json:"rewritten,omitempty"`
	// Scanned lists tables read in full (sequential scans counted inside the statement).
	Scanned []string `json:"scanned,omitempty"`
	// FastDefault lists columns added with a stored "missing" value (no rewrite).
	FastDefault []string `json:"fast_default,omitempty"`
	// InvalidIndexes lists indexes left INVALID after the statement.
	InvalidIndexes []string `json:"invalid_indexes,omitempty"`
	// Concurrent is set for statements run outside a transaction and observed from a second connection.
	Concurrent bool `json:"concurrent,omitempty"`
	// Repeated counts the statements after this one, up to line ThroughLine, that the trace takes in
	// this one: INSERTs of literal rows of its shape that, like it, took nothing new (a seed migration's
	// run). DurationMS is theirs too.
	Repeated    int `json:"repeated,omitempty"`
	ThroughLine int `json:"through_line,omitempty"`
}

// Lock is a lock a statement took.
type Lock struct {
	Relation string `json:"relation"`
	Mode     string `json:"mode"`
	// Dropped is set when the relation no longer exists after the statement.
	Dropped bool `json:"dropped,omitempty"`
}

// GeneratedDown is a rollback script written from the schema diff.
type GeneratedDown struct {
	SQL string `json:"sql"`
	// Verified is true when the script took the database back to the before-catalog and the up ran again,
	// and the up did nothing that the catalog comparison does not see (roles, database settings, ...).
	Verified bool `json:"verified"`
	// Problems say why it is not verified: what its proof found, and what the up did that it does not
	// undo and the proof does not see (roles, database settings, event triggers, ...).
	Problems []string `json:"problems,omitempty"`
	// Note says why a verified script is empty: the up changed no schema object.
	Note string `json:"note,omitempty"`
	// Error is the statement of the generated down, or of the up run again after it, that failed its proof.
	Error *SQLError `json:"error,omitempty"`
	// DataLoss is set when some step cannot restore data, or the up destroyed data (Destroyed); the
	// snapshot is the rollback then.
	DataLoss bool `json:"data_loss"`
	// Destroyed are the statements of the up that destroyed data no catalog difference shows (rows it
	// deleted, values it overwrote), each as "file:line: what it did" (DELETE from t, UPDATE of t.c): no
	// down generated from the catalogs writes them back.
	Destroyed []string `json:"destroyed,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
	// NoTransaction is set when a step cannot run in a transaction block (DROP INDEX CONCURRENTLY).
	NoTransaction bool `json:"no_transaction,omitempty"`
}

// Approval is the DBA approval state of a change request.
type Approval struct {
	Required bool     `json:"required"`
	State    string   `json:"state"` // approved | pending | blocked | not-required (| undecided: see ApprovalUndecided)
	Reason   string   `json:"reason,omitempty"`
	Owners   []string `json:"owners,omitempty"`
	Approved []string `json:"approved_by,omitempty"`
	Needed   int      `json:"needed,omitempty"`
	// Checksum binds the approval to the approved migrations' content.
	Checksum string `json:"checksum,omitempty"`
	// Ignored lists the findings the author's ignore comments silence, with their reasons, for the DBA:
	// they count for the approval.
	Ignored []string `json:"ignored,omitempty"`
}

// ApprovalUndecided is the state of an approval whose rendering cannot vouch for it (schemagate comment
// posting an artifact that says no approval is required): the comment then says the gate decides. No
// report holds it: the check writes the other states, and the gate decides them.
const ApprovalUndecided = "undecided"

// ChangeCounts counts the change's migrations (New) as a reviewer reads it: those it adds, those of the
// base it edits (edited-applied-migration, the down alone included) and those it deletes
// (deleted-applied-migration).
func (r *Report) ChangeCounts() (added, edited, deleted int) {
	for _, m := range r.New() {
		switch {
		case slices.ContainsFunc(m.Findings, func(f lint.Finding) bool { return f.Rule == "deleted-applied-migration" }):
			deleted++
		case slices.ContainsFunc(m.Findings, func(f lint.Finding) bool { return f.Rule == "edited-applied-migration" }):
			edited++
		default:
			added++
		}
	}
	return added, edited, deleted
}

// New returns the migrations that are new in this run.
func (r *Report) New() []Migration {
	var out []Migration
	for _, m := range r.Migrations {
		if m.New {
			out = append(out, m)
		}
	}
	return out
}

// Findings returns every finding of every new migration, in order.
func (r *Report) Findings() []lint.Finding {
	var out []lint.Finding
	for _, m := range r.Migrations {
		if m.New {
			out = append(out, m.Findings...)
		}
	}
	return out
}

// RiskForApproval is the risk the approval policy judges: the highest of Risk, ApprovalRisk and every
// finding of the new migrations, ignored ones included. It does not rely on ApprovalRisk alone, so a
// report written before that field existed is judged the same way.
func (r *Report) RiskForApproval() lint.Risk {
	risk := lint.Max(r.Risk, r.ApprovalRisk)
	for _, f := range r.Findings() {
		risk = lint.Max(risk, f.Risk)
	}
	return risk
}

// IgnoredFindings describes each finding of the new migrations that an ignore comment silences and that
// is not safe, with the author's reason: "file:line: dangerous alter-system, ignored by the author:
// tuning needed".
func (r *Report) IgnoredFindings() []string {
	var out []string
	for _, f := range r.Findings() {
		if !f.Ignored || f.Risk <= lint.Safe {
			continue
		}
		reason := f.Reason
		if reason == "" {
			reason = "no reason given"
		}
		out = append(out, fmt.Sprintf("%s:%d: %s %s%s, ignored by the author: %s", f.File, f.Line, f.Risk, f.Rule, f.RepeatedNote(), reason))
	}
	return out
}

// Finish computes the report's overall risk and status from its migrations.
func (r *Report) Finish() {
	r.Risk = lint.Safe
	r.ApprovalRisk = lint.Safe
	r.OK = true
	for i := range r.Migrations {
		m := &r.Migrations[i]
		if m.Findings == nil {
			m.Findings = []lint.Finding{} // "findings": [] in the JSON, never null
		}
		if !m.New {
			// A history migration that fails to replay leaves the new ones unchecked: the run fails.
			if m.Status == StatusFailed {
				r.OK = false
			}
			continue
		}
		if m.Roundtrip == nil {
			// "roundtrip" in the JSON of every new migration: a reader asking .roundtrip.status of each
			// gets an answer for the failed and not-run ones too.
			m.Roundtrip = &Roundtrip{Status: RoundtripSkipped, Problems: []string{}}
		}
		m.Risk = lint.Highest(m.Findings)
		if m.Status == StatusFailed {
			m.Risk = lint.Dangerous
		}
		r.Risk = lint.Max(r.Risk, m.Risk)
		r.ApprovalRisk = lint.Max(r.ApprovalRisk, m.Risk)
		for _, f := range m.Findings {
			r.ApprovalRisk = lint.Max(r.ApprovalRisk, f.Risk) // ignored ones too
		}
		if m.Status == StatusFailed || (m.Roundtrip != nil && m.Roundtrip.Status == RoundtripFailed) {
			r.OK = false
		}
	}
}

// ReachesFailOn reports whether the risk reaches FailOn, the lowest risk that fails the check, with a new
// migration to judge: what FailOnReached records.
func (r *Report) ReachesFailOn() bool {
	limit, err := lint.ParseRisk(r.FailOn)
	return err == nil && len(r.New()) > 0 && r.Risk >= limit
}

// Rederive computes again, as the check computed them (Finish, ReachesFailOn), what a report read from a
// file says of its migrations: whether it passed, its risk and approval risk, and each new migration's
// risk. The file may be a fork's artifact (schemagate comment, the gate), whose author could write any
// JSON, and a summary that contradicts the migrations it sums up ("ok": true over a failed migration,
// "risk": "safe" over a dangerous finding) would be posted as the bot's word. What cannot be computed
// again, the migrations' statuses, round trips and findings, stays the report's own, and so does its
// fail-on (the fork's configuration): a fail-on it says was reached stays reached.
//
// It returns a note naming what the report said that its migrations do not, or "" when it said what they
// say (as every report the check wrote does).
func (r *Report) Rederive() string {
	ok, risk, reached := r.OK, r.Risk, r.FailOnReached
	said := make([]lint.Risk, len(r.Migrations))
	for i, m := range r.Migrations {
		said[i] = m.Risk
	}
	r.Finish()
	r.FailOnReached = reached || r.ReachesFailOn()
	var parts []string
	switch {
	case ok && !r.OK:
		parts = append(parts, "passed")
	case !ok && r.OK:
		parts = append(parts, "failed")
	}
	if risk != r.Risk {
		parts = append(parts, "risk "+risk.String())
	}
	if reached != r.FailOnReached {
		parts = append(parts, "the risk does not reach its fail-on")
	}
	const listed = 10 // migrations named in the note; a forged report may have thousands
	named, more := 0, 0
	for i, m := range r.Migrations {
		if !m.New || said[i] == m.Risk {
			continue
		}
		if named == listed {
			more++
			continue
		}
		named++
		label, cut := clipRunes(m.Label(), maxFieldRunes)
		if cut {
			label += "…"
		}
		parts = append(parts, label+" risk "+said[i].String())
	}
	if len(parts) == 0 {
		return ""
	}
	if more > 0 {
		parts = append(parts, fmt.Sprintf("%d more migration%s' risks", more, Plural(more)))
	}
	return "The report's own summary is not what its migrations give, which this comment shows (computed from their statuses, round trips and findings, which are the report's): it said " +
		strings.Join(parts, "; ") + "."
}

// Label names the migration for people: "version_name", or the one of them that says it all (a sqitch
// change is versioned by its own name, a Flyway repeatable migration has no version).
func (m *Migration) Label() string {
	switch {
	case m.Version == "":
		return m.Name
	case m.Name == "" || m.Name == m.Version || strings.HasPrefix(m.Version, m.Name+"@"):
		return m.Version
	}
	return m.Version + "_" + m.Name
}
