package sandbox

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/moby/moby/client"
)

// connectFails connects to u and fails the test unless the connection fails by itself: by the URL's
// connect_timeout, not by the test's deadline (a server that stopped answering would hold it forever).
func connectFails(t *testing.T, u string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, u)
	if err == nil {
		c.Close(context.Background())
		t.Fatal("connected to a server that does not answer")
	}
	if ctx.Err() != nil {
		t.Fatalf("the connection waited until the test's deadline (no connect_timeout?): %v", err)
	}
	t.Logf("connect: %v", err)
}

// TestDockerPausedServer: a connection to a paused container, which docker's port proxy takes and the
// server never answers, fails by the URL's connect_timeout instead of waiting forever; Stalled names the
// container and says it is paused; Close removes it all the same.
func TestDockerPausedServer(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no containers")
	}
	cli := requireDocker(t)
	requireImage(t, cli, testImage())
	d, tag := testDocker(t, Options{Image: testImage()})
	inst, err := d.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	ids := containers(t, cli, tag)
	if len(ids) != 1 {
		t.Fatalf("%d containers, want 1", len(ids))
	}
	if _, err := cli.ContainerPause(t.Context(), ids[0], client.ContainerPauseOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // should Close have left it
		// Bounded: where the kernel's freezer sticks, docker unpause never returns, and the suite hung.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = cli.ContainerUnpause(ctx, ids[0], client.ContainerUnpauseOptions{})
		_, _ = cli.ContainerRemove(ctx, ids[0], client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	})
	connectFails(t, inst.URL)
	got := inst.Stalled(t.Context())
	t.Logf("stalled: %s", got)
	if !strings.Contains(got, " is paused") || !regexp.MustCompile(`docker unpause schemagate-pg-[0-9a-f]{12} `).MatchString(got) {
		t.Errorf("Stalled says %q; want the container paused, and how to unpause it", got)
	}
	if err := inst.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	if left := containers(t, cli, tag); len(left) != 0 {
		t.Errorf("the paused container is left: %v", left)
	}
}

// TestLocalStoppedServer: a connection to a local server whose postmaster is stopped (SIGSTOP) fails by
// the URL's connect_timeout instead of waiting forever; Stalled names the stopped process; Close
// removes the server all the same.
func TestLocalStoppedServer(t *testing.T) {
	inst, err := requireLocal(t).Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	u, err := url.Parse(inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	dir := u.Query().Get("host")
	b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) }) // should Close have left it
	connectFails(t, inst.URL)
	got := inst.Stalled(t.Context())
	t.Logf("stalled: %s", got)
	if want := "processes " + strconv.Itoa(pid) + " (postmaster pid " + strconv.Itoa(pid) + ") are stopped"; !strings.Contains(got, want) {
		t.Errorf("Stalled says %q; want %q", got, want)
	}
	if err := inst.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the server's folder %s is left (%v)", dir, err)
	}
}
