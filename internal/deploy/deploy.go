// Package deploy is the production job: it takes the pending migrations of a folder to an environment's
// database inside a maintenance window, one deploy at a time, with a snapshot, maintenance mode, verification
// and automatic rollback, and either finishes with the new schema verified or leaves the database as it was.
package deploy

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/snapshot"
)

// ApprovalChecker verifies that the DBA approval recorded for the merged change covers exactly the pending
// migrations. It returns nil when it does, and an error saying why not otherwise.
type ApprovalChecker interface {
	Check(ctx context.Context, pending []*migrate.Migration) error
}

// ApprovalReadError is an approval that could not be read: the code host's API failed (an error status,
// an answer that is not the API's), which says nothing about whether the migrations are approved. An
// ApprovalChecker wraps such failures in it, so that the deploy does not report them as a missing
// approval.
type ApprovalReadError struct {
	Err error
}

func (e *ApprovalReadError) Error() string { return e.Err.Error() }

func (e *ApprovalReadError) Unwrap() error { return e.Err }

// Options is one deploy.
type Options struct {
	// Env is the environment's name and Config its configuration.
	Env    string
	Config *config.Environment
	// URL is the target database.
	URL string
	// Set is the migration folder.
	Set *migrate.Set
	// Dir is the migration folder as it was given (schemagate.yml's dir, --dir): the report names the
	// migrations' files, and the place of a statement that failed, from it, as check's report does, so
	// that file:line leads to the file. "" names them from the folder itself.
	Dir string

	// RunID identifies this run (the CI run id); Holder is who runs it (CI actor, user@host); Commit,
	// PR ("owner/repo#12") and JobURL are recorded in history and shown to anyone waiting for the lock.
	RunID, Holder, Commit, PR, JobURL string

	// DryRun stops after the preflight and reports the plan.
	DryRun bool
	// Recover rolls back an earlier run that died before carrying on.
	Recover bool
	// KeepApplied (with Recover) keeps what the dead run applied instead of rolling it back: for a run
	// whose migrations have no down and no usable snapshot, once a person has checked the database.
	// A migration it left half applied (outside a transaction) is kept too, as applied: the person says
	// they finished it by hand.
	KeepApplied bool
	// Undone (with Recover) names the migration a dead run left half applied (outside a transaction) that
	// a person has undone by hand: it is recorded as rolled back, and the rest of the run is rolled back
	// (or kept, with KeepApplied).
	Undone string
	// ImportToolApplied records the migrations the folder's tool applied after schemagate took the
	// database over (see appliedSince) as imported, where the deploy would otherwise block on them.
	ImportToolApplied bool
	// BreakWindow deploys outside the window; Reason is required with it and recorded.
	BreakWindow bool
	Reason      string

	// Snapshotter takes the snapshot (nil: none, and failures cannot be undone by restoring).
	Snapshotter snapshot.Snapshotter
	// Maintenance switches maintenance mode (nil: none).
	Maintenance Maintenance
	// Approval checks the DBA approval (required when Config.RequireApproval).
	Approval ApprovalChecker
	// Downs, when set, may give pending migrations without a down script one (a generated rollback
	// proven on a throwaway database): it runs after the preflight, before maintenance mode, and its
	// error blocks the deploy. It returns the versions it gave a down.
	Downs func(ctx context.Context, pending []*migrate.Migration) ([]string, error)

	Clock  Clock
	Logger *slog.Logger
	// Progress receives one line per step, for people watching the job.
	Progress func(msg string)

	// offPause is the first pause before turning maintenance mode off again (zero: offPause): tests
	// shorten it, as they do the environment's retry_backoff.
	offPause time.Duration
	// snapshotTick is how often the progress says the snapshot still runs (zero: snapshotTick).
	snapshotTick time.Duration
}

// file names file, a path in the migration folder, as the report does (see Dir).
func (o *Options) file(file string) string {
	// A generated down (<version>.generated.down.sql, see Downs) is in no folder, as check's report says.
	if o.Dir == "" || file == "" || strings.Contains(file, ".generated.") {
		return file
	}
	return filepath.ToSlash(filepath.Join(o.Dir, file))
}

// named gives the statement that err, an error of a script in the migration folder, names (a
// *pg.StatementError) the file the report names (see Dir), in place: the reason, the progress output
// and the report quote it. Call it once per error.
func (o *Options) named(err error) error {
	var se *pg.StatementError
	if errors.As(err, &se) {
		se.File = o.file(se.File)
	}
	return err
}

// Blocked is returned when the deploy refused to start; nothing changed.
type Blocked struct {
	Reason string
	Hint   string
	// Err is the cause, when there is one to find with errors.Is (the context's error of a deploy that a
	// signal stopped while it waited to start).
	Err error
}

func (e *Blocked) Unwrap() error { return e.Err }

func (e *Blocked) Error() string {
	if e.Hint == "" {
		return e.Reason
	}
	return e.Reason + " (hint: " + e.Hint + ")"
}

type deployer struct {
	o *Options
	// session is SQL that sets the deploy connection's own settings (see connect).
	session string
	env     *config.Environment
	res     *Result
	hist    history
	log     *slog.Logger
	clock   Clock
	sched   *Schedule // the environment's windows, once window has read them
	lock    *lock
	conn    *pgx.Conn
	run     *runRow
	base    *baseline
	// createdSchemas are the schemas this run created for the folder's tool (Flyway's flyway.schemas).
	createdSchemas []string
	restore        snapshot.RestoreFunc
	// code is what funcCode found of the functions the migrations call, by name (the database's as they
	// were before the first migration: restorable reads them); cascades what
	// readCascades found, before the run, that the ups' DROP ... CASCADE of types, domains and extensions
	// take with them, and the foreign keys that reference the tables the migrations' emptying reaches.
	code     map[string][]codeDef
	cascades map[string]string
	// codeRead are the names whose definitions in the database code holds (funcCode), dbCode those
	// definitions alone (for beforeRun). recovering is the dead run whose --recover judges by what that
	// run read (loadBefore): a name it did not read is not read now, its code counts as unknown.
	codeRead   map[string]bool
	dbCode     map[string][]codeDef
	recovering string
	// maintOn is set from the moment maintenance mode may be on until it is off again.
	maintOn   bool
	maintFrom time.Time
	// snapOK is set when the snapshot holds every write up to the migrations.
	snapOK bool
	// watch marks the moment of the snapshot, for the check of other sessions' writes before a live
	// restore (watchErr when it could not); ownXIDs are the transaction ids of this run's migrations and
	// downs, whose writes are the deploy's own (see foreignWrites).
	watch    *writeWatch
	watchErr string
	ownXIDs  []int64
	// unsettled are the history rows of this run's migrations that may still say running because
	// recording how they ended failed (another session held a lock on history): finish records them.
	unsettled []unsettledRow
	// step is what the run is doing between taking the deploy lock and its first change ("reading
	// history"), for the reason of a signal that stops it there (see notStarted).
	step string
	// created, rekeyed and imported say what this run wrote to its own history before its first change:
	// it created (or brought up to date) the history tables, recorded history under the keys of reworked
	// sqitch changes, imported another tool's history. A run stopped before its first change owns up
	// to them.
	created, rekeyed bool
	imported         *Imported
	// closed is, in a dry run, what the deploy would be blocked by now for want of a window: the dry run
	// goes on to show the plan and what else would stop the deploy, then ends with it.
	closed *Blocked
	// stop is the *Blocked of a run that a signal stopped before its first change; finish completes its
	// reason with what the run did (see account).
	stop *Blocked
	// awaitRecover is set when the server went away for good (see unreachable): the run stays recorded
	// as running, and maintenance mode as it is, for deploy --recover to undo the run.
	awaitRecover bool
	// takenOver is set when another deploy took the deploy lock while this run had lost it (see
	// reconnect): the run touches nothing more, and finish reports that.
	takenOver *takenOverError
	// afterRecovery is, in a dry run with --recover, the status that the recovery of the runs that did not
	// finish records for history keys (planRecoveries): the plan of the deploy that follows reads history
	// as the recovery leaves it, as the real deploy does.
	afterRecovery map[string]string
	// serverStatementTimeout is the statement_timeout the work session started with, and
	// serverStatementSource where it came from (pg_settings.source); see statementTimeout.
	serverStatementTimeout time.Duration
	serverStatementSource  string
	// serverTransactionTimeout is the transaction_timeout (PostgreSQL 17+) the work session started
	// with, and serverTransactionSource where it came from; hasTransactionTimeout is false on an older
	// server. See transactionTimeout.
	serverTransactionTimeout time.Duration
	serverTransactionSource  string
	hasTransactionTimeout    bool
}

// unsettledRow is a history row whose migration failed but could not be recorded as failed.
type unsettledRow struct {
	id       int64
	label    string
	d        time.Duration
	attempts int
	err      string
}

// Run deploys. It always returns a Result (also on error) that says what happened; the error is a
// *Blocked when the deploy refused to start, and describes the failure otherwise.
func Run(ctx context.Context, o Options) (*Result, error) {
	d := &deployer{o: &o, env: o.Config, clock: o.Clock, log: o.Logger}
	if d.env == nil {
		d.env = &config.Environment{}
	}
	if d.clock == nil {
		d.clock = RealClock
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	schema := d.env.HistorySchema
	if schema == "" {
		schema = "schemagate"
	}
	d.hist = history{schema: schema, lockTimeout: d.env.DeployLockTimeout(), keepStricter: d.env.LockTimeout <= 0}
	d.res = &Result{Env: o.Env, RunID: o.RunID, Commit: o.Commit, PR: o.PR, JobURL: o.JobURL,
		StartedAt: d.clock.Now().UTC(), Migrations: []MigrationResult{}}
	err := d.deploy(ctx)
	d.finish(ctx, err)
	if err == nil && d.takenOver != nil {
		err = d.takenOver // found only as the run recorded its end, in finish
	}
	return d.res, err
}

func (d *deployer) progress(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if d.o.Progress != nil {
		d.o.Progress(msg)
		d.log.Debug(msg)
		return
	}
	d.log.Info(msg)
}

func (d *deployer) note(format string, args ...any) {
	d.res.Notes = append(d.res.Notes, fmt.Sprintf(format, args...))
}

func (d *deployer) deploy(ctx context.Context) error {
	o := d.o
	if o.Set == nil {
		return errors.New("deploy: no migration set")
	}
	if o.BreakWindow && o.Reason == "" {
		return &Blocked{Reason: "--break-window needs --reason", Hint: "say why the window is broken; it is recorded in history"}
	}
	if err := d.window(ctx); err != nil {
		return err
	}
	if o.DryRun {
		return d.dryRun(ctx)
	}
	if err := d.acquire(ctx); err != nil {
		return err
	}
	if err := d.windowStillOpen(); err != nil {
		return err
	}
	// From here until the first change (see applyAll), a signal stops a run that has changed nothing of
	// the application's: blocked, as during the set-up (notStarted).
	d.step = "reading unfinished runs from history"
	dead, err := d.hist.unfinished(ctx, d.conn, o.RunID)
	if err != nil {
		return d.notStarted(ctx, lockBlocked(err))
	}
	var running []deadRun
	for _, r := range dead {
		if r.Status == "running" || r.Status == runUnrecorded || r.Status == runHalfway {
			running = append(running, r)
			if pp, ok := o.Snapshotter.(pinner); ok && r.Snapshot != nil {
				// Its recovery needs it: no retention removes it.
				pp.Hold(r.Snapshot.ID, fmt.Sprintf("run %s did not finish, and deploy --recover restores it", r.RunID))
			}
		}
	}
	if pp, ok := o.Snapshotter.(pinner); ok {
		d.step = "reading failed runs from history"
		failed, err := d.hist.failedRuns(ctx, d.conn, o.RunID)
		if err != nil {
			return d.notStarted(ctx, lockBlocked(err))
		}
		for _, r := range failed {
			// Its report may tell a person to restore it by hand: the only copy of the data from before.
			pp.Hold(r.Snapshot.ID, fmt.Sprintf("run %s ended failed at %s, and a person may still restore it by hand as its report says; delete the folder once the database is repaired (see docs/deploy.md)",
				r.RunID, r.Since.UTC().Format(time.RFC3339)))
		}
	}
	if len(running) > 0 && !o.Recover {
		// Maintenance mode stays as the dead run left it: turning it off would let writes in and so make
		// its snapshot, which --recover may need, unsafe to restore.
		r := running[len(running)-1]
		var live *Blocked
		if err := d.deadRunGone(ctx, r); errors.As(err, &live) {
			return live // it lost its deploy lock, not its process
		}
		b := &Blocked{Reason: fmt.Sprintf("run %s (%s, started %s) did not finish", r.RunID, r.Holder, r.Since.UTC().Format(time.RFC3339)),
			Hint: "run again with --recover to roll back what it applied and turn maintenance mode off"}
		for _, r := range running {
			if r.MaintenanceOn {
				b.Hint = "run again with --recover to roll back what it applied and turn maintenance mode off; maintenance mode stays on until then, so that its snapshot can still be restored"
				d.note("maintenance mode, left on by run %s, stays on until --recover: turning it off would make its snapshot unsafe to restore", r.RunID)
				break
			}
		}
		if r.Status == runUnrecorded {
			return d.unrecordedBlocked(ctx, r)
		}
		if r.Status == runHalfway {
			return d.halfwayBlocked(ctx, r)
		}
		return b
	}
	for _, r := range dead {
		if r.MaintenanceOn && !d.maintOn {
			// An earlier run left maintenance mode on (it died, or could not turn it off): it must go off
			// whatever happens next. It has been on since that run turned it on (the oldest such run).
			d.maintOn = true
			d.res.Maintenance = &MaintenanceResult{Inherited: true, InheritedFrom: r.RunID, Since: r.MaintenanceSince}
		}
	}
	if len(running) > 0 || o.Undone != "" {
		if err := d.recoverRuns(ctx, running); err != nil {
			return d.recoveryBlocked(running, err)
		}
	}
	pending, err := d.preflight(ctx)
	if err != nil {
		return d.notStarted(ctx, lockBlocked(err))
	}
	if len(pending) == 0 {
		d.res.Outcome = OutcomeNothing
		d.progress("nothing to deploy: %d migrations applied", len(o.Set.Migrations))
		return nil
	}
	if o.Downs != nil {
		d.step = "generating rollback scripts"
		given, err := o.Downs(ctx, pending)
		if err != nil {
			return d.notStarted(ctx, &Blocked{Reason: "generate rollback scripts: " + err.Error(), Hint: "fix the problem, or turn generated_downs off to roll back by snapshot"})
		}
		for _, v := range given {
			d.note("migration %s has no down script: its rollback is a generated down, verified on a throwaway PostgreSQL", v)
		}
	}
	if err := d.restorable(ctx, pending); err != nil {
		return d.notStarted(ctx, err)
	}
	d.step = "recording the run"
	if d.run, err = d.hist.startRun(ctx, d.conn, o, d.res.Window != nil && d.res.Window.Broken, d.beforeRunJSON()); err != nil {
		return d.notStarted(ctx, lockBlocked(err))
	}
	if err := d.protect(ctx, pending); err != nil {
		return d.notStarted(ctx, lockBlocked(err))
	}
	return d.applyAll(ctx, pending)
}

// recoveryBlocked is the error of a --recover that stopped (err) because another session holds a lock
// on history: what it undid is recorded, and the rest of the dead runs stays as they left it, maintenance
// mode included, so that their snapshot can still be restored by the --recover that runs once the lock
// is gone. Any other error comes back as it is.
func (d *deployer) recoveryBlocked(dead []deadRun, err error) error {
	var lw *LockWaitError
	if !errors.As(err, &lw) {
		return err
	}
	if d.res.Maintenance != nil && d.res.Maintenance.Inherited {
		d.maintOn, d.res.Maintenance = false, nil
		for _, r := range dead {
			if r.MaintenanceOn {
				d.note("maintenance mode, left on by run %s, stays on until --recover: turning it off would make its snapshot unsafe to restore", r.RunID)
			}
		}
	}
	return &Blocked{Reason: err.Error(),
		Hint: lw.Hint + ", then run the deploy again with --recover, which carries on from what history records"}
}

// window checks the maintenance window, waiting for the next one when configured to.
func (d *deployer) window(ctx context.Context) error {
	sched, err := NewSchedule(d.env)
	if err != nil {
		return &Blocked{Reason: "read windows of " + d.o.Env + ": " + err.Error()}
	}
	d.sched = sched
	now := d.clock.Now()
	w := &WindowResult{}
	d.res.Window = w
	iv, ok, left := sched.Startable(now)
	if ok {
		w.Open, w.Always = true, sched.Always()
		if !w.Always {
			w.Start, w.End = &iv.Start, &iv.End
		}
		if d.o.BreakWindow {
			// Open now, but the person knows the run outlasts it: --break-window lets it go on past the
			// window's end (a long lock wait, snapshot or migration), as it lets it start outside one,
			// and its reason is recorded.
			w.Broken, w.Reason = true, d.o.Reason
			if !w.Always {
				d.progress("the maintenance window is open until %s; breaking its end: %s", iv.End.UTC().Format(time.RFC3339), d.o.Reason)
			}
		}
		return nil
	}
	next := sched.NextStartable(now, 1)
	if len(next) > 0 {
		w.Next = &next[0].Start
	}
	closed := "outside the maintenance window"
	if _, open := sched.Open(now); open {
		closed = tooLittleLeft(sched, left)
	}
	if b, in := sched.Blackout(now); in {
		closed = "in the " + b.String()
		w.Blackout = b.String()
	}
	if d.o.BreakWindow {
		w.Broken, w.Reason = true, d.o.Reason
		d.progress("%s; breaking it: %s", closed, d.o.Reason)
		return nil
	}
	var blocked *Blocked
	if len(next) == 0 {
		blocked = &Blocked{Reason: closed + " and no window opens in the next two years", Hint: "check windows and blackouts"}
	} else if wait := next[0].Start.Sub(now); d.env.OutsideWindow != "wait" || wait > d.env.MaxWait {
		blocked = &Blocked{Reason: fmt.Sprintf("%s; the next window opens at %s (in %s)",
			closed, next[0].Start.Format(time.RFC3339), wait.Round(time.Second)),
			Hint: "wait for it (outside_window: wait with a max_wait covering it) or break it with --break-window --reason"}
	}
	if d.o.DryRun {
		// The verdict the deploy would reach now, without waiting for it. A block ends the dry run as it
		// would the deploy (exit 3), once the plan is shown (see dryRun).
		switch {
		case len(next) == 0:
			d.note("%s and no window opens in the next two years; the deploy would be blocked", closed)
		case blocked != nil:
			d.note("%s; the next window opens at %s (in %s); the deploy would be blocked (outside_window: %s)",
				closed, next[0].Start.Format(time.RFC3339), next[0].Start.Sub(now).Round(time.Second), cmp.Or(d.env.OutsideWindow, "fail"))
		default:
			d.note("%s; the deploy would wait until %s (%s), then go on", closed, next[0].Start.Format(time.RFC3339), next[0].Start.Sub(now).Round(time.Second))
		}
		d.closed = blocked
		return nil
	}
	if blocked != nil {
		return blocked
	}
	wait := next[0].Start.Sub(now)
	d.progress("%s; waiting until %s (%s)", closed, next[0].Start.Format(time.RFC3339), wait.Round(time.Second))
	select {
	case <-ctx.Done():
		return stoppedBlocked(stopped(ctx, "stopped while waiting for the maintenance window"))
	case <-d.clock.After(wait):
	}
	w.WaitedMS = wait.Milliseconds()
	w.Open, w.Start, w.End, w.Next = true, &next[0].Start, &next[0].End, nil
	if sched.Always() { // the blackout ended
		w.Always, w.Start, w.End = true, nil, nil
	}
	return nil
}

// tooLittleLeft says that the open window has less than min_window_left left, left being what is left.
func tooLittleLeft(sched *Schedule, left time.Duration) string {
	return fmt.Sprintf("only %s of the maintenance window is left, less than min_window_left (%s)", left.Round(time.Second), sched.MinLeft())
}

// windowStillOpen checks the window again once the deploy lock is held: the wait for another deploy may
// have outlasted it (or run into a blackout), and changes start now.
func (d *deployer) windowStillOpen() error {
	w, sched := d.res.Window, d.sched
	if w == nil || sched == nil || !w.Open || w.Broken {
		return nil
	}
	now := d.clock.Now()
	_, ok, left := sched.Startable(now)
	if ok {
		return nil
	}
	waited := time.Duration(0)
	if d.res.Lock != nil {
		waited = time.Duration(d.res.Lock.WaitMS) * time.Millisecond
	}
	w.Open = false
	closed := "the maintenance window closed"
	if w.End != nil {
		closed += " at " + w.End.UTC().Format(time.RFC3339)
	}
	if _, open := sched.Open(now); open {
		closed = tooLittleLeft(sched, left)
	}
	if bo, in := sched.Blackout(now); in {
		closed, w.Blackout = "the "+bo.String()+" began", bo.String()
	}
	b := &Blocked{Reason: fmt.Sprintf("%s while this deploy waited %s for the deploy lock", closed, waited.Round(time.Second)),
		Hint: "run it again in the next window, or break this one with --break-window --reason"}
	if next := sched.NextStartable(now, 1); len(next) > 0 {
		w.Next = &next[0].Start
		b.Hint = fmt.Sprintf("the next window opens at %s; run it again then, or break this one with --break-window --reason",
			next[0].Start.UTC().Format(time.RFC3339))
	}
	return b
}

// acquire takes the deploy lock and opens the work connection.
func (d *deployer) acquire(ctx context.Context) error {
	wait := d.env.LockWait
	if wait <= 0 {
		wait = 10 * time.Minute
	}
	l, waited, err := acquireLock(ctx, d.o.URL, d.hist, wait, d.clock, func(h *Holder) {
		d.progress("waiting for the deploy lock held by %s", h)
		if d.res.Lock == nil {
			d.res.Lock = &LockResult{}
		}
		d.res.Lock.WaitedFor = h.String()
	})
	if d.res.Lock == nil {
		d.res.Lock = &LockResult{}
	}
	d.res.Lock.WaitMS = waited.Milliseconds()
	if err != nil {
		var le *LockError
		if errors.As(err, &le) {
			return &Blocked{Reason: le.Error(), Hint: le.Hint()}
		}
		return stoppedBlocked(err)
	}
	d.lock = l
	// The lock's session read the lock_timeout the server gives the deploy's role: every session of
	// the deploy, and what it runs, keeps it where it is lower than the default (see sessionDefaults).
	d.hist = l.hist
	if sw, ok := d.o.Maintenance.(*Switch); ok {
		// Maintenance SQL waits for a lock at most lock_timeout, as the deploy's own statements do.
		d.o.Maintenance = sw.boundLocks(d.hist.lockTimeout)
	}
	if p, ok := d.o.Snapshotter.(*snapshot.PGDump); ok {
		// A restore waits for a lock at most lock_timeout too (see boundRestore).
		d.o.Snapshotter = boundRestore(p, d.hist.lockTimeout)
	}
	if c, ok := d.o.Snapshotter.(*snapshot.Command); ok {
		// So does a restore_command's psql, which keeps the server's keepalives as the deploy's sessions
		// do, and both hooks' sessions are spared the server's timeouts as the deploy's are (see
		// boundCommand).
		var untimed string
		if err := l.conn.QueryRow(ctx, hookUntimedSQL).Scan(&untimed); err != nil {
			return setupStopped(ctx, fmt.Errorf("read the server's timeouts for the snapshot hooks: %w", err), "reading the server's timeouts", false, d.hist.schema)
		}
		d.o.Snapshotter = boundCommand(c, d.hist.lockTimeout, l.keep, untimed)
	}
	if bound, settings, ok := deadHostBound(ctx, l.conn); ok {
		d.progress("holding the deploy lock: should this host die, the server frees the deploy lock within about %s (%s)", bound, settings)
	}
	// A signal from here on, until the work connection is set up, stops a deploy that has changed nothing
	// (but perhaps its own history tables; the lock row goes with the lock): blocked, as during the waits.
	created, err := d.hist.ensure(ctx, l.conn)
	if err != nil {
		return setupStopped(ctx, lockBlocked(err), "setting up the history tables", false, d.hist.schema)
	}
	d.created = created
	me := &Holder{Name: d.o.Holder, RunID: d.o.RunID, Commit: d.o.Commit, JobURL: d.o.JobURL}
	stale, err := l.claim(ctx, me)
	if err != nil {
		return setupStopped(ctx, lockBlocked(err), "writing the deploy lock row", created, d.hist.schema)
	}
	if stale != nil {
		d.res.Lock.Stale = stale.String()
		d.noteStale(ctx, l.conn, stale, "")
	}
	if err := d.connect(ctx); err != nil {
		return setupStopped(ctx, err, "opening the work connection", created, d.hist.schema)
	}
	return nil
}

// noteStale notes the deploy lock row that stale's run left behind (no deploy held the lock when it was
// read), and how that run ended, as history has it. after ends the note ("" for the deploy, which has
// just overwritten the row; a dry run, which leaves it, says what the deploy would do).
func (d *deployer) noteStale(ctx context.Context, conn *pgx.Conn, stale *Holder, after string) {
	if ended := d.hist.ended(ctx, conn, stale.RunID); ended != "" {
		// A run whose lock session ended (a server that restarted, a session someone terminated)
		// cannot clear the row: it goes on to its end, without the lock.
		d.note("the deploy lock row of %s was left by that run, which lost the deploy lock and then ended (%s)%s", stale, ended, after)
		return
	}
	// Its run recorded no end. Its process may have died, but a run whose database server stayed
	// away ends (exit 1) leaving the row and its run recorded running as well, and a run that lost
	// its lock's session may still be at work (a deploy stops at such a run, see deadRunGone).
	d.note("the deploy lock row of %s was left by that run, which did not record its end: it ended without reaching the database server to record its outcome (its server went away, or its process died), or lost its lock and is still running%s", stale, after)
}

// connect opens the work connection (again, after it was lost) and sets the deploy's session settings.
func (d *deployer) connect(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(d.o.URL)
	if err != nil {
		return fmt.Errorf("parse database url: %w", err)
	}
	cfg.RuntimeParams["application_name"] = "schemagate deploy"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	d.conn = conn
	if d.run != nil {
		d.run.conn = d.conn
	}
	// Each migration starts from a reset session (pg.ResetSession), after which the applier sets these
	// again. The deploy's own statements wait for a lock at most lock_timeout, as the migrations' do:
	// history, written between the migrations, and a recovery's steps must not queue for ever behind an
	// application's transaction (each migration SETs LOCAL its own, the same).
	session := []string{lockTimeoutSQL(d.hist.lockTimeout)}
	// It waits idle while the snapshot is taken (and the lock's connection while it works): a server that
	// ends idle sessions must not end it (keepSessionSQL).
	session = append(session, keepSessionSQL)
	// Should the deploy's host die mid-migration, the server ends the session, and rolls back its
	// transaction and the locks it holds, within minutes, not hours (keepaliveSQL).
	session = append(session, keepaliveSQL)
	// Notice a vanished client during long statements (pg_sleep, index builds) so that a killed deploy's
	// transaction is rolled back soon, not when the statement ends. PostgreSQL 14+.
	var version int
	if err := d.conn.QueryRow(ctx, "SELECT pg_catalog.current_setting('server_version_num')::pg_catalog.int4").Scan(&version); err == nil && version >= 140000 {
		session = append(session, "SET client_connection_check_interval = '1s'")
	}
	// Flyway runs each migration with its default schema in front of the search path.
	if sp := d.o.Set.SearchPath; sp != "" {
		session = append(session, "SELECT pg_catalog.set_config('search_path', pg_catalog.concat("+quoteLit(sp+", ")+", pg_catalog.current_setting('search_path')), false)")
	}
	d.session = strings.Join(session, "; ")
	// The transaction_timeout the session starts with (PostgreSQL 17+), read before keepSessionSQL turns
	// it off: the server's, the database's or the role's, each migration's limit (see transactionTimeout).
	var txMS int64
	var txSource string
	switch err := d.conn.QueryRow(ctx, "SELECT setting::pg_catalog.int8, source FROM pg_catalog.pg_settings WHERE name OPERATOR(pg_catalog.=) 'transaction_timeout'").Scan(&txMS, &txSource); {
	case err == nil:
		d.serverTransactionTimeout, d.serverTransactionSource, d.hasTransactionTimeout = time.Duration(txMS)*time.Millisecond, txSource, true
	case errors.Is(err, pgx.ErrNoRows): // before PostgreSQL 17
		d.serverTransactionTimeout, d.serverTransactionSource, d.hasTransactionTimeout = 0, "", false
	default:
		return fmt.Errorf("read the session's transaction_timeout: %w", err)
	}
	// Then, for what the deploy runs on the session itself (its history, its baseline and checks, what a
	// rollback reads), pg_catalog goes first in the search path, and the temporary schema last: the search
	// path the database or the role gives new sessions (an earlier migration's ALTER DATABASE ... SET
	// search_path = public, pg_catalog) had a public.pg_constraint view that showed nothing stand in for
	// pg_catalog's, and the foreign keys a migration broke went unchecked (see pg.PinCatalogPathSQL). The
	// reset before each script puts back the path the session started with, for the script; the one after
	// it pins it again (see applier.reset). The user's checks and sqitch verify scripts read under the
	// session's own (see readOnlyQuery).
	if _, err := d.conn.Exec(ctx, d.session+"; "+pg.PinCatalogPathSQL); err != nil {
		return fmt.Errorf("set up the session: %w", err)
	}
	// The statement_timeout the session starts with, before the deploy sets any: the server's, the
	// database's or the role's (ALTER ROLE ... SET), or the URL's options. With none configured, it is
	// the migrations' limit (see statementTimeout); RESET ALL, before each migration, comes back to it.
	var ms int64
	var source string
	if err := d.conn.QueryRow(ctx, "SELECT setting::pg_catalog.int8, source FROM pg_catalog.pg_settings WHERE name OPERATOR(pg_catalog.=) 'statement_timeout'").Scan(&ms, &source); err != nil {
		return fmt.Errorf("read the session's statement_timeout: %w", err)
	}
	d.serverStatementTimeout, d.serverStatementSource = time.Duration(ms)*time.Millisecond, source
	return nil
}

// statementTimeout is the statement_timeout of each migration and down, and where it comes from: the
// environment's statement_timeout when configured, else the one the server gives the deploy's session
// (a DBA's ALTER ROLE or ALTER DATABASE ... SET statement_timeout), which the deploy keeps rather than
// lift; 0 for none.
func (d *deployer) statementTimeout() (time.Duration, string) {
	if t := d.env.DeployStatementTimeout(); t > 0 {
		return t, "configured"
	}
	if d.serverStatementTimeout <= 0 {
		return 0, "neither configured nor set on the server"
	}
	return d.serverStatementTimeout, settingSource(d.serverStatementSource)
}

// transactionTimeout is the transaction_timeout of each migration and down (PostgreSQL 17+), and where it
// comes from: the one the server gives the deploy's session (a DBA's ALTER ROLE or ALTER DATABASE ...
// SET transaction_timeout), which the deploy keeps rather than lift; 0 for none. The deploy's own
// sessions run without it (keepSessionSQL): the server ends a session whose transaction outlasts it,
// and the write watch's transaction lasts the whole deploy. A migration that outlasts it loses the work
// session with its transaction, which the server rolls back, and the run is rolled back as after a lost
// connection (see lostInTransaction).
func (d *deployer) transactionTimeout() (time.Duration, string) {
	if d.serverTransactionTimeout <= 0 {
		return 0, "not set on the server"
	}
	return d.serverTransactionTimeout, settingSource(d.serverTransactionSource)
}

// timeoutsInForce says which limits each migration runs with, for the progress output.
func (d *deployer) timeoutsInForce() string {
	lock := "the deploy's default"
	switch {
	case d.env.LockTimeout > 0:
		lock = "configured"
	case d.hist.lockFrom != "":
		lock = settingSource(d.hist.lockFrom) + ", below the deploy's default " + config.DefaultLockTimeout.String()
	}
	st, from := d.statementTimeout()
	stmt := "none"
	if st > 0 {
		stmt = st.String()
	}
	line := fmt.Sprintf("timeouts of each migration: lock_timeout %s (%s), statement_timeout %s (%s)", d.hist.lockTimeout, lock, stmt, from)
	if d.hasTransactionTimeout {
		tt, from := d.transactionTimeout()
		tx := "none"
		if tt > 0 {
			tx = tt.String()
		}
		line += fmt.Sprintf(", transaction_timeout %s (%s)", tx, from)
	}
	return line
}

// preflight reads history, blocks on drift, on a missing snapshot client and checks the approval. It
// returns the pending migrations.
func (d *deployer) preflight(ctx context.Context) ([]*migrate.Migration, error) {
	d.step = "reading history"
	latest, err := d.hist.latest(ctx, d.conn)
	if err != nil {
		return nil, err
	}
	applyRecovery(latest, d.afterRecovery)
	var imported *Imported
	var importDrift []string
	if len(latest) == 0 {
		// A database schemagate has never deployed to: take over what the folder's own tool applied.
		var notes []string
		d.step = "reading the history of the folder's tool"
		if imported, importDrift, notes, err = readImport(ctx, d.conn, d.o.Set, d.env.ImportHistory, d.env.ImportMissing, d.hist.lockTimeout, false); err != nil {
			return nil, err
		}
		for _, n := range notes {
			d.note("%s", n)
		}
		if imported != nil {
			d.res.Imported = imported
			for _, r := range imported.rows {
				latest = append(latest, appliedRow{Version: r.m.Key(), Name: r.m.Name, Checksum: r.m.Checksum, Status: StatusApplied, UpChecksum: r.m.UpChecksum(),
					StatementsChecksum: r.m.StatementsChecksum()})
			}
		}
	}
	rekeys := rekeyed(d.o.Set, latest)
	if imported == nil && len(latest) > 0 {
		// A database schemagate deployed to before: what the folder's tool applied since would run again.
		d.step = "reading the history of the folder's tool"
		since, err := appliedSince(ctx, d.conn, d.o.Set, d.env.ImportHistory, d.hist.lockTimeout, latest)
		if err != nil {
			return nil, err
		}
		if since != nil {
			if !d.o.ImportToolApplied {
				return nil, appliedSinceBlocked(since)
			}
			imported = since
			d.res.Imported = since
			for _, r := range since.rows {
				latest = append(latest, appliedRow{Version: r.m.Key(), Name: r.m.Name, Checksum: r.m.Checksum, Status: StatusApplied, UpChecksum: r.m.UpChecksum(),
					StatementsChecksum: r.m.StatementsChecksum()})
			}
		}
	}
	pending, drift, changed := plan(d.o.Set, latest)
	for _, c := range changed {
		d.note("%s", c)
	}
	drift = append(importDrift, drift...)
	d.res.Drift = drift
	for _, m := range pending {
		d.res.Migrations = append(d.res.Migrations, MigrationResult{Version: m.Version, Name: m.Name, File: d.reportFile(m),
			Checksum: m.Checksum, Status: StatusPending, NoTransaction: m.NoTransaction})
	}
	if len(drift) > 0 {
		hint := "an applied migration must never change; add a new migration instead"
		if len(importDrift) > 0 && d.o.Set.Format != migrate.FormatGolangMigrate {
			// The tool's record names migrations the folder lacks (golang-migrate's names the version it
			// is at, which nothing can be imported without).
			hint = missingHint(d.o.Set.Format)
		}
		return nil, &Blocked{Reason: fmt.Sprintf("drift between history and the migration folder: %s", drift[0]), Hint: hint}
	}
	if len(pending) > 0 {
		d.step = "looking for the folder's default schema"
		if err := d.defaultSchemaExists(ctx); err != nil {
			return nil, err
		}
	}
	for _, m := range pending {
		if m.External == migrate.ExternalGo {
			return nil, &Blocked{Reason: fmt.Sprintf("pending migration %s is a goose Go migration, whose code schemagate cannot run", m.ID()),
				Hint: "rewrite it as a .sql migration: schemagate deploy keeps its own history and cannot record what goose runs"}
		}
	}
	if len(pending) > 0 {
		if err := d.snapshotClient(ctx); err != nil {
			return nil, err
		}
	}
	if len(pending) > 0 && d.env.RequireApproval {
		d.step = "checking the approval"
		if d.o.Approval == nil {
			return nil, &Blocked{Reason: "approval required but no change request to read it from", Hint: "run from the merge commit's CI job, or set require_approval: false"}
		}
		if err := d.o.Approval.Check(ctx, pending); err != nil {
			return nil, approvalBlocked(err)
		}
	}
	if len(rekeys) > 0 && d.lock != nil { // a real run, under the deploy lock (a dry run writes nothing)
		d.step = "recording history under " + rekeyWhat(d.o.Set)
		if err := d.hist.rename(ctx, d.conn, rekeys); err != nil {
			return nil, err
		}
		d.rekeyed = true
		for _, rk := range rekeys {
			if d.o.Set.Format == migrate.FormatSQLMigrate {
				d.progress("history of %s recorded as %s, the file name sql-migrate records", rk.from, rk.to)
				continue
			}
			d.progress("history of %s recorded as %s, the key that reworks of the sqitch change do not move", rk.from, rk.to)
		}
	}
	if imported != nil {
		verb := "would import"
		if d.lock != nil { // a real run, under the deploy lock (a dry run writes nothing)
			d.step = "importing the history of " + imported.Tool
			if err := d.hist.importRows(ctx, d.conn, d.o, imported); err != nil {
				return nil, err
			}
			d.imported = imported
			verb = "imported"
		}
		d.progress("%s %d applied migration%s from %s's %s", verb, len(imported.rows), plural(len(imported.rows)), imported.Tool, imported.Table)
		d.note("%s %d applied migration%s from %s's history (%s). From then on schemagate_history is this database's record: %s does not see what schemagate deploys, so stop running it against this database.",
			strings.ToUpper(verb[:1])+verb[1:], len(imported.rows), plural(len(imported.rows)), imported.Tool, imported.Table, imported.Tool)
	}
	return pending, nil
}

// defaultSchemaExists blocks a deploy whose folder's tool puts a default schema in front of the search
// path (Flyway's flyway.defaultSchema, or the first of flyway.schemas) that does not exist and that the
// tool would not create (createSchemas=false: the Set's Schemas leave it out). Flyway fails then; the
// deploy would have run the migrations with a search path whose first schema is skipped, and so created
// their objects in public.
func (d *deployer) defaultSchemaExists(ctx context.Context) error {
	sp := d.o.Set.SearchPath
	if sp == "" {
		return nil
	}
	for _, s := range d.o.Set.Schemas {
		if ident(s) == sp {
			return nil // the deploy creates it, as the tool would
		}
	}
	var exists bool
	if err := d.conn.QueryRow(ctx, "SELECT to_regnamespace($1) IS NOT NULL", sp).Scan(&exists); err != nil {
		return fmt.Errorf("look for schema %s: %w", sp, err)
	}
	if exists {
		return nil
	}
	return &Blocked{Reason: fmt.Sprintf("the default schema %s of the %s folder does not exist, and createSchemas=false says not to create it; the migrations would have gone into public", sp, d.o.Set.Format),
		Hint: fmt.Sprintf("create the schema (CREATE SCHEMA %s), or drop flyway.createSchemas=false so that the deploy creates it as Flyway does; nothing was changed", sp)}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// dryRun reads history without the lock and reports the plan.
func (d *deployer) dryRun(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, d.o.URL)
	if err != nil {
		return &Blocked{Reason: "cannot connect to the database: " + err.Error(),
			Hint: "check the database URL, the password and that the server is up and reachable"}
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := checkServer(ctx, conn); err != nil {
		return err
	}
	// Its reads wait for a lock at most lock_timeout, as the deploy's do, and name pg_catalog's relations
	// and functions under the search path the deploy's own statements run under (see connect).
	wait, _, _, err := sessionDefaults(ctx, conn, d.hist.lockTimeout, d.hist.keepStricter)
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, lockTimeoutSQL(wait)+"; "+pg.PinCatalogPathSQL); err != nil {
		return fmt.Errorf("set up the session: %w", err)
	}
	d.conn = conn
	defer func() { d.conn = nil }()
	// What the real deploy would stop at, before the plan: a run that did not finish. While another deploy
	// holds the lock, its run is not dead but running.
	var free bool
	if err := conn.QueryRow(ctx, "SELECT pg_catalog.pg_try_advisory_lock($1)", lockKey).Scan(&free); err != nil {
		return fmt.Errorf("probe the deploy lock: %w", err)
	}
	if free {
		// While the probe holds the lock no deploy can write the lock row: a row there now was left by
		// a run that did not clear it, which the deploy would report when it overwrites the row.
		stale := readHolder(ctx, conn, d.hist.schema)
		if _, err := conn.Exec(ctx, "SELECT pg_catalog.pg_advisory_unlock($1)", lockKey); err != nil {
			return fmt.Errorf("probe the deploy lock: %w", err)
		}
		if stale != nil {
			d.noteStale(ctx, conn, stale, "; no deploy holds the deploy lock now, and the dry run leaves the row as it is: the deploy would take the lock and overwrite the row")
		}
	} else {
		d.note("another deploy holds the deploy lock now: the deploy would wait for it (lock_wait)")
	}
	dead, err := d.hist.unfinished(ctx, conn, d.o.RunID)
	if err != nil {
		return lockBlocked(err)
	}
	var running []deadRun
	for _, r := range dead {
		if !free {
			break
		}
		if r.Status != "running" && r.Status != runUnrecorded && r.Status != runHalfway {
			continue
		}
		if r.Status == runUnrecorded && !d.o.Recover {
			return d.unrecordedBlocked(ctx, r)
		}
		if r.Status == runHalfway && !d.o.Recover {
			return d.halfwayBlocked(ctx, r)
		}
		if !d.o.Recover {
			b := &Blocked{Reason: fmt.Sprintf("run %s (%s, started %s) did not finish", r.RunID, r.Holder, r.Since.UTC().Format(time.RFC3339)),
				Hint: "run again with --recover to roll back what it applied and turn maintenance mode off"}
			if d.maintenanceLeftOn(dead, true) {
				b.Hint = "run again with --recover to roll back what it applied and turn maintenance mode off; maintenance mode stays on until then, so that its snapshot can still be restored"
			}
			return b
		}
		running = append(running, r)
	}
	if len(running) > 0 || (free && d.o.Undone != "") {
		// The plan the recovery follows, and the deploy after it, which applies again what it rolls back.
		if err := d.planRecoveries(ctx, running); err != nil {
			return err
		}
	}
	if free {
		d.maintenanceLeftOn(dead, false)
	}
	pending, err := d.preflight(ctx)
	if err != nil {
		return lockBlocked(err)
	}
	if d.o.Downs == nil { // generated downs, which the real run adds first, may make a restore unneeded
		if err := d.restorable(ctx, pending); err != nil {
			return err
		}
	}
	d.res.Outcome = OutcomeDryRun
	for _, m := range pending {
		d.progress("would apply %s (%s)", m.ID(), d.reportFile(m))
	}
	if len(pending) == 0 {
		d.progress("nothing to deploy")
	}
	if len(pending) > 0 { // with nothing pending the deploy records no run, and so cannot clash
		used, err := d.hist.runUsed(ctx, conn, d.o.RunID)
		if err != nil {
			return lockBlocked(err)
		}
		if used {
			return runIDUsed(d.o.RunID)
		}
	}
	if d.closed != nil {
		return d.closed
	}
	return nil
}

// maintenanceLeftOn notes, in a dry run, maintenance mode that earlier runs (dead) left on, as the deploy
// would find it: the deploy turns it off as it ends, whatever happens, unless a run that did not finish
// left it on (unfinished) and this is no --recover, which leaves it on for that run's snapshot. It
// reports whether any run left it on.
func (d *deployer) maintenanceLeftOn(dead []deadRun, unfinished bool) bool {
	on := false
	for _, r := range dead {
		if !r.MaintenanceOn {
			continue
		}
		on = true
		if unfinished {
			d.note("maintenance mode, left on by run %s, stays on until --recover: turning it off would make its snapshot unsafe to restore", r.RunID)
		} else {
			d.note("maintenance mode is on, left on by run %s (%s, started %s): the deploy would turn it off as it ends, whatever happens",
				r.RunID, r.Holder, r.Since.UTC().Format(time.RFC3339))
		}
	}
	return on
}

// finish turns maintenance mode off, records the run, releases the lock and fills the outcome.
func (d *deployer) finish(ctx context.Context, err error) {
	run := ctx
	ctx = context.WithoutCancel(ctx)
	if d.takenOver == nil && !d.awaitRecover && d.conn != nil && (d.conn.IsClosed() || d.conn.Ping(ctx) != nil) {
		// A server that restarted since the last step: what follows needs it (the run's end, maintenance
		// mode off, the lock's release), as it would have without the restart. (A lock whose session
		// alone ended stays lost: the run says so, and its row tells the next deploy.)
		if rerr := d.revive(ctx); rerr != nil {
			d.log.Warn("connect again", "err", rerr)
		}
	}
	if d.takenOver != nil {
		// Taken over before finish, or found so by the revive above: maintenance mode, the run's row
		// and the lock are the other deploy's (it may have rolled this run back and deployed again).
		d.finishTakenOver(ctx)
		return
	}
	if d.maintOn && d.awaitRecover {
		// Turning it off would let writes in and so make the snapshot that --recover may restore unsafe
		// (the record that it is off could not reach the server either).
		d.note("maintenance mode stays on until deploy --recover, which turns it off: turning it off now would make this run's snapshot unsafe to restore")
	} else if d.maintOn {
		// The run's own context: a signal that cancelled it stops the off action's retries.
		d.maintenanceOff(run)
	}
	var b *Blocked
	switch {
	case err == nil:
		if d.res.Outcome == "" {
			d.res.Outcome = OutcomeDeployed
		}
		d.res.OK = true
	case errors.As(err, &b):
		if b == d.stop {
			// A run that a signal stopped before its first change: what it did, maintenance mode now off.
			b.Reason += d.account()
		}
		d.res.Outcome, d.res.Reason, d.res.Hint = OutcomeBlocked, b.Reason, b.Hint
	default:
		if d.res.Outcome == "" {
			d.res.Outcome = OutcomeFailed
		}
		if d.res.Reason == "" {
			d.res.Reason = err.Error()
		}
	}
	for _, m := range d.res.Migrations {
		d.res.MigrationsMS += m.DurationMS
	}
	if mr := d.res.Maintenance; mr != nil && mr.On == nil && mr.Since != nil {
		mr.On = mr.Since // nothing to deploy after the recovery: on since the earlier run, off now
	}
	if mr := d.res.Maintenance; mr != nil && mr.On != nil && mr.Off != nil {
		mr.DurationMS = mr.Off.Sub(*mr.On).Milliseconds()
		mr.OverheadMS = mr.DurationMS - d.res.MigrationsMS
	}
	d.res.DurationMS = d.clock.Now().Sub(d.res.StartedAt).Milliseconds()
	d.watch.close(ctx)
	d.settle(ctx)
	if d.run != nil && !d.awaitRecover {
		d.recordEnd(ctx)
	}
	if d.takenOver != nil {
		// recordEnd's revive found the run taken over (its connections went after maintenance mode
		// went off): the row and the lock are the other deploy's.
		d.takenOverVerdict()
		d.progress("%s", d.res.Reason)
		return
	}
	if d.conn != nil {
		d.conn.Close(ctx)
	}
	if d.lock != nil {
		if rerr := d.lock.release(ctx); rerr != nil {
			d.log.Warn("release lock", "err", rerr)
		}
	}
}

// finishTakenOver ends a run that another deploy took over (see reconnect): it turns nothing off, records
// nothing and releases no lock, all of which are the other deploy's now; its row in schemagate_runs says
// what that deploy made of it. The run failed (exit 1): it did not deploy, and a person should read the
// other deploy's report, though nothing is known to be wrong.
func (d *deployer) finishTakenOver(ctx context.Context) {
	d.takenOverVerdict()
	for _, m := range d.res.Migrations {
		d.res.MigrationsMS += m.DurationMS
	}
	d.res.DurationMS = d.clock.Now().Sub(d.res.StartedAt).Milliseconds()
	d.watch.close(ctx)
	if d.conn != nil {
		d.conn.Close(ctx)
	}
	d.progress("%s", d.res.Reason)
}

// takenOverVerdict fills the outcome of a run that another deploy took over (d.takenOver): failed, naming
// that deploy, whose report tells what became of the run.
func (d *deployer) takenOverVerdict() {
	to := d.takenOver
	did := "no rollback, no record in history or schemagate_runs, no maintenance action"
	if mr := d.res.Maintenance; mr != nil && mr.Off != nil {
		// Seen only as the run recorded its end: maintenance mode went off before.
		did = "no record in history or schemagate_runs, no release of the lock (it had turned maintenance mode off before it saw that)"
	}
	d.res.Outcome, d.res.OK = OutcomeFailed, false
	d.res.Reason = to.Error() + "; this run did nothing after it connected again: " + did
	d.res.Hint = fmt.Sprintf("nothing to do for this run: its migrations, history and maintenance mode are as %s left them; read its report (and %s) to see what it did, e.g. whether it rolled back this run's migrations and deployed them again",
		to.by, d.hist.table("schemagate_runs"))
	if to.hint != "" {
		d.res.Hint = to.hint
	}
	if mr := d.res.Maintenance; mr != nil && mr.Off == nil && mr.Error == "" {
		mr.LeftTo = to.by
	}
}

// recordEnd records the end of the run. The next deploy takes a run left "running" for one that died,
// and its --recover would undo what the run did: a lock wait is retried as a migration's is, a lost
// connection once connected again (revive), and a run that still cannot be recorded says so in the
// result.
func (d *deployer) recordEnd(ctx context.Context) {
	retries, backoff := d.retryPolicy()
	var err error
	for attempt := 1; ; attempt++ {
		if err = d.run.finish(ctx, d.res); err == nil {
			return
		}
		var lw *LockWaitError
		if !errors.As(err, &lw) && attempt == 1 && (d.conn.IsClosed() || d.conn.Ping(ctx) != nil) {
			if d.revive(ctx) == nil {
				continue // its connection was gone (a server that restarted): connected again
			}
			if d.takenOver != nil {
				// The row is the other deploy's now (it may say recovered): no note to overwrite it,
				// and finish stops there.
				return
			}
		}
		if !errors.As(err, &lw) || attempt > retries {
			break
		}
		<-d.clock.After(backoff << (attempt - 1))
	}
	d.log.Warn("record run", "err", err)
	d.note("the end of this run could not be recorded (%v), so the next deploy will take run %s for one that died; it did not: rather than --recover, which would undo what it did, record it by hand: UPDATE %s SET status = %s, finished_at = now(), outcome = %s WHERE run_id = %s",
		err, d.o.RunID, d.hist.table("schemagate_runs"), quoteLit(d.run.endStatus()), quoteLit(d.res.Outcome), quoteLit(d.o.RunID))
}

// markFailed records the history row id of migration m as failed; when that fails (a lock wait), finish
// tries again (see settle).
func (d *deployer) markFailed(ctx context.Context, id int64, m *migrate.Migration, st step, errText string) {
	if err := d.hist.mark(ctx, d.conn, id, m.ID(), StatusFailed, st.duration, st.attempts, errText); err != nil {
		d.unsettled = append(d.unsettled, unsettledRow{id: id, label: m.ID(), d: st.duration, attempts: st.attempts, err: errText})
	}
}

// settle records as failed, once the run is over, the history rows of its transactional migrations that
// still say running because recording their end failed: a finished run whose row says running reads as
// though the migration were under way (the next deploy takes it as pending either way). One try each:
// another session may hold its lock on history still, and a note then says what to run by hand.
func (d *deployer) settle(ctx context.Context) {
	if len(d.unsettled) == 0 || d.conn == nil || d.conn.IsClosed() {
		return
	}
	var left []string
	var err error
	for _, u := range d.unsettled {
		if serr := d.hist.settle(ctx, d.conn, u.id, u.label, u.d, u.attempts, u.err); serr != nil {
			left, err = append(left, fmt.Sprint(u.id)), serr
		}
	}
	if len(left) > 0 {
		d.note("the history rows of this run's migrations that did not commit still say running (%v); the next deploy takes them as not applied, and this records them: UPDATE %s SET status = 'failed' WHERE id IN (%s) AND status = 'running' AND NOT no_transaction",
			err, d.hist.table("schemagate_history"), strings.Join(left, ", "))
	}
}

// maintenanceOff turns maintenance mode off, trying again (see offAttempts) when the off action fails in
// a way that may pass: until it goes off, the application stays down. ctx is the run's context: a signal
// that cancelled it stops the retries, but not the first attempt, which runs, as the rest of finish
// does, without its cancellation.
func (d *deployer) maintenanceOff(ctx context.Context) {
	if d.res.Maintenance == nil {
		d.res.Maintenance = &MaintenanceResult{}
	}
	if d.o.Maintenance == nil {
		d.maintOn = false
		return
	}
	run := ctx
	ctx = context.WithoutCancel(ctx)
	pause := cmp.Or(d.o.offPause, offPause)
	start := d.clock.Now()
	var err, stop error
	attempt := 1
	for ; ; attempt++ {
		if err = d.o.Maintenance.Off(ctx); err == nil || !offRetryable(err) || attempt == offAttempts {
			break
		}
		if run.Err() != nil {
			stop = context.Cause(run)
			break
		}
		wait := pause << (attempt - 1)
		if d.clock.Now().Sub(start)+wait > offRetryFor {
			break
		}
		what := err.Error()
		if !strings.HasPrefix(what, "turn maintenance mode off") { // a Switch's error says so already
			what = "turn maintenance mode off: " + what
		}
		d.progress("%s; retrying in %s (attempt %d of %d)", what, wait, attempt+1, offAttempts)
		select {
		case <-run.Done():
		case <-d.clock.After(wait):
		}
		if run.Err() != nil {
			stop = context.Cause(run)
			break
		}
	}
	var nr *NoRowError
	if errors.As(err, &nr) {
		// The off SQL ran and committed, but moved nothing: a WHERE clause that matches no row, or the
		// flag was off already. The migrations have committed, so the deploy stands; whether the
		// application serves again is for a person to check, and the warning says so wherever the run is
		// reported. The run counts as off: another deploy's off action would change no row either.
		mr := d.res.Maintenance
		mr.Warning = fmt.Sprintf("maintenance mode may still be on: %v; check that the application serves again, and fix the maintenance.off SQL so that it changes the row that turns maintenance mode off", err)
		d.note("%s", mr.Warning)
		d.progress("WARNING: %s", mr.Warning)
		err = nil
	}
	if err != nil {
		// The rest of the result stands: only the switch failed. The run stays recorded with maintenance
		// mode on, so the next deploy turns it off when it ends; until then the application is down.
		mr := d.res.Maintenance
		mr.Error = err.Error()
		switch {
		case stop != nil:
			mr.Error += fmt.Sprintf(" (attempt %d of %d; not tried again: %v)", attempt, offAttempts, stop)
		case attempt > 1:
			mr.Error += fmt.Sprintf(" (the last of %d attempts)", attempt)
		}
		state := "may still be on"
		mr.Hint = "turn it off by hand: " + byHand(d.o.Maintenance) + " (the next deploy also turns it off, when it ends)"
		var lw *LockWaitError
		if errors.As(err, &lw) {
			// Its transaction was rolled back: maintenance mode is on.
			state = "is still on"
			mr.Hint = "once the session holding the lock has ended (the error names it), " + mr.Hint
		}
		d.note("maintenance mode %s: %s; %s", state, mr.Error, mr.Hint)
		d.progress("could not turn maintenance mode off, it %s: %s", state, mr.Error)
		return
	}
	if d.res.Maintenance.Warning == "" {
		d.progress("maintenance mode off")
	}
	now := d.clock.Now().UTC()
	d.res.Maintenance.Off = &now
	d.maintOn = false
	if d.conn != nil {
		// The switch is the environment's: every run that had left it on is now off.
		_, _ = d.conn.Exec(ctx, fmt.Sprintf("UPDATE %s SET maintenance_on = false WHERE maintenance_on", d.hist.table("schemagate_runs")))
	}
}

func snapshotJSON(info *snapshot.Info) []byte {
	b, _ := json.Marshal(info)
	return b
}
