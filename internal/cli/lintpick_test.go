package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// lintedFiles are the files lint --json reports findings in.
func lintedFiles(t *testing.T, out string) []string {
	t.Helper()
	var doc struct{ Findings []struct{ File string } }
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var files []string
	for _, f := range doc.Findings {
		if !slices.Contains(files, f.File) {
			files = append(files, f.File)
		}
	}
	slices.Sort(files)
	return files
}

// TestLintDirPicksFiles: with --dir and FILE arguments, the folder is read whole and the migrations whose
// up files are given are judged as the folder's (a dbmate file's up section alone, in any spelling of
// its path); a down file picks nothing; a file that is no migration's is bad input.
func TestLintDirPicksFiles(t *testing.T) {
	t.Chdir(t.TempDir())
	writeTree(t, map[string]string{
		"db/20240101000000_users.sql":  "-- migrate:up\nCREATE TABLE users (id bigint PRIMARY KEY, email text);\n-- migrate:down\nDROP TABLE users;\n",
		"db/20240102000000_email.sql":  "-- migrate:up\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n-- migrate:down\nDROP TABLE users;\n",
		"db/20240103000000_orders.sql": "-- migrate:up\nCREATE INDEX users_email ON users (email);\n-- migrate:down\nDROP INDEX users_email;\n",
		"other/report.sql":             "SELECT 1;\n",
	})
	abs, err := filepath.Abs("db/20240103000000_orders.sql")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runStdin(t, "", "lint", "--json", "--fail-on", "never", "--dir", "db", "./db/20240102000000_email.sql", abs)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if got := lintedFiles(t, out); strings.Join(got, " ") != "db/20240102000000_email.sql db/20240103000000_orders.sql" {
		t.Errorf("judged %v, want the two files given", got)
	}
	if strings.Contains(out, "drop-table") {
		t.Errorf("a down section was judged:\n%s", out)
	}

	// Through a symbolic link to the folder, either way.
	if err := os.Symlink("db", "link"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--dir", "link", "db/20240102000000_email.sql"}, {"--dir", "db", "link/20240102000000_email.sql"}} {
		code, out, errOut := runStdin(t, "", append([]string{"lint", "--json", "--fail-on", "never"}, args...)...)
		if code != ExitOK || len(lintedFiles(t, out)) != 1 {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}

	// golang-migrate: a down file alone picks nothing.
	writeTree(t, map[string]string{"gm/1_a.up.sql": "DROP TABLE a;\n", "gm/1_a.down.sql": "CREATE TABLE a (id int);\n"})
	code, out, errOut = runStdin(t, "", "lint", "--json", "--dir", "gm", "gm/1_a.down.sql")
	if code != ExitOK || len(lintedFiles(t, out)) != 0 {
		t.Errorf("down file alone: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runStdin(t, "", "lint", "--json", "--dir", "gm", "gm/1_a.up.sql")
	if code != ExitBlocked || strings.Join(lintedFiles(t, out), " ") != "gm/1_a.up.sql" {
		t.Errorf("up file: exit %d\n%s", code, out)
	}

	code, out, errOut = runStdin(t, "", "lint", "--dir", "db", "db/20240102000000_email.sql", "other/report.sql", "db/nope.sql")
	if code != ExitUsage || out != "" || !strings.Contains(errOut, "not a migration's file in db (as dbmate reads it): other/report.sql, db/nope.sql") {
		t.Errorf("strays: exit %d\n%s%s", code, out, errOut)
	}
	// Another file of the folder (a README, a plan) picks nothing, with a warning.
	writeTree(t, map[string]string{"db/README.md": "# migrations\n"})
	code, out, errOut = runStdin(t, "", "lint", "--json", "--fail-on", "never", "--dir", "db", "db/README.md", "db/20240103000000_orders.sql")
	if code != ExitOK || strings.Join(lintedFiles(t, out), " ") != "db/20240103000000_orders.sql" ||
		!strings.Contains(errOut, "db/README.md is no migration's file in db (as dbmate reads it): not linted") {
		t.Errorf("a README: exit %d\n%s%s", code, out, errOut)
	}
	// An SQL file of the folder that is no migration's (misnamed) is bad input, not a warning a
	// pre-commit hook would hide; --no-transaction does not apply to a folder.
	writeTree(t, map[string]string{"gm/0002_b.sql": "DROP TABLE a;\n"})
	code, _, errOut = runStdin(t, "", "lint", "--dir", "gm", "gm/0002_b.sql")
	if code != ExitUsage || !strings.Contains(errOut, "not a migration's file in gm (as golang-migrate reads it): gm/0002_b.sql") {
		t.Errorf("a misnamed migration: exit %d\n%s", code, errOut)
	}
	code, _, errOut = runStdin(t, "", "lint", "--dir", "gm", "--no-transaction", "gm/1_a.up.sql")
	if code != ExitUsage || !strings.Contains(errOut, "--no-transaction is for FILE arguments without --dir") {
		t.Errorf("--no-transaction with --dir: exit %d\n%s", code, errOut)
	}
	code, _, errOut = runStdin(t, "SELECT 1;", "lint", "--dir", "db", "-")
	if code != ExitUsage || !strings.Contains(errOut, "give --dir or the FILE - (standard input), not both") {
		t.Errorf("--dir with -: exit %d\n%s", code, errOut)
	}
}

// TestLintDirPicksInContext: a picked migration is judged with what the earlier migrations of the folder
// made, as the whole folder's lint judges it: a CHECK validated before proves SET NOT NULL, a CHECK on a
// column makes its type change dangerous.
func TestLintDirPicksInContext(t *testing.T) {
	t.Chdir(t.TempDir())
	timeouts := "SET lock_timeout = '2s';\nSET statement_timeout = '1min';\n"
	writeTree(t, map[string]string{
		"p/1_t.up.sql": "CREATE TABLE t (id bigint PRIMARY KEY, c text);\n",
		"p/2_c.up.sql": timeouts + "ALTER TABLE t ADD CONSTRAINT c_nn CHECK (c IS NOT NULL) NOT VALID;\n",
		"p/3_v.up.sql": timeouts + "ALTER TABLE t VALIDATE CONSTRAINT c_nn;\n",
		"p/4_n.up.sql": timeouts + "ALTER TABLE t ALTER COLUMN c SET NOT NULL;\n",
		"q/1_t.up.sql": "CREATE TABLE t (id bigint PRIMARY KEY, c varchar(10) CHECK (length(c) > 1));\n",
		"q/2_c.up.sql": timeouts + "ALTER TABLE t ALTER COLUMN c TYPE varchar(20);\n",
		"q/3_x.up.sql": "CREATE TABLE x (id int);\n",
	})
	rulesOf := func(out string) map[string]string {
		var doc struct {
			Findings []struct{ File, Rule, Risk string }
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		got := map[string]string{}
		for _, f := range doc.Findings {
			got[f.File+" "+f.Rule] = f.Risk
		}
		return got
	}
	for _, tc := range []struct {
		dir, file, rule, risk string
	}{
		{"p", "p/4_n.up.sql", "set-not-null-proven", "safe"},
		{"q", "q/2_c.up.sql", "change-column-type-with-checks", "dangerous"},
	} {
		_, whole, _ := runStdin(t, "", "lint", "--json", "--fail-on", "never", "--dir", tc.dir)
		_, picked, errOut := runStdin(t, "", "lint", "--json", "--fail-on", "never", "--dir", tc.dir, tc.file)
		w, p := rulesOf(whole), rulesOf(picked)
		if w[tc.file+" "+tc.rule] != tc.risk || p[tc.file+" "+tc.rule] != tc.risk {
			t.Errorf("%s: whole folder %v, picked %v, want %s %s in both\n%s", tc.file, w, p, tc.risk, tc.rule, errOut)
		}
		for k := range p {
			if !strings.HasPrefix(k, tc.file+" ") {
				t.Errorf("%s: a finding of a migration not picked: %s", tc.file, k)
			}
		}
		if !strings.Contains(errOut, "schemagate lint: 1 file,") {
			t.Errorf("%s: summary counts the quiet migrations:\n%s", tc.file, errOut)
		}
	}
}

// TestPreCommitHooks: .pre-commit-hooks.yaml's hooks run schemagate lint as pre-commit runs them (the
// entry, the args of the example configuration, then the staged files its files pattern and the
// configuration's match), and judge the changed migrations alone.
func TestPreCommitHooks(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", ".pre-commit-hooks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var hooks []struct {
		ID, Name, Entry, Language, Files string
	}
	if err := yaml.Unmarshal(raw, &hooks); err != nil || len(hooks) != 2 {
		t.Fatalf("%v: %d hooks", err, len(hooks))
	}
	// The example configuration in the file's comment.
	example := regexp.MustCompile(`(?m)^#\s+args: \[(.*)\]`).FindSubmatch(raw)
	files := regexp.MustCompile(`(?m)^#\s+files: (\S+)`).FindSubmatch(raw)
	if example == nil || files == nil {
		t.Fatal("no example configuration with args and files")
	}
	args := strings.Split(string(example[1]), ", ")
	configured := regexp.MustCompile(string(files[1]))

	t.Chdir(t.TempDir())
	writeTree(t, map[string]string{
		"db/migrations/1_users.up.sql":   "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
		"db/migrations/1_users.down.sql": "DROP TABLE users;\n",
		"db/migrations/2_email.up.sql":   "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n",
		"db/migrations/2_email.down.sql": "ALTER TABLE users ALTER COLUMN email DROP NOT NULL;\n",
		"queries/report.sql":             "SELECT count(*) FROM users;\n",
		"README.md":                      "# app\n",
		"db/migrations/NOTES.txt":        "how we migrate\n",
	})
	staged := []string{"README.md", "db/migrations/2_email.up.sql", "db/migrations/2_email.down.sql", "db/migrations/NOTES.txt", "queries/report.sql"}
	for _, h := range hooks {
		if !slices.Contains([]string{"golang", "system"}, h.Language) || h.Name == "" || !strings.HasPrefix(h.ID, "schemagate-") {
			t.Errorf("hook %+v", h)
		}
		// pre-commit: the configuration's files pattern replaces the hook's, which must still compile.
		regexp.MustCompile(h.Files)
		pattern := configured
		cmd := strings.Fields(h.Entry)
		if cmd[0] != "schemagate" {
			t.Fatalf("%s: entry %q", h.ID, h.Entry)
		}
		argv := append(slices.Clone(cmd[1:]), args...)
		for _, f := range staged {
			if pattern.MatchString(f) {
				argv = append(argv, f)
			}
		}
		code, out, errOut := runStdin(t, "", argv...)
		if code != ExitBlocked || !strings.Contains(out, "db/migrations/2_email.up.sql:1:1: dangerous set-not-null") || strings.Contains(out, "1_users") || strings.Contains(out, "down.sql") {
			t.Errorf("%s: schemagate %v: exit %d\n%s%s", h.ID, argv, code, out, errOut)
		}
	}
}
