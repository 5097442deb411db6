package repofs

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// tree makes a repository (a folder with .git) holding db/migrations, and a secret next to it.
func tree(t *testing.T) (repo, secret string) {
	t.Helper()
	dir := t.TempDir()
	repo = filepath.Join(dir, "repo")
	secret = filepath.Join(dir, "secret.txt")
	for _, d := range []string{filepath.Join(repo, ".git"), filepath.Join(repo, "db", "migrations"), filepath.Join(repo, "shared")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(secret, "ghp_secret")
	write(filepath.Join(repo, "shared", "common.sql"), "SELECT 1;")
	write(filepath.Join(repo, "db", "migrations", "1_a.up.sql"), "SELECT 2;")
	link := func(target, at string) {
		if err := os.Symlink(target, filepath.Join(repo, at)); err != nil {
			t.Fatal(err)
		}
	}
	link("../../shared/common.sql", "db/migrations/2_shared.up.sql") // inside the repository
	link(secret, "db/migrations/3_abs.up.sql")                       // absolute, outside
	link("../../../secret.txt", "db/migrations/4_rel.up.sql")        // relative, outside
	link("/proc/self/environ", "schemagate.yml")
	return repo, secret
}

func TestOpenStaysInTheRepository(t *testing.T) {
	repo, _ := tree(t)
	fsys, err := Open(filepath.Join(repo, "db", "migrations"))
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	for name, want := range map[string]string{"1_a.up.sql": "SELECT 2;", "2_shared.up.sql": "SELECT 1;"} {
		if b, err := fs.ReadFile(fsys, name); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", name, b, err, want)
		}
	}
	for _, name := range []string{"3_abs.up.sql", "4_rel.up.sql", "../../../secret.txt"} {
		b, err := fs.ReadFile(fsys, name)
		if len(b) > 0 || err == nil {
			t.Errorf("%s: read %q, %v; want an error", name, b, err)
		}
		if name != "../../../secret.txt" && !errors.Is(err, ErrOutside) {
			t.Errorf("%s: %v, want ErrOutside", name, err)
		}
		if _, err := fs.Stat(fsys, name); err == nil {
			t.Errorf("%s: Stat follows the link out", name)
		}
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil || len(entries) != 4 {
		t.Errorf("ReadDir: %d entries, %v; want 4", len(entries), err)
	}
}

func TestReadFile(t *testing.T) {
	repo, secret := tree(t)
	if b, err := ReadFile(filepath.Join(repo, "db", "migrations", "2_shared.up.sql")); err != nil || string(b) != "SELECT 1;" {
		t.Errorf("link inside: %q, %v", b, err)
	}
	b, err := ReadFile(filepath.Join(repo, "schemagate.yml"))
	if len(b) > 0 || !errors.Is(err, ErrOutside) {
		t.Errorf("link to /proc/self/environ: read %d bytes, %v; want ErrOutside", len(b), err)
	}
	// A file outside any repository is read from its own folder: named directly, it is the user's choice.
	if b, err := ReadFile(secret); err != nil || string(b) != "ghp_secret" {
		t.Errorf("file outside a repository: %q, %v", b, err)
	}
	_, err = ReadFile(filepath.Join(repo, "missing.yml"))
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Path != filepath.Join(repo, "missing.yml") {
		t.Errorf("missing file: %v, want ErrNotExist naming the path as given", err)
	}
}

func TestTop(t *testing.T) {
	repo, secret := tree(t)
	if got := Top(filepath.Join(repo, "db", "migrations")); got != repo {
		t.Errorf("Top = %s, want %s", got, repo)
	}
	if got := Top(filepath.Dir(secret)); got != filepath.Dir(secret) {
		t.Errorf("Top outside a repository = %s, want the folder itself", got)
	}
}

// gitTree makes a real git repository whose .git/config holds a token as actions/checkout stores it,
// and migrations that link into .git.
func gitTree(t *testing.T) string {
	t.Helper()
	repo := t.TempDir()
	cmd := exec.Command("git", "init", "-q", repo)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	cfg := filepath.Join(repo, ".git", "config")
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("[http \"https://github.com/\"]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, d := range []string{"migrations", "sub"} {
		if err := os.MkdirAll(filepath.Join(repo, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(repo, "migrations", "1_a.up.sql"), []byte("SELECT 1;"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "sub", ".git"), []byte("gitdir: ../.git/modules/sub\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for at, target := range map[string]string{
		"migrations/2_x.up.sql":   "../.git/config",
		"migrations/3_y.up.sql":   "../.GIT/config", // a case-insensitive file system's spelling
		"migrations/4_sub.up.sql": "../sub/.git",
		"hooks":                   ".git/hooks",
		"schemagate.yml":          ".git/config",
	} {
		if err := os.Symlink(target, filepath.Join(repo, filepath.FromSlash(at))); err != nil {
			t.Fatal(err)
		}
	}
	return repo
}

// TestGitDirIsRefused: a link into .git (the checkout's token is in .git/config) is refused like a link
// out of the repository, before anything is read, whether it is a migration, a folder or a file read alone.
func TestGitDirIsRefused(t *testing.T) {
	repo := gitTree(t)
	fsys, err := Open(filepath.Join(repo, "migrations"))
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	if b, err := fs.ReadFile(fsys, "1_a.up.sql"); err != nil || string(b) != "SELECT 1;" {
		t.Errorf("1_a.up.sql: %q, %v", b, err)
	}
	for _, name := range []string{"2_x.up.sql", "4_sub.up.sql", "../.git/config"} {
		b, err := fs.ReadFile(fsys, name)
		if len(b) > 0 || err == nil {
			t.Errorf("%s: read %q, %v; want an error", name, b, err)
		}
		if name != "../.git/config" && !errors.Is(err, ErrGitDir) {
			t.Errorf("%s: %v, want ErrGitDir", name, err)
		}
		if _, err := fs.Stat(fsys, name); err == nil {
			t.Errorf("%s: Stat follows the link into .git", name)
		}
	}
	if _, err := os.Stat(filepath.Join(repo, ".GIT")); err == nil { // case-insensitive file system
		if _, err := fs.ReadFile(fsys, "3_y.up.sql"); !errors.Is(err, ErrGitDir) {
			t.Errorf("3_y.up.sql: %v, want ErrGitDir", err)
		}
	}
	for _, dir := range []string{filepath.Join(repo, "hooks"), filepath.Join(repo, ".git"), filepath.Join(repo, ".git", "hooks")} {
		if f, err := Open(dir); !errors.Is(err, ErrGitDir) {
			if f != nil {
				f.Close()
			}
			t.Errorf("Open(%s): %v, want ErrGitDir", dir, err)
		}
	}
	for _, name := range []string{filepath.Join(repo, "schemagate.yml"), filepath.Join(repo, "migrations", "2_x.up.sql"), filepath.Join(repo, ".git", "config")} {
		if b, err := ReadFile(name); len(b) > 0 || !errors.Is(err, ErrGitDir) {
			t.Errorf("ReadFile(%s): read %q, %v; want ErrGitDir", name, b, err)
		}
	}
}

// TestNamedPipesAreRefused: a named pipe (or socket, or device) where a file is read, as a configuration
// file, a setup script, a lint argument, a migration in a folder, a report or an event payload, is
// ErrNotRegular at once: reading one waited for a writer forever, and Ctrl-C did not end a read blocked
// in open. Were a read to block, the test's writer ends it, so the test fails instead of hanging. A
// regular file and a link to one inside the repository are read as before.
func TestNamedPipesAreRefused(t *testing.T) {
	repo, _ := tree(t)
	dir := filepath.Join(repo, "db", "migrations")
	pipe := filepath.Join(dir, "3_pipe.up.sql")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Ends a read blocked on the pipe (open for writing too never blocks on Linux), should one start.
		if w, err := os.OpenFile(pipe, os.O_RDWR, 0); err == nil {
			w.Close()
		}
	})
	fsys, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	reads := map[string]func() ([]byte, error){
		"ReadFile":    func() ([]byte, error) { return ReadFile(pipe) },
		"ReadRegular": func() ([]byte, error) { return ReadRegular(pipe) },
		"FS.ReadFile": func() ([]byte, error) { return fs.ReadFile(fsys, "3_pipe.up.sql") },
	}
	for name, read := range reads {
		done := make(chan error, 1)
		go func() {
			_, err := read()
			done <- err
		}()
		select {
		case err := <-done:
			var pe *fs.PathError
			if !errors.Is(err, ErrNotRegular) || !errors.As(err, &pe) {
				t.Errorf("%s of a named pipe: %v, want ErrNotRegular", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s of a named pipe still waits after 10 s", name)
		}
	}
	if b, err := ReadRegular(filepath.Join(dir, "2_shared.up.sql")); err != nil || string(b) != "SELECT 1;" {
		t.Errorf("ReadRegular of a link to a regular file: %q, %v", b, err)
	}
	if b, err := fs.ReadFile(fsys, "2_shared.up.sql"); err != nil || string(b) != "SELECT 1;" {
		t.Errorf("FS.ReadFile of a link to a regular file: %q, %v", b, err)
	}
}
