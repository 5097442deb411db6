package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5"
)

func requireLocal(t testing.TB) *Local {
	t.Helper()
	l := NewLocal(Options{})
	if _, err := l.binDir(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL server binaries missing under CI=true: %v", err)
		}
		t.Skip(err)
	}
	return l
}

func TestLocalStartAndClose(t *testing.T) {
	l := requireLocal(t)
	ctx := context.Background()
	inst, err := l.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(inst.URL)
	dir := u.Query().Get("host")
	if _, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION")); err != nil {
		t.Fatalf("instance folder missing: %v", err)
	}
	if inst.ServerVersion < 100000 {
		t.Fatalf("server version %d", inst.ServerVersion)
	}
	conn, err := pgx.Connect(ctx, inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	var fsync string
	if err := conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil || fsync != "off" {
		t.Fatalf("fsync = %q (%v), want off", fsync, err)
	}
	var listen string
	conn.QueryRow(ctx, "SHOW listen_addresses").Scan(&listen)
	if listen != "" {
		t.Fatalf("server listens on %q, want the private socket only", listen)
	}
	conn.Close(ctx)
	if err := inst.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("instance folder %s still exists after Close (%v)", dir, err)
	}
	if err := inst.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestLocalTakesWhatAStockServerTakes: one transaction that creates 1,600 tables holds about 6,400
// relation locks (each table's heap, TOAST table, TOAST index and primary key) until it ends. A stock
// server (max_connections 100, max_locks_per_transaction 64: a lock table of about 7,800 entries) takes
// it, as production does a pg_dump baseline of that size; the local server, with its fewer connections,
// ran out of shared memory at about 1,300 tables ("out of shared memory", SQLSTATE 53200), failing the
// migration in every pull request once it was history.
func TestLocalTakesWhatAStockServerTakes(t *testing.T) {
	l := requireLocal(t)
	ctx := t.Context()
	inst, err := l.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.WithoutCancel(ctx))
	conn, err := pgx.Connect(ctx, inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, `BEGIN;
CREATE TABLE t0 (id bigint PRIMARY KEY);
DO $$ BEGIN FOR i IN 1..1600 LOOP
  EXECUTE format('CREATE TABLE t%s (id bigint PRIMARY KEY, note text, prev bigint REFERENCES t%s)', i, i - 1);
  EXECUTE format('CREATE INDEX ON t%s (prev)', i);
END LOOP; END $$;
`)
	conn.Exec(ctx, "COMMIT")
	if err != nil {
		t.Fatalf("1,600 tables in one transaction: %v", err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n); err != nil || n != 1601 {
		t.Fatalf("%d tables (%v), want 1600", n, err)
	}
}

func TestLocalInstancesAreIndependent(t *testing.T) {
	l := requireLocal(t)
	ctx := context.Background()
	a, err := l.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	b, err := l.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	ca, _ := pgx.Connect(ctx, a.URL)
	defer ca.Close(ctx)
	cb, _ := pgx.Connect(ctx, b.URL)
	defer cb.Close(ctx)
	if _, err := ca.Exec(ctx, "CREATE TABLE x (id int)"); err != nil {
		t.Fatal(err)
	}
	var n int
	cb.QueryRow(ctx, "SELECT count(*) FROM pg_class WHERE relname='x'").Scan(&n)
	if n != 0 {
		t.Fatal("instances share a cluster")
	}
}

// TestLocalServerDiesWithParent runs a child process that starts an instance and is killed with
// SIGKILL: the server must not outlive it.
func TestLocalServerDiesWithParent(t *testing.T) {
	requireLocal(t)
	if os.Getenv("SCHEMAGATE_SANDBOX_CHILD") == "1" {
		inst, err := NewLocal(Options{}).Start(context.Background())
		if err != nil {
			os.Exit(3)
		}
		u, _ := url.Parse(inst.URL)
		os.Stdout.WriteString(u.Query().Get("host") + "\n")
		time.Sleep(time.Minute)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLocalServerDiesWithParent$")
	cmd.Env = append(os.Environ(), "SCHEMAGATE_SANDBOX_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, _ := out.Read(buf)
	dir := string(buf[:n])
	dir = dir[:len(dir)-1]
	pidBytes, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatalf("child did not start a server: %v (%q)", err, dir)
	}
	var pid int
	for _, c := range string(pidBytes) {
		if c == '\n' {
			break
		}
		pid = pid*10 + int(c-'0')
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("postgres (pid %d) outlived its killed parent", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	os.RemoveAll(dir)
}

func processAlive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// A zombie (state Z) is dead for our purposes.
	for i := len(b) - 1; i > 0; i-- {
		if b[i] == ')' {
			return i+2 < len(b) && b[i+2] != 'Z'
		}
	}
	return true
}

func itoa(i int) string { return formatInt(i) }

func formatInt(i int) string {
	if i == 0 {
		return "0"
	}
	var d []byte
	for i > 0 {
		d = append([]byte{byte('0' + i%10)}, d...)
		i /= 10
	}
	return string(d)
}

// BenchmarkLocalReady measures the time until a local instance accepts connections (template cached):
// as the provider starts it (without network where it may), and sharing the machine's network, which
// shows what the network namespace costs.
func BenchmarkLocalReady(b *testing.B) {
	requireLocal(b)
	for _, bc := range []struct {
		name  string
		modes []netMode
	}{{"default", nil}, {"shared-network", []netMode{netShared}}} {
		b.Run(bc.name, func(b *testing.B) {
			l := NewLocal(Options{netModes: bc.modes})
			ctx := context.Background()
			warm, err := l.Start(ctx) // builds the template once
			if err != nil {
				b.Fatal(err)
			}
			warm.Close(ctx)
			var times []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				inst, err := l.Start(ctx)
				if err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(start))
				b.StopTimer()
				inst.Close(ctx)
				b.StartTimer()
			}
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
		})
	}
}

// TestLocalServerEnvironmentHoldsNoSecrets: migrations run as a superuser, and COPY … FROM PROGRAM runs
// a command with the server's environment. A pull request must not find the job's tokens there.
func TestLocalServerEnvironmentHoldsNoSecrets(t *testing.T) {
	const secret = "ghs_schemagate_test_secret"
	t.Setenv("GITHUB_TOKEN", secret)
	t.Setenv("TZ", "UTC")
	l := requireLocal(t)
	ctx := context.Background()
	inst, err := l.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)
	conn, err := pgx.Connect(ctx, inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TEMP TABLE e (l text); COPY e FROM PROGRAM 'env'"); err != nil {
		t.Fatal(err)
	}
	var env string
	if err := conn.QueryRow(ctx, "SELECT string_agg(l, E'\\n' ORDER BY l) FROM e").Scan(&env); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(env, secret) {
		t.Fatalf("the server's environment holds the job's token:\n%s", env)
	}
	for _, want := range []string{"LANG=C.UTF-8", "TZ=UTC", "PATH=", "GLIBC_TUNABLES=" + serverTunables} {
		if !strings.Contains(env, want) {
			t.Errorf("the server's environment lacks %s:\n%s", want, env)
		}
	}
}

// TestLocalServerThatDiesAtStartUp: a server that exits while starting (a full /dev/shm, a bad setting)
// is an error naming it, soon; Start must not wait forever for an exit it has already seen.
func TestLocalServerThatDiesAtStartUp(t *testing.T) {
	l := requireLocal(t)
	real, err := l.binDir()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.MkdirTemp("", "sg-fakebin-") // readable by the postgres user the server runs as
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(bin) })
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(real)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "postgres" {
			if err := os.Symlink(filepath.Join(real, e.Name()), filepath.Join(bin, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	// initdb's runs (--boot, --single, -V) get the real server; the server itself fails at once.
	script := "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in --boot|--single|-V|--version|-C|--describe-config) exec " + filepath.Join(real, "postgres") + " \"$@\";; esac; done\necho 'FATAL:  could not resize shared memory segment: No space left on device' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "postgres"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// The failure could come from the copied template: Start rebuilds that once, tries again and, as
	// the server fails from a fresh one too, says so and where the template is.
	l, logs := cacheLocal(t, Options{BinDir: bin})
	done := make(chan error, 1)
	go func() {
		inst, err := l.Start(t.Context())
		if err == nil {
			inst.Close(context.Background())
		}
		done <- err
	}()
	select {
	case err := <-done:
		dir := templateDir(t, l)
		if err == nil || !strings.Contains(err.Error(), "postgres exited during start-up") || !strings.Contains(err.Error(), "No space left on device") ||
			!strings.Contains(err.Error(), "cached cluster template "+dir) || !strings.Contains(err.Error(), "even though it was rebuilt just now") {
			t.Errorf("error %v", err)
		}
		if n := strings.Count(logs.String(), "is damaged; rebuilding it"); n != 1 {
			t.Errorf("%d rebuilds, want 1:\n%s", n, logs)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("Start still waits 90 s after the server exited")
	}
}

// startWithMemory starts a local server (closed when the test ends) and reads its postmaster pid and
// SysV shared memory segment from its postmaster.pid; segment tells whether that segment still exists.
func startWithMemory(t *testing.T) (inst *Instance, pid, shmid int, segment func() bool) {
	t.Helper()
	requireLocal(t)
	inst, err := NewLocal(Options{}).Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close(context.Background()) })
	u, _ := url.Parse(inst.URL)
	b, err := os.ReadFile(filepath.Join(u.Query().Get("host"), "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	pid, _ = strconv.Atoi(strings.TrimSpace(lines[0]))
	f := strings.Fields(lines[6]) // "  5432001    65538": the segment's key and id
	if len(f) != 2 || pid == 0 {
		t.Fatalf("postmaster.pid: %q", b)
	}
	shmid, _ = strconv.Atoi(f[1])
	return inst, pid, shmid, func() bool {
		var buf [512]byte // room for struct shmid_ds
		_, _, errno := syscall.Syscall(syscall.SYS_SHMCTL, uintptr(shmid), 2 /* IPC_STAT */, uintptr(unsafe.Pointer(&buf[0])))
		return errno == 0
	}
}

// TestLocalKilledServerFreesItsSharedMemory: a server killed with SIGKILL (the OOM killer) leaves its
// shared memory behind, which PostgreSQL frees only at the next start in the same data folder. Close
// starts it once more and stops it, so the SysV segment (named in postmaster.pid) is gone after it.
func TestLocalKilledServerFreesItsSharedMemory(t *testing.T) {
	inst, pid, shmid, segment := startWithMemory(t)
	if !segment() {
		t.Fatalf("no SysV segment %d for a running server: the test proves nothing", shmid)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for processAlive(pid) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := inst.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if segment() {
		t.Errorf("the killed server's shared memory segment %d is still there after Close", shmid)
	}
}

// TestLocalStoppedServerFreesItsSharedMemory: a server stopped (SIGSTOP, a frozen cgroup) with a
// backend stopped too is killed by Close once SIGQUIT has gone unanswered 10 s. PostgreSQL's backends
// run in process groups of their own, so killing the postmaster's group left the stopped backend
// alive, holding the server's shared memory: the start that frees it failed for as long, and the SysV
// segment and the dynamic shared memory in /dev/shm stayed behind (two per stopped run of the suite).
// Close now kills the postmaster's children too, and frees the segment.
func TestLocalStoppedServerFreesItsSharedMemory(t *testing.T) {
	inst, pid, shmid, segment := startWithMemory(t)
	conn, err := pgx.Connect(t.Context(), inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	var backend int
	if err := conn.QueryRow(t.Context(), "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = conn.Exec(context.Background(), "SELECT pg_sleep(600)") }()
	t.Cleanup(func() { _ = syscall.Kill(backend, syscall.SIGCONT) }) // should it be left
	for _, p := range []int{pid, backend} {
		if err := syscall.Kill(p, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
	}
	if !segment() {
		t.Fatalf("no SysV segment %d for a running server: the test proves nothing", shmid)
	}
	if err := inst.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if processAlive(backend) {
		t.Errorf("the stopped backend (pid %d) outlives Close", backend)
	}
	if segment() {
		t.Errorf("the stopped server's shared memory segment %d is still there after Close", shmid)
	}
}

// TestLocalBinDirBadInput: --pg-bindir naming no folder, or a folder whose postgres is not PostgreSQL,
// is the user's mistake (exit 2), said in words, not ErrUnavailable (exit 1) nor a parse error of
// postgres --version.
func TestLocalBinDirBadInput(t *testing.T) {
	t.Parallel()
	fake := t.TempDir()
	for _, b := range []string{"postgres", "initdb"} {
		if err := os.Symlink("/bin/true", filepath.Join(fake, b)); err != nil {
			t.Fatal(err)
		}
	}
	echo := t.TempDir()
	script := "#!/bin/sh\necho 'true (GNU coreutils) 9.1'\necho 'Written by someone.'\n"
	for _, b := range []string{"postgres", "initdb"} {
		if err := os.WriteFile(filepath.Join(echo, b), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	noInitdb := t.TempDir()
	if err := os.WriteFile(filepath.Join(noInitdb, "postgres"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, want string
	}{
		{"missing folder", "/nonexistent/bin", "--pg-bindir /nonexistent/bin: no such folder"},
		{"no initdb", noInitdb, "no initdb binary in it"},
		{"not postgres", echo, filepath.Join(echo, "postgres") + ` is not a PostgreSQL server: its --version printed "true (GNU coreutils) 9.1"`},
		{"prints nothing", fake, filepath.Join(fake, "postgres") + " is not a PostgreSQL server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range []string{"local", "auto"} {
				_, err := New(name, Options{BinDir: tt.dir})
				if err == nil || errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "strconv") {
					t.Errorf("New(%s) error %v; want bad input saying %q", name, err, tt.want)
				}
			}
			if _, err := NewLocal(Options{BinDir: tt.dir, CacheDir: t.TempDir()}).Start(t.Context()); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start error %v; want %q", err, tt.want)
			}
		})
	}
}

// missingVersion is a PostgreSQL major version schemagate takes whose server binaries this machine lacks
// while it has others, with the versions it has; it skips when none is installed.
func missingVersion(t *testing.T) (int, []serverBin) {
	t.Helper()
	have := servers()
	if len(have) == 0 {
		requireLocal(t)
	}
	for v := 19; v >= 10; v-- {
		if !slices.ContainsFunc(have, func(s serverBin) bool { return s.version == v }) {
			return v, have
		}
	}
	t.Skip("every PostgreSQL major version from 10 to 19 is installed")
	return 0, nil
}

// TestLocalVersionNotInstalled: a version asked for that the machine does not have, when it has others,
// is the request's fault (bad input, exit 2), not ErrUnavailable (the tool cannot run here, exit 1): the
// error names what is installed and how to get the version asked for, whether local or auto (without a
// Docker engine) looked.
func TestLocalVersionNotInstalled(t *testing.T) {
	want, have := missingVersion(t)
	check := func(name string, err error) {
		t.Helper()
		if !errors.Is(err, ErrVersionUnavailable) || errors.Is(err, ErrUnavailable) {
			t.Fatalf("%s: %v; want ErrVersionUnavailable", name, err)
		}
		for _, w := range []string{
			fmt.Sprintf("PostgreSQL %d", want), fmt.Sprintf("PostgreSQL %d (%s)", have[0].version, have[0].dir),
			fmt.Sprintf("install postgresql-%d", want), fmt.Sprintf("--pg-version %d", have[0].version),
		} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nwant %q in it", name, err, w)
			}
		}
	}
	_, err := NewLocal(Options{PGVersion: want, CacheDir: t.TempDir()}).Start(t.Context())
	check("local", err)
	if !strings.Contains(err.Error(), "--provider docker") {
		t.Errorf("local: %v\nwant --provider docker in it", err)
	}
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock") // no Docker engine for auto to fall back on
	_, err = New("auto", Options{PGVersion: want})
	check("auto without Docker", err)
	if !strings.Contains(err.Error(), "start Docker") {
		t.Errorf("auto: %v\nwant start Docker in it", err)
	}
}

// TestServerEnvTunables: the server's C library gets serverTunables, unless schemagate's own
// environment sets GLIBC_TUNABLES, which is passed on as it is.
func TestServerEnvTunables(t *testing.T) {
	for _, tt := range []struct{ given, want string }{
		{"", serverTunables},
		{"glibc.malloc.arena_max=2", "glibc.malloc.arena_max=2"},
	} {
		env := serverEnv(func(k string) string {
			if k == "GLIBC_TUNABLES" {
				return tt.given
			}
			return ""
		})
		n := 0
		for _, kv := range env {
			if strings.HasPrefix(kv, "GLIBC_TUNABLES=") {
				n++
				if kv != "GLIBC_TUNABLES="+tt.want {
					t.Errorf("given GLIBC_TUNABLES=%q: the server gets %s, want %s", tt.given, kv, tt.want)
				}
			}
		}
		if n != 1 {
			t.Errorf("given GLIBC_TUNABLES=%q: %d GLIBC_TUNABLES in the server's environment %q, want 1", tt.given, n, env)
		}
	}
}
