package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
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
	// Timeout bounds each hook (default 1h).
	Timeout time.Duration
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
	out, err := c.run(ctx, c.Take, "SCHEMAGATE_RUN_ID="+runID)
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
		if _, err := c.run(context.WithoutCancel(ctx), c.Restore, "SCHEMAGATE_SNAPSHOT_ID="+id, "SCHEMAGATE_RUN_ID="+run); err != nil {
			return &Error{Op: "run restore command", Err: err, Hint: "restore snapshot " + id + " by hand"}
		}
		return nil
	}, nil
}

func (c *Command) run(ctx context.Context, script string, env ...string) (string, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = time.Hour
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Env = append(append(os.Environ(), c.Env...), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		if len(msg) > 2000 {
			msg = msg[len(msg)-2000:]
		}
		return "", fmt.Errorf("%w: %s", err, msg)
	}
	return stdout.String(), nil
}
