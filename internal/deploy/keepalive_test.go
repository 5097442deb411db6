package deploy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/snapshot"
)

// tcpServer starts a PostgreSQL server reached over TCP (pgtest.TCPServer) and returns its URL.
func tcpServer(t *testing.T) string {
	t.Helper()
	return pgtest.TCPServer(t).URL
}

// keepalives reads the session's TCP keepalive settings and whether it is a TCP connection.
func keepalives(t *testing.T, conn *pgx.Conn) (tcp bool, got string) {
	t.Helper()
	err := conn.QueryRow(t.Context(), `SELECT inet_client_addr() IS NOT NULL, current_setting('tcp_keepalives_idle') || ' ' ||
		current_setting('tcp_keepalives_interval') || ' ' || current_setting('tcp_keepalives_count') || ' ' || current_setting('tcp_user_timeout')`).Scan(&tcp, &got)
	if err != nil {
		t.Fatal(err)
	}
	return tcp, got
}

// TestDeployLockSessionKeepalives: the deploy lock is held by a session that sits idle for the whole
// deploy. When the deploy's host dies (power, network), the server kept that session, and the lock, for
// the kernel's TCP keepalive defaults: two hours and more before another deploy could start. The lock's
// session (and the work session, whose migration may hold a table's lock) now set the server's keepalives
// so that the server ends them within about two minutes of the host going silent.
func TestDeployLockSessionKeepalives(t *testing.T) {
	t.Parallel()
	url := tcpServer(t)
	const want = "60 10 6 120000"

	l, _, err := acquireLock(t.Context(), url, history{schema: "schemagate", lockTimeout: time.Second}, time.Second, RealClock, nil)
	if err != nil {
		t.Fatal(err)
	}
	tcp, got := keepalives(t, l.conn)
	if !tcp {
		t.Fatal("the lock's session is not a TCP connection")
	}
	if got != want {
		t.Errorf("the lock's session has keepalives %q, want %q", got, want)
	}
	l.conn.Close(t.Context()) // the lock goes with it (no history tables yet for release's lock row)

	// The work session keeps them across the reset before each migration: a migration reads them.
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(t.Context(), "CREATE TABLE app_settings (key text PRIMARY KEY, value text NOT NULL); INSERT INTO app_settings VALUES ('maintenance', 'off')"); err != nil {
		t.Fatal(err)
	}
	tg := &target{url: url, conn: conn}
	o := tg.options(t, folder(t, map[string]string{
		"1_ka.up.sql": `CREATE TABLE ka AS SELECT current_setting('tcp_keepalives_idle') || ' ' || current_setting('tcp_keepalives_interval') || ' ' ||
			current_setting('tcp_keepalives_count') || ' ' || current_setting('tcp_user_timeout') AS v;`,
		"1_ka.down.sql": "DROP TABLE ka;",
	}), "run-keepalive")
	o.Snapshotter = nil
	var progress []string
	o.Progress = func(msg string) { t.Log(msg); progress = append(progress, msg) }
	if res, err := runBounded(t, o); err != nil {
		t.Fatalf("err %v, outcome %s", err, res.Outcome)
	}
	if got := tg.value(t, "SELECT v FROM ka"); got != want {
		t.Errorf("the work session has keepalives %q, want %q", got, want)
	}
	// So does the session that marks the snapshot's moment, whose transaction stays open all the deploy.
	w, err := startWatch(t.Context(), url, lockTimeoutSQL(time.Second), "schemagate")
	if err != nil {
		t.Fatal(err)
	}
	defer w.close(context.Background())
	if _, got := keepalives(t, w.conn); got != want {
		t.Errorf("the snapshot's watch has keepalives %q, want %q", got, want)
	}
	if w := "the server frees the deploy lock within about 2m0s"; !strings.Contains(strings.Join(progress, "\n"), w) {
		t.Errorf("progress does not say %q:\n%s", w, strings.Join(progress, "\n"))
	}
}

// TestDeployLockSessionKeepalivesUnixSocket: on a Unix socket, which has no keepalives, setting them is
// harmless: they read as 0 and the progress output does not promise a bound.
func TestDeployLockSessionKeepalivesUnixSocket(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	l, _, err := acquireLock(t.Context(), tg.url, history{schema: "schemagate", lockTimeout: time.Second}, time.Second, RealClock, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.conn.Close(context.Background())
	tcp, got := keepalives(t, l.conn)
	if tcp || !strings.HasPrefix(got, "0 0 0") {
		t.Errorf("tcp %v, keepalives %q: want a Unix socket's zeros", tcp, got)
	}
}

// TestMaintenanceSQLKeepalives: a maintenance action's SQL runs in a transaction on a connection of its
// own, which holds the locks of what it changes (the flag's row, a LOCK TABLE) until it commits. Its
// session had the kernel's keepalives: should the deploy's host die mid-action, the server kept the
// transaction, and the application waiting on its locks, for two hours and more. It now sets them as
// the deploy's own sessions do.
func TestMaintenanceSQLKeepalives(t *testing.T) {
	t.Parallel()
	url := tcpServer(t)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "CREATE TABLE ka (v text)"); err != nil {
		t.Fatal(err)
	}
	a := &SQLAction{URL: url, SQL: `INSERT INTO ka SELECT current_setting('tcp_keepalives_idle') || ' ' || current_setting('tcp_keepalives_interval') || ' ' ||
		current_setting('tcp_keepalives_count') || ' ' || current_setting('tcp_user_timeout')`}
	if err := a.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := conn.QueryRow(t.Context(), "SELECT v FROM ka").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := "60 10 6 120000"; got != want {
		t.Errorf("the maintenance SQL's session has keepalives %q, want %q", got, want)
	}
}

// TestDeployRestoreCommandKeepalives: a restore_command's psql drops and recreates what the snapshot
// holds, holding those tables' exclusive locks until it commits. Its session had the kernel's keepalives:
// should the deploy's host die mid-restore, the server kept the transaction, and every query of the
// application queued on its locks, for two hours and more. The hook's libpq sessions now get, in
// PGOPTIONS, the keepalives the deploy's own sessions set, with lock_timeout.
func TestDeployRestoreCommandKeepalives(t *testing.T) {
	t.Parallel()
	url := tcpServer(t)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(t.Context(), "CREATE TABLE app_settings (key text PRIMARY KEY, value text NOT NULL); INSERT INTO app_settings VALUES ('maintenance', 'off'); CREATE TABLE seen (v text)"); err != nil {
		t.Fatal(err)
	}
	tg := &target{url: url, conn: conn}
	// Migration 1 has no down, and 2 fails: the rollback restores the snapshot, through the hook.
	o := tg.options(t, folder(t, map[string]string{
		"1_t1.up.sql":   "CREATE TABLE t1 (id int);",
		"2_fail.up.sql": "SELECT 1/0;", "2_fail.down.sql": "SELECT 1;",
	}), "run-restore-keepalive")
	o.Snapshotter = &snapshot.Command{
		Take: "echo snap-1",
		Restore: `exec psql -X -q -v ON_ERROR_STOP=1 -d "$URL" -c "DROP TABLE IF EXISTS t1; INSERT INTO seen SELECT current_setting('tcp_keepalives_idle') || ' ' || ` +
			`current_setting('tcp_keepalives_interval') || ' ' || current_setting('tcp_keepalives_count') || ' ' || current_setting('tcp_user_timeout') || ' ' || current_setting('lock_timeout')"`,
		Env:     []string{"URL=" + url},
		Timeout: time.Minute,
	}
	res, err := runBounded(t, o)
	if err == nil || res.Rollback == nil || res.Rollback.Method != "snapshot" {
		t.Fatalf("err %v, outcome %s, rollback %+v; want migration 2 failed and the snapshot restored", err, res.Outcome, res.Rollback)
	}
	if got, want := tg.value(t, "SELECT string_agg(v, ',') FROM seen"), "60 10 6 120000 5s"; got != want {
		t.Errorf("the restore hook's session has keepalives and lock_timeout %q, want %q", got, want)
	}
}

// TestDeployKeepalivesTheURLSets: a keepalive setting the deploy's URL gives (options=-c ...) is the
// user's choice for those very connections and stays, higher or lower, as it does for pg_dump's and the
// restore's sessions; the deploy used to lower a higher one to its own. The others are still set.
func TestDeployKeepalivesTheURLSets(t *testing.T) {
	t.Parallel()
	url := tcpServer(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	url += sep + "options=-c%20tcp_keepalives_idle%3D300%20-c%20tcp_keepalives_count%3D3"
	l, _, err := acquireLock(t.Context(), url, history{schema: "schemagate", lockTimeout: time.Second}, time.Second, RealClock, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.conn.Close(context.Background())
	if _, got := keepalives(t, l.conn); got != "300 10 3 120000" {
		t.Errorf("the lock's session has keepalives %q, want %q (the URL's idle and count, the deploy's interval and user timeout)", got, "300 10 3 120000")
	}
	if want := "-c tcp_keepalives_interval=10 -c tcp_user_timeout=120000"; l.keep != want {
		t.Errorf("options for the restore hook %q, want %q", l.keep, want)
	}
}
