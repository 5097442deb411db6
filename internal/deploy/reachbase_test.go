package deploy

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
)

// journalFolder is a run whose downs and ups change every kind of link a check can change (tables
// created, renamed, moved, dropped, with CASCADE and by schema; columns added, renamed and dropped;
// foreign keys added, renamed and dropped; partitions attached and detached; children by inheritance
// added and removed; a DO block that may tie tables; a search path), and whose later checks empty or
// delete from the tables those changes reach: a change a check left behind in the links kept for
// the next checks shows in what those report.
var journalFolder = map[string]string{
	"1_tags.up.sql": "CREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE old_items ADD COLUMN tag_id int REFERENCES tags ON DELETE SET NULL;",
	"1_tags.down.sql": "ALTER TABLE old_items DROP CONSTRAINT old_items_tag_id_fkey;\nALTER TABLE old_items DROP COLUMN tag_id;\n" +
		"ALTER TABLE tags RENAME TO tags_gone;\nDROP TABLE tags_gone;",
	"2_del.up.sql": "DELETE FROM tags;",
	"2_del.down.sql": "ALTER TABLE old_items RENAME COLUMN tag_id TO t_id;\nALTER TABLE old_items RENAME CONSTRAINT old_items_tag_id_fkey TO k;\n" +
		"ALTER TABLE tags SET SCHEMA archive;\nCREATE TABLE tags (id int PRIMARY KEY);\nDELETE FROM tags;",
	"3_part.up.sql": "CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');\nCREATE TABLE kids () INHERITS (tags);\n" +
		"CREATE TABLE notes (id int, tag_id int REFERENCES tags ON DELETE CASCADE);",
	"3_part.down.sql": "ALTER TABLE events DETACH PARTITION events_2027;\nALTER TABLE kids NO INHERIT tags;\nALTER TABLE notes DROP COLUMN tag_id;\n" +
		"DO $$ BEGIN EXECUTE 'ALTER TABLE tags ADD FOREIGN KEY (id) REFERENCES old_items'; END $$;\nSET search_path = archive;\nDROP TABLE notes, kids, events_2027;",
	"4_trunc.up.sql": "TRUNCATE events_2027 CASCADE;\nDELETE FROM tags;\nTRUNCATE tags CASCADE;",
	"4_trunc.down.sql": "CREATE TABLE q1 (id int, at date);\nALTER TABLE events_2027 ATTACH PARTITION q1 FOR VALUES FROM ('2027-01-01') TO ('2027-04-01');\n" +
		"ALTER TABLE kids INHERIT old_items;\nALTER TABLE notes ADD CONSTRAINT n_fk FOREIGN KEY (id) REFERENCES old_items ON DELETE SET DEFAULT;\n" +
		"DROP TABLE tags CASCADE;\nDROP SCHEMA public CASCADE;",
	"5_again.up.sql":   "DELETE FROM tags;\nTRUNCATE events_2027 CASCADE;\nDELETE FROM old_items;\nTRUNCATE kids CASCADE;\nDELETE FROM notes;",
	"5_again.down.sql": "TRUNCATE tags CASCADE;\nTRUNCATE events CASCADE;\nDELETE FROM kids;",
	"6_last.up.sql":    "DELETE FROM q1;\nTRUNCATE tags CASCADE;\nDELETE FROM events_2027;",
	"6_last.down.sql":  "DELETE FROM tags;",
}

// freshReached is what the check reaches after the scripts before it, replayed afresh (no kept links).
func freshReached(searchPath string, before []*migrate.Script, check *migrate.Script, facts map[string]string, up bool) []string {
	l := newLinks(qualifier(searchPath), facts)
	for _, s := range before {
		l.script(s, nil)
	}
	l.upFacts = up
	var need []string
	l.need = func(n string) { need = append(need, n) }
	var out []string
	l.script(check, func(r reached) {
		out = append(out, fmt.Sprintf("%d %s %v %t %s", r.line, r.table, r.cols, r.unknown, r.what))
	})
	return append(out, "need: "+strings.Join(need, " "))
}

// keptReached is freshReached on the links withBase keeps.
func keptReached(searchPath string, before []*migrate.Script, check *migrate.Script, facts map[string]string, up bool) []string {
	var out, need []string
	withBase(searchPath, before, facts, func(l *links) {
		l.upFacts = up
		l.need = func(n string) { need = append(need, n) }
		l.script(check, func(r reached) {
			out = append(out, fmt.Sprintf("%d %s %v %t %s", r.line, r.table, r.cols, r.unknown, r.what))
		})
	})
	return append(out, "need: "+strings.Join(need, " "))
}

// TestKeptLinksAreUndone: every check on the kept links (withBase) reaches what it reaches on links
// replayed afresh, in the order the deploy asks (each migration's down after the ups up to it, then
// the next up after the ups before it), backwards, and forwards again: what a check changed is undone.
func TestKeptLinksAreUndone(t *testing.T) {
	set := folderB(t, journalFolder)
	facts := map[string]string{
		dbKey("public.events"):    "public.event_tags\ta\tevent_id\napp.audit\tc\tevent_id",
		dbKey("public.old_items"): "public.old_refs\tn\titem_id",
		dbKey("public.tags"):      "",
	}
	ms := set.Migrations
	ups := make([]*migrate.Script, len(ms))
	for i, m := range ms {
		ups[i] = m.Up
	}
	type check struct {
		before []*migrate.Script
		script *migrate.Script
		up     bool
		name   string
	}
	var checks []check
	for i, m := range ms {
		checks = append(checks, check{ups[: i+1 : i+1], m.Down, false, m.Down.File}, check{ups[:i], m.Up, true, m.Up.File})
	}
	order := append(slices.Clone(checks), checks...)
	for i := len(checks) - 1; i >= 0; i-- {
		order = append(order, checks[i])
	}
	order = append(order, checks...)
	reaching := 0
	for _, path := range []string{"", `"app"`} {
		for _, c := range order {
			want := freshReached(path, c.before, c.script, facts, c.up)
			got := keptReached(path, c.before, c.script, facts, c.up)
			if !slices.Equal(got, want) {
				t.Fatalf("search path %q, %s after %d ups: the kept links reach\n%s\nafresh:\n%s", path, c.name, len(c.before), strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			reaching += len(want) - 1
		}
	}
	if reaching < 20 {
		t.Fatalf("the checks reached %d things in all: the folder no longer exercises the links", reaching)
	}
	// factsNeeded asks through the kept links too.
	var want []string
	for i, m := range ms {
		for _, c := range [][]string{freshReached("", ups[:i], m.Up, nil, true), freshReached("", ups[:i+1], m.Down, nil, false)} {
			for n := range strings.FieldsSeq(strings.TrimPrefix(c[len(c)-1], "need:")) {
				if !slices.Contains(want, n) {
					want = append(want, n)
				}
			}
		}
	}
	if got := factsNeeded(ms, ""); !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("factsNeeded = %q, afresh %q", got, want)
	}
}

// TestJudgedAlikeInAnyOrder: downLosesData and upLosesData, which keep what the earlier ups made
// (earlierMade) and their links (withBase) from one call to the next, judge each migration of a run as
// they do with nothing kept, in the order a deploy asks, backwards, and forwards again.
func TestJudgedAlikeInAnyOrder(t *testing.T) {
	files := maps.Clone(journalFolder)
	maps.Copy(files, map[string]string{
		"7_made.up.sql": "CREATE SCHEMA tmp;\nCREATE TABLE tmp.a (id int);\nCREATE TYPE mood AS ENUM ('ok');\nCREATE ROLE tmp_reader;\n" +
			"ALTER TABLE old_items ADD COLUMN c7 bigint;\nCREATE TABLE t7 (n bigint);\nALTER TABLE t7 RENAME TO u7;",
		"7_made.down.sql": "DROP TABLE u7;\nALTER TABLE old_items DROP COLUMN c7;\nDROP ROLE tmp_reader;\nDROP TYPE mood;\nDROP SCHEMA tmp CASCADE;",
		"8_use.up.sql": "UPDATE old_items SET c7 = 1;\nALTER TABLE old_items ALTER COLUMN c7 TYPE int;\nALTER TABLE u7 ALTER COLUMN n TYPE int;\n" +
			"DROP OWNED BY tmp_reader;\nDROP TYPE mood CASCADE;\nDROP SCHEMA tmp CASCADE;\nDELETE FROM u7;\nDROP TABLE u7;",
		"8_use.down.sql": "CREATE SCHEMA tmp;\nDELETE FROM old_items;",
		"9_own.up.sql":   "ALTER TABLE old_items DROP COLUMN c7;\nDROP TABLE old_items;",
		"9_own.down.sql": "CREATE TABLE old_items (id int);",
	})
	ms := folderB(t, files).Migrations
	// Another run, judged in turns with it: the same folder without its first migration.
	delete(files, "1_tags.up.sql")
	delete(files, "1_tags.down.sql")
	other := folderB(t, files).Migrations
	facts := map[string]string{dbKey("public.events"): "public.event_tags\ta\tevent_id", dbKey("public.tags"): "", dbKey("public.old_items"): ""}
	type judged struct{ down, up string }
	judge := func(ms []*migrate.Migration, path string, i int, fresh bool) judged {
		if fresh {
			linkBases.reset()
			soFars.reset()
		}
		return judged{downLosesData(ms[i], ms[:i], path, nil, facts), upLosesData(ms[i], ms[:i], path, nil, facts)}
	}
	var order []int
	for i := range ms {
		order = append(order, i)
	}
	for i := len(ms) - 1; i >= 0; i-- {
		order = append(order, i)
	}
	order = append(order, order[:len(ms)]...)
	losses := 0
	differ := false
	for _, path := range []string{"", `"app"`} {
		want, wantOther := make([]judged, len(ms)), make([]judged, len(other))
		for i := range ms {
			want[i] = judge(ms, path, i, true)
			if want[i].down != "" {
				losses++
			}
			if want[i].up != "" {
				losses++
			}
			if i < len(other) {
				wantOther[i] = judge(other, path, i, true)
				differ = differ || i > 0 && wantOther[i-1] != want[i]
			}
		}
		for _, i := range order {
			if got := judge(ms, path, i, false); got != want[i] {
				t.Fatalf("search path %q, %s judged after the others: %+v, with nothing kept: %+v", path, ms[i].ID(), got, want[i])
			}
			if i < len(other) {
				if got := judge(other, path, i, false); got != wantOther[i] {
					t.Fatalf("search path %q, %s of the other run judged after the others: %+v, with nothing kept: %+v", path, other[i].ID(), got, wantOther[i])
				}
			}
		}
	}
	if !differ {
		t.Fatal("the two runs are judged alike: judging one on what the other kept would not show")
	}
	// Some of the run loses data and some does not, so that a judgment kept wrong shows.
	if losses == 0 || losses == 4*len(ms) {
		t.Fatalf("%d of %d judgments find a loss: the folder no longer tells kept and fresh apart", losses, 4*len(ms))
	}
}
