package pg

import (
	"fmt"
	"slices"
	"testing"
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
