package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The local provider keeps one initialized cluster per server binary folder in its cache folder and
// copies it for every instance. Such a template may be damaged: a process killed while initdb or the
// store ran, a disk that filled up, someone deleting files in it. The rules that keep a damaged one from
// failing every later run:
//
//   - A template is built in a temporary folder next to it (<name>.build-*), which gets the marker file
//     templateMarker once initdb has succeeded, and is then renamed into place: a folder at the
//     template's name without the marker is an interrupted build (or an older schemagate's) and is
//     rebuilt.
//   - A copy checks, from the entries its walk sees anyway, the few files a cluster cannot start
//     without (templateNeeds); a server started from a fresh copy that exits at start-up or refuses
//     the first connection makes Start rebuild the template once and try again.
//   - Builders on one machine take turns (templateMu in a process, a file lock <name>.lock between
//     processes); a builder that waited looks again, and uses what another one built meanwhile.
//   - A rebuild renames the old template aside (<name>.old-*), renames the new one into place and then
//     removes the old one. Readers take no lock: the fast path stays the stat of the marker, and the
//     open, fstat and stat of the template folder below. Removing the old template right away is safe
//     for a reader copying it only thanks to that check: a copy in progress keeps the files it has
//     open, not those it has yet to open (which would come from the new template, or be gone), so it
//     could mix two clusters or miss files without an error. A reader therefore holds the template
//     folder open while it copies (its inode cannot be reused meanwhile) and checks at the end that
//     the template's name still leads to that folder. Names only ever move forward to a newer
//     template and the old one is removed only after it was renamed away, so a reader that finds the
//     same folder at the end read all of it, undisturbed; any other one throws its copy away and
//     copies again.
//   - The marker's modification time is the template's last use (touch). A run removes the other
//     templates of its cache folder unused for templatePruneAge, each under its lock and renamed aside
//     first, as a rebuild does, so that a copy in progress notices (pruneTemplates).
//   - Older schemagate versions sharing the cache see the marker as one more file of the cluster (and
//     copy it: the server ignores it); their templates lack it and are rebuilt once.
//   - A pull request's SQL runs as a superuser and so, through COPY … TO PROGRAM, as the server's OS
//     user. When schemagate runs as root and the server as `postgres`, the template must be out of that
//     user's reach, or one run could change the cluster every later run starts from (a setting appended
//     to its postgresql.conf, a function planted in its catalog). The cache folder and every template
//     in it belong to root, which alone copies them; the cache folder is mode 0711, so that the server
//     user cannot even list the build folder initdb runs in (its own while initdb runs). A copy that sees
//     an entry of another owner (a template of an older schemagate, which gave it to the server user)
//     takes the template as damaged: it is rebuilt. A non-root user runs the server as itself, and its
//     cache then belongs to the user whose SQL could change it: documented, not fixable here.
//   - A template holds the password of its role postgres (templateSecret; see password.go), which is not
//     copied: a run uses it once, to give its server a password of its own.

// templateMarker is written in a template once initdb has succeeded, before it is renamed into place.
const templateMarker = "schemagate-template.complete"

// templateSecret holds the password the template's role postgres was initialized with.
const templateSecret = "schemagate-template.secret"

// templateNeeds are the entries a copy of a template must have seen, with the size a file must have
// (0: any size but empty; -1: a folder). global/pg_control is always 8 kB.
var templateNeeds = map[string]int64{
	templateMarker:      0,
	templateSecret:      0,
	"PG_VERSION":        0,
	"postgresql.conf":   0,
	"global/pg_control": 8192,
	"base":              -1,
	"pg_wal":            -1,
}

// templateLockWait is how long a build waits for another process's build of the same template.
const templateLockWait = 5 * time.Minute

// clusterTemplate is the cached cluster of one server binary folder.
type clusterTemplate struct {
	bin   string // the server binaries it is initialized with
	major int    // their major version
	cache string // the cache folder that holds it
	dir   string // <cache>/cluster-v2-<major>-<hash of bin>
}

var templateMu sync.Mutex

// templateFor names the template of bin in the cache folder.
func (l *Local) templateFor(bin string, ra runAs) (clusterTemplate, error) {
	// A folder binDir found itself has the major version binDir trusted to pick it when its name says
	// one (/usr/lib/postgresql/15/bin): asking postgres --version again would cost every start tens of
	// milliseconds. A folder given (--pg-bindir) is named as its binary says.
	major := 0
	if l.opts.BinDir == "" {
		major = versionOfDir(bin)
	}
	if major == 0 {
		var err error
		if major, err = binaryMajor(bin); err != nil {
			return clusterTemplate{}, err
		}
	}
	cache := l.cacheDir(ra)
	return clusterTemplate{bin: bin, major: major, cache: cache,
		dir: filepath.Join(cache, fmt.Sprintf("cluster-v2-%d-%s", major, hashPath(bin)))}, nil
}

// ensure makes sure t is complete, building it when it is missing or lacks its marker.
func (l *Local) ensure(ctx context.Context, t clusterTemplate, ra runAs) error {
	if _, err := os.Stat(filepath.Join(t.dir, templateMarker)); err == nil {
		t.touch(l.opts.Logger)
		return nil
	}
	return l.build(ctx, t, ra, nil)
}

// templateDamage says why a template cannot be used: what a copy of it lacked, or how a server started
// from a fresh copy failed.
type templateDamage struct {
	info   os.FileInfo // the template folder found damaged: a rebuild leaves a newer one alone
	reason string
	err    error // the failure as Start would report it
}

func (d *templateDamage) Error() string { return d.err.Error() }
func (d *templateDamage) Unwrap() error { return d.err }

// TemplateError is a failure of the local provider's cached cluster template: it could not be built or
// rebuilt, or a server started from a fresh copy failed even after a rebuild. Its message names the
// template and the cache folder, and Hint says how to start over.
type TemplateError struct {
	// Dir is the template folder, Cache the cache folder holding it.
	Dir, Cache string
	Err        error
	hint       string
}

func (e *TemplateError) Error() string {
	return fmt.Sprintf("cached cluster template %s: %v\nhint: %s", e.Dir, e.Err, e.hint)
}

func (e *TemplateError) Unwrap() error { return e.Err }

// Hint says what to do about it.
func (e *TemplateError) Hint() string { return e.hint }

func (t clusterTemplate) removeHint() string {
	return fmt.Sprintf("remove it to start over (rm -rf %s; schemagate builds it again), or pick other server binaries with --pg-bindir or --pg-version", t.dir)
}

func (t clusterTemplate) cacheHint() string {
	return fmt.Sprintf("the local provider needs a writable cache folder %s: fix its permissions or free space there, or remove it (rm -rf %s; schemagate creates it again)", t.cache, t.cache)
}

func (t clusterTemplate) errorf(hint string, format string, args ...any) *TemplateError {
	return &TemplateError{Dir: t.dir, Cache: t.cache, Err: fmt.Errorf(format, args...), hint: hint}
}

// build builds t in a temporary folder next to it and renames it into place. bad, when not nil, is the
// damage a copy or a server start found in the template folder bad.info: it is replaced even though it
// has its marker, unless another run replaced it meanwhile.
func (l *Local) build(ctx context.Context, t clusterTemplate, ra runAs, bad *templateDamage) error {
	templateMu.Lock()
	defer templateMu.Unlock()
	log := l.opts.Logger
	if err := os.MkdirAll(t.cache, 0o755); err != nil {
		return t.errorf(t.cacheHint(), "create the cache folder: %w", err)
	}
	if err := ra.guardCache(t.cache); err != nil {
		return t.errorf(t.cacheHint(), "keep the cache folder out of the server user's reach: %w", err)
	}
	unlock, locked, err := lockTemplate(ctx, t.dir+".lock", log)
	if err != nil {
		return err
	}
	defer unlock()
	info, statErr := os.Lstat(t.dir)
	if _, err := os.Stat(filepath.Join(t.dir, templateMarker)); err == nil && (bad == nil || bad.info != nil && !os.SameFile(info, bad.info)) {
		if bad != nil {
			log.Info("another run has rebuilt the damaged PostgreSQL cluster template already", "dir", t.dir, "reason", bad.reason)
		}
		return nil // built by another run while this one waited
	}
	if locked {
		removeHalfBuilt(t, log)
	}
	switch {
	case bad != nil:
		log.Warn("the cached PostgreSQL cluster template is damaged; rebuilding it", "dir", t.dir, "reason", bad.reason)
	case statErr == nil:
		log.Info("rebuilding an incomplete PostgreSQL cluster template", "dir", t.dir,
			"reason", "no "+templateMarker+" in it: a build that was interrupted, or one of an older schemagate")
	default:
		log.Info("initializing a PostgreSQL cluster template (once per version)", "version", t.major, "dir", t.dir)
	}
	tmp, err := os.MkdirTemp(t.cache, filepath.Base(t.dir)+".build-")
	if err != nil {
		return t.errorf(t.cacheHint(), "create a folder to build it in: %w", err)
	}
	defer os.RemoveAll(tmp) // gone already once renamed into place
	if err := os.Chmod(tmp, 0o700); err != nil {
		return t.errorf(t.cacheHint(), "build it: %w", err)
	}
	if err := ra.chown(tmp); err != nil {
		return t.errorf(t.cacheHint(), "hand the folder to the server user: %w", err)
	}
	secret := newPassword()
	if err := initdb(ctx, t.bin, tmp, secret, ra, log); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if strings.Contains(err.Error(), "No space left on device") {
			return t.errorf(fmt.Sprintf("the disk holding the cache folder %s is full (df -h %s): free space there and run again; remove the template to start over (rm -rf %s)", t.cache, t.cache, t.dir), "%w", err)
		}
		return t.errorf(fmt.Sprintf("initdb of %s failed: check that installation, or pick other server binaries with --pg-bindir or --pg-version; remove the template to start over (rm -rf %s)", t.bin, t.dir), "%w", err)
	}
	marker := filepath.Join(tmp, templateMarker)
	content := fmt.Sprintf("schemagate cluster template\npostgres %d\nbin %s\ncreated %s\n", t.major, t.bin, time.Now().UTC().Format(time.RFC3339))
	if err := os.WriteFile(filepath.Join(tmp, templateSecret), []byte(secret), 0o600); err != nil {
		return t.errorf(t.cacheHint(), "store its password: %w", err)
	}
	if err := os.WriteFile(marker, []byte(content), 0o600); err != nil {
		return t.errorf(t.cacheHint(), "mark it complete: %w", err)
	}
	// From now on it is root's alone (see the top of this file); runs copy it as root.
	if err := ra.takeBack(tmp); err != nil {
		return t.errorf(t.cacheHint(), "take it back from the server user: %w", err)
	}
	// Swap: the old template aside, the new one in, then the old one away (see the top of this file).
	old := ""
	if statErr == nil {
		old = fmt.Sprintf("%s.old-%s", t.dir, randomHex(4))
		if err := os.Rename(t.dir, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return t.errorf(t.removeHint(), "move the old template aside: %w", err)
		}
	}
	if err := os.Rename(tmp, t.dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(t.dir, templateMarker)); statErr == nil {
			return nil // another process (without the lock) stored one first
		}
		return t.errorf(t.cacheHint(), "store it: %w", err)
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			log.Warn("could not remove the old cluster template", "dir", old, "err", err)
		}
	}
	return nil
}

// initdb initializes a cluster in dir whose role postgres has password secret, which every connection
// needs (see password.go).
func initdb(ctx context.Context, bin, dir, secret string, ra runAs, log *slog.Logger) error {
	run := func(args ...string) (string, error) {
		// The password goes through a pipe: a file would be one more the server user could read. initdb
		// opens /dev/stdin again, which needs the pipe to be the server user's.
		r, w, err := os.Pipe()
		if err != nil {
			return "", err
		}
		defer r.Close()
		if ra.cred != nil {
			if err := r.Chown(ra.uid, ra.gid); err != nil {
				w.Close()
				return "", fmt.Errorf("hand initdb's password pipe to the server user: %w", err)
			}
		}
		_, err = w.WriteString(secret + "\n") // far less than a pipe holds
		w.Close()
		if err != nil {
			return "", err
		}
		cmd := ra.command(ctx, filepath.Join(bin, "initdb"), append([]string{"-D", dir, "-U", "postgres", "--auth=scram-sha-256",
			"--pwfile=/dev/stdin", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--wal-segsize=1"}, args...)...)
		var out bytes.Buffer
		cmd.Stdin, cmd.Stdout, cmd.Stderr = r, &out, &out
		started := time.Now().Add(-time.Second) // file times are coarser than the clock
		if err := cmd.Start(); err != nil {
			return "", err
		}
		watch := watchDescendants(cmd.Process.Pid)
		err = cmd.Wait()
		pids := watch.end()
		if err != nil {
			if freed := freeCrashedSharedMemory(pids, ra.uid, started, log); len(freed) > 0 {
				log.Info("removed the shared memory a crashed initdb left", "removed", strings.Join(freed, ", "))
			}
		}
		return out.String(), err
	}
	if _, err := run("--no-instructions"); err == nil {
		return nil
	}
	// Older initdb lack --no-instructions; retry without it, in a clean folder.
	if err := emptyFolder(dir); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	if out, err := run(); err != nil {
		detail := lastLines(out, 15)
		// A backend's PANIC comes before initdb's own lines about it: keep the cause in the message.
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "No space left on device") && !strings.Contains(detail, line) {
				detail = line + "\n...\n" + detail
				break
			}
		}
		return fmt.Errorf("initdb: %w\n%s", err, indent(detail))
	}
	return nil
}

// emptyFolder removes what dir holds, keeping dir.
func emptyFolder(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// indent indents the lines of s, which keeps them lines of an error message on schemagate's stderr.
func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// removeHalfBuilt removes what interrupted builds of t left in the cache folder: its .build-* and
// .old-* folders (the caller holds t's lock, which every build holds while it runs) and init-*
// folders of older schemagate versions, which took no lock, when they are an hour old.
func removeHalfBuilt(t clusterTemplate, log *slog.Logger) {
	var dirs []string
	for _, pat := range []string{t.dir + ".build-*", t.dir + ".old-*"} {
		m, _ := filepath.Glob(pat)
		dirs = append(dirs, m...)
	}
	old, _ := filepath.Glob(filepath.Join(t.cache, "init-*"))
	for _, d := range old {
		if info, err := os.Lstat(d); err == nil && time.Since(info.ModTime()) > time.Hour {
			dirs = append(dirs, d)
		}
	}
	for _, d := range dirs {
		log.Info("removing a half-built PostgreSQL cluster template left by an interrupted run", "dir", d)
		if err := os.RemoveAll(d); err != nil {
			log.Warn("could not remove a half-built cluster template", "dir", d, "err", err)
		}
	}
}

// lockTemplate takes the file lock of a template's builds, waiting up to templateLockWait for
// another process's build. When the lock file cannot be opened (a cache folder that is not writable:
// the build fails anyway) or the wait is too long, the build goes ahead without it (locked false). A
// cancelled ctx stops the wait with its error.
func lockTemplate(ctx context.Context, path string, log *slog.Logger) (unlock func(), locked bool, err error) {
	f, err := lockFile(ctx, path, templateLockWait, func() {
		log.Info("waiting for another schemagate process to finish building the cluster template", "file", path)
	})
	switch {
	case err == nil:
		return func() { f.Close() }, true, nil // closing the file releases the lock
	case ctx.Err() != nil:
		return nil, false, ctx.Err()
	case errors.As(err, new(*fs.PathError)):
		log.Debug("building the cluster template without a lock", "file", path, "err", err)
	default:
		log.Warn("building the cluster template without a lock", "file", path, "err", err)
	}
	return func() {}, false, nil
}

// errTemplateMoved says a template was replaced (by another run's rebuild) while it was being copied.
var errTemplateMoved = errors.New("the cluster template was replaced while it was being copied")

// sourceError marks an error reading the template, as opposed to writing the copy.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// copyTemplate copies t into data (which must not exist). It returns errTemplateMoved when another run
// replaced t meanwhile (data is then to be removed and copied again), a *templateDamage when t lacks
// what a cluster needs or holds what the server user could have changed, the template folder it copied
// and the password of its role postgres (templateSecret).
func (l *Local) copyTemplate(t clusterTemplate, data string, ra runAs) (os.FileInfo, string, error) {
	// Held open while copying, so that its inode cannot be reused by a newer template: see the top of
	// this file.
	d, err := os.Open(t.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", errTemplateMoved // between a rebuild's two renames
	}
	if err != nil {
		info, _ := os.Lstat(t.dir)
		return nil, "", &templateDamage{info: info, reason: err.Error(), err: err}
	}
	defer d.Close()
	before, err := d.Stat()
	if err != nil {
		return nil, "", &templateDamage{reason: err.Error(), err: err}
	}
	problems := map[string]string{} // what a copy needs, and what is wrong with it until it is seen fine
	for rel := range templateNeeds {
		problems[rel] = rel + " is missing"
	}
	if ra.foreign(before) {
		problems["."] = ra.foreignReason(".", before)
	}
	secret := ""
	copyErr := copyTree(t.dir, data, ra, func(rel string, info fs.FileInfo) bool {
		if _, seen := problems["owner"]; !seen && ra.foreign(info) {
			problems["owner"] = ra.foreignReason(rel, info)
		}
		if rel == templateSecret && info.Mode().IsRegular() {
			// Read during the walk, which the check below proves was of one template only.
			b, err := os.ReadFile(filepath.Join(t.dir, rel))
			if err != nil {
				problems[rel] = rel + ": " + err.Error()
				return false
			}
			secret = strings.TrimSpace(string(b))
		}
		if size, ok := templateNeeds[rel]; ok {
			switch {
			case size == -1 && info.IsDir(), size == 0 && info.Mode().IsRegular() && info.Size() > 0,
				size > 0 && info.Mode().IsRegular() && info.Size() == size:
				delete(problems, rel)
			case size == -1:
				problems[rel] = rel + " is not a folder"
			default:
				problems[rel] = fmt.Sprintf("%s has %d bytes", rel, info.Size())
			}
		}
		if l.opts.copyHook != nil {
			l.opts.copyHook(rel)
		}
		return rel != templateMarker && rel != templateSecret // the server has no use for them
	})
	if now, err := os.Stat(t.dir); err != nil || !os.SameFile(before, now) {
		return nil, "", errTemplateMoved
	}
	var se *sourceError
	if errors.As(copyErr, &se) {
		return before, "", &templateDamage{info: before, reason: "reading it: " + se.Error(), err: fmt.Errorf("copy cluster template: %w", copyErr)}
	}
	if copyErr != nil {
		return before, "", fmt.Errorf("copy cluster template: %w", copyErr)
	}
	if len(problems) > 0 {
		var list []string
		for _, p := range problems {
			list = append(list, p)
		}
		sort.Strings(list)
		reason := strings.Join(list, ", ")
		return before, "", &templateDamage{info: before, reason: reason, err: errors.New(reason)}
	}
	return before, secret, nil
}

// copyTree copies a cluster folder, handing every file to the server user. visit, when not nil, sees
// every entry (its path relative to src) and says whether to copy it. Errors reading src are
// *sourceError.
func copyTree(src, dst string, ra runAs, visit func(rel string, info fs.FileInfo) bool) error {
	buf := make([]byte, copyBufSize)
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return &sourceError{err}
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return &sourceError{err}
		}
		if visit != nil && rel != "." && !visit(filepath.ToSlash(rel), info) {
			return nil
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()); err != nil {
				return err
			}
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return &sourceError{err}
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		default:
			return copyFile(p, target, info.Mode().Perm(), ra, buf) // hands it over itself
		}
		return ra.chown(target)
	})
}

// copyBufSize is the buffer copyFile reads into: a template's largest files are its 1 MB WAL segments
// (initdb --wal-segsize=1).
const copyBufSize = 1 << 20

// copyFile copies the file src to dst (which must not exist), owned by the server user, reading into
// buf. It makes plain system calls rather than going through os.File and io.Copy: a template has about
// a thousand files, mostly of 8 kB, and for each of them os.File's set-up (the poller, fcntl) and
// io.Copy's attempt at copy_file_range (which fails from the cache's disk to /dev/shm) took three times
// the system calls of the copy itself, which made the copy the slowest step of a start.
func copyFile(src, dst string, perm fs.FileMode, ra runAs, buf []byte) error {
	in, err := ignoringEINTR(func() (int, error) { return syscall.Open(src, syscall.O_RDONLY|syscall.O_CLOEXEC, 0) })
	if err != nil {
		return &sourceError{&fs.PathError{Op: "open", Path: src, Err: err}}
	}
	defer syscall.Close(in)
	out, err := ignoringEINTR(func() (int, error) {
		return syscall.Open(dst, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, uint32(perm))
	})
	if err != nil {
		return &fs.PathError{Op: "open", Path: dst, Err: err}
	}
	werr := func(op string, err error) error {
		syscall.Close(out)
		return &fs.PathError{Op: op, Path: dst, Err: err}
	}
	if ra.cred != nil {
		if err := syscall.Fchown(out, ra.uid, ra.gid); err != nil {
			return werr("chown", err)
		}
	}
	for {
		n, err := ignoringEINTR(func() (int, error) { return syscall.Read(in, buf) })
		if err != nil {
			syscall.Close(out)
			return &sourceError{&fs.PathError{Op: "read", Path: src, Err: err}}
		}
		if n == 0 {
			break
		}
		for w := 0; w < n; {
			m, err := ignoringEINTR(func() (int, error) { return syscall.Write(out, buf[w:n]) })
			if err == nil && m == 0 {
				err = io.ErrShortWrite
			}
			if err != nil {
				return werr("write", err)
			}
			w += m
		}
	}
	if err := syscall.Close(out); err != nil {
		return &fs.PathError{Op: "close", Path: dst, Err: err}
	}
	return nil
}

// ignoringEINTR calls fn again while a signal interrupts it, as package os does.
func ignoringEINTR(fn func() (int, error)) (int, error) {
	for {
		n, err := fn()
		if !errors.Is(err, syscall.EINTR) {
			return n, err
		}
	}
}

// templatePruneAge is how long a template in the cache folder may go unused before a run that uses
// another template removes it: after an upgrade of the server binaries (a new folder or version makes a
// new template), or for a --pg-bindir folder that is gone, nothing would use it again.
const templatePruneAge = 30 * 24 * time.Hour

// templateNameRE is the name of a template folder: cluster-v2-<major>-<hashPath of the binary folder>.
var templateNameRE = regexp.MustCompile(`^cluster-v2-[0-9]+-[0-9a-z]+$`)

// touch records that t is being used: its marker's modification time is its last use (see
// pruneTemplates). Best effort: a template that cannot be touched is at worst rebuilt once pruned.
func (t clusterTemplate) touch(log *slog.Logger) {
	now := time.Now()
	if err := os.Chtimes(filepath.Join(t.dir, templateMarker), now, now); err != nil {
		log.Debug("could not record the use of the cluster template", "dir", t.dir, "err", err)
	}
}

// templateLastUse is when the template folder dir was last used: its marker's modification time, or
// for a template without one (an older schemagate's) the folder's. ok is false when dir is not a
// template: not a folder (a symbolic link is not one), or neither the marker nor PG_VERSION in it.
func templateLastUse(dir string) (last time.Time, ok bool) {
	info, err := os.Lstat(dir)
	if err != nil || !info.IsDir() {
		return time.Time{}, false
	}
	if m, err := os.Lstat(filepath.Join(dir, templateMarker)); err == nil && m.Mode().IsRegular() {
		return m.ModTime(), true
	}
	if v, err := os.Lstat(filepath.Join(dir, "PG_VERSION")); err == nil && v.Mode().IsRegular() {
		return info.ModTime(), true
	}
	return time.Time{}, false
}

// pruneTemplates removes the templates in keep's cache folder, other than keep, that have not been used
// for templatePruneAge (now is the time). Only folders named like a template and holding the marker or
// PG_VERSION are considered; a template whose build lock another process holds (a build in progress)
// is left alone, without waiting. A template is renamed aside under its lock before it is removed, so
// that a run copying it without a lock (which took it as recently used a moment before) sees it
// replaced and copies again, as after a rebuild (see the top of this file). Its .lock file stays:
// removing it could let two builds of that template run at once. Nothing here fails the run.
func pruneTemplates(ctx context.Context, keep clusterTemplate, now time.Time, log *slog.Logger) {
	entries, err := os.ReadDir(keep.cache)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		dir := filepath.Join(keep.cache, name)
		if !templateNameRE.MatchString(name) || dir == keep.dir {
			continue
		}
		if last, ok := templateLastUse(dir); !ok || now.Sub(last) < templatePruneAge {
			continue
		}
		f, err := lockFile(ctx, dir+".lock", -1, func() {})
		if err != nil {
			log.Debug("leaving alone an unused PostgreSQL cluster template: another process holds its lock", "dir", dir, "err", err)
			continue
		}
		pruneTemplate(dir, now, log)
		f.Close()
	}
}

// pruneTemplate removes the unused template dir; the caller holds its lock.
func pruneTemplate(dir string, now time.Time, log *slog.Logger) {
	// Looked at again under the lock: a run may have used it since.
	last, ok := templateLastUse(dir)
	if !ok || now.Sub(last) < templatePruneAge {
		return
	}
	aside := fmt.Sprintf("%s.old-%s", dir, randomHex(4))
	if err := os.Rename(dir, aside); err != nil {
		log.Warn("could not remove an unused PostgreSQL cluster template", "dir", dir, "err", err)
		return
	}
	// With what interrupted builds of it left.
	left, _ := filepath.Glob(dir + ".build-*")
	old, _ := filepath.Glob(dir + ".old-*")
	for _, d := range append(left, old...) {
		if err := os.RemoveAll(d); err != nil {
			log.Warn("could not remove an unused PostgreSQL cluster template", "dir", d, "err", err)
			return
		}
	}
	log.Info("removed a cached PostgreSQL cluster template unused for more than "+strconv.Itoa(int(templatePruneAge.Hours()/24))+" days",
		"dir", dir, "last used", last.UTC().Format(time.RFC3339))
}
