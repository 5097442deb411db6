package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/schemagate/schemagate/internal/ci"
	"github.com/schemagate/schemagate/internal/codeowners"
	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/deploy"
	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github"
	"github.com/schemagate/schemagate/internal/gate"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
	"github.com/schemagate/schemagate/internal/snapshot"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// DeployOptions are the inputs of `schemagate deploy`.
type DeployOptions struct {
	Env         string
	ConfigFile  string
	Dir         string
	Format      string
	DryRun      bool
	Recover     bool
	KeepApplied bool
	Undone      string
	// ImportToolApplied records what the folder's tool applied after schemagate took the database over.
	ImportToolApplied bool
	BreakWindow       bool
	Reason            string
	RunID             string
	Commit            string
	ReportJSON        string
	ReportMD          string
	Repo              string
	PR                int
	TokenEnv          string
	APIURL            string
	NoComment         bool
}

func (a *App) newDeployCmd() *cobra.Command {
	o := &DeployOptions{}
	cmd := &cobra.Command{
		Use:   "deploy --env NAME",
		Short: "Deploy pending migrations to an environment with a snapshot and automatic rollback",
		Long: `deploy takes the pending migrations of the folder to the database of an environment configured
in schemagate.yml (environments.NAME, see docs/deploy.md), in this order: wait for the maintenance
window; take the deploy lock (one deploy per database); check history for drift and an unfinished
earlier run; verify the DBA approval when required; maintenance mode on; snapshot; apply each
migration in its transaction mode with lock_timeout and retries; verify; on failure roll back (down
migrations, or the snapshot) and verify again; maintenance mode off; report.

The database URL comes from the environment variable named by database_url_env (default
SCHEMAGATE_<NAME>_DATABASE_URL).

Exit codes: 0 deployed or up to date, 3 blocked or rolled back (the database is as it was),
2 usage, 1 a person must act: the deploy or its rollback failed, the window closed part-way (what
was applied stays, the rest waits for the next window), the deploy lost its deploy lock, or
maintenance mode could not be turned off (whatever else happened); 130 (Ctrl-C), 143 (SIGTERM) or
129 (SIGHUP): a signal stopped the run and it ended as 1 does, a person must act (a migration left
half applied, a rollback that failed, maintenance mode left on: the report says which). A run a
signal stopped before its first change, or that rolled back, exits 3: the database is as it was.`,
		Example: `  schemagate deploy --env production
  schemagate deploy --env staging --dry-run
  schemagate deploy --env production --recover
  schemagate deploy --env production --recover --undone 4
  schemagate deploy --env production --break-window --reason "hotfix for incident 42"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runDeploy(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Env, "env", "", "environment name from schemagate.yml (required)")
	f.StringVar(&o.ConfigFile, "config", "", "configuration file (default ./schemagate.yml)")
	f.StringVar(&o.Dir, "dir", "", "migration folder (default: dir from schemagate.yml, else ./migrations)")
	f.StringVar(&o.Format, "format", "", "migration format (default auto)")
	f.BoolVar(&o.DryRun, "dry-run", false, "check window, history, drift and approval, print the plan, change nothing; exit as the deploy would now (3 when it would be blocked)")
	f.BoolVar(&o.Recover, "recover", false, "roll back an earlier run that died, turn maintenance mode off, then deploy")
	f.BoolVar(&o.KeepApplied, "keep-applied", false, "with --recover: keep what the dead run applied instead of rolling it back (no down and no snapshot), a migration it left half applied included, once finished by hand")
	f.StringVar(&o.Undone, "undone", "", "with --recover: the migration (`VERSION`) the dead run left half applied, outside a transaction, has been undone by hand: record it as rolled back")
	f.BoolVar(&o.ImportToolApplied, "import-tool-applied", false, "record the migrations the folder's tool (goose, Flyway, ...) applied after schemagate took the database over as imported, where the deploy blocks on them; stop running that tool first")
	f.BoolVar(&o.BreakWindow, "break-window", false, "deploy outside the maintenance window (needs --reason)")
	f.StringVar(&o.Reason, "reason", "", "why the window is broken; recorded in history")
	f.StringVar(&o.RunID, "run-id", "", "identifier of this run (default: the CI run, else local-<time>)")
	f.StringVar(&o.Commit, "commit", "", "commit being deployed (default GITHUB_SHA / CI_COMMIT_SHA)")
	f.StringVar(&o.ReportJSON, "report-json", "", "write the deploy report as JSON to this file")
	f.StringVar(&o.ReportMD, "report-md", "", "write the deploy report as Markdown to this file")
	f.StringVar(&o.Repo, "repo", "", "repository owner/name (GitLab: project path) for the approval and the comment (default GITHUB_REPOSITORY / CI_PROJECT_PATH)")
	f.Var(prNumber{&o.PR}, "pr", "merged pull request (GitLab: merge request IID) whose approval must cover every pending migration, and to comment on (default: each migration's own merged pull request; the comment goes to the one merged as the commit)")
	f.StringVar(&o.TokenEnv, "token-env", "GITHUB_TOKEN", "environment variable holding the GitHub token")
	f.StringVar(&o.APIURL, "api-url", "", "REST API URL: GitHub's (default GITHUB_API_URL, else https://api.github.com) or, in GitLab CI, GitLab's (default CI_API_V4_URL)")
	f.BoolVar(&o.NoComment, "no-comment", false, "do not comment on the pull request")
	return cmd
}

// deployEnv loads the configuration and the named environment; forDeploy also asks for what only a
// deploy needs (snapshot.dir), which listing windows does not.
func (a *App) deployEnv(file, name string, forDeploy bool) (*config.Config, *config.Environment, error) {
	cfg, env, _, err := a.deployEnvFrom(file, name, forDeploy)
	return cfg, env, err
}

// deployEnvFrom is deployEnv that also returns the configuration file it read (or looked for).
func (a *App) deployEnvFrom(file, name string, forDeploy bool) (*config.Config, *config.Environment, string, error) {
	if name == "" {
		return nil, nil, file, usageErr(errors.New("--env is required"))
	}
	cfg, file, err := a.loadConfig(file)
	if err != nil {
		return nil, nil, file, err
	}
	cfg, env, err := a.environment(cfg, file, name, forDeploy)
	return cfg, env, file, err
}

// environment is the environment name of cfg, read from file, checked (for a deploy when forDeploy).
func (a *App) environment(cfg *config.Config, file, name string, forDeploy bool) (*config.Config, *config.Environment, error) {
	env := cfg.Environments[name]
	if env == nil {
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) { // only the default file may be missing
			return nil, nil, usageErr(fmt.Errorf("no %s here: environment %q is read from it; create one with a section "+
				"environments: %s: (windows, snapshot…: see Deploy in the README), or give --config FILE", file, name, name))
		}
		if len(cfg.Environments) == 0 {
			return nil, nil, usageErr(fmt.Errorf("%s: no environment %q: none is configured; add a section environments: %s:", file, name, name))
		}
		names := slices.Sorted(maps.Keys(cfg.Environments))
		return nil, nil, usageErr(fmt.Errorf("%s: no environment %q (configured: %s)", file, name, strings.Join(names, ", ")))
	}
	ps := env.Problems(name)
	if forDeploy {
		ps = append(ps, env.DeployProblems(name)...)
	}
	if len(ps) > 0 {
		return nil, nil, usageErr(cfg.Place(ps))
	}
	return cfg, env, nil
}

func (a *App) runDeploy(ctx context.Context, o *DeployOptions) error {
	cfg, env, cfgFile, err := a.deployEnvFrom(o.ConfigFile, o.Env, true)
	if err != nil {
		return err
	}
	if o.BreakWindow && strings.TrimSpace(o.Reason) == "" {
		return usageErr(errors.New("--break-window needs --reason \"...\" (it is recorded in history)"))
	}
	if o.Reason != "" && !o.BreakWindow {
		return usageErr(errors.New("--reason goes with --break-window: it is recorded as why the maintenance window was broken, and alone it would not deploy outside the window"))
	}
	if o.KeepApplied && !o.Recover {
		return usageErr(errors.New("--keep-applied goes with --recover: it keeps what a dead run applied instead of rolling it back"))
	}
	if o.Undone != "" && !o.Recover {
		return usageErr(errors.New("--undone goes with --recover: it records that a migration a dead run left half applied was undone by hand"))
	}
	// A report that cannot be written is found now, as check finds it, not after the deploy: a CI step
	// that reads it would get nothing from a deploy that went through.
	if err := outputsApart("", output{"--report-json", o.ReportJSON}, output{"--report-md", o.ReportMD}); err != nil {
		return usageErr(err)
	}
	// Nor over the configuration file, which holds the environments (check refuses it too).
	if err := outputsNotInputs([]input{{"configuration file", cfgFile}}, output{"--report-json", o.ReportJSON}, output{"--report-md", o.ReportMD}); err != nil {
		return usageErr(err)
	}
	for _, r := range []struct{ flag, path string }{{"--report-json", o.ReportJSON}, {"--report-md", o.ReportMD}} {
		if err := writable(r.path); err != nil {
			return usageErr(fmt.Errorf("%s %s: %w", r.flag, r.path, err))
		}
	}
	urlEnv := env.URLEnv(o.Env)
	url := a.Getenv(urlEnv)
	a.hideSecrets(sandbox.URLSecrets(url)...)
	if url == "" {
		return usageErr(fmt.Errorf("no database URL for environment %s: set %s", o.Env, urlEnv))
	}
	if _, err := pgx.ParseConfig(url); err != nil { // pgx leaves the password out of its errors
		return usageErr(fmt.Errorf("%s: %w", urlEnv, err))
	}
	// --dir and --format as check reads them (--format GOOSE); cfg.Dir is then the folder read, which the
	// generated downs' rehearsal names its files in.
	folderFlags(cfg, o.Dir, o.Format)
	dir := cfg.Dir
	format, err := migrate.ParseFormat(cfg.Format)
	if err != nil {
		return usageErr(err)
	}
	set, err := migrate.ReadDirWith(dir, format, cfg.ReadOptions())
	if err != nil {
		return usageErr(fmt.Errorf("read %s: %w", dir, err))
	}
	// A report written into the migration folder over one of its files (a migration), or as a new file
	// its tool reads (--report-json db/9999_r.up.sql, which golang-migrate runs as migration 9999), is
	// refused before any work, as check refuses it: the next deploy would run it, or not read the folder.
	reports := []output{{"--report-json", o.ReportJSON}, {"--report-md", o.ReportMD}}
	if err := outputsApart(dir, reports...); err != nil {
		return usageErr(err)
	}
	if err := outputsNotRead(dir, set, reports...); err != nil {
		return usageErr(err)
	}
	// Files the folder's tool would not read, or would read otherwise than one expects, are said as check
	// and lint say them, and kept in the report: a migration saved without .up never ships, and the
	// deploy would otherwise call the database up to date.
	// GitHub shows AnnotationCap warnings a step: as many of these are annotated as leave room for the
	// one that says how many more the log holds and for the deploy's own (ci.OwnAnnotations: a report
	// not written, a comment not posted), which would be dropped otherwise.
	var readNotes []string
	annotate := ci.AnnotationCap - ci.OwnAnnotations - 1
	for i, w := range set.Warnings {
		n := fmt.Sprintf("read %s: %s", dir, w)
		readNotes = append(readNotes, n)
		if i < annotate || len(set.Warnings) == annotate+1 {
			a.deployWarning(clean(n))
		} else {
			fmt.Fprintf(a.Stderr, "schemagate: warning: %s\n", clean(n))
		}
	}
	if more := len(set.Warnings) - annotate; more > 1 {
		a.deployAnnotation(fmt.Sprintf("%d more warnings on the migration folder %s: the log and the report's notes have them all", more, dir))
	}
	maint, err := deploy.NewMaintenance(env.Maintenance, url, a.Getenv)
	if err != nil {
		return usageErr(fmt.Errorf("environments.%s.%w", o.Env, err))
	}
	opts := deploy.Options{
		Env: o.Env, Config: env, URL: url, Set: set, Dir: dir,
		RunID:  firstNonEmpty(o.RunID, a.ciRunID()),
		Holder: a.ciHolder(),
		Commit: firstNonEmpty(o.Commit, a.Getenv("GITHUB_SHA"), a.Getenv("CI_COMMIT_SHA")),
		JobURL: a.ciJobURL(),
		DryRun: o.DryRun, Recover: o.Recover, KeepApplied: o.KeepApplied, Undone: o.Undone, ImportToolApplied: o.ImportToolApplied, BreakWindow: o.BreakWindow, Reason: o.Reason,
		Snapshotter: deploySnapshotter(env, url, o.Env, deploy.Secrets(env.Maintenance, url, a.Getenv)),
		Maintenance: maint,
		Logger:      a.Logger,
		// A progress line quotes file names and server messages: escaped, it stays one line.
		Progress: func(msg string) { fmt.Fprintf(a.Stderr, "schemagate: %s\n", clean(msg)) },
	}
	f, ref, checker := a.deployForge(ctx, o, opts.Commit)
	if ref.Number != 0 {
		opts.PR = fmt.Sprintf("%s#%d", ref.Repo, ref.Number)
	}
	if f != nil && checker != nil && (checker.ref.Number != 0 || checker.commit != "") {
		checker.dir = repoRelative(ctx, dir)
		opts.Approval = checker
	}
	if env.GeneratedDowns {
		opts.Downs = a.generatedDowns(cfg, set)
	}
	res, runErr := deploy.Run(ctx, opts)
	res.Notes = append(readNotes, res.Notes...)
	if err := a.writeDeployReports(ctx, o, res, f, ref, env); err != nil {
		a.deployWarning(fmt.Sprintf("the deploy's reports were not all written: %s (the deploy is not affected: its exit code says how it went)", cleanError(err)))
	}
	return deployExit(res, runErr)
}

// deployExit is the exit code of a deploy, which says what state the database is in: 0 deployed (or
// nothing to do), 3 as it was (blocked, rolled back; 2 when the server is older than the deploy
// supports), 1 a person must look: the deploy or its rollback failed, it stopped part-way (the window
// closed), or maintenance mode could not be turned off, whatever else happened (the application may
// still be down).
func deployExit(res *deploy.Result, runErr error) error {
	switch {
	case res.Maintenance.LeftOn():
		what := "deployed"
		if !res.OK {
			what = res.Outcome
		}
		err := fmt.Errorf("%s, but maintenance mode was not turned off (%s): %s", what, res.Maintenance.Error, res.Maintenance.Hint)
		if runErr != nil {
			err = fmt.Errorf("%w; and maintenance mode was not turned off (%s): %s", runErr, res.Maintenance.Error, res.Maintenance.Hint)
		}
		return exitCode(ExitFailure, err)
	case res.OK:
		return nil
	case errors.As(runErr, new(*deploy.ServerVersionError)):
		return exitCode(ExitUsage, runErr) // a server older than the deploy supports: bad input, nothing changed
	case res.Outcome == deploy.OutcomeBlocked || res.Outcome == deploy.OutcomeRolledBack:
		return exitCode(ExitBlocked, runErr)
	}
	return exitCode(ExitFailure, runErr)
}

// deploySnapshotter builds the environment's snapshotter; nil for kind none. secrets are masked in the
// output of the hooks of a command snapshot that an error quotes.
func deploySnapshotter(env *config.Environment, url, name string, secrets []string) snapshot.Snapshotter {
	s := env.Snapshot
	schema := firstNonEmpty(env.HistorySchema, "schemagate")
	switch s.Kind {
	case "none":
		return nil
	case "command":
		return &snapshot.Command{Take: s.Command, Restore: s.RestoreCommand, Secrets: secrets, TakeTimeout: s.Timeout,
			Env: []string{"SCHEMAGATE_DATABASE_URL=" + url, "SCHEMAGATE_ENV=" + name}}
	}
	return &snapshot.PGDump{URL: url, Dir: filepath.Join(s.Dir, name), Jobs: s.Jobs, Compress: s.Compress, Keep: s.Keep, KeepDays: s.KeepDays,
		Bin: s.PGBin, ExcludeSchemas: []string{schema}}
}

// deployForge connects to the forge (GitHub, or GitLab in a GitLab CI job) when a repository and a token
// are known, and finds the change request merged as the deployed commit. Both are optional: without them
// there is no approval check and no comment.
func (a *App) deployForge(ctx context.Context, o *DeployOptions, commit string) (forge.Forge, forge.Ref, *approvalChecker) {
	if gl, ok := a.gitlabJob(); ok {
		return a.deployGitLab(ctx, o, gl, commit)
	}
	repo := firstNonEmpty(o.Repo, a.Getenv("GITHUB_REPOSITORY"))
	token := a.Getenv(o.TokenEnv)
	a.hideSecrets(token)
	if repo == "" || token == "" {
		return nil, forge.Ref{}, nil
	}
	opts := github.Options{Token: token, BaseURL: firstNonEmpty(o.APIURL, a.Getenv("GITHUB_API_URL"))}
	if a.Getenv("GITHUB_ACTIONS") == "true" {
		opts.FallbackLogin = github.ActionsBotLogin
	}
	f, err := github.New(opts)
	if err != nil {
		a.Logger.Warn("no GitHub client", "err", err)
		return nil, forge.Ref{}, nil
	}
	ref := forge.Ref{Repo: repo, Number: o.PR}
	if ref.Number == 0 && commit != "" {
		if cr, err := f.FindChangeRequestBySHA(ctx, repo, commit); err == nil {
			ref.Number = cr.Number
		} else {
			a.Logger.Info("no pull request found for the deployed commit", "commit", commit, "err", err)
		}
	}
	// A push to a branch runs with GITHUB_REF=refs/heads/<branch>: the pull request must have merged there.
	branch, _ := strings.CutPrefix(a.Getenv("GITHUB_REF"), "refs/heads/")
	if branch == a.Getenv("GITHUB_REF") {
		branch = ""
	}
	return f, ref, a.newApprovalChecker(o, f, ref, commit, codeowners.GitHub, branch, nil)
}

// newApprovalChecker returns the checker of the approval of the deployed folder's pending migrations,
// their policy read as the gate reads it (see deployPolicy): with --pr, all of them on that change
// request (ref); else each on the change request merged into branch that last changed it, found from the
// deployed commit.
func (a *App) newApprovalChecker(o *DeployOptions, f forge.Forge, ref forge.Ref, commit string, dialect codeowners.Dialect, branch string, rules platformRules) *approvalChecker {
	c := &approvalChecker{f: f, ref: ref, dialect: dialect, branch: branch, rules: rules,
		policy: func(ctx context.Context, base string) (config.Approval, []string, error) {
			return a.deployPolicy(ctx, o, f, ref, base)
		}}
	if o.PR == 0 {
		c.ref, c.commit = forge.Ref{Repo: ref.Repo}, commit
	}
	return c
}

// deployPolicy is the approval policy the gate applied to ref: schemagate.yml as the change request's
// base has it, what the change itself loosened ignored (the deployed checkout holds the change's own
// schemagate.yml, merged).
func (a *App) deployPolicy(ctx context.Context, o *DeployOptions, f forge.Forge, ref forge.Ref, base string) (config.Approval, []string, error) {
	cfg, file, err := a.loadConfig(o.ConfigFile)
	if err != nil {
		return config.Approval{}, nil, err
	}
	p, err := a.basePolicyInConfigFolder(ctx, cfg, file, base, forgeFiles(f, ref.Repo, base), policyFlags{dir: o.Dir != ""}, nil)
	if err != nil {
		return config.Approval{}, nil, err
	}
	return cfg.Approval, p.notes, nil
}

// platformRules adds what the platform itself counts (GitLab's code-owner approval rules) to a decision.
type platformRules func(ctx context.Context, ref forge.Ref, rep *report.Report, d *gate.Decision)

// approvalChecker verifies, at deploy time, that the DBA approval of the merged change requests covers
// the pending migrations. It trusts no comment: the gate's approval record is written with the CI token,
// which anybody who may push a branch can use in their own pipeline, so a record alone proves nothing.
// The checker asks the forge itself which change request brought each pending migration in: the one
// merged into the deployed branch that holds the newest commit changing its file, in the history of the
// deployed commit (a deploy in the maintenance window ships what several merges brought), or, with --pr,
// the one named for all of them. It groups the pending migrations by change request and, for each group:
// the change request was merged into the deployed branch, every migration of the group is one of its
// files, and its current reviews or approvals, judged against CODEOWNERS of its target branch and the
// approval policy of its base, approve them now. The record is still required and must carry the
// group's checksum: it binds the approval to the text the gate saw. A migration no merged change request
// brought in (pushed straight to the branch) is approved by nobody and blocks.
type approvalChecker struct {
	f forge.Forge
	// ref is the change request whose approval must cover every pending migration (--pr); with a zero
	// Number, ref.Repo is the repository and each migration is judged on its own change request.
	ref forge.Ref
	// commit is the deployed commit, in whose history each migration's change request is found when ref
	// has no Number.
	commit string
	// dir is the folder deployed, as the gate names it (slashes, cleaned); the gate keeps one record per
	// folder.
	dir     string
	dialect codeowners.Dialect
	// branch is the branch deployed, into which the change requests must have been merged; "" when
	// unknown.
	branch string
	// policy returns the approval policy of a change request's base commit, with notes.
	policy func(ctx context.Context, base string) (config.Approval, []string, error)
	// rules, when set, adds the platform's own code-owner approval rules to the decision.
	rules platformRules
}

var _ deploy.ApprovalChecker = (*approvalChecker)(nil)

// Check passes when every group of pending migrations is approved on the change request that brought
// it in (see approvalChecker). The error names each change request whose approval fails and its
// migrations, and each migration no merged change request brought in.
func (c *approvalChecker) Check(ctx context.Context, pending []*migrate.Migration) error {
	if c.ref.Number != 0 {
		return c.checkGroup(ctx, c.ref, pending)
	}
	var (
		refs   []forge.Ref
		groups = map[forge.Ref][]*migrate.Migration{}
		errs   []error
	)
	for _, m := range pending {
		file := c.file(m)
		if file == "" {
			errs = append(errs, fmt.Errorf("pending migration %s has no file whose change request could approve it", m.ID()))
			continue
		}
		cr, err := c.f.ChangeRequestOfFile(ctx, c.ref.Repo, file, c.commit, c.branch)
		if errors.Is(err, forge.ErrNotFound) {
			errs = append(errs, fmt.Errorf("pending migration %s: %v; so no DBA approved it: bring it in through a %s a DBA approves",
				m.ID(), err, c.kind()))
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("find the change request of pending migration %s (%s): %w", m.ID(), file, apiFailure(err)))
			continue
		}
		ref := forge.Ref{Repo: c.ref.Repo, Number: cr.Number}
		if groups[ref] == nil {
			refs = append(refs, ref)
		}
		groups[ref] = append(groups[ref], m)
	}
	for _, ref := range refs {
		if err := c.checkGroup(ctx, ref, groups[ref]); err != nil {
			ids := make([]string, len(groups[ref]))
			for i, m := range groups[ref] {
				ids[i] = m.ID()
			}
			errs = append(errs, fmt.Errorf("%s, which brought in %s: %w (a DBA must approve them there and the gate record the approval, "+
				"or revert them)", c.name(ref), strings.Join(ids, ", "), err))
		}
	}
	return errors.Join(errs...)
}

// checkGroup passes when the forge shows pending approved on the merged change request ref and the
// record of the deployed folder approves exactly them. When no record names that folder (the gate ran
// from another working directory), a record of another name that approves exactly them does: the
// checksum covers their versions, names and text.
func (c *approvalChecker) checkGroup(ctx context.Context, ref forge.Ref, pending []*migrate.Migration) error {
	if err := c.verify(ctx, ref, pending); err != nil {
		return err
	}
	rs, err := gate.Approvals(ctx, c.f, ref)
	if err != nil {
		return fmt.Errorf("read the approval of %s: %w", c.name(ref), apiFailure(err))
	}
	if len(rs) == 0 {
		return fmt.Errorf("read the approval of %s: no approval record: %w", c.name(ref), forge.ErrNotFound)
	}
	var own *gate.Record
	for _, r := range rs {
		if r.Dir == c.dir {
			own = r
		}
	}
	if own != nil {
		rs = []*gate.Record{own}
	}
	var sum string
	for _, r := range rs {
		var ok bool
		if sum, ok = approves(r, pending); ok {
			return nil
		}
	}
	r := rs[0]
	return fmt.Errorf("the approval recorded on %s for %s (state %s, checksum %.12s) is not for these migrations (checksum %.12s)",
		c.name(ref), firstNonEmpty(r.Dir, "the migrations"), r.State, r.Checksum, sum)
}

// apiFailure marks an error of the code host's API (an error status, an answer that is not the API's
// JSON, a network failure) as a *deploy.ApprovalReadError, which the deploy reports as such rather than
// as a missing approval. A "not found" is an answer: no such change request, record or file.
func apiFailure(err error) error {
	if err == nil || errors.Is(err, forge.ErrNotFound) {
		return err
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) {
		err = fmt.Errorf("%w (the answer is not the API's JSON: is --api-url the API's address?)", err)
	}
	return &deploy.ApprovalReadError{Err: err}
}

func (c *approvalChecker) name(ref forge.Ref) string {
	if c.dialect == codeowners.GitLab {
		return fmt.Sprintf("%s!%d", ref.Repo, ref.Number)
	}
	return fmt.Sprintf("%s#%d", ref.Repo, ref.Number)
}

func (c *approvalChecker) kind() string {
	if c.dialect == codeowners.GitLab {
		return "merge request"
	}
	return "pull request"
}

// file is the path of m's up script in the repository, "" when it has none.
func (c *approvalChecker) file(m *migrate.Migration) string {
	if m.Up == nil || m.Up.File == "" {
		return ""
	}
	return path.Join(c.dir, m.Up.File)
}

// verify re-evaluates the gate on the forge for the pending migrations: whatever their risk, their
// owners must have approved the merged change request.
func (c *approvalChecker) verify(ctx context.Context, ref forge.Ref, pending []*migrate.Migration) error {
	cr, err := c.f.ChangeRequest(ctx, ref)
	if err != nil {
		return fmt.Errorf("read %s: %w", c.name(ref), apiFailure(err))
	}
	switch {
	case !cr.Merged:
		return fmt.Errorf("%s is %s, not merged: only the approval of a merged change request covers a deploy", c.name(ref), cmp.Or(cr.State, "not merged"))
	case c.branch != "" && cr.BaseRef != c.branch:
		return fmt.Errorf("%s was merged into %s, not into %s, the branch deployed", c.name(ref), cr.BaseRef, c.branch)
	}
	changed, err := c.f.ChangedFiles(ctx, ref)
	if err != nil {
		return fmt.Errorf("read the files of %s: %w", c.name(ref), apiFailure(err))
	}
	rep := &report.Report{Tool: "schemagate", Dir: c.dir, Migrations: []report.Migration{}}
	for _, m := range pending {
		rm := report.Migration{Version: m.Version, Name: m.Name, Checksum: m.Checksum, New: true, File: c.file(m)}
		if m.Down != nil && m.Down.File != "" && !strings.HasSuffix(m.Down.File, ".generated.down.sql") {
			rm.DownFile = path.Join(c.dir, m.Down.File)
		}
		if rm.File == "" || !slices.Contains(changed, rm.File) {
			return fmt.Errorf("pending migration %s (%s) is not a change of %s: its approval cannot cover it", m.ID(), cmp.Or(rm.File, "no file"), c.name(ref))
		}
		rep.Migrations = append(rep.Migrations, rm)
	}
	policy, notes, err := c.policy(ctx, cmp.Or(cr.BaseSHA, cr.BaseRef))
	if err != nil {
		return fmt.Errorf("read the approval policy of %s: %w", c.name(ref), err)
	}
	// require_approval asks for the owners' approval whatever the risk: the deploy does not re-run the
	// check that measured it.
	policy.Require = config.RequireAlways
	d, _, err := gate.Evaluate(ctx, c.f, gate.Request{Ref: ref, Policy: policy, Dialect: c.dialect, Report: rep})
	if err != nil {
		return fmt.Errorf("verify the approval of %s: %w", c.name(ref), apiFailure(err))
	}
	d.Notes = append(d.Notes, notes...)
	if c.rules != nil {
		c.rules(ctx, ref, rep, d)
	}
	if d.State == gate.Approved {
		return nil
	}
	msg := fmt.Sprintf("%s does not show these migrations approved by their owners: %s", c.name(ref), d.Reason)
	if len(d.Notes) > 0 {
		msg += " (" + strings.Join(d.Notes, "; ") + ")"
	}
	return errors.New(msg)
}

// approves tells whether rec approves exactly the pending migrations, as the gate saw them: their text
// as it is here, or all of it with other line endings (the gate's checkout may have had core.autocrlf
// set where this one has not). sum is the checksum of the migrations as they are.
func approves(rec *gate.Record, pending []*migrate.Migration) (sum string, ok bool) {
	forms := make([][]string, len(pending))
	for i, m := range pending {
		forms[i] = m.ChecksumForms()
	}
	for form := range 3 {
		r := &report.Report{}
		for i, m := range pending {
			r.Migrations = append(r.Migrations, report.Migration{Version: m.Version, Name: m.Name, Checksum: forms[i][form], New: true})
		}
		s := gate.Checksum(r)
		if form == 0 {
			sum = s
		}
		if rec.Approves(s) {
			return sum, true
		}
	}
	return sum, false
}

// writeDeployReports prints the text report and writes JSON, Markdown, the job summary and the comment.
func (a *App) writeDeployReports(ctx context.Context, o *DeployOptions, res *deploy.Result, f forge.Forge, ref forge.Ref, env *config.Environment) error {
	// The production server's messages are in the result: what it reports hides the secrets schemagate
	// knows (see redactReport).
	if a.redactor.Value(res) {
		res.Notes = append(res.Notes, report.RedactedNote)
	}
	var errs []error
	errs = append(errs, res.WriteText(a.Stdout))
	if o.ReportJSON != "" {
		// Whole or not at all, as the Markdown: os.Create truncated the previous report before a write
		// that a full disk failed, and left a 0-byte file for a later step to publish.
		var b bytes.Buffer
		err := res.WriteJSON(&b)
		if err == nil {
			err = writeFileWhole(o.ReportJSON, b.Bytes())
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("write JSON report: %w", err))
		}
	}
	if o.ReportMD != "" {
		// Within 1 MiB, naming the JSON report when it leaves parts out, as check's --report-md.
		if err := writeFileWhole(o.ReportMD, []byte(res.FileMarkdown(o.ReportJSON))); err != nil {
			errs = append(errs, fmt.Errorf("write Markdown report: %w", err))
		}
	}
	// The job summary and the comment stay within what the runner and the forge take: past it, the runner
	// drops the step's whole summary and the forge refuses the comment. What they leave out, they say,
	// naming where the full report is.
	summary := false
	if gh := ci.ReadGitHubEnv(a.Getenv); gh.SummaryPath != "" {
		acts := ci.NewActions(gh, a.commandOut())
		err := acts.AddSummary(res.SummaryMarkdown(min(report.MaxSummaryBytes, acts.SummaryRoom()), o.ReportJSON))
		summary = err == nil
		errs = append(errs, err)
	}
	comment := env.Comment == nil || *env.Comment
	if f != nil && ref.Number != 0 && comment && !o.NoComment && res.Outcome != deploy.OutcomeDryRun {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		md := res.CommentMarkdown(commentMaxRunes(f), storedOn(f), o.ReportJSON, summary)
		if _, _, err := forge.Upsert(ctx, f, ref, deploy.CommentMarker(o.Env), md, deploy.OldCommentMarkers(o.Env)...); err != nil {
			a.deployCommentNotPosted(ref, err)
		}
	}
	return errors.Join(errs...)
}

// deployCommentNotPosted warns, with what the forge answered, that the deploy's comment was not
// written. The job still exits as the deploy went: a red job after a good deploy sends someone to look
// at a database that is fine, and the report is on stdout, in the job summary and in --report-json.
func (a *App) deployCommentNotPosted(ref forge.Ref, err error) {
	on := fmt.Sprintf("pull request %s#%d", ref.Repo, ref.Number)
	if _, gitlab := a.gitlabJob(); gitlab {
		on = fmt.Sprintf("merge request %s!%d", ref.Repo, ref.Number)
	}
	why := "was not posted"
	if errors.Is(err, forge.ErrReadOnly) {
		why = "was skipped, the token cannot comment"
	}
	a.deployWarning(fmt.Sprintf("the deploy's comment on %s %s: %s (the deploy is not affected: its exit code says how it went)", on, why, cleanError(err)))
	a.printHint(err)
}

// deployWarning tells of an output of the deploy that failed (a report file, the job summary, the
// comment) without failing the job: on stderr, and on GitHub Actions as an annotation too, which the
// run's page shows, as a line in a long deploy log is easy to miss.
func (a *App) deployWarning(msg string) {
	fmt.Fprintf(a.Stderr, "schemagate: warning: %s\n", msg)
	a.deployAnnotation(msg)
}

// deployAnnotation writes msg as a warning annotation on GitHub Actions (nothing elsewhere).
func (a *App) deployAnnotation(msg string) {
	if env, ok := ci.DetectGitHub(a.Getenv); ok {
		ci.NewActions(env, a.commandOut()).Warning("schemagate deploy: " + msg)
	}
}

func (a *App) ciRunID() string {
	if id := a.Getenv("GITHUB_RUN_ID"); id != "" {
		return id + "-" + firstNonEmpty(a.Getenv("GITHUB_RUN_ATTEMPT"), "1")
	}
	if id := a.Getenv("CI_JOB_ID"); id != "" {
		return "gl-" + id
	}
	return "local-" + strconv.FormatInt(time.Now().UnixMilli(), 36)
}

func (a *App) ciHolder() string {
	if u := firstNonEmpty(a.Getenv("GITHUB_ACTOR"), a.Getenv("GITLAB_USER_LOGIN")); u != "" {
		return u
	}
	host, _ := os.Hostname()
	return firstNonEmpty(a.Getenv("USER"), "unknown") + "@" + host
}

// ciJobURL is the page of this CI run: the GitHub Actions run (ci.GitHubEnv.RunURL, as the gate links
// it) or the GitLab job.
func (a *App) ciJobURL() string {
	if u := ci.ReadGitHubEnv(a.Getenv).RunURL(); u != "" {
		return u
	}
	return a.Getenv("CI_JOB_URL")
}

// deployGitLab connects to GitLab in a GitLab CI job and finds the merge request merged into the
// branch deployed (CI_COMMIT_BRANCH) as commit: its merge commit, its squash commit, or its head after a
// fast-forward merge. An open merge request whose head happens to be the commit is never it.
func (a *App) deployGitLab(ctx context.Context, o *DeployOptions, gl *ci.GitLabEnv, commit string) (forge.Forge, forge.Ref, *approvalChecker) {
	c, err := newGitLab(gl, o.APIURL)
	if err != nil {
		a.Logger.Warn("no GitLab client: no approval check, no note", "err", err)
		return nil, forge.Ref{}, nil
	}
	ref := forge.Ref{Repo: firstNonEmpty(o.Repo, gl.Project()), Number: o.PR}
	if ref.Number == 0 && commit != "" {
		if cr, err := c.MergedChangeRequest(ctx, ref.Repo, commit, gl.CommitBranch); err == nil {
			ref.Number = cr.Number
		} else {
			a.Logger.Info("no merge request merged as the deployed commit", "commit", commit, "branch", gl.CommitBranch, "err", err)
		}
	}
	rules := func(ctx context.Context, ref forge.Ref, rep *report.Report, d *gate.Decision) {
		applyGitLabRules(ctx, c, ref, rep, d)
	}
	return c, ref, a.newApprovalChecker(o, c, ref, commit, codeowners.GitLab, gl.CommitBranch, rules)
}

// generatedDowns gives each pending migration without a down a generated rollback script, proven on a
// throwaway PostgreSQL (the provider of the database section): one rehearsal replays the applied
// migrations once, then applies the pending ones with --generate-down (apply, generated down, compare the
// catalogs, apply again). Scripts that fail the proof or would lose data are not used: the snapshot stays
// the rollback of those migrations.
func (a *App) generatedDowns(cfg *config.Config, set *migrate.Set) func(context.Context, []*migrate.Migration) ([]string, error) {
	return func(ctx context.Context, pending []*migrate.Migration) ([]string, error) {
		missing := 0
		isPending := map[*migrate.Migration]bool{}
		for _, m := range pending {
			isPending[m] = true
			if m.Down.Empty() {
				missing++
			}
		}
		if missing == 0 {
			return nil, nil
		}
		base := &migrate.Set{Format: set.Format}
		for _, m := range set.Migrations {
			if !isPending[m] {
				base.Migrations = append(base.Migrations, m)
			}
		}
		prov, err := sandbox.New(cfg.Database.Provider, sandbox.Options{PGVersion: cfg.Database.PGVersion,
			Image: cfg.Database.Image, DatabaseURL: cfg.Database.URL, Logger: a.Logger})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(a.Stderr, "schemagate: generating downs on a throwaway PostgreSQL (pending migrations without one: %d)\n", missing)
		setup, err := readSetup(cfg, "")
		if err != nil {
			return nil, err
		}
		rep, err := rehearse.Run(ctx, rehearse.Options{Set: set, Base: base, Dir: cfg.Dir, Provider: prov, GenerateDown: true, NoTrace: true, Setup: setup, Logger: a.Logger})
		if err != nil {
			return nil, err
		}
		byVersion := map[string]*report.Migration{}
		for i := range rep.Migrations {
			// The folder's migrations come first: a deleted base migration of the same version (a
			// renamed sql-migrate file) must not stand in for one of them.
			if _, ok := byVersion[rep.Migrations[i].Version]; !ok {
				byVersion[rep.Migrations[i].Version] = &rep.Migrations[i]
			}
		}
		var given []string
		for _, m := range pending {
			if !m.Down.Empty() {
				continue
			}
			var gd *report.GeneratedDown
			rm := byVersion[m.Version]
			if rm != nil {
				gd = rm.GeneratedDown
			}
			switch {
			case gd == nil && rm != nil && rm.Error != nil:
				// The rehearsal failed at this migration (a role it needs is missing without database.setup).
				e := rm.Error
				fmt.Fprintf(a.Stderr, "schemagate: no down generated for %s: the rehearsal failed at it (%s:%d:%d: %s): the snapshot stays its rollback\n",
					clean(m.ID()), clean(path.Join(filepath.ToSlash(cfg.Dir), e.File)), e.Line, e.Column, clean(e.Message))
				continue
			case gd == nil:
				fmt.Fprintf(a.Stderr, "schemagate: no down generated for %s (the rehearsal stopped before it): the snapshot stays its rollback\n", clean(m.ID()))
				continue
			case !gd.Verified:
				fmt.Fprintf(a.Stderr, "schemagate: the generated down of %s is not verified (%s): the snapshot stays its rollback\n", clean(m.ID()), clean(strings.Join(gd.Problems, "; ")))
				continue
			case gd.DataLoss:
				fmt.Fprintf(a.Stderr, "schemagate: the generated down of %s would lose data: the snapshot stays its rollback\n", clean(m.ID()))
				continue
			case strings.TrimSpace(gd.SQL) == "":
				continue
			}
			m.Down = &migrate.Script{File: m.Version + ".generated.down.sql", SQL: gd.SQL, Statements: sqlparse.Parse(gd.SQL), NoTransaction: gd.NoTransaction}
			given = append(given, m.Version)
		}
		return given, nil
	}
}
