package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DatabasePrefix starts the name of every database the url provider creates, so that leftovers (after
// a kill -9) can be recognised: SELECT datname FROM pg_database WHERE datname LIKE 'schemagate\_%'.
const DatabasePrefix = "schemagate_"

// URL uses an existing PostgreSQL server (a CI service container, a shared test server): Start creates
// a uniquely named, empty database on it for the run, marked with a comment that names the schemagate
// process (see urlMark), and Close drops that database and the roles the run's migrations created. It
// touches nothing else on the server, except what runs that are gone left (see removeLeftovers). The
// role in the URL needs the CREATEDB privilege (or to be a superuser).
type URL struct {
	opts Options
	// warned makes the warning of a superuser on a shared server once per provider (a rehearsal that
	// starts again, reading the catalog whole, does not repeat it).
	warned sync.Once
}

var _ Provider = (*URL)(nil)

// NewURL returns the provider that uses the server at opts.DatabaseURL.
func NewURL(opts Options) *URL {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &URL{opts: opts}
}

// Name implements Provider.
func (p *URL) Name() string { return "url" }

// Start implements Provider. The new database's URL uses the credentials of opts.DatabaseURL;
// AdminURL is opts.DatabaseURL. Both get connect_timeout=10 added unless opts.DatabaseURL or
// PGCONNECT_TIMEOUT sets a timeout (see withConnectTimeout).
func (p *URL) Start(ctx context.Context) (*Instance, error) {
	server, err := parseServerURL(p.opts.DatabaseURL)
	if err != nil {
		return nil, err
	}
	shown := redacted(server)
	server = withConnectTimeout(server)
	admin, err := connect(ctx, server.String())
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000") {
			// The server answered: the credentials are wrong, not the address.
			return nil, fmt.Errorf("connect to %s: %s (SQLSTATE %s): check the user and password in --database-url", shown, pe.Message, pe.Code)
		}
		return nil, fmt.Errorf("connect to %s: %w (is the server running and reachable from here? check --database-url)", shown, scrub(err, server))
	}
	defer admin.Close(context.WithoutCancel(ctx))

	var role string
	var version int
	var mayCreate bool
	err = admin.QueryRow(ctx, `SELECT current_user, current_setting('server_version_num')::int,
		rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&role, &version, &mayCreate)
	if err != nil {
		return nil, fmt.Errorf("read role and version on %s: %w", shown, err)
	}
	if !mayCreate {
		return nil, noCreateDB(role, shown, nil)
	}

	// Runs killed with SIGKILL left their database and roles: drop those first, so that their roles
	// do not count as the server's below.
	self := currentOwner(ctx, nil)
	p.removeLeftovers(ctx, admin, server, self, version)

	rows, err := admin.Query(ctx, "SELECT rolname FROM pg_roles ORDER BY rolname")
	if err != nil {
		return nil, fmt.Errorf("list roles on %s: %w", shown, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list roles on %s: %w", shown, err)
	}
	existed := map[string]bool{}
	for _, n := range names {
		existed[n] = true
	}
	p.warned.Do(func() {
		if why := sharedSuperuser(ctx, admin); why != "" {
			p.opts.Logger.Warn(SharedSuperuserWarning, "role", role, "server", shown, "shared", why)
		}
	})
	var now time.Time
	if err := admin.QueryRow(ctx, "SELECT now()").Scan(&now); err != nil {
		return nil, fmt.Errorf("read the time on %s: %w", shown, err)
	}
	// mu guards claimed (the roles the run's migrations create that the server did not have), oids (the
	// OID each of them had as the run's own session created it, see Instance.RolesCreated) and the
	// database's mark, which names them.
	var mu sync.Mutex
	var claimed []string
	oids := map[string]uint32{}
	stale := false // oids has changes the mark lacks
	runMark := newURLMark(self, now)

	name := DatabasePrefix + randomHex(6)
	// template0: the database is empty even when the server's template1 holds objects.
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0"); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42501" { // insufficient_privilege
			return nil, noCreateDB(role, shown, err)
		}
		if !errors.As(err, &pgErr) {
			// No answer from the server (the run was cancelled, SIGTERM or Ctrl-C, or the connection
			// dropped): it may have created the database all the same, which has no mark yet and so no
			// later run would remove. p.drop ignores the cancellation.
			if derr := p.drop(ctx, server, name, version); derr != nil {
				p.opts.Logger.Warn("could not drop the rehearsal database whose creation was interrupted", "database", name, "err", derr)
			}
		}
		return nil, fmt.Errorf("create database %s on %s: %w", name, shown, err)
	}
	p.opts.Logger.Info("created the rehearsal database", "database", name, "server", shown)
	if err := mark(ctx, admin, name, runMark); err != nil {
		_ = p.drop(ctx, server, name, version)
		return nil, fmt.Errorf("mark database %s on %s as this run's: %w", name, shown, err)
	}

	// writeMark records claimed and oids in the database's mark; mu is held.
	writeMark := func(ctx context.Context, conn *pgx.Conn) error {
		runMark.Roles = slices.Clone(claimed)
		runMark.OIDs = maps.Clone(oids)
		return mark(ctx, conn, name, runMark)
	}
	// created records the OIDs of the claimed roles among names, read on the run's own session right
	// after its statements created them (see Instance.RolesCreated), and writes them in the mark.
	created := func(ctx context.Context, session *pgx.Conn, names []string) error {
		mu.Lock()
		var ours []string
		for _, r := range names {
			if slices.Contains(claimed, r) && !slices.Contains(ours, r) {
				ours = append(ours, r)
			}
		}
		mu.Unlock()
		if len(ours) == 0 {
			return nil
		}
		seen, err := sessionRoles(ctx, session, ours)
		if err != nil {
			return fmt.Errorf("read the roles the migrations created (%s): %w (should this run die, drop them by hand)", strings.Join(ours, ", "), err)
		}
		mu.Lock()
		defer mu.Unlock()
		changed := stale
		for r, oid := range seen {
			if oids[r] != oid {
				oids[r] = oid
				changed = true
			}
		}
		if !changed {
			return nil
		}
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		conn, err := connect(ctx, server.String())
		if err == nil {
			err = writeMark(ctx, conn)
			conn.Close(context.WithoutCancel(ctx))
		}
		stale = err != nil // written with the next change
		if err != nil {
			return fmt.Errorf("record the roles the migrations created (%s) on database %s: %w (should this run die, drop them by hand)",
				strings.Join(ours, ", "), name, scrub(err, server))
		}
		return nil
	}

	dbURL := *server
	dbURL.Path, dbURL.RawPath = "/"+name, ""
	var once sync.Once
	var closeErr error
	closeFn := func(ctx context.Context) error {
		once.Do(func() {
			closeErr = p.drop(ctx, server, name, version)
			if closeErr == nil {
				// A round trip's copy left by a run stopped during it (SIGINT, SIGTERM).
				closeErr = p.drop(ctx, server, name+CopySuffix, version)
			}
			mu.Lock()
			defer mu.Unlock()
			if closeErr == nil && len(oids) > 0 {
				closeErr = p.dropRoles(ctx, server, maps.Clone(oids))
			}
		})
		return closeErr
	}
	claim := func(ctx context.Context, names []string) error {
		mu.Lock()
		defer mu.Unlock()
		added := false
		for _, r := range names {
			if !existed[r] && !slices.Contains(claimed, r) {
				claimed = append(claimed, r)
				added = true
			}
		}
		if !added {
			return nil
		}
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		conn, err := connect(ctx, server.String())
		if err == nil {
			err = writeMark(ctx, conn)
		}
		stale = err != nil // written with the next change
		if conn != nil {
			conn.Close(context.WithoutCancel(ctx))
		}
		if err != nil {
			return fmt.Errorf("record the roles the migrations create (%s) on database %s: %w (should this run die, drop them by hand)",
				strings.Join(claimed, ", "), name, scrub(err, server))
		}
		return nil
	}
	return &Instance{URL: dbURL.String(), AdminURL: server.String(), ServerVersion: version, Close: closeFn,
		ClaimRoles: claim, RolesCreated: created, ServerRoles: names}, nil
}

// sessionRoles reads the OIDs of those of names that exist, on the run's own session: inside its
// transaction when it has one, under a savepoint (a read that fails does not fail the migration's
// transaction), and without a prepared statement left in the session. The session is the migrations',
// under the search path they set: what the read names is pg_catalog's by name, the operator too, which
// a migration's public.= (name, name) that holds for any two names, before pg_catalog in its path, would
// otherwise replace (every role on the server read as one the run made, for Close to drop).
func sessionRoles(ctx context.Context, session *pgx.Conn, names []string) (map[string]uint32, error) {
	inTx := session.PgConn().TxStatus() == 'T'
	if inTx {
		if _, err := session.PgConn().Exec(ctx, "SAVEPOINT schemagate_roles").ReadAll(); err != nil {
			return nil, err
		}
	}
	seen := map[string]uint32{}
	rows, err := session.Query(ctx, "SELECT rolname, oid FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.name[])",
		pgx.QueryExecModeSimpleProtocol, names)
	if err == nil {
		var r string
		var oid uint32
		_, err = pgx.ForEachRow(rows, []any{&r, &oid}, func() error { seen[r] = oid; return nil })
	}
	if inTx {
		end := "RELEASE SAVEPOINT schemagate_roles"
		if err != nil {
			end = "ROLLBACK TO SAVEPOINT schemagate_roles; RELEASE SAVEPOINT schemagate_roles"
		}
		if _, rerr := session.PgConn().Exec(context.WithoutCancel(ctx), end).ReadAll(); err == nil {
			err = rerr
		}
	}
	return seen, err
}

// SharedSuperuserWarning is what the url provider warns, once as a run starts, when the URL's role is a
// superuser on a server that looks shared (see sharedSuperuser).
const SharedSuperuserWarning = "the pull request's migrations run with superuser rights on a server that holds more than this run " +
	"(--database-url's role is a superuser): the url provider refuses the server-wide statements it can recognise, " +
	"but a superuser's code can reach everything on the server; use --provider url with a server that exists only for the CI job " +
	"(a service container), or a role with CREATEDB only, or rehearse with --provider local or docker"

// sharedSuperuser says why the server looks shared when the connection's role is a superuser ("" when it
// is not a superuser, or the server looks like one made for CI): databases other than postgres, the
// URL's own, templates and schemagate's, or login roles other than the URL's, the predefined ones and
// those other url runs' marks name.
func sharedSuperuser(ctx context.Context, admin *pgx.Conn) string {
	var super bool
	if err := admin.QueryRow(ctx, "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user").Scan(&super); err != nil || !super {
		return ""
	}
	runs, _ := RunRoles(ctx, admin, "")
	var dbs, roles []string
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_catalog.pg_database WHERE NOT datistemplate
		AND datname NOT IN ('postgres', current_database()) AND datname NOT LIKE 'schemagate\_%' ORDER BY datname`)
	if err == nil {
		dbs, _ = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	rows, err = admin.Query(ctx, `SELECT rolname FROM pg_catalog.pg_roles WHERE rolcanlogin AND rolname <> current_user
		AND rolname NOT LIKE 'pg\_%' AND NOT rolname = ANY($1) ORDER BY rolname`, append(runs, ""))
	if err == nil {
		roles, _ = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	var why []string
	if len(dbs) > 0 {
		why = append(why, "other databases: "+strings.Join(limit(dbs, 5), ", "))
	}
	if len(roles) > 0 {
		why = append(why, "other login roles: "+strings.Join(limit(roles, 5), ", "))
	}
	return strings.Join(why, "; ")
}

// limit shortens a list for a message.
func limit(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(slices.Clone(s[:n]), fmt.Sprintf("and %d more", len(s)-n))
}

// dropRoles drops the roles the run's migrations created (after the run's database, which held what they
// own): each name with the OID the run recorded as it created it. A role of that name with another OID was
// dropped and created again by someone else, and stays. A role that still owns or may use something
// elsewhere on the server stays, with a warning.
func (p *URL) dropRoles(ctx context.Context, server *url.URL, roles map[string]uint32) error {
	names := slices.Sorted(maps.Keys(roles))
	if ctx.Err() != nil {
		ctx = context.WithoutCancel(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	admin, err := connect(ctx, server.String())
	if err != nil {
		return fmt.Errorf("connect to %s to drop the roles the migrations created (%s): %w (drop them by hand)",
			redacted(server), strings.Join(names, ", "), scrub(err, server))
	}
	defer admin.Close(ctx)
	// Only the roles that exist: a CREATE ROLE that failed (or never ran) created nothing, and DROP
	// ROLE IF EXISTS needs the CREATEROLE privilege all the same.
	type role struct {
		Name string
		OID  uint32
	}
	rows, err := admin.Query(ctx, "SELECT rolname, oid FROM pg_catalog.pg_roles WHERE rolname = ANY($1) ORDER BY rolname", names)
	if err != nil {
		return fmt.Errorf("list the roles the migrations created (%s) on %s: %w (drop them by hand)", strings.Join(names, ", "), redacted(server), err)
	}
	exist, err := pgx.CollectRows(rows, pgx.RowToStructByPos[role])
	if err != nil {
		return fmt.Errorf("list the roles the migrations created (%s) on %s: %w (drop them by hand)", strings.Join(names, ", "), redacted(server), err)
	}
	var left []string
	for _, r := range exist {
		if r.OID != roles[r.Name] {
			p.opts.Logger.Info("leaving alone a role named like one the migrations created: it is another role now (OID "+
				strconv.FormatUint(uint64(r.OID), 10)+", not "+strconv.FormatUint(uint64(roles[r.Name]), 10)+"), made by someone else since",
				"role", r.Name)
			continue
		}
		if _, err := admin.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{r.Name}.Sanitize()); err != nil {
			p.opts.Logger.Warn("could not drop a role the migrations created", "role", r.Name, "err", err)
			left = append(left, r.Name)
			continue
		}
		p.opts.Logger.Info("dropped a role the migrations created", "role", r.Name)
	}
	if len(left) > 0 {
		return fmt.Errorf("roles the migrations created are left on %s: %s (drop them by hand)", redacted(server), strings.Join(left, ", "))
	}
	return nil
}

// drop removes the run's database, first ending the sessions still connected to it (that database's
// only: pg_terminate_backend on its own sessions needs no privilege beyond the owning role).
func (p *URL) drop(ctx context.Context, server *url.URL, name string, version int) error {
	if ctx.Err() != nil {
		ctx = context.WithoutCancel(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	shown := redacted(server)
	server = withConnectTimeout(server)
	admin, err := p.connectWhenUp(ctx, server.String())
	if err != nil {
		return fmt.Errorf("connect to %s to drop database %s: %w (drop it by hand)", shown, name, scrub(err, server))
	}
	defer admin.Close(ctx)
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = $1)", name).Scan(&exists); err == nil && !exists {
		return nil // a round trip's copy that was never made, a CREATE DATABASE that never ran
	}
	p.endPrepared(ctx, admin, server, name)
	// A template database cannot be dropped: a migration may have run ALTER DATABASE ... IS_TEMPLATE true.
	var template bool
	if err := admin.QueryRow(ctx, "SELECT datistemplate FROM pg_catalog.pg_database WHERE datname = $1", name).Scan(&template); err == nil && template {
		if _, err := admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" IS_TEMPLATE false"); err != nil {
			p.opts.Logger.Warn("could not make the rehearsal database a database that is not a template, to drop it", "database", name, "err", err)
		}
	}
	drop := "DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize()
	if version >= 130000 {
		drop += " WITH (FORCE)"
	}
	for attempt := 0; ; attempt++ {
		if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid()`, name); err != nil {
			p.opts.Logger.Warn("could not end sessions on the rehearsal database", "database", name, "err", err)
		}
		_, err = admin.Exec(ctx, drop)
		var pgErr *pgconn.PgError
		// object_in_use: before PostgreSQL 13 a session can connect between terminate and drop.
		if err != nil && errors.As(err, &pgErr) && pgErr.Code == "55006" && attempt < 20 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if err != nil {
			return fmt.Errorf("drop database %s on %s: %w", name, shown, err)
		}
		p.opts.Logger.Info("dropped the rehearsal database", "database", name)
		return nil
	}
}

// endPrepared rolls back the prepared transactions of the run's database (PREPARE TRANSACTION in a
// migration): they outlive their session, keep the database from being dropped, hold their locks and
// keep VACUUM from cleaning up in every database of the server. ROLLBACK PREPARED runs in the database
// the transaction was prepared in. Those of other databases are not touched.
func (p *URL) endPrepared(ctx context.Context, admin *pgx.Conn, server *url.URL, name string) {
	rows, err := admin.Query(ctx, "SELECT gid FROM pg_catalog.pg_prepared_xacts WHERE database = $1", name)
	if err != nil {
		p.opts.Logger.Warn("could not list the prepared transactions of the rehearsal database", "database", name, "err", err)
		return
	}
	gids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(gids) == 0 {
		return
	}
	dbURL := *server
	dbURL.Path, dbURL.RawPath = "/"+name, ""
	conn, err := connect(ctx, dbURL.String())
	if err != nil {
		p.opts.Logger.Warn("could not connect to roll back the prepared transactions of the rehearsal database", "database", name, "err", scrub(err, server))
		return
	}
	defer conn.Close(ctx)
	for _, gid := range gids {
		if _, err := conn.Exec(ctx, "ROLLBACK PREPARED "+quoteLiteral(gid)); err != nil {
			p.opts.Logger.Warn("could not roll back a prepared transaction of the rehearsal database", "database", name, "gid", gid, "err", err)
			continue
		}
		p.opts.Logger.Info("rolled back a prepared transaction of the rehearsal database", "database", name, "gid", gid)
	}
}

// connect opens a connection with a bounded wait: an unreachable host must not hang the run.
// connectWhenUp connects to u as connect does, and again while the server is restarting (shutting
// down, down, starting: see restarting) until ctx ends: the drop that follows a run must not give up on
// a server that a fast restart has down for a few seconds, and leave the run's database behind.
func (p *URL) connectWhenUp(ctx context.Context, u string) (*pgx.Conn, error) {
	for attempt := 0; ; attempt++ {
		conn, err := connect(ctx, u)
		if err == nil || !restarting(err) {
			return conn, err
		}
		if attempt == 0 {
			p.opts.Logger.Info("the server is restarting: connecting again", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// restarting tells whether a failed connection says the server is restarting: it is shutting down or
// starting up (57P03 cannot_connect_now, 57P01 admin_shutdown), or it is down (a refused connection, a
// socket file that is gone).
func restarting(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "57P03" || pe.Code == "57P01"
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT)
}

func connect(ctx context.Context, u string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 15 * time.Second
	}
	return pgx.ConnectConfig(ctx, cfg)
}

func noCreateDB(role, server string, err error) error {
	msg := fmt.Sprintf("role %q on %s may not create databases, and the url provider creates one per run; "+
		"grant it (ALTER ROLE %s CREATEDB), use a role that has it, or use --provider local or docker",
		role, server, displayIdent(role))
	if err != nil {
		return fmt.Errorf("%s: %w", msg, err)
	}
	return errors.New(msg)
}

// displayIdent quotes a role name for a SQL hint only when it needs quotes.
func displayIdent(s string) string {
	if plainIdentRE.MatchString(s) {
		return s
	}
	return pgx.Identifier{s}.Sanitize()
}

var plainIdentRE = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

// parseServerURL checks --database-url without ever echoing its password.
func parseServerURL(s string) (*url.URL, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("the url provider needs the URL of an existing server: pass --database-url postgres://user:password@host:5432/postgres")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || (u.Host == "" && u.Query().Get("host") == "") {
		return nil, fmt.Errorf("invalid --database-url %s: want postgres://user:password@host:port/database (percent-encode special characters in the password)", redactURL(s))
	}
	if _, err := pgx.ParseConfig(s); err != nil {
		var pce *pgconn.ParseConfigError
		reason := "cannot parse it"
		if errors.As(err, &pce) && pce.Unwrap() != nil {
			reason = scrub(pce.Unwrap(), u).Error()
		}
		return nil, fmt.Errorf("invalid --database-url %s: %s", redacted(u), reason)
	}
	return u, nil
}

// withConnectTimeout is u with connect_timeout=connectTimeout added when neither u nor
// PGCONNECT_TIMEOUT sets a timeout: a server that takes connections and never answers (a frozen host,
// a proxy whose backend is gone) would otherwise hold each of the run's connections forever. The other
// providers' URLs carry the same.
func withConnectTimeout(u *url.URL) *url.URL {
	if u.Query().Has("connect_timeout") || os.Getenv("PGCONNECT_TIMEOUT") != "" {
		return u
	}
	out := *u
	if out.RawQuery != "" {
		out.RawQuery += "&"
	}
	out.RawQuery += "connect_timeout=" + strconv.Itoa(connectTimeout)
	return &out
}

var userinfoRE = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*://[^:@/]*:)(.*)@`)

// queryPasswordRE finds a password given as a query parameter of a URL that does not parse.
var queryPasswordRE = regexp.MustCompile(`(?i)([?&](?:ssl)?password=)[^&#\s]*`)

// passwordRE finds the passwords of a keyword/value connection string (password=..., sslpassword=...),
// quoted ('a b', with \' and \\ escapes) or not.
var passwordRE = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// secretParams are the connection parameters libpq (and pgx) take a secret in, in a URL's query as in a
// keyword/value string: each is masked wherever a connection string is shown.
var secretParams = []string{"password", "sslpassword"}

func isSecretParam(key string) bool {
	for _, p := range secretParams {
		if strings.EqualFold(key, p) {
			return true
		}
	}
	return false
}

// redacted shows u with its passwords masked: the userinfo's and those of the query
// (?password=..., ?sslpassword=...), which url.URL.Redacted leaves in.
func redacted(u *url.URL) string {
	c := *u
	if c.User != nil {
		if _, ok := c.User.Password(); ok {
			c.User = url.UserPassword(c.User.Username(), "xxxxx")
		}
	}
	if c.RawQuery != "" {
		parts := strings.Split(c.RawQuery, "&")
		for i, part := range parts {
			k, _, _ := strings.Cut(part, "=")
			if dk, err := url.QueryUnescape(k); err == nil {
				k = dk
			}
			if isSecretParam(k) {
				parts[i] = k + "=xxxxx"
			}
		}
		c.RawQuery = strings.Join(parts, "&")
	}
	// String, not Redacted: the userinfo's mask must not be escaped (xxxxx stays xxxxx either way).
	return c.String()
}

// redactURL masks the passwords of a connection string that may not even parse: a URL's (userinfo and
// query) or a keyword/value string's.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		return redacted(u)
	}
	if strings.Contains(s, "://") {
		s = userinfoRE.ReplaceAllString(s, "${1}xxxxx@")
		return queryPasswordRE.ReplaceAllString(s, "${1}xxxxx")
	}
	return passwordRE.ReplaceAllString(s, "${1}xxxxx")
}

// RedactURL is redactURL for the other packages that show a connection string.
func RedactURL(s string) string { return redactURL(s) }

// URLSecrets returns the secrets a connection string holds (URL or keyword/value), each as written and
// as decoded, for a CI log to mask: the userinfo password, password= and sslpassword= parameters.
func URLSecrets(s string) []string {
	var out []string
	add := func(vs ...string) {
		for _, v := range vs {
			if v != "" && v != "xxxxx" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		if u.User != nil {
			if pw, ok := u.User.Password(); ok {
				add(pw, url.PathEscape(pw), url.QueryEscape(pw))
			}
			// The raw userinfo, as the user typed it (%-escapes kept).
			if _, raw, ok := strings.Cut(u.User.String(), ":"); ok {
				add(raw)
			}
		}
		for _, part := range strings.Split(u.RawQuery, "&") {
			k, v, _ := strings.Cut(part, "=")
			if dk, err := url.QueryUnescape(k); err == nil {
				k = dk
			}
			if isSecretParam(k) {
				add(v)
				if dv, err := url.QueryUnescape(v); err == nil {
					add(dv)
				}
			}
		}
		return out
	}
	if strings.Contains(s, "://") {
		if m := userinfoRE.FindStringSubmatch(s); m != nil {
			add(m[2])
		}
		for _, m := range queryPasswordRE.FindAllStringSubmatchIndex(s, -1) {
			add(s[m[3]:m[1]])
		}
		return out
	}
	for _, m := range passwordRE.FindAllStringSubmatch(s, -1) {
		v := m[2]
		if len(v) >= 2 && strings.HasPrefix(v, "'") && strings.HasSuffix(v, "'") {
			add(v)
			v = strings.NewReplacer(`\'`, "'", `\\`, `\`).Replace(v[1 : len(v)-1])
		}
		add(v)
	}
	return out
}

// scrub removes the passwords of u from an error message, whatever quoted them.
func scrub(err error, u *url.URL) error {
	if u == nil || err == nil {
		return err
	}
	msg := err.Error()
	for _, secret := range URLSecrets(u.String()) {
		msg = strings.ReplaceAll(msg, secret, "xxxxx")
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}
