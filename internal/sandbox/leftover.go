package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// Labels naming the schemagate process that started a container. Ryuk is disabled (many CI machines
// cannot run it), so a schemagate killed with SIGKILL leaves its container running; the next docker
// run on the same daemon reads these labels and removes the containers whose process is gone.
const (
	// LabelHost is the host name of the machine or container schemagate ran in, for people: host
	// names repeat between containers, so the decision rests on LabelProcess and LabelContainer.
	LabelHost = "org.schemagate.host"
	// LabelPID is the PID of the schemagate process, in its own PID namespace.
	LabelPID = "org.schemagate.pid"
	// LabelStarted is when the schemagate process started (RFC 3339, UTC), for people.
	LabelStarted = "org.schemagate.started"
	// LabelProcess identifies the process exactly: "<boot id>/<PID namespace>/<PID>/<start time in
	// clock ticks since boot>".
	LabelProcess = "org.schemagate.process"
	// LabelContainer is the id of the container schemagate ran in, when that container belongs to
	// the same Docker daemon (a GitHub container action); absent otherwise.
	LabelContainer = "org.schemagate.container"
)

// owner is the schemagate process that starts containers, as its labels describe it.
//
// Which "host" a leftover belongs to: a PID means something only within one PID namespace of one
// kernel boot, so the host is the pair (boot id, PID namespace), both read from /proc. On a runner
// that runs schemagate directly it is the machine; two machines sharing a daemon differ by boot id
// (a random UUID per boot), so containers of another machine are never touched. Inside a container
// action (GitHub's runner runs the action in a container of its own and mounts the runner's Docker
// socket, so the database container is a sibling on the runner's daemon) the host is the action's
// container, whose PID namespace no other container can see; the next run is another container, so
// there the daemon decides instead: LabelContainer names the action's container, and when the daemon
// no longer has it running (the runner starts it with --rm), or restarted it after the database
// container was created, its schemagate is gone too. The host name is not used: a container's host
// name is its short id by default, but GitLab's concurrent-N names and --hostname repeat.
type owner struct {
	host      string
	pid       int
	started   time.Time
	space     string // "<boot id>/<PID namespace>", "" when /proc cannot say
	ticks     uint64 // start time in clock ticks since boot
	container string // id of the container schemagate runs in, on the same daemon
}

// currentOwner describes this process. What it cannot read stays empty, and the labels then
// claim nothing a later run could wrongly act on.
func currentOwner(ctx context.Context, cli client.ContainerAPIClient) owner {
	o := owner{pid: os.Getpid()}
	o.host, _ = os.Hostname()
	boot, berr := os.ReadFile("/proc/sys/kernel/random/boot_id")
	ns, nerr := os.Readlink("/proc/self/ns/pid")
	stat, serr := os.ReadFile("/proc/self/stat")
	if berr == nil && nerr == nil && serr == nil {
		if ticks, err := statStart(stat); err == nil {
			o.space = strings.TrimSpace(string(boot)) + "/" + strings.TrimSuffix(strings.TrimPrefix(ns, "pid:["), "]")
			o.ticks = ticks
			o.started = startTime(ticks)
		}
	}
	o.container = ownContainer(ctx, cli)
	return o
}

// labels are the container labels that describe o.
func (o owner) labels() map[string]string {
	l := map[string]string{LabelHost: o.host, LabelPID: strconv.Itoa(o.pid)}
	if o.space != "" {
		l[LabelProcess] = o.space + "/" + strconv.Itoa(o.pid) + "/" + strconv.FormatUint(o.ticks, 10)
		l[LabelStarted] = o.started.UTC().Format(time.RFC3339)
	}
	if o.container != "" {
		l[LabelContainer] = o.container
	}
	return l
}

// userHZ is the unit of the start times in /proc: USER_HZ, 100 on every Linux architecture Go supports.
const userHZ = 100

// startTime converts a start time in clock ticks since boot into wall-clock time.
func startTime(ticks uint64) time.Time {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}
	}
	for _, line := range strings.Split(string(b), "\n") {
		if s, ok := strings.CutPrefix(line, "btime "); ok {
			boot, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				break
			}
			return time.Unix(boot, 0).Add(time.Duration(ticks) * time.Second / userHZ)
		}
	}
	return time.Time{}
}

// statStart reads the start time (field 22, clock ticks since boot) from a /proc/<pid>/stat line.
// The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
func statStart(stat []byte) (uint64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("no command name in stat")
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 20 {
		return 0, errors.New("short stat line")
	}
	return strconv.ParseUint(f[19], 10, 64) // f[0] is field 3
}

// ownerRuns tells whether the process pid, started at ticks, still runs in this PID namespace.
// A PID that runs a process started at another time was reused, and a zombie is dead: the owner is
// gone. When the process exists but cannot be read (hidepid, another user), it counts as running.
func ownerRuns(pid int, ticks uint64) bool {
	if pid <= 0 {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err == nil {
		start, err := statStart(stat)
		if err != nil {
			return true
		}
		i := bytes.LastIndexByte(stat, ')')
		zombie := i+2 < len(stat) && (stat[i+2] == 'Z' || stat[i+2] == 'X')
		return start == ticks && !zombie
	}
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

var containerID = regexp.MustCompile(`/containers/([0-9a-f]{64})/|/docker[-/]([0-9a-f]{64})`)

// ownContainer is the id of the container this process runs in when the daemon knows it (the
// daemon is the runner's and we are its sibling), else "". The id comes from the daemon's mounts of
// /etc/hostname and friends (/var/lib/docker/containers/<id>/), or from cgroup v1 paths; the default
// host name (the id's first 12 characters) is a last resort, checked against the daemon's answer.
func ownContainer(ctx context.Context, cli client.ContainerAPIClient) string {
	if !inContainer() || cli == nil {
		return ""
	}
	var candidates []string
	for _, f := range []string{"/proc/self/mountinfo", "/proc/self/cgroup"} {
		b, _ := os.ReadFile(f)
		for _, m := range containerID.FindAllStringSubmatch(string(b), -1) {
			candidates = append(candidates, m[1]+m[2])
		}
	}
	host, _ := os.Hostname()
	if len(host) == 12 && strings.Trim(host, "0123456789abcdef") == "" {
		candidates = append(candidates, host)
	}
	seen := map[string]bool{}
	for _, id := range candidates {
		if seen[id] {
			continue
		}
		seen[id] = true
		res, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if err != nil || !strings.HasPrefix(res.Container.ID, id) {
			continue
		}
		if len(id) < 64 && (res.Container.Config == nil || res.Container.Config.Hostname != host) {
			continue
		}
		return res.Container.ID
	}
	return ""
}

// removeLeftovers removes, with their volumes, the containers schemagate started from processes that
// are gone, and says which. Containers of live runs, of other hosts, and of schemagate versions that
// did not label their process are left alone; the last are mentioned with the command to remove them.
func removeLeftovers(ctx context.Context, cli client.ContainerAPIClient, self owner, log *slog.Logger) error {
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", LabelRun),
	})
	if err != nil {
		return fmt.Errorf("list schemagate containers: %w", err)
	}
	var unlabelled []string
	var errs []error
	for _, c := range list.Items {
		name := strings.TrimPrefix(strings.Join(c.Names, ","), "/")
		reason, gone := ownerGone(ctx, cli, self, c)
		if reason == "" && !gone {
			unlabelled = append(unlabelled, name)
			continue
		}
		if !gone {
			log.Debug("leaving a schemagate container alone", "container", name, "why", reason)
			continue
		}
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			if removedElsewhere(err) {
				// Another schemagate run on this machine sweeps at the same time: it is going anyway.
				log.Info("a PostgreSQL container left by a schemagate process that is gone is being removed by another run",
					"container", name, "run", c.Labels[LabelRun])
				continue
			}
			errs = append(errs, fmt.Errorf("remove leftover container %s: %w", name, err))
			continue
		}
		log.Info("removed a PostgreSQL container left by a schemagate process that is gone",
			"container", name, "run", c.Labels[LabelRun], "host", c.Labels[LabelHost], "pid", c.Labels[LabelPID],
			"started", c.Labels[LabelStarted], "why", reason)
	}
	if len(unlabelled) > 0 {
		log.Warn("schemagate containers without owner labels (from an older schemagate) are left alone; "+
			"if no run uses them, remove them with: docker rm -f -v $(docker ps -aq --filter label="+LabelRun+")",
			"containers", strings.Join(unlabelled, " "))
	}
	return errors.Join(errs...)
}

// ownerGone tells whether the process that started c is gone, and why (or why it counts as alive);
// reason is "" for a container without owner labels.
func ownerGone(ctx context.Context, cli client.ContainerAPIClient, self owner, c container.Summary) (reason string, gone bool) {
	if id := c.Labels[LabelContainer]; id != "" && id != self.container {
		list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("id", id)})
		if err != nil {
			return "cannot list its owner's container: " + err.Error(), false
		}
		if len(list.Items) == 0 {
			return "the container schemagate ran in is gone", true
		}
		res, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if err != nil || res.Container.State == nil {
			return "cannot inspect its owner's container", false
		}
		if !res.Container.State.Running {
			return "the container schemagate ran in is not running", true
		}
		// Created has whole seconds: the owner started after c was created only if it started more
		// than a second after that.
		started, err := time.Parse(time.RFC3339Nano, res.Container.State.StartedAt)
		if err == nil && started.After(time.Unix(c.Created, 0).Add(time.Second)) {
			return "the container schemagate ran in was restarted since", true
		}
		return "the container schemagate runs in is running", false
	}
	key := c.Labels[LabelProcess]
	if key == "" {
		return "", false
	}
	i := strings.LastIndexByte(key, '/')
	j := strings.LastIndexByte(key[:max(i, 0)], '/')
	if i < 0 || j < 0 {
		return "unreadable " + LabelProcess + " label", false
	}
	pid, perr := strconv.Atoi(key[j+1 : i])
	ticks, terr := strconv.ParseUint(key[i+1:], 10, 64)
	if perr != nil || terr != nil {
		return "unreadable " + LabelProcess + " label", false
	}
	if self.space == "" || key[:j] != self.space {
		return "started on another host", false
	}
	if !ownerRuns(pid, ticks) {
		return "process " + strconv.Itoa(pid) + " no longer runs (or its PID was reused)", true
	}
	return "process " + strconv.Itoa(pid) + " still runs", false
}

// removedElsewhere tells whether a container removal failed because another client removes, or has
// removed, the container: the daemon answers "removal of container … is already in progress" or
// "No such container".
func removedElsewhere(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "already in progress") || strings.Contains(msg, "no such container")
}
