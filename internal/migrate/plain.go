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
	for _, name := range r.topFiles(nil) {
		if !isSQL(name) {
			continue
		}
		if strings.HasSuffix(strings.ToLower(name), ".down.sql") {
			r.errorf(name, 0, "pass --format golang-migrate for {version}_{title}.up.sql/.down.sql pairs",
				"plain folders have no down scripts: this file would run as a migration")
			continue
		}
		src, ok := r.load(name)
		if !ok {
			continue
		}
		version, rest := splitLeadingVersion(trimSQL(name))
		m := &Migration{Version: version, Name: rest, Up: r.psqlScript(name, src, nil)}
		r.checkEmpty(m, 0, "schemagate", "script")
		r.migrations = append(r.migrations, m)
	}
	slices.SortStableFunc(r.migrations, func(a, b *Migration) int { return naturalCompare(a.Up.File, b.Up.File) })
	r.checkDuplicates(func(m *Migration) string {
		if leadingDigits(m.Version) == m.Version {
			return strings.TrimLeft(m.Version, "0")
		}
		return m.Version
	})
}
