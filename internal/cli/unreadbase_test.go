package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
)

// unreadBaseRepo makes, in a new gate environment's folder, a git repository whose main branch has
// db/ with a duplicate version (2_b and 2_c, as two pull requests merged in parallel leave it), so that
// the folder at main does not read, and checks out the branch pr. The pull request renumbers 2_c to
// 3_c (the fix); edit, when not "", is also written to the applied 1_a.up.sql. The fake GitHub lists
// the pull request's files with their content at its head.
func unreadBaseRepo(t *testing.T, edit string) (e *gateEnv, dir string) {
	t.Helper()
	s := githubtest.New(t)
	s.SetInstallationToken(true)
	changed := map[string]string{"db/3_c.up.sql": "CREATE TABLE c (id bigint PRIMARY KEY);\n", "db/3_c.down.sql": "DROP TABLE c;\n"}
	if edit != "" {
		changed["db/1_a.up.sql"] = edit
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for p := range changed {
			if !yield(p) {
				return
			}
		}
	})
	names = append(names, "-db/2_c.up.sql", "-db/2_c.down.sql")
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: evRepo, Number: 2}, Title: "Renumber 2_c", Author: "Codertocat",
		HeadSHA: evHead, BaseSHA: evBase, BaseRef: "master"}, names)
	s.SetFile(evRepo, ".github/CODEOWNERS", evBase, []byte("* @Codertocat\n/db/ @dora\n"))
	// The gate judges the folder the base's schemagate.yml names, as the checkout below has it.
	s.SetFile(evRepo, "schemagate.yml", evBase, []byte("dir: db\napproval:\n  require: risky\n"))
	for p, body := range changed {
		s.SetFile(evRepo, p, evHead, []byte(body))
	}
	root := t.TempDir()
	e = &gateEnv{s: s, ref: ref, dir: root, summary: filepath.Join(t.TempDir(), "summary.md"), report: filepath.Join(t.TempDir(), "report.json")}
	e.env = map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": githubtest.Token, "GITHUB_API_URL": s.URL(),
		"GITHUB_STEP_SUMMARY": e.summary, "GITHUB_RUN_ID": "77", "GITHUB_SERVER_URL": "https://github.com",
	}
	data, err := os.ReadFile(filepath.Join("testdata", "github", "pull_request.opened.with-organization.payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev := filepath.Join(t.TempDir(), "event.json")
	writeFile(t, ev, data)
	e.env["GITHUB_EVENT_PATH"] = ev

	dir = filepath.Join(root, "db")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "schemagate.yml"), []byte("dir: db\napproval:\n  require: risky\n"))
	for name, body := range map[string]string{
		"1_a.up.sql": "CREATE TABLE a (id bigint PRIMARY KEY);\n", "1_a.down.sql": "DROP TABLE a;\n",
		"2_b.up.sql": "CREATE TABLE b (id bigint PRIMARY KEY);\n", "2_b.down.sql": "DROP TABLE b;\n",
		"2_c.up.sql": "CREATE TABLE c (id bigint PRIMARY KEY);\n", "2_c.down.sql": "DROP TABLE c;\n",
	} {
		writeFile(t, filepath.Join(dir, name), []byte(body))
	}
	runGit(t, root, "init", "-q", "-b", "main")
	runGit(t, root, "add", "-A")
	runGit(t, root, "commit", "-qm", "base: 2_b and 2_c merged in parallel")
	runGit(t, root, "checkout", "-q", "-b", "pr")
	for _, name := range []string{"2_c.up.sql", "2_c.down.sql"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for p, body := range changed {
		writeFile(t, filepath.Join(root, filepath.FromSlash(p)), []byte(body))
	}
	return e, dir
}

// TestCheckUnreadableBaseKeepsEdits: a base whose folder does not read (a duplicate version) has no
// history to replay, but a pull request that also edits an applied migration fails as against a
// readable base (exit 3, edited-applied-migration), and the gate, from the check's report and from its
// own static one, waits for approval. The pull request that only renumbers the duplicate passes the
// check with a caution that names the rename.
func TestCheckUnreadableBaseKeepsEdits(t *testing.T) {
	requirePG(t)
	e, dir := unreadBaseRepo(t, "CREATE TABLE a (id bigint PRIMARY KEY, secret_edit int);\n")
	code, out, errOut := run(t, nil, "check", "--dir", dir, "--base", "main", "--no-roundtrip", "--report-json", e.report, "-q")
	if code != ExitBlocked || !strings.Contains(out, "edited-applied-migration") || !strings.Contains(out, "db/1_a.up.sql") ||
		!strings.Contains(out, "the migration folder at main does not read") {
		t.Errorf("check of an edit against a base that does not read: exit %d, want %d failing edited-applied-migration at db/1_a.up.sql\n%s\n%s", code, ExitBlocked, out, errOut)
	}
	code, out, errOut = e.run(t, "--report", e.report)
	if code != ExitPending || !strings.Contains(out, "pending") {
		t.Errorf("gate --report: exit %d, want %d pending\n%s\n%s", code, ExitPending, out, errOut)
	}
	code, out, errOut = e.run(t, "--dir", dir, "--base", "main")
	if code != ExitPending || !strings.Contains(out, "pending") {
		t.Errorf("static gate: exit %d, want %d pending\n%s\n%s", code, ExitPending, out, errOut)
	}

	// The fix alone: 3_c is new to the tool, and a caution says it is the base's 2_c renamed.
	_, dir = unreadBaseRepo(t, "")
	code, out, errOut = run(t, nil, "check", "--dir", dir, "--base", "main", "--no-roundtrip", "-q")
	if code != ExitOK || !strings.Contains(out, "caution edited-applied-migration: migration 3_c is the base's 2_c renamed") || strings.Contains(out, "FAILED") {
		t.Errorf("check of the fix: exit %d, want 0 with a caution on the rename\n%s\n%s", code, out, errOut)
	}
}

// TestGateUnreadableBaseDeletion: the static gate counts an applied migration that the pull request
// deletes, against a base that does not read, as it does against a readable one.
func TestGateUnreadableBaseDeletion(t *testing.T) {
	e, dir := unreadBaseRepo(t, "")
	for _, name := range []string{"2_b.up.sql", "2_b.down.sql"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := e.run(t, "--dir", dir, "--base", "main", "--json")
	if code != ExitPending || !strings.Contains(out, `"risk": "dangerous"`) {
		t.Errorf("static gate: exit %d, want %d with risk dangerous\n%s\n%s", code, ExitPending, out, errOut)
	}
}
