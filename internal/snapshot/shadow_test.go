package snapshot

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestPGDumpRestoreUnderAShadowingSearchPath: the database gives new sessions a search path with public
// before pg_catalog (an earlier migration's ALTER DATABASE ... SET search_path = public, pg_catalog), and
// public holds a view pg_namespace that shows no schema. The snapshot's reads and the restore's clear,
// which name pg_catalog's relations unqualified, read the view: the restore did not put the database
// back as it was. They now read pg_catalog's: the restore gives back the snapshot's database.
func TestPGDumpRestoreUnderAShadowingSearchPath(t *testing.T) {
	t.Parallel()
	url, c := database(t)
	ctx := t.Context()
	seed(t, c)
	var db string
	if err := c.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, `CREATE VIEW public.pg_namespace AS SELECT * FROM pg_catalog.pg_namespace WHERE false;
		ALTER DATABASE `+pgx.Identifier{db}.Sanitize()+` SET search_path = public, pg_catalog`)
	before := fingerprint(t, c)
	p := &PGDump{URL: url, Dir: t.TempDir(), Jobs: 2, Format: FormatCustom, ExcludeSchemas: []string{"schemagate"}}
	_, restore, err := p.Snapshot(ctx, "run-shadowed")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, `
		UPDATE billing.invoices SET amount = 0;
		CREATE TABLE leftovers (id int);
		CREATE SCHEMA newschema; CREATE TABLE newschema.t (x int);
		DROP VIEW user_emails;`)
	if err := restore(ctx); err != nil {
		t.Fatal(err)
	}
	if after := fingerprint(t, c); after != before {
		t.Errorf("restore differs:\n--- before\n%s\n--- after\n%s", before, after)
	}
}
