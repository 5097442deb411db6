package migrate

import (
	"slices"
	"strings"
)

// plain: an ordered folder of .sql files, applied in natural order of their names (2_x.sql before
// 10_x.sql). The version is the leading number of the name, or the name without .sql when it has none.
// There are no down scripts. Such files are often written for psql -f (docker-entrypoint-initdb.d runs
// them that way, and pg_dump writes them), so psql's meta-commands are read as psql reads them (see
// psqlScript).

func (r *reader) readPlain() {
	type file struct {
		name, src string
		sub       reader // what parsing the file finds (files are parsed in parallel)
		m         *Migration
	}
	var files []*file
	for _, name := range r.topFiles(nil) {
		if !isSQL(name) {
			continue
		}
		if strings.HasSuffix(strings.ToLower(name), ".down.sql") {
			r.errorf(name, 0, "pass --format golang-migrate for {version}_{title}.up.sql/.down.sql pairs",
				"plain folders have no down scripts: this file would run as a migration")
			continue
		}
		if src, ok := r.load(name); ok {
			files = append(files, &file{name: name, src: src})
		}
	}
	parallel(len(files), func(i int) {
		f := files[i]
		version, rest := splitLeadingVersion(trimSQL(f.name))
		f.m = &Migration{Version: version, Name: rest, Up: f.sub.psqlScript(f.name, f.src, nil)}
	})
	for _, f := range files {
		r.errs, r.warnings = append(r.errs, f.sub.errs...), append(r.warnings, f.sub.warnings...)
		r.checkEmpty(f.m, 0, "schemagate", "script")
		r.migrations = append(r.migrations, f.m)
	}
	slices.SortStableFunc(r.migrations, func(a, b *Migration) int { return naturalCompare(a.Up.File, b.Up.File) })
	// A shell glob (for f in *.sql; do psql -f "$f"; done, docker-entrypoint-initdb.d) runs the files in
	// byte order, where 10_x.sql comes before 2_x.sql: say so when the two orders differ.
	for i := 1; i < len(r.migrations); i++ {
		a, b := r.migrations[i-1].Up.File, r.migrations[i].Up.File
		if na, nb := strings.TrimLeft(leadingDigits(a), "0"), strings.TrimLeft(leadingDigits(b), "0"); a > b && na != nb {
			r.warnf(b, 0, "pad the numbers with zeros (02_, 10_) so that both orders agree",
				"schemagate runs %s before %s (natural order), but a shell glob (docker-entrypoint-initdb.d, for f in *.sql) runs %s first", a, b, b)
			break
		}
	}
	r.checkDuplicates(func(m *Migration) string {
		if leadingDigits(m.Version) == m.Version {
			return strings.TrimLeft(m.Version, "0")
		}
		return m.Version
	})
}
