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
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/proc"
)

// Formats of a pg_dump snapshot.
const (
	FormatDirectory = "directory" // -Fd, dumped and restored with parallel jobs
	FormatCustom    = "custom"    // -Fc, one file, dumped by one process
)

// DefaultLockWaitTimeout is pg_dump's wait for a table lock when PGDump.LockWaitTimeout is 0.
const DefaultLockWaitTimeout = 10 * time.Second

// ManifestFile is the name of the manifest written beside each pg_dump snapshot.
const ManifestFile = "manifest.json"

// TakingFile is written in a snapshot's folder before pg_dump starts, and removed once the manifest is
// written: the database, server and run the folder is for (an Info without the dump's size, checksum and
// duration). A folder that holds it and no manifest is a snapshot its run never finished: killed
// (SIGKILL) while dumping. The retention of a later run of the same database removes it (see retain).
const TakingFile = "taking.json"

// PGDump takes snapshots with pg_dump into Dir/<run id>-<time>/ and restores them with pg_restore and psql.
//
// Restore works in the same database and in one transaction: one psql session drops what the dump will
// recreate and what was created since (see clearScript), then runs the dump's SQL (pg_restore
// --single-transaction -f -); any failure rolls it all back. ANALYZE follows. Restoring into a fresh
// database and renaming it would need every connection closed, including the deploy's own lock, and would
// lose the database's own grants and settings; the same-database restore keeps them and gives back the data
// byte for byte (see docs/deploy.md).
type PGDump struct {
	// URL is the database (postgres://...). A password in it is passed to the tools as PGPASSWORD.
	URL string
	// Dir is the folder holding one folder per snapshot.
	Dir string
	// Jobs is the parallelism of pg_dump (default 2; the custom format dumps with 1). The restore runs in
	// one session: it is one transaction.
	Jobs int
	// Format is FormatDirectory (default) or FormatCustom.
	Format string
	// Compress is pg_dump's -Z level; nil leaves pg_dump's default.
	Compress *int
	// Keep and KeepDays are the retention: keep the newest Keep snapshots of the same database and none
	// of them older than KeepDays (0 disables each). The snapshot just taken is always kept, and so are
	// those Pin names, and those of other databases (several services may share Dir), and those whose
	// manifest does not say which server they come from (taken by an older release).
	Keep, KeepDays int
	// Bin is the folder of pg_dump, pg_restore and psql (snapshot.pg_bin), used whatever their version.
	// Empty chooses, by the server's major version, among PATH's and those of the Debian layout
	// (/usr/lib/postgresql/<major>/bin): see ChooseClient.
	Bin string
	// ExcludeSchemas are neither dumped nor dropped on restore (schemagate's own history).
	ExcludeSchemas []string
	// LockWaitTimeout bounds pg_dump's wait for the shared lock on each table (--lock-wait-timeout): a
	// session holding an ACCESS EXCLUSIVE lock would otherwise stall the snapshot, and the deploy with it,
	// for as long as it holds it. 0 means DefaultLockWaitTimeout.
	LockWaitTimeout time.Duration
	// Now is the clock (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger

	// pinned are the ids of snapshots the retention keeps whatever it says, with why (see Hold).
	pinned map[string]string
	// notes say what the retention of the last Snapshot did beyond its rule (see RetentionNotes).
	notes []string
}

// Hold keeps the snapshot of this id (Info.ID) whatever the retention says, and says why
// (RetentionNotes) when the retention would have removed it: that of a run that did not finish, which its
// recovery (deploy --recover) restores, and that a failed run's report tells a person to restore by hand.
func (p *PGDump) Hold(id, why string) {
	if p.pinned == nil {
		p.pinned = map[string]string{}
	}
	if _, ok := p.pinned[id]; !ok || why != "" {
		p.pinned[id] = why
	}
}

// RetentionNotes say what the retention of the last Snapshot did beyond its rule, one sentence each: a
// snapshot it kept although the rule would remove it (Hold, and why), a folder it removed that a run
// which died while taking its snapshot left (see TakingFile). Nil when there is nothing to say.
func (p *PGDump) RetentionNotes() []string { return p.notes }

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
	info := &Info{Kind: "pg_dump", Format: p.format(), Jobs: p.jobs(), Time: start.UTC(), RunID: runID}
	major, err := p.describe(ctx, info)
	if err != nil {
		return nil, nil, &Error{Op: "connect for snapshot", Err: err, Hint: "check the database URL and that the server is up"}
	}
	cl, version, err := p.client(ctx, major, fmt.Sprintf("find pg_dump for PostgreSQL %d", major))
	if err != nil {
		return nil, nil, err
	}
	info.Client, info.ClientVersion = cl.Dir, version
	p.logger().Info("snapshot client", "dir", cl.Dir, "version", version, "server", info.ServerVersion)
	keep, err := p.keepalives(ctx)
	if err != nil {
		return nil, nil, &Error{Op: "connect for snapshot", Err: err, Hint: "check the database URL and that the server is up"}
	}
	info.ID = sanitize(runID) + "-" + start.UTC().Format("20060102T150405Z")
	info.Location = filepath.Join(p.Dir, info.ID)
	if err := os.MkdirAll(info.Location, 0o700); err != nil {
		return nil, nil, &Error{Op: "create snapshot folder", Err: err, Hint: fsHint(err.Error())}
	}
	if err := writeInfo(info, TakingFile); err != nil {
		os.RemoveAll(info.Location)
		return nil, nil, &Error{Op: "write snapshot folder's " + TakingFile, Err: err, Hint: fsHint(err.Error())}
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(info.Location)
		}
	}()
	wait := p.LockWaitTimeout
	if wait <= 0 {
		wait = DefaultLockWaitTimeout
	}
	args := []string{"--no-password", "-f", p.dumpPath(info.Location), "--lock-wait-timeout=" + strconv.FormatInt(wait.Milliseconds(), 10)}
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
	// pg_dump's transaction holds a shared lock on every table it dumps until the dump ends.
	conn, env := p.connArgs(keep)
	args = append(args, conn)
	if out, err := run(ctx, env, cl.Tool("pg_dump"), args...); err != nil {
		return nil, nil, &Error{Op: "run pg_dump", Err: fmt.Errorf("%w: %s", err, out), Hint: dumpHint(out, wait, p.user())}
	}
	if err := p.list(ctx, cl, info.Location); err != nil {
		return nil, nil, err
	}
	if info.Size, info.SHA256, err = digest(p.dumpPath(info.Location)); err != nil {
		return nil, nil, &Error{Op: "checksum snapshot", Err: err, Hint: fsHint(err.Error())}
	}
	info.DurationMS = p.now().Sub(start).Milliseconds()
	if err := writeManifest(info); err != nil {
		return nil, nil, &Error{Op: "write snapshot manifest", Err: err, Hint: fsHint(err.Error())}
	}
	_ = os.Remove(filepath.Join(info.Location, TakingFile)) // the manifest says it all now
	ok = true
	if err := p.retain(info); err != nil {
		p.logger().Warn("snapshot retention", "err", err)
	}
	return info, p.restoreFunc(info), nil
}

// deniedObject matches the server's "permission denied for table app_cache" (or schema, sequence, ...).
var deniedObject = regexp.MustCompile(`permission denied for (table|sequence|schema|view|materialized view|foreign table|large object|function|type|database) ("(?:[^"]|"")+"|[^\s"]+)`)

// plainRole is a role name that needs no quotes in SQL.
var plainRole = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

// dumpHint says what to do about pg_dump's failure, from its error (not from the query pg_dump was
// running: its "Query was: LOCK TABLE ..." line follows a permission error as well as a lock timeout).
// role is the deploy role pg_dump connects as ("" when unknown).
func dumpHint(out string, wait time.Duration, role string) string {
	switch {
	case strings.Contains(out, "permission denied for"):
		if role == "" {
			role = "the deploy role"
		} else if !plainRole.MatchString(role) {
			role = pgx.Identifier{role}.Sanitize()
		}
		what, grant := "one of the objects it dumps", ""
		if m := deniedObject.FindStringSubmatch(out); m != nil {
			what = m[1] + " " + m[2]
			switch m[1] {
			case "table", "view", "materialized view", "foreign table":
				grant = "GRANT SELECT ON " + m[2] + " TO " + role
			case "sequence":
				grant = "GRANT SELECT ON SEQUENCE " + m[2] + " TO " + role
			case "schema":
				grant = "GRANT USAGE ON SCHEMA " + m[2] + " TO " + role
			}
		}
		hint := fmt.Sprintf("%s may not read %s: pg_dump reads every table and sequence of the database, so the deploy role needs SELECT on each (USAGE on their schemas) or their ownership", role, what)
		if grant != "" {
			hint += "; as its owner, run " + grant
		}
		return hint + "; or take the snapshot with a command of your platform (snapshot.kind: command)"
	case strings.Contains(out, "could not obtain lock") || strings.Contains(out, "lock timeout") ||
		strings.Contains(out, "statement timeout") && strings.Contains(out, "LOCK TABLE"): // pg_dump's --lock-wait-timeout is a statement_timeout around its LOCK TABLE
		return fmt.Sprintf("another session held a lock on a table (ACCESS EXCLUSIVE, from ALTER TABLE, VACUUM FULL, LOCK TABLE, ...) for longer than pg_dump's lock wait timeout (%s): find it in pg_locks, let it finish, then deploy again", wait)
	case strings.Contains(out, "server version") && strings.Contains(out, "mismatch"):
		return "pg_dump must be at least the server's major version: point snapshot.pg_bin at a client of the server's version, or leave it unset to choose among the installed clients by the server's version"
	case strings.Contains(out, "No space left") || strings.Contains(out, "Permission denied") || strings.Contains(out, "Read-only file system") ||
		strings.Contains(out, "could not write") || strings.Contains(out, "could not open output") || strings.Contains(out, "could not create directory"):
		return fsHint(out)
	case strings.Contains(out, "connection to server") || strings.Contains(out, "password authentication"):
		return "check the database URL and that the server is up"
	}
	return "see pg_dump's message"
}

// fsHint says what to do about a failed write to the snapshot folder.
func fsHint(msg string) string {
	switch {
	case strings.Contains(msg, "No space left") || strings.Contains(msg, "no space left") || strings.Contains(msg, "quota"):
		return "the disk of snapshot.dir is full: free space there, lower keep/keep_days, or point snapshot.dir at a larger disk"
	case strings.Contains(msg, "ermission denied") || strings.Contains(msg, "ead-only file system"):
		return "snapshot.dir must be writable by the user running schemagate"
	}
	return "check snapshot.dir exists, is writable and has room for the dump"
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
	// Once started, a restore runs to its end: a signal that cancels the deploy must not stop it half way
	// (it could not hurt, the restore being one transaction, but the database would not be restored).
	ctx = context.WithoutCancel(ctx)
	path := p.dumpPath(info.Location)
	if info.Format == FormatCustom {
		path = filepath.Join(info.Location, "dump.custom")
	} else if info.Format == FormatDirectory {
		path = filepath.Join(info.Location, "dump")
	}
	size, sum, err := digest(path)
	if err != nil {
		return &Error{Op: "read snapshot " + info.Location, Err: err, Hint: "nothing was changed"}
	}
	if sum != info.SHA256 || size != info.Size {
		return &Error{Op: "check snapshot " + info.Location, Err: errors.New("checksum differs from the manifest"), Hint: "nothing was changed; the snapshot was changed or damaged on disk; restore by hand from another backup"}
	}
	// The client is chosen again, by the server's version now: the one that took the snapshot may be gone
	// (another machine, another image), and a server upgraded since needs a newer one, which reads the
	// older archive.
	major, err := p.serverMajor(ctx)
	if err != nil {
		return &Error{Op: "connect for restore", Err: err, Hint: "nothing was changed; check the database URL and that the server is up"}
	}
	cl, _, err := p.client(ctx, major, fmt.Sprintf("find pg_restore for PostgreSQL %d", major))
	if err != nil {
		var se *Error
		if errors.As(err, &se) {
			se.Hint = "nothing was changed; " + se.Hint
		}
		return err
	}
	toc, err := p.toc(ctx, cl, path)
	if err != nil {
		return err
	}
	homes, comments, err := p.extensionHomes(ctx, cl, path, toc)
	if err != nil {
		return err
	}
	owned, err := p.extensionSchemas(ctx, dumpedExtensions(toc), homes)
	if err != nil {
		return &Error{Op: "connect for restore", Err: err, Hint: "nothing was changed; check the database URL and that the server is up"}
	}
	same, err := p.sameComments(ctx, comments)
	if err != nil {
		return &Error{Op: "connect for restore", Err: err, Hint: "nothing was changed; check the database URL and that the server is up"}
	}
	head, err := p.clearScript(toc, owned, homes, info.KeptSchemas, !info.NoPublicSchema)
	if err != nil {
		return &Error{Op: "prepare restore", Err: err, Hint: "nothing was changed"}
	}
	list, err := os.CreateTemp("", "schemagate-restore-*.list")
	if err != nil {
		return &Error{Op: "prepare restore", Err: err, Hint: "nothing was changed; check the temporary folder (TMPDIR)"}
	}
	defer os.Remove(list.Name())
	_, err = list.WriteString(filterTOC(toc, owned, same, stateNames(keptStates(info.KeptSchemas, owned, !info.NoPublicSchema))))
	if cerr := list.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &Error{Op: "prepare restore", Err: err, Hint: "nothing was changed; check the temporary folder (TMPDIR)"}
	}
	keep, err := p.keepalives(ctx)
	if err != nil {
		return &Error{Op: "connect for restore", Err: err, Hint: "nothing was changed; check the database URL and that the server is up"}
	}
	if err := p.replay(ctx, cl.Tool("pg_restore"), cl.Tool("psql"), list.Name(), path, head, keep); err != nil {
		return err
	}
	c, err := connect(ctx, p.URL)
	if err != nil {
		return &Error{Op: "connect after restore", Err: err, Hint: "the snapshot is restored; run ANALYZE to refresh the statistics"}
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "ANALYZE"); err != nil {
		return &Error{Op: "analyze after restore", Err: err, Hint: "the snapshot is restored; run ANALYZE to refresh the statistics"}
	}
	return nil
}

// replay runs the clear and the dump's SQL (pg_restore --single-transaction -f -) through one psql session,
// in one transaction: the restore is all or nothing, so a failure at any point (an object the clear
// missed, a full disk, a killed process) leaves the database as it was before the restore.
//
// keep are the -c options of the session's TCP keepalives (see keepalives): the session holds the
// exclusive locks of all it drops and recreates until it commits.
func (p *PGDump) replay(ctx context.Context, restoreBin, psqlBin, list, path, head, keep string) error {
	conn, env := p.connArgs(keep)
	dump := exec.CommandContext(ctx, restoreBin, "--single-transaction", "-L", list, "-f", "-", path)
	dump.Env = os.Environ()
	var dumpErr tail
	dump.Stderr = &dumpErr
	sqlOut, err := dump.StdoutPipe()
	if err != nil {
		return &Error{Op: "run pg_restore", Err: err, Hint: "nothing was changed"}
	}
	// VERBOSITY=verbose puts the SQLSTATE beside each message (see sqlState): the messages themselves are
	// in the server's lc_messages language.
	// ECHO=queries writes each statement to standard output as psql sends it: the last one tells whether
	// the restore's COMMIT had been sent when the connection broke (see commitSent).
	psql := exec.CommandContext(ctx, psqlBin, "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose", "-v", "ECHO=queries", "-d", conn, "-f", "-")
	psql.Env = append(append(os.Environ(), "PGAPPNAME=schemagate restore"), env...)
	psql.Stdin = io.MultiReader(strings.NewReader(head), sqlOut)
	var sent tail
	psql.Stdout = &sent
	var psqlErr tail
	psql.Stderr = &psqlErr
	// Both run in a process group of their own: a Ctrl-C in the deploy's terminal goes to the terminal's
	// whole foreground group, and psql would cancel the statement under way and roll the restore back,
	// where the deploy catches the signal and lets a started restore run to its end.
	dump.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	psql.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Both die with schemagate (proc.Start): psql's session then ends, and the server rolls the restore
	// back, instead of holding the locks of all it dropped on for as long as psql runs.
	if err := proc.Start(dump); err != nil {
		return &Error{Op: "run pg_restore", Err: err, Hint: "nothing was changed"}
	}
	perr := proc.Run(psql)
	sqlOut.Close() // a psql that stopped early must not leave pg_restore blocked on a full pipe
	derr := dump.Wait()
	if perr == nil && derr == nil {
		return nil
	}
	manual := byHand(path, list, head)
	switch {
	case perr != nil && lostConnection(psqlErr.String()) && commitSent(sent.String()):
		return &Error{Op: "restore snapshot", Err: fmt.Errorf("%w: %s", perr, psqlErr.errors()),
			Hint: "the connection to the server broke during the restore's final COMMIT: the restore may have gone through, or nothing was changed; check the database (the tables the migrations changed) before you " + manual}
	case perr != nil && lostConnection(psqlErr.String()):
		return &Error{Op: "restore snapshot", Err: fmt.Errorf("%w: %s", perr, psqlErr.errors()),
			Hint: "nothing was changed: the connection to the server broke before the restore's COMMIT was sent, and the server rolls back the transaction of a connection it loses; once the server is back, " + manual}
	case perr != nil:
		hint := "nothing was changed: the restore runs in one transaction, which was rolled back; fix the cause, then " + manual
		state := sqlState(psqlErr.String())
		if state == "42501" { // insufficient_privilege: "must be owner of", "permission denied", in any language
			hint = "the deploy role must own the objects it restores; " + hint
		}
		return &Error{Op: "restore snapshot", Err: fmt.Errorf("%w: %s", perr, psqlErr.errors()), Hint: hint, SQLState: state}
	case derr != nil:
		// pg_restore stopped before writing its COMMIT: psql reached the end of its input inside the
		// transaction, which ended with the session.
		return &Error{Op: "run pg_restore", Err: fmt.Errorf("%w: %s", derr, dumpErr.String()),
			Hint: "nothing was changed: the restore runs in one transaction, which never committed; " + manual}
	}
	return nil
}

// commitSent tells whether the last statement psql sent (echo: its standard output under ECHO=queries)
// is the COMMIT that pg_restore --single-transaction writes last: a connection that broke then may have
// committed the restore; one that broke before cannot have.
func commitSent(echo string) bool {
	lines := strings.Split(strings.TrimSpace(echo), "\n")
	return strings.TrimSpace(lines[len(lines)-1]) == "COMMIT;"
}

// byHand says how to restore the snapshot at path by hand as the restore does it, with the same
// guarantee: the clear (head) and the dump's SQL of the list the restore used, in one transaction, so
// that a failure part way changes nothing. It writes both beside the dump (restore.sql, restore.list),
// where they stay for the person. pg_restore --clean alone, without --single-transaction, leaves the
// database half cleared when it fails part way, and drops neither what the migrations created nor the
// objects pg_dump's own drops miss. The clear is the one this restore ran: it reads the database as it
// is, so it still holds after other failed attempts.
func byHand(path, list, head string) string {
	dir := filepath.Dir(path)
	sql, keptList := filepath.Join(dir, "restore.sql"), filepath.Join(dir, "restore.list")
	err := os.WriteFile(sql, []byte(head), 0o600)
	if err == nil {
		var b []byte
		if b, err = os.ReadFile(list); err == nil {
			err = os.WriteFile(keptList, b, 0o600)
		}
	}
	if err != nil {
		// Without the clear, the closest is pg_restore's own drops, in one transaction.
		return fmt.Sprintf("restore by hand in one transaction: pg_restore --single-transaction --exit-on-error --clean --if-exists -d <url> %s (the deploy's clear, which also drops what the migrations created, could not be written beside the dump: %v)",
			shellQuote(path), err)
	}
	return fmt.Sprintf("restore it as the deploy does, in one transaction that changes nothing unless all of it goes through: (cat %s; pg_restore --single-transaction -L %s -f - %s) | psql -X -v ON_ERROR_STOP=1 -d <url>, then run ANALYZE",
		shellQuote(sql), shellQuote(keptList), shellQuote(path))
}

// shellQuote quotes s for sh when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:,@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// verboseMessage matches a server message as psql prints it with VERBOSITY=verbose: "psql:<stdin>:12:
// ERROR:  55P03: canceling statement due to lock timeout", its severity (and message) in the server's
// language, its SQLSTATE not.
var verboseMessage = regexp.MustCompile(`(?m)^(?:psql:\S*: )?[^\s:]+:  ([0-9A-Z]{5}): `)

// sqlState returns the SQLSTATE of the error in psql's messages (msg), or "" when it printed none: the
// last one that is not a notice or warning (classes 00 to 02), which ON_ERROR_STOP makes the one that
// stopped it.
func sqlState(msg string) string {
	state := ""
	for _, m := range verboseMessage.FindAllStringSubmatch(msg, -1) {
		if class := m[1][:2]; class != "00" && class != "01" && class != "02" {
			state = m[1]
		}
	}
	return state
}

// lostConnection tells whether psql's messages say the connection broke (as opposed to a statement failing).
func lostConnection(msg string) bool {
	for _, s := range []string{"server closed the connection", "connection to server was lost", "could not send data to server", "could not receive data from server", "terminating connection"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// tail keeps the last 64 KiB written to it: the messages of a tool, without holding a whole script.
type tail struct{ b []byte }

func (t *tail) Write(p []byte) (int, error) {
	const limit = 64 << 10
	t.b = append(t.b, p...)
	if len(t.b) > limit {
		t.b = append([]byte(nil), t.b[len(t.b)-limit:]...)
	}
	return len(p), nil
}

func (t *tail) String() string { return strings.TrimSpace(string(t.b)) }

// errors returns the ERROR and FATAL lines and what follows them (DETAIL, HINT), or everything when none.
func (t *tail) errors() string {
	var keep []string
	on := false
	for _, l := range strings.Split(t.String(), "\n") {
		switch {
		case strings.Contains(l, "ERROR:") || strings.Contains(l, "FATAL:") || strings.Contains(l, "error:"):
			on = true
		case strings.Contains(l, "WARNING:") || strings.Contains(l, "NOTICE:"):
			on = false
		}
		if on && !strings.HasPrefix(l, "LOCATION:  ") { // VERBOSITY=verbose's source file and line
			keep = append(keep, l)
		}
	}
	if len(keep) == 0 {
		return t.String()
	}
	return strings.Join(keep, "\n")
}

// filterTOC leaves out of a pg_restore --list what a restore does not touch: subscriptions, which the clear
// cannot drop in a transaction (dropping one drops its replication slot on the publisher) and which a
// restore would create disconnected, the CREATE SCHEMA of the schemas kept (those of extensions, see
// extensionSchemas), which would fail on "already exists": the clear gives them their owner back, the
// COMMENT ON EXTENSION of the extensions named same, which the restore keeps and whose comment is
// still the dump's (see sameComments): replaying it would change nothing, and COMMENT ON EXTENSION takes
// the privileges of the extension's owner, which the deploy role often lacks (an admin created the
// extension), where a comment that changed since the snapshot could only have been changed with them,
// and the COMMENT ON SCHEMA and the grants (ACL) of the schemas named stated, kept with the owner,
// comment and grants of the snapshot's manifest, which the clear sets back (see keptStates): they
// would change nothing either, and take the privileges of the schema's owner (pg_dump's ACL of a
// schema an extension is in starts with REVOKE ALL ... FROM the owner when the owner's own grants
// differ from the defaults), which the deploy role lacks where an admin owns the schema.
func filterTOC(toc string, kept, same, stated []string) string {
	var b strings.Builder
	for _, line := range strings.Split(toc, "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && !strings.HasPrefix(f[0], ";") && f[3] == "SUBSCRIPTION" {
			b.WriteString(";" + line + "\n")
			continue
		}
		if _, _, ok := schemaEntry(line, kept); ok {
			b.WriteString(";" + line + "\n")
			continue
		}
		if name, ok := extensionCommentEntry(line); ok && slices.Contains(same, name) {
			b.WriteString(";" + line + "\n")
			continue
		}
		if name, ok := schemaPropertyEntry(line); ok && slices.Contains(stated, name) {
			b.WriteString(";" + line + "\n")
			continue
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// extensionCommentEntry returns the extension whose comment a pg_restore --list line sets ("3494; 0 0
// COMMENT - EXTENSION hstore ": its name as pg_dump writes it, in double quotes when it needs them, and
// no owner), and whether it is one.
func extensionCommentEntry(line string) (string, bool) {
	f := strings.Fields(line)
	if len(f) < 7 || strings.HasPrefix(f[0], ";") || f[3] != "COMMENT" || f[4] != "-" || f[5] != "EXTENSION" {
		return "", false
	}
	_, rest, _ := strings.Cut(line, " COMMENT - EXTENSION ")
	return unquoteIdent(strings.TrimSpace(rest)), true
}

// schemaPropertyEntry returns the schema whose comment or grants a pg_restore --list line sets ("3501;
// 0 0 ACL - SCHEMA extensions postgres", "3500; 0 0 COMMENT - SCHEMA "my ext" postgres": its name as
// pg_dump writes it, in double quotes when it needs them, then the owner), and whether it is one.
func schemaPropertyEntry(line string) (string, bool) {
	f := strings.Fields(line)
	if len(f) < 7 || strings.HasPrefix(f[0], ";") || f[3] != "COMMENT" && f[3] != "ACL" || f[4] != "-" || f[5] != "SCHEMA" {
		return "", false
	}
	_, rest, _ := strings.Cut(line, " - SCHEMA ")
	if !strings.HasPrefix(rest, `"`) {
		name, _, _ := strings.Cut(rest, " ")
		return name, true
	}
	for i := 1; i < len(rest); i++ {
		if rest[i] != '"' {
			continue
		}
		if i+1 < len(rest) && rest[i+1] == '"' {
			i++
			continue
		}
		return unquoteIdent(rest[:i+1]), true
	}
	return "", false
}

// dumpedExtensions are the names of the extensions the dump holds (toc: its pg_restore --list).
func dumpedExtensions(toc string) []string {
	var names []string
	for _, line := range strings.Split(toc, "\n") {
		// "2; 3079 16407 EXTENSION - pgcrypto "
		if f := strings.Fields(line); len(f) >= 6 && !strings.HasPrefix(f[0], ";") && f[3] == "EXTENSION" {
			names = append(names, f[5])
		}
	}
	return names
}

// extensionHome matches the dump's CREATE EXTENSION of an extension (group 1) in its schema (group 2),
// each a name as pg_dump writes it: in double quotes when it needs them.
var extensionHome = regexp.MustCompile(`(?m)^CREATE EXTENSION IF NOT EXISTS ("(?:[^"]|"")+"|[^\s"]+) WITH SCHEMA ("(?:[^"]|"")+"|[^\s";]+);$`)

// extensionComment matches the dump's COMMENT ON EXTENSION of an extension (group 1, as pg_dump writes
// it) and the comment (group 2, a string literal as pg_dump writes it with standard_conforming_strings
// on: quotes doubled, nothing else escaped; it may span lines).
var extensionComment = regexp.MustCompile(`(?m)^COMMENT ON EXTENSION ("(?:[^"]|"")+"|[^\s"]+) IS '((?:[^']|'')*)';$`)

// unquoteIdent is the name of an identifier as pg_dump writes it (fmtId): in double quotes, doubled
// within them, when it needs them.
func unquoteIdent(id string) string {
	if len(id) >= 2 && strings.HasPrefix(id, `"`) && strings.HasSuffix(id, `"`) {
		return strings.ReplaceAll(id[1:len(id)-1], `""`, `"`)
	}
	return id
}

// extensionHomes returns the schema each extension the dump holds was in (toc: its pg_restore --list),
// read from the dump's CREATE EXTENSION IF NOT EXISTS ... WITH SCHEMA (pg_restore of client cl prints
// those entries alone): the clear moves back an extension a migration moved (ALTER EXTENSION ... SET
// SCHEMA), which that statement, finding the extension there, would leave where the migration put it.
// It also returns the comment the dump gives each extension (COMMENT ON EXTENSION, see sameComments);
// an extension without one, or whose comment it cannot read, has none there.
func (p *PGDump) extensionHomes(ctx context.Context, cl Client, path, toc string) (homes, comments map[string]string, err error) {
	var b strings.Builder
	for _, line := range strings.Split(toc, "\n") {
		if f := strings.Fields(line); len(f) >= 6 && !strings.HasPrefix(f[0], ";") && f[3] == "EXTENSION" {
			b.WriteString(line + "\n")
		} else if _, ok := extensionCommentEntry(line); ok {
			b.WriteString(line + "\n")
		}
	}
	homes, comments = map[string]string{}, map[string]string{}
	if b.Len() == 0 {
		return homes, comments, nil
	}
	list, err := os.CreateTemp("", "schemagate-extensions-*.list")
	if err != nil {
		return nil, nil, &Error{Op: "prepare restore", Err: err, Hint: "nothing was changed; check the temporary folder (TMPDIR)"}
	}
	defer os.Remove(list.Name())
	_, err = list.WriteString(b.String())
	if cerr := list.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, &Error{Op: "prepare restore", Err: err, Hint: "nothing was changed; check the temporary folder (TMPDIR)"}
	}
	out, err := run(ctx, nil, cl.Tool("pg_restore"), "-L", list.Name(), "-f", "-", path)
	if err != nil {
		return nil, nil, &Error{Op: "read snapshot's extensions", Err: fmt.Errorf("%w: %s", err, out), Hint: "nothing was changed; the dump is unreadable; do not rely on it"}
	}
	for _, m := range extensionHome.FindAllStringSubmatch(out, -1) {
		homes[unquoteIdent(m[1])] = unquoteIdent(m[2])
	}
	for _, m := range extensionComment.FindAllStringSubmatch(out, -1) {
		comments[unquoteIdent(m[1])] = strings.ReplaceAll(m[2], "''", "'")
	}
	return homes, comments, nil
}

// sameComments are the extensions of comments (name: the comment the dump gives it) that are there with
// that comment: the restore keeps them, and leaves out their COMMENT ON EXTENSION (see filterTOC). One a
// migration commented on (which takes the privileges of its owner) gets the dump's comment back, and so
// does one that went, which the dump's CREATE EXTENSION creates again owned by the restoring role.
func (p *PGDump) sameComments(ctx context.Context, comments map[string]string) ([]string, error) {
	if len(comments) == 0 {
		return nil, nil
	}
	names := slices.Sorted(maps.Keys(comments))
	texts := make([]string, len(names))
	for i, n := range names {
		texts[i] = comments[n]
	}
	c, err := connect(ctx, p.URL)
	if err != nil {
		return nil, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	rows, err := c.Query(ctx, `
		SELECT e.extname::text FROM pg_extension e JOIN unnest($1::text[], $2::text[]) AS x(name, comment) ON x.name = e.extname
		 WHERE obj_description(e.oid, 'pg_extension') IS NOT DISTINCT FROM x.comment ORDER BY 1`, names, texts)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// schemaEntry returns the schema and owner of a pg_restore --list line that creates one of the schemas
// names ("9; 2615 16433 SCHEMA - ext postgres": names and owner unquoted, so the longest name that
// starts the rest wins), and whether it is one.
func schemaEntry(line string, names []string) (schema, owner string, ok bool) {
	f := strings.Fields(line)
	if len(f) < 6 || strings.HasPrefix(f[0], ";") || f[3] != "SCHEMA" || f[4] != "-" {
		return "", "", false
	}
	_, rest, _ := strings.Cut(line, " SCHEMA - ")
	for _, n := range names {
		if strings.HasPrefix(rest, n+" ") && len(n) > len(schema) {
			schema, owner, ok = n, strings.TrimSpace(rest[len(n)+1:]), true
		}
	}
	return schema, owner, ok
}

// extensionSchemas are the schemas, besides public and the excluded ones, that the clear keeps and
// empties object by object, because one of the extensions named dumped (those the dump holds, which
// stay through the restore) is in them or owns them:
//   - one an extension was in when the snapshot was taken (homes, see extensionHomes: CREATE EXTENSION
//     pg_trgm SCHEMA ext): dropping the schema took the extension with it, and the dump's CREATE
//     EXTENSION, which names no version, created it again at the newest version, owned by the restoring
//     role. pg_dump writes the schema's CREATE SCHEMA, which the restore leaves out (filterTOC). The
//     schema the extension is in now does not count: the clear moves back one a migration moved, and the
//     schema it was moved to goes like any other (or stays, when it is one of these).
//   - one an extension owns (pg_depend deptype 'e': pg_cron's cron, postgis_topology's topology,
//     TimescaleDB's): the server refuses to drop it without its extension. pg_dump writes no CREATE
//     SCHEMA for it, only its objects that are not the extension's.
func (p *PGDump) extensionSchemas(ctx context.Context, dumped []string, homes map[string]string) ([]string, error) {
	c, err := connect(ctx, p.URL)
	if err != nil {
		return nil, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	rows, err := c.Query(ctx, `
		SELECT n.nspname FROM pg_namespace n
		 WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname NOT IN ('information_schema', 'public') AND NOT n.nspname = ANY ($2::text[])
		   AND EXISTS (SELECT 1 FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
		                WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.refclassid = 'pg_extension'::regclass
		                  AND d.deptype = 'e' AND e.extname = ANY ($1::text[]))`, dumped, append([]string{}, p.ExcludeSchemas...))
	if err != nil {
		return nil, err
	}
	owned, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	for _, n := range homes {
		if !strings.HasPrefix(n, "pg_") && n != "information_schema" && n != "public" && !slices.Contains(p.ExcludeSchemas, n) && !slices.Contains(owned, n) {
			owned = append(owned, n)
		}
	}
	slices.Sort(owned)
	return owned, nil
}

// clearScript is the SQL that opens the restore's transaction and drops what the dump recreates and what
// was created after the snapshot: event triggers (first, so that none runs during the drops), extensions
// the dump does not hold, every schema but public (unless public is false: the snapshot's database had
// none), the excluded ones and owned (those of extensions the dump holds: see extensionSchemas), and, in
// public, owned and outside schemas, every object kind pg_dump writes that no extension owns (relations, routines, types,
// collations, conversions, operators, operator classes and families, text search objects, statistics
// objects, casts, languages, access methods, transforms, foreign-data wrappers and servers with their user
// mappings, publications) and the large objects. The objects are found through the catalogs and dropped
// with pg_identify_object's names, one at a time after checking they are still there (a cascade may have
// taken them). Whatever it misses makes pg_restore fail on "already exists", which rolls everything back.
//
// Before it drops the schemas, it creates public again when a migration dropped it and the snapshot's
// database had it (see publicAsInitdb), and moves back each extension the dump holds that a migration moved to
// another schema (ALTER EXTENSION ... SET SCHEMA) to the one of homes it was in (see extensionHomes),
// creating that schema when it went: the dump's CREATE EXTENSION IF NOT EXISTS would leave it where it
// is, and the objects that refer to it by that schema (a column of type ext.hstore) would fail. It also
// creates again a schema of homes that went with its extension (DROP SCHEMA ext CASCADE), whose CREATE
// SCHEMA the restore leaves out (see filterTOC): the dump's CREATE EXTENSION, and all it held there,
// failed (schema "ext" does not exist). Its owner, comment and grants are then set back as those of the
// other schemas it keeps.
//
// The extensions the dump holds stay, and with them their configuration tables (pg_extension_config_dump:
// pg_cron's cron.job, pg_partman's part_config, PostGIS's spatial_ref_sys), whose rows the dump holds
// as far as their condition selects them (the users' rows, not those the extension's script inserts): the
// clear deletes those rows (the tables' last first: a later one may refer to an earlier one), for the
// tables whose data the dump has (not those in excluded schemas). Their COPY would otherwise add to the
// rows still there, and fail on the first key that is.
//
// The schemas it keeps (public, those an extension owns or is in) get back the owner, comment and grants
// states records of them (Info.KeptSchemas, see keptStates), where they differ, and the restore leaves
// out the dump's comment and grants of them: the dump writes the grants of public and of the schemas
// extensions own as changes from the initial ones (pg_init_privs) and revokes nothing else, so a grant a
// migration made there stayed, and replaying its entries takes the privileges of the schema's owner,
// which the deploy role lacks where an admin owns a schema of extensions. Only the grants that differ
// are revoked (CASCADE takes those made on the strength of a grant option) and made again, each by its
// grantor: the owner, or a role the owner gave the grant option (SET ROLE). So a schema nothing changed
// needs nothing of its owner. This comes before the dump creates any object there, which the grants of
// its owner may be needed for.
//
// The schemas of owned without a state (a manifest of an older release) whose CREATE SCHEMA the dump
// holds (and the restore leaves out: see filterTOC) get back what that entry and those after it set from
// the defaults: their comment goes (the dump's COMMENT puts the snapshot's back), their grants go back
// to the owner's default ones (the dump's GRANT and REVOKE start from those) and the owner is the dump's
// again.
func (p *PGDump) clearScript(toc string, owned []string, homes map[string]string, states []SchemaState, public bool) (string, error) {
	dumped := dumpedExtensions(toc)
	extnames := slices.Sorted(maps.Keys(homes))
	exthomes := make([]string, len(extnames))
	for i, e := range extnames {
		exthomes[i] = homes[e]
	}
	kept := keptStates(states, owned, public)
	stated := stateNames(kept)
	var data, reset, owners []string
	for _, line := range strings.Split(toc, "\n") {
		if n, owner, ok := schemaEntry(line, owned); ok && !slices.Contains(stated, n) {
			reset, owners = append(reset, n), append(owners, owner)
		}
		f := strings.Fields(line)
		// "3242; 0 22634 TABLE DATA public job postgres": schema, table and owner, unquoted.
		if _, rest, ok := strings.Cut(line, " TABLE DATA "); ok && len(f) >= 7 && f[3] == "TABLE" && f[4] == "DATA" {
			data = append(data, rest+" ")
		}
	}
	// The schemas the clear empties object by object instead of dropping them.
	cleared := slices.Clone(owned)
	if public {
		cleared = append(cleared, "public")
	}
	keep := slices.Concat(cleared, p.ExcludeSchemas)
	createPublic := ""
	switch {
	case public && slices.Contains(stated, "public"):
		// The manifest's owner, comment and grants of public follow (see the states below): made
		// as initdb makes it, it took acting as its owner then (pg_database_owner, or the bootstrap
		// superuser before 15), which a deploy role that owns public without owning the database
		// cannot.
		createPublic = `IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public') THEN
    CREATE SCHEMA public;
  END IF;`
	case public:
		createPublic = publicAsInitdb // a manifest of an older release: the dump's entries follow
	}
	if kept == nil {
		kept = []SchemaState{}
	}
	keptJSON, err := json.Marshal(kept)
	if err != nil {
		return "", err
	}
	const tag = "$schemagate_clear$"
	for _, n := range slices.Concat(dumped, keep, data, owners, exthomes, []string{string(keptJSON)}) {
		if strings.Contains(n, tag) {
			return "", fmt.Errorf("name %q holds %s", n, tag)
		}
	}
	// The clear names pg_catalog's relations, types and functions unqualified: under pg_catalog's search
	// path, which the database's or the role's (ALTER DATABASE ... SET search_path = public, pg_catalog,
	// then a public.pg_namespace) would otherwise replace (the dump's SQL after it sets its own).
	return fmt.Sprintf(`SET client_min_messages = warning;
SET standard_conforming_strings = on;
SET search_path = pg_catalog, pg_temp;
BEGIN;
DO %[1]s
DECLARE
  keep text[] := %[2]s;
  dumped text[] := %[3]s;
  data text[] := %[4]s;
  cleared text[] := %[5]s;
  reset text[] := %[6]s;
  owners text[] := %[7]s;
  extnames text[] := %[8]s;
  exthomes text[] := %[9]s;
  states jsonb := '%[11]s';
  ns oid[];
  prev text;
  r record;
  o record;
  present boolean;
BEGIN
  FOR r IN SELECT evtname FROM pg_event_trigger e
            WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_event_trigger'::regclass AND d.objid = e.oid AND d.deptype = 'e') LOOP
    EXECUTE format('DROP EVENT TRIGGER IF EXISTS %%I CASCADE', r.evtname);
  END LOOP;
  FOR r IN SELECT format_type(t.trftype, NULL) AS typ, l.lanname FROM pg_transform t JOIN pg_language l ON l.oid = t.trflang
            WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_transform'::regclass AND d.objid = t.oid AND d.deptype = 'e') LOOP
    EXECUTE format('DROP TRANSFORM IF EXISTS FOR %%s LANGUAGE %%I CASCADE', r.typ, r.lanname);
  END LOOP;
  FOR r IN SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' AND NOT extname = ANY (dumped) LOOP
    EXECUTE format('DROP EXTENSION IF EXISTS %%I CASCADE', r.extname);
  END LOOP;
  %[10]s
  FOR r IN SELECT x.extname, x.home FROM unnest(extnames, exthomes) AS x(extname, home) JOIN pg_extension e ON e.extname = x.extname
            WHERE e.extnamespace IS DISTINCT FROM (SELECT oid FROM pg_namespace WHERE nspname = x.home) LOOP
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %%I', r.home);
    EXECUTE format('ALTER EXTENSION %%I SET SCHEMA %%I', r.extname, r.home);
  END LOOP;
  FOR r IN SELECT DISTINCT x.home FROM unnest(exthomes) AS x(home)
            WHERE x.home = ANY (cleared) AND NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = x.home) LOOP
    EXECUTE format('CREATE SCHEMA %%I', r.home);
  END LOOP;
  FOR r IN SELECT nspname FROM pg_namespace
            WHERE nspname NOT LIKE 'pg\_%%' AND nspname <> 'information_schema' AND NOT nspname = ANY (keep) LOOP
    EXECUTE format('DROP SCHEMA IF EXISTS %%I CASCADE', r.nspname);
  END LOOP;
  ns := ARRAY(SELECT oid FROM pg_namespace WHERE nspname = ANY (cleared));
  FOR r IN SELECT n.nspname, a.grantee FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a
            WHERE n.nspname = ANY (reset) AND a.grantee <> n.nspowner GROUP BY 1, 2 ORDER BY 1, 2 LOOP
    EXECUTE format('REVOKE ALL ON SCHEMA %%I FROM %%s CASCADE', r.nspname,
                   CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END);
  END LOOP;
  FOR r IN SELECT x.nspname, x.owner, n.nspacl IS NOT NULL AS granted
             FROM unnest(reset, owners) AS x(nspname, owner) JOIN pg_namespace n ON n.nspname = x.nspname LOOP
    IF r.granted THEN
      EXECUTE format('GRANT ALL ON SCHEMA %%I TO %%I', r.nspname, (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = r.nspname));
    END IF;
    EXECUTE format('COMMENT ON SCHEMA %%I IS NULL', r.nspname);
    EXECUTE format('ALTER SCHEMA %%I OWNER TO %%I', r.nspname, r.owner);
  END LOOP;
  FOR r IN SELECT x.name, x.owner, x.comment, x.acl, n.oid FROM jsonb_to_recordset(states) AS x(name text, owner text, comment text, acl text[])
             JOIN pg_namespace n ON n.nspname = x.name LOOP
    IF pg_get_userbyid((SELECT nspowner FROM pg_namespace WHERE oid = r.oid)) <> r.owner THEN
      EXECUTE format('ALTER SCHEMA %%I OWNER TO %%I', r.name, r.owner);
    END IF;
    IF obj_description(r.oid, 'pg_namespace') IS DISTINCT FROM r.comment THEN
      EXECUTE format('COMMENT ON SCHEMA %%I IS %%L', r.name, r.comment);
    END IF;
    CONTINUE WHEN ARRAY(SELECT a FROM unnest(r.acl) a ORDER BY 1) =
      ARRAY(SELECT a::text FROM pg_namespace n, unnest(coalesce(n.nspacl, acldefault('n', n.nspowner))) a WHERE n.oid = r.oid ORDER BY 1);
    -- Only the grants that differ are revoked and made, each by its grantor: the owner, or a role the
    -- owner gave the grant option, acted as by SET ROLE unless it is the restoring role (or the owner
    -- and the restoring role a superuser, whose grants PostgreSQL records as the owner's). The restoring
    -- role need not act as the owner of a schema whose grants only a role with the grant option changed
    -- (an admin's schema of extensions where the deploy role may grant USAGE). CASCADE takes the grants
    -- made on the strength of a grant option revoked; a grant already gone with one is skipped.
    prev := current_setting('role');
    FOR o IN SELECT a.grantor, a.grantee, a.privilege_type, a.is_grantable,
                    EXISTS (SELECT 1 FROM aclexplode(r.acl::aclitem[]) w
                             WHERE (w.grantor, w.grantee, w.privilege_type) = (a.grantor, a.grantee, a.privilege_type)) AS option_only
               FROM pg_namespace n CROSS JOIN LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
              WHERE n.oid = r.oid
                AND NOT EXISTS (SELECT 1 FROM aclexplode(r.acl::aclitem[]) w
                                 WHERE (w.grantor, w.grantee, w.privilege_type, w.is_grantable) = (a.grantor, a.grantee, a.privilege_type, a.is_grantable)) LOOP
      CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_namespace n CROSS JOIN LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
                                 WHERE n.oid = r.oid AND (a.grantor, a.grantee, a.privilege_type) = (o.grantor, o.grantee, o.privilege_type));
      PERFORM set_config('role', CASE WHEN o.grantor = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                                        OR o.grantor = (SELECT nspowner FROM pg_namespace WHERE oid = r.oid) AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                                      THEN prev ELSE pg_get_userbyid(o.grantor) END, true);
      -- A grant that the snapshot has without the grant option loses only the option.
      EXECUTE format('REVOKE %%s%%s ON SCHEMA %%I FROM %%s CASCADE', CASE WHEN o.option_only THEN 'GRANT OPTION FOR ' ELSE '' END, o.privilege_type, r.name,
                     CASE WHEN o.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(o.grantee)) END);
      PERFORM set_config('role', prev, true);
    END LOOP;
    FOR o IN SELECT a.grantor, a.grantee, a.privilege_type, a.is_grantable, x.ord
               FROM unnest(r.acl::aclitem[]) WITH ORDINALITY AS x(item, ord) CROSS JOIN LATERAL aclexplode(ARRAY[x.item]) a
              ORDER BY x.ord, a.privilege_type LOOP
      CONTINUE WHEN EXISTS (SELECT 1 FROM pg_namespace n CROSS JOIN LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) c
                             WHERE n.oid = r.oid
                               AND (c.grantor, c.grantee, c.privilege_type, c.is_grantable) = (o.grantor, o.grantee, o.privilege_type, o.is_grantable));
      PERFORM set_config('role', CASE WHEN o.grantor = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                                        OR o.grantor = (SELECT nspowner FROM pg_namespace WHERE oid = r.oid) AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                                      THEN prev ELSE pg_get_userbyid(o.grantor) END, true);
      EXECUTE format('GRANT %%s ON SCHEMA %%I TO %%s%%s', o.privilege_type, r.name,
                     CASE WHEN o.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(o.grantee)) END,
                     CASE WHEN o.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
      PERFORM set_config('role', prev, true);
    END LOOP;
  END LOOP;
  FOR r IN
    SELECT s.c, s.o FROM (
      SELECT 1 AS ord, 'pg_class'::regclass AS c, oid AS o FROM pg_class
       WHERE relnamespace = ANY (ns) AND relkind IN ('r','p','v','m','f')
      UNION ALL SELECT 2, 'pg_class'::regclass, oid FROM pg_class WHERE relnamespace = ANY (ns) AND relkind = 'S'
      UNION ALL SELECT 3, 'pg_proc'::regclass, oid FROM pg_proc WHERE pronamespace = ANY (ns)
      UNION ALL SELECT 4, 'pg_type'::regclass, t.oid FROM pg_type t
       WHERE t.typnamespace = ANY (ns) AND t.typtype IN ('b','c','d','e','r','m','p')
         AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
         AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)
      UNION ALL SELECT 5, 'pg_collation'::regclass, oid FROM pg_collation WHERE collnamespace = ANY (ns)
      UNION ALL SELECT 5, 'pg_conversion'::regclass, oid FROM pg_conversion WHERE connamespace = ANY (ns)
      UNION ALL SELECT 5, 'pg_operator'::regclass, oid FROM pg_operator WHERE oprnamespace = ANY (ns)
      UNION ALL SELECT 5, 'pg_opfamily'::regclass, oid FROM pg_opfamily WHERE opfnamespace = ANY (ns)
      UNION ALL SELECT 5, 'pg_opclass'::regclass, oid FROM pg_opclass WHERE opcnamespace = ANY (ns)
      UNION ALL SELECT 5, 'pg_ts_config'::regclass, oid FROM pg_ts_config WHERE cfgnamespace = ANY (ns)
      UNION ALL SELECT 5, 'pg_ts_dict'::regclass, oid FROM pg_ts_dict WHERE dictnamespace = ANY (ns)
      UNION ALL SELECT 5, 'pg_ts_parser'::regclass, oid FROM pg_ts_parser WHERE prsnamespace = ANY (ns)
      UNION ALL SELECT 5, 'pg_ts_template'::regclass, oid FROM pg_ts_template WHERE tmplnamespace = ANY (ns)
      UNION ALL SELECT 5, 'pg_statistic_ext'::regclass, oid FROM pg_statistic_ext WHERE stxnamespace = ANY (ns)
      UNION ALL SELECT 6, 'pg_publication'::regclass, oid FROM pg_publication
      UNION ALL SELECT 6, 'pg_cast'::regclass, oid FROM pg_cast WHERE oid >= 16384
      UNION ALL SELECT 7, 'pg_foreign_server'::regclass, oid FROM pg_foreign_server
      UNION ALL SELECT 8, 'pg_foreign_data_wrapper'::regclass, oid FROM pg_foreign_data_wrapper
      UNION ALL SELECT 8, 'pg_language'::regclass, oid FROM pg_language WHERE oid >= 16384
      UNION ALL SELECT 8, 'pg_am'::regclass, oid FROM pg_am WHERE oid >= 16384
    ) s
    WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = s.c AND d.objid = s.o AND d.deptype = 'e')
    ORDER BY s.ord, s.o
  LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %%s WHERE oid = $1)', r.c) INTO present USING r.o;
    CONTINUE WHEN NOT present;
    SELECT * INTO o FROM pg_identify_object(r.c, r.o, 0);
    EXECUTE format('DROP %%s IF EXISTS %%s CASCADE',
      CASE o.type WHEN 'foreign-data wrapper' THEN 'FOREIGN DATA WRAPPER' WHEN 'statistics object' THEN 'STATISTICS'
                  ELSE upper(o.type) END, o.identity);
  END LOOP;
  PERFORM lo_unlink(oid) FROM pg_largeobject_metadata;
  FOR r IN SELECT x.rel, x.cond FROM pg_extension e
             CROSS JOIN LATERAL unnest(e.extconfig, e.extcondition) WITH ORDINALITY AS x(rel, cond, ord)
             JOIN pg_class c ON c.oid = x.rel JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE e.extname = ANY (dumped) AND c.relkind = 'r'
              AND EXISTS (SELECT 1 FROM unnest(data) d WHERE starts_with(d, n.nspname || ' ' || c.relname || ' '))
            ORDER BY e.oid, x.ord DESC LOOP
    EXECUTE format('DELETE FROM ONLY %%s %%s', r.rel::regclass, coalesce(r.cond, ''));
  END LOOP;
END
%[1]s;
`, tag, sqlArray(keep), sqlArray(dumped), sqlArray(data), sqlArray(cleared), sqlArray(reset), sqlArray(owners), sqlArray(extnames), sqlArray(exthomes), createPublic, strings.ReplaceAll(string(keptJSON), "'", "''")), nil
}

// keptStates are the states of states (Info.KeptSchemas) of the schemas the clear keeps: owned (see
// extensionSchemas) and public, unless public is false (the snapshot's database had none). The clear
// sets those schemas back to them, and the restore leaves out the dump's comment and grants of each
// (see filterTOC). A schema the clear keeps without a state (a manifest of an older release) is reset
// to the defaults the dump's entries start from instead.
func keptStates(states []SchemaState, owned []string, public bool) []SchemaState {
	var kept []SchemaState
	for _, st := range states {
		if slices.Contains(owned, st.Name) || public && st.Name == "public" {
			kept = append(kept, st)
		}
	}
	return kept
}

// stateNames are the names of the schemas of states.
func stateNames(states []SchemaState) []string {
	names := make([]string, len(states))
	for i, st := range states {
		names[i] = st.Name
	}
	return names
}

// publicAsInitdb is the clear's PL/pgSQL that creates schema public again, when a migration dropped it,
// as initdb leaves it, from which pg_dump writes what the snapshot's differed by: owned by
// pg_database_owner (from PostgreSQL 15; the bootstrap superuser before), its comment "standard public
// schema" and its grants those of the owner and USAGE to PUBLIC (USAGE and CREATE before 15), granted by
// the owner. The snapshot's owner, comment and grants then come back from its manifest (see clearScript)
// or, for a manifest of an older release, from the dump's SCHEMA, COMMENT and ACL entries; without it, the dump's first object in public failed (schema "public" does not
// exist) and the restore with it. The server drops public's pg_init_privs row with the schema, which does
// not come back: the next snapshot's dump writes public's grants from the owner's defaults instead.
const publicAsInitdb = `IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public') THEN
    CREATE SCHEMA public;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pg_database_owner') THEN
      ALTER SCHEMA public OWNER TO pg_database_owner;
      GRANT USAGE ON SCHEMA public TO PUBLIC;
    ELSE
      EXECUTE format('ALTER SCHEMA public OWNER TO %I', (SELECT rolname FROM pg_roles WHERE oid = 10));
      GRANT USAGE, CREATE ON SCHEMA public TO PUBLIC;
    END IF;
    COMMENT ON SCHEMA public IS 'standard public schema';
  END IF;`

// sqlArray is a text[] literal of names (standard_conforming_strings on).
func sqlArray(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + strings.ReplaceAll(n, "'", "''") + "'"
	}
	return "ARRAY[" + strings.Join(q, ", ") + "]::text[]"
}

// toc returns the dump's table of contents (pg_restore --list of client cl).
func (p *PGDump) toc(ctx context.Context, cl Client, path string) (string, error) {
	out, err := run(ctx, nil, cl.Tool("pg_restore"), "--list", path)
	if err != nil {
		if ctx.Err() != nil {
			return "", &Error{Op: "list snapshot", Err: ctx.Err()}
		}
		return "", &Error{Op: "list snapshot", Err: fmt.Errorf("%w: %s", err, out), Hint: "the dump is unreadable; do not rely on it"}
	}
	return out, nil
}

func (p *PGDump) list(ctx context.Context, cl Client, loc string) error {
	toc, err := p.toc(ctx, cl, p.dumpPath(loc))
	if err != nil {
		return err
	}
	if !strings.Contains(toc, "Archive created at") {
		return &Error{Op: "list snapshot", Err: errors.New("pg_restore --list printed no archive header")}
	}
	return nil
}

// describe fills the database name, server, server version, whether public is missing and the state of
// the schemas the restore keeps (Info.KeptSchemas: public, those an extension owns and those an
// extension is in), and returns the server's major version.
func (p *PGDump) describe(ctx context.Context, info *Info) (int, error) {
	c, err := connect(ctx, p.URL)
	if err != nil {
		return 0, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	var num int
	if err := c.QueryRow(ctx, `SELECT current_database(), current_setting('server_version'), current_setting('server_version_num')::int,
		NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public')`).Scan(&info.Database, &info.ServerVersion, &num, &info.NoPublicSchema); err != nil {
		return 0, err
	}
	rows, err := c.Query(ctx, `
		SELECT n.nspname, pg_get_userbyid(n.nspowner), obj_description(n.oid, 'pg_namespace'), coalesce(n.nspacl, acldefault('n', n.nspowner))::text[]
		  FROM pg_namespace n
		 WHERE (n.nspname = 'public' OR EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid
		                                          AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e')
		        OR EXISTS (SELECT 1 FROM pg_extension e WHERE e.extnamespace = n.oid))
		   AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema' AND NOT n.nspname = ANY ($1::text[])
		 ORDER BY 1`, append([]string{}, p.ExcludeSchemas...))
	if err != nil {
		return 0, err
	}
	info.KeptSchemas, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (SchemaState, error) {
		var st SchemaState
		err := r.Scan(&st.Name, &st.Owner, &st.Comment, &st.ACL)
		return st, err
	})
	if err != nil {
		return 0, err
	}
	// pg_control_system() is for superusers and pg_monitor members unless granted: a role that may not
	// call it names the server by the URL's host and port.
	if err := c.QueryRow(ctx, `SELECT system_identifier::text FROM pg_control_system()`).Scan(&info.Server); err != nil {
		cfg := c.Config()
		info.Server = fmt.Sprintf("%s:%d", cfg.Host, cfg.Port)
	}
	return num / 10000, nil
}

// serverMajor is the major version of the server (17 for 17.6).
func (p *PGDump) serverMajor(ctx context.Context) (int, error) {
	c, err := connect(ctx, p.URL)
	if err != nil {
		return 0, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	var num int
	err = c.QueryRow(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&num)
	return num / 10000, err
}

// user is the role of the database URL ("" when it names none).
func (p *PGDump) user() string {
	cfg, err := pgx.ParseConfig(p.URL)
	if err != nil {
		return ""
	}
	return cfg.User
}

// quotePattern makes a name a pg_dump pattern that matches it alone: in double quotes, case is kept and
// the pattern characters (*, ?, .) are literal.
func quotePattern(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// keepalives returns the -c options of the server's TCP keepalive settings that the sessions of pg_dump
// and psql get (pg.KeepalivesToSet), read from a session connected as they are: should the deploy's host
// die while they hold their locks, the server ends them within about two minutes instead of the kernel's
// defaults (2h11m on Linux), which would block the next deploy, or the application, for as long. The
// settings the server gives them lower already are left out, so that they stay; "" on a Unix socket.
func (p *PGDump) keepalives(ctx context.Context) (string, error) {
	c, err := connect(ctx, p.URL)
	if err != nil {
		return "", err
	}
	defer c.Close(context.WithoutCancel(ctx))
	var opts string
	err = c.QueryRow(ctx, pg.KeepaliveOptions).Scan(&opts)
	return opts, err
}

// dsnPassword is the password setting of a keyword/value connection string, quoted or not.
var dsnPassword = regexp.MustCompile(`(^|\s)password\s*=\s*('(\\.|[^'\\])*'|\S*)\s*`)

// dsnOptions is the options setting of a keyword/value connection string, quoted (group 2) or not (group 3).
var dsnOptions = regexp.MustCompile(`(^|\s)options\s*=\s*(?:'((?:\\.|[^'\\])*)'|((?:\\.|[^\s'\\])*))\s*`)

// dsnEscape matches a backslash escape of a keyword/value connection string's value.
var dsnEscape = regexp.MustCompile(`\\(.)`)

// connArgs returns the connection string for the tools without its password, and the environment that
// carries the password: a command line can be read by every user of the machine (ps), the environment
// cannot. The password may sit in the user part or the query of a URL, or in a keyword/value string.
//
// opts (-c options, "" for none) go in front of the session's options, so that the user's own, which
// follow, win: in the connection string's options when it has some, which libpq then takes instead of
// PGOPTIONS, or else in PGOPTIONS, in front of the one schemagate's environment has.
func (p *PGDump) connArgs(opts string) (string, []string) {
	conn, env := p.withoutPassword()
	if opts == "" {
		return conn, env
	}
	if own, has, with := connOptions(conn); has {
		return with(strings.TrimSpace(opts + " " + own)), env
	}
	return conn, append(env, "PGOPTIONS="+strings.TrimSpace(opts+" "+os.Getenv("PGOPTIONS")))
}

// connOptions returns the options of conn (a URL or keyword/value pairs; the last, which libpq takes,
// when given twice), whether it has any, and conn with its options set to another value.
func connOptions(conn string) (own string, has bool, with func(string) string) {
	if isURL(conn) {
		u, err := url.Parse(conn)
		if err != nil {
			return "", false, func(string) string { return conn }
		}
		q := u.Query()
		if vals := q["options"]; len(vals) > 0 {
			own, has = vals[len(vals)-1], true
		}
		return own, has, func(v string) string {
			q["options"] = []string{v}
			// libpq decodes %XX in a URL's query but takes + for itself: spaces go as %20.
			u.RawQuery = EncodeQuery(q)
			return u.String()
		}
	}
	rest := conn
	if ms := dsnOptions.FindAllStringSubmatch(conn, -1); ms != nil {
		last := ms[len(ms)-1]
		own, has, rest = dsnEscape.ReplaceAllString(last[2]+last[3], "$1"), true, dsnOptions.ReplaceAllString(conn, "$1")
	}
	return own, has, func(v string) string {
		v = strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v)
		return strings.TrimSpace(strings.TrimSpace(rest) + " options='" + v + "'")
	}
}

// WithSessionOptions returns a copy of p whose sessions (pg_dump's, psql's and its own connections') get
// opts (-c settings) after their own options, so that opts win: after the connection string's options
// when it has some, else after PGOPTIONS, which libpq and pgx no longer read once the string has options
// (a PGOPTIONS of -c role=owner, which a restore needs, would otherwise be lost). p itself is left as it is.
func (p *PGDump) WithSessionOptions(opts string) *PGDump {
	c := *p
	c.URL = appendOptions(p.URL, opts, os.Getenv("PGOPTIONS"))
	return &c
}

// appendOptions puts opts after the options of conn (a URL or keyword/value pairs), or after env (the
// PGOPTIONS libpq would take) when conn has none.
func appendOptions(conn, opts, env string) string {
	if opts == "" {
		return conn
	}
	own, has, with := connOptions(conn)
	if !has {
		own = env
	}
	return with(strings.TrimSpace(own + " " + opts))
}

func isURL(conn string) bool {
	return strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://")
}

// withoutPassword returns the connection string without its password, and PGPASSWORD with it.
func (p *PGDump) withoutPassword() (string, []string) {
	cfg, err := pgx.ParseConfig(p.URL)
	if err != nil || cfg.Password == "" {
		return p.URL, nil
	}
	env := []string{"PGPASSWORD=" + cfg.Password}
	if !isURL(p.URL) {
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
		u.RawQuery = EncodeQuery(q)
	}
	return u.String(), env
}

// EncodeQuery encodes the query of a connection URL for libpq (pg_dump, pg_restore, psql), sorted by
// key: libpq decodes %XX in a URL's query but not "+", which url.Values.Encode writes for a space, so
// options=-c%20statement_timeout%3D0 would reach the server as "-c+statement_timeout=0".
func EncodeQuery(q url.Values) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(q)) {
		for _, v := range q[k] {
			parts = append(parts, queryEscape(k)+"="+queryEscape(v))
		}
	}
	return strings.Join(parts, "&")
}

func queryEscape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

func run(ctx context.Context, env []string, bin string, args ...string) (string, error) {
	// It runs in a process group of its own (proc.Group), with the parallel workers pg_dump forks: all of
	// them end at once when ctx does (a signal), and when schemagate dies. A pg_dump worker left running
	// would hold the dump's snapshot, and its locks on every table it dumps, on the database, and kept
	// the deploy waiting, maintenance mode on, until it had dumped its table.
	cmd := proc.Group(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := proc.Run(cmd)
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

func writeManifest(info *Info) error { return writeInfo(info, ManifestFile) }

// writeInfo writes info as JSON into file name of its folder.
func writeInfo(info *Info, name string) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(info.Location, name), append(b, '\n'), 0o600)
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

// retain removes snapshots of the database of cur, the one just taken (which it keeps), beyond the
// retention. Other databases' snapshots, in the same folder when several services share it, are theirs
// to remove: they neither count nor go, and neither do those whose manifest does not say which server
// they come from (older releases wrote none), which could be another database's. Held ones stay (see
// Hold), and a note says why when the retention would have removed them.
//
// It also removes, retention or not, the folders of this database's snapshots that their run never
// finished (TakingFile and no manifest: the run was killed while dumping), of another run than cur's:
// Snapshot runs under the database's deploy lock, so no other run of this database is taking one now.
// A folder without either file cannot be told from another database's, or one being written by a run
// of another database: it stays.
func (p *PGDump) retain(cur *Info) error {
	p.notes = nil
	entries, err := os.ReadDir(p.Dir)
	if err != nil {
		return fmt.Errorf("list snapshots: %w", err)
	}
	var all []*Info
	var errs []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		loc := filepath.Join(p.Dir, e.Name())
		info, err := ReadManifest(loc)
		if errors.Is(err, ErrNotFound) {
			errs = append(errs, p.leftover(cur, loc))
			continue
		}
		if err != nil {
			continue // not ours, or half-written: leave it alone
		}
		if cur.Server == "" || info.Server != cur.Server || info.Database != cur.Database {
			continue // another database's, or one that cannot tell
		}
		all = append(all, info)
	}
	if p.Keep <= 0 && p.KeepDays <= 0 {
		return errors.Join(errs...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Time.After(all[j].Time) })
	cutoff := p.now().Add(-time.Duration(p.KeepDays) * 24 * time.Hour)
	for i, info := range all {
		if info.ID == cur.ID || filepath.Base(info.Location) == cur.ID {
			continue
		}
		old := p.KeepDays > 0 && info.Time.Before(cutoff)
		many := p.Keep > 0 && i >= p.Keep
		if !old && !many {
			continue
		}
		if why, held := p.held(info); held {
			if why != "" {
				p.notes = append(p.notes, fmt.Sprintf("kept snapshot %s beyond the retention: %s", info.Location, why))
			}
			continue
		}
		p.logger().Info("remove old snapshot", "location", info.Location, "time", info.Time)
		if err := os.RemoveAll(info.Location); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// held tells whether info's snapshot is held (Pin, Hold), and why.
func (p *PGDump) held(info *Info) (string, bool) {
	for _, id := range []string{info.ID, filepath.Base(info.Location)} {
		if why, ok := p.pinned[id]; ok {
			return why, true
		}
	}
	return "", false
}

// leftover removes the folder loc, which holds no manifest, when its TakingFile says it is a snapshot of
// cur's database that another run began and never finished (see retain), and notes it.
func (p *PGDump) leftover(cur *Info, loc string) error {
	b, err := os.ReadFile(filepath.Join(loc, TakingFile))
	if err != nil {
		return nil // not a snapshot this release began: it cannot be told whose it is
	}
	var info Info
	if json.Unmarshal(b, &info) != nil || cur.Server == "" || info.Server != cur.Server || info.Database != cur.Database ||
		info.RunID == cur.RunID || info.ID == cur.ID || filepath.Base(loc) == cur.ID {
		return nil
	}
	if _, held := p.held(&info); held {
		return nil
	}
	p.logger().Info("remove unfinished snapshot", "location", loc, "run", info.RunID)
	if err := os.RemoveAll(loc); err != nil {
		return fmt.Errorf("remove unfinished snapshot %s: %w", loc, err)
	}
	p.notes = append(p.notes, fmt.Sprintf("removed %s, the snapshot run %s began at %s and never finished (no %s: the run died while taking it)",
		loc, info.RunID, info.Time.UTC().Format(time.RFC3339), ManifestFile))
	return nil
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
