package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/schemagate/schemagate/internal/config"
)

// writeTree writes files (path -> content) under the current folder.
func writeTree(t *testing.T, files map[string]string) {
	t.Helper()
	for name, text := range files {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readText(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestInitWritesConfigAndWorkflows: init finds the one migration folder (a plain folder of queries and
// node_modules left out), writes a schemagate.yml that check and lint read as written, and the GitHub
// workflows for it; lint then lints that folder with no argument.
func TestInitWritesConfigAndWorkflows(t *testing.T) {
	t.Chdir(t.TempDir())
	writeTree(t, map[string]string{
		".git/config":                         "[core]\n",
		"db/migrations/1_users.up.sql":        "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
		"db/migrations/1_users.down.sql":      "DROP TABLE users;\n",
		"db/migrations/2_email.up.sql":        "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n",
		"db/migrations/2_email.down.sql":      "ALTER TABLE users ALTER COLUMN email DROP NOT NULL;\n",
		"queries/report.sql":                  "SELECT count(*) FROM users;\n",
		"node_modules/pkg/migrations/1_a.sql": "SELECT 1;\n",
	})
	code, out, errOut := runStdin(t, "", "init")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "migration folder: db/migrations (golang-migrate, 2 migrations)") {
		t.Errorf("folder not named:\n%s", out)
	}
	cfg := config.Default()
	if err := config.LoadOver("schemagate.yml", true, cfg); err != nil {
		t.Fatalf("the schemagate.yml init wrote does not load: %v\n%s", err, readText(t, "schemagate.yml"))
	}
	if cfg.Dir != "db/migrations" || cfg.Format != "golang-migrate" || cfg.Database.PGVersion != 15 || cfg.Lint.FailOn != "dangerous" {
		t.Errorf("schemagate.yml: dir %q format %q pg_version %d fail_on %q", cfg.Dir, cfg.Format, cfg.Database.PGVersion, cfg.Lint.FailOn)
	}
	var wf struct {
		On struct {
			PullRequest struct{ Paths []string } `yaml:"pull_request"`
		}
		Jobs map[string]struct {
			Steps []struct {
				Uses string
				With map[string]string
			}
		}
	}
	if err := yaml.Unmarshal([]byte(readText(t, ".github/workflows/schemagate.yml")), &wf); err != nil {
		t.Fatal(err)
	}
	if strings.Join(wf.On.PullRequest.Paths, " ") != "db/migrations/** schemagate.yml" {
		t.Errorf("workflow paths %v", wf.On.PullRequest.Paths)
	}
	action := false
	for _, st := range wf.Jobs["schemagate"].Steps {
		if st.Uses == "schemagate/schemagate@v1" && st.With["dir"] == "db/migrations" {
			action = true
		}
	}
	if !action {
		t.Errorf("no schemagate step with dir db/migrations: %+v", wf.Jobs)
	}
	if cfg.Approval.Require != "risky" {
		t.Errorf("approval.require = %q", cfg.Approval.Require)
	}
	checkWorkflowChain(t)

	// lint, with no argument, lints the folder schemagate.yml names, failing on dangerous as it says.
	code, out, errOut = runStdin(t, "", "lint")
	if code != ExitBlocked || !strings.Contains(out, "db/migrations/2_email.up.sql:1:1: dangerous set-not-null") {
		t.Errorf("lint after init: exit %d\n%s%s", code, out, errOut)
	}
}

// TestInitExistingFiles: init writes nothing when a file it would write exists, naming them; --dry-run
// prints what it would write; --force overwrites.
func TestInitExistingFiles(t *testing.T) {
	t.Chdir(t.TempDir())
	writeTree(t, map[string]string{
		"migrations/0001_a.sql": "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n",
		"schemagate.yml":        "dir: elsewhere\n",
	})
	code, out, errOut := runStdin(t, "", "init", "--ci", "github")
	if code != ExitUsage || !strings.Contains(errOut, "schemagate.yml already exists: nothing written") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	if readText(t, "schemagate.yml") != "dir: elsewhere\n" {
		t.Error("schemagate.yml changed")
	}
	if _, err := os.Stat(".github"); err == nil {
		t.Error("a workflow was written beside a schemagate.yml that exists")
	}
	code, out, _ = runStdin(t, "", "init", "--dry-run") // shows the files, and exits as the run would
	if code != ExitUsage || !strings.Contains(out, "# would write schemagate.yml:\n") || !strings.Contains(out, "format: goose\n") || readText(t, "schemagate.yml") != "dir: elsewhere\n" {
		t.Errorf("--dry-run: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(".github"); err == nil {
		t.Error("--dry-run wrote a workflow")
	}
	code, out, errOut = runStdin(t, "", "init", "--force", "--pg-version", "16")
	if code != ExitOK || !strings.Contains(readText(t, "schemagate.yml"), "dir: migrations\nformat: goose\n") || !strings.Contains(readText(t, "schemagate.yml"), "pg_version: 16") {
		t.Errorf("--force: exit %d\n%s%s\n%s", code, out, errOut, readText(t, "schemagate.yml"))
	}
	code, _, errOut = runStdin(t, "", "init")
	if code != ExitUsage || !strings.Contains(errOut, "schemagate.yml, .github/workflows/schemagate.yml, .github/workflows/schemagate-comment.yml and .github/workflows/schemagate-approval.yml already exist") {
		t.Errorf("all three exist: exit %d\n%s", code, errOut)
	}
}

// TestInitFolders: several migration folders, or none, are bad input listing them; Flyway's default
// location is found; --dir takes one; init refuses to run below the repository's root.
func TestInitFolders(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)
	writeTree(t, map[string]string{
		".git/HEAD":                   "ref: refs/heads/main\n",
		"services/a/migrations/1.sql": "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n",
		"src/main/resources/db/migration/V1__init.sql": "CREATE TABLE b (id int);\n",
	})
	code, out, errOut := runStdin(t, "", "init")
	if code != ExitUsage || !strings.Contains(errOut, "2 migration folders found: give --dir with one of them") ||
		!strings.Contains(errOut, "services/a/migrations (dbmate, 1 migration)") || !strings.Contains(errOut, "src/main/resources/db/migration (flyway, 1 migration)") {
		t.Errorf("two folders: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat("schemagate.yml"); err == nil {
		t.Error("schemagate.yml written for an ambiguous repository")
	}
	code, out, errOut = runStdin(t, "", "init", "--dir", "src/main/resources/db/migration/", "--ci", "none")
	if code != ExitOK || !strings.Contains(readText(t, "schemagate.yml"), "dir: src/main/resources/db/migration\nformat: flyway\n") {
		t.Errorf("--dir: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(".github"); err == nil {
		t.Error("--ci none wrote a workflow")
	}

	t.Chdir(filepath.Join(root, "services"))
	code, _, errOut = runStdin(t, "", "init")
	if code != ExitUsage || !strings.Contains(errOut, "run schemagate init at the repository's root ("+root+")") {
		t.Errorf("below the root: exit %d\n%s", code, errOut)
	}

	t.Chdir(t.TempDir())
	writeTree(t, map[string]string{"queries/report.sql": "SELECT 1;\n"})
	code, _, errOut = runStdin(t, "", "init")
	if code != ExitUsage || !strings.Contains(errOut, "no migration folder found") {
		t.Errorf("no folder: exit %d\n%s", code, errOut)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"init", "--ci", "jenkins"}, `--ci "jenkins": want github, gitlab, none or auto`},
		{[]string{"init", "--pg-version", "3"}, "--pg-version 3: want a major version"},
		{[]string{"init", "--format", "liquibase"}, `--format "liquibase"`},
		{[]string{"init", "--dir", "nope"}, "--dir nope: not a folder"},
		{[]string{"init", "--dir", ".."}, "give a folder inside the repository"},
	} {
		code, _, errOut := runStdin(t, "", tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want %q in\n%s", tc.args, code, tc.want, errOut)
		}
	}
}

// TestInitGitLab: a repository with a .gitlab-ci.yml gets the include to add printed, its file left as
// it is; one without gets a .gitlab-ci.yml whose components check the folder.
func TestInitGitLab(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	writeTree(t, map[string]string{
		"db/migrations/20240101000000_a.sql": "-- +migrate Up\nCREATE TABLE a (id int);\n-- +migrate Down\nDROP TABLE a;\n",
		".gitlab-ci.yml":                     "test:\n  script: [make test]\n",
	})
	code, out, errOut := runStdin(t, "", "init")
	if code != ExitOK || readText(t, ".gitlab-ci.yml") != "test:\n  script: [make test]\n" ||
		!strings.Contains(out, "# add to the existing .gitlab-ci.yml:\n") || !strings.Contains(out, "\ninclude:\n  - component: $CI_SERVER_FQDN/schemagate/schemagate/check@1.0.0") {
		t.Errorf("existing .gitlab-ci.yml: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(readText(t, "schemagate.yml"), "format: sql-migrate\n") {
		t.Errorf("schemagate.yml:\n%s", readText(t, "schemagate.yml"))
	}
	// --force overwrites schemagate.yml, never the .gitlab-ci.yml.
	code, out, errOut = runStdin(t, "", "init", "--force")
	if code != ExitOK || readText(t, ".gitlab-ci.yml") != "test:\n  script: [make test]\n" || !strings.Contains(out, "# add to the existing .gitlab-ci.yml:") {
		t.Errorf("--force with a .gitlab-ci.yml: exit %d\n%s%s", code, out, errOut)
	}

	t.Chdir(t.TempDir())
	writeTree(t, map[string]string{"migrations/1_a.up.sql": "CREATE TABLE a (id int);\n", ".git/config": "[remote \"origin\"]\n\turl = git@gitlab.example.com:team/app.git\n"})
	code, out, errOut = runStdin(t, "", "init", "--pg-version", "17")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var ci struct {
		Include []struct {
			Component string
			Inputs    map[string]any
		}
	}
	if err := yaml.Unmarshal([]byte(readText(t, ".gitlab-ci.yml")), &ci); err != nil || len(ci.Include) != 2 {
		t.Fatalf("%v\n%s", err, readText(t, ".gitlab-ci.yml"))
	}
	// Every input given is one the component's spec declares.
	for _, inc := range ci.Include {
		name := strings.TrimSuffix(inc.Component[strings.LastIndex(inc.Component, "/")+1:], "@1.0.0")
		spec, err := os.ReadFile(filepath.Join(repo, "templates", name+".yml"))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Spec struct{ Inputs map[string]any }
		}
		if err := yaml.Unmarshal(spec[:bytes.Index(spec, []byte("\n---\n"))], &doc); err != nil || len(doc.Spec.Inputs) == 0 {
			t.Fatalf("templates/%s.yml: %v", name, err)
		}
		for in := range inc.Inputs {
			if _, ok := doc.Spec.Inputs[in]; !ok {
				t.Errorf("component %s has no input %q", name, in)
			}
		}
	}
	check := ci.Include[0]
	if !strings.HasSuffix(check.Component, "/check@1.0.0") || check.Inputs["dir"] != "migrations" || check.Inputs["pg-version"] != "17" {
		t.Errorf("check component: %+v", check)
	}
}

// TestYAMLString: a folder name is written so that YAML reads it back as the same text.
func TestYAMLString(t *testing.T) {
	for _, s := range []string{"db/migrations", "on", "No", "2024", "-x", "a: b", "a #b", `q"uo\te`, "[x]", " lead", "~", "null", "*a"} {
		var v struct{ Dir any }
		if err := yaml.Unmarshal([]byte("dir: "+yamlString(s)+"\n"), &v); err != nil || v.Dir != s {
			t.Errorf("%q written %s reads back %#v (%v)", s, yamlString(s), v.Dir, err)
		}
	}
}

// TestInitWorkflowsMatchDocs: the workflows init writes (for db/migrations) are, word for word, the
// copy-paste workflows 1, 2 and 3 of docs/github-action.md and of README.md.
func TestInitWorkflowsMatchDocs(t *testing.T) {
	for _, doc := range []string{filepath.Join("..", "..", "docs", "github-action.md"), filepath.Join("..", "..", "README.md")} {
		text := readText(t, doc)
		for _, wf := range []string{githubWorkflow("db/migrations", false), githubCommentWorkflow, githubApprovalWorkflow} {
			if !strings.Contains(text, "```yaml\n"+wf+"```\n") {
				first, _, _ := strings.Cut(wf, "\n")
				t.Errorf("%s does not hold the workflow init writes, %s, as a yaml block:\n%s", doc, first, wf)
			}
		}
	}
}

// TestInitLayouts: a Flyway location holding versioned subfolders is the location, also six levels down
// in a module; a sqitch project at the repository's root is checked on any change; a folder name with
// characters special to path patterns is escaped in them.
func TestInitLayouts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // the folder line
		paths string // the workflow's paths, joined
	}{
		{"flyway with a versioned subfolder", map[string]string{
			"db/migration/V1__a.sql":    "CREATE TABLE a (id int);\n",
			"db/migration/V1_1__b.sql":  "CREATE TABLE b (id int);\n",
			"db/migration/v2/V2__c.sql": "CREATE TABLE c (id int);\n",
		}, "db/migration (flyway, 3 migrations)", "db/migration/** schemagate.yml **/flyway.conf **/flyway.toml"},
		{"flyway in a module", map[string]string{
			"service-a/src/main/resources/db/migration/V1__a.sql": "CREATE TABLE a (id int);\n",
		}, "service-a/src/main/resources/db/migration (flyway, 1 migration)", "service-a/src/main/resources/db/migration/** schemagate.yml **/flyway.conf **/flyway.toml"},
		{"sqitch at the root", map[string]string{
			"sqitch.plan":      "%syntax-version=1.0.0\n%project=app\n\nusers 2024-01-01T00:00:00Z Dev <dev@example.com> # users\n",
			"deploy/users.sql": "CREATE TABLE users (id int);\n",
			"revert/users.sql": "DROP TABLE users;\n",
		}, ". (sqitch, 1 migration)", "** schemagate.yml"},
		{"pattern characters", map[string]string{
			"db/[v1]+migrations/1_a.up.sql": "CREATE TABLE a (id int);\n",
		}, "db/[v1]+migrations (golang-migrate, 1 migration)", `db/\[v1\]\+migrations/** schemagate.yml`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			writeTree(t, tc.files)
			code, out, errOut := runStdin(t, "", "init", "--ci", "github")
			if code != ExitOK || !strings.Contains(out, "migration folder: "+tc.want+"\n") {
				t.Fatalf("exit %d, want folder %s\n%s%s", code, tc.want, out, errOut)
			}
			var wf struct {
				On struct {
					PullRequest struct{ Paths []string } `yaml:"pull_request"`
				}
			}
			if err := yaml.Unmarshal([]byte(readText(t, ".github/workflows/schemagate.yml")), &wf); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(wf.On.PullRequest.Paths, " "); got != tc.paths {
				t.Errorf("paths %q, want %q", got, tc.paths)
			}
			cfg := config.Default()
			if err := config.LoadOver("schemagate.yml", true, cfg); err != nil || cfg.Dir != strings.SplitN(tc.want, " (", 2)[0] {
				t.Errorf("schemagate.yml: dir %q (%v)", cfg.Dir, err)
			}
		})
	}
}

// TestInitRefusals: a version the configuration refuses, a folder name with a control character, a
// folder whose format cannot be told and a workflow folder that cannot be made are refused with nothing
// written.
func TestInitRefusals(t *testing.T) {
	t.Chdir(t.TempDir())
	writeTree(t, map[string]string{
		"db/migrations/1_a.up.sql":   "CREATE TABLE a (id int);\n",
		"mixed/1_a.up.sql":           "CREATE TABLE a (id int);\n",
		"mixed/20240101_b.sql":       "-- +goose Up\nCREATE TABLE b (id int);\n",
		"line\nbreak/1_a.up.sql":     "CREATE TABLE a (id int);\n",
		".github":                    "not a folder\n",
		"db/migrations/1_a.down.sql": "DROP TABLE a;\n",
	})
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"init", "--dir", "db/migrations", "--pg-version", "30"}, ExitUsage, "--pg-version 30: want a major version from 10 to 19"},
		{[]string{"init", "--dir", "line\nbreak"}, ExitUsage, "control character"},
		{[]string{"init", "--dir", "mixed"}, ExitUsage, "mixed: its format cannot be told: ambiguous migration folder"},
		{[]string{"init", "--dir", "db/migrations", "--ci", "github"}, ExitFailure, "nothing written"},
	} {
		code, out, errOut := runStdin(t, "", tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, want %d and %q\n%s%s", tc.args, code, tc.code, tc.want, out, errOut)
		}
		if _, err := os.Stat("schemagate.yml"); err == nil {
			t.Fatalf("%q: schemagate.yml written", tc.args)
		}
	}
}

// TestInitFindsByOwnFiles: sibling Flyway locations are listed, not merged into their parent; a fixture
// in a folder init leaves out does not make the folders above it Flyway's.
func TestInitFindsByOwnFiles(t *testing.T) {
	t.Chdir(t.TempDir())
	writeTree(t, map[string]string{
		"svc-a/src/main/resources/db/migration/V1__a.sql": "select 1;\n",
		"svc-a/src/main/resources/db/migration/V2__a.sql": "select 1;\n",
		"svc-b/src/main/resources/db/migration/V3__b.sql": "select 1;\n",
	})
	code, out, errOut := runStdin(t, "", "init", "--dry-run")
	if code != ExitUsage || !strings.Contains(errOut, "2 migration folders found") || !strings.Contains(errOut, "svc-a/src/main/resources/db/migration (flyway, 2 migrations)") ||
		!strings.Contains(errOut, "svc-b/src/main/resources/db/migration (flyway, 1 migration)") {
		t.Errorf("sibling locations: exit %d\n%s%s", code, out, errOut)
	}

	t.Chdir(t.TempDir())
	writeTree(t, map[string]string{
		"db/migrations/1_a.up.sql":       "CREATE TABLE a (id int);\n",
		"testdata/fw/V1__a.sql":          "select 1;\n",
		"node_modules/pkg/sql/V1__a.sql": "select 1;\n",
	})
	code, out, errOut = runStdin(t, "", "init", "--dry-run")
	if code != ExitOK || !strings.Contains(out, "migration folder: db/migrations (golang-migrate, 1 migration)") {
		t.Errorf("fixtures left out: exit %d\n%s%s", code, out, errOut)
	}
}

// TestInitCIAndFailures: a GitLab remote means GitLab even beside a .github folder; a target that is a
// folder stops init with nothing written (exit 1); a standard output that fails is the tool's failure.
func TestInitCIAndFailures(t *testing.T) {
	t.Chdir(t.TempDir())
	writeTree(t, map[string]string{
		"migrations/1_a.up.sql":  "CREATE TABLE a (id int);\n",
		".github/dependabot.yml": "version: 2\n",
		".git/config":            "[remote \"origin\"]\n\turl = https://gitlab.example.com/team/app.git\n",
	})
	code, out, errOut := runStdin(t, "", "init", "--dry-run")
	if code != ExitOK || !strings.Contains(out, "# would write .gitlab-ci.yml:") || strings.Contains(out, ".github/workflows") {
		t.Errorf("GitLab remote: exit %d\n%s%s", code, out, errOut)
	}
	if err := os.MkdirAll(".github/workflows/schemagate.yml", 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runStdin(t, "", "init", "--force", "--ci", "github")
	if code != ExitFailure || !strings.Contains(errOut, "nothing written: .github/workflows/schemagate.yml is a folder") {
		t.Errorf("a folder in the way: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat("schemagate.yml"); err == nil {
		t.Error("schemagate.yml written although init failed")
	}
	if leftovers, _ := filepath.Glob(".github/workflows/.schemagate-init-*"); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	for _, args := range [][]string{{"init", "--dry-run", "--ci", "none"}, {"rules", "set-not-null"}} {
		var errb strings.Builder
		app := &App{Stdout: failingWriter{}, Stderr: &errb, Stdin: strings.NewReader(""), Version: "test", Getenv: func(string) string { return "" }}
		if code := app.Run(t.Context(), args); code != ExitFailure || !strings.Contains(errb.String(), "write to standard output") {
			t.Errorf("%v to a failing standard output: exit %d\n%s", args, code, errb.String())
		}
	}
}

// failingWriter fails every write, as a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// checkWorkflowChain holds the workflows init wrote together: workflow 2 runs after the workflows named
// as workflows 1 and 3 name themselves; its gate step's arguments are flags of schemagate gate, read
// the artifact workflow 1 uploads, from the workflow file --check-workflow takes by default; its
// comment step reads the file that artifact holds.
func checkWorkflowChain(t *testing.T) {
	t.Helper()
	type step struct {
		Uses, Run string
		With      map[string]string
	}
	type workflow struct {
		Name string
		On   map[string]struct {
			Workflows []string
			Types     []string
		}
		Permissions map[string]string
		Jobs        map[string]struct {
			If    string
			Needs string
			Steps []step
		}
	}
	read := func(name string) workflow {
		var wf workflow
		if err := yaml.Unmarshal([]byte(readText(t, filepath.Join(".github", "workflows", name))), &wf); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return wf
	}
	check, comment, review := read("schemagate.yml"), read("schemagate-comment.yml"), read("schemagate-approval.yml")
	if got := comment.On["workflow_run"].Workflows; !slices.Equal(got, []string{check.Name, review.Name}) {
		t.Errorf("schemagate-comment.yml runs after %v, want [%s %s]", got, check.Name, review.Name)
	}
	if _, ok := review.On["pull_request_review"]; !ok || len(review.Permissions) != 0 {
		t.Errorf("schemagate-approval.yml: on %v, permissions %v: want pull_request_review and none", review.On, review.Permissions)
	}
	if pr, ok := review.On["pull_request"]; !ok || !slices.Contains(pr.Types, "synchronize") {
		t.Errorf("schemagate-approval.yml: on %v: want every push to a pull request (no paths), which workflow 1 filters", review.On)
	}
	var uploaded, uploadedFile string
	for _, st := range check.Jobs["schemagate"].Steps {
		if strings.HasPrefix(st.Uses, "actions/upload-artifact@") {
			uploaded, uploadedFile = st.With["name"], st.With["path"]
		}
	}
	if uploaded == "" || uploadedFile != defaultReportFile {
		t.Fatalf("schemagate.yml uploads %q (%q), want the report %s", uploaded, uploadedFile, defaultReportFile)
	}
	for perm, want := range map[string]string{"actions": "read", "contents": "read", "pull-requests": "write", "statuses": "write"} {
		if comment.Permissions[perm] != want {
			t.Errorf("schemagate-comment.yml permission %s = %q, want %s", perm, comment.Permissions[perm], want)
		}
	}
	gateJob := comment.Jobs["gate"]
	if gateJob.Needs != "comment" || !strings.Contains(gateJob.If, `"pull_request_review"`) || !strings.Contains(gateJob.If, "!cancelled()") ||
		!strings.Contains(gateJob.If, `["success", "failure"]`) {
		t.Errorf("gate job: needs %q, if %q", gateJob.Needs, gateJob.If)
	}
	var gateArgs, commentArgs string
	for _, st := range gateJob.Steps {
		if strings.HasPrefix(st.Uses, "docker://") {
			gateArgs = st.With["args"]
		}
		if strings.HasPrefix(st.Uses, "actions/checkout@") && st.With["ref"] != "" {
			t.Errorf("the gate job checks out %q: only the default branch is trusted", st.With["ref"])
		}
	}
	for _, st := range comment.Jobs["comment"].Steps {
		if strings.HasPrefix(st.Uses, "actions/download-artifact@") && st.With["name"] != uploaded {
			t.Errorf("the comment job downloads %q, workflow 1 uploads %q", st.With["name"], uploaded)
		}
		if strings.HasPrefix(st.Uses, "docker://") {
			commentArgs = st.With["args"]
		}
	}
	if !strings.HasSuffix(commentArgs, "/"+uploadedFile) {
		t.Errorf("the comment job reads %q, the artifact holds %s", commentArgs, uploadedFile)
	}
	args := strings.Fields(gateArgs)
	if len(args) == 0 || args[0] != "gate" {
		t.Fatalf("the gate job runs %q", gateArgs)
	}
	cmd := (&App{}).newGateCmd()
	if err := cmd.ParseFlags(args[1:]); err != nil {
		t.Fatalf("the gate job's arguments %q: %v", gateArgs, err)
	}
	if v, _ := cmd.Flags().GetString("report-artifact"); v != uploaded {
		t.Errorf("the gate reads the artifact %q, workflow 1 uploads %q", v, uploaded)
	}
	if v, _ := cmd.Flags().GetString("check-workflow"); v != "schemagate.yml" {
		t.Errorf("--check-workflow %q is not workflow 1's file", v)
	}
	if v, _ := cmd.Flags().GetBool("status-only"); !v {
		t.Error("the gate job fails while approval is pending: give --status-only")
	}
}

// TestInitFlywaySiblingFolders: sibling Flyway folders whose versions make one sequence are the
// versioned subfolders of one location, their parent, which init proposes (at any depth of nesting);
// siblings that hold one version twice (vendor folders), are modules, or sit in a module's root or the
// repository's are separate histories, listed apart.
func TestInitFlywaySiblingFolders(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string   // the folder line; "" for several
		apart []string // the folders listed when several
	}{
		{"interleaved versions", map[string]string{
			"sql/v1/V1_1__a.sql":  "CREATE TABLE a (id int);\n",
			"sql/v1/V1_10__b.sql": "CREATE TABLE b (id int);\n",
			"sql/v2/V1_2__c.sql":  "CREATE TABLE c (id int);\n",
			"sql/v2/V1_20__d.sql": "CREATE TABLE d (id int);\n",
		}, "sql (flyway, 4 migrations)", nil},
		{"nested by year and quarter", map[string]string{
			"db/migration/2023/q1/V1__a.sql": "CREATE TABLE a (id int);\n",
			"db/migration/2023/q2/V2__b.sql": "CREATE TABLE b (id int);\n",
			"db/migration/2024/q1/V3__c.sql": "CREATE TABLE c (id int);\n",
			"db/migration/2024/q2/V4__d.sql": "CREATE TABLE d (id int);\n",
		}, "db/migration (flyway, 4 migrations)", nil},
		{"vendor folders share versions", map[string]string{
			"db/migration/postgres/V1__a.sql": "CREATE TABLE a (id int);\n",
			"db/migration/h2/V1__a.sql":       "CREATE TABLE a (id int);\n",
			"db/migration/h2/V2__b.sql":       "CREATE TABLE b (id int);\n",
		}, "", []string{"db/migration/h2 (flyway, 2 migrations)", "db/migration/postgres (flyway, 1 migration)"}},
		{"sibling modules", map[string]string{
			"services/a/pom.xml":   "<project/>\n",
			"services/a/V1__a.sql": "CREATE TABLE a (id int);\n",
			"services/b/pom.xml":   "<project/>\n",
			"services/b/V2__b.sql": "CREATE TABLE b (id int);\n",
		}, "", []string{"services/a (flyway, 1 migration)", "services/b (flyway, 1 migration)"}},
		{"in a module's root", map[string]string{
			"app/build.gradle": "plugins {}\n",
			"app/v1/V1__a.sql": "CREATE TABLE a (id int);\n",
			"app/v2/V2__b.sql": "CREATE TABLE b (id int);\n",
		}, "", []string{"app/v1 (flyway, 1 migration)", "app/v2 (flyway, 1 migration)"}},
		{"another migration folder beside them", map[string]string{
			"db/v1/V1__a.sql":        "CREATE TABLE a (id int);\n",
			"db/v2/V2__b.sql":        "CREATE TABLE b (id int);\n",
			"db/legacy/1_a.up.sql":   "CREATE TABLE a (id int);\n",
			"db/legacy/1_a.down.sql": "DROP TABLE a;\n",
		}, "", []string{"db/legacy (golang-migrate, 1 migration)", "db/v1 (flyway, 1 migration)", "db/v2 (flyway, 1 migration)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			writeTree(t, tc.files)
			code, out, errOut := runStdin(t, "", "init", "--ci", "none")
			if tc.want == "" {
				if code != ExitUsage || !strings.Contains(errOut, fmt.Sprintf("%d migration folders found", len(tc.apart))) {
					t.Fatalf("exit %d, want %d folders listed\n%s%s", code, len(tc.apart), out, errOut)
				}
				for _, f := range tc.apart {
					if !strings.Contains(errOut, "  "+f+"\n") && !strings.HasSuffix(errOut, "  "+f) {
						t.Errorf("%s not listed:\n%s", f, errOut)
					}
				}
				return
			}
			if code != ExitOK || !strings.Contains(out, "migration folder: "+tc.want+"\n  one Flyway location: its subfolders ") {
				t.Fatalf("exit %d, want folder %s\n%s%s", code, tc.want, out, errOut)
			}
			cfg := config.Default()
			if err := config.LoadOver("schemagate.yml", true, cfg); err != nil || cfg.Dir != strings.SplitN(tc.want, " (", 2)[0] || cfg.Format != "flyway" {
				t.Errorf("schemagate.yml: dir %q format %q (%v)", cfg.Dir, cfg.Format, err)
			}
		})
	}
}

// TestInitSkipsWhatGitIgnores: in a git repository, folders git ignores (an IDE's bin/ and out/ copies of
// a module's migrations) are not migration folders; an untracked folder no rule ignores still is (a new
// repository tracks nothing), and so is one that git would ignore but that holds a tracked file.
// Outside a repository the .gitignore is not read.
func TestInitSkipsWhatGitIgnores(t *testing.T) {
	flyway := map[string]string{"V1__a.sql": "CREATE TABLE a (id int);\n", "V2__b.sql": "CREATE TABLE b (id int);\n"}
	tree := func(dirs ...string) map[string]string {
		files := map[string]string{".gitignore": "bin/\nout/\n"}
		for _, d := range dirs {
			for name, text := range flyway {
				files[d+"/"+name] = text
			}
		}
		return files
	}
	root := t.TempDir()
	t.Chdir(root)
	writeTree(t, tree("app/src/main/resources/db/migration", "app/bin/main/db/migration", "app/out/production/resources/db/migration"))
	runGit(t, root, "init", "-q")
	code, out, errOut := runStdin(t, "", "init", "--dry-run", "--ci", "none")
	if code != ExitOK || !strings.Contains(out, "migration folder: app/src/main/resources/db/migration (flyway, 2 migrations)\n") {
		t.Errorf("ignored copies: exit %d\n%s%s", code, out, errOut)
	}

	// A tracked file in an ignored folder: git tracks the folder, and so does init.
	runGit(t, root, "add", "-f", "app/out/production/resources/db/migration/V1__a.sql")
	code, out, errOut = runStdin(t, "", "init", "--dry-run", "--ci", "none")
	if code != ExitUsage || !strings.Contains(errOut, "2 migration folders found") || !strings.Contains(errOut, "app/out/production/resources/db/migration (flyway") {
		t.Errorf("a tracked file under out/: exit %d\n%s%s", code, out, errOut)
	}

	// Outside a repository: no git, the .gitignore read by nobody.
	t.Chdir(t.TempDir())
	writeTree(t, tree("app/src/main/resources/db/migration", "app/bin/main/db/migration"))
	code, _, errOut = runStdin(t, "", "init", "--dry-run", "--ci", "none")
	if code != ExitUsage || !strings.Contains(errOut, "2 migration folders found") {
		t.Errorf("outside a repository: exit %d\n%s", code, errOut)
	}
}

// TestInitGitLabExistingStages: what init says to add to an existing .gitlab-ci.yml, pasted into it, makes
// a configuration whose check and gate jobs run in a stage it has (the stage input the components
// declare, else their default, test; GitLab refuses a job whose stage does not exist), with a workflow: that
// runs one pipeline per push, the file's own when it has one; where init cannot tell (stages: from an
// include, a file that does not parse), it says what to check.
func TestInitGitLabExistingStages(t *testing.T) {
	specs := map[string]map[string]struct{ Default any }{}
	for _, name := range []string{"check", "gate"} {
		spec := readText(t, filepath.Join("..", "..", "templates", name+".yml"))
		var doc struct {
			Spec struct {
				Inputs map[string]struct{ Default any }
			}
		}
		if err := yaml.Unmarshal([]byte(spec[:strings.Index(spec, "\n---\n")]), &doc); err != nil || len(doc.Spec.Inputs) == 0 {
			t.Fatalf("templates/%s.yml: %v", name, err)
		}
		specs[name] = doc.Spec.Inputs
	}
	for _, tc := range []struct {
		name, file string
		stage      string   // the stage input init gives; "" none
		pastes     bool     // the addition pasted after the file is a configuration
		says       []string // in the advice
	}{
		{"stages without test", "stages: [build, deploy]\nbuild:\n  stage: build\n  script: [make]\n", "build", true,
			[]string{"Its stages: has no test", "they run in build", "A job of\n# yours without rules: runs in branch pipelines only"}},
		{"a stage that checks", "stages:\n  - build\n  - verify\n  - deploy\nbuild:\n  stage: build\n  script: [make]\n", "verify", true, nil},
		{"GitLab's default stages", "build:\n  script: [make]\n", "", true, nil},
		{"stages with test", "stages: [build, test]\nunit:\n  stage: test\n  script: [make test]\n", "", true, nil},
		{"its own workflow", "workflow:\n  rules:\n    - if: $CI_COMMIT_BRANCH\nstages: [lint, build]\nlint:\n  stage: lint\n  script: [make lint]\n", "lint", true,
			[]string{"Its workflow: stays as it is: check that its rules let merge request pipelines run"}},
		{"stages from an include", "include:\n  - local: ci/base.yml\n", "", false,
			[]string{"if a file it includes sets stages:, check that it has test", "It has an include: already: add the two entries below to its list"}},
		{"not YAML", "stages: [build\n", "", false, []string{".gitlab-ci.yml does not read as YAML", "check\n# that its stages: has test"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			writeTree(t, map[string]string{"db/migrations/1_a.up.sql": "CREATE TABLE a (id int);\n", ".gitlab-ci.yml": tc.file})
			code, out, errOut := runStdin(t, "", "init", "--dry-run")
			const head = "# add to the existing .gitlab-ci.yml:\n"
			at, end := strings.Index(out, head), strings.Index(out, "\n\nmigration folder:")
			if code != ExitOK || at < 0 || end < at {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			addition := out[at+len(head) : end]
			for _, s := range tc.says {
				if !strings.Contains(addition, s) {
					t.Errorf("the advice does not say %q:\n%s", s, addition)
				}
			}
			var added struct {
				Include []struct {
					Component string
					Inputs    map[string]any
				}
			}
			if err := yaml.Unmarshal([]byte(addition), &added); err != nil || len(added.Include) != 2 {
				t.Fatalf("the addition does not read: %v\n%s", err, addition)
			}
			for _, inc := range added.Include {
				name := strings.TrimSuffix(inc.Component[strings.LastIndex(inc.Component, "/")+1:], "@1.0.0")
				if got, _ := inc.Inputs["stage"].(string); got != tc.stage {
					t.Errorf("%s: stage input %q, want %q", name, got, tc.stage)
				}
				for in := range inc.Inputs {
					if _, ok := specs[name][in]; !ok {
						t.Errorf("component %s has no input %q", name, in)
					}
				}
			}
			if !tc.pastes {
				return
			}
			var pasted struct {
				Stages   []string
				Workflow map[string]any
				Include  []struct {
					Component string
					Inputs    map[string]any
				}
			}
			if err := yaml.Unmarshal([]byte(tc.file+addition), &pasted); err != nil {
				t.Fatalf("the file with the addition does not read: %v\n%s%s", err, tc.file, addition)
			}
			stages := pasted.Stages
			if len(stages) == 0 {
				stages = []string{".pre", "build", "test", "deploy", ".post"}
			}
			for _, inc := range pasted.Include {
				name := strings.TrimSuffix(inc.Component[strings.LastIndex(inc.Component, "/")+1:], "@1.0.0")
				stage, given := inc.Inputs["stage"]
				if !given {
					stage = specs[name]["stage"].Default
				}
				if s, _ := stage.(string); !slices.Contains(stages, s) {
					t.Errorf("%s's job runs in stage %v, which stages %v lacks", name, stage, stages)
				}
			}
			if rules, _ := pasted.Workflow["rules"].([]any); len(rules) == 0 {
				t.Errorf("no workflow rules after pasting:\n%s%s", tc.file, addition)
			}
		})
	}
}
