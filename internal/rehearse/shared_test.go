package rehearse

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
)

// TestSharedServerChanges: on a server the rehearsal shares (--provider url), a migration that alters
// or drops a role it did not create, or changes the server beyond its database, is refused with its
// file and line; what concerns only the run's own roles and database is not.
func TestSharedServerChanges(t *testing.T) {
	read := func(sql string) *migrate.Set {
		t.Helper()
		set, err := migrate.Read(fstest.MapFS{"001_x.sql": &fstest.MapFile{Data: []byte(sql)}}, migrate.FormatPlain)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	for sql, want := range map[string]string{
		"CREATE TABLE g (id int);\nALTER ROLE existing_role CREATEDB;":                                         "001_x.sql:2: ALTER ROLE existing_role",
		"DROP ROLE existing_role;":                                                                             "DROP ROLE existing_role",
		"ALTER ROLE CURRENT_USER SET search_path = app;":                                                       "ALTER ROLE CURRENT_USER SET",
		"ALTER ROLE ALL SET statement_timeout = 0;":                                                            "ALTER ROLE ALL SET",
		"ALTER ROLE old_name RENAME TO new_name;":                                                              "RENAME renames a role",
		"GRANT app_reader TO reporting;":                                                                       "role membership",
		"ALTER SYSTEM SET work_mem = '1GB';":                                                                   "ALTER SYSTEM",
		"CREATE TABLESPACE fast LOCATION '/ssd';":                                                              "tablespace",
		"ALTER DATABASE app SET timezone TO 'UTC';":                                                            "database statement",
		"COMMENT ON ROLE existing_role IS 'x';":                                                                "COMMENT ON a role",
		"CREATE ROLE app_rw;\nALTER ROLE app_rw LOGIN;\nGRANT app_rw TO reporting;\nDROP ROLE app_rw;":         "",
		"CREATE TABLE t (id int);\nGRANT SELECT ON t TO existing_role;\nALTER TABLE t OWNER TO existing_role;": "",
		// Code run from text, COPY with the server's programs and files, other sessions.
		"DO $$BEGIN EXECUTE 'ALTER ROLE postgres PASSWORD ''pwned'''; EXECUTE 'CREATE ROLE backdoor2 SUPERUSER LOGIN'; END$$;": `mentions "ALTER ROLE"`,
		"DO $$BEGIN EXECUTE 'cre' || 'ate' || ' x'; EXECUTE 'Create ' || 'User ' || 'x'; END$$;":                               `mentions "Create ' || 'User"`,
		"CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$BEGIN EXECUTE 'drop database x'; END$$;":                       `mentions "drop database"`,
		"DO $$BEGIN EXECUTE 'COPY (SELECT 1) TO ' || 'PROGRAM ''id'''; END$$;":                                                 `mentions "PROGRAM"`,
		"DO $$BEGIN EXECUTE 'ALTER SYSTEM SET work_mem = 1'; END$$;":                                                           `mentions "ALTER SYSTEM"`,
		"COPY (SELECT 1) TO PROGRAM 'cat > /tmp/x';":                                                                           "COPY ... PROGRAM",
		"COPY t FROM '/etc/passwd';":                                         "server file",
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity;":            "pg_terminate_backend(",
		"SELECT pg_read_file('/etc/passwd');":                                "pg_read_file(",
		"CREATE TABLE program (id int);\nCOPY program FROM STDIN;\n1\n\\.\n": "",
		"DO $$BEGIN CREATE TABLE IF NOT EXISTS users (id int); EXECUTE 'ALTER TABLE users ADD COLUMN role text'; END$$;": "",
	} {
		err := sharedServerChanges(nil, read(sql))
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: refused: %v", sql, err)
		case want != "" && (err == nil || !errors.Is(err, ErrSharedServer) || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: error %v, want one naming %q", sql, err, want)
		}
	}
}

// sharedServer starts a private local server to play a shared one, runs setup on it as its superuser,
// and returns it with that superuser's connection; both end with the test.
func sharedServer(t *testing.T, setup string) (*sandbox.Instance, *pgx.Conn) {
	t.Helper()
	inst, err := sandbox.NewLocal(sandbox.Options{}).Start(t.Context())
	if err != nil {
		pgtest.Unavailable(t, "local PostgreSQL: %v", err)
	}
	t.Cleanup(func() { inst.Close(context.Background()) })
	admin, err := pgx.Connect(t.Context(), inst.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	if _, err := admin.Exec(t.Context(), setup); err != nil {
		t.Fatal(err)
	}
	return inst, admin
}

// TestSharedServerGuard: on a shared server, a migration whose change to the server gets past the
// static check (its words split so that no keyword shows) is caught by the fingerprint around it: the
// migration fails naming what changed, the rest of the rehearsal is canceled, and the server's other
// roles stay as they were found otherwise. The "shared" server is a private local one.
func TestSharedServerGuard(t *testing.T) {
	inst, _ := sharedServer(t, "CREATE ROLE sg_victim LOGIN")
	read := func(files map[string]string) *migrate.Set {
		fsys := fstest.MapFS{}
		for k, v := range files {
			fsys[k] = &fstest.MapFile{Data: []byte(v)}
		}
		set, err := migrate.Read(fsys, migrate.FormatGolangMigrate)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	set := read(map[string]string{
		"1_ok.up.sql": "CREATE ROLE sg_app;\nCREATE TABLE a (id int);\nGRANT SELECT ON a TO sg_app;", "1_ok.down.sql": "DROP TABLE a;",
		"2_sneaky.up.sql":   "DO $$BEGIN EXECUTE format('%s %s %I SUPERUSER', 'ALT' || 'ER', 'RO' || 'LE', 'sg_victim'); END$$;",
		"2_sneaky.down.sql": "SELECT 1;",
		"3_later.up.sql":    "CREATE TABLE c (id int);\nSELECT pg_sleep(5);", "3_later.down.sql": "DROP TABLE c;",
	})
	if err := sharedServerChanges(nil, set); err != nil {
		t.Fatalf("the static check already refuses the migration, the test needs one it misses: %v", err)
	}
	rep, err := Run(t.Context(), Options{Set: set, Provider: sandbox.NewURL(sandbox.Options{DatabaseURL: inst.AdminURL}), NoTrace: true})
	if err != nil {
		t.Fatal(err)
	}
	byVersion := map[string]report.Migration{}
	for _, m := range rep.Migrations {
		byVersion[m.Version] = m
	}
	if m := byVersion["1"]; m.Status != report.StatusApplied {
		t.Errorf("1 (a role of the run's own): %s %+v", m.Status, m.Error)
	}
	m := byVersion["2"]
	if m.Status != report.StatusFailed || m.Error == nil || !strings.Contains(m.Error.Message, "changed the shared server") ||
		!strings.Contains(m.Error.Message, "role sg_victim changed") {
		t.Errorf("2: %s %+v; want failed for changing role sg_victim", m.Status, m.Error)
	}
	if m := byVersion["3"]; m.Status == report.StatusApplied {
		t.Errorf("3 ran after the shared server was changed: %s", m.Status)
	}
	if rep.OK || !strings.Contains(strings.Join(rep.Notes, "\n"), "migration 2_sneaky changed the shared server") {
		t.Errorf("report ok %v, notes %q; want failed with a note naming 2_sneaky", rep.OK, rep.Notes)
	}
}

// TestSharedServerGuardWithACreatedbRole: on a managed server the url provider's role has CREATEDB but
// may not read pg_authid. The guard's fingerprint used to name pg_authid in a branch that never ran,
// and PostgreSQL refused the whole query: every migration failed as "changed the shared server". When
// the server then goes away, that is the rehearsal's failure, and no migration is blamed for it.
func TestSharedServerGuardWithACreatedbRole(t *testing.T) {
	inst, admin := sharedServer(t, "CREATE ROLE sg_cdb LOGIN CREATEDB")
	u, err := url.Parse(inst.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User("sg_cdb")
	set, err := migrate.Read(fstest.MapFS{
		"1_a.up.sql": {Data: []byte("CREATE TABLE a (id bigint PRIMARY KEY);\nCREATE INDEX a_id ON a (id);")}, "1_a.down.sql": {Data: []byte("DROP TABLE a;")},
		"2_b.up.sql": {Data: []byte("CREATE TABLE b (id bigint);")}, "2_b.down.sql": {Data: []byte("DROP TABLE b;")},
	}, migrate.FormatGolangMigrate)
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	provider := sandbox.NewURL(sandbox.Options{DatabaseURL: u.String()})
	rep, err := Run(t.Context(), Options{Set: set, Provider: provider, NoTrace: true, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range rep.Migrations {
		if m.Status != report.StatusApplied || m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
			t.Errorf("%s: %s %+v, round trip %+v; want applied and ok", m.Version, m.Status, m.Error, m.Roundtrip)
		}
	}
	mu.Lock()
	if !rep.OK || strings.Contains(strings.Join(rep.Notes, "\n")+logs.String(), "changed the shared server") {
		t.Errorf("report ok %v, notes %q; want ok and nothing blamed:\n%s", rep.OK, rep.Notes, logs.String())
	}
	logs.Reset()
	mu.Unlock()

	// The server goes away during a migration.
	set, err = migrate.Read(fstest.MapFS{
		"1_a.up.sql": {Data: []byte("CREATE TABLE a (id bigint);\nSELECT pg_sleep(30);")}, "1_a.down.sql": {Data: []byte("DROP TABLE a;")},
	}, migrate.FormatGolangMigrate)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			var n int
			if admin.QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'").Scan(&n); n > 0 {
				inst.Close(context.Background())
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	_, err = Run(t.Context(), Options{Set: set, Provider: provider, NoTrace: true, Logger: logger})
	var stopped *stoppedError
	if !errors.As(err, &stopped) {
		t.Errorf("error %v; want one that says the server stopped answering", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), "changed the shared server") {
		t.Errorf("a migration was blamed for the server going away:\n%s", logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
