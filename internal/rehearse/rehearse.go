// Package rehearse is the pull-request job: on a throwaway PostgreSQL it replays the migration history,
// applies each new migration while tracing what every statement locks, rewrites and scans, proves the
// migration reversible (down, then up again, comparing the catalog), and classifies its risk.
package rehearse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
	"github.com/schemagate/schemagate/internal/schema"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// Options configure a rehearsal.
type Options struct {
	// Set is the migration folder as it is now.
	Set *migrate.Set
	// Base, when not nil, is the folder at the base ref: its migrations (same version and checksum) are
	// history, applied once without checks. Nil means every migration is new.
	Base *migrate.Set
	// BaseRef names the base for the report.
	BaseRef string
	// Dir names the folder for the report.
	Dir string
	// Provider starts the throwaway database.
	Provider sandbox.Provider
	// Setup are scripts run on the throwaway database before anything else, statement by statement
	// outside a transaction: what production has that the migrations do not create (roles the
	// migrations GRANT to, extensions, schemas). A failing one is an ErrSetup.
	Setup []*migrate.Script
	// Lint configures the risk rules.
	Lint lint.Config
	// VersionFrom says where the version asked for (Lint.PGVersion) comes from ("--pg-version",
	// "database.pg_version at schemagate.yml:3:15"), and ImageFrom where the docker provider's image
	// does ("from --image"), for the error of a server of another version: a version the base's
	// schemagate.yml holds over the change's is none the user wrote in the working tree. Empty: unsaid.
	VersionFrom, ImageFrom string
	// RefuseServerAccess refuses, before the server starts, scripts that reach the files or programs of
	// the server's machine (COPY … PROGRAM, pg_read_file, untrusted languages: see serverAccess), with
	// an ErrServerAccess: a CI job's rehearsal, whose server runs the change's SQL beside the job's
	// files and the clone's credentials.
	RefuseServerAccess bool
	// NoTrace turns off per-statement tracing (dynamic evidence).
	NoTrace bool
	// NoRoundtrip skips the down/up proof.
	NoRoundtrip bool
	// GenerateDown writes and verifies a rollback script for migrations without a (working) down.
	// CompareDown also generates one for migrations whose hand-written down fails its round trip.
	GenerateDown bool
	// StatementTimeout is the longest a statement may run before the rehearsal cancels it and fails its
	// migration: 0 means DefaultStatementTimeout, a negative value no limit.
	StatementTimeout time.Duration
	// StatementTimeoutFrom says where StatementTimeout was set, for the messages of a statement that ran
	// past it ("--statement-timeout", "database.statement_timeout"); "" when it is the default.
	StatementTimeoutFrom string
	// StillRunningEvery is how often Progress hears which statement is still running (default 30s).
	StillRunningEvery time.Duration
	// WholeReads reads the catalog whole after every step instead of incrementally (see pg.Inspector),
	// and the tracer's starting state before every migration instead of carrying it over from the one
	// before. A rehearsal whose incremental reads turn out to have missed a change is run again this way.
	WholeReads bool
	// Progress receives one line per step for the user (may be nil).
	Progress func(format string, args ...any)
	Logger   *slog.Logger
	// Now is the clock (tests inject one).
	Now func() time.Time
}

// Run rehearses the migrations and returns the report. It returns an error only when the tool itself
// cannot work (no database, broken connection); failing migrations are reported in the Report.
//
// At the end it reads the catalog whole once and compares it with the last incremental read. Should
// they differ (a change the incremental reads could not see, such as a function that deletes catalog
// rows), every comparison of the run is suspect: the rehearsal runs again with whole reads.
func Run(ctx context.Context, opts Options) (*report.Report, error) {
	if opts.Progress == nil {
		opts.Progress = func(string, ...any) {}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	rep, missed, err := rehearse(ctx, opts)
	if err != nil || missed == "" {
		return rep, err
	}
	opts.Logger.Debug("incremental catalog reads missed a change; rehearsing again with whole reads", "difference", missed)
	opts.Progress("incremental catalog reads missed a change (%s); rehearsing again with whole reads", missed)
	opts.WholeReads = true
	rep, _, err = rehearse(ctx, opts)
	if rep != nil {
		rep.Notes = append(rep.Notes, "The catalog was read whole after every step: reading only what changed missed a change ("+missed+").")
	}
	return rep, err
}

// rehearse is one rehearsal; missed describes what the incremental catalog reads missed, if anything.
func rehearse(ctx context.Context, opts Options) (rep *report.Report, missed string, err error) {
	started := opts.Now()
	rep = &report.Report{Tool: "schemagate", Dir: opts.Dir, Format: string(opts.Set.Format), Base: opts.BaseRef}

	sp := SplitHistory(opts.Set, opts.Base)
	history, fresh := sp.History, sp.Fresh
	opts.Progress("%s", sp.Counts(len(opts.Set.Migrations)))
	// replay is history as it replays: its subscriptions connect nowhere (quietHistory).
	replay, quieted := quietHistory(history)

	if opts.RefuseServerAccess {
		if err := serverAccessRefused(rehearsalOrder(opts.Setup, replay, fresh)); err != nil {
			return nil, "", err
		}
	}
	if opts.Provider.Name() == "url" {
		if err := sharedServerChanges(opts.Setup, opts.Set, opts.Base, nil); err != nil {
			return nil, "", err
		}
	}
	opts.Progress("starting a throwaway PostgreSQL (%s provider)", opts.Provider.Name())
	t0 := time.Now()
	inst, err := opts.Provider.Start(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("start throwaway database: %w", err)
	}
	defer closeInstance(ctx, inst, opts)
	// The statement watchdog and the sentinel stop the run when the server stops answering (see
	// run.frozen). Its sessions run without the server's transaction_timeout (see withoutTransactionTimeout).
	r := &run{opts: opts, inst: withoutTransactionTimeout(inst), rep: rep}
	ctx, end, err := r.guard(ctx)
	if err != nil {
		return nil, "", err
	}
	defer func() {
		if err = end(err); err != nil {
			if refused := r.refusedReport(err, started); refused != nil {
				rep, missed, err = refused, "", nil
				return
			}
			rep, missed = r.stoppedReport(err, started), ""
		}
	}()
	if err := serverRoleChanges(inst, opts.Setup, opts.Set, opts.Base); err != nil {
		return nil, "", err
	}
	if err := networkReach(inst, opts.Provider.Name(), rehearsalOrder(opts.Setup, replay, fresh)); err != nil {
		return nil, "", err
	}
	claimRoles(ctx, inst, opts, opts.Set, opts.Base)
	rep.Database = &report.Database{Provider: opts.Provider.Name(), ServerVersion: formatVersion(inst.ServerVersion), ReadyMS: time.Since(t0).Milliseconds(), Network: inst.Network}
	opts.Progress("PostgreSQL %s ready in %d ms%s", rep.Database.ServerVersion, rep.Database.ReadyMS, networkNote(inst.Network))
	if err := versionMismatch(opts, inst); err != nil {
		return nil, "", err
	}
	if opts.Lint.PGVersion == 0 {
		opts.Lint.PGVersion = inst.ServerVersion / 10000
	}

	insp, err := newInspector(opts.Set)
	if err != nil {
		return nil, "", err
	}
	if opts.WholeReads {
		insp.Mode = pg.InspectFull
	}
	keepOwnRoles(insp, opts, opts.Set, opts.Base)
	r.insp = insp
	r.opts = opts // as completed above (the server's version for the lint)
	if err := r.connect(ctx); err != nil {
		return nil, "", err
	}
	defer func() { r.close(context.WithoutCancel(ctx)) }()
	r.step.Store("the setup scripts")
	done := r.apply()
	err = runSetup(ctx, r.conn, opts, r.roleHook(opts.Setup...))
	r.recordRoles(ctx, stoppedAt(err), opts.Setup...)
	done()
	if err != nil {
		return nil, "", err
	}
	if err := r.toolSession(ctx); err != nil {
		return nil, "", err
	}
	for _, s := range opts.Setup {
		rep.Notes = append(rep.Notes, fmt.Sprintf("setup %s (%d statement%s) ran before the migrations", s.File, len(s.Statements), report.Plural(len(s.Statements))))
	}

	isNew := map[*migrate.Migration]bool{}
	nStatic := map[*migrate.Migration]int{} // how many of a new migration's findings come from lint.Analyze
	size := 0
	for _, m := range fresh {
		isNew[m] = true
		if m.Up != nil {
			size += len(m.Up.SQL)
		}
	}
	if size >= BigSQL {
		// A seed of 60 MB takes seconds to lint, before the next line.
		opts.Progress("linting %d new migration%s: %d MiB of SQL", len(fresh), report.Plural(len(fresh)), (size+1<<19)>>20)
	}
	for _, m := range opts.Set.Migrations {
		rm := report.Migration{Version: m.Version, Name: m.Name, File: m.Up.File, Checksum: m.Checksum, New: isNew[m], Status: report.StatusNotRun, Findings: []lint.Finding{}}
		if m.Down != nil {
			rm.DownFile = m.Down.File
		}
		rm.Statements = len(m.Up.Statements)
		if rm.New {
			static := lint.Analyze(m, opts.Set.Format, opts.Lint)
			nStatic[m] = len(static)
			rm.Findings = append(static, lint.ToolFindings(m, opts.Set.Format, opts.Lint)...)
		}
		sp.Mark(m, &rm)
		_, edited := sp.Edited[m]
		if edited || sp.Refused(m) {
			delete(nStatic, m) // its findings were replaced
		}
		rep.Migrations = append(rep.Migrations, rm)
	}
	index := map[*migrate.Migration]int{}
	for i, m := range opts.Set.Migrations {
		index[m] = i
		if base, ok := sp.Edited[m]; ok {
			index[base] = i
		}
		if base, ok := sp.SameStatements[m]; ok {
			index[base] = i
		}
		if base, ok := sp.Rerun[m]; ok {
			index[base] = i
		}
	}
	rerunBase := map[*migrate.Migration]bool{}
	for _, b := range sp.Rerun {
		rerunBase[b] = true
	}
	for _, b := range sp.Deleted {
		index[b] = len(rep.Migrations)
		rep.Migrations = append(rep.Migrations, sp.DeletedEntry(b))
	}
	r.sp, r.index, r.nStatic = sp, index, nStatic

	// History: applied once, fast (pg.ApplyHistory), so not timed migration by migration.
	if len(history) > 0 {
		opts.Progress("replaying %d history migration%s", len(history), report.Plural(len(history)))
	}
	replayStart := time.Now()
	r.replayStart = replayStart
	r.step.Store("the replay of the history")
	// While the history replays, a second connection plans the catalog reads that follow
	// (pg.Inspector.Warm), and the rehearsal goes on on it: planning those large queries costs tens of
	// milliseconds once per session, which a 2-core runner then spends beside the replay instead of
	// after it. The replay puts each script's session back as a new connection has it (Fresh), so
	// nothing of the replaying session is lost with it.
	// Its connections (and the watchdog's for it) are opened there too, as the replay starts. A warm-up
	// that cannot connect leaves the rehearsal on the replaying connection.
	var warmed, warmWatch *pgx.Conn
	warm := make(chan struct{})
	if len(history) > 0 && len(fresh) > 0 {
		go func() {
			defer close(warm)
			if c, w, err := connectPair(ctx, r.inst.URL); err == nil {
				r.warmed.Store(int32(c.PgConn().PID()))
				r.warming.Store(int32(c.PgConn().PID()))
				r.insp.Warm(ctx, c)
				r.warming.Store(0)
				warmed, warmWatch = c, w
			}
		}()
	} else {
		close(warm)
	}
	n, renewed, err := r.replay(ctx, replay)
	<-warm
	if warmed != nil {
		// A session opened as the replay started lacks the settings a history migration gave its role
		// or database since: the replay's own, opened after it, has them.
		if err != nil || renewed {
			warmed.Close(context.WithoutCancel(ctx))
			warmWatch.Close(context.WithoutCancel(ctx))
		} else if err := r.switchTo(ctx, warmed, warmWatch); err != nil {
			return nil, "", err
		}
		// Its backend runs nothing of the warm-up's any more: the rehearsal's now, or closed, when a
		// later session of the run may get its process ID, which the watchdog must not leave out.
		r.warmed.Store(0)
	}
	for _, m := range history[:n] {
		if rm := &rep.Migrations[index[m]]; rm.Status != report.StatusFailed && !rerunBase[m] {
			rm.Status = report.StatusBase
		}
	}
	var renewFailed *renewError
	if errors.As(err, &renewFailed) {
		return nil, "", fmt.Errorf("replay history: %w", err)
	}
	if err != nil {
		failed := history[n]
		if out := r.ranOut(err); out != nil {
			return nil, "", fmt.Errorf("replay history migration %s: %w", failed.ID(), out)
		}
		if isToolError(ctx, err) {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, "", ctxErr
			}
			return nil, "", fmt.Errorf("replay history migration %s: %w", failed.ID(), err)
		}
		rm := &rep.Migrations[index[failed]]
		rm.Status = report.StatusFailed
		rm.Error = r.sqlError(err, "up")
		if r.limitHit(rm.Error) {
			// The base may well apply: the rehearsal's own limit stopped it (a history that loads
			// millions of rows takes its time).
			rep.Notes = append(rep.Notes, fmt.Sprintf("history migration %s was stopped: a statement ran longer than %s, so the new migrations were not rehearsed; raise the limit to replay the history", failed.ID(), r.limitName()))
		} else {
			rep.Notes = append(rep.Notes, fmt.Sprintf("history migration %s fails: the base itself does not apply", failed.ID()))
		}
		opts.Progress("FAILED history %s: %s", failed.ID(), rm.Error.Message)
		return r.finish(started), "", nil
	}
	if len(history) > 0 {
		opts.Progress("history replayed in %d ms", time.Since(replayStart).Milliseconds())
	}
	if len(quieted) > 0 {
		r.quieted = true
		rep.Notes = append(rep.Notes, quieted...)
		opts.Progress("%d history migration%s replayed without connecting to a publisher: see the report's notes", len(quieted), report.Plural(len(quieted)))
	}
	for _, m := range history {
		if m.External == migrate.ExternalGo {
			rep.Notes = append(rep.Notes, fmt.Sprintf("history migration %s is a goose Go migration: it was not replayed, so the database lacks what it did", m.ID()))
		}
	}

	// With SCHEMAGATE_INSPECT=log, the catalog reads after each step find what it changed in a log the
	// server keeps of its DDL commands, where they can, instead of scanning the catalogs (see
	// pg.Inspector.TrackChanges). It is not the default: once it also watches for catalog rows written
	// beside the commands (which it must, to be sound), its triggers cost what its reads save.
	if len(fresh) > 0 && r.insp.Mode == pg.InspectLog {
		if err := r.insp.TrackChanges(ctx, r.conn); err != nil {
			if isToolError(ctx, err) {
				return nil, "", err
			}
			opts.Logger.Debug("catalog reads scan the catalogs", "reason", err)
		}
	}
	// before is the catalog the next migration starts from, kept as a mark so that each inspection
	// reads only what the migration changed (see pg.Inspector).
	var before *pg.Mark
	failedOutsideTx := false
	for i, m := range fresh {
		rm := &rep.Migrations[index[m]]
		opts.Progress("[%d/%d] %s", i+1, len(fresh), m.ID())
		r.step.Store("migration " + m.ID())
		r.current, r.currentUp, r.inRoundtrip, r.inVerify = rm, m.Up, false, false
		if sp.Refused(m) {
			// schemagate deploy refuses the folder with it (Split.Mark failed it): like an edited
			// migration, it is not rehearsed, and the migrations after it run without it.
			opts.Progress("  not run: it sorts before a migration the base applied (out-of-order-migration)")
			continue
		}
		if m.External != "" {
			rm.Roundtrip = &report.Roundtrip{Status: report.RoundtripSkipped, Problems: []string{"a goose Go migration: its code cannot run in the rehearsal"}}
			rm.Risk = lint.Highest(rm.Findings)
			opts.Progress("  not run: a goose Go migration (go-migration)")
			continue
		}
		if before == nil {
			if before, err = r.insp.Inspect(ctx, r.conn); err != nil {
				return nil, "", fmt.Errorf("inspect catalog: %w", err)
			}
		}
		if r.change == nil && opts.Base != nil {
			// With a base, the new migrations are one change, deployed together; without one, which
			// of them deploy together is unknown, and only what a migration itself creates is new.
			r.change = newChangeObjects(before.Catalog())
		}
		// The rules judge the migration again, knowing the tables it touches as the database has them
		// now: column types, NOT NULL, CHECK constraints and indexes that earlier migrations made.
		var reanalyze func([]lint.Position) []lint.Finding
		if n, ok := nStatic[m]; ok && n <= len(rm.Findings) {
			cfg := opts.Lint
			// Never empty: a schema given says that what it does not describe does not exist (an
			// empty one would leave CREATE ... IF NOT EXISTS in doubt).
			cfg.Schema = "-- the rehearsal's catalog of what the migration names\n" + before.Catalog().SchemaSQL(mentionedIn(statementsText(m.Up)))
			cfg.ChangeCreated = r.change.created()
			rest := slices.Clone(rm.Findings[n:])
			rm.Findings = append(lint.Analyze(m, opts.Set.Format, cfg), rest...)
			// Once the trace shows which statements did nothing, the rules judge it so (see up).
			reanalyze = func(nothing []lint.Position) []lint.Finding {
				cfg.NothingDone = nothing
				return append(lint.Analyze(m, opts.Set.Format, cfg), rest...)
			}
		}
		r.copied = false
		after, ok, err := r.up(ctx, m, rm, before, reanalyze)
		if err != nil {
			return nil, "", err
		}
		if !ok {
			opts.Progress("  FAILED at %s:%d:%d: %s", path.Join(filepath.ToSlash(opts.Dir), rm.Error.File), rm.Error.Line, rm.Error.Column, rm.Error.Message)
			// A failed migration stops the run: the new session is for the checks that end it.
			if _, err := r.revive(ctx, "migration "+m.ID(), rm.Error, notRun(fresh[i+1:])); err != nil {
				return nil, "", err
			}
			// A transaction rolled back leaves the catalog as before; statements in autocommit may not,
			// and a verify script fails after its change committed.
			failedOutsideTx = m.NoTransaction || rm.Error.Phase == "verify"
			break // later migrations stay not-run
		}
		rm.SchemaDiff = schema.Compare(before.Catalog(), after.Catalog())
		r.inRoundtrip, r.inVerify = true, false
		if !opts.NoRoundtrip {
			if err := r.roundtrip(ctx, m, rm, before, after); err != nil {
				return nil, "", err
			}
		} else {
			rm.Roundtrip = &report.Roundtrip{Status: report.RoundtripSkipped, Problems: []string{}}
		}
		revived, err := r.revive(ctx, "the round trip of "+m.ID(), rm.Roundtrip.Error, goesOn)
		if err != nil {
			return nil, "", err
		}
		if opts.GenerateDown && (m.Down.Empty() || rm.Roundtrip.Status == report.RoundtripFailed) {
			if err := r.generateDown(ctx, m, rm, before, after); err != nil {
				return nil, "", err
			}
			if again, err := r.revive(ctx, "the round trip of the down written for "+m.ID(), nil, goesOn); err != nil {
				return nil, "", err
			} else if again {
				revived = true
			}
		}
		rm.Risk = lint.Highest(rm.Findings)
		opts.Progress("  applied in %d ms, %d statement%s, round trip %s, risk %s", rm.DurationMS, rm.Statements, report.Plural(rm.Statements), rm.Roundtrip.Status, rm.Risk)
		r.change.after(after.Catalog(), m.ID())
		before = after
		if r.copied || revived {
			before = nil // the database was copied or swapped: read it whole next time
			r.trace = nil
		}
	}
	r.current = nil
	opts.Logger.Debug("catalog reads", "full", r.insp.Full, "incremental", r.insp.Partial, "from the change log", r.insp.Logged, "owners read incrementally", r.insp.Owners)
	if before != nil && before.Incremental && !failedOutsideTx {
		if missed, err = r.insp.Check(ctx, r.conn, before); err != nil {
			return nil, "", fmt.Errorf("inspect catalog: %w", err)
		}
	}
	return r.finish(started), missed, nil
}

// ErrSetup marks a setup script that failed: bad input, not a failing migration.
var ErrSetup = errors.New("setup script failed")

// runSetup runs the setup scripts, each statement on its own (autocommit), as psql -f does; hook, when
// not nil, sees the statements it picks (see run.roleHook).
func runSetup(ctx context.Context, conn *pgx.Conn, opts Options, hook *pg.StatementHook) error {
	for _, s := range opts.Setup {
		opts.Progress("running setup %s (%d statement%s)", s.File, len(s.Statements), report.Plural(len(s.Statements)))
		for i := range s.Statements {
			if st := &s.Statements[i]; st.Err != nil {
				return fmt.Errorf("%w: %s:%d:%d: %s", ErrSetup, s.File, st.Err.Pos.Line, st.Err.Pos.Column, st.Err.Message)
			}
		}
		if err := pg.ApplyScript(ctx, conn, s, pg.ApplyOptions{Hook: hook}); err != nil {
			if isToolError(ctx, err) {
				return setupFailure(s.File, err)
			}
			return fmt.Errorf("%w: %w", ErrSetup, err)
		}
	}
	return nil
}

// withoutTransactionTimeout is inst with URLs whose sessions turn PostgreSQL 17's transaction_timeout off
// (-c transaction_timeout=0 in their options): on a server (the url provider's) whose role or database
// sets it, the server would end the rehearsal's session once one of its transactions (a migration and
// its catalog reads, a round trip's copy of the database) outlasted it. A startup option is the session's
// own value, which every RESET ALL (pg.ResetSession) comes back to, as a SET would not; the rehearsal's
// limits are its own (--statement-timeout, the watchdog). Older servers, which refuse the unknown setting
// at connection, keep their URLs, as does a URL that cannot be parsed.
func withoutTransactionTimeout(inst *sandbox.Instance) *sandbox.Instance {
	if inst.ServerVersion < 170000 {
		return inst
	}
	own := *inst
	for _, u := range []*string{&own.URL, &own.AdminURL} {
		p, err := url.Parse(*u)
		if *u == "" || err != nil {
			continue
		}
		q := p.Query()
		q.Set("options", strings.TrimSpace(q.Get("options")+" -c transaction_timeout=0"))
		p.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20") // the driver reads a + as itself, not as a space
		*u = p.String()
	}
	return &own
}

// closeInstance removes the throwaway database; what it could not clean up is reported, not fatal.
func closeInstance(ctx context.Context, inst *sandbox.Instance, opts Options) {
	if err := inst.Close(context.WithoutCancel(ctx)); err != nil {
		opts.Progress("warning: cleaning up the throwaway database: %v", err)
		opts.Logger.Warn("cleanup failed", "err", err)
	}
}

// allScripts lists the setup scripts and every script (up, down, verify; some nil) of the sets.
func allScripts(setup []*migrate.Script, sets ...*migrate.Set) []*migrate.Script {
	scripts := slices.Clone(setup)
	for _, set := range sets {
		if set == nil {
			continue
		}
		for _, m := range set.Migrations {
			scripts = append(scripts, m.Up, m.Down, m.Verify)
		}
	}
	return scripts
}

// claimRoles tells a shared server (url provider) which roles the setup scripts and the migrations
// create (CREATE ROLE, USER or GROUP), so that it drops them with the run's database, or a later run
// does when this one dies. Those the server had before the run are not the run's: the provider leaves
// them alone.
func claimRoles(ctx context.Context, inst *sandbox.Instance, opts Options, sets ...*migrate.Set) {
	if inst.ClaimRoles == nil {
		return
	}
	var roles []string
	for name := range ownRoles(allScripts(opts.Setup, sets...)) {
		roles = append(roles, name)
	}
	slices.Sort(roles)
	if err := inst.ClaimRoles(ctx, roles); err != nil {
		opts.Progress("warning: %v", err)
		opts.Logger.Warn("could not mark the roles the migrations create", "err", err)
	}
}

type run struct {
	opts    Options
	inst    *sandbox.Instance
	rep     *report.Report
	conn    *pgx.Conn
	observe *pgx.Conn
	insp    *pg.Inspector
	// copied is set when a round trip ran on a copy of the database (non-transactional migrations):
	// the marks taken before no longer describe the database's catalog rows.
	copied bool
	// trace is where the last transactional up's tracer ended, for the next one to start from (nil:
	// read everything). Catalog reads and rolled-back round trips leave it true.
	trace *pg.TraceState
	// watch cancels statements that run too long (see watchdog); canceled counts those it canceled;
	// applying is set while migrations' statements run (see apply).
	watch    *watchdog
	canceled atomic.Int64
	applying atomic.Bool
	// warming is the backend of the connection that plans the catalog reads beside the replay (see
	// pg.Inspector.Warm), 0 when none: the watchdog neither reports nor cancels its statements, which
	// are schemagate's own and no migration's.
	warming atomic.Int32
	// warmed is that backend, kept once the warm-up is over until the rehearsal goes on on it or closes
	// it: a look sent before the warm-up began (with warming still 0) may be answered while it runs, and
	// the watchdog leaves its rows out too.
	warmed atomic.Int32
	// ended is the statement whose session the watchdog ended, as it ignored its cancellation.
	ended atomic.Value
	// running is what the rehearsal's session runs, for the watchdog's lines (see run.during), and
	// replayStart when the history's replay started.
	running     atomic.Pointer[running]
	replayStart time.Time
	// stall stops the run (cancels its context) when its server stops answering (see run.frozen); step
	// names what the run is doing, for that error. uncovered is set while no watchdog watches the
	// server, and the sentinel does (see sentinel).
	stall     context.CancelCauseFunc
	step      atomic.Value
	uncovered atomic.Bool
	// ran holds what writesCatalog found in the text of each script it read, code that text
	// (statementsText).
	ran  map[*migrate.Script]pg.Ran
	code map[*migrate.Script]string
	// sp, index and nStatic are the rehearsal's split of the folder, each migration's place in the
	// report, and how many of a new migration's findings lint.Analyze gave, for judgeNotRun.
	sp      Split
	index   map[*migrate.Migration]int
	nStatic map[*migrate.Migration]int
	// columnOrder describes the columns the current migration's round trip moved (see splitColumnOrder).
	columnOrder []string
	// quieted is set when the history's subscriptions were replayed without connecting (quietHistory).
	quieted bool
	// change follows the relations the new migrations create, from the first one on.
	change *changeObjects
	// db is the rehearsal's database once asked (see database). Its copy for a round trip takes its
	// name when swapped back in (roundtripWithCopy).
	db string
	// current is the new migration under way (its up script currentUp), in its round trip when
	// inRoundtrip is set, in its sqitch verify script when inVerify is: the one a server that stops
	// answering fails (see stoppedReport).
	current     *report.Migration
	currentUp   *migrate.Script
	inRoundtrip bool
	inVerify    bool
}

// stoppedReport is the report of a run whose server stopped answering (err, a stoppedError) while it
// rehearsed the new migrations: what was done, the migration under way failed (or its round trip) with
// that error, the later ones not run, so that a CI keeps a report as for any other failure; the run
// still fails with err, the tool's failure. It is nil for any other error, or a stop before the new
// migrations (the setup, the history), of which there is nothing to report.
//
// So is the report of a run stopped because the server ran out of the machine's disk or memory (a
// *resourceError): the statement that met it failed with what ran out, and what to free.
func (r *run) stoppedReport(err error, started time.Time) *report.Report {
	var stopped *stoppedError
	var out *resourceError
	rm := r.current
	if rm == nil {
		return nil
	}
	var cause error
	var prefix, hint, note string
	switch {
	case errors.As(err, &stopped):
		cause, hint = stopped.err, stopped.hint
		if hint == "" {
			hint = "The server went away under the rehearsal (killed, out of memory, its container stopped): this migration may be what did it, or the machine. Run the check again; if it stops here again, look at what the migration runs."
		}
		prefix = "the throwaway PostgreSQL (" + stopped.provider + " provider) stopped answering: "
		note = "The throwaway PostgreSQL stopped answering during %s: the rehearsal stopped there, and the later migrations were not run."
	case errors.As(err, &out):
		cause, hint = out.se, out.hint()
		prefix = "the throwaway PostgreSQL ran out of " + out.what + " (the machine's lack, not a fault of the migration): "
		note = "The throwaway PostgreSQL ran out of " + out.what + " during %s: the rehearsal stopped there, and the later migrations were not run."
	default:
		return nil
	}
	phase := "up"
	if r.inVerify {
		phase = "verify"
	}
	if r.inRoundtrip {
		phase = "" // the down or the re-up: the error's file and line say which
	}
	// says makes e the server's stop: a new error, or the one the step failed with when its session
	// was lost (the server's "terminating connection due to unexpected postmaster exit") before the
	// run found that the server no longer answers. Another failure stays as it is.
	says := func(e *report.SQLError) *report.SQLError {
		if e == nil {
			e = sqlError(cause, phase)
		} else if e.SQLState != "" && e.SQLState != "57P01" && !strings.HasPrefix(e.SQLState, "08") {
			return e
		}
		e.Message = prefix + e.Message
		e.Hint = hint
		return e
	}
	switch {
	case !r.inRoundtrip:
		if rm.Status != report.StatusFailed {
			rm.Error = nil
		}
		rm.Status, rm.Error = report.StatusFailed, says(rm.Error)
		if rm.Error.File == "" {
			rm.Error.File = r.currentUp.File
		}
	case rm.Roundtrip == nil || rm.Roundtrip.Status != report.RoundtripFailed:
		rm.Roundtrip = &report.Roundtrip{Status: report.RoundtripFailed, Error: says(nil), Problems: []string{}}
	default:
		rm.Roundtrip.Error = says(rm.Roundtrip.Error)
	}
	rm.Risk = lint.Highest(rm.Findings)
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf(note, rm.Label()))
	return r.finish(started)
}

func (r *run) connect(ctx context.Context) error {
	conn, watch, err := connectPair(ctx, r.inst.URL)
	if err != nil {
		return r.refusedAtLogin(ctx, err)
	}
	r.conn = conn
	return r.startWatchdog(ctx, watch)
}

// loginRefusedError is a new session of the rehearsal's database that the server refused because a
// login event trigger (PostgreSQL 17) raised as it started: a migration created it, and from then on
// the database takes no new session, the rehearsal's (a round trip's copy, a reconnection) included.
type loginRefusedError struct {
	// triggers names the database's enabled ON login triggers, "" when they could not be read.
	triggers string
	err      error
}

func (e *loginRefusedError) Error() string { return e.message("its") }

// message says what refused the session, the trigger being whose (its, the database's).
func (e *loginRefusedError) message(whose string) string {
	what := whose + " login event trigger"
	if e.triggers != "" {
		what += " " + e.triggers
	}
	// The server's words: the connection's own (user, host, port) say nothing of the migration.
	msg := e.err.Error()
	var pe *pgconn.PgError
	if errors.As(e.err, &pe) {
		msg = pe.Severity + ": " + pe.Message
	}
	return what + " refuses new sessions of the database (" + msg + ")"
}

func (e *loginRefusedError) Unwrap() error { return e.err }

// refusedAtLogin is err, the refusal of a new session of the rehearsal's database, as a
// *loginRefusedError when an event trigger ON login refused it: a session that may turn event triggers
// off (a superuser's, event_triggers = off) gets in and finds one enabled, or, for a role that may not,
// the database says it has one (pg_database.dathasloginevt, read on the maintenance connection). A
// refusal for want of capacity (SQLSTATE class 53: a connection limit) is a *capacityError, which names
// the limit to raise. Anything else is err as it is.
func (r *run) refusedAtLogin(ctx context.Context, err error) error {
	if ce := asCapacity(err); ce != err {
		return ce
	}
	var pe *pgconn.PgError
	if r.inst.ServerVersion < 170000 || !errors.As(err, &pe) || strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P") {
		return err
	}
	cfg, perr := pgx.ParseConfig(r.inst.URL)
	if perr != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	cfg.RuntimeParams["event_triggers"] = "off"
	if c, cerr := pgx.ConnectConfig(ctx, ownDeadline(cfg)); cerr == nil {
		defer c.Close(ctx)
		var names *string
		if qerr := c.QueryRow(ctx, `SELECT string_agg(evtname, ', ' ORDER BY evtname) FROM pg_catalog.pg_event_trigger
			WHERE evtevent = 'login' AND evtenabled <> 'D'`).Scan(&names); qerr != nil || names == nil {
			return err
		}
		return &loginRefusedError{triggers: *names, err: err}
	}
	if r.inst.AdminURL == "" {
		return err
	}
	admin, aerr := pgx.Connect(ctx, r.inst.AdminURL)
	if aerr != nil {
		return err
	}
	defer admin.Close(ctx)
	var has bool
	if qerr := admin.QueryRow(ctx, `SELECT coalesce((to_jsonb(d)->>'dathasloginevt')::bool, false) FROM pg_catalog.pg_database d
		WHERE d.datname = $1`, cfg.Database).Scan(&has); qerr != nil || !has {
		return err
	}
	return &loginRefusedError{err: err}
}

// loginTriggerBefore is the last new migration applied before rm whose up may create an event trigger
// ON login (see loginTriggerStatement), with that statement; nil if none.
func (r *run) loginTriggerBefore(rm *report.Migration) (*report.Migration, *sqlparse.Statement) {
	var em *report.Migration
	var es *sqlparse.Statement
	for i := range r.rep.Migrations {
		x := &r.rep.Migrations[i]
		if x == rm {
			break
		}
		if !x.New || x.Status != report.StatusApplied {
			continue
		}
		for _, m := range r.opts.Set.Migrations {
			if m.Version == x.Version && m.Up != nil && m.Up.File == x.File {
				if s := loginTriggerStatement(m.Up); s != nil {
					em, es = x, s
				}
			}
		}
	}
	return em, es
}

// refusedReport is the report of a run stopped by a login event trigger that refuses the rehearsal's
// new sessions (err, a loginRefusedError) while it rehearsed the new migrations: the migration under
// way fails with it, its up having created the trigger, and the later ones are not run. It is nil for
// any other error, or one before the new migrations (the setup, the history).
func (r *run) refusedReport(err error, started time.Time) *report.Report {
	var refused *loginRefusedError
	rm := r.current
	if rm == nil || !errors.As(err, &refused) {
		return nil
	}
	var failed *report.SQLError
	if rm.Status == report.StatusFailed {
		failed = rm.Error
	}
	rm.Status = report.StatusFailed
	// The statement that created the trigger, where the up has it in plain sight. An up without one
	// may have created it otherwise (a routine an earlier migration made), or an earlier new migration
	// did in a way the rehearsal did not try a new session after: that one fails too, at its
	// statement, and the trigger is said to be the database's.
	s := loginTriggerStatement(r.currentUp)
	rm.Error = refusalError(refused, "its", "up", r.currentUp, s)
	if s == nil {
		rm.Error.Message = refused.message("the database's") + ": the rehearsal could not open one for this migration"
		if em, s := r.loginTriggerBefore(rm); em != nil {
			e := *rm.Error
			e.Message, e.File, e.Line, e.Column, e.Statement = refused.Error(), em.File, s.Pos.Line, s.Pos.Column, s.SQL
			em.Status, em.Error = report.StatusFailed, &e
			rm.Error.Message += " (" + em.Label() + " created it)"
		}
	}
	if failed != nil {
		// The up failed first: its own error stays, the refusal is what followed it.
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("After %s failed, %s.", rm.Label(), rm.Error.Message))
		rm.Error = failed
	}
	if r.inRoundtrip && (rm.Roundtrip == nil || rm.Roundtrip.Status == "") {
		rm.Roundtrip = &report.Roundtrip{Status: report.RoundtripSkipped, Problems: []string{}}
	}
	rm.Risk = lint.Highest(rm.Findings)
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("The rehearsal's database refused new sessions after %s (a login event trigger): the rehearsal stopped there, and the later migrations were not run.", rm.Label()))
	return r.finish(started)
}

// connectPair opens two connections to url at once: the rehearsal's and its statement watchdog's. Each
// new session costs its server a process and its start (about 15 ms on a small VM), which the run
// would otherwise wait for twice.
func connectPair(ctx context.Context, url string) (conn, watch *pgx.Conn, err error) {
	var werr error
	opened := make(chan struct{})
	go func() {
		defer close(opened)
		watch, werr = pg.ConnectOwn(ctx, url)
	}()
	conn, err = pgx.Connect(ctx, url)
	<-opened
	switch {
	case err != nil:
		err = fmt.Errorf("connect to throwaway database: %w", err)
	case werr != nil:
		err = fmt.Errorf("connect the statement watchdog: %w", werr)
	default:
		return conn, watch, nil
	}
	for _, c := range []*pgx.Conn{conn, watch} {
		if c != nil {
			c.Close(context.WithoutCancel(ctx))
		}
	}
	return nil, nil, err
}

// stoppedError is a rehearsal stopped by its server: it no longer answers (killed, out of memory, its
// container stopped from outside).
type stoppedError struct {
	provider, during string
	err              error
	// dir is the migration folder, which the statement that failed with err is named in.
	dir string
	// hint is what the provider knows of the server (sandbox.Instance.Stalled), if anything.
	hint string
}

func (e *stoppedError) Error() string {
	s := "the throwaway PostgreSQL (" + e.provider + " provider) stopped answering"
	if e.during != "" {
		s += " during " + e.during
	}
	msg := e.err.Error()
	// A statement's error names its file in the folder, as the failures in the report do; a setup
	// script's is named as it was given.
	var se *pg.StatementError
	var setup *setupScriptError
	if e.dir != "" && errors.As(e.err, &se) && se.File != "" && !path.IsAbs(se.File) && !errors.As(e.err, &setup) {
		msg = strings.Replace(msg, se.File+":", path.Join(filepath.ToSlash(e.dir), se.File)+":", 1)
	}
	s += ": " + msg
	if e.hint != "" {
		s += "\nhint: " + e.hint
	}
	return s
}

func (e *stoppedError) Unwrap() error { return e.err }

// setupScriptError is a setup script that did not run through for the tool's reason (its server went
// away). The script is named as it was given (database.setup, --setup), not in the migration folder.
type setupScriptError struct {
	file string
	err  error
}

// setupFailure is the error of setup script file that failed with err, a tool error.
func setupFailure(file string, err error) error { return &setupScriptError{file: file, err: err} }

func (e *setupScriptError) Error() string { return "setup " + e.file + ": " + e.err.Error() }
func (e *setupScriptError) Unwrap() error { return e.err }

// progress says how far a long script has come (see pg.ApplyOptions.Progress).
func (r *run) progress(phase string, s *migrate.Script) func(done, total int, next *sqlparse.Statement) {
	start := time.Now()
	return func(done, total int, next *sqlparse.Statement) {
		r.opts.Progress("  %s: %d of %d statements in %s, now at %s:%d", phase, done, total,
			time.Since(start).Round(time.Second), path.Join(filepath.ToSlash(r.opts.Dir), s.File), next.Pos.Line)
	}
}

// serverAnswers connects to the server at url and runs SELECT 1 there, within the time given: nil when
// it did, otherwise why not (a timeout when nothing answered in time, see waitedInVain; a
// *pgconn.PgError when the server answered with a refusal).
func serverAnswers(ctx context.Context, url string, within time.Duration) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	return answers(ctx, cfg, within)
}

// answers is serverAnswers for a parsed configuration.
func answers(ctx context.Context, cfg *pgx.ConnConfig, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, ownDeadline(cfg))
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	_, err = c.Exec(ctx, "SELECT 1")
	return err
}

// goesOn is what follows a round trip whose session was ended (see run.revive).
const goesOn = "the rehearsal goes on in a new one"

// notRun says which migrations a failed one leaves not run, for the progress (see run.revive); "" when
// it was the last.
func notRun(later []*migrate.Migration) string {
	switch len(later) {
	case 0:
		return ""
	case 1:
		return later[0].ID() + " is not run"
	}
	return fmt.Sprintf("the %d later migrations (%s to %s) are not run", len(later), later[0].ID(), later[len(later)-1].ID())
}

// revive opens a new session when a statement ended the rehearsal's own (a migration that runs
// pg_terminate_backend on its own backend, or the watchdog ending one that ignored its cancellation):
// the session's transaction was rolled back with it, so the database is as the step before left it.
// After a round trip the run goes on in it; after a failed up, only the checks that end the run use it.
// A server that no longer answers is the tool's failure, named as such. cause is the failure the
// migration's report holds, if any; next is what the progress says follows ("" for nothing). It tells
// whether it reconnected.
func (r *run) revive(ctx context.Context, during string, cause *report.SQLError, next string) (bool, error) {
	if r.conn == nil || !r.conn.IsClosed() {
		return false, nil
	}
	r.close(ctx)
	if err := r.connect(ctx); err != nil {
		if cause != nil {
			at := ""
			if cause.File != "" {
				at = report.Place(path.Join(filepath.ToSlash(r.opts.Dir), cause.File), cause.Line, cause.Column) + ": "
			}
			during += " (" + at + cause.Message + ")"
		}
		return false, &stoppedError{provider: r.opts.Provider.Name(), during: during, err: err, dir: r.opts.Dir}
	}
	if next == "" {
		r.opts.Progress("  its session was ended")
	} else {
		r.opts.Progress("  its session was ended: %s", next)
	}
	return true, nil
}

// switchTo makes conn, a connection to the same database, the rehearsal's, with watch, another, for its
// watchdog.
func (r *run) switchTo(ctx context.Context, conn, watch *pgx.Conn) error {
	r.close(ctx)
	r.conn = conn
	return r.startWatchdog(ctx, watch)
}

func (r *run) close(ctx context.Context) {
	r.stopWatchdog()
	if r.conn != nil {
		r.conn.Close(ctx)
		r.conn = nil
	}
	if r.observe != nil {
		r.observe.Close(ctx)
		r.observe = nil
	}
}

func (r *run) observer(ctx context.Context) (*pgx.Conn, error) {
	if r.observe != nil {
		return r.observe, nil
	}
	c, err := pg.ConnectOwn(ctx, r.inst.URL)
	if err != nil {
		return nil, fmt.Errorf("connect observer: %w", r.refusedAtLogin(ctx, err))
	}
	r.observe = c
	return c, nil
}

func (r *run) finish(started time.Time) *report.Report {
	r.judgeNotRun()
	for i := range r.rep.Migrations {
		r.rep.Migrations[i].Findings = lint.Fold(r.rep.Migrations[i].Findings)
	}
	r.rep.Finish()
	r.rep.DurationMS = r.opts.Now().Sub(started).Milliseconds()
	return r.rep
}

// up applies m's up script with tracing and reads the catalog after it, starting from before. ok is false
// when the migration failed (rm says why). reanalyze, when not nil, gives the migration's findings anew
// with the statements the trace saw do nothing judged so (see lint.DidNothing).
func (r *run) up(ctx context.Context, m *migrate.Migration, rm *report.Migration, before *pg.Mark, reanalyze func([]lint.Position) []lint.Finding) (*pg.Mark, bool, error) {
	start := time.Now()
	from := r.trace
	if r.opts.WholeReads {
		from = nil
	}
	r.trace = nil // set again below when this up commits with a tracer
	var evidence []lint.Evidence
	var err error
	var locks []pg.Lock
	incremental := false
	if err := pg.ResetWith(ctx, r.conn, r.insp.ResetSQL()); err != nil {
		return nil, false, err
	}
	done := r.apply()
	defer done()
	switch {
	case m.NoTransaction && r.opts.NoTrace:
		err = pg.ApplyScript(ctx, r.conn, m.Up, pg.ApplyOptions{Progress: r.progress("up", m.Up), Running: r.during("up", m.Up), Join: true, Hook: r.roleHook(m.Up)})
	case m.NoTransaction:
		obs, oerr := r.observer(ctx)
		if oerr != nil {
			return nil, false, oerr
		}
		tr, terr := pg.NewConcurrentTracer(ctx, r.conn, obs, m.Up.File)
		if terr != nil {
			return nil, false, terr
		}
		progress, reported := r.progress("up", m.Up), time.Now()
		hook, sending := r.roleHook(m.Up), r.during("up", m.Up)
		for i := range m.Up.Statements {
			st := &m.Up.Statements[i]
			if time.Since(reported) >= pg.ProgressEvery {
				progress(i, len(m.Up.Statements), st)
				reported = time.Now()
			}
			sending(st)
			if e := tr.Exec(ctx, st); e != nil {
				err = pg.Positioned(m.Up, st, e)
				break
			}
			if hook != nil && hook.Picks(st) {
				hook.Ran(ctx, m.Up, i)
			}
		}
		err = pg.EndsIdle(ctx, r.conn, m.Up, err)
		evidence = tr.Evidence
	default:
		if e := r.begin(ctx); e != nil {
			return nil, false, e
		}
		opts := pg.ApplyOptions{Progress: r.progress("up", m.Up), Running: r.during("up", m.Up), Join: true}
		var tr *pg.Tracer
		if !r.opts.NoTrace {
			var terr error
			if tr, terr = pg.NewTracerFrom(ctx, r.conn, m.Up.File, from); terr != nil {
				rollbackTx(ctx, r.conn)
				return nil, false, terr
			}
			opts.After, opts.Quiet = tr.After, tr.Quiet
		}
		err = pg.ApplyScript(ctx, r.conn, m.Up, opts)
		if err == nil {
			err = settleTx(ctx, r.conn, m.Up)
			if err == nil && tr != nil && deferredWork(before.Catalog(), m.Up) {
				// What the deferred checks and triggers did counts as the last statement's.
				if err := tr.Settled(ctx); err != nil {
					rollbackTx(ctx, r.conn)
					return nil, false, err
				}
			}
		}
		if tr != nil {
			evidence = tr.Evidence
		}
		if err == nil {
			// The locks the transaction holds name what it changed or dropped: the catalog read after
			// the commit starts from them.
			if locks, err = r.insp.Locks(ctx, r.conn); err != nil {
				rollbackTx(ctx, r.conn)
				return nil, false, err
			}
			incremental = true
			r.recordRoles(ctx, nil, m.Up) // before the COMMIT (see sandbox.Instance.RolesCreated)
			if err = commitTx(ctx, r.conn, m.Up); err == nil && tr != nil {
				r.trace = tr.State()
			} else if err != nil {
				// A COMMIT canceled before it committed (the migration's SET LOCAL statement_timeout
				// running out on a busy machine) leaves the transaction open and aborted: the catalog
				// check that ends the run failed in it (25P02).
				rollbackTx(ctx, r.conn)
			}
		} else {
			rollbackTx(ctx, r.conn)
		}
	}
	if m.NoTransaction {
		r.recordRoles(ctx, stoppedAt(err), m.Up)
	}
	done()
	rm.DurationMS = time.Since(start).Milliseconds()
	rm.Trace = traces(m.Up, evidence)
	if !r.opts.NoTrace {
		ev := r.change.evidence(evidence)
		// A migration run outside a transaction has its locks sampled: no lock seen proves nothing.
		if nothing := lint.DidNothing(rm.Findings, ev); reanalyze != nil && !m.NoTransaction && len(nothing) > 0 {
			rm.Findings = reanalyze(nothing)
		}
		rm.Findings = lint.ApplyEvidenceWith(r.opts.Lint, rm.Findings, ev, lint.IgnoresOf(m.Up)...)
	}
	if err != nil {
		if out := r.ranOut(err); out != nil {
			return nil, false, out
		}
		if isToolError(ctx, err) {
			return nil, false, err
		}
		rm.Status = report.StatusFailed
		rm.Error = r.sqlError(err, "up")
		return nil, false, nil
	}
	// A login event trigger it made that refuses new sessions fails it, here: nothing after it in the
	// rehearsal may need a new session, while every session after it in production does.
	if e, err := r.loginRefused(ctx, m.Up, "up", "its"); err != nil || e != nil {
		if err != nil {
			return nil, false, err
		}
		rm.Status, rm.Error = report.StatusFailed, e
		return nil, false, nil
	}
	// Its verify script, its round trip and the later migrations start from the settings it gave its
	// role or database, as each would in a session of its own.
	if _, err := r.renew(ctx, m.Up); err != nil {
		return nil, false, err
	}
	if m.Verify != nil && !m.Verify.Empty() {
		r.inVerify = true // until the next migration: a stop met here is reported after this returns
		err := r.verify(ctx, m)
		if err != nil {
			// A verify script that the machine's disk or memory stops is no more at fault than a deploy
			// script: the verify would have passed on a machine with room.
			if out := r.ranOut(err); out != nil {
				return nil, false, out
			}
			if isToolError(ctx, err) {
				return nil, false, err
			}
			rm.Status = report.StatusFailed
			rm.Error = r.sqlError(err, "verify")
			return nil, false, nil
		}
		r.inVerify = false // it passed: a stop met in the catalog read that follows is not the verify's
	}
	rm.Status = report.StatusApplied
	if !incremental {
		before = nil // autocommit: the locks are gone, read the catalog whole
	}
	after, err := r.insp.Since(ctx, r.conn, before, locks, r.writesCatalog(m.Up, before))
	if err != nil {
		return nil, false, fmt.Errorf("inspect catalog: %w", err)
	}
	return after, true, nil
}

// writesCatalog tells what a script, run on the database before marks, may change in the catalog that
// an incremental read must know of (see pg.Ran): what it cannot see, and rows of built-in objects
// (GRANT ... ON pg_catalog...), by the script's own text, or through a function of before's catalog
// that it may run (see Inspector.CallsUnseen and CallsBuiltIns). What the text
// shows is kept: the up is asked again after its round trip's down, and reading a seed script of 15 MB
// takes seconds. The functions are asked each time, as the catalog before the down differs from that
// before the up.
//
// Both read the script's statements, not the rows of its COPY ... FROM stdin blocks: those are data,
// never SQL (a pg_dump's rows that mention GRANT or dblink made every read after it whole), and a dump
// of 50 MB took a minute to scan where its rows load in three seconds.
func (r *run) writesCatalog(s *migrate.Script, before *pg.Mark) pg.Ran {
	if s == nil {
		return pg.Ran{}
	}
	w, ok := r.ran[s]
	if !ok {
		if r.ran == nil {
			r.ran, r.code = map[*migrate.Script]pg.Ran{}, map[*migrate.Script]string{}
		}
		r.code[s] = statementsText(s)
		w = pg.Ran{Unseen: pg.UnseenChanges(r.code[s]), BuiltIns: pg.TouchesBuiltIns(r.code[s])}
		r.ran[s] = w
	}
	return pg.Ran{Unseen: w.Unseen || r.insp.CallsUnseen(r.code[s], before), BuiltIns: w.BuiltIns || r.insp.CallsBuiltIns(before)}
}

// BigSQL is how much SQL takes long enough to lint (or parse) that a progress line says so first.
const BigSQL = 8 << 20

// statementsText is the script's code that UnseenChanges, TouchesBuiltIns and CallsUnseen read: its
// statements' text, one after the other, without the data rows of its COPY ... FROM stdin statements
// and without the rows of a VALUES list of literals (see sqlparse.Statement.Code), which are data too:
// a seed's INSERT of megabytes of rows is a few words of code, where the regular expressions took
// seconds over its whole text. A script without either is its SQL as it is.
func statementsText(s *migrate.Script) string {
	var b strings.Builder
	data := false
	for i := range s.Statements {
		st := &s.Statements[i]
		code := st.Code()
		data = data || st.FromStdin || len(code) < len(st.SQL)
		b.WriteString(code)
		b.WriteString("\n")
	}
	if !data {
		return s.SQL
	}
	return b.String()
}

// isToolError tells a broken rehearsal (cancelled, connection lost) from a failing migration.
func isToolError(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	var se *pg.StatementError
	if errors.As(err, &se) {
		return se.SQLState == "" && pg.ConnectionLost(err)
	}
	return pg.ConnectionLost(err)
}

func traces(s *migrate.Script, ev []lint.Evidence) []report.StatementTrace {
	out := []report.StatementTrace{} // not len(ev): a run of INSERTs takes one
	// Evidence is per statement run, which leaves out the script's own BEGIN and COMMIT: each names its
	// statement by position.
	at := make(map[[2]int]*sqlparse.Statement, len(s.Statements))
	for i := range s.Statements {
		st := &s.Statements[i]
		at[[2]int{st.Pos.Line, st.Pos.Column}] = st
	}
	var run *sqlparse.Statement // the statement of the last trace, when it may take in the next ones
	for _, e := range ev {
		st := at[[2]int{e.Line, e.Column}]
		quiet := len(e.Locks) == 0 && len(e.Rewritten) == 0 && len(e.Scanned) == 0 && len(e.FastDefault) == 0 &&
			len(e.InvalidIndexes) == 0 && e.Err == "" && !e.Concurrent
		if quiet && run != nil && st != nil && pg.SameInserts(run, st) {
			// A seed migration's INSERTs into a plain table: one trace for the run, not one per row.
			t := &out[len(out)-1]
			t.Repeated++
			t.ThroughLine = e.Line
			t.DurationMS = math.Round((t.DurationMS+e.DurationMS)*1000) / 1000
			continue
		}
		run = nil
		if quiet {
			run = st
		}
		t := report.StatementTrace{File: e.File, Line: e.Line, Column: e.Column, DurationMS: e.DurationMS,
			Rewritten: e.Rewritten, Scanned: e.Scanned, FastDefault: e.FastDefault, InvalidIndexes: e.InvalidIndexes, Concurrent: e.Concurrent}
		if st != nil {
			t.Statement = shorten(st.SQL, 200)
		}
		for _, l := range e.Locks {
			t.Locks = append(t.Locks, report.Lock{Relation: l.Relation, Mode: l.Mode, Dropped: l.Dropped})
		}
		out = append(out, t)
	}
	return out
}

// shorten cuts s to n characters, the last one an ellipsis, without copying more of it than it keeps (a
// seed's statement is megabytes long).
func shorten(s string, n int) string {
	cut, count := -1, 0
	for i := range s {
		if count == n-1 {
			cut = i
		}
		if count == n {
			return s[:cut] + "…"
		}
		count++
	}
	return s
}

// sqlError is the report's error for a failed statement; one the watchdog canceled says so.
func (r *run) sqlError(err error, phase string) *report.SQLError {
	out := sqlError(err, phase)
	if w := r.watch; w != nil && out.SQLState == "57P01" {
		// The session ends on the server before the watchdog reads the answer that records it: wait
		// for the look in progress to end.
		w.polling.Lock()
		w.polling.Unlock() // an empty critical section: only the wait counts
	}
	if s, _ := r.ended.Load().(string); s != "" && out.SQLState == "57P01" {
		out.Message = fmt.Sprintf("ran longer than %s, and went on after its cancellation (an exception handler caught it?), so its session was ended", r.limitName())
		out.Hint = "A statement must stop when canceled: an EXCEPTION WHEN query_canceled (or OTHERS) handler that goes on keeps it running. --statement-timeout (database.statement_timeout) changes the limit; 0 turns it off."
		return out
	}
	if r.inst != nil && r.inst.Network == sandbox.NetworkNone && strings.HasPrefix(out.SQLState, "08") {
		out.Hint = strings.TrimSpace(out.Hint + " " + networkHint)
	}
	if r.quieted && out.SQLState == "55000" && strings.Contains(out.Message, "subscription") {
		out.Hint = strings.TrimSpace(out.Hint + " " + quietedHint)
	}
	if out.SQLState == "57P01" && out.Hint == "" {
		out.Hint = "The session running the migration was ended (pg_terminate_backend, or a server shutdown); its transaction was rolled back."
	}
	if r.timedOut(out) {
		out.Message = fmt.Sprintf("canceled after running longer than %s", r.limitName())
		// Not "an empty database": the history, or the migrations before, may have loaded rows that a
		// statement then has to work through.
		out.Hint = "Look for a loop, a sleep or a lock wait; a statement that works through many rows may just need longer: raise the limit with --statement-timeout (database.statement_timeout in schemagate.yml); 0 turns it off."
	}
	return out
}

// limitHit tells whether e is a statement that sqlError found canceled by the rehearsal's limit.
func (r *run) limitHit(e *report.SQLError) bool {
	return e != nil && e.SQLState == "57014" && strings.HasPrefix(e.Message, "canceled after running longer than "+r.limitName())
}

// limitName is the rehearsal's limit for one statement as the messages name it: how long, and where it
// was set (see Options.StatementTimeoutFrom).
func (r *run) limitName() string {
	from := ""
	switch {
	case r.opts.StatementTimeoutFrom != "":
		from = " (set by " + r.opts.StatementTimeoutFrom + ")"
	case r.opts.StatementTimeout == 0:
		from = " (its default)"
	}
	return fmt.Sprintf("%s, the rehearsal's limit for one statement%s", r.statementLimit(), from)
}

func sqlError(err error, phase string) *report.SQLError {
	var se *pg.StatementError
	if errors.As(err, &se) {
		out := &report.SQLError{Message: se.Message, SQLState: se.SQLState, Detail: se.Detail, Hint: se.Hint,
			File: se.File, Line: se.Line, Column: se.Column, Phase: phase, Statement: se.Statement}
		if m := missingExtension.FindStringSubmatch(se.Message); m != nil && se.SQLState == "0A000" {
			// The migration is fine; the throwaway server lacks what production has.
			out.Hint = strings.TrimSpace(out.Hint + " The throwaway PostgreSQL does not have " + m[1] +
				": rehearse on an image that has it (--provider docker --image IMAGE, or database.image in schemagate.yml), or install it where --provider local finds the server binaries.")
		}
		if se.SQLState == "42601" && strings.HasSuffix(se.Message, `at or near ":"`) {
			out.Hint = strings.TrimSpace(out.Hint + ` If this is a psql variable (:name, :'name', :"name"): schemagate substitutes them in sqitch and plain folders, which psql runs, from \set lines and sqitch.conf [deploy "variables"]; this one is not set.`)
		}
		if se.SQLState == "2D000" && out.Hint == "" {
			// COMMIT or ROLLBACK in a DO block or a procedure, run inside a transaction block.
			out.Hint = "A DO block or procedure may COMMIT only when its statement runs outside a transaction block: make it the file's only statement (golang-migrate sends a file as one query, a transaction block when it holds more than one statement), or mark the migration to run outside a transaction (-- +goose NO TRANSACTION, -- migrate:up transaction:false, ...)."
		}
		if se.SQLState == "42601" && sqlparse.IsPsqlCommand(se.Statement) {
			out.Hint = strings.TrimSpace(out.Hint + ` This is a psql meta-command, which psql runs itself: the server does not know it, and only sqitch and plain folders are run by psql. Delete the line (pg_dump 17.6, 16.10, 15.14 and later write \restrict and \unrestrict lines).`)
		}
		return out
	}
	return &report.SQLError{Message: err.Error(), Phase: phase}
}

// missingExtension is PostgreSQL's error for CREATE EXTENSION of an extension the server does not have.
var missingExtension = regexp.MustCompile(`^extension "([^"]+)" is not available`)

func formatVersion(v int) string {
	if v >= 100000 {
		return fmt.Sprintf("%d.%d", v/10000, v%10000)
	}
	return fmt.Sprintf("%d.%d.%d", v/10000, v/100%100, v%100)
}

// verify runs m's sqitch verify script after its deploy, as sqitch deploy --verify (and schemagate
// deploy) do: in a session of its own, in a transaction that is rolled back. An error fails the change.
func (r *run) verify(ctx context.Context, m *migrate.Migration) error {
	// The session is reset inside the transaction, which is rolled back with it: what the rehearsal keeps
	// in the session (the catalog reads' change log) comes back.
	if err := r.begin(ctx); err != nil {
		return err
	}
	defer rollbackTx(ctx, r.conn)
	if err := pg.Reset(ctx, r.conn); err != nil {
		return err
	}
	done := r.apply()
	defer done()
	return pg.ApplyScript(ctx, r.conn, m.Verify, pg.ApplyOptions{Discarded: true, Running: r.during("verify", m.Verify)})
}

// begin starts a transaction on the rehearsal's connection, noting what the catalog reads in it compare
// with (pg.Inspector.BeginSQL).
func (r *run) begin(ctx context.Context) error {
	_, err := r.conn.PgConn().Exec(ctx, r.insp.BeginSQL()).ReadAll()
	return err
}

func commitTx(ctx context.Context, c *pgx.Conn, s *migrate.Script) error {
	if _, err := c.Exec(ctx, "COMMIT"); err != nil {
		if len(s.Statements) > 0 {
			return pg.Positioned(s, &s.Statements[len(s.Statements)-1], err)
		}
		return err
	}
	return nil
}

// settleTx runs the deferred triggers and constraint checks of the transaction now rather than at its
// end (SET CONSTRAINTS ALL IMMEDIATE): a failure among them is the script's, as COMMIT would make it,
// and what a deferred trigger changes is done before the locks that name the changes are read. A
// round trip needs it between the down and the re-up too: they share one transaction, where the
// down's pending checks would otherwise fall on the re-up (or on nobody, rolled back).
func settleTx(ctx context.Context, c *pgx.Conn, s *migrate.Script) error {
	if _, err := c.Exec(ctx, "SET CONSTRAINTS ALL IMMEDIATE"); err != nil {
		if len(s.Statements) > 0 && !isToolError(ctx, err) {
			return pg.Positioned(s, &s.Statements[len(s.Statements)-1], err)
		}
		return err
	}
	return nil
}

// deferredWork tells whether s may leave work to the end of its transaction, which settleTx runs: a
// constraint or constraint trigger INITIALLY DEFERRED in the catalog before it (c), or one that s
// creates or defers itself, which it can only do with DEFERRABLE or SET CONSTRAINTS ... DEFERRED in
// its text. Most migrations have none, and need no read of the trace after it.
func deferredWork(c *schema.Catalog, s *migrate.Script) bool {
	if anyDeferred(c) || sqlparse.ContainsFold(s.SQL, "deferr") {
		return true
	}
	for _, t := range c.Triggers {
		if strings.Contains(t.Definition, "INITIALLY DEFERRED") {
			return true
		}
	}
	return false
}

// restoreDeferred puts the constraints declared INITIALLY DEFERRED back in deferred mode after settleTx,
// as a new transaction has them: in production the re-up runs in a transaction of its own, where its
// rows may meet a deferred foreign key in any order. (A name that an immediate constraint of the same
// schema shares stays immediate: SET CONSTRAINTS would defer both, or fail.)
func restoreDeferred(ctx context.Context, c *pgx.Conn) error {
	var names string
	// The session is the migration's, under its search path: what the query names and calls is
	// pg_catalog's by name, so that no relation, function or operator of the migration's stands in for it.
	err := c.QueryRow(ctx, `SELECT coalesce(pg_catalog.string_agg(DISTINCT pg_catalog.concat(pg_catalog.quote_ident(n.nspname), '.',
	    pg_catalog.quote_ident(c.conname)), ', '), '')
	    FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.connamespace
	   WHERE c.condeferred AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint o
	     WHERE o.connamespace OPERATOR(pg_catalog.=) c.connamespace AND o.conname OPERATOR(pg_catalog.=) c.conname AND NOT o.condeferred)`).Scan(&names)
	if err != nil || names == "" {
		return err
	}
	_, err = c.Exec(ctx, "SET CONSTRAINTS "+names+" DEFERRED")
	return err
}

func rollbackTx(ctx context.Context, c *pgx.Conn) {
	// Not a bare ROLLBACK: the migration's own SET LOCAL statement_timeout can cancel that one and
	// leave the transaction open and aborted, which failed the next migration's session reset (25P02).
	_ = pg.Rollback(ctx, c)
}

// mentionedIn keeps the names that appear in sql (any case): the objects a migration may touch.
func mentionedIn(sql string) func(name string) bool {
	lower := strings.ToLower(sql)
	return func(name string) bool { return strings.Contains(lower, strings.ToLower(name)) }
}

// versionMismatch is the error of a server whose major version is not the one opts asks for
// (opts.Lint.PGVersion, from opts.VersionFrom), nil when it is or none is asked for. Only the url
// provider can give one (an existing server), or an image of another version. Its advice is what the
// provider can take: another server, another image, or the server's own version.
func versionMismatch(opts Options, inst *sandbox.Instance) error {
	want, have := opts.Lint.Major(), inst.ServerVersion/10000
	if opts.Lint.PGVersion == 0 || have == want {
		return nil
	}
	from := opts.VersionFrom
	if from == "" {
		from = "--pg-version, or pg_version in schemagate.yml"
	}
	name := opts.Provider.Name()
	server := fmt.Sprintf("the %s provider's server runs %s", name, formatVersion(inst.ServerVersion))
	var advice string
	switch name {
	case "docker":
		if img, ok := opts.Provider.(interface{ Image() string }); ok {
			at := ""
			if opts.ImageFrom != "" {
				at = ", " + opts.ImageFrom
			}
			server += fmt.Sprintf(" (image %s%s)", img.Image(), at)
		}
		advice = fmt.Sprintf("pass an --image of PostgreSQL %d, or --pg-version %d to rehearse on this image's version", want, have)
	case "url":
		advice = fmt.Sprintf("point --database-url at a server of PostgreSQL %d, or pass --pg-version %d to rehearse on this server's version", want, have)
	default:
		advice = fmt.Sprintf("pass --pg-version %d to rehearse on this server's version", have)
	}
	return fmt.Errorf("%w: PostgreSQL %d was asked for (%s), but %s: rehearse on the version production runs (%s)",
		ErrVersionMismatch, want, from, server, advice)
}

// ErrVersionMismatch marks a server whose major version is not the one asked for.
var ErrVersionMismatch = errors.New("PostgreSQL version mismatch")
