package rehearse_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestMigrationsCannotShadowTheCatalogsTheReadsUse: schemagate reads the catalog in the migration's own
// session, after its script. A down that hides what it should undo behind temporary tables named like
// the system catalogs (found before pg_catalog when the search path does not list pg_temp), or behind
// relations and functions in public put before pg_catalog in the database's search path, must not
// fool those reads: the round trip fails for what the down left behind, and a down that undoes nothing
// is no tool error either.
func TestMigrationsCannotShadowTheCatalogsTheReadsUse(t *testing.T) {
	const base = "CREATE TABLE t (id int PRIMARY KEY, n int);"
	cases := []struct {
		name, up, down string
		// then is a third migration's up and down, whose round trip is the one that fails, when given.
		then [2]string
		want []string // in one of the round trip's problems, or its error
		lock string   // in the failing migration's trace, when given: "mode on relation"
	}{{
		name: "temporary pg_index and pg_class hide the index",
		up:   "CREATE INDEX t_n_idx ON t (n);",
		down: `CREATE TEMP TABLE pg_index AS SELECT * FROM pg_catalog.pg_index WHERE indexrelid <> 't_n_idx'::regclass;
CREATE TEMP TABLE pg_class AS SELECT * FROM pg_catalog.pg_class WHERE relname <> 't_n_idx';`,
		want: []string{"t_n_idx"},
	}, {
		name: "temporary views hide the index",
		up:   "CREATE INDEX t_n_idx ON t (n);",
		down: `CREATE TEMP VIEW pg_index AS SELECT * FROM pg_catalog.pg_index WHERE indexrelid <> 't_n_idx'::regclass;
CREATE TEMP VIEW pg_class AS SELECT * FROM pg_catalog.pg_class WHERE relname <> 't_n_idx';`,
		want: []string{"t_n_idx"},
	}, {
		name: "a comment the down only shadows",
		up:   "COMMENT ON TABLE t IS 'x';",
		down: `CREATE TEMP TABLE pg_description AS SELECT * FROM pg_catalog.pg_description WHERE description <> 'x';
CREATE TEMP TABLE pg_locks AS SELECT * FROM pg_catalog.pg_locks;
CREATE TEMP TABLE pg_attribute AS SELECT attrelid, attname, attnum FROM pg_catalog.pg_attribute;
CREATE TEMP TABLE pg_namespace AS SELECT * FROM pg_catalog.pg_namespace;`,
		want: []string{"comment"},
	}, {
		// Migration 2 puts public before pg_catalog in the database's search path, which the reads
		// run under (a new session's), and shadows pg_class, pg_index and pg_locks with views, and
		// functions the reads and the change log's triggers call, all of which its down takes away;
		// migration 3's down leaves its index behind, which the views hide.
		name: "public relations and functions before pg_catalog",
		up: `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = public, pg_catalog', current_database()); END $$;
CREATE VIEW public.pg_class AS SELECT * FROM pg_catalog.pg_class WHERE relname <> 't_n_idx';
CREATE VIEW public.pg_index AS SELECT * FROM pg_catalog.pg_index
  WHERE indexrelid NOT IN (SELECT oid FROM pg_catalog.pg_class WHERE relname = 't_n_idx');
CREATE VIEW public.pg_locks AS SELECT * FROM pg_catalog.pg_locks WHERE false;
CREATE FUNCTION public.quote_ident(text) RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;
CREATE FUNCTION public.format_type(oid, int) RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;
CREATE FUNCTION public.strpos(text, text) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'public.strpos called'; END $$;`,
		down: `DROP VIEW public.pg_class, public.pg_index, public.pg_locks;
DROP FUNCTION public.quote_ident(text), public.format_type(oid, int), public.strpos(text, text);
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET search_path', current_database()); END $$;`,
		then: [2]string{"CREATE INDEX CONCURRENTLY t_n_idx ON t (n);", "SELECT 1;"},
		want: []string{"t_n_idx"},
		lock: "ShareUpdateExclusiveLock on public.t",
	}}
	// The change log (SCHEMAGATE_INSPECT=log) runs functions of schemagate's in the migration's session.
	for _, mode := range []string{"verify", "log"} {
		for _, c := range cases {
			t.Run(mode+"/"+c.name, func(t *testing.T) {
				t.Setenv("SCHEMAGATE_INSPECT", mode)
				files := map[string]string{
					"1_base.up.sql": base, "1_base.down.sql": "DROP TABLE t;",
					"2_x.up.sql": c.up, "2_x.down.sql": c.down,
				}
				failing := "2"
				if c.then[0] != "" {
					files["3_then.up.sql"], files["3_then.down.sql"] = c.then[0], c.then[1]
					failing = "3"
				}
				set := folderOf(t, migrate.FormatGolangMigrate, files)
				rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: provider(t)})
				if err != nil {
					t.Fatal(err)
				}
				if failing == "3" {
					if m := migration(t, rep, "2"); m.Status != report.StatusApplied || m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
						t.Fatalf("migration 2: %s %+v, round trip %+v: want applied, round trip ok", m.Status, m.Error, m.Roundtrip)
					}
				}
				m := migration(t, rep, failing)
				rt := m.Roundtrip
				if m.Status != report.StatusApplied || rt == nil || rt.Status != report.RoundtripFailed {
					t.Fatalf("%s %+v, round trip %+v: want applied, round trip failed", m.Status, m.Error, rt)
				}
				said := strings.Join(rt.Problems, "\n")
				if rt.Error != nil {
					said += "\n" + rt.Error.Message
				}
				for _, w := range c.want {
					if !strings.Contains(said, w) {
						t.Errorf("round trip says %q, want it to name %s", said, w)
					}
				}
				if c.lock != "" {
					var locks []string
					for _, st := range m.Trace {
						for _, l := range st.Locks {
							locks = append(locks, l.Mode+" on "+l.Relation)
						}
					}
					if !slices.Contains(locks, c.lock) {
						t.Errorf("trace has locks %q, want %s (CREATE INDEX CONCURRENTLY, observed from a session of schemagate's)", locks, c.lock)
					}
				}
				if len(rt.Problems) > 3 {
					t.Errorf("round trip has %d problems, want what the down left behind only: %q", len(rt.Problems), rt.Problems)
				}
			})
		}
	}
}

// TestDeferredConstraintsUnderAShadowingSearchPath: before a transactional migration's re-up, the
// rehearsal puts the deferred constraints back in deferred mode in the migration's session, whose search
// path a migration put public before pg_catalog in, with a public.quote_ident(text) of its own: the
// constraints it names are still the catalog's, and the round trip passes.
func TestDeferredConstraintsUnderAShadowingSearchPath(t *testing.T) {
	set := folderOf(t, migrate.FormatGoose, map[string]string{
		"00001_base.sql": `-- +goose Up
CREATE TABLE p (id int PRIMARY KEY);
CREATE TABLE c (id int CONSTRAINT c_p REFERENCES p DEFERRABLE INITIALLY DEFERRED);
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = public, pg_catalog', current_database()); END $$;
CREATE FUNCTION public.quote_ident(text) RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;
-- +goose Down
DROP FUNCTION public.quote_ident(text);
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET search_path', current_database()); END $$;
DROP TABLE c, p;
`,
		"00002_rows.sql": `-- +goose Up
INSERT INTO c VALUES (1);
INSERT INTO p VALUES (1);
-- +goose Down
DELETE FROM c;
DELETE FROM p;
`,
	})
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range rep.Migrations {
		if m.Status != report.StatusApplied || m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
			t.Errorf("%s: %s %+v, round trip %+v: want applied, round trip ok", m.Label(), m.Status, m.Error, m.Roundtrip)
		}
	}
}
