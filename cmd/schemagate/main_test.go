package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestClosedStdoutDoesNotKill: `schemagate check | head -1` closes the pipe early. The run must finish
// (its report written, its throwaway server removed) instead of dying of SIGPIPE half way.
func TestClosedStdoutDoesNotKill(t *testing.T) {
	work := t.TempDir()
	bin := filepath.Join(work, "schemagate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	report := filepath.Join(work, "r.json")
	cmd := exec.Command(bin, "check", "--dir", "../../examples/shop", "--report-json", report)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := r.Read(make([]byte, 1)); err != nil { // the first byte of output, then nobody reads
		t.Fatal(err)
	}
	r.Close()
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) && !ee.Exited() {
		t.Fatalf("schemagate died of a signal: %v", err)
	}
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if _, err := os.Stat(report); err != nil {
		t.Errorf("the run did not finish: no report (%v); exit %v", err, cmd.ProcessState)
	}
}
