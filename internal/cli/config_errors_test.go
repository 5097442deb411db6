package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckNamesTheFlag: a bad value given by a flag or an environment variable used to be reported as
// the configuration's ("invalid configuration: database.pg_version: ..."), sending the user to a file that
// does not hold it.
func TestCheckNamesTheFlag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mig := filepath.Join(dir, "m")
	if err := os.Mkdir(mig, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSQL(t, mig, "1_a.up.sql", "CREATE TABLE t (id bigint);\n")
	empty := writeSQL(t, dir, "empty.sql", "-- nothing\n")
	cfg := writeSQL(t, dir, "schemagate.yml", "database:\n  setup: [empty.sql]\n")
	const noServer = "postgres://127.0.0.1:1/x" // the setup is read before any server is reached
	// An empty entry used to be read as the folder of the file: "database.setup: : is a directory".
	blank := writeSQL(t, dir, "blank.yml", "database:\n  setup: ['']\n")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"--pg-version", nil, []string{"--pg-version", "99"}, "schemagate: --pg-version: PostgreSQL version 99 is not supported (want 10 to 19)\n"},
		{"--pg-version minor", nil, []string{"--pg-version", "15.2"}, "schemagate: invalid argument \"15.2\" for \"--pg-version\" flag: 15.2 is not a major version (write 15)\n"},
		{"SCHEMAGATE_PG_VERSION", map[string]string{"SCHEMAGATE_PG_VERSION": "9"}, nil, "schemagate: SCHEMAGATE_PG_VERSION: PostgreSQL version 9 is not supported (want 10 to 19)\n"},
		{"--provider", nil, []string{"--provider", "podman"}, "schemagate: --provider: unknown provider \"podman\" (want auto, local, docker or url)\n"},
		{"--format", nil, []string{"--format", "flywayy"}, "schemagate: --format: unknown migration format \"flywayy\""},
		{"--rule", nil, []string{"--rule", "drop-tabel=off"}, "schemagate: --rule: unknown rule id \"drop-tabel\" (did you mean \"drop-table\"?)\n"},
		{"--setup", nil, []string{"--setup", empty, "--database-url", noServer}, "schemagate: --setup: " + empty + " holds no SQL statement\n"},
		{"database.setup", nil, []string{"--config", cfg, "--database-url", noServer}, "schemagate: " + cfg + ":2:11: database.setup: " + empty + " holds no SQL statement\n"},
		{"--setup empty", nil, []string{"--setup", ""}, "schemagate: --setup: empty: name an SQL file\n"},
		{"database.setup empty", nil, []string{"--config", blank}, "schemagate: invalid configuration: " + blank + ":2:11: database.setup[0]: empty: name an SQL file\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"check", "-q", "--dir", mig, "--no-trace"}, tt.args...)
			code, _, errs := run(t, tt.env, args...)
			if code != ExitUsage || !strings.HasPrefix(errs, tt.want) {
				t.Errorf("exit %d (want %d)\nstderr: %q\nwant    %q", code, ExitUsage, errs, tt.want)
			}
		})
	}
}

// TestDeployWithoutConfigFile: deploy --env with no schemagate.yml at all used to say
// `schemagate.yml: no environment "production" (configured: )`.
func TestDeployWithoutConfigFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, cmd := range []string{"deploy", "window"} {
		code, _, errs := run(t, nil, cmd, "--env", "production")
		want := `schemagate: no schemagate.yml here: environment "production" is read from it; create one with a section environments: production: (windows, snapshot…: see Deploy in the README), or give --config FILE` + "\n"
		if code != ExitUsage || errs != want {
			t.Errorf("%s: exit %d\nstderr: %q\nwant    %q", cmd, code, errs, want)
		}
	}
	writeSQL(t, dir, "schemagate.yml", "dir: db\n")
	code, _, errs := run(t, nil, "deploy", "--env", "production")
	if want := `schemagate: schemagate.yml: no environment "production": none is configured; add a section environments: production:` + "\n"; code != ExitUsage || errs != want {
		t.Errorf("no environments: exit %d\nstderr: %q\nwant    %q", code, errs, want)
	}
	writeSQL(t, dir, "schemagate.yml", "environments:\n  staging: {snapshot: {kind: none}}\n  qa: {snapshot: {kind: none}}\n")
	code, _, errs = run(t, nil, "deploy", "--env", "production")
	if want := `schemagate: schemagate.yml: no environment "production" (configured: qa, staging)` + "\n"; code != ExitUsage || errs != want {
		t.Errorf("other environments: exit %d\nstderr: %q\nwant    %q", code, errs, want)
	}
}

// TestCheckMissingDirSaysWhereItCameFrom: check's error for a migration folder that does not exist says
// where the folder's name came from: the file's dir (at its line), SCHEMAGATE_DIR or --dir.
func TestCheckMissingDirSaysWhereItCameFrom(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := writeSQL(t, dir, "schemagate.yml", "format: golang-migrate\ndir: nonexistent\n")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"file", nil, []string{"--config", cfg}, "(set by dir at " + cfg + ":2:6; fix it there or pass --dir)"},
		{"environment", map[string]string{"SCHEMAGATE_DIR": filepath.Join(dir, "elsewhere")}, []string{"--config", cfg}, "(check SCHEMAGATE_DIR)"},
		{"flag", nil, []string{"--config", cfg, "--dir", filepath.Join(dir, "other")}, "(check --dir)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, errs := run(t, tt.env, append([]string{"check"}, tt.args...)...)
			if code != ExitUsage || !strings.Contains(errs, "not found "+tt.want) {
				t.Errorf("exit %d (want %d)\nstderr: %q\nwant it to end %q", code, ExitUsage, errs, tt.want)
			}
		})
	}
}

// TestMissingConfigFile: a --config that names no file is bad input (exit 2) that says so plainly, in
// every command that reads one, not the system call's "openat ...: no such file or directory".
func TestMissingConfigFile(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "schemagate.yml")
	sql := writeSQL(t, t.TempDir(), "m.sql", "SELECT 1;\n")
	for _, args := range [][]string{
		{"check", "--config", missing, "--dir", "m"},
		{"lint", "--config", missing, sql},
		{"gate", "--config", missing, "--repo", "a/b", "--pr", "1"},
		{"window", "--config", missing, "--env", "prod"},
	} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t, nil, args...)
			if want := "schemagate: read configuration: " + missing + ": no such file\n"; code != ExitUsage || errOut != want {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%q\nwant %q", code, ExitUsage, out, errOut, want)
			}
		})
	}
}
