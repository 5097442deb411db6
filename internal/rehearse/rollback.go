package rehearse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"path/filepath"
	"time"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/report"
)

// ErrInput marks a rollback-script request the folder cannot serve: no such migration, or one that
// fails to apply (bad input, not a failing tool).
var ErrInput = errors.New("bad input")

// inFolder names the file of err's SQL error (file:line:col) as the folder dir and the file in it, as
// the rehearsal's progress and check's report do: from where the command runs, not from inside the
// folder. It is done before err is wrapped, whose message is written then.
func inFolder(dir string, err error) {
	var se *pg.StatementError
	if dir != "" && errors.As(err, &se) && se.File != "" && !path.IsAbs(se.File) && !filepath.IsAbs(se.File) {
		se.File = path.Join(filepath.ToSlash(dir), se.File)
	}
}

// RollbackScript writes a rollback script for one migration (named as Set.Lookup reads it): on a throwaway database it applies every
// migration before it, inspects the catalog, applies it, inspects again, generates the down from the
// difference and proves it (generated down, compare with the before-catalog, up again). The returned
// script says whether it was verified; an unverified one must not be used.
func RollbackScript(ctx context.Context, opts Options, version string) (gd *report.GeneratedDown, err error) {
	if opts.Progress == nil {
		opts.Progress = func(string, ...any) {}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	target := opts.Set.Lookup(version)
	if target == nil {
		return nil, fmt.Errorf("%w: no migration %q in the folder", ErrInput, version)
	}
	var before []*migrate.Migration
	for _, m := range opts.Set.Migrations {
		if m == target {
			break
		}
		before = append(before, m)
	}
	if target.External == migrate.ExternalGo {
		return nil, fmt.Errorf("migration %s is a goose Go migration: schemagate cannot run its code, so it cannot write its rollback", target.ID())
	}
	// The migrations before it ran on the databases: they replay as the history does, connecting
	// nowhere.
	replay, quieted := quietHistory(before)
	if opts.Provider.Name() == "url" {
		if err := sharedServerChanges(opts.Setup, opts.Set, nil, nil); err != nil {
			return nil, err
		}
	}
	inst, err := opts.Provider.Start(ctx)
	if err != nil {
		return nil, fmt.Errorf("start throwaway database: %w", err)
	}
	defer closeInstance(ctx, inst, opts)
	// A down written on another major version than the one asked for may not be the one production
	// needs (what a version deparses, the defaults it restores): refused as check refuses to rehearse.
	if err := versionMismatch(opts, inst); err != nil {
		return nil, err
	}
	// As in a rehearsal, a server that stops answering stops it (see run.frozen).
	r := &run{opts: opts, inst: inst, rep: &report.Report{}, quieted: len(quieted) > 0}
	ctx, end, err := r.guard(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err = end(err); err != nil {
			gd = nil
		}
	}()
	if err := serverRoleChanges(inst, opts.Setup, opts.Set, nil); err != nil {
		return nil, err
	}
	if err := networkReach(inst, opts.Provider.Name(), rehearsalOrder(opts.Setup, replay, []*migrate.Migration{target})); err != nil {
		return nil, err
	}
	claimRoles(ctx, inst, opts, opts.Set)
	if r.insp, err = newInspector(opts.Set); err != nil {
		return nil, err
	}
	keepOwnRoles(r.insp, opts, opts.Set)
	if err := r.connect(ctx); err != nil {
		return nil, err
	}

	defer func() { r.close(context.WithoutCancel(ctx)) }()
	r.step.Store("the setup scripts")
	done := r.apply()
	err = runSetup(ctx, r.conn, opts, r.roleHook(opts.Setup...))
	r.recordRoles(ctx, stoppedAt(err), opts.Setup...)
	done()
	if err != nil {
		return nil, err
	}
	if err := r.toolSession(ctx); err != nil {
		return nil, err
	}
	opts.Progress("applying %d migrations before %s", len(before), target.ID())
	for _, q := range quieted {
		opts.Progress("  %s", q)
	}
	r.step.Store("the migrations before " + target.ID())
	n, _, err := r.replay(ctx, replay)
	var renewFailed *renewError
	if errors.As(err, &renewFailed) {
		return nil, fmt.Errorf("apply the migrations before %s: %w", target.ID(), err)
	}
	if err != nil {
		if !isToolError(ctx, err) {
			inFolder(opts.Dir, err)
			err = fmt.Errorf("%w: %w", ErrInput, err)
		}
		return nil, fmt.Errorf("apply %s, which comes before %s: %w", before[n].ID(), target.ID(), err)
	}
	beforeCat, err := r.insp.Inspect(ctx, r.conn)
	if err != nil {
		return nil, fmt.Errorf("inspect catalog: %w", err)
	}
	start := time.Now()
	r.step.Store("migration " + target.ID())
	done = r.apply()
	err = pg.ApplyMigration(ctx, r.conn, target, target.Up, pg.ApplyOptions{Fresh: true, Hook: r.roleHook(target.Up)})
	if err == nil || target.NoTransaction {
		r.recordRoles(ctx, stoppedAt(err), target.Up)
	}
	done()
	if err != nil {
		if !isToolError(ctx, err) {
			inFolder(opts.Dir, err)
			err = fmt.Errorf("%w: %w", ErrInput, err)
		}
		return nil, fmt.Errorf("apply %s: %w", target.ID(), err)
	}
	if _, err := r.renew(ctx, target.Up); err != nil { // its generated down runs after it, in a session of its own
		return nil, err
	}
	afterCat, err := r.insp.Inspect(ctx, r.conn)
	if err != nil {
		return nil, fmt.Errorf("inspect catalog: %w", err)
	}
	opts.Progress("applied %s in %d ms; generating and verifying its down", target.ID(), time.Since(start).Milliseconds())
	rm := &report.Migration{}
	if err := r.generateDown(ctx, target, rm, beforeCat, afterCat); err != nil {
		return nil, err
	}
	return rm.GeneratedDown, nil
}
