package rehearse_test

import (
	"os"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// marked is what SplitHistory and Mark make of each migration of cur against base, by key: its report
// entry, without the findings that come from the parse tree.
func marked(cur, base *migrate.Set) map[string]report.Migration {
	sp := rehearse.SplitHistory(cur, base)
	out := map[string]report.Migration{}
	for _, m := range cur.Migrations {
		rm := report.Migration{Version: m.Version, Findings: []lint.Finding{}}
		sp.Mark(m, &rm)
		out[m.Key()] = rm
	}
	return out
}

// unsetFlywayEnv clears the FLYWAY_* variables and runs the test in an empty working directory, so that
// a Flyway folder reads only its own configuration.
func unsetFlywayEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "FLYWAY_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Chdir(t.TempDir())
}

// TestSqitchPlanEditsFailApplied: sqitch identifies a deployed change by an ID made of its plan line and
// the ID of the change planned before it, so editing a deployed change's line (even its note), or
// planning a change before a deployed one, makes sqitch deploy fail on databases that have it ("Cannot
// find change"): edited-applied-migration, failed, at the plan's line. A tag or a change after the last
// deployed one changes no ID.
func TestSqitchPlanEditsFailApplied(t *testing.T) {
	const head = "%syntax-version=1.0.0\n%project=p\n\n"
	a := "a 2024-01-01T00:00:00Z Me <me@example.com> # a\n"
	c := "c [a] 2024-01-01T00:02:00Z Me <me@example.com> # c\n"
	folder := func(plan string) *migrate.Set {
		files := map[string]string{"sqitch.conf": "[core]\n\tengine = pg\n", "sqitch.plan": head + plan}
		for _, n := range []string{"a", "b", "c", "e"} {
			if strings.HasPrefix(plan, n+" ") || strings.Contains(plan, "\n"+n+" ") {
				files["deploy/"+n+".sql"] = "CREATE TABLE " + n + " (id bigint);\n"
				files["revert/"+n+".sql"] = "DROP TABLE " + n + ";\n"
			}
		}
		return folderOf(t, migrate.FormatSqitch, files)
	}
	base := folder(a + c)
	e := "e 2024-01-01T00:04:00Z Me <me@example.com> # e\n"
	b := "b [a] 2024-01-01T00:01:00Z Me <me@example.com> # b\n"
	for _, tc := range []struct {
		name, plan string
		line       int    // c's edited-applied-migration finding at sqitch.plan:line; 0 for none
		says       string // in its message
	}{
		{"note edited, change appended", a + strings.Replace(c, "# c", "# create table c", 1) + e, 5, "its line in the plan differs from the base's"},
		{"change inserted before a deployed one", a + b + c, 6, "the change planned right before it is now b, and was a at the base"},
		{"tag and change appended", a + c + "@v1 2024-01-01T00:03:00Z Me <me@example.com> # v1\n" + e, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := marked(folder(tc.plan), base)
			m := got["c"]
			if tc.line == 0 {
				if m.Status == report.StatusFailed || len(m.Findings) != 0 {
					t.Errorf("c: %s, findings %+v; want it left as history", m.Status, m.Findings)
				}
				return
			}
			if m.Status != report.StatusFailed || m.Error == nil || m.Error.File != "sqitch.plan" || m.Error.Line != tc.line {
				t.Fatalf("c: %s, error %+v; want failed at sqitch.plan:%d", m.Status, m.Error, tc.line)
			}
			if len(m.Findings) != 1 {
				t.Fatalf("c: findings %+v", m.Findings)
			}
			f := m.Findings[0]
			if f.Rule != "edited-applied-migration" || f.Risk != lint.Dangerous || f.File != "sqitch.plan" || f.Line != tc.line ||
				!strings.Contains(f.Message, tc.says) || !strings.Contains(f.Message, "the IDs of c and of every later change move") ||
				!strings.Contains(f.Message, "Cannot find change") || strings.Contains(f.Message, "Flyway") {
				t.Errorf("c: finding %+v", f)
			}
			if e := got["e"]; len(e.Findings) != 0 {
				t.Errorf("e, appended: findings %+v", e.Findings)
			}
		})
	}
}

// TestFlywayDescriptionChange: Flyway records a migration's description, and its validate fails on an
// applied migration renamed to another one ("Migration description mismatch"): edited-applied-migration
// at the file. Another form of the same description (V2__add_x, V2__add x) is no change.
func TestFlywayDescriptionChange(t *testing.T) {
	unsetFlywayEnv(t)
	v1, v2 := "CREATE TABLE t (id bigint);\n", "ALTER TABLE t ADD COLUMN x int;\n"
	base := folderOf(t, migrate.FormatFlyway, map[string]string{"V1__init.sql": v1, "V2__add_x.sql": v2})
	renamed := marked(folderOf(t, migrate.FormatFlyway, map[string]string{"V1__init.sql": v1, "V2__add_column_x.sql": v2}), base)["2"]
	if renamed.Status != report.StatusFailed || len(renamed.Findings) != 1 || renamed.Error == nil || renamed.Error.File != "V2__add_column_x.sql" {
		t.Fatalf("renamed V2: %s, error %+v, findings %+v; want failed at V2__add_column_x.sql", renamed.Status, renamed.Error, renamed.Findings)
	}
	if f := renamed.Findings[0]; f.Rule != "edited-applied-migration" || f.File != "V2__add_column_x.sql" ||
		!strings.Contains(f.Message, `the description "add x", now "add column x"`) || !strings.Contains(f.Message, "Migration description mismatch for migration version 2") {
		t.Errorf("renamed V2: finding %+v", f)
	}
	same := marked(folderOf(t, migrate.FormatFlyway, map[string]string{"V1__init.sql": v1, "V2__add x.sql": v2}), base)["2"]
	if same.Status == report.StatusFailed || len(same.Findings) != 0 {
		t.Errorf("V2__add x.sql, the same description: %s, findings %+v", same.Status, same.Findings)
	}
}

// TestFlywayOutOfOrderSetting: a new V3 below the base's V5 gets out-of-order-migration, whatever Flyway's
// outOfOrder, saying that schemagate deploy refuses it and what Flyway's migrate does: without outOfOrder
// it fails its validation, and V3 fails; with it, Flyway applies V3 after V5, as the rehearsal does. The
// finding is dangerous either way: schemagate deploy refuses V3 (it was a caution, which a check with
// the default --fail-on never passes and the gate lets through without a DBA).
func TestFlywayOutOfOrderSetting(t *testing.T) {
	unsetFlywayEnv(t)
	files := func(conf string, v3 bool) map[string]string {
		f := map[string]string{"V1__a.sql": "CREATE TABLE a (id bigint);\n", "V5__b.sql": "CREATE TABLE b (id bigint);\n"}
		if v3 {
			f["V3__c.sql"] = "CREATE TABLE c (id bigint);\n"
		}
		if conf != "" {
			f["flyway.conf"] = conf
		}
		return f
	}
	for _, tc := range []struct {
		name, conf string
		says       string // the finding's message
	}{
		{"off", "", "outOfOrder is off, so Flyway's migrate fails its validation"},
		{"off in flyway.conf", "flyway.outOfOrder=false\n", "outOfOrder is off, so Flyway's migrate fails its validation"},
		{"on in flyway.conf", "flyway.outOfOrder=true\n", "outOfOrder is on, so Flyway's migrate applies it there, after 5_b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := folderOf(t, migrate.FormatFlyway, files(tc.conf, false))
			m := marked(folderOf(t, migrate.FormatFlyway, files(tc.conf, true)), base)["3"]
			fs := m.Findings
			if len(fs) != 1 || fs[0].Rule != "out-of-order-migration" || fs[0].Risk != lint.Dangerous || !strings.Contains(fs[0].Message, tc.says) ||
				!strings.Contains(fs[0].Message, "schemagate deploy refuses it") {
				t.Errorf("V3: findings %+v, want a dangerous finding saying %q and that schemagate deploy refuses it", fs, tc.says)
			}
			if on := tc.conf == "flyway.outOfOrder=true\n"; on == (m.Status == report.StatusFailed) {
				t.Errorf("V3: %s with outOfOrder %v: want failed only when Flyway refuses it", m.Status, on)
			}
		})
	}
}

// TestEditedMessageNamesTheTool: an edited applied migration's finding says what refuses the changed
// checksum: schemagate deploy, and Flyway's validate only for a Flyway folder.
func TestEditedMessageNamesTheTool(t *testing.T) {
	unsetFlywayEnv(t)
	for _, tc := range []struct {
		format    migrate.Format
		base, cur map[string]string
		key       string
		flyway    bool
	}{
		{migrate.FormatGolangMigrate, map[string]string{"1_a.up.sql": "SELECT 1;\n"}, map[string]string{"1_a.up.sql": "SELECT 2;\n"}, "1", false},
		{migrate.FormatSqitch, map[string]string{"sqitch.plan": "%project=p\na 2024-01-01T00:00:00Z Me <me@example.com>\n", "deploy/a.sql": "SELECT 1;\n"},
			map[string]string{"sqitch.plan": "%project=p\na 2024-01-01T00:00:00Z Me <me@example.com>\n", "deploy/a.sql": "SELECT 2;\n"}, "a", false},
		{migrate.FormatFlyway, map[string]string{"V1__a.sql": "SELECT 1;\n"}, map[string]string{"V1__a.sql": "SELECT 2;\n"}, "1", true},
	} {
		fs := marked(folderOf(t, tc.format, tc.cur), folderOf(t, tc.format, tc.base))[tc.key].Findings
		if len(fs) != 1 || !strings.Contains(fs[0].Message, "schemagate deploy") || strings.Contains(fs[0].Message, "Flyway") != tc.flyway {
			t.Errorf("%s: findings %+v; want schemagate deploy named, Flyway's validate only for Flyway", tc.format, fs)
		}
	}
}

// TestFlywayValidationSettings: Flyway's migrate validates the folder against what databases applied
// unless validateOnMigrate=false, and ignoreMigrationPatterns lets some states pass (*:future by
// default). The findings stay schemagate's (an edited or deleted applied migration fails), but say when
// Flyway itself would not stop; a new migration below the base's last one, which Flyway would then skip
// without a word and never apply, is dangerous, as for golang-migrate.
func TestFlywayValidationSettings(t *testing.T) {
	unsetFlywayEnv(t)
	v1, v2, v3, v5 := "CREATE TABLE a (id bigint);\n", "ALTER TABLE a ADD COLUMN x int;\n", "CREATE TABLE c (id bigint);\n", "CREATE TABLE e (id bigint);\n"
	folder := func(conf string, files ...string) *migrate.Set {
		all := map[string]string{"V1__a.sql": v1, "V2__add_x.sql": v2, "V3__c.sql": v3, "V5__e.sql": v5, "V1__a.sql+": "SELECT 1;\n", "V2__add_column_x.sql": v2}
		f := map[string]string{}
		for _, n := range files {
			f[strings.TrimSuffix(n, "+")] = all[n]
		}
		if conf != "" {
			f["flyway.conf"] = conf
		}
		return folderOf(t, migrate.FormatFlyway, f)
	}
	type want struct {
		key  string // the migration of the change, or deleted:VERSION for the entry of a deleted one
		risk lint.Risk
		says string
	}
	for _, tc := range []struct {
		name      string
		base, cur []string
		conf      string // the folder's flyway.conf, at the base and now
		want      []want
	}{
		{"V1 edited", []string{"V1__a.sql", "V5__e.sql"}, []string{"V1__a.sql+", "V5__e.sql"}, "",
			[]want{{"1", lint.Dangerous, "schemagate deploy (like Flyway's validate) refuses the changed checksum"}}},
		{"V1 edited, validateOnMigrate=false", []string{"V1__a.sql", "V5__e.sql"}, []string{"V1__a.sql+", "V5__e.sql"}, "flyway.validateOnMigrate=false\n",
			[]want{{"1", lint.Dangerous, "schemagate deploy refuses the changed checksum, though Flyway's migrate would not stop on it (validateOnMigrate=false)"}}},
		{"V1 deleted", []string{"V1__a.sql", "V5__e.sql"}, []string{"V5__e.sql"}, "",
			[]want{{"deleted:1", lint.Dangerous, "Flyway's validate, which migrate runs first, fails on it too (\"Detected applied migration not resolved locally: 1\")"}}},
		{"V1 deleted, *:missing", []string{"V1__a.sql", "V5__e.sql"}, []string{"V5__e.sql"}, "flyway.ignoreMigrationPatterns=*:missing\n",
			[]want{{"deleted:1", lint.Dangerous, "Flyway's migrate would not stop on it (ignoreMigrationPatterns *:missing), but schemagate deploy does"}}},
		{"V5, the last, deleted", []string{"V1__a.sql", "V5__e.sql"}, []string{"V1__a.sql"}, "",
			[]want{{"deleted:5", lint.Dangerous, "it is a future migration to Flyway, which its validation lets pass (ignoreMigrationPatterns *:future), but schemagate deploy stops at it"}}},
		{"V5, the last, deleted, *:missing only", []string{"V1__a.sql", "V5__e.sql"}, []string{"V1__a.sql"}, "flyway.ignoreMigrationPatterns=*:missing\n",
			[]want{{"deleted:5", lint.Dangerous, "Detected applied migration not resolved locally: 5"}}},
		{"V3 below V5", []string{"V1__a.sql", "V5__e.sql"}, []string{"V1__a.sql", "V3__c.sql", "V5__e.sql"}, "",
			[]want{{"3", lint.Dangerous, "outOfOrder is off, so Flyway's migrate fails its validation"}}},
		{"V3 below V5, *:ignored", []string{"V1__a.sql", "V5__e.sql"}, []string{"V1__a.sql", "V3__c.sql", "V5__e.sql"}, "flyway.ignoreMigrationPatterns=*:future,versioned:ignored\n",
			[]want{{"3", lint.Dangerous, "Flyway's validation lets it pass (ignoreMigrationPatterns versioned:ignored), so Flyway's migrate skips it there without a word and never applies it"}}},
		{"V3 below V5, validateOnMigrate=false", []string{"V1__a.sql", "V5__e.sql"}, []string{"V1__a.sql", "V3__c.sql", "V5__e.sql"}, "flyway.validateOnMigrate=false\n",
			[]want{{"3", lint.Dangerous, "(validateOnMigrate=false), so Flyway's migrate skips it there"}}},
		{"V3 below V5, *:missing", []string{"V1__a.sql", "V5__e.sql"}, []string{"V1__a.sql", "V3__c.sql", "V5__e.sql"}, "flyway.ignoreMigrationPatterns=*:missing\n",
			[]want{{"3", lint.Dangerous, "outOfOrder is off, so Flyway's migrate fails its validation"}}},
		{"V2 renamed, validateOnMigrate=false", []string{"V1__a.sql", "V2__add_x.sql"}, []string{"V1__a.sql", "V2__add_column_x.sql"}, "flyway.validateOnMigrate=false\n",
			[]want{{"2", lint.Dangerous, "Flyway's migrate would not stop on it (validateOnMigrate=false), and its history keeps the old description"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur, base := folder(tc.conf, tc.cur...), folder(tc.conf, tc.base...)
			got := marked(cur, base)
			sp := rehearse.SplitHistory(cur, base)
			for _, b := range sp.Deleted {
				got["deleted:"+b.Version] = sp.DeletedEntry(b)
			}
			for _, w := range tc.want {
				m, ok := got[w.key]
				if !ok || len(m.Findings) != 1 {
					t.Fatalf("%s: %+v, want one finding", w.key, m)
				}
				f := m.Findings[0]
				if f.Risk != w.risk || !strings.Contains(f.Message, w.says) {
					t.Errorf("%s: %s finding %q\nwant %s, saying %q", w.key, f.Risk, f.Message, w.risk, w.says)
				}
				if m.Status != report.StatusFailed {
					t.Errorf("%s: %s, want failed: schemagate's own finding stays", w.key, m.Status)
				}
			}
		})
	}
}

// TestSqitchChangePlannedBeforeADeployedOne: a new change planned before one the base deployed is out
// of order at its line in the plan, with what sqitch does (its deploy refuses it: the IDs after it
// move), and no version to give it.
func TestSqitchChangePlannedBeforeADeployedOne(t *testing.T) {
	plan := func(changes ...string) string {
		s := "%project=p\n\n"
		for _, c := range changes {
			s += c + " 2024-01-01T00:00:00Z Me <me@example.com> # " + c + "\n"
		}
		return s
	}
	files := func(p string, changes ...string) map[string]string {
		f := map[string]string{"sqitch.plan": p}
		for _, c := range changes {
			f["deploy/"+c+".sql"], f["revert/"+c+".sql"] = "CREATE TABLE "+c+" (id int);\n", "DROP TABLE "+c+";\n"
		}
		return f
	}
	base := folderOf(t, migrate.FormatSqitch, files(plan("a", "b"), "a", "b"))
	cur := folderOf(t, migrate.FormatSqitch, files(plan("a", "x", "b"), "a", "x", "b"))
	var found []lint.Finding
	for _, f := range marked(cur, base)["x"].Findings {
		if f.Rule == "out-of-order-migration" {
			found = append(found, f)
		}
	}
	if len(found) != 1 || found[0].File != "sqitch.plan" || found[0].Line != 4 || !strings.Contains(found[0].Message, "new change x is planned before b") ||
		!strings.Contains(found[0].Message, "sqitch's deploy refuses it") || strings.Contains(found[0].Message+found[0].Suggestion, "version") {
		t.Errorf("findings %+v; want one out-of-order-migration at sqitch.plan:4 saying what sqitch does", found)
	}
}
