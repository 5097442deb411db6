package deploy

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestDeployKeepsTheServersStatementTimeout: a DBA set statement_timeout on the deploy's role (in the
// target database). With no statement_timeout configured, the deploy used to SET statement_timeout = 0 on
// its session before each migration, lifting that limit: a migration could run for ever. It now keeps the
// role's limit, as a ceiling a migration's own SET cannot lift either, and says in the progress output
// which limits are in force and where they come from.
func TestDeployKeepsTheServersStatementTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, up string
		note     string
	}{
		{name: "a long statement", up: "SELECT pg_sleep(2);\n"},
		{name: "a script that lifts it", up: "SET statement_timeout = 0;\nSELECT pg_sleep(2);\n",
			note: "4_orders_note.up.sql:1 turns statement_timeout off; the deploy kept it at 500ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			db := pgx.Identifier{tg.value(t, "SELECT current_database()")}.Sanitize()
			tg.exec(t, "ALTER ROLE CURRENT_USER IN DATABASE "+db+" SET statement_timeout = '500ms'")
			migs := with(goodMigrations, map[string]string{"4_orders_note.up.sql": tc.up + "ALTER TABLE orders ALTER COLUMN note SET DEFAULT '';"})
			o := tg.options(t, folder(t, migs), "run-role-timeout")
			var progress []string
			o.Progress = func(msg string) { t.Log(msg); progress = append(progress, msg) }
			res, err := runBounded(t, o)
			if err == nil || res.Outcome != OutcomeRolledBack {
				t.Fatalf("err %v, outcome %s; want the migration canceled by the role's statement_timeout, and rolled back", err, res.Outcome)
			}
			if e := res.Migrations[3].Error; e == nil || e.SQLState != "57014" {
				t.Errorf("migration 4 error %+v, want 57014 (statement timeout)", e)
			}
			if want := "statement_timeout 500ms (set on the role in this database)"; !strings.Contains(strings.Join(progress, "\n"), want) {
				t.Errorf("progress does not say %q:\n%s", want, strings.Join(progress, "\n"))
			}
			if tc.note != "" && !strings.Contains(strings.Join(res.Notes, "\n"), tc.note) {
				t.Errorf("notes lack %q:\n%s", tc.note, strings.Join(res.Notes, "\n"))
			}
		})
	}
}

// TestDeploySaysWhichTimeoutsHold: the progress output names the limits in force and where each comes
// from: configured, the deploy's default, or none.
func TestDeploySaysWhichTimeoutsHold(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	o := tg.options(t, folder(t, goodMigrations), "run-timeouts")
	var progress []string
	o.Progress = func(msg string) { t.Log(msg); progress = append(progress, msg) }
	if res, err := runBounded(t, o); err != nil {
		t.Fatalf("err %v, outcome %s", err, res.Outcome)
	}
	want := "timeouts of each migration: lock_timeout 5s (the deploy's default), statement_timeout none (neither configured nor set on the server)"
	if !strings.Contains(strings.Join(progress, "\n"), want) {
		t.Errorf("progress does not say %q:\n%s", want, strings.Join(progress, "\n"))
	}
}

// TestDeployKeepsTheRolesLowerLockTimeout: a DBA set lock_timeout = '300ms' on the deploy's role (in the
// target database). With no lock_timeout configured, the deploy used to SET its default 5s on every
// session, raising that limit: a migration could queue behind an application's lock, and hold everything
// queued behind it, for 5 s instead of 300 ms. It now keeps a lower limit the server gives the role, in the
// migrations and in its own statements (a lock on history ends the run after 300 ms); a higher one gives
// way to the default, and a configured lock_timeout is what it says.
func TestDeployKeepsTheRolesLowerLockTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, role string
		configured time.Duration
		want       string // current_setting('lock_timeout') in the migration
		progress   string
	}{
		{name: "lower", role: "300ms", want: "300ms", progress: "lock_timeout 300ms (set on the role in this database, below the deploy's default 5s)"},
		{name: "higher", role: "1h", want: "5s", progress: "lock_timeout 5s (the deploy's default)"},
		{name: "configured", role: "300ms", configured: 2 * time.Second, want: "2s", progress: "lock_timeout 2s (configured)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			db := pgx.Identifier{tg.value(t, "SELECT current_database()")}.Sanitize()
			tg.exec(t, "ALTER ROLE CURRENT_USER IN DATABASE "+db+" SET lock_timeout = '"+tc.role+"'")
			check := fmt.Sprintf("DO $$ BEGIN IF current_setting('lock_timeout') <> '%s' THEN RAISE EXCEPTION 'lock_timeout is %%', current_setting('lock_timeout'); END IF; END $$;\n", tc.want)
			migs := with(goodMigrations, map[string]string{"4_orders_note.up.sql": check + "ALTER TABLE orders ALTER COLUMN note SET DEFAULT '';"})
			o := tg.options(t, folder(t, migs), "run-role-lock-timeout")
			o.Config.LockTimeout = tc.configured
			var progress []string
			o.Progress = func(msg string) { t.Log(msg); progress = append(progress, msg) }
			if res, err := runBounded(t, o); err != nil {
				t.Fatalf("err %v, outcome %s, migration 4 %+v", err, res.Outcome, res.Migrations[3].Error)
			}
			if !strings.Contains(strings.Join(progress, "\n"), tc.progress) {
				t.Errorf("progress does not say %q:\n%s", tc.progress, strings.Join(progress, "\n"))
			}
		})
	}
	// The deploy's own statements keep it too: history locked by another session between two
	// migrations ends the run after the role's 300ms.
	t.Run("history", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		db := pgx.Identifier{tg.value(t, "SELECT current_database()")}.Sanitize()
		tg.exec(t, "ALTER ROLE CURRENT_USER IN DATABASE "+db+" SET lock_timeout = '300ms'")
		res, err := tg.runWithHistoryLocked(t, tg.options(t, folder(t, goodMigrations), "run-role-lock-history"))
		if err == nil || res.Outcome != OutcomeFailed {
			t.Fatalf("err %v, outcome %s; want failed", err, res.Outcome)
		}
		if want := "waited 300ms (lock_timeout) for a lock on schemagate.schemagate_history"; !strings.Contains(res.Reason, want) {
			t.Errorf("reason %q does not say %q", res.Reason, want)
		}
	})
}
