package deploy

import (
	"strings"
	"testing"
)

// A foreign key that references a partitioned table holds when each child row's parent is in any of
// its partitions. PostgreSQL gives the key a copy per partition on the same child table (and one more
// for a partition the deploy adds), which no row of another partition satisfies, and the partitioned
// table itself has no rows of its own (ONLY): the check judges the key by the whole table, and still
// finds a row whose parent is gone.
func TestVerifyForeignKeyToPartitionedTable(t *testing.T) {
	t.Parallel()
	setup := `
		CREATE TABLE events (id bigint, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
		CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
		CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
		INSERT INTO events SELECT g, CASE WHEN g % 2 = 0 THEN date '2025-06-01' ELSE date '2026-06-01' END FROM generate_series(1, 100) g;
		CREATE TABLE event_notes (id bigint PRIMARY KEY, event_id bigint, event_at date,
		  FOREIGN KEY (event_id, event_at) REFERENCES events);
		INSERT INTO event_notes SELECT g, g, CASE WHEN g % 2 = 0 THEN date '2025-06-01' ELSE date '2026-06-01' END FROM generate_series(1, 100) g;`
	files := map[string]string{
		"1_partition.up.sql":   "CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');",
		"1_partition.down.sql": "DROP TABLE events_2027;",
		"2_more.up.sql": "INSERT INTO events VALUES (101, '2027-02-01'), (102, '2025-02-01');\n" +
			"INSERT INTO event_notes VALUES (101, 101, '2027-02-01'), (102, 102, '2025-02-01');",
		"2_more.down.sql": "DELETE FROM event_notes WHERE id > 100;\nDELETE FROM events WHERE id > 100;",
	}
	t.Run("holds", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		tg.exec(t, setup)
		res, err := Run(t.Context(), tg.options(t, folder(t, files), "run-partitioned"))
		if err != nil {
			t.Fatalf("deploy: %v (verify %+v)", err, res.Verify)
		}
		checked := false
		for _, c := range res.Verify {
			if c.Name == "foreign keys hold" {
				checked = true
				// the key and its copy on event_notes for the new partition are the ones that changed
				if !c.OK || !strings.HasSuffix(c.Message, "foreign keys checked") || c.Message == "0 foreign keys checked" {
					t.Errorf("foreign key check: %+v", c)
				}
			}
		}
		if !checked {
			t.Errorf("no foreign key check in %+v", res.Verify)
		}
	})
	t.Run("broken", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		tg.exec(t, setup)
		broken := with(files, map[string]string{
			"2_more.up.sql":   "SET LOCAL session_replication_role = replica;\nDELETE FROM events WHERE id = 7;",
			"2_more.down.sql": "",
		})
		res, err := Run(t.Context(), tg.options(t, folder(t, broken), "run-partitioned-broken"))
		if err == nil {
			t.Fatal("deploy succeeded with a note whose event is gone")
		}
		failed := failedChecks(res.Verify)
		if len(failed) == 0 || failed[0].Name != "foreign keys hold" || !strings.Contains(failed[0].Message, "on event_notes: 1 rows without a parent in events") {
			t.Fatalf("failed checks %+v, want the key of event_notes to events broken by one row", failed)
		}
	})
}
