package lint

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestPartitionedUniqueMatchesServer: ADD CONSTRAINT … UNIQUE and ADD PRIMARY KEY on a partitioned
// table are not to be done with CREATE UNIQUE INDEX CONCURRENTLY + USING INDEX, which PostgreSQL refuses
// there ("cannot create index on partitioned table … concurrently", "ADD CONSTRAINT USING INDEX is not
// supported on partitioned tables"). The route the suggestion gives is run on the server: a unique index
// built CONCURRENTLY on each partition and made the partition's constraint (USING INDEX), then the
// constraint added to the parent, which adopts them with no build and no scan, holding SHARE, not
// ACCESS EXCLUSIVE, on the partitions; without the partitions' constraints the parent builds an index
// of its own on each partition. USING INDEX on the parent, which fails, is dangerous with the same
// advice. A table that is not partitioned, and a partition, keep the usual advice.
func TestPartitionedUniqueMatchesServer(t *testing.T) {
	schema := "CREATE TABLE parts (id bigint NOT NULL, k int NOT NULL) PARTITION BY RANGE (k);\n" +
		"CREATE TABLE parts_0 PARTITION OF parts FOR VALUES FROM (0) TO (100);\n" +
		"CREATE TABLE parts_1 PARTITION OF parts FOR VALUES FROM (100) TO (200);\n" +
		"CREATE TABLE plain (id bigint NOT NULL, k int NOT NULL);\n"
	const perPartition = "on each partition of parts"
	lintTests := []struct {
		name, src, rule string
		partition       bool // the suggestion is the per-partition one
	}{
		{"unique on the parent", "ALTER TABLE parts ADD CONSTRAINT parts_u UNIQUE (id, k);", "add-unique-constraint", true},
		{"primary key on the parent", "ALTER TABLE parts ADD PRIMARY KEY (id, k);", "add-primary-key", true},
		{"unique USING INDEX on the parent fails", "ALTER TABLE parts ADD CONSTRAINT parts_u UNIQUE USING INDEX parts_u;", "constraint-using-index", true},
		{"unique on a plain table", "ALTER TABLE plain ADD CONSTRAINT plain_u UNIQUE (id, k);", "add-unique-constraint", false},
		{"primary key on a partition", "ALTER TABLE parts_0 ADD PRIMARY KEY (id, k);", "add-primary-key", false},
	}
	for _, tt := range lintTests {
		t.Run(tt.name, func(t *testing.T) {
			fs := AnalyzeScript(script("SET lock_timeout = '2s';\n"+tt.src+"\n"), true, Config{Schema: schema})
			f := find(fs, tt.rule)
			if f == nil || f.Risk != Dangerous {
				t.Fatalf("want dangerous %s, got %v", tt.rule, fs)
			}
			if got := strings.Contains(f.Suggestion, perPartition); got != tt.partition {
				t.Errorf("suggestion %q: per-partition advice %v, want %v", f.Suggestion, got, tt.partition)
			}
			if tt.partition && (strings.Contains(f.Suggestion, "CONCURRENTLY ON parts ") || !strings.Contains(f.Suggestion, "USING INDEX") || !strings.Contains(f.Suggestion, "SHARE on each partition")) {
				t.Errorf("suggestion %q is not the route the server takes", f.Suggestion)
			}
		})
	}

	conn := pgtest.Conn(t)
	for _, kind := range []string{"UNIQUE", "PRIMARY KEY"} {
		t.Run("server "+kind, func(t *testing.T) {
			ctx := t.Context()
			exec := func(sql string) {
				t.Helper()
				if _, err := conn.Exec(ctx, sql); err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
			}
			exec(schema + "INSERT INTO parts SELECT g, g % 200 FROM generate_series(1, 1000) g;")
			t.Cleanup(func() { _, _ = conn.Exec(context.Background(), "DROP TABLE IF EXISTS parts, plain") })
			for _, refused := range []string{"CREATE UNIQUE INDEX CONCURRENTLY parts_u ON parts (id, k)",
				"CREATE UNIQUE INDEX parts_u ON parts (id, k); ALTER TABLE parts ADD CONSTRAINT parts_u " + kind + " USING INDEX parts_u"} {
				if _, err := conn.Exec(ctx, refused); err == nil {
					t.Fatalf("the server took %q: the case is wrong", refused)
				}
			}
			for _, p := range []string{"parts_0", "parts_1"} {
				exec(fmt.Sprintf("CREATE UNIQUE INDEX CONCURRENTLY %[1]s_u ON %[1]s (id, k)", p))
			}
			// Without the partitions' own constraints, the parent builds an index on each partition.
			if got := adoptedParent(t, conn, kind); got.built != 2 || !got.scanned {
				t.Fatalf("with bare unique indexes on the partitions, the parent built %d indexes (scanned %v), want 2: the case is wrong", got.built, got.scanned)
			}
			for _, p := range []string{"parts_0", "parts_1"} {
				exec(fmt.Sprintf("ALTER TABLE %[1]s ADD CONSTRAINT %[1]s_u %[2]s USING INDEX %[1]s_u", p, kind))
			}
			got := adoptedParent(t, conn, kind)
			if got.built != 0 || got.scanned || len(got.partitionLocks) != 1 || got.partitionLocks[0] != "ShareLock" {
				t.Errorf("the parent's ADD %s after the partitions' constraints: built %d indexes, scanned %v, partition locks %v; want no build or scan, SHARE",
					kind, got.built, got.scanned, got.partitionLocks)
			}
		})
	}
}

// adoption is what ADD CONSTRAINT … UNIQUE/PRIMARY KEY (id, k) on parts did: how many indexes it added
// to the partitions, whether it scanned one, and the lock modes it took on them.
type adoption struct {
	built          int
	scanned        bool
	partitionLocks []string
}

// adoptedParent runs ADD CONSTRAINT parts_u kind (id, k) on parts in a transaction it rolls back.
func adoptedParent(t *testing.T, conn *pgx.Conn, kind string) adoption {
	t.Helper()
	ctx := t.Context()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	const counts = `SELECT (SELECT count(*) FROM pg_index WHERE indrelid IN ('parts_0'::regclass, 'parts_1'::regclass)),
		pg_stat_get_xact_numscans('parts_0'::regclass) + pg_stat_get_xact_numscans('parts_1'::regclass)`
	var before, after, scansBefore, scansAfter int
	if err := tx.QueryRow(ctx, counts).Scan(&before, &scansBefore); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "ALTER TABLE parts ADD CONSTRAINT parts_u "+kind+" (id, k)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, counts).Scan(&after, &scansAfter); err != nil {
		t.Fatal(err)
	}
	var locks []string
	if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(DISTINCT mode ORDER BY mode), '{}') FROM pg_locks
		WHERE pid = pg_backend_pid() AND relation IN ('parts_0'::regclass, 'parts_1'::regclass)`).Scan(&locks); err != nil {
		t.Fatal(err)
	}
	return adoption{built: after - before, scanned: scansAfter != scansBefore, partitionLocks: locks}
}
