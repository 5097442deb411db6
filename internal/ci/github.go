package ci

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/schemagate/schemagate/internal/repofs"
)

// GitHub event names schemagate acts on (GITHUB_EVENT_NAME).
const (
	GitHubPullRequest = "pull_request"
	GitHubWorkflowRun = "workflow_run"
	GitHubPush        = "push"
)

// GitHubEnv is what a GitHub Actions runner tells a step through its environment. Inside a container
// action every path is already translated to the container (/github/workspace, /github/workflow/event.json,
// /github/file_commands/...), see design/platforms.md §1.3.
type GitHubEnv struct {
	// APIURL is GITHUB_API_URL (https://api.github.com, or https://HOST/api/v3 on GitHub Enterprise Server).
	APIURL string
	// ServerURL is GITHUB_SERVER_URL, e.g. https://github.com.
	ServerURL string
	// Repository is GITHUB_REPOSITORY (owner/name).
	Repository string
	// RunID is GITHUB_RUN_ID; with ServerURL and Repository it gives the run's page (job summary).
	RunID string
	// EventName is GITHUB_EVENT_NAME.
	EventName string
	// EventPath is GITHUB_EVENT_PATH, the webhook payload that triggered the run.
	EventPath string
	// Workspace is GITHUB_WORKSPACE, where the repository is checked out.
	Workspace string
	// SHA is GITHUB_SHA.
	SHA string
	// OutputPath is GITHUB_OUTPUT, the file command for step outputs.
	OutputPath string
	// SummaryPath is GITHUB_STEP_SUMMARY, the file command for the job summary.
	SummaryPath string
	// Token is GITHUB_TOKEN (or GH_TOKEN) when the workflow passes it through env:, for commands that
	// take no action inputs (schemagate comment).
	Token string

	getenv func(string) string
}

// DetectGitHub reads the GitHub Actions environment through getenv; ok is false outside GitHub Actions
// (GITHUB_ACTIONS is not "true").
func DetectGitHub(getenv func(string) string) (env *GitHubEnv, ok bool) {
	if getenv == nil || getenv("GITHUB_ACTIONS") != "true" {
		return nil, false
	}
	return ReadGitHubEnv(getenv), true
}

// ReadGitHubEnv reads the GITHUB_* variables whether or not this is GitHub Actions, for commands that
// also run elsewhere with the same variables (GITHUB_TOKEN, GITHUB_API_URL, GITHUB_REPOSITORY).
func ReadGitHubEnv(getenv func(string) string) *GitHubEnv {
	e := &GitHubEnv{
		APIURL:      strings.TrimRight(getenv("GITHUB_API_URL"), "/"),
		ServerURL:   strings.TrimRight(getenv("GITHUB_SERVER_URL"), "/"),
		Repository:  getenv("GITHUB_REPOSITORY"),
		RunID:       getenv("GITHUB_RUN_ID"),
		EventName:   getenv("GITHUB_EVENT_NAME"),
		EventPath:   getenv("GITHUB_EVENT_PATH"),
		Workspace:   getenv("GITHUB_WORKSPACE"),
		SHA:         getenv("GITHUB_SHA"),
		OutputPath:  getenv("GITHUB_OUTPUT"),
		SummaryPath: getenv("GITHUB_STEP_SUMMARY"),
		Token:       getenv("GITHUB_TOKEN"),
		getenv:      getenv,
	}
	if e.Token == "" {
		e.Token = getenv("GH_TOKEN")
	}
	if e.APIURL == "" {
		e.APIURL = "https://api.github.com"
	}
	if e.ServerURL == "" {
		e.ServerURL = "https://github.com"
	}
	return e
}

// GitConfigEnv returns the environment entries that make git trust the repositories of the mounted
// workspace, whose owner (the runner's user) differs from the container's root user ("detected dubious
// ownership"): one more GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n pair after those already set, so no file is
// written and only schemagate's own git commands see it.
//
// The value is "*", not the workspace: actions/checkout with path: puts the repository in a folder under
// it (/github/workspace/app), and a workflow may check out several, which safe.directory=/github/workspace
// does not cover (git 2.39 of the image has no "/github/workspace/*" prefix form). Trusting every
// repository is sound in the action's own throwaway container: the only repositories it holds are those
// the workflow checked out into the mounted workspace, which is the runner user's, and schemagate already
// runs their content (the migrations). The protection safe.directory gives, against another local user's
// repository and its git config, has no such user to guard against there.
func (e *GitHubEnv) GitConfigEnv() []string {
	n := 0
	if e.getenv != nil {
		fmt.Sscanf(e.getenv("GIT_CONFIG_COUNT"), "%d", &n)
	}
	return []string{
		fmt.Sprintf("GIT_CONFIG_COUNT=%d", n+1),
		fmt.Sprintf("GIT_CONFIG_KEY_%d=safe.directory", n),
		fmt.Sprintf("GIT_CONFIG_VALUE_%d=*", n),
	}
}

// Input returns an action input the way the runner passes it: INPUT_<NAME> with the name upper-cased,
// spaces turned into "_" and hyphens kept (INPUT_DATABASE-URL), surrounding space trimmed.
func (e *GitHubEnv) Input(name string) string {
	if e == nil || e.getenv == nil {
		return ""
	}
	key := "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
	return strings.TrimSpace(e.getenv(key))
}

// BoolInput reads a true/false input; empty gives def.
func (e *GitHubEnv) BoolInput(name string, def bool) (bool, error) {
	switch strings.ToLower(e.Input(name)) {
	case "":
		return def, nil
	case "true", "yes", "1", "on":
		return true, nil
	case "false", "no", "0", "off":
		return false, nil
	}
	return false, fmt.Errorf("input %s: want true or false, got %q", name, e.Input(name))
}

// RunURL is the page of the workflow run, which shows the job summary.
func (e *GitHubEnv) RunURL() string {
	return e.RunURLOf(e.RunID)
}

// RunURLOf is the page of the repository's workflow run id (such as the run a workflow_run event
// reports on, whose job summary holds its check's report).
func (e *GitHubEnv) RunURLOf(id string) string {
	if e.Repository == "" || id == "" || id == "0" {
		return ""
	}
	return e.ServerURL + "/" + e.Repository + "/actions/runs/" + id
}

// GitHubEvent is the part of a webhook payload schemagate needs.
type GitHubEvent struct {
	// Name is the event name (GITHUB_EVENT_NAME).
	Name string
	// PullRequest is set for pull_request and pull_request_review events.
	PullRequest *GitHubPullRequestEvent
	// WorkflowRun is set for workflow_run events.
	WorkflowRun *GitHubWorkflowRunEvent
	// Before is the commit a push moved the branch from; empty when the push created the branch.
	Before string
}

// GitHubPullRequestEvent is a pull request as its event payload describes it.
type GitHubPullRequestEvent struct {
	Number   int
	BaseSHA  string
	HeadSHA  string
	BaseRef  string
	BaseRepo string
	HeadRepo string
	// Fork is set when head and base live in different repositories: the token is then read-only.
	Fork bool
}

// GitHubWorkflowRunEvent is the run that a workflow_run event reports on.
type GitHubWorkflowRunEvent struct {
	ID         int64
	HeadSHA    string
	HeadBranch string
	HeadRepo   string
	Conclusion string
	// PullRequests are the numbers GitHub lists; empty for fork pull requests.
	PullRequests []int
}

type repoJSON struct {
	FullName string `json:"full_name"`
}

type eventJSON struct {
	Before      string `json:"before"`
	Created     bool   `json:"created"`
	PullRequest *struct {
		Number int `json:"number"`
		Base   struct {
			SHA  string    `json:"sha"`
			Ref  string    `json:"ref"`
			Repo *repoJSON `json:"repo"`
		} `json:"base"`
		Head struct {
			SHA  string    `json:"sha"`
			Repo *repoJSON `json:"repo"`
		} `json:"head"`
	} `json:"pull_request"`
	WorkflowRun *struct {
		ID           int64     `json:"id"`
		HeadSHA      string    `json:"head_sha"`
		HeadBranch   string    `json:"head_branch"`
		Conclusion   string    `json:"conclusion"`
		HeadRepo     *repoJSON `json:"head_repository"`
		PullRequests []struct {
			Number int `json:"number"`
		} `json:"pull_requests"`
	} `json:"workflow_run"`
}

// ReadGitHubEvent reads the payload at path for event name.
func ReadGitHubEvent(name, path string) (*GitHubEvent, error) {
	if path == "" {
		return nil, errors.New("read event: GITHUB_EVENT_PATH is not set")
	}
	b, err := repofs.ReadRegular(path)
	if err != nil {
		return nil, fmt.Errorf("read event: %w", err)
	}
	return ParseGitHubEvent(name, b)
}

// ParseGitHubEvent decodes a webhook payload.
func ParseGitHubEvent(name string, payload []byte) (*GitHubEvent, error) {
	var raw eventJSON
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, fmt.Errorf("parse %s event: %w", name, err)
	}
	ev := &GitHubEvent{Name: name}
	if p := raw.PullRequest; p != nil {
		pr := &GitHubPullRequestEvent{Number: p.Number, BaseSHA: p.Base.SHA, HeadSHA: p.Head.SHA, BaseRef: p.Base.Ref}
		if p.Base.Repo != nil {
			pr.BaseRepo = p.Base.Repo.FullName
		}
		if p.Head.Repo != nil {
			pr.HeadRepo = p.Head.Repo.FullName
		}
		// A deleted fork has head.repo null: treat it as a fork, its token is read-only too.
		pr.Fork = pr.HeadRepo == "" || !strings.EqualFold(pr.HeadRepo, pr.BaseRepo)
		if pr.Number <= 0 || pr.BaseSHA == "" || pr.HeadSHA == "" {
			return nil, fmt.Errorf("parse %s event: pull_request lacks number, base.sha or head.sha", name)
		}
		ev.PullRequest = pr
	}
	if w := raw.WorkflowRun; w != nil {
		run := &GitHubWorkflowRunEvent{ID: w.ID, HeadSHA: w.HeadSHA, HeadBranch: w.HeadBranch, Conclusion: w.Conclusion}
		if w.HeadRepo != nil {
			run.HeadRepo = w.HeadRepo.FullName
		}
		for _, p := range w.PullRequests {
			run.PullRequests = append(run.PullRequests, p.Number)
		}
		if run.HeadSHA == "" {
			return nil, fmt.Errorf("parse %s event: workflow_run lacks head_sha", name)
		}
		ev.WorkflowRun = run
	}
	if name == "push" && !raw.Created && strings.Trim(raw.Before, "0") != "" {
		ev.Before = raw.Before
	}
	if name == GitHubPullRequest && ev.PullRequest == nil {
		return nil, fmt.Errorf("parse %s event: no pull_request in the payload", name)
	}
	if name == GitHubWorkflowRun && ev.WorkflowRun == nil {
		return nil, fmt.Errorf("parse %s event: no workflow_run in the payload", name)
	}
	return ev, nil
}
