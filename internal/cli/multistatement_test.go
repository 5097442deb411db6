package cli

import (
	"os"
	"path/filepath"
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
