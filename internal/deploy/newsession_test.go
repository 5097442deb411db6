package deploy

import (
	"testing"
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
