package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
	"github.com/schemagate/schemagate/internal/report"
)

const (
	artifactsRoute = "GET /repos/{owner}/{repo}/actions/runs/{run}/artifacts"
	runsRoute      = "GET /repos/{owner}/{repo}/actions/workflows/{workflow}/runs"
)

// workflowRunEvent makes the event a workflow_run of the workflow file wf, run id, on evHead, of
// evRepo, with no pull_requests (as for a fork), that ended with conclusion.
func (e *gateEnv) workflowRunEvent(t *testing.T, wf string, id int64, conclusion string) {
	t.Helper()
	e.editedEvent(t, "workflow_run.completed.with-pull-requests.payload.json", func(ev map[string]any) {
		wr := ev["workflow_run"].(map[string]any)
		wr["id"], wr["head_sha"], wr["path"], wr["pull_requests"] = id, evHead, ".github/workflows/"+wf, []any{}
		wr["conclusion"] = conclusion
		wr["event"] = "pull_request"
		ev["repository"].(map[string]any)["full_name"] = evRepo
	})
}

// reportBytes is the gate environment's report, edited by edit when it is not nil.
func (e *gateEnv) reportBytes(t *testing.T, edit func(*report.Report)) []byte {
	t.Helper()
	var rep report.Report
	if err := json.Unmarshal(readFile(t, e.report), &rep); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&rep)
	}
	return mustJSON(t, &rep)
}

func (e *gateEnv) sticky(t *testing.T) int64 {
	t.Helper()
	var rep report.Report
	if err := json.Unmarshal(readFile(t, e.report), &rep); err != nil {
		t.Fatal(err)
	}
	return e.s.AddComment(e.ref, e.s.BotLogin(), "old report\n"+report.Marker(rep.Dir))
}

func (e *gateEnv) commentBody(id int64) string {
	for _, c := range e.s.Comments(e.ref) {
		if c.ID == id {
			return c.Body
		}
	}
	return ""
}

// TestGateReportArtifactOfTheCheckRun: in a workflow_run of the check's workflow, --report-artifact
// reads the report from that run's artifact (found by name among the run's artifacts, the archive
// fetched from the storage without GitHub's token), judges it as --report would, and the comment links
// that run's job summary.
func TestGateReportArtifactOfTheCheckRun(t *testing.T) {
	e := newGateEnv(t, "approval:\n  require: risky\n")
	run := e.s.AddWorkflowRun(evRepo, githubtest.WorkflowRun{Workflow: "schemagate.yml", Event: "pull_request", HeadSHA: evHead, Conclusion: "failure"})
	e.s.AddArtifact(evRepo, run, "coverage", map[string][]byte{"cover.out": []byte("mode: set\n")}, false)
	art := e.s.AddArtifact(evRepo, run, "schemagate-report", map[string][]byte{"schemagate-report.json": e.reportBytes(t, nil)}, false)
	e.workflowRunEvent(t, "schemagate.yml", run, "success")
	e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED", CommitSHA: evHead})
	sticky := e.sticky(t)
	code, out, errOut := e.run(t, "--report-artifact", "schemagate-report")
	if code != ExitOK {
		t.Fatalf("exit = %d, want 0 (approved)\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if st := e.lastStatus(t); st.State != "success" {
		t.Errorf("status = %+v, want success", st)
	}
	if n := e.s.ArtifactDownloads(art); n != 1 {
		t.Errorf("the report's archive was fetched %d times, want once", n)
	}
	for _, r := range e.s.Requests() {
		if strings.Contains(r, "/actions/workflows/") {
			t.Errorf("the event's run is the check's, yet the gate listed runs: %s", r)
		}
	}
	runURL := "https://github.com/" + evRepo + "/actions/runs/" + strconv.FormatInt(run, 10)
	body := e.commentBody(sticky)
	if !strings.Contains(body, "[job summary]("+runURL+")") {
		t.Errorf("the comment should link the check's run %s:\n%s", runURL, body)
	}
	if !strings.Contains(errOut, "the report is schemagate-report.json of the artifact schemagate-report of run "+strconv.FormatInt(run, 10)) {
		t.Errorf("stderr does not say where the report came from:\n%s", errOut)
	}
}

// TestGateReportArtifactAfterAReview: from a workflow_run of another workflow (the review workflow's,
// after a DBA's approval) or a pull_request_review event, the report is the artifact of the check
// workflow's newest completed pull_request run on the pull request's head: a cancelled run after it,
// a run of another commit and a run of another workflow do not count.
func TestGateReportArtifactAfterAReview(t *testing.T) {
	for _, event := range []string{"workflow_run", "pull_request_review"} {
		t.Run(event, func(t *testing.T) {
			e := newGateEnv(t, "approval:\n  require: risky\n")
			older := e.s.AddWorkflowRun(evRepo, githubtest.WorkflowRun{Workflow: "schemagate.yml", Event: "pull_request", HeadSHA: evHead})
			e.s.AddArtifact(evRepo, older, "schemagate-report", map[string][]byte{"schemagate-report.json": []byte("{}")}, false)
			good := e.s.AddWorkflowRun(evRepo, githubtest.WorkflowRun{Workflow: "schemagate.yml", Event: "pull_request", HeadSHA: evHead})
			art := e.s.AddArtifact(evRepo, good, "schemagate-report", map[string][]byte{"schemagate-report.json": e.reportBytes(t, nil)}, false)
			e.s.AddWorkflowRun(evRepo, githubtest.WorkflowRun{Workflow: "schemagate.yml", Event: "pull_request", HeadSHA: evHead, Conclusion: "cancelled"})
			e.s.AddWorkflowRun(evRepo, githubtest.WorkflowRun{Workflow: "schemagate.yml", Event: "pull_request", HeadSHA: strings.Repeat("b", 40)})
			e.s.AddWorkflowRun(evRepo, githubtest.WorkflowRun{Workflow: "schemagate.yml", Event: "push", HeadSHA: evHead})
			e.s.AddWorkflowRun(evRepo, githubtest.WorkflowRun{Workflow: "other.yml", Event: "pull_request", HeadSHA: evHead})
			if event == "workflow_run" {
				review := e.s.AddWorkflowRun(evRepo, githubtest.WorkflowRun{Workflow: "schemagate-approval.yml", Event: "pull_request_review", HeadSHA: evHead})
				e.workflowRunEvent(t, "schemagate-approval.yml", review, "success")
			} else {
				e.event(t, "pull_request_review.submitted.with-organization.payload.json")
			}
			e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED", CommitSHA: evHead})
			sticky := e.sticky(t)
			e.s.Expect(runsRoute)
			code, out, errOut := e.run(t, "--report-artifact", "schemagate-report")
			if code != ExitOK {
				t.Fatalf("exit = %d, want 0 (approved)\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			if n := e.s.ArtifactDownloads(art); n != 1 {
				t.Errorf("the newest completed check run's report was fetched %d times, want once", n)
			}
			want := "[job summary](https://github.com/" + evRepo + "/actions/runs/" + strconv.FormatInt(good, 10) + ")"
			if body := e.commentBody(sticky); !strings.Contains(body, want) {
				t.Errorf("the comment should link the check's run (%s):\n%s", want, body)
			}
		})
	}
}

// TestGateReportArtifactNotYet: a run of the check on the head that has not finished, or ended
// without its report (going on, cancelled, waiting for a maintainer's approval), decides nothing: a
// notice, exit 0, no status, whatever the files; the check's end runs the gate.
func TestGateReportArtifactNotYet(t *testing.T) {
	e := newGateEnv(t, "approval:\n  require: risky\n")
	e.s.SetPullFiles(e.ref, []string{"README.md"})
	e.s.AddWorkflowRun(evRepo, githubtest.WorkflowRun{Workflow: "schemagate.yml", Event: "pull_request", HeadSHA: evHead, Status: "in_progress"})
	e.s.AddWorkflowRun(evRepo, githubtest.WorkflowRun{Workflow: "schemagate.yml", Event: "pull_request", HeadSHA: evHead, Conclusion: "action_required"})
	cancelled := e.s.AddWorkflowRun(evRepo, githubtest.WorkflowRun{Workflow: "schemagate.yml", Event: "pull_request", HeadSHA: evHead, Conclusion: "cancelled"})
	e.workflowRunEvent(t, "schemagate.yml", cancelled, "cancelled") // the cancelled check's own completion
	code, out, errOut := e.run(t, "--report-artifact", "schemagate-report", "--status-only")
	if code != ExitOK {
		t.Fatalf("exit = %d, want 0\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	for _, r := range e.s.Requests() {
		if strings.Contains(r, "/artifacts") {
			t.Errorf("an artifact of an unfinished run was read: %s", r)
		}
	}
	if !strings.Contains(out, "::notice::schemagate gate: the run of schemagate.yml on "+evHead[:12]+" (pull request #2) has not finished") {
		t.Errorf("no notice saying the check has not finished:\n%s", out)
	}
	if sts := e.s.Statuses(evRepo, evHead); len(sts) != 0 {
		t.Errorf("statuses = %+v, want none before the check finished", sts)
	}
}

// TestGateReportArtifactNoCheckRun: on a head the check's workflow never ran on (its paths left the
// change out), a change that touches no file that could be a migration's needs no approval (a success
// status, no record, no comment); one that does (in the folder whatever its name, an SQL file anywhere,
// the configuration, a file renamed out of the folder) is not decided.
func TestGateReportArtifactNoCheckRun(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		held  string // the file that holds the decision back, "" for none
	}{
		{"migration files", nil, "db/migrations/002_orders_status.up.sql"},
		{"a goose Go migration", []string{"db/migrations/00003_backfill.go"}, "db/migrations/00003_backfill.go"},
		{"a sqitch plan", []string{"sqitch.plan"}, "sqitch.plan"},
		{"sql elsewhere", []string{"README.md", "queries/report.SQL"}, "queries/report.SQL"},
		{"the configuration", []string{"schemagate.yml"}, "schemagate.yml"},
		{"renamed out of the folder", []string{"old/3_x.txt\x00db/migrations/3_x.up.sql"}, "db/migrations/3_x.up.sql"},
		{"the check's workflow file", []string{".github/workflows/schemagate.yml", "README.md"}, ""},
		{"no migration file", []string{"README.md", "app/main.go"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const policy = "dir: db/migrations\napproval:\n  require: risky\n"
			e := newGateEnv(t, policy)
			e.s.SetFile(evRepo, "schemagate.yml", evBase, []byte(policy)) // the base's, which holds
			if tc.files != nil {
				e.s.SetPullFiles(e.ref, tc.files)
			}
			e.s.AddWorkflow(evRepo, "schemagate.yml")
			approval := e.s.AddWorkflowRun(evRepo, githubtest.WorkflowRun{Workflow: "schemagate-approval.yml", Event: "pull_request", HeadSHA: evHead})
			e.workflowRunEvent(t, "schemagate-approval.yml", approval, "success")
			// The gate's job runs at the root of a checkout of the default branch, which has the folder.
			if err := os.MkdirAll(filepath.Join(e.dir, "db", "migrations"), 0o755); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("git", "init", "-q", e.dir).CombinedOutput(); err != nil {
				t.Fatalf("git init: %v\n%s", err, out)
			}
			t.Chdir(e.dir)
			code, out, errOut := e.run(t, "--report-artifact", "schemagate-report", "--status-only")
			if code != ExitOK {
				t.Fatalf("exit = %d, want 0\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			sts := e.s.Statuses(evRepo, evHead)
			if tc.held != "" {
				if !strings.Contains(out, "::notice::schemagate gate: pull request #2 changes "+tc.held+" and schemagate.yml has not run on "+evHead[:12]+": nothing decided") {
					t.Errorf("no notice naming %s:\n%s", tc.held, out)
				}
				if len(sts) != 0 {
					t.Errorf("statuses = %+v, want none", sts)
				}
				return
			}
			if len(sts) != 1 || sts[0].State != "success" {
				t.Errorf("statuses = %+v, want one success\nstdout: %s\nstderr: %s", sts, out, errOut)
			}
			if cs := e.s.Comments(e.ref); len(cs) != 0 {
				t.Errorf("comments = %+v, want no record on a pull request without migrations", cs)
			}
		})
	}
}

// TestGateReportArtifactNamesCleaned: a file name of the artifact (the fork's to choose) reaches the
// log with its control characters escaped.
func TestGateReportArtifactNamesCleaned(t *testing.T) {
	e := newGateEnv(t, "approval:\n  require: risky\n")
	run := e.s.AddWorkflowRun(evRepo, githubtest.WorkflowRun{Workflow: "schemagate.yml", Event: "pull_request", HeadSHA: evHead})
	e.s.AddArtifact(evRepo, run, "schemagate-report", map[string][]byte{"r\x1b[2J\u202e.json": e.reportBytes(t, nil)}, false)
	e.workflowRunEvent(t, "schemagate.yml", run, "success")
	code, out, errOut := e.run(t, "--report-artifact", "schemagate-report")
	if code != ExitPending {
		t.Fatalf("exit = %d, want %d\nstdout: %s\nstderr: %s", code, ExitPending, out, errOut)
	}
	if strings.ContainsAny(errOut, "\x1b\u202e") || !strings.Contains(errOut, "the report is r") {
		t.Errorf("stderr carries the name raw:\n%q", errOut)
	}
}

// TestGateReportArtifactFailures: what cannot give the report fails with what to do: an expired
// artifact, a run without it, a token without actions: read, a broken archive (exit 1); an unknown
// workflow file, an artifact whose report cannot be told, and a report made for another commit (exit 2).
func TestGateReportArtifactFailures(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, e *gateEnv, run int64)
		args  []string
		code  int
		want  string
	}{
		{name: "expired", code: ExitFailure, want: "re-run the check's workflow",
			setup: func(t *testing.T, e *gateEnv, run int64) {
				e.s.AddArtifact(evRepo, run, "schemagate-report", map[string][]byte{"schemagate-report.json": e.reportBytes(t, nil)}, true)
			}},
		{name: "no such artifact", code: ExitFailure, want: `has no artifact "schemagate-report" (it has: coverage)`,
			setup: func(t *testing.T, e *gateEnv, run int64) {
				e.s.AddArtifact(evRepo, run, "coverage", map[string][]byte{"c.out": []byte("x")}, false)
			}},
		{name: "no actions: read", code: ExitFailure, want: "permissions: actions: read",
			setup: func(t *testing.T, e *gateEnv, run int64) { e.s.SetActionsForbidden(true) }},
		{name: "broken archive", code: ExitUsage, want: "not a zip archive",
			setup: func(t *testing.T, e *gateEnv, run int64) {
				e.s.AddArtifactArchive(evRepo, run, "schemagate-report", []byte("PK\x03\x04 not really"), false)
			}},
		{name: "unknown workflow", code: ExitUsage, args: []string{"--check-workflow", "nope.yml"}, want: "--check-workflow names the check's workflow file"},
		{name: "which file", code: ExitUsage, want: "holds a.json, b.json and no schemagate-report.json",
			setup: func(t *testing.T, e *gateEnv, run int64) {
				e.s.AddArtifact(evRepo, run, "schemagate-report", map[string][]byte{"a.json": []byte("{}"), "b.json": []byte("{}")}, false)
			}},
		{name: "another commit's report", code: ExitUsage, want: "refusing",
			setup: func(t *testing.T, e *gateEnv, run int64) {
				data := e.reportBytes(t, func(r *report.Report) { r.Head = strings.Repeat("c", 40) })
				e.s.AddArtifact(evRepo, run, "schemagate-report", map[string][]byte{"out/schemagate-report.json": data}, false)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newGateEnv(t, "approval:\n  require: risky\n")
			run := e.s.AddWorkflowRun(evRepo, githubtest.WorkflowRun{Workflow: "schemagate.yml", Event: "pull_request", HeadSHA: evHead})
			review := e.s.AddWorkflowRun(evRepo, githubtest.WorkflowRun{Workflow: "schemagate-approval.yml", Event: "pull_request_review", HeadSHA: evHead})
			e.workflowRunEvent(t, "schemagate-approval.yml", review, "success")
			if tt.setup != nil {
				tt.setup(t, e, run)
			}
			code, out, errOut := e.run(t, append([]string{"--report-artifact", "schemagate-report"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit = %d, want %d, with %q\nstdout: %s\nstderr: %s", code, tt.code, tt.want, out, errOut)
			}
			if sts := e.s.Statuses(evRepo, evHead); len(sts) != 0 {
				t.Errorf("statuses = %+v, want none when the report could not be read", sts)
			}
		})
	}
}

// TestGateReportArtifactUsage: --report-artifact with --report or --update-report, a --check-workflow
// that is no workflow file name, and on GitLab, are usage errors before any request.
func TestGateReportArtifactUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"--report", "r.json"}, want: "not both"},
		{args: []string{"--update-report"}, want: "--update-report writes the --report file"},
		{args: []string{"--check-workflow", ".github/workflows/schemagate.yml"}, want: "want the file name of the check's workflow"},
		{args: []string{"--check-workflow", "schemagate"}, want: "want the file name of the check's workflow"},
		{env: map[string]string{"GITLAB_CI": "true", "GITHUB_ACTIONS": ""}, want: "on GitLab, pass the check job's report with --report"},
	} {
		e := newGateEnv(t, "approval:\n  require: risky\n")
		for k, v := range tt.env {
			e.env[k] = v
		}
		code, out, errOut := e.run(t, append([]string{"--report-artifact", "schemagate-report"}, tt.args...)...)
		if code != ExitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit = %d, want %d with %q\nstdout: %s\nstderr: %s", tt.args, code, ExitUsage, tt.want, out, errOut)
		}
		if reqs := e.s.Requests(); len(reqs) != 0 {
			t.Errorf("%v: requests before the usage error: %v", tt.args, reqs)
		}
	}
}

func TestPickReport(t *testing.T) {
	for _, tt := range []struct {
		files map[string][]byte
		want  string // "" for an error
	}{
		{files: map[string][]byte{"report.json": []byte("1")}, want: "report.json"},
		{files: map[string][]byte{"x/notes.txt": []byte("1")}, want: "x/notes.txt"},
		{files: map[string][]byte{"r.json": []byte("1"), "log.txt": []byte("2")}, want: "r.json"},
		{files: map[string][]byte{"a.json": []byte("1"), "out/schemagate-report.json": []byte("2")}, want: "out/schemagate-report.json"},
		{files: map[string][]byte{"a.json": []byte("1"), "b.json": []byte("2")}},
		{files: map[string][]byte{}},
	} {
		name, data, err := pickReport(tt.files)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%v: picked %s, want an error", tt.files, name)
			}
			continue
		}
		if err != nil || name != tt.want || string(data) != string(tt.files[tt.want]) {
			t.Errorf("%v: picked %q (%v), want %q", tt.files, name, err, tt.want)
		}
	}
}

// TestGateStatusOnly: with --status-only a pending or blocked decision exits 0 once its commit status
// is set, and fails when the status cannot be set (the decision would be nowhere); with --no-status it
// is a usage error.
func TestGateStatusOnly(t *testing.T) {
	e := newGateEnv(t, "approval:\n  require: risky\n")
	if code, out, errOut := e.run(t, "--report", e.report, "--status-only"); code != ExitOK {
		t.Errorf("pending: exit = %d, want 0\n%s\n%s", code, out, errOut)
	}
	if st := e.lastStatus(t); st.State != "pending" {
		t.Errorf("pending: status = %+v", st)
	}
	e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "CHANGES_REQUESTED", CommitSHA: evHead})
	if code, out, errOut := e.run(t, "--report", e.report, "--status-only"); code != ExitOK {
		t.Errorf("blocked: exit = %d, want 0\n%s\n%s", code, out, errOut)
	}
	if st := e.lastStatus(t); st.State != "failure" {
		t.Errorf("blocked: status = %+v, want failure", st)
	}
	if code, _, _ := e.run(t, "--report", e.report); code != ExitBlocked {
		t.Errorf("blocked without --status-only: exit = %d, want %d", code, ExitBlocked)
	}
	e.s.SetReadOnly(true)
	if code, out, errOut := e.run(t, "--report", e.report, "--status-only"); code != ExitFailure || !strings.Contains(errOut, "the decision (blocked) is not published") {
		t.Errorf("read-only token: exit = %d, want %d\n%s\n%s", code, ExitFailure, out, errOut)
	}
	if code, _, errOut := e.run(t, "--report", e.report, "--status-only", "--no-status"); code != ExitUsage || !strings.Contains(errOut, "not with --no-status") {
		t.Errorf("--no-status: exit = %d, want %d\n%s", code, ExitUsage, errOut)
	}
	e.env["GITLAB_CI"], e.env["GITHUB_ACTIONS"] = "true", ""
	if code, _, errOut := e.run(t, "--report", e.report, "--status-only"); code != ExitUsage || !strings.Contains(errOut, "--status-only is for GitHub") {
		t.Errorf("GitLab: exit = %d, want %d\n%s", code, ExitUsage, errOut)
	}
}
