package cli

import (
	"fmt"
	"os"
	"path/filepath"

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
// --force does not lift this: it writes a down that did not verify, it does not overwrite one.
func rollbackOutputClash(dir string, set *migrate.Set, target *migrate.Migration, output string) error {
	if output == "" || output == "-" {
		return nil
	}
	real := func(p string) string {
		abs, err := filepath.Abs(p)
		if err != nil {
			return filepath.Clean(p)
		}
		return repofs.RealPath(abs)
	}
	out := real(output)
	outInfo, _ := os.Stat(out)
	// is tells whether rel, a file of the folder, is the output: the same path once links are followed,
	// or the same file (a hard link; a case-insensitive file system's other spelling).
	is := func(rel string) bool {
		p := real(filepath.Join(dir, filepath.FromSlash(rel)))
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
	return nil
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
