package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func lintRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := &App{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""), Version: "test",
		Getenv: func(string) string { return "" }}
	code := app.Run(context.Background(), append([]string{"lint"}, args...))
	return code, out.String(), errb.String()
}

func writeSQL(t *testing.T, dir, name, sql string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(sql), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLintExitCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	risky := writeSQL(t, dir, "risky.sql", "SET lock_timeout = '1s';\nSET statement_timeout = '1min';\n\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n")
	okFile := writeSQL(t, dir, "ok.sql", "SET lock_timeout = '1s';\nSET statement_timeout = '1min';\nALTER TABLE users ADD COLUMN bio text;\n")
	// psql skips a byte-order mark; the statement after it is at 1:1
	bomFile := writeSQL(t, dir, "bom.sql", "\uFEFFALTER TABLE users ALTER COLUMN email SET NOT NULL;\n")
	// As --dir refuses them, not a syntax error after the stray byte, nor a pass with no finding.
	latin1 := writeSQL(t, dir, "latin1.sql", "CREATE TABLE a (id bigint);\nCOMMENT ON TABLE a IS 'caf\xe9';\n")
	empty := writeSQL(t, dir, "empty.sql", " \n\n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"dangerous", []string{risky}, ExitBlocked, risky + ":4:1: dangerous set-not-null: SET NOT NULL on users.email", "1 finding"},
		{"suggestion line", []string{risky}, ExitBlocked, "    suggestion: ALTER TABLE users ADD CONSTRAINT email_not_null", ""},
		{"rule lowered", []string{risky, "--rule", "set-not-null=caution"}, ExitOK, "caution set-not-null", ""},
		{"fail on caution", []string{risky, "--rule", "set-not-null=caution", "--fail-on", "caution"}, ExitBlocked, "", ""},
		{"classes in any case", []string{risky, "--rule", "Set-Not-Null=Caution", "--fail-on", "CAUTION"}, ExitBlocked, "caution set-not-null", ""},
		{"never in any case", []string{risky, "--fail-on", "Never"}, ExitOK, "dangerous set-not-null", ""},
		{"safe file", []string{okFile}, ExitOK, "safe add-column-nullable", "0 dangerous"},
		{"byte-order mark", []string{bomFile}, ExitBlocked, bomFile + ":1:1: dangerous set-not-null", ""},
		{"directory", []string{"--dir", "testdata/lint/migrations"}, ExitBlocked, "testdata/lint/migrations/002_email.up.sql:3:1: dangerous set-not-null", "2 files"},
		{"unknown file", []string{filepath.Join(dir, "nope.sql")}, ExitUsage, "", "nope.sql"},
		{"not UTF-8", []string{latin1}, ExitUsage, "", latin1 + ":2: file is not valid UTF-8 (byte 0xe9 at offset 54)"},
		{"empty file", []string{empty}, ExitUsage, "", empty + ": empty file"},
		{"bad pg version", []string{risky, "--pg-version", "fifteen"}, ExitUsage, "", "--pg-version"},
		{"unknown rule", []string{risky, "--rule", "set-not-nul=off"}, ExitUsage, "", `did you mean "set-not-null"`},
		{"no input", nil, ExitUsage, "", "nothing to lint"},
		{"missing dir", []string{"--dir", filepath.Join(dir, "none")}, ExitUsage, "", "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := lintRun(t, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errs, tt.stderr) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s\nwant stdout %q, stderr %q", code, tt.code, out, errs, tt.stdout, tt.stderr)
			}
		})
	}
}

func TestLintJSONAndSARIF(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := writeSQL(t, dir, "m.sql", "-- schemagate:ignore drop-column unused since 2024\nALTER TABLE users DROP COLUMN age;\nCREATE INDEX users_age_idx ON users (age);\n")
	sarif := filepath.Join(dir, "out.sarif")
	code, out, errs := lintRun(t, f, "--json", "--sarif", sarif, "--pg-version", "14.2")
	if code != ExitBlocked {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Findings []struct {
			Rule    string `json:"rule"`
			Risk    string `json:"risk"`
			Line    int    `json:"line"`
			Ignored bool   `json:"ignored"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	var sawIgnored, sawIndex bool
	for _, f := range doc.Findings {
		if f.Rule == "drop-column" && f.Ignored && f.Line == 2 {
			sawIgnored = true
		}
		if f.Rule == "create-index-blocking" && f.Risk == "dangerous" && f.Line == 3 {
			sawIndex = true
		}
	}
	if !sawIgnored || !sawIndex {
		t.Errorf("findings %+v", doc.Findings)
	}
	b, err := os.ReadFile(sarif)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"version": "2.1.0"`, `"ruleId": "create-index-blocking"`, `"level": "error"`, `"kind": "inSource"`, `"helpUri": "https://github.com/schemagate/schemagate/blob/main/docs/rules/drop-column.md"`} {
		if !strings.Contains(s, want) {
			t.Errorf("sarif lacks %s", want)
		}
	}
}

// TestLintReadsConfig: lint classifies as check does, from the same schemagate.yml: its folder, rule
// classes and fail_on apply, flags win, and a broken file is a usage error with its line. Without
// --config it reads ./schemagate.yml.
func TestLintReadsConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeSQL(t, filepath.Join(dir, "db"), "001_a.sql", "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n")
	cfg := writeSQL(t, dir, "schemagate.yml", "dir: db\nlint:\n  fail_on: caution\n  rules: {set-not-null: \"off\", missing-lock-timeout: caution}\n")
	t.Chdir(dir)
	code, out, errs := lintRun(t)
	if code != ExitBlocked || strings.Contains(out, "set-not-null") || !strings.Contains(out, "caution missing-lock-timeout") {
		t.Errorf("./schemagate.yml: exit %d\n%s\n%s", code, out, errs)
	}
	// Flags over the file: --fail-on and --rule.
	if code, out, errs := lintRun(t, "--config", cfg, "--fail-on", "dangerous", "--rule", "set-not-null=dangerous"); code != ExitBlocked || !strings.Contains(out, "dangerous set-not-null") {
		t.Errorf("flags over the file: exit %d\n%s\n%s", code, out, errs)
	}
	if code, out, errs := lintRun(t, "--config", cfg, "--fail-on", "never"); code != ExitOK {
		t.Errorf("--fail-on never: exit %d\n%s\n%s", code, out, errs)
	}
	bad := writeSQL(t, dir, "bad.yml", "lint:\n  rules: {set-not-nul: \"off\"}\n")
	if code, _, errs := lintRun(t, "--config", bad); code != ExitUsage || !strings.Contains(errs, "bad.yml:2") {
		t.Errorf("broken file: exit %d, %s", code, errs)
	}
	if code, _, errs := lintRun(t, "--config", filepath.Join(dir, "none.yml")); code != ExitUsage || !strings.Contains(errs, "none.yml") {
		t.Errorf("missing file: exit %d, %s", code, errs)
	}
}

// TestSARIFPathsFromTheRepoRoot: code scanning resolves a SARIF result's path against the repository
// root, so lint and check write paths from there, whatever directory they run from or were given,
// percent-encoded, with columns counted in characters.
func TestSARIFPathsFromTheRepoRoot(t *testing.T) {
	root := t.TempDir()
	if out, err := exec.Command("git", "-C", root, "init", "-q").CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	m := filepath.Join(root, "db", "m")
	if err := os.MkdirAll(m, 0o755); err != nil {
		t.Fatal(err)
	}
	f := writeSQL(t, m, "2_a b#c.sql", "/* ééé */ ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n")
	sarif := filepath.Join(t.TempDir(), "out.sarif")
	if code, _, errs := lintRun(t, f, "--sarif", sarif); code != ExitBlocked {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(sarif)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"uri": "db/m/2_a%20b%23c.sql"`, `"columnKind": "unicodeCodePoints"`, `"startColumn": 11`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("sarif lacks %s:\n%s", want, b)
		}
	}
}

// TestLintDirCarriesStateAcrossMigrations: lint --dir judges a folder's migrations in order, each
// knowing what the earlier ones built, as check does.
func TestLintDirCarriesStateAcrossMigrations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, sql := range map[string]string{
		"1_init.up.sql":     "CREATE TABLE users (id bigint PRIMARY KEY, email text);\nCREATE TABLE nopk (id bigint);\n",
		"2_check.up.sql":    "SET lock_timeout = '2s';\nSET statement_timeout = '1min';\nALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;\n",
		"3_validate.up.sql": "SET statement_timeout = '1min';\nALTER TABLE users VALIDATE CONSTRAINT email_nn;\n",
		"4_set_nn.up.sql":   "SET lock_timeout = '2s';\nSET statement_timeout = '1min';\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n",
		"5_idx.up.sql":      "SET statement_timeout = '1min';\nCREATE UNIQUE INDEX nopk_id_uidx ON nopk (id);\n",
		"6_pk.up.sql":       "SET lock_timeout = '2s';\nSET statement_timeout = '1min';\nALTER TABLE nopk ADD CONSTRAINT nopk_pk PRIMARY KEY USING INDEX nopk_id_uidx;\n",
	} {
		writeSQL(t, dir, name, sql)
	}
	_, out, errs := lintRun(t, "--dir", dir, "--format", "golang-migrate")
	if strings.Contains(out, "dangerous set-not-null") || !strings.Contains(out, "4_set_nn.up.sql:3:1: safe set-not-null-proven") {
		t.Errorf("SET NOT NULL after a CHECK validated in an earlier migration:\n%s\n%s", out, errs)
	}
	if !strings.Contains(out, "6_pk.up.sql:3:1: dangerous constraint-using-index-nullable") {
		t.Errorf("PRIMARY KEY USING INDEX of an index built in an earlier migration:\n%s\n%s", out, errs)
	}
}

// A dir from schemagate.yml that is no folder used to be blamed on --dir, without the file's line.
func TestLintDirFromConfigNamesItsPlace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := writeSQL(t, dir, "schemagate.yml", "format: golang-migrate\ndir: nonexistent\n")
	none := filepath.Join(dir, "nonexistent")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"file", nil, []string{"--config", cfg}, "schemagate: " + cfg + ":2:6: dir " + none + ": not a directory\n"},
		{"environment", map[string]string{"SCHEMAGATE_DIR": "elsewhere"}, []string{"--config", cfg}, "schemagate: SCHEMAGATE_DIR elsewhere: not a directory\n"},
		{"flag", nil, []string{"--config", cfg, "--dir", none}, "schemagate: --dir " + none + ": not a directory\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, errs := run(t, tt.env, append([]string{"lint"}, tt.args...)...)
			if code != ExitUsage || errs != tt.want {
				t.Errorf("exit %d (want %d)\nstderr: %q\nwant    %q", code, ExitUsage, errs, tt.want)
			}
		})
	}
}

// TestLintFoldsRepeatedFindings: a script that repeats one statement printed one finding per statement
// (a seed of 200,000 UPDATEs: 200,000 findings, three lines each). As check's report does, lint takes
// findings alike into the first, saying how many more and through which line, in text, JSON and SARIF;
// the risk and the exit code are the same.
func TestLintFoldsRepeatedFindings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var sql strings.Builder
	for i := range 50 {
		fmt.Fprintf(&sql, "UPDATE t SET x = %d;\n", i)
	}
	f := writeSQL(t, dir, "seed.sql", sql.String())
	code, out, errs := lintRun(t, f)
	if code != ExitBlocked {
		t.Fatalf("exit %d, want %d: %s", code, ExitBlocked, errs)
	}
	if n := strings.Count(out, "dangerous backfill-in-migration"); n != 1 {
		t.Errorf("%d lines name backfill-in-migration, want 1:\n%s", n, out)
	}
	for _, want := range []string{f + ":1:1: dangerous backfill-in-migration: UPDATE of every row of t in the migration", "(and 49 more like it, through line 50)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errs, "1 finding: 1 dangerous") {
		t.Errorf("summary %q", errs)
	}
	sarif := filepath.Join(dir, "out.sarif")
	code, out, errs = lintRun(t, f, "--json", "--sarif", sarif)
	if code != ExitBlocked {
		t.Fatalf("--json: exit %d: %s", code, errs)
	}
	var doc struct {
		Findings []struct {
			Rule        string `json:"rule"`
			Line        int    `json:"line"`
			Repeated    int    `json:"repeated"`
			ThroughLine int    `json:"through_line"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if len(doc.Findings) != 1 || doc.Findings[0].Rule != "backfill-in-migration" || doc.Findings[0].Line != 1 || doc.Findings[0].Repeated != 49 || doc.Findings[0].ThroughLine != 50 {
		t.Errorf("findings %+v", doc.Findings)
	}
	b, err := os.ReadFile(sarif)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `"ruleId": "backfill-in-migration"`); n != 1 || !strings.Contains(string(b), "49 more like it") {
		t.Errorf("sarif has %d backfill-in-migration results:\n%s", n, b)
	}
}

// TestLintHelpListsTheToolsFailure: lint exits 1 when it cannot write a report (here a SARIF log to a
// full device), and its help lists that code with the others.
func TestLintHelpListsTheToolsFailure(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Fatalf("this test writes to /dev/full: %v", err)
	}
	risky := writeSQL(t, t.TempDir(), "risky.sql", "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n")
	if code, out, errs := lintRun(t, risky, "--sarif", "/dev/full"); code != ExitFailure || !strings.Contains(errs, "write SARIF") {
		t.Errorf("SARIF to a full device: exit %d, want %d\n%s%s", code, ExitFailure, out, errs)
	}
	code, out, errs := run(t, nil, "lint", "--help")
	if code != ExitOK || !strings.Contains(strings.Join(strings.Fields(out), " "), "2 usage or bad input, 1 the tool failed") {
		t.Errorf("lint --help: exit %d, the exit codes do not list 1:\n%s%s", code, out, errs)
	}
}
