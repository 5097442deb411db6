package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigPathsStayInTheRepository: dir and database.setup in schemagate.yml must name files inside
// the repository that holds it; otherwise exit 2 naming the key and its line, and nothing of the file
// outside is read or quoted. The same paths on the command line are the user's and are read.
func TestConfigPathsStayInTheRepository(t *testing.T) {
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	mig := filepath.Join(repo, "db", "migrations")
	outside := filepath.Join(dir, "outside")
	for _, d := range []string{filepath.Join(repo, ".git"), mig, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(dir, "secret.txt")
	writeFile(t, secret, []byte("secret_token_value\n"))
	writeFile(t, filepath.Join(mig, "1_a.up.sql"), []byte("CREATE TABLE a (id bigint PRIMARY KEY);\n"))
	writeFile(t, filepath.Join(outside, "1_x.up.sql"), []byte("CREATE TABLE secret_token_value (id bigint PRIMARY KEY);\n"))
	writeFile(t, filepath.Join(repo, "db", "roles.sql"), []byte("CREATE ROLE app;\n"))
	if err := os.Symlink(outside, filepath.Join(repo, "db", "elsewhere")); err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, secret) // ../../../tmp/...: relative to the working directory, out of the repository
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(repo, "schemagate.yml")
	url := []string{"--provider", "url", "--database-url", "postgres://127.0.0.1:1/x", "-q"}
	for _, tc := range []struct {
		name, yml, want string
		args            []string
	}{
		{"absolute setup", "dir: " + mig + "\ndatabase:\n  setup:\n    - " + filepath.Join(repo, "db", "roles.sql") + "\n    - " + secret + "\n",
			"schemagate.yml:5:7: database.setup[1]", append([]string{"check"}, url...)},
		{"relative setup", "database:\n  setup: [" + rel + "]\n", "schemagate.yml:2:11: database.setup[0]", append([]string{"check", "--dir", mig}, url...)},
		{"proc", "database:\n  setup: [/proc/self/environ]\n", "schemagate.yml:2:11: database.setup[0]", append([]string{"check", "--dir", mig}, url...)},
		{"absolute dir", "# the folder\ndir: " + outside + "\n", "schemagate.yml:2:6: dir", append([]string{"check"}, url...)},
		{"dotdot dir", "dir: " + filepath.Join(repo, "..", "outside") + "\n", "schemagate.yml:1:6: dir", []string{"lint"}},
		{"linked dir", "dir: " + filepath.Join(repo, "db", "elsewhere") + "\n", "schemagate.yml:1:6: dir", []string{"lint"}},
		{"gate", "dir: " + outside + "\n", "schemagate.yml:1:6: dir", []string{"gate", "--repo", "a/b", "--pr", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeFile(t, cfg, []byte(tc.yml))
			code, out, errOut := run(t, map[string]string{"GITHUB_TOKEN": "x"}, append(tc.args, "--config", cfg)...)
			if code != ExitUsage || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "leads out of the repository") {
				t.Errorf("exit %d, want %d naming %q as out of the repository\n%s%s", code, ExitUsage, tc.want, out, errOut)
			}
			if strings.Contains(out+errOut, "secret_token_value") {
				t.Errorf("the output quotes a file outside the repository:\n%s%s", out, errOut)
			}
		})
	}

	// Inside the repository, and on the command line, paths are fine.
	writeFile(t, cfg, []byte("dir: "+mig+"\n"))
	if code, out, errOut := run(t, nil, "lint", "--config", cfg); code != ExitOK {
		t.Errorf("dir inside: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := run(t, nil, "lint", "--dir", outside); code != ExitOK || !strings.Contains(errOut, "1 file") {
		t.Errorf("--dir outside on the command line: exit %d\n%s%s", code, out, errOut)
	}
}
