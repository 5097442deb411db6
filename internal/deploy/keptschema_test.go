package deploy

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// schemaState is what a test compares of schema name: its owner, comment and grants (sorted, each
// grantee=privilege/grantor*: the restore may make them again in another order), or "missing".
const schemaState = `SELECT coalesce((SELECT n.nspowner::regrole::text || ' ' || coalesce(obj_description(n.oid, 'pg_namespace'), '-') || ' ' ||
	coalesce((SELECT string_agg(g, ',' ORDER BY g) FROM (
	            SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END || '=' || a.privilege_type || '/' || a.grantor::regrole::text ||
	                   CASE WHEN a.is_grantable THEN '*' ELSE '' END AS g
	              FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a) x), '')
	FROM pg_namespace n WHERE n.nspname = $1), 'missing')`

// rollbackBySnapshot deploys up (no down: only the snapshot undoes it) and a migration that fails after
// it, and checks that the rollback restored the snapshot and gave back the catalog (tg.checksums) and
// each of checks as they were before.
func rollbackBySnapshot(t *testing.T, tg *target, up string, checks ...string) {
	t.Helper()
	before := tg.checksums(t)
	values := make([]string, len(checks))
	for i, c := range checks {
		values[i] = tg.value(t, c)
	}
	o := tg.options(t, folder(t, map[string]string{
		"1_a.up.sql":   "UPDATE orders SET total = 0;\n" + up,
		"2_b.up.sql":   "SELECT 1/0;",
		"2_b.down.sql": "SELECT 1;",
	}), "run-keptschema")
	res, err := Run(t.Context(), o)
	if err == nil {
		t.Fatal("deploy succeeded")
	}
	if rb := res.Rollback; res.Outcome != OutcomeRolledBack || rb == nil || rb.Method != "snapshot" || !rb.OK {
		t.Fatalf("outcome %s, rollback %+v, reason %q, hint %q, notes %q: want the snapshot restored", res.Outcome, rb, res.Reason, res.Hint, res.Notes)
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("after the rollback:\n%s\nwant\n%s", after, before)
	}
	for i, c := range checks {
		if got := tg.value(t, c); got != values[i] {
			t.Errorf("%s: %s after the rollback, want %s", c, got, values[i])
		}
	}
}

// testRoles creates roles named after the test, dropped when it ends, and returns their names.
func testRoles(t *testing.T, tg *target, n int) []string {
	t.Helper()
	var names []string
	for i := range n {
		r := fmt.Sprintf("sg_kept_%d_%d", time.Now().UnixNano(), i)
		tg.exec(t, "CREATE ROLE "+r)
		t.Cleanup(func() {
			_, _ = tg.conn.Exec(context.Background(), fmt.Sprintf("DROP OWNED BY %s CASCADE; DROP ROLE IF EXISTS %s", r, r))
		})
		names = append(names, r)
	}
	return names
}

// TestDeployRollbackRecreatesDroppedPublic: a migration without a down drops schema public, whose
// owner, comment and grants the database had changed, and the next fails. The restore failed on the
// dump's first table in public (schema "public" does not exist), and the deploy ended "needs attention"
// with its tables gone; it now creates public again, and the dump gives it back its owner, comment and
// grants as they were.
func TestDeployRollbackRecreatesDroppedPublic(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, setup string }{
		{name: "as initdb left it"},
		{name: "changed", setup: "ALTER SCHEMA public OWNER TO %[1]s; COMMENT ON SCHEMA public IS 'the app''s'; " +
			"GRANT USAGE ON SCHEMA public TO %[2]s WITH GRANT OPTION; REVOKE USAGE ON SCHEMA public FROM PUBLIC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			r := testRoles(t, tg, 2)
			if tc.setup != "" {
				tg.exec(t, fmt.Sprintf("GRANT CREATE ON DATABASE %s TO %s; ", pgx.Identifier{tg.value(t, "SELECT current_database()")}.Sanitize(), r[0])+
					fmt.Sprintf(tc.setup, r[0], r[1]))
			}
			rollbackBySnapshot(t, tg, "DROP SCHEMA public CASCADE;", strings.ReplaceAll(schemaState, "$1", "'public'"))
		})
	}
}

// TestDeployRollbackRevokesGrantsOnKeptSchemas: a migration without a down changes the grants on a
// schema the restore keeps (public, one an extension owns, one an extension is in): it gives a role USAGE
// with the grant option, which that role passes on, a role that held the grant option already passes it
// on too, and a grant the snapshot had is revoked. The restore left public's and the extension's
// schema's grants as the migration made them (the dump writes what to grant on top of the initial
// grants, and revokes nothing else); it now sets them back to the snapshot's.
func TestDeployRollbackRevokesGrantsOnKeptSchemas(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, schema, setup string }{
		{name: "public", schema: "public"},
		{name: "schema an extension owns", schema: "cron", setup: `CREATE EXTENSION pgcrypto; CREATE SCHEMA cron;
			CREATE TABLE cron.job (id int PRIMARY KEY); ALTER EXTENSION pgcrypto ADD SCHEMA cron; ALTER EXTENSION pgcrypto ADD TABLE cron.job;`},
		{name: "schema an extension is in", schema: "ext", setup: "CREATE SCHEMA ext; CREATE EXTENSION hstore SCHEMA ext;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			r := testRoles(t, tg, 5)
			if tc.setup != "" {
				tg.exec(t, tc.setup)
			}
			s := tc.schema
			tg.exec(t, fmt.Sprintf("GRANT USAGE ON SCHEMA %[1]s TO %[2]s WITH GRANT OPTION; GRANT USAGE ON SCHEMA %[1]s TO %[3]s; SET ROLE %[2]s; GRANT USAGE ON SCHEMA %[1]s TO %[4]s; RESET ROLE",
				s, r[0], r[1], r[2]))
			rollbackBySnapshot(t, tg, fmt.Sprintf(`GRANT USAGE ON SCHEMA %[1]s TO %[2]s WITH GRANT OPTION;
				SET ROLE %[2]s; GRANT USAGE ON SCHEMA %[1]s TO %[3]s; RESET ROLE;
				SET ROLE %[4]s; GRANT USAGE ON SCHEMA %[1]s TO %[3]s; RESET ROLE;
				REVOKE USAGE ON SCHEMA %[1]s FROM %[5]s;
				GRANT CREATE ON SCHEMA %[1]s TO PUBLIC;`, s, r[3], r[4], r[0], r[1]),
				strings.ReplaceAll(schemaState, "$1", "'"+s+"'"))
		})
	}
}

// TestDeployRollbackRevokesGrantsOnPublicAsOwner: TestDeployRollbackRevokesGrantsOnKeptSchemas with a
// deploy role that is no superuser but owns the database and public, and may act as app, which owns a
// table in public. The migration takes CREATE on public from app, which the restore needs app to have
// when it gives app_cache back to it (ALTER TABLE ... OWNER TO app): the dump's grant comes after the
// tables, and the restore failed (permission denied for schema public); public's grants now come back
// before the tables.
func TestDeployRollbackRevokesGrantsOnPublicAsOwner(t *testing.T) {
	t.Parallel()
	tg, dep, app := newTargetAsOwner(t)
	admin := pgtest.Conn(t) // another database of the same server: roles are the server's
	if _, err := admin.Exec(t.Context(), "GRANT "+app+" TO "+dep); err != nil {
		t.Fatal(err)
	}
	rollbackBySnapshot(t, tg, fmt.Sprintf(`REVOKE CREATE ON SCHEMA public FROM %[1]s;
		GRANT USAGE ON SCHEMA public TO %[1]s WITH GRANT OPTION;
		SET ROLE %[1]s; GRANT USAGE ON SCHEMA public TO PUBLIC; RESET ROLE;`, app),
		strings.ReplaceAll(schemaState, "$1", "'public'"))
}
