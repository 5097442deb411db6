package rehearse_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestSeedMigrationSummarized: a data migration of many statements alike reports them as a run, not one
// by one: the trace takes the literal INSERTs that took nothing new into one entry (with how many and
// through which line), and the findings alike (one backfill-in-migration per UPDATE) into the first,
// which says how many more there are and through which line. The risk is the same.
func TestSeedMigrationSummarized(t *testing.T) {
	dir := t.TempDir()
	var seed strings.Builder
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&seed, "INSERT INTO t VALUES (%d, 'x');\n", i)
	}
	for i := 31; i <= 50; i++ {
		fmt.Fprintf(&seed, "UPDATE t SET a = 'y%d' WHERE a = 'x';\n", i)
	}
	for name, sql := range map[string]string{
		"1_t.up.sql":      "CREATE TABLE t (id bigint PRIMARY KEY, a text);\n",
		"1_t.down.sql":    "DROP TABLE t;\n",
		"2_seed.up.sql":   seed.String(),
		"2_seed.down.sql": "DELETE FROM t;\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Migration 1 is the history: its table exists before the change (a table of the change is new).
	set := readDir(t, dir, migrate.FormatGolangMigrate)
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	m := migration(t, rep, "2")
	if m.Status != report.StatusApplied || m.Roundtrip.Status != report.RoundtripOK {
		t.Fatalf("seed: %s, round trip %s (%+v)", m.Status, m.Roundtrip.Status, failed(rep))
	}
	var inserts []report.StatementTrace
	for _, tr := range m.Trace {
		if strings.HasPrefix(tr.Statement, "INSERT") {
			inserts = append(inserts, tr)
		}
	}
	// The first INSERT takes its lock; the second, read again, took nothing new: it stands for the rest.
	if len(inserts) != 2 || len(inserts[0].Locks) == 0 || inserts[1].Line != 2 || inserts[1].Repeated != 28 || inserts[1].ThroughLine != 30 {
		t.Errorf("INSERT traces %+v, want line 1 with its lock, then line 2 with 28 more through line 30", inserts)
	}
	// The first UPDATE's finding is confirmed by the trace (its scan and lock), the others' are alike.
	var backfills []lint.Finding
	covered := 0
	for _, f := range m.Findings {
		if f.Rule == "backfill-in-migration" {
			backfills = append(backfills, f)
			covered += 1 + f.Repeated
		}
	}
	if len(backfills) > 2 || covered != 20 {
		t.Fatalf("%d backfill-in-migration findings standing for %d UPDATEs, want at most 2 for the 20", len(backfills), covered)
	}
	last := backfills[len(backfills)-1]
	if want := fmt.Sprintf("(and %d more like it, through line 50)", last.Repeated); last.ThroughLine != 50 || !strings.HasSuffix(last.String(), want) {
		t.Errorf("last backfill finding %q, want it to end in %q", last.String(), want)
	}
	if m.Risk != lint.Caution {
		t.Errorf("risk %s, want caution", m.Risk)
	}
}
