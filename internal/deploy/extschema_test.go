package deploy

import (
	"strings"
	"testing"
)

// TestDeployRollbackRestoresSchemasOfExtensionsAndNoPublic: a migration without a down zeroes a column,
// the next fails, and the rollback restores the snapshot, in databases the restore used to fail on:
//   - one with a schema an extension created (pg_cron's cron): the clear dropped it, and the server
//     refused (2BP01), so the rollback failed, exit 1, the zeroed column left;
//   - one with extensions in a schema of their own (pg_trgm 1.5, hstore 1.4 in ext): the clear dropped
//     them with the schema, the dump created them again at the newest version, and hstore 1.8's extra
//     functions failed "schema as before": the deploy ended "needs attention";
//   - one whose extensions a migration moved to another schema (ALTER EXTENSION ... SET SCHEMA), and
//     dropped the schema one was in: the dump's CREATE EXTENSION IF NOT EXISTS left them where they were
//     moved, and its column of type ext.hstore failed (type "ext.hstore" does not exist), so the deploy
//     ended "needs attention"; the clear now moves them back, creating the schema again;
//   - one without a public schema: the restorable check failed (schema "public" does not exist), and a
//     public schema the migrations created stayed.
func TestDeployRollbackRestoresSchemasOfExtensionsAndNoPublic(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, setup, up, check string
	}{
		{name: "schema of an extension", setup: `
			CREATE EXTENSION pgcrypto;
			CREATE SCHEMA cron;
			CREATE TABLE cron.job (id int PRIMARY KEY, cmd text);
			ALTER EXTENSION pgcrypto ADD SCHEMA cron;
			ALTER EXTENSION pgcrypto ADD TABLE cron.job;
			UPDATE pg_extension SET extconfig = ARRAY['cron.job'::regclass]::oid[], extcondition = ARRAY[''] WHERE extname = 'pgcrypto';
			INSERT INTO cron.job VALUES (1, 'VACUUM');`,
			up:    "INSERT INTO cron.job VALUES (2, 'ANALYZE');",
			check: "SELECT string_agg(id || ' ' || cmd, ',' ORDER BY id) FROM cron.job"},
		{name: "extensions in their own schema", setup: `
			CREATE SCHEMA ext;
			CREATE EXTENSION pg_trgm SCHEMA ext VERSION '1.5';
			CREATE EXTENSION hstore SCHEMA ext VERSION '1.4';
			CREATE INDEX orders_note_trgm ON orders USING gin (note ext.gin_trgm_ops);`,
			check: "SELECT string_agg(extname || ' ' || extversion || ' ' || extnamespace::regnamespace, ',' ORDER BY extname) FROM pg_extension"},
		{name: "extensions moved to another schema", setup: `
			CREATE SCHEMA ext;
			CREATE EXTENSION hstore SCHEMA ext;
			CREATE EXTENSION pg_trgm;
			CREATE TABLE kv (h ext.hstore, s text);
			INSERT INTO kv VALUES ('a=>1', 'x');
			CREATE INDEX kv_s_trgm ON kv USING gin (s gin_trgm_ops);`,
			up: "CREATE SCHEMA other;\nALTER EXTENSION hstore SET SCHEMA other;\nALTER EXTENSION pg_trgm SET SCHEMA other;\nDROP SCHEMA ext;",
			check: `SELECT (SELECT string_agg(extname || ' ' || extnamespace::regnamespace, ',' ORDER BY extname) FROM pg_extension) || ' ' ||
				(SELECT string_agg(nspname || ' ' || nspowner::regrole, ',' ORDER BY nspname) FROM pg_namespace WHERE nspname IN ('ext', 'other'))`},
		{name: "no public schema", setup: `
			CREATE SCHEMA app;
			ALTER TABLE accounts SET SCHEMA app; ALTER TABLE orders SET SCHEMA app; ALTER TABLE app_settings SET SCHEMA app;
			DROP SCHEMA public;
			DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = app', current_database()); END $$;
			SET search_path = app;`,
			up:    "CREATE SCHEMA public;\nCREATE TABLE public.leftover (x int);",
			check: "SELECT count(*)::text FROM pg_namespace WHERE nspname = 'public'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.exec(t, tc.setup)
			before, beforeCheck := tg.checksums(t), tg.value(t, tc.check)
			o := tg.options(t, folder(t, map[string]string{
				// No down: only the snapshot undoes it.
				"1_a.up.sql":   "UPDATE orders SET total = 0;\n" + tc.up,
				"2_b.up.sql":   "SELECT 1/0;",
				"2_b.down.sql": "SELECT 1;",
			}), "run-extschema")
			res, err := Run(t.Context(), o)
			if err == nil {
				t.Fatal("deploy succeeded")
			}
			if rb := res.Rollback; res.Outcome != OutcomeRolledBack || rb == nil || rb.Method != "snapshot" || !rb.OK {
				t.Fatalf("outcome %s, rollback %+v, notes %q: want the snapshot restored", res.Outcome, rb, res.Notes)
			}
			if after := tg.checksums(t); after != before {
				t.Errorf("after the rollback:\n%s\nwant\n%s", after, before)
			}
			if got := tg.value(t, tc.check); got != beforeCheck {
				t.Errorf("%s: %s after the rollback, want %s", tc.check, got, beforeCheck)
			}
			if strings.Contains(strings.Join(res.Notes, "\n"), "NOT ROLLED BACK") {
				t.Errorf("notes %q", res.Notes)
			}
		})
	}
}

// TestDeployRestoresWithExtensionSchemaOfAnotherOwner: a superuser created schema extensions, commented
// on it, put pg_trgm in it and gave the deploy role USAGE there (as Supabase and many managed setups
// do); the deploy role is not a superuser, owns the application's tables and indexes words with the
// extension's operator class. A migration without a down damages data and the next fails, so the
// rollback restores the snapshot. The restorable check used to block the deploy ("schema extensions
// (owner ...)"), as the clear set the schema's comment, grants and owner back to the defaults and the
// dump gave them back, which takes the privileges of its owner, although nothing about the schema
// changed. The restore now sets back only what differs from the snapshot's manifest:
//   - with nothing changed, the database and the schema (owner, comment, grants, the extension in it)
//     are the snapshot's;
//   - with the schema's grants changed by the migration (the deploy role holds the grant option, and
//     revokes a grant it made and grants USAGE to PUBLIC), the deploy role makes and revokes them again
//     as their grantor, and the grants are the snapshot's.
func TestDeployRestoresWithExtensionSchemaOfAnotherOwner(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, admin, up string }{
		{name: "schema unchanged", admin: "GRANT USAGE ON SCHEMA extensions TO %dep;"},
		{name: "grants the migration changed",
			admin: "GRANT USAGE ON SCHEMA extensions TO %dep WITH GRANT OPTION; SET ROLE %dep; GRANT USAGE ON SCHEMA extensions TO %app; RESET ROLE;",
			up:    "REVOKE USAGE ON SCHEMA extensions FROM %app; GRANT USAGE ON SCHEMA extensions TO PUBLIC;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// app_cache goes to the deploy role: the schema and its extension are all it does not own.
			tg, dep, app := newTargetAsOwnerWith(t, `ALTER TABLE app_cache OWNER TO %dep;
				CREATE SCHEMA extensions; COMMENT ON SCHEMA extensions IS 'kept by the platform team';
				CREATE EXTENSION pg_trgm SCHEMA extensions;`+tc.admin)
			tg.exec(t, `CREATE TABLE words (id int PRIMARY KEY, w text);
				INSERT INTO words SELECT g, 'word ' || g FROM generate_series(1, 50) g;
				CREATE INDEX words_trgm ON words USING gin (w extensions.gin_trgm_ops);`)
			up := strings.NewReplacer("%dep", dep, "%app", app).Replace(tc.up)
			rollbackBySnapshot(t, tg, "UPDATE words SET w = 'x';\n"+up,
				strings.ReplaceAll(schemaState, "$1", "'extensions'"),
				"SELECT e.oid::text || ' ' || e.extnamespace::regnamespace::text || ' ' || e.extversion FROM pg_extension e WHERE e.extname = 'pg_trgm'",
				"SELECT md5(string_agg(id || ' ' || w, '|' ORDER BY id)) FROM words",
				"SELECT count(*) FROM words WHERE w OPERATOR(extensions.%) 'word 7'")
		})
	}
}
