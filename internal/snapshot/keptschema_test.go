package snapshot

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestPGDumpRestoreDroppedPublicOfItsOwner: a deploy role that owns public, but not the database, and
// is no superuser (public given to the application's role, common before PostgreSQL 15) runs a
// migration that drops public. The restore made public again as initdb does, owned by
// pg_database_owner, which that role may not act as: the restore failed (must be member of role
// "pg_database_owner"), though the restorable check had found nothing in its way. With the manifest's
// state of public it creates it as the role and sets back the snapshot's owner, comment and grants.
func TestPGDumpRestoreDroppedPublicOfItsOwner(t *testing.T) {
	url, c := database(t)
	ctx := t.Context()
	role := databaseRole(t, c, "sg_pubowner", "LOGIN")
	mustExec(t, c, "GRANT CREATE ON DATABASE "+pgx.Identifier{c.Config().Database}.Sanitize()+" TO "+role+"; ALTER SCHEMA public OWNER TO "+role+
		"; COMMENT ON SCHEMA public IS 'the app''s'; GRANT USAGE ON SCHEMA public TO pg_monitor")
	p := &PGDump{URL: pgtest.AsRole(t, url, role), Dir: t.TempDir()}
	if _, obs, _, err := p.Obstacles(ctx, 10); err != nil || len(obs) > 0 {
		t.Fatalf("obstacles %+v, %v; want none", obs, err)
	}
	mustExec(t, c, "SET ROLE "+role+"; CREATE TABLE public.t (id int PRIMARY KEY); INSERT INTO public.t VALUES (1); RESET ROLE")
	const state = `SELECT format('%s %s %s', pg_get_userbyid(nspowner), array(SELECT a::text FROM unnest(nspacl) a ORDER BY 1),
		obj_description(oid, 'pg_namespace')) || ' ' || (SELECT string_agg(id::text, ',') FROM public.t) FROM pg_namespace WHERE nspname = 'public'`
	var before, after string
	if err := c.QueryRow(ctx, state).Scan(&before); err != nil {
		t.Fatal(err)
	}
	_, restore, err := p.Snapshot(ctx, "run-pubowner")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "SET ROLE "+role+"; DROP SCHEMA public CASCADE; RESET ROLE")
	if err := restore(ctx); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if err := c.QueryRow(ctx, state).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before || !strings.HasPrefix(after, role+" ") {
		t.Errorf("public after the restore: %s\nwant %s", after, before)
	}
}

// TestPGDumpRestoreKeptSchemasQuoting: the clear script writes the kept schemas' state (owner, comment,
// grants) into its PL/pgSQL as JSON in a string literal, and the extensions' schemas as names: a schema
// of extensions whose name has quotes, an owner whose name has quotes, comments with quotes,
// backslashes and dollars, an extension whose name needs quotes moved to another schema, all come back
// as the snapshot had them.
func TestPGDumpRestoreKeptSchemasQuoting(t *testing.T) {
	url, c := database(t)
	ctx := t.Context()
	var role string
	if err := c.QueryRow(ctx, "SELECT 'sg q''\"r ' || oid FROM pg_database WHERE datname = current_database()").Scan(&role); err != nil {
		t.Fatal(err)
	}
	qr := `"` + strings.ReplaceAll(role, `"`, `""`) + `"`
	mustExec(t, c, "CREATE ROLE "+qr)
	t.Cleanup(func() {
		_, _ = c.Exec(context.Background(), "REASSIGN OWNED BY "+qr+" TO CURRENT_USER; DROP OWNED BY "+qr+"; DROP ROLE "+qr)
	})
	mustExec(t, c, `CREATE SCHEMA "my ""ext"" 'x'" AUTHORIZATION `+qr+`;
		COMMENT ON SCHEMA "my ""ext"" 'x'" IS 'it''s \ a "c" $$ $schemagate $x$ ü';
		GRANT USAGE ON SCHEMA "my ""ext"" 'x'" TO PUBLIC;
		GRANT USAGE ON SCHEMA "my ""ext"" 'x'" TO `+qr+` WITH GRANT OPTION;
		CREATE EXTENSION "uuid-ossp" SCHEMA "my ""ext"" 'x'";
		COMMENT ON EXTENSION "uuid-ossp" IS 'it''s \ uu';
		CREATE TABLE t (id uuid DEFAULT "my ""ext"" 'x'".uuid_generate_v4());
		COMMENT ON SCHEMA public IS 'pub''s \';`)
	const state = `SELECT string_agg(format('%s %s %s %s', nspname, pg_get_userbyid(nspowner), nspacl, obj_description(oid, 'pg_namespace')), E'\n' ORDER BY nspname) || (SELECT string_agg(extname || ' ' || extnamespace::regnamespace || ' ' || coalesce(obj_description(oid, 'pg_extension'), '-'), ',') FROM pg_extension) FROM pg_namespace WHERE nspname NOT LIKE 'pg\_%'`
	var before, after string
	if err := c.QueryRow(ctx, state).Scan(&before); err != nil {
		t.Fatal(err)
	}
	p := &PGDump{URL: url, Dir: t.TempDir()}
	info, restore, err := p.Snapshot(ctx, "run-quoting")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kept: %+v", info.KeptSchemas)
	mustExec(t, c, `COMMENT ON SCHEMA "my ""ext"" 'x'" IS 'changed'; COMMENT ON SCHEMA public IS NULL;
		REVOKE USAGE ON SCHEMA "my ""ext"" 'x'" FROM PUBLIC; COMMENT ON EXTENSION "uuid-ossp" IS 'x';
		CREATE SCHEMA other; ALTER EXTENSION "uuid-ossp" SET SCHEMA other;`)
	if err := restore(ctx); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if err := c.QueryRow(ctx, state).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("after\n%s\nwant\n%s", after, before)
	}
}
