package migrate

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// goose (github.com/pressly/goose): {version}_{name}.sql files, each with "-- +goose Up" and optionally
// "-- +goose Down" sections. Annotations are case-insensitive and must start their line.

var gooseDialect = dialect{
	tool:              "goose",
	up:                "-- +goose Up",
	down:              "-- +goose Down",
	upFirst:           true,
	classify:          gooseDirective,
	splitsAtSemicolon: true,
}

const gooseKnown = "goose knows Up, Down, StatementBegin, StatementEnd, NO TRANSACTION, ENVSUB ON and ENVSUB OFF"

func gooseDirective(line string) directive {
	body, ok, indented := commentBody(line)
	if !ok || !hasPrefixFold(body, "+goose") {
		return directive{}
	}
	if indented {
		return directive{err: "goose annotation must start its line", hint: "remove the leading white space"}
	}
	rest := body[len("+goose"):]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return directive{err: "unknown goose annotation " + strconv.Quote(strings.TrimSpace(body)), hint: gooseKnown}
	}
	cmd := strings.ToLower(strings.Join(strings.Fields(rest), " "))
	switch cmd {
	case "up":
		return directive{kind: dirUp}
	case "down":
		return directive{kind: dirDown}
	case "statementbegin":
		return directive{kind: dirBegin}
	case "statementend":
		return directive{kind: dirEnd}
	case "no transaction":
		return directive{kind: dirNoTx}
	case "envsub on":
		return directive{kind: dirEnvOn}
	case "envsub off":
		return directive{kind: dirEnvOff}
	case "":
		return directive{err: "empty goose annotation", hint: gooseKnown}
	}
	return directive{err: "unknown goose annotation " + strconv.Quote(strings.TrimSpace(rest)), hint: gooseKnown}
}

func (r *reader) readGoose() {
	type entry struct {
		m *Migration
		v int64
	}
	var found []entry
	for _, name := range r.topFiles() {
		digits := leadingDigits(name)
		goMigration := strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
		if !isSQL(name) && !goMigration {
			continue
		}
		if digits == "" {
			if !goMigration {
				r.warnf(name, 0, "goose names migrations {version}_{name}.sql", "ignored: not a goose migration file name")
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
			r.errorf(name, 0, "goose versions are whole numbers from 1 to 9223372036854775807", "invalid goose version %s", digits)
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
