package sandbox

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// existingServer starts a real PostgreSQL server with the local provider, standing in for the CI
// service container the url provider is meant for, and returns its admin URL.
func existingServer(t *testing.T) string {
	t.Helper()
	l := requireLocal(t)
	inst, err := l.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close(context.Background()) })
	return inst.AdminURL
}

func execSQL(t *testing.T, dsn string, sql ...string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, s := range sql {
		if _, err := conn.Exec(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// cleanupSQL runs sql on dsn when the test ends, whether it passed or not, as far as it can.
func cleanupSQL(t *testing.T, dsn, sql string) {
	t.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), dsn); err == nil {
			_, _ = c.Exec(context.Background(), sql)
			c.Close(context.Background())
		}
	})
}

func databases(t *testing.T, dsn string) []string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, _ := conn.Query(t.Context(), "SELECT datname FROM pg_database ORDER BY datname")
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// asRole gives role (a LOGIN role) a random password and returns the URL dsn (a superuser's) for it: the
// local server takes no connection without a password (password.go).
func asRole(t *testing.T, dsn, role string) string {
	t.Helper()
	password := newPassword()
	execSQL(t, dsn, "ALTER ROLE "+pgx.Identifier{role}.Sanitize()+" PASSWORD '"+password+"'")
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, password)
	return u.String()
}

func withDatabase(t *testing.T, dsn, db string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + db
	return u.String()
}

func TestURLCreatesAndDropsItsDatabase(t *testing.T) {
	t.Parallel()
	server := existingServer(t)
	// Someone else's database on the same server, which the provider must leave alone.
	execSQL(t, server, "CREATE DATABASE app")
	execSQL(t, withDatabase(t, server, "app"), "CREATE TABLE keep (id int)", "INSERT INTO keep VALUES (42)")
	before := databases(t, server)

	ctx := t.Context()
	p := NewURL(Options{DatabaseURL: server})
	inst, err := p.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if !regexp.MustCompile(`^schemagate_[0-9a-f]{12}$`).MatchString(name) {
		t.Errorf("database name %q, want schemagate_<random>", name)
	}
	if inst.AdminURL != server {
		t.Errorf("AdminURL = %q, want the given server URL %q", inst.AdminURL, server)
	}
	if after := databases(t, server); !slices.Contains(after, name) || len(after) != len(before)+1 {
		t.Errorf("databases after Start: %v, want %v plus %s", after, before, name)
	}

	conn, err := pgx.Connect(ctx, inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	var db string
	var version, tables int
	err = conn.QueryRow(ctx, `SELECT current_database(), current_setting('server_version_num')::int,
		(SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace)`).Scan(&db, &version, &tables)
	if err != nil {
		t.Fatal(err)
	}
	if db != name || version != inst.ServerVersion || tables != 0 {
		t.Errorf("connected to %s (version %d, %d relations), want %s (version %d, empty)", db, version, tables, name, inst.ServerVersion)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatalf("use the database: %v", err)
	}
	// conn stays open: Close must end it rather than fail to drop the database.

	if err := inst.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := conn.Ping(ctx); err == nil {
		t.Error("a session on the dropped database survived Close")
	}
	conn.Close(ctx)
	if after := databases(t, server); !slices.Equal(after, before) {
		t.Errorf("databases after Close: %v, want %v", after, before)
	}
	var kept int
	app, err := pgx.Connect(ctx, withDatabase(t, server, "app"))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)
	if err := app.QueryRow(ctx, "SELECT id FROM keep").Scan(&kept); err != nil || kept != 42 {
		t.Errorf("the other database changed: %d, %v", kept, err)
	}
	if err := inst.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestURLRunsAreIndependent(t *testing.T) {
	t.Parallel()
	server := existingServer(t)
	p := NewURL(Options{DatabaseURL: server})
	a, err := p.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if a.URL == b.URL {
		t.Fatalf("two runs got the same database %s", a.URL)
	}
	// Close after the run's context was cancelled, with a cancelled context too: still dropped.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	names := databases(t, server)
	ua, _ := url.Parse(a.URL)
	ub, _ := url.Parse(b.URL)
	if slices.Contains(names, strings.TrimPrefix(ua.Path, "/")) || !slices.Contains(names, strings.TrimPrefix(ub.Path, "/")) {
		t.Errorf("databases %v: want %s dropped and %s kept", names, ua.Path, ub.Path)
	}
	if err := b.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestURLRoleWithoutCreateDB(t *testing.T) {
	t.Parallel()
	server := existingServer(t)
	execSQL(t, server, "CREATE ROLE reader LOGIN")
	before := databases(t, server)
	u, _ := url.Parse(asRole(t, server, "reader"))
	_, err := NewURL(Options{DatabaseURL: u.String()}).Start(t.Context())
	if err == nil {
		t.Fatal("Start succeeded for a role without CREATEDB")
	}
	for _, w := range []string{`role "reader"`, "may not create databases", "ALTER ROLE reader CREATEDB", "--provider local or docker"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if after := databases(t, server); !slices.Equal(after, before) {
		t.Errorf("databases changed: %v, was %v", after, before)
	}
}

func TestURLBadInput(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-pw"
	tests := []struct {
		name string
		url  string
		want []string
	}{
		{name: "missing", url: "", want: []string{"--database-url postgres://"}},
		{name: "keyword form", url: "host=localhost password=" + secret + " dbname=x", want: []string{"invalid --database-url", "password=xxxxx", "want postgres://"}},
		{name: "other scheme", url: "mysql://root:" + secret + "@127.0.0.1/db", want: []string{"invalid --database-url mysql://root:xxxxx@127.0.0.1/db"}},
		{name: "unencoded slash in password", url: "postgres://u:" + secret + "/x@127.0.0.1:5432/db", want: []string{"invalid --database-url postgres://u:xxxxx@127.0.0.1:5432/db", "percent-encode"}},
		{name: "bad option", url: "postgres://u:" + secret + "@127.0.0.1:5432/db?sslmode=sometimes", want: []string{"invalid --database-url postgres://u:xxxxx@127.0.0.1:5432/db", "sslmode"}},
		{name: "unreachable", url: "postgres://u:" + secret + "@127.0.0.1:1/db", want: []string{"connect to postgres://u:xxxxx@127.0.0.1:1/db", "is the server running"}},
		{name: "query password, bad option", url: "postgres://u@127.0.0.1:5432/db?password=" + secret + "&sslmode=bogus", want: []string{"invalid --database-url postgres://u@127.0.0.1:5432/db?password=xxxxx&sslmode=bogus", "sslmode"}},
		{name: "query password, unreachable", url: "postgres://u@127.0.0.1:1/db?password=" + secret, want: []string{"connect to postgres://u@127.0.0.1:1/db?password=xxxxx", "is the server running"}},
		{name: "query sslpassword, unreachable", url: "postgres://u@127.0.0.1:1/db?sslpassword=" + secret, want: []string{"connect to postgres://u@127.0.0.1:1/db?sslpassword=xxxxx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewURL(Options{DatabaseURL: tt.url}).Start(t.Context())
			if err == nil {
				t.Fatal("Start succeeded")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows the password", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "url", in: "postgres://u:pw@h:5432/db", want: "postgres://u:xxxxx@h:5432/db"},
		{name: "no password", in: "postgres://u@h/db", want: "postgres://u@h/db"},
		{name: "malformed", in: "postgres://u:p/w@d@h/db", want: "postgres://u:xxxxx@h/db"},
		{name: "keywords", in: "host=h password='a b' user=u", want: "host=h password=xxxxx user=u"},
		{name: "keywords, sslpassword and escaped quote", in: `host=h sslpassword='a\' b' password=c user=u`, want: "host=h sslpassword=xxxxx password=xxxxx user=u"},
		{name: "query password", in: "postgres://u@h/db?password=pw&sslmode=require", want: "postgres://u@h/db?password=xxxxx&sslmode=require"},
		{name: "query sslpassword and userinfo", in: "postgres://u:pw@h/db?sslpassword=k%40y", want: "postgres://u:xxxxx@h/db?sslpassword=xxxxx"},
		{name: "escaped query key", in: "postgres://u@h/db?pass%77ord=pw", want: "postgres://u@h/db?password=xxxxx"},
		{name: "malformed with query password", in: "postgres://u:p/w@d@h/db?password=pw&x=1", want: "postgres://u:xxxxx@h/db?password=xxxxx&x=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redactURL(tt.in); got != tt.want {
				t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestURLDropsTheRolesItsMigrationsCreated: roles belong to the server, not to the run's database, so
// the url provider drops the ones the run claimed and created itself when it drops the database: not
// those the server had before the run, nor one someone else made under a claimed name while the run
// went on (the run's own CREATE ROLE then failed), nor one the run never created. A role the run
// dropped and made again (a round trip's down and up, in autocommit) is dropped with its new OID.
func TestURLDropsTheRolesItsMigrationsCreated(t *testing.T) {
	t.Parallel()
	server := existingServer(t)
	execSQL(t, server, "CREATE ROLE sg_before_run")
	var logs syncBuffer
	inst, err := NewURL(Options{DatabaseURL: server, Logger: slog.New(slog.NewTextHandler(&logs, nil))}).Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if inst.ClaimRoles == nil || inst.RolesCreated == nil {
		t.Fatal("the url provider does not take role claims")
	}
	if err := inst.ClaimRoles(t.Context(), []string{"sg_app_owner", "sg_readonly", "sg_before_run", "sg_never_created", "sg_taken"}); err != nil {
		t.Fatal(err)
	}
	session, err := pgx.Connect(t.Context(), inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close(context.Background())
	// Someone else makes a role under a name the run claimed, before the run's own CREATE ROLE, which
	// fails.
	execSQL(t, server, "CREATE ROLE sg_taken")
	if _, err := session.Exec(t.Context(), "CREATE ROLE sg_taken"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("the run's CREATE ROLE sg_taken: %v, want already exists", err)
	}
	// What the migrations do, in a transaction: create a role that owns a table in the run's database,
	// and another one; the run records them before its COMMIT.
	for _, q := range []string{"BEGIN", "CREATE ROLE sg_app_owner", "CREATE TABLE owned (id int)", "ALTER TABLE owned OWNER TO sg_app_owner",
		"CREATE ROLE sg_readonly"} {
		if _, err := session.Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := inst.RolesCreated(t.Context(), session, []string{"sg_app_owner", "sg_readonly"}); err != nil {
		t.Fatal(err)
	}
	if _, err := session.Exec(t.Context(), "COMMIT"); err != nil {
		t.Fatal(err)
	}
	// A round trip in autocommit: the down drops sg_readonly, the up makes it again, with another OID.
	before := roleOIDs(t, session, "sg_readonly")["sg_readonly"]
	execSQL(t, inst.URL, "DROP ROLE sg_readonly", "CREATE ROLE sg_readonly")
	if err := inst.RolesCreated(t.Context(), session, []string{"sg_readonly"}); err != nil {
		t.Fatal(err)
	}
	if roleOIDs(t, session, "sg_readonly")["sg_readonly"] == before {
		t.Fatal("sg_readonly has the same OID after it was made again")
	}
	// Not claimed: created by someone else on the shared server while the run goes on.
	execSQL(t, server, "CREATE ROLE sg_someone_else")
	if err := inst.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), server)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	left := rolesLike(t, conn, `sg\_%`)
	if want := []string{"sg_before_run", "sg_someone_else", "sg_taken"}; !slices.Equal(left, want) {
		t.Errorf("roles left %v, want %v\n%s", left, want, logs.String())
	}
}

// TestURLWrongPassword: a server that answers but refuses the password says so, without the password
// and without asking whether the server runs.
func TestURLWrongPassword(t *testing.T) {
	t.Parallel()
	cli := requireDocker(t)
	requireImage(t, cli, testImage())
	d, _ := testDocker(t, Options{Image: testImage()})
	inst, err := d.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	u, err := url.Parse(inst.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	const wrong = "not-the-password"
	u.User = url.UserPassword(u.User.Username(), wrong)
	_, err = NewURL(Options{DatabaseURL: u.String()}).Start(t.Context())
	if err == nil || !strings.Contains(err.Error(), "password authentication failed") || !strings.Contains(err.Error(), "check the user and password") ||
		strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), "is the server running") {
		t.Errorf("error %v", err)
	}
}

// TestURLSecrets: what a CI log must mask of a connection string, as written and as decoded, wherever
// libpq takes a secret.
func TestURLSecrets(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{name: "userinfo", in: "postgres://u:p%40ss@h/db", want: []string{"p@ss", "p%40ss"}},
		{name: "query", in: "postgres://u@h/db?password=S3cr%25t%40pw%3Ax&sslpassword=k", want: []string{"S3cr%25t%40pw%3Ax", "S3cr%t@pw:x", "k"}},
		{name: "keywords", in: "host=h password='a b' sslpassword=c", want: []string{"'a b'", "a b", "c"}},
		{name: "none", in: "postgres://u@h/db?sslmode=disable", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := URLSecrets(tt.in)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("URLSecrets(%q) = %q, lacks %q", tt.in, got, w)
				}
			}
			if tt.want == nil && len(got) > 0 {
				t.Errorf("URLSecrets(%q) = %q, want none", tt.in, got)
			}
		})
	}
}

// TestURLClaimedRoleNeverCreated: a migration's CREATE ROLE that failed (the role in the URL lacks
// CREATEROLE) created nothing, so Close neither warns that the role is left nor tells the user to drop
// it by hand.
func TestURLClaimedRoleNeverCreated(t *testing.T) {
	t.Parallel()
	server := existingServer(t)
	execSQL(t, server, "CREATE ROLE sg_cdb LOGIN CREATEDB")
	u, err := url.Parse(asRole(t, server, "sg_cdb"))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := NewURL(Options{DatabaseURL: u.String()}).Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.ClaimRoles(t.Context(), []string{"sg_never_created"}); err != nil {
		t.Fatal(err)
	}
	if err := inst.Close(t.Context()); err != nil {
		t.Errorf("close: %v; want no word of a role that was never created", err)
	}
}

// TestURLWarnsOfASharedSuperuser: with a superuser URL on a server that holds other databases or login
// roles, the run starts with one warning that the migrations run with superuser rights on a shared
// server; a server made for CI (only postgres and templates) or a CREATEDB role gets none.
func TestURLWarnsOfASharedSuperuser(t *testing.T) {
	t.Parallel()
	server := existingServer(t)
	warnings := func(dsn string) []string {
		t.Helper()
		var buf strings.Builder
		inst, err := NewURL(Options{DatabaseURL: dsn, Logger: slog.New(slog.NewTextHandler(&buf, nil))}).Start(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if err := inst.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range strings.Split(buf.String(), "\n") {
			if strings.Contains(l, "superuser rights") {
				out = append(out, l)
			}
		}
		return out
	}
	if w := warnings(server); len(w) != 0 {
		t.Errorf("a server with nothing but postgres: warned %q", w)
	}
	execSQL(t, server, "CREATE DATABASE keepme", "CREATE ROLE app LOGIN PASSWORD 'pw'", "CREATE ROLE cdb LOGIN CREATEDB")
	w := warnings(server)
	if len(w) != 1 || !strings.Contains(w[0], "other databases: keepme") || !strings.Contains(w[0], "app") ||
		!strings.Contains(w[0], "a server that exists only for the CI job") {
		t.Errorf("a shared server: warned %q; want one warning naming keepme and app", w)
	}
	u, _ := url.Parse(asRole(t, server, "cdb"))
	if w := warnings(u.String()); len(w) != 0 {
		t.Errorf("a CREATEDB role: warned %q", w)
	}
}

// TestURLRollsBackItsPreparedTransactions: a migration's PREPARE TRANSACTION (refused up front by the
// rehearsal, run here directly) outlives its session; Close rolls back the prepared transactions of the
// run's database and drops it, and leaves those of other databases alone (finding 10: the database and
// the prepared transaction stayed on the server).
func TestURLRollsBackItsPreparedTransactions(t *testing.T) {
	t.Parallel()
	requireLocal(t)
	l := NewLocal(Options{serverSettings: []string{"max_prepared_transactions=5"}})
	srv, err := l.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	server := srv.AdminURL
	execSQL(t, server, "CREATE DATABASE keepme")
	execSQL(t, withDatabase(t, server, "keepme"), "BEGIN", "CREATE TABLE k (id int)", "PREPARE TRANSACTION 'theirs'")
	keepme := withDatabase(t, server, "keepme")
	cleanupSQL(t, keepme, "ROLLBACK PREPARED 'theirs'")

	inst, err := NewURL(Options{DatabaseURL: server}).Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	execSQL(t, inst.URL, "BEGIN", "CREATE TABLE pt (id int)", "PREPARE TRANSACTION 'sgx'")
	if err := inst.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	conn, err := pgx.Connect(t.Context(), server)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, _ := conn.Query(t.Context(), "SELECT database || '/' || gid FROM pg_prepared_xacts ORDER BY 1")
	left, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(left, []string{"keepme/theirs"}) {
		t.Errorf("prepared transactions after Close: %v, want only keepme/theirs", left)
	}
	for _, d := range databases(t, server) {
		if strings.HasPrefix(d, DatabasePrefix) {
			t.Errorf("database %s left on the server", d)
		}
	}
}

// TestURLConnectTimeout: the URLs the url provider hands out carry connect_timeout=10, so that the
// run's connections give up on a server that takes connections and never answers, unless the user's URL
// sets a timeout of its own, which is kept as given. Start itself gives up on such a server too.
func TestURLConnectTimeout(t *testing.T) {
	t.Parallel()
	silent := silentServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	_, err := NewURL(Options{DatabaseURL: "postgres://u:pw@" + silent + "/postgres?sslmode=disable"}).Start(ctx)
	if err == nil {
		t.Fatal("Start succeeded against a server that never answers")
	}
	if ctx.Err() != nil {
		t.Fatalf("Start waited until the test's deadline: %v", err)
	}
	if !strings.Contains(err.Error(), "is the server running") {
		t.Errorf("error %q does not say to check the server", err)
	}

	server := existingServer(t)
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ given, want string }{{"", "10"}, {"3", "3"}} {
		q := u.Query()
		q.Del("connect_timeout")
		if tt.given != "" {
			q.Set("connect_timeout", tt.given)
		}
		v := *u
		v.RawQuery = q.Encode()
		inst, err := NewURL(Options{DatabaseURL: v.String()}).Start(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for what, s := range map[string]string{"URL": inst.URL, "AdminURL": inst.AdminURL} {
			got, err := url.Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			if ct := got.Query()["connect_timeout"]; len(ct) != 1 || ct[0] != tt.want {
				t.Errorf("given connect_timeout %q: %s has connect_timeout %v, want %s", tt.given, what, ct, tt.want)
			}
			if tt.given == "" {
				// The same URL, had its server frozen, gives up by itself.
				q := got.Query()
				q.Del("host") // the local provider's socket and port
				q.Del("port")
				got.Host, got.RawQuery = silent, q.Encode()
				connectFails(t, got.String())
			}
		}
		if err := inst.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// silentServer listens on a port of 127.0.0.1 that takes connections and never says a word (a frozen
// host, a proxy whose backend is gone) and returns its address.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	return l.Addr().String()
}

// TestURLRolesCreatedKeepsTheTransaction: a read of the roles that fails on the run's session (here its
// lock_timeout, as another session locks the catalog behind pg_roles) is an error of RolesCreated, not
// of the migration's transaction, which still commits.
func TestURLRolesCreatedKeepsTheTransaction(t *testing.T) {
	t.Parallel()
	server := existingServer(t)
	inst, err := NewURL(Options{DatabaseURL: server}).Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	if err := inst.ClaimRoles(t.Context(), []string{"sg_locked"}); err != nil {
		t.Fatal(err)
	}
	session, err := pgx.Connect(t.Context(), inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close(context.Background())
	locker, err := pgx.Connect(t.Context(), server)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(context.Background())
	for _, q := range []string{"BEGIN", "SET LOCAL lock_timeout = '100ms'", "CREATE ROLE sg_locked", "CREATE TABLE kept (id int)"} {
		if _, err := session.Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := locker.Exec(t.Context(), "BEGIN; LOCK TABLE pg_catalog.pg_db_role_setting IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	err = inst.RolesCreated(t.Context(), session, []string{"sg_locked"})
	if _, lerr := locker.Exec(t.Context(), "ROLLBACK"); lerr != nil {
		t.Fatal(lerr)
	}
	if err == nil || !strings.Contains(err.Error(), "lock timeout") {
		t.Errorf("RolesCreated: %v, want the lock timeout", err)
	}
	if _, err := session.Exec(t.Context(), "COMMIT"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := session.QueryRow(t.Context(), "SELECT count(*) FROM pg_class WHERE relname = 'kept'").Scan(&n); err != nil || n != 1 {
		t.Errorf("the migration's table after its COMMIT: %d, %v; want it committed", n, err)
	}
}

// replyHolder is a TCP proxy to the local server at socket that stops passing the server's replies on
// a connection once the client has sent hold on it, as a network that loses the answer does; hold is
// closed then (once). Other connections pass.
func replyHolder(t *testing.T, socket, hold string) (addr string, held <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan struct{})
	var once sync.Once
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("unix", socket)
			if err != nil {
				c.Close()
				continue
			}
			t.Cleanup(func() { c.Close(); s.Close() })
			var holding atomic.Bool
			go func() {
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 && strings.Contains(string(buf[:n]), hold) {
						holding.Store(true)
						once.Do(func() { close(ch) })
					}
					if n > 0 {
						if _, err := s.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						s.Close()
						return
					}
				}
			}()
			go func() {
				buf := make([]byte, 64<<10)
				for {
					n, err := s.Read(buf)
					if n > 0 && !holding.Load() {
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						c.Close()
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), ch
}

// TestURLStartCancelledWhileCreating: SIGTERM or Ctrl-C (a cancelled context) while CREATE DATABASE
// runs, and the server creates the database all the same: it has no mark yet, which no later run would
// remove, so Start drops it before it returns its error.
func TestURLStartCancelledWhileCreating(t *testing.T) {
	admin := existingServer(t)
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(u.Query().Get("host"), ".s.PGSQL."+u.Query().Get("port"))
	addr, held := replyHolder(t, socket, "CREATE DATABASE")
	proxied := *u
	proxied.Host, proxied.RawQuery = addr, "sslmode=disable"
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		inst, err := NewURL(Options{DatabaseURL: proxied.String()}).Start(ctx)
		if err == nil {
			inst.Close(context.Background())
		}
		done <- err
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("Start ended before its CREATE DATABASE: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no CREATE DATABASE within 30s")
	}
	runDBs := func() []string {
		var out []string
		for _, d := range databases(t, admin) {
			if strings.HasPrefix(d, DatabasePrefix) {
				out = append(out, d)
			}
		}
		return out
	}
	// The server has created it (the client has not heard): then the signal comes.
	for deadline := time.Now().Add(30 * time.Second); len(runDBs()) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the server did not create the database within 30s")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Start succeeded after its context was cancelled")
		}
	case <-time.After(time.Minute):
		t.Fatal("Start did not return within a minute of the cancellation")
	}
	if left := runDBs(); len(left) > 0 {
		t.Errorf("databases left on the server after a Start cancelled during CREATE DATABASE: %v", left)
	}
}

// TestURLDropAcrossARestart: the server goes down (a fast shutdown) as the run ends, and comes back.
// The drop of the run's database connected once, while the server was down, gave up, and left the
// database behind; it now connects again until the server is back (within its minute).
func TestURLDropAcrossARestart(t *testing.T) {
	l := requireLocal(t)
	server, err := l.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(context.Background()) })
	su, err := url.Parse(server.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(su.Query().Get("host"), "data")
	opts, err := os.ReadFile(filepath.Join(data, "postmaster.opts")) // the server's command line
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, f := range strings.Fields(string(opts)) {
		args = append(args, strings.Trim(f, `"`))
	}
	bin, err := l.binDir()
	if err != nil {
		t.Fatal(err)
	}
	ra, err := currentRunAs()
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	var mu sync.Mutex
	retried := make(chan struct{}, 1)
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		if strings.Contains(string(p), "connecting again") {
			select {
			case retried <- struct{}{}:
			default:
			}
		}
		return logs.Write(p)
	}), nil))
	p := NewURL(Options{DatabaseURL: server.AdminURL, Logger: logger})
	inst, err := p.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")

	if out, err := ra.command(t.Context(), filepath.Join(bin, "pg_ctl"), "stop", "-D", data, "-m", "fast", "-w").CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl stop: %v: %s", err, out)
	}
	closed := make(chan error, 1)
	go func() { closed <- inst.Close(context.Background()) }()
	select {
	case err := <-closed:
		t.Fatalf("close with the server down: %v; want it to wait for the server", err)
	case <-retried:
	}
	// Back up, as the server's own start had it (the old postmaster was the provider's child).
	again := ra.command(context.Background(), args[0], args[1:]...)
	if err := again.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = again.Process.Signal(syscall.SIGQUIT)
		_ = again.Wait()
	})
	if err := <-closed; err != nil {
		t.Fatalf("close: %v", err)
	}
	if slices.Contains(databases(t, server.AdminURL), name) {
		t.Errorf("database %s is left after the restart", name)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestURLDropsATemplateDatabase: a migration that ran ALTER DATABASE ... IS_TEMPLATE true on the run's
// database (a template cannot be dropped) does not keep Close from dropping it.
func TestURLDropsATemplateDatabase(t *testing.T) {
	t.Parallel()
	server := existingServer(t)
	before := databases(t, server)
	ctx := t.Context()
	inst, err := NewURL(Options{DatabaseURL: server}).Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	execSQL(t, inst.URL, "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I IS_TEMPLATE true', current_database()); END $$")
	if err := inst.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if after := databases(t, server); !slices.Equal(after, before) {
		t.Errorf("databases after Close: %v, want %v", after, before)
	}
}
