package ci

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// GitLab pipeline sources schemagate acts on (CI_PIPELINE_SOURCE).
const (
	GitLabMergeRequestEvent = "merge_request_event"
	GitLabPush              = "push"
)

// GitLabEnv is what a GitLab CI job tells schemagate through its predefined variables
// (gitlabhq doc/ci/variables/predefined_variables.md). The CI_MERGE_REQUEST_* fields are set only in
// merge request pipelines, and describe the merge request as it was when the pipeline was created.
type GitLabEnv struct {
	// APIURL is CI_API_V4_URL, e.g. https://gitlab.com/api/v4; when it is empty, CI_SERVER_URL + /api/v4.
	APIURL string
	// ServerURL is CI_SERVER_URL, e.g. https://gitlab.com.
	ServerURL string
	// ProjectID is the project the merge request targets (CI_MERGE_REQUEST_PROJECT_ID), else the
	// pipeline's project (CI_PROJECT_ID).
	ProjectID string
	// ProjectPath is CI_MERGE_REQUEST_PROJECT_PATH, else CI_PROJECT_PATH (group/project).
	ProjectPath string
	// SourceProjectID is CI_MERGE_REQUEST_SOURCE_PROJECT_ID; it differs from ProjectID for a fork.
	SourceProjectID string
	// MergeRequestIID is CI_MERGE_REQUEST_IID (0 outside merge request pipelines).
	MergeRequestIID int
	// DiffBaseSHA is CI_MERGE_REQUEST_DIFF_BASE_SHA: the merge base of the merge request, whose
	// migrations are the history the rehearsal replays before the new ones.
	DiffBaseSHA string
	// TargetBranch is CI_MERGE_REQUEST_TARGET_BRANCH_NAME.
	TargetBranch string
	// TargetBranchSHA is CI_MERGE_REQUEST_TARGET_BRANCH_SHA: the target branch's head that a merged
	// results or merge train pipeline merged the source into.
	TargetBranchSHA string
	// SourceBranch is CI_MERGE_REQUEST_SOURCE_BRANCH_NAME.
	SourceBranch string
	// SourceBranchSHA is CI_MERGE_REQUEST_SOURCE_BRANCH_SHA (merged results pipelines only).
	SourceBranchSHA string
	// EventType is CI_MERGE_REQUEST_EVENT_TYPE: detached, merged_result or merge_train.
	EventType string
	// CommitSHA is CI_COMMIT_SHA: the commit the pipeline runs on (in a merged results pipeline, the
	// temporary merge commit).
	CommitSHA string
	// PipelineSource is CI_PIPELINE_SOURCE, e.g. merge_request_event, push, schedule, web.
	PipelineSource string
	// DefaultBranch is CI_DEFAULT_BRANCH.
	DefaultBranch string
	// CommitBranch is CI_COMMIT_BRANCH (branch pipelines only).
	CommitBranch string
	// JobURL is CI_JOB_URL, the link a commit status or a report points to.
	JobURL string
	// PipelineID is CI_PIPELINE_ID.
	PipelineID string
	// PipelineProject is the project the pipeline runs in: CI_PROJECT_PATH, else CI_PROJECT_ID. A fork's
	// merge request pipeline may run in the fork, where ProjectPath is the target project.
	PipelineProject string
	// PipelineURL is CI_PIPELINE_URL.
	PipelineURL string
	// ProjectDir is CI_PROJECT_DIR, where the repository is checked out.
	ProjectDir string
	// Token is GITLAB_TOKEN: a project or group access token with api scope, needed to write notes and
	// commit statuses and to read approvals.
	Token string
	// JobToken is CI_JOB_TOKEN: it reads merge requests and notes, nothing more.
	JobToken string

	rawIID string
}

// DetectGitLab reads a GitLab CI job's predefined variables through getenv; ok is false outside GitLab
// CI (GITLAB_CI is not "true"). An unreadable CI_MERGE_REQUEST_IID is left 0 and reported by Validate.
func DetectGitLab(getenv func(string) string) (env *GitLabEnv, ok bool) {
	if getenv("GITLAB_CI") != "true" {
		return nil, false
	}
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	first := func(names ...string) string {
		for _, n := range names {
			if v := get(n); v != "" {
				return v
			}
		}
		return ""
	}
	e := &GitLabEnv{
		APIURL:          get("CI_API_V4_URL"),
		ServerURL:       get("CI_SERVER_URL"),
		ProjectID:       first("CI_MERGE_REQUEST_PROJECT_ID", "CI_PROJECT_ID"),
		ProjectPath:     first("CI_MERGE_REQUEST_PROJECT_PATH", "CI_PROJECT_PATH"),
		SourceProjectID: get("CI_MERGE_REQUEST_SOURCE_PROJECT_ID"),
		DiffBaseSHA:     get("CI_MERGE_REQUEST_DIFF_BASE_SHA"),
		TargetBranch:    get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME"),
		TargetBranchSHA: get("CI_MERGE_REQUEST_TARGET_BRANCH_SHA"),
		SourceBranch:    get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"),
		SourceBranchSHA: get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"),
		EventType:       get("CI_MERGE_REQUEST_EVENT_TYPE"),
		CommitSHA:       get("CI_COMMIT_SHA"),
		PipelineSource:  get("CI_PIPELINE_SOURCE"),
		DefaultBranch:   get("CI_DEFAULT_BRANCH"),
		CommitBranch:    get("CI_COMMIT_BRANCH"),
		JobURL:          get("CI_JOB_URL"),
		PipelineID:      get("CI_PIPELINE_ID"),
		PipelineProject: first("CI_PROJECT_PATH", "CI_PROJECT_ID"),
		PipelineURL:     get("CI_PIPELINE_URL"),
		ProjectDir:      get("CI_PROJECT_DIR"),
		Token:           get("GITLAB_TOKEN"),
		JobToken:        get("CI_JOB_TOKEN"),
		rawIID:          get("CI_MERGE_REQUEST_IID"),
	}
	if e.APIURL == "" && e.ServerURL != "" {
		// GitLab sets both; a runner or a job that lost CI_API_V4_URL must still talk to its own instance,
		// never send the token to another (such as a client's gitlab.com default).
		e.APIURL = strings.TrimRight(e.ServerURL, "/") + "/api/v4"
	}
	if n, err := strconv.Atoi(e.rawIID); err == nil && n > 0 {
		e.MergeRequestIID = n
	}
	return e, true
}

// IsMergeRequest reports whether the job runs in a merge request pipeline.
func (e *GitLabEnv) IsMergeRequest() bool {
	return e.PipelineSource == GitLabMergeRequestEvent && e.MergeRequestIID > 0
}

// IsDefaultBranch reports whether the job runs in a branch pipeline of the default branch, where
// deploy runs.
func (e *GitLabEnv) IsDefaultBranch() bool {
	return e.CommitBranch != "" && e.CommitBranch == e.DefaultBranch
}

// IsFork reports whether the merge request comes from another project.
func (e *GitLabEnv) IsFork() bool {
	return e.SourceProjectID != "" && e.ProjectID != "" && e.SourceProjectID != e.ProjectID
}

// GitLab merge request pipeline kinds (CI_MERGE_REQUEST_EVENT_TYPE).
const (
	GitLabDetached     = "detached"
	GitLabMergedResult = "merged_result"
	GitLabMergeTrain   = "merge_train"
)

// IsMergedResult reports whether the job runs on a temporary merge of the source branch into the target
// branch: a merged results or a merge train pipeline.
func (e *GitLabEnv) IsMergedResult() bool {
	return e.EventType == GitLabMergedResult || e.EventType == GitLabMergeTrain
}

// BaseSHA is the commit whose migrations are the merge request's history. A detached pipeline checks
// out the source branch: the merge base, CI_MERGE_REQUEST_DIFF_BASE_SHA. A merged results or merge
// train pipeline checks out the merge into the target branch as it is now: its head,
// CI_MERGE_REQUEST_TARGET_BRANCH_SHA, whose migrations newer than the merge base are the target's, not
// the merge request's.
func (e *GitLabEnv) BaseSHA() string {
	if e.IsMergedResult() && e.TargetBranchSHA != "" {
		return e.TargetBranchSHA
	}
	return e.DiffBaseSHA
}

// HeadSHA is the merge request's head commit: CI_MERGE_REQUEST_SOURCE_BRANCH_SHA in a merged results
// pipeline (where CI_COMMIT_SHA is a temporary merge commit no note or status should point at), else
// CI_COMMIT_SHA.
func (e *GitLabEnv) HeadSHA() string {
	if e.SourceBranchSHA != "" {
		return e.SourceBranchSHA
	}
	return e.CommitSHA
}

// Project is how the API names the project: its path when known (readable in messages), else its ID.
func (e *GitLabEnv) Project() string {
	if e.ProjectPath != "" {
		return e.ProjectPath
	}
	return e.ProjectID
}

// BadIID returns an error naming CI_MERGE_REQUEST_IID when it is set but is no merge request number;
// nil when it is one or is empty.
func (e *GitLabEnv) BadIID() error {
	if e.rawIID != "" && e.MergeRequestIID == 0 {
		return fmt.Errorf("CI_MERGE_REQUEST_IID=%q is not a merge request number", e.rawIID)
	}
	return nil
}

// Validate reports every variable a job needs and lacks, naming each; forMergeRequest asks for the
// merge request variables too, and write for a token that can write notes.
func (e *GitLabEnv) Validate(forMergeRequest, write bool) error {
	var errs []error
	if e.APIURL == "" {
		errs = append(errs, errors.New("CI_API_V4_URL and CI_SERVER_URL are empty (GitLab 11.7 or later sets them); pass --api-url"))
	}
	if e.Project() == "" {
		errs = append(errs, errors.New("CI_PROJECT_ID and CI_PROJECT_PATH are empty"))
	}
	if forMergeRequest {
		if raw := e.rawIID; raw == "" {
			errs = append(errs, fmt.Errorf("CI_MERGE_REQUEST_IID is empty: run the job in a merge request pipeline "+
				"(rules: - if: $CI_PIPELINE_SOURCE == %q), not a branch pipeline", GitLabMergeRequestEvent))
		} else if err := e.BadIID(); err != nil {
			errs = append(errs, err)
		}
		if e.DiffBaseSHA == "" {
			errs = append(errs, errors.New("CI_MERGE_REQUEST_DIFF_BASE_SHA is empty: the rehearsal has no base to replay"))
		}
	}
	if write && e.Token == "" {
		errs = append(errs, errors.New("GITLAB_TOKEN is empty: CI_JOB_TOKEN cannot write notes or commit statuses; "+
			"add a project or group access token with `api` scope as the masked CI/CD variable GITLAB_TOKEN"))
	}
	return errors.Join(errs...)
}
