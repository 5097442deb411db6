package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestSqitchStrayDeployScriptIsANote: a deploy script no change of sqitch.plan names (a change taken out
// of the plan, deploy/flips_old.sql) is never opened by sqitch, which runs only what its plan names. lint,
// check and deploy used to refuse the folder over it (exit 2, "deploy script of no change in
// sqitch.plan"); they now say it is ignored, as they say of other tools' files those tools never read,
// and go on: the planned change is deployed, the stray script is not run.
func TestSqitchStrayDeployScriptIsANote(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	work := t.TempDir()
	migs := filepath.Join(work, "db")
	for name, text := range map[string]string{
		"sqitch.plan":          "%project=flipr\n\nusers 2024-01-01T00:00:00Z Dev <dev@example.com> # users\n",
		"sqitch.conf":          "[core]\n\tengine = pg\n",
		"deploy/users.sql":     "BEGIN;\nCREATE TABLE users (nickname text PRIMARY KEY);\nCOMMIT;\n",
		"revert/users.sql":     "BEGIN;\nDROP TABLE users;\nCOMMIT;\n",
		"deploy/flips_old.sql": "BEGIN;\nCREATE TABLE flips_old (id int);\nCOMMIT;\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(migs, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(migs, name), []byte(text))
	}
	cfg := filepath.Join(work, "schemagate.yml")
	writeFile(t, cfg, []byte("dir: db\nenvironments:\n  test:\n    database_url_env: XF_URL\n    snapshot: {kind: none}\n    require_approval: false\n    comment: false\n"))
	env := map[string]string{"XF_URL": url, "USER": "ci"}
	said := "deploy/flips_old.sql: ignored: deploy script of no change in sqitch.plan, which sqitch never runs"

	code, out, errOut := run(t, env, "lint", "--config", cfg)
	if code != ExitOK || !strings.Contains(out+errOut, said) {
		t.Errorf("lint: exit %d, want 0 with the note %q\nstdout:\n%s\nstderr:\n%s", code, said, out, errOut)
	}
	code, out, errOut = run(t, env, "check", "--config", cfg, "--no-roundtrip", "-q")
	if code != ExitOK {
		t.Errorf("check: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, env, "deploy", "--config", cfg, "--env", "test", "--no-comment", "--run-id", "r1")
	if code != ExitOK || !strings.Contains(out+errOut, said) {
		t.Fatalf("deploy: exit %d, want 0 with the note %q\nstdout:\n%s\nstderr:\n%s", code, said, out, errOut)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var users, old bool
	if err := conn.QueryRow(t.Context(), "SELECT to_regclass('users') IS NOT NULL, to_regclass('flips_old') IS NOT NULL").Scan(&users, &old); err != nil {
		t.Fatal(err)
	}
	if !users || old {
		t.Errorf("after the deploy users exists: %v, flips_old exists: %v; want the planned change only", users, old)
	}
}
