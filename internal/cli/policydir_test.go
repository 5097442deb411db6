package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// dirRepo makes a repository whose base (main) has migrations/ with two tables and, when basePolicy is
// not empty, that schemagate.yml; the head (pr, checked out) drops a table in migrations/, adds a
// harmless folder other/ and sets headPolicy as schemagate.yml. The working directory becomes its root.
func dirRepo(t *testing.T, basePolicy, headPolicy string) string {
	t.Helper()
	base := map[string]string{
		"migrations/1_init.up.sql":   "CREATE TABLE users (id bigint PRIMARY KEY);\nCREATE TABLE audit (id bigint PRIMARY KEY);\n",
		"migrations/1_init.down.sql": "DROP TABLE audit;\nDROP TABLE users;\n",
	}
	if basePolicy != "" {
		base["schemagate.yml"] = basePolicy
	}
	root := prRepo(t, base, map[string]string{
		"migrations/2_drop_audit.up.sql":   "DROP TABLE audit;\n",
		"migrations/2_drop_audit.down.sql": "CREATE TABLE audit (id bigint PRIMARY KEY);\n",
		"other/1_noop.up.sql":              "SELECT 1;\n",
		"other/1_noop.down.sql":            "SELECT 1;\n",
		"schemagate.yml":                   headPolicy,
	})
	t.Chdir(root)
	return root
}

type dirReport struct {
	Risk  string   `json:"risk"`
	Dir   string   `json:"dir"`
	Notes []string `json:"notes"`
}

func readDirReport(t *testing.T, p string) dirReport {
	t.Helper()
	var r dirReport
	if err := json.Unmarshal(readFile(t, p), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestBaseDefaultDirHolds: a base without schemagate.yml (or without dir) checks migrations/; a change
// that sets dir to a harmless folder does not hide its DROP TABLE there, and a note says why. A folder
// given with --dir decides, without a note about dir.
func TestBaseDefaultDirHolds(t *testing.T) {
	requirePG(t)
	for _, base := range []string{"", "approval:\n  require: risky\n"} {
		dirRepo(t, base, "dir: other\n")
		jsonPath := filepath.Join(t.TempDir(), "report.json")
		code, out, errOut := run(t, nil, "check", "--base", "main", "--report-json", jsonPath, "-q")
		rep := readDirReport(t, jsonPath)
		notes := strings.Join(rep.Notes, "\n")
		if code != ExitOK || rep.Risk != "dangerous" || rep.Dir != "migrations" || !strings.Contains(notes, "sets dir to other: ignored, migrations") {
			t.Errorf("base %q: exit %d, risk %s, dir %s, notes %q; want dangerous in migrations with a note\n%s%s", base, code, rep.Risk, rep.Dir, notes, out, errOut)
		}

		code, out, errOut = run(t, nil, "check", "--base", "main", "--dir", "other", "--report-json", jsonPath, "-q")
		rep = readDirReport(t, jsonPath)
		if code != ExitOK || rep.Dir != "other" || strings.Contains(strings.Join(rep.Notes, "\n")+errOut, "sets dir") {
			t.Errorf("base %q, --dir other: exit %d, dir %s, notes %q; want other and no note about dir\n%s%s", base, code, rep.Dir, rep.Notes, out, errOut)
		}
	}
}

// TestDirFlagDecidesWithoutNote: with --dir on the command line the folder is the flag's, whatever the
// base's schemagate.yml says, and no note claims the base's dir applies.
func TestDirFlagDecidesWithoutNote(t *testing.T) {
	requirePG(t)
	e := newGateEnv(t, "") // before dirRepo changes the working directory
	dirRepo(t, "dir: migrations\n", "dir: other\n")
	jsonPath := filepath.Join(t.TempDir(), "report.json")
	code, out, errOut := run(t, nil, "check", "--base", "main", "--dir", "other", "--report-json", jsonPath, "-q")
	rep := readDirReport(t, jsonPath)
	if code != ExitOK || rep.Dir != "other" || strings.Contains(strings.Join(rep.Notes, "\n")+errOut, "sets dir") {
		t.Errorf("exit %d, dir %s, notes %q; want other and no note about dir\n%s%s", code, rep.Dir, rep.Notes, out, errOut)
	}
	// The gate too.
	var stdout, stderr strings.Builder
	app := &App{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return e.env[k] }, Version: "test"}
	app.Run(t.Context(), []string{"gate", "--base", "main", "--dir", "other", "--json"})
	if strings.Contains(stdout.String(), "sets dir") {
		t.Errorf("gate --dir other: a note about dir\n%s%s", stdout.String(), stderr.String())
	}
}

// TestMovedFolderSaysTheBasesDirApplies: a change that moves its migrations and sets dir to the new
// folder is checked in the base's folder, which it no longer has: the error says the base's dir applies
// and the change's is ignored until merged.
func TestMovedFolderSaysTheBasesDirApplies(t *testing.T) {
	e := newGateEnv(t, "") // before dirRepo changes the working directory
	root := dirRepo(t, "dir: migrations\n", "dir: sql\n")
	runGit(t, root, "mv", "migrations", "sql")
	runGit(t, root, "commit", "-q", "-m", "move")
	want := "the base's dir migrations (from schemagate.yml at main) applies: this change's dir, sql, is ignored until the change is merged"
	code, out, errOut := run(t, nil, "check", "--base", "main", "--provider", "url", "--database-url", "postgres://127.0.0.1:1/x", "-q")
	if code != ExitUsage || !strings.Contains(errOut, "migration folder migrations not found") || !strings.Contains(errOut, want) {
		t.Errorf("check: exit %d, want %d saying %q\n%s%s", code, ExitUsage, want, out, errOut)
	}
	var stdout, stderr strings.Builder
	app := &App{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return e.env[k] }, Version: "test"}
	if code := app.Run(t.Context(), []string{"gate", "--base", "main"}); code != ExitUsage || !strings.Contains(stderr.String(), want) {
		t.Errorf("gate: exit %d, want %d saying %q\n%s%s", code, ExitUsage, want, stdout.String(), stderr.String())
	}
}

// TestFailOnFromTheFileIsNamedSo: a fail_on from schemagate.yml is not reported as a --fail-on flag.
func TestFailOnFromTheFileIsNamedSo(t *testing.T) {
	requirePG(t)
	dirRepo(t, "", "lint:\n  fail_on: caution\n")
	code, out, errOut := run(t, nil, "check", "--base", "main", "-q")
	want := "risk dangerous reaches fail_on caution (schemagate.yml)"
	if code != ExitBlocked || !strings.Contains(out, want) || !strings.Contains(errOut, want) || strings.Contains(out+errOut, "--fail-on") {
		t.Errorf("exit %d, want %d saying %q\n%s%s", code, ExitBlocked, want, out, errOut)
	}
	code, out, errOut = run(t, nil, "check", "--base", "main", "--fail-on", "dangerous", "-q")
	if want := "reaches --fail-on dangerous"; code != ExitBlocked || !strings.Contains(out, want) {
		t.Errorf("--fail-on: exit %d, want %d saying %q\n%s%s", code, ExitBlocked, want, out, errOut)
	}
}

// TestConfigInASubfolderAgainstABase: with --config app/schemagate.yml (dir: migrations, the same in the
// base), gate compares the dir setting as the files write it (deploy, through the same call, too): no note claims the base's dir
// replaced the change's, and the folder stays app/migrations. They used to compare the resolved
// app/migrations with the base's migrations and fall back to ./migrations.
func TestConfigInASubfolderAgainstABase(t *testing.T) {
	e := newGateEnv(t, "") // before the working directory changes
	files := map[string]string{
		"app/migrations/1_init.up.sql":   "CREATE TABLE users (id bigint PRIMARY KEY);\n",
		"app/migrations/1_init.down.sql": "DROP TABLE users;\n",
		"app/schemagate.yml":             "dir: migrations\nformat: golang-migrate\n",
	}
	root := prRepo(t, files, map[string]string{
		"app/migrations/2_audit.up.sql":   "CREATE TABLE audit (id bigint PRIMARY KEY);\n",
		"app/migrations/2_audit.down.sql": "DROP TABLE audit;\n",
	})
	t.Chdir(root)
	var stdout, stderr strings.Builder
	app := &App{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return e.env[k] }, Version: "test"}
	code := app.Run(t.Context(), []string{"gate", "--config", filepath.Join("app", "schemagate.yml"), "--base", "main", "--json"})
	if out := stdout.String() + stderr.String(); code == ExitUsage || strings.Contains(out, "sets dir") || strings.Contains(out, "not found") {
		t.Errorf("gate: exit %d\n%s", code, out)
	}
}
