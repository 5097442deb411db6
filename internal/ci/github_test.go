package ci

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/report"
)

func envFunc(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDetectGitHub(t *testing.T) {
	t.Parallel()
	if _, ok := DetectGitHub(envFunc(map[string]string{"CI": "true"})); ok {
		t.Fatal("detected GitHub Actions without GITHUB_ACTIONS=true")
	}
	e, ok := DetectGitHub(envFunc(map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_API_URL": "https://ghes.example.com/api/v3/", "GITHUB_REPOSITORY": "acme/shop",
		"GITHUB_RUN_ID": "42", "INPUT_DATABASE-URL": "  postgres://x  ", "INPUT_PG-VERSION": "15", "INPUT_COMMENT": "false",
	}))
	if !ok {
		t.Fatal("not detected")
	}
	if e.APIURL != "https://ghes.example.com/api/v3" {
		t.Errorf("APIURL = %q", e.APIURL)
	}
	if got := e.Input("database-url"); got != "postgres://x" {
		t.Errorf("Input(database-url) = %q (hyphens must be kept, space trimmed)", got)
	}
	if got := e.Input("pg-version"); got != "15" {
		t.Errorf("Input(pg-version) = %q", got)
	}
	if b, err := e.BoolInput("comment", true); err != nil || b {
		t.Errorf("BoolInput(comment) = %v, %v", b, err)
	}
	if b, err := e.BoolInput("missing", true); err != nil || !b {
		t.Errorf("BoolInput default = %v, %v", b, err)
	}
	if got := e.RunURL(); got != "https://github.com/acme/shop/actions/runs/42" {
		t.Errorf("RunURL = %q", got)
	}
}

func TestParseGitHubEvent(t *testing.T) {
	t.Parallel()
	pr, err := ReadGitHubEvent(GitHubPullRequest, filepath.Join("testdata", "github", "pull_request.opened.with-organization.payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := GitHubPullRequestEvent{Number: 2, BaseSHA: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
		HeadSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", BaseRef: "master", BaseRepo: "Codertocat/Hello-World", HeadRepo: "Codertocat/Hello-World"}
	if *pr.PullRequest != want {
		t.Errorf("pull_request = %+v, want %+v", *pr.PullRequest, want)
	}

	// The same payload from a fork: head.repo differs.
	b, _ := os.ReadFile(filepath.Join("testdata", "github", "pull_request.opened.with-organization.payload.json"))
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["pull_request"].(map[string]any)["head"].(map[string]any)["repo"].(map[string]any)["full_name"] = "mallory/Hello-World"
	forked, _ := json.Marshal(m)
	ev, err := ParseGitHubEvent(GitHubPullRequest, forked)
	if err != nil {
		t.Fatal(err)
	}
	if !ev.PullRequest.Fork {
		t.Error("fork not detected")
	}

	wr, err := ReadGitHubEvent(GitHubWorkflowRun, filepath.Join("testdata", "github", "workflow_run.completed.with-pull-requests.payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	if wr.WorkflowRun.HeadSHA != "3484a3fb816e0859fd6e1cea078d76385ff50625" || wr.WorkflowRun.HeadRepo != "octo-org/octo-repo" ||
		len(wr.WorkflowRun.PullRequests) != 1 || wr.WorkflowRun.PullRequests[0] != 2 {
		t.Errorf("workflow_run = %+v", *wr.WorkflowRun)
	}

	for _, bad := range []struct{ name, event, payload string }{
		{"not json", GitHubPullRequest, "{"},
		{"no pull request", GitHubPullRequest, `{"action":"opened"}`},
		{"no head sha", GitHubPullRequest, `{"pull_request":{"number":1,"base":{"sha":"a"},"head":{}}}`},
		{"no workflow run", GitHubWorkflowRun, `{}`},
	} {
		if _, err := ParseGitHubEvent(bad.event, []byte(bad.payload)); err == nil {
			t.Errorf("%s: no error", bad.name)
		}
	}
	if _, err := ReadGitHubEvent(GitHubPullRequest, ""); err == nil {
		t.Error("empty event path: no error")
	}
}

// parseOutputs reads GITHUB_OUTPUT the way the runner does (name<<DELIM ... DELIM, or name=value).
func parseOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if name, delim, ok := strings.Cut(line, "<<"); ok {
			var val []string
			closed := false
			for sc.Scan() {
				if sc.Text() == delim {
					closed = true
					break
				}
				val = append(val, sc.Text())
			}
			if !closed {
				t.Fatalf("heredoc %s never closed", name)
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		if name, val, ok := strings.Cut(line, "="); ok {
			out[name] = val
		}
	}
	return out
}

func TestSetOutputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "set_output_x")
	e, _ := DetectGitHub(envFunc(map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": path}))
	a := NewActions(e, &bytes.Buffer{})
	hostile := "line1\nghadelimiter_\n_GitHubActionsFileCommandDelimeter_\nevil<<EOF\nEOF"
	vals := map[string]string{"risk": "dangerous", "report-json": hostile, "new-migrations": "2"}
	if err := a.SetOutputs(vals, "risk", "report-json", "new-migrations"); err != nil {
		t.Fatal(err)
	}
	got := parseOutputs(t, path)
	for k, v := range vals {
		if got[k] != v {
			t.Errorf("output %s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != 3 {
		t.Errorf("outputs = %v, want exactly 3", got)
	}
	if err := a.SetOutputs(map[string]string{"a\nb": "x"}, "a\nb"); err == nil {
		t.Error("bad output name accepted")
	}
	noFile := NewActions(&GitHubEnv{}, &bytes.Buffer{})
	if err := noFile.SetOutputs(vals, "risk"); err == nil {
		t.Error("missing GITHUB_OUTPUT accepted")
	}
}

func TestAddSummaryLimit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "step_summary")
	a := NewActions(&GitHubEnv{SummaryPath: path}, &bytes.Buffer{})
	if err := a.AddSummary("# first\n"); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("row of the summary table\n", 60000) // ~1.5 MB
	if err := a.AddSummary(big); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > MaxSummaryBytes {
		t.Errorf("summary is %d bytes, over 1 MiB", st.Size())
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "# first\n") || !strings.Contains(string(b), "cut at the 1 MiB limit") {
		t.Errorf("summary lost its start or the cut notice")
	}
}

func TestAnnotateCapsAndFields(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	a := NewActions(&GitHubEnv{}, &buf)
	var as []report.Annotation
	for i := 0; i < 12; i++ {
		as = append(as, report.Annotation{Level: report.LevelError, File: "db/001.sql", Line: i + 1, Col: 2, Title: "t", Message: "50% bad\n::set-output name=x::y"})
	}
	for i := 0; i < 3; i++ {
		as = append(as, report.Annotation{Level: report.LevelWarning, File: "db/002.sql", Line: 1, Title: "w", Message: "careful"})
	}
	dropped := a.Annotate(as)
	shown := AnnotationCap - OwnAnnotations
	if dropped != 12-shown {
		t.Errorf("dropped %d, want %d", dropped, 12-shown)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != shown+3 {
		t.Fatalf("got %d command lines, want %d:\n%s", len(lines), shown+3, buf.String())
	}
	first := lines[0]
	for _, want := range []string{"::error ", "file=db/001.sql", "line=1", "col=2", "title=t", "::50%25 bad%0A::set-output name=x::y"} {
		if !strings.Contains(first, want) {
			t.Errorf("first annotation %q lacks %q", first, want)
		}
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "::warning ") || strings.Contains(last, "col=") {
		t.Errorf("warning annotation = %q", last)
	}
}

// TestAnnotationsCarryNoRawControls: an escape sequence, a C1 CSI or a bidi control in a file name or a
// server message reaches the log escaped, in the properties and the message, with or without a file
// (a file name that holds one is named in the message: see TestAnnotationOfAFileWithTerminalControls);
// line breaks are still the command's %0A.
func TestAnnotationsCarryNoRawControls(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	a := NewActions(&GitHubEnv{}, &buf)
	const evil = "\x1b[31mRED\x1b[0m\u009b2J\u202eevil"
	a.Annotate([]report.Annotation{{Level: report.LevelError, File: "db/4_" + evil + ".up.sql", Line: 2, Title: "t" + evil, Message: "relation \"nope" + evil + "\"\nsecond line"}})
	a.Warning("migration " + evil)
	out := buf.String()
	for _, bad := range []string{"\x1b", "\u009b", "\u202e"} {
		if strings.Contains(out, bad) {
			t.Errorf("raw %q in the annotations:\n%q", bad, out)
		}
	}
	for _, want := range []string{`::db/4_\x1b[31mRED\x1b[0m\u009b2J\u202eevil.up.sql:2: relation "nope\x1b[31mRED`, "%0Asecond line", `::migration \x1b[31mRED`} {
		if !strings.Contains(out, want) {
			t.Errorf("annotations lack %q:\n%s", want, out)
		}
	}
}

// TestAnnotateLeavesRoomForOwnMessages: GitHub shows 10 annotations per level and step; the file
// annotations leave room for what schemagate writes before and after them of each level (a notice about
// the base, the count of those left out, the comment skipped), so that the runner drops none of these.
func TestAnnotateLeavesRoomForOwnMessages(t *testing.T) {
	t.Parallel()
	for _, level := range []string{report.LevelNotice, report.LevelWarning, report.LevelError} {
		var buf bytes.Buffer
		a := NewActions(&GitHubEnv{}, &buf)
		own := map[string]func(string){report.LevelNotice: a.Notice, report.LevelWarning: a.Warning, report.LevelError: a.Error}[level]
		own("before")
		var as []report.Annotation
		for i := 0; i < 15; i++ {
			as = append(as, report.Annotation{Level: level, File: "db/001.sql", Line: i + 1, Title: "t", Message: "m"})
		}
		dropped := a.Annotate(as)
		own("more")
		own("last")
		var n int
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if strings.HasPrefix(l, "::"+level) {
				n++
			}
		}
		if n != AnnotationCap || dropped != 15-(AnnotationCap-3) {
			t.Errorf("%s: %d annotations (want %d, the runner's cap), %d dropped\n%s", level, n, AnnotationCap, dropped, buf.String())
		}
	}
}

// TestMaskAndStopCommands: what the check logs sits between ::stop-commands:: and its random token, so
// that a line of the pull request's ("::add-mask::", "::error::") is not executed by the runner.
func TestMaskAndStopCommands(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	a := NewActions(&GitHubEnv{}, &buf)
	a.Mask("s3cret")
	a.Mask("")
	token, err := a.StopCommands()
	if err != nil {
		t.Fatal(err)
	}
	buf.WriteString("::add-mask::x\n::error::forged\n")
	a.Resume(token)
	other, err := a.StopCommands()
	if err != nil {
		t.Fatal(err)
	}
	if len(token) != 32 || other == token {
		t.Errorf("tokens %q and %q: want 32 random hex digits each run", token, other)
	}
	want := "::add-mask::s3cret\n::stop-commands::" + token + "\n::add-mask::x\n::error::forged\n::" + token + "::\n::stop-commands::" + other + "\n"
	if got := buf.String(); got != want {
		t.Errorf("log:\n%q\nwant\n%q", got, want)
	}
}

// TestGitConfigEnv: every repository of the workspace is trusted, a checkout into a folder of it
// (actions/checkout with path: app) too, not the workspace alone.
func TestGitConfigEnv(t *testing.T) {
	t.Parallel()
	e, _ := DetectGitHub(envFunc(map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": "/github/workspace", "GIT_CONFIG_COUNT": "2"}))
	got := strings.Join(e.GitConfigEnv(), " ")
	want := "GIT_CONFIG_COUNT=3 GIT_CONFIG_KEY_2=safe.directory GIT_CONFIG_VALUE_2=*"
	if got != want {
		t.Errorf("GitConfigEnv = %q, want %q", got, want)
	}
}

func TestReadGitHubEnvOutsideActions(t *testing.T) {
	t.Parallel()
	e := ReadGitHubEnv(envFunc(map[string]string{"GH_TOKEN": "t", "GITHUB_REPOSITORY": "a/b"}))
	if e.Token != "t" || e.Repository != "a/b" || e.APIURL != "https://api.github.com" {
		t.Errorf("env = %+v", e)
	}
}
