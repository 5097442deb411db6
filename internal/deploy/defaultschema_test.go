package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestDeployFlywayHistoryInDefaultSchema: Flyway keeps flyway_schema_history in its default schema
// (flyway.defaultSchema), which is not on the database's search path. The dry run used to miss it (it
// connects without the deploy's session search path) and plan every migration; both now look for it
// in the default schema and name it schema-qualified.
func TestDeployFlywayHistoryInDefaultSchema(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := map[string]string{
		"flyway.conf":  "flyway.schemas=app,audit\nflyway.defaultSchema=app\n",
		"V1__a.sql":    "CREATE TABLE a (id int);\n",
		"V2__b.sql":    "CREATE TABLE b (id int);\n",
		"R__views.sql": "CREATE OR REPLACE VIEW v AS SELECT id FROM a;\n",
		"V3__c.sql":    "CREATE TABLE c (id int);\n",
	}
	tg.exec(t, "CREATE SCHEMA app; CREATE SCHEMA audit; CREATE TABLE app.a (id int); CREATE TABLE app.b (id int); CREATE VIEW app.v AS SELECT id FROM app.a;\n"+
		strings.Replace(flywayTable, "flyway_schema_history", "app.flyway_schema_history", 1)+
		fmt.Sprintf(`INSERT INTO app.flyway_schema_history VALUES
		  (1, '1', 'a', 'SQL', 'V1__a.sql', %d, 'flyway', now(), 5, true),
		  (2, '2', 'b', 'SQL', 'V2__b.sql', %d, 'flyway', now(), 5, true),
		  (3, NULL, 'views', 'SQL', 'R__views.sql', %d, 'flyway', now(), 5, true)`,
			flywayChecksum(files["V1__a.sql"]), flywayChecksum(files["V2__b.sql"]), flywayChecksum(files["R__views.sql"])))
	set := readFolder(t, files, migrate.FormatFlyway)
	o := tg.options(t, set, "run-dry")
	o.DryRun = true
	res, err := Run(t.Context(), o)
	if err != nil || res.Outcome != OutcomeDryRun || res.Imported == nil || len(res.Imported.Versions) != 3 || statuses(res) != "3:pending" {
		t.Fatalf("dry run: err %v, outcome %s, imported %+v, migrations %s; want 3 imported and V3 pending", err, res.Outcome, res.Imported, statuses(res))
	}
	if res.Imported.Table != "app.flyway_schema_history" {
		t.Errorf("imported from %q, want it named app.flyway_schema_history", res.Imported.Table)
	}
	res, err = Run(t.Context(), tg.options(t, set, "run-1"))
	if err != nil || statuses(res) != "3:applied" || res.Imported == nil || res.Imported.Table != "app.flyway_schema_history" {
		t.Fatalf("deploy: err %v, migrations %s, imported %+v; want 3 imported from app.flyway_schema_history and V3 applied", err, statuses(res), res.Imported)
	}
}

// TestDeployDownQualifiedInDefaultSchema: an up that names a table unqualified runs with Flyway's default
// schema first in the search path, so a down naming it qualified with that schema undoes just what the up
// did; it used to be judged to lose data (unqualified names were taken for other tables), and the run
// rolled back by snapshot.
func TestDeployDownQualifiedInDefaultSchema(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := map[string]string{
		"flyway.conf":   "flyway.schemas=app\n",
		"V1__users.sql": "CREATE TABLE users (id bigint);\n",
		"U1__users.sql": "DROP TABLE app.users;\n",
		"V2__col.sql":   "ALTER TABLE users ADD COLUMN email text;\n",
		"U2__col.sql":   "ALTER TABLE app.users DROP COLUMN email;\n",
	}
	o := tg.options(t, readFolder(t, files, migrate.FormatFlyway), "run-1")
	o.Config.Verify.Checks = []config.Check{{Name: "fails", SQL: "SELECT false"}}
	res, err := Run(t.Context(), o)
	if res == nil || res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "down" {
		t.Fatalf("err %v, rollback %+v; want rolled back by the downs", err, res.Rollback)
	}
}

// TestDeployBaselineLockWaitBounded: a table the verification counts is locked by another session. The
// baseline, taken in maintenance mode, used to wait for the lock for ever; it now gives up after the
// environment's lock_timeout, names the table and who holds it, and the run is blocked (nothing changed).
func TestDeployBaselineLockWaitBounded(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	cfg, err := pgx.ParseConfig(tg.url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "nightly-report"
	blocker, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close(context.Background())
	tx, err := blocker.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(t.Context(), "LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	o := tg.options(t, folder(t, map[string]string{"1_x.up.sql": "ALTER TABLE orders ADD COLUMN y int;"}), "run-1")
	o.Snapshotter = nil
	o.Config.LockTimeout = time.Second
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, o)
	if ctx.Err() != nil {
		t.Fatalf("the deploy waited on the lock until the test's deadline: err %v", err)
	}
	if res.Outcome != OutcomeBlocked || !strings.Contains(res.Reason, "accounts") || !strings.Contains(res.Reason, "nightly-report") || !strings.Contains(res.Reason, "nothing was changed") {
		t.Errorf("outcome %s, reason %q; want blocked naming public.accounts and its holder", res.Outcome, res.Reason)
	}
	if statuses(res) != "1:pending" {
		t.Errorf("migrations %s; want none run", statuses(res))
	}
	_ = tx.Rollback(t.Context())
	if got := tg.maintenance(t); got != "off" {
		t.Errorf("maintenance mode %s after the blocked run", got)
	}
}

// TestDeploySnapshotRollbackNamesRoleChanges: a snapshot restore does not undo role changes; the result
// used to say only "rolled back by snapshot and verified". It now names them.
func TestDeploySnapshotRollbackNamesRoleChanges(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	role := fmt.Sprintf("sg_role_%d", time.Now().UnixNano())
	tg.exec(t, "CREATE ROLE "+role)
	t.Cleanup(func() { _, _ = tg.conn.Exec(context.Background(), "DROP ROLE IF EXISTS "+role) })
	o := tg.options(t, folder(t, map[string]string{"1_x.up.sql": "CREATE TABLE z (id int);\nALTER ROLE " + role + " CONNECTION LIMIT 5;\n"}), "run-1")
	o.Config.Verify.Checks = []config.Check{{Name: "fails", SQL: "SELECT false"}}
	res, _ := Run(t.Context(), o)
	if res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "snapshot" {
		t.Fatalf("outcome %s, rollback %+v; want rolled back by snapshot", res.Outcome, res.Rollback)
	}
	if len(res.Rollback.NotRestored) != 1 || !strings.Contains(res.Rollback.NotRestored[0], "ALTER ROLE "+role) {
		t.Errorf("not restored %q; want the ALTER ROLE", res.Rollback.NotRestored)
	}
	var b bytes.Buffer
	_ = res.WriteText(&b)
	if !strings.Contains(b.String(), "ALTER ROLE "+role) {
		t.Errorf("the text does not name the ALTER ROLE:\n%s", b.String())
	}
}

// TestDeploySnapshotRollbackNamesExtensionUpdate: the snapshot restore keeps the extensions its dump
// holds, whose CREATE EXTENSION IF NOT EXISTS names no version: an extension a migration updated stays
// updated. The verification sees the functions the update added ("schema as before" fails, rightly); the
// result used to leave the reader to guess why. It now names the ALTER EXTENSION and says why the
// restore kept it.
func TestDeploySnapshotRollbackNamesExtensionUpdate(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	tg.exec(t, "CREATE EXTENSION citext VERSION '1.4'")
	o := tg.options(t, folder(t, map[string]string{"1_x.up.sql": "CREATE TABLE z (id int);\nALTER EXTENSION citext UPDATE TO '1.6';\n"}), "run-1")
	o.Config.Verify.Checks = []config.Check{{Name: "fails", SQL: "SELECT false"}}
	res, _ := Run(t.Context(), o)
	if res.Rollback == nil || res.Rollback.Method != "snapshot" || !res.Rollback.OK {
		t.Fatalf("outcome %s, rollback %+v; want the snapshot restored", res.Outcome, res.Rollback)
	}
	if got := tg.value(t, "SELECT extversion FROM pg_extension WHERE extname = 'citext'"); got != "1.6" {
		t.Fatalf("citext %s after the restore; the note below says it stays 1.6", got)
	}
	if res.Outcome != OutcomeFailed || !strings.Contains(res.Hint, `"schema as before" failed: extra: function citext_`) {
		t.Errorf("outcome %s, hint %q; want failed, naming what the update added", res.Outcome, res.Hint)
	}
	if len(res.Rollback.NotRestored) != 1 || res.Rollback.NotRestored[0] != "ALTER EXTENSION citext UPDATE at 1_x.up.sql:2" {
		t.Errorf("not restored %q; want the ALTER EXTENSION", res.Rollback.NotRestored)
	}
	if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "an extension stays at the version it has") }) {
		t.Errorf("notes %q do not say why", res.Notes)
	}
}

// TestDeployRowCountNamesSchema: the row count check names a table outside public with its schema; with
// Flyway's default schema in front of the search path it used to say "child has 1 rows".
func TestDeployRowCountNamesSchema(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	tg.exec(t, `CREATE SCHEMA app; CREATE TABLE app.parent (id int PRIMARY KEY); INSERT INTO app.parent SELECT generate_series(1, 10);
		CREATE TABLE app.child (id int, parent_id int REFERENCES app.parent ON DELETE CASCADE); INSERT INTO app.child SELECT g, g FROM generate_series(1, 10) g;`)
	files := map[string]string{
		"flyway.conf": "flyway.schemas=app\n",
		"V1__x.sql":   "ALTER TABLE parent ADD COLUMN note text;\nDELETE FROM parent WHERE id > 5;\n",
	}
	res, err := Run(t.Context(), tg.options(t, readFolder(t, files, migrate.FormatFlyway), "run-1"))
	if err == nil || res.Outcome != OutcomeRolledBack {
		t.Fatalf("err %v, outcome %s; want the row loss caught", err, res.Outcome)
	}
	var msg string
	for _, c := range res.Verify {
		if c.Name == "row counts unchanged" && c.Phase == "apply" && !c.OK {
			msg = c.Message
		}
	}
	if !strings.HasPrefix(msg, "app.child has 5 rows") {
		t.Errorf("row count check %q; want it to name app.child", msg)
	}
}

// TestOutsideSnapshot: what a snapshot restore leaves as the migration made it: roles and their
// comments, databases and their comments, default privileges (in public and database-wide); not the
// objects the snapshot holds, nor schema public's own privileges, owner and comment, which the restore
// sets back (see TestDeployRollbackRevokesGrantsOnKeptSchemas).
func TestOutsideSnapshot(t *testing.T) {
	t.Parallel()
	for sql, want := range map[string]string{
		"ALTER ROLE r1 CONNECTION LIMIT 5":                                                               "ALTER ROLE r1",
		"COMMENT ON ROLE r1 IS 'x'":                                                                      "COMMENT ON ROLE r1",
		"COMMENT ON DATABASE postgres IS 'x'":                                                            "COMMENT ON DATABASE postgres",
		"GRANT USAGE, CREATE ON SCHEMA public TO r1":                                                     "",
		"REVOKE USAGE ON SCHEMA public FROM PUBLIC":                                                      "",
		"ALTER SCHEMA public OWNER TO r1":                                                                "",
		"COMMENT ON SCHEMA public IS 'x'":                                                                "",
		"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO r1":                         "ALTER DEFAULT PRIVILEGES IN SCHEMA public",
		"ALTER DEFAULT PRIVILEGES FOR ROLE r2 IN SCHEMA billing, public REVOKE SELECT ON TABLES FROM r1": "ALTER DEFAULT PRIVILEGES IN SCHEMA public",
		// A schema other than public goes and comes back with its default privileges (see
		// TestDeploySnapshotRestoreSchemaDefaultPrivileges).
		"ALTER DEFAULT PRIVILEGES FOR ROLE app IN SCHEMA billing REVOKE SELECT ON TABLES FROM r1": "",
		// Compared by the rehearsal, but the restore does not clear them.
		"ALTER DEFAULT PRIVILEGES FOR ROLE r2 GRANT SELECT ON TABLES TO r1": "ALTER DEFAULT PRIVILEGES FOR ROLE r2",
		"GRANT USAGE ON SCHEMA app TO r1":                                   "",
		"CREATE EVENT TRIGGER e ON ddl_command_end EXECUTE FUNCTION f()":    "",
		"CREATE TABLE t (id int)":                                           "",
		"ALTER EXTENSION citext UPDATE TO '1.6'":                            "ALTER EXTENSION citext UPDATE",
		"ALTER EXTENSION citext UPDATE":                                     "ALTER EXTENSION citext UPDATE",
		"ALTER EXTENSION citext ADD FUNCTION f()":                           "",
	} {
		st := sqlparse.Parse(sql)
		if got := outsideSnapshot(st[0].Node); !strings.HasPrefix(got, want) || (want == "") != (got == "") {
			t.Errorf("%s: %q, want %q", sql, got, want)
		}
	}
}

// TestDeploySnapshotRestoreSchemaDefaultPrivileges: a snapshot restore listed every ALTER DEFAULT
// PRIVILEGES ... IN SCHEMA as one it does not undo. Measured: the default privileges of schema billing
// come back as they were (the restore drops the schema, and its pg_default_acl rows with it, and the dump
// recreates them); those of public, which the restore keeps, keep what the migration granted (the dump
// re-grants what it holds and revokes nothing). Only public's is named.
func TestDeploySnapshotRestoreSchemaDefaultPrivileges(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	tg.exec(t, `CREATE SCHEMA billing; ALTER DEFAULT PRIVILEGES IN SCHEMA billing GRANT SELECT ON TABLES TO PUBLIC;
		ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO PUBLIC`)
	acl := func(schema string) string {
		return tg.value(t, `SELECT coalesce((SELECT d.defaclacl::text FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace
			WHERE n.nspname = $1 AND d.defaclobjtype = 'r'), 'none')`, schema)
	}
	billing, public := acl("billing"), acl("public")
	o := tg.options(t, folder(t, map[string]string{"1_x.up.sql": "CREATE TABLE z (id int);\n" +
		"ALTER DEFAULT PRIVILEGES IN SCHEMA billing REVOKE SELECT ON TABLES FROM PUBLIC;\n" +
		"ALTER DEFAULT PRIVILEGES IN SCHEMA billing GRANT INSERT ON TABLES TO PUBLIC;\n" +
		"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT INSERT ON TABLES TO PUBLIC;\n"}), "run-1")
	o.Config.Verify.Checks = []config.Check{{Name: "fails", SQL: "SELECT false"}}
	res, _ := Run(t.Context(), o)
	if res.Rollback == nil || res.Rollback.Method != "snapshot" || !res.Rollback.OK {
		t.Fatalf("outcome %s, rollback %+v; want the snapshot restored", res.Outcome, res.Rollback)
	}
	if got := acl("billing"); got != billing {
		t.Errorf("billing's default privileges %s after the restore, %s before: the restore did not undo them", got, billing)
	}
	if got := acl("public"); got == public {
		t.Errorf("public's default privileges %s after the restore, as before: the restore undid them, and the note below is wrong", got)
	}
	if want := []string{"ALTER DEFAULT PRIVILEGES IN SCHEMA public at 1_x.up.sql:4"}; !slices.Equal(res.Rollback.NotRestored, want) {
		t.Errorf("not restored %q; want %q", res.Rollback.NotRestored, want)
	}
}

// TestDeployFlywayMissingDefaultSchemaNotCreated: a Flyway folder with createSchemas=false whose default
// schema does not exist. Flyway fails there (its history table needs the schema); the deploy used to put
// the schema first in a search path that skips it, and so deployed the migrations into public. It now
// refuses before changing anything, the dry run too, and deploys once the schema exists.
func TestDeployFlywayMissingDefaultSchemaNotCreated(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	before := tg.checksums(t)
	files := map[string]string{
		"flyway.conf": "flyway.defaultSchema=app\nflyway.createSchemas=false\n",
		"V1__a.sql":   "CREATE TABLE a (id int);\n",
	}
	set := readFolder(t, files, migrate.FormatFlyway)
	for _, dry := range []bool{true, false} {
		o := tg.options(t, set, fmt.Sprintf("run-dry-%v", dry))
		o.DryRun = dry
		res, err := Run(t.Context(), o)
		var b *Blocked
		if !errors.As(err, &b) || res.Outcome != OutcomeBlocked {
			t.Fatalf("dry run %v: err %v, outcome %s; want blocked", dry, err, res.Outcome)
		}
		for _, want := range []string{`default schema "app"`, "createSchemas=false", "public"} {
			if !strings.Contains(b.Reason, want) {
				t.Errorf("dry run %v: reason %q does not say %q", dry, b.Reason, want)
			}
		}
		if !strings.Contains(b.Hint, `CREATE SCHEMA "app"`) {
			t.Errorf("dry run %v: hint %q", dry, b.Hint)
		}
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("the database changed:\n%s\n---\n%s", before, after)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM pg_tables WHERE tablename = 'a'"); got != "0" {
		t.Errorf("%s tables a", got)
	}
	if got := tg.historyOf(t); got != "" {
		t.Errorf("history %q", got)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM schemagate.schemagate_runs"); got != "0" {
		t.Errorf("%s runs recorded", got)
	}

	tg.exec(t, "CREATE SCHEMA app")
	res, err := Run(t.Context(), tg.options(t, set, "run-1"))
	if err != nil || statuses(res) != "1:applied" {
		t.Fatalf("deploy: err %v, migrations %s", err, statuses(res))
	}
	if got := tg.value(t, "SELECT string_agg(schemaname, ',') FROM pg_tables WHERE tablename = 'a'"); got != "app" {
		t.Errorf("table a in %q, want app", got)
	}
}
