package rehearse

import (
	"fmt"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestSeedRowsAreNotReadAsCode: the text writesCatalog scans for what a script may write (statementsText)
// leaves out the rows of a VALUES list of literals, which are data: the regular expressions took
// seconds over a seed's megabytes of rows, and a row that reads like SQL ('UPDATE pg_attribute …',
// 'GRANT …') made the read after it whole. The script's code around the rows stays, and so does a
// statement that is code.
func TestSeedRowsAreNotReadAsCode(t *testing.T) {
	t.Parallel()
	var rows []string
	for i := range 1000 {
		rows = append(rows, fmt.Sprintf("(%d, 'UPDATE pg_attribute SET attnotnull = true; GRANT SELECT (a) ON t TO r; -- %d')", i, i))
	}
	// The last row's last literal stays in the text (see sqlparse.Statement.Code).
	rows = append(rows, "(1000, 'the end')")
	seed := "INSERT INTO notes (id, body) VALUES\n" + strings.Join(rows, ",\n") + "\nON CONFLICT (id) DO NOTHING;\n"
	script := func(sql string) *migrate.Script {
		return &migrate.Script{File: "2_seed.up.sql", SQL: sql, Statements: sqlparse.Parse(sql)}
	}

	code := statementsText(script(seed))
	if len(code) > 200 {
		t.Errorf("statementsText keeps the seed's rows (%d of %d bytes):\n%.300s", len(code), len(seed), code)
	}
	for _, want := range []string{"INSERT INTO notes (id, body) VALUES", "ON CONFLICT (id) DO NOTHING"} {
		if !strings.Contains(code, want) {
			t.Errorf("statementsText lost %q: %q", want, code)
		}
	}
	if pg.UnseenChanges(code) || pg.TouchesBuiltIns(code) {
		t.Errorf("a seed's rows count as code: UnseenChanges %v, TouchesBuiltIns %v", pg.UnseenChanges(code), pg.TouchesBuiltIns(code))
	}

	// The same seed with code among its statements: that code is read.
	code = statementsText(script(seed + "GRANT SELECT (body) ON notes TO reader;\n"))
	if !pg.UnseenChanges(code) || !pg.TouchesBuiltIns(code) {
		t.Errorf("a column GRANT after a seed is not read: UnseenChanges %v, TouchesBuiltIns %v", pg.UnseenChanges(code), pg.TouchesBuiltIns(code))
	}
	// A row that calls a function is code.
	call := "INSERT INTO notes (id, body) VALUES (1, 'a'), (2, grant_col('b'));\n"
	if code := statementsText(script(call)); code != call {
		t.Errorf("statementsText of rows that call a function: %q", code)
	}
}
