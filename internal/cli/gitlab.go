package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/schemagate/schemagate/internal/ci"
	"github.com/schemagate/schemagate/internal/codeowners"
	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/gitlab"
	"github.com/schemagate/schemagate/internal/gate"
	"github.com/schemagate/schemagate/internal/report"
)

// gitlabJob returns GitLab CI's predefined variables when schemagate runs in a GitLab CI job. The same
// commands (check, comment, gate, deploy) then talk to GitLab instead of GitHub.
func (a *App) gitlabJob() (*ci.GitLabEnv, bool) {
	return ci.DetectGitLab(a.Getenv)
}

// newGitLab returns a GitLab client for the job: GITLAB_TOKEN (a project or group access token with
// api scope) when set, else CI_JOB_TOKEN, which reads but cannot write notes or statuses.
func newGitLab(env *ci.GitLabEnv, apiURL string) (*gitlab.Client, error) {
	if env.Token == "" && env.JobToken == "" {
		return nil, errors.New("no GitLab token: set GITLAB_TOKEN (a project or group access token with api scope) as a masked CI/CD variable")
	}
	return gitlab.New(gitlab.Options{Token: env.Token, JobToken: env.JobToken, BaseURL: firstNonEmpty(apiURL, env.APIURL)})
}

// gitlabReadOnlyHint explains what to do when GitLab refuses a write.
const gitlabReadOnlyHint = "CI_JOB_TOKEN cannot write notes or commit statuses: add a project or group access token with " +
	"api scope as the masked CI/CD variable GITLAB_TOKEN"

// applyGitLabRules adds the merge request's own approval state to a decision taken from CODEOWNERS (read
// from the target branch) and the approvals: on tiers with code-owner approval rules, a required
// code-owner rule covering a new migration file that GitLab does not count as approved keeps the gate
// pending, whatever CODEOWNERS of the target branch says. On tiers without rules (403/404) the decision
// stands and a note says so.
func applyGitLabRules(ctx context.Context, c *gitlab.Client, ref forge.Ref, rep *report.Report, d *gate.Decision) {
	if !d.Required || d.State == gate.Blocked {
		return
	}
	rules, err := c.ApprovalRules(ctx, ref)
	if err != nil {
		if errors.Is(err, forge.ErrNotFound) || errors.Is(err, forge.ErrForbidden) {
			d.Notes = append(d.Notes, "no code-owner approval rules on this GitLab tier: decided from CODEOWNERS of the target branch and the merge request's approvals")
			return
		}
		d.Notes = append(d.Notes, fmt.Sprintf("could not read the merge request's approval rules: %v", err))
		return
	}
	var files []string
	for _, m := range rep.New() {
		if m.File != "" {
			files = append(files, m.File)
		}
		if m.DownFile != "" {
			files = append(files, m.DownFile)
		}
	}
	var missing []string
	for _, r := range rules {
		if r.Type != "code_owner" || r.Required == 0 || r.Approved || !ruleCovers(r.Name, files) {
			continue
		}
		name := r.Name
		if r.Section != "" && r.Section != "codeowners" {
			name = "[" + r.Section + "] " + name
		}
		missing = append(missing, fmt.Sprintf("%s (%d required, approved by %d)", name, r.Required, len(r.ApprovedBy)))
		for _, u := range r.Eligible {
			if !slices.ContainsFunc(d.Owners, func(o string) bool { return strings.EqualFold(o, "@"+u) }) {
				d.Owners = append(d.Owners, "@"+u)
			}
		}
	}
	if len(missing) == 0 {
		return
	}
	d.Notes = append(d.Notes, "GitLab code-owner rules not yet approved: "+strings.Join(missing, "; "))
	if d.State == gate.Approved {
		d.State = gate.Pending
		d.Reason = "GitLab's code-owner approval rules are not satisfied: " + strings.Join(missing, "; ")
		if d.Needed == 0 {
			d.Needed = 1
		}
	}
}

// ruleCovers reports whether a code-owner rule's pattern (GitLab CODEOWNERS syntax) matches a file.
func ruleCovers(pattern string, files []string) bool {
	f, probs := codeowners.Parse(codeowners.GitLab, []byte(pattern+" @owner\n"))
	if len(probs) > 0 || f == nil {
		return true // a pattern we cannot read: count it, never guess it away
	}
	for _, p := range files {
		for _, m := range f.Owners(p) {
			if m.Rule != nil && len(m.Owners) > 0 {
				return true
			}
		}
	}
	return false
}
