package rehearse_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/sandbox"
)

// startHook is a provider that hands every instance it starts to started.
type startHook struct {
	sandbox.Provider
	started func(*sandbox.Instance)
}

func (p startHook) Start(ctx context.Context) (*sandbox.Instance, error) {
	inst, err := p.Provider.Start(ctx)
	if err == nil {
		p.started(inst)
	}
	return inst, err
}

// sleepSet is a folder whose second migration sleeps far longer than the tests wait.
func sleepSet(t *testing.T) *migrate.Set {
	return folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql":       "CREATE TABLE a (id int);",
		"1_a.down.sql":     "DROP TABLE a;",
		"2_sleep.up.sql":   "SELECT pg_sleep(600);",
		"2_sleep.down.sql": "SELECT 1;",
	})
}

// backendRunning waits until a backend of the server at u runs a statement that contains text, and
// returns its pid.
func backendRunning(ctx context.Context, u, text string) (int, error) {
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for {
		var pid int
		err := conn.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()
			AND strpos(query, $1) > 0`, text).Scan(&pid)
		if err == nil {
			return pid, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return 0, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestRunStopsWhenItsContainerIsPaused: a container paused (docker pause) while a migration runs used
// to hold the run forever, without a word: neither the statement nor the watchdog's look or cancel
// ever returned. The run now fails as the tool's, naming the container and what to do, and the
// container is removed.
func TestRunStopsWhenItsContainerIsPaused(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no containers")
	}
	p := dockerProvider(t, 15)
	dc, err := testcontainers.NewDockerClientWithOpts(t.Context())
	if err != nil {
		t.Fatalf("docker client: %v", err)
	}
	defer dc.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	type paused struct {
		id, name string
		err      error
	}
	pausedc := make(chan paused, 1)
	hook := startHook{Provider: p, started: func(inst *sandbox.Instance) {
		go func() {
			var out paused
			defer func() { pausedc <- out }()
			u, err := url.Parse(inst.URL)
			if err != nil {
				out.err = err
				return
			}
			list, err := dc.ContainerList(ctx, client.ContainerListOptions{Filters: make(client.Filters).Add("publish", u.Port())})
			if err != nil || len(list.Items) != 1 || len(list.Items[0].Names) == 0 {
				out.err = errors.Join(errors.New("find the run's container by its published port "+u.Port()), err)
				return
			}
			out.id, out.name = list.Items[0].ID, strings.TrimPrefix(list.Items[0].Names[0], "/")
			if _, out.err = backendRunning(ctx, inst.URL, "pg_sleep(600)"); out.err != nil {
				return
			}
			_, out.err = dc.ContainerPause(ctx, out.id, client.ContainerPauseOptions{})
		}()
	}}
	_, err = rehearse.Run(ctx, rehearse.Options{Set: sleepSet(t), Provider: hook, StatementTimeout: 20 * time.Second, NoTrace: true, NoRoundtrip: true})
	got := <-pausedc
	if got.id != "" {
		t.Cleanup(func() { // should the run have left it
			_, _ = dc.ContainerUnpause(context.Background(), got.id, client.ContainerUnpauseOptions{})
			_, _ = dc.ContainerRemove(context.Background(), got.id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		})
	}
	if got.err != nil {
		t.Fatalf("pause the container: %v (run: %v)", got.err, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the run held on until the test's deadline: %v", err)
	}
	t.Logf("error: %v", err)
	if err == nil {
		t.Fatal("the run succeeded on a paused container")
	}
	for _, want := range []string{"the throwaway PostgreSQL (docker provider) stopped answering during migration 2", "the run was stopped",
		"container " + got.name + " is paused", "docker unpause " + got.name} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q", want)
		}
	}
	list, lerr := dc.ContainerList(t.Context(), client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("id", got.id)})
	if lerr != nil {
		t.Fatal(lerr)
	}
	if len(list.Items) != 0 {
		t.Errorf("the container %s is left: %s", got.name, list.Items[0].State)
	}
}

// TestRunStopsWhenItsServerIsStopped: the local server's postmaster and the migration's backend
// stopped (SIGSTOP) while a migration runs used to hold the run forever: the watchdog's cancel and
// terminate are signals the backend never takes. The run now fails as the tool's, saying which
// processes are stopped, and the server is removed.
func TestRunStopsWhenItsServerIsStopped(t *testing.T) {
	p := provider(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	type stopped struct {
		dir  string
		pids []int
		err  error
	}
	stoppedc := make(chan stopped, 1)
	hook := startHook{Provider: p, started: func(inst *sandbox.Instance) {
		go func() {
			var out stopped
			defer func() { stoppedc <- out }()
			u, err := url.Parse(inst.URL)
			if err != nil {
				out.err = err
				return
			}
			out.dir = u.Query().Get("host")
			b, err := os.ReadFile(filepath.Join(out.dir, "data", "postmaster.pid"))
			if err != nil {
				out.err = err
				return
			}
			postmaster, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
			if err != nil {
				out.err = err
				return
			}
			backend, err := backendRunning(ctx, inst.URL, "pg_sleep(600)")
			if err != nil {
				out.err = err
				return
			}
			for _, pid := range []int{postmaster, backend} {
				if out.err = syscall.Kill(pid, syscall.SIGSTOP); out.err != nil {
					return
				}
				out.pids = append(out.pids, pid)
			}
		}()
	}}
	_, err := rehearse.Run(ctx, rehearse.Options{Set: sleepSet(t), Provider: hook, StatementTimeout: 5 * time.Second, NoTrace: true, NoRoundtrip: true})
	got := <-stoppedc
	t.Cleanup(func() { // should the run have left them
		for _, pid := range got.pids {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	})
	if got.err != nil {
		t.Fatalf("stop the server: %v (run: %v)", got.err, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the run held on until the test's deadline: %v", err)
	}
	t.Logf("error: %v", err)
	if err == nil {
		t.Fatal("the run succeeded on a stopped server")
	}
	for _, want := range []string{"the throwaway PostgreSQL (local provider) stopped answering during migration 2", "the run was stopped",
		"backend (pid " + strconv.Itoa(got.pids[1]) + ")", "processes " + strconv.Itoa(got.pids[0]) + ", " + strconv.Itoa(got.pids[1]) + " (postmaster pid " + strconv.Itoa(got.pids[0]) + ") are stopped"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q", want)
		}
	}
	if _, serr := os.Stat(got.dir); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("the server's folder %s is left (%v)", got.dir, serr)
	}
}
