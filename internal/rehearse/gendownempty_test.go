package rehearse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
)

// TestGeneratedDownThatIsEmptyIsProven: a generated down with no SQL is proven as any other: the
// catalog before the up must be the one after it. An up that only writes rows changes nothing the
// comparison sees: nothing to undo, verified. An up whose change the generator cannot express (a view
// column's comment or privileges) got the same empty down, "nothing to undo", verified, while the
// change stayed: it is not verified now, and says what the down leaves.
func TestGeneratedDownThatIsEmptyIsProven(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"00001_base.sql": "-- +goose Up\nCREATE TABLE t (id int PRIMARY KEY);\nCREATE VIEW va AS SELECT id AS v FROM t;\n" +
			"-- +goose Down\nDROP VIEW va;\nDROP TABLE t;\n",
		"00002_rows.sql":    "-- +goose Up\nINSERT INTO t VALUES (1);\n",
		"00003_comment.sql": "-- +goose Up\nCOMMENT ON COLUMN va.v IS 'the id';\n",
		"00004_grant.sql":   "-- +goose Up\nGRANT SELECT (v) ON va TO PUBLIC;\n",
	}
	set := folderOf(t, migrate.FormatGoose, files)
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]},
		Provider: provider(t), GenerateDown: true})
	if err != nil {
		t.Fatal(err)
	}
	if gd := migration(t, rep, "2").GeneratedDown; gd == nil || !gd.Verified || strings.TrimSpace(gd.SQL) != "" ||
		gd.Note != "nothing to undo: the migration changes no schema object" || len(gd.Problems) > 0 {
		t.Errorf("generated down of rows only: %+v, want an empty one, verified, with nothing to undo", gd)
	}
	for version, want := range map[string]string{
		"3": `column va.v has comment "the id" after the down, was none`,
		"4": "column va.v has privileges =r/",
	} {
		gd := migration(t, rep, version).GeneratedDown
		if gd == nil || gd.Verified || gd.Note != "" || !containsAll(gd.Problems, want) {
			t.Errorf("generated down of %s: %+v, want one not verified, saying %q", version, gd, want)
		}
	}
}
