package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportsNeverOverwriteInput: a report path that is a migration file of the folder, or one that two
// outputs share, or "-" (no file), is refused before any work (exit 2), and the migration is untouched.
func TestReportsNeverOverwriteInput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	if err := os.CopyFS(dir, os.DirFS("../../examples/shop")); err != nil {
		t.Fatal(err)
	}
	mig := filepath.Join(dir, "0001_create_customers.up.sql")
	want, err := os.ReadFile(mig)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "r.out")
	for _, c := range []struct {
		name string
		args []string
		msg  string
	}{
		{"check over a migration", []string{"check", "-q", "--dir", dir, "--report-json", mig}, "a file of the migration folder"},
		{"lint over a migration", []string{"lint", "--dir", dir, "--sarif", mig}, "a file of the migration folder"},
		{"two outputs, one file", []string{"check", "-q", "--dir", dir, "--report-json", out, "--report-md", out}, "the same file as"},
		{"the standard output", []string{"lint", "--dir", dir, "--sarif", "-"}, "--sarif -: reports are written to files"},
		{"lint into a missing folder", []string{"lint", "--dir", dir, "--sarif", filepath.Join(t.TempDir(), "no", "r.sarif")}, "does not exist"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, errOut := run(t, nil, c.args...)
			if code != ExitUsage || !strings.Contains(errOut, c.msg) {
				t.Errorf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", code, ExitUsage, c.msg, stdout, errOut)
			}
			if got, _ := os.ReadFile(mig); string(got) != string(want) {
				t.Fatalf("the migration was overwritten:\n%s", got)
			}
		})
	}
	// A new file in the folder, or one file per report, is fine.
	if code, stdout, errOut := run(t, nil, "lint", "--dir", dir, "--fail-on", "never", "--sarif", filepath.Join(dir, "lint.sarif")); code != ExitOK {
		t.Errorf("SARIF as a new file of the folder: exit %d\n%s\n%s", code, stdout, errOut)
	}
}

// TestCheckRefusedOutputKeepsReports: a run refused for one report's path (a folder) does not delete the
// report another flag names, whatever the order the paths are checked in; nothing ran.
func TestCheckRefusedOutputKeepsReports(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "report.json")
	writeFile(t, old, []byte(`{"ok": true}`))
	md, sarif := t.TempDir(), t.TempDir()
	for range 20 { // the order used to be a map's, which changes from run to run
		code, stdout, errOut := run(t, nil, "check", "-q", "--dir", "../../examples/shop", "--report-json", old, "--report-md", md, "--sarif", sarif)
		if code != ExitUsage || !strings.Contains(errOut, "is a folder") {
			t.Fatalf("exit %d, want %d saying the folder\nstdout:\n%s\nstderr:\n%s", code, ExitUsage, stdout, errOut)
		}
		if b, err := os.ReadFile(old); err != nil || string(b) != `{"ok": true}` {
			t.Fatalf("the existing report was lost: %q %v", b, err)
		}
	}
}

// TestReportsNeverOverwriteConfigOrSetup: a report path that is schemagate.yml or a setup script is
// refused before any work (exit 2). check used to delete both (as an earlier run's report) and then fail
// for the missing setup script.
func TestReportsNeverOverwriteConfigOrSetup(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "m"), os.DirFS("../../examples/shop")); err != nil {
		t.Fatal(err)
	}
	roles := writeSQL(t, dir, "roles.sql", "CREATE ROLE app;\n")
	cfg := writeSQL(t, dir, "schemagate.yml", "dir: m\ndatabase:\n  setup: [roles.sql]\n")
	for _, c := range []struct {
		name string
		args []string
		msg  string
	}{
		{"check over the configuration", []string{"check", "-q", "--config", cfg, "--report-json", cfg}, "the configuration file"},
		{"check over a setup script", []string{"check", "-q", "--config", cfg, "--report-md", roles}, "the setup script"},
		{"check over a --setup script", []string{"check", "-q", "--dir", filepath.Join(dir, "m"), "--setup", roles, "--sarif", roles}, "the setup script"},
		{"lint over the configuration", []string{"lint", "--config", cfg, "--sarif", cfg}, "the configuration file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, errOut := run(t, nil, c.args...)
			if code != ExitUsage || !strings.Contains(errOut, c.msg) {
				t.Errorf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", code, ExitUsage, c.msg, stdout, errOut)
			}
			if b, err := os.ReadFile(cfg); err != nil || string(b) != "dir: m\ndatabase:\n  setup: [roles.sql]\n" {
				t.Fatalf("schemagate.yml was changed: %q %v", b, err)
			}
			if b, err := os.ReadFile(roles); err != nil || string(b) != "CREATE ROLE app;\n" {
				t.Fatalf("roles.sql was changed: %q %v", b, err)
			}
		})
	}
}

// TestReportsNeverBecomeMigrations: a report path that is a new file of the migration folder, which the
// folder's tool would read as a migration's script (golang-migrate runs m/9999_evil.up.sql as migration
// 9999, goose a folder's 00009_r.sql), is refused before any work (exit 2), as rollback-script -o
// refuses one, and nothing is written there. A new file the tool passes by is still fine.
func TestReportsNeverBecomeMigrations(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	if err := os.CopyFS(dir, os.DirFS("../../examples/shop")); err != nil {
		t.Fatal(err)
	}
	goose := t.TempDir()
	writeSQL(t, goose, "00001_a.sql", "-- +goose Up\nCREATE TABLE a (id bigint PRIMARY KEY);\n-- +goose Down\nDROP TABLE a;\n")
	evil := filepath.Join(dir, "9999_evil.up.sql")
	for _, c := range []struct {
		name string
		args []string
		path string
	}{
		{"check --report-json", []string{"check", "-q", "--dir", dir, "--report-json", evil}, evil},
		{"check --report-md", []string{"check", "-q", "--dir", dir, "--report-md", evil}, evil},
		{"check --sarif", []string{"check", "-q", "--dir", dir, "--sarif", evil}, evil},
		{"check --report-json, the other reports outside", []string{"check", "-q", "--dir", dir, "--report-md", filepath.Join(t.TempDir(), "r.md"), "--report-json", evil}, evil},
		{"lint --sarif", []string{"lint", "--dir", dir, "--sarif", evil}, evil},
		{"lint --sarif, the folder from schemagate.yml", []string{"lint", "--config", writeSQL(t, filepath.Dir(dir), "schemagate.yml", "dir: m\n"), "--sarif", evil}, evil},
		{"a goose folder", []string{"check", "-q", "--dir", goose, "--report-json", filepath.Join(goose, "00009_r.sql")}, filepath.Join(goose, "00009_r.sql")},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, errOut := run(t, nil, c.args...)
			if code != ExitUsage || !strings.Contains(errOut, "would be a file of the migration folder") || !strings.Contains(errOut, "that the folder's tool reads") {
				t.Errorf("exit %d, want %d saying the tool would read the report as a migration\nstdout:\n%s\nstderr:\n%s", code, ExitUsage, stdout, errOut)
			}
			if _, err := os.Stat(c.path); !os.IsNotExist(err) {
				t.Errorf("%s was written (%v)", c.path, err)
				os.Remove(c.path)
			}
		})
	}
	if code, stdout, errOut := run(t, nil, "lint", "--dir", dir, "--fail-on", "never", "--sarif", filepath.Join(dir, "report.sarif")); code != ExitOK {
		t.Errorf("SARIF as a new file the tool passes by: exit %d\n%s\n%s", code, stdout, errOut)
	}
}

// TestDeployReportsNeverBecomeMigrations: deploy's --report-json and --report-md were checked against
// each other only, not against the migration folder as check's are: --report-json m/9999_evil.up.sql
// wrote the report where golang-migrate runs it as migration 9999 (and the next deploy would apply it),
// and --report-md m/1_a.up.sql wrote over a migration. Both are refused before any work (exit 2, the
// server never asked), naming the flag, the file and why, and nothing is written; a new file the
// folder's tool passes by is still written (here after a deploy the unreachable server blocks, exit 3).
func TestDeployReportsNeverBecomeMigrations(t *testing.T) {
	t.Parallel()
	const up = "CREATE TABLE a (id int);"
	cfg := deployFolder(t, map[string]string{"1_a.up.sql": up, "1_a.down.sql": "DROP TABLE a;"}, "")
	migs := filepath.Join(filepath.Dir(cfg), "migrations")
	env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?connect_timeout=2", "USER": "ci"}
	evil := filepath.Join(migs, "9999_evil.up.sql")
	for _, c := range []struct {
		name, flag, path, want string
	}{
		{"--report-json, a new migration", "--report-json", evil, "--report-json " + evil + " would be a file of the migration folder " + migs + " that the folder's tool reads as a script of migration 9999_evil: write reports outside the folder"},
		{"--report-md, a new migration", "--report-md", evil, "--report-md " + evil + " would be a file of the migration folder"},
		{"--report-md, over a migration", "--report-md", filepath.Join(migs, "1_a.up.sql"), "--report-md " + filepath.Join(migs, "1_a.up.sql") + ": a file of the migration folder " + migs + ": the report would overwrite it; write reports outside the folder"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, c.flag, c.path)
			if code != ExitUsage || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, want %d saying %q\nstdout:\n%s\nstderr:\n%s", code, ExitUsage, c.want, out, errOut)
			}
			if strings.Contains(errOut, "cannot connect") {
				t.Errorf("the deploy went as far as the server before refusing the report:\n%s", errOut)
			}
			if _, err := os.Stat(evil); !os.IsNotExist(err) {
				t.Errorf("%s was written (%v)", evil, err)
				os.Remove(evil)
			}
			if got, err := os.ReadFile(filepath.Join(migs, "1_a.up.sql")); err != nil || string(got) != up {
				t.Errorf("1_a.up.sql holds %q (%v), want the migration kept", got, err)
			}
		})
	}
	passedBy := filepath.Join(migs, "deploy.json")
	code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--report-json", passedBy)
	if _, err := os.Stat(passedBy); code != ExitBlocked || err != nil {
		t.Errorf("a report the folder's tool passes by: exit %d (want %d, the server unreachable), written: %v\nstdout:\n%s\nstderr:\n%s", code, ExitBlocked, err, out, errOut)
	}
}

// TestDeployReportNeverOverwritesTheConfiguration: deploy refuses a report path that is its own
// configuration file, as check does, before any work: --report-md schemagate.yml wrote the report over
// the file that holds the environments, windows and snapshot settings.
func TestDeployReportNeverOverwritesTheConfiguration(t *testing.T) {
	t.Parallel()
	cfg := deployFolder(t, map[string]string{"1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE a;"}, "")
	before, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?connect_timeout=2", "USER": "ci"}
	for _, flag := range []string{"--report-json", "--report-md"} {
		code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, flag, cfg)
		want := flag + " " + cfg + ": the configuration file " + cfg + ": the report would overwrite it"
		if code != ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("%s over the configuration: exit %d, want %d saying %q\nstdout:\n%s\nstderr:\n%s", flag, code, ExitUsage, want, out, errOut)
		}
		if strings.Contains(errOut, "cannot connect") {
			t.Errorf("%s: the deploy went as far as the server before refusing the report:\n%s", flag, errOut)
		}
		if got, err := os.ReadFile(cfg); err != nil || string(got) != string(before) {
			t.Fatalf("%s: the configuration file now holds %q (%v)", flag, got, err)
		}
	}
}
