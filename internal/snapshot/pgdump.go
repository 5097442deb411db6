package snapshot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Formats of a pg_dump snapshot.
const (
	FormatDirectory = "directory" // -Fd, dumped and restored with parallel jobs
	FormatCustom    = "custom"    // -Fc, one file, dumped by one process
)

// ManifestFile is the name of the manifest written beside each pg_dump snapshot.
const ManifestFile = "manifest.json"

// PGDump takes snapshots with pg_dump into Dir/<run id>-<time>/ and restores them with pg_restore.
//
// Restore works in the same database: it first drops what the dump will recreate and what was created since
// (every schema but the system ones, the excluded ones and public; every object of public that no extension
// owns; extensions the dump does not hold), then runs pg_restore -j Jobs and ANALYZE. Restoring into a fresh
// database and renaming it would need every connection closed, including the deploy's own lock, and would
// lose the database's own grants and settings; the same-database restore keeps them and gives back the data
// byte for byte (see docs/deploy.md).
type PGDump struct {
	// URL is the database (postgres://...). A password in it is passed to the tools as PGPASSWORD.
	URL string
	// Dir is the folder holding one folder per snapshot.
	Dir string
	// Jobs is the parallelism of pg_dump and pg_restore (default 2; the custom format dumps with 1).
	Jobs int
	// Format is FormatDirectory (default) or FormatCustom.
	Format string
	// Compress is pg_dump's -Z level; nil leaves pg_dump's default.
	Compress *int
	// Keep and KeepDays are the retention: keep the newest Keep snapshots and none older than KeepDays
	// (0 disables each). The snapshot just taken is always kept.
	Keep, KeepDays int
	// Bin is the folder of pg_dump and pg_restore; empty searches PATH, then /usr/lib/postgresql/*/bin.
	Bin string
	// ExcludeSchemas are neither dumped nor dropped on restore (schemagate's own history).
	ExcludeSchemas []string
	// Now is the clock (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
}

var _ Snapshotter = (*PGDump)(nil)

func (p *PGDump) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

func (p *PGDump) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

func (p *PGDump) jobs() int {
	if p.Format == FormatCustom {
		return 1
	}
	if p.Jobs <= 0 {
		return 2
	}
	return p.Jobs
}

// Snapshot dumps the database, checks the dump is readable with pg_restore --list, writes its manifest and
// applies the retention.
func (p *PGDump) Snapshot(ctx context.Context, runID string) (*Info, RestoreFunc, error) {
	start := p.now()
	dumpBin, err := p.tool("pg_dump")
	if err != nil {
		return nil, nil, err
	}
	info := &Info{Kind: "pg_dump", Format: p.format(), Jobs: p.jobs(), Time: start.UTC(), RunID: runID}
	if err := p.describe(ctx, info); err != nil {
		return nil, nil, &Error{Op: "connect for snapshot", Err: err, Hint: "check the database URL and that the server is up"}
	}
	info.ID = sanitize(runID) + "-" + start.UTC().Format("20060102T150405Z")
	info.Location = filepath.Join(p.Dir, info.ID)
	if err := os.MkdirAll(info.Location, 0o700); err != nil {
		return nil, nil, &Error{Op: "create snapshot folder", Err: err, Hint: "check snapshot.dir exists and is writable"}
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(info.Location)
		}
	}()
	args := []string{"--no-password", "-f", p.dumpPath(info.Location)}
	if p.format() == FormatCustom {
		args = append(args, "-Fc")
	} else {
		args = append(args, "-Fd", "-j", strconv.Itoa(p.jobs()))
	}
	if p.Compress != nil {
		args = append(args, "-Z", strconv.Itoa(*p.Compress))
	}
	for _, s := range p.ExcludeSchemas {
		args = append(args, "--exclude-schema="+quotePattern(s))
	}
	conn, env := p.connArgs()
	args = append(args, conn)
	if out, err := run(ctx, env, dumpBin, args...); err != nil {
		return nil, nil, &Error{Op: "run pg_dump", Err: fmt.Errorf("%w: %s", err, out), Hint: "pg_dump must be at least the server's major version"}
	}
	if err := p.list(ctx, info.Location); err != nil {
		return nil, nil, err
	}
	if info.Size, info.SHA256, err = digest(p.dumpPath(info.Location)); err != nil {
		return nil, nil, &Error{Op: "checksum snapshot", Err: err}
	}
	info.DurationMS = p.now().Sub(start).Milliseconds()
	if err := writeManifest(info); err != nil {
		return nil, nil, &Error{Op: "write snapshot manifest", Err: err}
	}
	ok = true
	if err := p.retain(info.ID); err != nil {
		p.logger().Warn("snapshot retention", "err", err)
	}
	return info, p.restoreFunc(info), nil
}

// Reopen returns the restore of a snapshot recorded earlier, after checking its manifest.
func (p *PGDump) Reopen(_ context.Context, info *Info) (RestoreFunc, error) {
	if info == nil || info.Location == "" {
		return nil, fmt.Errorf("reopen snapshot: no location recorded: %w", ErrNotFound)
	}
	m, err := ReadManifest(info.Location)
	if err != nil {
		return nil, err
	}
	return p.restoreFunc(m), nil
}

func (p *PGDump) format() string {
	if p.Format == FormatCustom {
		return FormatCustom
	}
	return FormatDirectory
}

func (p *PGDump) dumpPath(loc string) string {
	if p.format() == FormatCustom {
		return filepath.Join(loc, "dump.custom")
	}
	return filepath.Join(loc, "dump")
}

func (p *PGDump) restoreFunc(info *Info) RestoreFunc {
	return func(ctx context.Context) error { return p.restore(ctx, info) }
}

func (p *PGDump) restore(ctx context.Context, info *Info) error {
	path := p.dumpPath(info.Location)
	if info.Format == FormatCustom {
		path = filepath.Join(info.Location, "dump.custom")
	} else if info.Format == FormatDirectory {
		path = filepath.Join(info.Location, "dump")
	}
	size, sum, err := digest(path)
	if err != nil {
		return &Error{Op: "read snapshot " + info.Location, Err: err}
	}
	if sum != info.SHA256 || size != info.Size {
		return &Error{Op: "check snapshot " + info.Location, Err: errors.New("checksum differs from the manifest"), Hint: "the snapshot was changed or damaged on disk; restore by hand from another backup"}
	}
	restoreBin, err := p.tool("pg_restore")
	if err != nil {
		return err
	}
	toc, err := p.toc(ctx, path)
	if err != nil {
		return err
	}
	if err := p.clear(ctx, toc); err != nil {
		hint := "nothing was dropped (the drops run in one transaction); restore by hand: pg_restore -d <url> " + path
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42501" { // insufficient_privilege: "must be owner of ..."
			hint = "the deploy role must own the objects it restores; " + hint
		}
		return &Error{Op: "drop objects before restore", Err: err, Hint: hint}
	}
	conn, env := p.connArgs()
	args := []string{"--no-password", "--exit-on-error", "-j", strconv.Itoa(max(p.jobs(), info.Jobs, 1)), "-d", conn, path}
	if out, err := run(ctx, env, restoreBin, args...); err != nil {
		return &Error{Op: "run pg_restore", Err: fmt.Errorf("%w: %s", err, out),
			Hint: "the objects the snapshot holds were dropped before pg_restore failed, so the database lacks them now: fix the cause and restore by hand: pg_restore --clean --if-exists -d <url> " + path}
	}
	c, err := pgx.Connect(ctx, p.URL)
	if err != nil {
		return &Error{Op: "connect after restore", Err: err}
	}
	defer c.Close(context.WithoutCancel(ctx))
	if _, err := c.Exec(ctx, "ANALYZE"); err != nil {
		return &Error{Op: "analyze after restore", Err: err}
	}
	return nil
}

// toc returns the dump's table of contents (pg_restore --list).
func (p *PGDump) toc(ctx context.Context, path string) (string, error) {
	bin, err := p.tool("pg_restore")
	if err != nil {
		return "", err
	}
	out, err := run(ctx, nil, bin, "--list", path)
	if err != nil {
		return "", &Error{Op: "list snapshot", Err: fmt.Errorf("%w: %s", err, out), Hint: "the dump is unreadable; do not rely on it"}
	}
	return out, nil
}

func (p *PGDump) list(ctx context.Context, loc string) error {
	toc, err := p.toc(ctx, p.dumpPath(loc))
	if err != nil {
		return err
	}
	if !strings.Contains(toc, "Archive created at") {
		return &Error{Op: "list snapshot", Err: errors.New("pg_restore --list printed no archive header")}
	}
	return nil
}

// describe fills the database name, server version and size.
func (p *PGDump) describe(ctx context.Context, info *Info) error {
	c, err := pgx.Connect(ctx, p.URL)
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	return c.QueryRow(ctx, `SELECT current_database(), current_setting('server_version')`).Scan(&info.Database, &info.ServerVersion)
}

// clear drops what the restore recreates and what was created after the snapshot, in one transaction.
func (p *PGDump) clear(ctx context.Context, toc string) error {
	c, err := pgx.Connect(ctx, p.URL)
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	dumped := map[string]bool{}
	for _, line := range strings.Split(toc, "\n") {
		f := strings.Fields(line)
		// "2; 3079 16407 EXTENSION - pgcrypto "
		if len(f) >= 6 && f[3] == "EXTENSION" {
			dumped[f[5]] = true
		}
	}
	keep := append([]string{"public"}, p.ExcludeSchemas...)
	var stmts []string
	add := func(q string, args ...any) error {
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		s, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		stmts = append(stmts, s...)
		return nil
	}
	const notExt = `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = o.oid AND d.deptype = 'e')`
	queries := []string{
		`SELECT format('DROP EXTENSION IF EXISTS %I CASCADE', extname) FROM pg_extension
		  WHERE extname <> 'plpgsql' AND NOT extname = ANY($1) AND $2::text[] IS NOT NULL`,
		`SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', nspname) FROM pg_namespace
		  WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema' AND NOT nspname = ANY($2) AND $1::text[] IS NOT NULL`,
		`SELECT format('DROP %s IF EXISTS public.%I CASCADE',
		         CASE relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
		                      WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, relname)
		   FROM pg_class o WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r','p','v','m','S','f')
		    AND ` + notExt + ` AND $1::text[] IS NOT NULL AND $2::text[] IS NOT NULL
		  ORDER BY relkind = 'S', oid`,
		`SELECT format('DROP ROUTINE IF EXISTS %s CASCADE', o.oid::regprocedure) FROM pg_proc o
		  WHERE pronamespace = 'public'::regnamespace AND ` + notExt + ` AND $1::text[] IS NOT NULL AND $2::text[] IS NOT NULL`,
		`SELECT format('DROP TYPE IF EXISTS public.%I CASCADE', typname) FROM pg_type o
		  WHERE typnamespace = 'public'::regnamespace AND typtype IN ('c','e','d','r')
		    AND (typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = typrelid) = 'c')
		    AND ` + notExt + ` AND $1::text[] IS NOT NULL AND $2::text[] IS NOT NULL`,
	}
	names := make([]string, 0, len(dumped))
	for n := range dumped {
		names = append(names, n)
	}
	for _, q := range queries {
		// Each query is built after the previous drops so cascades do not leave stale names behind.
		stmts = stmts[:0]
		if err := add(q, names, keep); err != nil {
			return err
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
	}
	return tx.Commit(ctx)
}

// quotePattern makes a name a pg_dump pattern that matches it alone: in double quotes, case is kept and
// the pattern characters (*, ?, .) are literal.
func quotePattern(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// dsnPassword is the password setting of a keyword/value connection string, quoted or not.
var dsnPassword = regexp.MustCompile(`(^|\s)password\s*=\s*('(\\.|[^'\\])*'|\S*)\s*`)

// connArgs returns the connection string for the tools without its password, and the environment that
// carries the password: a command line can be read by every user of the machine (ps), the environment
// cannot. The password may sit in the user part or the query of a URL, or in a keyword/value string.
func (p *PGDump) connArgs() (string, []string) {
	cfg, err := pgx.ParseConfig(p.URL)
	if err != nil || cfg.Password == "" {
		return p.URL, nil
	}
	env := []string{"PGPASSWORD=" + cfg.Password}
	if !strings.HasPrefix(p.URL, "postgres://") && !strings.HasPrefix(p.URL, "postgresql://") {
		return strings.TrimSpace(dsnPassword.ReplaceAllString(p.URL, "$1")), env
	}
	u, err := url.Parse(p.URL)
	if err != nil {
		return p.URL, nil
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if q.Has("password") {
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	return u.String(), env
}

// tool finds a PostgreSQL client program.
func (p *PGDump) tool(name string) (string, error) {
	if p.Bin != "" {
		path := filepath.Join(p.Bin, name)
		if _, err := os.Stat(path); err != nil {
			return "", &Error{Op: "find " + name, Err: err, Hint: "set snapshot.pg_bin to the folder holding pg_dump and pg_restore"}
		}
		return path, nil
	}
	if path, err := exec.LookPath(name); err == nil {
		return path, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
	if len(matches) > 0 {
		return matches[0], nil
	}
	return "", &Error{Op: "find " + name, Err: exec.ErrNotFound, Hint: "install the PostgreSQL client or set snapshot.pg_bin"}
}

func versionOf(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

func run(ctx context.Context, env []string, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

// digest returns the total size and a SHA-256 over the names and contents of the files under path.
func digest(path string) (int64, string, error) {
	h := sha256.New()
	var size int64
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(path, p)
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := io.Copy(h, f)
		size += n
		return err
	})
	if err != nil {
		return 0, "", err
	}
	return size, hex.EncodeToString(h.Sum(nil)), nil
}

func writeManifest(info *Info) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(info.Location, ManifestFile), append(b, '\n'), 0o600)
}

// ReadManifest reads the manifest of the snapshot in folder loc.
func ReadManifest(loc string) (*Info, error) {
	b, err := os.ReadFile(filepath.Join(loc, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read snapshot manifest in %s: %w", loc, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read snapshot manifest: %w", err)
	}
	var info Info
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("read snapshot manifest %s: %w", filepath.Join(loc, ManifestFile), err)
	}
	info.Location = loc
	return &info, nil
}

// retain removes snapshots beyond the retention, never the one just taken (keepID).
func (p *PGDump) retain(keepID string) error {
	if p.Keep <= 0 && p.KeepDays <= 0 {
		return nil
	}
	entries, err := os.ReadDir(p.Dir)
	if err != nil {
		return fmt.Errorf("list snapshots: %w", err)
	}
	var all []*Info
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		info, err := ReadManifest(filepath.Join(p.Dir, e.Name()))
		if err != nil {
			continue // not ours, or half-written: leave it alone
		}
		all = append(all, info)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Time.After(all[j].Time) })
	cutoff := p.now().Add(-time.Duration(p.KeepDays) * 24 * time.Hour)
	var errs []error
	for i, info := range all {
		if info.ID == keepID || filepath.Base(info.Location) == keepID {
			continue
		}
		old := p.KeepDays > 0 && info.Time.Before(cutoff)
		many := p.Keep > 0 && i >= p.Keep
		if old || many {
			p.logger().Info("remove old snapshot", "location", info.Location, "time", info.Time)
			if err := os.RemoveAll(info.Location); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func sanitize(s string) string {
	if s == "" {
		return "run"
	}
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '_'
	}, s)
}
