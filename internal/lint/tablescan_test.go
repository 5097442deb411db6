package lint

import (
	"strings"
	"testing"
)

// TestTableScanOnlyWhereTheScanBlocks: a scan the rehearsal saw is a table-scan only where it blocks
// writes: under SHARE or stronger on the table, or while the transaction holds such a lock on another
// relation. A scan under ACCESS SHARE (CREATE MATERIALIZED VIEW) or ROW EXCLUSIVE (an UPDATE) alone
// blocks no reads or writes; a key-bounded UPDATE's scan is the empty rehearsal database's planner's
// choice, not production's; the check of a NOT NULL column added without a default stops at
// production's first row (add-column-required says it fails). The suggestion is the statement's own
// safe form, not the rule's generic one.
func TestTableScanOnlyWhereTheScanBlocks(t *testing.T) {
	t.Parallel()
	const schema = "CREATE TABLE orgs (id bigint PRIMARY KEY, name text);\n" +
		"CREATE TABLE users (id bigint PRIMARY KEY, status text, org_id bigint);\n" +
		"CREATE TABLE events (id bigint, ts timestamptz) PARTITION BY RANGE (ts);\n" +
		"CREATE TABLE events_2025 (id bigint, ts timestamptz);\n" // its DEFAULT partition the rules do not know
	const head = "SET lock_timeout = '2s';\nSET statement_timeout = '30s';\n"
	const (
		batched  = "UPDATE users SET status = 'active' WHERE id IN (SELECT id FROM users WHERE status IS NULL ORDER BY id LIMIT 1000);\n"
		matview  = "CREATE MATERIALIZED VIEW org_sizes AS SELECT o.id, count(u.id) FROM orgs o LEFT JOIN users u ON u.org_id = o.id GROUP BY o.id;\n"
		addOrgs  = "ALTER TABLE orgs ADD COLUMN note text;\n"
		addUsers = "ALTER TABLE users ADD COLUMN tier int;\n"
	)
	lock := func(rel, mode string) LockEvidence {
		return LockEvidence{Relation: "public." + rel, Mode: mode, Preexisting: true, Kind: "r"}
	}
	ae := func(rel string) Evidence { return Evidence{Locks: []LockEvidence{lock(rel, "AccessExclusiveLock")}} }
	scan := func(locks []LockEvidence, rels ...string) Evidence {
		e := Evidence{Locks: locks}
		for _, r := range rels {
			e.Scanned = append(e.Scanned, "public."+r)
		}
		return e
	}
	rx := func(rel string) []LockEvidence { return []LockEvidence{lock(rel, "RowExclusiveLock")} }
	as := func(rels ...string) []LockEvidence {
		var out []LockEvidence
		for _, r := range rels {
			out = append(out, lock(r, "AccessShareLock"))
		}
		return out
	}
	tests := []struct {
		name string
		body string     // after head
		ev   []Evidence // one per statement of body, in order
		// lock and advice of the table-scan on the last statement; lock "" wants none.
		lock, advice, msg string
	}{
		{"batched UPDATE under ROW EXCLUSIVE", batched, []Evidence{scan(rx("users"), "users")}, "", "", ""},
		{"CREATE MATERIALIZED VIEW under ACCESS SHARE", matview, []Evidence{scan(as("orgs", "users"), "orgs")}, "", "", ""},
		{"ADD COLUMN NOT NULL without a default", "ALTER TABLE users ADD COLUMN c int NOT NULL;\n",
			[]Evidence{scan([]LockEvidence{lock("users", "AccessExclusiveLock")}, "users")}, "", "", ""},
		{"batched UPDATE after an ALTER", addUsers + batched, []Evidence{ae("users"), scan(rx("users"), "users")}, "", "", ""},
		{"unbounded UPDATE after an ALTER", addUsers + "UPDATE users SET tier = 0 WHERE status IS NULL;\n",
			[]Evidence{ae("users"), scan(rx("users"), "users")}, "ACCESS EXCLUSIVE", dmlScanSuggestion, "full scan of public.users while holding ACCESS EXCLUSIVE, which an earlier statement"},
		{"UPDATE while the transaction holds ACCESS EXCLUSIVE on another table", addOrgs + "UPDATE users SET status = 'x' WHERE status IS NULL;\n",
			[]Evidence{ae("orgs"), scan(rx("users"), "users")}, "ACCESS EXCLUSIVE on public.orgs", dmlScanSuggestion,
			"full scan of public.users while the transaction holds ACCESS EXCLUSIVE on public.orgs, which an earlier statement of the transaction took: reads and writes of public.orgs wait"},
		{"CREATE MATERIALIZED VIEW after an ALTER of its source", addOrgs + matview, []Evidence{ae("orgs"), scan(as("orgs", "users"), "orgs")},
			"ACCESS EXCLUSIVE", createAsScanSuggestion, "full scan of public.orgs while holding ACCESS EXCLUSIVE"},
		{"a query after an ALTER", addOrgs + "SELECT count(*) FROM orgs;\n", []Evidence{ae("orgs"), scan(as("orgs"), "orgs")},
			"ACCESS EXCLUSIVE", queryScanSuggestion, "full scan of public.orgs"},
		{"ATTACH PARTITION scans the DEFAULT partition", "ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\n",
			[]Evidence{scan([]LockEvidence{lock("events", "ShareUpdateExclusiveLock"), lock("events_2025", "AccessExclusiveLock"), lock("events_default", "AccessExclusiveLock")}, "events_2025", "events_default")},
			"ACCESS EXCLUSIVE", attachScanSuggestion, "full scan of public.events_default"},
		{"a DO block under SHARE", "DO $$ BEGIN LOCK TABLE users IN SHARE MODE; PERFORM count(*) FROM users; END $$;\n",
			[]Evidence{scan([]LockEvidence{lock("users", "ShareLock")}, "users")}, "SHARE", "", "writes wait for the whole scan; reads go on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			static := AnalyzeScript(script(head+tt.body), true, Config{Schema: schema})
			for i := range tt.ev {
				tt.ev[i].File, tt.ev[i].Line, tt.ev[i].Column = "m.sql", 3+i, 1
			}
			got := ApplyEvidence(static, tt.ev)
			var scans []Finding
			for _, f := range got {
				if f.Rule == "table-scan" {
					scans = append(scans, f)
				}
			}
			if tt.lock == "" {
				if len(scans) > 0 {
					t.Fatalf("table-scan %+v, want none", scans)
				}
				return
			}
			if len(scans) != 1 {
				t.Fatalf("table-scan findings %+v, want one", scans)
			}
			f := scans[0]
			last := 3 + len(tt.ev) - 1
			if f.Line != last || f.Risk != Dangerous || f.Lock != tt.lock || !strings.Contains(f.Message, tt.msg) {
				t.Errorf("table-scan at line %d %s under %q: %q; want line %d, dangerous under %q saying %q", f.Line, f.Risk, f.Lock, f.Message, last, tt.lock, tt.msg)
			}
			want := tt.advice
			if want == "" {
				r, _ := Lookup("table-scan")
				want = r.Suggestion
			}
			if f.Suggestion != want {
				t.Errorf("suggestion %q, want %q", f.Suggestion, want)
			}
		})
	}
	// ADD COLUMN … NOT NULL keeps its own finding, which says the statement fails on a table with rows.
	static := AnalyzeScript(script(head+"ALTER TABLE users ADD COLUMN c int NOT NULL;\n"), true, Config{Schema: schema})
	got := ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 3, Column: 1, Scanned: []string{"public.users"},
		Locks: []LockEvidence{lock("users", "AccessExclusiveLock")}}})
	if f := find(got, "add-column-required"); f == nil || f.Risk != Dangerous {
		t.Errorf("add-column-required %+v, want it dangerous", f)
	}
}

// TestScanSuggestionByStatement: each kind of statement gets its own safe form.
func TestScanSuggestionByStatement(t *testing.T) {
	t.Parallel()
	for sql, want := range map[string]string{
		"UPDATE users SET x = 1;":                                       dmlScanSuggestion,
		"DELETE FROM users;":                                            dmlScanSuggestion,
		"INSERT INTO a SELECT * FROM users;":                            dmlScanSuggestion,
		"MERGE INTO a USING b ON a.id = b.id WHEN MATCHED THEN DELETE;": dmlScanSuggestion,
		"CREATE MATERIALIZED VIEW v AS SELECT * FROM users;":            createAsScanSuggestion,
		"CREATE TABLE c AS SELECT * FROM users;":                        createAsScanSuggestion,
		"SELECT * INTO c FROM users;":                                   createAsScanSuggestion,
		"SELECT count(*) FROM users;":                                   queryScanSuggestion,
		"CREATE INDEX i ON users (x);":                                  indexScanSuggestion,
		"ALTER TABLE users ADD CONSTRAINT c CHECK (x > 0);":             alterScanSuggestion,
		"ALTER TABLE e ATTACH PARTITION e1 FOR VALUES FROM (1) TO (2);": attachScanSuggestion,
		"SELECT my_migration();":                                        "",
		"DO $$ BEGIN PERFORM 1; END $$;":                                "",
	} {
		s := script(sql)
		if len(s.Statements) != 1 || s.Statements[0].Node == nil {
			t.Fatalf("%s: does not parse", sql)
		}
		if got := scanSuggestion(s.Statements[0].Node); got != want {
			t.Errorf("%s: %q, want %q", sql, got, want)
		}
	}
}
