package lint

import (
	"slices"
	"strings"
	"testing"
)

// TestDidNothing: a DROP … IF EXISTS the rules could not tell does anything (a DO block names the
// index) did nothing when its trace shows no lock at all, unless an earlier statement of the script
// locked a relation of that name (the transaction may hold what the DROP takes) or it ran outside a
// transaction (its locks are sampled). Judged again with it in Config.NothingDone, it is safe and
// counts no lock for missing-lock-timeout or statement-after-access-exclusive.
func TestDidNothing(t *testing.T) {
	t.Parallel()
	const schema = "CREATE TABLE t (a int);\n"
	const src = "DO $$ BEGIN IF false THEN CREATE INDEX t_flow ON t (a); END IF; END $$;\nDROP INDEX IF EXISTS t_flow;\nSELECT 1;\n"
	static := AnalyzeScript(script(src), true, Config{Schema: schema})
	if f := find(static, "drop-index-blocking"); f == nil || f.Risk != Caution {
		t.Fatalf("before the trace: drop-index-blocking %+v, want caution (the DO block names the index)", f)
	}
	at := func(line int) Evidence { return Evidence{File: "m.sql", Line: line, Column: 1} }
	locked := at(1)
	locked.Locks = []LockEvidence{{Relation: "public.t_flow", Mode: "AccessExclusiveLock", Kind: "i"}}
	dropped := at(2)
	dropped.Locks = []LockEvidence{{Relation: "public.t", Mode: "AccessExclusiveLock", Preexisting: true}}
	concurrent := at(2)
	concurrent.Concurrent = true
	tests := []struct {
		name string
		ev   []Evidence
		want []Position
	}{
		{"no lock", []Evidence{at(1), at(2), at(3)}, []Position{{"m.sql", 2, 1}}},
		{"a lock", []Evidence{at(1), dropped, at(3)}, nil},
		{"its name locked before", []Evidence{locked, at(2), at(3)}, nil},
		{"outside a transaction", []Evidence{at(1), concurrent, at(3)}, nil},
		{"it failed", []Evidence{at(1), {File: "m.sql", Line: 2, Column: 1, Err: "boom"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := DidNothing(static, tt.ev); !slices.Equal(got, tt.want) {
				t.Errorf("DidNothing = %v, want %v", got, tt.want)
			}
		})
	}
	again := AnalyzeScript(script(src), true, Config{Schema: schema, NothingDone: []Position{{"m.sql", 2, 1}}})
	if f := find(again, "drop-index-blocking"); f == nil || f.Risk != Safe || !strings.Contains(f.Message, "the rehearsal saw the statement take no lock: no index t_flow exists") {
		t.Errorf("judged again: drop-index-blocking %+v", f)
	}
	for _, rule := range []string{"missing-lock-timeout", "statement-after-access-exclusive", "missing-statement-timeout"} {
		if f := find(again, rule); f != nil {
			t.Errorf("judged again: %s %s", rule, f.Message)
		}
	}
	// The rehearsal confirms it: no lock on a pre-existing relation.
	if f := find(ApplyEvidence(again, []Evidence{at(1), at(2), at(3)}), "drop-index-blocking"); f == nil || f.Risk != Safe {
		t.Errorf("after the evidence: drop-index-blocking %+v", f)
	}
}
