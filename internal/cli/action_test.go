package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
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
	root = t.TempDir()
	git := func(args ...string) string { t.Helper(); return runGit(t, root, args...) }
	mig := filepath.Join(root, "db", "migrations")
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
	if !strings.Contains(out, "::error col=1,file="+filepath.Join(root, "db", "migrations", "0004_index_orders_by_status.up.sql")+",line=2,title=") {
		t.Errorf("no error annotation for the dangerous finding:\n%s", out)
	}
	if !strings.Contains(out, "::stop-commands::") {
		t.Errorf("check output not wrapped in stop-commands:\n%s", out)
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
	r.env["INPUT_FAIL-ON"] = "dangerous"
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
		!strings.Contains(out+errOut, "set the dir input") || strings.Contains(out+errOut, "--dir") {
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
