package migrate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSqitchConfigEnv: $SQITCH_CONFIG names the project configuration sqitch reads instead of
// ./sqitch.conf (App::Sqitch::Config local_file). A relative name is looked up where sqitch runs (the
// migration folder), then in the working directory and the folders above it (Config::GitLike
// load_dirs); a file that is not there is an error, not a fall back to ./sqitch.conf; "0" (false to
// Perl) and "" are not heeded; a broken file is reported at its name and line. Not parallel: it sets
// the environment and the working directory.
func TestSqitchConfigEnv(t *testing.T) {
	root := t.TempDir()
	write := func(name, src string) string {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plan := "%project=shop\n\n" + sqitchLine("widgets", "")
	deploy := "CREATE SCHEMA :\"schema\";\n"
	folder := map[string]string{
		"sqitch.plan":        plan,
		"sqitch.conf":        "[core \"variables\"]\n\tschema = local\n",
		"sqitch.ci.conf":     "[core]\n\tdeploy_dir = ci\n[core \"variables\"]\n\tschema = ci\n",
		"deploy/widgets.sql": deploy,
		"ci/widgets.sql":     "CREATE SCHEMA ci_only;\n" + deploy,
	}
	orphan := "deploy/widgets.sql:0: ignored: deploy script of no change in sqitch.plan, which sqitch never runs"
	read := func(t *testing.T) (*Set, []string, []string) {
		t.Helper()
		set, err := readMap(t, FormatSqitch, folder)
		if set == nil {
			t.Fatalf("no set: %v", err)
		}
		return set, describe(readErrors(t, err)), describe(set.Warnings)
	}
	sqls := func(set *Set) string {
		var out []string
		for _, m := range set.Migrations {
			out = append(out, m.Up.File)
			for _, st := range m.Up.Statements {
				out = append(out, st.SQL)
			}
		}
		return strings.Join(out, "; ")
	}
	t.Chdir(root)

	for _, off := range []string{"", "0"} {
		t.Setenv("SQITCH_CONFIG", off)
		set, errs, warns := read(t)
		if got, want := sqls(set), `deploy/widgets.sql; CREATE SCHEMA "local"`; got != want || len(errs)+len(warns) > 0 {
			t.Errorf("SQITCH_CONFIG=%q: %s, %v, %v; want %s", off, got, errs, warns, want)
		}
	}

	// The folder's file, read instead of its sqitch.conf, which a warning says is ignored.
	t.Setenv("SQITCH_CONFIG", "sqitch.ci.conf")
	set, errs, warns := read(t)
	if got, want := sqls(set), `ci/widgets.sql; CREATE SCHEMA ci_only; CREATE SCHEMA "ci"`; got != want {
		t.Errorf("SQITCH_CONFIG=sqitch.ci.conf: %s; want %s", got, want)
	}
	matchProblems(t, "error", errs, nil)
	matchProblems(t, "warning", warns, []string{orphan, "sqitch.conf:0: ignored: SQITCH_CONFIG names sqitch.ci.conf"}) // the scripts are in ci/ now

	// A file that is nowhere sqitch looks (or is no plain file there): sqitch would read no project
	// configuration, ./sqitch.conf neither; an error says where it was looked for. It used to be a
	// warning, and the folder was read without the configuration the run was meant to have.
	write("adir/x", "")
	for _, name := range []string{"missing.conf", "adir", filepath.Join(root, "missing.conf")} {
		t.Setenv("SQITCH_CONFIG", name)
		_, errs, _ = read(t)
		matchProblems(t, "error", errs, []string{name + ":0: SQITCH_CONFIG names " + name + ", which is no file in the migration folder, nor in " + root +
			" or a folder above it, where sqitch looks for it: sqitch would read no project configuration, not this folder's sqitch.conf either"})
	}

	// The working directory's file, by a relative name or an absolute one; a broken one is reported
	// at its line.
	write("conf/ci.conf", "[core]\n\tdeploy_dir = ci\n")
	for _, name := range []string{"conf/ci.conf", filepath.Join(root, "conf", "ci.conf")} {
		t.Setenv("SQITCH_CONFIG", name)
		set, errs, warns = read(t)
		if got := sqls(set); !strings.HasPrefix(got, "ci/widgets.sql") || len(errs) != 0 || !slices.Contains(warns, orphan) {
			t.Errorf("SQITCH_CONFIG=%s: %s, %v, %v; want ci/widgets.sql", name, got, errs, warns)
		}
	}
	// From a folder below (sqitch run in sub/deeper), a relative name is found in the folders above,
	// as Config::GitLike load_dirs finds it; it used to be looked for in the working directory only.
	// An absolute name is joined to those folders too, and found as it is at the root.
	write("sub/deeper/.keep", "")
	t.Chdir(filepath.Join(root, "sub", "deeper"))
	for _, name := range []string{"conf/ci.conf", filepath.Join(root, "conf", "ci.conf")} {
		t.Setenv("SQITCH_CONFIG", name)
		set, errs, warns = read(t)
		if got := sqls(set); !strings.HasPrefix(got, "ci/widgets.sql") || len(errs) != 0 || !slices.Contains(warns, orphan) {
			t.Errorf("SQITCH_CONFIG=%s from sub/deeper: %s, %v, %v; want ci/widgets.sql", name, got, errs, warns)
		}
	}
	// The nearest wins: sqitch stops at the first it finds.
	write("sub/conf/ci.conf", "[core]\n\tdeploy_dir = near\n")
	t.Setenv("SQITCH_CONFIG", "conf/ci.conf")
	_, errs, warns = read(t)
	matchProblems(t, "error", errs, []string{"sqitch.plan:3: change widgets has no deploy script near/widgets.sql"})
	matchProblems(t, "warning", warns, []string{orphan, "sqitch.conf:0: ignored: SQITCH_CONFIG names "})
	t.Chdir(root)

	// It may name the plan otherwise: auto-detection finds it there.
	write("conf/plan.conf", "[core]\n\tplan_file = my.plan\n")
	t.Setenv("SQITCH_CONFIG", "conf/plan.conf")
	if f, err := Detect(mapFS(map[string]string{"my.plan": plan, "deploy/widgets.sql": deploy})); err != nil || f != FormatSqitch {
		t.Errorf("Detect with SQITCH_CONFIG naming plan_file my.plan: %q, %v; want sqitch", f, err)
	}
	broken := write("conf/broken.conf", "[core]\n\tdeploy_dir = ci\n[core \"variables\n")
	t.Setenv("SQITCH_CONFIG", broken)
	_, errs, warns = read(t)
	matchProblems(t, "error", errs, []string{broken + ":3: malformed section header in sqitch.conf"})
	matchProblems(t, "warning", warns, []string{orphan, "sqitch.conf:0: ignored: SQITCH_CONFIG names "})

	// Run from the folder above (check --dir db), the file's top_dir is the migration folder: sqitch
	// runs there, and the file's paths are relative to it.
	write("db/sqitch.plan", plan)
	write("db/ddl/widgets.sql", deploy)
	write("ci.conf", "[core]\n\ttop_dir = db\n\tdeploy_dir = db/ddl\n[core \"variables\"]\n\tschema = above\n")
	t.Setenv("SQITCH_CONFIG", "ci.conf")
	set2, err := ReadDir("db", FormatSqitch)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sqls(set2), `ddl/widgets.sql; CREATE SCHEMA "above"`; got != want {
		t.Errorf("--dir db, SQITCH_CONFIG=ci.conf with top_dir db: %s; want %s", got, want)
	}
}
