package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/schemagate/schemagate/internal/proc"
)

// DebianClientRoot is where Debian and Ubuntu install the client programs of each PostgreSQL major
// version (postgresql-client-<major>): <root>/<major>/bin.
const DebianClientRoot = "/usr/lib/postgresql"

// clientTools are the programs a snapshot and its restore run, which must all come from one folder: a
// pg_restore reads the archives of a pg_dump of its own major version or older, and writes SQL for the
// server of its own.
var clientTools = []string{"pg_dump", "pg_restore", "psql"}

// Client is a folder holding pg_dump, pg_restore and psql of one PostgreSQL major version.
type Client struct {
	// Dir is the folder.
	Dir string
	// Major is their major version (15, 16, 17, ...).
	Major int
}

// Tool is the path of the program name in the client's folder.
func (c Client) Tool(name string) string { return filepath.Join(c.Dir, name) }

// hasTools tells whether dir holds every program of clientTools.
func hasTools(dir string) bool {
	for _, name := range clientTools {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() {
			return false
		}
	}
	return true
}

// ClientsUnder lists the clients of the Debian layout under root (<root>/<major>/bin holding pg_dump,
// pg_restore and psql), by major version. A folder that lacks one of them, or whose name is no version,
// is left out.
func ClientsUnder(root string) []Client {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var out []Client
	for _, e := range entries {
		major, err := strconv.Atoi(e.Name())
		if err != nil || major <= 0 {
			continue
		}
		dir := filepath.Join(root, e.Name(), "bin")
		if hasTools(dir) {
			out = append(out, Client{Dir: dir, Major: major})
		}
	}
	slices.SortFunc(out, func(a, b Client) int { return a.Major - b.Major })
	return out
}

// ChooseClient returns the client for a server of major version server: the lowest major that is at
// least the server's, so an exact match when there is one. pg_dump refuses a server newer than itself,
// and a newer client's SQL may not load into an older server (pg_restore 17 writes SET
// transaction_timeout, which PostgreSQL 16 rejects, ending the restore). Among clients of the same
// major the first listed wins. With none new enough, it returns a *NoClientError.
func ChooseClient(clients []Client, server int) (Client, error) {
	best := -1
	for i, c := range clients {
		if c.Major >= server && (best < 0 || c.Major < clients[best].Major) {
			best = i
		}
	}
	if best < 0 {
		return Client{}, &NoClientError{Server: server, Found: clients}
	}
	return clients[best], nil
}

// NoClientError is a server newer than every PostgreSQL client found.
type NoClientError struct {
	// Server is the server's major version.
	Server int
	// Found are the clients found, none new enough.
	Found []Client
}

func (e *NoClientError) Error() string {
	if len(e.Found) == 0 {
		return fmt.Sprintf("no PostgreSQL client (pg_dump, pg_restore and psql in one folder) on PATH or in %s/<version>/bin, for a PostgreSQL %d server", DebianClientRoot, e.Server)
	}
	found := make([]string, len(e.Found))
	for i, c := range e.Found {
		found[i] = fmt.Sprintf("%d (%s)", c.Major, c.Dir)
	}
	return fmt.Sprintf("no client of PostgreSQL %d or later: found %s, and pg_dump refuses a server newer than itself",
		e.Server, strings.Join(found, ", "))
}

// Hint says what to do about it.
func (e *NoClientError) Hint() string {
	return fmt.Sprintf("install the PostgreSQL %[1]d client (Debian and Ubuntu: postgresql-client-%[1]d, from PostgreSQL's apt repository), "+
		"set snapshot.pg_bin to the folder of a PostgreSQL %[1]d client's pg_dump, pg_restore and psql, "+
		"or take the snapshot another way (snapshot.kind: command)", e.Server)
}

// pgVersion reads the version in the output of --version ("pg_dump (PostgreSQL) 17.6 (Debian 17.6-1)").
var pgVersion = regexp.MustCompile(`\(PostgreSQL\) (\d+)(\.\d+)?`)

// toolVersion runs bin --version and returns its version ("17.6") and major version (17).
func toolVersion(ctx context.Context, bin string) (string, int, error) {
	cmd := exec.CommandContext(ctx, bin, "--version")
	// In a process group of its own, as the restore's pg_restore and psql: the restore reads its client
	// first, and a Ctrl-C in the deploy's terminal must not stop a restore that has started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := proc.Output(cmd)
	if err != nil {
		return "", 0, fmt.Errorf("%s --version: %w", bin, err)
	}
	m := pgVersion.FindStringSubmatch(string(out))
	if m == nil {
		return "", 0, fmt.Errorf("%s --version printed no PostgreSQL version: %q", bin, strings.TrimSpace(string(out)))
	}
	major, _ := strconv.Atoi(m[1])
	return m[1] + m[2], major, nil
}

// pathClient is the client of the pg_dump found on PATH, when its folder also holds pg_restore and psql.
// Debian's pg_wrapper (/usr/bin/pg_dump) is left out: it picks a version per call, from the clusters of
// the machine and the options, so its --version need not be what a dump runs; the folders it picks from
// are in the Debian layout, read directly.
func pathClient(ctx context.Context) (Client, bool) {
	path, err := exec.LookPath("pg_dump")
	if err != nil {
		return Client{}, false
	}
	if real, err := filepath.EvalSymlinks(path); err == nil && filepath.Base(real) != "pg_dump" {
		return Client{}, false // a wrapper
	}
	dir := filepath.Dir(path)
	if !hasTools(dir) {
		return Client{}, false
	}
	_, major, err := toolVersion(ctx, path)
	if err != nil {
		return Client{}, false
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return Client{Dir: abs, Major: major}, true
}

// installedClients lists the clients of this machine: PATH's first, then those of the Debian layout
// under root, each folder once.
func installedClients(ctx context.Context, root string) []Client {
	var out []Client
	seen := map[string]bool{}
	add := func(c Client) {
		key := c.Dir
		if real, err := filepath.EvalSymlinks(c.Dir); err == nil {
			key = real
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, c)
		}
	}
	if c, ok := pathClient(ctx); ok {
		add(c)
	}
	for _, c := range ClientsUnder(root) {
		add(c)
	}
	return out
}

// client returns the folder of the programs for a server of major version server, and their version
// ("17.6"): snapshot.pg_bin (Bin) when set, whatever its version (pg_dump says when it is too old),
// else the installed client ChooseClient picks. op names the step in the error.
func (p *PGDump) client(ctx context.Context, server int, op string) (Client, string, error) {
	if p.Bin != "" {
		for _, name := range clientTools {
			if _, err := os.Stat(filepath.Join(p.Bin, name)); err != nil {
				return Client{}, "", &Error{Op: "find " + name, Err: err, Hint: "set snapshot.pg_bin to the folder holding pg_dump, pg_restore and psql"}
			}
		}
		version, major, err := toolVersion(ctx, filepath.Join(p.Bin, "pg_dump"))
		if err != nil {
			p.logger().Warn("read the version of snapshot.pg_bin's pg_dump", "err", err)
		}
		return Client{Dir: p.Bin, Major: major}, version, nil
	}
	c, err := ChooseClient(installedClients(ctx, DebianClientRoot), server)
	if err != nil {
		hint := ""
		var nc *NoClientError
		if errors.As(err, &nc) {
			hint = nc.Hint()
		}
		return Client{}, "", &Error{Op: op, Err: err, Hint: hint}
	}
	version, _, err := toolVersion(ctx, c.Tool("pg_dump"))
	if err != nil {
		return Client{}, "", &Error{Op: op, Err: err, Hint: "the PostgreSQL client in " + c.Dir + " does not run: reinstall it, or set snapshot.pg_bin to another"}
	}
	return c, version, nil
}

// CheckClient tells, before anything is dumped, whether Snapshot will find the programs for the server
// of URL: snapshot.pg_bin's when set, else an installed client of the server's major version or later
// (see ChooseClient). Its error is the *Error that Snapshot would fail with, naming the server's
// version and the clients found, with a hint saying what to install or set. It changes nothing.
func (p *PGDump) CheckClient(ctx context.Context) error {
	major, err := p.serverMajor(ctx)
	if err != nil {
		return &Error{Op: "connect for snapshot", Err: err, Hint: "check the database URL and that the server is up"}
	}
	_, _, err = p.client(ctx, major, fmt.Sprintf("find pg_dump for PostgreSQL %d", major))
	return err
}
