package migrate

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// golang-migrate (github.com/golang-migrate/migrate): {version}_{title}.up.sql and .down.sql files at
// the top of the folder, the version an unsigned 64-bit number.

// golangMigrateName is golang-migrate's own pattern (source/parse.go DefaultRegex): any extension after
// .up. or .down., so 2_b.up.pgsql, 1_a.up.SQL and an editor's backup 1_a.up.sql~ are migrations to it.
var golangMigrateName = regexp.MustCompile(`^([0-9]+)_(.*)\.(down|up)\.(.*)$`)

func (r *reader) readGolangMigrate() {
	type entry struct {
		v        uint64
		up, down *Migration // a migration per file; merged below
		badUp    bool       // the up file is there but could not be read (reported)
	}
	byVersion := map[uint64]*entry{}
	var later []func() // the files' parses, run together on all cores
	// golang-migrate only opens names that match its pattern, which starts with a digit: a dot file such
	// as Emacs' lock file .#1_a.up.sql (a dangling link) is never looked at.
	keep := func(name string) bool {
		return leadingDigits(name) != "" || isSQL(name) && !strings.HasPrefix(name, ".")
	}
	for _, name := range r.topFiles(keep) {
		match := golangMigrateName.FindStringSubmatch(name)
		if match == nil && !isSQL(name) {
			continue // golang-migrate skips it silently (source/iofs: "ignore files that we can't parse")
		}
		if match == nil {
			if leadingDigits(name) != "" {
				r.errorf(name, 0, "name it {version}_{title}.up.sql or {version}_{title}.down.sql",
					"not a golang-migrate file name")
			} else {
				r.warnf(name, 0, "golang-migrate reads {version}_{title}.up.sql and .down.sql", "ignored: not a golang-migrate file name")
			}
			continue
		}
		if !strings.EqualFold(match[4], "sql") {
			r.warnf(name, 0, "rename or move it if it is not a migration",
				"read as a migration: golang-migrate runs every {version}_{title}.up.* and .down.* file, whatever the extension (here .%s)", match[4])
		}
		v, err := strconv.ParseUint(match[1], 10, 64)
		if err != nil {
			r.errorf(name, 0, "golang-migrate versions are whole numbers up to 18446744073709551615", "invalid version %s", match[1])
			continue
		}
		e := byVersion[v]
		if e == nil {
			e = &entry{v: v}
			byVersion[v] = e
		}
		src, ok := r.loadText(name)
		if ok && isBlank(src) {
			// golang-migrate sends nothing for a blank file (database/postgres/postgres.go Run: "if
			// strings.TrimSpace(query) == \"\" { return nil }"): an empty down marks an irreversible
			// migration; an empty up is more likely a mistake.
			if match[3] == "down" {
				r.warnf(name, 0, "delete it, or write the SQL that undoes the up",
					"empty down file: golang-migrate runs nothing, so the migration has no down")
			} else {
				r.errorf(name, 0, "write the migration's SQL or delete the file", "empty file: golang-migrate would run nothing")
				ok = false
			}
		}
		if !ok {
			if match[3] == "up" {
				e.badUp = true // already reported: its down is not "without an up"
			}
			continue
		}
		m := &Migration{Version: strconv.FormatUint(v, 10), Name: match[2], Up: scriptLater(name, src, &later)}
		slot := &e.up
		if match[3] == "down" {
			slot = &e.down
		}
		if *slot != nil {
			r.errorf(name, 0, "give each migration its own version", "duplicate %s version %d (also %s)", match[3], v, (*slot).Up.File)
			continue
		}
		*slot = m
	}
	parseLater(later)
	entries := make([]*entry, 0, len(byVersion))
	for _, e := range byVersion {
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b *entry) int { return cmp.Compare(a.v, b.v) })
	for _, e := range entries {
		if e.up == nil {
			if e.down != nil && !e.badUp {
				r.errorf(e.down.Up.File, 0, "add the matching .up.sql file or delete this one", "down migration without an up migration")
			}
			continue
		}
		m := e.up
		if e.down != nil {
			m.Down = e.down.Up
		}
		r.checkEmpty(m, 0, "golang-migrate", "up script")
		r.migrations = append(r.migrations, m)
	}
}
