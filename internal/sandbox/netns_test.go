package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/nettest"
)

// netNS is the network namespace of conn's backend, and this process's.
func netNS(t *testing.T, conn *pgx.Conn) (server, ours string) {
	t.Helper()
	var pid int
	if err := conn.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	server, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		t.Fatal(err)
	}
	ours, err = os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	return server, ours
}

func TestLocalServerHasNoNetwork(t *testing.T) {
	requireLocal(t)
	for _, tc := range []struct {
		name    string
		mode    netMode
		root    bool // creating the namespace needs root here
		offline bool
	}{
		{"own network namespace", netOwn, true, true},
		{"user namespace", netUserNS, false, true},
		// The control: the same statements do reach the listener when the server shares the network,
		// so the test sees the difference.
		{"shared network", netShared, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root && os.Geteuid() != 0 {
				t.Skip("creating a network namespace needs root (CAP_SYS_ADMIN)")
			}
			target := nettest.NewCounter(t)
			ctx := context.Background()
			l := NewLocal(Options{netModes: []netMode{tc.mode}})
			inst, err := l.Start(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer inst.Close(ctx)
			want := NetworkShared
			if tc.offline {
				want = NetworkNone
			}
			if inst.Network != want {
				t.Fatalf("Instance.Network = %q, want %q", inst.Network, want)
			}
			conn, err := pgx.Connect(ctx, inst.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)

			// The server's backend is in a network namespace of its own, or in this process's.
			theirs, ours := netNS(t, conn)
			if (theirs != ours) != tc.offline {
				t.Fatalf("the server's network namespace is %s, this process's %s (want them different: %v)", theirs, ours, tc.offline)
			}

			if _, err := conn.Exec(ctx, "CREATE EXTENSION dblink"); err != nil {
				t.Fatal(err)
			}
			conninfo := fmt.Sprintf("host=127.0.0.1 port=%d dbname=x user=x connect_timeout=5", target.Port())
			_, dblinkErr := conn.Exec(ctx, "SELECT dblink_connect($1)", conninfo)
			// CREATE SUBSCRIPTION connects to the publisher outside a transaction block (pgx's Exec
			// without arguments sends one simple query).
			_, subErr := conn.Exec(ctx, fmt.Sprintf("CREATE SUBSCRIPTION s CONNECTION '%s' PUBLICATION p", conninfo))
			made := target.Stop()
			for _, e := range []error{dblinkErr, subErr} {
				var pgErr *pgconn.PgError
				if !errors.As(e, &pgErr) || pgErr.Code[:2] != "08" {
					t.Fatalf("the statement's error is %v, want a connection error (class 08)", e)
				}
			}
			if tc.offline && made != 0 {
				t.Fatalf("the server connected to 127.0.0.1:%d %d times from its network namespace", target.Port(), made)
			}
			if !tc.offline && made < 2 {
				t.Fatalf("the server sharing the network connected %d times, want 2 (dblink_connect and CREATE SUBSCRIPTION)", made)
			}
		})
	}
}

func TestLocalRemembersTheNetworkModeThatWorked(t *testing.T) {
	l := requireLocal(t)
	ctx := context.Background()
	a, err := l.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	first := netMode(l.net.Load())
	if first == 0 {
		t.Fatal("the provider did not record the network mode its server started in")
	}
	if (a.Network == NetworkNone) != first.offline() {
		t.Fatalf("Instance.Network = %q for mode %d", a.Network, first)
	}
	if os.Geteuid() == 0 && first != netOwn {
		t.Fatalf("as root, the server started in mode %d, want a network namespace of its own (%d)", first, netOwn)
	}
	b, err := l.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	if got := netMode(l.net.Load()); got != first || b.Network != a.Network {
		t.Fatalf("the second server started in mode %d (%q), the first in %d (%q)", got, b.Network, first, a.Network)
	}
}

func TestNamespaceRefused(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&os.PathError{Op: "fork/exec", Path: "/usr/lib/postgresql/15/bin/postgres", Err: syscall.EPERM}, true},
		{&os.PathError{Op: "fork/exec", Path: "postgres", Err: syscall.ENOSPC}, true}, // user.max_user_namespaces = 0
		{&os.PathError{Op: "fork/exec", Path: "postgres", Err: syscall.EINVAL}, true},
		{&os.PathError{Op: "fork/exec", Path: "postgres", Err: syscall.ENOENT}, false},
		{&os.PathError{Op: "fork/exec", Path: "postgres", Err: syscall.ENOEXEC}, false},
		{errors.New("exec: already started"), false},
	} {
		if got := namespaceRefused(tc.err); got != tc.want {
			t.Errorf("namespaceRefused(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestLocalFallsBackToTheSharedNetwork: where no namespace may be created (a container without
// CAP_SYS_ADMIN, a distribution that forbids user namespaces), the server starts sharing the network and
// says so, and the next server does not try the namespaces again.
func TestLocalFallsBackToTheSharedNetwork(t *testing.T) {
	requireLocal(t)
	var tries []uintptr
	l := NewLocal(Options{startHook: func(cmd *exec.Cmd) error {
		tries = append(tries, cmd.SysProcAttr.Cloneflags)
		if cmd.SysProcAttr.Cloneflags&syscall.CLONE_NEWNET != 0 {
			return &os.PathError{Op: "fork/exec", Path: cmd.Path, Err: syscall.EPERM} // as Docker's seccomp profile answers
		}
		return cmd.Start()
	}})
	ctx := context.Background()
	for i := range 2 {
		tries = nil
		inst, err := l.Start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if inst.Network != NetworkShared {
			t.Errorf("server %d: Instance.Network = %q, want %q", i+1, inst.Network, NetworkShared)
		}
		conn, err := pgx.Connect(ctx, inst.URL)
		if err != nil {
			t.Fatal(err)
		}
		theirs, ours := netNS(t, conn)
		conn.Close(ctx)
		if theirs != ours {
			t.Errorf("server %d runs in network namespace %s, this process in %s", i+1, theirs, ours)
		}
		inst.Close(ctx)
		want := []uintptr{syscall.CLONE_NEWNET, syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET, 0}
		if i == 1 {
			want = want[2:] // the provider remembers that only the shared network works here
		}
		if !slices.Equal(tries, want) {
			t.Errorf("server %d: tried clone flags %#x, want %#x", i+1, tries, want)
		}
	}
	// A failure that is not the namespace's is not retried without it.
	l = NewLocal(Options{startHook: func(cmd *exec.Cmd) error {
		return &os.PathError{Op: "fork/exec", Path: cmd.Path, Err: syscall.ENOEXEC}
	}})
	if _, err := l.Start(ctx); !errors.Is(err, syscall.ENOEXEC) {
		t.Fatalf("Start = %v, want the exec error", err)
	}
}
