package snapshot

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/schemagate/schemagate/internal/proc"
)

// Command takes platform snapshots (a cloud provider's volume or instance snapshot) through shell hooks.
// Take and Restore are the two shell commands.
// The snapshot command prints the snapshot's id on the last line of its standard output; the restore
// command gets it in SCHEMAGATE_SNAPSHOT_ID. Both get SCHEMAGATE_RUN_ID and the variables in Env.
type Command struct {
	Take    string
	Restore string
	// Env is added to the hooks' environment (NAME=value).
	Env []string
	// Secrets are written as *** in the output of a failed hook that its error quotes: the hooks get the
	// database URL, and a script that echoes it (set -x) must not put its password in the reports.
	Secrets []string
	// Timeout bounds each hook (default 1h).
	Timeout time.Duration
	// TakeTimeout, when set, bounds the snapshot hook in Timeout's place (snapshot.timeout): a platform
	// snapshot may take longer than its restore may, or must take less.
	TakeTimeout time.Duration
	// RestoreLockTimeout, when set, bounds how long the restore hook's database sessions wait for a lock:
	// the hook gets -c lock_timeout=<ms> in PGOPTIONS, which libpq clients (psql) send to the server, in
	// front of the PGOPTIONS it would have had otherwise (from Env or schemagate's own environment), so
	// that a lock_timeout set there still wins. What the session runs after a SET lock_timeout of its own
	// is not bounded by it (pg_restore, and the SQL pg_dump writes, set it to 0 first), nor is a hook that
	// does not connect through libpq (a cloud provider's CLI). The snapshot hook is left as it is.
	RestoreLockTimeout time.Duration
	// RestoreOptions are more -c options for the restore hook's libpq sessions, in PGOPTIONS with
	// RestoreLockTimeout's and in front of those it would have had otherwise, which still win: the
	// deploy gives the TCP keepalives its own sessions set (pg.KeepaliveOptions), so that should the
	// deploy's host die mid-restore, the server ends the restore's session, and frees the locks of all
	// it drops, within minutes instead of hours.
	RestoreOptions string
	// SessionOptions are -c options for the libpq sessions of both hooks, in PGOPTIONS in front of the
	// PGOPTIONS they would have had otherwise (from Env or schemagate's own environment), which is kept
	// and still wins, and behind the restore hook's own bounds: the deploy turns off there the server's
	// timeouts that end a long session or its transaction (statement_timeout,
	// idle_in_transaction_session_timeout, idle_session_timeout, transaction_timeout), as it does for
	// its own sessions and pg_dump for its own, so that a role or database that sets them (a hardened
	// server, a managed service) does not cut off a hook's pg_dump or psql half way.
	SessionOptions string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

var _ Snapshotter = (*Command)(nil)

func (c *Command) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// Snapshot runs the snapshot hook and returns the id it printed.
func (c *Command) Snapshot(ctx context.Context, runID string) (*Info, RestoreFunc, error) {
	start := c.now()
	env := []string{"SCHEMAGATE_RUN_ID=" + runID}
	if opts := c.pgOptions(false); opts != "" {
		env = append(env, opts)
	}
	out, err := c.run(ctx, c.Take, cmp.Or(c.TakeTimeout, c.Timeout), env...)
	if err != nil {
		return nil, nil, &Error{Op: "run snapshot command", Err: err, Hint: "the command must exit 0 and print the snapshot id last"}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	id := strings.TrimSpace(lines[len(lines)-1])
	if id == "" {
		return nil, nil, &Error{Op: "run snapshot command", Err: errors.New("it printed no snapshot id"), Hint: "print the id on the last line of standard output"}
	}
	info := &Info{Kind: "command", ID: id, Time: start.UTC(), RunID: runID, DurationMS: c.now().Sub(start).Milliseconds()}
	restore, _ := c.Reopen(ctx, info)
	return info, restore, nil
}

// Reopen returns the restore of the snapshot with info.ID.
func (c *Command) Reopen(_ context.Context, info *Info) (RestoreFunc, error) {
	if info == nil || info.ID == "" {
		return nil, fmt.Errorf("reopen snapshot: no id recorded: %w", ErrNotFound)
	}
	id, run := info.ID, info.RunID
	return func(ctx context.Context) error {
		// Once started, a restore runs to its end (bounded by Timeout): a signal that cancels the deploy
		// must not stop it half way.
		env := []string{"SCHEMAGATE_SNAPSHOT_ID=" + id, "SCHEMAGATE_RUN_ID=" + run}
		if opts := c.pgOptions(true); opts != "" {
			env = append(env, opts)
		}
		if _, err := c.run(context.WithoutCancel(ctx), c.Restore, c.Timeout, env...); err != nil {
			return &Error{Op: "run restore command", Err: err, Hint: "restore snapshot " + id + " by hand"}
		}
		return nil
	}, nil
}

// pgOptions is the PGOPTIONS of a hook: for the restore hook -c lock_timeout and RestoreOptions, then
// SessionOptions, in front of the PGOPTIONS the hook would otherwise get (the last one set wins, as
// exec.Cmd's environment does); "" when there are none.
func (c *Command) pgOptions(restore bool) string {
	var own []string
	if restore && c.RestoreLockTimeout > 0 {
		own = append(own, fmt.Sprintf("-c lock_timeout=%d", c.RestoreLockTimeout.Milliseconds()))
	}
	if o := strings.TrimSpace(c.RestoreOptions); restore && o != "" {
		own = append(own, o)
	}
	if o := strings.TrimSpace(c.SessionOptions); o != "" {
		own = append(own, o)
	}
	if len(own) == 0 {
		return ""
	}
	opts := strings.Join(own, " ")
	prev := ""
	for _, kv := range append(os.Environ(), c.Env...) {
		if v, ok := strings.CutPrefix(kv, "PGOPTIONS="); ok {
			prev = v
		}
	}
	if strings.TrimSpace(prev) != "" {
		opts += " " + prev
	}
	return "PGOPTIONS=" + opts
}

// TakeLimit is how long the snapshot hook may run.
func (c *Command) TakeLimit() time.Duration {
	if t := cmp.Or(c.TakeTimeout, c.Timeout); t > 0 {
		return t
	}
	return time.Hour
}

func (c *Command) run(ctx context.Context, script string, timeout time.Duration, env ...string) (string, error) {
	if timeout <= 0 {
		timeout = time.Hour
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// The hook and what it starts (pg_restore, a cloud CLI) are one process group (proc.Shell), ended
	// together when the hook times out, or when schemagate dies: killing sh alone left its children
	// running, holding the output pipes open, and the run waiting for them.
	cmd := proc.Shell(ctx, script)
	cmd.Env = append(append(os.Environ(), c.Env...), env...)
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := proc.Run(cmd); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		msg = Mask(msg, c.Secrets)
		if len(msg) > 2000 {
			msg = msg[len(msg)-2000:]
		}
		return "", fmt.Errorf("%w: %s", err, msg)
	}
	return stdout.String(), nil
}

// Mask writes each of secrets found in s as ***, longest first (a secret may hold a shorter one): for
// the output of hooks, which messages and reports quote.
func Mask(s string, secrets []string) string {
	sorted := slices.Clone(secrets)
	slices.SortFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range sorted {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "***")
		}
	}
	return s
}
