package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/repofs"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// rollbackOutputClash is why rollback-script must not write the rollback of target to output (a path
// as given, relative to the working folder), nil when it may: output is, its symbolic links followed, a
// file of the migration folder dir that holds a migration's content (an up, a down, a verify script, a
// sqitch plan, atlas.sum). Overwriting one destroyed a migration without a word: goose, dbmate and
// sql-migrate keep the down in the up's file, so -o 00002_b.sql replaced the whole migration with its
// down. The one such file it may write is the down file the tool reads for target itself
// (golang-migrate's 2_b.down.sql, a Flyway undo script, a sqitch revert script) while it holds nothing
// to lose: no statement but BEGIN and COMMIT, as an empty file or the template sqitch add writes.
// Every other file of the folder, at any depth, is refused too (a Flyway callback or .conf, sqitch.conf,
// dbmate's schema.sql, a README), and so is a new one the folder's tool would read (see newFileClash).
// --force does not lift this: it writes a down that did not verify, it does not overwrite one.
func rollbackOutputClash(dir string, set *migrate.Set, target *migrate.Migration, output string) error {
	if output == "" || output == "-" {
		return nil
	}
	out := realAbs(output)
	outInfo, _ := os.Stat(out)
	// is tells whether rel, a file of the folder, is the output: the same path once links are followed,
	// or the same file (a hard link; a case-insensitive file system's other spelling).
	is := func(rel string) bool {
		p := realAbs(filepath.Join(dir, filepath.FromSlash(rel)))
		if p == out {
			return true
		}
		info, err := os.Stat(p)
		return err == nil && outInfo != nil && os.SameFile(info, outInfo)
	}
	shown := func(rel string) string { return clean(filepath.ToSlash(filepath.Join(dir, filepath.FromSlash(rel)))) }
	// The down file the tool reads for target, when it is a file of its own.
	if d := target.Down; d != nil && d.File != "" && d.File != target.Up.File && is(d.File) {
		if nothingToLose(d) {
			return nil
		}
		return fmt.Errorf("%s already holds the down of migration %s: rollback-script does not overwrite a down (--force only writes one that did not verify); "+
			"to replace it, delete the file first, or write the script to another file and compare", shown(d.File), clean(target.ID()))
	}
	for _, m := range set.Migrations {
		for _, s := range []struct {
			sc   *migrate.Script
			what string
		}{{m.Up, "up"}, {m.Down, "down"}, {m.Verify, "verify script"}} {
			if s.sc == nil || s.sc.File == "" || !is(s.sc.File) {
				continue
			}
			if m == target && s.sc == m.Up {
				return fmt.Errorf("%s is migration %s's own file: writing the rollback there would replace %s", shown(s.sc.File), clean(target.ID()), ownFileLoss(set.Format, m))
			}
			what := s.what
			if m.Down != nil && m.Down.File == m.Up.File {
				what = "file (up and down)"
			}
			return fmt.Errorf("%s is the %s of migration %s: writing the rollback of %s there would replace it; write it to another file", shown(s.sc.File), what, clean(m.ID()), clean(target.ID()))
		}
		if m.Plan != nil && m.Plan.File != "" && is(m.Plan.File) {
			return fmt.Errorf("%s is the sqitch plan of the folder: writing the rollback there would replace it; write it to another file", shown(m.Plan.File))
		}
	}
	if set.Format == migrate.FormatAtlas && is("atlas.sum") {
		return fmt.Errorf("%s is the folder's checksum file: writing the rollback there would replace it; write it to another file", shown("atlas.sum"))
	}
	// Any other file of the folder, at any depth, is the folder's too: a Flyway callback or a script's
	// .conf, sqitch.conf, dbmate's schema.sql, a README. Walked rather than judged by path, so that a
	// hard link to one is found as the files above are.
	realDir := realAbs(dir)
	var found string
	_ = filepath.WalkDir(realDir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		if rel, err := filepath.Rel(realDir, p); err == nil && is(rel) {
			found = filepath.ToSlash(rel)
			return filepath.SkipAll
		}
		return nil
	})
	if found != "" {
		return fmt.Errorf("%s is a file of the migration folder %s: rollback-script does not write over one; write the script to another file", shown(found), clean(dir))
	}
	rel, under := inFolder(dir, realDir, output, out)
	if !under || outInfo != nil {
		return nil
	}
	return newFileClash(dir, set, target, rel)
}

// inFolder tells whether output (as given; out with its links followed) names a path under the
// migration folder dir (realDir with its links followed), and which, relative to the folder.
func inFolder(dir, realDir, output, out string) (string, bool) {
	for _, p := range [][2]string{{realDir, out}, {dir, output}} {
		base, err := filepath.Abs(p[0])
		if err != nil {
			continue
		}
		target, err := filepath.Abs(p[1])
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(base, target); err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return filepath.ToSlash(rel), true
		}
	}
	return "", false
}

// realAbs is path made absolute with its symbolic links followed, as far as it exists.
func realAbs(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	return repofs.RealPath(abs)
}

// newFileClash is why rollback-script must not create rel, a file of the migration folder dir that does
// not exist yet, nil when it may (see newFileRead). The one such file it may create is the down file the
// tool then reads for target.
func newFileClash(dir string, set *migrate.Set, target *migrate.Migration, rel string) error {
	why := newFileRead(dir, set, target, rel)
	if why == "" {
		return nil
	}
	return fmt.Errorf("%s would be a file of the migration folder %s that %s: rollback-script writes there only the migration's own down; write the script to another file",
		clean(filepath.ToSlash(filepath.Join(dir, filepath.FromSlash(rel)))), clean(dir), why)
}

// newFileRead says what the folder's tool would make of rel, a file of the migration folder dir (read
// as set was) that does not exist yet, once written there holding a statement: "" when nothing, else
// why it must not be written: the folder read with it has the tool run it as another migration's script
// (golang-migrate's 3_c.down.sql, a new V9__x.sql), fails to read, or warns about it (a Flyway
// callback, which Flyway runs after every migrate). The down file the tool then reads for target (nil
// for none) is nothing: rollback-script writes the migration's own down there.
func newFileRead(dir string, set *migrate.Set, target *migrate.Migration, rel string) string {
	fsys, err := repofs.Open(dir)
	if err != nil {
		return "" // the read before this one opened it; the write will say what is wrong
	}
	defer fsys.Close()
	with, err := migrate.ReadWith(withFile{FS: fsys, name: rel, file: fstest.MapFS{rel: {Data: []byte("SELECT 1;\n"), Mode: 0o644}}}, set.Format, set.Options)
	if err != nil {
		return fmt.Sprintf("the folder's tool reads, and with it the folder no longer reads (%v)", err)
	}
	for _, m := range with.Migrations {
		for _, s := range []*migrate.Script{m.Up, m.Down, m.Verify} {
			if s == nil || s.File != rel {
				continue
			}
			if target != nil && m.ID() == target.ID() && s == m.Down && m.Up != nil && target.Up != nil && m.Up.File == target.Up.File {
				return ""
			}
			return fmt.Sprintf("the folder's tool reads as a script of migration %s", clean(m.ID()))
		}
		if m.Plan != nil && m.Plan.File == rel {
			return "the folder's tool reads as its plan"
		}
	}
	for _, w := range with.Warnings {
		if w.File == rel {
			return fmt.Sprintf("reading the folder reports (%s)", w.Msg)
		}
	}
	return ""
}

// withFile is a migration folder with one more file, name, that file holds: what the folder's tool
// would read once the script is written there.
type withFile struct {
	*repofs.FS
	name string
	file fstest.MapFS
}

func (w withFile) Open(name string) (fs.File, error) {
	if name == w.name {
		return w.file.Open(name)
	}
	return w.FS.Open(name)
}

func (w withFile) ReadFile(name string) ([]byte, error) {
	if name == w.name {
		return w.file.ReadFile(name)
	}
	return fs.ReadFile(w.FS, name)
}

func (w withFile) Stat(name string) (fs.FileInfo, error) {
	if name == w.name {
		return w.file.Stat(name)
	}
	return fs.Stat(w.FS, name)
}

func (w withFile) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(w.FS, name)
	if err != nil || name != path.Dir(w.name) {
		return entries, err
	}
	extra, err := w.file.ReadDir(name)
	if err != nil {
		return nil, err
	}
	entries = append(entries, extra...)
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

// nothingToLose reports whether a down script holds nothing that writing over it would destroy: no
// statement but BEGIN, START TRANSACTION and COMMIT (blank, or a tool's template such as sqitch add's).
func nothingToLose(d *migrate.Script) bool {
	for _, st := range d.Statements {
		if st.Node == nil || !sqlparse.OpensOrCommits(st.Node) {
			return false
		}
	}
	return true
}

// ownFileLoss says what writing over the file of migration m, whose up it is, destroys, and for a
// format that keeps the down in that file (goose, dbmate, sql-migrate) where the script goes instead.
func ownFileLoss(format migrate.Format, m *migrate.Migration) string {
	under := map[migrate.Format]string{
		migrate.FormatGoose:      "-- +goose Down",
		migrate.FormatDbmate:     "-- migrate:down",
		migrate.FormatSQLMigrate: "-- +migrate Down",
	}[format]
	if under == "" {
		return "its up; write the script to another file"
	}
	what := "its up"
	if m.Down != nil && m.Down.File == m.Up.File {
		what = "its up and its down"
	}
	return fmt.Sprintf("%s (%s keeps the down in the up's file): print the script (leave out -o) or write it to another file, "+
		"and paste it into that file under its %s annotation (add one after the up where it has none), in place of any down there", what, format, under)
}
