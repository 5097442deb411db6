package lint

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestDropColumnATriggerReadsMatchesServer: PostgreSQL records no dependency on the columns a PL/pgSQL
// body names, so DROP COLUMN of one that a row trigger's function reads as NEW.col or OLD.col goes
// through, CASCADE or not, and the next write that fires the trigger fails (42703). drop-column is
// dangerous then, naming the trigger and its function, and caution when the body only mentions the
// column in a comment or a string, names another column (a quoted name exactly, an unquoted one in any
// letter case), when the trigger is gone or disabled, or the function replaced without it, before, or
// later in the same transaction. Triggers whose UPDATE OF or WHEN names the column make the drop fail,
// as views do. Each case runs on the server: the drop, then write, which must fail with 42703 exactly
// when breaks says so.
func TestDropColumnATriggerReadsMatchesServer(t *testing.T) {
	const items = "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int);\nINSERT INTO items VALUES (1, 'a', 1);\n"
	fn := func(name, body string) string {
		return "CREATE FUNCTION " + name + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " + body + " END $$;\n"
	}
	const check = "IF NEW.qty < 0 THEN RAISE EXCEPTION 'neg'; END IF; RETURN NEW;"
	const trig = "CREATE TRIGGER items_chk BEFORE INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION items_chk();\n"
	const insert = "INSERT INTO items (id, name) VALUES (2, 'b')"
	tests := []struct {
		name, schema, src string
		fails             bool   // the server refuses src
		write             string // run after src
		breaks            bool   // write fails with 42703
		risk              Risk
		msg               []string // drop-column's message (or suggestion) says each
		not               string   // … and not this
	}{
		{name: "NEW.col in a BEFORE INSERT OR UPDATE trigger",
			schema: items + fn("items_chk", check) + trig, src: "ALTER TABLE items DROP COLUMN qty;",
			write: insert, breaks: true, risk: Dangerous,
			msg: []string{"DROP COLUMN items.qty goes through, but trigger items_chk on items runs items_chk(), whose body names NEW.qty",
				"each INSERT or UPDATE that fires it fails", `record "new" has no field "qty"`,
				"in an earlier step: change items_chk() so that it no longer names qty (CREATE OR REPLACE FUNCTION), or drop trigger items_chk on items; then drop the column"}},
		{name: "CASCADE does not drop the trigger",
			schema: items + fn("items_chk", check) + trig, src: "ALTER TABLE items DROP COLUMN qty CASCADE;",
			write: insert, breaks: true, risk: Dangerous, msg: []string{"goes through, but trigger items_chk on items"}},
		{name: "unquoted in another letter case, spaced and commented",
			schema: items + fn("items_chk", "IF new . /* x */ QTY < 0 THEN RAISE EXCEPTION 'neg'; END IF; RETURN NEW;") + trig, src: "ALTER TABLE items DROP COLUMN qty;",
			write: insert, breaks: true, risk: Dangerous, msg: []string{"whose body names NEW.qty"}},
		{name: "OLD.col in an AFTER DELETE trigger",
			schema: items + fn("items_log", "RAISE NOTICE '%', OLD.qty; RETURN NULL;") +
				"CREATE TRIGGER items_log AFTER DELETE ON items FOR EACH ROW EXECUTE FUNCTION items_log();\n",
			src: "ALTER TABLE items DROP COLUMN qty;", write: "DELETE FROM items", breaks: true, risk: Dangerous,
			msg: []string{"trigger items_log on items runs items_log(), whose body names OLD.qty", "each DELETE that fires it fails", `record "old" has no field "qty"`}},
		{name: "the column only in a comment and a string",
			schema: items + fn("items_chk", "-- NEW.qty is checked elsewhere\nRAISE NOTICE 'NEW.qty'; /* NEW.qty */ RETURN NEW;") + trig,
			src:    "ALTER TABLE items DROP COLUMN qty;", write: insert, risk: Caution, msg: []string{"running code that still reads or writes it fails"}},
		{name: "a quoted name is another column",
			schema: "CREATE TABLE items (id bigint PRIMARY KEY, \"Qty\" int, qty int);\n" + fn("items_chk", `IF NEW."Qty" < 0 THEN RAISE EXCEPTION 'neg'; END IF; RETURN NEW;`) + trig,
			src:    "ALTER TABLE items DROP COLUMN qty;", write: "INSERT INTO items (id) VALUES (2)", risk: Caution, not: "trigger"},
		{name: "the quoted name itself",
			schema: "CREATE TABLE items (id bigint PRIMARY KEY, \"Qty\" int, qty int);\n" + fn("items_chk", `IF NEW."Qty" < 0 THEN RAISE EXCEPTION 'neg'; END IF; RETURN NEW;`) + trig,
			src:    `ALTER TABLE items DROP COLUMN "Qty";`, write: "INSERT INTO items (id) VALUES (2)", breaks: true, risk: Dangerous, msg: []string{"whose body names NEW.Qty"}},
		{name: "another column of the body",
			schema: items + fn("items_chk", check) + trig, src: "ALTER TABLE items DROP COLUMN name;",
			write: "INSERT INTO items (id) VALUES (2)", risk: Caution, not: "trigger"},
		{name: "the trigger dropped earlier",
			schema: items + fn("items_chk", check) + trig + "DROP TRIGGER items_chk ON items;\n", src: "ALTER TABLE items DROP COLUMN qty;",
			write: insert, risk: Caution, not: "trigger"},
		{name: "the function replaced earlier",
			schema: items + fn("items_chk", check) + trig + strings.Replace(fn("items_chk", "RETURN NEW;"), "CREATE", "CREATE OR REPLACE", 1),
			src:    "ALTER TABLE items DROP COLUMN qty;", write: insert, risk: Caution, not: "trigger"},
		{name: "the function replaced later in the transaction",
			schema: items + fn("items_chk", check) + trig,
			src:    "BEGIN;\nALTER TABLE items DROP COLUMN qty;\n" + strings.Replace(fn("items_chk", "RETURN NEW;"), "CREATE", "CREATE OR REPLACE", 1) + "COMMIT;",
			write:  insert, risk: Caution, not: "trigger"},
		{name: "the function replaced later, still naming the column",
			schema: items + fn("items_chk", check) + trig,
			src:    "BEGIN;\nALTER TABLE items DROP COLUMN qty;\n" + strings.Replace(fn("items_chk", "NEW.qty := 0; RETURN NEW;"), "CREATE", "CREATE OR REPLACE", 1) + "COMMIT;",
			write:  insert, breaks: true, risk: Dangerous, msg: []string{"whose body names NEW.qty"}},
		{name: "another column renamed to its name later in the transaction",
			schema: items + "ALTER TABLE items ADD COLUMN stock int;\n" + fn("items_chk", check) + trig,
			src:    "BEGIN;\nALTER TABLE items DROP COLUMN qty;\nALTER TABLE items RENAME COLUMN stock TO qty;\nCOMMIT;",
			write:  insert, risk: Caution, not: "trigger"},
		{name: "the function renamed, the trigger still runs it",
			schema: items + fn("items_chk", check) + trig + "ALTER FUNCTION items_chk() RENAME TO qty_check;\n", src: "ALTER TABLE items DROP COLUMN qty;",
			write: insert, breaks: true, risk: Dangerous, msg: []string{"trigger items_chk on items runs qty_check()"}},
		{name: "the table renamed",
			schema: items + fn("items_chk", check) + trig + "ALTER TABLE items RENAME TO goods;\n", src: "ALTER TABLE goods DROP COLUMN qty;",
			write: "INSERT INTO goods (id) VALUES (2)", breaks: true, risk: Dangerous, msg: []string{"trigger items_chk on goods"}},
		{name: "a disabled trigger",
			schema: items + fn("items_chk", check) + trig + "ALTER TABLE items DISABLE TRIGGER items_chk;\n", src: "ALTER TABLE items DROP COLUMN qty;",
			write: insert, risk: Caution, not: "trigger"},
		{name: "a trigger of the partitioned table",
			schema: "CREATE TABLE ev (id bigint, qty int) PARTITION BY RANGE (id);\nCREATE TABLE ev_0 PARTITION OF ev FOR VALUES FROM (0) TO (100);\n" +
				fn("items_chk", check) + "CREATE TRIGGER ev_chk BEFORE INSERT ON ev FOR EACH ROW EXECUTE FUNCTION items_chk();\n",
			src: "ALTER TABLE ev DROP COLUMN qty;", write: "INSERT INTO ev (id) VALUES (1)", breaks: true, risk: Dangerous,
			msg: []string{"trigger ev_chk on ev runs items_chk()", "each INSERT that fires it fails"}},
		{name: "UPDATE OF the column",
			schema: items + fn("nop", "RETURN NEW;") + "CREATE TRIGGER items_upd BEFORE UPDATE OF qty ON items FOR EACH ROW EXECUTE FUNCTION nop();\n",
			src:    "ALTER TABLE items DROP COLUMN qty;", fails: true, risk: Dangerous,
			msg: []string{"DROP COLUMN items.qty fails: trigger items_upd on items uses it", "drop or replace trigger items_upd on items without the column"}},
		{name: "WHEN names the column, and the body too",
			schema: items + fn("items_chk", check) + "CREATE TRIGGER items_chk BEFORE UPDATE ON items FOR EACH ROW WHEN (NEW.qty IS NOT NULL) EXECUTE FUNCTION items_chk();\n",
			src:    "ALTER TABLE items DROP COLUMN qty;", fails: true, risk: Dangerous,
			msg: []string{"fails: trigger items_chk on items uses it", "without them it would go through, but trigger items_chk on items runs items_chk()"}},
		{name: "a plain function names table.col",
			schema: items + "CREATE FUNCTION total_qty() RETURNS bigint LANGUAGE sql AS $$ SELECT sum(items.qty) FROM items $$;\n",
			src:    "ALTER TABLE items DROP COLUMN qty;", write: "SELECT total_qty()", breaks: true, risk: Caution,
			msg: []string{"running code", "function total_qty() names items.qty in its body, which PostgreSQL does not track"}},
	}
	conn := pgtest.Conn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			inRolledBackTx(t, conn, tt.schema)
			if _, err := conn.Exec(ctx, "SAVEPOINT src"); err != nil {
				t.Fatal(err)
			}
			// The transaction control of src stays the script's: on the server it runs in the test's
			// own transaction.
			src := strings.NewReplacer("BEGIN;\n", "", "COMMIT;", "").Replace(tt.src)
			if _, err := conn.Exec(ctx, src); (err != nil) != tt.fails {
				t.Fatalf("the server refused it: %v (%v), want %v: the case is wrong", err != nil, err, tt.fails)
			}
			if tt.write != "" {
				wantUndefinedColumn(t, conn, tt.write, tt.breaks)
			}
			f := find(AnalyzeScript(script(tt.src+"\n"), true, Config{Schema: tt.schema}), "drop-column")
			if f == nil {
				t.Fatal("no drop-column")
			}
			said := f.Message + "\n" + f.Suggestion
			if f.Risk != tt.risk {
				t.Errorf("drop-column is %s, want %s: %s", f.Risk, tt.risk, said)
			}
			wantSaid(t, "drop-column", said, tt.msg, tt.not)
		})
	}
}

// TestRenameColumnATriggerReadsMatchesServer: PostgreSQL rewrites no PL/pgSQL body when a column is
// renamed, so after RENAME COLUMN of one that a row trigger's function reads as NEW.col or OLD.col the
// next write that fires the trigger fails (42703), on the table and on a partition or inheritance child
// the rename reaches. rename-column names the trigger and its function then, and does not when the body
// only mentions the column in a comment or a string, the trigger is disabled, or a later statement of
// the transaction replaces the function with the new name, drops the trigger or renames the column
// back. What refers to the column by number (UPDATE OF, a BEGIN ATOMIC body) follows the rename and is
// not named. Each case runs on the server: the rename, then write, which must fail with 42703 exactly
// when breaks says so.
func TestRenameColumnATriggerReadsMatchesServer(t *testing.T) {
	const items = "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int);\nINSERT INTO items VALUES (1, 'a', 1);\n"
	fn := func(name, body string) string {
		return "CREATE FUNCTION " + name + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " + body + " END $$;\n"
	}
	replace := func(name, body string) string {
		return strings.Replace(fn(name, body), "CREATE", "CREATE OR REPLACE", 1)
	}
	const check = "IF NEW.qty < 0 THEN RAISE EXCEPTION 'neg'; END IF; RETURN NEW;"
	const trig = "CREATE TRIGGER items_chk BEFORE INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION items_chk();\n"
	const rename = "ALTER TABLE items RENAME COLUMN qty TO quantity;\n"
	const insert = "INSERT INTO items (id, name) VALUES (2, 'b')"
	const generic = "RENAME COLUMN items.qty TO quantity breaks running code that uses the old name"
	tests := []struct {
		name, schema, src string
		write             string // run after src
		breaks            bool   // write fails with 42703
		// called says write calls a function whose body names table.col, which the finding mentions
		// without claiming it breaks; otherwise it says a trigger breaks exactly when breaks.
		called bool
		msg    []string
		not    string
	}{
		{name: "NEW.col in a BEFORE INSERT OR UPDATE trigger",
			schema: items + fn("items_chk", check) + trig, src: rename, write: insert, breaks: true,
			msg: []string{generic + ", and trigger items_chk on items runs items_chk(), whose body names NEW.qty",
				"each INSERT or UPDATE that fires it fails", `record "new" has no field "qty"`,
				"in the transaction of the rename, change items_chk() to name quantity where it names qty (CREATE OR REPLACE FUNCTION), or drop trigger items_chk on items; for running code: new column"}},
		{name: "an UPDATE fails too",
			schema: items + fn("items_chk", check) + trig, src: rename, write: "UPDATE items SET name = 'c'", breaks: true,
			msg: []string{"trigger items_chk on items runs items_chk()"}},
		{name: "OLD.col in an AFTER DELETE trigger",
			schema: items + fn("items_log", "RAISE NOTICE '%', OLD.qty; RETURN NULL;") +
				"CREATE TRIGGER items_log AFTER DELETE ON items FOR EACH ROW EXECUTE FUNCTION items_log();\n",
			src: rename, write: "DELETE FROM items", breaks: true,
			msg: []string{"trigger items_log on items runs items_log(), whose body names OLD.qty", "each DELETE that fires it fails", `record "old" has no field "qty"`}},
		{name: "the column only in a comment and a string",
			schema: items + fn("items_chk", "-- NEW.qty is checked elsewhere\nRAISE NOTICE 'NEW.qty'; /* NEW.qty */ RETURN NEW;") + trig,
			src:    rename, write: insert, msg: []string{generic}, not: "trigger"},
		{name: "another column renamed",
			schema: items + fn("items_chk", check) + trig, src: "ALTER TABLE items RENAME COLUMN name TO label;",
			write: "INSERT INTO items (id) VALUES (2)", not: "trigger"},
		{name: "a disabled trigger",
			schema: items + fn("items_chk", check) + trig + "ALTER TABLE items DISABLE TRIGGER items_chk;\n", src: rename,
			write: insert, msg: []string{generic}, not: "trigger"},
		{name: "the function replaced with the new name later in the transaction",
			schema: items + fn("items_chk", check) + trig,
			src:    "BEGIN;\n" + rename + replace("items_chk", "IF NEW.quantity < 0 THEN RAISE EXCEPTION 'neg'; END IF; RETURN NEW;") + "COMMIT;",
			write:  insert, msg: []string{generic}, not: "trigger"},
		{name: "the function replaced earlier in the transaction",
			schema: items + fn("items_chk", check) + trig,
			src:    "BEGIN;\n" + replace("items_chk", "IF NEW.quantity < 0 THEN RAISE EXCEPTION 'neg'; END IF; RETURN NEW;") + rename + "COMMIT;",
			write:  insert, msg: []string{generic}, not: "trigger"},
		{name: "the function replaced later, still naming the old name",
			schema: items + fn("items_chk", check) + trig,
			src:    "BEGIN;\n" + rename + replace("items_chk", "NEW.qty := 0; RETURN NEW;") + "COMMIT;",
			write:  insert, breaks: true, msg: []string{"whose body names NEW.qty"}},
		{name: "the trigger dropped later in the transaction",
			schema: items + fn("items_chk", check) + trig,
			src:    "BEGIN;\n" + rename + "DROP TRIGGER items_chk ON items;\nCOMMIT;",
			write:  insert, msg: []string{generic}, not: "trigger"},
		{name: "the column renamed back later in the transaction",
			schema: items + fn("items_chk", check) + trig,
			src:    "BEGIN;\n" + rename + "ALTER TABLE items RENAME COLUMN quantity TO qty;\nCOMMIT;",
			write:  insert, msg: []string{generic}, not: "trigger"},
		{name: "a trigger of a partition",
			schema: "CREATE TABLE ev (id bigint, qty int) PARTITION BY RANGE (id);\nCREATE TABLE ev_0 PARTITION OF ev FOR VALUES FROM (0) TO (100);\n" +
				fn("ev_chk", check) + "CREATE TRIGGER ev_chk BEFORE INSERT ON ev_0 FOR EACH ROW EXECUTE FUNCTION ev_chk();\n",
			src: "ALTER TABLE ev RENAME COLUMN qty TO quantity;", write: "INSERT INTO ev (id) VALUES (1)", breaks: true,
			msg: []string{"trigger ev_chk on ev_0 runs ev_chk()", "each INSERT that fires it fails"}},
		{name: "a trigger of an inheritance child",
			schema: items + "CREATE TABLE items_old () INHERITS (items);\n" + fn("items_chk", check) +
				"CREATE TRIGGER old_chk BEFORE INSERT ON items_old FOR EACH ROW EXECUTE FUNCTION items_chk();\n",
			src: rename, write: "INSERT INTO items_old (id) VALUES (7)", breaks: true,
			msg: []string{"trigger old_chk on items_old runs items_chk()"}},
		{name: "UPDATE OF the column follows the rename",
			schema: items + fn("nop", "RETURN NEW;") + "CREATE TRIGGER items_upd BEFORE UPDATE OF qty ON items FOR EACH ROW EXECUTE FUNCTION nop();\n",
			src:    rename, write: "UPDATE items SET quantity = 2", msg: []string{generic}, not: "trigger"},
		{name: "a BEGIN ATOMIC body follows the rename",
			schema: items + "CREATE FUNCTION total_qty() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT sum(items.qty) FROM items; END;\n",
			src:    rename, write: "SELECT total_qty()", msg: []string{generic}, not: "function"},
		{name: "a plain function names table.col",
			schema: items + "CREATE FUNCTION total_qty() RETURNS bigint LANGUAGE sql AS $$ SELECT sum(items.qty) FROM items $$;\n",
			src:    rename, write: "SELECT total_qty()", breaks: true, called: true,
			msg: []string{generic + "; function total_qty() names items.qty in its body, which PostgreSQL does not track: if that is this column, calling the function fails after the rename"}},
	}
	conn := pgtest.Conn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			inRolledBackTx(t, conn, tt.schema)
			src := strings.NewReplacer("BEGIN;\n", "", "COMMIT;", "").Replace(tt.src)
			if _, err := conn.Exec(ctx, src); err != nil {
				t.Fatalf("the server refused it: %v: the case is wrong", err)
			}
			wantUndefinedColumn(t, conn, tt.write, tt.breaks)
			f := find(AnalyzeScript(script(tt.src+"\n"), true, Config{Schema: tt.schema}), "rename-column")
			if f == nil {
				t.Fatal("no rename-column")
			}
			said := f.Message + "\n" + f.Suggestion
			if claims := strings.Contains(f.Message, ", whose body names "); claims != (tt.breaks && !tt.called) {
				t.Errorf("rename-column says a trigger breaks: %v, the server: %v: %s", claims, tt.breaks && !tt.called, said)
			}
			if f.Risk != Dangerous {
				t.Errorf("rename-column is %s, want dangerous: %s", f.Risk, said)
			}
			wantSaid(t, "rename-column", said, tt.msg, tt.not)
		})
	}
}

// TestDropColumnAFunctionBodyUsesMatchesServer: PostgreSQL 14 and later parse a LANGUAGE sql function's
// BEGIN ATOMIC or RETURN body when it is created, and record a dependency on each column it uses (read in
// a query, set by INSERT or UPDATE, a field of a parameter of the table's row type): DROP COLUMN of one
// fails without CASCADE, and CASCADE drops the function. drop-column is dangerous then, naming each
// function the server names (the error's DETAIL), and with CASCADE names those the server drops; it
// stays caution for a body that uses other columns, a count(*), or a body written as a string, which
// PostgreSQL does not parse. Each case runs on the server first.
func TestDropColumnAFunctionBodyUsesMatchesServer(t *testing.T) {
	const items = "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int);\nINSERT INTO items VALUES (1, 'a', 1);\n"
	const sum = "CREATE FUNCTION f4() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT sum(qty) FROM items; END;\n"
	const drop = "ALTER TABLE items DROP COLUMN qty;"
	tests := []struct {
		name, schema, src string
		fails             bool // the server refuses src: drop-column must name the functions it names
		not               string
	}{
		{name: "BEGIN ATOMIC reads it", schema: items + sum, src: drop, fails: true},
		{name: "RETURN a field of a row-type parameter",
			schema: items + "CREATE FUNCTION f5(i items) RETURNS int LANGUAGE sql RETURN i.qty;\n", src: drop, fails: true},
		{name: "RETURN (param).field",
			schema: items + "CREATE FUNCTION f5(i items) RETURNS int LANGUAGE sql RETURN (i).qty;\n", src: drop, fails: true},
		{name: "RETURN $1.field",
			schema: items + "CREATE FUNCTION f5(items) RETURNS int LANGUAGE sql RETURN $1.qty;\n", src: drop, fails: true},
		{name: "RETURN a subquery",
			schema: items + "CREATE FUNCTION f6() RETURNS bigint LANGUAGE sql RETURN (SELECT sum(qty) FROM items);\n", src: drop, fails: true},
		{name: "UPDATE … SET the column",
			schema: items + "CREATE FUNCTION f9(n int) RETURNS int LANGUAGE sql BEGIN ATOMIC UPDATE items SET qty = n; SELECT 1; END;\n", src: drop, fails: true},
		{name: "INSERT's column list",
			schema: items + "CREATE FUNCTION f11() RETURNS int LANGUAGE sql BEGIN ATOMIC INSERT INTO items (id, qty) VALUES (5, 1); SELECT 1; END;\n", src: drop, fails: true},
		{name: "ON CONFLICT DO UPDATE SET the column",
			schema: items + "CREATE FUNCTION f12() RETURNS int LANGUAGE sql BEGIN ATOMIC INSERT INTO items (id) VALUES (5) ON CONFLICT (id) DO UPDATE SET qty = 0; SELECT 1; END;\n", src: drop, fails: true},
		{name: "a parameter of the column's name is not the column",
			schema: items + "CREATE FUNCTION f13(i items) RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM items i WHERE i.name = 'a'; END;\n",
			src:    drop, not: "function"},
		{name: "count(*)",
			schema: items + "CREATE FUNCTION f7() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM items; END;\n", src: drop, not: "function"},
		{name: "another column",
			schema: items + "CREATE FUNCTION f8() RETURNS text LANGUAGE sql BEGIN ATOMIC SELECT max(name) FROM items; END;\n", src: drop, not: "function"},
		{name: "a body written as a string",
			schema: items + "CREATE FUNCTION f4() RETURNS bigint LANGUAGE sql AS $$ SELECT sum(qty) FROM items $$;\n", src: drop, not: "function"},
		{name: "CASCADE", schema: items + sum + "CREATE FUNCTION f5(i items) RETURNS int LANGUAGE sql RETURN i.qty;\n",
			src: "ALTER TABLE items DROP COLUMN qty CASCADE;"},
		{name: "the function dropped earlier", schema: items + sum + "DROP FUNCTION f4();\n", src: drop, not: "function"},
		{name: "the function replaced by a string body earlier",
			schema: items + sum + "CREATE OR REPLACE FUNCTION f4() RETURNS bigint LANGUAGE sql AS $$ SELECT sum(qty) FROM items $$;\n", src: drop, not: "function"},
		{name: "an earlier CASCADE dropped it",
			schema: items + sum + "ALTER TABLE items DROP COLUMN qty CASCADE;\nALTER TABLE items ADD COLUMN qty int;\n", src: drop, not: "function"},
		{name: "the function renamed", schema: items + sum + "ALTER FUNCTION f4() RENAME TO f14;\n", src: drop, fails: true},
		{name: "the table renamed", schema: items + sum + "ALTER TABLE items RENAME TO goods;\n", src: "ALTER TABLE goods DROP COLUMN qty;", fails: true},
		{name: "the column renamed", schema: items + sum + "ALTER TABLE items RENAME COLUMN qty TO quantity;\n", src: "ALTER TABLE items DROP COLUMN quantity;", fails: true},
		{name: "a view and a function",
			schema: items + sum + "CREATE VIEW v AS SELECT id, qty FROM items;\n", src: drop, fails: true},
		{name: "a partition's column",
			schema: "CREATE TABLE ev (id bigint, qty int) PARTITION BY RANGE (id);\nCREATE TABLE ev_0 (id bigint, qty int);\nALTER TABLE ev ATTACH PARTITION ev_0 FOR VALUES FROM (0) TO (100);\n" +
				"CREATE FUNCTION f15() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT sum(qty) FROM ev_0; END;\n",
			src: "ALTER TABLE ev DROP COLUMN qty;", fails: true},
	}
	funcName := regexp.MustCompile(`(?:function|view) (\w+)`)
	conn := pgtest.Conn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			inRolledBackTx(t, conn, tt.schema)
			var before []string
			if err := conn.QueryRow(ctx, "SELECT coalesce(array_agg(proname::text ORDER BY proname), '{}') FROM pg_proc WHERE pronamespace = 'public'::regnamespace").Scan(&before); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, "SAVEPOINT src"); err != nil {
				t.Fatal(err)
			}
			// What the server names: the objects of the error's DETAIL, or the functions CASCADE dropped.
			var named []string
			_, err := conn.Exec(ctx, tt.src)
			var pe *pgconn.PgError
			switch {
			case err == nil && tt.fails, err != nil && !(tt.fails && errors.As(err, &pe) && pe.Code == "2BP01"):
				t.Fatalf("the server: %v, want it to refuse the drop (2BP01): %v: the case is wrong", err, tt.fails)
			case err != nil:
				for _, m := range funcName.FindAllStringSubmatch(pe.Detail, -1) {
					named = append(named, m[0])
				}
			default:
				var after []string
				if err := conn.QueryRow(ctx, "SELECT coalesce(array_agg(proname::text ORDER BY proname), '{}') FROM pg_proc WHERE pronamespace = 'public'::regnamespace").Scan(&after); err != nil {
					t.Fatal(err)
				}
				for _, p := range before {
					if !slices.Contains(after, p) {
						named = append(named, "function "+p)
					}
				}
			}
			f := find(AnalyzeScript(script(tt.src+"\n"), true, Config{Schema: tt.schema}), "drop-column")
			if f == nil {
				t.Fatal("no drop-column")
			}
			said := f.Message + "\n" + f.Suggestion
			if want := map[bool]Risk{true: Dangerous, false: Caution}[tt.fails]; f.Risk != want {
				t.Errorf("drop-column is %s, want %s (the server refuses it: %v): %s", f.Risk, want, tt.fails, said)
			}
			if tt.fails && !strings.Contains(f.Message, "fails: ") {
				t.Errorf("drop-column says\n%s\nwant it to say the drop fails", said)
			}
			if !tt.fails && len(named) > 0 && !strings.Contains(f.Message, "; CASCADE drops ") {
				t.Errorf("drop-column says\n%s\nwant it to say what CASCADE drops: %v", said, named)
			}
			for _, n := range named {
				if !strings.Contains(f.Message, n) {
					t.Errorf("drop-column says\n%s\nwant it to name %s, as the server does", said, n)
				}
			}
			wantSaid(t, "drop-column", said, nil, tt.not)
		})
	}
	// PostgreSQL 13 and earlier refuse a BEGIN ATOMIC or RETURN body: a function of the history that has
	// one was not made there, and is not named.
	if f := find(AnalyzeScript(script(drop+"\n"), true, Config{Schema: items + sum, PGVersion: 13}), "drop-column"); f == nil || f.Risk != Caution || strings.Contains(f.Message, "function") {
		t.Errorf("with PostgreSQL 13, drop-column is %+v, want caution, naming no function", f)
	}
}

// wantUndefinedColumn runs write on conn, which must fail with 42703 (undefined column) when breaks says
// so and succeed otherwise: a case whose server disagrees is wrong, not lint.
func wantUndefinedColumn(t *testing.T, conn *pgx.Conn, write string, breaks bool) {
	t.Helper()
	_, err := conn.Exec(t.Context(), write)
	var pe *pgconn.PgError
	if broke := errors.As(err, &pe) && pe.Code == "42703"; broke != breaks || (err != nil && !broke) {
		t.Fatalf("%s after it: %v, want it to fail with 42703: %v: the case is wrong", write, err, breaks)
	}
}

// wantSaid checks that a finding of rule, whose message and suggestion are said, says each of msg and
// not not.
func wantSaid(t *testing.T, rule, said string, msg []string, not string) {
	t.Helper()
	for _, m := range msg {
		if !strings.Contains(said, m) {
			t.Errorf("%s says\n%s\nwant it to say %q", rule, said, m)
		}
	}
	if not != "" && strings.Contains(said, not) {
		t.Errorf("%s says\n%s\nwant it not to say %q", rule, said, not)
	}
}
