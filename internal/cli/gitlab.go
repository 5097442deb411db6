package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
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
// api scope) when set, else CI_JOB_TOKEN, which reads but cannot write notes or statuses. It talks to
// apiURL, else the job's own instance (ci.GitLabEnv.APIURL), never to a default host. It knows the job's
// pipeline, so that a status on the pipeline's commit goes into this pipeline, not the newest of the
// commit's pipelines.
func newGitLab(env *ci.GitLabEnv, apiURL string) (*gitlab.Client, error) {
	if env.Token == "" && env.JobToken == "" {
		return nil, errors.New("no GitLab token: set GITLAB_TOKEN (a project or group access token with api scope) as a masked CI/CD variable")
	}
	base := firstNonEmpty(apiURL, env.APIURL)
	if base == "" {
		// Never the client's gitlab.com default: the token belongs to the instance running the job.
		return nil, errors.New("no GitLab API URL: CI_API_V4_URL and CI_SERVER_URL are empty; pass --api-url https://HOST/api/v4")
	}
	// An unreadable CI_PIPELINE_ID is none: the status then goes where GitLab puts one without it.
	id, _ := strconv.ParseInt(env.PipelineID, 10, 64)
	return gitlab.New(gitlab.Options{Token: env.Token, JobToken: env.JobToken, BaseURL: base,
		Pipeline: gitlab.Pipeline{ID: id, Project: env.PipelineProject, SHA: env.CommitSHA}})
}

// applyGitLabRules adds the merge request's own approval state to a decision taken from CODEOWNERS (read
// from the target branch) and the approvals, on tiers with code-owner approval rules (Premium, Ultimate):
//
//   - a section is satisfied when GitLab reports its rule approved: the approvers GitLab counts toward a
//     code_owner rule of the section covering the files count as owners of the section (GitLab knows
//     role owners such as @@maintainer, e-mail owners and groups the token cannot read), provided their
//     approval stands under the gate's policy (not the author's; on the head with stale_on_push), and
//     the policy's number of approvals still applies;
//   - a required code-owner rule covering a new migration file that GitLab does not count as approved
//     keeps the gate pending, whatever CODEOWNERS of the target branch says.
//
// On tiers without rules (403/404) the decision stands and a note says so.
func applyGitLabRules(ctx context.Context, c *gitlab.Client, ref forge.Ref, rep *report.Report, d *gate.Decision) {
	if !d.Required || d.State == gate.Blocked {
		return
	}
	rules, err := c.ApprovalRules(ctx, ref)
	if err != nil {
		if errors.Is(err, forge.ErrNotFound) || errors.Is(err, forge.ErrForbidden) {
			d.Notes = append(d.Notes, "no code-owner approval rules on this GitLab tier: decided from CODEOWNERS of the target branch and the merge request's approvals")
			// No rule counts a role or e-mail owner: a section of only such owners can never be approved.
			unruled(nil, d)
			d.Settle()
			return
		}
		d.Notes = append(d.Notes, fmt.Sprintf("could not read the merge request's approval rules: %v", err))
		return
	}
	counted := countGitLabRules(rules, d)
	if unruled(rules, d) || counted {
		d.Settle()
	}
	if d.State == gate.Blocked {
		return
	}
	// GitLab's rules name repository paths, where the report's files start with the folder as given on
	// the command line (db/migrations/… from services/api): name them from the repository root.
	files := gate.MigrationFiles(rep, nil)
	var missing []string
	for _, r := range rules {
		if r.Type != "code_owner" || r.Required == 0 || r.Approved || !ruleCovers(r.Name, files) {
			continue
		}
		missing = append(missing, fmt.Sprintf("%s (%d required, approved by %d)", ruleName(r), r.Required, len(r.ApprovedBy)))
		for _, u := range r.Eligible {
			// Neither the author nor who already approved can give the missing approval.
			if forge.SameLogin(u, d.Author) || containsFold(d.ApprovedBy, u) || containsFold(r.ApprovedBy, u) {
				continue
			}
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

// countGitLabRules counts, toward each requirement still missing approvals, the approvers of the
// approved code_owner rules of its section that decided its files, when every such rule is approved. It
// reports whether it counted anyone.
//
// A rule decided a file when it is the file's entry in the section: GitLab names a code_owner rule
// after its entry's pattern, and within a section only the last matching pattern applies. A broader
// rule of the section whose pattern matches the files too (/db/ beside /db/migrations/, created for
// another file of the merge request) speaks for that other file, not for these: its approvers own
// none of them.
func countGitLabRules(rules []gitlab.ApprovalRule, d *gate.Decision) bool {
	counted := false
	for i := range d.Requirements {
		req := &d.Requirements[i]
		if req.Missing() == 0 {
			continue
		}
		var covering []gitlab.ApprovalRule
		for _, r := range rules {
			if r.Type == "code_owner" && r.Required > 0 && sameSection(r.Section, req.Section) && decided(r.Name, req.Patterns) {
				covering = append(covering, r)
			}
		}
		if len(covering) == 0 || slices.ContainsFunc(covering, func(r gitlab.ApprovalRule) bool { return !r.Approved }) {
			continue
		}
		var names, by []string
		for _, r := range covering {
			names = append(names, ruleName(r))
			for _, u := range r.ApprovedBy {
				if !containsFold(d.Current, u) || containsFold(req.ApprovedBy, u) {
					continue
				}
				req.ApprovedBy = append(req.ApprovedBy, u)
				by = append(by, u)
				if !containsFold(d.ApprovedBy, u) {
					d.ApprovedBy = append(d.ApprovedBy, u)
				}
			}
		}
		if len(by) > 0 {
			counted = true
			// GitLab says they own the section after all.
			d.Notes = slices.DeleteFunc(d.Notes, func(n string) bool {
				return slices.ContainsFunc(by, func(u string) bool { return strings.HasPrefix(n, u+" approved but owns none") })
			})
			d.Notes = append(d.Notes, fmt.Sprintf("GitLab counts the approval of %s toward its code-owner rule %s, so it counts here too",
				strings.Join(by, ", "), strings.Join(names, ", ")))
		}
	}
	return counted
}

// unruled clears gate.Requirement.Ruled of each requirement that no required code_owner rule of its
// section decided (see countGitLabRules): GitLab counts nobody toward it, so its role and e-mail owners,
// which the gate cannot match to a login, can give none of its approvals. It reports whether it cleared
// any.
func unruled(rules []gitlab.ApprovalRule, d *gate.Decision) bool {
	cleared := false
	for i := range d.Requirements {
		req := &d.Requirements[i]
		if !req.Ruled || slices.ContainsFunc(rules, func(r gitlab.ApprovalRule) bool {
			return r.Type == "code_owner" && r.Required > 0 && sameSection(r.Section, req.Section) && decided(r.Name, req.Patterns)
		}) {
			continue
		}
		req.Ruled, cleared = false, true
	}
	return cleared
}

// sameSection reports whether GitLab's section of a rule is the requirement's: GitLab calls the unnamed
// section "codeowners"; names are case-insensitive.
func sameSection(rule, req string) bool {
	if strings.EqualFold(rule, "codeowners") {
		rule = ""
	}
	return strings.EqualFold(rule, req)
}

func ruleName(r gitlab.ApprovalRule) string {
	if r.Section != "" && !strings.EqualFold(r.Section, "codeowners") {
		return "[" + r.Section + "] " + r.Name
	}
	return r.Name
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// decided reports whether a code-owner rule's name is one of the CODEOWNERS patterns that decided a
// requirement's files (compared as GitLab's entries, see codeowners.SameGitLabEntry).
func decided(rule string, patterns []string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return codeowners.SameGitLabEntry(rule, p) })
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
