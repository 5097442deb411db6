package rehearse_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
)

// TestDropIfExistsOfNothingFollowsTheTrace: a DROP INDEX IF EXISTS the rules could not tell does
// nothing (a DO block names the index) but that the rehearsal saw take no lock at all is judged as one
// that does nothing: safe, and its ACCESS EXCLUSIVE counts neither for missing-lock-timeout nor for
// statement-after-access-exclusive, which go to the statements that do lock a pre-existing table. One
// that did drop an index keeps its lock.
func TestDropIfExistsOfNothingFollowsTheTrace(t *testing.T) {
	files := map[string]string{
		"V1__base.sql": "CREATE TABLE t (a int);\n",
		"V2__later_lock.sql": "DO $$ BEGIN IF false THEN CREATE INDEX t_flow ON t (a); END IF; END $$;\n" +
			"DROP INDEX IF EXISTS t_flow;\nALTER TABLE t ADD COLUMN b int;\nSELECT 1;\n",
		"V3__no_lock.sql": "DO $$ BEGIN IF false THEN CREATE INDEX t_gone ON t (a); END IF; END $$;\n" +
			"DROP INDEX IF EXISTS t_gone;\nSELECT 1;\n",
		"V4__made.sql": "DO $$ BEGIN CREATE INDEX t_made ON t (a); END $$;\nDROP INDEX IF EXISTS t_made;\nSELECT 1;\n",
	}
	set := folderOf(t, migrate.FormatFlyway, files)
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}, Provider: provider(t), NoRoundtrip: true})
	if err != nil {
		t.Fatal(err)
	}
	at := func(i int) map[string]string { // "rule line" -> risk
		out := map[string]string{}
		for _, f := range rep.Migrations[i].Findings {
			out[fmt.Sprintf("%s %d", f.Rule, f.Line)] = f.Risk.String()
		}
		return out
	}
	tests := []struct {
		migration int
		want      map[string]string // "rule line" -> risk, "" for absent
	}{
		{1, map[string]string{"drop-index-blocking 2": "safe", "missing-lock-timeout 2": "", "missing-statement-timeout 2": "",
			"missing-lock-timeout 3": "dangerous", "statement-after-access-exclusive 3": "", "statement-after-access-exclusive 4": "dangerous"}},
		{2, map[string]string{"drop-index-blocking 2": "safe", "missing-lock-timeout 2": "", "statement-after-access-exclusive 3": ""}},
		{3, map[string]string{"drop-index-blocking 2": "caution", "missing-lock-timeout 2": "dangerous", "statement-after-access-exclusive 3": "dangerous"}},
	}
	for _, tt := range tests {
		got := at(tt.migration)
		for k, want := range tt.want {
			if got[k] != want {
				t.Errorf("%s: %s is %q, want %q (all: %v)", rep.Migrations[tt.migration].File, k, got[k], want, got)
			}
		}
	}
	for _, f := range rep.Migrations[2].Findings {
		if f.Rule == "drop-index-blocking" && !strings.Contains(f.Message, "the rehearsal saw") {
			t.Errorf("V3: drop-index-blocking says %q, want what the rehearsal saw", f.Message)
		}
	}
	if r := rep.Migrations[2].Risk; r == lint.Dangerous {
		t.Errorf("V3: risk %s, want below dangerous", r)
	}
}
