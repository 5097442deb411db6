package cli

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
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

// TestWriteFileWholeIntoAPipe: a report sent to something that is not a regular file (--report-json
// /dev/null, a named pipe) is written into it; the device or pipe is never replaced by a file.
func TestWriteFileWholeIntoAPipe(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	got := make(chan string, 1)
	go func() {
		b, _ := os.ReadFile(p)
		got <- string(b)
	}()
	if err := writeFileWhole(p, []byte("report")); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "report" {
			t.Errorf("read %q from the pipe, want report", s)
		}
	case <-time.After(5 * time.Second):
		t.Error("nothing was written into the pipe")
	}
	if info, err := os.Lstat(p); err != nil || info.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe was replaced: %v %v", info.Mode(), err)
	}
}
