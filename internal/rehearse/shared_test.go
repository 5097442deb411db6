package rehearse

import (
	"context"
	"errors"
	"fmt"
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
		"COPY t FROM '/etc/passwd';":                              "server file",
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity;": "pg_terminate_backend(",
		"SELECT pg_read_file('/etc/passwd');":                     "pg_read_file(",
		// The lint's functions, quoted or not: the shared check knows the ones the lint knows.
		`SELECT "pg_read_file"('/etc/passwd');`:                              `pg_read_file"(`,
		"SELECT pg_ls_logdir();":                                             "pg_ls_logdir(",
		"SELECT pg_file_unlink('x');":                                        "pg_file_unlink(",
		"SELECT pg_wal_replay_pause();":                                      "pg_wal_replay_pause(",
		"SELECT pg_replication_origin_advance('o', '0/0');":                  "pg_replication_origin_advance(",
		"SELECT dblink_fetch('c', 'cur', 10);":                               "dblink_fetch(",
		"SELECT pg_replication_origin_session_reset();":                      "pg_replication_origin_session_reset(",
		"CREATE TABLE program (id int);\nCOPY program FROM STDIN;\n1\n\\.\n": "",
		"DO $$BEGIN CREATE TABLE IF NOT EXISTS users (id int); EXECUTE 'ALTER TABLE users ADD COLUMN role text'; END$$;": "",
		// A role is the run's only after a statement created it: dropping first would drop the server's.
		"DROP ROLE IF EXISTS r3;\nCREATE ROLE r3;":                                          "001_x.sql:1: DROP ROLE r3 drops a role (roles are server-wide) that is not the run's: no statement before it creates it",
		"ALTER ROLE r4 LOGIN;\nCREATE ROLE r4;":                                             "001_x.sql:1: ALTER ROLE r4",
		"CREATE ROLE r5;\nALTER ROLE r5 RENAME TO r6;\nALTER ROLE r6 LOGIN;\nDROP ROLE r6;": "",
		// REASSIGN OWNED and DROP OWNED reach the role's databases and tablespaces.
		"CREATE ROLE r12;\nREASSIGN OWNED BY cdb TO r12;": "001_x.sql:2: REASSIGN OWNED BY cdb",
		"DROP OWNED BY nocreate;":                         "001_x.sql:1: DROP OWNED BY nocreate",
		"REASSIGN OWNED BY CURRENT_USER TO postgres;":     "REASSIGN OWNED BY CURRENT_USER",
		"CREATE ROLE r12;\nCREATE TABLE t (id int);\nALTER TABLE t OWNER TO r12;\nREASSIGN OWNED BY r12 TO CURRENT_USER;\nDROP OWNED BY r12;\nDROP ROLE r12;": "",
		// Foreign data wrappers, untrusted code (finding 13): the server's files, programs, other databases.
		"CREATE EXTENSION file_fdw;":                                                                                       "001_x.sql:1: CREATE EXTENSION file_fdw",
		"CREATE EXTENSION IF NOT EXISTS postgres_fdw;":                                                                     "CREATE EXTENSION postgres_fdw",
		"CREATE EXTENSION dblink;":                                                                                         "CREATE EXTENSION dblink",
		"CREATE EXTENSION adminpack;":                                                                                      "CREATE EXTENSION adminpack",
		"CREATE EXTENSION plpython3u;":                                                                                     "CREATE EXTENSION plpython3u",
		"CREATE SERVER fs FOREIGN DATA WRAPPER file_fdw;":                                                                  "foreign data wrapper, server",
		"CREATE FOREIGN DATA WRAPPER w;":                                                                                   "foreign data wrapper, server",
		"CREATE USER MAPPING FOR CURRENT_USER SERVER o;":                                                                   "user mapping",
		"CREATE FOREIGN TABLE pw (line text) SERVER fs;":                                                                   "foreign table",
		"IMPORT FOREIGN SCHEMA public FROM SERVER o INTO public;":                                                          "foreign table",
		"GRANT USAGE ON FOREIGN SERVER o TO PUBLIC;":                                                                       "foreign data wrapper or server",
		"CREATE FUNCTION f() RETURNS int LANGUAGE plperlu AS '1';":                                                         "LANGUAGE plperlu",
		"CREATE FUNCTION f(text) RETURNS text LANGUAGE internal AS 'pg_read_file_off_len';":                                "LANGUAGE internal",
		"CREATE FUNCTION s(cstring) RETURNS int LANGUAGE C AS '/lib/libc.so.6', 'system';":                                 "LANGUAGE c",
		"DO LANGUAGE plpython3u $$import os$$;":                                                                            "LANGUAGE plpython3u",
		"DO $$BEGIN EXECUTE 'CREATE EXTENSION ' || 'file_fdw'; END$$;":                                                     `mentions "file_fdw"`,
		"DO $$BEGIN EXECUTE 'CREATE ' || 'SERVER s FOREIGN DATA WRAPPER w'; END$$;":                                        `mentions "CREATE ' || 'SERVER"`,
		"CREATE EXTENSION pgcrypto;\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\nDO $$BEGIN NULL; END$$;": "",
		// Roles with server-wide rights, or that anyone may log in as (finding 12).
		"CREATE ROLE evil SUPERUSER LOGIN PASSWORD 'evilpw';":                         "001_x.sql:1: CREATE ROLE evil SUPERUSER",
		"CREATE ROLE r BYPASSRLS;":                                                    "CREATE ROLE r BYPASSRLS",
		"CREATE ROLE r REPLICATION;":                                                  "CREATE ROLE r REPLICATION",
		"CREATE ROLE r CREATEROLE;":                                                   "CREATE ROLE r CREATEROLE",
		"CREATE ROLE r;\nALTER ROLE r CREATEDB;":                                      "001_x.sql:2: ALTER ROLE r CREATEDB",
		"CREATE ROLE r LOGIN PASSWORD 'x';":                                           "CREATE ROLE r: a role that may LOGIN with a PASSWORD",
		"CREATE USER r PASSWORD 'x';":                                                 "CREATE ROLE r: a role that may LOGIN with a PASSWORD",
		"CREATE ROLE r PASSWORD 'x';\nALTER ROLE r LOGIN;":                            "001_x.sql:2: ALTER ROLE r: a role that may LOGIN",
		"CREATE ROLE r LOGIN;\nALTER ROLE r RENAME TO s;\nALTER ROLE s PASSWORD 'x';": "001_x.sql:3: ALTER ROLE s: a role that may LOGIN",
		"CREATE ROLE r NOLOGIN NOSUPERUSER NOCREATEDB PASSWORD 'x';\nCREATE USER u;\nCREATE ROLE v LOGIN PASSWORD 'x';\nALTER ROLE v NOLOGIN;": "001_x.sql:3: CREATE ROLE v",
		"CREATE ROLE r NOLOGIN NOSUPERUSER NOCREATEDB PASSWORD 'x';\nCREATE USER u;\nCREATE ROLE v LOGIN PASSWORD NULL;":                       "",
		// Privileges on other databases, tablespaces and parameters (findings 7 and 8).
		"REVOKE CONNECT ON DATABASE keepme FROM PUBLIC;":              "001_x.sql:1: GRANT/REVOKE ON DATABASE keepme",
		"GRANT CONNECT ON DATABASE keepme TO nocreate;":               "ON DATABASE keepme",
		"GRANT CREATE ON TABLESPACE pg_default TO nocreate;":          "ON TABLESPACE",
		"GRANT SET ON PARAMETER work_mem TO nocreate;":                "ON PARAMETER",
		"GRANT ALTER SYSTEM ON PARAMETER work_mem TO nocreate;":       "ON PARAMETER",
		"CREATE ROLE r;\nGRANT USAGE ON SCHEMA public TO r;":          "",
		"LOAD '/tmp/evil.so';":                                        "LOAD loads a library",
		"CREATE SUBSCRIPTION s CONNECTION 'host=x' PUBLICATION p;":    "subscription",
		"SELECT pg_create_physical_replication_slot('s');":            "pg_create_physical_replication_slot(",
		"SELECT * FROM pg_create_logical_replication_slot('s', 'x');": "pg_create_logical_replication_slot(",
		"SELECT pg_stat_reset_shared('bgwriter');":                    "pg_stat_reset_shared(",
		// Prepared transactions outlive the run (finding 10).
		"BEGIN;\nCREATE TABLE pt (id int);\nPREPARE TRANSACTION 'sgx';": "001_x.sql:3: PREPARE TRANSACTION",
		"COMMIT PREPARED 'sgx';":   "PREPARE TRANSACTION, COMMIT PREPARED",
		"ROLLBACK PREPARED 'sgx';": "PREPARE TRANSACTION, COMMIT PREPARED",
	} {
		err := sharedServerChanges(nil, read(sql), nil, nil)
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: refused: %v", sql, err)
		case want != "" && (err == nil || !errors.Is(err, ErrSharedServer) || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: error %v, want one naming %q", sql, err, want)
		case want != "" && !strings.Contains(err.Error(), "\nhint: rehearse them with --provider local or docker"):
			// cli escapes any line break of an error but its own ("\n  ", "\nhint: ").
			t.Errorf("%q: error %q, want what to do on a line of its own (\\nhint: )", sql, err)
		}
	}
	// Once the server is known, a role it has is not the run's even if the migrations create it.
	for sql, want := range map[string]string{
		"CREATE ROLE r3;\nDROP ROLE r3;":                     "001_x.sql:1: CREATE ROLE r3: the server already has role r3",
		"CREATE ROLE fresh;\nGRANT r3 TO fresh;":             "",
		"CREATE ROLE fresh;\nALTER ROLE fresh RENAME TO r3;": "RENAME TO r3: the server already has role r3",
	} {
		err := sharedServerChanges(nil, read(sql), nil, map[string]bool{"r3": true})
		switch {
		case want == "" && err != nil:
			t.Errorf("%q with r3 on the server: refused: %v", sql, err)
		case want != "" && (err == nil || !errors.Is(err, ErrSharedServer) || !strings.Contains(err.Error(), want)):
			t.Errorf("%q with r3 on the server: error %v, want one naming %q", sql, err, want)
		}
	}
}

// TestSharedServerRoleTheServerHas: a migration that drops and creates again a role the server already
// has (its LOGIN, password and comment would be lost) is refused before anything runs, with its file
// and line, and the server's role and databases stay as they were.
func TestSharedServerRoleTheServerHas(t *testing.T) {
	inst, admin := sharedServer(t, "CREATE ROLE sg_r3 LOGIN PASSWORD 'keep'; COMMENT ON ROLE sg_r3 IS 'preexisting'")
	var oid uint32
	if err := admin.QueryRow(t.Context(), "SELECT oid FROM pg_roles WHERE rolname = 'sg_r3'").Scan(&oid); err != nil {
		t.Fatal(err)
	}
	for name, files := range map[string]fstest.MapFS{
		// The static check alone cannot tell: the role is created before anything alters or drops it.
		"create": {"1_a.up.sql": {Data: []byte("CREATE TABLE a (id int);\nCREATE ROLE sg_r3;\n")}, "1_a.down.sql": {Data: []byte("DROP TABLE a;\nDROP ROLE sg_r3;\n")}},
		"drop":   {"1_a.up.sql": {Data: []byte("DROP ROLE IF EXISTS sg_r3;\nCREATE ROLE sg_r3;\n")}, "1_a.down.sql": {Data: []byte("DROP ROLE sg_r3;\n")}},
	} {
		set, err := migrate.Read(files, migrate.FormatGolangMigrate)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Run(t.Context(), Options{Set: set, Provider: sandbox.NewURL(sandbox.Options{DatabaseURL: inst.AdminURL}), NoTrace: true})
		if !errors.Is(err, ErrSharedServer) || !strings.Contains(err.Error(), "1_a.up.sql:") || !strings.Contains(err.Error(), "sg_r3") {
			t.Errorf("%s: error %v; want the migration refused naming 1_a.up.sql and sg_r3", name, err)
		}
	}
	var login bool
	var comment *string
	var now uint32
	if err := admin.QueryRow(t.Context(), "SELECT oid, rolcanlogin, shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = 'sg_r3'").Scan(&now, &login, &comment); err != nil {
		t.Fatalf("role sg_r3: %v", err)
	}
	if now != oid || !login || comment == nil || *comment != "preexisting" {
		t.Errorf("role sg_r3: oid %d (was %d), login %v, comment %v; want it untouched", now, oid, login, comment)
	}
	var left int
	if err := admin.QueryRow(t.Context(), `SELECT count(*) FROM pg_database WHERE datname LIKE 'schemagate\_%'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d rehearsal databases left (%v)", left, err)
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
	if err := sharedServerChanges(nil, set, nil, nil); err != nil {
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
	u, err := url.Parse(pgtest.AsRole(t, inst.AdminURL, "sg_cdb"))
	if err != nil {
		t.Fatal(err)
	}
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

// TestSharedServerGuardOtherRuns: another url run on the same server drops its roles when it ends (or a
// later run drops those of a run that died): the guard does not blame the migration that was running
// then. A migration cannot use that to hide what it does to the server's roles: a mark it writes itself
// (COMMENT ON DATABASE of another run's database) does not excuse dropping a role the server had.
func TestSharedServerGuardOtherRuns(t *testing.T) {
	// Another host's recent run: alive as far as a url run can tell.
	mark := `schemagate rehearsal database {"host":"elsewhere","pid":1,"created":"` + time.Now().UTC().Format(time.RFC3339) + `","roles":[%s]}`
	inst, admin := sharedServer(t, "CREATE ROLE sg_other_run; CREATE ROLE sg_victim2 LOGIN")
	for _, sql := range []string{"CREATE DATABASE schemagate_0000000000aa", "CREATE DATABASE schemagate_0000000000bb",
		"COMMENT ON DATABASE schemagate_0000000000aa IS '" + fmt.Sprintf(mark, `"sg_other_run"`) + "'",
		"COMMENT ON DATABASE schemagate_0000000000bb IS '" + fmt.Sprintf(mark, "") + "'"} {
		if _, err := admin.Exec(t.Context(), sql); err != nil {
			t.Fatal(err)
		}
	}
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
	// The other run ends while the migration sleeps.
	go func() {
		for {
			var n int
			if admin.QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'").Scan(&n); n > 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		conn, err := pgx.Connect(context.Background(), inst.AdminURL)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(context.Background())
		for _, sql := range []string{"DROP DATABASE schemagate_0000000000aa", "DROP ROLE sg_other_run"} {
			if _, err := conn.Exec(context.Background(), sql); err != nil {
				t.Error(err)
			}
		}
	}()
	set := read(map[string]string{"1_a.up.sql": "CREATE TABLE a (id int);\nSELECT pg_sleep(2);", "1_a.down.sql": "DROP TABLE a;"})
	rep, err := Run(t.Context(), Options{Set: set, Provider: sandbox.NewURL(sandbox.Options{DatabaseURL: inst.AdminURL}), NoTrace: true, NoRoundtrip: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || strings.Contains(strings.Join(rep.Notes, "\n"), "changed the shared server") {
		t.Errorf("report ok %v, notes %q, migrations %+v; want ok: another run dropped its own role", rep.OK, rep.Notes, rep.Migrations)
	}

	sneaky := `DO $$BEGIN
  EXECUTE format('%s %s %I', 'DR' || 'OP', 'RO' || 'LE', 'sg_victim2');
  EXECUTE 'COMM' || 'ENT ON DAT' || 'ABASE schemagate_0000000000bb IS ''` + fmt.Sprintf(mark, `"sg_victim2"`) + `''';
END$$;`
	set = read(map[string]string{"1_a.up.sql": sneaky, "1_a.down.sql": "SELECT 1;"})
	if err := sharedServerChanges(nil, set, nil, nil); err != nil {
		t.Fatalf("the static check already refuses the migration, the test needs one it misses: %v", err)
	}
	rep, err = Run(t.Context(), Options{Set: set, Provider: sandbox.NewURL(sandbox.Options{DatabaseURL: inst.AdminURL}), NoTrace: true, NoRoundtrip: true})
	if err != nil {
		t.Fatal(err)
	}
	if m := rep.Migrations[0]; m.Status != report.StatusFailed || m.Error == nil || !strings.Contains(m.Error.Message, "role sg_victim2 removed") {
		t.Errorf("1_a: %s %+v; want failed for removing role sg_victim2", m.Status, m.Error)
	}
}

// TestSharedServerGuardPrivileges: a grant on a tablespace or a server setting that gets past the static
// check (written in code run from text) is caught by the fingerprint: the migration fails naming it
// (finding 8: both stayed on the server with exit 0).
func TestSharedServerGuardPrivileges(t *testing.T) {
	inst, admin := sharedServer(t, "CREATE ROLE sg_nocreate LOGIN")
	for sql, want := range map[string]string{
		"DO $$BEGIN EXECUTE 'GRANT CREATE ON TABLE' || 'SPACE pg_default TO sg_nocreate'; END$$;": "tablespace pg_default changed",
		"DO $$BEGIN EXECUTE 'GRANT SET ON PARA' || 'METER work_mem TO sg_nocreate'; END$$;":       "privileges on parameter work_mem added",
	} {
		guardCatches(t, inst, sql, want)
		if _, err := admin.Exec(t.Context(), "REVOKE CREATE ON TABLESPACE pg_default FROM sg_nocreate; REVOKE SET ON PARAMETER work_mem FROM sg_nocreate"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSharedServerRenamedRole: a role the migration creates and then renames is dropped under its new
// name when the run ends, whether the down drops it or not (finding 11: renamed2 stayed on the server).
func TestSharedServerRenamedRole(t *testing.T) {
	inst, admin := sharedServer(t, "SELECT 1")
	for _, down := range []string{"SELECT 1;", "DROP ROLE sg_renamed2;"} {
		set, err := migrate.Read(fstest.MapFS{
			"1_a.up.sql":   {Data: []byte("CREATE ROLE sg_rnew2;\nALTER ROLE sg_rnew2 RENAME TO sg_renamed2;\n")},
			"1_a.down.sql": {Data: []byte(down)},
		}, migrate.FormatGolangMigrate)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Run(t.Context(), Options{Set: set, Provider: sandbox.NewURL(sandbox.Options{DatabaseURL: inst.AdminURL}), NoTrace: true}); err != nil {
			t.Fatalf("down %q: %v", down, err)
		}
		var left []string
		rows, _ := admin.Query(t.Context(), "SELECT rolname FROM pg_roles WHERE rolname LIKE 'sg\\_r%'")
		if left, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			t.Fatal(err)
		}
		if len(left) > 0 {
			t.Errorf("down %q: roles left on the server: %v", down, left)
		}
	}
}

// TestSharedServerConnectionLimit: the url provider's role may open 2 connections; the rehearsal needs
// more (the migrations' session, the watchdog's, the guard's). The guard's refused connection (53300
// too_many_connections) was taken for a change a migration made to the shared server: 2_b failed as
// "changed the shared server", and check exited 3. It is the rehearsal's failure, which names the limit.
//
// With a limit of 1, the rehearsal's own two sessions (opened together) meet it: the refused one said
// only "too many connections for role", not which limit to raise (a run under load, where a session
// that ended had not yet left, met it there with a limit of 2 too).
func TestSharedServerConnectionLimit(t *testing.T) {
	for _, limit := range []int{2, 1} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) { testSharedServerConnectionLimit(t, limit) })
	}
}

func testSharedServerConnectionLimit(t *testing.T, limit int) {
	inst, _ := sharedServer(t, fmt.Sprintf("CREATE ROLE sg_lim LOGIN CREATEDB CONNECTION LIMIT %d", limit))
	u, err := url.Parse(pgtest.AsRole(t, inst.AdminURL, "sg_lim"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := migrate.Read(fstest.MapFS{
		"1_a.up.sql": {Data: []byte("CREATE TABLE a (id bigint);")}, "1_a.down.sql": {Data: []byte("DROP TABLE a;")},
		"2_b.up.sql": {Data: []byte("CREATE TABLE b (id bigint);")}, "2_b.down.sql": {Data: []byte("DROP TABLE b;")},
	}, migrate.FormatGolangMigrate)
	if err != nil {
		t.Fatal(err)
	}
	provider := sandbox.NewURL(sandbox.Options{DatabaseURL: u.String()})
	rep, err := Run(t.Context(), Options{Set: set, Provider: provider})
	if rep != nil {
		t.Errorf("a report (notes %q); want none: the rehearsal did not run through", rep.Notes)
	}
	if err == nil || errors.Is(err, ErrSharedServer) || !strings.Contains(err.Error(), "sg_lim") || !strings.Contains(err.Error(), "CONNECTION LIMIT") {
		t.Errorf("error %v; want the rehearsal's failure naming role sg_lim's connection limit", err)
	}
	t.Log(err)
}

// TestSharedServerGuardMembershipOptions: on PostgreSQL 16 and later a membership has INHERIT and SET
// options, and one grant per grantor. A migration that takes the options of a membership the server
// has (WITH INHERIT FALSE, SET FALSE) or grants it again in another grantor's name (GRANTED BY) from
// code run from text, past the static check, is caught by the fingerprint: the fingerprint held the
// admin option alone, and both changes stayed on the server with check: ok.
func TestSharedServerGuardMembershipOptions(t *testing.T) {
	inst := pgtest.TCPServerVersion(t, 17)
	admin, err := pgx.Connect(t.Context(), inst.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(t.Context(), "CREATE ROLE g_ex; CREATE ROLE u_ex LOGIN; CREATE ROLE x_ex; GRANT g_ex TO x_ex WITH ADMIN OPTION"); err != nil {
		t.Fatal(err)
	}
	for sql, want := range map[string]string{
		"DO $$BEGIN EXECUTE 'GR' || 'ANT g_ex TO u_ex WITH INHERIT FALSE, SET FALSE'; END$$;": "membership of u_ex in g_ex changed",
		"DO $$BEGIN EXECUTE 'GR' || 'ANT g_ex TO u_ex GRANTED BY x_ex'; END$$;":               "membership of u_ex in g_ex changed",
		"DO $$BEGIN EXECUTE 'GR' || 'ANT g_ex TO u_ex WITH ADMIN OPTION'; END$$;":             "membership of u_ex in g_ex changed",
	} {
		if _, err := admin.Exec(t.Context(), "REVOKE g_ex FROM u_ex CASCADE; REVOKE g_ex FROM u_ex GRANTED BY x_ex CASCADE; GRANT g_ex TO u_ex"); err != nil {
			t.Fatal(err)
		}
		guardCatches(t, inst, sql, want)
	}
}

// guardCatches rehearses sql, a migration the static check of shared-server changes lets through, on
// inst's server as the url provider does: the fingerprint must fail it, naming want.
func guardCatches(t *testing.T, inst *sandbox.Instance, sql, want string) {
	t.Helper()
	set, err := migrate.Read(fstest.MapFS{"1_a.up.sql": {Data: []byte(sql)}, "1_a.down.sql": {Data: []byte("SELECT 1;")}}, migrate.FormatGolangMigrate)
	if err != nil {
		t.Fatal(err)
	}
	if err := sharedServerChanges(nil, set, nil, nil); err != nil {
		t.Fatalf("the static check already refuses %q, the test needs one it misses: %v", sql, err)
	}
	rep, err := Run(t.Context(), Options{Set: set, Provider: sandbox.NewURL(sandbox.Options{DatabaseURL: inst.AdminURL}), NoTrace: true})
	if err != nil {
		t.Fatal(err)
	}
	if m := rep.Migrations[0]; m.Status != report.StatusFailed || m.Error == nil || !strings.Contains(m.Error.Message, want) {
		t.Errorf("%q: %s %+v; want failed naming %q", sql, m.Status, m.Error, want)
	}
}
