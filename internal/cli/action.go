package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/schemagate/schemagate/internal/ci"
	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
)

// defaultActionReport is where the action writes the JSON report, relative to the workspace so that the
// path means the same inside the container and in later steps on the host.
const defaultActionReport = "schemagate-report.json"

func (a *App) newActionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "action",
		Short: "Run as the GitHub container action (reads INPUT_* and the event payload)",
		Long: `action is the entrypoint of schemagate's GitHub Action. It reads the action's inputs (INPUT_*),
the event payload (GITHUB_EVENT_PATH) and the file-command paths the runner provides, runs the check
with the pull request's base SHA as --base, then writes annotations, the job summary and the outputs
(risk, approval-risk, new-migrations, approval-required, report-json) and creates or updates one sticky comment per
migration folder. On a fork pull request (read-only token) the comment is skipped with a notice; post
the report later with 'schemagate comment' from a workflow_run workflow.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAction(cmd.Context()) },
	}
}

// actionInputs reads the action's inputs into check options.
func actionInputs(env *ci.GitHubEnv) (*CheckOptions, error) {
	o := &CheckOptions{
		ci: true, Dir: env.Input("dir"), Format: env.Input("format"), ConfigFile: env.Input("config"), Base: env.Input("base"),
		Provider: env.Input("provider"), Image: env.Input("image"), DatabaseURL: env.Input("database-url"),
		FailOn: env.Input("fail-on"), ReportJSON: env.Input("report-json"), set: map[string]bool{},
	}
	if v := env.Input("pg-version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 9 {
			return nil, fmt.Errorf("input pg-version: want a PostgreSQL major version such as 15, got %q", v)
		}
		o.PGVersion = n
	}
	o.FailOn = strings.ToLower(strings.TrimSpace(o.FailOn)) // as --fail-on and lint.fail_on are read
	switch o.FailOn {
	case "", "dangerous", "caution", "safe", "never":
	default:
		return nil, fmt.Errorf("input fail-on: want dangerous, caution, safe or never, got %q", o.FailOn)
	}
	if o.ReportJSON == "" {
		o.ReportJSON = defaultActionReport
	}
	return o, nil
}

// inputWords rewrites a message about the check's flags into the action's inputs, which the user set.
var inputWords = strings.NewReplacer(
	"pass --dir or set dir in schemagate.yml", "set the dir input or dir in schemagate.yml", "check --dir", "check the dir input",
	"--report-json", "input report-json", "--database-url", "input database-url", "--pg-version", "input pg-version",
	"--fail-on", "input fail-on", "--provider", "input provider", "--format", "input format", "--config", "input config",
	"--image", "input image", "--base", "input base", "--dir", "input dir",
)

func (a *App) runAction(ctx context.Context) error {
	env, ok := ci.DetectGitHub(a.Getenv)
	if !ok {
		return usageErr(errors.New("schemagate action runs inside GitHub Actions (GITHUB_ACTIONS=true); use 'schemagate check' elsewhere"))
	}
	// One stream for everything: the runner reads stdout and stderr concurrently, and a stop-commands
	// token on one stream does not order lines on the other.
	a.Stderr = a.Stdout
	acts := ci.NewActions(env, a.commandOut())
	err := a.action(ctx, env, acts)
	var ee *ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Err == nil:
		// Reported already (inside stop-commands), with the annotation.
	case errors.As(err, &ee):
		// The annotation is the run page's cause of the failure: in the inputs' words.
		acts.Error("schemagate: " + inputWords.Replace(ee.Err.Error()))
		ee.Err = errors.New(inputWords.Replace(ee.Err.Error()))
	default:
		acts.Error("schemagate: " + inputWords.Replace(err.Error()))
	}
	return err
}

// configAnnotations are the problems of the configuration file in err, each an error annotation at its
// line and column, as a finding is: GitHub shows it on the file in the pull request's diff, which the
// error that says every problem, placed nowhere, is not. name gives a file its path in the repository.
func configAnnotations(err error, name func(string) string) []report.Annotation {
	var ps config.Problems
	if !errors.As(err, &ps) {
		return nil
	}
	var out []report.Annotation
	for _, p := range ps {
		if p.File == "" || p.Line == 0 {
			continue // the error says it
		}
		msg := p.Msg
		if p.Path != "" {
			msg = p.Path + ": " + msg
		}
		out = append(out, report.Annotation{Level: report.LevelError, File: name(p.File), Line: p.Line, Col: p.Column,
			Title: "schemagate: invalid configuration", Message: inputWords.Replace(msg)})
	}
	return out
}

// action is the action's work; runAction reports its errors as annotations.
func (a *App) action(ctx context.Context, env *ci.GitHubEnv, acts *ci.Actions) error {
	token := env.Input("github-token")
	acts.Mask(token)
	a.hideSecrets(token)
	o, err := actionInputs(env)
	if err != nil {
		return usageErr(err)
	}
	// The server's password may sit in the userinfo or in the query (?password=, ?sslpassword=), and the
	// URL may come from the environment instead of the input: every form of each is masked.
	for _, dsn := range []string{o.DatabaseURL, a.Getenv("SCHEMAGATE_DATABASE_URL")} {
		for _, secret := range sandbox.URLSecrets(dsn) {
			acts.Mask(secret)
		}
		a.hideSecrets(sandbox.URLSecrets(dsn)...)
	}
	comment, err := env.BoolInput("comment", true)
	if err != nil {
		return usageErr(err)
	}
	if env.EventName == "pull_request_target" {
		// The check executes the pull request's SQL; pull_request_target hands it a write token and the
		// repository's secrets even for forks (a "pwn request").
		allow, err := env.BoolInput("allow-pull-request-target", false)
		if err != nil {
			return usageErr(err)
		}
		if !allow {
			return usageErr(errors.New("refusing to run on pull_request_target: the check executes the pull request's SQL, " +
				"and pull_request_target gives it a write token and the repository's secrets even for fork pull requests. " +
				"Run it on pull_request and post comments from a workflow_run workflow (docs/github-action.md); " +
				"set the input allow-pull-request-target: true only if no untrusted pull request can reach this workflow"))
		}
		acts.Warning("schemagate: running on pull_request_target (allow-pull-request-target: true): the pull request's SQL runs with a write token and the repository's secrets.")
	}
	// The workspace belongs to the runner's user, the container runs as root: let git trust it.
	for _, kv := range env.GitConfigEnv() {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}

	var pr *ci.GitHubPullRequestEvent
	switch env.EventName {
	case ci.GitHubPullRequest, "pull_request_review", "pull_request_target", "push":
		ev, err := ci.ReadGitHubEvent(env.EventName, env.EventPath)
		if err != nil {
			return usageErr(err)
		}
		pr = ev.PullRequest
		if o.Base == "" && ev.Before != "" {
			// A push: what it brought is new, what the branch had before is history.
			o.Base = ev.Before
			if err := ensureCommit(ctx, repoFolder(o, env.Workspace), o.Base); err != nil {
				return usageErr(err)
			}
		}
	}
	if pr != nil {
		o.head = pr.HeadSHA // the report is for the pull request's head, not the merge commit checked out
	}
	if pr != nil && o.Base == "" {
		o.Base = pr.BaseSHA
		if err := ensureCommit(ctx, repoFolder(o, env.Workspace), o.Base); err != nil {
			return usageErr(err)
		}
	}
	if o.Base == "" {
		acts.Notice(fmt.Sprintf("schemagate: no base commit for a %s event: every migration is rehearsed as new. Set the base input (a commit or branch) to replay the older ones as history.", firstNonEmpty(env.EventName, "manual")))
	}

	// Everything the check logs may quote the pull request: the runner must not execute it.
	stop, err := acts.StopCommands()
	if err != nil {
		return err
	}
	rep, err := a.runCheck(ctx, o)
	if err != nil {
		// The error may quote a file name or SQL: print it while commands are still stopped, its
		// control characters escaped as every text line's are (see clean); the annotation carries it
		// escaped, so no part of it can act as a command.
		msg, printed := inputWords.Replace(err.Error()), inputWords.Replace(cleanError(err))
		if errors.Is(err, context.Canceled) {
			msg, printed = "interrupted", "interrupted"
		}
		fmt.Fprintf(a.Stderr, "schemagate: %s\n", printed)
		acts.Resume(stop)
		acts.Error("schemagate: " + msg)
		if dropped := acts.Annotate(configAnnotations(err, repoPaths(ctx))); dropped > 0 {
			// GitHub shows 10 error annotations a step: the error above lists every problem.
			acts.Notice(fmt.Sprintf("schemagate: the error lists %d more configuration problem%s, not annotated at their lines: GitHub shows %d error annotations per step", dropped, report.Plural(dropped), ci.AnnotationCap))
		}
		code := ExitFailure
		var ee *ExitError
		if errors.As(err, &ee) {
			code = ee.Code
		}
		return exitCode(code, nil)
	}
	acts.Resume(stop)

	mdOpts := report.MarkdownOptions{Marker: report.Marker(rep.Dir), SummaryURL: env.RunURL(), Artifact: o.ReportJSON}
	// GitHub places an annotation by the file's path in the repository. The runner leaves a relative path
	// as it is and makes an absolute one relative to the workspace, which is not the repository's root
	// when actions/checkout cloned it into a folder of it (path: app).
	annotations, name := report.Annotations(rep), repoPaths(ctx)
	for i := range annotations {
		annotations[i].File = name(annotations[i].File)
	}
	if dropped := acts.Annotate(annotations); dropped > 0 {
		acts.Notice(fmt.Sprintf("schemagate: %d more annotations are in the job summary (GitHub shows 10 per level and step)", dropped))
	}
	if env.SummaryPath != "" {
		if err := acts.AddSummary(report.JobSummary(rep, mdOpts)); err != nil {
			a.Logger.Warn("job summary not written", "err", err)
		}
	}
	if env.OutputPath != "" {
		required := rep.Approval != nil && rep.Approval.Required
		if err := acts.SetOutputs(map[string]string{
			"risk": rep.Risk.String(), "approval-risk": rep.RiskForApproval().String(), "new-migrations": strconv.Itoa(len(rep.New())),
			"approval-required": strconv.FormatBool(required), "report-json": o.ReportJSON,
		}, "risk", "approval-risk", "new-migrations", "approval-required", "report-json"); err != nil {
			return err
		}
	}
	if comment && pr != nil {
		if err := a.actionComment(ctx, env, acts, pr, token, rep, mdOpts); err != nil {
			return err
		}
	}
	return checkExit(rep, o.failOnFrom)
}

func (a *App) actionComment(ctx context.Context, env *ci.GitHubEnv, acts *ci.Actions, pr *ci.GitHubPullRequestEvent,
	token string, rep *report.Report, mdOpts report.MarkdownOptions) error {
	skip := func(why string) {
		acts.Notice(fmt.Sprintf("schemagate: comment skipped: %s. The report is in %s and the job summary; post it from a "+
			"workflow_run workflow with 'schemagate comment --report %s'.", why, mdOpts.Artifact, mdOpts.Artifact))
	}
	if pr.Fork {
		skip("pull requests from forks get a read-only token")
		return nil
	}
	if token == "" {
		skip("no github-token")
		return nil
	}
	repo := pr.BaseRepo
	if repo == "" {
		repo = env.Repository
	}
	f, err := github.New(github.Options{Token: token, BaseURL: env.APIURL, Login: env.Input("bot-login"), FallbackLogin: github.ActionsBotLogin})
	if err != nil {
		return usageErr(err)
	}
	ref := forge.Ref{Repo: repo, Number: pr.Number}
	// The runs of two pushes finish in either order: a run whose pull request has moved on must not put
	// its older report over the newer head's (as 'schemagate comment' refuses to).
	cr, err := f.ChangeRequest(ctx, ref)
	if err == nil && pr.HeadSHA != "" && !strings.EqualFold(cr.HeadSHA, pr.HeadSHA) {
		acts.Notice(fmt.Sprintf("schemagate: comment skipped: pull request #%d has moved on to %s; the report is for %s (the run for the new head posts). The report is in %s and the job summary.",
			pr.Number, short12(cr.HeadSHA), short12(pr.HeadSHA), mdOpts.Artifact))
		return nil
	}
	var id int64
	var created bool
	if err == nil {
		mdOpts.MaxRunes, mdOpts.Stored = commentMaxRunes(f), storedOn(f)
		id, created, err = forge.Upsert(ctx, f, ref, mdOpts.Marker, report.Markdown(rep, mdOpts), report.OldMarkers(rep.Dir)...)
	}
	if errors.Is(err, forge.ErrReadOnly) {
		skip("the token may not write comments (give the job 'pull-requests: write')")
		return nil
	}
	if err != nil {
		// The check itself is done and its result stands: a GitHub outage or rate limit costs the
		// comment, not the step.
		acts.Warning(fmt.Sprintf("schemagate: the pull request comment was not posted: %v. The report is in %s and the job summary.", err, mdOpts.Artifact))
		return nil
	}
	verb := "updated"
	if created {
		verb = "created"
	}
	a.Logger.Info("comment "+verb, "pull_request", pr.Number, "comment_id", id)
	return nil
}

// repoFolder is a folder of the repository that holds the migrations, as far as the inputs tell before
// the configuration is read: the dir input, else the config input's folder, else the workspace. The
// workspace itself need not be a repository: actions/checkout with path: app clones into a folder of it.
func repoFolder(o *CheckOptions, workspace string) string {
	switch {
	case o.Dir != "":
		return o.Dir
	case o.ConfigFile != "":
		return filepath.Dir(o.ConfigFile)
	case workspace != "":
		return workspace
	}
	return "."
}

// ensureCommit makes sure sha is in the clone that holds folder: actions/checkout fetches one commit by
// default, so the base is fetched (with the credentials checkout left in the git config) when missing.
// folder may not exist yet (a migration folder the change adds): its nearest existing parent is used.
func ensureCommit(ctx context.Context, folder, sha string) error {
	if folder == "" {
		folder = "."
	}
	for {
		if info, err := os.Stat(folder); err == nil && info.IsDir() {
			break
		}
		parent := filepath.Dir(folder)
		if parent == folder {
			break
		}
		folder = parent
	}
	if exec.CommandContext(ctx, "git", "-C", folder, "cat-file", "-e", sha+"^{commit}").Run() == nil {
		return nil
	}
	out, err := exec.CommandContext(ctx, "git", "-C", folder, "fetch", "--no-tags", "--depth=1", "origin", sha).CombinedOutput()
	if err != nil {
		return fmt.Errorf("fetch base commit %s into the repository of %s: %v: %s (check out with actions/checkout fetch-depth: 0)", sha, folder, err, strings.TrimSpace(string(out)))
	}
	return nil
}
