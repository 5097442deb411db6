package pg_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// downCase is an up whose generated down is run on a real server: the catalog after it must be the one
// before the up (and the up apply again), or, when irreversible, the down must say so and run without
// an error.
type downCase struct {
	name, setup, up string
	irreversible    bool
}

func runDownCases(t *testing.T, cases []downCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := pgtest.Conn(t)
			if tc.setup != "" {
				exec(t, conn, tc.setup)
			}
			r := runRoundTrip(t, conn, tc.up)
			t.Logf("generated down:\n%s", r.down.SQL)
			if r.down.Empty() {
				t.Fatalf("no down generated for %s", tc.up)
			}
			if tc.irreversible {
				if r.down.Reversible() || len(r.down.Warnings) == 0 || r.downErr != nil {
					t.Errorf("want an irreversible step, a warning and a down that runs; down error: %v", r.downErr)
				}
				return
			}
			if !r.exact() {
				t.Errorf("round trip not exact:\ndown error: %v\nre-up error: %v\nafter down: %q\nafter re-up: %q",
					r.downErr, r.reUpErr, r.downProblems, r.reUpProblems)
			}
		})
	}
}

// TestGenerateDownTablespaces: a table, a partitioned table, an index (a constraint's too) and a
// materialized view the up moved to another tablespace, or out of one, go back; those the up dropped
// come back in theirs. The tablespace is the server's, made for the test in a folder its OS user owns.
func TestGenerateDownTablespaces(t *testing.T) {
	ts := "sg_ts_" + strings.ToLower(rand.Text()[:8])
	dir := pgtest.TablespaceDir(t)
	admin, err := pgx.Connect(t.Context(), pgtest.Server(t).AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	exec(t, admin, "CREATE TABLESPACE "+ts+" LOCATION '"+dir+"'")
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP TABLESPACE IF EXISTS "+ts) }) // after the databases go
	const rels = `CREATE TABLE t (a int CONSTRAINT t_a UNIQUE); CREATE INDEX i ON t (a); CREATE MATERIALIZED VIEW mv AS SELECT a FROM t;
		CREATE TABLE p (a int) PARTITION BY RANGE (a); INSERT INTO t VALUES (1);`
	moveAll := func(to string) string {
		return `ALTER TABLE t SET TABLESPACE ` + to + `; ALTER INDEX i SET TABLESPACE ` + to + `; ALTER INDEX t_a SET TABLESPACE ` + to +
			`; ALTER MATERIALIZED VIEW mv SET TABLESPACE ` + to + `; ALTER TABLE p SET TABLESPACE ` + to
	}
	t.Run("cases", func(t *testing.T) {
		runDownCases(t, []downCase{
			{name: "moved in", setup: rels, up: moveAll(ts)},
			{name: "moved out", setup: rels + moveAll(ts), up: moveAll("pg_default")},
			{name: "dropped", setup: rels + moveAll(ts), up: `DROP MATERIALIZED VIEW mv; DROP TABLE t, p`},
			{name: "key re-made elsewhere", setup: rels,
				up: `ALTER TABLE t DROP CONSTRAINT t_a; ALTER TABLE t ADD CONSTRAINT t_a UNIQUE (a) USING INDEX TABLESPACE ` + ts},
		})
	})
}
