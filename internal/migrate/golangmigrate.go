package migrate

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
)

// golang-migrate (github.com/golang-migrate/migrate): {version}_{title}.up.sql and .down.sql files at
// the top of the folder, the version an unsigned 64-bit number.

var golangMigrateName = regexp.MustCompile(`^([0-9]+)_(.*)\.(up|down)\.sql$`)

func (r *reader) readGolangMigrate() {
	type entry struct {
		v        uint64
		up, down *Migration // a migration per file; merged below
		badUp    bool       // the up file is there but could not be read (reported)
	}
	byVersion := map[uint64]*entry{}
	for _, name := range r.topFiles() {
		if !isSQL(name) {
			continue
		}
		match := golangMigrateName.FindStringSubmatch(name)
		if match == nil {
			if leadingDigits(name) != "" {
				r.errorf(name, 0, "name it {version}_{title}.up.sql or {version}_{title}.down.sql",
					"not a golang-migrate file name")
			} else {
				r.warnf(name, 0, "golang-migrate reads {version}_{title}.up.sql and .down.sql", "ignored: not a golang-migrate file name")
			}
			continue
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
		src, ok := r.load(name)
		if !ok {
			if match[3] == "up" {
				e.badUp = true // already reported: its down is not "without an up"
			}
			continue
		}
		m := &Migration{Version: strconv.FormatUint(v, 10), Name: match[2], Up: script(name, src, 0, len(src), nil)}
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
