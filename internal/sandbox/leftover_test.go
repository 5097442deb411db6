package sandbox

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// TestDockerRemovesLeftovers: containers of schemagate processes killed with SIGKILL (Ryuk disabled)
// are removed when the docker provider starts; those of live runs, of other hosts and of older
// schemagate versions stay.
func TestDockerRemovesLeftovers(t *testing.T) {
	cli := requireDocker(t)
	requireImage(t, cli, testImage())
	ctx := t.Context()
	self := currentOwner(ctx, cli)
	if self.space == "" {
		t.Fatal("cannot read this process's boot id, PID namespace or start time from /proc")
	}
	tag := randomHex(6)
	t.Cleanup(func() { removeTagged(t, cli, tag) })
	// Other test binaries' docker providers (go test runs packages at the same time) sweep too: the
	// sweep lock keeps them off the planted containers until this run's provider has swept them.
	unlock := sync.OnceFunc(lockSweeps(ctx, slog.New(slog.DiscardHandler)))
	defer unlock()

	dead := unusedPID(t)
	process := func(space string, pid int, ticks uint64) string {
		return space + "/" + strconv.Itoa(pid) + "/" + strconv.FormatUint(ticks, 10)
	}
	// Containers that stand for the container a schemagate ran in (a container action).
	running := sleeper(t, cli, tag, "schemagate-test-owner-running-"+tag, nil, true)
	stopped := sleeper(t, cli, tag, "schemagate-test-owner-stopped-"+tag, nil, false)

	tests := []struct {
		name   string
		labels map[string]string // over self.labels()
		drop   []string          // labels to leave out
		remove bool
	}{
		{name: "dead process", labels: map[string]string{LabelPID: strconv.Itoa(dead), LabelProcess: process(self.space, dead, self.ticks)}, remove: true},
		{name: "pid reused", labels: map[string]string{LabelProcess: process(self.space, self.pid, self.ticks+1)}, remove: true},
		{name: "live process"},
		{name: "other host", labels: map[string]string{LabelProcess: process("00000000-0000-0000-0000-000000000000/4026531836", dead, 1)}},
		{name: "owner container gone", labels: map[string]string{LabelContainer: randomHex(32), LabelProcess: process(self.space, dead, 1)}, remove: true},
		{name: "owner container stopped", labels: map[string]string{LabelContainer: stopped}, remove: true},
		// Its process key says dead, but a process in another container is beyond this one's sight.
		{name: "owner container running", labels: map[string]string{LabelContainer: running, LabelProcess: process(self.space, dead, 1)}},
		{name: "older schemagate", drop: []string{LabelHost, LabelPID, LabelStarted, LabelProcess, LabelContainer}},
	}
	ids := map[string]string{}
	names := map[string]string{}
	for _, tt := range tests {
		labels := self.labels()
		maps.Copy(labels, tt.labels)
		for _, l := range tt.drop {
			delete(labels, l)
		}
		run := randomHex(6)
		labels[LabelRun], labels[LabelProvider] = run, "docker"
		names[tt.name] = "schemagate-pg-" + run
		ids[tt.name] = sleeper(t, cli, tag, names[tt.name], labels, true)
	}

	var logs syncBuffer
	d, dtag := testDocker(t, Options{Image: testImage(), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	inst, err := d.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertGone(t, cli, dtag)

	unlock()
	out := logs.String()
	for _, tt := range tests {
		_, err := cli.ContainerInspect(context.Background(), ids[tt.name], client.ContainerInspectOptions{})
		switch {
		case tt.remove && err == nil:
			t.Errorf("%s: container %s is still there", tt.name, names[tt.name])
		case !tt.remove && err != nil:
			t.Errorf("%s: container %s was removed (%v)", tt.name, names[tt.name], err)
		case tt.remove && !strings.Contains(out, `removed a PostgreSQL container left by a schemagate process that is gone" container=`+names[tt.name]):
			t.Errorf("%s: %s is gone, but this run's log does not name its removal", tt.name, names[tt.name])
		}
	}
	if strings.Contains(out, "already in progress") {
		t.Error("a removal another run had in progress was reported as a failure")
	}
	if !strings.Contains(out, "without owner labels") || !strings.Contains(out, names["older schemagate"]) {
		t.Errorf("the log does not mention the unlabelled container %s", names["older schemagate"])
	}
	if t.Failed() {
		t.Logf("provider log:\n%s", out)
	}
	for _, id := range []string{running, stopped} {
		if _, err := cli.ContainerInspect(context.Background(), id, client.ContainerInspectOptions{}); err != nil {
			t.Errorf("container %.12s without schemagate's labels was removed: %v", id, err)
		}
	}
}

// TestDockerOwnerLabels: the labels a container gets describe this process, and read back as alive.
func TestDockerOwnerLabels(t *testing.T) {
	self := currentOwner(t.Context(), nil)
	l := self.labels()
	host, _ := os.Hostname()
	if l[LabelHost] != host || l[LabelPID] != strconv.Itoa(os.Getpid()) {
		t.Errorf("labels %v, want host %s and pid %d", l, host, os.Getpid())
	}
	started, err := time.Parse(time.RFC3339, l[LabelStarted])
	if err != nil || time.Since(started) < 0 || time.Since(started) > time.Hour {
		t.Errorf("%s = %q (%v), want this process's start", LabelStarted, l[LabelStarted], err)
	}
	c := container.Summary{Labels: l, Created: time.Now().Unix()}
	if why, gone := ownerGone(t.Context(), nil, self, c); gone || !strings.Contains(why, "still runs") {
		t.Errorf("ownerGone(self) = %q, %v; want alive", why, gone)
	}
	if !ownerRuns(os.Getpid(), self.ticks) || ownerRuns(os.Getpid(), self.ticks+1) || ownerRuns(unusedPID(t), 1) {
		t.Error("ownerRuns does not tell this process from a dead or reused PID")
	}
}

func TestDockerStatStart(t *testing.T) {
	tests := []struct {
		name, stat string
		want       uint64
		err        bool
	}{
		{name: "plain", stat: "42 (schemagate) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 8 0 123456 1000 10 18446744073709551615", want: 123456},
		{name: "name with spaces and parens", stat: "42 (a) b (c) R 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 8 0 987 1000 10", want: 987},
		{name: "short", stat: "42 (x) S 1 2", err: true},
		{name: "no name", stat: "garbage", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statStart([]byte(tt.stat))
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("statStart = %d, %v; want %d (error %v)", got, err, tt.want, tt.err)
			}
		})
	}
}

// sleeper starts (or only creates) a container that sleeps, with the test's label.
func sleeper(t *testing.T, cli *client.Client, tag, name string, labels map[string]string, start bool) string {
	t.Helper()
	l := map[string]string{labelTest: tag}
	maps.Copy(l, labels)
	res, err := cli.ContainerCreate(t.Context(), client.ContainerCreateOptions{
		Name:   name,
		Config: &container.Config{Image: testImage(), Entrypoint: []string{"sleep", "infinity"}, Labels: l},
	})
	if err != nil {
		t.Fatalf("create container %s: %v", name, err)
	}
	if start {
		if _, err := cli.ContainerStart(t.Context(), res.ID, client.ContainerStartOptions{}); err != nil {
			t.Fatalf("start container %s: %v", name, err)
		}
	}
	return res.ID
}

// removeTagged removes every container with the test's label, with its volumes.
func removeTagged(t *testing.T, cli *client.Client, tag string) {
	for _, id := range containers(t, cli, tag) {
		if _, err := cli.ContainerRemove(context.Background(), id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			t.Errorf("remove test container %.12s: %v", id, err)
		}
	}
}

// unusedPID is a PID no process has.
func unusedPID(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatal(err)
	}
	top, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	for pid := top - 1; pid > top-1000; pid-- {
		if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			return pid
		}
	}
	t.Fatal("no unused PID")
	return 0
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
