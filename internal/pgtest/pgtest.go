// Package pgtest hands each test a fresh database on a real PostgreSQL server: the local provider's
// throwaway server, started once per test binary. Tests that need PostgreSQL fail (never skip) under
// CI=true when it is missing; elsewhere they skip with the reason.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/sandbox"
)

var (
	once     sync.Once
	inst     *sandbox.Instance
	startErr error
	mu       sync.Mutex
	counter  int
)

// Main runs the tests of a package and stops the shared server afterwards; call it from TestMain.
// Without it the server still stops when the test binary exits (it dies with its parent), but its
// folder is only removed by a later run.
//
// It also turns on SCHEMAGATE_INSPECT=verify (unless set): every incremental catalog read is checked
// against a full one, so each test that inspects a catalog also tests the incremental reader; and
// SCHEMAGATE_TRACE=verify (unless set), which does the same for the lock tracer's reads after each
// statement.
func Main(m *testing.M) int {
	// The Docker daemon runs on this machine: testcontainers must reach published ports on 127.0.0.1,
	// not through the bridge's gateway address, and no registry serves its reaper image (the providers
	// remove their containers themselves). A developer's own values are kept.
	if _, set := os.LookupEnv("TESTCONTAINERS_HOST_OVERRIDE"); !set {
		os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	}
	if _, set := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); !set {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	if os.Getenv("SCHEMAGATE_INSPECT") == "" {
		os.Setenv("SCHEMAGATE_INSPECT", "verify")
	}
	if _, set := os.LookupEnv("SCHEMAGATE_TRACE"); !set {
		os.Setenv("SCHEMAGATE_TRACE", "verify")
	}
	code := m.Run()
	if inst != nil {
		_ = inst.Close(context.Background())
	}
	return code
}

// Server returns the shared throwaway server, starting it on first use.
func Server(t testing.TB) *sandbox.Instance {
	t.Helper()
	once.Do(func() {
		p := sandbox.NewLocal(sandbox.Options{PGVersion: pgVersion()})
		inst, startErr = p.Start(context.Background())
	})
	if startErr != nil {
		Unavailable(t, "PostgreSQL: %v", startErr)
	}
	return inst
}

func pgVersion() int {
	var v int
	fmt.Sscanf(os.Getenv("SCHEMAGATE_TEST_PG_VERSION"), "%d", &v)
	return v
}

// Unavailable fails the test under CI=true and skips it elsewhere: CI never skips tests that need
// PostgreSQL or Docker.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("required test dependency missing under CI=true: %s", msg)
	}
	t.Skipf("skipping: %s (set up the machine with scripts/setup-machine.sh)", msg)
}

// URL returns the URL of a fresh empty database, dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	s := Server(t)
	mu.Lock()
	counter++
	name := fmt.Sprintf("t%d_%s", counter, sanitize(t.Name()))
	mu.Unlock()
	if len(name) > 63 {
		name = name[:63]
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, s.AdminURL)
	if err != nil {
		t.Fatalf("connect to test server: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), s.AdminURL)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		// A template database cannot be dropped (a test may have run ALTER DATABASE ... IS_TEMPLATE true).
		_, _ = c.Exec(context.Background(), "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" IS_TEMPLATE false")
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	return WithDatabase(s.AdminURL, name)
}

// Conn returns a connection to a fresh database, closed when the test ends.
func Conn(t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// WithDatabase returns u with its database replaced by db.
func WithDatabase(u, db string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return u
	}
	rest := u[i+3:]
	slash := strings.Index(rest, "/")
	q := ""
	if qi := strings.Index(rest, "?"); qi >= 0 {
		q = rest[qi:]
		if slash < 0 || slash > qi {
			slash = qi
			rest = rest[:qi] + "/" + rest[qi:]
		}
	}
	if slash < 0 {
		return u + "/" + db
	}
	return u[:i+3] + rest[:slash] + "/" + db + q
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// TCPServer starts a PostgreSQL 15 server reached over TCP on 127.0.0.1 (a container of the docker
// provider, its port published there), stopped when the test ends, for the tests of what only a TCP
// connection has (the shared server listens on a Unix socket only). It fails under CI=true, and skips
// elsewhere, without Docker.
func TCPServer(t testing.TB) *sandbox.Instance {
	t.Helper()
	return TCPServerVersion(t, 15)
}

// TCPServerVersion is TCPServer for PostgreSQL of major version major, from the image
// schemagate/postgres:<major> that scripts/setup-machine.sh builds (15 and 17), for the tests of what
// depends on the server's version.
func TCPServerVersion(t testing.TB, major int) *sandbox.Instance {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no containers")
	}
	if !sandbox.DockerAvailable(t.Context()) {
		Unavailable(t, "no Docker daemon answers (run scripts/setup-machine.sh)")
	}
	inst, err := sandbox.NewDocker(sandbox.Options{Image: fmt.Sprintf("schemagate/postgres:%d", major), PGVersion: major}).Start(t.Context())
	if err != nil {
		Unavailable(t, "start a PostgreSQL container: %v", err)
	}
	t.Cleanup(func() { _ = inst.Close(context.Background()) })
	if !strings.Contains(inst.URL, "127.0.0.1") {
		t.Fatalf("the container's URL %s is not on 127.0.0.1", inst.URL)
	}
	return inst
}

// AsRole gives role (a LOGIN role) a random password, as the connection of admin (a URL of a
// superuser) and returns that URL for role: the local provider's server takes no connection
// without a password (sandbox/password.go).
func AsRole(t testing.TB, admin, role string) string {
	t.Helper()
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse %s: %v", admin, err)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	password := hex.EncodeToString(b)
	conn, err := pgx.Connect(context.Background(), admin)
	if err != nil {
		t.Fatalf("connect to give %s a password: %v", role, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "ALTER ROLE "+pgx.Identifier{role}.Sanitize()+" PASSWORD '"+password+"'"); err != nil {
		t.Fatalf("give %s a password: %v", role, err)
	}
	u.User = url.UserPassword(role, password)
	return u.String()
}

// TablespaceDir returns an empty folder that the local provider's server may take as a tablespace's
// LOCATION (CREATE TABLESPACE ... LOCATION): PostgreSQL wants one its own OS user owns, which is
// `postgres` when the tests run as root (see sandbox.NewLocal), else the tests' own. The folder is
// removed when the test ends; drop the tablespace first, or its server with it.
func TablespaceDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "schemagate-ts-")
	if err != nil {
		t.Fatalf("make a tablespace folder: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			Unavailable(t, "the server's OS user postgres: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatalf("give the tablespace folder to postgres: %v", err)
		}
	}
	return dir
}

// Tablespace creates a tablespace of its own name on the shared server (see Server), in a TablespaceDir,
// and returns its name. Call it before the test's databases are made: it is dropped when the test
// ends, after them (a tablespace that holds a database's relations cannot be dropped).
func Tablespace(t testing.TB) string {
	t.Helper()
	name := "sg_ts_" + strings.ToLower(rand.Text()[:8])
	dir := TablespaceDir(t)
	admin, err := pgx.Connect(context.Background(), Server(t).AdminURL)
	if err != nil {
		t.Fatalf("connect as the server's admin: %v", err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	if _, err := admin.Exec(context.Background(), "CREATE TABLESPACE "+name+" LOCATION '"+dir+"'"); err != nil {
		t.Fatalf("create tablespace %s: %v", name, err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP TABLESPACE IF EXISTS "+name) })
	return name
}
