package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteFileWhole: a report is written whole, readable by the next CI step, and a failed write
// leaves nothing behind.
func TestWriteFileWhole(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.json")
	writeFile(t, p, []byte("old, longer content"))
	if err := writeFileWhole(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("content %q", b)
	}
	if info, _ := os.Stat(p); info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", info.Mode())
	}
	if err := writeFileWhole(filepath.Join(dir, "none", "r.json"), []byte("x")); err == nil {
		t.Error("write into a missing folder succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left in the folder: %v", entries)
	}
}
