package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

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
			url := pgtest.URL(t)
			ctx := t.Context()
			c, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(context.Background())
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
				info := &Info{ID: filepath.Base(loc), Location: loc, Time: now.Add(-time.Duration(i)*24*time.Hour - time.Hour)}
				b, _ := json.Marshal(info)
				if err := os.WriteFile(filepath.Join(loc, ManifestFile), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.MkdirAll(filepath.Join(dir, "junk"), 0o700); err != nil {
				t.Fatal(err)
			}
			p := &PGDump{Dir: dir, Keep: tc.keep, KeepDays: tc.keepDays, Now: func() time.Time { return now }}
			if err := p.retain("d0"); err != nil {
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
	url := pgtest.URL(t)
	ctx := t.Context()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
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
		got, env := p.connArgs()
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
