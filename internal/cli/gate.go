package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/schemagate/schemagate/internal/ci"
	"github.com/schemagate/schemagate/internal/codeowners"
	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github"
	"github.com/schemagate/schemagate/internal/forge/gitlab"
	"github.com/schemagate/schemagate/internal/gate"
	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/repofs"
	"github.com/schemagate/schemagate/internal/report"
)

// GateOptions are the inputs of `schemagate gate`.
type GateOptions struct {
	Report string
	// ReportArtifact names the artifact that holds the check's report, of the check workflow's
	// (CheckWorkflow's) run on the pull request's head (GitHub Actions).
	ReportArtifact string
	CheckWorkflow  string
	UpdateReport   bool
	Dir            string
	Format         string
	Base           string
	Repo           string
	PR             int
	ConfigFile     string
	TokenEnv       string
	APIURL         string
	BotLogin       string
	TargetURL      string
	NoStatus       bool
	// StatusOnly makes a pending or blocked decision exit 0: the commit status carries it.
	StatusOnly bool
	NoRecord   bool
	NoComment  bool
	JSON       bool
	// pipelineURL is the GitLab pipeline whose check job's artifacts hold the report, for the note, and
	// jobURL the gate's job, whose log the note links.
	pipelineURL, jobURL string
	// checkRunURL is the GitHub workflow run a workflow_run event reports on (the check's), runURL this
	// run: the comment links the job summary of one of them, never TargetURL, the status's link.
	checkRunURL, runURL string
	// runPages are the prefixes of the workflow run pages whose job summary the comment may go on
	// linking (see linkedSummary): this run's repository's and --repo's, on this server.
	runPages []string
	// reportName is how messages and the comment name the report: --report, or the file of the artifact.
	reportName string
	// noCheckRun is set when --report-artifact found no finished run of the check on the head: the
	// report is an empty one, which decides only a change that touches no migration file.
	noCheckRun bool
}

// reportLabel is how messages and the comment name the report.
func (o *GateOptions) reportLabel() string { return firstNonEmpty(o.reportName, o.Report) }

func (a *App) newGateCmd() *cobra.Command {
	o := &GateOptions{}
	cmd := &cobra.Command{
		Use:   "gate --repo OWNER/NAME --pr N [--report FILE]",
		Short: "Enforce DBA approval of risky migrations from CODEOWNERS and reviews",
		Long: `gate decides whether the pull request's new migrations may merge. Migrations whose risk the
policy (approval.require in schemagate.yml: risky, dangerous, always, never) says need approval
must be approved by their owners: the CODEOWNERS file of the BASE branch (so a pull request cannot
approve itself by editing it), plus approval.dba_users and approval.dba_teams. An approval counts
when it is the reviewer's latest decision, on the current head commit, not by the author, and (on
GitHub) by a user with write access to the repository (its role is asked of GitHub: a private
organization member's review says CONTRIBUTOR or NONE).

It sets the commit status schemagate/dba-approval on the head commit (make it required in branch
protection), records an approval bound to the migrations' checksum for the deploy job, and appends
the decision to the job summary. The status is the commit's: on GitHub it is success only when every
other open pull request with the same head (the branch opened against a second base) is approved too,
each judged on its own reviews and its base's CODEOWNERS; else it stays pending, naming them (exit 4). Without --report it analyses the new migrations statically
(those absent at --base).

Reading team membership needs a token with read:org (PAT) or Members: read (GitHub App); the
Actions GITHUB_TOKEN cannot, so list the DBAs in approval.dba_users when using it.

In GitHub Actions the repository, pull request and token come from the event
(pull_request, pull_request_review, workflow_run) and GITHUB_TOKEN.

In GitLab CI (GITLAB_CI=true) the project, merge request, diff base and job link come from the job's
predefined variables and the token from GITLAB_TOKEN (api scope; CI_JOB_TOKEN can only read): CODEOWNERS
is read in GitLab's dialect (sections, [Section][N] counts, ^optional, ! exclusions) from the target
branch, and where the tier has code-owner approval rules, a required rule GitLab does not count as
approved keeps the gate pending.

With --report (in a workflow_run workflow, a fork's artifact; on GitLab, the check job's) the report
must be for the pull request's current head (and the event's head_sha, or the pipeline's head) and for
the migration folder the gate's own schemagate.yml (or --dir) names: a report for another folder is
refused. The change's migration files are checked against it (content included) and linted again at
the head, and a file it does not vouch for counts as dangerous.

--report-artifact NAME (GitHub Actions) downloads the report from the artifact NAME of the check's run:
the run a workflow_run event reports on when it is a run of --check-workflow that ended in success or
failure, else that workflow's newest such pull_request run on the pull request's head (after a push or
a review: docs/github-action.md, workflow 3). While that workflow has a run on the head that has not
finished, nothing is decided (a notice, exit 0: its end runs the gate); when it never ran there (its
paths), a pull request that changes no file of the migration folder and no SQL file, schemagate.yml or
Flyway settings anywhere needs no approval, and any other waits. The token needs actions: read.

--status-only (GitHub) makes pending and blocked exit 0 once the commit status is set: the status
carries the decision, and a workflow_run job that fails would only notify.

A change whose files GitHub or GitLab does not list in full (GitHub lists 3000 at most; GitLab stops at
its diff limits) is not decided, nor is one whose GitHub CODEOWNERS is 3 MB or more (GitHub does not
load it): the gate fails, exit 1, saying so.

Exit codes: 0 approved or not required (or nothing decided: the pull request moved on to a newer head
or, from workflow_run, is closed; the merge request moved on, or is merged or closed; a notice says so),
4 approval pending, 3 blocked, 2 usage, 1 the tool failed.`,
		Example: `  schemagate gate --report report.json
  schemagate gate --repo acme/shop --pr 42 --dir db/migrations --base origin/main
  schemagate gate --repo acme/shop --pr 42 --report report.json --api-url https://ghes.example.com/api/v3
  schemagate gate --report-artifact schemagate-report   # in a workflow_run workflow (docs/github-action.md)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runGate(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Report, "report", "", "JSON report of schemagate check (default: analyse the new migrations statically)")
	f.StringVar(&o.ReportArtifact, "report-artifact", "", "GitHub Actions: read the report from this artifact of the check workflow's run on the pull request's head")
	f.StringVar(&o.CheckWorkflow, "check-workflow", "schemagate.yml", "with --report-artifact: the check's workflow file in .github/workflows")
	f.BoolVar(&o.UpdateReport, "update-report", false, "write the approval decision back into the --report file")
	f.StringVar(&o.Dir, "dir", "", "migration folder, without --report (default: dir from schemagate.yml, else ./migrations)")
	f.StringVar(&o.Format, "format", "", "migration format, without --report (default auto)")
	f.StringVar(&o.Base, "base", "", "git ref whose migrations are history, without --report (default: every migration is new)")
	f.StringVar(&o.Repo, "repo", "", "repository owner/name (default: the Actions event, else GITHUB_REPOSITORY)")
	f.Var(prNumber{&o.PR}, "pr", "pull request number (default: the Actions event)")
	f.StringVar(&o.ConfigFile, "config", "", "configuration file (default ./schemagate.yml when present)")
	f.StringVar(&o.TokenEnv, "token-env", "GITHUB_TOKEN", "environment variable holding the GitHub token")
	f.StringVar(&o.APIURL, "api-url", "", "REST API URL: GitHub's (default GITHUB_API_URL, else https://api.github.com; GHES: https://HOST/api/v3) or, in GitLab CI, GitLab's (default CI_API_V4_URL)")
	f.StringVar(&o.BotLogin, "bot-login", "", "login of the token's user when GET /user cannot tell (default github-actions[bot] in Actions)")
	f.StringVar(&o.TargetURL, "target-url", "", "link of the commit status (default: this Actions run)")
	f.BoolVar(&o.NoStatus, "no-status", false, "do not set the commit status")
	f.BoolVar(&o.StatusOnly, "status-only", false, "exit 0 when approval is pending or blocked too: the commit status carries the decision (a workflow_run job, whose failure would only notify); a status that cannot be set still fails")
	f.BoolVar(&o.NoRecord, "no-record", false, "do not record the approval on the pull request")
	f.BoolVar(&o.NoComment, "no-comment", false, "with --report: do not update the approval section of schemagate's comment")
	f.BoolVar(&o.JSON, "json", false, "print the decision as JSON")
	return cmd
}

func (a *App) runGate(ctx context.Context, o *GateOptions) error {
	if o.StatusOnly && o.NoStatus {
		return usageErr(errors.New("--status-only leaves the decision to the commit status: not with --no-status"))
	}
	if o.ReportArtifact != "" {
		switch {
		case o.Report != "":
			return usageErr(errors.New("give --report or --report-artifact, not both"))
		case o.UpdateReport:
			return usageErr(errors.New("--update-report writes the --report file: not with --report-artifact"))
		case o.CheckWorkflow == "" || strings.ContainsAny(o.CheckWorkflow, "/\\") || !(strings.HasSuffix(o.CheckWorkflow, ".yml") || strings.HasSuffix(o.CheckWorkflow, ".yaml")):
			return usageErr(fmt.Errorf("--check-workflow %q: want the file name of the check's workflow in .github/workflows, e.g. schemagate.yml", o.CheckWorkflow))
		}
	}
	cfg, file, err := a.gateConfig(o)
	if err != nil {
		return err
	}
	if gl, ok := a.gitlabJob(); ok {
		if o.ReportArtifact != "" {
			return usageErr(errors.New("--report-artifact reads a GitHub Actions artifact: on GitLab, pass the check job's report with --report (the component does)"))
		}
		if o.StatusOnly {
			return usageErr(errors.New("--status-only is for GitHub workflow_run jobs: on GitLab the gate job's own result is what the merge request waits for"))
		}
		return a.runGateGitLab(ctx, o, cfg, file, gl)
	}
	ev, err := readGitHubEvent(a.Getenv("GITHUB_EVENT_PATH"))
	if err != nil {
		if o.Repo == "" || o.PR == 0 {
			return usageErr(err)
		}
		// --repo and --pr say all the payload would have said.
		a.Logger.Warn("event payload ignored", "err", err)
		ev = &githubEvent{}
	}
	if o.Repo == "" {
		o.Repo = firstNonEmpty(ev.repo(), a.Getenv("GITHUB_REPOSITORY"))
	}
	env := ci.ReadGitHubEnv(a.Getenv)
	o.runURL = env.RunURL()
	if o.TargetURL == "" {
		// This run's page, in the repository the run belongs to (GITHUB_REPOSITORY), not --repo's: from a
		// workflow in another repository (a central gate workflow with a token for the pull request's
		// repository), --repo names a repository that has no such run.
		o.TargetURL = o.runURL
	}
	if ev.WorkflowRun != nil && ev.WorkflowRun.ID != 0 {
		o.checkRunURL = env.RunURLOf(strconv.FormatInt(ev.WorkflowRun.ID, 10))
	}
	if o.Repo == "" || !strings.Contains(o.Repo, "/") {
		return usageErr(fmt.Errorf("--repo owner/name is required outside GitHub Actions (got %q)", o.Repo))
	}
	for _, repo := range []string{env.Repository, o.Repo} {
		if repo != "" {
			o.runPages = append(o.runPages, env.ServerURL+"/"+repo+"/actions/runs/")
		}
	}
	token := a.Getenv(o.TokenEnv)
	a.hideSecrets(token)
	if token == "" {
		return usageErr(fmt.Errorf("no GitHub token: set %s (in a workflow: env: %s: ${{ github.token }})", o.TokenEnv, o.TokenEnv))
	}
	opts := github.Options{Token: token, BaseURL: firstNonEmpty(o.APIURL, a.Getenv("GITHUB_API_URL")), Login: o.BotLogin}
	if a.Getenv("GITHUB_ACTIONS") == "true" {
		opts.FallbackLogin = github.ActionsBotLogin
	}
	gh, err := github.New(opts)
	if err != nil {
		return usageErr(err)
	}
	// One listing of the pull request's files serves the report's check and the decision alike.
	f := forge.WithRunCache(gh)
	ref := forge.Ref{Repo: o.Repo, Number: o.PR}
	if ref.Number == 0 {
		ref.Number = ev.number(o.Repo)
	}
	if ref.Number == 0 && ev.headSHA() != "" {
		cr, err := f.FindChangeRequestBySHA(ctx, o.Repo, ev.headSHA())
		if errors.Is(err, forge.ErrNotFound) {
			// The run's commit is no open pull request's head any more: pushed over, or closed.
			a.staleNotice("gate", noPullRequestWithHead(o.Repo, ev.headSHA())+": nothing decided")
			return nil
		}
		if err != nil {
			return fmt.Errorf("find the pull request of %s: %w", ev.headSHA(), err)
		}
		ref.Number = cr.Number
	}
	if ref.Number == 0 {
		return usageErr(errors.New("--pr is required outside a pull_request, pull_request_review or workflow_run event"))
	}
	if o.ReportArtifact != "" {
		dir, done, err := a.reportFromArtifact(ctx, o, gh, f, ev, env, ref)
		if dir != "" {
			defer os.RemoveAll(dir)
		}
		if err != nil || done {
			return err
		}
	}
	rep, notes, err := a.policyAndReport(ctx, o, cfg, file, f, ref, ev.baseSHA())
	if err != nil {
		return err
	}
	// The head the run was about: the report, or the working tree the static report read, is of it. A
	// pull request that moved on since is judged by the run of its new head, never from this one's files.
	run := gateRun{head: ev.headSHA(), closedIsStale: ev.WorkflowRun != nil, words: githubWords}
	if run.head == "" && ev.PullRequest != nil && ev.PullRequest.Number == ref.Number {
		run.head = ev.PullRequest.Head.SHA
	}
	more, judged, stale, err := a.tieToHead(ctx, cfg, f, ref, run, rep, o.Report != "")
	if err != nil {
		return err
	}
	if stale != "" {
		a.staleNotice("gate", stale)
		return nil
	}
	if o.noCheckRun {
		config := "schemagate.yml"
		if file != "" {
			config = repoRelative(ctx, file)
		}
		touched, err := touchesMigrations(ctx, f, ref, rep.Dir, config)
		if err != nil {
			return err
		}
		if len(rep.Migrations) > 0 || touched != "" {
			// The change may touch migrations: the check's report decides, when its workflow runs.
			a.staleNotice("gate", fmt.Sprintf("pull request #%d changes %s and %s has not run on %s: nothing decided; the gate decides when a run of it finishes (if its paths leave such files out, add them)",
				ref.Number, firstNonEmpty(touched, "migration files"), o.CheckWorkflow, short12(judged)))
			return nil
		}
		// No migration file changes: nothing needs approval, and there is no check comment or
		// migration for a record to speak for.
		o.NoComment, o.NoRecord = true, true
		notes = append(notes, "the pull request changes no migration file (the check's workflow did not run on it)")
	}
	notes = append(notes, more...)
	req := gate.Request{Ref: ref, Policy: cfg.Approval, Dialect: codeowners.GitHub, Report: rep, Logger: a.Logger}
	d, cr, err := gate.Evaluate(ctx, f, req)
	if err != nil {
		if errors.Is(err, forge.ErrNotFound) {
			return usageErr(err)
		}
		return err
	}
	if moved := movedWhileJudged(run.words, judged, cr); moved != "" {
		a.staleNotice("gate", moved)
		return nil
	}
	d.Notes = append(d.Notes, notes...)
	// The commit status is the head commit's: another open pull request with that head (the branch
	// opened against a second base) shows it too, so it is a success only when that one is satisfied.
	if err := gate.SameHead(ctx, f, req, cr, d); err != nil {
		return err
	}
	return a.finishGate(ctx, o, f, ref, cr, rep, d)
}

// policyAndReport settles the policy (gatePolicy) and reads the report it judges, the policy's notes
// added; it returns them for the decision too.
func (a *App) policyAndReport(ctx context.Context, o *GateOptions, cfg *config.Config, file string, f forge.Forge, ref forge.Ref, eventBase string) (*report.Report, []string, error) {
	policy, err := a.gatePolicy(ctx, o, cfg, file, f, ref, eventBase)
	if err != nil {
		return nil, nil, err
	}
	notes := policy.notes
	rep, err := a.gateReport(ctx, o, cfg, file, policy.folderHint())
	if err != nil {
		return nil, nil, err
	}
	rep.Notes = append(rep.Notes, notes...)
	return rep, notes, nil
}

// gatePolicy makes the base's policy hold over the change's schemagate.yml (see enforceBasePolicy). The
// base is --base, else the event's, else the change request's base commit; the file is read there with
// git, or through the forge when the clone lacks the commit (as CODEOWNERS is read).
//
// Then the policy of the target branch's head holds too: the change request's base commit as the forge
// reports it now (GitLab: diff_refs.start_sha; GitHub: base.sha), the commit CODEOWNERS is read at.
// The base above is not enough: in a GitLab merge request pipeline it is the merge base
// (CI_MERGE_REQUEST_DIFF_BASE_SHA), which the author chooses by branching off an old commit, one from
// before the DBAs tightened approval.require; on GitHub the event's base.sha is the base branch's tip
// when the event fired, older on a re-run. So every setting is the strictest of the change's, the
// base's and the target head's, and who may approve (approval.dba_users, dba_teams, codeowners_path) is
// the target head's, as CODEOWNERS is. The folder stays the base's, which the check rehearsed: when
// the target head names another folder, the gate refuses to judge (the change must be rebased). With
// --report, the risk is the check's, measured under the base's rules: if the target head classifies
// statements more strictly (lint.rules, deploy timeouts, pg_version), the report may understate it, so
// the approval is then required whatever the risk.
func (a *App) gatePolicy(ctx context.Context, o *GateOptions, cfg *config.Config, file string, f forge.Forge, ref forge.Ref, eventBase string) (basePolicy, error) {
	base := firstNonEmpty(o.Base, eventBase)
	var target string
	if _, _, inRepo := configInRepo(ctx, file); inRepo {
		cr, err := f.ChangeRequest(ctx, ref)
		if err != nil {
			if errors.Is(err, forge.ErrNotFound) {
				return basePolicy{}, usageErr(err)
			}
			return basePolicy{}, fmt.Errorf("read the base of %s#%d: %w", ref.Repo, ref.Number, err)
		}
		target = firstNonEmpty(cr.BaseSHA, cr.BaseRef)
		if base == "" {
			base = target
		}
	}
	policy, err := a.basePolicyInConfigFolder(ctx, cfg, file, base, forgeFiles(f, ref.Repo, base), policyFlags{dir: o.Dir != ""}, nil)
	if err != nil {
		return basePolicy{}, err
	}
	if target != "" && target != base {
		before := cfg.Dir
		tp, err := a.basePolicyInConfigFolder(ctx, cfg, file, target, forgeFiles(f, ref.Repo, target), policyFlags{dir: o.Dir != ""}, enforceTargetPolicy)
		if err != nil {
			return basePolicy{}, err
		}
		if tp.baseDir != "" {
			return basePolicy{}, usageErr(fmt.Errorf("the migration folder of %s at the head of the target branch (%s) is %s, not %s as at the base %.12s that this change was checked against: rebase the change onto the target branch, or pass --dir",
				tp.where, shortRef(target), tp.baseDir, effectiveDir(before), base))
		}
		policy.notes = append(policy.notes, tp.notes...)
		if tp.classesFromBase && o.Report != "" && cfg.Approval.RequireLevel() != config.RequireNever {
			cfg.Approval.Require = config.RequireAlways
			policy.notes = append(policy.notes, fmt.Sprintf("the report's risk was measured under the rules at the base %.12s, looser than at the head of the target branch (%s): approval is required whatever the risk", base, shortRef(target)))
		}
	}
	if ps := cfg.Approval.Validate(); len(ps) > 0 {
		return basePolicy{}, usageErr(ps)
	}
	// The flags, over the file's settings and the base's alike.
	folderFlags(cfg, o.Dir, o.Format)
	return policy, nil
}

// shortRef is a commit's first 12 digits, or a branch name as it is.
func shortRef(ref string) string {
	if len(ref) == 40 {
		return ref[:12]
	}
	return ref
}

// runGateGitLab is the gate in a GitLab merge request pipeline: the merge request, project and token
// come from the job's predefined variables, CODEOWNERS is read in GitLab's dialect from the target
// branch, and the merge request's code-owner approval rules count where the tier has them.
func (a *App) runGateGitLab(ctx context.Context, o *GateOptions, cfg *config.Config, file string, gl *ci.GitLabEnv) error {
	c, err := newGitLab(gl, o.APIURL)
	if err != nil {
		return usageErr(err)
	}
	ref := forge.Ref{Repo: firstNonEmpty(o.Repo, gl.Project()), Number: o.PR}
	if ref.Number == 0 {
		if err := gl.BadIID(); err != nil {
			return usageErr(err)
		}
		ref.Number = gl.MergeRequestIID
	}
	if ref.Repo == "" || ref.Number == 0 {
		// Validate names each predefined variable the job lacks.
		return usageErr(errors.Join(errors.New("no merge request: run the gate in a merge request pipeline (rules: - if: $CI_PIPELINE_SOURCE == \"merge_request_event\") or pass --repo and --pr"),
			gl.Validate(true, false)))
	}
	if o.Base == "" {
		o.Base = gl.BaseSHA() // the target's head in a merged results pipeline, as for the check
	}
	if o.TargetURL == "" {
		o.TargetURL = gl.JobURL
	}
	o.pipelineURL, o.jobURL = gl.PipelineURL, gl.JobURL
	f := forge.WithRunCache(c)
	rep, notes, err := a.policyAndReport(ctx, o, cfg, file, f, ref, "")
	if err != nil {
		return err
	}
	// A pipeline of an older head judges nothing: its report is not the merge request's any more, and
	// the status would go on the new head (a notice, exit 0, as on GitHub; the new head's pipeline
	// decides). Nor does one of a merged or closed merge request (a pipeline re-run after the merge, as
	// a workflow_run after the pull request closed on GitHub). Settled before the approvals are read,
	// which a stale pipeline need not be able to.
	run := gateRun{head: pipelineHead(gl, o), closedIsStale: true, words: gitlabWords}
	more, judged, stale, err := a.tieToHead(ctx, cfg, f, ref, run, rep, o.Report != "")
	if err != nil {
		return err
	}
	if stale != "" {
		a.staleNotice("gate", stale)
		return nil
	}
	notes = append(notes, more...)
	d, cr, err := gate.Evaluate(ctx, f, gate.Request{Ref: ref, Policy: cfg.Approval, Dialect: codeowners.GitLab, Report: rep, Logger: a.Logger})
	if err != nil {
		if errors.Is(err, forge.ErrNotFound) {
			return usageErr(err)
		}
		return err
	}
	if moved := movedWhileJudged(run.words, judged, cr); moved != "" {
		a.staleNotice("gate", moved)
		return nil
	}
	d.Notes = append(d.Notes, notes...)
	applyGitLabRules(ctx, c, ref, rep, d)
	return a.finishGate(ctx, o, f, ref, cr, rep, d)
}

// tieToHead ties the gate's decision to the head it judges: a report (a fork's artifact, or the check
// job's) is checked at the pull or merge request's head (verifyGateReport); without one, the working
// tree is the event's head, and a request that moved on since is stale. It returns the notes of the
// report's check, the head judged and, when stale, why.
func (a *App) tieToHead(ctx context.Context, cfg *config.Config, f *forge.RunCache, ref forge.Ref, run gateRun, rep *report.Report, fromReport bool) (notes []string, judged, stale string, err error) {
	if fromReport {
		return a.verifyGateReport(ctx, cfg, f, ref, run, rep)
	}
	stale, err = a.headMovedOn(ctx, f, ref, run)
	return nil, run.head, stale, err
}

// headMovedOn says, when not empty, that the change request has moved on from the head run.head the
// gate's static report was made at (the working tree's), or, with run.closedIsStale, is no longer open,
// so nothing may be decided.
func (a *App) headMovedOn(ctx context.Context, f forge.Forge, ref forge.Ref, run gateRun) (string, error) {
	if run.head == "" && !run.closedIsStale {
		return "", nil
	}
	cr, err := f.ChangeRequest(ctx, ref)
	if err != nil {
		if errors.Is(err, forge.ErrNotFound) {
			return "", usageErr(err)
		}
		return "", err
	}
	_, stale, err := reportHead(&report.Report{}, run, cr)
	return stale, err
}

// pipelineHead is the merge request head the job's pipeline ran for, "" when the merge request was
// named by --pr (the job may be of another pipeline) or the job is no merge request pipeline's.
func pipelineHead(gl *ci.GitLabEnv, o *GateOptions) string {
	if o.PR != 0 || !gl.IsMergeRequest() {
		return ""
	}
	return gl.HeadSHA()
}

// finishGate prints and publishes the decision and turns it into the exit code.
func (a *App) finishGate(ctx context.Context, o *GateOptions, f forge.Forge, ref forge.Ref, cr *forge.ChangeRequest, rep *report.Report, d *gate.Decision) error {
	// The report (an artifact) and the decision's notes may quote a server: what the gate writes, posts
	// and saves hides the secrets it knows (see redactReport).
	a.redactReport(rep)
	a.redactor.Value(d)
	a.writeGate(o, d)
	statusErr := a.publishGate(ctx, o, f, ref, cr, rep, d)
	if o.StatusOnly && statusErr != nil {
		return exitCode(ExitFailure, fmt.Errorf("the decision (%s) is not published: set the commit status: %w", d.State, statusErr))
	}
	if o.UpdateReport && o.Report != "" {
		rep.Approval = d.Report()
		if err := writeJSON(o.Report, rep); err != nil {
			return err
		}
	}
	switch {
	case o.StatusOnly:
		return nil
	case d.HeadState() == gate.Pending:
		// Approved here but waiting for another pull request with the same head, whose status this is too.
		return exitCode(ExitPending, nil)
	case d.State == gate.Blocked:
		return exitCode(ExitBlocked, nil)
	}
	return nil
}

// publishGate sets the status, records the decision and appends the job summary. A read-only token
// (a fork's pull request) skips the writes with a notice; the exit code still carries the decision.
// statusErr is why the commit status was not set.
func (a *App) publishGate(ctx context.Context, o *GateOptions, f forge.Forge, ref forge.Ref, cr *forge.ChangeRequest, rep *report.Report, d *gate.Decision) (statusErr error) {
	notice := func(what string, err error) {
		msg := fmt.Sprintf("warning: %s: %v", what, err)
		if errors.Is(err, forge.ErrReadOnly) {
			// The error says what to do when it can (GitLab's name the token sent and the fix); say it once.
			hint := ""
			var h interface{ Hint() string }
			if _, ok := a.gitlabJob(); ok && (!errors.As(err, &h) || h.Hint() == "") {
				hint = " — " + gitlab.JobTokenHint
			}
			msg = fmt.Sprintf("notice: %s skipped: the token cannot write (%v)%s", what, err, hint)
		}
		// On GitHub Actions an annotation, which the run's page shows: a green job whose required status
		// never appears is otherwise easy to miss.
		if env, ok := ci.DetectGitHub(a.Getenv); ok {
			ci.NewActions(env, a.commandOut()).Warning("schemagate gate: " + msg)
			return
		}
		fmt.Fprintf(a.Stderr, "schemagate: %s\n", cleanMessage(msg)) // the error may quote a path of the change
	}
	if !o.NoStatus {
		if err := f.SetStatus(ctx, ref.Repo, cr.HeadSHA, gate.Status(d, o.TargetURL)); err != nil {
			notice("commit status", err)
			statusErr = err
		}
	}
	if !o.NoRecord {
		if _, err := gate.Save(ctx, f, ref, rep.Dir, d); err != nil {
			notice("approval record", err)
		}
	}
	if o.Report != "" && !o.NoComment && rep.Tool == "schemagate" {
		if err := updateReportComment(ctx, f, ref, o, rep, d); err != nil {
			notice("comment", err)
		}
	}
	if env := ci.ReadGitHubEnv(a.Getenv); env.SummaryPath != "" {
		// Within the runner's 1 MiB with what the step wrote before: over it, the runner drops the whole
		// summary. A change of thousands of migration files would make the section larger.
		acts := ci.NewActions(env, a.commandOut())
		if err := acts.AddSummary(gate.MarkdownUpTo(d, acts.SummaryRoom())); err != nil {
			notice("job summary", err)
		}
	}
	return statusErr
}

func (a *App) writeGate(o *GateOptions, d *gate.Decision) {
	if o.JSON {
		b, _ := json.MarshalIndent(d, "", "  ")
		fmt.Fprintln(a.Stdout, string(b))
		return
	}
	fmt.Fprintf(a.Stdout, "schemagate gate: %s — %s\n", d.State, clean(d.Reason))
	if d.HeadState() != d.State {
		fmt.Fprintf(a.Stdout, "  the commit status stays %s: %s\n", d.HeadState(), clean(d.HeadWaits()))
	}
	for _, ig := range d.Ignored {
		fmt.Fprintf(a.Stdout, "  counted for the approval: %s\n", clean(ig))
	}
	for _, n := range d.Notes {
		fmt.Fprintf(a.Stdout, "  note: %s\n", clean(n))
	}
}

// gateConfig merges defaults < file < environment for the approval policy, and returns the file's name.
// gatePolicy then gives the base its say and applies --dir and --format.
func (a *App) gateConfig(o *GateOptions) (*config.Config, string, error) {
	cfg, file, err := a.loadConfig(o.ConfigFile)
	if err != nil {
		return nil, file, err
	}
	if ps := cfg.Approval.Validate(); len(ps) > 0 {
		for i := range ps {
			ps[i].File = file
		}
		return nil, file, usageErr(ps)
	}
	return cfg, file, nil
}

// gateReport reads --report, or analyses the new migrations statically.
// folderHint, when not empty, replaces the hint of a missing folder (see basePolicy.folderHint).
// configFile is the configuration's file ("" when none), for gateFolder.
//
// A report is judged on the gate's own migration folder (gateFolder: the target branch's schemagate.yml,
// --dir, SCHEMAGATE_DIR or the default), never on the folder the report names: its author could name any
// (a fork's artifact), and the folder decides which changed files the report must vouch for and whose
// CODEOWNERS rules apply. A report for another folder is refused, not re-read as the gate's: its files
// would be mapped onto a folder it was not made for, and where the gate's folder is only the default
// (schemagate.yml names none) the report's may well be the true one, which a substitution would leave
// unjudged.
func (a *App) gateReport(ctx context.Context, o *GateOptions, cfg *config.Config, configFile, folderHint string) (*report.Report, error) {
	if o.Report != "" {
		data, err := repofs.ReadRegular(o.Report)
		if err != nil {
			return nil, usageErr(fmt.Errorf("read report: %w", err))
		}
		var rep report.Report
		if err := json.Unmarshal(data, &rep); err != nil {
			return nil, usageErr(fmt.Errorf("read report %s: %w", jsonPlace(o.reportLabel(), data, err), err))
		}
		folder := gateFolder(ctx, cfg.Dir, configFile)
		if err := otherFolder(&rep, folder, o.reportLabel(), "the gate judges", "dir in the target branch's schemagate.yml", "leave this folder's changes unchecked",
			"give the check and the gate the same folder (set dir in schemagate.yml on the target branch, or pass the gate --dir)"); err != nil {
			return nil, err
		}
		if strings.TrimSpace(rep.Dir) == "" {
			rep.Dir = folder
		}
		// The comment the gate rewrites shows the migrations' pass or fail and risks, not a summary the
		// report's author wrote; verifyReport then raises them by the gate's own lint.
		if note := rep.Rederive(); note != "" {
			rep.Notes = append(rep.Notes, note)
		}
		return &rep, nil
	}
	var notes []string
	set, base, unread, lcfg, err := readFolder(ctx, cfg, o.Base, firstNonEmpty(folderHint, "pass --dir, --report, or set dir in schemagate.yml"), &notes)
	if err != nil {
		return nil, err
	}
	rep := staticReport(cfg.Dir, set, base, unread, lcfg)
	rep.Notes = append(rep.Notes, notes...)
	rep.Dir = repoRelative(ctx, cfg.Dir)
	return rep, nil
}

// otherFolder refuses report rep (named label) when it names a migration folder other than folder, the
// trusted one (see gateFolder), which a command (judged: "the gate judges") takes from config (where the
// configuration sets it), --dir or the default; harm says what a report for another folder would do,
// fix how to give both the same folder. A report that names none is taken as the folder's.
func otherFolder(rep *report.Report, folder, label, judged, config, harm, fix string) error {
	if strings.TrimSpace(rep.Dir) == "" || cleanFolder(rep.Dir) == folder {
		return nil
	}
	return usageErr(fmt.Errorf("the report %s is for the migration folder %q, but %s %q (%s, --dir, or the default %s): refusing a report for another folder, which would %s; %s",
		clean(label), clean(rep.Dir), judged, cmp.Or(folder, "."), config, defaultDir, harm, fix))
}

// gateFolder names the migration folder the gate judges, dir (cfg.Dir, which the target branch's
// schemagate.yml, --dir, SCHEMAGATE_DIR or the default decide), from the root of the repository that
// holds it, as the change request's files and CODEOWNERS name paths; "" for the root. The folder need
// not exist in the gate's checkout (the change may add the first migration): its nearest existing
// parent is named, and the rest appended. Outside a git repository the folder of configFile, when it
// holds dir, stands for the root (dir is written relative to it); else dir is taken as given.
func gateFolder(ctx context.Context, dir, configFile string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return cleanFolder(filepath.ToSlash(dir))
	}
	parent, rest := abs, ""
	for {
		if _, err := os.Stat(parent); err == nil {
			break
		}
		up := filepath.Dir(parent)
		if up == parent {
			break
		}
		rest = path.Join(filepath.Base(parent), rest)
		parent = up
	}
	if rel := repoRelative(ctx, parent); !filepath.IsAbs(rel) && !strings.HasPrefix(rel, "/") {
		return cleanFolder(path.Join(rel, rest))
	}
	if configFile != "" {
		if cf, err := filepath.Abs(filepath.Dir(configFile)); err == nil {
			if rel, err := filepath.Rel(cf, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return cleanFolder(filepath.ToSlash(rel))
			}
		}
	}
	return cleanFolder(filepath.ToSlash(dir))
}

// repoRelative names dir from the root of its git repository, as CODEOWNERS patterns and the pull
// request's changed files do; outside a repository it is left as given.
func repoRelative(ctx context.Context, dir string) string {
	clean := filepath.ToSlash(filepath.Clean(dir))
	abs, err := filepath.Abs(dir)
	if err != nil {
		return clean
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	out, err := exec.CommandContext(ctx, "git", "-C", abs, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return clean
	}
	rel, err := filepath.Rel(strings.TrimSpace(string(out)), abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return clean
	}
	return filepath.ToSlash(rel)
}

// repoRelativeFiles rewrites the findings' paths relative to the repository root (what code scanning and
// CODEOWNERS resolve paths against), whatever directory schemagate runs from; paths outside a
// repository stay as they are. One git call per folder.
func repoRelativeFiles(ctx context.Context, fs []lint.Finding) []lint.Finding {
	name := repoPaths(ctx)
	out := slices.Clone(fs)
	for i := range out {
		out[i].File = name(out[i].File)
	}
	return out
}

// repoPaths returns a function that names a file from the root of the repository that holds it (see
// repoRelative), with one git call per folder; "" stays "".
func repoPaths(ctx context.Context) func(file string) string {
	dirs := map[string]string{}
	return func(file string) string {
		if file == "" {
			return ""
		}
		d := filepath.Dir(file)
		rel, ok := dirs[d]
		if !ok {
			rel = repoRelative(ctx, d)
			dirs[d] = rel
		}
		return path.Join(rel, filepath.Base(file))
	}
}

// staticReport builds a report from the parse tree alone: the migrations absent from base are new.
// unread, when not nil, is a base whose folder does not read (base is then empty), compared file by file.
func staticReport(dir string, set, base *migrate.Set, unread *rehearse.UnreadBase, lcfg lint.Config) *report.Report {
	rep := &report.Report{Tool: "schemagate", Dir: filepath.ToSlash(filepath.Clean(dir)), Format: string(set.Format), Base: "", Migrations: []report.Migration{}}
	sp := rehearse.SplitHistory(set, base)
	fresh := map[*migrate.Migration]bool{}
	for _, m := range sp.Fresh {
		fresh[m] = true
	}
	for _, m := range set.Migrations {
		rm := report.Migration{Version: m.Version, Name: m.Name, Checksum: m.Checksum, Status: report.StatusNotRun}
		if m.Up != nil {
			rm.File = filepath.ToSlash(filepath.Join(dir, m.Up.File))
			rm.Statements = len(m.Up.Statements)
		}
		if m.Down != nil {
			rm.DownFile = filepath.ToSlash(filepath.Join(dir, m.Down.File))
		}
		if fresh[m] {
			rm.New = true
			rm.Findings = append(lint.Analyze(m, set.Format, lcfg), lint.ToolFindings(m, set.Format, lcfg)...)
		} else {
			rm.Status = report.StatusBase
		}
		// Edited and out-of-order migrations (against the base) count as in the rehearsal.
		sp.Mark(m, &rm)
		unread.Mark(m, &rm)
		for i := range rm.Findings {
			rm.Findings[i].File = filepath.ToSlash(filepath.Join(dir, rm.Findings[i].File))
		}
		if rm.Error != nil {
			rm.Error.File = filepath.ToSlash(filepath.Join(dir, rm.Error.File))
		}
		rep.Migrations = append(rep.Migrations, rm)
	}
	deleted := unread.Deleted()
	for _, b := range sp.Deleted {
		deleted = append(deleted, sp.DeletedEntry(b))
	}
	for _, rm := range deleted {
		rm.File = filepath.ToSlash(filepath.Join(dir, rm.File))
		rm.Error.File, rm.Findings[0].File = rm.File, rm.File
		if rm.DownFile != "" {
			rm.DownFile = filepath.ToSlash(filepath.Join(dir, rm.DownFile))
		}
		rep.Migrations = append(rep.Migrations, rm)
	}
	rep.Finish()
	return rep
}

// githubEvent is the part of a GitHub Actions event payload the gate reads.
type githubEvent struct {
	Number      int `json:"number"`
	PullRequest *struct {
		Number int `json:"number"`
		Head   struct {
			SHA string `json:"sha"`
		} `json:"head"`
		Base struct {
			SHA  string `json:"sha"`
			Repo struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"base"`
	} `json:"pull_request"`
	Repository struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	WorkflowRun *struct {
		ID      int64  `json:"id"`
		HeadSHA string `json:"head_sha"`
		// Path is the run's workflow file, .github/workflows/NAME.yml.
		Path       string `json:"path"`
		Conclusion string `json:"conclusion"`
		// PullRequests lists the open pull requests whose head branch is the run's: of this repository or
		// of others with a branch of the same name (GitHub lists those too), at whatever head they are now.
		PullRequests []struct {
			Number int `json:"number"`
			Head   struct {
				SHA string `json:"sha"`
			} `json:"head"`
			Base struct {
				Repo struct {
					URL string `json:"url"` // https://api.github.com/repos/OWNER/NAME
				} `json:"repo"`
			} `json:"base"`
		} `json:"pull_requests"`
	} `json:"workflow_run"`
}

func readGitHubEvent(path string) (*githubEvent, error) {
	ev := &githubEvent{}
	if path == "" {
		return ev, nil
	}
	data, err := repofs.ReadRegular(path)
	if err != nil {
		return nil, fmt.Errorf("read GITHUB_EVENT_PATH: %w", err)
	}
	if err := json.Unmarshal(data, ev); err != nil {
		return nil, fmt.Errorf("read GITHUB_EVENT_PATH %s: %w", path, err)
	}
	return ev, nil
}

func (e *githubEvent) repo() string {
	if e.PullRequest != nil && e.PullRequest.Base.Repo.FullName != "" {
		return e.PullRequest.Base.Repo.FullName
	}
	return e.Repository.FullName
}

// number is the pull request the event is about, in repository repo; 0 when the event does not say.
func (e *githubEvent) number(repo string) int {
	switch {
	case e.PullRequest != nil && e.PullRequest.Number != 0:
		return e.PullRequest.Number
	case e.WorkflowRun != nil:
		// Only a pull request of this repository whose head is the commit the run was about; otherwise
		// the caller finds it by that commit.
		n := 0
		for _, pr := range e.WorkflowRun.PullRequests {
			if pr.Head.SHA != e.WorkflowRun.HeadSHA || !strings.HasSuffix(strings.ToLower(pr.Base.Repo.URL), "/repos/"+strings.ToLower(repo)) {
				continue
			}
			if n != 0 && n != pr.Number {
				return 0
			}
			n = pr.Number
		}
		return n
	}
	return 0
}

// baseSHA is the pull request's base commit, when the event carries the pull request.
func (e *githubEvent) baseSHA() string {
	if e.PullRequest != nil {
		return e.PullRequest.Base.SHA
	}
	return ""
}

// headSHA is the head commit a workflow_run ran on; its pull_requests list is empty for forks.
func (e *githubEvent) headSHA() string {
	if e.WorkflowRun != nil {
		return e.WorkflowRun.HeadSHA
	}
	return ""
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// updateReportComment keeps the approval section of the check's sticky comment current: it rewrites the
// comment schemagate wrote for this folder, if there is one, from the check's report and the decision.
// It never creates a comment: the check owns it.
func updateReportComment(ctx context.Context, f forge.Forge, ref forge.Ref, o *GateOptions, rep *report.Report, d *gate.Decision) error {
	me, err := f.Me(ctx)
	if err != nil {
		return err
	}
	opts := report.MarkdownOptions{Marker: report.Marker(rep.Dir), Artifact: o.reportLabel(), MaxRunes: commentMaxRunes(f), Stored: storedOn(f)}
	c, err := forge.FindOwn(ctx, f, ref, me, opts.Marker, report.OldMarkers(rep.Dir)...)
	if err != nil || c == nil {
		return err
	}
	if o.pipelineURL != "" {
		// GitLab has no job summary: the note links the pipeline, whose check job holds the report.
		opts.JobURL, opts.PipelineURL = o.jobURL, o.pipelineURL
	} else {
		// The job summary that holds the check's report: the run a workflow_run event reports on, else
		// the one the comment links already (the check's, whichever workflow runs the gate), else this
		// run (the check's job and the gate's in one workflow); none when no run is known.
		markers := append([]string{opts.Marker}, report.OldMarkers(rep.Dir)...)
		opts.SummaryURL = firstNonEmpty(o.checkRunURL, linkedSummary(c.Body, markers, o.runPages), o.runURL)
	}
	withDecision := *rep
	withDecision.Approval = d.Report()
	body := report.Markdown(&withDecision, opts)
	if !strings.Contains(body, opts.Marker) {
		body += "\n\n" + opts.Marker
	}
	return f.UpdateComment(ctx, ref, c.ID, body)
}

// summaryLink is the job summary link of the footer report.Markdown writes, the whole line: its own
// text and at most a job log link after the job summary's.
var summaryLink = regexp.MustCompile(`^<sub>schemagate · \[job summary\]\((https?://[^()\s]+)\)(?: · \[job log\]\([^()\s]+\))?</sub>$`)

// linkedSummary is the job summary a comment of schemagate's links in its footer, or "". The footer is
// the last line before the comment's marker (one of markers), as report.Markdown ends a comment: the
// rest of the body quotes the change request (its SQL, its file names), which may hold a line like it.
// The link is kept only as schemagate writes it (ci.GitHubEnv.RunURLOf): a workflow run's page, one of
// runPages followed by the run's id.
func linkedSummary(body string, markers, runPages []string) string {
	end := -1
	for _, m := range markers {
		if i := strings.LastIndex(body, m); m != "" && i > end {
			end = i
		}
	}
	if end < 0 {
		return ""
	}
	before := strings.TrimRight(body[:end], " \t\r\n")
	footer := before[strings.LastIndexByte(before, '\n')+1:]
	m := summaryLink.FindStringSubmatch(strings.TrimSuffix(footer, "\r"))
	if m == nil {
		return ""
	}
	for _, p := range runPages {
		if id, ok := cutPrefixFold(m[1], p); ok && isRunID(id) {
			return m[1]
		}
	}
	return ""
}

// cutPrefixFold is strings.CutPrefix with the prefix matched case-insensitively: GitHub's owner and
// repository names are.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// isRunID reports whether s is a workflow run's id: decimal digits, not 0.
func isRunID(s string) bool {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return false
	}
	return strings.TrimLeft(s, "0") != ""
}
