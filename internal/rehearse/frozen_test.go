package rehearse_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	return backendRunningOn(ctx, conn, text)
}

// backendRunningOn is backendRunning on a connection of the test's.
func backendRunningOn(ctx context.Context, conn *pgx.Conn, text string) (int, error) {
	return backendWith(ctx, conn, `SELECT pid FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()
		AND strpos(query, $1) > 0`, text)
}

// backendWith waits until query (which selects a backend's pid, given text as $1) finds one, and
// returns its pid.
func backendWith(ctx context.Context, conn *pgx.Conn, query, text string) (int, error) {
	for {
		var pid int
		err := conn.QueryRow(ctx, query, text).Scan(&pid)
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
			out.err = pause(ctx, t, dc, out.id)
		}()
	}}
	_, err = rehearse.Run(ctx, rehearse.Options{Set: sleepSet(t), Provider: hook, StatementTimeout: 20 * time.Second, NoTrace: true, NoRoundtrip: true})
	got := <-pausedc
	if got.id != "" {
		t.Cleanup(func() { // should the run have left it
			// Bounded: where the kernel's freezer sticks, docker unpause never returns, and the suite hung.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, _ = dc.ContainerUnpause(ctx, got.id, client.ContainerUnpauseOptions{})
			_, _ = dc.ContainerRemove(ctx, got.id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
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

// pause pauses container id (docker pause). On a loaded machine docker now and then fails to:
// runc freezes a container through the cgroup v1 freezer, which the kernel can leave FREEZING through
// all of runc's tries (its code says the real fix belongs to the kernel); runc then thaws the cgroup
// and docker answers "unable to freeze", the container running on as before. It is paused again, a
// few times at most: any other failure, or a fifth of those, is the test's.
func pause(ctx context.Context, t *testing.T, dc *testcontainers.DockerClient, id string) error {
	for attempt := 1; ; attempt++ {
		_, err := dc.ContainerPause(ctx, id, client.ContainerPauseOptions{})
		if err == nil || attempt == 5 || !strings.Contains(err.Error(), "unable to freeze") {
			return err
		}
		t.Logf("pause, attempt %d: %v; again", attempt, err)
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
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
	stoppedc := make(chan stoppedServer, 1)
	hook := startHook{Provider: p, started: func(inst *sandbox.Instance) {
		go stopLocal(ctx, inst, inst.URL, "pg_sleep(600)", stoppedc)
	}}
	_, err := rehearse.Run(ctx, rehearse.Options{Set: sleepSet(t), Provider: hook, StatementTimeout: 5 * time.Second, NoTrace: true, NoRoundtrip: true})
	got := <-stoppedc
	checkStopped(t, ctx, got, err, "migration 2")
	if want := "backend (pid " + strconv.Itoa(got.pids[1]) + ")"; err != nil && !strings.Contains(err.Error(), want) {
		t.Errorf("the error does not say %q", want)
	}
}

// stopLocal stops (SIGSTOP) the local server of inst, the postmaster and the backend whose statement
// contains text, once one runs; watch is the URL the test looks from. It sends what it stopped on out.
func stopLocal(ctx context.Context, inst *sandbox.Instance, watch, text string, out chan<- stoppedServer) {
	stopLocalFound(ctx, inst, func() (int, error) { return backendRunning(ctx, watch, text) }, out)
}

// stopLocalFound is stopLocal with the backend that find finds.
func stopLocalFound(ctx context.Context, inst *sandbox.Instance, find func() (int, error), out chan<- stoppedServer) {
	stopLocalProcesses(ctx, inst, find, false, out)
}

// stopLocalProcesses is stopLocalFound; with whole, it then stops every other process of the server
// too, as a paused container or a frozen cgroup does: a session opened before the stop (the sentinel's)
// would otherwise go on answering.
func stopLocalProcesses(ctx context.Context, inst *sandbox.Instance, find func() (int, error), whole bool, out chan<- stoppedServer) {
	var got stoppedServer
	defer func() { out <- got }()
	u, err := url.Parse(inst.URL)
	if err != nil {
		got.err = err
		return
	}
	got.dir = u.Query().Get("host")
	b, err := os.ReadFile(filepath.Join(got.dir, "data", "postmaster.pid"))
	if err != nil {
		got.err = err
		return
	}
	postmaster, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		got.err = err
		return
	}
	backend, err := find()
	if err != nil {
		got.err = err
		return
	}
	for _, pid := range []int{postmaster, backend} {
		if got.err = syscall.Kill(pid, syscall.SIGSTOP); got.err != nil {
			return
		}
		got.pids = append(got.pids, pid)
	}
	if !whole {
		return
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		got.err = err
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == backend {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(b), ')')
		if f := strings.Fields(string(b[i+1:])); i < 0 || len(f) < 2 || f[1] != strconv.Itoa(postmaster) {
			continue
		}
		if syscall.Kill(pid, syscall.SIGSTOP) == nil {
			got.pids = append(got.pids, pid)
		}
	}
}

// stoppedServer is what stopLocal stopped.
type stoppedServer struct {
	dir  string
	pids []int
	err  error
}

// checkStopped checks that a run on a server stopped by stopLocal failed saying so, during the step
// named, and that the server is removed.
func checkStopped(t *testing.T, ctx context.Context, got stoppedServer, err error, during string) {
	t.Helper()
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
	want := "the throwaway PostgreSQL (local provider) stopped answering during " + during
	if !strings.Contains(err.Error(), want) {
		t.Errorf("the error does not say %q", want)
	}
	if n := strings.Count(err.Error(), "stopped answering"); n != 1 {
		t.Errorf("the error says %d times that the server stopped answering, not once", n)
	}
	if !strings.Contains(err.Error(), "the run was stopped") {
		t.Errorf("the error does not say %q", "the run was stopped")
	}
	// The processes the hint names stopped, in whatever order it lists them: the postmaster and the
	// backend the test stopped first, and no process the test left running (one that was exiting when
	// the test stopped the whole server may be gone).
	tail := " (postmaster pid " + strconv.Itoa(got.pids[0]) + ") are stopped"
	msg := err.Error()
	if end := strings.Index(msg, tail); end < 0 {
		t.Errorf("the error does not say %q", tail)
	} else {
		listed := msg[:end]
		listed = listed[strings.LastIndex(listed, "processes ")+len("processes "):]
		names := strings.Split(listed, ", ")
		for _, pid := range got.pids[:2] {
			if !slices.Contains(names, strconv.Itoa(pid)) {
				t.Errorf("the error names the stopped processes %s, without %d", listed, pid)
			}
		}
		for _, name := range names {
			if !slices.ContainsFunc(got.pids, func(pid int) bool { return strconv.Itoa(pid) == name }) {
				t.Errorf("the error names process %s stopped, which the test did not stop", name)
			}
		}
	}
	if _, serr := os.Stat(got.dir); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("the server's folder %s is left (%v)", got.dir, serr)
	}
}

// withDatabase is u on database db.
func withDatabase(t *testing.T, u, db string) string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	pu.Path = "/" + db
	return pu.String()
}

// TestRunStopsWhenItsServerStopsDuringACopy: the copy of the database for the round trip of a
// non-transactional migration (CREATE DATABASE ... TEMPLATE) runs without the statement watchdog,
// whose session would keep it from copying; a server stopped then used to hold the run forever. The
// test keeps a session of its own on the rehearsal's database, so the copy waits (5 s) for it to leave,
// and stops the server while it waits.
func TestRunStopsWhenItsServerStopsDuringACopy(t *testing.T) {
	p := provider(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	set := folderOf(t, migrate.FormatGoose, map[string]string{
		"00001_a.sql": "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n",
		"00002_b.sql": "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE b (id int);\n-- +goose Down\nDROP TABLE b;\n",
	})
	stoppedc := make(chan stoppedServer, 1)
	hook := startHook{Provider: p, started: func(inst *sandbox.Instance) {
		holder, err := pgx.Connect(ctx, inst.URL)
		if err != nil {
			stoppedc <- stoppedServer{err: err}
			return
		}
		go func() {
			defer holder.Close(context.WithoutCancel(ctx))
			// The whole server: the sentinel watches the copy from a session of its own, which it may
			// have opened before the stop.
			watch := withDatabase(t, inst.URL, "template1")
			stopLocalProcesses(ctx, inst, func() (int, error) { return backendRunning(ctx, watch, "CREATE DATABASE") }, true, stoppedc)
		}()
	}}
	_, err := rehearse.Run(ctx, rehearse.Options{Set: set, Provider: hook, NoTrace: true})
	checkStopped(t, ctx, <-stoppedc, err, "migration 2_b (copying its database for the round trip)")
}

// TestRollbackScriptStopsWhenItsServerIsStopped: rollback-script, which applies the migration on a
// throwaway server too, used to end with a bare "conn closed" when its server stopped, once the
// watchdog had cut its connection.
func TestRollbackScriptStopsWhenItsServerIsStopped(t *testing.T) {
	p := provider(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	stoppedc := make(chan stoppedServer, 1)
	hook := startHook{Provider: p, started: func(inst *sandbox.Instance) {
		go stopLocal(ctx, inst, inst.URL, "pg_sleep(600)", stoppedc)
	}}
	_, err := rehearse.RollbackScript(ctx, rehearse.Options{Set: sleepSet(t), Provider: hook, StatementTimeout: 5 * time.Second}, "2")
	checkStopped(t, ctx, <-stoppedc, err, "migration 2_sleep")
}

// onLog is a slog handler that calls f with every record's message.
type onLog struct{ f func(msg string) }

func (h onLog) Enabled(context.Context, slog.Level) bool      { return true }
func (h onLog) Handle(_ context.Context, r slog.Record) error { h.f(r.Message); return nil }
func (h onLog) WithAttrs([]slog.Attr) slog.Handler            { return h }
func (h onLog) WithGroup(string) slog.Handler                 { return h }

// TestRunStopsWhenItsServerStopsAfterTheWatchdogGaveUp: a migration that ends the watchdog's session
// and keeps it from connecting again (its role may no longer log in) makes the watchdog give up
// watching (it cancels the migrations' statements from then on); a server stopped then used to hold
// the run forever, the cancel requests getting no answer. The test stops the server the moment the
// watchdog gives up, from a session of its own on another database.
func TestRunStopsWhenItsServerStopsAfterTheWatchdogGaveUp(t *testing.T) {
	p := provider(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	set := folderOf(t, migrate.FormatGoose, map[string]string{
		"00001_end.sql": "-- +goose NO TRANSACTION\n-- +goose Up\n" +
			"DO $$BEGIN EXECUTE format('ALTER ROLE %I NOLOGIN', current_user); END$$;\n" +
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend';\n" +
			"SELECT pg_sleep(600);\n-- +goose Down\nSELECT 1;\n",
	})
	var (
		inst  *sandbox.Instance
		watch *pgx.Conn
	)
	hook := startHook{Provider: p, started: func(i *sandbox.Instance) {
		inst = i
		var err error
		if watch, err = pgx.Connect(ctx, withDatabase(t, i.URL, "template1")); err != nil {
			t.Errorf("connect to watch: %v", err)
		}
	}}
	stoppedc := make(chan stoppedServer, 1)
	var once sync.Once
	logger := slog.New(onLog{f: func(msg string) {
		if strings.HasPrefix(msg, "statement watchdog: the migrations' statements are canceled") {
			// In the watchdog's goroutine, before it sends its first cancel request.
			once.Do(func() {
				stopLocalFound(ctx, inst, func() (int, error) { return backendRunningOn(ctx, watch, "pg_sleep(600)") }, stoppedc)
			})
		}
	}})
	_, err := rehearse.Run(ctx, rehearse.Options{Set: set, Provider: hook, StatementTimeout: -1, NoTrace: true, NoRoundtrip: true, Logger: logger})
	if watch != nil {
		watch.Close(context.Background()) // at once: the server is gone
	}
	select {
	case got := <-stoppedc:
		checkStopped(t, ctx, got, err, "migration 1_end")
	default:
		t.Fatalf("the watchdog never gave up (run: %v)", err)
	}
}
