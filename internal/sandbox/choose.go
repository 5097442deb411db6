package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"
)

// Names are the provider names a user may select (auto picks one of the others).
var Names = []string{"auto", "local", "docker", "url"}

// New returns the provider called name. "auto" (or "") chooses: url when Options.DatabaseURL is set,
// local when PostgreSQL server binaries are on the machine, docker when a Docker engine answers. A
// BinDir that holds no PostgreSQL server is an error (bad input) for local and auto.
func New(name string, opts Options) (Provider, error) {
	if opts.BinDir != "" && (name == "" || name == "auto" || name == "local") {
		if err := CheckBinDir(opts.BinDir); err != nil {
			return nil, err // bad input, found before anything starts
		}
	}
	switch name {
	case "", "auto":
		return Auto(context.Background(), opts)
	case "local":
		return NewLocal(opts), nil
	case "docker":
		prepareTestcontainers()
		return NewDocker(opts), nil
	case "url":
		if opts.DatabaseURL == "" {
			return nil, errors.New("provider url needs a server: set database.url in schemagate.yml, --database-url or SCHEMAGATE_DATABASE_URL")
		}
		if _, err := parseServerURL(opts.DatabaseURL); err != nil {
			return nil, err // bad input, found before anything starts
		}
		return NewURL(opts), nil
	default:
		return nil, fmt.Errorf("unknown provider %q (want one of auto, local, docker, url)", name)
	}
}

// Auto picks a provider for this machine; see New.
func Auto(ctx context.Context, opts Options) (Provider, error) {
	if opts.DatabaseURL != "" {
		return NewURL(opts), nil
	}
	if opts.Image != "" {
		// An image names a container: the user asked for docker.
		prepareTestcontainers()
		return NewDocker(opts), nil
	}
	local := NewLocal(opts)
	_, localErr := local.binDir()
	if localErr == nil {
		return local, nil
	}
	prepareTestcontainers()
	if DockerAvailable(ctx) {
		if errors.Is(localErr, ErrVersionUnavailable) && opts.Logger != nil {
			// Should the container not start either (an image that cannot be pulled), this says why
			// auto did not take the server binaries that are here.
			opts.Logger.Info("the PostgreSQL version asked for is not installed here: rehearsing in a container", "pg_version", opts.PGVersion)
		}
		return NewDocker(opts), nil
	}
	if errors.Is(localErr, ErrVersionUnavailable) {
		return nil, versionUnavailable(opts.PGVersion, opts.PGVersionFrom, servers(), fmt.Sprintf("start Docker for auto to rehearse in a container (image postgres:%d)", opts.PGVersion))
	}
	return nil, fmt.Errorf("%w: no throwaway PostgreSQL can start here: %v; no Docker engine answers either. "+
		"Install the PostgreSQL server package (e.g. apt-get install postgresql-15), start Docker, "+
		"or point --database-url at a server schemagate may create databases on", ErrUnavailable, strings.TrimPrefix(localErr.Error(), ErrUnavailable.Error()+": "))
}

// DockerAvailable reports whether a Docker engine answers within a few seconds.
func DockerAvailable(ctx context.Context) bool {
	prepareTestcontainers()
	if dockerHostAnswers(ctx) != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	dp, err := testcontainers.NewDockerProvider()
	if err != nil {
		return false
	}
	defer dp.Close()
	return dp.Health(ctx) == nil
}

// prepareTestcontainers turns off Ryuk, testcontainers' reaper container, unless the user chose: its
// image would have to be pulled, and the provider removes its containers itself (Close, or ctx cancel).
func prepareTestcontainers() {
	if _, ok := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); !ok {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
}

// dockerHostAnswers checks the daemon DOCKER_HOST names, when it names one: testcontainers tries the
// other usual places when that one does not answer, and would start the container on a daemon the user
// did not choose.
func dockerHostAnswers(ctx context.Context) error {
	h := os.Getenv("DOCKER_HOST")
	if h == "" {
		return nil
	}
	u, err := url.Parse(h)
	if err != nil {
		return fmt.Errorf("%w: DOCKER_HOST=%s is not a daemon address (unix:///path or tcp://host:port)", ErrUnavailable, h)
	}
	var network, addr string
	switch u.Scheme {
	case "unix":
		network, addr = "unix", u.Path
	case "tcp":
		network, addr = "tcp", u.Host
	default:
		return nil // ssh://, npipe://: left to the docker client
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return fmt.Errorf("%w: no Docker daemon answers at DOCKER_HOST=%s (%v); start that daemon, correct DOCKER_HOST or unset it for the default socket, "+
			"or use --provider local (PostgreSQL server binaries on this machine) or --provider url with --database-url (an existing server)", ErrUnavailable, h, err)
	}
	return c.Close()
}
