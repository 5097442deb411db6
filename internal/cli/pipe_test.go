package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNamedPipeInputsAreRefused: a named pipe given as the configuration file, a lint argument or a
// setup script is exit 2 naming it, at once; before, each read waited for a writer forever and neither
// Ctrl-C nor SIGTERM ended the run. Should a read block, the test's writer ends it, so the test fails
// instead of hanging.
func TestNamedPipeInputsAreRefused(t *testing.T) {
	dir := t.TempDir()
	pipe := func(name string) string {
		p := filepath.Join(dir, name)
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if w, err := os.OpenFile(p, os.O_RDWR, 0); err == nil {
				w.Close()
			}
		})
		return p
	}
	mig := filepath.Join(dir, "db")
	if err := os.Mkdir(mig, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(mig, "1_a.up.sql"), []byte("CREATE TABLE a (id int);\n"))
	writeFile(t, filepath.Join(mig, "1_a.down.sql"), []byte("DROP TABLE a;\n"))
	cfg, sql, setup := pipe("cfg.yml"), pipe("2_b.up.sql"), pipe("setup.sql")
	for _, tt := range []struct {
		args []string
		pipe string
	}{
		{[]string{"lint", "--config", cfg, "--dir", mig}, cfg},
		{[]string{"lint", sql}, sql},
		{[]string{"check", "--setup", setup, "--dir", mig}, setup},
	} {
		args := tt.args
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			type result struct {
				code     int
				out, err string
			}
			done := make(chan result, 1)
			go func() {
				code, out, errOut := runEnviron(t, map[string]string{"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME")}, args...)
				done <- result{code, out, errOut}
			}()
			select {
			case r := <-done:
				if r.code != ExitUsage || !strings.Contains(r.err, "not a regular file") || !strings.Contains(r.err, tt.pipe) {
					t.Errorf("exit %d, want %d naming the pipe as not a regular file\n%s\n%s", r.code, ExitUsage, r.out, r.err)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("still reading the named pipe after 20 s")
			}
		})
	}
}
