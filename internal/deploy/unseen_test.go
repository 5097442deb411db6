package deploy

import (
	"strings"
	"testing"
)

// TestDeployRestoreRefusedForWritesWithoutRows: other sessions' committed writes that leave no row version
// for the write check to read were silently undone by the snapshot restore (tester A's F11-F14): a
// TRUNCATE of a table the run does not touch (a new relfilenode), nextval() on a sequence (not
// transactional), rows written into a table that a later migration of the run drops, and an UPDATE of a
// table that a later migration rewrites (ALTER COLUMN TYPE: every tuple then carries the run's xid). The
// restore is now refused, naming the table or sequence. Without such writes, the same runs (which drop,
// rewrite and advance sequences themselves) are still restored.
func TestDeployRestoreRefusedForWritesWithoutRows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		setup   string
		files   map[string]string
		writeAt string // the progress message before which the other session writes
		write   string // "" for nothing
		check   string // true after the deploy when the write is still there
		names   string // what the refusal must name
	}{
		{
			name:    "truncate",
			setup:   "CREATE TABLE staging (id int); INSERT INTO staging SELECT generate_series(1, 100);",
			files:   map[string]string{"1_f.up.sql": "CREATE TABLE feature (id int, v text);", "2_f.up.sql": "SELECT 1/0;"},
			writeAt: "applying 2/2", write: "TRUNCATE staging",
			check: "SELECT (count(*) = 0)::text FROM staging", names: "other sessions truncated, rewrote or dropped public.staging",
		},
		{
			// Another session's TRUNCATE of a table that the run truncates later.
			name:    "truncate-twice",
			setup:   "CREATE TABLE staging (id int); INSERT INTO staging SELECT generate_series(1, 100);",
			files:   map[string]string{"1_f.up.sql": "CREATE TABLE feature (id int, v text);", "2_t.up.sql": "TRUNCATE staging;", "3_f.up.sql": "SELECT 1/0;"},
			writeAt: "applying 2/3", write: "TRUNCATE staging",
			check: "SELECT (count(*) = 0)::text FROM staging", names: "other sessions truncated, rewrote or dropped public.staging",
		},
		{
			name:  "nextval",
			setup: "CREATE SEQUENCE invoice_no; SELECT setval('invoice_no', 1000);",
			// The run's own insert advances orders' sequence: that does not count.
			files:   map[string]string{"1_g.up.sql": "CREATE TABLE feature2 (id int);\nINSERT INTO orders (account_id) VALUES (1);", "2_f.up.sql": "SELECT 1/0;"},
			writeAt: "applying 2/2", write: "SELECT nextval('invoice_no') FROM generate_series(1, 5)",
			check: "SELECT (last_value = 1005)::text FROM invoice_no", names: "other sessions advanced the sequence public.invoice_no",
		},
		{
			name:  "drop",
			setup: "CREATE TABLE legacy (id int, v text); INSERT INTO legacy SELECT g, 'old' FROM generate_series(1, 10) g;",
			files: map[string]string{"1_x.up.sql": "CREATE TABLE x (id int);", "1_x.down.sql": "DROP TABLE x;",
				"2_drop.up.sql": "DROP TABLE legacy;", "3_f.up.sql": "SELECT 1/0;"},
			writeAt: "applying 2/3", write: "INSERT INTO legacy VALUES (999, 'paid order from app')",
			check: "SELECT (to_regclass('legacy') IS NULL)::text", names: "1 transaction of other sessions wrote to public.legacy",
		},
		{
			name:  "rewrite",
			setup: "CREATE TABLE acct (id int PRIMARY KEY, bal int); INSERT INTO acct SELECT g, 100 FROM generate_series(1, 10) g;",
			files: map[string]string{"1_y.up.sql": "CREATE TABLE y (id int);", "1_y.down.sql": "DROP TABLE y;",
				"2_rw.up.sql": "ALTER TABLE acct ALTER COLUMN bal TYPE bigint;", "3_f.up.sql": "SELECT 1/0;"},
			writeAt: "applying 2/3", write: "UPDATE acct SET bal = 555 WHERE id = 1",
			check: "SELECT (bal = 555)::text FROM acct WHERE id = 1", names: "1 transaction of other sessions wrote to public.acct",
		},
		{
			// The same through a partitioned table: ALTER TABLE rewrites its partitions.
			name: "rewrite-partitions",
			setup: "CREATE TABLE ev (id int, v int) PARTITION BY RANGE (id); CREATE TABLE ev1 PARTITION OF ev FOR VALUES FROM (0) TO (100);" +
				" INSERT INTO ev SELECT g, 100 FROM generate_series(1, 10) g;",
			files: map[string]string{"1_y.up.sql": "CREATE TABLE y (id int);", "1_y.down.sql": "DROP TABLE y;",
				"2_rw.up.sql": "ALTER TABLE ev ALTER COLUMN v TYPE bigint;", "3_f.up.sql": "SELECT 1/0;"},
			writeAt: "applying 2/3", write: "UPDATE ev SET v = 555 WHERE id = 1",
			check: "SELECT (v = 555)::text FROM ev WHERE id = 1", names: "1 transaction of other sessions wrote to public.ev1",
		},
	} {
		for _, write := range []bool{true, false} {
			name := tc.name
			if !write {
				name += "/none"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				tg := newTarget(t)
				tg.exec(t, tc.setup)
				before := tg.checksums(t)
				o := tg.options(t, folder(t, tc.files), "run-unseen")
				o.Maintenance = nil // a maintenance mode that does not stop every writer
				progress := o.Progress
				o.Progress = func(msg string) {
					progress(msg)
					if write && strings.HasPrefix(msg, tc.writeAt) {
						tg.exec(t, tc.write) // committed after the snapshot, before the failure
					}
				}
				res, err := Run(t.Context(), o)
				if err == nil {
					t.Fatal("deploy succeeded")
				}
				rb := res.Rollback
				if !write {
					if res.Outcome != OutcomeRolledBack || rb == nil || rb.Method != "snapshot" || !rb.OK {
						t.Fatalf("outcome %s, rollback %+v; want the snapshot restored", res.Outcome, rb)
					}
					if after := tg.checksums(t); after != before {
						t.Errorf("database differs after restore:\n%s\n---\n%s", before, after)
					}
					return
				}
				if res.Outcome != OutcomeFailed || rb == nil || rb.OK || !strings.Contains(rb.Error, "the snapshot was not restored") ||
					!strings.Contains(rb.Error, tc.names) {
					t.Fatalf("outcome %s, rollback %+v; want the restore refused naming %s", res.Outcome, rb, tc.names)
				}
				t.Logf("refused: %s", rb.Error)
				if tg.value(t, tc.check) != "true" {
					t.Error("the other session's committed write is gone")
				}
			})
		}
	}
}
