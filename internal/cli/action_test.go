package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/ci"
	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
	"github.com/schemagate/schemagate/internal/report"
	"gopkg.in/yaml.v3"
)

const actionRepo = "Codertocat/Hello-World"

// gitRepo makes a repository whose base commit holds the shop example's first three migrations and
// whose head adds the last two; it returns the root and both SHAs.
// runGit runs git in root with a fixed identity and no global configuration, and returns its output.
func runGit(t *testing.T, root string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", root}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// prRepo makes a git repository whose main branch commits base and whose branch pr (checked out)
// commits pr on top: paths relative to the root, contents; it returns the root.
func prRepo(t *testing.T, base, pr map[string]string) string {
	t.Helper()
	root := t.TempDir()
	commit := func(files map[string]string, msg string) {
		for name, body := range files {
			p := filepath.Join(root, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, p, []byte(body))
		}
		runGit(t, root, "add", "-A")
		runGit(t, root, "commit", "-q", "--allow-empty", "-m", msg)
	}
	runGit(t, root, "init", "-q", "-b", "main")
	commit(base, "base")
	runGit(t, root, "checkout", "-q", "-b", "pr")
	commit(pr, "change")
	return root
}

func gitRepo(t *testing.T) (root, base, head string) {
	t.Helper()
	return gitRepoAt(t, "db/migrations")
}

// gitRepoAt is gitRepo with the migrations in folder.
func gitRepoAt(t *testing.T, folder string) (root, base, head string) {
	t.Helper()
	root = t.TempDir()
	git := func(args ...string) string { t.Helper(); return runGit(t, root, args...) }
	mig := filepath.Join(root, filepath.FromSlash(folder))
	if err := os.MkdirAll(mig, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join("..", "..", "examples", "shop")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	copyMig := func(prefixes ...string) {
		for _, e := range entries {
			for _, p := range prefixes {
				if strings.HasPrefix(e.Name(), p) {
					b, err := os.ReadFile(filepath.Join(src, e.Name()))
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(mig, e.Name()), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	git("init", "-q", "-b", "main")
	copyMig("0001", "0002", "0003")
	git("add", ".")
	git("commit", "-q", "-m", "base")
	base = git("rev-parse", "HEAD")
	copyMig("0004", "0005")
	git("add", ".")
	git("commit", "-q", "-m", "head")
	head = git("rev-parse", "HEAD")
	return root, base, head
}

// prEvent writes the real pull_request payload adapted to the repository and pull request.
func prEvent(t *testing.T, dir string, number int, base, head, headRepo string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "github", "pull_request.opened.with-organization.payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	ev["number"] = number
	pr := ev["pull_request"].(map[string]any)
	pr["number"] = number
	pr["base"].(map[string]any)["sha"] = base
	pr["head"].(map[string]any)["sha"] = head
	pr["head"].(map[string]any)["repo"].(map[string]any)["full_name"] = headRepo
	out, _ := json.Marshal(ev)
	path := filepath.Join(dir, "event.json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type actionRun struct {
	env                map[string]string
	outputs, summaries string
}

func newActionRun(t *testing.T, fake *githubtest.Server, root, event string) *actionRun {
	fc := t.TempDir()
	r := &actionRun{outputs: filepath.Join(fc, "set_output"), summaries: filepath.Join(fc, "step_summary")}
	r.env = map[string]string{
		"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": event,
		"GITHUB_REPOSITORY": actionRepo, "GITHUB_RUN_ID": "7", "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_API_URL": fake.URL(), "GITHUB_WORKSPACE": root, "GITHUB_OUTPUT": r.outputs, "GITHUB_STEP_SUMMARY": r.summaries,
		"INPUT_DIR": filepath.Join(root, "db", "migrations"), "INPUT_PROVIDER": "local", "INPUT_FAIL-ON": "never",
		"INPUT_GITHUB-TOKEN": githubtest.Token, "INPUT_COMMENT": "true", "INPUT_REPORT-JSON": filepath.Join(fc, "report.json"),
	}
	return r
}

func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, delim, ok := strings.Cut(sc.Text(), "<<")
		if !ok {
			t.Fatalf("output line %q is not a heredoc", sc.Text())
		}
		var val []string
		for sc.Scan() && sc.Text() != delim {
			val = append(val, sc.Text())
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

func TestActionCommentsOnceAndUpdates(t *testing.T) {
	requirePG(t)
	root, base, head := gitRepo(t)
	fake := githubtest.New(t)
	fake.SetInstallationToken(true)
	fake.SetPageSize(2)
	ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: actionRepo}, Title: "orders", Author: "octocat",
		HeadSHA: head, BaseSHA: base, BaseRef: "main"}, []string{"db/migrations/0004_index_orders_by_status.up.sql"})
	// Other people's comments fill the first pages, one pastes a copy of the marker.
	for i := range 5 {
		fake.AddComment(ref, "octocat", "LGTM "+strings.Repeat("!", i))
	}
	event := prEvent(t, t.TempDir(), ref.Number, base, head, actionRepo)
	r := newActionRun(t, fake, root, event)
	markerDir := r.env["INPUT_DIR"]
	fake.AddComment(ref, "mallory", "fake <!-- schemagate:comment dir="+markerDir+" -->")

	code, out, errOut := run(t, r.env, "action")
	if code != ExitOK {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, errOut)
	}
	comments := fake.Comments(ref)
	if len(comments) != 7 {
		t.Fatalf("first run: %d comments, want 7 (6 + ours)", len(comments))
	}
	ours := comments[6]
	if ours.Author != "github-actions[bot]" || !strings.Contains(ours.Body, "0004") || !strings.Contains(ours.Body, "dangerous") {
		t.Fatalf("our comment = %+v", ours)
	}
	if !strings.Contains(ours.Body, "### DBA approval") || !strings.Contains(ours.Body, "**Required** and pending") {
		t.Errorf("the comment does not say DBA approval is required:\n%s", ours.Body)
	}
	if comments[5].Body != "fake <!-- schemagate:comment dir="+markerDir+" -->" {
		t.Errorf("someone else's comment holding the marker was edited: %q", comments[5].Body)
	}
	outs := readOutputs(t, r.outputs)
	if outs["risk"] != "dangerous" || outs["approval-risk"] != "dangerous" || outs["new-migrations"] != "2" || outs["approval-required"] != "true" || outs["report-json"] != r.env["INPUT_REPORT-JSON"] {
		t.Errorf("outputs = %v", outs)
	}
	if _, err := os.Stat(outs["report-json"]); err != nil {
		t.Errorf("report not written: %v", err)
	}
	summary, _ := os.ReadFile(r.summaries)
	if !strings.Contains(string(summary), "| Version | Name |") || strings.Contains(string(summary), "<!-- schemagate") {
		t.Errorf("job summary:\n%s", summary)
	}
	if !strings.Contains(out, "::error col=1,file=db/migrations/0004_index_orders_by_status.up.sql,line=2,title=") {
		t.Errorf("no error annotation for the dangerous finding:\n%s", out)
	}
	if !strings.Contains(out, "::stop-commands::") {
		t.Errorf("check output not wrapped in stop-commands:\n%s", out)
	}
	// One stream, the log's lines too: the runner reads stdout and stderr apart, and a line on stderr
	// logged before the resume on stdout could reach it after.
	if errOut != "" || !strings.Contains(out, "comment created") {
		t.Errorf("the action logged on a stream of its own:\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}

	// Second run: same comment updated, no duplicate; rate limited once on the way.
	fake.RateLimitNext(1)
	if err := os.WriteFile(r.outputs, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, r.env, "action")
	if code != ExitOK {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := fake.Comments(ref); len(got) != 7 || got[6].ID != ours.ID {
		t.Fatalf("second run: %d comments (want 7, ours %d kept)", len(got), ours.ID)
	}
}

func TestActionReadOnlyTokenDoesNotFail(t *testing.T) {
	requirePG(t)
	root, base, head := gitRepo(t)
	fake := githubtest.New(t)
	fake.SetInstallationToken(true)
	fake.SetReadOnly(true)
	ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: actionRepo}, HeadSHA: head, BaseSHA: base, BaseRef: "main"}, nil)
	r := newActionRun(t, fake, root, prEvent(t, t.TempDir(), ref.Number, base, head, actionRepo))
	code, out, errOut := run(t, r.env, "action")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if len(fake.Comments(ref)) != 0 {
		t.Error("a comment was written with a read-only token")
	}
	if !strings.Contains(out, "::notice::schemagate: comment skipped") {
		t.Errorf("no notice about the skipped comment:\n%s", out)
	}
	if readOutputs(t, r.outputs)["risk"] != "dangerous" {
		t.Error("outputs not written")
	}
}

func TestActionForkSkipsCommentAndFailOn(t *testing.T) {
	requirePG(t)
	root, base, head := gitRepo(t)
	fake := githubtest.New(t) // no request may reach it: a fork's token is read-only
	r := newActionRun(t, fake, root, prEvent(t, t.TempDir(), 9, base, head, "mallory/Hello-World"))
	r.env["INPUT_FAIL-ON"] = "Dangerous" // in any case, as --fail-on and lint.fail_on
	code, out, errOut := run(t, r.env, "action")
	if code != ExitBlocked {
		t.Fatalf("exit %d, want %d (dangerous reaches fail-on)\n%s\n%s", code, ExitBlocked, out, errOut)
	}
	if !strings.Contains(out, "forks get a read-only token") {
		t.Errorf("no fork notice:\n%s", out)
	}
	if len(fake.Requests()) != 0 {
		t.Errorf("requests sent for a fork: %v", fake.Requests())
	}
	if _, err := os.Stat(r.env["INPUT_REPORT-JSON"]); err != nil {
		t.Errorf("report file not written for the workflow_run comment: %v", err)
	}
}

func TestActionBadInputs(t *testing.T) {
	for _, tc := range []struct{ name, key, val, want string }{
		{"fail-on", "INPUT_FAIL-ON", "sometimes", "input fail-on"},
		{"pg-version", "INPUT_PG-VERSION", "fifteen", "input pg-version"},
		{"comment", "INPUT_COMMENT", "maybe", "input comment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"GITHUB_ACTIONS": "true", tc.key: tc.val}
			code, out, errOut := run(t, env, "action")
			// An error annotation, so that the run page shows the cause, not only "exit code 2".
			if code != ExitUsage || !strings.Contains(out+errOut, "::error::schemagate: "+tc.want) {
				t.Errorf("exit %d, output %q %q", code, out, errOut)
			}
		})
	}
	// Errors of the check itself name the inputs, not the command line's flags.
	env := map[string]string{"GITHUB_ACTIONS": "true", "INPUT_DIR": filepath.Join(t.TempDir(), "none")}
	if code, out, errOut := run(t, env, "action"); code != ExitUsage || !strings.Contains(out+errOut, "::error::schemagate: migration folder") ||
		!strings.Contains(out+errOut, "(check the dir input)") || strings.Contains(out+errOut, "--dir") {
		t.Errorf("missing dir: exit %d, output %q %q", code, out, errOut)
	}
	if code, _, errOut := run(t, map[string]string{}, "action"); code != ExitUsage || !strings.Contains(errOut, "GITHUB_ACTIONS") {
		t.Errorf("outside Actions: exit %d %q", code, errOut)
	}
}

// TestActionCommentFailureIsAWarning: when GitHub cannot take the comment (an outage, a rate limit
// beyond what the client waits for), the check's own result stands and the step says why in a warning.
func TestActionCommentFailureIsAWarning(t *testing.T) {
	requirePG(t)
	root, base, head := gitRepo(t)
	fake := githubtest.New(t)
	fake.SetInstallationToken(true)
	ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: actionRepo}, HeadSHA: head, BaseSHA: base, BaseRef: "main"}, nil)
	r := newActionRun(t, fake, root, prEvent(t, t.TempDir(), ref.Number, base, head, actionRepo))
	fake.RateLimitNext(1000)
	code, out, errOut := run(t, r.env, "action")
	if code != ExitOK {
		t.Fatalf("exit %d, want the check's 0\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "::warning::schemagate: the pull request comment was not posted") {
		t.Errorf("no warning about the comment:\n%s", out)
	}
	if readOutputs(t, r.outputs)["risk"] != "dangerous" {
		t.Error("outputs not written")
	}
}

// TestActionOnPush: on a push the branch's earlier commit (the payload's before) is the base, so only
// what the push brought is new; a push that created the branch has no base, which a notice says.
func TestActionOnPush(t *testing.T) {
	requirePG(t)
	root, base, _ := gitRepo(t)
	fake := githubtest.New(t)
	b, err := os.ReadFile(filepath.Join("testdata", "github", "push.with-organization.payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		before string
		new    string
	}{{base, "2"}, {strings.Repeat("0", 40), "5"}} {
		var ev map[string]any
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		ev["before"], ev["created"] = c.before, strings.Trim(c.before, "0") == ""
		path := filepath.Join(t.TempDir(), "event.json")
		out, _ := json.Marshal(ev)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		r := newActionRun(t, fake, root, path)
		r.env["GITHUB_EVENT_NAME"] = "push"
		code, stdout, errOut := run(t, r.env, "action")
		if code != ExitOK {
			t.Fatalf("before %s: exit %d\n%s\n%s", c.before, code, stdout, errOut)
		}
		if outs := readOutputs(t, r.outputs); outs["new-migrations"] != c.new {
			t.Errorf("before %s: %s new migrations, want %s", c.before, outs["new-migrations"], c.new)
		}
		if notice := strings.Contains(stdout, "::notice::schemagate: no base commit for a push event"); notice != (c.new == "5") {
			t.Errorf("before %s: notice about the missing base %v\n%s", c.before, notice, stdout)
		}
	}
}

// actionYAMLDefaults reads the inputs' defaults from action.yml: what the runner passes as INPUT_* when
// the workflow leaves an input out.
func actionYAMLDefaults(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]struct {
			Default string `yaml:"default"`
		} `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(b, &action); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for name, in := range action.Inputs {
		out[name] = in.Default
	}
	return out
}

// TestActionDefaultsLeaveTheConfigFile: the runner always passes every input, its action.yml default
// when the workflow leaves it out, and a non-empty input is a flag. An input whose flag has a
// schemagate.yml setting must therefore default to "", or it would override the file: lint.fail_on:
// dangerous must fail the step as it fails 'schemagate check'.
func TestActionDefaultsLeaveTheConfigFile(t *testing.T) {
	defaults := actionYAMLDefaults(t)
	// Inputs without a schemagate.yml counterpart may have a default of their own.
	own := map[string]bool{"report-json": true, "github-token": true, "comment": true, "bot-login": true, "allow-pull-request-target": true}
	for name, def := range defaults {
		if !own[name] && def != "" {
			t.Errorf("action.yml: input %s defaults to %q: it would override schemagate.yml; default \"\"", name, def)
		}
	}

	requirePG(t)
	root, base, head := gitRepo(t)
	writeFile(t, filepath.Join(root, "schemagate.yml"), []byte("database:\n  provider: local\nlint:\n  fail_on: dangerous\n"))
	fake := githubtest.New(t)
	r := newActionRun(t, fake, root, prEvent(t, t.TempDir(), 9, base, head, "mallory/Hello-World"))
	for name, def := range defaults {
		r.env["INPUT_"+strings.ToUpper(name)] = def
	}
	r.env["INPUT_DIR"] = "db/migrations" // as the documented workflow sets it
	r.env["INPUT_GITHUB-TOKEN"] = githubtest.Token
	r.env["INPUT_REPORT-JSON"] = filepath.Join(t.TempDir(), "report.json")
	t.Chdir(root)
	code, out, errOut := run(t, r.env, "action")
	if code != ExitBlocked || !strings.Contains(out+errOut, "fail_on dangerous (schemagate.yml)") {
		t.Fatalf("exit %d, want %d: lint.fail_on dangerous of schemagate.yml applies\n%s\n%s", code, ExitBlocked, out, errOut)
	}
}

// TestActionMasksQueryPassword: a password in the database URL's query (?password=, as libpq and pgx
// take it) is masked as the userinfo's is, in every form the log may show, and no line shows it.
func TestActionMasksQueryPassword(t *testing.T) {
	const raw, decoded = "S3cr%25t%40pw%3Ax", "S3cr%t@pw:x"
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "workflow_dispatch", "INPUT_DIR": filepath.Join("..", "..", "examples", "shop"),
		"INPUT_PROVIDER": "url", "INPUT_DATABASE-URL": "postgres://postgres@127.0.0.1:1/postgres?password=" + raw + "&sslpassword=K3yPass",
		"INPUT_REPORT-JSON": filepath.Join(t.TempDir(), "report.json"),
	}
	code, out, errOut := run(t, env, "action")
	if code == ExitOK {
		t.Fatalf("exit 0 with no server\n%s\n%s", out, errOut)
	}
	all := out + errOut
	for _, secret := range []string{raw, decoded, "K3yPass"} {
		// The command's data is escaped (%25 for %); the runner unescapes it.
		if !strings.Contains(all, "::add-mask::"+strings.ReplaceAll(secret, "%", "%25")+"\n") {
			t.Errorf("%q is not masked:\n%s", secret, all)
		}
		for _, line := range strings.Split(all, "\n") {
			if strings.Contains(line, secret) && !strings.HasPrefix(line, "::add-mask::") {
				t.Errorf("a line shows %q: %s", secret, line)
			}
		}
	}
	if !strings.Contains(all, "password=xxxxx") {
		t.Errorf("the URL is not shown redacted:\n%s", all)
	}
}

// TestActionCheckoutInAFolder: actions/checkout with path: app clones into a folder of the workspace,
// which is no repository itself. The base commit is fetched into the clone that holds the migrations
// (a shallow one lacks it), and the paths of app/schemagate.yml are relative to its folder.
func TestActionCheckoutInAFolder(t *testing.T) {
	requirePG(t)
	cfg := "dir: db/migrations\ndatabase:\n  provider: local\n"
	root := prRepo(t, map[string]string{
		"schemagate.yml":             cfg,
		"db/migrations/1_a.up.sql":   "CREATE TABLE a (id int);\n",
		"db/migrations/1_a.down.sql": "DROP TABLE a;\n",
	}, map[string]string{
		"db/migrations/2_b.up.sql":   "CREATE TABLE b (id int);\n",
		"db/migrations/2_b.down.sql": "DROP TABLE b;\n",
	})
	base, head := runGit(t, root, "rev-parse", "main"), runGit(t, root, "rev-parse", "pr")
	ws := t.TempDir()
	runGit(t, ws, "clone", "-q", "--depth=1", "--branch", "pr", "file://"+root, "app")
	app := filepath.Join(ws, "app")
	if exec.Command("git", "-C", app, "cat-file", "-e", base+"^{commit}").Run() == nil {
		t.Fatal("the shallow clone has the base commit already")
	}
	fake := githubtest.New(t)
	r := newActionRun(t, fake, ws, prEvent(t, t.TempDir(), 9, base, head, "mallory/Hello-World"))
	r.env["INPUT_DIR"], r.env["INPUT_CONFIG"], r.env["INPUT_PROVIDER"] = "", "app/schemagate.yml", ""
	t.Chdir(ws)
	code, out, errOut := run(t, r.env, "action")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if n := readOutputs(t, r.outputs)["new-migrations"]; n != "1" {
		t.Errorf("%s new migrations, want 1 (the base's is history)\n%s", n, out)
	}
	// GitHub places an annotation by its path in the repository, which is app/, not the workspace: the
	// runner leaves a relative path as it is and makes an absolute one relative to the workspace.
	if !strings.Contains(out, "::warning col=17,file=db/migrations/2_b.up.sql,line=1,title=schemagate%3A prefer-bigint") {
		t.Errorf("no annotation at the file's path in the repository:\n%s", out)
	}
}

// TestActionRefusesPullRequestTarget: the check executes the pull request's SQL, which
// pull_request_target would run with a write token and the secrets: refused (exit 2, an error
// annotation) before anything runs, unless the workflow opts in.
func TestActionRefusesPullRequestTarget(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "none")
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request_target", "INPUT_DIR": dir}
	code, out, errOut := run(t, env, "action")
	if code != ExitUsage || !strings.Contains(out+errOut, "::error::schemagate: refusing to run on pull_request_target") ||
		strings.Contains(out+errOut, "migration folder") {
		t.Errorf("exit %d, want %d and an error before the check\n%s\n%s", code, ExitUsage, out, errOut)
	}
	env["INPUT_ALLOW-PULL-REQUEST-TARGET"] = "maybe"
	if code, out, errOut := run(t, env, "action"); code != ExitUsage || !strings.Contains(out+errOut, "allow-pull-request-target") {
		t.Errorf("bad opt-in: exit %d\n%s\n%s", code, out, errOut)
	}
	// Opted in: a warning, then the check runs on the pull request (here it stops fetching its base).
	env["INPUT_ALLOW-PULL-REQUEST-TARGET"] = "true"
	env["GITHUB_EVENT_PATH"] = filepath.Join("testdata", "github", "pull_request.opened.with-organization.payload.json")
	code, out, errOut = run(t, env, "action")
	if !strings.Contains(out+errOut, "::warning::schemagate: running on pull_request_target") || !strings.Contains(out+errOut, "fetch base commit "+evBase) {
		t.Errorf("opted in: exit %d, want a warning and the check\n%s\n%s", code, out, errOut)
	}
}

// TestActionCommentOfAnEarlierVersion: the comment that a version before escaped markers posted for a
// folder whose name has a character it wrote as '_' is updated, not doubled, and carries the folder's own
// marker from then on.
func TestActionCommentOfAnEarlierVersion(t *testing.T) {
	requirePG(t)
	root, base, head := gitRepoAt(t, "db/app-migrations")
	fake := githubtest.New(t)
	fake.SetInstallationToken(true)
	ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: actionRepo}, Title: "orders", Author: "octocat",
		HeadSHA: head, BaseSHA: base, BaseRef: "main"}, []string{"db/app-migrations/0004_index_orders_by_status.up.sql"})
	r := newActionRun(t, fake, root, prEvent(t, t.TempDir(), ref.Number, base, head, actionRepo))
	r.env["INPUT_DIR"] = filepath.Join(root, "db", "app-migrations")
	sticky := fake.AddComment(ref, "github-actions[bot]", "old report\n\n<!-- schemagate:comment dir=db/app_migrations -->")
	if code, out, errOut := run(t, r.env, "action"); code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	cs := fake.Comments(ref)
	if len(cs) != 1 || cs[0].ID != sticky || strings.Contains(cs[0].Body, "old report") || !strings.Contains(cs[0].Body, report.Marker("db/app-migrations")) {
		t.Errorf("want the old comment %d updated with the folder's marker, got %d comments: %+v", sticky, len(cs), cs)
	}
}

// TestActionCommentOfAnOlderHead: the runs of two pushes may finish in either order. A run whose pull
// request has moved on to a newer head since its event must not overwrite the comment with its older
// report (which the reviewers would read as the pull request's): it skips the comment with a notice, as
// 'schemagate comment' does; its check's result stands.
func TestActionCommentOfAnOlderHead(t *testing.T) {
	requirePG(t)
	root, base, head := gitRepo(t)
	fake := githubtest.New(t)
	fake.SetInstallationToken(true)
	ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: actionRepo}, Title: "orders", Author: "octocat",
		HeadSHA: head, BaseSHA: base, BaseRef: "main"}, []string{"db/migrations/0004_index_orders_by_status.up.sql"})
	r := newActionRun(t, fake, root, prEvent(t, t.TempDir(), ref.Number, base, head, actionRepo))
	const newer = "2222222222222222222222222222222222222222"
	fake.SetHead(ref, newer)
	newerReport := "report of the newer head\n\n" + report.Marker("db/migrations")
	fake.AddComment(ref, fake.BotLogin(), newerReport)
	code, out, errOut := run(t, r.env, "action")
	if code != ExitOK {
		t.Fatalf("exit %d, want the check's 0\n%s\n%s", code, out, errOut)
	}
	if cs := fake.Comments(ref); len(cs) != 1 || cs[0].Body != newerReport {
		t.Errorf("the comment of the newer head was overwritten or another added: %+v", cs)
	}
	if !strings.Contains(out, "::notice::schemagate: comment skipped: pull request #"+strconv.Itoa(ref.Number)+" has moved on to 222222222222") {
		t.Errorf("no notice that the pull request moved on:\n%s", out)
	}
}

// TestActionAnnotatesConfigProblems: each problem of schemagate.yml is an error annotation at its file,
// line and column (a YAML syntax error's too), as a finding is, besides the error that says them all:
// that one had no place, so GitHub showed the file's problems nowhere near the file.
func TestActionAnnotatesConfigProblems(t *testing.T) {
	for _, tc := range []struct {
		name, config string
		want         []string
	}{
		{name: "settings", config: "dir: db\nformat: flywayy\nlint:\n  fail_on: sometimes\n", want: []string{
			"::error col=9,file=app/schemagate.yml,line=2,title=schemagate: invalid configuration::format: unknown migration format \"flywayy\"",
			"::error col=12,file=app/schemagate.yml,line=4,title=schemagate: invalid configuration::lint.fail_on: unknown value \"sometimes\"",
		}},
		{name: "YAML syntax", config: "dir: db\nformat: goose: x\n", want: []string{
			"::error col=14,file=app/schemagate.yml,line=2,title=schemagate: invalid configuration::mapping values are not allowed in this context",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := actionOnConfig(t, tc.config)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("no annotation %s\n%s", w, out)
				}
			}
			if !strings.Contains(out, "::error::schemagate: invalid configuration") {
				t.Errorf("no error that says every problem:\n%s", out)
			}
		})
	}
}

// actionOnConfig runs the action on a workflow_dispatch with config as app/schemagate.yml, which must be
// bad input (exit 2), and returns its output with the colons of annotation properties unescaped, as the
// runner shows them.
func actionOnConfig(t *testing.T, config string) string {
	t.Helper()
	root := prRepo(t, map[string]string{"app/schemagate.yml": config, "app/db/.keep": ""}, nil)
	t.Chdir(root)
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "workflow_dispatch", "INPUT_CONFIG": "app/schemagate.yml"}
	code, out, errOut := run(t, env, "action")
	if code != ExitUsage {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitUsage, out, errOut)
	}
	return strings.ReplaceAll(out, "%3A", ":") // the runner unescapes a property's colon
}

// TestActionSaysHowManyConfigProblemsWentUnannotated: GitHub shows 10 error annotations a step, and the
// action writes its own error first and keeps room for its later messages, so a schemagate.yml of many
// problems gets 7 annotations at their lines; a notice says how many more the error lists (nothing
// did), as for findings. A key set twice with a value of the wrong type is both problems.
func TestActionSaysHowManyConfigProblemsWentUnannotated(t *testing.T) {
	config := `dir: db
formt: goose
database:
  provider: lokal
  pg_version: fifteen
lint:
  fail_on: sometimes
approval:
  require: sometimes
  approvals: 2
  approvals: "3"
  dba_users: dora
  stale_on_push: true
  stale_on_push: false
environments:
  prod:
    database_url_env: PROD_URL
    outside_window: later
    lock_timeout: 2x
    windows:
      - cron: "0 25 * * *"
        duration: 1h
`
	out := actionOnConfig(t, config)
	var all string
	annotated := 0
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "::error::schemagate: invalid configuration ("):
			all = l
		case strings.HasPrefix(l, "::error ") && strings.Contains(l, "file=app/schemagate.yml"):
			annotated++
		}
	}
	n, err := strconv.Atoi(strings.TrimPrefix(regexp.MustCompile(`\(\d+`).FindString(all), "("))
	if err != nil || n <= ci.AnnotationCap {
		t.Fatalf("the error lists %d problems, want more than %d to test the cap:\n%s", n, ci.AnnotationCap, out)
	}
	for _, w := range []string{"11:3: approval.approvals: set twice", "11:14: approval.approvals: cannot unmarshal", "14:3: approval.stale_on_push: set twice"} {
		if !strings.Contains(all, w) {
			t.Errorf("the error lacks %q:\n%s", w, all)
		}
	}
	want := ci.AnnotationCap - ci.OwnAnnotations - 1 // the error that lists them all is one
	if annotated != want {
		t.Errorf("%d annotations at their lines, want %d:\n%s", annotated, want, out)
	}
	notice := fmt.Sprintf("::notice::schemagate: the error lists %d more configuration problems, not annotated at their lines", n-want)
	if !strings.Contains(out, notice) {
		t.Errorf("no notice %q:\n%s", notice, out)
	}
}
