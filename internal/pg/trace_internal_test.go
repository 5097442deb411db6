package pg

import (
	"fmt"
	"slices"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
)

// TestDiffTraceOrder: the relations a statement rewrote or scanned come out by name whatever order the
// server listed them in (pg_locks order changes from run to run, and so did the report).
func TestDiffTraceOrder(t *testing.T) {
	t.Parallel()
	names := []string{"public.executions", "public.executions_pkey", "public.executions_namespace", "public.executions_labels"}
	node := func(n int64) *int64 { return &n }
	state := func(order []int, rewritten bool) *traceState {
		s := &traceState{byOID: map[uint32]traceRel{}}
		for _, i := range order {
			r := traceRel{OID: uint32(100 + i), Name: names[i], Kind: "r", Filenode: node(1), SeqScan: 0}
			if rewritten {
				r.Filenode, r.SeqScan = node(2), 1
			}
			s.Rels = append(s.Rels, r)
			s.byOID[r.OID] = r
		}
		return s
	}
	pre := map[uint32]bool{100: true, 101: true, 102: true, 103: true}
	want := slices.Sorted(slices.Values(names))
	for _, order := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}} {
		ev := diffTrace(state(order, false), state(order, true), pre)
		if fmt.Sprint(ev.Rewritten) != fmt.Sprint(want) || fmt.Sprint(ev.Scanned) != fmt.Sprint(want) {
			t.Errorf("order %v: rewritten %v, scanned %v; want both %v", order, ev.Rewritten, ev.Scanned, want)
		}
	}
}

// TestPolledLocksDropped: the locks a poll saw during DROP INDEX CONCURRENTLY, when the index is gone
// afterwards, are the drop's (so no rule calls ACCESS EXCLUSIVE on it unexplained); the table's are
// not, and a relation created by the statement is not pre-existing.
func TestPolledLocksDropped(t *testing.T) {
	t.Parallel()
	state := func(rels ...traceRel) *traceState {
		s := &traceState{Rels: rels}
		s.index()
		return s
	}
	table := traceRel{OID: 100, Name: "public.t", Kind: "r"}
	index := traceRel{OID: 101, Name: "public.t_a_idx", Kind: "i"}
	built := traceRel{OID: 102, Name: "public.t_b_idx", Kind: "i"}
	seen := map[string]lint.LockEvidence{
		"public.t|ShareUpdateExclusiveLock":       {Relation: "public.t", Mode: "ShareUpdateExclusiveLock", Kind: "r"},
		"public.t_a_idx|AccessExclusiveLock":      {Relation: "public.t_a_idx", Mode: "AccessExclusiveLock", Kind: "i"},
		"public.t_b_idx|ShareUpdateExclusiveLock": {Relation: "public.t_b_idx", Mode: "ShareUpdateExclusiveLock", Kind: "i"},
	}
	oids := map[string]uint32{"public.t": 100, "public.t_a_idx": 101, "public.t_b_idx": 102}
	got := polledLocks(seen, oids, state(table, index), state(table, built), map[uint32]bool{100: true, 101: true})
	want := []lint.LockEvidence{
		{Relation: "public.t", Mode: "ShareUpdateExclusiveLock", Kind: "r", Preexisting: true},
		{Relation: "public.t_a_idx", Mode: "AccessExclusiveLock", Kind: "i", Preexisting: true, Dropped: true},
		{Relation: "public.t_b_idx", Mode: "ShareUpdateExclusiveLock", Kind: "i"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("polled locks:\n got %+v\nwant %+v", got, want)
	}
}
