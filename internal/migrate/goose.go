package migrate

import (
	"cmp"
	"errors"
	"fmt"
	"go/scanner"
	"go/token"
	"io/fs"
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
		if strings.HasSuffix(name, ".go") {
			if m, v := r.readGooseGo(name); m != nil {
				found = append(found, entry{m, v})
			}
			continue
		}
		if !isSQL(name) || r.otherCaseSQL(name, "goose") {
			continue
		}
		digits := gooseVersionPart(name)
		if digits == "" {
			// goose refuses the folder for a .sql file without a version: collectMigrationsFS
			// (migrate.go), which the goose command and goose.Up read the folder with, fails on
			// NumericComponent's error. Only the Provider API skips it.
			r.errorf(name, 0, "name it {version}_{name}.sql if it is a migration, else move it out of the migration folder (only goose's Provider API, goose.NewProvider, skips it)",
				"not a goose migration file name: goose refuses the folder (\"could not parse SQL migration file\": its version is the number before the first _)")
			continue
		}
		rest := trimSQL(name)[len(digits):]
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

// goGooseHint says what schemagate does with a goose Go migration, for the messages of .go files.
const goGooseHint = "schemagate runs no Go code: it keeps such a migration in its place and reports it not run, with a go-migration finding (deploy refuses it while pending)"

// readGooseGo reads a .go file of a goose folder as goose does: a file whose name has a version
// (NumericComponent) is a Go migration, which goose runs once registered and built into a binary and
// schemagate cannot run at all (an ExternalGo migration, with the version goose reads); goose skips any
// other (collectGoMigrations, migrate.go: a helper), unless its code registers a migration. The
// registering functions that take no name (goose.AddMigration, AddMigrationContext, AddMigrationNoTx,
// AddMigrationNoTxContext, register.go) name the migration after the file that calls them
// (runtime.Caller), and goose.Up, which the goose command runs, then refuses the folder: the
// registered migrations' names must have a version too ("could not parse go migration file"). A _test.go
// file goose leaves alone. The version is 0 when m is nil.
func (r *reader) readGooseGo(name string) (m *Migration, version int64) {
	if strings.HasSuffix(name, "_test.go") {
		return nil, 0
	}
	v, why := gooseNumericComponent(name)
	if why == "" {
		src, ok := r.load(name)
		if !ok {
			return nil, 0
		}
		_, title, _ := strings.Cut(strings.TrimSuffix(name, ".go"), "_")
		return &Migration{Version: strconv.FormatInt(v, 10), Name: title, External: ExternalGo, Up: &Script{File: name, SQL: src}}, v
	}
	src, err := fs.ReadFile(r.fsys, name)
	if err != nil { // a helper goose does not collect: what reads it (go build) says what is wrong with it
		return nil, 0
	}
	if fn, line := gooseRegistration(src); fn != "" {
		r.errorf(name, line, "name it {version}_{name}.go with a version from 1; "+goGooseHint,
			"registers a goose Go migration (%s) under a name without a goose version (%s): goose refuses the folder (\"could not parse go migration file\")", fn, why)
		return nil, 0
	}
	if gooseVersionPart(name) != "" { // named as a migration is
		r.warnf(name, 0, "name it {version}_{name}.go with a version from 1 if it is a migration; "+goGooseHint,
			"ignored: no goose version (%s): goose skips this Go file, which registers no migration", why)
	}
	return nil, 0
}

// gooseNumericComponent reads the version of a file name as goose's NumericComponent (migration.go)
// does: the text before the first _, read with strconv.ParseInt, from 1. why says what the name lacks
// when it has no version.
func gooseNumericComponent(name string) (v int64, why string) {
	before, _, ok := strings.Cut(name, "_")
	if !ok {
		return 0, "no _ after a version"
	}
	v, err := strconv.ParseInt(before, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Sprintf("%s is beyond goose's last version, 9223372036854775807", before)
	case err != nil:
		return 0, fmt.Sprintf("%q before the first _ is not a number", before)
	case v < 1:
		return 0, fmt.Sprintf("version %s is below 1", before)
	}
	return v, ""
}

// gooseRegisters are goose's functions that register a Go migration under the name of the file that
// calls them (register.go).
var gooseRegisters = map[string]bool{"AddMigration": true, "AddMigrationContext": true, "AddMigrationNoTx": true, "AddMigrationNoTxContext": true}

// gooseRegistration finds the first call of one of gooseRegisters in Go source (not in a comment or a
// string, nor a function of that name declared): the function and its line; "" when there is none.
func gooseRegistration(src []byte) (fn string, line int) {
	fset := token.NewFileSet()
	var s scanner.Scanner
	s.Init(fset.AddFile("", fset.Base(), len(src)), src, nil, 0)
	var last2, last token.Token // the two tokens before this one
	var ident string            // the last one's text
	var at token.Pos            // and its place
	for {
		pos, tok, lit := s.Scan()
		switch {
		case tok == token.EOF:
			return "", 0
		case tok == token.LPAREN && last == token.IDENT && last2 != token.FUNC && gooseRegisters[ident]:
			return ident, fset.Position(at).Line
		}
		last2, last, ident, at = last, tok, lit, pos
	}
}
