package rehearse_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// lockHistory is the schema the lock tests change: a table referenced by a foreign key, with two
// indexes, and a range-partitioned table with one partition.
const lockHistory = `CREATE TABLE users (id bigint PRIMARY KEY, email text, name varchar(50), age int);
CREATE INDEX users_email_idx ON users (email);
CREATE INDEX users_name_idx ON users (name);
INSERT INTO users SELECT g, 'u' || g || '@example.com', 'u' || g, g FROM generate_series(1, 100) g;
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users, total int);
INSERT INTO orders SELECT g, g, g FROM generate_series(1, 100) g;
CREATE TABLE events (id bigint, ts timestamptz NOT NULL, payload text) PARTITION BY RANGE (ts);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
`

// rehearseLockChange rehearses up (and down) as a golang-migrate migration after lockHistory, the history,
// and returns its report, failing unless it applied.
func rehearseLockChange(t *testing.T, up, down string) report.Migration {
	t.Helper()
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_init.up.sql": lockHistory, "1_init.down.sql": "DROP TABLE events, orders, users;\n",
		"2_change.up.sql": up, "2_change.down.sql": down})
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Migrations[1]
	if m.Status != report.StatusApplied || m.Error != nil {
		t.Fatalf("%s: %s %+v, want applied", m.Version, m.Status, m.Error)
	}
	return m
}

// findingsAt are the findings of m at line, one "risk rule: message (lock)" each.
func findingsAt(m report.Migration, line int) []string {
	var out []string
	for _, f := range m.Findings {
		if f.Line == line {
			out = append(out, fmt.Sprintf("%s %s: %s (%s)", f.Risk, f.Rule, f.Message, f.Lock))
		}
	}
	return out
}

const lockTimeouts = "SET lock_timeout = '2s';\nSET statement_timeout = '30s';\n"

// TestReindexSaysPlannedReadsWait: a REINDEX without CONCURRENTLY holds ACCESS EXCLUSIVE on the index,
// and the planner takes ACCESS SHARE on every index of a table it plans a query against, so a query
// that never reads through the index (SELECT name FROM users WHERE id = 5) waits too (measured on 15).
// The finding says so, and the scan of the table it rebuilds from is no table-scan whose "reads go on".
func TestReindexSaysPlannedReadsWait(t *testing.T) {
	for _, stmt := range []string{"REINDEX INDEX users_email_idx;", "REINDEX TABLE users;"} {
		t.Run(stmt, func(t *testing.T) {
			m := rehearseLockChange(t, lockTimeouts+stmt+"\n", "SELECT 1;\n")
			got := findingsAt(m, 3)
			said := false
			for _, f := range got {
				if strings.Contains(f, "reads go on") || strings.Contains(f, "table-scan") {
					t.Errorf("%q: the REINDEX's table scan is no separate finding saying reads go on", f)
				}
				said = said || strings.Contains(f, "reindex-blocking") && strings.Contains(f, "every query that plans against the table") &&
					strings.Contains(f, "prepared")
			}
			if !said {
				t.Errorf("findings %q, want reindex-blocking saying every query that plans against the table waits (prepared statements aside)", got)
			}
		})
	}
}
