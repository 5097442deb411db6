package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/schemagate/schemagate/internal/migrate"
)

// output is a report file a command writes: the flag that names it and the path.
type output struct{ flag, path string }

// outputsApart refuses, before any work, report paths that would destroy input or each other: a path
// that is an existing file of the migration folder dir (a report written over a migration), one that
// two flags share (the last writer would win, silently), and "-", which is no file (use /dev/stdout).
func outputsApart(dir string, outputs ...output) error {
	folder := ""
	if dir != "" {
		if abs, err := filepath.Abs(dir); err == nil {
			folder = resolved(abs)
		}
	}
	seen := map[string]string{}
	var errs []error
	for _, o := range outputs {
		if o.path == "" {
			continue
		}
		if o.path == "-" {
			errs = append(errs, fmt.Errorf("%s -: reports are written to files (for the standard output, give /dev/stdout)", o.flag))
			continue
		}
		abs, err := filepath.Abs(o.path)
		if err != nil {
			continue
		}
		key := resolved(abs)
		if other, ok := seen[key]; ok {
			errs = append(errs, fmt.Errorf("%s %s: the same file as %s: give each report its own file", o.flag, o.path, other))
			continue
		}
		seen[key] = o.flag
		if folder == "" {
			continue
		}
		if rel, err := filepath.Rel(folder, key); err == nil && rel != "." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && rel != ".." {
			if info, err := os.Stat(key); err == nil && info.Mode().IsRegular() {
				errs = append(errs, fmt.Errorf("%s %s: a file of the migration folder %s: the report would overwrite it; write reports outside the folder", o.flag, o.path, dir))
			}
		}
	}
	return errors.Join(errs...)
}

// outputsNotRead refuses, before any work, report paths that would be new files of the migration
// folder dir (read as set) that the folder's tool reads (see newFileRead), as rollback-script -o refuses
// them: check --report-json m/9999_evil.up.sql wrote the report where golang-migrate runs it as
// migration 9999. A file of the folder that exists already is outputsApart's.
func outputsNotRead(dir string, set *migrate.Set, outputs ...output) error {
	if dir == "" || set == nil {
		return nil
	}
	realDir := realAbs(dir)
	var errs []error
	for _, o := range outputs {
		if o.path == "" || o.path == "-" {
			continue
		}
		out := realAbs(o.path)
		if _, err := os.Lstat(out); err == nil {
			continue
		}
		rel, under := inFolder(dir, realDir, o.path, out)
		if !under {
			continue
		}
		if why := newFileRead(dir, set, nil, rel); why != "" {
			errs = append(errs, fmt.Errorf("%s %s would be a file of the migration folder %s that %s: write reports outside the folder",
				o.flag, clean(o.path), clean(dir), why))
		}
	}
	return errors.Join(errs...)
}

// resolved is path with its symbolic links resolved, as far as it exists: the folder of a file not yet
// written is resolved, and its name kept.
func resolved(path string) string {
	if r, err := filepath.EvalSymlinks(path); err == nil {
		return r
	}
	if r, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
		return filepath.Join(r, filepath.Base(path))
	}
	return path
}

// input is a file a command reads besides the migration folder: what it is, for the message, and its path.
type input struct{ what, path string }

// outputsNotInputs refuses report paths that are files the command reads (schemagate.yml, a setup
// script): the report would overwrite them, and check removes an earlier report before it reads them.
func outputsNotInputs(inputs []input, outputs ...output) error {
	var errs []error
	for _, o := range outputs {
		out, err := os.Stat(o.path)
		if o.path == "" || err != nil {
			continue // a file not yet written is no input
		}
		for _, in := range inputs {
			if info, err := os.Stat(in.path); in.path != "" && err == nil && os.SameFile(info, out) {
				errs = append(errs, fmt.Errorf("%s %s: the %s %s: the report would overwrite it; give the report another file", o.flag, o.path, in.what, in.path))
				break
			}
		}
	}
	return errors.Join(errs...)
}
