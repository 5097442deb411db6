package lint

import (
	"fmt"
	"testing"
)

// TestFold: findings that differ only in their statement are taken into the first when there are more
// than FoldAfter; fewer stay as they are, as do the others, in order; String says how many more.
func TestFold(t *testing.T) {
	backfill := func(line int) Finding {
		return Finding{Rule: "backfill-in-migration", Risk: Caution, File: "2_fix.up.sql", Line: line, Column: 1,
			Message: "UPDATE of t whose WHERE is not bounded by a key range", Statement: fmt.Sprintf("UPDATE t SET a = %d WHERE b = 'x'", line)}
	}
	var fs []Finding
	fs = append(fs, Finding{Rule: "missing-lock-timeout", Risk: Caution, File: "2_fix.up.sql", Line: 1, Column: 1, Message: "no lock_timeout"})
	for line := 2; line <= 200001; line++ {
		fs = append(fs, backfill(line))
	}
	// As many alike as FoldAfter in another file: kept apart.
	for line := 1; line <= FoldAfter; line++ {
		f := backfill(line)
		f.File = "3_fix.up.sql"
		fs = append(fs, f)
	}
	got := Fold(fs)
	if len(got) != 2+FoldAfter {
		t.Fatalf("%d findings, want %d", len(got), 2+FoldAfter)
	}
	if got[0].Rule != "missing-lock-timeout" || got[0].Repeated != 0 {
		t.Errorf("first finding %+v, want missing-lock-timeout alone", got[0])
	}
	if f := got[1]; f.Line != 2 || f.Repeated != 199999 || f.ThroughLine != 200001 {
		t.Errorf("folded finding at line %d, %d more through %d; want line 2, 199999 more through 200001", f.Line, f.Repeated, f.ThroughLine)
	}
	if want := "2_fix.up.sql:2:1: caution backfill-in-migration: UPDATE of t whose WHERE is not bounded by a key range (and 199,999 more like it, through line 200,001)"; got[1].String() != want {
		t.Errorf("String() = %q, want %q", got[1].String(), want)
	}
	for i, f := range got[2:] {
		if f.File != "3_fix.up.sql" || f.Line != i+1 || f.Repeated != 0 || f.ThroughLine != 0 {
			t.Errorf("finding %d: %+v, want 3_fix.up.sql:%d as it was", i+2, f, i+1)
		}
	}
	// An ignored finding is not taken into one that is not.
	ignored := backfill(300000)
	ignored.Ignored, ignored.Reason = true, "reviewed"
	if again := Fold(append(got, ignored)); len(again) != len(got)+1 || again[1].Repeated != 199999 {
		t.Errorf("folding again with an ignored finding: %d findings, first fold %d more", len(again), again[1].Repeated)
	}
}
