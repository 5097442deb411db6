package deploy

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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

// TestDeployWritesThroughViews: a write through an updatable view, a view with an INSTEAD OF trigger or
// a relation with rules changes the rows of the tables behind it. The row count check expected changes
// only in the relations the statements name, so such a migration (a DELETE through a view, tester A's F8)
// always failed verification and was rolled back. Those tables may now change; one that nothing writes
// to still may not.
func TestDeployWritesThroughViews(t *testing.T) {
	t.Parallel()
	const setup = `
		CREATE TABLE items (id int PRIMARY KEY, active bool NOT NULL);
		INSERT INTO items SELECT g, g % 2 = 0 FROM generate_series(1, 20) g;
		CREATE VIEW active_items AS SELECT * FROM items WHERE active;
		CREATE VIEW recent_active AS SELECT * FROM active_items WHERE id > 5;
		CREATE TABLE items_log (id int, what text);
		CREATE VIEW items_feed AS SELECT i.id, i.active, (SELECT count(*) FROM items_log) AS n FROM items i;
		CREATE FUNCTION items_feed_delete() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN DELETE FROM items WHERE id = OLD.id; RETURN OLD; END';
		CREATE TRIGGER items_feed_delete INSTEAD OF DELETE ON items_feed FOR EACH ROW EXECUTE FUNCTION items_feed_delete();
		CREATE VIEW archive AS SELECT id FROM items_log;
		CREATE RULE archive_insert AS ON INSERT TO archive DO INSTEAD INSERT INTO items_log VALUES (NEW.id, 'archived');
		CREATE RULE items_audit AS ON UPDATE TO items DO ALSO INSERT INTO items_log VALUES (NEW.id, 'updated');
		CREATE FUNCTION purge_orders() RETURNS void LANGUAGE sql AS 'DELETE FROM orders WHERE account_id > 2990';`
	for _, tc := range []struct {
		name, up string
		lost     string // the table whose change verification must report; "" when the deploy must pass
	}{
		{name: "delete through an updatable view", up: "ALTER TABLE items ADD COLUMN note text;\nDELETE FROM active_items WHERE id > 10;"},
		{name: "insert through a view of a view", up: "ALTER TABLE items ADD COLUMN note text;\nINSERT INTO recent_active (id, active) VALUES (100, true);"},
		{name: "delete through an INSTEAD OF trigger", up: "ALTER TABLE items ADD COLUMN note text;\nDELETE FROM items_feed WHERE id > 15;"},
		{name: "insert through an INSTEAD rule", up: "ALTER TABLE items_log ADD COLUMN note text;\nINSERT INTO archive VALUES (1);"},
		{name: "update with a rule that inserts", up: "ALTER TABLE items_log ADD COLUMN note text;\nUPDATE items SET active = true WHERE id = 1;"},
		{name: "a table the view does not write", up: "ALTER TABLE items ADD COLUMN note text;\nDELETE FROM active_items WHERE id > 10;\nSELECT purge_orders();",
			lost: "orders has 5980 rows, had 6000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.exec(t, setup)
			set := folder(t, map[string]string{"1_change.up.sql": tc.up})
			o := tg.options(t, set, "run-view")
			res, err := Run(t.Context(), o)
			var msg string
			for _, c := range res.Verify {
				if c.Name == "row counts unchanged" && c.Phase == "apply" && !c.OK {
					msg = c.Message
				}
			}
			if tc.lost == "" {
				if err != nil || msg != "" {
					t.Fatalf("deploy: %v, row count check %q; want it deployed", err, msg)
				}
				return
			}
			if err == nil || !strings.Contains(msg, tc.lost) {
				t.Errorf("deploy: %v, row count check %q; want it to report %s", err, msg, tc.lost)
			}
		})
	}
}

// TestDeployWritesInAWithClause: a migration that moves rows with a data-modifying WITH clause (the
// DELETE in the WITH, the INSERT after it) failed verification, which took only the INSERT's table for
// written and reported the rows the DELETE moved as lost, and rolled a correct deploy back. The
// statements of a WITH clause now count as the statement's own writes: the deploy goes through, and a
// rollback restores the snapshot, as the down does not put the rows back.
func TestDeployWritesInAWithClause(t *testing.T) {
	t.Parallel()
	move := map[string]string{
		"5_archive.up.sql": "CREATE TABLE orders_archive (LIKE orders);\n" +
			"WITH moved AS (DELETE FROM orders WHERE id > 5000 RETURNING *) INSERT INTO orders_archive SELECT * FROM moved;",
		"5_archive.down.sql": "DROP TABLE orders_archive;",
	}
	t.Run("deployed", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		res, err := Run(t.Context(), tg.options(t, folder(t, move), "run-with"))
		if err != nil || res.Outcome != OutcomeDeployed {
			t.Fatalf("outcome %s, verify %+v: %v; want deployed", res.Outcome, res.Verify, err)
		}
		if got := tg.value(t, "SELECT (SELECT count(*) FROM orders) || '+' || (SELECT count(*) FROM orders_archive)"); got != "5000+1000" {
			t.Errorf("orders+archive %s, want 5000+1000", got)
		}
	})
	t.Run("rolled back", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		before := tg.checksums(t)
		res, err := Run(t.Context(), tg.options(t, folder(t, with(move, map[string]string{"6_fail.up.sql": "SELECT 1 / 0;", "6_fail.down.sql": "SELECT 1;"})), "run-with"))
		if err == nil || res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "snapshot" ||
			!strings.Contains(res.Rollback.Why, "5_archive.up.sql:2 deletes rows of orders") {
			t.Fatalf("err %v, outcome %s, rollback %+v; want the snapshot restored for the deleted rows", err, res.Outcome, res.Rollback)
		}
		if after := tg.checksums(t); after != before {
			t.Errorf("database differs after rollback:\n%s\n---\n%s", before, after)
		}
	})
}

// TestBaselineLeavesOutWithClauses: the verification counted, before and after the migrations, the rows
// of a table named like a WITH clause of a migration (audit), which the migration never touches (the
// last review's follow-up: the names of WITH clauses were listed as tables, as the lock diagnostics
// listed them). Only the tables the migration names, and those they reach, are counted.
func TestBaselineLeavesOutWithClauses(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	tg.exec(t, "CREATE TABLE audit (id bigint); INSERT INTO audit VALUES (1); CREATE TABLE recent (id bigint)")
	set := folder(t, map[string]string{"5_x.up.sql": "WITH audit AS (SELECT id FROM accounts WHERE id <= 10) UPDATE orders SET note = 'x' WHERE account_id IN (SELECT id FROM audit);\n" +
		"WITH RECURSIVE recent AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM recent WHERE n < 3) SELECT count(*) FROM recent, app_settings;"})
	b, err := takeBaseline(t.Context(), tg.conn, "schemagate", analyze(set.Migrations[0].Up), true, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range b.counts {
		got = append(got, c.name)
	}
	slices.Sort(got)
	if want := "public.accounts public.app_settings public.orders"; strings.Join(got, " ") != want {
		t.Errorf("baseline counts %v, want %s", got, want)
	}
}

// TestDeployRowCountsLeaveOutOtherSessions: maintenance mode may not stop every writer. A row another
// session inserted into a table a migration only alters made the row count check fail, and the deploy
// rolled back a good migration, then reported it "NOT ROLLED BACK" when the check failed again after the
// downs. The rows other sessions write since the baseline are now told from the migration's own: a count
// that differs by no more than they wrote is not laid at the migration's door (the check says which
// tables it could not judge), with a snapshot configured or not; rows the migration itself adds are still
// caught, next to other sessions' writes too; and another session's update changes no count.
func TestDeployRowCountsLeaveOutOtherSessions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		up         string
		other      string // what another session runs right before the migration starts
		noSnapshot bool
		fail       string // what the failed row count check says; "" when the deploy must pass
		outcome    string // the outcome of a failed one
		unjudged   string // what the passing check says it could not judge; "" for none
	}{
		{name: "insert", up: "ALTER TABLE accounts SET (fillfactor = 90);",
			other: "INSERT INTO accounts VALUES (5001, 'new', 1)", unjudged: "accounts has 3001 rows, had 3000 (1 row written by 1 transaction of other sessions since)"},
		{name: "insert, no snapshot", up: "ALTER TABLE accounts SET (fillfactor = 90);", noSnapshot: true,
			other: "INSERT INTO accounts VALUES (5001, 'new', 1), (5002, 'new', 1)", unjudged: "accounts has 3002 rows, had 3000 (2 rows written by 1 transaction of other sessions since)"},
		{name: "update", up: "ALTER TABLE accounts SET (fillfactor = 90);",
			other: "UPDATE accounts SET balance = 0 WHERE id <= 10"},
		{name: "own rows too", up: "ALTER TABLE accounts SET (fillfactor = 90);\nSELECT add_accounts();",
			other:   "INSERT INTO accounts VALUES (5001, 'new', 1)",
			fail:    "accounts has 3051 rows, had 3000; other sessions wrote 1 row to it since, which does not account for it",
			outcome: OutcomeFailed}, // the down leaves the 50 rows, and a restore would lose the other session's
		{name: "own rows, no other session", up: "ALTER TABLE accounts SET (fillfactor = 90);\nSELECT add_accounts();",
			fail: "accounts has 3050 rows, had 3000", outcome: OutcomeRolledBack}, // by the down and the snapshot
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.exec(t, `CREATE FUNCTION add_accounts() RETURNS void LANGUAGE sql AS
				$$INSERT INTO accounts SELECT g, 'hidden', 0 FROM generate_series(10001, 10050) g$$`)
			set := folder(t, map[string]string{
				"1_change.up.sql":   tc.up,
				"1_change.down.sql": "ALTER TABLE accounts RESET (fillfactor);",
			})
			o := tg.options(t, set, "run-others")
			if tc.noSnapshot {
				o.Snapshotter = nil
			}
			other, err := pgx.Connect(t.Context(), tg.url)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close(t.Context())
			var otherErr error
			o.Progress = func(msg string) {
				t.Log(msg)
				if tc.other != "" && strings.HasPrefix(msg, "applying 1/1 ") {
					_, otherErr = other.Exec(t.Context(), tc.other)
				}
			}
			res, err := Run(t.Context(), o)
			if otherErr != nil {
				t.Fatalf("the other session's write: %v", otherErr)
			}
			var check *Check
			for i, c := range res.Verify {
				if c.Name == "row counts unchanged" && c.Phase == "apply" {
					check = &res.Verify[i]
				}
			}
			if check == nil {
				t.Fatalf("no row count check after the apply: %+v", res.Verify)
			}
			if tc.fail != "" {
				if err == nil || check.OK || !strings.Contains(check.Message, tc.fail) {
					t.Fatalf("err %v, check %+v; want it failed saying %q", err, check, tc.fail)
				}
				if res.Outcome != tc.outcome {
					t.Errorf("outcome %s, want %s", res.Outcome, tc.outcome)
				}
				return
			}
			if err != nil || res.Outcome != OutcomeDeployed || !check.OK {
				t.Fatalf("err %v, outcome %s, check %+v; want the migration deployed", err, res.Outcome, check)
			}
			if tc.unjudged == "" {
				if strings.Contains(check.Message, "not judged") {
					t.Errorf("check %q: nothing should be left unjudged", check.Message)
				}
				return
			}
			want := "0 tables checked; not judged, as other sessions wrote to them meanwhile: " + tc.unjudged
			if !strings.Contains(check.Message, "not judged") || !strings.HasSuffix(check.Message, tc.unjudged) {
				t.Errorf("check %q, want like %q", check.Message, want)
			}
		})
	}
}

// TestDeployRollbackLeavesOutOtherSessions: a later migration fails and the downs undo the first, while
// another session inserted a row into the table it altered. The check after the downs counted that row
// against them, wanted the snapshot restored, which the other session's write forbids, and the run ended
// failed. It is rolled back now, the other session's row kept.
func TestDeployRollbackLeavesOutOtherSessions(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	set := folder(t, map[string]string{
		"1_fill.up.sql":     "ALTER TABLE accounts SET (fillfactor = 90);",
		"1_fill.down.sql":   "ALTER TABLE accounts RESET (fillfactor);",
		"2_broken.up.sql":   "SELECT 1/0;",
		"2_broken.down.sql": "SELECT 1;",
	})
	o := tg.options(t, set, "run-others-rollback")
	var otherErr error
	o.Progress = func(msg string) {
		t.Log(msg)
		if strings.HasPrefix(msg, "applying 2/2 ") {
			otherErr = tg.conn.QueryRow(t.Context(), "INSERT INTO accounts VALUES (5001, 'app', 1) RETURNING 1").Scan(new(int))
		}
	}
	res, err := Run(t.Context(), o)
	if otherErr != nil {
		t.Fatalf("the other session's write: %v", otherErr)
	}
	if err == nil || res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "down" {
		t.Fatalf("err %v, outcome %s, rollback %+v; want rolled back by the downs", err, res.Outcome, res.Rollback)
	}
	var msg string
	for _, c := range res.Verify {
		if c.Name == "row counts unchanged" && c.Phase == "rollback" {
			if !c.OK {
				t.Errorf("row counts after the downs failed: %s", c.Message)
			}
			msg = c.Message
		}
	}
	if !strings.Contains(msg, "not judged, as other sessions wrote to them meanwhile: accounts has 3001 rows, had 3000") {
		t.Errorf("row counts after the downs say %q", msg)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM accounts WHERE id = 5001"); got != "1" {
		t.Error("the other session's row is gone")
	}
	if got := tg.value(t, "SELECT coalesce(array_to_string(reloptions, ','), '') FROM pg_class WHERE relname = 'accounts'"); got != "" {
		t.Errorf("accounts options %q after the downs", got)
	}
}
