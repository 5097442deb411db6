package rehearse

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
)

// TestRehearsalOutlastsTransactionTimeout: on a PostgreSQL 17 server (the url provider's) whose role
// sets transaction_timeout = '2s', a rehearsal's session holds a migration's transaction with the
// catalog reads in it, and the round trip's: the server ended the session of a migration that outlasted
// 2 s, and of two migrations of 1.5 s each at the catalog read after the re-up ("inspect catalog after
// re-up: FATAL: terminating connection due to transaction timeout"), and check failed. The rehearsal's
// sessions now run without it: its limits are its own (--statement-timeout, the watchdog).
func TestRehearsalOutlastsTransactionTimeout(t *testing.T) {
	t.Parallel()
	inst := pgtest.TCPServerVersion(t, 17)
	admin, err := pgx.Connect(t.Context(), inst.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(t.Context(), "CREATE ROLE checker LOGIN SUPERUSER; ALTER ROLE checker SET transaction_timeout = '2s'"); err != nil {
		t.Fatal(err)
	}
	set, err := migrate.Read(fstest.MapFS{
		"1_a.up.sql":   {Data: []byte("SELECT pg_sleep(2.5);\nCREATE TABLE a (id bigint PRIMARY KEY);\n")},
		"1_a.down.sql": {Data: []byte("DROP TABLE a;\n")},
		"2_b.up.sql":   {Data: []byte("SELECT pg_sleep(1.5);\nCREATE TABLE b (id bigint PRIMARY KEY);\n")},
		"2_b.down.sql": {Data: []byte("DROP TABLE b;\n")},
	}, migrate.FormatGolangMigrate)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(t.Context(), Options{Set: set, Provider: sandbox.NewURL(sandbox.Options{DatabaseURL: pgtest.AsRole(t, inst.AdminURL, "checker")}),
		Progress: func(format string, args ...any) { t.Logf(format, args...) }})
	if err != nil {
		t.Fatalf("rehearse: %v", err)
	}
	for _, m := range rep.Migrations {
		if m.Status != report.StatusApplied || m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
			t.Errorf("%s: %s %+v, round trip %+v; want applied, round trip ok", m.Version, m.Status, m.Error, m.Roundtrip)
		}
	}
	if len(rep.Migrations) != 2 {
		t.Errorf("%d migrations in the report, want 2", len(rep.Migrations))
	}
}
