// Package sandbox starts throwaway PostgreSQL databases for rehearsals: from the server binaries on the
// machine (local, the default), in a container (docker, through testcontainers), or on an existing server
// (url). Whatever a provider starts, the Instance's Close removes, also after a failure.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os/exec"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Provider starts throwaway PostgreSQL databases.
type Provider interface {
	// Name is the provider's name as the user selects it: local, docker or url.
	Name() string
	// Start returns a ready, empty database the caller owns; Close removes everything Start created.
	// On error nothing is left behind.
	Start(ctx context.Context) (*Instance, error)
}

// Instance is a running throwaway database.
type Instance struct {
	// URL is the postgres:// URL of the database, for a role that owns it (a superuser for local and docker).
	URL string
	// AdminURL is a maintenance connection (database postgres) on the same server, "" if there is none.
	AdminURL string
	// ServerVersion is server_version_num, e.g. 150018.
	ServerVersion int
	// Close stops and removes what Start created. It is safe to call more than once and works with a
	// fresh context after the run's context was cancelled.
	Close func(ctx context.Context) error
	// Stalled, when set, says why the server may have stopped answering and what to do about it (its
	// container paused, its processes stopped), for the error that stops a run whose server no longer
	// answers; "" when it has nothing to add. It returns within a few seconds, the server frozen or not.
	Stalled func(ctx context.Context) string
	// ClaimRoles, when set (a server shared with others: the url provider), names roles the run's
	// migrations create. Roles are the server's, not the database's, so dropping the run's database
	// leaves them behind, and the next run's CREATE ROLE fails. The provider records the names with the
	// run's database; Close drops only those RolesCreated confirmed, a later run too should this one die
	// without its Close (kill -9). Its error (that record could not be written) is worth a warning, not
	// the run.
	ClaimRoles func(ctx context.Context, names []string) error
	// RolesCreated, set with ClaimRoles, records which roles the run created itself: the caller names
	// those of the claimed roles its statements just created on session (the run's own), and the
	// provider reads their OIDs there, inside the caller's transaction when it holds one (call it before
	// the COMMIT: until then nobody else can make a role of that name). Close, and a later run should this
	// one die, drop a role only when its name and OID are the last ones recorded: not a role someone else
	// made under a claimed name before the run's own CREATE ROLE, which then failed. It returns once the
	// OIDs are written with the run's database; its error is worth a warning, not the run.
	RolesCreated func(ctx context.Context, session *pgx.Conn, names []string) error
	// Network says whether the server can reach the network: NetworkNone (the local provider's server
	// in a network namespace of its own: a migration cannot make it connect anywhere), NetworkShared
	// (the local provider's where no namespace may be created: the machine's network), "" when the
	// provider does not say (docker: the container's network; url: the server's own).
	Network string
	// DataDir, when set, is the folder on this machine where the server keeps its data (the local
	// provider's data directory): a statement that fails for want of disk space (SQLSTATE 53100) failed
	// for want of room there, which a person frees. "" when the data is not in a folder of this
	// machine the provider knows (docker: the daemon's storage; url: the server's host).
	DataDir string
	// ServerRoles, when not nil (a server shared with others: the url provider), are the roles the
	// server had when the run started: none of them is the run's to create, alter or drop.
	ServerRoles []string
}

// Options configure providers; each uses the fields that concern it.
type Options struct {
	// PGVersion is the PostgreSQL major version wanted (0: the newest available locally, 15 for docker).
	PGVersion int
	// PGVersionFrom says where PGVersion comes from ("--pg-version", "database.pg_version at
	// schemagate.yml:3:15"), for the error of a version this machine lacks; empty: unsaid.
	PGVersionFrom string
	// Image is the docker provider's image (default postgres:<PGVersion>).
	Image string
	// DatabaseURL is the url provider's existing server.
	DatabaseURL string
	// BinDir overrides where the local provider finds initdb and postgres.
	BinDir string
	// CacheDir is where the local provider keeps initialized clusters (one per version) to copy from.
	CacheDir string
	// WorkDir is where the local provider puts instance folders (default /dev/shm when it has room).
	WorkDir string
	Logger  *slog.Logger
	// serverSettings are more "-c name=value" settings for the local provider's server (tests only).
	serverSettings []string
	// netModes, when set, are the network modes the local provider tries, in order (tests only).
	netModes []netMode
	// startHook, when set, starts the local provider's server process instead of exec.Cmd.Start
	// (tests only: a machine that refuses namespaces).
	startHook func(*exec.Cmd) error
	// copyHook, when set, sees every entry of the local provider's template as it is copied (tests only).
	copyHook func(rel string)
}

// ErrUnavailable is returned (wrapped) when a provider cannot run on this machine (no binaries, no Docker).
var ErrUnavailable = errors.New("provider unavailable")

// ErrVersionUnavailable is returned (wrapped) when the PostgreSQL major version asked for is not one the
// provider can start here, while it can start others (the local provider finds other versions' server
// binaries): the request is what to change, or the machine, as for any bad input.
var ErrVersionUnavailable = errors.New("PostgreSQL version not available")

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return hex.EncodeToString(b)
}

// lastLines returns the last n lines of s, for error messages that quote a server log.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
