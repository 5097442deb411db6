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
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestQuietHistoryKeepsSubscriptionsFromTheirPublisher: the history's subscription statements are
// rewritten (or left out) so that none connects, as the network refusal judges them, and everything
// else is replayed as written.
func TestQuietHistoryKeepsSubscriptionsFromTheirPublisher(t *testing.T) {
	set := folderFS(t, fstest.MapFS{
		"001_items.sql": {Data: []byte("-- +goose Up\nCREATE TABLE items (id bigint PRIMARY KEY);\n-- +goose Down\nDROP TABLE items;\n")},
		"002_subscribe.sql": {Data: []byte("-- +goose NO TRANSACTION\n-- +goose Up\n" +
			"CREATE TABLE seen (id int);\n" +
			"CREATE SUBSCRIPTION items_sub CONNECTION 'host=db.example port=5432 dbname=shop password=''s3cret''' PUBLICATION items_pub WITH (create_slot = true, copy_data = false, binary = true);\n" +
			"ALTER SUBSCRIPTION items_sub REFRESH PUBLICATION;\n" +
			"ALTER SUBSCRIPTION items_sub SET PUBLICATION items_pub, more_pub;\n" +
			"ALTER SUBSCRIPTION items_sub ADD PUBLICATION extra_pub WITH (copy_data = true);\n" +
			"ALTER SUBSCRIPTION items_sub DROP PUBLICATION extra_pub WITH (refresh = false);\n" +
			"ALTER SUBSCRIPTION items_sub DISABLE;\n" +
			"ALTER SUBSCRIPTION items_sub SET (slot_name = 'items_slot');\n" +
			"ALTER SUBSCRIPTION items_sub SET (slot_name = 'other', streaming = on);\n" +
			"ALTER SUBSCRIPTION items_sub CONNECTION 'host=db2.example dbname=shop';\n" +
			"ALTER SUBSCRIPTION items_sub ENABLE;\n" +
			"CREATE SUBSCRIPTION quiet_sub CONNECTION 'host=db.example' PUBLICATION p WITH (connect = false, slot_name = NONE);\n" +
			"ALTER SUBSCRIPTION items_sub RENAME TO orders_sub;\n" +
			"DROP SUBSCRIPTION orders_sub;\n" +
			"-- +goose Down\nDROP SUBSCRIPTION items_sub;\n")},
	})
	replay, notes := quietHistory(set.Migrations)
	if replay[0] != set.Migrations[0] {
		t.Errorf("a migration without subscriptions was copied")
	}
	if replay[1] == set.Migrations[1] || replay[1].Up == set.Migrations[1].Up {
		t.Fatalf("the subscribing migration was not rewritten")
	}
	if len(set.Migrations[1].Up.Statements) != 14 || strings.Contains(set.Migrations[1].Up.Statements[1].SQL, "connect") {
		t.Fatalf("the folder's own script changed: %d statements, %q", len(set.Migrations[1].Up.Statements), set.Migrations[1].Up.Statements[1].SQL)
	}
	var got []string
	for _, st := range replay[1].Up.Statements {
		got = append(got, st.SQL)
	}
	want := []string{
		"CREATE TABLE seen (id int)",
		"CREATE SUBSCRIPTION items_sub CONNECTION 'host=db.example port=5432 dbname=shop password=''s3cret''' PUBLICATION items_pub WITH (\"binary\" = true, connect = false, slot_name = NONE)",
		"ALTER SUBSCRIPTION items_sub SET PUBLICATION items_pub, more_pub WITH (refresh = false)",
		"ALTER SUBSCRIPTION items_sub ADD PUBLICATION extra_pub WITH (refresh = false)",
		"ALTER SUBSCRIPTION items_sub DROP PUBLICATION extra_pub WITH (refresh = false)",
		"ALTER SUBSCRIPTION items_sub DISABLE",
		"ALTER SUBSCRIPTION items_sub SET (streaming = on)",
		"ALTER SUBSCRIPTION items_sub CONNECTION 'host=db2.example dbname=shop'",
		"CREATE SUBSCRIPTION quiet_sub CONNECTION 'host=db.example' PUBLICATION p WITH (connect = false, slot_name = NONE)",
		"ALTER SUBSCRIPTION items_sub RENAME TO orders_sub",
		"DROP SUBSCRIPTION orders_sub",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("replayed statements:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The statements that stay keep their place in the file, for an error's file:line.
	if st := replay[1].Up.Statements[len(replay[1].Up.Statements)-1]; st.Pos.Line != 16 {
		t.Errorf("DROP SUBSCRIPTION at line %d, want 16", st.Pos.Line)
	}
	if len(notes) != 1 {
		t.Fatalf("notes %q, want one", notes)
	}
	for _, w := range []string{"history migration 2_subscribe", "002_subscribe.sql:4: CREATE SUBSCRIPTION items_sub ran WITH (connect = false, slot_name = NONE)",
		"002_subscribe.sql:5: ALTER SUBSCRIPTION items_sub REFRESH PUBLICATION was left out", "002_subscribe.sql:10: ALTER SUBSCRIPTION items_sub SET (slot_name = …) was left out",
		"002_subscribe.sql:11: ALTER SUBSCRIPTION items_sub SET ran without its slot_name", "002_subscribe.sql:13: ALTER SUBSCRIPTION items_sub ENABLE was left out"} {
		if !strings.Contains(notes[0], w) {
			t.Errorf("note does not say %q:\n%s", w, notes[0])
		}
	}
	if strings.Contains(notes[0], "quiet_sub") || strings.Contains(notes[0], ":8:") {
		t.Errorf("note names statements that ran as written:\n%s", notes[0])
	}
	// As the network refusal judges them, none of the replayed statements connects.
	st := newReach()
	if found := statementsThat([]*migrate.Script{replay[1].Up}, func(s *sqlparse.Statement) string { return st.connects(s.Node, s.SQL) }); len(found) != 0 {
		t.Errorf("replayed statements still connect: %q", found)
	}
	st = newReach()
	if found := statementsThat([]*migrate.Script{set.Migrations[1].Up}, func(s *sqlparse.Statement) string { return st.connects(s.Node, s.SQL) }); len(found) == 0 {
		t.Errorf("the statements as written were not found to connect: the test proves nothing")
	}
}

// TestHistorySubscriptionReplaysWithoutConnecting: a history migration that subscribes to a publisher
// (as deployed: its authors cannot change it) replays without connecting, on a server without network
// and on one with network, and the new migrations rehearse; the report's notes say what was replayed
// differently. A new migration that enables the history's subscription fails on the first with a hint
// that says why, and is refused on the second. rollback-script replays what comes before its target
// the same way. The publisher (a listener) sees no connection.
func TestHistorySubscriptionReplaysWithoutConnecting(t *testing.T) {
	publisher := nettest.NewCounter(t)
	files := fstest.MapFS{
		"001_items.sql": {Data: []byte("-- +goose Up\nCREATE TABLE items (id bigint PRIMARY KEY);\n-- +goose Down\nDROP TABLE items;\n")},
		"002_subscribe.sql": {Data: []byte(fmt.Sprintf("-- +goose NO TRANSACTION\n-- +goose Up\n"+
			"CREATE SUBSCRIPTION items_sub CONNECTION 'host=127.0.0.1 port=%d dbname=shop connect_timeout=5' PUBLICATION items_pub;\n"+
			"ALTER SUBSCRIPTION items_sub REFRESH PUBLICATION;\n"+
			"-- +goose Down\nDROP SUBSCRIPTION items_sub;\n", publisher.Port()))},
		"003_orders.sql": {Data: []byte("-- +goose Up\nCREATE TABLE orders (id bigint PRIMARY KEY, item bigint REFERENCES items);\n-- +goose Down\nDROP TABLE orders;\n")},
	}
	set := folderFS(t, files)
	base := &migrate.Set{Format: set.Format, Migrations: set.Migrations[:2]}
	files["004_enable.sql"] = &fstest.MapFile{Data: []byte("-- +goose NO TRANSACTION\n-- +goose Up\nALTER SUBSCRIPTION items_sub ENABLE;\n-- +goose Down\nALTER SUBSCRIPTION items_sub DISABLE;\n")}
	enabling := folderFS(t, files)

	providers := map[string]sandbox.Provider{}
	if os.Geteuid() == 0 {
		providers["local"] = sandbox.NewLocal(sandbox.Options{}) // without network (see TestLocalServerHasNoNetwork)
	}
	if !testing.Short() {
		if !sandbox.DockerAvailable(context.Background()) {
			pgtest.Unavailable(t, "no Docker daemon answers (run scripts/setup-machine.sh)")
		}
		providers["docker"] = sandbox.NewDocker(sandbox.Options{Image: "schemagate/postgres:15", PGVersion: 15})
	}
	if len(providers) == 0 {
		t.Skip("-short, not root: no server without network and no container")
	}
	for name, p := range providers {
		var progress []string
		rep, err := Run(context.Background(), Options{Set: set, Base: base, Provider: p, Dir: "db",
			Progress: func(f string, args ...any) { progress = append(progress, fmt.Sprintf(f, args...)) }})
		if err != nil {
			if name == "local" && errors.Is(err, sandbox.ErrUnavailable) {
				pgtest.Unavailable(t, "local PostgreSQL: %v", err)
			}
			t.Fatalf("%s: %v", name, err)
		}
		if want := map[string]string{"local": sandbox.NetworkNone, "docker": ""}[name]; rep.Database.Network != want {
			t.Errorf("%s: network %q, want %q", name, rep.Database.Network, want)
		}
		if m := rep.Migrations[1]; m.Status != report.StatusBase {
			t.Errorf("%s: history migration 2: status %s, error %+v; want base", name, m.Status, m.Error)
		}
		if m := rep.Migrations[2]; m.Status != report.StatusApplied || m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
			t.Errorf("%s: migration 3: status %s, round trip %+v, error %+v; want applied with its round trip ok", name, m.Status, m.Roundtrip, m.Error)
		}
		if !containsAll(rep.Notes, "history migration 2_subscribe was replayed without connecting", "002_subscribe.sql:3: CREATE SUBSCRIPTION items_sub ran WITH (connect = false, slot_name = NONE)",
			"002_subscribe.sql:4: ALTER SUBSCRIPTION items_sub REFRESH PUBLICATION was left out") {
			t.Errorf("%s: notes do not say how the history replayed:\n%s", name, strings.Join(rep.Notes, "\n"))
		}
		if !containsAll(progress, "1 history migration replayed without connecting to a publisher") {
			t.Errorf("%s: progress does not say so:\n%s", name, strings.Join(progress, "\n"))
		}

		// rollback-script replays the migrations before its target the same way.
		progress = nil
		gd, err := RollbackScript(context.Background(), Options{Set: set, Provider: p, Dir: "db",
			Progress: func(f string, args ...any) { progress = append(progress, fmt.Sprintf(f, args...)) }}, "3")
		if err != nil {
			t.Fatalf("%s, rollback script: %v", name, err)
		}
		if !gd.Verified || !strings.Contains(gd.SQL, "DROP TABLE orders;") {
			t.Errorf("%s, rollback script: verified %v, problems %q:\n%s", name, gd.Verified, gd.Problems, gd.SQL)
		}
		if !containsAll(progress, "history migration 2_subscribe was replayed without connecting") {
			t.Errorf("%s, rollback script: progress does not say how migration 2 replayed:\n%s", name, strings.Join(progress, "\n"))
		}

		rep, err = Run(context.Background(), Options{Set: enabling, Base: base, Provider: p, Dir: "db"})
		switch name {
		case "local":
			if err != nil {
				t.Fatalf("%s, enabling: %v", name, err)
			}
			m := rep.Migrations[3]
			if m.Status != report.StatusFailed || m.Error == nil || m.Error.File != "004_enable.sql" || m.Error.Line != 3 || m.Error.SQLState != "55000" ||
				!strings.Contains(m.Error.Hint, "replayed WITH (connect = false, slot_name = NONE)") {
				t.Errorf("%s, enabling: migration 4: status %s, error %+v; want failed at 004_enable.sql:3 (55000) with the hint", name, m.Status, m.Error)
			}
		case "docker":
			if !errors.Is(err, ErrNetwork) || !strings.Contains(err.Error(), "004_enable.sql:3: ALTER SUBSCRIPTION items_sub ENABLE") || strings.Contains(err.Error(), "002_subscribe.sql") {
				t.Errorf("%s, enabling: error %v; want ErrNetwork for 004_enable.sql:3 alone", name, err)
			}
		}
	}
	if n := publisher.Stop(); n != 0 {
		t.Fatalf("the publisher saw %d connections", n)
	}
}
