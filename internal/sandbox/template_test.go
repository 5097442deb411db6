package sandbox

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5"
)

// cacheLocal returns a local provider with a cache folder of its own (unless opts names one) and the
// buffer it logs to.
func cacheLocal(t *testing.T, opts Options) (*Local, *syncBuffer) {
	t.Helper()
	requireLocal(t)
	if opts.CacheDir == "" {
		opts.CacheDir = reachableTempDir(t, "sg-cache-")
	}
	logs := &syncBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return NewLocal(opts), logs
}

// reachableTempDir is a temporary folder the server user can reach when the tests run as root
// (t.TempDir's parent is private).
func reachableTempDir(t *testing.T, prefix string) string {
	t.Helper()
	d, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// startAndQuery starts an instance of l, checks that it answers and closes it.
func startAndQuery(t *testing.T, l *Local) error {
	t.Helper()
	inst, err := l.Start(t.Context())
	if err != nil {
		return err
	}
	defer inst.Close(context.Background())
	conn, err := pgx.Connect(t.Context(), inst.URL)
	if err != nil {
		t.Fatalf("connect to a started instance: %v", err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_class").Scan(&n); err != nil || n == 0 {
		t.Fatalf("query a started instance: %d classes, %v", n, err)
	}
	return nil
}

// templateDir is the folder of l's template.
func templateDir(t *testing.T, l *Local) string {
	t.Helper()
	bin, err := l.binDir()
	if err != nil {
		t.Fatal(err)
	}
	ra, err := currentRunAs()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := l.templateFor(bin, ra)
	if err != nil {
		t.Fatal(err)
	}
	return tm.dir
}

func truncate(size int64, rel string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		if err := os.Truncate(filepath.Join(dir, rel), size); err != nil {
			t.Fatal(err)
		}
	}
}

func remove(pattern string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		if len(m) == 0 {
			t.Fatalf("nothing matches %s in the template: the test proves nothing", pattern)
		}
		for _, p := range m {
			if err := os.RemoveAll(p); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// checkTemplateSound checks that the cache holds a marked template and nothing half-built.
func checkTemplateSound(t *testing.T, l *Local, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, templateMarker)); err != nil {
		t.Errorf("the template has no marker after Start: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(l.opts.CacheDir, "*-*"))
	for _, p := range left {
		if p != dir && p != dir+".lock" {
			t.Errorf("left in the cache folder: %s", p)
		}
	}
}

// TestLocalRebuildsDamagedTemplate: a cached template that is damaged (a process killed while it was
// built or stored, a full disk, files deleted in it) is rebuilt by the next Start, which says so, and
// the one after uses it as it is.
func TestLocalRebuildsDamagedTemplate(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string // in the log of the Start after the damage
	}{
		{"pg_control truncated", truncate(0, "global/pg_control"), `the cached PostgreSQL cluster template is damaged; rebuilding it`},
		{"pg_control short", truncate(100, "global/pg_control"), `global/pg_control has 100 bytes`},
		{"base removed", remove("base"), `reason="base is missing"`},
		{"PG_VERSION removed", remove("PG_VERSION"), `reason="PG_VERSION is missing"`},
		{"marker removed", remove(templateMarker), `rebuilding an incomplete PostgreSQL cluster template`},
		{"WAL zeroed", func(t *testing.T, dir string) {
			m, _ := filepath.Glob(filepath.Join(dir, "pg_wal", "0*"))
			if len(m) == 0 {
				t.Fatal("no WAL segment in the template: the test proves nothing")
			}
			for _, p := range m {
				info, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, make([]byte, info.Size()), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}, `a server started from a fresh copy of it exited during start-up: `},
		{"catalog removed", remove("base/*/1259"), `a server started from a fresh copy of it refused the first connection: FATAL: could not open file`},
		// pg_description of database postgres: nothing reads it until a statement does, in every run.
		{"catalog file read late removed", remove("base/5/2609"), `reason="a copy of it lacks files its catalog names: base/5/2609"`},
		{"build interrupted", func(t *testing.T, dir string) {
			// Killed while it built: a half-built folder and no template; and an older schemagate's.
			if err := os.Rename(dir, dir+".build-123456"); err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(filepath.Join(dir+".build-123456", "base")); err != nil {
				t.Fatal(err)
			}
			old := filepath.Join(filepath.Dir(dir), "init-987654")
			if err := os.Mkdir(old, 0o700); err != nil {
				t.Fatal(err)
			}
			then := time.Now().Add(-2 * time.Hour)
			if err := os.Chtimes(old, then, then); err != nil {
				t.Fatal(err)
			}
		}, `removing a half-built PostgreSQL cluster template left by an interrupted run`},
	}
	// One initdb for all the cases: each gets a copy of this template in a cache folder of its own.
	seed, _ := cacheLocal(t, Options{})
	if err := startAndQuery(t, seed); err != nil {
		t.Fatal(err)
	}
	ra, err := currentRunAs()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, logs := cacheLocal(t, Options{})
			dir := templateDir(t, l)
			// copyTree hands the copy to the server user, as for an instance: a template is root's.
			if err := copyTree(templateDir(t, seed), dir, ra, nil); err != nil {
				t.Fatal(err)
			}
			if err := ra.takeBack(dir); err != nil {
				t.Fatal(err)
			}
			tt.damage(t, dir)
			mark := len(logs.String())
			if err := startAndQuery(t, l); err != nil {
				t.Fatalf("Start after the damage: %v", err)
			}
			log := logs.String()[mark:]
			if !strings.Contains(log, tt.want) || !strings.Contains(log, "dir="+dir) {
				t.Errorf("the log of the Start after the damage says neither %q nor dir=%s:\n%s", tt.want, dir, log)
			}
			checkTemplateSound(t, l, dir)
			mark = len(logs.String())
			if err := startAndQuery(t, l); err != nil {
				t.Fatal(err)
			}
			if log := logs.String()[mark:]; strings.Contains(log, "template") {
				t.Errorf("the next Start rebuilt the template again:\n%s", log)
			}
		})
	}
}

// fakeInitdbBin is a folder of the real server binaries whose initdb fails once the file it returns
// exists.
func fakeInitdbBin(t *testing.T) (bin, failFlag string) {
	t.Helper()
	real, err := requireLocal(t).binDir()
	if err != nil {
		t.Fatal(err)
	}
	bin = reachableTempDir(t, "sg-fakebin-")
	entries, err := os.ReadDir(real)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "initdb" {
			if err := os.Symlink(filepath.Join(real, e.Name()), filepath.Join(bin, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	failFlag = filepath.Join(bin, "fail")
	script := fmt.Sprintf("#!/bin/sh\nif [ -e %s ]; then echo 'initdb: error: could not load library: Input/output error' >&2; exit 1; fi\nexec %s \"$@\"\n",
		failFlag, filepath.Join(real, "initdb"))
	if err := os.WriteFile(filepath.Join(bin, "initdb"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, failFlag
}

// setImmutable sets or clears the immutable flag of a folder (chattr +i), which stops even root from
// creating anything in it.
func setImmutable(dir string, on bool) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	const getFlags, setFlags, immutable = 0x80086601, 0x40086602, 0x10 // FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_IMMUTABLE_FL
	var flags int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), getFlags, uintptr(unsafe.Pointer(&flags))); errno != 0 {
		return errno
	}
	if on {
		flags |= immutable
	} else {
		flags &^= immutable
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), setFlags, uintptr(unsafe.Pointer(&flags))); errno != 0 {
		return errno
	}
	return nil
}

// TestLocalTemplateThatCannotBeRebuilt: a damaged template that cannot be rebuilt, or a cache folder
// that cannot be used, fails Start with an error that names the folder and says how to start over.
func TestLocalTemplateThatCannotBeRebuilt(t *testing.T) {
	t.Run("initdb fails", func(t *testing.T) {
		bin, failFlag := fakeInitdbBin(t)
		l, logs := cacheLocal(t, Options{BinDir: bin})
		if err := startAndQuery(t, l); err != nil {
			t.Fatal(err)
		}
		dir := templateDir(t, l)
		truncate(0, "global/pg_control")(t, dir)
		if err := os.WriteFile(failFlag, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		err := startAndQuery(t, l)
		t.Logf("error: %v", err)
		var te *TemplateError
		if !errors.As(err, &te) || te.Dir != dir || te.Cache != l.opts.CacheDir {
			t.Fatalf("error %v; want a TemplateError for %s", err, dir)
		}
		for _, want := range []string{"cached cluster template " + dir, "Input/output error", "global/pg_control has 0 bytes",
			"rm -rf " + dir, "--pg-bindir"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q\nlacks %q", err, want)
			}
		}
		if te.Hint() == "" || !strings.Contains(err.Error(), te.Hint()) {
			t.Errorf("hint %q not in the error", te.Hint())
		}
		if !strings.Contains(logs.String(), "the cached PostgreSQL cluster template is damaged; rebuilding it") {
			t.Errorf("no rebuild logged:\n%s", logs)
		}
	})
	t.Run("cache folder is a file", func(t *testing.T) {
		file := filepath.Join(reachableTempDir(t, "sg-cache-"), "cache")
		if err := os.WriteFile(file, []byte("not a folder"), 0o644); err != nil {
			t.Fatal(err)
		}
		l, _ := cacheLocal(t, Options{CacheDir: file})
		err := startAndQuery(t, l)
		t.Logf("error: %v", err)
		var te *TemplateError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), "needs a writable cache folder "+file) || !strings.Contains(err.Error(), "rm -rf "+file) {
			t.Fatalf("error %v; want a TemplateError naming %s and how to remove it", err, file)
		}
	})
	t.Run("cache folder read-only", func(t *testing.T) {
		l, _ := cacheLocal(t, Options{})
		if err := startAndQuery(t, l); err != nil {
			t.Fatal(err)
		}
		dir := templateDir(t, l)
		truncate(0, "global/pg_control")(t, dir)
		cache := l.opts.CacheDir
		if os.Geteuid() == 0 { // root writes in a folder of mode 0555
			if err := setImmutable(cache, true); err != nil {
				t.Skipf("cannot make %s read-only for root (chattr +i): %v", cache, err)
			}
			t.Cleanup(func() { setImmutable(cache, false) })
		} else {
			if err := os.Chmod(cache, 0o555); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(cache, 0o755) })
		}
		err := startAndQuery(t, l)
		t.Logf("error: %v", err)
		var te *TemplateError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), "cached cluster template "+dir) ||
			!strings.Contains(err.Error(), "needs a writable cache folder "+cache) || !strings.Contains(err.Error(), "global/pg_control has 0 bytes") {
			t.Fatalf("error %v; want a TemplateError naming %s and its cache folder", err, dir)
		}
	})
}

// TestLocalTemplateReplacedWhileCopying: another run rebuilds the template while this one copies it
// (here: halfway, before pg_wal). This copy must not mix the two clusters; it copies the new one again.
func TestLocalTemplateReplacedWhileCopying(t *testing.T) {
	l, logs := cacheLocal(t, Options{})
	if err := startAndQuery(t, l); err != nil {
		t.Fatal(err)
	}
	dir := templateDir(t, l)
	other := NewLocal(Options{CacheDir: l.opts.CacheDir, Logger: l.opts.Logger})
	bin, _ := other.binDir()
	ra, _ := currentRunAs()
	tm, err := other.templateFor(bin, ra)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	rebuilt := false
	l.opts.copyHook = func(rel string) {
		if rel != "pg_wal" {
			return
		}
		once.Do(func() {
			info, err := os.Stat(dir)
			if err != nil {
				t.Error(err)
				return
			}
			if err := other.build(t.Context(), tm, ra, &templateDamage{info: info, reason: "rebuilt by the test"}); err != nil {
				t.Error(err)
			}
			rebuilt = true
		})
	}
	mark := len(logs.String())
	inst, err := l.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	log := logs.String()[mark:]
	if !rebuilt || !strings.Contains(log, "reason=\"rebuilt by the test\"") {
		t.Fatalf("the template was not rebuilt during the copy: the test proves nothing\n%s", log)
	}
	if !strings.Contains(log, "replaced while it was being copied; copying it again") || strings.Count(log, "damaged") != 1 {
		t.Errorf("want one copy again, and no damage but the test's rebuild:\n%s", log)
	}
	// The instance is all the new template's: its pg_control too, which was copied before the swap.
	control, err := os.ReadFile(filepath.Join(dir, "global", "pg_control"))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var id int64
	if err := conn.QueryRow(t.Context(), "SELECT system_identifier FROM pg_control_system()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	if want := binary.LittleEndian.Uint64(control); uint64(id) != want {
		t.Errorf("the instance's system identifier is %d, the template's %d: the copy mixed two clusters", id, want)
	}
	checkTemplateSound(t, l, dir)
}

// TestLocalTemplateRebuiltByTwoProcesses: schemagate processes that find the same template damaged at
// once rebuild it once between them, and all start.
func TestLocalTemplateRebuiltByTwoProcesses(t *testing.T) {
	if cache := os.Getenv("SCHEMAGATE_TEMPLATE_CHILD"); cache != "" {
		l := NewLocal(Options{CacheDir: cache, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
		if err := startAndQuery(t, l); err != nil {
			t.Fatal(err)
		}
		return
	}
	l, _ := cacheLocal(t, Options{})
	if err := startAndQuery(t, l); err != nil {
		t.Fatal(err)
	}
	dir := templateDir(t, l)
	truncate(0, "global/pg_control")(t, dir)
	const n = 3
	outs := make([]syncBuffer, n)
	cmds := make([]*exec.Cmd, n)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestLocalTemplateRebuiltByTwoProcesses$", "-test.count=1")
		cmds[i].Env = append(os.Environ(), "SCHEMAGATE_TEMPLATE_CHILD="+l.opts.CacheDir)
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	rebuilds := 0
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v\n%s", i, err, outs[i].String())
		}
		rebuilds += strings.Count(outs[i].String(), "is damaged; rebuilding it")
	}
	if rebuilds != 1 {
		for i := range outs {
			t.Logf("process %d:\n%s", i, outs[i].String())
		}
		t.Errorf("%d rebuilds, want 1", rebuilds)
	}
	checkTemplateSound(t, l, dir)
}

// TestLocalPrunesUnusedTemplates: Start removes the templates of its cache folder that have not been
// used for templatePruneAge (an upgrade's old binaries, a --pg-bindir folder that is gone), marked or
// an older schemagate's; not a recent one, not one whose lock another process holds (a build), not
// anything that is not a template; and it records the use of its own.
func TestLocalPrunesUnusedTemplates(t *testing.T) {
	t.Parallel()
	l, logs := cacheLocal(t, Options{})
	cache := l.opts.CacheDir
	own := templateDir(t, l)
	old := time.Now().Add(-templatePruneAge - 24*time.Hour)
	// template makes a folder named name holding the given files, all of them (and it) last changed at.
	template := func(name string, at time.Time, files ...string) string {
		dir := filepath.Join(cache, name)
		if err := os.MkdirAll(filepath.Join(dir, "base"), 0o700); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("15\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(filepath.Join(dir, f), at, at); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chtimes(dir, at, at); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	pruned := []string{
		template("cluster-v2-15-old1", old, "PG_VERSION", templateMarker),
		template("cluster-v2-14-unmarked", old, "PG_VERSION"), // an older schemagate's
	}
	// A half-built copy of a pruned one goes with it.
	pruned = append(pruned, template("cluster-v2-15-old1.build-1234", old, "PG_VERSION"))
	// Used 29 days ago: its folder is old, its marker (the last use) is not.
	recent := template("cluster-v2-15-recent", old, "PG_VERSION", templateMarker)
	if at := time.Now().Add(-templatePruneAge + 24*time.Hour); os.Chtimes(filepath.Join(recent, templateMarker), at, at) != nil {
		t.Fatal("cannot date the marker")
	}
	kept := []string{
		recent,
		template("cluster-v2-15-locked", old, "PG_VERSION", templateMarker),
		template("cluster-v2-15-notpg", old, "notes.txt"), // named like one, but not a cluster
		template("cluster-v2-15-Upper", old, "PG_VERSION", templateMarker),
		template("cluster-v3-15-abc", old, "PG_VERSION", templateMarker),
		template("my-cluster-v2-15-abc", old, "PG_VERSION", templateMarker),
		template("backups", old, "PG_VERSION"),
	}
	// A file and a symbolic link (to an old template elsewhere) named like templates.
	file := filepath.Join(cache, "cluster-v2-15-file")
	if err := os.WriteFile(file, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	for _, f := range []string{"PG_VERSION", templateMarker} {
		if err := os.WriteFile(filepath.Join(elsewhere, f), []byte("15\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(filepath.Join(elsewhere, f), old, old); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(cache, "cluster-v2-15-link")
	if err := os.Symlink(elsewhere, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, link} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	kept = append(kept, file, link, filepath.Join(elsewhere, templateMarker))
	// Another process builds cluster-v2-15-locked: it holds the lock.
	lock, err := lockFile(t.Context(), filepath.Join(cache, "cluster-v2-15-locked.lock"), time.Second, func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()

	// The run's own template exists already, unused for long: it is kept, and its use recorded.
	if err := startAndQuery(t, l); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(own, templateMarker), old, old); err != nil {
		t.Fatal(err)
	}
	l = NewLocal(l.opts)
	if err := startAndQuery(t, l); err != nil {
		t.Fatal(err)
	}
	for _, p := range pruned {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is left (%v); want it removed\n%s", p, err, logs)
		}
	}
	for _, p := range kept {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s is gone: %v\n%s", p, err, logs)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(cache, "*.old-*")); len(left) > 0 {
		t.Errorf("left aside: %v", left)
	}
	if info, err := os.Stat(filepath.Join(own, templateMarker)); err != nil || time.Since(info.ModTime()) > time.Hour {
		t.Errorf("the run's own template's use is not recorded: %v, %v", info.ModTime(), err)
	}
	if !strings.Contains(logs.String(), "removed a cached PostgreSQL cluster template unused for more than 30 days") ||
		!strings.Contains(logs.String(), "cluster-v2-15-old1") {
		t.Errorf("the log does not say what was removed:\n%s", logs)
	}
}

// TestLocalTemplateOutOfServerUsersReach: run as root, schemagate runs the server as `postgres`, the
// user a pull request's SQL runs programs as (COPY … TO PROGRAM). That user must not change the cached
// cluster every later run starts from: it and the cache folder are root's, and a template the server
// user owns (an older schemagate's, or one tampered with) is rebuilt.
func TestLocalTemplateOutOfServerUsersReach(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user; a user running it as itself owns its cache (README)")
	}
	l, logs := cacheLocal(t, Options{})
	if err := startAndQuery(t, l); err != nil {
		t.Fatal(err)
	}
	dir := templateDir(t, l)
	checkRootOnly := func(t *testing.T) {
		t.Helper()
		if info, err := os.Stat(l.opts.CacheDir); err != nil || info.Mode().Perm() != 0o711 || info.Sys().(*syscall.Stat_t).Uid != 0 {
			t.Errorf("cache folder %s: %v, %v; want root's, mode 0711", l.opts.CacheDir, info.Mode(), err)
		}
		err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			if st := info.Sys().(*syscall.Stat_t); st.Uid != 0 || info.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s belongs to uid %d, mode %v: want root's alone", p, st.Uid, info.Mode())
				return filepath.SkipAll // one says it
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	checkRootOnly(t)

	// The attack the reviewer made: a setting appended to the template's postgresql.conf from SQL.
	inst, err := l.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(t.Context(), fmt.Sprintf("COPY (SELECT 'schemagate.poisoned = yes') TO PROGRAM 'cat >> %s/postgresql.conf'", dir))
	conn.Close(context.Background())
	inst.Close(context.Background())
	if err == nil {
		t.Error("the server user appended to the template's postgresql.conf")
	}
	inst, err = l.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	conn, err = pgx.Connect(t.Context(), inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var poisoned *string
	if err := conn.QueryRow(t.Context(), "SELECT current_setting('schemagate.poisoned', true)").Scan(&poisoned); err != nil || poisoned != nil {
		t.Errorf("a later run's server has schemagate.poisoned = %v (%v): the template was changed", poisoned, err)
	}

	t.Run("a template of the server user is rebuilt", func(t *testing.T) {
		ra, err := currentRunAs()
		if err != nil {
			t.Fatal(err)
		}
		// As an older schemagate left it: the server user's, and the cache folder open to all.
		if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return ra.chown(p)
		}); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(l.opts.CacheDir, 0o777); err != nil {
			t.Fatal(err)
		}
		mark := len(logs.String())
		if err := startAndQuery(t, l); err != nil {
			t.Fatal(err)
		}
		if log := logs.String()[mark:]; !strings.Contains(log, "the cached PostgreSQL cluster template is damaged; rebuilding it") ||
			!strings.Contains(log, "belongs to uid "+strconv.Itoa(ra.uid)) {
			t.Errorf("the log of the Start does not say the server user's template was rebuilt:\n%s", log)
		}
		checkRootOnly(t)
	})
}

// orphanSegments are the System V segments of uid that nothing is attached to.
func orphanSegments(t *testing.T, uid int) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("/proc/sysvipc/shm")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		if f := strings.Fields(line); len(f) >= 8 && f[6] == "0" && f[7] == strconv.Itoa(uid) {
			out[f[1]] = true
		}
	}
	return out
}

// TestLocalTemplateBuildOnAFullDisk: initdb on a full disk crashes (PANIC: could not write ... No
// space left on device). The error says the disk is full, not that the installation is broken, and
// the shared memory of initdb's crashed backend (its System V segment and the /dev/shm segment it
// names), which no server would ever free, is removed.
func TestLocalTemplateBuildOnAFullDisk(t *testing.T) {
	requireLocal(t)
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system (the full disk) needs root")
	}
	cache := reachableTempDir(t, "sg-cache-full-")
	if err := syscall.Mount("tmpfs", cache, "tmpfs", 0, "size=6m,mode=0755"); err != nil {
		t.Fatalf("mount a 6 MB tmpfs on %s: %v", cache, err)
	}
	t.Cleanup(func() { syscall.Unmount(cache, syscall.MNT_DETACH) })
	ra, err := currentRunAs()
	if err != nil {
		t.Fatal(err)
	}
	before := orphanSegments(t, ra.uid)
	dsmBefore, _ := filepath.Glob("/dev/shm/PostgreSQL.*")
	l, logs := cacheLocal(t, Options{CacheDir: cache})
	err = startAndQuery(t, l)
	t.Logf("error: %v", err)
	var te *TemplateError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "No space left on device") {
		t.Fatalf("error %v; want a TemplateError saying the disk is full", err)
	}
	if h := te.Hint(); !strings.Contains(h, "is full (df -h "+cache+")") || strings.Contains(h, "check that installation") {
		t.Errorf("hint %q; want the disk of %s full, not the installation blamed", h, cache)
	}
	for id := range orphanSegments(t, ra.uid) {
		if !before[id] {
			t.Errorf("System V segment %s of the crashed initdb is left", id)
		}
	}
	// Every segment the crashed backend made, not only the one the System V header names: two stayed.
	// New ones that a process maps are other tests' live servers'; so are new ones unmapped for an
	// instant, between a server's shm_open and its mmap or its munmap and shm_unlink (other packages'
	// tests run servers meanwhile): a segment of the crashed initdb stays unmapped and in place, so a
	// segment is left only if it still is after a few looks.
	dsmAfter, _ := filepath.Glob("/dev/shm/PostgreSQL.*")
	var left []string
	for _, f := range dsmAfter {
		if !slices.Contains(dsmBefore, f) {
			left = append(left, f)
		}
	}
	for look := 0; look < 20 && len(left) > 0; look++ {
		if look > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		mapped := mappedFiles(left)
		left = slices.DeleteFunc(left, func(f string) bool {
			_, err := os.Stat(f)
			return mapped[f] || errors.Is(err, fs.ErrNotExist)
		})
	}
	for _, f := range left {
		t.Errorf("%s of the crashed initdb is left", f)
	}
	if !strings.Contains(logs.String(), "removed the shared memory a crashed initdb left") || !strings.Contains(logs.String(), "/dev/shm/PostgreSQL.") {
		t.Errorf("no removal of the crashed initdb's shared memory logged:\n%s", logs)
	}
}

// TestCopyTree: a template's copy has every file with its content and mode, files larger than the copy
// buffer included, and the server user owns all of it; a file that vanishes from the template while it
// is copied is the template's error (sourceError), a file the copy cannot write is the copy's.
func TestCopyTree(t *testing.T) {
	ra, err := currentRunAs()
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	files := map[string]struct {
		size int
		perm os.FileMode
	}{
		"PG_VERSION":                {3, 0o600},
		"empty":                     {0, 0o600},
		"base/5/2609":               {8192, 0o600},
		"pg_wal/000000010000000000": {copyBufSize, 0o600},
		"big":                       {copyBufSize*2 + 12345, 0o640},
	}
	for name, f := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, f.size)
		for i := range b {
			b[i] = byte(i*7 + len(name))
		}
		if err := os.WriteFile(p, b, f.perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.perm); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("base/5", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "data")
	if err := copyTree(src, dst, ra, nil); err != nil {
		t.Fatal(err)
	}
	for name, f := range files {
		want, _ := os.ReadFile(filepath.Join(src, name))
		got, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: copied %d bytes (%v), want the %d of the template", name, len(got), err, len(want))
		}
		info, err := os.Stat(filepath.Join(dst, name))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != f.perm {
			t.Errorf("%s: mode %v, want %v", name, info.Mode().Perm(), f.perm)
		}
	}
	if link, err := os.Readlink(filepath.Join(dst, "link")); err != nil || link != "base/5" {
		t.Errorf("link: %q, %v; want base/5", link, err)
	}
	err = filepath.Walk(dst, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if st := info.Sys().(*syscall.Stat_t); int(st.Uid) != ra.uid || int(st.Gid) != ra.gid {
			t.Errorf("%s belongs to %d:%d, want the server user's %d:%d", p, st.Uid, st.Gid, ra.uid, ra.gid)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The template loses a file between the walk's listing and its copy.
	gone := filepath.Join(t.TempDir(), "data")
	err = copyTree(src, gone, ra, func(rel string, _ fs.FileInfo) bool {
		if rel == "base/5/2609" {
			os.Remove(filepath.Join(src, rel))
		}
		return true
	})
	var se *sourceError
	if !errors.As(err, &se) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("copying a template that lost a file: %v; want a sourceError of a file that does not exist", err)
	}
	// The copy's side cannot be written: an error, not the template's.
	if err := copyTree(src, dst, ra, nil); err == nil || errors.As(err, &se) {
		t.Errorf("copying into a folder that exists already: %v; want an error of the copy", err)
	}
}

// TestTemplateForMajorVersion: a server folder found in the Debian layout (/usr/lib/postgresql/15/bin)
// names its template by the version its name says, as binDir picked it, without starting postgres
// --version at every start; a folder given with --pg-bindir is named as its binary answers, and one
// that does not answer as PostgreSQL is refused.
func TestTemplateForMajorVersion(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "lib", "postgresql", "15", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// A postgres that fails when it runs: the major version must not come from it.
	if err := os.WriteFile(filepath.Join(bin, "postgres"), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ra := runAs{uid: os.Getuid(), gid: os.Getgid()}
	found := NewLocal(Options{CacheDir: t.TempDir()})
	tm, err := found.templateFor(bin, ra)
	if err != nil || tm.major != 15 || !strings.HasPrefix(filepath.Base(tm.dir), "cluster-v2-15-") {
		t.Errorf("template of a Debian folder found: %+v, %v; want major 15, no postgres --version", tm, err)
	}
	given := NewLocal(Options{CacheDir: t.TempDir(), BinDir: bin})
	if _, err := given.templateFor(bin, ra); err == nil || !strings.Contains(err.Error(), "is not a PostgreSQL server") {
		t.Errorf("template of a folder given whose postgres fails: %v; want it refused", err)
	}
}
