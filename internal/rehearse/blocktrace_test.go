package rehearse_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestTraceInsideTheScriptsBlocks: a migration run statement by statement (a plain folder with several
// BEGIN … COMMIT, golang-migrate with statements after a COMMIT) has the rewrites and scans of the
// statements inside its blocks traced at those statements, as one run in a transaction of the tool's
// has: the observer connection sees neither until the COMMIT (uncommitted filenodes, the block's own
// scan counters), and the COMMIT is not blamed for them. A block that fails is rolled back, its
// earlier statements' rewrites still told.
func TestTraceInsideTheScriptsBlocks(t *testing.T) {
	const (
		setup = "CREATE TABLE t (id bigint PRIMARY KEY, x int, y int);\nINSERT INTO t SELECT g, g, g FROM generate_series(1, 10) g;\n"
		body  = "SET lock_timeout = '1s';\nSET statement_timeout = '1min';\n" +
			"BEGIN;\nALTER TABLE t ALTER COLUMN x SET NOT NULL;\nCOMMIT;\n" +
			"BEGIN;\nALTER TABLE t ALTER COLUMN y TYPE bigint;\nCOMMIT;\n"
		failing = "SET lock_timeout = '1s';\nSET statement_timeout = '1min';\n" +
			"BEGIN;\nALTER TABLE t ALTER COLUMN x SET NOT NULL;\nCOMMIT;\n" +
			"BEGIN;\nALTER TABLE t ALTER COLUMN y TYPE bigint;\nSELECT 1 / 0;\nCOMMIT;\n"
		down = "ALTER TABLE t ALTER COLUMN x DROP NOT NULL;\nALTER TABLE t ALTER COLUMN y TYPE int;\n"
	)
	tests := []struct {
		name   string
		format migrate.Format
		files  map[string]string
		failAt int // the line the migration fails at, 0 when it applies
	}{
		{"plain", migrate.FormatPlain, map[string]string{"001_a.sql": setup, "002_b.sql": body}, 0},
		{"golang-migrate", migrate.FormatGolangMigrate, map[string]string{"1_a.up.sql": setup, "1_a.down.sql": "DROP TABLE t;\n",
			"2_b.up.sql": body, "2_b.down.sql": down}, 0},
		{"plain, failed block", migrate.FormatPlain, map[string]string{"001_a.sql": setup, "002_b.sql": failing}, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := folderOf(t, tt.format, tt.files)
			if !set.Migrations[1].NoTransaction {
				t.Fatal("the migration must run statement by statement for this test")
			}
			// The first migration is the history: its table exists before the change.
			rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}, Provider: provider(t)})
			if err != nil {
				t.Fatal(err)
			}
			m := rep.Migrations[1]
			if tt.failAt == 0 && (m.Status != report.StatusApplied || m.Error != nil) {
				t.Fatalf("%s: %s %+v, want applied", m.Version, m.Status, m.Error)
			}
			if tt.failAt != 0 && (m.Status != report.StatusFailed || m.Error == nil || m.Error.Line != tt.failAt) {
				t.Fatalf("%s: %s %+v, want failed at line %d", m.Version, m.Status, m.Error, tt.failAt)
			}
			rules := map[int][]string{}
			for _, f := range m.Findings {
				rules[f.Line] = append(rules[f.Line], fmt.Sprintf("%s %s", f.Risk, f.Rule))
			}
			if !slices.Contains(rules[4], fmt.Sprintf("%s set-not-null", lint.Dangerous)) {
				t.Errorf("line 4 (SET NOT NULL, which scans t): %q, want dangerous set-not-null", rules[4])
			}
			if !slices.Contains(rules[7], fmt.Sprintf("%s change-column-type-rewrite", lint.Dangerous)) {
				t.Errorf("line 7 (int to bigint, a rewrite): %q, want dangerous change-column-type-rewrite", rules[7])
			}
			for line, rs := range rules {
				// The failing statement runs under the type change's ACCESS EXCLUSIVE (statement-after-access-exclusive).
				if line != 4 && line != 7 && (line != tt.failAt || tt.failAt == 0) {
					t.Errorf("line %d: %q, want no finding (the end of a block rewrites, scans and locks nothing)", line, rs)
				}
			}
			var got []string
			for _, tr := range m.Trace {
				if len(tr.Rewritten) > 0 || len(tr.Scanned) > 0 || len(tr.Locks) > 0 {
					got = append(got, fmt.Sprintf("%d rewritten %v scanned %v locks %d", tr.Line, tr.Rewritten, tr.Scanned, len(tr.Locks)))
				}
			}
			// SET NOT NULL scans t; the type change rewrites t and its index, reading t to do so. Nothing
			// else, the COMMITs least of all, rewrites, scans or locks anything.
			want := []string{
				"4 rewritten [] scanned [public.t] locks 1",
				"7 rewritten [public.t public.t_pkey] scanned [public.t] locks 3",
			}
			if !slices.Equal(got, want) {
				t.Errorf("traces:\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// TestRollbackToSavepointIsNoRewrite: a rewrite undone by ROLLBACK TO SAVEPOINT is the rewriting
// statement's finding, not the ROLLBACK TO's, which put the table's old storage back: the trace said
// the ROLLBACK TO rewrote t and t_pkey, and table-rewrite was reported at its line. In a transaction of
// the tool's (goose) and in the file's own block (golang-migrate).
func TestRollbackToSavepointIsNoRewrite(t *testing.T) {
	const (
		history = "CREATE TABLE t (id bigint PRIMARY KEY, c int);\nINSERT INTO t SELECT g, g FROM generate_series(1, 100) g;\n"
		up      = "SAVEPOINT a;\nALTER TABLE t ALTER COLUMN c TYPE bigint;\nROLLBACK TO SAVEPOINT a;\n"
	)
	for _, tt := range []struct {
		name       string
		format     migrate.Format
		files      map[string]string
		alter, rtb int // the lines of the ALTER and the ROLLBACK TO
	}{
		{"goose", migrate.FormatGoose, map[string]string{"00001_a.sql": "-- +goose Up\n" + history + "-- +goose Down\nDROP TABLE t;\n",
			"00002_b.sql": "-- +goose Up\n" + up + "-- +goose Down\nSELECT 1;\n"}, 3, 4},
		{"golang-migrate", migrate.FormatGolangMigrate, map[string]string{"1_a.up.sql": history, "1_a.down.sql": "DROP TABLE t;\n",
			"2_b.up.sql": "BEGIN;\n" + up + "COMMIT;\n", "2_b.down.sql": "SELECT 1;\n"}, 3, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			set := folderOf(t, tt.format, tt.files)
			rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}, Provider: provider(t)})
			if err != nil {
				t.Fatal(err)
			}
			m := rep.Migrations[1]
			if m.Status != report.StatusApplied {
				t.Fatalf("%s: %s %+v, want applied", m.Version, m.Status, m.Error)
			}
			rules := map[int][]string{}
			for _, f := range m.Findings {
				rules[f.Line] = append(rules[f.Line], f.Rule)
			}
			if !slices.Contains(rules[tt.alter], "change-column-type-rewrite") {
				t.Errorf("line %d (the ALTER): %q, want change-column-type-rewrite", tt.alter, rules[tt.alter])
			}
			if len(rules[tt.rtb]) > 0 {
				t.Errorf("line %d (ROLLBACK TO SAVEPOINT): %q, want no finding", tt.rtb, rules[tt.rtb])
			}
			for _, tr := range m.Trace {
				if tr.Line == tt.rtb && len(tr.Rewritten) > 0 {
					t.Errorf("ROLLBACK TO SAVEPOINT traced as rewriting %v", tr.Rewritten)
				}
			}
		})
	}
}
