package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
	"github.com/schemagate/schemagate/internal/gate"
	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/report"
)

// The event payloads in testdata/github are GitHub's own examples (octokit/webhooks): pull request #2 of
// Codertocat/Hello-World, head ec26c3e.
const (
	evRepo = "Codertocat/Hello-World"
	evHead = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
	evBase = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
)

type gateEnv struct {
	s       *githubtest.Server
	ref     forge.Ref
	dir     string
	env     map[string]string
	summary string
	report  string
}

func newGateEnv(t *testing.T, policy string) *gateEnv {
	t.Helper()
	s := githubtest.New(t)
	s.SetInstallationToken(true) // the Actions GITHUB_TOKEN: GET /user is refused
	ref := s.AddChangeRequest(forge.ChangeRequest{
		Ref: forge.Ref{Repo: evRepo, Number: 2}, Title: "Update the README with new information.", Author: "Codertocat",
		HeadSHA: evHead, BaseSHA: evBase, BaseRef: "master",
	}, []string{"db/migrations/002_orders_status.up.sql", "db/migrations/002_orders_status.down.sql"})
	s.SetFile(evRepo, ".github/CODEOWNERS", evBase, []byte("* @Codertocat\n/db/migrations/ @dora\n"))
	// The pull request's files at its head, which the gate reads back to check the report.
	s.SetFile(evRepo, "db/migrations/002_orders_status.up.sql", evHead, []byte("ALTER TABLE orders ADD COLUMN status text DEFAULT random()::text;\n"))
	s.SetFile(evRepo, "db/migrations/002_orders_status.down.sql", evHead, []byte("ALTER TABLE orders DROP COLUMN status;\n"))
	dir := t.TempDir()
	rep := &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "golang-migrate", Migrations: []report.Migration{
		{Version: "001", Name: "init", File: "db/migrations/001_init.up.sql", Checksum: "c1", Status: report.StatusBase},
		{Version: "002", Name: "orders_status", File: "db/migrations/002_orders_status.up.sql", DownFile: "db/migrations/002_orders_status.down.sql",
			Checksum: "c2", New: true, Status: report.StatusApplied, Findings: []lint.Finding{{Rule: "add-column-volatile-default", Risk: lint.Dangerous}}},
	}}
	rep.Finish()
	e := &gateEnv{s: s, ref: ref, dir: dir, summary: filepath.Join(dir, "summary.md"), report: filepath.Join(dir, "report.json")}
	writeFile(t, e.report, mustJSON(t, rep))
	writeFile(t, filepath.Join(dir, "schemagate.yml"), []byte(withDir(policy)))
	e.env = map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_TOKEN":        githubtest.Token,
		"GITHUB_API_URL":      s.URL(),
		"GITHUB_STEP_SUMMARY": e.summary,
		"GITHUB_REPOSITORY":   evRepo,
		"GITHUB_RUN_ID":       "77",
		"GITHUB_SERVER_URL":   "https://github.com",
	}
	e.event(t, "pull_request.opened.with-organization.payload.json")
	return e
}

// withDir is policy with dir: db/migrations first when it names no folder, as the schemagate.yml that
// schemagate init writes does: the gate judges a report only on the folder its own configuration
// names, and the harness's reports are of db/migrations.
func withDir(policy string) string {
	if strings.HasPrefix(policy, "dir:") || strings.Contains(policy, "\ndir:") {
		return policy
	}
	return "dir: db/migrations\n" + policy
}

func (e *gateEnv) event(t *testing.T, name string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "github", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(e.dir, "event.json")
	writeFile(t, p, data)
	e.env["GITHUB_EVENT_PATH"] = p
}

// editedEvent is event with the payload changed by edit first.
func (e *gateEnv) editedEvent(t *testing.T, name string, edit func(ev map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "github", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	edit(ev)
	p := filepath.Join(e.dir, "event.json")
	writeFile(t, p, mustJSON(t, ev))
	e.env["GITHUB_EVENT_PATH"] = p
}

func (e *gateEnv) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	app := &App{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return e.env[k] }, Version: "test"}
	args = append([]string{"gate", "--config", filepath.Join(e.dir, "schemagate.yml")}, args...)
	code := app.Run(t.Context(), args)
	return code, stdout.String(), stderr.String()
}

func (e *gateEnv) lastStatus(t *testing.T) forge.Status {
	t.Helper()
	sts := e.s.Statuses(evRepo, evHead)
	if len(sts) == 0 {
		t.Fatal("no commit status was set on the head commit")
	}
	return sts[len(sts)-1]
}

func writeFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGateEndToEnd(t *testing.T) {
	e := newGateEnv(t, "approval:\n  require: risky\n")
	e.s.Expect("POST /repos/{owner}/{repo}/statuses/{sha}")
	e.s.Expect("GET /repos/{owner}/{repo}/contents/{path...}")

	code, out, errOut := e.run(t, "--report", e.report)
	if code != ExitPending {
		t.Fatalf("first gate exit = %d, want %d (pending)\nstdout: %s\nstderr: %s", code, ExitPending, out, errOut)
	}
	st := e.lastStatus(t)
	if st.Context != gate.StatusContext || st.State != "pending" || !strings.Contains(st.Description, "@dora") ||
		st.TargetURL != "https://github.com/"+evRepo+"/actions/runs/77" {
		t.Errorf("status after the first run = %+v, want pending naming @dora with the run's link", st)
	}
	if len(e.s.Comments(e.ref)) != 0 {
		t.Errorf("a pending gate wrote a comment")
	}

	// The DBA approves the head commit; the pull_request_review workflow runs the gate again.
	e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED", CommitSHA: evHead})
	e.event(t, "pull_request_review.submitted.with-organization.payload.json")
	code, out, errOut = e.run(t, "--report", e.report, "--update-report")
	if code != ExitOK {
		t.Fatalf("gate after approval exit = %d, want 0\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if st := e.lastStatus(t); st.State != "success" || st.Description != "Approved by dora" {
		t.Errorf("status after approval = %+v, want success by dora", st)
	}
	if !strings.Contains(out, "approved — approved by dora") {
		t.Errorf("stdout = %q", out)
	}
	// The record binds the approval to the SQL, written by the bot, readable by the deploy job.
	f, err := github.New(github.Options{Token: githubtest.Token, BaseURL: e.s.URL(), FallbackLogin: github.ActionsBotLogin})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := gate.LatestApproval(t.Context(), f, e.ref)
	if err != nil {
		t.Fatalf("LatestApproval: %v", err)
	}
	var rep report.Report
	data, _ := os.ReadFile(e.report)
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if !rec.Approves(gate.Checksum(&rep)) || rec.HeadSHA != evHead {
		t.Errorf("record = %+v, want an approval of the report's checksum on %s", rec, evHead)
	}
	if rep.Approval == nil || rep.Approval.State != gate.Approved || rep.Approval.Checksum != rec.Checksum {
		t.Errorf("--update-report wrote approval %+v", rep.Approval)
	}
	summary, _ := os.ReadFile(e.summary)
	if !strings.Contains(string(summary), "DBA approval: pending") || !strings.Contains(string(summary), "DBA approval: approved") {
		t.Errorf("job summary lacks the two decisions:\n%s", summary)
	}

	// Changes requested: blocked, and the record no longer approves.
	e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "CHANGES_REQUESTED", CommitSHA: evHead})
	if code, out, _ := e.run(t, "--report", e.report); code != ExitBlocked {
		t.Errorf("gate after changes requested exit = %d, want %d\n%s", code, ExitBlocked, out)
	}
	if st := e.lastStatus(t); st.State != "failure" {
		t.Errorf("status after changes requested = %+v, want failure", st)
	}
	if rec, _ := gate.LatestApproval(t.Context(), f, e.ref); rec == nil || rec.Approves(gate.Checksum(&rep)) {
		t.Errorf("record after changes requested = %+v, want no approval", rec)
	}
}

func TestGateWorkflowRunFindsPullRequestBySHA(t *testing.T) {
	e := newGateEnv(t, "")
	// workflow_run of a fork: no pull_requests in the payload, only the head SHA.
	e.s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: evRepo, Number: 9}, Author: "eve",
		HeadSHA: "3484a3fb816e0859fd6e1cea078d76385ff50625", BaseSHA: evBase, BaseRef: "master", Fork: true}, nil)
	e.editedEvent(t, "workflow_run.completed.with-pull-requests.payload.json", func(ev map[string]any) {
		ev["workflow_run"].(map[string]any)["pull_requests"] = []any{}
	})
	e.s.Expect("GET /repos/{owner}/{repo}/commits/{sha}/pulls")
	code, out, errOut := e.run(t, "--report", e.report, "--repo", evRepo, "--no-record")
	if code != ExitPending {
		t.Fatalf("exit = %d\n%s\n%s", code, out, errOut)
	}
	if sts := e.s.Statuses(evRepo, "3484a3fb816e0859fd6e1cea078d76385ff50625"); len(sts) != 1 {
		t.Errorf("statuses on the fork's head = %+v, want one", sts)
	}
}

func TestGateReadOnlyTokenStillDecides(t *testing.T) {
	e := newGateEnv(t, "")
	e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED", CommitSHA: evHead})
	e.s.SetReadOnly(true)
	code, out, errOut := e.run(t, "--report", e.report)
	if code != ExitOK {
		t.Errorf("exit = %d, want 0: the decision stands even when it cannot be posted\n%s", code, errOut)
	}
	if !strings.Contains(out, "::warning::schemagate gate: notice: commit status skipped: the token cannot write") {
		t.Errorf("stdout = %q, stderr = %q, want an annotation about the skipped status", out, errOut)
	}
}

func TestGateNotRequiredAndStatic(t *testing.T) {
	e := newGateEnv(t, "approval:\n  require: never\n")
	if code, out, errOut := e.run(t, "--report", e.report); code != ExitOK || !strings.Contains(out, "not-required") {
		t.Errorf("require never: exit %d\n%s\n%s", code, out, errOut)
	}
	if st := e.lastStatus(t); st.State != "success" || !strings.HasPrefix(st.Description, "Not required") {
		t.Errorf("status = %+v", st)
	}
	// Without --report the new migrations are read and analysed from the folder.
	mig := filepath.Join(e.dir, "db", "migrations")
	if err := os.MkdirAll(mig, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(mig, "002_orders_status.up.sql"), []byte("SET lock_timeout = '2s';\nSET statement_timeout = '30s';\nALTER TABLE orders ADD COLUMN status text;\n"))
	writeFile(t, filepath.Join(mig, "002_orders_status.down.sql"), []byte("ALTER TABLE orders DROP COLUMN status;\n"))
	if out, err := exec.Command("git", "init", "-q", e.dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	writeFile(t, filepath.Join(e.dir, "schemagate.yml"), []byte("approval:\n  require: risky\n"))
	if code, out, errOut := e.run(t, "--dir", mig, "--format", "golang-migrate"); code != ExitOK || !strings.Contains(out, "not-required") {
		t.Fatalf("static gate on an adding migration: exit %d, want 0 not-required\n%s\n%s", code, out, errOut)
	}
	writeFile(t, filepath.Join(mig, "003_orders_amount.up.sql"), []byte("ALTER TABLE orders ALTER COLUMN amount TYPE bigint;\n"))
	writeFile(t, filepath.Join(mig, "003_orders_amount.down.sql"), []byte("ALTER TABLE orders ALTER COLUMN amount TYPE integer;\n"))
	code, out, errOut := e.run(t, "--dir", mig, "--format", "golang-migrate", "--json")
	if code != ExitPending {
		t.Fatalf("static gate exit = %d, want pending\n%s\n%s", code, out, errOut)
	}
	var d gate.Decision
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	// The folder is named from the repository root, so the CODEOWNERS rule /db/migrations/ applies.
	if d.State != gate.Pending || d.Risk != lint.Dangerous || d.Checksum == "" || strings.Join(d.Owners, ",") != "@dora" {
		t.Errorf("decision = %+v, want pending on @dora", d)
	}
}

func TestGateUsage(t *testing.T) {
	e := newGateEnv(t, "")
	delete(e.env, "GITHUB_TOKEN")
	if code, _, errOut := e.run(t, "--report", e.report); code != ExitUsage || !strings.Contains(errOut, "GITHUB_TOKEN") {
		t.Errorf("no token: exit %d, %q", code, errOut)
	}
	e = newGateEnv(t, "approval:\n  require: sometimes\n")
	if code, _, errOut := e.run(t, "--report", e.report); code != ExitUsage || !strings.Contains(errOut, "approval.require") {
		t.Errorf("bad policy: exit %d, %q", code, errOut)
	}
	e = newGateEnv(t, "")
	delete(e.env, "GITHUB_EVENT_PATH")
	if code, _, errOut := e.run(t, "--report", e.report, "--repo", evRepo); code != ExitUsage || !strings.Contains(errOut, "--pr") {
		t.Errorf("no PR: exit %d, %q", code, errOut)
	}
	e = newGateEnv(t, "")
	if code, _, errOut := e.run(t, "--report", e.report, "--pr", "404"); code != ExitUsage || !strings.Contains(errOut, "not found") {
		t.Errorf("missing PR: exit %d, %q", code, errOut)
	}
}

// TestCheckThenGate is the pull request flow end to end: the check rehearses the branch's new migrations
// on a real PostgreSQL and writes its report; the gate reads it, finds the dangerous index build owned
// by the DBA in the base branch's CODEOWNERS, and waits; the DBA approves; the gate passes. Statuses
// reach the fake GitHub API.
func TestCheckThenGate(t *testing.T) {
	requirePG(t)
	mig := shopRepo(t, []string{"0001", "0002", "0003"}, []string{"0004"})

	e := newGateEnv(t, "approval:\n  require: risky\n")
	reportPath := filepath.Join(e.dir, "check.json")
	var stdout, stderr bytes.Buffer
	check := &App{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }, Version: "test"}
	if code := check.Run(t.Context(), []string{"check", "--dir", mig, "--base", "main", "--report-json", reportPath, "-q"}); code != ExitOK {
		t.Fatalf("check: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	var rep report.Report
	data, _ := os.ReadFile(reportPath)
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Dir != "db/migrations" || rep.Risk != lint.Dangerous || len(rep.New()) != 1 {
		t.Fatalf("check report: dir %q risk %s, %d new; want db/migrations, dangerous, 1", rep.Dir, rep.Risk, len(rep.New()))
	}

	// The check's sticky comment, as the action or `schemagate comment` writes it.
	code, out, errOut := runCLI(t, e.env, "comment", "--config", folderConfig(t, "db/migrations"), "--report", reportPath, "--repo", evRepo, "--pr", "2")
	if code != ExitOK {
		t.Fatalf("comment: exit %d\n%s\n%s", code, out, errOut)
	}
	reportComment := func() string {
		t.Helper()
		for _, c := range e.s.Comments(e.ref) {
			if strings.Contains(c.Body, report.Marker("db/migrations")) {
				return c.Body
			}
		}
		t.Fatal("no report comment")
		return ""
	}
	if body := reportComment(); !strings.Contains(body, "**Required** and pending") {
		t.Errorf("the check's comment does not say approval is required:\n%s", body)
	}

	code, out, errOut = e.run(t, "--report", reportPath)
	if code != ExitPending {
		t.Fatalf("gate before approval: exit %d, want %d\n%s\n%s", code, ExitPending, out, errOut)
	}
	if st := e.lastStatus(t); st.State != "pending" || !strings.Contains(st.Description, "dora") {
		t.Errorf("status %+v, want pending naming dora", st)
	}
	e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED", CommitSHA: evHead})
	code, out, errOut = e.run(t, "--report", reportPath)
	if code != ExitOK {
		t.Fatalf("gate after approval: exit %d\n%s\n%s", code, out, errOut)
	}
	if st := e.lastStatus(t); st.State != "success" {
		t.Errorf("status %+v, want success", st)
	}
	if body := reportComment(); !strings.Contains(body, "**Approved** by `dora`") || strings.Contains(body, "pending") {
		t.Errorf("the comment's approval section was not updated:\n%s", body)
	}
	n := 0
	for _, c := range e.s.Comments(e.ref) {
		if strings.Contains(c.Body, report.Marker("db/migrations")) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d report comments, want 1", n)
	}
}

// TestGateListsCommentsOnce: the gate reads the pull request's comments for its approval record, its
// saved decision and its sticky report comment; on a busy pull request each read is several pages of
// API calls, so one run lists them once until it writes a comment.
func TestGateListsCommentsOnce(t *testing.T) {
	e := newGateEnv(t, "approval:\n  require: risky\n")
	e.s.SetPageSize(2)
	for i := range 4 {
		e.s.AddComment(e.ref, "someone", fmt.Sprintf("comment %d", i))
	}
	var rep report.Report
	if err := json.Unmarshal(readFile(t, e.report), &rep); err != nil {
		t.Fatal(err)
	}
	sticky := e.s.AddComment(e.ref, e.s.BotLogin(), "old report\n"+report.Marker(rep.Dir))
	listings := func() int {
		n := 0
		for _, r := range e.s.Requests() {
			if strings.HasPrefix(r, "GET ") && strings.Contains(r, fmt.Sprintf("/issues/%d/comments", e.ref.Number)) {
				n++
			}
		}
		return n
	}
	code, out, errOut := e.run(t, "--report", e.report)
	if code != ExitPending {
		t.Fatalf("exit = %d, want %d (pending)\nstdout: %s\nstderr: %s", code, ExitPending, out, errOut)
	}
	if n := listings(); n != 3 { // one listing of three pages
		t.Fatalf("a pending gate fetched %d pages of comments, want 3 (one listing)", n)
	}
	for _, c := range e.s.Comments(e.ref) {
		if c.ID == sticky && (strings.Contains(c.Body, "old report") || !strings.Contains(c.Body, "@dora")) {
			t.Fatalf("the sticky report comment was not brought up to date with the decision:\n%s", c.Body)
		}
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStaticReportAgainstBase: the gate's static report (no rehearsal) judges a folder against its base
// as the rehearsal does: an edited applied migration is part of the change and failed, a new one before
// the base's last is failed (schemagate deploy refuses it), and a changed Flyway repeatable migration is new while an unchanged one is not.
func TestStaticReportAgainstBase(t *testing.T) {
	read := func(files map[string]string, format migrate.Format) *migrate.Set {
		fsys := fstest.MapFS{}
		for k, v := range files {
			fsys[k] = &fstest.MapFile{Data: []byte(v)}
		}
		set, err := migrate.Read(fsys, format)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	base := read(map[string]string{"10_a.up.sql": "CREATE TABLE a (id bigint);", "20_b.up.sql": "CREATE TABLE b\n(id bigint);"}, migrate.FormatGolangMigrate)
	// 20 differs in line endings only (a checkout with core.autocrlf): no edit.
	cur := read(map[string]string{"10_a.up.sql": "CREATE TABLE a (id bigint, note text);", "20_b.up.sql": "CREATE TABLE b\r\n(id bigint);",
		"15_c.up.sql": "CREATE TABLE c (id bigint);"}, migrate.FormatGolangMigrate)
	rep := staticReport("db", cur, base, nil, lint.Config{})
	var got []string
	for _, m := range rep.Migrations {
		var rules []string
		for _, f := range m.Findings {
			if f.Source == "history" {
				rules = append(rules, f.Rule+"@"+f.File)
			}
		}
		got = append(got, fmt.Sprintf("%s:%s:%v%v", m.Version, m.Status, m.New, rules))
	}
	want := "10:failed:true[edited-applied-migration@db/10_a.up.sql] 15:failed:true[out-of-order-migration@db/15_c.up.sql] 20:base:false[]"
	if strings.Join(got, " ") != want || rep.OK || rep.Risk != lint.Dangerous {
		t.Errorf("static report %q (ok %v, risk %s), want %q, not ok, dangerous", strings.Join(got, " "), rep.OK, rep.Risk, want)
	}

	fbase := read(map[string]string{"V1__t.sql": "CREATE TABLE t (id bigint);", "R__v.sql": "CREATE VIEW v AS SELECT 1;", "R__w.sql": "CREATE VIEW w AS SELECT 1;"}, migrate.FormatFlyway)
	fcur := read(map[string]string{"V1__t.sql": "CREATE TABLE t (id bigint);", "R__v.sql": "CREATE VIEW v AS SELECT 1;", "R__w.sql": "CREATE VIEW w AS SELECT 2;"}, migrate.FormatFlyway)
	got = nil
	for _, m := range staticReport("db", fcur, fbase, nil, lint.Config{}).Migrations {
		got = append(got, fmt.Sprintf("%s:%v", m.Label(), m.New))
	}
	if strings.Join(got, " ") != "1_t:false v:false w:true" {
		t.Errorf("repeatables %q, want only the changed w new", strings.Join(got, " "))
	}
}

// TestGateWorkflowRunIgnoresOtherPullRequests: the real payload lists, under pull_requests, PR #2 of
// another repository (GitHub lists pull requests of every repository with a branch of that name) at
// another head. The gate must judge the pull request whose head is the run's commit, in its own
// repository, and set the status on that commit only.
func TestGateWorkflowRunIgnoresOtherPullRequests(t *testing.T) {
	const repo, runHead = "octo-org/octo-repo", "3484a3fb816e0859fd6e1cea078d76385ff50625"
	e := newGateEnv(t, "")
	e.s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo, Number: 2}, Author: "mallory",
		HeadSHA: "2222222222222222222222222222222222222222", BaseSHA: evBase, BaseRef: "master"}, nil)
	e.s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo, Number: 9}, Author: "eve",
		HeadSHA: runHead, BaseSHA: evBase, BaseRef: "master"}, nil)
	e.s.SetFile(repo, ".github/CODEOWNERS", evBase, []byte("/db/migrations/ @dora\n"))
	e.env["GITHUB_EVENT_PATH"] = filepath.Join("testdata", "github", "workflow_run.completed.with-pull-requests.payload.json")
	e.s.Expect("GET /repos/{owner}/{repo}/commits/{sha}/pulls")
	code, out, errOut := e.run(t, "--report", e.report, "--repo", repo, "--no-record")
	if code != ExitPending {
		t.Fatalf("exit = %d\n%s\n%s", code, out, errOut)
	}
	if sts := e.s.Statuses(repo, runHead); len(sts) != 1 {
		t.Errorf("statuses on the run's commit = %+v, want one", sts)
	}
	if sts := e.s.Statuses(repo, "2222222222222222222222222222222222222222"); len(sts) != 0 {
		t.Errorf("statuses on an unrelated pull request's head = %+v, want none", sts)
	}
}

// TestGateRateLimitSaysWhatToDo: when GitHub keeps refusing for its rate limit, the error comes with what
// to do about it.
func TestGateRateLimitSaysWhatToDo(t *testing.T) {
	e := newGateEnv(t, "")
	e.s.RateLimitNext(1000)
	code, out, errOut := e.run(t, "--report", e.report)
	if code != ExitFailure || !strings.Contains(errOut, "rate limit") || !strings.Contains(errOut, "  hint: re-run the job later") {
		t.Errorf("exit %d, want 1 with the rate limit's hint\n%s\n%s", code, out, errOut)
	}
}

// gateReport writes rep as e's report.
func (e *gateEnv) gateReport(t *testing.T, rep *report.Report) {
	t.Helper()
	rep.Finish()
	writeFile(t, e.report, mustJSON(t, rep))
}

// TestGateReportTiedToHead: a report is judged only on the head it was made for. A pull request that
// moved on is a notice (exit 0, nothing set: the run for the new head decides); a report for another
// commit than the event's is refused.
func TestGateReportTiedToHead(t *testing.T) {
	const moved = "1111111111111111111111111111111111111111"
	t.Run("report head moved, --pr", func(t *testing.T) {
		e := newGateEnv(t, "approval:\n  require: risky\n")
		delete(e.env, "GITHUB_EVENT_PATH")
		e.gateReport(t, &report.Report{Tool: "schemagate", Dir: "db/migrations", Head: evHead, Migrations: []report.Migration{}})
		e.s.SetHead(e.ref, moved)
		code, out, errOut := e.run(t, "--report", e.report, "--repo", evRepo, "--pr", "2")
		if code != ExitOK || !strings.Contains(out+errOut, "pull request #2 has moved on to 111111111111; the report is for ec26c3e57ca3: nothing decided") {
			t.Errorf("exit %d, want 0 and a notice\n%s\n%s", code, out, errOut)
		}
		if sts := e.s.Statuses(evRepo, moved); len(sts) != 0 {
			t.Errorf("status set on the new head from a report of the old one: %+v", sts)
		}
	})
	t.Run("workflow_run head moved, --pr", func(t *testing.T) {
		e := newGateEnv(t, "")
		e.event(t, "workflow_run.completed.with-pull-requests.payload.json") // head_sha 3484a3f…
		code, out, errOut := e.run(t, "--report", e.report, "--repo", evRepo, "--pr", "2")
		if code != ExitOK || !strings.Contains(out+errOut, "::notice::schemagate gate: pull request #2 has moved on to ec26c3e57ca3") {
			t.Errorf("exit %d, want 0 and a notice\n%s\n%s", code, out, errOut)
		}
		if sts := e.s.Statuses(evRepo, evHead); len(sts) != 0 {
			t.Errorf("status set from the report of another commit: %+v", sts)
		}
	})
	t.Run("workflow_run head gone", func(t *testing.T) {
		e := newGateEnv(t, "")
		e.event(t, "workflow_run.completed.with-pull-requests.payload.json")
		code, out, errOut := e.run(t, "--report", e.report, "--repo", evRepo)
		if code != ExitOK || !strings.Contains(out+errOut, "no open pull request of "+evRepo+" has head 3484a3fb816e any more") {
			t.Errorf("exit %d, want 0 and a notice\n%s\n%s", code, out, errOut)
		}
	})
	t.Run("report for another commit than the event", func(t *testing.T) {
		e := newGateEnv(t, "")
		e.gateReport(t, &report.Report{Tool: "schemagate", Dir: "db/migrations", Head: moved, Migrations: []report.Migration{}})
		code, out, errOut := e.run(t, "--report", e.report)
		if code != ExitUsage || !strings.Contains(errOut, "the report was made for commit 111111111111, but the run was for ec26c3e57ca3") {
			t.Errorf("exit %d, want %d\n%s\n%s", code, ExitUsage, out, errOut)
		}
		if sts := e.s.Statuses(evRepo, evHead); len(sts) != 0 {
			t.Errorf("status set from a report of another commit: %+v", sts)
		}
	})
}

// TestGateRelintsTheChangeAsOne: the gate's own lint of the pull request's files takes its new
// migrations as one change, as the check did: an index on the table an earlier one of them creates is
// safe, and a report that says so passes.
func TestGateRelintsTheChangeAsOne(t *testing.T) {
	create, index := "db/migrations/010_orders.up.sql", "db/migrations/011_orders_customer.up.sql"
	createSQL := []byte("CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);\n")
	indexSQL := []byte("CREATE INDEX orders_customer_idx ON orders (customer_id);\n")
	e := newGateEnv(t, "approval:\n  require: risky\n")
	delete(e.env, "GITHUB_EVENT_PATH")
	// #3 takes the harness's head commit: #2 moves off it, or its migration, which nobody approved,
	// would keep the status that #3 shares with it pending (TestGateSameHeadNeedsEachApproval).
	e.s.SetHead(e.ref, "0123456789abcdef0123456789abcdef01234567")
	e.s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: evRepo, Number: 3}, Title: "orders", Author: "Codertocat",
		HeadSHA: evHead, BaseSHA: evBase, BaseRef: "master"}, []string{create, index})
	e.s.SetFile(evRepo, create, evHead, createSQL)
	e.s.SetFile(evRepo, index, evHead, indexSQL)
	e.gateReport(t, &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "golang-migrate", Head: evHead, Migrations: []report.Migration{
		{Version: "010", Name: "orders", File: create, FileBlob: githubtest.BlobSHA(createSQL), Checksum: "c10", New: true, Status: report.StatusApplied},
		{Version: "011", Name: "orders_customer", File: index, FileBlob: githubtest.BlobSHA(indexSQL), Checksum: "c11", New: true, Status: report.StatusApplied},
	}})
	code, out, errOut := e.run(t, "--report", e.report, "--repo", evRepo, "--pr", "3", "--no-record")
	if code != ExitOK || strings.Contains(out, "the gate's own lint") {
		t.Errorf("exit %d, want 0 without a finding of the gate's own lint\n%s\n%s", code, out, errOut)
	}
	if st := e.lastStatus(t); st.State != "success" {
		t.Errorf("status = %+v, want success", st)
	}
}

// TestGateDistrustsReport: the gate checks a report against the pull request's changed files at its
// head. A forged report that leaves a new migration out, or calls it safe, still needs the DBA; an
// honest safe report passes.
func TestGateDistrustsReport(t *testing.T) {
	up, down := "db/migrations/002_orders_status.up.sql", "db/migrations/002_orders_status.down.sql"
	safeSQL := []byte("SET lock_timeout = '2s';\nSET statement_timeout = '30s';\nALTER TABLE orders ADD COLUMN status text;\n")
	dangerousSQL := []byte("ALTER TABLE orders ALTER COLUMN amount TYPE bigint;\n")
	listed := func(blob string) []report.Migration {
		return []report.Migration{{Version: "002", Name: "orders_status", File: up, DownFile: down, FileBlob: blob, Checksum: "c2", New: true, Status: report.StatusApplied}}
	}
	tests := []struct {
		name       string
		content    []byte
		migrations []report.Migration
		wantCode   int
		want       string
	}{
		{name: "forged: no migrations", content: safeSQL, migrations: []report.Migration{}, wantCode: ExitPending,
			want: up + ": the report does not list it as a new migration; counted as dangerous"},
		{name: "forged: dangerous called safe", content: dangerousSQL, migrations: listed(""), wantCode: ExitPending,
			want: up + ": the gate's own lint of the pull request's file finds it dangerous, the report said safe"},
		{name: "other content", content: safeSQL, migrations: listed(githubtest.BlobSHA(dangerousSQL)), wantCode: ExitPending,
			want: up + ": the report was made for other content of it; counted as dangerous"},
		{name: "honest and safe", content: safeSQL, migrations: listed(githubtest.BlobSHA(safeSQL)), wantCode: ExitOK, want: "not-required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newGateEnv(t, "approval:\n  require: risky\n")
			e.s.SetFile(evRepo, up, evHead, tt.content)
			e.gateReport(t, &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "golang-migrate", Head: evHead, Migrations: tt.migrations})
			e.s.Expect("GET /repos/{owner}/{repo}/pulls/{number}/files")
			code, out, errOut := e.run(t, "--report", e.report, "--no-record")
			if code != tt.wantCode || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want %d and %q\n%s\n%s", code, tt.wantCode, tt.want, out, errOut)
			}
			want := "pending"
			if tt.wantCode == ExitOK {
				want = "success"
			}
			if st := e.lastStatus(t); st.State != want {
				t.Errorf("status = %+v, want %s", st, want)
			}
		})
	}
}

// TestGateJudgesItsOwnFolder: the folder decides which changed files a report must vouch for and whose
// CODEOWNERS rules apply, and a fork's report may name any. With CODEOWNERS giving every file but the
// migrations to mallory, a report that is honest but for "dir": "docs" made mallory's approval enough.
// The gate judges the folder its own schemagate.yml (the target branch's) names: a report for another
// is refused (exit 2, no status), one for the same folder written otherwise is judged, and without a
// dir in schemagate.yml the folder is the default, which a report for db/migrations is not.
func TestGateJudgesItsOwnFolder(t *testing.T) {
	const refused = "refusing a report for another folder"
	for _, tt := range []struct {
		name, policy, dir string
		wantCode          int
		want              string
	}{
		{name: "the gate's folder", dir: "db/migrations", wantCode: ExitPending, want: "needs 1 more approval from @dora"},
		{name: "the gate's folder written otherwise", dir: "./db/migrations/", wantCode: ExitPending, want: "needs 1 more approval from @dora"},
		{name: "another folder", dir: "docs", wantCode: ExitUsage, want: `is for the migration folder "docs", but the gate judges "db/migrations"`},
		{name: "a folder above", dir: "db", wantCode: ExitUsage, want: refused},
		{name: "a folder below", dir: "db/migrations/archive", wantCode: ExitUsage, want: refused},
		{name: "the root", dir: "/", wantCode: ExitUsage, want: refused},
		{name: "escaping", dir: "db/migrations/../../docs", wantCode: ExitUsage, want: refused},
		{name: "no dir in schemagate.yml", policy: "approval:\n  require: risky\n", dir: "db/migrations", wantCode: ExitUsage,
			want: "set dir in schemagate.yml on the target branch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newGateEnv(t, "dir: db/migrations\napproval:\n  require: risky\n")
			if tt.policy != "" {
				writeFile(t, filepath.Join(e.dir, "schemagate.yml"), []byte(tt.policy))
			}
			e.s.SetFile(evRepo, ".github/CODEOWNERS", evBase, []byte("* @mallory\n/db/migrations/ @dora\n"))
			var rep report.Report
			if err := json.Unmarshal(readFile(t, e.report), &rep); err != nil {
				t.Fatal(err)
			}
			rep.Dir = tt.dir
			writeFile(t, e.report, mustJSON(t, &rep))
			e.s.AddReview(e.ref, forge.Review{Author: "mallory", State: "APPROVED", CommitSHA: evHead})
			code, out, errOut := e.run(t, "--report", e.report)
			if code != tt.wantCode || !strings.Contains(out+errOut, tt.want) {
				t.Fatalf("dir %q: exit %d, want %d and %q\n%s\n%s", tt.dir, code, tt.wantCode, tt.want, out, errOut)
			}
			sts := e.s.Statuses(evRepo, evHead)
			switch {
			case tt.wantCode == ExitUsage && len(sts) != 0:
				t.Errorf("statuses %+v on a refused report, want none", sts)
			case tt.wantCode == ExitPending && (len(sts) == 0 || sts[len(sts)-1].State != "pending"):
				t.Errorf("statuses %+v, want pending", sts)
			}
		})
	}
}

// TestGateDeletedMigrationNeedsApproval: a pull request that deletes an applied migration, or renames it
// (GitHub's previous_filename) out of the folder, changes what databases know by that name, and a fork's
// report can leave it out and list nothing new, which made it "not required". Whatever the report
// says, the gate counts such a file as a deleted applied migration of dangerous risk whose owners, at
// the path it had, must approve: here mallory owns everything but the migrations (attic/ included) and
// approves, and @dora is still asked. A report that lists the deletion as the check does is taken as it
// is (dora's approval is enough); one that lists it as safe is raised.
func TestGateDeletedMigrationNeedsApproval(t *testing.T) {
	const (
		up   = "db/migrations/001_init.up.sql"
		down = "db/migrations/001_init.down.sql"
	)
	base := report.Migration{Version: "001", Name: "init", File: up, DownFile: down, Checksum: "c1", Status: report.StatusBase}
	deleted := func(risk lint.Risk) report.Migration {
		m := base
		m.New, m.Status = true, report.StatusFailed
		if risk < lint.Dangerous {
			m.Status = report.StatusApplied // a failed migration is dangerous, whatever its findings
		}
		m.Findings = []lint.Finding{{Rule: "deleted-applied-migration", Risk: risk, File: up, Line: 1, Column: 1}}
		return m
	}
	for _, tt := range []struct {
		name      string
		files     []string
		listed    report.Migration
		approver  string
		wantCode  int
		want      string
		wantState string
	}{
		{name: "deleted, the report silent", files: []string{"-" + up, "-" + down}, listed: base, approver: "mallory", wantCode: ExitPending,
			want: up + ": the pull request deletes it; counted as dangerous", wantState: "pending"},
		{name: "renamed out of the folder, the report silent", files: []string{"attic/001_init.up.sql\x00" + up}, listed: base, approver: "mallory", wantCode: ExitPending,
			want: up + ": the pull request renames it to attic/001_init.up.sql; counted as dangerous", wantState: "pending"},
		{name: "renamed within the folder, the report silent", files: []string{"db/migrations/003_init.up.sql\x00" + up}, listed: base, approver: "mallory", wantCode: ExitPending,
			want: up + ": the pull request renames it to db/migrations/003_init.up.sql; counted as dangerous", wantState: "pending"},
		{name: "deleted, listed as safe", files: []string{"-" + up, "-" + down}, listed: deleted(lint.Safe), approver: "mallory", wantCode: ExitPending,
			want: up + ": the pull request deletes it; counted as dangerous", wantState: "pending"},
		{name: "deleted, listed as the check lists it", files: []string{"-" + up, "-" + down}, listed: deleted(lint.Dangerous), approver: "dora", wantCode: ExitOK,
			want: "approved by dora", wantState: "success"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newGateEnv(t, "dir: db/migrations\napproval:\n  require: risky\n")
			e.s.SetFile(evRepo, ".github/CODEOWNERS", evBase, []byte("* @mallory\n/db/migrations/ @dora\n"))
			e.s.SetPullFiles(e.ref, tt.files)
			e.gateReport(t, &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "golang-migrate", Migrations: []report.Migration{tt.listed}})
			e.s.AddReview(e.ref, forge.Review{Author: tt.approver, State: "APPROVED", CommitSHA: evHead})
			code, out, errOut := e.run(t, "--report", e.report, "--json")
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tt.wantCode, out, errOut)
			}
			var d gate.Decision
			if err := json.Unmarshal([]byte(out), &d); err != nil {
				t.Fatalf("--json output: %v\n%s", err, out)
			}
			if !strings.Contains(d.Reason+strings.Join(d.Notes, "\n"), tt.want) {
				t.Errorf("decision %+v, want %q", d, tt.want)
			}
			if tt.wantCode == ExitPending && (d.Risk != lint.Dangerous || strings.Join(d.Owners, ",") != "@dora") {
				t.Errorf("decision %+v, want dangerous and pending on @dora, the owner of the path the file had", d)
			}
			if st := e.lastStatus(t); st.State != tt.wantState {
				t.Errorf("status %+v, want %s", st, tt.wantState)
			}
		})
	}
}

// TestGateUpdatesTheCommentOfAnEarlierVersion: a report comment posted by a version that wrote the
// folder db/app-migrations into its marker as db/app_migrations is still brought up to date with the
// decision, and carries the folder's own marker from then on.
func TestGateUpdatesTheCommentOfAnEarlierVersion(t *testing.T) {
	e := newGateEnv(t, "dir: db/app-migrations\napproval:\n  require: risky\n")
	var rep report.Report
	if err := json.Unmarshal(readFile(t, e.report), &rep); err != nil {
		t.Fatal(err)
	}
	rep.Dir = "db/app-migrations"
	writeFile(t, e.report, mustJSON(t, &rep))
	// Owned by dora, not only by the author (* @Codertocat), whose approval can never come.
	e.s.SetFile(evRepo, ".github/CODEOWNERS", evBase, []byte("* @Codertocat\n/db/ @dora\n"))
	sticky := e.s.AddComment(e.ref, e.s.BotLogin(), "old report\n\n<!-- schemagate:comment dir=db/app_migrations -->")
	code, out, errOut := e.run(t, "--report", e.report)
	if code != ExitPending {
		t.Fatalf("exit = %d, want %d (pending)\nstdout: %s\nstderr: %s", code, ExitPending, out, errOut)
	}
	for _, c := range e.s.Comments(e.ref) {
		if c.ID == sticky && (strings.Contains(c.Body, "old report") || !strings.Contains(c.Body, "### DBA approval") ||
			!strings.Contains(c.Body, report.Marker("db/app-migrations")) || strings.Contains(c.Body, "dir=db/app_migrations")) {
			t.Fatalf("the old sticky report comment was not brought up to date with the decision:\n%s", c.Body)
		}
	}
}

// TestGateRefusesAPartialFileList: GitHub lists at most 3000 files of a pull request. A migration file
// beyond them would be neither checked against the report nor need its owners: the gate fails (exit 1)
// saying why and what to do, and sets no status, rather than approve on the part listed.
func TestGateRefusesAPartialFileList(t *testing.T) {
	e := newGateEnv(t, "approval:\n  require: risky\n")
	delete(e.env, "GITHUB_EVENT_PATH")
	files := make([]string, 0, githubtest.MaxFiles+1)
	for i := range githubtest.MaxFiles {
		files = append(files, fmt.Sprintf("web/assets/icon%04d.svg", i))
	}
	hidden := "db/migrations/003_drop_orders.up.sql"
	files = append(files, hidden)
	e.s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: evRepo, Number: 3}, Title: "icons", Author: "Codertocat",
		HeadSHA: evHead, BaseSHA: evBase, BaseRef: "master"}, files)
	e.s.SetFile(evRepo, hidden, evHead, []byte("DROP TABLE orders;\n"))
	e.gateReport(t, &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "golang-migrate", Head: evHead, Migrations: []report.Migration{}})
	code, out, errOut := e.run(t, "--report", e.report, "--repo", evRepo, "--pr", "3")
	want := "the pull request changes 3001 files and GitHub lists at most 3000 of a pull request's files, so the files beyond cannot be checked; split the pull request"
	if code != ExitFailure || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, want 1 saying %q\n%s\n%s", code, want, out, errOut)
	}
	if sts := e.s.Statuses(evRepo, evHead); len(sts) != 0 {
		t.Errorf("status set on a pull request whose files could not all be listed: %+v", sts)
	}
}

// TestGateAtGitHubsFileCap: a pull request of exactly 3000 files is listed whole ("Responses include a
// maximum of 3000 files"; changed_files says 3000): the gate decides, and the migration file listed last,
// which the report does not vouch for, counts as dangerous and needs its owner.
func TestGateAtGitHubsFileCap(t *testing.T) {
	e := newGateEnv(t, "approval:\n  require: risky\n")
	delete(e.env, "GITHUB_EVENT_PATH")
	files := make([]string, 0, githubtest.MaxFiles)
	for i := range githubtest.MaxFiles - 1 {
		files = append(files, fmt.Sprintf("web/assets/icon%04d.svg", i))
	}
	last := "db/migrations/003_drop_orders.up.sql"
	files = append(files, last)
	e.s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: evRepo, Number: 3}, Title: "icons", Author: "Codertocat",
		HeadSHA: evHead, BaseSHA: evBase, BaseRef: "master"}, files)
	e.s.SetFile(evRepo, last, evHead, []byte("DROP TABLE orders;\n"))
	e.gateReport(t, &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "golang-migrate", Head: evHead, Migrations: []report.Migration{}})
	code, out, errOut := e.run(t, "--report", e.report, "--repo", evRepo, "--pr", "3", "--no-record")
	if code != ExitPending || !strings.Contains(out, last+": the report does not list it as a new migration; counted as dangerous") || !strings.Contains(out, "@dora") {
		t.Errorf("exit %d, want %d (pending on @dora for %s)\n%s\n%s", code, ExitPending, last, out, errOut)
	}
}

// TestGateLargeCodeOwners: GitHub inlines no file over 1 MB in its contents API, yet loads a CODEOWNERS
// up to 3 MB: the gate reads such a file whole and decides by it. From 3 MB GitHub ignores the file (no
// owner is asked for a review): the gate fails (exit 1) saying so and sets no status, rather than decide
// by owners who own nothing on GitHub, or without the owners the DBAs wrote down.
func TestGateLargeCodeOwners(t *testing.T) {
	owners := "* @Codertocat\n/db/migrations/ @dora\n"
	padded := func(size int) []byte {
		line := "# generated ownership, see the platform team's wiki\n"
		return []byte(strings.Repeat(line, (size-len(owners))/len(line)+1) + owners)
	}
	t.Run("over 1 MB", func(t *testing.T) {
		e := newGateEnv(t, "approval:\n  require: risky\n")
		e.s.SetFile(evRepo, ".github/CODEOWNERS", evBase, padded(1_500_000))
		e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED", CommitSHA: evHead})
		code, out, errOut := e.run(t, "--report", e.report, "--no-record")
		if code != ExitOK || !strings.Contains(out, "approved by dora") {
			t.Errorf("exit %d, want 0 approved by dora\n%s\n%s", code, out, errOut)
		}
	})
	t.Run("3 MB", func(t *testing.T) {
		e := newGateEnv(t, "approval:\n  require: risky\n")
		e.s.SetFile(evRepo, ".github/CODEOWNERS", evBase, padded(gate.MaxGitHubCodeOwners))
		e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED", CommitSHA: evHead})
		code, out, errOut := e.run(t, "--report", e.report, "--no-record")
		want := "GitHub does not load a CODEOWNERS file of 3 MB or more, so its owners own nothing on GitHub and the gate will not decide who may approve; make it smaller"
		if code != ExitFailure || !strings.Contains(errOut, ".github/CODEOWNERS at f95f852 is ") || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, want 1 saying %q\n%s\n%s", code, want, out, errOut)
		}
		if sts := e.s.Statuses(evRepo, evHead); len(sts) != 0 {
			t.Errorf("status set by the owners of a CODEOWNERS GitHub ignores: %+v", sts)
		}
	})
}

// TestGateListsTheFilesOnce: with --report, the gate checks the report against the pull request's files
// and decides whose approval their migrations need: one listing of the files (each page asked once, and
// the pull request read once for changed_files along with it) serves both.
func TestGateListsTheFilesOnce(t *testing.T) {
	e := newGateEnv(t, "approval:\n  require: risky\n")
	e.s.SetPageSize(1) // the two files over two pages
	code, out, errOut := e.run(t, "--report", e.report, "--no-record")
	if code != ExitPending {
		t.Fatalf("exit %d, want %d (pending)\n%s\n%s", code, ExitPending, out, errOut)
	}
	pages := map[string]int{}
	for _, r := range e.s.Requests() {
		if strings.HasPrefix(r, "GET "+githubtest.Prefix+"/repos/"+evRepo+"/pulls/2/files") {
			pages[r]++
		}
	}
	if len(pages) != 2 {
		t.Errorf("file pages asked: %v, want the two pages", pages)
	}
	for r, n := range pages {
		if n != 1 {
			t.Errorf("%s asked %d times, want once", r, n)
		}
	}
}

// TestGateStaticTiedToEventHead: without --report the gate judges the working tree, the checkout of the
// event's head. When the pull request has moved on since (a push after the event fired, its run still
// queued), that tree is not the head's: a status from it would land on a head whose migrations it never
// read (a safe migration pushed, then a dangerous one: the first run could mark the second head green).
// It is a notice, exit 0, and nothing is set, as with --report and on GitLab.
func TestGateStaticTiedToEventHead(t *testing.T) {
	const moved = "1111111111111111111111111111111111111111"
	e := newGateEnv(t, "approval:\n  require: risky\n")
	mig := filepath.Join(e.dir, "db", "migrations")
	if err := os.MkdirAll(mig, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(mig, "002_orders_status.up.sql"), []byte("SET lock_timeout = '2s';\nSET statement_timeout = '30s';\nALTER TABLE orders ADD COLUMN status text;\n"))
	writeFile(t, filepath.Join(mig, "002_orders_status.down.sql"), []byte("ALTER TABLE orders DROP COLUMN status;\n"))
	if out, err := exec.Command("git", "init", "-q", e.dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	e.s.SetHead(e.ref, moved) // the event (pull_request.opened) is for evHead
	code, out, errOut := e.run(t, "--dir", mig, "--format", "golang-migrate")
	if code != ExitOK || !strings.Contains(out+errOut, "pull request #2 has moved on to 111111111111") {
		t.Errorf("exit %d, want 0 and a notice that the pull request moved on\n%s\n%s", code, out, errOut)
	}
	if sts := e.s.Statuses(evRepo, moved); len(sts) != 0 {
		t.Errorf("status set on the new head from the tree of the old one: %+v", sts)
	}
}

// TestGateDistrustsFlywaySettings: a pull request's migration can look safe alone and run otherwise:
// Flyway replaces placeholders that flyway.conf or flyway.toml (in the folder, or where Flyway runs) or
// the script's own .sql.conf set, and the settings also decide transactions and, in a folder of another
// tool, that Flyway reads it at all. A report (which its author may have written) vouches for the SQL
// files only, so a settings file the change adds or edits counts as dangerous: here SELECT '${x}' with
// x set to close the string and drop a table.
func TestGateDistrustsFlywaySettings(t *testing.T) {
	up := "db/migrations/V2__orders_report.sql"
	upSQL := []byte("SELECT '${x}';\n")
	for _, conf := range []string{"db/migrations/flyway.conf", "flyway.toml", "db/migrations/V2__orders_report.sql.conf"} {
		t.Run(conf, func(t *testing.T) {
			e := newGateEnv(t, "approval:\n  require: risky\n")
			delete(e.env, "GITHUB_EVENT_PATH")
			e.s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: evRepo, Number: 3}, Title: "orders report", Author: "Codertocat",
				HeadSHA: evHead, BaseSHA: evBase, BaseRef: "master"}, []string{up, conf})
			e.s.SetFile(evRepo, up, evHead, upSQL)
			e.s.SetFile(evRepo, conf, evHead, []byte("flyway.placeholders.x='; DROP TABLE orders; --\n"))
			e.gateReport(t, &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "flyway", Head: evHead, Migrations: []report.Migration{
				{Version: "2", Name: "orders_report", File: up, FileBlob: githubtest.BlobSHA(upSQL), Checksum: "c2", New: true, Status: report.StatusApplied},
			}})
			code, out, errOut := e.run(t, "--report", e.report, "--repo", evRepo, "--pr", "3", "--no-record")
			if code != ExitPending || !strings.Contains(out, conf+": ") || !strings.Contains(out, "counted as dangerous") {
				t.Errorf("exit %d, want %d (pending) with %s counted as dangerous\n%s\n%s", code, ExitPending, conf, out, errOut)
			}
		})
	}
}

// TestGateHeadMovesWhileDeciding: the gate reads the pull request's files back, one request each, before
// it decides; a push in between makes the decision one of the old head's files. It must not land on the
// new head (a safe head checked while a dangerous one is pushed would mark the dangerous one green): a
// notice, exit 0, and no status, as for a pull request that moved on before the run.
func TestGateHeadMovesWhileDeciding(t *testing.T) {
	const moved = "1111111111111111111111111111111111111111"
	up, down := "db/migrations/002_orders_status.up.sql", "db/migrations/002_orders_status.down.sql"
	safeSQL := []byte("SET lock_timeout = '2s';\nSET statement_timeout = '30s';\nALTER TABLE orders ADD COLUMN status text;\n")
	e := newGateEnv(t, "approval:\n  require: risky\n")
	e.s.SetFile(evRepo, up, evHead, safeSQL)
	e.gateReport(t, &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "golang-migrate", Head: evHead, Migrations: []report.Migration{
		{Version: "002", Name: "orders_status", File: up, DownFile: down, FileBlob: githubtest.BlobSHA(safeSQL), Checksum: "c2", New: true, Status: report.StatusApplied},
	}})
	target, err := url.Parse(strings.TrimSuffix(e.s.URL(), githubtest.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/contents/"+up) {
			once.Do(func() { e.s.SetHead(e.ref, moved) }) // pushed while the gate reads the file back
		}
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	e.env["GITHUB_API_URL"] = proxy.URL + githubtest.Prefix
	code, out, errOut := e.run(t, "--report", e.report, "--no-record")
	if code != ExitOK || !strings.Contains(out+errOut, "pull request #2 has moved on to 111111111111") {
		t.Errorf("exit %d, want 0 and a notice that the pull request moved on\n%s\n%s", code, out, errOut)
	}
	if sts := e.s.Statuses(evRepo, moved); len(sts) != 0 {
		t.Errorf("status set on the head pushed while the gate judged the one before: %+v", sts)
	}
}
