package ci

import (
	"strings"
	"testing"
)

// mrPipeline is the environment of a detached merge request pipeline on gitlab.com, as GitLab sets it.
func mrPipeline() map[string]string {
	return map[string]string{
		"CI":                                  "true",
		"GITLAB_CI":                           "true",
		"CI_API_V4_URL":                       "https://gitlab.com/api/v4",
		"CI_SERVER_URL":                       "https://gitlab.com",
		"CI_PROJECT_ID":                       "278964",
		"CI_PROJECT_PATH":                     "acme/shop",
		"CI_PROJECT_DIR":                      "/builds/acme/shop",
		"CI_MERGE_REQUEST_IID":                "14656",
		"CI_MERGE_REQUEST_PROJECT_ID":         "278964",
		"CI_MERGE_REQUEST_PROJECT_PATH":       "acme/shop",
		"CI_MERGE_REQUEST_SOURCE_PROJECT_ID":  "278964",
		"CI_MERGE_REQUEST_DIFF_BASE_SHA":      "dd692733bb84bc3e9e862e66c099daec2fa00c83",
		"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
		"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "add-orders-status",
		"CI_MERGE_REQUEST_EVENT_TYPE":         "detached",
		"CI_COMMIT_SHA":                       "8e0b45049b6253b8984cde9241830d2851168142",
		"CI_PIPELINE_SOURCE":                  "merge_request_event",
		"CI_DEFAULT_BRANCH":                   "main",
		"CI_JOB_URL":                          "https://gitlab.com/acme/shop/-/jobs/42",
		"CI_PIPELINE_ID":                      "1000",
		"CI_PIPELINE_URL":                     "https://gitlab.com/acme/shop/-/pipelines/1000",
		"CI_JOB_TOKEN":                        "glcbt-x",
		"GITLAB_TOKEN":                        "glpat-x",
	}
}

func envMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDetectGitLab(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		edit   func(map[string]string)
		check  func(t *testing.T, e *GitLabEnv)
		detect bool
	}{
		{
			name:   "merge request pipeline",
			edit:   func(map[string]string) {},
			detect: true,
			check: func(t *testing.T, e *GitLabEnv) {
				if !e.IsMergeRequest() || e.IsDefaultBranch() || e.IsFork() {
					t.Errorf("mr=%v default=%v fork=%v, want a same-project merge request", e.IsMergeRequest(), e.IsDefaultBranch(), e.IsFork())
				}
				if e.MergeRequestIID != 14656 || e.ProjectID != "278964" || e.Project() != "acme/shop" {
					t.Errorf("MR %d of %s (%s)", e.MergeRequestIID, e.ProjectID, e.Project())
				}
				if e.DiffBaseSHA != "dd692733bb84bc3e9e862e66c099daec2fa00c83" || e.HeadSHA() != "8e0b45049b6253b8984cde9241830d2851168142" {
					t.Errorf("base %s head %s", e.DiffBaseSHA, e.HeadSHA())
				}
				if e.APIURL != "https://gitlab.com/api/v4" || e.JobURL == "" || e.Token != "glpat-x" || e.JobToken != "glcbt-x" {
					t.Errorf("env = %+v", e)
				}
				if err := e.Validate(true, true); err != nil {
					t.Errorf("Validate: %v", err)
				}
			},
		},
		{
			name: "merged results pipeline points at the source head",
			edit: func(m map[string]string) {
				m["CI_MERGE_REQUEST_EVENT_TYPE"] = "merged_result"
				m["CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"] = "aaaa"
				m["CI_COMMIT_SHA"] = "bbbb"
			},
			detect: true,
			check: func(t *testing.T, e *GitLabEnv) {
				if e.HeadSHA() != "aaaa" || e.CommitSHA != "bbbb" {
					t.Errorf("HeadSHA = %s (commit %s), want the source branch SHA", e.HeadSHA(), e.CommitSHA)
				}
			},
		},
		{
			// The checkout merges the source into the target's head: the target's migrations newer than
			// the merge base are history, not the merge request's.
			name: "merged results and merge train pipelines replay the target branch's head",
			edit: func(m map[string]string) {
				m["CI_MERGE_REQUEST_EVENT_TYPE"] = "merge_train"
				m["CI_MERGE_REQUEST_TARGET_BRANCH_SHA"] = "cccc"
			},
			detect: true,
			check: func(t *testing.T, e *GitLabEnv) {
				if !e.IsMergedResult() || e.BaseSHA() != "cccc" {
					t.Errorf("merge train: BaseSHA = %s, want the target branch SHA cccc", e.BaseSHA())
				}
				e.EventType = GitLabMergedResult
				if e.BaseSHA() != "cccc" {
					t.Errorf("merged result: BaseSHA = %s, want the target branch SHA cccc", e.BaseSHA())
				}
				e.EventType = GitLabDetached
				if e.BaseSHA() != e.DiffBaseSHA {
					t.Errorf("detached: BaseSHA = %s, want the diff base %s", e.BaseSHA(), e.DiffBaseSHA)
				}
			},
		},
		{
			name: "fork merge request targets the parent project",
			edit: func(m map[string]string) {
				m["CI_PROJECT_ID"] = "999"
				m["CI_PROJECT_PATH"] = "dev/shop"
				m["CI_MERGE_REQUEST_SOURCE_PROJECT_ID"] = "999"
			},
			detect: true,
			check: func(t *testing.T, e *GitLabEnv) {
				if !e.IsFork() || e.ProjectID != "278964" {
					t.Errorf("fork=%v project=%s, want a fork targeting 278964", e.IsFork(), e.ProjectID)
				}
				// The pipeline runs in the fork: its ID names no pipeline of the target project.
				if e.Project() != "acme/shop" || e.PipelineProject != "dev/shop" || e.PipelineID != "1000" {
					t.Errorf("project %s, pipeline %s of %s; want acme/shop, pipeline 1000 of dev/shop", e.Project(), e.PipelineID, e.PipelineProject)
				}
			},
		},
		{
			name: "default branch pipeline",
			edit: func(m map[string]string) {
				for k := range m {
					if strings.HasPrefix(k, "CI_MERGE_REQUEST_") {
						delete(m, k)
					}
				}
				m["CI_PIPELINE_SOURCE"] = "push"
				m["CI_COMMIT_BRANCH"] = "main"
			},
			detect: true,
			check: func(t *testing.T, e *GitLabEnv) {
				if e.IsMergeRequest() || !e.IsDefaultBranch() || e.ProjectID != "278964" || e.Project() != "acme/shop" {
					t.Errorf("mr=%v default=%v project=%s", e.IsMergeRequest(), e.IsDefaultBranch(), e.ProjectID)
				}
				err := e.Validate(true, false)
				if err == nil || !strings.Contains(err.Error(), "CI_MERGE_REQUEST_IID is empty") || !strings.Contains(err.Error(), "CI_MERGE_REQUEST_DIFF_BASE_SHA") {
					t.Errorf("Validate for a merge request outside one: %v", err)
				}
				if err := e.Validate(false, true); err != nil {
					t.Errorf("Validate for deploy: %v", err)
				}
			},
		},
		{
			name:   "job token only",
			edit:   func(m map[string]string) { delete(m, "GITLAB_TOKEN") },
			detect: true,
			check: func(t *testing.T, e *GitLabEnv) {
				err := e.Validate(true, true)
				if err == nil || !strings.Contains(err.Error(), "GITLAB_TOKEN") || !strings.Contains(err.Error(), "`api` scope") {
					t.Errorf("Validate without GITLAB_TOKEN: %v", err)
				}
				if err := e.Validate(true, false); err != nil {
					t.Errorf("Validate for a read-only job: %v", err)
				}
			},
		},
		{
			name:   "bad merge request number",
			edit:   func(m map[string]string) { m["CI_MERGE_REQUEST_IID"] = "12x" },
			detect: true,
			check: func(t *testing.T, e *GitLabEnv) {
				err := e.Validate(true, false)
				if e.MergeRequestIID != 0 || err == nil || !strings.Contains(err.Error(), `CI_MERGE_REQUEST_IID="12x"`) {
					t.Errorf("IID %d, Validate: %v", e.MergeRequestIID, err)
				}
			},
		},
		{
			name: "missing API URL and project",
			edit: func(m map[string]string) {
				for _, k := range []string{"CI_API_V4_URL", "CI_SERVER_URL", "CI_PROJECT_ID", "CI_PROJECT_PATH", "CI_MERGE_REQUEST_PROJECT_ID", "CI_MERGE_REQUEST_PROJECT_PATH"} {
					delete(m, k)
				}
			},
			detect: true,
			check: func(t *testing.T, e *GitLabEnv) {
				err := e.Validate(false, false)
				if err == nil || !strings.Contains(err.Error(), "CI_API_V4_URL") || !strings.Contains(err.Error(), "CI_PROJECT_ID") {
					t.Errorf("Validate: %v, want both problems", err)
				}
			},
		},
		{
			// A self-managed instance whose job lacks CI_API_V4_URL: its own API, never gitlab.com's.
			name: "API URL from the server URL",
			edit: func(m map[string]string) {
				delete(m, "CI_API_V4_URL")
				m["CI_SERVER_URL"] = "https://gitlab.example.com/"
			},
			detect: true,
			check: func(t *testing.T, e *GitLabEnv) {
				if e.APIURL != "https://gitlab.example.com/api/v4" {
					t.Errorf("APIURL = %q, want https://gitlab.example.com/api/v4", e.APIURL)
				}
				if err := e.Validate(true, true); err != nil {
					t.Errorf("Validate: %v", err)
				}
			},
		},
		{name: "not GitLab", edit: func(m map[string]string) { delete(m, "GITLAB_CI") }},
		{name: "GitHub Actions", edit: func(m map[string]string) { clear(m); m["GITHUB_ACTIONS"] = "true"; m["CI"] = "true" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := mrPipeline()
			tt.edit(m)
			e, ok := DetectGitLab(envMap(m))
			if ok != tt.detect || (ok && e == nil) {
				t.Fatalf("DetectGitLab ok = %v, want %v", ok, tt.detect)
			}
			if ok {
				tt.check(t, e)
			}
		})
	}
}
