package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Local runs PostgreSQL from the server binaries on this machine. It keeps one initialized cluster per
// PostgreSQL version in a cache folder and copies it for every instance, so an instance is ready in a
// fraction of a second; a cached cluster found incomplete or damaged is rebuilt, and those of other
// binaries unused for 30 days are removed (template.go). When run as root it runs the server as the
// unprivileged `postgres` user (PostgreSQL refuses to run as root). The server listens on a private Unix socket only, with
// durability off, and runs without network where Linux allows it (netns.go).
type Local struct {
	opts Options
	// pruned makes the removal of the cache folder's unused templates once per provider.
	pruned sync.Once
	// net is the netMode the last server started in (0: none yet), where the next one starts trying.
	net atomic.Int32
}

var _ Provider = (*Local)(nil)

// NewLocal returns the local-binaries provider.
func NewLocal(opts Options) *Local {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Local{opts: opts}
}

// Name implements Provider.
func (l *Local) Name() string { return "local" }

// binDir finds the folder holding initdb and postgres for the wanted version.
func (l *Local) binDir() (string, error) {
	if l.opts.BinDir != "" {
		if err := CheckBinDir(l.opts.BinDir); err != nil {
			return "", err
		}
		return l.opts.BinDir, nil
	}
	for _, d := range serverDirs() {
		if l.opts.PGVersion == 0 || majorOf(d) == l.opts.PGVersion {
			return d, nil
		}
	}
	if l.opts.PGVersion != 0 {
		if have := servers(); len(have) > 0 {
			return "", versionUnavailable(l.opts.PGVersion, l.opts.PGVersionFrom, have, fmt.Sprintf("rehearse in a container with --provider docker (image postgres:%d)", l.opts.PGVersion))
		}
		return "", fmt.Errorf("%w: PostgreSQL %d server binaries not found (looked in pg_config --bindir and /usr/lib/postgresql/*/bin; install postgresql-%d or pass --pg-bindir)", ErrUnavailable, l.opts.PGVersion, l.opts.PGVersion)
	}
	return "", fmt.Errorf("%w: PostgreSQL server binaries not found (looked in pg_config --bindir and /usr/lib/postgresql/*/bin; install the postgresql server package or pass --pg-bindir)", ErrUnavailable)
}

// serverDirs are the folders holding postgres and initdb, once each, in the order binDir takes them:
// pg_config --bindir, the Debian folders from the newest version, then the usual others.
func serverDirs() []string {
	var candidates []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOfDir(dirs[i]) > versionOfDir(dirs[j]) })
	candidates = append(candidates, dirs...)
	candidates = append(candidates, "/usr/local/pgsql/bin", "/opt/homebrew/bin", "/usr/local/bin")
	var out []string
	for _, d := range candidates {
		d = filepath.Clean(d)
		if slices.Contains(out, d) {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "postgres")); err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			continue
		}
		out = append(out, d)
	}
	return out
}

// majorOf is the major version of the server in folder d: the Debian folder's (/usr/lib/postgresql/15/bin),
// else the one postgres --version says; 0 when it says none.
func majorOf(d string) int {
	if v := versionOfDir(d); v != 0 {
		return v
	}
	v, _ := binaryMajor(d)
	return v
}

// serverBin is a folder of PostgreSQL server binaries and their major version.
type serverBin struct {
	dir     string
	version int
}

// servers are the PostgreSQL servers on this machine, where binDir looks, in its order; a folder whose
// postgres is a link to one listed already (/usr/local/bin/postgres) is left out.
func servers() []serverBin {
	var out []serverBin
	seen := map[string]bool{}
	for _, d := range serverDirs() {
		bin, err := filepath.EvalSymlinks(filepath.Join(d, "postgres"))
		if err != nil || seen[bin] {
			continue
		}
		seen[bin] = true
		if v := majorOf(d); v != 0 {
			out = append(out, serverBin{d, v})
		}
	}
	return out
}

// versionUnavailable is the error of a PostgreSQL major version asked for (from where: see
// Options.PGVersionFrom) that none of the servers this machine has (have, not empty) runs; container
// says how to run it in a container instead. It is the request that cannot be met here, not the machine
// that cannot run PostgreSQL (ErrUnavailable).
func versionUnavailable(want int, from string, have []serverBin, container string) error {
	if from == "" {
		from = "--pg-version, or pg_version in schemagate.yml"
	}
	installed := make([]string, len(have))
	newest := 0
	for i, s := range have {
		installed[i] = fmt.Sprintf("PostgreSQL %d (%s)", s.version, s.dir)
		newest = max(newest, s.version)
	}
	return fmt.Errorf("%w: PostgreSQL %d was asked for (%s), and this machine has %s only: "+
		"install postgresql-%d (apt-get install postgresql-%d, or pass its folder with --pg-bindir), %s, or rehearse on the version installed (--pg-version %d)",
		ErrVersionUnavailable, want, from, strings.Join(installed, " and "), want, want, container, newest)
}

func versionOfDir(d string) int {
	// /usr/lib/postgresql/15/bin
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
	return v
}

// CheckBinDir checks a folder given for the server binaries (--pg-bindir): it must hold initdb and a
// postgres that says it is PostgreSQL. Its errors are the user's to fix (bad input), not ErrUnavailable.
func CheckBinDir(dir string) error {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--pg-bindir %s: no such folder (want the folder of PostgreSQL's initdb and postgres, e.g. /usr/lib/postgresql/16/bin)", dir)
	case err != nil:
		return fmt.Errorf("--pg-bindir %s: %w", dir, err)
	case !info.IsDir():
		return fmt.Errorf("--pg-bindir %s is a file, not a folder (want the folder of PostgreSQL's initdb and postgres, e.g. /usr/lib/postgresql/16/bin)", dir)
	}
	for _, b := range []string{"postgres", "initdb"} {
		if info, err := os.Stat(filepath.Join(dir, b)); err != nil || info.IsDir() {
			return fmt.Errorf("--pg-bindir %s: no %s binary in it (want the folder of PostgreSQL's initdb and postgres, e.g. /usr/lib/postgresql/16/bin)", dir, b)
		}
	}
	_, err = binaryMajor(dir)
	return err
}

// versionRE is the start of postgres --version: "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)",
// "postgres (PostgreSQL) 17beta1".
var versionRE = regexp.MustCompile(`^postgres \(PostgreSQL\) (\d+)`)

// binaryMajor asks postgres --version for its major version; a binary that does not answer as
// PostgreSQL does is not a PostgreSQL server.
func binaryMajor(bin string) (int, error) {
	path := filepath.Join(bin, "postgres")
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("%s is not a PostgreSQL server: its --version failed: %w", path, err)
	}
	m := versionRE.FindSubmatch(bytes.TrimSpace(out))
	if m == nil {
		first, _, _ := strings.Cut(string(bytes.TrimSpace(out)), "\n")
		return 0, fmt.Errorf("%s is not a PostgreSQL server: its --version printed %q, not \"postgres (PostgreSQL) <version>\"", path, first)
	}
	return strconv.Atoi(string(m[1]))
}

// runAs is the OS user the server runs as: the current user, or `postgres` when we are root.
type runAs struct {
	uid, gid int
	cred     *syscall.Credential
}

func currentRunAs() (runAs, error) {
	if os.Geteuid() != 0 {
		return runAs{uid: os.Getuid(), gid: os.Getgid()}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return runAs{}, fmt.Errorf("%w: running as root, and PostgreSQL refuses to run as root; create an unprivileged `postgres` user (useradd --system postgres)", ErrUnavailable)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return runAs{uid: uid, gid: gid, cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}, nil
}

func (r runAs) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred, Setpgid: true}
	cmd.Env = serverEnv(os.Getenv)
	return cmd
}

// serverEnv is the environment of initdb and the server: only what they use, never the rest of
// schemagate's own.
// Migrations run as a superuser, and a pull request's migration could run COPY … FROM PROGRAM 'env' and
// raise what it read: the job's tokens (GITHUB_TOKEN, INPUT_TOKEN, GITLAB_TOKEN, database URLs) would end
// up in the report posted on the pull request.
// GLIBC_TUNABLES is serverTunables unless schemagate's own environment sets it (then that).
func serverEnv(getenv func(string) string) []string {
	env := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C.UTF-8", "LANG=C.UTF-8"}
	for _, k := range []string{"TZ", "TMPDIR", "LD_LIBRARY_PATH"} { // the last for a server built elsewhere (--pg-bindir)
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	tunables := serverTunables
	if v := getenv("GLIBC_TUNABLES"); v != "" {
		tunables = v
	}
	return append(env, "GLIBC_TUNABLES="+tunables)
}

// serverTunables has the throwaway server's C library back its memory with transparent huge pages
// where the kernel offers them on request (/sys/kernel/mm/transparent_hugepage/enabled: madvise, as on
// Debian and Ubuntu). A backend that parses and plans the rehearsal's catalog reads, queries of tens of
// kilobytes, allocates tens of megabytes for it; page by page, the faults on that fresh memory were
// about half the CPU the warm-up spent beside the replay (300 ms against 130 ms with huge pages, on the
// benchmark's 500-migration schema: see docs/benchmarks.md). Where the kernel gives no huge pages (never)
// or always does, or the C library is not glibc 2.35 or later, the setting changes nothing.
const serverTunables = "glibc.malloc.hugetlb=1"

func (r runAs) chown(path string) error {
	if r.cred == nil {
		return nil
	}
	return os.Lchown(path, r.uid, r.gid)
}

// takeBack gives dir and everything in it back to the user schemagate runs as (root), once the server
// user (initdb) has written it: the server user can then neither change nor read it (the modes initdb
// gives are 0700 and 0600).
func (r runAs) takeBack(dir string) error {
	if r.cred == nil {
		return nil
	}
	uid, gid := os.Geteuid(), os.Getegid()
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// foreign tells whether a template entry belongs to another user than schemagate's when the server
// runs as another user: that user, and so a pull request's SQL, could have changed it.
func (r runAs) foreign(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return r.cred != nil && ok && st.Uid != uint32(os.Geteuid())
}

func (r runAs) foreignReason(rel string, info fs.FileInfo) string {
	uid := -1
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		uid = int(st.Uid)
	}
	return fmt.Sprintf("%s belongs to uid %d, not to uid %d: the server user could have changed it (a template of an older schemagate, or one tampered with)", rel, uid, os.Geteuid())
}

// guardCache makes the cache folder root's and mode 0711 when the server runs as another user: that
// user may neither replace a template (rename it away, put one of its own in its place) nor list the
// folder, where the build initdb runs in (which it owns meanwhile) could be found and changed.
func (r runAs) guardCache(cache string) error {
	if r.cred == nil {
		return nil
	}
	info, err := os.Lstat(cache)
	if err != nil {
		return err
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		// Another user's link (in /var/tmp, where anyone creates names) could be pointed elsewhere later.
		if r.foreign(info) {
			return fmt.Errorf("%s is a symbolic link of another user", cache)
		}
		if info, err = os.Stat(cache); err != nil {
			return err
		}
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !info.IsDir() || !ok {
		return fmt.Errorf("%s is not a folder", cache)
	}
	if uid, gid := os.Geteuid(), os.Getegid(); st.Uid != uint32(uid) || st.Gid != uint32(gid) {
		if err := os.Chown(cache, uid, gid); err != nil {
			return err
		}
	}
	if info.Mode().Perm() != 0o711 {
		return os.Chmod(cache, 0o711)
	}
	return nil
}

func (l *Local) cacheDir(ra runAs) string {
	if l.opts.CacheDir != "" {
		return l.opts.CacheDir
	}
	if ra.cred != nil {
		// The unprivileged server user must be able to reach the cache: not under /root.
		return filepath.Join("/var/tmp", "schemagate-cache")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "schemagate")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("schemagate-cache-%d", os.Getuid()))
}

// workDir is where instance folders go: memory-backed /dev/shm when it has room (a throwaway cluster
// needs no durability, and copying the template to disk costs ten times more), else the temp folder.
func (l *Local) workDir() string {
	if l.opts.WorkDir != "" {
		return l.opts.WorkDir
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err == nil && st.Bavail*uint64(st.Bsize) > 1<<30 {
		if f, err := os.CreateTemp("/dev/shm", ".schemagate-probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

func hashPath(p string) string {
	var h uint32 = 2166136261
	for i := 0; i < len(p); i++ {
		h ^= uint32(p[i])
		h *= 16777619
	}
	return strconv.FormatUint(uint64(h), 36)
}

// Start implements Provider.
func (l *Local) Start(ctx context.Context) (*Instance, error) {
	bin, err := l.binDir()
	if err != nil {
		return nil, err
	}
	ra, err := currentRunAs()
	if err != nil {
		return nil, err
	}
	t, err := l.templateFor(bin, ra)
	if err != nil {
		return nil, err
	}
	l.pruned.Do(func() { pruneTemplates(ctx, t, time.Now(), l.opts.Logger) })
	work := l.workDir()
	pruneStale(work)
	inst, bad, err := l.startFrom(ctx, t, ra, work)
	if bad == nil {
		return inst, err
	}
	// What the copy lacked, or a server that failed from a fresh copy, points at the template: rebuild
	// it once and try again.
	if err := l.build(ctx, t, ra, bad); err != nil {
		var te *TemplateError
		if errors.As(err, &te) {
			te.Err = fmt.Errorf("rebuild it (%s): %w", bad.reason, te.Err)
		}
		return nil, err
	}
	inst, bad, err = l.startFrom(ctx, t, ra, work)
	if bad != nil {
		return nil, t.errorf("the server fails from a copy of it even though it was rebuilt just now, so its "+
			"cache is unlikely to be the cause; "+t.removeHint(), "%w", bad.err)
	}
	return inst, err
}

// startFrom starts a server on a fresh copy of t in work. A *templateDamage (with err) says the copy
// or the server started from it points at the template: the copy lacked what a cluster needs, or the
// server exited during start-up, or refused the first connection.
func (l *Local) startFrom(ctx context.Context, t clusterTemplate, ra runAs, work string) (inst *Instance, bad *templateDamage, err error) {
	root, err := os.MkdirTemp(work, "schemagate-pg-")
	if err != nil {
		return nil, nil, fmt.Errorf("create instance folder: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(root)
		}
	}()
	if err := ra.chown(root); err != nil {
		return nil, nil, fmt.Errorf("hand the instance folder to the server user: %w", err)
	}
	data := filepath.Join(root, "data")
	var tmpl os.FileInfo
	var secret string
	for attempt := 1; ; attempt++ {
		if err := l.ensure(ctx, t, ra); err != nil {
			return nil, nil, err
		}
		tmpl, secret, err = l.copyTemplate(t, data, ra)
		if !errors.Is(err, errTemplateMoved) {
			break
		}
		l.opts.Logger.Debug("the cluster template was replaced while it was being copied; copying it again", "dir", t.dir)
		if err := os.RemoveAll(data); err != nil {
			return nil, nil, fmt.Errorf("copy cluster template: %w", err)
		}
		if attempt == 3 {
			return nil, nil, t.errorf(t.removeHint(), "%w 3 times in a row", err)
		}
	}
	if errors.As(err, &bad) {
		return nil, bad, bad.err
	}
	if err != nil {
		return nil, nil, err
	}
	logPath := filepath.Join(root, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, nil, err
	}
	if err := ra.chown(logPath); err != nil {
		logFile.Close()
		return nil, nil, err
	}
	const port = 5432 // only names the socket file: the server listens on no TCP address
	args := []string{"-D", data,
		"-c", "listen_addresses=", "-c", "unix_socket_directories=" + root, "-p", strconv.Itoa(port),
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "autovacuum=off", "-c", "max_connections=50", "-c", "shared_buffers=32MB",
		// The lock table is sized by max_connections: with 50, a transaction holds fewer locks than on a
		// stock server (100 connections of 64 locks), and a pg_dump baseline of 1,300 tables in one
		// transaction ran out of shared memory where production takes it. 256 a connection holds more.
		"-c", "max_locks_per_transaction=256",
		"-c", "max_wal_size=1GB", "-c", "wal_level=minimal", "-c", "max_wal_senders=0",
		"-c", "logging_collector=off", "-c", "log_min_messages=warning"}
	if work != "/dev/shm" {
		// /dev/shm lacks room (workDir): keep the server's dynamic shared memory out of it too, in
		// files of the data folder, or the server fails to start on a full /dev/shm.
		args = append(args, "-c", "dynamic_shared_memory_type=mmap")
	}
	for _, s := range l.opts.serverSettings {
		args = append(args, "-c", s)
	}
	bin := t.bin
	cmd, mode, err := l.startServer(func() *exec.Cmd {
		cmd := ra.command(context.WithoutCancel(ctx), filepath.Join(bin, "postgres"), args...)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT // the server dies with us, even on kill -9
		return cmd
	}, ra)
	if err != nil {
		logFile.Close()
		return nil, nil, fmt.Errorf("start postgres: %w", err)
	}
	// exited is closed when the server process has ended (waitErr says how): both the start-up wait and
	// Close watch it, so it must stay readable after the first look.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); logFile.Close(); close(exited) }()

	var once sync.Once
	var closeErr error
	closeFn := func(context.Context) error {
		once.Do(func() {
			// Immediate shutdown: nothing in a throwaway cluster is worth a checkpoint.
			_ = cmd.Process.Signal(syscall.SIGQUIT)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				// PostgreSQL's backends and workers each run in a process group of their own (they call
				// setsid): a stopped one (SIGSTOP, a frozen cgroup) would outlive its postmaster, hold
				// the shared memory and keep freeSharedMemory from freeing it. They go too.
				children := childProcesses(cmd.Process.Pid)
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				for _, pid := range children {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
				<-exited
			}
			if killed(waitErr) {
				freeSharedMemory(ra, mode, bin, args, data)
			}
			closeErr = os.RemoveAll(root)
		})
		return closeErr
	}
	defer func() {
		if err != nil {
			_ = closeFn(context.Background())
		}
	}()

	if err := waitReady(ctx, data, exited, func() error { return waitErr }, logPath); err != nil {
		select {
		case <-exited:
			if ctx.Err() == nil {
				log, _ := os.ReadFile(logPath)
				return nil, &templateDamage{info: tmpl, err: err,
					reason: "a server started from a fresh copy of it exited during start-up: " + firstFatal(string(log))}, err
			}
		default:
		}
		return nil, nil, err
	}
	// The server takes connections with the template's password until claimServer gives it the run's
	// (password.go): nothing else connects meanwhile.
	password := newPassword()
	verifier, err := scramVerifier(password)
	if err != nil {
		return nil, nil, err
	}
	version, files, err := claimServer(ctx, socketURL(root, port, "postgres", secret), verifier)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && ctx.Err() == nil {
		// The server answered: the postgres database or a catalog of it is missing or unreadable.
		return nil, &templateDamage{info: tmpl, err: err,
			reason: "a server started from a fresh copy of it refused the first connection: " + pgErr.Error()}, err
	}
	if err != nil {
		return nil, nil, err
	}
	// A file deleted in the template outside the few templateNeeds checks (base/5/2609, pg_description)
	// fails only the statement that reads it, later, in every run (could not open file, SQLSTATE
	// 58P01). The catalog names every file a copy must have: one missing is the template's damage.
	var missing []string
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(data, f)); errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		reason := fmt.Sprintf("a copy of it lacks files its catalog names: %s", strings.Join(missing, ", "))
		return nil, &templateDamage{info: tmpl, reason: reason, err: errors.New(reason)}, errors.New(reason)
	}
	pid := cmd.Process.Pid
	network := NetworkShared
	if mode.offline() {
		network = NetworkNone
	}
	u := socketURL(root, port, "postgres", password)
	return &Instance{URL: u, AdminURL: u, ServerVersion: version, Close: closeFn, Network: network, DataDir: data,
		Stalled: func(context.Context) string { return serverStalled("/proc", pid) }}, nil, nil
}

// serverStalled says which processes of the local server (the postmaster pid and its children, each in
// a session of its own) are stopped, under the proc file system at proc: a stopped server answers nobody.
func serverStalled(proc string, pid int) string {
	var stopped []string
	for _, p := range processes(proc) {
		if (p.pid == pid || p.ppid == pid) && (p.state == "T" || p.state == "t") {
			stopped = append(stopped, strconv.Itoa(p.pid))
		}
	}
	if len(stopped) == 0 {
		return fmt.Sprintf("its server (postmaster pid %d) runs but does not answer (a machine out of memory or CPU?)", pid)
	}
	return fmt.Sprintf("its server processes %s (postmaster pid %d) are stopped (SIGSTOP, a debugger, a frozen cgroup): leave them running while schemagate runs (kill -CONT resumes a stopped process)",
		strings.Join(stopped, ", "), pid)
}

// firstFatal is the first PANIC or FATAL line of a server log, else its last line.
func firstFatal(log string) string {
	for _, line := range strings.Split(log, "\n") {
		for _, level := range []string{"PANIC:  ", "FATAL:  "} {
			if i := strings.Index(line, level); i >= 0 {
				return strings.TrimSpace(line[i:]) // without the time and PID
			}
		}
	}
	return lastLines(log, 1)
}

// process is what the proc file system says of a process: its state (R, S, T...) and parent.
type process struct {
	pid, ppid int
	state     string
}

// processes lists the processes under the proc file system at proc (none where it cannot be read; a
// process gone meanwhile is left out).
func processes(proc string) []process {
	entries, _ := os.ReadDir(proc)
	var out []process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(proc, e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		out = append(out, process{pid: pid, ppid: ppid, state: f[0]})
	}
	return out
}

// childProcesses lists the processes whose parent is pid.
func childProcesses(pid int) []int {
	var out []int
	for _, p := range processes("/proc") {
		if p.ppid == pid {
			out = append(out, p.pid)
		}
	}
	return out
}

// killed tells whether the server ended by SIGKILL (the OOM killer, a test, a person), which leaves its
// shared memory behind: the next start in the same data folder would free it, and a throwaway folder
// gets none.
func killed(waitErr error) bool {
	var ee *exec.ExitError
	if !errors.As(waitErr, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// freeSharedMemory starts the server once more in data and stops it, which frees the shared memory a
// killed server left (its SysV segment and, in /dev/shm, its dynamic shared memory): PostgreSQL removes
// both at start-up once no process uses them, and its own at shutdown. Best effort, within 30 s.
func freeSharedMemory(ra runAs, mode netMode, bin string, args []string, data string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The killed server's backends notice their postmaster is gone and exit; until then the segment
	// is in use and a new server refuses to start.
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(50 * time.Millisecond) {
		cmd := ra.command(ctx, filepath.Join(bin, "postgres"), args...)
		ra.isolate(cmd.SysProcAttr, mode) // as the killed server ran: it too may run nothing else
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			return
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		// Ready once postmaster.pid is the new server's (the killed one's still says "ready").
		ready := false
		for !ready {
			if b, err := os.ReadFile(filepath.Join(data, "postmaster.pid")); err == nil {
				lines := strings.Split(string(b), "\n")
				ready = len(lines) >= 8 && strings.TrimSpace(lines[0]) == strconv.Itoa(cmd.Process.Pid) && strings.TrimSpace(lines[7]) == "ready"
			}
			if ready {
				break
			}
			select {
			case <-exited:
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
				continue
			}
			break
		}
		_ = cmd.Process.Signal(syscall.SIGINT) // fast shutdown: it frees what it holds
		<-exited
		if ready || ctx.Err() != nil {
			return
		}
	}
}

// waitReady polls postmaster.pid until the server says it accepts connections.
func waitReady(ctx context.Context, data string, exited <-chan struct{}, waitErr func() error, logPath string) error {
	deadline := time.Now().Add(60 * time.Second)
	// Steps of at most 4 ms: a start takes about 0.1 s, which steps doubling up to 32 ms overshot by
	// 16 ms on average; reading a small file 25 times a tenth of a second costs the server nothing.
	for delay := time.Millisecond; ; {
		if b, err := os.ReadFile(filepath.Join(data, "postmaster.pid")); err == nil {
			lines := strings.Split(string(b), "\n")
			if len(lines) >= 8 && strings.TrimSpace(lines[7]) == "ready" {
				return nil
			}
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited during start-up (%v):\n%s", waitErr(), lastLines(string(log), 15))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres not ready after 60s:\n%s", lastLines(string(log), 15))
		}
		if delay < 4*time.Millisecond {
			delay *= 2
		}
	}
}

// socketURL is the URL of database db on the local server listening in dir, as postgres with password.
func socketURL(dir string, port int, db, password string) string {
	q := url.Values{}
	q.Set("host", dir)
	q.Set("port", strconv.Itoa(port))
	q.Set("sslmode", "disable")
	q.Set("connect_timeout", strconv.Itoa(connectTimeout)) // a stopped server takes connections and never answers
	return (&url.URL{Scheme: "postgres", User: url.UserPassword("postgres", password), Path: "/" + db, RawQuery: q.Encode()}).String()
}

// pruneStale removes instance folders left by processes that died without cleaning up (their server
// is gone too: it dies with its parent).
func pruneStale(tmp string) {
	dirs, _ := filepath.Glob(filepath.Join(tmp, "schemagate-pg-*"))
	for _, d := range dirs {
		info, err := os.Stat(d)
		if err != nil || time.Since(info.ModTime()) < time.Minute {
			continue
		}
		pidFile := filepath.Join(d, "data", "postmaster.pid")
		if f, err := os.Open(pidFile); err == nil {
			sc := bufio.NewScanner(f)
			alive := false
			if sc.Scan() {
				if pid, err := strconv.Atoi(strings.TrimSpace(sc.Text())); err == nil {
					alive = syscall.Kill(pid, 0) == nil || errors.Is(syscall.Kill(pid, 0), syscall.EPERM)
				}
			}
			f.Close()
			if alive {
				continue
			}
		}
		os.RemoveAll(d)
	}
}
