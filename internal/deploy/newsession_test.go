package deploy

import (
	"testing"
	"time"
)

// TestDeployMigrationAfterSettingsOfItsDatabase: a migration that gives its database, or its role in its
// database, a search path (ALTER DATABASE … SET in a DO block, as the per-database form of ALTER ROLE
// CURRENT_USER SET) changes what the next migration, deployed alone or run by psql in a session of its
// own, starts with: its unqualified CREATE TABLE lands in app. The deploy ran every migration on one
// session, reset with RESET ALL, which goes back to what the session started with: widgets landed in
// public, where the rehearsal (check) now puts it in app.
func TestDeployMigrationAfterSettingsOfItsDatabase(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, set, reset string }{
		{"ALTER DATABASE", "ALTER DATABASE %I SET search_path = app, public', current_database()",
			"ALTER DATABASE %I RESET search_path', current_database()"},
		{"ALTER ROLE IN DATABASE", "ALTER ROLE %I IN DATABASE %I SET search_path = app, public', current_user, current_database()",
			"ALTER ROLE %I IN DATABASE %I RESET search_path', current_user, current_database()"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			files := map[string]string{
				"1_schema.up.sql":    "CREATE SCHEMA app;\nDO $$ BEGIN EXECUTE format('" + c.set + "); END $$;\n",
				"1_schema.down.sql":  "DO $$ BEGIN EXECUTE format('" + c.reset + "); END $$;\nDROP SCHEMA app;\n",
				"2_widgets.up.sql":   "CREATE TABLE widgets (id bigint PRIMARY KEY);\n",
				"2_widgets.down.sql": "DROP TABLE widgets;\n",
			}
			res, err := Run(t.Context(), tg.options(t, folder(t, files), "run-1"))
			if err != nil || res.Outcome != OutcomeDeployed {
				t.Fatalf("outcome %v, err %v; want deployed", res.Outcome, err)
			}
			if got := tg.value(t, "SELECT coalesce(to_regclass('app.widgets')::text, '') || ' ' || coalesce(to_regclass('public.widgets')::text, '')"); got != "app.widgets " {
				t.Errorf("widgets is %q; want app.widgets, not public.widgets", got)
			}
		})
	}
}

// TestDeployRunRecordsItsNewConnection: a run that opens its work session again (here after a migration
// that gives its database a setting) writes the new session in its row, from which a deploy or --recover
// that finds the run's lock session gone tells whether the run is alive (deadRunGone). The row kept the
// first session's pid, gone since: such a run looked dead at once, and --recover rolled it back while it
// ran.
func TestDeployRunRecordsItsNewConnection(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := map[string]string{
		"1_schema.up.sql":   "CREATE SCHEMA app;\nDO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = app, public', current_database()); END $$;\n",
		"1_schema.down.sql": "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET search_path', current_database()); END $$;\nDROP SCHEMA app;\n",
		"2_wait.up.sql":     "SELECT pg_sleep(60);\n",
		"2_wait.down.sql":   "SELECT 1;\n",
	}
	done := make(chan error, 1)
	go func() {
		_, err := Run(t.Context(), tg.options(t, folder(t, files), "run-1"))
		done <- err
	}()
	waitForSleep(t, tg.url)
	sleeping := tg.value(t, `SELECT pid::text FROM pg_stat_activity WHERE state = 'active' AND query ILIKE '%pg_sleep(60)%'
		AND pid <> pg_backend_pid() AND datname = current_database()`)
	recorded := tg.value(t, "SELECT coalesce(backend_pid::text, '') FROM schemagate.schemagate_runs WHERE run_id = 'run-1'")
	if recorded != sleeping {
		t.Errorf("the run's row names pid %s; its work session, running migration 2, is pid %s", recorded, sleeping)
	}
	tg.exec(t, "SELECT pg_cancel_backend("+sleeping+")") // migration 2 fails, the run rolls back
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the deploy did not return after its migration was canceled")
	}
}

// TestDeploySqitchVerifyAfterSettingsOfItsDatabase: a sqitch change that gives its database a search path
// and creates app.widgets, with a verify script that names widgets unqualified: sqitch, and the
// rehearsal, run the verify script in a session that has the new search path, and it passes. The deploy
// opened a new session after such a change only when another change followed, so the verify script of
// the last one ran on the old session (relation "widgets" does not exist) and the deploy rolled back.
func TestDeploySqitchVerifyAfterSettingsOfItsDatabase(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		last bool
	}{
		{name: "last change", last: true},
		{name: "change before another"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			plan := "%project=app\nappschema 2024-01-01T00:00:00Z Tester <t@example.com>\n"
			files := map[string]string{
				"deploy/appschema.sql": "BEGIN;\nCREATE SCHEMA app;\nDO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = app, public', current_database()); END $$;\nCREATE TABLE app.widgets (id int);\nCOMMIT;\n",
				"revert/appschema.sql": "BEGIN;\nDO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET search_path', current_database()); END $$;\nDROP SCHEMA app CASCADE;\nCOMMIT;\n",
				"verify/appschema.sql": "SELECT id FROM widgets WHERE false;\n",
			}
			if !c.last {
				plan += "other [appschema] 2024-01-02T00:00:00Z Tester <t@example.com>\n"
				files["deploy/other.sql"] = "BEGIN;\nCREATE TABLE app.other (id int);\nCOMMIT;\n"
				files["revert/other.sql"] = "BEGIN;\nDROP TABLE app.other;\nCOMMIT;\n"
			}
			files["sqitch.plan"] = plan
			res, err := Run(t.Context(), tg.options(t, sqitchFolder(t, files), "run-1"))
			if err != nil || res.Outcome != OutcomeDeployed {
				t.Fatalf("outcome %v, err %v; want deployed", res.Outcome, err)
			}
			var verified bool
			for _, v := range res.Verify {
				verified = verified || v.Name == "verify verify/appschema.sql" && v.OK
			}
			if !verified {
				t.Errorf("no passing check of verify/appschema.sql in %+v", res.Verify)
			}
		})
	}
}
