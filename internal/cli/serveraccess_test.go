package cli

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
)

// openToTheServer lets the local provider's server, which runs as another user (postgres, when the
// tests run as root), into the folders of path: what a runner's workspace is to it.
func openToTheServer(t *testing.T, path string) {
	t.Helper()
	for p := path; p != filepath.Dir(p) && strings.HasPrefix(p, os.TempDir()+string(filepath.Separator)); p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// serverDropBox is a folder the rehearsal's server may write in: a file it writes there proves a
// statement ran.
func serverDropBox(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	openToTheServer(t, dir)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestActionRefusesMigrationsThatReadTheCheckoutsToken: actions/checkout leaves the job's token in the
// clone's .git/config, which the rehearsal's server may read. In a pull request's rehearsal a migration
// that reads it (pg_read_file into an exception's message) or writes a file of the machine is refused
// before anything runs, at its file and line, exit 2: the server never writes the file, and the token is
// in no output, annotation, summary, comment or report.
func TestActionRefusesMigrationsThatReadTheCheckoutsToken(t *testing.T) {
	requirePG(t)
	root, base, _ := gitRepo(t)
	openToTheServer(t, root)
	token := "ghs_" + strings.Repeat("S3cr3t", 6)
	header := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token))
	runGit(t, root, "config", "--local", "http.https://github.com/.extraheader", "AUTHORIZATION: basic "+header)
	drop := serverDropBox(t)
	ran := filepath.Join(drop, "ran")
	writeFile(t, filepath.Join(root, "db", "migrations", "0006_leak.up.sql"), []byte("CREATE TABLE leaked (id int);\n"+
		"COPY (SELECT 'ran') TO '"+ran+"';\n"+
		"DO $$ BEGIN RAISE EXCEPTION 'LEAK %', pg_read_file('"+filepath.Join(root, ".git", "config")+"'); END $$;\n"))
	writeFile(t, filepath.Join(root, "db", "migrations", "0006_leak.down.sql"), []byte("DROP TABLE leaked;\n"))
	runGit(t, root, "add", ".")
	runGit(t, root, "commit", "-q", "-m", "leak")
	head := runGit(t, root, "rev-parse", "HEAD")

	fake := githubtest.New(t)
	fake.SetInstallationToken(true)
	ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: actionRepo}, HeadSHA: head, BaseSHA: base, BaseRef: "main"}, nil)
	r := newActionRun(t, fake, root, prEvent(t, t.TempDir(), ref.Number, base, head, actionRepo))
	code, out, errOut := run(t, r.env, "action")
	if code != ExitUsage {
		t.Errorf("exit %d, want %d\n%s\n%s", code, ExitUsage, out, errOut)
	}
	for _, want := range []string{"0006_leak.up.sql:2: COPY to or from a server file", "0006_leak.up.sql:3: pg_read_file(",
		"rehearsal.allow_server_access: true in schemagate.yml on the base branch", "::error::schemagate: the migrations reach the files or programs"} {
		if !strings.Contains(out, want) {
			t.Errorf("the action's log does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "starting a throwaway PostgreSQL") {
		t.Errorf("a server started for refused migrations:\n%s", out)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Errorf("the server ran the migration: it wrote %s", ran)
	}
	summary, _ := os.ReadFile(r.summaries)
	outputs, _ := os.ReadFile(r.outputs)
	rep, _ := os.ReadFile(r.env["INPUT_REPORT-JSON"])
	texts := map[string]string{"stdout": out, "stderr": errOut, "job summary": string(summary), "outputs": string(outputs), "report": string(rep)}
	for _, c := range fake.Comments(ref) {
		texts["comment"] += c.Body
	}
	for where, text := range texts {
		for _, secret := range []string{token, header, "LEAK "} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s holds %q:\n%s", where, secret, text)
			}
		}
	}
}

// TestCIServerAccessOnlyTheBaseOptsIn: in a CI job the base branch's rehearsal.allow_server_access lets
// a migration write a file of the server's machine; the change's own setting does not (a note says it
// is ignored, the run is refused with exit 2 and the file not written); outside CI nothing is refused,
// as before.
func TestCIServerAccessOnlyTheBaseOptsIn(t *testing.T) {
	requirePG(t)
	allow := "rehearsal:\n  allow_server_access: true\n"
	for _, tc := range []struct {
		name           string
		env            map[string]string
		baseYML, prYML string
		refused        bool
	}{
		{"the base allows, GitHub Actions", map[string]string{"GITHUB_ACTIONS": "true"}, allow, allow, false},
		{"the change allows, GitHub Actions", map[string]string{"GITHUB_ACTIONS": "true"}, "dir: db/migrations\n", allow, true},
		{"the change allows, GitLab CI", map[string]string{"GITLAB_CI": "true"}, "", allow, true},
		{"nobody allows, GitLab CI", map[string]string{"GITLAB_CI": "true"}, "", "", true},
		{"nobody allows, outside CI", nil, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drop := serverDropBox(t)
			written := filepath.Join(drop, "items.csv")
			root := prRepo(t, map[string]string{
				"schemagate.yml":                    tc.baseYML,
				"db/migrations/0001_items.up.sql":   "CREATE TABLE items (id int);\n",
				"db/migrations/0001_items.down.sql": "DROP TABLE items;\n",
			}, map[string]string{
				"schemagate.yml":                     tc.prYML,
				"db/migrations/0002_export.up.sql":   "INSERT INTO items VALUES (1);\nCOPY items TO '" + written + "';\n",
				"db/migrations/0002_export.down.sql": "DELETE FROM items;\n",
			})
			openToTheServer(t, root)
			code, out, errOut := run(t, tc.env, "check", "--dir", filepath.Join(root, "db", "migrations"), "--config", filepath.Join(root, "schemagate.yml"), "--base", "main")
			_, statErr := os.Stat(written)
			if !tc.refused {
				if code != ExitOK || statErr != nil {
					t.Fatalf("exit %d, file written: %v; want exit 0 and the file written\n%s\n%s", code, statErr, out, errOut)
				}
				return
			}
			if code != ExitUsage || statErr == nil || !strings.Contains(errOut, "0002_export.up.sql:2: COPY to or from a server file") {
				t.Fatalf("exit %d, file written: %v; want exit 2, the statement refused at its line and no file\n%s\n%s", code, statErr == nil, out, errOut)
			}
			if tc.prYML != "" && !strings.Contains(errOut, "sets rehearsal.allow_server_access to true: ignored") {
				t.Errorf("no note says the change's rehearsal.allow_server_access is ignored:\n%s", errOut)
			}
		})
	}
}
