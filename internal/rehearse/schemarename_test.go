package rehearse_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestSchemaRenameTraced: a migration that renames a schema, then drops a table of it by its new name
// in a DO block (which no rule reads: the trace's drop is the finding), is rehearsed with the lock
// trace on (verified against reads of every relation, as the test suites run it); the finding names
// the table b.t, and the trace the key b.t_pkey it took with it. The trace's incremental read kept the
// relations of the renamed schema under their old names (a schema rename locks none of them): the
// verify mode stopped the rehearsal at "incremental a.… full read b.…", and without it the drop was
// reported as a.t's, with a.t_pkey.
func TestSchemaRenameTraced(t *testing.T) {
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_init.up.sql": `CREATE SCHEMA a;
CREATE TABLE a.t (id int PRIMARY KEY, n int);
CREATE INDEX t_n ON a.t (n);
CREATE VIEW a.v AS SELECT id, n FROM a.t;
CREATE SEQUENCE a.s;
CREATE TYPE a.e AS ENUM ('x', 'y');
CREATE FUNCTION a.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
`,
		"1_init.down.sql":   "DROP SCHEMA a CASCADE;\n",
		"2_rename.up.sql":   "ALTER SCHEMA a RENAME TO b;\nDO $$ BEGIN EXECUTE 'DROP TABLE b.t CASCADE'; END $$;\n",
		"2_rename.down.sql": "ALTER SCHEMA b RENAME TO a;\nCREATE TABLE a.t (id int PRIMARY KEY, n int);\nCREATE INDEX t_n ON a.t (n);\nCREATE VIEW a.v AS SELECT id, n FROM a.t;\n",
	})
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Migrations[1]
	if m.Status != report.StatusApplied || m.Error != nil {
		t.Fatalf("%s: %s %+v, want applied", m.Version, m.Status, m.Error)
	}
	got := findingsAt(m, 2)
	if !slices.ContainsFunc(got, func(f string) bool { return strings.Contains(f, "drop table b.t,") }) {
		t.Errorf("findings at line 2 %q, want one saying the statement dropped table b.t", got)
	}
	var locks []report.Lock
	for _, st := range m.Trace {
		if st.Line == 2 {
			locks = append(locks, st.Locks...)
		}
	}
	if !slices.ContainsFunc(locks, func(l report.Lock) bool { return l.Relation == "b.t_pkey" && l.Dropped }) ||
		slices.ContainsFunc(locks, func(l report.Lock) bool { return strings.HasPrefix(l.Relation, "a.") }) {
		t.Errorf("trace of line 2: %+v, want b.t_pkey dropped and nothing under the schema's old name", locks)
	}
}
