package rehearse_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestUnreadBaseComparesFiles: when the folder at the base does not read (a duplicate version that two
// merges left), what the change edits or deletes of the base's migration files fails as against a
// readable base, while a renumbered duplicate (the fix) is only a caution.
func TestUnreadBaseComparesFiles(t *testing.T) {
	// The base: 2_b and 2_c share version 2; 4_d's up is missing (a link out of the repository).
	base := map[string]string{
		"1_a.up.sql": "CREATE TABLE a (id bigint);\n", "1_a.down.sql": "DROP TABLE a;\n",
		"2_b.up.sql": "CREATE TABLE b (id bigint);\n", "2_b.down.sql": "DROP TABLE b;\n",
		"2_c.up.sql": "CREATE TABLE c (id bigint);\n", "2_c.down.sql": "DROP TABLE c;\n",
		"4_d.down.sql": "DROP TABLE d;\n", "README.md": "notes\n",
	}
	for _, tc := range []struct {
		name    string
		changes map[string]string // "" deletes the file
		want    string            // each migration's label:status:risk[rules] in report order
	}{
		{"the fix: 2_c renumbered", map[string]string{"2_c.up.sql": "", "2_c.down.sql": "", "3_c.up.sql": "CREATE TABLE c (id bigint);\n", "3_c.down.sql": "DROP TABLE c;\n"},
			"1_a:not-run:safe[] 2_b:not-run:safe[] 3_c:not-run:caution[edited-applied-migration@3_c.up.sql] 4_d:not-run:safe[]"},
		{"the fix with an edit of 1_a, line endings aside in 2_b", map[string]string{"2_c.up.sql": "", "2_c.down.sql": "", "3_c.up.sql": "CREATE TABLE c (id bigint);\n", "3_c.down.sql": "DROP TABLE c;\n",
			"1_a.up.sql": "CREATE TABLE a (id bigint, secret int);\n", "2_b.up.sql": "CREATE TABLE b (id bigint);\r\n"},
			"1_a:failed:dangerous[edited-applied-migration@1_a.up.sql] 2_b:not-run:safe[] 3_c:not-run:caution[edited-applied-migration@3_c.up.sql] 4_d:not-run:safe[]"},
		{"the duplicate deleted, 4_d's down edited, the README gone", map[string]string{"2_c.up.sql": "", "2_c.down.sql": "", "README.md": "",
			"4_d.up.sql": "CREATE TABLE d (id bigint);\n", "4_d.down.sql": "DROP TABLE IF EXISTS d;\n"},
			"1_a:not-run:safe[] 2_b:not-run:safe[] 4_d:not-run:caution[edited-applied-migration@4_d.down.sql] 2_c:failed:dangerous[deleted-applied-migration@2_c.up.sql]"},
		// golang-migrate runs nothing for the up of a version with a down file alone: its down edited is
		// an edit of its down.
		{"the duplicate deleted, 4_d left down-only, its down edited", map[string]string{"2_c.up.sql": "", "2_c.down.sql": "",
			"4_d.up.sql": "", "4_d.down.sql": "DROP TABLE IF EXISTS d;\n"},
			"1_a:not-run:safe[] 2_b:not-run:safe[] 4_d:not-run:caution[edited-applied-migration@4_d.down.sql] 2_c:failed:dangerous[deleted-applied-migration@2_c.up.sql]"},
		{"1_a's up deleted, its down kept", map[string]string{"2_c.up.sql": "", "2_c.down.sql": "", "1_a.up.sql": ""},
			"1_a:failed:dangerous[edited-applied-migration@1_a.up.sql] 2_b:not-run:safe[] 4_d:not-run:safe[] 2_c:failed:dangerous[deleted-applied-migration@2_c.up.sql]"},
		{"a read migration deleted, another's down deleted", map[string]string{"2_c.up.sql": "", "2_c.down.sql": "", "3_c.up.sql": "CREATE TABLE c (id bigint);\n", "3_c.down.sql": "DROP TABLE c;\n",
			"2_b.up.sql": "", "2_b.down.sql": "", "1_a.down.sql": ""},
			"1_a:not-run:caution[edited-applied-migration@1_a.down.sql] 3_c:not-run:caution[edited-applied-migration@3_c.up.sql] 4_d:not-run:safe[] 2_b:failed:dangerous[deleted-applied-migration@2_b.up.sql]"},
		{"renamed with another text is new, and the base's deleted", map[string]string{"2_c.up.sql": "", "2_c.down.sql": "", "3_c.up.sql": "CREATE TABLE c (id bigint, x int);\n", "3_c.down.sql": "DROP TABLE c;\n"},
			"1_a:not-run:safe[] 2_b:not-run:safe[] 3_c:not-run:safe[] 4_d:not-run:safe[] 2_c:failed:dangerous[deleted-applied-migration@2_c.up.sql]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bfs, cfs := fstest.MapFS{}, fstest.MapFS{}
			for k, v := range base {
				bfs[k] = &fstest.MapFile{Data: []byte(v)}
				cfs[k] = &fstest.MapFile{Data: []byte(v)}
			}
			cfs["4_d.up.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE d (id bigint);\n")}
			for k, v := range tc.changes {
				if v == "" {
					delete(cfs, k)
				} else {
					cfs[k] = &fstest.MapFile{Data: []byte(v)}
				}
			}
			if _, ok := tc.changes["2_c.up.sql"]; !ok {
				t.Fatal("the folder now must read")
			}
			partial, readErr := migrate.Read(bfs, migrate.FormatGolangMigrate)
			if readErr == nil {
				t.Fatal("the base reads")
			}
			set, err := migrate.Read(cfs, migrate.FormatGolangMigrate)
			if err != nil {
				t.Fatal(err)
			}
			u, err := rehearse.CompareUnreadBase(set, cfs, bfs, partial, readErr)
			if err != nil {
				t.Fatal(err)
			}
			rep := &report.Report{}
			for _, m := range set.Migrations {
				rep.Migrations = append(rep.Migrations, report.Migration{Version: m.Version, Name: m.Name, File: m.Up.File, New: true, Status: report.StatusNotRun})
			}
			u.MarkReport(rep, set)
			var got []string
			for _, m := range rep.Migrations {
				var rules []string
				for _, f := range m.Findings {
					rules = append(rules, f.Rule+"@"+f.File)
				}
				got = append(got, fmt.Sprintf("%s:%s:%s%v", m.Label(), m.Status, m.Risk, rules))
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got  %s\nwant %s", strings.Join(got, " "), tc.want)
			}
			wantOK := !strings.Contains(tc.want, "failed")
			if rep.OK != wantOK {
				t.Errorf("report ok %v, want %v", rep.OK, wantOK)
			}
		})
	}
}

// TestUnreadBaseComparesSqitchPlan: a sqitch folder whose plan does not read at the base (two pull
// requests merged in parallel each tagged @v1.1.0) is compared with its base line by line too: sqitch
// knows a deployed change by an ID that covers its plan line and the change planned before it, so an
// edited line (dependencies, note), a reordered plan and a renamed change fail edited-applied-migration
// at the change's line in the plan, as against a readable base. Renaming the duplicate tag, the fix,
// and a change planned after the base's last one pass.
func TestUnreadBaseComparesSqitchPlan(t *testing.T) {
	const base = "testdata/unread-sqitch"
	head := "%syntax-version=1.0.0\n%project=flipr\n%uri=https://example.com/flipr/\n\n"
	appschema := "appschema 2024-01-08T09:12:40Z Marge N. O’Vera <marge@example.com> # Add schema for all flipr objects.\n"
	users := "users [appschema] 2024-01-08T09:40:02Z Marge N. O’Vera <marge@example.com> # Creates table to track our users.\n"
	v100 := "@v1.0.0 2024-01-09T16:03:11Z Marge N. O’Vera <marge@example.com> # Tag v1.0.0.\n"
	lists := "lists [users] 2024-01-15T10:21:55Z Bart <bart@example.com> # Adds table for lists.\n"
	v110 := "@v1.1.0 2024-01-15T10:30:01Z Bart <bart@example.com> # Tag v1.1.0.\n"
	flips := "flips [users] 2024-01-15T11:02:37Z Homer <homer@example.com> # Adds table for flips.\n"
	v120 := "@v1.2.0 2024-01-15T11:05:49Z Homer <homer@example.com> # Tag v1.2.0.\n"
	fixed := head + appschema + users + v100 + lists + v110 + flips + v120
	read := func(dir string) ([]byte, string) {
		b, err := os.ReadFile(filepath.Join(base, dir))
		if err != nil {
			t.Fatal(err)
		}
		return b, dir
	}
	moved := map[string]string{}
	for _, kind := range []string{"deploy", "revert", "verify"} {
		b, _ := read(kind + "/lists.sql")
		moved[kind+"/lists.sql"], moved[kind+"/todo_lists.sql"] = "", string(b)
	}
	for _, tc := range []struct {
		name    string
		changes map[string]string // "" deletes the file
		want    string            // each migration's label:status:risk[rule@file:line] in report order
		says    string            // in the first plan finding's message
	}{
		{"the fix: the second tag renamed", map[string]string{"sqitch.plan": fixed},
			"appschema:not-run:safe[] users:not-run:safe[] lists:not-run:safe[] flips:not-run:safe[]", ""},
		{"the fix and a change planned after the base's last", map[string]string{
			"sqitch.plan":         fixed + "comments [flips] 2024-01-20T08:00:00Z Lisa <lisa@example.com> # Adds comments.\n",
			"deploy/comments.sql": "CREATE TABLE flipr.comments (id bigint PRIMARY KEY, flip_id bigint NOT NULL);\n"},
			"appschema:not-run:safe[] users:not-run:safe[] lists:not-run:safe[] flips:not-run:safe[] comments:not-run:safe[]", ""},
		{"the fix, and flips now requires lists", map[string]string{"sqitch.plan": strings.Replace(fixed, "flips [users]", "flips [users lists]", 1)},
			"appschema:not-run:safe[] users:not-run:safe[] lists:not-run:safe[] flips:failed:dangerous[edited-applied-migration@sqitch.plan:10]",
			"change flips is in the base's plan, but its dependencies are now [users lists], and were [users] at the base (sqitch.plan:10 at the base)"},
		{"the fix, and a conflict added to lists", map[string]string{"sqitch.plan": strings.Replace(fixed, "lists [users]", "lists [users !flips]", 1)},
			"appschema:not-run:safe[] users:not-run:safe[] lists:failed:dangerous[edited-applied-migration@sqitch.plan:8] flips:not-run:safe[]",
			"its dependencies are now [users !flips], and were [users]"},
		{"the fix, and users' note edited", map[string]string{"sqitch.plan": strings.Replace(fixed, "track our users", "track users", 1)},
			"appschema:not-run:safe[] users:failed:dangerous[edited-applied-migration@sqitch.plan:6] lists:not-run:safe[] flips:not-run:safe[]",
			"its line in the plan differs from the base's (sqitch.plan:6 at the base"},
		{"flips planned before lists", map[string]string{"sqitch.plan": head + appschema + users + v100 + flips + lists + v110 + v120},
			"appschema:not-run:safe[] users:not-run:safe[] flips:failed:dangerous[edited-applied-migration@sqitch.plan:8] lists:failed:dangerous[edited-applied-migration@sqitch.plan:9]",
			"the change planned right before it is now users, and was lists at the base (sqitch.plan:10 at the base)"},
		{"lists deleted", map[string]string{"sqitch.plan": head + appschema + users + v100 + flips + v120,
			"deploy/lists.sql": "", "revert/lists.sql": "", "verify/lists.sql": ""},
			"appschema:not-run:safe[] users:not-run:safe[] flips:failed:dangerous[edited-applied-migration@sqitch.plan:8] lists:failed:dangerous[deleted-applied-migration@deploy/lists.sql:1]",
			"the change planned right before it is now users, and was lists at the base"},
		{"lists renamed todo_lists", with(moved, map[string]string{"sqitch.plan": strings.Replace(fixed, "lists [users]", "todo_lists [users]", 1)}),
			"appschema:not-run:safe[] users:not-run:safe[] todo_lists:failed:dangerous[edited-applied-migration@sqitch.plan:8] flips:failed:dangerous[edited-applied-migration@sqitch.plan:10]",
			"change todo_lists is in the base's plan, but it is the base's change lists (sqitch.plan:8 at the base) renamed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(base)); err != nil {
				t.Fatal(err)
			}
			for p, body := range tc.changes {
				if body == "" {
					if err := os.Remove(filepath.Join(dir, p)); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := os.WriteFile(filepath.Join(dir, p), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			partial, readErr := migrate.ReadDir(base, migrate.FormatSqitch)
			if readErr == nil || !strings.Contains(readErr.Error(), "sqitch.plan:11: duplicate tag @v1.1.0") {
				t.Fatalf("the base reads: %v", readErr)
			}
			set, err := migrate.ReadDir(dir, migrate.FormatSqitch)
			if err != nil {
				t.Fatal(err)
			}
			u, err := rehearse.CompareUnreadBase(set, os.DirFS(dir), os.DirFS(base), partial, readErr)
			if err != nil {
				t.Fatal(err)
			}
			rep := &report.Report{}
			for _, m := range set.Migrations {
				rep.Migrations = append(rep.Migrations, report.Migration{Version: m.Version, Name: m.Name, File: m.Up.File, New: true, Status: report.StatusNotRun})
			}
			u.MarkReport(rep, set)
			var got []string
			var says []string
			for _, m := range rep.Migrations {
				var rules []string
				for _, f := range m.Findings {
					rules = append(rules, fmt.Sprintf("%s@%s:%d", f.Rule, f.File, f.Line))
					if f.File == "sqitch.plan" {
						says = append(says, f.Message)
					}
					if f.Rule == "deleted-applied-migration" && !strings.Contains(f.Message, "its line in the base's plan (sqitch.plan:8) is gone too") {
						t.Errorf("%s: deleted, but its finding does not name its line in the base's plan: %s", m.Label(), f.Message)
					}
				}
				if m.Status == report.StatusFailed && (m.Error == nil || m.Error.File != m.Findings[0].File || m.Error.Line != m.Findings[0].Line) {
					t.Errorf("%s: error %+v, want it at its first finding %s:%d", m.Label(), m.Error, m.Findings[0].File, m.Findings[0].Line)
				}
				got = append(got, fmt.Sprintf("%s:%s:%s%v", m.Label(), m.Status, m.Risk, rules))
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got  %s\nwant %s", strings.Join(got, " "), tc.want)
			}
			if tc.says != "" && (len(says) == 0 || !strings.Contains(says[0], tc.says) || !strings.Contains(says[0], "Cannot find change")) {
				t.Errorf("plan findings %q\nwant the first to say %q", says, tc.says)
			}
			if wantOK := !strings.Contains(tc.want, "failed"); rep.OK != wantOK {
				t.Errorf("report ok %v, want %v", rep.OK, wantOK)
			}
		})
	}
}

// with is files with changes made ("" deletes a file).
func with(files, changes map[string]string) map[string]string {
	out := maps.Clone(files)
	maps.Copy(out, changes)
	return out
}

// TestUnreadBaseSqitchLineThatDoesNotRead: a change line of the base that does not read is not known, so
// the change after it has no known parent at the base; fixing that line is no reordering. An edited line
// after it still fails.
func TestUnreadBaseSqitchLineThatDoesNotRead(t *testing.T) {
	a := "a 2024-01-01T00:00:00Z Me <me@example.com> # a\n"
	c := "c [a] 2024-01-01T00:02:00Z Me <me@example.com> # c\n"
	files := func(plan string) fstest.MapFS {
		m := fstest.MapFS{"sqitch.conf": {Data: []byte("[core]\n\tengine = pg\n")}, "sqitch.plan": {Data: []byte("%project=p\n\n" + plan)}}
		for _, n := range []string{"a", "b", "c"} {
			m["deploy/"+n+".sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE " + n + " (id bigint);\n")}
		}
		return m
	}
	bfs := files(a + "b 2024-01-01 00:01:00 Me <me@example.com> # b, its date mistyped\n" + c)
	partial, readErr := migrate.Read(bfs, migrate.FormatSqitch)
	if readErr == nil {
		t.Fatal("the base reads")
	}
	for _, tc := range []struct {
		name, plan string
		want       string
	}{
		{"the line fixed", a + "b 2024-01-01T00:01:00Z Me <me@example.com> # b\n" + c, "a:safe b:safe c:safe"},
		{"the line fixed, c's note edited", a + "b 2024-01-01T00:01:00Z Me <me@example.com> # b\n" + strings.Replace(c, "# c", "# table c", 1), "a:safe b:safe c:dangerous"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfs := files(tc.plan)
			set, err := migrate.Read(cfs, migrate.FormatSqitch)
			if err != nil {
				t.Fatal(err)
			}
			u, err := rehearse.CompareUnreadBase(set, cfs, bfs, partial, readErr)
			if err != nil {
				t.Fatal(err)
			}
			rep := &report.Report{}
			for _, m := range set.Migrations {
				rep.Migrations = append(rep.Migrations, report.Migration{Version: m.Version, Name: m.Name, File: m.Up.File, New: true, Status: report.StatusNotRun})
			}
			u.MarkReport(rep, set)
			var got []string
			for _, m := range rep.Migrations {
				got = append(got, m.Label()+":"+m.Risk.String())
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got %s, want %s", strings.Join(got, " "), tc.want)
			}
		})
	}
}

// TestUnreadBaseFlywayDeletion: against a Flyway base that does not read (V2 twice), a deleted applied
// migration fails as against a readable base, and its finding says whether Flyway's migrate would stop
// on it (ignoreMigrationPatterns, validateOnMigrate).
func TestUnreadBaseFlywayDeletion(t *testing.T) {
	unsetFlywayEnv(t)
	for _, tc := range []struct{ name, conf, says string }{
		{"default", "", "Flyway's validate, which migrate runs first, fails on it too (\"Detected applied migration not resolved locally: 1\")"},
		{"*:missing", "flyway.ignoreMigrationPatterns=*:missing\n", "Flyway's migrate would not stop on it (ignoreMigrationPatterns *:missing), but schemagate deploy does"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bfs := fstest.MapFS{"V1__a.sql": {Data: []byte("CREATE TABLE a (id bigint);\n")}, "V2__b.sql": {Data: []byte("CREATE TABLE b (id bigint);\n")},
				"V2__c.sql": {Data: []byte("CREATE TABLE c (id bigint);\n")}}
			cfs := fstest.MapFS{"V2__b.sql": bfs["V2__b.sql"], "V3__c.sql": bfs["V2__c.sql"]}
			if tc.conf != "" {
				bfs["flyway.conf"], cfs["flyway.conf"] = &fstest.MapFile{Data: []byte(tc.conf)}, &fstest.MapFile{Data: []byte(tc.conf)}
			}
			partial, readErr := migrate.Read(bfs, migrate.FormatFlyway)
			if readErr == nil {
				t.Fatal("the base reads")
			}
			set, err := migrate.Read(cfs, migrate.FormatFlyway)
			if err != nil {
				t.Fatal(err)
			}
			u, err := rehearse.CompareUnreadBase(set, cfs, bfs, partial, readErr)
			if err != nil {
				t.Fatal(err)
			}
			deleted := u.Deleted()
			if len(deleted) != 1 || deleted[0].Status != report.StatusFailed || deleted[0].File != "V1__a.sql" || !strings.Contains(deleted[0].Findings[0].Message, tc.says) {
				t.Errorf("deleted %+v\nwant V1__a.sql failed, saying %q", deleted, tc.says)
			}
		})
	}
}
