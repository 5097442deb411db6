package rehearse_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// rehearseChange rehearses the migration up after the history migration base (001) and returns the
// findings of up, each as "line risk rule: message".
func rehearseChange(t *testing.T, base, up string) []string {
	t.Helper()
	set := folderOf(t, migrate.FormatPlain, map[string]string{"001_base.sql": base, "002_new.sql": up})
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]},
		Provider: provider(t), NoRoundtrip: true})
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Migrations[len(rep.Migrations)-1]
	if m.Status != report.StatusApplied {
		t.Fatalf("002 %s: %+v", m.Status, m.Error)
	}
	var out []string
	for _, f := range m.Findings {
		out = append(out, fmt.Sprintf("%d %s %s: %s", f.Line, f.Risk, f.Rule, f.Message))
	}
	return out
}

// TestPartitionedIndexPattern: CREATE INDEX … ON ONLY a partitioned table makes an INVALID parent
// index on purpose; attaching the index of its last partition validates it. A migration that ends with
// the index valid left nothing INVALID, and the brief SHARE the parent index takes on its table (no
// build: the table has no storage) is what the rules count for lock_timeout, not an unexplained lock.
// The same index never attached is left INVALID, and as it was made with IF NOT EXISTS, running the
// statement again would not fail but keep it so.
func TestPartitionedIndexPattern(t *testing.T) {
	base := "CREATE TABLE p (id int, k int) PARTITION BY RANGE (id);\nCREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100);\n"
	timeouts := "SET lock_timeout = '2s'; SET statement_timeout = '5min';\n"
	tests := []struct {
		name, up string
		want     string // a rule that must be there ("" for none)
		dontWant []string
		say      string // in the findings, when set
	}{
		{"concurrent partition index, outside a transaction", timeouts +
			"CREATE INDEX IF NOT EXISTS p_k_idx ON ONLY p (k);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS p1_k_idx ON p1 (k);\nALTER INDEX p_k_idx ATTACH PARTITION p1_k_idx;\n",
			"", []string{"invalid-index", "unexplained-exclusive-lock"}, ""},
		{"in a transaction", timeouts +
			"CREATE INDEX IF NOT EXISTS p_k_idx ON ONLY p (k);\nCREATE INDEX IF NOT EXISTS p1_k_idx ON p1 (k);\nALTER INDEX p_k_idx ATTACH PARTITION p1_k_idx;\n",
			"create-index-blocking", []string{"invalid-index", "unexplained-exclusive-lock"}, ""},
		{"never attached", timeouts + "CREATE INDEX IF NOT EXISTS p_k_idx ON ONLY p (k);\n",
			"invalid-index", []string{"unexplained-exclusive-lock"},
			"and a run of the statement again does not fail: IF NOT EXISTS skips the INVALID index with only a notice and keeps it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rehearseChange(t, base, tt.up)
			all := strings.Join(got, "\n")
			if tt.want != "" && !strings.Contains(all, " "+tt.want+":") {
				t.Errorf("no %s in\n%s", tt.want, all)
			}
			if !strings.Contains(all, tt.say) {
				t.Errorf("no %q in\n%s", tt.say, all)
			}
			for _, rule := range tt.dontWant {
				if strings.Contains(all, " "+rule+":") {
					t.Errorf("%s in\n%s", rule, all)
				}
			}
		})
	}
}

// TestSetNotNullOnPartitionedTable: SET NOT NULL on a partitioned table scans each partition (the
// parent has no rows of its own): the trace's scans of the partitions keep it set-not-null, never
// set-not-null-proven, and explain those scans.
func TestSetNotNullOnPartitionedTable(t *testing.T) {
	base := "CREATE TABLE p (id int, k int) PARTITION BY RANGE (id);\nCREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (1000);\n" +
		"CREATE TABLE pd PARTITION OF p DEFAULT;\nINSERT INTO p SELECT g, g FROM generate_series(1, 500) g;\nINSERT INTO p VALUES (2000, 1);\n"
	got := rehearseChange(t, base, "SET lock_timeout = '2s'; SET statement_timeout = '5min';\nALTER TABLE p ALTER COLUMN k SET NOT NULL;\n")
	all := strings.Join(got, "\n")
	if !strings.Contains(all, "dangerous set-not-null:") || strings.Contains(all, "set-not-null-proven") || strings.Contains(all, "table-scan") {
		t.Errorf("findings\n%s\nwant set-not-null (dangerous), no set-not-null-proven or table-scan", all)
	}
}
