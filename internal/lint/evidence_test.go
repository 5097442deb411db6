package lint

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestApplyEvidence(t *testing.T) {
	t.Parallel()
	src := `SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE users ALTER COLUMN name TYPE text;
ALTER TABLE users ALTER COLUMN age TYPE text;
ALTER TABLE users DROP CONSTRAINT users_org_fk;
ALTER TABLE users SET ACCESS METHOD heap;
COMMENT ON TABLE users IS 'x';
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users ADD COLUMN token uuid DEFAULT my_uuid();
`
	static := AnalyzeScript(script(src), false, Config{})
	ev := []Evidence{
		{File: "m.sql", Line: 3, Column: 1, Locks: []LockEvidence{{Relation: "users", Mode: "AccessExclusiveLock", Preexisting: true}}},
		{File: "m.sql", Line: 4, Column: 1, Rewritten: []string{"users"}, Scanned: []string{"users"},
			Locks: []LockEvidence{{Relation: "users", Mode: "AccessExclusiveLock", Preexisting: true}}},
		{File: "m.sql", Line: 5, Column: 1, Locks: []LockEvidence{
			{Relation: "users", Mode: "AccessExclusiveLock", Preexisting: true},
			{Relation: "orgs", Mode: "AccessExclusiveLock", Preexisting: true}}},
		{File: "m.sql", Line: 6, Column: 1, Rewritten: []string{"users"}, Locks: []LockEvidence{{Relation: "users", Mode: "AccessExclusiveLock", Preexisting: true}}},
		// The script runs outside a transaction (autocommit), as the rehearsal's trace marks it: the
		// ACCESS EXCLUSIVE of line 6 is gone.
		{File: "m.sql", Line: 7, Column: 1, Scanned: []string{"users"}, Locks: []LockEvidence{{Relation: "users", Mode: "ShareUpdateExclusiveLock", Preexisting: true}}, Concurrent: true},
		{File: "m.sql", Line: 8, Column: 1, Scanned: []string{"users"}, Locks: []LockEvidence{{Relation: "users", Mode: "AccessExclusiveLock", Preexisting: true}}},
		{File: "m.sql", Line: 9, Column: 1, Rewritten: []string{"users"}, Locks: []LockEvidence{{Relation: "users", Mode: "AccessExclusiveLock", Preexisting: true}}},
		{File: "m.sql", Line: 10, Column: 1, InvalidIndexes: []string{"users_email_key"}, Concurrent: true},
		{File: "m.sql", Line: 11, Column: 1, Err: "lock timeout", Rewritten: []string{"users"}},
		// A failed CREATE UNIQUE INDEX CONCURRENTLY: the index stays, INVALID, and blocks the retry.
		{File: "m.sql", Line: 12, Column: 1, Err: "could not create unique index", InvalidIndexes: []string{"public.users_x"}, Concurrent: true},
	}
	got := ApplyEvidence(static, ev)
	at := func(line int, rule string) *Finding {
		for i := range got {
			if got[i].Line == line && got[i].Rule == rule {
				return &got[i]
			}
		}
		return nil
	}
	tests := []struct {
		name   string
		line   int
		rule   string
		risk   Risk
		source string
		lock   string
	}{
		{"coercible confirmed", 3, "change-column-type-coercible", Caution, SourceBoth, ""},
		{"unknown old type corrected to rewrite", 4, "change-column-type-rewrite", Dangerous, SourceBoth, ""},
		{"dropped FK locks the referenced table", 5, "drop-constraint", Caution, SourceBoth, "ACCESS EXCLUSIVE on orgs (observed)"},
		{"unexplained rewrite", 6, "table-rewrite", Dangerous, "dynamic", "ACCESS EXCLUSIVE"},
		{"explained scan confirmed", 8, "set-not-null", Dangerous, SourceBoth, ""},
		{"non-volatile default that rewrote", 9, "add-column-volatile-default", Dangerous, SourceBoth, ""},
		{"invalid index", 10, "invalid-index", Dangerous, "dynamic", ""},
		{"invalid index a failed statement left", 12, "invalid-index", Dangerous, "dynamic", ""},
	}
	for _, tt := range tests {
		f := at(tt.line, tt.rule)
		if f == nil {
			t.Errorf("%s: no %s at line %d in %v", tt.name, tt.rule, tt.line, got)
			continue
		}
		if f.Risk != tt.risk || f.Source != tt.source || !strings.Contains(f.Lock, tt.lock) {
			t.Errorf("%s: %+v; want risk %s source %s lock containing %q", tt.name, f, tt.risk, tt.source, tt.lock)
		}
		if f.URL == "" {
			t.Errorf("%s: no URL", tt.name)
		}
	}
	if f := at(4, "change-column-type-coercible"); f != nil {
		t.Errorf("line 4 keeps the coercible finding: %v", f)
	}
	if f := at(7, "table-scan"); f != nil {
		t.Errorf("a scan under SHARE UPDATE EXCLUSIVE, which blocks no reads or writes, added table-scan: %v", f)
	}
	if f := at(8, "table-scan"); f != nil {
		t.Errorf("scan explained by set-not-null still added table-scan: %v", f)
	}
	if f := at(11, "table-rewrite"); f != nil {
		t.Errorf("a failed statement's evidence must be skipped: %v", f)
	}
	if f := at(12, "invalid-index"); f != nil && !strings.Contains(f.Message, "the failed statement left index public.users_x behind INVALID") {
		t.Errorf("invalid index of a failed statement: %q", f.Message)
	}
	// The input is not modified.
	for _, f := range static {
		if f.Source != "static" {
			t.Fatalf("ApplyEvidence changed its input: %v", f)
		}
	}
}

func TestApplyEvidenceScanUnderStrongLock(t *testing.T) {
	t.Parallel()
	got := ApplyEvidence(nil, []Evidence{{File: "a.sql", Line: 1, Column: 1, Scanned: []string{"t"},
		Locks: []LockEvidence{{Relation: "t", Mode: "ShareLock", Preexisting: true}}}})
	if len(got) != 1 || got[0].Rule != "table-scan" || got[0].Risk != Dangerous || got[0].Lock != "SHARE" {
		t.Fatalf("got %+v", got)
	}
}

// TestApplyEvidenceNamesEveryLockedRelation: a dropped primary key locks its table and its index; the
// finding names both, whatever order the evidence comes in, and one name being the start of the
// other ("public.queues", "public.queues_pkey") does not hide it.
func TestApplyEvidenceNamesEveryLockedRelation(t *testing.T) {
	t.Parallel()
	static := AnalyzeScript(script("ALTER TABLE queues DROP CONSTRAINT IF EXISTS queues_pkey;\n"), false, Config{})
	locks := []LockEvidence{
		{Relation: "public.queues_pkey", Mode: "AccessExclusiveLock", Preexisting: true, Dropped: true},
		{Relation: "public.queues", Mode: "AccessExclusiveLock", Preexisting: true},
	}
	want := ""
	for i := range 20 {
		ls := []LockEvidence{locks[i%2], locks[1-i%2]}
		got := ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 1, Column: 1, Locks: ls}})
		var lock string
		for _, f := range got {
			if f.Rule == "drop-constraint" {
				lock = f.Lock
			}
		}
		if !strings.Contains(lock, "public.queues (observed)") || !strings.Contains(lock, "public.queues_pkey (observed)") {
			t.Fatalf("drop-constraint lock %q, want both public.queues and public.queues_pkey", lock)
		}
		if want == "" {
			want = lock
		} else if lock != want {
			t.Fatalf("lock text depends on the order: %q, then %q", want, lock)
		}
	}
}

func TestMentions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		text, rel string
		want      bool
	}{
		{"ACCESS EXCLUSIVE on public.queues_pkey (observed)", "public.queues", false},
		{"ACCESS EXCLUSIVE on public.queues (observed)", "public.queues", true},
		{"on public.queues", "public.queues", true},
		{"x.public.queues", "public.queues", false},
		{"public.queues_pkey and public.queues", "public.queues", true},
	} {
		if got := mentions(c.text, c.rel); got != c.want {
			t.Errorf("mentions(%q, %q) = %v, want %v", c.text, c.rel, got, c.want)
		}
	}
}

// TestApplyEvidenceLocksHeldAcrossTransaction: a scan in a later statement of the same transaction
// runs under the locks earlier statements took, also when it takes a weaker mode of its own (pg_locks
// has a row per mode, so the trace reports it as new); autocommit statements (Concurrent) and a
// transaction that ended (the trace reports a mode the transaction held again) start afresh, and their
// scan under no lock or SHARE UPDATE EXCLUSIVE, which blocks no reads or writes, is no table-scan.
func TestApplyEvidenceLocksHeldAcrossTransaction(t *testing.T) {
	t.Parallel()
	ae := []LockEvidence{{Relation: "public.users", Mode: "AccessExclusiveLock", Preexisting: true}}
	sue := []LockEvidence{{Relation: "public.users", Mode: "ShareUpdateExclusiveLock", Preexisting: true}}
	orgsSUE := LockEvidence{Relation: "public.orgs", Mode: "ShareUpdateExclusiveLock", Preexisting: true}
	scan := []string{"public.users"}
	tests := []struct {
		name string
		ev   []Evidence
		lock string // "": no table-scan
		risk Risk
	}{
		{"held since an earlier statement", []Evidence{{Line: 1, Locks: ae}, {Line: 2, Scanned: scan}}, "ACCESS EXCLUSIVE", Dangerous},
		{"strongest of the transaction", []Evidence{{Line: 1, Locks: ae}, {Line: 2, Locks: []LockEvidence{{Relation: "public.orgs", Mode: "ShareLock", Preexisting: true}}}, {Line: 3, Scanned: scan}}, "ACCESS EXCLUSIVE", Dangerous},
		{"autocommit statements", []Evidence{{Line: 1, Locks: ae, Concurrent: true}, {Line: 2, Scanned: scan, Concurrent: true}}, "", Safe},
		{"weaker mode of its own", []Evidence{{Line: 1, Locks: ae}, {Line: 2, Locks: sue, Scanned: scan}}, "ACCESS EXCLUSIVE", Dangerous},
		{"after the transaction ended", []Evidence{{Line: 1, Locks: append(slices.Clone(ae), orgsSUE)}, {Line: 2, Locks: append(slices.Clone(sue), orgsSUE), Scanned: scan}},
			"", Safe},
		{"another file", []Evidence{{File: "a.sql", Line: 1, Locks: ae}, {Line: 2, Scanned: scan}}, "", Safe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for i := range tt.ev {
				if tt.ev[i].File == "" {
					tt.ev[i].File = "m.sql"
				}
				tt.ev[i].Column = 1
			}
			var scanF *Finding
			got := ApplyEvidence(nil, tt.ev)
			for i := range got {
				if got[i].Rule == "table-scan" {
					scanF = &got[i]
				}
			}
			if tt.lock == "" && scanF != nil || tt.lock != "" && (scanF == nil || scanF.Lock != tt.lock || scanF.Risk != tt.risk) {
				t.Errorf("table-scan %+v, want lock %s risk %s", scanF, tt.lock, tt.risk)
			}
		})
	}
}

// TestApplyEvidenceScanMatchedByRelation: a static finding explains the scans of the relations it
// names, not every scan of its statement: ATTACH PARTITION scanning the DEFAULT partition too gets a
// finding for that scan.
func TestApplyEvidenceScanMatchedByRelation(t *testing.T) {
	t.Parallel()
	src := "SET lock_timeout = '2s';\nALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\n"
	static := AnalyzeScript(script(src), true, Config{Schema: testSchema(t)})
	got := ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 2, Column: 1,
		Scanned: []string{"public.events_2025", "public.events_default"},
		Locks: []LockEvidence{{Relation: "public.events", Mode: "ShareUpdateExclusiveLock", Preexisting: true},
			{Relation: "public.events_2025", Mode: "AccessExclusiveLock", Preexisting: true},
			{Relation: "public.events_default", Mode: "AccessExclusiveLock", Preexisting: true}}}})
	var scans []string
	for _, f := range got {
		if f.Rule == "table-scan" {
			scans = append(scans, f.Message)
			if f.Risk != Dangerous || f.Lock != "ACCESS EXCLUSIVE" {
				t.Errorf("table-scan %+v", f)
			}
		}
	}
	if len(scans) != 1 || !strings.Contains(scans[0], "events_default") {
		t.Errorf("table-scan findings %q, want one for events_default", scans)
	}
	if f := find(got, "attach-partition-scan"); f == nil || f.Source != SourceBoth {
		t.Errorf("attach-partition-scan %+v", f)
	}
}

// TestApplyEvidenceSetNotNullWithoutScan: SET NOT NULL that did not scan (PostgreSQL 12+ uses a
// validated CHECK (col IS NOT NULL)) becomes set-not-null-proven; one that scanned stays.
func TestApplyEvidenceSetNotNullWithoutScan(t *testing.T) {
	t.Parallel()
	src := "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"
	static := AnalyzeScript(script(src), true, Config{})
	lock := []LockEvidence{{Relation: "public.users", Mode: "AccessExclusiveLock", Preexisting: true}}
	got := ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 1, Column: 1, Locks: lock}})
	if f := find(got, "set-not-null-proven"); f == nil || f.Risk != Safe || f.Scan || f.Source != SourceBoth {
		t.Errorf("no scan: set-not-null-proven %+v", f)
	}
	if f := find(got, "set-not-null"); f != nil {
		t.Errorf("no scan: set-not-null stays: %+v", f)
	}
	got = ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 1, Column: 1, Locks: lock, Scanned: []string{"public.users"}}})
	if f := find(got, "set-not-null"); f == nil || f.Risk != Dangerous || f.Source != SourceBoth {
		t.Errorf("scan: set-not-null %+v", f)
	}
}

// TestApplyEvidenceUnexplainedLock: a strong lock on a pre-existing relation that no finding of the
// statement claims adds unexplained-exclusive-lock, dangerous when the file sets no lock_timeout.
func TestApplyEvidenceUnexplainedLock(t *testing.T) {
	t.Parallel()
	ae := func(line int, rel string) Evidence {
		return Evidence{File: "m.sql", Line: line, Column: 1, Locks: []LockEvidence{{Relation: rel, Mode: "AccessExclusiveLock", Preexisting: true}}}
	}
	for _, tt := range []struct {
		name string
		src  string
		ev   []Evidence
		want []Risk // risks of the unexplained-exclusive-lock findings
	}{
		{"opaque function call, no timeout", "ALTER TABLE users ADD COLUMN bio text;\nSELECT my_migration();\n",
			[]Evidence{ae(1, "public.users"), ae(2, "public.orgs")}, []Risk{Dangerous}},
		{"opaque function call, timeout set", "SET lock_timeout = '2s';\nSELECT my_migration();\n",
			[]Evidence{ae(2, "public.orgs")}, []Risk{Caution}},
		{"weak lock", "SELECT my_migration();\n",
			[]Evidence{{File: "m.sql", Line: 1, Column: 1, Locks: []LockEvidence{{Relation: "public.users", Mode: "RowExclusiveLock", Preexisting: true}}}}, nil},
		{"relation created in the migration", "SELECT my_migration();\n",
			[]Evidence{{File: "m.sql", Line: 1, Column: 1, Locks: []LockEvidence{{Relation: "public.t", Mode: "AccessExclusiveLock"}}}}, nil},
		{"claimed by a finding", "SET lock_timeout = '2s';\nALTER TABLE users DROP COLUMN age;\n",
			[]Evidence{ae(2, "public.users")}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var risks []Risk
			for _, f := range ApplyEvidence(AnalyzeScript(script(tt.src), true, Config{}), tt.ev) {
				if f.Rule == "unexplained-exclusive-lock" {
					risks = append(risks, f.Risk)
					if f.Lock != "ACCESS EXCLUSIVE" || f.Source != "dynamic" || f.URL == "" {
						t.Errorf("%+v", f)
					}
				}
			}
			if !slices.Equal(risks, tt.want) {
				t.Errorf("unexplained-exclusive-lock risks %v, want %v", risks, tt.want)
			}
		})
	}
}

// TestApplyEvidenceUnexplainedLockNamesKind: what unexplained-exclusive-lock says queues behind a lock
// taken without lock_timeout follows the kind the trace gives the relation.
func TestApplyEvidenceUnexplainedLockNamesKind(t *testing.T) {
	t.Parallel()
	for kind, says := range map[string]string{
		"":  "every later query on the table queues behind it",
		"r": "every later query on the table queues behind it",
		"v": "every later query on the view queues behind it",
		"m": "every later query on the materialized view queues behind it",
		"S": "every later nextval() of the sequence queues behind it",
	} {
		ev := []Evidence{{File: "m.sql", Line: 1, Column: 1, Locks: []LockEvidence{{Relation: "public.x", Mode: "AccessExclusiveLock", Preexisting: true, Kind: kind}}}}
		var msgs []string
		for _, f := range ApplyEvidence(AnalyzeScript(script("SELECT my_migration();\n"), true, Config{}), ev) {
			if f.Rule == "unexplained-exclusive-lock" {
				msgs = append(msgs, f.Message)
			}
		}
		if len(msgs) != 1 || !strings.Contains(msgs[0], says) {
			t.Errorf("kind %q: unexplained-exclusive-lock %q, want one saying %q", kind, msgs, says)
		}
	}
}

// TestApplyEvidenceTypeChangeMessages: the rehearsal's outcome replaces the parser's guess without
// contradicting it, and its UTC "no rewrite" does not clear a timestamp <-> timestamptz change.
func TestApplyEvidenceTypeChangeMessages(t *testing.T) {
	t.Parallel()
	const schema = "CREATE TABLE users (id bigint, name varchar(10), created_at timestamp);\n"
	lock := []LockEvidence{{Relation: "public.users", Mode: "AccessExclusiveLock", Preexisting: true}}
	tests := []struct {
		name, schema, sql string
		rewritten         []string
		rule              string
		risk              Risk
		msg, notMsg       string
	}{
		{"timestamp to timestamptz, UTC rehearsal", schema, "ALTER TABLE users ALTER COLUMN created_at TYPE timestamptz;", nil,
			"change-column-type-rewrite", Dangerous, "unless the session's TimeZone is UTC", "binary-coercible"},
		{"old type unknown, to timestamptz", "", "ALTER TABLE users ALTER COLUMN created_at TYPE timestamptz;", nil,
			"change-column-type-coercible", Caution, "TimeZone", "is binary-coercible"},
		{"coercible judged, rewrite seen", schema, "ALTER TABLE users ALTER COLUMN name TYPE varchar(20);", []string{"public.users"},
			"change-column-type-rewrite", Dangerous, "rewrite public.users", "coercible"},
		{"rewrite judged, none seen", schema, "ALTER TABLE users ALTER COLUMN id TYPE int;", nil,
			"change-column-type-coercible", Caution, "binary-coercible", "rewritten"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "SET lock_timeout = '2s';\n" + tt.sql + "\n"
			static := AnalyzeScript(script(src), true, Config{Schema: tt.schema})
			got := ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 2, Column: 1, Locks: lock, Rewritten: tt.rewritten}})
			f := find(got, tt.rule)
			if f == nil || f.Risk != tt.risk || !strings.Contains(f.Message, tt.msg) || strings.Contains(f.Message, tt.notMsg) {
				t.Errorf("%+v, want %s %s saying %q and not %q", f, tt.risk, tt.rule, tt.msg, tt.notMsg)
			}
		})
	}
}

// TestApplyEvidenceIgnoredStatement: an accepted, ignored TRUNCATE or REINDEX stays accepted when the
// rehearsal sees the rewrite and scans they do.
func TestApplyEvidenceIgnoredStatement(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, sql string
		ev        Evidence
	}{
		{"truncate", "-- schemagate:ignore truncate staging table, emptied on purpose\nTRUNCATE orgs;",
			Evidence{Rewritten: []string{"public.orgs", "public.orgs_pkey"}, Scanned: []string{"public.orgs"}, Locks: []LockEvidence{
				{Relation: "public.orgs", Mode: "AccessExclusiveLock", Preexisting: true}, {Relation: "public.orgs_pkey", Mode: "AccessExclusiveLock", Preexisting: true}}}},
		{"reindex", "-- schemagate:ignore reindex-blocking the index is small\nREINDEX INDEX users_email_idx;",
			Evidence{Rewritten: []string{"public.users_email_idx"}, Scanned: []string{"public.users"}, Locks: []LockEvidence{
				{Relation: "public.users", Mode: "ShareLock", Preexisting: true}, {Relation: "public.users_email_idx", Mode: "AccessExclusiveLock", Preexisting: true}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "SET lock_timeout = '2s';\nSET statement_timeout = '1min';\n" + tt.sql + "\n"
			ev := tt.ev
			ev.File, ev.Line, ev.Column = "m.sql", 4, 1
			got := ApplyEvidence(AnalyzeScript(script(src), true, Config{}), []Evidence{ev})
			if r := Highest(got); r != Safe {
				t.Errorf("highest unignored risk %s, want safe: %v", r, got)
			}
		})
	}
}

// TestApplyEvidenceRefreshConcurrently: EXCLUSIVE on a materialized view blocks no reader, so its scan
// is no dangerous table-scan.
func TestApplyEvidenceRefreshConcurrently(t *testing.T) {
	t.Parallel()
	src := "SET lock_timeout = '2s';\nSET statement_timeout = '1min';\nREFRESH MATERIALIZED VIEW CONCURRENTLY user_stats;\n"
	ev := Evidence{File: "m.sql", Line: 3, Column: 1, Scanned: []string{"public.user_stats", "public.users"}, Locks: []LockEvidence{
		{Relation: "public.user_stats", Mode: "ExclusiveLock", Preexisting: true}, {Relation: "public.user_stats", Mode: "RowExclusiveLock", Preexisting: true},
		{Relation: "public.users", Mode: "AccessShareLock", Preexisting: true}}}
	got := ApplyEvidence(AnalyzeScript(script(src), true, Config{}), []Evidence{ev})
	if f := find(got, "table-scan"); f != nil {
		t.Errorf("table-scan: %+v", f)
	}
	if r := Highest(got); r != Safe {
		t.Errorf("highest risk %s, want safe: %v", r, got)
	}
}

// TestApplyEvidenceScanSaysWhatItBlocks: a scan under SHARE … EXCLUSIVE blocks writes, not reads.
func TestApplyEvidenceScanSaysWhatItBlocks(t *testing.T) {
	t.Parallel()
	src := "SET lock_timeout = '2s';\nSELECT my_migration();\n"
	for mode, want := range map[string]string{"ExclusiveLock": "writes wait for the whole scan; reads go on", "AccessExclusiveLock": "reads and writes wait"} {
		ev := Evidence{File: "m.sql", Line: 2, Column: 1, Scanned: []string{"public.users"}, Locks: []LockEvidence{{Relation: "public.users", Mode: mode, Preexisting: true}}}
		f := find(ApplyEvidence(AnalyzeScript(script(src), true, Config{}), []Evidence{ev}), "table-scan")
		if f == nil || !strings.Contains(f.Message, want) {
			t.Errorf("%s: %+v, want %q", mode, f, want)
		}
	}
}

// TestApplyEvidenceDynamicDrop: a table or view dropped by a statement the parser cannot see into (a
// DO block, EXECUTE) is a dangerous drop-table, not a cautious unexplained lock; the indexes that go
// with it add nothing, and a DROP the parser already judged is not repeated.
func TestApplyEvidenceDynamicDrop(t *testing.T) {
	t.Parallel()
	src := `SET lock_timeout = '2s';
DO $$ BEGIN EXECUTE 'DROP TABLE users, active_users CASCADE'; END $$;
DROP TABLE orgs;
DROP VIEW recent_orgs;
`
	static := AnalyzeScript(script(src), false, Config{})
	dropped := func(rel, kind string) LockEvidence {
		return LockEvidence{Relation: rel, Mode: "AccessExclusiveLock", Preexisting: true, Dropped: true, Kind: kind}
	}
	ev := []Evidence{
		{File: "m.sql", Line: 2, Column: 1, Locks: []LockEvidence{dropped("public.users", "r"), dropped("public.users_pkey", "i"),
			dropped("public.active_users", "v"), {Relation: "public.orgs", Mode: "AccessExclusiveLock", Preexisting: true}}},
		{File: "m.sql", Line: 3, Column: 1, Locks: []LockEvidence{dropped("public.orgs", "r")}},
		// DROP VIEW: its own rule says so (caution); no dangerous drop-table is added.
		{File: "m.sql", Line: 4, Column: 1, Locks: []LockEvidence{dropped("public.recent_orgs", "v")}},
	}
	got := ApplyEvidence(static, ev)
	var lines []string
	for _, f := range got {
		if f.Source == "dynamic" {
			lines = append(lines, fmt.Sprintf("%d %s %s: %s", f.Line, f.Risk, f.Rule, f.Message))
		}
	}
	want := []string{
		"2 dangerous drop-table: the rehearsal saw the statement drop table public.users, which existed before the migration: its rows are gone, and what reads it breaks",
		"2 caution replace-or-drop-view: the rehearsal saw the statement drop view public.active_users, which existed before the migration: what reads it breaks",
		"2 caution unexplained-exclusive-lock: the rehearsal saw the statement take ACCESS EXCLUSIVE on public.orgs",
	}
	if len(lines) != len(want) {
		t.Fatalf("dynamic findings:\n%s\nwant %d", strings.Join(lines, "\n"), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("finding %d:\n got %s\nwant %s…", i, lines[i], w)
		}
	}
}

// TestApplyEvidenceIgnoredByOwnRule: a finding the rehearsal adds is ignored by a comment above its
// statement that names its own rule, with the comment's reason; other added findings and other
// statements' stay.
func TestApplyEvidenceIgnoredByOwnRule(t *testing.T) {
	t.Parallel()
	src := "SET lock_timeout = '2s';\n-- schemagate:ignore table-scan,invalid-index the table is tiny\nSELECT backfill();\nSELECT backfill();\n/* schemagate:ignore unexplained-exclusive-lock */\nSELECT lock_it();\n"
	s := script(src)
	scan := func(line int) Evidence {
		return Evidence{File: "m.sql", Line: line, Column: 1, Scanned: []string{"public.users"},
			Locks: []LockEvidence{{Relation: "public.users", Mode: "ShareLock", Preexisting: true}}, InvalidIndexes: []string{"public.users_x"}}
	}
	ev := []Evidence{scan(3), scan(4), {File: "m.sql", Line: 6, Column: 1, Locks: []LockEvidence{{Relation: "public.orgs", Mode: "ExclusiveLock", Preexisting: true}}}}
	got := ApplyEvidence(AnalyzeScript(s, true, Config{}), ev, IgnoresOf(s)...)
	type seen struct {
		rule    string
		line    int
		ignored bool
	}
	var have []seen
	for _, f := range got {
		if f.Source == "dynamic" {
			have = append(have, seen{f.Rule, f.Line, f.Ignored})
			if f.Ignored && f.Reason != "the table is tiny" {
				t.Errorf("%s at line %d: reason %q", f.Rule, f.Line, f.Reason)
			}
		}
	}
	want := []seen{{"table-scan", 3, true}, {"invalid-index", 3, true}, {"table-scan", 4, false}, {"invalid-index", 4, false},
		// the comment gives no reason, so it suppresses nothing (and lint reports it)
		{"unexplained-exclusive-lock", 6, false}}
	if !slices.Equal(have, want) {
		t.Errorf("dynamic findings (rule, line, ignored):\n got %v\nwant %v", have, want)
	}
	if f := find(got, "ignore-without-reason"); f == nil || f.Line != 5 {
		t.Errorf("ignore-without-reason: %+v", f)
	}
}

// TestApplyEvidenceLockOnWhatTheStatementDrops: the ACCESS EXCLUSIVE that DROP INDEX CONCURRENTLY takes
// on the index it drops at its end is no unexplained lock (the rehearsal samples a statement run
// outside a transaction, so it sees that lock in one run and not in the next: the risk must not
// depend on it).
func TestApplyEvidenceLockOnWhatTheStatementDrops(t *testing.T) {
	t.Parallel()
	src := "CREATE INDEX CONCURRENTLY i2 ON tuple (a);\nDROP INDEX CONCURRENTLY IF EXISTS idx_r;\n"
	static := AnalyzeScript(script(src), false, Config{})
	for _, locks := range [][]LockEvidence{
		{{Relation: "public.tuple", Mode: "ShareUpdateExclusiveLock", Preexisting: true}, {Relation: "public.idx_r", Mode: "AccessExclusiveLock", Preexisting: true, Dropped: true, Kind: "i"}},
		{{Relation: "public.tuple", Mode: "ShareUpdateExclusiveLock", Preexisting: true}},
	} {
		got := ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 2, Column: 1, Concurrent: true, Locks: locks}})
		if f := find(got, "unexplained-exclusive-lock"); f != nil {
			t.Errorf("locks %v: %+v", locks, f)
		}
		if Highest(got) != Highest(static) {
			t.Errorf("locks %v: risk %s, want %s as without evidence", locks, Highest(got), Highest(static))
		}
	}
}

// TestApplyEvidenceRewriteWithIndexesIsOneFinding: an unexplained rewrite of a table also gives its
// indexes new relfilenodes; that is one table-rewrite finding, not one more per index.
func TestApplyEvidenceRewriteWithIndexesIsOneFinding(t *testing.T) {
	t.Parallel()
	ev := []Evidence{{File: "m.sql", Line: 1, Column: 1, Rewritten: []string{"public.t", "public.t_pkey"},
		Locks: []LockEvidence{{Relation: "public.t", Mode: "AccessExclusiveLock", Preexisting: true, Kind: "r"},
			{Relation: "public.t_pkey", Mode: "AccessExclusiveLock", Preexisting: true, Kind: "i"}}}}
	var rewrites []string
	for _, f := range ApplyEvidence(AnalyzeScript(script("DO $$ BEGIN ALTER TABLE t ALTER COLUMN a TYPE bigint; END $$;\n"), true, Config{}), ev) {
		if f.Rule == "table-rewrite" {
			rewrites = append(rewrites, f.Message)
		}
	}
	if len(rewrites) != 1 || !strings.Contains(rewrites[0], "public.t rewritten with its indexes public.t_pkey") {
		t.Errorf("table-rewrite findings %q, want one naming public.t and its index", rewrites)
	}
}

// TestApplyEvidenceReplacedView: when the history the rules read does not tell whether the view of a
// CREATE OR REPLACE VIEW exists, the rehearsal does: ACCESS EXCLUSIVE on a view that existed before
// the migration means it replaced one, and the statement counts for missing-lock-timeout as any
// statement that takes ACCESS EXCLUSIVE does.
func TestApplyEvidenceReplacedView(t *testing.T) {
	t.Parallel()
	const replace = "CREATE OR REPLACE VIEW active_users AS SELECT id, email FROM users;\n"
	onView := func(line int, preexisting bool) []Evidence {
		return []Evidence{{File: "m.sql", Line: line, Column: 1, Locks: []LockEvidence{
			{Relation: "public.users", Mode: "AccessShareLock", Preexisting: true, Kind: "r"},
			{Relation: "public.active_users", Mode: "AccessExclusiveLock", Preexisting: preexisting, Kind: "v"}}}}
	}
	type want struct {
		line    int
		risk    Risk
		ignored bool
	}
	tests := []struct {
		name, src string
		cfg       Config
		ev        []Evidence
		want      []want
	}{
		{"replaced an existing view", replace, Config{}, onView(1, true), []want{{1, Dangerous, false}}},
		{"created the view", replace, Config{}, onView(1, false), nil},
		{"lock_timeout set", "SET lock_timeout = '2s';\n" + replace, Config{}, onView(2, true), nil},
		{"accepted by an ignore comment", "-- schemagate:ignore missing-lock-timeout the view is read by a batch job only\n" + replace, Config{}, onView(2, true),
			[]want{{2, Dangerous, true}}},
		{"rule made safe", replace, Config{Rules: map[string]string{"missing-lock-timeout": "safe"}}, onView(1, true), nil},
		{"rule made caution", replace, Config{Rules: map[string]string{"missing-lock-timeout": "caution"}}, onView(1, true), []want{{1, Caution, false}}},
		{"an earlier statement has it already", "ALTER TABLE users ADD COLUMN bio text;\n" + replace, Config{}, onView(2, true), []want{{1, Dangerous, false}}},
		{"known to exist: no second one", replace, Config{Schema: "CREATE TABLE users (id bigint, email text);\nCREATE VIEW active_users AS SELECT id FROM users;\n"},
			onView(1, true), []want{{1, Dangerous, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := script(tt.src)
			var got []want
			for _, f := range ApplyEvidenceWith(tt.cfg, AnalyzeScript(s, true, tt.cfg), tt.ev, IgnoresOf(s)...) {
				if f.Rule == "missing-lock-timeout" {
					got = append(got, want{f.Line, f.Risk, f.Ignored})
					if strings.HasPrefix(f.Statement, "CREATE OR REPLACE") && !strings.Contains(f.Message, "every later query on the view") {
						t.Errorf("message %q does not say what queues", f.Message)
					}
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("missing-lock-timeout findings (line, risk, ignored) %v, want %v", got, tt.want)
			}
		})
	}
}

// TestApplyEvidenceWithRuleClasses: the rule classes of the configuration (--rule, lint.rules) apply to
// what the evidence adds (a table-scan, an unexplained-exclusive-lock) and to a finding it turns into
// another rule's (set-not-null-proven), as they do to the static analysis' findings; a rule turned off
// adds nothing. Findings the evidence leaves as they were keep their class.
func TestApplyEvidenceWithRuleClasses(t *testing.T) {
	t.Parallel()
	src := "DO $$ BEGIN UPDATE t SET v = v + 1; END $$;\nALTER TABLE t ALTER COLUMN v SET NOT NULL;\nDO $$ BEGIN EXECUTE 'ALTER TABLE u ADD COLUMN w int'; END $$;\n"
	ev := []Evidence{
		{File: "m.sql", Line: 1, Column: 1, Scanned: []string{"public.t"}, Locks: []LockEvidence{{Relation: "public.t", Mode: "ShareLock", Preexisting: true, Kind: "r"}}},
		{File: "m.sql", Line: 2, Column: 1, Locks: []LockEvidence{{Relation: "public.t", Mode: "AccessExclusiveLock", Preexisting: true, Kind: "r"}}},
		{File: "m.sql", Line: 3, Column: 1, Locks: []LockEvidence{{Relation: "public.u", Mode: "AccessExclusiveLock", Preexisting: true, Kind: "r"}}},
	}
	classes := func(fs []Finding) map[string]Risk {
		out := map[string]Risk{}
		for _, f := range fs {
			out[f.Rule] = f.Risk
		}
		return out
	}
	base := classes(ApplyEvidence(AnalyzeScript(script(src), true, Config{}), ev))
	for _, rule := range []string{"table-scan", "set-not-null-proven", "unexplained-exclusive-lock", "opaque-statement"} {
		if _, ok := base[rule]; !ok {
			t.Fatalf("without a configuration the evidence gives no %s: %v (the test proves nothing)", rule, base)
		}
	}
	cfg := Config{Rules: map[string]string{"table-scan": "off", "set-not-null-proven": "caution", "unexplained-exclusive-lock": "safe", "opaque-statement": "dangerous"}}
	got := classes(ApplyEvidenceWith(cfg, AnalyzeScript(script(src), true, cfg), ev))
	if _, ok := got["table-scan"]; ok {
		t.Errorf("table-scan=off: the evidence still added one: %v", got)
	}
	if got["set-not-null-proven"] != Caution || got["unexplained-exclusive-lock"] != Safe || got["opaque-statement"] != Dangerous {
		t.Errorf("classes %v, want set-not-null-proven caution, unexplained-exclusive-lock safe, opaque-statement dangerous", got)
	}
}

// TestTimeZoneUTCSkipsRewrite: PostgreSQL 12+ changes timestamp to timestamptz (and back) without a
// rewrite when the session's TimeZone has a fixed offset of zero, so a migration that sets UTC before
// the change is not dangerous; one whose UTC is undone (RESET, ROLLBACK, a later zone, SET LOCAL with no
// transaction, a DO block or set_config that may change it) still is.
func TestTimeZoneUTCSkipsRewrite(t *testing.T) {
	t.Parallel()
	const schema = "CREATE TABLE users (id bigint, created_at timestamp);\n"
	const change = "ALTER TABLE users ALTER COLUMN created_at TYPE timestamptz;\n"
	tests := []struct {
		name   string
		inTx   bool // the tool runs the script in a transaction
		before string
		safe   bool // rated a coercible change (caution), not a rewrite
	}{
		{"SET LOCAL UTC in the tool's transaction", true, "SET LOCAL TIME ZONE 'UTC';\n", true},
		{"SET timezone Etc/UTC", false, "SET timezone = 'Etc/UTC';\n", true},
		{"SET TIME ZONE 0", false, "SET TIME ZONE 0;\n", true},
		{"SET TIME ZONE GMT in own transaction", false, "BEGIN;\nSET LOCAL TIME ZONE 'GMT';\n", true},
		{"no SET", true, "", false},
		{"another zone", true, "SET LOCAL TIME ZONE 'Europe/Oslo';\n", false},
		{"UTC then RESET", true, "SET TIME ZONE 'UTC';\nRESET timezone;\n", false},
		{"UTC then TIME ZONE LOCAL", true, "SET TIME ZONE 'UTC';\nSET TIME ZONE LOCAL;\n", false},
		{"UTC rolled back", false, "BEGIN;\nSET TIME ZONE 'UTC';\nROLLBACK;\n", false},
		{"SET LOCAL outside a transaction", false, "SET LOCAL TIME ZONE 'UTC';\n", false},
		{"SET LOCAL of a committed transaction", false, "BEGIN;\nSET LOCAL TIME ZONE 'UTC';\nCOMMIT;\n", false},
		{"set_config after", true, "SET TIME ZONE 'UTC';\nSELECT set_config('TimeZone', 'Europe/Oslo', false);\n", false},
		{"DO block after", true, "SET TIME ZONE 'UTC';\nDO $$BEGIN SET TIME ZONE 'Europe/Oslo'; END$$;\n", false},
		{"an interval", true, "SET TIME ZONE INTERVAL '+00:00' HOUR TO MINUTE;\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "SET lock_timeout = '2s';\n" + tt.before + change
			got := AnalyzeScript(script(src), tt.inTx, Config{Schema: schema})
			rewrite, coercible := find(got, "change-column-type-rewrite"), find(got, "change-column-type-coercible")
			switch {
			case tt.safe && (rewrite != nil || coercible == nil || coercible.Risk != Caution || !strings.Contains(coercible.Message, "UTC")):
				t.Errorf("want a coercible change (caution) naming UTC, got %v", got)
			case !tt.safe && (rewrite == nil || rewrite.Risk != Dangerous || !strings.Contains(rewrite.Suggestion, "SET LOCAL TIME ZONE 'UTC'")):
				t.Errorf("want a dangerous rewrite suggesting UTC, got %v", got)
			}
		})
	}
}

// TestApplyEvidenceStatementsAlone: a script the tool runs statement by statement (psql, outside the
// script's own BEGIN … COMMIT) holds no lock from one statement to the next, though the rehearsal ran
// it in one transaction and its trace carries the locks over; each BEGIN … COMMIT of the script is a
// transaction of its own, and its UPDATE's scan under ROW EXCLUSIVE blocks no reads or writes: no
// table-scan. Inside one, and in a script the tool runs in one transaction, the scan runs under the
// earlier ACCESS EXCLUSIVE. A lock the rehearsal's transaction held already, which a
// statement takes again under the tool, is not in its trace: it still runs under it.
func TestApplyEvidenceStatementsAlone(t *testing.T) {
	t.Parallel()
	const schema = "CREATE TABLE t (id bigint, x int);\n"
	const alter, update = "ALTER TABLE t ALTER COLUMN x SET NOT NULL;\n", "UPDATE t SET x = 1 WHERE x IS NULL;\n"
	ae := []LockEvidence{{Relation: "public.t", Mode: "AccessExclusiveLock", Preexisting: true}}
	rx := []LockEvidence{{Relation: "public.t", Mode: "RowExclusiveLock", Preexisting: true}}
	scan := []string{"public.t"}
	// alterThenUpdate is the trace of the ALTER at line a and the UPDATE at line u.
	alterThenUpdate := func(a, u int) []Evidence {
		return []Evidence{{Line: a, Locks: ae, Scanned: scan}, {Line: u, Locks: rx, Scanned: scan}}
	}
	tests := []struct {
		name    string
		src     string
		inTx    bool
		ev      []Evidence
		risk    Risk
		lock    string // "": no table-scan
		earlier bool   // says an earlier statement of the transaction took the lock
	}{
		{"psql, no BEGIN", "SET lock_timeout = '1s';\n" + alter + update, false, alterThenUpdate(2, 3), Safe, "", false},
		{"psql, the script's BEGIN … COMMIT", "SET lock_timeout = '1s';\nBEGIN;\n" + alter + update + "COMMIT;\n", false, alterThenUpdate(3, 4), Dangerous, "ACCESS EXCLUSIVE", true},
		{"psql, two blocks of the script", "SET lock_timeout = '1s';\nBEGIN;\n" + alter + "COMMIT;\nBEGIN;\n" + update + "COMMIT;\n", false, alterThenUpdate(3, 6), Safe, "", false},
		{"psql, a lock taken again", "SET lock_timeout = '1s';\n" + update + update, false,
			[]Evidence{{Line: 2, Locks: rx, Scanned: scan}, {Line: 3, Scanned: scan}}, Safe, "", false},
		{"the tool's transaction", "SET lock_timeout = '1s';\n" + alter + update, true, alterThenUpdate(2, 3), Dangerous, "ACCESS EXCLUSIVE", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			static := AnalyzeScript(script(tt.src), tt.inTx, Config{Schema: schema})
			last := 0
			for i := range tt.ev {
				tt.ev[i].File, tt.ev[i].Column = "m.sql", 1
				last = tt.ev[i].Line
			}
			var f *Finding
			for _, g := range ApplyEvidence(static, tt.ev) {
				if g.Rule == "table-scan" && g.Line == last {
					f = &g
				}
			}
			if tt.lock == "" {
				if f != nil {
					t.Fatalf("table-scan on line %d %+v, want none", last, f)
				}
				return
			}
			if f == nil || f.Risk != tt.risk || f.Lock != tt.lock {
				t.Fatalf("table-scan on line %d %+v, want %s under %s", last, f, tt.risk, tt.lock)
			}
			if earlier := strings.Contains(f.Message, "earlier statement of the transaction"); earlier != tt.earlier {
				t.Errorf("message %q: says an earlier statement took the lock: %v, want %v", f.Message, earlier, tt.earlier)
			}
		})
	}
}

// TestApplyEvidencePartitionedIndexPattern: CREATE INDEX … ON ONLY a partitioned table makes an INVALID
// index that attaching the index of the last partition validates. An index INVALID after its statement
// but not at the end of the migration was not left INVALID; one still INVALID at the end was, and is
// reported at the statement that made it. The SHARE the parent index takes on its table is the lock the
// rules count for lock_timeout, not an unexplained one.
func TestApplyEvidencePartitionedIndexPattern(t *testing.T) {
	t.Parallel()
	src := "SET lock_timeout = '2s'; SET statement_timeout = '5min';\n" +
		"CREATE INDEX IF NOT EXISTS p_k_idx ON ONLY p (k);\n" +
		"CREATE INDEX CONCURRENTLY IF NOT EXISTS p1_k_idx ON p1 (k);\n" +
		"ALTER INDEX p_k_idx ATTACH PARTITION p1_k_idx;\n"
	cfg := Config{Schema: "CREATE TABLE p (id int, k int) PARTITION BY RANGE (id);\nCREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100);\n"}
	static := AnalyzeScript(script(src), false, cfg)
	made := Evidence{File: "m.sql", Line: 2, Column: 1, InvalidIndexes: []string{"public.p_k_idx"}, InvalidPartitioned: []string{"public.p_k_idx"},
		Locks: []LockEvidence{{Relation: "public.p", Mode: "ShareLock", Preexisting: true, Kind: "p"}, {Relation: "public.p_k_idx", Mode: "AccessExclusiveLock", Kind: "I"}}}
	built := Evidence{File: "m.sql", Line: 3, Column: 1, Concurrent: true, Locks: []LockEvidence{{Relation: "public.p1", Mode: "ShareUpdateExclusiveLock", Preexisting: true, Kind: "r"}}}
	attached := Evidence{File: "m.sql", Line: 4, Column: 1, ClearedIndexes: []string{"public.p_k_idx"},
		Locks: []LockEvidence{{Relation: "public.p", Mode: "AccessShareLock", Preexisting: true, Kind: "p"}}}
	for _, tt := range []struct {
		name    string
		ev      []Evidence
		invalid bool
	}{
		{"attached", []Evidence{made, built, attached}, false},
		{"never attached", []Evidence{made, built}, true},
	} {
		got := ApplyEvidence(static, tt.ev)
		if f := find(got, "invalid-index"); (f != nil) != tt.invalid || f != nil && f.Line != 2 {
			t.Errorf("%s: invalid-index %+v, want one at line 2: %v", tt.name, f, tt.invalid)
		}
		// PostgreSQL refuses DROP INDEX CONCURRENTLY of a partitioned index ("cannot drop partitioned index
		// concurrently"): attaching the partitions' indexes or a plain DROP INDEX are what runs.
		if f := find(got, "invalid-index"); f != nil && (strings.Contains(f.Suggestion, "CONCURRENTLY IF EXISTS public.p_k_idx") ||
			!strings.Contains(f.Suggestion, "ALTER INDEX public.p_k_idx ATTACH PARTITION") || !strings.Contains(f.Suggestion, "DROP INDEX IF EXISTS public.p_k_idx") ||
			!strings.Contains(f.Suggestion, "ACCESS EXCLUSIVE")) {
			t.Errorf("%s: suggestion for a partitioned index: %s", tt.name, f.Suggestion)
		}
		if f := find(got, "unexplained-exclusive-lock"); f != nil {
			t.Errorf("%s: %+v", tt.name, f)
		}
	}
}

// TestApplyEvidenceSetNotNullScansPartitions: SET NOT NULL on a partitioned table scans its partitions
// (the parent has no rows): their scans in the trace are the statement's own, which keeps it set-not-null
// and needs no table-scan beside it. So for an inheritance parent's children.
func TestApplyEvidenceSetNotNullScansPartitions(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ schema, kind string }{
		{"CREATE TABLE p (id int, k int) PARTITION BY RANGE (id);\nCREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (1000);\nCREATE TABLE pd PARTITION OF p DEFAULT;\n", "p"},
		{"CREATE TABLE p (id int, k int);\nCREATE TABLE p1 () INHERITS (p);\nCREATE TABLE pd () INHERITS (p);\n", "r"},
		// The rehearsal's rules read only the tables the migration names (and a DEFAULT partition): the
		// trace's locks tell the partitions.
		{"CREATE TABLE p (id int, k int) PARTITION BY RANGE (id);\n", "p"},
	} {
		static := AnalyzeScript(script("SET lock_timeout = '2s';\nALTER TABLE p ALTER COLUMN k SET NOT NULL;\n"), true, Config{Schema: tt.schema})
		var locks []LockEvidence
		for i, rel := range []string{"public.p", "public.p1", "public.pd"} {
			kind := "r"
			if i == 0 {
				kind = tt.kind
			}
			locks = append(locks, LockEvidence{Relation: rel, Mode: "AccessExclusiveLock", Preexisting: true, Kind: kind})
		}
		got := ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 2, Column: 1, Locks: locks, Scanned: []string{"public.p1", "public.pd"}}})
		if f := find(got, "set-not-null"); f == nil || f.Risk != Dangerous || f.Source != SourceBoth {
			t.Errorf("set-not-null %+v in %v", f, got)
		}
		for _, rule := range []string{"set-not-null-proven", "table-scan"} {
			if f := find(got, rule); f != nil {
				t.Errorf("%+v", f)
			}
		}
	}
}

// TestSetAccessMethodDefault: PostgreSQL 17's SET ACCESS METHOD DEFAULT is default_table_access_method,
// heap unless configured otherwise: on a heap table it does nothing, as SET ACCESS METHOD heap does.
func TestSetAccessMethodDefault(t *testing.T) {
	t.Parallel()
	schema := Config{Schema: "CREATE TABLE t (id int);\n", PGVersion: 17}
	for _, tt := range []struct {
		src  string
		want bool
	}{
		{"ALTER TABLE t SET ACCESS METHOD DEFAULT;\n", false},
		{"ALTER TABLE t SET ACCESS METHOD heap;\n", false},
		{"ALTER TABLE t SET ACCESS METHOD columnar;\n", true},
	} {
		f := find(AnalyzeScript(script("SET lock_timeout = '2s';\n"+tt.src), true, schema), "set-access-method")
		if (f != nil) != tt.want || f != nil && strings.Contains(f.Message, "METHOD  ") {
			t.Errorf("%s: set-access-method %+v, want one: %v", tt.src, f, tt.want)
		}
	}
}

// TestApplyEvidenceSetAccessMethodNoRewrite: SET ACCESS METHOD to the method the table already uses
// keeps its relfilenode (measured on 15: TestTraceSetAccessMethod in internal/pg), which the parse tree
// cannot tell for a method other than heap. The trace's "no rewrite" makes set-access-method safe, a brief
// ACCESS EXCLUSIVE; a rewrite the trace saw confirms it.
func TestApplyEvidenceSetAccessMethodNoRewrite(t *testing.T) {
	t.Parallel()
	cfg := Config{Schema: "CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;\nCREATE TABLE a2 (id bigint) USING heap2;\n"}
	static := AnalyzeScript(script("SET lock_timeout = '2s'; SET statement_timeout = '5min';\nALTER TABLE a2 SET ACCESS METHOD heap2;\n"), false, cfg)
	if f := find(static, "set-access-method"); f == nil || f.Risk != Dangerous {
		t.Fatalf("static: want a dangerous set-access-method, got %+v", f)
	}
	locks := []LockEvidence{{Relation: "public.a2", Mode: "AccessExclusiveLock", Preexisting: true, Kind: "r"}}
	for _, tt := range []struct {
		name      string
		rewritten []string
		risk      Risk
		rewrite   bool
	}{
		{"kept its relfilenode", nil, Safe, false},
		{"rewritten", []string{"public.a2"}, Dangerous, true},
	} {
		got := ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 2, Column: 1, Locks: locks, Rewritten: tt.rewritten}})
		f := find(got, "set-access-method")
		if f == nil || f.Risk != tt.risk || f.Rewrite != tt.rewrite || f.Source != SourceBoth {
			t.Errorf("%s: set-access-method %+v, want %s, rewrite %v, confirmed", tt.name, f, tt.risk, tt.rewrite)
		}
		for _, rule := range []string{"table-rewrite", "unexplained-exclusive-lock"} {
			if f := find(got, rule); f != nil {
				t.Errorf("%s: %+v", tt.name, f)
			}
		}
		if !tt.rewrite && f != nil && (strings.Contains(f.Message, "rewrites") || !strings.Contains(f.Message, "heap2")) {
			t.Errorf("%s: message %q", tt.name, f.Message)
		}
	}
}

// TestApplyEvidenceDefaultNotRewritten: ADD COLUMN … DEFAULT calling a function the parser cannot judge
// is caution until the rehearsal's trace decides: no rewrite of the pre-existing table the statement
// locked (or its transaction had locked) makes it safe, whether or not PostgreSQL stored a missing
// value (a DEFAULT that returns NULL stores none); a rewrite makes it add-column-volatile-default. A
// trace that did not cover the table, or a statement that failed, decides nothing.
func TestApplyEvidenceDefaultNotRewritten(t *testing.T) {
	t.Parallel()
	src := "SET lock_timeout = '2s';\nBEGIN;\nALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN zz text DEFAULT my_imm();\nCOMMIT;\n"
	static := AnalyzeScript(script(src), false, Config{})
	if f := find(static, "add-column-default-nonvolatile"); f == nil || f.Risk != Caution {
		t.Fatalf("static: %+v, want a caution add-column-default-nonvolatile", f)
	}
	ae := func(rel string) []LockEvidence {
		return []LockEvidence{{Relation: rel, Mode: "AccessExclusiveLock", Preexisting: true}}
	}
	line3 := Evidence{File: "m.sql", Line: 3, Column: 1, Locks: ae("public.users")}
	tests := []struct {
		name string
		ev   []Evidence
		rule string
		risk Risk
		msg  string
	}{
		{"fast default", []Evidence{{File: "m.sql", Line: 4, Column: 1, Locks: ae("public.users"), FastDefault: []string{"public.users.zz"}}},
			"add-column-default-nonvolatile", Safe, "the rehearsal saw no rewrite of public.users"},
		{"DEFAULT that returned NULL", []Evidence{{File: "m.sql", Line: 4, Column: 1, Locks: ae("public.users")}},
			"add-column-default-nonvolatile", Safe, "the rehearsal saw no rewrite of public.users"},
		{"locked by an earlier statement of the transaction", []Evidence{line3, {File: "m.sql", Line: 4, Column: 1}},
			"add-column-default-nonvolatile", Safe, "the rehearsal saw no rewrite of public.users"},
		{"rewrite", []Evidence{{File: "m.sql", Line: 4, Column: 1, Locks: ae("public.users"), Rewritten: []string{"public.users"}}},
			"add-column-volatile-default", Dangerous, "it is volatile"},
		{"table not covered", []Evidence{{File: "m.sql", Line: 4, Column: 1, Locks: ae("public.orgs")}},
			"add-column-default-nonvolatile", Caution, "The rehearsal's trace decides"},
		{"failed", []Evidence{{File: "m.sql", Line: 4, Column: 1, Locks: ae("public.users"), Err: "canceling statement due to lock timeout"}},
			"add-column-default-nonvolatile", Caution, "The rehearsal's trace decides"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got *Finding
			for _, f := range ApplyEvidence(static, tt.ev) {
				if f.Line == 4 && (f.Rule == "add-column-default-nonvolatile" || f.Rule == "add-column-volatile-default") {
					got = &f
				}
			}
			if got == nil || got.Rule != tt.rule || got.Risk != tt.risk || !strings.Contains(got.Message, tt.msg) {
				t.Fatalf("got %+v, want %s %s saying %q", got, tt.risk, tt.rule, tt.msg)
			}
			if tt.risk == Safe && (got.Source != SourceBoth || got.Suggestion != "" || got.Rewrite) {
				t.Errorf("source %q, suggestion %q, rewrite %v: want static+dynamic, no suggestion, no rewrite", got.Source, got.Suggestion, got.Rewrite)
			}
		})
	}
}
