package github_test

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
)

const repo = "acme/shop"

// TestArtifactPagesAndLimits: the artifact is found by name on any page of the run's artifacts; an
// archive or its files beyond the limit are refused (sizes as read, not as claimed); a run of another
// repository, an unknown run and an unknown name are not found.
func TestArtifactPagesAndLimits(t *testing.T) {
	s := githubtest.New(t)
	s.SetPageSize(1)
	c := newClient(t, s, github.Options{})
	run := s.AddWorkflowRun(repo, githubtest.WorkflowRun{Workflow: "schemagate.yml", Event: "pull_request", HeadSHA: strings.Repeat("a", 40)})
	s.AddArtifact(repo, run, "report", map[string][]byte{"schemagate-report.json": []byte(`{"tool":"schemagate"}`), "notes/x.txt": []byte("x")}, false)
	s.AddArtifact(repo, run, "logs", map[string][]byte{"a.log": []byte("a")}, false)
	s.AddArtifact(repo, run, "big", map[string][]byte{"zeros": bytes.Repeat([]byte{0}, 100_000)}, false)
	files, err := c.Artifact(t.Context(), repo, run, "report", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if string(files["schemagate-report.json"]) != `{"tool":"schemagate"}` || string(files["notes/x.txt"]) != "x" || len(files) != 2 {
		t.Errorf("files = %q", files)
	}
	// 100 kB of zeros zip to a few hundred bytes: the limit holds on what is read.
	if _, err := c.Artifact(t.Context(), repo, run, "big", 10_000); err == nil || !strings.Contains(err.Error(), "hold more than 10000 bytes") {
		t.Errorf("inflated beyond the limit: err = %v", err)
	}
	if _, err := c.Artifact(t.Context(), repo, run, "report", 50); !errors.Is(err, github.ErrBadArtifact) || !strings.Contains(err.Error(), "more than the 50 read") {
		t.Errorf("archive beyond the limit: err = %v", err)
	}
	// The listing's size is the uploader's word: the limit holds on the bytes downloaded too.
	small := s.AddArtifact(repo, run, "small-claim", map[string][]byte{"r.json": noise(4000)}, false)
	s.ClaimArtifactSize(small, 10)
	if _, err := c.Artifact(t.Context(), repo, run, "small-claim", 100); !errors.Is(err, github.ErrBadArtifact) || !strings.Contains(err.Error(), "is more than 100 bytes") {
		t.Errorf("archive beyond the limit, claimed small: err = %v", err)
	}
	if _, err := c.Artifact(t.Context(), repo, run, "nope", 1<<20); !errors.Is(err, forge.ErrNotFound) || !strings.Contains(err.Error(), "(it has: ") {
		t.Errorf("unknown name: err = %v", err)
	}
	if _, err := c.Artifact(t.Context(), repo, run+100, "report", 1<<20); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("unknown run: err = %v", err)
	}
	if _, err := c.Artifact(t.Context(), "acme/other", run, "report", 1<<20); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("another repository's run: err = %v", err)
	}
}

// TestRuns: the runs of the workflow on the commit and event whatever their state, newest first (a run
// going on too), never another commit's or event's; LatestFinished is the newest that ended in success
// or failure, passing over cancelled, skipped, approval-waiting and timed-out ones. A workflow with no
// run lists none, an unknown workflow is ErrNoWorkflow, a token without actions: read forge.ErrForbidden.
func TestRuns(t *testing.T) {
	s := githubtest.New(t)
	c := newClient(t, s, github.Options{})
	sha := strings.Repeat("a", 40)
	runs := func() []github.WorkflowRun {
		t.Helper()
		rs, err := c.Runs(t.Context(), repo, "schemagate.yml", sha, "pull_request")
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	if _, err := c.Runs(t.Context(), repo, "schemagate.yml", sha, "pull_request"); !errors.Is(err, github.ErrNoWorkflow) {
		t.Errorf("no workflow: err = %v", err)
	}
	s.AddWorkflow(repo, "schemagate.yml")
	if rs := runs(); len(rs) != 0 {
		t.Errorf("a workflow with no run lists %+v", rs)
	}
	going := s.AddWorkflowRun(repo, githubtest.WorkflowRun{Workflow: "schemagate.yml", Event: "pull_request", HeadSHA: sha, Status: "in_progress"})
	if rs := runs(); len(rs) != 1 || rs[0].ID != going || github.LatestFinished(rs) != nil {
		t.Errorf("only a run going on: %+v", rs)
	}
	want := s.AddWorkflowRun(repo, githubtest.WorkflowRun{Workflow: "schemagate.yml", Event: "pull_request", HeadSHA: sha, Conclusion: "failure"})
	for _, concl := range []string{"cancelled", "skipped", "action_required", "timed_out"} {
		s.AddWorkflowRun(repo, githubtest.WorkflowRun{Workflow: "schemagate.yml", Event: "pull_request", HeadSHA: sha, Conclusion: concl})
	}
	s.AddWorkflowRun(repo, githubtest.WorkflowRun{Workflow: "schemagate.yml", Event: "push", HeadSHA: sha})
	s.AddWorkflowRun(repo, githubtest.WorkflowRun{Workflow: "schemagate.yml", Event: "pull_request", HeadSHA: strings.Repeat("b", 40)})
	rs := runs()
	if len(rs) != 6 || rs[0].Conclusion != "timed_out" || rs[5].ID != going {
		t.Errorf("runs = %+v, want the 6 of the commit and event, newest first", rs)
	}
	r := github.LatestFinished(rs)
	if r == nil || r.ID != want || r.Conclusion != "failure" || !strings.HasSuffix(r.HTMLURL, "/actions/runs/"+strconv.FormatInt(want, 10)) {
		t.Errorf("LatestFinished = %+v; want run %d", r, want)
	}
	s.SetActionsForbidden(true)
	if _, err := c.Runs(t.Context(), repo, "schemagate.yml", sha, "pull_request"); !errors.Is(err, forge.ErrForbidden) {
		t.Errorf("no actions: read: err = %v", err)
	}
}

// noise is n bytes that do not compress.
func noise(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// TestRenamedFiles: a renamed file of a pull request carries where it was.
func TestRenamedFiles(t *testing.T) {
	s := githubtest.New(t)
	c := newClient(t, s, github.Options{})
	sha := strings.Repeat("a", 40)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, HeadSHA: sha, BaseSHA: strings.Repeat("c", 40), BaseRef: "main"},
		[]string{"old/3_x.txt\x00db/3_x.up.sql", "README.md"})
	files, err := c.Files(t.Context(), ref)
	if err != nil || len(files) != 2 || files[0].Path != "old/3_x.txt" || files[0].Status != "renamed" || files[0].PreviousPath != "db/3_x.up.sql" || files[1].PreviousPath != "" {
		t.Errorf("files = %+v, %v", files, err)
	}
}
