package proc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes the test binary, run again, act as schemagate starting a child (see helper).
const helperEnv = "SCHEMAGATE_PROC_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		helper(mode)
		return
	}
	os.Exit(m.Run())
}

// helper starts a sleep as schemagate starts its children, writes the pids that must die with it, one
// a line, and waits to be killed. mode "start": a sleep started with Start; "shell": a hook's script
// run with Shell, which starts a sleep of its own (a grandchild) and waits for it.
func helper(mode string) {
	var cmd *exec.Cmd
	switch mode {
	case "start":
		cmd = exec.Command("sleep", "600")
	case "shell":
		cmd = Shell(context.Background(), "sleep 600 & echo $!; wait")
	}
	cmd.Stdout = os.Stdout
	if err := Start(cmd); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(cmd.Process.Pid)
	_ = cmd.Wait()
	os.Exit(2) // killed before
}

// alive tells whether process pid runs (a zombie, which its new parent has not reaped yet, does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the name, in parentheses, may hold spaces
	return i >= 0 && !strings.HasPrefix(s[i+1:], " Z")
}

// TestChildrenDieWithSchemagate: schemagate (here the test binary run again) killed with SIGKILL, which
// it cannot catch, takes the children it started with it: a program started with Start (pg_dump,
// pg_restore, psql), and a hook's script run with Shell, the processes the script started too. They
// used to live on: a pg_dump kept its snapshot and its locks on the database.
func TestChildrenDieWithSchemagate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode string
		pids int // the lines the helper writes
	}{{"start", 1}, {"shell", 2}} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			parent := exec.Command(os.Args[0], "-test.run=^$")
			parent.Env = append(os.Environ(), helperEnv+"="+tc.mode)
			parent.Stderr = os.Stderr
			out, err := parent.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := parent.Start(); err != nil {
				t.Fatal(err)
			}
			var pids []int
			lines := bufio.NewScanner(out)
			for len(pids) < tc.pids && lines.Scan() {
				pid, err := strconv.Atoi(strings.TrimSpace(lines.Text()))
				if err != nil {
					t.Fatalf("helper wrote %q", lines.Text())
				}
				pids = append(pids, pid)
			}
			t.Cleanup(func() {
				for _, pid := range pids {
					if alive(pid) {
						_ = syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			})
			if len(pids) != tc.pids {
				parent.Process.Kill()
				t.Fatalf("helper wrote pids %v, want %d", pids, tc.pids)
			}
			for _, pid := range pids {
				if !alive(pid) {
					t.Fatalf("child %d is not running before its parent is killed", pid)
				}
			}
			if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = parent.Wait()
			// The kernel signals the children as the parent dies; they end soon after. A generous bound:
			// a child still there after it lives on.
			deadline := time.Now().Add(30 * time.Second)
			for _, pid := range pids {
				for alive(pid) && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				if alive(pid) {
					t.Errorf("process %d outlived schemagate's SIGKILL", pid)
				}
			}
		})
	}
}

// TestShellExitsAsTheScript: a script run with Shell exits with the script's status and writes what it
// writes, as under sh -c.
func TestShellExitsAsTheScript(t *testing.T) {
	t.Parallel()
	cmd := Shell(t.Context(), `echo "out $0"; echo err >&2; exit 3`)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := Output(cmd)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || string(out) != "out sh\n" || stderr.String() != "err\n" {
		t.Errorf("err %v, stdout %q, stderr %q; want exit 3, %q and %q", err, out, stderr.String(), "out sh\n", "err\n")
	}
}
