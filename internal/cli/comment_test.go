package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
	"github.com/schemagate/schemagate/internal/forge/gitlab"
	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/report"
)

const headSHA = "3484a3fb816e0859fd6e1cea078d76385ff50625" // the workflow_run payload's head_sha

func writeReport(t *testing.T, r *report.Report) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "schemagate-report.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func hostileArtifact() *report.Report {
	r := &report.Report{Tool: "schemagate", Dir: "db/migrations", Migrations: []report.Migration{{
		Version: "0002", Name: "x</details>@acme/dba\n/merge", File: "db/migrations/0002.sql", New: true, Status: report.StatusApplied,
		Findings: []lint.Finding{{Rule: "r", Risk: lint.Dangerous, File: "db/migrations/0002.sql", Line: 1, Column: 1,
			Message: "<!-- schemagate:comment dir=db/migrations --> ```` @acme/dba", Statement: "````\n/approve\n</details>"}},
	}}}
	r.Finish()
	r.FailOn, r.FailOnReached = "dangerous @acme/dba <!-- schemagate:comment dir=db/other -->\n/merge", true
	return r
}

func TestCommentFromWorkflowRun(t *testing.T) {
	fake := githubtest.New(t)
	fake.SetInstallationToken(true)
	fake.SetPageSize(1)
	repo := "octo-org/octo-repo"
	ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, Author: "mallory", HeadSHA: headSHA, BaseSHA: "b", BaseRef: "main", Fork: true}, nil)
	fake.AddComment(ref, "octocat", "first")
	fake.AddComment(ref, "octocat", "second")
	env := workflowRunEnv(fake, repo, "GITHUB_RUN_ID", "99", "GITHUB_SERVER_URL", "https://github.com")
	path := writeReport(t, hostileArtifact())
	code, out, errOut := run(t, env, "comment", "--config", folderConfig(t, "db/migrations"), "--report", path)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	cs := fake.Comments(ref)
	if len(cs) != 3 {
		t.Fatalf("%d comments, want 3", len(cs))
	}
	body := cs[2].Body
	marker := report.Marker("db/migrations")
	if strings.Count(body, marker) != 1 || strings.Count(body, "<!--") != 1 {
		t.Errorf("marker forged or missing:\n%s", body)
	}
	if strings.Contains(body, "\n/merge") || strings.Contains(body, " @acme") || strings.Contains(body, "x</details>") {
		t.Errorf("hostile artifact content not inert:\n%s", body)
	}
	// The job summary that holds the report is the checking run's (the event's workflow_run), not this one's.
	if !strings.Contains(body, "[job summary](https://github.com/octo-org/octo-repo/actions/runs/289782451)") || strings.Contains(body, "runs/99") {
		t.Errorf("the comment does not link the checking run's job summary:\n%s", body)
	}
	// Again: updated in place.
	code, out, errOut = run(t, env, "comment", "--config", folderConfig(t, "db/migrations"), "--report", path)
	if code != ExitOK || len(fake.Comments(ref)) != 3 {
		t.Fatalf("second run: exit %d, %d comments\n%s%s", code, len(fake.Comments(ref)), out, errOut)
	}
}

func TestCommentRefusesStaleHead(t *testing.T) {
	fake := githubtest.New(t)
	repo := "acme/shop"
	ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, HeadSHA: "ffff", BaseSHA: "b", BaseRef: "main"}, nil)
	path := writeReport(t, hostileArtifact())
	code, _, errOut := run(t, map[string]string{"GITHUB_TOKEN": githubtest.Token}, "comment", "--config", folderConfig(t, "db/migrations"), "--report", path,
		"--repo", repo, "--pr", "1", "--sha", headSHA, "--api-url", fake.URL())
	// Not a failure: the run for the new head posts.
	if code != ExitOK || !strings.Contains(errOut, "pull request #1 has moved on to ffff; the report is for "+headSHA[:12]+": report not posted") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if len(fake.Comments(ref)) != 0 {
		t.Error("commented on a pull request whose head moved")
	}
}

// TestCommentWorkflowRunStaleOrClosed: from a workflow_run, --pr N still checks the run's head_sha; a
// head that moved, a pull request no longer found by it, or a closed one is a notice (exit 0), while a
// report made for another commit than the run's is refused.
func TestCommentWorkflowRunStaleOrClosed(t *testing.T) {
	repo := "octo-org/octo-repo"
	env := func(fake *githubtest.Server) map[string]string {
		return workflowRunEnv(fake, repo)
	}
	path := writeReport(t, hostileArtifact())
	tests := []struct {
		name  string
		head  string
		state string
		args  []string
		want  string
	}{
		{name: "moved, --pr", head: "ffff", args: []string{"--pr", "1"}, want: "::notice::schemagate comment: pull request #1 has moved on to ffff"},
		{name: "moved, found by sha", head: "ffff", want: "::notice::schemagate comment: no open pull request of octo-org/octo-repo has head " + headSHA[:12] + " any more"},
		{name: "closed", head: headSHA, state: "closed", args: []string{"--pr", "1"}, want: "::notice::schemagate comment: pull request #1 is closed: report not posted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := githubtest.New(t)
			fake.SetInstallationToken(true)
			ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, Author: "mallory", HeadSHA: tt.head, BaseSHA: "b", BaseRef: "main", Fork: true, State: tt.state}, nil)
			code, out, errOut := run(t, env(fake), append([]string{"comment", "--config", folderConfig(t, "db/migrations"), "--report", path}, tt.args...)...)
			if code != ExitOK || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d, want 0 and %q\n%s\n%s", code, tt.want, out, errOut)
			}
			if len(fake.Comments(ref)) != 0 {
				t.Error("commented although the report is not for the pull request's head")
			}
		})
	}
	// A report that records another head than the run's.
	fake := githubtest.New(t)
	fake.SetInstallationToken(true)
	ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, Author: "mallory", HeadSHA: headSHA, BaseSHA: "b", BaseRef: "main", Fork: true}, nil)
	other := hostileArtifact()
	other.Head = "0123456789abcdef0123456789abcdef01234567"
	code, out, errOut := run(t, env(fake), "comment", "--config", folderConfig(t, "db/migrations"), "--report", writeReport(t, other), "--pr", "1")
	if code != ExitUsage || !strings.Contains(out+errOut, "the report was made for commit 0123456789ab, not "+headSHA[:12]) {
		t.Errorf("report for another head: exit %d, want %d\n%s\n%s", code, ExitUsage, out, errOut)
	}
	if len(fake.Comments(ref)) != 0 {
		t.Error("commented a report made for another head")
	}
}

func TestCommentReadOnlyFails(t *testing.T) {
	fake := githubtest.New(t)
	fake.SetReadOnly(true)
	repo := "acme/shop"
	fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, HeadSHA: headSHA, BaseSHA: "b", BaseRef: "main"}, nil)
	path := writeReport(t, hostileArtifact())
	code, _, errOut := run(t, nil, "comment", "--config", folderConfig(t, "db/migrations"), "--report", path, "--repo", repo, "--sha", headSHA,
		"--api-url", fake.URL(), "--token", githubtest.Token)
	if code != ExitFailure || !strings.Contains(errOut, "pull-requests: write") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestCommentUsage(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"tool":"other"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no report", []string{"comment"}, "--report is required"},
		{"no repo", []string{"comment", "--config", folderConfig(t, "db/migrations"), "--report", bad, "--sha", "a", "--token", "x"}, "--repo is required"},
		{"no sha", []string{"comment", "--config", folderConfig(t, "db/migrations"), "--report", bad, "--repo", "a/b", "--token", "x"}, "--sha or --pr"},
		{"no token", []string{"comment", "--config", folderConfig(t, "db/migrations"), "--report", bad, "--repo", "a/b", "--pr", "1"}, "no GitHub token: set GITHUB_TOKEN (in a workflow: env: GITHUB_TOKEN: ${{ github.token }})"},
		{"no token in --token-env", []string{"comment", "--config", folderConfig(t, "db/migrations"), "--report", bad, "--repo", "a/b", "--pr", "1", "--token-env", "MY_TOKEN"}, "no GitHub token: set MY_TOKEN"},
		{"empty --token-env", []string{"comment", "--config", folderConfig(t, "db/migrations"), "--report", bad, "--repo", "a/b", "--pr", "1", "--token-env", ""}, "--token-env: give the name"},
		{"token twice", []string{"comment", "--config", folderConfig(t, "db/migrations"), "--report", bad, "--repo", "a/b", "--pr", "1", "--token", "x", "--token-env", "MY_TOKEN"}, "give --token or --token-env, not both"},
		{"foreign report", []string{"comment", "--config", folderConfig(t, "db/migrations"), "--report", bad, "--repo", "a/b", "--pr", "1", "--token", "x"}, "not schemagate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, nil, tc.args...)
			if code != ExitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d: %s", code, errOut)
			}
		})
	}
}

// TestCommentWithAnAppToken: a GitHub App installation token cannot read GET /user, and its comments
// are written by the App's bot: --bot-login names it, so the sticky comment is updated, not duplicated.
func TestCommentWithAnAppToken(t *testing.T) {
	fake := githubtest.New(t)
	fake.SetAppInstallationToken("dba-gate[bot]")
	repo := "octo-org/octo-repo"
	ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, Author: "mallory", HeadSHA: headSHA, BaseSHA: "b", BaseRef: "main"}, nil)
	env := map[string]string{"GITHUB_REPOSITORY": repo, "GITHUB_API_URL": fake.URL(), "GITHUB_TOKEN": githubtest.Token}
	path := writeReport(t, hostileArtifact())
	for i, want := range []int{1, 1} {
		if code, out, errOut := run(t, env, "comment", "--config", folderConfig(t, "db/migrations"), "--report", path, "--sha", headSHA, "--bot-login", "dba-gate[bot]"); code != ExitOK {
			t.Fatalf("run %d: exit %d\n%s\n%s", i, code, out, errOut)
		}
		if n := len(fake.Comments(ref)); n != want {
			t.Errorf("after run %d: %d comments, want %d", i+1, n, want)
		}
	}
	// Without it the App's comment is not recognised as its own: a second one appears.
	if code, _, errOut := run(t, env, "comment", "--config", folderConfig(t, "db/migrations"), "--report", path, "--sha", headSHA); code != ExitOK || len(fake.Comments(ref)) != 2 {
		t.Errorf("without --bot-login: exit %d, %d comments (want a duplicate, 2)\n%s", code, len(fake.Comments(ref)), errOut)
	}
}

// TestCommentRefusesWhatIsNoReport: {} used to be posted as a report ("failed, risk safe, 0 new
// migrations"). A report of an older or newer schemagate, with fields this one lacks or does not know,
// still posts.
func TestCommentRefusesWhatIsNoReport(t *testing.T) {
	fake := githubtest.New(t)
	repo := "octo-org/octo-repo"
	ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, Author: "mallory", HeadSHA: headSHA, BaseSHA: "b", BaseRef: "main"}, nil)
	env := map[string]string{"GITHUB_REPOSITORY": repo, "GITHUB_API_URL": fake.URL(), "GITHUB_TOKEN": githubtest.Token}
	dir := t.TempDir()
	for _, tc := range []struct {
		name, json, want string
	}{
		{"empty object", `{}`, `not a schemagate report (no "tool": "schemagate", "dir", "ok", "migrations")`},
		{"null", `null`, `not a schemagate report (no "tool": "schemagate", "dir", "ok", "migrations")`},
		{"empty tool", `{"tool": "", "dir": "db", "ok": true, "migrations": []}`, `not a schemagate report (no "tool": "schemagate")`},
		{"no migrations", `{"tool": "schemagate", "dir": "db", "ok": true}`, `not a schemagate report (no "migrations")`},
		{"another tool", `{"tool": "other", "dir": "db", "ok": true, "migrations": []}`, `written by "other", not schemagate`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".json")
			if err := os.WriteFile(path, []byte(tc.json), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := run(t, env, "comment", "--config", folderConfig(t, "db/migrations"), "--report", path, "--sha", headSHA)
			if code != ExitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d (want %d), want %q in:\n%s", code, ExitUsage, tc.want, errOut)
			}
		})
	}
	if n := len(fake.Comments(ref)); n != 0 {
		t.Fatalf("%d comments posted for files that are no report", n)
	}
	// The first version's fields only (no approval_risk, dir_given, fail_on...), and one from the future.
	old := filepath.Join(dir, "old.json")
	src := `{"tool": "schemagate", "version": "0.1.0", "dir": "db/migrations", "format": "golang-migrate", "risk": "safe", "ok": true,` +
		`"migrations": [{"version": "1", "name": "a", "file": "db/migrations/1_a.up.sql", "new": true, "status": "applied"}], "duration_ms": 5, "from_the_future": {"x": 1}}`
	if err := os.WriteFile(old, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(t, env, "comment", "--config", folderConfig(t, "db/migrations"), "--report", old, "--sha", headSHA); code != ExitOK || len(fake.Comments(ref)) != 1 {
		t.Errorf("an older report: exit %d, %d comments\n%s%s", code, len(fake.Comments(ref)), out, errOut)
	}
}

// TestCommentOnePerFolder: db/app-migrations and db/app_migrations used to share a marker, so one
// folder's report overwrote the other's. Now each gets its comment; a comment an earlier version posted
// is still updated, not doubled: by the marker it had (db/migrations), or by the old marker that the
// folder's marker replaced (db/app-migrations). On GitHub and on GitLab.
func TestCommentOnePerFolder(t *testing.T) {
	folderReport := func(t *testing.T, dir string) string {
		r := &report.Report{Tool: "schemagate", Dir: dir, Migrations: []report.Migration{{Version: "1", Name: "init",
			File: dir + "/1_init.up.sql", New: true, Status: report.StatusApplied}}}
		r.Finish()
		return writeReport(t, r)
	}
	type platform struct {
		bot      string
		add      func(author, body string) int64
		comments func() []forge.Comment
		run      func(t *testing.T, dir, report string) (int, string, string)
	}
	for name, setup := range map[string]func(t *testing.T) platform{
		"github": func(t *testing.T) platform {
			fake := githubtest.New(t)
			repo := "acme/shop"
			ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, HeadSHA: headSHA, BaseSHA: "b", BaseRef: "main"}, nil)
			env := map[string]string{"GITHUB_REPOSITORY": repo, "GITHUB_API_URL": fake.URL(), "GITHUB_TOKEN": githubtest.Token}
			return platform{bot: fake.BotLogin(),
				add:      func(author, body string) int64 { return fake.AddComment(ref, author, body) },
				comments: func() []forge.Comment { return fake.Comments(ref) },
				run: func(t *testing.T, dir, report string) (int, string, string) {
					return run(t, env, "comment", "--config", folderConfig(t, dir), "--report", report, "--sha", headSHA)
				}}
		},
		"gitlab": func(t *testing.T) platform {
			e := newGLEnv(t, "init")
			return platform{bot: e.s.BotLogin(),
				add:      func(author, body string) int64 { return e.s.AddComment(e.ref, author, body) },
				comments: func() []forge.Comment { return e.s.Comments(e.ref) },
				run: func(t *testing.T, dir, report string) (int, string, string) {
					return e.run(t, "comment", "--config", folderConfig(t, dir), "--report", report)
				}}
		},
	} {
		t.Run(name, func(t *testing.T) {
			p := setup(t)
			// Written by an earlier version, in its words.
			plain := p.add(p.bot, "old report\n\n<!-- schemagate:comment dir=db/migrations -->")
			dashed := p.add(p.bot, "old report\n\n<!-- schemagate:comment dir=db/app_migrations -->")
			folders := []string{"db/app-migrations", "db/app_migrations", "db/migrations"}
			for round := 1; round <= 2; round++ {
				for _, dir := range folders {
					code, out, errOut := p.run(t, dir, folderReport(t, dir))
					want := "updated"
					if round == 1 && dir == "db/app_migrations" {
						want = "created" // its old comment is now db/app-migrations'
					}
					if code != ExitOK || !strings.Contains(out, " "+want+" ") {
						t.Fatalf("round %d, %s: exit %d, want %q\n%s\n%s", round, dir, code, want, out, errOut)
					}
				}
			}
			ours := map[string]int64{}
			for _, c := range p.comments() {
				if c.Author != p.bot {
					continue
				}
				for _, dir := range folders {
					if strings.Contains(c.Body, report.Marker(dir)) {
						if _, twice := ours[dir]; twice {
							t.Errorf("two comments for %s", dir)
						}
						ours[dir] = c.ID
					}
				}
				if strings.Contains(c.Body, "<!-- schemagate:comment dir=db/app_migrations -->") {
					t.Errorf("comment %d still holds the old shared marker:\n%s", c.ID, c.Body)
				}
			}
			if len(p.comments()) != 3 || ours["db/migrations"] != plain || ours["db/app-migrations"] != dashed || ours["db/app_migrations"] == 0 {
				t.Errorf("%d comments, ours by folder %v; want 3: db/migrations on %d, db/app-migrations on %d, db/app_migrations a new one",
					len(p.comments()), ours, plain, dashed)
			}
		})
	}
}

// TestCommentTokenEnv: comment reads its token from the environment variable --token-env names, as gate
// and deploy do (default GITHUB_TOKEN, then GH_TOKEN), so that it need not be on the command line;
// --token still works, and its help points to --token-env.
func TestCommentTokenEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"--token-env", map[string]string{"SCHEMAGATE_BOT_TOKEN": githubtest.Token, "GITHUB_TOKEN": "not-this-one"}, []string{"--token-env", "SCHEMAGATE_BOT_TOKEN"}},
		{"default GITHUB_TOKEN", map[string]string{"GITHUB_TOKEN": githubtest.Token}, nil},
		{"default GH_TOKEN", map[string]string{"GH_TOKEN": githubtest.Token}, nil},
		{"--token", map[string]string{"GITHUB_TOKEN": "not-this-one"}, []string{"--token", githubtest.Token}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := githubtest.New(t)
			repo := "acme/shop"
			ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, HeadSHA: headSHA, BaseSHA: "b", BaseRef: "main"}, nil)
			tc.env["GITHUB_API_URL"] = fake.URL()
			args := append([]string{"comment", "--config", folderConfig(t, "db/migrations"), "--report", writeReport(t, hostileArtifact()), "--repo", repo, "--sha", headSHA}, tc.args...)
			code, out, errOut := run(t, tc.env, args...)
			if code != ExitOK || !strings.Contains(out, "created on acme/shop#1") || len(fake.Comments(ref)) != 1 {
				t.Errorf("exit %d, %d comments\n%s\n%s", code, len(fake.Comments(ref)), out, errOut)
			}
		})
	}
	_, out, _ := run(t, nil, "comment", "--help")
	for _, want := range []string{"--token-env string", `environment variable holding the GitHub token (default "GITHUB_TOKEN")`, "prefer --token-env"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

// TestCommentShowsNoClaimedApproval: the artifact is its author's word, and only the gate decides an
// approval. A report that says the DBA approved (or blocked) must not be posted as the bot's statement
// that dora approved: the comment says the approval is required and pending, naming no approver, until
// the gate writes its decision.
func TestCommentShowsNoClaimedApproval(t *testing.T) {
	fake := githubtest.New(t)
	fake.SetInstallationToken(true)
	repo := "octo-org/octo-repo"
	ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, Author: "mallory", HeadSHA: headSHA, BaseSHA: "b", BaseRef: "main", Fork: true}, nil)
	env := workflowRunEnv(fake, repo)
	forged := hostileArtifact()
	forged.Approval = &report.Approval{Required: true, State: "approved", Approved: []string{"dora"}, Reason: "approved by dora", Owners: []string{"@dora"}}
	code, out, errOut := run(t, env, "comment", "--config", folderConfig(t, "db/migrations"), "--report", writeReport(t, forged))
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	cs := fake.Comments(ref)
	if len(cs) != 1 {
		t.Fatalf("%d comments, want 1", len(cs))
	}
	if body := cs[0].Body; strings.Contains(body, "**Approved**") || strings.Contains(body, "dora") || !strings.Contains(body, "**Required** and pending") {
		t.Errorf("the comment shows the artifact's claimed approval:\n%s", body)
	}
}

// TestBrokenReportNamesItsPlace: a report that is not valid JSON (an artifact cut short, a hand edit)
// is refused, exit 2, with the line and column where it breaks, by comment and gate alike.
func TestBrokenReportNamesItsPlace(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{name: "bad value", data: "{\n  \"tool\": \"schemagate\",\n  \"dir\": x\n}\n", want: ":3:10: invalid character 'x'"},
		{name: "cut short", data: "{\n  \"tool\": \"schemagaté\",\n", want: ":3:1: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newGateEnv(t, "approval:\n  require: risky\n")
			writeFile(t, e.report, []byte(tt.data))
			code, out, errOut := e.run(t, "--report", e.report)
			if code != ExitUsage || !strings.Contains(errOut, "read report "+e.report+tt.want) {
				t.Errorf("gate: exit %d, want %d naming %s%s\n%s%s", code, ExitUsage, e.report, tt.want, out, errOut)
			}
			code, out, errOut = run(t, map[string]string{"GITHUB_TOKEN": "x"}, "comment", "--config", folderConfig(t, "db/migrations"), "--report", e.report, "--repo", evRepo, "--pr", "2")
			if code != ExitUsage || !strings.Contains(errOut, "read report "+e.report+tt.want) {
				t.Errorf("comment: exit %d, want %d naming %s%s\n%s%s", code, ExitUsage, e.report, tt.want, out, errOut)
			}
		})
	}
}

// TestCommentTakesTheForgesLimit: a report whose comment runs past 65,000 characters is posted whole as a
// GitLab note (GitLab takes 1,000,000) and shortened to GitHub's limit as a pull request comment. Both
// were cut at report.DefaultMaxRunes.
func TestCommentTakesTheForgesLimit(t *testing.T) {
	long := func(dir string) *report.Report {
		m := report.Migration{Version: "2", Name: "orders_status", File: glUp, DownFile: glDown, Checksum: "c2", New: true, Status: report.StatusApplied}
		for i := range 300 {
			m.Findings = append(m.Findings, lint.Finding{Rule: "add-column-volatile-default", Risk: lint.Caution, File: glUp, Line: i + 1, Column: 1,
				Message: fmt.Sprintf("finding %d: %s", i, strings.Repeat("a volatile default rewrites the table ", 8))})
		}
		r := &report.Report{Tool: "schemagate", Dir: dir, Format: "golang-migrate", Migrations: []report.Migration{m}}
		r.Finish()
		return r
	}
	whole := report.Markdown(long("db/migrations"), report.MarkdownOptions{MaxRunes: -1})
	if n := utf8.RuneCountInString(whole); n <= report.DefaultMaxRunes {
		t.Fatalf("the report renders in %d characters: too short to test the limit", n)
	}
	const last = "finding 299"

	t.Run("gitlab", func(t *testing.T) {
		e := newGLEnv(t, "orders_status")
		writeFile(t, e.report, mustJSON(t, long("db/migrations")))
		if code, out, errOut := e.run(t, "comment", "--config", folderConfig(t, "db/migrations"), "--report", e.report); code != ExitOK {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		cs := e.s.Comments(e.ref)
		if len(cs) != 1 {
			t.Fatalf("%d notes, want 1", len(cs))
		}
		body := cs[0].Body
		if n := utf8.RuneCountInString(body); n <= report.DefaultMaxRunes || n > gitlab.MaxNoteLength ||
			!strings.Contains(body, last) || strings.Contains(body, "shortened") {
			t.Errorf("the note has %d characters, want the whole report (more than %d, with %q, not shortened)", n, report.DefaultMaxRunes, last)
		}
	})
	t.Run("github", func(t *testing.T) {
		fake := githubtest.New(t)
		ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, HeadSHA: headSHA, BaseSHA: "b", BaseRef: "main"}, nil)
		path := writeReport(t, long("db/migrations"))
		code, out, errOut := run(t, map[string]string{"GITHUB_TOKEN": githubtest.Token}, "comment", "--config", folderConfig(t, "db/migrations"), "--report", path,
			"--repo", "acme/shop", "--pr", "1", "--api-url", fake.URL())
		if code != ExitOK {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		cs := fake.Comments(ref)
		if len(cs) != 1 {
			t.Fatalf("%d comments, want 1", len(cs))
		}
		body := cs[0].Body
		if n := utf8.RuneCountInString(body); n > report.DefaultMaxRunes+len(report.Marker("db/migrations"))+2 || !strings.Contains(body, "This comment is shortened to fit the size limit") {
			t.Errorf("the comment has %d characters, want it shortened to GitHub's limit:\n%.300s", n, body)
		}
	})
}

// TestCommentShowsNoClaimedExemption: whether the approval is required is the gate's to say too. An
// artifact that says it is not (the state "not-required", or "required": false beside any state) must not
// be posted as the bot's "✅ Not required": the comment says the gate decides. One that says it is
// required stays pending, the check's own claim.
func TestCommentShowsNoClaimedExemption(t *testing.T) {
	repo := "octo-org/octo-repo"
	const gateDecides = "decided by the DBA gate"
	for _, tc := range []struct {
		name     string
		approval report.Approval
		want     string
	}{
		{"not required", report.Approval{Required: false, State: "not-required"}, gateDecides},
		{"required false, pending", report.Approval{Required: false, State: "pending", Reason: "no approval needed"}, gateDecides},
		{"required false, approved", report.Approval{Required: false, State: "approved", Approved: []string{"dora"}}, gateDecides},
		{"required, not-required state", report.Approval{Required: true, State: "not-required"}, gateDecides},
		{"required, pending", report.Approval{Required: true, State: "pending"}, "**Required** and pending"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := githubtest.New(t)
			fake.SetInstallationToken(true)
			ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, Author: "mallory", HeadSHA: headSHA, BaseSHA: "b", BaseRef: "main", Fork: true}, nil)
			env := workflowRunEnv(fake, repo)
			forged := hostileArtifact()
			forged.Approval = &tc.approval
			code, out, errOut := run(t, env, "comment", "--config", folderConfig(t, "db/migrations"), "--report", writeReport(t, forged))
			if code != ExitOK {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			cs := fake.Comments(ref)
			if len(cs) != 1 {
				t.Fatalf("%d comments, want 1", len(cs))
			}
			body := cs[0].Body
			if strings.Contains(body, "Not required") || strings.Contains(body, "no approval needed") || strings.Contains(body, "dora") || !strings.Contains(body, tc.want) {
				t.Errorf("the comment shows the artifact's claim, or does not say %q:\n%s", tc.want, body)
			}
		})
	}
}

// folderConfig writes a schemagate.yml that names the migration folder dir, outside any git repository
// (so that dir is named from the file's folder), and returns its path: the folder a comment is for comes
// from the configuration, never from the report.
func folderConfig(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "schemagate.yml")
	writeFile(t, p, []byte("dir: "+dir+"\n"))
	return p
}

// TestCommentRefusesAnotherFoldersReport: the report's dir picks the comment that comment updates (one
// per folder, by its marker), and a fork's artifact may name any. The folder is the comment's own, from
// the configuration: a report for another folder is refused (exit 2) and the other folder's comment
// stays as the bot wrote it; one for the same folder written otherwise, or naming none, updates this
// folder's comment.
func TestCommentRefusesAnotherFoldersReport(t *testing.T) {
	const billing = "checked: db/billing needs an approval\n\n<!-- schemagate:comment dir=db/billing -->"
	for _, platform := range []string{"github", "gitlab"} {
		for _, tt := range []struct {
			name, dir string
			wantCode  int
			want      string
		}{
			{name: "another folder", dir: "db/billing", wantCode: ExitUsage, want: "which would overwrite that folder's comment"},
			{name: "a folder above", dir: "db", wantCode: ExitUsage, want: "refusing a report for another folder"},
			{name: "escaping", dir: "db/app/../billing", wantCode: ExitUsage, want: "refusing a report for another folder"},
			{name: "the same folder written otherwise", dir: "./db/app/", wantCode: ExitOK},
			{name: "no folder", dir: "", wantCode: ExitOK},
		} {
			t.Run(platform+"/"+tt.name, func(t *testing.T) {
				rep := hostileArtifact()
				rep.Dir = tt.dir
				path := writeReport(t, rep)
				args := []string{"comment", "--config", folderConfig(t, "db/app"), "--report", path}
				var comments func() []forge.Comment
				var code int
				var out, errOut string
				switch platform {
				case "github":
					fake := githubtest.New(t)
					repo := "acme/shop"
					ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, Author: "mallory", HeadSHA: headSHA, BaseSHA: "b", BaseRef: "main", Fork: true}, nil)
					fake.AddComment(ref, fake.BotLogin(), billing)
					comments = func() []forge.Comment { return fake.Comments(ref) }
					env := map[string]string{"GITHUB_REPOSITORY": repo, "GITHUB_API_URL": fake.URL(), "GITHUB_TOKEN": githubtest.Token}
					code, out, errOut = run(t, env, append(args, "--sha", headSHA)...)
				case "gitlab":
					e := newGLEnv(t, "init")
					e.s.AddComment(e.ref, e.s.BotLogin(), billing)
					comments = func() []forge.Comment { return e.s.Comments(e.ref) }
					code, out, errOut = e.run(t, args...)
				}
				cs := comments()
				if tt.wantCode != ExitOK {
					want := fmt.Sprintf(`is for the migration folder %q, but this comment is for "db/app"`, tt.dir)
					if code != tt.wantCode || !strings.Contains(errOut, want) || !strings.Contains(errOut, tt.want) {
						t.Errorf("exit %d, want %d saying %q\n%s\n%s", code, tt.wantCode, want, out, errOut)
					}
					if len(cs) != 1 || cs[0].Body != billing {
						t.Errorf("the comments changed on a refused report: %+v", cs)
					}
					return
				}
				if code != ExitOK {
					t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
				}
				if len(cs) != 2 || cs[0].Body != billing || !strings.Contains(cs[1].Body, report.Marker("db/app")) || !strings.Contains(cs[1].Body, "folder `db/app`") {
					t.Errorf("want db/billing's comment as it was and a new one for db/app, got %+v", cs)
				}
			})
		}
	}
}

// TestCommentOfAForgedHugeReportIsPosted: a fork's artifact can hold fields the check never writes so
// long (a reason of 2,000 bidi controls, 25 ignored findings of 500, a 70,000-character format) that the
// comment came out longer than GitHub takes: the update was refused (422) and the previous comment,
// another head's report, stayed. The comment is bounded whatever the report holds, so the update lands.
func TestCommentOfAForgedHugeReportIsPosted(t *testing.T) {
	fake := githubtest.New(t)
	repo := "acme/shop"
	ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, Author: "mallory", HeadSHA: headSHA, BaseSHA: "b", BaseRef: "main", Fork: true}, nil)
	old := fake.AddComment(ref, fake.BotLogin(), "the report of an earlier head\n\n"+report.Marker("db/migrations"))
	forged := hostileArtifact()
	forged.Format = strings.Repeat("x", 70000)
	forged.Approval = &report.Approval{Required: true, State: "pending", Reason: strings.Repeat("\u202e", 2000)}
	for range 25 {
		forged.Approval.Ignored = append(forged.Approval.Ignored, strings.Repeat("\u202e", 500))
	}
	env := map[string]string{"GITHUB_REPOSITORY": repo, "GITHUB_API_URL": fake.URL(), "GITHUB_TOKEN": githubtest.Token}
	code, out, errOut := run(t, env, "comment", "--config", folderConfig(t, "db/migrations"), "--report", writeReport(t, forged), "--sha", headSHA)
	if code != ExitOK || !strings.Contains(out, fmt.Sprintf("comment %d updated", old)) {
		t.Fatalf("exit %d, want comment %d updated\n%s\n%s", code, old, out, errOut)
	}
	cs := fake.Comments(ref)
	if len(cs) != 1 || strings.Contains(cs[0].Body, "an earlier head") || utf8.RuneCountInString(cs[0].Body) > forge.DefaultMaxCommentRunes-commentRoom {
		t.Errorf("want the one comment updated within the limit, got %d comments, the first of %d characters", len(cs), utf8.RuneCountInString(cs[0].Body))
	}
}

// workflowRunEnv is the environment of a workflow_run job commenting on a pull request of repo through
// fake (the event: a run with pull requests), with kv (name, value, ...) added.
func workflowRunEnv(fake *githubtest.Server, repo string, kv ...string) map[string]string {
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "workflow_run", "GITHUB_REPOSITORY": repo, "GITHUB_API_URL": fake.URL(),
		"GITHUB_EVENT_PATH": filepath.Join("testdata", "github", "workflow_run.completed.with-pull-requests.payload.json"),
		"GITHUB_TOKEN":      githubtest.Token,
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

// TestCommentGitLabNoteFitsAsStored: GitLab keeps a note with a zero-width space before every line that
// starts with a slash, code blocks included (gitlab.SanitizeNote), and refuses one of more than 1,000,000
// characters as stored. A report of many slash lines, shortened to the limit as rendered, was refused,
// and the old note stayed up as if it were this run's.
func TestCommentGitLabNoteFitsAsStored(t *testing.T) {
	r := &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "golang-migrate"}
	r.Migrations = append(r.Migrations, report.Migration{Version: "1", Name: "seed", File: glUp, New: true, Status: report.StatusFailed,
		Error: &report.SQLError{Message: "syntax error", SQLState: "42601", File: glUp, Line: 1, Column: 1, Statement: strings.Repeat("/**/\n", 800)}})
	for i := range 12000 {
		r.Migrations = append(r.Migrations, report.Migration{Version: strconv.Itoa(i + 2), Name: "n", File: glUp, New: true, Status: report.StatusApplied,
			Findings: []lint.Finding{{Rule: "add-column-volatile-default", Risk: lint.Caution, File: glUp, Line: i + 1,
				Message: "adding a column with a volatile default rewrites the table", Statement: "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT clock_timestamp();"}}})
	}
	r.Finish()
	if n := utf8.RuneCountInString(report.Markdown(r, report.MarkdownOptions{MaxRunes: -1})); n <= gitlab.MaxNoteLength {
		t.Fatalf("the report renders in %d characters: too short to test the limit", n)
	}
	e := newGLEnv(t, "orders_status")
	writeFile(t, e.report, mustJSON(t, r))
	if code, out, errOut := e.run(t, "comment", "--config", folderConfig(t, "db/migrations"), "--report", e.report); code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	cs := e.s.Comments(e.ref)
	if len(cs) != 1 {
		t.Fatalf("%d notes, want 1", len(cs))
	}
	if n := utf8.RuneCountInString(cs[0].Body); n > gitlab.MaxNoteLength || !strings.Contains(cs[0].Body, "shortened") {
		t.Errorf("the note has %d characters (limit %d), want a shortened report within the limit", n, gitlab.MaxNoteLength)
	}
}

// TestForgedReportLinksNoPage: in the fork workflow the report is the fork's artifact, every field its
// author's. A finding's URL must not become a link in the bot's comment, neither as schemagate comment
// posts it nor as the gate rewrites it: a made-up rule is shown as code, and a known rule links its own
// documentation page whatever URL the report gives it.
func TestForgedReportLinksNoPage(t *testing.T) {
	e := newGateEnv(t, "approval:\n  require: risky\n")
	const file = "db/migrations/002_orders_status.up.sql"
	forged := &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "golang-migrate", Head: evHead, Migrations: []report.Migration{{
		Version: "002", Name: "orders_status", File: file, DownFile: "db/migrations/002_orders_status.down.sql", Checksum: "c2", New: true, Status: report.StatusApplied,
		Findings: []lint.Finding{
			{Rule: "reviewed-by-dba-see-ticket", Risk: lint.Safe, File: file, Line: 1, Column: 1, Message: "m", URL: "https://evil.example/sso-login"},
			{Rule: "add-column-volatile-default", Risk: lint.Dangerous, File: file, Line: 1, Column: 1, Message: "m", URL: "https://evil.example/rules"},
		}}}}
	e.gateReport(t, forged)
	docs := "[add\\-column\\-volatile\\-default](" + lint.DocsBase + "add-column-volatile-default.md)"
	check := func(step, body string) {
		t.Helper()
		if strings.Contains(body, "evil.example") {
			t.Errorf("%s: the comment links the report's URL:\n%s", step, body)
		}
		if !strings.Contains(body, "`reviewed-by-dba-see-ticket` at ") {
			t.Errorf("%s: the made-up rule is not shown as code:\n%s", step, body)
		}
		if !strings.Contains(body, docs) {
			t.Errorf("%s: the known rule does not link its page %s:\n%s", step, docs, body)
		}
	}
	commentThenGate(t, e, check)
}

// commentThenGate posts e's report with schemagate comment and checks the comment, the pull request's
// only one, then runs the gate, which must stay pending, and checks the comment it rewrote.
func commentThenGate(t *testing.T, e *gateEnv, check func(step, body string)) {
	t.Helper()
	only := func(step string) {
		t.Helper()
		cs := e.s.Comments(e.ref)
		if len(cs) != 1 {
			t.Fatalf("%s: %d comments, want 1", step, len(cs))
		}
		check(step, cs[0].Body)
	}
	var stdout, stderr bytes.Buffer
	app := &App{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return e.env[k] }, Version: "test"}
	if code := app.Run(t.Context(), []string{"comment", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report,
		"--repo", evRepo, "--pr", "2"}); code != ExitOK {
		t.Fatalf("comment: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	only("schemagate comment")
	if code, out, errOut := e.run(t, "--report", e.report); code != ExitPending {
		t.Fatalf("gate: exit %d, want %d (pending)\n%s\n%s", code, ExitPending, out, errOut)
	}
	only("the gate's rewrite")
}

// TestForgedSummaryRecomputed: a fork's artifact whose summary contradicts its migrations (it says it
// passed, risk safe, over a failed migration it rates safe with no finding) is shown as its migrations
// give it, by schemagate comment and by the gate's rewrite of the comment, with a note of what it said:
// the headline read "✅ schemagate: passed, risk safe" over a table row "❌ failed". A report whose
// risk alone is forged was said to be riskier "for the DBA approval, which counts the findings the
// author ignored", though nothing was ignored.
func TestForgedSummaryRecomputed(t *testing.T) {
	const file = "db/migrations/002_orders_status.up.sql"
	failed := func() *report.Report {
		r := &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "golang-migrate", Head: evHead, Migrations: []report.Migration{{
			Version: "002", Name: "orders_status", File: file, DownFile: "db/migrations/002_orders_status.down.sql", Checksum: "c2", New: true,
			Status: report.StatusFailed, Findings: []lint.Finding{},
			Error: &report.SQLError{Message: `relation "orders" does not exist`, SQLState: "42P01", File: file, Line: 1, Column: 13, Phase: "up"}}}}
		r.Finish()
		if r.OK || r.Risk != lint.Dangerous {
			t.Fatalf("the real report: ok %v, risk %s; want a failed, dangerous one", r.OK, r.Risk)
		}
		return r
	}
	all := failed()
	all.OK, all.Risk, all.ApprovalRisk, all.Migrations[0].Risk = true, lint.Safe, lint.Safe, lint.Safe
	riskOnly := failed()
	riskOnly.Risk = lint.Safe
	const headline = "## ❌ schemagate: failed, risk **dangerous**\n"
	for _, tt := range []struct {
		name   string
		forged *report.Report
		said   string
	}{
		{"everything forged", all, "it said passed; risk safe; 002_orders_status risk safe."},
		{"risk forged", riskOnly, "it said risk safe."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newGateEnv(t, "approval:\n  require: risky\n")
			writeFile(t, e.report, mustJSON(t, tt.forged)) // as forged: no Finish
			check := func(step, body string) {
				t.Helper()
				if !strings.HasPrefix(body, headline) || strings.Contains(body, "for the DBA approval") {
					t.Errorf("%s: the headline is not %q alone:\n%s", step, headline, body)
				}
				if !strings.Contains(body, "| 🛑 dangerous | ❌ failed |") {
					t.Errorf("%s: the failed migration is not rated dangerous:\n%s", step, body)
				}
				if !strings.Contains(body, report.Text(tt.said)) {
					t.Errorf("%s: no note that the report said %q:\n%s", step, tt.said, body)
				}
			}
			commentThenGate(t, e, check)
		})
	}
}
