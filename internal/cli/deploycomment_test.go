package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/ci"
	"github.com/schemagate/schemagate/internal/deploy"
	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
	"github.com/schemagate/schemagate/internal/forge/gitlab/gitlabtest"
	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestDeployCommentOfAnEnvironmentWithAnEscapedName: the deploy comment's marker escapes the
// environment's name now (deploy.CommentMarker); the comment an earlier version marked with the name as
// it was is updated, not left beside a new one.
func TestDeployCommentOfAnEnvironmentWithAnEscapedName(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	s := githubtest.New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop", Number: 9}, Author: "alice", HeadSHA: "h1", BaseSHA: "b1",
		BaseRef: "main", State: "closed", Merged: true}, []string{"migrations/1_a.up.sql"})
	s.AddComment(ref, s.BotLogin(), "deployed by an earlier version\n\n<!-- schemagate:deploy eu west -->")
	work := t.TempDir()
	migs := filepath.Join(work, "migrations")
	if err := os.MkdirAll(migs, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(migs, "1_a.up.sql"), []byte("CREATE TABLE a (id int);"))
	writeFile(t, filepath.Join(migs, "1_a.down.sql"), []byte("DROP TABLE a;"))
	cfg := filepath.Join(work, "schemagate.yml")
	writeFile(t, cfg, []byte("dir: "+migs+"\nformat: golang-migrate\nenvironments:\n  eu west:\n    snapshot: {kind: none}\n    database_url_env: SG_URL\n"))
	env := map[string]string{"SG_URL": url, "GITHUB_TOKEN": githubtest.Token}
	code, out, errOut := runCLI(t, env, "deploy", "--env", "eu west", "--config", cfg, "--repo", "acme/shop", "--pr", "9", "--api-url", s.URL())
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	cs := s.Comments(ref)
	if len(cs) != 1 || !strings.HasSuffix(cs[0].Body, deploy.CommentMarker("eu west")) || strings.Contains(cs[0].Body, "earlier version") {
		t.Errorf("comments %+v; want the earlier version's updated, with marker %q", cs, deploy.CommentMarker("eu west"))
	}
}

// longFolder is deployFolder with n migrations (n ≤ 9999) whose names are 220 characters long: the
// deploy's Markdown has a row of some 250 characters for each.
func longFolder(t *testing.T, n int, extra string) string {
	t.Helper()
	files := map[string]string{}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("%04d_%s", i, strings.Repeat("add_a_column", 20)[:220])
		files[name+".up.sql"] = "SELECT 1;"
		files[name+".down.sql"] = "SELECT 1;"
	}
	return deployFolder(t, files, extra)
}

// ciEnv is what a GitHub Actions job gives a deploy: the database, the token, the run (whose page shows
// the job summary) and a job summary file holding before.
func ciEnv(t *testing.T, url, before string) (map[string]string, string) {
	t.Helper()
	summary := filepath.Join(t.TempDir(), "step_summary")
	writeFile(t, summary, []byte(before))
	return map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": url, "GITHUB_TOKEN": githubtest.Token, "GITHUB_STEP_SUMMARY": summary,
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "7"}, summary
}

const runURL = "https://github.com/acme/shop/actions/runs/7"

// wholeMarkdown is the deploy's Markdown uncut, from its JSON report.
func wholeMarkdown(t *testing.T, jsonReport string) string {
	t.Helper()
	b, err := os.ReadFile(jsonReport)
	if err != nil {
		t.Fatal(err)
	}
	var res deploy.Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	return res.Markdown()
}

// TestDeployCommentWithinGitHubsLimit: a first deploy of many migrations wrote its whole Markdown as the
// comment, which GitHub refuses past 65,536 characters (422 "Body is too long"): the pull request got
// no comment. The comment now fits, says what it left out and where the full report is (the job
// summary, which holds it whole, and the JSON report), and the deploy exits 0.
func TestDeployCommentWithinGitHubsLimit(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	s := githubtest.New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop", Number: 9}, Author: "alice", HeadSHA: "h1", BaseSHA: "b1",
		BaseRef: "main", State: "closed", Merged: true}, nil)
	cfg := longFolder(t, 300, "")
	js := filepath.Join(filepath.Dir(cfg), "deploy.json")
	env, summary := ciEnv(t, url, "")
	code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--repo", "acme/shop", "--pr", "9", "--api-url", s.URL(), "--report-json", js)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out[max(0, len(out)-2000):], errOut)
	}
	whole := wholeMarkdown(t, js)
	if n := utf8.RuneCountInString(whole); n <= 65536 {
		t.Fatalf("the deploy's Markdown has %d characters, within GitHub's limit: the test proves nothing", n)
	}
	cs := s.Comments(ref)
	if len(cs) != 1 {
		t.Fatalf("%d comments, want 1\n%s", len(cs), errOut)
	}
	body := cs[0].Body
	if n := utf8.RuneCountInString(body); n > 65536 {
		t.Errorf("comment of %d characters", n)
	}
	for _, want := range []string{
		"### ✅ schemagate: deployed 300 migrations to prod\n",
		"> [!NOTE]\n> This comment is shortened to fit the size limit; left out: ", "the rows of the migrations past the first ",
		"> The full report is in the [job summary](" + runURL + ") and the JSON report `" + js + "`.\n",
		"more migrations left out* |",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q; it ends:\n%s", want, body[max(0, len(body)-1000):])
		}
	}
	if !strings.HasSuffix(body, deploy.CommentMarker("prod")) {
		t.Errorf("comment does not end with its marker")
	}
	if b, err := os.ReadFile(summary); err != nil || string(b) != whole+"\n" {
		t.Errorf("the job summary is not the whole Markdown (%v)", err)
	}
	if strings.Contains(errOut, "warning") || strings.Contains(errOut, "WARN") {
		t.Errorf("stderr warns:\n%s", errOut)
	}
}

// TestDeploySummaryWithinTheRunnersLimit: the deploy appended its whole Markdown to the job summary,
// whatever the step had written there: past 1 MiB the runner drops the step's summary whole ("upload
// aborted"). It now writes what the file has room for, saying what it left out and where the full
// report is.
func TestDeploySummaryWithinTheRunnersLimit(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	cfg := longFolder(t, 300, "")
	js := filepath.Join(filepath.Dir(cfg), "deploy.json")
	before := strings.Repeat("an earlier command of this step wrote this line\n", (ci.MaxSummaryBytes-40_000)/48)
	env, summary := ciEnv(t, url, before)
	code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--report-json", js)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out[max(0, len(out)-2000):], errOut)
	}
	if n := len(wholeMarkdown(t, js)); n <= 40_000 {
		t.Fatalf("the deploy's Markdown has %d bytes: it fits the room the test leaves, which proves nothing", n)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > ci.MaxSummaryBytes {
		t.Errorf("job summary of %d bytes, over the runner's %d", len(b), ci.MaxSummaryBytes)
	}
	got, ok := strings.CutPrefix(string(b), before)
	if !ok {
		t.Fatalf("the job summary lost what the step wrote before")
	}
	for _, want := range []string{
		"### ✅ schemagate: deployed 300 migrations to prod\n",
		"> [!NOTE]\n> This summary is shortened to fit the size limit; left out: ", "the rows of the migrations past the first ",
		"> The full report is the JSON report `" + js + "` and the log of the [CI job](" + runURL + ").\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("job summary lacks %q; it ends:\n%s", want, got[max(0, len(got)-1000):])
		}
	}
}

// TestDeployCommentRefusedIsAWarning: a comment the forge refuses does not change how the deploy
// exits, which says what state the database is in; stderr warns, with what the forge said.
func TestDeployCommentRefusedIsAWarning(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		readOnly bool
		pr       string
		failing  bool
		exit     int
		warning  string
		actions  bool // on GitHub Actions: the warning is an annotation too
	}{
		{name: "read-only token", readOnly: true, pr: "9", exit: ExitOK,
			warning: `schemagate: warning: the deploy's comment on pull request acme/shop#9 was skipped, the token cannot comment: ` +
				`upsert comment: comment on acme/shop#9: token cannot write: GitHub answered 403 "Resource not accessible by integration"`},
		{name: "no such pull request", pr: "10", exit: ExitOK, actions: true,
			warning: `schemagate: warning: the deploy's comment on pull request acme/shop#10 was not posted: upsert comment: list comments of acme/shop#10: ` +
				`not found: GitHub answered 404 Not Found (the deploy is not affected: its exit code says how it went)`},
		{name: "read-only token, rolled back", readOnly: true, pr: "9", failing: true, exit: ExitBlocked,
			warning: `schemagate: warning: the deploy's comment on pull request acme/shop#9 was skipped, the token cannot comment: `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := pgtest.URL(t)
			s := githubtest.New(t)
			s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop", Number: 9}, Author: "alice", HeadSHA: "h1", BaseSHA: "b1",
				BaseRef: "main", State: "closed", Merged: true}, nil)
			s.SetReadOnly(tc.readOnly)
			up := "CREATE TABLE a (id int);"
			if tc.failing {
				up = "SELECT 1/0;"
			}
			cfg := deployFolder(t, map[string]string{"1_a.up.sql": up, "1_a.down.sql": "DROP TABLE IF EXISTS a;"}, "")
			env, _ := ciEnv(t, url, "")
			if tc.actions {
				env["GITHUB_ACTIONS"] = "true"
			}
			code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--repo", "acme/shop", "--pr", tc.pr, "--api-url", s.URL())
			if code != tc.exit {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.exit, out, errOut)
			}
			if !strings.Contains(errOut, tc.warning) {
				t.Errorf("stderr lacks %q:\n%s", tc.warning, errOut)
			}
			annotation := "::warning::schemagate deploy: the deploy's comment on pull request acme/shop#" + tc.pr + " "
			if got := strings.Contains(out, annotation); got != tc.actions {
				t.Errorf("annotation %q in stdout: %v, want %v:\n%s", annotation, got, tc.actions, out)
			}
		})
	}
}

// TestDeployNoteWithinGitLabsLimit: GitLab takes a note of up to 1,000,000 characters, so the deploy's
// note is cut at GitLab's limit, not GitHub's: a report of some 75,000 characters is written whole.
func TestDeployNoteWithinGitLabsLimit(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	s := gitlabtest.New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop", Number: 9}, Author: "alice", HeadSHA: "h1", BaseSHA: "b1", BaseRef: "main"}, nil)
	s.Merge(ref, "m1")
	cfg := longFolder(t, 300, "")
	js := filepath.Join(filepath.Dir(cfg), "deploy.json")
	env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": url, "GITLAB_CI": "true", "CI_API_V4_URL": s.URL(), "CI_SERVER_URL": "https://gitlab.example.com",
		"CI_PROJECT_ID": "42", "CI_PROJECT_PATH": "acme/shop", "CI_COMMIT_BRANCH": "main", "CI_JOB_URL": "https://gitlab.example.com/acme/shop/-/jobs/99",
		"CI_JOB_TOKEN": gitlabtest.JobToken, "GITLAB_TOKEN": gitlabtest.Token}
	code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--pr", "9", "--report-json", js)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out[max(0, len(out)-2000):], errOut)
	}
	whole := wholeMarkdown(t, js)
	if n := utf8.RuneCountInString(whole); n <= 65536 {
		t.Fatalf("the deploy's Markdown has %d characters, within GitHub's limit: the test proves nothing", n)
	}
	var notes []forge.Comment
	for _, c := range s.Comments(ref) {
		if !c.System {
			notes = append(notes, c)
		}
	}
	if len(notes) != 1 || notes[0].Body != whole+"\n\n"+deploy.CommentMarker("prod") {
		t.Errorf("notes %d, want one holding the whole report\n%s", len(notes), errOut)
	}
}

// TestDeployReportNotWrittenIsAWarning: a report the deploy cannot write once it has run (the job
// summary, when GITHUB_STEP_SUMMARY is a folder; the report files' folders are checked before anything
// runs) does not fail a good deploy, and says so where it is seen: on stderr, and on GitHub Actions as
// an annotation.
func TestDeployReportNotWrittenIsAWarning(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	cfg := deployFolder(t, map[string]string{"1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE IF EXISTS a;"}, "")
	env, _ := ciEnv(t, url, "")
	env["GITHUB_ACTIONS"] = "true"
	summary := t.TempDir()
	env["GITHUB_STEP_SUMMARY"] = summary
	code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--no-comment")
	if code != ExitOK {
		t.Fatalf("exit %d, want %d\n%s%s", code, ExitOK, out, errOut)
	}
	warning := "schemagate: warning: the deploy's reports were not all written: "
	if !strings.Contains(errOut, warning) || !strings.Contains(errOut, summary) {
		t.Errorf("stderr lacks %q naming %s:\n%s", warning, summary, errOut)
	}
	if annotation := "::warning::schemagate deploy: the deploy's reports were not all written: "; !strings.Contains(out, annotation) {
		t.Errorf("stdout lacks the annotation %q:\n%s", annotation, out)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var table *string
	if err := conn.QueryRow(t.Context(), "SELECT to_regclass('a')::text").Scan(&table); err != nil || table == nil {
		t.Errorf("table a after the deploy: %v, %v", table, err)
	}
}
