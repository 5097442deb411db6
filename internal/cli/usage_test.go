package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
)

// TestUsageErrorsExit2: cobra's own errors (an unknown command, an argument a command does not take,
// too many arguments, an unknown flag) are usage errors, exit 2, not failures of the tool (exit 1).
func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		stderr []string
	}{
		{"extra argument", []string{"check", "--dir", "shop", "extra-arg"}, []string{`schemagate check takes no arguments: unexpected argument "extra-arg"`, "Run 'schemagate check --help' for usage."}},
		{"unknown command", []string{"nosuchcmd"}, []string{`unknown command "nosuchcmd" for "schemagate"`, "Run 'schemagate --help' for usage."}},
		{"misspelt command", []string{"chek"}, []string{"schemagate: unknown command \"chek\" for \"schemagate\"\n  did you mean check?\nRun 'schemagate --help' for usage.\n"}},
		// cobra's "\n\nDid you mean this?\n\t" used to be printed escaped, on one line.
		{"prefix of a command", []string{"rollback"}, []string{"schemagate: unknown command \"rollback\" for \"schemagate\"\n  did you mean rollback-script?\nRun 'schemagate --help' for usage.\n"}},
		{"window extra argument", []string{"window", "--env", "x", "extra"}, []string{`schemagate window takes no arguments: unexpected argument "extra"`}},
		{"too many arguments", []string{"rollback-script", "--dir", "gd", "4", "5"}, []string{"accepts at most 1 arg(s), received 2"}},
		{"unknown flag", []string{"window", "--frobnicate"}, []string{"unknown flag: --frobnicate"}},
		{"bad flag value", []string{"window", "--env", "x", "--count", "many"}, []string{`invalid argument "many"`}},
		{"unknown root flag", []string{"--frobnicate"}, []string{"unknown flag: --frobnicate"}},
		// cobra's completion command printed its help and exited 0 for a shell it does not know, and
		// exited 1 for an argument after the shell.
		{"unknown shell", []string{"completion", "nope"}, []string{`unknown shell "nope" for "schemagate completion": want one of bash, fish, powershell, zsh`}},
		{"argument after the shell", []string{"completion", "bash", "extra"}, []string{`schemagate completion bash takes no arguments: unexpected argument "extra"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, errs := run(t, nil, tt.args...)
			if code != ExitUsage {
				t.Errorf("%v: exit %d, want %d\n%s", tt.args, code, ExitUsage, errs)
			}
			for _, w := range tt.stderr {
				if !strings.Contains(errs, w) {
					t.Errorf("%v: stderr lacks %q:\n%s", tt.args, w, errs)
				}
			}
		})
	}
	// What runs fine still exits 0.
	if code, out, errs := run(t, nil); code != ExitOK || !strings.Contains(out, "Available Commands") {
		t.Errorf("no arguments: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := run(t, nil, "help", "check"); code != ExitOK {
		t.Errorf("help check: exit %d\n%s", code, errs)
	}
	if code, out, errs := run(t, nil, "completion", "bash"); code != ExitOK || !strings.Contains(out, "__start_schemagate") {
		t.Errorf("completion bash: exit %d\n%.200s%s", code, out, errs)
	}
}

// TestLintDefaultsToMigrations: lint without --dir or FILE arguments reads ./migrations, as check, gate
// and deploy do, and says what to give when there is none.
func TestLintDefaultsToMigrations(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "migrations"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeSQL(t, filepath.Join(dir, "migrations"), "001_a.up.sql", "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n")
	t.Chdir(dir)
	code, out, errs := lintRun(t)
	if code != ExitBlocked || !strings.Contains(out, "migrations/001_a.up.sql:1:1: dangerous set-not-null") {
		t.Errorf("./migrations: exit %d\n%s\n%s", code, out, errs)
	}
	t.Chdir(t.TempDir())
	if code, _, errs := lintRun(t); code != ExitUsage || !strings.Contains(errs, "nothing to lint") || !strings.Contains(errs, "--dir") {
		t.Errorf("no ./migrations: exit %d\n%s", code, errs)
	}
}

// TestLintBadFormat: a bad format is reported as such, from the environment as from the flag, whether
// or not there is a folder to lint.
func TestLintBadFormat(t *testing.T) {
	t.Parallel()
	code, _, errs := run(t, map[string]string{"SCHEMAGATE_FORMAT": "xx"}, "lint")
	if code != ExitUsage || !strings.Contains(errs, `unknown migration format "xx"`) || !strings.Contains(errs, "SCHEMAGATE_FORMAT") {
		t.Errorf("SCHEMAGATE_FORMAT=xx: exit %d\n%s", code, errs)
	}
	code, _, errs = lintRun(t, "--format", "xx", "--dir", "testdata/lint/migrations")
	if code != ExitUsage || !strings.Contains(errs, `--format: unknown migration format "xx"`) {
		t.Errorf("--format xx: exit %d\n%s", code, errs)
	}
}

// TestWindowCountNote: when fewer windows than --count open within the two years window searches, it
// says so instead of quietly printing fewer.
func TestWindowCountNote(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "dst.yml")
	writeFile(t, cfg, []byte("environments:\n  p:\n    time_zone: Europe/Berlin\n    snapshot: {kind: none}\n    windows:\n"+
		"      - {cron: \"30 2 28 3 *\", duration: 1h}\n"))
	code, out, errs := runCLI(t, nil, "window", "--config", cfg, "--env", "p", "--count", "3", "--now", "2026-03-28T12:00:00Z")
	if code != ExitOK || strings.Count(out, " to ") != 2 || !strings.Contains(out, "only 2 of the 3 windows asked for open in the next two years") {
		t.Errorf("--count 3: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runCLI(t, nil, "window", "--config", cfg, "--env", "p", "--count", "2", "--now", "2026-03-28T12:00:00Z")
	if code != ExitOK || strings.Count(out, " to ") != 2 || strings.Contains(out, "only") {
		t.Errorf("--count 2: exit %d\n%s%s", code, out, errs)
	}
}

// TestRollbackScriptOutputCheckedFirst: an --output that cannot be written is a usage error found before
// the rehearsal (the unreachable server here would fail it with exit 1), as check does for its reports.
func TestRollbackScriptOutputCheckedFirst(t *testing.T) {
	t.Parallel()
	folder := t.TempDir()
	for _, tt := range []struct{ output, want string }{
		{filepath.Join(folder, "nonexistent", "x.sql"), "does not exist"},
		{folder, "is a folder"},
	} {
		code, out, errs := run(t, nil, "rollback-script", "--dir", "testdata/lint/migrations", "--version", "2",
			"--provider", "url", "--database-url", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2", "-o", tt.output)
		if code != ExitUsage || !strings.Contains(errs, "--output "+tt.output+": ") || !strings.Contains(errs, tt.want) {
			t.Errorf("-o %s: exit %d\n%s%s", tt.output, code, out, errs)
		}
	}
}

// TestReadWarningsAreShown: files the folder's tool reads otherwise than one expects (golang-migrate
// runs 2_b.up.pgsql; goose never reads 3_c.SQL) are said by lint and check, and check's report keeps
// them in its notes.
func TestReadWarningsAreShown(t *testing.T) {
	dir := t.TempDir()
	writeSQL(t, dir, "1_a.up.sql", "CREATE TABLE a (id int);\n")
	writeSQL(t, dir, "1_a.down.sql", "DROP TABLE a;\n")
	writeSQL(t, dir, "2_b.up.pgsql", "CREATE TABLE b (id int);\n")
	writeSQL(t, dir, "2_b.down.pgsql", "DROP TABLE b;\n")
	code, _, errs := lintRun(t, "--dir", dir, "--format", "golang-migrate")
	if code != ExitOK || !strings.Contains(errs, "2_b.up.pgsql: read as a migration") {
		t.Errorf("lint: exit %d, stderr:\n%s", code, errs)
	}
	report := filepath.Join(t.TempDir(), "r.json")
	code, _, errs = run(t, nil, "check", "--dir", dir, "--format", "golang-migrate", "--report-json", report)
	if code != ExitOK || !strings.Contains(errs, "2_b.up.pgsql: read as a migration") {
		t.Errorf("check: exit %d, stderr:\n%s", code, errs)
	}
	if b, err := os.ReadFile(report); err != nil || !strings.Contains(string(b), "2_b.up.pgsql: read as a migration") {
		t.Errorf("the report's notes lack the warning (%v)", err)
	}
}

// TestCheckFailOnSafe: --fail-on safe fails a check with any new migration, however safe.
func TestCheckFailOnSafe(t *testing.T) {
	dir := t.TempDir()
	writeSQL(t, dir, "1_a.up.sql", "CREATE TABLE a (id int);\n")
	writeSQL(t, dir, "1_a.down.sql", "DROP TABLE a;\n")
	if code, out, errs := run(t, nil, "check", "--dir", dir, "--format", "golang-migrate", "--fail-on", "safe"); code != ExitBlocked {
		t.Errorf("exit %d, want %d\n%s%s", code, ExitBlocked, out, errs)
	}
	if code, out, errs := run(t, nil, "check", "--dir", dir, "--format", "golang-migrate", "--fail-on", "dangerous"); code != ExitOK {
		t.Errorf("--fail-on dangerous: exit %d, want 0\n%s%s", code, out, errs)
	}
}

// TestConfigWordsAnyCase: --provider, --format (deploy's and rollback-script's too), SCHEMAGATE_PROVIDER
// and SCHEMAGATE_FORMAT take their words in any letter case, as schemagate.yml does (provider: Docker)
// and --fail-on does: they were refused as unknown.
func TestConfigWordsAnyCase(t *testing.T) {
	deployCfg := filepath.Join(t.TempDir(), "schemagate.yml")
	writeFile(t, deployCfg, []byte("environments:\n  prod:\n    snapshot: {kind: none}\n"))
	deployEnv := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": "postgres://ci@127.0.0.1:1/app"}
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		msg  string
	}{
		{"--format", nil, []string{"lint", "--dir", "../../examples/shop", "--format", "Golang-Migrate", "--fail-on", "never"}, ExitOK, "5 files"},
		{"SCHEMAGATE_FORMAT", map[string]string{"SCHEMAGATE_FORMAT": "GOLANG-MIGRATE"}, []string{"lint", "--dir", "../../examples/shop", "--fail-on", "never"}, ExitOK, "5 files"},
		{"check --format", nil, []string{"check", "--dir", "../../examples/shop", "--format", "GOOSE"}, ExitUsage, "no -- +goose Up section"},
		{"--provider", nil, []string{"check", "--dir", "../../examples/shop", "--provider", "URL"}, ExitUsage, "provider url needs database.url"},
		{"SCHEMAGATE_PROVIDER", map[string]string{"SCHEMAGATE_PROVIDER": "Url"}, []string{"check", "--dir", "../../examples/shop"}, ExitUsage, "provider url needs database.url"},
		{"deploy --format", deployEnv, []string{"deploy", "--env", "prod", "--config", deployCfg, "--dir", "../../examples/shop", "--format", "GOOSE"}, ExitUsage, "no -- +goose Up section"},
		{"rollback-script --format", nil, []string{"rollback-script", "--dir", "../../examples/shop", "--format", "GOOSE", "1"}, ExitUsage, "no -- +goose Up section"},
		{"rollback-script --provider", nil, []string{"rollback-script", "--dir", "../../examples/shop", "--provider", "URL", "1"}, ExitUsage, "provider url needs database.url"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := run(t, c.env, c.args...)
			if code != c.code || !strings.Contains(out+errOut, c.msg) {
				t.Errorf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", code, c.code, c.msg, out, errOut)
			}
		})
	}
}

// TestCheckHelpNamesTheConfigDefaults: check's --fail-on and --pg-version default to lint.fail_on and
// database.pg_version from schemagate.yml (policydir_test's check fails at a file's fail_on caution),
// and their help says so, not "never" or "the newest local" alone.
func TestCheckHelpNamesTheConfigDefaults(t *testing.T) {
	t.Parallel()
	code, out, errs := run(t, nil, "check", "--help")
	if code != ExitOK {
		t.Fatalf("check --help: exit %d\n%s", code, errs)
	}
	for flag, key := range map[string]string{"--fail-on": "lint.fail_on", "--pg-version": "database.pg_version"} {
		var usage string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), flag+" ") {
				usage = l
			}
		}
		if !strings.Contains(usage, "(default: "+key+" from schemagate.yml, else ") {
			t.Errorf("%s's help does not name %s as its default:\n%s", flag, key, usage)
		}
	}
}

// TestPRNumberBelowOneIsAUsageError: --pr takes a pull (merge) request number. One below 1 was taken
// for unset, or sent as is: comment --pr -5 looked the pull request up by an empty head SHA
// (GET /repos/a/b/commits//pulls) and failed as the tool (exit 1); gate asked for pull request #-5.
func TestPRNumberBelowOneIsAUsageError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rep := filepath.Join(dir, "report.json")
	if err := os.WriteFile(rep, []byte(`{"tool":"schemagate","dir":"db/migrations","ok":true,"migrations":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"comment", "--config", folderConfig(t, "db/migrations"), "--report", rep, "--repo", "acme/shop", "--pr", "-5"},
		{"comment", "--config", folderConfig(t, "db/migrations"), "--report", rep, "--repo", "acme/shop", "--pr", "0"},
		{"gate", "--report", rep, "--repo", "acme/shop", "--pr", "-5"},
		{"deploy", "--env", "production", "--pr", "-3"},
	} {
		t.Run(strings.Join(args[:1], " ")+" --pr "+args[len(args)-1], func(t *testing.T) {
			fake := githubtest.New(t) // no request may reach it
			env := map[string]string{"GITHUB_TOKEN": githubtest.Token, "GITHUB_API_URL": fake.URL()}
			code, out, errs := run(t, env, args...)
			if code != ExitUsage || !strings.Contains(errs, `invalid argument "`+args[len(args)-1]+`" for "--pr" flag`) {
				t.Errorf("%v: exit %d, want %d naming --pr\n%s%s", args, code, ExitUsage, out, errs)
			}
			if len(fake.Requests()) != 0 {
				t.Errorf("%v: requests sent: %v", args, fake.Requests())
			}
		})
	}
}
