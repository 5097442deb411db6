package deploy

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/snapshot"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(deployChild())
	}
	os.Exit(pgtest.Main(m))
}

// fakeClock advances only when waited on.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- now
	return ch
}

// advance moves the clock on by d, as the time something took.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// lateClock is a fakeClock whose timers fire late, by late, as on a loaded machine.
type lateClock struct {
	*fakeClock
	late time.Duration
}

func (c *lateClock) After(d time.Duration) <-chan time.Time { return c.fakeClock.After(d + c.late) }

// advanceWhen has the progress output *progress points at move clock on by d the first time a message
// containing msg comes, after what it did before: the step it reports took that long.
func advanceWhen(progress *func(string), msg string, clock *fakeClock, d time.Duration) {
	before := *progress
	var once sync.Once
	*progress = func(m string) {
		if before != nil {
			before(m)
		}
		if strings.Contains(m, msg) {
			once.Do(func() { clock.advance(d) })
		}
	}
}

// target is a database holding data, like production.
type target struct {
	url  string
	conn *pgx.Conn
}

// newTarget is a fresh database of the test server, holding data.
func newTarget(t *testing.T) *target {
	t.Helper()
	return newTargetAt(t, pgtest.URL(t))
}

// newTargetAt is newTarget in the empty database of url.
func newTargetAt(t *testing.T, url string) *target {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	tg := &target{url: url, conn: conn}
	tg.exec(t, `
		CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL, balance numeric(12,2) NOT NULL);
		INSERT INTO accounts SELECT g, 'acct ' || g, g * 10.25 FROM generate_series(1, 3000) g;
		CREATE TABLE orders (id bigserial PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts, total numeric(12,2), note text);
		INSERT INTO orders (account_id, total, note) SELECT g % 3000 + 1, g * 1.5, md5(g::text) FROM generate_series(1, 6000) g;
		CREATE INDEX orders_account_idx ON orders (account_id);
		CREATE TABLE app_settings (key text PRIMARY KEY, value text NOT NULL);
		INSERT INTO app_settings VALUES ('maintenance', 'off');`)
	return tg
}

func (tg *target) exec(t *testing.T, sql string) {
	t.Helper()
	if _, err := tg.conn.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// writeAt has another session commit sql on tg when o's progress reaches a line that starts with at
// (after the snapshot, before what fails); "" writes nothing.
func (tg *target) writeAt(t *testing.T, o *Options, at, sql string) {
	progress := o.Progress
	o.Progress = func(msg string) {
		progress(msg)
		if strings.HasPrefix(msg, at) && sql != "" {
			tg.exec(t, sql)
		}
	}
}

func (tg *target) value(t *testing.T, sql string, args ...any) string {
	t.Helper()
	var v string
	if err := tg.conn.QueryRow(t.Context(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// checksums is every application table's content (md5 of its rows in key order) and the catalog's shape.
func (tg *target) checksums(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, tb := range []string{"accounts", "orders", "app_settings"} {
		b.WriteString(tb + "=" + tg.value(t, "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), 'none') FROM "+tb+" t") + "\n")
	}
	cat, err := catalog(t.Context(), tg.conn, "schemagate")
	if err != nil {
		t.Fatal(err)
	}
	b.WriteString(strings.Join(cat, "\n"))
	return b.String()
}

func (tg *target) maintenance(t *testing.T) string {
	return tg.value(t, "SELECT value FROM app_settings WHERE key = 'maintenance'")
}

// folder builds a golang-migrate folder from name -> SQL.
func folder(t *testing.T, files map[string]string) *migrate.Set { return folderB(t, files) }

func folderB(t testing.TB, files map[string]string) *migrate.Set {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, sql := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(sql)}
	}
	set, err := migrate.Read(fsys, migrate.FormatGolangMigrate)
	if err != nil {
		t.Fatalf("read migrations: %v", err)
	}
	return set
}

// options returns deploy options for the target with a pg_dump snapshot and SQL maintenance mode.
func (tg *target) options(t *testing.T, set *migrate.Set, runID string) Options {
	env := &config.Environment{
		LockWait:     5 * time.Second,
		RetryBackoff: 10 * time.Millisecond,
		Maintenance: config.Maintenance{
			On:  config.Action{SQL: "UPDATE app_settings SET value = 'on' WHERE key = 'maintenance'"},
			Off: config.Action{SQL: "UPDATE app_settings SET value = 'off' WHERE key = 'maintenance'"},
		},
	}
	maint, err := NewMaintenance(env.Maintenance, tg.url, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		Env: "test", Config: env, URL: tg.url, Set: set, RunID: runID, Holder: "tester", Commit: "0123456789abcdef",
		Snapshotter: &snapshot.PGDump{URL: tg.url, Dir: t.TempDir(), Jobs: 2, ExcludeSchemas: []string{"schemagate"}},
		Maintenance: maint,
		Progress:    func(msg string) { t.Log(msg) },
		offPause:    10 * time.Millisecond,
	}
}

// historyOf returns "version:status" of every history row, oldest first.
func (tg *target) historyOf(t *testing.T) string {
	rows, err := tg.conn.Query(t.Context(), "SELECT version || ':' || status FROM schemagate.schemagate_history ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(got, " ")
}

// nothingChanged fails t unless the deploy of goodMigrations whose result is res left its four
// migrations pending, the database as it was (before: its checksums then) and maintenance mode off.
func (tg *target) nothingChanged(t *testing.T, res *Result, before string) {
	t.Helper()
	if got := statuses(res); got != "1:pending 2:pending 3:pending 4:pending" {
		t.Errorf("statuses %q", got)
	}
	if after := tg.checksums(t); after != before {
		t.Error("database changed")
	}
	if tg.maintenance(t) != "off" {
		t.Error("maintenance mode left on")
	}
}

func statuses(r *Result) string {
	var s []string
	for _, m := range r.Migrations {
		s = append(s, m.Version+":"+m.Status)
	}
	return strings.Join(s, " ")
}

// releaseAtLockTimeout has the progress output *progress points at call release once a migration has
// given up waiting for a lock (the progress says "lock timeout"), after what it did before: the retry
// then gets through.
func releaseAtLockTimeout(progress *func(string), release func()) {
	before := *progress
	*progress = func(msg string) {
		if before != nil {
			before(msg)
		}
		if strings.Contains(msg, "lock timeout") {
			release()
		}
	}
}

// holdLock has another session hold ACCESS SHARE on table, as a long query would, until release (which
// may be called any number of times; the test's end calls it too).
func (tg *target) holdLock(t *testing.T, table string) (release func()) {
	t.Helper()
	return tg.lockTable(t, table, "ACCESS SHARE", "")
}
