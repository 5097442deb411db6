package githubtest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WorkflowRun is a GitHub Actions workflow run the fake lists.
type WorkflowRun struct {
	// Workflow is the workflow's file name in .github/workflows, e.g. "schemagate.yml".
	Workflow   string
	Event      string // pull_request, pull_request_review, ...
	HeadSHA    string
	Status     string // queued, in_progress, completed (default completed)
	Conclusion string // success, failure, ... (default success once completed)
}

type workflowRun struct {
	WorkflowRun
	repo    string
	id      int64
	created time.Time
}

type artifact struct {
	id        int64
	claimed   int // size_in_bytes when not that of the archive (>0)
	repo      string
	runID     int64
	name      string
	archive   []byte
	expired   bool
	created   time.Time
	downloads int
}

// blobPrefix is where the fake serves artifact archives: GitHub redirects a download to its storage,
// on another host, whose signed URL needs no token.
const blobPrefix = "/blob/artifacts/"

// AddWorkflowRun stores a run of repo's workflow and returns its ID. Runs are listed newest first, the
// last added first.
func (s *Server) AddWorkflowRun(repo string, run WorkflowRun) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if run.Status == "" {
		run.Status = "completed"
	}
	if run.Conclusion == "" && run.Status == "completed" {
		run.Conclusion = "success"
	}
	s.nextID++
	s.runs = append(s.runs, &workflowRun{WorkflowRun: run, repo: repo, id: s.nextID, created: s.tick()})
	s.addWorkflow(repo, run.Workflow)
	return s.nextID
}

// AddWorkflow makes repo have the workflow file (in .github/workflows) with no run yet: its runs are
// listed empty, where a workflow the repository does not have is a 404.
func (s *Server) AddWorkflow(repo, file string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addWorkflow(repo, file)
}

func (s *Server) addWorkflow(repo, file string) {
	if s.workflows == nil {
		s.workflows = map[string]bool{}
	}
	s.workflows[repo+"\x00"+file] = true
}

// ClaimArtifactSize makes the artifact's listing claim n bytes (size_in_bytes), whatever its archive
// holds: the listing is what the run's workflow uploaded, not checked by the reader.
func (s *Server) ClaimArtifactSize(id int64, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.artifacts[id].claimed = n
}

// AddArtifact stores an artifact of run runID holding files (path in the archive → content), zipped as
// actions/upload-artifact zips them, and returns its ID. An expired artifact is listed with
// "expired": true and its download answered 410, as GitHub does once its retention ran out.
func (s *Server) AddArtifact(repo string, runID int64, name string, files map[string][]byte, expired bool) int64 {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err == nil {
			_, err = w.Write(files[n])
		}
		if err != nil {
			s.t.Fatalf("githubtest: zip %s: %v", n, err)
		}
	}
	if err := zw.Close(); err != nil {
		s.t.Fatalf("githubtest: zip: %v", err)
	}
	return s.AddArtifactArchive(repo, runID, name, buf.Bytes(), expired)
}

// AddArtifactArchive is AddArtifact with the archive's bytes as given (a broken or oversized one).
func (s *Server) AddArtifactArchive(repo string, runID int64, name string, archive []byte, expired bool) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	if s.artifacts == nil {
		s.artifacts = map[int64]*artifact{}
	}
	s.artifacts[s.nextID] = &artifact{id: s.nextID, repo: repo, runID: runID, name: name, archive: archive, expired: expired, created: s.tick()}
	return s.nextID
}

// ArtifactDownloads is how many times the artifact's archive was fetched from the storage.
func (s *Server) ArtifactDownloads(id int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.artifacts[id]; a != nil {
		return a.downloads
	}
	return 0
}

// SetActionsForbidden makes the Actions API refuse the token, as GitHub refuses a GITHUB_TOKEN whose
// workflow's permissions leave out actions: read.
func (s *Server) SetActionsForbidden(forbidden bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actionsForbidden = forbidden
}

func (s *Server) actionsRefused(w http.ResponseWriter) bool {
	s.mu.Lock()
	forbidden := s.actionsForbidden
	s.mu.Unlock()
	if forbidden {
		writeError(w, http.StatusForbidden, "Resource not accessible by integration", docsBase+"/actions/workflow-runs")
	}
	return forbidden
}

func (s *Server) runJSON(r *workflowRun) map[string]any {
	api := s.srv.URL + Prefix + "/repos/" + r.repo
	out := map[string]any{
		"id": r.id, "name": strings.TrimSuffix(strings.TrimSuffix(r.Workflow, ".yml"), ".yaml"), "node_id": fmt.Sprintf("WFR_%d", r.id),
		"head_branch": "feature", "head_sha": r.HeadSHA, "path": ".github/workflows/" + r.Workflow,
		"display_title": "schemagate", "run_number": r.id % 1000, "event": r.Event, "status": r.Status,
		"workflow_id": 161335, "check_suite_id": r.id * 3, "url": api + "/actions/runs/" + strconv.FormatInt(r.id, 10),
		"html_url":      "https://github.com/" + r.repo + "/actions/runs/" + strconv.FormatInt(r.id, 10),
		"pull_requests": []any{}, "created_at": r.created.Format(time.RFC3339), "updated_at": r.created.Add(time.Minute).Format(time.RFC3339),
		"run_attempt": 1, "run_started_at": r.created.Format(time.RFC3339),
		"artifacts_url": api + "/actions/runs/" + strconv.FormatInt(r.id, 10) + "/artifacts",
		"conclusion":    nil,
	}
	if r.Conclusion != "" {
		out["conclusion"] = r.Conclusion
	}
	return out
}

// listWorkflowRuns answers GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs with the
// head_sha, event and status filters (status takes a conclusion too), newest first; 404 for a workflow
// the repository does not have.
func (s *Server) listWorkflowRuns(w http.ResponseWriter, r *http.Request) {
	if s.actionsRefused(w) {
		return
	}
	repo, wf := repoOf(r), r.PathValue("workflow")
	q := r.URL.Query()
	s.mu.Lock()
	known := s.workflows[repo+"\x00"+wf]
	var runs []*workflowRun
	for i := len(s.runs) - 1; i >= 0; i-- {
		run := s.runs[i]
		if run.repo != repo || run.Workflow != wf {
			continue
		}
		if v := q.Get("head_sha"); v != "" && v != run.HeadSHA {
			continue
		}
		if v := q.Get("event"); v != "" && v != run.Event {
			continue
		}
		if v := q.Get("status"); v != "" && v != run.Status && v != run.Conclusion {
			continue
		}
		runs = append(runs, run)
	}
	s.mu.Unlock()
	if !known {
		writeError(w, http.StatusNotFound, "Not Found", docsBase+"/actions/workflow-runs#list-workflow-runs-for-a-workflow")
		return
	}
	total := len(runs)
	runs = page(s, w, r, runs)
	out := []any{}
	s.mu.Lock()
	for _, run := range runs {
		out = append(out, s.runJSON(run))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"total_count": total, "workflow_runs": out})
}

func (s *Server) artifactJSON(a *artifact, headSHA string) map[string]any {
	api := s.srv.URL + Prefix + "/repos/" + a.repo + "/actions/artifacts/" + strconv.FormatInt(a.id, 10)
	size := len(a.archive)
	if a.claimed > 0 {
		size = a.claimed
	}
	return map[string]any{
		"id": a.id, "node_id": fmt.Sprintf("MDg6QXJ0aWZhY3Q%d", a.id), "name": a.name, "size_in_bytes": size,
		"url": api, "archive_download_url": api + "/zip", "expired": a.expired,
		"created_at": a.created.Format(time.RFC3339), "updated_at": a.created.Format(time.RFC3339),
		"expires_at":   a.created.Add(5 * 24 * time.Hour).Format(time.RFC3339),
		"workflow_run": map[string]any{"id": a.runID, "repository_id": 1296269, "head_repository_id": 1296269, "head_branch": "feature", "head_sha": headSHA},
	}
}

// listRunArtifacts answers GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts (name filters).
func (s *Server) listRunArtifacts(w http.ResponseWriter, r *http.Request) {
	if s.actionsRefused(w) {
		return
	}
	repo := repoOf(r)
	id, _ := strconv.ParseInt(r.PathValue("run"), 10, 64)
	s.mu.Lock()
	var run *workflowRun
	for _, x := range s.runs {
		if x.repo == repo && x.id == id {
			run = x
		}
	}
	var arts []*artifact
	for _, a := range s.artifacts {
		if a.repo == repo && a.runID == id && (r.URL.Query().Get("name") == "" || r.URL.Query().Get("name") == a.name) {
			arts = append(arts, a)
		}
	}
	s.mu.Unlock()
	if run == nil {
		writeError(w, http.StatusNotFound, "Not Found", docsBase+"/actions/artifacts#list-workflow-run-artifacts")
		return
	}
	slices.SortFunc(arts, func(a, b *artifact) int { return int(b.id - a.id) }) // newest first
	total := len(arts)
	arts = page(s, w, r, arts)
	out := []any{}
	s.mu.Lock()
	for _, a := range arts {
		out = append(out, s.artifactJSON(a, run.HeadSHA))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"total_count": total, "artifacts": out})
}

// downloadArtifact answers GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}
// with GitHub's 302 to the storage's signed URL, or 410 for an expired artifact.
func (s *Server) downloadArtifact(w http.ResponseWriter, r *http.Request) {
	if s.actionsRefused(w) {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("artifact"), 10, 64)
	s.mu.Lock()
	a := s.artifacts[id]
	s.mu.Unlock()
	switch {
	case a == nil || a.repo != repoOf(r) || r.PathValue("format") != "zip":
		writeError(w, http.StatusNotFound, "Not Found", docsBase+"/actions/artifacts#download-an-artifact")
	case a.expired:
		writeError(w, http.StatusGone, "Artifact has expired", docsBase+"/actions/artifacts#download-an-artifact")
	default:
		w.Header().Set("Location", s.srv.URL+blobPrefix+strconv.FormatInt(id, 10)+"?sig=fake&se="+strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10))
		w.WriteHeader(http.StatusFound)
	}
}

// serveBlob is the storage's side of a download: the archive, to a request that carries no token
// (sending GitHub's token to another host fails the test).
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		s.t.Errorf("githubtest: the artifact storage got an Authorization header: GitHub's token left GitHub")
	}
	id, _ := strconv.ParseInt(path.Base(r.URL.Path), 10, 64)
	s.mu.Lock()
	a := s.artifacts[id]
	if a != nil {
		a.downloads++
	}
	s.mu.Unlock()
	if a == nil || r.Method != http.MethodGet || r.URL.Query().Get("sig") == "" {
		http.Error(w, "<Error><Code>AuthenticationFailed</Code></Error>", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Write(a.archive)
}
