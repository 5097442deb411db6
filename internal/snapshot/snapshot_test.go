package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(killedSnapshotEnv); spec != "" {
		takeAndWait(spec)
	}
	if spec := os.Getenv(interruptedRestoreEnv); spec != "" {
		restoreThroughInterrupt(spec)
	}
	os.Exit(pgtest.Main(m))
}

// database is a database of its own on the test server: its URL and a connection to it, closed when the
// test ends.
func database(t *testing.T) (string, *pgx.Conn) {
	t.Helper()
	url := pgtest.URL(t)
	c, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return url, c
}

// databaseRole creates a role for the test's database, named prefix and the database's OID (roles are
// the server's, shared by the tests' databases), with options (LOGIN...), and drops it with what it owns
// when the test ends.
func databaseRole(t *testing.T, c *pgx.Conn, prefix, options string) string {
	t.Helper()
	var role string
	if err := c.QueryRow(t.Context(), "SELECT $1::text || '_' || oid FROM pg_database WHERE datname = current_database()", prefix).Scan(&role); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "CREATE ROLE "+role+" "+options)
	t.Cleanup(func() {
		_, _ = c.Exec(context.Background(), "REASSIGN OWNED BY "+role+" TO CURRENT_USER; DROP OWNED BY "+role+"; DROP ROLE "+role)
	})
	return role
}

func mustExec(t *testing.T, c *pgx.Conn, sql string) {
	t.Helper()
	if _, err := c.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// fingerprint is the data of every user table (md5 of its rows in key order) and the shape of the catalog.
func fingerprint(t *testing.T, c *pgx.Conn) string {
	t.Helper()
	var out strings.Builder
	rows, err := c.Query(t.Context(), `
		SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog','information_schema','schemagate')
		   AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		var sum string
		q := "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), 'empty') FROM " + tb + " t"
		if err := c.QueryRow(t.Context(), q).Scan(&sum); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out.WriteString(tb + "=" + sum + "\n")
	}
	var cat string
	err = c.QueryRow(t.Context(), `
		SELECT string_agg(x, E'\n' ORDER BY x) FROM (
		  SELECT format('%s.%s %s', n.nspname, c.relname, c.relkind) x FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		   WHERE n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%'
		  UNION ALL SELECT format('col %s.%s %s', attrelid::regclass, attname, format_type(atttypid, atttypmod)) FROM pg_attribute a
		   JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		   WHERE attnum > 0 AND NOT attisdropped AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%'
		  UNION ALL SELECT format('con %s %s', conname, pg_get_constraintdef(oid)) FROM pg_constraint WHERE connamespace <> 'pg_catalog'::regnamespace
		  UNION ALL SELECT 'ext ' || extname FROM pg_extension
		  UNION ALL SELECT format('seq %s %s', sequencename, last_value) FROM pg_sequences) s`).Scan(&cat)
	if err != nil {
		t.Fatal(err)
	}
	out.WriteString(cat)
	return out.String()
}

func seed(t *testing.T, c *pgx.Conn) {
	t.Helper()
	mustExec(t, c, `
		CREATE EXTENSION IF NOT EXISTS pgcrypto;
		CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, created timestamptz NOT NULL DEFAULT '2026-01-01');
		INSERT INTO users (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 2000) g;
		CREATE SCHEMA billing;
		CREATE TABLE billing.invoices (id int PRIMARY KEY, user_id bigint REFERENCES users, amount numeric(10,2));
		INSERT INTO billing.invoices SELECT g, g % 2000 + 1, g * 1.5 FROM generate_series(1, 500) g;
		CREATE VIEW user_emails AS SELECT email FROM users;
		CREATE TYPE mood AS ENUM ('ok', 'sad');
		CREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1';
		CREATE SCHEMA schemagate;
		CREATE TABLE schemagate.schemagate_history (id int, note text);
		INSERT INTO schemagate.schemagate_history VALUES (1, 'before');`)
}

func TestPGDumpSnapshotRestore(t *testing.T) {
	t.Parallel()
	for _, format := range []string{FormatDirectory, FormatCustom} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			url, c := database(t)
			ctx := t.Context()
			seed(t, c)
			before := fingerprint(t, c)

			dir := t.TempDir()
			p := &PGDump{URL: url, Dir: dir, Jobs: 2, Format: format, ExcludeSchemas: []string{"schemagate"}}
			info, restore, err := p.Snapshot(ctx, "run-1")
			if err != nil {
				t.Fatal(err)
			}
			if info.Size == 0 || len(info.SHA256) != 64 || info.ServerVersion == "" || info.Database == "" {
				t.Errorf("incomplete snapshot info: %+v", info)
			}
			m, err := ReadManifest(info.Location)
			if err != nil {
				t.Fatal(err)
			}
			if m.SHA256 != info.SHA256 || m.RunID != "run-1" {
				t.Errorf("manifest %+v does not match %+v", m, info)
			}

			// Everything a bad migration could do.
			mustExec(t, c, `
				DELETE FROM users WHERE id % 3 = 0 AND id NOT IN (SELECT user_id FROM billing.invoices);
				UPDATE billing.invoices SET amount = 0;
				ALTER TABLE users DROP COLUMN created;
				ALTER TABLE users ADD COLUMN mood mood;
				CREATE TABLE leftovers (id int);
				CREATE SCHEMA newschema; CREATE TABLE newschema.t (x int);
				CREATE EXTENSION IF NOT EXISTS citext;
				DROP VIEW user_emails;
				CREATE FUNCTION two() RETURNS int LANGUAGE sql AS 'SELECT 2';
				SELECT setval('users_id_seq', 99999);
				INSERT INTO schemagate.schemagate_history VALUES (2, 'during');`)
			if fingerprint(t, c) == before {
				t.Fatal("changes did not change the fingerprint")
			}
			if err := restore(ctx); err != nil {
				t.Fatal(err)
			}
			if after := fingerprint(t, c); after != before {
				t.Errorf("restore differs:\n--- before\n%s\n--- after\n%s", before, after)
			}
			var n int
			if err := c.QueryRow(ctx, "SELECT count(*) FROM schemagate.schemagate_history").Scan(&n); err != nil || n != 2 {
				t.Errorf("history rows after restore = %d, %v; want 2 (the history schema is left alone)", n, err)
			}

			// A damaged snapshot is refused.
			reopened, err := p.Reopen(ctx, &Info{Location: info.Location})
			if err != nil {
				t.Fatal(err)
			}
			err = filepath.WalkDir(info.Location, func(path string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && filepath.Base(path) != ManifestFile {
					return os.WriteFile(path, []byte("garbage"), 0o600)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := reopened(ctx); err == nil || !strings.Contains(err.Error(), "checksum") {
				t.Errorf("restore of a damaged snapshot: %v, want a checksum error", err)
			}
		})
	}
}

func TestPGDumpSnapshotFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := &PGDump{URL: "postgres://nobody@127.0.0.1:1/none?connect_timeout=2", Dir: dir}
	if _, _, err := p.Snapshot(t.Context(), "r"); err == nil {
		t.Fatal("snapshot of an unreachable server succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("left %d entries behind", len(entries))
	}
}

func TestRetention(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		keep     int
		keepDays int
		want     []string
	}{
		{"keep 2", 2, 0, []string{"d0", "d1", "junk"}},
		{"keep 3 days", 0, 3, []string{"d0", "d1", "d2", "junk"}},
		{"keep 5 but 1 day", 5, 1, []string{"d0", "junk"}},
		{"none", 0, 0, []string{"d0", "d1", "d2", "d3", "d4", "junk"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for i := 0; i < 5; i++ {
				loc := filepath.Join(dir, "d"+string(rune('0'+i)))
				if err := os.MkdirAll(loc, 0o700); err != nil {
					t.Fatal(err)
				}
				info := &Info{ID: filepath.Base(loc), Location: loc, Database: "app", Server: "7301", Time: now.Add(-time.Duration(i)*24*time.Hour - time.Hour)}
				b, _ := json.Marshal(info)
				if err := os.WriteFile(filepath.Join(loc, ManifestFile), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.MkdirAll(filepath.Join(dir, "junk"), 0o700); err != nil {
				t.Fatal(err)
			}
			p := &PGDump{Dir: dir, Keep: tc.keep, KeepDays: tc.keepDays, Now: func() time.Time { return now }}
			if err := p.retain(&Info{ID: "d0", Database: "app", Server: "7301"}); err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(dir)
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("kept %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRetentionPerDatabase: two services share snapshot.dir and the environment's name, each with its
// own database. The retention (keep) counted and removed the snapshots of the folder whatever database
// they were of: a deploy of one database removed the other's, the snapshot a dead run of it needed for
// --recover included (tester A's F6). It now counts and removes only the snapshots of the database it
// dumped, never one that Pin names (a run that did not finish), and keeps those whose manifest does not
// say which server they come from.
func TestRetentionPerDatabase(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	for i, s := range []struct{ id, db, server string }{
		{"a-new", "app", "7301"},      // just taken
		{"b-dead", "billing", "7301"}, // another database of the same server: its dead run needs it
		{"b-old", "billing", "7301"},
		{"a-pinned", "app", "7301"}, // a run of this database that did not finish
		{"a-other-server", "app", "9999"},
		{"a-old", "app", "7301"},
		{"a-unknown", "app", ""}, // an older release's manifest
	} {
		loc := filepath.Join(dir, s.id)
		if err := os.MkdirAll(loc, 0o700); err != nil {
			t.Fatal(err)
		}
		info := &Info{ID: s.id, Location: loc, Database: s.db, Server: s.server, Time: now.Add(-time.Duration(i) * time.Hour)}
		b, _ := json.Marshal(info)
		if err := os.WriteFile(filepath.Join(loc, ManifestFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := &PGDump{Dir: dir, Keep: 1, KeepDays: 0, Now: func() time.Time { return now }}
	p.Hold("a-pinned", "")
	if err := p.retain(&Info{ID: "a-new", Database: "app", Server: "7301"}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if want := "a-new,a-other-server,a-pinned,a-unknown,b-dead,b-old"; strings.Join(got, ",") != want {
		t.Errorf("kept %v, want %s", got, want)
	}
}

// TestPGDumpManifestNamesTheServer: the manifest of a snapshot records the database and the server it
// comes from, which the retention compares.
func TestPGDumpManifestNamesTheServer(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	p := &PGDump{URL: url, Dir: t.TempDir(), Keep: 1}
	info, _, err := p.Snapshot(t.Context(), "r1")
	if err != nil {
		t.Fatal(err)
	}
	read, err := ReadManifest(info.Location)
	if err != nil {
		t.Fatal(err)
	}
	if read.Database == "" || read.Server == "" || read.Server != info.Server {
		t.Errorf("manifest database %q server %q (taken: %q)", read.Database, read.Server, info.Server)
	}
	// A second snapshot of the same database with keep: 1 removes the first.
	second, _, err := p.Snapshot(t.Context(), "r2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(info.Location); !os.IsNotExist(err) {
		t.Errorf("the first snapshot %s is still there (err %v)", info.Location, err)
	}
	if _, err := os.Stat(second.Location); err != nil {
		t.Error(err)
	}
}

func TestCommandHooks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := filepath.Join(dir, "restored")
	c := &Command{
		Take:    `echo "taking for $SCHEMAGATE_RUN_ID" >&2; echo progress; echo snap-$SCHEMAGATE_RUN_ID`,
		Restore: `echo "$SCHEMAGATE_SNAPSHOT_ID" > ` + marker,
	}
	info, restore, err := c.Snapshot(t.Context(), "r42")
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != "snap-r42" {
		t.Errorf("id = %q, want snap-r42", info.ID)
	}
	if err := restore(t.Context()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(marker)
	if strings.TrimSpace(string(b)) != "snap-r42" {
		t.Errorf("restore got id %q", b)
	}

	for _, tc := range []struct{ name, take string }{
		{"fails", "echo boom >&2; exit 3"},
		{"prints nothing", "true"},
	} {
		bad := &Command{Take: tc.take, Restore: "true"}
		_, _, err := bad.Snapshot(t.Context(), "r")
		var se *Error
		if !errors.As(err, &se) || se.Hint == "" {
			t.Errorf("%s: err = %v, want a *snapshot.Error with a hint", tc.name, err)
		}
	}
	if _, err := c.Reopen(t.Context(), &Info{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("reopen without id: %v", err)
	}
}

// TestPGDumpExcludedSchemaWithCapitals: the history schema may have capitals; pg_dump folds an unquoted
// pattern to lower case, so it would dump the schema, and the restore would rewind it and then fail on
// CREATE SCHEMA after the clear had emptied the database.
func TestPGDumpExcludedSchemaWithCapitals(t *testing.T) {
	url, c := database(t)
	ctx := t.Context()
	mustExec(t, c, `CREATE SCHEMA "SchemaGate"; CREATE TABLE "SchemaGate".h (x int); INSERT INTO "SchemaGate".h VALUES (1);
		CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 50)`)
	p := &PGDump{URL: url, Dir: t.TempDir(), Format: FormatCustom, ExcludeSchemas: []string{"SchemaGate"}}
	_, restore, err := p.Snapshot(ctx, "run-caps")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, `INSERT INTO "SchemaGate".h VALUES (2); DROP TABLE t`)
	if err := restore(ctx); err != nil {
		t.Fatalf("restore: %v", err)
	}
	var n, h int
	if err := c.QueryRow(ctx, `SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM "SchemaGate".h)`).Scan(&n, &h); err != nil {
		t.Fatal(err)
	}
	if n != 50 || h != 2 {
		t.Errorf("after restore: %d rows in t (want 50), %d in the excluded schema (want 2, not rewound)", n, h)
	}
}

func TestPGDumpConnArgsKeepPasswordOffTheCommandLine(t *testing.T) {
	for _, c := range []struct{ url, want string }{
		{"postgres://app:s3cret@127.0.0.1:5432/db", "postgres://app@127.0.0.1:5432/db"},
		{"postgres://app@127.0.0.1:5432/db?password=s3cret&sslmode=disable", "postgres://app@127.0.0.1:5432/db?sslmode=disable"},
		{"host=127.0.0.1 port=5432 user=app password=s3cret dbname=db", "host=127.0.0.1 port=5432 user=app dbname=db"},
		{"host=127.0.0.1 password = 'it\\'s s3cret' dbname=db", "host=127.0.0.1 dbname=db"},
		{"postgres://app@127.0.0.1/db", "postgres://app@127.0.0.1/db"},
	} {
		p := &PGDump{URL: c.url}
		got, env := p.connArgs("")
		if got != c.want {
			t.Errorf("connArgs(%q) = %q, want %q", c.url, got, c.want)
		}
		if strings.Contains(got, "s3cret") {
			t.Errorf("connArgs(%q) leaks the password: %q", c.url, got)
		}
		if strings.Contains(c.url, "s3cret") && (len(env) != 1 || !strings.HasPrefix(env[0], "PGPASSWORD=") || !strings.Contains(env[0], "s3cret")) {
			t.Errorf("connArgs(%q) env = %q, want PGPASSWORD", c.url, env)
		}
	}
}

// objectKinds lists the objects of the kinds the clear must handle, one line each, for comparing a
// database before a snapshot and after its restore.
func objectKinds(t *testing.T, c *pgx.Conn) string {
	t.Helper()
	var s string
	err := c.QueryRow(t.Context(), `
		SELECT string_agg(x, E'\n' ORDER BY x) FROM (
		  SELECT 'collation ' || collname x FROM pg_collation WHERE collnamespace = 'public'::regnamespace
		  UNION ALL SELECT 'conversion ' || conname FROM pg_conversion WHERE connamespace = 'public'::regnamespace
		  UNION ALL SELECT 'tsconfig ' || cfgname FROM pg_ts_config WHERE cfgnamespace = 'public'::regnamespace
		  UNION ALL SELECT 'tsdict ' || dictname FROM pg_ts_dict WHERE dictnamespace = 'public'::regnamespace
		  UNION ALL SELECT 'operator ' || oprname FROM pg_operator WHERE oprnamespace = 'public'::regnamespace
		  UNION ALL SELECT 'opclass ' || opcname FROM pg_opclass WHERE opcnamespace = 'public'::regnamespace
		  UNION ALL SELECT 'stats ' || stxname FROM pg_statistic_ext WHERE stxnamespace = 'public'::regnamespace
		  UNION ALL SELECT 'cast ' || castsource::regtype || ' as ' || casttarget::regtype FROM pg_cast WHERE oid >= 16384
		  UNION ALL SELECT 'publication ' || pubname || ' ' || coalesce((SELECT string_agg(tablename, ',') FROM pg_publication_tables pt WHERE pt.pubname = p.pubname), '') FROM pg_publication p
		  UNION ALL SELECT 'subscription ' || subname FROM pg_subscription
		  UNION ALL SELECT 'fdw ' || fdwname FROM pg_foreign_data_wrapper
		  UNION ALL SELECT 'server ' || srvname FROM pg_foreign_server
		  UNION ALL SELECT 'usermapping ' || srvname FROM pg_user_mappings
		  UNION ALL SELECT 'event trigger ' || evtname FROM pg_event_trigger
		  UNION ALL SELECT 'am ' || amname FROM pg_am WHERE oid >= 16384
		  UNION ALL SELECT 'transform ' || trftype::regtype FROM pg_transform
		  UNION ALL SELECT 'routine ' || oid::regprocedure FROM pg_proc WHERE pronamespace = 'public'::regnamespace
		  UNION ALL SELECT 'type ' || typname FROM pg_type WHERE typnamespace = 'public'::regnamespace
		  UNION ALL SELECT 'index ' || indexrelid::regclass FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = 'public'::regnamespace
		  UNION ALL SELECT 'lo ' || oid || ' ' || md5(lo_get(oid)) FROM pg_largeobject_metadata) s`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPGDumpRestoreEveryObjectKind: a database holding large objects, collations, text search objects,
// operators, casts, publications, foreign servers, event triggers, ... (and one created after the
// snapshot of each) is restored to its snapshot. The clear used to drop only relations, routines and
// types, so pg_restore failed on "already exists" (or a duplicate pg_largeobject_metadata key) after every
// table had been dropped.
func TestPGDumpRestoreEveryObjectKind(t *testing.T) {
	t.Parallel()
	url, c := database(t)
	ctx := t.Context()
	seed(t, c)
	// kinds creates one object of each kind, with names ending in sfx.
	kinds := func(sfx, op string) string {
		return strings.NewReplacer("SFX", sfx, "===", op).Replace(`
		CREATE COLLATION german_SFX (provider = libc, locale = 'C');
		CREATE CONVERSION conv_SFX FOR 'LATIN1' TO 'UTF8' FROM iso8859_1_to_utf8;
		CREATE TEXT SEARCH DICTIONARY dict_SFX (TEMPLATE = simple);
		CREATE TEXT SEARCH CONFIGURATION cfg_SFX (COPY = english);
		CREATE FUNCTION eq_SFX(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
		CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = eq_SFX);
		CREATE OPERATOR CLASS ops_SFX FOR TYPE int USING hash AS OPERATOR 1 ===, FUNCTION 1 hashint4(int);
		CREATE TABLE t_SFX (id int PRIMARY KEY, a int, b int, body text COLLATE german_SFX);
		INSERT INTO t_SFX SELECT g, g % 7, g % 11, 'row ' || g FROM generate_series(1, 100) g;
		CREATE INDEX t_SFX_hash ON t_SFX USING hash (a ops_SFX);
		CREATE STATISTICS stats_SFX (dependencies) ON a, b FROM t_SFX;
		CREATE TYPE box_SFX AS (x int);
		CREATE FUNCTION unbox_SFX(box_SFX) RETURNS int LANGUAGE sql AS 'SELECT $1.x';
		CREATE CAST (box_SFX AS int) WITH FUNCTION unbox_SFX(box_SFX);
		CREATE PUBLICATION pub_SFX FOR TABLE t_SFX;
		CREATE FOREIGN DATA WRAPPER fdw_SFX;
		CREATE SERVER srv_SFX FOREIGN DATA WRAPPER fdw_SFX;
		CREATE USER MAPPING FOR CURRENT_USER SERVER srv_SFX;
		CREATE FUNCTION evt_SFX() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
		CREATE EVENT TRIGGER et_SFX ON sql_drop EXECUTE FUNCTION evt_SFX();
		CREATE ACCESS METHOD am_SFX TYPE TABLE HANDLER heap_tableam_handler;
		SELECT lo_from_bytea(0, convert_to('large object SFX', 'UTF8'));`)
	}
	mustExec(t, c, kinds("old", "===")+`
		CREATE TRANSFORM FOR int LANGUAGE sql (FROM SQL WITH FUNCTION prsd_lextype(internal), TO SQL WITH FUNCTION int4recv(internal));
		CREATE SUBSCRIPTION sub_old CONNECTION 'dbname=none' PUBLICATION pub_old WITH (connect = false);`)
	t.Cleanup(func() { _, _ = c.Exec(context.Background(), "DROP SUBSCRIPTION IF EXISTS sub_old") })
	before, beforeKinds := fingerprint(t, c), objectKinds(t, c)

	p := &PGDump{URL: url, Dir: t.TempDir(), ExcludeSchemas: []string{"schemagate"}}
	_, restore, err := p.Snapshot(ctx, "run-kinds")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, kinds("new", "=~=")+`
		DELETE FROM t_old WHERE id > 50;
		SELECT lo_put(oid, 0, convert_to('changed', 'UTF8')) FROM pg_largeobject_metadata ORDER BY oid LIMIT 1;`)
	if err := restore(ctx); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if after := fingerprint(t, c); after != before {
		t.Errorf("restore differs:\n--- before\n%s\n--- after\n%s", before, after)
	}
	if after := objectKinds(t, c); after != beforeKinds {
		t.Errorf("objects after the restore differ:\n--- before\n%s\n--- after\n%s", beforeKinds, after)
	}
}

// TestPGDumpRestoreFailureChangesNothing: a restore that fails part way (here: the dump gives a table to
// a role dropped since) leaves the database exactly as it was before the restore, not emptied by the
// clear that ran before pg_restore.
func TestPGDumpRestoreFailureChangesNothing(t *testing.T) {
	t.Parallel()
	url, c := database(t)
	ctx := t.Context()
	var role string
	if err := c.QueryRow(ctx, "SELECT 'sg_gone_' || current_database()").Scan(&role); err != nil {
		t.Fatal(err)
	}
	role = pgx.Identifier{role}.Sanitize()
	seed(t, c)
	mustExec(t, c, "CREATE ROLE "+role+"; CREATE TABLE owned (id int); ALTER TABLE owned OWNER TO "+role)
	t.Cleanup(func() { _, _ = c.Exec(context.Background(), "DROP OWNED BY "+role+"; DROP ROLE IF EXISTS "+role) })
	p := &PGDump{URL: url, Dir: t.TempDir(), ExcludeSchemas: []string{"schemagate"}}
	_, restore, err := p.Snapshot(ctx, "run-fail")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "REASSIGN OWNED BY "+role+" TO CURRENT_USER; DROP ROLE "+role+"; DELETE FROM users WHERE id > 1000; CREATE TABLE later (x int)")
	want := fingerprint(t, c)
	err = restore(ctx)
	var se *Error
	if !errors.As(err, &se) || !strings.Contains(se.Hint, "nothing was changed") {
		t.Fatalf("restore with a missing role: %v, want an error whose hint says nothing was changed", err)
	}
	if got := fingerprint(t, c); got != want {
		t.Errorf("the failed restore changed the database:\n--- before\n%s\n--- after\n%s", want, got)
	}
}

// TestPGDumpRestoreRunsToTheEndWhenCancelled: the context is cancelled (the deploy got SIGTERM) while the
// restore waits for a lock. The restore used to be killed there (exec.CommandContext), after the clear
// had dropped every table; it now runs to its end.
func TestPGDumpRestoreRunsToTheEndWhenCancelled(t *testing.T) {
	t.Parallel()
	url, c := database(t)
	seed(t, c)
	before := fingerprint(t, c)
	p := &PGDump{URL: url, Dir: t.TempDir(), ExcludeSchemas: []string{"schemagate"}}
	_, restore, err := p.Snapshot(t.Context(), "run-cancel")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "DELETE FROM billing.invoices WHERE id > 10")

	// Another session holds a lock on users, so the restore's drops wait.
	blocker, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close(context.Background())
	tx, err := blocker.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, blocker, "LOCK TABLE users IN ACCESS SHARE MODE")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- restore(ctx) }()
	for waiting := false; !waiting; {
		if err := c.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock')`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	// The restore must not stop because of the cancellation: release the lock only once it could have.
	time.Sleep(200 * time.Millisecond)
	_ = tx.Rollback(context.Background())
	if err := <-done; err != nil {
		t.Fatalf("restore cancelled part way: %v", err)
	}
	if after := fingerprint(t, c); after != before {
		t.Errorf("restore differs:\n--- before\n%s\n--- after\n%s", before, after)
	}
}

// TestPGDumpSnapshotLockWait: another session holds an ACCESS EXCLUSIVE lock on a table. pg_dump used to
// wait for it without end (maintenance mode on, no progress); it now gives up after its lock wait timeout
// and says why, leaving nothing behind.
func TestPGDumpSnapshotLockWait(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	// A guard against the old behaviour hanging the test binary, not a timed assertion.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	mustExec(t, c, "CREATE TABLE busy (id int); CREATE TABLE other (id int)")
	blocker, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close(context.Background())
	if _, err := blocker.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	mustExec(t, blocker, "LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
	dir := t.TempDir()
	p := &PGDump{URL: url, Dir: dir, LockWaitTimeout: 50 * time.Millisecond}
	_, _, err = p.Snapshot(ctx, "run-lock")
	var se *Error
	if !errors.As(err, &se) || !strings.Contains(se.Hint, "lock wait timeout") || ctx.Err() != nil {
		t.Fatalf("snapshot while a table is locked: %v, want a lock wait error with a hint", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %d entries behind", len(entries))
	}
}

func TestDumpHint(t *testing.T) {
	for _, tc := range []struct{ name, out, want string }{
		{"disk full", "pg_dump: error: could not write to file \"dump/3390.dat.gz\": No space left on device", "full"},
		{"read-only", "pg_dump: error: could not create directory \"x\": Read-only file system", "writable"},
		{"lock", "pg_dump: error: query failed: ERROR:  canceling statement due to lock timeout", "lock wait timeout"},
		{"lock wait timeout", "pg_dump: error: query failed: ERROR:  canceling statement due to statement timeout\npg_dump: detail: Query was: LOCK TABLE public.busy IN ACCESS SHARE MODE", "lock wait timeout"},
		{"permission", "pg_dump: error: query failed: ERROR:  permission denied for table app_cache\npg_dump: detail: Query was: LOCK TABLE public.app_cache IN ACCESS SHARE MODE", "GRANT SELECT ON app_cache TO deployer"},
		{"schema permission", "pg_dump: error: query failed: ERROR:  permission denied for schema ops", "GRANT USAGE ON SCHEMA ops TO deployer"},
		{"version", "pg_dump: error: aborting because of server version mismatch", "major version"},
	} {
		if got := dumpHint(tc.out, time.Second, "deployer"); !strings.Contains(got, tc.want) {
			t.Errorf("%s: hint %q, want it to mention %q", tc.name, got, tc.want)
		}
	}
}

// TestPGDumpSnapshotPermissionDenied: the deploy role may not read a table another role owns. pg_dump
// fails on its LOCK TABLE with "permission denied"; the hint used to blame a lock held by another session
// (it matched the LOCK TABLE of pg_dump's "Query was:" line). It now says which grant is missing.
func TestPGDumpSnapshotPermissionDenied(t *testing.T) {
	t.Parallel()
	url, c := database(t)
	ctx := t.Context()
	var role string
	if err := c.QueryRow(ctx, "SELECT 'sg_dumper_' || current_database()").Scan(&role); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN; GRANT ALL ON SCHEMA public TO "+pgx.Identifier{role}.Sanitize()+
		"; CREATE TABLE app_cache (k text)")
	t.Cleanup(func() {
		_, _ = c.Exec(context.Background(), "DROP OWNED BY "+pgx.Identifier{role}.Sanitize()+"; DROP ROLE IF EXISTS "+pgx.Identifier{role}.Sanitize())
	})
	u := pgtest.AsRole(t, url, role)
	mustExecAs(t, u, "CREATE TABLE accounts (id int PRIMARY KEY)")

	dir := t.TempDir()
	p := &PGDump{URL: u, Dir: dir}
	_, _, err := p.Snapshot(ctx, "run-denied")
	var se *Error
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("snapshot as a role that may not read app_cache: %v, want pg_dump's permission error", err)
	}
	want := "GRANT SELECT ON app_cache TO " + role
	if strings.Contains(se.Hint, "lock") || !strings.Contains(se.Hint, want) {
		t.Errorf("hint %q, want one that names the missing grant (%s) and no lock", se.Hint, want)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %d entries behind", len(entries))
	}
}

func mustExecAs(t *testing.T, url, sql string) {
	t.Helper()
	c, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	mustExec(t, c, sql)
}

// TestCommandRestoreLockTimeout: a restore command whose psql, pg_restore or other libpq client connects
// to the database waits for a lock at most RestoreLockTimeout (PGOPTIONS), keeps the PGOPTIONS the
// environment already had, and a lock_timeout set there wins. The snapshot command is not bounded. The
// restore command had no bound at all. RestoreOptions (the deploy's keepalives) go along, behind the
// PGOPTIONS the environment has, which win.
func TestCommandRestoreLockTimeout(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	for _, tc := range []struct {
		name    string
		env     []string
		opts    string // RestoreOptions
		restore string
		take    string
	}{
		{name: "bounded", restore: "1500ms|", take: "0|"},
		{name: "more options", opts: "-c search_path=ops", restore: "1500ms|ops", take: "0|"},
		{name: "PGOPTIONS win over more options", opts: "-c search_path=ops", env: []string{"PGOPTIONS=-c search_path=public"}, restore: "1500ms|", take: "0|"},
		{name: "keeps the PGOPTIONS set", env: []string{"PGOPTIONS=-c search_path=ops"}, restore: "1500ms|ops", take: "0|ops"},
		{name: "a lock_timeout set wins", env: []string{"PGOPTIONS=-c lock_timeout=7s"}, restore: "7s|", take: "7s|"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			show := `psql -X -At --no-password -d "$URL" -c "SELECT current_setting('lock_timeout') || '|' || CASE WHEN current_setting('search_path') = 'ops' THEN 'ops' ELSE '' END" > `
			c := &Command{
				Take:               show + filepath.Join(dir, "take") + ` && echo snap-1`,
				Restore:            show + filepath.Join(dir, "restore"),
				Env:                append([]string{"URL=" + url}, tc.env...),
				RestoreLockTimeout: 1500 * time.Millisecond,
				RestoreOptions:     tc.opts,
			}
			_, restore, err := c.Snapshot(t.Context(), "r1")
			if err != nil {
				t.Fatal(err)
			}
			if err := restore(t.Context()); err != nil {
				t.Fatal(err)
			}
			for file, want := range map[string]string{"take": tc.take, "restore": tc.restore} {
				b, err := os.ReadFile(filepath.Join(dir, file))
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.TrimSpace(string(b)); got != want {
					t.Errorf("%s command's session: lock_timeout|search_path %q, want %q", file, got, want)
				}
			}
		})
	}
}

func TestSQLState(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, msg, want string }{
		{"english", "psql:<stdin>:3192: ERROR:  55P03: canceling statement due to lock timeout\nCONTEXT:  SQL statement \"DROP TABLE public.orders\"\nLOCATION:  ProcessInterrupts, postgres.c:3330", "55P03"},
		{"german", "psql:<stdin>:12: FEHLER:  55P03: Abbruch der Anweisung wegen Zeitüberschreitung einer Sperre", "55P03"},
		{"russian", "psql:<stdin>:12: ОШИБКА:  42501: нет доступа к таблице orders", "42501"},
		{"warning before the error", "psql:<stdin>:2: WARNING:  01000: something\npsql:<stdin>:9: ERROR:  23505: duplicate key value", "23505"},
		{"only a warning", "psql:<stdin>:2: WARNING:  01000: something", ""},
		{"not verbose", "psql:<stdin>:9: ERROR:  canceling statement due to lock timeout", ""},
		{"client error", "psql: error: connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: FATAL:  3D000: database \"x\" does not exist", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sqlState(tc.msg); got != tc.want {
				t.Errorf("sqlState(%q) = %q, want %q", tc.msg, got, tc.want)
			}
		})
	}
}

// TestCommandTimeoutEndsChildren: a hook that runs past its Timeout is ended with everything it
// started: a child that holds the output open (sleep, as pg_restore would) does not keep the deploy
// waiting until it ends by itself. The child's own pid file says whether it is still alive.
func TestCommandTimeoutEndsChildren(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	c := &Command{Take: `sleep 120 & echo $! > ` + pidFile + `; wait; echo snap-1`, Restore: "true", Timeout: 300 * time.Millisecond}
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Snapshot(t.Context(), "r1")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a hook that ran past its timeout succeeded")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the hook's child kept the snapshot waiting past its timeout")
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		// Gone, or killed and not yet reaped (a zombie, state Z).
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if f := strings.Fields(string(stat)); err != nil || len(f) > 2 && f[2] == "Z" {
			break
		}
		if i == 100 {
			t.Fatalf("the hook's child %d is still running after the hook timed out", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPGDumpURLWithPasswordAndSpaces: taking the password out of a URL's query must not re-encode the
// spaces of the other parameters as "+", which libpq does not decode: pg_dump (and the restore's psql)
// would send options "-c+statement_timeout=0" and the server refuse it.
func TestPGDumpURLWithPasswordAndSpaces(t *testing.T) {
	t.Parallel()
	url, c := database(t)
	ctx := t.Context()
	mustExec(t, c, `CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 20)`)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	// The password moves from the URL's user part to its query, where it is to be taken out.
	cfg, err := pgx.ParseConfig(url)
	if err != nil || cfg.Password == "" {
		t.Fatalf("the test server's URL has no password (%v): the test proves nothing", err)
	}
	bare := strings.Replace(url, ":"+cfg.Password+"@", "@", 1)
	spaced := bare + sep + "options=-c%20statement_timeout%3D0&application_name=schemagate%20test&password=" + cfg.Password
	p := &PGDump{URL: spaced, Dir: t.TempDir(), Format: FormatCustom}
	if conn, _ := p.connArgs(""); strings.Contains(conn, "+") || strings.Contains(conn, cfg.Password) {
		t.Errorf("connArgs = %q: spaces must be %%20 and the password gone", conn)
	}
	_, restore, err := p.Snapshot(ctx, "run-spaces")
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	mustExec(t, c, `DROP TABLE t`)
	if err := restore(ctx); err != nil {
		t.Fatalf("restore: %v", err)
	}
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 20 {
		t.Errorf("after restore: %d rows (%v), want 20", n, err)
	}
}

// TestCommandMasksSecrets: the output of a failed hook, which the error (and so the reports) quote, has
// the secrets it was given written as ***: a restore script under set -x echoes the database URL.
func TestCommandMasksSecrets(t *testing.T) {
	t.Parallel()
	c := &Command{
		Take:    `echo snap-1`,
		Restore: `set -x; echo "$SCHEMAGATE_DATABASE_URL" >&2; exit 1`,
		Env:     []string{"SCHEMAGATE_DATABASE_URL=postgres://app:hunter2PW@db/prod?token=tok3n"},
		Secrets: []string{"hunter2PW", "tok3n"},
	}
	_, restore, err := c.Snapshot(t.Context(), "r1")
	if err != nil {
		t.Fatal(err)
	}
	err = restore(t.Context())
	if err == nil {
		t.Fatal("restore: want an error")
	}
	if msg := err.Error(); strings.Contains(msg, "hunter2PW") || strings.Contains(msg, "tok3n") || !strings.Contains(msg, "postgres://app:***@db/prod?token=***") {
		t.Errorf("restore error shows a secret or lost the output: %s", msg)
	}
}

// TestPGDumpObstaclesMatchRestore: a deploy role that is not a superuser restores a snapshot of a
// database where other roles own objects. Obstacles, read before the snapshot, must name what makes the
// restore fail (and nothing when it succeeds): a deploy checks it before applying migrations whose only
// way back is the restore.
func TestPGDumpObstaclesMatchRestore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, setup string
		revoke      string // run once the deploy role has created its table
		want        string // the first obstacle, "" for none
		lacks       string // what its owner lacks, if that is the obstacle
	}{
		{name: "table of another role", setup: "GRANT CREATE ON SCHEMA public TO %app; SET ROLE %app; CREATE TABLE app_cache (k text); GRANT SELECT ON app_cache TO %dep; RESET ROLE",
			want: "table app_cache"},
		{name: "member of the owner", setup: "GRANT CREATE ON SCHEMA public TO %app; SET ROLE %app; CREATE TABLE app_cache (k text); RESET ROLE; GRANT %app TO %dep"},
		{name: "member without its privileges", setup: "GRANT CREATE ON SCHEMA public TO %app; SET ROLE %app; CREATE TABLE app_cache (k text); GRANT SELECT ON app_cache TO %dep; RESET ROLE; GRANT %app TO %dep; ALTER ROLE %dep NOINHERIT",
			want: "table app_cache"},
		{name: "type and view of another role", setup: "GRANT CREATE ON SCHEMA public TO %app; SET ROLE %app; CREATE TYPE mood AS ENUM ('a'); CREATE VIEW v AS SELECT 1 AS x; GRANT SELECT ON v TO %dep; RESET ROLE",
			want: "type mood"},
		{name: "function of a superuser", setup: "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", want: "function f()"},
		{name: "schema of another role", setup: "CREATE SCHEMA appschema AUTHORIZATION %app", want: "schema appschema"},
		{name: "default privileges of another role", setup: "ALTER DEFAULT PRIVILEGES FOR ROLE %app GRANT SELECT ON TABLES TO %dep", want: "default privileges on new relations belonging to role %app"},
		// An extension stays, and the restore leaves out the dump's COMMENT ON EXTENSION (which takes the
		// privileges of its owner) when its comment is still the snapshot's: the role need not act as the
		// owner of a superuser's extension (it had to).
		{name: "extension kept in public", setup: "CREATE EXTENSION pgcrypto"},
		{name: "extension with a comment of quotes and lines", setup: `CREATE EXTENSION "uuid-ossp"; COMMENT ON EXTENSION "uuid-ossp" IS E'it''s\nours;\n'';\n'`},
		// An extension in a schema of its own stays too (it used to be dropped with its schema and created
		// again, at another version).
		{name: "extension kept in its own schema", setup: "CREATE SCHEMA ext AUTHORIZATION %dep; CREATE EXTENSION pgcrypto SCHEMA ext"},
		// The dump grants and revokes again what differs from the grants the extension's script made on
		// its objects, which takes the privileges of their owner.
		{name: "grants changed on a function of an extension", setup: "CREATE EXTENSION pgcrypto; REVOKE EXECUTE ON FUNCTION digest(text, text) FROM PUBLIC",
			want: "function digest(text,text)"},
		{name: "grants changed on a column of an extension's table", setup: "CREATE EXTENSION pgcrypto; CREATE TABLE cfg (k text, v text); ALTER EXTENSION pgcrypto ADD TABLE cfg; GRANT SELECT (k) ON cfg TO %app",
			want: "table cfg"},
		// A schema an extension is in stays, and its owner, comment and grants come back from the
		// manifest where they differ (the dump's are left out): the role need not act as the owner of a
		// superuser's schema of extensions nothing changed (it had to), but creates its objects there.
		{name: "schema of extensions of a superuser", setup: `CREATE SCHEMA "Platform Ext"; COMMENT ON SCHEMA "Platform Ext" IS 'kept by the platform team';
			CREATE EXTENSION pg_trgm SCHEMA "Platform Ext"; GRANT USAGE ON SCHEMA "Platform Ext" TO %dep WITH GRANT OPTION; REVOKE CREATE ON SCHEMA "Platform Ext" FROM CURRENT_USER`},
		{name: "table in a schema of extensions without CREATE there", setup: "CREATE SCHEMA extensions; CREATE EXTENSION pg_trgm SCHEMA extensions; GRANT USAGE, CREATE ON SCHEMA extensions TO %dep; " +
			"SET ROLE %dep; CREATE TABLE extensions.words (w text); RESET ROLE",
			revoke: "REVOKE CREATE ON SCHEMA extensions FROM %dep", want: "schema extensions"},
		{name: "schema of an extension of the role", setup: "CREATE SCHEMA ext AUTHORIZATION %dep; SET ROLE %dep; CREATE EXTENSION pgcrypto SCHEMA ext; RESET ROLE; ALTER DATABASE %db OWNER TO CURRENT_USER"},
		{name: "public owned by a superuser", setup: "ALTER SCHEMA public OWNER TO pg_database_owner"},
		{name: "no CREATE on public", setup: "ALTER SCHEMA public OWNER TO pg_database_owner; ALTER DATABASE %db OWNER TO CURRENT_USER; GRANT CREATE ON SCHEMA public TO %dep",
			revoke: "REVOKE CREATE ON SCHEMA public FROM %dep", want: "schema public"},
		{name: "no CREATE on the database", setup: "ALTER DATABASE %db OWNER TO CURRENT_USER; CREATE SCHEMA ops AUTHORIZATION %dep", want: "database %name"},
		// ALTER ... OWNER TO also needs the new owner to have CREATE on the object's schema (tester A's F7:
		// the preflight passed and the restore failed with "permission denied for schema public").
		{name: "member of an owner without CREATE on public", setup: "GRANT CREATE ON SCHEMA public TO %app; SET ROLE %app; CREATE TABLE app_cache (k text); RESET ROLE; GRANT %app TO %dep; REVOKE CREATE ON SCHEMA public FROM %app",
			want: "table app_cache", lacks: "CREATE on schema public"},
		{name: "function of a member without CREATE on public", setup: "GRANT CREATE ON SCHEMA public TO %app; SET ROLE %app; CREATE FUNCTION app_f() RETURNS int LANGUAGE sql AS 'SELECT 1'; RESET ROLE; GRANT %app TO %dep; REVOKE CREATE ON SCHEMA public FROM %app",
			want: "function app_f()", lacks: "CREATE on schema public"},
		// A schema the restore creates again gets its grants back only after its objects went to their owners.
		{name: "member of an owner with a granted CREATE on a restored schema", setup: "CREATE SCHEMA ops AUTHORIZATION %dep; GRANT USAGE, CREATE ON SCHEMA ops TO %app; SET ROLE %app; CREATE TABLE ops.jobs (k text); RESET ROLE; GRANT %app TO %dep",
			want: "table ops.jobs", lacks: "CREATE on schema ops"},
		{name: "member of the owner of a restored schema and its table", setup: "GRANT %app TO %dep; CREATE SCHEMA ops AUTHORIZATION %app; SET ROLE %app; CREATE TABLE ops.jobs (k text); RESET ROLE"},
		// A schema an extension owns stays: no CREATE on the database is needed to create it again.
		{name: "schema of an extension", setup: "SET ROLE %dep; CREATE EXTENSION pgcrypto; RESET ROLE; CREATE SCHEMA cron AUTHORIZATION %dep; CREATE TABLE cron.job (id int); ALTER TABLE cron.job OWNER TO %dep; " +
			"ALTER EXTENSION pgcrypto ADD SCHEMA cron; ALTER EXTENSION pgcrypto ADD TABLE cron.job; ALTER DATABASE %db OWNER TO CURRENT_USER; " +
			"UPDATE pg_extension SET extconfig = ARRAY['cron.job'::regclass]::oid[], extcondition = ARRAY[''] WHERE extname = 'pgcrypto'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url, c := database(t)
			ctx := t.Context()
			var db, oid string
			if err := c.QueryRow(ctx, "SELECT current_database(), oid::text FROM pg_database WHERE datname = current_database()").Scan(&db, &oid); err != nil {
				t.Fatal(err)
			}
			dep, app := "sg_dep_"+oid, "sg_app_"+oid
			r := strings.NewReplacer("%dep", dep, "%app", app, "%db", pgx.Identifier{db}.Sanitize(), "%name", db)
			mustExec(t, c, r.Replace("CREATE ROLE %dep LOGIN; CREATE ROLE %app; ALTER DATABASE %db OWNER TO %dep; ALTER SCHEMA public OWNER TO %dep"))
			t.Cleanup(func() {
				_, _ = c.Exec(context.Background(), r.Replace("REASSIGN OWNED BY %app, %dep TO CURRENT_USER; DROP OWNED BY %app, %dep; DROP ROLE %app; DROP ROLE %dep"))
			})
			mustExec(t, c, r.Replace(tc.setup))
			u := pgtest.AsRole(t, url, dep)
			mustExecAs(t, u, "CREATE TABLE accounts (id int PRIMARY KEY); INSERT INTO accounts VALUES (1)")
			if tc.revoke != "" {
				mustExec(t, c, r.Replace(tc.revoke))
			}
			p := &PGDump{URL: u, Dir: t.TempDir(), ExcludeSchemas: []string{"schemagate"}}
			role, obs, n, err := p.Obstacles(ctx, 3)
			if err != nil || role != dep {
				t.Fatalf("obstacles: role %q, %v; want %s", role, err, dep)
			}
			_, restore, err := p.Snapshot(ctx, "run-own")
			if err != nil {
				t.Fatal(err)
			}
			mustExecAs(t, u, "INSERT INTO accounts VALUES (2)")
			rerr := restore(ctx)
			if (rerr == nil) != (n == 0) {
				t.Fatalf("obstacles %+v (%d), but the restore returned %v", obs, n, rerr)
			}
			if tc.want == "" && n != 0 {
				t.Errorf("obstacles %+v (%d), want none", obs, n)
			}
			if want := r.Replace(tc.want); want != "" && (len(obs) == 0 || obs[0].Object != want) {
				t.Errorf("obstacles %+v, want %q first", obs, want)
			}
			if tc.lacks != "" && (len(obs) == 0 || obs[0].OwnerLacks != tc.lacks || obs[0].Owner != app || obs[0].Fix == "") {
				t.Errorf("obstacles %+v, want the first's owner %s to lack %q, with a fix", obs, app, tc.lacks)
			}
		})
	}
}

// showKeepalives is the session's TCP keepalive settings and work_mem (which carries the user's options:
// the restore's SQL does not set it, as it does statement_timeout), as one line.
const showKeepalives = `SELECT current_setting('tcp_keepalives_idle') || ' ' || current_setting('tcp_keepalives_interval') || ' ' ||
	current_setting('tcp_keepalives_count') || ' ' || current_setting('tcp_user_timeout') || ' ' || current_setting('work_mem')`

// keepaliveBin is a folder for PGDump.Bin whose pg_dump first runs psql with its own connection string
// and environment, writing the session's settings (showKeepalives) to the file out, then runs the real
// pg_dump: what a session of that pg_dump has, libpq's rules for the connection string and PGOPTIONS
// included. Its pg_restore and psql are the real ones.
func keepaliveBin(t *testing.T) (bin, out string) {
	t.Helper()
	cl, _, err := (&PGDump{}).client(t.Context(), 15, "find the client of the test server") // pgtest.TCPServer's
	if err != nil {
		t.Fatal(err)
	}
	tools := map[string]string{}
	for _, name := range clientTools {
		tools[name] = cl.Tool(name)
	}
	bin = t.TempDir()
	out = filepath.Join(bin, "pg_dump.out")
	for _, name := range []string{"pg_restore", "psql"} {
		if err := os.Symlink(tools[name], filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	script := fmt.Sprintf("#!/bin/sh\nfor a do conn=$a; done\n%q -X -At --no-password -d \"$conn\" -c %q > %q || exit 1\nexec %q \"$@\"\n",
		tools["psql"], strings.Join(strings.Fields(showKeepalives), " "), out, tools["pg_dump"])
	if err := os.WriteFile(filepath.Join(bin, "pg_dump"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, out
}

// TestPGDumpSessionKeepalives: pg_dump's session holds a shared lock on every table it dumps, in a
// transaction open until the dump ends, and the restore's psql session the exclusive locks of all it
// drops and recreates. Should the deploy's host die meanwhile, the server kept them, blocking the next
// deploy's DDL (or every query of the application), for the kernel's TCP keepalive defaults: two hours
// and more. Over TCP both sessions now get the server's keepalives that the deploy's own sessions set
// (pg.KeepalivesToSet) as -c options in front of the user's, which win: in PGOPTIONS, or in the
// connection string's options, which libpq takes instead of PGOPTIONS. A lower value that the server
// gives the session (here the database's) stays.
//
// pg_dump's session is seen through a psql run with pg_dump's connection string and environment (see
// keepaliveBin); the restore's psql session through a materialized view of its settings, which the
// restore refreshes in that session.
func TestPGDumpSessionKeepalives(t *testing.T) {
	// Not parallel: a case sets PGOPTIONS in the environment (t.Setenv).
	inst := pgtest.TCPServer(t)
	admin, err := pgx.Connect(t.Context(), inst.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	for i, tc := range []struct {
		name      string
		query     string // added to the URL's query
		kvOptions string // the options of a keyword/value connection string instead of a URL
		env       string // PGOPTIONS
		dbSet     string // ALTER DATABASE ... SET
		want      string // idle interval count user_timeout work_mem
	}{
		{name: "plain", want: "60 10 6 120000 4MB"},
		{name: "the URL's options", query: "options=-c%20work_mem%3D12345kB", want: "60 10 6 120000 12345kB"},
		{name: "the URL's keepalive wins", query: "options=-c%20tcp_keepalives_idle%3D300", want: "300 10 6 120000 4MB"},
		{name: "keyword/value options", kvOptions: `-c tcp_keepalives_count=9 -c work_mem=2222kB`, want: "60 10 9 120000 2222kB"},
		{name: "PGOPTIONS", env: "-c tcp_keepalives_idle=200 -c work_mem=4321kB", want: "200 10 6 120000 4321kB"},
		{name: "lower on the server stays", dbSet: "tcp_keepalives_interval = 5", want: "60 5 6 120000 4MB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("PGOPTIONS", tc.env)
			}
			db := fmt.Sprintf("ka%d", i)
			mustExec(t, admin, "CREATE DATABASE "+db)
			if tc.dbSet != "" {
				mustExec(t, admin, "ALTER DATABASE "+db+" SET "+tc.dbSet)
			}
			url := pgtest.WithDatabase(inst.URL, db)
			c, err := pgx.Connect(t.Context(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(context.Background())
			mustExec(t, c, "CREATE MATERIALIZED VIEW ka AS "+showKeepalives+" AS v")
			conn := url
			switch {
			case tc.query != "":
				conn += "&" + tc.query
			case tc.kvOptions != "":
				cfg := c.Config()
				conn = fmt.Sprintf("host=%s port=%d user=%s password='%s' dbname=%s sslmode=disable options='%s'", cfg.Host, cfg.Port, cfg.User, cfg.Password, db, tc.kvOptions)
			}
			bin, out := keepaliveBin(t)
			p := &PGDump{URL: conn, Dir: t.TempDir(), Bin: bin, Format: FormatCustom}
			_, restore, err := p.Snapshot(t.Context(), "run-ka")
			if err != nil {
				t.Fatalf("snapshot: %v", err)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(b)); got != tc.want {
				t.Errorf("pg_dump's session: keepalives and work_mem %q, want %q", got, tc.want)
			}
			if err := restore(t.Context()); err != nil {
				t.Fatalf("restore: %v", err)
			}
			var got string
			if err := c.QueryRow(t.Context(), "SELECT v FROM ka").Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("the restore's psql session: keepalives and work_mem %q, want %q", got, tc.want)
			}
		})
	}
}

// TestPGDumpConnArgsOptions: the keepalives' -c options go in front of the options the tools would have
// had: the connection string's (the last one, which libpq takes), escaped in a keyword/value string, or
// else PGOPTIONS.
func TestPGDumpConnArgsOptions(t *testing.T) {
	t.Setenv("PGOPTIONS", "-c work_mem=8MB")
	const keep = "-c tcp_keepalives_idle=60"
	for _, c := range []struct{ name, url, want, env string }{
		{name: "URL", url: "postgres://app@h/db", want: "postgres://app@h/db", env: "PGOPTIONS=" + keep + " -c work_mem=8MB"},
		{name: "URL with options", url: "postgres://app:pw@h/db?options=-c%20work_mem%3D1MB&sslmode=disable",
			want: "postgres://app@h/db?options=" + strings.ReplaceAll(url.QueryEscape(keep+" -c work_mem=1MB"), "+", "%20") + "&sslmode=disable"},
		{name: "URL with two options", url: "postgres://h/db?options=-c%20a.b%3D1&options=-c%20a.b%3D2",
			want: "postgres://h/db?options=" + strings.ReplaceAll(url.QueryEscape(keep+" -c a.b=2"), "+", "%20")},
		{name: "keyword/value", url: "host=h dbname=db", want: "host=h dbname=db", env: "PGOPTIONS=" + keep + " -c work_mem=8MB"},
		{name: "keyword/value with quoted options", url: `host=h options = '-c search_path=it\'s' dbname=db`,
			want: `host=h dbname=db options='` + keep + ` -c search_path=it\'s'`},
		{name: "keyword/value with plain options", url: `options=-csearch_path=a\\b host=h`, want: `host=h options='` + keep + ` -csearch_path=a\\b'`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, env := (&PGDump{URL: c.url}).connArgs(keep)
			if got != c.want {
				t.Errorf("connArgs(%q) = %q, want %q", c.url, got, c.want)
			}
			var opts string
			for _, kv := range env {
				if strings.HasPrefix(kv, "PGOPTIONS=") {
					opts = kv
				}
			}
			if opts != c.env {
				t.Errorf("connArgs(%q) PGOPTIONS %q, want %q", c.url, opts, c.env)
			}
		})
	}
}

// TestAppendOptions: the restore's bound (-c lock_timeout) goes after the connection's own options, and
// after PGOPTIONS when the connection string has none: libpq and pgx read PGOPTIONS only then, and a
// bound put in the string alone dropped a PGOPTIONS of -c role=owner, which a restore needs. A
// keyword/value string with options of its own got no bound at all.
func TestAppendOptions(t *testing.T) {
	const bound = "-c lock_timeout=1500"
	for _, tc := range []struct{ name, conn, env, want string }{
		{"url", "postgres://u:secret@db:5432/app?sslmode=disable", "", "postgres://u:secret@db:5432/app?options=-c%20lock_timeout%3D1500&sslmode=disable"},
		{"url, PGOPTIONS", "postgres://u@db/app", "-c role=owner", "postgres://u@db/app?options=-c%20role%3Downer%20-c%20lock_timeout%3D1500"},
		{"url with options, PGOPTIONS", "postgresql://u@db/app?options=-c%20search_path%3Dapp", "-c role=owner",
			"postgresql://u@db/app?options=-c%20search_path%3Dapp%20-c%20lock_timeout%3D1500"},
		{"keyword/value", "host=db dbname=app password='a b'", "", "host=db dbname=app password='a b' options='-c lock_timeout=1500'"},
		{"keyword/value, PGOPTIONS", "host=db dbname=app", "-c role=owner", "host=db dbname=app options='-c role=owner -c lock_timeout=1500'"},
		{"keyword/value with options", "host=db options='-c x=1' dbname=app", "-c role=owner", "host=db dbname=app options='-c x=1 -c lock_timeout=1500'"},
		{"keyword/value with quoted options", `host=db options='-c search_path=it\'s'`, "", `host=db options='-c search_path=it\'s -c lock_timeout=1500'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := appendOptions(tc.conn, bound, tc.env); got != tc.want {
				t.Errorf("appendOptions(%q, PGOPTIONS %q) = %q, want %q", tc.conn, tc.env, got, tc.want)
			}
		})
	}
	// What libpq makes of the result: the user's settings and the bound, the bound last.
	t.Setenv("PGOPTIONS", "-c role=owner")
	p := (&PGDump{URL: "host=/tmp dbname=app"}).WithSessionOptions(bound)
	cfg, err := pgx.ParseConfig(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.RuntimeParams["options"]; got != "-c role=owner "+bound {
		t.Errorf("options = %q, want the PGOPTIONS and the bound", got)
	}
}

// TestPGDumpRestoreExtensionConfigTables: an extension's configuration tables (pg_cron's cron.job,
// pg_partman's part_config, PostGIS's spatial_ref_sys) survive the clear with their extension, and the
// dump holds the rows their condition selects (the users', not the extension's own): the restore puts
// back exactly those rows, where a COPY on top of the rows still there failed on their keys and rolled
// the whole restore back. pg_extension_config_dump, which only an extension's script may call, records
// a table in pg_extension.extconfig and extcondition: the test writes those columns itself. One such table
// is in an excluded schema, whose rows the dump does not hold: the restore leaves them alone.
func TestPGDumpRestoreExtensionConfigTables(t *testing.T) {
	t.Parallel()
	url, c := database(t)
	ctx := t.Context()
	seed(t, c)
	mustExec(t, c, `
		CREATE TABLE job (id serial PRIMARY KEY, cmd text NOT NULL UNIQUE, builtin bool NOT NULL DEFAULT false);
		CREATE TABLE job_run (id serial PRIMARY KEY, job int NOT NULL REFERENCES job, note text);
		CREATE TABLE schemagate.ext_cfg (id int PRIMARY KEY);
		ALTER EXTENSION pgcrypto ADD TABLE job;
		ALTER EXTENSION pgcrypto ADD SEQUENCE job_id_seq;
		ALTER EXTENSION pgcrypto ADD TABLE job_run;
		ALTER EXTENSION pgcrypto ADD SEQUENCE job_run_id_seq;
		ALTER EXTENSION pgcrypto ADD TABLE schemagate.ext_cfg;
		UPDATE pg_extension SET extconfig = ARRAY['job'::regclass, 'job_id_seq'::regclass, 'job_run'::regclass, 'job_run_id_seq'::regclass, 'schemagate.ext_cfg'::regclass]::oid[],
		                        extcondition = ARRAY['WHERE NOT builtin', '', '', '', '']
		 WHERE extname = 'pgcrypto';
		INSERT INTO job (cmd, builtin) VALUES ('vacuum', true);
		INSERT INTO job (cmd) VALUES ('user job 1'), ('user job 2');
		INSERT INTO job_run (job, note) VALUES (2, 'first run'), (3, 'second run');
		INSERT INTO schemagate.ext_cfg VALUES (1);`)
	rows := func() string {
		t.Helper()
		var s string
		err := c.QueryRow(ctx, `SELECT (SELECT string_agg(format('%s %s %s', id, cmd, builtin), ', ' ORDER BY id) FROM job) || ' | ' ||
			(SELECT coalesce(string_agg(format('%s %s %s', id, job, note), ', ' ORDER BY id), '') FROM job_run) || ' | ' ||
			(SELECT last_value FROM job_id_seq)`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before, beforeRows := fingerprint(t, c), rows()

	p := &PGDump{URL: url, Dir: t.TempDir(), ExcludeSchemas: []string{"schemagate"}}
	_, restore, err := p.Snapshot(ctx, "run-extconfig")
	if err != nil {
		t.Fatal(err)
	}
	// What a failed deploy may have done to them: a user row changed, one deleted, one added.
	mustExec(t, c, `
		DELETE FROM job_run WHERE job = 2;
		UPDATE job SET cmd = 'user job 2, edited' WHERE id = 3;
		DELETE FROM job WHERE id = 2;
		INSERT INTO job (cmd) VALUES ('user job 3');
		INSERT INTO job_run (job, note) VALUES (4, 'third run');
		INSERT INTO schemagate.ext_cfg VALUES (2);`)
	if rows() == beforeRows {
		t.Fatal("the changes did not change the configuration tables")
	}
	if err := restore(ctx); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if after := rows(); after != beforeRows {
		t.Errorf("configuration tables after the restore: %s, want %s", after, beforeRows)
	}
	if after := fingerprint(t, c); after != before {
		t.Errorf("restore differs:\n--- before\n%s\n--- after\n%s", before, after)
	}
	// The dump leaves out the excluded schemas, their configuration tables' rows too: they stay as they are.
	var kept string
	if err := c.QueryRow(ctx, "SELECT string_agg(id::text, ',' ORDER BY id) FROM schemagate.ext_cfg").Scan(&kept); err != nil || kept != "1,2" {
		t.Errorf("rows of the configuration table in the excluded schema: %q, %v; want 1,2", kept, err)
	}
}

// TestPGDumpRestoreExtensionOwnedSchema: a schema an extension's script created (pg_cron's cron,
// postgis_topology's topology, TimescaleDB's) belongs to the extension (pg_depend deptype 'e'), which the
// clear keeps: dropping the schema failed with "cannot drop schema cron because extension pgcrypto
// requires it" (2BP01), and so did every restore. The clear empties it object by object instead, as it
// does public: its configuration table's rows come back, and a table of the user's in it too. The test
// makes pgcrypto own the schema and its table (as TestPGDumpRestoreExtensionConfigTables does).
func TestPGDumpRestoreExtensionOwnedSchema(t *testing.T) {
	t.Parallel()
	url, c := database(t)
	ctx := t.Context()
	seed(t, c)
	mustExec(t, c, `
		CREATE SCHEMA cron;
		CREATE TABLE cron.job (id int PRIMARY KEY, cmd text);
		ALTER EXTENSION pgcrypto ADD SCHEMA cron;
		ALTER EXTENSION pgcrypto ADD TABLE cron.job;
		UPDATE pg_extension SET extconfig = ARRAY['cron.job'::regclass]::oid[], extcondition = ARRAY[''] WHERE extname = 'pgcrypto';
		INSERT INTO cron.job VALUES (1, 'VACUUM');
		CREATE TABLE cron.notes (id int PRIMARY KEY, note text);
		INSERT INTO cron.notes VALUES (1, 'mine');
		CREATE TABLE orders (id int PRIMARY KEY, total int);
		INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 10) g;`)
	before := fingerprint(t, c)
	p := &PGDump{URL: url, Dir: t.TempDir(), ExcludeSchemas: []string{"schemagate"}}
	_, restore, err := p.Snapshot(ctx, "run-extschema")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, `
		UPDATE orders SET total = 0;
		INSERT INTO cron.job VALUES (2, 'ANALYZE');
		DELETE FROM cron.notes;
		CREATE TABLE cron.later (x int);`)
	if err := restore(ctx); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if after := fingerprint(t, c); after != before {
		t.Errorf("restore differs:\n--- before\n%s\n--- after\n%s", before, after)
	}
	var owned bool
	if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_depend WHERE classid = 'pg_namespace'::regclass AND objid = 'cron'::regnamespace AND deptype = 'e')`).Scan(&owned); err != nil || !owned {
		t.Errorf("schema cron still the extension's: %v, %v", owned, err)
	}
}

// TestPGDumpRestoreWithoutPublicSchema: a database whose public schema was dropped (a hardened setup).
// Obstacles failed on 'public'::regnamespace ("schema "public" does not exist"), and so did the restore's
// clear. The restore now also drops a public schema the failed migration created, which the snapshot did
// not have: pg_dump writes nothing for a missing public, so the manifest says it was missing.
func TestPGDumpRestoreWithoutPublicSchema(t *testing.T) {
	t.Parallel()
	url, c := database(t)
	ctx := t.Context()
	mustExec(t, c, `
		DROP SCHEMA public CASCADE;
		CREATE SCHEMA app;
		CREATE EXTENSION pgcrypto SCHEMA app;
		CREATE TABLE app.orders (id int PRIMARY KEY, total int);
		INSERT INTO app.orders SELECT g, g * 10 FROM generate_series(1, 10) g;
		CREATE SCHEMA schemagate;
		CREATE TABLE schemagate.schemagate_history (id int);`)
	before := fingerprint(t, c)
	p := &PGDump{URL: url, Dir: t.TempDir(), ExcludeSchemas: []string{"schemagate"}}
	if _, _, _, err := p.Obstacles(ctx, 3); err != nil {
		t.Errorf("obstacles: %v", err)
	}
	info, restore, err := p.Snapshot(ctx, "run-nopublic")
	if err != nil {
		t.Fatal(err)
	}
	if m, err := ReadManifest(info.Location); err != nil || !m.NoPublicSchema {
		t.Errorf("manifest %+v, %v: want no_public_schema", m, err)
	}
	mustExec(t, c, `
		UPDATE app.orders SET total = 0;
		CREATE SCHEMA public;
		CREATE TABLE public.leftover (x int);`)
	if err := restore(ctx); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if after := fingerprint(t, c); after != before {
		t.Errorf("restore differs:\n--- before\n%s\n--- after\n%s", before, after)
	}
	var public bool
	if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public')").Scan(&public); err != nil || public {
		t.Errorf("public schema after the restore: %v, %v; want none, as in the snapshot", public, err)
	}
}

// eachManifest runs f as a subtest for a snapshot's manifest as this release writes it (older false) and
// as an older release wrote it, which records no state of the kept schemas (see forgetKept).
func eachManifest(t *testing.T, f func(t *testing.T, older bool)) {
	for _, older := range []bool{false, true} {
		t.Run(map[bool]string{false: "manifest", true: "manifest of an older release"}[older], func(t *testing.T) {
			t.Parallel()
			f(t, older)
		})
	}
}

// forgetKept makes info's manifest one of an older release for schema name: it records no state of it.
func forgetKept(info *Info, name string) {
	info.KeptSchemas = slices.DeleteFunc(info.KeptSchemas, func(st SchemaState) bool { return st.Name == name })
}

// TestPGDumpRestoreExtensionInItsOwnSchema: extensions installed in a schema of their own (CREATE
// EXTENSION pg_trgm SCHEMA ext VERSION '1.5'). The clear dropped the schema, and the extensions with it;
// the dump's CREATE EXTENSION, which names no version, created them again at the newest (pg_trgm 1.6,
// hstore 1.8, whose extra functions then failed the deploy's "schema as before"), owned by the restoring
// role. The clear now keeps such a schema and empties it of the objects no extension owns, as it does
// public; the schema's own CREATE SCHEMA is left out of the restore, and its owner, comment and grants
// are set back to the snapshot's: from the manifest, where they differ (the dump's comment and grants of
// the schema are left out too), or, for a manifest of an older release, from the dump.
func TestPGDumpRestoreExtensionInItsOwnSchema(t *testing.T) {
	t.Parallel()
	eachManifest(t, func(t *testing.T, older bool) {
		url, c := database(t)
		ctx := t.Context()
		role := databaseRole(t, c, "sg_extowner", "")
		seed(t, c)
		mustExec(t, c, `
			CREATE SCHEMA ext AUTHORIZATION `+role+`;
			COMMENT ON SCHEMA ext IS 'the extensions';
			GRANT USAGE ON SCHEMA ext TO PUBLIC;
			CREATE EXTENSION pg_trgm SCHEMA ext VERSION '1.5';
			CREATE EXTENSION hstore SCHEMA ext VERSION '1.4';
			CREATE TABLE ext.notes (id int PRIMARY KEY, attrs ext.hstore);
			INSERT INTO ext.notes VALUES (1, 'a=>1');
			CREATE TABLE orders (id int PRIMARY KEY, total int, body text);
			INSERT INTO orders SELECT g, g * 10, 'order ' || g FROM generate_series(1, 10) g;
			CREATE INDEX orders_body ON orders USING gin (body ext.gin_trgm_ops);`)
		state := func() string {
			t.Helper()
			var s string
			err := c.QueryRow(ctx, `
				SELECT (SELECT string_agg(format('%s %s %s %s', extname, extversion, extnamespace::regnamespace, pg_get_userbyid(extowner)), ', ' ORDER BY extname) FROM pg_extension) || ' | ' ||
				       (SELECT format('%s %s %s', pg_get_userbyid(nspowner), nspacl, obj_description(oid, 'pg_namespace')) FROM pg_namespace WHERE nspname = 'ext') || ' | ' ||
				       (SELECT count(*) FROM pg_proc WHERE pronamespace = 'ext'::regnamespace)`).Scan(&s)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		before, beforeState := fingerprint(t, c), state()
		p := &PGDump{URL: url, Dir: t.TempDir(), ExcludeSchemas: []string{"schemagate"}}
		info, restore, err := p.Snapshot(ctx, "run-extns")
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, c, `
			UPDATE orders SET total = 0;
			DELETE FROM ext.notes;
			CREATE TABLE ext.later (x int);
			COMMENT ON SCHEMA ext IS 'changed';
			GRANT CREATE ON SCHEMA ext TO PUBLIC;
			ALTER SCHEMA ext OWNER TO CURRENT_USER;`)
		if state() == beforeState {
			t.Fatal("the changes did not change the schema")
		}
		if older {
			// A manifest of an older release records no state of ext: the clear sets the schema back to
			// the defaults the dump's comment and grants start from, and the dump gives them back.
			forgetKept(info, "ext")
		} else if !slices.ContainsFunc(info.KeptSchemas, func(st SchemaState) bool { return st.Name == "ext" }) {
			t.Fatalf("manifest's kept schemas %+v: want ext", info.KeptSchemas)
		}
		if err := restore(ctx); err != nil {
			t.Fatalf("restore: %v", err)
		}
		if after := state(); after != beforeState {
			t.Errorf("extensions and their schema after the restore:\n%s\nwant\n%s", after, beforeState)
		}
		if after := fingerprint(t, c); after != before {
			t.Errorf("restore differs:\n--- before\n%s\n--- after\n%s", before, after)
		}
	})
}

// TestPGDumpRestoreDroppedSchemaOfExtension: a migration drops the schema an extension is in, and the
// extension with it (DROP SCHEMA ext CASCADE). The restore left out the dump's CREATE SCHEMA ext, as it
// keeps that schema, and created it nowhere else: the dump's CREATE EXTENSION failed (schema "ext" does
// not exist). The clear now creates it again, and its owner, comment and grants come back from the
// manifest or, for a manifest of an older release, from the dump.
func TestPGDumpRestoreDroppedSchemaOfExtension(t *testing.T) {
	t.Parallel()
	eachManifest(t, func(t *testing.T, older bool) {
		url, c := database(t)
		ctx := t.Context()
		role := databaseRole(t, c, "sg_extdrop", "")
		seed(t, c)
		mustExec(t, c, `
				CREATE SCHEMA ext AUTHORIZATION `+role+`;
				COMMENT ON SCHEMA ext IS 'the extensions';
				GRANT USAGE ON SCHEMA ext TO PUBLIC;
				CREATE EXTENSION hstore SCHEMA ext;
				CREATE TABLE kv (id int PRIMARY KEY, h ext.hstore);
				INSERT INTO kv VALUES (1, 'a=>1');`)
		const state = `SELECT coalesce((SELECT format('%s %s %s', pg_get_userbyid(nspowner), nspacl, obj_description(oid, 'pg_namespace')) FROM pg_namespace WHERE nspname = 'ext'), 'missing') || ' | ' ||
				coalesce((SELECT string_agg(extname || ' ' || extnamespace::regnamespace, ', ' ORDER BY extname) FROM pg_extension), '')`
		var beforeState string
		if err := c.QueryRow(ctx, state).Scan(&beforeState); err != nil {
			t.Fatal(err)
		}
		before := fingerprint(t, c)
		p := &PGDump{URL: url, Dir: t.TempDir(), ExcludeSchemas: []string{"schemagate"}}
		info, restore, err := p.Snapshot(ctx, "run-extdrop")
		if err != nil {
			t.Fatal(err)
		}
		if older {
			forgetKept(info, "ext")
		}
		mustExec(t, c, "DROP SCHEMA ext CASCADE")
		if err := restore(ctx); err != nil {
			t.Fatalf("restore: %v", err)
		}
		var afterState string
		if err := c.QueryRow(ctx, state).Scan(&afterState); err != nil {
			t.Fatal(err)
		}
		if afterState != beforeState {
			t.Errorf("schema ext and the extensions after the restore:\n%s\nwant\n%s", afterState, beforeState)
		}
		if after := fingerprint(t, c); after != before {
			t.Errorf("restore differs:\n--- before\n%s\n--- after\n%s", before, after)
		}
	})
}

// TestSchemaPropertyEntry: the comment and grants of a schema in pg_restore --list name it as pg_dump
// writes it (in double quotes when it needs them), then its owner.
func TestSchemaPropertyEntry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, line, schema string
		ok                 bool
	}{
		{name: "grants", line: "4001; 0 0 ACL - SCHEMA extensions postgres", schema: "extensions", ok: true},
		{name: "comment", line: "4000; 0 0 COMMENT - SCHEMA extensions app owner", schema: "extensions", ok: true},
		{name: "quoted", line: `4001; 0 0 ACL - SCHEMA "My ""Ext""" postgres`, schema: `My "Ext"`, ok: true},
		{name: "left out", line: ";4001; 0 0 ACL - SCHEMA extensions postgres"},
		{name: "the schema itself", line: "9; 2615 16433 SCHEMA - extensions postgres"},
		{name: "an extension's comment", line: "3494; 0 0 COMMENT - EXTENSION hstore "},
		{name: "a table's grants", line: "4002; 0 0 ACL public TABLE orders app"},
	} {
		schema, ok := schemaPropertyEntry(tc.line)
		if schema != tc.schema || ok != tc.ok {
			t.Errorf("%s: schemaPropertyEntry(%q) = %q, %v; want %q, %v", tc.name, tc.line, schema, ok, tc.schema, tc.ok)
		}
	}
}

// TestSchemaEntry: pg_restore --list writes names and owners unquoted, so a schema's name may hold
// spaces: the longest of the names looked for that starts the rest wins.
func TestSchemaEntry(t *testing.T) {
	t.Parallel()
	names := []string{"my", "my ext", "ext"}
	for _, tc := range []struct {
		name, line, schema, owner string
		ok                        bool
	}{
		{name: "plain", line: "9; 2615 16433 SCHEMA - ext postgres", schema: "ext", owner: "postgres", ok: true},
		{name: "spaces", line: "9; 2615 16433 SCHEMA - my ext app owner", schema: "my ext", owner: "app owner", ok: true},
		{name: "another schema", line: "9; 2615 16433 SCHEMA - other postgres"},
		{name: "left out", line: ";9; 2615 16433 SCHEMA - ext postgres"},
		{name: "its comment", line: "3453; 0 0 COMMENT - SCHEMA ext postgres"},
	} {
		schema, owner, ok := schemaEntry(tc.line, names)
		if schema != tc.schema || owner != tc.owner || ok != tc.ok {
			t.Errorf("%s: schemaEntry(%q) = %q, %q, %v; want %q, %q, %v", tc.name, tc.line, schema, owner, ok, tc.schema, tc.owner, tc.ok)
		}
	}
}
