package lint

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAlterTypeToConstrainedDomain: a known column changed to a constrained domain is a rewrite (the
// domain's CHECK is checked on every row), and the finding names the change for the rehearsal to
// restate.
func TestAlterTypeToConstrainedDomain(t *testing.T) {
	t.Parallel()
	const schema = "CREATE DOMAIN positive_int AS int CHECK (VALUE > 0);\nCREATE TABLE users (age int);\n"
	src := "SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN age TYPE positive_int;\n"
	static := AnalyzeScript(script(src), true, Config{Schema: schema})
	f := find(static, "change-column-type-rewrite")
	if f == nil || f.Risk != Dangerous || !strings.Contains(f.Message, "constrained domain positive_int") {
		t.Fatalf("change-column-type-rewrite %+v", f)
	}
	// The same through a sequence of migrations.
	seq := NewSequence(Config{})
	seq.AnalyzeScript(script(schema), true)
	if f := find(seq.AnalyzeScript(script(src), true), "change-column-type-rewrite"); f == nil || f.Risk != Dangerous {
		t.Fatalf("sequence: change-column-type-rewrite %+v", f)
	}
	lock := []LockEvidence{{Relation: "public.users", Mode: "AccessExclusiveLock", Preexisting: true}}
	got := ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 2, Column: 1, Locks: lock, Rewritten: []string{"public.users"}}})
	if f := find(got, "change-column-type-rewrite"); f == nil || !strings.Contains(f.Message, "users.age: integer -> positive_int") {
		t.Errorf("after the rehearsal: %+v", f)
	}
}

// TestNoOpIfExists: with the whole history known, DROP … IF EXISTS and ALTER … IF EXISTS of an object
// that does not exist do nothing: safe, and no lock for missing-lock-timeout or
// statement-after-access-exclusive. A partial schema keeps today's rating, and so does any doubt that
// the object may exist (another schema on the search path, a name PostgreSQL chose, a DO block).
func TestNoOpIfExists(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		history []string // earlier migrations (nil: no Sequence, a partial schema)
		src     string
		want    []ruleWant
	}{
		{"drop index that never existed", []string{}, "CREATE TABLE t (id int);\nDROP INDEX IF EXISTS no_such_idx;\nALTER TABLE t ADD COLUMN x int;\n",
			[]ruleWant{{"drop-index-blocking", "safe", "no index no_such_idx exists after the earlier migrations: the statement does nothing"},
				{"missing-lock-timeout", "", ""}, {"statement-after-access-exclusive", "", ""}}},
		{"drop table that never existed", []string{"CREATE TABLE users (id bigint);\n"}, "DROP TABLE IF EXISTS nope;\n",
			[]ruleWant{{"drop-table", "safe", "no table nope exists after the earlier migrations: the statement does nothing"}, {"missing-lock-timeout", "", ""}}},
		{"drop tables that never existed", []string{}, "DROP TABLE IF EXISTS nope, nada CASCADE;\n",
			[]ruleWant{{"drop-table", "safe", "no table nope or nada exists"}, {"drop-cascade", "safe", "no table nope or nada exists"}, {"missing-lock-timeout", "", ""}}},
		{"drop view that never existed", []string{}, "DROP VIEW IF EXISTS v;\nDROP MATERIALIZED VIEW IF EXISTS mv;\n",
			[]ruleWant{{"replace-or-drop-view", "safe", "no view v exists"}, {"missing-lock-timeout", "", ""}}},
		{"alter table that never existed", []string{"CREATE TABLE users (id bigint);\n"}, "ALTER TABLE IF EXISTS nope DROP COLUMN x, ADD COLUMN y int;\nALTER TABLE users ADD COLUMN z text;\n",
			[]ruleWant{{"drop-column", "safe", "no table nope exists after the earlier migrations: the statement does nothing"},
				{"add-column-nullable", "safe", ""}, {"missing-lock-timeout", "dangerous", "ACCESS EXCLUSIVE"}, {"statement-after-access-exclusive", "", ""}}},
		{"rename in a table that never existed", []string{}, "ALTER TABLE IF EXISTS nope RENAME COLUMN a TO b;\n",
			[]ruleWant{{"rename-column", "safe", "no table nope exists"}, {"missing-lock-timeout", "", ""}}},
		{"index that exists", []string{"CREATE TABLE t (a int);\nCREATE INDEX t_a ON t (a);\n"}, "DROP INDEX IF EXISTS t_a;\n",
			[]ruleWant{{"drop-index-blocking", "caution", "takes ACCESS EXCLUSIVE"}, {"missing-lock-timeout", "dangerous", ""}}},
		{"partial schema", nil, "DROP INDEX IF EXISTS no_such_idx;\n",
			[]ruleWant{{"drop-index-blocking", "caution", "takes ACCESS EXCLUSIVE"}, {"missing-lock-timeout", "dangerous", ""}}},
		{"table in another schema of the search path", []string{"CREATE SCHEMA app;\nCREATE TABLE app.nope (id int);\n"}, "DROP TABLE IF EXISTS nope;\n",
			[]ruleWant{{"drop-table", "dangerous", "destroys"}}},
		{"index PostgreSQL named", []string{"CREATE TABLE t (a int);\nCREATE INDEX ON t (a);\n"}, "DROP INDEX IF EXISTS t_a_idx;\n",
			[]ruleWant{{"drop-index-blocking", "caution", "takes ACCESS EXCLUSIVE"}}},
		{"index renamed", []string{"CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);\nALTER INDEX i RENAME TO j;\n"}, "DROP INDEX IF EXISTS j;\n",
			[]ruleWant{{"drop-index-blocking", "caution", "takes ACCESS EXCLUSIVE"}}},
		{"table moved to another schema", []string{"CREATE SCHEMA app;\nCREATE TABLE t (a int);\nALTER TABLE t SET SCHEMA app;\n"}, "DROP TABLE IF EXISTS app.t;\n",
			[]ruleWant{{"drop-table", "dangerous", "destroys"}}},
		{"table made by a DO block", []string{"DO $$ BEGIN CREATE TABLE made (id int); END $$;\n"}, "DROP TABLE IF EXISTS made;\n",
			[]ruleWant{{"drop-table", "dangerous", "destroys"}}},
		// a DO block names made12, not made1: the name counts as a word, not as part of one
		{"table named only inside a longer name", []string{"DO $$ BEGIN CREATE TABLE made12 (id int); END $$;\n"}, "DROP TABLE IF EXISTS made1;\n",
			[]ruleWant{{"drop-table", "safe", "no table made1 exists"}}},
		{"quoted name made by a DO block", []string{"DO $$ BEGIN CREATE TABLE \"My Table\" (id int); END $$;\n"}, "DROP TABLE IF EXISTS \"My Table\";\n",
			[]ruleWant{{"drop-table", "dangerous", "destroys"}}},
		{"table made by a function", []string{"CREATE FUNCTION mk() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'CREATE TABLE ' || 'made (id int)'; END $$;\nSELECT mk();\n"}, "DROP TABLE IF EXISTS made;\n",
			[]ruleWant{{"drop-table", "dangerous", "destroys"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantRules(t, analyzeAfter(tt.history, tt.src), tt.want)
		})
	}
}

// ruleWant is a finding a test wants of a rule: its risk ("" when the rule must be absent) and part of
// its message.
type ruleWant struct {
	rule, risk, msg string
}

// analyzeAfter judges src as the next migration after the migrations of history; with history nil, on
// its own with a partial schema.
func analyzeAfter(history []string, src string) []Finding {
	if history == nil {
		return AnalyzeScript(script(src), true, Config{})
	}
	seq := NewSequence(Config{})
	for _, h := range history {
		seq.AnalyzeScript(script(h), true)
	}
	return seq.AnalyzeScript(script(src), true)
}

// wantRules checks findings fs against want.
func wantRules(t *testing.T, fs []Finding, want []ruleWant) {
	t.Helper()
	for _, w := range want {
		f := find(fs, w.rule)
		switch {
		case w.risk == "" && f != nil:
			t.Errorf("%s present: %+v", w.rule, f)
		case w.risk == "":
		case f == nil:
			t.Errorf("%s missing: %v", w.rule, rulesOf(fs))
		case f.Risk.String() != w.risk || !strings.Contains(f.Message, w.msg):
			t.Errorf("%s: %s %q, want %s with %q", w.rule, f.Risk, f.Message, w.risk, w.msg)
		}
	}
}

// TestNoOpAfterDropInMigration: DROP … IF EXISTS of a table an earlier statement of the migration
// dropped does nothing, and says why.
func TestNoOpAfterDropInMigration(t *testing.T) {
	t.Parallel()
	seq := NewSequence(Config{})
	seq.AnalyzeScript(script("CREATE TABLE old (id bigint);\n"), true)
	var drops []string
	for _, f := range seq.AnalyzeScript(script("SET lock_timeout = '2s';\nDROP TABLE old;\nDROP TABLE IF EXISTS old;\n"), true) {
		if f.Rule == "drop-table" {
			drops = append(drops, f.Risk.String()+": "+f.Message)
		}
	}
	want := []string{"dangerous: DROP TABLE old destroys its data and locks every table it references by foreign key",
		"safe: no table old exists: an earlier statement of this migration drops it, so the statement does nothing"}
	if strings.Join(drops, "\n") != strings.Join(want, "\n") {
		t.Errorf("drop-table findings:\n%s\nwant\n%s", strings.Join(drops, "\n"), strings.Join(want, "\n"))
	}
}

// TestSetNotNullAlreadyNotNull: SET NOT NULL on a column the state knows is NOT NULL changes nothing
// and scans nothing (it still takes its brief ACCESS EXCLUSIVE).
func TestSetNotNullAlreadyNotNull(t *testing.T) {
	t.Parallel()
	const schema = "CREATE TABLE t (id bigint PRIMARY KEY, m text NOT NULL, n text);\n"
	for _, src := range []string{"ALTER TABLE t ALTER COLUMN m SET NOT NULL;\n", "ALTER TABLE t ALTER COLUMN id SET NOT NULL;\n",
		"ALTER TABLE t ALTER COLUMN n SET NOT NULL;\nALTER TABLE t ALTER COLUMN n SET NOT NULL;\n"} {
		fs := AnalyzeScript(script("SET lock_timeout = '2s';\n"+src), true, Config{Schema: schema})
		var last *Finding
		for i := range fs {
			if strings.HasPrefix(fs[i].Rule, "set-not-null") {
				last = &fs[i]
			}
		}
		if last == nil || last.Rule != "set-not-null-proven" || last.Risk != Safe || last.Scan ||
			!strings.Contains(last.Message, "already NOT NULL") || strings.Contains(last.Message, "CHECK") {
			t.Errorf("%s: %+v", src, last)
		}
	}
	// On PostgreSQL 11 too: a column already NOT NULL was never scanned.
	fs := AnalyzeScript(script("ALTER TABLE t ALTER COLUMN m SET NOT NULL;\n"), true, Config{Schema: schema, PGVersion: 11})
	if f := find(fs, "set-not-null-proven"); f == nil || find(fs, "set-not-null") != nil {
		t.Errorf("pg 11: %v", fs)
	}
	if f := find(fs, "missing-lock-timeout"); f == nil {
		t.Errorf("the statement still takes ACCESS EXCLUSIVE: %v", rulesOf(fs))
	}
}

// TestReplaceViewThatDoesNotExist: CREATE OR REPLACE VIEW of a view the known schema lacks only creates
// it (every first run of a Flyway R__ file); of one that exists, or with a partial schema, it replaces.
func TestReplaceViewThatDoesNotExist(t *testing.T) {
	t.Parallel()
	const schema = "CREATE TABLE t (id bigint);\nCREATE VIEW old_v AS SELECT id FROM t;\n"
	tests := []struct {
		name, schema, src string
		want              bool
	}{
		{"new view", schema, "CREATE OR REPLACE VIEW v AS SELECT id FROM t;\n", false},
		{"existing view", schema, "CREATE OR REPLACE VIEW old_v AS SELECT id FROM t;\n", true},
		{"partial schema", "", "CREATE OR REPLACE VIEW v AS SELECT id FROM t;\n", true},
	}
	for _, tt := range tests {
		fs := AnalyzeScript(script(tt.src), true, Config{Schema: tt.schema})
		if got := find(fs, "replace-or-drop-view") != nil; got != tt.want {
			t.Errorf("%s: replace-or-drop-view %v, want %v: %v", tt.name, got, tt.want, fs)
		}
	}
	seq := NewSequence(Config{})
	seq.AnalyzeScript(script("CREATE TABLE t (id bigint);\n"), true)
	if f := find(seq.AnalyzeScript(script("CREATE OR REPLACE VIEW v AS SELECT id FROM t;\n"), true), "replace-or-drop-view"); f != nil {
		t.Errorf("sequence, first run: %+v", f)
	}
	if f := find(seq.AnalyzeScript(script("CREATE OR REPLACE VIEW v AS SELECT id FROM t;\n"), true), "replace-or-drop-view"); f == nil {
		t.Error("sequence, second run: want replace-or-drop-view")
	}
}

// TestApplyEvidenceLockTimeoutPerStatement: an unexplained strong lock is dangerous when no lock_timeout
// is in effect at its statement, whatever the rest of the file does; a SET lock_timeout before it, or a
// deploy that sets one, keeps it at caution.
func TestApplyEvidenceLockTimeoutPerStatement(t *testing.T) {
	t.Parallel()
	const do = "DO $$ BEGIN ALTER TABLE t ADD COLUMN note text; END $$;\n"
	production := DeployTimeouts{{Name: "production", LockTimeout: 5 * time.Second}}
	tests := []struct {
		name   string
		src    string
		line   int
		deploy DeployTimeouts
		rules  map[string]string
		risk   Risk
		msg    string
	}{
		{"DO block alone", do, 1, nil, nil, Dangerous, "no lock_timeout is in effect"},
		{"after a SET lock_timeout", "SET lock_timeout = '2s';\n" + do, 2, nil, nil, Caution, "keep lock_timeout set"},
		{"timeout set after it", do + "SET lock_timeout = '2s';\n", 1, nil, nil, Dangerous, "no lock_timeout is in effect"},
		{"timeout turned off before it", "SET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN a int;\nSET lock_timeout = 0;\n" + do, 4, nil, nil, Dangerous, "no lock_timeout is in effect"},
		{"deploy sets it", do, 1, production, nil, Caution, "schemagate deploy runs it with lock_timeout = 5s (environment production)"},
		{"script turns the deploy's off", "SET lock_timeout = 0;\n" + do, 2, production, nil, Dangerous, "no lock_timeout is in effect"},
		{"missing-lock-timeout off", do, 1, nil, map[string]string{"missing-lock-timeout": "off"}, Caution, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			static := AnalyzeScript(script(tt.src), true, Config{Deploy: tt.deploy, Rules: tt.rules})
			ev := []Evidence{{File: "m.sql", Line: tt.line, Column: 1, Locks: []LockEvidence{{Relation: "public.t", Mode: "AccessExclusiveLock", Preexisting: true}}}}
			f := find(ApplyEvidence(static, ev), "unexplained-exclusive-lock")
			if f == nil || f.Risk != tt.risk || !strings.Contains(f.Message, tt.msg) {
				t.Errorf("%+v, want %s with %q", f, tt.risk, tt.msg)
			} else if covered := tt.deploy != nil && f.Risk == Caution; covered == strings.Contains(f.Suggestion, "SET lock_timeout = ") {
				t.Errorf("suggestion %q with the deploy's lock_timeout %v", f.Suggestion, covered)
			}
		})
	}
	// The brief's case: migration 1 creates t, migration 2 is the DO block; the bare ALTER is dangerous
	// for the same reason.
	seq := NewSequence(Config{})
	seq.AnalyzeScript(script("CREATE TABLE t (id bigint);\n"), true)
	static := seq.AnalyzeScript(script(do), true)
	ev := []Evidence{{File: "m.sql", Line: 1, Column: 1, Locks: []LockEvidence{{Relation: "public.t", Mode: "AccessExclusiveLock", Preexisting: true}}}}
	if f := find(ApplyEvidence(static, ev), "unexplained-exclusive-lock"); f == nil || f.Risk != Dangerous {
		t.Errorf("DO block in a sequence: %+v", f)
	}
}

// TestApplyEvidenceScanNamesHeldLock: a scan runs under the strongest lock its transaction holds on the
// relation, also one an earlier statement took (the statement's own, weaker, mode shows up in the trace
// as a new lock); a DML statement is told to batch, not to validate separately.
func TestApplyEvidenceScanNamesHeldLock(t *testing.T) {
	t.Parallel()
	src := "SET lock_timeout='2s';\nALTER TABLE a ADD COLUMN w int;\nUPDATE a SET v='y';\n"
	static := AnalyzeScript(script(src), true, Config{Schema: "CREATE TABLE a (id bigint, v text);\n"})
	ev := []Evidence{
		{File: "m.sql", Line: 2, Column: 1, Locks: []LockEvidence{{Relation: "public.a", Mode: "AccessExclusiveLock", Preexisting: true}}},
		{File: "m.sql", Line: 3, Column: 1, Scanned: []string{"public.a"}, Locks: []LockEvidence{{Relation: "public.a", Mode: "RowExclusiveLock", Preexisting: true}}},
	}
	f := find(ApplyEvidence(static, ev), "table-scan")
	if f == nil || f.Risk != Dangerous || f.Lock != "ACCESS EXCLUSIVE" || !strings.Contains(f.Message, "while holding ACCESS EXCLUSIVE") {
		t.Fatalf("table-scan %+v", f)
	}
	if strings.Contains(f.Suggestion, "CONCURRENTLY") || !strings.Contains(f.Suggestion, "batch") {
		t.Errorf("suggestion for an UPDATE: %q", f.Suggestion)
	}
	// A DDL scan keeps the DDL advice.
	ev = []Evidence{{File: "m.sql", Line: 2, Column: 1, Scanned: []string{"public.a"}, Locks: []LockEvidence{{Relation: "public.a", Mode: "ShareLock", Preexisting: true}}}}
	static = AnalyzeScript(script("SET lock_timeout='2s';\nSELECT my_migration();\n"), true, Config{})
	if f := find(ApplyEvidence(static, ev), "table-scan"); f == nil || !strings.Contains(f.Suggestion, "NOT VALID") {
		t.Errorf("DDL suggestion: %+v", f)
	}
}

// TestApplyEvidenceNoOpContradicted: a DROP … IF EXISTS judged to do nothing, that the rehearsal saw lock
// a pre-existing relation, did something after all: its finding comes back, dangerous when no
// lock_timeout is in effect. One the trace shows taking no lock stays safe.
func TestApplyEvidenceNoOpContradicted(t *testing.T) {
	t.Parallel()
	static := AnalyzeScript(script("DROP INDEX IF EXISTS some_idx;\n"), true, Config{Schema: "-- the catalog lacks it\n"})
	if f := find(static, "drop-index-blocking"); f == nil || f.Risk != Safe {
		t.Fatalf("static: %+v", f)
	}
	got := ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 1, Column: 1}})
	if f := find(got, "drop-index-blocking"); f == nil || f.Risk != Safe || f.Source != SourceBoth {
		t.Errorf("no lock: %+v", f)
	}
	if len(got) != 1 {
		t.Errorf("no lock: %v", got)
	}
	got = ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 1, Column: 1, Locks: []LockEvidence{
		{Relation: "public.users", Mode: "AccessExclusiveLock", Preexisting: true},
		{Relation: "public.some_idx", Mode: "AccessExclusiveLock", Preexisting: true, Dropped: true, Kind: "i"}}}})
	f := find(got, "drop-index-blocking")
	if f == nil || f.Risk != Dangerous || !strings.Contains(f.Message, "DROP INDEX some_idx takes ACCESS EXCLUSIVE") ||
		!strings.Contains(f.Message, "the rehearsal saw it take ACCESS EXCLUSIVE on public.some_idx and public.users") || !strings.Contains(f.Message, "no lock_timeout") {
		t.Errorf("locked: %+v", f)
	}
	if u := find(got, "unexplained-exclusive-lock"); u != nil {
		t.Errorf("locked: %+v", u)
	}
	// Traced outside the migration's transaction, a statement inside the script's own BEGIN … COMMIT
	// reports the locks earlier statements took: one on a relation it does not name is not its own.
	got = ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 1, Column: 1, Concurrent: true, Locks: []LockEvidence{
		{Relation: "public.users", Mode: "AccessExclusiveLock", Preexisting: true}}}})
	if f := find(got, "drop-index-blocking"); f == nil || f.Risk != Safe {
		t.Errorf("a lock the statement does not name: %+v", f)
	}
	got = ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 1, Column: 1, Concurrent: true, Locks: []LockEvidence{
		{Relation: "public.some_idx", Mode: "AccessExclusiveLock", Preexisting: true}}}})
	if f := find(got, "drop-index-blocking"); f == nil || f.Risk != Dangerous {
		t.Errorf("a lock on the index it names: %+v", f)
	}
}

// TestApplyEvidenceSetNotNullNoScanMessage: SET NOT NULL that did not scan says why it may not have,
// without repeating the static message that said it scans.
func TestApplyEvidenceSetNotNullNoScanMessage(t *testing.T) {
	t.Parallel()
	static := AnalyzeScript(script("ALTER TABLE t ALTER COLUMN m SET NOT NULL;\n"), true, Config{})
	got := ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 1, Column: 1, Locks: []LockEvidence{{Relation: "public.t", Mode: "AccessExclusiveLock", Preexisting: true}}}})
	f := find(got, "set-not-null-proven")
	if f == nil || strings.Contains(f.Message, "scans the whole table") || !strings.Contains(f.Message, "already NOT NULL") || !strings.Contains(f.Message, "t.m") {
		t.Errorf("%+v", f)
	}
}

// TestNoOpAfterNoOpDrop: a DROP … IF EXISTS of a table that never existed drops nothing, so a later
// statement on it finds it missing after the earlier migrations, not because of that DROP.
func TestNoOpAfterNoOpDrop(t *testing.T) {
	t.Parallel()
	seq := NewSequence(Config{})
	seq.AnalyzeScript(script("CREATE TABLE t (id bigint);\n"), true)
	var msgs []string
	for _, f := range seq.AnalyzeScript(script("DROP TABLE IF EXISTS never_t;\nALTER TABLE IF EXISTS never_t ADD COLUMN x int;\n"), true) {
		if f.Line == 2 && f.Risk == Safe {
			msgs = append(msgs, f.Message)
		}
	}
	want := "no table never_t exists after the earlier migrations: the statement does nothing"
	if len(msgs) == 0 || !slices.ContainsFunc(msgs, func(m string) bool { return m == want }) || slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, "drops it") }) {
		t.Errorf("line 2 findings %q, want %q", msgs, want)
	}
}

// TestNoOpAfterRenameInMigration: DROP … IF EXISTS of a table, index or view an earlier statement of
// the migration renamed or moved to another schema does nothing, and says which took it away.
func TestNoOpAfterRenameInMigration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ src, rule, want string }{
		{"ALTER TABLE old RENAME TO new;\nDROP TABLE IF EXISTS old;\n", "drop-table",
			"no table old exists: an earlier statement of this migration renames it, so the statement does nothing"},
		{"ALTER INDEX old_idx RENAME TO new_idx;\nDROP INDEX IF EXISTS old_idx;\n", "drop-index-blocking",
			"no index old_idx exists: an earlier statement of this migration renames it, so the statement does nothing"},
		{"ALTER VIEW old_v RENAME TO new_v;\nDROP VIEW IF EXISTS old_v;\n", "replace-or-drop-view",
			"no view old_v exists: an earlier statement of this migration renames it, so the statement does nothing"},
		{"ALTER VIEW old_v SET SCHEMA archive;\nDROP VIEW IF EXISTS public.old_v;\n", "replace-or-drop-view",
			"no view public.old_v exists: an earlier statement of this migration moves it to another schema, so the statement does nothing"},
	} {
		seq := NewSequence(Config{})
		seq.AnalyzeScript(script("CREATE SCHEMA archive;\nCREATE TABLE old (id bigint);\nCREATE INDEX old_idx ON old (id);\nCREATE VIEW old_v AS SELECT id FROM old;\n"), true)
		var got []string
		for _, f := range seq.AnalyzeScript(script("SET lock_timeout = '2s';\n"+tc.src), true) {
			if (tc.rule == "" || f.Rule == tc.rule) && f.Line == 3 {
				got = append(got, f.Message)
			}
		}
		if !slices.ContainsFunc(got, func(m string) bool { return strings.Contains(m, tc.want) }) {
			t.Errorf("%s: findings of the DROP %q, want one saying %q", tc.src, got, tc.want)
		}
	}
}
