package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Labels set on every container the docker provider starts, beside those naming the process that
// started it (LabelHost, LabelPID, LabelStarted, LabelProcess, LabelContainer): after a kill -9 with
// Ryuk disabled, the next run removes the container (removeLeftovers), and people find it with
// docker ps -a --filter label=org.schemagate.run.
const (
	// LabelRun is the run's random id, also in the container's name (schemagate-pg-<run>).
	LabelRun      = "org.schemagate.run"
	LabelProvider = "org.schemagate.provider"
)

const (
	defaultDockerPGVersion = 15
	dockerDatabase         = "schemagate"
	dockerUser             = "postgres"
	// dataMount is a tmpfs holding the cluster: a throwaway database needs no durability, and the
	// anonymous volume the official image declares would otherwise take every write.
	dataMount = "/var/lib/schemagate"
	// readyLog is what the postgres image logs twice: after the init server, then for the real one.
	readyLog = "database system is ready to accept connections"
)

// Docker runs PostgreSQL in a container through testcontainers-go, from postgres:<version> or a
// given image. The container gets a random superuser password, publishes its port on the address
// schemagate connects to (127.0.0.1 when the daemon is local), runs with durability off, and is
// removed by Close, after a failed start, and when the context given to Start is cancelled. What a
// killed process could not remove, the next Start on the same daemon does: the containers' labels
// name the process that started them, and those whose process is gone are removed (removeLeftovers).
//
// Inside a container with the host's Docker socket (GitHub's container actions, GitLab's socket
// binding), testcontainers reaches the sibling container through the bridge network's gateway;
// TESTCONTAINERS_HOST_OVERRIDE, when set, names that address instead. Nothing is bind-mounted, so
// paths that differ between the caller's container and the host do not matter.
type Docker struct {
	opts Options
	// readyTimeout bounds the wait for the server (not the image pull); tests shorten it.
	readyTimeout time.Duration
	// args are extra server arguments; tests use them to make a start fail.
	args []string
	// labels are extra container labels; tests use them to find their own containers.
	labels map[string]string
}

var _ Provider = (*Docker)(nil)

// NewDocker returns the docker provider.
func NewDocker(opts Options) *Docker {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Docker{opts: opts, readyTimeout: 2 * time.Minute}
}

// Name implements Provider.
func (d *Docker) Name() string { return "docker" }

// Image is the image the provider runs: Options.Image, else postgres:<PGVersion> (15 by default).
func (d *Docker) Image() string {
	if d.opts.Image != "" {
		return d.opts.Image
	}
	v := d.opts.PGVersion
	if v == 0 {
		v = defaultDockerPGVersion
	}
	return "postgres:" + strconv.Itoa(v)
}

// Start implements Provider. The container lives until Close is called or ctx is cancelled,
// whichever comes first: the caller cancels ctx on Ctrl-C or SIGTERM, and the container goes with
// it even when Ryuk (testcontainers' reaper) is disabled. Close works with a fresh context.
func (d *Docker) Start(ctx context.Context) (inst *Instance, err error) {
	if err := dockerHostAnswers(ctx); err != nil {
		return nil, err
	}
	log := d.opts.Logger
	tclog := testcontainers.WithLogger(tcLogger{log})
	// The default bridge, as testcontainers' own provider for the container uses, so that both find
	// the same host address.
	dp, err := testcontainers.NewDockerProvider(tclog, testcontainers.WithDefaultBridgeNetwork(testcontainers.Bridge))
	if err != nil {
		return nil, unavailable(err)
	}
	defer dp.Close()
	healthCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	err = dp.Health(healthCtx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("start docker provider: %w", ctx.Err())
		}
		return nil, unavailable(err)
	}
	host, err := dockerHost(ctx, dp)
	if err != nil {
		return nil, err
	}
	bindIP := publishIP(ctx, host)
	if bindIP.IsUnspecified() {
		log.Warn("publishing the PostgreSQL port on all interfaces: cannot resolve the docker host", "host", host)
	}

	// Ryuk is off, so containers of killed runs are removed here. A failure does not stop the run.
	self := currentOwner(ctx, dp.Client())
	unlock := lockSweeps(ctx, log)
	sweepCtx, cancel := context.WithTimeout(ctx, time.Minute)
	err = removeLeftovers(sweepCtx, dp.Client(), self, log)
	cancel()
	unlock()
	if err != nil && ctx.Err() == nil {
		log.Warn("could not remove every leftover PostgreSQL container", "err", err)
	}

	run := randomHex(6)
	password := randomHex(16)
	image := d.Image()
	cmd := []string{"postgres", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"}
	cmd = append(cmd, d.args...)
	port := network.MustParsePort("5432/tcp")
	log.Info("starting a PostgreSQL container", "image", image, "run", run, "bind", bindIP.String())

	// The container is created with a context Ctrl-C does not cut: a create request cut short can
	// still finish in the daemon after every clean-up has looked. On cancellation Start returns at
	// once, and Close removes the container by its label as soon as the daemon has it, again until
	// the creation ends.
	type created struct {
		ctr *tcpostgres.PostgresContainer
		err error
	}
	if err := ctx.Err(); err != nil {
		// Cancelled during the sweep: nothing is created, which a cancellation could only undo later.
		return nil, fmt.Errorf("start PostgreSQL container from %s: %w", image, err)
	}
	creating := make(chan created, 1)
	go func() {
		c, err := tcpostgres.Run(context.WithoutCancel(ctx), image,
			tclog,
			testcontainers.WithName("schemagate-pg-"+run),
			testcontainers.WithLabels(d.labels),
			testcontainers.WithLabels(map[string]string{LabelRun: run, LabelProvider: "docker"}),
			testcontainers.WithLabels(self.labels()),
			tcpostgres.WithUsername(dockerUser),
			tcpostgres.WithPassword(password),
			tcpostgres.WithDatabase(dockerDatabase),
			testcontainers.WithEnv(map[string]string{
				"PGDATA":               dataMount + "/data",
				"POSTGRES_INITDB_ARGS": "--no-sync",
				"GLIBC_TUNABLES":       serverTunables, // as the local server's (see serverTunables)
			}),
			testcontainers.WithTmpfs(map[string]string{dataMount: "rw"}),
			testcontainers.WithCmd(cmd...),
			testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
				hc.PortBindings = network.PortMap{port: {{HostIP: bindIP}}}
			}),
			testcontainers.WithWaitStrategyAndDeadline(d.readyTimeout,
				wait.ForLog(readyLog).WithOccurrence(2).WithStartupTimeout(d.readyTimeout),
				// Only inside the container: from here the port is checked by connecting (waitVersion) to
				// the address dockerHost chose, which can differ from testcontainers' guess.
				wait.ForListeningPort("5432/tcp").SkipExternalCheck().WithStartupTimeout(d.readyTimeout),
			),
		)
		creating <- created{c, err}
	}()
	var ctr *tcpostgres.PostgresContainer
	pending := false // the creation goes on after a cancellation
	select {
	case c := <-creating:
		ctr, err = c.ctr, c.err
	case <-ctx.Done():
		err, pending = ctx.Err(), true
	}

	var once sync.Once
	var closeErr error
	stopAfter := func() bool { return true }
	closeFn := func(closeCtx context.Context) error {
		once.Do(func() {
			stopAfter()
			if closeCtx.Err() != nil {
				closeCtx = context.WithoutCancel(closeCtx)
			}
			closeCtx, cancel := context.WithTimeout(closeCtx, time.Minute)
			defer cancel()
			if pending {
				// The creation goes on, and testcontainers then waits for the server to be ready (up to
				// readyTimeout). A CI that cancels a job sends SIGTERM and SIGKILL seconds later: the
				// container is removed (by its label) as soon as the daemon has it, which also ends
				// that wait, rather than once the creation ends. Once one was removed, the creation is past
				// the point where it makes one, and Close need not wait for testcontainers to notice.
				tick := time.NewTicker(200 * time.Millisecond)
			wait:
				for {
					if n, err := removeRunCount(closeCtx, run); err == nil && n > 0 {
						break wait
					}
					select {
					case <-creating:
						break wait
					case <-closeCtx.Done():
						break wait
					case <-tick.C:
					}
				}
				tick.Stop()
			}
			if ctr != nil {
				closeErr = ctr.Terminate(closeCtx, testcontainers.StopTimeout(0))
			}
			// The label also catches a container whose creation was cut short, which testcontainers
			// never learnt the id of; the daemon may still be creating it then.
			if rerr := removeRun(closeCtx, run); rerr != nil && closeErr == nil {
				closeErr = rerr
			}
			if closeErr != nil {
				closeErr = fmt.Errorf("remove PostgreSQL container schemagate-pg-%s: %w (remove leftovers with: docker rm -f -v $(docker ps -aq --filter label=%s=%s))", run, closeErr, LabelRun, run)
			} else {
				log.Info("removed the PostgreSQL container", "run", run)
			}
		})
		return closeErr
	}
	defer func() {
		if err != nil {
			_ = closeFn(context.Background())
		}
	}()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("start PostgreSQL container from %s: %w", image, ctx.Err())
		}
		if _, ierr := dp.Client().ImageInspect(context.WithoutCancel(ctx), image); ierr != nil {
			err = fmt.Errorf("%w\nhint: the image %s is not on this machine and could not be pulled; pull it first, or pass --image with a local PostgreSQL image", err, image)
		}
		return nil, startError(ctx, image, ctr, err)
	}
	// With Ryuk disabled nothing else would remove the container if the run is interrupted.
	stopAfter = context.AfterFunc(ctx, func() { _ = closeFn(context.Background()) })

	mapped, err := ctr.MappedPort(ctx, "5432/tcp")
	if err != nil {
		return nil, fmt.Errorf("read the container's published port: %w", err)
	}
	addr := net.JoinHostPort(urlHost(host, bindIP), mapped.Port())
	// connect_timeout: a paused or frozen container's port proxy takes the connection and never answers.
	base := url.URL{Scheme: "postgres", User: url.UserPassword(dockerUser, password), Host: addr, RawQuery: "connect_timeout=" + strconv.Itoa(connectTimeout) + "&sslmode=disable"}
	dbURL, adminURL := base, base
	dbURL.Path, adminURL.Path = "/"+dockerDatabase, "/postgres"

	version, err := waitVersion(ctx, dbURL.String(), d.readyTimeout)
	if err != nil {
		return nil, startError(ctx, image, ctr, err)
	}
	log.Info("PostgreSQL container ready", "run", run, "address", addr, "version", version)
	return &Instance{URL: dbURL.String(), AdminURL: adminURL.String(), ServerVersion: version, Close: closeFn,
		Stalled: func(ctx context.Context) string { return containerStalled(ctx, ctr, "schemagate-pg-"+run) }}, nil
}

// connectTimeout is the connect_timeout (seconds) of the URLs the providers hand out (the url provider's
// unless the user's URL or PGCONNECT_TIMEOUT sets one): a connection to a server that stopped answering
// fails instead of waiting forever.
const connectTimeout = 10

// containerStalled says what docker knows of the container name, whose server stopped answering.
func containerStalled(ctx context.Context, ctr *tcpostgres.PostgresContainer, name string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := ctr.State(ctx)
	switch {
	case err != nil:
		return fmt.Sprintf("its container %s could not be inspected (%v); docker ps -a --filter name=%s shows its state", name, err, name)
	case st.Paused:
		return fmt.Sprintf("its container %s is paused (docker pause, or a tool that freezes containers): leave it running while schemagate runs (docker unpause %s resumes a paused container)", name, name)
	case st.Running:
		return fmt.Sprintf("its container %s runs, but its server does not answer (a frozen process, or a docker host out of memory or CPU)", name)
	}
	return fmt.Sprintf("its container %s is %s (exit code %d)", name, st.Status, st.ExitCode)
}

// unavailable explains that no Docker daemon answers and what to do instead.
func unavailable(err error) error {
	return fmt.Errorf("%w: no Docker daemon answers (%v); start Docker (or point DOCKER_HOST at a daemon), "+
		"or use --provider local (PostgreSQL server binaries on this machine) or --provider url with --database-url (an existing server)",
		ErrUnavailable, err)
}

// startError quotes the container's last log lines, which say why PostgreSQL did not come up.
func startError(ctx context.Context, image string, ctr *tcpostgres.PostgresContainer, err error) error {
	var hint string
	switch msg := err.Error(); {
	case strings.Contains(msg, "ryuk") || strings.Contains(msg, "reaper"):
		hint = "\nhint: testcontainers' reaper (Ryuk) could not start; set TESTCONTAINERS_RYUK_DISABLED=true (schemagate removes its containers itself)"
	case strings.Contains(msg, "cannot assign requested address"):
		hint = "\nhint: the docker host's address is not one of the daemon's own (NAT, SSH tunnel); set TESTCONTAINERS_HOST_OVERRIDE to an address the daemon owns and schemagate reaches"
	}
	var logs string
	if ctr != nil {
		logCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if rc, lerr := ctr.Logs(logCtx); lerr == nil {
			b, _ := io.ReadAll(io.LimitReader(rc, 1<<20))
			rc.Close()
			if s := strings.TrimSpace(string(b)); s != "" {
				logs = "\ncontainer log (last lines):\n" + lastLines(s, 20)
			}
		}
	}
	return fmt.Errorf("start PostgreSQL container from %s: %w%s%s", image, err, hint, logs)
}

// removeRun force-removes every container labelled with the run id, with its anonymous volumes.
func removeRun(ctx context.Context, run string) error {
	_, err := removeRunCount(ctx, run)
	return err
}

// removeRunCount removes the run's containers and says how many there were.
func removeRunCount(ctx context.Context, run string) (int, error) {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return 0, fmt.Errorf("connect to docker: %w", err)
	}
	defer cli.Close()
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", LabelRun+"="+run),
	})
	if err != nil {
		return 0, fmt.Errorf("list containers: %w", err)
	}
	var errs []error
	for _, c := range list.Items {
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			errs = append(errs, fmt.Errorf("remove container %.12s: %w", c.ID, err))
		}
	}
	return len(list.Items), errors.Join(errs...)
}

// publishIP is the host address the container's port is published on: the address schemagate
// dials, so the database is reachable from nowhere else. A local daemon gives 127.0.0.1; inside a
// container it is the bridge gateway (a host interface); a remote daemon (DOCKER_HOST=tcp://docker:2375)
// gives the daemon's own address. When the name does not resolve, all interfaces.
//
// In a container (/.dockerenv) that talks to a daemon of its own (a VM or CI image that runs dockerd
// inside), 127.0.0.1 would do, yet the port goes on the bridge gateway (172.17.0.1): from inside,
// that case and a container action (the runner's socket mounted, where 127.0.0.1 is the action's own
// loopback and cannot reach the published port) look the same, a unix socket answering as localhost.
// Asking the daemon whether it knows our container does not settle it: a socket mounted into a
// container the daemon did not start (a Kubernetes pod, Podman) is a sibling it does not know. The
// gateway is reachable from the daemon's host and its containers, not from other machines, and the
// server has a random 128-bit password for each run.
func publishIP(ctx context.Context, host string) netip.Addr {
	if host == "localhost" {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return ip.Unmap()
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", host)
	if err != nil || len(ips) == 0 {
		return netip.IPv4Unspecified()
	}
	return ips[0].Unmap()
}

// urlHost is the host part of the database URL: the address the port is bound to, so that
// "localhost" resolving to ::1 first cannot miss an IPv4-only binding.
func urlHost(host string, bound netip.Addr) string {
	if bound.IsUnspecified() {
		return host
	}
	return bound.String()
}

// waitVersion connects and reads server_version_num, retrying until timeout: the port proxy can
// lag behind the server's readiness.
func waitVersion(ctx context.Context, u string, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for {
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		v, err := serverVersion(attempt, u)
		cancel()
		if err == nil || ctx.Err() != nil {
			return v, err
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%w (not reachable within %s; if schemagate runs in a container, set TESTCONTAINERS_HOST_OVERRIDE to the address where it reaches the docker host's published ports)", err, timeout)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// dockerHost is the address where schemagate reaches ports the daemon publishes: testcontainers'
// answer (TESTCONTAINERS_HOST_OVERRIDE, a tcp:// daemon's host, the bridge gateway when schemagate
// runs in a container), except that in a container where testcontainers finds no gateway (a daemon
// that does not report it, an image without the ip command) it is the container's default gateway.
func dockerHost(ctx context.Context, dp *testcontainers.DockerProvider) (string, error) {
	host, err := dp.DaemonHost(ctx)
	if err != nil {
		return "", fmt.Errorf("find the docker host: %w (set TESTCONTAINERS_HOST_OVERRIDE to the address that reaches published ports)", err)
	}
	if host == "localhost" && inContainer() {
		if gw, err := defaultGateway("/proc/net/route"); err == nil {
			return gw.String(), nil
		}
	}
	return host, nil
}

// inContainer tells whether schemagate runs in a Docker or Podman container.
func inContainer() bool {
	for _, f := range []string{"/.dockerenv", "/run/.containerenv"} {
		if _, err := os.Stat(f); err == nil {
			return true
		}
	}
	return false
}

// defaultGateway reads the IPv4 default route's gateway from a /proc/net/route table.
func defaultGateway(path string) (netip.Addr, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 3 || f[1] != "00000000" {
			continue
		}
		gw, err := strconv.ParseUint(f[2], 16, 32)
		if err != nil || gw == 0 {
			continue
		}
		// The kernel writes the address in host byte order: little-endian on every platform we run on.
		return netip.AddrFrom4([4]byte{byte(gw), byte(gw >> 8), byte(gw >> 16), byte(gw >> 24)}), nil
	}
	return netip.Addr{}, fmt.Errorf("no default route in %s", path)
}

// tcLogger sends testcontainers' messages to the provider's logger at debug level.
type tcLogger struct{ l *slog.Logger }

func (t tcLogger) Printf(format string, v ...any) {
	t.l.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)), "component", "testcontainers")
}
