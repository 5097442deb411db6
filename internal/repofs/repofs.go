// Package repofs reads the files of the repository a command works on without ever leaving it.
//
// Pull requests choose what is in the working tree, symbolic links included. A migration, schemagate.yml
// or flyway.conf that links to /proc/self/environ or ~/.ssh/id_rsa would otherwise be read, and its
// text quoted in the report that is posted on the pull request. Reads go through an os.Root opened at
// the repository's top folder (the nearest one holding .git; the folder itself outside a repository):
// links are followed while they stay inside it, and a link that leaves it is an error that says so.
// Inside it, git's own files are refused as well: actions/checkout stores the job's token in .git/config,
// so a migration that links there (or a .git folder below the top, a submodule's) is an error too.
package repofs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrOutside is the error of a read through a symbolic link (or a path) that leaves the repository.
var ErrOutside = errors.New("symbolic link leads out of the repository; schemagate reads only files inside it")

// ErrGitDir is the error of a read of a path that leads, once its symbolic links are followed, into a
// .git folder (or onto a .git file) of the repository.
var ErrGitDir = errors.New("leads into the repository's .git folder; schemagate does not read git's own files (they may hold the checkout's token)")

// ErrNotRegular refuses a named pipe, a socket or a device where a file is read (a configuration file,
// a setup script, a migration): reading a pipe waits for a writer that may never come, and Ctrl-C does
// not end a read blocked in open.
var ErrNotRegular = errors.New("not a regular file (a named pipe, socket or device); schemagate reads only regular files")

// special tells a file ReadFile refuses (ErrNotRegular): a directory is left to the read's own error.
func special(m fs.FileMode) bool {
	return m&(fs.ModeNamedPipe|fs.ModeSocket|fs.ModeDevice|fs.ModeCharDevice|fs.ModeIrregular) != 0
}

// InGitDir tells whether the absolute path abs, cleaned and with its symbolic links followed as far as
// it exists, names a .git folder or file of the repository at top, or something inside one. Comparison
// ignores case, as a case-insensitive file system would.
func InGitDir(top, abs string) bool {
	realTop := RealPath(top)
	rel, err := filepath.Rel(realTop, RealPath(abs))
	if err != nil {
		return false
	}
	if rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		// Out of the repository: not this check's business (os.Root refuses it), but the path as given
		// may still name a .git below top lexically.
		rel, err = filepath.Rel(filepath.Clean(top), filepath.Clean(abs))
		if err != nil {
			return false
		}
	}
	for _, part := range strings.Split(filepath.ToSlash(rel), "/") {
		if strings.EqualFold(part, ".git") {
			return true
		}
	}
	return false
}

// RealPath follows the symbolic links of the longest existing part of the clean absolute path abs.
func RealPath(abs string) string {
	abs = filepath.Clean(abs)
	rest := ""
	for d := abs; ; {
		if real, err := filepath.EvalSymlinks(d); err == nil {
			return filepath.Join(real, rest)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return abs
		}
		rest = filepath.Join(filepath.Base(d), rest)
		d = parent
	}
}

// Top returns the folder reads under dir are confined to: the nearest folder at or above dir that holds
// .git, else dir itself. dir must be absolute.
func Top(dir string) string {
	for d := dir; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

// FS is a folder's files, read without leaving the repository. Close it when done.
type FS struct {
	fs.FS
	root *os.Root
	dir  string
}

// Dir is the folder's absolute path: a tool's settings may name paths relative to it, or absolute ones.
func (f *FS) Dir() string { return f.dir }

// Close releases the folder.
func (f *FS) Close() error { return f.root.Close() }

// ReadFile reads a file of the folder, refusing what safeFS refuses.
func (f *FS) ReadFile(name string) ([]byte, error) { return fs.ReadFile(f.FS, name) }

// Open returns the files of folder dir.
func Open(dir string) (*FS, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: errors.New("not a directory")}
	}
	top := Top(abs)
	root, err := os.OpenRoot(top)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(top, abs)
	if err != nil {
		root.Close()
		return nil, err
	}
	if InGitDir(top, abs) {
		root.Close()
		return nil, &fs.PathError{Op: "open", Path: dir, Err: ErrGitDir}
	}
	var fsys fs.FS = safeFS{FS: root.FS(), top: top}
	if rel != "." {
		if fsys, err = fs.Sub(fsys, filepath.ToSlash(rel)); err != nil {
			root.Close()
			return nil, err
		}
	}
	return &FS{FS: fsys, root: root, dir: abs}, nil
}

// ReadFile reads one file (a configuration file, a setup script) without following a link out of the
// repository that holds it.
func ReadFile(name string) ([]byte, error) {
	abs, err := filepath.Abs(name)
	if err != nil {
		return nil, err
	}
	top := Top(filepath.Dir(abs))
	root, err := os.OpenRoot(top)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	rel, err := filepath.Rel(top, abs)
	if err != nil {
		return nil, err
	}
	if InGitDir(top, abs) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: ErrGitDir}
	}
	if fi, err := root.Stat(rel); err == nil && special(fi.Mode()) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: ErrNotRegular}
	}
	b, err := root.ReadFile(rel)
	if err = outside(name, err); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			pe.Path = name // as the caller named it, not relative to the repository
		}
	}
	return b, err
}

// ReadRegular reads a file named outside any repository (a report, an event payload) as os.ReadFile
// does, but refuses a named pipe, socket or device (ErrNotRegular) before opening it.
func ReadRegular(name string) ([]byte, error) {
	if fi, err := os.Stat(name); err == nil && special(fi.Mode()) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: ErrNotRegular}
	}
	return os.ReadFile(name)
}

// safeFS turns the root's escape errors into ErrOutside, and refuses paths into .git (ErrGitDir) before
// reading them. top is the root's folder; names are relative to it.
type safeFS struct {
	fs.FS
	top string
}

// gitDir refuses name, before anything is read, when it leads into a .git folder.
func (s safeFS) gitDir(op, name string) error {
	if fs.ValidPath(name) && InGitDir(s.top, filepath.Join(s.top, filepath.FromSlash(name))) {
		return &fs.PathError{Op: op, Path: name, Err: ErrGitDir}
	}
	return nil
}

func (s safeFS) Open(name string) (fs.File, error) {
	if err := s.gitDir("open", name); err != nil {
		return nil, err
	}
	if fi, err := fs.Stat(s.FS, name); err == nil && special(fi.Mode()) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
	f, err := s.FS.Open(name)
	return f, outside(name, err)
}

func (s safeFS) ReadFile(name string) ([]byte, error) {
	if err := s.gitDir("read", name); err != nil {
		return nil, err
	}
	if fi, err := fs.Stat(s.FS, name); err == nil && special(fi.Mode()) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: ErrNotRegular}
	}
	b, err := fs.ReadFile(s.FS, name)
	return b, outside(name, err)
}

func (s safeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := s.gitDir("readdir", name); err != nil {
		return nil, err
	}
	d, err := fs.ReadDir(s.FS, name)
	return d, outside(name, err)
}

func (s safeFS) Stat(name string) (fs.FileInfo, error) {
	if err := s.gitDir("stat", name); err != nil {
		return nil, err
	}
	i, err := fs.Stat(s.FS, name)
	return i, outside(name, err)
}

// outside rewrites os.Root's "path escapes from parent" as ErrOutside (os does not export it).
func outside(name string, err error) error {
	if err != nil && strings.Contains(err.Error(), "escapes from parent") {
		return &fs.PathError{Op: "read", Path: name, Err: ErrOutside}
	}
	return err
}
