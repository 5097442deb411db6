package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pgtest"
)

// newTargetAsOwner is a target whose deploy role (returned) is not a superuser: it owns the database, the
// public schema and the application's tables, as in production, while another role (app, returned)
// owns a table of its own, app_cache, which the deploy role may read.
func newTargetAsOwner(t *testing.T) (tg *target, dep, app string) {
	t.Helper()
	return newTargetAsOwnerWith(t, "")
}

// newTargetAsOwnerWith is newTargetAsOwner whose superuser runs admin in the database once the roles
// are there (%dep and %app in it name them), before the deploy role creates the tables.
func newTargetAsOwnerWith(t *testing.T, admin string) (tg *target, dep, app string) {
	t.Helper()
	url := pgtest.URL(t)
	ctx := t.Context()
	su, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { su.Close(context.Background()) })
	var db, oid string
	if err := su.QueryRow(ctx, "SELECT current_database(), oid::text FROM pg_database WHERE datname = current_database()").Scan(&db, &oid); err != nil {
		t.Fatal(err)
	}
	dep, app = "sg_deployer_"+oid, "sg_app_"+oid
	r := strings.NewReplacer("%dep", dep, "%app", app, "%db", pgx.Identifier{db}.Sanitize())
	if _, err := su.Exec(ctx, r.Replace(`CREATE ROLE %dep LOGIN; CREATE ROLE %app;
		ALTER DATABASE %db OWNER TO %dep; ALTER SCHEMA public OWNER TO %dep;
		GRANT CREATE ON SCHEMA public TO %app; SET ROLE %app; CREATE TABLE app_cache (k text); GRANT SELECT ON app_cache TO %dep; RESET ROLE`)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = su.Exec(context.Background(), r.Replace("REASSIGN OWNED BY %dep, %app TO CURRENT_USER; DROP OWNED BY %dep, %app; DROP ROLE %dep; DROP ROLE %app"))
	})
	if admin != "" {
		if _, err := su.Exec(ctx, r.Replace(admin)); err != nil {
			t.Fatalf("%s: %v", admin, err)
		}
	}
	u := pgtest.AsRole(t, url, dep)
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	tg = &target{url: u, conn: conn}
	tg.exec(t, `
		CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL, balance numeric(12,2) NOT NULL);
		INSERT INTO accounts SELECT g, 'acct ' || g, g * 10.25 FROM generate_series(1, 300) g;
		CREATE TABLE orders (id bigserial PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts, total numeric(12,2), note text);
		INSERT INTO orders (account_id, total, note) SELECT g % 300 + 1, g * 1.5, md5(g::text) FROM generate_series(1, 600) g;
		CREATE TABLE app_settings (key text PRIMARY KEY, value text NOT NULL);
		INSERT INTO app_settings VALUES ('maintenance', 'off');`)
	return tg, dep, app
}

// TestDeployBlocksWhenTheSnapshotCannotBeRestored: a pending migration has no down, so the snapshot is
// its only way back, and the deploy role could not restore it (a table of another role, which the
// restore would give back to its owner). The deploy used to apply it and find out in the rollback, with
// the restore refused (must be member of role "app") and production half migrated. It is now blocked
// before anything changes, naming the table, its owner and the ways out. A deploy whose migrations have
// downs needs no restore and goes ahead (its failure is undone by the downs), and so does one whose role
// may act as the owner (its failure is undone by the restore). A dry run says the same.
func TestDeployBlocksWhenTheSnapshotCannotBeRestored(t *testing.T) {
	t.Parallel()
	noDown := map[string]string{
		"1_a.up.sql": "ALTER TABLE accounts ADD COLUMN w int;",
		"2_b.up.sql": "SELECT 1/0;",
	}
	withDown := with(noDown, map[string]string{"1_a.down.sql": "ALTER TABLE accounts DROP COLUMN w;", "2_b.down.sql": "SELECT 1;"})
	for _, tc := range []struct {
		name   string
		files  map[string]string
		member bool // the deploy role is a member of app
		revoke bool // app may not create in public, so the restore cannot give app_cache back to it
		want   string
		method string // the rollback's, when not blocked
	}{
		{name: "no down", files: noDown, want: OutcomeBlocked},
		{name: "downs", files: withDown, want: OutcomeRolledBack, method: "down"},
		{name: "no down, member of the owner", files: noDown, member: true, want: OutcomeRolledBack, method: "snapshot"},
		// Tester A's F7: the preflight passed, and the restore failed with "permission denied for schema
		// public" at ALTER TABLE app_cache OWNER TO app, with the migrations applied.
		{name: "no down, member of an owner without CREATE on public", files: noDown, member: true, revoke: true, want: OutcomeBlocked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg, dep, app := newTargetAsOwner(t)
			if tc.member {
				admin := pgtest.Conn(t) // another database of the same server: roles are the server's
				if _, err := admin.Exec(t.Context(), "GRANT "+app+" TO "+dep); err != nil {
					t.Fatal(err)
				}
			}
			if tc.revoke {
				tg.exec(t, "REVOKE CREATE ON SCHEMA public FROM "+app)
			}
			before := tg.checksums(t)
			o := tg.options(t, folder(t, tc.files), "run-own")
			dry := o
			dry.DryRun = true
			if res, err := Run(t.Context(), dry); (res.Outcome == OutcomeBlocked) != (tc.want == OutcomeBlocked) {
				t.Errorf("dry run: %v, outcome %s; want it to say what the deploy does (%s)", err, res.Outcome, tc.want)
			}
			res, err := Run(t.Context(), o)
			if err == nil || res.Outcome != tc.want {
				t.Fatalf("deploy: %v, outcome %s; want %s", err, res.Outcome, tc.want)
			}
			if after := tg.checksums(t); after != before {
				t.Errorf("database differs:\n%s\n---\n%s", before, after)
			}
			if got := tg.maintenance(t); got != "off" {
				t.Errorf("maintenance mode %q, want off", got)
			}
			if tc.want != OutcomeBlocked {
				if res.Rollback == nil || res.Rollback.Method != tc.method {
					t.Errorf("rollback %+v, want by %s", res.Rollback, tc.method)
				}
				return
			}
			var b *Blocked
			if !errors.As(err, &b) {
				t.Fatalf("error %T %v, want *Blocked", err, err)
			}
			wantReason, wantHint := "table app_cache (owner "+app+", which "+dep+" may not act as)", "GRANT "+app+" TO "+dep
			if tc.revoke {
				wantReason, wantHint = "table app_cache (owner "+app+", which lacks CREATE on schema public", "GRANT CREATE ON SCHEMA public TO "+app
			}
			for _, want := range []string{"1_a has no down migration", wantReason, "role " + dep, "nothing was changed"} {
				if !strings.Contains(b.Reason, want) {
					t.Errorf("reason %q does not say %q", b.Reason, want)
				}
			}
			for _, want := range []string{wantHint, "add down migrations to 1_a", "snapshot.kind: command"} {
				if !strings.Contains(b.Hint, want) {
					t.Errorf("hint %q does not say %q", b.Hint, want)
				}
			}
			if res.Snapshot != nil || strings.Contains(tg.historyOf(t), "1") {
				t.Errorf("snapshot %+v, history %q: the deploy started", res.Snapshot, tg.historyOf(t))
			}
		})
	}
}

// TestSnapshotOnly: which pending migrations make a rollback restore the snapshot, as undo decides, and
// which may be left half applied (whose rollback restores it too).
func TestSnapshotOnly(t *testing.T) {
	t.Parallel()
	set := folder(t, map[string]string{
		"1_a.up.sql":   "ALTER TABLE accounts ADD COLUMN w int;",
		"2_b.up.sql":   "CREATE TABLE b (id int);",
		"2_b.down.sql": "DROP TABLE b;",
		"3_c.up.sql":   "ALTER TABLE accounts ADD COLUMN c int;",
		"3_c.down.sql": "DROP TABLE accounts;",
	})
	want := []string{"1_a has no down migration", "", "the down of 3_c would lose data"}
	for i, m := range set.Migrations {
		if got := snapshotOnly(m, set.Migrations[:i], "", nil, nil); (got == "") != (want[i] == "") || !strings.Contains(got, want[i]) {
			t.Errorf("%s: %q, want %q", m.ID(), got, want[i])
		}
	}
	goose, err := migrate.Read(fstest.MapFS{
		"00001_one.sql": {Data: []byte("-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY a_idx ON accounts (name);\n-- +goose Down\nDROP INDEX CONCURRENTLY a_idx;\n")},
		"00002_two.sql": {Data: []byte("-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY b_idx ON accounts (name);\nCREATE INDEX CONCURRENTLY c_idx ON accounts (balance);\n-- +goose Down\nDROP INDEX CONCURRENTLY b_idx;\nDROP INDEX CONCURRENTLY c_idx;\n")},
	}, migrate.FormatGoose)
	if err != nil {
		t.Fatal(err)
	}
	if len(goose.Migrations) != 2 || !goose.Migrations[1].NoTransaction {
		t.Fatalf("goose migrations %+v", goose.Migrations)
	}
	if got := mayStopHalfWay(goose.Migrations[0]); got != "" {
		t.Errorf("one statement outside a transaction: %q, want none", got)
	}
	if got := mayStopHalfWay(goose.Migrations[1]); !strings.Contains(got, "2 statements outside a transaction") {
		t.Errorf("two statements outside a transaction: %q", got)
	}
}

// TestObstaclesHint: a check that could not connect points at the URL and the server; one whose query
// the server refused does not (it said "check the database URL and that the server is up" for the
// check's "schema "public" does not exist" on a database without public).
func TestObstaclesHint(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	c, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var x string
	refused := c.QueryRow(t.Context(), "SELECT 'no_such_schema'::regnamespace::text").Scan(&x)
	_, unreachable := pgx.Connect(t.Context(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=5")
	if refused == nil || unreachable == nil {
		t.Fatalf("want two errors, got %v and %v", refused, unreachable)
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{name: "refused query", err: fmt.Errorf("read owners: %w", refused), want: "the server refused the query"},
		{name: "no connection", err: fmt.Errorf("connect: %w", unreachable), want: "check the database URL and that the server is up"},
	} {
		if got := obstaclesHint(tc.err); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: hint %q, want it to start with %q", tc.name, got, tc.want)
		}
	}
}
