package migrate

import (
	"cmp"
	"path"
	"slices"
	"strconv"
	"strings"
)

// sql-migrate (github.com/rubenv/sql-migrate): every .sql file of the folder is a migration with
// "-- +migrate Up" and "-- +migrate Down" sections ("notransaction" after either runs it outside a
// transaction). Commands are case-sensitive. Files are ordered by their leading number, then by name.

var sqlMigrateDialect = dialect{
	tool:              "sql-migrate",
	up:                "-- +migrate Up",
	down:              "-- +migrate Down",
	classify:          sqlMigrateDirective,
	splitsAtSemicolon: true,
}

const sqlMigrateKnown = "sql-migrate knows Up, Down (optionally followed by notransaction), StatementBegin and StatementEnd"

func sqlMigrateDirective(line string) directive {
	body, ok, indented := commentBody(line)
	if !ok || !hasPrefixFold(body, "+migrate") {
		return directive{}
	}
	if indented || !strings.HasPrefix(line+" ", "-- +migrate ") {
		return directive{err: "sql-migrate only reads commands written \"-- +migrate <command>\" at the start of a line",
			hint: "write it as -- +migrate followed by the command"}
	}
	fields := strings.Fields(body[len("+migrate"):])
	if len(fields) == 0 {
		return directive{err: "empty sql-migrate command", hint: sqlMigrateKnown}
	}
	var d directive
	switch fields[0] {
	case "Up":
		d.kind = dirUp
	case "Down":
		d.kind = dirDown
	case "StatementBegin":
		d.kind = dirBegin
	case "StatementEnd":
		d.kind = dirEnd
	default:
		hint := sqlMigrateKnown
		for _, k := range []string{"Up", "Down", "StatementBegin", "StatementEnd"} {
			if strings.EqualFold(fields[0], k) {
				hint = "sql-migrate commands are case-sensitive: write " + k
			}
		}
		return directive{err: "unknown sql-migrate command " + strconv.Quote(fields[0]), hint: hint}
	}
	for _, opt := range fields[1:] {
		if opt != "notransaction" || (d.kind != dirUp && d.kind != dirDown) {
			return directive{err: "unknown sql-migrate option " + strconv.Quote(opt), hint: "only Up and Down take an option: notransaction"}
		}
		d.noTx = true
	}
	return d
}

func (r *reader) readSQLMigrate() {
	for _, name := range r.topFiles() {
		if !isSQL(name) {
			continue
		}
		version, rest := splitLeadingVersion(trimSQL(name))
		if m := r.readSingleFile(name, version, rest, sqlMigrateDialect); m != nil {
			r.migrations = append(r.migrations, m)
		}
	}
	slices.SortStableFunc(r.migrations, compareLeadingVersion)
	// sql-migrate keys a migration by its file name, so files sharing a number (several migrations of
	// one day) are distinct, ordered by name. The first keeps the number as its version; each later
	// one is versioned by its file name, so that adding one never renames those already applied.
	seen := map[string]bool{}
	for _, m := range r.migrations {
		n := strings.TrimLeft(m.Version, "0")
		if seen[n] && leadingDigits(m.Version) == m.Version {
			m.Version = trimSQL(path.Base(m.Up.File))
			m.Name = m.Version
		}
		seen[n] = true
	}
	r.checkDuplicates(func(m *Migration) string { return strings.TrimLeft(m.Version, "0") })
}

// splitLeadingVersion splits a base name into its leading number and the rest ("001_init" gives "001"
// and "init"); a name without a leading number is its own version, with no name.
func splitLeadingVersion(base string) (version, name string) {
	digits := leadingDigits(base)
	if digits == "" {
		return base, ""
	}
	return digits, strings.TrimLeft(base[len(digits):], "_-. ")
}

// compareLeadingVersion orders numbered migrations by number before unnumbered ones by name.
func compareLeadingVersion(a, b *Migration) int {
	da, db := leadingDigits(a.Version) == a.Version, leadingDigits(b.Version) == b.Version
	switch {
	case da && db:
		return cmp.Or(CompareNumbers(a.Version, b.Version), naturalCompare(a.Up.File, b.Up.File))
	case da:
		return -1
	case db:
		return 1
	}
	return naturalCompare(a.Up.File, b.Up.File)
}
