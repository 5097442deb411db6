package migrate

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// goose (github.com/pressly/goose): {version}_{name}.sql files, each with "-- +goose Up" and optionally
// "-- +goose Down" sections. goose reads annotations as internal/sqlparser/parser.go does (below).

var gooseDialect = dialect{
	tool:              "goose",
	up:                "-- +goose Up",
	down:              "-- +goose Down",
	upFirst:           true,
	classify:          gooseDirective,
	splitsAtSemicolon: true,
	// internal/sqlparser/parser.go missingSemicolonError, at the Down annotation and at the end.
	unended:    "\"unexpected unfinished SQL query: ...: missing semicolon?\"",
	holdsBlank: true,
	// ParseSQLMigration skips a StatementEnd line as a comment when its buffer is empty.
	dropsAfterEmptyBlock: true,
	// Before -- +goose Up, ParseSQLMigration skips blank lines (strings.TrimSpace(line) == "") and
	// comment lines (strings.HasPrefix(strings.TrimSpace(line), "--")) only; any other line, a /* */
	// comment too, fails the file: "failed to parse migration: unexpected state 0 on line ...".
	sqlBefore:          "goose refuses the file (\"unexpected state 0\")",
	commentLinesBefore: true,
	bom:                "goose refuses a file that starts with a byte-order mark (\"unexpected state 0\": its first line is neither blank, a comment nor an annotation)",
	// ParseSQLMigration reads lines with bufio.Scanner and writes each with "\n" (a CRLF file's
	// statements go without their carriage returns). It keeps every comment line once a statement has
	// begun ("we keep all comments up until the end of the statement"), and leaves out only comment and
	// empty lines while its buffer is empty, before a statement's first line: unlike sql-migrate, it
	// drops no line from a statement.
	scansLines: true,
	// ParseSQLMigration's scanner has a buffer of scanBufSize (4 MiB), its maximum too.
	maxLine:      4 << 20,
	maxLineWhere: "internal/sqlparser/parser.go scanBufSize",
}

const gooseKnown = "goose knows Up, Down, StatementBegin, StatementEnd, NO TRANSACTION, ENVSUB ON and ENVSUB OFF"

// gooseAnnotations are the annotations goose knows, as it compares them (strings.EqualFold).
var gooseAnnotations = []struct {
	name string
	kind directiveKind
}{
	{"Up", dirUp}, {"Down", dirDown}, {"StatementBegin", dirBegin}, {"StatementEnd", dirEnd},
	{"NO TRANSACTION", dirNoTx}, {"ENVSUB ON", dirEnvOn}, {"ENVSUB OFF", dirEnvOff},
}

// gooseDirective classifies a line exactly as goose's ParseSQLMigration and extractAnnotation do
// (pressly/goose internal/sqlparser/parser.go): any line whose trimmed text starts with "--" and that
// contains "+goose" (case-sensitive: "-- +GOOSE Down" is a plain comment) is an annotation, and goose
// refuses the file when it is not one it knows. The annotation is what is left after removing every
// "--" and the first "+goose", trimmed, compared ignoring case: "-- +gooseUp" is Up, "--- +goose Up" is
// "-  Up" (unknown), "NO  TRANSACTION" with two spaces is unknown.
func gooseDirective(line string) directive {
	if !strings.HasPrefix(strings.TrimSpace(line), "--") || !strings.Contains(line, "+goose") {
		return directive{}
	}
	if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
		return directive{err: "goose annotation must start its line: goose refuses the file", hint: "remove the leading white space"}
	}
	cmd := strings.Replace(strings.ReplaceAll(line, "--", ""), "+goose", "", 1)
	if strings.Contains(cmd, "+goose") {
		return directive{err: "more than one +goose on a line: goose refuses the file", hint: "keep one annotation per line"}
	}
	cmd = strings.TrimSpace(cmd)
	if cmd == "" {
		return directive{err: "empty goose annotation: goose refuses the file", hint: gooseKnown}
	}
	for _, a := range gooseAnnotations {
		if strings.EqualFold(cmd, a.name) {
			return directive{kind: a.kind}
		}
	}
	return directive{err: "unknown goose annotation " + strconv.Quote(cmd) + ": goose takes every -- line containing +goose for an annotation and refuses the file",
		hint: gooseKnown + " (written exactly so, in any case); write +goose in another case, such as +GOOSE, to keep a comment"}
}

// gooseVersionPart is the version goose reads from a file name, as NumericComponent (migration.go)
// reads it with strconv.ParseInt: a run of ASCII digits, which may follow a + or - sign (ParseInt takes
// one: +5_x.sql is version 5 to goose, and -5_x.sql a version below 1, which it refuses); "" when the
// name starts otherwise.
func gooseVersionPart(name string) string {
	sign := ""
	if name != "" && (name[0] == '+' || name[0] == '-') {
		sign = name[:1]
	}
	digits := leadingDigits(name[len(sign):])
	if digits == "" {
		return ""
	}
	return sign + digits
}

func (r *reader) readGoose() {
	type entry struct {
		m *Migration
		v int64
	}
	var found []entry
	for _, name := range r.topFiles(nil) {
		digits := gooseVersionPart(name)
		goMigration := strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
		if (!isSQL(name) && !goMigration) || r.otherCaseSQL(name, "goose") {
			continue
		}
		if digits == "" || goMigration && digits[0] == '-' {
			// (A .go file whose version does not read, -5_x.go, goose skips as it skips a helper:
			// collectGoMigrations "continue"s on NumericComponent's error.)
			// goose skips a .go file without a version (a helper), but refuses the folder for a .sql
			// one: collectMigrationsFS (migrate.go), which the goose command and goose.Up read the
			// folder with, fails on NumericComponent's error. Only the Provider API skips it.
			if !goMigration {
				r.errorf(name, 0, "name it {version}_{name}.sql if it is a migration, else move it out of the migration folder (only goose's Provider API, goose.NewProvider, skips it)",
					"not a goose migration file name: goose refuses the folder (\"could not parse SQL migration file\": its version is the number before the first _)")
			}
			continue
		}
		rest := strings.TrimSuffix(trimSQL(name), ".go")[len(digits):]
		if !strings.HasPrefix(rest, "_") {
			r.errorf(name, 0, "name it {version}_{name}.sql", "goose file name has no _ after the version")
			continue
		}
		v, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || v < 1 {
			r.errorf(name, 0, "goose versions are whole numbers from 1 to 9223372036854775807",
				"invalid goose version %s: goose refuses the folder (NumericComponent: \"migration version must be greater than zero\", or the number does not fit an int64)", digits)
			continue
		}
		version := strconv.FormatInt(v, 10)
		if goMigration {
			// goose registers it from Go code (goose.AddMigration...): its SQL is not in the folder.
			if src, ok := r.load(name); ok {
				found = append(found, entry{&Migration{Version: version, Name: rest[1:], External: ExternalGo, Up: &Script{File: name, SQL: src}}, v})
			}
			continue
		}
		m := r.readSingleFile(name, version, rest[1:], gooseDialect)
		if m != nil {
			found = append(found, entry{m, v})
		}
	}
	slices.SortStableFunc(found, func(a, b entry) int { return cmp.Compare(a.v, b.v) })
	for _, e := range found {
		r.migrations = append(r.migrations, e.m)
	}
	r.checkDuplicates(func(m *Migration) string { return m.Version })
}
