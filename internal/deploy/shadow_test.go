package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/config"
)

// shadowingPath gives tg's database, for the sessions that start from now on, a search path with public
// before pg_catalog, as an earlier migration's ALTER DATABASE ... SET search_path = public, pg_catalog
// leaves it: what public holds then stands in for the system catalogs and functions named unqualified.
func shadowingPath(t *testing.T, tg *target, shadows string) {
	t.Helper()
	db := pgx.Identifier{tg.value(t, "SELECT current_database()")}.Sanitize()
	tg.exec(t, shadows)
	tg.exec(t, "ALTER DATABASE "+db+" SET search_path = public, pg_catalog")
}

// TestDeployLockUnderAShadowingSearchPath: with a public.pg_try_advisory_lock(bigint) that answers true
// before pg_catalog's, a deploy took "the lock" that another deploy held, and ran beside it. The lock's
// session now resolves what it calls to pg_catalog's: it waits, then is blocked.
func TestDeployLockUnderAShadowingSearchPath(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	shadowingPath(t, tg, `CREATE FUNCTION public.pg_try_advisory_lock(bigint) RETURNS boolean LANGUAGE sql AS 'SELECT true';
		CREATE FUNCTION public.pg_advisory_unlock(bigint) RETURNS boolean LANGUAGE sql AS 'SELECT true'`)
	holder, err := pgx.Connect(t.Context(), tg.url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(context.Background())
	if _, err := holder.Exec(t.Context(), "SELECT pg_catalog.pg_advisory_lock($1)", lockKey); err != nil {
		t.Fatal(err)
	}
	o := tg.options(t, folder(t, goodMigrations), "run-shadowed-lock")
	o.Config.LockWait = 300 * time.Millisecond
	res, err := Run(t.Context(), o)
	var b *Blocked
	if !errors.As(err, &b) || res.Outcome != OutcomeBlocked {
		t.Fatalf("err %v, outcome %s; want blocked: another session holds the deploy lock", err, res.Outcome)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM pg_catalog.pg_tables WHERE tablename = 'customers'"); got != "0" {
		t.Error("the deploy ran beside the holder of the lock")
	}
}

// TestDeployVerifiesUnderAShadowingSearchPath: a migration breaks a foreign key behind the server's back
// (session_replication_role = replica), under a database whose search path finds a public.pg_constraint
// (and a public.pg_index) before pg_catalog's, views that show nothing. The verification read them, saw
// no foreign key to check, and the deploy reported success with orphaned rows. It now reads pg_catalog's:
// the check fails and the deploy is rolled back, as without the views. A user check is the user's SQL,
// and reads under the session's own search path, as the migrations ran: its pg_constraint is the view.
func TestDeployVerifiesUnderAShadowingSearchPath(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	shadowingPath(t, tg, `CREATE VIEW public.pg_constraint AS SELECT * FROM pg_catalog.pg_constraint WHERE false;
		CREATE VIEW public.pg_index AS SELECT * FROM pg_catalog.pg_index WHERE false`)
	before := tg.checksums(t)
	files := with(goodMigrations, map[string]string{
		"4_orders_note.up.sql":   "SET LOCAL session_replication_role = replica;\nDELETE FROM accounts WHERE id = 5;",
		"4_orders_note.down.sql": "",
	})
	o := tg.options(t, folder(t, files), "run-shadowed-verify")
	own := "the session's own pg_constraint"
	o.Config.Verify.Checks = []config.Check{{Name: own, SQL: "SELECT count(*) FROM pg_constraint", Rows: [][]string{{"0"}}}}
	res, err := Run(t.Context(), o)
	if err == nil {
		t.Fatalf("deploy succeeded (outcome %s, checks %+v): the broken foreign key went unseen", res.Outcome, res.Verify)
	}
	failed := failedChecks(res.Verify)
	if len(failed) == 0 || failed[0].Name != "foreign keys hold" || !strings.Contains(failed[0].Message, "orders_account_id_fkey") {
		t.Fatalf("err %v, failed checks %+v, want \"foreign keys hold\" naming orders_account_id_fkey", err, failed)
	}
	for _, c := range failed {
		if c.Name == own {
			t.Errorf("user check failed: %+v; want it read under the session's search path", c)
		}
	}
	if res.Outcome != OutcomeRolledBack {
		t.Fatalf("outcome %s, rollback %+v, want rolled back", res.Outcome, res.Rollback)
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("database differs after rollback:\n%s\n---\n%s", before, after)
	}
}

// TestDeployKeepsItsTimeoutUnderAShadowingTempView: after each statement of a migration the deploy reads
// the timeouts in force, and puts back one the statement lifted. A migration's temporary view pg_settings,
// which its session finds before pg_catalog's (its search path does not list pg_temp), showed a
// statement_timeout of 1 ms: its SET statement_timeout = 0 went unseen, and its long statement ran past
// the role's limit. The read now names pg_catalog's view: the limit is put back and cancels it.
func TestDeployKeepsItsTimeoutUnderAShadowingTempView(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	db := pgx.Identifier{tg.value(t, "SELECT current_database()")}.Sanitize()
	tg.exec(t, "ALTER ROLE CURRENT_USER IN DATABASE "+db+" SET statement_timeout = '500ms'")
	up := `CREATE TEMP VIEW pg_settings AS
  SELECT name, CASE WHEN name = 'statement_timeout' THEN '1' ELSE setting END AS setting FROM pg_catalog.pg_settings;
SET statement_timeout = 0;
SELECT pg_sleep(2);
ALTER TABLE orders ALTER COLUMN note SET DEFAULT '';`
	o := tg.options(t, folder(t, with(goodMigrations, map[string]string{"4_orders_note.up.sql": up})), "run-shadowed-timeout")
	res, err := runBounded(t, o)
	if err == nil || res.Outcome != OutcomeRolledBack {
		t.Fatalf("err %v, outcome %s; want the migration canceled by the role's statement_timeout, and rolled back", err, res.Outcome)
	}
	if e := res.Migrations[3].Error; e == nil || e.SQLState != "57014" {
		t.Errorf("migration 4 error %+v, want 57014 (statement timeout)", e)
	}
}
