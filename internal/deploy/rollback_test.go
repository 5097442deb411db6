package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/config"
)

// TestDeployUpThatDestroyedDataRestoresSnapshot: a migration whose up destroyed data (a dropped column,
// overwritten values) and whose down only brings the shape back was rolled back by its down, reported
// "rolled back" (exit 3, the database is as it was), with the data gone although the run's snapshot had
// it (tester A's F3). The rollback now restores the snapshot and says why; a down that writes the values
// back is still used.
func TestDeployUpThatDestroyedDataRestoresSnapshot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		setup      string // run on the target first
		up, down   string
		method     string
		why        string
		noSnapshot bool
		earlier    [2]string // up and down of a migration the run applies before 5_x, when set
		lost       string    // what the rollback without a snapshot says is lost; "drops column orders.note" when ""
	}{
		{name: "dropped column", up: "ALTER TABLE orders DROP COLUMN note;", down: "ALTER TABLE orders ADD COLUMN note text;",
			method: "snapshot", why: "5_x.up.sql:1 drops column orders.note"},
		{name: "overwritten values", up: "ALTER TABLE orders ADD COLUMN z int;\nUPDATE accounts SET name = 'gone';", down: "ALTER TABLE orders DROP COLUMN z;",
			method: "snapshot", why: "5_x.up.sql:2 overwrites accounts.name"},
		{name: "down writes the values back", up: "UPDATE accounts SET balance = balance * 2;", down: "UPDATE accounts SET balance = balance / 2;",
			method: "down"},
		{name: "no snapshot", up: "ALTER TABLE orders DROP COLUMN note;", down: "ALTER TABLE orders ADD COLUMN note text;",
			method: "down", noSnapshot: true},
		// The same drop where the parse tree does not show it (the last review's "left alone": the rollback
		// ran the down, which only adds the column back, and called the database as it was).
		{name: "dropped column in a DO block", up: "DO $$ BEGIN ALTER TABLE orders DROP COLUMN note; END $$;", down: "ALTER TABLE orders ADD COLUMN note text;",
			method: "snapshot", why: `5_x.up.sql:1 runs a DO block that holds "DROP COLUMN"`},
		{name: "dropped column in a DO block, no snapshot", up: "DO $$ BEGIN ALTER TABLE orders DROP COLUMN note; END $$;", down: "ALTER TABLE orders ADD COLUMN note text;",
			method: "down", noSnapshot: true, lost: `runs a DO block that holds "DROP COLUMN"`},
		{name: "dropped column in a function the folder defines",
			up:     "CREATE FUNCTION drop_note() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'ALTER TABLE orders DROP note'; END $$;\nSELECT drop_note();",
			down:   "DROP FUNCTION drop_note();\nALTER TABLE orders ADD COLUMN note text;",
			method: "snapshot", why: `5_x.up.sql:2 calls drop_note, whose code (5_x.up.sql:1) holds "DROP note"`},
		{name: "overwritten in a procedure the database has",
			setup: "CREATE PROCEDURE app_reset() LANGUAGE sql AS $$ UPDATE app_settings SET value = 'reset' $$;",
			up:    "ALTER TABLE orders ADD COLUMN z int;\nCALL app_reset();", down: "ALTER TABLE orders DROP COLUMN z;",
			method: "snapshot", why: `5_x.up.sql:2 calls app_reset, whose code (function app_reset()) holds "UPDATE app_settings SET"`},
		{name: "overwritten by a MERGE", up: "MERGE INTO accounts a USING (SELECT 1::bigint AS id) s ON a.id = s.id WHEN MATCHED THEN UPDATE SET name = 'gone';", down: "SELECT 1;",
			method: "snapshot", why: "5_x.up.sql:1 overwrites accounts.name"},
		{name: "overwritten by an INSERT ... ON CONFLICT DO UPDATE", up: "INSERT INTO accounts VALUES (1, 'gone', 0) ON CONFLICT (id) DO UPDATE SET name = excluded.name;", down: "SELECT 1;",
			method: "snapshot", why: "5_x.up.sql:1 overwrites accounts.name"},
		{name: "overwritten in a WITH clause", up: "WITH u AS (UPDATE accounts SET name = 'gone' RETURNING id) SELECT count(*) FROM u;", down: "SELECT 1;",
			method: "snapshot", why: "5_x.up.sql:1 overwrites accounts.name"},
		// A schema dropped with CASCADE and a narrowed column (the last review's "left alone": the downs
		// brought the shape back without the data).
		{name: "dropped schema", setup: "CREATE SCHEMA legacy; CREATE TABLE legacy.t AS SELECT g FROM generate_series(1, 10) g;",
			up: "DROP SCHEMA legacy CASCADE;", down: "CREATE SCHEMA legacy;\nCREATE TABLE legacy.t (g int);",
			method: "snapshot", why: "5_x.up.sql:1 drops schema legacy with CASCADE"},
		{name: "narrowed column", up: "ALTER TABLE orders ALTER COLUMN total TYPE integer;", down: "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);",
			method: "snapshot", why: "5_x.up.sql:1 changes the type of orders.total from numeric(12,2) to integer, which is not a widening"},
		{name: "column converted with USING", up: "ALTER TABLE orders ALTER COLUMN note TYPE varchar(8) USING left(note, 8);", down: "ALTER TABLE orders ALTER COLUMN note TYPE text;",
			method: "snapshot", why: "5_x.up.sql:1 changes the type of orders.note to varchar(8) with USING"},
		{name: "widened column", up: "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,4);", down: "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);",
			method: "down"},
		{name: "down drops a column in a DO block", up: "ALTER TABLE orders ADD COLUMN z int;", down: "DO $$ BEGIN ALTER TABLE orders DROP COLUMN note; END $$;",
			method: "snapshot", why: `the down of 5_x would lose data: 5_x.down.sql:1 runs a DO block that holds "DROP COLUMN"`},
		{name: "down calls a procedure the database has that deletes",
			setup: "CREATE PROCEDURE app_wipe() LANGUAGE sql AS $$ DELETE FROM app_settings WHERE key <> 'maintenance' $$;",
			up:    "ALTER TABLE orders ADD COLUMN z int;", down: "ALTER TABLE orders DROP COLUMN z;\nCALL app_wipe();",
			method: "snapshot", why: `the down of 5_x would lose data: 5_x.down.sql:2 calls app_wipe, whose code (function app_wipe()) holds "DELETE FROM"`},
		// DROP OWNED and types, domains and extensions dropped with CASCADE (the last review's "left
		// alone": the downs brought the shape back without the data). ROLE stands for a role of the test's
		// own.
		{name: "dropped what a role owns", setup: "CREATE ROLE ROLE; CREATE TABLE legacy_log AS SELECT g FROM generate_series(1, 10) g; ALTER TABLE legacy_log OWNER TO ROLE;",
			up: "DROP OWNED BY ROLE;", down: "CREATE TABLE legacy_log (g int);",
			method: "snapshot", why: "5_x.up.sql:1 drops every object role ROLE owns (DROP OWNED), tables included"},
		{name: "dropped a type with CASCADE", setup: "CREATE TYPE mood AS ENUM ('ok', 'sad'); ALTER TABLE orders ADD COLUMN mood mood DEFAULT 'sad';",
			up: "DROP TYPE mood CASCADE;", down: "CREATE TYPE mood AS ENUM ('ok', 'sad');\nALTER TABLE orders ADD COLUMN mood mood DEFAULT 'sad';",
			method: "snapshot", why: "5_x.up.sql:1 drops type mood with CASCADE, and with it column mood of table orders"},
		{name: "dropped a domain with CASCADE, used in an array", setup: "CREATE DOMAIN pct AS int CHECK (VALUE BETWEEN 0 AND 100); ALTER TABLE orders ADD COLUMN p pct[] DEFAULT '{1,2}';",
			up: "DROP DOMAIN pct CASCADE;", down: "CREATE DOMAIN pct AS int CHECK (VALUE BETWEEN 0 AND 100);\nALTER TABLE orders ADD COLUMN p pct[] DEFAULT '{1,2}';",
			method: "snapshot", why: "5_x.up.sql:1 drops domain pct with CASCADE, and with it column p of table orders"},
		{name: "dropped a type a composite type's attribute uses", setup: "CREATE TYPE mood AS ENUM ('ok'); CREATE TYPE entry AS (m mood, n int); ALTER TABLE orders ADD COLUMN e entry DEFAULT ('ok', 1);",
			up: "DROP TYPE mood CASCADE;", down: "CREATE TYPE mood AS ENUM ('ok');\nALTER TYPE entry ADD ATTRIBUTE m mood;",
			method: "snapshot", why: "5_x.up.sql:1 drops type mood with CASCADE, and with it column m of composite type entry"},
		{name: "dropped an extension with CASCADE", setup: "CREATE EXTENSION citext; ALTER TABLE app_settings ADD COLUMN label citext DEFAULT 'x';",
			up: "DROP EXTENSION citext CASCADE;", down: "CREATE EXTENSION citext;\nALTER TABLE app_settings ADD COLUMN label citext DEFAULT 'x';",
			method: "snapshot", why: "5_x.up.sql:1 drops extension citext with CASCADE, and with it column label of table app_settings"},
		{name: "dropped a type no column uses", setup: "CREATE TYPE unused AS ENUM ('a'); CREATE FUNCTION takes_unused(unused) RETURNS int LANGUAGE sql AS 'SELECT 1';",
			up: "DROP TYPE unused CASCADE;", down: "CREATE TYPE unused AS ENUM ('a');\nCREATE FUNCTION takes_unused(unused) RETURNS int LANGUAGE sql AS 'SELECT 1';",
			method: "down"},
		// Renamed tables and columns are judged as what was there before the up (the last review's "left
		// alone").
		{name: "renamed and narrowed column", up: "ALTER TABLE orders RENAME COLUMN total TO amount;\nALTER TABLE orders ALTER COLUMN amount TYPE integer;",
			down:   "ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,2);\nALTER TABLE orders RENAME COLUMN amount TO total;",
			method: "snapshot", why: "5_x.up.sql:2 changes the type of orders.total from numeric(12,2) to integer, which is not a widening"},
		{name: "renamed and widened column", up: "ALTER TABLE orders RENAME COLUMN total TO amount;\nALTER TABLE orders ALTER COLUMN amount TYPE numeric(14,4);",
			down:   "ALTER TABLE orders RENAME COLUMN amount TO total;\nALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);",
			method: "down"},
		{name: "renamed table, dropped column", up: "ALTER TABLE orders RENAME TO purchases;\nALTER TABLE purchases DROP COLUMN note;",
			down:   "ALTER TABLE purchases ADD COLUMN note text;\nALTER TABLE purchases RENAME TO orders;",
			method: "snapshot", why: "5_x.up.sql:2 drops column orders.note"},
		// The functions a DO block calls (the last review's "left alone": only the block's own text was
		// searched, and the rollback ran the downs).
		{name: "DO block calls a function the database has that deletes", setup: "CREATE FUNCTION purge_old() RETURNS void LANGUAGE sql AS $$ DELETE FROM orders WHERE id > 5000 $$;",
			up: "DO $$ BEGIN PERFORM purge_old(); END $$;", down: "SELECT 1;",
			method: "snapshot", why: `5_x.up.sql:1 calls purge_old, whose code (function purge_old()) holds "DELETE FROM"`},
		// Calls are followed from function body to function body, the folder's and the database's (the
		// last review's follow-up: a function that called one that deletes was taken for harmless).
		{name: "DO block calls a function that calls one the database has that deletes",
			setup: "CREATE FUNCTION purge_b() RETURNS void LANGUAGE sql AS $$ DELETE FROM orders WHERE id > 5000 $$;\n" +
				"CREATE FUNCTION purge_a() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM purge_b(); END $$;",
			up: "DO $$ BEGIN PERFORM purge_a(); END $$;", down: "SELECT 1;",
			method: "snapshot", why: `5_x.up.sql:1 calls purge_a, which calls purge_b, whose code (function purge_b()) holds "DELETE FROM"`},
		{name: "up's function calls one the database has that overwrites",
			setup: "CREATE PROCEDURE app_reset() LANGUAGE sql AS $$ UPDATE app_settings SET value = 'reset' $$;",
			up:    "CREATE FUNCTION nightly() RETURNS void LANGUAGE plpgsql AS $$ BEGIN CALL app_reset(); END $$;\nSELECT nightly();", down: "DROP FUNCTION nightly();",
			method: "snapshot", why: `5_x.up.sql:2 calls nightly, which calls app_reset, whose code (function app_reset()) holds "UPDATE app_settings SET"`},
		{name: "DO block calls functions that call each other and only read",
			setup: "CREATE FUNCTION count_a(n int) RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN RETURN CASE WHEN n > 0 THEN count_b(n - 1) ELSE 0 END; END $$;\n" +
				"CREATE FUNCTION count_b(n int) RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) + count_a(n) FROM orders $$;",
			up: "ALTER TABLE orders ADD COLUMN z int;\nDO $$ BEGIN PERFORM count_a(2); END $$;", down: "ALTER TABLE orders DROP COLUMN z;",
			method: "down"},
		{name: "called a function the database has, then replaced it with the folder's",
			setup: "CREATE FUNCTION reset_names() RETURNS void LANGUAGE sql AS $$ UPDATE accounts SET name = 'x' $$;",
			up:    "SELECT reset_names();\nCREATE OR REPLACE FUNCTION reset_names() RETURNS void LANGUAGE sql AS 'SELECT 1';", down: "SELECT 1;",
			method: "snapshot", why: `5_x.up.sql:1 calls reset_names, whose code (function reset_names()) holds "UPDATE accounts SET"`},
		// What counts is whether a schema, type or table was there before the run when the up drops it,
		// not whether the up creates one of its name (the last review's follow-up: DROP ... CASCADE then
		// CREATE was taken for a drop of the up's own).
		{name: "dropped a schema with CASCADE and created it again", setup: "CREATE SCHEMA legacy; CREATE TABLE legacy.t AS SELECT g FROM generate_series(1, 10) g;",
			up: "DROP SCHEMA legacy CASCADE;\nCREATE SCHEMA legacy;\nCREATE TABLE legacy.t (g int);", down: "SELECT 1;",
			method: "snapshot", why: "5_x.up.sql:1 drops schema legacy with CASCADE"},
		{name: "dropped a table and created it again", setup: "CREATE TABLE legacy_log AS SELECT g FROM generate_series(1, 10) g;",
			up: "DROP TABLE legacy_log;\nCREATE TABLE legacy_log (g int);", down: "SELECT 1;",
			method: "snapshot", why: "5_x.up.sql:1 drops table legacy_log"},
		{name: "dropped a schema an earlier migration created, and created it again",
			earlier: [2]string{"CREATE SCHEMA staging;\nCREATE TABLE staging.t AS SELECT 1 AS g;", "DROP SCHEMA staging CASCADE;"},
			up:      "DROP SCHEMA staging CASCADE;\nCREATE SCHEMA staging;", down: "SELECT 1;",
			method: "down"},
		{name: "dropped a type an earlier migration created, and created it again",
			earlier: [2]string{"CREATE TYPE mood AS ENUM ('ok');\nALTER TABLE orders ADD COLUMN mood mood DEFAULT 'ok';", "ALTER TABLE orders DROP COLUMN mood;\nDROP TYPE mood;"},
			up:      "DROP TYPE mood CASCADE;\nCREATE TYPE mood AS ENUM ('ok', 'sad');", down: "DROP TYPE mood;\nCREATE TYPE mood AS ENUM ('ok');\nALTER TABLE orders ADD COLUMN mood mood;",
			method: "down"},
		{name: "DO block calls a function the up creates that overwrites",
			up:     "CREATE FUNCTION reset_names() RETURNS void LANGUAGE plpgsql AS $$ BEGIN UPDATE accounts SET name = 'x'; END $$;\nDO $$ DECLARE n int := 1; BEGIN IF n > 0 THEN PERFORM reset_names(); END IF; END $$;",
			down:   "DROP FUNCTION reset_names();",
			method: "snapshot", why: `5_x.up.sql:2 calls reset_names, whose code (5_x.up.sql:1) holds "UPDATE accounts SET"`},
		{name: "DO block calls a function that only reads", setup: "CREATE FUNCTION count_orders() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM orders';",
			up: "ALTER TABLE orders ADD COLUMN z int;\nDO $$ DECLARE n bigint; BEGIN n := count_orders(); RAISE NOTICE '% orders', n; END $$;", down: "ALTER TABLE orders DROP COLUMN z;",
			method: "down"},
		// Creating a function runs nothing of its BEGIN ATOMIC body (the last session's note: its calls
		// counted as the migration's own, and the rollback restored the snapshot); calling it does.
		{name: "creates a BEGIN ATOMIC function that calls one that deletes",
			setup: "CREATE FUNCTION purge_old() RETURNS void LANGUAGE sql AS $$ DELETE FROM orders WHERE id > 5000 $$;",
			up:    "CREATE FUNCTION nightly() RETURNS void LANGUAGE sql BEGIN ATOMIC SELECT purge_old(); END;", down: "DROP FUNCTION nightly();",
			method: "down"},
		{name: "calls a BEGIN ATOMIC function that calls one that deletes",
			setup: "CREATE FUNCTION purge_old() RETURNS void LANGUAGE sql AS $$ DELETE FROM orders WHERE id > 5000 $$;",
			up:    "CREATE FUNCTION nightly() RETURNS void LANGUAGE sql BEGIN ATOMIC SELECT purge_old(); END;\nSELECT nightly();", down: "DROP FUNCTION nightly();",
			method: "snapshot", why: `5_x.up.sql:2 calls nightly, which calls purge_old, whose code (function purge_old()) holds "DELETE FROM"`},
		// A down that empties a table its up only filled takes the rows that were there before the up too
		// (the last session's note: it counted as undoing the up's rows, and the restore came only after
		// the downs, when the row counts failed).
		{name: "down truncates a table its up filled", up: "INSERT INTO orders (account_id, total) VALUES (1, 1);", down: "TRUNCATE orders;",
			method: "snapshot", why: "the down of 5_x would lose data: 5_x.down.sql:1 empties orders, which neither its up nor an earlier migration of the run created"},
		{name: "down deletes every row of a table its up filled", up: "INSERT INTO orders (account_id, total) VALUES (1, 1);", down: "DELETE FROM orders;",
			method: "snapshot", why: "the down of 5_x would lose data: 5_x.down.sql:1 empties orders"},
		{name: "down deletes the rows its up inserted", up: "INSERT INTO orders (account_id, total) VALUES (1, 1);", down: "DELETE FROM orders WHERE id > 6000;",
			method: "down"},
		{name: "down empties a table an earlier migration created",
			earlier: [2]string{"CREATE TABLE customers (id int);", "DROP TABLE customers;"},
			up:      "INSERT INTO customers VALUES (1);", down: "DELETE FROM customers;",
			method: "down"},
		{name: "down's DO block calls a procedure the database has that deletes",
			setup: "CREATE PROCEDURE app_wipe() LANGUAGE sql AS $$ DELETE FROM app_settings WHERE key <> 'maintenance' $$;",
			up:    "ALTER TABLE orders ADD COLUMN z int;", down: "ALTER TABLE orders DROP COLUMN z;\nDO $$ BEGIN CALL app_wipe(); END $$;",
			method: "snapshot", why: `the down of 5_x would lose data: 5_x.down.sql:2 calls app_wipe, whose code (function app_wipe()) holds "DELETE FROM"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			if strings.Contains(tc.setup, "ROLE ROLE") {
				// Roles belong to the server, which parallel tests share.
				role := "sg_" + tg.value(t, "SELECT left(md5(current_database()), 12)")
				tc.setup = strings.ReplaceAll(tc.setup, "ROLE ROLE", "ROLE "+role)
				tc.setup, tc.up, tc.why = strings.ReplaceAll(tc.setup, "TO ROLE", "TO "+role), strings.ReplaceAll(tc.up, "ROLE", role), strings.ReplaceAll(tc.why, "ROLE", role)
				t.Cleanup(func() {
					if _, err := tg.conn.Exec(context.Background(), "DROP OWNED BY "+role+"; DROP ROLE "+role); err != nil {
						t.Errorf("drop role %s: %v", role, err)
					}
				})
			}
			if tc.setup != "" {
				tg.exec(t, tc.setup)
			}
			before := tg.checksums(t)
			noteBefore := tg.value(t, "SELECT count(note)::text FROM orders")
			files := map[string]string{
				"5_x.up.sql": tc.up, "5_x.down.sql": tc.down,
				"6_fail.up.sql": "SELECT 1 / 0;", "6_fail.down.sql": "SELECT 1;",
			}
			if tc.earlier[0] != "" {
				files["4_e.up.sql"], files["4_e.down.sql"] = tc.earlier[0], tc.earlier[1]
			}
			set := folder(t, files)
			o := tg.options(t, set, "run-destroy")
			if tc.noSnapshot {
				o.Snapshotter = nil
			}
			res, err := Run(t.Context(), o)
			if err == nil {
				t.Fatal("deploy succeeded")
			}
			rb := res.Rollback
			if rb == nil || rb.Method != tc.method || !rb.OK || !strings.Contains(rb.Why, tc.why) {
				t.Fatalf("outcome %s, rollback %+v; want rolled back by %s because %q", res.Outcome, rb, tc.method, tc.why)
			}
			if tc.noSnapshot {
				// The downs bring the schema back, not the data: not "as it was".
				lost := tc.lost
				if lost == "" {
					lost = "drops column orders.note"
				}
				if res.Outcome != OutcomeFailed || !strings.Contains(rb.Lost, lost) ||
					!strings.Contains(rb.Lost, "no snapshot was taken") || !strings.Contains(res.Hint, "not the data") {
					t.Fatalf("outcome %s, rollback %+v, hint %q; want failed naming the lost column", res.Outcome, rb, res.Hint)
				}
				if !strings.Contains(err.Error(), "data is lost") {
					t.Errorf("error %q does not say that data is lost", err)
				}
				if got := tg.value(t, "SELECT count(note)::text FROM orders"); got != "0" || noteBefore == "0" {
					t.Errorf("note values: %s before, %s after", noteBefore, got)
				}
				return
			}
			if res.Outcome != OutcomeRolledBack {
				t.Fatalf("outcome %s, want rolled back", res.Outcome)
			}
			if after := tg.checksums(t); after != before {
				t.Errorf("database differs after rollback:\n%s\n---\n%s", before, after)
			}
			want := "5:rolled-back 6:failed"
			if tc.method == "snapshot" {
				want = "5:restored 6:failed"
			}
			if tc.earlier[0] != "" {
				want = strings.SplitN(strings.Replace(want, "5", "4", 1), " ", 2)[0] + " " + want
			}
			if got := tg.historyOf(t); got != want {
				t.Errorf("history %q, want %q", got, want)
			}
		})
	}
}

// TestDeployUserCheckAfterDownsRestoresSnapshot: a user check failed after the migrations, the downs ran,
// and the check was not run again: the data change the down did not undo stayed, the snapshot unused,
// and the run said "rolled back" (tester A's F4). The checks that passed before the run now run again
// after the downs, and the snapshot is restored when one fails; a check that did not pass before (it
// describes the new schema) is not run again.
func TestDeployUserCheckAfterDownsRestoresSnapshot(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	tg.exec(t, "INSERT INTO app_settings VALUES ('flag', 'ok')")
	before := tg.checksums(t)
	set := folder(t, map[string]string{
		// The UPDATE hides in a DO block, its keyword split: no static analysis sees it, and it changes no
		// row count.
		"5_c.up.sql":   "ALTER TABLE accounts ADD COLUMN c int;\nDO $$ BEGIN EXECUTE 'UPD' || 'ATE app_settings SET value = ' || quote_literal('broken') || ' WHERE key = ' || quote_literal('flag'); END $$;",
		"5_c.down.sql": "ALTER TABLE accounts DROP COLUMN c;",
	})
	o := tg.options(t, set, "run-check")
	o.Config.Verify.Checks = []config.Check{
		{Name: "flag", SQL: "SELECT value FROM app_settings WHERE key = 'flag'", Rows: [][]string{{"ok"}}},
		{Name: "new column", SQL: "SELECT count(c) = 0 FROM accounts WHERE false"},
	}
	res, err := Run(t.Context(), o)
	if err == nil {
		t.Fatal("deploy succeeded")
	}
	if res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "down+snapshot" ||
		!strings.Contains(res.Rollback.Why, `"flag" failed`) {
		t.Fatalf("outcome %s, rollback %+v; want the snapshot restored after the downs", res.Outcome, res.Rollback)
	}
	var rollbackChecks []string
	for _, c := range res.Verify {
		if c.Phase == "rollback" && (c.Name == "flag" || c.Name == "new column") {
			rollbackChecks = append(rollbackChecks, c.Name)
		}
	}
	if got := strings.Join(rollbackChecks, ","); got != "flag,flag" {
		t.Errorf("user checks run after the rollback: %q, want flag after the downs and after the restore", got)
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("database differs after rollback:\n%s\n---\n%s", before, after)
	}
	if got := tg.value(t, "SELECT value FROM app_settings WHERE key = 'flag'"); got != "ok" {
		t.Errorf("flag %q after the rollback, want ok", got)
	}
}

// TestDeployBlocksADestructiveUpItCannotRestore: a migration whose up drops a column, with a down that
// only adds it back, can only be rolled back by the snapshot (see above); a deploy role that could not
// restore it (a table of another role) is blocked before anything changes, as for a migration without a
// down, instead of finding out in the rollback.
func TestDeployBlocksADestructiveUpItCannotRestore(t *testing.T) {
	t.Parallel()
	tg, dep, app := newTargetAsOwner(t)
	before := tg.checksums(t)
	set := folder(t, map[string]string{
		"1_a.up.sql": "ALTER TABLE orders DROP COLUMN note;", "1_a.down.sql": "ALTER TABLE orders ADD COLUMN note text;",
		"2_b.up.sql": "SELECT 1/0;", "2_b.down.sql": "SELECT 1;",
	})
	res, err := Run(t.Context(), tg.options(t, set, "run-own"))
	var b *Blocked
	if !errors.As(err, &b) || res.Outcome != OutcomeBlocked {
		t.Fatalf("err %v, outcome %s; want blocked", err, res.Outcome)
	}
	for _, want := range []string{"the up of 1_a destroys data its down cannot bring back", "drops column orders.note", "owner " + app, "role " + dep, "nothing was changed"} {
		if !strings.Contains(b.Reason, want) {
			t.Errorf("reason %q does not say %q", b.Reason, want)
		}
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("database changed:\n%s\n---\n%s", before, after)
	}
}

// TestDeployRollbackReadsCodeBeforeTheRun: without a pg_dump snapshot (none here, or a platform's), the
// code of the functions the migrations call was read only at the rollback, after the ups had run (the
// last review's follow-up): an up that called reset_names, which overwrites accounts.name, and then put
// another function in its place was judged by the new one, harmless, and the rollback by the downs said
// the database was as it was. The code is read before the first migration, whatever the snapshot.
func TestDeployRollbackReadsCodeBeforeTheRun(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	tg.exec(t, `CREATE FUNCTION reset_names() RETURNS void LANGUAGE sql AS $$ UPDATE accounts SET name = 'x' $$;
		CREATE FUNCTION noop() RETURNS void LANGUAGE sql AS 'SELECT 1';`)
	set := folder(t, map[string]string{
		"5_x.up.sql":    "SELECT reset_names();\nALTER FUNCTION reset_names() RENAME TO reset_names_v1;\nALTER FUNCTION noop() RENAME TO reset_names;",
		"5_x.down.sql":  "ALTER FUNCTION reset_names() RENAME TO noop;\nALTER FUNCTION reset_names_v1() RENAME TO reset_names;",
		"6_fail.up.sql": "SELECT 1 / 0;", "6_fail.down.sql": "SELECT 1;",
	})
	o := tg.options(t, set, "run-code")
	o.Snapshotter = nil
	res, err := Run(t.Context(), o)
	rb := res.Rollback
	want := `5_x.up.sql:1 calls reset_names, whose code (function reset_names()) holds "UPDATE accounts SET"`
	if err == nil || rb == nil || rb.Method != "down" || res.Outcome != OutcomeFailed || !strings.Contains(rb.Lost, want) {
		t.Fatalf("err %v, outcome %s, rollback %+v; want the downs run and the data named lost: %q", err, res.Outcome, rb, want)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM accounts WHERE name = 'x'"); got != "3000" {
		t.Errorf("%s accounts overwritten, want 3000", got)
	}
}
