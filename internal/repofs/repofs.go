// Package repofs reads the files of the repository a command works on without ever leaving it.
//
// Pull requests choose what is in the working tree, symbolic links included. A migration, schemagate.yml
// or flyway.conf that links to /proc/self/environ or ~/.ssh/id_rsa would otherwise be read, and its
// text quoted in the report that is posted on the pull request. Reads go through an os.Root opened at
// the repository's top folder (the nearest one holding .git; the folder itself outside a repository):
// links are followed while they stay inside it, and a link that leaves it is an error that says so.
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
}

// Close releases the folder.
func (f *FS) Close() error { return f.root.Close() }

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
	var fsys fs.FS = safeFS{root.FS()}
	if rel != "." {
		if fsys, err = fs.Sub(fsys, filepath.ToSlash(rel)); err != nil {
			root.Close()
			return nil, err
		}
	}
	return &FS{FS: fsys, root: root}, nil
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
	b, err := root.ReadFile(rel)
	if err = outside(name, err); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			pe.Path = name // as the caller named it, not relative to the repository
		}
	}
	return b, err
}

// safeFS turns the root's escape errors into ErrOutside.
type safeFS struct{ fs.FS }

func (s safeFS) Open(name string) (fs.File, error) {
	f, err := s.FS.Open(name)
	return f, outside(name, err)
}

func (s safeFS) ReadFile(name string) ([]byte, error) {
	b, err := fs.ReadFile(s.FS, name)
	return b, outside(name, err)
}

func (s safeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	d, err := fs.ReadDir(s.FS, name)
	return d, outside(name, err)
}

func (s safeFS) Stat(name string) (fs.FileInfo, error) {
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
