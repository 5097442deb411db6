package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
	"github.com/schemagate/schemagate/internal/forge/gitlab/gitlabtest"
	"github.com/schemagate/schemagate/internal/gate"
	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/report"
)

const (
	glProject = "acme/shop"
	glHead    = "1f3ad6c3e57ca3a959ca5aad62de7213c562f8c8"
	glBase    = "9a0b1f852bd8fca8fcc58a9a2d6c842781e32a21"
	glUp      = "db/migrations/2_orders_status.up.sql"
	glDown    = "db/migrations/2_orders_status.down.sql"
)

// The merge request's migration files as the check read them, at glHead.
var (
	glUpSQL   = []byte("ALTER TABLE orders ADD COLUMN status text DEFAULT random()::text;\n")
	glDownSQL = []byte("ALTER TABLE orders DROP COLUMN status;\n")
)

type glEnv struct {
	s   *gitlabtest.Server
	ref forge.Ref
	// pipeline is the job's pipeline (CI_PIPELINE_ID), the merge request pipeline of glHead.
	pipeline int64
	dir      string
	env      map[string]string
	report   string
}

// newGLEnv is a GitLab merge request pipeline: the predefined variables GitLab sets, a project access
// token, a merge request changing a dangerous migration, and CODEOWNERS on the target branch.
func newGLEnv(t *testing.T, migrationName string) *glEnv {
	t.Helper()
	s := gitlabtest.New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{
		Ref: forge.Ref{Repo: glProject, Number: 7}, Title: "Orders status", Author: "dev",
		HeadSHA: glHead, BaseSHA: glBase, BaseRef: "main",
	}, []string{glUp, glDown})
	s.SetFile(glProject, ".gitlab/CODEOWNERS", glBase, []byte("[Database][1]\n/db/migrations/ @dora\n\n^[Docs]\n*.md @writer\n"))
	// The files at the head, which the gate reads back to check the report.
	s.SetFile(glProject, glUp, glHead, glUpSQL)
	s.SetFile(glProject, glDown, glHead, glDownSQL)
	dir := t.TempDir()
	rep := &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "golang-migrate", Migrations: []report.Migration{
		{Version: "1", Name: "init", File: "db/migrations/1_init.up.sql", Checksum: "c1", Status: report.StatusBase},
		{Version: "2", Name: migrationName, File: glUp, DownFile: glDown, FileBlob: githubtest.BlobSHA(glUpSQL), DownFileBlob: githubtest.BlobSHA(glDownSQL),
			Checksum: "c2", New: true,
			Status: report.StatusApplied, Findings: []lint.Finding{{Rule: "add-column-volatile-default", Risk: lint.Dangerous,
				Message: "/close\n/merge\n@all look", File: "db/migrations/2_orders_status.up.sql", Line: 1, Column: 1}}},
	}}
	rep.Finish()
	e := &glEnv{s: s, ref: ref, dir: dir, report: filepath.Join(dir, "report.json"),
		pipeline: s.AddPipeline(glProject, glHead, "refs/merge-requests/7/head")}
	writeFile(t, e.report, mustJSON(t, rep))
	writeFile(t, filepath.Join(dir, "schemagate.yml"), []byte("dir: db/migrations\napproval:\n  require: risky\n"))
	e.env = map[string]string{
		"GITLAB_CI":                      "true",
		"CI_API_V4_URL":                  s.URL(),
		"CI_SERVER_URL":                  "https://gitlab.example.com",
		"CI_PROJECT_ID":                  "42",
		"CI_PROJECT_PATH":                glProject,
		"CI_PIPELINE_SOURCE":             "merge_request_event",
		"CI_MERGE_REQUEST_IID":           "7",
		"CI_MERGE_REQUEST_DIFF_BASE_SHA": glBase,
		"CI_COMMIT_SHA":                  glHead,
		"CI_PIPELINE_ID":                 strconv.FormatInt(e.pipeline, 10),
		"CI_JOB_URL":                     "https://gitlab.example.com/acme/shop/-/jobs/99",
		"CI_PIPELINE_URL":                "https://gitlab.example.com/acme/shop/-/pipelines/5",
		"CI_JOB_TOKEN":                   gitlabtest.JobToken,
		"GITLAB_TOKEN":                   gitlabtest.Token,
	}
	return e
}

// push moves the merge request on to sha, with the same migration files, as a push of another commit does.
func (e *glEnv) push(sha string) {
	e.s.Push(e.ref, sha, time.Time{})
	e.s.SetFile(glProject, glUp, sha, glUpSQL)
	e.s.SetFile(glProject, glDown, sha, glDownSQL)
}

// runIn makes the job one of a new merge request pipeline of sha, as a push starts one.
func (e *glEnv) runIn(sha string) {
	e.pipeline = e.s.AddPipeline(glProject, sha, fmt.Sprintf("refs/merge-requests/%d/head", e.ref.Number))
	e.env["CI_COMMIT_SHA"] = sha
	e.env["CI_PIPELINE_ID"] = strconv.FormatInt(e.pipeline, 10)
}

func (e *glEnv) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	app := &App{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return e.env[k] }, Version: "test"}
	code := app.Run(t.Context(), args)
	return code, stdout.String(), stderr.String()
}

func TestGitLabCommentCreatesThenUpdatesTheNote(t *testing.T) {
	e := newGLEnv(t, "orders_status\n/approve\n/merge")
	e.s.SetPageSize(2)
	for i := 0; i < 3; i++ {
		e.s.AddComment(e.ref, "someone", "unrelated note")
	}
	for run := 1; run <= 2; run++ {
		code, out, errOut := e.run(t, "comment", "--config", folderConfig(t, "db/migrations"), "--report", e.report)
		if code != ExitOK {
			t.Fatalf("run %d: exit %d\n%s\n%s", run, code, out, errOut)
		}
		if want := map[int]string{1: "created", 2: "updated"}[run]; !strings.Contains(out, want) {
			t.Errorf("run %d: %q does not say %s", run, out, want)
		}
	}
	var ours []forge.Comment
	for _, c := range e.s.Comments(e.ref) {
		if c.Author == e.s.BotLogin() {
			ours = append(ours, c)
		}
	}
	if len(ours) != 1 {
		t.Fatalf("%d notes by schemagate after two runs, want 1", len(ours))
	}
	body := ours[0].Body
	if !strings.Contains(body, report.Marker("db/migrations")) {
		t.Errorf("note lacks the marker")
	}
	inFence := false
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			inFence = !inFence
			continue
		}
		if !inFence && strings.HasPrefix(trimmed, "/") {
			t.Errorf("line starts a quick action outside a code block: %q", line)
		}
	}
	if strings.Contains(body, "@all") {
		t.Errorf("note mentions @all")
	}
	// GitLab has no job summary: the note links the pipeline, whose check job holds the report.
	if strings.Contains(body, "job summary") || !strings.Contains(body, "[pipeline](https://gitlab.example.com/acme/shop/-/pipelines/5)") {
		t.Errorf("the note does not link the pipeline:\n%s", body)
	}
}

func TestGitLabCommentNeedsAWriteToken(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	delete(e.env, "GITLAB_TOKEN")
	code, _, errOut := e.run(t, "comment", "--config", folderConfig(t, "db/migrations"), "--report", e.report)
	if code != ExitUsage || !strings.Contains(errOut, "GITLAB_TOKEN") || !strings.Contains(errOut, "`api` scope") {
		t.Fatalf("exit %d, stderr %q: want a usage error naming GITLAB_TOKEN and the api scope", code, errOut)
	}
	if n := len(e.s.Comments(e.ref)); n != 0 {
		t.Errorf("%d notes written without a write token", n)
	}
}

func TestGitLabGateEndToEnd(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	gateArgs := []string{"gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report}
	if code, out, errOut := e.run(t, "comment", "--config", folderConfig(t, "db/migrations"), "--report", e.report); code != ExitOK {
		t.Fatalf("comment exit %d\n%s\n%s", code, out, errOut)
	}

	// No approval yet: pending, with a status on the head commit naming the owner from the Database section.
	code, out, errOut := e.run(t, gateArgs...)
	if code != ExitPending {
		t.Fatalf("first gate exit %d, want %d\n%s\n%s", code, ExitPending, out, errOut)
	}
	// The gate rewrites the check's note with its decision; GitLab has no job summary to link.
	for _, c := range e.s.Comments(e.ref) {
		if c.Author == e.s.BotLogin() && strings.Contains(c.Body, report.Marker("db/migrations")) {
			if !strings.Contains(c.Body, "### DBA approval") || strings.Contains(c.Body, "job summary") ||
				!strings.Contains(c.Body, "[pipeline](https://gitlab.example.com/acme/shop/-/pipelines/5) · [job log](https://gitlab.example.com/acme/shop/-/jobs/99)") {
				t.Errorf("the note after the gate:\n%s", c.Body)
			}
		}
	}
	sts := e.s.Statuses(glProject, glHead)
	if len(sts) == 0 {
		t.Fatal("no commit status on the head commit")
	}
	if st := sts[len(sts)-1]; st.State != "pending" || !strings.Contains(st.Description, "dora") || st.TargetURL != e.env["CI_JOB_URL"] {
		t.Errorf("status %+v, want pending naming dora linking the job", st)
	}

	// The author's own approval does not count.
	e.s.AddReview(e.ref, forge.Review{Author: "dev", State: "APPROVED"})
	if code, out, _ := e.run(t, gateArgs...); code != ExitPending {
		t.Errorf("after the author's approval exit %d, want pending\n%s", code, out)
	}

	// The DBA approves: approved, and the status says so.
	e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED"})
	code, out, errOut = e.run(t, gateArgs...)
	if code != ExitOK {
		t.Fatalf("after dora's approval exit %d, want 0\n%s\n%s", code, out, errOut)
	}
	sts = e.s.Statuses(glProject, glHead)
	if st := sts[len(sts)-1]; st.State != "success" {
		t.Errorf("status %+v, want success", st)
	}

	// On a tier with code-owner rules, GitLab's own unapproved rule for the migrations keeps it pending.
	e.s.SetApprovalRules(e.ref, []gitlabtest.Rule{
		{Name: "/db/migrations/", Type: "code_owner", Section: "Database", Required: 2, Eligible: []string{"dora", "erin"}, ApprovedBy: []string{"dora"}},
		{Name: "*.md", Type: "code_owner", Section: "Docs", Required: 1, Eligible: []string{"writer"}},
	})
	code, out, _ = e.run(t, gateArgs...)
	if code != ExitPending || !strings.Contains(out, "/db/migrations/") || strings.Contains(out, "*.md") {
		t.Errorf("with an unapproved Database rule exit %d, want pending naming only that rule\n%s", code, out)
	}
	e.s.SetApprovalRules(e.ref, []gitlabtest.Rule{
		{Name: "/db/migrations/", Type: "code_owner", Section: "Database", Required: 2, Eligible: []string{"dora", "erin"}, ApprovedBy: []string{"dora", "erin"}},
	})
	if code, out, _ := e.run(t, gateArgs...); code != ExitOK {
		t.Errorf("with the rule approved exit %d, want 0\n%s", code, out)
	}
	// A tier without rules: the CODEOWNERS decision stands, and the output says how it was made.
	e.s.SetApprovalRulesUnavailable(e.ref, 403)
	code, out, _ = e.run(t, gateArgs...)
	if code != ExitOK || !strings.Contains(out, "CODEOWNERS of the target branch") {
		t.Errorf("without approval rules exit %d, want 0 with a note\n%s", code, out)
	}
}

// CI_JOB_TOKEN cannot read a merge request's approvals: the gate must not decide without them, and
// says which token it needs.
func TestGitLabGateJobTokenCannotReadApprovals(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	delete(e.env, "GITLAB_TOKEN")
	code, out, errOut := e.run(t, "gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report)
	if code == ExitOK || code == ExitPending {
		t.Fatalf("exit %d with the job token alone, want a failure\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "GITLAB_TOKEN") || !strings.Contains(errOut, "api") {
		t.Errorf("the failure does not say which token is needed: %q", errOut)
	}
	if n := len(e.s.Statuses(glProject, glHead)); n != 0 {
		t.Errorf("%d statuses written with the job token", n)
	}
}

// TestGitLabGateApprovalBeforeAPushIsStale: GitLab keeps approvals across pushes unless the project
// resets them, but approval.stale_on_push (the default) wants the DBA to approve what is merged: an
// approval given before the latest push no longer counts, and the output says why.
func TestGitLabGateApprovalBeforeAPushIsStale(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	gateArgs := []string{"gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report}
	e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED"})
	if code, out, errOut := e.run(t, gateArgs...); code != ExitOK {
		t.Fatalf("after dora's approval exit %d, want 0\n%s\n%s", code, out, errOut)
	}

	// The author pushes another commit: a new pipeline on the new head.
	const pushed = "77e2b5e1d0b4c3a29f8e6d5c4b3a2918f7e6d5c4"
	e.push(pushed)
	e.runIn(pushed)
	code, out, errOut := e.run(t, gateArgs...)
	if code != ExitPending || !strings.Contains(out, "dora approved commit 1f3ad6c") || !strings.Contains(out, "renewed after a push") {
		t.Errorf("after a push exit %d, want pending with a note on dora's earlier approval\n%s\n%s", code, out, errOut)
	}
	if sts := e.s.Statuses(glProject, pushed); len(sts) == 0 || sts[len(sts)-1].State != "pending" {
		t.Errorf("statuses on the pushed head %+v, want pending", sts)
	}

	// A project that accepts approvals across pushes says so.
	lenient := filepath.Join(e.dir, "lenient.yml")
	writeFile(t, lenient, []byte("dir: db/migrations\napproval:\n  require: risky\n  stale_on_push: false\n"))
	if code, out, _ := e.run(t, "gate", "--config", lenient, "--report", e.report); code != ExitOK {
		t.Errorf("with stale_on_push: false exit %d, want 0\n%s", code, out)
	}

	// dora approves the new head.
	e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED"})
	if code, out, _ := e.run(t, gateArgs...); code != ExitOK {
		t.Errorf("after dora approves the pushed head exit %d, want 0\n%s", code, out)
	}
}

// TestGitLabGateOfAnOlderHeadDecidesNothing: a slow pipeline of a head the author has pushed over must
// not judge the merge request with its old report, nor set a status on the new head: a notice, exit 0.
func TestGitLabGateOfAnOlderHeadDecidesNothing(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED"})
	const pushed = "77e2b5e1d0b4c3a29f8e6d5c4b3a2918f7e6d5c4"
	e.s.Push(e.ref, pushed, time.Time{}) // CI_COMMIT_SHA stays the old head: the old pipeline's gate job
	code, out, errOut := e.run(t, "gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report)
	if code != ExitOK || !strings.Contains(errOut, "merge request !7 has moved on to 77e2b5e1d0b4; the report is for 1f3ad6c3e57c: nothing decided") {
		t.Errorf("gate of the old head: exit %d, want 0 with a notice\n%s\n%s", code, out, errOut)
	}
	if sts := e.s.Statuses(glProject, pushed); len(sts) != 0 {
		t.Errorf("statuses on the new head %+v, want none", sts)
	}
	if sts := e.s.Statuses(glProject, glHead); len(sts) != 0 {
		t.Errorf("statuses on the old head %+v, want none", sts)
	}
}

// TestGitLabGateReportTiedToHead: as on GitHub, the check job's report is judged only on the merge
// request's current head (GitLab's sha), which must be the pipeline's: CI_MERGE_REQUEST_SOURCE_BRANCH_SHA
// in a merged results pipeline, whose CI_COMMIT_SHA is a temporary merge commit. A merge request that
// moved on is a notice and exit 0, settled before the approvals are read (a job token cannot read them);
// a report made for another commit than the pipeline's is refused.
func TestGitLabGateReportTiedToHead(t *testing.T) {
	const pushed = "77e2b5e1d0b4c3a29f8e6d5c4b3a2918f7e6d5c4"
	withHead := func(t *testing.T, e *glEnv, head string) {
		t.Helper()
		var rep report.Report
		if err := json.Unmarshal(readFile(t, e.report), &rep); err != nil {
			t.Fatal(err)
		}
		rep.Head = head
		writeFile(t, e.report, mustJSON(t, &rep))
	}
	moved := "merge request !7 has moved on to 77e2b5e1d0b4; the report is for 1f3ad6c3e57c: nothing decided (the pipeline of the new head decides)"
	t.Run("pipeline of an older head, job token", func(t *testing.T) {
		e := newGLEnv(t, "orders_status")
		delete(e.env, "GITLAB_TOKEN")
		e.push(pushed) // CI_COMMIT_SHA stays the old head
		code, out, errOut := e.run(t, "gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report)
		if code != ExitOK || !strings.Contains(errOut, moved) {
			t.Errorf("exit %d, want 0 with the notice %q\n%s\n%s", code, moved, out, errOut)
		}
		if sts := e.s.Statuses(glProject, pushed); len(sts) != 0 {
			t.Errorf("statuses on the new head %+v, want none", sts)
		}
	})
	t.Run("report of an older head, --pr", func(t *testing.T) {
		e := newGLEnv(t, "orders_status")
		delete(e.env, "GITLAB_TOKEN")
		withHead(t, e, glHead)
		e.push(pushed)
		code, out, errOut := e.run(t, "gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report, "--repo", glProject, "--pr", "7")
		if code != ExitOK || !strings.Contains(errOut, moved) {
			t.Errorf("exit %d, want 0 with the notice %q\n%s\n%s", code, moved, out, errOut)
		}
	})
	t.Run("report of another commit than the pipeline", func(t *testing.T) {
		e := newGLEnv(t, "orders_status")
		withHead(t, e, pushed)
		code, out, errOut := e.run(t, "gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report)
		if want := "the report was made for commit 77e2b5e1d0b4, but the pipeline was for 1f3ad6c3e57c"; code != ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, want %d with %q\n%s\n%s", code, ExitUsage, want, out, errOut)
		}
		if sts := e.s.Statuses(glProject, glHead); len(sts) != 0 {
			t.Errorf("statuses %+v, want none", sts)
		}
	})
	t.Run("merged results pipeline", func(t *testing.T) {
		// A safe migration, checked at the merge request's head: read at the merge commit (which has no
		// such file in the fake) it would count as unverified and need an approval.
		e := newGLEnv(t, "orders_status")
		safe := []byte("SET lock_timeout = '2s';\nSET statement_timeout = '30s';\nALTER TABLE orders ADD COLUMN status text;\n")
		e.s.SetFile(glProject, glUp, glHead, safe)
		writeFile(t, e.report, mustJSON(t, &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "golang-migrate", Head: glHead, Migrations: []report.Migration{
			{Version: "2", Name: "orders_status", File: glUp, DownFile: glDown, FileBlob: githubtest.BlobSHA(safe), DownFileBlob: githubtest.BlobSHA(glDownSQL),
				Checksum: "c2", New: true, Status: report.StatusApplied, Findings: []lint.Finding{}},
		}}))
		e.env["CI_MERGE_REQUEST_EVENT_TYPE"] = "merged_result"
		e.env["CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"] = glHead
		e.env["CI_MERGE_REQUEST_TARGET_BRANCH_SHA"] = glBase
		const merge = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
		e.env["CI_COMMIT_SHA"] = merge
		// The job's pipeline is the merge commit's: its ID names no pipeline of the head, where the
		// status goes, and GitLab would refuse it there (404).
		mergePipeline := e.s.AddPipeline(glProject, merge, "refs/merge-requests/7/merge")
		e.env["CI_PIPELINE_ID"] = strconv.FormatInt(mergePipeline, 10)
		code, out, errOut := e.run(t, "gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report)
		if code != ExitOK || !strings.Contains(out, "not-required") || strings.Contains(out, "counted as dangerous") || errOut != "" {
			t.Errorf("exit %d, want 0, not required, nothing on stderr\n%s\n%s", code, out, errOut)
		}
		if sts := e.s.Statuses(glProject, glHead); len(sts) != 1 || sts[0].State != "success" {
			t.Errorf("statuses on the head %+v, want one success", sts)
		}
		if sts := e.s.PipelineStatuses(mergePipeline); len(sts) != 0 {
			t.Errorf("statuses of the merged results pipeline %+v, want none (they are the head's)", sts)
		}
	})
}

// TestGitLabGateStatusGoesIntoItsOwnPipeline: one branch opened as two merge requests (into main, !7, and
// into release/1.x, !8) has two pipelines of one head commit. Without a pipeline_id GitLab puts a commit
// status into the newest, !8's: !7's gate job put its pending there, holding up !8's pipeline, and its
// own pipeline never got a status. The gate job sends its pipeline's ID (CI_PIPELINE_ID) for a status on
// its pipeline's commit (CI_COMMIT_SHA), so each decision lands in the pipeline of the job that took it.
func TestGitLabGateStatusGoesIntoItsOwnPipeline(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	e.s.AddChangeRequest(forge.ChangeRequest{
		Ref: forge.Ref{Repo: glProject, Number: 8}, Title: "Orders status (1.x)", Author: "dev",
		HeadSHA: glHead, BaseSHA: glBase, BaseRef: "release/1.x",
	}, []string{glUp, glDown})
	other := e.s.AddPipeline(glProject, glHead, "refs/merge-requests/8/head")
	gateArgs := []string{"gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report}

	check := func(step, want string) {
		t.Helper()
		if sts := e.s.PipelineStatuses(e.pipeline); len(sts) == 0 || sts[len(sts)-1].State != want {
			t.Errorf("%s: statuses of !7's pipeline %d: %+v, want the last %s", step, e.pipeline, sts, want)
		}
		if sts := e.s.PipelineStatuses(other); len(sts) != 0 {
			t.Errorf("%s: statuses of !8's pipeline %d: %+v, want none", step, other, sts)
		}
		if got := e.s.Pipelines(glProject, glHead); !slices.Equal(got, []int64{e.pipeline, other}) {
			t.Errorf("%s: pipelines of the head %v, want %v (none created for a status)", step, got, []int64{e.pipeline, other})
		}
	}
	if code, out, errOut := e.run(t, gateArgs...); code != ExitPending {
		t.Fatalf("gate exit %d, want %d\n%s\n%s", code, ExitPending, out, errOut)
	}
	check("no approval", "pending")
	e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED"})
	if code, out, errOut := e.run(t, gateArgs...); code != ExitOK {
		t.Fatalf("gate after dora's approval exit %d, want 0\n%s\n%s", code, out, errOut)
	}
	check("approved", "success")
}

// TestGitLabStaticGateOfAnOlderHeadDecidesNothing: without a report the gate judges the working tree, the
// pipeline's head; once the merge request moved on it decides nothing (a notice, exit 0), before it reads
// the approvals, which a job token cannot.
func TestGitLabStaticGateOfAnOlderHeadDecidesNothing(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	dir := filepath.Join(e.dir, "migrations")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "2_orders_status.up.sql"), glUpSQL)
	writeFile(t, filepath.Join(dir, "2_orders_status.down.sql"), glDownSQL)
	delete(e.env, "GITLAB_TOKEN")
	delete(e.env, "CI_MERGE_REQUEST_DIFF_BASE_SHA") // no base to read with git: every migration of dir is new
	e.push("77e2b5e1d0b4c3a29f8e6d5c4b3a2918f7e6d5c4")
	code, out, errOut := e.run(t, "gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--dir", dir)
	if code != ExitOK || !strings.Contains(errOut, "merge request !7 has moved on to 77e2b5e1d0b4") {
		t.Errorf("exit %d, want 0 with a notice\n%s\n%s", code, out, errOut)
	}
}

// TestGitLabGateBeyondTheDiffLimits: a merge request with more files than GitLab's diff limits list
// cannot be judged: with the check job's report its files cannot all be checked against it, and without
// one the owners of the files left out would not be asked. The gate fails (exit 1) saying so, and sets no
// status.
func TestGitLabGateBeyondTheDiffLimits(t *testing.T) {
	const want = "it changes more files than GitLab's diff limits list (1+): the files beyond cannot be checked; split the merge request"
	t.Run("report", func(t *testing.T) {
		e := newGLEnv(t, "orders_status")
		e.s.SetDiffLimit(1)
		code, out, errOut := e.run(t, "gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report)
		if code != ExitFailure || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, want 1 saying %q\n%s\n%s", code, want, out, errOut)
		}
		if sts := e.s.Statuses(glProject, glHead); len(sts) != 0 {
			t.Errorf("statuses %+v, want none", sts)
		}
	})
	t.Run("static", func(t *testing.T) {
		e := newGLEnv(t, "orders_status")
		dir := filepath.Join(e.dir, "migrations")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "2_orders_status.up.sql"), glUpSQL)
		writeFile(t, filepath.Join(dir, "2_orders_status.down.sql"), glDownSQL)
		delete(e.env, "CI_MERGE_REQUEST_DIFF_BASE_SHA") // no base to read with git: every migration of dir is new
		e.s.SetDiffLimit(1)
		code, out, errOut := e.run(t, "gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--dir", dir)
		if code != ExitFailure || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, want 1 saying %q\n%s\n%s", code, want, out, errOut)
		}
		if sts := e.s.Statuses(glProject, glHead); len(sts) != 0 {
			t.Errorf("statuses %+v, want none", sts)
		}
	})
}

// TestGitLabGateDistrustsReport: the GitLab gate checks the check job's report against the merge
// request's changed files (GET .../diffs, all pages), read at its head through the repository files API
// since GitLab's diffs carry no blob SHA, as the GitHub gate does against a fork's artifact: a file the
// report does not vouch for counts as dangerous (unverified-migration), and a migration it calls safe
// is linted again.
func TestGitLabGateDistrustsReport(t *testing.T) {
	const extra = "db/migrations/3_orders_index.up.sql"
	safeSQL := []byte("SET lock_timeout = '2s';\nSET statement_timeout = '30s';\nALTER TABLE orders ADD COLUMN status text;\n")
	dangerousSQL := []byte("ALTER TABLE orders ALTER COLUMN amount TYPE bigint;\n")
	extraSQL := []byte("CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);\n")
	listed := func(upBlob, downBlob string) []report.Migration {
		return []report.Migration{{Version: "2", Name: "orders_status", File: glUp, DownFile: glDown, FileBlob: upBlob, DownFileBlob: downBlob,
			Checksum: "c2", New: true, Status: report.StatusApplied, Findings: []lint.Finding{}}}
	}
	tests := []struct {
		name       string
		content    []byte
		extra      bool // the merge request also adds extra, which the report does not list
		migrations []report.Migration
		wantCode   int
		want       string
	}{
		{name: "forged: no migrations", content: safeSQL, migrations: []report.Migration{}, wantCode: ExitPending,
			want: glUp + ": the report does not list it as a new migration; counted as dangerous"},
		{name: "a migration the report does not list", content: safeSQL, extra: true, migrations: listed(githubtest.BlobSHA(safeSQL), githubtest.BlobSHA(glDownSQL)),
			wantCode: ExitPending, want: extra + ": the report does not list it as a new migration; counted as dangerous"},
		{name: "other content", content: safeSQL, migrations: listed(githubtest.BlobSHA(dangerousSQL), githubtest.BlobSHA(glDownSQL)), wantCode: ExitPending,
			want: glUp + ": the report was made for other content of it; counted as dangerous"},
		{name: "other content of the down file", content: safeSQL, migrations: listed(githubtest.BlobSHA(safeSQL), githubtest.BlobSHA(safeSQL)), wantCode: ExitPending,
			want: glDown + ": the report was made for other content of it; counted as dangerous"},
		{name: "forged: dangerous called safe", content: dangerousSQL, migrations: listed("", ""), wantCode: ExitPending,
			want: glUp + ": the gate's own lint of the merge request's file finds it dangerous, the report said safe"},
		{name: "honest and safe", content: safeSQL, migrations: listed(githubtest.BlobSHA(safeSQL), githubtest.BlobSHA(glDownSQL)), wantCode: ExitOK, want: "not-required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newGLEnv(t, "orders_status")
			if tt.extra {
				e.ref = e.s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: glProject, Number: 8}, Title: "Orders status and index", Author: "dev",
					HeadSHA: glHead, BaseSHA: glBase, BaseRef: "main"}, []string{glUp, glDown, extra})
				e.env["CI_MERGE_REQUEST_IID"] = "8"
				e.s.SetFile(glProject, extra, glHead, extraSQL)
			}
			e.s.SetFile(glProject, glUp, glHead, tt.content)
			writeFile(t, e.report, mustJSON(t, &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "golang-migrate", Migrations: tt.migrations}))
			e.s.SetPageSize(1) // every changed file on a page of its own: X-Next-Page is followed
			e.s.Expect("GET diffs")
			code, out, errOut := e.run(t, "gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report, "--no-record", "--update-report")
			if code != tt.wantCode || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want %d and %q\n%s\n%s", code, tt.wantCode, tt.want, out, errOut)
			}
			if tt.extra {
				// The report written back holds the unlisted file as a dangerous migration bound to its content.
				var rep report.Report
				if err := json.Unmarshal(readFile(t, e.report), &rep); err != nil {
					t.Fatal(err)
				}
				i := slices.IndexFunc(rep.Migrations, func(m report.Migration) bool { return m.File == extra })
				if i < 0 || rep.Migrations[i].Checksum != "blob:"+githubtest.BlobSHA(extraSQL) || len(rep.Migrations[i].Findings) != 1 ||
					rep.Migrations[i].Findings[0].Rule != RuleUnverified || rep.Migrations[i].Findings[0].Risk != lint.Dangerous {
					t.Errorf("report written back %+v, want %s as a dangerous %s migration with the checksum of its content", rep.Migrations, extra, RuleUnverified)
				}
			}
			want := "pending"
			if tt.wantCode == ExitOK {
				want = "success"
			}
			if sts := e.s.Statuses(glProject, glHead); len(sts) != 1 || sts[0].State != want {
				t.Errorf("statuses %+v, want one %s", sts, want)
			}
		})
	}
}

// TestGitLabGateReadsCodeOwnersOfTheTargetBranch: GitLab judges code owners by the target branch as it
// is, not by the merge base: after the DBAs changed CODEOWNERS on main, an owner it removed no longer
// approves a merge request that branched off before.
func TestGitLabGateReadsCodeOwnersOfTheTargetBranch(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	const target = "5d4c3b2a19f8e7d6c5b4a39281706f5e4d3c2b1a"
	e.s.AdvanceTarget(e.ref, target)
	e.s.SetFile(glProject, ".gitlab/CODEOWNERS", target, []byte("[Database][1]\n/db/migrations/ @erin\n"))
	e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED"})
	gateArgs := []string{"gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report, "--no-record"}
	if code, out, errOut := e.run(t, gateArgs...); code != ExitPending || !strings.Contains(out, "@erin") {
		t.Fatalf("dora (owner at the merge base only): exit %d, want pending on @erin\n%s\n%s", code, out, errOut)
	}
	e.s.AddReview(e.ref, forge.Review{Author: "erin", State: "APPROVED"})
	if code, out, errOut := e.run(t, gateArgs...); code != ExitOK {
		t.Errorf("erin (owner on the target branch): exit %d, want 0\n%s\n%s", code, out, errOut)
	}
}

// TestGitLabCommentLeavesAnUnchangedNoteAlone: a report whose Markdown has lines GitLab would run as
// quick actions is stored with them made inert; posting the same report again must not rewrite the
// note (an edit GitLab marks and notifies about) because the stored text differs from the rendered one.
func TestGitLabCommentLeavesAnUnchangedNoteAlone(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	writeFile(t, e.report, mustJSON(t, hostileArtifact()))
	for run := 1; run <= 2; run++ {
		if code, out, errOut := e.run(t, "comment", "--config", folderConfig(t, "db/migrations"), "--report", e.report); code != ExitOK {
			t.Fatalf("run %d: exit %d\n%s\n%s", run, code, out, errOut)
		}
	}
	posts, puts := 0, 0
	for _, r := range e.s.Requests() {
		posts += map[bool]int{true: 1}[strings.HasPrefix(r, "POST ") && strings.Contains(r, "notes")]
		puts += map[bool]int{true: 1}[strings.HasPrefix(r, "PUT ")]
	}
	if posts != 1 || puts != 0 {
		t.Errorf("%d notes created and %d rewritten for two runs of one report, want 1 and 0: %q", posts, puts, e.s.Requests())
	}
}

// TestGitLabGateRoleAndEmailOwnersThroughGitLabRules: owners GitLab knows and the gate cannot match to a
// login (a role, @@maintainer, GA in 17.9; an e-mail address) are decided by the section's code_owner
// rule on Premium: a section is satisfied when GitLab reports its rule approved, by an approval that
// stands under the gate's policy.
func TestGitLabGateRoleAndEmailOwnersThroughGitLabRules(t *testing.T) {
	for _, owner := range []string{"@@maintainer", "dora@example.com"} {
		t.Run(owner, func(t *testing.T) {
			e := newGLEnv(t, "orders_status")
			e.s.SetFile(glProject, ".gitlab/CODEOWNERS", glBase, []byte("[Database][1]\n/db/migrations/ "+owner+"\n"))
			gateArgs := []string{"gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report, "--no-record"}
			rule := func(by ...string) {
				e.s.SetApprovalRules(e.ref, []gitlabtest.Rule{{Name: "/db/migrations/", Type: "code_owner", Section: "Database",
					Required: 1, Eligible: []string{"dora", "dev"}, ApprovedBy: by}})
			}
			rule()
			if code, out, errOut := e.run(t, gateArgs...); code != ExitPending {
				t.Fatalf("nobody approved: exit %d, want pending\n%s\n%s", code, out, errOut)
			}
			// The author @dev is eligible for GitLab's rule, never a possible approver for the gate.
			_, out, _ := e.run(t, append(slices.Clone(gateArgs), "--json", "--no-status")...)
			var d gate.Decision
			if err := json.Unmarshal([]byte(out), &d); err != nil || slices.Contains(d.Owners, "@dev") || !slices.Contains(d.Owners, "@dora") {
				t.Errorf("owners who may still approve %q (%v), want @dora without the author @dev\n%s", d.Owners, err, out)
			}
			// GitLab counts the author's approval where the project allows it; the gate never does.
			e.s.AddReview(e.ref, forge.Review{Author: "dev", State: "APPROVED"})
			rule("dev")
			if code, out, _ := e.run(t, gateArgs...); code != ExitPending {
				t.Errorf("the rule approved by the author: exit %d, want pending\n%s", code, out)
			}
			e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED"})
			rule("dev", "dora")
			code, out, errOut := e.run(t, gateArgs...)
			if code != ExitOK || !strings.Contains(out, "dora") {
				t.Errorf("the rule approved by dora: exit %d, want 0 approved by dora\n%s\n%s", code, out, errOut)
			}
			// An approval given before the latest push does not stand, whatever GitLab still counts.
			const pushed = "77e2b5e1d0b4c3a29f8e6d5c4b3a2918f7e6d5c4"
			e.push(pushed)
			e.runIn(pushed)
			if code, out, _ := e.run(t, gateArgs...); code != ExitPending {
				t.Errorf("after a push: exit %d, want pending\n%s", code, out)
			}
		})
	}
}

// TestGitLabGateCountsOnlyTheDecidingRule: within a CODEOWNERS section only the last matching pattern
// owns a file. A merge request that also changes db/seeds.rb makes GitLab create a code-owner rule for
// /db/ as well as for /db/migrations/; /db/ matches the migrations as a pattern, but its approver (@lead)
// is no owner of them, and must not count toward the DBA approvals the policy asks of them.
func TestGitLabGateCountsOnlyTheDecidingRule(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	e.s.SetFile(glProject, ".gitlab/CODEOWNERS", glBase, []byte("[Database]\n/db/ @lead\n/db/migrations/ @dora\n"))
	writeFile(t, filepath.Join(e.dir, "schemagate.yml"), []byte("dir: db/migrations\napproval:\n  require: risky\n  approvals: 2\n"))
	e.s.AddReview(e.ref, forge.Review{Author: "lead", State: "APPROVED"})
	e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED"})
	e.s.SetApprovalRules(e.ref, []gitlabtest.Rule{
		{Name: "/db/", Type: "code_owner", Section: "Database", Required: 1, Eligible: []string{"lead"}, ApprovedBy: []string{"lead"}},
		{Name: "/db/migrations/", Type: "code_owner", Section: "Database", Required: 1, Eligible: []string{"dora"}, ApprovedBy: []string{"dora"}},
	})
	gateArgs := []string{"gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report, "--no-record"}
	code, out, errOut := e.run(t, gateArgs...)
	// dora is the only owner of the migrations, so the policy's second approval can never come.
	if code != ExitBlocked || strings.Contains(out, "approved by dora, lead") || !strings.Contains(out, "has only 1 eligible owner (@dora, who approved)") {
		t.Fatalf("one DBA and the owner of /db/ approved: exit %d, want %d (blocked: one owner for two approvals)\n%s\n%s", code, ExitBlocked, out, errOut)
	}
	// A second approver of the deciding rule, written as GitLab names it (the pattern as written; a
	// CODEOWNERS line "db/migrations/" is the rule "db/migrations/"), counts.
	e.s.SetFile(glProject, ".gitlab/CODEOWNERS", glBase, []byte("[Database]\n/db/ @lead\ndb/migrations/ @@maintainer\n"))
	e.s.AddReview(e.ref, forge.Review{Author: "erin", State: "APPROVED"})
	e.s.SetApprovalRules(e.ref, []gitlabtest.Rule{
		{Name: "/db/", Type: "code_owner", Section: "Database", Required: 1, Eligible: []string{"lead"}, ApprovedBy: []string{"lead"}},
		{Name: "db/migrations/", Type: "code_owner", Section: "Database", Required: 2, Eligible: []string{"dora", "erin"}, ApprovedBy: []string{"dora", "erin"}},
	})
	code, out, errOut = e.run(t, gateArgs...)
	if code != ExitOK || !strings.Contains(out, "approved — approved by dora, erin\n") {
		t.Errorf("the deciding rule approved by dora and erin: exit %d, want 0 approved by them alone\n%s\n%s", code, out, errOut)
	}
}

// TestGitLabGateRulesOfAReportFromASubdirectory: in a monorepo the check may run from services/api with
// --dir db/migrations, so the report's files start with the folder as given. GitLab's code-owner rule
// names the repository path: its rule must still cover them, and an unapproved one keep the gate pending.
func TestGitLabGateRulesOfAReportFromASubdirectory(t *testing.T) {
	const (
		dir  = "services/api/db/migrations"
		up   = dir + "/2_orders_status.up.sql"
		down = dir + "/2_orders_status.down.sql"
	)
	e := newGLEnv(t, "orders_status")
	e.ref = e.s.AddChangeRequest(forge.ChangeRequest{
		Ref: forge.Ref{Repo: glProject, Number: 8}, Title: "Orders status", Author: "dev",
		HeadSHA: glHead, BaseSHA: glBase, BaseRef: "main",
	}, []string{up, down})
	e.env["CI_MERGE_REQUEST_IID"] = "8"
	e.s.SetFile(glProject, up, glHead, glUpSQL)
	e.s.SetFile(glProject, down, glHead, glDownSQL)
	e.s.SetFile(glProject, ".gitlab/CODEOWNERS", glBase, []byte("[Database]\n/services/api/db/migrations/ @dora\n"))
	var rep report.Report
	if err := json.Unmarshal(readFile(t, e.report), &rep); err != nil {
		t.Fatal(err)
	}
	rep.Dir, rep.DirGiven = dir, "db/migrations"
	writeFile(t, e.report, mustJSON(t, &rep))
	writeFile(t, filepath.Join(e.dir, "schemagate.yml"), []byte("dir: "+dir+"\napproval:\n  require: risky\n  dba_users: [dan]\n"))
	e.s.AddReview(e.ref, forge.Review{Author: "dan", State: "APPROVED"})
	e.s.SetApprovalRules(e.ref, []gitlabtest.Rule{
		{Name: "/services/api/db/migrations/", Type: "code_owner", Section: "Database", Required: 1, Eligible: []string{"dora"}},
	})
	code, out, errOut := e.run(t, "gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report, "--no-record")
	if code != ExitPending || !strings.Contains(out, "/services/api/db/migrations/") {
		t.Errorf("GitLab's Database rule unapproved: exit %d, want %d (pending) naming the rule\n%s\n%s", code, ExitPending, out, errOut)
	}
}

// TestGitLabGatePrivateTopLevelGroup: a top-level owner group the token cannot see answers 404, as a
// user would: the gate must say it cannot read its members, not that the DBA owns nothing.
func TestGitLabGatePrivateTopLevelGroup(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	e.s.SetFile(glProject, ".gitlab/CODEOWNERS", glBase, []byte("[Database][1]\n/db/migrations/ @dba-group\n"))
	e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED"})
	code, out, errOut := e.run(t, "gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report, "--no-record")
	if code != ExitPending || !strings.Contains(out, "cannot read the members of @dba-group") || strings.Contains(out, "owns none") {
		t.Errorf("exit %d, want pending saying the token cannot read the members of @dba-group\n%s\n%s", code, out, errOut)
	}
}

// TestGitLabCommentOnlyOnAnOpenMergeRequestAtItsHead: as on GitHub, the report goes only to an open
// merge request whose head is still the commit it was made for. Neither case fails the job (a notice,
// exit 0): the pipeline of the newer head posts, or there is nothing left to post to.
func TestGitLabCommentOnlyOnAnOpenMergeRequestAtItsHead(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	e.env["CI_COMMIT_SHA"] = "77e2b5e1d0b4c3a29f8e6d5c4b3a2918f7e6d5c4" // a pipeline of an older head
	if code, _, errOut := e.run(t, "comment", "--config", folderConfig(t, "db/migrations"), "--report", e.report); code != ExitOK || !strings.Contains(errOut, "has moved on to") || !strings.Contains(errOut, "report not posted") {
		t.Errorf("report of another head: exit %d, want %d, a notice that it is not posted\n%s", code, ExitOK, errOut)
	}
	e.env["CI_COMMIT_SHA"] = glHead
	e.s.Merge(e.ref, "9999999999999999999999999999999999999999")
	if code, _, errOut := e.run(t, "comment", "--config", folderConfig(t, "db/migrations"), "--report", e.report); code != ExitOK || !strings.Contains(errOut, "is merged") {
		t.Errorf("merged merge request: exit %d, want %d, a notice that it is not posted\n%s", code, ExitOK, errOut)
	}
	if n := len(e.s.Comments(e.ref)); n != 0 {
		t.Errorf("%d notes written, want none", n)
	}
}

// TestGitLabGateRerunStillPendingIsQuiet: GitLab refuses to set a pending status pending again; a re-run
// of a gate still waiting is no cause for a warning.
func TestGitLabGateRerunStillPendingIsQuiet(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	gateArgs := []string{"gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report}
	for i := range 2 {
		code, out, errOut := e.run(t, gateArgs...)
		if code != ExitPending || strings.Contains(errOut, "warning") || strings.Contains(errOut, "transition") {
			t.Errorf("run %d: exit %d, want pending without a warning\n%s\n%s", i+1, code, out, errOut)
		}
	}
	if sts := e.s.Statuses(glProject, glHead); len(sts) != 1 || sts[0].State != "pending" {
		t.Errorf("statuses %+v, want one pending", sts)
	}
}

// TestGitLabGateJudgesItsOwnFolder: on GitLab the report is the check job's artifact, which the merge
// request's own pipeline wrote; a report for another folder than the gate's schemagate.yml names is
// refused there too (exit 2, no status), rather than leaving the migrations to whoever owns the rest.
func TestGitLabGateJudgesItsOwnFolder(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	e.s.SetFile(glProject, ".gitlab/CODEOWNERS", glBase, []byte("* @mallory\n/db/migrations/ @dora\n"))
	var rep report.Report
	if err := json.Unmarshal(readFile(t, e.report), &rep); err != nil {
		t.Fatal(err)
	}
	rep.Dir = "docs"
	writeFile(t, e.report, mustJSON(t, &rep))
	e.s.AddReview(e.ref, forge.Review{Author: "mallory", State: "APPROVED"})
	code, out, errOut := e.run(t, "gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report)
	if code != ExitUsage || !strings.Contains(errOut, `is for the migration folder "docs", but the gate judges "db/migrations"`) {
		t.Errorf("exit %d, want %d refusing the report's folder\n%s\n%s", code, ExitUsage, out, errOut)
	}
	if sts := e.s.Statuses(glProject, glHead); len(sts) != 0 {
		t.Errorf("statuses %+v on a refused report, want none", sts)
	}
}

// TestGitLabGateDeletedMigrationNeedsApproval: on GitLab too, a migration of the folder that the merge
// request deletes or renames away (the diff's old_path) needs the approval a dangerous migration does,
// of the owners of its old path, though the report lists nothing new.
func TestGitLabGateDeletedMigrationNeedsApproval(t *testing.T) {
	const up = "db/migrations/1_init.up.sql"
	for _, files := range [][]string{{"-" + up}, {"attic/1_init.up.sql\x00" + up}} {
		t.Run(files[0], func(t *testing.T) {
			e := newGLEnv(t, "orders_status")
			e.ref = e.s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: glProject, Number: 8}, Title: "Drop the init migration", Author: "dev",
				HeadSHA: glHead, BaseSHA: glBase, BaseRef: "main"}, files)
			e.env["CI_MERGE_REQUEST_IID"] = "8"
			writeFile(t, e.report, mustJSON(t, &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "golang-migrate", Migrations: []report.Migration{
				{Version: "1", Name: "init", File: up, Checksum: "c1", Status: report.StatusBase},
			}}))
			code, out, errOut := e.run(t, "gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report)
			if code != ExitPending || !strings.Contains(out, up+": the merge request ") || !strings.Contains(out, "needs 1 more approval from @dora") {
				t.Errorf("exit %d, want pending on @dora with %s counted as dangerous\n%s\n%s", code, up, out, errOut)
			}
			if sts := e.s.Statuses(glProject, glHead); len(sts) == 0 || sts[len(sts)-1].State != "pending" {
				t.Errorf("statuses %+v, want pending", sts)
			}
		})
	}
}

// TestGitLabGatePolicyOfTheTargetBranch: a merge request that branched off an old commit of main, from
// before the DBAs tightened schemagate.yml, is judged by the policy of the target branch's head
// (diff_refs.start_sha), not by the looser one of its merge base (CI_MERGE_REQUEST_DIFF_BASE_SHA).
func TestGitLabGatePolicyOfTheTargetBranch(t *testing.T) {
	const (
		target = "5d4c3b2a19f8e7d6c5b4a39281706f5e4d3c2b1a"
		lax    = "dir: db/migrations\napproval:\n  require: never\n"
	)
	for _, tt := range []struct {
		name, targetPolicy string
		caution            bool
		wantCode           int
		wantOut            string
	}{
		{name: "tightened require", targetPolicy: "dir: db/migrations\napproval:\n  require: always\n", wantCode: ExitPending,
			wantOut: "approval.require to never: ignored, always (from schemagate.yml at " + target[:12] + ", the head of the target branch)"},
		// The check measured caution under the merge base's rules; the target head's make the rule dangerous.
		{name: "tightened rule", targetPolicy: "dir: db/migrations\napproval:\n  require: dangerous\nlint:\n  rules:\n    prefer-text: dangerous\n", caution: true,
			wantCode: ExitPending, wantOut: "approval is required whatever the risk"},
		{name: "another folder", targetPolicy: "dir: db/other\n", wantCode: ExitUsage, wantOut: "rebase the change onto the target branch"},
		{name: "unchanged", targetPolicy: lax, wantCode: ExitOK, wantOut: "approval.require=never"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newGLEnv(t, "orders_status")
			root := policyRepo(t, lax, lax)
			if tt.caution {
				rep := &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "golang-migrate", Migrations: []report.Migration{
					{Version: "2", Name: "orders_status", File: "db/migrations/2_orders_status.up.sql", Checksum: "c2", New: true,
						Status: report.StatusApplied, Findings: []lint.Finding{{Rule: "prefer-text", Risk: lint.Caution,
							Message: "rewrites", File: "db/migrations/2_orders_status.up.sql", Line: 1, Column: 1}}},
				}}
				rep.Finish()
				writeFile(t, e.report, mustJSON(t, rep))
			}
			e.s.SetFile(glProject, "schemagate.yml", glBase, []byte(lax))
			e.s.AdvanceTarget(e.ref, target)
			e.s.SetFile(glProject, "schemagate.yml", target, []byte(tt.targetPolicy))
			e.s.SetFile(glProject, ".gitlab/CODEOWNERS", target, []byte("[Database][1]\n/db/migrations/ @dora\n"))
			code, out, errOut := e.run(t, "gate", "--config", filepath.Join(root, "schemagate.yml"), "--report", e.report, "--no-record", "--no-status")
			if code != tt.wantCode || !strings.Contains(out+errOut, tt.wantOut) {
				t.Errorf("exit %d, want %d with %q\n%s\n%s", code, tt.wantCode, tt.wantOut, out, errOut)
			}
		})
	}
}

// TestGitLabAPIURLFromTheServerURL: without CI_API_V4_URL the token goes to the job's own instance
// (CI_SERVER_URL + /api/v4), and without either to no host at all, never to gitlab.com.
func TestGitLabAPIURLFromTheServerURL(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	e.env["CI_SERVER_URL"] = strings.TrimSuffix(e.s.URL(), gitlabtest.Prefix)
	delete(e.env, "CI_API_V4_URL")
	if code, out, errOut := e.run(t, "comment", "--config", folderConfig(t, "db/migrations"), "--report", e.report); code != ExitOK || len(e.s.Comments(e.ref)) != 1 {
		t.Errorf("exit %d, %d notes, want the note written through CI_SERVER_URL\n%s\n%s", code, len(e.s.Comments(e.ref)), out, errOut)
	}
	delete(e.env, "CI_SERVER_URL")
	if code, _, errOut := e.run(t, "comment", "--config", folderConfig(t, "db/migrations"), "--report", e.report); code != ExitUsage || !strings.Contains(errOut, "--api-url") {
		t.Errorf("without either URL: exit %d, want %d asking for --api-url\n%s", code, ExitUsage, errOut)
	}
}

// TestGitLabBadMergeRequestNumber: a CI_MERGE_REQUEST_IID that is no number is named as such, not taken
// for a pipeline without a merge request.
func TestGitLabBadMergeRequestNumber(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	e.env["CI_MERGE_REQUEST_IID"] = "abc"
	want := `CI_MERGE_REQUEST_IID="abc" is not a merge request number`
	for _, args := range [][]string{
		{"comment", "--config", folderConfig(t, "db/migrations"), "--report", e.report},
		{"gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report},
		{"check", "--config", filepath.Join(e.dir, "schemagate.yml"), "--dir", e.dir},
	} {
		code, out, errOut := e.run(t, args...)
		if code != ExitUsage || !strings.Contains(errOut, want) || strings.Contains(errOut, "no merge request") {
			t.Errorf("%s: exit %d, want %d with %q only\n%s\n%s", args[0], code, ExitUsage, want, out, errOut)
		}
	}
}

// TestGitLabGateOnAMergedOrClosedMergeRequest: a gate job re-run after its merge request was merged or
// closed decides nothing, as the GitHub gate does from a workflow_run after its pull request closed: a
// notice naming the merge request's state, exit 0, no status set and no note written; with the check's
// report, without one (the working tree judged statically), and with the merge request named by --pr.
func TestGitLabGateOnAMergedOrClosedMergeRequest(t *testing.T) {
	for _, state := range []string{"merged", "closed"} {
		for _, how := range []string{"report", "static", "static --pr"} {
			t.Run(state+", "+how, func(t *testing.T) {
				e := newGLEnv(t, "orders_status")
				if state == "merged" {
					e.s.Merge(e.ref, "9999999999999999999999999999999999999999")
				} else {
					e.s.Close(e.ref)
				}
				args := []string{"gate", "--config", filepath.Join(e.dir, "schemagate.yml")}
				if how == "report" {
					args = append(args, "--report", e.report)
				} else {
					dir := filepath.Join(e.dir, "migrations")
					if err := os.MkdirAll(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					writeFile(t, filepath.Join(dir, "2_orders_status.up.sql"), glUpSQL)
					writeFile(t, filepath.Join(dir, "2_orders_status.down.sql"), glDownSQL)
					delete(e.env, "CI_MERGE_REQUEST_DIFF_BASE_SHA") // no base to read with git: every migration of dir is new
					args = append(args, "--dir", dir)
				}
				if how == "static --pr" {
					args = append(args, "--repo", glProject, "--pr", "7")
				}
				code, out, errOut := e.run(t, args...)
				want := "merge request !7 is " + state + ": nothing decided"
				if code != ExitOK || !strings.Contains(errOut, want) {
					t.Errorf("exit %d, want %d with a notice %q\n%s\n%s", code, ExitOK, want, out, errOut)
				}
				if sts := e.s.Statuses(glProject, glHead); len(sts) != 0 {
					t.Errorf("status set on a %s merge request: %+v", state, sts)
				}
				if n := len(e.s.Comments(e.ref)); n != 0 {
					t.Errorf("%d notes written on a %s merge request, want none", n, state)
				}
			})
		}
	}
}

// TestGitLabGateChangeRequestThroughUnreadableGroup: a "Request changes" from a reviewer who may belong to
// an owning group whose members the token cannot read holds the gate (exit 3), as on GitHub, saying how
// to read the group on GitLab, not GitHub's fix.
func TestGitLabGateChangeRequestThroughUnreadableGroup(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	e.s.SetFile(glProject, ".gitlab/CODEOWNERS", glBase, []byte("[Database][1]\n/db/migrations/ @acme/dba @dora\n"))
	e.s.SetMembershipForbidden(true)
	e.s.AddReview(e.ref, forge.Review{Author: "bob", State: "CHANGES_REQUESTED"})
	e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED", SubmittedAt: time.Now().Add(time.Minute)})
	code, out, errOut := e.run(t, "gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report, "--no-record")
	if code != ExitBlocked || !strings.Contains(out, "bob requested changes and may belong to @acme/dba") || !strings.Contains(out, "read_api") ||
		strings.Contains(out, "read:org") || strings.Contains(out, "GitHub") {
		t.Errorf("exit %d, want %d (blocked) saying bob may belong to @acme/dba and how to read it on GitLab\n%s\n%s", code, ExitBlocked, out, errOut)
	}
}

// TestGitLabGateEmailOwnersWithoutRulesBlock: an e-mail owner only GitLab's code-owner rules can count
// (Premium) leaves nobody who can approve where GitLab has no such rule for the files (Free, or no rule of
// the section): no approval can satisfy it, so the gate blocks (exit 3) saying so, rather than wait.
func TestGitLabGateEmailOwnersWithoutRulesBlock(t *testing.T) {
	for _, tt := range []struct {
		name  string
		rules func(e *glEnv)
	}{
		{"Free", func(e *glEnv) { e.s.SetApprovalRulesUnavailable(e.ref, 403) }},
		{"no rule of the section", func(e *glEnv) {
			e.s.SetApprovalRules(e.ref, []gitlabtest.Rule{{Name: "*.md", Type: "code_owner", Section: "Docs", Required: 1, Eligible: []string{"writer"}}})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newGLEnv(t, "orders_status")
			e.s.SetFile(glProject, ".gitlab/CODEOWNERS", glBase, []byte("[Database][1]\n/db/migrations/ dba@example.com\n"))
			e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED"})
			tt.rules(e)
			code, out, errOut := e.run(t, "gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report, "--no-record")
			if code != ExitBlocked || !strings.Contains(out, "blocked — ") || !strings.Contains(out, "only dba@example.com, which cannot be matched") ||
				strings.Contains(out, "GitHub") {
				t.Errorf("exit %d, want %d (blocked) saying no approval can satisfy dba@example.com\n%s\n%s", code, ExitBlocked, out, errOut)
			}
		})
	}
}
