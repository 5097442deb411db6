package migrate

import (
	"strconv"
	"strings"
)

// dbmate (github.com/amacneil/dbmate): {version}_{name}.sql files (the version is the leading digits,
// usually a timestamp) with "-- migrate:up" and "-- migrate:down" blocks; "transaction:false" after a
// directive runs that block outside a transaction. dbmate applies files in file-name order.

var dbmateDialect = dialect{
	tool:     "dbmate",
	up:       "-- migrate:up",
	down:     "-- migrate:down",
	upFirst:  true,
	classify: dbmateDirective,
	// pkg/dbmate/db.go: a transaction:false block goes to db.Exec whole.
	oneQuery: true,
	// pkg/dbmate/migration.go parseMigrationContents: ErrParseMissingDown, and its `(?m)^--\s*migrate:up`
	// does not match after a byte-order mark, which it then takes for a statement before the up block.
	missingDown: "dbmate refuses it (\"dbmate requires each migration to define a down block with '-- migrate:down'\")",
	bom:         "dbmate refuses a file that starts with a byte-order mark: its pattern ^--\\s*migrate:up does not match the first line, and it takes the mark for a statement before the up block",
}

const dbmateKnown = "dbmate knows -- migrate:up and -- migrate:down, optionally followed by transaction:false"

func dbmateDirective(line string) directive {
	body, ok, indented := commentBody(line)
	if !ok || !hasPrefixFold(body, "migrate:") {
		return directive{}
	}
	if indented {
		return directive{err: "dbmate directive must start its line", hint: "remove the leading white space"}
	}
	fields := strings.Fields(body)
	var d directive
	switch fields[0] {
	case "migrate:up":
		d.kind = dirUp
	case "migrate:down":
		d.kind = dirDown
	default:
		hint := dbmateKnown
		if strings.EqualFold(fields[0], "migrate:up") || strings.EqualFold(fields[0], "migrate:down") {
			hint = "dbmate directives are lower-case: write " + strings.ToLower(fields[0])
		}
		return directive{err: "unknown dbmate directive " + strconv.Quote(fields[0]), hint: hint}
	}
	for _, opt := range fields[1:] {
		switch opt {
		case "transaction:false":
			d.noTx = true
		case "transaction:true":
		default:
			return directive{err: "unknown dbmate option " + strconv.Quote(opt), hint: "dbmate knows transaction:false and transaction:true"}
		}
	}
	return d
}

func (r *reader) readDbmate() {
	// dbmate lists the names matching `^(\d+).*\.sql$` (pkg/dbmate/migration.go): a name without a leading
	// digit, such as Emacs' lock file .#1_a.sql (a dangling link), is never opened.
	keep := func(name string) bool {
		return leadingDigits(name) != "" || isSQL(name) && !strings.HasPrefix(name, ".")
	}
	for _, name := range r.topFiles(keep) {
		if !isSQL(name) || r.otherCaseSQL(name, "dbmate") {
			continue
		}
		digits := leadingDigits(name)
		if digits == "" {
			r.warnf(name, 0, "dbmate names migrations {timestamp}_{name}.sql", "ignored: not a dbmate migration file name")
			continue
		}
		rest := strings.TrimLeft(trimSQL(name)[len(digits):], "_")
		if m := r.readSingleFile(name, digits, rest, dbmateDialect); m != nil {
			r.migrations = append(r.migrations, m)
		}
	}
	r.checkDuplicates(func(m *Migration) string { return m.Version })
}
