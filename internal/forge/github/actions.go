package github

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/schemagate/schemagate/internal/forge"
)

// WorkflowRun is a GitHub Actions workflow run.
type WorkflowRun struct {
	ID         int64
	HeadSHA    string
	Event      string
	Status     string // queued, in_progress, completed, ...
	Conclusion string
	HTMLURL    string
}

// ErrNoWorkflow is returned (wrapped) when the repository has no workflow file of the name asked for.
var ErrNoWorkflow = errors.New("no such workflow")

// ErrBadArtifact is returned (wrapped) for an artifact whose archive does not read or is too large:
// what the run's workflow uploaded, the pull request's own code on a fork.
var ErrBadArtifact = errors.New("unreadable artifact")

// ErrArtifactExpired is returned (wrapped) for an artifact GitHub no longer keeps (its retention ran out).
var ErrArtifactExpired = errors.New("artifact expired")

// Runs lists the runs of workflow (its file name in .github/workflows, e.g. schemagate.yml) that event
// triggered on commit sha, whatever their state, newest first: GET .../actions/workflows/{workflow}/runs
// with head_sha and event (at most 500). None means the workflow never ran there (a paths filter left
// the change out). It is a wrapped ErrNoWorkflow when GitHub answers 404 for the workflow.
func (c *Client) Runs(ctx context.Context, repo, workflow, sha, event string) ([]WorkflowRun, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return nil, err
	}
	var out []WorkflowRun
	opts := &gh.ListWorkflowRunsOptions{HeadSHA: sha, Event: event, ListOptions: gh.ListOptions{PerPage: 100}}
	for range 5 { // the runs of one commit: a few, unless re-run hundreds of times
		runs, resp, err := c.gh.Actions.ListWorkflowRunsByFileName(ctx, owner, name, workflow, opts)
		if err != nil {
			if statusOf(err) == http.StatusNotFound {
				return nil, fmt.Errorf("%w: GitHub answers 404 for the workflow .github/workflows/%s of %s (no such file on the default branch, or a token that cannot see the repository)", ErrNoWorkflow, workflow, repo)
			}
			return nil, fmt.Errorf("list the runs of %s: %w", workflow, mapErr(err, false))
		}
		for _, r := range runs.WorkflowRuns {
			// GitHub filters by the query; a run of another commit or event must never stand in for it.
			if strings.EqualFold(r.GetHeadSHA(), sha) && (event == "" || r.GetEvent() == event) {
				out = append(out, WorkflowRun{ID: r.GetID(), HeadSHA: r.GetHeadSHA(), Event: r.GetEvent(), Status: r.GetStatus(),
					Conclusion: r.GetConclusion(), HTMLURL: r.GetHTMLURL()})
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// LatestFinished is the first run of runs (newest first, as Runs lists them) that ran to its end,
// nil when none did: a cancelled, skipped, timed-out or approval-waiting (action_required) run may
// never have written its artifacts.
func LatestFinished(runs []WorkflowRun) *WorkflowRun {
	for i := range runs {
		if runs[i].Status == "completed" && Finished(runs[i].Conclusion) {
			return &runs[i]
		}
	}
	return nil
}

// Finished reports whether a run with this conclusion ran to its end, its artifacts uploaded: success,
// or failure (a step failed; steps with if: always() still ran).
func Finished(conclusion string) bool { return conclusion == "success" || conclusion == "failure" }

// Artifact downloads the artifact called name of workflow run runID and returns its files by their
// path in the archive. GitHub answers the download with a redirect to a signed URL of its storage,
// which is fetched without the token. maxBytes bounds the archive and the files it holds together:
// an artifact is what the run's workflow wrote, a fork's pull request's own code. It is a wrapped
// forge.ErrNotFound when the run has no such artifact and ErrArtifactExpired when GitHub no longer
// keeps it.
func (c *Client) Artifact(ctx context.Context, repo string, runID int64, name string, maxBytes int64) (map[string][]byte, error) {
	owner, repoName, err := splitRepo(repo)
	if err != nil {
		return nil, err
	}
	var found *gh.Artifact
	var names []string
	opts := &gh.ListOptions{PerPage: 100}
	for {
		list, resp, err := c.gh.Actions.ListWorkflowRunArtifacts(ctx, owner, repoName, runID, opts)
		if err != nil {
			return nil, fmt.Errorf("list the artifacts of run %d: %w", runID, mapErr(err, false))
		}
		for _, a := range list.Artifacts {
			names = append(names, a.GetName())
			// Several of one name (upload-artifact before v4 appended): the newest, the last listed.
			if a.GetName() == name && (found == nil || a.GetCreatedAt().After(found.GetCreatedAt().Time)) {
				found = a
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if found == nil {
		have := "none"
		if len(names) > 0 {
			have = strings.Join(names, ", ")
		}
		return nil, fmt.Errorf("%w: run %d has no artifact %q (it has: %s)", forge.ErrNotFound, runID, name, have)
	}
	if found.GetExpired() {
		return nil, fmt.Errorf("%w: the artifact %q of run %d expired on %s", ErrArtifactExpired, name, runID, found.GetExpiresAt().Format(time.DateOnly))
	}
	if found.GetSizeInBytes() > maxBytes {
		return nil, fmt.Errorf("%w: the artifact %q of run %d is %d bytes, more than the %d read", ErrBadArtifact, name, runID, found.GetSizeInBytes(), maxBytes)
	}
	u, resp, err := c.gh.Actions.DownloadArtifact(ctx, owner, repoName, found.GetID(), 1)
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		switch code {
		case http.StatusGone:
			return nil, fmt.Errorf("%w: GitHub answered 410 for the artifact %q of run %d", ErrArtifactExpired, name, runID)
		case http.StatusNotFound:
			return nil, fmt.Errorf("%w: download the artifact %q of run %d: GitHub answered 404", forge.ErrNotFound, name, runID)
		case http.StatusForbidden, http.StatusUnauthorized:
			return nil, fmt.Errorf("%w: download the artifact %q of run %d: GitHub answered %d", forge.ErrForbidden, name, runID, code)
		}
		return nil, fmt.Errorf("download the artifact %q of run %d: %w", name, runID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("download the artifact %q of run %d: %w", name, runID, err)
	}
	// The storage's own client: the signed URL needs no token, and GitHub's must not leave GitHub.
	res, err := c.blob.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download the artifact %q of run %d from %s: %w", name, runID, u.Host, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download the artifact %q of run %d from %s: %s", name, runID, u.Host, res.Status)
	}
	archive, err := io.ReadAll(io.LimitReader(res.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("download the artifact %q of run %d: %w", name, runID, err)
	}
	if int64(len(archive)) > maxBytes {
		return nil, fmt.Errorf("%w: the artifact %q of run %d is more than %d bytes", ErrBadArtifact, name, runID, maxBytes)
	}
	files, err := unzip(archive, maxBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: the artifact %q of run %d: %v", ErrBadArtifact, name, runID, err)
	}
	return files, nil
}

// unzip returns the regular files of a zip archive, their sizes together at most maxBytes (as read,
// not as the archive claims them).
func unzip(archive []byte, maxBytes int64) (map[string][]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		return nil, fmt.Errorf("not a zip archive: %w", err)
	}
	files := map[string][]byte{}
	left := maxBytes
	for _, f := range zr.File {
		if !f.Mode().IsRegular() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, left+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		if int64(len(data)) > left {
			return nil, fmt.Errorf("its files hold more than %d bytes", maxBytes)
		}
		left -= int64(len(data))
		files[f.Name] = data
	}
	return files, nil
}
