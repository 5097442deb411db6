package sandbox

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// The local server runs without network where Linux allows it: in a network namespace of its own,
// where it has no interface up (not even loopback) and listens on its Unix socket only, as it does
// anyway. A pull request's migration then cannot make the rehearsal connect to the servers it names:
// CREATE SUBSCRIPTION would otherwise create a replication slot on the publisher (production's, from a
// CI runner that reaches it), dblink_exec write there, a postgres_fdw foreign table read from there;
// COPY … PROGRAM run curl. Such a statement fails in the rehearsal, with a connection error.

// netMode is how the local server is kept off the network.
type netMode int32

const (
	// netOwn: a network namespace of its own (root, with CAP_SYS_ADMIN: not in a container that lacks it).
	netOwn netMode = iota + 1
	// netUserNS: a user namespace that maps the server's user to itself, with a network namespace in it
	// (any user, where unprivileged user namespaces are allowed).
	netUserNS
	// netShared: neither may be created here (a container without CAP_SYS_ADMIN and user namespaces,
	// a distribution that forbids them): the server shares the machine's network.
	netShared
)

// offline says whether a server started in mode m has no network.
func (m netMode) offline() bool { return m == netOwn || m == netUserNS }

// defaultNetModes is the order the modes are tried in.
var defaultNetModes = []netMode{netOwn, netUserNS, netShared}

// isolate sets what the server's process needs to start in mode m.
func (r runAs) isolate(a *syscall.SysProcAttr, m netMode) {
	switch m {
	case netOwn:
		a.Cloneflags |= syscall.CLONE_NEWNET
	case netUserNS:
		a.Cloneflags |= syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET
		// The server's user is itself in the namespace, so it owns its data folder there too, and it
		// has no capability once it runs postgres (a user other than the namespace's root).
		a.UidMappings = []syscall.SysProcIDMap{{ContainerID: r.uid, HostID: r.uid, Size: 1}}
		a.GidMappings = []syscall.SysProcIDMap{{ContainerID: r.gid, HostID: r.gid, Size: 1}}
		// Only a privileged parent may let the child set its groups there: root, which hands the
		// server to `postgres` and drops its own supplementary groups.
		a.GidMappingsEnableSetgroups = r.cred != nil
	}
}

// namespaceRefused says whether starting a process failed because the namespaces it asked for may not
// be created here (rather than because the program cannot run).
func namespaceRefused(err error) bool {
	for _, e := range []syscall.Errno{syscall.EPERM, syscall.EINVAL, syscall.ENOSPC, syscall.EUSERS, syscall.EACCES, syscall.ENOSYS} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// startServer starts the server process newCmd makes (a fresh command each try) in the first network
// mode this machine allows, trying from the one that worked last.
func (l *Local) startServer(newCmd func() *exec.Cmd, ra runAs) (*exec.Cmd, netMode, error) {
	modes := l.opts.netModes
	if modes == nil {
		modes = defaultNetModes
	}
	if last := netMode(l.net.Load()); last != 0 {
		for i, m := range modes {
			if m == last {
				modes = modes[i:]
				break
			}
		}
	}
	var err error
	for _, m := range modes {
		cmd := newCmd()
		ra.isolate(cmd.SysProcAttr, m)
		start := cmd.Start
		if l.opts.startHook != nil {
			start = func() error { return l.opts.startHook(cmd) }
		}
		if err = start(); err == nil {
			if l.net.Swap(int32(m)) != int32(m) && !m.offline() {
				l.opts.Logger.Debug("the local server shares the network schemagate runs in: no network namespace may be created here", "uid", os.Getuid())
			}
			return cmd, m, nil
		}
		if !namespaceRefused(err) || !m.offline() {
			return nil, 0, err
		}
		l.opts.Logger.Debug("no network namespace for the local server", "mode", int(m), "err", err)
	}
	return nil, 0, err
}

// WithSharedNetwork returns opts with which the local provider's server shares the network schemagate
// runs in, as where no network namespace may be created (a container without CAP_SYS_ADMIN): for tests
// of what a rehearsal on such a server refuses.
func WithSharedNetwork(opts Options) Options {
	opts.netModes = []netMode{netShared}
	return opts
}

// NetworkNone and NetworkShared are the values of Instance.Network.
const (
	NetworkNone   = "none"
	NetworkShared = "shared"
)
