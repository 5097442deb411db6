package migrate

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const flipr = `%syntax-version=1.0.0
%project=flipr
%uri=https://github.com/sqitchers/sqitch-intro/

appschema 2013-12-30T23:19:19Z Marge N. O’Vera <marge@example.com> # Add schema for all flipr objects.
users [appschema] 2013-12-31T01:16:45Z Marge N. O’Vera <marge@example.com> # Creates table to track our users.
@v1.0.0-dev1 2013-12-31T19:51:29Z Marge N. O’Vera <marge@example.com> # Tag v1.0.0-dev1.

# a comment line
insert_user [users appschema] 2014-01-01T01:54:21Z Marge N. O’Vera <marge@example.com> # Creates a function to insert a user.
change_pass [users !schema/audit] 2014-01-01T02:01:53Z Marge N. O’Vera <marge@example.com>
@v1.0.0-dev2 2014-01-02T21:03:10Z Marge N. O’Vera <marge@example.com> # Tag v1.0.0-dev2.
@v1.0.0-dev3 2014-01-02T21:04:10Z Marge N. O’Vera <marge@example.com>
insert_user [insert_user@v1.0.0-dev2] 2014-01-03T00:07:00Z Marge N. O’Vera <marge@example.com> # Change insert_user to log inserts.
+schema/audit [users] 2014-01-04T00:00:00Z Marge <marge@example.com>
`

func fliprFiles() map[string]string {
	return map[string]string{
		"sqitch.plan":                        flipr,
		"sqitch.conf":                        "[core]\n\tengine = pg\n",
		"deploy/appschema.sql":               "BEGIN;\nCREATE SCHEMA flipr;\nCOMMIT;\n",
		"revert/appschema.sql":               "BEGIN;\nDROP SCHEMA flipr;\nCOMMIT;\n",
		"verify/appschema.sql":               "SELECT pg_catalog.has_schema_privilege('flipr', 'usage');\n",
		"deploy/users.sql":                   "CREATE TABLE flipr.users (nickname text PRIMARY KEY);\n",
		"revert/users.sql":                   "DROP TABLE flipr.users;\n",
		"deploy/insert_user@v1.0.0-dev3.sql": "CREATE FUNCTION flipr.insert_user() RETURNS void LANGUAGE sql AS 'SELECT 1';\n",
		"revert/insert_user@v1.0.0-dev3.sql": "DROP FUNCTION flipr.insert_user();\n",
		"deploy/insert_user.sql":             "CREATE OR REPLACE FUNCTION flipr.insert_user() RETURNS void LANGUAGE sql AS 'SELECT 2';\n",
		"revert/insert_user.sql":             "CREATE OR REPLACE FUNCTION flipr.insert_user() RETURNS void LANGUAGE sql AS 'SELECT 1';\n",
		"deploy/change_pass.sql":             "CREATE FUNCTION flipr.change_pass() RETURNS void LANGUAGE sql AS 'SELECT 1';\n",
		"deploy/schema/audit.sql":            "CREATE TABLE flipr.audit (id int);\n",
		"README.md":                          "docs",
	}
}

func with(base map[string]string, changes map[string]string) map[string]string {
	out := maps.Clone(base)
	for k, v := range changes {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func TestReadSqitch(t *testing.T) {
	t.Parallel()
	ok := []string{
		"appschema up:3 down:3 verify:1",
		"users up:1 down:1 requires=appschema",
		"insert_user@v1.0.0-dev3 up:1 down:1 requires=users,appschema",
		"change_pass up:1 down:- requires=users",
		"insert_user up:1 down:1 requires=insert_user@v1.0.0-dev2",
		"schema/audit up:1 down:- requires=users",
	}
	runReadCases(t, FormatSqitch, []readCase{
		{name: "plan with tags, reworks, dependencies, nested names", files: fliprFiles(), want: ok},
		{
			// sqitch runs scripts with psql: its meta-commands are psql's business, in every script.
			name: "psql meta-commands",
			files: with(fliprFiles(), map[string]string{
				"deploy/users.sql": "\\set ON_ERROR_STOP 1\nCREATE TABLE flipr.users (nickname text PRIMARY KEY);\n",
				"revert/users.sql": "\\echo reverting\nDROP TABLE flipr.users;\n",
				"verify/users.sql": "\\ir helpers.sql\nSELECT nickname FROM flipr.users WHERE false;\n",
			}),
			want: []string{ok[0], "users up:1 down:1 verify:1 requires=appschema", ok[2], ok[3], ok[4], ok[5]},
			errs: []string{"verify/users.sql:1: psql meta-command \\ir is not supported"},
		},
		{
			name:  "reworked change falls back to the first tag's file name",
			files: with(fliprFiles(), map[string]string{"deploy/insert_user@v1.0.0-dev3.sql": "", "revert/insert_user@v1.0.0-dev3.sql": ""}),
			want:  append(ok[:2:2], ok[3:]...),
			errs:  []string{"sqitch.plan:10: change insert_user@v1.0.0-dev2 has no deploy script deploy/insert_user@v1.0.0-dev2.sql"},
		},
		{
			name:  "missing and stray deploy scripts",
			files: with(fliprFiles(), map[string]string{"deploy/users.sql": "", "deploy/forgotten.sql": "SELECT 1;", "deploy/notes.txt": "x"}),
			want:  []string{ok[0], ok[2], ok[3], ok[4], ok[5]},
			errs:  []string{"sqitch.plan:6: change users has no deploy script deploy/users.sql"},
			warns: []string{"deploy/forgotten.sql:0: ignored: deploy script of no change in sqitch.plan, which sqitch never runs"},
		},
		{
			name: "malformed plan",
			files: map[string]string{
				"sqitch.plan": "%project=x\n" +
					"@early 2014-01-01T00:00:00Z A <a@example.com>\n" +
					"a 2014-01-01T00:00:00Z A <a@example.com>\n" +
					"b [a missing] 2014-01-01T00:00:00Z A <a@example.com>\n" +
					"c yesterday A <a@example.com>\n" +
					"a 2014-01-02T00:00:00Z A <a@example.com> # rework without a tag\n" +
					"@t1 2014-01-01T00:00:00Z A <a@example.com>\n" +
					"@t1 2014-01-01T00:00:00Z A <a@example.com>\n" +
					"@bad tag\n" +
					"-b 2014-01-01T00:00:00Z A <a@example.com>\n",
				"deploy/a.sql": "SELECT 1;",
				"deploy/b.sql": "SELECT 2;",
			},
			want: []string{"b up:1 down:- requires=a,missing", "a up:1 down:-"}, // the first a is left out: its rework has no tag
			errs: []string{"sqitch.plan:2: tag @early before any change", "sqitch.plan:4: change b requires missing, which is not planned before it",
				"sqitch.plan:5: malformed sqitch change line", "sqitch.plan:6: change a is planned again without a tag since line 3",
				"sqitch.plan:8: duplicate tag @t1 (also line 7)", "sqitch.plan:9: malformed sqitch tag line",
				"sqitch.plan:10: reverting a change in the plan (-b) is not supported"},
		},
		{
			// Plan.pm _parse: $name_re, %reserved (tags too), SHA1-like names and "Duplicate dependency"
			// are syntax errors at their line; the names of t/plan.t's valid list read.
			name: "names and dependencies sqitch refuses",
			files: map[string]string{
				"sqitch.plan": "%project=x\n" +
					"foo- 2024-01-01T00:00:00Z A <a@b.c> # trailing punctuation\n" +
					"HEAD 2024-01-01T00:00:00Z A <a@b.c>\n" +
					"6c2f28d125aff1deea615f8de774599acf39a7a1 2024-01-01T00:00:00Z A <a@b.c>\n" +
					"foo^2 2024-01-01T00:00:00Z A <a@b.c>\n" +
					"_foo 2024-01-01T00:00:00Z A <a@b.c>\n" +
					"-x 2024-01-01T00:00:00Z A <a@b.c>\n" +
					"bar [_foo _foo !baz !baz] 2024-01-01T00:00:00Z A <a@b.c>\n" +
					"@v1- 2024-01-01T00:00:00Z A <a@b.c>\n" +
					"@ROOT 2024-01-01T00:00:00Z A <a@b.c>\n" +
					"@LAST 2024-01-01T00:00:00Z A <a@b.c>\n" +
					"@v1.2~3 2024-01-01T00:00:00Z A <a@b.c>\n" +
					"FIRST 2024-01-01T00:00:00Z A <a@b.c>\n" +
					"a€ 2024-01-01T00:00:00Z A <a@b.c>\n",
				"deploy/_foo.sql": "SELECT 1;", "deploy/bar.sql": "SELECT 2;", "deploy/foo-.sql": "SELECT 0;", // a refused name's script is no stray
			},
			want: []string{"_foo up:1 down:-", "bar up:1 down:- requires=_foo"},
			errs: []string{`sqitch.plan:2: invalid change name foo-: sqitch refuses the plan (Invalid name; names must not begin with punctuation`,
				`sqitch.plan:3: invalid change name HEAD: sqitch refuses the plan ("HEAD" is a reserved name)`,
				`sqitch.plan:4: invalid change name 6c2f28d125aff1deea615f8de774599acf39a7a1: sqitch refuses the plan ("6c2f28d125aff1deea615f8de774599acf39a7a1" is invalid because it could be confused with a SHA1 ID)`,
				`sqitch.plan:5: invalid change name foo^2: sqitch refuses the plan (Invalid name`,
				`sqitch.plan:7: reverting a change in the plan (-x) is not supported`,
				`sqitch.plan:8: change bar lists _foo twice: sqitch refuses the plan (Duplicate dependency "_foo")`,
				`sqitch.plan:8: change bar lists !baz twice: sqitch refuses the plan (Duplicate dependency "!baz")`,
				"sqitch.plan:8: change bar conflicts with baz, which is not in the plan",
				`sqitch.plan:9: invalid tag name @v1-: sqitch refuses the plan (Invalid name`,
				`sqitch.plan:10: invalid tag name @ROOT: sqitch refuses the plan ("@ROOT" is a reserved name)`,
				`sqitch.plan:11: invalid tag name @LAST: sqitch refuses the plan ("@LAST" is a reserved name)`,
				`sqitch.plan:12: invalid tag name @v1.2~3: sqitch refuses the plan (Invalid name`,
				`sqitch.plan:13: invalid change name FIRST: sqitch refuses the plan ("FIRST" is a reserved name)`,
				`sqitch.plan:14: invalid change name a€: sqitch refuses the plan (Invalid name`},
		},
		{
			name: "tag dependencies",
			files: map[string]string{
				"sqitch.plan": "%project=x\n" +
					"a 2014-01-01T00:00:00Z A <a@example.com>\n" +
					"@v1 2014-01-01T00:00:00Z A <a@example.com>\n" +
					"b [@v1 a@v1 a@HEAD] 2014-01-01T00:00:00Z A <a@example.com>\n" +
					"c [@v2 b@v1] 2014-01-01T00:00:00Z A <a@example.com>\n",
				"deploy/a.sql": "SELECT 1;", "deploy/b.sql": "SELECT 2;", "deploy/c.sql": "SELECT 3;",
			},
			want: []string{"a up:1 down:-", "b up:1 down:- requires=@v1,a@v1,a@HEAD", "c up:1 down:- requires=@v2,b@v1"},
			errs: []string{"sqitch.plan:5: change c requires @v2, but tag @v2 is not planned before it"},
		},
		{
			name: "bad scripts",
			files: map[string]string{
				"sqitch.plan":  "a 2014-01-01T00:00:00Z A <a@example.com>\nb 2014-01-01T00:00:00Z A <a@example.com>\n",
				"deploy/a.sql": "SELECT '\xfe';",
				"deploy/b.sql": "-- todo\n",
				"revert/b.sql": "DROP TABLE b;",
				"verify/b.sql": "",
			},
			want:  []string{"b up:0 down:1"},
			errs:  []string{"deploy/a.sql:1: file is not valid UTF-8", "verify/b.sql:0: empty file"},
			warns: []string{"deploy/b.sql:0: deploy script has no SQL statement but the down script has: sqitch records migration b and runs nothing for its up"},
		},
	})
}

// TestSqitchVariables: psql variables from sqitch.conf ([core "variables"], then the section of the
// script's kind) and from the scripts' own \set lines are substituted as psql would; checksums are of
// the files as written; a bad \set is an error at its line.
func TestSqitchVariables(t *testing.T) {
	files := map[string]string{
		"sqitch.plan": "%syntax-version=1.0.0\n%project=shop\n\nwidgets 2024-01-01T00:00:00Z Dev <dev@example.com> # w\n",
		"sqitch.conf": "[core]\n\tengine = pg\n[core \"variables\"]\n\tschema = core_schema\n\towner = admin # the owner\n" +
			"[deploy \"variables\"]\n\tschema = \"app\"\n[verify \"variables\"]\n\tschema = checked\n[engine \"pg.variables\"]\n\towner = dba\n",
		"deploy/widgets.sql": "CREATE SCHEMA :\"schema\";\n\\set label 'a widget'\nCREATE TABLE :\"schema\".widgets (id int, label text DEFAULT :'label');\nCOMMENT ON SCHEMA :\"schema\" IS :'owner';\n",
		"revert/widgets.sql": "DROP SCHEMA :\"schema\" CASCADE;\n",
		"verify/widgets.sql": "SELECT 1/count(*) FROM pg_namespace WHERE nspname = :'schema';\n",
	}
	set, err := readMap(t, FormatSqitch, files)
	if err != nil {
		t.Fatal(err)
	}
	m := set.Migrations[0]
	var got []string
	for _, s := range []*Script{m.Up, m.Down, m.Verify} {
		for _, st := range s.Statements {
			got = append(got, st.SQL)
		}
	}
	want := []string{`CREATE SCHEMA "app"`, `CREATE TABLE "app".widgets (id int, label text DEFAULT 'a widget')`, `COMMENT ON SCHEMA "app" IS 'dba'`,
		`DROP SCHEMA "app" CASCADE`, `SELECT 1/count(*) FROM pg_namespace WHERE nspname = 'checked'`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("statements:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if m.Up.Source != files["deploy/widgets.sql"] || m.Up.Statements[1].Pos.Line != 3 {
		t.Errorf("source %q, statement 2 at line %d; want the file as written and line 3", m.Up.Source, m.Up.Statements[1].Pos.Line)
	}
	other := maps.Clone(files)
	other["sqitch.conf"] = strings.ReplaceAll(other["sqitch.conf"], `"app"`, "shop")
	set2, err := readMap(t, FormatSqitch, other)
	if err != nil {
		t.Fatal(err)
	}
	if set2.Migrations[0].Checksum != m.Checksum || !strings.Contains(set2.Migrations[0].Up.SQL, `"shop"`) {
		t.Error("the checksum follows the variables' values, or the new value is not used")
	}

	bad := maps.Clone(files)
	bad["deploy/widgets.sql"] = "SELECT 1;\n\\set schema `hostname`\nCREATE SCHEMA :\"schema\";\n"
	if _, err := readMap(t, FormatSqitch, bad); err == nil || !strings.Contains(err.Error(), "deploy/widgets.sql:2") || !strings.Contains(err.Error(), "shell command") {
		t.Errorf("backquoted \\set: error %v, want one at deploy/widgets.sql:2", err)
	}
}

// TestSqitchKeysSurviveRework: reworking a change renames its older scripts (users.sql becomes
// users@v1.0.sql), so its Version moves; its Key must not: deploy history and check --base match
// the folder by it. The first instance keeps the change's name, later ones are name#2, name#3, and
// Lookup still finds the latest instance by the change's name.
func TestSqitchKeysSurviveRework(t *testing.T) {
	t.Parallel()
	plan := "%project=app\n" +
		"appschema 2024-01-01T00:00:00Z Tester <t@example.com>\n" +
		"users [appschema] 2024-01-02T00:00:00Z Tester <t@example.com>\n" +
		"@v1.0 2024-01-03T00:00:00Z Tester <t@example.com>\n"
	v1 := map[string]string{
		"sqitch.plan":          plan,
		"deploy/appschema.sql": "CREATE SCHEMA app;\n",
		"deploy/users.sql":     "CREATE TABLE app.users (id int);\n",
		"revert/users.sql":     "DROP TABLE app.users;\n",
	}
	reworked := with(v1, map[string]string{
		"sqitch.plan":           plan + "users [users@v1.0] 2024-01-04T00:00:00Z Tester <t@example.com> # add email\n",
		"deploy/users@v1.0.sql": v1["deploy/users.sql"],
		"revert/users@v1.0.sql": v1["revert/users.sql"],
		"deploy/users.sql":      "ALTER TABLE app.users ADD COLUMN email text;\n",
		"revert/users.sql":      "ALTER TABLE app.users DROP COLUMN email;\n",
	})
	again := with(reworked, map[string]string{
		"sqitch.plan": reworked["sqitch.plan"] + "@v2.0 2024-01-05T00:00:00Z Tester <t@example.com>\n" +
			"users [users@v2.0] 2024-01-06T00:00:00Z Tester <t@example.com> # add phone\n",
		"deploy/users@v2.0.sql": reworked["deploy/users.sql"],
		"revert/users@v2.0.sql": reworked["revert/users.sql"],
		"deploy/users.sql":      "ALTER TABLE app.users ADD COLUMN phone text;\n",
		"revert/users.sql":      "ALTER TABLE app.users DROP COLUMN phone;\n",
	})
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"before the rework", v1, "appschema=appschema users=users"},
		{"reworked", reworked, "appschema=appschema users@v1.0=users users=users#2"},
		{"reworked twice", again, "appschema=appschema users@v1.0=users users@v2.0=users#2 users=users#3"},
	} {
		set, err := readMap(t, FormatSqitch, c.files)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []string
		for _, m := range set.Migrations {
			got = append(got, m.Version+"="+m.Key())
			if set.Find(m.Key()) != m {
				t.Errorf("%s: Find(%q) is not %s", c.name, m.Key(), m.ID())
			}
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: version=key %q, want %q", c.name, strings.Join(got, " "), c.want)
		}
		last := set.Migrations[len(set.Migrations)-1]
		if set.Lookup("users") != last {
			t.Errorf("%s: Lookup(users) is not the latest instance", c.name)
		}
	}
}

// TestSqitchProject: sqitch's pragma grammar (lib/App/Sqitch/Plan.pm) allows blanks after % and around
// =, so each of these plans names the project flipr.
func TestSqitchProject(t *testing.T) {
	t.Parallel()
	for _, pragma := range []string{"%project=flipr", "%project = flipr", "% project\t=  flipr  ", "  %project= flipr"} {
		files := with(fliprFiles(), map[string]string{"sqitch.plan": strings.Replace(fliprFiles()["sqitch.plan"], "%project=flipr", pragma, 1)})
		set, err := readMap(t, FormatSqitch, files)
		if err != nil {
			t.Fatalf("%q: %v", pragma, err)
		}
		if set.Project != "flipr" {
			t.Errorf("%q: project %q, want flipr", pragma, set.Project)
		}
	}
}

// TestSqitchAutocommit: sqitch runs scripts with psql --file, no --single-transaction. A script with its
// own BEGIN is one transaction; without one, a script with a statement that refuses a transaction block
// commits statement by statement, and the rehearsal runs it that way.
func TestSqitchAutocommit(t *testing.T) {
	t.Parallel()
	files := with(fliprFiles(), map[string]string{
		"deploy/users.sql":        "CREATE TABLE flipr.users (nickname text PRIMARY KEY);\nCREATE INDEX CONCURRENTLY users_nick ON flipr.users (lower(nickname));\n",
		"deploy/change_pass.sql":  "CREATE INDEX CONCURRENTLY users_nick2 ON flipr.users (upper(nickname));\n",
		"deploy/schema/audit.sql": "CREATE TABLE flipr.audit (id int);\nCREATE INDEX ON flipr.audit (id);\n",
	})
	set, err := Read(mapFS(files), FormatSqitch)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"appschema": false, "users": true, "change_pass": true, "insert_user": false, "schema/audit": false}
	seen := 0
	for _, m := range set.Migrations {
		if w, ok := want[m.Key()]; ok {
			seen++
			if m.NoTransaction != w {
				t.Errorf("%s: NoTransaction %v, want %v", m.Key(), m.NoTransaction, w)
			}
		}
	}
	if seen < len(want) {
		t.Errorf("%d of the %d changes checked", seen, len(want))
	}
}

// sqitchLine is a plan line for change (or @tag) with the given dependencies.
func sqitchLine(name, deps string) string {
	if deps != "" {
		deps = "[" + deps + "] "
	}
	return name + " " + deps + "2024-01-01T00:00:00Z Dev <dev@example.com>\n"
}

// TestSqitchConflicts: sqitch deploy checks every change's conflicts before it deploys anything
// (App::Sqitch::Engine check_deploy_dependencies): a change that conflicts with one deployed before it
// in the same run, or already in the registry, is refused. A conflict names a change of the plan as
// Plan::Depend finds it: name is the change's first instance, name@tag the instance as of the tag, @tag
// the change the tag is on; a name the plan does not hold fails the deploy. Changes of other projects
// cannot be checked: a note says so.
func TestSqitchConflicts(t *testing.T) {
	t.Parallel()
	files := func(plan string, names ...string) map[string]string {
		out := map[string]string{"sqitch.plan": "%project=shop\n\n" + plan}
		for _, n := range names {
			out["deploy/"+n+".sql"] = "CREATE TABLE " + strings.NewReplacer("@", "_", ".", "_").Replace(n) + " (id int);\n"
			out["revert/"+n+".sql"] = "DROP TABLE " + strings.NewReplacer("@", "_", ".", "_").Replace(n) + ";\n"
		}
		return out
	}
	runReadCases(t, FormatSqitch, []readCase{
		{
			name:  "conflict with a change deployed before it",
			files: files(sqitchLine("users", "")+sqitchLine("widgets", "!users"), "users", "widgets"),
			want:  []string{"users up:1 down:1", "widgets up:1 down:1"},
			errs:  []string{"sqitch.plan:4: sqitch refuses to deploy widgets: it conflicts with users, which the plan deploys before it (line 3)"},
		},
		{
			name:  "conflict with a change planned after it",
			files: files(sqitchLine("widgets", "!users")+sqitchLine("users", ""), "users", "widgets"),
			want:  []string{"widgets up:1 down:1", "users up:1 down:1"},
		},
		{
			name: "own project named, tag and first instance of a reworked change",
			files: files(sqitchLine("users", "")+sqitchLine("@v1", "")+sqitchLine("a", "!shop:users")+sqitchLine("b", "!@v1")+
				sqitchLine("users", "users@v1")+sqitchLine("c", "!users@HEAD"), "users@v1", "a", "b", "users", "c"),
			want: []string{"users@v1 up:1 down:1", "a up:1 down:1", "b up:1 down:1", "users up:1 down:1 requires=users@v1", "c up:1 down:1"},
			errs: []string{"sqitch.plan:5: sqitch refuses to deploy a: it conflicts with users, which the plan deploys before it (line 3)",
				"sqitch.plan:6: sqitch refuses to deploy b: it conflicts with @v1, which the plan deploys before it (users, line 3)",
				"sqitch.plan:8: sqitch refuses to deploy c: it conflicts with users@HEAD, which the plan deploys before it (users, line 7)"},
		},
		{
			// users@v2 is the instance of users as of tag v2: the rework planned after b. users alone is the first.
			name: "a tag-qualified conflict names one instance",
			files: files(sqitchLine("users", "")+sqitchLine("@v1", "")+sqitchLine("b", "!users@v2")+sqitchLine("users", "users@v1")+
				sqitchLine("@v2", "")+sqitchLine("c", "!users"), "users@v1", "b", "users", "c"),
			want: []string{"users@v1 up:1 down:1", "b up:1 down:1", "users up:1 down:1 requires=users@v1", "c up:1 down:1"},
			errs: []string{"sqitch.plan:8: sqitch refuses to deploy c: it conflicts with users, which the plan deploys before it (line 3)"},
		},
		{
			name:  "conflict with a change the plan does not hold",
			files: files(sqitchLine("users", "")+sqitchLine("widgets", "!ghost !users@v9"), "users", "widgets"),
			want:  []string{"users up:1 down:1", "widgets up:1 down:1"},
			errs: []string{"sqitch.plan:4: change widgets conflicts with ghost, which is not in the plan",
				"sqitch.plan:4: change widgets conflicts with users@v9, but tag @v9 is not in the plan"},
		},
		{
			name:  "other projects' changes cannot be checked",
			files: files(sqitchLine("users", "")+sqitchLine("widgets", "users billing:invoices !legacy:widgets"), "users", "widgets"),
			want:  []string{"users up:1 down:1", "widgets up:1 down:1 requires=users,billing:invoices"},
			warns: []string{"sqitch.plan:4: change widgets requires billing:invoices, a change of project billing: schemagate cannot check",
				"sqitch.plan:4: change widgets conflicts with legacy:widgets, a change of project legacy: schemagate cannot check"},
		},
	})
}

// TestSqitchTopDir: sqitch reads ./sqitch.conf and takes the plan and the scripts from its top_dir (and
// plan_file, deploy_dir, revert_dir, verify_dir: target, then engine, then core), relative to the folder
// that holds sqitch.conf (App::Sqitch::Target). A migration folder holding sqitch.conf is read that way,
// with the variables of that sqitch.conf.
func TestSqitchTopDir(t *testing.T) {
	t.Parallel()
	conf := "[core]\n\tengine = pg\n\ttop_dir = db\n[deploy \"variables\"]\n\tschema = app\n"
	plan := "%project=shop\n\n" + sqitchLine("widgets", "")
	project := map[string]string{
		"sqitch.conf":             conf,
		"README.md":               "docs",
		"db/sqitch.plan":          plan,
		"db/deploy/widgets.sql":   "CREATE SCHEMA :\"schema\";\nCREATE TABLE :\"schema\".widgets (id int);\n",
		"db/revert/widgets.sql":   "DROP SCHEMA :\"schema\" CASCADE;\n",
		"db/verify/widgets.sql":   "SELECT 1 FROM :\"schema\".widgets;\n",
		"db/deploy/forgotten.sql": "SELECT 1;\n",
	}
	runReadCases(t, FormatSqitch, []readCase{
		{
			name:  "top_dir",
			files: project,
			want:  []string{"widgets up:2 down:1 verify:1"},
			warns: []string{"db/deploy/forgotten.sql:0: ignored: deploy script of no change in db/sqitch.plan, which sqitch never runs"},
		},
		{
			name: "plan_file and script folders, the engine's over core's, a target's over the engine's",
			files: with(project, map[string]string{
				"sqitch.conf": conf + "[engine \"pg\"]\n\tdeploy_dir = db/up\n\ttarget = prod\n\tplan_file = db/other.plan\n" +
					"[target \"prod\"]\n\turi = db:pg:shop\n\tplan_file = db/prod.plan\n",
				"db/prod.plan":            plan,
				"db/up/widgets.sql":       "CREATE TABLE widgets (id int);\n",
				"db/deploy/widgets.sql":   "",
				"db/deploy/forgotten.sql": "",
			}),
			want: []string{"widgets up:1 down:1 verify:1"},
		},
		{
			name:  "no plan in top_dir",
			files: with(project, map[string]string{"db/sqitch.plan": ""}),
			errs:  []string{"sqitch.conf:3: no sqitch plan db/sqitch.plan: sqitch.conf sets top_dir = db"},
		},
		{
			name:  "top_dir out of the folder",
			files: with(project, map[string]string{"sqitch.conf": "[core]\n\ttop_dir = ../elsewhere\n"}),
			errs:  []string{"sqitch.conf:2: top_dir ../elsewhere leads out of the migration folder"},
		},
	})
	set, err := Read(mapFS(project), FormatSqitch)
	if err != nil || set == nil || len(set.Migrations) != 1 {
		t.Fatalf("Read = %v, %v", set, err)
	}
	m := set.Migrations[0]
	if m.Up.File != "db/deploy/widgets.sql" || m.Verify == nil || m.Verify.File != "db/verify/widgets.sql" ||
		m.Up.Statements[1].SQL != `CREATE TABLE "app".widgets (id int)` {
		t.Errorf("up %s %q, verify %v; want db/deploy/widgets.sql with the variable of sqitch.conf", m.Up.File, m.Up.Statements[1].SQL, m.Verify)
	}
}

// TestSqitchConfInWorkingDirectory: sqitch reads ./sqitch.conf where it runs. Run from the project root
// with --dir at its top_dir, schemagate reads that sqitch.conf as sqitch would (its variables), when its
// plan is the folder's (the same %project).
func TestSqitchConfInWorkingDirectory(t *testing.T) {
	root := t.TempDir()
	for name, content := range map[string]string{
		"sqitch.conf":              "[core]\n\tengine = pg\n\ttop_dir = db\n[deploy \"variables\"]\n\tschema = app\n",
		"db/sqitch.plan":           "%project=shop\n\n" + sqitchLine("widgets", ""),
		"db/deploy/widgets.sql":    "CREATE SCHEMA :\"schema\";\n",
		"other/sqitch.plan":        "%project=other\n\n" + sqitchLine("widgets", ""),
		"other/deploy/widgets.sql": "CREATE SCHEMA :\"schema\";\n",
	} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(root)
	for _, c := range []struct{ dir, want string }{{"db", `CREATE SCHEMA "app"`}, {"other", `CREATE SCHEMA :"schema"`}} {
		set, err := ReadDir(c.dir, FormatAuto)
		if err != nil || set.Format != FormatSqitch || len(set.Migrations) != 1 {
			t.Fatalf("--dir %s: %v, %v", c.dir, set, err)
		}
		if got := set.Migrations[0].Up.Statements[0].SQL; got != c.want {
			t.Errorf("--dir %s: %s, want %s", c.dir, got, c.want)
		}
	}
}

// TestSqitchParentConf: --dir at the top_dir of a sqitch.conf in a folder above, from elsewhere, reads
// the folder without that sqitch.conf; a warning says so and where to point --dir.
func TestSqitchParentConf(t *testing.T) {
	root := t.TempDir()
	for name, content := range map[string]string{
		"proj/sqitch.conf":    "[core]\n\tengine = pg\n\ttop_dir = db\n",
		"proj/db/sqitch.plan": "%project=shop\n\n" + sqitchLine("widgets", ""),
		"other/sqitch.plan":   "%project=other\n\n" + sqitchLine("widgets", ""),
	} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(root)
	w := sqitchParentConf(filepath.Join(root, "proj", "db"))
	if w == nil || w.File != "../sqitch.conf" || w.Line != 3 || !strings.Contains(w.Hint, "--dir "+filepath.Join(root, "proj")) {
		t.Errorf("--dir proj/db from elsewhere: %+v", w)
	}
	for _, dir := range []string{"proj", "other"} {
		if w := sqitchParentConf(dir); w != nil {
			t.Errorf("--dir %s: %v", dir, w)
		}
	}
	t.Chdir(filepath.Join(root, "proj")) // read as the working directory's sqitch.conf
	if w := sqitchParentConf("db"); w != nil {
		t.Errorf("--dir db from proj: %v", w)
	}
}

// TestSqitchWorkingConfPlanFileDetected: the working directory's sqitch.conf, whose top_dir is the
// migration folder, may name its plan otherwise (plan_file); auto-detection reads it as Read does.
func TestSqitchWorkingConfPlanFileDetected(t *testing.T) {
	root := t.TempDir()
	for name, content := range map[string]string{
		"sqitch.conf":   "[core]\n\tengine = pg\n\ttop_dir = db\n\tdeploy_dir = db/ddl\n\trevert_dir = db/undo\n\tplan_file = db/my.plan\n",
		"db/my.plan":    "%project=shop\n\n" + sqitchLine("x", ""),
		"db/ddl/x.sql":  "CREATE TABLE x (id int);\n",
		"db/undo/x.sql": "DROP TABLE x;\n",
	} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(root)
	if f, err := Detect(os.DirFS("db")); err != nil || f != FormatSqitch {
		t.Errorf("Detect db: %q, %v; want sqitch", f, err)
	}
	set, err := ReadDir("db", FormatAuto)
	if err != nil || set.Format != FormatSqitch || len(set.Migrations) != 1 || set.Migrations[0].Up.File != "ddl/x.sql" {
		t.Fatalf("--dir db: %+v, %v", set, err)
	}
}

// TestSqitchUserAndSystemConf: sqitch reads, one over the other (App::Sqitch::Config, Config::GitLike),
// the system's sqitch.conf ($SQITCH_SYSTEM_CONFIG), the user's ($SQITCH_USER_CONFIG, else
// ~/.sqitch/sqitch.conf) and the project's ./sqitch.conf: a key of a later file replaces that of an
// earlier one, variable by variable. Their settings move the plan and the scripts as the project's do,
// and a problem in one is reported at its file and line.
func TestSqitchUserAndSystemConf(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	system := write("system/sqitch.conf", "[core \"variables\"]\n\tschema = system_schema\n\towner = system_owner\n\textra = system_extra\n")
	user := write("user/sqitch.conf", "[user]\n\tname = Dev\n[core \"variables\"]\n\tschema = user_schema\n\towner = user_owner\n")
	t.Setenv("SQITCH_SYSTEM_CONFIG", system)
	t.Setenv("SQITCH_USER_CONFIG", user)
	t.Setenv("HOME", filepath.Join(dir, "home"))

	plan := "%syntax-version=1.0.0\n%project=shop\n\nwidgets 2024-01-01T00:00:00Z Dev <dev@example.com> # w\n"
	files := map[string]string{
		"sqitch.plan":        plan,
		"sqitch.conf":        "[core]\n\tengine = pg\n[core \"variables\"]\n\tschema = local_schema\n",
		"deploy/widgets.sql": "CREATE TABLE :\"schema\".widgets (owner text DEFAULT :'owner', extra text DEFAULT :'extra');\n",
		"revert/widgets.sql": "DROP TABLE :\"schema\".widgets;\n",
	}
	set, err := readMap(t, FormatSqitch, files)
	if err != nil {
		t.Fatal(err)
	}
	want := `CREATE TABLE "local_schema".widgets (owner text DEFAULT 'user_owner', extra text DEFAULT 'system_extra')`
	if got := set.Migrations[0].Up.Statements[0].SQL; got != want {
		t.Errorf("deploy:\n got %s\nwant %s", got, want)
	}

	// Without a project sqitch.conf, the user's settings place the scripts.
	write("user/sqitch.conf", "[core]\n\tdeploy_dir = ddl\n[core \"variables\"]\n\tschema = user_schema\n")
	noLocal := map[string]string{"sqitch.plan": plan, "ddl/widgets.sql": files["deploy/widgets.sql"]}
	set, err = readMap(t, FormatSqitch, noLocal)
	if err != nil {
		t.Fatal(err)
	}
	if m := set.Migrations[0]; m.Up.File != "ddl/widgets.sql" || !strings.Contains(m.Up.Statements[0].SQL, `"user_schema".widgets`) {
		t.Errorf("up %s %q; want ddl/widgets.sql with the user's schema", m.Up.File, m.Up.Statements[0].SQL)
	}

	// A path of the user's file that leads out of the folder is reported at its line.
	write("user/sqitch.conf", "[core]\n\tdeploy_dir = ../elsewhere\n")
	_, err = readMap(t, FormatSqitch, files)
	errs := readErrors(t, err)
	matchProblems(t, "error", describe(errs), []string{user + ":2: deploy_dir ../elsewhere leads out of the migration folder"})

	// No $SQITCH_USER_CONFIG: ~/.sqitch/sqitch.conf. A file that does not exist is none.
	t.Setenv("SQITCH_USER_CONFIG", "")
	t.Setenv("SQITCH_SYSTEM_CONFIG", filepath.Join(dir, "missing.conf"))
	write("home/.sqitch/sqitch.conf", "[core \"variables\"]\n\towner = home_owner\n\textra = home_extra\n")
	set, err = readMap(t, FormatSqitch, files)
	if err != nil {
		t.Fatal(err)
	}
	want = `CREATE TABLE "local_schema".widgets (owner text DEFAULT 'home_owner', extra text DEFAULT 'home_extra')`
	if got := set.Migrations[0].Up.Statements[0].SQL; got != want {
		t.Errorf("deploy with ~/.sqitch/sqitch.conf:\n got %s\nwant %s", got, want)
	}
}

// TestSqitchPlanEntry: each change carries what sqitch makes its ID of (App::Sqitch::Plan::Change info):
// its plan line (planner, date, dependencies, note; the project and URI pragmas) and the change planned
// before it. A tag is no part of it; a change's note is, and so is the change before it.
func TestSqitchPlanEntry(t *testing.T) {
	t.Parallel()
	const head = "%syntax-version=1.0.0\n%project=p\n%uri=https://example.com/p\n\n"
	a := "a 2024-01-01T00:00:00Z Me <me@example.com> # a\n"
	c := "c [a !other:x] 2024-01-01T00:02:00Z Me <me@example.com> # c\n"
	files := func(plan string) map[string]string {
		f := map[string]string{"sqitch.plan": head + plan, "deploy/a.sql": "SELECT 1;\n", "deploy/c.sql": "SELECT 3;\n"}
		for _, n := range []string{"b", "d"} {
			if strings.Contains(plan, "\n"+n+" ") {
				f["deploy/"+n+".sql"] = "SELECT 2;\n"
			}
		}
		return f
	}
	read := func(plan string) map[string]*PlanEntry {
		set, err := readMap(t, FormatSqitch, files(plan))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]*PlanEntry{}
		for _, m := range set.Migrations {
			out[m.Key()] = m.Plan
		}
		return out
	}
	base := read(a + c + "d 2024-01-03T00:00:00Z Me <me@example.com>\n")
	if p := base["c"]; p == nil || p.File != "sqitch.plan" || p.Line != 6 || p.Parent != "a" ||
		p.Info != "project p\nuri https://example.com/p\nchange c\nplanner Me <me@example.com>\ndate 2024-01-01T00:02:00Z\nrequires\n  + a\nconflicts\n  - other:x\n\nc" {
		t.Fatalf("c's entry %+v", p)
	}
	if p := base["a"]; p.Parent != "" {
		t.Errorf("a, the first change, has parent %q", p.Parent)
	}
	for _, tc := range []struct {
		name, plan string
		same       bool // c's ID stays
	}{
		{"a tag after c, a change appended", a + c + "@v1 2024-01-02T00:00:00Z Me <me@example.com> # v1\nd 2024-01-03T00:00:00Z Me <me@example.com>\n", true},
		{"a tag before c", a + "@v1 2024-01-02T00:00:00Z Me <me@example.com> # v1\n" + c, true},
		{"blanks", a + "c  [a  !other:x]  2024-01-01T00:02:00Z  Me  <me@example.com>  #  c \n", true},
		{"c's note", a + strings.Replace(c, "# c", "# create table c", 1), false},
		{"c's date", a + strings.Replace(c, "00:02:00", "00:03:00", 1), false},
		{"c's dependencies", a + strings.Replace(c, " !other:x", "", 1), false},
		{"a change inserted before c", a + "b 2024-01-01T00:01:00Z Me <me@example.com> # b\n" + c, false},
	} {
		p := read(tc.plan)["c"]
		if same := p.Info == base["c"].Info && p.Parent == base["c"].Parent; same != tc.same {
			t.Errorf("%s: c's entry %+v; same as the base's: %v, want %v", tc.name, p, same, tc.same)
		}
	}
}

// TestSqitchReworkedScriptMissing: the older instance of a reworked change runs deploy/name@tag.sql,
// which sqitch rework makes; the error on a missing one says so (sqitch add makes a new change's).
func TestSqitchReworkedScriptMissing(t *testing.T) {
	t.Parallel()
	plan := "%project=app\nfn 2024-01-01T00:00:00Z T <t@example.com>\n@v1.0 2024-01-02T00:00:00Z T <t@example.com>\n" +
		"fn [fn@v1.0] 2024-01-03T00:00:00Z T <t@example.com> # rework\n"
	_, err := readMap(t, FormatSqitch, map[string]string{"sqitch.plan": plan, "deploy/fn.sql": "SELECT 2;\n"})
	errs := readErrors(t, err)
	if len(errs) != 1 || !strings.Contains(errs[0].Msg, "change fn@v1.0 has no deploy script deploy/fn@v1.0.sql") ||
		!strings.Contains(errs[0].Hint, "sqitch rework fn") || strings.Contains(errs[0].Hint, "sqitch add") {
		t.Errorf("errors %v, want one on deploy/fn@v1.0.sql whose hint says sqitch rework fn", errs)
	}
}

// TestSqitchPlanAsFarAsItReads: Set.Plan lists every change line that reads, also when the plan as a
// whole does not (a malformed line) and for a change without its deploy script, which is no migration;
// a change after a line that does not read has a parent that is not known.
func TestSqitchPlanAsFarAsItReads(t *testing.T) {
	t.Parallel()
	plan := "%project=p\n" +
		"a 2024-01-01T00:00:00Z Me <me@example.com> # a\n" +
		"b 2024-01-01 Me <me@example.com> # a date without its time\n" +
		"c [a] 2024-01-01T00:02:00Z Me <me@example.com>\n" +
		"@v1 2024-01-01T00:03:00Z Me <me@example.com>\n" +
		"d [c !other:x] 2024-01-01T00:04:00Z Me <me@example.com>\n"
	set, err := readMap(t, FormatSqitch, map[string]string{"sqitch.plan": plan, "deploy/a.sql": "SELECT 1;\n", "deploy/c.sql": "SELECT 3;\n"})
	errs := readErrors(t, err)
	if len(errs) != 2 || errs[0].Line != 3 || errs[1].Line != 6 || !strings.Contains(errs[1].Msg, "change d has no deploy script") {
		t.Fatalf("errors %v, want the malformed line 3 and d's missing script", errs)
	}
	var got []string
	for _, c := range set.Plan {
		got = append(got, fmt.Sprintf("%s@%s:%d parent=%q unread=%v requires=%v conflicts=%v", c.Key(), c.Entry.File, c.Entry.Line, c.Entry.Parent, c.ParentUnread, c.Requires, c.Conflicts))
	}
	want := []string{
		`a@sqitch.plan:2 parent="" unread=false requires=[] conflicts=[]`,
		`c@sqitch.plan:4 parent="a" unread=true requires=[a] conflicts=[]`,
		`d@sqitch.plan:6 parent="c" unread=false requires=[c] conflicts=[other:x]`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(set.Migrations) != 2 || set.Migrations[1].Plan.Info != set.Plan[1].Entry.Info {
		t.Errorf("migrations %d, want a and c, with the entries the plan has", len(set.Migrations))
	}
}

// TestSqitchNames: the names t/plan.t (sqitchers/sqitch) plans as valid read, those it expects sqitch to
// refuse do not.
func TestSqitchNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"foo", "12", "t", "6", "阱阪阬", "阱阪阬92", "foo/bar", "beta1", "foo_", "_foo",
		"v1.0-1b", "v1.2-1", "v1.2+1", "v1.2_1", "foo=bar", "a^b", "x~1y", "HEADS", "6c2f28d125aff1deea615f8de774599acf39a7a"} {
		if p := sqitchNameProblem(name, false); p != "" {
			t.Errorf("%s: %s, want it valid", name, p)
		}
	}
	for _, name := range []string{"^foo", "foo^", "foo^6", "foo^666", "%foo", "foo%", "foo%6", "foo%666", "~foo", "foo~", "foo~6",
		"/foo", "foo/", "foo/6", "=foo", "foo=", "foo=6", "-foo", "foo-", "!foo", "foo!", "foo@bar", "foo:bar", "foo#bar", "foo\\bar",
		"foo bar", "foo\tbar", "HEAD", "ROOT", "FIRST", "LAST", "6c2f28d125aff1deea615f8de774599acf39a7a1", "6c2f28d125aff1deea615f8de774599acf39a7a1b"} {
		if sqitchNameProblem(name, false) == "" {
			t.Errorf("%q: valid, want sqitch to refuse it", name)
		}
	}
}
