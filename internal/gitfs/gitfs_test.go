package gitfs

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// newRepo makes a git repository in a temporary folder, with a local identity so commits work anywhere.
func newRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "config", "user.name", "Schemagate Test")
	git(t, dir, "config", "user.email", "test@example.com")
	git(t, dir, "config", "commit.gpgsign", "false")
	return dir
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func commitAll(t *testing.T, dir, msg string) {
	t.Helper()
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", msg)
}

func TestNewReadsFolderAtRef(t *testing.T) {
	t.Parallel()
	dir := newRepo(t)
	v1 := map[string]string{
		"db/migrations/1_init.up.sql":   "CREATE TABLE t (id int);\n",
		"db/migrations/1_init.down.sql": "DROP TABLE t;", // no final newline
		"db/migrations/empty.sql":       "",
		"db/migrations/sub/deep.sql":    "SELECT 1;\n\n\n",
		"db/migrations/bin.dat":         "\x00\x01\xff\n\x00",
		"db/other.sql":                  "SELECT 2;\n",
		"README.md":                     "# repo\n",
	}
	write(t, dir, v1)
	// Links are followed inside the commit (to its content of the target, not the working tree's);
	// out of the repository, dangling or to a folder, they are left out.
	for target, at := range map[string]string{
		"1_init.up.sql":   "db/migrations/link.sql",
		"../other.sql":    "db/migrations/up.sql",
		"/etc/passwd":     "db/migrations/abs.sql",
		"../../../secret": "db/migrations/out.sql",
		"nowhere.sql":     "db/migrations/dangling.sql",
		"sub":             "db/migrations/dir.sql",
	} {
		if err := os.Symlink(target, filepath.Join(dir, at)); err != nil {
			t.Fatal(err)
		}
	}
	commitAll(t, dir, "v1")
	git(t, dir, "tag", "v1")
	// Later changes, committed and not, must not show at v1.
	write(t, dir, map[string]string{"db/migrations/2_next.up.sql": "SELECT 3;\n", "db/migrations/1_init.up.sql": "changed"})
	commitAll(t, dir, "v2")
	write(t, dir, map[string]string{"db/migrations/3_wip.up.sql": "SELECT 4;\n"})

	for _, tc := range []struct{ name, repoDir, subdir string }{
		{"from top", dir, "db/migrations"},
		{"trailing slash", dir, "db/migrations/"},
		{"from a subfolder of the work tree", filepath.Join(dir, "db"), "migrations"},
		{"dotted", dir, "./db/../db/migrations"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys, err := New(t.Context(), tc.repoDir, "v1", tc.subdir)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"1_init.down.sql", "1_init.up.sql", "bin.dat", "empty.sql", "link.sql", "sub/deep.sql", "up.sql"}
			if err := fstest.TestFS(fsys, want...); err != nil {
				t.Fatal(err)
			}
			var got []string
			if err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					got = append(got, p)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("files = %q, want %q (links followed inside the commit only, nothing from later commits)", got, want)
			}
			for _, name := range want {
				b, err := fs.ReadFile(fsys, name)
				if err != nil {
					t.Fatal(err)
				}
				wantText := v1["db/migrations/"+name]
				switch name {
				case "link.sql":
					wantText = v1["db/migrations/1_init.up.sql"]
				case "up.sql":
					wantText = v1["db/other.sql"]
				}
				if string(b) != wantText {
					t.Errorf("%s = %q, want %q", name, b, wantText)
				}
			}
		})
	}
}

func TestNewWholeRepository(t *testing.T) {
	t.Parallel()
	dir := newRepo(t)
	write(t, dir, map[string]string{"a.sql": "SELECT 1;", "x/b.sql": "SELECT 2;"})
	commitAll(t, dir, "one")
	for _, sub := range []string{"", "."} {
		fsys, err := New(t.Context(), dir, "HEAD", sub)
		if err != nil {
			t.Fatal(err)
		}
		if err := fstest.TestFS(fsys, "a.sql", "x/b.sql"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewMissingFolderIsEmpty(t *testing.T) {
	t.Parallel()
	dir := newRepo(t)
	write(t, dir, map[string]string{"db/migrationsX/1.sql": "SELECT 1;", "db/migrations.sql": "SELECT 1;"})
	commitAll(t, dir, "one")
	fsys, err := New(t.Context(), dir, "main", "db/migrations")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil || len(entries) != 0 {
		t.Fatalf("ReadDir = %v, %v; want an empty folder", entries, err)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	dir := newRepo(t)
	write(t, dir, map[string]string{"db/schema.sql": "SELECT 1;"})
	commitAll(t, dir, "one")
	notRepo := t.TempDir()
	tests := []struct {
		name, repoDir, ref, subdir string
		is                         error
		contains                   string
	}{
		{name: "unknown ref", repoDir: dir, ref: "origin/main", subdir: "db", is: ErrUnknownRef, contains: `"origin/main"`},
		{name: "unknown ref hint", repoDir: dir, ref: "deadbeef", subdir: "db", is: ErrUnknownRef, contains: "fetch-depth: 0"},
		{name: "option-like ref", repoDir: dir, ref: "--all", subdir: "db", is: ErrUnknownRef},
		{name: "empty ref", repoDir: dir, ref: "", subdir: "db", is: ErrUnknownRef},
		{name: "ref to a blob", repoDir: dir, ref: "HEAD:db/schema.sql", subdir: "db", is: ErrUnknownRef, contains: "names no commit"},
		{name: "ref to a tree", repoDir: dir, ref: "HEAD^{tree}", subdir: "db", is: ErrUnknownRef, contains: `git ref "HEAD^{tree}" names no commit`},
		{name: "not a repository", repoDir: notRepo, ref: "HEAD", subdir: ".", is: ErrNotRepository},
		{name: "missing directory", repoDir: filepath.Join(notRepo, "nope"), ref: "HEAD", subdir: ".", contains: "run git rev-parse"},
		{name: "folder is a file", repoDir: dir, ref: "HEAD", subdir: "db/schema.sql", contains: "not a folder"},
		{name: "outside the repository", repoDir: dir, ref: "HEAD", subdir: "../elsewhere", contains: "outside the repository"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fsys, err := New(t.Context(), tc.repoDir, tc.ref, tc.subdir)
			if err == nil {
				t.Fatalf("New = %v, want an error", fsys)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not contain %q", err, tc.contains)
			}
		})
	}
}

func TestChangedFiles(t *testing.T) {
	t.Parallel()
	dir := newRepo(t)
	write(t, dir, map[string]string{
		"db/m/a.sql": "SELECT 1;", "db/m/b.sql": "SELECT 2;", "db/m/c.sql": "SELECT 3;",
		"db/m/r.sql": "SELECT 4;", "db/m/keep.sql": "SELECT 5;", "app.go": "package main",
		".gitignore": "*.ignored.sql\n",
	})
	commitAll(t, dir, "base")
	git(t, dir, "checkout", "-q", "-b", "feature")
	write(t, dir, map[string]string{"db/m/a.sql": "SELECT 10;", "db/m/d.sql": "SELECT 11;", "app.go": "package app"})
	git(t, dir, "rm", "-q", "db/m/c.sql")
	git(t, dir, "mv", "db/m/r.sql", "db/m/renamed.sql")
	commitAll(t, dir, "feature work")
	// main moves on after the branch point: its new file is not part of the change.
	git(t, dir, "checkout", "-q", "main")
	write(t, dir, map[string]string{"db/m/g.sql": "SELECT 12;"})
	commitAll(t, dir, "main moves on")
	git(t, dir, "checkout", "-q", "feature")
	// Uncommitted work: staged, unstaged, untracked, ignored.
	write(t, dir, map[string]string{"db/m/b.sql": "SELECT 20;"})
	git(t, dir, "add", "db/m/b.sql")
	write(t, dir, map[string]string{
		"db/m/keep.sql": "SELECT 50;", "db/m/new/e.sql": "SELECT 21;", "db/m/x.ignored.sql": "SELECT 22;", "other/f.sql": "SELECT 23;",
	})

	got, err := ChangedFiles(t.Context(), dir, "main", "db/m")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a.sql", "b.sql", "d.sql", "keep.sql", "new/e.sql", "renamed.sql"}
	if !slices.Equal(got, want) {
		t.Errorf("ChangedFiles = %q, want %q", got, want)
	}

	got, err = ChangedFiles(t.Context(), filepath.Join(dir, "db"), "main", ".")
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"m/a.sql", "m/b.sql", "m/d.sql", "m/keep.sql", "m/new/e.sql", "m/renamed.sql"}
	if !slices.Equal(got, want) {
		t.Errorf("ChangedFiles from db/ = %q, want %q", got, want)
	}

	got, err = ChangedFiles(t.Context(), dir, "HEAD", "db/m")
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"b.sql", "keep.sql", "new/e.sql"}
	if !slices.Equal(got, want) {
		t.Errorf("ChangedFiles against HEAD = %q, want %q", got, want)
	}

	if _, err := ChangedFiles(t.Context(), dir, "origin/main", "db/m"); !errors.Is(err, ErrUnknownRef) {
		t.Errorf("unknown base: err = %v, want ErrUnknownRef", err)
	}
	if _, err := ChangedFiles(t.Context(), t.TempDir(), "main", "."); !errors.Is(err, ErrNotRepository) {
		t.Errorf("not a repository: err = %v, want ErrNotRepository", err)
	}
}

func TestChangedFilesUnrelatedHistory(t *testing.T) {
	t.Parallel()
	dir := newRepo(t)
	write(t, dir, map[string]string{"a.sql": "SELECT 1;"})
	commitAll(t, dir, "one")
	git(t, dir, "checkout", "-q", "--orphan", "other")
	commitAll(t, dir, "unrelated")
	_, err := ChangedFiles(t.Context(), dir, "main", ".")
	if err == nil || !strings.Contains(err.Error(), "merge base") || !strings.Contains(err.Error(), "fetch-depth: 0") {
		t.Errorf("err = %v, want a merge-base error with a fetch-depth hint", err)
	}
}

// TestIgnored: what .gitignore ignores is listed, a folder of ignored files once; tracked files (even
// under an ignored folder) and untracked files no rule ignores are not; paths are relative to subdir.
func TestIgnored(t *testing.T) {
	t.Parallel()
	dir := newRepo(t)
	write(t, dir, map[string]string{
		".gitignore":                             "bin/\nout/\n*.log\n",
		"app/bin/main/db/migration/V1__a.sql":    "select 1;\n",
		"app/out/keep.txt":                       "tracked\n",
		"app/out/production/db/migration/V1.sql": "select 1;\n",
		"app/src/main/resources/db/V1__a.sql":    "select 1;\n",
		"app/run.log":                            "x\n",
		"new/V1__a.sql":                          "select 1;\n",
	})
	git(t, dir, "add", "-f", ".gitignore", "app/out/keep.txt")
	git(t, dir, "commit", "-q", "-m", "init")
	got, err := Ignored(t.Context(), dir, ".")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"app/bin/", "app/out/production/", "app/run.log"}; !slices.Equal(got, want) {
		t.Errorf("Ignored = %q, want %q", got, want)
	}
	got, err = Ignored(t.Context(), dir, "app/out")
	if err != nil || !slices.Equal(got, []string{"production/"}) {
		t.Errorf("Ignored under app/out = %q (%v)", got, err)
	}
	if _, err := Ignored(t.Context(), t.TempDir(), "."); !errors.Is(err, ErrNotRepository) {
		t.Errorf("outside a repository: %v, want ErrNotRepository", err)
	}
}
