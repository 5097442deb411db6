package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/schemagate/schemagate/internal/ci"
	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github"
	"github.com/schemagate/schemagate/internal/gate"
	"github.com/schemagate/schemagate/internal/repofs"
	"github.com/schemagate/schemagate/internal/report"
)

// CommentOptions are the inputs of `schemagate comment`.
type CommentOptions struct {
	Report string
	Repo   string
	SHA    string
	PR     int
	// Token is --token, the token itself; TokenEnv (--token-env) names the environment variable that
	// holds it, which keeps it out of process lists and shell history.
	Token    string
	TokenEnv string
	APIURL   string
	// tokenEnvSet is set when --token-env was given.
	tokenEnvSet bool
	// BotLogin is the token's user when GET /user cannot tell (an App installation token).
	BotLogin string
	// Dir and ConfigFile name the migration folder the comment is for (see commentFolder).
	Dir        string
	ConfigFile string
}

func (a *App) newCommentCmd() *cobra.Command {
	o := &CommentOptions{}
	cmd := &cobra.Command{
		Use:   "comment --report FILE [--repo OWNER/NAME] [--sha SHA | --pr N]",
		Short: "Post a JSON report as the sticky pull request comment (for workflow_run workflows)",
		Long: `comment creates or updates schemagate's comment on a pull request from a JSON report written by
'schemagate check --report-json' or the action. It is meant for a workflow_run workflow that posts the
report of a fork pull request, whose own token could not. The pull request is found by --pr or by the
head SHA (--sha, default the workflow_run event's head_sha, also with --pr), and checked to be open and
to still have that head; when it moved on or closed, nothing is posted and a notice says so (exit 0: the
run for the new head posts).

The token comes from the environment variable --token-env names (default GITHUB_TOKEN, else GH_TOKEN);
--token takes the token itself, which process lists and shell history then show: prefer --token-env.
The API comes from --api-url, else GITHUB_API_URL.

In GitLab CI (GITLAB_CI=true) it writes the merge request note instead: the project and merge request
come from the job's predefined variables (or --repo and --pr), the token from GITLAB_TOKEN, which must
be a project or group access token with api scope (CI_JOB_TOKEN cannot write notes). No line of the
note starts with a slash outside a code block, so nothing in the report can run a quick action.
The report is untrusted data: everything in it is escaped in the comment, and its pass or fail and
risks are computed again from its migrations' statuses, round trips and findings. The folder it is for, which
picks the comment to update (one per folder), is taken from this side, as the gate takes it: dir in
./schemagate.yml (or --config; in a workflow_run workflow, check out the default branch for it), --dir,
SCHEMAGATE_DIR, else the default; a report for another folder is refused (exit 2).`,
		Example: `  schemagate comment --report schemagate-report.json
  schemagate comment --report report.json --repo acme/shop --sha 3484a3fb816e0859fd6e1cea078d76385ff50625
  schemagate comment --report report.json --repo acme/shop --pr 42`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.tokenEnvSet = cmd.Flags().Changed("token-env")
			return a.runComment(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Report, "report", "", "JSON report to post (required)")
	f.StringVar(&o.Repo, "repo", "", "repository owner/name (default GITHUB_REPOSITORY)")
	f.StringVar(&o.SHA, "sha", "", "head commit of the pull request (default the workflow_run event's head_sha)")
	f.Var(prNumber{&o.PR}, "pr", "pull request number (default: found by --sha)")
	f.StringVar(&o.TokenEnv, "token-env", "GITHUB_TOKEN", "environment variable holding the GitHub token")
	f.StringVar(&o.Token, "token", "", "GitHub token with pull-requests: write; prefer --token-env, since a token on the command line shows in process lists and shell history")
	f.StringVar(&o.APIURL, "api-url", "", "REST API root: GitHub's (default GITHUB_API_URL, else https://api.github.com) or, in GitLab CI, GitLab's (default CI_API_V4_URL)")
	f.StringVar(&o.Dir, "dir", "", "migration folder the comment is for (default: dir from schemagate.yml, else ./migrations); a report for another is refused")
	f.StringVar(&o.ConfigFile, "config", "", "configuration file (default ./schemagate.yml when present): its dir is the folder the comment is for")
	f.StringVar(&o.BotLogin, "bot-login", "", "login of the token's user when GET /user cannot tell, e.g. my-app[bot] for a GitHub App token (default github-actions[bot])")
	return cmd
}

// readReport reads and sanity-checks a JSON report; it may come from an untrusted workflow artifact.
func readReport(path string) (*report.Report, error) {
	b, err := repofs.ReadRegular(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read report %s: %w", jsonPlace(path, b, err), err)
	}
	if r.Tool != "" && r.Tool != "schemagate" {
		return nil, fmt.Errorf("read report %s: written by %q, not schemagate", path, r.Tool)
	}
	// Every report schemagate has written holds these keys (fields came and went around them, and any
	// other may be missing or unknown): without them, {} or another tool's JSON would be posted as a
	// report of nothing.
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	var missing []string
	if r.Tool == "" {
		missing = append(missing, `"tool": "schemagate"`)
	}
	for _, k := range reportKeys {
		if _, ok := keys[k]; !ok && k != "tool" {
			missing = append(missing, fmt.Sprintf("%q", k))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("read report %s: not a schemagate report (no %s): give the file check --report-json wrote", path, strings.Join(missing, ", "))
	}
	return &r, nil
}

// undecided keeps of a report's approval section what the check writes and the comment may repeat: that
// the approval is required, why, the checksum and the ignored findings. A decision (approved or blocked,
// by whom, who may still approve) is the gate's alone, and the report is an artifact its author could
// have written: posted by the bot, a claimed "approved by dora" would read as the bot's word. So would a
// claimed "not required": whether the approval is required is the gate's to say too, from the policy of
// the target branch and the changed files it reads itself, so a report that says it is not (in its state
// or its required flag) is shown as undecided, the gate's to decide. A report that says it is required
// is shown as pending: the check's own claim, which only the gate can lift. The gate writes its decision
// into the comment itself.
func undecided(a *report.Approval) *report.Approval {
	if a == nil {
		return nil
	}
	out := &report.Approval{Required: a.Required, State: a.State, Reason: a.Reason, Checksum: a.Checksum, Ignored: a.Ignored}
	switch {
	case !a.Required || a.State == gate.NotRequired:
		out.Required, out.State, out.Reason = false, report.ApprovalUndecided, ""
	case a.State != gate.Pending:
		out.State, out.Reason = gate.Pending, ""
	}
	return out
}

// readCommentReport reads the report to post (readReport), refuses one for another folder than the
// comment's own (commentFolder), and keeps of its approval what the comment may repeat (undecided).
func (a *App) readCommentReport(ctx context.Context, o *CommentOptions) (*report.Report, error) {
	folder, err := a.commentFolder(ctx, o)
	if err != nil {
		return nil, err
	}
	rep, err := readReport(o.Report)
	if err != nil {
		return nil, usageErr(err)
	}
	// The headline and the risks are the migrations', not a summary the report's author wrote.
	if note := rep.Rederive(); note != "" {
		rep.Notes = append(rep.Notes, note)
	}
	// A report of an older schemagate, or of another job's environment, may hold a secret this one
	// knows: it is posted without.
	a.redactReport(rep)
	if err := otherFolder(rep, folder, o.Report, "this comment is for", "dir in schemagate.yml", "overwrite that folder's comment",
		"give the check and the comment the same folder (set dir in schemagate.yml on the default branch and check it out for the comment, or pass --dir)"); err != nil {
		return nil, err
	}
	// The marker, and the folder the comment names, are the trusted folder's, whatever way the report
	// writes it (./db/migrations/).
	rep.Dir = cmp.Or(folder, ".")
	rep.Approval = undecided(rep.Approval)
	return rep, nil
}

// commentFolder names the migration folder the comment is for, from the root of the repository, as
// the gate names its own (gateFolder): dir in the configuration (./schemagate.yml or --config), --dir,
// SCHEMAGATE_DIR, else the default. Never the report's: the report picks the comment it updates (one
// per folder, by the marker of its dir), and a fork's artifact could name another folder's to overwrite
// it. In a workflow_run workflow the checkout, and its schemagate.yml, is the default branch's.
func (a *App) commentFolder(ctx context.Context, o *CommentOptions) (string, error) {
	cfg, file, err := a.loadConfig(o.ConfigFile)
	if err != nil {
		return "", err
	}
	folderFlags(cfg, o.Dir, "")
	return gateFolder(ctx, cfg.Dir, file), nil
}

// jsonPlace is path, with the line and column of err's syntax error in data when it is one (a report
// cut short, or edited by hand): path:line:col.
func jsonPlace(path string, data []byte, err error) string {
	var se *json.SyntaxError
	if !errors.As(err, &se) || se.Offset < 1 || se.Offset > int64(len(data)) {
		return path
	}
	at := data[:se.Offset-1] // the offending byte is the last one read
	if strings.HasPrefix(se.Error(), "unexpected end") {
		at = data // none: the input ends too soon
	}
	lineStart := bytes.LastIndexByte(at, '\n') + 1
	return fmt.Sprintf("%s:%d:%d", path, 1+bytes.Count(at, []byte{'\n'}), 1+utf8.RuneCount(at[lineStart:]))
}

// commentRoom is what a comment (check's and the deploy's) leaves of the forge's limit
// (forge.MaxCommentRunes), as the forge stores it (storedOn), for characters counted otherwise than as
// runes: of GitHub's 65,536, a comment takes 65,000 (report.DefaultMaxRunes).
const commentRoom = 536

// commentMaxRunes is the longest comment schemagate writes on f: the forge's own limit less commentRoom,
// so that a GitLab note holds up to 999,464 characters of the report where a GitHub comment holds 65,000.
func commentMaxRunes(f forge.Forge) int { return forge.MaxCommentRunes(f) - commentRoom }

// storedOn is what f keeps of a comment body (forge.StoredBody), which commentMaxRunes bounds: GitLab
// puts a zero-width space before every line that starts with a slash, and a report of many such lines
// (a failed statement's SQL) grows by thousands of characters past the limit it was shortened to.
func storedOn(f forge.Forge) func(string) string {
	return func(s string) string { return forge.StoredBody(f, s) }
}

// reportKeys are the keys of every schemagate report, old or new.
var reportKeys = []string{"tool", "dir", "ok", "migrations"}

func (a *App) runComment(ctx context.Context, o *CommentOptions) error {
	if o.Report == "" {
		return usageErr(errors.New("--report is required"))
	}
	if o.Token != "" && o.tokenEnvSet {
		return usageErr(errors.New("give --token or --token-env, not both (prefer --token-env)"))
	}
	if o.tokenEnvSet && strings.TrimSpace(o.TokenEnv) == "" {
		return usageErr(errors.New("--token-env: give the name of the environment variable that holds the token"))
	}
	if gl, ok := a.gitlabJob(); ok {
		return a.runCommentGitLab(ctx, o, gl)
	}
	_, inActions := ci.DetectGitHub(a.Getenv)
	env := ci.ReadGitHubEnv(a.Getenv)
	if o.Repo == "" {
		o.Repo = env.Repository
	}
	switch {
	case o.Token != "":
	case o.tokenEnvSet:
		o.Token = a.Getenv(o.TokenEnv)
	default:
		o.Token = env.Token // GITHUB_TOKEN, else GH_TOKEN
	}
	a.hideSecrets(o.Token)
	if o.APIURL == "" {
		o.APIURL = env.APIURL
	}
	// The job summary the comment links is this run's, unless this is a workflow_run workflow posting the
	// report of the run it was started by: that run's summary holds the check's report.
	summaryURL := env.RunURL()
	if inActions && env.EventName == ci.GitHubWorkflowRun {
		ev, err := ci.ReadGitHubEvent(env.EventName, env.EventPath)
		if err != nil {
			return usageErr(err)
		}
		if o.SHA == "" {
			// With --pr too: the pull request must still have the head the run (and its report) was for.
			o.SHA = ev.WorkflowRun.HeadSHA
		}
		summaryURL = env.RunURLOf(strconv.FormatInt(ev.WorkflowRun.ID, 10))
	}
	switch {
	case o.Repo == "":
		return usageErr(errors.New("--repo is required outside GitHub Actions"))
	case o.SHA == "" && o.PR == 0:
		return usageErr(errors.New("give --sha or --pr (or run in a workflow_run workflow)"))
	case o.Token == "":
		return usageErr(fmt.Errorf("no GitHub token: set %s (in a workflow: env: %s: ${{ github.token }})", o.TokenEnv, o.TokenEnv))
	}
	if inActions {
		ci.NewActions(env, a.commandOut()).Mask(o.Token)
	}
	rep, err := a.readCommentReport(ctx, o)
	if err != nil {
		return err
	}
	f, err := github.New(github.Options{Token: o.Token, BaseURL: o.APIURL, Login: o.BotLogin, FallbackLogin: github.ActionsBotLogin})
	if err != nil {
		return usageErr(err)
	}
	var cr *forge.ChangeRequest
	if o.PR > 0 {
		cr, err = f.ChangeRequest(ctx, forge.Ref{Repo: o.Repo, Number: o.PR})
	} else {
		cr, err = f.FindChangeRequestBySHA(ctx, o.Repo, o.SHA)
	}
	if err != nil && o.PR == 0 && errors.Is(err, forge.ErrNotFound) {
		// No open pull request has the run's commit as its head any more: pushed over or closed.
		a.staleNotice("comment", noPullRequestWithHead(o.Repo, o.SHA)+": report not posted")
		return nil
	}
	if err != nil {
		return exitCode(ExitFailure, fmt.Errorf("find the pull request: %w", err))
	}
	// The artifact and the event could be stale or forged: post only on a pull request whose head is
	// still the commit the report was made for. Neither is a failure: a newer run posts.
	if o.SHA != "" && !strings.EqualFold(cr.HeadSHA, o.SHA) {
		a.staleNotice("comment", fmt.Sprintf("pull request #%d has moved on to %s; the report is for %s: report not posted (the run for the new head posts)", cr.Number, short12(cr.HeadSHA), short12(o.SHA)))
		return nil
	}
	if cr.State != "" && cr.State != "open" {
		a.staleNotice("comment", fmt.Sprintf("pull request #%d is %s: report not posted", cr.Number, cr.State))
		return nil
	}
	if rep.Head != "" && o.SHA != "" && !strings.EqualFold(rep.Head, o.SHA) {
		return usageErr(fmt.Errorf("the report was made for commit %s, not %s: refusing a stale or forged report", short12(rep.Head), short12(o.SHA)))
	}
	opts := report.MarkdownOptions{Marker: report.Marker(rep.Dir), SummaryURL: summaryURL, Artifact: o.Report, MaxRunes: commentMaxRunes(f), Stored: storedOn(f)}
	id, created, err := forge.Upsert(ctx, f, cr.Ref, opts.Marker, report.Markdown(rep, opts), report.OldMarkers(rep.Dir)...)
	if err != nil {
		if errors.Is(err, forge.ErrReadOnly) {
			return exitCode(ExitFailure, fmt.Errorf("%w (give the workflow 'permissions: pull-requests: write')", err))
		}
		return exitCode(ExitFailure, err)
	}
	verb := "updated"
	if created {
		verb = "created"
	}
	fmt.Fprintf(a.Stdout, "schemagate: comment %d %s on %s#%d\n", id, verb, cr.Repo, cr.Number)
	return nil
}

// runCommentGitLab writes the report as the merge request's sticky note.
func (a *App) runCommentGitLab(ctx context.Context, o *CommentOptions, gl *ci.GitLabEnv) error {
	if o.Token != "" {
		gl.Token = o.Token
	}
	if gl.Token == "" {
		return usageErr(fmt.Errorf("no GitLab token to write the merge request note: %w", gl.Validate(false, true)))
	}
	ref := forge.Ref{Repo: firstNonEmpty(o.Repo, gl.Project()), Number: o.PR}
	if ref.Number == 0 {
		if err := gl.BadIID(); err != nil {
			return usageErr(err)
		}
		ref.Number = gl.MergeRequestIID
	}
	if ref.Repo == "" || ref.Number == 0 {
		return usageErr(errors.Join(errors.New("no merge request: run in a merge request pipeline or pass --repo and --pr"), gl.Validate(false, false)))
	}
	rep, err := a.readCommentReport(ctx, o)
	if err != nil {
		return err
	}
	c, err := newGitLab(gl, o.APIURL)
	if err != nil {
		return usageErr(err)
	}
	cr, err := c.ChangeRequest(ctx, ref)
	if err != nil {
		return exitCode(ExitFailure, fmt.Errorf("find the merge request: %w", err))
	}
	// As on GitHub: post only on an open merge request whose head is still the commit the report was
	// made for (in a merged results pipeline, the source branch's head, not the temporary merge commit).
	sha := o.SHA
	if sha == "" && gl.IsMergeRequest() && o.PR == 0 {
		sha = gl.HeadSHA()
	}
	// Neither is a failure (exit 0 and a notice, as on GitHub): a newer pipeline posts, or there is
	// nothing left to post to.
	if sha != "" && cr.HeadSHA != "" && !strings.EqualFold(cr.HeadSHA, sha) {
		a.staleNotice("comment", fmt.Sprintf("merge request !%d has moved on to %s; the report is for %s: report not posted (the pipeline of the new head posts)", cr.Number, short12(cr.HeadSHA), short12(sha)))
		return nil
	}
	if cr.State != "" && cr.State != "open" {
		a.staleNotice("comment", fmt.Sprintf("merge request !%d is %s: report not posted", cr.Number, cr.State))
		return nil
	}
	opts := report.MarkdownOptions{Marker: report.Marker(rep.Dir), JobURL: gl.JobURL, PipelineURL: gl.PipelineURL, Artifact: o.Report, MaxRunes: commentMaxRunes(c), Stored: storedOn(c)}
	id, created, err := forge.Upsert(ctx, c, ref, opts.Marker, report.Markdown(rep, opts), report.OldMarkers(rep.Dir)...)
	if err != nil {
		return exitCode(ExitFailure, err) // GitLab's refusals name the token and the fix
	}
	verb := "updated"
	if created {
		verb = "created"
	}
	fmt.Fprintf(a.Stdout, "schemagate: note %d %s on %s!%d\n", id, verb, ref.Repo, ref.Number)
	return nil
}
