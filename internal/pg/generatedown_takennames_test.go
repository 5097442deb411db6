package pg_test

import (
	"context"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestGenerateDownRenamesOntoTakenNames proves the downs of renames whose old name the up gave to
// another object: one it created (the table renamed aside and created anew, a column, an index, a
// constraint, a sequence, a view, a type, a function), or one it renamed too (a chain, a cycle of two
// or three: columns, tables, enum values). The down moves the new object out of the way and drops it, and renames the
// old one back: the round trip is exact, and identity says it is the object from before the up, not a
// copy under its name: its OID (which the query reads) and its rows are those before the up. Before,
// the down dropped the renamed object (users_old with its rows) and kept the new one, or did nothing
// for a cycle, and the catalogs alone called that right.
func TestGenerateDownRenamesOntoTakenNames(t *testing.T) {
	tests := []struct {
		name, setup, up string
		// identity is a query whose text result must read the same before the up and after the down:
		// the OIDs and rows of the objects under their names.
		identity string
	}{
		{name: "table renamed aside and created anew", setup: `CREATE TABLE users (id int PRIMARY KEY, name text);
			INSERT INTO users VALUES (1, 'Ada'), (2, 'Bob')`,
			up: `ALTER TABLE users RENAME TO users_old; ALTER TABLE users_old RENAME CONSTRAINT users_pkey TO users_old_pkey;
			CREATE TABLE users (id int PRIMARY KEY, name text)`,
			identity: `SELECT concat_ws(' ', to_regclass('users')::oid, (SELECT oid FROM pg_constraint WHERE conname = 'users_pkey'),
			(SELECT string_agg(id || name, ',' ORDER BY id) FROM users))`},
		{name: "table renamed aside and copied with a view and a key on the copy", setup: `CREATE TABLE users (id int PRIMARY KEY, name text);
			INSERT INTO users VALUES (1, 'Ada'), (2, 'Bob'); CREATE VIEW names AS SELECT name FROM users`,
			up: `ALTER TABLE users RENAME TO users_old; CREATE TABLE users (LIKE users_old INCLUDING ALL);
			INSERT INTO users SELECT * FROM users_old WHERE id = 1; CREATE OR REPLACE VIEW names AS SELECT name FROM users;
			CREATE TABLE orders (user_id int REFERENCES users)`,
			identity: `SELECT concat_ws(' ', to_regclass('users')::oid, (SELECT string_agg(id || name, ',' ORDER BY id) FROM users), (SELECT count(*) FROM names))`},
		{name: "column renamed aside and added anew", setup: `CREATE TABLE users (id int PRIMARY KEY, first text, last text, name text);
			INSERT INTO users VALUES (1, 'Ada', 'Lovelace', 'Ada L'); CREATE INDEX users_name ON users (name)`,
			up:       `ALTER TABLE users RENAME COLUMN name TO legacy_name; ALTER TABLE users ADD COLUMN name text`,
			identity: `SELECT concat_ws(' ', (SELECT string_agg(name, ',') FROM users), to_regclass('users_name')::oid)`},
		{name: "columns swapped", setup: `CREATE TABLE users (id int PRIMARY KEY, first text, last text, name text);
			INSERT INTO users VALUES (1, 'Ada', 'Lovelace', 'Ada L'); CREATE INDEX users_first ON users (first)`,
			up: `ALTER TABLE users RENAME COLUMN first TO tmp; ALTER TABLE users RENAME COLUMN last TO first;
			ALTER TABLE users RENAME COLUMN tmp TO last`,
			identity: `SELECT concat_ws(' ', (SELECT string_agg(first || '/' || last, ',') FROM users), to_regclass('users_first')::oid)`},
		{name: "columns in a cycle of three", setup: `CREATE TABLE t (id int, a text, b text, c text); INSERT INTO t VALUES (1, 'x', 'y', 'z')`,
			up:       `ALTER TABLE t RENAME COLUMN a TO x; ALTER TABLE t RENAME COLUMN c TO a; ALTER TABLE t RENAME COLUMN b TO c; ALTER TABLE t RENAME COLUMN x TO b`,
			identity: `SELECT concat_ws(' ', (SELECT string_agg(a || b || c, ',') FROM t))`},
		{name: "tables in a cycle of three", setup: `CREATE TABLE a (v text); CREATE TABLE b (v text); CREATE TABLE c (v text);
			INSERT INTO a VALUES ('a'); INSERT INTO b VALUES ('b'); INSERT INTO c VALUES ('c'); CREATE VIEW abc AS SELECT a.v || b.v || c.v AS v FROM a, b, c`,
			up:       `ALTER TABLE a RENAME TO x; ALTER TABLE c RENAME TO a; ALTER TABLE b RENAME TO c; ALTER TABLE x RENAME TO b`,
			identity: `SELECT concat_ws(' ', to_regclass('a')::oid, (SELECT v FROM a), to_regclass('b')::oid, (SELECT v FROM b), to_regclass('c')::oid, (SELECT v FROM c), (SELECT v FROM abc))`},
		{name: "tables renamed along a chain", setup: `CREATE TABLE users (v text); CREATE TABLE users_new (v text);
			INSERT INTO users VALUES ('old'); INSERT INTO users_new VALUES ('new')`,
			up:       `ALTER TABLE users RENAME TO users_old; ALTER TABLE users_new RENAME TO users`,
			identity: `SELECT concat_ws(' ', to_regclass('users')::oid, (SELECT v FROM users), to_regclass('users_new')::oid)`},
		{name: "index name reused", setup: `CREATE TABLE t (id int, n text, m text); CREATE INDEX t_n ON t (n)`,
			up:       `ALTER INDEX t_n RENAME TO t_n_old; CREATE INDEX t_n ON t (m)`,
			identity: `SELECT concat_ws(' ', to_regclass('t_n')::oid)`},
		{name: "constraint names reused", setup: `CREATE TABLE t (id int CONSTRAINT t_key PRIMARY KEY, n int CONSTRAINT t_pos CHECK (n > 0))`,
			up: `ALTER TABLE t RENAME CONSTRAINT t_pos TO t_pos_old; ALTER TABLE t ADD CONSTRAINT t_pos CHECK (n > 1);
			ALTER TABLE t RENAME CONSTRAINT t_key TO t_key_old; CREATE UNIQUE INDEX t_key ON t (n)`,
			identity: `SELECT concat_ws(' ', (SELECT string_agg(conname || oid, ',' ORDER BY conname) FROM pg_constraint WHERE conrelid = 't'::regclass), to_regclass('t_key')::oid)`},
		{name: "sequence and view names reused", setup: `CREATE SEQUENCE s START 5; SELECT nextval('s'); CREATE VIEW v AS SELECT 1 AS one`,
			up:       `ALTER SEQUENCE s RENAME TO s_old; CREATE SEQUENCE s; ALTER VIEW v RENAME TO v_old; CREATE VIEW v AS SELECT 2 AS two`,
			identity: `SELECT concat_ws(' ', to_regclass('s')::oid, to_regclass('v')::oid)`},
		{name: "type name reused", setup: `CREATE TYPE mood AS ENUM ('sad', 'ok'); CREATE TABLE t (m mood);
			INSERT INTO t VALUES ('sad'), ('ok')`,
			up: `ALTER TYPE mood RENAME VALUE 'sad' TO 'down'; ALTER TYPE mood RENAME TO mood_old; CREATE TYPE mood AS ENUM ('x');
			CREATE TABLE t2 (m mood)`,
			identity: `SELECT concat_ws(' ', to_regtype('mood')::oid, (SELECT string_agg(m::text, ',' ORDER BY m) FROM t),
			(SELECT string_agg(enumlabel || oid, ',' ORDER BY oid) FROM pg_enum WHERE enumtypid = to_regtype('mood')))`},
		{name: "enum values swapped", setup: `CREATE TYPE mood AS ENUM ('sad', 'ok'); CREATE TABLE t (m mood); INSERT INTO t VALUES ('sad')`,
			up:       `ALTER TYPE mood RENAME VALUE 'sad' TO 'x'; ALTER TYPE mood RENAME VALUE 'ok' TO 'sad'; ALTER TYPE mood RENAME VALUE 'x' TO 'ok'`,
			identity: `SELECT concat_ws(' ', (SELECT string_agg(m::text, ',') FROM t), (SELECT string_agg(enumlabel || oid, ',' ORDER BY oid) FROM pg_enum WHERE enumtypid = 'mood'::regtype))`},
		{name: "function name reused", setup: `CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'SELECT a'`,
			up:       `ALTER FUNCTION f(int) RENAME TO f_old; CREATE FUNCTION f(b int) RETURNS int LANGUAGE sql AS 'SELECT b + 1'`,
			identity: `SELECT concat_ws(' ', to_regprocedure('f(int)')::oid, (SELECT prosrc FROM pg_proc WHERE oid = to_regprocedure('f(int)')))`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := pgtest.Conn(t)
			exec(t, conn, tc.setup)
			before := queryText(t, conn, tc.identity)
			r := runRoundTrip(t, conn, tc.up)
			t.Logf("generated down:\n%s", r.down.SQL)
			if !r.exact() {
				t.Fatalf("round trip not exact:\ndown error: %v\nre-up error: %v\nafter down: %q\nafter re-up: %q",
					r.downErr, r.reUpErr, r.downProblems, r.reUpProblems)
			}
			if r.down.DataLoss || !r.down.Reversible() {
				t.Errorf("DataLoss %v, Reversible %v, warnings %q: want a lossless down", r.down.DataLoss, r.down.Reversible(), r.down.Warnings)
			}
			// runRoundTrip leaves the database after the re-up: take it down once more and read the
			// objects under their names.
			if err := applyDown(context.Background(), conn, r.down); err != nil {
				t.Fatalf("down again: %v", err)
			}
			if got := queryText(t, conn, tc.identity); got != before {
				t.Errorf("after the down the objects read %q, before the up %q: the down kept another object under the name", got, before)
			}
			if !strings.Contains(r.down.SQL, " RENAME ") {
				t.Errorf("the down renames nothing back")
			}
		})
	}
}
