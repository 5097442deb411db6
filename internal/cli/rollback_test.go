package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRollbackScriptNamesTheFailingFile: a migration that fails to apply (the one rolled back, or one
// before it) is bad input, exit 2, and its SQL error names the file from where the command runs
// (DIR/2_b.up.sql:2:13), as check does, not from inside the folder (2_b.up.sql:2:13), which no editor
// opened here finds.
func TestRollbackScriptNamesTheFailingFile(t *testing.T) {
	requirePG(t)
	dir := filepath.Join(t.TempDir(), "db")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSQL(t, dir, "1_a.up.sql", "CREATE TABLE a (id bigint);\n")
	writeSQL(t, dir, "1_a.down.sql", "DROP TABLE a;\n")
	writeSQL(t, dir, "2_b.up.sql", "CREATE TABLE b (id bigint);\nINSERT INTO nosuch VALUES (1);\n")
	writeSQL(t, dir, "3_c.up.sql", "CREATE TABLE c (id bigint);\n")
	want := filepath.ToSlash(filepath.Join(dir, "2_b.up.sql")) + ":2:13: relation \"nosuch\" does not exist"
	for _, version := range []string{"2", "3"} {
		t.Run(version, func(t *testing.T) {
			code, out, errOut := run(t, nil, "rollback-script", "--dir", dir, "--version", version, "-q")
			if code != ExitUsage || !strings.Contains(errOut, want) {
				t.Errorf("exit %d, want %d naming %s\nstdout: %s\nstderr: %s", code, ExitUsage, want, out, errOut)
			}
		})
	}
}
