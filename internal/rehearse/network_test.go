package rehearse

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/nettest"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
)

// TestConnectsFindsWhatReachesOtherServers: the statements that make the server connect to another
// one, following what each subscription the scripts make is (enabled, with a slot); the rest are not.
func TestConnectsFindsWhatReachesOtherServers(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want []string // per statement: a part of what connects says, "" for nothing
	}{
		{"CREATE SUBSCRIPTION s CONNECTION 'host=prod' PUBLICATION p;", []string{"CREATE SUBSCRIPTION s connects to its publisher"}},
		{"CREATE SUBSCRIPTION s CONNECTION 'host=prod' PUBLICATION p WITH (connect);", []string{"CREATE SUBSCRIPTION s connects"}},
		{"CREATE SUBSCRIPTION s CONNECTION 'host=prod' PUBLICATION p WITH (copy_data = off);", []string{"CREATE SUBSCRIPTION s connects"}},
		// connect = false: nothing connects; the default slot name stays, so the drop would connect
		// unless the slot is let go first.
		{"CREATE SUBSCRIPTION s CONNECTION 'host=prod' PUBLICATION p WITH (connect = false);\nDROP SUBSCRIPTION s;",
			[]string{"", "DROP SUBSCRIPTION s connects to the publisher to drop its replication slot"}},
		{"CREATE SUBSCRIPTION s CONNECTION 'host=prod' PUBLICATION p WITH (connect = off);\nALTER SUBSCRIPTION s SET (slot_name = NONE);\nALTER SUBSCRIPTION s CONNECTION 'host=other';\nALTER SUBSCRIPTION s SET PUBLICATION q WITH (refresh = false);\nALTER SUBSCRIPTION s RENAME TO t;\nDROP SUBSCRIPTION t;",
			[]string{"", "", "", "", "", ""}},
		{"CREATE SUBSCRIPTION s CONNECTION 'host=prod' PUBLICATION p WITH (connect = false, slot_name = NONE);\nALTER SUBSCRIPTION s ENABLE;\nALTER SUBSCRIPTION s CONNECTION 'host=other';\nALTER SUBSCRIPTION s DISABLE;\nALTER SUBSCRIPTION s CONNECTION 'host=third';",
			[]string{"", "ALTER SUBSCRIPTION s ENABLE starts its worker", "ALTER SUBSCRIPTION s CONNECTION restarts", "", ""}},
		{"CREATE SUBSCRIPTION s CONNECTION 'host=prod' PUBLICATION p WITH (connect = false, slot_name = NONE);\nALTER SUBSCRIPTION s SET (slot_name = 's');\nDROP SUBSCRIPTION IF EXISTS s;",
			[]string{"", "", "DROP SUBSCRIPTION s connects"}},
		// Subscriptions the scripts did not make may be enabled and have a slot.
		{"ALTER SUBSCRIPTION old CONNECTION 'host=x';\nALTER SUBSCRIPTION old REFRESH PUBLICATION;\nALTER SUBSCRIPTION old ADD PUBLICATION q;\nALTER SUBSCRIPTION old OWNER TO CURRENT_USER;\nDROP SUBSCRIPTION old;",
			[]string{"ALTER SUBSCRIPTION old CONNECTION", "REFRESH PUBLICATION connects", "PUBLICATION refreshes it from the publisher", "", "DROP SUBSCRIPTION old connects"}},
		{"IMPORT FOREIGN SCHEMA remote FROM SERVER prod INTO local;", []string{"IMPORT FOREIGN SCHEMA connects to foreign server prod"}},
		{"SELECT dblink_exec('host=prod', 'DELETE FROM t');\nSELECT * FROM DBLINK ('host=prod', 'SELECT 1') AS t(x int);\nSELECT dblink_disconnect();",
			[]string{"dblink_exec() connects", "DBLINK () connects", ""}},
		{"DO $$ BEGIN EXECUTE 'CREATE ' || 'SUBSCRIPTION s CONNECTION ''host=prod'' PUBLICATION p'; END $$;", []string{`a DO block mentions "CREATE ' || 'SUBSCRIPTION"`}},
		// Foreign tables connect when a statement reads or writes them, on a server whose wrapper
		// connects (every one but file_fdw), or one the scripts did not make.
		{"CREATE SERVER prod FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'prod');\nCREATE SERVER files FOREIGN DATA WRAPPER file_fdw;\n" +
			"CREATE FOREIGN TABLE remote_orders (id bigint) SERVER prod;\nCREATE FOREIGN TABLE app.csv (id bigint) SERVER files OPTIONS (filename '/tmp/x.csv');\n" +
			"COMMENT ON FOREIGN TABLE remote_orders IS 'x';\nCREATE VIEW v AS SELECT * FROM remote_orders;\n" +
			"INSERT INTO orders SELECT id FROM csv;\nINSERT INTO orders SELECT id FROM public.remote_orders WHERE id > 0;\n" +
			"ANALYZE remote_orders;\nCREATE TABLE copy AS SELECT * FROM (SELECT * FROM remote_orders) s;\n" +
			"ALTER SERVER prod RENAME TO old_prod;\nALTER FOREIGN TABLE remote_orders RENAME TO ro;\nUPDATE ro SET id = 1;\n" +
			"DROP FOREIGN TABLE ro;\nSELECT * FROM ro;\nDELETE FROM elsewhere_ft;",
			[]string{"", "", "", "", "", "",
				"", "a statement on foreign table remote_orders of server prod (postgres_fdw) connects",
				"foreign table remote_orders", "foreign table remote_orders",
				"", "", "foreign table ro of server old_prod (postgres_fdw)",
				"", "", ""}},
		{"CREATE FOREIGN TABLE ft (id bigint) SERVER theirs;\nSELECT count(*) FROM ft;",
			[]string{"", "foreign table ft of server theirs connects to the server (a wrapper other than file_fdw does)"}},
		// A function's body runs when it is called; the parse trees do not show that.
		{"CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ SELECT dblink_exec('host=prod', 'SELECT 1') $$;\nCREATE EXTENSION dblink;\nCREATE TABLE subscription (id int);",
			[]string{"", "", ""}},
	} {
		set, err := migrate.Read(fstest.MapFS{"001_x.sql": &fstest.MapFile{Data: []byte(tc.sql)}}, migrate.FormatPlain)
		if err != nil {
			t.Fatal(err)
		}
		st := set.Migrations[0].Up.Statements
		if len(st) != len(tc.want) {
			t.Fatalf("%q: %d statements, want %d", tc.sql, len(st), len(tc.want))
		}
		r := newReach()
		for i := range st {
			got := r.connects(st[i].Node, st[i].SQL)
			if (got == "") != (tc.want[i] == "") || !strings.Contains(got, tc.want[i]) {
				t.Errorf("%q: statement %d: connects says %q, want %q", tc.sql, i+1, got, tc.want[i])
			}
		}
	}
}

// subscribingFolder is a goose folder whose second migration subscribes to a publisher on port, outside
// a transaction (CREATE SUBSCRIPTION may not run in one).
func subscribingFolder(t *testing.T, port int) *migrate.Set {
	t.Helper()
	return folderFS(t, fstest.MapFS{
		"001_items.sql": {Data: []byte("-- +goose Up\nCREATE TABLE items (id bigint PRIMARY KEY);\n-- +goose Down\nDROP TABLE items;\n")},
		"002_subscribe.sql": {Data: []byte(fmt.Sprintf("-- +goose NO TRANSACTION\n-- +goose Up\n"+
			"CREATE SUBSCRIPTION items_sub CONNECTION 'host=127.0.0.1 port=%d dbname=shop connect_timeout=5' PUBLICATION items_pub;\n"+
			"-- +goose Down\nDROP SUBSCRIPTION items_sub;\n", port))},
	})
}

func folderFS(t *testing.T, fsys fstest.MapFS) *migrate.Set {
	t.Helper()
	set, err := migrate.Read(fsys, migrate.FormatGoose)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestRehearsalServerConnectsNowhere: the local provider's server runs without network, so a
// migration's CREATE SUBSCRIPTION fails at its line with a connection error and a hint that says why,
// and the publisher it names (a listener here) sees no connection; the report says the server had no
// network.
func TestRehearsalServerConnectsNowhere(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the local server runs without network as root, or where unprivileged user namespaces are allowed: not assumed here")
	}
	publisher := nettest.NewCounter(t)
	p := sandbox.NewLocal(sandbox.Options{})
	inst, err := p.Start(context.Background()) // also warms the template
	if err != nil {
		pgtest.Unavailable(t, "local PostgreSQL: %v", err)
	}
	inst.Close(context.Background())
	var progress []string
	rep, err := Run(context.Background(), Options{Set: subscribingFolder(t, publisher.Port()), Provider: p, Dir: "db",
		Progress: func(f string, args ...any) { progress = append(progress, fmt.Sprintf(f, args...)) }})
	if err != nil {
		t.Fatal(err)
	}
	if n := publisher.Stop(); n != 0 {
		t.Fatalf("the rehearsal's server connected to the publisher %d times", n)
	}
	if rep.Database.Network != sandbox.NetworkNone {
		t.Errorf("report's database network = %q, want %q", rep.Database.Network, sandbox.NetworkNone)
	}
	if !containsAll(progress, "without network") {
		t.Errorf("progress does not say the server has no network:\n%s", strings.Join(progress, "\n"))
	}
	m := rep.Migrations[1]
	if m.Status != report.StatusFailed || m.Error == nil || m.Error.File != "002_subscribe.sql" || m.Error.Line != 3 ||
		m.Error.SQLState != "08006" || !strings.Contains(m.Error.Hint, "runs without network") {
		t.Fatalf("migration 2: status %s, error %+v; want failed at 002_subscribe.sql:3 with SQLSTATE 08006 and the no-network hint", m.Status, m.Error)
	}
}

// TestRehearsalWithNetworkRefusesToConnect: a docker container can reach the network, so a migration
// that would connect to its publisher is refused with its file and line before anything runs.
func TestRehearsalWithNetworkRefusesToConnect(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no containers")
	}
	if !sandbox.DockerAvailable(context.Background()) {
		pgtest.Unavailable(t, "no Docker daemon answers (run scripts/setup-machine.sh)")
	}
	publisher := nettest.NewCounter(t)
	p := sandbox.NewDocker(sandbox.Options{Image: "schemagate/postgres:15", PGVersion: 15})
	_, err := Run(context.Background(), Options{Set: subscribingFolder(t, publisher.Port()), Provider: p, Dir: "db"})
	if !errors.Is(err, ErrNetwork) {
		t.Fatalf("error %v, want ErrNetwork", err)
	}
	for _, want := range []string{"002_subscribe.sql:3: CREATE SUBSCRIPTION items_sub connects to its publisher", "docker provider",
		"002_subscribe.sql:5: DROP SUBSCRIPTION items_sub connects", "WITH (connect = false, slot_name = NONE)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if n := publisher.Stop(); n != 0 {
		t.Fatalf("the publisher saw %d connections", n)
	}
}

func containsAll(list []string, words ...string) bool {
	for _, w := range words {
		found := false
		for _, s := range list {
			found = found || strings.Contains(s, w)
		}
		if !found {
			return false
		}
	}
	return true
}

// TestSubscriptionWithoutConnectionRehearses: what the refusal suggests works, on both providers: a
// subscription created WITH (connect = false, slot_name = NONE) and dropped by the down connects
// nowhere, so it rehearses (its round trip too) on a server with network and on one without.
func TestSubscriptionWithoutConnectionRehearses(t *testing.T) {
	publisher := nettest.NewCounter(t)
	set := folderFS(t, fstest.MapFS{
		"001_subscribe.sql": {Data: []byte(fmt.Sprintf("-- +goose Up\n"+
			"CREATE SUBSCRIPTION items_sub CONNECTION 'host=127.0.0.1 port=%d dbname=shop connect_timeout=5' PUBLICATION items_pub WITH (connect = false, slot_name = NONE);\n"+
			"-- +goose Down\nDROP SUBSCRIPTION items_sub;\n", publisher.Port()))},
	})
	providers := map[string]sandbox.Provider{"local": sandbox.NewLocal(sandbox.Options{})}
	if !testing.Short() {
		if !sandbox.DockerAvailable(context.Background()) {
			pgtest.Unavailable(t, "no Docker daemon answers (run scripts/setup-machine.sh)")
		}
		providers["docker"] = sandbox.NewDocker(sandbox.Options{Image: "schemagate/postgres:15", PGVersion: 15})
	}
	for name, p := range providers {
		rep, err := Run(context.Background(), Options{Set: set, Provider: p, Dir: "db"})
		if err != nil {
			if name == "local" && errors.Is(err, sandbox.ErrUnavailable) {
				pgtest.Unavailable(t, "local PostgreSQL: %v", err)
			}
			t.Fatalf("%s: %v", name, err)
		}
		m := rep.Migrations[0]
		if m.Status != report.StatusApplied || m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
			t.Errorf("%s: status %s, round trip %+v, error %+v; want applied with its round trip ok", name, m.Status, m.Roundtrip, m.Error)
		}
	}
	if n := publisher.Stop(); n != 0 {
		t.Fatalf("the publisher saw %d connections", n)
	}
}

// TestRehearsalSharingTheNetworkRefusesPrograms: the local server where no network namespace may be
// created shares the network, so a program a migration makes it run (COPY … FROM PROGRAM 'curl …', a
// file_fdw program, a function in an untrusted language) could reach any server: such statements are
// refused with their file and line before anything runs, and the server the program names sees no
// connection.
func TestRehearsalSharingTheNetworkRefusesPrograms(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the local server runs as another user than the tests (postgres) only as root: not assumed here")
	}
	target := nettest.NewCounter(t)
	p := sandbox.NewLocal(sandbox.WithSharedNetwork(sandbox.Options{}))
	inst, err := p.Start(context.Background())
	if err != nil {
		pgtest.Unavailable(t, "local PostgreSQL: %v", err)
	}
	inst.Close(context.Background())
	curl := fmt.Sprintf("curl -s -m 5 http://127.0.0.1:%d/", target.Port())
	set := folderFS(t, fstest.MapFS{
		"001_items.sql": {Data: []byte("-- +goose Up\nCREATE TABLE items (line text);\n-- +goose Down\nDROP TABLE items;\n")},
		"002_fetch.sql": {Data: []byte("-- +goose Up\nCOPY items FROM PROGRAM '" + curl + "';\n-- +goose Down\nDELETE FROM items;\n")},
		"003_feed.sql": {Data: []byte("-- +goose Up\nCREATE EXTENSION file_fdw;\nCREATE SERVER files FOREIGN DATA WRAPPER file_fdw;\n" +
			"CREATE FOREIGN TABLE feed (line text) SERVER files OPTIONS (program '" + curl + "');\n" +
			"CREATE FUNCTION fetch_feed() RETURNS text LANGUAGE plperlu AS $$ return `" + curl + "`; $$;\n" +
			"-- +goose Down\nDROP FUNCTION fetch_feed();\nDROP FOREIGN TABLE feed;\nDROP SERVER files;\nDROP EXTENSION file_fdw;\n")},
	})
	_, err = Run(context.Background(), Options{Set: set, Provider: p, Dir: "db"})
	if n := target.Stop(); n != 0 {
		t.Errorf("a program the rehearsal's server ran connected %d times", n)
	}
	if !errors.Is(err, ErrNetwork) {
		t.Fatalf("error %v, want ErrNetwork", err)
	}
	for _, want := range []string{"002_fetch.sql:2: COPY … PROGRAM runs a program", "003_feed.sql:4: a foreign table's program option",
		"003_feed.sql:5: a function in LANGUAGE plperlu", "local provider", "no network namespace may be created here", "COPY … FROM STDIN"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}
