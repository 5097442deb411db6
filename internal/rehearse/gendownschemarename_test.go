package rehearse_test

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
)

// TestGeneratedDownOfASchemaRename: the down of ALTER SCHEMA a RENAME TO b renames the schema back,
// before any step that names what is in it: its objects follow, whatever their kind, without a lock on
// any, and the steps after name them in a (an index, a column and a table the up added there are dropped
// as a.*). It once moved each object back into a schema a made anew (ALTER TABLE b.t SET SCHEMA a, an
// ACCESS EXCLUSIVE lock each) and dropped b, which failed where an extension lives in the schema, and
// still does where the rename cannot come first: an event trigger the up added would fire on it. The
// downs keep the table and its rows, and are verified.
// (Without the trace: its incremental read misses the rename of a schema, which moves no pg_class row,
// and its self-check stops the run.)
func TestGeneratedDownOfASchemaRename(t *testing.T) {
	t.Parallel()
	base := "CREATE SCHEMA a;\nCREATE TABLE a.t (id int PRIMARY KEY, n int);\nINSERT INTO a.t VALUES (1, 2);\n" +
		"CREATE INDEX t_n ON a.t (n);\nCREATE VIEW a.v AS SELECT id FROM a.t;\nCREATE SEQUENCE a.s;\n" +
		"CREATE TYPE a.e AS ENUM ('x');\nCREATE FUNCTION a.f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n" +
		"CREATE FUNCTION a.g() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;\n"
	for _, tc := range []struct {
		name string
		base string // more of the base migration
		up   string
		want []string // in this order
		not  []string
	}{
		{"renamed back", "", "ALTER SCHEMA a RENAME TO b;\nCREATE TABLE b.added (id int);\nALTER TABLE b.t ADD COLUMN note text;\nCREATE INDEX t_note ON b.t (note);\n",
			[]string{"ALTER SCHEMA b RENAME TO a;", "DROP INDEX CONCURRENTLY a.t_note;", "DROP TABLE a.added"},
			[]string{"SET SCHEMA", "CREATE SCHEMA", "DROP SCHEMA", "b.t", "b.added"}},
		// An extension in the schema: its objects moved one by one took the extension's members out of
		// it, and the down failed (type "a.citext" does not exist), not verified, in 300 steps.
		{"an extension in it", "CREATE EXTENSION citext SCHEMA a;\nALTER TABLE a.t ADD COLUMN email a.citext;\n" +
			"CREATE TEXT SEARCH CONFIGURATION a.cfg (COPY = simple);\nCREATE DOMAIN a.d AS int CHECK (VALUE > 0);\n",
			"ALTER SCHEMA a RENAME TO b;\n", []string{"ALTER SCHEMA b RENAME TO a;"},
			[]string{"SET SCHEMA", "CREATE SCHEMA", "DROP SCHEMA", "EXTENSION", "IRREVERSIBLE"}},
		{"an event trigger added", "", "ALTER SCHEMA a RENAME TO b;\nCREATE EVENT TRIGGER et ON ddl_command_end EXECUTE FUNCTION b.g();\n",
			[]string{"DROP EVENT TRIGGER et;", "CREATE SCHEMA a;", "ALTER TABLE b.t SET SCHEMA a;", "DROP SCHEMA b;"},
			[]string{"ALTER SCHEMA"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{"1_base.sql": base + tc.base, "2_up.sql": tc.up}
			rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: folderOf(t, migrate.FormatPlain, files), Provider: provider(t), GenerateDown: true, NoTrace: true})
			if err != nil {
				t.Fatal(err)
			}
			gd := migration(t, rep, "2").GeneratedDown
			if gd == nil || !gd.Verified || gd.DataLoss {
				t.Fatalf("generated down %+v, want a verified one without data loss", gd)
			}
			at := 0
			for _, want := range tc.want {
				i := strings.Index(gd.SQL[at:], want)
				if i < 0 {
					t.Fatalf("the down lacks %q after offset %d:\n%s", want, at, gd.SQL)
				}
				at += i + len(want)
			}
			for _, not := range tc.not {
				if strings.Contains(gd.SQL, not) {
					t.Errorf("the down has %q:\n%s", not, gd.SQL)
				}
			}
		})
	}
}
