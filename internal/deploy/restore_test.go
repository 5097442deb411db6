package deploy

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/snapshot"
)

// TestDeployRestoreLockWaitBounded: a migration fails and the rollback restores the snapshot while an
// application's session holds a lock on a table the restore drops. The restore had no lock bound of its
// own and waited for as long as the session held its lock, in maintenance mode. It now waits at most
// lock_timeout per try and tries again as a migration would: when the lock goes meanwhile, the restore
// goes through; when it stays, the rollback fails naming the table and the session, and history, which
// the rolled-back restore did not touch, still tells what the database holds.
func TestDeployRestoreLockWaitBounded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// releaseOnRetry lets the lock go once the first try has timed out.
		releaseOnRetry bool
	}{{name: "held throughout"}, {name: "released before the retry", releaseOnRetry: true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			before := tg.checksums(t)
			set := folder(t, with(goodMigrations, map[string]string{
				"2_backfill.down.sql": "",
				"3_fk.up.sql":         "ALTER TABLE accounts ADD CONSTRAINT broken CHECK (balance < 0);",
			}))
			o := tg.options(t, set, "run-1")
			o.Config.LockTimeout = time.Second
			retries := 1
			o.Config.Retries = &retries
			var release func()
			progress := o.Progress
			o.Progress = func(msg string) {
				progress(msg)
				switch {
				case strings.HasPrefix(msg, "applying 3/") && release == nil:
					release = tg.lockTable(t, "orders", "ACCESS SHARE", "app-worker")
					// Without a bound the restore waits for the lock: let it go in the end, so that the
					// test fails instead of hanging.
					time.AfterFunc(30*time.Second, release)
				case strings.HasPrefix(msg, "restoring the snapshot: lock timeout (attempt 1)") && tc.releaseOnRetry:
					release()
				}
			}
			start := time.Now()
			res, err := runBounded(t, o)
			if release == nil {
				t.Fatalf("the deploy never reached migration 3: %v", err)
			}
			release()
			if err == nil {
				t.Fatal("deploy succeeded")
			}
			rb := res.Rollback
			if rb == nil || rb.Method != "snapshot" {
				t.Fatalf("outcome %s, rollback %+v; want a snapshot restore", res.Outcome, rb)
			}
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("the deploy took %s: the restore waited for the lock", took)
			}
			if tc.releaseOnRetry {
				if res.Outcome != OutcomeRolledBack || !rb.OK {
					t.Fatalf("outcome %s, rollback %+v; want rolled back on the retry", res.Outcome, rb)
				}
				if after := tg.checksums(t); after != before {
					t.Errorf("database differs after restore:\n%s\n---\n%s", before, after)
				}
				if got, want := tg.historyOf(t), "1:restored 2:restored 3:failed"; got != want {
					t.Errorf("history %q, want %q", got, want)
				}
			} else {
				if res.Outcome != OutcomeFailed || rb.OK {
					t.Fatalf("outcome %s, rollback %+v; want the rollback failed", res.Outcome, rb)
				}
				for _, want := range []string{"restore snapshot (2 tries): waited 1s (lock_timeout) for a lock on public.orders", "lock_timeout", "public.orders is locked (AccessShareLock) by pid", "application app-worker"} {
					if !strings.Contains(rb.Error, want) {
						t.Errorf("rollback error %q does not say %q", rb.Error, want)
					}
				}
				for _, want := range []string{"history still says what the database holds (applied: 1_customers, 2_backfill)", "public.orders"} {
					if !strings.Contains(res.Hint, want) {
						t.Errorf("hint %q does not say %q", res.Hint, want)
					}
				}
				// The restore's transaction was rolled back whole: what history records is what is there.
				if got, want := tg.historyOf(t), "1:applied 2:applied 3:failed"; got != want {
					t.Errorf("history %q, want %q", got, want)
				}
				if got := tg.value(t, "SELECT count(*)::text FROM customers"); got != "3000" {
					t.Errorf("customers %s rows; want migration 2's 3000", got)
				}
			}
			if tg.maintenance(t) != "off" {
				t.Error("maintenance mode left on")
			}
		})
	}
}

// TestDeployRestoreAnalyzeLockWait: the ANALYZE after a snapshot restore runs on a connection bounded by
// lock_timeout too, and a session holds a lock that conflicts with it (on a history table, which the
// restore leaves alone). The restore has committed: the rollback stands, and a note says to run ANALYZE.
func TestDeployRestoreAnalyzeLockWait(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	before := tg.checksums(t)
	set := folder(t, with(goodMigrations, map[string]string{
		"2_backfill.down.sql": "",
		"3_fk.up.sql":         "ALTER TABLE accounts ADD CONSTRAINT broken CHECK (balance < 0);",
	}))
	o := tg.options(t, set, "run-1")
	o.Config.LockTimeout = 500 * time.Millisecond
	var release func()
	progress := o.Progress
	o.Progress = func(msg string) {
		progress(msg)
		if strings.HasPrefix(msg, "applying 3/") && release == nil {
			release = tg.lockTable(t, "schemagate.schemagate_lock", "SHARE UPDATE EXCLUSIVE", "vacuum-job")
		}
	}
	res, err := runBounded(t, o)
	if release == nil {
		t.Fatalf("the deploy never reached migration 3: %v", err)
	}
	release()
	if res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "snapshot" || !res.Rollback.OK {
		t.Fatalf("err %v, outcome %s, rollback %+v; want rolled back by the snapshot", err, res.Outcome, res.Rollback)
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("database differs after restore:\n%s\n---\n%s", before, after)
	}
	var noted bool
	for _, n := range res.Notes {
		noted = noted || strings.Contains(n, "run ANALYZE")
	}
	if !noted {
		t.Errorf("notes %q do not say to run ANALYZE", res.Notes)
	}
}

// TestDeployCommandRestoreLockWaitBounded: a migration fails and the rollback runs the restore_command of
// a command snapshot (here psql, which drops the tables and replays a plain pg_dump, in one transaction)
// while an application's session holds a lock on a table the restore drops. The command had no lock bound
// and waited for as long as the session held its lock (until the hook's timeout killed it), in
// maintenance mode. It now gets -c lock_timeout in PGOPTIONS, which libpq clients pass to the server: the
// restore gives up after lock_timeout, is tried again as the built-in restore is, and the rollback fails
// naming the session.
func TestDeployCommandRestoreLockWaitBounded(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	dump := filepath.Join(t.TempDir(), "snap.sql")
	set := folder(t, with(goodMigrations, map[string]string{
		"2_backfill.down.sql": "",
		"3_fk.up.sql":         "ALTER TABLE accounts ADD CONSTRAINT broken CHECK (balance < 0);",
	}))
	o := tg.options(t, set, "run-1")
	o.Config.LockTimeout = 500 * time.Millisecond
	retries := 1
	o.Config.Retries = &retries
	o.Snapshotter = &snapshot.Command{
		Take: `pg_dump --exclude-schema=schemagate -f ` + dump + ` "$SCHEMAGATE_DATABASE_URL" && echo snap-1`,
		// The drops come before the dump's SQL, which sets lock_timeout = 0 for itself (pg_restore does
		// the same).
		Restore: `exec psql -X -q -v ON_ERROR_STOP=1 --single-transaction -d "$SCHEMAGATE_DATABASE_URL" ` +
			`-c "DROP TABLE IF EXISTS orders, accounts, customers, app_settings CASCADE" -f ` + dump,
		Env: []string{"SCHEMAGATE_DATABASE_URL=" + tg.url},
		// Without a bound the restore waits for the lock until this kills it: the test fails instead of
		// hanging.
		Timeout: 45 * time.Second,
	}
	var release func()
	progress := o.Progress
	o.Progress = func(msg string) {
		progress(msg)
		if strings.HasPrefix(msg, "applying 3/") && release == nil {
			release = tg.lockTable(t, "orders", "ACCESS SHARE", "app-worker")
		}
	}
	res, err := runBounded(t, o)
	if release == nil {
		t.Fatalf("the deploy never reached migration 3: %v", err)
	}
	release()
	rb := res.Rollback
	if rb == nil || rb.Method != "snapshot" || rb.OK || res.Outcome != OutcomeFailed {
		t.Fatalf("err %v, outcome %s, rollback %+v; want a snapshot restore that failed", err, res.Outcome, rb)
	}
	for _, want := range []string{"restore snapshot (2 tries): waited 500ms (lock_timeout) for a lock on public.orders", "public.orders is locked (AccessShareLock) by pid", "application app-worker"} {
		if !strings.Contains(rb.Error, want) {
			t.Errorf("rollback error %q does not say %q", rb.Error, want)
		}
	}
	// psql's transaction was rolled back whole: what history records is what is there.
	if got, want := tg.historyOf(t), "1:applied 2:applied 3:failed"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
	if tg.maintenance(t) != "off" {
		t.Error("maintenance mode left on")
	}
}

// TestDeployRestoreLockTimeoutAnyLanguage: the built-in restore told a lock timeout from any other failure
// by psql's English message, so on a server whose lc_messages is another language a restore that timed
// out was not retried, nor were the sessions holding the locks named. It now tells it by the SQLSTATE
// (55P03), which psql prints with VERBOSITY=verbose in every language. The test server speaks English
// (no other locale is installed), so the restore's session here gets 55P03 with the German message from
// a CHECK constraint's function that the dump's COPY runs, which stands for a lock timeout in German.
func TestDeployRestoreLockTimeoutAnyLanguage(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	tg.exec(t, `
		CREATE FUNCTION restore_guard(v text) RETURNS boolean LANGUAGE plpgsql AS $$
		BEGIN
		  IF current_setting('application_name') = 'schemagate restore' THEN
		    RAISE EXCEPTION 'Abbruch der Anweisung wegen Zeitüberschreitung einer Sperre' USING ERRCODE = '55P03';
		  END IF;
		  RETURN v IS NOT NULL;
		END $$;
		ALTER TABLE app_settings ADD CONSTRAINT guard CHECK (restore_guard(value));`)
	set := folder(t, with(goodMigrations, map[string]string{
		"2_backfill.down.sql": "",
		"3_fk.up.sql":         "ALTER TABLE accounts ADD CONSTRAINT broken CHECK (balance < 0);",
	}))
	o := tg.options(t, set, "run-1")
	o.Config.LockTimeout = 500 * time.Millisecond
	retries := 1
	o.Config.Retries = &retries
	res, err := runBounded(t, o)
	rb := res.Rollback
	if rb == nil || rb.Method != "snapshot" || rb.OK || res.Outcome != OutcomeFailed {
		t.Fatalf("err %v, outcome %s, rollback %+v; want a snapshot restore that failed", err, res.Outcome, rb)
	}
	if want := "restore snapshot (2 tries): waited 500ms (lock_timeout) for a lock"; !strings.HasPrefix(rb.Error, want) {
		t.Errorf("rollback error %q; want it taken for a lock timeout, retried: %q", rb.Error, want)
	}
	// The restore's transaction was rolled back whole: what history records is what is there.
	if got, want := tg.historyOf(t), "1:applied 2:applied 3:failed"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
}
