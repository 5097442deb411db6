package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckSaysItParsesABigSeed: a folder with a seed of megabytes says so before it parses it, and the
// rehearsal before it lints it: a 65 MB seed took 20 s before the first line. -q stays quiet.
func TestCheckSaysItParsesABigSeed(t *testing.T) {
	requirePG(t)
	dir := filepath.Join(t.TempDir(), "db")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("INSERT INTO items (id, descr) VALUES\n")
	for i := 0; b.Len() < 9<<20; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "(%d, '%s %d')", i, strings.Repeat("x", 120), i)
	}
	b.WriteString(";\n")
	files := map[string]string{
		"1_items.up.sql":   "CREATE TABLE items (id bigint PRIMARY KEY, descr text);\n",
		"1_items.down.sql": "DROP TABLE items;\n",
		"2_seed.up.sql":    b.String(),
		"2_seed.down.sql":  "DELETE FROM items;\n",
	}
	for name, sql := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := run(t, nil, "check", "--dir", dir, "--no-roundtrip")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	lines := strings.Split(errOut, "\n")
	if want := "reading " + dir + ": 9 MiB of SQL to parse"; lines[0] != want {
		t.Errorf("first line %q, want %q; stderr:\n%s", lines[0], want, errOut)
	}
	if !strings.Contains(errOut, "\nlinting 2 new migrations: 9 MiB of SQL\n") {
		t.Errorf("no line before the lint:\n%s", errOut)
	}
	code, out, errOut = run(t, nil, "check", "-q", "--dir", dir, "--no-roundtrip")
	if code != ExitOK || errOut != "" {
		t.Errorf("-q: exit %d, stderr:\n%s\nstdout:\n%s", code, errOut, out)
	}
}
