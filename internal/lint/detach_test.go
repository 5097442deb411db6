package lint

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestDetachPartitionLocksReferencingTables: DETACH PARTITION of a partitioned table that another
// table's foreign key references drops the foreign key's copy for the partition on that table, under
// ACCESS EXCLUSIVE (measured here, on the server), after scanning it under SHARE; CONCURRENTLY does the
// same in its second transaction. Both forms are detach-partition-blocking naming the referencing
// table, which explains the trace's scan of it, and a CONCURRENTLY without lock_timeout is dangerous:
// the wait for that lock queues the referencing table's queries. A table referencing a partition
// directly, or a new one, is not named.
func TestDetachPartitionLocksReferencingTables(t *testing.T) {
	t.Parallel()
	const schema = "CREATE TABLE p (id bigint NOT NULL, d date NOT NULL, PRIMARY KEY (id, d)) PARTITION BY RANGE (d);\n" +
		"CREATE TABLE p1 PARTITION OF p FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');\n" +
		"CREATE TABLE p2 PARTITION OF p FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');\n" +
		"CREATE TABLE tr (id bigint PRIMARY KEY, p_id bigint, pd date, CONSTRAINT tr_p_fk FOREIGN KEY (p_id, pd) REFERENCES p);\n" +
		"CREATE TABLE tp2 (id bigint PRIMARY KEY, p_id bigint, pd date, FOREIGN KEY (p_id, pd) REFERENCES p2);\n"

	conn := pgtest.Conn(t)
	ctx := t.Context()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // the test only looks
	if _, err := tx.Exec(ctx, schema+"ALTER TABLE p DETACH PARTITION p1"); err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := tx.QueryRow(ctx, `SELECT max(mode) FILTER (WHERE mode = 'AccessExclusiveLock') FROM pg_locks
		WHERE pid = pg_backend_pid() AND relation = 'tr'::regclass`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "AccessExclusiveLock" {
		t.Fatalf("DETACH PARTITION holds %q on tr, want AccessExclusiveLock: the case is wrong", mode)
	}

	for _, tt := range []struct {
		name, src   string
		timeoutRisk Risk // missing-lock-timeout's class, 0 for none expected
	}{
		{"plain", "SET lock_timeout = '2s';\nALTER TABLE p DETACH PARTITION p1;\n", 0},
		{"concurrently", "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY;\n", Dangerous},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs := AnalyzeScript(script(tt.src), !strings.Contains(tt.src, "CONCURRENTLY"), Config{Schema: schema})
			f := find(fs, "detach-partition-blocking")
			if f == nil || f.Risk != Dangerous || !f.Scan || !strings.Contains(f.Message, "on tr, which references p by foreign key") {
				t.Fatalf("detach-partition-blocking %+v, want a dangerous one naming tr's lock and scan (all: %v)", f, rulesOf(fs))
			}
			if strings.Contains(f.Message, "tp2") {
				t.Errorf("the finding names tp2, which references the partition p2: %s", f.Message)
			}
			if tt.timeoutRisk != 0 {
				m := find(fs, "missing-lock-timeout")
				if m == nil || m.Risk != tt.timeoutRisk || !strings.Contains(m.Message, "ACCESS EXCLUSIVE on tr") {
					t.Errorf("missing-lock-timeout %+v, want %v naming tr", m, tt.timeoutRisk)
				}
			}
		})
	}
	// With no table referencing p (tr and tp2 reference the partition p2), CONCURRENTLY is no
	// detach-partition-blocking.
	fs := AnalyzeScript(script("ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY;\n"), false, Config{Schema: strings.ReplaceAll(schema, "REFERENCES p);", "REFERENCES p2);")})
	if f := find(fs, "detach-partition-blocking"); f != nil {
		t.Errorf("detach-partition-blocking %+v with no table referencing p", f)
	}
}
