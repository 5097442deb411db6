// Package proc starts the child processes of schemagate so that they die with it, even when it is
// killed with SIGKILL, which it cannot catch: a pg_dump left running holds its snapshot and its locks
// on a production database, a restore's psql its transaction, a hook's script whatever it started.
//
// Linux sends a child its parent-death signal (SysProcAttr.Pdeathsig) when the thread that started it
// ends, not the process (go.dev/issue/27505), and the Go runtime ends a thread when a goroutine locked
// to it exits without unlocking. Start therefore starts each child from a goroutine locked to a thread
// of its own, which it keeps until the child has ended. A shell script's own children (a hook's
// pg_dump, a sleep) are not the child's: Shell runs the script under a shell that ends its whole
// process group when it gets the signal.
package proc

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Start starts cmd as cmd.Start does, its process getting SIGKILL when schemagate dies (or the signal
// cmd.SysProcAttr.Pdeathsig already names). The caller waits for it with cmd.Wait, as after cmd.Start.
func Start(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	if cmd.SysProcAttr.Pdeathsig == 0 {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	started := make(chan error, 1)
	go func() {
		// The thread stays this goroutine's until the child has ended, so that it does not end first
		// (another goroutine locked to it could end it) and signal a child that should live on.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		started <- err
		if err != nil {
			return
		}
		// Until the child exits, without reaping it (WNOWAIT): that is cmd.Wait's, the caller's. Once
		// cmd.Wait has reaped it, waitid fails (ECHILD), which ends this too.
		var info unix.Siginfo
		for {
			err := unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
			if !errors.Is(err, unix.EINTR) {
				return
			}
		}
	}()
	return <-started
}

// Run starts cmd with Start and waits for it, as cmd.Run does.
func Run(cmd *exec.Cmd) error {
	if err := Start(cmd); err != nil {
		return err
	}
	return cmd.Wait()
}

// Output runs cmd with Run and returns its standard output, as cmd.Output does (its standard error
// is left to cmd.Stderr).
func Output(cmd *exec.Cmd) ([]byte, error) {
	var out bytes.Buffer
	cmd.Stdout = &out
	err := Run(cmd)
	return out.Bytes(), err
}

// shellGuard runs the script in $1 with sh in the background and waits for it, exiting as it exits.
// Its process group is the command's own (Setpgid): the hangup that Shell's command gets when
// schemagate dies, as its parent-death signal, makes it kill the whole group (kill 0), the script's
// children with it. A shell runs a trap only once its foreground command ends, hence the script in the
// background and the wait, which a trapped signal interrupts. Nothing else sends the group a hangup: it
// has no terminal.
const shellGuard = `trap 'kill -KILL 0' HUP
sh -c "$1" &
wait $!`

// Shell returns the command that runs script with sh -c in a process group of its own (its pid is the
// group's id), for Start: when schemagate dies, the script and every process of the group end (a child
// that made a group or session of its own, as a daemon does, is beyond its reach). A script that ends
// normally exits as it would have under sh -c; its standard input is /dev/null, as a background job's.
func Shell(ctx context.Context, script string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "sh", "-c", shellGuard, "sh", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGHUP}
	return cmd
}

// groupGuard runs the program and arguments in "$@" as shellGuard runs a script: in the background,
// its process group killed (kill 0) when the hangup of schemagate's death comes.
const groupGuard = `trap 'kill -KILL 0' HUP
"$@" &
wait $!`

// GroupWaitDelay is how long Wait waits for the output pipes of a Group command once its group is
// killed: only a process that left the group can hold them open then.
const GroupWaitDelay = 5 * time.Second

// Group returns the command that runs program name with args in a process group of its own, under the
// guard Shell uses, for Start: the processes the program forks (pg_dump's parallel workers) are in its
// group, not schemagate's children, and a parent-death signal does not reach them. When ctx ends, the
// whole group is killed (SIGKILL) at once, and Wait waits at most GroupWaitDelay more for the output;
// when schemagate dies, the guard kills the group. Killing the program alone left its workers running:
// a pg_dump worker carried on dumping its table, holding the output pipe open and Wait with it. The
// program's standard input is /dev/null, and so is SIGINT ignored by it, as by a background job of sh
// (a Ctrl-C in a terminal goes to schemagate alone, which ends ctx); its exit status is sh's.
func Group(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "sh", append([]string{"-c", groupGuard, "sh", name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGHUP}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = GroupWaitDelay
	return cmd
}
