package rehearse_test

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestSameStatementsSplit: an applied migration whose up changed outside its statements is history,
// replayed as the base has it, with a safe finding; with its down changed too, the down's caution
// follows it. Counts says what the history replays. sqitch, whose sqitch check compares the deploy
// script's hash, and plain folders, which psql runs with meta-commands the statements leave out, keep
// failing such an edit.
func TestSameStatementsSplit(t *testing.T) {
	base := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql": "CREATE TABLE a (id int); -- a\n", "1_a.down.sql": "DROP TABLE a;\n",
		"2_b.up.sql": "CREATE TABLE b (id int);\n", "2_b.down.sql": "DROP TABLE b;\n"})
	cur := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql": "CREATE TABLE a (id int); -- the a table\n", "1_a.down.sql": "DROP TABLE a;\n",
		"2_b.up.sql": "-- b\nCREATE TABLE b (id int);\n", "2_b.down.sql": "DROP TABLE IF EXISTS b;\n"})
	sp := rehearse.SplitHistory(cur, base)
	if len(sp.History) != 2 || sp.History[0] != base.Migrations[0] || sp.History[1] != base.Migrations[1] || len(sp.Edited) != 0 || len(sp.Fresh) != 0 {
		t.Fatalf("history %v, edited %v, new %v; want the base's two migrations replayed", sp.History, sp.Edited, sp.Fresh)
	}
	if got := sp.Counts(2); !strings.Contains(got, "2 with an up changed outside its statements (comments, blank space), as the base has it") {
		t.Errorf("counts %q", got)
	}
	got := marked(cur, base)
	if a := got["1"]; a.Status == report.StatusFailed || len(a.Findings) != 1 || a.Findings[0].Risk != lint.Safe || a.Findings[0].Line != 1 ||
		!strings.Contains(a.Findings[0].Message, "the edit changes no statement") {
		t.Errorf("1_a: %s %+v; want one safe finding", a.Status, a.Findings)
	}
	if b := got["2"]; b.Status == report.StatusFailed || len(b.Findings) != 2 || b.Findings[1].Risk != lint.Caution || b.Findings[1].File != "2_b.down.sql" {
		t.Errorf("2_b: %s %+v; want a safe finding and the down's caution", b.Status, b.Findings)
	}

	for _, tc := range []struct {
		format    migrate.Format
		was, now  map[string]string
		migration string
	}{
		{migrate.FormatSqitch,
			map[string]string{"sqitch.plan": "%project=p\n\nusers 2024-01-01T00:00:00Z A <a@example.com>\n", "deploy/users.sql": "CREATE TABLE users (id int);\n"},
			map[string]string{"sqitch.plan": "%project=p\n\nusers 2024-01-01T00:00:00Z A <a@example.com>\n", "deploy/users.sql": "-- users\nCREATE TABLE users (id int);\n"},
			"users"},
		{migrate.FormatPlain,
			map[string]string{"1_a.sql": "CREATE TABLE a (id int);\n"},
			map[string]string{"1_a.sql": "-- a\nCREATE TABLE a (id int);\n"},
			"1"},
	} {
		m := marked(folderOf(t, tc.format, tc.now), folderOf(t, tc.format, tc.was))[tc.migration]
		if m.Status != report.StatusFailed || len(m.Findings) != 1 || m.Findings[0].Risk != lint.Dangerous {
			t.Errorf("%s: %s %+v; want failed, edited-applied-migration", tc.format, m.Status, m.Findings)
		}
	}
}
