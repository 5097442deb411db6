package deploy

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/config"
)

// TestDeployVerifyCatchesHiddenRowLoss: migrations that lose rows of tables they do not name, or through
// a partitioned table, are caught by the row count check and rolled back. Each used to pass: a function
// call in a SELECT was not opaque like a DO block, a partitioned table was counted with ONLY (always 0),
// and tables reached by cascading foreign keys were not counted. Attaching a partition, which fills its
// parent, passes.
func TestDeployVerifyCatchesHiddenRowLoss(t *testing.T) {
	t.Parallel()
	const setup = `
		CREATE TABLE sessions (id int PRIMARY KEY, active bool NOT NULL);
		INSERT INTO sessions SELECT g, g % 3 = 0 FROM generate_series(1, 300) g;
		CREATE FUNCTION purge_inactive() RETURNS void LANGUAGE sql AS 'DELETE FROM sessions WHERE NOT active';
		CREATE TABLE ev (id int, at date NOT NULL) PARTITION BY RANGE (at);
		CREATE TABLE ev_2025 PARTITION OF ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
		CREATE TABLE ev_2026 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
		INSERT INTO ev SELECT g, date '2025-06-01' + (g % 400) FROM generate_series(1, 1000) g;
		CREATE TABLE ev_2027 (id int, at date NOT NULL);
		INSERT INTO ev_2027 SELECT g, date '2027-03-01' FROM generate_series(1, 10) g;
		CREATE TABLE parent (id int PRIMARY KEY);
		INSERT INTO parent SELECT generate_series(1, 100);
		CREATE TABLE child (id int, parent_id int REFERENCES parent ON DELETE CASCADE);
		INSERT INTO child SELECT g, g % 100 + 1 FROM generate_series(1, 500) g;`
	tests := []struct {
		name string
		up   string
		lost string // the table whose row loss verification must report; "" when the deploy must pass
	}{
		{name: "function call", up: "ALTER TABLE accounts ADD COLUMN note text;\nSELECT purge_inactive();", lost: "sessions"},
		{name: "detach partition", up: "ALTER TABLE ev DETACH PARTITION ev_2025;", lost: "ev has"},
		{name: "cascading delete", up: "ALTER TABLE parent ADD COLUMN note text;\nDELETE FROM parent WHERE id > 90;", lost: "child"},
		{name: "truncate cascade", up: "TRUNCATE parent CASCADE;", lost: "child"},
		{name: "attach partition", up: "ALTER TABLE ev ATTACH PARTITION ev_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.exec(t, setup)
			before := tg.checksums(t)
			set := folder(t, map[string]string{"1_change.up.sql": tc.up})
			res, err := Run(t.Context(), tg.options(t, set, "run-hidden"))
			if tc.lost == "" {
				if err != nil {
					t.Fatalf("deploy: %v", err)
				}
				return
			}
			if err == nil || res.Outcome != OutcomeRolledBack {
				t.Fatalf("err %v, outcome %s; want the row loss caught and rolled back", err, res.Outcome)
			}
			var msg string
			for _, c := range res.Verify {
				if c.Name == "row counts unchanged" && c.Phase == "apply" && !c.OK {
					msg = c.Message
				}
			}
			if !strings.Contains(msg, tc.lost) {
				t.Errorf("row count check %q, want it to report %s; verify %+v", msg, tc.lost, res.Verify)
			}
			if after := tg.checksums(t); after != before {
				t.Error("database not back")
			}
		})
	}
}

// TestDeployUserChecksCannotWrite: a verify check's SQL ran read-write and was committed, so a check
// such as WITH d AS (DELETE FROM orders RETURNING 1) SELECT true emptied a table of production. Checks now
// run in a READ ONLY transaction that is rolled back: one that writes fails, naming the check, the deploy
// treats that as a failed verification and rolls back, and the table keeps its rows. So does a check that
// ends the transaction itself, refused before it runs. A check that reads still passes.
func TestDeployUserChecksCannotWrite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, sql, want string
	}{
		{name: "data-modifying WITH", sql: "WITH d AS (DELETE FROM orders RETURNING 1) SELECT true", want: "tried to write"},
		{name: "commit first", sql: "COMMIT; DELETE FROM orders; SELECT true", want: "may not control the transaction"},
		{name: "reads", sql: "SELECT count(*) > 0 FROM orders"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			o := tg.options(t, folder(t, map[string]string{
				"1_note.up.sql":   "ALTER TABLE accounts ADD COLUMN note text;",
				"1_note.down.sql": "ALTER TABLE accounts DROP COLUMN note;",
			}), "run-check")
			o.Config.Verify.Checks = []config.Check{{Name: "orders kept", SQL: tc.sql}}
			res, err := Run(t.Context(), o)
			if got := tg.value(t, "SELECT count(*)::text FROM orders"); got != "6000" {
				t.Errorf("orders has %s rows after the deploy, had 6000: the check wrote", got)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("deploy: %v", err)
				}
				return
			}
			if err == nil || res.Outcome != OutcomeRolledBack {
				t.Fatalf("err %v, outcome %s; want the failed check rolled back", err, res.Outcome)
			}
			var msg string
			for _, c := range res.Verify {
				if c.Name == "orders kept" && !c.OK {
					msg = c.Message
				}
			}
			if !strings.Contains(msg, `check "orders kept"`) || !strings.Contains(msg, tc.want) {
				t.Errorf("check message %q; want it to name the check and say %q", msg, tc.want)
			}
		})
	}
}
