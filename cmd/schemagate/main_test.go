package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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

// TestSignalExitCodes: a run stopped by Ctrl-C or SIGTERM exits 130 or 143, as shells and CI runners
// expect of an interrupted command, after cleaning up: no server of its own is left running. SIGHUP (the
// ssh session that ran it dropped) stops it the same way, exit 129: it used to kill the process at once,
// leaving its server (a deploy: its run unfinished, its lock row, no rollback). Its terminal is gone
// then: nobody reads its output, which must not stop the clean-up.
func TestSignalExitCodes(t *testing.T) {
	work := t.TempDir()
	bin := filepath.Join(work, "schemagate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := filepath.Join(work, "migrations")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A migration that runs until it is stopped.
	if err := os.WriteFile(filepath.Join(dir, "1_slow.up.sql"), []byte("SELECT pg_sleep(600);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sig  syscall.Signal
		want int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}, {syscall.SIGHUP, 129}} {
		cmd := exec.Command(bin, "check", "--dir", dir, "--format", "golang-migrate")
		cmd.Env = append(os.Environ(), "TMPDIR="+work)
		out, err := cmd.StderrPipe() // progress goes to stderr
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Signal once the migration runs: its progress line is out.
		sc := bufio.NewScanner(out)
		for sc.Scan() && !strings.Contains(sc.Text(), "1_slow") {
		}
		if err := cmd.Process.Signal(tc.sig); err != nil {
			t.Fatal(err)
		}
		if tc.sig == syscall.SIGHUP {
			out.Close() // the terminal hung up: its writes fail
		} else {
			go io.Copy(io.Discard, out)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
			t.Fatalf("%v: still running two minutes after the signal", tc.sig)
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != tc.want {
			t.Errorf("%v: exit %v, want %d", tc.sig, err, tc.want)
		}
	}
	// Every server the runs started is gone: none has its data folder under work.
	ps, _ := exec.Command("ps", "-eo", "args").Output()
	if strings.Contains(string(ps), work) {
		t.Errorf("a process of the interrupted runs is left:\n%s", ps)
	}
}
