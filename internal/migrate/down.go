package migrate

import (
	"errors"
	"strings"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// This file holds what a down written for a migration (rollback-script, check --generate-down) needs of
// the tool that will run it: the lines that keep a statement whole, and the statements the tool sends.

// annotatedDialect is the dialect of a format whose tool reads a migration's sections line by line and
// ends a statement at each line whose last word ends with ';' (goose, sql-migrate); false for the others:
// dbmate sends a section whole (pkg/dbmate/db.go: tx.Exec of the section), golang-migrate a file, and
// Flyway, sqitch (psql), Atlas and plain folders read SQL as SQL.
func annotatedDialect(format Format) (dialect, bool) {
	switch format {
	case FormatGoose:
		return gooseDialect, true
	case FormatSQLMigrate:
		return sqlMigrateDialect, true
	}
	return dialect{}, false
}

// StatementBlock is, for a statement stmt (with its terminating ';') of a script that the tool of format
// runs, the lines to write before and after it so that the tool sends it whole: goose and sql-migrate end
// a statement at every line whose last word before a "--" ends with ';' (a plpgsql body's lines, a string
// that spans lines), unless it is inside StatementBegin/StatementEnd. "" and "" when the statement needs
// none: it is on one line, or only its last line ends it, or the tool reads SQL otherwise.
func StatementBlock(format Format, stmt string) (begin, end string) {
	d, ok := annotatedDialect(format)
	if !ok || !strings.Contains(stmt, "\n") {
		return "", ""
	}
	lines := strings.Split(strings.TrimRight(stmt, "\n"), "\n")
	cut := !endsWithSemicolon(lines[len(lines)-1])
	for _, l := range lines[:len(lines)-1] {
		cut = cut || endsWithSemicolon(l)
	}
	if !cut {
		return "", ""
	}
	tool := strings.TrimSuffix(d.up, "Up")
	return tool + "StatementBegin", tool + "StatementEnd"
}

// ReadDown reads sql, a down written for a migration of format, as the migration's tool reads it pasted
// under the migration's Down annotation (goose's -- +goose Down, sql-migrate's -- +migrate Down): the
// statements it sends (sql-migrate leaves out every line that starts with "-- ", a body's too) and, as
// the error, what the reader finds wrong with it (a statement the tool would cut, an annotation in a
// comment). For the other formats it is sql's statements as PostgreSQL reads them, and no error; for
// sqitch and plain folders, run by psql, marked NoTransaction where psql runs them outside one. Lines
// are sql's own; file names the script.
func ReadDown(format Format, file, sql string) (*Script, error) {
	d, ok := annotatedDialect(format)
	if !ok {
		s := &Script{File: file, SQL: sql, Statements: sqlparse.Parse(sql)}
		if format == FormatSqitch || format == FormatPlain {
			// psql runs it statement by statement, in the transaction of its own BEGIN … COMMIT where
			// it has one, as the folder's reader marks a script (inferAutocommit).
			s.NoTransaction = psqlAutocommit(s.Statements)
		}
		return s, nil
	}
	// goose wants its Up section first; the Up section's emptiness is no concern of the down.
	prefix := d.down + "\n"
	if !d.upOptional {
		prefix = d.up + "\n" + prefix
	}
	shift := strings.Count(prefix, "\n")
	r := &reader{fsys: fstest.MapFS{file: {Data: []byte(prefix + sql)}}}
	var down *Script
	if strings.TrimSpace(sql) != "" {
		if m := r.readSingleFile(file, "0", "down", d); m != nil {
			down = m.Down
		}
	}
	if down == nil {
		down = &Script{File: file, SQL: sql}
	} else {
		down.SQL, down.Start = sql, 0
		for i := range down.Statements {
			st := &down.Statements[i]
			st.Pos.Line, st.Pos.Offset = st.Pos.Line-shift, st.Pos.Offset-len(prefix)
			st.End -= len(prefix)
			if st.Err != nil {
				st.Err.Pos.Line, st.Err.Pos.Offset = st.Err.Pos.Line-shift, st.Err.Pos.Offset-len(prefix)
			}
			if st.FromStdin {
				st.DataPos.Line, st.DataPos.Offset = st.DataPos.Line-shift, st.DataPos.Offset-len(prefix)
			}
			for j := range st.Skipped {
				st.Skipped[j] -= shift
			}
		}
	}
	var errs []error
	for _, e := range r.errs {
		if e.Line > 0 && e.Line <= shift {
			continue // the annotations put before it
		}
		if e.Line > 0 {
			e.Line -= shift
		}
		errs = append(errs, e)
	}
	return down, errors.Join(errs...)
}
