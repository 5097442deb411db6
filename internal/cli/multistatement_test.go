package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestCheckGolangMigrateMultiStatement: golang_migrate.multi_statement in schemagate.yml reaches check's
// reading of the folder (with --base, whose history holds a CREATE INDEX CONCURRENTLY among other
// statements) and lint's: the file golang-migrate runs statement by statement passes, where without
// the setting it fails as one query (25001) and lint says concurrently-in-transaction.
func TestCheckGolangMigrateMultiStatement(t *testing.T) {
	requirePG(t)
	files := func(n, up, down string) map[string]string {
		return map[string]string{"db/migrations/" + n + ".up.sql": up, "db/migrations/" + n + ".down.sql": down}
	}
	base := files("1_a", "CREATE TABLE a (id bigint);\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n", "DROP TABLE a;\n")
	pr := files("2_b", "CREATE TABLE b (id bigint);\nCREATE INDEX CONCURRENTLY b_id ON b (id);\n", "DROP TABLE b;\n")
	pr["schemagate.yml"] = "golang_migrate:\n  multi_statement: true\n"
	root := prRepo(t, base, pr)
	cfg, dir := filepath.Join(root, "schemagate.yml"), filepath.Join(root, "db", "migrations")
	code, out, errOut := run(t, nil, "check", "--config", cfg, "--dir", dir, "--base", "main", "-q")
	if code != ExitOK {
		t.Fatalf("check with multi_statement: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if code, out, errOut = run(t, nil, "lint", "--config", cfg, "--dir", dir); strings.Contains(out+errOut, "concurrently-in-transaction") {
		t.Errorf("lint with multi_statement: exit %d, says concurrently-in-transaction:\n%s%s", code, out, errOut)
	}
	empty := filepath.Join(t.TempDir(), "schemagate.yml")
	writeFile(t, empty, []byte("format: golang-migrate\n"))
	code, out, errOut = run(t, nil, "check", "--config", empty, "--dir", dir, "-q")
	if code != ExitBlocked || !strings.Contains(out, "CREATE INDEX CONCURRENTLY cannot run inside a transaction block") {
		t.Fatalf("check without multi_statement: exit %d, want %d and 25001\nstdout:\n%s\nstderr:\n%s", code, ExitBlocked, out, errOut)
	}
	if _, out, errOut = run(t, nil, "lint", "--config", empty, "--dir", dir); !strings.Contains(out+errOut, "concurrently-in-transaction") {
		t.Errorf("lint without multi_statement does not say concurrently-in-transaction:\n%s%s", out, errOut)
	}
}

// TestDeployGolangMigrateMultiStatement: deploy runs a golang-migrate file as x-multi-statement does
// when schemagate.yml says so: a CREATE INDEX CONCURRENTLY after another statement builds a valid index,
// where without the setting the file is one query, and the deploy fails as golang-migrate would.
func TestDeployGolangMigrateMultiStatement(t *testing.T) {
	for _, multi := range []bool{true, false} {
		t.Run(map[bool]string{true: "x-multi-statement", false: "one query"}[multi], func(t *testing.T) {
			url := pgtest.URL(t)
			app := t.TempDir()
			mig := filepath.Join(app, "migrations")
			if err := os.MkdirAll(mig, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(mig, "1_a.up.sql"), []byte("CREATE TABLE a (id bigint);\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n"))
			writeFile(t, filepath.Join(mig, "1_a.down.sql"), []byte("DROP TABLE a;\n"))
			yml := "dir: migrations\nformat: golang-migrate\nenvironments:\n  prod:\n    snapshot: {kind: none}\n"
			if multi {
				yml += "golang_migrate:\n  multi_statement: true\n"
			}
			cfg := filepath.Join(app, "schemagate.yml")
			writeFile(t, cfg, []byte(yml))
			env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": url, "USER": "ci"}
			code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg)
			if !multi {
				if code == ExitOK || !strings.Contains(out+errOut, "cannot run inside a transaction block") {
					t.Fatalf("deploy as one query: exit %d, want a failure with 25001\n%s\n%s", code, out, errOut)
				}
				return
			}
			if code != ExitOK {
				t.Fatalf("deploy: exit %d\n%s\n%s", code, out, errOut)
			}
			conn, err := pgx.Connect(t.Context(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(t.Context())
			var valid bool
			if err := conn.QueryRow(t.Context(), "SELECT indisvalid FROM pg_index WHERE indexrelid = 'a_id'::regclass").Scan(&valid); err != nil || !valid {
				t.Errorf("index a_id: valid %v, %v", valid, err)
			}
		})
	}
}

// TestRollbackScriptGolangMigrateMultiStatement: golang-migrate with x-multi-statement cuts a file at
// every ';', also inside a comment or a function body. rollback-script wrote its header's comments with
// ';' in them (the DATA LOSS line), so the written down failed to parse as golang-migrate runs it; the
// comments now hold none, and the down checks clean. A down whose SQL hides a ';' (a function body,
// which golang-migrate would send in pieces) is now unverified, naming the line and column of the cut.
func TestRollbackScriptGolangMigrateMultiStatement(t *testing.T) {
	requirePG(t)
	cfg := filepath.Join(t.TempDir(), "schemagate.yml")
	writeFile(t, cfg, []byte("format: golang-migrate\ngolang_migrate:\n  multi_statement: true\n"))

	t.Run("comments", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "1_t.up.sql"), []byte("CREATE TABLE t (id int, c int);\n"))
		writeFile(t, filepath.Join(dir, "1_t.down.sql"), []byte("DROP TABLE t;\n"))
		writeFile(t, filepath.Join(dir, "2_c.up.sql"), []byte("ALTER TABLE t DROP COLUMN c;\n"))
		down := filepath.Join(dir, "2_c.down.sql")
		code, out, errOut := run(t, nil, "rollback-script", "--config", cfg, "--dir", dir, "-q", "-o", down, "2")
		if code != ExitOK {
			t.Fatalf("rollback-script: exit %d\n%s%s", code, out, errOut)
		}
		b, err := os.ReadFile(down)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "-- DATA LOSS") || strings.Contains(string(b), ";\n-- ") || strings.Count(string(b), ";") != 1 {
			t.Errorf("the down's comments hold a ';', or it lacks the DATA LOSS line:\n%s", b)
		}
		// The written down is read, run and round-tripped as golang-migrate runs it.
		if code, out, errOut := run(t, nil, "check", "--config", cfg, "--dir", dir, "-q"); code != ExitOK {
			t.Errorf("check with the written down: exit %d\n%s%s\n%s", code, out, errOut, b)
		}
	})

	t.Run("function body", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "1_f.up.sql"), []byte("DROP FUNCTION answer();\n"))
		setup := filepath.Join(t.TempDir(), "setup.sql")
		writeFile(t, setup, []byte("CREATE FUNCTION answer() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 42; END $$;\n"))
		code, out, errOut := run(t, nil, "rollback-script", "--config", cfg, "--dir", dir, "--setup", setup, "-q", "1")
		if code != ExitBlocked || !strings.Contains(errOut, "NOT VERIFIED") || !strings.Contains(errOut, "x-multi-statement (golang_migrate.multi_statement) cuts this file at every semicolon, and the one at line") || out != "" {
			t.Fatalf("exit %d, want %d: unverified, not written, saying why\nstdout: %s\nstderr: %s", code, ExitBlocked, out, errOut)
		}
		file := filepath.Join(t.TempDir(), "1_f.down.sql")
		if code, _, errOut = run(t, nil, "rollback-script", "--config", cfg, "--dir", dir, "--setup", setup, "-q", "--force", "-o", file, "1"); code != ExitBlocked {
			t.Fatalf("--force: exit %d, want %d\n%s", code, ExitBlocked, errOut)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`the one at line (\d+), column (\d+)`).FindStringSubmatch(string(b))
		if m == nil {
			t.Fatalf("the written down does not name the cut:\n%s", b)
		}
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		lines := strings.Split(string(b), "\n")
		if line < 1 || line > len(lines) || col < 1 || col > len(lines[line-1]) || lines[line-1][col-1] != ';' || !strings.Contains(lines[line-1][:col], "RETURN 42") {
			t.Errorf("line %d, column %d is not the ';' after RETURN 42:\n%s", line, col, b)
		}
	})
}
