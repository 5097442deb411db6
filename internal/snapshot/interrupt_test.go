package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// interruptedRestoreEnv, set, makes the test binary a deploy that restores a snapshot while a Ctrl-C
// reaches its terminal's foreground process group ("url|dir"; see restoreThroughInterrupt).
const interruptedRestoreEnv = "SCHEMAGATE_TEST_INTERRUPTED_RESTORE"

// restoreThroughInterrupt is the process TestPGDumpRestoreOutlivesCtrlC interrupts: it snapshots the
// database, changes it, and restores the snapshot, catching SIGINT as the deploy does (a started
// restore runs to its end). It prints the restore's outcome and exits 0 when it went through.
func restoreThroughInterrupt(spec string) {
	f := strings.SplitN(spec, "|", 2)
	ctx := context.Background()
	p := &PGDump{URL: f[0], Dir: f[1], ExcludeSchemas: []string{"schemagate"}}
	_, restore, err := p.Snapshot(ctx, "interrupted")
	if err != nil {
		fmt.Println("snapshot:", err)
		os.Exit(2)
	}
	c, err := pgx.Connect(ctx, f[0])
	if err == nil {
		_, err = c.Exec(ctx, "DELETE FROM big WHERE id <= 10")
		c.Close(ctx)
	}
	if err != nil {
		fmt.Println("change:", err)
		os.Exit(2)
	}
	signal.Notify(make(chan os.Signal, 1), os.Interrupt) // caught, as the deploy catches it
	if err := restore(ctx); err != nil {
		fmt.Println("restore:", err)
		os.Exit(1)
	}
	fmt.Println("restored")
	os.Exit(0)
}

// TestPGDumpRestoreOutlivesCtrlC: a Ctrl-C in the terminal of a deploy that is restoring its snapshot
// goes to the terminal's whole foreground process group. The deploy catches it and lets the restore run
// to its end, as docs/deploy.md says, but psql and pg_restore were in the same group: psql got the
// SIGINT too, cancelled the statement under way, and the restore rolled back, leaving the database as
// the failed migration had left it. They now run in a process group of their own.
func TestPGDumpRestoreOutlivesCtrlC(t *testing.T) {
	t.Parallel()
	url, c, db := bigDatabase(t)
	ctx := t.Context()
	snapped := fingerprint(t, c)

	var out strings.Builder
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), interruptedRestoreEnv+"="+url+"|"+t.TempDir())
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the terminal's foreground job
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed once the deploy has exited, with waitErr
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	for {
		var pid int
		err := c.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'schemagate restore'
			AND state = 'active' AND query LIKE 'COPY public.big %'`, db).Scan(&pid)
		if err == nil {
			break
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		select {
		case <-exited:
			t.Fatalf("the deploy ended (%v) before its restore copied table big:\n%s", waitErr, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	// Ctrl-C: the terminal signals its foreground process group.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-exited
	if waitErr != nil {
		t.Fatalf("restore after a Ctrl-C: %v\n%s", waitErr, out.String())
	}
	if got := fingerprint(t, c); got != snapped {
		t.Errorf("the restore did not bring the snapshot back:\n--- snapshot\n%s\n--- after\n%s", snapped, got)
	}
}

// TestToolVersionOutOfTheTerminalsGroup: the restore first reads its client's version (pg_dump
// --version), which ran in the deploy's process group: a Ctrl-C at that moment killed it, and the restore
// failed as if the client did not run ("reinstall it"). It runs in a process group of its own, as
// pg_restore and psql do.
func TestToolVersionOutOfTheTerminalsGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := dir + "/pg_dump"
	script := "#!/bin/sh\nps -o pgid= -p $$ > " + dir + "/pgid\necho 'pg_dump (PostgreSQL) 15.18'\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	version, major, err := toolVersion(t.Context(), bin)
	if err != nil || version != "15.18" || major != 15 {
		t.Fatalf("toolVersion: %q %d %v", version, major, err)
	}
	b, err := os.ReadFile(dir + "/pgid")
	if err != nil {
		t.Fatal(err)
	}
	if pgid := strings.TrimSpace(string(b)); pgid == fmt.Sprint(syscall.Getpgrp()) {
		t.Errorf("pg_dump --version ran in the deploy's process group %s, which a Ctrl-C in its terminal signals", pgid)
	}
}
