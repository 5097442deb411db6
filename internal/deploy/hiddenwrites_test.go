package deploy

import (
	"maps"
	"strings"
	"testing"
)

// hiddenTarget is newTarget with customers (20 rows, each with a phone) and cust_orders (50 rows, each
// referencing a customer), for the writes other statements hide.
func hiddenTarget(t *testing.T) *target {
	t.Helper()
	tg := newTarget(t)
	tg.exec(t, `
		CREATE TABLE customers (id bigserial PRIMARY KEY, phone text);
		INSERT INTO customers (phone) SELECT '+1-555-' || g FROM generate_series(1, 20) g;
		CREATE TABLE cust_orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers, amount numeric NOT NULL, note text);
		INSERT INTO cust_orders (customer_id, amount) SELECT g % 20 + 1, g FROM generate_series(1, 50) g;`)
	return tg
}

// phones is every customer's id and phone, in id order.
func (tg *target) phones(t *testing.T) string {
	t.Helper()
	return tg.value(t, "SELECT coalesce(string_agg(id || '=' || coalesce(phone, 'NULL'), ',' ORDER BY id), '') FROM customers")
}

// failingAfter is a folder whose first migration's up is up (its down does nothing) and whose second
// fails on the rows there are: the rollback undoes the first.
func failingAfter(t *testing.T, up, down string) map[string]string {
	t.Helper()
	if down == "" {
		down = "SELECT 1;"
	}
	return map[string]string{
		"1_x.up.sql":      up,
		"1_x.down.sql":    down,
		"2_fail.up.sql":   "ALTER TABLE cust_orders ADD CONSTRAINT bad CHECK (amount < 0);",
		"2_fail.down.sql": "ALTER TABLE cust_orders DROP CONSTRAINT bad;",
	}
}

// TestDeployRestoresWritesOtherStatementsHide: an up whose UPDATE runs inside another statement (EXPLAIN
// ANALYZE, EXECUTE of a statement it prepares, COPY (UPDATE ... RETURNING) TO, a rule it creates, a WITH
// clause) overwrites the customers' phones, which its down does not write back, and the next migration
// fails. The deploy saw only the UPDATE written alone: it ran the downs, said rolled back by down and
// verified, and the phones were gone. Now each counts as the UPDATE it runs: the snapshot is restored,
// and the phones are back. An EXPLAIN without ANALYZE, a PREPARE never executed and a rule no write
// fires run nothing: the downs roll those back.
func TestDeployRestoresWritesOtherStatementsHide(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, up, down string
		method         string // the rollback's
	}{
		{name: "update", up: "UPDATE customers SET phone = NULL;", method: "snapshot"},
		{name: "explain analyze", up: "EXPLAIN ANALYZE UPDATE customers SET phone = NULL;", method: "snapshot"},
		{name: "explain analyze with options", up: "EXPLAIN (ANALYZE, COSTS OFF) UPDATE customers SET phone = NULL;", method: "snapshot"},
		{name: "explain analyze delete", up: "EXPLAIN ANALYZE DELETE FROM cust_orders WHERE customer_id = 1;", method: "snapshot"},
		{name: "prepare execute", up: "PREPARE wipe AS UPDATE customers SET phone = NULL;\nEXECUTE wipe;", method: "snapshot"},
		{name: "explain analyze execute", up: "PREPARE wipe AS UPDATE customers SET phone = NULL;\nEXPLAIN ANALYZE EXECUTE wipe;", method: "snapshot"},
		{name: "copy update to", up: "COPY (UPDATE customers SET phone = NULL RETURNING id) TO '/dev/null';", method: "snapshot"},
		{name: "with update", up: "WITH w AS (UPDATE customers SET phone = NULL RETURNING id) SELECT count(*) FROM w;", method: "snapshot"},
		{name: "prepared with update", up: "PREPARE wipe AS WITH w AS (UPDATE customers SET phone = NULL RETURNING id) SELECT count(*) FROM w;\nEXECUTE wipe;", method: "snapshot"},
		{name: "rule also", up: "CREATE TABLE cust_log (id int);\nCREATE RULE wipe AS ON INSERT TO cust_log DO ALSO UPDATE customers SET phone = NULL;\nINSERT INTO cust_log VALUES (1);",
			down: "DROP TABLE cust_log;", method: "snapshot"},
		{name: "rule instead", up: "CREATE TABLE cust_log (id int);\nCREATE RULE wipe AS ON INSERT TO cust_log DO INSTEAD UPDATE customers SET phone = NULL;\nINSERT INTO cust_log VALUES (1);",
			down: "DROP TABLE cust_log;", method: "snapshot"},
		// The DELETE empties a table the up created, whose rows' foreign key deletes the orders with them.
		{name: "prepared delete through a foreign key", up: "CREATE TABLE batch (id int PRIMARY KEY);\nINSERT INTO batch VALUES (1);\n" +
			"ALTER TABLE cust_orders ADD COLUMN batch_id int REFERENCES batch ON DELETE CASCADE;\nUPDATE cust_orders SET batch_id = 1 WHERE customer_id = 3;\n" +
			"PREPARE purge AS DELETE FROM batch;\nEXECUTE purge;",
			down: "ALTER TABLE cust_orders DROP COLUMN batch_id;\nDROP TABLE batch;", method: "snapshot"},
		{name: "explain without analyze", up: "EXPLAIN UPDATE customers SET phone = NULL;", method: "down"},
		{name: "prepare never executed", up: "PREPARE wipe AS UPDATE customers SET phone = NULL;", method: "down"},
		{name: "rule never fired", up: "CREATE TABLE cust_log (id int);\nCREATE RULE wipe AS ON INSERT TO cust_log DO ALSO UPDATE customers SET phone = NULL;",
			down: "DROP TABLE cust_log;", method: "down"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := hiddenTarget(t)
			phones, orders := tg.phones(t), tg.value(t, "SELECT count(*)::text FROM cust_orders")
			res, err := Run(t.Context(), tg.options(t, folder(t, failingAfter(t, tc.up, tc.down)), "run-hidden"))
			if err == nil || res.Outcome != OutcomeRolledBack || res.Rollback == nil || !res.Rollback.OK || res.Rollback.Method != tc.method {
				t.Fatalf("deploy: %v, outcome %s, rollback %+v; want rolled back by %s", err, res.Outcome, res.Rollback, tc.method)
			}
			if tc.method == "snapshot" && !strings.Contains(res.Rollback.Why, "1_x.up.sql:") {
				t.Errorf("rollback's why %q; want it to name the up's statement", res.Rollback.Why)
			}
			if got := tg.phones(t); got != phones {
				t.Errorf("phones after the rollback:\n%s\nwant\n%s", got, phones)
			}
			if got := tg.value(t, "SELECT count(*)::text FROM cust_orders"); got != orders {
				t.Errorf("%s orders after the rollback, want %s", got, orders)
			}
		})
	}
}

// TestDeployChecksForeignKeysOfPreparedWrites: an up that moves customers' ids away from their orders
// with foreign keys off (session_replication_role = replica) through a prepared statement left their
// orders orphaned (25 in the tester's case), and the deploy said "ok foreign keys hold: 0 foreign keys checked": the check reads
// the columns the migrations update, and the EXECUTE's were not seen. It now checks them as the plain
// UPDATE's, fails, and the rollback puts the ids back.
func TestDeployChecksForeignKeysOfPreparedWrites(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, write string }{
		{name: "update", write: "UPDATE customers SET id = id + 100000 WHERE id <= 5;"},
		{name: "prepare execute", write: "PREPARE mv AS UPDATE customers SET id = id + 100000 WHERE id <= 5;\nEXECUTE mv;"},
		{name: "explain analyze", write: "EXPLAIN ANALYZE UPDATE customers SET id = id + 100000 WHERE id <= 5;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := hiddenTarget(t)
			const orphans = "SELECT count(*)::text FROM cust_orders o WHERE NOT EXISTS (SELECT FROM customers c WHERE c.id = o.customer_id)"
			moved := tg.value(t, "SELECT count(*)::text FROM cust_orders WHERE customer_id <= 5")
			res, err := Run(t.Context(), tg.options(t, folder(t, map[string]string{
				"1_x.up.sql":   "SET session_replication_role = replica;\n" + tc.write,
				"1_x.down.sql": "SELECT 1;",
			}), "run-fk"))
			if err == nil || res.Outcome != OutcomeRolledBack {
				t.Fatalf("deploy: %v, outcome %s; want it to fail the foreign keys' check and roll back", err, res.Outcome)
			}
			failed := ""
			for _, c := range res.Verify {
				if c.Name == "foreign keys hold" && !c.OK {
					failed = c.Message
				}
			}
			if !strings.Contains(failed, "on cust_orders: "+moved+" rows without a parent in customers") {
				t.Errorf("checks %+v; want foreign keys hold to fail with %s orders without a parent", res.Verify, moved)
			}
			if got := tg.value(t, orphans); got != "0" {
				t.Errorf("%s orders without a customer after the rollback, want 0", got)
			}
		})
	}
}

// TestDeployRestoresWhatAnExecuteOfAnotherMigrationRuns: the run's migrations share a session, so an
// EXECUTE may run a statement an earlier migration prepared, which its own script does not show: it
// counts as one that may destroy data, and the snapshot is restored.
func TestDeployRestoresWhatAnExecuteOfAnotherMigrationRuns(t *testing.T) {
	t.Parallel()
	tg := hiddenTarget(t)
	phones := tg.phones(t)
	files := failingAfter(t, "EXECUTE wipe;", "")
	files["0_prep.up.sql"], files["0_prep.down.sql"] = "PREPARE wipe AS UPDATE customers SET phone = NULL;", "SELECT 1;"
	res, err := Run(t.Context(), tg.options(t, folder(t, files), "run-exec"))
	if err == nil || res.Outcome != OutcomeRolledBack || res.Rollback == nil || !res.Rollback.OK || res.Rollback.Method != "snapshot" ||
		!strings.Contains(res.Rollback.Why, "1_x.up.sql:1 runs EXECUTE wipe, a statement the script does not prepare") {
		t.Fatalf("deploy: %v, outcome %s, rollback %+v; want the snapshot restored for the EXECUTE", err, res.Outcome, res.Rollback)
	}
	if got := tg.phones(t); got != phones {
		t.Errorf("phones after the rollback:\n%s\nwant\n%s", got, phones)
	}
}

// TestDeployRestoresWhatATriggerOfTheFolderWrites: an up creates a trigger function that blanks a
// customer's phone and a trigger that runs it on each order inserted, then inserts orders; its down
// deletes them and drops both. The insert looked harmless (the down deletes what it wrote), the downs
// ran, the run said rolled back by down, and the phones were gone. A write to a table with a trigger
// the folder creates now counts as a call of the trigger's function, judged by its code as a direct
// call is: the snapshot is restored, and the phones are back. A trigger whose function destroys
// nothing, and one that fires on another event, do not call for it: the downs roll those back.
func TestDeployRestoresWhatATriggerOfTheFolderWrites(t *testing.T) {
	t.Parallel()
	const down = "DELETE FROM cust_orders WHERE note = 'mig';\nDROP TRIGGER bump ON cust_orders;\nDROP FUNCTION bump();"
	blank := "CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN UPDATE customers SET phone = NULL WHERE id = NEW.customer_id; RETURN NEW; END$$;\n"
	harmless := "CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.amount := NEW.amount + 1; RETURN NEW; END$$;\n"
	insert := "INSERT INTO cust_orders (customer_id, amount, note) SELECT id, 1, 'mig' FROM customers;"
	for _, tc := range []struct {
		name   string
		files  map[string]string // besides 2_fail
		method string            // the rollback's
	}{
		{name: "same up", files: map[string]string{
			"1_x.up.sql":   blank + "CREATE TRIGGER bump AFTER INSERT ON cust_orders FOR EACH ROW EXECUTE FUNCTION bump();\n" + insert,
			"1_x.down.sql": down,
		}, method: "snapshot"},
		{name: "earlier migration", files: map[string]string{
			"0_t.up.sql":   blank + "CREATE TRIGGER bump AFTER INSERT ON cust_orders FOR EACH ROW EXECUTE FUNCTION bump();",
			"0_t.down.sql": "DROP TRIGGER bump ON cust_orders;\nDROP FUNCTION bump();",
			"1_x.up.sql":   insert,
			"1_x.down.sql": "DELETE FROM cust_orders WHERE note = 'mig';",
		}, method: "snapshot"},
		{name: "copy", files: map[string]string{
			"1_x.up.sql":   blank + "CREATE TRIGGER bump AFTER INSERT ON cust_orders FOR EACH ROW EXECUTE FUNCTION bump();\nCOPY cust_orders (customer_id, amount, note) FROM PROGRAM 'echo 1,1,mig' WITH (FORMAT csv);",
			"1_x.down.sql": down,
		}, method: "snapshot"},
		{name: "harmless function", files: map[string]string{
			"1_x.up.sql":   harmless + "CREATE TRIGGER bump BEFORE INSERT ON cust_orders FOR EACH ROW EXECUTE FUNCTION bump();\n" + insert,
			"1_x.down.sql": down,
		}, method: "down"},
		{name: "other event", files: map[string]string{
			"1_x.up.sql":   blank + "CREATE TRIGGER bump AFTER UPDATE ON cust_orders FOR EACH ROW EXECUTE FUNCTION bump();\n" + insert,
			"1_x.down.sql": down,
		}, method: "down"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := hiddenTarget(t)
			phones, orders := tg.phones(t), tg.value(t, "SELECT count(*)::text FROM cust_orders")
			files := failingAfter(t, "SELECT 1;", "")
			delete(files, "1_x.up.sql")
			delete(files, "1_x.down.sql")
			maps.Copy(files, tc.files)
			res, err := Run(t.Context(), tg.options(t, folder(t, files), "run-trigger"))
			if err == nil || res.Outcome != OutcomeRolledBack || res.Rollback == nil || !res.Rollback.OK || res.Rollback.Method != tc.method {
				t.Fatalf("deploy: %v, outcome %s, rollback %+v; want rolled back by %s", err, res.Outcome, res.Rollback, tc.method)
			}
			if tc.method == "snapshot" && !strings.Contains(res.Rollback.Why, "writes to cust_orders, whose trigger bump") {
				t.Errorf("rollback's why %q; want it to name the trigger", res.Rollback.Why)
			}
			if got := tg.phones(t); got != phones {
				t.Errorf("phones after the rollback:\n%s\nwant\n%s", got, phones)
			}
			if got := tg.value(t, "SELECT count(*)::text FROM cust_orders"); got != orders {
				t.Errorf("%s orders after the rollback, want %s", got, orders)
			}
		})
	}
}
