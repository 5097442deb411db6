package pg_test

import (
	"slices"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/pg"
)

// schemaSetup is a schema whose relations a migration renames without locking them: a table with its
// key and an index, a view, a sequence, an enum type, a composite type and a function.
const schemaSetup = `
CREATE SCHEMA a;
CREATE TABLE a.t (id int PRIMARY KEY, n int);
CREATE INDEX t_n ON a.t (n);
CREATE VIEW a.v AS SELECT id FROM a.t;
CREATE SEQUENCE a.s;
CREATE TYPE a.e AS ENUM ('x', 'y');
CREATE TYPE a.c AS (x int);
CREATE FUNCTION a.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE TABLE a.u (id int PRIMARY KEY);
CREATE INDEX u_id ON a.u (id);
CREATE TABLE a.w (id serial PRIMARY KEY, n int);
CREATE INDEX w_n ON a.w (n);
CREATE SCHEMA other;
`

// TestTraceSchemaRenameMatchesFullRead: statements that change the qualified name of relations they
// lock nothing on (a schema renamed, by itself, in a DO block, twice, under a savepoint rolled back; a
// table moved to another schema, which takes its indexes along) leave the incremental read's state
// what a read of every relation gives (Tracer.Verify), and the statements after them name those
// relations by their new names. The incremental read kept a.t_pkey for b.t_pkey: a schema rename
// moves no pg_class row and locks no relation, and SET SCHEMA locks the table, not its indexes. A
// schema's owner or privileges changed, a type renamed, rename nothing the trace reads (they passed
// before too).
func TestTraceSchemaRenameMatchesFullRead(t *testing.T) {
	for _, tc := range []struct{ name, sql, lock, mode string }{
		{"rename", `ALTER SCHEMA a RENAME TO b;
ALTER INDEX b.t_pkey SET (fillfactor = 80);
ALTER TABLE b.t ADD COLUMN m int;
`, "b.t_pkey", "ShareUpdateExclusiveLock"},
		{"rename in a DO block", `DO $$ BEGIN EXECUTE 'ALTER SCHEMA a RENAME TO b'; END $$;
ALTER INDEX b.t_n SET (fillfactor = 80);
`, "b.t_n", "ShareUpdateExclusiveLock"},
		{"rename rolled back", `SAVEPOINT p;
ALTER SCHEMA a RENAME TO b;
SELECT 1;
ROLLBACK TO SAVEPOINT p;
ALTER INDEX a.t_pkey SET (fillfactor = 80);
`, "a.t_pkey", "ShareUpdateExclusiveLock"},
		{"rename twice", `ALTER SCHEMA a RENAME TO b;
ALTER SCHEMA b RENAME TO c;
ALTER INDEX c.u_id SET (fillfactor = 80);
`, "c.u_id", "ShareUpdateExclusiveLock"},
		{"owner and grant", `CREATE ROLE schemagate_trace_owner;
ALTER SCHEMA a OWNER TO schemagate_trace_owner;
GRANT USAGE ON SCHEMA a TO PUBLIC;
ALTER INDEX a.t_n SET (fillfactor = 80);
`, "a.t_n", "ShareUpdateExclusiveLock"},
		{"set schema", `CREATE SCHEMA b;
ALTER TABLE a.t SET SCHEMA b;
ALTER INDEX b.t_pkey SET (fillfactor = 80);
`, "b.t_pkey", "ShareUpdateExclusiveLock"},
		{"set schema into a schema that was there", `ALTER TABLE a.w SET SCHEMA other;
ALTER INDEX other.w_n SET (fillfactor = 80);
`, "other.w_n", "ShareUpdateExclusiveLock"},
		{"type renamed", `ALTER TYPE a.e RENAME TO e2;
ALTER TYPE a.c RENAME TO c2;
ALTER TYPE a.e2 RENAME VALUE 'x' TO 'z';
ALTER INDEX a.t_n SET (fillfactor = 80);
`, "a.t_n", "ShareUpdateExclusiveLock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := traceWith(t, schemaSetup, tc.sql, func(tr *pg.Tracer) { tr.Verify = true })
			if !slices.ContainsFunc(tr.Evidence, func(ev lint.Evidence) bool { return hasLock(ev, tc.lock, tc.mode) }) {
				t.Fatalf("want %s on %s, got %+v", tc.mode, tc.lock, tr.Evidence)
			}
		})
	}
}
