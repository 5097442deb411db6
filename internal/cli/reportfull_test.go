package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestDeployReportOnAFullDiskKeepsThePreviousFile: deploy --report-json on a full disk left a 0-byte
// report (os.Create truncated it before the write failed), which a later step (an artifact upload, a
// dashboard) took for the report, while --report-md was written to a temporary file and renamed. The JSON
// report is now written the same way: a failed write keeps the previous file, leaves no temporary file,
// and is a warning (the exit code still says how the deploy went). The disk is a tmpfs this test mounts,
// filled up: it needs root, as CAP_SYS_ADMIN.
func TestDeployReportOnAFullDiskKeepsThePreviousFile(t *testing.T) {
	t.Parallel()
	previous := map[string]string{"r.json": `{"outcome": "deployed", "previous": true}` + "\n", "r.md": "# the previous report\n"}
	dir := fullDisk(t, previous)
	// Reports of more than the page that truncating the previous one freed.
	files := map[string]string{}
	for i := 1; i <= 30; i++ {
		files[fmt.Sprintf("%d_t%d.up.sql", i, i)] = fmt.Sprintf("CREATE TABLE t%d (id int);", i)
		files[fmt.Sprintf("%d_t%d.down.sql", i, i)] = fmt.Sprintf("DROP TABLE t%d;", i)
	}
	cfg := deployFolder(t, files, "")
	env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": pgtest.URL(t), "USER": "ci"}
	code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg,
		"--report-json", filepath.Join(dir, "r.json"), "--report-md", filepath.Join(dir, "r.md"))
	if code != ExitOK {
		t.Fatalf("exit %d, want 0 (a report that cannot be written is a warning)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"the deploy's reports were not all written", "write JSON report", "write Markdown report", "no space left on device"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	for name, want := range previous {
		if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(got) != want {
			t.Errorf("%s holds %q (%v), want the previous report %q kept", name, got, err, want)
		}
	}
	diskHolds(t, dir, "fill r.json r.md")
}

// fullDisk is a tmpfs the test mounts (it needs root, as CAP_SYS_ADMIN; skipped otherwise) holding
// files (name -> content), then filled up: what is left is less than a page, so that a write of more
// than the page a truncated file frees fails with ENOSPC.
func fullDisk(t *testing.T, files map[string]string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting the full tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatalf("mount a tmpfs at %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	for name, data := range files {
		writeFile(t, filepath.Join(dir, name), []byte(data))
	}
	fill, err := os.Create(filepath.Join(dir, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = fill.Write(make([]byte, 4096))
	}
	fill.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("fill the tmpfs: %v, want ENOSPC", err)
	}
	return dir
}

// diskHolds fails t unless dir holds exactly the files named (sorted, space-separated): no temporary
// file left beside them.
func diskHolds(t *testing.T, dir, want string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != want {
		t.Errorf("the disk holds %s, want %s (no temporary file left)", got, want)
	}
}
