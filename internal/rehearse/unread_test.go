package rehearse_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestUnreadBaseComparesFiles: when the folder at the base does not read (a duplicate version that two
// merges left, a down without its up), what the change edits or deletes of the base's migration files
// fails as against a readable base, while a renumbered duplicate (the fix) is only a caution.
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
