package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const checkoutToken = "c2NoZW1hZ2F0ZS1zZWNyZXQ="

// tokenRepo makes a real git repository whose .git/config holds the token actions/checkout stores there,
// with one migration on main; branch pr (checked out) adds a migration that links to .git/config.
func tokenRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	git := func(args ...string) string { t.Helper(); return runGit(t, root, args...) }
	git("init", "-q", "-b", "main")
	git("config", "http.https://github.com/.extraheader", "AUTHORIZATION: basic "+checkoutToken)
	mig := filepath.Join(root, "migrations")
	if err := os.MkdirAll(mig, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(mig, "1_init.up.sql"), []byte("CREATE TABLE users (id bigint PRIMARY KEY);\n"))
	git("add", ".")
	git("commit", "-q", "-m", "base")
	git("checkout", "-q", "-b", "pr")
	if err := os.Symlink("../.git/config", filepath.Join(mig, "2_x.up.sql")); err != nil {
		t.Fatal(err)
	}
	git("add", ".")
	git("commit", "-q", "-m", "link")
	return root
}

// TestGitDirIsNeverRead: a migration that links to .git/config (where actions/checkout keeps the job's
// token) is an error at the file, and neither the output nor the reports quote the token.
func TestGitDirIsNeverRead(t *testing.T) {
	root := tokenRepo(t)
	t.Chdir(root)
	noToken := func(t *testing.T, what string, texts ...string) {
		t.Helper()
		for _, s := range texts {
			if strings.Contains(s, checkoutToken) || strings.Contains(s, "extraheader") {
				t.Errorf("%s quotes .git/config:\n%s", what, s)
			}
		}
	}
	code, out, errOut := run(t, nil, "lint")
	if code == ExitOK || !strings.Contains(errOut, "2_x.up.sql") || !strings.Contains(errOut, ".git folder") {
		t.Errorf("lint: exit %d, want an error naming 2_x.up.sql and .git\n%s%s", code, out, errOut)
	}
	noToken(t, "lint", out, errOut)

	t.Run("check", func(t *testing.T) {
		requirePG(t)
		reports := t.TempDir()
		jsonPath, mdPath := filepath.Join(reports, "report.json"), filepath.Join(reports, "report.md")
		code, out, errOut := run(t, nil, "check", "--base", "main", "--report-json", jsonPath, "--report-md", mdPath, "-q")
		if code == ExitOK || !strings.Contains(errOut, "2_x.up.sql") || !strings.Contains(errOut, ".git folder") {
			t.Errorf("check: exit %d, want an error naming 2_x.up.sql and .git\n%s%s", code, out, errOut)
		}
		json, _ := os.ReadFile(jsonPath)
		md, _ := os.ReadFile(mdPath)
		noToken(t, "check", out, errOut, string(json), string(md))
	})

	// schemagate.yml's paths may not lead into .git either, linked or not.
	if err := os.Symlink(".git/hooks", filepath.Join(root, "hooks")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, yml, want string }{
		{"setup", "database:\n  setup: [.git/config]\n", "schemagate.yml:2:11: database.setup[0]"},
		{"dir", "dir: .git\n", "schemagate.yml:1:6: dir"},
		{"linked dir", "dir: hooks\n", "schemagate.yml:1:6: dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeFile(t, filepath.Join(root, "schemagate.yml"), []byte(tc.yml))
			code, out, errOut := run(t, nil, "lint")
			if code != ExitUsage || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, ".git folder") {
				t.Errorf("exit %d, want %d naming %q as leading into .git\n%s%s", code, ExitUsage, tc.want, out, errOut)
			}
			noToken(t, tc.name, out, errOut)
		})
	}
	os.Remove(filepath.Join(root, "schemagate.yml"))
	// A schemagate.yml that is itself a link into .git.
	if err := os.Symlink(".git/config", filepath.Join(root, "schemagate.yml")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, nil, "lint", "--dir", "migrations")
	if code == ExitOK || !strings.Contains(errOut, ".git folder") {
		t.Errorf("schemagate.yml linked to .git/config: exit %d\n%s%s", code, out, errOut)
	}
	noToken(t, "schemagate.yml link", out, errOut)
}
