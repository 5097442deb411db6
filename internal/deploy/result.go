package deploy

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/schemagate/schemagate/internal/snapshot"
)

// Outcomes of a deploy.
const (
	OutcomeDeployed   = "deployed"    // every pending migration applied and verified
	OutcomeNothing    = "up-to-date"  // nothing was pending
	OutcomeDryRun     = "dry-run"     // the plan was printed, nothing changed
	OutcomeBlocked    = "blocked"     // refused before changing anything (window, drift, approval, ...)
	OutcomeRolledBack = "rolled-back" // a migration or check failed; the database is back as it was
	OutcomeFailed     = "failed"      // the deploy or its rollback failed; the database needs a person
	// OutcomePartial: the window closed part-way; the migrations applied so far are applied and
	// verified, the rest did not start and waits for the next deploy.
	OutcomePartial = "partial"
)

// Migration statuses in a Result and in schemagate_history.
const (
	StatusPending    = "pending"
	StatusRunning    = "running"
	StatusApplied    = "applied"
	StatusFailed     = "failed"
	StatusRolledBack = "rolled-back" // undone by its down migration
	StatusRestored   = "restored"    // undone by restoring the snapshot
	// StatusHalfApplied: a non-transactional migration that failed or was stopped after some of its
	// statements completed, and that the rollback did not undo: the run that left it so blocks the next
	// deploy until a person finishes or undoes it (deploy --recover).
	StatusHalfApplied = "half-applied"
	StatusNotRun      = "not-run"
)

// Result is what a deploy did; reports render it.
type Result struct {
	Env    string `json:"env"`
	RunID  string `json:"run_id"`
	Commit string `json:"commit,omitempty"`
	PR     string `json:"pr,omitempty"`
	JobURL string `json:"job_url,omitempty"`
	// Outcome is one of the Outcome constants; OK is true for deployed, up-to-date and dry-run.
	Outcome string `json:"outcome"`
	OK      bool   `json:"ok"`
	// Reason says why the deploy did not deploy; Hint what to do about it.
	Reason     string    `json:"reason,omitempty"`
	Hint       string    `json:"hint,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS int64     `json:"duration_ms"`

	Window *WindowResult `json:"window,omitempty"`
	Lock   *LockResult   `json:"lock,omitempty"`
	// Drift lists every mismatch between history and the migration folder.
	Drift []string `json:"drift,omitempty"`
	// Imported describes the history taken over from the folder's own tool on a first deploy.
	Imported *Imported `json:"imported,omitempty"`
	// Recovered describes the earlier run this one cleaned up after.
	Recovered *Recovery `json:"recovered,omitempty"`

	Snapshot *snapshot.Info `json:"snapshot,omitempty"`
	// Writes is set when the snapshot was taken before maintenance mode and writes came in between.
	Writes *Writes `json:"writes,omitempty"`

	Maintenance *MaintenanceResult `json:"maintenance,omitempty"`

	Migrations []MigrationResult `json:"migrations"`
	// MigrationsMS is the time spent applying migrations (their own time).
	MigrationsMS int64   `json:"migrations_ms"`
	Verify       []Check `json:"verify,omitempty"`
	// Rollback describes the rollback, when one ran.
	Rollback *RollbackResult `json:"rollback,omitempty"`
	Notes    []string        `json:"notes,omitempty"`
}

// WindowResult is the maintenance window the deploy ran in.
type WindowResult struct {
	Always   bool       `json:"always,omitempty"`
	Open     bool       `json:"open"`
	Start    *time.Time `json:"start,omitempty"`
	End      *time.Time `json:"end,omitempty"`
	Next     *time.Time `json:"next,omitempty"`
	WaitedMS int64      `json:"waited_ms,omitempty"`
	// Broken is set when --break-window overrode a closed window, or the end of the open one (the run
	// does not stop there); Reason is the user's reason.
	Broken bool   `json:"broken,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Blackout names the blackout the deploy started in, with its reason.
	Blackout string `json:"blackout,omitempty"`
}

// LockResult is how the deploy lock was taken.
type LockResult struct {
	WaitMS int64 `json:"wait_ms"`
	// WaitedFor names the holder the deploy waited for, if any.
	WaitedFor string `json:"waited_for,omitempty"`
	// Stale describes a lock row left by a run that ended without clearing it (its process died, or it
	// lost its lock's session or its server), with the run's id.
	Stale string `json:"stale,omitempty"`
}

// MaintenanceResult is the maintenance mode's timeline.
type MaintenanceResult struct {
	On  *time.Time `json:"on,omitempty"`
	Off *time.Time `json:"off,omitempty"`
	// DurationMS is the time in maintenance mode; OverheadMS the part not spent applying migrations.
	DurationMS int64 `json:"duration_ms"`
	OverheadMS int64 `json:"overhead_ms"`
	// Inherited is set when an earlier run had left maintenance mode on (it crashed, or could not turn
	// it off).
	Inherited bool `json:"inherited,omitempty"`
	// InheritedFrom is the earlier run that left it on; Since when that run's on action turned it on,
	// when that run recorded it. The on action runs again all the same (it may have been turned off by
	// hand since); only a deploy with nothing to apply after a recovery reports On as Since.
	InheritedFrom string     `json:"inherited_from,omitempty"`
	Since         *time.Time `json:"since,omitempty"`
	// LeftTo names the deploy that took over this run while it had lost its connections (run Y4 of
	// ci-runner-2): maintenance mode is as that deploy left it, not as this run last knew it.
	LeftTo string `json:"left_to,omitempty"`
	// OnAgain says why the on action ran again although an earlier run had left maintenance mode on.
	OnAgain string `json:"on_again,omitempty"`
	Error   string `json:"error,omitempty"`
	// Hint says how to turn maintenance mode off by hand when the deploy could not.
	Hint string `json:"hint,omitempty"`
	// Warning says that the off action ran but may not have turned maintenance mode off (its SQL changed
	// no row): the deploy stands, and a person should check the application.
	Warning string `json:"warning,omitempty"`
}

// LeftOn tells that the deploy could not turn maintenance mode off: the application may still be down.
// Hint is set only when the off action failed (Error is also set when the on action failed, and a
// failed on action whose transaction was rolled back leaves nothing on).
func (m *MaintenanceResult) LeftOn() bool { return m != nil && m.Hint != "" && m.Off == nil }

// Writes is the evidence of writes between a snapshot and the migrations.
type Writes struct {
	Detected bool `json:"detected"`
	// XIDs is the number of transaction ids assigned meanwhile by others; WALBytes how far the WAL moved.
	XIDs     int64 `json:"xids"`
	WALBytes int64 `json:"wal_bytes"`
}

// MigrationResult is what happened to one pending migration.
type MigrationResult struct {
	Version    string `json:"version"`
	Name       string `json:"name"`
	File       string `json:"file"`
	Checksum   string `json:"checksum"`
	Status     string `json:"status"`
	DurationMS int64  `json:"duration_ms"`
	// Attempts counts tries (more than 1 after lock timeouts).
	Attempts      int  `json:"attempts,omitempty"`
	NoTransaction bool `json:"no_transaction,omitempty"`
	// Completed names the statements of a non-transactional migration that failed or was stopped and
	// is half applied: those that completed and stay in the database ("\"UPDATE acct SET bal = 0\" at
	// 00002_nt.sql:3").
	Completed     []string  `json:"completed,omitempty"`
	Error         *SQLError `json:"error,omitempty"`
	RollbackMS    int64     `json:"rollback_ms,omitempty"`
	RollbackError *SQLError `json:"rollback_error,omitempty"`
}

// Check is the result of one verification.
type Check struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Message string `json:"message,omitempty"`
	// Phase is "apply" (after the migrations) or "rollback" (after rolling back).
	Phase string `json:"phase"`
}

// RollbackResult is how the database was put back.
type RollbackResult struct {
	// Method is "down" (the down migrations, newest first) or "snapshot".
	Method string `json:"method"`
	// Why says why the snapshot was needed, when it was.
	Why string `json:"why,omitempty"`
	OK  bool   `json:"ok"`
	// DurationMS is the whole rollback; RestoreMS the part of it that restored the snapshot.
	DurationMS int64  `json:"duration_ms"`
	RestoreMS  int64  `json:"restore_ms,omitempty"`
	Error      string `json:"error,omitempty"`
	// NotRun is set when the rollback ran nothing, no down and no restore, because it refused the downs
	// (they would destroy other sessions' writes, a down is missing or would lose data) and the snapshot
	// was not restored either, or because another deploy took the run over (the deploy lock, while this
	// run had lost its connections: NotRun names it); then too when some downs had run before the
	// takeover (their migrations say rolled-back), for what was not run after them: why, in the report's
	// words. Error says the same as what failed; OK is false.
	NotRun string `json:"not_run,omitempty"`
	// Lost says what data the rolled-back migrations' ups destroyed that the downs did not bring back,
	// when the snapshot that has it could not be restored: the rollback brought the schema back, not
	// the database as it was.
	Lost string `json:"data_lost,omitempty"`
	// NotRestored names the statements of the migrations a snapshot restore undid that lie outside the
	// snapshot (roles, role membership, database-wide default privileges, database and server settings):
	// their effect stays ("ALTER ROLE r1 at V2__x.sql:1").
	NotRestored []string `json:"not_restored,omitempty"`
}

// Recovery describes an unfinished earlier run that this run cleaned up.
type Recovery struct {
	RunID  string `json:"run_id"`
	Since  string `json:"since"`
	Holder string `json:"holder,omitempty"`
	// Undone lists the versions that were rolled back (Method says how); Kept those kept as applied
	// (--keep-applied).
	Undone []string `json:"undone,omitempty"`
	Kept   []string `json:"kept,omitempty"`
	Method string   `json:"method,omitempty"`
	// NotRestored is RollbackResult.NotRestored of the restore of the run's snapshot, when the recovery
	// restored it: the statements of the undone migrations whose effect stays.
	NotRestored []string `json:"not_restored,omitempty"`
	// ByHand says what a person did by hand to the migration the run left half applied, as they told
	// --recover ("4_nt finished by hand (--keep-applied)", "4_nt undone by hand (--undone 4)").
	ByHand string `json:"by_hand,omitempty"`
	// Hand is the key of the migration ByHand is about.
	Hand string `json:"hand,omitempty"`
	// Died lists the migrations whose transaction died with the run: recorded failed, nothing to undo.
	Died []string `json:"died,omitempty"`
	// Why says why only the snapshot could undo the run (Method snapshot), as RollbackResult.Why.
	Why string `json:"why,omitempty"`
	// Failed says why the recovery could not undo the run; nothing after it ran.
	Failed string `json:"failed,omitempty"`
	// NotRun is set, with Failed, when the recovery's rollback ran nothing (RollbackResult.NotRun: the
	// downs refused, the snapshot not restored): why, and that the database was left as it is, with the
	// run's migrations still applied, as history records them.
	NotRun string `json:"not_run,omitempty"`
	// Plan is set by a dry run with --recover, whose recovery has not run: what it would do (or where it
	// would stop), read from history as the recovery reads it; the fields above say the same.
	Plan string `json:"plan,omitempty"`
	// MaintenanceOff is set when the run had left maintenance mode on and this run turned it off.
	MaintenanceOff bool `json:"maintenance_off,omitempty"`
}

// SQLError is a statement that failed, with its place in the file (the shape of report.SQLError).
type SQLError struct {
	Message   string `json:"message"`
	SQLState  string `json:"sqlstate,omitempty"`
	Detail    string `json:"detail,omitempty"`
	Hint      string `json:"hint,omitempty"`
	File      string `json:"file,omitempty"`
	Line      int    `json:"line,omitempty"`
	Column    int    `json:"column,omitempty"`
	Phase     string `json:"phase"`
	Statement string `json:"statement,omitempty"`
}

// failedChecks returns the checks that failed.
func failedChecks(cs []Check) []Check {
	var out []Check
	for _, c := range cs {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// approvalBlocked is the block of a deploy whose approval check failed with err. A check that could not
// reach the code host's API (the HTTP client's error: a refused connection, DNS, TLS, a timeout) says
// so: no DBA needs to do anything.
func approvalBlocked(err error) *Blocked {
	var ue *url.Error
	if errors.As(err, &ue) && !errors.Is(err, context.Canceled) {
		return &Blocked{Reason: "could not read the approval: " + err.Error(),
			Hint: "the code host's API could not be reached: check the network and --api-url, then deploy again"}
	}
	var re *ApprovalReadError
	if errors.As(err, &re) && !errors.Is(err, context.Canceled) {
		return &Blocked{Reason: "could not read the approval, the code host's API failed: " + err.Error() + "; nothing was changed",
			Hint: "this is not a missing approval: check --api-url, the token and the code host's status, then deploy again"}
	}
	return &Blocked{Reason: "approval does not cover these migrations: " + err.Error(),
		Hint: "a DBA must approve exactly these migrations on the change request"}
}
