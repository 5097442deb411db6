package rehearse_test

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
)

// TestGeneratedDownSetsExpressionBack: on PostgreSQL 17 the down of ALTER COLUMN g SET EXPRESSION AS
// (…) sets the old expression back in place, where it dropped the column and added it again: that
// took the index and the view on it with it, and put it after the columns that followed it. The old
// expression that calls a function the up dropped is set once the function is back; the one the up
// set, calling a function it added, before that function is dropped. The down is verified.
func TestGeneratedDownSetsExpressionBack(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"1_base.sql": "CREATE TABLE t (id int PRIMARY KEY, a int, g int GENERATED ALWAYS AS (a * 2) STORED, z int);\n" +
			"CREATE INDEX t_g ON t (g);\nCREATE VIEW v AS SELECT g FROM t;\nINSERT INTO t VALUES (1, 10, DEFAULT, 7);\n" +
			"CREATE FUNCTION f(x int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT x + 1';\n" +
			"CREATE TABLE u (id int, a int, g int GENERATED ALWAYS AS (f(a)) STORED, z int);\n",
		"2_up.sql": "ALTER TABLE t ALTER COLUMN g SET EXPRESSION AS (a * 3);\n" +
			"CREATE FUNCTION f2(x int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT x + 2';\n" +
			"ALTER TABLE u ALTER COLUMN g SET EXPRESSION AS (f2(a));\nDROP FUNCTION f(int);\n",
	}
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: folderOf(t, migrate.FormatPlain, files), Provider: dockerProvider(t, 17), GenerateDown: true})
	if err != nil {
		t.Fatal(err)
	}
	gd := migration(t, rep, "2").GeneratedDown
	if gd == nil || !gd.Verified || gd.DataLoss || len(gd.Warnings) > 0 {
		t.Fatalf("generated down %+v, want a verified one without data loss or warnings", gd)
	}
	at := 0
	for _, want := range []string{
		"ALTER TABLE t ALTER COLUMN g SET EXPRESSION AS ((a * 2));",
		"CREATE OR REPLACE FUNCTION public.f(x integer)",
		"ALTER TABLE u ALTER COLUMN g SET EXPRESSION AS (f(a));",
		"DROP ROUTINE f2(x integer);",
	} {
		i := strings.Index(gd.SQL[at:], want)
		if i < 0 {
			t.Fatalf("the down lacks %q after offset %d:\n%s", want, at, gd.SQL)
		}
		at += i + len(want)
	}
	if strings.Contains(gd.SQL, "DROP COLUMN") {
		t.Errorf("the down drops a column:\n%s", gd.SQL)
	}
}
