package lint

import (
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
		{File: "m.sql", Line: 7, Column: 1, Scanned: []string{"users"}, Locks: []LockEvidence{{Relation: "users", Mode: "ShareUpdateExclusiveLock", Preexisting: true}}},
		{File: "m.sql", Line: 8, Column: 1, Scanned: []string{"users"}, Locks: []LockEvidence{{Relation: "users", Mode: "AccessExclusiveLock", Preexisting: true}}},
		{File: "m.sql", Line: 9, Column: 1, Rewritten: []string{"users"}, Locks: []LockEvidence{{Relation: "users", Mode: "AccessExclusiveLock", Preexisting: true}}},
		{File: "m.sql", Line: 10, Column: 1, InvalidIndexes: []string{"users_email_key"}, Concurrent: true},
		{File: "m.sql", Line: 11, Column: 1, Err: "lock timeout", Rewritten: []string{"users"}},
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
		{"unexplained scan under a weak lock", 7, "table-scan", Caution, "dynamic", "SHARE UPDATE EXCLUSIVE"},
		{"explained scan confirmed", 8, "set-not-null", Dangerous, SourceBoth, ""},
		{"non-volatile default that rewrote", 9, "add-column-volatile-default", Dangerous, SourceBoth, ""},
		{"invalid index", 10, "invalid-index", Dangerous, "dynamic", ""},
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
	if f := at(8, "table-scan"); f != nil {
		t.Errorf("scan explained by set-not-null still added table-scan: %v", f)
	}
	if f := at(11, "table-rewrite"); f != nil {
		t.Errorf("a failed statement's evidence must be skipped: %v", f)
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
