package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/report"
)

// TestGateCommentLinksTheCheckRun: the gate's rewrite of the check's comment links the job summary of
// a workflow run (never --target-url, the commit status's link, which is usually empty or a page of
// another kind): the run the comment linked already, else the workflow_run's run, else this run; with
// none known it links none rather than an empty or broken one.
func TestGateCommentLinksTheCheckRun(t *testing.T) {
	const thisRun = "https://github.com/" + evRepo + "/actions/runs/77"
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		old      string // the comment's body before the gate, the marker added
		workflow bool   // a workflow_run event (run 289782451)
		want     string // the link, "" for none
	}{
		{name: "this run", args: []string{"--target-url", "https://dash.example.com/status"}, want: thisRun},
		{name: "no run", env: map[string]string{"GITHUB_RUN_ID": ""}, want: ""},
		{name: "no run, a target URL", env: map[string]string{"GITHUB_RUN_ID": ""},
			args: []string{"--target-url", "https://dash.example.com/status"}, want: ""},
		{name: "the comment's run", old: "old report\n\n<sub>schemagate · [job summary](https://github.com/" + evRepo + "/actions/runs/55)</sub>\n",
			want: "https://github.com/" + evRepo + "/actions/runs/55"},
		{name: "workflow_run", workflow: true, args: []string{"--repo", evRepo}, want: "https://github.com/" + evRepo + "/actions/runs/289782451"},
		{name: "the comment's run, GitHub Enterprise Server", env: map[string]string{"GITHUB_SERVER_URL": "https://ghes.example.com/"},
			old:  "old report\n\n<sub>schemagate · [job summary](https://ghes.example.com/" + evRepo + "/actions/runs/55)</sub>\n\n",
			want: "https://ghes.example.com/" + evRepo + "/actions/runs/55"},
		{name: "the comment's run, from another repository's workflow", env: map[string]string{"GITHUB_REPOSITORY": "octo-ops/dba-gates"},
			args: []string{"--repo", evRepo, "--pr", "2"},
			old:  "old report\n\n<sub>schemagate · [job summary](https://github.com/" + evRepo + "/actions/runs/55)</sub>\n\n",
			want: "https://github.com/" + evRepo + "/actions/runs/55"},
		// A footer link is kept only as schemagate writes it: a run's page of this repository (or
		// --repo's) on this server. Anything else is the comment's text, which quotes the change.
		{name: "another server's page", old: "old report\n\n<sub>schemagate · [job summary](https://evil.example/" + evRepo + "/actions/runs/55)</sub>\n",
			want: thisRun},
		{name: "another repository's run", old: "old report\n\n<sub>schemagate · [job summary](https://github.com/evil/repo/actions/runs/55)</sub>\n",
			want: thisRun},
		{name: "not a run's page", old: "old report\n\n<sub>schemagate · [job summary](https://github.com/" + evRepo + "/actions/runs/55/../../../../evil/x)</sub>\n",
			want: thisRun},
		{name: "a footer not the last line", old: "<sub>schemagate · [job summary](https://github.com/" + evRepo + "/actions/runs/55)</sub>\n\nold report\n",
			want: thisRun},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newGateEnv(t, "approval:\n  require: risky\n")
			e.env["GITHUB_REPOSITORY"] = evRepo
			for k, v := range tt.env {
				e.env[k] = v
			}
			if tt.workflow {
				e.editedEvent(t, "workflow_run.completed.with-pull-requests.payload.json", func(ev map[string]any) {
					ev["workflow_run"].(map[string]any)["head_sha"] = evHead
				})
			}
			var rep report.Report
			if err := json.Unmarshal(readFile(t, e.report), &rep); err != nil {
				t.Fatal(err)
			}
			old := tt.old
			if old == "" {
				old = "old report\n"
			}
			sticky := e.s.AddComment(e.ref, e.s.BotLogin(), old+report.Marker(rep.Dir))
			code, out, errOut := e.run(t, append([]string{"--report", e.report}, tt.args...)...)
			if code != ExitPending {
				t.Fatalf("exit = %d, want %d (pending)\nstdout: %s\nstderr: %s", code, ExitPending, out, errOut)
			}
			body := e.commentBody(sticky)
			if !strings.Contains(body, "DBA approval") {
				t.Fatalf("the comment was not rewritten:\n%s", body)
			}
			if strings.Contains(body, "dash.example.com") || strings.Contains(body, "]()") {
				t.Errorf("the comment links the status's target or nothing:\n%s", body)
			}
			if tt.want == "" {
				if strings.Contains(body, "[job summary]") {
					t.Errorf("the comment links a job summary though no run is known:\n%s", body)
				}
				return
			}
			if !strings.Contains(body, "[job summary]("+tt.want+")") {
				t.Errorf("the comment does not link %s:\n%s", tt.want, body)
			}
		})
	}
}

// TestGateCommentSummaryLinkNotFromSQL: the check's comment quotes the pull request's SQL, which may
// hold a line that looks like schemagate's footer: the gate's rewrite keeps only the link of the
// comment's own footer (the line before its marker), and with none links this run, not the SQL's URL.
func TestGateCommentSummaryLinkNotFromSQL(t *testing.T) {
	e := newGateEnv(t, "approval:\n  require: risky\n")
	var rep report.Report
	if err := json.Unmarshal(readFile(t, e.report), &rep); err != nil {
		t.Fatal(err)
	}
	// The check's comment, posted without a job summary link (schemagate comment outside Actions),
	// quoting a statement of the pull request in a finding.
	old := rep
	old.Migrations = append([]report.Migration(nil), rep.Migrations...)
	old.Migrations[1].Findings = []lint.Finding{{Rule: "add-column-volatile-default", Risk: lint.Dangerous, File: "db/migrations/002_orders_status.up.sql", Line: 1, Column: 1,
		Message: "m", Statement: "-- <sub>schemagate · [job summary](https://evil.example/phish)\nALTER TABLE orders ADD COLUMN status text DEFAULT random()::text;"}}
	body := report.Markdown(&old, report.MarkdownOptions{Marker: report.Marker("db/migrations")})
	if !strings.Contains(body, "evil.example/phish") {
		t.Fatalf("the check's comment does not quote the statement:\n%s", body)
	}
	sticky := e.s.AddComment(e.ref, e.s.BotLogin(), body)
	e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED", CommitSHA: evHead})
	e.event(t, "pull_request_review.submitted.with-organization.payload.json")
	code, out, errOut := e.run(t, "--report", e.report)
	if code != ExitOK {
		t.Fatalf("exit = %d, want %d\nstdout: %s\nstderr: %s", code, ExitOK, out, errOut)
	}
	got := e.commentBody(sticky)
	if !strings.Contains(got, "DBA approval") {
		t.Fatalf("the comment was not rewritten:\n%s", got)
	}
	if strings.Contains(got, "[job summary](https://evil.example/phish)") {
		t.Errorf("the rewrite links the pull request's URL as the job summary:\n%s", got)
	}
	if !strings.Contains(got, "<sub>schemagate · [job summary](https://github.com/"+evRepo+"/actions/runs/77)</sub>") {
		t.Errorf("the rewrite's footer does not link this run:\n%s", got)
	}
}

// TestGitLabGateNoteLinksItsJob: on GitLab the gate's rewrite of the check's note links the pipeline
// and the job's log; --target-url is the commit status's link, not a job log.
func TestGitLabGateNoteLinksItsJob(t *testing.T) {
	e := newGLEnv(t, "orders_status")
	if code, out, errOut := e.run(t, "comment", "--config", folderConfig(t, "db/migrations"), "--report", e.report); code != ExitOK {
		t.Fatalf("comment exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := e.run(t, "gate", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report,
		"--target-url", "https://dash.example.com/status")
	if code != ExitPending {
		t.Fatalf("gate exit %d, want %d\n%s\n%s", code, ExitPending, out, errOut)
	}
	n := 0
	for _, c := range e.s.Comments(e.ref) {
		if c.Author == e.s.BotLogin() && strings.Contains(c.Body, report.Marker("db/migrations")) {
			n++
			if !strings.Contains(c.Body, "### DBA approval") || strings.Contains(c.Body, "dash.example.com") ||
				!strings.Contains(c.Body, "[job log]("+e.env["CI_JOB_URL"]+")") {
				t.Errorf("the note after the gate:\n%s", c.Body)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d report notes, want 1", n)
	}
}

// TestGateStatusLinksThisRun: the commit status's default link is this run's page, in the repository
// the run belongs to (GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID), not in --repo's:
// a gate workflow of another repository (or a workflow_run one) judges --repo's pull request from a
// run that --repo has no page for. --target-url still wins; without a run, the status has no link.
func TestGateStatusLinksThisRun(t *testing.T) {
	const gates = "octo-ops/dba-gates" // the repository whose workflow runs the gate
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		workflow bool // a workflow_run event (run 289782451, the check's)
		want     string
	}{
		{name: "another repository's workflow", env: map[string]string{"GITHUB_REPOSITORY": gates, "GITHUB_RUN_ID": "91"},
			args: []string{"--repo", evRepo, "--pr", "2"}, want: "https://github.com/" + gates + "/actions/runs/91"},
		{name: "GitHub Enterprise Server", env: map[string]string{"GITHUB_REPOSITORY": gates, "GITHUB_RUN_ID": "91", "GITHUB_SERVER_URL": "https://ghes.example.com/"},
			args: []string{"--repo", evRepo, "--pr", "2"}, want: "https://ghes.example.com/" + gates + "/actions/runs/91"},
		{name: "workflow_run", workflow: true, env: map[string]string{"GITHUB_REPOSITORY": gates, "GITHUB_RUN_ID": "92"},
			args: []string{"--repo", evRepo}, want: "https://github.com/" + gates + "/actions/runs/92"},
		{name: "the event's repository", want: "https://github.com/" + evRepo + "/actions/runs/77"},
		{name: "--target-url", env: map[string]string{"GITHUB_REPOSITORY": gates},
			args: []string{"--target-url", "https://dash.example.com/status"}, want: "https://dash.example.com/status"},
		{name: "no run", env: map[string]string{"GITHUB_RUN_ID": ""}, want: ""},
		{name: "no run repository", env: map[string]string{"GITHUB_REPOSITORY": ""}, args: []string{"--repo", evRepo}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newGateEnv(t, "approval:\n  require: risky\n")
			for k, v := range tt.env {
				e.env[k] = v
			}
			if tt.workflow {
				e.editedEvent(t, "workflow_run.completed.with-pull-requests.payload.json", func(ev map[string]any) {
					ev["workflow_run"].(map[string]any)["head_sha"] = evHead
				})
			}
			code, out, errOut := e.run(t, append([]string{"--report", e.report}, tt.args...)...)
			if code != ExitPending {
				t.Fatalf("exit = %d, want %d (pending)\nstdout: %s\nstderr: %s", code, ExitPending, out, errOut)
			}
			if got := e.lastStatus(t).TargetURL; got != tt.want {
				t.Errorf("status link = %q, want %q", got, tt.want)
			}
		})
	}
}
