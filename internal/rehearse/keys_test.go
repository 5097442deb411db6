package rehearse_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestDottedNamesDoNotShareAKey: tables a."b.c" and "a.b".c are two objects, whose names once made the
// same catalog key (a.b.c): a change to one whose down forgets it hid behind the other, or was told
// of the wrong one. Each round trip fails, naming the table the migration changed.
func TestDottedNamesDoNotShareAKey(t *testing.T) {
	files := map[string]string{
		"01_base.up.sql": `CREATE SCHEMA a; CREATE SCHEMA "a.b";
CREATE TABLE a."b.c" (x int); CREATE TABLE "a.b".c (x int);`,
		"01_base.down.sql": `DROP SCHEMA "a.b" CASCADE; DROP SCHEMA a CASCADE;`,
		// Each down forgets its column; the next migration drops it, and its down adds it back.
		"02_first.up.sql":       `ALTER TABLE a."b.c" ADD COLUMN y int;`,
		"02_first.down.sql":     `SELECT 1;`,
		"03_first_ok.up.sql":    `ALTER TABLE a."b.c" DROP COLUMN y;`,
		"03_first_ok.down.sql":  `ALTER TABLE a."b.c" ADD COLUMN y int;`,
		"04_second.up.sql":      `ALTER TABLE "a.b".c ADD COLUMN z int;`,
		"04_second.down.sql":    `SELECT 1;`,
		"05_second_ok.up.sql":   `ALTER TABLE "a.b".c DROP COLUMN z;`,
		"05_second_ok.down.sql": `ALTER TABLE "a.b".c ADD COLUMN z int;`,
		// A comment on one table with a down that puts the comment on the other.
		"06_comment.up.sql":   `COMMENT ON TABLE "a.b".c IS 'one';`,
		"06_comment.down.sql": `COMMENT ON TABLE "a.b".c IS NULL; COMMENT ON TABLE a."b.c" IS 'one';`,
	}
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: folderOf(t, migrate.FormatGolangMigrate, files), Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"2": `column a."b.c".y is left behind by the down`,
		"4": `column "a.b".c.z is left behind by the down`,
		"6": `table a."b.c" has comment "one" after the down`,
	}
	for _, m := range rep.Migrations {
		w, ok := want[m.Version]
		if !ok {
			if m.Status != report.StatusApplied || m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
				t.Errorf("%s: %s %+v %+v, want applied and reversible", m.Label(), m.Status, m.Error, m.Roundtrip)
			}
			continue
		}
		if m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripFailed || !strings.Contains(strings.Join(m.Roundtrip.Problems, "\n"), w) {
			t.Errorf("%s: round trip %+v, want failed saying %q", m.Label(), m.Roundtrip, w)
		}
	}
}

// TestGeneratedDownsOfDottedNames: generated downs name a."b.c" and "a.b".c each as SQL quotes it, and
// are proven: every object of the two tables is put back on the right one.
func TestGeneratedDownsOfDottedNames(t *testing.T) {
	ups := []string{
		`CREATE SCHEMA a; CREATE SCHEMA "a.b"; CREATE TABLE a."b.c" (x int); CREATE TABLE "a.b".c (x int);`,
		`ALTER TABLE "a.b".c ADD COLUMN "y.z" int; COMMENT ON TABLE a."b.c" IS 'one'; CREATE INDEX "i.j" ON a."b.c" (x);`,
		`ALTER TABLE "a.b".c ADD CONSTRAINT "k.l" CHECK (x > 0); CREATE SEQUENCE a."s.q" OWNED BY a."b.c".x;`,
		`ALTER TABLE "a.b".c RENAME TO "c.d"; ALTER TABLE a."b.c" RENAME COLUMN x TO "x.y";`,
		`DROP TABLE "a.b"."c.d"; DROP TABLE a."b.c";`,
	}
	files := map[string]string{}
	for i, up := range ups {
		files[fmt.Sprintf("%02d_step.sql", i+1)] = up
	}
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: folderOf(t, migrate.FormatPlain, files), Provider: provider(t), GenerateDown: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range rep.Migrations {
		if m.Status != report.StatusApplied {
			t.Errorf("%s: %s %+v", m.Label(), m.Status, m.Error)
			continue
		}
		gd := m.GeneratedDown
		if gd == nil || !gd.Verified || len(gd.Problems) > 0 {
			t.Errorf("%s: generated down not verified: %+v", m.Label(), gd)
		}
	}
}
