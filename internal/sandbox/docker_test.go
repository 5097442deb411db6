package sandbox

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Environment the tests use to re-run themselves in another setting (a child process, a sibling
// container); they are not part of schemagate's interface.
const (
	envChild        = "SCHEMAGATE_TEST_CHILD"       // which child scenario this process runs
	envExpectBind   = "SCHEMAGATE_TEST_EXPECT_BIND" // the address the published port must be bound to
	envTestImage    = "SCHEMAGATE_TEST_PG_IMAGE"    // the image the docker tests run
	labelTest       = "org.schemagate.test"         // lets a test find exactly its own containers
	defaultTestPG15 = "schemagate/postgres:15"      // built by scripts/setup-machine.sh
	defaultTestPG17 = "schemagate/postgres:17"      // idem
	siblingBinary   = "/usr/local/bin/sandbox.test" // where the test binary goes in a sibling container
)

func TestMain(m *testing.M) {
	// No registry is reachable from the test machines, so testcontainers' reaper image cannot be
	// pulled; the provider removes its containers itself. The daemon runs on this machine: published
	// ports are reached on 127.0.0.1, not through a bridge gateway (except in the sibling scenario,
	// which tests exactly that, and where the machine says otherwise).
	if _, set := os.LookupEnv("TESTCONTAINERS_HOST_OVERRIDE"); !set && os.Getenv(envChild) != "sibling" {
		os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	}
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	os.Exit(m.Run())
}

// requireDocker fails under CI=true and skips elsewhere when no Docker daemon answers.
func requireDocker(t testing.TB) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err == nil {
		_, err = cli.Ping(ctx, client.PingOptions{})
	}
	if err != nil {
		missing(t, "Docker daemon: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli.Client
}

// requireImage checks that a test image exists locally (no registry to pull it from).
func requireImage(t testing.TB, cli *client.Client, image string) {
	t.Helper()
	if _, err := cli.ImageInspect(context.Background(), image); err != nil {
		missing(t, "image %s (build it with scripts/setup-machine.sh): %v", image, err)
	}
}

func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("required test dependency missing under CI=true: %s", msg)
	}
	t.Skipf("skipping: %s", msg)
}

func testImage() string {
	if s := os.Getenv(envTestImage); s != "" {
		return s
	}
	return defaultTestPG15
}

// testDocker returns a provider whose containers carry a label unique to the test.
func testDocker(t testing.TB, opts Options) (*Docker, string) {
	t.Helper()
	d := NewDocker(opts)
	tag := randomHex(6)
	d.labels = map[string]string{labelTest: tag}
	return d, tag
}

// containers lists the containers (running or not) carrying the test's label.
func containers(t testing.TB, cli *client.Client, tag string) []string {
	t.Helper()
	list, err := cli.ContainerList(context.Background(), client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", labelTest+"="+tag),
	})
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	var ids []string
	for _, c := range list.Items {
		ids = append(ids, c.ID)
	}
	return ids
}

// assertGone fails unless every container of the test is removed, waiting up to 30 s for a
// removal that runs in the background (context cancellation).
func assertGone(t testing.TB, cli *client.Client, tag string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ids := containers(t, cli, tag)
		if len(ids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("containers left behind: %v", ids)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestDockerStart(t *testing.T) {
	cli := requireDocker(t)
	tests := []struct {
		name  string
		image string
		major int
	}{
		{name: "env image", image: testImage()},
		{name: "postgres 15", image: defaultTestPG15, major: 15},
		{name: "postgres 17", image: defaultTestPG17, major: 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if os.Getenv(envChild) == "sibling" && tt.image != testImage() {
				t.Skip("the sibling scenario runs the env image only")
			}
			t.Parallel()
			requireImage(t, cli, tt.image)
			ctx := t.Context()
			d, tag := testDocker(t, Options{Image: tt.image})
			inst, err := d.Start(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer inst.Close(context.Background())

			if tt.major != 0 && inst.ServerVersion/10000 != tt.major {
				t.Errorf("ServerVersion = %d, want PostgreSQL %d", inst.ServerVersion, tt.major)
			}
			conn, err := pgx.Connect(ctx, inst.URL)
			if err != nil {
				t.Fatal(err)
			}
			var db string
			var version int
			var superuser bool
			err = conn.QueryRow(ctx, `SELECT current_database(), current_setting('server_version_num')::int,
				rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&db, &version, &superuser)
			if err != nil {
				t.Fatal(err)
			}
			if db != dockerDatabase || version != inst.ServerVersion || !superuser {
				t.Errorf("connected to %s, version %d, superuser %v; want %s, %d, true", db, version, superuser, dockerDatabase, inst.ServerVersion)
			}
			for _, setting := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
				var v string
				if err := conn.QueryRow(ctx, "SELECT current_setting($1)", setting).Scan(&v); err != nil || v != "off" {
					t.Errorf("%s = %q (%v), want off", setting, v, err)
				}
			}
			var tables int
			conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')").Scan(&tables)
			if tables != 0 {
				t.Errorf("new database has %d tables, want none", tables)
			}
			if _, err := conn.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)"); err != nil {
				t.Errorf("use the database: %v", err)
			}
			// The backend's C library backs its memory with huge pages where the kernel offers them
			// (see serverTunables).
			var tunables bool
			if _, err := conn.Exec(ctx, "CREATE TEMP TABLE e (l text); COPY e FROM PROGRAM 'env'"); err != nil {
				t.Fatal(err)
			}
			if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM e WHERE l = 'GLIBC_TUNABLES=' || $1)", serverTunables).Scan(&tunables); err != nil || !tunables {
				t.Errorf("the server's environment lacks GLIBC_TUNABLES=%s (%v)", serverTunables, err)
			}
			conn.Close(ctx)

			admin, err := pgx.Connect(ctx, inst.AdminURL)
			if err != nil {
				t.Fatalf("admin connection: %v", err)
			}
			// The admin connection can copy the database, as a rehearsal does to restore a state.
			if _, err := admin.Exec(ctx, "CREATE DATABASE copy TEMPLATE "+dockerDatabase); err != nil {
				t.Errorf("copy the database from the admin connection: %v", err)
			}
			admin.Close(ctx)

			ids := containers(t, cli, tag)
			if len(ids) != 1 {
				t.Fatalf("containers with the test label: %v, want one", ids)
			}
			assertPublished(t, cli, ids[0])

			if err := inst.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := cli.ContainerInspect(context.Background(), ids[0], client.ContainerInspectOptions{}); err == nil {
				t.Errorf("container %.12s still exists after Close", ids[0])
			}
			assertGone(t, cli, tag)
			if err := inst.Close(context.Background()); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

// assertPublished checks the container's labels and that its port is published on the expected
// address only: 127.0.0.1, or in the sibling scenario the bridge gateway.
func assertPublished(t *testing.T, cli *client.Client, id string) {
	t.Helper()
	res, err := cli.ContainerInspect(context.Background(), id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Container
	if c.Config.Labels[LabelRun] == "" || c.Config.Labels[LabelProvider] != "docker" {
		t.Errorf("labels = %v, want %s and %s=docker", c.Config.Labels, LabelRun, LabelProvider)
	}
	want := netip.MustParseAddr("127.0.0.1")
	if ip, err := netip.ParseAddr(os.Getenv("TESTCONTAINERS_HOST_OVERRIDE")); err == nil {
		want = ip
	}
	if s := os.Getenv(envExpectBind); s != "" {
		want = netip.MustParseAddr(s)
	}
	if want.IsUnspecified() {
		t.Fatalf("test setup expects a binding on all interfaces")
	}
	var bindings int
	for port, bs := range c.HostConfig.PortBindings {
		for _, b := range bs {
			bindings++
			if b.HostIP != want {
				t.Errorf("port %s published on %q, want %s only", port, b.HostIP, want)
			}
		}
	}
	for port, bs := range c.NetworkSettings.Ports {
		for _, b := range bs {
			if b.HostIP != want {
				t.Errorf("port %s listens on %q, want %s only", port, b.HostIP, want)
			}
		}
	}
	if bindings != 1 {
		t.Errorf("%d port bindings %v, want one", bindings, c.HostConfig.PortBindings)
	}
	if len(c.Mounts) > 0 {
		for _, m := range c.Mounts {
			if m.Type == "bind" {
				t.Errorf("bind mount %s -> %s: host paths differ from ours inside a container action", m.Source, m.Destination)
			}
		}
	}
}

func TestDockerPasswordsDiffer(t *testing.T) {
	cli := requireDocker(t)
	requireImage(t, cli, testImage())
	d, tag := testDocker(t, Options{Image: testImage()})
	var passwords []string
	for range 2 {
		inst, err := d.Start(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(inst.URL)
		if err != nil {
			t.Fatal(err)
		}
		pw, _ := u.User.Password()
		if len(pw) < 32 {
			t.Errorf("password %q is too short", pw)
		}
		passwords = append(passwords, pw)
		if err := inst.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if passwords[0] == passwords[1] {
		t.Errorf("two runs share the password %q", passwords[0])
	}
	assertGone(t, cli, tag)
}

func TestDockerContextCancelRemovesContainer(t *testing.T) {
	t.Parallel()
	cli := requireDocker(t)
	requireImage(t, cli, testImage())
	d, tag := testDocker(t, Options{Image: testImage()})
	ctx, cancel := context.WithCancel(context.Background())
	inst, err := d.Start(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if n := len(containers(t, cli, tag)); n != 1 {
		t.Fatalf("%d containers, want one", n)
	}
	cancel() // what the CLI does on Ctrl-C or SIGTERM
	assertGone(t, cli, tag)
	// Close after the cancellation, with a fresh context, is still fine.
	if err := inst.Close(context.Background()); err != nil {
		t.Errorf("Close after cancellation: %v", err)
	}
}

// TestDockerCancelDuringCreateLeavesNothing: Ctrl-C can land while the daemon is still creating the
// container, after the request was cut short: the container appears after the first clean-up looked.
// Whenever the cancellation comes, nothing may be left.
func TestDockerCancelDuringCreateLeavesNothing(t *testing.T) {
	t.Parallel()
	cli := requireDocker(t)
	requireImage(t, cli, testImage())
	for _, delay := range []time.Duration{0, 5 * time.Millisecond, 15 * time.Millisecond, 30 * time.Millisecond, 60 * time.Millisecond, 120 * time.Millisecond, 250 * time.Millisecond} {
		d, tag := testDocker(t, Options{Image: testImage()})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(delay, cancel)
		inst, err := d.Start(ctx)
		if err == nil {
			cancel()
			_ = inst.Close(context.Background())
		}
		cancel()
		assertGone(t, cli, tag)
	}
}

// TestDockerCancelledStartIsQuick: a CI that cancels a job sends SIGTERM, then SIGKILL 7.5 s later
// (GitHub Actions). A run cancelled while it starts must have removed its container by then, also
// when the server takes long to be ready (here: never, its log silenced), and create none when the
// cancellation comes before the creation (here: while it waits for the sweep lock another process
// holds). Not parallel: the sweep lock is shared by the process's parallel tests.
func TestDockerCancelledStartIsQuick(t *testing.T) {
	cli := requireDocker(t)
	requireImage(t, cli, testImage())
	const sigkillAfter = 7500 * time.Millisecond
	start := func(t *testing.T, d *Docker, ctx context.Context) <-chan error {
		done := make(chan error, 1)
		go func() {
			inst, err := d.Start(ctx)
			if err == nil {
				inst.Close(context.Background())
			}
			done <- err
		}()
		return done
	}
	t.Run("while waiting for readiness", func(t *testing.T) {
		d, tag := testDocker(t, Options{Image: testImage()})
		d.args = []string{"-c", "log_min_messages=panic"} // never logs that it is ready
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := start(t, d, ctx)
		for deadline := time.Now().Add(time.Minute); len(containers(t, cli, tag)) == 0; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("no container within a minute")
			}
		}
		cancel()
		signalled := time.Now()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("Start succeeded after its cancellation")
			}
		case <-time.After(sigkillAfter):
			t.Errorf("Start still runs %s after the cancellation (SIGKILL now)", sigkillAfter)
		}
		if ids := containers(t, cli, tag); len(ids) > 0 && time.Since(signalled) >= sigkillAfter {
			t.Errorf("containers left %s after the cancellation: %v", time.Since(signalled).Round(time.Millisecond), ids)
		}
		assertGone(t, cli, tag)
	})
	t.Run("before the creation", func(t *testing.T) {
		held, err := lockFile(t.Context(), sweepLockPath(), time.Minute, func() {})
		if err != nil {
			t.Fatalf("take the sweep lock: %v", err)
		}
		defer held.Close()
		d, tag := testDocker(t, Options{Image: testImage()})
		d.args = []string{"-c", "log_min_messages=panic"}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := start(t, d, ctx)
		time.Sleep(time.Second) // in the wait for the sweep lock (or before it)
		cancel()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("Start succeeded after its cancellation")
			}
		case <-time.After(sigkillAfter):
			t.Fatalf("Start still runs %s after the cancellation (SIGKILL now)", sigkillAfter)
		}
		// A creation already sent would show within this time.
		for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			if ids := containers(t, cli, tag); len(ids) > 0 {
				t.Fatalf("a container was created after the cancellation: %v", ids)
			}
		}
	})
}

func TestDockerStartFailure(t *testing.T) {
	cli := requireDocker(t)
	requireImage(t, cli, testImage())
	tests := []struct {
		name    string
		image   string
		args    []string
		timeout time.Duration
		cancel  time.Duration // cancel the context this long after the start began
		want    []string
	}{
		{
			name:  "unknown image",
			image: "schemagate/no-such-image:0",
			want:  []string{"schemagate/no-such-image:0", "hint: the image schemagate/no-such-image:0 is not on this machine and could not be pulled", "--image"},
		},
		{
			name:  "server exits",
			image: testImage(),
			args:  []string{"-c", "no_such_setting=1"},
			want:  []string{"start PostgreSQL container from " + testImage(), "container log (last lines):", `unrecognized configuration parameter "no_such_setting"`},
		},
		{
			name:    "not ready in time",
			image:   testImage(),
			timeout: 50 * time.Millisecond,
			want:    []string{"start PostgreSQL container from " + testImage(), "deadline exceeded"},
		},
		{
			name:   "cancelled",
			image:  testImage(),
			cancel: 500 * time.Millisecond,
			want:   []string{"context canceled"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, tag := testDocker(t, Options{Image: tt.image})
			d.args = tt.args
			if tt.timeout != 0 {
				d.readyTimeout = tt.timeout
			}
			ctx := t.Context()
			if tt.cancel != 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				time.AfterFunc(tt.cancel, cancel)
			}
			inst, err := d.Start(ctx)
			if err == nil {
				inst.Close(context.Background())
				t.Fatal("Start succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if errors.Is(err, ErrUnavailable) {
				t.Errorf("error %q claims Docker is unavailable", err)
			}
			assertGone(t, cli, tag)
		})
	}
}

// TestDockerUnavailable runs the provider where no Docker daemon answers: in a container without
// the daemon's socket (like a runner in Kubernetes mode), with and without a DOCKER_HOST that leads
// nowhere. (In this process testcontainers would fall back to the local socket.)
func TestDockerUnavailable(t *testing.T) {
	if os.Getenv(envChild) == "unavailable" {
		inst, err := NewDocker(Options{Image: testImage()}).Start(t.Context())
		if err == nil {
			inst.Close(context.Background())
		}
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("error %v, want ErrUnavailable", err)
		}
		for _, w := range []string{"no Docker daemon answers", "start ", "--provider local", "--provider url"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say %q", err, w)
			}
		}
		return
	}
	if os.Getenv(envChild) != "" {
		t.Skip("another child scenario")
	}
	cli := requireDocker(t)
	requireImage(t, cli, defaultTestPG15)
	tests := []struct {
		name string
		env  map[string]string
	}{
		{name: "no socket"},
		{name: "dead DOCKER_HOST", env: map[string]string{"DOCKER_HOST": "tcp://127.0.0.1:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{envChild: "unavailable"}
			maps.Copy(env, tt.env)
			runSibling(t, cli, sibling{test: "TestDockerUnavailable", env: env})
		})
	}
}

// TestDockerFromSiblingContainer runs TestDockerStart inside a container that talks to the host's
// Docker daemon through its socket, as schemagate does inside GitHub's container action: on the
// default bridge, and on a user-defined network like the one the runner creates for jobs with
// services. The database container is a sibling; the provider must reach it through the bridge
// gateway, publish its port there and nowhere else, and bind-mount nothing.
func TestDockerFromSiblingContainer(t *testing.T) {
	if os.Getenv(envChild) != "" {
		t.Skip("already a child")
	}
	cli := requireDocker(t)
	requireImage(t, cli, defaultTestPG15)
	tests := []struct {
		name    string
		network bool
		// viaBridge has the sibling reach the host through the default bridge's gateway, as
		// testcontainers does when the daemon reports that gateway, from another network.
		viaBridge bool
	}{
		{name: "default bridge"},
		{name: "job network", network: true},
		{name: "job network via the bridge gateway", network: true, viaBridge: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := sibling{
				test:   "TestDockerStart/env_image",
				socket: true,
				env:    map[string]string{envChild: "sibling", envTestImage: defaultTestPG15, "CI": "true"},
			}
			nw := "bridge"
			if tt.network {
				s.network = "schemagate-test-" + randomHex(4)
				nw = s.network
				if _, err := cli.NetworkCreate(t.Context(), s.network, client.NetworkCreateOptions{Driver: "bridge"}); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { cli.NetworkRemove(context.Background(), s.network, client.NetworkRemoveOptions{}) })
			}
			// The sibling reaches the host through the gateway testcontainers reports: the default
			// bridge's when the daemon describes it (a host interface, reachable from any bridge
			// network), otherwise its own network's gateway, read from the container's routes.
			s.env[envExpectBind] = gateway(t, cli, nw)
			if gw, ok := reportedGateway(t, cli, "bridge"); ok {
				s.env[envExpectBind] = gw
			}
			if tt.viaBridge {
				s.env[envExpectBind] = gateway(t, cli, "bridge")
				s.env["TESTCONTAINERS_HOST_OVERRIDE"] = s.env[envExpectBind]
			}
			runSibling(t, cli, s)
		})
	}
}

// gateway is the host's address on a Docker network; some daemons leave it out of the default
// bridge's description, where it is the subnet's first address.
func gateway(t *testing.T, cli *client.Client, network string) string {
	t.Helper()
	res, err := cli.NetworkInspect(t.Context(), network, client.NetworkInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Network.IPAM.Config {
		if c.Gateway.IsValid() {
			return c.Gateway.String()
		}
		if c.Subnet.IsValid() && c.Subnet.Addr().Is4() {
			return c.Subnet.Masked().Addr().Next().String()
		}
	}
	t.Fatalf("no gateway on network %s: %+v", network, res.Network.IPAM)
	return ""
}

// reportedGateway is the gateway a network's description gives, as testcontainers reads it.
func reportedGateway(t *testing.T, cli *client.Client, network string) (string, bool) {
	t.Helper()
	res, err := cli.NetworkInspect(t.Context(), network, client.NetworkInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Network.IPAM.Config {
		if c.Gateway.IsValid() {
			return c.Gateway.String(), true
		}
	}
	return "", false
}

// sibling describes a run of this test binary in a container of its own.
type sibling struct {
	test    string            // the test to run: name/subtest
	env     map[string]string // environment inside the container
	socket  bool              // mount the daemon's socket, as the GitHub runner does
	network string            // a network to join instead of the default bridge
}

// runSibling runs s in a container from the PostgreSQL 15 test image (Debian, like the machines that
// build the test binary) and fails unless its tests pass. The binary is copied in, not bind-mounted.
func runSibling(t *testing.T, cli *client.Client, s sibling) {
	t.Helper()
	const socket = "/var/run/docker.sock"
	if s.socket {
		if _, err := os.Stat(socket); err != nil {
			missing(t, "the daemon's socket at %s (the runner mounts it there): %v", socket, err)
		}
	}
	ctr, err := testcontainers.Run(t.Context(), defaultTestPG15,
		testcontainers.WithLabels(map[string]string{labelTest: randomHex(6)}),
		testcontainers.WithFiles(testcontainers.ContainerFile{HostFilePath: os.Args[0], ContainerFilePath: siblingBinary, FileMode: 0o755}),
		testcontainers.WithEntrypoint(siblingBinary),
		testcontainers.WithCmd("-test.run=^"+strings.ReplaceAll(s.test, "/", "$/^")+"$", "-test.v", "-test.count=1"),
		testcontainers.WithEnv(s.env),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			if s.socket {
				hc.Binds = []string{socket + ":" + socket}
			}
			if s.network != "" {
				hc.NetworkMode = container.NetworkMode(s.network)
			}
		}),
		testcontainers.WithWaitStrategy(wait.ForExit().WithExitTimeout(3*time.Minute)),
	)
	defer testcontainers.TerminateContainer(ctr)
	if err != nil {
		t.Fatal(err)
	}
	state, err := ctr.State(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	logs := containerLogs(t, ctr)
	if state.ExitCode != 0 || !strings.Contains(logs, "--- PASS: "+s.test) || strings.Contains(logs, "--- SKIP") {
		t.Fatalf("%s in a sibling container: exit code %d\n%s", s.test, state.ExitCode, logs)
	}
}

func containerLogs(t *testing.T, ctr testcontainers.Container) string {
	t.Helper()
	rc, err := ctr.Logs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := rc.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

func TestPublishIP(t *testing.T) {
	tests := []struct {
		name, host, want string
	}{
		{name: "local daemon", host: "localhost", want: "127.0.0.1"},
		{name: "override", host: "127.0.0.1", want: "127.0.0.1"},
		{name: "bridge gateway", host: "172.17.0.1", want: "172.17.0.1"},
		{name: "ipv6", host: "[::1]", want: "::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := publishIP(t.Context(), tt.host); got.String() != tt.want {
				t.Errorf("publishIP(%q) = %s, want %s", tt.host, got, tt.want)
			}
		})
	}
}

func TestDockerImage(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{name: "default", want: "postgres:15"},
		{name: "version", opts: Options{PGVersion: 17}, want: "postgres:17"},
		{name: "image wins", opts: Options{PGVersion: 17, Image: "registry.example/pg:16"}, want: "registry.example/pg:16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewDocker(tt.opts).Image(); got != tt.want {
				t.Errorf("Image() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDefaultGateway(t *testing.T) {
	tests := []struct {
		name, table, want string
	}{
		{
			name: "bridge",
			table: "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
				"eth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
				"eth0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n",
			want: "172.17.0.1",
		},
		{
			name:  "no default route",
			table: "Iface\tDestination\tGateway\neth0\t000011AC\t00000000\n",
			want:  "error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := t.TempDir() + "/route"
			if err := os.WriteFile(path, []byte(tt.table), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := defaultGateway(path)
			if tt.want == "error" {
				if err == nil {
					t.Fatalf("defaultGateway = %s, want an error", got)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Errorf("defaultGateway = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}
