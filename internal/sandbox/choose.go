package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"
)

// Names are the provider names a user may select (auto picks one of the others).
var Names = []string{"auto", "local", "docker", "url"}

// New returns the provider called name. "auto" (or "") chooses: url when Options.DatabaseURL is set,
// local when PostgreSQL server binaries are on the machine, docker when a Docker engine answers.
func New(name string, opts Options) (Provider, error) {
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
		return NewDocker(opts), nil
	}
	return nil, fmt.Errorf("%w: no throwaway PostgreSQL can start here: %v; no Docker engine answers either. "+
		"Install the PostgreSQL server package (e.g. apt-get install postgresql-15), start Docker, "+
		"or point --database-url at a server schemagate may create databases on", ErrUnavailable, strings.TrimPrefix(localErr.Error(), ErrUnavailable.Error()+": "))
}

// DockerAvailable reports whether a Docker engine answers within a few seconds.
func DockerAvailable(ctx context.Context) bool {
	prepareTestcontainers()
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
