package migrate

import (
	"strconv"
	"strings"
)

// dbmate (github.com/amacneil/dbmate): {version}_{name}.sql files (the version is the leading digits,
// usually a timestamp) with "-- migrate:up" and "-- migrate:down" blocks; "transaction:false" after a
// directive runs that block outside a transaction. dbmate applies files in file-name order. A file may
// hold several up/down pairs (dbmate 2): they are read as one migration, pair after pair, and reported,
// since dbmate fails on the second pair on PostgreSQL (see sectionUp).

var dbmateDialect = dialect{
	tool:     "dbmate",
	up:       "-- migrate:up",
	down:     "-- migrate:down",
	classify: dbmateDirective,
	// pkg/dbmate/db.go: a transaction:false block goes to db.Exec whole.
	oneQuery: true,
	// pkg/dbmate/migration.go parseMigrationContents: ErrParseMissingDown, and its `(?m)^--\s*migrate:up`
	// does not match after a byte-order mark, which it then takes for a statement before the up block.
	missingDown: "dbmate refuses it (\"dbmate requires each migration to define a down block with '-- migrate:down'\")",
	bom:         "dbmate refuses a file that starts with a byte-order mark: its pattern ^--\\s*migrate:up does not match the first line, and it takes the mark for a statement before the up block",
	// dbmate 2 cuts a file into sections at each -- migrate:up line (migration.go
	// getMigrationSectionSubstrings): each needs its own -- migrate:down, a second one before the next
	// -- migrate:up is ErrParseMissingUp. Migrate (db.go) runs the sections' up blocks in file order, each
	// in its own transaction unless transaction:false, and records the version after each; Rollback runs
	// the down blocks in the same order. On PostgreSQL the second record is a duplicate key of
	// schema_migrations (version varchar(255) primary key), so the second section fails after the first
	// has been applied and recorded (amacneil/dbmate#820, open on 2.35).
	sections: true,
	sectionUp: "dbmate records the version after each up block, so on PostgreSQL it fails here " +
		"(duplicate key value violates unique constraint \"schema_migrations_pkey\", amacneil/dbmate#820) once the blocks " +
		"before this line have been applied and the version recorded: the migration counts as applied, and the rest of the file never runs",
	twoDowns: "dbmate refuses it (\"dbmate requires each migration to define an up block with '-- migrate:up'\")",
	// getMigrationSectionSubstrings cuts the file at the -- migrate:up lines only, after checking with
	// statementsPrecedeMigrateBlocks that every line before the first one is blank or a comment
	// (^\s*--), which a -- migrate:down line is: dbmate drops it and what follows it up to the first
	// -- migrate:up, as long as that is comments too (ErrParseUnexpectedStmt otherwise). dbmate 1 and
	// the 2.x releases before sections refused the down line (ErrParseWrongOrder).
	leadingDown: "dbmate takes a -- migrate:down line before the first -- migrate:up for a comment",
	sqlBefore:   "dbmate refuses the file (\"dbmate does not support statements preceding the '-- migrate:up' block\")",
	// statementsPrecedeMigrateBlocks reads the lines before the first -- migrate:up one by one: each
	// must be blank (^\s*$) or a -- comment (^\s*--), so a /* */ comment there is refused as well.
	commentLinesBefore: true,
}

const dbmateKnown = "dbmate knows -- migrate:up and -- migrate:down, optionally followed by transaction:false"

func dbmateDirective(line string) directive {
	body, ok, indented := commentBody(line)
	if !ok || !hasPrefixFold(body, "migrate:") {
		return directive{}
	}
	fields := strings.Fields(body)
	if indented {
		// upRegExp and downRegExp are anchored at the start of the line, (?m)^--\s*migrate:up: an
		// indented marker is a comment line to dbmate, which its isCommentLine (^\s*--) lets stand
		// before the first -- migrate:up.
		return directive{err: "dbmate directive must start its line: dbmate takes an indented one for a comment",
			hint: "remove the leading white space", comment: "dbmate takes an indented -- " + fields[0] + " line for a comment"}
	}
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
	// dbmate's patterns take the line for a directive whatever words follow it, so a bad option leaves
	// the directive standing: it is reported, and the section starts here all the same. dbmate reads
	// the options as its parseMigrationOptions does: key:value words, the last value of a key counts,
	// only transaction:false runs the section outside a transaction, and anything else is ignored.
	bad, next := "", ""
	for i, opt := range fields[1:] {
		if key, value, ok := strings.Cut(opt, ":"); ok && key == "transaction" && !strings.Contains(value, ":") {
			d.noTx = value == "false"
		}
		if opt != "transaction:false" && opt != "transaction:true" && bad == "" {
			bad = opt
			if i+2 < len(fields) {
				next = fields[i+2]
			}
		}
	}
	if bad != "" {
		d.err, d.hint = "unknown dbmate option "+strconv.Quote(bad), dbmateOptionHint(bad, next, d.noTx)
	}
	return d
}

// dbmateOptionHint says what dbmate makes of an option it does not know (next is the word after it) and
// how to write the one meant.
func dbmateOptionHint(opt, next string, noTx bool) string {
	runs := ""
	if !noTx {
		runs = " and runs the section in a transaction"
	}
	key, value, _ := strings.Cut(opt, ":")
	switch {
	case strings.EqualFold(key, "transaction") && value == "" && (next == "false" || next == "true"):
		return "write transaction:" + next + " without a space: dbmate ignores the two words" + runs
	case strings.EqualFold(key, "transaction") && (strings.EqualFold(value, "false") || strings.EqualFold(value, "true")):
		return "write transaction:" + strings.ToLower(value) + " in lower case: dbmate ignores any other spelling" + runs
	}
	return "dbmate knows only transaction:false and transaction:true; it ignores anything else" + runs
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
		// dbmate's version is the leading digits; the rest, without the separator that follows them
		// (20240101000000_add_users, 00000000000000-initial-schema), is the migration's name.
		rest := strings.TrimLeft(trimSQL(name)[len(digits):], "_-. ")
		if m := r.readSingleFile(name, digits, rest, dbmateDialect); m != nil {
			r.migrations = append(r.migrations, m)
		}
	}
	r.checkDuplicates(func(m *Migration) string { return m.Version })
}
