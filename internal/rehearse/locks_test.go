package rehearse_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sqlparse"
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

// TestTypeChangeOfAForeignKeyColumnNamesTheOtherTable: changing the type of a column a foreign key
// uses, on either side, drops the foreign key and adds it again: PostgreSQL takes ACCESS EXCLUSIVE on the
// other table (RemoveConstraintById) until the transaction ends and, unless the types stay compatible,
// validates the key again, a scan of both tables (measured on 15: orders.user_id bigint to int locks
// users AccessExclusive, ShareRowExclusive and RowShare). The finding names that table and its lock,
// statically from the history and from the trace of a lone file, whose history the rules do not read.
func TestTypeChangeOfAForeignKeyColumnNamesTheOtherTable(t *testing.T) {
	tests := []struct{ stmt, other string }{
		{"ALTER TABLE orders ALTER COLUMN user_id TYPE int;", "users"},
		{"ALTER TABLE users ALTER COLUMN id TYPE int;", "orders"},
	}
	for _, tt := range tests {
		t.Run(tt.stmt, func(t *testing.T) {
			up := lockTimeouts + tt.stmt + "\n"
			script := &migrate.Script{File: "2_change.up.sql", SQL: up, Statements: sqlparse.Parse(up)}
			// Statically, with the history that made the foreign key.
			wantNamed(t, "lint", lint.AnalyzeScript(script, true, lint.Config{Schema: lockHistory}), tt.other)
			// From the trace.
			m := rehearseLockChange(t, up, "SELECT 1;\n")
			var fs []lint.Finding
			for _, f := range m.Findings {
				fs = append(fs, lint.Finding{Rule: f.Rule, Line: f.Line, Message: f.Message, Lock: f.Lock, File: "2_change.up.sql"})
			}
			wantNamed(t, "check", fs, tt.other)
			// From the trace alone: the rules judge the statement without the foreign key.
			ev := []lint.Evidence{}
			for _, tr := range m.Trace {
				if tr.Line == 3 {
					e := lint.Evidence{File: "2_change.up.sql", Line: 3, Column: 1, Rewritten: tr.Rewritten, Scanned: tr.Scanned}
					for _, l := range tr.Locks {
						e.Locks = append(e.Locks, lint.LockEvidence{Relation: l.Relation, Mode: l.Mode, Preexisting: true, Kind: "r"})
					}
					ev = append(ev, e)
				}
			}
			lone := lint.AnalyzeScript(script, true, lint.Config{})
			wantNamed(t, "trace of a lone file", lint.ApplyEvidence(lone, ev), tt.other)
		})
	}
}

// wantNamed fails unless the type change's finding at line 3 names table other with ACCESS EXCLUSIVE
// in its lock, and no table-scan finding stands beside it.
func wantNamed(t *testing.T, what string, fs []lint.Finding, other string) {
	t.Helper()
	found := false
	for _, f := range fs {
		if f.Line != 3 || !strings.HasSuffix(f.File, "2_change.up.sql") {
			continue
		}
		if f.Rule == "table-scan" {
			t.Errorf("%s: %s: %s, want the type change's finding to cover the scan", what, f.Rule, f.Message)
		}
		if strings.HasPrefix(f.Rule, "change-column-type") && strings.Contains(f.Lock, "ACCESS EXCLUSIVE on public."+other) && strings.Contains(f.Message, other) {
			found = true
		}
	}
	if !found {
		t.Errorf("%s: findings %+v, want the type change's naming ACCESS EXCLUSIVE on public.%s", what, fs, other)
	}
}

// TestDetachConcurrentlyWantsALockTimeout: DETACH PARTITION … CONCURRENTLY takes ACCESS EXCLUSIVE on the
// partition in its second transaction, after waiting for every older transaction that uses the
// partitioned table; a query that names the partition (SELECT count(*) FROM events_2024) queues behind
// it while it waits (measured on 15). Alone in a golang-migrate file, without SET lock_timeout, it gets
// missing-lock-timeout as DROP INDEX CONCURRENTLY does (squawk's require-lock-timeout flags it too), and
// the trace lists the partition's locks.
func TestDetachConcurrentlyWantsALockTimeout(t *testing.T) {
	m := rehearseLockChange(t, "ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;\n",
		"ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n")
	got := findingsAt(m, 1)
	found := false
	for _, f := range got {
		found = found || strings.Contains(f, "missing-lock-timeout") && strings.Contains(f, "ACCESS EXCLUSIVE on events_2024")
	}
	if !found {
		t.Errorf("findings %q, want missing-lock-timeout naming the ACCESS EXCLUSIVE on events_2024", got)
	}
	var locks []string
	for _, tr := range m.Trace {
		if tr.Line == 1 {
			for _, l := range tr.Locks {
				locks = append(locks, l.Relation+" "+l.Mode)
			}
		}
	}
	for _, want := range []string{"public.events ShareUpdateExclusiveLock", "public.events_2024 ShareUpdateExclusiveLock", "public.events_2024 AccessExclusiveLock"} {
		if !slices.Contains(locks, want) {
			t.Errorf("trace locks %q, want %s", locks, want)
		}
	}
	// Under a lock_timeout (golang-migrate would send the SET with it as one query, in one transaction,
	// which DETACH … CONCURRENTLY refuses: psql runs a plain script statement by statement) the
	// partition's ACCESS EXCLUSIVE the trace saw is what the rules know it takes: no finding.
	up := lockTimeouts + "ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;\n"
	static := lint.AnalyzeScript(&migrate.Script{File: "2_change.sql", SQL: up, Statements: sqlparse.Parse(up)}, false, lint.Config{Schema: lockHistory})
	var ev lint.Evidence
	for _, tr := range m.Trace {
		if tr.Line == 1 {
			ev = lint.Evidence{File: "2_change.sql", Line: 3, Column: 1, Concurrent: true}
			for _, l := range tr.Locks {
				kind := "r"
				if l.Relation == "public.events" {
					kind = "p"
				}
				ev.Locks = append(ev.Locks, lint.LockEvidence{Relation: l.Relation, Mode: l.Mode, Preexisting: true, Kind: kind})
			}
		}
	}
	for _, f := range lint.ApplyEvidence(static, []lint.Evidence{ev}) {
		if f.Line == 3 {
			t.Errorf("under a lock_timeout: %s %s: %s, want no finding", f.Risk, f.Rule, f.Message)
		}
	}
}
