package migrate

import (
	"path"
	"slices"
	"strconv"
	"strings"
)

// sql-migrate (github.com/rubenv/sql-migrate): every .sql file of the folder is a migration with
// "-- +migrate Up" and "-- +migrate Down" sections ("notransaction" after either runs it outside a
// transaction). Commands are case-sensitive. Files are ordered as sql-migrate orders them (compareSQLMigrate).

var sqlMigrateDialect = dialect{
	tool:              "sql-migrate",
	up:                "-- +migrate Up",
	down:              "-- +migrate Down",
	classify:          sqlMigrateDirective,
	splitsAtSemicolon: true,
	looseBlocks:       true,
	// sqlparse/sqlparse.go errNoTerminator, at each Up or Down command and at the end.
	unended: "\"The last statement must be ended by a semicolon or '-- +migrate StatementEnd' marker\"",
	// sqlparse/sqlparse.go ParseMigration only switches direction at each Up or Down command, appending
	// to that direction's statements, and needs no Up: a file with only a Down section is valid.
	repeats:    true,
	upOptional: true,
	// ParseMigration matches commands with strings.HasPrefix(line, "-- +migrate "), which a
	// byte-order mark before the first line defeats.
	bomDirective: "sql-migrate does not see a command after a byte-order mark: it skips this line",
	// ParseMigration reads lines with bufio.Scanner and writes each one it keeps with "\n".
	scansLines: true,
	dropsLine:  sqlMigrateDrops,
	// ParseMigration's scanner grows its buffer up to 1 MiB (scanner.Buffer(..., 1024*1024)).
	maxLine:      1 << 20,
	maxLineWhere: "sqlparse/sqlparse.go scanner.Buffer",
}

// sqlMigrateDrops reports a line sql-migrate leaves out of the statements it sends. ParseMigration
// (sqlparse/sqlparse.go) skips a line that starts with "-- " but not "-- +" ("ignore comment except
// beginning with '-- +'"), and writes no line that starts with "-- +" (its commands, and any other) to
// the statement buffer: together, every line that starts with "-- ", inside StatementBegin/StatementEnd
// and inside a string or a dollar-quoted body alike. It tests the line as bufio.Scanner returns it,
// from its first byte: an indented comment, "--" alone and "--x" stay in the statement.
func sqlMigrateDrops(line string) bool { return strings.HasPrefix(line, "-- ") }

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
	bad := ""
	for _, opt := range fields[1:] {
		switch {
		case opt == "notransaction" && (d.kind == dirUp || d.kind == dirDown):
			d.noTx = true
		case bad == "":
			bad = opt
		}
	}
	if bad != "" {
		// sql-migrate looks for notransaction among the words and ignores the others: the command still
		// starts its section, which keeps the rest of the file's errors true.
		d.err, d.hint = "unknown sql-migrate option "+strconv.Quote(bad), "only Up and Down take an option: notransaction"
		if d.kind == dirUp || d.kind == dirDown {
			d.hint += "; sql-migrate ignores " + strconv.Quote(bad)
			if !d.noTx {
				d.hint += " and runs the section in a transaction"
			}
		}
	}
	return d
}

func (r *reader) readSQLMigrate() {
	for _, name := range r.topFiles(nil) {
		if !isSQL(name) || r.otherCaseSQL(name, "sql-migrate") {
			continue
		}
		if digits := leadingDigits(path.Base(name)); digits != "" {
			if _, err := strconv.ParseInt(digits, 10, 64); err != nil {
				// Migration.VersionInt (migrate.go) parses the leading number with strconv.ParseInt(v, 10, 64)
				// and panics when it cannot; Less calls it to sort the files (byId) and ToCatchup to compare
				// them with the last one applied, so sql-migrate crashes on such a folder instead of ordering it.
				r.errorf(name, 0, "give the file a leading number no larger than 9223372036854775807 (a timestamp such as 20240101120000 fits)",
					"sql-migrate cannot parse the leading number %s as an int64: it panics (\"Could not parse %q into int64\") when it sorts the migrations", digits, digits)
				continue
			}
		}
		version, rest := splitLeadingVersion(trimSQL(name))
		if m := r.readSingleFile(name, version, rest, sqlMigrateDialect); m != nil {
			r.migrations = append(r.migrations, m)
		}
	}
	slices.SortStableFunc(r.migrations, compareSQLMigrate)
	// sql-migrate keys a migration by its file name (gorp_migrations.id), so files sharing a number
	// (several migrations of one day) are distinct, ordered by name, and so is Key (KeyedByFile). The
	// first keeps the number as its version, what a user names it by; each later one is versioned by
	// its file name. A version can move to another file (a new file of the number sorts first); the
	// key never does.
	seen := map[string]bool{}
	for _, m := range r.migrations {
		m.KeyedByFile = true
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

// compareSQLMigrate is sql-migrate's order, Migration.Less (rubenv/sql-migrate migrate.go): by the
// leading numbers of the file names when both have one and they differ, numbered files before the
// others, and otherwise by file name as a plain string, so 01_b.sql < 1_a10.sql < 1_a9.sql < 2_x.sql <
// a10.sql < a9.sql.
func compareSQLMigrate(a, b *Migration) int {
	na, nb := leadingDigits(a.Up.File), leadingDigits(b.Up.File)
	switch {
	case na != "" && nb != "":
		if c := CompareNumbers(na, nb); c != 0 {
			return c
		}
	case na != "":
		return -1
	case nb != "":
		return 1
	}
	return strings.Compare(a.Up.File, b.Up.File)
}
