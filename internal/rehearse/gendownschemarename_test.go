package rehearse_test

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
)

// TestGeneratedDownOfASchemaRename: the down of ALTER SCHEMA a RENAME TO b moves each object of b back
// to schema a, which it must create first: it moved them before it created the schema, and failed
// (schema "a" does not exist), not verified. The schema is now made before anything is moved back, and
// the down, which keeps the table and its rows, is verified. (Without the trace: its incremental read
// misses the rename of a schema, which moves no pg_class row, and its self-check stops the run.)
func TestGeneratedDownOfASchemaRename(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"1_base.sql": "CREATE SCHEMA a;\nCREATE TABLE a.t (id int PRIMARY KEY, n int);\nINSERT INTO a.t VALUES (1, 2);\n" +
			"CREATE INDEX t_n ON a.t (n);\nCREATE VIEW a.v AS SELECT id FROM a.t;\nCREATE SEQUENCE a.s;\n" +
			"CREATE TYPE a.e AS ENUM ('x');\nCREATE FUNCTION a.f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n",
		"2_up.sql": "ALTER SCHEMA a RENAME TO b;\n",
	}
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: folderOf(t, migrate.FormatPlain, files), Provider: provider(t), GenerateDown: true, NoTrace: true})
	if err != nil {
		t.Fatal(err)
	}
	gd := migration(t, rep, "2").GeneratedDown
	if gd == nil || !gd.Verified || gd.DataLoss {
		t.Fatalf("generated down %+v, want a verified one without data loss", gd)
	}
	at := 0
	for _, want := range []string{"CREATE SCHEMA a;", "ALTER TABLE b.t SET SCHEMA a;", "DROP SCHEMA b;"} {
		i := strings.Index(gd.SQL[at:], want)
		if i < 0 {
			t.Fatalf("the down lacks %q after offset %d:\n%s", want, at, gd.SQL)
		}
		at += i + len(want)
	}
}
